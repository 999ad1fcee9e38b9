/* passes.c - buffers of one problem and the dispatch to clconv's passes. */
#include "passes.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "options.h"

void bench_pass_tensors(int pass, int *a, int *b, int *out)
{
    static const int ta[BENCH_NPASS] = {BT_X, BT_DY, BT_X, BT_DY};
    static const int tb[BENCH_NPASS] = {BT_W, BT_W, BT_DY, BT_N};
    static const int to[BENCH_NPASS] = {BT_Y, BT_DX, BT_DW, BT_DB};
    *a = ta[pass];
    *b = tb[pass];
    *out = to[pass];
}

size_t bench_buf_floats(const bench_bufs *b, int t)
{
    return b->off + b->t[t].elems + BENCH_GUARD;
}

static unsigned needed(unsigned dirs)
{
    unsigned m = 0;
    for (int p = 0; p < BENCH_NPASS; p++) {
        if (!(dirs & (1u << p)))
            continue;
        int a, b, o;
        bench_pass_tensors(p, &a, &b, &o);
        m |= 1u << a | 1u << o | (b < BT_N ? 1u << b : 0);
    }
    return m;
}

static int make_input(cl_command_queue q, bench_bufs *b, int t, uint64_t seed, cl_int *err)
{
    size_t total = bench_buf_floats(b, t);
    float *img = malloc(total * sizeof *img);
    if (!img) {
        *err = CL_OUT_OF_HOST_MEMORY;
        return -1;
    }
    for (size_t i = 0; i < total; i++)
        img[i] = BENCH_SENTINEL;
    bench_fill(seed * 16 + (uint64_t)t, img + b->off, b->t[t].elems);
    b->t[t].img = img;
    *err = clEnqueueWriteBuffer(q, b->t[t].mem, CL_TRUE, 0, total * sizeof *img, img, 0, NULL,
                                NULL);
    return *err == CL_SUCCESS ? 0 : -1;
}

static int make_output(cl_command_queue q, bench_bufs *b, int t, cl_int *err)
{
    float s = BENCH_SENTINEL;
    *err = clEnqueueFillBuffer(q, b->t[t].mem, &s, sizeof s, 0, bench_buf_floats(b, t) * sizeof s,
                               0, NULL, NULL);
    return *err == CL_SUCCESS ? 0 : -1;
}

static const char *const names[BT_N] = {"x", "w", "dy", "y", "dx", "dw", "db"};

static clconv_status sizes(const clconv_desc *d, bench_bufs *b, char *err, size_t cap)
{
    size_t nx, nw, ny;
    clconv_status st = clconv_tensor_elems(d, &nx, &nw, &ny);
    if (st != CLCONV_OK) {
        snprintf(err, cap, "%s: %s", clconv_status_name(st), clconv_status_string(st));
        return st;
    }
    size_t n[BT_N] = {nx, nw, ny, ny, nx, nw, (size_t)d->k};
    for (int t = 0; t < BT_N; t++) {
        b->t[t].elems = n[t];
        if (n[t] > (SIZE_MAX / sizeof(float) - BENCH_GUARD - b->off)) {
            snprintf(err, cap, "%s: the %s tensor of %zu elements is too large for this host",
                     clconv_status_name(CLCONV_TOO_LARGE), names[t], n[t]);
            return CLCONV_TOO_LARGE;
        }
    }
    return CLCONV_OK;
}

void bench_limits_query(cl_device_id dev, bench_limits *lim)
{
    memset(lim, 0, sizeof *lim);
    if (clGetDeviceInfo(dev, CL_DEVICE_MAX_MEM_ALLOC_SIZE, sizeof lim->max_alloc,
                        &lim->max_alloc, NULL) != CL_SUCCESS)
        lim->max_alloc = 0;
    if (clGetDeviceInfo(dev, CL_DEVICE_GLOBAL_MEM_SIZE, sizeof lim->global, &lim->global,
                        NULL) != CL_SUCCESS)
        lim->global = 0;
}

static clconv_status over_limit(const char *what, double bytes, const char *bound, cl_ulong lim,
                                char *err, size_t cap)
{
    snprintf(err, cap, "%s: %s needs %.0f bytes, more than the device's %s (%llu bytes)",
             clconv_status_name(CLCONV_DEVICE_LIMIT), what, bytes, bound,
             (unsigned long long)lim);
    return CLCONV_DEVICE_LIMIT;
}

clconv_status bench_bufs_fit(const clconv_desc *d, unsigned dirs, size_t off,
                             const bench_limits *lim, size_t extra, char *err, size_t cap)
{
    bench_bufs b;
    memset(&b, 0, sizeof b);
    b.off = off;
    clconv_status st = sizes(d, &b, err, cap);
    if (st != CLCONV_OK)
        return st;
    unsigned m = needed(dirs);
    double total = (double)extra; /* a sum of sizes that each fit size_t may not */
    char what[40];
    for (int t = 0; t < BT_N; t++) {
        if (!(m & (1u << t)))
            continue;
        double bytes = (double)bench_buf_floats(&b, t) * sizeof(float);
        snprintf(what, sizeof what, "the %s buffer", names[t]);
        if (lim->max_alloc && bytes > (double)lim->max_alloc)
            return over_limit(what, bytes, "largest allocation", lim->max_alloc, err, cap);
        total += bytes;
    }
    if (lim->max_alloc && (double)extra > (double)lim->max_alloc)
        return over_limit("the library's scratch", (double)extra, "largest allocation",
                          lim->max_alloc, err, cap);
    if (lim->global && total > (double)lim->global)
        return over_limit("the layer", total, "global memory", lim->global, err, cap);
    return CLCONV_OK;
}

clconv_status bench_bufs_create(clconv_ctx *ctx, const clconv_desc *d, unsigned dirs, size_t off,
                                const bench_limits *lim, uint64_t seed, bench_bufs *b, char *err,
                                size_t cap)
{
    memset(b, 0, sizeof *b);
    b->off = off;
    clconv_status st = bench_bufs_fit(d, dirs, off, lim, 0, err, cap);
    if (st != CLCONV_OK || (st = sizes(d, b, err, cap)) != CLCONV_OK)
        return st;
    unsigned m = needed(dirs);
    cl_command_queue q = clconv_cl_queue(ctx);
    for (int t = 0; t < BT_N; t++) {
        if (!(m & (1u << t)))
            continue;
        cl_int e;
        size_t bytes = bench_buf_floats(b, t) * sizeof(float);
        b->t[t].mem = clCreateBuffer(clconv_cl_context(ctx), CL_MEM_READ_WRITE, bytes, NULL, &e);
        if (b->t[t].mem && t <= BT_DY)
            make_input(q, b, t, seed, &e);
        else if (b->t[t].mem)
            make_output(q, b, t, &e);
        if (e != CL_SUCCESS) {
            snprintf(err, cap, "cannot create or fill the %s buffer (%zu bytes): OpenCL error %d",
                     names[t], bytes, e);
            bench_bufs_free(b);
            return CLCONV_OUT_OF_DEVICE_MEMORY;
        }
    }
    return CLCONV_OK;
}

void bench_bufs_free(bench_bufs *b)
{
    for (int t = 0; t < BT_N; t++) {
        if (b->t[t].mem)
            clReleaseMemObject(b->t[t].mem);
        free(b->t[t].img);
        b->t[t].mem = NULL;
        b->t[t].img = NULL;
    }
}

clconv_status bench_pass_run(clconv_ctx *ctx, const clconv_desc *d, int pass, clconv_algo algo,
                             const bench_bufs *b, cl_event *ev)
{
    const bench_tensor *t = b->t;
    size_t o = b->off;
    switch (pass) {
    case BENCH_FWD:
        return clconv_forward(ctx, d, algo, t[BT_X].mem, o, t[BT_W].mem, o, t[BT_Y].mem, o, ev);
    case BENCH_BWD_D:
        return clconv_backward_data(ctx, d, algo, t[BT_DY].mem, o, t[BT_W].mem, o, t[BT_DX].mem,
                                    o, 0, ev);
    case BENCH_BWD_W:
        return clconv_backward_filter(ctx, d, algo, t[BT_X].mem, o, t[BT_DY].mem, o,
                                      t[BT_DW].mem, o, 0, ev);
    default:
        return clconv_backward_bias(ctx, d, t[BT_DY].mem, o, t[BT_DB].mem, o, 0, ev);
    }
}
