/* Issue 7's features through the GEMM algorithm (kernels/gemm_conv.cl,
 * gemm_bwd_filter.cl, gemm_bwd_filter_dot.cl), every pass, against the
 * float64 reference with tests/feature_check.h (fresh random inputs
 * rounded to the storage type, NaN-poisoned outputs, guards): fp16 and
 * bf16 storage, NHWC activations, KRSC filters, asymmetric padding and the
 * fused forward epilogue, each alone and combined, accumulate on and off,
 * on layers aimed at the kernels' paths: interior and edge tiles (stride
 * 1 and 2), the flat 1x1 GEMM (and 1x1 layers that must not take it),
 * depthwise and grouped layers, strides above the kernel, dilation,
 * padding beyond the kernel, 64-bit indices, and backward-filter's plans
 * (the dot-product kernel with and without split reduction, the main
 * kernel's split reduction, a lone split staged or scattered, chunks
 * narrower than a row, several filter and channel blocks, tiles over
 * (channel, s)). */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include "feature_check.h"
#include "gemm_conv.h"
#include "internal.h"

enum { FWD, DATA, FILTER };

/* n c h w k r s, stride, padding, dilation, groups (symmetric, fp32 NCHW) */
static clconv_desc conv(int64_t n, int64_t c, int64_t h, int64_t w, int64_t k, int64_t r,
                         int64_t s, int64_t sh, int64_t sw, int64_t ph, int64_t pw, int64_t dh,
                         int64_t dw, int64_t g)
{
    clconv_desc d;
    clconv_desc_init(&d, n, c, h, w, k, r, s);
    d.stride_h = sh, d.stride_w = sw, d.pad_h = ph, d.pad_w = pw;
    d.dilation_h = dh, d.dilation_w = dw, d.groups = g;
    return d;
}

/* What a case turns on beyond fp32 NCHW / KCRS, symmetric padding. */
typedef struct feat {
    clconv_dtype dt;
    int nhwc, krsc;
    int asym;                   /* bottom one more than top, right one less than left (2 if 0) */
} feat;

static clconv_desc featured(clconv_desc d, feat f)
{
    d.dtype = f.dt;
    d.layout = f.nhwc ? CLCONV_NHWC : CLCONV_NCHW;
    d.filter_layout = f.krsc ? CLCONV_KRSC : CLCONV_KCRS;
    if (f.asym) {
        d.pad_asymmetric = 1;
        d.pad_h_end = d.pad_h + 1;
        d.pad_w_end = d.pad_w ? d.pad_w - 1 : 2;
    }
    return d;
}

static uint64_t next_seed = 7000;

static void check(clconv_ctx *ctx, const clconv_desc *d, int pass, int acc,
                  const clconv_epilogue *ep, int bias)
{
    feature_case c = {.d = *d, .pass = pass, .algo = CLCONV_ALGO_GEMM, .accumulate = acc,
                      .ep = ep, .use_bias = bias};
    feature_result r = feature_run(ctx, &c, next_seed++);
    feature_expect_ok(&c, &r);
}

/* Every pass; the backward ones with accumulate off and on, the forward
 * plain and, with ep, fused (with its bias). */
static void all_passes(clconv_ctx *ctx, const clconv_desc *d, const clconv_epilogue *ep)
{
    check(ctx, d, FWD, 0, NULL, 0);
    if (ep)
        check(ctx, d, FWD, 0, ep, 1);
    for (int pass = DATA; pass <= FILTER; pass++)
        for (int acc = 0; acc < 2; acc++)
            check(ctx, d, pass, acc, NULL, 0);
}

/* all_passes on every layer of ls with every feature set of fs. */
static void layers_by_feats(clconv_ctx *ctx, const clconv_desc *ls, size_t nl, const feat *fs,
                            size_t nf, const clconv_epilogue *ep)
{
    for (size_t l = 0; l < nl; l++)
        for (size_t f = 0; f < nf; f++) {
            const clconv_desc d = featured(ls[l], fs[f]);
            all_passes(ctx, &d, ep);
        }
}

static clconv_epilogue epilogue(float alpha, float beta, clconv_activation act, float param)
{
    clconv_epilogue e;
    clconv_epilogue_init(&e);
    e.alpha = alpha, e.beta = beta, e.activation = act, e.param = param;
    return e;
}

/* The paths of the forward and backward-data kernels: interior tiles
 * beside edge tiles at stride 1 and 2 (vector loads, masked edges), the
 * flat GEMM, depthwise tiles. */
static clconv_desc path_layers[4];
static void init_path_layers(void)
{
    path_layers[0] = conv(2, 16, 12, 40, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1);
    path_layers[1] = conv(1, 8, 11, 45, 12, 3, 3, 2, 2, 1, 1, 1, 1, 1);
    path_layers[2] = conv(2, 20, 7, 9, 12, 1, 1, 1, 1, 0, 0, 1, 1, 1);
    path_layers[3] = conv(2, 12, 10, 17, 12, 3, 3, 1, 1, 1, 1, 1, 1, 12);
}

Test(features_gemm, each_feature_alone)
{
    clconv_ctx *ctx = test_ctx();
    init_path_layers();
    const feat alone[] = {
        {CLCONV_F16, 0, 0, 0}, {CLCONV_BF16, 0, 0, 0}, {CLCONV_F32, 1, 0, 0},
        {CLCONV_F32, 0, 1, 0}, {CLCONV_F32, 0, 0, 1},
    };
    layers_by_feats(ctx, path_layers, 4, alone, sizeof alone / sizeof alone[0], NULL);
    /* the epilogue alone, on fp32 NCHW: beta 0 (y not read) and beta != 0 */
    const clconv_epilogue e0 = epilogue(0.5f, 0.0f, CLCONV_ACT_RELU, 0.0f);
    const clconv_epilogue e1 = epilogue(1.0f, 0.75f, CLCONV_ACT_IDENTITY, 0.0f);
    for (int l = 0; l < 4; l++) {
        check(ctx, &path_layers[l], FWD, 0, &e0, 0);
        check(ctx, &path_layers[l], FWD, 0, &e0, 1);
        check(ctx, &path_layers[l], FWD, 0, &e1, 0);
        check(ctx, &path_layers[l], FWD, 0, &e1, 1);
    }
    clconv_free(ctx);
}

/* Everything at once, and the pairs that matter most. */
static const feat combos[] = {
    {CLCONV_F16, 1, 1, 1},
    {CLCONV_BF16, 1, 0, 1},
    {CLCONV_BF16, 0, 1, 1},
    {CLCONV_F16, 0, 0, 1},
};

Test(features_gemm, combined_on_path_layers)
{
    clconv_ctx *ctx = test_ctx();
    init_path_layers();
    const clconv_epilogue e = epilogue(0.75f, 0.5f, CLCONV_ACT_LEAKY_RELU, 0.125f);
    layers_by_feats(ctx, path_layers, 4, combos, sizeof combos / sizeof combos[0], &e);
    clconv_free(ctx);
}

/* Groups, strides above the kernel (backward-data phases without taps),
 * dilation sharing a factor with the stride, padding beyond the kernel,
 * ResNet's first layer, an image of one pixel, non-square everything. */
Test(features_gemm, combined_on_geometry)
{
    clconv_ctx *ctx = test_ctx();
    const clconv_desc layers[] = {
        conv(2, 12, 9, 10, 18, 3, 3, 1, 1, 1, 1, 1, 1, 3),   /* 3 groups, Cg 4, Kg 6 */
        conv(1, 4, 11, 13, 8, 3, 3, 2, 2, 1, 1, 1, 1, 4),    /* depthwise x2, stride 2 */
        conv(1, 3, 13, 14, 5, 2, 2, 3, 3, 0, 0, 1, 1, 1),    /* stride 3 > kernel 2 */
        conv(1, 4, 15, 13, 6, 3, 3, 2, 2, 2, 2, 2, 3, 1),    /* dilation 2|stride 2, 3 */
        conv(2, 3, 5, 6, 4, 3, 3, 2, 2, 4, 4, 1, 1, 1),      /* padding > (R-1)d */
        conv(1, 4, 7, 23, 5, 1, 5, 1, 2, 0, 2, 1, 1, 1),     /* 1x5, non-square strides */
        conv(1, 4, 21, 6, 5, 5, 2, 2, 1, 2, 0, 1, 2, 1),     /* 5x2, dilated across */
        conv(1, 3, 37, 41, 10, 7, 7, 2, 2, 3, 3, 1, 1, 1),   /* 7x7 stride 2 */
        conv(3, 2, 1, 1, 3, 7, 7, 1, 1, 3, 4, 1, 1, 1),      /* 1x1 image, all padding */
        conv(1, 6, 5, 6, 7, 1, 1, 1, 1, 1, 1, 1, 1, 1),      /* 1x1 padded: not flat */
    };
    const clconv_epilogue e = epilogue(1.0f, 0.0f, CLCONV_ACT_CLIPPED_RELU, 0.5f);
    layers_by_feats(ctx, layers, sizeof layers / sizeof layers[0], combos, 2, &e);
    clconv_free(ctx);
}

/* The flat GEMM of 1x1 stride-1 unpadded layers in every data type and
 * layout, and 1x1 layers padded on one side only, which must not take it
 * (only the bottom or the right padded). */
Test(features_gemm, flat_1x1)
{
    clconv_ctx *ctx = test_ctx();
    const clconv_desc layers[] = {
        conv(2, 20, 7, 9, 12, 1, 1, 1, 1, 0, 0, 1, 1, 1),   /* H*W 63 */
        conv(1, 6, 8, 8, 10, 1, 1, 1, 1, 0, 0, 1, 1, 2),    /* grouped */
        conv(2, 3, 9, 13, 37, 1, 1, 1, 1, 0, 0, 1, 1, 1),   /* 3 < a channel tile */
        conv(1, 5, 4, 5, 10, 1, 1, 1, 1, 0, 0, 1, 1, 5),    /* depthwise, multiplier 2 */
    };
    const clconv_epilogue e = epilogue(-1.25f, 0.5f, CLCONV_ACT_TANH, 0.0f);
    const feat fs[] = {
        {CLCONV_F16, 0, 0, 0}, {CLCONV_BF16, 0, 1, 0}, {CLCONV_F32, 1, 0, 0},
        {CLCONV_F16, 1, 1, 0}, {CLCONV_BF16, 1, 0, 0},
    };
    layers_by_feats(ctx, layers, sizeof layers / sizeof layers[0], fs, sizeof fs / sizeof fs[0],
                    &e);
    /* padding on the bottom or right only: a 1x1 layer that is not flat */
    for (int side = 0; side < 2; side++)
        for (size_t f = 0; f < 2; f++) {
            clconv_desc d = featured(layers[0], fs[f]);
            d.pad_asymmetric = 1;
            d.pad_h_end = side == 0, d.pad_w_end = side == 1;
            all_passes(ctx, &d, &e);
        }
    clconv_free(ctx);
}

/* Strided 1x1 layers (ResNet's downsampling branches; gemm_fwd and
 * gemm_bwd_data's stride phases, where most of dx has no term): strides 2
 * and 3, sizes that leave rows and columns past the last sample, groups,
 * dilation (no effect on a 1x1 filter), each storage type, both layouts,
 * the epilogue, and padding. */
Test(features_gemm, strided_1x1)
{
    clconv_ctx *ctx = test_ctx();
    const clconv_desc layers[] = {
        conv(2, 20, 7, 9, 12, 1, 1, 2, 2, 0, 0, 1, 1, 1),   /* P x Q 4 x 5, odd H, W */
        conv(1, 6, 8, 10, 10, 1, 1, 2, 3, 0, 0, 2, 1, 2),   /* grouped, strides 2 x 3 */
        conv(2, 3, 13, 12, 37, 1, 1, 3, 2, 0, 0, 1, 1, 1),  /* 3 < a channel tile */
        conv(1, 5, 6, 5, 10, 1, 1, 2, 2, 0, 0, 1, 1, 5),    /* depthwise, multiplier 2 */
        conv(1, 8, 9, 9, 8, 1, 1, 2, 2, 1, 0, 1, 1, 1),     /* padded: not sampled */
    };
    const clconv_epilogue e = epilogue(0.75f, 0.5f, CLCONV_ACT_RELU, 0.0f);
    const feat fs[] = {
        {CLCONV_F32, 0, 0, 0}, {CLCONV_F16, 0, 1, 0}, {CLCONV_BF16, 0, 0, 0},
        {CLCONV_F32, 1, 1, 0},
    };
    layers_by_feats(ctx, layers, sizeof layers / sizeof layers[0], fs, sizeof fs / sizeof fs[0],
                    &e);
    clconv_free(ctx);
}

/* The channel-vectorised path of strided layers (kernels/kv_conv.cl:
 * output channels in the vector, the filter repacked per call) on layers
 * that take it in both passes, checked to take it: a last channel tile
 * shifted down (70 and 72 channels), positions past the 2 x 7 tile grid,
 * strides 2 x 3 with dilation, reductions of several channel blocks (130),
 * groups, a 1x1 stride-2 layer whose border rows meet only padding, a
 * stride-2 phase without taps (3x3 dilation 2 stride 2: the odd rows),
 * both tiles (the wide one, 64 channels x 1 x 7 positions, for groups of
 * 64 and more, the narrow one, 32 x 2 x 7, for 32-63), fp32 1x1 backward-data
 * reading the filter in place (strided, and stride 1 on a 7x7 image, which
 * a layout or dtype change sends back to gemm_flat), each storage type, both
 * layouts, asymmetric padding and the epilogue; and, stride 1 or a short
 * reduction, layers that must not take it. */
Test(features_gemm, channel_vectorised_strided)
{
    clconv_ctx *ctx = test_ctx();
    const clconv_desc layers[] = {
        conv(2, 72, 13, 11, 70, 3, 3, 2, 2, 1, 1, 1, 1, 1),  /* shifted tiles, P x Q 7 x 6 */
        conv(1, 64, 17, 15, 64, 3, 3, 2, 3, 2, 2, 2, 2, 1),  /* strides 2 x 3, dilation 2 */
        conv(1, 130, 9, 8, 96, 3, 3, 2, 2, 1, 1, 1, 1, 1),   /* three channel blocks */
        conv(2, 128, 9, 9, 128, 3, 3, 2, 2, 1, 1, 1, 1, 2),  /* groups of 64 */
        conv(2, 64, 7, 7, 64, 1, 1, 2, 2, 1, 1, 1, 1, 1),    /* 1x1: padding-only rows */
        conv(1, 64, 11, 11, 64, 3, 3, 2, 2, 2, 2, 2, 2, 1),  /* phases without taps */
        conv(2, 64, 9, 9, 40, 3, 3, 2, 2, 1, 1, 1, 1, 1),    /* the narrow tile (forward) */
        conv(2, 64, 7, 7, 96, 1, 1, 1, 1, 0, 0, 1, 1, 1),    /* 1x1 on 7x7: w read in place */
        conv(1, 64, 9, 9, 64, 1, 1, 1, 1, 0, 0, 1, 1, 1),    /* 1x1 on 9x9: gemm_flat */
        conv(1, 3, 32, 32, 64, 7, 7, 2, 2, 3, 3, 1, 1, 1),   /* 3 channels: neither pass */
        conv(1, 64, 9, 9, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1),    /* stride 1: neither */
    };
    /* whether the forward and the backward-data pass of each take the path */
    const int takes[][2] = {{1, 1}, {1, 1}, {1, 1}, {1, 1}, {1, 1}, {1, 1},
                            {1, 0}, {0, 1}, {0, 0}, {0, 0}, {0, 0}};
    const size_t nl = sizeof layers / sizeof layers[0];
    for (size_t l = 0; l < nl; l++) {
        layer L;
        cr_assert_eq(layer_from_desc(&layers[l], &L), CLCONV_OK);
        for (int bwd = 0; bwd < 2; bwd++)
            cr_assert_eq(gemm_kv_applies(ctx, &L, bwd), takes[l][bwd],
                         "layer %zu pass %d: channel-vectorised path %d, want %d", l, bwd,
                         gemm_kv_applies(ctx, &L, bwd), takes[l][bwd]);
    }
    const clconv_epilogue e = epilogue(0.75f, 0.5f, CLCONV_ACT_LEAKY_RELU, 0.1f);
    const feat fs[] = {
        {CLCONV_F32, 0, 0, 0}, {CLCONV_F16, 1, 0, 0}, {CLCONV_BF16, 0, 1, 0},
        {CLCONV_F32, 1, 1, 1},
    };
    layers_by_feats(ctx, layers, nl - 2, fs, sizeof fs / sizeof fs[0], &e);
    clconv_free(ctx);
}

/* A seeded random sweep of layers that take the channel-vectorised
 * strided path in at least one pass: strides 2-3, filters 1x1 to 5x5 and
 * non-square, padding 0-3, dilation 1-2, one or two groups of 64-96
 * channels, odd sizes; fp32 NCHW and fp16 NHWC/KRSC, every pass (the
 * passes that do not take the path check GEMM's other kernels). */
Test(features_gemm, channel_vectorised_sweep)
{
    clconv_ctx *ctx = test_ctx();
    test_rng rng = test_rng_seed(0x6b76u);
    int taken = 0;
    for (int l = 0; l < 12; l++) {
        const int64_t g = 1 + test_rng_int(&rng, 0, 1);
        const int64_t cg = 64 + test_rng_int(&rng, 0, 32), kg = 64 + test_rng_int(&rng, 0, 32);
        const int64_t r = 1 + test_rng_int(&rng, 0, 4), sz = 1 + test_rng_int(&rng, 0, 4);
        const int64_t sh = 2 + test_rng_int(&rng, 0, 1), sw = 2 + test_rng_int(&rng, 0, 1);
        const int64_t ph = test_rng_int(&rng, 0, 3), pw = test_rng_int(&rng, 0, 3);
        const int64_t dh = 1 + test_rng_int(&rng, 0, 1), dw = 1 + test_rng_int(&rng, 0, 1);
        const int64_t h = (r - 1) * dh + 1 + test_rng_int(&rng, 0, 8);
        const int64_t w = (sz - 1) * dw + 1 + test_rng_int(&rng, 0, 8);
        const clconv_desc d0 = conv(1 + l % 2, g * cg, h, w, g * kg, r, sz, sh, sw, ph, pw, dh,
                                    dw, g);
        layer L;
        cr_assert_eq(layer_from_desc(&d0, &L), CLCONV_OK);
        taken += gemm_kv_applies(ctx, &L, 0) + gemm_kv_applies(ctx, &L, 1);
        const feat f = l % 3 == 2 ? (feat){CLCONV_F16, 1, 1, 0} : (feat){CLCONV_F32, 0, 0, 0};
        const clconv_desc d = featured(d0, f);
        all_passes(ctx, &d, NULL);
    }
    cr_assert_eq(taken, 24, "%d of 24 passes took the channel-vectorised path", taken);
    clconv_free(ctx);
}

/* Each activation with and without bias and beta, on the general, flat and
 * depthwise forward kernels, fp32 NCHW and fp16 NHWC/KRSC. */
Test(features_gemm, epilogue_activations)
{
    clconv_ctx *ctx = test_ctx();
    init_path_layers();
    const int ls[] = {0, 2, 3};
    const float params[CLCONV_ACT_COUNT_] = {0.0f, 0.0f, 0.5f, 0.1f, 0.0f, 0.0f};
    const feat fs[] = {{CLCONV_F32, 0, 0, 0}, {CLCONV_F16, 1, 1, 1}};
    for (int act = 0; act < CLCONV_ACT_COUNT_; act++)
        for (size_t l = 0; l < 3; l++)
            for (size_t f = 0; f < 2; f++) {
                const clconv_desc d = featured(path_layers[ls[l]], fs[f]);
                const clconv_epilogue e0 =
                    epilogue(1.0f, 0.0f, (clconv_activation)act, params[act]);
                const clconv_epilogue e1 =
                    epilogue(0.5f, -0.75f, (clconv_activation)act, params[act]);
                check(ctx, &d, FWD, 0, &e0, act % 2);
                check(ctx, &d, FWD, 0, &e1, 1 - act % 2);
            }
    clconv_free(ctx);
}

/* Backward-filter's plans (host/gemm_backward_filter.c), each with
 * features: few filters per group (the dot kernel: one split, and split
 * and reduced by split_reduce), the main kernel split over rows (bwf_reduce),
 * a lone split staged in local memory (KCRS) or scattered (KRSC), chunks
 * narrower than a row, several filter blocks, several channel blocks,
 * tiles over (channel, s) (3 channels). */
Test(features_gemm, backward_filter_plans)
{
    clconv_ctx *ctx = test_ctx();
    const clconv_desc layers[] = {
        conv(2, 24, 12, 12, 24, 3, 3, 1, 1, 1, 1, 1, 1, 24),  /* dot, one split */
        conv(2, 8, 40, 40, 8, 3, 3, 1, 1, 1, 1, 1, 1, 8),     /* dot, split */
        conv(2, 8, 9, 11, 16, 3, 3, 1, 1, 1, 1, 1, 1, 4),     /* Kg 4: dot */
        conv(2, 3, 64, 64, 24, 7, 7, 2, 2, 3, 3, 1, 1, 1),    /* main, split, by (c, s) */
        conv(2, 40, 9, 9, 24, 1, 1, 1, 1, 0, 0, 1, 1, 1),     /* main, one split */
        conv(1, 2, 3, 600, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1),    /* chunks < a row */
        conv(1, 3, 8, 8, 150, 3, 3, 1, 1, 1, 1, 1, 1, 1),     /* filter blocks */
        conv(1, 70, 6, 6, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1),     /* channel blocks */
        conv(2, 12, 10, 10, 80, 3, 3, 1, 1, 1, 1, 1, 1, 4),   /* groups, Kg 20 */
        conv(2, 5, 17, 19, 9, 2, 2, 3, 4, 0, 1, 1, 1, 1),     /* stride > kernel */
        conv(1, 6, 15, 16, 10, 3, 3, 1, 2, 2, 1, 2, 3, 1),    /* dilation */
    };
    const feat fs[] = {
        {CLCONV_F32, 0, 1, 0}, {CLCONV_F32, 1, 0, 1}, {CLCONV_F16, 1, 1, 1},
        {CLCONV_BF16, 0, 0, 1}, {CLCONV_F16, 0, 0, 0},
    };
    for (size_t l = 0; l < sizeof layers / sizeof layers[0]; l++)
        for (size_t f = 0; f < sizeof fs / sizeof fs[0]; f++) {
            const clconv_desc d = featured(layers[l], fs[f]);
            for (int acc = 0; acc < 2; acc++)
                check(ctx, &d, FILTER, acc, NULL, 0);
        }
    clconv_free(ctx);
}

/* Sizes that force 64-bit indices (stride and padding beyond 2^24), with
 * the features. */
Test(features_gemm, long_indices)
{
    clconv_ctx *ctx = test_ctx();
    const clconv_desc base =
        conv(1, 2, 3, 5, 3, 3, 3, (1 << 24) + 1, 1, (1 << 24) + 1, 1, 1, 1, 1);
    const clconv_epilogue e = epilogue(2.0f, 0.25f, CLCONV_ACT_SIGMOID, 0.0f);
    for (size_t f = 0; f < 2; f++) {
        const clconv_desc d = featured(base, combos[f]);
        all_passes(ctx, &d, &e);
    }
    clconv_free(ctx);
}

/* v as the storage type dt holds it (round to nearest even). */
static double stored(clconv_dtype dt, double v)
{
    const float f = (float)v;
    return dt == CLCONV_F16 ? test_f16_to_f32(test_f32_to_f16(f))
           : dt == CLCONV_BF16 ? test_bf16_to_f32(test_f32_to_bf16(f))
                               : f;
}

static clconv_status run_pass(clconv_ctx *ctx, const clconv_desc *d, int pass, cl_mem a,
                              cl_mem b, cl_mem out)
{
    if (pass == FWD)
        return clconv_forward(ctx, d, CLCONV_ALGO_GEMM, a, 0, b, 0, out, 0, NULL);
    if (pass == DATA)
        return clconv_backward_data(ctx, d, CLCONV_ALGO_GEMM, a, 0, b, 0, out, 0, 0, NULL);
    return clconv_backward_filter(ctx, d, CLCONV_ALGO_GEMM, a, 0, b, 0, out, 0, 0, NULL);
}

/* Small integers (exact in every storage type and in fp32 sums) with one
 * Inf: in w (forward, backward-data), where it meets the padding of the
 * first output row and column and, backward-data, the rows and columns of
 * dy that do not exist; in x (backward-filter).  The result must be the
 * reference's, rounded once to the storage type, element for element
 * (NaN where it is NaN): a masked lane that let 0 * Inf in would be NaN. */
static void inf_case(clconv_ctx *ctx, const clconv_desc *d, int pass)
{
    int64_t P, Q;
    cr_assert_eq(clconv_output_size(d, &P, &Q), CLCONV_OK);
    const clconv_dtype dt = (clconv_dtype)d->dtype;
    const int nhwc = d->layout == CLCONV_NHWC, krsc = d->filter_layout == CLCONV_KRSC;
    const int64_t xd[4] = {d->n, d->c, d->h, d->w}, yd[4] = {d->n, d->k, P, Q},
                  wd[4] = {d->k, d->c / d->groups, d->r, d->s};
    const int64_t *dims[3][3] = {{xd, wd, yd}, {yd, wd, xd}, {xd, yd, wd}};
    const int cls[3][3] = {{nhwc, krsc, nhwc}, {nhwc, krsc, nhwc}, {nhwc, nhwc, krsc}};
    const size_t es = clconv_dtype_size(dt);
    test_rng rng = test_rng_seed(next_seed++);
    double *v[3];
    unsigned char *st[3];
    cl_mem m[3];
    size_t n[3];
    for (int t = 0; t < 3; t++) {
        const int64_t *dm = dims[pass][t];
        n[t] = (size_t)(dm[0] * dm[1] * dm[2] * dm[3]);
        v[t] = test_alloc(n[t] * sizeof(double));
        st[t] = test_alloc(n[t] * es);
        for (size_t i = 0; i < n[t]; i++)
            v[t][i] = (double)test_rng_int(&rng, -3, 3);
    }
    v[pass == FILTER ? 0 : 1][0] = INFINITY;
    cl_int err;
    for (int t = 0; t < 3; t++) {
        test_pack(v[t], dims[pass][t], cls[pass][t], dt, st[t]);
        m[t] = clCreateBuffer(clconv_cl_context(ctx), CL_MEM_READ_WRITE | CL_MEM_COPY_HOST_PTR,
                              n[t] * es, st[t], &err);
        cr_assert_not_null(m[t], "clCreateBuffer: %d", (int)err);
    }
    cr_assert_eq(run_pass(ctx, d, pass, m[0], m[1], m[2]), CLCONV_OK, "%s",
                 clconv_last_error(ctx));
    cr_assert_eq(clEnqueueReadBuffer(clconv_cl_queue(ctx), m[2], CL_TRUE, 0, n[2] * es, st[2], 0,
                                     NULL, NULL), CL_SUCCESS);
    test_unpack(st[2], dims[pass][2], cls[pass][2], dt, v[2]);
    double *ref = test_alloc(n[2] * sizeof(double));
    const clconv_status rs = pass == FWD    ? clconv_ref_forward(d, v[0], v[1], ref)
                             : pass == DATA ? clconv_ref_backward_data(d, v[0], v[1], ref)
                                            : clconv_ref_backward_filter(d, v[0], v[1], ref);
    cr_assert_eq(rs, CLCONV_OK);
    char ds[CLCONV_DESC_STRING_MAX];
    clconv_desc_string(d, ds, sizeof ds);
    int finite = 0, other = 0;
    for (size_t i = 0; i < n[2]; i++) {
        const double want = stored(dt, ref[i]);
        finite += isfinite(want) != 0, other += !isfinite(want);
        if (isnan(want))
            cr_expect(isnan(v[2][i]), "%s pass %d %s %s: out[%zu] = %g, the reference NaN", ds,
                      pass, clconv_dtype_name(dt), nhwc ? "nhwc" : "nchw", i, v[2][i]);
        else
            cr_expect(v[2][i] == want, "%s pass %d %s %s: out[%zu] = %g, the reference %g", ds,
                      pass, clconv_dtype_name(dt), nhwc ? "nhwc" : "nchw", i, v[2][i], want);
    }
    cr_expect(finite > 0 && other > 0, "%s pass %d: finite (%d) and non-finite (%d) outputs", ds,
              pass, finite, other);
    for (int t = 0; t < 3; t++) {
        clReleaseMemObject(m[t]);
        free(v[t]);
        free(st[t]);
    }
    free(ref);
}

/* The edge tiles' masks in both layouts (masked vector loads under NCHW,
 * gathers under NHWC): a general layer whose row tile is taller than 2
 * (operands zeroed, then summed again lane by lane when not finite) and a
 * depthwise one, asymmetric padding on both. */
Test(features_gemm, inf_meeting_padding_stays_out)
{
    clconv_ctx *ctx = test_ctx();
    const clconv_desc layers[] = {
        conv(1, 2, 5, 6, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1),
        conv(1, 4, 9, 20, 4, 3, 3, 1, 1, 1, 1, 1, 1, 4),
    };
    const clconv_dtype dts[] = {CLCONV_F16, CLCONV_BF16};
    for (size_t l = 0; l < 2; l++)
        for (size_t t = 0; t < 2; t++)
            for (int nhwc = 0; nhwc < 2; nhwc++) {
                clconv_desc d = featured(layers[l], (feat){dts[t], nhwc, nhwc, 0});
                d.pad_asymmetric = 1, d.pad_h_end = 2, d.pad_w_end = 0;
                for (int pass = FWD; pass <= FILTER; pass++)
                    inf_case(ctx, &d, pass);
            }
    clconv_free(ctx);
}

/* Exactly what the tests above run: every storage type, layout and
 * padding in every pass, the epilogue in the forward. */
Test(features_gemm, caps_are_the_tested_features)
{
    const unsigned all = CAP_F16 | CAP_BF16 | CAP_NHWC | CAP_KRSC | CAP_ASYM_PAD;
    cr_expect_eq(algo_gemm.caps[CLCONV_PASS_FORWARD], all | CAP_EPILOGUE);
    cr_expect_eq(algo_gemm.caps[CLCONV_PASS_BACKWARD_DATA], all);
    cr_expect_eq(algo_gemm.caps[CLCONV_PASS_BACKWARD_FILTER], all);
}
