/* The bench tool run in this process (its sources compiled in, like
 * test_bench_parse.c, which holds the option parser these link with):
 * repro lines that paste back through /bin/sh, exit statuses, batches that
 * never abort, --mode=I and --run-per-file, oneDNN's benchdnn shape files,
 * which a peer's suite at ../shared/benchdnn provides, and clconv 0.3's
 * features through the tool: storage converters, repro and CLCONV_LOG
 * lines with the data options, check-mode runs in f16 / bf16 / NHWC /
 * post-ops / unequal padding (bench_check) and deconvolutions
 * (bench_deconv). */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../tools/bench/check.c"
#include "../tools/bench/demo.c"
#include "../tools/bench/passes.c"
#include "../tools/bench/peak.c"
#include "../tools/bench/peer_clblast.c"
#include "../tools/bench/peer_torch.c"
#include "../tools/bench/problem.c"
#include "../tools/bench/progress.c"
#include "../tools/bench/report.c"
#include "../tools/bench/report_fmt.c"
#include "../tools/bench/repro.c"
#include "../tools/bench/run.c"
#include "../tools/bench/session.c"
#include "../tools/bench/storage.c"
#include "../tools/bench/svg.c"
#include "../tools/bench/timing.c"
#include "../tools/bench/verify.c"
#include "../tools/bench/tokenize.h"

/* ---- helpers ---- */

/* In test_bench_parse.c. */
char *bench_test_slurp(const char *path);
char *bench_test_tmpdir(void);
char *bench_test_batch(const char *dir, const char *name, const char *text);
void bench_test_rmtree(char *dir);

/* The tool on args (argv[0] "clconv-bench"), as its main() runs it, with
 * stdout and stderr into *out (malloc'ed); returns the exit status.  With
 * a set, --demo runs on its problems; with err_fd >= 0, stderr goes there
 * instead.  The other test_bench_*.c files use these too. */
int bench_test_run_tool(char **args, int nargs, char **out);
int bench_test_run_fds(char **args, int nargs, const bench_demo_set *set, int err_fd,
                       char **out);
char *bench_test_fake_torch(const char *dir, const char *name, int status);

static int run_tool(char **args, int nargs, char **out)
{
    return bench_test_run_tool(args, nargs, out);
}

int bench_test_run_tool(char **args, int nargs, char **out)
{
    return bench_test_run_fds(args, nargs, NULL, -1, out);
}

int bench_test_run_fds(char **args, int nargs, const bench_demo_set *set, int err_fd,
                       char **out)
{
    char path[] = "/tmp/clconv-bench-out-XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    fflush(stdout);
    fflush(stderr);
    int save1 = dup(1), save2 = dup(2);
    dup2(fd, 1);
    dup2(err_fd >= 0 ? err_fd : fd, 2);
    char *argv[nargs + 2];
    argv[0] = (char *)"clconv-bench";
    memcpy(argv + 1, args, (size_t)nargs * sizeof *argv);
    argv[nargs + 1] = NULL;
    bench_opts o;
    int rc = bench_opts_parse(&o, nargs + 1, argv);
    if (rc == BENCH_EXIT_OK && o.demo)
        rc = set ? bench_demo_run(&o, set) : bench_demo(&o);
    else if (rc == BENCH_EXIT_OK)
        rc = bench_run(&o);
    bench_opts_free(&o);
    fflush(stdout);
    fflush(stderr);
    dup2(save1, 1);
    dup2(save2, 2);
    close(save1);
    close(save2);
    close(fd);
    *out = bench_test_slurp(path);
    unlink(path);
    return rc;
}

/* A stand-in for tools/torch_peer.py, run by /bin/sh (--python=/bin/sh):
 * it writes its arguments to dir/NAME.args and, with status 0, prints
 * the script's lines for problems 0 to 3, every pass: median 0.5 ms, best
 * 0.25 ms; otherwise what the script prints when torch is missing (3), or
 * a traceback's last line.  Returns the script's path (malloc'ed). */
char *bench_test_fake_torch(const char *dir, const char *name, int status)
{
    char *path;
    cr_assert(asprintf(&path, "%s/%s", dir, name) > 0);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fprintf(f, "printf '%%s\\n' \"$@\" > \"$0.args\"\n");
    if (status == 0) {
        fprintf(f, "echo '# peer: fake PyTorch CPU (oneDNN), 2 threads'\n"
                   "echo index,pass,median_ms,min_ms\n"
                   "for i in 0 1 2 3; do for p in fwd bwd_d bwd_w; do echo \"$i,$p,0.5,0.25\"; "
                   "done; done\n");
    } else if (status == 3) {
        fprintf(f, "echo \"# no torch: fake: No module named 'torch'\"\nexit 3\n");
    } else {
        fprintf(f, "echo 'RuntimeError: fake failure'\nexit %d\n", status);
    }
    fclose(f);
    return path;
}

#define RUN_TOOL(out, ...)                                                                 \
    ({                                                                                     \
        char *args_[] = {__VA_ARGS__};                                                     \
        run_tool(args_, (int)(sizeof args_ / sizeof args_[0]), out);                      \
    })

/* What /bin/sh makes of line as the arguments of a command, run in dir:
 * up to max words into words[] (malloc'ed); returns their count. */
static size_t sh_words(const char *dir, const char *line, char **words, size_t max)
{
    char script[300];
    snprintf(script, sizeof script, "%s/words.sh", dir);
    FILE *f = fopen(script, "w");
    cr_assert_not_null(f);
    fprintf(f, "set -- %s\nfor a in \"$@\"; do printf '%%s\\0' \"$a\"; done\n", line);
    fclose(f);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "cd '%s' && sh words.sh", dir);
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p);
    char buf[8192];
    size_t len = fread(buf, 1, sizeof buf, p), n = 0;
    cr_assert_eq(pclose(p), 0, "sh failed on: %s", line);
    for (size_t at = 0; at < len && n < max; n++) {
        words[n] = strdup(buf + at);
        at += strlen(buf + at) + 1;
    }
    unlink(script);
    return n;
}

/* Nothing but words.sh's leftovers may appear in dir: a name's shell code
 * that ran would have created a file there. */
static void expect_dir_empty(const char *dir, const char *what)
{
    DIR *d = opendir(dir);
    cr_assert_not_null(d);
    struct dirent *e;
    while ((e = readdir(d)))
        cr_expect(e->d_name[0] == '.', "%s ran shell code: it created %s/%s", what, dir,
                  e->d_name);
    closedir(d);
}

/* Names whose shell code would create a file in the working directory if
 * a repro line let the shell expand them, and quotes of every kind. */
static const char *const nasty_names[] = {
    "$(touch dollar)", "`touch backtick`", "it's", "say \"hi\" && touch amp",
    "a'b'c", "\"unbalanced", "'", "x;touch semi", "$HOME ~ *", "back\\slash",
    "tab\there", "$(touch a)'$(touch b)'\"$(touch c)\"",
};

/* The counts of a run's summary line (0 for those it leaves out). */
typedef struct bench_summary {
    int tests, passed, failed, skipped, unimpl, initialized, not_supported, unsupported, invalid;
} bench_summary;

static int summary_field(const char *line, const char *key)
{
    const char *at = strstr(line, key);
    return at ? atoi(at + strlen(key)) : 0;
}

static bench_summary summary_of(const char *out)
{
    const char *line = strstr(out, "tests:");
    cr_assert_not_null(line, "no summary in:\n%.4000s", out);
    char *l = strndup(line, strcspn(line, "\n"));
    bench_summary s = {summary_field(l, "tests:"),         summary_field(l, " passed:"),
                       summary_field(l, " failed:"),       summary_field(l, " skipped:"),
                       summary_field(l, " unimplemented:"), summary_field(l, " initialized:"),
                       summary_field(l, " not_supported:"), summary_field(l, " unsupported:"),
                       summary_field(l, " invalid:")};
    free(l);
    return s;
}

/* "--seed=N" of fresh random inputs for one run (N is in the repro lines
 * and in every message that shows the output). */
static const char *fresh_seed(char *buf, size_t cap)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    snprintf(buf, cap, "--seed=%llu",
             (unsigned long long)((uint64_t)ts.tv_nsec ^ ((uint64_t)getpid() << 32)) % 1000000007u);
    return buf;
}

/* ---- item: repro lines are quoted (issue 12, item 7) ---- */

Test(bench_repro, shell_word_reads_back_as_itself)
{
    static const char *const words[] = {
        "", "plain-word_1.2,3:4/5@6%7+8=9", "two words", "new\nline", "$(touch w1)",
        "`touch w2`", "'", "''", "\"", "\\", "!", "a'b\"c$d`e\\f", "--device=my gpu",
        "trailing'", "'leading",
    };
    char *dir = bench_test_tmpdir();
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
        bench_line l = {0};
        bench_line_word(&l, "x", NULL);
        bench_line_word(&l, NULL, words[i]);
        bench_line_word(&l, "--opt=", words[i]);
        cr_assert(!l.oom);
        char *got[4];
        size_t n = sh_words(dir, l.s, got, 4);
        cr_assert_eq(n, 3, "[%s] gave %zu words", l.s, n);
        cr_expect_str_eq(got[1], words[i], "[%s]", l.s);
        char want[64];
        snprintf(want, sizeof want, "--opt=%s", words[i]);
        cr_expect_str_eq(got[2], want, "[%s]", l.s);
        for (size_t k = 0; k < n; k++)
            free(got[k]);
        bench_line_free(&l);
    }
    expect_dir_empty(dir, "a quoted word");
    bench_test_rmtree(dir);
}

/* The descriptor on a repro line is what bench_format_desc writes, and it
 * parses back to the same layer and name. */
static void expect_repro_words(char **w, size_t n, const char *mode, const char *name)
{
    cr_assert_geq(n, 5, "too few words");
    cr_expect_str_eq(w[0], "clconv-bench");
    char opt[32];
    snprintf(opt, sizeof opt, "--mode=%s", mode);
    cr_expect_str_eq(w[1], opt);
    clconv_desc d;
    char got[BENCH_NAME_CAP], err[256];
    cr_assert_eq(bench_parse_desc(w[n - 1], &d, got, sizeof got, err, sizeof err), BENCH_DESC_OK,
                 "%s: %s", w[n - 1], err);
    cr_expect_str_eq(got, name);
    cr_expect_eq(d.c, 3);
    cr_expect_eq(d.h, 5);
}

/* The first line of out after marker, up to its end. */
static char *line_after(const char *out, const char *marker)
{
    const char *at = strstr(out, marker);
    cr_assert_not_null(at, "no \"%s\" in:\n%s", marker, out);
    at += strlen(marker);
    return strndup(at, strcspn(at, "\n"));
}

Test(bench_repro, printed_repro_lines_paste_back)
{
    char *dir = bench_test_tmpdir();
    for (size_t i = 0; i < sizeof nasty_names / sizeof nasty_names[0]; i++) {
        char desc[200];
        snprintf(desc, sizeof desc, "mb1ic3ih5oc2kh3n%s", nasty_names[i]);
        char *out;
        /* a checked run prints __REPRO, a timed one "repro:" per problem */
        int rc = RUN_TOOL(&out, "--mode=C", desc);
        cr_assert_eq(rc, 0, "%s", out);
        char *line = line_after(out, "__REPRO: "), *w[16];
        size_t n = sh_words(dir, line, w, 16);
        expect_repro_words(w, n, "C", nasty_names[i]);
        for (size_t k = 0; k < n; k++)
            free(w[k]);
        free(line);
        free(out);
        rc = RUN_TOOL(&out, "--mode=P", "--reps=1", "--warmup=0", "--peak-gflops=1", desc);
        cr_assert_eq(rc, 0, "%s", out);
        line = line_after(out, "repro: ");
        n = sh_words(dir, line, w, 16);
        expect_repro_words(w, n, "P", nasty_names[i]);
        for (size_t k = 0; k < n; k++)
            free(w[k]);
        free(line);
        free(out);
    }
    expect_dir_empty(dir, "a repro line");
    bench_test_rmtree(dir);
}

Test(bench_repro, newline_in_a_name_pastes_back)
{
    char *dir = bench_test_tmpdir();
    bench_opts o;
    memset(&o, 0, sizeof o);
    o.argv0 = "clconv-bench";
    o.device = "it's a \"gpu\"\n$(touch dev)";
    bench_problem p;
    memset(&p, 0, sizeof p);
    clconv_desc_init(&p.d, 1, 3, 5, 5, 2, 3, 3);
    snprintf(p.name, sizeof p.name, "two\nlines $(touch nl)");
    char *line = bench_repro(&o, &p, "C", 1u << BENCH_FWD, BENCH_ALGO_BIT(CLCONV_ALGO_AUTO));
    cr_assert_not_null(line);
    char *w[16];
    size_t n = sh_words(dir, line, w, 16);
    expect_repro_words(w, n, "C", p.name);
    char want[128];
    snprintf(want, sizeof want, "--device=%s", o.device);
    cr_expect_str_eq(w[4], want);
    for (size_t k = 0; k < n; k++)
        free(w[k]);
    free(line);
    expect_dir_empty(dir, "a repro line");
    bench_test_rmtree(dir);
}

/* ---- item: exit statuses (item 8) ---- */

Test(bench_run, device_that_matches_nothing_is_a_usage_error)
{
    char *out;
    int rc = RUN_TOOL(&out, "--device=99:99", "--mode=C", "ic3ih5oc4kh3");
    cr_expect_eq(rc, BENCH_EXIT_USAGE, "exit %d: %s", rc, out);
    cr_expect(strstr(out, "CLCONV_DEVICE_NOT_FOUND"), "%s", out);
    free(out);
    rc = RUN_TOOL(&out, "--device=no-such-device-anywhere", "--mode=C", "ic3ih5oc4kh3");
    cr_expect_eq(rc, BENCH_EXIT_USAGE, "exit %d: %s", rc, out);
    free(out);
}

/* ---- item: no problem aborts a batch (item 13) ---- */

Test(bench_run, empty_batch_is_an_empty_run)
{
    char *dir = bench_test_tmpdir();
    char *opt = bench_test_batch(dir, "comments", "# no problems here\n# mb1ic3ih5oc4kh3\n\n");
    char *out;
    int rc = RUN_TOOL(&out, "--mode=C", opt);
    cr_expect_eq(rc, 0, "exit %d: %s", rc, out);
    cr_expect(strstr(out, "tests:0 passed:0 failed:0"), "%s", out);
    free(out);
    rc = RUN_TOOL(&out, "--json", opt);
    cr_expect_eq(rc, 0, "exit %d: %s", rc, out);
    cr_expect(strstr(out, "\"summary\": {\"tests\": 0"), "%s", out);
    free(out);
    free(opt);
    bench_test_rmtree(dir);
}

Test(bench_run, bad_lines_in_a_batch_get_their_own_line)
{
    char *dir = bench_test_tmpdir();
    char *opt = bench_test_batch(dir, "mixed",
                                 "mb1ic3ih5oc4kh3x\n"                 /* malformed */
                                 "mb1ic1oc1iw100000000000000000kw3\n" /* beyond any device */
                                 "mb1ic16oc16_ih1oh1kh3ph0\n"         /* kernel wider than input */
                                 "mb1ic3ih224oc8oh112kh7sh2\n"        /* unequal padding */
                                 "mb1ic3ih5oc4oh2kh3\n"               /* negative end padding */
                                 "ic4id5kd3ih5kh3iw5kw3oc4\n"         /* 3-D */
                                 "mb1ic3ih5oc4kh3n\"good\"\n");
    char *out;
    int rc = RUN_TOOL(&out, "--mode=C", "--dir=all", opt);
    /* the malformed line fails the run, the rest is reported, the good one runs */
    cr_expect_eq(rc, BENCH_EXIT_FAILED, "exit %d: %s", rc, out);
    cr_expect(strstr(out, "invalid: "), "%s", out);
    cr_expect(strstr(out, ":1: unrecognized text"), "%s", out);
    cr_expect(strstr(out, ":5: o"), "%s", out);
    cr_expect(strstr(out, ":6: 3-D"), "%s", out);
    /* the two problems of unequal padding run, the one beyond the device
     * is skipped */
    bench_summary sum = summary_of(out);
    cr_expect(sum.tests == 16 && sum.failed == 0 && sum.skipped == 4 && sum.unimpl == 0 &&
                  sum.passed == 12 && sum.not_supported == 0 && sum.unsupported == 2 &&
                  sum.invalid == 1, "%s", out);
    cr_expect(strstr(out, "CLCONV_DEVICE_LIMIT") || strstr(out, "CLCONV_TOO_LARGE") ||
              strstr(out, "OpenCL error"), "%s", out);
    free(out);
    free(opt);
    bench_test_rmtree(dir);
}

Test(bench_run, mode_i_and_run_per_file)
{
    char *dir = bench_test_tmpdir();
    /* 5400, 1944 and 3456 FLOP: with a 4000 FLOP bound the second runs */
    char *opt = bench_test_batch(dir, "three", "mb1ic3ih7oc4kh3n\"a\" mb1ic3ih5oc4kh3n\"b\" "
                                               "mb1ic3ih6oc4kh3n\"c\"\n");
    char *out;
    int rc = RUN_TOOL(&out, "--mode=C", "--run-per-file=1", opt);
    cr_expect_eq(rc, 0, "exit %d: %s", rc, out);
    cr_expect(strstr(out, "0:PASSED"), "%s", out);
    cr_expect(strstr(out, "1:INITIALIZED (fwd auto: initialized, not run (beyond "
                          "--run-per-file=1)) __REPRO: clconv-bench --mode=I"), "%s", out);
    cr_expect(strstr(out, "tests:3 passed:1 failed:0 skipped:0 unimplemented:0 initialized:2"),
              "%s", out);
    free(out);
    rc = RUN_TOOL(&out, "--mode=I", "--dir=all", "--algo=all", opt);
    cr_expect_eq(rc, 0, "exit %d: %s", rc, out);
    /* 3 problems x (3 passes x every named algorithm + backward-bias) */
    const int named = CLCONV_ALGO_COUNT_ - 1, rows = 3 * (3 * named + 1);
    char want[96];
    snprintf(want, sizeof want, "tests:%d passed:0 failed:0 skipped:0 unimplemented:0 initialized:%d",
             rows, rows);
    cr_expect(strstr(out, want),
              "%s", out);
    free(out);
    /* above --run-max-gflop a problem is not run, and the next one of the file is */
    rc = RUN_TOOL(&out, "--mode=C", "--run-per-file=1", "--run-max-gflop=0.000004", opt);
    cr_expect_eq(rc, 0, "exit %d: %s", rc, out);
    cr_expect(strstr(out, "0:INITIALIZED (fwd auto: initialized, not run (above "
                          "--run-max-gflop=4e-06))"), "%s", out);
    cr_expect(strstr(out, "1:PASSED"), "%s", out);
    cr_expect(strstr(out, "2:INITIALIZED (fwd auto: initialized, not run (beyond"), "%s", out);
    free(out);
    free(opt);
    bench_test_rmtree(dir);
}

/* ---- oneDNN's benchdnn shape files (item 13) ---- */

#define BENCHDNN_DIR "../shared/benchdnn" /* next to the repository (make test's cwd) */
#define BENCHDNN_RUN_MAX_GFLOP 0.05

typedef struct shape_count {
    size_t ok, unsupported, invalid;
    size_t asym;    /* of ok: unequal padding (they run where an algorithm claims it) */
    int runs;       /* some problem within BENCHDNN_RUN_MAX_GFLOP (the file's first one runs) */
    int runs_asym;  /* and that one has unequal padding */
} shape_count;

/* What the tool must make of one file, from the parser alone. */
static void count_shapes(const char *path, shape_count *c)
{
    char *text = bench_test_slurp(path);
    bench_tokens t = {0};
    cr_assert_eq(bench_tokenize(text, &t), 0);
    free(text);
    for (size_t i = 0; i < t.n; i++) {
        clconv_desc d;
        if (t.v[i].text[0] == '-')
            continue;
        bench_desc_status st = bench_parse_desc(t.v[i].text, &d, NULL, 0, NULL, 0);
        c->ok += st == BENCH_DESC_OK;
        c->unsupported += st == BENCH_DESC_UNSUPPORTED;
        c->invalid += st == BENCH_DESC_INVALID;
        if (st != BENCH_DESC_OK)
            continue;
        c->asym += d.pad_asymmetric == 1;
        d.n = 1; /* --mb=1 */
        if (!c->runs && clconv_flops(&d) * 1e-9 <= BENCHDNN_RUN_MAX_GFLOP) {
            c->runs = 1;
            c->runs_asym = d.pad_asymmetric == 1;
        }
    }
    bench_tokens_free(&t);
}

/* Rows the library refused with NOT_SUPPORTED when they ran (not in
 * --mode=I's query, whose note names clconv_workspace_size). */
static int run_rows_not_supported(const char *out)
{
    int n = 0;
    for (const char *at = out; (at = strstr(at, ":NOT_SUPPORTED (")); at++) {
        const char *end = strchr(at, '\n');
        size_t len = end ? (size_t)(end - at) : strlen(at);
        n += !memmem(at, len, "clconv_workspace_size", 21);
    }
    return n;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* "--batch=" options for the shapes_* files of the folder, sorted, the 3-D
 * ones (names with "3d") left out and listed in skipped. */
static size_t list_2d_files(char **opts, size_t max, char *skipped, size_t cap)
{
    char *names[256];
    size_t n = 0, k = 0;
    DIR *d = opendir(BENCHDNN_DIR);
    cr_assert_not_null(d);
    for (struct dirent *e; (e = readdir(d));)
        if (strncmp(e->d_name, "shapes_", 7) == 0 && n < 256)
            names[n++] = strdup(e->d_name);
    closedir(d);
    qsort(names, n, sizeof *names, by_name);
    skipped[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        size_t l = strlen(skipped);
        if (strstr(names[i], "3d"))
            snprintf(skipped + l, cap - l, " %s", names[i]);
        else if (k < max && asprintf(&opts[k], "--batch=%s/%s", BENCHDNN_DIR, names[i]) > 0)
            k++;
        free(names[i]);
    }
    return k;
}

/* Every 2-D file through the tool in one run: every problem parsed and
 * given the library's checks (--mode=I's), and the first small problem of
 * each file computed and checked on all passes; no problem may abort the
 * batch, each gets its row or its unsupported line. */
Test(bench_benchdnn, every_2d_shape_file)
{
    struct stat st;
    if (stat(BENCHDNN_DIR, &st) != 0)
        cr_skip_test("no %s next to the repository: oneDNN's benchdnn shape files are not here",
                     BENCHDNN_DIR);
    char *args[256], skipped[4096];
    int nargs = 0;
    args[nargs++] = (char *)"--mode=C";
    args[nargs++] = (char *)"--dir=all";
    args[nargs++] = (char *)"--mb=1";
    args[nargs++] = (char *)"--run-per-file=1";
    char gflop[48];
    snprintf(gflop, sizeof gflop, "--run-max-gflop=%g", BENCHDNN_RUN_MAX_GFLOP);
    args[nargs++] = gflop;
    size_t nfiles = list_2d_files(args + nargs, 200, skipped, sizeof skipped);
    cr_assert_gt(nfiles, 0, "no shapes_* files in %s", BENCHDNN_DIR);
    shape_count c = {0};
    size_t nrun = 0, nrun_asym = 0;
    for (size_t i = 0; i < nfiles; i++) {
        shape_count f = {0};
        count_shapes(args[nargs + i] + strlen("--batch="), &f);
        c.ok += f.ok;
        c.unsupported += f.unsupported;
        c.invalid += f.invalid;
        c.asym += f.asym;
        nrun += f.runs;
        nrun_asym += f.runs_asym;
    }
    char *out;
    int rc = run_tool(args, nargs + (int)nfiles, &out);
    cr_expect_eq(c.invalid, 0, "the parser calls %zu benchdnn descriptors invalid", c.invalid);
    cr_expect_eq(rc, 0, "exit %d:\n%.4000s", rc, strstr(out, "FAILED") ? strstr(out, "FAILED") : out);
    bench_summary sum = summary_of(out);
    const int ns_run = run_rows_not_supported(out);
    cr_log_info("benchdnn: %zu 2-D files, %zu problems (%zu of unequal padding), %zu unsupported; "
                "%zu run (%zu of unequal padding); rows: %d passed, %d not_supported (%d of them "
                "run), %d initialized, %d skipped; 3-D files left out:%s",
                nfiles, c.ok, c.asym, c.unsupported, nrun, nrun_asym, sum.passed,
                sum.not_supported, ns_run, sum.initialized, sum.skipped, skipped);
    cr_expect_eq((size_t)sum.tests, 4 * c.ok, "tests:%d", sum.tests);
    cr_expect_eq(sum.failed, 0);
    cr_expect_eq(sum.unimpl, 0);
    cr_expect_eq(sum.unsupported, (int)c.unsupported);
    /* every run row passes: every algorithm claims unequal padding */
    cr_expect_eq((size_t)sum.passed, 4 * nrun, "passed:%d not_supported (run):%d", sum.passed,
                 ns_run);
    cr_expect_eq(ns_run, 0);
    cr_expect_eq(sum.not_supported, 0);
    cr_expect_eq(sum.passed + sum.initialized + sum.skipped + sum.not_supported, sum.tests);
    free(out);
    for (size_t i = 0; i < nfiles; i++)
        free(args[nargs + i]);
}

/* ---- clconv 0.3's features through the tool (issue 7) ---- */

#include "feature_check.h"

/* The tool's converters and packers mirror the tests' (the tool may not
 * link them): the same bits for every fp32 class, and the same storage. */
Test(bench_storage, converters_and_packers_match_the_tests)
{
    char seedbuf[32];
    test_rng r = test_rng_seed((uint64_t)atoll(fresh_seed(seedbuf, sizeof seedbuf) + 7));
    static const float specials[] = {0.0f, -0.0f, 1.0f, -2.5f, 65504.0f, 65520.0f, 1e-8f,
                                     6.1e-5f, 5.96e-8f, 3.0e38f, INFINITY, -INFINITY, NAN};
    for (size_t i = 0; i < 200000 + sizeof specials / sizeof specials[0]; i++) {
        float f;
        if (i < sizeof specials / sizeof specials[0]) {
            f = specials[i];
        } else {
            uint32_t u = (uint32_t)test_rng_next(&r);
            memcpy(&f, &u, sizeof f);
        }
        cr_assert_eq(bench_f32_to_f16(f), test_f32_to_f16(f), "%a (%s)", (double)f, seedbuf);
        cr_assert_eq(bench_f32_to_bf16(f), test_f32_to_bf16(f), "%a (%s)", (double)f, seedbuf);
        uint16_t h = (uint16_t)i;
        float a = bench_f16_to_f32(h), b = test_f16_to_f32(h);
        cr_assert(!memcmp(&a, &b, sizeof a), "f16 %#x", h);
        a = bench_bf16_to_f32(h), b = test_bf16_to_f32(h);
        cr_assert(!memcmp(&a, &b, sizeof a), "bf16 %#x", h);
    }
    const int64_t dims[4] = {2, 3, 4, 5};
    for (int t = 0; t < CLCONV_DTYPE_COUNT_; t++)
        for (int cl = 0; cl < 2; cl++) {
            float v[120], back[120];
            double dv[120];
            unsigned char mine[480], theirs[480];
            test_fill_random(&r, v, 120);
            for (int i = 0; i < 120; i++)
                dv[i] = v[i];
            bench_layout l = {{2, 3, 4, 5}, cl};
            bench_pack(v, &l, (clconv_dtype)t, mine);
            test_pack(dv, dims, cl, (clconv_dtype)t, theirs);
            size_t bytes = 120 * clconv_dtype_size((clconv_dtype)t);
            cr_expect(!memcmp(mine, theirs, bytes), "dtype %d layout %d", t, cl);
            bench_unpack(mine, &l, (clconv_dtype)t, back);
            for (int i = 0; i < 120; i++)
                cr_expect(back[i] == v[i] && v[i] == (float)dv[i], "element %d", i);
        }
}

/* The problems of args (options and descriptors) as the parser makes them. */
static void parse_problems(bench_opts *o, char **args, int n)
{
    char *argv[64];
    argv[0] = (char *)"clconv-bench";
    memcpy(argv + 1, args, (size_t)n * sizeof *argv);
    argv[n + 1] = NULL;
    int rc = bench_opts_parse(o, n + 1, argv);
    cr_assert_eq(rc, BENCH_EXIT_OK, "parse: exit %d", rc);
}

static void expect_same_problem(const bench_problem *a, const bench_problem *b, const char *line)
{
    cr_expect(!memcmp(&a->d, &b->d, sizeof a->d), "descriptor differs: %s", line);
    cr_expect(a->deconv == b->deconv && a->bias == b->bias && a->dirs == b->dirs &&
                  a->algos == b->algos, "driver, bias, dirs or algos differ: %s", line);
    cr_expect(!memcmp(&a->ops, &b->ops, sizeof a->ops), "post-ops differ: %s", line);
    cr_expect_str_eq(a->name, b->name, "%s", line);
}

/* The words sh makes of line, parsed again as the tool's arguments. */
static void reparse_line(const char *dir, const char *line, bench_opts *o)
{
    char *w[32];
    size_t n = sh_words(dir, line, w, 32);
    cr_assert_geq(n, 2, "%s", line);
    parse_problems(o, w + 1, (int)n - 1);
    for (size_t k = 0; k < n; k++)
        free(w[k]);
}

/* Repro lines carry --deconv, --dt, --stag, --wtag, --attr-post-ops and
 * fwd_b, and paste back (through sh) as the same problems. */
Test(bench_repro, data_options_paste_back)
{
    char *args[] = {"--dt=f16", "--stag=nhwc", "--wtag=ohwi", "--dir=FWD_B", "--algo=direct",
                    "--attr-post-ops=sum:0.5+relu:0.1", "mb2ic3ih224oc8oh112kh7sh2n\"conv1 'asym'\"",
                    "--reset", "--deconv", "--dt=bf16", "--dir=all", "--algo=all",
                    "g2ic4ih5oc6oh12kh3sh2ph0",
                    "--reset", "--conv", "--cfg=f32", "--dtag=nhwc", "--attr-post-ops=clip:0:6",
                    "mb1ic3ih5oc2kh3", "--dir=fwd_b", "--attr-post-ops=logistic", "--deconv",
                    "--attr-post-ops=", "mb1ic3ih5oc2kh3sh2"};
    bench_opts o;
    parse_problems(&o, args, (int)(sizeof args / sizeof args[0]));
    cr_assert_eq(o.nprobs, 4);
    char *dir = bench_test_tmpdir();
    for (size_t i = 0; i < o.nprobs; i++) {
        const bench_problem *p = &o.probs[i];
        char *line = bench_repro(&o, p, "C", p->dirs, p->algos);
        cr_assert_not_null(line);
        bench_opts back;
        reparse_line(dir, line, &back);
        cr_assert_eq(back.nprobs, 1, "%s", line);
        expect_same_problem(p, &back.probs[0], line);
        bench_opts_free(&back);
        free(line);
    }
    /* the defaults are left out */
    char *line = bench_repro(&o, &o.probs[2], "C", o.probs[2].dirs, o.probs[2].algos);
    cr_expect(strstr(line, "--stag=nhwc") && !strstr(line, "--dt=") && !strstr(line, "--wtag=") &&
              !strstr(line, "--deconv") && strstr(line, "--attr-post-ops=clip:0:6"), "%s", line);
    free(line);
    bench_opts_free(&o);
    expect_dir_empty(dir, "a repro line");
    bench_test_rmtree(dir);
}

/* The library's CLCONV_LOG call lines (host/log.c) read back through the
 * tool as the call's problem: tags, unequal padding, and the fused and
 * transposed lines log.c provides for their callers. */
void log_fused(clconv_ctx *ctx, const clconv_desc *d, clconv_algo algo, const clconv_epilogue *ep);
void log_transposed(clconv_ctx *ctx, const clconv_desc *d, clconv_algo algo, int pass,
                    int accumulate, int bias);

typedef struct log_lines {
    int n;
    char line[8][512];
} log_lines;

static void keep_line(void *user, int level, const char *msg)
{
    log_lines *l = user;
    if (level == CLCONV_LOG_CALL && l->n < 8 && !strncmp(msg, "clconv-bench ", 13))
        snprintf(l->line[l->n++], sizeof l->line[0], "%s", msg);
}

Test(bench_repro, log_lines_reproduce_the_call)
{
    char *args[] = {"--dt=f16", "--stag=nhwc", "--wtag=ohwi", "--algo=gemm", "--dir=bwd_d",
                    "mb2ic3ih12oc4oh6kh3sh2", "--reset", "--deconv", "--dt=bf16", "--dir=FWD_B",
                    "mb2ic4ih5oc3oh10kh3sh2ph1", "--reset", "--conv", "--dir=FWD_B",
                    "--algo=direct", "--attr-post-ops=sum:0.5+clip:0:6", "mb1ic3ih5oc2kh3"};
    bench_opts o;
    parse_problems(&o, args, (int)(sizeof args / sizeof args[0]));
    cr_assert_eq(o.nprobs, 3);
    clconv_ctx *ctx = test_ctx();
    log_lines l = {0};
    clconv_set_log(ctx, keep_line, &l);
    clconv_set_log_level(ctx, CLCONV_LOG_CALL);
    /* a call is logged on entry, whatever it returns (no buffers here) */
    clconv_backward_data(ctx, &o.probs[0].d, CLCONV_ALGO_GEMM, NULL, 0, NULL, 0, NULL, 0, 0,
                         NULL);
    log_transposed(ctx, &o.probs[1].d, CLCONV_ALGO_AUTO, CLCONV_PASS_FORWARD, 0, 1);
    clconv_epilogue e;
    bench_post_ops_epilogue(&o.probs[2].ops, &e);
    e.bias = (cl_mem)&e; /* only whether there is one is logged */
    log_fused(ctx, &o.probs[2].d, CLCONV_ALGO_DIRECT, &e);
    clconv_free(ctx);
    cr_assert_eq(l.n, 3, "%d lines", l.n);
    cr_expect_str_eq(l.line[0], "clconv-bench --dir=bwd_d --algo=gemm --dt=f16 --stag=nhwc "
                                "--wtag=ohwi mb2g1ic3ih12iw12oc4oh6ow6kh3kw3sh2sw2ph0pw0dh0dw0");
    cr_expect_str_eq(l.line[1], "clconv-bench --deconv --dir=fwd_b --algo=auto --dt=bf16 "
                                "mb2g1ic4ih5iw5oc3oh10ow10kh3kw3sh2sw2ph1pw1dh0dw0");
    cr_expect_str_eq(l.line[2], "clconv-bench --dir=fwd_b --algo=direct "
                                "--attr-post-ops=sum:0.5+clip:0:6 "
                                "mb1g1ic3ih5iw5oc2kh3kw3sh1sw1ph0pw0dh0dw0");
    char *dir = bench_test_tmpdir();
    for (int i = 0; i < 3; i++) {
        bench_opts back;
        reparse_line(dir, l.line[i], &back);
        cr_assert_eq(back.nprobs, 1, "%s", l.line[i]);
        expect_same_problem(&o.probs[i], &back.probs[0], l.line[i]);
        bench_opts_free(&back);
    }
    bench_opts_free(&o);
    bench_test_rmtree(dir);
}

/* One check-mode run of args; every row passes (every algorithm claims
 * every feature). */
static void expect_checks_pass(char **args, int n, int rows, const char *what)
{
    char *out;
    int rc = run_tool(args, n, &out);
    bench_summary s = summary_of(out);
    cr_expect_eq(rc, 0, "%s: exit %d:\n%.6000s", what, rc, out);
    cr_expect(s.tests == rows && s.failed == 0 && s.skipped == 0 && s.unimpl == 0 &&
                  s.passed == rows && s.not_supported == 0,
              "%s: want %d rows passing:\n%.6000s", what, rows, out);
    free(out);
}

/* fp16, bf16, NHWC / KRSC, the fused epilogue and unequal padding in
 * check mode, DIRECT and AUTO, against the float64 reference in each
 * storage type's tolerance, on fresh random inputs. */
Test(bench_check, features_against_the_reference, .timeout = 600)
{
    char seed[32];
    char *args[] = {
        "--mode=C", (char *)fresh_seed(seed, sizeof seed), "--algo=direct,auto", "--dir=all",
        "--dt=f16", "mb2ic5ih7oc3kh3ph1n\"f16\"",
        "--dt=bf16", "--stag=nhwc", "--wtag=ohwi", "mb2g2ic4ih6iw7oc6kh3kw2sh2ph1n\"bf16-nhwc\"",
        "--dt=f32", "--wtag=any", "mb1ic3ih9oc4kh3dh1ph2n\"nhwc\"",
        "--stag=any", "mb2ic3ih12oc4oh6kh3sh2n\"unequal\"",
        "--dt=f16", "--stag=nhwc", "mb1ic16oc8_ih1oh1kh3ph0_iw7ow7kw3pw1n\"unequal-f16\"",
        "--reset", "--algo=direct,auto", "--dir=FWD_B",
        "--attr-post-ops=sum:0.5+relu:0.25", "mb2ic4ih6oc5kh3ph1n\"sum-leaky\"",
        "--attr-post-ops=clip:0:3", "--dt=f16", "mb2ic4ih6oc5kh3ph1n\"clip-f16\"",
        "--attr-post-ops=logistic", "--dt=bf16", "--stag=nhwc", "mb2ic4ih6oc5kh3n\"sigmoid\"",
        "--dir=fwd", "--dt=f32", "--stag=any", "--attr-post-ops=tanh", "mb2ic4ih6oc5kh3n\"tanh\"",
        "--attr-post-ops=relu", "mb2ic3ih12oc4oh6kh3sh2n\"relu-unequal\""};
    /* 5 problems x (3 passes x 2 algorithms + bias), 5 forwards x 2 */
    expect_checks_pass(args, (int)(sizeof args / sizeof args[0]), 5 * 7 + 5 * 2, seed);
}

/* Deconvolutions (--deconv) through clconv_transposed_*: every pass, bias,
 * unequal and output padding, groups, dilation, fp16 NHWC and bf16. */
Test(bench_deconv, transposed_passes_against_the_reference, .timeout = 600)
{
    char seed[32];
    char *args[] = {
        "--mode=C", (char *)fresh_seed(seed, sizeof seed), "--deconv", "--algo=direct,auto",
        "--dir=FWD_B,bwd_d,bwd_w,bwd_b", "mb2ic4ih5oc3kh3sh2ph1n\"plain\"",
        "mb2ic4ih5oc3oh10kh3sh2ph1n\"unequal\"", "g2ic4ih5oc6oh12kh3sh2ph0n\"out-pad\"",
        "mb1ic3ih3iw5oc2kh2kw3sh2sw1dh1n\"dilated\"",
        "--dt=f16", "--stag=nhwc", "--wtag=ohwi", "mb1ic4ih4oc4oh8kh4sh2ph1n\"f16-nhwc\"",
        "--dt=bf16", "--stag=any", "--wtag=any", "mb2ic3ih4oc5kh3sh1ph1n\"bf16\""};
    expect_checks_pass(args, (int)(sizeof args / sizeof args[0]), 6 * 7, seed);
    char *out;
    char *repro[] = {"--mode=C", "--deconv", "--dir=bwd_w", "--algo=direct", "g2ic4ih5oc6oh12kh3sh2ph0"};
    cr_expect_eq(run_tool(repro, 5, &out), 0, "%s", out);
    cr_expect(strstr(out, "--deconv g2mb2ic4ih5oc6oh12kh3sh2ph0"), "%s", out);
    free(out);
}
