/* The float64 CPU reference on its own (no device): every other test trusts
 * it, so it is checked here against facts that do not come from its own
 * loops:
 *   - backward-data and backward-filter equal central finite differences
 *     of L(x, w) = <forward(x, w), dy>;
 *   - the adjoint identities <fwd(x,w),dy> = <x,bwd_data(dy,w)>
 *     = <w,bwd_filter(x,dy)>;
 *   - forward with stride, padding, dilation and groups equals a dense
 *     stride-1 unpadded convolution of explicitly padded input, explicitly
 *     dilated block-diagonal filter, subsampled afterwards;
 *   - backward-bias is the plain sum of dy over n, p, q;
 *   - bad descriptors and NULL arrays are refused with their status. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>
#include "util.h"

/* Small layers with every feature varied: the finite differences run one
 * forward pass per input element, so these stay tiny. */
static const test_layer_bounds tiny = {
    .max_n = 2, .max_ck = 6, .max_hw = 7, .max_rs = 4, .max_stride = 3, .max_pad = 3,
    .max_dil = 3, .max_flops = 2e4,
};

static double *random_doubles(test_rng *r, size_t n)
{
    float *f = test_alloc(n * sizeof *f);
    double *d = test_alloc(n * sizeof *d);
    test_fill_random(r, f, n);
    test_to_double(f, d, n);
    free(f);
    return d;
}

static double dot(const double *a, const double *b, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += a[i] * b[i];
    return s;
}

/* L(x, w) = <forward(x, w), dy>, the scalar whose gradients the two
 * backward passes compute. */
static double loss(const clconv_desc *d, const double *x, const double *w, const double *dy,
                   double *y_scratch)
{
    cr_assert_eq(clconv_ref_forward(d, x, w, y_scratch), CLCONV_OK);
    return dot(y_scratch, dy, test_y_elems(d));
}

/* Central differences of L along every element of v (x or w), compared
 * with the analytic gradient g.  L is linear in each argument, so the
 * difference quotient is exact up to rounding; a step of 1/8 keeps the
 * perturbed values exact too. */
static void check_fd(const clconv_desc *d, double *x, double *w, const double *dy, double *v,
                     size_t nv, const double *g, const char *what)
{
    char buf[160];
    const double h = 0.125;
    double *y = test_alloc(test_y_elems(d) * sizeof *y);
    double gnorm = sqrt(dot(g, g, nv)), maxerr = 0;
    for (size_t i = 0; i < nv; i++) {
        const double keep = v[i];
        v[i] = keep + h;
        double lp = loss(d, x, w, dy, y);
        v[i] = keep - h;
        double lm = loss(d, x, w, dy, y);
        v[i] = keep;
        double fd = (lp - lm) / (2 * h);
        cr_assert(isfinite(fd) && isfinite(g[i]), "%s: non-finite gradient", what);
        maxerr = fmax(maxerr, fabs(fd - g[i]));
    }
    cr_expect_leq(maxerr, 1e-9 * (1 + gnorm), "%s: finite differences differ by %g on %s", what,
                  maxerr, test_desc_str(d, buf, sizeof buf));
    free(y);
}

Test(reference, finite_differences)
{
    test_rng r = test_rng_seed(101);
    for (int t = 0; t < 24; t++) {
        clconv_desc d = test_random_desc(&r, &tiny);
        const size_t xe = test_x_elems(&d), we = test_w_elems(&d), ye = test_y_elems(&d);
        double *x = random_doubles(&r, xe), *w = random_doubles(&r, we);
        double *dy = random_doubles(&r, ye);
        double *dx = test_alloc(xe * sizeof *dx), *dw = test_alloc(we * sizeof *dw);
        cr_assert_eq(clconv_ref_backward_data(&d, dy, w, dx), CLCONV_OK);
        cr_assert_eq(clconv_ref_backward_filter(&d, x, dy, dw), CLCONV_OK);
        check_fd(&d, x, w, dy, x, xe, dx, "backward-data");
        check_fd(&d, x, w, dy, w, we, dw, "backward-filter");
        free(x), free(w), free(dy), free(dx), free(dw);
    }
}

/* Larger layers than finite differences can afford, still exact to
 * rounding: the three inner products are one sum taken in three orders. */
Test(reference, adjoint_identities)
{
    const test_layer_bounds b = {
        .max_n = 3, .max_ck = 12, .max_hw = 12, .max_rs = 7, .max_stride = 4, .max_pad = 3,
        .max_dil = 3, .max_flops = 4e5,
    };
    test_rng r = test_rng_seed(202);
    char buf[160];
    for (int t = 0; t < 60; t++) {
        clconv_desc d = test_random_desc(&r, &b);
        const size_t xe = test_x_elems(&d), we = test_w_elems(&d), ye = test_y_elems(&d);
        double *x = random_doubles(&r, xe), *w = random_doubles(&r, we);
        double *dy = random_doubles(&r, ye);
        double *y = test_alloc(ye * sizeof *y), *dx = test_alloc(xe * sizeof *dx);
        double *dw = test_alloc(we * sizeof *dw);
        cr_assert_eq(clconv_ref_forward(&d, x, w, y), CLCONV_OK);
        cr_assert_eq(clconv_ref_backward_data(&d, dy, w, dx), CLCONV_OK);
        cr_assert_eq(clconv_ref_backward_filter(&d, x, dy, dw), CLCONV_OK);
        const double a = dot(y, dy, ye), bd = dot(x, dx, xe), bf = dot(w, dw, we);
        /* each side rounds differently; bound the error by the sizes of
         * the vectors whose inner products are taken */
        const double scale = sqrt(dot(y, y, ye) * dot(dy, dy, ye)) +
                             sqrt(dot(x, x, xe) * dot(dx, dx, xe)) +
                             sqrt(dot(w, w, we) * dot(dw, dw, we)) + 1;
        cr_expect(isfinite(a) && fabs(a - bd) <= 1e-10 * scale && fabs(a - bf) <= 1e-10 * scale,
                  "<y,dy>=%.17g <x,dx>=%.17g <w,dw>=%.17g on %s", a, bd, bf,
                  test_desc_str(&d, buf, sizeof buf));
        free(x), free(w), free(dy), free(y), free(dx), free(dw);
    }
}

/* ---- forward through an independent route ---------------------------- */

/* x padded explicitly with zeros: N x C x (H+2ph) x (W+2pw). */
static double *pad_input(const clconv_desc *d, const double *x)
{
    const int64_t hp = d->h + 2 * d->pad_h, wp = d->w + 2 * d->pad_w;
    double *xp = calloc((size_t)(d->n * d->c * hp * wp), sizeof *xp);
    cr_assert_not_null(xp);
    for (int64_t nc = 0; nc < d->n * d->c; nc++)
        for (int64_t i = 0; i < d->h; i++)
            memcpy(xp + (nc * hp + i + d->pad_h) * wp + d->pad_w, x + (nc * d->h + i) * d->w,
                   (size_t)d->w * sizeof *xp);
    return xp;
}

/* The filter as a dense K x C x RD x SD one: taps spread out by the
 * dilation (RD = (R-1)dh + 1), and zero outside k's own group. */
static double *dense_filter(const clconv_desc *d, const double *w, int64_t rd, int64_t sd)
{
    const int64_t cg = d->c / d->groups, kg = d->k / d->groups;
    double *wd = calloc((size_t)(d->k * d->c * rd * sd), sizeof *wd);
    cr_assert_not_null(wd);
    for (int64_t k = 0; k < d->k; k++)
        for (int64_t cl = 0; cl < cg; cl++)
            for (int64_t r = 0; r < d->r; r++)
                for (int64_t s = 0; s < d->s; s++) {
                    const int64_t c = (k / kg) * cg + cl;
                    wd[((k * d->c + c) * rd + r * d->dilation_h) * sd + s * d->dilation_w] =
                        w[((k * cg + cl) * d->r + r) * d->s + s];
                }
    return wd;
}

Test(reference, forward_by_padding_dilating_and_subsampling)
{
    const test_layer_bounds b = {
        .max_n = 3, .max_ck = 12, .max_hw = 12, .max_rs = 5, .max_stride = 4, .max_pad = 3,
        .max_dil = 3, .max_flops = 2e5,
    };
    test_rng r = test_rng_seed(303);
    char buf[160];
    for (int t = 0; t < 60; t++) {
        clconv_desc d = test_random_desc(&r, &b);
        const size_t xe = test_x_elems(&d), we = test_w_elems(&d), ye = test_y_elems(&d);
        double *x = random_doubles(&r, xe), *w = random_doubles(&r, we);
        double *y = test_alloc(ye * sizeof *y);
        cr_assert_eq(clconv_ref_forward(&d, x, w, y), CLCONV_OK);

        /* the same layer as stride 1, no padding, dilation 1, one group */
        const int64_t rd = (d.r - 1) * d.dilation_h + 1, sd = (d.s - 1) * d.dilation_w + 1;
        clconv_desc e;
        clconv_desc_init(&e, d.n, d.c, d.h + 2 * d.pad_h, d.w + 2 * d.pad_w, d.k, rd, sd);
        double *xp = pad_input(&d, x), *wd = dense_filter(&d, w, rd, sd);
        const int64_t pe = e.h - rd + 1, qe = e.w - sd + 1;
        double *ye_full = test_alloc((size_t)(e.n * e.k * pe * qe) * sizeof *ye_full);
        cr_assert_eq(clconv_ref_forward(&e, xp, wd, ye_full), CLCONV_OK);

        /* y[n][k][p][q] = dense[n][k][p*sh][q*sw] */
        const int64_t P = test_out_len(d.h, d.r, d.stride_h, d.pad_h, d.dilation_h);
        const int64_t Q = test_out_len(d.w, d.s, d.stride_w, d.pad_w, d.dilation_w);
        double maxerr = 0;
        for (int64_t nk = 0; nk < d.n * d.k; nk++)
            for (int64_t p = 0; p < P; p++)
                for (int64_t q = 0; q < Q; q++) {
                    double want = ye_full[(nk * pe + p * d.stride_h) * qe + q * d.stride_w];
                    double got = y[(nk * P + p) * Q + q];
                    maxerr = isfinite(got) ? fmax(maxerr, fabs(got - want)) : INFINITY;
                }
        cr_expect_leq(maxerr, 1e-12, "forward differs by %g on %s", maxerr,
                      test_desc_str(&d, buf, sizeof buf));
        free(x), free(w), free(y), free(xp), free(wd), free(ye_full);
    }
}

/* A 1x1 convolution is a matrix product per image: y[n] = W x[n]. */
Test(reference, forward_1x1_is_a_matrix_product)
{
    clconv_desc d;
    clconv_desc_init(&d, 2, 3, 2, 3, 4, 1, 1);
    test_rng r = test_rng_seed(404);
    double *x = random_doubles(&r, 2 * 3 * 6), *w = random_doubles(&r, 4 * 3);
    double y[2 * 4 * 6];
    cr_assert_eq(clconv_ref_forward(&d, x, w, y), CLCONV_OK);
    for (int n = 0; n < 2; n++)
        for (int k = 0; k < 4; k++)
            for (int i = 0; i < 6; i++) {
                double s = 0;
                for (int c = 0; c < 3; c++)
                    s += w[k * 3 + c] * x[(n * 3 + c) * 6 + i];
                cr_expect_float_eq(y[(n * 4 + k) * 6 + i], s, 1e-14, "n%d k%d i%d", n, k, i);
            }
    free(x), free(w);
}

Test(reference, bias_is_the_sum_of_dy)
{
    test_rng r = test_rng_seed(505);
    char buf[160];
    for (int t = 0; t < 20; t++) {
        clconv_desc d = test_random_desc(&r, &tiny);
        const size_t ye = test_y_elems(&d), pq = ye / (size_t)(d.n * d.k);
        double *dy = random_doubles(&r, ye), *db = test_alloc((size_t)d.k * sizeof *db);
        double *want = calloc((size_t)d.k, sizeof *want);
        cr_assert_not_null(want);
        cr_assert_eq(clconv_ref_backward_bias(&d, dy, db), CLCONV_OK);
        /* flat walk: element i of dy belongs to channel (i / PQ) mod K */
        for (size_t i = 0; i < ye; i++)
            want[(i / pq) % (size_t)d.k] += dy[i];
        for (int64_t k = 0; k < d.k; k++)
            cr_expect(fabs(db[k] - want[k]) <= 1e-12 * (1 + fabs(want[k])),
                      "db[%lld] = %.17g, want %.17g on %s", (long long)k, db[k], want[k],
                      test_desc_str(&d, buf, sizeof buf));
        free(dy), free(db), free(want);
    }
}

/* Outputs are overwritten, not added to: stale contents must not leak in. */
Test(reference, outputs_are_overwritten)
{
    clconv_desc d;
    clconv_desc_init(&d, 1, 2, 4, 4, 3, 3, 3);
    d.pad_h = d.pad_w = 2; /* corner outputs see a single input element */
    test_rng r = test_rng_seed(606);
    const size_t xe = test_x_elems(&d), we = test_w_elems(&d), ye = test_y_elems(&d);
    double *x = random_doubles(&r, xe), *w = random_doubles(&r, we), *dy = random_doubles(&r, ye);
    double *o1 = test_alloc(xe * sizeof(double) + we * sizeof(double) + ye * sizeof(double));
    double *o2 = test_alloc(xe * sizeof(double) + we * sizeof(double) + ye * sizeof(double));
    const size_t big = xe + we + ye;
    for (size_t i = 0; i < big; i++)
        o1[i] = 0, o2[i] = NAN;
    cr_assert_eq(clconv_ref_forward(&d, x, w, o1), CLCONV_OK);
    cr_assert_eq(clconv_ref_forward(&d, x, w, o2), CLCONV_OK);
    cr_expect_eq(memcmp(o1, o2, ye * sizeof(double)), 0, "forward");
    cr_assert_eq(clconv_ref_backward_data(&d, dy, w, o1), CLCONV_OK);
    cr_assert_eq(clconv_ref_backward_data(&d, dy, w, o2), CLCONV_OK);
    cr_expect_eq(memcmp(o1, o2, xe * sizeof(double)), 0, "backward-data");
    cr_assert_eq(clconv_ref_backward_filter(&d, x, dy, o1), CLCONV_OK);
    cr_assert_eq(clconv_ref_backward_filter(&d, x, dy, o2), CLCONV_OK);
    cr_expect_eq(memcmp(o1, o2, we * sizeof(double)), 0, "backward-filter");
    cr_assert_eq(clconv_ref_backward_bias(&d, dy, o1), CLCONV_OK);
    cr_assert_eq(clconv_ref_backward_bias(&d, dy, o2), CLCONV_OK);
    cr_expect_eq(memcmp(o1, o2, (size_t)d.k * sizeof(double)), 0, "backward-bias");
    free(x), free(w), free(dy), free(o1), free(o2);
}

/* Input elements that only padding-skipped or stride-skipped taps would
 * read get gradient exactly 0 (3x3 input, 1x1 filter, stride 2: only the
 * four corners are read). */
Test(reference, unread_inputs_get_zero_gradient)
{
    clconv_desc d;
    clconv_desc_init(&d, 1, 1, 3, 3, 1, 1, 1);
    d.stride_h = d.stride_w = 2;
    const double dy[4] = {1, 2, 3, 4}, w[1] = {5};
    double dx[9];
    cr_assert_eq(clconv_ref_backward_data(&d, dy, w, dx), CLCONV_OK);
    const double want[9] = {5, 0, 10, 0, 0, 0, 15, 0, 20};
    for (int i = 0; i < 9; i++)
        cr_expect_eq(dx[i], want[i], "dx[%d] = %g, want %g", i, dx[i], want[i]);
}

Test(reference, refuses_bad_arguments)
{
    clconv_desc d;
    clconv_desc_init(&d, 1, 2, 3, 3, 2, 2, 2);
    double a[64] = {0}, b[64] = {0}, out[64];
    cr_expect_eq(clconv_ref_forward(NULL, a, b, out), CLCONV_NULL_ARGUMENT);
    cr_expect_eq(clconv_ref_forward(&d, NULL, b, out), CLCONV_NULL_ARGUMENT);
    cr_expect_eq(clconv_ref_forward(&d, a, NULL, out), CLCONV_NULL_ARGUMENT);
    cr_expect_eq(clconv_ref_forward(&d, a, b, NULL), CLCONV_NULL_ARGUMENT);
    cr_expect_eq(clconv_ref_backward_data(&d, NULL, b, out), CLCONV_NULL_ARGUMENT);
    cr_expect_eq(clconv_ref_backward_data(&d, a, b, NULL), CLCONV_NULL_ARGUMENT);
    cr_expect_eq(clconv_ref_backward_filter(&d, a, NULL, out), CLCONV_NULL_ARGUMENT);
    cr_expect_eq(clconv_ref_backward_filter(&d, a, b, NULL), CLCONV_NULL_ARGUMENT);
    cr_expect_eq(clconv_ref_backward_bias(&d, NULL, out), CLCONV_NULL_ARGUMENT);
    cr_expect_eq(clconv_ref_backward_bias(&d, a, NULL), CLCONV_NULL_ARGUMENT);
    cr_expect_eq(clconv_ref_backward_bias(NULL, a, out), CLCONV_NULL_ARGUMENT);

    /* each refusal leaves the output untouched */
    for (int i = 0; i < 64; i++)
        out[i] = 7.0;
    clconv_desc bad = d;
    bad.stride_h = 0;
    cr_expect_eq(clconv_ref_forward(&bad, a, b, out), CLCONV_BAD_STRIDE);
    bad = d, bad.groups = 3;
    cr_expect_eq(clconv_ref_backward_data(&bad, a, b, out), CLCONV_BAD_GROUPS);
    bad = d, bad.r = 5; /* 3 + 0 < 5: no output row */
    cr_expect_eq(clconv_ref_backward_filter(&bad, a, b, out), CLCONV_EMPTY_OUTPUT);
    bad = d, bad.n = -1;
    cr_expect_eq(clconv_ref_backward_bias(&bad, a, out), CLCONV_BAD_SIZE);
    bad = d, bad.pad_w = -1;
    cr_expect_eq(clconv_ref_forward(&bad, a, b, out), CLCONV_BAD_PADDING);
    bad = d, bad.dilation_w = 0;
    cr_expect_eq(clconv_ref_forward(&bad, a, b, out), CLCONV_BAD_DILATION);
    bad = d, bad.n = bad.c = bad.h = bad.w = INT64_C(1) << 40;
    cr_expect_eq(clconv_ref_forward(&bad, a, b, out), CLCONV_TOO_LARGE);
    for (int i = 0; i < 64; i++)
        cr_expect_eq(out[i], 7.0, "out[%d] written by a refused call", i);
}
