#include "util.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

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
