/* Every way a caller can get a call wrong returns its named status, writes
 * nothing (output buffers and host arrays are filled with a sentinel that
 * must survive), records a message in the context, and leaves the context
 * usable: each test ends with good calls checked against the reference. */
#include <criterion/criterion.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include "util.h"

#define SENTINEL 31337.5f
#define BIG_BUF 4096 /* floats: more than the base layer needs anywhere */

/* The valid layer every bad case starts from: grouped, padded, with
 * x 2x4x6x5 (240), w 6x2x3x2 (72), y 2x6x6x6 (432), dx-upsampled 2x6x8x6. */
static clconv_desc base_desc(void)
{
    clconv_desc d;
    clconv_desc_init(&d, 2, 4, 6, 5, 6, 3, 2);
    d.pad_h = d.pad_w = 1;
    d.groups = 2;
    return d;
}

static const clconv_algo all_algos[] = {CLCONV_ALGO_AUTO, CLCONV_ALGO_EXPLICIT,
                                        CLCONV_ALGO_DIRECT, CLCONV_ALGO_GEMM};
#define NALGOS (sizeof all_algos / sizeof all_algos[0])

/* ---- buffers ------------------------------------------------------------ */

static cl_mem sentinel_buf(clconv_ctx *ctx, size_t n)
{
    float *tmp = test_alloc(n * sizeof *tmp);
    for (size_t i = 0; i < n; i++)
        tmp[i] = SENTINEL;
    cl_mem m = test_buffer_from(ctx, tmp, n);
    free(tmp);
    return m;
}

static void expect_sentinel_host(const float *a, size_t n, const char *what)
{
    for (size_t i = 0; i < n; i++)
        if (!(a[i] == SENTINEL)) {
            cr_expect_fail("%s: element %zu written (%g) by a refused call", what, i,
                           (double)a[i]);
            return;
        }
}

static void expect_sentinel(clconv_ctx *ctx, cl_mem m, size_t n, const char *what)
{
    cr_assert_eq(clconv_finish(ctx), CLCONV_OK);
    float *tmp = test_alloc(n * sizeof *tmp);
    test_download(ctx, m, 0, tmp, n);
    expect_sentinel_host(tmp, n, what);
    free(tmp);
}

/* ---- the context still works ------------------------------------------ */

/* Forward and backward-data of the base layer with AUTO, checked against
 * the reference, and the error record cleared by the success. */
static void expect_usable(clconv_ctx *ctx)
{
    const clconv_desc d = base_desc();
    const size_t xe = test_x_elems(&d), we = test_w_elems(&d), ye = test_y_elems(&d);
    test_rng r = test_rng_seed(77);
    float *x = test_alloc(xe * sizeof *x), *w = test_alloc(we * sizeof *w);
    float *y = test_alloc(ye * sizeof *y), *dx = test_alloc(xe * sizeof *dx);
    double *xd = test_alloc(xe * sizeof *xd), *wd = test_alloc(we * sizeof *wd);
    double *yd = test_alloc(ye * sizeof *yd), *dxd = test_alloc(xe * sizeof *dxd);
    test_fill_random(&r, x, xe);
    test_fill_random(&r, w, we);
    test_to_double(x, xd, xe);
    test_to_double(w, wd, we);
    cr_assert_eq(clconv_ref_forward(&d, xd, wd, yd), CLCONV_OK);
    cl_mem xb = test_buffer_from(ctx, x, xe), wb = test_buffer_from(ctx, w, we);
    cl_mem yb = sentinel_buf(ctx, ye);
    clconv_status st = clconv_forward(ctx, &d, CLCONV_ALGO_AUTO, xb, 0, wb, 0, yb, 0, NULL);
    cr_assert_eq(st, CLCONV_OK, "context unusable after a refused call: %s (%s)",
                 clconv_status_name(st), clconv_last_error(ctx));
    cr_expect_str_empty(clconv_last_error(ctx), "success leaves the error record empty");
    test_download(ctx, yb, 0, y, ye);
    cr_expect_leq(test_rel_err(y, yd, ye), TEST_TOL, "forward after a refused call");
    /* backward-data of y itself (as dy) through the host call */
    test_to_double(y, yd, ye);
    cr_assert_eq(clconv_ref_backward_data(&d, yd, wd, dxd), CLCONV_OK);
    st = clconv_backward_data_host(ctx, &d, CLCONV_ALGO_AUTO, y, w, dx, 0);
    cr_assert_eq(st, CLCONV_OK, "%s (%s)", clconv_status_name(st), clconv_last_error(ctx));
    cr_expect_leq(test_rel_err(dx, dxd, xe), TEST_TOL, "backward-data after a refused call");
    clReleaseMemObject(xb), clReleaseMemObject(wb), clReleaseMemObject(yb);
    free(x), free(w), free(y), free(dx), free(xd), free(wd), free(yd), free(dxd);
}

/* ---- every call that takes a descriptor ------------------------------- */

/* All the calls that take a descriptor (or any one argument under test),
 * made with the given arguments; each must answer `want`.  Outputs hold
 * the sentinel and must keep it. */
typedef struct call_args {
    clconv_ctx *ctx;
    const clconv_desc *d;
    cl_mem x, w, dy, out;
} call_args;

static void expect_every_device_call(const call_args *a, clconv_status want, const char *why)
{
    clconv_status st;
    for (size_t i = 0; i < NALGOS; i++) {
        const clconv_algo al = all_algos[i];
        st = clconv_forward(a->ctx, a->d, al, a->x, 0, a->w, 0, a->out, 0, NULL);
        cr_expect_eq(st, want, "%s: forward %s: %s", why, clconv_algo_name(al),
                     clconv_status_name(st));
        for (int acc = 0; acc <= 1; acc++) {
            st = clconv_backward_data(a->ctx, a->d, al, a->dy, 0, a->w, 0, a->out, 0, acc, NULL);
            cr_expect_eq(st, want, "%s: backward-data %s acc %d: %s", why,
                         clconv_algo_name(al), acc, clconv_status_name(st));
            st = clconv_backward_filter(a->ctx, a->d, al, a->x, 0, a->dy, 0, a->out, 0, acc,
                                        NULL);
            cr_expect_eq(st, want, "%s: backward-filter %s acc %d: %s", why,
                         clconv_algo_name(al), acc, clconv_status_name(st));
        }
    }
    for (int acc = 0; acc <= 1; acc++) {
        st = clconv_backward_bias(a->ctx, a->d, a->dy, 0, a->out, 0, acc, NULL);
        cr_expect_eq(st, want, "%s: backward-bias: %s", why, clconv_status_name(st));
    }
    st = clconv_upsample_pad(a->ctx, a->d, a->dy, 0, a->out, 0, NULL);
    cr_expect_eq(st, want, "%s: upsample_pad: %s", why, clconv_status_name(st));
    st = clconv_flip_filter(a->ctx, a->d, a->w, 0, a->out, 0, NULL);
    cr_expect_eq(st, want, "%s: flip_filter: %s", why, clconv_status_name(st));
    if (a->ctx && want != CLCONV_OK)
        cr_expect_str_not_empty(clconv_last_error(a->ctx), "%s: no message recorded", why);
}

/* The host-array calls with valid arrays (the descriptor is what is
 * wrong); out must keep its sentinel. */
static void expect_every_host_call(clconv_ctx *ctx, const clconv_desc *d, clconv_status want,
                                   const char *why)
{
    static float in[BIG_BUF]; /* zeros: only read if a call wrongly runs */
    float *out = test_alloc(BIG_BUF * sizeof *out);
    for (size_t i = 0; i < BIG_BUF; i++)
        out[i] = SENTINEL;
    clconv_status st;
    for (size_t i = 0; i < NALGOS; i++) {
        const clconv_algo al = all_algos[i];
        st = clconv_forward_host(ctx, d, al, in, in, out);
        cr_expect_eq(st, want, "%s: forward_host %s: %s", why, clconv_algo_name(al),
                     clconv_status_name(st));
        for (int acc = 0; acc <= 1; acc++) {
            st = clconv_backward_data_host(ctx, d, al, in, in, out, acc);
            cr_expect_eq(st, want, "%s: backward_data_host %s: %s", why, clconv_algo_name(al),
                         clconv_status_name(st));
            st = clconv_backward_filter_host(ctx, d, al, in, in, out, acc);
            cr_expect_eq(st, want, "%s: backward_filter_host %s: %s", why,
                         clconv_algo_name(al), clconv_status_name(st));
        }
    }
    for (int acc = 0; acc <= 1; acc++) {
        st = clconv_backward_bias_host(ctx, d, in, out, acc);
        cr_expect_eq(st, want, "%s: backward_bias_host: %s", why, clconv_status_name(st));
    }
    expect_sentinel_host(out, BIG_BUF, why);
    free(out);
}

/* The descriptor queries and the reference: same status, outputs kept. */
static void expect_every_query(clconv_ctx *ctx, const clconv_desc *d, clconv_status want,
                               const char *why)
{
    int64_t p = -7, q = -7;
    size_t xe = 7, we = 7, ye = 7, bytes = 7;
    clconv_status st = clconv_desc_check(d);
    cr_expect_eq(st, want, "%s: desc_check: %s", why, clconv_status_name(st));
    st = clconv_output_size(d, &p, &q);
    cr_expect_eq(st, want, "%s: output_size: %s", why, clconv_status_name(st));
    st = clconv_tensor_elems(d, &xe, &we, &ye);
    cr_expect_eq(st, want, "%s: tensor_elems: %s", why, clconv_status_name(st));
    st = clconv_upsample_pad_size(d, &p, &q);
    cr_expect_eq(st, want, "%s: upsample_pad_size: %s", why, clconv_status_name(st));
    if (want != CLCONV_OK)
        cr_expect(p == -7 && q == -7 && xe == 7 && we == 7 && ye == 7,
                  "%s: a refused size query wrote its outputs", why);
    for (size_t i = 0; i < NALGOS; i++)
        for (int pass = 0; pass < CLCONV_PASS_COUNT_; pass++) {
            st = clconv_workspace_size(ctx, d, (clconv_pass)pass, all_algos[i], &bytes);
            cr_expect_eq(st, want, "%s: workspace_size pass %d %s: %s", why, pass,
                         clconv_algo_name(all_algos[i]), clconv_status_name(st));
        }
    if (want != CLCONV_OK)
        cr_expect_eq(bytes, 7, "%s: a refused workspace query wrote its output", why);
    static double in[BIG_BUF];
    double *out = test_alloc(BIG_BUF * sizeof *out);
    for (size_t i = 0; i < BIG_BUF; i++)
        out[i] = SENTINEL;
    cr_expect_eq(clconv_ref_forward(d, in, in, out), want, "%s: ref_forward", why);
    cr_expect_eq(clconv_ref_backward_data(d, in, in, out), want, "%s: ref_backward_data", why);
    cr_expect_eq(clconv_ref_backward_filter(d, in, in, out), want, "%s: ref_backward_filter",
                 why);
    cr_expect_eq(clconv_ref_backward_bias(d, in, out), want, "%s: ref_backward_bias", why);
    for (size_t i = 0; i < BIG_BUF && want != CLCONV_OK; i++)
        if (!(out[i] == SENTINEL)) {
            cr_expect_fail("%s: the reference wrote element %zu", why, i);
            break;
        }
    free(out);
}

/* ---- invalid descriptors ----------------------------------------------- */

#define F(field) offsetof(clconv_desc, field)
#define MAXSET 4
typedef struct bad_desc {
    const char *why;
    int nset;
    size_t field[MAXSET];
    int64_t value[MAXSET];
    clconv_status want;
} bad_desc;

#define ONE(why, f, v, st) {why, 1, {F(f)}, {v}, st}
static const bad_desc bad_descs[] = {
    ONE("n = 0", n, 0, CLCONV_BAD_SIZE),
    ONE("c = 0", c, 0, CLCONV_BAD_SIZE),
    ONE("h = 0", h, 0, CLCONV_BAD_SIZE),
    ONE("w = 0", w, 0, CLCONV_BAD_SIZE),
    ONE("k = 0", k, 0, CLCONV_BAD_SIZE),
    ONE("r = 0", r, 0, CLCONV_BAD_SIZE),
    ONE("s = 0", s, 0, CLCONV_BAD_SIZE),
    ONE("n = -1", n, -1, CLCONV_BAD_SIZE),
    ONE("c = -4", c, -4, CLCONV_BAD_SIZE),
    ONE("h = -1", h, -1, CLCONV_BAD_SIZE),
    ONE("w = INT64_MIN", w, INT64_MIN, CLCONV_BAD_SIZE),
    ONE("k = -6", k, -6, CLCONV_BAD_SIZE),
    ONE("r = -1", r, -1, CLCONV_BAD_SIZE),
    ONE("s = INT64_MIN", s, INT64_MIN, CLCONV_BAD_SIZE),
    ONE("stride_h = 0", stride_h, 0, CLCONV_BAD_STRIDE),
    ONE("stride_w = 0", stride_w, 0, CLCONV_BAD_STRIDE),
    ONE("stride_h = -2", stride_h, -2, CLCONV_BAD_STRIDE),
    ONE("stride_w = INT64_MIN", stride_w, INT64_MIN, CLCONV_BAD_STRIDE),
    ONE("pad_h = -1", pad_h, -1, CLCONV_BAD_PADDING),
    ONE("pad_w = -1", pad_w, -1, CLCONV_BAD_PADDING),
    ONE("pad_h = INT64_MIN", pad_h, INT64_MIN, CLCONV_BAD_PADDING),
    ONE("dilation_h = 0", dilation_h, 0, CLCONV_BAD_DILATION),
    ONE("dilation_w = 0", dilation_w, 0, CLCONV_BAD_DILATION),
    ONE("dilation_w = -3", dilation_w, -3, CLCONV_BAD_DILATION),
    ONE("groups = 0", groups, 0, CLCONV_BAD_GROUPS),
    ONE("groups = -2", groups, -2, CLCONV_BAD_GROUPS),
    ONE("groups = 3 does not divide C = 4", groups, 3, CLCONV_BAD_GROUPS),
    ONE("groups = 4 divides C = 4 but not K = 6", groups, 4, CLCONV_BAD_GROUPS),
    ONE("groups = 8 > C", groups, 8, CLCONV_BAD_GROUPS),
    ONE("c = 5 not divisible by groups = 2", c, 5, CLCONV_BAD_GROUPS),
    ONE("k = 7 not divisible by groups = 2", k, 7, CLCONV_BAD_GROUPS),
    ONE("r = 9 > h + 2p = 8", r, 9, CLCONV_EMPTY_OUTPUT),
    ONE("s = 8 > w + 2p = 7", s, 8, CLCONV_EMPTY_OUTPUT),
    ONE("dilated r: (3-1)*4+1 = 9 > 8", dilation_h, 4, CLCONV_EMPTY_OUTPUT),
    ONE("dilated s: (2-1)*7+1 = 8 > 7", dilation_w, 7, CLCONV_EMPTY_OUTPUT),
    {"no padding, h = 2 < r = 3", 2, {F(pad_h), F(h)}, {0, 2}, CLCONV_EMPTY_OUTPUT},
    {"n = c = h = w = 2^40", 4, {F(n), F(c), F(h), F(w)},
     {INT64_C(1) << 40, INT64_C(1) << 40, INT64_C(1) << 40, INT64_C(1) << 40}, CLCONV_TOO_LARGE},
    {"c = k = 2^33: filter 2^65 elements", 2, {F(c), F(k)},
     {INT64_C(1) << 33, INT64_C(1) << 33}, CLCONV_TOO_LARGE},
    {"n = k = 2^31, 1x1 spatial: y 2^62 elements", 4, {F(n), F(k), F(r), F(s)},
     {INT64_C(1) << 31, INT64_C(1) << 31, 1, 1}, CLCONV_TOO_LARGE},
    ONE("h = INT64_MAX", h, INT64_MAX, CLCONV_TOO_LARGE),
    ONE("w = INT64_MAX", w, INT64_MAX, CLCONV_TOO_LARGE),
    ONE("pad_h = INT64_MAX", pad_h, INT64_MAX, CLCONV_TOO_LARGE),
    ONE("pad_w = 2^62", pad_w, INT64_C(1) << 62, CLCONV_TOO_LARGE),
    ONE("dilation_h = 2^62", dilation_h, INT64_C(1) << 62, CLCONV_TOO_LARGE),
    ONE("dilation_w = INT64_MAX", dilation_w, INT64_MAX, CLCONV_TOO_LARGE),
    {"r = INT64_MAX with h = INT64_MAX", 2, {F(r), F(h)}, {INT64_MAX, INT64_MAX},
     CLCONV_TOO_LARGE},
};
#define NBAD (sizeof bad_descs / sizeof bad_descs[0])

static clconv_desc make_bad(const bad_desc *b)
{
    clconv_desc d = base_desc();
    for (int i = 0; i < b->nset; i++)
        memcpy((char *)&d + b->field[i], &b->value[i], sizeof(int64_t));
    return d;
}

Test(bad_input, descriptor_queries_and_reference)
{
    clconv_ctx *ctx = test_ctx();
    for (size_t i = 0; i < NBAD; i++) {
        clconv_desc d = make_bad(&bad_descs[i]);
        expect_every_query(ctx, &d, bad_descs[i].want, bad_descs[i].why);
    }
    const clconv_desc good = base_desc();
    expect_every_query(ctx, &good, CLCONV_OK, "the base layer");
    clconv_free(ctx);
}

Test(bad_input, descriptors_on_device_calls)
{
    clconv_ctx *ctx = test_ctx();
    cl_mem x = sentinel_buf(ctx, BIG_BUF), w = sentinel_buf(ctx, BIG_BUF);
    cl_mem dy = sentinel_buf(ctx, BIG_BUF), out = sentinel_buf(ctx, BIG_BUF);
    for (size_t i = 0; i < NBAD; i++) {
        clconv_desc d = make_bad(&bad_descs[i]);
        call_args a = {ctx, &d, x, w, dy, out};
        expect_every_device_call(&a, bad_descs[i].want, bad_descs[i].why);
        expect_every_host_call(ctx, &d, bad_descs[i].want, bad_descs[i].why);
    }
    expect_sentinel(ctx, out, BIG_BUF, "output buffer");
    expect_sentinel(ctx, x, BIG_BUF, "x buffer");
    expect_sentinel(ctx, dy, BIG_BUF, "dy buffer");
    expect_usable(ctx);
    clReleaseMemObject(x), clReleaseMemObject(w), clReleaseMemObject(dy),
        clReleaseMemObject(out);
    clconv_free(ctx);
}

/* ---- NULL arguments ----------------------------------------------------- */

Test(bad_input, null_context_descriptor_or_output)
{
    clconv_ctx *ctx = test_ctx();
    const clconv_desc d = base_desc();
    cl_mem x = sentinel_buf(ctx, BIG_BUF), w = sentinel_buf(ctx, BIG_BUF);
    cl_mem dy = sentinel_buf(ctx, BIG_BUF), out = sentinel_buf(ctx, BIG_BUF);
    const call_args no_ctx = {NULL, &d, x, w, dy, out}, no_desc = {ctx, NULL, x, w, dy, out};
    const call_args no_out = {ctx, &d, x, w, dy, NULL};
    expect_every_device_call(&no_ctx, CLCONV_NULL_ARGUMENT, "NULL ctx");
    expect_every_device_call(&no_desc, CLCONV_NULL_ARGUMENT, "NULL desc");
    expect_every_device_call(&no_out, CLCONV_NULL_ARGUMENT, "NULL output buffer");
    expect_every_host_call(NULL, &d, CLCONV_NULL_ARGUMENT, "NULL ctx (host)");
    expect_every_host_call(ctx, NULL, CLCONV_NULL_ARGUMENT, "NULL desc (host)");
    expect_sentinel(ctx, out, BIG_BUF, "output buffer");
    expect_usable(ctx);
    clReleaseMemObject(x), clReleaseMemObject(w), clReleaseMemObject(dy),
        clReleaseMemObject(out);
    clconv_free(ctx);
}

/* A NULL input buffer: every call that takes that input refuses. */
Test(bad_input, null_input_buffers)
{
    clconv_ctx *ctx = test_ctx();
    const clconv_desc d = base_desc();
    cl_mem x = sentinel_buf(ctx, BIG_BUF), w = sentinel_buf(ctx, BIG_BUF);
    cl_mem dy = sentinel_buf(ctx, BIG_BUF), out = sentinel_buf(ctx, BIG_BUF);
    const clconv_status N = CLCONV_NULL_ARGUMENT;
    clconv_status st;
    for (size_t i = 0; i < NALGOS; i++) {
        const clconv_algo al = all_algos[i];
        const char *an = clconv_algo_name(al);
        st = clconv_forward(ctx, &d, al, NULL, 0, w, 0, out, 0, NULL);
        cr_expect_eq(st, N, "forward %s, NULL x: %s", an, clconv_status_name(st));
        st = clconv_forward(ctx, &d, al, x, 0, NULL, 0, out, 0, NULL);
        cr_expect_eq(st, N, "forward %s, NULL w: %s", an, clconv_status_name(st));
        for (int acc = 0; acc <= 1; acc++) {
            st = clconv_backward_data(ctx, &d, al, NULL, 0, w, 0, out, 0, acc, NULL);
            cr_expect_eq(st, N, "backward-data %s, NULL dy: %s", an, clconv_status_name(st));
            st = clconv_backward_data(ctx, &d, al, dy, 0, NULL, 0, out, 0, acc, NULL);
            cr_expect_eq(st, N, "backward-data %s, NULL w: %s", an, clconv_status_name(st));
            st = clconv_backward_filter(ctx, &d, al, NULL, 0, dy, 0, out, 0, acc, NULL);
            cr_expect_eq(st, N, "backward-filter %s, NULL x: %s", an, clconv_status_name(st));
            st = clconv_backward_filter(ctx, &d, al, x, 0, NULL, 0, out, 0, acc, NULL);
            cr_expect_eq(st, N, "backward-filter %s, NULL dy: %s", an, clconv_status_name(st));
        }
    }
    for (int acc = 0; acc <= 1; acc++)
        cr_expect_eq(clconv_backward_bias(ctx, &d, NULL, 0, out, 0, acc, NULL), N, "bias");
    cr_expect_eq(clconv_upsample_pad(ctx, &d, NULL, 0, out, 0, NULL), N, "upsample_pad");
    cr_expect_eq(clconv_flip_filter(ctx, &d, NULL, 0, out, 0, NULL), N, "flip_filter");
    expect_sentinel(ctx, out, BIG_BUF, "output buffer");
    expect_usable(ctx);
    clReleaseMemObject(x), clReleaseMemObject(w), clReleaseMemObject(dy),
        clReleaseMemObject(out);
    clconv_free(ctx);
}

/* NULL host arrays: each convenience call refuses and writes nothing. */
Test(bad_input, null_host_arrays)
{
    clconv_ctx *ctx = test_ctx();
    const clconv_desc d = base_desc();
    static float in[BIG_BUF];
    float *out = test_alloc(BIG_BUF * sizeof *out);
    for (size_t i = 0; i < BIG_BUF; i++)
        out[i] = SENTINEL;
    const clconv_status N = CLCONV_NULL_ARGUMENT;
    const clconv_algo A = CLCONV_ALGO_AUTO;
    cr_expect_eq(clconv_forward_host(ctx, &d, A, NULL, in, out), N);
    cr_expect_eq(clconv_forward_host(ctx, &d, A, in, NULL, out), N);
    cr_expect_eq(clconv_forward_host(ctx, &d, A, in, in, NULL), N);
    for (int acc = 0; acc <= 1; acc++) {
        cr_expect_eq(clconv_backward_data_host(ctx, &d, A, NULL, in, out, acc), N);
        cr_expect_eq(clconv_backward_data_host(ctx, &d, A, in, NULL, out, acc), N);
        cr_expect_eq(clconv_backward_data_host(ctx, &d, A, in, in, NULL, acc), N);
        cr_expect_eq(clconv_backward_filter_host(ctx, &d, A, NULL, in, out, acc), N);
        cr_expect_eq(clconv_backward_filter_host(ctx, &d, A, in, NULL, out, acc), N);
        cr_expect_eq(clconv_backward_filter_host(ctx, &d, A, in, in, NULL, acc), N);
        cr_expect_eq(clconv_backward_bias_host(ctx, &d, NULL, out, acc), N);
        cr_expect_eq(clconv_backward_bias_host(ctx, &d, in, NULL, acc), N);
    }
    expect_sentinel_host(out, BIG_BUF, "host output");
    free(out);
    expect_usable(ctx);
    clconv_free(ctx);
}

/* NULL descriptors and result pointers of the queries and constructors. */
Test(bad_input, null_query_and_constructor_arguments)
{
    int64_t p = -7, q = -7;
    size_t e = 7, bytes = 7;
    const clconv_status N = CLCONV_NULL_ARGUMENT;
    cr_expect_eq(clconv_desc_check(NULL), N);
    cr_expect_eq(clconv_output_size(NULL, &p, &q), N);
    cr_expect_eq(clconv_tensor_elems(NULL, &e, &e, &e), N);
    cr_expect_eq(clconv_upsample_pad_size(NULL, &p, &q), N);
    cr_expect(p == -7 && q == -7 && e == 7, "a refused query wrote its outputs");
    cr_expect_eq(clconv_flops(NULL), 0.0, "flops of no layer");
    clconv_ctx *ctx = test_ctx();
    const clconv_desc d = base_desc();
    cr_expect_eq(clconv_workspace_size(ctx, NULL, CLCONV_PASS_FORWARD, CLCONV_ALGO_AUTO, &bytes),
                 N);
    cr_expect_eq(clconv_workspace_size(ctx, &d, CLCONV_PASS_FORWARD, CLCONV_ALGO_AUTO, NULL), N);
    cr_expect_eq(bytes, 7);
    cr_expect_eq(clconv_finish(NULL), N);
    cr_expect_eq(clconv_create(NULL), N);
    cr_expect_eq(clconv_create_with("cpu", NULL), N);
    clconv_ctx *out = (clconv_ctx *)&bytes; /* junk: must become NULL */
    cr_expect_eq(clconv_create_from(NULL, clconv_cl_device(ctx), clconv_cl_queue(ctx), &out), N);
    cr_expect_null(out, "create_from: *out not NULL after a refusal");
    out = (clconv_ctx *)&bytes;
    cr_expect_eq(clconv_create_from(clconv_cl_context(ctx), NULL, clconv_cl_queue(ctx), &out), N);
    cr_expect_null(out);
    out = (clconv_ctx *)&bytes;
    cr_expect_eq(clconv_create_from(clconv_cl_context(ctx), clconv_cl_device(ctx), NULL, &out), N);
    cr_expect_null(out);
    cr_expect_eq(clconv_create_from(clconv_cl_context(ctx), clconv_cl_device(ctx),
                                    clconv_cl_queue(ctx), NULL),
                 N);
    /* the getters of no context answer without crashing */
    cr_expect_null(clconv_cl_context(NULL));
    cr_expect_null(clconv_cl_queue(NULL));
    cr_expect_not_null(clconv_last_error(NULL));
    cr_expect_not_null(clconv_device_name(NULL));
    cr_expect_not_null(clconv_build_log(NULL));
    expect_usable(ctx);
    clconv_free(ctx);
}

/* ---- buffers too small ---------------------------------------------- */

/* For call `which`, operand `op` gets a buffer of `elems` floats used at
 * offset `off`; the other operands are ample. */
enum { C_FWD, C_DATA, C_FILTER, C_BIAS, C_UP, C_FLIP, NCALLS };
static const char *const call_names[NCALLS] = {"forward", "backward-data", "backward-filter",
                                               "backward-bias", "upsample_pad", "flip_filter"};

/* Operand sizes of each call: {first input, second input (0: none), output}. */
static void call_sizes(int which, size_t n[3])
{
    const clconv_desc d = base_desc();
    const size_t xe = test_x_elems(&d), we = test_w_elems(&d), ye = test_y_elems(&d);
    const size_t ue = (size_t)(d.n * d.k * (d.h + (d.r - 1)) * (d.w + (d.s - 1)));
    const size_t t[NCALLS][3] = {{xe, we, ye}, {ye, we, xe}, {xe, ye, we},
                                 {ye, 0, (size_t)d.k}, {ye, 0, ue}, {we, 0, we}};
    memcpy(n, t[which], sizeof t[which]);
}

static clconv_status make_call(clconv_ctx *ctx, int which, clconv_algo al, const cl_mem m[3],
                               const size_t off[3], int acc)
{
    const clconv_desc d = base_desc();
    switch (which) {
    case C_FWD: return clconv_forward(ctx, &d, al, m[0], off[0], m[1], off[1], m[2], off[2], NULL);
    case C_DATA:
        return clconv_backward_data(ctx, &d, al, m[0], off[0], m[1], off[1], m[2], off[2], acc,
                                    NULL);
    case C_FILTER:
        return clconv_backward_filter(ctx, &d, al, m[0], off[0], m[1], off[1], m[2], off[2], acc,
                                      NULL);
    case C_BIAS: return clconv_backward_bias(ctx, &d, m[0], off[0], m[2], off[2], acc, NULL);
    case C_UP: return clconv_upsample_pad(ctx, &d, m[0], off[0], m[2], off[2], NULL);
    default: return clconv_flip_filter(ctx, &d, m[0], off[0], m[2], off[2], NULL);
    }
}

/* Operand `op` of call `which` too small by one float, three ways: a
 * short buffer, an exact buffer used at offset 1, and a large buffer used
 * at an offset that leaves one float too few.  Then the exact fit passes. */
static void check_too_small(clconv_ctx *ctx, int which, int op)
{
    size_t n[3];
    call_sizes(which, n);
    if (n[op] == 0)
        return;
    const size_t big = 3 * n[op];
    struct { size_t size, off; const char *how; } ways[] = {
        {n[op] - 1, 0, "one float short"},
        {n[op], 1, "exact size at offset 1"},
        {big, big - n[op] + 1, "large buffer, offset one too far"},
        {n[op] + 5, 5, "exact fit at offset 5 (valid)"},
    };
    for (int wi = 0; wi < 4; wi++) {
        cl_mem m[3];
        size_t off[3] = {0, 0, 0};
        for (int i = 0; i < 3; i++)
            m[i] = sentinel_buf(ctx, i == op ? ways[wi].size : (n[i] ? n[i] + 8 : 1));
        off[op] = ways[wi].off;
        const int valid = wi == 3;
        const clconv_algo al = CLCONV_ALGO_AUTO; /* the others: below */
        for (int acc = 0; acc <= (which == C_FWD || which >= C_UP ? 0 : 1); acc++) {
            clconv_status st = make_call(ctx, which, al, m, off, acc);
            cr_expect_eq(st, valid ? CLCONV_OK : CLCONV_BUFFER_TOO_SMALL,
                         "%s, operand %d, %s: %s (%s)", call_names[which], op, ways[wi].how,
                         clconv_status_name(st), clconv_last_error(ctx));
            if (!valid)
                cr_expect_str_not_empty(clconv_last_error(ctx));
        }
        if (!valid) {
            char what[96];
            snprintf(what, sizeof what, "%s, operand %d, %s", call_names[which], op,
                     ways[wi].how);
            expect_sentinel(ctx, m[2], op == 2 ? ways[wi].size : n[2] + 8, what);
        }
        for (int i = 0; i < 3; i++)
            clReleaseMemObject(m[i]);
    }
    /* the explicit algorithms, too, refuse before they enqueue */
    if (which <= C_FILTER)
        for (size_t ai = 1; ai < NALGOS; ai++) {
            cl_mem m[3];
            size_t off[3] = {0, 0, 0};
            for (int i = 0; i < 3; i++)
                m[i] = sentinel_buf(ctx, i == op ? n[op] - 1 : n[i] + 8);
            clconv_status st = make_call(ctx, which, all_algos[ai], m, off, 1);
            cr_expect_eq(st, CLCONV_BUFFER_TOO_SMALL, "%s %s, operand %d one short: %s",
                         call_names[which], clconv_algo_name(all_algos[ai]), op,
                         clconv_status_name(st));
            expect_sentinel(ctx, m[2], op == 2 ? n[2] - 1 : n[2] + 8, "explicit algorithm");
            for (int i = 0; i < 3; i++)
                clReleaseMemObject(m[i]);
        }
}

Test(bad_input, buffers_too_small)
{
    clconv_ctx *ctx = test_ctx();
    for (int which = 0; which < NCALLS; which++)
        for (int op = 0; op < 3; op++)
            check_too_small(ctx, which, op);
    expect_usable(ctx);
    clconv_free(ctx);
}

/* A valid but enormous layer (x of 2^30 * 240 floats) with small buffers:
 * the buffer check refuses it before anything is allocated or enqueued. */
Test(bad_input, huge_valid_layer_with_small_buffers)
{
    clconv_ctx *ctx = test_ctx();
    clconv_desc d = base_desc();
    d.n = INT64_C(1) << 30;
    cr_assert_eq(clconv_desc_check(&d), CLCONV_OK, "valid, only large");
    cl_mem x = sentinel_buf(ctx, BIG_BUF), w = sentinel_buf(ctx, BIG_BUF);
    cl_mem dy = sentinel_buf(ctx, BIG_BUF), out = sentinel_buf(ctx, BIG_BUF);
    clconv_status st;
    for (size_t i = 0; i < NALGOS; i++) {
        st = clconv_forward(ctx, &d, all_algos[i], x, 0, w, 0, out, 0, NULL);
        cr_expect_eq(st, CLCONV_BUFFER_TOO_SMALL, "forward %s: %s",
                     clconv_algo_name(all_algos[i]), clconv_status_name(st));
        st = clconv_backward_data(ctx, &d, all_algos[i], dy, 0, w, 0, out, 0, 0, NULL);
        cr_expect_eq(st, CLCONV_BUFFER_TOO_SMALL, "backward-data %s: %s",
                     clconv_algo_name(all_algos[i]), clconv_status_name(st));
        st = clconv_backward_filter(ctx, &d, all_algos[i], x, 0, dy, 0, out, 0, 0, NULL);
        cr_expect_eq(st, CLCONV_BUFFER_TOO_SMALL, "backward-filter %s: %s",
                     clconv_algo_name(all_algos[i]), clconv_status_name(st));
    }
    st = clconv_backward_bias(ctx, &d, dy, 0, out, 0, 0, NULL);
    cr_expect_eq(st, CLCONV_BUFFER_TOO_SMALL, "bias: %s", clconv_status_name(st));
    st = clconv_upsample_pad(ctx, &d, dy, 0, out, 0, NULL);
    cr_expect_eq(st, CLCONV_BUFFER_TOO_SMALL, "upsample_pad: %s", clconv_status_name(st));
    expect_sentinel(ctx, out, BIG_BUF, "output buffer");
    expect_usable(ctx);
    clReleaseMemObject(x), clReleaseMemObject(w), clReleaseMemObject(dy),
        clReleaseMemObject(out);
    clconv_free(ctx);
}

/* A buffer of another OpenCL context is not a valid buffer here. */
Test(bad_input, buffer_of_another_context)
{
    clconv_ctx *ctx = test_ctx(), *other = test_ctx();
    const clconv_desc d = base_desc();
    cl_mem x = sentinel_buf(ctx, BIG_BUF), w = sentinel_buf(ctx, BIG_BUF);
    cl_mem foreign = sentinel_buf(other, BIG_BUF), out = sentinel_buf(ctx, BIG_BUF);
    clconv_status st = clconv_forward(ctx, &d, CLCONV_ALGO_AUTO, x, 0, foreign, 0, out, 0, NULL);
    cr_expect_eq(st, CLCONV_BAD_BUFFER, "foreign w: %s", clconv_status_name(st));
    st = clconv_forward(ctx, &d, CLCONV_ALGO_AUTO, x, 0, w, 0, foreign, 0, NULL);
    cr_expect_eq(st, CLCONV_BAD_BUFFER, "foreign y: %s", clconv_status_name(st));
    expect_sentinel(ctx, out, BIG_BUF, "output buffer");
    expect_sentinel(other, foreign, BIG_BUF, "foreign buffer");
    expect_usable(ctx);
    expect_usable(other);
    clReleaseMemObject(x), clReleaseMemObject(w), clReleaseMemObject(foreign),
        clReleaseMemObject(out);
    clconv_free(ctx);
    clconv_free(other);
}

/* ---- algorithms ------------------------------------------------------------ */

Test(bad_input, bad_algorithm_values)
{
    clconv_ctx *ctx = test_ctx();
    const clconv_desc d = base_desc();
    cl_mem x = sentinel_buf(ctx, BIG_BUF), w = sentinel_buf(ctx, BIG_BUF);
    cl_mem dy = sentinel_buf(ctx, BIG_BUF), out = sentinel_buf(ctx, BIG_BUF);
    float *hout = test_alloc(BIG_BUF * sizeof *hout);
    static float in[BIG_BUF];
    for (size_t i = 0; i < BIG_BUF; i++)
        hout[i] = SENTINEL;
    const clconv_algo bad[] = {CLCONV_ALGO_COUNT_, (clconv_algo)99, (clconv_algo)-1};
    const clconv_status B = CLCONV_BAD_ALGORITHM;
    size_t bytes = 7;
    for (int i = 0; i < 3; i++) {
        const clconv_algo al = bad[i];
        cr_expect_eq(clconv_forward(ctx, &d, al, x, 0, w, 0, out, 0, NULL), B, "algo %d", al);
        cr_expect_eq(clconv_backward_data(ctx, &d, al, dy, 0, w, 0, out, 0, 1, NULL), B);
        cr_expect_eq(clconv_backward_filter(ctx, &d, al, x, 0, dy, 0, out, 0, 1, NULL), B);
        cr_expect_str_not_empty(clconv_last_error(ctx));
        cr_expect_eq(clconv_forward_host(ctx, &d, al, in, in, hout), B);
        cr_expect_eq(clconv_backward_data_host(ctx, &d, al, in, in, hout, 1), B);
        cr_expect_eq(clconv_backward_filter_host(ctx, &d, al, in, in, hout, 0), B);
        for (int p = 0; p < CLCONV_PASS_COUNT_; p++)
            cr_expect_eq(clconv_workspace_size(ctx, &d, (clconv_pass)p, al, &bytes), B);
        cr_expect_str_eq(clconv_algo_name(al), "unknown");
    }
    cr_expect_eq(bytes, 7);
    expect_sentinel(ctx, out, BIG_BUF, "output buffer");
    expect_sentinel_host(hout, BIG_BUF, "host output");
    free(hout);
    expect_usable(ctx);
    clReleaseMemObject(x), clReleaseMemObject(w), clReleaseMemObject(dy),
        clReleaseMemObject(out);
    clconv_free(ctx);
}

/* ---- contexts and statuses ------------------------------------------------ */

Test(bad_input, unknown_device_selector)
{
    clconv_ctx *out = (clconv_ctx *)&out; /* junk: must become NULL */
    clconv_status st = clconv_create_with("no-such-device-xyz", &out);
    cr_expect_eq(st, CLCONV_DEVICE_NOT_FOUND, "%s", clconv_status_name(st));
    cr_expect_null(out, "*out must be NULL on error");
    out = (clconv_ctx *)&out;
    st = clconv_create_with("9:9", &out);
    cr_expect_eq(st, CLCONV_DEVICE_NOT_FOUND, "platform 9 device 9: %s", clconv_status_name(st));
    cr_expect_null(out);
    /* the process can still create and use a context afterwards */
    clconv_ctx *ctx = test_ctx();
    expect_usable(ctx);
    clconv_free(ctx);
}

Test(bad_input, free_null_is_a_no_op)
{
    clconv_free(NULL);
    clconv_ctx *ctx = test_ctx(); /* and the library still works */
    expect_usable(ctx);
    clconv_free(ctx);
}

Test(bad_input, every_status_has_its_name_and_sentence)
{
    static const struct {
        clconv_status st;
        const char *name, *msg;
    } list[] = {
#define ENTRY_(name, msg) {CLCONV_##name, "CLCONV_" #name, msg},
        CLCONV_STATUS_LIST(ENTRY_)
#undef ENTRY_
    };
    const int n = (int)(sizeof list / sizeof list[0]);
    cr_assert_eq(n, CLCONV_STATUS_COUNT_);
    cr_expect_eq(CLCONV_OK, 0);
    for (int i = 0; i < n; i++) {
        cr_expect_eq((int)list[i].st, i, "the enum follows the list");
        cr_expect_str_eq(clconv_status_name(list[i].st), list[i].name);
        cr_expect_str_eq(clconv_status_string(list[i].st), list[i].msg);
        cr_expect_str_not_empty(clconv_status_string(list[i].st));
        for (int j = 0; j < i; j++)
            cr_expect_str_neq(clconv_status_string(list[i].st), clconv_status_string(list[j].st),
                              "statuses %d and %d share a sentence", i, j);
    }
    const clconv_status out_of_range[] = {CLCONV_STATUS_COUNT_, (clconv_status)-1,
                                          (clconv_status)1000};
    for (int i = 0; i < 3; i++) {
        cr_expect_str_eq(clconv_status_name(out_of_range[i]), "CLCONV_UNKNOWN");
        cr_expect_not_null(clconv_status_string(out_of_range[i]));
        cr_expect_str_not_empty(clconv_status_string(out_of_range[i]));
    }
}
