/* Convolution descriptors: checks, output size, element counts.  All
 * arithmetic is 64-bit with overflow checks, so no field combination can
 * wrap into a small, wrong size. */
#include <limits.h>
#include "internal.h"

void clconv_desc_init(clconv_desc *d, int64_t n, int64_t c, int64_t h, int64_t w, int64_t k,
                      int64_t r, int64_t s)
{
    if (!d)
        return;
    *d = (clconv_desc){.n = n, .c = c, .h = h, .w = w, .k = k, .r = r, .s = s,
                       .stride_h = 1, .stride_w = 1, .dilation_h = 1, .dilation_w = 1,
                       .groups = 1, .struct_size = (int64_t)sizeof(clconv_desc)};
}

size_t clconv_dtype_size(clconv_dtype t)
{
    return t == CLCONV_F32 ? 4 : t == CLCONV_F16 || t == CLCONV_BF16 ? 2 : 0;
}

const char *clconv_dtype_name(clconv_dtype t)
{
    static const char *const names[CLCONV_DTYPE_COUNT_] = {"f32", "f16", "bf16"};
    return (unsigned)t < CLCONV_DTYPE_COUNT_ ? names[t] : "unknown";
}

/* The 0.3 fields, from the descriptor when struct_size covers them, else
 * their defaults (a caller built against 0.2 never set them). */
typedef struct desc_ext {
    int64_t asym, pad_h_end, pad_w_end, out_pad_h, out_pad_w, dtype, layout, filter_layout;
} desc_ext;

static desc_ext ext_of(const clconv_desc *d)
{
    if (d->struct_size == 0 || d->struct_size < CLCONV_DESC_SIZE_0_3)
        return (desc_ext){0, d->pad_h, d->pad_w, 0, 0, CLCONV_F32, CLCONV_NCHW, CLCONV_KCRS};
    const int asym = d->pad_asymmetric == 1;
    return (desc_ext){d->pad_asymmetric, asym ? d->pad_h_end : d->pad_h,
                      asym ? d->pad_w_end : d->pad_w, d->out_pad_h, d->out_pad_w, d->dtype,
                      d->layout, d->filter_layout};
}

clconv_status mul_size(size_t a, size_t b, size_t *out)
{
    if (a != 0 && b > SIZE_MAX / a)
        return CLCONV_TOO_LARGE;
    *out = a * b;
    return CLCONV_OK;
}

/* a*b*c*d as size_t, or TOO_LARGE. */
static clconv_status prod4(int64_t a, int64_t b, int64_t c, int64_t d, size_t *out)
{
    size_t t = (size_t)a;
    TRY(mul_size(t, (size_t)b, &t));
    TRY(mul_size(t, (size_t)c, &t));
    TRY(mul_size(t, (size_t)d, &t));
    /* every count must also survive being turned into bytes and int64 */
    if (t > (size_t)INT64_MAX / sizeof(float))
        return CLCONV_TOO_LARGE;
    *out = t;
    return CLCONV_OK;
}

/* One spatial dimension: the extent of the dilated filter and the output
 * length, computed so that no intermediate can overflow.  *st_eff is the
 * stride the kernels see: a stride larger than room + 1 (the room the
 * filter has to move in) leaves one output position, whose taps do not
 * depend on the stride, so room + 1 is equivalent to it; every stride the
 * kernels see is then at most the padded input extent, and products such
 * as p*stride, (P-1)*stride + 1 or ceil(H/stride) cannot overflow however
 * large the caller's stride is. */
static clconv_status out_len(int64_t in, int64_t k, int64_t st, int64_t pad, int64_t pad_end,
                             int64_t dil, int64_t *out, int64_t *st_eff)
{
    /* (k-1)*dil + 1 <= in + pad + pad_end; each operand < 2^62 keeps sums exact */
    const int64_t lim = INT64_C(1) << 62;
    if (in >= lim || k >= lim || pad >= lim / 4 || pad_end >= lim / 4 || dil >= lim)
        return CLCONV_TOO_LARGE;
    if (k - 1 > 0 && dil > (lim - 1) / (k - 1))
        return CLCONV_TOO_LARGE;
    int64_t span = (k - 1) * dil + 1;
    int64_t room = in + pad + pad_end - span;
    if (room < 0)
        return CLCONV_EMPTY_OUTPUT;
    *out = room / st + 1;
    *st_eff = st > room ? room + 1 : st;
    return CLCONV_OK;
}

static clconv_status check_fields(const clconv_desc *d)
{
    if (d->struct_size != 0 &&
        (d->struct_size < CLCONV_DESC_SIZE_0_2 || d->struct_size > (int64_t)sizeof(clconv_desc)))
        return CLCONV_BAD_VERSION;
    if (d->n < 1 || d->c < 1 || d->h < 1 || d->w < 1 || d->k < 1 || d->r < 1 || d->s < 1)
        return CLCONV_BAD_SIZE;
    if (d->stride_h < 1 || d->stride_w < 1)
        return CLCONV_BAD_STRIDE;
    const desc_ext e = ext_of(d);
    if (d->pad_h < 0 || d->pad_w < 0 || e.pad_h_end < 0 || e.pad_w_end < 0 ||
        (e.asym != 0 && e.asym != 1))
        return CLCONV_BAD_PADDING;
    if (e.out_pad_h != 0 || e.out_pad_w != 0)
        return CLCONV_BAD_PADDING; /* output padding is the transposed calls' */
    if (d->dilation_h < 1 || d->dilation_w < 1)
        return CLCONV_BAD_DILATION;
    if (d->groups < 1 || d->c % d->groups || d->k % d->groups)
        return CLCONV_BAD_GROUPS;
    if ((uint64_t)e.dtype >= CLCONV_DTYPE_COUNT_)
        return CLCONV_BAD_DTYPE;
    if ((uint64_t)e.layout >= CLCONV_LAYOUT_COUNT_ ||
        (uint64_t)e.filter_layout >= CLCONV_FILTER_LAYOUT_COUNT_)
        return CLCONV_BAD_LAYOUT;
    return CLCONV_OK;
}

/* Element strides of a dense 4-D tensor of dims (a, b, c, d) stored
 * a-major with b either second (channels-first: a b c d) or last (a c d b). */
static void dense_strides(int64_t b, int64_t c, int64_t d, int channels_last, int64_t st[4])
{
    if (!channels_last) {
        st[3] = 1, st[2] = d, st[1] = c * d, st[0] = b * c * d;
    } else {
        st[1] = 1, st[3] = b, st[2] = d * b, st[0] = c * d * b;
    }
}

clconv_status layer_from_desc(const clconv_desc *d, layer *L)
{
    if (!d)
        return CLCONV_NULL_ARGUMENT;
    TRY(check_fields(d));
    const desc_ext e = ext_of(d);
    layer l = {.n = d->n, .c = d->c, .h = d->h, .w = d->w, .k = d->k, .r = d->r, .s = d->s,
               .sh = d->stride_h, .sw = d->stride_w, .ph = d->pad_h, .pw = d->pad_w,
               .pb = e.pad_h_end, .pr = e.pad_w_end,
               .dh = d->dilation_h, .dw = d->dilation_w, .g = d->groups,
               .dtype = (int)e.dtype, .layout = (int)e.layout, .flayout = (int)e.filter_layout};
    l.cg = l.c / l.g;
    l.kg = l.k / l.g;
    l.esize = clconv_dtype_size((clconv_dtype)l.dtype);
    TRY(out_len(l.h, l.r, d->stride_h, l.ph, l.pb, l.dh, &l.p, &l.sh));
    TRY(out_len(l.w, l.s, d->stride_w, l.pw, l.pr, l.dw, &l.q, &l.sw));
    TRY(prod4(l.n, l.c, l.h, l.w, &l.x_elems));
    TRY(prod4(l.k, l.cg, l.r, l.s, &l.w_elems));
    TRY(prod4(l.n, l.k, l.p, l.q, &l.y_elems));
    /* the counts above bound every stride product: they cannot overflow now */
    dense_strides(l.c, l.h, l.w, l.layout == CLCONV_NHWC, l.xs);
    dense_strides(l.k, l.p, l.q, l.layout == CLCONV_NHWC, l.ys);
    dense_strides(l.cg, l.r, l.s, l.flayout == CLCONV_KRSC, l.ws);
    /* the EXPLICIT intermediates must be countable too */
    size_t tmp;
    TRY(prod4(l.n, l.k, l.h + (l.r - 1) * l.dh, l.w + (l.s - 1) * l.dw, &tmp));
    TRY(prod4(l.n, l.k, (l.p - 1) * l.sh + 1, (l.q - 1) * l.sw + 1, &tmp));
    /* and the FLOP count's reduction length */
    TRY(prod4(l.cg, l.r, l.s, l.y_elems, &tmp));
    *L = l;
    return CLCONV_OK;
}

clconv_status clconv_desc_check(const clconv_desc *d)
{
    layer L;
    return layer_from_desc(d, &L);
}

clconv_status clconv_output_size(const clconv_desc *d, int64_t *p, int64_t *q)
{
    layer L;
    TRY(layer_from_desc(d, &L));
    if (p)
        *p = L.p;
    if (q)
        *q = L.q;
    return CLCONV_OK;
}

clconv_status clconv_tensor_elems(const clconv_desc *d, size_t *x_elems, size_t *w_elems,
                                  size_t *y_elems)
{
    layer L;
    TRY(layer_from_desc(d, &L));
    if (x_elems)
        *x_elems = L.x_elems;
    if (w_elems)
        *w_elems = L.w_elems;
    if (y_elems)
        *y_elems = L.y_elems;
    return CLCONV_OK;
}

double clconv_flops(const clconv_desc *d)
{
    layer L;
    if (layer_from_desc(d, &L) != CLCONV_OK)
        return 0.0;
    return 2.0 * (double)L.y_elems * (double)L.cg * (double)L.r * (double)L.s;
}

clconv_status clconv_upsample_pad_size(const clconv_desc *d, int64_t *hu, int64_t *wu)
{
    layer L;
    TRY(layer_from_desc(d, &L));
    int64_t a, b;
    upsample_dims(&L, 1, &a, &b);
    if (hu)
        *hu = a;
    if (wu)
        *wu = b;
    return CLCONV_OK;
}

/* 32-bit indices are enough when every element count, `extra` (work-items
 * or workspace floats) and every size the kernels multiply stay far below
 * 2^31 (they form products such as q*sw + s*dw and lane offsets a vector
 * beyond a tensor's end).  Shared by the GEMM forward/backward-data and
 * TILED families. */
int layer_needs_long(const layer *L, size_t extra)
{
    const size_t cap = (size_t)1 << 30;
    const int64_t small = (int64_t)1 << 24;
    if (L->x_elems > cap || L->y_elems > cap || L->w_elems > cap || extra > cap)
        return 1;
    const int64_t v[] = {L->h, L->w, L->p, L->q, L->sh, L->sw, L->ph, L->pw, L->pb, L->pr,
                         (L->r - 1) * L->dh + 1, (L->s - 1) * L->dw + 1, L->dh, L->dw};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
        if (v[i] > small)
            return 1;
    return 0;
}

kgeom kgeom_of(const layer *L)
{
    kgeom g = {L->n, L->c, L->h, L->w, L->k, L->r, L->s, L->p, L->q,
               L->sh, L->sw, L->ph, L->pw, L->pb, L->pr, L->dh, L->dw, L->g, L->cg, L->kg,
               {0}, {0}, {0}};
    for (int i = 0; i < 4; i++) {
        g.xs[i] = L->xs[i];
        g.ys[i] = L->ys[i];
        g.ws[i] = L->ws[i];
    }
    return g;
}

const char *layer_dt_option(const layer *L)
{
    return L->dtype == CLCONV_F16 ? "-DDT=1" : L->dtype == CLCONV_BF16 ? "-DDT=2" : "";
}

int layer_is_plain(const layer *L)
{
    return L->dtype == CLCONV_F32 && L->layout == CLCONV_NCHW && L->flayout == CLCONV_KCRS &&
           L->pb == L->ph && L->pr == L->pw;
}
