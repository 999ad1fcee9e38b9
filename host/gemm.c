/* GEMM: fused tiled implicit-GEMM kernels that read the virtual
 * upsampled/padded tensors straight from the caller's buffers.  One file
 * per pass (gemm_forward.c, gemm_backward_data.c, gemm_backward_filter.c);
 * a NULL slot means that pass is not implemented yet, so AUTO skips it and
 * asking for it returns CLCONV_BAD_ALGORITHM. */
#include "internal.h"

static clconv_status workspace(const clconv_ctx *ctx, const layer *L, clconv_pass pass,
                               size_t *bytes)
{
    switch (pass) {
    case CLCONV_PASS_FORWARD:
        *bytes = gemm_forward_workspace(ctx, L);
        break;
    case CLCONV_PASS_BACKWARD_DATA:
        *bytes = gemm_backward_data_workspace(ctx, L);
        break;
    default:
        *bytes = gemm_backward_filter_workspace(ctx, L);
    }
    return CLCONV_OK;
}

static clconv_status supports(const clconv_ctx *ctx, clconv_pass pass, const pass_args *a,
                              char *why, size_t cap)
{
    if (pass == CLCONV_PASS_BACKWARD_FILTER)
        return gemm_backward_filter_supports(ctx, a, why, cap);
    return gemm_conv_supports(ctx, a, why, cap);
}

/* Every pass runs fp16 and bf16 storage, NHWC activations, KRSC filters
 * and asymmetric padding; the forward fuses the epilogue
 * (tests/test_features_gemm.c). */
#define GEMM_CAPS (CAP_F16 | CAP_BF16 | CAP_NHWC | CAP_KRSC | CAP_ASYM_PAD)

const algo_impl algo_gemm = {"gemm", {gemm_forward, gemm_backward_data, gemm_backward_filter},
                             workspace, supports,
                             {GEMM_CAPS | CAP_EPILOGUE, GEMM_CAPS, GEMM_CAPS}};
