/* Find (host/find.c): AUTO's on-device tuning.  It picks one of its
 * candidates and the answer agrees with the float64 reference; a layer is
 * timed once per context, and once per cache directory (later contexts
 * read the record); a damaged or foreign record is ignored and the layer
 * timed again; off by default, and for named algorithms; a caller's queue
 * without profiling is timed by the wall clock; the caller's output is
 * written once (accumulate adds the gradient exactly once).  And every
 * candidate find may choose runs here against the reference, so find can
 * never choose a configuration the suite does not check.
 *
 * Records live in the suite's cache directory (CLCONV_CACHE_DIR, which
 * `make test` keeps under build/ so that the candidates' programs are
 * compiled once); each test has layers of its own (its own minibatch) and
 * deletes their records first, so tests running in parallel or a previous
 * run's records change nothing. */
#include <criterion/criterion.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "tiled.h"
#include "util.h"

/* ---- log lines --------------------------------------------------------- */

typedef struct logcap {
    int timings, reads, ignored, wall, find_lines;
    char choice[64];            /* the last timing's "-> name" */
} logcap;

static void on_log(void *user, int level, const char *msg)
{
    (void)level;
    logcap *lc = user;
    if (strncmp(msg, "find: ", 6) != 0)
        return;
    lc->find_lines++;
    lc->reads += strstr(msg, ": read ") != NULL;
    lc->ignored += strstr(msg, ": ignored ") != NULL;
    lc->wall += strstr(msg, "wall clock") != NULL;
    const char *arrow = strstr(msg, " runs in ") ? strstr(msg, " -> ") : NULL;
    if (arrow) {
        lc->timings++;
        snprintf(lc->choice, sizeof lc->choice, "%s", arrow + 4);
        lc->choice[strcspn(lc->choice, " ")] = 0;
    }
}

static int is_candidate(const char *name)
{
    for (int c = 0; c < find_ncands; c++) {
        char n[64];
        const char *row = find_cands[c].row;
        snprintf(n, sizeof n, "%s%s%s", clconv_algo_name(find_cands[c].algo), row ? "/" : "",
                 row ? row : "");
        if (!strcmp(n, name))
            return 1;
    }
    return 0;
}

/* ---- contexts and records ------------------------------------------------ */

/* The suite's cache directory, or one of this process's own. */
static void cache_env(void)
{
    unsetenv("CLCONV_CACHE");
    unsetenv("CLCONV_TUNING");
    unsetenv("CLCONV_FIND");
    unsetenv("CLCONV_MATH"); /* records of fp32 arithmetic */
    unsetenv("CLCONV_TF32_EMULATE");
    if (getenv("CLCONV_CACHE_DIR"))
        return;
    static char dir[] = "/tmp/clconv-test-find-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    setenv("CLCONV_CACHE_DIR", dir, 1);
}

/* A context with find on (mode), logging into lc. */
static clconv_ctx *find_ctx(logcap *lc, int mode)
{
    cache_env();
    clconv_ctx *ctx = test_ctx();
    memset(lc, 0, sizeof *lc);
    cr_assert_eq(clconv_set_log(ctx, on_log, lc), CLCONV_OK);
    cr_assert_eq(clconv_set_log_level(ctx, CLCONV_LOG_CALL), CLCONV_OK);
    cr_assert_eq(clconv_set_find(ctx, mode), CLCONV_OK);
    cr_assert_not_null(ctx->cache_dir, "the tests need the disk cache");
    return ctx;
}

static void record_path(clconv_ctx *ctx, const clconv_desc *d, int pass, char *path, size_t cap)
{
    cache_id id;
    cr_assert_eq(find_record_id(ctx, d, (clconv_pass)pass, &id), CLCONV_OK);
    snprintf(path, cap, "%s/%s", ctx->cache_dir, id.file);
    cache_id_free(&id);
}

static void drop_records(clconv_ctx *ctx, const clconv_desc *d)
{
    char path[PATH_MAX];
    for (int pass = 0; pass < CLCONV_PASS_COUNT_; pass++) {
        record_path(ctx, d, pass, path, sizeof path);
        unlink(path);
    }
}

/* A valid entry (right identity, checksum) holding `payload`. */
static void plant_record(clconv_ctx *ctx, const clconv_desc *d, int pass, const char *payload)
{
    cache_id id;
    cr_assert_eq(find_record_id(ctx, d, (clconv_pass)pass, &id), CLCONV_OK);
    cr_assert_eq(cache_entry_store(ctx->cache_dir, &id, payload, strlen(payload)), 0);
    cache_id_free(&id);
}

/* ---- one pass against the reference --------------------------------------- */

/* A layer of the tests: 16 -> 40 channels, 3x3, padding 1, minibatch n
 * (each test its own, so each its own records).  The minibatch changes no
 * program's build options, and this is the last of cand_layers below (and
 * of test_tiled.c's and test_tuning.c's layers), so the suite compiles the
 * candidates' programs for it once. */
static clconv_desc test_layer(int64_t n)
{
    clconv_desc d;
    clconv_desc_init(&d, n, 16, 12, 12, 40, 3, 3);
    d.pad_h = d.pad_w = 1;
    return d;
}

/* A context with find on (mode), and *d the layer of minibatch n with no
 * record stored for it. */
static clconv_ctx *fresh_ctx(logcap *lc, int mode, int64_t n, clconv_desc *d)
{
    clconv_ctx *ctx = find_ctx(lc, mode);
    *d = test_layer(n);
    drop_records(ctx, d);
    return ctx;
}

/* Run pass of d with algo on integer inputs: the output starts as NaN, or
 * as integers that accumulate must add the gradient to once.  Returns the
 * relative error against the reference (accumulating: of what was added,
 * which it expects within TEST_TOL). */
static double run_pass(clconv_ctx *ctx, const clconv_desc *d, int pass, clconv_algo algo, int acc)
{
    const size_t xe = test_x_elems(d), we = test_w_elems(d), ye = test_y_elems(d);
    const size_t na = pass == 1 ? ye : xe, nb = pass == 2 ? ye : we;
    const size_t no = pass == 0 ? ye : pass == 1 ? xe : we;
    test_rng rng = test_rng_seed(800 + (uint64_t)pass + (uint64_t)d->n * 8);
    float *a = test_alloc(na * sizeof(float)), *b = test_alloc(nb * sizeof(float));
    float *out = test_alloc(no * sizeof(float)), *want = test_alloc(no * sizeof(float));
    double *da = test_alloc(na * sizeof(double)), *db = test_alloc(nb * sizeof(double));
    double *ref = test_alloc(no * sizeof(double));
    test_fill_int(&rng, a, na, -2, 2);
    test_fill_int(&rng, b, nb, -2, 2);
    if (acc) {
        test_fill_int(&rng, out, no, -3, 3);
        memcpy(want, out, no * sizeof(float));
    } else {
        test_poison(out, no);
    }
    test_to_double(a, da, na);
    test_to_double(b, db, nb);
    clconv_status st = test_host_pass(ctx, d, pass, algo, a, b, out, acc, da, db, ref);
    char rs[CLCONV_DESC_STRING_MAX];
    cr_assert_eq(st, CLCONV_OK, "%s pass %d: %s: %s", test_desc_str(d, rs, sizeof rs), pass,
                 clconv_status_name(st), clconv_last_error(ctx));
    double err = 0;
    if (acc) {
        /* what was added to the start, against the reference: once is within
         * fp32's bar, twice or not at all a whole gradient off.  Not exact
         * equality: the chosen algorithm may be WINOGRAD, whose F(4x4)
         * transforms (1/6, 1/24) round even on integers */
        float *added = test_alloc(no * sizeof(float));
        for (size_t i = 0; i < no; i++)
            added[i] = out[i] - want[i];
        err = test_rel_err(added, ref, no);
        cr_expect_leq(err, TEST_TOL,
                      "pass %d: the gradient was not added exactly once (rel err %g)", pass, err);
        free(added);
    } else {
        err = test_rel_err(out, ref, no);
    }
    free(a), free(b), free(out), free(want), free(da), free(db), free(ref);
    return err;
}

/* ---- find ---------------------------------------------------------------------- */

Test(find, picks_a_candidate_that_agrees_with_the_reference, .timeout = 300)
{
    logcap lc;
    clconv_desc d;
    clconv_ctx *ctx = fresh_ctx(&lc, CLCONV_FIND_ON, 1, &d);
    for (int pass = 0; pass < 3; pass++) {
        const unsigned runs = ctx->find.stats.runs;
        double err = run_pass(ctx, &d, pass, CLCONV_ALGO_AUTO, 0);
        cr_expect(err <= TEST_TOL, "pass %d: relative error %g", pass, err);
        cr_expect_eq(lc.timings, pass + 1, "pass %d was not timed", pass);
        cr_expect(is_candidate(lc.choice), "pass %d: find chose '%s'", pass, lc.choice);
        /* the cost bound: a warm-up and at most 3 runs per candidate */
        cr_expect(ctx->find.stats.runs - runs <= (unsigned)find_ncands * 4, "%u runs",
                  ctx->find.stats.runs - runs);
    }
    cr_expect_eq(ctx->find.stats.timed, 3);
    cr_expect_eq(ctx->find.stats.stored, 3);
    clconv_free(ctx);
}

Test(find, a_second_call_of_the_layer_times_nothing, .timeout = 300)
{
    logcap lc;
    clconv_desc d;
    clconv_ctx *ctx = fresh_ctx(&lc, CLCONV_FIND_ON, 2, &d);
    cr_expect(run_pass(ctx, &d, 0, CLCONV_ALGO_AUTO, 0) <= TEST_TOL);
    const unsigned runs = ctx->find.stats.runs;
    cr_expect(runs > 0);
    cr_expect(run_pass(ctx, &d, 0, CLCONV_ALGO_AUTO, 0) <= TEST_TOL);
    cr_expect_eq(ctx->find.stats.runs, runs, "the second call timed again");
    cr_expect_eq(ctx->find.stats.timed, 1);
    cr_expect_eq(ctx->find.stats.remembered, 1);
    cr_expect_eq(lc.timings, 1);
    clconv_free(ctx);
}

Test(find, a_new_context_reads_the_stored_record, .timeout = 300)
{
    logcap lc;
    clconv_desc d;
    clconv_ctx *ctx = fresh_ctx(&lc, CLCONV_FIND_ON, 3, &d);
    cr_expect(run_pass(ctx, &d, 2, CLCONV_ALGO_AUTO, 0) <= TEST_TOL);
    cr_expect_eq(ctx->find.stats.stored, 1);
    clconv_free(ctx);

    ctx = find_ctx(&lc, CLCONV_FIND_ON);
    cr_expect(run_pass(ctx, &d, 2, CLCONV_ALGO_AUTO, 0) <= TEST_TOL);
    cr_expect_eq(ctx->find.stats.loaded, 1);
    cr_expect_eq(ctx->find.stats.timed, 0);
    cr_expect_eq(ctx->find.stats.runs, 0, "a stored layer was timed again");
    cr_expect_eq(lc.reads, 1);
    /* forgetting the context's choices reads the record again */
    cr_assert_eq(clconv_find_clear(ctx), CLCONV_OK);
    cr_expect(run_pass(ctx, &d, 2, CLCONV_ALGO_AUTO, 0) <= TEST_TOL);
    cr_expect_eq(ctx->find.stats.loaded, 2);
    cr_expect_eq(ctx->find.stats.runs, 0);
    clconv_free(ctx);
}

/* One context running forward of d; what its find did. */
static find_stats forward_once(const clconv_desc *d, int mode, logcap *lc)
{
    clconv_ctx *ctx = find_ctx(lc, mode);
    cr_expect(run_pass(ctx, d, 0, CLCONV_ALGO_AUTO, 0) <= TEST_TOL);
    find_stats s = ctx->find.stats;
    clconv_free(ctx);
    return s;
}

static void expect_timed_again(const clconv_desc *d, const char *what)
{
    logcap lc;
    find_stats s = forward_once(d, CLCONV_FIND_ON, &lc);
    cr_expect_eq(s.rejected, 1, "%s: not rejected", what);
    cr_expect_eq(s.loaded, 0, "%s: trusted", what);
    cr_expect_eq(s.timed, 1, "%s: not timed again", what);
    cr_expect_eq(s.stored, 1, "%s: not replaced", what);
    cr_expect_eq(lc.ignored, 1, "%s: not logged", what);
    s = forward_once(d, CLCONV_FIND_ON, &lc); /* the replacement is good */
    cr_expect_eq(s.loaded, 1, "%s: the replacement was not read", what);
    cr_expect_eq(s.timed, 0);
}

Test(find, a_damaged_or_foreign_record_is_ignored_and_found_again, .timeout = 300)
{
    logcap lc;
    clconv_desc d;
    clconv_ctx *ctx = fresh_ctx(&lc, CLCONV_FIND_ON, 4, &d);
    const clconv_desc other = test_layer(5);
    char path[PATH_MAX];
    record_path(ctx, &d, 0, path, sizeof path);
    clconv_free(ctx);
    forward_once(&d, CLCONV_FIND_ON, &lc);

    FILE *f = fopen(path, "r+b"); /* one bit of the payload flipped */
    cr_assert_not_null(f, "no record at %s", path);
    cr_assert_eq(fseek(f, -2, SEEK_END), 0);
    int ch = fgetc(f);
    cr_assert_eq(fseek(f, -2, SEEK_END), 0);
    fputc(ch ^ 1, f);
    fclose(f);
    expect_timed_again(&d, "a damaged record");

    /* well-formed entries (identity and checksum right) that say the wrong thing */
    char key[CLCONV_DESC_STRING_MAX + 32], payload[512];
    clconv_desc_string(&d, key, sizeof key);
    ctx = find_ctx(&lc, CLCONV_FIND_ON);
    snprintf(payload, sizeof payload, "%s fwd fp32\ngemm no-such-row 1\n", key);
    plant_record(ctx, &d, 0, payload);
    clconv_free(ctx);
    expect_timed_again(&d, "a record naming no candidate");

    clconv_desc_string(&other, key, sizeof key);
    ctx = find_ctx(&lc, CLCONV_FIND_ON);
    snprintf(payload, sizeof payload, "%s fwd fp32\ngemm cpu 1\n", key);
    plant_record(ctx, &d, 0, payload);
    clconv_free(ctx);
    expect_timed_again(&d, "another layer's record");
}

Test(find, is_off_by_default_and_for_named_algorithms, .timeout = 300)
{
    logcap lc;
    cache_env();
    clconv_ctx *ctx = test_ctx();
    cr_expect_eq(ctx->find.mode, CLCONV_FIND_OFF);
    memset(&lc, 0, sizeof lc);
    clconv_set_log(ctx, on_log, &lc);
    clconv_set_log_level(ctx, CLCONV_LOG_DEBUG);
    const clconv_desc d = test_layer(6);
    drop_records(ctx, &d);
    for (int pass = 0; pass < 3; pass++)
        cr_expect(run_pass(ctx, &d, pass, CLCONV_ALGO_AUTO, 0) <= TEST_TOL);
    clconv_set_find(ctx, CLCONV_FIND_ON);
    cr_expect(run_pass(ctx, &d, 0, CLCONV_ALGO_GEMM, 0) <= TEST_TOL);
    cr_expect(run_pass(ctx, &d, 1, CLCONV_ALGO_DIRECT, 0) <= TEST_TOL);
    const find_stats zero = {0};
    cr_expect_eq(memcmp(&ctx->find.stats, &zero, sizeof zero), 0, "find did something");
    cr_expect_eq(lc.find_lines, 0);
    clconv_free(ctx);
}

Test(find, the_environment_turns_it_on_and_reset_ignores_records, .timeout = 300)
{
    static const struct { const char *v; int mode; } vals[] = {
        {"", CLCONV_FIND_OFF}, {"0", CLCONV_FIND_OFF}, {"off", CLCONV_FIND_OFF},
        {"FALSE", CLCONV_FIND_OFF}, {"1", CLCONV_FIND_ON}, {"on", CLCONV_FIND_ON},
        {"reset", CLCONV_FIND_RESET}, {"RESET", CLCONV_FIND_RESET},
    };
    cache_env();
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        setenv("CLCONV_FIND", vals[i].v, 1);
        clconv_ctx *ctx = test_ctx();
        cr_expect_eq(ctx->find.mode, vals[i].mode, "CLCONV_FIND=%s", vals[i].v);
        clconv_free(ctx);
    }
    logcap lc;
    clconv_desc d;
    clconv_ctx *ctx = fresh_ctx(&lc, CLCONV_FIND_ON, 7, &d);
    clconv_free(ctx);
    find_stats s = forward_once(&d, CLCONV_FIND_ON, &lc);
    cr_expect_eq(s.stored, 1);
    s = forward_once(&d, CLCONV_FIND_RESET, &lc);
    cr_expect_eq(s.loaded, 0, "reset read the record");
    cr_expect_eq(s.timed, 1);
    cr_expect_eq(s.stored, 1, "reset did not replace the record");
}

Test(find, a_queue_without_profiling_is_timed_by_the_wall_clock, .timeout = 300)
{
    cache_env();
    clconv_ctx *dev = test_ctx();
    cl_int err;
    cl_device_id device = clconv_cl_device(dev);
    cl_context cl = clCreateContext(NULL, 1, &device, NULL, NULL, &err);
    cr_assert_eq(err, CL_SUCCESS);
    cl_command_queue q = clCreateCommandQueue(cl, device, 0, &err);
    cr_assert_eq(err, CL_SUCCESS);
    clconv_ctx *ctx;
    cr_assert_eq(clconv_create_from(cl, device, q, &ctx), CLCONV_OK);
    logcap lc = {0};
    clconv_set_log(ctx, on_log, &lc);
    clconv_set_log_level(ctx, CLCONV_LOG_CALL);
    clconv_set_find(ctx, CLCONV_FIND_RESET); /* time it whatever is stored */
    const clconv_desc d = test_layer(8);
    cr_expect(run_pass(ctx, &d, 1, CLCONV_ALGO_AUTO, 0) <= TEST_TOL);
    cr_expect_eq(ctx->find.stats.timed, 1);
    cr_expect_eq(lc.wall, 1, "the wall clock was not logged");
    cr_expect(is_candidate(lc.choice), "find chose '%s'", lc.choice);
    clconv_free(ctx);
    clReleaseCommandQueue(q);
    clReleaseContext(cl);
    clconv_free(dev);
}

Test(find, the_callers_output_is_written_only_by_the_chosen_run, .timeout = 300)
{
    logcap lc;
    clconv_ctx *ctx = find_ctx(&lc, CLCONV_FIND_RESET);
    const clconv_desc d = test_layer(9);
    for (int pass = 1; pass < 3; pass++) {
        run_pass(ctx, &d, pass, CLCONV_ALGO_AUTO, 1); /* timed, then run once */
        run_pass(ctx, &d, pass, CLCONV_ALGO_AUTO, 1); /* remembered */
    }
    cr_expect_eq(ctx->find.stats.timed, 2);
    cr_expect_eq(ctx->find.stats.remembered, 2);
    clconv_free(ctx);
}

/* ---- the row override and the candidates ----------------------------------------- */

static void *device_row_elsewhere(void *arg)
{
    const clconv_ctx *ctx = arg;
    return (void *)(intptr_t)TUNING_PICK(&ctx->info, tiled_rows);
}

Test(find, the_row_override_is_per_call_and_per_thread)
{
    cache_env();
    clconv_ctx *ctx = test_ctx();
    const int own = TUNING_PICK(&ctx->info, tiled_rows);
    for (int i = 0; i < TILED_ROWS; i++) {
        cr_assert_null(tuning_override(tiled_rows[i].match.name));
        cr_expect_eq(TUNING_PICK(&ctx->info, tiled_rows), i);
        pthread_t t;
        void *other;
        cr_assert_eq(pthread_create(&t, NULL, device_row_elsewhere, ctx), 0);
        pthread_join(t, &other);
        cr_expect_eq((int)(intptr_t)other, own, "the override reached another thread");
        cr_expect_str_eq(tuning_override(NULL), tiled_rows[i].match.name);
    }
    cr_expect_eq(TUNING_PICK(&ctx->info, tiled_rows), own);
    clconv_free(ctx);
}

/* {n, c, h, w, k, r, s, sh, sw, ph, pw, dh, dw, g}: the variants the
 * tables' rows plan differently (test_tiled.c's and test_tuning.c's). */
static const clconv_desc cand_layers[] = {
    {2, 5, 9, 11, 7, 3, 3, 1, 1, 1, 1, 1, 1, 1},     /* edge tiles */
    {1, 6, 10, 9, 6, 3, 3, 2, 2, 1, 1, 1, 1, 6},     /* depthwise, stride 2 */
    {2, 12, 5, 7, 20, 1, 1, 1, 1, 0, 0, 1, 1, 1},    /* 1x1 */
    {1, 4, 13, 12, 24, 3, 2, 2, 3, 1, 0, 2, 1, 2},   /* grouped, strided, dilated */
    {4, 16, 12, 12, 40, 3, 3, 1, 1, 1, 1, 1, 1, 1},  /* backward-filter splits */
};

/* WINOGRAD runs 3x3 stride-1 one-group layers (the first and the last
 * above) */
static int cand_runs(int c, const clconv_desc *d)
{
    if (find_cands[c].algo != CLCONV_ALGO_WINOGRAD)
        return 1;
    return d->r == 3 && d->s == 3 && d->stride_h == 1 && d->stride_w == 1 &&
           d->dilation_h == 1 && d->dilation_w == 1 && d->groups == 1;
}

Test(find, every_candidate_agrees_with_the_reference, .timeout = 300)
{
    cache_env();
    clconv_ctx *ctx = test_ctx();
    for (int c = 0; c < find_ncands; c++) {
        /* the per-call row find runs a candidate with; this thread only */
        tuning_override(find_cands[c].row);
        for (size_t l = 0; l < sizeof cand_layers / sizeof cand_layers[0]; l++)
            for (int pass = 0; pass < 3; pass++) {
                if (!cand_runs(c, &cand_layers[l]))
                    continue;
                double err = run_pass(ctx, &cand_layers[l], pass, find_cands[c].algo, 0);
                char rs[CLCONV_DESC_STRING_MAX];
                cr_expect(err <= TEST_TOL, "%s/%s %s pass %d: relative error %g",
                          clconv_algo_name(find_cands[c].algo),
                          find_cands[c].row ? find_cands[c].row : "-",
                          test_desc_str(&cand_layers[l], rs, sizeof rs), pass, err);
            }
        tuning_override(NULL);
    }
    clconv_free(ctx);
}
