/* passes.h - one problem's device buffers and running a pass on them.
 *
 * Each buffer holds [offset floats][tensor][BENCH_GUARD floats]; the parts
 * around the tensor hold a sentinel so that a stray write shows. */
#ifndef BENCH_PASSES_H
#define BENCH_PASSES_H

#include <stddef.h>
#include <stdint.h>

#include "clconv.h"

#define BENCH_GUARD 256
#define BENCH_SENTINEL (-7777.25f)

enum { BT_X = 0, BT_W, BT_DY, BT_Y, BT_DX, BT_DW, BT_DB, BT_N };

typedef struct bench_tensor {
    cl_mem mem;         /* NULL if the problem's passes do not use it */
    size_t elems;       /* tensor elements */
    float *img;         /* inputs: host image of the whole buffer */
} bench_tensor;

typedef struct bench_bufs {
    bench_tensor t[BT_N];
    size_t off;
} bench_bufs;

/* Tensors pass reads (a, b; b may be BT_N for none) and writes. */
void bench_pass_tensors(int pass, int *a, int *b, int *out);

/* Create the buffers the passes in dirs need, fill the inputs with fresh
 * random values (seeded by seed) and write them once.  0, or -1 with a
 * message in err. */
int bench_bufs_create(clconv_ctx *ctx, const clconv_desc *d, unsigned dirs, size_t off,
                      uint64_t seed, bench_bufs *b, char *err, size_t cap);
void bench_bufs_free(bench_bufs *b);

/* Enqueue one pass (accumulate 0; bwd_b ignores algo); ev as in clconv's
 * calls (may be NULL). */
clconv_status bench_pass_run(clconv_ctx *ctx, const clconv_desc *d, int pass, clconv_algo algo,
                             const bench_bufs *b, cl_event *ev);

/* Floats in a tensor's whole buffer. */
size_t bench_buf_floats(const bench_bufs *b, int t);

#endif
