/* Memory limits: scratch beyond the device's largest allocation or its
 * global memory is refused with CLCONV_DEVICE_LIMIT before anything is
 * enqueued; a failed allocation or enqueue becomes a status, writes
 * nothing to the caller's output, and the context works for the next call.
 *
 * Three ways to hit a limit:
 *   - a layer whose EXPLICIT scratch (the upsampled, padded dy) exceeds the
 *     device's real CL_DEVICE_MAX_MEM_ALLOC_SIZE, sized from that value;
 *   - POCL_MEMORY_LIMIT=1 (PoCL reads it when the platform is set up, so
 *     it is set before this test process first touches OpenCL: Criterion
 *     runs each test in its own process), which lowers PoCL's limits to
 *     1 GiB global / 256 MiB per allocation;
 *   - lowering ctx->info.max_alloc / global_mem (internal.h) directly.
 * Failing allocations and enqueues are injected by the OpenCL entry points
 * defined below, which this test binary uses in place of the ICD loader's
 * (the library is linked statically): they pass every call through unless
 * a test arms them.  PoCL itself cannot be driven out of memory here:
 * PoCL 3.1 allocates lazily and aborts (an assertion in
 * pocl_create_migration_commands) when that allocation fails. */
#include <criterion/criterion.h>
#include <dlfcn.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"
#include "util.h"

/* ---- fault injection: armed counters, pass-through otherwise ---- */
/* Atomic because every test of the binary (threaded ones too) goes through
 * these; only the tests below arm them, each in its own process. */
static atomic_int create_calls, enqueue_calls;
static atomic_int fail_create_at, fail_enqueue_at; /* fail the n-th call from now (0: never) */
static cl_int fail_create_err, fail_enqueue_err;

typedef cl_mem (*create_fn)(cl_context, cl_mem_flags, size_t, void *, cl_int *);
typedef cl_int (*enqueue_fn)(cl_command_queue, cl_kernel, cl_uint, const size_t *, const size_t *,
                             const size_t *, cl_uint, const cl_event *, cl_event *);
static create_fn real_create;
static enqueue_fn real_enqueue;
static pthread_once_t real_once = PTHREAD_ONCE_INIT;

static void find_real(void)
{
    *(void **)&real_create = dlsym(RTLD_NEXT, "clCreateBuffer");
    *(void **)&real_enqueue = dlsym(RTLD_NEXT, "clEnqueueNDRangeKernel");
}

/* 1 when an armed countdown reaches this call. */
static int strikes(atomic_int *at)
{
    return atomic_load(at) > 0 && atomic_fetch_sub(at, 1) == 1;
}

CL_API_ENTRY cl_mem CL_API_CALL clCreateBuffer(cl_context context, cl_mem_flags flags, size_t size,
                                               void *host_ptr, cl_int *errcode_ret)
{
    pthread_once(&real_once, find_real);
    atomic_fetch_add(&create_calls, 1);
    if (strikes(&fail_create_at)) {
        if (errcode_ret)
            *errcode_ret = fail_create_err;
        return NULL;
    }
    return real_create(context, flags, size, host_ptr, errcode_ret);
}

CL_API_ENTRY cl_int CL_API_CALL clEnqueueNDRangeKernel(cl_command_queue q, cl_kernel k, cl_uint dim,
                                                       const size_t *offset, const size_t *global,
                                                       const size_t *local, cl_uint nwait,
                                                       const cl_event *wait, cl_event *event)
{
    pthread_once(&real_once, find_real);
    atomic_fetch_add(&enqueue_calls, 1);
    if (strikes(&fail_enqueue_at))
        return fail_enqueue_err;
    return real_enqueue(q, k, dim, offset, global, local, nwait, wait, event);
}

/* ---- a backward-data layer and its buffers ---- */

typedef struct bwd_job {
    clconv_desc d;
    size_t xe, we, ye;
    float *dy, *w, *dx;
    double *ref;
    cl_mem bdy, bw, bdx;
} bwd_job;

static bwd_job job_new(clconv_ctx *ctx, clconv_desc d, uint64_t seed)
{
    bwd_job j = {.d = d, .xe = test_x_elems(&d), .we = test_w_elems(&d), .ye = test_y_elems(&d)};
    j.dy = test_alloc(j.ye * sizeof(float));
    j.w = test_alloc(j.we * sizeof(float));
    j.dx = test_alloc(j.xe * sizeof(float));
    j.ref = test_alloc(j.xe * sizeof(double));
    double *dyd = test_alloc(j.ye * sizeof(double)), *wd = test_alloc(j.we * sizeof(double));
    test_rng r = test_rng_seed(seed);
    test_fill_random(&r, j.dy, j.ye);
    test_fill_random(&r, j.w, j.we);
    test_to_double(j.dy, dyd, j.ye);
    test_to_double(j.w, wd, j.we);
    cr_assert_eq(clconv_ref_backward_data(&d, dyd, wd, j.ref), CLCONV_OK);
    free(dyd);
    free(wd);
    j.bdy = test_buffer_from(ctx, j.dy, j.ye);
    j.bw = test_buffer_from(ctx, j.w, j.we);
    test_poison(j.dx, j.xe);
    j.bdx = test_buffer_from(ctx, j.dx, j.xe);
    return j;
}

static void job_free(bwd_job *j)
{
    clReleaseMemObject(j->bdy);
    clReleaseMemObject(j->bw);
    clReleaseMemObject(j->bdx);
    free(j->dy);
    free(j->w);
    free(j->dx);
    free(j->ref);
}

static clconv_status job_run(clconv_ctx *ctx, bwd_job *j, clconv_algo algo)
{
    return clconv_backward_data(ctx, &j->d, algo, j->bdy, 0, j->bw, 0, j->bdx, 0, 0, NULL);
}

static void poison_dx(clconv_ctx *ctx, bwd_job *j)
{
    test_poison(j->dx, j->xe);
    test_upload(ctx, j->bdx, 0, j->dx, j->xe);
}

/* dx still all NaN (poison_dx): the refused or failed call wrote nothing. */
static void expect_untouched(clconv_ctx *ctx, bwd_job *j, const char *what)
{
    cr_assert_eq(clconv_finish(ctx), CLCONV_OK, "%s: the queue broke", what);
    test_download(ctx, j->bdx, 0, j->dx, j->xe);
    for (size_t i = 0; i < j->xe; i++)
        if (!isnan(j->dx[i])) {
            cr_expect_fail("%s: dx[%zu] = %g was written", what, i, j->dx[i]);
            return;
        }
}

static void expect_right(clconv_ctx *ctx, bwd_job *j, clconv_algo algo, const char *what)
{
    poison_dx(ctx, j);
    clconv_status st = job_run(ctx, j, algo);
    cr_assert_eq(st, CLCONV_OK, "%s: %s: %s", what, clconv_status_name(st), clconv_last_error(ctx));
    test_download(ctx, j->bdx, 0, j->dx, j->xe);
    double err = test_rel_err(j->dx, j->ref, j->xe);
    cr_expect(err <= TEST_TOL, "%s: rel err %g", what, err);
}

/* A small layer whose EXPLICIT backward-data scratch is about `bytes`:
 * R = 2 with dilation d and padding d/2 keeps P = H, while the padded map
 * EXPLICIT materialises has H + d rows (and as many columns). */
static clconv_desc scratch_layer(double bytes)
{
    int64_t side = (int64_t)ceil(sqrt(bytes / sizeof(float))) + 1;
    int64_t d = (side - 8 + 1) / 2 * 2; /* even, so padding d/2 keeps P = H */
    clconv_desc desc;
    clconv_desc_init(&desc, 1, 2, 8, 8, 1, 2, 2);
    desc.dilation_h = desc.dilation_w = d;
    desc.pad_h = desc.pad_w = d / 2;
    return desc;
}

static size_t explicit_scratch(clconv_ctx *ctx, const clconv_desc *d)
{
    size_t bytes = 0;
    cr_assert_eq(clconv_workspace_size(ctx, d, CLCONV_PASS_BACKWARD_DATA, CLCONV_ALGO_EXPLICIT,
                                       &bytes),
                 CLCONV_OK);
    return bytes;
}

/* EXPLICIT refused with DEVICE_LIMIT, nothing enqueued or allocated, dx
 * untouched; DIRECT (no scratch) still right on the same context. */
static void refused_then_direct_works(clconv_ctx *ctx, bwd_job *j, const char *limit)
{
    poison_dx(ctx, j);
    create_calls = enqueue_calls = 0;
    clconv_status st = job_run(ctx, j, CLCONV_ALGO_EXPLICIT);
    cr_expect_eq(st, CLCONV_DEVICE_LIMIT, "%s: got %s", limit, clconv_status_name(st));
    cr_expect(strstr(clconv_last_error(ctx), limit), "message: %s", clconv_last_error(ctx));
    cr_expect_eq(enqueue_calls, 0, "kernels were enqueued before the refusal");
    cr_expect_eq(create_calls, 0, "scratch was allocated before the refusal");
    expect_untouched(ctx, j, limit);
    expect_right(ctx, j, CLCONV_ALGO_DIRECT, "DIRECT after the refusal");
}

/* ---- tests ---- */

Test(memory_limits, scratch_over_the_real_allocation_limit_is_refused)
{
    clconv_ctx *ctx = test_ctx();
    double limit = (double)ctx->info.max_alloc;
    cr_assert_gt(limit, 0);
    bwd_job j = job_new(ctx, scratch_layer(limit * 1.05), 11);
    size_t need = explicit_scratch(ctx, &j.d);
    cr_assert_gt((double)need, limit, "layer too small: %zu bytes", need);
    refused_then_direct_works(ctx, &j, "largest allocation");
    job_free(&j);
    clconv_free(ctx);
}

Test(memory_limits, pocl_memory_limit_lowers_what_is_refused)
{
    setenv("POCL_MEMORY_LIMIT", "1", 1); /* before this process's first OpenCL call */
    clconv_ctx *ctx = test_ctx();
    if (!strstr(ctx->info.platform, "Portable Computing Language") &&
        !strstr(ctx->info.platform, "PoCL")) {
        clconv_free(ctx);
        cr_skip_test("not PoCL: POCL_MEMORY_LIMIT does not apply");
    }
    cr_assert_eq(ctx->info.global_mem, (cl_ulong)1 << 30, "PoCL ignored POCL_MEMORY_LIMIT=1");
    cr_assert_eq(ctx->info.max_alloc, (cl_ulong)256 << 20);
    /* 300 MiB: over the lowered limit, under PoCL's default 1 GiB */
    bwd_job j = job_new(ctx, scratch_layer(300.0 * (1 << 20)), 12);
    size_t need = explicit_scratch(ctx, &j.d);
    cr_assert(need > ctx->info.max_alloc && need < ((size_t)1 << 30), "%zu bytes", need);
    refused_then_direct_works(ctx, &j, "largest allocation");
    job_free(&j);
    clconv_free(ctx);
}

static clconv_desc small_layer(void)
{
    clconv_desc d;
    clconv_desc_init(&d, 2, 4, 7, 6, 3, 3, 2);
    d.stride_h = 2;
    d.pad_w = 1;
    d.dilation_h = 2;
    return d;
}

Test(memory_limits, lowered_limits_refuse_scratch_and_raised_ones_allow_it)
{
    clconv_ctx *ctx = test_ctx();
    const clconv_devinfo real = ctx->info;
    bwd_job j = job_new(ctx, small_layer(), 13);
    size_t need = explicit_scratch(ctx, &j.d);
    cr_assert_gt(need, 64);

    ctx->info.max_alloc = need - 1; /* one byte short */
    refused_then_direct_works(ctx, &j, "largest allocation");

    ctx->info.max_alloc = real.max_alloc;
    ctx->info.global_mem = need - 1; /* a device reporting more per buffer than in all */
    refused_then_direct_works(ctx, &j, "global memory");

    ctx->info = real;
    expect_right(ctx, &j, CLCONV_ALGO_EXPLICIT, "EXPLICIT within the limits");
    job_free(&j);
    clconv_free(ctx);
}

Test(memory_limits, failed_scratch_allocation_is_a_status_and_the_context_recovers)
{
    clconv_ctx *ctx = test_ctx();
    bwd_job j = job_new(ctx, small_layer(), 14);
    const cl_int errs[] = {CL_MEM_OBJECT_ALLOCATION_FAILURE, CL_OUT_OF_RESOURCES,
                           CL_OUT_OF_HOST_MEMORY};
    const clconv_status want[] = {CLCONV_OUT_OF_DEVICE_MEMORY, CLCONV_OUT_OF_RESOURCES,
                                  CLCONV_OUT_OF_HOST_MEMORY};
    for (int i = 0; i < 3; i++) {
        /* a fresh scratch is needed each time: drop the one the last call grew */
        if (ctx->workspace)
            clReleaseMemObject(ctx->workspace);
        ctx->workspace = NULL;
        ctx->workspace_bytes = 0;
        poison_dx(ctx, &j);
        fail_create_at = 1;
        fail_create_err = errs[i];
        enqueue_calls = 0;
        clconv_status st = job_run(ctx, &j, CLCONV_ALGO_EXPLICIT);
        cr_expect_eq(st, want[i], "OpenCL %d gave %s", (int)errs[i], clconv_status_name(st));
        cr_expect_eq(clconv_last_cl_error(ctx), errs[i]);
        cr_expect_eq(enqueue_calls, 0);
        expect_untouched(ctx, &j, "failed scratch allocation");
        expect_right(ctx, &j, CLCONV_ALGO_EXPLICIT, "EXPLICIT after a failed allocation");
    }
    job_free(&j);
    clconv_free(ctx);
}

/* EXPLICIT backward-data enqueues upsample, flip, then the convolution that
 * writes dx: a failure at any of the three leaves dx as it was. */
Test(memory_limits, failed_enqueue_is_a_status_and_the_context_recovers)
{
    clconv_ctx *ctx = test_ctx();
    bwd_job j = job_new(ctx, small_layer(), 15);
    expect_right(ctx, &j, CLCONV_ALGO_EXPLICIT, "warm-up"); /* programs built, scratch grown */
    for (int at = 1; at <= 3; at++) {
        poison_dx(ctx, &j);
        fail_enqueue_at = at;
        fail_enqueue_err = CL_OUT_OF_RESOURCES;
        clconv_status st = job_run(ctx, &j, CLCONV_ALGO_EXPLICIT);
        cr_expect_eq(st, CLCONV_OUT_OF_RESOURCES, "enqueue %d: %s", at, clconv_status_name(st));
        cr_expect_eq(clconv_last_cl_error(ctx), CL_OUT_OF_RESOURCES);
        cr_expect_eq(fail_enqueue_at, 0, "enqueue %d was never reached", at);
        expect_untouched(ctx, &j, "failed enqueue");
        expect_right(ctx, &j, CLCONV_ALGO_EXPLICIT, "EXPLICIT after a failed enqueue");
    }
    fail_enqueue_at = 1;
    fail_enqueue_err = CL_MEM_OBJECT_ALLOCATION_FAILURE;
    cr_expect_eq(job_run(ctx, &j, CLCONV_ALGO_DIRECT), CLCONV_OUT_OF_DEVICE_MEMORY);
    expect_right(ctx, &j, CLCONV_ALGO_DIRECT, "DIRECT after a failed enqueue");
    job_free(&j);
    clconv_free(ctx);
}

Test(memory_limits, host_api_buffer_failure_is_a_status)
{
    clconv_ctx *ctx = test_ctx();
    clconv_desc d = small_layer();
    size_t xe = test_x_elems(&d), we = test_w_elems(&d), ye = test_y_elems(&d);
    float *x = test_alloc(xe * 4), *w = test_alloc(we * 4), *y = test_alloc(ye * 4);
    double *xd = test_alloc(xe * 8), *wd = test_alloc(we * 8), *yd = test_alloc(ye * 8);
    test_rng r = test_rng_seed(16);
    test_fill_random(&r, x, xe);
    test_fill_random(&r, w, we);
    test_to_double(x, xd, xe);
    test_to_double(w, wd, we);
    cr_assert_eq(clconv_ref_forward(&d, xd, wd, yd), CLCONV_OK);
    for (int at = 1; at <= 3; at++) { /* x, w, then y's buffer */
        test_poison(y, ye);
        fail_create_at = at;
        fail_create_err = CL_MEM_OBJECT_ALLOCATION_FAILURE;
        cr_expect_eq(clconv_forward_host(ctx, &d, CLCONV_ALGO_DIRECT, x, w, y),
                     CLCONV_OUT_OF_DEVICE_MEMORY, "buffer %d", at);
        cr_expect(isnan(y[0]) && isnan(y[ye - 1]), "y written after failure %d", at);
    }
    cr_assert_eq(clconv_forward_host(ctx, &d, CLCONV_ALGO_DIRECT, x, w, y), CLCONV_OK);
    cr_expect_leq(test_rel_err(y, yd, ye), TEST_TOL);
    free(x), free(w), free(y), free(xd), free(wd), free(yd);
    clconv_free(ctx);
}
