/* One tensor of a test on the device, for the calls feature_run does not
 * make (transposed convolution, activation backward): values drawn in
 * fp32 and rounded to the storage type (so the float64 reference sees
 * exactly what the device stores), packed channels-first or channels-last
 * (tests/feature_check.h's test_pack), DEV_OFF elements into its buffer
 * with DEV_GUARD NaN guard elements after it; a poisoned tensor (an
 * output the call must write) is NaN throughout. */
#ifndef CLCONV_DEV_TENSOR_H
#define CLCONV_DEV_TENSOR_H

#include "feature_check.h"

#define DEV_OFF 3
#define DEV_GUARD 16

typedef struct dev_tensor {
    int64_t dm[4];              /* dims, channels-first order */
    int cl;                     /* stored channels-last */
    clconv_dtype dt;
    size_t n;                   /* elements */
    double *v;                  /* the values as stored, channels-first */
    unsigned char *store;       /* host image of the whole buffer */
    cl_mem m;
} dev_tensor;

/* Random values in [-1, 1) scaled by `scale` (poison: NaN instead). */
void dev_tensor_make(clconv_ctx *ctx, dev_tensor *t, const int64_t dm[4], int cl, clconv_dtype dt,
                     test_rng *rng, double scale, int poison);
/* Replace the values by vals (rounded to the storage type; t->v gets the
 * rounded ones) and upload them. */
void dev_tensor_set(clconv_ctx *ctx, dev_tensor *t, const double *vals);
void dev_tensor_free(dev_tensor *t);

typedef struct dev_result {
    double err;                 /* relative L2 error; INFINITY if any value is not finite */
    int guards_ok;              /* everything outside the tensor kept its bits */
} dev_result;
/* Read the tensor back and compare it with ref (channels-first). */
dev_result dev_tensor_check(clconv_ctx *ctx, const dev_tensor *t, const double *ref);
/* 1 when the device buffer still holds exactly t->store (nothing written). */
int dev_tensor_untouched(clconv_ctx *ctx, const dev_tensor *t);

/* The event argument of a call, set to a non-NULL value a refusal must
 * clear. */
cl_event *dev_poison(cl_event *e);
/* Expect a refusal: status want, *event NULL, a message in the context,
 * and out (NULL: not checked) as it was. */
void expect_refused(clconv_ctx *ctx, clconv_status st, clconv_status want, cl_event ev,
                    const dev_tensor *out, const char *what);

#endif
