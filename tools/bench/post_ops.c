/* post_ops.c - benchdnn post-ops <-> clconv's epilogue (see post_ops.h). */
#include "post_ops.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "errmsg.h"

#define MAX_FIELDS 5

/* One post-op split at ':' into its kind and up to MAX_FIELDS - 1 values. */
typedef struct ops_item {
    char text[96];
    const char *f[MAX_FIELDS];
    int n;
} ops_item;

static int ops_split(const char *s, size_t len, ops_item *it, char *err, size_t cap)
{
    if (len == 0 || len >= sizeof it->text)
        return bench_err(err, cap, "post-op \"%.*s\": %s", (int)(len > 40 ? 40 : len), s,
                    len ? "too long" : "empty (two separators in a row?)");
    memcpy(it->text, s, len);
    it->text[len] = '\0';
    it->n = 0;
    for (char *p = it->text; it->n < MAX_FIELDS; p++) {
        it->f[it->n++] = p;
        if (!(p = strchr(p, ':')))
            return 0;
        *p = '\0';
    }
    return bench_err(err, cap, "post-op \"%.*s\": too many ':' fields", (int)len, s);
}

/* Field i as a finite number (def when absent or empty). */
static int ops_number(const ops_item *it, int i, float def, float *out, char *err, size_t cap)
{
    *out = def;
    if (i >= it->n || !*it->f[i])
        return 0;
    char *end;
    float v = strtof(it->f[i], &end);
    if (*end || !isfinite(v))
        return bench_err(err, cap, "post-op \"%s\": \"%s\" is not a finite number", it->f[0],
                    it->f[i]);
    *out = v;
    return 0;
}

static int parse_sum(const ops_item *it, bench_post_ops *p, char *err, size_t cap)
{
    float zero;
    if (p->has_sum)
        return bench_err(err, cap, "post-ops: clconv's epilogue holds one sum");
    if (p->act != CLCONV_ACT_IDENTITY)
        return bench_err(err, cap, "post-ops: the sum must come before the eltwise (clconv computes "
                              "act(conv + sum * y_old + bias))");
    if (ops_number(it, 1, 1.0f, &p->sum, err, cap) || ops_number(it, 2, 0.0f, &zero, err, cap))
        return -1;
    if (zero != 0.0f || it->n > 3)
        return bench_err(err, cap, "post-op sum: only a scale (sum:SCALE); clconv has no zero point "
                              "or data type for it");
    p->has_sum = 1;
    return 0;
}

/* benchdnn's eltwise kind into clconv's activation and parameter. */
static int eltwise(const char *kind, float a, float b, bench_post_ops *p)
{
    if (!strcasecmp(kind, "relu")) {
        p->act = a != 0.0f ? CLCONV_ACT_LEAKY_RELU : CLCONV_ACT_RELU;
        p->param = a;
    } else if (!strcasecmp(kind, "bounded_relu")) {
        p->act = CLCONV_ACT_CLIPPED_RELU;
        p->param = a;
    } else if (!strcasecmp(kind, "clip")) {
        if (a != 0.0f)
            return -2;
        p->act = CLCONV_ACT_CLIPPED_RELU;
        p->param = b;
    } else if (!strcasecmp(kind, "logistic")) {
        p->act = CLCONV_ACT_SIGMOID;
    } else if (!strcasecmp(kind, "tanh")) {
        p->act = CLCONV_ACT_TANH;
    } else {
        return -1;
    }
    return 0;
}

static int parse_eltwise(const ops_item *it, bench_post_ops *p, char *err, size_t cap)
{
    const char *kind = it->f[0];
    if (!strncasecmp(kind, "eltwise_", 8))
        kind += 8;
    if (p->act != CLCONV_ACT_IDENTITY)
        return bench_err(err, cap, "post-ops: clconv's epilogue holds one eltwise");
    float a, b, scale;
    if (ops_number(it, 1, 0.0f, &a, err, cap) || ops_number(it, 2, 0.0f, &b, err, cap) ||
        ops_number(it, 3, 1.0f, &scale, err, cap))
        return -1;
    if (scale != 1.0f)
        return bench_err(err, cap, "post-op %s: clconv has no eltwise output scale (want 1)", kind);
    int rc = eltwise(kind, a, b, p);
    if (rc == -2)
        return bench_err(err, cap, "post-op clip:%g:%g: clconv clips below at 0 only (clip:0:BETA)",
                    (double)a, (double)b);
    if (rc)
        return bench_err(err, cap, "post-op \"%s\": want sum, relu, bounded_relu, clip, logistic or "
                              "tanh (clconv's epilogue)", it->f[0]);
    return 0;
}

/* The values, as the library will judge them. */
static int ops_check(const bench_post_ops *p, const char *s, char *err, size_t cap)
{
    clconv_epilogue e;
    bench_post_ops_epilogue(p, &e);
    clconv_status st = clconv_epilogue_check(&e);
    if (st == CLCONV_OK)
        return 0;
    return bench_err(err, cap, "post-ops \"%s\": %s: %s (clipped ReLU needs an upper bound > 0, "
                          "leaky ReLU a slope >= 0)", s, clconv_status_name(st),
                clconv_status_string(st));
}

int bench_post_ops_parse(const char *s, bench_post_ops *p, char *err, size_t cap)
{
    bench_post_ops r = {0, 0.0f, CLCONV_ACT_IDENTITY, 0.0f};
    /* benchdnn writes an empty list as '' */
    if (!strcmp(s, "''") || !strcmp(s, "\"\""))
        s = "";
    for (const char *q = s; *q;) {
        size_t len = strcspn(q, "+;");
        ops_item it;
        if (ops_split(q, len, &it, err, cap))
            return -1;
        int rc = !strcasecmp(it.f[0], "sum") ? parse_sum(&it, &r, err, cap)
                                             : parse_eltwise(&it, &r, err, cap);
        if (rc)
            return -1;
        q += len;
        if (*q && !*++q)
            return bench_err(err, cap, "post-ops \"%s\": nothing after the last separator", s);
    }
    if (ops_check(&r, s, err, cap))
        return -1;
    *p = r;
    return 0;
}

int bench_post_ops_any(const bench_post_ops *p)
{
    return p->has_sum || p->act != CLCONV_ACT_IDENTITY;
}

/* v as the shortest of %g and %.9g that reads back as v. */
static void ops_num(char *buf, size_t cap, float v)
{
    snprintf(buf, cap, "%g", (double)v);
    if (strtof(buf, NULL) != v)
        snprintf(buf, cap, "%.9g", (double)v);
}

int bench_post_ops_format(const bench_post_ops *p, char *buf, size_t cap)
{
    char s[40] = "", a[40] = "", v[24];
    if (p->has_sum && p->sum != 1.0f) {
        ops_num(v, sizeof v, p->sum);
        snprintf(s, sizeof s, "sum:%s", v);
    } else if (p->has_sum) {
        snprintf(s, sizeof s, "sum");
    }
    ops_num(v, sizeof v, p->param);
    switch (p->act) {
    case CLCONV_ACT_RELU: snprintf(a, sizeof a, "relu"); break;
    case CLCONV_ACT_LEAKY_RELU: snprintf(a, sizeof a, "relu:%s", v); break;
    case CLCONV_ACT_CLIPPED_RELU: snprintf(a, sizeof a, "clip:0:%s", v); break;
    case CLCONV_ACT_SIGMOID: snprintf(a, sizeof a, "logistic"); break;
    case CLCONV_ACT_TANH: snprintf(a, sizeof a, "tanh"); break;
    default: break;
    }
    return snprintf(buf, cap, "%s%s%s", s, *s && *a ? "+" : "", a);
}

void bench_post_ops_epilogue(const bench_post_ops *p, clconv_epilogue *e)
{
    clconv_epilogue_init(e);
    e->beta = p->has_sum ? p->sum : 0.0f;
    e->activation = p->act;
    e->param = p->param;
}

double bench_post_ops_apply(const bench_post_ops *p, double acc, double old, double bias)
{
    double v = acc + bias + (p->has_sum ? (double)p->sum * old : 0.0);
    const double a = p->param;
    switch (p->act) {
    case CLCONV_ACT_RELU: return v < 0 ? 0 : v;
    case CLCONV_ACT_CLIPPED_RELU: return v < 0 ? 0 : v > a ? a : v;
    case CLCONV_ACT_LEAKY_RELU: return v < 0 ? a * v : v;
    case CLCONV_ACT_SIGMOID: return 1.0 / (1.0 + exp(-v));
    case CLCONV_ACT_TANH: return tanh(v);
    default: return v;
    }
}
