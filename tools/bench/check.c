/* check.c - fills, the float64 reference of each pass, and comparison. */
#include "check.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "options.h"

static uint64_t splitmix(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

void bench_fill(uint64_t seed, float *a, size_t n)
{
    uint64_t s = seed;
    for (size_t i = 0; i < n; i++)
        a[i] = (float)((int)(splitmix(&s) % 5) - 2);
}

static double *to_double(const float *a, size_t n)
{
    double *d = malloc((n ? n : 1) * sizeof *d);
    if (d)
        for (size_t i = 0; i < n; i++)
            d[i] = a[i];
    return d;
}

double bench_reference_flop(const clconv_desc *d, int pass)
{
    if (pass != BENCH_BWD_B)
        return clconv_flops(d);
    size_t y = 0;
    return clconv_tensor_elems(d, NULL, NULL, &y) == CLCONV_OK ? (double)y : 0.0;
}

static clconv_status run_ref(const clconv_desc *d, int pass, const double *a, const double *b,
                             double *out)
{
    switch (pass) {
    case BENCH_FWD: return clconv_ref_forward(d, a, b, out);
    case BENCH_BWD_D: return clconv_ref_backward_data(d, a, b, out);
    case BENCH_BWD_W: return clconv_ref_backward_filter(d, a, b, out);
    default: return clconv_ref_backward_bias(d, a, out);
    }
}

double *bench_reference(const clconv_desc *d, int pass, const float *x, const float *w,
                        const float *dy, size_t *n, clconv_status *st)
{
    size_t nx = 0, nw = 0, ny = 0;
    if ((*st = clconv_tensor_elems(d, &nx, &nw, &ny)) != CLCONV_OK)
        return NULL;
    /* inputs a, b and output sizes of each pass */
    const float *fa[BENCH_NPASS] = {x, dy, x, dy};
    const float *fb[BENCH_NPASS] = {w, w, dy, NULL};
    size_t na[BENCH_NPASS] = {nx, ny, nx, ny}, nb[BENCH_NPASS] = {nw, nw, ny, 0};
    size_t nout[BENCH_NPASS] = {ny, nx, nw, (size_t)d->k};
    double *a = to_double(fa[pass], na[pass]);
    double *b = fb[pass] ? to_double(fb[pass], nb[pass]) : NULL;
    double *out = malloc((nout[pass] ? nout[pass] : 1) * sizeof *out);
    *st = CLCONV_OUT_OF_HOST_MEMORY;
    if (a && out && (b || !fb[pass]))
        *st = run_ref(d, pass, a, b, out);
    free(a);
    free(b);
    if (*st != CLCONV_OK) {
        free(out);
        return NULL;
    }
    *n = nout[pass];
    return out;
}

void bench_compare(const float *out, const double *ref, size_t n, bench_cmp *c)
{
    double num = 0, den = 0;
    memset(c, 0, sizeof *c);
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(out[i])) {
            if (c->nonfinite++ == 0)
                c->first_bad = i;
            continue;
        }
        double e = fabs((double)out[i] - ref[i]);
        if (e > c->max_abs) {
            c->max_abs = e;
            if (!c->nonfinite)
                c->first_bad = i;
        }
        num += e * e;
        den += ref[i] * ref[i];
    }
    c->rel_err = c->nonfinite ? INFINITY : den > 0 ? sqrt(num / den) : sqrt(num);
    c->passed = !c->nonfinite && c->rel_err <= BENCH_TOL;
}
