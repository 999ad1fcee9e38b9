/* timing.c - event-timed (or wall-clock) repetitions of a pass. */
#include "timing.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { BAD_TIMESTAMPS = -2 };

double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static cl_int event_end(cl_event e, cl_ulong *t)
{
    return clGetEventProfilingInfo(e, CL_PROFILING_COMMAND_END, sizeof *t, t, NULL);
}

/* A 4-byte fill: a real device command to start the clock with. */
static cl_int start_command(cl_command_queue q, cl_mem *scratch, cl_event *ev)
{
    cl_context ctx;
    cl_int err = clGetCommandQueueInfo(q, CL_QUEUE_CONTEXT, sizeof ctx, &ctx, NULL);
    if (err == CL_SUCCESS)
        *scratch = clCreateBuffer(ctx, CL_MEM_READ_WRITE, 4, NULL, &err);
    if (err == CL_SUCCESS) {
        cl_uint zero = 0;
        err = clEnqueueFillBuffer(q, *scratch, &zero, sizeof zero, 0, sizeof zero, 0, NULL, ev);
    }
    return err;
}

bench_clock bench_clock_probe(cl_command_queue q)
{
    cl_mem scratch = NULL;
    cl_event e = NULL;
    cl_ulong t = 0;
    cl_int err = start_command(q, &scratch, &e);
    if (err == CL_SUCCESS)
        err = clWaitForEvents(1, &e);
    if (err == CL_SUCCESS)
        err = event_end(e, &t);
    if (e)
        clReleaseEvent(e);
    if (scratch)
        clReleaseMemObject(scratch);
    return err == CL_SUCCESS && t != 0 ? BENCH_CLOCK_EVENTS : BENCH_CLOCK_WALL;
}

const char *bench_clock_name(bench_clock c)
{
    return c == BENCH_CLOCK_EVENTS ? "OpenCL events" : "wall clock";
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void summarize(double *ms, int n, bench_timing *out)
{
    qsort(ms, (size_t)n, sizeof *ms, cmp_double);
    out->reps = n;
    out->min_ms = ms[0];
    out->median_ms = n % 2 ? ms[n / 2] : 0.5 * (ms[n / 2 - 1] + ms[n / 2]);
}

static int time_wall(cl_command_queue q, int reps, bench_launch_fn fn, void *arg, double *ms,
                     cl_int *cl_err)
{
    for (int i = 0; i < reps; i++) {
        cl_event ev = NULL;
        double t0 = bench_now();
        int rc = fn(arg, &ev);
        if (ev)
            clReleaseEvent(ev);
        if (rc)
            return rc;
        if ((*cl_err = clFinish(q)) != CL_SUCCESS)
            return -1;
        ms[i] = 1e3 * (bench_now() - t0);
    }
    return 0;
}

/* Enqueue the start command and the repetitions, each ending in ev[i]. */
static int enqueue_reps(cl_command_queue q, int reps, bench_launch_fn fn, void *arg,
                        cl_event *ev, cl_mem *scratch, cl_int *cl_err)
{
    *cl_err = start_command(q, scratch, &ev[0]);
    for (int i = 1; i <= reps && *cl_err == CL_SUCCESS; i++) {
        int rc = fn(arg, &ev[i]);
        if (rc)
            return rc;
        if (!ev[i])
            *cl_err = clEnqueueMarkerWithWaitList(q, 0, NULL, &ev[i]);
    }
    return *cl_err == CL_SUCCESS ? 0 : -1;
}

static int read_times(cl_event *ev, int reps, double *ms, cl_int *cl_err)
{
    cl_ulong prev = 0, t = 0;
    for (int i = 0; i <= reps; i++) {
        if ((*cl_err = event_end(ev[i], &t)) != CL_SUCCESS)
            return -1;
        if (i > 0 && t <= prev)
            return BAD_TIMESTAMPS;
        if (i > 0)
            ms[i - 1] = 1e-6 * (double)(t - prev);
        prev = t;
    }
    return 0;
}

static int time_events(cl_command_queue q, int reps, bench_launch_fn fn, void *arg, double *ms,
                       cl_int *cl_err)
{
    cl_event *ev = calloc((size_t)reps + 1, sizeof *ev);
    cl_mem scratch = NULL;
    if (!ev) {
        *cl_err = CL_OUT_OF_HOST_MEMORY;
        return -1;
    }
    int rc = enqueue_reps(q, reps, fn, arg, ev, &scratch, cl_err);
    cl_int fin = clFinish(q);
    if (!rc && fin != CL_SUCCESS) {
        *cl_err = fin;
        rc = -1;
    }
    if (!rc)
        rc = read_times(ev, reps, ms, cl_err);
    for (int i = 0; i <= reps; i++)
        if (ev[i])
            clReleaseEvent(ev[i]);
    free(ev);
    if (scratch)
        clReleaseMemObject(scratch);
    return rc;
}

static int warm_up(cl_command_queue q, int warmup, bench_launch_fn fn, void *arg, cl_int *cl_err)
{
    for (int i = 0; i < warmup; i++) {
        cl_event ev = NULL;
        int rc = fn(arg, &ev);
        if (ev)
            clReleaseEvent(ev);
        if (rc)
            return rc;
    }
    *cl_err = clFinish(q);
    return *cl_err == CL_SUCCESS ? 0 : -1;
}

int bench_time(cl_command_queue q, bench_clock clock, int warmup, int reps, bench_launch_fn fn,
               void *arg, bench_timing *out, cl_int *cl_err)
{
    *cl_err = CL_SUCCESS;
    memset(out, 0, sizeof *out);
    int rc = warm_up(q, warmup, fn, arg, cl_err);
    if (rc || reps < 1)
        return rc;
    double *ms = malloc((size_t)reps * sizeof *ms);
    if (!ms) {
        *cl_err = CL_OUT_OF_HOST_MEMORY;
        return -1;
    }
    int wall = clock == BENCH_CLOCK_WALL;
    if (!wall) {
        rc = time_events(q, reps, fn, arg, ms, cl_err);
        wall = rc == BAD_TIMESTAMPS; /* events made no sense: measure again */
    }
    if (wall)
        rc = time_wall(q, reps, fn, arg, ms, cl_err);
    if (!rc)
        summarize(ms, reps, out);
    free(ms);
    return rc;
}
