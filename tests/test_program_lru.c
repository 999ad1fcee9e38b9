/* The context's program cache evicts the least recently used program when
 * it is full (0.1.0 dropped every program at once, so a working set one
 * larger than the cache rebuilt everything on every call).  The cap is
 * lowered through internal.h so that a handful of builds fill it. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include "internal.h"
#include "util.h"

/* The bias kernel built with a distinct harmless option per tag. */
static cl_kernel kernel_tagged(clconv_ctx *ctx, int tag)
{
    char opts[64];
    snprintf(opts, sizeof opts, "-DBIAS_WG=64 -DCLCONV_LRU_TAG=%d", tag);
    cl_kernel k = NULL;
    cr_assert_eq(ctx_kernel(ctx, "bias", opts, "bwd_bias", &k), CLCONV_OK, "%s",
                 clconv_last_error(ctx));
    return k;
}

static int holds(const clconv_ctx *ctx, int tag)
{
    char want[64];
    snprintf(want, sizeof want, "-DBIAS_WG=64 -DCLCONV_LRU_TAG=%d", tag);
    for (int i = 0; i < ctx->nprograms; i++)
        if (ctx->programs[i].program && !strcmp(ctx->programs[i].options, want))
            return 1;
    return 0;
}

Test(program_lru, the_least_recently_used_program_goes_first)
{
    clconv_ctx *ctx = test_ctx();
    ctx->max_programs = 3;
    kernel_tagged(ctx, 1);
    kernel_tagged(ctx, 2);
    kernel_tagged(ctx, 3);
    cr_expect_eq(ctx->nprograms, 3);
    kernel_tagged(ctx, 1);        /* 2 is now the least recently used */
    kernel_tagged(ctx, 4);
    cr_expect_eq(ctx->nprograms, 3, "the cache stays at its cap");
    cr_expect(holds(ctx, 1) && holds(ctx, 3) && holds(ctx, 4), "1, 3 and 4 kept");
    cr_expect(!holds(ctx, 2), "2 evicted");
    kernel_tagged(ctx, 5);        /* then 3 */
    cr_expect(holds(ctx, 1) && holds(ctx, 4) && holds(ctx, 5) && !holds(ctx, 3));
    /* the library still runs passes with a full cache */
    clconv_desc d;
    clconv_desc_init(&d, 1, 2, 5, 5, 3, 3, 3);
    float x[50], w[54], y[27], dy[27], dx[50];
    test_rng r = test_rng_seed(9);
    test_fill_int(&r, x, 50, -2, 2);
    test_fill_int(&r, w, 54, -2, 2);
    test_fill_int(&r, dy, 27, -2, 2);
    for (int rep = 0; rep < 2; rep++)
        for (int a = CLCONV_ALGO_AUTO; a < CLCONV_ALGO_COUNT_; a++) {
            cr_expect_eq(clconv_forward_host(ctx, &d, (clconv_algo)a, x, w, y), CLCONV_OK);
            cr_expect_eq(clconv_backward_data_host(ctx, &d, (clconv_algo)a, dy, w, dx, 0),
                         CLCONV_OK);
        }
    cr_expect_leq(ctx->nprograms, 3);
    clconv_free(ctx);
}
