/* libFuzzer target: the bench tool's benchdnn descriptor parser and
 * formatter (tools/bench/desc_parse.c).  The input is the descriptor text
 * (up to its first NUL byte); the name and error buffers get capacities
 * derived from the input's length, allocated to exactly that size so that
 * ASan sees any write past them.  Checked:
 *   - the status is one of the three; the error text is NUL-terminated in
 *     its buffer, empty on success and present on failure;
 *   - a failed parse leaves *d untouched;
 *   - a parsed descriptor has every field in range, a non-empty output,
 *     and clconv_desc_check says OK or TOO_LARGE (never a field error);
 *   - the name is NUL-terminated within its capacity;
 *   - bench_format_desc follows snprintf's contract and its string parses
 *     back to the same descriptor and name, and so does the library's own
 *     clconv_desc_string. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "clconv.h"
#include "desc_parse.h"

static const char *input; /* for the report */

#define CHECK(cond)                                                                   \
    do {                                                                              \
        if (!(cond)) {                                                                \
            fprintf(stderr, "fuzz_desc_parse: invariant failed: %s (line %d)\n  input: \"%s\"\n", \
                    #cond, __LINE__, input);                                          \
            abort();                                                                  \
        }                                                                             \
    } while (0)

static int same_desc(const clconv_desc *a, const clconv_desc *b)
{
    return !memcmp(a, b, sizeof *a);
}

static void check_fields(const clconv_desc *d)
{
    CHECK(d->n >= 1 && d->c >= 1 && d->h >= 1 && d->w >= 1 && d->k >= 1 && d->r >= 1 &&
          d->s >= 1);
    CHECK(d->stride_h >= 1 && d->stride_w >= 1 && d->pad_h >= 0 && d->pad_w >= 0);
    CHECK(d->dilation_h >= 1 && d->dilation_w >= 1);
    CHECK(d->groups >= 1 && d->c % d->groups == 0 && d->k % d->groups == 0);
    /* every value, given or deduced, is within the parser's limit, so the
     * descriptor can be written out and read back */
    const int64_t m = BENCH_DESC_MAX_VALUE;
    CHECK(d->n <= m && d->c <= m && d->h <= m && d->w <= m && d->k <= m && d->r <= m &&
          d->s <= m && d->stride_h <= m && d->stride_w <= m && d->groups <= m);
    CHECK(d->dilation_h - 1 <= m && d->dilation_w - 1 <= m && d->pad_h <= m && d->pad_w <= m);
    clconv_status st = clconv_desc_check(d);
    CHECK(st == CLCONV_OK || st == CLCONV_TOO_LARGE);
}

/* Parse `text` again and expect exactly d and name. */
static void check_parses_back(const char *text, const clconv_desc *d, const char *name,
                              size_t name_cap)
{
    clconv_desc d2;
    memset(&d2, 0x5a, sizeof d2);
    char name2[64] = "", err[200];
    bench_desc_status st = bench_parse_desc(text, &d2, name2, name_cap, err, sizeof err);
    if (st != BENCH_DESC_OK)
        fprintf(stderr, "  re-parsing \"%s\": %s\n", text, err);
    CHECK(st == BENCH_DESC_OK);
    CHECK(same_desc(&d2, d));
    if (name)
        CHECK(!strcmp(name2, name));
}

/* snprintf semantics at every capacity up to the full length. */
static void check_format(const clconv_desc *d, const char *name, size_t name_cap)
{
    const int len = bench_format_desc(d, name, NULL, 0);
    CHECK(len > 0);
    char *full = malloc((size_t)len + 1);
    CHECK(full != NULL);
    CHECK(bench_format_desc(d, name, full, (size_t)len + 1) == len);
    CHECK(strlen(full) == (size_t)len);
    const size_t cap = (size_t)len * 7 / 11; /* one truncated capacity */
    char *part = malloc(cap ? cap : 1);
    CHECK(part != NULL);
    CHECK(bench_format_desc(d, name, part, cap) == len);
    if (cap)
        CHECK(strlen(part) == cap - 1 && !strncmp(part, full, cap - 1));
    free(part);
    check_parses_back(full, d, name, name_cap);
    free(full);
}

static void check_library_string(const clconv_desc *d)
{
    char s[CLCONV_DESC_STRING_MAX];
    CHECK(clconv_desc_string(d, s, sizeof s) == CLCONV_OK);
    check_parses_back(s, d, NULL, 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    input = s;
    const size_t name_cap = size * 31 % 48, err_cap = size * 17 % 160;
    char *name = malloc(name_cap ? name_cap : 1), *err = malloc(err_cap ? err_cap : 1);
    CHECK(name && err);
    clconv_desc d, before;
    memset(&d, 0xa5, sizeof d);
    before = d;
    bench_desc_status st = bench_parse_desc(s, &d, name_cap ? name : NULL, name_cap,
                                            err_cap ? err : NULL, err_cap);
    CHECK(st == BENCH_DESC_OK || st == BENCH_DESC_INVALID || st == BENCH_DESC_UNSUPPORTED);
    if (err_cap)
        CHECK(strnlen(err, err_cap) < err_cap);
    if (err_cap > 1)
        CHECK((st == BENCH_DESC_OK) == (err[0] == '\0'));
    if (st != BENCH_DESC_OK) {
        CHECK(same_desc(&d, &before));
    } else {
        if (name_cap)
            CHECK(strnlen(name, name_cap) < name_cap);
        check_fields(&d);
        check_format(&d, name_cap ? name : "", name_cap ? name_cap : 64);
        check_library_string(&d);
    }
    CHECK(bench_parse_desc(NULL, &d, NULL, 0, NULL, 0) == BENCH_DESC_INVALID);
    CHECK(bench_parse_desc(s, NULL, NULL, 0, NULL, 0) == BENCH_DESC_INVALID);
    free(name);
    free(err);
    free(s);
    return 0;
}
