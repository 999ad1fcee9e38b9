/* clconv-bench's PyTorch peer (--peer=torch): the process the bench runs,
 * what it is given (the run's descriptors, passes, warm-up, repetitions
 * and thread count), its times joining the rows, and a machine without
 * PyTorch, or a script that fails, leaving the run to go on.  The script is
 * played by a shell stand-in (bench_test_fake_torch), so no test needs
 * PyTorch; tools/torch_peer.py itself is checked through --dry-run: it
 * reads every descriptor the bench gives it as the bench means it. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../tools/bench/desc_parse.h"
#include "../tools/bench/options.h"

/* In test_bench_parse.c and test_bench_run.c. */
char *bench_test_slurp(const char *path);
char *bench_test_tmpdir(void);
void bench_test_rmtree(char *dir);
int bench_test_run_tool(char **args, int nargs, char **out);
char *bench_test_fake_torch(const char *dir, const char *name, int status);

static char *opt(const char *name, const char *value)
{
    char *s;
    cr_assert(asprintf(&s, "%s=%s", name, value) > 0);
    return s;
}

/* The tool with the stand-in for the script (status as there) on two small
 * problems, fwd and bwd_d; *args_seen is what the stand-in was given. */
static int run_with_fake(int status, const char *fmt, char **out, char **args_seen)
{
    char *dir = bench_test_tmpdir();
    char *fake = bench_test_fake_torch(dir, "fake.sh", status);
    char *script = opt("--torch-script", fake);
    int rc = bench_test_run_tool((char *[]){"--mode=P", "--reps=3", "--warmup=1", "--mb=3",
                                            "--peak-gflops=100", "--peer=torch",
                                            "--python=/bin/sh", script, (char *)fmt,
                                            "--dir=fwd,bwd_d", "ic3ih6oc4kh3ph1n\"a\"",
                                            "g2ic4ih5oc2kh1n\"b\""}, 12, out);
    char args_file[400];
    snprintf(args_file, sizeof args_file, "%s.args", fake);
    *args_seen = access(args_file, R_OK) == 0 ? bench_test_slurp(args_file) : strdup("");
    free(script);
    free(fake);
    bench_test_rmtree(dir);
    return rc;
}

Test(bench_peers, torch_is_given_the_runs_settings_and_its_times_join_the_rows)
{
    char *out, *seen;
    int rc = run_with_fake(0, "--csv", &out, &seen);
    cr_expect_eq(rc, 0, "exit %d: %s", rc, out);
    cr_expect(strstr(out, "peer torch: fake PyTorch CPU (oneDNN)"), "%s", out);
    /* one argument a line, as the stand-in wrote them */
    char want[400];
    cr_expect(strstr(seen, "--device\ncpu\n"), "%s", seen);
    cr_expect(strstr(seen, "--reps\n3\n--warmup\n1\n"), "%s", seen);
    cr_expect(strstr(seen, "--passes\nfwd,bwd_d\n"), "%s", seen);
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    snprintf(want, sizeof want, "--threads\n%ld\n", cores);
    cr_expect(strstr(seen, want), "PoCL's thread count (%ld): %s", cores, seen);
    /* the descriptors as the bench prints them, --mb applied */
    cr_expect(strstr(seen, "--\nmb3ic3ih6oc4oh6kh3ph1\ng2mb3ic4ih5oc2oh5kh1ph0\n"), "%s", seen);
    /* the stand-in's 0.5 ms on every row, its ratio beside it */
    const char *row = strstr(out, "\n0,\"a\",");
    cr_assert_not_null(row, "%s", out);
    cr_expect(strstr(row, ",0.5000,"), "%s", row);
    cr_expect(strstr(out, "geomean torch_ms/clconv_ms (bwd_d/auto)"), "%s", out);
    free(out);
    free(seen);
}

/* PyTorch missing (the script's status 3) or the script failing: the
 * reason is said, no torch columns, and the run goes on and passes. */
Test(bench_peers, a_peer_that_cannot_run_is_said_and_the_run_goes_on)
{
    static const struct { int status; const char *said; } cases[] = {
        {3, "peer torch: not run: no Python here imports torch (fake: No module named 'torch')"},
        {1, "exited with status 1: RuntimeError: fake failure"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *out, *seen;
        int rc = run_with_fake(cases[i].status, "--reps=3", &out, &seen);
        cr_expect_eq(rc, 0, "exit %d: %s", rc, out);
        cr_expect(strstr(out, cases[i].said), "%s", out);
        cr_expect(!strstr(out, "torch_ms"), "no torch columns without times: %s", out);
        cr_expect(strstr(out, "tests:4 passed:4"), "%s", out);
        free(out);
        free(seen);
    }
}

Test(bench_peers, a_missing_script_is_said)
{
    char *out;
    int rc = bench_test_run_tool((char *[]){"--reps=1", "--warmup=0", "--peak-gflops=100",
                                            "--peer=torch", "--torch-script=/no/such/peer.py",
                                            "ic3ih5oc4kh3"}, 6, &out);
    cr_expect_eq(rc, 0, "exit %d: %s", rc, out);
    cr_expect(strstr(out, "peer torch: not run: /no/such/peer.py not found"), "%s", out);
    free(out);
}

/* ---- tools/torch_peer.py reads the bench's descriptors as the bench does ---- */

static const char *find_python(void)
{
    static const char *const cands[] = {"/usr/bin/python3", "/usr/local/bin/python3"};
    for (size_t i = 0; i < 2; i++)
        if (access(cands[i], X_OK) == 0)
            return cands[i];
    return NULL;
}

Test(bench_peers, torch_peer_reads_the_descriptors_as_the_bench_does)
{
    const char *python = find_python();
    if (!python)
        cr_skip_test("no python3 to run tools/torch_peer.py --dry-run with");
    /* every shape feature: groups, rectangles, strides, padding, dilation, 1-D */
    static const char *const descs[] = {
        "mb2ic64ih56oc64oh56kh3ph1", "g2mb2ic8ih9oc12oh9kh3ph1",
        "mb2ic4ih17iw13oc6oh15ow7kh3kw5sh1sw2ph1pw2dh1dw0", "ic8ih1iw32oc8oh1ow32kh1kw5sh1sw1ph0pw2",
        "mb3ic3ih224oc64oh112kh7sh2ph3", "g32ic32ih28oc32oh28kh3ph1", "ic8ih17oc8oh8kh3sh2ph2dh2",
    };
    size_t n = sizeof descs / sizeof descs[0];
    char cmd[2048];
    int len = snprintf(cmd, sizeof cmd, "%s tools/torch_peer.py --dry-run", python);
    clconv_desc d[8];
    for (size_t i = 0; i < n; i++) {
        char err[200], printed[400];
        cr_assert_eq(bench_parse_desc(descs[i], &d[i], NULL, 0, err, sizeof err), BENCH_DESC_OK);
        /* what the bench hands the script is its own printing of the descriptor */
        bench_format_desc(&d[i], NULL, printed, sizeof printed);
        len += snprintf(cmd + len, sizeof cmd - (size_t)len, " '%s'", printed);
    }
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p);
    for (size_t i = 0; i < n; i++) {
        long long v[17];
        int got = fscanf(p, " %lld (%lld, %lld, %lld, %lld) (%lld, %lld, %lld, %lld) (%lld, %lld) "
                            "(%lld, %lld) (%lld, %lld) %lld", &v[0], &v[1], &v[2], &v[3], &v[4],
                         &v[5], &v[6], &v[7], &v[8], &v[9], &v[10], &v[11], &v[12], &v[13],
                         &v[14], &v[15]);
        cr_assert_eq(got, 16, "problem %zu: torch_peer.py printed something else", i);
        const clconv_desc *e = &d[i];
        long long want[16] = {(long long)i, e->n, e->c, e->h, e->w, e->k, e->c / e->groups, e->r,
                              e->s, e->stride_h, e->stride_w, e->pad_h, e->pad_w, e->dilation_h,
                              e->dilation_w, e->groups};
        for (int k = 0; k < 16; k++)
            cr_expect_eq(v[k], want[k], "%s: conv2d argument %d is %lld, want %lld", descs[i], k,
                         v[k], want[k]);
    }
    cr_expect_eq(pclose(p), 0);
}
