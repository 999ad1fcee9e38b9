/* The float64 CPU reference: the forward sum and its chain rule, written
 * straight from the definitions so that it shares nothing with the kernels
 * (no upsample, no flipped filter, no algorithm choices).
 *
 *   y[n][k][p][q] = sum over cl < C/g, r < R, s < S of
 *       x[n][g(k)*C/g + cl][p*sh - ph + r*dh][q*sw - pw + s*dw] * w[k][cl][r][s]
 *   with g(k) = k / (K/g) and out-of-range input rows/columns read as 0.
 *
 * Every pass walks the same set of forward terms (one x element times one
 * w element added into one y element).  The forward pass gathers each term
 * into y; backward-data scatters dy*w into dx and backward-filter scatters
 * dy*x into dw: that is the chain rule of y = sum(x*w), term by term.
 * Slow and simple on purpose; only the tests and tools call it. */
#include <string.h>
#include "clconv.h"

/* The checked layer as 64-bit sizes, plus the output size. */
typedef struct ref_layer {
    int64_t n, c, h, w, k, r, s, p, q;
    int64_t sh, sw, ph, pw, dh, dw, cg, kg;
} ref_layer;

/* One forward term: flat indices of the x, w and y elements it pairs. */
typedef struct ref_term {
    size_t xi, wi, yi;
} ref_term;

/* What a pass does with one term: a and b are its two inputs. */
typedef void (*ref_term_fn)(const ref_term *t, const double *a, const double *b, double *out);

/* Validate with the library's own checks (so the reference refuses exactly
 * what the device calls refuse), then derive P and Q from the formula
 * rather than from clconv_output_size, so a wrong output size there cannot
 * hide in the comparison. */
static clconv_status ref_layer_from(const clconv_desc *d, const void *a, const void *b,
                                    const void *out, ref_layer *L)
{
    if (!d)
        return CLCONV_NULL_ARGUMENT;
    clconv_status st = clconv_desc_check(d);
    if (st != CLCONV_OK)
        return st;
    if (!a || !b || !out)
        return CLCONV_NULL_ARGUMENT;
    *L = (ref_layer){.n = d->n, .c = d->c, .h = d->h, .w = d->w, .k = d->k, .r = d->r,
                     .s = d->s, .sh = d->stride_h, .sw = d->stride_w, .ph = d->pad_h,
                     .pw = d->pad_w, .dh = d->dilation_h, .dw = d->dilation_w};
    L->cg = d->c / d->groups;
    L->kg = d->k / d->groups;
    /* bottom and right padding: the 0.3 fields when the descriptor has them */
    const int asym = d->struct_size >= CLCONV_DESC_SIZE_0_3 && d->pad_asymmetric == 1;
    const int64_t pb = asym ? d->pad_h_end : d->pad_h;
    const int64_t pr = asym ? d->pad_w_end : d->pad_w;
    L->p = (L->h + L->ph + pb - (L->r - 1) * L->dh - 1) / L->sh + 1;
    L->q = (L->w + L->pw + pr - (L->s - 1) * L->dw - 1) / L->sw + 1;
    return CLCONV_OK;
}

static size_t x_count(const ref_layer *L) { return (size_t)(L->n * L->c * L->h * L->w); }
static size_t w_count(const ref_layer *L) { return (size_t)(L->k * L->cg * L->r * L->s); }
static size_t y_count(const ref_layer *L) { return (size_t)(L->n * L->k * L->p * L->q); }

/* The terms that feed one output row (n, k, p): every q, input channel of
 * k's group, and filter tap whose input element lies inside x.  Terms that
 * would read padding contribute 0 and are simply not visited. */
static void ref_row_terms(const ref_layer *L, int64_t n, int64_t k, int64_t p, ref_term_fn fn,
                          const double *a, const double *b, double *out)
{
    const int64_t c0 = (k / L->kg) * L->cg; /* first input channel of k's group */
    for (int64_t q = 0; q < L->q; q++) {
        ref_term t = {.yi = (size_t)(((n * L->k + k) * L->p + p) * L->q + q)};
        for (int64_t cl = 0; cl < L->cg; cl++) {
            for (int64_t r = 0; r < L->r; r++) {
                const int64_t iy = p * L->sh - L->ph + r * L->dh;
                if (iy < 0 || iy >= L->h)
                    continue;
                for (int64_t s = 0; s < L->s; s++) {
                    const int64_t ix = q * L->sw - L->pw + s * L->dw;
                    if (ix < 0 || ix >= L->w)
                        continue;
                    t.xi = (size_t)(((n * L->c + c0 + cl) * L->h + iy) * L->w + ix);
                    t.wi = (size_t)(((k * L->cg + cl) * L->r + r) * L->s + s);
                    fn(&t, a, b, out);
                }
            }
        }
    }
}

static void ref_all_terms(const ref_layer *L, ref_term_fn fn, const double *a, const double *b,
                          double *out)
{
    for (int64_t n = 0; n < L->n; n++)
        for (int64_t k = 0; k < L->k; k++)
            for (int64_t p = 0; p < L->p; p++)
                ref_row_terms(L, n, k, p, fn, a, b, out);
}

/* y += x * w */
static void fwd_term(const ref_term *t, const double *x, const double *w, double *y)
{
    y[t->yi] += x[t->xi] * w[t->wi];
}

/* dL/dx[xi] gets dy[yi] * w[wi] from every term x[xi] appears in. */
static void bwd_data_term(const ref_term *t, const double *dy, const double *w, double *dx)
{
    dx[t->xi] += dy[t->yi] * w[t->wi];
}

/* dL/dw[wi] gets dy[yi] * x[xi] from every term w[wi] appears in. */
static void bwd_filter_term(const ref_term *t, const double *x, const double *dy, double *dw)
{
    dw[t->wi] += dy[t->yi] * x[t->xi];
}

clconv_status clconv_ref_forward(const clconv_desc *d, const double *x, const double *w,
                                 double *y)
{
    ref_layer L;
    clconv_status st = ref_layer_from(d, x, w, y, &L);
    if (st != CLCONV_OK)
        return st;
    memset(y, 0, y_count(&L) * sizeof *y);
    ref_all_terms(&L, fwd_term, x, w, y);
    return CLCONV_OK;
}

clconv_status clconv_ref_backward_data(const clconv_desc *d, const double *dy, const double *w,
                                       double *dx)
{
    ref_layer L;
    clconv_status st = ref_layer_from(d, dy, w, dx, &L);
    if (st != CLCONV_OK)
        return st;
    /* elements no term reads (only padding-skipped ones) have gradient 0 */
    memset(dx, 0, x_count(&L) * sizeof *dx);
    ref_all_terms(&L, bwd_data_term, dy, w, dx);
    return CLCONV_OK;
}

clconv_status clconv_ref_backward_filter(const clconv_desc *d, const double *x, const double *dy,
                                         double *dw)
{
    ref_layer L;
    clconv_status st = ref_layer_from(d, x, dy, dw, &L);
    if (st != CLCONV_OK)
        return st;
    memset(dw, 0, w_count(&L) * sizeof *dw);
    ref_all_terms(&L, bwd_filter_term, x, dy, dw);
    return CLCONV_OK;
}

/* A bias b[k] is added to every y[n][k][p][q], so its gradient is the sum
 * of dy over n, p and q. */
clconv_status clconv_ref_backward_bias(const clconv_desc *d, const double *dy, double *db)
{
    ref_layer L;
    /* dy stands in for the second input, which the bias pass does not have */
    clconv_status st = ref_layer_from(d, dy, dy, db, &L);
    if (st != CLCONV_OK)
        return st;
    const size_t plane = (size_t)(L.p * L.q);
    for (int64_t k = 0; k < L.k; k++) {
        double sum = 0;
        for (int64_t n = 0; n < L.n; n++) {
            const double *src = dy + (size_t)(n * L.k + k) * plane;
            for (size_t i = 0; i < plane; i++)
                sum += src[i];
        }
        db[k] = sum;
    }
    return CLCONV_OK;
}
