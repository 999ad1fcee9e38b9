/* check.h - correctness helpers: random integer fills, the float64 CPU
 * reference of a pass (the forward's epilogue and deconvolutions
 * included), and the comparison benchdnn-style, in each storage type's
 * tolerance. */
#ifndef BENCH_CHECK_H
#define BENCH_CHECK_H

#include <stddef.h>
#include <stdint.h>

#include "clconv.h"
#include "passes.h"

/* An fp32 pass passes when ||out-ref||_2 / ||ref||_2 <= this (the plain
 * norm of out-ref when ref is all zero) and out has no NaN or Inf. */
#define BENCH_TOL 1e-5

/* The tolerance of a storage type: BENCH_TOL, plus for fp16 and bf16 the
 * unit roundoff of the one rounding each output element gets when stored
 * (2^-11, 2^-8): an element rounded to nearest is off by at most that
 * fraction of itself, so the norm of the errors is at most that fraction
 * of the norm (tests/feature_check.h's rule). */
double bench_tol(clconv_dtype t);

/* Integers in [-2, 2] (a fifth of them zero): every sum of products stays an
 * exact integer in fp32 while it is below 2^24, whatever the summation order. */
void bench_fill(uint64_t seed, float *a, size_t n);

/* The reference output of p's pass (BENCH_FWD ...), dense channels-first,
 * from the inputs' values in b (as stored: rounded to the storage type),
 * the forward's bias and post-ops applied; malloc'ed, *n its element
 * count.  A deconvolution's passes are those of the convolution whose
 * backward-data it is (forward: that backward-data; backward-data: its
 * forward; backward-filter: its backward-filter with x and dy exchanged).
 * NULL on failure with the status in *st (CLCONV_OUT_OF_HOST_MEMORY if an
 * allocation failed). */
double *bench_reference(const bench_problem *p, int pass, const bench_bufs *b, size_t *n,
                        clconv_status *st);

typedef struct bench_cmp {
    double rel_err, max_abs;
    size_t nonfinite;       /* NaN/Inf elements in out */
    size_t first_bad;       /* index of the first NaN/Inf or largest error */
    int passed;
} bench_cmp;

/* out against ref, passing within tol. */
void bench_compare(const float *out, const double *ref, size_t n, double tol, bench_cmp *c);

#endif
