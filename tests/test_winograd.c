/* CLCONV_ALGO_WINOGRAD (issue 9) against the float64 reference
 * (tests/feature_check.h: fresh random inputs in [-1, 1), outputs
 * NaN-poisoned with guards, ||out - ref|| / ||ref|| <= 1e-5 in fp32):
 * every pass over channel counts 1..256 (512 for the accuracy sweeps),
 * sizes 1..15, paddings 0, 1, 2 and unequal, batches 1-3, tile rows
 * split into many chunks, accumulate, the fused epilogue, fp16 / bf16 /
 * NHWC / KRSC; the refusals (5x5, stride 2, dilation 2, groups, scratch
 * beyond the device), which write nothing.  Each sweep runs both tiles,
 * F(2x2, 3x3) and F(4x4, 3x3) (winograd_force_wm; the algorithm picks
 * one per layer), and prints the largest error it saw per pass. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "feature_check.h"
#include "winograd.h"

static const char *const pass_names[3] = {"fwd", "bwd_d", "bwd_w"};

/* the largest error of each pass seen by a test, for its summary line */
typedef struct worst {
    double err[3];
    int runs;
} worst;

static double run_case(clconv_ctx *ctx, const clconv_desc *d, int pass, int acc,
                       const clconv_epilogue *ep, int use_bias, uint64_t seed, worst *w)
{
    feature_case c = {.d = *d, .pass = pass, .algo = CLCONV_ALGO_WINOGRAD, .accumulate = acc,
                      .ep = ep, .use_bias = use_bias};
    feature_result r = feature_run(ctx, &c, seed);
    feature_expect_ok(&c, &r);
    if (w && r.st == CLCONV_OK) {
        if (!(r.err <= w->err[pass]))
            w->err[pass] = r.err;
        w->runs++;
    }
    return r.err;
}

static void worst_print(const char *what, int wm, const worst *w)
{
    fprintf(stderr, "winograd F(%dx%d,3x3) %s: %d runs, max rel err fwd %.3g, bwd_d %.3g, "
            "bwd_w %.3g\n", wm, wm, what, w->runs, w->err[0], w->err[1], w->err[2]);
}

/* body(ctx, wm, w) with each tile forced, then its summary */
#define EACH_WM(what, body)                                                \
    do {                                                                   \
        clconv_ctx *ctx_ = test_ctx();                                     \
        for (int wm_ = 2; wm_ <= 4; wm_ += 2) {                            \
            const int old_ = winograd_force_wm(wm_);                       \
            worst w_ = {{0}, 0};                                           \
            body(ctx_, wm_, &w_);                                          \
            winograd_force_wm(old_);                                       \
            worst_print(what, wm_, &w_);                                   \
        }                                                                  \
        clconv_free(ctx_);                                                 \
    } while (0)

/* A 3x3 stride-1 layer with paddings top, bottom, left, right. */
static clconv_desc wlayer(int64_t n, int64_t c, int64_t h, int64_t w, int64_t k, int pt, int pb,
                         int pl, int pr)
{
    clconv_desc d;
    clconv_desc_init(&d, n, c, h, w, k, 3, 3);
    d.pad_h = pt, d.pad_w = pl;
    if (pb != pt || pr != pl) {
        d.pad_asymmetric = 1;
        d.pad_h_end = pb, d.pad_w_end = pr;
    }
    return d;
}

/* the smallest padding of a side that keeps an output row for size in */
static int fit_pad(int64_t in, int pad) { return in + 2 * pad < 3 ? (int)((3 - in + 1) / 2) : pad; }

static void all_passes(clconv_ctx *ctx, const clconv_desc *d, uint64_t seed, worst *w)
{
    for (int pass = 0; pass < 3; pass++)
        run_case(ctx, d, pass, 0, NULL, 0, seed + (uint64_t)pass, w);
}

static const int64_t chans[] = {1, 3, 17, 64, 256};
#define NCH (sizeof chans / sizeof chans[0])
static const int64_t sizes[] = {1, 2, 5, 7, 14, 15};
#define NSZ (sizeof sizes / sizeof sizes[0])

/* Every pair of channel counts C, K in {1, 3, 17, 64, 256}, each on a
 * size, padding and batch taken in turn from the lists. */
static void channel_sweep(clconv_ctx *ctx, int wm, worst *w)
{
    const uint64_t seed = 1000 + 500 * (uint64_t)wm;
    int i = 0;
    for (size_t a = 0; a < NCH; a++)
        for (size_t b = 0; b < NCH; b++, i++) {
            const int64_t h = sizes[(i + 2) % NSZ], wd = sizes[(i * 5 + 3) % NSZ];
            const int pad = i % 3, n = 1 + i % 3;
            /* the 256 x 256 layers at the smaller sizes: the reference's time */
            const int big = chans[a] * chans[b] >= 256 * 64;
            const clconv_desc d = wlayer(big ? 1 + i % 2 : n, chans[a], big ? 7 : h, big ? 14 : wd,
                                        chans[b], fit_pad(h, pad), fit_pad(h, pad),
                                        fit_pad(wd, pad), fit_pad(wd, pad));
            all_passes(ctx, &d, seed + 10 * (uint64_t)i, w);
        }
}

Test(winograd, channels_every_pass, .timeout = 900)
{
    EACH_WM("channels 1..256", channel_sweep);
}

/* Every H, W in {1, 2, 5, 7, 14, 15} with paddings 0, 1, 2 and unequal
 * ones (0 top / 2 bottom, 2 left / 1 right), batches 1 to 3. */
static void size_sweep(clconv_ctx *ctx, int wm, worst *w)
{
    uint64_t seed = 2000 + 1000 * (uint64_t)wm;
    int i = 0;
    for (size_t a = 0; a < NSZ; a++)
        for (size_t b = 0; b < NSZ; b++)
            for (int v = 0; v < 4; v++, i++) {
                const int64_t h = sizes[a], wd = sizes[b];
                int pt = v, pb = v, pl = v, pr = v;
                if (v == 3)
                    pt = 0, pb = 2, pl = 2, pr = 1;
                if (h + pt + pb < 3)
                    pb = (int)(3 - h - pt);
                if (wd + pl + pr < 3)
                    pr = (int)(3 - wd - pl);
                const clconv_desc d = wlayer(1 + i % 3, 1 + i % 5, h, wd, 1 + (i * 3) % 7, pt, pb,
                                            pl, pr);
                all_passes(ctx, &d, seed, w);
                seed += 3;
            }
}

Test(winograd, sizes_and_paddings_every_pass, .timeout = 900)
{
    EACH_WM("sizes 1..15, paddings", size_sweep);
}

/* A padding larger than the filter (backward-data's padding 2 - pad is a
 * crop) and one-sided paddings. */
static void pad_sweep(clconv_ctx *ctx, int wm, worst *w)
{
    static const int pads[][4] = {{3, 3, 3, 3}, {4, 0, 1, 5}, {0, 0, 2, 0}, {2, 0, 0, 0},
                                  {0, 1, 0, 1}, {1, 0, 1, 0}, {5, 5, 0, 0}};
    uint64_t seed = 3000 + 100 * (uint64_t)wm;
    for (size_t i = 0; i < sizeof pads / sizeof pads[0]; i++) {
        const clconv_desc d = wlayer(2, 5, 6, 9, 4, pads[i][0], pads[i][1], pads[i][2], pads[i][3]);
        all_passes(ctx, &d, seed, w);
        seed += 3;
    }
}

Test(winograd, large_and_one_sided_padding, .timeout = 600)
{
    EACH_WM("large/one-sided padding", pad_sweep);
}

/* Tile rows in many chunks (a chunk budget of about one tile row, and of
 * a few), chunk boundaries inside images; backward-filter adds the
 * chunks' GEMMs. */
static void chunk_sweep(clconv_ctx *ctx, int wm, worst *w)
{
    const size_t budgets[] = {1, 200000, 1000000};
    uint64_t seed = 4000 + 100 * (uint64_t)wm;
    for (size_t b = 0; b < sizeof budgets / sizeof budgets[0]; b++) {
        const size_t old = winograd_force_chunk_bytes(budgets[b]);
        const clconv_desc d1 = wlayer(3, 17, 15, 13, 9, 1, 1, 1, 1);
        const clconv_desc d2 = wlayer(2, 64, 28, 28, 64, 1, 2, 0, 1);
        all_passes(ctx, &d1, seed, w);
        all_passes(ctx, &d2, seed + 3, w);
        for (int pass = 1; pass < 3; pass++)
            run_case(ctx, &d1, pass, 1, NULL, 0, seed + 6 + (uint64_t)pass, w);
        winograd_force_chunk_bytes(old);
        seed += 10;
    }
}

Test(winograd, chunks, .timeout = 600)
{
    EACH_WM("chunks", chunk_sweep);
}

/* The default budget splits this one too (F(2x2): 84 tile rows, 73 per
 * chunk; F(4x4): 42, 32 per chunk). */
static void c64_56(clconv_ctx *ctx, int wm, worst *w)
{
    const clconv_desc d = wlayer(3, 64, 56, 56, 64, 1, 1, 1, 1);
    all_passes(ctx, &d, 4500 + (uint64_t)wm, w);
}

Test(winograd, default_chunks_c64_56, .timeout = 600)
{
    EACH_WM("c64 56x56 mb3", c64_56);
}

/* accumulate = 1 adds to dx and dw (beta = 1) */
static void acc_sweep(clconv_ctx *ctx, int wm, worst *w)
{
    uint64_t seed = 5000 + 100 * (uint64_t)wm;
    const clconv_desc ds[] = {wlayer(2, 3, 5, 7, 4, 1, 1, 1, 1),
                              wlayer(1, 17, 14, 15, 64, 0, 2, 2, 1),
                              wlayer(3, 64, 7, 7, 17, 2, 2, 2, 2)};
    for (size_t i = 0; i < sizeof ds / sizeof ds[0]; i++)
        for (int pass = 1; pass < 3; pass++)
            run_case(ctx, &ds[i], pass, 1, NULL, 0, seed++, w);
}

Test(winograd, accumulate, .timeout = 600)
{
    EACH_WM("accumulate", acc_sweep);
}

/* The fused forward epilogue in the output transform's store: every
 * activation, alpha, beta (y_old read, or poisoned and never read), bias. */
static void epi_sweep(clconv_ctx *ctx, int wm, worst *w)
{
    static const float params[CLCONV_ACT_COUNT_] = {0, 0, 0.5f, 0.1f, 0, 0};
    uint64_t seed = 6000 + 100 * (uint64_t)wm;
    for (int act = 0; act < CLCONV_ACT_COUNT_; act++)
        for (int v = 0; v < 2; v++) {
            clconv_epilogue ep;
            clconv_epilogue_init(&ep);
            ep.activation = act, ep.param = params[act];
            ep.alpha = v ? 1.5f : 1.0f, ep.beta = v ? -0.25f : 0.0f;
            /* 34 columns: whole 16-column stores and a tail */
            const clconv_desc d = v ? wlayer(2, 5, 9, 34, 6, 1, 1, 1, 1)
                                    : wlayer(1, 17, 7, 5, 3, 0, 1, 2, 0);
            run_case(ctx, &d, 0, 0, &ep, !v || act % 2, seed++, w);
        }
}

Test(winograd, epilogue_every_activation, .timeout = 600)
{
    EACH_WM("epilogue", epi_sweep);
}

/* Storage types and layouts, alone and combined, every pass (accumulate
 * on the backward ones), with the epilogue on the forward. */
static void dt_sweep(clconv_ctx *ctx, int wm, worst *w)
{
    static const int dts[] = {CLCONV_F32, CLCONV_F16, CLCONV_BF16};
    clconv_epilogue ep;
    clconv_epilogue_init(&ep);
    ep.alpha = 0.75f, ep.beta = 0.5f, ep.activation = CLCONV_ACT_RELU;
    uint64_t seed = 7000 + 1000 * (uint64_t)wm;
    for (size_t t = 0; t < 3; t++)
        for (int lay = 0; lay < 4; lay++) {
            clconv_desc ds[2] = {wlayer(2, 3, 9, 34, 5, 1, 1, 1, 1),
                                 wlayer(1, 17, 6, 7, 20, 0, 2, 2, 1)};
            for (int i = 0; i < 2; i++) {
                clconv_desc *d = &ds[i];
                d->dtype = dts[t];
                d->layout = lay & 1 ? CLCONV_NHWC : CLCONV_NCHW;
                d->filter_layout = lay & 2 ? CLCONV_KRSC : CLCONV_KCRS;
                for (int pass = 0; pass < 3; pass++)
                    for (int acc = 0; acc < (pass ? 2 : 1); acc++)
                        run_case(ctx, d, pass, acc, NULL, 0, seed++, t ? NULL : w);
                run_case(ctx, d, 0, 0, &ep, 1, seed++, t ? NULL : w);
            }
        }
}

/* (the summary: the fp32 runs only; fp16 and bf16 have their own bars) */
Test(winograd, dtypes_and_layouts, .timeout = 900)
{
    EACH_WM("layouts (fp32 runs)", dt_sweep);
}

/* ---- refusals ---------------------------------------------------------------- */

/* A call that must be refused with `want` and write nothing: dx, y and dw
 * hold a pattern before and after. */
static void expect_refused(clconv_ctx *ctx, const clconv_desc *d, clconv_status want,
                           const char *what)
{
    size_t xe, we, ye;
    cr_assert_eq(clconv_tensor_elems(d, &xe, &we, &ye), CLCONV_OK, "%s", what);
    float *x = test_alloc(xe * sizeof(float)), *w = test_alloc(we * sizeof(float));
    float *y = test_alloc(ye * sizeof(float)), *back = test_alloc((xe + we + ye) * sizeof(float));
    test_rng r = test_rng_seed(77);
    test_fill_random(&r, x, xe);
    test_fill_random(&r, w, we);
    test_fill_random(&r, y, ye);
    cl_mem mx = test_buffer_from(ctx, x, xe), mw = test_buffer_from(ctx, w, we),
           my = test_buffer_from(ctx, y, ye);
    const cl_mem outs[3] = {my, mx, mw};
    const float *orig[3] = {y, x, w};
    const size_t n[3] = {ye, xe, we};
    for (int pass = 0; pass < 3; pass++) {
        clconv_status st;
        cl_event ev = (cl_event)(uintptr_t)1;
        if (pass == 0)
            st = clconv_forward(ctx, d, CLCONV_ALGO_WINOGRAD, mx, 0, mw, 0, my, 0, &ev);
        else if (pass == 1)
            st = clconv_backward_data(ctx, d, CLCONV_ALGO_WINOGRAD, my, 0, mw, 0, mx, 0, 0, &ev);
        else
            st = clconv_backward_filter(ctx, d, CLCONV_ALGO_WINOGRAD, mx, 0, my, 0, mw, 0, 0,
                                        &ev);
        cr_expect_eq(st, want, "%s %s: %s (%s)", what, pass_names[pass], clconv_status_name(st),
                     clconv_last_error(ctx));
        cr_expect_null(ev, "%s %s: *event after a refusal", what, pass_names[pass]);
        cr_expect(strstr(clconv_last_error(ctx), "winograd"), "%s %s: message \"%s\"", what,
                  pass_names[pass], clconv_last_error(ctx));
        test_download(ctx, outs[pass], 0, back, n[pass]);
        cr_expect_eq(memcmp(back, orig[pass], n[pass] * sizeof(float)), 0,
                     "%s %s: the output was written", what, pass_names[pass]);
    }
    clReleaseMemObject(mx);
    clReleaseMemObject(mw);
    clReleaseMemObject(my);
    free(x), free(w), free(y), free(back);
}

Test(winograd, refuses_what_it_does_not_run)
{
    clconv_ctx *ctx = test_ctx();
    clconv_desc d;
    clconv_desc_init(&d, 1, 4, 9, 9, 4, 5, 5);
    expect_refused(ctx, &d, CLCONV_NOT_SUPPORTED, "5x5");
    clconv_desc_init(&d, 1, 4, 9, 9, 4, 3, 1);
    expect_refused(ctx, &d, CLCONV_NOT_SUPPORTED, "3x1");
    clconv_desc_init(&d, 1, 4, 9, 9, 4, 3, 3);
    d.stride_h = 2;
    expect_refused(ctx, &d, CLCONV_NOT_SUPPORTED, "stride 2");
    clconv_desc_init(&d, 1, 4, 9, 9, 4, 3, 3);
    d.dilation_w = 2;
    expect_refused(ctx, &d, CLCONV_NOT_SUPPORTED, "dilation 2");
    clconv_desc_init(&d, 1, 4, 9, 9, 4, 3, 3);
    d.groups = 2;
    expect_refused(ctx, &d, CLCONV_NOT_SUPPORTED, "groups 2");
    clconv_desc_init(&d, 1, 4, 9, 9, 4, 3, 3);
    d.groups = 4;
    expect_refused(ctx, &d, CLCONV_NOT_SUPPORTED, "depthwise");
    /* the refusal is the named status (AUTO's choice: auto_takes_it_where_it_pays) */
    clconv_free(ctx);
}

/* Scratch beyond the device's largest allocation: DEVICE_LIMIT, nothing
 * written; the query still says what it would need. */
Test(winograd, refuses_scratch_beyond_the_device)
{
    clconv_ctx *ctx = test_ctx();
    const clconv_desc d = wlayer(1, 64, 14, 14, 64, 1, 1, 1, 1);
    for (int pass = 0; pass < 3; pass++) {
        size_t need = 0;
        cr_assert_eq(clconv_workspace_size(ctx, &d, (clconv_pass)pass, CLCONV_ALGO_WINOGRAD,
                                           &need), CLCONV_OK);
        /* transformed filter, inputs and products: 16 planes of at least C*K floats */
        cr_expect_geq(need, (size_t)16 * 64 * 64 * sizeof(float), "%s: %zu", pass_names[pass],
                      need);
    }
    const cl_ulong real = ctx->info.max_alloc;
    ctx->info.max_alloc = 4096;
    expect_refused(ctx, &d, CLCONV_DEVICE_LIMIT, "max_alloc 4096");
    ctx->info.max_alloc = real;
    /* and the context still runs the layer */
    all_passes(ctx, &d, 8000, NULL);
    clconv_free(ctx);
}

/* ---- accuracy at C up to 512 ------------------------------------------------- */

/* C = K = 128, 256, 512 at 14x14 and 7x7, and 512 -> 64 / 64 -> 512 */
static void wide_sweep(clconv_ctx *ctx, int wm, worst *w)
{
    const int64_t big[][2] = {{128, 128}, {256, 256}, {512, 512}, {512, 64}, {64, 512}};
    uint64_t seed = 9000 + 100 * (uint64_t)wm;
    for (size_t j = 0; j < sizeof big / sizeof big[0]; j++) {
        const clconv_desc d14 = wlayer(1, big[j][0], 14, 14, big[j][1], 1, 1, 1, 1);
        const clconv_desc d7 = wlayer(2, big[j][0], 7, 7, big[j][1], 1, 1, 1, 1);
        all_passes(ctx, &d14, seed, w);
        all_passes(ctx, &d7, seed + 3, w);
        seed += 6;
    }
}

Test(winograd, channels_up_to_512, .timeout = 900)
{
    EACH_WM("C, K 64..512", wide_sweep);
}

/* The tile the algorithm picks itself: each of the two on some layer. */
Test(winograd, own_choice_runs)
{
    clconv_ctx *ctx = test_ctx();
    const clconv_desc d1 = wlayer(1, 64, 28, 28, 64, 1, 1, 1, 1);
    const clconv_desc d2 = wlayer(1, 512, 7, 7, 512, 1, 1, 1, 1);
    /* which one runs shows in the scratch it asks for */
    size_t own[2], f2[2], f4[2];
    for (int i = 0; i < 2; i++) {
        const clconv_desc *d = i ? &d2 : &d1;
        cr_assert_eq(clconv_workspace_size(ctx, d, CLCONV_PASS_FORWARD, CLCONV_ALGO_WINOGRAD,
                                           &own[i]), CLCONV_OK);
        int old = winograd_force_wm(2);
        cr_assert_eq(clconv_workspace_size(ctx, d, CLCONV_PASS_FORWARD, CLCONV_ALGO_WINOGRAD,
                                           &f2[i]), CLCONV_OK);
        winograd_force_wm(4);
        cr_assert_eq(clconv_workspace_size(ctx, d, CLCONV_PASS_FORWARD, CLCONV_ALGO_WINOGRAD,
                                           &f4[i]), CLCONV_OK);
        winograd_force_wm(old);
    }
    cr_expect(f2[0] != f4[0] && own[0] == f4[0], "c64 28x28 takes F(4x4): %zu %zu %zu", own[0],
              f2[0], f4[0]);
    cr_expect(f2[1] != f4[1] && own[1] == f2[1], "c512 7x7 takes F(2x2): %zu %zu %zu", own[1],
              f2[1], f4[1]);
    all_passes(ctx, &d1, 9900, NULL);
    all_passes(ctx, &d2, 9910, NULL);
    clconv_free(ctx);
}

/* ---- non-finite values (README, "Non-finite values") ------------------------ */

/* Every pass follows the reference's rule, as DIRECT and
 * GEMM do (tests/test_nonfinite.c): NaN exactly where the float64
 * reference is NaN, +-Inf exactly where it is an Inf of that sign, the
 * finite elements within the bar.  Inputs are small integers (exact
 * sums); one tensor (w, x or dy) gets +Inf at a corner, or +Inf inside,
 * or +Inf, -Inf, NaN and -Inf at a corner, the end of a middle row, the
 * middle of the last row and inside.  A transform mixes a window's
 * elements, so an Inf there turns neighbours NaN that the reference keeps
 * finite: those are re-summed over their real terms. */
static const clconv_desc *nf_layers(int *count)
{
    static clconv_desc ls[5];
    ls[0] = wlayer(2, 8, 10, 10, 16, 1, 1, 1, 1); /* pad 1: edge tiles */
    ls[1] = wlayer(1, 5, 11, 13, 12, 0, 0, 0, 0); /* no padding, partial tiles */
    ls[2] = wlayer(1, 4, 9, 9, 6, 2, 2, 2, 2);    /* pad 2: bwd-data's crop */
    ls[3] = wlayer(1, 4, 40, 40, 12, 1, 1, 1, 1); /* wide: the 16-wide stores */
    ls[4] = wlayer(1, 3, 9, 34, 5, 0, 2, 2, 1);   /* unequal padding */
    *count = 5;
    return ls;
}

static size_t nf_at(int64_t a, int64_t b, int64_t c, int64_t e, int64_t B, int64_t C, int64_t E)
{
    return (size_t)(((a * B + b) * C + c) * E + e);
}

/* pattern 0: +Inf at the corner; 1: +Inf inside; 2: +Inf, -Inf, NaN, -Inf
 * at the corner, a middle row's end, the last row's middle, inside */
static void nf_poison(float *a, const int64_t dm[4], int pattern)
{
    const int64_t A = dm[0], B = dm[1], C = dm[2], E = dm[3];
    const size_t corner = nf_at(0, 0, 0, 0, B, C, E);
    const size_t inside = nf_at(A / 2, B / 2, C / 2, E / 2, B, C, E);
    if (pattern == 0) {
        a[corner] = INFINITY;
        return;
    }
    if (pattern == 1) {
        a[inside] = INFINITY;
        return;
    }
    a[corner] = INFINITY;
    a[nf_at(A / 2, B - 1, C / 2, E - 1, B, C, E)] = -INFINITY;
    a[nf_at(A - 1, B / 2, C - 1, E / 2, B, C, E)] = NAN;
    a[inside] = -INFINITY;
}

/* Backward-filter of d with x or dy poisoned (each pattern): dw follows
 * the reference's rule as the other passes do (wino_filter_out re-sums
 * the non-finite elements). */
static void nf_backward_filter(clconv_ctx *ctx, const clconv_desc *d, int wm, const int64_t xd[4],
                               const int64_t yd[4])
{
    char repro[160];
    test_desc_str(d, repro, sizeof repro);
    const size_t xe = (size_t)(xd[0] * xd[1] * xd[2] * xd[3]), we = (size_t)(d->k * d->c * 9),
                 ye = (size_t)(yd[0] * yd[1] * yd[2] * yd[3]);
    for (int ondy = 0; ondy < 2; ondy++)
        for (int pat = 0; pat < 3; pat++) {
            float *x = test_alloc(xe * sizeof(float)), *dy = test_alloc(ye * sizeof(float));
            float *out = test_alloc(we * sizeof(float));
            test_rng r = test_rng_seed(0x776E67ull + (uint64_t)(ondy * 16 + pat));
            test_fill_int(&r, x, xe, -3, 3);
            test_fill_int(&r, dy, ye, -3, 3);
            nf_poison(ondy ? dy : x, ondy ? yd : xd, pat);
            double *dx = test_alloc(xe * sizeof(double)), *ddy = test_alloc(ye * sizeof(double));
            double *want = test_alloc(we * sizeof(double));
            test_to_double(x, dx, xe);
            test_to_double(dy, ddy, ye);
            cr_assert_eq(clconv_ref_backward_filter(d, dx, ddy, want), CLCONV_OK);
            for (size_t i = 0; i < we; i++)
                out[i] = -7777.25f;
            clconv_status st =
                clconv_backward_filter_host(ctx, d, CLCONV_ALGO_WINOGRAD, x, dy, out, 0);
            cr_assert_eq(st, CLCONV_OK, "%s: %s", repro, clconv_last_error(ctx));
            char what[256];
            snprintf(what, sizeof what, "F(%dx%d) %s backward-filter, non-finite %s, pattern %d",
                     wm, wm, repro, ondy ? "dy" : "x", pat);
            cr_expect(test_expect_same_values(out, want, we, TEST_TOL, what) > 0,
                      "%s: the reference has no non-finite element", what);
            free(x), free(dy), free(out), free(dx), free(ddy), free(want);
        }
}

/* fp32 through the host calls: every layer, pattern, target and pass */
static void nf_sweep(clconv_ctx *ctx, int wm, worst *w)
{
    (void)w;
    int nl;
    const clconv_desc *ls = nf_layers(&nl);
    for (int li = 0; li < nl; li++) {
        const clconv_desc *d = &ls[li];
        char repro[160];
        test_desc_str(d, repro, sizeof repro);
        int64_t p, q;
        cr_assert_eq(clconv_output_size(d, &p, &q), CLCONV_OK);
        const int64_t xd[4] = {d->n, d->c, d->h, d->w}, wd[4] = {d->k, d->c, 3, 3},
                      yd[4] = {d->n, d->k, p, q};
        const size_t xe = (size_t)(xd[0] * xd[1] * xd[2] * xd[3]), we = (size_t)(d->k * d->c * 9),
                     ye = (size_t)(yd[0] * yd[1] * yd[2] * yd[3]);
        for (int bwd = 0; bwd < 2; bwd++)
            for (int onw = 0; onw < 2; onw++)
                for (int pat = 0; pat < 3; pat++) {
                    float *in = test_alloc((bwd ? ye : xe) * sizeof(float));
                    float *wt = test_alloc(we * sizeof(float));
                    const size_t oe = bwd ? xe : ye;
                    float *out = test_alloc(oe * sizeof(float));
                    test_rng r = test_rng_seed(0x776E66ull + (uint64_t)(li * 16 + pat));
                    test_fill_int(&r, in, bwd ? ye : xe, -3, 3);
                    test_fill_int(&r, wt, we, -3, 3);
                    nf_poison(onw ? wt : in, onw ? wd : bwd ? yd : xd, pat);
                    double *din = test_alloc((bwd ? ye : xe) * sizeof(double));
                    double *dwt = test_alloc(we * sizeof(double));
                    double *want = test_alloc(oe * sizeof(double));
                    test_to_double(in, din, bwd ? ye : xe);
                    test_to_double(wt, dwt, we);
                    cr_assert_eq(bwd ? clconv_ref_backward_data(d, din, dwt, want)
                                     : clconv_ref_forward(d, din, dwt, want),
                                 CLCONV_OK);
                    for (size_t i = 0; i < oe; i++)
                        out[i] = -7777.25f;
                    clconv_status st =
                        bwd ? clconv_backward_data_host(ctx, d, CLCONV_ALGO_WINOGRAD, in, wt, out, 0)
                            : clconv_forward_host(ctx, d, CLCONV_ALGO_WINOGRAD, in, wt, out);
                    cr_assert_eq(st, CLCONV_OK, "%s: %s", repro, clconv_last_error(ctx));
                    char what[256];
                    snprintf(what, sizeof what, "F(%dx%d) %s %s, non-finite %s, pattern %d", wm,
                             wm, repro, bwd ? "backward-data" : "forward",
                             onw ? "w" : bwd ? "dy" : "x", pat);
                    cr_expect(test_expect_same_values(out, want, oe, TEST_TOL, what) > 0,
                              "%s: the reference has no non-finite element", what);
                    free(in), free(wt), free(out), free(din), free(dwt), free(want);
                }
        nf_backward_filter(ctx, d, wm, xd, yd);
    }
}

Test(winograd, nonfinite_follows_the_reference, .timeout = 600)
{
    EACH_WM("non-finite (fp32)", nf_sweep);
}

/* fp16 on device buffers: one layer, the mixed pattern, x / dy and w */
static cl_mem nf_upload(clconv_ctx *ctx, const float *f, size_t n)
{
    uint16_t *h = test_alloc(n * sizeof(uint16_t));
    for (size_t i = 0; i < n; i++)
        h[i] = test_f32_to_f16(f[i]);
    cl_int err;
    cl_mem m = clCreateBuffer(clconv_cl_context(ctx), CL_MEM_READ_WRITE | CL_MEM_COPY_HOST_PTR,
                              n * sizeof(uint16_t), h, &err);
    cr_assert_not_null(m, "clCreateBuffer: %d", (int)err);
    free(h);
    return m;
}

static void nf_f16(clconv_ctx *ctx, int wm, worst *w)
{
    (void)w;
    clconv_desc d = wlayer(1, 4, 9, 20, 6, 1, 1, 1, 1);
    d.dtype = CLCONV_F16;
    int64_t p, q;
    cr_assert_eq(clconv_output_size(&d, &p, &q), CLCONV_OK);
    const int64_t xd[4] = {d.n, d.c, d.h, d.w}, wd[4] = {d.k, d.c, 3, 3},
                  yd[4] = {d.n, d.k, p, q};
    const size_t xe = (size_t)(d.n * d.c * d.h * d.w), we = (size_t)(d.k * d.c * 9),
                 ye = (size_t)(d.n * d.k * p * q);
    for (int bwd = 0; bwd < 2; bwd++)
        for (int onw = 0; onw < 2; onw++) {
            test_rng r = test_rng_seed(0x66313600ull + (uint64_t)(bwd * 2 + onw));
            const size_t ie = bwd ? ye : xe, oe = bwd ? xe : ye;
            float *in = test_alloc(ie * sizeof(float)), *wt = test_alloc(we * sizeof(float));
            float *o = test_alloc(oe * sizeof(float));
            test_fill_int(&r, in, ie, -3, 3);
            test_fill_int(&r, wt, we, -3, 3);
            nf_poison(onw ? wt : in, onw ? wd : bwd ? yd : xd, 2);
            for (size_t i = 0; i < oe; i++)
                o[i] = NAN;
            double *din = test_alloc(ie * sizeof(double)), *dwt = test_alloc(we * sizeof(double));
            double *want = test_alloc(oe * sizeof(double));
            test_to_double(in, din, ie);
            test_to_double(wt, dwt, we);
            cr_assert_eq(bwd ? clconv_ref_backward_data(&d, din, dwt, want)
                             : clconv_ref_forward(&d, din, dwt, want),
                         CLCONV_OK);
            cl_mem mi = nf_upload(ctx, in, ie), mw = nf_upload(ctx, wt, we),
                   mo = nf_upload(ctx, o, oe);
            clconv_status st =
                bwd ? clconv_backward_data(ctx, &d, CLCONV_ALGO_WINOGRAD, mi, 0, mw, 0, mo, 0, 0,
                                           NULL)
                    : clconv_forward(ctx, &d, CLCONV_ALGO_WINOGRAD, mi, 0, mw, 0, mo, 0, NULL);
            cr_assert_eq(st, CLCONV_OK, "fp16: %s", clconv_last_error(ctx));
            uint16_t *h = test_alloc(oe * sizeof(uint16_t));
            cr_assert_eq(clEnqueueReadBuffer(clconv_cl_queue(ctx), mo, CL_TRUE, 0,
                                             oe * sizeof(uint16_t), h, 0, NULL, NULL),
                         CL_SUCCESS);
            for (size_t i = 0; i < oe; i++)
                o[i] = test_f16_to_f32(h[i]);
            char what[128];
            snprintf(what, sizeof what, "F(%dx%d) fp16 %s, non-finite %s", wm, wm,
                     bwd ? "backward-data" : "forward", onw ? "w" : bwd ? "dy" : "x");
            cr_expect(test_expect_same_values(o, want, oe, 1e-3, what) > 0,
                      "%s: the reference has no non-finite element", what);
            clReleaseMemObject(mi), clReleaseMemObject(mw), clReleaseMemObject(mo);
            free(in), free(wt), free(o), free(h), free(din), free(dwt), free(want);
        }
}

Test(winograd, nonfinite_fp16)
{
    EACH_WM("non-finite (fp16)", nf_f16);
}

/* AUTO runs WINOGRAD for forward and backward-data of 3x3 stride-1 layers
 * with 64 channels and more in and out, for backward-filter with 128 and
 * more and 128 to 25088 tiles, GEMM otherwise: AUTO's output is the named
 * algorithm's bit for bit, and within fp32's bound of the float64
 * reference. */
static void expect_auto_is(clconv_ctx *ctx, const clconv_desc *d, int pass, clconv_algo want)
{
    size_t xe, we, ye;
    clconv_tensor_elems(d, &xe, &we, &ye);
    const size_t na = pass == 1 ? ye : xe, nb = pass == 2 ? ye : we;
    const size_t no = pass == 0 ? ye : pass == 1 ? xe : we;
    test_rng rng = test_rng_seed(900 + (uint64_t)pass + (uint64_t)d->c);
    float *a = test_alloc(na * sizeof(float)), *b = test_alloc(nb * sizeof(float));
    float *got = test_alloc(no * sizeof(float)), *named = test_alloc(no * sizeof(float));
    double *da = test_alloc(na * sizeof(double)), *db = test_alloc(nb * sizeof(double));
    double *ref = test_alloc(no * sizeof(double));
    test_fill_random(&rng, a, na);
    test_fill_random(&rng, b, nb);
    test_to_double(a, da, na);
    test_to_double(b, db, nb);
    test_poison(got, no);
    test_poison(named, no);
    cr_assert_eq(test_host_pass(ctx, d, pass, CLCONV_ALGO_AUTO, a, b, got, 0, da, db, ref),
                 CLCONV_OK, "%s", clconv_last_error(ctx));
    cr_assert_eq(test_host_pass(ctx, d, pass, want, a, b, named, 0, da, db, ref), CLCONV_OK,
                 "%s", clconv_last_error(ctx));
    char rs[CLCONV_DESC_STRING_MAX];
    cr_expect_eq(test_first_diff(got, named, no), no, "%s %s: AUTO is not %s",
                 test_desc_str(d, rs, sizeof rs), pass_names[pass], clconv_algo_name(want));
    const double err = test_rel_err(got, ref, no);
    cr_expect(err <= TEST_TOL, "%s %s: relative error %g", rs, pass_names[pass], err);
    free(a), free(b), free(got), free(named), free(da), free(db), free(ref);
}

Test(winograd, auto_takes_it_where_it_pays, .timeout = 600)
{
    clconv_ctx *ctx = test_ctx();
    const clconv_desc deep = wlayer(2, 64, 9, 11, 72, 1, 1, 1, 1);
    const clconv_desc narrow = wlayer(2, 64, 9, 11, 32, 1, 1, 1, 1);
    /* 128 channels, 2 x 8 x 8 = 128 tiles: backward-filter too; with 7 x 7
     * outputs (2 x 16 tiles), GEMM's */
    const clconv_desc wide = wlayer(2, 128, 16, 16, 128, 1, 1, 1, 1);
    const clconv_desc few = wlayer(2, 128, 7, 7, 128, 1, 1, 1, 1);
    for (int pass = 0; pass < 3; pass++) {
        expect_auto_is(ctx, &deep, pass, pass < 2 ? CLCONV_ALGO_WINOGRAD : CLCONV_ALGO_GEMM);
        /* 32 output channels: GEMM both ways (forward's out, backward-data's in) */
        expect_auto_is(ctx, &narrow, pass, CLCONV_ALGO_GEMM);
        expect_auto_is(ctx, &wide, pass, CLCONV_ALGO_WINOGRAD);
        expect_auto_is(ctx, &few, pass, pass < 2 ? CLCONV_ALGO_WINOGRAD : CLCONV_ALGO_GEMM);
    }
    clconv_free(ctx);
}
