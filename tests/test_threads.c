/* Threads: the rule is that every public call on a context holds that
 * context's mutex, so a context may be shared between threads (calls
 * serialize on the host, kernels run in queue order) and separate contexts
 * run fully in parallel.  Here several pthreads run the three passes and
 * backward-bias at once, each on its own context and all on one shared
 * context, and every result is checked against the float64 reference.
 *
 * Criterion's assertions must not be called from the worker threads (a
 * failing cr_assert unwinds the test from the wrong thread), so workers
 * record their first failure in their own record and the test thread
 * asserts after joining them. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "util.h"

#define NTHREADS 4
#define ITERS 3
/* generous: a deadlock fails the test instead of hanging the suite */
#define THREAD_TEST_TIMEOUT 600

typedef struct worker {
    clconv_ctx *ctx;            /* shared context, or NULL: create its own */
    int index;
    uint64_t seed;
    int failed;
    char msg[600];              /* the first failure, with a repro */
} worker;

static void wfail(worker *wk, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void wfail(worker *wk, const char *fmt, ...)
{
    if (wk->failed++)
        return; /* keep the first: later ones are usually its consequences */
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(wk->msg, sizeof wk->msg, fmt, ap);
    va_end(ap);
}

/* ---- one layer, all four passes ----------------------------------------- */

enum { X, W, DY, Y, DX, DW, DB, NBUF };

/* Host arrays (fp32 inputs/outputs, float64 reference copies) and device
 * buffers of one layer, freed together. */
typedef struct job {
    clconv_desc d;
    clconv_algo algo;
    int accumulate;
    size_t n[NBUF];
    float *h[NBUF];             /* inputs; outputs read back; initial values */
    float *init[NBUF];          /* what DX, DW, DB held before an accumulating call */
    cl_mem m[NBUF];
} job;

static void job_free(job *j)
{
    for (int i = 0; i < NBUF; i++) {
        free(j->h[i]);
        free(j->init[i]);
        if (j->m[i])
            clReleaseMemObject(j->m[i]);
    }
}

static int job_alloc(worker *wk, job *j)
{
    const size_t xe = test_x_elems(&j->d), we = test_w_elems(&j->d), ye = test_y_elems(&j->d);
    const size_t n[NBUF] = {[X] = xe, [W] = we, [DY] = ye, [Y] = ye, [DX] = xe, [DW] = we,
                            [DB] = (size_t)j->d.k};
    cl_context c = clconv_cl_context(wk->ctx);
    for (int i = 0; i < NBUF; i++) {
        cl_int err = CL_SUCCESS;
        j->n[i] = n[i];
        j->h[i] = malloc(n[i] * sizeof(float));
        j->init[i] = malloc(n[i] * sizeof(float));
        j->m[i] = clCreateBuffer(c, CL_MEM_READ_WRITE, n[i] * sizeof(float), NULL, &err);
        if (!j->h[i] || !j->init[i] || !j->m[i]) {
            wfail(wk, "thread %d: allocation of %zu floats failed (cl %d)", wk->index, n[i],
                  (int)err);
            return -1;
        }
    }
    return 0;
}

/* Fresh random inputs; outputs start as NaN, or as random values that an
 * accumulating call must add to. */
static void job_fill(job *j, test_rng *r)
{
    for (int i = X; i <= DY; i++)
        test_fill_random(r, j->h[i], j->n[i]);
    for (int i = Y; i < NBUF; i++) {
        if (j->accumulate && i != Y)
            test_fill_random(r, j->init[i], j->n[i]);
        else
            test_poison(j->init[i], j->n[i]);
        memcpy(j->h[i], j->init[i], j->n[i] * sizeof(float));
    }
}

static int job_upload(worker *wk, job *j)
{
    cl_command_queue q = clconv_cl_queue(wk->ctx);
    for (int i = 0; i < NBUF; i++) {
        cl_int err = clEnqueueWriteBuffer(q, j->m[i], CL_TRUE, 0, j->n[i] * sizeof(float),
                                          j->h[i], 0, NULL, NULL);
        if (err != CL_SUCCESS) {
            wfail(wk, "thread %d: clEnqueueWriteBuffer: %d", wk->index, (int)err);
            return -1;
        }
    }
    return 0;
}

/* The four calls, back to back, the last with an event that is waited on
 * (the calls enqueue and return; the in-order queue orders them). */
static int job_run(worker *wk, job *j, const char *repro)
{
    clconv_ctx *c = wk->ctx;
    const clconv_desc *d = &j->d;
    const int acc = j->accumulate;
    cl_event ev = NULL;
    clconv_status st[4];
    st[0] = clconv_forward(c, d, j->algo, j->m[X], 0, j->m[W], 0, j->m[Y], 0, NULL);
    st[1] = clconv_backward_data(c, d, j->algo, j->m[DY], 0, j->m[W], 0, j->m[DX], 0, acc, NULL);
    st[2] = clconv_backward_filter(c, d, j->algo, j->m[X], 0, j->m[DY], 0, j->m[DW], 0, acc,
                                   NULL);
    st[3] = clconv_backward_bias(c, d, j->m[DY], 0, j->m[DB], 0, acc, &ev);
    for (int i = 0; i < 4; i++)
        if (st[i] != CLCONV_OK) {
            wfail(wk, "thread %d: %s: call %d returned %s", wk->index, repro, i,
                  clconv_status_name(st[i]));
            if (ev)
                clReleaseEvent(ev);
            return -1;
        }
    cl_int err = clWaitForEvents(1, &ev);
    clReleaseEvent(ev);
    if (err != CL_SUCCESS) {
        wfail(wk, "thread %d: %s: clWaitForEvents: %d", wk->index, repro, (int)err);
        return -1;
    }
    return 0;
}

static int job_download(worker *wk, job *j)
{
    cl_command_queue q = clconv_cl_queue(wk->ctx);
    for (int i = Y; i < NBUF; i++) {
        test_poison(j->h[i], j->n[i]);
        cl_int err = clEnqueueReadBuffer(q, j->m[i], CL_TRUE, 0, j->n[i] * sizeof(float),
                                         j->h[i], 0, NULL, NULL);
        if (err != CL_SUCCESS) {
            wfail(wk, "thread %d: clEnqueueReadBuffer: %d", wk->index, (int)err);
            return -1;
        }
    }
    return 0;
}

/* The float64 reference of output `out` (plus its initial value when the
 * call accumulated), computed in this thread: the reference is plain C. */
static int reference(const job *j, int out, double *ref)
{
    double *a = malloc(j->n[X] * sizeof(double)), *b = malloc(j->n[W] * sizeof(double));
    double *dy = malloc(j->n[DY] * sizeof(double));
    int rc = -1;
    if (a && b && dy) {
        test_to_double(j->h[X], a, j->n[X]);
        test_to_double(j->h[W], b, j->n[W]);
        test_to_double(j->h[DY], dy, j->n[DY]);
        clconv_status st = out == Y    ? clconv_ref_forward(&j->d, a, b, ref)
                           : out == DX ? clconv_ref_backward_data(&j->d, dy, b, ref)
                           : out == DW ? clconv_ref_backward_filter(&j->d, a, dy, ref)
                                       : clconv_ref_backward_bias(&j->d, dy, ref);
        rc = st == CLCONV_OK ? 0 : -1;
    }
    if (rc == 0 && j->accumulate && out != Y)
        for (size_t i = 0; i < j->n[out]; i++)
            ref[i] += j->init[out][i];
    free(a);
    free(b);
    free(dy);
    return rc;
}

static void job_check(worker *wk, const job *j, const char *repro)
{
    static const char *const names[NBUF] = {[Y] = "forward", [DX] = "backward-data",
                                            [DW] = "backward-filter", [DB] = "backward-bias"};
    for (int i = Y; i < NBUF; i++) {
        double *ref = malloc(j->n[i] * sizeof(double));
        double err = ref && reference(j, i, ref) == 0 ? test_rel_err(j->h[i], ref, j->n[i])
                                                      : -1.0;
        free(ref);
        if (err < 0)
            wfail(wk, "thread %d: %s: reference %s failed", wk->index, repro, names[i]);
        else if (!(err <= TEST_TOL))
            wfail(wk, "thread %d: %s algo %s accumulate %d: %s rel err %g > %g", wk->index, repro,
                  clconv_algo_name(j->algo), j->accumulate, names[i], err, TEST_TOL);
    }
}

/* Small layers: the point is many calls in flight at once, not big ones. */
static const test_layer_bounds bounds = {
    .max_n = 2, .max_ck = 6, .max_hw = 9, .max_rs = 3, .max_stride = 2, .max_pad = 2,
    .max_dil = 2, .max_flops = 2e5,
};

static void run_layer(worker *wk, test_rng *r, int iter)
{
    static const clconv_algo algos[] = {CLCONV_ALGO_AUTO, CLCONV_ALGO_EXPLICIT,
                                        CLCONV_ALGO_DIRECT};
    job j = {.d = test_random_desc(r, &bounds), .algo = algos[(wk->index + iter) % 3],
             .accumulate = (wk->index + iter) & 1};
    char repro[128];
    test_desc_str(&j.d, repro, sizeof repro);
    if (job_alloc(wk, &j) == 0) {
        job_fill(&j, r);
        if (job_upload(wk, &j) == 0 && job_run(wk, &j, repro) == 0 && job_download(wk, &j) == 0)
            job_check(wk, &j, repro);
    }
    job_free(&j);
}

static void *worker_main(void *arg)
{
    worker *wk = arg;
    const int own = wk->ctx == NULL;
    if (own) {
        clconv_status st = clconv_create(&wk->ctx);
        if (st != CLCONV_OK) {
            wfail(wk, "thread %d: clconv_create: %s", wk->index, clconv_status_name(st));
            return NULL;
        }
    }
    test_rng r = test_rng_seed(wk->seed);
    for (int it = 0; it < ITERS && !wk->failed; it++)
        run_layer(wk, &r, it);
    if (own) {
        clconv_free(wk->ctx);
        wk->ctx = NULL;
    }
    return NULL;
}

/* Start NTHREADS workers on `shared` (NULL: one context each), join them,
 * and report every worker's failure. */
static void run_workers(clconv_ctx *shared, uint64_t seed)
{
    worker wk[NTHREADS];
    pthread_t th[NTHREADS];
    int started[NTHREADS] = {0};
    for (int i = 0; i < NTHREADS; i++) {
        wk[i] = (worker){.ctx = shared, .index = i, .seed = seed * 100 + (uint64_t)i};
        started[i] = pthread_create(&th[i], NULL, worker_main, &wk[i]) == 0;
    }
    for (int i = 0; i < NTHREADS; i++)
        if (started[i])
            pthread_join(th[i], NULL);
    for (int i = 0; i < NTHREADS; i++) {
        cr_expect(started[i], "pthread_create failed for thread %d", i);
        cr_expect(!wk[i].failed, "%s (%d failures in this thread)", wk[i].msg, wk[i].failed);
    }
}

/* Criterion runs each test in a fresh process, so these clconv_create
 * calls are also the process's first OpenCL calls: without the library's
 * lock around device selection they race inside PoCL's device set-up
 * (CLCONV_NO_DEVICE, or a crash). */
Test(threads, own_context_each, .timeout = THREAD_TEST_TIMEOUT)
{
    run_workers(NULL, 1);
}

Test(threads, one_shared_context, .timeout = THREAD_TEST_TIMEOUT)
{
    clconv_ctx *ctx = test_ctx();
    run_workers(ctx, 2);
    cr_expect_eq(clconv_finish(ctx), CLCONV_OK);
    clconv_free(ctx);
}

/* ---- clconv_last_error is per context ------------------------------------ */

#define ERR_ROUNDS 200

typedef struct err_worker {
    clconv_ctx *ctx;
    cl_mem dy, db;              /* valid buffers for the succeeding side */
    int fail_side;              /* 1: every call fails; 0: every call succeeds */
    pthread_barrier_t *start;   /* both sides begin together */
    atomic_int *done;           /* the succeeding side has finished */
    int bad;
    char msg[300];
} err_worker;

static int err_round(err_worker *e, const clconv_desc *d, int i)
{
    clconv_status st = clconv_backward_bias(e->ctx, d, e->dy, 0, e->db, 0, 0, NULL);
    const char *msg = clconv_last_error(e->ctx);
    int ok = e->fail_side ? st == CLCONV_BAD_STRIDE && strstr(msg, "invalid descriptor")
                          : st == CLCONV_OK && msg[0] == 0 &&
                                clconv_last_cl_error(e->ctx) == CL_SUCCESS;
    if (!ok) {
        e->bad = 1;
        snprintf(e->msg, sizeof e->msg, "%s side, round %d: status %s, last error \"%s\"",
                 e->fail_side ? "failing" : "succeeding", i, clconv_status_name(st), msg);
    }
    return ok;
}

/* The failing side's calls are far cheaper than the succeeding side's
 * kernel launches, so it keeps failing until the other side is done. */
static void *err_main(void *arg)
{
    err_worker *e = arg;
    clconv_desc d;
    clconv_desc_init(&d, 1, 2, 3, 3, 2, 1, 1);
    if (e->fail_side)
        d.stride_h = 0;
    pthread_barrier_wait(e->start);
    for (int i = 0; e->fail_side ? !atomic_load(e->done) : i < ERR_ROUNDS; i++)
        if (!err_round(e, &d, i))
            break;
    if (!e->fail_side)
        atomic_store(e->done, 1);
    return NULL;
}

/* Two contexts, one thread each: one fails every call, the other succeeds
 * every call; neither ever sees the other's error.  Then a different
 * failure on the second leaves the first's message as it was. */
Test(threads, last_error_is_per_context, .timeout = THREAD_TEST_TIMEOUT)
{
    clconv_ctx *ctx[2] = {test_ctx(), test_ctx()};
    err_worker e[2];
    pthread_t th[2];
    pthread_barrier_t start;
    atomic_int done = 0;
    cr_assert_eq(pthread_barrier_init(&start, NULL, 2), 0);
    for (int i = 0; i < 2; i++) {
        e[i] = (err_worker){.ctx = ctx[i], .dy = test_buffer(ctx[i], 2 * 9),
                            .db = test_buffer(ctx[i], 2), .fail_side = i == 0,
                            .start = &start, .done = &done};
        test_upload(ctx[i], e[i].dy, 0, (const float[18]){0}, 18);
    }
    for (int i = 0; i < 2; i++)
        cr_assert_eq(pthread_create(&th[i], NULL, err_main, &e[i]), 0);
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    pthread_barrier_destroy(&start);
    for (int i = 0; i < 2; i++)
        cr_expect(!e[i].bad, "%s", e[i].msg);

    char before[1024];
    snprintf(before, sizeof before, "%s", clconv_last_error(ctx[0]));
    clconv_desc d;
    clconv_desc_init(&d, 1, 2, 3, 3, 2, 1, 1);
    cr_expect_eq(clconv_backward_bias(ctx[1], &d, NULL, 0, e[1].db, 0, 0, NULL),
                 CLCONV_NULL_ARGUMENT);
    cr_expect_str_neq(clconv_last_error(ctx[1]), "");
    cr_expect_str_eq(clconv_last_error(ctx[0]), before);
    cr_expect_str_neq(clconv_last_error(ctx[0]), clconv_last_error(ctx[1]));
    for (int i = 0; i < 2; i++) {
        clReleaseMemObject(e[i].dy);
        clReleaseMemObject(e[i].db);
        clconv_free(ctx[i]);
    }
}
