/* Issue 12, item 1: strides up to INT64_MAX.  A stride larger than the
 * room the filter has to move in leaves one output position per axis; on
 * 0.1.0 GEMM backward-data overflowed 64-bit arithmetic with such strides
 * (writing outside dx, or leaving dx unwritten with status OK).  Every
 * algorithm of every pass must now agree with the float64 reference and
 * write nothing outside its output, at the boundaries (stride = room,
 * room + 1, room + 2: two and one output positions) and at the extremes
 * (INT64_MAX/3 + 1, INT64_MAX/3, 2^62, INT64_MAX - H + 2, INT64_MAX). */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "util.h"

#define GUARD 64            /* floats on each side of every device operand */
#define GUARD_VALUE 1717.5f

typedef enum { FWD, DATA, FILTER, NPASS } which_pass;
static const char *const pass_names[NPASS] = {"forward", "backward-data", "backward-filter"};
static const clconv_algo algos[] = {CLCONV_ALGO_AUTO, CLCONV_ALGO_EXPLICIT, CLCONV_ALGO_DIRECT,
                                    CLCONV_ALGO_GEMM};
#define NALGOS (sizeof algos / sizeof algos[0])

/* A device operand with GUARD sentinels on both sides, the tensor at GUARD. */
static cl_mem guarded(clconv_ctx *ctx, const float *src, size_t n)
{
    float *h = test_alloc((n + 2 * GUARD) * sizeof(float));
    for (size_t i = 0; i < n + 2 * GUARD; i++)
        h[i] = GUARD_VALUE;
    if (src)
        memcpy(h + GUARD, src, n * sizeof(float));
    else
        test_poison(h + GUARD, n);
    cl_mem m = test_buffer_from(ctx, h, n + 2 * GUARD);
    free(h);
    return m;
}

/* The output downloaded; the guards must have survived. */
static void fetch(clconv_ctx *ctx, cl_mem m, float *out, size_t n, const char *what)
{
    float *h = test_alloc((n + 2 * GUARD) * sizeof(float));
    test_download(ctx, m, 0, h, n + 2 * GUARD);
    for (size_t i = 0; i < GUARD; i++) {
        cr_expect_eq(h[i], GUARD_VALUE, "%s: wrote %zu floats before its output", what, GUARD - i);
        cr_expect_eq(h[GUARD + n + i], GUARD_VALUE, "%s: wrote float %zu past its output", what, i);
    }
    memcpy(out, h + GUARD, n * sizeof(float));
    free(h);
}

/* One pass and algorithm of d against the reference (inputs in [-2, 2]). */
static void check_pass(clconv_ctx *ctx, const clconv_desc *d, which_pass p, clconv_algo algo)
{
    size_t xe, we, ye;
    cr_assert_eq(clconv_tensor_elems(d, &xe, &we, &ye), CLCONV_OK);
    const size_t n_in[NPASS][2] = {{xe, we}, {ye, we}, {xe, ye}};
    const size_t n_out[NPASS] = {ye, xe, we};
    const size_t na = n_in[p][0], nb = n_in[p][1], no = n_out[p];
    test_rng rng = test_rng_seed(0x5171de + (uint64_t)p);
    float *a = test_alloc(na * sizeof(float)), *b = test_alloc(nb * sizeof(float));
    float *out = test_alloc(no * sizeof(float));
    test_fill_int(&rng, a, na, -2, 2);
    test_fill_int(&rng, b, nb, -2, 2);
    double *da = test_alloc(na * sizeof(double)), *db = test_alloc(nb * sizeof(double));
    double *ref = test_alloc(no * sizeof(double));
    test_to_double(a, da, na);
    test_to_double(b, db, nb);
    cl_mem ma = guarded(ctx, a, na), mb = guarded(ctx, b, nb), mo = guarded(ctx, NULL, no);
    clconv_status st;
    if (p == FWD) {
        st = clconv_forward(ctx, d, algo, ma, GUARD, mb, GUARD, mo, GUARD, NULL);
        cr_assert_eq(clconv_ref_forward(d, da, db, ref), CLCONV_OK);
    } else if (p == DATA) {
        st = clconv_backward_data(ctx, d, algo, ma, GUARD, mb, GUARD, mo, GUARD, 0, NULL);
        cr_assert_eq(clconv_ref_backward_data(d, da, db, ref), CLCONV_OK);
    } else {
        st = clconv_backward_filter(ctx, d, algo, ma, GUARD, mb, GUARD, mo, GUARD, 0, NULL);
        cr_assert_eq(clconv_ref_backward_filter(d, da, db, ref), CLCONV_OK);
    }
    char repro[CLCONV_DESC_STRING_MAX];
    clconv_desc_string(d, repro, sizeof repro);
    char what[CLCONV_DESC_STRING_MAX + 64];
    snprintf(what, sizeof what, "%s %s %s", repro, pass_names[p], clconv_algo_name(algo));
    cr_assert_eq(st, CLCONV_OK, "%s: %s (%s)", what, clconv_status_name(st), clconv_last_error(ctx));
    fetch(ctx, mo, out, no, what);
    double err = test_rel_err(out, ref, no);
    cr_expect(err <= TEST_TOL, "%s: relative error %g", what, err);
    clReleaseMemObject(ma);
    clReleaseMemObject(mb);
    clReleaseMemObject(mo);
    free(a), free(b), free(out), free(da), free(db), free(ref);
}

static void check_all(const clconv_desc *d)
{
    clconv_ctx *ctx = test_ctx();
    cr_assert_eq(clconv_desc_check(d), CLCONV_OK);
    for (int p = 0; p < NPASS; p++)
        for (size_t i = 0; i < NALGOS; i++)
            check_pass(ctx, d, (which_pass)p, algos[i]);
    clconv_free(ctx);
}

/* The depthwise layer: 1x2x5x5, 3x3, pad 1, 2 groups. */
static clconv_desc depthwise(int64_t stride_h, int64_t stride_w)
{
    clconv_desc d;
    clconv_desc_init(&d, 1, 2, 5, 5, 2, 3, 3);
    d.pad_h = d.pad_w = 1;
    d.groups = 2;
    d.stride_h = stride_h;
    d.stride_w = stride_w;
    return d;
}

static const int64_t extremes[] = {INT64_MAX / 3 + 1, INT64_MAX / 3, INT64_C(1) << 62,
                                   INT64_MAX - 5 + 2, INT64_MAX};
#define NEXTREMES (sizeof extremes / sizeof extremes[0])

Test(huge_strides, depthwise_extremes_every_pass, .timeout = 120)
{
    for (size_t i = 0; i < NEXTREMES; i++) {
        clconv_desc d = depthwise(extremes[i], 1);
        check_all(&d);
        d = depthwise(2, extremes[i]);
        check_all(&d);
    }
}

Test(huge_strides, dense_extremes_every_pass, .timeout = 120)
{
    for (size_t i = 0; i < NEXTREMES; i++) {
        clconv_desc d;
        clconv_desc_init(&d, 2, 3, 5, 6, 4, 3, 2);
        d.pad_h = 1;
        d.stride_h = extremes[i];
        d.stride_w = extremes[NEXTREMES - 1 - i];
        check_all(&d);
    }
}

/* The room of the layer is 5 + 2 - 3 = 4: strides 4 (two output
 * rows), 5 (one: the smallest stride the library may reduce to) and 6. */
Test(huge_strides, boundary_of_one_output_position, .timeout = 120)
{
    for (int64_t st = 3; st <= 6; st++) {
        int64_t p, q;
        clconv_desc d = depthwise(st, st);
        cr_assert_eq(clconv_output_size(&d, &p, &q), CLCONV_OK);
        cr_expect_eq(p, st <= 4 ? 2 : 1, "stride %lld: P = %lld", (long long)st, (long long)p);
        check_all(&d);
    }
    /* 1x1 unpadded with one row: GEMM's flat path must not take it as stride 1 */
    clconv_desc d;
    clconv_desc_init(&d, 2, 4, 3, 7, 5, 1, 1);
    d.stride_h = INT64_MAX;
    check_all(&d);
}

/* The reported size is the caller's layer: one output position, and the
 * descriptor string keeps the stride it was given. */
Test(huge_strides, queries_keep_the_callers_stride)
{
    clconv_desc d = depthwise(INT64_MAX, INT64_MAX);
    int64_t p = 0, q = 0;
    cr_assert_eq(clconv_output_size(&d, &p, &q), CLCONV_OK);
    cr_expect_eq(p, 1);
    cr_expect_eq(q, 1);
    char s[CLCONV_DESC_STRING_MAX];
    cr_assert_eq(clconv_desc_string(&d, s, sizeof s), CLCONV_OK);
    cr_expect(strstr(s, "sh9223372036854775807") != NULL, "%s", s);
    cr_expect_eq(clconv_flops(&d), 2.0 * 2 * 1 * 9);
}
