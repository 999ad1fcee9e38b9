/* libFuzzer target: descriptor checks and the sizes derived from them
 * (host/desc.c: clconv_desc_check, clconv_output_size, clconv_tensor_elems,
 * clconv_flops, clconv_upsample_pad_size; and clconv_desc_string).
 *
 * The input is 14 fields, each a control byte (low 2 bits: 1, 2, 4 or 8
 * value bytes, little-endian, sign-extended) and its bytes, so that small
 * layers and INT64 extremes are both a few bytes away; a missing field is 1.
 * Every result is checked against the same quantities computed here in
 * 128-bit arithmetic (saturating), independently of the library:
 *   - field errors are reported exactly, in the documented order;
 *   - OK: P, Q >= 1 and exact; element counts exact and their byte sizes
 *     fit int64; FLOPs right; every call agrees with clconv_desc_check;
 *   - EMPTY_OUTPUT only when the dilated filter exceeds the padded input;
 *   - TOO_LARGE only when a field or a count really is huge, and never
 *     when everything is small;
 *   - a failed call writes nothing. */
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
    int64_t f[14];
    for (int i = 0; i < 14; i++)
        f[i] = take_field(&p, &n);
    return (clconv_desc){f[0], f[1], f[2], f[3], f[4], f[5], f[6], f[7],
                         f[8], f[9], f[10], f[11], f[12], f[13]};
}

/* ---- the independent model ----------------------------------------------- */

#define SAT ((i128)1 << 100) /* beyond every limit of interest */
#define COUNT_MAX ((i128)(INT64_MAX / 4)) /* float counts whose bytes fit int64 */

static i128 smul(i128 a, i128 b)
{
    if (a == 0 || b == 0)
        return 0;
    return a > SAT / b ? SAT : a * b;
}

static i128 prod4(i128 a, i128 b, i128 c, i128 d) { return smul(smul(a, b), smul(c, d)); }

static clconv_status field_status(const clconv_desc *d)
{
    if (d->n < 1 || d->c < 1 || d->h < 1 || d->w < 1 || d->k < 1 || d->r < 1 || d->s < 1)
        return CLCONV_BAD_SIZE;
    if (d->stride_h < 1 || d->stride_w < 1)
        return CLCONV_BAD_STRIDE;
    if (d->pad_h < 0 || d->pad_w < 0)
        return CLCONV_BAD_PADDING;
    if (d->dilation_h < 1 || d->dilation_w < 1)
        return CLCONV_BAD_DILATION;
    if (d->groups < 1 || d->c % d->groups || d->k % d->groups)
        return CLCONV_BAD_GROUPS;
    return CLCONV_OK;
}

typedef struct model {
    i128 room_h, room_w;    /* in + 2 pad - dilated extent; < 0: no output */
    i128 p, q, hu, wu;
    i128 x, w, y, up, dil_up, red;
    int huge;               /* a field or a count beyond the library's limits */
} model;

/* Only for descriptors whose fields are valid (no zero divisors). */
static model make_model(const clconv_desc *d)
{
    model m = {0};
    i128 span_h = ((i128)d->r - 1) * d->dilation_h, span_w = ((i128)d->s - 1) * d->dilation_w;
    m.room_h = (i128)d->h + 2 * (i128)d->pad_h - span_h - 1;
    m.room_w = (i128)d->w + 2 * (i128)d->pad_w - span_w - 1;
    m.p = m.room_h >= 0 ? m.room_h / d->stride_h + 1 : 0;
    m.q = m.room_w >= 0 ? m.room_w / d->stride_w + 1 : 0;
    m.hu = d->h + span_h;
    m.wu = d->w + span_w;
    const i128 cg = d->c / d->groups;
    m.x = prod4(d->n, d->c, d->h, d->w);
    m.w = prod4(d->k, cg, d->r, d->s);
    m.up = prod4(d->n, d->k, m.hu, m.wu);
    const int64_t big = INT64_C(1) << 60;
    m.huge = d->n >= big || d->c >= big || d->h >= big || d->w >= big || d->k >= big ||
             d->r >= big || d->s >= big || d->pad_h >= big || d->pad_w >= big ||
             d->dilation_h >= big || d->dilation_w >= big || span_h >= big || span_w >= big ||
             m.x > COUNT_MAX || m.w > COUNT_MAX || m.up > COUNT_MAX;
    /* the output-side counts exist only when there is an output */
    if (m.room_h >= 0 && m.room_w >= 0) {
        m.y = prod4(d->n, d->k, m.p, m.q);
        m.dil_up = prod4(d->n, d->k, (m.p - 1) * d->stride_h + 1, (m.q - 1) * d->stride_w + 1);
        m.red = prod4(cg, d->r, d->s, m.y);
        m.huge |= m.y > COUNT_MAX || m.dil_up > COUNT_MAX || m.red > COUNT_MAX;
    }
    return m;
}

/* ---- the checks ------------------------------------------------------------ */

#define SENTINEL INT64_C(0x5a5a5a5a5a5a5a5a)

/* Every derived-size call: same status as clconv_desc_check; on failure
 * nothing written; on success the model's values. */
static void check_calls(const clconv_desc *d, clconv_status st, const model *m)
{
    int64_t p = SENTINEL, q = SENTINEL, hu = SENTINEL, wu = SENTINEL;
    size_t xe = (size_t)SENTINEL, we = (size_t)SENTINEL, ye = (size_t)SENTINEL;
    CHECK(clconv_output_size(d, &p, &q) == st);
    CHECK(clconv_tensor_elems(d, &xe, &we, &ye) == st);
    CHECK(clconv_upsample_pad_size(d, &hu, &wu) == st);
    CHECK(clconv_output_size(d, NULL, NULL) == st);
    CHECK(clconv_tensor_elems(d, NULL, NULL, NULL) == st);
    CHECK(clconv_upsample_pad_size(d, NULL, NULL) == st);
    const double flops = clconv_flops(d);
    if (st != CLCONV_OK) {
        CHECK(p == SENTINEL && q == SENTINEL && hu == SENTINEL && wu == SENTINEL);
        CHECK(xe == (size_t)SENTINEL && we == (size_t)SENTINEL && ye == (size_t)SENTINEL);
        CHECK(flops == 0.0);
        return;
    }
    CHECK(p >= 1 && q >= 1 && p == m->p && q == m->q);
    CHECK((i128)xe == m->x && (i128)we == m->w && (i128)ye == m->y);
    CHECK(m->x <= COUNT_MAX && m->w <= COUNT_MAX && m->y <= COUNT_MAX);
    CHECK(hu == m->hu && wu == m->wu && m->up <= COUNT_MAX);
    CHECK(m->dil_up <= COUNT_MAX && m->red <= COUNT_MAX);
    const double want = 2.0 * (double)m->red;
    CHECK(flops > 0 && flops >= want * (1 - 1e-12) && flops <= want * (1 + 1e-12));
}

static void check_status(const clconv_desc *d, clconv_status st, const model *m)
{
    const clconv_status fs = field_status(d);
    if (fs != CLCONV_OK) {
        CHECK(st == fs);
        return;
    }
    const int empty = m->room_h < 0 || m->room_w < 0;
    CHECK(st == CLCONV_OK || st == CLCONV_EMPTY_OUTPUT || st == CLCONV_TOO_LARGE);
    if (st == CLCONV_EMPTY_OUTPUT)
        CHECK(empty);
    if (st == CLCONV_TOO_LARGE)
        CHECK(m->huge);
    if (!m->huge)
        CHECK(st == (empty ? CLCONV_EMPTY_OUTPUT : CLCONV_OK));
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const clconv_desc desc = decode(data, size), *d = &desc;
    const clconv_status st = clconv_desc_check(d);
    const model m = field_status(d) == CLCONV_OK ? make_model(d) : (model){0};
    check_status(d, st, &m);
    check_calls(d, st, &m);
    check_string(d, size ? data[0] : 0);
    CHECK(clconv_desc_check(NULL) == CLCONV_NULL_ARGUMENT);
    return 0;
}
