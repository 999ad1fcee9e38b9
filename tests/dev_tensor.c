/* See dev_tensor.h. */
#include "dev_tensor.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static size_t total_of(const dev_tensor *t) { return DEV_OFF + t->n + DEV_GUARD; }

static void upload(clconv_ctx *ctx, const dev_tensor *t)
{
    const size_t es = clconv_dtype_size(t->dt);
    cr_assert_eq(clEnqueueWriteBuffer(clconv_cl_queue(ctx), t->m, CL_TRUE, 0, total_of(t) * es,
                                      t->store, 0, NULL, NULL), CL_SUCCESS);
}

void dev_tensor_make(clconv_ctx *ctx, dev_tensor *t, const int64_t dm[4], int cl, clconv_dtype dt,
                     test_rng *rng, double scale, int poison)
{
    memcpy(t->dm, dm, sizeof t->dm);
    t->cl = cl;
    t->dt = dt;
    t->n = (size_t)(dm[0] * dm[1] * dm[2] * dm[3]);
    const size_t es = clconv_dtype_size(dt), total = total_of(t);
    t->v = test_alloc(t->n * sizeof(double));
    t->store = test_alloc(total * es);
    /* NaN everywhere: the guards, and the tensor itself until filled */
    double *nan_v = test_alloc(total * sizeof(double));
    for (size_t i = 0; i < total; i++)
        nan_v[i] = NAN;
    const int64_t flat[4] = {1, 1, 1, (int64_t)total};
    test_pack(nan_v, flat, 0, dt, t->store);
    free(nan_v);
    cl_int err;
    t->m = clCreateBuffer(clconv_cl_context(ctx), CL_MEM_READ_WRITE, total * es, NULL, &err);
    cr_assert_not_null(t->m, "clCreateBuffer: %d", (int)err);
    float *f = test_alloc(t->n * sizeof(float));
    test_fill_random(rng, f, t->n);
    for (size_t i = 0; i < t->n; i++)
        t->v[i] = poison ? NAN : f[i] * scale;
    free(f);
    dev_tensor_set(ctx, t, t->v);
}

void dev_tensor_set(clconv_ctx *ctx, dev_tensor *t, const double *vals)
{
    if (vals != t->v)
        memcpy(t->v, vals, t->n * sizeof(double));
    test_pack(t->v, t->dm, t->cl, t->dt, t->store + DEV_OFF * clconv_dtype_size(t->dt));
    upload(ctx, t);
}

void dev_tensor_free(dev_tensor *t)
{
    free(t->v);
    free(t->store);
    if (t->m)
        clReleaseMemObject(t->m);
}

static unsigned char *read_back(clconv_ctx *ctx, const dev_tensor *t)
{
    const size_t bytes = total_of(t) * clconv_dtype_size(t->dt);
    unsigned char *back = test_alloc(bytes);
    cr_assert_eq(clEnqueueReadBuffer(clconv_cl_queue(ctx), t->m, CL_TRUE, 0, bytes, back, 0, NULL,
                                     NULL), CL_SUCCESS);
    return back;
}

int dev_tensor_untouched(clconv_ctx *ctx, const dev_tensor *t)
{
    unsigned char *back = read_back(ctx, t);
    const int same = !memcmp(back, t->store, total_of(t) * clconv_dtype_size(t->dt));
    free(back);
    return same;
}

dev_result dev_tensor_check(clconv_ctx *ctx, const dev_tensor *t, const double *ref)
{
    const size_t es = clconv_dtype_size(t->dt), after = (DEV_OFF + t->n) * es;
    unsigned char *back = read_back(ctx, t);
    dev_result r = {0, 1};
    r.guards_ok = !memcmp(back, t->store, DEV_OFF * es) &&
                  !memcmp(back + after, t->store + after, DEV_GUARD * es);
    double *out = test_alloc(t->n * sizeof(double)), num = 0, den = 0;
    test_unpack(back + DEV_OFF * es, t->dm, t->cl, t->dt, out);
    for (size_t i = 0; i < t->n && isfinite(r.err); i++) {
        if (!isfinite(out[i]))
            r.err = INFINITY;
        num += (out[i] - ref[i]) * (out[i] - ref[i]);
        den += ref[i] * ref[i];
    }
    if (isfinite(r.err))
        r.err = den > 0 ? sqrt(num / den) : sqrt(num);
    free(out);
    free(back);
    return r;
}

cl_event *dev_poison(cl_event *e)
{
    *e = (cl_event)(uintptr_t)1;
    return e;
}

void expect_refused(clconv_ctx *ctx, clconv_status st, clconv_status want, cl_event ev,
                    const dev_tensor *out, const char *what)
{
    cr_expect_eq(st, want, "%s: %s, expected %s", what, clconv_status_name(st),
                 clconv_status_name(want));
    cr_expect_null(ev, "%s: *event not NULL after a refusal", what);
    cr_expect(strlen(clconv_last_error(ctx)) > 0, "%s: no message", what);
    if (out)
        cr_expect(dev_tensor_untouched(ctx, out), "%s: the output was written", what);
}
