/* The public device-buffer calls: check everything, then dispatch to an
 * algorithm.  Nothing is enqueued until every check has passed, so a bad
 * call writes nothing and leaves the context as it was. */
#include <stdio.h>
#include "internal.h"

static const algo_impl *const impls[CLCONV_ALGO_COUNT_] = {
    [CLCONV_ALGO_EXPLICIT] = &algo_explicit,
    [CLCONV_ALGO_DIRECT] = &algo_direct,
    [CLCONV_ALGO_GEMM] = &algo_gemm,
    [CLCONV_ALGO_TILED] = &algo_tiled,
    [CLCONV_ALGO_WINOGRAD] = &algo_winograd,
};

/* AUTO's implementation list, fastest first: the first that implements
 * the pass, is wanted for it (auto_ok, when there is one: TILED on GPUs,
 * WINOGRAD where its transforms pay) and supports the call runs it. */
static const struct {
    const algo_impl *impl;
    int (*auto_ok)(const clconv_ctx *ctx, clconv_pass pass, const pass_args *a, char *why,
                   size_t cap);
} auto_list[] = {{&algo_tiled, tiled_auto_ok},
                 {&algo_winograd, winograd_auto_ok},
                 {&algo_gemm, NULL},
                 {&algo_direct, NULL},
                 {&algo_explicit, NULL}};
#define AUTO_LIST_LEN (sizeof auto_list / sizeof auto_list[0])

static const char *const pass_names[CLCONV_PASS_COUNT_] = {"forward", "backward-data",
                                                           "backward-filter"};

/* BAD_ALGORITHM for a value outside the enum, or a named algorithm
 * without the pass. */
static clconv_status check_algo(clconv_algo algo, clconv_pass pass)
{
    if ((unsigned)algo >= CLCONV_ALGO_COUNT_)
        return CLCONV_BAD_ALGORITHM;
    if (algo != CLCONV_ALGO_AUTO && !impls[algo]->run[pass])
        return CLCONV_BAD_ALGORITHM;
    return CLCONV_OK;
}

const algo_impl *algo_impl_of(clconv_algo algo)
{
    return (unsigned)algo < CLCONV_ALGO_COUNT_ ? impls[algo] : NULL;
}

unsigned pass_needs(const pass_args *a)
{
    const layer *L = a->L;
    unsigned need = 0;
    if (L->dtype == CLCONV_F16)
        need |= CAP_F16;
    if (L->dtype == CLCONV_BF16)
        need |= CAP_BF16;
    if (L->layout == CLCONV_NHWC)
        need |= CAP_NHWC;
    if (L->flayout == CLCONV_KRSC)
        need |= CAP_KRSC;
    if (a->ep)
        need |= CAP_EPILOGUE;
    if (L->pb != L->ph || L->pr != L->pw)
        need |= CAP_ASYM_PAD;
    return need;
}

/* The first of the bits in `missing`, as words for a refusal. */
static const char *cap_name(unsigned missing)
{
    static const struct {
        unsigned bit;
        const char *name;
    } names[] = {{CAP_F16, "fp16 storage"},     {CAP_BF16, "bf16 storage"},
                 {CAP_NHWC, "the NHWC layout"}, {CAP_KRSC, "the KRSC filter layout"},
                 {CAP_EPILOGUE, "a fused epilogue"}, {CAP_ASYM_PAD, "asymmetric padding"}};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (missing & names[i].bit)
            return names[i].name;
    return "this call";
}

clconv_status impl_supports(const clconv_ctx *ctx, const algo_impl *impl, clconv_pass pass,
                            const pass_args *a, char *why, size_t cap)
{
    if (!impl->run[pass]) {
        snprintf(why, cap, "%s does not implement %s", impl->name, pass_names[pass]);
        return CLCONV_BAD_ALGORITHM;
    }
    const unsigned missing = pass_needs(a) & ~impl->caps[pass];
    if (missing) {
        snprintf(why, cap, "%s's %s does not support %s", impl->name, pass_names[pass],
                 cap_name(missing));
        return CLCONV_NOT_SUPPORTED;
    }
    return impl->supports ? impl->supports(ctx, pass, a, why, cap) : CLCONV_OK;
}

/* The implementation that runs the call (algo already checked).  A named
 * algorithm that cannot run it is the call's status; AUTO logs each
 * refusal (CLCONV_LOG=1) and takes the next, failing only when none can.
 * ctx is NULL for queries, which record and log nothing. */
static clconv_status pick_impl(clconv_ctx *ctx, const clconv_ctx *dev, clconv_algo algo,
                               clconv_pass pass, const pass_args *a, const algo_impl **out)
{
    char why[256] = "";
    if (algo != CLCONV_ALGO_AUTO) {
        *out = impls[algo];
        clconv_status st = impl_supports(dev, *out, pass, a, why, sizeof why);
        return st == CLCONV_OK ? st : ctx_fail(ctx, st, CL_SUCCESS, "%s", why);
    }
    clconv_status first = CLCONV_BAD_ALGORITHM;
    for (size_t i = 0; i < AUTO_LIST_LEN; i++) {
        const algo_impl *impl = auto_list[i].impl;
        /* passed over by choice (TILED on a CPU): no refusal, logged only
         * with the debug lines */
        if (impl->run[pass] && auto_list[i].auto_ok &&
            !auto_list[i].auto_ok(dev, pass, a, why, sizeof why)) {
            if (ctx)
                log_msg(ctx, CLCONV_LOG_DEBUG, "auto: %s passed over for this %s: %s",
                        impl->name, pass_names[pass], why);
            continue;
        }
        clconv_status st = impl_supports(dev, impl, pass, a, why, sizeof why);
        if (st == CLCONV_OK) {
            *out = impl;
            return CLCONV_OK;
        }
        if (first == CLCONV_BAD_ALGORITHM)
            first = st;
        /* a limit the device sets is worth a call line; a layer or feature
         * outside the implementation's domain (WINOGRAD's 3x3 only) is not */
        if (ctx && impl->run[pass])
            log_msg(ctx, st == CLCONV_NOT_SUPPORTED ? CLCONV_LOG_DEBUG : CLCONV_LOG_CALL,
                    "auto: %s cannot run this %s: %s", impl->name, pass_names[pass], why);
    }
    return ctx_fail(ctx, first, CL_SUCCESS, "no algorithm can run this %s; the last said: %s",
                    pass_names[pass], why);
}

static clconv_status check_layer(clconv_ctx *ctx, const clconv_desc *d, layer *L)
{
    if (!d)
        return ctx_fail(ctx, CLCONV_NULL_ARGUMENT, CL_SUCCESS, "descriptor is NULL");
    clconv_status st = layer_from_desc(d, L);
    if (st != CLCONV_OK)
        return ctx_fail(ctx, st, CL_SUCCESS, "invalid descriptor: %s", clconv_status_string(st));
    return CLCONV_OK;
}

typedef struct buf {
    cl_mem m;
    size_t off;
    const char *what;
} buf;

/* The epilogue of a fused forward call, checked, as the kernels take it
 * (has_bias from the bias buffer); NULL ep: none. */
static clconv_status epilogue_args(clconv_ctx *ctx, const clconv_epilogue *ep, kepi *out)
{
    clconv_status st = clconv_epilogue_check(ep);
    if (st != CLCONV_OK)
        return ctx_fail(ctx, st, CL_SUCCESS, "invalid epilogue: %s", clconv_status_string(st));
    *out = (kepi){ep->alpha, ep->beta, ep->param, ep->activation, ep->bias != NULL, 0};
    return CLCONV_OK;
}

/* One pass: buffers a, b in; out written (or added to when beta); ep the
 * forward's epilogue or NULL. */
static clconv_status pass_locked(clconv_ctx *ctx, const clconv_desc *d, clconv_algo algo,
                                 clconv_pass pass, buf a, buf b, buf out, int beta,
                                 const clconv_epilogue *ep, cl_event *event)
{
    layer L;
    TRY(check_layer(ctx, d, &L));
    if (check_algo(algo, pass) != CLCONV_OK)
        return ctx_fail(ctx, CLCONV_BAD_ALGORITHM, CL_SUCCESS,
                        "algorithm %d does not implement %s", (int)algo, pass_names[pass]);
    kepi ke;
    if (ep) {
        TRY(epilogue_args(ctx, ep, &ke));
        beta = ke.beta != 0.0f;
    }
    /* element counts are known only now that the layer is checked */
    const size_t xe = L.x_elems, we = L.w_elems, ye = L.y_elems;
    const size_t counts[CLCONV_PASS_COUNT_][3] = {{xe, we, ye}, {ye, we, xe}, {xe, ye, we}};
    const unsigned out_access = TENSOR_WRITE | (beta ? TENSOR_READ : 0);
    const size_t es = L.esize;
    const tensor_arg t[4] = {{a.m, a.off, counts[pass][0], a.what, TENSOR_READ, es},
                             {b.m, b.off, counts[pass][1], b.what, TENSOR_READ, es},
                             {out.m, out.off, counts[pass][2], out.what, out_access, es},
                             {ep ? ep->bias : NULL, ep ? ep->bias_off : 0, (size_t)L.k, "bias",
                              TENSOR_READ, es}};
    TRY(check_tensors(ctx, t, ep && ep->bias ? 4 : 3));
    pass_args pa = {&L, a.m, a.off, b.m, b.off, out.m, out.off, beta != 0, event,
                    ep ? &ke : NULL, ep ? ep->bias : NULL, ep ? ep->bias_off : 0};
    const algo_impl *impl;
    TRY(pick_impl(ctx, ctx, algo, pass, &pa, &impl));
    /* only AUTO consults find; its own pick is the fallback and a candidate */
    if (algo == CLCONV_ALGO_AUTO && ctx->find.mode)
        return find_run(ctx, d, pass, &pa, impl);
    return impl->run[pass](ctx, &pa);
}

static clconv_status pass_call(clconv_ctx *ctx, const clconv_desc *d, clconv_algo algo,
                               clconv_pass pass, buf a, buf b, buf out, int beta,
                               const clconv_epilogue *ep, cl_event *event)
{
    if (event)
        *event = NULL; /* what a failed call leaves; success sets it */
    if (!ctx)
        return CLCONV_NULL_ARGUMENT;
    /* CLCONV_LOG: the bench line of this call */
    if (ep)
        log_fused(ctx, d, algo, ep);
    else
        log_pass(ctx, d, algo, pass, beta);
    pthread_mutex_lock(&ctx->lock);
    ctx_clear_error(ctx);
    clconv_status st = pass_locked(ctx, d, algo, pass, a, b, out, beta, ep, event);
    pthread_mutex_unlock(&ctx->lock);
    return st;
}

clconv_status clconv_forward(clconv_ctx *ctx, const clconv_desc *d, clconv_algo algo, cl_mem x,
                             size_t x_off, cl_mem w, size_t w_off, cl_mem y, size_t y_off,
                             cl_event *event)
{
    return pass_call(ctx, d, algo, CLCONV_PASS_FORWARD, (buf){x, x_off, "x"},
                     (buf){w, w_off, "w"}, (buf){y, y_off, "y"}, 0, NULL, event);
}

clconv_status clconv_forward_fused(clconv_ctx *ctx, const clconv_desc *d, clconv_algo algo,
                                   cl_mem x, size_t x_off, cl_mem w, size_t w_off, cl_mem y,
                                   size_t y_off, const clconv_epilogue *ep, cl_event *event)
{
    return pass_call(ctx, d, algo, CLCONV_PASS_FORWARD, (buf){x, x_off, "x"},
                     (buf){w, w_off, "w"}, (buf){y, y_off, "y"}, 0, ep, event);
}

clconv_status clconv_backward_data(clconv_ctx *ctx, const clconv_desc *d, clconv_algo algo,
                                   cl_mem dy, size_t dy_off, cl_mem w, size_t w_off, cl_mem dx,
                                   size_t dx_off, int accumulate, cl_event *event)
{
    return pass_call(ctx, d, algo, CLCONV_PASS_BACKWARD_DATA, (buf){dy, dy_off, "dy"},
                     (buf){w, w_off, "w"}, (buf){dx, dx_off, "dx"}, accumulate, NULL, event);
}

clconv_status clconv_backward_filter(clconv_ctx *ctx, const clconv_desc *d, clconv_algo algo,
                                     cl_mem x, size_t x_off, cl_mem dy, size_t dy_off, cl_mem dw,
                                     size_t dw_off, int accumulate, cl_event *event)
{
    return pass_call(ctx, d, algo, CLCONV_PASS_BACKWARD_FILTER, (buf){x, x_off, "x"},
                     (buf){dy, dy_off, "dy"}, (buf){dw, dw_off, "dw"}, accumulate, NULL, event);
}

clconv_status clconv_workspace_size(const clconv_ctx *ctx, const clconv_desc *d, clconv_pass pass,
                                    clconv_algo algo, size_t *bytes)
{
    if (!ctx || !d || !bytes)
        return CLCONV_NULL_ARGUMENT;
    if ((unsigned)pass >= CLCONV_PASS_COUNT_)
        return CLCONV_BAD_PASS;
    layer L;
    TRY(layer_from_desc(d, &L));
    TRY(check_algo(algo, pass));
    /* a named algorithm says what it needs even beyond the device's limits
     * (for planning); AUTO, what the implementation it picks needs */
    const pass_args pa = {&L, NULL, 0, NULL, 0, NULL, 0, 0, NULL, NULL, NULL, 0};
    const algo_impl *impl = impls[algo];
    if (algo == CLCONV_ALGO_AUTO)
        TRY(pick_impl(NULL, ctx, algo, pass, &pa, &impl));
    *bytes = 0;
    return impl->workspace ? impl->workspace(ctx, &L, pass, bytes) : CLCONV_OK;
}
