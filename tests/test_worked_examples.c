/* Two worked examples whose every number was computed by hand, written
 * here as literals (integer inputs, so fp32 results are exact and every
 * comparison is ==).  Checked: the three passes and backward-bias with
 * every algorithm (EXPLICIT, DIRECT, AUTO, and GEMM when it exists), in
 * overwrite and accumulate mode, the seed's two intermediates
 * (clconv_upsample_pad, clconv_flip_filter) element by element, and the
 * float64 reference.  N = C = K = 1 in both; the K/C swap of the flip is
 * checked on two more hand-worked filters at the end.
 *
 * ---- (a) 3x3 input, 2x2 filter, stride 1, padding 0:  P = Q = 2 ----
 *   x = 1 2 3     w = 1 2     dy = 1 2
 *       4 5 6         3 4         -1 3
 *       7 8 9
 * y[p][q] = sum_rs x[p+r][q+s] w[r][s]:
 *   y00 = 1*1+2*2+4*3+5*4 = 37     y01 = 2*1+3*2+5*3+6*4 = 47
 *   y10 = 4*1+5*2+7*3+8*4 = 67     y11 = 5*1+6*2+8*3+9*4 = 77
 * dx[i][j] = sum over p+r=i, q+s=j of dy[p][q] w[r][s]:
 *   dx00 = 1*1 = 1      dx01 = 1*2+2*1 = 4        dx02 = 2*2 = 4
 *   dx10 = 1*3-1*1 = 2  dx11 = 1*4+2*3-1*2+3*1 = 11  dx12 = 2*4+3*2 = 14
 *   dx20 = -1*3 = -3    dx21 = -1*4+3*3 = 5       dx22 = 3*4 = 12
 * dw[r][s] = sum_pq dy[p][q] x[p+r][q+s]:
 *   dw00 = 1+4-4+15 = 16   dw01 = 2+6-5+18 = 21
 *   dw10 = 4+10-7+24 = 31  dw11 = 5+12-8+27 = 36
 * db = 1+2-1+3 = 5.
 * Cross-check: <y,dy> = <x,dx> = <w,dw> = 295.
 * Upsample+pad: T = L = (R-1)d - p = 1, HU = WU = 3 + 1 = 4: dy framed by
 * one row/column of zeros on each side (stride 1 inserts nothing).
 * Flip: w turned 180 degrees = 4 3 / 2 1.
 *
 * ---- (b) 5x5 input, 3x3 filter, stride 2, padding 1:  P = Q = 3 ----
 *   x[i][j] = 5i + j + 1 (1..25)   w =  1  2  0    dy =  1 -1  2
 *                                       0  1 -1          0  3  1
 *                                      -1  0  2         -2  1  1
 * Padding 1 (rather than 0) so that zero padding enters the forward sums
 * and the upsampled map gets a nonzero top/left offset.
 * y[p][q] = sum_rs x[2p-1+r][2q-1+s] w[r][s] (x = 0 outside 0..4):
 *   y00: row 0 [0 1 2].[0 1 -1] = -1, row 1 [0 6 7].[-1 0 2] = 14      -> 13
 *   y01: [2 3 4].[0 1 -1] = -1, [7 8 9].[-1 0 2] = 11                   -> 10
 *   y02: [4 5 0].[0 1 -1] = 5, [9 10 0].[-1 0 2] = -9                   -> -4
 *   y10: [0 6 7].[1 2 0] = 12, [0 11 12].[0 1 -1] = -1, [0 16 17].[-1 0 2] = 34 -> 45
 *   y11: [7 8 9].[1 2 0] = 23, [12 13 14].[0 1 -1] = -1, [17 18 19].[-1 0 2] = 21 -> 43
 *   y12: [9 10 0].[1 2 0] = 29, [14 15 0].[0 1 -1] = 15, [19 20 0].[-1 0 2] = -19 -> 25
 *   y20: [0 16 17].[1 2 0] = 32, [0 21 22].[0 1 -1] = -1 (row 5 is padding) -> 31
 *   y21: [17 18 19].[1 2 0] = 53, [22 23 24].[0 1 -1] = -1             -> 52
 *   y22: [19 20 0].[1 2 0] = 59, [24 25 0].[0 1 -1] = 25                -> 84
 * dx: input row i is reached by (p, r) with 2p-1+r = i:
 *   i=0: (0,1)  i=1: (0,2),(1,0)  i=2: (1,1)  i=3: (1,2),(2,0)  i=4: (2,1)
 * (columns alike), and dx[i][j] = sum over those pairs of dy[p][q] w[r][s];
 * e.g. dx11 = dy00 w22 + dy01 w20 + dy10 w02 + dy11 w00 = 2+1+0+3 = 6,
 *      dx33 = dy11 w22 + dy12 w20 + dy21 w02 + dy22 w00 = 6-1+0+1 = 6.
 * dw[r][s] = sum_pq dy[p][q] x[2p-1+r][2q-1+s]; e.g.
 *   dw00 = dy11 x(1,1) + dy12 x(1,3) + dy21 x(3,1) + dy22 x(3,3)
 *        = 3*7 + 1*9 + 1*17 + 1*19 = 66 (row/column -1 is padding),
 *   dw11 = sum_pq dy[p][q] x(2p,2q) = 1-3+10+0+39+15-42+23+25 = 68.
 * db = 1-1+2+0+3+1-2+1+1 = 6.
 * Cross-check: <y,dy> = <x,dx> = <w,dw> = 223.
 * Upsample+pad: T = L = (3-1)*1 - 1 = 1, HU = WU = 5 + 2 = 7: dy[p][q]
 * lands at (1+2p, 1+2q), everything else 0; the 3x3 stride-1 convolution
 * of that 7x7 map with the flipped filter gives the 5x5 dx.
 * Flip: w read backwards = 2 0 -1 / -1 1 0 / 0 2 1.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include "util.h"

typedef struct example {
    const char *name;
    clconv_desc d;
    const float *x, *w, *dy;                /* inputs */
    const float *y, *dx, *dw, *db, *up, *wf; /* hand-computed results */
    int64_t hu, wu;                         /* upsampled map size */
} example;

/* ---- (a) ---- */
static const float a_x[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
static const float a_w[4] = {1, 2, 3, 4};
static const float a_dy[4] = {1, 2, -1, 3};
static const float a_y[4] = {37, 47, 67, 77};
static const float a_dx[9] = {1, 4, 4, 2, 11, 14, -3, 5, 12};
static const float a_dw[4] = {16, 21, 31, 36};
static const float a_db[1] = {5};
static const float a_up[16] = {
    0, 0, 0, 0,
    0, 1, 2, 0,
    0, -1, 3, 0,
    0, 0, 0, 0,
};
static const float a_wf[4] = {4, 3, 2, 1};

/* ---- (b) ---- */
static const float b_x[25] = {
    1, 2, 3, 4, 5,
    6, 7, 8, 9, 10,
    11, 12, 13, 14, 15,
    16, 17, 18, 19, 20,
    21, 22, 23, 24, 25,
};
static const float b_w[9] = {1, 2, 0, 0, 1, -1, -1, 0, 2};
static const float b_dy[9] = {1, -1, 2, 0, 3, 1, -2, 1, 1};
static const float b_y[9] = {13, 10, -4, 45, 43, 25, 31, 52, 84};
static const float b_dx[25] = {
    1, -1, -1, 1, 2,
    0, 6, 6, -3, 2,
    0, 0, 3, -3, 1,
    -4, -2, 2, 6, 2,
    -2, 2, 1, -1, 1,
};
static const float b_dw[9] = {66, 40, 12, 102, 68, 20, 81, 92, 55};
static const float b_db[1] = {6};
static const float b_up[49] = {
    0, 0, 0, 0, 0, 0, 0,
    0, 1, 0, -1, 0, 2, 0,
    0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 3, 0, 1, 0,
    0, 0, 0, 0, 0, 0, 0,
    0, -2, 0, 1, 0, 1, 0,
    0, 0, 0, 0, 0, 0, 0,
};
static const float b_wf[9] = {2, 0, -1, -1, 1, 0, 0, 2, 1};

static example example_a(void)
{
    example e = {"a: 3x3 input, 2x2 filter, s1 p0", {0}, a_x, a_w, a_dy, a_y, a_dx,
                 a_dw, a_db, a_up, a_wf, 4, 4};
    clconv_desc_init(&e.d, 1, 1, 3, 3, 1, 2, 2);
    return e;
}

static example example_b(void)
{
    example e = {"b: 5x5 input, 3x3 filter, s2 p1", {0}, b_x, b_w, b_dy, b_y, b_dx,
                 b_dw, b_db, b_up, b_wf, 7, 7};
    clconv_desc_init(&e.d, 1, 1, 5, 5, 1, 3, 3);
    e.d.stride_h = e.d.stride_w = 2;
    e.d.pad_h = e.d.pad_w = 1;
    return e;
}

/* Sizes of the example, checked against the library's own queries. */
static void check_shapes(const example *e, size_t *xe, size_t *we, size_t *ye)
{
    int64_t p, q, hu, wu;
    cr_assert_eq(clconv_desc_check(&e->d), CLCONV_OK, "%s", e->name);
    cr_assert_eq(clconv_output_size(&e->d, &p, &q), CLCONV_OK);
    cr_assert_eq(clconv_tensor_elems(&e->d, xe, we, ye), CLCONV_OK);
    cr_assert_eq(*xe, (size_t)(e->d.h * e->d.w), "%s", e->name);
    cr_assert_eq(*we, (size_t)(e->d.r * e->d.s), "%s", e->name);
    cr_assert_eq(*ye, (size_t)(p * q), "%s", e->name);
    cr_assert_eq(clconv_upsample_pad_size(&e->d, &hu, &wu), CLCONV_OK);
    cr_assert(hu == e->hu && wu == e->wu, "%s: upsampled size %lldx%lld, want %lldx%lld",
              e->name, (long long)hu, (long long)wu, (long long)e->hu, (long long)e->wu);
}

/* A device buffer of n floats holding src, or NaN when src is NULL. */
static cl_mem input_buf(clconv_ctx *ctx, const float *src, size_t n)
{
    float tmp[64];
    cr_assert_leq(n, 64);
    if (src)
        memcpy(tmp, src, n * sizeof *tmp);
    else
        test_poison(tmp, n);
    return test_buffer_from(ctx, tmp, n);
}

/* Accumulate mode starts the output at base[i] = 100 + i; expected is
 * base + the hand-computed gradient (still exact). */
static void accumulate_base(const float *grad, size_t n, float *base, float *want)
{
    for (size_t i = 0; i < n; i++) {
        base[i] = (float)(100 + i);
        want[i] = base[i] + grad[i];
    }
}

typedef enum { FWD, BWD_DATA, BWD_FILTER, BWD_BIAS } which_pass;

/* One pass on device buffers; returns its status. */
static clconv_status run_pass(clconv_ctx *ctx, const example *e, which_pass pass, clconv_algo algo,
                              cl_mem x, cl_mem w, cl_mem dy, cl_mem out, int acc)
{
    switch (pass) {
    case FWD:
        return clconv_forward(ctx, &e->d, algo, x, 0, w, 0, out, 0, NULL);
    case BWD_DATA:
        return clconv_backward_data(ctx, &e->d, algo, dy, 0, w, 0, out, 0, acc, NULL);
    case BWD_FILTER:
        return clconv_backward_filter(ctx, &e->d, algo, x, 0, dy, 0, out, 0, acc, NULL);
    default:
        return clconv_backward_bias(ctx, &e->d, dy, 0, out, 0, acc, NULL);
    }
}

/* Run one pass (overwrite into NaN, then accumulate onto 100+i) and
 * compare with the literal.  Returns 0 when the algorithm is GEMM and
 * reports that it does not implement the pass. */
static int check_pass(clconv_ctx *ctx, const example *e, which_pass pass, clconv_algo algo,
                      cl_mem x, cl_mem w, cl_mem dy, const float *want, size_t n)
{
    static const char *const names[] = {"y", "dx", "dw", "db"};
    char what[96];
    float got[64], base[64], want_acc[64];
    for (int acc = 0; acc <= (pass == FWD ? 0 : 1); acc++) {
        if (acc)
            accumulate_base(want, n, base, want_acc);
        cl_mem out = input_buf(ctx, acc ? base : NULL, n);
        clconv_status st = run_pass(ctx, e, pass, algo, x, w, dy, out, acc);
        if (st == CLCONV_BAD_ALGORITHM && algo == CLCONV_ALGO_GEMM) {
            clReleaseMemObject(out);
            return 0;
        }
        cr_assert_eq(st, CLCONV_OK, "%s %s %s: %s (%s)", e->name, names[pass],
                     clconv_algo_name(algo), clconv_status_name(st), clconv_last_error(ctx));
        test_download(ctx, out, 0, got, n);
        snprintf(what, sizeof what, "%s, %s, %s%s", e->name, clconv_algo_name(algo), names[pass],
                 acc ? " (accumulate)" : "");
        test_expect_exact(got, acc ? want_acc : want, n, what);
        clReleaseMemObject(out);
    }
    return 1;
}

static void check_example_passes(const example *e)
{
    size_t xe, we, ye;
    check_shapes(e, &xe, &we, &ye);
    clconv_ctx *ctx = test_ctx();
    cl_mem x = input_buf(ctx, e->x, xe), w = input_buf(ctx, e->w, we);
    cl_mem dy = input_buf(ctx, e->dy, ye);
    const clconv_algo algos[] = {CLCONV_ALGO_EXPLICIT, CLCONV_ALGO_DIRECT, CLCONV_ALGO_AUTO,
                                 CLCONV_ALGO_GEMM};
    for (size_t i = 0; i < sizeof algos / sizeof algos[0]; i++) {
        /* GEMM may not exist yet; when its forward does, all three must */
        if (!check_pass(ctx, e, FWD, algos[i], x, w, dy, e->y, ye))
            continue;
        cr_expect(check_pass(ctx, e, BWD_DATA, algos[i], x, w, dy, e->dx, xe),
                  "%s: GEMM has forward but not backward-data", e->name);
        cr_expect(check_pass(ctx, e, BWD_FILTER, algos[i], x, w, dy, e->dw, we),
                  "%s: GEMM has forward but not backward-filter", e->name);
    }
    check_pass(ctx, e, BWD_BIAS, CLCONV_ALGO_AUTO, x, w, dy, e->db, 1);
    clReleaseMemObject(x), clReleaseMemObject(w), clReleaseMemObject(dy);
    clconv_free(ctx);
}

/* The two intermediates of the EXPLICIT backward-data on their own. */
static void check_example_primitives(const example *e)
{
    size_t xe, we, ye;
    check_shapes(e, &xe, &we, &ye);
    const size_t ue = (size_t)(e->hu * e->wu);
    clconv_ctx *ctx = test_ctx();
    cl_mem w = input_buf(ctx, e->w, we), dy = input_buf(ctx, e->dy, ye);
    cl_mem up = input_buf(ctx, NULL, ue), wf = input_buf(ctx, NULL, we);
    cr_assert_eq(clconv_upsample_pad(ctx, &e->d, dy, 0, up, 0, NULL), CLCONV_OK, "%s",
                 clconv_last_error(ctx));
    cr_assert_eq(clconv_flip_filter(ctx, &e->d, w, 0, wf, 0, NULL), CLCONV_OK, "%s",
                 clconv_last_error(ctx));
    float got[64];
    char what[96];
    test_download(ctx, up, 0, got, ue);
    snprintf(what, sizeof what, "%s, upsample_pad", e->name);
    test_expect_exact(got, e->up, ue, what);
    test_download(ctx, wf, 0, got, we);
    snprintf(what, sizeof what, "%s, flip_filter", e->name);
    test_expect_exact(got, e->wf, we, what);
    clReleaseMemObject(w), clReleaseMemObject(dy), clReleaseMemObject(up),
        clReleaseMemObject(wf);
    clconv_free(ctx);
}

/* The float64 reference must reproduce the hand numbers too. */
static void check_example_reference(const example *e)
{
    size_t xe, we, ye;
    check_shapes(e, &xe, &we, &ye);
    double x[64], w[64], dy[64], out[64];
    float got[64];
    char what[96];
    test_to_double(e->x, x, xe);
    test_to_double(e->w, w, we);
    test_to_double(e->dy, dy, ye);
    const struct {
        const char *name;
        size_t n;
        const float *want;
    } outs[] = {{"y", ye, e->y}, {"dx", xe, e->dx}, {"dw", we, e->dw}, {"db", 1, e->db}};
    for (int i = 0; i < 4; i++) {
        clconv_status st = i == 0   ? clconv_ref_forward(&e->d, x, w, out)
                           : i == 1 ? clconv_ref_backward_data(&e->d, dy, w, out)
                           : i == 2 ? clconv_ref_backward_filter(&e->d, x, dy, out)
                                    : clconv_ref_backward_bias(&e->d, dy, out);
        cr_assert_eq(st, CLCONV_OK);
        for (size_t j = 0; j < outs[i].n; j++)
            got[j] = (float)out[j];
        snprintf(what, sizeof what, "%s, reference %s", e->name, outs[i].name);
        test_expect_exact(got, outs[i].want, outs[i].n, what);
    }
}

Test(worked, a_passes) { example e = example_a(); check_example_passes(&e); }
Test(worked, a_primitives) { example e = example_a(); check_example_primitives(&e); }
Test(worked, a_reference) { example e = example_a(); check_example_reference(&e); }
Test(worked, b_passes) { example e = example_b(); check_example_passes(&e); }
Test(worked, b_primitives) { example e = example_b(); check_example_primitives(&e); }
Test(worked, b_reference) { example e = example_b(); check_example_reference(&e); }

/* The flip swaps K and C: wf[c][kl][r][s] = w[g*Kg+kl][c-g*Cg][R-1-r][S-1-s].
 * Two hand-worked filters with w[i] = i + 1 in memory order:
 *   K=2, C=3, g=1, 1x2:  w[k][c] = {1,2} {3,4} {5,6} / {7,8} {9,10} {11,12}
 *     wf[c][k] = w[k][c] reversed:
 *     c0: {2,1} {8,7}  c1: {4,3} {10,9}  c2: {6,5} {12,11}
 *   K=2, C=4, g=2 (Cg=2, Kg=1), 2x1:  w[k][cl] = {1,2} {3,4} / {5,6} {7,8}
 *     c0,c1 are group 0 (k=0), c2,c3 group 1 (k=1):
 *     wf[c][0] = w[c/2][c%2] reversed = {2,1} {4,3} {6,5} {8,7} */
static void check_flip(const clconv_desc *d, const float *want, size_t n)
{
    float w[16], got[16];
    size_t we;
    cr_assert_eq(clconv_tensor_elems(d, NULL, &we, NULL), CLCONV_OK);
    cr_assert_eq(we, n);
    for (size_t i = 0; i < n; i++)
        w[i] = (float)(i + 1);
    clconv_ctx *ctx = test_ctx();
    cl_mem wb = test_buffer_from(ctx, w, n), fb = input_buf(ctx, NULL, n);
    cr_assert_eq(clconv_flip_filter(ctx, d, wb, 0, fb, 0, NULL), CLCONV_OK, "%s",
                 clconv_last_error(ctx));
    test_download(ctx, fb, 0, got, n);
    test_expect_exact(got, want, n, "flip_filter");
    clReleaseMemObject(wb), clReleaseMemObject(fb);
    clconv_free(ctx);
}

Test(worked, flip_swaps_k_and_c)
{
    clconv_desc d;
    clconv_desc_init(&d, 1, 3, 4, 4, 2, 1, 2);
    const float want[12] = {2, 1, 8, 7, 4, 3, 10, 9, 6, 5, 12, 11};
    check_flip(&d, want, 12);
}

Test(worked, flip_with_groups)
{
    clconv_desc d;
    clconv_desc_init(&d, 1, 4, 4, 4, 2, 2, 1);
    d.groups = 2;
    const float want[8] = {2, 1, 4, 3, 6, 5, 8, 7};
    check_flip(&d, want, 8);
}
