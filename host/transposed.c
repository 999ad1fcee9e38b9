/* Transposed convolution (issue 7): the gradient of a convolution from
 * y's shape to x's.  Each of its passes is a convolution pass of the
 * convolution it is the backward-data of (clconv_transposed_as_conv), run
 * through the public calls, so every algorithm that runs those runs it:
 *   forward          = backward-data (dy := x, dx := y), then the bias
 *                      (kernels/activation.cl's bias_add);
 *   backward-data    = forward (x := dy, y := dx; accumulate through the
 *                      fused epilogue's beta = 1);
 *   backward-filter  = backward-filter (x := dy, dy := x);
 *   backward-bias    = backward-bias of a 1x1 layer whose y is this dy.
 * The tensors are checked here first, under their own names, so that a
 * refused call is refused before anything is enqueued (the forward's bias
 * kernel runs after the convolution) and its message names x, not dy. */
#include <stdio.h>
#include "elementwise.h"

#define LIM (INT64_C(1) << 62)

/* The caller's descriptor with every 0.3 field: those its struct_size
 * covers, the defaults for the rest (a 0.2 caller's struct is never read
 * past its end).  BAD_VERSION as clconv_desc_check. */
static clconv_status full_desc(const clconv_desc *d, clconv_desc *f)
{
    if (d->struct_size != 0 &&
        (d->struct_size < CLCONV_DESC_SIZE_0_2 || d->struct_size > (int64_t)sizeof *d))
        return CLCONV_BAD_VERSION;
    if (d->struct_size >= CLCONV_DESC_SIZE_0_3) {
        *f = *d;
    } else {
        clconv_desc_init(f, d->n, d->c, d->h, d->w, d->k, d->r, d->s);
        f->stride_h = d->stride_h, f->stride_w = d->stride_w;
        f->pad_h = d->pad_h, f->pad_w = d->pad_w;
        f->dilation_h = d->dilation_h, f->dilation_w = d->dilation_w;
        f->groups = d->groups;
    }
    f->struct_size = (int64_t)sizeof *f;
    if (f->pad_asymmetric == 0) /* the ends are ignored: each side gets pad_h / pad_w */
        f->pad_h_end = f->pad_h, f->pad_w_end = f->pad_w;
    return CLCONV_OK;
}

/* Steps 2-6 of clconv_desc_check, with the output padding allowed below
 * the stride. */
static clconv_status check_fields(const clconv_desc *f)
{
    if (f->n < 1 || f->c < 1 || f->h < 1 || f->w < 1 || f->k < 1 || f->r < 1 || f->s < 1)
        return CLCONV_BAD_SIZE;
    if (f->stride_h < 1 || f->stride_w < 1)
        return CLCONV_BAD_STRIDE;
    if (f->pad_asymmetric != 0 && f->pad_asymmetric != 1)
        return CLCONV_BAD_PADDING;
    if (f->pad_h < 0 || f->pad_w < 0 || f->pad_h_end < 0 || f->pad_w_end < 0)
        return CLCONV_BAD_PADDING;
    if (f->out_pad_h < 0 || f->out_pad_w < 0 || f->out_pad_h >= f->stride_h ||
        f->out_pad_w >= f->stride_w)
        return CLCONV_BAD_PADDING;
    if (f->dilation_h < 1 || f->dilation_w < 1)
        return CLCONV_BAD_DILATION;
    if (f->groups < 1 || f->c % f->groups || f->k % f->groups)
        return CLCONV_BAD_GROUPS;
    if ((uint64_t)f->dtype >= CLCONV_DTYPE_COUNT_)
        return CLCONV_BAD_DTYPE;
    if ((uint64_t)f->layout >= CLCONV_LAYOUT_COUNT_ ||
        (uint64_t)f->filter_layout >= CLCONV_FILTER_LAYOUT_COUNT_)
        return CLCONV_BAD_LAYOUT;
    return CLCONV_OK;
}

/* One output length (H - 1) * stride - begin - end + (R - 1) * dil + 1 +
 * out_pad, computed so that nothing overflows: each of the three positive
 * terms is below 2^62 (else TOO_LARGE, as the convolution's sizes), so
 * their sum fits in 64 unsigned bits, and the paddings (below 2^60 each)
 * are taken off after. */
static clconv_status out_len(int64_t in, int64_t k, int64_t st, int64_t p0, int64_t p1,
                             int64_t dil, int64_t op, int64_t *out)
{
    if (in >= LIM || k >= LIM || p0 >= LIM / 4 || p1 >= LIM / 4 || dil >= LIM || op >= LIM)
        return CLCONV_TOO_LARGE;
    if (k - 1 > 0 && dil > (LIM - 1) / (k - 1))
        return CLCONV_TOO_LARGE;
    if (in - 1 > 0 && st > LIM / (in - 1))
        return CLCONV_TOO_LARGE;
    const uint64_t grown = (uint64_t)((in - 1) * st) + (uint64_t)((k - 1) * dil + 1) + (uint64_t)op;
    const uint64_t pads = (uint64_t)p0 + (uint64_t)p1;
    if (grown <= pads)
        return CLCONV_EMPTY_OUTPUT;
    if (grown - pads >= (uint64_t)LIM)
        return CLCONV_TOO_LARGE;
    *out = (int64_t)(grown - pads);
    return CLCONV_OK;
}

/* The convolution of a transposed descriptor, checked (see the header). */
static clconv_status conv_of(const clconv_desc *d, clconv_desc *conv)
{
    if (!d || !conv)
        return CLCONV_NULL_ARGUMENT;
    clconv_desc f;
    TRY(full_desc(d, &f));
    TRY(check_fields(&f));
    int64_t ho, wo;
    TRY(out_len(f.h, f.r, f.stride_h, f.pad_h, f.pad_h_end, f.dilation_h, f.out_pad_h, &ho));
    TRY(out_len(f.w, f.s, f.stride_w, f.pad_w, f.pad_w_end, f.dilation_w, f.out_pad_w, &wo));
    clconv_desc c = f;
    c.c = f.k, c.h = ho, c.w = wo, c.k = f.c;
    c.out_pad_h = c.out_pad_w = 0;
    TRY(clconv_desc_check(&c)); /* element counts and the rest of its bounds */
    /* its output must be this one's input; out_pad < stride makes it so,
     * and a mismatch would be a wrong deconvolution, never a slow one */
    int64_t p, q;
    TRY(clconv_output_size(&c, &p, &q));
    if (p != f.h || q != f.w)
        return CLCONV_BAD_PADDING;
    *conv = c;
    return CLCONV_OK;
}

clconv_status clconv_transposed_as_conv(const clconv_desc *d, clconv_desc *conv)
{
    return conv_of(d, conv);
}

clconv_status clconv_transposed_output_size(const clconv_desc *d, int64_t *ho, int64_t *wo)
{
    clconv_desc c;
    TRY(conv_of(d, &c));
    if (ho)
        *ho = c.h;
    if (wo)
        *wo = c.w;
    return CLCONV_OK;
}

/* ---- the device calls ---- */

/* The call's convolution, or its refusal recorded in the context (locked
 * here, as host_api.c's fail_locked: the public calls below lock it
 * themselves). */
static clconv_status conv_for_call(clconv_ctx *ctx, const clconv_desc *d, const char *fn,
                                   clconv_desc *conv)
{
    clconv_status st = conv_of(d, conv);
    if (st == CLCONV_OK)
        return st;
    pthread_mutex_lock(&ctx->lock);
    if (!d)
        ctx_fail(ctx, st, CL_SUCCESS, "%s: descriptor is NULL", fn);
    else
        ctx_fail(ctx, st, CL_SUCCESS, "%s: invalid transposed-convolution descriptor: %s", fn,
                 clconv_status_string(st));
    pthread_mutex_unlock(&ctx->lock);
    return st;
}

/* A tensor of a transposed call, under the call's own name, sized by its
 * role in the convolution: this x (or dx) is its y, this y (or dy) its x. */
enum { AS_CONV_Y, AS_CONV_W, AS_CONV_X, AS_BIAS };
typedef struct tensor_in {
    cl_mem m;
    size_t off;
    int role;
    const char *what;
    unsigned access;
} tensor_in;

static size_t role_elems(const layer *L, int role)
{
    return role == AS_CONV_Y ? L->y_elems
           : role == AS_CONV_W ? L->w_elems
           : role == AS_CONV_X ? L->x_elems
                               : (size_t)L->c; /* the bias: this K, the convolution's C */
}

/* What the convolution call will refuse, checked under this call's names
 * and in its order (algorithm, then buffers), before anything runs. */
static clconv_status precheck_locked(clconv_ctx *ctx, clconv_algo algo, clconv_pass pass,
                                     const layer *L, const tensor_in *t, int n)
{
    const algo_impl *impl = algo_impl_of(algo);
    if ((unsigned)algo >= CLCONV_ALGO_COUNT_)
        return ctx_fail(ctx, CLCONV_BAD_ALGORITHM, CL_SUCCESS, "unknown algorithm %d", (int)algo);
    if (impl && !impl->run[pass])
        return ctx_fail(ctx, CLCONV_BAD_ALGORITHM, CL_SUCCESS,
                        "%s does not implement the convolution pass this transposed pass runs",
                        impl->name);
    tensor_arg a[4];
    for (int i = 0; i < n && i < 4; i++)
        a[i] = (tensor_arg){t[i].m, t[i].off, role_elems(L, t[i].role), t[i].what, t[i].access,
                            L->esize};
    return check_tensors(ctx, a, n);
}

/* Everything before the convolution runs (the caller has logged the
 * call): its convolution (*conv) and that convolution's layer (*L), then
 * the algorithm and tensors checked. */
static clconv_status begin(clconv_ctx *ctx, const clconv_desc *d, const char *fn,
                           clconv_algo algo, clconv_pass pass, const tensor_in *t, int n,
                           clconv_desc *conv, layer *L)
{
    TRY(conv_for_call(ctx, d, fn, conv));
    TRY(layer_from_desc(conv, L));
    pthread_mutex_lock(&ctx->lock);
    ctx_clear_error(ctx);
    clconv_status st = precheck_locked(ctx, algo, pass, L, t, n);
    pthread_mutex_unlock(&ctx->lock);
    return st;
}

clconv_status bias_add_run(clconv_ctx *ctx, const layer *L, cl_mem y, size_t y_off, cl_mem bias,
                           size_t bias_off, cl_event *event)
{
    cl_kernel k;
    TRY(elementwise_kernel(ctx, L, "bias_add", &k));
    cl_long yo = (cl_long)y_off, bo = (cl_long)bias_off;
    kgeom g = kgeom_of(L);
    const karg args[] = {KARG(y), KARG(yo), KARG(bias), KARG(bo), KARG(g)};
    return ctx_launch(ctx, k, 5, args, L->x_elems, 0, event);
}

/* Build the bias kernel now, so that a build failure refuses the call
 * before the convolution is enqueued. */
static clconv_status bias_ready(clconv_ctx *ctx, const layer *L)
{
    cl_kernel k;
    pthread_mutex_lock(&ctx->lock);
    clconv_status st = elementwise_kernel(ctx, L, "bias_add", &k);
    pthread_mutex_unlock(&ctx->lock);
    return st;
}

static clconv_status bias_add_locked(clconv_ctx *ctx, const layer *L, cl_mem y, size_t y_off,
                                     cl_mem bias, size_t bias_off, cl_event *event)
{
    pthread_mutex_lock(&ctx->lock);
    clconv_status st = bias_add_run(ctx, L, y, y_off, bias, bias_off, event);
    pthread_mutex_unlock(&ctx->lock);
    return st;
}

clconv_status clconv_transposed_forward(clconv_ctx *ctx, const clconv_desc *d, clconv_algo algo,
                                        cl_mem x, size_t x_off, cl_mem w, size_t w_off,
                                        cl_mem bias, size_t bias_off, cl_mem y, size_t y_off,
                                        cl_event *event)
{
    if (event)
        *event = NULL; /* what a failed call leaves; success sets it */
    if (!ctx)
        return CLCONV_NULL_ARGUMENT;
    /* the bias kernel reads y back, so y is read too when there is one */
    const tensor_in t[4] = {{x, x_off, AS_CONV_Y, "x", TENSOR_READ},
                            {w, w_off, AS_CONV_W, "w", TENSOR_READ},
                            {y, y_off, AS_CONV_X, "y", TENSOR_WRITE | (bias ? TENSOR_READ : 0)},
                            {bias, bias_off, AS_BIAS, "bias", TENSOR_READ}};
    clconv_desc conv;
    layer L;
    log_transposed(ctx, d, algo, CLCONV_PASS_FORWARD, 0, bias != NULL); /* CLCONV_LOG */
    TRY(begin(ctx, d, "clconv_transposed_forward", algo, CLCONV_PASS_BACKWARD_DATA, t,
              bias ? 4 : 3, &conv, &L));
    if (!bias)
        return clconv_backward_data(ctx, &conv, algo, x, x_off, w, w_off, y, y_off, 0, event);
    TRY(bias_ready(ctx, &L));
    TRY(clconv_backward_data(ctx, &conv, algo, x, x_off, w, w_off, y, y_off, 0, NULL));
    return bias_add_locked(ctx, &L, y, y_off, bias, bias_off, event);
}

clconv_status clconv_transposed_backward_data(clconv_ctx *ctx, const clconv_desc *d,
                                              clconv_algo algo, cl_mem dy, size_t dy_off,
                                              cl_mem w, size_t w_off, cl_mem dx, size_t dx_off,
                                              int accumulate, cl_event *event)
{
    if (event)
        *event = NULL;
    if (!ctx)
        return CLCONV_NULL_ARGUMENT;
    const tensor_in t[3] = {{dy, dy_off, AS_CONV_X, "dy", TENSOR_READ},
                            {w, w_off, AS_CONV_W, "w", TENSOR_READ},
                            {dx, dx_off, AS_CONV_Y, "dx",
                             TENSOR_WRITE | (accumulate ? TENSOR_READ : 0)}};
    clconv_desc conv;
    layer L;
    log_transposed(ctx, d, algo, CLCONV_PASS_BACKWARD_DATA, accumulate, 0);
    TRY(begin(ctx, d, "clconv_transposed_backward_data", algo, CLCONV_PASS_FORWARD, t, 3, &conv,
              &L));
    if (!accumulate)
        return clconv_forward(ctx, &conv, algo, dy, dy_off, w, w_off, dx, dx_off, event);
    clconv_epilogue e; /* dx = conv + 1 * dx_old */
    clconv_epilogue_init(&e);
    e.beta = 1.0f;
    return clconv_forward_fused(ctx, &conv, algo, dy, dy_off, w, w_off, dx, dx_off, &e, event);
}

clconv_status clconv_transposed_backward_filter(clconv_ctx *ctx, const clconv_desc *d,
                                                clconv_algo algo, cl_mem x, size_t x_off,
                                                cl_mem dy, size_t dy_off, cl_mem dw,
                                                size_t dw_off, int accumulate, cl_event *event)
{
    if (event)
        *event = NULL;
    if (!ctx)
        return CLCONV_NULL_ARGUMENT;
    const tensor_in t[3] = {{x, x_off, AS_CONV_Y, "x", TENSOR_READ},
                            {dy, dy_off, AS_CONV_X, "dy", TENSOR_READ},
                            {dw, dw_off, AS_CONV_W, "dw",
                             TENSOR_WRITE | (accumulate ? TENSOR_READ : 0)}};
    clconv_desc conv;
    layer L;
    log_transposed(ctx, d, algo, CLCONV_PASS_BACKWARD_FILTER, accumulate, 0);
    TRY(begin(ctx, d, "clconv_transposed_backward_filter", algo, CLCONV_PASS_BACKWARD_FILTER, t,
              3, &conv, &L));
    /* the convolution's x is this dy, its output gradient this x */
    return clconv_backward_filter(ctx, &conv, algo, dy, dy_off, x, x_off, dw, dw_off, accumulate,
                                  event);
}

clconv_status clconv_transposed_backward_bias(clconv_ctx *ctx, const clconv_desc *d, cl_mem dy,
                                              size_t dy_off, cl_mem db, size_t db_off,
                                              int accumulate, cl_event *event)
{
    if (event)
        *event = NULL;
    if (!ctx)
        return CLCONV_NULL_ARGUMENT;
    log_transposed(ctx, d, CLCONV_ALGO_AUTO, CLCONV_PASS_COUNT_, accumulate, 0);
    clconv_desc conv;
    TRY(conv_for_call(ctx, d, "clconv_transposed_backward_bias", &conv));
    /* a 1x1 layer whose output is N x K x HO x WO: its backward-bias sums
     * exactly this dy (conv.c is K, conv.h and conv.w are HO and WO) */
    clconv_desc b;
    clconv_desc_init(&b, conv.n, 1, conv.h, conv.w, conv.c, 1, 1);
    b.dtype = conv.dtype;
    b.layout = conv.layout;
    return clconv_backward_bias(ctx, &b, dy, dy_off, db, db_off, accumulate, event);
}
