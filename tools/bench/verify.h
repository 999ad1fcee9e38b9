/* verify.h - run a pass once on NaN-poisoned outputs (y holding its old
 * values where the post-ops sum into it) and judge the result against the
 * reference in the storage type's tolerance: the comparison (NaN/Inf never
 * passes), the guard regions around the output untouched, the inputs
 * unchanged. */
#ifndef BENCH_VERIFY_H
#define BENCH_VERIFY_H

#include "passes.h"
#include "report.h"

/* Fills row->status, cmp, note.  ref NULL: no comparison (the row is
 * SKIPPED with ref_note) but NaNs left in the output and stray writes
 * still fail it. */
void bench_verify(clconv_ctx *ctx, const bench_bufs *b, int pass, clconv_algo algo,
                  const double *ref, const char *ref_note, bench_row *row);

/* Blocking read of n floats from element first of m. */
cl_int bench_read(cl_command_queue q, cl_mem m, size_t first, size_t n, float *dst);

/* The row status of a pass or check that returned st (not CLCONV_OK):
 * UNIMPLEMENTED for BAD_ALGORITHM; NOT_SUPPORTED for NOT_SUPPORTED (the
 * algorithm does not claim a data type, layout, epilogue or asymmetric
 * padding yet); SKIPPED where the device cannot hold the layer
 * (DEVICE_LIMIT, TOO_LARGE, OUT_OF_DEVICE_MEMORY), which is no fault of the
 * library; FAILED otherwise. */
bench_status bench_status_row(clconv_status st);

/* "clconv_forward: CLCONV_BAD_ALGORITHM: <the context's message>", naming
 * the call p's pass makes (p may be NULL: the convolution calls). */
void bench_status_note(clconv_ctx *ctx, const bench_problem *p, int pass, clconv_status st,
                       char *buf, size_t cap);

#endif
