/* clconv-bench --svg: the chart is well-formed XML (checked by the small
 * parser below, which follows XML 1.0's rules for what the chart uses:
 * one root element, matched tags, quoted and unique attributes, entity
 * and character references, no markup characters loose in text) and has
 * one bar per timed row: each clconv row with a time, and each peer's time
 * of a layer and pass. */
#include <criterion/criterion.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../tools/bench/options.h"

/* In test_bench_parse.c and test_bench_run.c. */
char *bench_test_slurp(const char *path);
char *bench_test_tmpdir(void);
void bench_test_rmtree(char *dir);
int bench_test_run_tool(char **args, int nargs, char **out);
char *bench_test_fake_torch(const char *dir, const char *name, int status);

/* ---- a well-formedness checker ---- */

typedef struct xml {
    const char *s;
    size_t at;
    int bars, peak_lines, elements;
    char err[160];
} xml;

static int fail(xml *x, const char *what)
{
    if (!x->err[0])
        snprintf(x->err, sizeof x->err, "at byte %zu: %s", x->at, what);
    return -1;
}

static int name_start(int c)
{
    return isalpha(c) || c == '_' || c == ':';
}

static int name_char(int c)
{
    return name_start(c) || isdigit(c) || c == '-' || c == '.';
}

static void skip_space(xml *x)
{
    while (x->s[x->at] && strchr(" \t\r\n", x->s[x->at]))
        x->at++;
}

/* A name into buf (cut to cap). */
static int read_name(xml *x, char *buf, size_t cap)
{
    size_t n = 0;
    if (!name_start((unsigned char)x->s[x->at]))
        return fail(x, "a name expected");
    while (name_char((unsigned char)x->s[x->at])) {
        if (n + 1 < cap)
            buf[n++] = x->s[x->at];
        x->at++;
    }
    buf[n] = '\0';
    return 0;
}

/* &name; or &#N; or &#xN; at x->at. */
static int reference(xml *x)
{
    static const char *const names[] = {"amp;", "lt;", "gt;", "quot;", "apos;"};
    const char *p = x->s + x->at + 1;
    for (size_t i = 0; i < 5; i++)
        if (strncmp(p, names[i], strlen(names[i])) == 0) {
            x->at += 1 + strlen(names[i]);
            return 0;
        }
    size_t n = 0;
    if (p[0] == '#' && p[1] == 'x')
        for (p += 2; isxdigit((unsigned char)p[n]); n++)
            ;
    else if (p[0] == '#')
        for (p += 1; isdigit((unsigned char)p[n]); n++)
            ;
    if (!n || p[n] != ';')
        return fail(x, "a bad reference after &");
    x->at = (size_t)(p + n + 1 - x->s);
    return 0;
}

/* Character data up to the next '<' (or the end of the document). */
static int text(xml *x, int inside)
{
    for (char c; (c = x->s[x->at]) && c != '<';) {
        if (c == '&' && reference(x))
            return -1;
        if (c == '&')
            continue;
        if (c == '>' || (!inside && !isspace((unsigned char)c)))
            return fail(x, inside ? "'>' in text" : "text outside the root element");
        if ((unsigned char)c < 0x20 && !isspace((unsigned char)c))
            return fail(x, "a control character");
        x->at++;
    }
    return 0;
}

typedef struct attrs {
    char names[16][32];
    int n, is_bar, is_peak;
} attrs;

static int attribute(xml *x, attrs *a)
{
    char name[32], value[64];
    size_t nv = 0;
    if (read_name(x, name, sizeof name))
        return -1;
    for (int i = 0; i < a->n; i++)
        if (strcmp(a->names[i], name) == 0)
            return fail(x, "a repeated attribute");
    if (a->n < 16)
        snprintf(a->names[a->n++], sizeof a->names[0], "%s", name);
    skip_space(x);
    if (x->s[x->at] != '=')
        return fail(x, "'=' expected");
    x->at++;
    skip_space(x);
    char q = x->s[x->at];
    if (q != '"' && q != '\'')
        return fail(x, "an unquoted attribute value");
    for (x->at++; x->s[x->at] != q; ) {
        char c = x->s[x->at];
        if (!c || c == '<')
            return fail(x, "'<' or the end in an attribute value");
        if (c == '&' && reference(x))
            return -1;
        if (c != '&') {
            if (nv + 1 < sizeof value)
                value[nv++] = c;
            x->at++;
        }
    }
    value[nv] = '\0';
    x->at++;
    a->is_bar |= strcmp(name, "class") == 0 && strcmp(value, "bar") == 0;
    a->is_peak |= strcmp(name, "class") == 0 && strcmp(value, "peak") == 0;
    return 0;
}

static int element(xml *x, int depth);

static int content(xml *x, const char *tag, int depth)
{
    for (;;) {
        if (text(x, 1))
            return -1;
        if (!x->s[x->at])
            return fail(x, "an element left open");
        if (x->s[x->at + 1] != '/') {
            if (element(x, depth + 1))
                return -1;
            continue;
        }
        char end[32];
        x->at += 2;
        if (read_name(x, end, sizeof end))
            return -1;
        if (strcmp(end, tag) != 0)
            return fail(x, "an end tag that does not match");
        skip_space(x);
        if (x->s[x->at] != '>')
            return fail(x, "'>' expected");
        x->at++;
        return 0;
    }
}

static int element(xml *x, int depth)
{
    char tag[32];
    attrs a = {0};
    if (depth > 64)
        return fail(x, "nested too deeply");
    x->at++; /* '<' */
    if (read_name(x, tag, sizeof tag))
        return -1;
    x->elements++;
    for (;;) {
        size_t before = x->at;
        skip_space(x);
        char c = x->s[x->at];
        if (c == '/' || c == '>')
            break;
        if (x->at == before)
            return fail(x, "space expected before an attribute");
        if (attribute(x, &a))
            return -1;
    }
    x->bars += strcmp(tag, "rect") == 0 && a.is_bar;
    x->peak_lines += strcmp(tag, "line") == 0 && a.is_peak;
    if (x->s[x->at] == '/') {
        if (x->s[x->at + 1] != '>')
            return fail(x, "'/>' expected");
        x->at += 2;
        return 0;
    }
    x->at++;
    return content(x, tag, depth);
}

/* 0 if s is a well-formed document (an XML declaration, one root element). */
static int xml_check(const char *s, xml *x)
{
    memset(x, 0, sizeof *x);
    x->s = s;
    if (strncmp(s, "<?xml ", 6) == 0) {
        const char *end = strstr(s, "?>");
        if (!end)
            return fail(x, "an unterminated XML declaration");
        x->at = (size_t)(end + 2 - s);
    }
    if (text(x, 0))
        return -1;
    if (x->s[x->at] != '<' || element(x, 0))
        return fail(x, "no root element");
    if (text(x, 0) || x->s[x->at])
        return fail(x, "something after the root element");
    return 0;
}

Test(bench_svg, the_checker_refuses_what_is_not_xml)
{
    static const char *const bad[] = {
        "<svg><rect></svg>", "<svg a=\"1\" a=\"2\"/>", "<svg a=1/>", "<svg>&nbsp;</svg>",
        "<svg>a < b</svg>", "<svg/><svg/>", "<svg><title>x</titl></svg>", "text<svg/>",
        "<svg a=\"<\"/>", "<svg>&#xZ;</svg>",
    };
    xml x;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_expect_neq(xml_check(bad[i], &x), 0, "accepted: %s", bad[i]);
    cr_expect_eq(xml_check("<?xml version=\"1.0\"?>\n<svg><rect class=\"bar\"/><g><rect "
                           "class='bar'>&amp;&#60;&#x3e;</rect></g></svg>\n", &x), 0, "%s", x.err);
    cr_expect_eq(x.bars, 2);
}

/* ---- the CSV rows the chart must match ---- */

/* Field i (0-based) of a CSV line, quotes removed, into buf. */
static void csv_field(const char *line, int i, char *buf, size_t cap)
{
    size_t n = 0;
    int q = 0;
    for (int f = 0; *line && *line != '\n'; line++) {
        if (*line == '"' && q && line[1] == '"') {
            if (f == i && n + 1 < cap)
                buf[n++] = '"';
            line++;
        } else if (*line == '"') {
            q = !q;
        } else if (*line == ',' && !q) {
            if (f++ == i)
                break;
        } else if (f == i && n + 1 < cap) {
            buf[n++] = *line;
        }
    }
    buf[n] = '\0';
}

/* Column of name in the header line. */
static int csv_column(const char *header, const char *name)
{
    char f[64];
    for (int i = 0; i < 64; i++) {
        csv_field(header, i, f, sizeof f);
        if (strcmp(f, name) == 0)
            return i;
    }
    cr_assert_fail("no column %s in %s", name, header);
    return -1;
}

/* The bars a run's CSV calls for: its rows with a time, and per layer and
 * pass each peer's time (the same on every algorithm's row). */
static int expected_bars(const char *csv)
{
    const char *header = strstr(csv, "id,name,");
    cr_assert_not_null(header, "%s", csv);
    int c_gflops = csv_column(header, "gflops"), c_name = csv_column(header, "name"),
        c_pass = csv_column(header, "pass");
    int c_peer[BENCH_NPEERS];
    for (int p = 0; p < BENCH_NPEERS; p++) {
        char col[48];
        snprintf(col, sizeof col, "%s_median_ms", bench_peer_name(p));
        c_peer[p] = csv_column(header, col);
    }
    int bars = 0;
    char prev[200] = "";
    for (const char *l = strchr(header, '\n'); l && l[1]; l = strchr(l + 1, '\n')) {
        char f[200], key[200], name[100], pass[16];
        size_t digits = strspn(l + 1, "0123456789");
        if (!digits || l[1 + digits] != ',') /* not a row: a message on stderr */
            continue;
        csv_field(l + 1, c_gflops, f, sizeof f);
        bars += f[0] != '\0';
        csv_field(l + 1, c_name, name, sizeof name);
        csv_field(l + 1, c_pass, pass, sizeof pass);
        snprintf(key, sizeof key, "%s/%s", name, pass);
        for (int p = 0; p < BENCH_NPEERS && strcmp(key, prev); p++) {
            csv_field(l + 1, c_peer[p], f, sizeof f);
            bars += f[0] != '\0';
        }
        snprintf(prev, sizeof prev, "%s", key);
    }
    return bars;
}

static void check_chart(const char *svg_path, const char *csv, int want_min)
{
    char *svg = bench_test_slurp(svg_path);
    xml x;
    cr_expect_eq(xml_check(svg, &x), 0, "%s is not well-formed XML: %s", svg_path, x.err);
    int want = expected_bars(csv);
    cr_expect_geq(want, want_min, "%s", csv);
    cr_expect_eq(x.bars, want, "%d bars, %d timed rows:\n%s", x.bars, want, csv);
    cr_expect_eq(x.peak_lines, 1, "the peak line");
    free(svg);
}

Test(bench_svg, one_bar_per_timed_row)
{
    char *dir = bench_test_tmpdir(), svg[300], opt[320];
    snprintf(svg, sizeof svg, "%s/chart.svg", dir);
    snprintf(opt, sizeof opt, "--svg=%s", svg);
    char *out;
    /* every pass, two algorithms, a name the chart must escape; the bias
     * rows are timed rows too */
    int rc = bench_test_run_tool((char *[]){"--mode=P", "--csv", "--reps=1", "--warmup=0",
                                            "--peak-gflops=100", opt, "--dir=all",
                                            "--algo=auto,direct", "mb1ic3ih6oc4kh3ph1n\"a<&>'b\"",
                                            "mb1ic4ih5oc2kh1n\"c\""}, 10, &out);
    cr_expect_eq(rc, 0, "exit %d: %s", rc, out);
    check_chart(svg, out, 14);
    free(out);
    bench_test_rmtree(dir);
}

Test(bench_svg, peers_get_a_bar_per_layer_and_pass)
{
    char *dir = bench_test_tmpdir(), svg[300], opt[320], script[320];
    char *fake = bench_test_fake_torch(dir, "fake.sh", 0);
    snprintf(svg, sizeof svg, "%s/chart.svg", dir);
    snprintf(opt, sizeof opt, "--svg=%s", svg);
    snprintf(script, sizeof script, "--torch-script=%s", fake);
    char *out;
    int rc = bench_test_run_tool((char *[]){"--mode=P", "--csv", "--reps=1", "--warmup=0",
                                            "--peak-gflops=100", opt, "--peer=torch",
                                            "--python=/bin/sh", script, "--dir=fwd,bwd_w,bwd_b",
                                            "--algo=auto,gemm", "mb1ic3ih6oc4kh3ph1n\"a\"",
                                            "mb1ic4ih5oc2kh1n\"c\""}, 13, &out);
    cr_expect_eq(rc, 0, "exit %d: %s", rc, out);
    /* 2 layers: 2 passes x 2 algorithms + bias, and the peer on 2 passes */
    check_chart(svg, out, 2 * (2 * 2 + 1 + 2));
    char *text = bench_test_slurp(svg);
    cr_expect(strstr(text, "PyTorch (oneDNN)"), "the legend names the peer");
    free(text);
    free(out);
    free(fake);
    bench_test_rmtree(dir);
}

Test(bench_svg, a_chart_that_cannot_be_written_fails_the_run)
{
    char *out;
    int rc = bench_test_run_tool((char *[]){"--reps=1", "--warmup=0", "--peak-gflops=100",
                                            "--svg=/no/such/dir/chart.svg", "mb1ic3ih5oc4kh3"},
                                 5, &out);
    cr_expect_eq(rc, BENCH_EXIT_FAILED, "exit %d: %s", rc, out);
    cr_expect(strstr(out, "--svg=/no/such/dir/chart.svg: cannot write"), "%s", out);
    free(out);
}
