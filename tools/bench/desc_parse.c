/* desc_parse.c - benchdnn convolution descriptors (see desc_parse.h). */
#include "desc_parse.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

enum { SP_D, SP_H, SP_W, SP_N };

/* What benchdnn's desc_t holds, with its "not given" markers: 0 for sizes,
 * -1 for paddings, g -1 (no groups given). */
typedef struct raw_desc {
    int64_t g, mb, ic, oc;
    int64_t i[SP_N], o[SP_N], k[SP_N], s[SP_N], p[SP_N], dl[SP_N];
} raw_desc;

static const char sp_name[SP_N] = {'d', 'h', 'w'};

static bench_desc_status fail(char *err, size_t cap, bench_desc_status st, const char *fmt, ...)
{
    if (err && cap > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, cap, fmt, ap);
        va_end(ap);
    }
    return st;
}

static void raw_init(raw_desc *r)
{
    memset(r, 0, sizeof *r);
    r->g = -1;
    r->mb = 2;
    for (int x = 0; x < SP_N; x++) {
        r->s[x] = 1;
        r->p[x] = -1;
    }
}

/* The field a key names, or NULL.  *len gets the key's length. */
static int64_t *raw_field(raw_desc *r, const char *s, size_t *len)
{
    static const char *const keys[] = {"mb", "ic", "oc", "i", "o", "k", "s", "p", "d"};
    if (s[0] == 'g') {
        *len = 1;
        return &r->g;
    }
    for (int j = 0; j < 9; j++) {
        size_t kl = strlen(keys[j]);
        if (strncmp(s, keys[j], kl) != 0)
            continue;
        if (j < 3) {
            *len = kl;
            return j == 0 ? &r->mb : j == 1 ? &r->ic : &r->oc;
        }
        const char *sp = memchr(sp_name, s[1], SP_N);
        if (s[1] == '\0' || !sp)
            return NULL;
        int x = (int)(sp - sp_name);
        int64_t *arr[] = {r->i, r->o, r->k, r->s, r->p, r->dl};
        *len = 2;
        return &arr[j - 3][x];
    }
    return NULL;
}

/* Decimal digits at *s into *v; advances *s.  0 if none, -1 if too large. */
static int parse_uint(const char **s, int64_t *v)
{
    const char *p = *s;
    int64_t x = 0;
    while (*p >= '0' && *p <= '9') {
        int digit = *p - '0';
        if (x > (BENCH_DESC_MAX_VALUE - digit) / 10)
            return -1;
        x = x * 10 + digit;
        p++;
    }
    if (p == *s)
        return 0;
    *s = p;
    *v = x;
    return 1;
}

static void copy_name(const char *s, char *name, size_t cap)
{
    if (!name || cap == 0)
        return;
    size_t len = strlen(s);
    if (len >= 2 && s[0] == '"' && s[len - 1] == '"') {
        s++;
        len -= 2;
    }
    if (len >= cap)
        len = cap - 1;
    memcpy(name, s, len);
    name[len] = '\0';
}

/* The key/value loop of benchdnn's str2desc (underscores ignored anywhere). */
static bench_desc_status scan(const char *str, raw_desc *r, const char **name, char *err,
                              size_t cap)
{
    const char *s = str;
    *name = "";
    while (*s) {
        if (*s == '_') {
            s++;
            continue;
        }
        if (*s == 'n') {
            *name = s + 1;
            return BENCH_DESC_OK;
        }
        size_t kl = 0;
        int64_t *f = raw_field(r, s, &kl);
        if (!f)
            return fail(err, cap, BENCH_DESC_INVALID,
                        "unrecognized text at \"%.20s\" in descriptor \"%.80s\"", s, str);
        const char *key = s;
        s += kl;
        int got = parse_uint(&s, f);
        if (got == 0)
            return fail(err, cap, BENCH_DESC_INVALID,
                        "no value for \"%.*s\" in descriptor \"%.80s\" (want a non-negative integer)",
                        (int)kl, key, str);
        if (got < 0)
            return fail(err, cap, BENCH_DESC_INVALID,
                        "value of \"%.*s\" exceeds %lld in descriptor \"%.80s\"", (int)kl, key,
                        (long long)BENCH_DESC_MAX_VALUE, str);
    }
    return BENCH_DESC_OK;
}

static int64_t extent(int64_t k, int64_t dl)
{
    return (k - 1) * (dl + 1) + 1;
}

/* Whether a*b stays within the value limit (a, b >= 0): the products the
 * parser forms, (k-1)*(d+1) and (o-1)*s, of two values up to the limit
 * could overflow int64. */
static int product_fits(int64_t a, int64_t b)
{
    return a == 0 || b <= BENCH_DESC_MAX_VALUE / a;
}

/* benchdnn's compute_out / compute_pad, C division truncating like C++;
 * a deconvolution's (benchdnn's deconv driver) run the other way, from
 * its input i to its output o. */
static int64_t compute_out(int deconv, int64_t i, int64_t k, int64_t s, int64_t p, int64_t dl)
{
    if (deconv)
        return (i - 1) * s + extent(k, dl) - 2 * p;
    return (i - extent(k, dl) + 2 * p) / s + 1;
}

static int64_t compute_pad(int deconv, int64_t o, int64_t i, int64_t k, int64_t s, int64_t dl)
{
    if (deconv)
        return ((i - 1) * s - o + extent(k, dl)) / 2;
    return ((o - 1) * s - i + extent(k, dl)) / 2;
}

static int dim_given(const raw_desc *r, int x)
{
    return (r->i[x] | r->k[x] | r->o[x] | r->dl[x]) != 0 || r->s[x] != 1 || r->p[x] >= 1;
}

/* Output and padding of one given spatial dimension, as benchdnn deduces them. */
static bench_desc_status infer_dim(raw_desc *r, int x, int deconv, const char *str, char *err,
                                   size_t cap)
{
    char c = sp_name[x];
    if (r->i[x] == 0 || r->k[x] == 0)
        return fail(err, cap, BENCH_DESC_INVALID,
                    "\"i%c\" and \"k%c\" must be given and positive when any %c value is, in "
                    "descriptor \"%.80s\"", c, c, c, str);
    /* the products each direction's formulas form */
    if (!product_fits(r->k[x] - 1, r->dl[x] + 1) ||
        (r->o[x] > 0 && !product_fits(r->o[x] - 1, r->s[x])) ||
        (deconv && !product_fits(r->i[x] - 1, r->s[x])))
        return fail(err, cap, BENCH_DESC_INVALID,
                    "the kernel extent or the output span in %c exceeds %lld in descriptor "
                    "\"%.80s\"", c, (long long)BENCH_DESC_MAX_VALUE, str);
    if (r->o[x] == 0) {
        if (r->p[x] < 0)
            r->p[x] = 0;
        r->o[x] = compute_out(deconv, r->i[x], r->k[x], r->s[x], r->p[x], r->dl[x]);
        if (r->o[x] <= 0)
            return fail(err, cap, BENCH_DESC_INVALID,
                        "the deduced output o%c is %lld (%s) in descriptor \"%.80s\"", c,
                        (long long)r->o[x], deconv ? "padding larger than the output it crops"
                                                   : "kernel larger than the padded input", str);
    } else if (r->p[x] < 0) {
        r->p[x] = compute_pad(deconv, r->o[x], r->i[x], r->k[x], r->s[x], r->dl[x]);
    }
    /* so that every accepted descriptor can be written out and read back */
    if (r->o[x] > BENCH_DESC_MAX_VALUE || r->p[x] > BENCH_DESC_MAX_VALUE)
        return fail(err, cap, BENCH_DESC_INVALID,
                    "the deduced o%c%lld or p%c%lld exceeds %lld in descriptor \"%.80s\"", c,
                    (long long)r->o[x], c, (long long)r->p[x], (long long)BENCH_DESC_MAX_VALUE,
                    str);
    /* and a deduced output passes the check a given one does */
    if (!product_fits(r->o[x] - 1, r->s[x]))
        return fail(err, cap, BENCH_DESC_INVALID,
                    "the deduced o%c%lld makes the output span in %c exceed %lld in descriptor "
                    "\"%.80s\"", c, (long long)r->o[x], c, (long long)BENCH_DESC_MAX_VALUE, str);
    return BENCH_DESC_OK;
}

static void copy_dim(raw_desc *r, int to, int from)
{
    r->i[to] = r->i[from];
    r->o[to] = r->o[from];
    r->k[to] = r->k[from];
    r->s[to] = r->s[from];
    r->p[to] = r->p[from];
    r->dl[to] = r->dl[from];
}

static void default_dim(raw_desc *r, int x)
{
    r->i[x] = r->o[x] = r->k[x] = r->s[x] = 1;
    r->p[x] = r->dl[x] = 0;
}

/* benchdnn's sanitize_desc: fill the dimensions not given. */
static bench_desc_status fill_missing(raw_desc *r, const int given[SP_N], const char *str,
                                      char *err, size_t cap)
{
    if (given[SP_D]) {
        if (!given[SP_H] && !given[SP_W]) {
            copy_dim(r, SP_H, SP_D);
            copy_dim(r, SP_W, SP_D);
        } else if (!given[SP_H] || !given[SP_W]) {
            return fail(err, cap, BENCH_DESC_INVALID,
                        "a 3-D descriptor needs all h and w values or none, in \"%.80s\"", str);
        }
        return BENCH_DESC_OK;
    }
    default_dim(r, SP_D);
    if (given[SP_H]) {
        if (!given[SP_W])
            copy_dim(r, SP_W, SP_H);
    } else if (given[SP_W]) {
        default_dim(r, SP_H);
    } else {
        return fail(err, cap, BENCH_DESC_INVALID,
                    "no spatial size (ih/iw and kh/kw) in descriptor \"%.80s\"", str);
    }
    return BENCH_DESC_OK;
}

static bench_desc_status check_channels(raw_desc *r, const char *str, char *err, size_t cap)
{
    if (r->g == 0)
        return fail(err, cap, BENCH_DESC_INVALID, "\"g\" must be positive in \"%.80s\"", str);
    if (r->g < 0)
        r->g = 1;
    if (r->mb == 0)
        return fail(err, cap, BENCH_DESC_INVALID, "\"mb\" must be positive in \"%.80s\"", str);
    if (r->ic == 0 || r->oc == 0)
        return fail(err, cap, BENCH_DESC_INVALID,
                    "\"ic\" and \"oc\" must be given and positive in \"%.80s\"", str);
    if (r->ic % r->g || r->oc % r->g)
        return fail(err, cap, BENCH_DESC_INVALID,
                    "g%lld does not divide ic%lld and oc%lld in \"%.80s\"", (long long)r->g,
                    (long long)r->ic, (long long)r->oc, str);
    for (int x = 0; x < SP_N; x++)
        if (r->s[x] == 0)
            return fail(err, cap, BENCH_DESC_INVALID, "\"s%c\" must be positive in \"%.80s\"",
                        sp_name[x], str);
    return BENCH_DESC_OK;
}

/* The end paddings (and a deconvolution's output padding) the output
 * implies, as benchdnn's init_pad_r: clconv pads each end by its own
 * amount, so any 2-D problem whose paddings come out non-negative runs. */
typedef struct ends {
    int64_t pe[SP_N];           /* bottom / right padding */
    int64_t op[SP_N];           /* a deconvolution's output padding */
} ends;

/* A convolution's end padding: benchdnn's (o-1)*s - i + extent - p is the
 * least that gives o, and s - 1 more rows give the same o (the division
 * truncates them away; no output reads them).  Of those, the one nearest
 * the begin padding, so that a problem whose output allows equal padding
 * gets it.  -1 when even the most is negative. */
static int64_t conv_end(const raw_desc *r, int x)
{
    int64_t lo = (r->o[x] - 1) * r->s[x] - r->i[x] + extent(r->k[x], r->dl[x]) - r->p[x];
    int64_t hi = lo + r->s[x] - 1;
    if (hi < 0)
        return -1;
    int64_t want = r->p[x] < lo ? lo : r->p[x] > hi ? hi : r->p[x];
    return want < 0 ? 0 : want;
}

/* A deconvolution's: (i-1)*s - o + extent - p exactly (its output has no
 * slack); a negative one is output padding, which must stay below the
 * stride (clconv's and PyTorch's rule).  -1 when it cannot. */
static int64_t deconv_end(const raw_desc *r, int x, int64_t *op)
{
    int64_t e = (r->i[x] - 1) * r->s[x] - r->o[x] + extent(r->k[x], r->dl[x]) - r->p[x];
    *op = e < 0 ? -e : 0;
    return e >= 0 ? e : *op < r->s[x] ? 0 : -1;
}

static bench_desc_status end_padding(const raw_desc *q, int deconv, ends *e, const char *str,
                                     char *err, size_t cap)
{
    if (q->i[SP_D] != 1 || q->k[SP_D] != 1 || q->o[SP_D] != 1 || q->p[SP_D] != 0)
        return fail(err, cap, BENCH_DESC_UNSUPPORTED,
                    "3-D convolution (id%lld kd%lld od%lld) is not supported: \"%.80s\"",
                    (long long)q->i[SP_D], (long long)q->k[SP_D], (long long)q->o[SP_D], str);
    for (int x = SP_H; x < SP_N; x++) {
        char c = sp_name[x];
        if (q->p[x] < 0)
            return fail(err, cap, BENCH_DESC_UNSUPPORTED,
                        "negative padding p%c%lld (deduced from o%c%lld) is not supported: \"%.80s\"",
                        c, (long long)q->p[x], c, (long long)q->o[x], str);
        e->op[x] = 0;
        e->pe[x] = deconv ? deconv_end(q, x, &e->op[x]) : conv_end(q, x);
        if (e->pe[x] < 0 && deconv)
            return fail(err, cap, BENCH_DESC_UNSUPPORTED,
                        "o%c%lld needs output padding %lld, not below the stride s%c%lld: "
                        "\"%.80s\"", c, (long long)q->o[x], (long long)e->op[x], c,
                        (long long)q->s[x], str);
        if (e->pe[x] < 0)
            return fail(err, cap, BENCH_DESC_UNSUPPORTED,
                        "o%c%lld needs negative end padding (the input has rows no output "
                        "reads) with p%c%lld: \"%.80s\"", c, (long long)q->o[x], c,
                        (long long)q->p[x], str);
        if (e->pe[x] > BENCH_DESC_MAX_VALUE)
            return fail(err, cap, BENCH_DESC_INVALID,
                        "the deduced end padding of %c exceeds %lld in descriptor \"%.80s\"", c,
                        (long long)BENCH_DESC_MAX_VALUE, str);
    }
    return BENCH_DESC_OK;
}

/* Every field written, struct_size as clconv_desc_init sets it, so that a
 * parsed descriptor is the same whatever *d held before; equal paddings
 * on both ends are the symmetric form (pad_asymmetric 0, ends 0). */
static void to_clconv(const raw_desc *r, const ends *e, clconv_desc *d)
{
    memset(d, 0, sizeof *d);
    d->struct_size = (int64_t)sizeof *d;
    d->n = r->mb;
    d->c = r->ic;
    d->h = r->i[SP_H];
    d->w = r->i[SP_W];
    d->k = r->oc;
    d->r = r->k[SP_H];
    d->s = r->k[SP_W];
    d->stride_h = r->s[SP_H];
    d->stride_w = r->s[SP_W];
    d->pad_h = r->p[SP_H];
    d->pad_w = r->p[SP_W];
    d->dilation_h = r->dl[SP_H] + 1;
    d->dilation_w = r->dl[SP_W] + 1;
    d->groups = r->g;
    d->pad_asymmetric = e->pe[SP_H] != d->pad_h || e->pe[SP_W] != d->pad_w;
    if (d->pad_asymmetric) {
        d->pad_h_end = e->pe[SP_H];
        d->pad_w_end = e->pe[SP_W];
    }
    d->out_pad_h = e->op[SP_H];
    d->out_pad_w = e->op[SP_W];
}

static bench_desc_status parse(const char *s, int deconv, clconv_desc *d, char *name,
                               size_t name_cap, char *err, size_t err_cap)
{
    if (err && err_cap > 0)
        err[0] = '\0';
    if (!s || !d || (name_cap > 0 && !name))
        return fail(err, err_cap, BENCH_DESC_INVALID, "NULL argument");
    if (!*s)
        return fail(err, err_cap, BENCH_DESC_INVALID, "empty descriptor");
    raw_desc r;
    raw_init(&r);
    const char *nm;
    bench_desc_status st = scan(s, &r, &nm, err, err_cap);
    if (st == BENCH_DESC_OK)
        st = check_channels(&r, s, err, err_cap);
    int given[SP_N];
    for (int x = 0; x < SP_N; x++) {
        given[x] = dim_given(&r, x);
        if (st == BENCH_DESC_OK && given[x])
            st = infer_dim(&r, x, deconv, s, err, err_cap);
    }
    if (st == BENCH_DESC_OK)
        st = fill_missing(&r, given, s, err, err_cap);
    ends e;
    if (st == BENCH_DESC_OK)
        st = end_padding(&r, deconv, &e, s, err, err_cap);
    if (st != BENCH_DESC_OK)
        return st;
    to_clconv(&r, &e, d);
    copy_name(nm, name, name_cap);
    return BENCH_DESC_OK;
}

bench_desc_status bench_parse_desc(const char *s, clconv_desc *d, char *name, size_t name_cap,
                                   char *err, size_t err_cap)
{
    return parse(s, 0, d, name, name_cap, err, err_cap);
}

bench_desc_status bench_parse_deconv_desc(const char *s, clconv_desc *d, char *name,
                                          size_t name_cap, char *err, size_t err_cap)
{
    return parse(s, 1, d, name, name_cap, err, err_cap);
}

/* The 0.3 fields where the descriptor has them (else their defaults). */
static int64_t end_pad(const clconv_desc *d, int w)
{
    int asym = d->struct_size >= CLCONV_DESC_SIZE_0_3 && d->pad_asymmetric == 1;
    return asym ? (w ? d->pad_w_end : d->pad_h_end) : (w ? d->pad_w : d->pad_h);
}

static int64_t out_pad(const clconv_desc *d, int w)
{
    return d->struct_size >= CLCONV_DESC_SIZE_0_3 ? (w ? d->out_pad_w : d->out_pad_h) : 0;
}

/* The output length of one dimension: a convolution's, or a transposed
 * convolution's (clconv_transposed_output_size's formula). */
static int64_t out_len(int deconv, int64_t i, int64_t k, int64_t s, int64_t p, int64_t pe,
                       int64_t op, int64_t dil)
{
    if (deconv)
        return (i - 1) * s - p - pe + (k - 1) * dil + 1 + op;
    return (i + p + pe - ((k - 1) * dil + 1)) / s + 1;
}

/* Append s with snprintf semantics: *len counts what the full string needs. */
static void put(char *buf, size_t cap, int *len, const char *s)
{
    size_t at = (size_t)*len;
    int n = snprintf(at < cap ? buf + at : NULL, at < cap ? cap - at : 0, "%s", s);
    if (n > 0)
        *len += n;
}

static int format(const clconv_desc *d, int deconv, const char *name, char *buf, size_t cap)
{
    int len = 0;
    if (cap > 0)
        buf[0] = '\0';
    const int64_t peh = end_pad(d, 0), pew = end_pad(d, 1);
    long long p = out_len(deconv, d->h, d->r, d->stride_h, d->pad_h, peh, out_pad(d, 0),
                          d->dilation_h);
    long long q = out_len(deconv, d->w, d->s, d->stride_w, d->pad_w, pew, out_pad(d, 1),
                          d->dilation_w);
    /* like benchdnn's print_dhw: w values only when some differ from h */
    int sq = d->h == d->w && d->r == d->s && d->stride_h == d->stride_w && d->pad_h == d->pad_w &&
             d->dilation_h == d->dilation_w && p == q;
    const struct { const char *key; long long v; int show; } f[] = {
        {"g", d->groups, d->groups != 1}, {"mb", d->n, 1}, {"ic", d->c, 1}, {"ih", d->h, 1},
        {"iw", d->w, !sq}, {"oc", d->k, 1}, {"oh", p, 1}, {"ow", q, !sq}, {"kh", d->r, 1},
        {"kw", d->s, !sq}, {"sh", d->stride_h, !sq || d->stride_h != 1},
        {"sw", d->stride_w, !sq}, {"ph", d->pad_h, 1}, {"pw", d->pad_w, !sq},
        {"dh", d->dilation_h - 1, !sq || d->dilation_h != 1}, {"dw", d->dilation_w - 1, !sq},
    };
    char item[32];
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
        if (!f[i].show)
            continue;
        snprintf(item, sizeof item, "%s%lld", f[i].key, f[i].v);
        put(buf, cap, &len, item);
    }
    if (name && *name) {
        put(buf, cap, &len, "n\"");
        put(buf, cap, &len, name);
        put(buf, cap, &len, "\"");
    }
    return len;
}

int bench_format_desc(const clconv_desc *d, const char *name, char *buf, size_t cap)
{
    return format(d, 0, name, buf, cap);
}

int bench_format_deconv_desc(const clconv_desc *d, const char *name, char *buf, size_t cap)
{
    return format(d, 1, name, buf, cap);
}
