/* GEMM's channel-vectorised path (kernels/kv_conv.cl) for strided
 * forward and backward-data on CPUs, and fp32 1x1 backward-data on small
 * images: output channels in the vector, one input element broadcast per
 * position, so a stride costs nothing, with the filter repacked into the
 * workspace by each call (kv_repack) so that a vector of output channels
 * is one load, or read in place where it already is one. */
#include <stdio.h>
#include "gemm_conv.h"

typedef struct kv_tile {
    long nv, tp, tq, wg;        /* NV float16 channel vectors x TP x TQ positions, WG */
} kv_tile;

typedef struct kv_row {
    tuning_match match;
    kv_tile wide;               /* 64+ vector channels a group */
    kv_tile narrow;             /* 32-63 (nv 0: the device does not take this path) */
} kv_row;

/* Only CPU rows: a GPU work-item cannot hold 24-28 float16 accumulators.
 * The CPU tiles fill 28 of the 32 AVX-512 registers.  Of the tiles
 * measured (PoCL, 2-core EPYC, ResNet-50's strided and small 1x1 layers
 * at mb4; PERFORMANCE.md), 4 vectors x 1 x 7 positions was the fastest
 * on all but one (3x3 stride 2, 256 channels, forward: 9 % behind 4 x 2 x
 * 3, which the 3x3 layers took before): 7 positions divide ResNet's
 * 28-, 14- and 7-wide outputs.  One tile for every filter size is also
 * one program to build, not two.  Groups of 32-63 channels keep 2 x 2 x 7. */
static const kv_row kv_rows[] = {
    {{"nvidia", CL_DEVICE_TYPE_GPU, "NVIDIA", 0, 0}, {0, 0, 0, 0}, {0, 0, 0, 0}},
    {{"cpu", CL_DEVICE_TYPE_CPU, NULL, 0, 0}, {4, 1, 7, 8}, {2, 2, 7, 8}},
    {{"generic", 0, NULL, 0, 0}, {0, 0, 0, 0}, {0, 0, 0, 0}},
};

/* reduction channels per tap (Cg forward, Kg backward-data) below which
 * GEMM's own kernels run a strided layer */
#define KV_MIN_REDUCTION 64

/* The channels of a group in the vector (the pass's output channels) and
 * in the reduction. */
static int64_t kv_vec(const layer *L, int bwd)
{
    return bwd ? L->cg : L->kg;
}

static int64_t kv_red(const layer *L, int bwd)
{
    return bwd ? L->kg : L->cg;
}

static const kv_tile *kv_tile_for(const clconv_ctx *ctx, const layer *L, int bwd)
{
    const kv_row *row = &kv_rows[TUNING_PICK(&ctx->info, kv_rows)];
    return row->wide.nv && kv_vec(L, bwd) >= row->wide.nv * 16 ? &row->wide : &row->narrow;
}

/* fp32 1x1 backward-data whose filter has unit channel stride (KCRS and
 * KRSC alike): the kernel reads w itself, no repack (its vector runs over
 * the channels, which are contiguous there) */
static int kv_reads_w(const layer *L, int bwd)
{
    return bwd && L->r * L->s == 1 && L->dtype == CLCONV_F32 && L->ws[1] == 1;
}

/* 1x1 stride-1 backward-data reading w itself runs here too on images of
 * at most this many positions: on the 7x7 ones of ResNet-50 it was 1.05-1.3x
 * gemm_flat's speed, on 14x14 even, on larger ones slower (PERFORMANCE.md) */
#define KV_FLAT_MAX_HW 64

int gemm_kv_applies(const clconv_ctx *ctx, const layer *L, int bwd)
{
    const kv_tile *t = kv_tile_for(ctx, L, bwd);
    if (t->nv == 0)
        return 0;
    if (L->sh == 1 && L->sw == 1 && !(kv_reads_w(L, bwd) && L->h * L->w <= KV_FLAT_MAX_HW))
        return 0;
    /* the vector holds output channels of one group, the last tile
     * shifted; a short reduction per tap (the 1-3 channels of a first
     * layer, 32 in DeepBench's speech_2) left the work-item's tile set-up
     * uncovered: GEMM's kernel was faster there (PERFORMANCE.md) */
    return kv_vec(L, bwd) >= t->nv * 16 && kv_red(L, bwd) >= KV_MIN_REDUCTION;
}

/* the repacked filter (none when the kernel reads w), then 64 zero
 * bytes (kv_conv's `zeros`) */
size_t gemm_kv_workspace(const layer *L, int bwd)
{
    return ((kv_reads_w(L, bwd) ? 0 : L->w_elems) + 16) * sizeof(float);
}

static size_t kv_items(const layer *L, const kv_tile *t, int bwd)
{
    const int64_t fh = bwd ? (L->sh < L->h ? L->sh : L->h) : 1;
    const int64_t fw = bwd ? (L->sw < L->w ? L->sw : L->w) : 1;
    const int64_t gp = bwd ? (int64_t)gemm_ceil_div(L->h, L->sh) : L->p;
    const int64_t gq = bwd ? (int64_t)gemm_ceil_div(L->w, L->sw) : L->q;
    return (size_t)(L->g * L->n * fh * fw) * gemm_ceil_div(kv_vec(L, bwd), t->nv * 16) *
           gemm_ceil_div(gp, t->tp) * gemm_ceil_div(gq, t->tq);
}

/* Both kernels are built before anything is enqueued, so a failed build
 * leaves the output as it was. */
clconv_status gemm_kv_run(clconv_ctx *ctx, const pass_args *a, int bwd)
{
    const layer *L = a->L;
    const kv_tile *t = kv_tile_for(ctx, L, bwd);
    const size_t items = kv_items(L, t, bwd);
    const char *dt = layer_dt_option(L);
    char opts[160];
    snprintf(opts, sizeof opts, "-DNV=%ld -DTP=%ld -DTQ=%ld -DWG=%ld%s%s%s%s", t->nv, t->tp,
             t->tq, t->wg, layer_needs_long(L, items > L->w_elems ? items : L->w_elems)
                               ? " -DIDX_LONG" : "",
             a->ep ? " -DEPI" : "", *dt ? " " : "", dt);
    cl_kernel repack, conv;
    TRY(ctx_kernel(ctx, "kv_conv", opts, "kv_repack", &repack));
    TRY(ctx_kernel(ctx, "kv_conv", opts, "kv_conv", &conv));
    cl_mem ws;
    TRY(ctx_workspace(ctx, gemm_kv_workspace(L, bwd), &ws));
    const kgeom g = kgeom_of(L);
    cl_int dir = bwd, beta = a->beta;
    cl_long wo = (cl_long)a->b_off, ao = (cl_long)a->a_off, oo = (cl_long)a->out_off;
    const int direct = kv_reads_w(L, bwd);
    const int64_t vec = kv_vec(L, bwd), red = kv_red(L, bwd);
    /* the filter as the kernel reads it: (g, tap, red, vec) strides */
    cl_mem wbuf = direct ? a->b : ws;
    cl_long w_off = direct ? wo : 0, w_red = direct ? (cl_long)L->ws[0] : (cl_long)vec;
    cl_long w_tap = (cl_long)(red * vec), w_grp = direct ? (cl_long)(L->kg * L->ws[0])
                                                         : (cl_long)(L->r * L->s * red * vec);
    const size_t zbytes = (direct ? 0 : L->w_elems) * sizeof(float);
    const cl_float zero = 0.0f;
    CL_TRY(ctx, clEnqueueFillBuffer(ctx->queue, ws, &zero, sizeof zero, zbytes, 16 * sizeof(float),
                                    0, NULL, NULL),
           "clEnqueueFillBuffer (zeros)");
    if (!direct) {
        const karg rargs[] = {KARG(a->b), KARG(wo), KARG(ws), KARG(g), KARG(dir)};
        const size_t blocks = (size_t)L->g * gemm_ceil_div(L->cg, 16) * gemm_ceil_div(L->kg, 16);
        TRY(ctx_launch(ctx, repack, 5, rargs, blocks, 0, NULL));
    }
    /* without an epilogue the kernel never reads E, nor the bias (a dummy) */
    const kepi plain = {1.0f, (cl_float)a->beta, 0.0f, 0, 0, 0};
    const kepi *e = a->ep ? a->ep : &plain;
    const int has_bias = a->ep && a->ep->has_bias;
    cl_mem bias = has_bias ? a->bias : a->out;
    cl_long bias_off = has_bias ? (cl_long)a->bias_off : 0;
    /* the zeros, in elements of the storage type (the workspace a second
     * time when it holds the filter too, read-only both times) */
    cl_long zo = (cl_long)(zbytes / L->esize);
    const karg args[] = {KARG(a->a),  KARG(ao),    KARG(wbuf), KARG(w_off), KARG(w_red),
                         KARG(w_tap), KARG(w_grp), KARG(ws),   KARG(zo),    KARG(a->out),
                         KARG(oo),    KARG(beta),  KARG(g),    KARG(*e),    KARG(bias),
                         KARG(bias_off), KARG(dir)};
    return ctx_launch(ctx, conv, (int)(sizeof args / sizeof args[0]), args, items, (size_t)t->wg,
                      a->event);
}
