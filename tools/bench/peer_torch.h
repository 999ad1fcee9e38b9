/* peer_torch.h - PyTorch's convolution as a peer (oneDNN on a CPU, cuDNN
 * on an NVIDIA GPU), run as a separate process: tools/torch_peer.py under
 * the first Python that can import torch, given the run's problems as
 * benchdnn descriptors, the passes, the bench's warm-up and repetitions
 * and, on a CPU, the thread count of the OpenCL device.  Its medians join
 * clconv's rows.  Nothing here links PyTorch, and a machine without it
 * only loses the peer (the reason is said). */
#ifndef BENCH_PEER_TORCH_H
#define BENCH_PEER_TORCH_H

#include <stddef.h>

#include "options.h"
#include "timing.h"

typedef struct bench_torch_req {
    const char *python;         /* NULL: python3, then /usr/bin/python3 */
    const char *script;         /* NULL: tools/torch_peer.py, searched */
    const char *device;         /* "cpu" or "cuda" */
    int threads;                /* CPU threads; 0: the script's default */
    int reps, warmup;
    unsigned passes;            /* bits 1 << BENCH_FWD, BWD_D, BWD_W */
    const char *const *descs;   /* the problems, benchdnn syntax */
    size_t ndescs;
} bench_torch_req;

typedef struct bench_torch {
    int ran;                    /* some problem was timed */
    char about[400];            /* what ran ("PyTorch 1.13.0 CPU (oneDNN), 2 threads,
                                 * /usr/bin/python3"), or why nothing did */
    bench_timing (*t)[BENCH_NPASS]; /* [problem][pass]; reps 0: no time */
    size_t n;
} bench_torch;

/* Runs the peer; out->about says what happened either way. */
void bench_torch_run(const bench_torch_req *req, bench_torch *out);
void bench_torch_free(bench_torch *t);

/* The script's path: script itself if given, else tools/torch_peer.py
 * above the binary's folder (build/clconv-bench -> tools/), else in the
 * working directory; NULL if none is readable.  malloc'ed. */
char *bench_torch_script(const char *script);

#endif
