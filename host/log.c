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

clconv_status clconv_desc_string(const clconv_desc *d, char *buf, size_t cap)
{
    if (!d || !buf)
        return CLCONV_NULL_ARGUMENT;
    int n = snprintf(buf, cap,
                     "mb%lldg%lldic%lldih%lldiw%lldoc%lldkh%lldkw%lldsh%lldsw%lldph%lldpw%lld"
                     "dh%llddw%lld",
                     (long long)d->n, (long long)d->groups, (long long)d->c, (long long)d->h,
                     (long long)d->w, (long long)d->k, (long long)d->r, (long long)d->s,
                     (long long)d->stride_h, (long long)d->stride_w, (long long)d->pad_h,
                     (long long)d->pad_w, dil0(d->dilation_h), dil0(d->dilation_w));
    return n >= 0 && (size_t)n < cap ? CLCONV_OK : CLCONV_BUFFER_TOO_SMALL;
}

/* The bench tool has no accumulate option: it is noted as a shell comment,
 * so the line still runs when pasted. */
static void log_call(clconv_ctx *ctx, const char *prefix, const clconv_desc *d, int accumulate)
{
    if (!enabled(ctx, CLCONV_LOG_CALL))
        return;
    char desc[CLCONV_DESC_STRING_MAX];
    if (!d)
        snprintf(desc, sizeof desc, "# NULL descriptor");
    else
        clconv_desc_string(d, desc, sizeof desc);
    log_msg(ctx, CLCONV_LOG_CALL, "%s %s%s", prefix, desc, accumulate ? " # accumulate=1" : "");
}

void log_pass(clconv_ctx *ctx, const clconv_desc *d, clconv_algo algo, int pass, int accumulate)
{
    static const char *const dirs[CLCONV_PASS_COUNT_] = {"fwd", "bwd_d", "bwd_w"};
    char prefix[96];
    if (pass == CLCONV_PASS_COUNT_) /* backward-bias has no algorithm choice */
        snprintf(prefix, sizeof prefix, "clconv-bench --dir=bwd_b");
    else
        snprintf(prefix, sizeof prefix, "clconv-bench --dir=%s --algo=%s",
                 (unsigned)pass < CLCONV_PASS_COUNT_ ? dirs[pass] : "?", clconv_algo_name(algo));
    log_call(ctx, prefix, d, accumulate);
}

void log_primitive(clconv_ctx *ctx, const char *function, const clconv_desc *d)
{
    log_call(ctx, function, d, 0);
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
