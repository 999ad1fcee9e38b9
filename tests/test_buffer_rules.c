/* Issue 12, items 2, 3 and 9: what the library refuses about the caller's
 * buffers before it enqueues anything, and what a failed call leaves.
 *   - aliasing: an output sharing memory with another tensor of the call
 *     (same cl_mem at overlapping offsets, or sub-buffers of one parent, or
 *     USE_HOST_PTR buffers over one host array) is CLCONV_BAD_BUFFER with a
 *     message naming the two, and nothing is written; disjoint ranges of one
 *     buffer are fine and give the reference's answer;
 *   - access flags: an output that is CL_MEM_READ_ONLY, an input (or an
 *     accumulated output) that is CL_MEM_WRITE_ONLY, are BAD_BUFFER;
 *   - *event is NULL after every failed call; an unknown pass is
 *     CLCONV_BAD_PASS; clconv_create_from keeps its own reference on the
 *     device (a sub-device may be released by the caller). */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "util.h"

#define SENTINEL 3131.0f

static const clconv_algo algos[] = {CLCONV_ALGO_AUTO, CLCONV_ALGO_EXPLICIT, CLCONV_ALGO_DIRECT,
                                    CLCONV_ALGO_GEMM};
#define NALGOS (sizeof algos / sizeof algos[0])

/* 2x3x6x6 input, 4 filters 3x3, pad 1: x 216, w 108, y 288 floats. */
static clconv_desc layer(void)
{
    clconv_desc d;
    clconv_desc_init(&d, 2, 3, 6, 6, 4, 3, 3);
    d.pad_h = d.pad_w = 1;
    return d;
}

enum { XE = 216, WE = 108, YE = 288, BIG = 4096 };

static cl_mem filled(clconv_ctx *ctx, size_t n, cl_mem_flags flags, void *host)
{
    cl_int err;
    cl_mem m = clCreateBuffer(clconv_cl_context(ctx), flags, n * sizeof(float), host, &err);
    cr_assert(m && err == CL_SUCCESS, "clCreateBuffer: %d", (int)err);
    if (!host) {
        float *h = test_alloc(n * sizeof(float));
        for (size_t i = 0; i < n; i++)
            h[i] = SENTINEL;
        cl_int e = clEnqueueWriteBuffer(clconv_cl_queue(ctx), m, CL_TRUE, 0, n * sizeof(float), h,
                                        0, NULL, NULL);
        cr_assert_eq(e, CL_SUCCESS);
        free(h);
    }
    return m;
}

static void expect_untouched(clconv_ctx *ctx, cl_mem m, size_t n, const char *what)
{
    float *h = test_alloc(n * sizeof(float));
    test_download(ctx, m, 0, h, n);
    for (size_t i = 0; i < n; i++)
        if (h[i] != SENTINEL) {
            cr_expect_fail("%s: element %zu was written (%g)", what, i, h[i]);
            break;
        }
    free(h);
}

/* A refused call: BAD_BUFFER, the message names both tensors, *event is
 * NULL, and the context still runs a good call afterwards. */
static void expect_refused(clconv_ctx *ctx, clconv_status st, cl_event ev, const char *out,
                           const char *in, const char *why)
{
    cr_expect_eq(st, CLCONV_BAD_BUFFER, "%s: %s", why, clconv_status_name(st));
    cr_expect_null(ev, "%s: *event left set", why);
    const char *msg = clconv_last_error(ctx);
    cr_expect(strstr(msg, out) && strstr(msg, in), "%s: message names %s and %s: \"%s\"", why,
              out, in, msg);
}

#define GARBAGE ((cl_event)(uintptr_t)0xdeadbeef)

/* Every pass with its output over one of its inputs (same buffer). */
Test(buffer_rules, output_aliasing_an_input_is_refused)
{
    clconv_ctx *ctx = test_ctx();
    clconv_desc d = layer();
    cl_mem m = filled(ctx, BIG, CL_MEM_READ_WRITE, NULL);
    cl_mem other = filled(ctx, BIG, CL_MEM_READ_WRITE, NULL);
    for (size_t i = 0; i < NALGOS; i++) {
        const clconv_algo a = algos[i];
        cl_event ev = GARBAGE;
        /* y == x, same offset */
        clconv_status st = clconv_forward(ctx, &d, a, m, 0, other, 0, m, 0, &ev);
        expect_refused(ctx, st, ev, "y", "x", "forward y == x");
        /* y 37 floats into x */
        ev = GARBAGE;
        st = clconv_forward(ctx, &d, a, m, 0, other, 0, m, 37, &ev);
        expect_refused(ctx, st, ev, "y", "x", "forward y at x + 37");
        /* y over w (the filter) */
        ev = GARBAGE;
        st = clconv_forward(ctx, &d, a, other, 0, m, 100, m, 0, &ev);
        expect_refused(ctx, st, ev, "y", "w", "forward y over w");
        /* dx == dy */
        ev = GARBAGE;
        st = clconv_backward_data(ctx, &d, a, m, 0, other, 0, m, 0, 0, &ev);
        expect_refused(ctx, st, ev, "dx", "dy", "backward-data dx == dy");
        /* dw == x, dw == dy (also when accumulating) */
        ev = GARBAGE;
        st = clconv_backward_filter(ctx, &d, a, m, 0, other, 0, m, 0, 0, &ev);
        expect_refused(ctx, st, ev, "dw", "x", "backward-filter dw == x");
        ev = GARBAGE;
        st = clconv_backward_filter(ctx, &d, a, other, 0, m, 0, m, YE - 1, 1, &ev);
        expect_refused(ctx, st, ev, "dw", "dy", "backward-filter dw overlapping dy's last float");
    }
    cl_event ev = GARBAGE;
    clconv_status st = clconv_backward_bias(ctx, &d, m, 0, m, YE - 2, 0, &ev);
    expect_refused(ctx, st, ev, "db", "dy", "backward-bias db over dy");
    ev = GARBAGE;
    st = clconv_flip_filter(ctx, &d, m, 0, m, WE / 2, &ev);
    expect_refused(ctx, st, ev, "wf", "w", "flip_filter in place");
    ev = GARBAGE;
    st = clconv_upsample_pad(ctx, &d, m, 0, m, 0, &ev);
    expect_refused(ctx, st, ev, "out", "dy", "upsample_pad in place");
    clconv_finish(ctx);
    expect_untouched(ctx, m, BIG, "the aliased buffer");
    expect_untouched(ctx, other, BIG, "the other buffer");
    clReleaseMemObject(m);
    clReleaseMemObject(other);
    clconv_free(ctx);
}

/* Disjoint ranges of one buffer are three tensors, and the pass computes
 * the reference's result. */
Test(buffer_rules, disjoint_ranges_of_one_buffer_are_fine)
{
    clconv_ctx *ctx = test_ctx();
    clconv_desc d = layer();
    test_rng rng = test_rng_seed(1212);
    float x[XE], w[WE], y[YE];
    double dx[XE], dw[WE], ref[YE];
    test_fill_int(&rng, x, XE, -2, 2);
    test_fill_int(&rng, w, WE, -2, 2);
    test_to_double(x, dx, XE);
    test_to_double(w, dw, WE);
    cr_assert_eq(clconv_ref_forward(&d, dx, dw, ref), CLCONV_OK);
    for (size_t i = 0; i < NALGOS; i++) {
        cl_mem m = test_buffer(ctx, XE + WE + YE);
        test_upload(ctx, m, 0, x, XE);
        test_upload(ctx, m, XE, w, WE);
        test_poison(y, YE);
        test_upload(ctx, m, XE + WE, y, YE);
        clconv_status st = clconv_forward(ctx, &d, algos[i], m, 0, m, XE, m, XE + WE, NULL);
        cr_assert_eq(st, CLCONV_OK, "%s: %s", clconv_last_error(ctx), clconv_status_name(st));
        test_download(ctx, m, XE + WE, y, YE);
        cr_expect(test_rel_err(y, ref, YE) <= TEST_TOL, "%s", clconv_algo_name(algos[i]));
        clReleaseMemObject(m);
    }
    clconv_free(ctx);
}

static size_t base_align_floats(clconv_ctx *ctx)
{
    cl_uint bits = 0;
    cl_int err = clGetDeviceInfo(clconv_cl_device(ctx), CL_DEVICE_MEM_BASE_ADDR_ALIGN, sizeof bits,
                                 &bits, NULL);
    cr_assert_eq(err, CL_SUCCESS);
    return bits / 8 / sizeof(float);
}

static cl_mem sub_buffer(cl_mem parent, size_t origin_floats, size_t floats)
{
    cl_buffer_region reg = {origin_floats * sizeof(float), floats * sizeof(float)};
    cl_int err;
    cl_mem m = clCreateSubBuffer(parent, CL_MEM_READ_WRITE, CL_BUFFER_CREATE_TYPE_REGION, &reg, &err);
    cr_assert(m && err == CL_SUCCESS, "clCreateSubBuffer: %d", (int)err);
    return m;
}

/* Two sub-buffers of one parent that overlap, and a sub-buffer over its
 * parent; sub-buffers that do not overlap are fine. */
Test(buffer_rules, overlapping_sub_buffers_are_refused)
{
    clconv_ctx *ctx = test_ctx();
    clconv_desc d = layer();
    const size_t al = base_align_floats(ctx);
    cl_mem parent = filled(ctx, BIG + 4 * al, CL_MEM_READ_WRITE, NULL);
    cl_mem wbuf = filled(ctx, WE, CL_MEM_READ_WRITE, NULL);
    cl_mem xs = sub_buffer(parent, 0, XE + al);     /* x at its start */
    cl_mem ys = sub_buffer(parent, al, YE + al);    /* starts inside x's range */
    cl_event ev = GARBAGE;
    clconv_status st = clconv_forward(ctx, &d, CLCONV_ALGO_AUTO, xs, 0, wbuf, 0, ys, 0, &ev);
    expect_refused(ctx, st, ev, "y", "x", "forward with overlapping sub-buffers");
    ev = GARBAGE;
    st = clconv_forward(ctx, &d, CLCONV_ALGO_GEMM, parent, 0, wbuf, 0, ys, 0, &ev);
    expect_refused(ctx, st, ev, "y", "x", "forward with y a sub-buffer of x's buffer");
    ev = GARBAGE;
    st = clconv_backward_data(ctx, &d, CLCONV_ALGO_DIRECT, ys, 0, wbuf, 0, parent, al, 1, &ev);
    expect_refused(ctx, st, ev, "dx", "dy", "backward-data dx over dy's sub-buffer");
    clconv_finish(ctx);
    expect_untouched(ctx, parent, BIG + 4 * al, "the parent buffer");
    /* x's range [0, XE) and y from the next aligned origin past it */
    const size_t y_origin = (XE + al - 1) / al * al;
    cl_mem yd = sub_buffer(parent, y_origin, YE);
    st = clconv_forward(ctx, &d, CLCONV_ALGO_AUTO, xs, 0, wbuf, 0, yd, 0, NULL);
    cr_expect_eq(st, CLCONV_OK, "disjoint sub-buffers: %s", clconv_last_error(ctx));
    /* the same with y in x's sub-buffer at an offset past x: still disjoint */
    cl_mem big_sub = sub_buffer(parent, 0, XE + YE);
    st = clconv_forward(ctx, &d, CLCONV_ALGO_AUTO, parent, 0, wbuf, 0, big_sub, XE, NULL);
    cr_expect_eq(st, CLCONV_OK, "y in a sub-buffer past x: %s", clconv_last_error(ctx));
    clconv_finish(ctx);
    clReleaseMemObject(big_sub);
    clReleaseMemObject(yd);
    clReleaseMemObject(ys);
    clReleaseMemObject(xs);
    clReleaseMemObject(wbuf);
    clReleaseMemObject(parent);
    clconv_free(ctx);
}

/* Two CL_MEM_USE_HOST_PTR buffers over one host array are one memory. */
Test(buffer_rules, host_pointer_buffers_over_one_array_are_refused)
{
    clconv_ctx *ctx = test_ctx();
    clconv_desc d = layer();
    float *host = aligned_alloc(4096, BIG * sizeof(float));
    cr_assert_not_null(host);
    for (size_t i = 0; i < BIG; i++)
        host[i] = SENTINEL;
    cl_mem xb = filled(ctx, XE, CL_MEM_READ_WRITE | CL_MEM_USE_HOST_PTR, host);
    cl_mem yb = filled(ctx, YE, CL_MEM_READ_WRITE | CL_MEM_USE_HOST_PTR, host + 64);
    cl_mem wbuf = filled(ctx, WE, CL_MEM_READ_WRITE, NULL);
    cl_event ev = GARBAGE;
    clconv_status st = clconv_forward(ctx, &d, CLCONV_ALGO_AUTO, xb, 0, wbuf, 0, yb, 0, &ev);
    expect_refused(ctx, st, ev, "y", "x", "USE_HOST_PTR buffers over one array");
    clconv_finish(ctx);
    clReleaseMemObject(xb);
    clReleaseMemObject(yb);
    clReleaseMemObject(wbuf);
    for (size_t i = 0; i < BIG; i++)
        if (host[i] != SENTINEL) {
            cr_expect_fail("host element %zu written", i);
            break;
        }
    free(host);
    clconv_free(ctx);
}

/* READ_ONLY outputs and WRITE_ONLY inputs are refused; a WRITE_ONLY output
 * is fine unless the call accumulates into it (then it is read). */
Test(buffer_rules, access_flags_are_checked)
{
    clconv_ctx *ctx = test_ctx();
    clconv_desc d = layer();
    cl_mem ro = filled(ctx, BIG, CL_MEM_READ_ONLY, NULL);
    cl_mem wo = filled(ctx, BIG, CL_MEM_WRITE_ONLY, NULL);
    cl_mem rw = filled(ctx, BIG, CL_MEM_READ_WRITE, NULL);
    cl_mem rw2 = filled(ctx, BIG, CL_MEM_READ_WRITE, NULL);
    for (size_t i = 0; i < NALGOS; i++) {
        const clconv_algo a = algos[i];
        cl_event ev = GARBAGE;
        clconv_status st = clconv_forward(ctx, &d, a, rw, 0, rw2, 0, ro, 0, &ev);
        cr_expect_eq(st, CLCONV_BAD_BUFFER, "READ_ONLY y: %s", clconv_status_name(st));
        cr_expect(strstr(clconv_last_error(ctx), "READ_ONLY") != NULL, "%s", clconv_last_error(ctx));
        cr_expect_null(ev);
        st = clconv_forward(ctx, &d, a, wo, 0, rw2, 0, rw, 0, NULL);
        cr_expect_eq(st, CLCONV_BAD_BUFFER, "WRITE_ONLY x: %s", clconv_status_name(st));
        cr_expect(strstr(clconv_last_error(ctx), "WRITE_ONLY") != NULL, "%s", clconv_last_error(ctx));
        st = clconv_backward_data(ctx, &d, a, rw, 0, wo, 0, rw2, 0, 0, NULL);
        cr_expect_eq(st, CLCONV_BAD_BUFFER, "WRITE_ONLY w: %s", clconv_status_name(st));
        st = clconv_backward_filter(ctx, &d, a, rw, 0, rw2, 0, wo, 0, 1, NULL);
        cr_expect_eq(st, CLCONV_BAD_BUFFER, "accumulating into WRITE_ONLY dw: %s",
                     clconv_status_name(st));
        st = clconv_backward_filter(ctx, &d, a, ro, 0, rw2, 0, wo, 0, 0, NULL);
        cr_expect_eq(st, CLCONV_OK, "READ_ONLY x, WRITE_ONLY dw: %s", clconv_last_error(ctx));
    }
    clconv_status st = clconv_backward_bias(ctx, &d, rw, 0, ro, 0, 0, NULL);
    cr_expect_eq(st, CLCONV_BAD_BUFFER, "READ_ONLY db");
    st = clconv_flip_filter(ctx, &d, wo, 0, rw, 0, NULL);
    cr_expect_eq(st, CLCONV_BAD_BUFFER, "WRITE_ONLY w of flip_filter");
    clconv_finish(ctx);
    expect_untouched(ctx, ro, BIG, "the READ_ONLY buffer");
    clReleaseMemObject(ro);
    clReleaseMemObject(wo);
    clReleaseMemObject(rw);
    clReleaseMemObject(rw2);
    clconv_free(ctx);
}

/* Failures of every kind leave *event NULL, not the caller's garbage. */
Test(buffer_rules, failed_calls_clear_the_event)
{
    clconv_ctx *ctx = test_ctx();
    clconv_desc d = layer(), bad = layer();
    bad.stride_h = 0;
    cl_mem m = filled(ctx, BIG, CL_MEM_READ_WRITE, NULL);
    cl_mem m2 = filled(ctx, BIG, CL_MEM_READ_WRITE, NULL);
    cl_mem small = filled(ctx, 4, CL_MEM_READ_WRITE, NULL);
    cl_event ev = GARBAGE;
    cr_expect_eq(clconv_forward(ctx, &bad, CLCONV_ALGO_AUTO, m, 0, m2, 0, m, 0, &ev),
                 CLCONV_BAD_STRIDE);
    cr_expect_null(ev, "bad descriptor");
    ev = GARBAGE;
    cr_expect_eq(clconv_backward_data(ctx, &d, (clconv_algo)77, m, 0, m2, 0, small, 0, 0, &ev),
                 CLCONV_BAD_ALGORITHM);
    cr_expect_null(ev, "bad algorithm");
    ev = GARBAGE;
    cr_expect_eq(clconv_backward_filter(ctx, &d, CLCONV_ALGO_GEMM, m, 0, m2, 0, small, 0, 0, &ev),
                 CLCONV_BUFFER_TOO_SMALL);
    cr_expect_null(ev, "buffer too small");
    ev = GARBAGE;
    cr_expect_eq(clconv_backward_bias(ctx, &d, NULL, 0, m, 0, 0, &ev), CLCONV_NULL_ARGUMENT);
    cr_expect_null(ev, "NULL buffer");
    ev = GARBAGE;
    cr_expect_eq(clconv_forward(NULL, &d, CLCONV_ALGO_AUTO, m, 0, m2, 0, small, 0, &ev),
                 CLCONV_NULL_ARGUMENT);
    cr_expect_null(ev, "NULL context");
    ev = GARBAGE;
    cr_expect_eq(clconv_upsample_pad(ctx, NULL, m, 0, m2, 0, &ev), CLCONV_NULL_ARGUMENT);
    cr_expect_null(ev, "NULL descriptor");
    /* a good call sets an event that completes */
    ev = NULL;
    cr_assert_eq(clconv_forward(ctx, &d, CLCONV_ALGO_AUTO, m, 0, m2, 0, m2, WE, &ev), CLCONV_OK);
    cr_assert_not_null(ev);
    cr_expect_eq(clWaitForEvents(1, &ev), CL_SUCCESS);
    clReleaseEvent(ev);
    clReleaseMemObject(m);
    clReleaseMemObject(m2);
    clReleaseMemObject(small);
    clconv_free(ctx);
}

Test(buffer_rules, unknown_pass_has_its_own_status)
{
    clconv_ctx *ctx = test_ctx();
    clconv_desc d = layer();
    size_t bytes = 0;
    cr_expect_eq(clconv_workspace_size(ctx, &d, CLCONV_PASS_COUNT_, CLCONV_ALGO_AUTO, &bytes),
                 CLCONV_BAD_PASS);
    cr_expect_eq(clconv_workspace_size(ctx, &d, (clconv_pass)-1, CLCONV_ALGO_GEMM, &bytes),
                 CLCONV_BAD_PASS);
    cr_expect_str_eq(clconv_status_name(CLCONV_BAD_PASS), "CLCONV_BAD_PASS");
    clconv_free(ctx);
}

static cl_uint device_refs(cl_device_id dev)
{
    cl_uint n = 0;
    cr_assert_eq(clGetDeviceInfo(dev, CL_DEVICE_REFERENCE_COUNT, sizeof n, &n, NULL), CL_SUCCESS);
    return n;
}

/* A context wrapped around a sub-device keeps working after the caller
 * has released its own handles to the sub-device, context and queue. */
Test(buffer_rules, create_from_retains_a_sub_device)
{
    clconv_ctx *base = test_ctx();
    cl_device_id root = clconv_cl_device(base);
    cl_uint cus = 0;
    clGetDeviceInfo(root, CL_DEVICE_PARTITION_MAX_SUB_DEVICES, sizeof cus, &cus, NULL);
    const cl_device_partition_property props[] = {CL_DEVICE_PARTITION_EQUALLY, 1, 0};
    cl_device_id subs[64];
    cl_uint got = 0;
    cl_int perr = cus < 2 || cus > 64 ? CL_INVALID_VALUE
                                      : clCreateSubDevices(root, props, cus, subs, &got);
    if (perr != CL_SUCCESS || got < 1) {
        clconv_free(base);
        cr_skip_test("the device cannot be partitioned into sub-devices (%u, error %d)", cus,
                     (int)perr);
    }
    for (cl_uint i = 1; i < got; i++)
        clReleaseDevice(subs[i]);
    cl_device_id sub = subs[0];
    cl_int err;
    cl_context c = clCreateContext(NULL, 1, &sub, NULL, NULL, &err);
    cr_assert_eq(err, CL_SUCCESS);
    cl_command_queue q = clCreateCommandQueue(c, sub, 0, &err);
    cr_assert_eq(err, CL_SUCCESS);
    const cl_uint before = device_refs(sub);
    clconv_ctx *ctx = NULL;
    cr_assert_eq(clconv_create_from(c, sub, q, &ctx), CLCONV_OK);
    cr_expect_eq(device_refs(sub), before + 1, "create_from retains the device");
    clReleaseCommandQueue(q);
    clReleaseContext(c);
    clReleaseDevice(sub);
    clconv_desc d = layer();
    float x[XE], w[WE], y[YE];
    test_rng rng = test_rng_seed(3);
    test_fill_int(&rng, x, XE, -2, 2);
    test_fill_int(&rng, w, WE, -2, 2);
    cr_expect_eq(clconv_forward_host(ctx, &d, CLCONV_ALGO_AUTO, x, w, y), CLCONV_OK, "%s",
                 clconv_last_error(ctx));
    cr_expect_eq(clconv_cl_device(ctx), sub);
    clconv_free(ctx);
    clconv_free(base);
}
