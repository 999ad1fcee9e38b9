/* run.h - run every problem of the options: open the device, measure the
 * FMA peak, then per problem create and fill the buffers once and, per
 * pass and algorithm, check and/or time it (and the peer), reporting each
 * row as it completes. */
#ifndef BENCH_RUN_H
#define BENCH_RUN_H

#include "options.h"

/* BENCH_EXIT_OK, or BENCH_EXIT_FAILED if a check failed, a pass returned
 * an error, or the device could not be opened. */
int bench_run(const bench_opts *o);

#endif
