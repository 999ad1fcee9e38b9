#include "util.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

clconv_ctx *test_ctx(void)
{
    clconv_ctx *ctx = NULL;
    clconv_status st = clconv_create(&ctx);
    cr_assert_eq(st, CLCONV_OK, "clconv_create: %s", clconv_status_name(st));
    cr_assert_not_null(ctx);
    return ctx;
}

test_rng test_rng_seed(uint64_t seed)
{
    test_rng r = {seed * 0x9E3779B97F4A7C15ull + 1};
    return r;
}

uint64_t test_rng_next(test_rng *r)
{
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

int64_t test_rng_int(test_rng *r, int64_t lo, int64_t hi)
{
    return lo + (int64_t)(test_rng_next(r) % (uint64_t)(hi - lo + 1));
}

void test_fill_random(test_rng *r, float *a, size_t n)
{
    for (size_t i = 0; i < n; i++)
        a[i] = (float)((double)(test_rng_next(r) >> 11) * 0x1.0p-52 - 1.0);
}

void test_fill_int(test_rng *r, float *a, size_t n, int lo, int hi)
{
    for (size_t i = 0; i < n; i++)
        a[i] = (float)test_rng_int(r, lo, hi);
}

void test_poison(float *a, size_t n)
{
    for (size_t i = 0; i < n; i++)
        a[i] = NAN;
}

void test_to_double(const float *a, double *out, size_t n)
{
    for (size_t i = 0; i < n; i++)
        out[i] = a[i];
}

double test_rel_err(const float *out, const double *ref, size_t n)
{
    double num = 0, den = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(out[i]))
            return INFINITY;
        double e = (double)out[i] - ref[i];
        num += e * e;
        den += ref[i] * ref[i];
    }
    return den > 0 ? sqrt(num / den) : sqrt(num);
}

void *test_alloc(size_t bytes)
{
    void *p = malloc(bytes ? bytes : 1);
    cr_assert_not_null(p, "out of host memory (%zu bytes)", bytes);
    return p;
}

const char *test_desc_str(const clconv_desc *d, char *buf, size_t cap)
{
    snprintf(buf, cap,
             "mb%lldg%lldic%lldih%lldiw%lldoc%lldkh%lldkw%lldsh%lldsw%lldph%lldpw%lld"
             "dh%llddw%lld",
             (long long)d->n, (long long)d->groups, (long long)d->c, (long long)d->h,
             (long long)d->w, (long long)d->k, (long long)d->r, (long long)d->s,
             (long long)d->stride_h, (long long)d->stride_w, (long long)d->pad_h,
             (long long)d->pad_w, (long long)(d->dilation_h - 1), (long long)(d->dilation_w - 1));
    return buf;
}

/* ---- layers ---------------------------------------------------------- */

int64_t test_out_len(int64_t in, int64_t k, int64_t stride, int64_t pad, int64_t dil)
{
    int64_t room = in + 2 * pad - (k - 1) * dil - 1;
    /* C division truncates toward zero: a negative room means no output */
    return room < 0 ? 0 : room / stride + 1;
}

int64_t test_pad_h_end(const clconv_desc *d)
{
    if (d->struct_size < CLCONV_DESC_SIZE_0_3 || d->pad_asymmetric != 1)
        return d->pad_h;
    return d->pad_h_end;
}

int64_t test_pad_w_end(const clconv_desc *d)
{
    if (d->struct_size < CLCONV_DESC_SIZE_0_3 || d->pad_asymmetric != 1)
        return d->pad_w;
    return d->pad_w_end;
}

int64_t test_out_len2(int64_t in, int64_t k, int64_t st, int64_t p0, int64_t p1, int64_t dil)
{
    int64_t room = in + p0 + p1 - (k - 1) * dil - 1;
    return room < 0 ? 0 : room / st + 1;
}

static int64_t out_h(const clconv_desc *d)
{
    return test_out_len2(d->h, d->r, d->stride_h, d->pad_h, test_pad_h_end(d), d->dilation_h);
}

static int64_t out_w(const clconv_desc *d)
{
    return test_out_len2(d->w, d->s, d->stride_w, d->pad_w, test_pad_w_end(d), d->dilation_w);
}

size_t test_x_elems(const clconv_desc *d) { return (size_t)(d->n * d->c * d->h * d->w); }

size_t test_w_elems(const clconv_desc *d)
{
    return (size_t)(d->k * (d->c / d->groups) * d->r * d->s);
}

size_t test_y_elems(const clconv_desc *d) { return (size_t)(d->n * d->k * out_h(d) * out_w(d)); }

double test_flops(const clconv_desc *d)
{
    return 2.0 * (double)test_y_elems(d) * (double)(d->c / d->groups) * (double)(d->r * d->s);
}

/* Channels and groups: plain half of the time, depthwise a fifth, else
 * 2-4 groups of random width (as many as max_ck allows). */
static void random_channels(test_rng *r, int64_t max_ck, clconv_desc *d)
{
    int64_t kind = test_rng_int(r, 0, 9);
    int64_t g = max_ck >= 2 ? test_rng_int(r, 2, max_ck < 4 ? max_ck : 4) : 1;
    if (kind < 5 || max_ck < 2) {
        d->groups = 1;
        d->c = test_rng_int(r, 1, max_ck);
        d->k = test_rng_int(r, 1, max_ck);
    } else if (kind < 7) {
        d->groups = d->c = d->k = test_rng_int(r, 1, max_ck);
    } else {
        d->groups = g;
        d->c = g * test_rng_int(r, 1, max_ck / g);
        d->k = g * test_rng_int(r, 1, max_ck / g);
    }
}

clconv_desc test_random_desc(test_rng *r, const test_layer_bounds *b)
{
    for (;;) {
        clconv_desc d;
        clconv_desc_init(&d, test_rng_int(r, 1, b->max_n), 1, test_rng_int(r, 1, b->max_hw),
                         test_rng_int(r, 1, b->max_hw), 1, test_rng_int(r, 1, b->max_rs),
                         test_rng_int(r, 1, b->max_rs));
        random_channels(r, b->max_ck, &d);
        d.stride_h = test_rng_int(r, 1, b->max_stride);
        d.stride_w = test_rng_int(r, 1, b->max_stride);
        d.pad_h = test_rng_int(r, 0, b->max_pad);
        d.pad_w = test_rng_int(r, 0, b->max_pad);
        d.dilation_h = test_rng_int(r, 1, b->max_dil);
        d.dilation_w = test_rng_int(r, 1, b->max_dil);
        if (out_h(&d) < 1 || out_w(&d) < 1 || test_flops(&d) > b->max_flops)
            continue; /* re-draw: no output, or too slow for the suite */
        return d;
    }
}

/* ---- device buffers ---------------------------------------------------- */

cl_mem test_buffer(clconv_ctx *ctx, size_t elems)
{
    cl_int err = CL_SUCCESS;
    cl_mem m = clCreateBuffer(clconv_cl_context(ctx), CL_MEM_READ_WRITE,
                              (elems ? elems : 1) * sizeof(float), NULL, &err);
    cr_assert(m && err == CL_SUCCESS, "clCreateBuffer(%zu floats): %d", elems, (int)err);
    return m;
}

void test_upload(clconv_ctx *ctx, cl_mem m, size_t off, const float *src, size_t n)
{
    if (n == 0)
        return;
    cl_int err = clEnqueueWriteBuffer(clconv_cl_queue(ctx), m, CL_TRUE, off * sizeof(float),
                                      n * sizeof(float), src, 0, NULL, NULL);
    cr_assert_eq(err, CL_SUCCESS, "clEnqueueWriteBuffer: %d", (int)err);
}

void test_download(clconv_ctx *ctx, cl_mem m, size_t off, float *dst, size_t n)
{
    if (n == 0)
        return;
    cl_int err = clEnqueueReadBuffer(clconv_cl_queue(ctx), m, CL_TRUE, off * sizeof(float),
                                     n * sizeof(float), dst, 0, NULL, NULL);
    cr_assert_eq(err, CL_SUCCESS, "clEnqueueReadBuffer: %d", (int)err);
}

cl_mem test_buffer_from(clconv_ctx *ctx, const float *src, size_t elems)
{
    cl_mem m = test_buffer(ctx, elems);
    if (src)
        test_upload(ctx, m, 0, src, elems);
    return m;
}

/* ---- comparisons ------------------------------------------------------ */

size_t test_first_diff(const float *a, const float *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (memcmp(&a[i], &b[i], sizeof a[i]))
            return i;
    return n;
}

size_t test_expect_exact(const float *out, const float *expect, size_t n, const char *what)
{
    size_t bad = 0;
    for (size_t i = 0; i < n; i++) {
        /* != is false for NaN on both sides, so test equality instead */
        if (!(out[i] == expect[i])) {
            cr_expect_fail("%s[%zu] = %g, expected %g", what, i, (double)out[i],
                           (double)expect[i]);
            bad++;
        }
    }
    return bad;
}

clconv_status test_host_pass(clconv_ctx *ctx, const clconv_desc *d, int pass, clconv_algo algo,
                             const float *a, const float *b, float *out, int accumulate,
                             const double *da, const double *db, double *ref)
{
    if (pass == 0) {
        clconv_ref_forward(d, da, db, ref);
        return clconv_forward_host(ctx, d, algo, a, b, out);
    }
    if (pass == 1) {
        clconv_ref_backward_data(d, da, db, ref);
        return clconv_backward_data_host(ctx, d, algo, a, b, out, accumulate);
    }
    clconv_ref_backward_filter(d, da, db, ref);
    return clconv_backward_filter_host(ctx, d, algo, a, b, out, accumulate);
}

size_t test_expect_same_values(const float *out, const double *want, size_t n, double tol,
                               const char *what)
{
    size_t bad = 0, nonfinite = 0;
    double num = 0, den = 0;
    for (size_t i = 0; i < n; i++) {
        const double o = out[i], e = want[i];
        const int same = isnan(e) ? isnan(o) : isinf(e) ? o == e : isfinite(o);
        nonfinite += !isfinite(e);
        if (!same) {
            if (bad < 4)
                cr_expect_fail("%s: element %zu is %g, expected %g", what, i, o, e);
            bad++;
        } else if (isfinite(e)) {
            num += (o - e) * (o - e);
            den += e * e;
        }
    }
    const double err = den > 0 ? sqrt(num / den) : sqrt(num);
    cr_expect(err <= tol, "%s: finite elements: rel err %g", what, err);
    if (bad > 4)
        cr_expect_fail("%s: %zu mismatched elements in all (of %zu)", what, bad, n);
    return nonfinite;
}
