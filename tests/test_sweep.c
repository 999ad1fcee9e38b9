/* Every algorithm of every pass against the float64 reference over a
 * seeded random sweep of SWEEP_LAYERS layers: strides 1-4, padding 0-3
 * (often >= the kernel), dilation 1-3, kernels 1x1 to 7x7 and non-square,
 * non-square inputs with remainders, N 1-4, C and K 1-33, groups including
 * depthwise.  The first layers are hand-picked corner cases; the rest are
 * drawn from the bounds below, which keep each pass under SWEEP_MAX_FLOPS so
 * the suite stays quick on a 2-core CPU through PoCL.
 *
 * Per layer: fresh random inputs; overwrite-mode outputs start as NaN (an
 * element a kernel forgets to write fails); accumulate mode (alternating
 * per layer and pass) starts from random values and expects old + grad.
 * Even layers use cl_mem calls (every other one at nonzero offsets, with
 * guard elements around every operand that must come back untouched and
 * inputs that must stay unchanged); odd layers use the host convenience
 * calls.  Device-path layers also check clconv_upsample_pad and
 * clconv_flip_filter against the header's formulas, and EXPLICIT and
 * DIRECT against each other.  A failure prints the layer as a repro string
 * (benchdnn syntax) with its index in the sweep.
 *
 * The sweep is split into slices (one Criterion test each) so that a crash
 * loses one slice and a filter on the suite shows progress.  GEMM has its own
 * slices, skipped only while clconv_forward answers CLCONV_BAD_ALGORITHM. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "util.h"

#define SWEEP_LAYERS 320
#define SWEEP_SLICES 8
#define SWEEP_PER_SLICE (SWEEP_LAYERS / SWEEP_SLICES)
#define SWEEP_MAX_FLOPS 1.5e6
#define SWEEP_SEED 20261128u
#define GUARD_VALUE 4242.25f /* around device operands: must survive every call */

static const test_layer_bounds sweep_bounds = {
    .max_n = 4, .max_ck = 33, .max_hw = 20, .max_rs = 7, .max_stride = 4, .max_pad = 3,
    .max_dil = 3, .max_flops = SWEEP_MAX_FLOPS,
};

/* Corner cases first: {n, c, h, w, k, r, s, sh, sw, ph, pw, dh, dw, g}. */
static const clconv_desc forced[] = {
    {1, 33, 20, 20, 33, 3, 3, 1, 1, 1, 1, 1, 1, 33},  /* depthwise, C = K = 33 */
    {4, 33, 7, 5, 33, 1, 1, 1, 1, 0, 0, 1, 1, 1},     /* widest 1x1, N = 4 */
    {1, 3, 19, 17, 8, 7, 7, 4, 4, 3, 3, 1, 1, 1},     /* 7x7 stride 4 with remainders */
    {2, 2, 20, 13, 3, 1, 7, 1, 2, 0, 3, 1, 3, 1},     /* 1x7, dilation 3 across */
    {1, 4, 5, 4, 5, 1, 1, 2, 2, 3, 3, 1, 1, 1},       /* padding 3 > 1x1 kernel */
    {2, 3, 9, 10, 2, 2, 3, 3, 3, 3, 3, 2, 2, 1},      /* padding > kernel, dilated */
    {1, 9, 11, 16, 6, 5, 3, 2, 3, 1, 2, 1, 1, 3},     /* 3 groups, non-square all */
    {3, 2, 1, 1, 2, 7, 7, 1, 1, 3, 3, 1, 1, 1},       /* 1x1 input, 7x7 kernel, all padding */
    {1, 2, 20, 20, 3, 2, 2, 4, 4, 0, 0, 1, 1, 1},     /* stride 4 > kernel 2: skipped inputs */
    {4, 1, 20, 20, 33, 3, 3, 1, 1, 0, 0, 3, 3, 1},    /* C = 1, K = 33, dilation 3 */
    {2, 11, 9, 9, 33, 3, 3, 2, 2, 1, 1, 1, 1, 11},    /* depthwise multiplier 3 */
    {1, 33, 8, 8, 1, 7, 7, 1, 1, 3, 3, 1, 1, 1},      /* K = 1, 7x7 "same" */
    {1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1},       /* smallest layer */
    {2, 4, 17, 3, 4, 4, 2, 3, 1, 2, 0, 2, 1, 2},      /* tall input, even kernel */
};
#define NFORCED ((int)(sizeof forced / sizeof forced[0]))

/* Layer idx of the sweep: forced, else drawn from its own seed so that each
 * layer is reproducible on its own. */
static clconv_desc sweep_desc(int idx)
{
    if (idx < NFORCED)
        return forced[idx];
    test_rng r = test_rng_seed(SWEEP_SEED + (uint64_t)idx);
    return test_random_desc(&r, &sweep_bounds);
}

typedef enum { FWD, DATA, FILTER, BIAS, NPASS } which_pass;
static const char *const pass_names[NPASS] = {"forward", "backward-data", "backward-filter",
                                              "backward-bias"};

/* Everything one layer needs: inputs, accumulate bases and expectations. */
typedef struct sweep_layer {
    int idx;
    clconv_desc d;
    char repro[160];
    test_rng rng;
    int device;           /* cl_mem calls (else host convenience calls) */
    int offsets;          /* nonzero offsets on the cl_mem calls */
    size_t n[NPASS];      /* output elements per pass: y, dx, dw, db */
    int acc[NPASS];       /* accumulate mode per pass */
    float *x, *w, *dy;
    float *base[NPASS];   /* initial output contents (NaN when overwriting) */
    double *want[NPASS];  /* reference (+ base when accumulating) */
} sweep_layer;

static void layer_free(sweep_layer *L)
{
    free(L->x), free(L->w), free(L->dy);
    for (int p = 0; p < NPASS; p++)
        free(L->base[p]), free(L->want[p]);
}

/* The library's sizes must match the formula before anything runs. */
static void check_sizes(const sweep_layer *L, size_t xe, size_t we, size_t ye)
{
    const clconv_desc *d = &L->d;
    int64_t p, q;
    clconv_status st = clconv_desc_check(d);
    cr_assert_eq(st, CLCONV_OK, "layer %d %s: desc_check %s", L->idx, L->repro,
                 clconv_status_name(st));
    cr_assert_eq(clconv_output_size(d, &p, &q), CLCONV_OK);
    cr_assert(p == test_out_len(d->h, d->r, d->stride_h, d->pad_h, d->dilation_h) &&
                  q == test_out_len(d->w, d->s, d->stride_w, d->pad_w, d->dilation_w),
              "layer %d %s: output size %lldx%lld", L->idx, L->repro, (long long)p,
              (long long)q);
    size_t a, b, c;
    cr_assert_eq(clconv_tensor_elems(d, &a, &b, &c), CLCONV_OK);
    cr_assert(a == xe && b == we && c == ye, "layer %d %s: tensor_elems", L->idx, L->repro);
}

static double *ref_alloc(size_t n) { return test_alloc(n * sizeof(double)); }

/* Inputs, reference results, accumulate bases. */
static void layer_init(sweep_layer *L, int idx)
{
    memset(L, 0, sizeof *L);
    L->idx = idx;
    L->d = sweep_desc(idx);
    test_desc_str(&L->d, L->repro, sizeof L->repro);
    L->rng = test_rng_seed(SWEEP_SEED ^ (0xABCDull * (uint64_t)(idx + 1)));
    L->device = idx % 2 == 0;
    L->offsets = idx % 4 == 0;
    const size_t xe = test_x_elems(&L->d), we = test_w_elems(&L->d), ye = test_y_elems(&L->d);
    check_sizes(L, xe, we, ye);
    L->n[FWD] = ye, L->n[DATA] = xe, L->n[FILTER] = we, L->n[BIAS] = (size_t)L->d.k;
    /* every pass sees both modes over the sweep, in different layers */
    L->acc[FWD] = 0;
    L->acc[DATA] = idx & 1;
    L->acc[FILTER] = (idx >> 1) & 1;
    L->acc[BIAS] = (idx >> 2) & 1;

    L->x = test_alloc(xe * sizeof(float));
    L->w = test_alloc(we * sizeof(float));
    L->dy = test_alloc(ye * sizeof(float));
    test_fill_random(&L->rng, L->x, xe);
    test_fill_random(&L->rng, L->w, we);
    test_fill_random(&L->rng, L->dy, ye);

    double *x = ref_alloc(xe), *w = ref_alloc(we), *dy = ref_alloc(ye);
    test_to_double(L->x, x, xe);
    test_to_double(L->w, w, we);
    test_to_double(L->dy, dy, ye);
    for (int p = 0; p < NPASS; p++)
        L->want[p] = ref_alloc(L->n[p]);
    cr_assert_eq(clconv_ref_forward(&L->d, x, w, L->want[FWD]), CLCONV_OK);
    cr_assert_eq(clconv_ref_backward_data(&L->d, dy, w, L->want[DATA]), CLCONV_OK);
    cr_assert_eq(clconv_ref_backward_filter(&L->d, x, dy, L->want[FILTER]), CLCONV_OK);
    cr_assert_eq(clconv_ref_backward_bias(&L->d, dy, L->want[BIAS]), CLCONV_OK);
    free(x), free(w), free(dy);

    for (int p = 0; p < NPASS; p++) {
        L->base[p] = test_alloc(L->n[p] * sizeof(float));
        if (!L->acc[p]) {
            test_poison(L->base[p], L->n[p]);
            continue;
        }
        test_fill_random(&L->rng, L->base[p], L->n[p]);
        for (size_t i = 0; i < L->n[p]; i++)
            L->want[p][i] += L->base[p][i];
    }
}

/* The two inputs of a pass and their element counts. */
static void pass_inputs(const sweep_layer *L, which_pass p, const float **a, size_t *na,
                        const float **b, size_t *nb)
{
    const size_t xe = L->n[DATA], we = L->n[FILTER], ye = L->n[FWD];
    switch (p) {
    case FWD: *a = L->x, *na = xe, *b = L->w, *nb = we; break;
    case DATA: *a = L->dy, *na = ye, *b = L->w, *nb = we; break;
    case FILTER: *a = L->x, *na = xe, *b = L->dy, *nb = ye; break;
    default: *a = L->dy, *na = ye, *b = NULL, *nb = 0; break;
    }
}

/* ---- device operands with offsets and guards ------------------------- */

typedef struct operand {
    cl_mem m;
    size_t off, n, total;
} operand;

/* A buffer holding src at a (maybe nonzero) offset, with GUARD_VALUE
 * before and after it. */
static operand operand_new(clconv_ctx *ctx, sweep_layer *L, const float *src, size_t n)
{
    operand o = {NULL, 0, n, 0};
    size_t tail = 0;
    if (L->offsets) {
        o.off = (size_t)test_rng_int(&L->rng, 1, 37);
        tail = (size_t)test_rng_int(&L->rng, 0, 3);
    }
    o.total = o.off + n + tail;
    float *tmp = test_alloc(o.total * sizeof *tmp);
    for (size_t i = 0; i < o.total; i++)
        tmp[i] = GUARD_VALUE;
    memcpy(tmp + o.off, src, n * sizeof *tmp);
    o.m = test_buffer_from(ctx, tmp, o.total);
    free(tmp);
    return o;
}

/* Read the operand back into out (n floats) and check its guards; when
 * `expect` is given, the payload must also equal it bit for bit (inputs
 * must come back unchanged). */
static void operand_finish(clconv_ctx *ctx, const sweep_layer *L, operand *o, float *out,
                           const float *expect, const char *what)
{
    float *tmp = test_alloc(o->total * sizeof *tmp);
    test_download(ctx, o->m, 0, tmp, o->total);
    for (size_t i = 0; i < o->total; i++) {
        if (i == o->off) {
            i += o->n - 1;
            continue;
        }
        if (!(tmp[i] == GUARD_VALUE)) {
            cr_expect_fail("layer %d %s: %s: guard element %zu of %zu (payload at %zu) became %g",
                           L->idx, L->repro, what, i, o->total, o->off, (double)tmp[i]);
            break;
        }
    }
    if (out)
        memcpy(out, tmp + o->off, o->n * sizeof *out);
    if (expect) {
        size_t i = test_first_diff(tmp + o->off, expect, o->n);
        cr_expect_eq(i, o->n, "layer %d %s: %s: input element %zu was modified", L->idx,
                     L->repro, what, i);
    }
    free(tmp);
    clReleaseMemObject(o->m);
}

static clconv_status enqueue(clconv_ctx *ctx, const sweep_layer *L, which_pass p, clconv_algo algo,
                             const operand *a, const operand *b, const operand *o, cl_event *ev)
{
    const clconv_desc *d = &L->d;
    switch (p) {
    case FWD:
        return clconv_forward(ctx, d, algo, a->m, a->off, b->m, b->off, o->m, o->off, ev);
    case DATA:
        return clconv_backward_data(ctx, d, algo, a->m, a->off, b->m, b->off, o->m, o->off,
                                    L->acc[p], ev);
    case FILTER:
        return clconv_backward_filter(ctx, d, algo, a->m, a->off, b->m, b->off, o->m, o->off,
                                      L->acc[p], ev);
    default:
        return clconv_backward_bias(ctx, d, a->m, a->off, o->m, o->off, L->acc[p], ev);
    }
}

/* One pass through cl_mem calls; out holds the result afterwards. */
static clconv_status run_device(clconv_ctx *ctx, sweep_layer *L, which_pass p, clconv_algo algo,
                                float *out)
{
    const float *ia, *ib;
    size_t na, nb;
    pass_inputs(L, p, &ia, &na, &ib, &nb);
    operand a = operand_new(ctx, L, ia, na);
    operand b = ib ? operand_new(ctx, L, ib, nb) : (operand){0};
    operand o = operand_new(ctx, L, L->base[p], L->n[p]);
    cl_event ev = NULL;
    clconv_status st = enqueue(ctx, L, p, algo, &a, &b, &o, &ev);
    if (st == CLCONV_OK) {
        cr_assert_not_null(ev, "layer %d: no event returned", L->idx);
        cr_assert_eq(clWaitForEvents(1, &ev), CL_SUCCESS);
        clReleaseEvent(ev);
    }
    cr_assert_eq(clconv_finish(ctx), CLCONV_OK);
    operand_finish(ctx, L, &a, NULL, ia, "first input");
    if (ib)
        operand_finish(ctx, L, &b, NULL, ib, "second input");
    operand_finish(ctx, L, &o, out, NULL, "output");
    return st;
}

/* One pass through the host convenience calls. */
static clconv_status run_host(clconv_ctx *ctx, const sweep_layer *L, which_pass p,
                              clconv_algo algo, float *out)
{
    memcpy(out, L->base[p], L->n[p] * sizeof *out);
    switch (p) {
    case FWD:
        return clconv_forward_host(ctx, &L->d, algo, L->x, L->w, out);
    case DATA:
        return clconv_backward_data_host(ctx, &L->d, algo, L->dy, L->w, out, L->acc[p]);
    case FILTER:
        return clconv_backward_filter_host(ctx, &L->d, algo, L->x, L->dy, out, L->acc[p]);
    default:
        return clconv_backward_bias_host(ctx, &L->d, L->dy, out, L->acc[p]);
    }
}

/* Run one pass and compare with the reference.  Returns the status (the
 * caller decides what BAD_ALGORITHM means); out keeps the result. */
static clconv_status check_pass(clconv_ctx *ctx, sweep_layer *L, which_pass p, clconv_algo algo,
                                float *out)
{
    clconv_status st = L->device ? run_device(ctx, L, p, algo, out) : run_host(ctx, L, p, algo, out);
    if (st != CLCONV_OK)
        return st;
    double err = test_rel_err(out, L->want[p], L->n[p]);
    cr_expect(err <= TEST_TOL, "layer %d %s: %s %s%s (%s): rel err %g", L->idx, L->repro,
              pass_names[p], clconv_algo_name(algo), L->acc[p] ? " accumulate" : "",
              L->device ? (L->offsets ? "cl_mem+offsets" : "cl_mem") : "host arrays", err);
    return st;
}

/* ---- the seed's primitives against the header's formulas -------------- */

static size_t first_unequal(const float *a, const float *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!(a[i] == b[i]))
            return i;
    return n;
}

/* out[n][k][y][x] = dy[n][k][(y-T)/sh][(x-L)/sw] when both are whole,
 * non-negative multiples landing inside dy; else 0. */
static void expected_upsample(const clconv_desc *d, const float *dy, int64_t hu, int64_t wu,
                              float *out)
{
    const int64_t P = test_out_len(d->h, d->r, d->stride_h, d->pad_h, d->dilation_h);
    const int64_t Q = test_out_len(d->w, d->s, d->stride_w, d->pad_w, d->dilation_w);
    const int64_t T = (d->r - 1) * d->dilation_h - d->pad_h;
    const int64_t Lf = (d->s - 1) * d->dilation_w - d->pad_w;
    for (int64_t nk = 0; nk < d->n * d->k; nk++)
        for (int64_t y = 0; y < hu; y++)
            for (int64_t x = 0; x < wu; x++) {
                const int64_t yy = y - T, xx = x - Lf;
                const int in = yy >= 0 && xx >= 0 && yy % d->stride_h == 0 &&
                               xx % d->stride_w == 0 && yy / d->stride_h < P &&
                               xx / d->stride_w < Q;
                out[(nk * hu + y) * wu + x] =
                    in ? dy[(nk * P + yy / d->stride_h) * Q + xx / d->stride_w] : 0.0f;
            }
}

/* wf[c][kl][r][s] = w[g*Kg + kl][c - g*Cg][R-1-r][S-1-s], g = c / Cg. */
static void expected_flip(const clconv_desc *d, const float *w, float *wf)
{
    const int64_t cg = d->c / d->groups, kg = d->k / d->groups;
    for (int64_t c = 0; c < d->c; c++)
        for (int64_t kl = 0; kl < kg; kl++)
            for (int64_t r = 0; r < d->r; r++)
                for (int64_t s = 0; s < d->s; s++) {
                    const int64_t g = c / cg, k = g * kg + kl;
                    wf[((c * kg + kl) * d->r + r) * d->s + s] =
                        w[((k * cg + (c - g * cg)) * d->r + (d->r - 1 - r)) * d->s +
                          (d->s - 1 - s)];
                }
}

static void check_primitives(clconv_ctx *ctx, sweep_layer *L)
{
    const clconv_desc *d = &L->d;
    int64_t hu, wu;
    cr_assert_eq(clconv_upsample_pad_size(d, &hu, &wu), CLCONV_OK);
    cr_assert(hu == d->h + (d->r - 1) * d->dilation_h && wu == d->w + (d->s - 1) * d->dilation_w,
              "layer %d %s: upsample_pad_size %lldx%lld", L->idx, L->repro, (long long)hu,
              (long long)wu);
    const size_t ue = (size_t)(d->n * d->k * hu * wu), we = L->n[FILTER];
    float *want = test_alloc((ue > we ? ue : we) * sizeof *want);
    float *got = test_alloc((ue > we ? ue : we) * sizeof *got);
    test_poison(got, ue > we ? ue : we);

    operand a = operand_new(ctx, L, L->dy, L->n[FWD]);
    operand o = operand_new(ctx, L, got, ue);
    clconv_status st = clconv_upsample_pad(ctx, d, a.m, a.off, o.m, o.off, NULL);
    cr_expect_eq(st, CLCONV_OK, "layer %d %s: upsample_pad %s", L->idx, L->repro,
                 clconv_status_name(st));
    operand_finish(ctx, L, &a, NULL, L->dy, "upsample_pad input");
    operand_finish(ctx, L, &o, got, NULL, "upsample_pad output");
    expected_upsample(d, L->dy, hu, wu, want);
    size_t i = first_unequal(got, want, ue);
    cr_expect_eq(i, ue, "layer %d %s: upsample_pad element %zu = %g, want %g", L->idx, L->repro,
                 i, i < ue ? (double)got[i] : 0.0, i < ue ? (double)want[i] : 0.0);

    test_poison(got, we);
    a = operand_new(ctx, L, L->w, we);
    o = operand_new(ctx, L, got, we);
    st = clconv_flip_filter(ctx, d, a.m, a.off, o.m, o.off, NULL);
    cr_expect_eq(st, CLCONV_OK, "layer %d %s: flip_filter %s", L->idx, L->repro,
                 clconv_status_name(st));
    operand_finish(ctx, L, &a, NULL, L->w, "flip_filter input");
    operand_finish(ctx, L, &o, got, NULL, "flip_filter output");
    expected_flip(d, L->w, want);
    i = first_unequal(got, want, we);
    cr_expect_eq(i, we, "layer %d %s: flip_filter element %zu = %g, want %g", L->idx, L->repro,
                 i, i < we ? (double)got[i] : 0.0, i < we ? (double)want[i] : 0.0);
    free(want), free(got);
}

/* ---- the slices --------------------------------------------------------- */

/* EXPLICIT, DIRECT and AUTO on every pass, bias, primitives, and EXPLICIT
 * against DIRECT. */
static void run_slice(int slice)
{
    clconv_ctx *ctx = test_ctx();
    const clconv_algo algos[] = {CLCONV_ALGO_EXPLICIT, CLCONV_ALGO_DIRECT, CLCONV_ALGO_AUTO};
    for (int idx = slice * SWEEP_PER_SLICE; idx < (slice + 1) * SWEEP_PER_SLICE; idx++) {
        sweep_layer L;
        layer_init(&L, idx);
        for (int p = FWD; p <= FILTER; p++) {
            float *out[3];
            for (int a = 0; a < 3; a++) {
                out[a] = test_alloc(L.n[p] * sizeof(float));
                clconv_status st = check_pass(ctx, &L, (which_pass)p, algos[a], out[a]);
                cr_assert_eq(st, CLCONV_OK, "layer %d %s: %s %s: %s (%s)", idx, L.repro,
                             pass_names[p], clconv_algo_name(algos[a]), clconv_status_name(st),
                             clconv_last_error(ctx));
            }
            /* the two decompositions agree with each other as well */
            double *direct = ref_alloc(L.n[p]);
            test_to_double(out[1], direct, L.n[p]);
            double err = test_rel_err(out[0], direct, L.n[p]);
            cr_expect(err <= 2 * TEST_TOL, "layer %d %s: %s explicit vs direct: rel diff %g",
                      idx, L.repro, pass_names[p], err);
            free(direct);
            for (int a = 0; a < 3; a++)
                free(out[a]);
        }
        float *db = test_alloc(L.n[BIAS] * sizeof *db);
        clconv_status st = check_pass(ctx, &L, BIAS, CLCONV_ALGO_AUTO, db);
        cr_assert_eq(st, CLCONV_OK, "layer %d %s: backward-bias: %s (%s)", idx, L.repro,
                     clconv_status_name(st), clconv_last_error(ctx));
        free(db);
        if (L.device)
            check_primitives(ctx, &L);
        layer_free(&L);
    }
    clconv_free(ctx);
}

/* GEMM on every pass; skipped only while its forward does not exist. */
static void run_gemm_slice(int slice)
{
    clconv_ctx *ctx = test_ctx();
    for (int idx = slice * SWEEP_PER_SLICE; idx < (slice + 1) * SWEEP_PER_SLICE; idx++) {
        sweep_layer L;
        layer_init(&L, idx);
        for (int p = FWD; p <= FILTER; p++) {
            float *out = test_alloc(L.n[p] * sizeof *out);
            clconv_status st = check_pass(ctx, &L, (which_pass)p, CLCONV_ALGO_GEMM, out);
            free(out);
            if (st == CLCONV_BAD_ALGORITHM && p == FWD && idx == slice * SWEEP_PER_SLICE) {
                layer_free(&L);
                clconv_free(ctx);
                cr_skip_test("GEMM: clconv_forward answers CLCONV_BAD_ALGORITHM");
            }
            cr_assert_eq(st, CLCONV_OK, "layer %d %s: %s gemm: %s (%s)", idx, L.repro,
                         pass_names[p], clconv_status_name(st), clconv_last_error(ctx));
        }
        layer_free(&L);
    }
    clconv_free(ctx);
}

#define SLICE(i)                                        \
    Test(sweep, slice_##i) { run_slice(i); }            \
    Test(sweep, gemm_slice_##i) { run_gemm_slice(i); }
SLICE(0)
SLICE(1)
SLICE(2)
SLICE(3)
SLICE(4)
SLICE(5)
SLICE(6)
SLICE(7)

/* The sweep must really contain what it claims to cover (host only). */
Test(sweep, covers_the_feature_space)
{
    int count[16] = {0};
    enum { STRIDE4, PAD_GE_KERNEL, DIL3, K1X1, K7X7, NONSQ_K, NONSQ_IN, REMAINDER, N4, C33,
           K33, DEPTHWISE, GROUPED, ACC_DEVICE_OFFSETS, NFEAT };
    static const char *const names[NFEAT] = {
        "stride 4", "padding >= kernel", "dilation 3", "1x1 kernel", "7x7 kernel",
        "non-square kernel", "non-square input", "stride remainder", "N = 4", "C = 33",
        "K = 33", "depthwise", "2-4 groups", "offsets"};
    for (int idx = 0; idx < SWEEP_LAYERS; idx++) {
        clconv_desc d = sweep_desc(idx);
        char buf[160];
        cr_assert_eq(clconv_desc_check(&d), CLCONV_OK, "layer %d %s", idx,
                     test_desc_str(&d, buf, sizeof buf));
        cr_assert_leq(test_flops(&d), SWEEP_MAX_FLOPS, "layer %d too big for the suite", idx);
        count[STRIDE4] += d.stride_h == 4 || d.stride_w == 4;
        count[PAD_GE_KERNEL] += d.pad_h >= d.r || d.pad_w >= d.s;
        count[DIL3] += d.dilation_h == 3 || d.dilation_w == 3;
        count[K1X1] += d.r == 1 && d.s == 1;
        count[K7X7] += d.r == 7 && d.s == 7;
        count[NONSQ_K] += d.r != d.s;
        count[NONSQ_IN] += d.h != d.w;
        count[REMAINDER] += (d.h + 2 * d.pad_h - (d.r - 1) * d.dilation_h - 1) % d.stride_h != 0;
        count[N4] += d.n == 4;
        count[C33] += d.c == 33;
        count[K33] += d.k == 33;
        count[DEPTHWISE] += d.groups > 1 && d.c == d.groups && d.k == d.groups;
        count[GROUPED] += d.groups > 1 && d.groups <= 4 && !(d.c == d.groups && d.k == d.groups);
        count[ACC_DEVICE_OFFSETS] += idx % 4 == 0;
    }
    for (int f = 0; f < NFEAT; f++)
        cr_expect_geq(count[f], 3, "the sweep has only %d layers with %s", count[f], names[f]);
}
