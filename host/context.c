/* Contexts: creation on a chosen device or around the caller's objects,
 * the per-context error record, and release. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"

clconv_status status_from_cl(cl_int err)
{
    switch (err) {
    case CL_SUCCESS:
        return CLCONV_OK;
    case CL_MEM_OBJECT_ALLOCATION_FAILURE:
        return CLCONV_OUT_OF_DEVICE_MEMORY;
    case CL_OUT_OF_RESOURCES:
        return CLCONV_OUT_OF_RESOURCES;
    case CL_OUT_OF_HOST_MEMORY:
        return CLCONV_OUT_OF_HOST_MEMORY;
    case CL_INVALID_BUFFER_SIZE:
        return CLCONV_DEVICE_LIMIT;
    case CL_INVALID_MEM_OBJECT:
        return CLCONV_BAD_BUFFER;
    case CL_BUILD_PROGRAM_FAILURE:
    case CL_COMPILE_PROGRAM_FAILURE:
    case CL_LINK_PROGRAM_FAILURE:
        return CLCONV_BUILD_FAILED;
    default:
        return CLCONV_OPENCL_ERROR;
    }
}

clconv_status ctx_fail(clconv_ctx *ctx, clconv_status st, cl_int cl_err, const char *fmt, ...)
{
    if (!ctx)
        return st;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ctx->error, sizeof ctx->error, fmt, ap);
    va_end(ap);
    ctx->cl_error = cl_err;
    log_failure(ctx, st, cl_err);
    return st;
}

clconv_status ctx_cl_fail(clconv_ctx *ctx, cl_int err, const char *what)
{
    return ctx_fail(ctx, status_from_cl(err), err, "%s failed with OpenCL error %d", what, (int)err);
}

void ctx_clear_error(clconv_ctx *ctx)
{
    ctx->error[0] = 0;
    ctx->cl_error = CL_SUCCESS;
}

static clconv_status ctx_new(clconv_ctx **out)
{
    clconv_ctx *ctx = calloc(1, sizeof *ctx);
    if (!ctx)
        return CLCONV_OUT_OF_HOST_MEMORY;
    if (pthread_mutex_init(&ctx->lock, NULL)) {
        free(ctx);
        return CLCONV_OUT_OF_HOST_MEMORY;
    }
    ctx->max_programs = CLCONV_MAX_PROGRAMS;
    ctx->cache_dir = cache_dir_from_env(); /* NULL (cache off) is fine */
    ctx->cache_store_all = env_says_on(getenv("CLCONV_CACHE"));
    log_init(ctx);
    find_init(ctx); /* CLCONV_FIND */
    *out = ctx;
    return CLCONV_OK;
}

/* What the library knows of the device, its display name, and the tuning
 * row CLCONV_TUNING names (any device may take any row, so that the GPU
 * rows run on PoCL in tests; an unknown name matches no row). */
static void ctx_describe(clconv_ctx *ctx, cl_platform_id plat)
{
    devinfo_read(plat, ctx->device, &ctx->info);
    snprintf(ctx->display_name, sizeof ctx->display_name, "%s / %s", ctx->info.platform,
             ctx->info.name);
    const char *tuning = getenv("CLCONV_TUNING");
    snprintf(ctx->info.tuning, sizeof ctx->info.tuning, "%s", tuning ? tuning : "");
    math_init(ctx); /* CLCONV_MATH, CLCONV_TF32_EMULATE, NVIDIA's compute capability */
}

/* PoCL 3.1 sets its devices up inside the process's first clGetDeviceIDs
 * and is not safe to enter from several threads at once: a racing caller
 * gets CL_DEVICE_NOT_FOUND, or a device whose info strings are still NULL
 * (a crash inside clGetDeviceInfo).  Selecting a device is rare and cheap,
 * so the library does it under one process-wide lock. */
static pthread_mutex_t select_lock = PTHREAD_MUTEX_INITIALIZER;

static clconv_status select_locked(const char *selector, cl_platform_id *plat, cl_device_id *dev)
{
    pthread_mutex_lock(&select_lock);
    clconv_status st = device_select(selector, plat, dev);
    pthread_mutex_unlock(&select_lock);
    return st;
}

static clconv_status create_with(const char *selector, clconv_ctx **out)
{
    if (!out)
        return CLCONV_NULL_ARGUMENT;
    *out = NULL;
    cl_platform_id plat;
    cl_device_id dev;
    TRY(select_locked(selector, &plat, &dev));
    clconv_ctx *ctx;
    TRY(ctx_new(&ctx));
    clRetainDevice(dev); /* a no-op for a root device; clconv_free releases it */
    ctx->device = dev;
    ctx_describe(ctx, plat);
    cl_int err;
    cl_context_properties props[] = {CL_CONTEXT_PLATFORM, (cl_context_properties)plat, 0};
    ctx->context = clCreateContext(props, 1, &dev, NULL, NULL, &err);
    if (ctx->context)
        ctx->queue = clCreateCommandQueue(ctx->context, dev, CL_QUEUE_PROFILING_ENABLE, &err);
    if (err != CL_SUCCESS) {
        clconv_free(ctx);
        return status_from_cl(err);
    }
    *out = ctx;
    return CLCONV_OK;
}

/* A failed creation has no context to log to: CLCONV_LOG sends it to stderr. */
clconv_status clconv_create_with(const char *selector, clconv_ctx **out)
{
    clconv_status st = create_with(selector, out);
    log_no_context(st, "clconv_create");
    return st;
}

clconv_status clconv_create(clconv_ctx **out)
{
    return clconv_create_with(NULL, out);
}

/* The queue must be in-order and belong to the given context and device:
 * the multi-kernel algorithms and the shared workspace rely on it. */
static clconv_status check_queue(cl_context context, cl_device_id device, cl_command_queue q)
{
    cl_context qc;
    cl_device_id qd;
    cl_command_queue_properties props;
    if (clGetCommandQueueInfo(q, CL_QUEUE_CONTEXT, sizeof qc, &qc, NULL) != CL_SUCCESS ||
        clGetCommandQueueInfo(q, CL_QUEUE_DEVICE, sizeof qd, &qd, NULL) != CL_SUCCESS ||
        clGetCommandQueueInfo(q, CL_QUEUE_PROPERTIES, sizeof props, &props, NULL) != CL_SUCCESS)
        return CLCONV_BAD_QUEUE;
    if (qc != context || qd != device || (props & CL_QUEUE_OUT_OF_ORDER_EXEC_MODE_ENABLE))
        return CLCONV_BAD_QUEUE;
    return CLCONV_OK;
}

clconv_status clconv_create_from(cl_context context, cl_device_id device, cl_command_queue queue,
                                 clconv_ctx **out)
{
    if (!out)
        return CLCONV_NULL_ARGUMENT;
    *out = NULL;
    if (!context || !device || !queue)
        return CLCONV_NULL_ARGUMENT;
    TRY(check_queue(context, device, queue));
    clconv_ctx *ctx;
    TRY(ctx_new(&ctx));
    clRetainContext(context);
    clRetainCommandQueue(queue);
    clRetainDevice(device); /* a sub-device must outlive the caller's handle */
    ctx->context = context;
    ctx->device = device;
    ctx->queue = queue;
    ctx_describe(ctx, NULL);
    *out = ctx;
    return CLCONV_OK;
}

void clconv_free(clconv_ctx *ctx)
{
    if (!ctx)
        return;
    if (ctx->queue)
        clFinish(ctx->queue);
    programs_release(ctx);
    if (ctx->workspace)
        clReleaseMemObject(ctx->workspace);
    if (ctx->queue)
        clReleaseCommandQueue(ctx->queue);
    if (ctx->context)
        clReleaseContext(ctx->context);
    if (ctx->device)
        clReleaseDevice(ctx->device);
    free(ctx->build_log);
    free(ctx->cache_dir);
    find_free(ctx);
    pthread_mutex_destroy(&ctx->lock);
    free(ctx);
}

cl_context clconv_cl_context(const clconv_ctx *ctx) { return ctx ? ctx->context : NULL; }
cl_device_id clconv_cl_device(const clconv_ctx *ctx) { return ctx ? ctx->device : NULL; }
cl_command_queue clconv_cl_queue(const clconv_ctx *ctx) { return ctx ? ctx->queue : NULL; }
const char *clconv_device_name(const clconv_ctx *ctx) { return ctx ? ctx->display_name : ""; }
const char *clconv_last_error(const clconv_ctx *ctx) { return ctx ? ctx->error : ""; }
cl_int clconv_last_cl_error(const clconv_ctx *ctx) { return ctx ? ctx->cl_error : CL_SUCCESS; }

const char *clconv_build_log(const clconv_ctx *ctx)
{
    return ctx && ctx->build_log ? ctx->build_log : "";
}

clconv_status clconv_finish(clconv_ctx *ctx)
{
    if (!ctx)
        return CLCONV_NULL_ARGUMENT;
    pthread_mutex_lock(&ctx->lock);
    ctx_clear_error(ctx);
    cl_int err = clFinish(ctx->queue);
    clconv_status st = err ? ctx_cl_fail(ctx, err, "clFinish") : CLCONV_OK;
    pthread_mutex_unlock(&ctx->lock);
    return st;
}
