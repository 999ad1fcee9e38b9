/* The implementation list (issue 7, architecture): each algorithm says
 * whether it can run a call on this device before anything is enqueued.
 * A named algorithm that cannot gets the refusal as its status; AUTO falls
 * through to the next implementation, logs why (CLCONV_LOG_CALL), and
 * fails only when none can.  On 0.1.0 AUTO failed with DEVICE_LIMIT when
 * GEMM's backward-filter workspace did not fit, although DIRECT would run.
 * The device limit is lowered through internal.h, as test_memory_limits.c
 * does. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"
#include "util.h"

static clconv_desc deep_layer(void)
{
    clconv_desc d;
    clconv_desc_init(&d, 4, 64, 14, 14, 64, 3, 3);
    d.pad_h = d.pad_w = 1;
    return d;
}

typedef struct log_seen {
    int auto_refusals;
    char last[512];
} log_seen;

static void on_log(void *user, int level, const char *msg)
{
    log_seen *s = user;
    if (level == CLCONV_LOG_CALL && strstr(msg, "auto: gemm cannot run")) {
        s->auto_refusals++;
        snprintf(s->last, sizeof s->last, "%s", msg);
    }
}

Test(impl_list, auto_falls_through_a_refusal)
{
    clconv_ctx *ctx = test_ctx();
    clconv_desc d = deep_layer();
    size_t ws = 0;
    cr_assert_eq(clconv_workspace_size(ctx, &d, CLCONV_PASS_BACKWARD_FILTER, CLCONV_ALGO_GEMM, &ws),
                 CLCONV_OK);
    if (ws == 0) {
        clconv_free(ctx);
        cr_skip_test("GEMM backward-filter needs no workspace for this layer on this device");
    }
    size_t xe, we, ye;
    clconv_tensor_elems(&d, &xe, &we, &ye);
    test_rng rng = test_rng_seed(77);
    float *x = test_alloc(xe * sizeof(float)), *dy = test_alloc(ye * sizeof(float));
    float *dw = test_alloc(we * sizeof(float));
    double *xd = test_alloc(xe * sizeof(double)), *dyd = test_alloc(ye * sizeof(double));
    double *ref = test_alloc(we * sizeof(double));
    test_fill_int(&rng, x, xe, -2, 2);
    test_fill_int(&rng, dy, ye, -2, 2);
    test_to_double(x, xd, xe);
    test_to_double(dy, dyd, ye);
    cr_assert_eq(clconv_ref_backward_filter(&d, xd, dyd, ref), CLCONV_OK);
    cl_mem bx = test_buffer_from(ctx, x, xe), bdy = test_buffer_from(ctx, dy, ye);
    test_poison(dw, we);
    cl_mem bdw = test_buffer_from(ctx, dw, we);

    log_seen seen = {0};
    cr_assert_eq(clconv_set_log(ctx, on_log, &seen), CLCONV_OK);
    cr_assert_eq(clconv_set_log_level(ctx, CLCONV_LOG_CALL), CLCONV_OK);
    ctx->info.max_alloc = ws - 1; /* GEMM's split reduction no longer fits */

    clconv_status st = clconv_backward_filter(ctx, &d, CLCONV_ALGO_GEMM, bx, 0, bdy, 0, bdw, 0, 0,
                                              NULL);
    cr_expect_eq(st, CLCONV_DEVICE_LIMIT, "GEMM named: %s", clconv_status_name(st));
    cr_expect(strstr(clconv_last_error(ctx), "largest allocation") != NULL, "%s",
              clconv_last_error(ctx));
    size_t auto_ws = 1;
    cr_expect_eq(clconv_workspace_size(ctx, &d, CLCONV_PASS_BACKWARD_FILTER, CLCONV_ALGO_AUTO,
                                       &auto_ws),
                 CLCONV_OK);
    cr_expect_eq(auto_ws, 0, "AUTO's workspace is DIRECT's (none), not GEMM's");

    st = clconv_backward_filter(ctx, &d, CLCONV_ALGO_AUTO, bx, 0, bdy, 0, bdw, 0, 0, NULL);
    cr_assert_eq(st, CLCONV_OK, "AUTO: %s: %s", clconv_status_name(st), clconv_last_error(ctx));
    test_download(ctx, bdw, 0, dw, we);
    cr_expect(test_rel_err(dw, ref, we) <= TEST_TOL);
    cr_expect_eq(seen.auto_refusals, 1, "AUTO logged GEMM's refusal once");
    cr_expect(strstr(seen.last, "largest allocation") != NULL, "the log says why: %s", seen.last);

    clconv_set_log(ctx, NULL, NULL);
    clReleaseMemObject(bx);
    clReleaseMemObject(bdy);
    clReleaseMemObject(bdw);
    free(x), free(dy), free(dw), free(xd), free(dyd), free(ref);
    clconv_free(ctx);
}

/* EXPLICIT over the limit, named and through workspace_size: the query
 * still reports what it needs (for planning), the call refuses. */
Test(impl_list, a_named_algorithm_reports_its_need_and_refuses)
{
    clconv_ctx *ctx = test_ctx();
    clconv_desc d = deep_layer();
    d.stride_h = d.stride_w = 2;
    size_t need = 0;
    cr_assert_eq(clconv_workspace_size(ctx, &d, CLCONV_PASS_BACKWARD_DATA, CLCONV_ALGO_EXPLICIT,
                                       &need),
                 CLCONV_OK);
    cr_assert_gt(need, 0);
    ctx->info.max_alloc = need - 1;
    size_t again = 0;
    cr_expect_eq(clconv_workspace_size(ctx, &d, CLCONV_PASS_BACKWARD_DATA, CLCONV_ALGO_EXPLICIT,
                                       &again),
                 CLCONV_OK);
    cr_expect_eq(again, need);
    size_t xe, we, ye;
    clconv_tensor_elems(&d, &xe, &we, &ye);
    cl_mem bdy = test_buffer(ctx, ye), bw = test_buffer(ctx, we), bdx = test_buffer(ctx, xe);
    clconv_status st = clconv_backward_data(ctx, &d, CLCONV_ALGO_EXPLICIT, bdy, 0, bw, 0, bdx, 0, 0,
                                            NULL);
    cr_expect_eq(st, CLCONV_DEVICE_LIMIT, "%s", clconv_status_name(st));
    clReleaseMemObject(bdy);
    clReleaseMemObject(bw);
    clReleaseMemObject(bdx);
    clconv_free(ctx);
}
