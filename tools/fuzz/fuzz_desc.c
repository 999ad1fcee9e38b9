/* libFuzzer target: descriptor checks and the sizes derived from them
 * (host/desc.c: clconv_desc_check, clconv_output_size, clconv_tensor_elems,
 * clconv_flops, clconv_upsample_pad_size; and clconv_desc_string).
 *
 * The input is 14 fields, each a control byte (low 2 bits: 1, 2, 4 or 8
 * value bytes, little-endian, sign-extended) and its bytes, so that small
 * layers and INT64 extremes are both a few bytes away; a missing field is 1.
 * Every result is checked against a model of the rules that host/clconv.h
 * documents (see "the model" below), written without looking at the
 * library's code and computed in exact 128-bit arithmetic:
 *   - clconv_desc_check's status is the model's, exactly: the field
 *     errors in the order of the status list, then per axis (rows, then
 *     columns) TOO_LARGE for a field past its bound before EMPTY_OUTPUT,
 *     then TOO_LARGE for a count whose fp32 bytes do not fit int64;
 *   - every derived-size call returns the same status; on success P, Q,
 *     the element counts, HU, WU and the FLOPs are the model's values;
 *   - a failed call writes nothing;
 *   - any descriptor prints (clconv_desc_string), and a short buffer
 *     truncates. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "clconv.h"

typedef __int128 i128;

#define CHECK(cond)                                                                  \
    do {                                                                             \
        if (!(cond)) {                                                               \
            fprintf(stderr, "fuzz_desc: invariant failed: %s (line %d)\n", #cond, __LINE__); \
            dump(d);                                                                 \
            abort();                                                                 \
        }                                                                            \
    } while (0)

static void dump(const clconv_desc *d)
{
    fprintf(stderr,
            "  n %lld c %lld h %lld w %lld k %lld r %lld s %lld stride %lld,%lld pad %lld,%lld "
            "dil %lld,%lld groups %lld\n",
            (long long)d->n, (long long)d->c, (long long)d->h, (long long)d->w, (long long)d->k,
            (long long)d->r, (long long)d->s, (long long)d->stride_h, (long long)d->stride_w,
            (long long)d->pad_h, (long long)d->pad_w, (long long)d->dilation_h,
            (long long)d->dilation_w, (long long)d->groups);
}

/* ---- decoding ------------------------------------------------------------ */

static int64_t take_field(const uint8_t **p, size_t *left)
{
    if (*left == 0)
        return 1;
    size_t width = (size_t)1 << (**p & 3);
    (*p)++;
    (*left)--;
    uint64_t v = 0;
    size_t i = 0;
    for (; i < width && *left; i++, (*p)++, (*left)--)
        v |= (uint64_t)**p << (8 * i);
    if (i > 0 && i < 8 && (v >> (8 * i - 1) & 1)) /* sign-extend the bytes read */
        v |= ~(uint64_t)0 << (8 * i);
    int64_t out;
    memcpy(&out, &v, sizeof out);
    return out;
}

static clconv_desc decode(const uint8_t *p, size_t n)
{
    int64_t f[15];
    for (int i = 0; i < 15; i++)
        f[i] = take_field(&p, &n);
    /* struct_size last: inputs that run out before it get 0, the first layout */
    return (clconv_desc){f[0], f[1], f[2], f[3], f[4], f[5], f[6], f[7],
                         f[8], f[9], f[10], f[11], f[12], f[13], f[14]};
}

/* ---- the model: the header's rules, not the library's code ------------------
 *
 * Written from host/clconv.h (the status list and clconv_desc_check's
 * comment), never from host/desc.c: the rules are data (a table of field
 * minimums, a list of bounds), and every size is the true value in 128-bit
 * arithmetic, so a bound is checked by comparing the exact quantity with
 * the documented limit instead of by guarding each operation against
 * overflow as the library must.  A wrong check order or a wrong bound in
 * the library then gives a different status, not the same mistake twice. */

/* The field rules in the order of the status list: the first rule a
 * descriptor breaks is its status. */
typedef struct field_rule {
    clconv_status status;
    int64_t least;            /* every listed field must be at least this */
    size_t at[7];             /* offsets in clconv_desc */
    size_t count;
} field_rule;

#define AT(f) offsetof(clconv_desc, f)
static const field_rule field_rules[] = {
    {CLCONV_BAD_SIZE, 1, {AT(n), AT(c), AT(h), AT(w), AT(k), AT(r), AT(s)}, 7},
    {CLCONV_BAD_STRIDE, 1, {AT(stride_h), AT(stride_w)}, 2},
    {CLCONV_BAD_PADDING, 0, {AT(pad_h), AT(pad_w)}, 2},
    {CLCONV_BAD_DILATION, 1, {AT(dilation_h), AT(dilation_w)}, 2},
    {CLCONV_BAD_GROUPS, 1, {AT(groups)}, 1},
};
#undef AT

static int64_t field_at(const clconv_desc *d, size_t at)
{
    int64_t v;
    memcpy(&v, (const char *)d + at, sizeof v);
    return v;
}

static clconv_status model_fields(const clconv_desc *d)
{
    /* step 1: a layout size of 0 or from the first extensible one up to ours */
    const int64_t size = d->struct_size;
    if (size != 0 && (size < CLCONV_DESC_SIZE_0_2 || size > (int64_t)sizeof(clconv_desc)))
        return CLCONV_BAD_VERSION;
    for (size_t i = 0; i < sizeof field_rules / sizeof field_rules[0]; i++)
        for (size_t j = 0; j < field_rules[i].count; j++)
            if (field_at(d, field_rules[i].at[j]) < field_rules[i].least)
                return field_rules[i].status;
    /* the one rule that is not a minimum: groups divides C and K */
    const int divides = d->c % d->groups == 0 && d->k % d->groups == 0;
    return divides ? CLCONV_OK : CLCONV_BAD_GROUPS;
}

/* Step 7 of clconv_desc_check's comment, for one axis: input, filter,
 * dilation and (filter-1)*dilation below 2^62, padding below 2^60, else
 * TOO_LARGE; then EMPTY_OUTPUT if the dilated filter is longer than the
 * padded input.  A stride has no limit. */
#define AXIS_LIMIT ((i128)1 << 62)
#define PAD_LIMIT ((i128)1 << 60)

typedef struct axis_model {
    clconv_status status;     /* TOO_LARGE, EMPTY_OUTPUT or OK */
    i128 out;                 /* output length (OK only) */
    i128 upsampled;           /* in + (k-1)*dil, EXPLICIT's backward-data extent */
    i128 dilated_out;         /* (out-1)*stride + 1, EXPLICIT's backward-filter extent */
} axis_model;

static axis_model model_axis(i128 in, i128 k, i128 stride, i128 pad, i128 dil)
{
    const i128 spread = (k - 1) * dil; /* exact: both factors < 2^63 */
    const i128 extent = spread + 1;
    const i128 bounded[][2] = {{in, AXIS_LIMIT}, {k, AXIS_LIMIT}, {dil, AXIS_LIMIT},
                               {pad, PAD_LIMIT}, {spread, AXIS_LIMIT}};
    axis_model a = {CLCONV_TOO_LARGE, 0, 0, 0};
    for (size_t i = 0; i < sizeof bounded / sizeof bounded[0]; i++)
        if (bounded[i][0] >= bounded[i][1])
            return a;
    const i128 padded = in + 2 * pad;
    a.status = extent > padded ? CLCONV_EMPTY_OUTPUT : CLCONV_OK;
    a.out = a.status == CLCONV_OK ? (padded - extent) / stride + 1 : 0;
    a.upsampled = in + extent - 1;
    a.dilated_out = a.out ? (a.out - 1) * stride + 1 : 0;
    return a;
}

/* An element count as the true product, saturated far above any limit
 * (so that products of huge fields stay comparable). */
#define SATURATED ((i128)1 << 120)

static i128 count_of(i128 a, i128 b, i128 c, i128 d)
{
    const i128 f[4] = {a, b, c, d};
    i128 t = 1;
    for (int i = 0; i < 4; i++)
        t = t > SATURATED / f[i] ? SATURATED : t * f[i];
    return t;
}

/* Step 8: every count, as fp32 bytes, fits int64 (count <= INT64_MAX/4). */
static int bytes_fit(i128 count) { return count * (i128)sizeof(float) <= INT64_MAX; }

typedef struct model {
    clconv_status status;
    i128 p, q, hu, wu;
    i128 x, w, y;
    i128 macs;                /* N*K*P*Q * (C/groups)*R*S: half the FLOPs */
} model;

/* The counts step 8 lists: the three tensors, EXPLICIT's two
 * intermediates (upsampled+padded dy, dilated dy) and (C/g)*R*S*y.  The
 * caller's stride is used as given: the library may reduce a long stride,
 * but the header defines the dilated dy by the stride. */
static clconv_status model_counts(const clconv_desc *d, const axis_model *h,
                                  const axis_model *w, model *m)
{
    const i128 cg = d->c / d->groups;
    m->x = count_of(d->n, d->c, d->h, d->w);
    m->w = count_of(d->k, cg, d->r, d->s);
    m->y = count_of(d->n, d->k, m->p, m->q);
    m->macs = count_of(cg, d->r, d->s, m->y);
    const i128 counts[] = {m->x, m->w, m->y, m->macs,
                           count_of(d->n, d->k, h->upsampled, w->upsampled),
                           count_of(d->n, d->k, h->dilated_out, w->dilated_out)};
    for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++)
        if (!bytes_fit(counts[i]))
            return CLCONV_TOO_LARGE;
    return CLCONV_OK;
}

/* The order of clconv_desc_check's comment: fields (steps 1-6; NULL is
 * checked by the caller), rows then columns (7), the counts (8). */
static model make_model(const clconv_desc *d)
{
    model m = {model_fields(d), 0, 0, 0, 0, 0, 0, 0, 0};
    if (m.status != CLCONV_OK)
        return m;
    const axis_model h = model_axis(d->h, d->r, d->stride_h, d->pad_h, d->dilation_h);
    const axis_model w = model_axis(d->w, d->s, d->stride_w, d->pad_w, d->dilation_w);
    m.status = h.status != CLCONV_OK ? h.status : w.status;
    if (m.status != CLCONV_OK)
        return m;
    m.p = h.out, m.q = w.out, m.hu = h.upsampled, m.wu = w.upsampled;
    m.status = model_counts(d, &h, &w, &m);
    return m;
}

/* ---- the checks ------------------------------------------------------------ */

#define SENTINEL INT64_C(0x5a5a5a5a5a5a5a5a)

static const char *name(clconv_status st) { return clconv_status_name(st); }

/* Every call returns the model's status; a failed one writes nothing. */
static void check_failed_calls(const clconv_desc *d, clconv_status want)
{
    int64_t p = SENTINEL, q = SENTINEL, hu = SENTINEL, wu = SENTINEL;
    size_t xe = (size_t)SENTINEL, we = (size_t)SENTINEL, ye = (size_t)SENTINEL;
    CHECK(clconv_output_size(d, &p, &q) == want);
    CHECK(clconv_tensor_elems(d, &xe, &we, &ye) == want);
    CHECK(clconv_upsample_pad_size(d, &hu, &wu) == want);
    CHECK(p == SENTINEL && q == SENTINEL && hu == SENTINEL && wu == SENTINEL);
    CHECK(xe == (size_t)SENTINEL && we == (size_t)SENTINEL && ye == (size_t)SENTINEL);
    CHECK(clconv_flops(d) == 0.0);
}

/* On success every derived size is the model's exact value, and NULL
 * outputs are allowed. */
static void check_sizes(const clconv_desc *d, const model *m)
{
    int64_t p, q, hu, wu;
    size_t xe, we, ye;
    CHECK(clconv_output_size(d, &p, &q) == CLCONV_OK && p == m->p && q == m->q);
    CHECK(clconv_tensor_elems(d, &xe, &we, &ye) == CLCONV_OK);
    CHECK((i128)xe == m->x && (i128)we == m->w && (i128)ye == m->y);
    CHECK(clconv_upsample_pad_size(d, &hu, &wu) == CLCONV_OK && hu == m->hu && wu == m->wu);
    CHECK(clconv_output_size(d, NULL, NULL) == CLCONV_OK);
    CHECK(clconv_tensor_elems(d, NULL, NULL, NULL) == CLCONV_OK);
    CHECK(clconv_upsample_pad_size(d, NULL, NULL) == CLCONV_OK);
    const long double want = 2.0L * (long double)m->macs, got = clconv_flops(d);
    CHECK(got >= want * (1 - 1e-12L) && got <= want * (1 + 1e-12L));
}

static void check_model(const clconv_desc *d)
{
    const model m = make_model(d);
    const clconv_status st = clconv_desc_check(d);
    if (st != m.status) {
        fprintf(stderr, "fuzz_desc: clconv_desc_check says %s, the header's rules %s\n", name(st),
                name(m.status));
        dump(d);
        abort();
    }
    if (st == CLCONV_OK)
        check_sizes(d, &m);
    else
        check_failed_calls(d, st);
}

/* Any descriptor prints, valid or not; a short buffer truncates. */
static void check_string(const clconv_desc *d, size_t cap)
{
    char full[CLCONV_DESC_STRING_MAX];
    CHECK(clconv_desc_string(d, full, sizeof full) == CLCONV_OK);
    const size_t len = strlen(full);
    CHECK(len > 0 && len < sizeof full);
    cap %= len + 2;
    char *buf = malloc(cap ? cap : 1); /* exact size: ASan sees any overrun */
    CHECK(buf != NULL);
    buf[0] = 'X';
    clconv_status st = clconv_desc_string(d, buf, cap);
    if (cap > len) {
        CHECK(st == CLCONV_OK && !strcmp(buf, full));
    } else if (cap > 0) {
        CHECK(st == CLCONV_BUFFER_TOO_SMALL && strlen(buf) == cap - 1);
        CHECK(!strncmp(buf, full, cap - 1));
    } else {
        CHECK(st == CLCONV_BUFFER_TOO_SMALL && buf[0] == 'X');
    }
    free(buf);
}

/* Step 1: a NULL descriptor, whatever the outputs (d is for the report). */
static void check_null(const clconv_desc *d)
{
    int64_t p, q;
    size_t x;
    CHECK(clconv_desc_check(NULL) == CLCONV_NULL_ARGUMENT);
    CHECK(clconv_output_size(NULL, &p, &q) == CLCONV_NULL_ARGUMENT);
    CHECK(clconv_tensor_elems(NULL, &x, NULL, NULL) == CLCONV_NULL_ARGUMENT);
    CHECK(clconv_upsample_pad_size(NULL, &p, &q) == CLCONV_NULL_ARGUMENT);
    CHECK(clconv_flops(NULL) == 0.0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const clconv_desc desc = decode(data, size), *d = &desc;
    check_model(d);
    check_string(d, size ? data[0] : 0);
    check_null(d);
    return 0;
}
