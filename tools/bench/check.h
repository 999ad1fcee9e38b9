/* check.h - correctness helpers: random integer fills, the float64 CPU
 * reference of a pass, and the comparison benchdnn-style. */
#ifndef BENCH_CHECK_H
#define BENCH_CHECK_H

#include <stddef.h>
#include <stdint.h>

#include "clconv.h"

/* An fp32 pass passes when ||out-ref||_2 / ||ref||_2 <= this (the plain
 * norm of out-ref when ref is all zero) and out has no NaN or Inf. */
#define BENCH_TOL 1e-5

/* Integers in [-2, 2] (a fifth of them zero): every sum of products stays an
 * exact integer in fp32 while it is below 2^24, whatever the summation order. */
void bench_fill(uint64_t seed, float *a, size_t n);

/* The reference output of pass (BENCH_FWD ...) from the fp32 inputs (those
 * the pass does not read may be NULL); malloc'ed, *n its element count.
 * NULL on failure with the status in *st (CLCONV_OUT_OF_HOST_MEMORY if the
 * allocation failed). */
double *bench_reference(const clconv_desc *d, int pass, const float *x, const float *w,
                        const float *dy, size_t *n, clconv_status *st);

/* FLOP the reference of a pass costs (what --ref-max-gflop bounds). */
double bench_reference_flop(const clconv_desc *d, int pass);

typedef struct bench_cmp {
    double rel_err, max_abs;
    size_t nonfinite;       /* NaN/Inf elements in out */
    size_t first_bad;       /* index of the first NaN/Inf or largest error */
    int passed;
} bench_cmp;

void bench_compare(const float *out, const double *ref, size_t n, bench_cmp *c);

#endif
