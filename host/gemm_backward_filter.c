/* GEMM backward-filter (kernels/gemm_bwd_filter.cl): an implicit GEMM
 * dw = dy . im2col(x)^T whose reduction (N*P*Q, huge next to K*C*R*S for
 * layers like conv1) is split over output rows so that every compute unit
 * has work; each split leaves its partial sums in the workspace and a
 * second kernel adds them in split order, so the bits never depend on
 * scheduling.  This file sizes the blocks and splits and launches. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "gemm_conv.h"

/* The tunables of one device: a row of bf_rows. */
typedef struct bf_tune {
    int64_t vw, tm, tn, ls;  /* kernel shape: lanes over k, tile, work-group */
    int64_t bmax;            /* most filters k per work-group */
    int64_t cols;            /* columns (channels x R x S) a work-group aims for */
    int64_t chunk;           /* reduction elements per chunk of dy in local memory */
    int64_t wpcu;            /* work-groups per compute unit the splits aim for */
    int64_t mint;            /* fewest reduction elements worth a split of their own */
    int64_t dotwi;           /* dot kernel: work-items per compute unit its splits aim for */
} bf_tune;

typedef struct bf_row {
    tuning_match match;
    bf_tune tune;
} bf_row;

/* First match wins (tuning_pick).  The .cl's #ifndef defaults equal the
 * generic last row.  What each means: kernels/gemm_bwd_filter.cl, and
 * bf_tune above ({vw, tm, tn, ls, bmax, cols, chunk, wpcu, mint, dotwi}). */
static const bf_row bf_rows[] = {
    /* NVIDIA GPUs: UNTUNED (no GPU was available while this was written);
     * scalar lanes, one filter row per work-item across the warp. */
    {{"nvidia", CL_DEVICE_TYPE_GPU, "NVIDIA", 0, 0}, {1, 4, 4, 64, 64, 256, 32, 4, 256, 2048}},
    /* CPUs (PoCL): one work-item per work-group, a 4 x 64 tile in 16
     * float16 registers; measured on a 2-core AVX-512 CPU (chunks of 512
     * beat 128 and 256; BMAX 128 and WPCU 4 or 16 made no difference). */
    {{"cpu", CL_DEVICE_TYPE_CPU, NULL, 0, 0}, {16, 4, 4, 1, 64, 512, 512, 8, 512, 256}},
    /* anything else: the .cl defaults */
    {{"generic", 0, NULL, 0, 0}, {4, 2, 4, 64, 64, 256, 32, 4, 256, 2048}},
};

/* The device's row.  The work-group never exceeds what the device allows. */
static bf_tune bf_tunables(const clconv_devinfo *info)
{
    bf_tune t = bf_rows[TUNING_PICK(info, bf_rows)].tune;
    if (info->max_wg && (size_t)t.ls > info->max_wg)
        t.ls = (int64_t)info->max_wg;
    return t;
}

/* The build options: every tunable as used (so the kernel and this file
 * cannot disagree), plus IDX_LONG for 64-bit indices, COL1 for unit
 * column strides (NCHW) and the layer's storage type. */
static void bf_build_options(const bf_tune *t, int idx_long, const layer *L, char *buf,
                             size_t cap)
{
    const char *dt = layer_dt_option(L);
    snprintf(buf, cap,
             "-DBF_VW=%lld -DBF_TM=%lld -DBF_TN=%lld -DBF_LS=%lld -DBF_BMAX=%lld -DBF_COLS=%lld"
             " -DBF_CHUNK=%lld -DBF_WPCU=%lld -DBF_MINT=%lld -DBF_DOTWI=%lld%s%s%s%s",
             (long long)t->vw, (long long)t->tm, (long long)t->tn, (long long)t->ls,
             (long long)t->bmax, (long long)t->cols, (long long)t->chunk, (long long)t->wpcu,
             (long long)t->mint, (long long)t->dotwi, idx_long ? " -DIDX_LONG" : "",
             gemm_cols_unit(L) ? " -DCOL1" : "", *dt ? " " : "", dt);
}

/* kernels/gemm_bwd_filter.cl's bwf_blocking: the plan as bwf_main takes it
 * (same fields, same order). */
typedef struct kbwf_blocking {
    cl_long kgp, bm, cb, kblocks, cblocks, rps, cr, ql;
} kbwf_blocking;

/* How one layer is cut up. */
typedef struct bf_plan {
    bf_tune t;
    int64_t bm, kblocks, kgp;      /* filters per block, blocks, padded Kg */
    int64_t cb, cblocks;           /* channels per block, blocks */
    int64_t splits, rps;           /* reduction splits, output rows per split */
    int64_t cr, ql;                /* a chunk: cr rows of a q segment of ql */
    int direct;                    /* one split: the main kernel writes dw */
    int dot;                       /* few filters per group: bwf_dot instead */
    int by_s;                      /* register tiles over (channel, s), not channels */
    size_t ws_floats, local_bytes;
    size_t stage_bytes;            /* > 0: one split gathers its dw block in local memory */
    int idx_long;
} bf_plan;

static int64_t cdiv(int64_t a, int64_t b) { return (a + b - 1) / b; }
static int64_t rup(int64_t a, int64_t b) { return cdiv(a, b) * b; }
static int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }
static int64_t max64(int64_t a, int64_t b) { return a > b ? a : b; }

/* a*b*c floats of workspace; SIZE_MAX on overflow, which no device can
 * allocate, so ctx_workspace answers CLCONV_DEVICE_LIMIT. */
static size_t floats(int64_t a, int64_t b, int64_t c)
{
    size_t t;
    if (mul_size((size_t)a, (size_t)b, &t) != CLCONV_OK || mul_size(t, (size_t)c, &t) != CLCONV_OK)
        return SIZE_MAX;
    return t;
}

/* Filter and channel blocks: as large as the tunables allow, then evened
 * out so the last block is not a sliver. */
static void plan_blocks(const layer *L, bf_plan *p)
{
    const int64_t kvec = p->t.vw * p->t.tm, tn = p->t.tn;
    p->kblocks = cdiv(L->kg, rup(p->t.bmax, kvec));
    p->bm = rup(cdiv(L->kg, p->kblocks), kvec);
    p->kgp = p->kblocks * p->bm;
    int64_t cb = rup(cdiv(p->t.cols, L->r * L->s), tn);
    p->cblocks = cdiv(L->cg, cb);
    p->cb = rup(cdiv(L->cg, p->cblocks), tn);
    p->cblocks = cdiv(L->cg, p->cb);
    /* tiles of channels waste the tail of the last channel tile; tiles of
     * (channel, s) pairs only the tail of cb*S (conv1: 3 channels) */
    const int64_t nch = min64(p->cb, L->cg);
    p->by_s = rup(nch * L->s, tn) < rup(nch, tn) * L->s;
}

/* Chunks of the reduction that fit the device's local memory. */
static void plan_chunk(const clconv_devinfo *info, const layer *L, bf_plan *p)
{
    int64_t chunk = p->t.chunk;
    while (chunk > 1 && (uint64_t)(chunk * p->bm) * sizeof(float) > info->local_mem)
        chunk /= 2;
    p->ql = min64(L->q, chunk);
    p->cr = p->ql < L->q ? 1 : max64(1, chunk / L->q);
    p->local_bytes = (size_t)(p->cr * p->ql * p->bm) * sizeof(float);
}

/* Split the N*P reduction rows so the device has per_cu work units per
 * compute unit (each split already has `units` of them), keeping at least
 * mint reduction elements per split. */
static void split_rows(const clconv_devinfo *info, const layer *L, bf_plan *p, int64_t per_cu,
                       int64_t units)
{
    const int64_t rows = L->n * L->p;
    const int64_t target = (int64_t)(info->compute_units ? info->compute_units : 1) * per_cu;
    int64_t splits = cdiv(target, units);
    splits = min64(splits, max64(1, rows * L->q / max64(1, p->t.mint)));
    splits = max64(1, min64(splits, rows));
    p->rps = cdiv(rows, splits);
    p->splits = cdiv(rows, p->rps);
    p->direct = p->splits == 1;
}

/* Enough splits of the N*P output rows to give every compute unit wpcu
 * work-groups, but none shorter than mint reduction elements. */
static void plan_splits(const clconv_devinfo *info, const layer *L, bf_plan *p)
{
    const int64_t base = L->g * p->kblocks * p->cblocks;
    split_rows(info, L, p, p->t.wpcu, base);
    const int64_t chunks = cdiv(p->rps, p->cr) * cdiv(L->q, p->ql);
    p->ws_floats = 0;
    if (!p->direct || chunks > 1)
        p->ws_floats = floats(p->splits * L->g * L->cg, L->r * L->s, p->kgp);
    /* a lone split writes dw itself: whole rows from local memory when the
     * block fits beside dyT (16-lane vectors and a KCRS dw only, whose rows
     * are the block's columns), else one scattered store per element */
    const size_t stage = (size_t)(p->bm * p->cb * L->r * L->s) * sizeof(float);
    p->stage_bytes = 0;
    if (p->direct && p->t.vw == 16 && L->flayout == CLCONV_KCRS &&
        p->local_bytes + stage <= info->local_mem)
        p->stage_bytes = stage;
}

/* Few filters per group (depthwise; at most an eighth of the main
 * kernel's filter tile, or one): its vectors over k would be mostly empty,
 * so each dw element becomes one dot product, its reduction split until
 * the device has dotwi work-items per compute unit.  (On this CPU, Kg = 8
 * ran about as fast either way; Kg = 16 twice as fast in the main kernel.) */
static void plan_dot(const clconv_devinfo *info, const layer *L, bf_plan *p)
{
    const int64_t elems = (int64_t)L->w_elems;
    split_rows(info, L, p, p->t.dotwi, elems);
    p->ws_floats = p->direct ? 0 : floats(p->splits, elems, 1);
}

/* 32-bit indices do not suffice: a tensor or the workspace holds more
 * than INT_MAX elements, or a coordinate the kernels form (p*sh - ph +
 * r*dh, q*sw - pw + s*dw, and sums of two such) could reach 2^30. */
static int needs_long(const layer *L, size_t ws_floats)
{
    const size_t big = (size_t)INT_MAX;
    if (L->x_elems > big || L->y_elems > big || L->w_elems > big || ws_floats > big)
        return 1;
    const int64_t lim = INT64_C(1) << 30;
    const int64_t parts[] = {L->h, L->w, L->ph, L->pw, L->pb, L->pr, L->sh, L->sw, L->dh, L->dw};
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++)
        if (parts[i] >= lim / 4)
            return 1;
    /* each part < 2^28, so these products cannot overflow int64 */
    return L->p * L->sh + L->r * L->dh >= lim || L->q * L->sw + L->s * L->dw >= lim;
}

static void plan_layer(const clconv_devinfo *info, const layer *L, bf_plan *p)
{
    memset(p, 0, sizeof *p);
    p->t = bf_tunables(info);
    p->dot = L->kg * 8 <= max64(8, p->t.vw * p->t.tm);
    if (p->dot) {
        plan_dot(info, L, p);
    } else {
        plan_blocks(L, p);
        plan_chunk(info, L, p);
        plan_splits(info, L, p);
    }
    p->idx_long = needs_long(L, p->ws_floats);
}

size_t gemm_backward_filter_workspace(const clconv_ctx *ctx, const layer *L)
{
    bf_plan p;
    plan_layer(&ctx->info, L, &p);
    return p.ws_floats > SIZE_MAX / sizeof(float) ? SIZE_MAX : p.ws_floats * sizeof(float);
}

/* The device must address every element the kernels touch, and hold
 * their local memory and the split reduction's workspace. */
static clconv_status plan_fits(const clconv_ctx *ctx, const pass_args *a, const bf_plan *p,
                               char *why, size_t cap)
{
    const layer *L = a->L;
    const unsigned bits = ctx->info.address_bits;
    const uint64_t lim = bits >= 64 ? UINT64_MAX : (UINT64_C(1) << bits);
    const uint64_t ends[] = {(uint64_t)(a->a_off + L->x_elems), (uint64_t)(a->b_off + L->y_elems),
                             (uint64_t)(a->out_off + L->w_elems), (uint64_t)p->ws_floats};
    /* the tensors' elements are esize bytes, the workspace's floats */
    const uint64_t esz[] = {L->esize, L->esize, L->esize, sizeof(float)};
    for (int i = 0; i < 4; i++)
        if (ends[i] > lim / esz[i]) {
            snprintf(why, cap,
                     "GEMM backward-filter: %llu elements exceed the device's %u-bit addresses",
                     (unsigned long long)ends[i], bits);
            return CLCONV_DEVICE_LIMIT;
        }
    if (p->local_bytes > ctx->info.local_mem) {
        snprintf(why, cap, "GEMM backward-filter: needs %zu bytes of local memory, device has %llu",
                 p->local_bytes, (unsigned long long)ctx->info.local_mem);
        return CLCONV_DEVICE_LIMIT;
    }
    const size_t bytes = p->ws_floats > SIZE_MAX / sizeof(float) ? SIZE_MAX
                                                                 : p->ws_floats * sizeof(float);
    return p->ws_floats ? workspace_fits(&ctx->info, bytes, why, cap) : CLCONV_OK;
}

clconv_status gemm_backward_filter_supports(const clconv_ctx *ctx, const pass_args *a, char *why,
                                            size_t cap)
{
    bf_plan p;
    plan_layer(&ctx->info, a->L, &p);
    return plan_fits(ctx, a, &p, why, cap);
}

static clconv_status get_kernel(clconv_ctx *ctx, const layer *L, const bf_plan *p,
                                const char *name, cl_kernel *k)
{
    char opts[512];
    bf_build_options(&p->t, p->idx_long, L, opts, sizeof opts);
    return ctx_kernel(ctx, p->dot ? "gemm_bwd_filter_dot" : "gemm_bwd_filter", opts, name, k);
}

static clconv_status run_main(clconv_ctx *ctx, const pass_args *a, const bf_plan *p, cl_mem ws)
{
    const layer *L = a->L;
    cl_kernel k;
    TRY(get_kernel(ctx, L, p, "bwf_main", &k));
    cl_long xo = (cl_long)a->a_off, yo = (cl_long)a->b_off, oo = (cl_long)a->out_off;
    cl_int beta = a->beta, direct = p->direct, by_s = p->by_s, staged = p->stage_bytes > 0;
    const kgeom g = kgeom_of(L);
    const kbwf_blocking bl = {p->kgp, p->bm, p->cb, p->kblocks, p->cblocks, p->rps, p->cr, p->ql};
    const karg args[] = {
        KARG(a->a), KARG(xo), KARG(a->b), KARG(yo), KARG(ws), KARG(a->out), KARG(oo),
        KARG(beta), KARG(direct), KARG(by_s), {p->local_bytes, NULL},
        KARG(staged), {staged ? p->stage_bytes : 16 * sizeof(float), NULL}, KARG(g), KARG(bl),
    };
    const size_t groups = (size_t)(p->splits * L->g * p->kblocks * p->cblocks);
    return ctx_launch(ctx, k, (int)(sizeof args / sizeof args[0]), args,
                      groups * (size_t)p->t.ls, (size_t)p->t.ls, p->direct ? a->event : NULL);
}

static clconv_status run_reduce(clconv_ctx *ctx, const pass_args *a, const bf_plan *p,
                                cl_mem ws)
{
    const layer *L = a->L;
    cl_kernel k;
    TRY(get_kernel(ctx, L, p, "bwf_reduce", &k));
    cl_long oo = (cl_long)a->out_off;
    cl_int beta = a->beta;
    const kgeom g = kgeom_of(L);
    const karg args[] = {KARG(ws),  KARG(a->out), KARG(oo), KARG(beta),
                         KARG(g),   KARG(p->kgp), KARG(p->splits)};
    const size_t items = (size_t)(L->g * L->cg * L->r * L->s * (p->kgp / p->t.vw));
    return ctx_launch(ctx, k, (int)(sizeof args / sizeof args[0]), args, items, 0, a->event);
}

static clconv_status run_dot(clconv_ctx *ctx, const pass_args *a, const bf_plan *p, cl_mem ws)
{
    const layer *L = a->L;
    cl_kernel k;
    TRY(get_kernel(ctx, L, p, "bwf_dot", &k));
    cl_long xo = (cl_long)a->a_off, yo = (cl_long)a->b_off, oo = (cl_long)a->out_off;
    cl_int beta = a->beta, direct = p->direct;
    const kgeom g = kgeom_of(L);
    const karg args[] = {
        KARG(a->a), KARG(xo),   KARG(a->b), KARG(yo), KARG(ws),     KARG(a->out),
        KARG(oo),   KARG(beta), KARG(direct), KARG(g), KARG(p->rps), KARG(p->splits),
    };
    return ctx_launch(ctx, k, (int)(sizeof args / sizeof args[0]), args,
                      (size_t)p->splits * L->w_elems, 0, p->direct ? a->event : NULL);
}

static clconv_status run_dot_reduce(clconv_ctx *ctx, const pass_args *a, const bf_plan *p,
                                    cl_mem ws)
{
    cl_kernel k;
    TRY(ctx_kernel(ctx, "split_reduce", layer_dt_option(a->L), "split_reduce", &k));
    cl_long oo = (cl_long)a->out_off, elems = (cl_long)a->L->w_elems;
    cl_int beta = a->beta;
    const karg args[] = {KARG(ws), KARG(a->out), KARG(oo), KARG(beta), KARG(elems),
                         KARG(p->splits)};
    return ctx_launch(ctx, k, 6, args, a->L->w_elems, 0, a->event);
}

clconv_status gemm_backward_filter(clconv_ctx *ctx, const pass_args *a)
{
    bf_plan p;
    plan_layer(&ctx->info, a->L, &p);
    /* gemm_backward_filter_supports has been asked (passes.c) */
    cl_mem ws;
    TRY(ctx_workspace(ctx, p.ws_floats * sizeof(float), &ws));
    /* build both kernels before enqueueing anything: a failed build must
     * leave dw untouched */
    cl_kernel unused;
    TRY(get_kernel(ctx, a->L, &p, p.dot ? "bwf_dot" : "bwf_main", &unused));
    if (!p.direct && p.dot)
        TRY(ctx_kernel(ctx, "split_reduce", layer_dt_option(a->L), "split_reduce", &unused));
    else if (!p.direct)
        TRY(get_kernel(ctx, a->L, &p, "bwf_reduce", &unused));
    TRY(p.dot ? run_dot(ctx, a, &p, ws) : run_main(ctx, a, &p, ws));
    if (p.direct)
        return CLCONV_OK;
    return p.dot ? run_dot_reduce(ctx, a, &p, ws) : run_reduce(ctx, a, &p, ws);
}
