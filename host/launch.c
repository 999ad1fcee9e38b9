/* Enqueueing kernels and keeping the context's scratch buffer. */
#include <stdio.h>
#include "internal.h"

/* A fixed work-group size when the caller has none: left to the runtime,
 * PoCL picks one per global size and compiles a new variant of the kernel
 * for each (hundreds over a test sweep).  Kernels ignore the items past
 * their range. */
#ifndef CLCONV_DEFAULT_WG
#define CLCONV_DEFAULT_WG 64
#endif
static size_t default_local(clconv_ctx *ctx, cl_kernel k)
{
    size_t max = 0;
    if (clGetKernelWorkGroupInfo(k, ctx->device, CL_KERNEL_WORK_GROUP_SIZE, sizeof max, &max,
                                 NULL) != CL_SUCCESS || max == 0)
        max = 1;
    return max < CLCONV_DEFAULT_WG ? max : CLCONV_DEFAULT_WG;
}

clconv_status ctx_launch(clconv_ctx *ctx, cl_kernel k, int nargs, const karg *args,
                         size_t items, size_t local, cl_event *event)
{
    for (int i = 0; i < nargs; i++)
        CL_TRY(ctx, clSetKernelArg(k, (cl_uint)i, args[i].size, args[i].value), "clSetKernelArg");
    if (items == 0)
        return CLCONV_OK;
    if (!local)
        local = default_local(ctx, k);
    size_t global = (items + local - 1) / local * local;
    CL_TRY(ctx, clEnqueueNDRangeKernel(ctx->queue, k, 1, NULL, &global, &local, 0, NULL, event),
           "clEnqueueNDRangeKernel");
    return CLCONV_OK;
}

clconv_status workspace_fits(const clconv_devinfo *info, size_t bytes, char *why, size_t cap)
{
    if (bytes > info->max_alloc) {
        snprintf(why, cap, "workspace of %zu bytes exceeds the device's largest allocation (%llu)",
                 bytes, (unsigned long long)info->max_alloc);
        return CLCONV_DEVICE_LIMIT;
    }
    /* a device may report an allocation limit above its memory (0: unknown) */
    if (info->global_mem && bytes > info->global_mem) {
        snprintf(why, cap, "workspace of %zu bytes exceeds the device's global memory (%llu)",
                 bytes, (unsigned long long)info->global_mem);
        return CLCONV_DEVICE_LIMIT;
    }
    return CLCONV_OK;
}

clconv_status ctx_workspace(clconv_ctx *ctx, size_t bytes, cl_mem *out)
{
    if (bytes == 0)
        bytes = sizeof(float);
    char why[256];
    clconv_status st = workspace_fits(&ctx->info, bytes, why, sizeof why);
    if (st != CLCONV_OK)
        return ctx_fail(ctx, st, CL_SUCCESS, "%s", why);
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
