/* Diagnostics (host/log.c): the log callback gets every failure with its
 * status and OpenCL code (and the build log of a failed build), and, at
 * CLCONV_LOG_CALL, each call as the clconv-bench line that reproduces it;
 * clconv_desc_string prints benchdnn's syntax; CLCONV_LOG without a
 * callback writes to stderr, and nothing else ever does.
 *
 * A real build failure goes through program_build_text (internal.h), the
 * builder every kernel uses, with a deliberately broken source. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "internal.h"
#include "util.h"

/* ---- what the callback saw ---- */

#define MAX_LINES 64

typedef struct capture {
    int count;
    int level[MAX_LINES];
    char line[MAX_LINES][1024];
} capture;

static void on_log(void *user, int level, const char *msg)
{
    capture *c = user;
    if (c->count < MAX_LINES) {
        c->level[c->count] = level;
        snprintf(c->line[c->count], sizeof c->line[0], "%s", msg);
    }
    c->count++;
}

/* Index of the first line at `level` containing `text`, or -1. */
static int find_line(const capture *c, int level, const char *text)
{
    for (int i = 0; i < c->count && i < MAX_LINES; i++)
        if (c->level[i] == level && strstr(c->line[i], text))
            return i;
    return -1;
}

static clconv_ctx *quiet_ctx(void)
{
    unsetenv("CLCONV_LOG");
    return test_ctx();
}

/* The layer of the brief's example line. */
static clconv_desc example_desc(void)
{
    clconv_desc d;
    clconv_desc_init(&d, 2, 3, 5, 5, 4, 3, 3);
    d.stride_h = d.stride_w = 2;
    d.pad_h = d.pad_w = 1;
    return d;
}

/* ---- clconv_desc_string ---- */

Test(diagnostics, desc_string_is_benchdnn_syntax)
{
    clconv_desc d = example_desc();
    char buf[CLCONV_DESC_STRING_MAX];
    cr_assert_eq(clconv_desc_string(&d, buf, sizeof buf), CLCONV_OK);
    cr_expect_str_eq(buf, "mb2g1ic3ih5iw5oc4kh3kw3sh2sw2ph1pw1dh0dw0");
    d.dilation_h = 3; /* 0-based in benchdnn */
    d.groups = 3;
    d.k = 6;
    d.w = 7;
    cr_assert_eq(clconv_desc_string(&d, buf, sizeof buf), CLCONV_OK);
    cr_expect_str_eq(buf, "mb2g3ic3ih5iw7oc6kh3kw3sh2sw2ph1pw1dh2dw0");
}

/* Unequal padding is stated as benchdnn does, by the output it gives
 * (tools/bench parses the string back to the same descriptor), so find's
 * records, keyed by this string, tell it from the equal padding; the 0.3
 * fields are read only when struct_size covers them. */
Test(diagnostics, desc_string_states_the_output_of_unequal_padding)
{
    clconv_desc d = example_desc();
    d.pad_asymmetric = 1;
    d.pad_h_end = 2; /* rows (5 + 1 + 2 - 3) / 2 + 1 = 3, columns (5 + 1 + 0 - 3) / 2 + 1 = 2 */
    char buf[CLCONV_DESC_STRING_MAX];
    cr_assert_eq(clconv_desc_string(&d, buf, sizeof buf), CLCONV_OK);
    cr_expect_str_eq(buf, "mb2g1ic3ih5iw5oc4oh3ow2kh3kw3sh2sw2ph1pw1dh0dw0");
    d.pad_h_end = d.pad_h;
    d.pad_w_end = d.pad_w; /* unequal in name only */
    cr_assert_eq(clconv_desc_string(&d, buf, sizeof buf), CLCONV_OK);
    cr_expect_str_eq(buf, "mb2g1ic3ih5iw5oc4kh3kw3sh2sw2ph1pw1dh0dw0");
    d.pad_h_end = 2;
    d.struct_size = CLCONV_DESC_SIZE_0_2; /* a 0.2 caller: the fields past it are not its */
    cr_assert_eq(clconv_desc_string(&d, buf, sizeof buf), CLCONV_OK);
    cr_expect_str_eq(buf, "mb2g1ic3ih5iw5oc4kh3kw3sh2sw2ph1pw1dh0dw0");
    /* an output that cannot be computed (no stride) is left out, not divided by */
    d.struct_size = (int64_t)sizeof d;
    d.stride_w = 0;
    cr_assert_eq(clconv_desc_string(&d, buf, sizeof buf), CLCONV_OK);
    cr_expect_str_eq(buf, "mb2g1ic3ih5iw5oc4kh3kw3sh2sw0ph1pw1dh0dw0");
}

Test(diagnostics, desc_string_prints_any_descriptor_and_fits_the_max)
{
    clconv_desc d;
    clconv_desc_init(&d, INT64_MAX, INT64_MIN, INT64_MIN, INT64_MIN, INT64_MIN, INT64_MIN,
                     INT64_MIN);
    d.stride_h = d.stride_w = d.pad_h = d.pad_w = d.groups = INT64_MIN;
    d.dilation_h = d.dilation_w = INT64_MIN;
    char buf[CLCONV_DESC_STRING_MAX];
    cr_assert_eq(clconv_desc_string(&d, buf, sizeof buf), CLCONV_OK, "longest descriptor");
    cr_expect(strstr(buf, "mb9223372036854775807g-9223372036854775808") == buf, "%s", buf);
    d.pad_h = -1;
    d.dilation_w = 0;
    cr_assert_eq(clconv_desc_string(&d, buf, sizeof buf), CLCONV_OK);
    cr_expect(strstr(buf, "ph-1") && strstr(buf, "dw-1"), "%s", buf);
}

Test(diagnostics, desc_string_refuses_null_and_truncates_small_buffers)
{
    clconv_desc d = example_desc();
    char buf[8];
    memset(buf, 'x', sizeof buf);
    cr_expect_eq(clconv_desc_string(&d, buf, sizeof buf), CLCONV_BUFFER_TOO_SMALL);
    cr_expect_str_eq(buf, "mb2g1ic");
    cr_expect_eq(clconv_desc_string(&d, buf, 0), CLCONV_BUFFER_TOO_SMALL);
    cr_expect_eq(clconv_desc_string(NULL, buf, sizeof buf), CLCONV_NULL_ARGUMENT);
    cr_expect_eq(clconv_desc_string(&d, NULL, 10), CLCONV_NULL_ARGUMENT);
}

/* ---- the callback ---- */

Test(diagnostics, setters_refuse_a_null_context)
{
    cr_expect_eq(clconv_set_log(NULL, on_log, NULL), CLCONV_NULL_ARGUMENT);
    cr_expect_eq(clconv_set_log_level(NULL, CLCONV_LOG_CALL), CLCONV_NULL_ARGUMENT);
}

Test(diagnostics, failures_reach_the_callback_with_status_and_message)
{
    clconv_ctx *ctx = quiet_ctx();
    capture c = {0};
    cr_assert_eq(clconv_set_log(ctx, on_log, &c), CLCONV_OK);
    clconv_desc d = example_desc();
    cl_mem w = test_buffer(ctx, test_w_elems(&d)), y = test_buffer(ctx, test_y_elems(&d));
    cr_assert_eq(clconv_forward(ctx, &d, CLCONV_ALGO_DIRECT, NULL, 0, w, 0, y, 0, NULL),
                 CLCONV_NULL_ARGUMENT);
    cr_expect_eq(c.count, 1, "default level: one line per failure, no call lines (%d)", c.count);
    int i = find_line(&c, CLCONV_LOG_ERROR, "CLCONV_NULL_ARGUMENT (OpenCL 0): ");
    cr_expect_geq(i, 0, "got: %s", c.count ? c.line[0] : "(nothing)");
    if (i >= 0)
        cr_expect(strstr(c.line[i], clconv_last_error(ctx)), "message: %s", c.line[i]);
    d.pad_h = -1;
    cr_expect_eq(clconv_forward(ctx, &d, CLCONV_ALGO_DIRECT, y, 0, w, 0, y, 0, NULL),
                 CLCONV_BAD_PADDING);
    cr_expect_geq(find_line(&c, CLCONV_LOG_ERROR, "CLCONV_BAD_PADDING"), 0);
    clReleaseMemObject(w);
    clReleaseMemObject(y);
    clconv_free(ctx);
}

Test(diagnostics, level_off_silences_even_failures)
{
    clconv_ctx *ctx = quiet_ctx();
    capture c = {0};
    clconv_set_log(ctx, on_log, &c);
    cr_assert_eq(clconv_set_log_level(ctx, CLCONV_LOG_OFF), CLCONV_OK);
    clconv_desc d = example_desc();
    cr_expect_eq(clconv_backward_bias(ctx, &d, NULL, 0, NULL, 0, 0, NULL), CLCONV_NULL_ARGUMENT);
    cr_expect_eq(c.count, 0);
    clconv_set_log(ctx, NULL, NULL); /* removed: nothing is called */
    clconv_set_log_level(ctx, CLCONV_LOG_DEBUG);
    cr_expect_eq(clconv_backward_bias(ctx, &d, NULL, 0, NULL, 0, 0, NULL), CLCONV_NULL_ARGUMENT);
    cr_expect_eq(c.count, 0);
    clconv_free(ctx);
}

/* Run every public device call once at CLCONV_LOG_CALL. */
Test(diagnostics, each_call_is_logged_as_the_bench_line_that_reproduces_it)
{
    clconv_ctx *ctx = quiet_ctx();
    capture c = {0};
    clconv_set_log(ctx, on_log, &c);
    clconv_set_log_level(ctx, CLCONV_LOG_CALL);
    clconv_desc d = example_desc();
    const char *ds = "mb2g1ic3ih5iw5oc4kh3kw3sh2sw2ph1pw1dh0dw0";
    int64_t hu, wu;
    cr_assert_eq(clconv_upsample_pad_size(&d, &hu, &wu), CLCONV_OK);
    cl_mem x = test_buffer(ctx, test_x_elems(&d)), w = test_buffer(ctx, test_w_elems(&d));
    cl_mem y = test_buffer(ctx, test_y_elems(&d)), u = test_buffer(ctx, (size_t)(2 * 4 * hu * wu));
    cr_assert_eq(clconv_backward_data(ctx, &d, CLCONV_ALGO_DIRECT, y, 0, w, 0, x, 0, 0, NULL),
                 CLCONV_OK);
    cr_assert_eq(clconv_forward(ctx, &d, CLCONV_ALGO_AUTO, x, 0, w, 0, y, 0, NULL), CLCONV_OK);
    cr_assert_eq(clconv_backward_filter(ctx, &d, CLCONV_ALGO_EXPLICIT, x, 0, y, 0, w, 0, 1, NULL),
                 CLCONV_OK);
    cr_assert_eq(clconv_backward_bias(ctx, &d, y, 0, w, 0, 0, NULL), CLCONV_OK);
    cr_assert_eq(clconv_upsample_pad(ctx, &d, y, 0, u, 0, NULL), CLCONV_OK);
    cr_assert_eq(clconv_flip_filter(ctx, &d, w, 0, u, 0, NULL), CLCONV_OK);
    cr_assert_eq(clconv_finish(ctx), CLCONV_OK);
    char want[6][256];
    snprintf(want[0], 256, "clconv-bench --dir=bwd_d --algo=direct %s", ds); /* the brief's line */
    snprintf(want[1], 256, "clconv-bench --dir=fwd --algo=auto %s", ds);
    snprintf(want[2], 256, "clconv-bench --dir=bwd_w --algo=explicit %s # accumulate=1", ds);
    snprintf(want[3], 256, "clconv-bench --dir=bwd_b %s", ds);
    snprintf(want[4], 256, "clconv_upsample_pad %s", ds);
    snprintf(want[5], 256, "clconv_flip_filter %s", ds);
    cr_assert_eq(c.count, 6, "one line per call, got %d", c.count);
    for (int i = 0; i < 6; i++) {
        cr_expect_eq(c.level[i], CLCONV_LOG_CALL);
        cr_expect_str_eq(c.line[i], want[i]);
    }
    /* a failing call: its line first (it is logged on entry), then the failure */
    c.count = 0;
    cr_expect_eq(clconv_forward(ctx, &d, CLCONV_ALGO_DIRECT, x, 1u << 30, w, 0, y, 0, NULL),
                 CLCONV_BUFFER_TOO_SMALL);
    cr_expect(c.count == 2 && c.level[0] == CLCONV_LOG_CALL && c.level[1] == CLCONV_LOG_ERROR &&
                  strstr(c.line[1], "CLCONV_BUFFER_TOO_SMALL"),
              "%d lines: %s / %s", c.count, c.line[0], c.line[1]);
    c.count = 0;
    cr_expect_eq(clconv_forward(ctx, NULL, CLCONV_ALGO_DIRECT, x, 0, w, 0, y, 0, NULL),
                 CLCONV_NULL_ARGUMENT);
    cr_expect_str_eq(c.line[0], "clconv-bench --dir=fwd --algo=direct # NULL descriptor");
    clReleaseMemObject(x);
    clReleaseMemObject(w);
    clReleaseMemObject(y);
    clReleaseMemObject(u);
    clconv_free(ctx);
}

Test(diagnostics, build_failure_carries_the_opencl_code_and_the_build_log)
{
    char dir[64];
    snprintf(dir, sizeof dir, "/tmp/clconv-diag-test-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    setenv("CLCONV_CACHE", "1", 1); /* saving on PoCL too: nothing of a failed build */
    setenv("CLCONV_CACHE_DIR", dir, 1);
    clconv_ctx *ctx = quiet_ctx();
    capture c = {0};
    clconv_set_log(ctx, on_log, &c);
    static const char broken[] =
        "__kernel void broken(__global float *a) { a[0] = undefined_thing_42; }\n";
    cl_program p = NULL;
    clconv_status st = program_build_text(ctx, "broken", broken, strlen(broken), "", &p);
    cr_assert_eq(st, CLCONV_BUILD_FAILED, "%s", clconv_status_name(st));
    cr_expect_null(p);
    cr_expect_eq(clconv_last_cl_error(ctx), CL_BUILD_PROGRAM_FAILURE);
    cr_expect(strstr(clconv_build_log(ctx), "undefined_thing_42"), "build log: %s",
              clconv_build_log(ctx));
    cr_expect(strstr(clconv_last_error(ctx), "broken"), "%s", clconv_last_error(ctx));
    int i = find_line(&c, CLCONV_LOG_ERROR, "CLCONV_BUILD_FAILED (OpenCL -11)");
    cr_expect_geq(i, 0, "no failure line");
    if (i >= 0)
        cr_expect(strstr(c.line[i], "build log:") && strstr(c.line[i], "undefined_thing_42"),
                  "%s", c.line[i]);
    cr_expect_eq(ctx->cache_stats.stored, 0, "a failed build was cached");
    cr_expect_eq(rmdir(dir), 0, "%s is not empty: something was cached", dir);
    free(ctx->cache_dir); /* cache off for the rest: nothing left in /tmp */
    ctx->cache_dir = NULL;
    /* the context still works, and the build log stays for the caller */
    clconv_desc d = example_desc();
    float wv[4 * 3 * 3 * 3], wf[4 * 3 * 3 * 3];
    for (size_t k = 0; k < sizeof wv / sizeof wv[0]; k++)
        wv[k] = (float)k;
    cl_mem w = test_buffer_from(ctx, wv, sizeof wv / sizeof wv[0]);
    cl_mem f = test_buffer(ctx, sizeof wv / sizeof wv[0]);
    cr_expect_eq(clconv_flip_filter(ctx, &d, w, 0, f, 0, NULL), CLCONV_OK);
    test_download(ctx, f, 0, wf, sizeof wf / sizeof wf[0]);
    cr_expect_eq(wf[0], wv[8], "flip after a failed build"); /* wf[0][0][0][0] = w[0][0][2][2] */
    clReleaseMemObject(w);
    clReleaseMemObject(f);
    clconv_free(ctx);
}

/* ---- stderr: only with CLCONV_LOG set and no callback ---- */

typedef struct stderr_capture {
    int saved;
    FILE *file;
} stderr_capture;

static stderr_capture stderr_begin(void)
{
    stderr_capture s;
    fflush(stderr);
    s.file = tmpfile();
    cr_assert_not_null(s.file);
    s.saved = dup(2);
    cr_assert(s.saved >= 0 && dup2(fileno(s.file), 2) == 2);
    return s;
}

/* Restore stderr; what was written to it (malloc'd). */
static char *stderr_end(stderr_capture s)
{
    fflush(stderr);
    dup2(s.saved, 2);
    close(s.saved);
    long n = ftell(s.file);
    char *text = calloc((size_t)(n > 0 ? n : 0) + 1, 1);
    cr_assert_not_null(text);
    rewind(s.file);
    if (n > 0)
        cr_assert_eq(fread(text, 1, (size_t)n, s.file), (size_t)n);
    fclose(s.file);
    return text;
}

/* Failing and succeeding calls that any sink would report. */
static void noisy_calls(clconv_ctx *ctx)
{
    clconv_desc d = example_desc();
    float w[4 * 3 * 3 * 3] = {0}, wf[4 * 3 * 3 * 3];
    cl_mem bw = test_buffer_from(ctx, w, 108), bf = test_buffer(ctx, 108);
    clconv_flip_filter(ctx, &d, bw, 0, bf, 0, NULL);
    clconv_flip_filter(ctx, &d, bw, 1, bf, 0, NULL); /* BUFFER_TOO_SMALL */
    clconv_forward(ctx, NULL, CLCONV_ALGO_AUTO, bw, 0, bw, 0, bw, 0, NULL);
    d.groups = 5;
    clconv_backward_bias(ctx, &d, bw, 0, bf, 0, 0, NULL); /* BAD_GROUPS */
    test_download(ctx, bf, 0, wf, 108);
    clReleaseMemObject(bw);
    clReleaseMemObject(bf);
}

Test(diagnostics, nothing_reaches_stderr_without_clconv_log)
{
    unsetenv("CLCONV_LOG");
    stderr_capture s = stderr_begin();
    clconv_ctx *ctx = NULL;
    clconv_status st = clconv_create(&ctx);
    if (st == CLCONV_OK) {
        clconv_set_log_level(ctx, CLCONV_LOG_DEBUG); /* a level, but no sink */
        noisy_calls(ctx);
    }
    clconv_ctx *none = NULL;
    clconv_status st2 = clconv_create_with("no-such-device-clconv-test", &none);
    char *text = stderr_end(s);
    cr_assert_eq(st, CLCONV_OK);
    cr_expect_eq(st2, CLCONV_DEVICE_NOT_FOUND);
    cr_expect_str_eq(text, "", "the library printed: %s", text);
    free(text);
    clconv_free(ctx);
}

Test(diagnostics, clconv_log_without_a_callback_writes_stderr)
{
    setenv("CLCONV_LOG", "1", 1);
    stderr_capture s = stderr_begin();
    clconv_ctx *ctx = NULL;
    clconv_status st = clconv_create(&ctx);
    if (st == CLCONV_OK)
        noisy_calls(ctx);
    clconv_ctx *none = NULL;
    clconv_create_with("no-such-device-clconv-test", &none);
    char *text = stderr_end(s);
    cr_assert_eq(st, CLCONV_OK);
    const char *want[] = {
        "clconv: clconv_flip_filter mb2g1ic3ih5iw5oc4kh3kw3sh2sw2ph1pw1dh0dw0\n",
        "clconv: CLCONV_BUFFER_TOO_SMALL (OpenCL 0): ",
        "clconv: clconv-bench --dir=fwd --algo=auto # NULL descriptor\n",
        "clconv: CLCONV_NULL_ARGUMENT (OpenCL 0): ",
        "clconv: clconv-bench --dir=bwd_b mb2g5ic3ih5iw5oc4kh3kw3sh2sw2ph1pw1dh0dw0\n",
        "clconv: CLCONV_BAD_GROUPS (OpenCL 0): ",
        "clconv: clconv_create: CLCONV_DEVICE_NOT_FOUND",
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        cr_expect(strstr(text, want[i]), "missing \"%s\" in:\n%s", want[i], text);
    free(text);
    clconv_free(ctx);
}

Test(diagnostics, a_callback_takes_the_lines_instead_of_stderr)
{
    setenv("CLCONV_LOG", "2", 1);
    setenv("CLCONV_CACHE", "0", 1); /* so that a program is built, at debug level */
    clconv_ctx *ctx = test_ctx();
    capture c = {0};
    clconv_set_log(ctx, on_log, &c);
    stderr_capture s = stderr_begin();
    noisy_calls(ctx);
    char *text = stderr_end(s);
    cr_expect_str_eq(text, "", "printed despite the callback: %s", text);
    cr_expect_geq(find_line(&c, CLCONV_LOG_DEBUG, "built kernels/flip_filter.cl"), 0,
                  "CLCONV_LOG=2 gives debug lines");
    cr_expect_geq(find_line(&c, CLCONV_LOG_CALL, "clconv_flip_filter mb2"), 0);
    cr_expect_geq(find_line(&c, CLCONV_LOG_ERROR, "CLCONV_BAD_GROUPS"), 0);
    free(text);
    clconv_free(ctx);
}
