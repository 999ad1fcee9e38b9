/* TILED: the three passes as one local-memory tiled implicit GEMM
 * (kernels/tiled_conv.cl), shaped for GPUs.  This file holds its tuning
 * table, cuts a layer into work-groups (and backward-filter's reduction
 * into splits, added up by kernels/split_reduce.cl in split order), says
 * what the device must offer, and launches.  In TF32 math mode its
 * kernels multiply through m16n8k8 mma steps where math_mode.c finds a
 * path for them (math_tf32_path): -DTF32 (inline PTX) or -DTF32 plus
 * -DTF32_EMULATE (the portable emulation).
 * Every data type, layout and padding runs through the same plan: the
 * kernel converts at its global loads and stores (DT), addresses every
 * tensor through the layer's element strides (kgeom), and needs only the
 * top/left padding (the bottom/right padding sized P and Q); the forward's
 * fused epilogue is applied in its store step, once per element, to the
 * whole sum: forward never splits its reduction (only backward-filter
 * does, into fp32 partials that split_reduce rounds once). */
#include <stdio.h>
#include <string.h>
#include "tiled.h"

/* {name, device type, vendor, min local memory, min compute units},
 * wide {bm, bn, bk, tm, tn}, narrow {...}, wg_per_cu, min_chunks.
 * UNTUNED on GPUs (none was at hand): the NVIDIA row is the classic
 * 128 x 128 x 8 SGEMM tile, 8 x 8 per work-item, 256 work-items, which
 * `make ptx-check` keeps within 128 registers (two work-groups per SM),
 * and half of it (64 rows, 128 work-items) for layers of at most 64
 * output channels.  Every GPU shape keeps 8 x 8 per work-item: with 8 x 4
 * a reduction step reads 3 float4s for 32 FMAs, under ptx-check's 8 FMAs
 * per load once the chunk's global loads are counted.
 * The CPU row only has to run in reasonable time on PoCL (AUTO does not
 * take TILED on CPUs): PoCL keeps each work-item's register tile in
 * memory across barriers, so few work-items with large tiles and long
 * chunks did best (64 x 64 x 16, 8 x 8 on 64 work-items: about 4 times
 * the speed of 4 x 4 tiles, 7 times that of 128 work-items, on the 3x3
 * c64 anchor at mb2 on 2 cores).  Narrow layers take the same tile: each
 * shape is one more build of every pass (about 1.3 s of PoCL's code
 * generation each, most of a cold `make demo`), and speed on a CPU is
 * GEMM's job.
 * The generic row, the kernel's #ifndef defaults, is a 64 x 64 tile of 64
 * work-items, narrow or not. */
const tiled_row tiled_rows[TILED_ROWS] = {
    {{"nvidia", CL_DEVICE_TYPE_GPU, "NVIDIA", 0, 0},
     {128, 128, 8, 8, 8}, {64, 128, 8, 8, 8}, 4, 16},
    {{"cpu", CL_DEVICE_TYPE_CPU, NULL, 0, 0}, {64, 64, 16, 8, 8}, {64, 64, 16, 8, 8}, 2, 16},
    {{"generic", 0, NULL, 0, 0}, {64, 64, 8, 8, 8}, {64, 64, 8, 8, 8}, 4, 16},
};

/* The NDRange's second and third dimensions: NVIDIA's grid y and z. */
#define TILED_MAX_GROUPS_YZ 65535

int tiled_shape_wg(const tiled_shape *s)
{
    return (s->bm / s->tm) * (s->bn / s->tn);
}

static int64_t cdiv(int64_t a, int64_t b) { return (a + b - 1) / b; }
static int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }
static int64_t max64(int64_t a, int64_t b) { return a > b ? a : b; }

/* GEMM rows per group, columns (of the largest stride phase) and the
 * reduction length of a pass. */
static void gemm_dims(const layer *L, clconv_pass pass, int64_t *m, int64_t *cols, int64_t *red)
{
    if (pass == CLCONV_PASS_FORWARD) {
        *m = L->kg, *cols = L->n * L->p * L->q, *red = L->cg * L->r * L->s;
    } else if (pass == CLCONV_PASS_BACKWARD_DATA) {
        *m = L->cg, *cols = L->n * cdiv(L->h, L->sh) * cdiv(L->w, L->sw);
        *red = L->kg * L->r * L->s; /* an upper bound: a phase has some of the taps */
    } else {
        *m = L->kg, *cols = L->cg * L->r * L->s, *red = L->n * L->p * L->q;
    }
}

/* Enough splits of backward-filter's N*P*Q reduction for wg_per_cu
 * work-groups per compute unit, each at least min_chunks chunks long. */
static void plan_splits(const clconv_devinfo *info, const tiled_row *row, int64_t red,
                        tiled_plan *p)
{
    const int64_t bk = p->shape.bk, chunks = cdiv(red, bk);
    const int64_t base = (int64_t)(p->groups[0] * p->groups[1]);
    const int64_t target = (int64_t)max64(1, info->compute_units) * row->wg_per_cu;
    int64_t splits = min64(cdiv(target, base), max64(1, chunks / row->min_chunks));
    splits = max64(1, min64(splits, TILED_MAX_GROUPS_YZ));
    p->split_len = cdiv(chunks, splits) * bk;
    p->splits = cdiv(red, p->split_len);
}

/* The kernel's __local arrays: two buffer pairs of padded rows (LDA, LDB:
 * 4 floats of padding, 8 on the TF32 path), the view, and the portable
 * mma's exchange areas (XCHG_FLOATS). */
static size_t plan_local_bytes(const tiled_plan *p)
{
    const tiled_shape *s = &p->shape;
    const size_t pad = p->tf32 != MATH_TF32_OFF ? 8 : 4;
    size_t floats = 2 * (size_t)s->bk * ((size_t)s->bm + (size_t)s->bn + 2 * pad);
    if (p->tf32 == MATH_TF32_EMULATED) {
        const size_t areas = s->bk / 8 > 1 ? 2 : 1, warps = (size_t)tiled_shape_wg(s) / 32;
        floats += areas * warps * (size_t)(s->tm / 2 * 128 + s->tn / 2 * 64);
    }
    return floats * sizeof(float) + 64 * sizeof(cl_long); /* + the view */
}

void tiled_plan_layer(const clconv_devinfo *info, const layer *L, clconv_pass pass,
                      tiled_plan *p)
{
    memset(p, 0, sizeof *p);
    p->row = TUNING_PICK(info, tiled_rows);
    const tiled_row *row = &tiled_rows[p->row];
    int64_t cols, red;
    gemm_dims(L, pass, &p->m, &cols, &red);
    p->pass = (int)pass;
    p->shape = p->m <= row->narrow.bm ? row->narrow : row->wide;
    p->groups[0] = (size_t)cdiv(cols, p->shape.bn);
    p->groups[1] = (size_t)(L->g * cdiv(p->m, p->shape.bm));
    p->groups[2] = 1;
    p->splits = 1;
    if (pass == CLCONV_PASS_BACKWARD_DATA)
        p->groups[2] = (size_t)(min64(L->sh, L->h) * min64(L->sw, L->w));
    if (pass == CLCONV_PASS_BACKWARD_FILTER) {
        plan_splits(info, row, red, p);
        p->groups[2] = (size_t)p->splits;
        if (p->splits > 1 && mul_size((size_t)p->splits, L->w_elems, &p->ws_floats) != CLCONV_OK)
            p->ws_floats = SIZE_MAX / sizeof(float); /* refused by workspace_fits */
    }
    p->local_bytes = plan_local_bytes(p);
    p->idx_long = layer_needs_long(L, p->ws_floats);
    p->dt_option = layer_dt_option(L);
    /* B's image: x, or dy in backward-data; its w (q) stride */
    p->img_strided = (pass == CLCONV_PASS_BACKWARD_DATA ? L->ys[3] : L->xs[3]) != 1;
}

/* Whether the mma warp tiles fit the shape (kernels/tiled_conv.cl's TF32
 * #error): 32 work-items a warp, each warp 8*tm x 4*tn, bk a multiple of
 * the mma's k = 8. */
static int tf32_fits(const tiled_shape *s)
{
    return tiled_shape_wg(s) % 32 == 0 && s->bm % (8 * s->tm) == 0 && s->bn % (4 * s->tn) == 0 &&
           s->bk % 8 == 0;
}

void tiled_plan_ctx(const clconv_ctx *ctx, const layer *L, clconv_pass pass, tiled_plan *p)
{
    tiled_plan_layer(&ctx->info, L, pass, p);
    p->tf32 = tf32_fits(&p->shape) ? math_tf32_path(ctx) : MATH_TF32_OFF;
    p->local_bytes = plan_local_bytes(p);
}

void tiled_build_options(const tiled_plan *p, char *buf, size_t cap)
{
    const tiled_shape *s = &p->shape;
    const char *dt = p->dt_option ? p->dt_option : "";
    snprintf(buf, cap, "-DPASS=%d -DBM=%d -DBN=%d -DBK=%d -DTM=%d -DTN=%d%s%s%s%s%s%s%s%s",
             p->pass, s->bm, s->bn, s->bk, s->tm, s->tn, p->idx_long ? " -DIDX_LONG" : "",
             p->tf32 != MATH_TF32_OFF ? " -DTF32" : "",
             p->tf32 == MATH_TF32_EMULATED ? " -DTF32_EMULATE" : "", *dt ? " " : "", dt,
             p->img_strided ? " -DIMG_STRIDED" : "", p->epilogue ? " -DEPILOGUE" : "",
             p->splits > 1 ? " -DPARTIALS" : "");
}

tiled_geom tiled_geometry(const layer *L, const tiled_plan *p)
{
    return (tiled_geom){.l = kgeom_of(L), .splits = p->splits, .split_len = p->split_len};
}

/* ---- what the device must offer ------------------------------------------- */

/* Tensors past 4 GiB need 64-bit addresses. */
static clconv_status check_addresses(const clconv_ctx *ctx, const pass_args *a, char *why,
                                     size_t cap)
{
    if (ctx->info.address_bits >= 64)
        return CLCONV_OK;
    const layer *L = a->L;
    const size_t lim = ((size_t)1 << 32) / L->esize - 1; /* 4 GiB of elements */
    const size_t ends[] = {a->a_off + L->x_elems, a->a_off + L->y_elems, a->b_off + L->w_elems,
                           a->b_off + L->y_elems, a->out_off + L->x_elems,
                           a->out_off + L->y_elems, a->out_off + L->w_elems,
                           a->ep && a->bias ? a->bias_off + (size_t)L->k : 0};
    for (size_t i = 0; i < sizeof ends / sizeof ends[0]; i++)
        if (ends[i] > lim) {
            snprintf(why, cap, "tiled: the device has %u-bit addresses: it cannot index a "
                               "tensor reaching past 4 GiB",
                     (unsigned)ctx->info.address_bits);
            return CLCONV_DEVICE_LIMIT;
        }
    return CLCONV_OK;
}

/* The work-group size, local memory, NDRange and scratch the plan needs. */
static clconv_status check_plan(const clconv_ctx *ctx, const tiled_plan *p, char *why,
                                size_t cap)
{
    const int wg = tiled_shape_wg(&p->shape);
    if (ctx->info.max_wg && (size_t)wg > ctx->info.max_wg) {
        snprintf(why, cap, "tiled: work-groups of %d work-items, the device allows %zu", wg,
                 ctx->info.max_wg);
        return CLCONV_DEVICE_LIMIT;
    }
    if (p->local_bytes > ctx->info.local_mem) {
        snprintf(why, cap, "tiled: needs %zu bytes of local memory, the device has %llu",
                 p->local_bytes, (unsigned long long)ctx->info.local_mem);
        return CLCONV_DEVICE_LIMIT;
    }
    if (p->groups[1] > TILED_MAX_GROUPS_YZ || p->groups[2] > TILED_MAX_GROUPS_YZ ||
        p->groups[0] > (size_t)INT32_MAX / (size_t)wg) {
        snprintf(why, cap, "tiled: %zu x %zu x %zu work-groups exceed the NDRange it assumes "
                           "(65535 along dimensions 1 and 2)",
                 p->groups[0], p->groups[1], p->groups[2]);
        return CLCONV_DEVICE_LIMIT;
    }
    if (!p->ws_floats)
        return CLCONV_OK;
    const size_t bytes = p->ws_floats > SIZE_MAX / sizeof(float) ? SIZE_MAX
                                                                 : p->ws_floats * sizeof(float);
    return workspace_fits(&ctx->info, bytes, why, cap);
}

/* The plan of one call: the context's, with the call's epilogue. */
static void plan_call(const clconv_ctx *ctx, const pass_args *a, clconv_pass pass,
                      tiled_plan *p)
{
    tiled_plan_ctx(ctx, a->L, pass, p);
    p->epilogue = pass == CLCONV_PASS_FORWARD && a->ep != NULL;
}

static clconv_status supports(const clconv_ctx *ctx, clconv_pass pass, const pass_args *a,
                              char *why, size_t cap)
{
    TRY(check_addresses(ctx, a, why, cap));
    tiled_plan p;
    plan_call(ctx, a, pass, &p);
    /* the epilogue belongs to the whole sum: a plan that split it would
     * need a final step (forward never splits today) */
    if (p.epilogue && p.splits > 1) {
        snprintf(why, cap, "tiled: a fused epilogue with a split reduction");
        return CLCONV_NOT_SUPPORTED;
    }
    return check_plan(ctx, &p, why, cap);
}

int tiled_auto_ok(const clconv_ctx *ctx, clconv_pass pass, const pass_args *a, char *why,
                  size_t cap)
{
    int named = 0;
    for (int i = 0; i < TILED_ROWS; i++)
        named |= ctx->info.tuning[0] && !strcmp(ctx->info.tuning, tiled_rows[i].match.name);
    if (!(ctx->info.type & CL_DEVICE_TYPE_GPU) && !named) {
        snprintf(why, cap, "tiled is for GPUs (CLCONV_TUNING=nvidia or another of its rows "
                           "makes AUTO take it on any device)");
        return 0;
    }
    tiled_plan p;
    tiled_plan_ctx(ctx, a->L, pass, &p);
    if (p.m * 4 < p.shape.bm) {
        snprintf(why, cap, "tiled: %lld output channels per group fill less than a quarter "
                           "of its %d-row tile",
                 (long long)p.m, p.shape.bm);
        return 0;
    }
    return 1;
}

static clconv_status workspace(const clconv_ctx *ctx, const layer *L, clconv_pass pass,
                               size_t *bytes)
{
    tiled_plan p;
    tiled_plan_ctx(ctx, L, pass, &p);
    *bytes = p.ws_floats > SIZE_MAX / sizeof(float) ? SIZE_MAX : p.ws_floats * sizeof(float);
    return CLCONV_OK;
}

/* ---- launching ------------------------------------------------------------- */

static clconv_status set_args(clconv_ctx *ctx, cl_kernel k, const karg *args, int n)
{
    for (int i = 0; i < n; i++)
        CL_TRY(ctx, clSetKernelArg(k, (cl_uint)i, args[i].size, args[i].value), "clSetKernelArg");
    return CLCONV_OK;
}

static clconv_status get_kernels(clconv_ctx *ctx, const tiled_plan *p, cl_kernel *conv,
                                 cl_kernel *reduce)
{
    char opts[256];
    tiled_build_options(p, opts, sizeof opts);
    TRY(ctx_kernel(ctx, "tiled_conv", opts, "tiled_conv", conv));
    *reduce = NULL;
    if (p->splits > 1)
        TRY(ctx_kernel(ctx, "split_reduce", p->dt_option, "split_reduce", reduce));
    return CLCONV_OK;
}

/* tiled_conv over the plan's NDRange: out is the pass's output, or the
 * workspace of the split partial sums. */
static clconv_status run_conv(clconv_ctx *ctx, const pass_args *a, const tiled_plan *p,
                              cl_kernel k, cl_mem out, cl_long out_off, cl_int beta,
                              cl_event *event)
{
    const tiled_geom geom = tiled_geometry(a->L, p);
    /* the GEMM's A is the filter (forward, backward-data) or dy
     * (backward-filter): pass_args' b; its B, the image, is a */
    const cl_long ro = (cl_long)a->b_off, wo = (cl_long)a->a_off;
    /* the epilogue's bias, or the output as the dummy it never reads */
    const cl_mem bias = a->bias ? a->bias : a->out;
    const cl_long bo = a->bias ? (cl_long)a->bias_off : 0;
    karg args[11] = {KARG(a->b), KARG(ro), KARG(a->a), KARG(wo), KARG(out), KARG(out_off),
                     KARG(beta), KARG(geom)};
    int nargs = 8;
    if (p->epilogue) { /* the kernel's EPILOGUE arguments */
        args[nargs++] = KARG(*a->ep);
        args[nargs++] = KARG(bias);
        args[nargs++] = KARG(bo);
    }
    TRY(set_args(ctx, k, args, nargs));
    const size_t wg = (size_t)tiled_shape_wg(&p->shape);
    const size_t global[3] = {p->groups[0] * wg, p->groups[1], p->groups[2]};
    const size_t local[3] = {wg, 1, 1};
    CL_TRY(ctx, clEnqueueNDRangeKernel(ctx->queue, k, 3, NULL, global, local, 0, NULL, event),
           "clEnqueueNDRangeKernel (tiled_conv)");
    return CLCONV_OK;
}

static clconv_status run_reduce(clconv_ctx *ctx, const pass_args *a, const tiled_plan *p,
                                cl_kernel k, cl_mem ws)
{
    const cl_long oo = (cl_long)a->out_off, elems = (cl_long)a->L->w_elems;
    const cl_long splits = (cl_long)p->splits;
    const cl_int beta = a->beta;
    const karg args[] = {KARG(ws), KARG(a->out), KARG(oo), KARG(beta), KARG(elems), KARG(splits)};
    return ctx_launch(ctx, k, (int)(sizeof args / sizeof args[0]), args, a->L->w_elems, 0,
                      a->event);
}

/* One pass (supports() has been asked, passes.c): both kernels built
 * before anything is enqueued, so a failed build leaves the output as
 * it was. */
static clconv_status run_pass(clconv_ctx *ctx, const pass_args *a, clconv_pass pass)
{
    tiled_plan p;
    plan_call(ctx, a, pass, &p);
    cl_kernel conv, reduce;
    TRY(get_kernels(ctx, &p, &conv, &reduce));
    if (p.splits <= 1)
        return run_conv(ctx, a, &p, conv, a->out, (cl_long)a->out_off, a->beta, a->event);
    cl_mem ws;
    TRY(ctx_workspace(ctx, p.ws_floats * sizeof(float), &ws));
    TRY(run_conv(ctx, a, &p, conv, ws, 0, 0, NULL));
    return run_reduce(ctx, a, &p, reduce, ws);
}

static clconv_status tiled_forward(clconv_ctx *ctx, const pass_args *a)
{
    return run_pass(ctx, a, CLCONV_PASS_FORWARD);
}

static clconv_status tiled_backward_data(clconv_ctx *ctx, const pass_args *a)
{
    return run_pass(ctx, a, CLCONV_PASS_BACKWARD_DATA);
}

static clconv_status tiled_backward_filter(clconv_ctx *ctx, const pass_args *a)
{
    return run_pass(ctx, a, CLCONV_PASS_BACKWARD_FILTER);
}

/* What tests/test_features_tiled.c runs: every storage type, layout and
 * padding in every pass, the fused epilogue in the forward. */
#define TILED_CAPS (CAP_F16 | CAP_BF16 | CAP_NHWC | CAP_KRSC | CAP_ASYM_PAD)

const algo_impl algo_tiled = {"tiled",
                              {tiled_forward, tiled_backward_data, tiled_backward_filter},
                              workspace, supports,
                              {TILED_CAPS | CAP_EPILOGUE, TILED_CAPS, TILED_CAPS}};
