/* The host side shared by the GEMM forward and backward-data passes (see
 * gemm_conv.h and kernels/gemm_conv.cl). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "gemm_conv.h"

/* Tile tables shared by forward and backward-data (same kernel family):
 * {name, device type, vendor, min local memory, min compute units},
 * {TK, TP, VW, WG, BLK, CT_FAST}.  BLK 32 and the generic rows are the
 * .cl file's #ifndef defaults. */
/* NVIDIA rows are untuned (no GPU to measure on): one column per
 * work-item so that a warp's loads are consecutive along q, and the warp
 * shares its filter loads (one channel tile). */
const gemm_tile_row gemm_conv_rows[GEMM_TUNING_ROWS] = {
    {{"nvidia", CL_DEVICE_TYPE_GPU, "NVIDIA", 0, 0}, {8, 2, 1, 256, 32, 0}},
    {{"cpu", CL_DEVICE_TYPE_CPU, NULL, 0, 0}, {8, 2, 16, 8, 32, 0}},
    {{"generic", 0, NULL, 0, 0}, {4, 2, 4, 64, 32, 0}},
};

const gemm_tile_row gemm_depthwise_rows[GEMM_TUNING_ROWS] = {
    {{"nvidia", CL_DEVICE_TYPE_GPU, "NVIDIA", 0, 0}, {1, 4, 1, 256, 32, 0}},
    {{"cpu", CL_DEVICE_TYPE_CPU, NULL, 0, 0}, {1, 4, 16, 16, 32, 0}},
    {{"generic", 0, NULL, 0, 0}, {1, 4, 4, 64, 32, 0}},
};

/* TP = column vectors per work-item here */
const gemm_tile_row gemm_flat_rows[GEMM_TUNING_ROWS] = {
    {{"nvidia", CL_DEVICE_TYPE_GPU, "NVIDIA", 0, 0}, {8, 1, 1, 256, 32, 0}},
    {{"cpu", CL_DEVICE_TYPE_CPU, NULL, 0, 0}, {8, 2, 16, 8, 32, 1}},
    {{"generic", 0, NULL, 0, 0}, {4, 2, 4, 64, 32, 0}},
};

size_t gemm_ceil_div(int64_t a, int64_t b)
{
    return (size_t)((a + b - 1) / b);
}

gemm_tile gemm_conv_tile(const clconv_ctx *ctx, const gemm_tile_row *rows, int64_t channels,
                         int64_t tile_rows, int64_t cols)
{
    gemm_tile t =
        rows[tuning_pick(&ctx->info, &rows[0].match, sizeof rows[0], GEMM_TUNING_ROWS)].tile;
    /* A channel tile never holds more than the group has (the kernel
     * shifts the last tile down instead of clipping it); what it gives
     * up goes to rows, while there are rows to tile, so that each load
     * still feeds about as many FMAs. */
    if (t.tk > channels) {
        /* few distinct tiles, each one a program build: 1-4 channels
         * exactly (C = 3 is every network's first layer), else 4; the
         * row tile halved while half of it still covers the rows */
        const long acc = t.tk * t.tp;
        t.tk = channels < 4 ? (long)channels : 4;
        t.tp = acc / t.tk;
        while (t.tp > 1 && t.tp / 2 >= tile_rows)
            t.tp /= 2;
    }
    /* the row's vector is the widest: half of it when that wastes fewer
     * columns past the end of a row.  gemm_flat (cols 0) runs over all
     * h*w columns at once and keeps it: halved, as this rule did for 14x14
     * and 7x7 images, its 1x1 layers ran 1.5x slower (PoCL, 2-core EPYC,
     * ResNet-50 at mb4), and each width is one more program to build. */
    if (cols > 0 && t.vw > 4 && (cols + t.vw / 2 - 1) / (t.vw / 2) * (t.vw / 2) < (cols + t.vw - 1) / t.vw * t.vw)
        t.vw /= 2;
    return t;
}

int gemm_conv_is_flat(const layer *L)
{
    return L->r == 1 && L->s == 1 && L->sh == 1 && L->sw == 1 && L->ph == 0 && L->pw == 0 &&
           L->pb == 0 && L->pr == 0;
}

int gemm_cols_unit(const layer *L)
{
    return L->xs[3] == 1 && L->ys[3] == 1;
}

/* A device with 32-bit addresses cannot reach past 4 GiB of a buffer. */
clconv_status gemm_conv_supports(const clconv_ctx *ctx, const pass_args *a, char *why, size_t cap)
{
    if (ctx->info.address_bits >= 64)
        return CLCONV_OK;
    const layer *L = a->L;
    const size_t ends[] = {a->a_off + L->x_elems, a->a_off + L->y_elems, a->b_off + L->w_elems,
                           a->out_off + L->x_elems, a->out_off + L->y_elems,
                           a->ep && a->ep->has_bias ? a->bias_off + (size_t)L->k : 0};
    /* 4 GiB of elements, less a vector */
    const size_t lim = ((size_t)4 << 30) / (L->esize ? L->esize : sizeof(float)) - 16;
    for (size_t i = 0; i < sizeof ends / sizeof ends[0]; i++)
        if (ends[i] > lim) {
            snprintf(why, cap,
                     "the device has %u-bit addresses: it cannot index a tensor reaching past "
                     "4 GiB",
                     (unsigned)ctx->info.address_bits);
            return CLCONV_DEVICE_LIMIT;
        }
    return CLCONV_OK;
}

clconv_status gemm_conv_launch(clconv_ctx *ctx, const pass_args *a, const char *kernel,
                               const gemm_tile *t, size_t items, int flat_bwd)
{
    /* gemm_conv_supports has been asked (passes.c) */
    const layer *L = a->L;
    /* one kernel per program: PoCL compiles all of a program's kernels */
    const int flat = !strcmp(kernel, "gemm_flat");
    const int one = !strcmp(kernel, "gemm_fwd") ? 1 : !strcmp(kernel, "gemm_bwd_data") ? 2 : 3;
    const char *dt = layer_dt_option(L);
    char opts[256];
    snprintf(opts, sizeof opts,
             "-DONE_KERNEL=%d -DTK=%ld -DTP=%ld -DVW=%ld -DWG=%ld -DBLK=%ld%s%s%s%s%s%s", one,
             t->tk, t->tp, t->vw, t->wg, t->blk, t->ct_fast ? " -DCT_FAST" : "",
             layer_needs_long(L, items) ? " -DIDX_LONG" : "",
             gemm_cols_unit(L) ? " -DCOL1" : "", a->ep ? " -DEPI" : "", *dt ? " " : "", dt);
    cl_kernel k;
    TRY(ctx_kernel(ctx, "gemm_conv", opts, kernel, &k));
    cl_long ao = (cl_long)a->a_off, bo = (cl_long)a->b_off, oo = (cl_long)a->out_off;
    cl_int beta = a->beta, bwd = flat_bwd;
    const kgeom g = kgeom_of(L);
    /* without an epilogue the kernels never read E, nor the bias (a dummy:
     * any valid buffer) */
    const kepi plain = {1.0f, (cl_float)a->beta, 0.0f, 0, 0, 0};
    const kepi *e = a->ep ? a->ep : &plain;
    const int has_bias = a->ep && a->ep->has_bias;
    cl_mem bias = has_bias ? a->bias : a->out;
    cl_long bias_off = has_bias ? (cl_long)a->bias_off : 0;
    const karg args[] = {KARG(a->a), KARG(ao), KARG(a->b), KARG(bo), KARG(a->out), KARG(oo),
                         KARG(beta), KARG(g), KARG(*e), KARG(bias), KARG(bias_off), KARG(bwd)};
    const int nargs = (int)(sizeof args / sizeof args[0]) - (flat ? 0 : 1);
    return ctx_launch(ctx, k, nargs, args, items, (size_t)t->wg, a->event);
}

clconv_status gemm_flat_run(clconv_ctx *ctx, const pass_args *a, const gemm_tile *t, int bwd)
{
    const layer *L = a->L;
    const int64_t hw = L->h * L->w, m = bwd ? L->cg : L->kg;
    const size_t items = (size_t)(L->n * L->g) * (size_t)((m + t->tk - 1) / t->tk) *
                         (size_t)((hw + t->tp * t->vw - 1) / (t->tp * t->vw));
    return gemm_conv_launch(ctx, a, "gemm_flat", t, items, bwd);
}
