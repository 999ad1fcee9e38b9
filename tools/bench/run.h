/* run.h - run every problem of the options: open the device, measure the
 * FMA peak, run the PyTorch peer, then per problem create and fill the
 * buffers once and, per pass and algorithm, check and/or time it (and the
 * peers), reporting each row as it completes.  A problem that is only initialized (--mode=I,
 * --run-per-file, --run-max-gflop) or that the device cannot hold gets its
 * rows without any buffer being allocated. */
#ifndef BENCH_RUN_H
#define BENCH_RUN_H

#include "options.h"
#include "report.h"
#include "session.h"

/* BENCH_EXIT_OK; BENCH_EXIT_FAILED if a check failed, a pass returned an
 * error, a batch file held an invalid descriptor, or there is no OpenCL
 * device; BENCH_EXIT_USAGE if the device selector matches none.  With no
 * problems (an empty batch) no device is opened: the summary says tests:0. */
int bench_run(const bench_opts *o);

/* o's problems on ses (NULL when there are none), reported into rep: its
 * environment lines, the peers (the PyTorch peer runs first, as its own
 * process), the rows, the geometric means and summary line; the caller
 * frees rep (bench_report_free) after reading it. */
void bench_run_on(bench_session *ses, const bench_opts *o, bench_report *rep);

#endif
