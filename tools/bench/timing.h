/* timing.h - time one pass (any number of commands on an in-order queue).
 *
 * Event timing: a tiny fill command first, then the repetitions back to
 * back, each asked for the event of its last command (a marker is added
 * when a launcher gives none).  The device finishes repetition i when that
 * event completes, so the differences of consecutive events'
 * CL_PROFILING_COMMAND_END are the repetitions' device times, host enqueue
 * gaps showing only when the device runs dry.  Where the queue gives no
 * profiling data (or nonsense), wall clock around each repetition and a
 * clFinish instead. */
#ifndef BENCH_TIMING_H
#define BENCH_TIMING_H

#include "clconv.h"

typedef enum bench_clock { BENCH_CLOCK_EVENTS = 0, BENCH_CLOCK_WALL } bench_clock;

/* Enqueues one repetition and stores the event of its last command in *ev
 * (or leaves it NULL).  Returns 0, or non-zero on an error it has recorded
 * in its own state. */
typedef int (*bench_launch_fn)(void *arg, cl_event *ev);

/* Which clock works on q (enqueues and waits for one command). */
bench_clock bench_clock_probe(cl_command_queue q);
const char *bench_clock_name(bench_clock c);

typedef struct bench_timing {
    double min_ms, median_ms;
    int reps;
} bench_timing;

/* warmup untimed runs (then clFinish), then reps timed ones.  Returns 0,
 * the launcher's error, or -1 on an OpenCL error (code in *cl_err). */
int bench_time(cl_command_queue q, bench_clock clock, int warmup, int reps, bench_launch_fn fn,
               void *arg, bench_timing *out, cl_int *cl_err);

/* Seconds from a monotonic clock. */
double bench_now(void);

#endif
