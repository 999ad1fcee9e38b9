/* EXPLICIT: the seed's decomposition, as real kernels.
 *   backward-data   = upsample+pad dy, flip w, then a stride-1 convolution
 *                     (dilation d) of the padded map with the flipped filter;
 *   backward-filter = dilate dy, then a convolution of the (padded) input
 *                     with it, strided by the layer's dilation;
 *   forward         = the plain convolution, its epilogue in the store step.
 * No other arithmetic kernel is involved: every sum is conv_generic.cl's.
 * The intermediates live in the context's workspace in the layer's
 * storage type (they are exact copies of dy and w) and layouts
 * (primitives.h: upsample_strides, flip_strides), so every index goes
 * through strides and every data type runs unchanged. */
#include "primitives.h"

/* dx = the stride-1 convolution of U (N x K x HU x WU, at 0 in ws) with the
 * flipped filter wf (C x Kg x R x S, at u_elems), dilated as the layer. */
static conv_geom geom_data(const layer *L)
{
    int64_t hu, wu, us[4], fs[4];
    upsample_dims(L, 1, &hu, &wu);
    upsample_strides(L, 1, us);
    flip_strides(L, fs);
    return (conv_geom){
        .B = L->n, .O = L->c, .OY = L->h, .OX = L->w,
        .I = L->kg, .U = L->r, .V = L->s, .IY = hu, .IX = wu, .o_per_group = L->cg,
        .is_b = us[0], .is_g = L->kg * us[1], .is_i = us[1], .is_y = us[2], .is_x = us[3],
        .fs_o = fs[0], .fs_i = fs[1], .fs_u = fs[2], .fs_v = fs[3],
        .os_b = L->xs[0], .os_o = L->xs[1], .os_y = L->xs[2], .os_x = L->xs[3],
        .st_y = 1, .st_x = 1, .pad_y = 0, .pad_x = 0, .dl_y = L->dh, .dl_x = L->dw,
    };
}

static clconv_status bwd_data(clconv_ctx *ctx, const pass_args *a)
{
    const layer *L = a->L;
    const size_t u_elems = upsample_elems(L, 1), ws_elems = u_elems + L->w_elems;
    cl_mem ws;
    TRY(ctx_workspace(ctx, ws_elems * L->esize, &ws));
    TRY(run_upsample(ctx, L, 1, a->a, a->a_off, ws, 0, NULL));
    TRY(run_flip(ctx, L, a->b, a->b_off, ws, u_elems, NULL));
    const conv_geom g = geom_data(L);
    const conv_store st = conv_store_plain(a->beta, (dbuf){a->out, a->out_off});
    return conv_generic_run(ctx, L, &g, ws_elems, (dbuf){ws, 0}, (dbuf){ws, u_elems},
                            (dbuf){a->out, a->out_off}, &st, a->event);
}

/* dw = x (batch = channel within the group, reduction over n) convolved
 * with the dilated dy D (N x K x PD x QD, in ws), strided by the layer's
 * dilation: the roles of the forward, exchanged. */
static conv_geom geom_filter(const layer *L)
{
    int64_t pd, qd, ds[4];
    upsample_dims(L, 0, &pd, &qd);
    upsample_strides(L, 0, ds);
    return (conv_geom){
        .B = L->cg, .O = L->k, .OY = L->r, .OX = L->s,
        .I = L->n, .U = pd, .V = qd, .IY = L->h, .IX = L->w, .o_per_group = L->kg,
        .is_b = L->xs[1], .is_g = L->cg * L->xs[1], .is_i = L->xs[0],
        .is_y = L->xs[2], .is_x = L->xs[3],
        .fs_o = ds[1], .fs_i = ds[0], .fs_u = ds[2], .fs_v = ds[3],
        .os_b = L->ws[1], .os_o = L->ws[0], .os_y = L->ws[2], .os_x = L->ws[3],
        .st_y = L->dh, .st_x = L->dw, .pad_y = L->ph, .pad_x = L->pw, .dl_y = 1, .dl_x = 1,
    };
}

static clconv_status bwd_filter(clconv_ctx *ctx, const pass_args *a)
{
    const layer *L = a->L;
    const size_t d_elems = upsample_elems(L, 0);
    cl_mem ws;
    TRY(ctx_workspace(ctx, d_elems * L->esize, &ws));
    TRY(run_upsample(ctx, L, 0, a->b, a->b_off, ws, 0, NULL));
    const conv_geom g = geom_filter(L);
    const conv_store st = conv_store_plain(a->beta, (dbuf){a->out, a->out_off});
    return conv_generic_run(ctx, L, &g, d_elems, (dbuf){a->a, a->a_off}, (dbuf){ws, 0},
                            (dbuf){a->out, a->out_off}, &st, a->event);
}

/* Bytes of the intermediates, in the layer's storage type. */
static clconv_status workspace(const clconv_ctx *ctx, const layer *L, clconv_pass pass,
                               size_t *bytes)
{
    (void)ctx;
    switch (pass) {
    case CLCONV_PASS_BACKWARD_DATA:
        *bytes = (upsample_elems(L, 1) + L->w_elems) * L->esize;
        break;
    case CLCONV_PASS_BACKWARD_FILTER:
        *bytes = upsample_elems(L, 0) * L->esize;
        break;
    default:
        *bytes = 0;
    }
    return CLCONV_OK;
}

/* EXPLICIT materialises the upsampled dy (and the flipped filter). */
static clconv_status supports(const clconv_ctx *ctx, clconv_pass pass, const pass_args *a,
                              char *why, size_t cap)
{
    size_t bytes = 0;
    workspace(ctx, a->L, pass, &bytes);
    return workspace_fits(&ctx->info, bytes, why, cap);
}

/* Every storage type and layout, asymmetric padding, and (forward) the
 * fused epilogue: tests/test_features_simple.c checks each. */
#define EXPLICIT_CAPS (CAP_F16 | CAP_BF16 | CAP_NHWC | CAP_KRSC | CAP_ASYM_PAD)
const algo_impl algo_explicit = {"explicit",
                                 {conv_generic_forward, bwd_data, bwd_filter},
                                 workspace,
                                 supports,
                                 {EXPLICIT_CAPS | CAP_EPILOGUE, EXPLICIT_CAPS, EXPLICIT_CAPS}};
