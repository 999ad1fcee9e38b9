/* Public calls that run one kernel each: backward-bias and the seed's two
 * primitives (upsample+pad, flip) on their own.  Each runs every storage
 * type and layout of the descriptor: its tensors are in the layer's dtype,
 * dy and the upsampled map in its layout, w and the flipped filter in its
 * filter layout. */
#include <stdio.h>
#include "primitives.h"

/* Lock, check the layer and the two buffers, then run `body`. */
typedef clconv_status (*body_fn)(clconv_ctx *ctx, const layer *L, cl_mem in, size_t in_off,
                                 cl_mem out, size_t out_off, int beta, cl_event *event);

typedef size_t (*elems_fn)(const layer *L);

/* What a call does: its kernel, and its two tensors' sizes and names. */
typedef struct single_op {
    body_fn body;
    elems_fn in_elems, out_elems;
    const char *in_name, *out_name;
} single_op;

static clconv_status call_locked(clconv_ctx *ctx, const clconv_desc *d, const single_op *op,
                                 cl_mem in, size_t in_off, cl_mem out, size_t out_off, int beta,
                                 cl_event *event)
{
    if (!d)
        return ctx_fail(ctx, CLCONV_NULL_ARGUMENT, CL_SUCCESS, "descriptor is NULL");
    layer L;
    clconv_status st = layer_from_desc(d, &L);
    if (st != CLCONV_OK)
        return ctx_fail(ctx, st, CL_SUCCESS, "invalid descriptor: %s", clconv_status_string(st));
    const tensor_arg t[2] = {
        {in, in_off, op->in_elems(&L), op->in_name, TENSOR_READ, L.esize},
        {out, out_off, op->out_elems(&L), op->out_name, TENSOR_WRITE | (beta ? TENSOR_READ : 0),
         L.esize}};
    TRY(check_tensors(ctx, t, 2));
    return op->body(ctx, &L, in, in_off, out, out_off, beta, event);
}

static clconv_status call(clconv_ctx *ctx, const clconv_desc *d, const single_op *op, cl_mem in,
                          size_t in_off, cl_mem out, size_t out_off, int beta, cl_event *event)
{
    if (event)
        *event = NULL; /* what a failed call leaves; success sets it */
    if (!ctx)
        return CLCONV_NULL_ARGUMENT;
    pthread_mutex_lock(&ctx->lock);
    ctx_clear_error(ctx);
    clconv_status st = call_locked(ctx, d, op, in, in_off, out, out_off, beta, event);
    pthread_mutex_unlock(&ctx->lock);
    return st;
}

static size_t y_elems(const layer *L) { return L->y_elems; }
static size_t w_elems(const layer *L) { return L->w_elems; }
static size_t k_elems(const layer *L) { return (size_t)L->k; }

static size_t upsampled_elems(const layer *L) { return upsample_elems(L, 1); }

#define BIAS_WG 64 /* matches the kernel's default; passed as -D to be sure */

static clconv_status bias_body(clconv_ctx *ctx, const layer *L, cl_mem dy, size_t dy_off,
                               cl_mem db, size_t db_off, int beta, cl_event *event)
{
    char opts[64];
    const char *dt = simple_kernel_options(L, 0);
    snprintf(opts, sizeof opts, "-DBIAS_WG=%d%s%s", BIAS_WG, *dt ? " " : "", dt);
    cl_kernel k;
    TRY(ctx_kernel(ctx, "bias", opts, "bwd_bias", &k));
    cl_long io = (cl_long)dy_off, oo = (cl_long)db_off;
    cl_int b = beta != 0;
    const kgeom g = kgeom_of(L);
    const karg args[] = {KARG(dy), KARG(io), KARG(db), KARG(oo), KARG(b), KARG(g)};
    return ctx_launch(ctx, k, 6, args, (size_t)L->k * BIAS_WG, BIAS_WG, event);
}

static clconv_status upsample_body(clconv_ctx *ctx, const layer *L, cl_mem dy, size_t dy_off,
                                   cl_mem out, size_t out_off, int beta, cl_event *event)
{
    (void)beta;
    return run_upsample(ctx, L, 1, dy, dy_off, out, out_off, event);
}

static clconv_status flip_body(clconv_ctx *ctx, const layer *L, cl_mem w, size_t w_off,
                               cl_mem wf, size_t wf_off, int beta, cl_event *event)
{
    (void)beta;
    return run_flip(ctx, L, w, w_off, wf, wf_off, event);
}

clconv_status clconv_backward_bias(clconv_ctx *ctx, const clconv_desc *d, cl_mem dy,
                                   size_t dy_off, cl_mem db, size_t db_off, int accumulate,
                                   cl_event *event)
{
    log_pass(ctx, d, CLCONV_ALGO_AUTO, CLCONV_PASS_COUNT_, accumulate); /* CLCONV_LOG */
    static const single_op op = {bias_body, y_elems, k_elems, "dy", "db"};
    return call(ctx, d, &op, dy, dy_off, db, db_off, accumulate, event);
}

clconv_status clconv_upsample_pad(clconv_ctx *ctx, const clconv_desc *d, cl_mem dy, size_t dy_off,
                                  cl_mem out, size_t out_off, cl_event *event)
{
    log_primitive(ctx, "clconv_upsample_pad", d); /* CLCONV_LOG */
    static const single_op op = {upsample_body, y_elems, upsampled_elems, "dy", "out"};
    return call(ctx, d, &op, dy, dy_off, out, out_off, 0, event);
}

clconv_status clconv_flip_filter(clconv_ctx *ctx, const clconv_desc *d, cl_mem w, size_t w_off,
                                 cl_mem wf, size_t wf_off, cl_event *event)
{
    log_primitive(ctx, "clconv_flip_filter", d); /* CLCONV_LOG */
    static const single_op op = {flip_body, w_elems, w_elems, "w", "wf"};
    return call(ctx, d, &op, w, w_off, wf, wf_off, 0, event);
}
