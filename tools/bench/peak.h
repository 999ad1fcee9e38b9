/* peak.h - the device's fp32 FMA throughput, measured once by a small
 * built-in OpenCL kernel: float8 and float16 vectors, eight independent
 * accumulator chains per work-item, enough work-items to fill the device.
 * After a warm-up, the best of many short runs of both widths, taken in
 * turn over the whole measurement, in GFLOP/s (an FMA counts 2). */
#ifndef BENCH_PEAK_H
#define BENCH_PEAK_H

#include "clconv.h"

typedef struct bench_peak {
    double gflops;      /* 0 if it could not be measured */
    int width;          /* vector width that gave it */
    int runs;           /* short runs it is the best of */
    char error[160];    /* why not, if gflops == 0 */
} bench_peak;

void bench_measure_peak(cl_context ctx, cl_device_id dev, cl_command_queue q, bench_peak *out);

#endif
