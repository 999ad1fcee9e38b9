/* See feature_check.h. */
#include "feature_check.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OFF 3      /* every tensor starts this many elements into its buffer */
#define GUARD 16   /* elements after it that must stay as they were */

double feature_tol(clconv_dtype t)
{
    return t == CLCONV_F16 ? TEST_TOL + ldexp(1.0, -11)
           : t == CLCONV_BF16 ? TEST_TOL + ldexp(1.0, -8)
                              : TEST_TOL;
}

static uint32_t bits_of(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static float float_of(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

uint16_t test_f32_to_f16(float f)
{
    const uint32_t x = bits_of(f), sign = (x >> 16) & 0x8000u, ax = x & 0x7fffffffu;
    if (ax > 0x7f800000u)
        return (uint16_t)(sign | 0x7e00u);
    if (ax >= 0x47800000u) /* >= 65536 (and Inf): Inf */
        return (uint16_t)(sign | 0x7c00u);
    if (ax < 0x38800000u) /* below 2^-14: a subnormal step of 2^-24, rounded to even */
        return (uint16_t)(sign | (uint32_t)nearbyintf(float_of(ax) * 16777216.0f));
    uint32_t h = (((ax >> 23) - 127 + 15) << 10) | ((ax & 0x7fffffu) >> 13);
    const uint32_t rem = ax & 0x1fffu;
    if (rem > 0x1000u || (rem == 0x1000u && (h & 1u)))
        h++; /* a carry into the exponent is right, up to Inf */
    return (uint16_t)(sign | h);
}

float test_f16_to_f32(uint16_t h)
{
    const uint32_t s = (uint32_t)(h & 0x8000u) << 16, e = (h >> 10) & 0x1fu, m = h & 0x3ffu;
    if (e == 0) {
        const float v = ldexpf((float)m, -24);
        return s ? -v : v;
    }
    if (e == 31)
        return float_of(s | 0x7f800000u | (m << 13));
    return float_of(s | ((e - 15 + 127) << 23) | (m << 13));
}

uint16_t test_f32_to_bf16(float f)
{
    const uint32_t u = bits_of(f);
    if ((u & 0x7fffffffu) > 0x7f800000u)
        return (uint16_t)((u >> 16) | 0x40u);
    return (uint16_t)((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
}

float test_bf16_to_f32(uint16_t b) { return float_of((uint32_t)b << 16); }

/* Index of (a, b, c, d) in storage: channels-first or channels-last. */
static size_t at(const int64_t dm[4], int cl, int64_t a, int64_t b, int64_t c, int64_t d)
{
    if (!cl)
        return (size_t)(((a * dm[1] + b) * dm[2] + c) * dm[3] + d);
    return (size_t)(((a * dm[2] + c) * dm[3] + d) * dm[1] + b);
}

static void put(void *dst, size_t i, clconv_dtype t, double *v)
{
    const float f = (float)*v;
    if (t == CLCONV_F32) {
        ((float *)dst)[i] = f;
        *v = f;
    } else if (t == CLCONV_F16) {
        ((uint16_t *)dst)[i] = test_f32_to_f16(f);
        *v = test_f16_to_f32(((uint16_t *)dst)[i]);
    } else {
        ((uint16_t *)dst)[i] = test_f32_to_bf16(f);
        *v = test_bf16_to_f32(((uint16_t *)dst)[i]);
    }
}

static double get(const void *src, size_t i, clconv_dtype t)
{
    if (t == CLCONV_F32)
        return ((const float *)src)[i];
    if (t == CLCONV_F16)
        return test_f16_to_f32(((const uint16_t *)src)[i]);
    return test_bf16_to_f32(((const uint16_t *)src)[i]);
}

void test_pack(double *v, const int64_t dm[4], int cl, clconv_dtype t, void *dst)
{
    size_t i = 0;
    for (int64_t a = 0; a < dm[0]; a++)
        for (int64_t b = 0; b < dm[1]; b++)
            for (int64_t c = 0; c < dm[2]; c++)
                for (int64_t d = 0; d < dm[3]; d++, i++)
                    put(dst, at(dm, cl, a, b, c, d), t, &v[i]);
}

void test_unpack(const void *src, const int64_t dm[4], int cl, clconv_dtype t, double *v)
{
    size_t i = 0;
    for (int64_t a = 0; a < dm[0]; a++)
        for (int64_t b = 0; b < dm[1]; b++)
            for (int64_t c = 0; c < dm[2]; c++)
                for (int64_t d = 0; d < dm[3]; d++, i++)
                    v[i] = get(src, at(dm, cl, a, b, c, d), t);
}

double feature_epilogue_ref(const clconv_epilogue *ep, double acc, double old, double bias)
{
    double v = (double)ep->alpha * acc + bias;
    if (ep->beta != 0.0f)
        v += (double)ep->beta * old;
    const double a = ep->param;
    switch (ep->activation) {
    case CLCONV_ACT_RELU: return v < 0 ? 0 : v;
    case CLCONV_ACT_CLIPPED_RELU: return v < 0 ? 0 : v > a ? a : v;
    case CLCONV_ACT_LEAKY_RELU: return v < 0 ? a * v : v;
    case CLCONV_ACT_SIGMOID: return 1.0 / (1.0 + exp(-v));
    case CLCONV_ACT_TANH: return tanh(v);
    default: return v;
    }
}

/* One tensor of a case: its dims (channels-first order), layout flag,
 * values as the reference sees them, and its device buffer. */
typedef struct ftensor {
    int64_t dm[4];
    int cl;
    size_t n;
    double *v;
    unsigned char *store;       /* OFF + n + GUARD elements of storage */
    cl_mem m;
} ftensor;

static size_t count(const int64_t dm[4]) { return (size_t)(dm[0] * dm[1] * dm[2] * dm[3]); }

/* A tensor of random values (poison: NaN storage instead) on the device. */
static void tensor_make(clconv_ctx *ctx, ftensor *t, const int64_t dm[4], int cl, clconv_dtype dt,
                        test_rng *rng, int poison)
{
    memcpy(t->dm, dm, sizeof t->dm);
    t->cl = cl;
    t->n = count(dm);
    const size_t es = clconv_dtype_size(dt), total = OFF + t->n + GUARD;
    t->v = test_alloc(t->n * sizeof(double));
    t->store = test_alloc(total * es);
    /* NaN everywhere first: guards, and the whole output when poisoned */
    for (size_t i = 0; i < total; i++) {
        double nan_v = NAN;
        put(t->store, i, dt, &nan_v);
    }
    if (!poison) {
        float *f = test_alloc(t->n * sizeof(float));
        test_fill_random(rng, f, t->n);
        for (size_t i = 0; i < t->n; i++)
            t->v[i] = f[i];
        free(f);
        test_pack(t->v, dm, cl, dt, t->store + OFF * es);
    } else {
        for (size_t i = 0; i < t->n; i++)
            t->v[i] = NAN;
    }
    cl_int err;
    t->m = clCreateBuffer(clconv_cl_context(ctx), CL_MEM_READ_WRITE | CL_MEM_COPY_HOST_PTR,
                          total * es, t->store, &err);
    cr_assert_not_null(t->m, "clCreateBuffer: %d", (int)err);
}

static void tensor_free(ftensor *t)
{
    free(t->v);
    free(t->store);
    if (t->m)
        clReleaseMemObject(t->m);
}

static clconv_status run_call(clconv_ctx *ctx, const feature_case *c, cl_mem a, cl_mem b,
                              cl_mem bias, cl_mem out)
{
    const clconv_desc *d = &c->d;
    switch (c->pass) {
    case 0:
        if (c->ep) {
            clconv_epilogue e = *c->ep;
            e.bias = bias;
            e.bias_off = bias ? OFF : 0;
            return clconv_forward_fused(ctx, d, c->algo, a, OFF, b, OFF, out, OFF, &e, NULL);
        }
        return clconv_forward(ctx, d, c->algo, a, OFF, b, OFF, out, OFF, NULL);
    case 1:
        return clconv_backward_data(ctx, d, c->algo, a, OFF, b, OFF, out, OFF, c->accumulate,
                                    NULL);
    default:
        return clconv_backward_filter(ctx, d, c->algo, a, OFF, b, OFF, out, OFF, c->accumulate,
                                      NULL);
    }
}

static double rel_err(const double *out, const double *ref, size_t n)
{
    double num = 0, den = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(out[i]))
            return INFINITY;
        num += (out[i] - ref[i]) * (out[i] - ref[i]);
        den += ref[i] * ref[i];
    }
    return den > 0 ? sqrt(num / den) : sqrt(num);
}

feature_result feature_run(clconv_ctx *ctx, const feature_case *c, uint64_t seed)
{
    const clconv_desc *d = &c->d;
    const clconv_dtype dt = d->struct_size >= CLCONV_DESC_SIZE_0_3 ? (clconv_dtype)d->dtype
                                                                   : CLCONV_F32;
    const int nhwc = d->struct_size >= CLCONV_DESC_SIZE_0_3 && d->layout == CLCONV_NHWC;
    const int krsc = d->struct_size >= CLCONV_DESC_SIZE_0_3 && d->filter_layout == CLCONV_KRSC;
    const int64_t P =
        test_out_len2(d->h, d->r, d->stride_h, d->pad_h, test_pad_h_end(d), d->dilation_h);
    const int64_t Q =
        test_out_len2(d->w, d->s, d->stride_w, d->pad_w, test_pad_w_end(d), d->dilation_w);
    const int64_t xd[4] = {d->n, d->c, d->h, d->w}, yd[4] = {d->n, d->k, P, Q},
                  wd[4] = {d->k, d->c / d->groups, d->r, d->s}, bd[4] = {1, d->k, 1, 1};
    const int64_t *ind[3][2] = {{xd, wd}, {yd, wd}, {xd, yd}};
    const int incl[3][2] = {{nhwc, krsc}, {nhwc, krsc}, {nhwc, nhwc}};
    const int64_t *outd[3] = {yd, xd, wd};
    const int outcl[3] = {nhwc, nhwc, krsc};
    const int reads_old = c->pass == 0 ? (c->ep && c->ep->beta != 0.0f) : c->accumulate;
    test_rng rng = test_rng_seed(seed);
    ftensor a, b, o, bias = {0};
    tensor_make(ctx, &a, ind[c->pass][0], incl[c->pass][0], dt, &rng, 0);
    tensor_make(ctx, &b, ind[c->pass][1], incl[c->pass][1], dt, &rng, 0);
    tensor_make(ctx, &o, outd[c->pass], outcl[c->pass], dt, &rng, !reads_old);
    const int with_bias = c->pass == 0 && c->ep && c->use_bias;
    if (with_bias)
        tensor_make(ctx, &bias, bd, 0, dt, &rng, 0);

    feature_result r = {.err = NAN, .tol = feature_tol(dt), .guards_ok = 1};
    r.st = run_call(ctx, c, a.m, b.m, with_bias ? bias.m : NULL, o.m);
    if (r.st == CLCONV_OK) {
        const size_t es = clconv_dtype_size(dt), total = OFF + o.n + GUARD;
        unsigned char *back = test_alloc(total * es);
        cr_assert_eq(clEnqueueReadBuffer(clconv_cl_queue(ctx), o.m, CL_TRUE, 0, total * es, back,
                                         0, NULL, NULL), CL_SUCCESS);
        r.guards_ok = !memcmp(back, o.store, OFF * es) &&
                      !memcmp(back + (OFF + o.n) * es, o.store + (OFF + o.n) * es, GUARD * es);
        double *out = test_alloc(o.n * sizeof(double)), *ref = test_alloc(o.n * sizeof(double));
        test_unpack(back + OFF * es, o.dm, o.cl, dt, out);
        if (c->pass == 0)
            clconv_ref_forward(d, a.v, b.v, ref);
        else if (c->pass == 1)
            clconv_ref_backward_data(d, a.v, b.v, ref);
        else
            clconv_ref_backward_filter(d, a.v, b.v, ref);
        for (size_t i = 0; i < o.n; i++) {
            if (c->pass == 0 && c->ep) {
                const size_t k = (i / (size_t)(P * Q)) % (size_t)d->k;
                ref[i] = feature_epilogue_ref(c->ep, ref[i], reads_old ? o.v[i] : 0.0,
                                              with_bias ? bias.v[k] : 0.0);
            } else if (reads_old) {
                ref[i] += o.v[i];
            }
        }
        r.err = rel_err(out, ref, o.n);
        free(out);
        free(ref);
        free(back);
    }
    tensor_free(&a);
    tensor_free(&b);
    tensor_free(&o);
    if (with_bias)
        tensor_free(&bias);
    return r;
}

void feature_expect_ok(const feature_case *c, const feature_result *r)
{
    char ds[CLCONV_DESC_STRING_MAX];
    clconv_desc_string(&c->d, ds, sizeof ds);
    const int ext = c->d.struct_size >= CLCONV_DESC_SIZE_0_3;
    char what[CLCONV_DESC_STRING_MAX + 200];
    snprintf(what, sizeof what, "%s pass %d %s %s %s/%s pads %lld,%lld,%lld,%lld%s%s act %d",
             ds, c->pass, clconv_algo_name(c->algo),
             clconv_dtype_name(ext ? (clconv_dtype)c->d.dtype : CLCONV_F32),
             ext && c->d.layout == CLCONV_NHWC ? "nhwc" : "nchw",
             ext && c->d.filter_layout == CLCONV_KRSC ? "krsc" : "kcrs",
             (long long)c->d.pad_h, (long long)test_pad_h_end(&c->d), (long long)c->d.pad_w,
             (long long)test_pad_w_end(&c->d), c->accumulate ? " accumulate" : "",
             c->ep ? (c->use_bias ? " epilogue+bias" : " epilogue") : "",
             c->ep ? c->ep->activation : -1);
    cr_expect_eq(r->st, CLCONV_OK, "%s: %s", what, clconv_status_name(r->st));
    if (r->st == CLCONV_OK) {
        cr_expect(r->err <= r->tol, "%s: relative error %g > %g", what, r->err, r->tol);
        cr_expect(r->guards_ok, "%s: wrote outside the output", what);
    }
}
