/* The math mode (issue 8): whether the caller allows TF32 (the API and
 * CLCONV_MATH), and whether the device has a TF32 path for it - NVIDIA's
 * tensor cores from compute capability 8.0, or, for testing on any
 * device, the portable emulation of their mma steps (CLCONV_TF32_EMULATE).
 * Only TILED has a TF32 path (host/tiled.c); the mode is a permission, so
 * everything else, and TILED without a path, stays exact fp32. */
#include <stdlib.h>
#include <string.h>
#include "internal.h"

/* cl_nv_device_attribute_query (NVIDIA's cl_ext.h, not in Khronos' own
 * headers before 2020): two cl_uint device queries. */
#define CLCONV_NV_ATTRIBUTE_QUERY "cl_nv_device_attribute_query"
#define CLCONV_DEVICE_COMPUTE_CAPABILITY_MAJOR_NV 0x4000
#define CLCONV_DEVICE_COMPUTE_CAPABILITY_MINOR_NV 0x4001

/* mma.sync.aligned.m16n8k8 with .tf32 operands needs sm_80 */
#define TF32_MIN_CC 80

static const char *const mode_names[CLCONV_MATH_COUNT_] = {"fp32", "tf32"};

/* Whether the device lists the extension (the whole list, however long). */
static int has_extension(cl_device_id d, const char *ext)
{
    size_t len = 0;
    if (clGetDeviceInfo(d, CL_DEVICE_EXTENSIONS, 0, NULL, &len) != CL_SUCCESS || !len)
        return 0;
    char *list = malloc(len + 1);
    if (!list)
        return 0;
    int found = 0;
    if (clGetDeviceInfo(d, CL_DEVICE_EXTENSIONS, len, list, NULL) == CL_SUCCESS) {
        list[len] = 0;
        const size_t n = strlen(ext);
        for (const char *p = strstr(list, ext); p && !found; p = strstr(p + 1, ext))
            found = (p == list || p[-1] == ' ') && (p[n] == 0 || p[n] == ' ');
    }
    free(list);
    return found;
}

/* major * 10 + minor, or 0 where the device does not say. */
static int nv_compute_capability(cl_device_id d)
{
    if (!d || !has_extension(d, CLCONV_NV_ATTRIBUTE_QUERY))
        return 0;
    cl_uint major = 0, minor = 0;
    if (clGetDeviceInfo(d, CLCONV_DEVICE_COMPUTE_CAPABILITY_MAJOR_NV, sizeof major, &major,
                        NULL) != CL_SUCCESS ||
        clGetDeviceInfo(d, CLCONV_DEVICE_COMPUTE_CAPABILITY_MINOR_NV, sizeof minor, &minor,
                        NULL) != CL_SUCCESS)
        return 0;
    return major > 100 || minor > 9 ? 0 : (int)(major * 10 + minor);
}

/* CLCONV_MATH: "tf32" -> TF32; unset, blank or "fp32" -> FP32; anything
 * else -> FP32, and said. */
static int env_mode(clconv_ctx *ctx)
{
    const char *v = getenv("CLCONV_MATH");
    if (!v || env_word_is(v, "") || env_word_is(v, mode_names[CLCONV_MATH_FP32]))
        return CLCONV_MATH_FP32;
    if (env_word_is(v, mode_names[CLCONV_MATH_TF32]))
        return CLCONV_MATH_TF32;
    log_msg(ctx, CLCONV_LOG_ERROR, "CLCONV_MATH=\"%s\" is neither fp32 nor tf32: using fp32", v);
    return CLCONV_MATH_FP32;
}

/* CLCONV_TF32_EMULATE: 1, on, yes or true. */
static int env_emulate(void)
{
    const char *v = getenv("CLCONV_TF32_EMULATE");
    return env_says_on(v);
}

static const char *const path_names[] = {"exact fp32", "TF32 tensor cores (inline PTX mma)",
                                         "TF32 by the portable mma emulation"};

void math_init(clconv_ctx *ctx)
{
    ctx->math.mode = env_mode(ctx);
    ctx->math.tf32_emulate = env_emulate();
    ctx->math.nv_cc = nv_compute_capability(ctx->device);
    log_msg(ctx, CLCONV_LOG_DEBUG, "math mode %s (compute capability %d.%d): TILED runs %s",
            mode_names[ctx->math.mode], ctx->math.nv_cc / 10, ctx->math.nv_cc % 10,
            path_names[math_tf32_path(ctx)]);
}

math_tf32 math_tf32_path(const clconv_ctx *ctx)
{
    if (ctx->math.mode != CLCONV_MATH_TF32)
        return MATH_TF32_OFF;
    if (ctx->math.tf32_emulate)
        return MATH_TF32_EMULATED;
    return ctx->math.nv_cc >= TF32_MIN_CC ? MATH_TF32_PTX : MATH_TF32_OFF;
}

clconv_status clconv_set_math_mode(clconv_ctx *ctx, clconv_math_mode mode)
{
    if (!ctx)
        return CLCONV_NULL_ARGUMENT;
    const int known = (unsigned)mode < CLCONV_MATH_COUNT_;
    /* a call line, as the passes log theirs: before the lock */
    if (known)
        log_msg(ctx, CLCONV_LOG_CALL, "clconv_set_math_mode(%s)", mode_names[mode]);
    else
        log_msg(ctx, CLCONV_LOG_CALL, "clconv_set_math_mode(%d)", (int)mode);
    pthread_mutex_lock(&ctx->lock);
    ctx_clear_error(ctx);
    clconv_status st = CLCONV_OK;
    if (!known)
        st = ctx_fail(ctx, CLCONV_BAD_MATH_MODE, CL_SUCCESS,
                      "clconv_set_math_mode: %d is not a math mode (CLCONV_MATH_FP32 = 0, "
                      "CLCONV_MATH_TF32 = 1); the context keeps %s",
                      (int)mode, mode_names[ctx->math.mode]);
    else
        ctx->math.mode = (int)mode;
    pthread_mutex_unlock(&ctx->lock);
    return st;
}

clconv_status clconv_get_math_mode(const clconv_ctx *ctx, clconv_math_mode *mode)
{
    if (!ctx || !mode)
        return CLCONV_NULL_ARGUMENT;
    /* the lock of a context the library allocated, never a const object */
    pthread_mutex_t *lock = (pthread_mutex_t *)&ctx->lock;
    pthread_mutex_lock(lock);
    *mode = (clconv_math_mode)ctx->math.mode;
    pthread_mutex_unlock(lock);
    return CLCONV_OK;
}
