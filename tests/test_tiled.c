/* TILED (host/tiled.c, kernels/tiled_conv.cl) on the test device, once
 * with its CPU row and once with its NVIDIA row forced (CLCONV_TUNING:
 * the 128 x 128 tiles of 256 work-items a GPU would run, checked here on
 * whatever device the suite has).
 *
 * Every pass against the float64 reference (TEST_TOL) over hand-picked
 * corner layers and a seeded random sweep: strides 1-3, padding up to 3
 * (often past the kernel), dilation 1-3, groups and depthwise, edge tiles
 * in every direction (channels and columns that are no multiple of the
 * tile), backward-data phases without taps, backward-filter with and
 * without split reductions.  Each pass runs through cl_mem calls with the
 * operands at random offsets between guard elements that must survive,
 * inputs that must come back unchanged, and an output that starts as NaN
 * (overwrite) or random (accumulate, alternating).  Then: the same bits
 * on a second run; the non-finite rule (an Inf or NaN meeting only
 * padding leaves the output finite, NaN and Inf exactly where the
 * reference has them); AUTO's choice (GPUs only) and the refusals.
 * The NVIDIA row is slow on a CPU (256 work-items a group, a barrier per
 * chunk), so its layers are small. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "kernel_sources.h"
#include "tiled.h"
#include "util.h"

#define GUARD_VALUE 4242.25f
#define SEED 20261201u

typedef enum { FWD, DATA, FILTER, NPASS } which_pass;
static const char *const pass_names[NPASS] = {"forward", "backward-data", "backward-filter"};

/* {n, c, h, w, k, r, s, sh, sw, ph, pw, dh, dw, g} */
static const clconv_desc corners[] = {
    {2, 5, 9, 11, 7, 3, 3, 1, 1, 1, 1, 1, 1, 1},      /* edge tiles, every border */
    {1, 6, 10, 9, 6, 3, 3, 2, 2, 1, 1, 1, 1, 6},      /* depthwise, stride 2 */
    {2, 12, 5, 7, 20, 1, 1, 1, 1, 0, 0, 1, 1, 1},     /* 1x1 */
    {1, 4, 13, 12, 24, 3, 2, 2, 3, 1, 0, 2, 1, 2},    /* grouped, strided, dilated */
    {1, 3, 19, 17, 70, 7, 7, 3, 3, 3, 3, 1, 1, 1},    /* 7x7 stride 3: the wide tiles */
    {2, 2, 20, 13, 3, 1, 7, 1, 2, 0, 3, 1, 3, 1},     /* 1x7, dilation 3 across */
    {3, 2, 1, 1, 2, 7, 7, 1, 1, 3, 3, 1, 1, 1},       /* 1x1 input: all taps but one padding */
    {1, 2, 11, 11, 3, 2, 2, 3, 3, 0, 0, 1, 1, 1},     /* stride 3 > kernel: phases without taps */
    {4, 16, 12, 12, 40, 3, 3, 1, 1, 1, 1, 1, 1, 1},   /* backward-filter split in several */
    {1, 130, 4, 5, 136, 3, 3, 1, 1, 1, 1, 1, 1, 1},   /* more channels than a 128-row tile */
    {2, 9, 7, 6, 12, 3, 3, 2, 1, 2, 1, 3, 2, 3},      /* 3 groups, dilation 3, padding 2 */
};
#define NCORNERS ((int)(sizeof corners / sizeof corners[0]))

static const test_layer_bounds cpu_bounds = {
    .max_n = 3, .max_ck = 40, .max_hw = 16, .max_rs = 5, .max_stride = 3, .max_pad = 3,
    .max_dil = 3, .max_flops = 1.5e6,
};
static const test_layer_bounds nvidia_bounds = {
    .max_n = 2, .max_ck = 20, .max_hw = 10, .max_rs = 4, .max_stride = 3, .max_pad = 3,
    .max_dil = 3, .max_flops = 2e5,
};

/* A context whose tuning tables take `row` (NULL: the device's own). */
static clconv_ctx *row_ctx(const char *row)
{
    if (row)
        setenv("CLCONV_TUNING", row, 1);
    else
        unsetenv("CLCONV_TUNING");
    clconv_ctx *ctx = test_ctx();
    cr_assert_str_eq(ctx->info.tuning, row ? row : "");
    return ctx;
}

/* ---- one pass of one layer ---------------------------------------------- */

typedef struct pass_case {
    clconv_desc d;
    char repro[160];
    which_pass p;
    int acc;                /* accumulate into a random output */
    size_t na, nb, no;      /* elements of the two inputs and the output */
    float *a, *b, *base;    /* inputs; the output's first contents */
    double *want;           /* reference (+ base when accumulating) */
} pass_case;

static size_t elems_of(const clconv_desc *d, int t) /* 0 x, 1 w, 2 y */
{
    return t == 0 ? test_x_elems(d) : t == 1 ? test_w_elems(d) : test_y_elems(d);
}

static void reference(const pass_case *c, const double *a, const double *b, double *out)
{
    clconv_status st = c->p == FWD    ? clconv_ref_forward(&c->d, a, b, out)
                       : c->p == DATA ? clconv_ref_backward_data(&c->d, a, b, out)
                                      : clconv_ref_backward_filter(&c->d, a, b, out);
    cr_assert_eq(st, CLCONV_OK);
}

static double *to_double(const float *a, size_t n)
{
    double *o = test_alloc((n ? n : 1) * sizeof *o);
    test_to_double(a, o, n);
    return o;
}

/* Random inputs in [-1, 1) from seed; the output NaN (overwrite) or
 * random (accumulate).  case_reference fills want. */
static void case_init(pass_case *c, const clconv_desc *d, which_pass p, int acc, uint64_t seed)
{
    static const int ins[NPASS][3] = {{0, 1, 2}, {2, 1, 0}, {0, 2, 1}}; /* a, b, out */
    memset(c, 0, sizeof *c);
    c->d = *d, c->p = p, c->acc = acc;
    test_desc_str(d, c->repro, sizeof c->repro);
    c->na = elems_of(d, ins[p][0]), c->nb = elems_of(d, ins[p][1]), c->no = elems_of(d, ins[p][2]);
    test_rng r = test_rng_seed(seed);
    c->a = test_alloc(c->na * sizeof(float)), c->b = test_alloc(c->nb * sizeof(float));
    c->base = test_alloc(c->no * sizeof(float));
    test_fill_random(&r, c->a, c->na);
    test_fill_random(&r, c->b, c->nb);
    if (acc)
        test_fill_random(&r, c->base, c->no);
    else
        test_poison(c->base, c->no);
    c->want = test_alloc(c->no * sizeof(double));
}

/* The reference of the case's current inputs. */
static void case_reference(pass_case *c)
{
    double *a = to_double(c->a, c->na), *b = to_double(c->b, c->nb);
    reference(c, a, b, c->want);
    for (size_t i = 0; c->acc && i < c->no; i++)
        c->want[i] += c->base[i];
    free(a), free(b);
}

static void case_free(pass_case *c) { free(c->a), free(c->b), free(c->base), free(c->want); }

/* A buffer holding src at offset off, GUARD_VALUE before and after it. */
typedef struct operand {
    cl_mem m;
    size_t off, n, total;
} operand;

static operand operand_new(clconv_ctx *ctx, const float *src, size_t n, size_t off, size_t tail)
{
    operand o = {NULL, off, n, off + n + tail};
    float *tmp = test_alloc(o.total * sizeof *tmp);
    for (size_t i = 0; i < o.total; i++)
        tmp[i] = GUARD_VALUE;
    memcpy(tmp + off, src, n * sizeof *tmp);
    o.m = test_buffer_from(ctx, tmp, o.total);
    free(tmp);
    return o;
}

/* The payload into out (when given); the guards must be intact and, with
 * expect, the payload unchanged. */
static void operand_finish(clconv_ctx *ctx, operand *o, float *out, const float *expect,
                           const char *what, const char *repro)
{
    float *tmp = test_alloc(o->total * sizeof *tmp);
    test_download(ctx, o->m, 0, tmp, o->total);
    for (size_t i = 0; i < o->total; i++)
        if ((i < o->off || i >= o->off + o->n) && !(tmp[i] == GUARD_VALUE)) {
            cr_expect_fail("%s: %s: guard element %zu (payload at %zu) became %g", repro, what, i,
                           o->off, (double)tmp[i]);
            break;
        }
    if (out)
        memcpy(out, tmp + o->off, o->n * sizeof *out);
    if (expect)
        cr_expect_eq(test_first_diff(tmp + o->off, expect, o->n), o->n,
                     "%s: %s was modified", repro, what);
    free(tmp);
    clReleaseMemObject(o->m);
}

static clconv_status enqueue(clconv_ctx *ctx, const pass_case *c, clconv_algo algo,
                             const operand *a, const operand *b, const operand *o)
{
    if (c->p == FWD)
        return clconv_forward(ctx, &c->d, algo, a->m, a->off, b->m, b->off, o->m, o->off, NULL);
    if (c->p == DATA)
        return clconv_backward_data(ctx, &c->d, algo, a->m, a->off, b->m, b->off, o->m, o->off,
                                    c->acc, NULL);
    return clconv_backward_filter(ctx, &c->d, algo, a->m, a->off, b->m, b->off, o->m, o->off,
                                  c->acc, NULL);
}

/* The pass through cl_mem calls, operands at offsets drawn from seed
 * (none when 0); out gets the result. */
static clconv_status run_device(clconv_ctx *ctx, const pass_case *c, clconv_algo algo,
                                uint64_t seed, float *out)
{
    test_rng r = test_rng_seed(seed);
    const int shift = seed != 0;
    operand a = operand_new(ctx, c->a, c->na, shift * test_rng_int(&r, 1, 37),
                            test_rng_int(&r, 0, 3));
    operand b = operand_new(ctx, c->b, c->nb, shift * test_rng_int(&r, 1, 37),
                            test_rng_int(&r, 0, 3));
    operand o = operand_new(ctx, c->base, c->no, shift * test_rng_int(&r, 1, 37),
                            test_rng_int(&r, 0, 3));
    clconv_status st = enqueue(ctx, c, algo, &a, &b, &o);
    cr_assert_eq(clconv_finish(ctx), CLCONV_OK);
    operand_finish(ctx, &a, NULL, c->a, "first input", c->repro);
    operand_finish(ctx, &b, NULL, c->b, "second input", c->repro);
    operand_finish(ctx, &o, out, NULL, "output", c->repro);
    return st;
}

/* TILED on the case, against the reference. */
static void check_case(clconv_ctx *ctx, pass_case *c, const char *row, uint64_t seed)
{
    case_reference(c);
    float *out = test_alloc(c->no * sizeof *out);
    clconv_status st = run_device(ctx, c, CLCONV_ALGO_TILED, seed, out);
    cr_assert_eq(st, CLCONV_OK, "%s %s (%s row): %s: %s", c->repro, pass_names[c->p], row,
                 clconv_status_name(st), clconv_last_error(ctx));
    const double err = test_rel_err(out, c->want, c->no);
    cr_expect(err <= TEST_TOL, "%s %s%s (%s row): rel err %g", c->repro, pass_names[c->p],
              c->acc ? " accumulate" : "", row, err);
    free(out);
}

/* Layers [first, first + count) of a row's sweep: the corners, then random
 * ones within b; every pass, the backward ones accumulating on every other
 * layer, offsets on two layers of three. */
static void sweep(const char *row, const test_layer_bounds *b, int first, int count)
{
    clconv_ctx *ctx = row_ctx(row);
    for (int idx = first; idx < first + count; idx++) {
        test_rng r = test_rng_seed(SEED + (uint64_t)idx);
        const clconv_desc d = idx < NCORNERS ? corners[idx] : test_random_desc(&r, b);
        for (int p = FWD; p < NPASS; p++) {
            pass_case c;
            const int acc = p != FWD && ((idx + p) & 1); /* forward always overwrites */
            case_init(&c, &d, (which_pass)p, acc, SEED * 3 + (uint64_t)(idx * 3 + p));
            check_case(ctx, &c, row, idx % 3 ? (uint64_t)(idx * 7 + p + 1) : 0);
            case_free(&c);
        }
    }
    clconv_free(ctx);
}

#define SWEEP_CPU 96
#define SWEEP_NVIDIA 48
Test(tiled, cpu_row_corners, .timeout = 300) { sweep("cpu", NULL, 0, NCORNERS); }
Test(tiled, cpu_row_sweep_0, .timeout = 300) { sweep("cpu", &cpu_bounds, NCORNERS, SWEEP_CPU / 2); }
Test(tiled, cpu_row_sweep_1, .timeout = 300)
{
    sweep("cpu", &cpu_bounds, NCORNERS + SWEEP_CPU / 2, SWEEP_CPU / 2);
}
Test(tiled, nvidia_row_corners, .timeout = 300) { sweep("nvidia", NULL, 0, NCORNERS); }
Test(tiled, nvidia_row_sweep, .timeout = 300)
{
    sweep("nvidia", &nvidia_bounds, NCORNERS, SWEEP_NVIDIA);
}

/* Sizes past 2^24 (a dilated tap, padding) take 64-bit indices: tiny
 * tensors, one dilated tap pair in reach of the input. */
Test(tiled, long_indices, .timeout = 300)
{
    /* {n, c, h, w, k, r, s, sh, sw, ph, pw, dh, dw, g} */
    static const clconv_desc big[] = {
        {2, 2, 3, 1, 3, 1, 2, 1, 1, 0, 8388609, 1, 16777216, 1},
        {1, 3, 2, 2, 2, 2, 1, 3, 1, 8388609, 0, 16777216, 1, 1},
    };
    clconv_ctx *ctx = row_ctx("cpu");
    for (int i = 0; i < 2; i++) {
        layer L;
        cr_assert_eq(layer_from_desc(&big[i], &L), CLCONV_OK);
        for (int p = FWD; p < NPASS; p++) {
            tiled_plan plan;
            tiled_plan_layer(&ctx->info, &L, (clconv_pass)p, &plan);
            cr_expect(plan.idx_long, "layer %d pass %d: 64-bit indices", i, p);
            pass_case c;
            case_init(&c, &big[i], (which_pass)p, p == DATA, 123 + (uint64_t)p);
            check_case(ctx, &c, "cpu", 3);
            case_free(&c);
        }
    }
    clconv_free(ctx);
}

/* The corner layers must reach what the header says they do. */
Test(tiled, corners_reach_every_plan)
{
    clconv_ctx *ctx = row_ctx("nvidia");
    int wide = 0, narrow = 0, splits = 0, unsplit = 0, phases = 0;
    for (int i = 0; i < NCORNERS; i++) {
        layer L;
        cr_assert_eq(layer_from_desc(&corners[i], &L), CLCONV_OK);
        for (int p = 0; p < NPASS; p++) {
            tiled_plan plan;
            tiled_plan_layer(&ctx->info, &L, (clconv_pass)p, &plan);
            wide += plan.shape.bm == tiled_rows[plan.row].wide.bm;
            narrow += plan.shape.bm == tiled_rows[plan.row].narrow.bm;
            splits += p == FILTER && plan.splits > 1;
            unsplit += p == FILTER && plan.splits == 1;
            phases += p == DATA && plan.groups[2] > 1;
        }
    }
    cr_expect(wide && narrow && splits && unsplit && phases,
              "wide %d narrow %d split %d unsplit %d phased %d", wide, narrow, splits, unsplit,
              phases);
    clconv_free(ctx);
}

/* ---- the same bits twice -------------------------------------------------- */

static void deterministic(const char *row, const clconv_desc *d)
{
    clconv_ctx *ctx = row_ctx(row);
    for (int p = FWD; p < NPASS; p++) {
        pass_case c;
        case_init(&c, d, (which_pass)p, 0, 77 + (uint64_t)p);
        float *one = test_alloc(c.no * sizeof *one), *two = test_alloc(c.no * sizeof *two);
        cr_assert_eq(run_device(ctx, &c, CLCONV_ALGO_TILED, 0, one), CLCONV_OK);
        cr_assert_eq(run_device(ctx, &c, CLCONV_ALGO_TILED, 0, two), CLCONV_OK);
        cr_expect_eq(memcmp(one, two, c.no * sizeof *one), 0, "%s %s (%s row): two runs differ",
                     c.repro, pass_names[p], row);
        free(one), free(two);
        case_free(&c);
    }
    clconv_free(ctx);
}

Test(tiled, same_bits_every_run)
{
    /* backward-filter's reduction split: the partials are added in order */
    clconv_desc d = corners[8];
    layer L;
    cr_assert_eq(layer_from_desc(&d, &L), CLCONV_OK);
    clconv_ctx *ctx = row_ctx("cpu");
    tiled_plan plan;
    tiled_plan_layer(&ctx->info, &L, CLCONV_PASS_BACKWARD_FILTER, &plan);
    cr_assert_gt(plan.splits, 1, "the layer must split backward-filter's reduction");
    clconv_free(ctx);
    deterministic("cpu", &d);
    deterministic("nvidia", &corners[3]);
}

/* ---- non-finite values ----------------------------------------------------- */

/* Elementwise against the reference: NaN where it is NaN, an Inf of its
 * sign where it is Inf, finite and within TEST_TOL elsewhere. */
static void expect_same_classes(const float *out, const double *want, size_t n, const char *what)
{
    size_t bad = 0;
    double num = 0, den = 0;
    for (size_t i = 0; i < n; i++) {
        const double o = out[i], e = want[i];
        if (isnan(e) ? !isnan(o) : isinf(e) ? o != e : !isfinite(o)) {
            if (bad++ < 4)
                cr_expect_fail("%s: element %zu is %g, the reference %g", what, i, o, e);
        } else if (isfinite(e)) {
            num += (o - e) * (o - e), den += e * e;
        }
    }
    cr_expect(den == 0 || sqrt(num / den) <= TEST_TOL, "%s: finite elements: rel err %g", what,
              den ? sqrt(num / den) : 0.0);
}

/* One input of the pass (a or b) gets +Inf at its first element (a corner
 * tap, which meets padding at the border outputs), -Inf in the middle and
 * NaN at the end. */
static void nonfinite(const char *row, const clconv_desc *d, which_pass p, int poison_b)
{
    clconv_ctx *ctx = row_ctx(row);
    pass_case c;
    case_init(&c, d, p, 0, 99);
    float *t = poison_b ? c.b : c.a;
    const size_t n = poison_b ? c.nb : c.na;
    t[0] = INFINITY;
    t[n / 2] = -INFINITY;
    t[n - 1] = NAN;
    case_reference(&c);
    size_t finite = 0;
    for (size_t i = 0; i < c.no; i++)
        finite += isfinite(c.want[i]) != 0;
    cr_assert(finite > 0 && finite < c.no, "the layer must leave some outputs finite");
    float *out = test_alloc(c.no * sizeof *out);
    cr_assert_eq(run_device(ctx, &c, CLCONV_ALGO_TILED, 5, out), CLCONV_OK, "%s",
                 clconv_last_error(ctx));
    char what[256];
    snprintf(what, sizeof what, "%s %s (%s row), non-finite %s", c.repro, pass_names[p], row,
             poison_b ? "second input" : "first input");
    expect_same_classes(out, c.want, c.no, what);
    free(out);
    case_free(&c);
    clconv_free(ctx);
}

/* {n, c, h, w, k, r, s, sh, sw, ph, pw, dh, dw, g}: padding 1 and 2, stride 2 */
static const clconv_desc nf_layers[] = {
    {1, 5, 9, 10, 12, 3, 3, 1, 1, 1, 1, 1, 1, 1},
    {2, 4, 11, 9, 6, 3, 3, 2, 2, 2, 2, 1, 1, 2},
};

static void nonfinite_all(const char *row)
{
    for (int i = 0; i < 2; i++) {
        nonfinite(row, &nf_layers[i], FWD, 1);    /* w */
        nonfinite(row, &nf_layers[i], DATA, 1);   /* w */
        nonfinite(row, &nf_layers[i], FWD, 0);    /* x */
        nonfinite(row, &nf_layers[i], FILTER, 0); /* x */
        nonfinite(row, &nf_layers[i], DATA, 0);   /* dy */
        nonfinite(row, &nf_layers[i], FILTER, 1); /* dy */
    }
}

Test(tiled, nonfinite_like_the_reference_cpu_row) { nonfinite_all("cpu"); }
Test(tiled, nonfinite_like_the_reference_nvidia_row) { nonfinite_all("nvidia"); }

/* ---- AUTO and the refusals -------------------------------------------------- */

static int holds_program(const clconv_ctx *ctx, const char *source)
{
    for (int i = 0; i < ctx->nprograms; i++)
        if (!strcmp(clconv_kernel_sources[ctx->programs[i].source].name, source))
            return 1;
    return 0;
}

static void forward_auto(clconv_ctx *ctx, const clconv_desc *d)
{
    pass_case c;
    case_init(&c, d, FWD, 0, 11);
    case_reference(&c);
    float *out = test_alloc(c.no * sizeof *out);
    cr_assert_eq(run_device(ctx, &c, CLCONV_ALGO_AUTO, 0, out), CLCONV_OK, "%s",
                 clconv_last_error(ctx));
    cr_expect_leq(test_rel_err(out, c.want, c.no), TEST_TOL);
    free(out);
    case_free(&c);
}

Test(tiled, auto_takes_it_on_gpus_or_when_its_row_is_named)
{
    const clconv_desc d = {1, 16, 8, 8, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1};
    clconv_ctx *ctx = row_ctx(NULL);
    forward_auto(ctx, &d);
    const int gpu = (ctx->info.type & CL_DEVICE_TYPE_GPU) != 0;
    cr_expect_eq(holds_program(ctx, "tiled_conv"), gpu, "AUTO on this %s device",
                 gpu ? "GPU" : "non-GPU");
    clconv_free(ctx);
    ctx = row_ctx("nvidia");
    forward_auto(ctx, &d);
    cr_expect(holds_program(ctx, "tiled_conv"), "CLCONV_TUNING=nvidia: AUTO runs TILED");
    clconv_free(ctx);
}

Test(tiled, auto_on_a_gpu_passes_over_mostly_empty_tiles)
{
    clconv_ctx *ctx = row_ctx(NULL);
    ctx->info.type = CL_DEVICE_TYPE_GPU; /* what AUTO sees on one */
    const clconv_desc dense = {1, 64, 8, 8, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1};
    const clconv_desc depthwise = {1, 64, 8, 8, 64, 3, 3, 1, 1, 1, 1, 1, 1, 64};
    layer L;
    char why[256];
    cr_assert_eq(layer_from_desc(&dense, &L), CLCONV_OK);
    pass_args a = {&L, NULL, 0, NULL, 0, NULL, 0, 0, NULL};
    for (int p = 0; p < NPASS; p++)
        cr_expect(tiled_auto_ok(ctx, (clconv_pass)p, &a, why, sizeof why), "%s: %s",
                  pass_names[p], why);
    cr_assert_eq(layer_from_desc(&depthwise, &L), CLCONV_OK);
    cr_expect(!tiled_auto_ok(ctx, CLCONV_PASS_FORWARD, &a, why, sizeof why));
    cr_expect(strstr(why, "quarter") != NULL, "%s", why);
    clconv_free(ctx);
}

/* A device without the local memory or the work-group size: the named
 * algorithm refuses with the reason, AUTO (on a GPU) takes the next. */
Test(tiled, refuses_what_the_device_lacks)
{
    const clconv_desc d = {1, 8, 6, 6, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1};
    clconv_ctx *ctx = row_ctx(NULL);
    ctx->info.type = CL_DEVICE_TYPE_GPU;
    ctx->info.local_mem = 2048;
    size_t xe = test_x_elems(&d), we = test_w_elems(&d), ye = test_y_elems(&d);
    cl_mem x = test_buffer(ctx, xe), w = test_buffer(ctx, we), y = test_buffer(ctx, ye);
    clconv_status st = clconv_forward(ctx, &d, CLCONV_ALGO_TILED, x, 0, w, 0, y, 0, NULL);
    cr_expect_eq(st, CLCONV_DEVICE_LIMIT, "%s", clconv_status_name(st));
    cr_expect(strstr(clconv_last_error(ctx), "local memory") != NULL, "%s",
              clconv_last_error(ctx));
    clReleaseMemObject(x), clReleaseMemObject(w), clReleaseMemObject(y);
    forward_auto(ctx, &d);
    cr_expect(!holds_program(ctx, "tiled_conv"), "AUTO fell through to another algorithm");
    ctx->info.local_mem = 1 << 20;
    ctx->info.max_wg = 16;
    layer L;
    cr_assert_eq(layer_from_desc(&d, &L), CLCONV_OK);
    const pass_args a = {&L, NULL, 0, NULL, 0, NULL, 0, 0, NULL};
    size_t bytes = 1;
    cr_expect_eq(clconv_workspace_size(ctx, &d, CLCONV_PASS_FORWARD, CLCONV_ALGO_TILED, &bytes),
                 CLCONV_OK);
    cr_expect_eq(bytes, 0);
    char why[256] = "";
    cr_expect_eq(algo_tiled.supports(ctx, CLCONV_PASS_BACKWARD_DATA, &a, why, sizeof why),
                 CLCONV_DEVICE_LIMIT);
    cr_expect(strstr(why, "work-groups of") != NULL, "%s", why);
    clconv_free(ctx);
}
