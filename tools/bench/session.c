/* session.c - the device and what the library builds on it (see session.h). */
#include "session.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The library's own lines (host/program.c, host/program_cache.c): the
 * log is the only place it says whether a program was compiled or loaded. */
#define BUILT_PREFIX "built kernels/"
#define LOADED_PREFIX "binary cache: loaded "
#define NOT_SAVED_PREFIX "binary cache: not saving "

static void on_log(void *user, int level, const char *msg)
{
    bench_session *s = user;
    if (strncmp(msg, BUILT_PREFIX, strlen(BUILT_PREFIX)) == 0)
        s->built++;
    else if (strncmp(msg, LOADED_PREFIX, strlen(LOADED_PREFIX)) == 0)
        s->loaded++;
    else if (strncmp(msg, NOT_SAVED_PREFIX, strlen(NOT_SAVED_PREFIX)) == 0)
        s->driver_cached++;
    /* what CLCONV_LOG asked for still reaches stderr, as without a callback */
    if (level <= s->forward_level)
        fprintf(stderr, "clconv: %s\n", msg);
}

/* CLCONV_LOG's level as the library reads it (host/log.c): unset or 0
 * nothing on stderr, 1 (or text) the calls, 2 or more debug too. */
static int env_log_level(void)
{
    const char *v = getenv("CLCONV_LOG");
    if (!v || !*v || !strcmp(v, "0"))
        return CLCONV_LOG_OFF;
    char *end;
    long n = strtol(v, &end, 10);
    return *end || n < 2 ? CLCONV_LOG_CALL : CLCONV_LOG_DEBUG;
}

static void device_kind(bench_session *s)
{
    cl_device_id dev = clconv_cl_device(s->ctx);
    cl_device_type type = 0;
    cl_uint cus = 0;
    char vendor[128] = "";
    clGetDeviceInfo(dev, CL_DEVICE_TYPE, sizeof type, &type, NULL);
    clGetDeviceInfo(dev, CL_DEVICE_MAX_COMPUTE_UNITS, sizeof cus, &cus, NULL);
    clGetDeviceInfo(dev, CL_DEVICE_VENDOR, sizeof vendor - 1, vendor, NULL);
    s->is_cpu = (type & CL_DEVICE_TYPE_CPU) != 0;
    s->is_nvidia_gpu = (type & CL_DEVICE_TYPE_GPU) && strstr(vendor, "NVIDIA") != NULL;
    s->compute_units = (int)cus;
}

int bench_session_open(bench_session *s, const char *device)
{
    memset(s, 0, sizeof *s);
    clconv_status st = clconv_create_with(device, &s->ctx);
    if (st != CLCONV_OK) {
        fprintf(stderr, "clconv-bench: error: cannot open the OpenCL device%s%s%s: %s (%s)%s\n",
                device ? " \"" : "", device ? device : "", device ? "\"" : "",
                clconv_status_name(st), clconv_status_string(st),
                st == CLCONV_DEVICE_NOT_FOUND ? " (see --help; clinfo -l lists the devices)" : "");
        return st == CLCONV_DEVICE_NOT_FOUND ? BENCH_EXIT_USAGE : BENCH_EXIT_FAILED;
    }
    s->q = clconv_cl_queue(s->ctx);
    s->clock = bench_clock_probe(s->q);
    bench_limits_query(clconv_cl_device(s->ctx), &s->lim);
    device_kind(s);
    s->forward_level = env_log_level();
    clconv_set_log(s->ctx, on_log, s);
    clconv_set_log_level(s->ctx, CLCONV_LOG_DEBUG);
    return 0;
}

const bench_peak *bench_session_peak(bench_session *s, const bench_opts *o)
{
    if (s->peak_done)
        return &s->peak;
    s->peak_done = 1;
    memset(&s->peak, 0, sizeof s->peak);
    if (o->peak_gflops > 0)
        s->peak.gflops = o->peak_gflops;
    else
        bench_measure_peak(clconv_cl_context(s->ctx), clconv_cl_device(s->ctx), s->q, &s->peak);
    return &s->peak;
}

void bench_session_close(bench_session *s)
{
    clconv_free(s->ctx);
    s->ctx = NULL;
}
