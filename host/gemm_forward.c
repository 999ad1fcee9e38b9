/* GEMM forward: the implicit GEMM gemm_fwd of kernels/gemm_conv.cl, read
 * straight from x and w, or gemm_flat for 1x1 stride-1 unpadded layers
 * (a plain GEMM), either with the fused epilogue in its store step when
 * the call has one.  Three tile tables: general layers, depthwise layers
 * (one input channel per group: no channel tile to share a load, so the
 * tile is taller instead), and the flat GEMM. */
#include "gemm_conv.h"

clconv_status gemm_forward(clconv_ctx *ctx, const pass_args *a)
{
    const layer *L = a->L;
    if (gemm_conv_is_flat(L)) {
        const int64_t hw = L->h * L->w;
        const gemm_tile t = gemm_conv_tile(ctx, gemm_flat_rows, L->kg, hw, 0);
        return gemm_flat_run(ctx, a, &t, 0);
    }
    if (gemm_kv_applies(ctx, L, 0))
        return gemm_kv_run(ctx, a, 0);
    const gemm_tile_row *rows = L->cg == 1 ? gemm_depthwise_rows : gemm_conv_rows;
    const gemm_tile t = gemm_conv_tile(ctx, rows, L->kg, L->p, L->q);
    const size_t items = (size_t)(L->n * L->g) * gemm_ceil_div(L->kg, t.tk) *
                         gemm_ceil_div(L->p, t.tp) * gemm_ceil_div(L->q, t.vw);
    return gemm_conv_launch(ctx, a, "gemm_fwd", &t, items, 0);
}

size_t gemm_forward_workspace(const clconv_ctx *ctx, const layer *L)
{
    return gemm_kv_applies(ctx, L, 0) ? gemm_kv_workspace(L, 0) : 0;
}
