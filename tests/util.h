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

/* ---- layers ---------------------------------------------------------- */
/* Output rows/columns from the formula P = (H + 2p - (R-1)d - 1)/s + 1,
 * computed here rather than by the library; < 1 means no output. */
int64_t test_out_len(int64_t in, int64_t k, int64_t stride, int64_t pad, int64_t dil);
/* Bottom and right padding as the descriptor gives them (pad_h / pad_w
 * unless it has the 0.3 fields and pad_asymmetric is 1). */
int64_t test_pad_h_end(const clconv_desc *d);
int64_t test_pad_w_end(const clconv_desc *d);
/* The same with the begin and end paddings given apart. */
int64_t test_out_len2(int64_t in, int64_t k, int64_t stride, int64_t pad, int64_t pad_end,
                      int64_t dil);
/* Element counts of x, w and y from the descriptor's fields (no checks:
 * only for descriptors the caller knows to be valid). */
size_t test_x_elems(const clconv_desc *d);
size_t test_w_elems(const clconv_desc *d);
size_t test_y_elems(const clconv_desc *d);
/* 2*N*K*(C/g)*R*S*P*Q. */
double test_flops(const clconv_desc *d);

/* Bounds for test_random_desc. */
typedef struct test_layer_bounds {
    int64_t max_n, max_ck, max_hw, max_rs, max_stride, max_pad, max_dil;
    double max_flops;           /* per pass */
} test_layer_bounds;
/* A random layer within the bounds whose output is at least 1 x 1
 * (re-drawn until it is): groups are 1 half of the time, depthwise
 * (C = K = groups) a fifth, otherwise 2-4 groups; every size, stride,
 * padding and dilation is drawn independently per dimension. */
clconv_desc test_random_desc(test_rng *r, const test_layer_bounds *b);

/* ---- device buffers ---------------------------------------------------- */
/* A read-write buffer of `elems` floats on the context (fails the test on
 * error). */
cl_mem test_buffer(clconv_ctx *ctx, size_t elems);
/* Blocking copies of n floats at an offset counted in floats. */
void test_upload(clconv_ctx *ctx, cl_mem m, size_t off, const float *src, size_t n);
void test_download(clconv_ctx *ctx, cl_mem m, size_t off, float *dst, size_t n);
/* A buffer holding `elems` floats of src (NULL: uninitialised). */
cl_mem test_buffer_from(clconv_ctx *ctx, const float *src, size_t elems);

/* ---- comparisons ------------------------------------------------------ */
/* Index of the first element of a and b whose bit patterns differ, or n. */
size_t test_first_diff(const float *a, const float *b, size_t n);
/* Expect out[i] == expect[i] exactly for every i (integer-valued tests);
 * reports each mismatch with `what` and its index; returns mismatches. */
size_t test_expect_exact(const float *out, const float *expect, size_t n, const char *what);

/* Element by element: NaN exactly where want is NaN, Inf of want's sign
 * where it is Inf, finite where it is finite, and the finite elements
 * within tol (relative 2-norm over them).  Reports the first few
 * mismatches and their count; returns how many elements of want are not
 * finite. */
size_t test_expect_same_values(const float *out, const double *want, size_t n, double tol,
                               const char *what);

/* ---- one pass through the host-array calls ---------------------------- */
/* Pass 0 forward (a = x, b = w), 1 backward-data (dy, w), 2
 * backward-filter (x, dy) of d with algo into out (accumulate: added to
 * it), and the float64 reference of the same pass from da, db into ref.
 * Returns the library's status. */
clconv_status test_host_pass(clconv_ctx *ctx, const clconv_desc *d, int pass, clconv_algo algo,
                             const float *a, const float *b, float *out, int accumulate,
                             const double *da, const double *db, double *ref);

#endif
