/* Issue 7's features through every algorithm and pass, against the float64
 * reference (tests/feature_check.h): data types, layouts, asymmetric
 * padding and the fused epilogue.  Each algorithm's share is listed where
 * it claims it; what it does not claim must be refused with
 * CLCONV_NOT_SUPPORTED and nothing written. */
#include <criterion/criterion.h>
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
