/* GEMM backward_filter: not written yet (placeholder; not in gemm.c's table). */
#include "internal.h"

clconv_status gemm_backward_filter(clconv_ctx *ctx, const pass_args *a)
{
    (void)a;
    return ctx_fail(ctx, CLCONV_BAD_ALGORITHM, CL_SUCCESS, "GEMM backward_filter is not implemented");
}

size_t gemm_backward_filter_workspace(const clconv_ctx *ctx, const layer *L)
{
    (void)ctx;
    (void)L;
    return 0;
}
