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

/* What the device can hold: its largest single allocation and its global
 * memory, the bounds the library applies to its own scratch. */
typedef struct bench_limits {
    cl_ulong max_alloc, global;
} bench_limits;

/* The device's limits (0 where a query failed: nothing is refused then). */
void bench_limits_query(cl_device_id dev, bench_limits *lim);

/* Whether the buffers the passes in dirs need, plus extra bytes of the
 * library's scratch, fit lim: CLCONV_OK, CLCONV_DEVICE_LIMIT, or the
 * descriptor's own status (CLCONV_TOO_LARGE) with a message in err.  Checked
 * before anything is allocated, so a layer too large for the device is
 * refused the way the library refuses its scratch, not attempted. */
clconv_status bench_bufs_fit(const clconv_desc *d, unsigned dirs, size_t off,
                             const bench_limits *lim, size_t extra, char *err, size_t cap);

/* Tensors pass reads (a, b; b may be BT_N for none) and writes. */
void bench_pass_tensors(int pass, int *a, int *b, int *out);

/* Create the buffers the passes in dirs need (after bench_bufs_fit), fill
 * the inputs with fresh random values (seeded by seed) and write them once.
 * CLCONV_OK, bench_bufs_fit's status, or CLCONV_OUT_OF_DEVICE_MEMORY when
 * creating or filling a buffer failed; a message in err. */
clconv_status bench_bufs_create(clconv_ctx *ctx, const clconv_desc *d, unsigned dirs, size_t off,
                                const bench_limits *lim, uint64_t seed, bench_bufs *b, char *err,
                                size_t cap);
void bench_bufs_free(bench_bufs *b);

/* Enqueue one pass (accumulate 0; bwd_b ignores algo); ev as in clconv's
 * calls (may be NULL). */
clconv_status bench_pass_run(clconv_ctx *ctx, const clconv_desc *d, int pass, clconv_algo algo,
                             const bench_bufs *b, cl_event *ev);

/* Floats in a tensor's whole buffer. */
size_t bench_buf_floats(const bench_bufs *b, int t);

#endif
