/* The GEMM algorithm's forward and backward-data passes on layers aimed at
 * their tiling (kernels/gemm_conv.cl): tails in every tile dimension
 * (channels, rows, columns), channel tiles cut down for small groups, the
 * plain-GEMM 1x1 path and the 1x1 layers that must not take it, depthwise,
 * groups, stride > kernel (backward-data phases with no taps), dilation
 * with strides sharing a factor, padding >= kernel, non-square everything,
 * tiles wholly inside the input (unmasked loads) next to edge tiles, and a
 * layer whose sizes force 64-bit indices.
 *
 * Every run goes through the cl_mem calls with CLCONV_ALGO_GEMM: fresh
 * random inputs, outputs NaN (overwrite) or random (accumulate, expecting
 * old + gradient), guard values around every operand that must survive,
 * and the float64 reference within TEST_TOL.  Odd offsets make every
 * vector load unaligned.  Bitwise determinism: two runs, same bits. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "util.h"

#define GUARD 19            /* guard elements after each operand */
#define GUARD_VALUE -777.5f /* what they hold, before and after */

typedef enum { FWD, DATA } gemm_pass;

/* {n, c, h, w, k, r, s, sh, sw, ph, pw, dh, dw, g} */
static const clconv_desc layers[] = {
    {2, 11, 13, 19, 13, 3, 3, 1, 1, 1, 1, 1, 1, 1},   /* tails: K, C, rows, columns */
    {1, 5, 9, 9, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1},       /* K = 3 < a channel tile */
    {1, 16, 12, 40, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1},   /* interior tiles beside edge tiles */
    {2, 20, 7, 9, 12, 1, 1, 1, 1, 0, 0, 1, 1, 1},     /* 1x1 plain GEMM, H*W = 63 */
    {1, 6, 5, 6, 7, 1, 1, 1, 1, 1, 1, 1, 1, 1},       /* 1x1 padded: not a plain GEMM */
    {2, 8, 9, 11, 9, 1, 1, 2, 2, 0, 0, 1, 1, 1},      /* 1x1 stride 2 */
    {2, 12, 10, 17, 12, 3, 3, 1, 1, 1, 1, 1, 1, 12},  /* depthwise */
    {1, 4, 11, 13, 8, 3, 3, 2, 2, 1, 1, 1, 1, 4},     /* depthwise x2 multiplier, stride 2 */
    {2, 12, 9, 10, 18, 3, 3, 1, 1, 1, 1, 1, 1, 3},    /* 3 groups, Cg 4, Kg 6 */
    {1, 6, 8, 8, 10, 1, 1, 1, 1, 0, 0, 1, 1, 2},      /* grouped 1x1 plain GEMM */
    {2, 3, 9, 13, 37, 1, 1, 1, 1, 0, 0, 1, 1, 1},     /* 1x1: 3 < a channel tile, H*W 117 */
    {1, 5, 4, 5, 10, 1, 1, 1, 1, 0, 0, 1, 1, 5},      /* depthwise 1x1, multiplier 2 */
    {1, 3, 13, 14, 5, 2, 2, 3, 3, 0, 0, 1, 1, 1},     /* stride 3 > kernel 2 */
    {1, 4, 9, 10, 6, 1, 1, 4, 4, 0, 0, 1, 1, 1},      /* stride 4, 1x1: 15 of 16 phases empty */
    {1, 5, 14, 15, 7, 3, 3, 1, 1, 2, 2, 2, 2, 1},     /* dilation 2 */
    {1, 4, 15, 13, 6, 3, 3, 2, 2, 2, 2, 2, 3, 1},     /* dilation 2|stride 2, 3 vs 2 */
    {1, 3, 6, 7, 4, 2, 2, 1, 1, 3, 3, 1, 1, 1},       /* padding 3 > kernel 2 */
    {2, 3, 5, 6, 4, 3, 3, 2, 2, 4, 4, 1, 1, 1},       /* padding > (R-1)d, stride 2 */
    {1, 4, 7, 23, 5, 1, 5, 1, 2, 0, 2, 1, 1, 1},      /* 1x5, non-square strides */
    {1, 4, 21, 6, 5, 5, 2, 2, 1, 2, 0, 1, 2, 1},      /* 5x2, dilated across */
    {1, 3, 37, 41, 10, 7, 7, 2, 2, 3, 3, 1, 1, 1},    /* 7x7 stride 2 (ResNet's first) */
    {3, 2, 1, 1, 3, 7, 7, 1, 1, 3, 3, 1, 1, 1},       /* 1x1 image, all padding */
    /* stride and padding beyond 2^24: the host picks 64-bit indices */
    {1, 2, 3, 5, 3, 3, 3, (1 << 24) + 1, 1, (1 << 24) + 1, 1, 1, 1, 1},
};
#define NLAYERS ((int)(sizeof layers / sizeof layers[0]))

/* Offsets (in floats) of a, w and the output; odd ones misalign vectors. */
typedef struct offsets {
    size_t a, w, out;
} offsets;

static void sizes(const clconv_desc *d, gemm_pass p, size_t *na, size_t *nw, size_t *no)
{
    *na = p == FWD ? test_x_elems(d) : test_y_elems(d);
    *nw = test_w_elems(d);
    *no = p == FWD ? test_y_elems(d) : test_x_elems(d);
}

/* A buffer of off + n + GUARD floats: guards around src (or NaN if NULL). */
static cl_mem guarded(clconv_ctx *ctx, const float *src, size_t off, size_t n)
{
    size_t total = off + n + GUARD;
    float *h = test_alloc(total * sizeof *h);
    for (size_t i = 0; i < total; i++)
        h[i] = GUARD_VALUE;
    if (src)
        memcpy(h + off, src, n * sizeof *h);
    else
        test_poison(h + off, n);
    cl_mem m = test_buffer_from(ctx, h, total);
    free(h);
    return m;
}

static void expect_guards(clconv_ctx *ctx, cl_mem m, size_t off, size_t n, const char *what,
                          const char *repro)
{
    size_t total = off + n + GUARD;
    float *h = test_alloc(total * sizeof *h);
    test_download(ctx, m, 0, h, total);
    for (size_t i = 0; i < total; i++)
        if (i < off || i >= off + n)
            cr_expect_eq(h[i], GUARD_VALUE, "%s: %s guard element %zu changed", repro, what, i);
    free(h);
}

/* Run pass p of GEMM: out (no elements) from a and w; base is the old
 * output when accumulating (NULL: overwrite a NaN-poisoned output). */
static void run_gemm(clconv_ctx *ctx, const clconv_desc *d, gemm_pass p, const float *a,
                     const float *w, const float *base, offsets o, float *out)
{
    char repro[160];
    test_desc_str(d, repro, sizeof repro);
    size_t na, nw, no;
    sizes(d, p, &na, &nw, &no);
    cl_mem ma = guarded(ctx, a, o.a, na), mw = guarded(ctx, w, o.w, nw);
    cl_mem mo = guarded(ctx, base, o.out, no);
    clconv_status st =
        p == FWD ? clconv_forward(ctx, d, CLCONV_ALGO_GEMM, ma, o.a, mw, o.w, mo, o.out, NULL)
                 : clconv_backward_data(ctx, d, CLCONV_ALGO_GEMM, ma, o.a, mw, o.w, mo, o.out,
                                        base != NULL, NULL);
    cr_assert_eq(st, CLCONV_OK, "%s: %s: %s", repro, clconv_status_name(st),
                 clconv_last_error(ctx));
    test_download(ctx, mo, o.out, out, no);
    expect_guards(ctx, ma, o.a, na, "input", repro);
    expect_guards(ctx, mw, o.w, nw, "filter", repro);
    expect_guards(ctx, mo, o.out, no, "output", repro);
    clReleaseMemObject(ma);
    clReleaseMemObject(mw);
    clReleaseMemObject(mo);
}

/* One layer and pass against the float64 reference. */
static void check(clconv_ctx *ctx, const clconv_desc *d, gemm_pass p, int accumulate, offsets o,
                  uint64_t seed)
{
    char repro[160];
    test_desc_str(d, repro, sizeof repro);
    size_t na, nw, no;
    sizes(d, p, &na, &nw, &no);
    test_rng rng = test_rng_seed(seed);
    float *a = test_alloc(na * sizeof *a), *w = test_alloc(nw * sizeof *w);
    float *base = accumulate ? test_alloc(no * sizeof *base) : NULL;
    float *out = test_alloc(no * sizeof *out);
    test_fill_random(&rng, a, na);
    test_fill_random(&rng, w, nw);
    if (base)
        test_fill_random(&rng, base, no);
    double *da = test_alloc(na * sizeof *da), *dw = test_alloc(nw * sizeof *dw);
    double *ref = test_alloc(no * sizeof *ref);
    test_to_double(a, da, na);
    test_to_double(w, dw, nw);
    clconv_status st = p == FWD ? clconv_ref_forward(d, da, dw, ref)
                                : clconv_ref_backward_data(d, da, dw, ref);
    cr_assert_eq(st, CLCONV_OK, "%s: reference: %s", repro, clconv_status_name(st));
    for (size_t i = 0; base && i < no; i++)
        ref[i] += base[i];

    run_gemm(ctx, d, p, a, w, base, o, out);
    double err = test_rel_err(out, ref, no);
    cr_expect(err <= TEST_TOL, "%s %s%s offsets %zu/%zu/%zu: rel err %.3g",
              p == FWD ? "forward" : "backward-data", repro, accumulate ? " accumulate" : "",
              o.a, o.w, o.out, err);
    free(a), free(w), free(base), free(out), free(da), free(dw), free(ref);
}

static void all_layers(gemm_pass p, int accumulate, offsets o, uint64_t seed)
{
    clconv_ctx *ctx = test_ctx();
    for (int i = 0; i < NLAYERS; i++)
        check(ctx, &layers[i], p, accumulate, o, seed + (uint64_t)i);
    clconv_free(ctx);
}

Test(gemm_fwd_bwd_data, forward_edge_layers) { all_layers(FWD, 0, (offsets){0, 0, 0}, 100); }

Test(gemm_fwd_bwd_data, backward_data_edge_layers)
{
    all_layers(DATA, 0, (offsets){0, 0, 0}, 200);
}

/* Backward-data adds to dx (phases without taps must leave it as it was);
 * the forward pass has no accumulate mode in the API. */
Test(gemm_fwd_bwd_data, backward_data_accumulate)
{
    all_layers(DATA, 1, (offsets){0, 0, 0}, 300);
}

Test(gemm_fwd_bwd_data, odd_offsets)
{
    all_layers(FWD, 0, (offsets){3, 5, 7}, 400);
    all_layers(DATA, 1, (offsets){1, 7, 3}, 500);
}

/* Two runs of the same call give the same bits (fixed summation order);
 * the layers mix interior and edge tiles and a shifted channel tile. */
Test(gemm_fwd_bwd_data, bitwise_deterministic)
{
    static const clconv_desc d[] = {
        {2, 19, 15, 29, 21, 3, 3, 1, 1, 1, 1, 1, 1, 1},
        {1, 10, 17, 18, 12, 3, 3, 2, 2, 1, 1, 1, 1, 1},
        {1, 37, 6, 7, 11, 1, 1, 1, 1, 0, 0, 1, 1, 1},
    };
    clconv_ctx *ctx = test_ctx();
    for (int i = 0; i < 3; i++)
        for (int p = FWD; p <= DATA; p++) {
            size_t na, nw, no;
            sizes(&d[i], (gemm_pass)p, &na, &nw, &no);
            test_rng rng = test_rng_seed(600 + (uint64_t)i);
            float *a = test_alloc(na * sizeof *a), *w = test_alloc(nw * sizeof *w);
            float *o1 = test_alloc(no * sizeof *o1), *o2 = test_alloc(no * sizeof *o2);
            test_fill_random(&rng, a, na);
            test_fill_random(&rng, w, nw);
            run_gemm(ctx, &d[i], (gemm_pass)p, a, w, NULL, (offsets){0, 0, 0}, o1);
            run_gemm(ctx, &d[i], (gemm_pass)p, a, w, NULL, (offsets){0, 0, 0}, o2);
            char repro[160];
            cr_expect_eq(test_first_diff(o1, o2, no), no, "%s %s: runs differ at element %zu",
                         p == FWD ? "forward" : "backward-data",
                         test_desc_str(&d[i], repro, sizeof repro),
                         test_first_diff(o1, o2, no));
            free(a), free(w), free(o1), free(o2);
        }
    clconv_free(ctx);
}
