/* Transposed convolution (issue 7): its output size and convolution, each
 * of its four passes through every algorithm against float64 references,
 * and its refusals.
 *
 * References: the forward is the library's clconv_ref_transposed_forward,
 * written from the deconvolution's definition; the backward passes are
 * this file's own walk over the same terms (x[n][c][h][w] * w[c][kk][r][s]
 * into y[n][g*Kg+kk][h*sh-pt+r*dh][w*sw-pl+s*dw]): backward-data gathers
 * dy * w into dx, backward-filter dy * x into dw (the chain rule of
 * y = sum x*w, term by term), backward-bias sums dy.  Neither goes through
 * the convolution references; one test checks all three agree with the
 * convolution references with the roles exchanged. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "dev_tensor.h"
#include "elementwise.h"

static const clconv_algo all_algos[] = {CLCONV_ALGO_AUTO, CLCONV_ALGO_EXPLICIT,
                                        CLCONV_ALGO_DIRECT, CLCONV_ALGO_GEMM, CLCONV_ALGO_TILED};
#define NALGOS (sizeof all_algos / sizeof all_algos[0])

enum { FWD = 0, BWD_D, BWD_W, BWD_B };
static const char *const pass_name[] = {"fwd", "bwd_d", "bwd_w", "bwd_b"};

/* ---- layers ----------------------------------------------------------- */

/* A transposed descriptor: n, c (its input channels), h, w, k (its output
 * channels), r, s, stride, padding (top, bottom, left, right: asymmetric
 * when they differ), output padding, dilation, groups. */
typedef struct tlayer {
    int64_t n, c, h, w, k, r, s, sh, sw, pt, pb, pl, pr, oph, opw, dh, dw, g;
} tlayer;

static clconv_desc desc_of(const tlayer *t)
{
    clconv_desc d;
    clconv_desc_init(&d, t->n, t->c, t->h, t->w, t->k, t->r, t->s);
    d.stride_h = t->sh, d.stride_w = t->sw;
    d.pad_h = t->pt, d.pad_w = t->pl;
    if (t->pb != t->pt || t->pr != t->pl)
        d.pad_asymmetric = 1, d.pad_h_end = t->pb, d.pad_w_end = t->pr;
    d.out_pad_h = t->oph, d.out_pad_w = t->opw;
    d.dilation_h = t->dh, d.dilation_w = t->dw;
    d.groups = t->g;
    return d;
}

/* strides 1-3, output padding, dilation, groups, depthwise, one input
 * pixel, 1x1 filters that leave output positions no tap reaches, and
 * asymmetric padding (last) */
static const tlayer layers[] = {
    /* n  c  h  w  k  r  s sh sw pt pb pl pr oph opw dh dw g */
    {2, 3, 4, 5, 4, 3, 3, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1},
    {1, 4, 5, 4, 3, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1},  /* the usual 2x upsampler */
    {2, 2, 3, 4, 5, 2, 3, 3, 2, 0, 0, 1, 1, 2, 1, 1, 1, 1},
    {1, 4, 4, 3, 6, 3, 2, 2, 3, 2, 2, 1, 1, 1, 0, 2, 2, 2},  /* dilated, grouped */
    {2, 3, 4, 4, 3, 4, 3, 2, 2, 1, 1, 0, 0, 0, 1, 1, 1, 3},  /* depthwise */
    {1, 2, 1, 1, 3, 3, 3, 2, 2, 0, 0, 0, 0, 1, 1, 1, 1, 1},  /* one input pixel */
    {1, 3, 3, 3, 2, 1, 1, 2, 3, 0, 0, 0, 0, 1, 2, 1, 1, 1},  /* gaps only the bias fills */
    {2, 2, 4, 3, 3, 3, 3, 2, 1, 0, 1, 1, 2, 1, 0, 1, 1, 1},  /* asymmetric */
};
#define NLAYERS (sizeof layers / sizeof layers[0])


/* The output length from the formula, not the library. */
static int64_t out_len(int64_t in, int64_t st, int64_t p0, int64_t p1, int64_t k, int64_t dil,
                       int64_t op)
{
    return (in - 1) * st - p0 - p1 + (k - 1) * dil + 1 + op;
}

/* ---- the test's own references of the backward passes -------------------- */

typedef struct tsize {
    int64_t n, c, h, w, k, r, s, ho, wo, sh, sw, pt, pl, dh, dw, cg, kg;
} tsize;

static tsize tsize_of(const clconv_desc *d)
{
    const int asym = d->pad_asymmetric == 1;
    return (tsize){d->n, d->c, d->h, d->w, d->k, d->r, d->s,
                   out_len(d->h, d->stride_h, d->pad_h, asym ? d->pad_h_end : d->pad_h, d->r,
                           d->dilation_h, d->out_pad_h),
                   out_len(d->w, d->stride_w, d->pad_w, asym ? d->pad_w_end : d->pad_w, d->s,
                           d->dilation_w, d->out_pad_w),
                   d->stride_h, d->stride_w, d->pad_h, d->pad_w, d->dilation_h, d->dilation_w,
                   d->c / d->groups, d->k / d->groups};
}

/* What a pass does with one term (indices of its x, w and y elements). */
typedef void (*term_fn)(const double *a, const double *b, double *out, size_t xi, size_t wi,
                        size_t yi);

static void walk_terms(const tsize *T, term_fn fn, const double *a, const double *b, double *out)
{
    for (int64_t n = 0; n < T->n; n++)
        for (int64_t c = 0; c < T->c; c++)
            for (int64_t kk = 0; kk < T->kg; kk++)
                for (int64_t r = 0; r < T->r; r++)
                    for (int64_t s = 0; s < T->s; s++)
                        for (int64_t h = 0; h < T->h; h++)
                            for (int64_t w = 0; w < T->w; w++) {
                                const int64_t oy = h * T->sh - T->pt + r * T->dh;
                                const int64_t ox = w * T->sw - T->pl + s * T->dw;
                                if (oy < 0 || oy >= T->ho || ox < 0 || ox >= T->wo)
                                    continue;
                                const int64_t k = (c / T->cg) * T->kg + kk;
                                fn(a, b, out, (size_t)(((n * T->c + c) * T->h + h) * T->w + w),
                                   (size_t)(((c * T->kg + kk) * T->r + r) * T->s + s),
                                   (size_t)(((n * T->k + k) * T->ho + oy) * T->wo + ox));
                            }
}

static void fwd_term(const double *x, const double *w, double *y, size_t xi, size_t wi, size_t yi)
{
    y[yi] += x[xi] * w[wi];
}
static void bwd_data_term(const double *dy, const double *w, double *dx, size_t xi, size_t wi,
                          size_t yi)
{
    dx[xi] += dy[yi] * w[wi];
}
static void bwd_filter_term(const double *x, const double *dy, double *dw, size_t xi, size_t wi,
                            size_t yi)
{
    dw[wi] += dy[yi] * x[xi];
}

static void ref_bias(const tsize *T, const double *dy, double *db)
{
    const size_t plane = (size_t)(T->ho * T->wo);
    for (int64_t k = 0; k < T->k; k++) {
        db[k] = 0;
        for (int64_t n = 0; n < T->n; n++)
            for (size_t i = 0; i < plane; i++)
                db[k] += dy[(size_t)(n * T->k + k) * plane + i];
    }
}

/* ---- one pass on the device -------------------------------------------- */

typedef struct tcase {
    clconv_desc d;
    int pass;
    clconv_algo algo;
    int accumulate;
    int use_bias;               /* forward */
} tcase;

typedef struct tresult {
    clconv_status st;
    double err, tol;
    int guards_ok;
} tresult;

static clconv_status run_call(clconv_ctx *ctx, const tcase *c, const dev_tensor *a,
                              const dev_tensor *b, const dev_tensor *bias, const dev_tensor *o)
{
    const clconv_desc *d = &c->d;
    const size_t O = DEV_OFF;
    switch (c->pass) {
    case FWD:
        return clconv_transposed_forward(ctx, d, c->algo, a->m, O, b->m, O, bias ? bias->m : NULL,
                                         O, o->m, O, NULL);
    case BWD_D:
        return clconv_transposed_backward_data(ctx, d, c->algo, a->m, O, b->m, O, o->m, O,
                                               c->accumulate, NULL);
    case BWD_W:
        return clconv_transposed_backward_filter(ctx, d, c->algo, a->m, O, b->m, O, o->m, O,
                                                 c->accumulate, NULL);
    default:
        return clconv_transposed_backward_bias(ctx, d, a->m, O, o->m, O, c->accumulate, NULL);
    }
}

static void reference(const tcase *c, const tsize *T, const dev_tensor *a, const dev_tensor *b,
                      const dev_tensor *bias, double *ref)
{
    if (c->pass == FWD) {
        cr_assert_eq(clconv_ref_transposed_forward(&c->d, a->v, b->v, bias ? bias->v : NULL, ref),
                     CLCONV_OK);
        return;
    }
    if (c->pass == BWD_B) {
        ref_bias(T, a->v, ref);
        return;
    }
    const size_t n = c->pass == BWD_D ? (size_t)(T->n * T->c * T->h * T->w)
                                      : (size_t)(T->c * T->kg * T->r * T->s);
    memset(ref, 0, n * sizeof *ref);
    if (c->pass == BWD_D)
        walk_terms(T, bwd_data_term, a->v, b->v, ref);
    else
        walk_terms(T, bwd_filter_term, a->v, b->v, ref);
}

/* Run the case with fresh random inputs from seed. */
static tresult trun(clconv_ctx *ctx, const tcase *c, uint64_t seed)
{
    const clconv_desc *d = &c->d;
    const tsize T = tsize_of(d);
    int64_t ho = 0, wo = 0;
    cr_assert_eq(clconv_transposed_output_size(d, &ho, &wo), CLCONV_OK);
    cr_assert(ho == T.ho && wo == T.wo, "output size %lldx%lld, the formula says %lldx%lld",
              (long long)ho, (long long)wo, (long long)T.ho, (long long)T.wo);
    const clconv_dtype dt = (clconv_dtype)d->dtype;
    const int nhwc = d->layout == CLCONV_NHWC, krsc = d->filter_layout == CLCONV_KRSC;
    const int64_t xd[4] = {T.n, T.c, T.h, T.w}, yd[4] = {T.n, T.k, T.ho, T.wo},
                  wd[4] = {T.c, T.kg, T.r, T.s}, bd[4] = {1, T.k, 1, 1};
    const int64_t *ad[4] = {xd, yd, xd, yd}, *bdm[4] = {wd, wd, yd, NULL},
                  *od[4] = {yd, xd, wd, bd};
    const int acl[4] = {nhwc, nhwc, nhwc, nhwc}, bcl[4] = {krsc, krsc, nhwc, 0},
              ocl[4] = {nhwc, nhwc, krsc, 0};
    const int p = c->pass, with_bias = p == FWD && c->use_bias;
    test_rng rng = test_rng_seed(seed);
    dev_tensor a, b = {0}, o, bias = {0};
    dev_tensor_make(ctx, &a, ad[p], acl[p], dt, &rng, 1.0, 0);
    if (bdm[p])
        dev_tensor_make(ctx, &b, bdm[p], bcl[p], dt, &rng, 1.0, 0);
    if (with_bias)
        dev_tensor_make(ctx, &bias, bd, 0, dt, &rng, 1.0, 0);
    dev_tensor_make(ctx, &o, od[p], ocl[p], dt, &rng, 1.0, !c->accumulate);
    /* fp16 / bf16 with a bias: the convolution's result is stored (rounded)
     * before the bias kernel adds to it and rounds again, so two roundings */
    const double u = dt == CLCONV_F16 ? ldexp(1.0, -11) : dt == CLCONV_BF16 ? ldexp(1.0, -8) : 0;
    tresult r = {.err = NAN, .tol = feature_tol(dt) + (with_bias ? u : 0), .guards_ok = 1};
    r.st = run_call(ctx, c, &a, bdm[p] ? &b : NULL, with_bias ? &bias : NULL, &o);
    if (r.st == CLCONV_OK) {
        double *ref = test_alloc(o.n * sizeof(double));
        reference(c, &T, &a, &b, with_bias ? &bias : NULL, ref);
        for (size_t i = 0; c->accumulate && i < o.n; i++)
            ref[i] += o.v[i];
        dev_result dr = dev_tensor_check(ctx, &o, ref);
        r.err = dr.err;
        r.guards_ok = dr.guards_ok;
        free(ref);
    }
    dev_tensor_free(&a);
    dev_tensor_free(&b);
    dev_tensor_free(&o);
    dev_tensor_free(&bias);
    return r;
}

static void describe(const tcase *c, char *buf, size_t cap)
{
    char ds[CLCONV_DESC_STRING_MAX];
    clconv_desc_string(&c->d, ds, sizeof ds);
    snprintf(buf, cap,
             "transposed %s %s %s %s %s/%s pads %lld,%lld,%lld,%lld out_pad %lld,%lld%s%s", ds,
             pass_name[c->pass], clconv_algo_name(c->algo),
             clconv_dtype_name((clconv_dtype)c->d.dtype),
             c->d.layout == CLCONV_NHWC ? "nhwc" : "nchw",
             c->d.filter_layout == CLCONV_KRSC ? "krsc" : "kcrs", (long long)c->d.pad_h,
             (long long)test_pad_h_end(&c->d), (long long)c->d.pad_w,
             (long long)test_pad_w_end(&c->d), (long long)c->d.out_pad_h,
             (long long)c->d.out_pad_w, c->accumulate ? " accumulate" : "",
             c->use_bias ? " bias" : "");
}

/* Expect the case to pass: every algorithm claims every feature. */
static void expect_ok(const tcase *c, const tresult *r)
{
    char what[CLCONV_DESC_STRING_MAX + 160];
    describe(c, what, sizeof what);
    cr_expect_eq(r->st, CLCONV_OK, "%s: %s", what, clconv_status_name(r->st));
    if (r->st == CLCONV_OK) {
        cr_expect(r->err <= r->tol, "%s: relative error %g > %g", what, r->err, r->tol);
        cr_expect(r->guards_ok, "%s: wrote outside the output", what);
    }
}

/* ---- output size and the convolution -------------------------------------- */

Test(transposed, output_size_formula)
{
    clconv_desc d;
    clconv_desc_init(&d, 1, 2, 5, 7, 3, 3, 3);
    d.stride_h = 2, d.stride_w = 2, d.pad_h = 1, d.pad_w = 1, d.out_pad_h = 1;
    int64_t ho = 0, wo = 0;
    cr_assert_eq(clconv_transposed_output_size(&d, &ho, &wo), CLCONV_OK);
    /* PyTorch's ConvTranspose2d(2, 3, 3, stride=2, padding=1, output_padding=(1, 0)) */
    cr_expect_eq(ho, 10);
    cr_expect_eq(wo, 13);
    cr_expect_eq(clconv_transposed_output_size(&d, NULL, NULL), CLCONV_OK);
    /* dilation and asymmetric padding */
    d.dilation_h = 3, d.pad_asymmetric = 1, d.pad_h_end = 0, d.pad_w_end = 2;
    cr_assert_eq(clconv_transposed_output_size(&d, &ho, &wo), CLCONV_OK);
    cr_expect_eq(ho, 4 * 2 - 1 - 0 + 2 * 3 + 1 + 1);
    cr_expect_eq(wo, 6 * 2 - 1 - 2 + 2 + 1);
    for (size_t i = 0; i < NLAYERS; i++) {
        const clconv_desc e = desc_of(&layers[i]);
        const tsize T = tsize_of(&e);
        cr_assert_eq(clconv_transposed_output_size(&e, &ho, &wo), CLCONV_OK, "layer %zu", i);
        cr_expect(ho == T.ho && wo == T.wo, "layer %zu", i);
    }
}

/* The convolution has the roles exchanged, and its output is the
 * transposed input. */
Test(transposed, as_conv_fields)
{
    for (size_t i = 0; i < NLAYERS; i++) {
        clconv_desc d = desc_of(&layers[i]), c;
        d.dtype = CLCONV_BF16, d.layout = CLCONV_NHWC, d.filter_layout = CLCONV_KRSC;
        cr_assert_eq(clconv_transposed_as_conv(&d, &c), CLCONV_OK, "layer %zu", i);
        const tsize T = tsize_of(&d);
        cr_expect(c.n == d.n && c.c == d.k && c.h == T.ho && c.w == T.wo && c.k == d.c &&
                  c.r == d.r && c.s == d.s, "layer %zu: sizes", i);
        cr_expect(c.stride_h == d.stride_h && c.stride_w == d.stride_w && c.pad_h == d.pad_h &&
                  c.pad_w == d.pad_w && test_pad_h_end(&c) == test_pad_h_end(&d) &&
                  test_pad_w_end(&c) == test_pad_w_end(&d) && c.dilation_h == d.dilation_h &&
                  c.dilation_w == d.dilation_w && c.groups == d.groups, "layer %zu: geometry", i);
        cr_expect(c.out_pad_h == 0 && c.out_pad_w == 0, "layer %zu: output padding", i);
        cr_expect(c.dtype == d.dtype && c.layout == d.layout && c.filter_layout == d.filter_layout,
                  "layer %zu: storage", i);
        int64_t p, q;
        cr_assert_eq(clconv_output_size(&c, &p, &q), CLCONV_OK);
        cr_expect(p == d.h && q == d.w, "layer %zu: the convolution's output %lldx%lld", i,
                  (long long)p, (long long)q);
    }
    /* a 0.2 descriptor (struct_size 0, no 0.3 fields) is symmetric, fp32 */
    clconv_desc old = {.n = 1, .c = 2, .h = 3, .w = 3, .k = 4, .r = 3, .s = 3, .stride_h = 2,
                       .stride_w = 2, .pad_h = 1, .pad_w = 1, .dilation_h = 1, .dilation_w = 1,
                       .groups = 1};
    clconv_desc c;
    cr_assert_eq(clconv_transposed_as_conv(&old, &c), CLCONV_OK);
    cr_expect(c.h == 5 && c.w == 5 && c.c == 4 && c.k == 2 && c.dtype == CLCONV_F32);
}

Test(transposed, bad_descriptors)
{
    clconv_desc d, c;
    int64_t ho = -7, wo = -7;
    clconv_desc_init(&d, 1, 2, 3, 3, 2, 3, 3);
    d.stride_h = 2, d.stride_w = 3;
    memset(&c, 0x5a, sizeof c);
    const clconv_desc untouched = c;
    d.out_pad_h = 2; /* = the stride */
    cr_expect_eq(clconv_transposed_output_size(&d, &ho, &wo), CLCONV_BAD_PADDING);
    cr_expect_eq(clconv_transposed_as_conv(&d, &c), CLCONV_BAD_PADDING);
    cr_expect(ho == -7 && wo == -7 && !memcmp(&c, &untouched, sizeof c), "written on refusal");
    d.out_pad_h = 1, d.out_pad_w = 3;
    cr_expect_eq(clconv_transposed_output_size(&d, NULL, NULL), CLCONV_BAD_PADDING);
    d.out_pad_w = -1;
    cr_expect_eq(clconv_transposed_output_size(&d, NULL, NULL), CLCONV_BAD_PADDING);
    d.out_pad_w = 2;
    cr_expect_eq(clconv_transposed_output_size(&d, NULL, NULL), CLCONV_OK);
    d.pad_asymmetric = 2;
    cr_expect_eq(clconv_transposed_output_size(&d, NULL, NULL), CLCONV_BAD_PADDING);
    d.pad_asymmetric = 1, d.pad_h_end = -1;
    cr_expect_eq(clconv_transposed_output_size(&d, NULL, NULL), CLCONV_BAD_PADDING);
    /* the paddings take off more than the filter and strides give:
     * HO = (2-1)*1 - 2 - 1 + 1 + 0 = -1 */
    clconv_desc_init(&d, 1, 2, 2, 2, 2, 1, 1);
    d.pad_h = 2, d.pad_w = 0, d.pad_asymmetric = 1, d.pad_h_end = 1;
    cr_expect_eq(clconv_transposed_output_size(&d, NULL, NULL), CLCONV_EMPTY_OUTPUT);
    d.pad_h = 1, d.pad_h_end = 0; /* HO = 1 - 1 + 1 = 1 */
    cr_expect_eq(clconv_transposed_output_size(&d, &ho, NULL), CLCONV_OK);
    cr_expect_eq(ho, 1);
    d.pad_h_end = 1; /* HO = 0 */
    cr_expect_eq(clconv_transposed_output_size(&d, NULL, NULL), CLCONV_EMPTY_OUTPUT);
    /* a stride that grows the output past 2^62, and past int64 */
    clconv_desc_init(&d, 1, 1, 3, 3, 1, 1, 1);
    d.stride_w = INT64_C(1) << 61;
    cr_expect_eq(clconv_transposed_output_size(&d, NULL, NULL), CLCONV_TOO_LARGE);
    d.stride_w = INT64_MAX, d.out_pad_w = INT64_MAX - 1;
    cr_expect_eq(clconv_transposed_output_size(&d, NULL, NULL), CLCONV_TOO_LARGE);
    /* with one input column the stride moves nothing: fine */
    d.w = 1, d.out_pad_w = 0;
    cr_expect_eq(clconv_transposed_output_size(&d, NULL, &wo), CLCONV_OK);
    cr_expect_eq(wo, 1);
    /* the classic checks */
    cr_expect_eq(clconv_transposed_output_size(NULL, &ho, &wo), CLCONV_NULL_ARGUMENT);
    clconv_desc_init(&d, 1, 2, 3, 3, 2, 3, 3);
    cr_expect_eq(clconv_transposed_as_conv(&d, NULL), CLCONV_NULL_ARGUMENT);
    d.struct_size = 7;
    cr_expect_eq(clconv_transposed_as_conv(&d, &c), CLCONV_BAD_VERSION);
    clconv_desc_init(&d, 1, 2, 3, 0, 2, 3, 3);
    cr_expect_eq(clconv_transposed_as_conv(&d, &c), CLCONV_BAD_SIZE);
    clconv_desc_init(&d, 1, 2, 3, 3, 2, 3, 3);
    d.stride_h = 0;
    cr_expect_eq(clconv_transposed_as_conv(&d, &c), CLCONV_BAD_STRIDE);
    d.stride_h = 1, d.dilation_w = 0;
    cr_expect_eq(clconv_transposed_as_conv(&d, &c), CLCONV_BAD_DILATION);
    d.dilation_w = 1, d.groups = 3;
    cr_expect_eq(clconv_transposed_as_conv(&d, &c), CLCONV_BAD_GROUPS);
    d.groups = 1, d.dtype = 3;
    cr_expect_eq(clconv_transposed_as_conv(&d, &c), CLCONV_BAD_DTYPE);
    d.dtype = 0, d.filter_layout = 2;
    cr_expect_eq(clconv_transposed_as_conv(&d, &c), CLCONV_BAD_LAYOUT);
    /* the reference refuses the same */
    double v = 0;
    d.filter_layout = 0, d.out_pad_h = 1;
    cr_expect_eq(clconv_ref_transposed_forward(&d, &v, &v, NULL, &v), CLCONV_BAD_PADDING);
    d.out_pad_h = 0;
    cr_expect_eq(clconv_ref_transposed_forward(&d, NULL, &v, NULL, &v), CLCONV_NULL_ARGUMENT);
}

/* The three references agree with each other and with the convolution
 * references on the convolution, roles exchanged (forward = its
 * backward-data, backward-data = its forward, backward-filter = its
 * backward-filter with x and dy swapped). */
Test(transposed, references_agree)
{
    for (size_t i = 0; i < NLAYERS; i++) {
        const clconv_desc d = desc_of(&layers[i]);
        const tsize T = tsize_of(&d);
        clconv_desc c;
        cr_assert_eq(clconv_transposed_as_conv(&d, &c), CLCONV_OK);
        const size_t nx = (size_t)(T.n * T.c * T.h * T.w), ny = (size_t)(T.n * T.k * T.ho * T.wo),
                     nw = (size_t)(T.c * T.kg * T.r * T.s);
        double *x = test_alloc(nx * 8), *w = test_alloc(nw * 8), *y = test_alloc(ny * 8),
               *a = test_alloc(ny * 8), *b = test_alloc(ny * 8), *dx = test_alloc(nx * 8),
               *dx2 = test_alloc(nx * 8), *dw = test_alloc(nw * 8), *dw2 = test_alloc(nw * 8);
        test_rng rng = test_rng_seed(77 + i);
        for (size_t j = 0; j < nx; j++)
            x[j] = test_rng_int(&rng, -4, 4);
        for (size_t j = 0; j < nw; j++)
            w[j] = test_rng_int(&rng, -4, 4);
        for (size_t j = 0; j < ny; j++)
            y[j] = test_rng_int(&rng, -4, 4);
        /* integers: every sum is exact, so equal means equal */
        cr_assert_eq(clconv_ref_transposed_forward(&d, x, w, NULL, a), CLCONV_OK);
        memset(b, 0, ny * 8);
        walk_terms(&T, fwd_term, x, w, b);
        cr_expect(!memcmp(a, b, ny * 8), "layer %zu: forward: scatter and terms differ", i);
        cr_assert_eq(clconv_ref_backward_data(&c, x, w, b), CLCONV_OK);
        cr_expect(!memcmp(a, b, ny * 8), "layer %zu: forward is not the conv's bwd_d", i);
        memset(dx, 0, nx * 8);
        walk_terms(&T, bwd_data_term, y, w, dx);
        cr_assert_eq(clconv_ref_forward(&c, y, w, dx2), CLCONV_OK);
        cr_expect(!memcmp(dx, dx2, nx * 8), "layer %zu: bwd_d is not the conv's forward", i);
        memset(dw, 0, nw * 8);
        walk_terms(&T, bwd_filter_term, x, y, dw);
        cr_assert_eq(clconv_ref_backward_filter(&c, y, x, dw2), CLCONV_OK);
        cr_expect(!memcmp(dw, dw2, nw * 8), "layer %zu: bwd_w is not the conv's bwd_w", i);
        free(x), free(w), free(y), free(a), free(b), free(dx), free(dx2), free(dw), free(dw2);
    }
}

/* The scatter's bias and output padding: a 1x1 stride-2 layer leaves
 * every other row and column to the bias alone. */
Test(transposed, reference_bias_and_gaps)
{
    clconv_desc d;
    clconv_desc_init(&d, 1, 1, 2, 2, 2, 1, 1);
    d.stride_h = d.stride_w = 2, d.out_pad_h = d.out_pad_w = 1;
    const double x[4] = {1, 2, 3, 4}, w[2] = {10, -1}, bias[2] = {0.5, 7};
    double y[2 * 16];
    cr_assert_eq(clconv_ref_transposed_forward(&d, x, w, bias, y), CLCONV_OK);
    for (int k = 0; k < 2; k++)
        for (int i = 0; i < 4; i++)
            for (int j = 0; j < 4; j++) {
                const double want = (i % 2 || j % 2 ? 0 : x[(i / 2) * 2 + j / 2] * w[k]) + bias[k];
                cr_expect_eq(y[k * 16 + i * 4 + j], want, "y[%d][%d][%d]", k, i, j);
            }
}

/* ---- the device passes, fp32 NCHW, every algorithm ----------------------- */

/* Every layer (asymmetric padding included) and algorithm. */
static void sweep_pass(int pass, int accumulate)
{
    clconv_ctx *ctx = test_ctx();
    for (size_t i = 0; i < NLAYERS; i++)
        for (size_t a = 0; a < NALGOS; a++) {
            tcase c = {.d = desc_of(&layers[i]), .pass = pass, .algo = all_algos[a],
                       .accumulate = accumulate, .use_bias = pass == FWD && (i + a) % 2 == 0};
            tresult r = trun(ctx, &c, 100 * (uint64_t)pass + 10 * i + a);
            expect_ok(&c, &r);
        }
    clconv_free(ctx);
}

Test(transposed, forward_fp32_every_algorithm) { sweep_pass(FWD, 0); }

/* Both with and without the bias on each layer, through AUTO. */
Test(transposed, forward_bias_and_none)
{
    clconv_ctx *ctx = test_ctx();
    for (size_t i = 0; i < NLAYERS; i++)
        for (int b = 0; b < 2; b++) {
            tcase c = {.d = desc_of(&layers[i]), .pass = FWD, .algo = CLCONV_ALGO_AUTO,
                       .use_bias = b};
            tresult r = trun(ctx, &c, 900 + 2 * i + b);
            expect_ok(&c, &r);
        }
    clconv_free(ctx);
}

Test(transposed, backward_data_fp32_every_algorithm) { sweep_pass(BWD_D, 0); }

/* Accumulate runs the convolution's forward with the epilogue's beta = 1. */
Test(transposed, backward_data_accumulate) { sweep_pass(BWD_D, 1); }

Test(transposed, backward_filter_fp32_every_algorithm) { sweep_pass(BWD_W, 0); }

Test(transposed, backward_filter_accumulate) { sweep_pass(BWD_W, 1); }

Test(transposed, backward_bias)
{
    clconv_ctx *ctx = test_ctx();
    for (size_t i = 0; i < NLAYERS; i++)
        for (int acc = 0; acc < 2; acc++) {
            tcase c = {.d = desc_of(&layers[i]), .pass = BWD_B, .accumulate = acc};
            tresult r = trun(ctx, &c, 700 + 2 * i + acc);
            expect_ok(&c, &r);
        }
    clconv_free(ctx);
}

/* ---- other storage types and layouts, through AUTO ----------------------- */

/* fp16 / bf16 and NHWC / KRSC through every algorithm (the first kinds on
 * three layers, through AUTO, every pass; the rest on one layer per
 * algorithm, to keep the suite short). */
Test(transposed, dtypes_and_layouts)
{
    static const struct { clconv_dtype dt; int nhwc, krsc; } kinds[] = {
        {CLCONV_F16, 0, 0}, {CLCONV_BF16, 0, 0}, {CLCONV_F32, 1, 0}, {CLCONV_F32, 0, 1},
        {CLCONV_F16, 1, 1}, {CLCONV_BF16, 1, 0}};
    clconv_ctx *ctx = test_ctx();
    for (size_t kd = 0; kd < sizeof kinds / sizeof kinds[0]; kd++)
        for (size_t a = 0; a < NALGOS; a++)
            for (size_t i = 1; i < 4; i++) {
                if (all_algos[a] != CLCONV_ALGO_AUTO && i != 1 + (kd + a) % 3)
                    continue;
                for (int pass = FWD; pass <= BWD_B; pass++) {
                    tcase c = {.d = desc_of(&layers[i]), .pass = pass, .algo = all_algos[a],
                               .use_bias = pass == FWD};
                    c.d.dtype = kinds[kd].dt;
                    c.d.layout = kinds[kd].nhwc ? CLCONV_NHWC : CLCONV_NCHW;
                    c.d.filter_layout = kinds[kd].krsc ? CLCONV_KRSC : CLCONV_KCRS;
                    tresult r = trun(ctx, &c, 500 + 40 * kd + 4 * i + (uint64_t)pass);
                    expect_ok(&c, &r);
                }
            }
    clconv_free(ctx);
}

/* The bias kernel on its own (internal), in every storage type and
 * layout: y + bias[c] computed in fp32 and rounded once, bit for bit. */
Test(transposed, bias_kernel_every_dtype_layout)
{
    clconv_ctx *ctx = test_ctx();
    for (int dt = 0; dt < CLCONV_DTYPE_COUNT_; dt++)
        for (int nhwc = 0; nhwc < 2; nhwc++) {
            clconv_desc d;
            clconv_desc_init(&d, 2, 5, 3, 4, 2, 1, 1);
            d.dtype = dt, d.layout = nhwc ? CLCONV_NHWC : CLCONV_NCHW;
            layer L;
            cr_assert_eq(layer_from_desc(&d, &L), CLCONV_OK);
            const int64_t yd[4] = {2, 5, 3, 4}, bd[4] = {1, 5, 1, 1};
            test_rng rng = test_rng_seed(31 + 2 * (uint64_t)dt + (uint64_t)nhwc);
            dev_tensor y, b;
            dev_tensor_make(ctx, &y, yd, nhwc, (clconv_dtype)dt, &rng, 4.0, 0);
            dev_tensor_make(ctx, &b, bd, 0, (clconv_dtype)dt, &rng, 4.0, 0);
            double *want = test_alloc(y.n * sizeof(double));
            for (size_t i = 0; i < y.n; i++)
                want[i] = (float)((float)y.v[i] + (float)b.v[(i / 12) % 5]);
            /* rounded to the storage type as the kernel's store rounds (test_pack
             * rounds the values it packs in place) */
            void *scratch = test_alloc(y.n * clconv_dtype_size(y.dt));
            test_pack(want, yd, nhwc, y.dt, scratch);
            free(scratch);
            pthread_mutex_lock(&ctx->lock);
            clconv_status st = bias_add_run(ctx, &L, y.m, DEV_OFF, b.m, DEV_OFF, NULL);
            pthread_mutex_unlock(&ctx->lock);
            cr_assert_eq(st, CLCONV_OK, "%s", clconv_last_error(ctx));
            dev_result r = dev_tensor_check(ctx, &y, want);
            cr_expect(r.err == 0 && r.guards_ok, "%s %s: error %g, guards %d",
                      clconv_dtype_name((clconv_dtype)dt), nhwc ? "nhwc" : "nchw", r.err,
                      r.guards_ok);
            free(want);
            dev_tensor_free(&y);
            dev_tensor_free(&b);
        }
    clconv_free(ctx);
}

/* ---- refusals --------------------------------------------------------- */

Test(transposed, refusals_write_nothing)
{
    clconv_ctx *ctx = test_ctx();
    const clconv_desc d = desc_of(&layers[1]);
    const tsize T = tsize_of(&d);
    const int64_t xd[4] = {T.n, T.c, T.h, T.w}, yd[4] = {T.n, T.k, T.ho, T.wo},
                  wd[4] = {T.c, T.kg, T.r, T.s}, bd[4] = {1, T.k, 1, 1}, small[4] = {1, 1, 1, 1};
    test_rng rng = test_rng_seed(5);
    dev_tensor x, w, y, bias, tiny;
    dev_tensor_make(ctx, &x, xd, 0, CLCONV_F32, &rng, 1.0, 0);
    dev_tensor_make(ctx, &w, wd, 0, CLCONV_F32, &rng, 1.0, 0);
    dev_tensor_make(ctx, &y, yd, 0, CLCONV_F32, &rng, 1.0, 1);
    dev_tensor_make(ctx, &bias, bd, 0, CLCONV_F32, &rng, 1.0, 0);
    /* K - 1 values of bias after DEV_OFF: one short (the guards count too,
     * so a 1-element tensor's buffer holds 3 + 1 + 16 = 20 floats) */
    dev_tensor_make(ctx, &tiny, small, 0, CLCONV_F32, &rng, 1.0, 0);
    const size_t O = DEV_OFF, tiny_off = DEV_OFF + 1 + DEV_GUARD - (size_t)(T.k - 1);
    const size_t past = DEV_OFF + DEV_GUARD + 1; /* an offset that runs a tensor off its buffer */
    cl_event ev;
    clconv_status st;

    st = clconv_transposed_forward(NULL, &d, 0, x.m, O, w.m, O, NULL, 0, y.m, O, dev_poison(&ev));
    cr_expect_eq(st, CLCONV_NULL_ARGUMENT);
    cr_expect_null(ev);
    st = clconv_transposed_forward(ctx, NULL, 0, x.m, O, w.m, O, NULL, 0, y.m, O, dev_poison(&ev));
    expect_refused(ctx, st, CLCONV_NULL_ARGUMENT, ev, &y, "NULL descriptor");
    st = clconv_transposed_forward(ctx, &d, 0, NULL, O, w.m, O, NULL, 0, y.m, O, dev_poison(&ev));
    expect_refused(ctx, st, CLCONV_NULL_ARGUMENT, ev, &y, "NULL x");
    cr_expect(strstr(clconv_last_error(ctx), "x is NULL"), "%s", clconv_last_error(ctx));
    st = clconv_transposed_forward(ctx, &d, 0, x.m, O, w.m, O, tiny.m, tiny_off, y.m, O,
                                   dev_poison(&ev));
    expect_refused(ctx, st, CLCONV_BUFFER_TOO_SMALL, ev, &y, "bias too small");
    cr_expect(strstr(clconv_last_error(ctx), "bias"), "%s", clconv_last_error(ctx));
    st = clconv_transposed_forward(ctx, &d, 0, x.m, O, w.m, O, y.m, O + 1, y.m, O, dev_poison(&ev));
    expect_refused(ctx, st, CLCONV_BAD_BUFFER, ev, &y, "bias overlaps y");
    st = clconv_transposed_forward(ctx, &d, (clconv_algo)9, x.m, O, w.m, O, bias.m, O, y.m, O,
                                   dev_poison(&ev));
    expect_refused(ctx, st, CLCONV_BAD_ALGORITHM, ev, &y, "unknown algorithm");
    st = clconv_transposed_forward(ctx, &d, 0, x.m, past, w.m, O, bias.m, O, y.m, O,
                                   dev_poison(&ev));
    expect_refused(ctx, st, CLCONV_BUFFER_TOO_SMALL, ev, &y, "x too small");
    clconv_desc bad = d;
    bad.out_pad_h = bad.stride_h;
    st = clconv_transposed_forward(ctx, &bad, 0, x.m, O, w.m, O, bias.m, O, y.m, O,
                                   dev_poison(&ev));
    expect_refused(ctx, st, CLCONV_BAD_PADDING, ev, &y, "out_pad = stride");
    bad = d;
    bad.pad_h = 10;
    st = clconv_transposed_forward(ctx, &bad, 0, x.m, O, w.m, O, bias.m, O, y.m, O,
                                   dev_poison(&ev));
    expect_refused(ctx, st, CLCONV_EMPTY_OUTPUT, ev, &y, "empty output");

    /* the bias kernel reads y: a write-only y is refused with a bias only */
    cl_int err;
    cl_mem wo = clCreateBuffer(clconv_cl_context(ctx), CL_MEM_WRITE_ONLY,
                               (O + y.n) * sizeof(float), NULL, &err);
    cr_assert_not_null(wo);
    st = clconv_transposed_forward(ctx, &d, 0, x.m, O, w.m, O, bias.m, O, wo, O, dev_poison(&ev));
    expect_refused(ctx, st, CLCONV_BAD_BUFFER, ev, NULL, "write-only y with a bias");
    st = clconv_transposed_forward(ctx, &d, 0, x.m, O, w.m, O, NULL, 0, wo, O, dev_poison(&ev));
    cr_expect_eq(st, CLCONV_OK, "write-only y without a bias: %s", clconv_last_error(ctx));
    cr_expect_not_null(ev);
    if (ev)
        clReleaseEvent(ev);
    clReleaseMemObject(wo);

    /* the backward passes */
    st = clconv_transposed_backward_data(ctx, &bad, 0, y.m, O, w.m, O, x.m, O, 0, dev_poison(&ev));
    expect_refused(ctx, st, CLCONV_EMPTY_OUTPUT, ev, &x, "bwd_d empty output");
    st = clconv_transposed_backward_data(ctx, &d, 0, y.m, O, w.m, O, NULL, O, 0, dev_poison(&ev));
    expect_refused(ctx, st, CLCONV_NULL_ARGUMENT, ev, &x, "bwd_d NULL dx");
    cr_expect(strstr(clconv_last_error(ctx), "dx is NULL"), "%s", clconv_last_error(ctx));
    st = clconv_transposed_backward_data(ctx, &d, 0, y.m, O, w.m, O, y.m, O, 0, dev_poison(&ev));
    expect_refused(ctx, st, CLCONV_BAD_BUFFER, ev, &y, "bwd_d dx overlaps dy");
    st = clconv_transposed_backward_filter(ctx, &d, 0, x.m, O, y.m, O, w.m, past, 0,
                                           dev_poison(&ev));
    expect_refused(ctx, st, CLCONV_BUFFER_TOO_SMALL, ev, &w, "bwd_w dw too small");
    st = clconv_transposed_backward_filter(ctx, &d, (clconv_algo)-1, x.m, O, y.m, O, w.m, O, 0,
                                           dev_poison(&ev));
    expect_refused(ctx, st, CLCONV_BAD_ALGORITHM, ev, &w, "bwd_w unknown algorithm");
    st = clconv_transposed_backward_bias(ctx, &bad, y.m, O, bias.m, O, 0, dev_poison(&ev));
    expect_refused(ctx, st, CLCONV_EMPTY_OUTPUT, ev, &bias, "bwd_b empty output");
    st = clconv_transposed_backward_bias(ctx, &d, y.m, O, tiny.m, tiny_off, 0, dev_poison(&ev));
    expect_refused(ctx, st, CLCONV_BUFFER_TOO_SMALL, ev, &tiny, "bwd_b db too small");
    cr_expect_eq(clconv_transposed_backward_bias(NULL, &d, y.m, O, bias.m, O, 0, NULL),
                 CLCONV_NULL_ARGUMENT);

    /* and the context still works, with an event for the last command */
    st = clconv_transposed_forward(ctx, &d, 0, x.m, O, w.m, O, bias.m, O, y.m, O, dev_poison(&ev));
    cr_expect_eq(st, CLCONV_OK, "%s", clconv_last_error(ctx));
    cr_expect_str_eq(clconv_last_error(ctx), "");
    cr_expect_not_null(ev);
    if (ev) {
        cr_expect_eq(clWaitForEvents(1, &ev), CL_SUCCESS);
        clReleaseEvent(ev);
    }
    dev_tensor_free(&x);
    dev_tensor_free(&w);
    dev_tensor_free(&y);
    dev_tensor_free(&bias);
    dev_tensor_free(&tiny);
    clconv_free(ctx);
}
