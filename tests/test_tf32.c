/* The math mode (issue 8, host/math_mode.c) and TILED's TF32 path
 * (kernels/tiled_conv.cl), on the test device.
 *
 * No GPU here: the TF32 path runs through its portable mma
 * (CLCONV_TF32_EMULATE=1), the very kernel source and m16n8k8 fragment
 * layout the tensor cores get, with the NVIDIA row's tiles (CLCONV_TUNING
 * = nvidia: 8 and 4 warps of 32 work-items) and the CPU row's (2 warps).
 * device_tensor_cores runs the inline-PTX path where the test device is
 * an NVIDIA GPU of compute capability 8.0 or later, and skips elsewhere.
 *
 * TF32 tolerance: ||out - ref|| / ||ref|| <= 5e-3 against the float64
 * reference.  Each factor is rounded to a 10-bit mantissa, a relative
 * error of at most 2^-11 ~ 4.9e-4 (the unit roundoff of an 11-bit
 * significand), so a product is off by up to ~9.8e-4 relative; over
 * random-signed sums the errors partly average out (2.5-2.8e-4 on these
 * layers), and 5e-3 leaves room for sums whose terms cancel (their
 * relative error grows as they do) without letting a misplaced fragment
 * or a lost term through (those give errors of order 1).  fp32 keeps
 * TEST_TOL (1e-5).
 *
 * Checked: every pass (accumulating too) over corner layers - edge tiles,
 * strides, dilation, groups and depthwise, phases without taps,
 * backward-filter with and without splits, narrow and wide tiles - and a
 * seeded random sweep; integer data (exact in TF32) give the reference's
 * exact bits, so any fragment-layout mistake shows; data with more
 * significant bits than TF32 keeps give other bits than fp32 (the rounding
 * is real) and ties round away from zero; two runs give the same bits;
 * NaN and Inf follow the reference; FP32 stays the default and exact; the
 * mode is a permission (TF32 without a TF32 path, and every other
 * algorithm, compute exact fp32); the program cache keeps the two modes'
 * builds apart; the API's bad input and CLCONV_MATH. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "kernel_sources.h"
#include "tiled.h"
#include "util.h"

#define TF32_TOL 5e-3
#define SEED 20261208u

typedef enum { FWD, DATA, FILTER, NPASS } which_pass;
static const char *const pass_names[NPASS] = {"forward", "backward-data", "backward-filter"};

/* A context on the test device taking tuning row `row` (NULL: its own),
 * with CLCONV_TF32_EMULATE set or not, in `mode`. */
static clconv_ctx *mode_ctx(const char *row, int emulate, clconv_math_mode mode)
{
    if (row)
        setenv("CLCONV_TUNING", row, 1);
    else
        unsetenv("CLCONV_TUNING");
    if (emulate)
        setenv("CLCONV_TF32_EMULATE", "1", 1);
    else
        unsetenv("CLCONV_TF32_EMULATE");
    unsetenv("CLCONV_MATH");
    clconv_ctx *ctx = test_ctx();
    cr_assert_eq(clconv_set_math_mode(ctx, mode), CLCONV_OK);
    return ctx;
}

/* The emulated TF32 path with a row's tiles. */
static clconv_ctx *tf32_ctx(const char *row) { return mode_ctx(row, 1, CLCONV_MATH_TF32); }

/* ---- one pass: inputs, the reference, the library's result ---------------- */

/* in[0], in[1]: the pass's two inputs (x w, dy w, x dy); out: the output's
 * first contents (random when accumulating; NaN otherwise, so an element
 * never written shows). */
typedef struct run {
    clconv_desc d;
    which_pass p;
    int acc;
    size_t n[3];
    float *in[2], *out;
    char repro[160];
} run;

static size_t elems(const clconv_desc *d, int t) /* 0 x, 1 w, 2 y */
{
    return t == 0 ? test_x_elems(d) : t == 1 ? test_w_elems(d) : test_y_elems(d);
}

/* fill(r, a, n) fills the inputs (test_fill_random, or integers). */
typedef void (*fill_fn)(test_rng *r, float *a, size_t n);

static run run_new(const clconv_desc *d, which_pass p, int acc, uint64_t seed, fill_fn fill)
{
    static const int tensors[NPASS][3] = {{0, 1, 2}, {2, 1, 0}, {0, 2, 1}}; /* in, in, out */
    run c = {*d, p, acc, {0}, {NULL}, NULL, ""};
    test_desc_str(d, c.repro, sizeof c.repro);
    test_rng r = test_rng_seed(seed);
    for (int i = 0; i < 3; i++)
        c.n[i] = elems(d, tensors[p][i]);
    for (int i = 0; i < 2; i++) {
        c.in[i] = test_alloc(c.n[i] * sizeof(float));
        fill(&r, c.in[i], c.n[i]);
    }
    c.out = test_alloc(c.n[2] * sizeof(float));
    if (acc)
        fill(&r, c.out, c.n[2]);
    else
        test_poison(c.out, c.n[2]);
    return c;
}

static void run_free(run *c) { free(c->in[0]), free(c->in[1]), free(c->out); }

/* The float64 reference of the pass (plus the old output when accumulating). */
static double *reference(const run *c)
{
    double *a = test_alloc(c->n[0] * sizeof *a), *b = test_alloc(c->n[1] * sizeof *b);
    double *want = test_alloc(c->n[2] * sizeof *want);
    test_to_double(c->in[0], a, c->n[0]);
    test_to_double(c->in[1], b, c->n[1]);
    clconv_status st = c->p == FWD    ? clconv_ref_forward(&c->d, a, b, want)
                       : c->p == DATA ? clconv_ref_backward_data(&c->d, a, b, want)
                                      : clconv_ref_backward_filter(&c->d, a, b, want);
    cr_assert_eq(st, CLCONV_OK);
    for (size_t i = 0; c->acc && i < c->n[2]; i++)
        want[i] += c->out[i];
    free(a), free(b);
    return want;
}

/* The pass through the host-array calls into a new array (the case's
 * output untouched, so it can run again). */
static float *compute(clconv_ctx *ctx, const run *c, clconv_algo algo)
{
    float *y = test_alloc(c->n[2] * sizeof *y);
    memcpy(y, c->out, c->n[2] * sizeof *y);
    clconv_status st =
        c->p == FWD    ? clconv_forward_host(ctx, &c->d, algo, c->in[0], c->in[1], y)
        : c->p == DATA ? clconv_backward_data_host(ctx, &c->d, algo, c->in[0], c->in[1], y, c->acc)
                       : clconv_backward_filter_host(ctx, &c->d, algo, c->in[0], c->in[1], y,
                                                     c->acc);
    cr_assert_eq(st, CLCONV_OK, "%s %s %s: %s: %s", c->repro, pass_names[c->p],
                 clconv_algo_name(algo), clconv_status_name(st), clconv_last_error(ctx));
    return y;
}

/* The pass's error against the reference. */
static double pass_error(clconv_ctx *ctx, const run *c, clconv_algo algo)
{
    double *want = reference(c);
    float *y = compute(ctx, c, algo);
    const double err = test_rel_err(y, want, c->n[2]);
    free(y), free(want);
    return err;
}

/* Whether the context built tiled_conv with an option containing `opt`,
 * and how many tiled_conv programs it holds. */
static int tiled_programs(const clconv_ctx *ctx, const char *opt, int *count)
{
    int found = 0, n = 0;
    for (int i = 0; i < ctx->nprograms; i++) {
        if (strcmp(clconv_kernel_sources[ctx->programs[i].source].name, "tiled_conv"))
            continue;
        n++;
        found |= opt && strstr(ctx->programs[i].options, opt) != NULL;
    }
    if (count)
        *count = n;
    return found;
}

/* ---- every pass at the TF32 tolerance ------------------------------------- */

/* {n, c, h, w, k, r, s, sh, sw, ph, pw, dh, dw, g} */
static const clconv_desc corners[] = {
    {2, 5, 9, 11, 7, 3, 3, 1, 1, 1, 1, 1, 1, 1},   /* edge tiles, every border */
    {1, 6, 10, 9, 6, 3, 3, 2, 2, 1, 1, 1, 1, 6},   /* depthwise, stride 2 */
    {2, 12, 5, 7, 20, 1, 1, 1, 1, 0, 0, 1, 1, 1},  /* 1x1 */
    {1, 4, 13, 12, 24, 3, 2, 2, 3, 1, 0, 2, 1, 2}, /* grouped, strided, dilated */
    {1, 3, 15, 13, 70, 5, 5, 3, 3, 2, 2, 1, 1, 1}, /* 70 channels: the wide tiles */
    {1, 2, 11, 11, 3, 2, 2, 3, 3, 0, 0, 1, 1, 1},  /* stride 3 > kernel: phases without taps */
    {4, 16, 12, 12, 40, 3, 3, 1, 1, 1, 1, 1, 1, 1},/* backward-filter split in several */
    {2, 9, 7, 6, 12, 3, 3, 2, 1, 2, 1, 3, 2, 3},   /* 3 groups, dilation 3, padding 2 */
    {1, 130, 4, 5, 9, 3, 3, 1, 1, 1, 1, 1, 1, 1},  /* backward-data: 130 rows, two blocks */
};
#define NCORNERS ((int)(sizeof corners / sizeof corners[0]))

static const test_layer_bounds sweep_bounds = {
    .max_n = 2, .max_ck = 24, .max_hw = 10, .max_rs = 4, .max_stride = 3, .max_pad = 3,
    .max_dil = 3, .max_flops = 2e5,
};

/* Layers [first, first + count): the corners, then random ones; passes
 * [0, npass), the backward ones accumulating on every other layer. */
static void sweep_on(clconv_ctx *ctx, const char *what, int first, int count, int npass)
{
    for (int idx = first; idx < first + count; idx++) {
        test_rng r = test_rng_seed(SEED + (uint64_t)idx);
        const clconv_desc d = idx < NCORNERS ? corners[idx] : test_random_desc(&r, &sweep_bounds);
        for (int p = FWD; p < npass; p++) {
            run c = run_new(&d, (which_pass)p, p != FWD && ((idx + p) & 1),
                            SEED * 5 + (uint64_t)(idx * 3 + p), test_fill_random);
            const double err = pass_error(ctx, &c, CLCONV_ALGO_TILED);
            cr_expect(err <= TF32_TOL, "%s %s%s (%s): rel err %g", c.repro, pass_names[p],
                      c.acc ? " accumulate" : "", what, err);
            run_free(&c);
        }
    }
}

/* sweep_on through the emulation with a row's tiles. */
static void sweep(const char *row, int first, int count, int npass)
{
    clconv_ctx *ctx = tf32_ctx(row);
    char what[64];
    snprintf(what, sizeof what, "%s row, emulated tf32", row);
    sweep_on(ctx, what, first, count, npass);
    cr_expect(tiled_programs(ctx, "-DTF32 -DTF32_EMULATE", NULL), "the TF32 path was built");
    clconv_free(ctx);
}

/* Every pass with the NVIDIA row's tiles (wide: 8 warps 2 x 4, narrow: 4
 * warps 1 x 4, each 4 x 4 mma tiles, one mma step a chunk).  The CPU
 * row's shapes add what the NVIDIA row lacks - two mma steps a chunk (bk
 * 16: the alternating exchange areas) and 2 x 4 mma tiles a warp (narrow)
 * - which the passes share, so the forward pass covers them (each pass
 * and shape is a kernel build, seconds each on PoCL). */
#define SWEEP 24
Test(tf32, nvidia_row_corners, .timeout = 300) { sweep("nvidia", 0, NCORNERS, NPASS); }
Test(tf32, nvidia_row_sweep, .timeout = 300) { sweep("nvidia", NCORNERS, SWEEP, NPASS); }
Test(tf32, cpu_row_forward, .timeout = 300) { sweep("cpu", 0, NCORNERS + SWEEP, FWD + 1); }

/* The corners reach what the sweeps say, with the TF32 path planned: both
 * shapes of the NVIDIA row in every pass, of the CPU row in forward;
 * backward-data's stride phases; backward-filter split and not. */
static void shapes_reached(const char *row, int npass, int *phases, int *splits, int *unsplit)
{
    clconv_ctx *ctx = tf32_ctx(row);
    for (int p = 0; p < npass; p++) {
        int wide = 0, narrow = 0;
        for (int i = 0; i < NCORNERS; i++) {
            layer L;
            tiled_plan plan;
            cr_assert_eq(layer_from_desc(&corners[i], &L), CLCONV_OK);
            tiled_plan_ctx(ctx, &L, (clconv_pass)p, &plan);
            cr_expect_eq(plan.tf32, MATH_TF32_EMULATED);
            wide += plan.shape.bm == tiled_rows[plan.row].wide.bm;
            narrow += plan.shape.bm == tiled_rows[plan.row].narrow.bm;
            *phases += p == DATA && plan.groups[2] > 1;
            *splits += p == FILTER && plan.splits > 1;
            *unsplit += p == FILTER && plan.splits == 1;
        }
        cr_expect(wide && narrow, "%s row, %s: wide %d narrow %d", row, pass_names[p], wide,
                  narrow);
    }
    clconv_free(ctx);
}

Test(tf32, corners_reach_every_plan)
{
    int phases = 0, splits = 0, unsplit = 0;
    shapes_reached("nvidia", NPASS, &phases, &splits, &unsplit);
    shapes_reached("cpu", FWD + 1, &phases, &splits, &unsplit);
    cr_expect(phases && splits && unsplit, "phased %d split %d unsplit %d", phases, splits,
              unsplit);
}

/* ---- what the rounding does ------------------------------------------------ */

/* Integers in [-8, 8]: exact in TF32, and every sum exact in fp32, so the
 * TF32 path must give the reference's bits - any fragment put in the wrong
 * place, or a product lost, shows. */
static void fill_small_ints(test_rng *r, float *a, size_t n) { test_fill_int(r, a, n, -8, 8); }

static void exact_on(clconv_ctx *ctx, const char *what, int npass)
{
    for (int i = 0; i < NCORNERS; i++)
        for (int p = FWD; p < npass; p++) {
            run c = run_new(&corners[i], (which_pass)p, p == DATA, 31 + (uint64_t)p,
                            fill_small_ints);
            double *want = reference(&c);
            float *y = compute(ctx, &c, CLCONV_ALGO_TILED);
            float *exact = test_alloc(c.n[2] * sizeof *exact);
            for (size_t e = 0; e < c.n[2]; e++)
                exact[e] = (float)want[e];
            char msg[256];
            snprintf(msg, sizeof msg, "%s %s (%s, integers)", c.repro, pass_names[p], what);
            test_expect_exact(y, exact, c.n[2], msg);
            free(y), free(exact), free(want);
            run_free(&c);
        }
}

Test(tf32, exact_on_data_tf32_holds, .timeout = 300)
{
    clconv_ctx *ctx = tf32_ctx("nvidia");
    exact_on(ctx, "nvidia row, emulated tf32", NPASS);
    clconv_free(ctx);
    ctx = tf32_ctx("cpu");
    exact_on(ctx, "cpu row, emulated tf32", FWD + 1); /* as the sweeps */
    clconv_free(ctx);
}

/* Random data have 24 significant bits: TF32 keeps 11, so its results
 * are not fp32's, and further from the reference than fp32's 1e-5 - the
 * emulation really rounds - but within the TF32 tolerance. */
Test(tf32, rounds_data_with_more_bits)
{
    const clconv_desc d = corners[0];
    clconv_ctx *ctx = tf32_ctx("nvidia");
    for (int p = FWD; p < NPASS; p++) {
        run c = run_new(&d, (which_pass)p, 0, 41 + (uint64_t)p, test_fill_random);
        double *want = reference(&c);
        float *tf = compute(ctx, &c, CLCONV_ALGO_TILED);
        cr_assert_eq(clconv_set_math_mode(ctx, CLCONV_MATH_FP32), CLCONV_OK);
        float *fp = compute(ctx, &c, CLCONV_ALGO_TILED);
        cr_assert_eq(clconv_set_math_mode(ctx, CLCONV_MATH_TF32), CLCONV_OK);
        cr_expect_neq(memcmp(tf, fp, c.n[2] * sizeof *tf), 0, "%s: TF32 gave fp32's bits",
                      pass_names[p]);
        const double etf = test_rel_err(tf, want, c.n[2]), efp = test_rel_err(fp, want, c.n[2]);
        cr_expect(efp <= TEST_TOL, "%s fp32: rel err %g", pass_names[p], efp);
        cr_expect(etf > 10 * TEST_TOL && etf <= TF32_TOL, "%s tf32: rel err %g", pass_names[p],
                  etf);
        free(tf), free(fp), free(want);
        run_free(&c);
    }
    clconv_free(ctx);
}

/* One factor of a product rounded alone: a 1x1 layer whose other factor
 * is 1, so y = tf32(x).  Round to nearest on 10 mantissa bits, ties away
 * from zero (cvt.rna.tf32.f32); ties to even would give 1 for 1 + 2^-11,
 * truncation 1 for 1 + 2^-10 - 2^-23. */
static void ties_on(clconv_ctx *ctx)
{
    static const struct {
        float in, want;
    } cases[] = {
        {1.0f + 0x1p-11f, 1.0f + 0x1p-10f},                   /* tie: away from zero */
        {-(1.0f + 0x1p-11f), -(1.0f + 0x1p-10f)},             /* tie, negative */
        {1.0f + 0x1p-11f - 0x1p-23f, 1.0f},                   /* just under the tie */
        {1.0f + 0x1p-11f + 0x1p-23f, 1.0f + 0x1p-10f},        /* just over it */
        {1.0f + 0x1p-10f - 0x1p-23f, 1.0f + 0x1p-10f},        /* nearest, not truncated */
        {1.0f + 0x1p-12f, 1.0f},                              /* down */
        {0x1.ffep0f, 2.0f},                                   /* tie below 2: carries */
        {3.0f * 0x1p-100f, 3.0f * 0x1p-100f},                 /* representable: unchanged */
    };
    const int n = (int)(sizeof cases / sizeof cases[0]);
    /* {n, c, h, w, k, r, s, sh, sw, ph, pw, dh, dw, g}: y[0][0][0][i] = x[i] * w */
    const clconv_desc dx = {1, 1, 1, n, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1};
    /* y[0][k][0][0] = x * w[k] */
    const clconv_desc dw = {1, 1, 1, 1, n, 1, 1, 1, 1, 0, 0, 1, 1, 1};
    float x[16], one = 1.0f, y[16];
    for (int i = 0; i < n; i++)
        x[i] = cases[i].in;
    cr_assert_eq(clconv_forward_host(ctx, &dx, CLCONV_ALGO_TILED, x, &one, y), CLCONV_OK, "%s",
                 clconv_last_error(ctx));
    for (int i = 0; i < n; i++)
        cr_expect_eq(y[i], cases[i].want, "x = %a: y = %a, want %a", (double)x[i], (double)y[i],
                     (double)cases[i].want);
    cr_assert_eq(clconv_forward_host(ctx, &dw, CLCONV_ALGO_TILED, &one, x, y), CLCONV_OK, "%s",
                 clconv_last_error(ctx));
    for (int i = 0; i < n; i++)
        cr_expect_eq(y[i], cases[i].want, "w = %a: y = %a, want %a", (double)x[i], (double)y[i],
                     (double)cases[i].want);
}

Test(tf32, rounds_to_nearest_ties_away)
{
    clconv_ctx *ctx = tf32_ctx("nvidia");
    ties_on(ctx);
    clconv_free(ctx);
}

/* ---- the tensor cores themselves ---------------------------------------------- */

/* On an NVIDIA device of compute capability 8.0 or later (skipped
 * elsewhere: no such device here yet), the inline-PTX path with the
 * device's own row: the corners at the TF32 tolerance, integer data
 * exact, the rounding of ties (done before the mma, so the same). */
Test(tf32, device_tensor_cores, .timeout = 300)
{
    clconv_ctx *ctx = mode_ctx(NULL, 0, CLCONV_MATH_TF32);
    if (math_tf32_path(ctx) != MATH_TF32_PTX) {
        clconv_free(ctx);
        cr_skip_test("no NVIDIA device of compute capability 8.0 or later");
    }
    sweep_on(ctx, "tensor cores", 0, NCORNERS, NPASS);
    exact_on(ctx, "tensor cores", NPASS);
    ties_on(ctx);
    cr_expect(tiled_programs(ctx, "-DTF32", NULL) && !tiled_programs(ctx, "TF32_EMULATE", NULL));
    clconv_free(ctx);
}

/* ---- determinism and non-finite values ------------------------------------- */

Test(tf32, same_bits_every_run)
{
    clconv_ctx *ctx = tf32_ctx("nvidia");
    for (int p = FWD; p < NPASS; p++) {
        run c = run_new(&corners[6], (which_pass)p, 0, 51 + (uint64_t)p, test_fill_random);
        float *one = compute(ctx, &c, CLCONV_ALGO_TILED), *two = compute(ctx, &c, CLCONV_ALGO_TILED);
        cr_expect_eq(memcmp(one, two, c.n[2] * sizeof *one), 0, "%s %s: two runs differ", c.repro,
                     pass_names[p]);
        free(one), free(two);
        run_free(&c);
    }
    layer L;
    tiled_plan plan;
    cr_assert_eq(layer_from_desc(&corners[6], &L), CLCONV_OK);
    tiled_plan_ctx(ctx, &L, CLCONV_PASS_BACKWARD_FILTER, &plan);
    cr_expect_gt(plan.splits, 1, "backward-filter's partial sums are added in split order");
    clconv_free(ctx);
}

/* An Inf weight meeting only padding leaves its outputs finite; NaN and
 * Inf land where the reference has them (the TF32 sum of an output that
 * comes out non-finite is redone in exact fp32, as in fp32 mode). */
Test(tf32, nonfinite_like_the_reference)
{
    const clconv_desc d = {1, 5, 9, 10, 12, 3, 3, 1, 1, 1, 1, 1, 1, 1};
    clconv_ctx *ctx = tf32_ctx("nvidia");
    run c = run_new(&d, FWD, 0, 61, test_fill_random);
    float *w = c.in[1];
    w[0] = INFINITY, w[c.n[1] / 2] = -INFINITY, w[c.n[1] - 1] = NAN;
    double *want = reference(&c);
    float *y = compute(ctx, &c, CLCONV_ALGO_TILED);
    size_t bad = 0, finite = 0;
    double num = 0, den = 0;
    for (size_t i = 0; i < c.n[2]; i++) {
        const double o = y[i], e = want[i];
        finite += isfinite(e) != 0;
        if (isnan(e) ? !isnan(o) : isinf(e) ? o != e : !isfinite(o))
            bad++;
        else if (isfinite(e))
            num += (o - e) * (o - e), den += e * e;
    }
    cr_assert(finite > 0 && finite < c.n[2], "the layer must leave some outputs finite");
    cr_expect_eq(bad, 0, "%zu outputs of another class than the reference's", bad);
    cr_expect(sqrt(num / den) <= TF32_TOL, "finite outputs: rel err %g", sqrt(num / den));
    free(y), free(want);
    run_free(&c);
    clconv_free(ctx);
}

/* ---- the mode is a permission ------------------------------------------------ */

/* The pass's result in FP32 mode and in TF32 mode on one context must be
 * the same bits, within TEST_TOL: the TF32 mode changed nothing. */
static void same_as_fp32(clconv_ctx *ctx, const run *c, clconv_algo algo)
{
    cr_assert_eq(clconv_set_math_mode(ctx, CLCONV_MATH_FP32), CLCONV_OK);
    float *fp = compute(ctx, c, algo);
    cr_assert_eq(clconv_set_math_mode(ctx, CLCONV_MATH_TF32), CLCONV_OK);
    const double err = pass_error(ctx, c, algo);
    float *tf = compute(ctx, c, algo);
    cr_expect_eq(memcmp(fp, tf, c->n[2] * sizeof *fp), 0, "%s %s %s: TF32 mode changed the bits",
                 c->repro, pass_names[c->p], clconv_algo_name(algo));
    cr_expect(err <= TEST_TOL, "%s %s %s in TF32 mode: rel err %g", c->repro, pass_names[c->p],
              clconv_algo_name(algo), err);
    free(fp), free(tf);
}

Test(tf32, default_is_exact_fp32)
{
    setenv("CLCONV_TUNING", "nvidia", 1);
    setenv("CLCONV_TF32_EMULATE", "1", 1); /* the emulation switch alone allows nothing */
    unsetenv("CLCONV_MATH");
    clconv_ctx *ctx = test_ctx();
    clconv_math_mode m = CLCONV_MATH_TF32;
    cr_assert_eq(clconv_get_math_mode(ctx, &m), CLCONV_OK);
    cr_expect_eq(m, CLCONV_MATH_FP32);
    for (int p = FWD; p < NPASS; p++) {
        run c = run_new(&corners[3], (which_pass)p, p == FILTER, 71 + (uint64_t)p,
                        test_fill_random);
        const double err = pass_error(ctx, &c, CLCONV_ALGO_TILED);
        cr_expect(err <= TEST_TOL, "%s %s: rel err %g", c.repro, pass_names[p], err);
        run_free(&c);
    }
    int n = 0;
    cr_expect(!tiled_programs(ctx, "TF32", &n) && n > 0, "fp32 builds only (%d)", n);
    clconv_free(ctx);
}

/* TF32 allowed on a device without a TF32 path (not NVIDIA sm_80+, no
 * emulation): TILED computes exact fp32, bit for bit. */
Test(tf32, no_path_computes_fp32)
{
    clconv_ctx *ctx = mode_ctx("nvidia", 0, CLCONV_MATH_TF32);
    if (ctx->math.nv_cc >= 80)
        cr_skip_test("the test device has TF32 tensor cores");
    for (int p = FWD; p < NPASS; p++) {
        run c = run_new(&corners[0], (which_pass)p, p == DATA, 81 + (uint64_t)p,
                        test_fill_random);
        same_as_fp32(ctx, &c, CLCONV_ALGO_TILED);
        run_free(&c);
    }
    cr_expect(!tiled_programs(ctx, "TF32", NULL), "no TF32 build");
    clconv_free(ctx);
}

/* Only TILED has a TF32 path: GEMM, DIRECT and EXPLICIT stay exact fp32
 * with TF32 allowed and the emulation on. */
Test(tf32, other_algorithms_stay_fp32)
{
    static const clconv_algo algos[] = {CLCONV_ALGO_GEMM, CLCONV_ALGO_DIRECT,
                                        CLCONV_ALGO_EXPLICIT};
    clconv_ctx *ctx = tf32_ctx(NULL);
    for (int i = 0; i < 3; i++)
        for (int p = FWD; p < NPASS; p++) {
            run c = run_new(&corners[7], (which_pass)p, p == FILTER, 91 + (uint64_t)p,
                            test_fill_random);
            same_as_fp32(ctx, &c, algos[i]);
            run_free(&c);
        }
    for (int i = 0; i < ctx->nprograms; i++)
        cr_expect(!strstr(ctx->programs[i].options, "TF32"), "%s built with %s",
                  clconv_kernel_sources[ctx->programs[i].source].name, ctx->programs[i].options);
    clconv_free(ctx);
}

/* Which path a plan takes: PTX on NVIDIA from compute capability 8.0, the
 * emulation when asked (any device), else none. */
Test(tf32, path_by_device_and_switch)
{
    const clconv_desc d = corners[0];
    layer L;
    cr_assert_eq(layer_from_desc(&d, &L), CLCONV_OK);
    clconv_ctx *ctx = mode_ctx("nvidia", 0, CLCONV_MATH_TF32);
    static const struct {
        int cc, emulate, mode;
        math_tf32 want;
        const char *opts;
    } cases[] = {
        {80, 0, CLCONV_MATH_TF32, MATH_TF32_PTX, " -DTF32"},
        {90, 0, CLCONV_MATH_TF32, MATH_TF32_PTX, " -DTF32"},
        {75, 0, CLCONV_MATH_TF32, MATH_TF32_OFF, ""},
        {0, 0, CLCONV_MATH_TF32, MATH_TF32_OFF, ""},
        {0, 1, CLCONV_MATH_TF32, MATH_TF32_EMULATED, " -DTF32 -DTF32_EMULATE"},
        {90, 1, CLCONV_MATH_TF32, MATH_TF32_EMULATED, " -DTF32 -DTF32_EMULATE"},
        {90, 1, CLCONV_MATH_FP32, MATH_TF32_OFF, ""},
    };
    for (int i = 0; i < (int)(sizeof cases / sizeof cases[0]); i++) {
        ctx->math.nv_cc = cases[i].cc, ctx->math.tf32_emulate = cases[i].emulate;
        ctx->math.mode = cases[i].mode;
        tiled_plan plan, fp32;
        tiled_plan_ctx(ctx, &L, CLCONV_PASS_FORWARD, &plan);
        tiled_plan_layer(&ctx->info, &L, CLCONV_PASS_FORWARD, &fp32);
        cr_expect_eq(plan.tf32, cases[i].want, "case %d", i);
        char opts[160], base[160], want[200];
        tiled_build_options(&plan, opts, sizeof opts);
        tiled_build_options(&fp32, base, sizeof base);
        snprintf(want, sizeof want, "%s%s", base, cases[i].opts);
        cr_expect_str_eq(opts, want, "case %d", i);
    }
    clconv_free(ctx);
}

/* The emulation's exchange areas are local memory the plan counts: a
 * device with enough for the fp32 tiles but not for them refuses TILED in
 * TF32 mode, with the reason, and runs it in FP32 mode. */
Test(tf32, emulation_local_memory_is_planned)
{
    const clconv_desc d = corners[0];
    layer L;
    cr_assert_eq(layer_from_desc(&d, &L), CLCONV_OK);
    clconv_ctx *ctx = tf32_ctx("nvidia");
    tiled_plan fp32, tf32;
    tiled_plan_layer(&ctx->info, &L, CLCONV_PASS_FORWARD, &fp32);
    tiled_plan_ctx(ctx, &L, CLCONV_PASS_FORWARD, &tf32);
    cr_assert_gt(tf32.local_bytes, fp32.local_bytes);
    ctx->info.local_mem = fp32.local_bytes;
    run c = run_new(&d, FWD, 0, 101, test_fill_random);
    float *y = test_alloc(c.n[2] * sizeof *y);
    clconv_status st = clconv_forward_host(ctx, &d, CLCONV_ALGO_TILED, c.in[0], c.in[1], y);
    cr_expect_eq(st, CLCONV_DEVICE_LIMIT, "%s", clconv_status_name(st));
    cr_expect(strstr(clconv_last_error(ctx), "local memory") != NULL, "%s",
              clconv_last_error(ctx));
    cr_assert_eq(clconv_set_math_mode(ctx, CLCONV_MATH_FP32), CLCONV_OK);
    cr_expect(pass_error(ctx, &c, CLCONV_ALGO_TILED) <= TEST_TOL);
    free(y);
    run_free(&c);
    clconv_free(ctx);
}

/* The build options carry the mode, so the program cache keeps both
 * builds; switching back runs the first again, with its bits. */
Test(tf32, program_cache_keys_the_mode)
{
    clconv_ctx *ctx = tf32_ctx("cpu");
    run c = run_new(&corners[2], FWD, 0, 111, test_fill_random);
    cr_assert_eq(clconv_set_math_mode(ctx, CLCONV_MATH_FP32), CLCONV_OK);
    float *fp = compute(ctx, &c, CLCONV_ALGO_TILED);
    cr_assert_eq(clconv_set_math_mode(ctx, CLCONV_MATH_TF32), CLCONV_OK);
    float *tf = compute(ctx, &c, CLCONV_ALGO_TILED);
    int n = 0;
    cr_expect(tiled_programs(ctx, "-DTF32", &n) && n == 2, "%d tiled_conv programs", n);
    cr_assert_eq(clconv_set_math_mode(ctx, CLCONV_MATH_FP32), CLCONV_OK);
    float *again = compute(ctx, &c, CLCONV_ALGO_TILED);
    tiled_programs(ctx, NULL, &n);
    cr_expect_eq(n, 2, "the fp32 build was reused");
    cr_expect_eq(memcmp(fp, again, c.n[2] * sizeof *fp), 0);
    cr_expect_neq(memcmp(fp, tf, c.n[2] * sizeof *fp), 0);
    free(fp), free(tf), free(again);
    run_free(&c);
    clconv_free(ctx);
}

/* ---- the API ------------------------------------------------------------------ */

Test(tf32, api_bad_input)
{
    clconv_math_mode m = CLCONV_MATH_TF32;
    cr_expect_eq(clconv_set_math_mode(NULL, CLCONV_MATH_TF32), CLCONV_NULL_ARGUMENT);
    cr_expect_eq(clconv_get_math_mode(NULL, &m), CLCONV_NULL_ARGUMENT);
    clconv_ctx *ctx = mode_ctx(NULL, 0, CLCONV_MATH_TF32);
    cr_expect_eq(clconv_get_math_mode(ctx, NULL), CLCONV_NULL_ARGUMENT);
    static const int bad[] = {CLCONV_MATH_COUNT_, -1, 1000};
    for (int i = 0; i < 3; i++) {
        cr_expect_eq(clconv_set_math_mode(ctx, (clconv_math_mode)bad[i]), CLCONV_BAD_MATH_MODE);
        cr_expect(strstr(clconv_last_error(ctx), "not a math mode") != NULL, "%s",
                  clconv_last_error(ctx));
        cr_assert_eq(clconv_get_math_mode(ctx, &m), CLCONV_OK);
        cr_expect_eq(m, CLCONV_MATH_TF32, "a refused mode leaves the context's");
    }
    cr_expect_eq(clconv_set_math_mode(ctx, CLCONV_MATH_FP32), CLCONV_OK);
    cr_expect_str_empty(clconv_last_error(ctx));
    cr_assert_eq(clconv_get_math_mode(ctx, &m), CLCONV_OK);
    cr_expect_eq(m, CLCONV_MATH_FP32);
    cr_expect_str_eq(clconv_status_name(CLCONV_BAD_MATH_MODE), "CLCONV_BAD_MATH_MODE");
    cr_expect_eq(CLCONV_BAD_MATH_MODE, CLCONV_BAD_VERSION + 1,
                 "added after 0.2's statuses, which keep their values");
    clconv_free(ctx);
}

/* What CLCONV_MATH's values give a new context. */
Test(tf32, env_var_at_creation)
{
    static const struct {
        const char *value;
        clconv_math_mode want;
    } cases[] = {
        {"tf32", CLCONV_MATH_TF32}, {"TF32", CLCONV_MATH_TF32}, {" tf32\t", CLCONV_MATH_TF32},
        {"fp32", CLCONV_MATH_FP32}, {"", CLCONV_MATH_FP32},     {"  ", CLCONV_MATH_FP32},
        {"tf3", CLCONV_MATH_FP32},  {"tf32x", CLCONV_MATH_FP32}, {NULL, CLCONV_MATH_FP32},
    };
    unsetenv("CLCONV_TF32_EMULATE");
    for (int i = 0; i < (int)(sizeof cases / sizeof cases[0]); i++) {
        if (cases[i].value)
            setenv("CLCONV_MATH", cases[i].value, 1);
        else
            unsetenv("CLCONV_MATH");
        clconv_ctx *ctx = test_ctx();
        clconv_math_mode m = (clconv_math_mode)-1;
        cr_assert_eq(clconv_get_math_mode(ctx, &m), CLCONV_OK);
        cr_expect_eq(m, cases[i].want, "CLCONV_MATH=\"%s\"", cases[i].value ? cases[i].value : "");
        clconv_free(ctx);
    }
    /* the variable and the emulation switch together: the TF32 path runs */
    setenv("CLCONV_MATH", "tf32", 1);
    setenv("CLCONV_TF32_EMULATE", "1", 1);
    clconv_ctx *ctx = test_ctx();
    cr_expect_eq(math_tf32_path(ctx), MATH_TF32_EMULATED);
    run c = run_new(&corners[0], FWD, 0, 121, test_fill_random);
    const double err = pass_error(ctx, &c, CLCONV_ALGO_TILED);
    cr_expect(err > 10 * TEST_TOL && err <= TF32_TOL, "rel err %g", err);
    cr_expect(tiled_programs(ctx, "-DTF32 -DTF32_EMULATE", NULL));
    run_free(&c);
    clconv_free(ctx);
}
