/* `make test-large` (opt-in, not in CI): layers whose input, output or
 * filter exceeds 2^31 elements, run with every algorithm and every pass;
 * each must give the right answer or a clear status, never a wrong one.
 *
 * Two layer families, each with one huge tensor and small others:
 *   wide_input:  N1 C=B H32 W32, K1 1x1: x has B*1024 elements (the input
 *                of forward and backward-filter, the output of backward-data);
 *   wide_filter: N1 C1024 H1 W1, K=B 1x1: w has B*1024 elements (read by
 *                forward and backward-data, written by backward-filter).
 * B = 2^21 + 1 puts the huge tensor just past 2^31 elements (8 GiB).
 *
 * A device whose largest allocation or memory is smaller cannot hold such
 * a tensor: then the host-array call must answer CLCONV_DEVICE_LIMIT, and
 * the same family runs at the largest B the device (and CLCONV_LARGE_GB,
 * default 16, of device memory) allows, which is said in the log.
 *
 * Inputs are -1, 0 or 1 from a hash of (tensor, index), generated in chunks
 * while uploading, so the host holds no large array; every sum of at most
 * 2^24 such products is exact in fp32 whatever the order, so sampled
 * outputs are compared for equality with a float64 sum computed here from
 * the definition for just that element.  Outputs are filled with NaN first,
 * on the device.  Passes that write the huge tensor run after those that
 * read it, reusing its buffer. */
#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "util.h"

#define FULL_B ((INT64_C(1) << 21) + 1)
#define CHUNK ((size_t)1 << 24) /* floats per upload */

enum { TX, TW, TY, NT }; /* tensors: x (dx), w (dw), y (dy) */
static const uint64_t seeds[NT] = {0x11, 0x22, 0x33};

/* ---- data and the per-element reference ---- */

static float val(int t, uint64_t i)
{
    uint64_t z = (seeds[t] << 48) ^ i ^ 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return (float)(int)(z % 3) - 1.0f;
}

typedef struct lay {
    clconv_desc d;
    int64_t P, Q, Cg;
    size_t e[NT];
} lay;

static lay lay_of(clconv_desc d)
{
    lay L = {.d = d};
    cr_assert_eq(clconv_output_size(&d, &L.P, &L.Q), CLCONV_OK);
    cr_assert_eq(clconv_tensor_elems(&d, &L.e[TX], &L.e[TW], &L.e[TY]), CLCONV_OK);
    cr_assert_eq(d.groups, 1, "the reference below is for one group");
    L.Cg = d.c;
    return L;
}

static double X(const lay *L, int64_t n, int64_t c, int64_t h, int64_t w)
{
    if (h < 0 || h >= L->d.h || w < 0 || w >= L->d.w)
        return 0;
    return val(TX, (uint64_t)(((n * L->d.c + c) * L->d.h + h) * L->d.w + w));
}

static double W(const lay *L, int64_t k, int64_t c, int64_t r, int64_t s)
{
    return val(TW, (uint64_t)(((k * L->Cg + c) * L->d.r + r) * L->d.s + s));
}

static double DY(const lay *L, int64_t n, int64_t k, int64_t p, int64_t q)
{
    return val(TY, (uint64_t)(((n * L->d.k + k) * L->P + p) * L->Q + q));
}

/* y[n][k][p][q] = sum over c, r, s of x[n][c][p*sh-ph+r*dh][q*sw-pw+s*dw] w[k][c][r][s] */
static double ref_fwd(const lay *L, uint64_t i)
{
    const clconv_desc *d = &L->d;
    int64_t q = (int64_t)(i % (uint64_t)L->Q), t = (int64_t)(i / (uint64_t)L->Q);
    int64_t p = t % L->P, k = t / L->P % d->k, n = t / L->P / d->k;
    double acc = 0;
    for (int64_t c = 0; c < d->c; c++)
        for (int64_t r = 0; r < d->r; r++)
            for (int64_t s = 0; s < d->s; s++)
                acc += X(L, n, c, p * d->stride_h - d->pad_h + r * d->dilation_h,
                         q * d->stride_w - d->pad_w + s * d->dilation_w) * W(L, k, c, r, s);
    return acc;
}

/* One coordinate of backward-data: the output index that tap `r` of input
 * position h came from, or -1. */
static int64_t src_of(int64_t h, int64_t r, int64_t st, int64_t pad, int64_t dil, int64_t len)
{
    int64_t t = h + pad - r * dil;
    return t >= 0 && t % st == 0 && t / st < len ? t / st : -1;
}

static double ref_bwd_data(const lay *L, uint64_t i)
{
    const clconv_desc *d = &L->d;
    int64_t w = (int64_t)(i % (uint64_t)d->w), t = (int64_t)(i / (uint64_t)d->w);
    int64_t h = t % d->h, c = t / d->h % d->c, n = t / d->h / d->c;
    double acc = 0;
    for (int64_t k = 0; k < d->k; k++)
        for (int64_t r = 0; r < d->r; r++) {
            int64_t p = src_of(h, r, d->stride_h, d->pad_h, d->dilation_h, L->P);
            for (int64_t s = 0; p >= 0 && s < d->s; s++) {
                int64_t q = src_of(w, s, d->stride_w, d->pad_w, d->dilation_w, L->Q);
                if (q >= 0)
                    acc += DY(L, n, k, p, q) * W(L, k, c, r, s);
            }
        }
    return acc;
}

static double ref_bwd_filter(const lay *L, uint64_t i)
{
    const clconv_desc *d = &L->d;
    int64_t s = (int64_t)(i % (uint64_t)d->s), t = (int64_t)(i / (uint64_t)d->s);
    int64_t r = t % d->r, c = t / d->r % L->Cg, k = t / d->r / L->Cg;
    double acc = 0;
    for (int64_t n = 0; n < d->n; n++)
        for (int64_t p = 0; p < L->P; p++)
            for (int64_t q = 0; q < L->Q; q++)
                acc += X(L, n, c, p * d->stride_h - d->pad_h + r * d->dilation_h,
                         q * d->stride_w - d->pad_w + s * d->dilation_w) * DY(L, n, k, p, q);
    return acc;
}

/* ---- device buffers ---- */

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + t.tv_nsec * 1e-9;
}

static cl_mem upload(clconv_ctx *ctx, int t, size_t n)
{
    cl_mem m = test_buffer(ctx, n);
    float *h = test_alloc((n < CHUNK ? n : CHUNK) * sizeof(float));
    for (size_t at = 0; at < n; at += CHUNK) {
        size_t len = n - at < CHUNK ? n - at : CHUNK;
        for (size_t i = 0; i < len; i++)
            h[i] = val(t, at + i);
        test_upload(ctx, m, at, h, len);
    }
    free(h);
    return m;
}

static void poison(clconv_ctx *ctx, cl_mem m, size_t n)
{
    float nan = NAN;
    cl_int err = clEnqueueFillBuffer(clconv_cl_queue(ctx), m, &nan, sizeof nan, 0,
                                     n * sizeof(float), 0, NULL, NULL);
    cr_assert_eq(err, CL_SUCCESS, "clEnqueueFillBuffer: %d", (int)err);
}

/* ---- sampling ---- */

typedef double (*ref_fn)(const lay *L, uint64_t i);

/* Indices to check: both ends, both sides of every power-of-two boundary
 * from 2^20 up, and random ones; fewer when each costs a long sum. */
static size_t pick_samples(size_t n, size_t cost, uint64_t seed, size_t *out, size_t cap)
{
    size_t k = 0;
    out[k++] = 0;
    out[k++] = n - 1;
    for (int b = 20; b <= 40; b++) {
        size_t v = (size_t)1 << b;
        if (v < n && k + 2 <= cap) {
            out[k++] = v - 1;
            out[k++] = v;
        }
    }
    size_t want = (size_t)(4e8 / (double)(cost ? cost : 1));
    want = want < 16 ? 16 : want > cap ? cap : want;
    test_rng r = test_rng_seed(seed);
    while (k < want)
        out[k++] = (size_t)(test_rng_next(&r) % n);
    return k;
}

/* 0 when every sample equals the reference (exact: integer sums < 2^24). */
static int check_samples(clconv_ctx *ctx, const lay *L, cl_mem m, size_t n, size_t cost,
                         ref_fn ref, const char *what)
{
    size_t idx[256];
    float got[256];
    size_t k = pick_samples(n, cost, n ^ cost, idx, 256);
    for (size_t i = 0; i < k; i++)
        cr_assert_eq(clEnqueueReadBuffer(clconv_cl_queue(ctx), m, CL_FALSE, idx[i] * sizeof(float),
                                         sizeof(float), &got[i], 0, NULL, NULL),
                     CL_SUCCESS);
    cr_assert_eq(clFinish(clconv_cl_queue(ctx)), CL_SUCCESS);
    int bad = 0;
    for (size_t i = 0; i < k; i++) {
        double want = ref(L, idx[i]);
        if ((double)got[i] != want && bad++ < 5)
            cr_expect_fail("%s: element %zu = %g, want %g", what, idx[i], got[i], want);
    }
    cr_log_info("%s: %zu samples of %zu elements, %d wrong", what, k, n, bad);
    return bad;
}

/* ---- one family ---- */

typedef struct family {
    const char *name;
    clconv_desc (*desc)(int64_t b);
    int big;                    /* the huge tensor: TX or TW */
} family;

static clconv_desc wide_input(int64_t b)
{
    clconv_desc d;
    clconv_desc_init(&d, 1, b, 32, 32, 1, 1, 1);
    return d;
}

static clconv_desc wide_filter(int64_t b)
{
    clconv_desc d;
    clconv_desc_init(&d, 1, 1024, 1, 1, b, 1, 1);
    return d;
}

/* A clear refusal: the status names the limit it hit. */
static int clear_status(clconv_status st)
{
    return st == CLCONV_DEVICE_LIMIT || st == CLCONV_OUT_OF_DEVICE_MEMORY ||
           st == CLCONV_OUT_OF_RESOURCES;
}

/* The full-size layer does not fit the device: the host-array forward call
 * (which allocates the tensors itself) must say so, writing nothing.  The
 * huge host array is calloc'd and never touched (the call fails first). */
static void expect_refused(clconv_ctx *ctx, const lay *L)
{
    float *a = calloc(L->e[TX], sizeof(float)), *b = calloc(L->e[TW], sizeof(float));
    float *y = test_alloc(L->e[TY] * sizeof(float));
    cr_assert(a && b, "no address space for the host arrays");
    test_poison(y, L->e[TY]);
    clconv_status st = clconv_forward_host(ctx, &L->d, CLCONV_ALGO_AUTO, a, b, y);
    cr_expect_eq(st, CLCONV_DEVICE_LIMIT, "full size on a small device: %s: %s",
                 clconv_status_name(st), clconv_last_error(ctx));
    cr_expect(isnan(y[0]) && isnan(y[L->e[TY] - 1]), "y written by a refused call");
    cr_log_info("full size refused: %s", clconv_last_error(ctx));
    free(a), free(b), free(y);
}

/* The largest b whose huge tensor fits one allocation and the budget. */
static int64_t fitting_b(clconv_ctx *ctx, const family *f)
{
    cl_ulong max_alloc = 0, global = 0;
    clGetDeviceInfo(clconv_cl_device(ctx), CL_DEVICE_MAX_MEM_ALLOC_SIZE, sizeof max_alloc,
                    &max_alloc, NULL);
    clGetDeviceInfo(clconv_cl_device(ctx), CL_DEVICE_GLOBAL_MEM_SIZE, sizeof global, &global, NULL);
    const char *gb = getenv("CLCONV_LARGE_GB");
    double budget = (gb ? atof(gb) : 16.0) * (1u << 30);
    double room = (double)max_alloc;
    room = room < budget ? room : budget;
    room = room < 0.9 * (double)global ? room : 0.9 * (double)global;
    int64_t b = (int64_t)(room / (1024.0 * sizeof(float)));
    cr_log_info("%s: device largest allocation %llu, global %llu, budget %.0f bytes", f->name,
                (unsigned long long)max_alloc, (unsigned long long)global, budget);
    return b < FULL_B ? b : FULL_B;
}

typedef struct run_state {
    clconv_ctx *ctx;
    const lay *L;
    cl_mem in[NT];              /* x, w, dy */
    cl_mem out[NT];             /* dx, dw, y (the huge one: its input buffer) */
    int wrong, ran;
} run_state;

static clconv_status run_pass(run_state *s, clconv_algo a, int pass)
{
    const clconv_desc *d = &s->L->d;
    switch (pass) {
    case 0:
        return clconv_forward(s->ctx, d, a, s->in[TX], 0, s->in[TW], 0, s->out[TY], 0, NULL);
    case 1:
        return clconv_backward_data(s->ctx, d, a, s->in[TY], 0, s->in[TW], 0, s->out[TX], 0, 0,
                                    NULL);
    default:
        return clconv_backward_filter(s->ctx, d, a, s->in[TX], 0, s->in[TY], 0, s->out[TW], 0, 0,
                                      NULL);
    }
}

static void run_and_check(run_state *s, clconv_algo a, int pass)
{
    static const char *const pass_names[] = {"forward", "backward-data", "backward-filter"};
    static const int out_of[] = {TY, TX, TW};
    const lay *L = s->L;
    const int o = out_of[pass];
    /* the reduction length of one output element, for the sample count */
    const size_t cost[] = {(size_t)(L->d.c * L->d.r * L->d.s),
                           (size_t)(L->d.k * L->d.r * L->d.s), (size_t)(L->d.n * L->P * L->Q)};
    const ref_fn refs[] = {ref_fwd, ref_bwd_data, ref_bwd_filter};
    char what[128];
    snprintf(what, sizeof what, "%s %s", clconv_algo_name(a), pass_names[pass]);
    poison(s->ctx, s->out[o], L->e[o]);
    double t0 = now_s();
    clconv_status st = run_pass(s, a, pass);
    if (st == CLCONV_OK)
        st = clconv_finish(s->ctx);
    double t1 = now_s();
    if (st == CLCONV_BAD_ALGORITHM && a == CLCONV_ALGO_GEMM) {
        cr_log_info("%s: not implemented", what);
        return;
    }
    if (clear_status(st)) {
        cr_log_info("%s: %s (%s)", what, clconv_status_name(st), clconv_last_error(s->ctx));
        return;
    }
    cr_expect_eq(st, CLCONV_OK, "%s: %s: %s", what, clconv_status_name(st),
                 clconv_last_error(s->ctx));
    if (st != CLCONV_OK)
        return;
    s->ran++;
    s->wrong += check_samples(s->ctx, L, s->out[o], L->e[o], cost[pass], refs[pass], what);
    cr_log_info("%s: %.1f s on the device, %.1f s with the check", what, t1 - t0, now_s() - t0);
}

static void run_family(const family *f)
{
    clconv_ctx *ctx = test_ctx();
    lay full = lay_of(f->desc(FULL_B));
    int64_t b = fitting_b(ctx, f);
    if (b < FULL_B)
        expect_refused(ctx, &full);
    lay L = lay_of(f->desc(b));
    char ds[CLCONV_DESC_STRING_MAX];
    clconv_desc_string(&L.d, ds, sizeof ds);
    cr_log_info("%s: %s, huge tensor %zu elements (%s 2^31)", f->name, ds, L.e[f->big],
                L.e[f->big] > ((size_t)1 << 31) ? "beyond" : "within");
    double t0 = now_s();
    run_state s = {.ctx = ctx, .L = &L};
    for (int t = 0; t < NT; t++)
        s.in[t] = upload(ctx, t, L.e[t]);
    for (int t = 0; t < NT; t++) /* outputs: own buffers, except the huge one */
        s.out[t] = t == f->big ? s.in[t] : test_buffer(ctx, L.e[t]);
    cr_log_info("%s: uploaded in %.1f s", f->name, now_s() - t0);
    const clconv_algo algos[] = {CLCONV_ALGO_EXPLICIT, CLCONV_ALGO_DIRECT, CLCONV_ALGO_GEMM,
                                 CLCONV_ALGO_AUTO};
    const int writes_big = f->big == TX ? 1 : 2; /* the pass whose output is the huge tensor */
    for (int pass = 0; pass < 3; pass++)
        for (int a = 0; pass != writes_big && a < 4; a++)
            run_and_check(&s, algos[a], pass);
    for (int a = 0; a < 4; a++)
        run_and_check(&s, algos[a], writes_big);
    cr_expect_gt(s.ran, 0, "no algorithm ran");
    cr_log_info("%s: %d runs checked, %d wrong samples, %.0f s in all", f->name, s.ran, s.wrong,
                now_s() - t0);
    for (int t = 0; t < NT; t++) {
        if (s.out[t] != s.in[t])
            clReleaseMemObject(s.out[t]);
        clReleaseMemObject(s.in[t]);
    }
    clconv_free(ctx);
}

Test(large, wide_input_beyond_2_31_elements)
{
    const family f = {"wide_input", wide_input, TX};
    run_family(&f);
}

Test(large, wide_filter_beyond_2_31_elements)
{
    const family f = {"wide_filter", wide_filter, TW};
    run_family(&f);
}
