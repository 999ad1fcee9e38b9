/* GEMM backward-data: gemm_bwd_data of kernels/gemm_conv.cl, by stride
 * phases (each a small dense convolution of dy with the filter taps that
 * reach it), read straight from dy and w: no upsampled dy, no flipped
 * filter, no work on the upsampled map's zeros.  1x1 stride-1 unpadded
 * layers are gemm_flat's plain GEMM with the filter read transposed. */
#include "gemm_conv.h"

#define ROWS(t) (int)(sizeof(t) / sizeof((t)[0]))

/* NVIDIA rows are untuned (no GPU to measure on); see gemm_forward.c. */
static const tuning_row conv_rows[] = {
    {CL_DEVICE_TYPE_GPU, "NVIDIA", 0, 0, "-DTK=8 -DTP=2 -DVW=1 -DWG=256"},
    {CL_DEVICE_TYPE_CPU, NULL, 0, 0, "-DTK=8 -DTP=2 -DVW=16 -DWG=8"},
    {0, NULL, 0, 0, "-DTK=4 -DTP=2 -DVW=4 -DWG=64"},
};

/* one dx channel per group: tile rows instead of channels */
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

static int64_t min64(int64_t a, int64_t b)
{
    return a < b ? a : b;
}

clconv_status gemm_backward_data(clconv_ctx *ctx, const pass_args *a)
{
    const layer *L = a->L;
    if (gemm_conv_is_flat(L)) {
        const int64_t hw = L->h * L->w;
        const gemm_tile t = gemm_conv_tile(ctx, flat_rows, ROWS(flat_rows), L->cg, hw, hw);
        return gemm_flat_run(ctx, a, &t, L->cg, L->kg, 1, L->cg);
    }
    /* the largest phase: rows and columns of dx that share their taps */
    const int64_t prow = (int64_t)ceil_div(L->h, L->sh), pcol = (int64_t)ceil_div(L->w, L->sw);
    const gemm_tile t =
        L->cg == 1 ? gemm_conv_tile(ctx, depthwise_rows, ROWS(depthwise_rows), L->cg, prow, pcol)
                   : gemm_conv_tile(ctx, conv_rows, ROWS(conv_rows), L->cg, prow, pcol);
    /* phases: min(stride, size) of them per axis */
    const size_t rows = (size_t)min64(L->sh, L->h) * ceil_div(prow, t.tp);
    const size_t cols = (size_t)min64(L->sw, L->w) * ceil_div(pcol, t.vw);
    const size_t items = (size_t)(L->n * L->g) * ceil_div(L->cg, t.tk) * rows * cols;
    return gemm_conv_run(ctx, a, "gemm_bwd_data", &t, items);
}

size_t gemm_backward_data_workspace(const clconv_ctx *ctx, const layer *L)
{
    (void)ctx;
    (void)L;
    return 0;
}
