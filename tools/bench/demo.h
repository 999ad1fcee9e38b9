/* demo.h - clconv-bench --demo, what `make demo` shows: on one device,
 *   1. correctness: the edge-case set through every pass and algorithm
 *      against the float64 reference, one summary line (each failure in
 *      full, with its repro);
 *   2. speed: the six anchor layers through fwd, bwd_d and bwd_w with AUTO
 *      at a batch that suits the device (mb2 on a CPU, mb32 on a GPU),
 *      timed with every peer in the same run (CLBlast, PyTorch);
 *   3. a summary: per pass the geometric-mean GFLOP/s, the ratio to each
 *      peer, the fraction of the measured FMA peak and the first calls'
 *      cost; whether the kernel caches were warm; PASSED or FAILED.
 * --mode picks the parts (C the first, P the second), --dir, --algo, --mb
 * and --peer apply to the second, --svg=FILE charts it. */
#ifndef BENCH_DEMO_H
#define BENCH_DEMO_H

#include <stddef.h>

#include "options.h"

/* The problems of the two parts and the files they come from. */
typedef struct bench_demo_set {
    const char *const *check;
    size_t ncheck;
    const char *check_file;
    const char *const *timed;
    size_t ntimed;
    const char *timed_file;
} bench_demo_set;

/* The built-in set (tools/shapes/edge.txt, tools/shapes/anchors.txt). */
int bench_demo(const bench_opts *o);
/* The demo on other problems (the tests use small ones).  The exit
 * status: BENCH_EXIT_FAILED if a check or pass failed, else as bench_run. */
int bench_demo_run(const bench_opts *o, const bench_demo_set *set);

#endif
