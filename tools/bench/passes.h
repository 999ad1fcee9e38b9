/* passes.h - one problem's device buffers and running a pass on them.
 *
 * Each buffer holds [offset elements][tensor][BENCH_GUARD elements] in the
 * problem's storage type and layout; the parts around the tensor hold a
 * sentinel so that a stray write shows.  Inputs keep their host image (as
 * written, in storage) and their values in the reference's channels-first
 * order, rounded to the storage type, so that the float64 reference sees
 * exactly what the device reads. */
#ifndef BENCH_PASSES_H
#define BENCH_PASSES_H

#include <stddef.h>
#include <stdint.h>

#include "clconv.h"
#include "options.h"
#include "storage.h"

#define BENCH_GUARD 256
#define BENCH_SENTINEL (-7777.25f)

/* BT_BIAS: the forward's bias (FWD_B); BT_Y is also an input when the
 * post-ops sum into y's old values. */
enum { BT_X = 0, BT_W, BT_DY, BT_Y, BT_DX, BT_DW, BT_DB, BT_BIAS, BT_N };

typedef struct bench_tensor {
    cl_mem mem;         /* NULL if the problem's passes do not use it */
    size_t elems;       /* tensor elements */
    bench_layout lay;   /* its dims (channels-first) and storage layout */
    unsigned char *img; /* inputs: host image of the whole buffer, in storage */
    float *val;         /* inputs: the tensor's values, channels-first, as stored */
} bench_tensor;

typedef struct bench_bufs {
    bench_tensor t[BT_N];
    size_t off;         /* elements before each tensor */
    clconv_dtype dt;
    size_t es;          /* bytes per element */
} bench_bufs;

/* What the device can hold: its largest single allocation and its global
 * memory, the bounds the library applies to its own scratch. */
typedef struct bench_limits {
    cl_ulong max_alloc, global;
} bench_limits;

/* The device's limits (0 where a query failed: nothing is refused then). */
void bench_limits_query(cl_device_id dev, bench_limits *lim);

/* Whether the buffers p's passes need, plus extra bytes of the library's
 * scratch, fit lim: CLCONV_OK, CLCONV_DEVICE_LIMIT, or the descriptor's
 * own status (CLCONV_TOO_LARGE) with a message in err.  Checked before
 * anything is allocated, so a layer too large for the device is refused
 * the way the library refuses its scratch, not attempted. */
clconv_status bench_bufs_fit(const bench_problem *p, size_t off, const bench_limits *lim,
                             size_t extra, char *err, size_t cap);

/* What pass reads (in[0..2], BT_N where unused: the bias only for FWD_B,
 * y only when the post-ops sum into it) and writes. */
void bench_pass_tensors(const bench_problem *p, int pass, int in[3], int *out);

/* Create the buffers p's passes need (after bench_bufs_fit), fill the
 * inputs with fresh random values (seeded by seed) and write them once.
 * CLCONV_OK, bench_bufs_fit's status, or CLCONV_OUT_OF_DEVICE_MEMORY when
 * creating or filling a buffer failed; a message in err. */
clconv_status bench_bufs_create(clconv_ctx *ctx, const bench_problem *p, size_t off,
                                const bench_limits *lim, uint64_t seed, bench_bufs *b, char *err,
                                size_t cap);
void bench_bufs_free(bench_bufs *b);

/* Enqueue one pass (accumulate 0; bwd_b ignores algo): the convolution
 * calls, clconv_forward_fused for FWD_B and post-ops, the transposed
 * calls for a deconvolution; ev as in clconv's calls (may be NULL). */
clconv_status bench_pass_run(clconv_ctx *ctx, const bench_problem *p, int pass, clconv_algo algo,
                             const bench_bufs *b, cl_event *ev);

/* Elements and bytes of a tensor's whole buffer. */
size_t bench_buf_elems(const bench_bufs *b, int t);
size_t bench_buf_bytes(const bench_bufs *b, int t);

/* The sentinel and NaN as one element of type t (es bytes into out[4]). */
void bench_pattern(clconv_dtype t, float v, unsigned char out[4]);

#endif
