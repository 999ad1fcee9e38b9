/* The bench tool run in this process (its sources compiled in, like
 * test_bench_parse.c, which holds the option parser these link with):
 * repro lines that paste back through /bin/sh, exit statuses, batches that
 * never abort, --mode=I and --run-per-file, and oneDNN's benchdnn shape
 * files, which a peer's suite at ../shared/benchdnn provides. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../tools/bench/check.c"
#include "../tools/bench/demo.c"
#include "../tools/bench/passes.c"
#include "../tools/bench/peak.c"
#include "../tools/bench/peer_clblast.c"
#include "../tools/bench/peer_torch.c"
#include "../tools/bench/progress.c"
#include "../tools/bench/report.c"
#include "../tools/bench/report_fmt.c"
#include "../tools/bench/repro.c"
#include "../tools/bench/run.c"
#include "../tools/bench/session.c"
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
                                 "mb1ic3ih224oc64oh112kh7sh2\n"       /* asymmetric padding */
                                 "mb1ic3ih5oc4kh3n\"good\"\n");
    char *out;
    int rc = RUN_TOOL(&out, "--mode=C", "--dir=all", opt);
    /* the malformed line fails the run, the rest is reported, the good one runs */
    cr_expect_eq(rc, BENCH_EXIT_FAILED, "exit %d: %s", rc, out);
    cr_expect(strstr(out, "invalid: "), "%s", out);
    cr_expect(strstr(out, ":1: unrecognized text"), "%s", out);
    cr_expect(strstr(out, ":3: o"), "%s", out);
    cr_expect(strstr(out, "tests:8 passed:4 failed:0 skipped:4 unimplemented:0 unsupported:2 "
                          "invalid:1"), "%s", out);
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
    int runs; /* some problem within BENCHDNN_RUN_MAX_GFLOP (the file's first one runs) */
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
        d.n = 1; /* --mb=1 */
        c->runs |= st == BENCH_DESC_OK && clconv_flops(&d) * 1e-9 <= BENCHDNN_RUN_MAX_GFLOP;
    }
    bench_tokens_free(&t);
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
    size_t nrun = 0;
    for (size_t i = 0; i < nfiles; i++) {
        shape_count f = {0};
        count_shapes(args[nargs + i] + strlen("--batch="), &f);
        c.ok += f.ok;
        c.unsupported += f.unsupported;
        c.invalid += f.invalid;
        nrun += f.runs;
    }
    cr_log_info("benchdnn: %zu 2-D files, %zu problems, %zu unsupported; 3-D files left out:%s",
                nfiles, c.ok, c.unsupported, skipped);
    char *out;
    int rc = run_tool(args, nargs + (int)nfiles, &out);
    cr_expect_eq(c.invalid, 0, "the parser calls %zu benchdnn descriptors invalid", c.invalid);
    cr_expect_eq(rc, 0, "exit %d:\n%.4000s", rc, strstr(out, "FAILED") ? strstr(out, "FAILED") : out);
    const char *sum = strstr(out, "tests:");
    cr_assert_not_null(sum, "no summary:\n%.4000s", out);
    int tests, passed, failed, skipped_rows, unimpl;
    cr_assert_eq(sscanf(sum, "tests:%d passed:%d failed:%d skipped:%d unimplemented:%d", &tests,
                        &passed, &failed, &skipped_rows, &unimpl), 5, "%s", sum);
    cr_expect_eq((size_t)tests, 4 * c.ok, "%s", sum);
    cr_expect_eq(failed, 0, "%s", sum);
    cr_expect_eq(unimpl, 0, "%s", sum);
    cr_expect_eq((size_t)passed, 4 * nrun, "%s", sum);
    char want[64];
    snprintf(want, sizeof want, "unsupported:%zu", c.unsupported);
    cr_expect(strstr(sum, want), "%s, want %s", sum, want);
    free(out);
    for (size_t i = 0; i < nfiles; i++)
        free(args[nargs + i]);
}
