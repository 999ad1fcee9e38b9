/* TILED's share of issue 7 (host/tiled.c, kernels/tiled_conv.cl) through
 * the feature harness (tests/feature_check.h: fresh random inputs rounded
 * to the storage type, packed in the descriptor's layouts at an offset
 * between NaN guards, the output NaN-poisoned unless the call reads it,
 * against the float64 reference): fp16 and bf16 storage, NHWC activations,
 * KRSC filters, asymmetric padding and the fused forward epilogue, each
 * alone and all together, every pass, overwriting and accumulating; the
 * stride phases of backward-data and the split reduction of
 * backward-filter (fp32 partials, one rounding at the end) with them; the
 * NVIDIA row's 256-work-item tiles; and the emulated TF32 path with fp16
 * storage (its 5e-3 plus the storage's rounding); an Inf meeting only
 * padding in fp16 and bf16, through the epilogue.
 * Runs with the CPU row (CLCONV_TUNING=cpu, as tests/test_tiled.c) unless
 * a test names another: the other rows' tiles are slow on PoCL. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "feature_check.h"
#include "kernel_sources.h"
#include "tiled.h"

#define TF32_TOL 5e-3

/* A context whose tuning tables take `row`, in TF32 math mode through
 * the portable emulation when tf32. */
static clconv_ctx *row_ctx(const char *row, int tf32)
{
    setenv("CLCONV_TUNING", row, 1);
    if (tf32)
        setenv("CLCONV_TF32_EMULATE", "1", 1);
    else
        unsetenv("CLCONV_TF32_EMULATE");
    unsetenv("CLCONV_MATH");
    clconv_ctx *ctx = test_ctx();
    cr_assert_str_eq(ctx->info.tuning, row);
    cr_assert_eq(clconv_set_math_mode(ctx, tf32 ? CLCONV_MATH_TF32 : CLCONV_MATH_FP32),
                 CLCONV_OK);
    return ctx;
}

/* ---- layers and features ------------------------------------------------- */

/* {n, c, h, w, k, r, s, stride_h, stride_w, pad_h, pad_w, dil_h, dil_w, groups} */
typedef struct shape {
    int64_t v[14];
} shape;

static const shape layers[] = {
    {{2, 5, 9, 11, 7, 3, 3, 1, 1, 1, 1, 1, 1, 1}},   /* edge tiles, every border */
    {{1, 4, 13, 12, 24, 3, 2, 2, 3, 1, 0, 2, 1, 2}}, /* grouped, strided, dilated */
    {{1, 2, 11, 11, 3, 2, 2, 3, 3, 0, 0, 1, 1, 1}},  /* stride 3 > kernel: phases without taps */
    {{1, 6, 10, 9, 6, 3, 3, 2, 2, 1, 1, 1, 1, 6}},   /* depthwise, stride 2 */
    {{2, 12, 5, 7, 20, 1, 1, 1, 1, 0, 0, 1, 1, 1}},  /* 1x1 */
};
#define NLAYERS ((int)(sizeof layers / sizeof layers[0]))

/* backward-filter split in several on the CPU row (checked below) */
static const shape split_layer = {{4, 16, 12, 12, 40, 3, 3, 1, 1, 1, 1, 1, 1, 1}};

/* What a case asks beyond fp32 NCHW / KCRS with symmetric padding. */
typedef struct features {
    clconv_dtype dt;
    int nhwc, krsc;
    int asym;                   /* bottom/right padding: begin + 1 / begin + 2, or 0 where
                                 * the layer has none (see with_features) */
} features;

static clconv_desc with_features(const shape *s, const features *f)
{
    const int64_t *v = s->v;
    clconv_desc d;
    clconv_desc_init(&d, v[0], v[1], v[2], v[3], v[4], v[5], v[6]);
    d.stride_h = v[7], d.stride_w = v[8], d.pad_h = v[9], d.pad_w = v[10];
    d.dilation_h = v[11], d.dilation_w = v[12], d.groups = v[13];
    d.dtype = f->dt;
    d.layout = f->nhwc ? CLCONV_NHWC : CLCONV_NCHW;
    d.filter_layout = f->krsc ? CLCONV_KRSC : CLCONV_KCRS;
    if (f->asym) {
        /* unequal ends both ways: more at the bottom, none at the right
         * where the left has some (every layer stays non-empty) */
        d.pad_asymmetric = 1;
        d.pad_h_end = d.pad_h + 1 + (f->asym > 1);
        d.pad_w_end = d.pad_w ? 0 : 2;
    }
    return d;
}

static uint64_t seed_of(int a, int b, int c) { return 7000u + (uint64_t)(a * 97 + b * 13 + c); }

/* Every pass of d; the backward passes overwriting and accumulating; the
 * forward plain and, when ep, with that epilogue (and bias). */
static void every_pass(clconv_ctx *ctx, const clconv_desc *d, const clconv_epilogue *ep,
                       uint64_t seed)
{
    for (int pass = 0; pass < 3; pass++)
        for (int v = 0; v < 2; v++) {
            feature_case c = {.d = *d, .pass = pass, .algo = CLCONV_ALGO_TILED};
            if (pass)
                c.accumulate = v;
            else if (v && ep)
                c.ep = ep, c.use_bias = 1;
            else if (v)
                continue;
            feature_result r = feature_run(ctx, &c, seed + (uint64_t)(pass * 2 + v));
            feature_expect_ok(&c, &r);
        }
}

/* The feature sets over the layers in [first, last). */
static void sweep(const char *row, const features *fs, int nfs, const clconv_epilogue *ep,
                  int first, int last)
{
    clconv_ctx *ctx = row_ctx(row, 0);
    for (int i = 0; i < nfs; i++)
        for (int l = first; l < last; l++) {
            const clconv_desc d = with_features(&layers[l], &fs[i]);
            every_pass(ctx, &d, ep, seed_of(i, l, 0));
        }
    clconv_free(ctx);
}

/* ---- each feature alone ----------------------------------------------------- */

/* fp16, bf16, NHWC, KRSC, then the two asymmetric paddings. */
Test(features_tiled, each_feature_alone_every_pass, .timeout = 600)
{
    const features fs[] = {{CLCONV_F16, 0, 0, 0}, {CLCONV_BF16, 0, 0, 0}, {CLCONV_F32, 1, 0, 0},
                           {CLCONV_F32, 0, 1, 0}, {CLCONV_F32, 0, 0, 1}, {CLCONV_F32, 0, 0, 2}};
    sweep("cpu", fs, (int)(sizeof fs / sizeof fs[0]), NULL, 0, NLAYERS);
}

/* Padding only at one end, and end padding past the filter: rows of
 * output that see only padding, and backward-data phases whose taps
 * reach them. */
Test(features_tiled, one_sided_padding_and_stride_phases, .timeout = 600)
{
    clconv_ctx *ctx = row_ctx("cpu", 0);
    /* {pad_h, pad_h_end, pad_w, pad_w_end} with strides 2 x 3, dilation 2 x 1 */
    static const int64_t pads[][4] = {{0, 3, 2, 0}, {3, 0, 0, 4}, {1, 2, 2, 1}};
    for (size_t i = 0; i < sizeof pads / sizeof pads[0]; i++)
        for (int dt = 0; dt < 2; dt++) {
            clconv_desc d;
            clconv_desc_init(&d, 2, 3, 9, 10, 5, 3, 3);
            d.stride_h = 2, d.stride_w = 3, d.dilation_h = 2;
            d.pad_asymmetric = 1;
            d.pad_h = pads[i][0], d.pad_h_end = pads[i][1];
            d.pad_w = pads[i][2], d.pad_w_end = pads[i][3];
            d.dtype = dt ? CLCONV_F16 : CLCONV_F32;
            d.layout = dt ? CLCONV_NHWC : CLCONV_NCHW;
            every_pass(ctx, &d, NULL, seed_of((int)i, dt, 1));
        }
    clconv_free(ctx);
}

/* Every activation, alpha and beta (beta reads the old y), with and
 * without bias, fp32 NCHW. */
Test(features_tiled, epilogue_forward, .timeout = 600)
{
    clconv_ctx *ctx = row_ctx("cpu", 0);
    static const float params[CLCONV_ACT_COUNT_] = {0, 0, 0.5f, 0.1f, 0, 0};
    for (int act = 0; act < CLCONV_ACT_COUNT_; act++)
        for (int l = 0; l < 2; l++)
            for (int v = 0; v < 2; v++) {
                clconv_epilogue ep;
                clconv_epilogue_init(&ep);
                ep.activation = act, ep.param = params[act];
                ep.alpha = v ? 0.75f : 1.0f, ep.beta = v ? -0.5f : 0.0f;
                const features f = {CLCONV_F32, 0, 0, 0};
                feature_case c = {.d = with_features(&layers[l], &f), .pass = 0,
                                  .algo = CLCONV_ALGO_TILED, .ep = &ep, .use_bias = (act + v) % 2};
                feature_result r = feature_run(ctx, &c, seed_of(act, l, v));
                feature_expect_ok(&c, &r);
            }
    clconv_free(ctx);
}

/* ---- all together ----------------------------------------------------------- */

static clconv_epilogue relu_epilogue(void)
{
    clconv_epilogue ep;
    clconv_epilogue_init(&ep);
    ep.activation = CLCONV_ACT_LEAKY_RELU, ep.param = 0.2f, ep.alpha = 1.5f, ep.beta = 0.25f;
    return ep;
}

Test(features_tiled, combined_fp16_every_pass, .timeout = 600)
{
    const clconv_epilogue ep = relu_epilogue();
    const features fs[] = {{CLCONV_F16, 1, 1, 1}, {CLCONV_F16, 1, 0, 2}, {CLCONV_F16, 0, 1, 1}};
    sweep("cpu", fs, 3, &ep, 0, NLAYERS);
}

Test(features_tiled, combined_bf16_every_pass, .timeout = 600)
{
    const clconv_epilogue ep = relu_epilogue();
    const features fs[] = {{CLCONV_BF16, 1, 1, 2}, {CLCONV_BF16, 0, 1, 1}};
    sweep("cpu", fs, 2, &ep, 0, NLAYERS);
}

Test(features_tiled, combined_fp32_every_pass, .timeout = 600)
{
    const clconv_epilogue ep = relu_epilogue();
    const features fs[] = {{CLCONV_F32, 1, 1, 1}};
    sweep("cpu", fs, 1, &ep, 0, NLAYERS);
}

/* Backward-filter's split reduction: fp32 partials in dw's layout, added
 * and rounded once by split_reduce, accumulating or not. */
Test(features_tiled, split_backward_filter, .timeout = 600)
{
    clconv_ctx *ctx = row_ctx("cpu", 0);
    const features fs[] = {{CLCONV_F16, 0, 0, 0}, {CLCONV_BF16, 1, 1, 1},
                           {CLCONV_F32, 1, 1, 2}, {CLCONV_F16, 1, 1, 1}};
    for (int i = 0; i < 4; i++) {
        const clconv_desc d = with_features(&split_layer, &fs[i]);
        layer L;
        cr_assert_eq(layer_from_desc(&d, &L), CLCONV_OK);
        tiled_plan plan;
        tiled_plan_ctx(ctx, &L, CLCONV_PASS_BACKWARD_FILTER, &plan);
        cr_assert_gt(plan.splits, 1, "the layer no longer splits on the CPU row");
        for (int acc = 0; acc < 2; acc++) {
            feature_case c = {.d = d, .pass = 2, .algo = CLCONV_ALGO_TILED, .accumulate = acc};
            feature_result r = feature_run(ctx, &c, seed_of(i, acc, 2));
            feature_expect_ok(&c, &r);
        }
    }
    clconv_free(ctx);
}

/* The NVIDIA row's tiles (256 work-items, 128-row tiles, 8-deep chunks)
 * on small layers, all features together. */
Test(features_tiled, nvidia_row_combined, .timeout = 600)
{
    const clconv_epilogue ep = relu_epilogue();
    const features fs[] = {{CLCONV_F16, 1, 1, 1}, {CLCONV_BF16, 0, 1, 2}};
    sweep("nvidia", fs, 2, &ep, 0, 3);
}

/* ---- TF32 (emulated) with fp16 storage -------------------------------------- */

/* Whether the context built tiled_conv with every option in opts. */
static int built_with(const clconv_ctx *ctx, const char *const *opts, int n)
{
    for (int i = 0; i < ctx->nprograms; i++) {
        if (strcmp(clconv_kernel_sources[ctx->programs[i].source].name, "tiled_conv"))
            continue;
        int all = 1;
        for (int j = 0; j < n; j++)
            all &= strstr(ctx->programs[i].options, opts[j]) != NULL;
        if (all)
            return 1;
    }
    return 0;
}

/* One case at the TF32 tolerance: the storage's rounding plus tf32's. */
static void tf32_case(clconv_ctx *ctx, feature_case *c, uint64_t seed)
{
    feature_result r = feature_run(ctx, c, seed);
    r.tol += TF32_TOL;
    feature_expect_ok(c, &r);
}

/* Every pass of the first nlayers layers (the forward also with the
 * epilogue, the backward passes also accumulating), then, when split,
 * backward-filter's split reduction, through the emulated mma. */
static void tf32_every_pass(const char *row, const features *f, int nlayers, int split)
{
    clconv_ctx *ctx = row_ctx(row, 1);
    const clconv_epilogue ep = relu_epilogue();
    for (int l = 0; l < nlayers; l++) {
        const clconv_desc d = with_features(&layers[l], f);
        for (int pass = 0; pass < 3; pass++)
            for (int v = 0; v < 2; v++) {
                feature_case c = {.d = d, .pass = pass, .algo = CLCONV_ALGO_TILED};
                if (pass)
                    c.accumulate = v;
                else if (v)
                    c.ep = &ep, c.use_bias = 1;
                tf32_case(ctx, &c, seed_of(l, pass, 3 + v));
            }
    }
    for (int v = 0; split && v < 2; v++) {
        feature_case c = {.d = with_features(&split_layer, f), .pass = 2,
                          .algo = CLCONV_ALGO_TILED, .accumulate = v};
        tf32_case(ctx, &c, seed_of(9, 2, v));
    }
    const char *const opts[] = {"-DTF32", "-DTF32_EMULATE", "-DDT=1"};
    cr_expect(built_with(ctx, opts, 3), "no emulated TF32 fp16 build of tiled_conv ran");
    if (split) {
        const char *const split_opts[] = {"-DTF32_EMULATE", "-DDT=1", "-DPARTIALS"};
        cr_expect(built_with(ctx, split_opts, 3), "no emulated TF32 fp16 split build ran");
    }
    clconv_free(ctx);
}

Test(features_tiled, tf32_emulated_fp16_cpu_row, .timeout = 600)
{
    const features f = {CLCONV_F16, 1, 1, 1};
    tf32_every_pass("cpu", &f, NLAYERS, 1);
}

Test(features_tiled, tf32_emulated_fp16_nvidia_row, .timeout = 600)
{
    const features f = {CLCONV_F16, 0, 0, 2};
    tf32_every_pass("nvidia", &f, 2, 0);
}

/* ---- non-finite values in narrow storage ------------------------------------ */

/* An Inf weight whose tap meets only padding leaves those outputs finite
 * (the NaN/Inf outputs are summed again without the absent terms, then
 * go through the epilogue like the others): with small integers every
 * finite output is exact, so it must equal the reference, and every other
 * one must be the reference's NaN or Inf of the same sign. */
static void inf_meets_padding(clconv_ctx *ctx, clconv_dtype dt)
{
    clconv_desc d;
    clconv_desc_init(&d, 1, 2, 5, 6, 3, 3, 3);
    d.pad_h = d.pad_w = 1, d.pad_asymmetric = 1, d.pad_h_end = 2, d.pad_w_end = 0;
    d.dtype = dt, d.layout = CLCONV_NHWC, d.filter_layout = CLCONV_KRSC;
    int64_t P, Q;
    cr_assert_eq(clconv_output_size(&d, &P, &Q), CLCONV_OK);
    const int64_t xd[4] = {1, 2, 5, 6}, wd[4] = {3, 2, 3, 3}, yd[4] = {1, 3, P, Q},
                  bd[4] = {1, 3, 1, 1};
    const size_t nx = 60, nw = 54, ny = (size_t)(3 * P * Q), es = clconv_dtype_size(dt);
    double *x = test_alloc(nx * sizeof(double)), *w = test_alloc(nw * sizeof(double));
    double *ref = test_alloc(ny * sizeof(double)), *out = test_alloc(ny * sizeof(double));
    double bias[3] = {1, -2, 3};
    test_rng rng = test_rng_seed(99);
    for (size_t i = 0; i < nx; i++)
        x[i] = (double)test_rng_int(&rng, 1, 3) * (test_rng_int(&rng, 0, 1) ? 1 : -1);
    for (size_t i = 0; i < nw; i++)
        w[i] = (double)test_rng_int(&rng, -3, 3);
    w[0] = INFINITY; /* k 0, c 0, tap (0, 0): padding for output row 0 and column 0 */
    unsigned char *xs = test_alloc(nx * es), *ws = test_alloc(nw * es), *ys = test_alloc(ny * es);
    unsigned char *bs = test_alloc(3 * es);
    test_pack(x, xd, 1, dt, xs);
    test_pack(w, wd, 1, dt, ws);
    test_pack(bias, bd, 0, dt, bs);
    cl_int err;
    const cl_context cx = clconv_cl_context(ctx);
    cl_mem mx = clCreateBuffer(cx, CL_MEM_READ_WRITE | CL_MEM_COPY_HOST_PTR, nx * es, xs, &err);
    cl_mem mw = clCreateBuffer(cx, CL_MEM_READ_WRITE | CL_MEM_COPY_HOST_PTR, nw * es, ws, &err);
    cl_mem mb = clCreateBuffer(cx, CL_MEM_READ_WRITE | CL_MEM_COPY_HOST_PTR, 3 * es, bs, &err);
    cl_mem my = clCreateBuffer(cx, CL_MEM_READ_WRITE, ny * es, NULL, &err);
    cr_assert_not_null(my);
    clconv_epilogue ep;
    clconv_epilogue_init(&ep);
    ep.activation = CLCONV_ACT_LEAKY_RELU, ep.param = 0.5f, ep.bias = mb;
    cr_assert_eq(clconv_forward_fused(ctx, &d, CLCONV_ALGO_TILED, mx, 0, mw, 0, my, 0, &ep, NULL),
                 CLCONV_OK, "%s", clconv_last_error(ctx));
    cr_assert_eq(clEnqueueReadBuffer(clconv_cl_queue(ctx), my, CL_TRUE, 0, ny * es, ys, 0, NULL,
                                     NULL), CL_SUCCESS);
    test_unpack(ys, yd, 1, dt, out);
    cr_assert_eq(clconv_ref_forward(&d, x, w, ref), CLCONV_OK);
    int finite = 0, inf = 0;
    for (size_t i = 0; i < ny; i++) {
        const double want = feature_epilogue_ref(&ep, ref[i], 0.0, bias[i / (size_t)(P * Q)]);
        finite += isfinite(want), inf += isinf(want);
        if (isnan(want))
            cr_expect(isnan(out[i]), "%s y[%zu] = %g, the reference NaN",
                      clconv_dtype_name(dt), i, out[i]);
        else
            cr_expect(out[i] == want, "%s y[%zu] = %g, the reference %g",
                      clconv_dtype_name(dt), i, out[i], want);
    }
    cr_expect(finite > 0 && inf > 0, "the case has finite (%d) and infinite (%d) outputs",
              finite, inf);
    clReleaseMemObject(mx), clReleaseMemObject(mw), clReleaseMemObject(mb);
    clReleaseMemObject(my);
    free(x), free(w), free(ref), free(out), free(xs), free(ws), free(ys), free(bs);
}

Test(features_tiled, inf_meeting_padding_stays_out_fp16_bf16)
{
    clconv_ctx *ctx = row_ctx("cpu", 0);
    inf_meets_padding(ctx, CLCONV_F16);
    inf_meets_padding(ctx, CLCONV_BF16);
    clconv_free(ctx);
}

/* ---- what TILED claims ------------------------------------------------------ */

/* Exactly what the tests above run: every storage type, layout and
 * padding in every pass, the epilogue in the forward. */
Test(features_tiled, caps_are_the_tested_features)
{
    const unsigned all = CAP_F16 | CAP_BF16 | CAP_NHWC | CAP_KRSC | CAP_ASYM_PAD;
    cr_expect_eq(algo_tiled.caps[CLCONV_PASS_FORWARD], all | CAP_EPILOGUE);
    cr_expect_eq(algo_tiled.caps[CLCONV_PASS_BACKWARD_DATA], all);
    cr_expect_eq(algo_tiled.caps[CLCONV_PASS_BACKWARD_FILTER], all);
}
