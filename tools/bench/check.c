/* check.c - fills, the float64 reference of each pass, and comparison. */
#include "check.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "options.h"
#include "problem.h"

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

double bench_tol(clconv_dtype t)
{
    return t == CLCONV_F16 ? BENCH_TOL + ldexp(1.0, -11)
           : t == CLCONV_BF16 ? BENCH_TOL + ldexp(1.0, -8)
                              : BENCH_TOL;
}

static clconv_status conv_ref(const clconv_desc *d, int pass, const double *a, const double *b,
                              double *out)
{
    switch (pass) {
    case BENCH_FWD: return clconv_ref_forward(d, a, b, out);
    case BENCH_BWD_D: return clconv_ref_backward_data(d, a, b, out);
    case BENCH_BWD_W: return clconv_ref_backward_filter(d, a, b, out);
    default: return clconv_ref_backward_bias(d, a, out);
    }
}

/* db[k] = the sum of dy over n and the output's rows and columns. */
static void bias_sums(const bench_layout *dy, const double *v, double *db)
{
    const int64_t n = dy->dims[0], k = dy->dims[1], pq = dy->dims[2] * dy->dims[3];
    for (int64_t j = 0; j < k; j++) {
        double sum = 0;
        for (int64_t i = 0; i < n; i++)
            for (int64_t e = 0; e < pq; e++)
                sum += v[(i * k + j) * pq + e];
        db[j] = sum;
    }
}

/* A deconvolution's pass through the convolution conv (see check.h). */
static clconv_status deconv_ref(const clconv_desc *conv, const bench_bufs *bf, int pass,
                                const double *a, const double *b, double *out)
{
    switch (pass) {
    case BENCH_FWD: return clconv_ref_backward_data(conv, a, b, out);
    case BENCH_BWD_D: return clconv_ref_forward(conv, a, b, out);
    case BENCH_BWD_W: return clconv_ref_backward_filter(conv, b, a, out);
    default: bias_sums(&bf->t[BT_DY].lay, a, out); return CLCONV_OK;
    }
}

/* The forward's bias and post-ops on the convolution's sums. */
static void epilogue(const bench_problem *p, const bench_bufs *b, double *y)
{
    const bench_layout *l = &b->t[BT_Y].lay;
    const size_t pq = (size_t)(l->dims[2] * l->dims[3]), k = (size_t)l->dims[1];
    const float *old = b->t[BT_Y].val, *bias = b->t[BT_BIAS].val;
    for (size_t i = 0, n = b->t[BT_Y].elems; i < n; i++)
        y[i] = bench_post_ops_apply(&p->ops, y[i], p->ops.has_sum ? old[i] : 0.0,
                                    p->bias ? bias[(i / pq) % k] : 0.0);
}

double *bench_reference(const bench_problem *p, int pass, const bench_bufs *b, size_t *n,
                        clconv_status *st)
{
    bench_shape s;
    if ((*st = bench_problem_shape(p, &s)) != CLCONV_OK)
        return NULL;
    int in[3], o;
    bench_pass_tensors(p, pass, in, &o);
    const bench_tensor *ta = &b->t[in[0]], *tb = in[1] < BT_N ? &b->t[in[1]] : NULL;
    double *a = to_double(ta->val, ta->elems);
    double *bv = tb ? to_double(tb->val, tb->elems) : NULL;
    size_t nout = b->t[o].elems;
    double *out = malloc((nout ? nout : 1) * sizeof *out);
    *st = CLCONV_OUT_OF_HOST_MEMORY;
    if (a && out && (bv || !tb))
        *st = p->deconv ? deconv_ref(&s.conv, b, pass, a, bv, out)
                        : conv_ref(&p->d, pass, a, bv, out);
    free(a);
    free(bv);
    if (*st != CLCONV_OK) {
        free(out);
        return NULL;
    }
    if (pass == BENCH_FWD && (p->bias || bench_post_ops_any(&p->ops)))
        epilogue(p, b, out);
    *n = nout;
    return out;
}

void bench_compare(const float *out, const double *ref, size_t n, double tol, bench_cmp *c)
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
    c->passed = !c->nonfinite && c->rel_err <= tol;
}
