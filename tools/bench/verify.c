/* verify.c - one checked run of a pass (see verify.h). */
#include "verify.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "options.h"

static const char *const tensor_names[BT_N] = {"x", "w", "dy", "y", "dx", "dw", "db"};

cl_int bench_read(cl_command_queue q, cl_mem m, size_t first, size_t n, float *dst)
{
    return clEnqueueReadBuffer(q, m, CL_TRUE, first * sizeof *dst, n * sizeof *dst, dst, 0, NULL,
                               NULL);
}

bench_status bench_status_row(clconv_status st)
{
    switch (st) {
    case CLCONV_BAD_ALGORITHM: return BENCH_ROW_UNIMPLEMENTED;
    case CLCONV_DEVICE_LIMIT:
    case CLCONV_TOO_LARGE:
    case CLCONV_OUT_OF_DEVICE_MEMORY: return BENCH_ROW_SKIPPED;
    default: return BENCH_ROW_FAILED;
    }
}

void bench_status_note(clconv_ctx *ctx, int pass, clconv_status st, char *buf, size_t cap)
{
    static const char *const fn[BENCH_NPASS] = {"clconv_forward", "clconv_backward_data",
                                                "clconv_backward_filter", "clconv_backward_bias"};
    const char *msg = clconv_last_error(ctx);
    snprintf(buf, cap, "%s: %s: %s", fn[pass], clconv_status_name(st),
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
static long guard_broken(const float *img, size_t off, size_t n)
{
    static const float s = BENCH_SENTINEL;
    for (size_t i = 0; i < off; i++)
        if (memcmp(&img[i], &s, sizeof s) != 0)
            return (long)i - (long)off;
    for (size_t i = off + n; i < off + n + BENCH_GUARD; i++)
        if (memcmp(&img[i], &s, sizeof s) != 0)
            return (long)(i - off);
    return 0;
}

static void inputs_unchanged(cl_command_queue q, const bench_bufs *b, int pass, bench_row *row)
{
    int t[2], out;
    bench_pass_tensors(pass, &t[0], &t[1], &out);
    for (int i = 0; i < 2; i++) {
        if (t[i] >= BT_N)
            continue;
        size_t total = bench_buf_floats(b, t[i]);
        float *img = malloc(total * sizeof *img);
        int changed = img && bench_read(q, b->t[t[i]].mem, 0, total, img) == CL_SUCCESS &&
                      memcmp(img, b->t[t[i]].img, total * sizeof *img) != 0;
        free(img);
        if (changed) {
            note(row, BENCH_ROW_FAILED, "the pass modified its input %s", tensor_names[t[i]]);
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

static void judge(const float *img, const bench_bufs *b, int out, const double *ref,
                  const char *ref_note, bench_row *row)
{
    size_t n = b->t[out].elems;
    const float *y = img + b->off;
    long bad = guard_broken(img, b->off, n);
    if (bad) {
        note(row, BENCH_ROW_FAILED, "wrote outside its output %s (element %ld)",
             tensor_names[out], bad);
        return;
    }
    if (!ref) {
        judge_unchecked(y, n, ref_note, row);
        return;
    }
    bench_compare(y, ref, n, &row->cmp);
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

/* Poison the output, run, wait.  CLCONV_OK or the pass's status. */
static clconv_status run_poisoned(clconv_ctx *ctx, const bench_bufs *b, int pass, int out,
                                  clconv_algo algo, const clconv_desc *d, cl_int *e)
{
    float nan = NAN;
    *e = clEnqueueFillBuffer(clconv_cl_queue(ctx), b->t[out].mem, &nan, sizeof nan,
                             b->off * sizeof nan, b->t[out].elems * sizeof nan, 0, NULL, NULL);
    if (*e != CL_SUCCESS)
        return CLCONV_OPENCL_ERROR;
    clconv_status st = bench_pass_run(ctx, d, pass, algo, b, NULL);
    return st == CLCONV_OK ? clconv_finish(ctx) : st;
}

void bench_verify(clconv_ctx *ctx, const bench_bufs *b, int pass, clconv_algo algo,
                  const double *ref, const char *ref_note, bench_row *row)
{
    cl_command_queue q = clconv_cl_queue(ctx);
    int ta, tb, out;
    bench_pass_tensors(pass, &ta, &tb, &out);
    cl_int e = CL_SUCCESS;
    double t0 = bench_now();
    clconv_status st = run_poisoned(ctx, b, pass, out, algo, &row->p->d, &e);
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
        bench_status_note(ctx, pass, st, row->note, sizeof row->note);
        return;
    }
    size_t total = bench_buf_floats(b, out);
    float *img = malloc(total * sizeof *img);
    if (!img)
        note(row, BENCH_ROW_FAILED, "out of host memory reading the output back");
    else if ((e = bench_read(q, b->t[out].mem, 0, total, img)) != CL_SUCCESS)
        note(row, BENCH_ROW_FAILED, "reading the output back: OpenCL error %d", e);
    else
        judge(img, b, out, ref, ref_note, row);
    free(img);
    if (row->status != BENCH_ROW_FAILED)
        inputs_unchanged(q, b, pass, row);
}
