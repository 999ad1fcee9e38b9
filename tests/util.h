/* Shared helpers for the Criterion tests: device selection the same way as
 * users (CLCONV_DEVICE or the library's default), fresh random inputs, NaN
 * poisoning, and the relative-error check against the float64 reference. */
#ifndef CLCONV_TEST_UTIL_H
#define CLCONV_TEST_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include "clconv.h"

/* fp32 algorithms must meet ||out-ref||_2 / ||ref||_2 <= this. */
#define TEST_TOL 1e-5

/* A context on the default device; fails the test (with the library's
 * message) if none can be created. */
clconv_ctx *test_ctx(void);

/* Deterministic generator: splitmix64 state. */
typedef struct { uint64_t s; } test_rng;
test_rng test_rng_seed(uint64_t seed);
uint64_t test_rng_next(test_rng *r);
/* Uniform integer in [lo, hi]. */
int64_t test_rng_int(test_rng *r, int64_t lo, int64_t hi);
/* Uniform in [-1, 1). */
void test_fill_random(test_rng *r, float *a, size_t n);
/* Integer values in [lo, hi] (exact in fp32 sums while they stay < 2^24). */
void test_fill_int(test_rng *r, float *a, size_t n, int lo, int hi);
/* Every element NaN, so an element a kernel forgot to write fails. */
void test_poison(float *a, size_t n);
void test_to_double(const float *a, double *out, size_t n);
/* ||out-ref||_2 / ||ref||_2 (absolute norm if ref is all zero); +INFINITY
 * if any element of out is NaN or Inf. */
double test_rel_err(const float *out, const double *ref, size_t n);
/* Checked malloc (fails the test on NULL). */
void *test_alloc(size_t bytes);
/* "mb2ic3ih5iw5oc4kh3kw3sh2sw2ph1pw1dh0dw0g1" - a repro string for messages
 * (benchdnn's syntax, dilation 0-based). */
const char *test_desc_str(const clconv_desc *d, char *buf, size_t cap);

#endif
