/* Diagnostics: the application's log callback, CLCONV_LOG, and each call
 * written as the clconv-bench command line that reproduces it (MIOpen's
 * logging does the same with MIOpenDriver).
 *
 * The library never prints, with one documented exception: when the user
 * sets CLCONV_LOG and installs no callback, log lines go to stderr. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"

/* CLCONV_LOG: unset or 0 -> failures only (to a callback; never stderr);
 * 1 (or any non-number) -> also each call; 2 or more -> also debug. */
static int env_level(int *set)
{
    const char *v = getenv("CLCONV_LOG");
    *set = 0;
    if (!v || !*v || !strcmp(v, "0"))
        return CLCONV_LOG_ERROR;
    *set = 1;
    char *end;
    long n = strtol(v, &end, 10);
    if (*end || n < 0)
        return CLCONV_LOG_CALL;
    return n >= 2 ? CLCONV_LOG_DEBUG : CLCONV_LOG_CALL;
}

void log_init(clconv_ctx *ctx)
{
    ctx->log_level = env_level(&ctx->log_stderr);
}

static void emit(clconv_ctx *ctx, int level, const char *msg)
{
    if (ctx->log_fn)
        ctx->log_fn(ctx->log_user, level, msg);
    else if (ctx->log_stderr)
        fprintf(stderr, "clconv: %s\n", msg);
}

static int enabled(const clconv_ctx *ctx, int level)
{
    return ctx && level <= ctx->log_level && (ctx->log_fn || ctx->log_stderr);
}

void log_msg(clconv_ctx *ctx, int level, const char *fmt, ...)
{
    if (!enabled(ctx, level))
        return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    emit(ctx, level, msg);
}

void log_failure(clconv_ctx *ctx, clconv_status st, cl_int cl_err)
{
    if (!enabled(ctx, CLCONV_LOG_ERROR))
        return;
    const char *blog = st == CLCONV_BUILD_FAILED && ctx->build_log ? ctx->build_log : "";
    size_t cap = sizeof ctx->error + strlen(blog) + 128;
    char *msg = malloc(cap);
    if (!msg)
        return;
    snprintf(msg, cap, "%s (OpenCL %d): %s%s%s", clconv_status_name(st), (int)cl_err, ctx->error,
             *blog ? "\nbuild log:\n" : "", blog);
    emit(ctx, CLCONV_LOG_ERROR, msg);
    free(msg);
}

/* Process-wide failures with no context to report to (clconv_create). */
void log_no_context(clconv_status st, const char *what)
{
    int set;
    env_level(&set);
    if (set && st != CLCONV_OK)
        fprintf(stderr, "clconv: %s: %s (%s)\n", what, clconv_status_name(st),
                clconv_status_string(st));
}

/* benchdnn's dilation is 0-based (dense = 0); INT64_MIN, invalid anyway,
 * is printed as is rather than overflow. */
static long long dil0(int64_t v) { return v == INT64_MIN ? (long long)v : (long long)(v - 1); }

/* The 0.3 fields the descriptor's struct_size covers (desc.c's rule),
 * else their defaults: a 0.2 caller's struct is never read past its end. */
static int has_0_3(const clconv_desc *d) { return d->struct_size >= CLCONV_DESC_SIZE_0_3; }

static int64_t end_pad(const clconv_desc *d, int w)
{
    if (has_0_3(d) && d->pad_asymmetric == 1)
        return w ? d->pad_w_end : d->pad_h_end;
    return w ? d->pad_w : d->pad_h;
}

/* Whether the ends differ from the begins: then the output is printed,
 * which is how benchdnn's syntax says so (its pad_end follows from it). */
static int unequal_pads(const clconv_desc *d)
{
    return end_pad(d, 0) != d->pad_h || end_pad(d, 1) != d->pad_w;
}

/* One output length, a convolution's or (transposed) a transposed
 * convolution's, in 128 bits; 0 when it cannot be computed or printed
 * (a stride below 1, a result outside int64: invalid descriptors). */
static int out_len(int transposed, const clconv_desc *d, int w, long long *out)
{
    const __int128 i = w ? d->w : d->h, k = w ? d->s : d->r, st = w ? d->stride_w : d->stride_h;
    const __int128 p = w ? d->pad_w : d->pad_h, pe = end_pad(d, w);
    const __int128 dil = w ? d->dilation_w : d->dilation_h;
    const __int128 op = has_0_3(d) ? (w ? d->out_pad_w : d->out_pad_h) : 0;
    if (st < 1)
        return 0;
    const __int128 ext = (k - 1) * dil + 1;
    const __int128 v = transposed ? (i - 1) * st - p - pe + ext + op : (i + p + pe - ext) / st + 1;
    if (v < INT64_MIN || v > INT64_MAX)
        return 0;
    *out = (long long)v;
    return 1;
}

/* "oh3ow3" when the descriptor needs it (always for a transposed one,
 * whose benchdnn deconv line states its output). */
static void output_part(int transposed, const clconv_desc *d, char *buf, size_t cap)
{
    long long oh, ow;
    buf[0] = '\0';
    if ((transposed || unequal_pads(d)) && out_len(transposed, d, 0, &oh) &&
        out_len(transposed, d, 1, &ow))
        snprintf(buf, cap, "oh%lldow%lld", oh, ow);
}

static clconv_status desc_string(int transposed, const clconv_desc *d, char *buf, size_t cap)
{
    if (!d || !buf)
        return CLCONV_NULL_ARGUMENT;
    char out[48];
    output_part(transposed, d, out, sizeof out);
    int n = snprintf(buf, cap,
                     "mb%lldg%lldic%lldih%lldiw%lldoc%lld%skh%lldkw%lldsh%lldsw%lldph%lldpw%lld"
                     "dh%llddw%lld",
                     (long long)d->n, (long long)d->groups, (long long)d->c, (long long)d->h,
                     (long long)d->w, (long long)d->k, out, (long long)d->r, (long long)d->s,
                     (long long)d->stride_h, (long long)d->stride_w, (long long)d->pad_h,
                     (long long)d->pad_w, dil0(d->dilation_h), dil0(d->dilation_w));
    return n >= 0 && (size_t)n < cap ? CLCONV_OK : CLCONV_BUFFER_TOO_SMALL;
}

clconv_status clconv_desc_string(const clconv_desc *d, char *buf, size_t cap)
{
    return desc_string(0, d, buf, cap);
}

void log_desc_options(const clconv_desc *d, char *buf, size_t cap)
{
    static const char *const dt[] = {"f32", "f16", "bf16"};
    const int ok = d && has_0_3(d);
    const int64_t t = ok ? d->dtype : 0, l = ok ? d->layout : 0, f = ok ? d->filter_layout : 0;
    snprintf(buf, cap, "%s%s%s%s",
             t > 0 && t < CLCONV_DTYPE_COUNT_ ? " --dt=" : "",
             t > 0 && t < CLCONV_DTYPE_COUNT_ ? dt[t] : "",
             l == CLCONV_NHWC ? " --stag=nhwc" : "", f == CLCONV_KRSC ? " --wtag=ohwi" : "");
}

/* "clconv-bench [--deconv] --dir=D [--algo=A] [--dt= --stag= --wtag=]
 * [post-ops] DESC [# comment]": the bench tool has no accumulate or alpha
 * option, so those are noted as a shell comment and the line still runs
 * when pasted. */
static void log_call_line(clconv_ctx *ctx, int transposed, const char *dir, const char *algo,
                          const char *post_ops, const clconv_desc *d, const char *comment)
{
    if (!enabled(ctx, CLCONV_LOG_CALL))
        return;
    char desc[CLCONV_DESC_STRING_MAX], opts[64];
    if (!d)
        snprintf(desc, sizeof desc, "# NULL descriptor");
    else
        desc_string(transposed, d, desc, sizeof desc);
    log_desc_options(d, opts, sizeof opts);
    log_msg(ctx, CLCONV_LOG_CALL, "clconv-bench%s --dir=%s%s%s%s%s %s%s",
            transposed ? " --deconv" : "", dir, algo ? " --algo=" : "", algo ? algo : "", opts,
            post_ops, desc, comment);
}

static const char *dir_name(int pass, int bias)
{
    static const char *const dirs[CLCONV_PASS_COUNT_] = {"fwd", "bwd_d", "bwd_w"};
    if (pass == CLCONV_PASS_COUNT_)
        return "bwd_b";
    if (pass == CLCONV_PASS_FORWARD && bias)
        return "fwd_b";
    return (unsigned)pass < CLCONV_PASS_COUNT_ ? dirs[pass] : "?";
}

void log_pass(clconv_ctx *ctx, const clconv_desc *d, clconv_algo algo, int pass, int accumulate)
{
    /* backward-bias has no algorithm choice */
    const char *a = pass == CLCONV_PASS_COUNT_ ? NULL : clconv_algo_name(algo);
    log_call_line(ctx, 0, dir_name(pass, 0), a, "", d, accumulate ? " # accumulate=1" : "");
}

/* v as the shortest of %g and %.9g that reads back as v. */
static void num(char *buf, size_t cap, float v)
{
    snprintf(buf, cap, "%g", (double)v);
    if (strtof(buf, NULL) != v)
        snprintf(buf, cap, "%.9g", (double)v);
}

/* The epilogue as benchdnn's --attr-post-ops (tools/bench/post_ops.h's
 * syntax): " --attr-post-ops=sum:0.5+relu", "" when it has none. */
static void post_ops_option(const clconv_epilogue *ep, char *buf, size_t cap)
{
    char sum[40] = "", act[48] = "", v[24];
    if (ep->beta != 0.0f && ep->beta != 1.0f) {
        num(v, sizeof v, ep->beta);
        snprintf(sum, sizeof sum, "sum:%s", v);
    } else if (ep->beta == 1.0f) {
        snprintf(sum, sizeof sum, "sum");
    }
    num(v, sizeof v, ep->param);
    switch (ep->activation) {
    case CLCONV_ACT_RELU: snprintf(act, sizeof act, "relu"); break;
    case CLCONV_ACT_LEAKY_RELU: snprintf(act, sizeof act, "relu:%s", v); break;
    case CLCONV_ACT_CLIPPED_RELU: snprintf(act, sizeof act, "clip:0:%s", v); break;
    case CLCONV_ACT_SIGMOID: snprintf(act, sizeof act, "logistic"); break;
    case CLCONV_ACT_TANH: snprintf(act, sizeof act, "tanh"); break;
    default: break;
    }
    snprintf(buf, cap, "%s%s%s%s", *sum || *act ? " --attr-post-ops=" : "", sum,
             *sum && *act ? "+" : "", act);
}

void log_fused(clconv_ctx *ctx, const clconv_desc *d, clconv_algo algo, const clconv_epilogue *ep)
{
    if (!enabled(ctx, CLCONV_LOG_CALL))
        return;
    if (!ep) {
        log_pass(ctx, d, algo, CLCONV_PASS_FORWARD, 0);
        return;
    }
    char ops[128], alpha[48] = "", v[24];
    post_ops_option(ep, ops, sizeof ops);
    if (ep->alpha != 1.0f) {
        num(v, sizeof v, ep->alpha);
        snprintf(alpha, sizeof alpha, " # alpha=%s", v);
    }
    log_call_line(ctx, 0, dir_name(CLCONV_PASS_FORWARD, ep->bias != NULL),
                  clconv_algo_name(algo), ops, d, alpha);
}

void log_transposed(clconv_ctx *ctx, const clconv_desc *d, clconv_algo algo, int pass,
                    int accumulate, int bias)
{
    const char *a = pass == CLCONV_PASS_COUNT_ ? NULL : clconv_algo_name(algo);
    log_call_line(ctx, 1, dir_name(pass, bias), a, "", d, accumulate ? " # accumulate=1" : "");
}

void log_primitive(clconv_ctx *ctx, const char *function, const clconv_desc *d)
{
    if (!enabled(ctx, CLCONV_LOG_CALL))
        return;
    char desc[CLCONV_DESC_STRING_MAX];
    if (!d)
        snprintf(desc, sizeof desc, "# NULL descriptor");
    else
        clconv_desc_string(d, desc, sizeof desc);
    log_msg(ctx, CLCONV_LOG_CALL, "%s %s", function, desc);
}

clconv_status clconv_set_log(clconv_ctx *ctx, clconv_log_fn fn, void *user)
{
    if (!ctx)
        return CLCONV_NULL_ARGUMENT;
    pthread_mutex_lock(&ctx->lock);
    ctx->log_fn = fn;
    ctx->log_user = user;
    pthread_mutex_unlock(&ctx->lock);
    return CLCONV_OK;
}

clconv_status clconv_set_log_level(clconv_ctx *ctx, int level)
{
    if (!ctx)
        return CLCONV_NULL_ARGUMENT;
    pthread_mutex_lock(&ctx->lock);
    ctx->log_level = level;
    pthread_mutex_unlock(&ctx->lock);
    return CLCONV_OK;
}
