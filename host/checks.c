/* Caller buffers are checked before anything is enqueued, so a bad call
 * writes nothing: each is a valid buffer of this context, large enough,
 * with access flags that allow what the pass does to it, and no output
 * shares a byte with any other tensor of the call (clconv, like cuDNN and
 * oneDNN, computes out of place: a kernel that overwrites its own input
 * while reading it gives garbage, silently). */
#include <stdint.h>
#include "internal.h"

static size_t esize_of(const tensor_arg *t)
{
    return t->esize ? t->esize : sizeof(float);
}

static clconv_status check_flags(clconv_ctx *ctx, const tensor_arg *t)
{
    cl_mem_flags flags = 0;
    cl_int err = clGetMemObjectInfo(t->m, CL_MEM_FLAGS, sizeof flags, &flags, NULL);
    if (err != CL_SUCCESS)
        return ctx_fail(ctx, CLCONV_BAD_BUFFER, err, "%s: its CL_MEM_FLAGS cannot be read", t->what);
    /* reading a WRITE_ONLY buffer or writing a READ_ONLY one is undefined
     * behaviour in OpenCL: refuse it instead of computing with it */
    if ((t->access & TENSOR_WRITE) && (flags & CL_MEM_READ_ONLY))
        return ctx_fail(ctx, CLCONV_BAD_BUFFER, CL_SUCCESS,
                        "%s is CL_MEM_READ_ONLY, but the call writes it", t->what);
    if ((t->access & TENSOR_READ) && (flags & CL_MEM_WRITE_ONLY))
        return ctx_fail(ctx, CLCONV_BAD_BUFFER, CL_SUCCESS,
                        "%s is CL_MEM_WRITE_ONLY, but the call reads it", t->what);
    return CLCONV_OK;
}

clconv_status check_buffer(clconv_ctx *ctx, const tensor_arg *t)
{
    const char *what = t->what;
    if (!t->m)
        return ctx_fail(ctx, CLCONV_NULL_ARGUMENT, CL_SUCCESS, "%s is NULL", what);
    size_t size = 0;
    cl_mem_object_type type = 0;
    cl_int err = clGetMemObjectInfo(t->m, CL_MEM_TYPE, sizeof type, &type, NULL);
    if (err == CL_SUCCESS)
        err = clGetMemObjectInfo(t->m, CL_MEM_SIZE, sizeof size, &size, NULL);
    if (err != CL_SUCCESS || type != CL_MEM_OBJECT_BUFFER)
        return ctx_fail(ctx, CLCONV_BAD_BUFFER, err, "%s is not a valid buffer", what);
    cl_context c = NULL;
    if (clGetMemObjectInfo(t->m, CL_MEM_CONTEXT, sizeof c, &c, NULL) != CL_SUCCESS ||
        c != ctx->context)
        return ctx_fail(ctx, CLCONV_BAD_BUFFER, CL_SUCCESS, "%s belongs to another cl_context", what);
    const size_t es = esize_of(t);
    size_t need = t->off + t->elems;
    if (need < t->off || need > SIZE_MAX / es)
        return ctx_fail(ctx, CLCONV_TOO_LARGE, CL_SUCCESS, "%s: offset %zu + %zu elements overflows",
                        what, t->off, t->elems);
    if (need * es > size)
        return ctx_fail(ctx, CLCONV_BUFFER_TOO_SMALL, CL_SUCCESS,
                        "%s holds %zu bytes; offset %zu + %zu elements of %zu bytes need %zu", what,
                        size, t->off, t->elems, es, need * es);
    return check_flags(ctx, t);
}

/* Where a tensor's bytes live: a range of its root buffer (a sub-buffer's
 * parent, through CL_MEM_ASSOCIATED_MEMOBJECT and CL_MEM_OFFSET) and, for
 * CL_MEM_USE_HOST_PTR buffers, a range of host memory (two such buffers
 * made from one host array are the same memory too). */
typedef struct mem_span {
    cl_mem root;
    size_t begin, end;            /* bytes in root */
    uintptr_t host_begin, host_end; /* 0, 0 when not a host-pointer buffer */
} mem_span;

static mem_span span_of(const tensor_arg *t)
{
    mem_span sp = {t->m, 0, 0, 0, 0};
    size_t origin = 0;
    /* OpenCL allows no sub-buffer of a sub-buffer; the bound is a guard */
    for (int depth = 0; depth < 8; depth++) {
        cl_mem parent = NULL;
        size_t off = 0;
        if (clGetMemObjectInfo(sp.root, CL_MEM_ASSOCIATED_MEMOBJECT, sizeof parent, &parent,
                               NULL) != CL_SUCCESS || !parent)
            break;
        if (clGetMemObjectInfo(sp.root, CL_MEM_OFFSET, sizeof off, &off, NULL) != CL_SUCCESS)
            break;
        origin += off;
        sp.root = parent;
    }
    /* check_buffer bounded off + elems by SIZE_MAX / esize and the buffer size */
    const size_t es = esize_of(t);
    sp.begin = origin + t->off * es;
    sp.end = sp.begin + t->elems * es;
    cl_mem_flags flags = 0;
    void *host = NULL;
    if (clGetMemObjectInfo(t->m, CL_MEM_FLAGS, sizeof flags, &flags, NULL) == CL_SUCCESS &&
        (flags & CL_MEM_USE_HOST_PTR) &&
        clGetMemObjectInfo(t->m, CL_MEM_HOST_PTR, sizeof host, &host, NULL) == CL_SUCCESS && host) {
        sp.host_begin = (uintptr_t)host + t->off * es;
        sp.host_end = sp.host_begin + t->elems * es;
    }
    return sp;
}

static int spans_overlap(const mem_span *a, const mem_span *b)
{
    if (a->root == b->root && a->begin < b->end && b->begin < a->end)
        return 1;
    return a->host_end && b->host_end && a->host_begin < b->host_end &&
           b->host_begin < a->host_end;
}

#define MAX_TENSORS 4

clconv_status check_tensors(clconv_ctx *ctx, const tensor_arg *t, int n)
{
    mem_span sp[MAX_TENSORS];
    for (int i = 0; i < n && i < MAX_TENSORS; i++) {
        TRY(check_buffer(ctx, &t[i]));
        sp[i] = span_of(&t[i]);
    }
    for (int i = 0; i < n && i < MAX_TENSORS; i++) {
        if (!(t[i].access & TENSOR_WRITE))
            continue;
        for (int j = 0; j < n && j < MAX_TENSORS; j++)
            if (j != i && spans_overlap(&sp[i], &sp[j]))
                return ctx_fail(ctx, CLCONV_BAD_BUFFER, CL_SUCCESS,
                                "%s overlaps %s: an output may not share memory with another "
                                "tensor of the call (clconv does not run in place)",
                                t[i].what, t[j].what);
    }
    return CLCONV_OK;
}
