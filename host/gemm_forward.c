/* GEMM forward: the implicit GEMM gemm_fwd of kernels/gemm_conv.cl, read
 * straight from x and w, or gemm_flat for 1x1 stride-1 unpadded layers
 * (a plain GEMM).  Three tile tables: general layers, depthwise layers
 * (one input channel per group: no channel tile to share a load, so the
 * tile is taller instead), and the flat GEMM. */
#include "gemm_conv.h"

#define ROWS(t) (int)(sizeof(t) / sizeof((t)[0]))

/* NVIDIA rows are untuned (no GPU to measure on): one column per
 * work-item so that a warp's loads are consecutive along q, and the warp
 * shares its filter loads (one channel tile). */
static const tuning_row conv_rows[] = {
    {CL_DEVICE_TYPE_GPU, "NVIDIA", 0, 0, "-DTK=8 -DTP=2 -DVW=1 -DWG=256"},
    {CL_DEVICE_TYPE_CPU, NULL, 0, 0, "-DTK=8 -DTP=2 -DVW=16 -DWG=8"},
    {0, NULL, 0, 0, "-DTK=4 -DTP=2 -DVW=4 -DWG=64"},
};

static const tuning_row depthwise_rows[] = {
    {CL_DEVICE_TYPE_GPU, "NVIDIA", 0, 0, "-DTK=1 -DTP=4 -DVW=1 -DWG=256"},
    {CL_DEVICE_TYPE_CPU, NULL, 0, 0, "-DTK=1 -DTP=4 -DVW=16 -DWG=16"},
    {0, NULL, 0, 0, "-DTK=1 -DTP=4 -DVW=4 -DWG=64"},
};

/* TP = column vectors per work-item here */
static const tuning_row flat_rows[] = {
    {CL_DEVICE_TYPE_GPU, "NVIDIA", 0, 0, "-DTK=8 -DTP=1 -DVW=1 -DWG=256"},
    {CL_DEVICE_TYPE_CPU, NULL, 0, 0, "-DTK=8 -DTP=2 -DVW=16 -DWG=8 -DCT_FAST"},
    {0, NULL, 0, 0, "-DTK=4 -DTP=2 -DVW=4 -DWG=64"},
};

static size_t ceil_div(int64_t a, int64_t b)
{
    return (size_t)((a + b - 1) / b);
}

clconv_status gemm_forward(clconv_ctx *ctx, const pass_args *a)
{
    const layer *L = a->L;
    if (gemm_conv_is_flat(L)) {
        const int64_t hw = L->h * L->w;
        const gemm_tile t = gemm_conv_tile(ctx, flat_rows, ROWS(flat_rows), L->kg, hw, hw);
        return gemm_flat_run(ctx, a, &t, L->kg, L->cg, L->cg, 1);
    }
    const gemm_tile t = L->cg == 1 ? gemm_conv_tile(ctx, depthwise_rows, ROWS(depthwise_rows),
                                                    L->kg, L->p, L->q)
                                   : gemm_conv_tile(ctx, conv_rows, ROWS(conv_rows), L->kg, L->p,
                                                    L->q);
    const size_t items = (size_t)(L->n * L->g) * ceil_div(L->kg, t.tk) * ceil_div(L->p, t.tp) *
                         ceil_div(L->q, t.vw);
    return gemm_conv_run(ctx, a, "gemm_fwd", &t, items);
}

size_t gemm_forward_workspace(const clconv_ctx *ctx, const layer *L)
{
    (void)ctx;
    (void)L;
    return 0;
}
