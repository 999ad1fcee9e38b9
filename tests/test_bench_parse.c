/* The bench tool's pure parts: benchdnn descriptor parsing and formatting,
 * batch-file tokens, and the shipped shape files.  The tool's sources are
 * compiled into this file (they are not part of the library). */
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../tools/bench/demo_shapes.c"
#include "../tools/bench/desc_parse.c"
#include "../tools/bench/tokenize.c"

static clconv_desc parse_ok(const char *s, char *name, size_t cap)
{
    clconv_desc d;
    char err[256];
    memset(&d, 0x5a, sizeof d);
    bench_desc_status st = bench_parse_desc(s, &d, name, cap, err, sizeof err);
    cr_assert_eq(st, BENCH_DESC_OK, "\"%s\": %s", s, err);
    return d;
}

static void expect_status(const char *s, bench_desc_status want, const char *in_err)
{
    clconv_desc d, before;
    memset(&d, 0x5a, sizeof d);
    before = d;
    char err[256], name[8];
    bench_desc_status st = bench_parse_desc(s, &d, name, sizeof name, err, sizeof err);
    cr_assert_eq(st, want, "\"%s\": status %d, want %d (%s)", s, st, want, err);
    cr_assert(strlen(err) > 0, "\"%s\": empty message", s);
    cr_assert(memcmp(&d, &before, sizeof d) == 0, "\"%s\": desc modified on failure", s);
    if (in_err)
        cr_assert(strstr(err, in_err), "\"%s\": message \"%s\" lacks \"%s\"", s, err, in_err);
}

#define EXPECT_DESC(d, N, C, H, W, K, R, S, SH, SW, PH, PW, DH, DW, G)                   \
    do {                                                                                \
        cr_expect_eq((d).n, N);                                                         \
        cr_expect_eq((d).c, C);                                                         \
        cr_expect_eq((d).h, H);                                                         \
        cr_expect_eq((d).w, W);                                                         \
        cr_expect_eq((d).k, K);                                                         \
        cr_expect_eq((d).r, R);                                                         \
        cr_expect_eq((d).s, S);                                                         \
        cr_expect_eq((d).stride_h, SH);                                                 \
        cr_expect_eq((d).stride_w, SW);                                                 \
        cr_expect_eq((d).pad_h, PH);                                                    \
        cr_expect_eq((d).pad_w, PW);                                                    \
        cr_expect_eq((d).dilation_h, DH);                                               \
        cr_expect_eq((d).dilation_w, DW);                                               \
        cr_expect_eq((d).groups, G);                                                    \
    } while (0)

Test(bench_parse, resnet_layer_with_name)
{
    char name[64];
    clconv_desc d = parse_ok("mb2ic64ih56oc64oh56kh3ph1n\"res2\"", name, sizeof name);
    EXPECT_DESC(d, 2, 64, 56, 56, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1);
    cr_expect_str_eq(name, "res2");
}

Test(bench_parse, benchdnn_defaults)
{
    char name[16];
    /* mb 2, stride 1, padding 0, w from h, output deduced, no name */
    clconv_desc d = parse_ok("ic3ih5oc4kh3", name, sizeof name);
    EXPECT_DESC(d, 2, 3, 5, 5, 4, 3, 3, 1, 1, 0, 0, 1, 1, 1);
    cr_expect_str_eq(name, "");
}

Test(bench_parse, padding_deduced_from_output)
{
    /* ph = ((oh-1)*sh - ih + (kh-1)*(dh+1)+1) / 2 */
    clconv_desc d = parse_ok("ic3ih5oc4oh5kh3", NULL, 0);
    cr_expect_eq(d.pad_h, 1);
    cr_expect_eq(d.pad_w, 1);
    d = parse_ok("mb32ic128ih56oc128oh28kh3sh2ph1", NULL, 0);
    EXPECT_DESC(d, 32, 128, 56, 56, 128, 3, 3, 2, 2, 1, 1, 1, 1, 1);
}

/* The end padding a given output implies, as benchdnn's pad_end. */
static void expect_ends(const char *s, int asym, long long ph, long long pb, long long pw,
                        long long pr)
{
    clconv_desc d = parse_ok(s, NULL, 0);
    cr_expect_eq(d.pad_asymmetric, asym, "%s: pad_asymmetric %lld", s, (long long)d.pad_asymmetric);
    cr_expect_eq(d.pad_h, ph, "%s: pad_h %lld", s, (long long)d.pad_h);
    cr_expect_eq(d.pad_w, pw, "%s: pad_w %lld", s, (long long)d.pad_w);
    cr_expect_eq(asym ? d.pad_h_end : d.pad_h, pb, "%s: pad_h_end %lld", s,
                 (long long)d.pad_h_end);
    cr_expect_eq(asym ? d.pad_w_end : d.pad_w, pr, "%s: pad_w_end %lld", s,
                 (long long)d.pad_w_end);
    if (!asym)
        cr_expect(d.pad_h_end == 0 && d.pad_w_end == 0, "%s: symmetric with ends set", s);
    cr_expect_eq(clconv_desc_check(&d), CLCONV_OK, "%s", s);
}

Test(bench_parse, asymmetric_padding_parses)
{
    /* benchdnn deduces ph=2 and a bottom padding of 3 (ResNet-50's conv1 at oh112) */
    expect_ends("ic3ih224oc64oh112kh7sh2", 1, 2, 3, 2, 3);
    /* benchdnn's shapes_tails 1-D case: pw1 on the left, 0 on the right */
    expect_ends("ic19oc32_iw13ow12kw3pw1", 1, 0, 0, 1, 0);
    expect_ends("ic3ih56oc4oh28kh3sh2", 1, 0, 1, 0, 1);
    /* a stride's slack: up to s-1 more end rows give the same output, so
     * equal padding is taken where the output allows it */
    expect_ends("mb32ic128ih56oc128oh28kh3sh2ph1", 0, 1, 1, 1, 1);
    expect_ends("mb3ic3ih224oc64oh112kh7sh2ph3", 0, 3, 3, 3, 3);
    /* each dimension on its own */
    expect_ends("ic3ih224iw10oc64oh112ow10kh7kw3sh2sw1pw1", 1, 2, 3, 1, 1);
}

Test(bench_parse, negative_end_padding_is_unsupported)
{
    /* truncated division deduces ph0, the output asks for one row less than
     * the input gives: the last input row would need padding -1 */
    expect_status("ic3ih5oc4oh2kh3", BENCH_DESC_UNSUPPORTED, "negative end padding");
    expect_status("ic3ih9oc4oh4kh3ph1", BENCH_DESC_UNSUPPORTED, "negative end padding");
}

/* benchdnn pads the end by whatever the output needs, so a kernel wider
 * than the input plus equal padding is a valid problem with a larger end
 * padding (benchdnn's shapes_regression_small_spatial, shapes_dilated,
 * shapes_src-transpose_padding). */
Test(bench_parse, kernel_wider_than_padded_input_pads_the_end)
{
    expect_ends("mb1ic16oc16_ih1oh1kh3ph0", 1, 0, 2, 0, 2); /* w copies h */
    expect_ends("mb2ic16id1ih2iw1oc16od1oh1ow1kd1kh2kw1pd0ph0pw0dd0dh1dw0", 1, 0, 1, 0, 0);
    expect_ends("mb1_ic16oc1_ih2oh1kh2sh1dh0ph0_iw100_ow90_kw3sw1dw50pw1", 1, 0, 0, 1, 91);
    expect_ends("mb1_g4_ic4oc4_kh5kw1_ih2iw1_oh1ow1_sh2sw1_ph1pw0_dh0dw0", 1, 1, 2, 0, 0);
    /* truncating division deduces oh1 from a kernel wider than the input */
    expect_ends("ic3ih2oc3kh4sh4", 1, 0, 2, 0, 2);
    /* what used to be refused as "asymmetric" by a too-short output */
    expect_status("ic3ih2oc3kh5", BENCH_DESC_INVALID, "deduced output");
}

Test(bench_parse, negative_deduced_padding_is_unsupported)
{
    expect_status("ic3ih10oc4oh2kh3", BENCH_DESC_UNSUPPORTED, "negative padding");
}

Test(bench_parse, width_from_height_and_explicit_width)
{
    clconv_desc d = parse_ok("ic3ih5iw7oc4kh3kw1", NULL, 0);
    EXPECT_DESC(d, 2, 3, 5, 7, 4, 3, 1, 1, 1, 0, 0, 1, 1, 1);
    d = parse_ok("mb4ic1ih161iw700oc32oh79ow341kh5kw20sh2sw2ph0pw0", NULL, 0);
    EXPECT_DESC(d, 4, 1, 161, 700, 32, 5, 20, 2, 2, 0, 0, 1, 1, 1);
    /* every h value copies to w, padding and dilation included */
    d = parse_ok("ic8ih20oc8kh3sh2ph2dh1", NULL, 0);
    EXPECT_DESC(d, 2, 8, 20, 20, 8, 3, 3, 2, 2, 2, 2, 2, 2, 1);
    /* benchdnn: pw0 alone does not make w "given", so ph copies over it */
    d = parse_ok("ic3ih5oc4kh3ph1pw0", NULL, 0);
    cr_expect_eq(d.pad_w, 1);
}

Test(bench_parse, width_values_need_iw_and_kw)
{
    expect_status("ic3ih5oc4kh3iw7", BENCH_DESC_INVALID, "kw");
    expect_status("ic3ih5oc4kh3sw2", BENCH_DESC_INVALID, "iw");
    expect_status("ic3ih5oc4kh3pw1", BENCH_DESC_INVALID, "iw");
}

Test(bench_parse, one_d_problem_has_height_1)
{
    clconv_desc d = parse_ok("ic20oc32_iw13kw1pw0", NULL, 0);
    EXPECT_DESC(d, 2, 20, 1, 13, 32, 1, 1, 1, 1, 0, 0, 1, 1, 1);
    d = parse_ok("ic8iw32oc8kw5pw2", NULL, 0);
    EXPECT_DESC(d, 2, 8, 1, 32, 8, 1, 5, 1, 1, 0, 2, 1, 1, 1);
}

Test(bench_parse, dilation_is_zero_based)
{
    clconv_desc d = parse_ok("ic16ih20oc16kh3dh1", NULL, 0);
    cr_expect_eq(d.dilation_h, 2);
    cr_expect_eq(d.dilation_w, 2);
    d = parse_ok("ic16ih20oc16kh3dh0", NULL, 0);
    cr_expect_eq(d.dilation_h, 1);
    d = parse_ok("ic4ih11iw13oc6oh7ow9kh3kw2dh1dw3", NULL, 0);
    cr_expect_eq(d.dilation_h, 2);
    cr_expect_eq(d.dilation_w, 4);
    cr_expect_eq(d.pad_h, 0);
    cr_expect_eq(d.pad_w, 0);
}

Test(bench_parse, groups)
{
    clconv_desc d = parse_ok("g32ic32oc32ih28oh28kh3ph1", NULL, 0);
    cr_expect_eq(d.groups, 32);
    d = parse_ok("g1mb1ic4ih84oc16oh20kh8sh4ph0", NULL, 0);
    EXPECT_DESC(d, 1, 4, 84, 84, 16, 8, 8, 4, 4, 0, 0, 1, 1, 1);
    expect_status("g0ic32oc32ih28kh3", BENCH_DESC_INVALID, "\"g\"");
    expect_status("g3ic32oc32ih28kh3", BENCH_DESC_INVALID, "does not divide");
    expect_status("g4ic32oc30ih28kh3", BENCH_DESC_INVALID, "does not divide");
}

Test(bench_parse, names)
{
    char name[64];
    parse_ok("ic3ih5oc4kh3n\"resnet_50:res2a_branch2a*3\"", name, sizeof name);
    cr_expect_str_eq(name, "resnet_50:res2a_branch2a*3");
    parse_ok("ic3ih5oc4kh3nplain", name, sizeof name); /* shell already removed quotes */
    cr_expect_str_eq(name, "plain");
    parse_ok("ic3ih5oc4kh3_n", name, sizeof name);
    cr_expect_str_eq(name, "");
    parse_ok("ic3ih5oc4kh3n\"\"", name, sizeof name);
    cr_expect_str_eq(name, "");
    parse_ok("ic3ih5oc4kh3n\"half", name, sizeof name); /* one quote stays */
    cr_expect_str_eq(name, "\"half");
    parse_ok("ic3ih5oc4kh3nic9ih9", name, sizeof name); /* the name is the rest */
    cr_expect_str_eq(name, "ic9ih9");
    char small[5];
    parse_ok("ic3ih5oc4kh3n\"truncated\"", small, sizeof small);
    cr_expect_str_eq(small, "trun");
}

Test(bench_parse, underscores_and_repeats)
{
    clconv_desc d = parse_ok("_mb1_ic3__ih5_oc4_kh3_", NULL, 0);
    EXPECT_DESC(d, 1, 3, 5, 5, 4, 3, 3, 1, 1, 0, 0, 1, 1, 1);
    d = parse_ok("ic3ih5oc4kh3ic7", NULL, 0); /* the last value wins, as in benchdnn */
    cr_expect_eq(d.c, 7);
}

Test(bench_parse, three_d)
{
    expect_status("ic32oc13_id13od11kd3pd0_ih13oh12kh3ph0_iw13ow12kw3pw0", BENCH_DESC_UNSUPPORTED,
                  "3-D");
    expect_status("g17mb16ic17id5oc17od5kd3pd1", BENCH_DESC_UNSUPPORTED, "3-D");
    expect_status("ic4id5kd3ih5kh3oc4", BENCH_DESC_INVALID, "3-D"); /* h without w */
    /* a depth of one is a 2-D problem */
    clconv_desc d = parse_ok("ic4id1kd1ih5kh3iw6kw3oc4", NULL, 0);
    EXPECT_DESC(d, 2, 4, 5, 6, 4, 3, 3, 1, 1, 0, 0, 1, 1, 1);
}

Test(bench_parse, syntax_errors)
{
    expect_status("", BENCH_DESC_INVALID, "empty");
    expect_status("abc", BENCH_DESC_INVALID, "unrecognized");
    expect_status("ic3ih5oc4kh3x", BENCH_DESC_INVALID, "\"x\"");
    expect_status("ic", BENCH_DESC_INVALID, "no value");
    expect_status("icih5", BENCH_DESC_INVALID, "no value for \"ic\"");
    expect_status("ic-3ih5oc4kh3", BENCH_DESC_INVALID, "no value");
    expect_status("ic+3ih5oc4kh3", BENCH_DESC_INVALID, "no value");
    expect_status("ic 3ih5oc4kh3", BENCH_DESC_INVALID, "no value");
    expect_status("ic3ih5oc4kh3 ", BENCH_DESC_INVALID, "unrecognized");
    expect_status("ic3ih5oc4kx3", BENCH_DESC_INVALID, "unrecognized");
    expect_status("ic3ih5oc4k", BENCH_DESC_INVALID, "unrecognized");
    expect_status("mb", BENCH_DESC_INVALID, "no value");
    expect_status("ic1000000000000000001ih5oc4kh3", BENCH_DESC_INVALID, "exceeds");
    expect_status("ic99999999999999999999ih5oc4kh3", BENCH_DESC_INVALID, "exceeds");
    expect_status("ic3ih5oc4kh3sh99999999999999999999999", BENCH_DESC_INVALID, "exceeds");
    /* a deduced output whose span (ow-1)*sw passes the limit: refused as a
     * given ow would be (found by fuzz_desc_parse) */
    expect_status("mb1ic3ih5iw5kw3sh2sw2ph0pw501000500000000000oc0500000000kh1",
                  BENCH_DESC_INVALID, "output span in w");
    expect_status("--dir=fwd", BENCH_DESC_INVALID, "unrecognized");
}

Test(bench_parse, impossible_shapes)
{
    expect_status("ic3", BENCH_DESC_INVALID, "oc");
    expect_status("ic3oc4", BENCH_DESC_INVALID, "spatial");
    expect_status("ic3oc4ih0kh0", BENCH_DESC_INVALID, "spatial");
    expect_status("ic3oc4ih5", BENCH_DESC_INVALID, "kh");
    expect_status("ic3oc4kh5", BENCH_DESC_INVALID, "ih");
    expect_status("ih5kh3oc4", BENCH_DESC_INVALID, "ic");
    expect_status("ih5kh3ic4", BENCH_DESC_INVALID, "oc");
    expect_status("mb0ic3ih5oc4kh3", BENCH_DESC_INVALID, "mb");
    expect_status("ic3ih5oc4kh3sh0", BENCH_DESC_INVALID, "sh");
    expect_status("ic3ih2oc3kh5", BENCH_DESC_INVALID, "deduced output");
    expect_status("ic3ih5oc3kh3dh3", BENCH_DESC_INVALID, "deduced output");
}

/* benchdnn's own inputs go past 2^32 (shapes_large_conv): parsed, so that
 * the library and the device decide; whether the tool can hold them is the
 * run's business (bench_run tests). */
Test(bench_parse, sizes_above_2_32)
{
    clconv_desc d = parse_ok("mb1ic1oc1iw4294967311kw3", NULL, 0);
    EXPECT_DESC(d, 1, 1, 1, 4294967311LL, 1, 1, 3, 1, 1, 0, 0, 1, 1, 1);
    d = parse_ok("mb1ic4294967311oc1iw1kw1", NULL, 0);
    cr_expect_eq(d.c, 4294967311LL);
    d = parse_ok("mb1ic1oc1342177321iw27kw3", NULL, 0);
    cr_expect_eq(d.k, 1342177321LL);
}

Test(bench_parse, huge_values_do_not_overflow)
{
    const char *m = "1000000000000000000"; /* BENCH_DESC_MAX_VALUE */
    char s[256];
    snprintf(s, sizeof s, "mb%sic%sih%soc%skh%s", m, m, m, m, m);
    clconv_desc d = parse_ok(s, NULL, 0);
    cr_expect_eq(d.h, BENCH_DESC_MAX_VALUE);
    snprintf(s, sizeof s, "ic1ih%soc1kh%sdh%s", m, m, m);
    expect_status(s, BENCH_DESC_INVALID, "extent");
    /* (k-1)*(d+1) and (o-1)*s of values at the limit would overflow int64 */
    snprintf(s, sizeof s, "ic1ih5oc1kh%sdh%s", m, m);
    expect_status(s, BENCH_DESC_INVALID, "extent");
    snprintf(s, sizeof s, "ic1ih5oc1oh%ssh%skh1", m, m);
    expect_status(s, BENCH_DESC_INVALID, "span");
    /* deduced values beyond the limit could not be written back: refused */
    expect_status("ic1ih1000000000000000000oc1kh1ph1000000000000000000", BENCH_DESC_INVALID,
                  "deduced");
    d = parse_ok("ic1ih999999999999999998oc1kh1ph1", NULL, 0);
    cr_expect_eq(d.h, 999999999999999998LL);
}

Test(bench_parse, null_arguments)
{
    clconv_desc d;
    char err[64], name[4];
    cr_expect_eq(bench_parse_desc(NULL, &d, NULL, 0, err, sizeof err), BENCH_DESC_INVALID);
    cr_expect_eq(bench_parse_desc("ic3ih5oc4kh3", NULL, NULL, 0, err, sizeof err),
                 BENCH_DESC_INVALID);
    cr_expect_eq(bench_parse_desc("ic3ih5oc4kh3", &d, NULL, 4, NULL, 0), BENCH_DESC_INVALID);
    cr_expect_eq(bench_parse_desc("ic3ih5oc4kh3", &d, name, sizeof name, NULL, 0), BENCH_DESC_OK);
    cr_expect_eq(bench_parse_desc("bad", &d, name, 0, NULL, 0), BENCH_DESC_INVALID);
}

static void round_trip(const char *s)
{
    char name[64], name2[64], buf[256];
    clconv_desc d = parse_ok(s, name, sizeof name);
    int len = bench_format_desc(&d, name, buf, sizeof buf);
    cr_assert_eq((size_t)len, strlen(buf));
    clconv_desc e = parse_ok(buf, name2, sizeof name2);
    cr_expect(memcmp(&d, &e, sizeof d) == 0, "\"%s\" -> \"%s\" parses differently", s, buf);
    cr_expect_str_eq(name, name2);
}

Test(bench_parse, format_round_trips)
{
    round_trip("mb2ic64ih56oc64oh56kh3ph1n\"res2\"");
    round_trip("ic3ih5iw7oc4kh3kw1");
    round_trip("mb4ic1ih161iw700oc32oh79ow341kh5kw20sh2sw2ph0pw0");
    round_trip("g32ic32oc32ih28oh28kh3ph1");
    round_trip("ic8ih20oc8kh3sh2ph2dh1n\"x y\"");
    round_trip("ic4ih11iw13oc6oh7ow9kh3kw2dh1dw3");
    round_trip("ic8iw32oc8kw5pw2");
    round_trip("ic8ih9oc8kh3kw3ih9iw9sh2sw1");
    round_trip("ic3ih224oc64oh112kh7sh2");
    round_trip("ic19oc32_iw13ow12kw3pw1");
    round_trip("mb1_ic16oc1_ih2oh1kh2sh1dh0ph0_iw100_ow90_kw3sw1dw50pw1n\"wide\"");
}

/* A benchdnn line whose output implies unequal padding, printed back by
 * the bench and by the library (whose string keys find's records), both
 * parsing to the same descriptor; the equal-padding layer of the same
 * sizes prints differently. */
Test(bench_parse, asymmetric_line_printed_back)
{
    clconv_desc d = parse_ok("mb2ic3ih224oc64oh112kh7sh2n\"conv1\"", NULL, 0), e;
    char buf[CLCONV_DESC_STRING_MAX];
    bench_format_desc(&d, "conv1", buf, sizeof buf);
    cr_expect_str_eq(buf, "mb2ic3ih224oc64oh112kh7sh2ph2n\"conv1\"");
    cr_assert_eq(clconv_desc_string(&d, buf, sizeof buf), CLCONV_OK);
    cr_expect_str_eq(buf, "mb2g1ic3ih224iw224oc64oh112ow112kh7kw7sh2sw2ph2pw2dh0dw0");
    e = parse_ok(buf, NULL, 0);
    cr_expect(memcmp(&d, &e, sizeof d) == 0, "%s parses differently", buf);
    clconv_desc sym = d;
    sym.pad_asymmetric = 0;
    sym.pad_h_end = sym.pad_w_end = 0;
    char other[CLCONV_DESC_STRING_MAX];
    cr_assert_eq(clconv_desc_string(&sym, other, sizeof other), CLCONV_OK);
    cr_expect_str_eq(other, "mb2g1ic3ih224iw224oc64kh7kw7sh2sw2ph2pw2dh0dw0");
    /* one dimension unequal: both outputs are written */
    d = parse_ok("ic19oc32_iw13ow12kw3pw1", NULL, 0);
    cr_assert_eq(clconv_desc_string(&d, buf, sizeof buf), CLCONV_OK);
    cr_expect_str_eq(buf, "mb2g1ic19ih1iw13oc32oh1ow12kh1kw3sh1sw1ph0pw1dh0dw0");
    e = parse_ok(buf, NULL, 0);
    cr_expect(memcmp(&d, &e, sizeof d) == 0, "%s parses differently", buf);
}

/* benchdnn's deconv driver: ic, ih the input, oc, oh the output, o and p
 * deduced the other way, end padding below zero as output padding. */
Test(bench_parse, deconv_descriptors)
{
    clconv_desc d;
    char err[256], buf[256];
    cr_assert_eq(bench_parse_deconv_desc("mb2ic8ih5oc4kh3sh2", &d, NULL, 0, err, sizeof err),
                 BENCH_DESC_OK, "%s", err);
    EXPECT_DESC(d, 2, 8, 5, 5, 4, 3, 3, 2, 2, 0, 0, 1, 1, 1);
    cr_expect(d.pad_asymmetric == 0 && d.out_pad_h == 0 && d.out_pad_w == 0);
    bench_format_deconv_desc(&d, NULL, buf, sizeof buf);
    cr_expect_str_eq(buf, "mb2ic8ih5oc4oh11kh3sh2ph0"); /* (5-1)*2 + 3 */
    /* PyTorch's upsampling ConvTranspose2d(k4, s2, p1): 4 -> 8 */
    cr_assert_eq(bench_parse_deconv_desc("mb1_ic16oc16_ih4oh8kh4sh2ph1", &d, NULL, 0, err,
                                         sizeof err), BENCH_DESC_OK, "%s", err);
    cr_expect(d.pad_h == 1 && d.pad_asymmetric == 0 && d.out_pad_h == 0);
    /* unequal padding: 10 = (5-1)*2 - 1 - 0 + 3 */
    cr_assert_eq(bench_parse_deconv_desc("mb2ic8ih5oc4oh10kh3sh2ph1", &d, NULL, 0, err,
                                         sizeof err), BENCH_DESC_OK, "%s", err);
    cr_expect(d.pad_asymmetric == 1 && d.pad_h == 1 && d.pad_h_end == 0 && d.pad_w_end == 0);
    bench_format_deconv_desc(&d, NULL, buf, sizeof buf);
    cr_expect_str_eq(buf, "mb2ic8ih5oc4oh10kh3sh2ph1");
    /* output padding: 12 = (5-1)*2 + 3 + 1 */
    cr_assert_eq(bench_parse_deconv_desc("ic8ih5oc4oh12kh3sh2ph0", &d, NULL, 0, err, sizeof err),
                 BENCH_DESC_OK, "%s", err);
    cr_expect(d.out_pad_h == 1 && d.out_pad_w == 1 && d.pad_asymmetric == 0);
    /* as much output padding as the stride, a negative padding, no output */
    cr_expect_eq(bench_parse_deconv_desc("ic8ih5oc4oh13kh3sh2ph0", &d, NULL, 0, err, sizeof err),
                 BENCH_DESC_UNSUPPORTED);
    cr_expect(strstr(err, "output padding 2"), "%s", err);
    cr_expect_eq(bench_parse_deconv_desc("ic8ih5oc4oh13kh3sh2", &d, NULL, 0, err, sizeof err),
                 BENCH_DESC_UNSUPPORTED);
    cr_expect(strstr(err, "negative padding"), "%s", err);
    cr_expect_eq(bench_parse_deconv_desc("ic8ih2oc4kh1ph3", &d, NULL, 0, err, sizeof err),
                 BENCH_DESC_INVALID);
    cr_expect(strstr(err, "deduced output"), "%s", err);
    /* the same text as a convolution is another problem */
    cr_assert_eq(bench_parse_desc("mb2ic8ih5oc4kh3sh2", &d, NULL, 0, err, sizeof err),
                 BENCH_DESC_OK);
    bench_format_desc(&d, NULL, buf, sizeof buf);
    cr_expect_str_eq(buf, "mb2ic8ih5oc4oh2kh3sh2ph0");
}

Test(bench_parse, format_examples_and_truncation)
{
    char buf[128];
    clconv_desc d = parse_ok("mb32ic128ih56oc128oh28kh3sh2ph1", NULL, 0);
    bench_format_desc(&d, "r50", buf, sizeof buf);
    cr_expect_str_eq(buf, "mb32ic128ih56oc128oh28kh3sh2ph1n\"r50\"");
    d = parse_ok("g2ic4ih5iw6oc2kh3kw1dh1", NULL, 0);
    bench_format_desc(&d, NULL, buf, sizeof buf);
    cr_expect_str_eq(buf, "g2mb2ic4ih5iw6oc2oh1ow6kh3kw1sh1sw1ph0pw0dh1dw0");
    char small[8];
    int len = bench_format_desc(&d, NULL, small, sizeof small);
    cr_expect_eq(len, (int)strlen(buf));
    cr_expect_str_eq(small, "g2mb2ic");
    cr_expect_eq(bench_format_desc(&d, NULL, NULL, 0), len);
}

/* A little fuzzing: random strings over the descriptor alphabet and random
 * mutations of good descriptors must never crash, and anything accepted
 * must format and parse back to itself. */
static uint64_t fz_next(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

typedef bench_desc_status (*parse_fn)(const char *, clconv_desc *, char *, size_t, char *,
                                      size_t);

static int64_t end_of(const clconv_desc *d, int w)
{
    return d->pad_asymmetric ? (w ? d->pad_w_end : d->pad_h_end) : (w ? d->pad_w : d->pad_h);
}

/* The paddings of one accepted dimension: non-negative ends; a
 * convolution's dilated kernel fits the padded input, a deconvolution's
 * output padding is below its stride and only where its end padding is 0. */
static void fuzz_dim(int deconv, int64_t i, int64_t k, int64_t st, int64_t p, int64_t pe,
                     int64_t op, int64_t dil)
{
    cr_assert(p >= 0 && pe >= 0);
    if (!deconv) {
        cr_assert(i + p + pe >= (k - 1) * dil + 1);
        cr_assert_eq(op, 0);
    } else {
        cr_assert(op >= 0 && op < st && (op == 0 || pe == 0));
        cr_assert((i - 1) * st - p - pe + (k - 1) * dil + 1 + op >= 1);
    }
}

static void fuzz_one(const char *s, int deconv)
{
    parse_fn parse = deconv ? bench_parse_deconv_desc : bench_parse_desc;
    clconv_desc d;
    char name[32], err[128], buf[512];
    if (parse(s, &d, name, sizeof name, err, sizeof err) != BENCH_DESC_OK) {
        cr_assert(strlen(err) > 0);
        return;
    }
    cr_assert(d.n >= 1 && d.c >= 1 && d.h >= 1 && d.w >= 1 && d.k >= 1 && d.r >= 1 && d.s >= 1);
    cr_assert(d.stride_h >= 1 && d.stride_w >= 1);
    cr_assert(d.dilation_h >= 1 && d.dilation_w >= 1 && d.groups >= 1);
    cr_assert(d.c % d.groups == 0 && d.k % d.groups == 0);
    /* the symmetric form exactly when both ends equal their begins */
    cr_assert(d.pad_asymmetric == 0 || d.pad_asymmetric == 1);
    cr_assert_eq(d.pad_asymmetric, d.pad_h != end_of(&d, 0) || d.pad_w != end_of(&d, 1));
    if (!d.pad_asymmetric)
        cr_assert(d.pad_h_end == 0 && d.pad_w_end == 0);
    fuzz_dim(deconv, d.h, d.r, d.stride_h, d.pad_h, end_of(&d, 0), d.out_pad_h, d.dilation_h);
    fuzz_dim(deconv, d.w, d.s, d.stride_w, d.pad_w, end_of(&d, 1), d.out_pad_w, d.dilation_w);
    if (!deconv) {
        clconv_status st = clconv_desc_check(&d);
        cr_assert(st == CLCONV_OK || st == CLCONV_TOO_LARGE, "\"%s\": %s", s,
                  clconv_status_name(st));
        /* the library's own string reads back too (find.c keys records by it) */
        clconv_desc e;
        cr_assert_eq(clconv_desc_string(&d, buf, sizeof buf), CLCONV_OK);
        cr_assert_eq(bench_parse_desc(buf, &e, NULL, 0, err, sizeof err), BENCH_DESC_OK,
                     "\"%s\" -> \"%s\": %s", s, buf, err);
        cr_assert(memcmp(&d, &e, sizeof d) == 0, "\"%s\" -> library \"%s\"", s, buf);
    }
    if (strchr(name, '"'))
        return;
    (deconv ? bench_format_deconv_desc : bench_format_desc)(&d, name, buf, sizeof buf);
    clconv_desc e;
    char name2[32];
    cr_assert_eq(parse(buf, &e, name2, sizeof name2, err, sizeof err), BENCH_DESC_OK,
                 "\"%s\" -> \"%s\": %s", s, buf, err);
    cr_assert(memcmp(&d, &e, sizeof d) == 0, "\"%s\" -> \"%s\"", s, buf);
}

Test(bench_parse, fuzz)
{
    static const char *const atoms[] = {"g", "mb", "ic", "oc", "ih", "iw", "id", "oh", "ow",
                                        "od", "kh", "kw", "kd", "sh", "sw", "sd", "ph", "pw",
                                        "pd", "dh", "dw", "dd", "_", "n", "\"", "x", "-", "0",
                                        "1", "2", "3", "7", "16", "99999999999"};
    const size_t natoms = sizeof atoms / sizeof atoms[0];
    uint64_t seed = 88172645463325252ull;
    char s[200];
    for (int it = 0; it < 200000; it++) {
        size_t len = 0, parts = fz_next(&seed) % 14;
        s[0] = '\0';
        for (size_t j = 0; j < parts; j++) {
            const char *a = atoms[fz_next(&seed) % natoms];
            size_t al = strlen(a);
            if (len + al + 1 >= sizeof s)
                break;
            memcpy(s + len, a, al + 1);
            len += al;
            if (fz_next(&seed) % 2) {
                int n = snprintf(s + len, sizeof s - len, "%u", (unsigned)(fz_next(&seed) % 20));
                len += (size_t)n;
            }
        }
        fuzz_one(s, 0);
        fuzz_one(s, 1);
    }
    static const char *const good[] = {"mb2ic64ih56oc64oh56kh3ph1n\"res2\"",
                                       "g4ic16ih10oc32oh10kh3ph1",
                                       "ic4ih11iw13oc6oh7ow9kh3kw2dh1dw3"};
    for (int it = 0; it < 100000; it++) {
        const char *g = good[fz_next(&seed) % 3];
        size_t len = strlen(g);
        memcpy(s, g, len + 1);
        for (int m = 0; m < 3; m++) {
            size_t at = fz_next(&seed) % len;
            s[at] = "0123456789_hwcikopsdgmbn\"x"[fz_next(&seed) % 26];
        }
        fuzz_one(s, 0);
        fuzz_one(s, 1);
    }
}

Test(bench_tokenize, benchdnn_rules)
{
    bench_tokens t = {0};
    const char *text = "# comment line\n"
                       "--dir=fwd  ic3ih5oc4kh3 # trailing comment ic9\n"
                       "\tic3ih5\\\n"
                       "oc4kh3n\"joined\"\n"
                       "a \\\n b\n"
                       "x#notacomment\n";
    cr_assert_eq(bench_tokenize(text, &t), 0);
    cr_assert_eq(t.n, 5);
    cr_expect_str_eq(t.v[0].text, "--dir=fwd");
    cr_expect_eq(t.v[0].line, 2);
    cr_expect_str_eq(t.v[1].text, "ic3ih5oc4kh3");
    cr_expect_str_eq(t.v[2].text, "ic3ih5oc4kh3n\"joined\"");
    cr_expect_eq(t.v[2].line, 3);
    cr_expect_str_eq(t.v[3].text, "ab");
    cr_expect_str_eq(t.v[4].text, "x#notacomment");
    bench_tokens_free(&t);
    cr_assert_eq(bench_tokenize("", &t), 0);
    cr_expect_eq(t.n, 0);
    cr_assert_eq(bench_tokenize("\\", &t), 0);
    cr_expect_eq(t.n, 0);
    bench_tokens_free(&t);
}

/* File helpers the other test_bench_*.c files share (they declare them). */
char *bench_test_slurp(const char *path);
char *bench_test_tmpdir(void);
char *bench_test_batch(const char *dir, const char *name, const char *text);
void bench_test_rmtree(char *dir);

/* The whole file, malloc'ed. */
char *bench_test_slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "cannot open %s (run the tests from the repository root)", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    cr_assert_not_null(s);
    cr_assert_eq(fread(s, 1, (size_t)n, f), (size_t)n);
    s[n] = '\0';
    fclose(f);
    return s;
}

/* A new empty directory under /tmp, malloc'ed. */
char *bench_test_tmpdir(void)
{
    char *dir = strdup("/tmp/clconv-bench-test-XXXXXX");
    cr_assert_not_null(dir);
    cr_assert_not_null(mkdtemp(dir));
    return dir;
}

/* Writes text to dir/name and returns "--batch=dir/name" (malloc'ed; the
 * path starts 8 characters in). */
char *bench_test_batch(const char *dir, const char *name, const char *text)
{
    size_t n = strlen(dir) + strlen(name) + 10;
    char *opt = malloc(n);
    cr_assert_not_null(opt);
    snprintf(opt, n, "--batch=%s/%s", dir, name);
    FILE *f = fopen(opt + 8, "w");
    cr_assert_not_null(f, "cannot create %s", opt + 8);
    fputs(text, f);
    fclose(f);
    return opt;
}

/* Removes dir and everything in it, and frees it. */
void bench_test_rmtree(char *dir)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_expect_eq(system(cmd), 0);
    free(dir);
}

static size_t check_shape_file(const char *path, bench_tokens *t)
{
    char *text = bench_test_slurp(path);
    cr_assert_eq(bench_tokenize(text, t), 0);
    free(text);
    for (size_t i = 0; i < t->n; i++) {
        clconv_desc d;
        char err[256], name[128];
        bench_desc_status st = bench_parse_desc(t->v[i].text, &d, name, sizeof name, err,
                                                sizeof err);
        cr_expect_eq(st, BENCH_DESC_OK, "%s:%d: %s", path, t->v[i].line, err);
        cr_expect(strlen(name) > 0, "%s:%d: unnamed", path, t->v[i].line);
    }
    return t->n;
}

Test(bench_shapes, shipped_files_parse)
{
    static const char *const files[] = {"tools/shapes/resnet50.txt", "tools/shapes/deepbench.txt",
                                        "tools/shapes/edge.txt", "tools/shapes/anchors.txt"};
    static const size_t at_least[] = {20, 10, 15, 6};
    for (size_t f = 0; f < 4; f++) {
        bench_tokens t = {0};
        size_t n = check_shape_file(files[f], &t);
        cr_expect_geq(n, at_least[f], "%s: %zu problems", files[f], n);
        bench_tokens_free(&t);
    }
}

Test(bench_shapes, anchors_match_anchors_md)
{
    bench_tokens t = {0};
    check_shape_file("tools/shapes/anchors.txt", &t);
    cr_assert_eq(t.n, 6);
    clconv_desc d;
    bench_parse_desc(t.v[1].text, &d, NULL, 0, NULL, 0);
    EXPECT_DESC(d, 32, 64, 56, 56, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1);
    bench_tokens_free(&t);
}

static void expect_embedded(const char *file, const char *const *shapes, size_t n)
{
    bench_tokens t = {0};
    check_shape_file(file, &t);
    cr_assert_eq(t.n, n, "%s has %zu problems, the binary %zu", file, t.n, n);
    for (size_t i = 0; i < t.n; i++)
        cr_expect_str_eq(t.v[i].text, shapes[i], "%s: demo problem %zu differs", file, i);
    bench_tokens_free(&t);
}

Test(bench_shapes, embedded_demo_sets_match_their_files)
{
    expect_embedded("tools/shapes/edge.txt", bench_demo_check_shapes, bench_demo_check_count);
    expect_embedded("tools/shapes/anchors.txt", bench_demo_timed_shapes, bench_demo_timed_count);
}

/* ---- command line and batch files (options.c) ---- */

#include "../tools/bench/batch.c"
#include "../tools/bench/errmsg.c"
#include "../tools/bench/options.c"
#include "../tools/bench/post_ops.c"
#include "../tools/bench/problem_opts.c"

/* The parser prints usage and errors: keep them out of the test log. */
static void quiet(void)
{
    cr_redirect_stdout();
    cr_redirect_stderr();
}

static int parse_args(bench_opts *o, const char *const *args)
{
    char *argv[32];
    int argc = 0;
    argv[argc++] = (char *)"clconv-bench";
    for (; *args; args++)
        argv[argc++] = (char *)*args;
    argv[argc] = NULL;
    return bench_opts_parse(o, argc, argv);
}

Test(bench_options, settings_apply_to_the_problems_after_them, .init = quiet)
{
    bench_opts o;
    const char *args[] = {"ic3ih5oc4kh3", "--dir=bwd_d,BWD_W", "--algo=gemm", "--mb=7",
                          "ic3ih5oc4kh3n\"b\"", "--reset", "ic3ih5oc4kh3", "--dir=FWD_B,bwd_wb",
                          "--algo=all", "mb3ic3ih5oc4kh3", "--mode=cp", "--reps", "4", NULL};
    cr_assert_eq(parse_args(&o, args), BENCH_EXIT_OK);
    cr_assert_eq(o.nprobs, 4);
    cr_expect_eq(o.probs[0].dirs, 1u << BENCH_FWD);
    cr_expect_eq(o.probs[0].algos, BENCH_ALGO_BIT(CLCONV_ALGO_AUTO));
    cr_expect_eq(o.probs[0].d.n, 2);
    cr_expect_eq(o.probs[1].dirs, (1u << BENCH_BWD_D) | (1u << BENCH_BWD_W));
    cr_expect_eq(o.probs[1].algos, BENCH_ALGO_BIT(CLCONV_ALGO_GEMM));
    cr_expect_eq(o.probs[1].d.n, 7);
    cr_expect_str_eq(o.probs[1].name, "b");
    cr_expect_eq(o.probs[2].dirs, 1u << BENCH_FWD);
    cr_expect_eq(o.probs[2].d.n, 2);
    cr_expect_eq(o.probs[3].dirs, (1u << BENCH_FWD) | (1u << BENCH_BWD_W) | (1u << BENCH_BWD_B));
    cr_expect_eq(o.probs[3].algos, BENCH_ALGOS_ALL);
    cr_expect_eq(o.probs[3].d.n, 3);
    cr_expect(o.check && o.perf);
    cr_expect_eq(o.reps, 4);
    bench_opts_free(&o);
}

Test(bench_options, usage_errors, .init = quiet)
{
    static const char *const bad[][3] = {
        {"--bogus", "ic3ih5oc4kh3", NULL}, {"ic3ih5oc4kh3x", NULL, NULL},
        {"--dir=up", "ic3ih5oc4kh3", NULL}, {"--algo=wino", "ic3ih5oc4kh3", NULL},
        {"--mode=X", "ic3ih5oc4kh3", NULL}, {"--reps=0", "ic3ih5oc4kh3", NULL},
        {"--mb=-2", "ic3ih5oc4kh3", NULL}, {"--offset=x", "ic3ih5oc4kh3", NULL},
        {"--peer=mkl", "ic3ih5oc4kh3", NULL}, {"--batch=/no/such/file", NULL, NULL},
        {"ic3ih5oc4kh3", "--device", NULL}, {NULL, NULL, NULL},
    };
    for (int i = 0; bad[i][0]; i++) {
        bench_opts o;
        cr_expect_eq(parse_args(&o, bad[i]), BENCH_EXIT_USAGE, "case %d (%s)", i, bad[i][0]);
        bench_opts_free(&o);
    }
    bench_opts o;
    const char *none[] = {NULL};
    cr_expect_eq(parse_args(&o, none), BENCH_EXIT_USAGE);
    bench_opts_free(&o);
    const char *help[] = {"ic3ih5oc4kh3x", "--help", NULL};
    cr_expect_eq(parse_args(&o, help), BENCH_EXIT_DONE);
    bench_opts_free(&o);
}

Test(bench_options, unsupported_problems_are_counted_not_fatal, .init = quiet)
{
    bench_opts o;
    /* negative end padding, 3-D; an unequal padding is a problem like any */
    const char *args[] = {"ic3ih5oc4oh2kh3", "ic4id5kd3ih5kh3iw5kw3oc4", "ic3ih5oc4kh3",
                          "ic3ih224oc64oh112kh7sh2", "--cfg=f32", NULL};
    cr_assert_eq(parse_args(&o, args), BENCH_EXIT_OK);
    cr_expect_eq(o.nprobs, 2);
    cr_expect_eq(o.unsupported, 2);
    cr_expect_eq(o.probs[1].d.pad_asymmetric, 1);
    bench_opts_free(&o);
}

Test(bench_options, value_as_next_argument, .init = quiet)
{
    bench_opts o;
    const char *args[] = {"--device", "0:0", "--dir", "all", "--mode", "C", "ic3ih5oc4kh3", NULL};
    cr_assert_eq(parse_args(&o, args), BENCH_EXIT_OK);
    cr_expect_str_eq(o.device, "0:0");
    cr_expect_eq(o.probs[0].dirs, BENCH_DIRS_ALL);
    cr_expect(o.check && !o.perf);
    bench_opts_free(&o);
}

/* --demo makes its problems when it runs (demo.c); the command line
 * picks its parts (--mode) and the timed part's settings. */
Test(bench_options, demo_defaults_and_overrides, .init = quiet)
{
    bench_opts o;
    const char *args[] = {"--demo", NULL};
    cr_assert_eq(parse_args(&o, args), BENCH_EXIT_OK);
    cr_expect(o.demo && o.check && o.perf);
    cr_expect_eq(o.nprobs, 0);
    cr_expect(!o.dirs_set && !o.algos_set && !o.peers_set);
    bench_opts_free(&o);
    const char *args2[] = {"--demo", "--algo=gemm", "--mode=P", "--peer=clblast", "--mb=4",
                           "--svg=x.svg", NULL};
    cr_assert_eq(parse_args(&o, args2), BENCH_EXIT_OK);
    cr_expect(o.algos_set && o.algos == BENCH_ALGO_BIT(CLCONV_ALGO_GEMM));
    cr_expect(!o.check && o.perf);
    cr_expect(o.peers_set && o.peers == BENCH_PEER_BIT(BENCH_PEER_CLBLAST));
    cr_expect_eq(o.mb, 4);
    cr_expect_str_eq(o.svg, "x.svg");
    bench_opts_free(&o);
    const char *with_problem[] = {"--demo", "ic3ih5oc4kh3", NULL};
    cr_expect_eq(parse_args(&o, with_problem), BENCH_EXIT_USAGE);
    bench_opts_free(&o);
}

Test(bench_options, peers, .init = quiet)
{
    static const struct { const char *arg; unsigned want; } cases[] = {
        {"--peer=clblast", BENCH_PEER_BIT(BENCH_PEER_CLBLAST)},
        {"--peer=torch", BENCH_PEER_BIT(BENCH_PEER_TORCH)},
        {"--peer=TORCH,clblast", BENCH_PEERS_ALL},
        {"--peer=all", BENCH_PEERS_ALL},
        {"--peer=none", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        bench_opts o;
        const char *args[] = {cases[i].arg, "--python", "/usr/bin/python3", "ic3ih5oc4kh3", NULL};
        cr_assert_eq(parse_args(&o, args), BENCH_EXIT_OK, "%s", cases[i].arg);
        cr_expect_eq(o.peers, cases[i].want, "%s: peers %#x", cases[i].arg, o.peers);
        cr_expect_str_eq(o.python, "/usr/bin/python3");
        bench_opts_free(&o);
    }
    static const char *const bad[] = {"--peer=", "--peer=mkl", "--peer=torch,", "--peer=none,torch"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        bench_opts o;
        const char *args[] = {bad[i], "ic3ih5oc4kh3", NULL};
        cr_expect_eq(parse_args(&o, args), BENCH_EXIT_USAGE, "%s", bad[i]);
        bench_opts_free(&o);
    }
}

Test(bench_options, nested_batch_files, .init = quiet)
{
    char *dir = bench_test_tmpdir();
    char *inner = bench_test_batch(dir, "inner",
                                   "# shapes\nic3ih5oc4kh3n\"one\" ic4ih6oc4kh3_\\\n n\"two\"\n");
    char *outer = bench_test_batch(dir, "outer", "--reset --dir=bwd_d\n--batch=inner  # relative "
                                                 "to this file\n--mb=5 --batch=inner\n");
    bench_opts o;
    const char *args[] = {outer, NULL};
    cr_assert_eq(parse_args(&o, args), BENCH_EXIT_OK);
    cr_assert_eq(o.nprobs, 4);
    cr_expect_str_eq(o.probs[1].name, "two");
    cr_expect_eq(o.probs[1].d.c, 4);
    cr_expect_eq(o.probs[1].dirs, 1u << BENCH_BWD_D);
    cr_expect_eq(o.probs[1].d.n, 2);
    cr_expect_eq(o.probs[3].d.n, 5);
    bench_opts_free(&o);
    /* a file that includes itself stops at the nesting limit */
    free(bench_test_batch(dir, "inner", "--batch=inner\n"));
    args[0] = inner;
    cr_expect_eq(parse_args(&o, args), BENCH_EXIT_USAGE);
    bench_opts_free(&o);
    free(inner);
    free(outer);
    bench_test_rmtree(dir);
}

/* Like C's #include "...": a nested file is the one next to the including
 * file, even when the working directory has a file of that name; the
 * working directory is the fallback. */
Test(bench_options, nested_batch_next_to_the_including_file_first, .init = quiet)
{
    char *near = bench_test_tmpdir(), *cwd = bench_test_tmpdir();
    char *outer = bench_test_batch(near, "outer", "--batch=inner --batch=only_in_cwd\n");
    free(bench_test_batch(near, "inner", "ic3ih5oc4kh3n\"near\"\n"));
    free(bench_test_batch(cwd, "inner", "ic3ih5oc4kh3n\"cwd\"\n"));
    free(bench_test_batch(cwd, "only_in_cwd", "ic3ih5oc4kh3n\"fallback\"\n"));
    cr_assert_eq(chdir(cwd), 0);
    const char *args[] = {outer, NULL};
    bench_opts o;
    cr_assert_eq(parse_args(&o, args), BENCH_EXIT_OK);
    cr_assert_eq(o.nprobs, 2);
    cr_expect_str_eq(o.probs[0].name, "near");
    cr_expect_str_eq(o.probs[1].name, "fallback");
    bench_opts_free(&o);
    /* a file named on the command line is relative to the working directory */
    const char *args2[] = {"--batch=inner", NULL};
    cr_assert_eq(parse_args(&o, args2), BENCH_EXIT_OK);
    cr_expect_str_eq(o.probs[0].name, "cwd");
    bench_opts_free(&o);
    free(outer);
    bench_test_rmtree(near);
    bench_test_rmtree(cwd);
}

/* In a batch file a descriptor that does not parse, an all-comment file
 * and benchdnn's sizes above 2^32 do not stop the parse: the bad line is
 * counted (and printed), the rest go on.  On the command line a bad
 * descriptor stays a usage error (bench_options.usage_errors). */
Test(bench_options, batch_lines_never_abort_the_batch, .init = quiet)
{
    char *dir = bench_test_tmpdir();
    char *bad = bench_test_batch(dir, "bad", "ic3ih5oc4kh3x\nmb1ic1oc1iw4294967311kw3\n"
                                             "ic3ih5oc4kh3 mb1ic3ih5oc4oh2kh3\n");
    char *empty = bench_test_batch(dir, "empty", "# FastRCNN part 3\n"
                                                 "# mb1_g1ic512oc24_ih38oh38kh1n\"x\"\n");
    bench_opts o;
    const char *args[] = {bad, empty, NULL};
    cr_assert_eq(parse_args(&o, args), BENCH_EXIT_OK);
    cr_expect_eq(o.nprobs, 2);
    cr_expect_eq(o.invalid, 1);
    cr_expect_eq(o.unsupported, 1);
    cr_expect_eq(o.probs[0].d.w, 4294967311LL);
    cr_expect_eq(o.probs[0].file, 0);
    bench_opts_free(&o);
    /* a batch with no problems is an empty run, not "no problems" */
    const char *args2[] = {empty, NULL};
    cr_expect_eq(parse_args(&o, args2), BENCH_EXIT_OK);
    cr_expect_eq(o.nprobs, 0);
    bench_opts_free(&o);
    /* an option in a batch file still is a usage error */
    free(bench_test_batch(dir, "empty", "--dir=up ic3ih5oc4kh3\n"));
    cr_expect_eq(parse_args(&o, args2), BENCH_EXIT_USAGE);
    bench_opts_free(&o);
    free(bad);
    free(empty);
    bench_test_rmtree(dir);
}

Test(bench_options, mode_i_run_per_file_run_max_gflop, .init = quiet)
{
    bench_opts o;
    const char *args[] = {"--mode=I", "--run-per-file", "3", "--run-max-gflop=0.5", "ic3ih5oc4kh3",
                          NULL};
    cr_assert_eq(parse_args(&o, args), BENCH_EXIT_OK);
    cr_expect(o.init && !o.check && !o.perf);
    cr_expect_eq(o.run_per_file, 3);
    cr_expect(o.run_max_gflop == 0.5);
    cr_expect_eq(o.probs[0].file, -1);
    bench_opts_free(&o);
    static const char *const bad[][2] = {{"--mode=IC", NULL}, {"--run-per-file=-1", NULL},
                                         {"--run-max-gflop=0", NULL}, {"--run-per-file=x", NULL}};
    for (int i = 0; i < 4; i++) {
        const char *a[] = {bad[i][0], "ic3ih5oc4kh3", NULL};
        cr_expect_eq(parse_args(&o, a), BENCH_EXIT_USAGE, "%s", bad[i][0]);
        bench_opts_free(&o);
    }
}

/* ---- clconv 0.3's per-problem options (problem_opts.c, post_ops.c) ---- */

Test(bench_options, data_options_apply_to_the_problems_after_them, .init = quiet)
{
    bench_opts o;
    const char *args[] = {"--dt=f16", "--stag=nhwc", "--wtag=ohwi",
                          "--attr-post-ops=sum:0.5+relu", "--dir=FWD_B", "ic3ih5oc4kh3",
                          "--reset", "--cfg=bf16", "--dtag=nhwc", "ic3ih5oc4kh3",
                          "--dt=f32:f32:f32", "--dtag=any", "--wtag=gohwi", "--dir=fwd_d",
                          "--attr-post-ops=bounded_relu:6", "ic3ih5oc4kh3",
                          "--attr-post-ops=''", "--deconv", "--dir=all", "ic3ih5oc4kh3sh2",
                          "--conv", "ic3ih5oc4kh3", "--dt", "bf16", "--dir", "fwd_i",
                          "ic3ih5oc4kh3", NULL};
    cr_assert_eq(parse_args(&o, args), BENCH_EXIT_OK);
    cr_assert_eq(o.nprobs, 6);
    const bench_problem *p = o.probs;
    cr_expect(p[0].d.dtype == CLCONV_F16 && p[0].d.layout == CLCONV_NHWC &&
              p[0].d.filter_layout == CLCONV_KRSC);
    cr_expect(p[0].bias && p[0].dirs == 1u << BENCH_FWD);
    cr_expect(p[0].ops.has_sum && p[0].ops.sum == 0.5f && p[0].ops.act == CLCONV_ACT_RELU);
    cr_expect(p[1].d.dtype == CLCONV_BF16 && p[1].d.layout == CLCONV_NHWC &&
              p[1].d.filter_layout == CLCONV_KCRS && !p[1].bias && !bench_post_ops_any(&p[1].ops));
    cr_expect(p[2].d.dtype == CLCONV_F32 && p[2].d.layout == CLCONV_NCHW &&
              p[2].d.filter_layout == CLCONV_KRSC && !p[2].bias);
    cr_expect(p[2].ops.act == CLCONV_ACT_CLIPPED_RELU && p[2].ops.param == 6.0f);
    cr_expect(p[3].deconv && p[3].dirs == BENCH_DIRS_ALL && !bench_post_ops_any(&p[3].ops));
    cr_expect(p[3].d.c == 3 && p[3].d.k == 4 && p[3].d.h == 5); /* deconv's own roles */
    cr_expect(!p[4].deconv);
    cr_expect(p[5].d.dtype == CLCONV_BF16 && p[5].bias);
    /* --reset keeps the driver */
    const char *args2[] = {"--deconv", "--reset", "ic3ih5oc4kh3", NULL};
    bench_opts_free(&o);
    cr_assert_eq(parse_args(&o, args2), BENCH_EXIT_OK);
    cr_expect(o.probs[0].deconv);
    bench_opts_free(&o);
}

Test(bench_options, data_option_usage_errors, .init = quiet)
{
    static const char *const bad[][3] = {
        {"--dt=s8", NULL},
        {"--dt=f16:f32", NULL},
        {"--cfg=u8s8u8s32", NULL},
        {"--stag=nChw16c", NULL},
        {"--wtag=hwio", NULL},
        {"--stag=nhwc", "--dtag=nchw"},
        {"--attr-post-ops=gelu", NULL},
        {"--attr-post-ops=relu+sum", NULL},
        {"--attr-post-ops=sum+sum", NULL},
        {"--attr-post-ops=relu+tanh", NULL},
        {"--attr-post-ops=bounded_relu:0", NULL},
        {"--attr-post-ops=bounded_relu", NULL},
        {"--attr-post-ops=clip:1:6", NULL},
        {"--attr-post-ops=relu:-1", NULL},
        {"--attr-post-ops=relu:x", NULL},
        {"--attr-post-ops=sum:1:3", NULL},
        {"--attr-post-ops=relu:0:0:2", NULL},
        {"--attr-post-ops=relu+", NULL},
        {"--attr-post-ops=relu", "--dir=bwd_d"},
        {"--dir=all", "--attr-post-ops=tanh"},
        {"--dir=BWD_WB", "--attr-post-ops=sum"},
        {"--deconv", "--attr-post-ops=relu"},
        {NULL, NULL},
    };
    for (int i = 0; bad[i][0]; i++) {
        bench_opts o;
        const char *args[] = {bad[i][0], bad[i][1] ? bad[i][1] : "ic3ih5oc4kh3",
                              bad[i][1] ? "ic3ih5oc4kh3" : NULL, NULL};
        cr_expect_eq(parse_args(&o, args), BENCH_EXIT_USAGE, "case %d (%s %s)", i, bad[i][0],
                     bad[i][1] ? bad[i][1] : "");
        bench_opts_free(&o);
    }
    /* in a batch file too: the options' combination is the command's mistake */
    char *dir = bench_test_tmpdir();
    char *batch = bench_test_batch(dir, "b", "--attr-post-ops=relu --dir=bwd_w ic3ih5oc4kh3\n");
    bench_opts o;
    const char *args[] = {batch, NULL};
    cr_expect_eq(parse_args(&o, args), BENCH_EXIT_USAGE);
    bench_opts_free(&o);
    free(batch);
    bench_test_rmtree(dir);
}

/* What the usage errors say (the parser prints them; these are its words). */
Test(bench_options, data_option_messages)
{
    bench_features f;
    memset(&f, 0, sizeof f);
    bench_features_reset(&f);
    char err[320];
    bench_problem p;
    memset(&p, 0, sizeof p);
    cr_assert_eq(bench_features_option(&f, "--attr-post-ops=relu", err, sizeof err), 1);
    p.dirs = (1u << BENCH_FWD) | (1u << BENCH_BWD_D);
    cr_assert_eq(bench_features_apply(&f, &p, err, sizeof err), -1);
    cr_expect(strstr(err, "CLCONV_BAD_EPILOGUE") && strstr(err, "fwd,bwd_d"), "%s", err);
    cr_expect_eq(bench_features_option(&f, "--attr-post-ops=bounded_relu:0", err, sizeof err), -1);
    cr_expect(strstr(err, "CLCONV_BAD_EPILOGUE"), "%s", err);
    bench_features_reset(&f);
    cr_assert_eq(bench_features_option(&f, "--stag=nhwc", err, sizeof err), 1);
    cr_assert_eq(bench_features_option(&f, "--dtag=nchw", err, sizeof err), 1);
    p.dirs = 1u << BENCH_FWD;
    cr_assert_eq(bench_features_apply(&f, &p, err, sizeof err), -1);
    cr_expect(strstr(err, "--stag=nhwc with --dtag=nchw") && strstr(err, "one layout"), "%s",
              err);
    cr_expect_eq(bench_features_option(&f, "--dt=f16:bf16", err, sizeof err), -1);
    cr_expect(strstr(err, "one data type"), "%s", err);
    cr_expect_eq(bench_features_option(&f, "--attr-post-ops=relu+sum", err, sizeof err), -1);
    cr_expect(strstr(err, "before the eltwise"), "%s", err);
    cr_expect_eq(bench_features_option(&f, "--mb=3", err, sizeof err), 0);
}

static bench_post_ops ops_ok(const char *s)
{
    bench_post_ops p;
    char err[200];
    cr_assert_eq(bench_post_ops_parse(s, &p, err, sizeof err), 0, "%s: %s", s, err);
    return p;
}

Test(bench_post_ops, benchdnn_syntax_reads_and_prints_back)
{
    static const struct { const char *in, *out; int sum, act; float param; } cases[] = {
        {"relu", "relu", 0, CLCONV_ACT_RELU, 0},
        {"relu:0", "relu", 0, CLCONV_ACT_RELU, 0},
        {"eltwise_relu:0.25", "relu:0.25", 0, CLCONV_ACT_LEAKY_RELU, 0.25f},
        {"bounded_relu:6", "clip:0:6", 0, CLCONV_ACT_CLIPPED_RELU, 6},
        {"clip:0:6", "clip:0:6", 0, CLCONV_ACT_CLIPPED_RELU, 6},
        {"logistic", "logistic", 0, CLCONV_ACT_SIGMOID, 0},
        {"tanh", "tanh", 0, CLCONV_ACT_TANH, 0},
        {"sum", "sum", 1, CLCONV_ACT_IDENTITY, 0},
        {"sum:0.5;tanh", "sum:0.5+tanh", 1, CLCONV_ACT_TANH, 0},
        {"sum:1+relu:0.1", "sum+relu:0.1", 1, CLCONV_ACT_LEAKY_RELU, 0.1f},
        {"", "", 0, CLCONV_ACT_IDENTITY, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        bench_post_ops p = ops_ok(cases[i].in);
        cr_expect_eq(p.has_sum, cases[i].sum, "%s", cases[i].in);
        cr_expect_eq(p.act, cases[i].act, "%s", cases[i].in);
        cr_expect(p.param == cases[i].param, "%s: param %g", cases[i].in, (double)p.param);
        char buf[64];
        bench_post_ops_format(&p, buf, sizeof buf);
        cr_expect_str_eq(buf, cases[i].out, "%s", cases[i].in);
        bench_post_ops q = ops_ok(buf);
        cr_expect(memcmp(&p, &q, sizeof p) == 0, "%s -> %s reads differently", cases[i].in, buf);
    }
}

Test(bench_post_ops, float64_epilogue)
{
    bench_post_ops r = ops_ok("relu"), l = ops_ok("relu:0.5"), c = ops_ok("clip:0:6");
    bench_post_ops sg = ops_ok("logistic"), th = ops_ok("tanh"), sum = ops_ok("sum:0.5+relu");
    cr_expect(bench_post_ops_apply(&r, -3, 100, 1) == 0);
    cr_expect(bench_post_ops_apply(&r, 3, 100, 1) == 4); /* old only with a sum */
    cr_expect(bench_post_ops_apply(&l, -3, 0, 1) == -1);
    cr_expect(bench_post_ops_apply(&c, 9, 0, 0) == 6 && bench_post_ops_apply(&c, -1, 0, 0) == 0);
    cr_expect(bench_post_ops_apply(&sg, 0, 0, 0) == 0.5);
    cr_expect(fabs(bench_post_ops_apply(&th, 1, 0, 0) - tanh(1.0)) < 1e-15);
    cr_expect(bench_post_ops_apply(&sum, 1, 4, 0.5) == 3.5);
    cr_expect(bench_post_ops_apply(&sum, -1, -4, 0.5) == 0);
    clconv_epilogue e;
    bench_post_ops_epilogue(&sum, &e);
    cr_expect(e.alpha == 1.0f && e.beta == 0.5f && e.activation == CLCONV_ACT_RELU && !e.bias);
}
