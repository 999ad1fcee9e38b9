/* API basics: version, descriptor arithmetic on known layers, FLOP counts,
 * names, contexts (creation by selector, wrapping the caller's objects,
 * getters), events and workspace queries. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "util.h"

Test(api, version_macros_match_the_library)
{
    cr_expect_eq(clconv_version_number(), (unsigned)CLCONV_VERSION_NUMBER);
    cr_expect_str_eq(clconv_version_string(), CLCONV_VERSION_STRING);
    cr_expect_eq(CLCONV_VERSION_NUMBER,
                 CLCONV_VERSION_MAJOR * 10000 + CLCONV_VERSION_MINOR * 100 + CLCONV_VERSION_PATCH);
    char buf[32];
    snprintf(buf, sizeof buf, "%d.%d.%d", CLCONV_VERSION_MAJOR, CLCONV_VERSION_MINOR,
             CLCONV_VERSION_PATCH);
    cr_expect_str_eq(clconv_version_string(), buf);
}

Test(api, desc_init_defaults)
{
    clconv_desc d;
    memset(&d, 0x5a, sizeof d);
    clconv_desc_init(&d, 2, 3, 4, 5, 6, 7, 8);
    cr_expect(d.n == 2 && d.c == 3 && d.h == 4 && d.w == 5 && d.k == 6 && d.r == 7 && d.s == 8);
    cr_expect(d.stride_h == 1 && d.stride_w == 1, "stride 1");
    cr_expect(d.pad_h == 0 && d.pad_w == 0, "padding 0");
    cr_expect(d.dilation_h == 1 && d.dilation_w == 1, "dilation 1");
    cr_expect_eq(d.groups, 1);
}

/* One spatial dimension: input, kernel, stride, padding, dilation -> out. */
static const struct {
    int64_t in, k, st, pad, dil, out;
} known[] = {
    {3, 2, 1, 0, 1, 2},        /* worked example (a) */
    {5, 3, 2, 1, 1, 3},        /* worked example (b) */
    {5, 3, 2, 0, 1, 2},        /* (b) without padding */
    {224, 7, 2, 3, 1, 112},    /* ResNet-50 conv1 */
    {56, 3, 1, 1, 1, 56},      /* "same" 3x3 */
    {56, 3, 2, 1, 1, 28},      /* strided 3x3 */
    {56, 1, 1, 0, 1, 56},      /* 1x1 */
    {7, 3, 1, 0, 3, 1},        /* dilated extent 7 = input */
    {1, 1, 1, 3, 1, 7},        /* padding 3 > kernel 1 */
    {6, 3, 4, 0, 1, 1},        /* stride larger than what is left */
    {20, 2, 4, 0, 1, 5},       /* remainder 2 rows unused */
    {10, 3, 3, 2, 2, 4},       /* (10 + 4 - 5) / 3 + 1 */
    {5, 3, INT64_MAX, 0, 1, 1}, /* any stride leaves one output */
    {1, 7, 1, 3, 1, 1},        /* 7x7 over a single padded pixel */
};

Test(api, output_size_of_known_layers)
{
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
        /* the case in the rows, a fixed 9-wide 1-tap dimension across */
        clconv_desc d;
        clconv_desc_init(&d, 1, 1, known[i].in, 9, 1, known[i].k, 1);
        d.stride_h = known[i].st, d.pad_h = known[i].pad, d.dilation_h = known[i].dil;
        int64_t p = -1, q = -1;
        clconv_status st = clconv_output_size(&d, &p, &q);
        cr_expect(st == CLCONV_OK && p == known[i].out && q == 9, "case %zu rows: %s P=%lld Q=%lld",
                  i, clconv_status_name(st), (long long)p, (long long)q);
        /* and the same case across the columns */
        clconv_desc_init(&d, 1, 1, 9, known[i].in, 1, 1, known[i].k);
        d.stride_w = known[i].st, d.pad_w = known[i].pad, d.dilation_w = known[i].dil;
        st = clconv_output_size(&d, &p, &q);
        cr_expect(st == CLCONV_OK && p == 9 && q == known[i].out, "case %zu cols: %s P=%lld Q=%lld",
                  i, clconv_status_name(st), (long long)p, (long long)q);
    }
}

Test(api, tensor_elems_and_upsample_size)
{
    /* x 2x4x6x5, w 6x(4/2)x3x2, y 2x6x6x6 (padding 1) */
    clconv_desc d;
    clconv_desc_init(&d, 2, 4, 6, 5, 6, 3, 2);
    d.pad_h = d.pad_w = 1;
    d.groups = 2;
    size_t xe = 0, we = 0, ye = 0;
    cr_assert_eq(clconv_tensor_elems(&d, &xe, &we, &ye), CLCONV_OK);
    cr_expect_eq(xe, 240);
    cr_expect_eq(we, 72);
    cr_expect_eq(ye, 432);
    cr_expect_eq(clconv_tensor_elems(&d, NULL, &we, NULL), CLCONV_OK, "NULL outputs allowed");
    int64_t hu = 0, wu = 0;
    cr_assert_eq(clconv_upsample_pad_size(&d, &hu, &wu), CLCONV_OK);
    cr_expect(hu == 6 + 2 && wu == 5 + 1, "HU = H + (R-1)d: %lldx%lld", (long long)hu,
              (long long)wu);
    d.dilation_h = 2, d.dilation_w = 3, d.pad_h = 2, d.pad_w = 3;
    cr_assert_eq(clconv_upsample_pad_size(&d, &hu, &wu), CLCONV_OK);
    cr_expect(hu == 6 + 4 && wu == 5 + 3, "dilated: %lldx%lld", (long long)hu, (long long)wu);
}

Test(api, flops_of_known_layers)
{
    clconv_desc d;
    /* ResNet-50 conv1 at mb32: 2*32*64*3*7*7*112*112 */
    clconv_desc_init(&d, 32, 3, 224, 224, 64, 7, 7);
    d.stride_h = d.stride_w = 2, d.pad_h = d.pad_w = 3;
    cr_expect_eq(clconv_flops(&d), 7552892928.0);
    /* 3x3 c64 at 56, mb32: 2*32*64*64*9*56*56 */
    clconv_desc_init(&d, 32, 64, 56, 56, 64, 3, 3);
    d.pad_h = d.pad_w = 1;
    cr_expect_eq(clconv_flops(&d), 7398752256.0);
    /* depthwise: only C/groups = 1 channel per output: 2*1*32*1*9*10*10 */
    clconv_desc_init(&d, 1, 32, 10, 10, 32, 3, 3);
    d.pad_h = d.pad_w = 1, d.groups = 32;
    cr_expect_eq(clconv_flops(&d), 57600.0);
    /* worked example (b): 2*1*1*1*9*3*3 */
    clconv_desc_init(&d, 1, 1, 5, 5, 1, 3, 3);
    d.stride_h = d.stride_w = 2, d.pad_h = d.pad_w = 1;
    cr_expect_eq(clconv_flops(&d), 162.0);
    /* and the formula on the test side agrees */
    cr_expect_eq(test_flops(&d), 162.0);
    d.stride_h = 0; /* no layer, no work */
    cr_expect_eq(clconv_flops(&d), 0.0);
}

Test(api, algorithm_names)
{
    cr_expect_str_eq(clconv_algo_name(CLCONV_ALGO_AUTO), "auto");
    cr_expect_str_eq(clconv_algo_name(CLCONV_ALGO_EXPLICIT), "explicit");
    cr_expect_str_eq(clconv_algo_name(CLCONV_ALGO_DIRECT), "direct");
    cr_expect_str_eq(clconv_algo_name(CLCONV_ALGO_GEMM), "gemm");
    cr_expect_eq(CLCONV_ALGO_AUTO, 0, "AUTO is the zero value");
}

/* ---- contexts ----------------------------------------------------------- */

/* A forward pass of a small layer on ctx, checked against the reference. */
static void expect_forward_works(clconv_ctx *ctx)
{
    clconv_desc d;
    clconv_desc_init(&d, 1, 3, 5, 4, 2, 3, 2);
    d.pad_h = 1;
    const size_t xe = test_x_elems(&d), we = test_w_elems(&d), ye = test_y_elems(&d);
    float x[64], w[64], y[64];
    double xd[64], wd[64], yd[64];
    test_rng r = test_rng_seed(9);
    test_fill_int(&r, x, xe, -3, 3);
    test_fill_int(&r, w, we, -3, 3);
    test_poison(y, ye);
    test_to_double(x, xd, xe);
    test_to_double(w, wd, we);
    cr_assert_eq(clconv_ref_forward(&d, xd, wd, yd), CLCONV_OK);
    clconv_status st = clconv_forward_host(ctx, &d, CLCONV_ALGO_AUTO, x, w, y);
    cr_assert_eq(st, CLCONV_OK, "%s (%s)", clconv_status_name(st), clconv_last_error(ctx));
    for (size_t i = 0; i < ye; i++)
        cr_expect_eq(y[i], (float)yd[i], "y[%zu] = %g, want %g", i, (double)y[i], yd[i]);
}

Test(api, context_getters)
{
    clconv_ctx *ctx = test_ctx();
    cr_expect_not_null(clconv_cl_context(ctx));
    cr_expect_not_null(clconv_cl_device(ctx));
    cr_expect_not_null(clconv_cl_queue(ctx));
    cr_expect_not_null(strstr(clconv_device_name(ctx), " / "), "\"platform / device\": %s",
                      clconv_device_name(ctx));
    cr_expect_str_empty(clconv_last_error(ctx));
    cr_expect_eq(clconv_last_cl_error(ctx), CL_SUCCESS);
    cr_expect_not_null(clconv_build_log(ctx));
    /* the queue belongs to the context and device, and is in order */
    cl_context qc = NULL;
    cl_device_id qd = NULL;
    cl_command_queue_properties props = 0;
    cl_command_queue q = clconv_cl_queue(ctx);
    cr_assert_eq(clGetCommandQueueInfo(q, CL_QUEUE_CONTEXT, sizeof qc, &qc, NULL), CL_SUCCESS);
    cr_assert_eq(clGetCommandQueueInfo(q, CL_QUEUE_DEVICE, sizeof qd, &qd, NULL), CL_SUCCESS);
    cr_assert_eq(clGetCommandQueueInfo(q, CL_QUEUE_PROPERTIES, sizeof props, &props, NULL),
                 CL_SUCCESS);
    cr_expect_eq(qc, clconv_cl_context(ctx));
    cr_expect_eq(qd, clconv_cl_device(ctx));
    cr_expect_eq(props & CL_QUEUE_OUT_OF_ORDER_EXEC_MODE_ENABLE, 0);
    expect_forward_works(ctx);
    cr_expect_eq(clconv_finish(ctx), CLCONV_OK);
    clconv_free(ctx);
}

/* Selectors that must find the default device wherever the suite runs:
 * "0:0" style indices, and the device's own name in another case. */
Test(api, create_with_selectors)
{
    clconv_ctx *ctx = test_ctx();
    char name[256] = "";
    cr_assert_eq(clGetDeviceInfo(clconv_cl_device(ctx), CL_DEVICE_NAME, sizeof name, name, NULL),
                 CL_SUCCESS);
    /* a case-changed slice of the device name still matches */
    char sel[16] = "";
    size_t len = strlen(name) < 8 ? strlen(name) : 8;
    for (size_t i = 0; i < len; i++)
        sel[i] = (char)((name[i] >= 'a' && name[i] <= 'z') ? name[i] - 32
                        : (name[i] >= 'A' && name[i] <= 'Z') ? name[i] + 32 : name[i]);
    clconv_ctx *by_name = NULL;
    clconv_status st = clconv_create_with(sel, &by_name);
    cr_assert_eq(st, CLCONV_OK, "selector \"%s\" (from \"%s\"): %s", sel, name,
                 clconv_status_name(st));
    cr_assert_not_null(by_name);
    expect_forward_works(by_name);
    clconv_free(by_name);

    clconv_ctx *first = NULL;
    st = clconv_create_with("0:0", &first);
    cr_assert_eq(st, CLCONV_OK, "\"0:0\": %s", clconv_status_name(st));
    expect_forward_works(first);
    clconv_free(first);

    clconv_ctx *dflt = NULL;
    cr_expect_eq(clconv_create_with("", &dflt), CLCONV_OK, "\"\" means the default");
    cr_expect_eq(clconv_cl_device(dflt), clconv_cl_device(ctx), "same default device");
    clconv_free(dflt);
    dflt = NULL;
    cr_expect_eq(clconv_create_with(NULL, &dflt), CLCONV_OK, "NULL means the default");
    clconv_free(dflt);
    clconv_free(ctx);
}

/* CLCONV_DEVICE picks the device of clconv_create (the test runs in its
 * own process, so changing the environment is safe). */
Test(api, clconv_device_environment_variable)
{
    setenv("CLCONV_DEVICE", "no-such-device-xyz", 1);
    clconv_ctx *ctx = (clconv_ctx *)&ctx;
    cr_expect_eq(clconv_create(&ctx), CLCONV_DEVICE_NOT_FOUND);
    cr_expect_null(ctx);
    setenv("CLCONV_DEVICE", "0:0", 1);
    cr_assert_eq(clconv_create(&ctx), CLCONV_OK);
    expect_forward_works(ctx);
    clconv_free(ctx);
    unsetenv("CLCONV_DEVICE");
}

Test(api, create_from_the_callers_objects)
{
    clconv_ctx *owner = test_ctx();
    cl_context c = clconv_cl_context(owner);
    cl_device_id dev = clconv_cl_device(owner);
    cl_command_queue q = clconv_cl_queue(owner);
    clconv_ctx *wrap = NULL;
    cr_assert_eq(clconv_create_from(c, dev, q, &wrap), CLCONV_OK);
    cr_assert_not_null(wrap);
    cr_expect_eq(clconv_cl_context(wrap), c);
    cr_expect_eq(clconv_cl_queue(wrap), q);
    expect_forward_works(wrap);
    /* the library retained them: freeing the wrapper leaves owner's intact */
    clconv_free(wrap);
    expect_forward_works(owner);

    /* an out-of-order queue is refused (skip where the device has none) */
    cl_int err = CL_SUCCESS;
    cl_command_queue ooo =
        clCreateCommandQueue(c, dev, CL_QUEUE_OUT_OF_ORDER_EXEC_MODE_ENABLE, &err);
    if (ooo) {
        wrap = (clconv_ctx *)&wrap;
        cr_expect_eq(clconv_create_from(c, dev, ooo, &wrap), CLCONV_BAD_QUEUE);
        cr_expect_null(wrap);
        clReleaseCommandQueue(ooo);
    }
    /* a queue of another context is refused */
    clconv_ctx *other = test_ctx();
    wrap = (clconv_ctx *)&wrap;
    cr_expect_eq(clconv_create_from(c, dev, clconv_cl_queue(other), &wrap), CLCONV_BAD_QUEUE);
    cr_expect_null(wrap);
    clconv_free(other);
    expect_forward_works(owner);
    clconv_free(owner);
}

Test(api, events_and_workspace_queries)
{
    clconv_ctx *ctx = test_ctx();
    clconv_desc d;
    clconv_desc_init(&d, 2, 4, 7, 6, 4, 3, 3);
    d.stride_h = 2, d.pad_w = 1;
    const size_t xe = test_x_elems(&d), we = test_w_elems(&d), ye = test_y_elems(&d);
    float *h = test_alloc((xe + we + ye) * sizeof *h);
    test_rng r = test_rng_seed(5);
    test_fill_random(&r, h, xe + we + ye);
    cl_mem x = test_buffer_from(ctx, h, xe), w = test_buffer_from(ctx, h + xe, we);
    cl_mem y = test_buffer_from(ctx, h + xe + we, ye);
    const clconv_algo algos[] = {CLCONV_ALGO_AUTO, CLCONV_ALGO_EXPLICIT, CLCONV_ALGO_DIRECT};
    for (int a = 0; a < 3; a++) {
        for (int p = 0; p < CLCONV_PASS_COUNT_; p++) {
            size_t bytes = (size_t)-1;
            cr_expect_eq(clconv_workspace_size(ctx, &d, (clconv_pass)p, algos[a], &bytes),
                         CLCONV_OK);
            cr_expect_neq(bytes, (size_t)-1, "workspace_size set its result");
        }
        /* every pass hands back an event that completes */
        cl_event ev[4] = {NULL, NULL, NULL, NULL};
        cr_assert_eq(clconv_forward(ctx, &d, algos[a], x, 0, w, 0, y, 0, &ev[0]), CLCONV_OK);
        cr_assert_eq(clconv_backward_data(ctx, &d, algos[a], y, 0, w, 0, x, 0, 1, &ev[1]),
                     CLCONV_OK);
        cr_assert_eq(clconv_backward_filter(ctx, &d, algos[a], x, 0, y, 0, w, 0, 1, &ev[2]),
                     CLCONV_OK);
        cr_assert_eq(clconv_backward_bias(ctx, &d, y, 0, w, 0, 1, &ev[3]), CLCONV_OK);
        for (int i = 0; i < 4; i++) {
            cr_assert_not_null(ev[i], "%s: pass %d gave no event", clconv_algo_name(algos[a]), i);
            cr_expect_eq(clWaitForEvents(1, &ev[i]), CL_SUCCESS);
            cl_int status = -1;
            clGetEventInfo(ev[i], CL_EVENT_COMMAND_EXECUTION_STATUS, sizeof status, &status, NULL);
            cr_expect_eq(status, CL_COMPLETE);
            clReleaseEvent(ev[i]);
        }
    }
    cr_expect_eq(clconv_finish(ctx), CLCONV_OK);
    clReleaseMemObject(x), clReleaseMemObject(w), clReleaseMemObject(y);
    free(h);
    clconv_free(ctx);
}
