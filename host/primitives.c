/* The kernels every algorithm is built from: the plain strided convolution
 * (conv_generic.cl), upsample+pad and flip. */
#include "internal.h"

clconv_status run_conv_generic(clconv_ctx *ctx, const conv_geom *g, cl_mem in, size_t in_off,
                               cl_mem flt, size_t flt_off, cl_mem out, size_t out_off, int beta,
                               cl_event *event)
{
    cl_kernel k;
    TRY(ctx_kernel(ctx, "conv_generic", "", "conv_generic", &k));
    cl_long io = (cl_long)in_off, fo = (cl_long)flt_off, oo = (cl_long)out_off;
    cl_int b = beta;
    const karg args[] = {
        KARG(in), KARG(io), KARG(flt), KARG(fo), KARG(out), KARG(oo), KARG(b),
        KARG(g->B), KARG(g->O), KARG(g->OY), KARG(g->OX),
        KARG(g->I), KARG(g->U), KARG(g->V), KARG(g->IY), KARG(g->IX), KARG(g->o_per_group),
        KARG(g->is_b), KARG(g->is_g), KARG(g->is_i), KARG(g->is_y), KARG(g->is_x),
        KARG(g->fs_o), KARG(g->fs_i), KARG(g->fs_u), KARG(g->fs_v),
        KARG(g->os_b), KARG(g->os_o), KARG(g->os_y), KARG(g->os_x),
        KARG(g->st_y), KARG(g->st_x), KARG(g->pad_y), KARG(g->pad_x), KARG(g->dl_y), KARG(g->dl_x),
    };
    size_t items = (size_t)(g->B * g->O * g->OY * g->OX);
    return ctx_launch(ctx, k, (int)(sizeof args / sizeof args[0]), args, items, 0, event);
}

conv_geom geom_forward(const layer *L)
{
    return (conv_geom){
        .B = L->n, .O = L->k, .OY = L->p, .OX = L->q,
        .I = L->cg, .U = L->r, .V = L->s, .IY = L->h, .IX = L->w, .o_per_group = L->kg,
        .is_b = L->c * L->h * L->w, .is_g = L->cg * L->h * L->w, .is_i = L->h * L->w,
        .is_y = L->w, .is_x = 1,
        .fs_o = L->cg * L->r * L->s, .fs_i = L->r * L->s, .fs_u = L->s, .fs_v = 1,
        .os_b = L->k * L->p * L->q, .os_o = L->p * L->q, .os_y = L->q, .os_x = 1,
        .st_y = L->sh, .st_x = L->sw, .pad_y = L->ph, .pad_x = L->pw,
        .dl_y = L->dh, .dl_x = L->dw,
    };
}

/* for_data: the padded map backward-data convolves (H+(R-1)d rows);
 * otherwise the dilated-only map backward-filter convolves ((P-1)s+1 rows). */
void upsample_dims(const layer *L, int for_data, int64_t *dh, int64_t *dw)
{
    *dh = for_data ? L->h + (L->r - 1) * L->dh : (L->p - 1) * L->sh + 1;
    *dw = for_data ? L->w + (L->s - 1) * L->dw : (L->q - 1) * L->sw + 1;
}

clconv_status run_upsample(clconv_ctx *ctx, const layer *L, int for_data, cl_mem dy,
                           size_t dy_off, cl_mem out, size_t out_off, cl_event *event)
{
    cl_kernel k;
    TRY(ctx_kernel(ctx, "upsample_pad", "", "upsample_pad", &k));
    cl_long so = (cl_long)dy_off, d_o = (cl_long)out_off, planes = L->n * L->k;
    cl_long DH, DW;
    upsample_dims(L, for_data, &DH, &DW);
    cl_long top = for_data ? (L->r - 1) * L->dh - L->ph : 0;
    cl_long left = for_data ? (L->s - 1) * L->dw - L->pw : 0;
    const karg args[] = {KARG(dy), KARG(so), KARG(out), KARG(d_o), KARG(planes),
                         KARG(L->p), KARG(L->q), KARG(DH), KARG(DW), KARG(top), KARG(left),
                         KARG(L->sh), KARG(L->sw)};
    return ctx_launch(ctx, k, 13, args, (size_t)(planes * DH * DW), 0, event);
}

clconv_status run_flip(clconv_ctx *ctx, const layer *L, cl_mem w, size_t w_off, cl_mem wf,
                       size_t wf_off, cl_event *event)
{
    cl_kernel k;
    TRY(ctx_kernel(ctx, "flip_filter", "", "flip_filter", &k));
    cl_long wo = (cl_long)w_off, fo = (cl_long)wf_off;
    const karg args[] = {KARG(w), KARG(wo), KARG(wf), KARG(fo), KARG(L->c), KARG(L->cg),
                         KARG(L->kg), KARG(L->r), KARG(L->s)};
    return ctx_launch(ctx, k, 9, args, L->w_elems, 0, event);
}
