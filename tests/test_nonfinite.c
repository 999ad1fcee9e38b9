/* Non-finite inputs (README, "Non-finite values").
 *
 * DIRECT, GEMM and AUTO must give NaN exactly where the float64 reference
 * does, and +-Inf exactly where it gives an Inf of that sign: the
 * reference sums only the real terms of each output (it skips padding and
 * the zeros the stride inserts), so an Inf weight whose tap only ever meets
 * padding at a border output leaves that output finite.  Where the
 * reference is finite, the result must be within TEST_TOL of it.
 *
 * EXPLICIT is the seed's decomposition and multiplies by the zeros it
 * materialises (the upsampled, padded dy of backward-data; the dilated dy
 * of backward-filter), so 0 * Inf = NaN reaches outputs the reference
 * keeps finite.  That documented behaviour is pinned against a float64
 * model of the decomposition, zeros included.
 *
 * Inputs are small integers (exact in fp32 sums); one tensor at a time (w,
 * x or dy) gets +Inf, -Inf and NaN at chosen positions: a corner, the end
 * of a row (read by the masked lanes of the next row's edge tile) and the
 * last row (read clamped by tiles whose rows leave the tensor).  The layers
 * cover GEMM's edge and interior tiles at strides 1 and 2, both forms of
 * its edge tiles (the masked product of tiles of two rows; the zeroed
 * operand and exact second pass of the taller tiles that few channels per
 * group get: C = 3, groups of 3, depthwise), its stride phases, its 1x1
 * flat path, and both backward-filter kernels (the vector kernel for
 * Kg > 8, the dot-product kernel for few filters per group), and the
 * channel-vectorised kernel of strided layers with 64 channels (its
 * zero-read padding and exact second pass). */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "util.h"

/* {n, c, h, w, k, r, s, sh, sw, ph, pw, dh, dw, g} */
static const clconv_desc layers[] = {
    {2, 8, 10, 10, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1},  /* 3x3 pad 1: edge tiles */
    {1, 5, 11, 13, 12, 3, 3, 2, 2, 1, 1, 1, 1, 1},  /* stride 2: phases, dilated dy */
    {1, 4, 9, 9, 6, 3, 3, 1, 1, 2, 2, 2, 2, 1},     /* dilation 2, pad 2 */
    {2, 6, 8, 7, 8, 5, 3, 1, 1, 2, 1, 1, 1, 2},     /* 2 groups, 5x3 */
    {1, 6, 9, 9, 6, 3, 3, 1, 1, 1, 1, 1, 1, 6},     /* depthwise */
    {2, 8, 7, 7, 12, 1, 1, 1, 1, 0, 0, 1, 1, 1},    /* 1x1: GEMM's flat path */
    {1, 4, 6, 6, 10, 1, 1, 2, 2, 1, 1, 1, 1, 1},    /* 1x1 stride 2 pad 1: padding-only border */
    {1, 4, 40, 40, 12, 3, 3, 1, 1, 1, 1, 1, 1, 1},  /* wide: interior and edge tiles */
    {1, 3, 40, 40, 16, 7, 7, 2, 2, 3, 3, 1, 1, 1},  /* 7x7 s2 p3: stride-2 interior tiles */
    {1, 64, 9, 9, 64, 3, 3, 2, 2, 1, 1, 1, 1, 1},   /* GEMM's channel-vectorised path */
    {1, 64, 7, 7, 64, 1, 1, 2, 2, 1, 1, 1, 1, 1},   /* the same, 1x1: padding-only rows */
};
#define NLAYERS ((int)(sizeof layers / sizeof layers[0]))

typedef enum { ON_W, ON_X, ON_DY } target;
static const char *const target_names[] = {"w", "x", "dy"};
typedef enum { FWD, DATA, FILTER } which_pass;
static const char *const pass_names[] = {"forward", "backward-data", "backward-filter"};
#define UNWRITTEN -7777.25f /* finite, so an element left unwritten fails the value check */

/* One layer's inputs (float and double) and shape. */
typedef struct nf_layer {
    clconv_desc d;
    char repro[160];
    int64_t p, q;
    size_t xe, we, ye;
    float *x, *w, *dy;
} nf_layer;

/* Flat index of [a][b][c][e] in an A x B x C x E tensor. */
static size_t at4(int64_t a, int64_t b, int64_t c, int64_t e, int64_t B, int64_t C, int64_t E)
{
    return (size_t)(((a * B + b) * C + c) * E + e);
}

/* The three poisoned positions of the target tensor: a corner, the end of
 * a middle row, the middle of the last row. */
static void poison_positions(const nf_layer *L, target t, size_t pos[3])
{
    const clconv_desc *d = &L->d;
    int64_t A, B, C, E; /* dims of the target tensor */
    if (t == ON_W)
        A = d->k, B = d->c / d->groups, C = d->r, E = d->s;
    else if (t == ON_X)
        A = d->n, B = d->c, C = d->h, E = d->w;
    else
        A = d->n, B = d->k, C = L->p, E = L->q;
    pos[0] = at4(0, 0, 0, 0, B, C, E);
    pos[1] = at4(A / 2, B - 1, C / 2, E - 1, B, C, E);
    pos[2] = at4(A - 1, B / 2, C - 1, E / 2, B, C, E);
}

/* mixed: +Inf, -Inf and NaN at the three positions; else +Inf alone at
 * the corner. */
static void layer_init(nf_layer *L, int idx, target t, int mixed)
{
    memset(L, 0, sizeof *L);
    L->d = layers[idx];
    test_desc_str(&L->d, L->repro, sizeof L->repro);
    cr_assert_eq(clconv_output_size(&L->d, &L->p, &L->q), CLCONV_OK, "%s", L->repro);
    L->xe = test_x_elems(&L->d), L->we = test_w_elems(&L->d), L->ye = test_y_elems(&L->d);
    L->x = test_alloc(L->xe * sizeof(float));
    L->w = test_alloc(L->we * sizeof(float));
    L->dy = test_alloc(L->ye * sizeof(float));
    test_rng r = test_rng_seed(0x6E6F6E66ull + (uint64_t)idx); /* "nonf" */
    test_fill_int(&r, L->x, L->xe, -3, 3);
    test_fill_int(&r, L->w, L->we, -3, 3);
    test_fill_int(&r, L->dy, L->ye, -3, 3);
    float *a = t == ON_W ? L->w : t == ON_X ? L->x : L->dy;
    size_t pos[3];
    poison_positions(L, t, pos);
    a[pos[0]] = INFINITY;
    if (!mixed)
        return;
    a[pos[1]] = -INFINITY;
    a[pos[2]] = NAN;
}

static void layer_free(nf_layer *L) { free(L->x), free(L->w), free(L->dy); }

static size_t out_elems(const nf_layer *L, which_pass p)
{
    return p == FWD ? L->ye : p == DATA ? L->xe : L->we;
}

static double *to_double(const float *a, size_t n)
{
    double *o = test_alloc(n * sizeof *o);
    test_to_double(a, o, n);
    return o;
}

/* ---- float64 models ------------------------------------------------------ */

typedef void (*model_fn)(const nf_layer *L, which_pass p, const double *x, const double *w,
                         const double *dy, double *out);

/* The library's float64 reference: real terms only. */
static void model_reference(const nf_layer *L, which_pass p, const double *x, const double *w,
                            const double *dy, double *out)
{
    clconv_status st = p == FWD    ? clconv_ref_forward(&L->d, x, w, out)
                       : p == DATA ? clconv_ref_backward_data(&L->d, dy, w, out)
                                   : clconv_ref_backward_filter(&L->d, x, dy, out);
    cr_assert_eq(st, CLCONV_OK);
}

/* EXPLICIT backward-data as README describes it: dy dilated and padded
 * into U (zeros where no dy element lands), the filter flipped, then
 *   dx[n][c][h][v] = sum over kl, r, s of U[n][k][h + r*dh][v + s*dw] * wf,
 * every term counted, zeros included. */
static void model_explicit_data(const nf_layer *L, const double *dy, const double *w, double *dx)
{
    const clconv_desc *d = &L->d;
    const int64_t cg = d->c / d->groups, kg = d->k / d->groups;
    const int64_t top = (d->r - 1) * d->dilation_h - d->pad_h;
    const int64_t left = (d->s - 1) * d->dilation_w - d->pad_w;
    for (int64_t n = 0; n < d->n; n++)
        for (int64_t c = 0; c < d->c; c++)
            for (int64_t h = 0; h < d->h; h++)
                for (int64_t v = 0; v < d->w; v++) {
                    double acc = 0;
                    for (int64_t kl = 0; kl < kg; kl++)
                        for (int64_t r = 0; r < d->r; r++)
                            for (int64_t s = 0; s < d->s; s++) {
                                const int64_t k = (c / cg) * kg + kl;
                                const int64_t yy = h + r * d->dilation_h - top;
                                const int64_t xx = v + s * d->dilation_w - left;
                                const int real = yy >= 0 && xx >= 0 && yy % d->stride_h == 0 &&
                                                 xx % d->stride_w == 0 &&
                                                 yy / d->stride_h < L->p &&
                                                 xx / d->stride_w < L->q;
                                const double u =
                                    real ? dy[at4(n, k, yy / d->stride_h, xx / d->stride_w,
                                                  d->k, L->p, L->q)]
                                         : 0.0;
                                acc += u * w[at4(k, c % cg, d->r - 1 - r, d->s - 1 - s, cg,
                                                 d->r, d->s)];
                            }
                    dx[at4(n, c, h, v, d->c, d->h, d->w)] = acc;
                }
}

/* EXPLICIT backward-filter: dy dilated into D ((P-1)*sh+1 rows, zeros
 * between), then
 *   dw[k][cl][r][s] = sum over n, i, j of x[n][c][r*dh - ph + i][s*dw - pw + j] * D[n][k][i][j]
 * with x's padding skipped (conv_generic reads it as no term) and D's
 * zeros counted. */
static void model_explicit_filter(const nf_layer *L, const double *x, const double *dy,
                                  double *dw)
{
    const clconv_desc *d = &L->d;
    const int64_t cg = d->c / d->groups, kg = d->k / d->groups;
    const int64_t pd = (L->p - 1) * d->stride_h + 1, qd = (L->q - 1) * d->stride_w + 1;
    for (int64_t k = 0; k < d->k; k++)
        for (int64_t cl = 0; cl < cg; cl++)
            for (int64_t r = 0; r < d->r; r++)
                for (int64_t s = 0; s < d->s; s++) {
                    const int64_t c = (k / kg) * cg + cl;
                    double acc = 0;
                    for (int64_t n = 0; n < d->n; n++)
                        for (int64_t i = 0; i < pd; i++)
                            for (int64_t j = 0; j < qd; j++) {
                                const int64_t iy = r * d->dilation_h - d->pad_h + i;
                                const int64_t ix = s * d->dilation_w - d->pad_w + j;
                                if (iy < 0 || iy >= d->h || ix < 0 || ix >= d->w)
                                    continue;
                                const int real = i % d->stride_h == 0 && j % d->stride_w == 0;
                                const double g =
                                    real ? dy[at4(n, k, i / d->stride_h, j / d->stride_w, d->k,
                                                  L->p, L->q)]
                                         : 0.0;
                                acc += x[at4(n, c, iy, ix, d->c, d->h, d->w)] * g;
                            }
                    dw[at4(k, cl, r, s, cg, d->r, d->s)] = acc;
                }
}

/* EXPLICIT's forward is conv_generic, which skips padding: the reference. */
static void model_explicit(const nf_layer *L, which_pass p, const double *x, const double *w,
                           const double *dy, double *out)
{
    if (p == DATA)
        model_explicit_data(L, dy, w, out);
    else if (p == FILTER)
        model_explicit_filter(L, x, dy, out);
    else
        model_reference(L, p, x, w, dy, out);
}

/* ---- comparison ------------------------------------------------------------ */

/* Elements whose class (NaN, +Inf, -Inf, finite) differs between a and b. */
static size_t class_diffs(const double *a, const double *b, size_t n)
{
    size_t diff = 0;
    for (size_t i = 0; i < n; i++) {
        const int ca = isnan(a[i]) ? 0 : isinf(a[i]) ? (a[i] > 0 ? 1 : 2) : 3;
        const int cb = isnan(b[i]) ? 0 : isinf(b[i]) ? (b[i] > 0 ? 1 : 2) : 3;
        diff += ca != cb;
    }
    return diff;
}

/* ---- running --------------------------------------------------------------- */

static clconv_status run_pass(clconv_ctx *ctx, const nf_layer *L, which_pass p, clconv_algo algo,
                              float *out)
{
    for (size_t i = 0; i < out_elems(L, p); i++)
        out[i] = UNWRITTEN;
    if (p == FWD)
        return clconv_forward_host(ctx, &L->d, algo, L->x, L->w, out);
    if (p == DATA)
        return clconv_backward_data_host(ctx, &L->d, algo, L->dy, L->w, out, 0);
    return clconv_backward_filter_host(ctx, &L->d, algo, L->x, L->dy, out, 0);
}

/* The passes a poisoned tensor feeds. */
static int feeds(target t, which_pass p)
{
    return t == ON_W ? p != FILTER : t == ON_X ? p != DATA : p != FWD;
}

/* Every layer, both poison patterns, every pass the target feeds: algo's
 * result against model.  Returns the layers x patterns x passes in which
 * the model's NaN/Inf pattern differs from the reference's. */
static size_t check_all(target t, clconv_algo algo, model_fn model)
{
    clconv_ctx *ctx = test_ctx();
    size_t diverging = 0;
    for (int idx = 0; idx < NLAYERS; idx++)
        for (int mixed = 0; mixed < 2; mixed++) {
            nf_layer L;
            layer_init(&L, idx, t, mixed);
            double *x = to_double(L.x, L.xe), *w = to_double(L.w, L.we);
            double *dy = to_double(L.dy, L.ye);
            for (which_pass p = FWD; p <= FILTER; p++) {
                if (!feeds(t, p))
                    continue;
                const size_t n = out_elems(&L, p);
                double *want = test_alloc(n * sizeof *want), *ref = test_alloc(n * sizeof *ref);
                float *out = test_alloc(n * sizeof *out);
                model(&L, p, x, w, dy, want);
                model_reference(&L, p, x, w, dy, ref);
                diverging += class_diffs(want, ref, n) > 0;
                clconv_status st = run_pass(ctx, &L, p, algo, out);
                cr_assert_eq(st, CLCONV_OK, "%s %s %s: %s (%s)", L.repro, clconv_algo_name(algo),
                             pass_names[p], clconv_status_name(st), clconv_last_error(ctx));
                char what[256];
                snprintf(what, sizeof what, "layer %d %s, %s %s, non-finite %s (%s)", idx,
                         L.repro, clconv_algo_name(algo), pass_names[p], target_names[t],
                         mixed ? "+Inf, -Inf, NaN" : "+Inf");
                test_expect_same_values(out, want, n, TEST_TOL, what);
                free(want), free(ref), free(out);
            }
            free(x), free(w), free(dy);
            layer_free(&L);
        }
    clconv_free(ctx);
    return diverging;
}

/* The fast algorithms follow the reference exactly. */
Test(nonfinite, w_direct) { check_all(ON_W, CLCONV_ALGO_DIRECT, model_reference); }
Test(nonfinite, w_gemm) { check_all(ON_W, CLCONV_ALGO_GEMM, model_reference); }
Test(nonfinite, w_auto) { check_all(ON_W, CLCONV_ALGO_AUTO, model_reference); }
Test(nonfinite, x_direct) { check_all(ON_X, CLCONV_ALGO_DIRECT, model_reference); }
Test(nonfinite, x_gemm) { check_all(ON_X, CLCONV_ALGO_GEMM, model_reference); }
Test(nonfinite, x_auto) { check_all(ON_X, CLCONV_ALGO_AUTO, model_reference); }
Test(nonfinite, dy_direct) { check_all(ON_DY, CLCONV_ALGO_DIRECT, model_reference); }
Test(nonfinite, dy_gemm) { check_all(ON_DY, CLCONV_ALGO_GEMM, model_reference); }
Test(nonfinite, dy_auto) { check_all(ON_DY, CLCONV_ALGO_AUTO, model_reference); }

/* EXPLICIT follows its decomposition, zeros included; the pinned cases must
 * really differ from the reference (else the model pins nothing):
 * an Inf weight in backward-data (padding and inserted zeros of U), and a
 * non-finite x in backward-filter at stride 2 (the zeros of the dilated dy). */
Test(nonfinite, w_explicit)
{
    cr_expect_gt(check_all(ON_W, CLCONV_ALGO_EXPLICIT, model_explicit), 0,
                 "no layer shows EXPLICIT's NaN from 0 * Inf weight");
}
Test(nonfinite, x_explicit)
{
    cr_expect_gt(check_all(ON_X, CLCONV_ALGO_EXPLICIT, model_explicit), 0,
                 "no layer shows EXPLICIT's NaN from x * the dilated dy's zeros");
}
Test(nonfinite, dy_explicit) { check_all(ON_DY, CLCONV_ALGO_EXPLICIT, model_explicit); }
