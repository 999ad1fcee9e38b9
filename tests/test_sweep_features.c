/* Issue 7's sweep: random layers (the classic sweep's bounds, smaller) with
 * the data type, both layouts, the four paddings and the forward epilogue
 * drawn at random per layer, through every algorithm and pass against the
 * float64 reference (tests/feature_check.h: inputs rounded to the storage
 * type, outputs NaN-poisoned, guards, the storage type's tolerance).
 * Backward passes accumulate on every other layer.  Every algorithm claims
 * every feature in every pass, so each call must succeed; a failure names
 * the layer with all its fields.  Split into slices as the classic sweep. */
#include <criterion/criterion.h>
#include <stdio.h>
#include "feature_check.h"

#define FSWEEP_LAYERS 48
#define FSWEEP_SLICES 3
#define FSWEEP_PER_SLICE (FSWEEP_LAYERS / FSWEEP_SLICES)
#define FSWEEP_SEED 20261201u

static const test_layer_bounds fsweep_bounds = {
    .max_n = 3, .max_ck = 17, .max_hw = 14, .max_rs = 5, .max_stride = 3, .max_pad = 2,
    .max_dil = 2, .max_flops = 6e5,
};

/* One drawn layer: descriptor (0.3 fields set) and forward epilogue. */
typedef struct fsweep_layer {
    clconv_desc d;
    clconv_epilogue ep;
    int use_epilogue, use_bias, accumulate;
} fsweep_layer;

/* The bottom/right paddings: 0..3 each, drawn until the output is at
 * least 1 x 1 (the top/left ones come from the classic draw). */
static void draw_pads(test_rng *r, clconv_desc *d)
{
    for (int tries = 0; tries < 64; tries++) {
        d->pad_asymmetric = 1;
        d->pad_h_end = test_rng_int(r, 0, 3);
        d->pad_w_end = test_rng_int(r, 0, 3);
        if (clconv_desc_check(d) == CLCONV_OK)
            return;
    }
    d->pad_asymmetric = 0; /* symmetric always fits: the classic draw checked it */
}

static void draw_epilogue(test_rng *r, fsweep_layer *l)
{
    clconv_epilogue_init(&l->ep);
    l->ep.activation = (int32_t)test_rng_int(r, 0, CLCONV_ACT_COUNT_ - 1);
    l->ep.param = l->ep.activation == CLCONV_ACT_CLIPPED_RELU ? 0.5f
                  : l->ep.activation == CLCONV_ACT_LEAKY_RELU ? 0.125f
                                                             : 0.0f;
    l->ep.alpha = test_rng_int(r, 0, 1) ? 1.0f : 0.75f;
    l->ep.beta = test_rng_int(r, 0, 2) == 0 ? 0.5f : 0.0f;
    l->use_bias = (int)test_rng_int(r, 0, 1);
}

static fsweep_layer fsweep_draw(int idx)
{
    test_rng r = test_rng_seed(FSWEEP_SEED + (uint64_t)idx);
    fsweep_layer l = {0};
    clconv_desc classic = test_random_desc(&r, &fsweep_bounds);
    clconv_desc_init(&l.d, classic.n, classic.c, classic.h, classic.w, classic.k, classic.r,
                     classic.s);
    l.d.stride_h = classic.stride_h, l.d.stride_w = classic.stride_w;
    l.d.pad_h = classic.pad_h, l.d.pad_w = classic.pad_w;
    l.d.dilation_h = classic.dilation_h, l.d.dilation_w = classic.dilation_w;
    l.d.groups = classic.groups;
    l.d.dtype = test_rng_int(&r, 0, CLCONV_DTYPE_COUNT_ - 1);
    l.d.layout = test_rng_int(&r, 0, 1);
    l.d.filter_layout = test_rng_int(&r, 0, 1);
    if (test_rng_int(&r, 0, 2) > 0)
        draw_pads(&r, &l.d);
    l.use_epilogue = test_rng_int(&r, 0, 2) > 0;
    draw_epilogue(&r, &l);
    l.accumulate = idx % 2;
    return l;
}

static const clconv_algo fsweep_algos[] = {CLCONV_ALGO_AUTO, CLCONV_ALGO_EXPLICIT,
                                           CLCONV_ALGO_DIRECT, CLCONV_ALGO_GEMM,
                                           CLCONV_ALGO_TILED};

static void run_fslice(int slice)
{
    clconv_ctx *ctx = test_ctx();
    for (int idx = slice * FSWEEP_PER_SLICE; idx < (slice + 1) * FSWEEP_PER_SLICE; idx++) {
        const fsweep_layer l = fsweep_draw(idx);
        for (size_t a = 0; a < sizeof fsweep_algos / sizeof fsweep_algos[0]; a++)
            for (int pass = 0; pass < 3; pass++) {
                feature_case c = {.d = l.d, .pass = pass, .algo = fsweep_algos[a],
                                  .accumulate = pass ? l.accumulate : 0,
                                  .ep = pass == 0 && l.use_epilogue ? &l.ep : NULL,
                                  .use_bias = l.use_bias};
                feature_result r = feature_run(ctx, &c, (uint64_t)idx * 16 + (uint64_t)pass);
                if (r.st != CLCONV_OK || !(r.err <= r.tol) || !r.guards_ok)
                    cr_log_error("feature sweep layer %d: %s", idx, clconv_last_error(ctx));
                feature_expect_ok(&c, &r);
            }
    }
    clconv_free(ctx);
}

Test(sweep_features, slice_0) { run_fslice(0); }
Test(sweep_features, slice_1) { run_fslice(1); }
Test(sweep_features, slice_2) { run_fslice(2); }

/* The draw really covers each feature (host only). */
Test(sweep_features, covers_the_feature_space)
{
    enum { F16, BF16, F32, NHWC, KRSC, ASYM, EPI, BIAS, BETA, ACC, NFEAT };
    static const char *const names[NFEAT] = {"fp16", "bf16", "fp32", "NHWC", "KRSC",
                                             "asymmetric padding", "an epilogue", "a bias",
                                             "beta", "accumulate"};
    int count[NFEAT] = {0}, acts[CLCONV_ACT_COUNT_] = {0};
    for (int idx = 0; idx < FSWEEP_LAYERS; idx++) {
        const fsweep_layer l = fsweep_draw(idx);
        cr_assert_eq(clconv_desc_check(&l.d), CLCONV_OK, "layer %d", idx);
        cr_assert_leq(test_flops(&l.d), 1.2e6, "layer %d too big for the suite", idx);
        count[F16] += l.d.dtype == CLCONV_F16;
        count[BF16] += l.d.dtype == CLCONV_BF16;
        count[F32] += l.d.dtype == CLCONV_F32;
        count[NHWC] += l.d.layout == CLCONV_NHWC;
        count[KRSC] += l.d.filter_layout == CLCONV_KRSC;
        count[ASYM] += l.d.pad_asymmetric == 1 &&
                       (l.d.pad_h_end != l.d.pad_h || l.d.pad_w_end != l.d.pad_w);
        count[EPI] += l.use_epilogue;
        count[BIAS] += l.use_epilogue && l.use_bias;
        count[BETA] += l.use_epilogue && l.ep.beta != 0.0f;
        count[ACC] += l.accumulate;
        acts[l.ep.activation] += l.use_epilogue;
    }
    for (int f = 0; f < NFEAT; f++)
        cr_expect_geq(count[f], 5, "the feature sweep has only %d layers with %s", count[f],
                      names[f]);
    for (int a = 0; a < CLCONV_ACT_COUNT_; a++)
        cr_expect_geq(acts[a], 2, "the feature sweep has only %d epilogues with activation %d",
                      acts[a], a);
}
