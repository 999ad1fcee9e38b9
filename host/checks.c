/* Caller buffers are checked before anything is enqueued, so a bad call
 * writes nothing. */
#include "internal.h"

clconv_status check_buffer(clconv_ctx *ctx, cl_mem m, size_t off, size_t elems, const char *what)
{
    if (!m)
        return ctx_fail(ctx, CLCONV_NULL_ARGUMENT, CL_SUCCESS, "%s is NULL", what);
    size_t size = 0;
    cl_mem_object_type type = 0;
    cl_int err = clGetMemObjectInfo(m, CL_MEM_TYPE, sizeof type, &type, NULL);
    if (err == CL_SUCCESS)
        err = clGetMemObjectInfo(m, CL_MEM_SIZE, sizeof size, &size, NULL);
    if (err != CL_SUCCESS || type != CL_MEM_OBJECT_BUFFER)
        return ctx_fail(ctx, CLCONV_BAD_BUFFER, err, "%s is not a valid buffer", what);
    cl_context c = NULL;
    if (clGetMemObjectInfo(m, CL_MEM_CONTEXT, sizeof c, &c, NULL) != CL_SUCCESS || c != ctx->context)
        return ctx_fail(ctx, CLCONV_BAD_BUFFER, CL_SUCCESS, "%s belongs to another cl_context", what);
    size_t need = off + elems;
    if (need < off || need > SIZE_MAX / sizeof(float))
        return ctx_fail(ctx, CLCONV_TOO_LARGE, CL_SUCCESS, "%s: offset %zu + %zu elements overflows",
                        what, off, elems);
    if (need * sizeof(float) > size)
        return ctx_fail(ctx, CLCONV_BUFFER_TOO_SMALL, CL_SUCCESS,
                        "%s holds %zu bytes; offset %zu + %zu floats need %zu", what, size, off,
                        elems, need * sizeof(float));
    return CLCONV_OK;
}
