/* peak.c - fp32 FMA peak of the device (see peak.h). */
#include "peak.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "timing.h"

/* x = fma(x, a, b) on eight independent chains, unrolled four times. */
static const char peak_src[] =
    "#define STEP(x) x = fma(x, a, b)\n"
    "#define ROUND STEP(x0); STEP(x1); STEP(x2); STEP(x3); STEP(x4); STEP(x5); STEP(x6); STEP(x7)\n"
    "#define PEAK_KERNEL(NAME, T)                                                 \\\n"
    "__kernel void NAME(__global float *out, float a, float b, int iters)        \\\n"
    "{                                                                           \\\n"
    "    T x0 = (T)((float)get_global_id(0) * 1e-9f), x1 = x0 + 0.1f, x2 = x0 + 0.2f, \\\n"
    "      x3 = x0 + 0.3f, x4 = x0 + 0.4f, x5 = x0 + 0.5f, x6 = x0 + 0.6f, x7 = x0 + 0.7f; \\\n"
    "    for (int i = 0; i < iters; i++) { ROUND; ROUND; ROUND; ROUND; }           \\\n"
    "    T s = ((x0 + x1) + (x2 + x3)) + ((x4 + x5) + (x6 + x7));                  \\\n"
    "    out[get_global_id(0)] = s.s0 + s.s1 + s.s7;                               \\\n"
    "}\n"
    "PEAK_KERNEL(peak_fma8, float8)\n"
    "PEAK_KERNEL(peak_fma16, float16)\n";

enum { PEAK_ACC = 8, PEAK_UNROLL = 4, PEAK_ROUNDS = 8, PEAK_REPS = 4 };
#define PEAK_RUN_MS 5.0

typedef struct peak_run {
    cl_command_queue q;
    cl_kernel k;
    size_t global;
    cl_int err;
} peak_run;

static int launch(void *arg, cl_event *ev)
{
    peak_run *r = arg;
    r->err = clEnqueueNDRangeKernel(r->q, r->k, 1, NULL, &r->global, NULL, 0, NULL, ev);
    return r->err != CL_SUCCESS;
}

static size_t work_items(cl_device_id dev)
{
    cl_uint cus = 1;
    cl_device_type type = CL_DEVICE_TYPE_GPU;
    clGetDeviceInfo(dev, CL_DEVICE_MAX_COMPUTE_UNITS, sizeof cus, &cus, NULL);
    clGetDeviceInfo(dev, CL_DEVICE_TYPE, sizeof type, &type, NULL);
    size_t per_cu = (type & CL_DEVICE_TYPE_CPU) ? 64 : 2048;
    return (size_t)(cus ? cus : 1) * per_cu;
}

/* Loop count that makes one run of r's kernel take >= PEAK_RUN_MS, found
 * by growing it from a few iterations (these runs are the warm-up: PoCL
 * starts its threads, the GPU its clocks); 0 on an error. */
static int size_kernel(peak_run *r, bench_clock clock)
{
    int iters = 16;
    for (int tries = 0; tries < 12; tries++) {
        clSetKernelArg(r->k, 3, sizeof iters, &iters);
        bench_timing t;
        cl_int cl_err;
        if (bench_time(r->q, clock, 1, 1, launch, r, &t, &cl_err))
            return 0;
        if (t.median_ms >= PEAK_RUN_MS || iters > (1 << 24))
            return iters;
        double scale = t.median_ms > 0.5 ? 1.25 * PEAK_RUN_MS / t.median_ms : 8.0;
        iters = (int)(iters * (scale > 8.0 ? 8.0 : scale < 1.5 ? 1.5 : scale));
    }
    return iters;
}

/* GFLOP/s of the best of PEAK_REPS runs of r's kernel at iters; 0 on an error. */
static double best_of_runs(peak_run *r, int width, int iters, bench_clock clock)
{
    bench_timing t;
    cl_int cl_err;
    clSetKernelArg(r->k, 3, sizeof iters, &iters);
    if (bench_time(r->q, clock, 0, PEAK_REPS, launch, r, &t, &cl_err) || !(t.min_ms > 0))
        return 0;
    double flop = 2.0 * width * PEAK_ACC * PEAK_UNROLL * (double)iters * (double)r->global;
    return flop / (t.min_ms * 1e-3) * 1e-9;
}

static void first_log_line(cl_program p, cl_device_id dev, char *line, size_t cap)
{
    size_t n = 0;
    line[0] = '\0';
    if (clGetProgramBuildInfo(p, dev, CL_PROGRAM_BUILD_LOG, 0, NULL, &n) != CL_SUCCESS || n == 0)
        return;
    char *log = malloc(n + 1);
    if (log && clGetProgramBuildInfo(p, dev, CL_PROGRAM_BUILD_LOG, n, log, NULL) == CL_SUCCESS) {
        log[n] = '\0';
        size_t len = strcspn(log, "\n");
        snprintf(line, cap, "%.*s", (int)len, log);
    }
    free(log);
}

static cl_program build(cl_context ctx, cl_device_id dev, bench_peak *out)
{
    const char *src = peak_src;
    cl_int err;
    cl_program p = clCreateProgramWithSource(ctx, 1, &src, NULL, &err);
    if (err != CL_SUCCESS) {
        snprintf(out->error, sizeof out->error, "clCreateProgramWithSource: %d", err);
        return NULL;
    }
    err = clBuildProgram(p, 1, &dev, "", NULL, NULL);
    if (err != CL_SUCCESS) {
        char log[120];
        first_log_line(p, dev, log, sizeof log);
        snprintf(out->error, sizeof out->error, "peak kernel build failed (%d): %s", err, log);
        clReleaseProgram(p);
        return NULL;
    }
    return p;
}

typedef struct peak_kernel {
    cl_kernel k;
    int width, iters;
} peak_kernel;

/* Both widths sized (their warm-up), then PEAK_ROUNDS rounds of
 * PEAK_REPS short runs of each, in turn: the best run of all is the peak.
 * On a shared machine another process often holds a core for a while
 * (here, 2 cores: half the peak, for seconds); many short runs spread over
 * the whole measurement, rather than a few long ones together, give the
 * quiet moments a chance to show. */
static void measure(peak_run *r, peak_kernel *pk, int nk, bench_clock clock, bench_peak *out)
{
    for (int round = 0; round < PEAK_ROUNDS; round++)
        for (int v = 0; v < nk; v++) {
            if (!pk[v].iters)
                continue;
            r->k = pk[v].k;
            double g = best_of_runs(r, pk[v].width, pk[v].iters, clock);
            out->runs += PEAK_REPS;
            if (g > out->gflops) {
                out->gflops = g;
                out->width = pk[v].width;
            }
        }
}

void bench_measure_peak(cl_context ctx, cl_device_id dev, cl_command_queue q, bench_peak *out)
{
    memset(out, 0, sizeof *out);
    cl_program p = build(ctx, dev, out);
    if (!p)
        return;
    peak_run r = {q, NULL, work_items(dev), CL_SUCCESS};
    cl_int err;
    cl_mem buf = clCreateBuffer(ctx, CL_MEM_WRITE_ONLY, r.global * sizeof(float), NULL, &err);
    bench_clock clock = bench_clock_probe(q);
    float a = 0.999f, b = 0.001f;
    static const char *const names[] = {"peak_fma8", "peak_fma16"};
    peak_kernel pk[2] = {{NULL, 8, 0}, {NULL, 16, 0}};
    for (int v = 0; v < 2 && buf; v++) {
        r.k = pk[v].k = clCreateKernel(p, names[v], &err);
        if (!r.k)
            continue;
        clSetKernelArg(r.k, 0, sizeof buf, &buf);
        clSetKernelArg(r.k, 1, sizeof a, &a);
        clSetKernelArg(r.k, 2, sizeof b, &b);
        pk[v].iters = size_kernel(&r, clock);
    }
    if (buf)
        measure(&r, pk, 2, clock, out);
    for (int v = 0; v < 2; v++)
        if (pk[v].k)
            clReleaseKernel(pk[v].k);
    if (out->gflops == 0 && !out->error[0])
        snprintf(out->error, sizeof out->error, "peak kernel did not run (OpenCL error %d)", r.err);
    if (buf)
        clReleaseMemObject(buf);
    clReleaseProgram(p);
}
