/* What gemm_forward.c and gemm_backward_data.c share: both run a kernel of
 * kernels/gemm_conv.cl with the same argument list, tile options picked
 * from a tuning table, and the same 32/64-bit index choice. */
#ifndef CLCONV_GEMM_CONV_H
#define CLCONV_GEMM_CONV_H

#include "internal.h"

/* The tile of one build: TK channels x TP rows x VW columns per
 * work-item, WG work-items per group, BLK channels per reduction block of
 * an edge tile (a tuning row's, then fitted to the layer). */
typedef struct gemm_tile {
    long tk, tp, vw, wg, blk;
    int ct_fast;                /* CT_FAST: channel tiles vary fastest */
} gemm_tile;

/* A row of the tile tables. */
typedef struct gemm_tile_row {
    tuning_match match;
    gemm_tile tile;
} gemm_tile_row;

/* Tuning tables (general, depthwise, flat 1x1) shared by both passes:
 * NVIDIA, CPU, then the generic default. */
#define GEMM_TUNING_ROWS 3
extern const gemm_tile_row gemm_conv_rows[GEMM_TUNING_ROWS];
extern const gemm_tile_row gemm_depthwise_rows[GEMM_TUNING_ROWS];
extern const gemm_tile_row gemm_flat_rows[GEMM_TUNING_ROWS];

/* The tile of the device's row of `rows`, fitted to a layer whose tiles
 * run over `channels` channels of a group, `tile_rows` rows and `cols`
 * columns: a channel tile larger than the group cut to fit (and the row
 * tile grown to keep the tile's size, as far as there are rows), the
 * vector halved when that wastes fewer columns of a row (cols 0:
 * gemm_flat's single run of columns, never halved). */
gemm_tile gemm_conv_tile(const clconv_ctx *ctx, const gemm_tile_row *rows, int64_t channels,
                         int64_t tile_rows, int64_t cols);
size_t gemm_ceil_div(int64_t a, int64_t b);

/* A 1x1, stride-1 layer with no padding on any side is a plain GEMM over
 * the flattened image (gemm_flat: no rows, no edges but the last columns). */
int gemm_conv_is_flat(const layer *L);

/* 1 when the columns of x and y (dy, dx) have element stride 1 (NCHW):
 * the kernels' -DCOL1, under which column vectors are vector loads. */
int gemm_cols_unit(const layer *L);

/* Refuse (DEVICE_LIMIT) what the device cannot address, pick 32- or
 * 64-bit indices, build `kernel` of kernels/gemm_conv.cl for tile t and
 * the layer's storage type, layout and epilogue, and launch `items`
 * work-items with the pass's buffers, offsets and beta, the layer's
 * geometry, the epilogue (a->ep, or a plain one) and its bias, and for
 * gemm_flat its direction `flat_bwd`. */
clconv_status gemm_conv_launch(clconv_ctx *ctx, const pass_args *a, const char *kernel,
                               const gemm_tile *t, size_t items, int flat_bwd);
/* gemm_flat: forward (bwd 0: Kg output channels) or backward-data (bwd 1:
 * Cg output channels) over the flattened image. */
clconv_status gemm_flat_run(clconv_ctx *ctx, const pass_args *a, const gemm_tile *t, int bwd);

/* The channel-vectorised path for strided layers (gemm_kv.c,
 * kernels/kv_conv.cl): whether it runs L's forward (bwd 0) or
 * backward-data (bwd 1) on this device, the workspace it takes (the
 * repacked filter), and the run. */
int gemm_kv_applies(const clconv_ctx *ctx, const layer *L, int bwd);
size_t gemm_kv_workspace(const layer *L, int bwd);
clconv_status gemm_kv_run(clconv_ctx *ctx, const pass_args *a, int bwd);

#endif
