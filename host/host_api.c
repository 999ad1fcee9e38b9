/* Host-array convenience calls: copy in, run the device call, copy out,
 * wait.  For simple applications and tests; frameworks use the cl_mem calls. */
#include "internal.h"

static clconv_status fail_locked(clconv_ctx *ctx, clconv_status st, cl_int err, const char *what)
{
    pthread_mutex_lock(&ctx->lock);
    ctx_fail(ctx, st, err, "%s", what);
    pthread_mutex_unlock(&ctx->lock);
    return st;
}

/* A device copy of `elems` floats from `src` (uninitialised when src is NULL). */
static clconv_status make_buf(clconv_ctx *ctx, const float *src, size_t elems, cl_mem *out)
{
    cl_int err;
    cl_mem_flags f = CL_MEM_READ_WRITE | (src ? CL_MEM_COPY_HOST_PTR : 0);
    *out = clCreateBuffer(ctx->context, f, elems * sizeof(float), (void *)src, &err);
    if (!*out)
        return fail_locked(ctx, status_from_cl(err), err, "clCreateBuffer (host convenience call)");
    return CLCONV_OK;
}

typedef struct host_job {
    clconv_pass pass;     /* CLCONV_PASS_COUNT_ means backward-bias */
    clconv_algo algo;
    const float *a, *b;   /* inputs in the device call's order (b unused for bias) */
    float *out;
    int accumulate;
} host_job;

static clconv_status enqueue(clconv_ctx *ctx, const clconv_desc *d, const host_job *j, cl_mem a,
                             cl_mem b, cl_mem o)
{
    switch (j->pass) {
    case CLCONV_PASS_FORWARD:
        return clconv_forward(ctx, d, j->algo, a, 0, b, 0, o, 0, NULL);
    case CLCONV_PASS_BACKWARD_DATA:
        return clconv_backward_data(ctx, d, j->algo, a, 0, b, 0, o, 0, j->accumulate, NULL);
    case CLCONV_PASS_BACKWARD_FILTER:
        return clconv_backward_filter(ctx, d, j->algo, a, 0, b, 0, o, 0, j->accumulate, NULL);
    default:
        return clconv_backward_bias(ctx, d, a, 0, o, 0, j->accumulate, NULL);
    }
}

static clconv_status run_host(clconv_ctx *ctx, const clconv_desc *d, const host_job *j)
{
    if (!ctx)
        return CLCONV_NULL_ARGUMENT;
    int bias = j->pass == CLCONV_PASS_COUNT_;
    if (!d || !j->a || (!bias && !j->b) || !j->out)
        return fail_locked(ctx, CLCONV_NULL_ARGUMENT, CL_SUCCESS, "a host array is NULL");
    layer L;
    clconv_status st = layer_from_desc(d, &L);
    if (st != CLCONV_OK)
        return fail_locked(ctx, st, CL_SUCCESS, "invalid descriptor");
    if (L.dtype != CLCONV_F32)
        return fail_locked(ctx, CLCONV_NOT_SUPPORTED, CL_SUCCESS,
                           "the host-array calls take float arrays: use the cl_mem calls for "
                           "fp16 and bf16 storage");
    const size_t counts[CLCONV_PASS_COUNT_ + 1][3] = {
        {L.x_elems, L.w_elems, L.y_elems}, {L.y_elems, L.w_elems, L.x_elems},
        {L.x_elems, L.y_elems, L.w_elems}, {L.y_elems, 1, (size_t)L.k}};
    const size_t *n = counts[j->pass];
    cl_mem a = NULL, b = NULL, o = NULL;
    st = make_buf(ctx, j->a, n[0], &a);
    if (st == CLCONV_OK)
        st = make_buf(ctx, bias ? NULL : j->b, n[1], &b);
    if (st == CLCONV_OK)
        st = make_buf(ctx, j->accumulate ? j->out : NULL, n[2], &o);
    if (st == CLCONV_OK)
        st = enqueue(ctx, d, j, a, b, o);
    if (st == CLCONV_OK) {
        cl_int err = clEnqueueReadBuffer(ctx->queue, o, CL_TRUE, 0, n[2] * sizeof(float), j->out,
                                         0, NULL, NULL);
        if (err != CL_SUCCESS)
            st = fail_locked(ctx, status_from_cl(err), err, "clEnqueueReadBuffer");
    }
    if (a) clReleaseMemObject(a);
    if (b) clReleaseMemObject(b);
    if (o) clReleaseMemObject(o);
    return st;
}

clconv_status clconv_forward_host(clconv_ctx *ctx, const clconv_desc *d, clconv_algo algo,
                                  const float *x, const float *w, float *y)
{
    host_job j = {CLCONV_PASS_FORWARD, algo, x, w, y, 0};
    return run_host(ctx, d, &j);
}

clconv_status clconv_backward_data_host(clconv_ctx *ctx, const clconv_desc *d, clconv_algo algo,
                                        const float *dy, const float *w, float *dx, int accumulate)
{
    host_job j = {CLCONV_PASS_BACKWARD_DATA, algo, dy, w, dx, accumulate};
    return run_host(ctx, d, &j);
}

clconv_status clconv_backward_filter_host(clconv_ctx *ctx, const clconv_desc *d, clconv_algo algo,
                                          const float *x, const float *dy, float *dw,
                                          int accumulate)
{
    host_job j = {CLCONV_PASS_BACKWARD_FILTER, algo, x, dy, dw, accumulate};
    return run_host(ctx, d, &j);
}

clconv_status clconv_backward_bias_host(clconv_ctx *ctx, const clconv_desc *d, const float *dy,
                                        float *db, int accumulate)
{
    host_job j = {CLCONV_PASS_COUNT_, CLCONV_ALGO_AUTO, dy, NULL, db, accumulate};
    return run_host(ctx, d, &j);
}
