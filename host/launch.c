/* Enqueueing kernels and keeping the context's scratch buffer. */
#include "internal.h"

clconv_status ctx_launch(clconv_ctx *ctx, cl_kernel k, int nargs, const karg *args,
                         size_t items, size_t local, cl_event *event)
{
    for (int i = 0; i < nargs; i++)
        CL_TRY(ctx, clSetKernelArg(k, (cl_uint)i, args[i].size, args[i].value), "clSetKernelArg");
    if (items == 0)
        return CLCONV_OK;
    size_t global = items;
    if (local)
        global = (items + local - 1) / local * local;
    CL_TRY(ctx,
           clEnqueueNDRangeKernel(ctx->queue, k, 1, NULL, &global, local ? &local : NULL, 0, NULL,
                                  event),
           "clEnqueueNDRangeKernel");
    return CLCONV_OK;
}

clconv_status ctx_workspace(clconv_ctx *ctx, size_t bytes, cl_mem *out)
{
    if (bytes == 0)
        bytes = sizeof(float);
    if (bytes > ctx->info.max_alloc)
        return ctx_fail(ctx, CLCONV_DEVICE_LIMIT, CL_SUCCESS,
                        "workspace of %zu bytes exceeds the device's largest allocation (%llu)",
                        bytes, (unsigned long long)ctx->info.max_alloc);
    if (ctx->workspace && ctx->workspace_bytes >= bytes) {
        *out = ctx->workspace;
        return CLCONV_OK;
    }
    /* The old buffer may still be in use by enqueued commands: OpenCL
     * frees it only once they complete, so releasing it here is safe. */
    if (ctx->workspace)
        clReleaseMemObject(ctx->workspace);
    ctx->workspace = NULL;
    ctx->workspace_bytes = 0;
    cl_int err;
    cl_mem m = clCreateBuffer(ctx->context, CL_MEM_READ_WRITE, bytes, NULL, &err);
    if (!m)
        return ctx_cl_fail(ctx, err, "clCreateBuffer (workspace)");
    ctx->workspace = m;
    ctx->workspace_bytes = bytes;
    *out = m;
    return CLCONV_OK;
}
