/* session.h - the device a run works on (the demo's two runs share one):
 * the context, its queue and clock, the device's limits and kind, the FMA
 * peak (measured once, by the first run that times), and what the library
 * reported building, through its log at CLCONV_LOG_DEBUG: programs
 * compiled from source and programs loaded from its disk cache, which tell
 * a cold first run from a warm one. */
#ifndef BENCH_SESSION_H
#define BENCH_SESSION_H

#include "options.h"
#include "passes.h"
#include "peak.h"
#include "timing.h"

typedef struct bench_session {
    clconv_ctx *ctx;
    cl_command_queue q;
    bench_clock clock;
    bench_limits lim;
    int is_cpu, is_nvidia_gpu, compute_units;
    int peak_done;
    bench_peak peak;
    int built, loaded;          /* programs compiled from source, loaded from disk */
    int driver_cached;          /* built ones left to the driver's own cache (PoCL) */
    int forward_level;          /* log lines up to this go on to stderr (CLCONV_LOG) */
} bench_session;

/* 0, or the exit status: a selector (--device or CLCONV_DEVICE) that
 * matches no device is a usage error, no OpenCL device at all a failure. */
int bench_session_open(bench_session *s, const char *device);
/* The peak, measured on the first call (or --peak-gflops). */
const bench_peak *bench_session_peak(bench_session *s, const bench_opts *o);
void bench_session_close(bench_session *s);

#endif
