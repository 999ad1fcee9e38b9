/* Large tensors, the cheap part that runs in CI: every size the host
 * computes past 32 bits must stay exact, so that a layer too big for its
 * buffers is refused rather than wrapped to a small size that passes.
 *   - descriptors whose element counts (or byte counts) exceed 2^32, with
 *     buffers just larger than the wrapped 32-bit size: BUFFER_TOO_SMALL;
 *   - offsets near 2^31, 2^32 and SIZE_MAX: TOO_LARGE or BUFFER_TOO_SMALL,
 *     exactly at the 64-bit boundary;
 *   - a tiny layer whose stride, padding and dilation exceed 2^32, run for
 *     real with every algorithm against the float64 reference (a kernel or
 *     host path that truncates a coordinate to 32 bits reads the wrong
 *     element); EXPLICIT's materialised scratch would have 2^32 rows, so
 *     its backward passes may answer DEVICE_LIMIT instead.
 * Nothing is written by a refused call: outputs hold a sentinel after it.
 * The real >2^31-element layers are `make test-large` (tests/large/). */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "util.h"

#define SENTINEL 12345.0f
#define TWO32 (INT64_C(1) << 32)

/* A buffer of n floats, all SENTINEL. */
static cl_mem sentinel_buffer(clconv_ctx *ctx, size_t n)
{
    float *h = test_alloc(n * sizeof(float));
    for (size_t i = 0; i < n; i++)
        h[i] = SENTINEL;
    cl_mem m = test_buffer_from(ctx, h, n);
    free(h);
    return m;
}

static void expect_sentinel(clconv_ctx *ctx, cl_mem m, size_t n, const char *what)
{
    float *h = test_alloc(n * sizeof(float));
    test_download(ctx, m, 0, h, n);
    size_t bad = 0;
    for (size_t i = 0; i < n; i++)
        bad += h[i] != SENTINEL;
    cr_expect_eq(bad, 0, "%s: %zu elements written by a refused call", what, bad);
    free(h);
}

/* Floats a 32-bit size computation would think the tensor needs: the
 * element count modulo 2^32 (when it has more bits) or the byte count
 * modulo 2^32, whichever is larger; the buffers get a few more than that. */
static size_t wrapped_floats(size_t elems)
{
    size_t by_elems = elems > UINT32_MAX ? (uint32_t)elems : 0;
    size_t by_bytes = (uint32_t)(elems * sizeof(float)) / sizeof(float);
    return (by_elems > by_bytes ? by_elems : by_bytes) + 16;
}

typedef struct big_case {
    const char *name;
    clconv_desc d;
} big_case;

/* One tensor per case beyond 2^32 elements (or 2^32 bytes); the others tiny. */
static big_case big_cases(int i)
{
    big_case c;
    switch (i) {
    case 0: /* x: 65537^2 elements; stride 65536 leaves a 2x2 output */
        c.name = "x beyond 2^32 elements";
        clconv_desc_init(&c.d, 1, 1, 65537, 65537, 1, 1, 1);
        c.d.stride_h = c.d.stride_w = 65536;
        break;
    case 1: /* y: padding makes a 1x1 input a 65537^2 output */
        c.name = "y beyond 2^32 elements";
        clconv_desc_init(&c.d, 1, 1, 1, 1, 1, 1, 1);
        c.d.pad_h = c.d.pad_w = 32768;
        break;
    case 2:
        c.name = "w beyond 2^32 elements";
        clconv_desc_init(&c.d, 1, 65537, 1, 1, 65537, 1, 1);
        break;
    default: /* 2^30 + 65537 elements: only the byte count passes 2^32 */
        c.name = "x beyond 2^32 bytes";
        clconv_desc_init(&c.d, 1, 1, 32769, 32769, 1, 1, 1);
        c.d.stride_h = c.d.stride_w = 32768;
    }
    return c;
}

Test(large, tensors_beyond_32_bits_are_too_small_for_wrapped_buffers)
{
    clconv_ctx *ctx = test_ctx();
    for (int i = 0; i < 4; i++) {
        big_case c = big_cases(i);
        size_t e[3];
        cr_assert_eq(clconv_tensor_elems(&c.d, &e[0], &e[1], &e[2]), CLCONV_OK, "%s", c.name);
        cr_assert(e[0] == test_x_elems(&c.d) && e[1] == test_w_elems(&c.d) &&
                      e[2] == test_y_elems(&c.d),
                  "%s: element counts differ from the test's", c.name);
        /* x, w, y buffers, each sized from the wrapped count */
        size_t n[3];
        cl_mem m[3];
        for (int t = 0; t < 3; t++) {
            n[t] = e[t] > UINT32_MAX / sizeof(float) ? wrapped_floats(e[t]) : e[t];
            m[t] = sentinel_buffer(ctx, n[t]);
        }
        const clconv_algo algos[] = {CLCONV_ALGO_AUTO, CLCONV_ALGO_EXPLICIT, CLCONV_ALGO_DIRECT};
        for (int a = 0; a < 3; a++) {
            clconv_algo al = algos[a];
            cr_expect_eq(clconv_forward(ctx, &c.d, al, m[0], 0, m[1], 0, m[2], 0, NULL),
                         CLCONV_BUFFER_TOO_SMALL, "%s: forward %s", c.name, clconv_algo_name(al));
            cr_expect_eq(clconv_backward_data(ctx, &c.d, al, m[2], 0, m[1], 0, m[0], 0, 0, NULL),
                         CLCONV_BUFFER_TOO_SMALL, "%s: bwd-data", c.name);
            cr_expect_eq(clconv_backward_filter(ctx, &c.d, al, m[0], 0, m[2], 0, m[1], 0, 1, NULL),
                         CLCONV_BUFFER_TOO_SMALL, "%s: bwd-filter", c.name);
        }
        if (e[2] > e[0]) /* y big: bias and upsample read it */
            cr_expect_eq(clconv_backward_bias(ctx, &c.d, m[2], 0, m[1], 0, 0, NULL),
                         CLCONV_BUFFER_TOO_SMALL, "%s: bias", c.name);
        if (e[1] > e[0]) /* w big: flip reads and writes it */
            cr_expect_eq(clconv_flip_filter(ctx, &c.d, m[1], 0, m[0], 0, NULL),
                         CLCONV_BUFFER_TOO_SMALL, "%s: flip", c.name);
        for (int t = 0; t < 3; t++) {
            expect_sentinel(ctx, m[t], n[t], c.name);
            clReleaseMemObject(m[t]);
        }
    }
    clconv_free(ctx);
}

/* ---- offsets ---- */

typedef struct off_case {
    size_t off;
    clconv_status want;
} off_case;

Test(large, offsets_near_32_and_64_bit_limits_are_refused_exactly)
{
    clconv_ctx *ctx = test_ctx();
    clconv_desc d;
    clconv_desc_init(&d, 2, 3, 5, 5, 4, 3, 3);
    size_t e[3] = {test_x_elems(&d), test_w_elems(&d), test_y_elems(&d)};
    cl_mem m[3];
    for (int t = 0; t < 3; t++)
        m[t] = sentinel_buffer(ctx, e[t] + 64);
    const char *names[3] = {"x", "w", "y"};
    for (int t = 0; t < 3; t++) {
        const size_t lim = SIZE_MAX / sizeof(float); /* most floats a size_t can count */
        const off_case cases[] = {
            {(size_t)1 << 31, CLCONV_BUFFER_TOO_SMALL},
            {(size_t)1 << 32, CLCONV_BUFFER_TOO_SMALL}, /* 0 if cut to 32 bits */
            {((size_t)1 << 32) - e[t], CLCONV_BUFFER_TOO_SMALL}, /* end exactly at 2^32 */
            {lim - e[t], CLCONV_BUFFER_TOO_SMALL},                  /* bytes = SIZE_MAX - 3 */
            {lim - e[t] + 1, CLCONV_TOO_LARGE},                     /* bytes overflow */
            {SIZE_MAX - e[t] + 1, CLCONV_TOO_LARGE},                /* offset + count = 0 */
            {SIZE_MAX, CLCONV_TOO_LARGE},
        };
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
            size_t off[3] = {0, 0, 0};
            off[t] = cases[i].off;
            clconv_status st = clconv_forward(ctx, &d, CLCONV_ALGO_DIRECT, m[0], off[0], m[1],
                                              off[1], m[2], off[2], NULL);
            cr_expect_eq(st, cases[i].want, "%s offset %zu: %s, want %s", names[t], cases[i].off,
                         clconv_status_name(st), clconv_status_name(cases[i].want));
        }
    }
    for (int t = 0; t < 3; t++) {
        expect_sentinel(ctx, m[t], e[t] + 64, names[t]);
        clReleaseMemObject(m[t]);
    }
    clconv_free(ctx);
}

/* ---- coordinates beyond 2^32, computed for real ---- */

/* Rows: R = 2 with dilation, padding and stride all D = 2^32 + 1, so
 * output row p reads input row (p + r - 1) * D: only p + r = 1 lands in
 * the 3-row input (row 0); a 32-bit D would be 1 and read rows 1 and 2.
 * Columns: an ordinary 3-wide, padding-1 convolution. */
static clconv_desc far_layer(void)
{
    clconv_desc d;
    clconv_desc_init(&d, 2, 2, 3, 5, 3, 2, 3);
    d.dilation_h = d.pad_h = d.stride_h = TWO32 + 1;
    d.pad_w = 1;
    return d;
}

/* Run one pass with fresh random inputs; 1 if it ran (and was checked),
 * 0 if the algorithm refused it with an allowed status. */
static int run_checked(clconv_ctx *ctx, const clconv_desc *d, clconv_algo algo, int pass,
                       uint64_t seed)
{
    size_t n[3] = {test_x_elems(d), test_w_elems(d), test_y_elems(d)};
    /* inputs and output of each pass, as indices into n: fwd x,w->y ... */
    static const int io[3][3] = {{0, 1, 2}, {2, 1, 0}, {0, 2, 1}};
    const int *k = io[pass];
    float *a = test_alloc(n[k[0]] * 4), *b = test_alloc(n[k[1]] * 4), *o = test_alloc(n[k[2]] * 4);
    double *ad = test_alloc(n[k[0]] * 8), *bd = test_alloc(n[k[1]] * 8);
    double *ref = test_alloc(n[k[2]] * 8);
    test_rng r = test_rng_seed(seed);
    test_fill_random(&r, a, n[k[0]]);
    test_fill_random(&r, b, n[k[1]]);
    test_to_double(a, ad, n[k[0]]);
    test_to_double(b, bd, n[k[1]]);
    clconv_status st, rs;
    test_poison(o, n[k[2]]);
    if (pass == 0) {
        rs = clconv_ref_forward(d, ad, bd, ref);
        st = clconv_forward_host(ctx, d, algo, a, b, o);
    } else if (pass == 1) {
        rs = clconv_ref_backward_data(d, ad, bd, ref);
        st = clconv_backward_data_host(ctx, d, algo, a, b, o, 0);
    } else {
        rs = clconv_ref_backward_filter(d, ad, bd, ref);
        st = clconv_backward_filter_host(ctx, d, algo, a, b, o, 0);
    }
    cr_assert_eq(rs, CLCONV_OK);
    double norm = 0;
    for (size_t i = 0; i < n[k[2]]; i++)
        norm += fabs(ref[i]);
    cr_assert_gt(norm, 0, "pass %d: the reference is all zero: the test could not fail", pass);
    int ran = 0;
    if (st == CLCONV_DEVICE_LIMIT && algo == CLCONV_ALGO_EXPLICIT && pass > 0) {
        cr_log_info("EXPLICIT pass %d: DEVICE_LIMIT (%s)", pass, clconv_last_error(ctx));
    } else if (st == CLCONV_BAD_ALGORITHM && algo == CLCONV_ALGO_GEMM) {
        /* GEMM does not implement this pass (yet) */
    } else {
        cr_expect_eq(st, CLCONV_OK, "%s pass %d: %s: %s", clconv_algo_name(algo), pass,
                     clconv_status_name(st), clconv_last_error(ctx));
        double err = test_rel_err(o, ref, n[k[2]]);
        cr_expect(st != CLCONV_OK || err <= TEST_TOL, "%s pass %d: rel err %g",
                  clconv_algo_name(algo), pass, err);
        ran = 1;
    }
    free(a), free(b), free(o), free(ad), free(bd), free(ref);
    return ran;
}

Test(large, strides_padding_and_dilation_beyond_2_32_compute_right)
{
    clconv_ctx *ctx = test_ctx();
    clconv_desc d = far_layer();
    int64_t p, q;
    cr_assert_eq(clconv_output_size(&d, &p, &q), CLCONV_OK);
    cr_assert(p == 2 && q == 5, "P %lld Q %lld", (long long)p, (long long)q);
    const clconv_algo algos[] = {CLCONV_ALGO_AUTO, CLCONV_ALGO_EXPLICIT, CLCONV_ALGO_DIRECT,
                                 CLCONV_ALGO_GEMM};
    int ran = 0;
    for (int a = 0; a < 4; a++)
        for (int pass = 0; pass < 3; pass++)
            ran += run_checked(ctx, &d, algos[a], pass, 100 + (uint64_t)(a * 3 + pass));
    cr_expect_geq(ran, 7, "only %d algorithm/pass pairs ran", ran);
    clconv_free(ctx);
}

Test(large, scratch_sizes_beyond_2_32_bytes_do_not_wrap)
{
    clconv_ctx *ctx = test_ctx();
    clconv_desc d = far_layer();
    /* EXPLICIT bwd-data: N*K*(H + (R-1)dh)*(W + (S-1)dw) + the flipped filter */
    const uint64_t hu = 3 + TWO32 + 1, wu = 5 + 2;
    const uint64_t want_d = (2 * 3 * hu * wu + test_w_elems(&d)) * sizeof(float);
    /* bwd-filter: N*K*((P-1)sh + 1)*((Q-1)sw + 1) */
    const uint64_t want_f = (2 * 3 * (TWO32 + 2) * 5) * sizeof(float);
    size_t got_d = 0, got_f = 0;
    cr_assert_eq(clconv_workspace_size(ctx, &d, CLCONV_PASS_BACKWARD_DATA, CLCONV_ALGO_EXPLICIT,
                                       &got_d),
                 CLCONV_OK);
    cr_assert_eq(clconv_workspace_size(ctx, &d, CLCONV_PASS_BACKWARD_FILTER, CLCONV_ALGO_EXPLICIT,
                                       &got_f),
                 CLCONV_OK);
    cr_expect_eq(got_d, want_d, "bwd-data scratch %zu, want %llu", got_d,
                 (unsigned long long)want_d);
    cr_expect_eq(got_f, want_f, "bwd-filter scratch %zu, want %llu", got_f,
                 (unsigned long long)want_f);
    clconv_free(ctx);
}
