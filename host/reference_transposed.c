/* The float64 reference of the transposed convolution's forward, written
 * from its own definition and sharing nothing with the convolution
 * reference or the kernels: each input element is scattered through the
 * filter,
 *   y[n][g*Kg + kk][h*sh - pt + r*dh][w*sw - pl + s*dw] += x[n][c][h][w] * w[c][kk][r][s]
 * for every c of group g (g = c / Cg), kk < Kg = K/groups, r < R, s < S,
 * skipping the targets outside y; then y[n][k][..] += bias[k].  Arrays are
 * dense NCHW / KCRS (w is C x Kg x R x S). */
#include <string.h>
#include "clconv.h"

/* The sizes the scatter needs, from the descriptor's fields. */
typedef struct tref {
    int64_t n, c, h, w, k, r, s, ho, wo;
    int64_t sh, sw, pt, pl, dh, dw, cg, kg;
} tref;

/* The output length straight from the formula (not the library's
 * clconv_transposed_output_size, whose answer the tests compare). */
static int64_t len_of(int64_t in, int64_t st, int64_t p0, int64_t p1, int64_t k, int64_t dil,
                      int64_t op)
{
    return (in - 1) * st - p0 - p1 + (k - 1) * dil + 1 + op;
}

static tref tref_of(const clconv_desc *d)
{
    /* the 0.3 fields only where struct_size says the caller has them */
    const int ext = d->struct_size >= CLCONV_DESC_SIZE_0_3;
    const int asym = ext && d->pad_asymmetric == 1;
    const int64_t pb = asym ? d->pad_h_end : d->pad_h, pr = asym ? d->pad_w_end : d->pad_w;
    const int64_t oph = ext ? d->out_pad_h : 0, opw = ext ? d->out_pad_w : 0;
    return (tref){.n = d->n, .c = d->c, .h = d->h, .w = d->w, .k = d->k, .r = d->r, .s = d->s,
                  .ho = len_of(d->h, d->stride_h, d->pad_h, pb, d->r, d->dilation_h, oph),
                  .wo = len_of(d->w, d->stride_w, d->pad_w, pr, d->s, d->dilation_w, opw),
                  .sh = d->stride_h, .sw = d->stride_w, .pt = d->pad_h, .pl = d->pad_w,
                  .dh = d->dilation_h, .dw = d->dilation_w, .cg = d->c / d->groups,
                  .kg = d->k / d->groups};
}

/* Scatter x[n][c][h][w] = v through every tap of input channel c. */
static void scatter_one(const tref *T, int64_t n, int64_t c, int64_t h, int64_t w, double v,
                        const double *wt, double *y)
{
    const int64_t k0 = (c / T->cg) * T->kg; /* first output channel of c's group */
    for (int64_t kk = 0; kk < T->kg; kk++) {
        double *plane = y + (size_t)((n * T->k + k0 + kk) * T->ho * T->wo);
        for (int64_t r = 0; r < T->r; r++) {
            const int64_t oy = h * T->sh - T->pt + r * T->dh;
            if (oy < 0 || oy >= T->ho)
                continue;
            for (int64_t s = 0; s < T->s; s++) {
                const int64_t ox = w * T->sw - T->pl + s * T->dw;
                if (ox < 0 || ox >= T->wo)
                    continue;
                plane[oy * T->wo + ox] += v * wt[((c * T->kg + kk) * T->r + r) * T->s + s];
            }
        }
    }
}

clconv_status clconv_ref_transposed_forward(const clconv_desc *d, const double *x,
                                            const double *w, const double *bias, double *y)
{
    /* the library's checks, so the reference refuses what the calls refuse */
    clconv_status st = clconv_transposed_output_size(d, NULL, NULL);
    if (st != CLCONV_OK)
        return st;
    if (!x || !w || !y)
        return CLCONV_NULL_ARGUMENT;
    const tref T = tref_of(d);
    const size_t plane = (size_t)(T.ho * T.wo);
    memset(y, 0, (size_t)(T.n * T.k) * plane * sizeof *y);
    size_t xi = 0;
    for (int64_t n = 0; n < T.n; n++)
        for (int64_t c = 0; c < T.c; c++)
            for (int64_t h = 0; h < T.h; h++)
                for (int64_t ww = 0; ww < T.w; ww++, xi++)
                    scatter_one(&T, n, c, h, ww, x[xi], w, y);
    if (bias)
        for (int64_t nk = 0; nk < T.n * T.k; nk++)
            for (size_t i = 0; i < plane; i++)
                y[(size_t)nk * plane + i] += bias[nk % T.k];
    return CLCONV_OK;
}
