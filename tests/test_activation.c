/* clconv_activation_backward (issue 7): each activation's gradient in
 * every storage type and layout against float64, in place, its refusals,
 * and the chain the fused forward feeds: forward with an activation, then
 * its backward, against the float64 derivative at the pre-activation. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "dev_tensor.h"

/* each activation with the parameter it is tested with */
static const struct {
    clconv_activation act;
    float param;
} acts[] = {{CLCONV_ACT_IDENTITY, 0.0f}, {CLCONV_ACT_RELU, 0.0f},
            {CLCONV_ACT_CLIPPED_RELU, 2.0f}, {CLCONV_ACT_LEAKY_RELU, 0.125f},
            {CLCONV_ACT_SIGMOID, 0.0f}, {CLCONV_ACT_TANH, 0.0f}};
#define NACTS (sizeof acts / sizeof acts[0])

/* A layer whose y is 2 x 5 x 4 x 3. */
static clconv_desc layer_desc(clconv_dtype dt, int nhwc)
{
    clconv_desc d;
    clconv_desc_init(&d, 2, 3, 4, 3, 5, 3, 3);
    d.pad_h = d.pad_w = 1;
    d.dtype = dt;
    d.layout = nhwc ? CLCONV_NHWC : CLCONV_NCHW;
    return d;
}
static const int64_t ydims[4] = {2, 5, 4, 3};

static clconv_epilogue epilogue_of(clconv_activation act, float param)
{
    clconv_epilogue e;
    clconv_epilogue_init(&e);
    e.activation = (int32_t)act;
    e.param = param;
    return e;
}

/* The header's gradient from y, in float64. */
static double grad_from_y(clconv_activation act, double y, double dy, double a)
{
    switch (act) {
    case CLCONV_ACT_RELU: return y > 0 ? dy : 0;
    case CLCONV_ACT_CLIPPED_RELU: return y > 0 && y < a ? dy : 0;
    case CLCONV_ACT_LEAKY_RELU: return y > 0 ? dy : a * dy;
    case CLCONV_ACT_SIGMOID: return dy * y * (1 - y);
    case CLCONV_ACT_TANH: return dy * (1 - y * y);
    default: return dy;
    }
}

/* The derivative at the pre-activation v, from its definition. */
static double derivative(clconv_activation act, double v, double a)
{
    switch (act) {
    case CLCONV_ACT_RELU: return v > 0;
    case CLCONV_ACT_CLIPPED_RELU: return v > 0 && v < a;
    case CLCONV_ACT_LEAKY_RELU: return v > 0 ? 1 : a;
    case CLCONV_ACT_SIGMOID: {
        const double s = 1 / (1 + exp(-v));
        return s * (1 - s);
    }
    case CLCONV_ACT_TANH: return 1 - tanh(v) * tanh(v);
    default: return 1;
    }
}

/* y = act(pre) for pre uniform in [-4, 4): ReLU's zeros, the clipped
 * ReLU's 0 and param exactly, leaky ReLU's negatives, sigmoid's (0, 1). */
static void fill_y(clconv_ctx *ctx, dev_tensor *y, clconv_activation act, float param)
{
    const clconv_epilogue e = epilogue_of(act, param);
    double *v = test_alloc(y->n * sizeof(double));
    for (size_t i = 0; i < y->n; i++)
        v[i] = feature_epilogue_ref(&e, 4 * y->v[i], 0, 0);
    dev_tensor_set(ctx, y, v);
    free(v);
}

typedef struct acase {
    clconv_dtype dt;
    int nhwc, in_place;
    size_t a;                   /* index into acts */
} acase;

/* One call on fresh values; its relative error against the header's
 * formula on the stored y and dy, checked. */
static void run_case(clconv_ctx *ctx, const acase *c, uint64_t seed)
{
    const clconv_desc d = layer_desc(c->dt, c->nhwc);
    const clconv_activation act = acts[c->a].act;
    const float param = acts[c->a].param;
    test_rng rng = test_rng_seed(seed);
    dev_tensor y, dy, dz;
    dev_tensor_make(ctx, &y, ydims, c->nhwc, c->dt, &rng, 1.0, 0);
    fill_y(ctx, &y, act, param);
    dev_tensor_make(ctx, &dy, ydims, c->nhwc, c->dt, &rng, 1.0, 0);
    if (!c->in_place)
        dev_tensor_make(ctx, &dz, ydims, c->nhwc, c->dt, &rng, 1.0, 1);
    double *ref = test_alloc(y.n * sizeof(double));
    for (size_t i = 0; i < y.n; i++)
        ref[i] = grad_from_y(act, y.v[i], dy.v[i], param);
    const dev_tensor *out = c->in_place ? &dy : &dz;
    cl_event ev = NULL;
    clconv_status st = clconv_activation_backward(ctx, &d, act, param, y.m, DEV_OFF, dy.m, DEV_OFF,
                                                  out->m, DEV_OFF, &ev);
    const char *what = clconv_dtype_name(c->dt);
    cr_expect_eq(st, CLCONV_OK, "act %d %s %s%s: %s (%s)", (int)act, what,
                 c->nhwc ? "nhwc" : "nchw", c->in_place ? " in place" : "",
                 clconv_status_name(st), clconv_last_error(ctx));
    if (st == CLCONV_OK) {
        cr_expect_not_null(ev);
        if (ev)
            clReleaseEvent(ev);
        dev_result r = dev_tensor_check(ctx, out, ref);
        cr_expect(r.err <= feature_tol(c->dt), "act %d %s %s%s: relative error %g > %g",
                  (int)act, what, c->nhwc ? "nhwc" : "nchw", c->in_place ? " in place" : "",
                  r.err, feature_tol(c->dt));
        cr_expect(r.guards_ok, "act %d %s: wrote outside dz", (int)act, what);
    }
    free(ref);
    dev_tensor_free(&y);
    dev_tensor_free(&dy);
    if (!c->in_place)
        dev_tensor_free(&dz);
}

Test(activation, each_activation_fp32)
{
    clconv_ctx *ctx = test_ctx();
    for (size_t a = 0; a < NACTS; a++) {
        acase c = {CLCONV_F32, 0, 0, a};
        run_case(ctx, &c, 10 + a);
    }
    clconv_free(ctx);
}

Test(activation, dtypes_and_layouts)
{
    clconv_ctx *ctx = test_ctx();
    for (int dt = 0; dt < CLCONV_DTYPE_COUNT_; dt++)
        for (int nhwc = 0; nhwc < 2; nhwc++)
            for (size_t a = 0; a < NACTS; a++) {
                acase c = {(clconv_dtype)dt, nhwc, 0, a};
                run_case(ctx, &c, 100 + 20 * (uint64_t)dt + 10 * (uint64_t)nhwc + a);
            }
    clconv_free(ctx);
}

/* dz is dy's buffer at dy's offset. */
Test(activation, in_place)
{
    clconv_ctx *ctx = test_ctx();
    for (int dt = 0; dt < CLCONV_DTYPE_COUNT_; dt++)
        for (size_t a = 0; a < NACTS; a++) {
            acase c = {(clconv_dtype)dt, dt == CLCONV_F16, 1, a};
            run_case(ctx, &c, 300 + 10 * (uint64_t)dt + a);
        }
    clconv_free(ctx);
}

/* fp32 NCHW y and dy of random values, and a poisoned dz. */
static void fp32_tensors(clconv_ctx *ctx, uint64_t seed, dev_tensor *y, dev_tensor *dy,
                         dev_tensor *dz)
{
    test_rng rng = test_rng_seed(seed);
    dev_tensor_make(ctx, y, ydims, 0, CLCONV_F32, &rng, 1.0, 0);
    dev_tensor_make(ctx, dy, ydims, 0, CLCONV_F32, &rng, 1.0, 0);
    dev_tensor_make(ctx, dz, ydims, 0, CLCONV_F32, &rng, 1.0, 1);
}

/* The masks select: a masked-out Inf gradient gives 0, not NaN, and a NaN
 * y masks the gradient out (comparisons with NaN are false). */
Test(activation, masks_select)
{
    clconv_ctx *ctx = test_ctx();
    const clconv_desc d = layer_desc(CLCONV_F32, 0);
    dev_tensor y, dy, dz;
    fp32_tensors(ctx, 3, &y, &dy, &dz);
    double *yv = test_alloc(y.n * sizeof(double)), *dv = test_alloc(y.n * sizeof(double)),
           *ref = test_alloc(y.n * sizeof(double));
    for (size_t i = 0; i < y.n; i++) {
        yv[i] = i % 3 == 0 ? -1.0 : i % 3 == 1 ? NAN : 0.5;
        dv[i] = i % 3 == 2 ? 1.0 : INFINITY;
        ref[i] = i % 3 == 2 ? 1.0 : 0.0;
    }
    dev_tensor_set(ctx, &y, yv);
    dev_tensor_set(ctx, &dy, dv);
    static const clconv_activation masked[] = {CLCONV_ACT_RELU, CLCONV_ACT_CLIPPED_RELU};
    for (int m = 0; m < 2; m++) {
        cr_assert_eq(clconv_activation_backward(ctx, &d, masked[m], 2.0f, y.m, DEV_OFF, dy.m,
                                                DEV_OFF, dz.m, DEV_OFF, NULL), CLCONV_OK);
        dev_result r = dev_tensor_check(ctx, &dz, ref);
        cr_expect(r.err == 0 && r.guards_ok, "act %d: error %g", (int)masked[m], r.err);
    }
    free(yv), free(dv), free(ref);
    dev_tensor_free(&y), dev_tensor_free(&dy), dev_tensor_free(&dz);
    clconv_free(ctx);
}

/* ---- refusals --------------------------------------------------------- */

Test(activation, refusals_write_nothing)
{
    clconv_ctx *ctx = test_ctx();
    const clconv_desc d = layer_desc(CLCONV_F32, 0);
    dev_tensor y, dy, dz;
    fp32_tensors(ctx, 9, &y, &dy, &dz);
    const size_t O = DEV_OFF, past = DEV_OFF + DEV_GUARD + 1;
    const clconv_activation R = CLCONV_ACT_RELU;
    cl_event ev;
    clconv_status st;

    st = clconv_activation_backward(NULL, &d, R, 0, y.m, O, dy.m, O, dz.m, O, dev_poison(&ev));
    cr_expect_eq(st, CLCONV_NULL_ARGUMENT);
    cr_expect_null(ev);
    st = clconv_activation_backward(ctx, NULL, R, 0, y.m, O, dy.m, O, dz.m, O, dev_poison(&ev));
    expect_refused(ctx, st, CLCONV_NULL_ARGUMENT, ev, &dz, "NULL descriptor");
    clconv_desc bad = d;
    bad.out_pad_h = 1;
    st = clconv_activation_backward(ctx, &bad, R, 0, y.m, O, dy.m, O, dz.m, O, dev_poison(&ev));
    expect_refused(ctx, st, CLCONV_BAD_PADDING, ev, &dz, "output padding");
    bad = d;
    bad.dtype = 7;
    st = clconv_activation_backward(ctx, &bad, R, 0, y.m, O, dy.m, O, dz.m, O, dev_poison(&ev));
    expect_refused(ctx, st, CLCONV_BAD_DTYPE, ev, &dz, "bad dtype");

    /* activations and parameters, as clconv_epilogue_check */
    static const struct {
        int act;
        float param;
        const char *what;
    } bad_acts[] = {{CLCONV_ACT_COUNT_, 0, "activation 6"}, {-1, 0, "activation -1"},
                    {CLCONV_ACT_CLIPPED_RELU, 0, "clipped ReLU 0"},
                    {CLCONV_ACT_CLIPPED_RELU, -1, "clipped ReLU -1"},
                    {CLCONV_ACT_CLIPPED_RELU, INFINITY, "clipped ReLU Inf"},
                    {CLCONV_ACT_LEAKY_RELU, -0.125f, "leaky ReLU -0.125"},
                    {CLCONV_ACT_LEAKY_RELU, NAN, "leaky ReLU NaN"},
                    {CLCONV_ACT_IDENTITY, NAN, "identity NaN"},
                    {CLCONV_ACT_SIGMOID, -INFINITY, "sigmoid -Inf"}};
    for (size_t i = 0; i < sizeof bad_acts / sizeof bad_acts[0]; i++) {
        st = clconv_activation_backward(ctx, &d, (clconv_activation)bad_acts[i].act,
                                        bad_acts[i].param, y.m, O, dy.m, O, dz.m, O,
                                        dev_poison(&ev));
        expect_refused(ctx, st, CLCONV_BAD_EPILOGUE, ev, &dz, bad_acts[i].what);
    }

    /* buffers */
    st = clconv_activation_backward(ctx, &d, R, 0, NULL, O, dy.m, O, dz.m, O, dev_poison(&ev));
    expect_refused(ctx, st, CLCONV_NULL_ARGUMENT, ev, &dz, "NULL y");
    st = clconv_activation_backward(ctx, &d, R, 0, y.m, O, NULL, O, dz.m, O, dev_poison(&ev));
    expect_refused(ctx, st, CLCONV_NULL_ARGUMENT, ev, &dz, "NULL dy");
    st = clconv_activation_backward(ctx, &d, R, 0, y.m, O, dy.m, O, NULL, O, dev_poison(&ev));
    expect_refused(ctx, st, CLCONV_NULL_ARGUMENT, ev, &dz, "NULL dz");
    st = clconv_activation_backward(ctx, &d, R, 0, y.m, O, dy.m, O, dz.m, past, dev_poison(&ev));
    expect_refused(ctx, st, CLCONV_BUFFER_TOO_SMALL, ev, &dz, "dz too small");
    st = clconv_activation_backward(ctx, &d, R, 0, y.m, past, dy.m, O, dz.m, O, dev_poison(&ev));
    expect_refused(ctx, st, CLCONV_BUFFER_TOO_SMALL, ev, &dz, "y too small");
    st = clconv_activation_backward(ctx, &d, R, 0, y.m, O, dy.m, O, y.m, O, dev_poison(&ev));
    expect_refused(ctx, st, CLCONV_BAD_BUFFER, ev, &y, "dz is y");
    st = clconv_activation_backward(ctx, &d, R, 0, y.m, O, dy.m, O, y.m, O + 1, dev_poison(&ev));
    expect_refused(ctx, st, CLCONV_BAD_BUFFER, ev, &y, "dz overlaps y");
    st = clconv_activation_backward(ctx, &d, R, 0, y.m, O, dy.m, O, dy.m, O + 1, dev_poison(&ev));
    expect_refused(ctx, st, CLCONV_BAD_BUFFER, ev, &dy, "dz overlaps dy, not in place");
    st = clconv_activation_backward(ctx, &d, R, 0, y.m, O, dy.m, O, dz.m, O - 1, dev_poison(&ev));
    cr_expect_eq(st, CLCONV_OK, "dz at another offset of its own buffer: %s",
                 clconv_last_error(ctx));
    if (ev)
        clReleaseEvent(ev);
    dev_tensor_set(ctx, &dz, dz.v); /* back to all NaN */

    /* access flags: dz read-only; in place, dy (= dz) is read too */
    cl_int err;
    const size_t bytes = (O + y.n) * sizeof(float);
    cl_mem ro = clCreateBuffer(clconv_cl_context(ctx), CL_MEM_READ_ONLY, bytes, NULL, &err);
    cl_mem wo = clCreateBuffer(clconv_cl_context(ctx), CL_MEM_WRITE_ONLY, bytes, NULL, &err);
    cr_assert(ro && wo);
    st = clconv_activation_backward(ctx, &d, R, 0, y.m, O, dy.m, O, ro, O, dev_poison(&ev));
    expect_refused(ctx, st, CLCONV_BAD_BUFFER, ev, &dz, "read-only dz");
    st = clconv_activation_backward(ctx, &d, R, 0, y.m, O, wo, O, wo, O, dev_poison(&ev));
    expect_refused(ctx, st, CLCONV_BAD_BUFFER, ev, &dz, "write-only dy in place");
    st = clconv_activation_backward(ctx, &d, R, 0, y.m, O, dy.m, O, wo, O, dev_poison(&ev));
    cr_expect_eq(st, CLCONV_OK, "write-only dz: %s", clconv_last_error(ctx));
    if (ev)
        clReleaseEvent(ev);
    clReleaseMemObject(ro);
    clReleaseMemObject(wo);

    /* inputs may alias each other, and the context still works */
    st = clconv_activation_backward(ctx, &d, R, 0, y.m, O, y.m, O, dz.m, O, dev_poison(&ev));
    cr_expect_eq(st, CLCONV_OK, "dy is y: %s", clconv_last_error(ctx));
    cr_expect_str_eq(clconv_last_error(ctx), "");
    cr_expect_not_null(ev);
    if (ev)
        clReleaseEvent(ev);
    dev_tensor_free(&y), dev_tensor_free(&dy), dev_tensor_free(&dz);
    clconv_free(ctx);
}

/* ---- the chain: fused forward, then the activation's backward ------------- */

/* y = act(conv(x, w) + bias) by clconv_forward_fused (AUTO), then
 * dz = clconv_activation_backward(y, dy), against act'(pre) * dy with
 * pre = the float64 convolution + bias. */
static void chain_case(clconv_ctx *ctx, size_t a, uint64_t seed)
{
    clconv_desc d;
    clconv_desc_init(&d, 2, 4, 6, 5, 3, 3, 3);
    d.pad_h = d.pad_w = 1;
    const int64_t P = 6, Q = 5, xd[4] = {2, 4, 6, 5}, wd[4] = {3, 4, 3, 3}, yd[4] = {2, 3, P, Q},
                  bd[4] = {1, 3, 1, 1};
    const clconv_activation act = acts[a].act;
    const float param = acts[a].param == 2.0f ? 1.5f : acts[a].param;
    test_rng rng = test_rng_seed(seed);
    dev_tensor x, w, b, y, dy, dz;
    dev_tensor_make(ctx, &x, xd, 0, CLCONV_F32, &rng, 1.0, 0);
    dev_tensor_make(ctx, &w, wd, 0, CLCONV_F32, &rng, 1.0, 0);
    dev_tensor_make(ctx, &b, bd, 0, CLCONV_F32, &rng, 1.0, 0);
    dev_tensor_make(ctx, &y, yd, 0, CLCONV_F32, &rng, 1.0, 1);
    dev_tensor_make(ctx, &dy, yd, 0, CLCONV_F32, &rng, 1.0, 0);
    dev_tensor_make(ctx, &dz, yd, 0, CLCONV_F32, &rng, 1.0, 1);
    clconv_epilogue e = epilogue_of(act, param);
    e.bias = b.m;
    e.bias_off = DEV_OFF;
    const size_t O = DEV_OFF;
    double *pre = test_alloc(y.n * sizeof(double)), *ref = test_alloc(y.n * sizeof(double));
    cr_assert_eq(clconv_ref_forward(&d, x.v, w.v, pre), CLCONV_OK);
    for (size_t i = 0; i < y.n; i++)
        pre[i] += b.v[(i / (size_t)(P * Q)) % 3];
    clconv_status st = clconv_forward_fused(ctx, &d, CLCONV_ALGO_AUTO, x.m, O, w.m, O, y.m, O, &e,
                                            NULL);
    cr_assert_eq(st, CLCONV_OK, "forward_fused act %d: %s", (int)act, clconv_last_error(ctx));
    for (size_t i = 0; i < y.n; i++)
        ref[i] = derivative(act, pre[i], param) * dy.v[i];
    cr_assert_eq(clconv_activation_backward(ctx, &d, act, param, y.m, O, dy.m, O, dz.m, O, NULL),
                 CLCONV_OK, "%s", clconv_last_error(ctx));
    dev_result r = dev_tensor_check(ctx, &dz, ref);
    cr_expect(r.err <= TEST_TOL && r.guards_ok, "act %d: relative error %g against the "
              "derivative at the pre-activation", (int)act, r.err);
    free(pre), free(ref);
    dev_tensor_free(&x), dev_tensor_free(&w), dev_tensor_free(&b);
    dev_tensor_free(&y), dev_tensor_free(&dy), dev_tensor_free(&dz);
}

Test(activation, fused_forward_then_backward)
{
    clconv_ctx *ctx = test_ctx();
    for (size_t a = 0; a < NACTS; a++)
        chain_case(ctx, a, 600 + a);
    clconv_free(ctx);
}
