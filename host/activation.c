/* clconv_activation_backward: the gradient through the fused epilogue's
 * activation, from its output y (kernels/activation.cl's act_bwd).
 * Elementwise over the layer's y tensor, so y, dy and dz only need to
 * share its layout; in place when dz is dy (same buffer, same offset). */
#include <stdio.h>
#include "elementwise.h"

clconv_status elementwise_kernel(clconv_ctx *ctx, const layer *L, const char *name,
                                 cl_kernel *out)
{
    char opts[64];
    const char *dt = layer_dt_option(L);
    snprintf(opts, sizeof opts, "%s%s%s", dt, *dt ? " " : "",
             layer_needs_long(L, 0) ? "-DIDX_LONG" : "");
    return ctx_kernel(ctx, "activation", opts, name, out);
}

/* The activation and its parameter, checked as an epilogue's are
 * (clconv_epilogue_check), so the two calls accept the same values. */
static clconv_status check_activation(clconv_ctx *ctx, clconv_activation act, float param)
{
    clconv_epilogue e;
    clconv_epilogue_init(&e);
    e.activation = (int32_t)act;
    e.param = param;
    clconv_status st = clconv_epilogue_check(&e);
    if (st != CLCONV_OK)
        return ctx_fail(ctx, st, CL_SUCCESS,
                        "activation %d with parameter %g: unknown, or the parameter is outside "
                        "its range (clipped ReLU > 0, leaky ReLU >= 0, finite)",
                        (int)act, (double)param);
    return CLCONV_OK;
}

/* The buffers: y and dy read, dz written; dz == dy (same buffer and
 * offset) is the in-place call, checked as one tensor read and written,
 * and any other overlap of dz is BAD_BUFFER. */
static clconv_status check_buffers(clconv_ctx *ctx, const layer *L, cl_mem y, size_t y_off,
                                   cl_mem dy, size_t dy_off, cl_mem dz, size_t dz_off,
                                   int in_place)
{
    const size_t n = L->y_elems, es = L->esize;
    const tensor_arg t[3] = {
        {y, y_off, n, "y", TENSOR_READ, es},
        {dz, dz_off, n, "dz", TENSOR_WRITE | (in_place ? TENSOR_READ : 0), es},
        {dy, dy_off, n, "dy", TENSOR_READ, es},
    };
    return check_tensors(ctx, t, in_place ? 2 : 3);
}

static clconv_status run_locked(clconv_ctx *ctx, const clconv_desc *d, clconv_activation act,
                                float param, cl_mem y, size_t y_off, cl_mem dy, size_t dy_off,
                                cl_mem dz, size_t dz_off, cl_event *event)
{
    if (!d)
        return ctx_fail(ctx, CLCONV_NULL_ARGUMENT, CL_SUCCESS, "descriptor is NULL");
    layer L;
    clconv_status st = layer_from_desc(d, &L);
    if (st != CLCONV_OK)
        return ctx_fail(ctx, st, CL_SUCCESS, "invalid descriptor: %s", clconv_status_string(st));
    TRY(check_activation(ctx, act, param));
    const int in_place = dz && dz == dy && dz_off == dy_off;
    TRY(check_buffers(ctx, &L, y, y_off, dy, dy_off, dz, dz_off, in_place));
    cl_kernel k;
    TRY(elementwise_kernel(ctx, &L, in_place ? "act_bwd_inplace" : "act_bwd", &k));
    cl_long yo = (cl_long)y_off, dyo = (cl_long)dy_off, dzo = (cl_long)dz_off;
    cl_long count = (cl_long)L.y_elems;
    cl_int a = (cl_int)act;
    cl_float pm = param;
    if (in_place) {
        const karg args[] = {KARG(y), KARG(yo), KARG(dz), KARG(dzo), KARG(count), KARG(a),
                             KARG(pm)};
        return ctx_launch(ctx, k, 7, args, L.y_elems, 0, event);
    }
    const karg args[] = {KARG(y), KARG(yo), KARG(dy), KARG(dyo), KARG(dz), KARG(dzo),
                         KARG(count), KARG(a), KARG(pm)};
    return ctx_launch(ctx, k, 9, args, L.y_elems, 0, event);
}

clconv_status clconv_activation_backward(clconv_ctx *ctx, const clconv_desc *d,
                                         clconv_activation act, float param, cl_mem y,
                                         size_t y_off, cl_mem dy, size_t dy_off, cl_mem dz,
                                         size_t dz_off, cl_event *event)
{
    if (event)
        *event = NULL; /* what a failed call leaves; success sets it */
    if (!ctx)
        return CLCONV_NULL_ARGUMENT;
    log_primitive(ctx, "clconv_activation_backward", d); /* CLCONV_LOG */
    pthread_mutex_lock(&ctx->lock);
    ctx_clear_error(ctx);
    clconv_status st = run_locked(ctx, d, act, param, y, y_off, dy, dy_off, dz, dz_off, event);
    pthread_mutex_unlock(&ctx->lock);
    return st;
}
