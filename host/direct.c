/* DIRECT: one simple kernel per pass (kernels/direct.cl) that reads the
 * virtual upsampled/padded output gradient and the virtual flipped filter
 * in place; forward is conv_generic.cl's plain convolution, its epilogue
 * in the store step.  Every kernel indexes through the layer's strides and loads and
 * stores through prelude.cl, so each runs every storage type and layout. */
#include "primitives.h"

/* Both backward kernels share one argument list: three tensors, beta and
 * the layer as prelude.cl's geom. */
static clconv_status run_direct(clconv_ctx *ctx, const char *name, const pass_args *a,
                                size_t items)
{
    const layer *L = a->L;
    cl_kernel k;
    TRY(ctx_kernel(ctx, "direct", simple_kernel_options(L, 0), name, &k));
    cl_long ao = (cl_long)a->a_off, bo = (cl_long)a->b_off, oo = (cl_long)a->out_off;
    cl_int beta = a->beta;
    const kgeom g = kgeom_of(L);
    const karg args[] = {KARG(a->a), KARG(ao), KARG(a->b),  KARG(bo),
                         KARG(a->out), KARG(oo), KARG(beta), KARG(g)};
    return ctx_launch(ctx, k, (int)(sizeof args / sizeof args[0]), args, items, 0, a->event);
}

static clconv_status bwd_data(clconv_ctx *ctx, const pass_args *a)
{
    return run_direct(ctx, "bwd_data_direct", a, a->L->x_elems);
}

static clconv_status bwd_filter(clconv_ctx *ctx, const pass_args *a)
{
    return run_direct(ctx, "bwd_filter_direct", a, a->L->w_elems);
}

/* Every storage type and layout, asymmetric padding, and (forward) the
 * fused epilogue: tests/test_features_simple.c checks each. */
#define DIRECT_CAPS (CAP_F16 | CAP_BF16 | CAP_NHWC | CAP_KRSC | CAP_ASYM_PAD)
const algo_impl algo_direct = {"direct",
                               {conv_generic_forward, bwd_data, bwd_filter},
                               NULL,
                               NULL,
                               {DIRECT_CAPS | CAP_EPILOGUE, DIRECT_CAPS, DIRECT_CAPS}};
