/* The descriptor's ABI extension field: struct_size says which layout the
 * caller compiled against.  0 and every size from the first extensible
 * layout up to this header's are accepted; a size below it (garbage, or a
 * layout that never existed) or above the library's own (a newer header)
 * is CLCONV_BAD_VERSION, checked right after NULL and before any field. */
#include <criterion/criterion.h>
#include <string.h>
#include "util.h"

static clconv_desc base(void)
{
    clconv_desc d;
    clconv_desc_init(&d, 1, 2, 5, 5, 3, 3, 3);
    return d;
}

Test(desc_abi, init_sets_the_size_of_this_header)
{
    clconv_desc d;
    memset(&d, 0x5a, sizeof d);
    clconv_desc_init(&d, 1, 2, 5, 5, 3, 3, 3);
    cr_expect_eq(d.struct_size, (int64_t)sizeof(clconv_desc));
    cr_expect_eq(clconv_desc_check(&d), CLCONV_OK);
    cr_expect_geq((int64_t)sizeof(clconv_desc), CLCONV_DESC_SIZE_0_2);
}

Test(desc_abi, zero_means_the_first_layout)
{
    /* an aggregate initializer that stops before struct_size */
    const clconv_desc d = {1, 2, 5, 5, 3, 3, 3, 1, 1, 0, 0, 1, 1, 1};
    cr_expect_eq(d.struct_size, 0);
    cr_expect_eq(clconv_desc_check(&d), CLCONV_OK);
}

Test(desc_abi, unknown_sizes_are_refused_everywhere)
{
    const int64_t bad[] = {1, 8, CLCONV_DESC_SIZE_0_2 - 8, (int64_t)sizeof(clconv_desc) + 8,
                           INT64_MAX, -1, INT64_MIN, 0x5a5a5a5a5a5a5a5a};
    clconv_ctx *ctx = test_ctx();
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        clconv_desc d = base();
        d.struct_size = bad[i];
        cr_expect_eq(clconv_desc_check(&d), CLCONV_BAD_VERSION, "struct_size %lld",
                     (long long)bad[i]);
        int64_t p, q;
        cr_expect_eq(clconv_output_size(&d, &p, &q), CLCONV_BAD_VERSION);
        size_t bytes;
        cr_expect_eq(clconv_workspace_size(ctx, &d, CLCONV_PASS_FORWARD, CLCONV_ALGO_AUTO, &bytes),
                     CLCONV_BAD_VERSION);
        float x[50], w[54], y[27];
        test_fill_int(&(test_rng){1}, x, 50, -2, 2);
        test_fill_int(&(test_rng){2}, w, 54, -2, 2);
        test_poison(y, 27);
        cr_expect_eq(clconv_forward_host(ctx, &d, CLCONV_ALGO_AUTO, x, w, y), CLCONV_BAD_VERSION);
        for (int j = 0; j < 27; j++)
            cr_expect(y[j] != y[j], "y[%d] written by a refused call", j);
        /* checked before the fields: a bad size wins over a bad stride */
        d.stride_h = 0;
        cr_expect_eq(clconv_desc_check(&d), CLCONV_BAD_VERSION);
    }
    clconv_free(ctx);
}
