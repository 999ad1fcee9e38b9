/* The on-disk program binary cache (host/binary_cache.c, program_cache.c):
 * a warm context loads what a cold one saved and computes the same
 * results; truncated, corrupt, foreign and runtime-refused entries are
 * rebuilt and rewritten; an unusable directory or CLCONV_CACHE=0 only
 * means compiling; concurrent writers never leave a damaged entry.
 *
 * Each test points CLCONV_CACHE_DIR at a fresh temporary directory before
 * it creates a context (Criterion runs every test in its own process, so
 * setenv() here touches no other test).  The cheap program is
 * kernels/flip_filter.cl (clconv_flip_filter, an exact permutation). */
#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pwd.h>
#include <sys/stat.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>
#include "internal.h"
#include "kernel_sources.h"
#include "util.h"

/* ---- temporary directories and entry files ---- */

/* The test's temporary directory, removed after the test (pass or fail). */
static char made_dir[64];

static int remove_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    remove(path);
    return 0;
}

static void remove_made_dir(void)
{
    if (made_dir[0]) {
        chmod(made_dir, 0700);
        nftw(made_dir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
    }
}

TestSuite(cache, .fini = remove_made_dir);

static void temp_dir(char *buf, size_t cap)
{
    snprintf(buf, cap, "/tmp/clconv-cache-test-XXXXXX");
    cr_assert_not_null(mkdtemp(buf), "mkdtemp");
    snprintf(made_dir, sizeof made_dir, "%s", buf);
}

/* CLCONV_CACHE=1: save entries on PoCL too, which by default leaves
 * compiled kernels to its own cache (program_cache_store) */
static void use_cache_dir(const char *dir)
{
    setenv("CLCONV_CACHE", "1", 1);
    setenv("CLCONV_CACHE_DIR", dir, 1);
}

/* Entry files (*.bin) in dir, and leftover temporary files (".*"). */
static int count_files(const char *dir, int *temps)
{
    int n = 0, t = 0;
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    for (struct dirent *e; (e = readdir(d));) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        if (e->d_name[0] == '.')
            t++;
        else if (strstr(e->d_name, ".bin"))
            n++;
    }
    closedir(d);
    if (temps)
        *temps = t;
    return n;
}

/* The path of the entry of kernels/<source>.cl in dir. */
static void entry_of(const char *dir, const char *source, char *out, size_t cap)
{
    DIR *d = opendir(dir);
    cr_assert_not_null(d, "opendir %s", dir);
    size_t n = strlen(source);
    out[0] = 0;
    for (struct dirent *e; (e = readdir(d));)
        if (!strncmp(e->d_name, source, n) && e->d_name[n] == '-')
            snprintf(out, cap, "%s/%s", dir, e->d_name);
    closedir(d);
    cr_assert(out[0], "no entry for %s in %s", source, dir);
}

static long file_size(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 ? (long)sb.st_size : -1;
}

/* Overwrite `len` bytes at `off` (off < 0: from the end). */
static void patch_file(const char *path, long off, const void *bytes, size_t len)
{
    int fd = open(path, O_RDWR);
    cr_assert(fd >= 0, "open %s", path);
    if (off < 0)
        off += file_size(path);
    cr_assert_eq(pwrite(fd, bytes, len, off), (ssize_t)len);
    close(fd);
}

static void copy_file(const char *from, const char *to)
{
    FILE *a = fopen(from, "rb"), *b = fopen(to, "wb");
    cr_assert(a && b, "copy %s -> %s", from, to);
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, a)) > 0)
        cr_assert_eq(fwrite(buf, 1, n, b), n);
    fclose(a);
    fclose(b);
}

/* ---- the work: flip a random grouped filter, checked exactly ---- */

/* 0 when clconv_flip_filter on ctx matches the definition; no Criterion
 * calls, so forked children can use it too. */
static int flip_check(clconv_ctx *ctx, uint64_t seed, char *why, size_t cap)
{
    clconv_desc d;
    clconv_desc_init(&d, 1, 6, 4, 4, 4, 3, 2);
    d.groups = 2;
    const int64_t K = 4, Cg = 3, Kg = 2, R = 3, S = 2;
    const size_t n = (size_t)(K * Cg * R * S);
    float w[72], wf[72];
    test_rng rng = test_rng_seed(seed);
    test_fill_random(&rng, w, n);
    cl_mem bw = clCreateBuffer(clconv_cl_context(ctx), CL_MEM_READ_WRITE | CL_MEM_COPY_HOST_PTR,
                               n * sizeof(float), w, NULL);
    cl_mem bf = clCreateBuffer(clconv_cl_context(ctx), CL_MEM_READ_WRITE, n * sizeof(float), NULL,
                               NULL);
    clconv_status st = clconv_flip_filter(ctx, &d, bw, 0, bf, 0, NULL);
    int bad = st != CLCONV_OK;
    if (bad)
        snprintf(why, cap, "flip: %s: %s", clconv_status_name(st), clconv_last_error(ctx));
    else
        bad = clEnqueueReadBuffer(clconv_cl_queue(ctx), bf, CL_TRUE, 0, n * sizeof(float), wf, 0,
                                  NULL, NULL) != CL_SUCCESS;
    /* wf[c][kl][r][s] = w[g*Kg + kl][c - g*Cg][R-1-r][S-1-s] */
    for (int64_t c = 0; !bad && c < 2 * Cg; c++)
        for (int64_t kl = 0; kl < Kg; kl++)
            for (int64_t r = 0; r < R; r++)
                for (int64_t s = 0; s < S; s++) {
                    int64_t g = c / Cg, k = g * Kg + kl;
                    float want = w[((k * Cg + c - g * Cg) * R + R - 1 - r) * S + S - 1 - s];
                    float got = wf[((c * Kg + kl) * R + r) * S + s];
                    if (got != want && !bad) {
                        bad = 1;
                        snprintf(why, cap, "wf[%lld][%lld][%lld][%lld] = %g, want %g",
                                 (long long)c, (long long)kl, (long long)r, (long long)s, got, want);
                    }
                }
    clReleaseMemObject(bw);
    clReleaseMemObject(bf);
    return bad;
}

/* The CLCONV_LOG_ERROR lines a context logged, one after the other. */
typedef struct error_lines {
    char text[4096];
} error_lines;

static void keep_errors(void *user, int level, const char *msg)
{
    error_lines *e = user;
    size_t n = strlen(e->text);
    if (level == CLCONV_LOG_ERROR)
        snprintf(e->text + n, sizeof e->text - n, "%s\n", msg);
}

/* A fresh context that flips correctly, its error lines kept in *errors
 * (when not NULL); its cache counters come back. */
static cache_stats flip_logged(uint64_t seed, error_lines *errors)
{
    clconv_ctx *ctx = test_ctx();
    if (errors)
        clconv_set_log(ctx, keep_errors, errors);
    char why[256] = "";
    cr_expect_eq(flip_check(ctx, seed, why, sizeof why), 0, "%s", why);
    cache_stats s = ctx->cache_stats;
    clconv_free(ctx);
    return s;
}

static cache_stats flip_in_new_context(uint64_t seed) { return flip_logged(seed, NULL); }

/* ---- tests ---- */

Test(cache, warm_context_loads_the_entry_and_gives_the_same_results)
{
    char dir[64], sub[128];
    temp_dir(dir, sizeof dir);
    snprintf(sub, sizeof sub, "%s/not/yet/there", dir); /* mkdir -p */
    use_cache_dir(sub);
    clconv_desc d;
    clconv_desc_init(&d, 2, 3, 7, 6, 4, 3, 2);
    d.stride_h = 2;
    d.pad_w = 1;
    size_t xe = test_x_elems(&d), we = test_w_elems(&d), ye = test_y_elems(&d);
    float x[2 * 3 * 7 * 6], w[4 * 3 * 3 * 2], y[2][2 * 4 * 4 * 7];
    double xd[sizeof x / sizeof x[0]], wd[sizeof w / sizeof w[0]], yd[sizeof y[0] / sizeof y[0][0]];
    cr_assert(ye <= sizeof y[0] / sizeof y[0][0]);
    test_rng rng = test_rng_seed(41);
    test_fill_random(&rng, x, xe);
    test_fill_random(&rng, w, we);
    test_to_double(x, xd, xe);
    test_to_double(w, wd, we);
    cr_assert_eq(clconv_ref_forward(&d, xd, wd, yd), CLCONV_OK);
    for (int run = 0; run < 2; run++) {
        clconv_ctx *ctx = test_ctx();
        test_poison(y[run], ye);
        clconv_status st = clconv_forward_host(ctx, &d, CLCONV_ALGO_DIRECT, x, w, y[run]);
        cr_assert_eq(st, CLCONV_OK, "run %d: %s", run, clconv_last_error(ctx));
        double err = test_rel_err(y[run], yd, ye);
        cr_expect(err <= TEST_TOL, "run %d: rel err %g", run, err);
        cache_stats s = ctx->cache_stats;
        if (run == 0)
            cr_expect(s.hits == 0 && s.misses >= 1 && s.stored == s.misses && s.store_failed == 0,
                      "cold: hits %u misses %u stored %u failed %u", s.hits, s.misses, s.stored,
                      s.store_failed);
        else
            cr_expect(s.hits >= 1 && s.misses == 0 && s.rejected == 0 && s.stored == 0,
                      "warm: hits %u misses %u rejected %u stored %u", s.hits, s.misses,
                      s.rejected, s.stored);
        clconv_free(ctx);
    }
    cr_expect_eq(test_first_diff(y[0], y[1], ye), ye, "cached binary gave other bits");
    int temps = -1;
    cr_expect_geq(count_files(sub, &temps), 1);
    cr_expect_eq(temps, 0, "temporary files left in %s", sub);
}

/* Damage the flip_filter entry with `damage`, then check that a context
 * refuses it, compiles, computes right and rewrites it: a third context
 * hits.  (Entry sizes are no evidence: PoCL's binary also carries the
 * kernels compiled into its own cache so far, so it grows.) */
typedef void (*damage_fn)(const char *dir, const char *entry);

static void damaged_entry_is_rebuilt(damage_fn damage)
{
    char dir[64], entry[512];
    temp_dir(dir, sizeof dir);
    use_cache_dir(dir);
    cache_stats s = flip_in_new_context(1);
    cr_assert_eq(s.stored, 1, "cold run stored %u entries", s.stored);
    entry_of(dir, "flip_filter", entry, sizeof entry);
    damage(dir, entry);
    s = flip_in_new_context(2);
    cr_expect(s.rejected == 1 && s.hits == 0 && s.stored == 1,
              "damaged: rejected %u hits %u stored %u", s.rejected, s.hits, s.stored);
    s = flip_in_new_context(3);
    cr_expect(s.hits == 1 && s.rejected == 0 && s.stored == 0,
              "after rewrite: hits %u rejected %u stored %u", s.hits, s.rejected, s.stored);
}

static void truncate_half(const char *dir, const char *e)
{
    (void)dir;
    cr_assert_eq(truncate(e, file_size(e) / 2), 0);
}

static void truncate_to_header(const char *dir, const char *e)
{
    (void)dir;
    cr_assert_eq(truncate(e, 20), 0);
}

static void empty_file(const char *dir, const char *e)
{
    (void)dir;
    cr_assert_eq(truncate(e, 0), 0);
}

static void flip_payload_byte(const char *dir, const char *e)
{
    (void)dir;
    unsigned char b;
    FILE *f = fopen(e, "rb");
    cr_assert_not_null(f);
    fseek(f, -100, SEEK_END);
    cr_assert_eq(fread(&b, 1, 1, f), 1u);
    fclose(f);
    b ^= 0x10;
    patch_file(e, -100, &b, 1);
}

/* Header fields at the offsets binary_cache.c documents. */
static void bad_magic(const char *dir, const char *e)
{
    (void)dir;
    patch_file(e, 0, "X", 1);
}

static void bad_version(const char *dir, const char *e)
{
    (void)dir;
    uint32_t v = 999;
    patch_file(e, 8, &v, 4);
}

static void bad_length(const char *dir, const char *e)
{
    (void)dir;
    uint64_t len = 1;
    patch_file(e, 24, &len, 8);
}

static void appended_bytes(const char *dir, const char *e)
{
    (void)dir;
    FILE *f = fopen(e, "ab");
    cr_assert_not_null(f);
    fputs("trailing", f);
    fclose(f);
}

/* Another program's whole, valid entry under this entry's name. */
static void foreign_entry(const char *dir, const char *e)
{
    clconv_ctx *ctx = test_ctx();
    clconv_desc d;
    clconv_desc_init(&d, 1, 1, 3, 3, 1, 2, 2);
    cl_mem a = test_buffer(ctx, 4), b = test_buffer(ctx, 64);
    cr_assert_eq(clconv_upsample_pad(ctx, &d, a, 0, b, 0, NULL), CLCONV_OK);
    clReleaseMemObject(a);
    clReleaseMemObject(b);
    clconv_free(ctx);
    char other[512];
    entry_of(dir, "upsample_pad", other, sizeof other);
    copy_file(other, e);
}

/* The embedded kernels/<name>.cl. */
static const clconv_kernel_source *source_named(const char *name)
{
    for (int i = 0; i < clconv_kernel_source_count; i++)
        if (!strcmp(clconv_kernel_sources[i].name, name))
            return &clconv_kernel_sources[i];
    cr_assert_fail("no kernel source %s", name);
    return NULL;
}

/* A well-formed entry (valid header and checksum) whose binary is junk:
 * only the runtime can refuse it. */
static void junk_binary(const char *dir, const char *e)
{
    (void)e;
    clconv_ctx *ctx = test_ctx();
    const clconv_kernel_source *ks = source_named("flip_filter");
    cache_id id;
    /* what the library keys flip_filter by */
    char *options = program_build_options(&ctx->info, "");
    cr_assert_not_null(options);
    cr_assert_eq(cache_id_make(ctx, ks->name, ks->text, ks->length, options, &id), CLCONV_OK);
    free(options);
    unsigned char junk[3000];
    for (size_t i = 0; i < sizeof junk; i++)
        junk[i] = (unsigned char)(i * 131 + 7);
    cr_assert_eq(cache_entry_store(dir, &id, junk, sizeof junk), 0);
    unsigned char *back = NULL;
    size_t len = 0;
    const char *why;
    cr_assert_eq(cache_entry_load(dir, &id, &back, &len, &why), CACHE_HIT,
                 "junk entry not well-formed");
    free(back);
    cache_id_free(&id);
    clconv_free(ctx);
}

Test(cache, truncated_entry_is_rebuilt) { damaged_entry_is_rebuilt(truncate_half); }
Test(cache, entry_cut_inside_header_is_rebuilt) { damaged_entry_is_rebuilt(truncate_to_header); }
Test(cache, empty_entry_is_rebuilt) { damaged_entry_is_rebuilt(empty_file); }
Test(cache, corrupt_payload_is_rebuilt) { damaged_entry_is_rebuilt(flip_payload_byte); }
Test(cache, wrong_magic_is_rebuilt) { damaged_entry_is_rebuilt(bad_magic); }
Test(cache, wrong_version_is_rebuilt) { damaged_entry_is_rebuilt(bad_version); }
Test(cache, wrong_length_is_rebuilt) { damaged_entry_is_rebuilt(bad_length); }
Test(cache, appended_bytes_are_rebuilt) { damaged_entry_is_rebuilt(appended_bytes); }
Test(cache, foreign_entry_is_rebuilt) { damaged_entry_is_rebuilt(foreign_entry); }
Test(cache, binary_refused_by_runtime_is_rebuilt) { damaged_entry_is_rebuilt(junk_binary); }

/* A regular file where a directory should be: even root cannot create
 * the cache there, so this works whoever runs the suite. */
Test(cache, unusable_directory_falls_back_to_compiling)
{
    char dir[64], file[128], under[192];
    temp_dir(dir, sizeof dir);
    snprintf(file, sizeof file, "%s/a-file", dir);
    FILE *f = fopen(file, "w");
    cr_assert_not_null(f);
    fputs("keep", f);
    fclose(f);
    snprintf(under, sizeof under, "%s/cache", file);
    use_cache_dir(under);
    cache_stats s = flip_in_new_context(4);
    cr_expect(s.stored == 0 && s.store_failed == 1 && s.hits == 0,
              "stored %u failed %u hits %u", s.stored, s.store_failed, s.hits);
    cr_expect_eq(file_size(file), 4, "the file in the way was changed");
}

Test(cache, read_only_directory_falls_back_to_compiling)
{
    if (geteuid() == 0)
        cr_skip_test("root writes to read-only directories");
    char dir[64];
    temp_dir(dir, sizeof dir);
    cr_assert_eq(chmod(dir, 0500), 0);
    use_cache_dir(dir);
    cache_stats s = flip_in_new_context(5);
    cr_expect(s.stored == 0 && s.store_failed == 1, "stored %u failed %u", s.stored,
              s.store_failed);
    cr_expect_eq(count_files(dir, NULL), 0);
    chmod(dir, 0700);
}

Test(cache, cache_off_reads_and_writes_nothing)
{
    char dir[64], sub[128];
    temp_dir(dir, sizeof dir);
    use_cache_dir(dir);
    cache_stats s = flip_in_new_context(6); /* a valid entry that must be ignored */
    cr_assert_eq(s.stored, 1);
    snprintf(sub, sizeof sub, "%s/never", dir);
    const char *offs[] = {"0", "off", "no", "false"};
    for (int i = 0; i < 4; i++) {
        setenv("CLCONV_CACHE_DIR", i % 2 ? dir : sub, 1);
        setenv("CLCONV_CACHE", offs[i], 1);
        clconv_ctx *ctx = test_ctx();
        cr_expect_null(ctx->cache_dir, "CLCONV_CACHE=%s left the cache on", offs[i]);
        char why[256] = "";
        cr_expect_eq(flip_check(ctx, 7, why, sizeof why), 0, "%s", why);
        cache_stats t = ctx->cache_stats;
        cr_expect(t.hits + t.misses + t.rejected + t.stored + t.store_failed == 0,
                  "CLCONV_CACHE=%s: the cache was used", offs[i]);
        clconv_free(ctx);
    }
    cr_expect_eq(file_size(sub), -1, "%s was created", sub);
    cr_expect_eq(count_files(dir, NULL), 1);
}

/* By default a program is saved unless the driver keeps compiled kernels
 * itself (PoCL, which this suite runs on); a device without its own cache
 * gets the entry, and loads it in the next context. */
Test(cache, a_driver_with_its_own_cache_gets_no_entries_by_default)
{
    char dir[64];
    temp_dir(dir, sizeof dir);
    unsetenv("CLCONV_CACHE");
    setenv("CLCONV_CACHE_DIR", dir, 1);
    for (int own = 1; own >= 0; own--) {
        clconv_ctx *ctx = test_ctx();
        cr_assert_eq(ctx->info.driver_caches, 1, "this suite runs on PoCL: %s",
                     ctx->info.platform);
        ctx->info.driver_caches = own;
        char why[256] = "";
        cr_expect_eq(flip_check(ctx, 12, why, sizeof why), 0, "%s", why);
        cache_stats s = ctx->cache_stats;
        cr_expect_eq(s.stored, own ? 0u : 1u, "driver_caches %d: %u stored", own, s.stored);
        cr_expect_eq(s.not_saved, own ? 1u : 0u, "driver_caches %d: %u not saved", own,
                     s.not_saved);
        clconv_free(ctx);
        cr_expect_eq(count_files(dir, NULL), own ? 0 : 1, "driver_caches %d", own);
    }
    clconv_ctx *ctx = test_ctx();
    ctx->info.driver_caches = 0;
    char why[256] = "";
    cr_expect_eq(flip_check(ctx, 13, why, sizeof why), 0, "%s", why);
    cr_expect_eq(ctx->cache_stats.hits, 1u, "the entry was not loaded");
    clconv_free(ctx);
}

Test(cache, default_directory_follows_xdg_then_home)
{
    char dir[64], want[160];
    temp_dir(dir, sizeof dir);
    setenv("CLCONV_CACHE", "1", 1); /* entries on PoCL too */
    unsetenv("CLCONV_CACHE_DIR");
    setenv("XDG_CACHE_HOME", dir, 1);
    snprintf(want, sizeof want, "%s/clconv", dir);
    char *got = cache_dir_from_env();
    cr_expect_str_eq(got ? got : "(null)", want);
    free(got);
    cache_stats s = flip_in_new_context(8);
    cr_expect_eq(s.stored, 1);
    cr_expect_eq(count_files(want, NULL), 1, "no entry in %s", want);

    setenv("XDG_CACHE_HOME", "relative/dir", 1); /* invalid per XDG: ignored */
    setenv("HOME", dir, 1);
    snprintf(want, sizeof want, "%s/.cache/clconv", dir);
    got = cache_dir_from_env();
    cr_expect_str_eq(got ? got : "(null)", want);
    free(got);
    unsetenv("XDG_CACHE_HOME");
    unsetenv("HOME");
    cr_expect_null(cache_dir_from_env(), "no HOME, no XDG: no cache");
}

/* ---- several processes at once ---- */

#define WRITERS 4

/* Fork n children that wait on a pipe, then run body(i); 0 when all
 * exit 0.  Forked before this process touches OpenCL. */
static int run_children(int n, int (*body)(int))
{
    int go[2];
    if (pipe(go) != 0)
        return -1;
    pid_t pid[16];
    for (int i = 0; i < n; i++) {
        pid[i] = fork();
        if (pid[i] == 0) {
            char c;
            close(go[1]);
            if (read(go[0], &c, 1) < 0)
                _exit(3);
            _exit(body(i));
        }
    }
    close(go[0]);
    close(go[1]); /* every child's read returns now: start */
    int bad = 0;
    for (int i = 0; i < n; i++) {
        int status = 0;
        if (pid[i] < 0 || waitpid(pid[i], &status, 0) != pid[i] || !WIFEXITED(status) ||
            WEXITSTATUS(status) != 0)
            bad++;
    }
    return bad;
}

static int build_and_flip(int i)
{
    clconv_ctx *ctx = NULL;
    if (clconv_create(&ctx) != CLCONV_OK)
        return 2;
    char why[256];
    int bad = flip_check(ctx, 100 + (uint64_t)i, why, sizeof why);
    if (bad)
        fprintf(stderr, "writer %d: %s\n", i, why);
    clconv_free(ctx);
    return bad;
}

Test(cache, processes_building_the_same_program_at_once)
{
    char dir[64];
    temp_dir(dir, sizeof dir);
    use_cache_dir(dir);
    cr_assert_eq(run_children(WRITERS, build_and_flip), 0, "a writer process failed");
    int temps = -1;
    cr_expect_eq(count_files(dir, &temps), 1);
    cr_expect_eq(temps, 0, "temporary files left behind");
    cache_stats s = flip_in_new_context(9);
    cr_expect(s.hits == 1 && s.rejected == 0, "after the race: hits %u rejected %u", s.hits,
              s.rejected);
}

/* Writers store different payloads under one key while readers load it:
 * a reader may miss (before the first rename) but never sees a damaged
 * or mixed entry.  No OpenCL: the file layer alone, hard. */
static const char *race_dir;
static cache_id race_id;

static void race_payload(int writer, unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (unsigned char)(writer * 37 + i * 11);
}

static int race_body(int i)
{
    enum { N = 20000 };
    static unsigned char p[N];
    if (i < WRITERS) {
        race_payload(i, p, N - 1000 * (size_t)i); /* different lengths too */
        for (int k = 0; k < 1000; k++)
            if (cache_entry_store(race_dir, &race_id, p, N - 1000 * (size_t)i) != 0)
                return 1;
        return 0;
    }
    for (int k = 0; k < 3000; k++) {
        unsigned char *got = NULL;
        size_t len = 0;
        const char *why;
        cache_result r = cache_entry_load(race_dir, &race_id, &got, &len, &why);
        if (r == CACHE_BAD || r == CACHE_REFUSED)
            return 1;
        if (r == CACHE_HIT) {
            int w = (int)((N - len) / 1000);
            race_payload(w, p, len);
            int same = w >= 0 && w < WRITERS && memcmp(got, p, len) == 0;
            free(got);
            if (!same)
                return 1;
        }
    }
    return 0;
}

Test(cache, concurrent_writers_and_readers_never_see_a_damaged_entry)
{
    char dir[64], ident[] = "race test identity\n";
    temp_dir(dir, sizeof dir);
    race_dir = dir;
    race_id.identity = ident;
    race_id.key = hash64(ident, strlen(ident));
    snprintf(race_id.file, sizeof race_id.file, "race-%016llx.bin",
             (unsigned long long)race_id.key);
    cr_expect_eq(run_children(WRITERS + 4, race_body), 0, "a writer failed or a reader saw damage");
    int temps = -1;
    cr_expect_eq(count_files(dir, &temps), 1);
    cr_expect_eq(temps, 0, "temporary files left behind");
}

/* ---- what the cache trusts (issue 12) ----
 * An entry is native code run in this process: a directory others can
 * write is refused, and so is anything but a private regular file of
 * sane size at an entry's name - each logged at error level, never a
 * failed call and never a hang. */

/* Put something else at the flip_filter entry's name (entry) in the cache
 * dir; top is the directory around it, for things that live outside. */
typedef void (*plant_fn)(const char *top, const char *entry);

/* A fresh cache at <tmp>/cache with a valid flip_filter entry replaced by
 * `plant`: a context must flip right without loading it (counted as
 * rejected) and log an error that names the entry and `says`.  The
 * counters of that context come back. */
static cache_stats planted_entry_is_refused(plant_fn plant, const char *says)
{
    char top[64], dir[96], entry[512];
    temp_dir(top, sizeof top);
    snprintf(dir, sizeof dir, "%s/cache", top);
    use_cache_dir(dir);
    cr_assert_eq(flip_in_new_context(1).stored, 1);
    entry_of(dir, "flip_filter", entry, sizeof entry);
    plant(top, entry);
    error_lines e = {""};
    cache_stats s = flip_logged(2, &e);
    cr_expect(s.hits == 0 && s.rejected == 1, "hits %u rejected %u", s.hits, s.rejected);
    cr_expect(strstr(e.text, "flip_filter-") && strstr(e.text, says),
              "no error line saying \"%s\": [%s]", says, e.text);
    return s;
}

/* What replaced the thing planted is a whole entry: the next context hits. */
static void next_context_hits(void)
{
    cache_stats s = flip_in_new_context(3);
    cr_expect(s.hits == 1 && s.rejected == 0, "after: hits %u rejected %u", s.hits, s.rejected);
}

static void plant_fifo(const char *top, const char *e)
{
    (void)top;
    cr_assert(unlink(e) == 0 && mkfifo(e, 0600) == 0, "mkfifo %s", e);
}

/* The valid entry moved out of the cache directory, linked back in. */
static void plant_symlink(const char *top, const char *e)
{
    char out[128];
    snprintf(out, sizeof out, "%s/outside.bin", top);
    cr_assert(rename(e, out) == 0 && symlink(out, e) == 0, "symlink %s", e);
}

/* Sparse: no disk space, and an old reader only read its header. */
static void plant_oversize(const char *top, const char *e)
{
    (void)top;
    cr_assert_eq(truncate(e, (off_t)257 << 20), 0);
}

static void plant_directory(const char *top, const char *e)
{
    (void)top;
    cr_assert(unlink(e) == 0 && mkdir(e, 0700) == 0, "mkdir %s", e);
}

static void plant_group_writable(const char *top, const char *e)
{
    (void)top;
    cr_assert_eq(chmod(e, 0660), 0);
}

/* The old code opened the entry with a blocking O_RDONLY: it waited for a
 * writer forever (the timeout fails it). */
Test(cache, fifo_at_an_entry_is_refused_without_blocking, .timeout = 60)
{
    cache_stats s = planted_entry_is_refused(plant_fifo, "not a regular file");
    cr_expect_eq(s.stored, 1, "the FIFO was not replaced by an entry");
    next_context_hits();
}

Test(cache, symlink_at_an_entry_is_not_followed)
{
    cache_stats s = planted_entry_is_refused(plant_symlink, "a symbolic link");
    cr_expect_eq(s.stored, 1);
    char out[128];
    snprintf(out, sizeof out, "%s/outside.bin", made_dir);
    cr_expect_gt(file_size(out), 0, "the link's target was changed");
    next_context_hits();
}

Test(cache, oversize_entry_is_refused)
{
    cache_stats s = planted_entry_is_refused(plant_oversize, "larger than an entry can be");
    cr_expect_eq(s.stored, 1);
    next_context_hits();
}

Test(cache, entry_writable_by_group_is_refused)
{
    cache_stats s = planted_entry_is_refused(plant_group_writable, "writable by group or others");
    cr_expect_eq(s.stored, 1);
    next_context_hits();
}

/* Saving cannot replace a directory either: that fails too, but the
 * error line already said why. */
Test(cache, directory_at_an_entry_is_an_error)
{
    cache_stats s = planted_entry_is_refused(plant_directory, "a directory");
    cr_expect(s.stored == 0 && s.store_failed == 1, "stored %u failed %u", s.stored,
              s.store_failed);
}

/* A cache dir holding a valid flip_filter entry, then given `mode` (and
 * owner uid when uid >= 0): a context must neither load nor save there,
 * still flip right, and log an error that says `says`. */
static void directory_is_refused(mode_t mode, int uid, const char *says)
{
    char top[64], dir[96];
    temp_dir(top, sizeof top);
    snprintf(dir, sizeof dir, "%s/cache", top);
    use_cache_dir(dir);
    cr_assert_eq(flip_in_new_context(1).stored, 1);
    cr_assert_eq(chmod(dir, mode), 0);
    if (uid >= 0)
        cr_assert_eq(chown(dir, (uid_t)uid, (gid_t)-1), 0);
    error_lines e = {""};
    cache_stats s = flip_logged(2, &e);
    cr_expect(s.hits + s.misses + s.rejected + s.stored + s.store_failed == 0,
              "mode %o: the cache was used (hits %u misses %u stored %u)", (unsigned)mode, s.hits,
              s.misses, s.stored);
    cr_expect(strstr(e.text, dir) && strstr(e.text, says), "mode %o: no error saying \"%s\": [%s]",
              (unsigned)mode, says, e.text);
    cr_expect_eq(count_files(dir, NULL), 1);
}

Test(cache, directory_writable_by_others_is_refused)
{
    const mode_t modes[] = {0777, 0770, 0707, 01777};
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
        directory_is_refused(modes[i], -1, "writable by group or others");
        remove_made_dir();
    }
}

Test(cache, directory_of_another_user_is_refused)
{
    if (geteuid() != 0)
        cr_skip_test("only root can give a directory to another user");
    struct passwd *pw = getpwnam("nobody");
    directory_is_refused(0700, pw ? (int)pw->pw_uid : 65534, "owned by another user");
}

/* Whatever the umask, what the library creates is private; an existing
 * directory of ours that only we can write (0755: make's build/) is used. */
Test(cache, created_directories_are_private_and_own_0755_is_used)
{
    char top[64], want[160];
    temp_dir(top, sizeof top);
    umask(0);
    setenv("CLCONV_CACHE", "1", 1);
    unsetenv("CLCONV_CACHE_DIR");
    setenv("XDG_CACHE_HOME", top, 1);
    snprintf(want, sizeof want, "%s/clconv", top);
    cr_assert_eq(flip_in_new_context(1).stored, 1);
    struct stat sb;
    cr_assert_eq(stat(want, &sb), 0);
    cr_expect_eq(sb.st_mode & 07777, 0700, "%s has mode %o", want, (unsigned)(sb.st_mode & 07777));
    cr_assert_eq(chmod(want, 0755), 0);
    cache_stats s = flip_in_new_context(2);
    cr_expect(s.hits == 1 && s.rejected == 0, "0755: hits %u rejected %u", s.hits, s.rejected);
}

/* The old code turned the cache off without a word: a path of PATH_MAX
 * bytes or more became "no cache", and one that left no room for entry
 * names made every load a miss and every save fail. */
Test(cache, cache_dir_too_long_is_an_error)
{
    char top[64];
    temp_dir(top, sizeof top);
    const size_t lens[] = {PATH_MAX + 10, PATH_MAX - 20};
    for (size_t i = 0; i < 2; i++) {
        char *dir = test_alloc(lens[i] + 1);
        memset(dir, 'd', lens[i]);
        for (size_t k = strlen(top); k < lens[i]; k += 100)
            dir[k] = '/'; /* components mkdir could create */
        memcpy(dir, top, strlen(top));
        dir[lens[i]] = 0;
        char *first = strndup(dir, strlen(top) + 100); /* <top>/ddd... */
        use_cache_dir(dir);
        error_lines e = {""};
        cache_stats s = flip_logged(4, &e);
        cr_expect(s.hits + s.misses + s.stored + s.store_failed == 0, "%zu bytes: cache used",
                  lens[i]);
        cr_expect(strstr(e.text, "too long"), "%zu bytes: no error: [%s]", lens[i], e.text);
        cr_expect_eq(file_size(first), -1, "%zu bytes: directories were made", lens[i]);
        free(first);
        free(dir);
    }
}

/* ---- the library prints nothing while it builds (issue 12) ----
 * PoCL caches built programs by source and options, and its cache
 * directory is fixed once it has started, so every build here carries a
 * unique -D option: a cold compile, whatever ran before. */

static void unique_options(char *buf, size_t cap, const char *options)
{
    static unsigned serial;
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    snprintf(buf, cap, "%s -DCLCONV_TEST_NONCE=%lld_%ld_%d_%u", options, (long long)t.tv_sec,
             t.tv_nsec, (int)getpid(), serial++);
}

/* Every embedded kernel source built cold through the library's builder
 * with `options`, the binary cache off. */
static void build_every_source_with(clconv_ctx *ctx, const char *options)
{
    free(ctx->cache_dir);
    ctx->cache_dir = NULL;
    for (int i = 0; i < clconv_kernel_source_count; i++) {
        const clconv_kernel_source *ks = &clconv_kernel_sources[i];
        char opts[160];
        cl_program p = NULL;
        unique_options(opts, sizeof opts, options);
        clconv_status st = program_build_text(ctx, ks->name, ks->text, ks->length, opts, &p);
        cr_expect_eq(st, CLCONV_OK, "%s with \"%s\": %s", ks->name, options,
                     clconv_last_error(ctx));
        if (p)
            clReleaseProgram(p);
    }
}

static void build_every_source(clconv_ctx *ctx)
{
    build_every_source_with(ctx, "");
}

/* What fn wrote to file descriptor 2 (PoCL's compiler writes there, not
 * through stdio): its size, and the start of it in text. */
static long stderr_of(void (*fn)(clconv_ctx *), clconv_ctx *ctx, char *text, size_t cap)
{
    FILE *f = tmpfile();
    cr_assert_not_null(f);
    fflush(stderr);
    int saved = dup(2);
    cr_assert(saved >= 0 && dup2(fileno(f), 2) == 2);
    fn(ctx);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    struct stat sb;
    cr_assert_eq(fstat(fileno(f), &sb), 0);
    ssize_t n = pread(fileno(f), text, cap - 1, 0);
    text[n > 0 ? n : 0] = 0;
    fclose(f);
    return (long)sb.st_size;
}

/* The old library let PoCL print "1 warning generated." for
 * kernels/gemm_bwd_filter.cl. */
Test(cache, cold_builds_write_nothing_to_stderr)
{
    clconv_ctx *ctx = test_ctx();
    char text[512];
    long n = stderr_of(build_every_source, ctx, text, sizeof text);
    cr_expect_eq(n, 0, "the builds wrote %ld bytes to stderr: %s", n, text);
    clconv_free(ctx);
}

/* On PoCL every source builds with the prelude's own declarations of the
 * builtins (no opencl-c.h, program.c) in the option sets that change what
 * a kernel calls (storage types, epilogue, index width, layouts, Winograd's
 * tile), without falling back to the header: a builtin missing from
 * tools/pocl_builtins.py's list would fail here, not only run slower. */
/* A context whose programs declare their builtins (PoCL), binary cache
 * off; the test is skipped elsewhere. */
static clconv_ctx *own_builtins_ctx(void)
{
    clconv_ctx *ctx = test_ctx();
    if (!ctx->info.own_builtins) {
        clconv_free(ctx);
        cr_skip_test("not PoCL: the device's compiler declares its builtins");
    }
    free(ctx->cache_dir);
    ctx->cache_dir = NULL;
    return ctx;
}

Test(cache, every_source_builds_with_the_preludes_builtins)
{
    clconv_ctx *ctx = own_builtins_ctx();
    static const char *const sets[] = {"", "-DDT=1 -DEPI -DCOL1 -DIDX_LONG",
                                       "-DDT=2 -DWM=2 -DCOL1 -DEPI"};
    for (size_t o = 0; o < sizeof sets / sizeof sets[0]; o++) {
        build_every_source_with(ctx, sets[o]);
        cr_assert(ctx->info.own_builtins, "a source with \"%s\" needed opencl-c.h (CLCONV_LOG=2 "
                  "names it)", sets[o]);
    }
    clconv_free(ctx);
}

/* A program calling a builtin the prelude does not declare (sqrt) still
 * builds: the builder falls back to opencl-c.h for the rest of the
 * context's life (a PoCL whose headers differ from 3.1's). */
Test(cache, a_builtin_the_prelude_lacks_falls_back_to_the_header)
{
    clconv_ctx *ctx = own_builtins_ctx();
    static const char src[] = "__kernel void k(__global float *a) { a[0] = sqrt(a[1]); }\n";
    char opts[128];
    unique_options(opts, sizeof opts, "");
    cl_program p = NULL;
    clconv_status st = program_build_text(ctx, "sqrt_test", src, strlen(src), opts, &p);
    cr_expect_eq(st, CLCONV_OK, "%s", clconv_last_error(ctx));
    cr_expect_not_null(p);
    cr_expect_eq(ctx->info.own_builtins, 0, "no fallback to opencl-c.h");
    if (p)
        clReleaseProgram(p);
    clconv_free(ctx);
}

/* -w hides warnings; the kernel must not cause one in the first place (a
 * loop its `#pragma unroll` asks for that clang cannot unroll).  Built with
 * plain OpenCL, without the library's options, for the shapes the host's
 * tuning rows give (host/gemm_backward_filter.c), 32- and 64-bit indices. */
Test(cache, gemm_bwd_filter_compiles_without_warnings)
{
    static const char *const shapes[] = {
        "-DBF_VW=1 -DBF_TM=4 -DBF_TN=4 -DBF_LS=64", "-DBF_VW=16 -DBF_TM=4 -DBF_TN=4 -DBF_LS=1",
        "-DBF_VW=4 -DBF_TM=2 -DBF_TN=4 -DBF_LS=64", "-DBF_VW=16 -DBF_TM=4 -DBF_TN=4 -DIDX_LONG"};
    clconv_ctx *ctx = test_ctx();
    const clconv_kernel_source *ks = source_named("gemm_bwd_filter");
    cl_device_id dev = clconv_cl_device(ctx);
    /* as program.c builds it: the prelude, then the source */
    const char *texts[2] = {clconv_kernel_prelude.text, ks->text};
    const size_t lens[2] = {clconv_kernel_prelude.length, ks->length};
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        char opts[192];
        size_t n = 0;
        unique_options(opts, sizeof opts, shapes[i]);
        cl_program p = clCreateProgramWithSource(clconv_cl_context(ctx), 2, texts, lens, NULL);
        cr_assert_not_null(p);
        cr_expect_eq(clBuildProgram(p, 1, &dev, opts, NULL, NULL), CL_SUCCESS, "%s", opts);
        cr_assert_eq(clGetProgramBuildInfo(p, dev, CL_PROGRAM_BUILD_LOG, 0, NULL, &n), CL_SUCCESS);
        char *log = test_alloc(n + 1);
        cr_assert_eq(clGetProgramBuildInfo(p, dev, CL_PROGRAM_BUILD_LOG, n, log, NULL), CL_SUCCESS);
        log[n] = 0;
        cr_expect_null(strstr(log, "warning"), "%s:\n%s", shapes[i], log);
        free(log);
        clReleaseProgram(p);
    }
    clconv_free(ctx);
}
