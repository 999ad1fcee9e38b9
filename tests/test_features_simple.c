/* Issue 7's features through DIRECT and EXPLICIT (tests/feature_check.h
 * against the float64 reference): fp16 and bf16 storage, NHWC activations,
 * KRSC filters, asymmetric padding and the fused forward epilogue, alone
 * and combined, in every pass, accumulate on and off, on grouped, strided
 * and dilated layers; backward-bias and the two public primitives
 * (upsample+pad, flip) in every storage type and layout; EXPLICIT's
 * workspace query; and refusals that write nothing. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "feature_check.h"

static const clconv_algo simple_algos[] = {CLCONV_ALGO_DIRECT, CLCONV_ALGO_EXPLICIT};
#define NALGOS (sizeof simple_algos / sizeof simple_algos[0])

/* Features a case may ask for (bits). */
enum { F_F16 = 1, F_BF16 = 2, F_NHWC = 4, F_KRSC = 8, F_ASYM = 16 };

/* The layers every feature runs on: grouped with stride 2 and dilation 2;
 * depthwise with stride 3 and a padding larger than the dilated filter
 * (the upsampled map's top side is a crop); plain dense 3x3 stride 1;
 * stride 2 with dilated rows and no column padding. */
static clconv_desc layer_of(int which)
{
    clconv_desc d;
    switch (which) {
    case 0:
        clconv_desc_init(&d, 2, 4, 7, 8, 6, 3, 2);
        d.stride_h = 2, d.dilation_w = 2, d.pad_h = 1, d.pad_w = 1, d.groups = 2;
        break;
    case 1:
        clconv_desc_init(&d, 1, 3, 9, 6, 3, 2, 3);
        d.stride_h = 3, d.stride_w = 2, d.pad_h = 3, d.pad_w = 1, d.groups = 3;
        break;
    case 2:
        clconv_desc_init(&d, 2, 3, 5, 5, 4, 3, 3);
        d.pad_h = d.pad_w = 1;
        break;
    default: /* stride 2 with no right padding (asymmetric: 0), dilated rows */
        clconv_desc_init(&d, 1, 2, 6, 7, 2, 3, 3);
        d.stride_h = d.stride_w = 2, d.dilation_h = 2, d.pad_h = 2;
    }
    return d;
}
#define NLAYERS 4

/* d with the features of `f`.  Asymmetric padding moves the rows and
 * columns to unequal sides: the bottom gets one more row than the top,
 * the left one more column than the right. */
static clconv_desc with_features(clconv_desc d, unsigned f)
{
    if (f & F_F16)
        d.dtype = CLCONV_F16;
    if (f & F_BF16)
        d.dtype = CLCONV_BF16;
    if (f & F_NHWC)
        d.layout = CLCONV_NHWC;
    if (f & F_KRSC)
        d.filter_layout = CLCONV_KRSC;
    if (f & F_ASYM) {
        d.pad_asymmetric = 1;
        d.pad_h_end = d.pad_h + 1;
        d.pad_w_end = d.pad_w;
        d.pad_w = d.pad_w + 1;
    }
    return d;
}

static void run_case(clconv_ctx *ctx, const clconv_desc *d, int pass, clconv_algo algo, int acc,
                     const clconv_epilogue *ep, int use_bias, uint64_t seed)
{
    feature_case c = {.d = *d, .pass = pass, .algo = algo, .accumulate = acc, .ep = ep,
                      .use_bias = use_bias};
    feature_result r = feature_run(ctx, &c, seed);
    feature_expect_ok(&c, &r);
}

/* Every pass of every layer with the features f, both algorithms,
 * accumulate off and on; forward also with an epilogue when with_epi. */
static void run_features(clconv_ctx *ctx, unsigned f, int with_epi, uint64_t seed)
{
    clconv_epilogue ep;
    clconv_epilogue_init(&ep);
    ep.alpha = 0.75f, ep.beta = -0.5f, ep.activation = CLCONV_ACT_LEAKY_RELU, ep.param = 0.125f;
    for (int l = 0; l < NLAYERS; l++) {
        const clconv_desc d = with_features(layer_of(l), f);
        for (size_t a = 0; a < NALGOS; a++) {
            for (int pass = 0; pass < 3; pass++)
                for (int acc = 0; acc < (pass ? 2 : 1); acc++)
                    run_case(ctx, &d, pass, simple_algos[a], acc, NULL, 0, seed++);
            if (with_epi)
                run_case(ctx, &d, 0, simple_algos[a], 0, &ep, 1, seed++);
        }
    }
}

Test(features_simple, fp16_alone)
{
    clconv_ctx *c = test_ctx();
    run_features(c, F_F16, 0, 100);
    clconv_free(c);
}

Test(features_simple, bf16_alone)
{
    clconv_ctx *c = test_ctx();
    run_features(c, F_BF16, 0, 200);
    clconv_free(c);
}

Test(features_simple, nhwc_alone)
{
    clconv_ctx *c = test_ctx();
    run_features(c, F_NHWC, 0, 300);
    clconv_free(c);
}

Test(features_simple, krsc_alone)
{
    clconv_ctx *c = test_ctx();
    run_features(c, F_KRSC, 0, 400);
    clconv_free(c);
}

Test(features_simple, asymmetric_padding_alone)
{
    clconv_ctx *c = test_ctx();
    run_features(c, F_ASYM, 0, 500);
    clconv_free(c);
}

/* The epilogue alone (fp32 NCHW): every activation, with and without
 * bias, beta 0 (y poisoned: must not be read) and not. */
Test(features_simple, epilogue_every_activation)
{
    clconv_ctx *ctx = test_ctx();
    static const float params[CLCONV_ACT_COUNT_] = {0, 0, 0.5f, 0.1f, 0, 0};
    uint64_t seed = 600;
    for (int act = 0; act < CLCONV_ACT_COUNT_; act++)
        for (int variant = 0; variant < 2; variant++) {
            clconv_epilogue ep;
            clconv_epilogue_init(&ep);
            ep.activation = act, ep.param = params[act];
            ep.alpha = variant ? 1.5f : 1.0f, ep.beta = variant ? 0.25f : 0.0f;
            const clconv_desc d = layer_of(act % NLAYERS);
            for (size_t a = 0; a < NALGOS; a++)
                run_case(ctx, &d, 0, simple_algos[a], 0, &ep, !variant || act % 2, seed++);
        }
    clconv_free(ctx);
}

/* The epilogue in fp16 and bf16 storage: bias and y_old are read in the
 * storage type, the result rounded once. */
Test(features_simple, epilogue_half_types)
{
    clconv_ctx *ctx = test_ctx();
    uint64_t seed = 700;
    for (int t = 0; t < 2; t++)
        for (int act = 0; act < CLCONV_ACT_COUNT_; act++) {
            clconv_epilogue ep;
            clconv_epilogue_init(&ep);
            ep.activation = act, ep.param = act == CLCONV_ACT_CLIPPED_RELU ? 6.0f : 0.2f;
            ep.alpha = 0.5f, ep.beta = act % 2 ? 1.0f : 0.0f;
            const clconv_desc d = with_features(layer_of(act % NLAYERS), t ? F_BF16 : F_F16);
            for (size_t a = 0; a < NALGOS; a++)
                run_case(ctx, &d, 0, simple_algos[a], 0, &ep, 1, seed++);
        }
    clconv_free(ctx);
}

/* Everything at once: fp16 (then bf16) + NHWC + KRSC + asymmetric padding,
 * with the epilogue on forward, on grouped, strided, dilated layers. */
Test(features_simple, fp16_nhwc_krsc_asym_epilogue)
{
    clconv_ctx *c = test_ctx();
    run_features(c, F_F16 | F_NHWC | F_KRSC | F_ASYM, 1, 800);
    clconv_free(c);
}

Test(features_simple, bf16_nhwc_krsc_asym_epilogue)
{
    clconv_ctx *c = test_ctx();
    run_features(c, F_BF16 | F_NHWC | F_KRSC | F_ASYM, 1, 900);
    clconv_free(c);
}

/* Mixed layouts (NHWC with KCRS, NCHW with KRSC) in fp32 with asymmetric
 * padding: the activation and filter strides are independent. */
Test(features_simple, mixed_layouts_fp32)
{
    clconv_ctx *c = test_ctx();
    run_features(c, F_NHWC | F_ASYM, 1, 1000);
    run_features(c, F_KRSC | F_ASYM, 1, 1100);
    clconv_free(c);
}

/* AUTO falls through to an algorithm that runs the combined case. */
Test(features_simple, auto_runs_the_combined_case)
{
    clconv_ctx *ctx = test_ctx();
    clconv_epilogue ep;
    clconv_epilogue_init(&ep);
    ep.activation = CLCONV_ACT_RELU, ep.beta = 1.0f;
    const clconv_desc d = with_features(layer_of(0), F_F16 | F_NHWC | F_KRSC | F_ASYM);
    for (int pass = 0; pass < 3; pass++)
        run_case(ctx, &d, pass, CLCONV_ALGO_AUTO, pass == 2, pass ? NULL : &ep, 1, 1200 + pass);
    clconv_free(ctx);
}

/* EXPLICIT's intermediates are in the storage type: the query is their
 * bytes (upsampled dy, plus the flipped filter for backward-data). */
Test(features_simple, explicit_workspace_in_storage_bytes)
{
    clconv_ctx *ctx = test_ctx();
    for (unsigned f = 0; f < 3; f++) {
        const clconv_desc d = with_features(layer_of(0), (f == 1 ? F_F16 : f == 2 ? F_BF16 : 0) |
                                                             F_NHWC | F_ASYM);
        const size_t es = clconv_dtype_size((clconv_dtype)d.dtype);
        int64_t p, q, hu, wu;
        size_t we;
        cr_assert_eq(clconv_output_size(&d, &p, &q), CLCONV_OK);
        cr_assert_eq(clconv_upsample_pad_size(&d, &hu, &wu), CLCONV_OK);
        cr_assert_eq(clconv_tensor_elems(&d, NULL, &we, NULL), CLCONV_OK);
        const size_t data = (size_t)(d.n * d.k * hu * wu) + we;
        const size_t filt = (size_t)(d.n * d.k * ((p - 1) * d.stride_h + 1) *
                                     ((q - 1) * d.stride_w + 1));
        size_t b = 1;
        cr_expect_eq(clconv_workspace_size(ctx, &d, CLCONV_PASS_BACKWARD_DATA,
                                           CLCONV_ALGO_EXPLICIT, &b), CLCONV_OK);
        cr_expect_eq(b, data * es, "dtype %d: bwd-data workspace %zu, want %zu", f, b, data * es);
        cr_expect_eq(clconv_workspace_size(ctx, &d, CLCONV_PASS_BACKWARD_FILTER,
                                           CLCONV_ALGO_EXPLICIT, &b), CLCONV_OK);
        cr_expect_eq(b, filt * es, "dtype %d: bwd-filter workspace %zu, want %zu", f, b, filt * es);
        cr_expect_eq(clconv_workspace_size(ctx, &d, CLCONV_PASS_FORWARD, CLCONV_ALGO_EXPLICIT, &b),
                     CLCONV_OK);
        cr_expect_eq(b, 0);
        cr_expect_eq(clconv_workspace_size(ctx, &d, CLCONV_PASS_BACKWARD_DATA,
                                           CLCONV_ALGO_DIRECT, &b), CLCONV_OK);
        cr_expect_eq(b, 0);
    }
    clconv_free(ctx);
}

/* ---- single-kernel calls: device tensors with NaN guards ---------------- */
#define OFF 5
#define GUARD 16

/* A device tensor of `n` elements of type t at OFF, guards (all-ones bytes:
 * NaN in every type) before and after; src NULL: poisoned the same way. */
typedef struct gtensor {
    size_t n, es;
    unsigned char *host;        /* (OFF + n + GUARD) * es bytes, as uploaded */
    cl_mem m;
} gtensor;

static gtensor gt_make(clconv_ctx *ctx, size_t n, clconv_dtype t, const void *src)
{
    gtensor g = {n, clconv_dtype_size(t), NULL, NULL};
    const size_t bytes = (OFF + n + GUARD) * g.es;
    g.host = test_alloc(bytes);
    memset(g.host, 0xff, bytes);
    if (src)
        memcpy(g.host + OFF * g.es, src, n * g.es);
    cl_int err;
    g.m = clCreateBuffer(clconv_cl_context(ctx), CL_MEM_READ_WRITE | CL_MEM_COPY_HOST_PTR, bytes,
                         g.host, &err);
    cr_assert_not_null(g.m, "clCreateBuffer: %d", (int)err);
    return g;
}

/* The tensor's storage back; guards compared with what was uploaded. */
static unsigned char *gt_fetch(clconv_ctx *ctx, const gtensor *g, int *guards_ok)
{
    const size_t bytes = (OFF + g->n + GUARD) * g->es;
    unsigned char *b = test_alloc(bytes);
    cr_assert_eq(clEnqueueReadBuffer(clconv_cl_queue(ctx), g->m, CL_TRUE, 0, bytes, b, 0, NULL,
                                     NULL), CL_SUCCESS);
    *guards_ok = !memcmp(b, g->host, OFF * g->es) &&
                 !memcmp(b + (OFF + g->n) * g->es, g->host + (OFF + g->n) * g->es, GUARD * g->es);
    return b;
}

static void gt_free(gtensor *g)
{
    free(g->host);
    clReleaseMemObject(g->m);
}

/* n random values rounded to t, packed (channels-last when cl) into a new
 * storage array; the rounded values, channels-first, into *v. */
static void *random_packed(const int64_t dm[4], int cl, clconv_dtype t, uint64_t seed, double **v)
{
    const size_t n = (size_t)(dm[0] * dm[1] * dm[2] * dm[3]);
    float *f = test_alloc(n * sizeof(float));
    test_rng rng = test_rng_seed(seed);
    test_fill_random(&rng, f, n);
    *v = test_alloc(n * sizeof(double));
    for (size_t i = 0; i < n; i++)
        (*v)[i] = f[i];
    free(f);
    void *s = test_alloc(n * clconv_dtype_size(t));
    test_pack(*v, dm, cl, t, s);
    return s;
}

static const char *dtype_layout(const clconv_desc *d, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s %s %s", clconv_dtype_name((clconv_dtype)d->dtype),
             d->layout == CLCONV_NHWC ? "nhwc" : "nchw",
             d->filter_layout == CLCONV_KRSC ? "krsc" : "kcrs");
    return buf;
}

/* The four storage/layout mixes the single-kernel tests walk per layer. */
static clconv_desc single_variant(int l, int v)
{
    static const unsigned f[] = {0, F_F16 | F_NHWC, F_BF16 | F_KRSC | F_ASYM,
                                 F_F16 | F_NHWC | F_KRSC | F_ASYM, F_BF16 | F_NHWC};
    return with_features(layer_of(l), f[v]);
}
#define NVARIANTS 5

static void check_bias(clconv_ctx *ctx, const clconv_desc *d, int acc, uint64_t seed)
{
    const clconv_dtype t = (clconv_dtype)d->dtype;
    int64_t p, q;
    cr_assert_eq(clconv_output_size(d, &p, &q), CLCONV_OK);
    const int64_t yd[4] = {d->n, d->k, p, q}, bd[4] = {1, d->k, 1, 1};
    double *yv, *old;
    void *ys = random_packed(yd, d->layout == CLCONV_NHWC, t, seed, &yv);
    void *bs = random_packed(bd, 0, t, seed + 1, &old);
    gtensor dy = gt_make(ctx, (size_t)(d->n * d->k * p * q), t, ys);
    gtensor db = gt_make(ctx, (size_t)d->k, t, acc ? bs : NULL);
    char what[64];
    dtype_layout(d, what, sizeof what);
    cr_assert_eq(clconv_backward_bias(ctx, d, dy.m, OFF, db.m, OFF, acc, NULL), CLCONV_OK,
                 "%s: %s", what, clconv_last_error(ctx));
    int guards;
    unsigned char *back = gt_fetch(ctx, &db, &guards);
    double *out = test_alloc((size_t)d->k * sizeof(double)), *ref = test_alloc((size_t)d->k * 8);
    test_unpack(back + OFF * db.es, bd, 0, t, out);
    cr_assert_eq(clconv_ref_backward_bias(d, yv, ref), CLCONV_OK);
    double num = 0, den = 0;
    for (int64_t k = 0; k < d->k; k++) {
        ref[k] += acc ? old[k] : 0.0;
        cr_expect(isfinite(out[k]), "%s: db[%lld] is not finite", what, (long long)k);
        num += (out[k] - ref[k]) * (out[k] - ref[k]), den += ref[k] * ref[k];
    }
    cr_expect(sqrt(num / den) <= feature_tol(t), "%s acc %d: relative error %g", what, acc,
              sqrt(num / den));
    cr_expect(guards, "%s: backward_bias wrote outside db", what);
    free(back), free(out), free(ref), free(yv), free(old), free(ys), free(bs);
    gt_free(&dy), gt_free(&db);
}

/* clconv_backward_bias in every storage type and layout, accumulate off
 * and on. */
Test(features_simple, backward_bias_every_dtype_layout)
{
    clconv_ctx *ctx = test_ctx();
    uint64_t seed = 1300;
    for (int l = 0; l < NLAYERS; l++)
        for (int v = 0; v < NVARIANTS; v++) {
            const clconv_desc d = single_variant(l, v);
            for (int acc = 0; acc < 2; acc++, seed += 2)
                check_bias(ctx, &d, acc, seed);
        }
    clconv_free(ctx);
}

/* The output g (dims dm, channels-last when cl, type t) equals want
 * (channels-first) exactly, and its guards are intact. */
static void expect_output_exact(clconv_ctx *ctx, const gtensor *g, const int64_t dm[4], int cl,
                                clconv_dtype t, const double *want, const char *what)
{
    int guards;
    unsigned char *back = gt_fetch(ctx, g, &guards);
    double *out = test_alloc(g->n * sizeof(double));
    test_unpack(back + OFF * g->es, dm, cl, t, out);
    size_t bad = 0;
    for (size_t i = 0; i < g->n; i++)
        if (!(out[i] == want[i]) && bad++ < 4)
            cr_expect(0, "%s: element %zu is %g, want %g", what, i, out[i], want[i]);
    cr_expect_eq(bad, 0, "%s: %zu elements differ", what, bad);
    cr_expect(guards, "%s: wrote outside its output", what);
    free(back), free(out);
}

/* clconv_upsample_pad from its definition: out[n][k][y][x] =
 * dy[n][k][(y-T)/sh][(x-L)/sw] where aligned and inside, else 0, with
 * T = (R-1)*dh - pad_top, L = (S-1)*dw - pad_left; out in d's layout. */
static void check_upsample(clconv_ctx *ctx, const clconv_desc *d, uint64_t seed)
{
    const clconv_dtype t = (clconv_dtype)d->dtype;
    const int cl = d->layout == CLCONV_NHWC;
    int64_t p, q, hu, wu;
    cr_assert_eq(clconv_output_size(d, &p, &q), CLCONV_OK);
    cr_assert_eq(clconv_upsample_pad_size(d, &hu, &wu), CLCONV_OK);
    const int64_t yd[4] = {d->n, d->k, p, q}, ud[4] = {d->n, d->k, hu, wu};
    const size_t un = (size_t)(d->n * d->k * hu * wu);
    double *yv;
    void *ys = random_packed(yd, cl, t, seed, &yv);
    double *want = test_alloc(un * sizeof(double));
    const int64_t top = (d->r - 1) * d->dilation_h - d->pad_h;
    const int64_t left = (d->s - 1) * d->dilation_w - d->pad_w;
    size_t i = 0;
    for (int64_t nk = 0; nk < d->n * d->k; nk++)
        for (int64_t y = 0; y < hu; y++)
            for (int64_t x = 0; x < wu; x++, i++) {
                const int64_t yy = y - top, xx = x - left;
                const int in = yy >= 0 && xx >= 0 && yy % d->stride_h == 0 &&
                               xx % d->stride_w == 0 && yy / d->stride_h < p &&
                               xx / d->stride_w < q;
                want[i] = in ? yv[(nk * p + yy / d->stride_h) * q + xx / d->stride_w] : 0.0;
            }
    gtensor dy = gt_make(ctx, (size_t)(d->n * d->k * p * q), t, ys);
    gtensor u = gt_make(ctx, un, t, NULL);
    char what[96], dl[48];
    snprintf(what, sizeof what, "upsample_pad %s", dtype_layout(d, dl, sizeof dl));
    cr_assert_eq(clconv_upsample_pad(ctx, d, dy.m, OFF, u.m, OFF, NULL), CLCONV_OK, "%s: %s",
                 what, clconv_last_error(ctx));
    expect_output_exact(ctx, &u, ud, cl, t, want, what);
    free(want), free(yv), free(ys);
    gt_free(&dy), gt_free(&u);
}

/* clconv_flip_filter from its definition: wf[c][kl][r][s] =
 * w[g*Kg + kl][c - g*Cg][R-1-r][S-1-s], wf in d's filter layout. */
static void check_flip(clconv_ctx *ctx, const clconv_desc *d, uint64_t seed)
{
    const clconv_dtype t = (clconv_dtype)d->dtype;
    const int cl = d->filter_layout == CLCONV_KRSC;
    const int64_t cg = d->c / d->groups, kg = d->k / d->groups, R = d->r, S = d->s;
    const int64_t wd[4] = {d->k, cg, R, S}, fd[4] = {d->c, kg, R, S};
    const size_t n = (size_t)(d->k * cg * R * S);
    double *wv;
    void *ws = random_packed(wd, cl, t, seed, &wv);
    double *want = test_alloc(n * sizeof(double));
    size_t i = 0;
    for (int64_t c = 0; c < d->c; c++)
        for (int64_t kl = 0; kl < kg; kl++)
            for (int64_t r = 0; r < R; r++)
                for (int64_t s = 0; s < S; s++, i++) {
                    const int64_t g = c / cg, k = g * kg + kl;
                    want[i] = wv[((k * cg + c - g * cg) * R + R - 1 - r) * S + S - 1 - s];
                }
    gtensor w = gt_make(ctx, n, t, ws), wf = gt_make(ctx, n, t, NULL);
    char what[96], dl[48];
    snprintf(what, sizeof what, "flip_filter %s", dtype_layout(d, dl, sizeof dl));
    cr_assert_eq(clconv_flip_filter(ctx, d, w.m, OFF, wf.m, OFF, NULL), CLCONV_OK, "%s: %s",
                 what, clconv_last_error(ctx));
    expect_output_exact(ctx, &wf, fd, cl, t, want, what);
    free(want), free(wv), free(ws);
    gt_free(&w), gt_free(&wf);
}

/* The two primitives in every storage type and layout: exact copies. */
Test(features_simple, primitives_every_dtype_layout)
{
    clconv_ctx *ctx = test_ctx();
    uint64_t seed = 1400;
    for (int l = 0; l < NLAYERS; l++)
        for (int v = 0; v < NVARIANTS; v++) {
            const clconv_desc d = single_variant(l, v);
            check_upsample(ctx, &d, seed++);
            check_flip(ctx, &d, seed++);
        }
    clconv_free(ctx);
}

/* Refusals count sizes in elements of the storage type, and a refused
 * call writes nothing: an fp16 bias one element short, an fp16 db one
 * element short, a bf16 upsampled map one element short. */
Test(features_simple, refusals_in_storage_elements_write_nothing)
{
    clconv_ctx *ctx = test_ctx();
    const clconv_desc d = with_features(layer_of(0), F_F16 | F_NHWC | F_ASYM);
    size_t xe, we, ye;
    cr_assert_eq(clconv_tensor_elems(&d, &xe, &we, &ye), CLCONV_OK);
    gtensor x = gt_make(ctx, xe, CLCONV_F16, NULL), w = gt_make(ctx, we, CLCONV_F16, NULL);
    gtensor y = gt_make(ctx, ye, CLCONV_F16, NULL);
    /* the bias buffer holds OFF + K - 1 elements: one short at offset OFF */
    cl_int err;
    cl_mem bias = clCreateBuffer(clconv_cl_context(ctx), CL_MEM_READ_WRITE,
                                 (OFF + (size_t)d.k - 1) * 2, NULL, &err);
    cr_assert_not_null(bias);
    clconv_epilogue ep;
    clconv_epilogue_init(&ep);
    ep.bias = bias, ep.bias_off = OFF;
    for (size_t a = 0; a < NALGOS; a++) {
        clconv_status st = clconv_forward_fused(ctx, &d, simple_algos[a], x.m, OFF, w.m, OFF, y.m,
                                                OFF, &ep, NULL);
        cr_expect_eq(st, CLCONV_BUFFER_TOO_SMALL, "short bias: %s", clconv_status_name(st));
    }
    /* db at an offset leaving K - 1 fp16 elements */
    const size_t db_bytes = (OFF + (size_t)d.k + GUARD) * 2;
    const size_t short_off = (db_bytes / 2) - (size_t)d.k + 1;
    gtensor db = gt_make(ctx, (size_t)d.k, CLCONV_F16, NULL);
    clconv_status st = clconv_backward_bias(ctx, &d, y.m, OFF, db.m, short_off, 0, NULL);
    cr_expect_eq(st, CLCONV_BUFFER_TOO_SMALL, "short db: %s", clconv_status_name(st));
    /* an upsampled map one element short (bf16) */
    const clconv_desc b = with_features(layer_of(0), F_BF16 | F_NHWC);
    int64_t hu, wu;
    cr_assert_eq(clconv_upsample_pad_size(&b, &hu, &wu), CLCONV_OK);
    gtensor u = gt_make(ctx, (size_t)(b.n * b.k * hu * wu) - 1 - OFF - GUARD, CLCONV_BF16, NULL);
    st = clconv_upsample_pad(ctx, &b, y.m, OFF, u.m, 0, NULL);
    cr_expect_eq(st, CLCONV_BUFFER_TOO_SMALL, "short upsampled map: %s", clconv_status_name(st));
    /* nothing was written anywhere */
    const gtensor *outs[] = {&y, &db, &u};
    for (size_t i = 0; i < 3; i++) {
        const size_t bytes = (OFF + outs[i]->n + GUARD) * outs[i]->es;
        unsigned char *back = test_alloc(bytes);
        cr_assert_eq(clEnqueueReadBuffer(clconv_cl_queue(ctx), outs[i]->m, CL_TRUE, 0, bytes, back,
                                         0, NULL, NULL), CL_SUCCESS);
        cr_expect(!memcmp(back, outs[i]->host, bytes), "refused call %zu wrote its output", i);
        free(back);
    }
    clReleaseMemObject(bias);
    gt_free(&x), gt_free(&w), gt_free(&y), gt_free(&db), gt_free(&u);
    clconv_free(ctx);
}
