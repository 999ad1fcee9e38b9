/* passes.c - buffers of one problem and the dispatch to clconv's passes. */
#include "passes.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "options.h"
#include "problem.h"

void bench_pass_tensors(const bench_problem *p, int pass, int in[3], int *out)
{
    static const int ta[BENCH_NPASS] = {BT_X, BT_DY, BT_X, BT_DY};
    static const int tb[BENCH_NPASS] = {BT_W, BT_W, BT_DY, BT_N};
    static const int to[BENCH_NPASS] = {BT_Y, BT_DX, BT_DW, BT_DB};
    in[0] = ta[pass];
    in[1] = tb[pass];
    in[2] = pass == BENCH_FWD && p->bias ? BT_BIAS : BT_N;
    *out = to[pass];
}

/* The forward reads y's old values when the post-ops sum into it. */
static int reads_output(const bench_problem *p, int pass)
{
    return pass == BENCH_FWD && p->ops.has_sum;
}

size_t bench_buf_elems(const bench_bufs *b, int t)
{
    return b->off + b->t[t].elems + BENCH_GUARD;
}

size_t bench_buf_bytes(const bench_bufs *b, int t)
{
    return bench_buf_elems(b, t) * b->es;
}

void bench_pattern(clconv_dtype t, float v, unsigned char out[4])
{
    memset(out, 0, 4);
    bench_store(out, 0, t, v);
}

/* Tensors the problem's passes read or write, and which of them start
 * with random values. */
static unsigned needed(const bench_problem *p, unsigned *inputs)
{
    unsigned m = 0;
    *inputs = 0;
    for (int pass = 0; pass < BENCH_NPASS; pass++) {
        if (!(p->dirs & (1u << pass)))
            continue;
        int in[3], o;
        bench_pass_tensors(p, pass, in, &o);
        m |= 1u << o;
        for (int i = 0; i < 3; i++)
            if (in[i] < BT_N)
                *inputs |= 1u << in[i];
        if (reads_output(p, pass))
            *inputs |= 1u << o;
    }
    return m | *inputs;
}

/* Elements [from, to) of img (element size es) set to the pattern s. */
static void put_pattern(unsigned char *img, size_t from, size_t to, const unsigned char *s,
                        size_t es)
{
    for (size_t i = from; i < to; i++)
        memcpy(img + i * es, s, es);
}

static int make_input(cl_command_queue q, bench_bufs *b, int t, uint64_t seed, cl_int *err)
{
    bench_tensor *bt = &b->t[t];
    size_t total = bench_buf_elems(b, t);
    unsigned char s[4];
    bench_pattern(b->dt, BENCH_SENTINEL, s);
    bt->img = malloc(total * b->es);
    bt->val = malloc((bt->elems ? bt->elems : 1) * sizeof *bt->val);
    if (!bt->img || !bt->val) {
        *err = CL_OUT_OF_HOST_MEMORY;
        return -1;
    }
    /* the sentinel before and after the tensor (bench_pack writes every
     * element of the tensor itself) */
    put_pattern(bt->img, 0, b->off, s, b->es);
    put_pattern(bt->img, b->off + bt->elems, total, s, b->es);
    bench_fill(seed * 16 + (uint64_t)t, bt->val, bt->elems);
    bench_pack(bt->val, &bt->lay, b->dt, bt->img + b->off * b->es);
    *err = clEnqueueWriteBuffer(q, bt->mem, CL_TRUE, 0, total * b->es, bt->img, 0, NULL, NULL);
    return *err == CL_SUCCESS ? 0 : -1;
}

static int make_output(cl_command_queue q, bench_bufs *b, int t, cl_int *err)
{
    unsigned char s[4];
    bench_pattern(b->dt, BENCH_SENTINEL, s);
    *err = clEnqueueFillBuffer(q, b->t[t].mem, s, b->es, 0, bench_buf_bytes(b, t), 0, NULL, NULL);
    return *err == CL_SUCCESS ? 0 : -1;
}

static const char *const names[BT_N] = {"x", "w", "dy", "y", "dx", "dw", "db", "bias"};

static clconv_status sizes(const bench_problem *p, bench_bufs *b, char *err, size_t cap)
{
    bench_shape s;
    clconv_status st = bench_problem_shape(p, &s);
    if (st != CLCONV_OK) {
        snprintf(err, cap, "%s: %s", clconv_status_name(st), clconv_status_string(st));
        return st;
    }
    const bench_layout *lay[BT_N] = {&s.x, &s.w, &s.y, &s.y, &s.x, &s.w, &s.b, &s.b};
    b->dt = (clconv_dtype)p->d.dtype;
    b->es = clconv_dtype_size(b->dt);
    for (int t = 0; t < BT_N; t++) {
        b->t[t].lay = *lay[t];
        b->t[t].elems = bench_layout_elems(lay[t]);
        if (b->t[t].elems > (SIZE_MAX / sizeof(float) - BENCH_GUARD - b->off)) {
            snprintf(err, cap, "%s: the %s tensor of %zu elements is too large for this host",
                     clconv_status_name(CLCONV_TOO_LARGE), names[t], b->t[t].elems);
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

clconv_status bench_bufs_fit(const bench_problem *p, size_t off, const bench_limits *lim,
                             size_t extra, char *err, size_t cap)
{
    bench_bufs b;
    memset(&b, 0, sizeof b);
    b.off = off;
    clconv_status st = sizes(p, &b, err, cap);
    if (st != CLCONV_OK)
        return st;
    unsigned inputs, m = needed(p, &inputs);
    double total = (double)extra; /* a sum of sizes that each fit size_t may not */
    char what[40];
    for (int t = 0; t < BT_N; t++) {
        if (!(m & (1u << t)))
            continue;
        double bytes = (double)bench_buf_elems(&b, t) * (double)b.es;
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

clconv_status bench_bufs_create(clconv_ctx *ctx, const bench_problem *p, size_t off,
                                const bench_limits *lim, uint64_t seed, bench_bufs *b, char *err,
                                size_t cap)
{
    memset(b, 0, sizeof *b);
    b->off = off;
    clconv_status st = bench_bufs_fit(p, off, lim, 0, err, cap);
    if (st != CLCONV_OK || (st = sizes(p, b, err, cap)) != CLCONV_OK)
        return st;
    unsigned inputs, m = needed(p, &inputs);
    cl_command_queue q = clconv_cl_queue(ctx);
    for (int t = 0; t < BT_N; t++) {
        if (!(m & (1u << t)))
            continue;
        cl_int e;
        size_t bytes = bench_buf_bytes(b, t);
        b->t[t].mem = clCreateBuffer(clconv_cl_context(ctx), CL_MEM_READ_WRITE, bytes, NULL, &e);
        if (b->t[t].mem && (inputs & (1u << t)))
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
        free(b->t[t].val);
        b->t[t].mem = NULL;
        b->t[t].img = NULL;
        b->t[t].val = NULL;
    }
}

/* The forward of a convolution: plain, or fused with FWD_B's bias and
 * the post-ops. */
static clconv_status conv_forward(clconv_ctx *ctx, const bench_problem *p, clconv_algo algo,
                                  const bench_bufs *b, cl_event *ev)
{
    const bench_tensor *t = b->t;
    size_t o = b->off;
    if (!p->bias && !bench_post_ops_any(&p->ops))
        return clconv_forward(ctx, &p->d, algo, t[BT_X].mem, o, t[BT_W].mem, o, t[BT_Y].mem, o,
                              ev);
    clconv_epilogue e;
    bench_post_ops_epilogue(&p->ops, &e);
    if (p->bias) {
        e.bias = t[BT_BIAS].mem;
        e.bias_off = o;
    }
    return clconv_forward_fused(ctx, &p->d, algo, t[BT_X].mem, o, t[BT_W].mem, o, t[BT_Y].mem,
                                o, &e, ev);
}

static clconv_status deconv_pass(clconv_ctx *ctx, const bench_problem *p, int pass,
                                 clconv_algo algo, const bench_bufs *b, cl_event *ev)
{
    const bench_tensor *t = b->t;
    const clconv_desc *d = &p->d;
    size_t o = b->off;
    switch (pass) {
    case BENCH_FWD:
        return clconv_transposed_forward(ctx, d, algo, t[BT_X].mem, o, t[BT_W].mem, o,
                                         p->bias ? t[BT_BIAS].mem : NULL, p->bias ? o : 0,
                                         t[BT_Y].mem, o, ev);
    case BENCH_BWD_D:
        return clconv_transposed_backward_data(ctx, d, algo, t[BT_DY].mem, o, t[BT_W].mem, o,
                                               t[BT_DX].mem, o, 0, ev);
    case BENCH_BWD_W:
        return clconv_transposed_backward_filter(ctx, d, algo, t[BT_X].mem, o, t[BT_DY].mem, o,
                                                 t[BT_DW].mem, o, 0, ev);
    default:
        return clconv_transposed_backward_bias(ctx, d, t[BT_DY].mem, o, t[BT_DB].mem, o, 0, ev);
    }
}

clconv_status bench_pass_run(clconv_ctx *ctx, const bench_problem *p, int pass, clconv_algo algo,
                             const bench_bufs *b, cl_event *ev)
{
    const bench_tensor *t = b->t;
    const clconv_desc *d = &p->d;
    size_t o = b->off;
    if (p->deconv)
        return deconv_pass(ctx, p, pass, algo, b, ev);
    switch (pass) {
    case BENCH_FWD:
        return conv_forward(ctx, p, algo, b, ev);
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
