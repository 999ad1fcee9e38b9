/* Device selectors (issue 12, item 8): "P:D" indices are parsed without
 * wrapping and refused when out of range or malformed, and surrounding
 * spaces and tabs never change what a selector picks.  Written against
 * whatever devices the suite runs on (PoCL in CI, where 0:0 is the CPU):
 * expectations come from the selector's trimmed form, not from names. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "util.h"

/* NULL is a selector too (CLCONV_DEVICE, then the default). */
static const char *label(const char *sel) { return sel ? sel : "NULL"; }

/* The device a selector picks, or NULL with *st set; the context is freed
 * at once (device ids stay valid: they are the platform's root devices). */
static cl_device_id pick(const char *sel, clconv_status *st)
{
    clconv_ctx *ctx = (clconv_ctx *)&ctx; /* junk: must become NULL on error */
    *st = clconv_create_with(sel, &ctx);
    if (*st != CLCONV_OK) {
        cr_expect_null(ctx, "\"%s\": *out must be NULL on error", label(sel));
        return NULL;
    }
    cl_device_id dev = clconv_cl_device(ctx);
    clconv_free(ctx);
    return dev;
}

static void expect_not_found(const char *sel)
{
    clconv_status st;
    pick(sel, &st);
    cr_expect_eq(st, CLCONV_DEVICE_NOT_FOUND, "\"%s\": %s", label(sel), clconv_status_name(st));
}

/* padded must pick exactly what plain picks (both failing counts too). */
static void expect_same_as(const char *padded, const char *plain)
{
    clconv_status want_st, st;
    cl_device_id want = pick(plain, &want_st), got = pick(padded, &st);
    cr_expect_eq(st, want_st, "\"%s\": %s, \"%s\": %s", padded, clconv_status_name(st), plain,
                 clconv_status_name(want_st));
    cr_expect_eq(got, want, "\"%s\" and \"%s\" pick different devices", padded, plain);
}

/* 2^32 and 2^64 wrapped to 0 in a 32-bit parse and picked 0:0. */
Test(selector, out_of_range_indices_are_refused)
{
    expect_not_found("4294967296:0");
    expect_not_found("18446744073709551616:0");
    expect_not_found("0:4294967296");
    expect_not_found("0:18446744073709551616");
    expect_not_found("99:99");
}

Test(selector, malformed_indices_are_refused)
{
    const char *bad[] = {"0:0x", "-1:0", "0:-1", "+0:0", "0:", ":0", ":", "0::0", "0:0:0",
                         "0 : 0", " 0 : 0 "};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        expect_not_found(bad[i]);
}

Test(selector, blanks_around_an_index_are_ignored)
{
    clconv_status st;
    cr_assert_not_null(pick("0:0", &st), "\"0:0\": %s", clconv_status_name(st));
    expect_same_as(" 0:0 ", "0:0");
    expect_same_as("\t0:0\t", "0:0");
    expect_same_as("00:000", "0:0");
}

/* The type of device 0:0 always exists, so one padded type selector must
 * succeed everywhere (on PoCL: "cpu\t"). */
static const char *type_word(cl_device_id dev)
{
    cl_device_type type = 0;
    cr_assert_eq(clGetDeviceInfo(dev, CL_DEVICE_TYPE, sizeof type, &type, NULL), CL_SUCCESS);
    return type & CL_DEVICE_TYPE_GPU ? "gpu" : type & CL_DEVICE_TYPE_CPU ? "cpu" : "accelerator";
}

Test(selector, blanks_around_a_type_are_ignored)
{
    expect_same_as(" gpu ", "gpu");
    expect_same_as("cpu\t", "cpu");
    expect_same_as("\taccelerator ", "accelerator");
    clconv_status st;
    const char *word = type_word(pick("0:0", &st));
    char padded[32];
    snprintf(padded, sizeof padded, "%s\t", word);
    cr_expect_not_null(pick(padded, &st), "\"%s\": %s", padded, clconv_status_name(st));
}

Test(selector, blanks_around_a_name_are_ignored)
{
    expect_same_as(" pocl ", "pocl");
    expect_same_as("\tpocl\t", "pocl");
    clconv_status st;
    if (pick("pocl", &st)) /* the CI platform: the padded name must find it */
        cr_expect_not_null(pick("\tPoCL ", &st), "\"\\tPoCL \": %s", clconv_status_name(st));
}

/* All blanks is no selector: CLCONV_DEVICE, then the default device. */
Test(selector, an_all_blank_selector_is_the_default)
{
    clconv_status st;
    unsetenv("CLCONV_DEVICE");
    cl_device_id dflt = pick("", &st);
    cr_assert_not_null(dflt, "default: %s", clconv_status_name(st));
    cr_expect_eq(pick(" \t ", &st), dflt, "blank selector: %s", clconv_status_name(st));
    setenv("CLCONV_DEVICE", " \t", 1);
    cr_expect_eq(pick(NULL, &st), dflt, "blank CLCONV_DEVICE: %s", clconv_status_name(st));
}

/* CLCONV_DEVICE is trimmed and range-checked like an explicit selector
 * (each test runs in its own process, so changing the environment is safe). */
Test(selector, clconv_device_is_trimmed_and_checked)
{
    clconv_status st;
    cl_device_id first = pick("0:0", &st);
    cr_assert_not_null(first);
    setenv("CLCONV_DEVICE", " 0:0\t", 1);
    cr_expect_eq(pick(NULL, &st), first, "CLCONV_DEVICE=\" 0:0\\t\": %s", clconv_status_name(st));
    cr_expect_eq(pick(" ", &st), first, "a blank selector reads CLCONV_DEVICE");
    setenv("CLCONV_DEVICE", "4294967296:0", 1);
    expect_not_found(NULL);
}
