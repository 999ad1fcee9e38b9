/* GEMM backward-filter against the float64 reference on layers aimed at
 * its tiling and reduction split: tails in every blocked dimension (filters
 * past one block, channels past one column block, rows past one chunk,
 * rows wider than a chunk), the conv1 shape (tiny K*C*R*S, long reduction:
 * many splits), 1x1, depthwise, grouped, stride > kernel, dilation and
 * padding >= kernel, few filters per group (its dot-product kernel).
 * Every case runs overwrite mode into NaN (a missed element fails) and
 * accumulate mode, on cl_mem operands at nonzero offsets with guard values
 * around them that must survive and inputs that must not change; and both
 * the split-and-reduce path and the one-split path must give the same bits
 * twice. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>
#include "util.h"

#define GUARD 1234.5f
#define PAD_BEFORE 7   /* offset of every operand, in floats */
#define PAD_AFTER 3

/* {n, c, h, w, k, r, s, sh, sw, ph, pw, dh, dw, groups} */
typedef struct bwf_case {
    const char *what;
    clconv_desc d;
} bwf_case;

static const bwf_case cases[] = {
    {"tails: K 70, C 13, Q 11, odd rows", {3, 13, 11, 13, 70, 3, 3, 1, 1, 1, 1, 1, 1, 1}},
    {"conv1-like: K*C*R*S 3528, N*P*Q 2048", {2, 3, 64, 64, 24, 7, 7, 2, 2, 3, 3, 1, 1, 1}},
    {"1x1", {2, 40, 9, 9, 24, 1, 1, 1, 1, 0, 0, 1, 1, 1}},
    {"1x1 stride 2", {3, 17, 10, 9, 33, 1, 1, 2, 2, 0, 0, 1, 1, 1}},
    {"depthwise", {2, 24, 12, 12, 24, 3, 3, 1, 1, 1, 1, 1, 1, 24}},
    {"depthwise x2, strided", {1, 8, 13, 13, 16, 3, 3, 2, 2, 1, 1, 1, 1, 8}},
    {"grouped: 4 groups, Kg 20, Cg 3", {2, 12, 10, 10, 80, 3, 3, 1, 1, 1, 1, 1, 1, 4}},
    {"16 groups of Kg 16", {1, 32, 20, 20, 256, 3, 3, 1, 1, 1, 1, 1, 1, 16}},
    {"4 groups of Kg 4: few filters per group", {2, 8, 9, 11, 16, 3, 3, 1, 1, 1, 1, 1, 1, 4}},
    {"16 groups of Kg 17: a split per block, chunks", {1, 32, 40, 40, 272, 3, 3, 1, 1, 1, 1, 1, 1, 16}},
    {"K 200 x C 300: a split per block, tails", {1, 300, 5, 5, 200, 3, 3, 1, 1, 1, 1, 1, 1, 1}},
    {"stride > kernel", {2, 5, 17, 19, 9, 2, 2, 3, 4, 0, 1, 1, 1, 1}},
    {"dilation", {1, 6, 15, 16, 10, 3, 3, 1, 2, 2, 1, 2, 3, 1}},
    {"padding >= kernel", {2, 4, 6, 5, 7, 2, 3, 1, 2, 3, 4, 1, 1, 1}},
    {"1x1 input, 7x7 kernel, all padding", {3, 2, 1, 1, 2, 7, 7, 1, 1, 3, 3, 1, 1, 1}},
    {"rows wider than a chunk: Q 700", {1, 2, 3, 700, 5, 3, 3, 1, 1, 1, 1, 1, 1, 1}},
    {"K 150: several filter blocks", {1, 3, 8, 8, 150, 3, 3, 1, 1, 1, 1, 1, 1, 1}},
    {"C 70 x 3x3: several column blocks", {1, 70, 6, 6, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1}},
    {"one output element per image", {2, 3, 7, 7, 5, 7, 7, 1, 1, 0, 0, 1, 1, 1}},
};
#define NCASES ((int)(sizeof cases / sizeof cases[0]))

/* A buffer holding src between guard values. */
static cl_mem guarded(clconv_ctx *ctx, const float *src, size_t n)
{
    float *tmp = test_alloc((n + PAD_BEFORE + PAD_AFTER) * sizeof *tmp);
    for (size_t i = 0; i < n + PAD_BEFORE + PAD_AFTER; i++)
        tmp[i] = GUARD;
    memcpy(tmp + PAD_BEFORE, src, n * sizeof *tmp);
    cl_mem m = test_buffer_from(ctx, tmp, n + PAD_BEFORE + PAD_AFTER);
    free(tmp);
    return m;
}

/* Download a guarded buffer: guards intact, body into out. */
static void fetch(clconv_ctx *ctx, cl_mem m, float *out, size_t n, const char *what,
                  const char *repro)
{
    const size_t total = n + PAD_BEFORE + PAD_AFTER;
    float *tmp = test_alloc(total * sizeof *tmp);
    test_download(ctx, m, 0, tmp, total);
    for (size_t i = 0; i < total; i++)
        if (i < PAD_BEFORE || i >= PAD_BEFORE + n)
            cr_assert(tmp[i] == GUARD, "%s: %s guard [%zu] overwritten", repro, what, i);
    memcpy(out, tmp + PAD_BEFORE, n * sizeof *out);
    free(tmp);
}

/* One case in one mode: random x and dy, dw from NaN (or random when
 * accumulating), checked against the reference. */
static void check_case(clconv_ctx *ctx, const bwf_case *c, int accumulate, uint64_t seed)
{
    char repro[160];
    test_desc_str(&c->d, repro, sizeof repro);
    const clconv_desc *d = &c->d;
    const size_t xe = test_x_elems(d), we = test_w_elems(d), ye = test_y_elems(d);
    test_rng rng = test_rng_seed(seed);
    float *x = test_alloc(xe * sizeof *x), *dy = test_alloc(ye * sizeof *dy);
    float *dw = test_alloc(we * sizeof *dw), *back = test_alloc((xe > ye ? xe : ye) * sizeof *back);
    double *xd = test_alloc(xe * sizeof *xd), *dyd = test_alloc(ye * sizeof *dyd);
    double *want = test_alloc(we * sizeof *want);
    test_fill_random(&rng, x, xe);
    test_fill_random(&rng, dy, ye);
    if (accumulate)
        test_fill_random(&rng, dw, we);
    else
        test_poison(dw, we);
    test_to_double(x, xd, xe);
    test_to_double(dy, dyd, ye);
    cr_assert_eq(clconv_ref_backward_filter(d, xd, dyd, want), CLCONV_OK);
    if (accumulate)
        for (size_t i = 0; i < we; i++)
            want[i] += dw[i];

    cl_mem bx = guarded(ctx, x, xe), bdy = guarded(ctx, dy, ye), bdw = guarded(ctx, dw, we);
    clconv_status st = clconv_backward_filter(ctx, d, CLCONV_ALGO_GEMM, bx, PAD_BEFORE, bdy,
                                              PAD_BEFORE, bdw, PAD_BEFORE, accumulate, NULL);
    cr_assert_eq(st, CLCONV_OK, "%s (%s): %s %s", c->what, repro, clconv_status_name(st),
                 clconv_last_error(ctx));
    cr_assert_eq(clconv_finish(ctx), CLCONV_OK);
    fetch(ctx, bdw, dw, we, "dw", repro);
    fetch(ctx, bx, back, xe, "x", repro);
    cr_assert(!memcmp(back, x, xe * sizeof *x), "%s: x changed", repro);
    fetch(ctx, bdy, back, ye, "dy", repro);
    cr_assert(!memcmp(back, dy, ye * sizeof *dy), "%s: dy changed", repro);
    double err = test_rel_err(dw, want, we);
    cr_expect(err <= TEST_TOL, "%s (%s, %s): rel err %g", c->what, repro,
              accumulate ? "accumulate" : "overwrite", err);
    clReleaseMemObject(bx), clReleaseMemObject(bdy), clReleaseMemObject(bdw);
    free(x), free(dy), free(dw), free(back), free(xd), free(dyd), free(want);
}

Test(gemm_bwd_filter, edge_layers_overwrite)
{
    clconv_ctx *ctx = test_ctx();
    for (int i = 0; i < NCASES; i++)
        check_case(ctx, &cases[i], 0, 1000u + (uint64_t)i);
    clconv_free(ctx);
}

Test(gemm_bwd_filter, edge_layers_accumulate)
{
    clconv_ctx *ctx = test_ctx();
    for (int i = 0; i < NCASES; i++)
        check_case(ctx, &cases[i], 1, 2000u + (uint64_t)i);
    clconv_free(ctx);
}

/* Two runs on the same inputs give the same bits (no atomics, a fixed
 * reduction order), for the split path and the one-split path. */
static void check_bitwise(const clconv_desc *d, int accumulate)
{
    clconv_ctx *ctx = test_ctx();
    char repro[160];
    test_desc_str(d, repro, sizeof repro);
    const size_t xe = test_x_elems(d), we = test_w_elems(d), ye = test_y_elems(d);
    test_rng rng = test_rng_seed(77);
    float *x = test_alloc(xe * sizeof *x), *dy = test_alloc(ye * sizeof *dy);
    float *base = test_alloc(we * sizeof *base), *a = test_alloc(we * sizeof *a),
          *b = test_alloc(we * sizeof *b);
    test_fill_random(&rng, x, xe);
    test_fill_random(&rng, dy, ye);
    test_fill_random(&rng, base, we);
    cl_mem bx = test_buffer_from(ctx, x, xe), bdy = test_buffer_from(ctx, dy, ye);
    cl_mem bdw = test_buffer_from(ctx, base, we);
    float *outs[2] = {a, b};
    for (int run = 0; run < 2; run++) {
        test_upload(ctx, bdw, 0, base, we);
        clconv_status st = clconv_backward_filter(ctx, d, CLCONV_ALGO_GEMM, bx, 0, bdy, 0, bdw,
                                                  0, accumulate, NULL);
        cr_assert_eq(st, CLCONV_OK, "%s: %s", repro, clconv_last_error(ctx));
        test_download(ctx, bdw, 0, outs[run], we);
    }
    size_t at = test_first_diff(a, b, we);
    cr_expect_eq(at, we, "%s: runs differ first at dw[%zu]: %a vs %a", repro, at,
                 (double)a[at < we ? at : 0], (double)b[at < we ? at : 0]);
    /* the values must be real results, not two identical failures */
    for (size_t i = 0; i < we; i++)
        cr_assert(isfinite(a[i]) && (accumulate || a[i] != base[i]), "%s: dw[%zu] = %g", repro,
                  i, (double)a[i]);
    clReleaseMemObject(bx), clReleaseMemObject(bdy), clReleaseMemObject(bdw);
    free(x), free(dy), free(base), free(a), free(b);
    clconv_free(ctx);
}

Test(gemm_bwd_filter, bitwise_repeatable_split)
{
    /* conv1 at mb1: a long reduction, many splits */
    clconv_desc d = {1, 3, 224, 224, 64, 7, 7, 2, 2, 3, 3, 1, 1, 1};
    check_bitwise(&d, 0);
    check_bitwise(&d, 1);
}

Test(gemm_bwd_filter, bitwise_repeatable_wide)
{
    /* ResNet-50's last 3x3 at mb1: many filter and column blocks */
    clconv_desc d = {1, 512, 7, 7, 512, 3, 3, 1, 1, 1, 1, 1, 1, 1};
    check_bitwise(&d, 0);
}

/* The workspace query answers for GEMM backward-filter and counts the
 * partial sums of a layer that must be split (64 output rows, 3528 dw
 * elements): more than nothing, at most one padded dw per row. */
Test(gemm_bwd_filter, workspace_query)
{
    clconv_ctx *ctx = test_ctx();
    clconv_desc d = {2, 3, 64, 64, 24, 7, 7, 2, 2, 3, 3, 1, 1, 1};
    size_t bytes = 0;
    cr_assert_eq(clconv_workspace_size(ctx, &d, CLCONV_PASS_BACKWARD_FILTER, CLCONV_ALGO_GEMM,
                                       &bytes),
                 CLCONV_OK);
    cr_expect_gt(bytes, 0);
    cr_expect_leq(bytes, (size_t)64 * 3 * 7 * 7 * 64 * sizeof(float));
    clconv_free(ctx);
}
