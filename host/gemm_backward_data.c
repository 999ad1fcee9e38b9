/* GEMM backward-data: gemm_bwd_data of kernels/gemm_conv.cl, by stride
 * phases (each a small dense convolution of dy with the filter taps that
 * reach it), read straight from dy and w: no upsampled dy, no flipped
 * filter, no work on the upsampled map's zeros.  1x1 stride-1 unpadded
 * layers are gemm_flat's plain GEMM with the filter read transposed.
 * Strided layers, and fp32 1x1 layers on small images, take the
 * channel-vectorised kernel where gemm_kv_applies says so (gemm_kv.c). */
#include "gemm_conv.h"

static int64_t min64(int64_t a, int64_t b)
{
    return a < b ? a : b;
}

clconv_status gemm_backward_data(clconv_ctx *ctx, const pass_args *a)
{
    const layer *L = a->L;
    /* before gemm_flat: it takes 1x1 stride-1 layers on small images too */
    if (gemm_kv_applies(ctx, L, 1))
        return gemm_kv_run(ctx, a, 1);
    if (gemm_conv_is_flat(L)) {
        const int64_t hw = L->h * L->w;
        const gemm_tile t = gemm_conv_tile(ctx, gemm_flat_rows, L->cg, hw, 0);
        return gemm_flat_run(ctx, a, &t, 1);
    }
    /* the largest phase: rows and columns of dx that share their taps */
    const int64_t prow = (int64_t)gemm_ceil_div(L->h, L->sh);
    const int64_t pcol = (int64_t)gemm_ceil_div(L->w, L->sw);
    const gemm_tile t =
        L->cg == 1 ? gemm_conv_tile(ctx, gemm_depthwise_rows, L->cg, prow, pcol)
                   : gemm_conv_tile(ctx, gemm_conv_rows, L->cg, prow, pcol);
    /* phases: min(stride, size) of them per axis */
    const size_t rows = (size_t)min64(L->sh, L->h) * gemm_ceil_div(prow, t.tp);
    const size_t cols = (size_t)min64(L->sw, L->w) * gemm_ceil_div(pcol, t.vw);
    const size_t items = (size_t)(L->n * L->g) * gemm_ceil_div(L->cg, t.tk) * rows * cols;
    return gemm_conv_launch(ctx, a, "gemm_bwd_data", &t, items, 0);
}

size_t gemm_backward_data_workspace(const clconv_ctx *ctx, const layer *L)
{
    return gemm_kv_applies(ctx, L, 1) ? gemm_kv_workspace(L, 1) : 0;
}
