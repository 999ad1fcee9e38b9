/* Typed tuning tables and the CLCONV_TUNING override: every GEMM
 * configuration a table holds (the NVIDIA rows too, which no GPU has
 * checked yet) runs on the test device and agrees with the float64
 * reference, on layers that reach each kernel variant: the general
 * implicit GEMM, depthwise, the flat 1x1 GEMM, strided backward-data
 * phases, and backward-filter's main and dot-product plans. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"
#include "util.h"

/* {n, c, h, w, k, r, s, sh, sw, ph, pw, dh, dw, g} */
static const clconv_desc layers[] = {
    {2, 5, 9, 11, 7, 3, 3, 1, 1, 1, 1, 1, 1, 1},     /* general, edge tiles */
    {1, 6, 10, 9, 6, 3, 3, 2, 2, 1, 1, 1, 1, 6},     /* depthwise, stride 2 */
    {2, 12, 5, 7, 20, 1, 1, 1, 1, 0, 0, 1, 1, 1},    /* flat 1x1 */
    {1, 4, 13, 12, 24, 3, 2, 2, 3, 1, 0, 2, 1, 2},   /* grouped, strided, dilated */
    {4, 24, 14, 14, 40, 3, 3, 1, 1, 1, 1, 1, 1, 1},  /* backward-filter with splits */
};
#define NLAYERS (sizeof layers / sizeof layers[0])

static void check(clconv_ctx *ctx, const clconv_desc *d, int pass, const char *row)
{
    size_t xe, we, ye;
    cr_assert_eq(clconv_tensor_elems(d, &xe, &we, &ye), CLCONV_OK);
    const size_t na = pass == 1 ? ye : xe, nb = pass == 2 ? ye : we;
    const size_t no = pass == 0 ? ye : pass == 1 ? xe : we;
    test_rng rng = test_rng_seed(4000 + (uint64_t)pass);
    float *a = test_alloc(na * sizeof(float)), *b = test_alloc(nb * sizeof(float));
    float *out = test_alloc(no * sizeof(float));
    double *da = test_alloc(na * sizeof(double)), *db = test_alloc(nb * sizeof(double));
    double *ref = test_alloc(no * sizeof(double));
    test_fill_int(&rng, a, na, -2, 2);
    test_fill_int(&rng, b, nb, -2, 2);
    test_poison(out, no);
    test_to_double(a, da, na);
    test_to_double(b, db, nb);
    clconv_status st;
    if (pass == 0) {
        st = clconv_forward_host(ctx, d, CLCONV_ALGO_GEMM, a, b, out);
        clconv_ref_forward(d, da, db, ref);
    } else if (pass == 1) {
        st = clconv_backward_data_host(ctx, d, CLCONV_ALGO_GEMM, a, b, out, 0);
        clconv_ref_backward_data(d, da, db, ref);
    } else {
        st = clconv_backward_filter_host(ctx, d, CLCONV_ALGO_GEMM, a, b, out, 0);
        clconv_ref_backward_filter(d, da, db, ref);
    }
    char rs[CLCONV_DESC_STRING_MAX];
    clconv_desc_string(d, rs, sizeof rs);
    cr_assert_eq(st, CLCONV_OK, "%s pass %d row %s: %s", rs, pass, row, clconv_last_error(ctx));
    double err = test_rel_err(out, ref, no);
    cr_expect(err <= TEST_TOL, "%s pass %d with the %s rows: relative error %g", rs, pass, row, err);
    free(a), free(b), free(out), free(da), free(db), free(ref);
}

static void run_row(const char *row)
{
    setenv("CLCONV_TUNING", row, 1);
    clconv_ctx *ctx = test_ctx();
    cr_assert_str_eq(ctx->info.tuning, row);
    for (size_t i = 0; i < NLAYERS; i++)
        for (int pass = 0; pass < 3; pass++)
            check(ctx, &layers[i], pass, row);
    clconv_free(ctx);
}

Test(tuning, nvidia_rows_on_this_device, .timeout = 300) { run_row("nvidia"); }
Test(tuning, generic_rows_on_this_device, .timeout = 300) { run_row("generic"); }

/* The matcher: a named row wins on any device; an unknown name, or none,
 * leaves the device's own match; the last row is the fallback. */
Test(tuning, rows_are_picked_by_name_or_by_device)
{
    typedef struct { tuning_match match; int value; } row;
    const row rows[] = {
        {{"nvidia", CL_DEVICE_TYPE_GPU, "NVIDIA", 0, 0}, 1},
        {{"cpu", CL_DEVICE_TYPE_CPU, NULL, 0, 0}, 2},
        {{"big", CL_DEVICE_TYPE_CPU, NULL, 0, 64}, 3},
        {{"generic", 0, NULL, 0, 0}, 4},
    };
    clconv_devinfo cpu = {.type = CL_DEVICE_TYPE_CPU, .compute_units = 2};
    strcpy(cpu.vendor, "GenuineIntel");
    strcpy(cpu.platform, "Portable Computing Language");
    cr_expect_eq(rows[TUNING_PICK(&cpu, rows)].value, 2);
    strcpy(cpu.tuning, "nvidia");
    cr_expect_eq(rows[TUNING_PICK(&cpu, rows)].value, 1, "named row on a CPU");
    strcpy(cpu.tuning, "generic");
    cr_expect_eq(rows[TUNING_PICK(&cpu, rows)].value, 4);
    strcpy(cpu.tuning, "no-such-row");
    cr_expect_eq(rows[TUNING_PICK(&cpu, rows)].value, 2);
    clconv_devinfo gpu = {.type = CL_DEVICE_TYPE_GPU, .compute_units = 132};
    strcpy(gpu.vendor, "NVIDIA Corporation");
    strcpy(gpu.platform, "NVIDIA CUDA");
    cr_expect_eq(rows[TUNING_PICK(&gpu, rows)].value, 1);
    strcpy(gpu.vendor, "Advanced Micro Devices, Inc.");
    strcpy(gpu.platform, "AMD Accelerated Parallel Processing");
    cr_expect_eq(rows[TUNING_PICK(&gpu, rows)].value, 4, "another GPU: the generic row");
}
