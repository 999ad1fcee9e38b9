/* clconv-bench --demo on small problem sets (the real ones take a minute):
 * its parts, its closing summary (per pass the GFLOP/s, the peers' ratios,
 * the peak fraction, the first calls' cost; the caches cold or warm;
 * PASSED or FAILED), and the progress line, which shows on a terminal
 * only. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../tools/bench/demo.h"

/* In test_bench_parse.c and test_bench_run.c. */
char *bench_test_tmpdir(void);
void bench_test_rmtree(char *dir);
int bench_test_run_tool(char **args, int nargs, char **out);
int bench_test_run_fds(char **args, int nargs, const bench_demo_set *set, int err_fd,
                       char **out);
char *bench_test_fake_torch(const char *dir, const char *name, int status);

static const char *const check_set[] = {"mb1ic3ih6oc4kh3ph1n\"c1\"",
                                        "g2mb1ic4ih5oc2kh3sh2ph1n\"c2\""};
static const char *const timed_set[] = {"mb8ic8ih9oc8kh3ph1n\"t1\""};
static const bench_demo_set small = {check_set, 2, "check.txt", timed_set, 1, "timed.txt"};

/* The demo on the small set with the PyTorch stand-in and a chart; extra
 * arguments after the common ones. */
static int demo(const char *dir, char **extra, int nextra, char **out)
{
    char *fake = bench_test_fake_torch(dir, "fake.sh", 0), *script, *svg;
    cr_assert(asprintf(&script, "--torch-script=%s", fake) > 0);
    cr_assert(asprintf(&svg, "--svg=%s/demo.svg", dir) > 0);
    char *args[16] = {"--demo", "--reps=2", "--warmup=0", "--peak-gflops=100",
                      "--python=/bin/sh", script, svg};
    int n = 7;
    for (int i = 0; i < nextra && n < 16; i++)
        args[n++] = extra[i];
    int rc = bench_test_run_fds(args, n, &small, -1, out);
    free(fake);
    free(script);
    free(svg);
    return rc;
}

Test(bench_demo, parts_and_summary)
{
    char *dir = bench_test_tmpdir(), *out;
    int rc = demo(dir, NULL, 0, &out);
    cr_expect_eq(rc, 0, "exit %d: %s", rc, out);
    static const char *const want[] = {
        "== 1. correctness: 2 edge-case layers (check.txt), every pass and algorithm",
        "tests:32 passed:29 failed:0",  /* 2 layers x (3 passes x 5 algorithms + bias) */
        "== 2. speed: 1 layers (timed.txt) at mb2 (small on a CPU; mb32 on a GPU), "
        "fwd,bwd_d,bwd_w, auto",
        "peer torch: fake PyTorch CPU (oneDNN)",
        "repro: clconv-bench --mode=P --dir=fwd,bwd_d,bwd_w --algo=auto --peer=clblast,torch "
        "--python=/bin/sh",
        "== summary: clconv on 1 layers at mb2, geometric means",
        "GFLOP/s  of peak",
        "PyTorch (oneDNN)",
        "CLBlast: unavailable: built without CLBlast", /* the tests build without it */
        "peak: the FMA loop's 100 GFLOP/s",
        /* WINOGRAD runs 3x3 stride-1 layers only: the rest are not for it */
        "correctness: 29 of 32 checks passed, 0 failed, 0 skipped, 3 not for their algorithm "
        "(2 edge-case layers",
        "/demo.svg\n",
        "\nPASSED in ",
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        cr_expect(strstr(out, want[i]), "no \"%s\" in:\n%s", want[i], out);
    /* a summary line per pass, with the peer's ratio and the first calls */
    static const char *const passes[] = {"   fwd    auto ", "   bwd_d  auto ", "   bwd_w  auto "};
    const char *sum = strstr(out, "== summary");
    cr_assert_not_null(sum);
    for (size_t i = 0; i < 3; i++) {
        const char *line = strstr(sum, passes[i]);
        cr_assert_not_null(line, "no summary line %s:\n%s", passes[i], out);
        const char *end = strchr(line, '\n');
        cr_expect(memchr(line, 'x', (size_t)(end - line)) && memchr(line, '%', (size_t)(end - line))
                  && strstr(line, " s\n") == end - 2, "%.*s", (int)(end - line), line);
    }
    /* no per-problem repro lines and no geomean lines: the summary has it */
    cr_expect(!strstr(out, "geomean "), "%s", out);
    free(out);
    bench_test_rmtree(dir);
}

Test(bench_demo, mode_picks_the_parts)
{
    char *dir = bench_test_tmpdir(), *out;
    int rc = demo(dir, (char *[]){"--mode=C"}, 1, &out);
    cr_expect_eq(rc, 0, "exit %d: %s", rc, out);
    cr_expect(strstr(out, "== 1. correctness") && !strstr(out, "== 2. speed"), "%s", out);
    cr_expect(strstr(out, "\nPASSED in "), "%s", out);
    free(out);
    rc = demo(dir, (char *[]){"--mode=P", "--mb=3", "--algo=gemm", "--peer=none"}, 4, &out);
    cr_expect_eq(rc, 0, "exit %d: %s", rc, out);
    cr_expect(!strstr(out, "== 1. correctness") && strstr(out, "at mb3 (--mb)"), "%s", out);
    const char *sum = strstr(out, "== summary");
    cr_expect(sum && strstr(sum, "   fwd    gemm "), "%s", out);
    cr_expect(!strstr(out, "PyTorch") && !strstr(out, "correctness:"), "%s", out);
    free(out);
    bench_test_rmtree(dir);
}

/* On PoCL the library leaves compiled kernels to PoCL's own cache by
 * default; with CLCONV_CACHE=1 the first run on an empty cache directory
 * compiles and saves, the second loads. */
Test(bench_demo, cold_then_warm_caches)
{
    char *dir = bench_test_tmpdir(), *out, cache[300];
    snprintf(cache, sizeof cache, "%s/cache", dir);
    setenv("CLCONV_CACHE_DIR", cache, 1); /* this test's process only */
    unsetenv("CLCONV_CACHE");
    int rc = demo(dir, (char *[]){"--mode=P", "--peer=none"}, 2, &out);
    cr_expect_eq(rc, 0, "exit %d: %s", rc, out);
    cr_expect(strstr(out, " s in all; ") &&
              strstr(out, " kernel programs built from source; the driver's own cache (PoCL's "
                          "POCL_CACHE_DIR) keeps their compiled kernels for the next run"),
              "%s", out);
    free(out);
    setenv("CLCONV_CACHE", "1", 1);
    rc = demo(dir, (char *[]){"--mode=P", "--peer=none"}, 2, &out);
    cr_expect_eq(rc, 0, "exit %d: %s", rc, out);
    cr_expect(strstr(out, "   first calls: ") && strstr(out, " s in all; caches cold: ") &&
              strstr(out, " kernel programs compiled; the next run loads them"), "%s", out);
    free(out);
    rc = demo(dir, (char *[]){"--mode=P", "--peer=none"}, 2, &out);
    cr_expect_eq(rc, 0, "exit %d: %s", rc, out);
    cr_expect(strstr(out, " s in all; caches warm: ") &&
              strstr(out, " kernel programs loaded from the disk cache, none compiled"), "%s", out);
    free(out);
    unsetenv("CLCONV_CACHE");
    bench_test_rmtree(dir);
}

Test(bench_demo, a_failure_says_failed)
{
    char *dir = bench_test_tmpdir(), *out;
    int rc = demo(dir, (char *[]){"--mode=P", "--peer=none", "--svg=/no/such/dir/demo.svg"}, 3,
                  &out);
    cr_expect_eq(rc, 1, "exit %d: %s", rc, out);
    cr_expect(strstr(out, "chart: /no/such/dir/demo.svg (not written)"), "%s", out);
    cr_expect(strstr(out, "\nFAILED in "), "%s", out);
    free(out);
    bench_test_rmtree(dir);
}

/* ---- the progress line ---- */

static int open_pty(int *slave)
{
    int m = posix_openpt(O_RDWR | O_NOCTTY);
    cr_assert_geq(m, 0);
    cr_assert_eq(grantpt(m), 0);
    cr_assert_eq(unlockpt(m), 0);
    *slave = open(ptsname(m), O_RDWR | O_NOCTTY);
    cr_assert_geq(*slave, 0);
    return m;
}

/* What the tool wrote to a terminal on its stderr (small: the terminal
 * holds it until read). */
static char *stderr_on_a_terminal(char **args, int nargs)
{
    int slave, m = open_pty(&slave);
    char *out;
    bench_test_run_fds(args, nargs, NULL, slave, &out);
    free(out);
    close(slave);
    fcntl(m, F_SETFL, O_NONBLOCK);
    char *buf = calloc(1, 16384);
    size_t n = 0;
    for (ssize_t k; n < 16383 && (k = read(m, buf + n, 16383 - n)) > 0;)
        n += (size_t)k;
    close(m);
    return buf;
}

Test(bench_demo, progress_on_a_terminal_only)
{
    char *args[] = {"--mode=C", "--dir=all", "ic3ih5oc4kh3n\"p\"", "ic2ih4oc2kh1n\"q\""};
    char *tty = stderr_on_a_terminal(args, 4);
    cr_expect(strstr(tty, "\r[1/8] p fwd auto\033[K"), "%s", tty);
    cr_expect(strstr(tty, "\r[8/8] q bwd_b\033[K"), "%s", tty);
    size_t n = strlen(tty);
    cr_expect(n >= 4 && strcmp(tty + n - 4, "\r\033[K") == 0, "the line is erased at the end");
    free(tty);
    char *csv_args[] = {"--mode=C", "--csv", "ic3ih5oc4kh3n\"p\""};
    tty = stderr_on_a_terminal(csv_args, 3);
    cr_expect(!strstr(tty, "[1/"), "no progress with --csv: %s", tty);
    free(tty);
    char *out;
    bench_test_run_tool(args, 4, &out);
    cr_expect(!strstr(out, "[1/") && !strchr(out, '\r'), "none into a file: %s", out);
    free(out);
}
