/* verify.c - one checked run of a pass (see verify.h). */
#include "verify.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "options.h"

static const char *const tensor_names[BT_N] = {"x", "w", "dy", "y", "dx", "dw", "db", "bias"};

cl_int bench_read(cl_command_queue q, cl_mem m, size_t first, size_t n, float *dst)
{
    return clEnqueueReadBuffer(q, m, CL_TRUE, first * sizeof *dst, n * sizeof *dst, dst, 0, NULL,
                               NULL);
}

bench_status bench_status_row(clconv_status st)
{
    switch (st) {
    case CLCONV_BAD_ALGORITHM: return BENCH_ROW_UNIMPLEMENTED;
    case CLCONV_NOT_SUPPORTED: return BENCH_ROW_NOT_SUPPORTED;
    case CLCONV_DEVICE_LIMIT:
    case CLCONV_TOO_LARGE:
    case CLCONV_OUT_OF_DEVICE_MEMORY: return BENCH_ROW_SKIPPED;
    default: return BENCH_ROW_FAILED;
    }
}

/* The call a pass of p makes, for messages. */
static const char *call_name(const bench_problem *p, int pass)
{
    static const char *const conv[BENCH_NPASS] = {"clconv_forward", "clconv_backward_data",
                                                  "clconv_backward_filter",
                                                  "clconv_backward_bias"};
    static const char *const deconv[BENCH_NPASS] = {
        "clconv_transposed_forward", "clconv_transposed_backward_data",
        "clconv_transposed_backward_filter", "clconv_transposed_backward_bias"};
    if (p && p->deconv)
        return deconv[pass];
    if (p && pass == BENCH_FWD && (p->bias || bench_post_ops_any(&p->ops)))
        return "clconv_forward_fused";
    return conv[pass];
}

void bench_status_note(clconv_ctx *ctx, const bench_problem *p, int pass, clconv_status st,
                       char *buf, size_t cap)
{
    const char *msg = clconv_last_error(ctx);
    snprintf(buf, cap, "%s: %s: %s", call_name(p, pass), clconv_status_name(st),
             msg && *msg ? msg : clconv_status_string(st));
}

static void note(bench_row *row, bench_status st, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    row->status = st;
    vsnprintf(row->note, sizeof row->note, fmt, ap);
    va_end(ap);
}

/* Offset from the tensor's start of the first changed sentinel; 0 if none
 * (a changed one is never at offset 0, which is inside the tensor). */
static long guard_broken(const bench_bufs *b, const unsigned char *img, size_t n)
{
    unsigned char s[4];
    bench_pattern(b->dt, BENCH_SENTINEL, s);
    const size_t off = b->off, es = b->es;
    for (size_t i = 0; i < off; i++)
        if (memcmp(img + i * es, s, es) != 0)
            return (long)i - (long)off;
    for (size_t i = off + n; i < off + n + BENCH_GUARD; i++)
        if (memcmp(img + i * es, s, es) != 0)
            return (long)(i - off);
    return 0;
}

static void inputs_unchanged(cl_command_queue q, const bench_bufs *b, const bench_problem *p,
                             int pass, bench_row *row)
{
    int in[3], out;
    bench_pass_tensors(p, pass, in, &out);
    for (int i = 0; i < 3; i++) {
        if (in[i] >= BT_N)
            continue;
        size_t bytes = bench_buf_bytes(b, in[i]);
        unsigned char *img = malloc(bytes);
        int changed = img && clEnqueueReadBuffer(q, b->t[in[i]].mem, CL_TRUE, 0, bytes, img, 0,
                                                 NULL, NULL) == CL_SUCCESS &&
                      memcmp(img, b->t[in[i]].img, bytes) != 0;
        free(img);
        if (changed) {
            note(row, BENCH_ROW_FAILED, "the pass modified its input %s", tensor_names[in[i]]);
            return;
        }
    }
}

static void judge_unchecked(const float *y, size_t n, const char *ref_note, bench_row *row)
{
    size_t nonfinite = 0;
    for (size_t i = 0; i < n; i++)
        nonfinite += !isfinite(y[i]);
    if (nonfinite)
        note(row, BENCH_ROW_FAILED, "%zu output elements NaN/Inf (%s)", nonfinite, ref_note);
    else
        note(row, BENCH_ROW_SKIPPED, "%s", ref_note);
}

static void judge_values(const float *y, size_t n, double tol, const double *ref, bench_row *row)
{
    bench_compare(y, ref, n, tol, &row->cmp);
    row->checked = 1;
    size_t at = row->cmp.first_bad;
    if (row->cmp.passed)
        row->status = BENCH_ROW_PASSED;
    else if (row->cmp.nonfinite)
        note(row, BENCH_ROW_FAILED, "%zu NaN/Inf in the output, the first at element %zu",
             row->cmp.nonfinite, at);
    else
        note(row, BENCH_ROW_FAILED, "largest error at element %zu: %.9g, want %.9g", at,
             (double)y[at], ref[at]);
}

/* The output's image: its guards intact, then its values (channels-first,
 * as fp32) judged against ref. */
static void judge(const unsigned char *img, const bench_bufs *b, int out, const double *ref,
                  const char *ref_note, bench_row *row)
{
    const bench_tensor *t = &b->t[out];
    long bad = guard_broken(b, img, t->elems);
    if (bad) {
        note(row, BENCH_ROW_FAILED, "wrote outside its output %s (element %ld)",
             tensor_names[out], bad);
        return;
    }
    float *y = malloc((t->elems ? t->elems : 1) * sizeof *y);
    if (!y) {
        note(row, BENCH_ROW_FAILED, "out of host memory reading the output back");
        return;
    }
    bench_unpack(img + b->off * b->es, &t->lay, b->dt, y);
    if (ref)
        judge_values(y, t->elems, bench_tol(b->dt), ref, row);
    else
        judge_unchecked(y, t->elems, ref_note, row);
    free(y);
}

/* Poison the output (or, where the post-ops sum into it, give it its old
 * values again), run, wait.  CLCONV_OK or the pass's status. */
static clconv_status run_poisoned(clconv_ctx *ctx, const bench_bufs *b, const bench_problem *p,
                                  int pass, int out, clconv_algo algo, cl_int *e)
{
    cl_command_queue q = clconv_cl_queue(ctx);
    const bench_tensor *t = &b->t[out];
    unsigned char nan[4];
    bench_pattern(b->dt, NAN, nan);
    if (t->img)
        *e = clEnqueueWriteBuffer(q, t->mem, CL_TRUE, 0, bench_buf_bytes(b, out), t->img, 0,
                                  NULL, NULL);
    else
        *e = clEnqueueFillBuffer(q, t->mem, nan, b->es, b->off * b->es, t->elems * b->es, 0,
                                 NULL, NULL);
    if (*e != CL_SUCCESS)
        return CLCONV_OPENCL_ERROR;
    clconv_status st = bench_pass_run(ctx, p, pass, algo, b, NULL);
    return st == CLCONV_OK ? clconv_finish(ctx) : st;
}

void bench_verify(clconv_ctx *ctx, const bench_bufs *b, int pass, clconv_algo algo,
                  const double *ref, const char *ref_note, bench_row *row)
{
    cl_command_queue q = clconv_cl_queue(ctx);
    const bench_problem *p = row->p;
    int in[3], out;
    bench_pass_tensors(p, pass, in, &out);
    cl_int e = CL_SUCCESS;
    double t0 = bench_now();
    clconv_status st = run_poisoned(ctx, b, p, pass, out, algo, &e);
    /* the first call of the pass: what building or loading its kernels costs */
    if (st == CLCONV_OK && row->first_ms < 0)
        row->first_ms = 1e3 * (bench_now() - t0);
    if (e != CL_SUCCESS) {
        note(row, BENCH_ROW_FAILED, "poisoning the output: OpenCL error %d", e);
        return;
    }
    row->lib_status = st;
    if (st != CLCONV_OK) {
        row->status = bench_status_row(st);
        bench_status_note(ctx, p, pass, st, row->note, sizeof row->note);
        return;
    }
    size_t bytes = bench_buf_bytes(b, out);
    unsigned char *img = malloc(bytes);
    if (!img)
        note(row, BENCH_ROW_FAILED, "out of host memory reading the output back");
    else if ((e = clEnqueueReadBuffer(q, b->t[out].mem, CL_TRUE, 0, bytes, img, 0, NULL,
                                      NULL)) != CL_SUCCESS)
        note(row, BENCH_ROW_FAILED, "reading the output back: OpenCL error %d", e);
    else
        judge(img, b, out, ref, ref_note, row);
    free(img);
    if (row->status != BENCH_ROW_FAILED)
        inputs_unchanged(q, b, p, pass, row);
}
