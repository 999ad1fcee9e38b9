/* EXPLICIT: the seed's decomposition, as real kernels.
 *   backward-data   = upsample+pad dy, flip w, then a stride-1 convolution
 *                     (dilation d) of the padded map with the flipped filter;
 *   backward-filter = dilate dy, then a convolution of the (padded) input
 *                     with it, strided by the layer's dilation;
 *   forward         = the plain convolution.
 * No other arithmetic kernel is involved: every sum is conv_generic.cl's. */
#include "internal.h"

static clconv_status fwd(clconv_ctx *ctx, const pass_args *a)
{
    conv_geom g = geom_forward(a->L);
    return run_conv_generic(ctx, &g, a->a, a->a_off, a->b, a->b_off, a->out, a->out_off, a->beta,
                            a->event);
}

static size_t upsampled_elems(const layer *L, int for_data)
{
    int64_t dh, dw;
    upsample_dims(L, for_data, &dh, &dw);
    return (size_t)(L->n * L->k * dh * dw);
}

static clconv_status bwd_data(clconv_ctx *ctx, const pass_args *a)
{
    const layer *L = a->L;
    int64_t hu, wu;
    upsample_dims(L, 1, &hu, &wu);
    size_t u_elems = upsampled_elems(L, 1);
    cl_mem ws;
    TRY(ctx_workspace(ctx, (u_elems + L->w_elems) * sizeof(float), &ws));
    TRY(run_upsample(ctx, L, 1, a->a, a->a_off, ws, 0, NULL));
    TRY(run_flip(ctx, L, a->b, a->b_off, ws, u_elems, NULL));
    conv_geom g = {
        .B = L->n, .O = L->c, .OY = L->h, .OX = L->w,
        .I = L->kg, .U = L->r, .V = L->s, .IY = hu, .IX = wu, .o_per_group = L->cg,
        .is_b = L->k * hu * wu, .is_g = L->kg * hu * wu, .is_i = hu * wu, .is_y = wu, .is_x = 1,
        .fs_o = L->kg * L->r * L->s, .fs_i = L->r * L->s, .fs_u = L->s, .fs_v = 1,
        .os_b = L->c * L->h * L->w, .os_o = L->h * L->w, .os_y = L->w, .os_x = 1,
        .st_y = 1, .st_x = 1, .pad_y = 0, .pad_x = 0, .dl_y = L->dh, .dl_x = L->dw,
    };
    return run_conv_generic(ctx, &g, ws, 0, ws, u_elems, a->out, a->out_off, a->beta, a->event);
}

static clconv_status bwd_filter(clconv_ctx *ctx, const pass_args *a)
{
    const layer *L = a->L;
    int64_t pd, qd;
    upsample_dims(L, 0, &pd, &qd);
    cl_mem ws;
    TRY(ctx_workspace(ctx, upsampled_elems(L, 0) * sizeof(float), &ws));
    TRY(run_upsample(ctx, L, 0, a->b, a->b_off, ws, 0, NULL));
    /* batch = channel within the group, output channel = k, reduction over
     * n and the dilated dy; the layer's dilation becomes the stride. */
    conv_geom g = {
        .B = L->cg, .O = L->k, .OY = L->r, .OX = L->s,
        .I = L->n, .U = pd, .V = qd, .IY = L->h, .IX = L->w, .o_per_group = L->kg,
        .is_b = L->h * L->w, .is_g = L->cg * L->h * L->w, .is_i = L->c * L->h * L->w,
        .is_y = L->w, .is_x = 1,
        .fs_o = pd * qd, .fs_i = L->k * pd * qd, .fs_u = qd, .fs_v = 1,
        .os_b = L->r * L->s, .os_o = L->cg * L->r * L->s, .os_y = L->s, .os_x = 1,
        .st_y = L->dh, .st_x = L->dw, .pad_y = L->ph, .pad_x = L->pw, .dl_y = 1, .dl_x = 1,
    };
    return run_conv_generic(ctx, &g, a->a, a->a_off, ws, 0, a->out, a->out_off, a->beta, a->event);
}

static clconv_status workspace(const clconv_ctx *ctx, const layer *L, clconv_pass pass,
                               size_t *bytes)
{
    (void)ctx;
    switch (pass) {
    case CLCONV_PASS_BACKWARD_DATA:
        *bytes = (upsampled_elems(L, 1) + L->w_elems) * sizeof(float);
        break;
    case CLCONV_PASS_BACKWARD_FILTER:
        *bytes = upsampled_elems(L, 0) * sizeof(float);
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

const algo_impl algo_explicit = {"explicit", {fwd, bwd_data, bwd_filter}, workspace, supports,
                                  {0, 0, 0}};
