/* The kernels every algorithm is built from: the plain strided convolution
 * (conv_generic.cl) with its store step, upsample+pad and flip, in the
 * layer's storage type and layouts (see primitives.h). */
#include "primitives.h"

const char *simple_kernel_options(const layer *L, size_t ws_elems)
{
    /* one static string per (storage type, index width): no buffer to own */
    static const char *const opts[CLCONV_DTYPE_COUNT_][2] = {
        {"", "-DIDX_LONG"}, {"-DDT=1", "-DDT=1 -DIDX_LONG"}, {"-DDT=2", "-DDT=2 -DIDX_LONG"}};
    return opts[L->dtype][layer_needs_long(L, ws_elems)];
}

conv_store conv_store_plain(int beta, dbuf out)
{
    return (conv_store){{1.0f, beta ? 1.0f : 0.0f, 0.0f, CLCONV_ACT_IDENTITY, 0, 0}, out};
}

conv_store conv_store_of(const pass_args *a)
{
    const dbuf out = {a->out, a->out_off};
    if (!a->ep)
        return conv_store_plain(a->beta, out);
    return (conv_store){*a->ep, a->ep->has_bias ? (dbuf){a->bias, a->bias_off} : out};
}

clconv_status conv_generic_run(clconv_ctx *ctx, const layer *L, const conv_geom *g,
                               size_t ws_elems, dbuf in, dbuf flt, dbuf out,
                               const conv_store *st, cl_event *event)
{
    cl_kernel k;
    TRY(ctx_kernel(ctx, "conv_generic", simple_kernel_options(L, ws_elems), "conv_generic", &k));
    cl_long io = (cl_long)in.off, fo = (cl_long)flt.off, oo = (cl_long)out.off,
            bo = (cl_long)st->bias.off;
    const karg args[] = {KARG(in.m),  KARG(io), KARG(flt.m), KARG(fo),         KARG(out.m),
                         KARG(oo),    KARG(*g), KARG(st->e), KARG(st->bias.m), KARG(bo)};
    size_t items = (size_t)(g->B * g->O * g->OY * g->OX);
    return ctx_launch(ctx, k, (int)(sizeof args / sizeof args[0]), args, items, 0, event);
}

conv_geom geom_forward(const layer *L)
{
    return (conv_geom){
        .B = L->n, .O = L->k, .OY = L->p, .OX = L->q,
        .I = L->cg, .U = L->r, .V = L->s, .IY = L->h, .IX = L->w, .o_per_group = L->kg,
        .is_b = L->xs[0], .is_g = L->cg * L->xs[1], .is_i = L->xs[1],
        .is_y = L->xs[2], .is_x = L->xs[3],
        .fs_o = L->ws[0], .fs_i = L->ws[1], .fs_u = L->ws[2], .fs_v = L->ws[3],
        .os_b = L->ys[0], .os_o = L->ys[1], .os_y = L->ys[2], .os_x = L->ys[3],
        .st_y = L->sh, .st_x = L->sw, .pad_y = L->ph, .pad_x = L->pw,
        .dl_y = L->dh, .dl_x = L->dw,
    };
}

clconv_status conv_generic_forward(clconv_ctx *ctx, const pass_args *a)
{
    const conv_geom g = geom_forward(a->L);
    const conv_store st = conv_store_of(a);
    return conv_generic_run(ctx, a->L, &g, 0, (dbuf){a->a, a->a_off}, (dbuf){a->b, a->b_off},
                            (dbuf){a->out, a->out_off}, &st, a->event);
}

/* for_data: the padded map backward-data convolves (H+(R-1)d rows);
 * otherwise the dilated-only map backward-filter convolves ((P-1)s+1 rows). */
void upsample_dims(const layer *L, int for_data, int64_t *dh, int64_t *dw)
{
    *dh = for_data ? L->h + (L->r - 1) * L->dh : (L->p - 1) * L->sh + 1;
    *dw = for_data ? L->w + (L->s - 1) * L->dw : (L->q - 1) * L->sw + 1;
}

size_t upsample_elems(const layer *L, int for_data)
{
    int64_t hu, wu;
    upsample_dims(L, for_data, &hu, &wu);
    return (size_t)(L->n * L->k * hu * wu); /* counted by layer_from_desc: no overflow */
}

/* Dense strides of (a, b, c, d) with b second, or last when channels_last
 * (desc.c's rule for the caller's tensors). */
static void dense4(int64_t b, int64_t c, int64_t d, int channels_last, int64_t st[4])
{
    if (!channels_last) {
        st[3] = 1, st[2] = d, st[1] = c * d, st[0] = b * c * d;
    } else {
        st[1] = 1, st[3] = b, st[2] = d * b, st[0] = c * d * b;
    }
}

void upsample_strides(const layer *L, int for_data, int64_t st[4])
{
    int64_t hu, wu;
    upsample_dims(L, for_data, &hu, &wu);
    dense4(L->k, hu, wu, L->layout == CLCONV_NHWC, st);
}

void flip_strides(const layer *L, int64_t st[4])
{
    dense4(L->kg, L->r, L->s, L->flayout == CLCONV_KRSC, st);
}

/* upsample_pad.cl's umap, field for field. */
typedef struct upsample_map {
    cl_long N, K, SH, SW, DH, DW, top, left, sy, sx;
    cl_long ss[4], ds[4];
} upsample_map;

clconv_status run_upsample(clconv_ctx *ctx, const layer *L, int for_data, cl_mem dy,
                           size_t dy_off, cl_mem out, size_t out_off, cl_event *event)
{
    cl_kernel k;
    const size_t elems = upsample_elems(L, for_data);
    TRY(ctx_kernel(ctx, "upsample_pad", simple_kernel_options(L, elems), "upsample_pad", &k));
    upsample_map m = {.N = L->n, .K = L->k, .SH = L->p, .SW = L->q, .sy = L->sh, .sx = L->sw};
    upsample_dims(L, for_data, &m.DH, &m.DW);
    /* the top/left side; the bottom/right one is what DH/DW leave */
    m.top = for_data ? (L->r - 1) * L->dh - L->ph : 0;
    m.left = for_data ? (L->s - 1) * L->dw - L->pw : 0;
    upsample_strides(L, for_data, m.ds);
    for (int i = 0; i < 4; i++)
        m.ss[i] = L->ys[i];
    cl_long so = (cl_long)dy_off, d_o = (cl_long)out_off;
    const karg args[] = {KARG(dy), KARG(so), KARG(out), KARG(d_o), KARG(m)};
    return ctx_launch(ctx, k, 5, args, elems, 0, event);
}

/* flip_filter.cl's fmap, field for field. */
typedef struct flip_map {
    cl_long C, Cg, Kg, R, S;
    cl_long ws[4], ds[4];
} flip_map;

clconv_status run_flip(clconv_ctx *ctx, const layer *L, cl_mem w, size_t w_off, cl_mem wf,
                       size_t wf_off, cl_event *event)
{
    cl_kernel k;
    TRY(ctx_kernel(ctx, "flip_filter", simple_kernel_options(L, L->w_elems), "flip_filter", &k));
    flip_map m = {.C = L->c, .Cg = L->cg, .Kg = L->kg, .R = L->r, .S = L->s};
    flip_strides(L, m.ds);
    for (int i = 0; i < 4; i++)
        m.ws[i] = L->ws[i];
    cl_long wo = (cl_long)w_off, fo = (cl_long)wf_off;
    const karg args[] = {KARG(w), KARG(wo), KARG(wf), KARG(fo), KARG(m)};
    return ctx_launch(ctx, k, 5, args, L->w_elems, 0, event);
}
