/* GEMM forward: not written yet (placeholder; not in gemm.c's table). */
#include "internal.h"

clconv_status gemm_forward(clconv_ctx *ctx, const pass_args *a)
{
    (void)a;
    return ctx_fail(ctx, CLCONV_BAD_ALGORITHM, CL_SUCCESS, "GEMM forward is not implemented");
}

size_t gemm_forward_workspace(const clconv_ctx *ctx, const layer *L)
{
    (void)ctx;
    (void)L;
    return 0;
}
