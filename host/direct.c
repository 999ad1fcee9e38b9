/* DIRECT: one simple kernel per pass (kernels/direct.cl) that reads the
 * virtual upsampled/padded output gradient and the virtual flipped filter
 * in place; forward is the plain convolution. */
#include "internal.h"

static clconv_status fwd(clconv_ctx *ctx, const pass_args *a)
{
    conv_geom g = geom_forward(a->L);
    return run_conv_generic(ctx, &g, a->a, a->a_off, a->b, a->b_off, a->out, a->out_off, a->beta,
                            a->event);
}

/* Both backward kernels share one argument list. */
static clconv_status run_direct(clconv_ctx *ctx, const char *name, const pass_args *a,
                                size_t items)
{
    const layer *L = a->L;
    cl_kernel k;
    TRY(ctx_kernel(ctx, "direct", "", name, &k));
    cl_long ao = (cl_long)a->a_off, bo = (cl_long)a->b_off, oo = (cl_long)a->out_off;
    cl_int beta = a->beta;
    const karg args[] = {
        KARG(a->a), KARG(ao), KARG(a->b), KARG(bo), KARG(a->out), KARG(oo), KARG(beta),
        KARG(L->n), KARG(L->c), KARG(L->h), KARG(L->w), KARG(L->k), KARG(L->r), KARG(L->s),
        KARG(L->p), KARG(L->q), KARG(L->cg), KARG(L->kg),
        KARG(L->sh), KARG(L->sw), KARG(L->ph), KARG(L->pw), KARG(L->dh), KARG(L->dw),
    };
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

const algo_impl algo_direct = {"direct", {fwd, bwd_data, bwd_filter}, NULL, NULL, {0, 0, 0}};
