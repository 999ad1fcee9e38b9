/* leak_check: create and free many contexts, each running every pass, so
 * that `make test-leaks` (valgrind) sees any host block the library loses;
 * and check that every OpenCL object the library makes on a caller's
 * context is released: after clconv_free, the reference counts of that
 * cl_context and queue are back where they were (PoCL counts each buffer,
 * program and queue made on a context in the context's count; kernels hold
 * their program, so a leaked kernel shows there too).
 *
 *   leak_check [count]     count contexts (default 1000): even ones from
 *                          clconv_create, odd ones wrapping the caller's
 *                          own context with clconv_create_from.
 * CLCONV_LEAK_INJECT=i skips the clconv_free of context i on purpose, so
 * the checks can be seen to fail (never set in CI): an even i leaks only
 * host memory (valgrind's check), an odd i also the caller's cl_context
 * references (this program's check).  Exit status 0 when every call
 * succeeded and the counts balance. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "clconv.h"

static int failures;

static void check(int ok, const char *what, int i)
{
    if (!ok && failures++ < 10)
        fprintf(stderr, "leak_check: context %d: %s\n", i, what);
}

/* Every public call that allocates: the host calls (device buffers made
 * and released per call), the device calls with an event, both
 * multi-kernel algorithms (workspace, every program), a refused call. */
static void run_passes(clconv_ctx *c, int i)
{
    clconv_desc d;
    clconv_desc_init(&d, 1, 2, 5, 5, 3, 3, 3);
    d.stride_h = 2;
    d.pad_w = 1;
    float x[50], w[54], y[3 * 2 * 5], dx[50], dw[54], db[3], up[3 * 7 * 7];
    for (int j = 0; j < 54; j++)
        w[j] = (float)(j % 7) - 3.0f;
    for (int j = 0; j < 50; j++)
        x[j] = (float)(j % 5) - 2.0f;
    static const clconv_algo algos[] = {CLCONV_ALGO_EXPLICIT, CLCONV_ALGO_DIRECT, CLCONV_ALGO_AUTO};
    for (int a = 0; a < 3; a++) {
        check(clconv_forward_host(c, &d, algos[a], x, w, y) == CLCONV_OK, "forward", i);
        check(clconv_backward_data_host(c, &d, algos[a], y, w, dx, 0) == CLCONV_OK, "bwd data", i);
        check(clconv_backward_filter_host(c, &d, algos[a], x, y, dw, a & 1) == CLCONV_OK,
              "bwd filter", i);
    }
    check(clconv_backward_bias_host(c, &d, y, db, 0) == CLCONV_OK, "bias", i);
    cl_int err;
    cl_mem ybuf = clCreateBuffer(clconv_cl_context(c), CL_MEM_COPY_HOST_PTR, sizeof y, y, &err);
    cl_mem ubuf = clCreateBuffer(clconv_cl_context(c), CL_MEM_READ_WRITE, sizeof up, NULL, &err);
    cl_event ev = NULL;
    check(clconv_upsample_pad(c, &d, ybuf, 0, ubuf, 0, &ev) == CLCONV_OK, "upsample_pad", i);
    check(clWaitForEvents(1, &ev) == CL_SUCCESS, "event", i);
    clReleaseEvent(ev);
    d.stride_w = 0;
    check(clconv_forward(c, &d, CLCONV_ALGO_AUTO, ybuf, 0, ybuf, 0, ubuf, 0, NULL) ==
              CLCONV_BAD_STRIDE, "refused call", i);
    clReleaseMemObject(ybuf);
    clReleaseMemObject(ubuf);
}

typedef struct caller {
    cl_context context;
    cl_device_id device;
    cl_command_queue queue;
} caller;

static cl_uint refs(const caller *k, int queue)
{
    cl_uint r = 0;
    if (queue)
        clGetCommandQueueInfo(k->queue, CL_QUEUE_REFERENCE_COUNT, sizeof r, &r, NULL);
    else
        clGetContextInfo(k->context, CL_CONTEXT_REFERENCE_COUNT, sizeof r, &r, NULL);
    return r;
}

/* PoCL drops its own transient references (events still being retired by
 * its worker threads hold the queue) a moment after the commands finish:
 * wait for the count to settle before calling it a leak. */
static int refs_back_to(const caller *k, int queue, cl_uint base)
{
    clFinish(k->queue);
    for (int t = 0; t < 200; t++) {
        if (refs(k, queue) == base)
            return 1;
        nanosleep(&(struct timespec){0, 1000000}, NULL);
    }
    return 0;
}

static int caller_open(caller *k)
{
    clconv_ctx *c;
    if (clconv_create(&c) != CLCONV_OK)
        return -1;
    k->context = clconv_cl_context(c);
    k->device = clconv_cl_device(c);
    k->queue = clconv_cl_queue(c);
    clRetainContext(k->context);
    clRetainCommandQueue(k->queue);
    clconv_free(c);
    return 0;
}

int main(int argc, char **argv)
{
    const long count = argc > 1 ? strtol(argv[1], NULL, 10) : 1000;
    const char *inject_env = getenv("CLCONV_LEAK_INJECT");
    const long inject = inject_env ? strtol(inject_env, NULL, 10) : -1;
    caller k;
    if (caller_open(&k) != 0) {
        fprintf(stderr, "leak_check: no OpenCL device\n");
        return 2;
    }
    const cl_uint ctx_refs = refs(&k, 0), queue_refs = refs(&k, 1);
    for (long i = 0; i < count; i++) {
        clconv_ctx *c = NULL;
        clconv_status st = i & 1 ? clconv_create_from(k.context, k.device, k.queue, &c)
                                 : clconv_create(&c);
        check(st == CLCONV_OK, "create", (int)i);
        if (!c)
            continue;
        run_passes(c, (int)i);
        if (i != inject)
            clconv_free(c);
        check(refs_back_to(&k, 0, ctx_refs), "cl_context reference count grew", (int)i);
        check(refs_back_to(&k, 1, queue_refs), "queue reference count grew", (int)i);
    }
    clReleaseCommandQueue(k.queue);
    clReleaseContext(k.context);
    printf("leak_check: %ld contexts, %d failures\n", count, failures);
    return failures ? 1 : 0;
}
