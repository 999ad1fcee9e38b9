/* One pass of a layer in any data type and layout, with an optional fused
 * epilogue, on the device against the float64 reference (issue 7).
 *
 * The reference sees exactly the values the device stores: inputs are
 * drawn in fp32, rounded to the layer's storage type (round to nearest
 * even), and the float64 reference runs on those, in NCHW / KCRS; the
 * device gets the same values packed in the descriptor's layouts.  Every
 * tensor sits at a non-zero offset inside a buffer with guard elements
 * after it; the output (and its guards) starts as NaN unless the call
 * reads it (accumulate, or an epilogue with beta != 0), so an unwritten
 * element, or one written out of place, fails.
 *
 * Tolerance: ||out - ref||_2 / ||ref||_2 within feature_tol(dtype): the
 * fp32 bar 1e-5, plus, for fp16 and bf16, the unit roundoff of the one
 * rounding each output element gets when stored (2^-11 and 2^-8: an
 * element rounded to nearest is off by at most that fraction of itself,
 * so the norm of the errors is at most that fraction of the norm). */
#ifndef CLCONV_FEATURE_CHECK_H
#define CLCONV_FEATURE_CHECK_H

#include <stdint.h>
#include "util.h"

double feature_tol(clconv_dtype t);

/* fp32 <-> storage bits, round to nearest even (NaN stays NaN). */
uint16_t test_f32_to_f16(float f);
float test_f16_to_f32(uint16_t h);
uint16_t test_f32_to_bf16(float f);
float test_bf16_to_f32(uint16_t b);

/* Pack n0 x n1 x n2 x n3 values given in that (channels-first) order into
 * storage of type t, channels-last (n0 n2 n3 n1) when cl; each value is
 * rounded to t and the rounded value written back into v. */
void test_pack(double *v, const int64_t dims[4], int cl, clconv_dtype t, void *dst);
/* The inverse: storage of type t (channels-last when cl) to doubles in
 * channels-first order. */
void test_unpack(const void *src, const int64_t dims[4], int cl, clconv_dtype t, double *v);

typedef struct feature_case {
    clconv_desc d;              /* a full 0.3 descriptor (clconv_desc_init, then fields) */
    int pass;                   /* 0 forward, 1 backward-data, 2 backward-filter */
    clconv_algo algo;
    int accumulate;             /* backward passes: add to the old output */
    /* forward only: run clconv_forward_fused with this epilogue (its bias
     * buffer is made by the harness when use_bias); NULL: clconv_forward */
    const clconv_epilogue *ep;
    int use_bias;
} feature_case;

typedef struct feature_result {
    clconv_status st;           /* the call's status (err is NaN unless OK) */
    double err;                 /* relative L2 error against the reference */
    double tol;                 /* feature_tol(dtype) */
    int guards_ok;              /* the output's guard elements kept their NaN */
} feature_result;

/* Run the case with fresh random inputs drawn from seed. */
feature_result feature_run(clconv_ctx *ctx, const feature_case *c, uint64_t seed);
/* cr_expect that r passed (status OK, err <= tol, guards intact), with the
 * case written out (desc string, pass, algo, dtype, layouts, epilogue). */
void feature_expect_ok(const feature_case *c, const feature_result *r);

/* The float64 epilogue on one value (act(alpha*acc + beta*old + bias)). */
double feature_epilogue_ref(const clconv_epilogue *ep, double acc, double old, double bias);

#endif
