/* Issue 7's features through every algorithm and pass, against the float64
 * reference (tests/feature_check.h): data types, layouts, asymmetric
 * padding and the fused epilogue.  Each algorithm's share is listed where
 * it claims it; what it does not claim must be refused with
 * CLCONV_NOT_SUPPORTED and nothing written. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include "feature_check.h"

static const clconv_algo all_algos[] = {CLCONV_ALGO_AUTO, CLCONV_ALGO_EXPLICIT,
                                        CLCONV_ALGO_DIRECT, CLCONV_ALGO_GEMM, CLCONV_ALGO_TILED};

/* The harness itself on plain fp32 NCHW layers: every algorithm and pass
 * passes, so a feature's failure is the feature's. */
Test(features, harness_fp32_nchw_baseline)
{
    clconv_ctx *ctx = test_ctx();
    clconv_desc d;
    clconv_desc_init(&d, 2, 6, 7, 9, 4, 3, 2);
    d.stride_h = 2, d.pad_h = 1, d.pad_w = 1, d.groups = 2;
    for (size_t a = 0; a < sizeof all_algos / sizeof all_algos[0]; a++)
        for (int pass = 0; pass < 3; pass++)
            for (int acc = 0; acc < 2; acc++) {
                feature_case c = {.d = d, .pass = pass, .algo = all_algos[a],
                                  .accumulate = pass ? acc : 0};
                feature_result r = feature_run(ctx, &c, 1000 + pass * 10 + acc);
                feature_expect_ok(&c, &r);
            }
    clconv_free(ctx);
}

/* Storage rounding helpers against known values. */
Test(features, storage_rounding_is_nearest_even)
{
    cr_expect_eq(test_f32_to_f16(1.0f), 0x3c00);
    cr_expect_eq(test_f32_to_f16(65504.0f), 0x7bff);
    cr_expect_eq(test_f32_to_f16(65520.0f), 0x7c00);
    cr_expect_eq(test_f32_to_f16(1.0f + 0x1p-11f), 0x3c00);          /* tie -> even */
    cr_expect_eq(test_f32_to_f16(1.0f + 3 * 0x1p-11f), 0x3c02);      /* tie -> even (up) */
    cr_expect_eq(test_f32_to_f16(0x1p-24f), 0x0001);
    cr_expect_eq(test_f32_to_f16(-0x1p-25f), 0x8000);                /* tie -> even 0 */
    cr_expect_float_eq(test_f16_to_f32(0x0001), 0x1p-24f, 0);
    cr_expect_eq(test_f32_to_bf16(1.0f), 0x3f80);
    cr_expect_eq(test_f32_to_bf16(1.0f + 0x1p-8f), 0x3f80);          /* tie -> even */
    cr_expect_eq(test_f32_to_bf16(1.0f + 3 * 0x1p-8f), 0x3f82);
    cr_expect_float_eq(test_bf16_to_f32(0x3f81), 1.0f + 0x1p-7f, 0);
}

/* A descriptor with one bad 0.3 field, or a bad epilogue: each call
 * returns the field's status, leaves *event NULL and the output as it was,
 * and the context still runs the next call. */
static void expect_refusal(clconv_ctx *ctx, const clconv_desc *d, const clconv_epilogue *ep,
                           int pass, clconv_status want, const char *what)
{
    const size_t n = 4096; /* covers every tensor of the layer below */
    cl_mem a = test_buffer(ctx, n), b = test_buffer(ctx, n), o = test_buffer(ctx, n);
    float *sentinel = test_alloc(n * sizeof(float)), *back = test_alloc(n * sizeof(float));
    for (size_t i = 0; i < n; i++)
        sentinel[i] = 0.5f + (float)i;
    test_upload(ctx, a, 0, sentinel, n);
    test_upload(ctx, b, 0, sentinel, n);
    test_upload(ctx, o, 0, sentinel, n);
    cl_event ev = (cl_event)&ev; /* not NULL: the call must clear it */
    clconv_status st = pass == 0 ? clconv_forward_fused(ctx, d, CLCONV_ALGO_AUTO, a, 0, b, 0, o,
                                                        0, ep, &ev)
                       : pass == 1 ? clconv_backward_data(ctx, d, CLCONV_ALGO_AUTO, a, 0, b, 0,
                                                          o, 0, 0, &ev)
                                   : clconv_backward_filter(ctx, d, CLCONV_ALGO_AUTO, a, 0, b, 0,
                                                            o, 0, 0, &ev);
    cr_expect_eq(st, want, "%s, pass %d: %s, want %s", what, pass, clconv_status_name(st),
                 clconv_status_name(want));
    cr_expect_null(ev, "%s: *event set on refusal", what);
    cr_expect(clconv_last_error(ctx)[0] != 0, "%s: no message", what);
    test_download(ctx, o, 0, back, n);
    cr_expect_eq(test_first_diff(back, sentinel, n), n, "%s: the output was written", what);
    free(sentinel), free(back);
    clReleaseMemObject(a), clReleaseMemObject(b), clReleaseMemObject(o);
}

Test(features, bad_new_fields_are_refused_and_write_nothing)
{
    clconv_ctx *ctx = test_ctx();
    clconv_desc good;
    clconv_desc_init(&good, 1, 4, 6, 6, 4, 3, 3);
    good.pad_h = good.pad_w = 1;
    static const struct {
        const char *what;
        int64_t dtype, layout, filter_layout, asym, pad_h_end, out_pad_h;
        clconv_status want;
    } bad[] = {
        {"dtype 3", 3, 0, 0, 0, 0, 0, CLCONV_BAD_DTYPE},
        {"dtype -1", -1, 0, 0, 0, 0, 0, CLCONV_BAD_DTYPE},
        {"layout 2", 0, 2, 0, 0, 0, 0, CLCONV_BAD_LAYOUT},
        {"filter layout -5", 0, 0, -5, 0, 0, 0, CLCONV_BAD_LAYOUT},
        {"pad_asymmetric 2", 0, 0, 0, 2, 0, 0, CLCONV_BAD_PADDING},
        {"pad_h_end -1", 0, 0, 0, 1, -1, 0, CLCONV_BAD_PADDING},
        {"output padding on a convolution", 0, 0, 0, 0, 0, 1, CLCONV_BAD_PADDING},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        clconv_desc d = good;
        d.dtype = bad[i].dtype, d.layout = bad[i].layout, d.filter_layout = bad[i].filter_layout;
        d.pad_asymmetric = bad[i].asym, d.pad_h_end = bad[i].pad_h_end, d.pad_w_end = 1;
        d.out_pad_h = bad[i].out_pad_h;
        cr_expect_eq(clconv_desc_check(&d), bad[i].want, "%s", bad[i].what);
        for (int pass = 0; pass < 3; pass++)
            expect_refusal(ctx, &d, NULL, pass, bad[i].want, bad[i].what);
    }
    static const struct {
        const char *what;
        int32_t act;
        float alpha, beta, param;
    } bad_ep[] = {
        {"activation 99", 99, 1, 0, 0},       {"activation -1", -1, 1, 0, 0},
        {"clip 0", CLCONV_ACT_CLIPPED_RELU, 1, 0, 0},
        {"negative leaky slope", CLCONV_ACT_LEAKY_RELU, 1, 0, -0.5f},
        {"NaN alpha", CLCONV_ACT_RELU, NAN, 0, 0}, {"Inf beta", CLCONV_ACT_RELU, 1, INFINITY, 0},
    };
    for (size_t i = 0; i < sizeof bad_ep / sizeof bad_ep[0]; i++) {
        clconv_epilogue e;
        clconv_epilogue_init(&e);
        e.activation = bad_ep[i].act, e.alpha = bad_ep[i].alpha, e.beta = bad_ep[i].beta;
        e.param = bad_ep[i].param;
        cr_expect_eq(clconv_epilogue_check(&e), CLCONV_BAD_EPILOGUE, "%s", bad_ep[i].what);
        expect_refusal(ctx, &good, &e, 0, CLCONV_BAD_EPILOGUE, bad_ep[i].what);
    }
    clconv_epilogue e;
    clconv_epilogue_init(&e);
    e.struct_size = 3;
    expect_refusal(ctx, &good, &e, 0, CLCONV_BAD_VERSION, "epilogue struct_size 3");
    /* and the context still runs a call */
    feature_case c = {.d = good, .pass = 0, .algo = CLCONV_ALGO_AUTO};
    feature_result r = feature_run(ctx, &c, 77);
    feature_expect_ok(&c, &r);
    clconv_free(ctx);
}
