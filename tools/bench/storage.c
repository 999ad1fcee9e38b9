/* storage.c - storage types and layouts on the host (see storage.h). */
#include "storage.h"

#include <math.h>
#include <string.h>

static uint32_t bits_of(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static float float_of(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

uint16_t bench_f32_to_f16(float f)
{
    const uint32_t x = bits_of(f), sign = (x >> 16) & 0x8000u, ax = x & 0x7fffffffu;
    if (ax > 0x7f800000u) /* NaN stays a (quiet) NaN */
        return (uint16_t)(sign | 0x7e00u);
    if (ax >= 0x47800000u) /* 65536 and above (Inf too): Inf */
        return (uint16_t)(sign | 0x7c00u);
    if (ax < 0x38800000u) /* below 2^-14: subnormal steps of 2^-24, rounded to even */
        return (uint16_t)(sign | (uint32_t)nearbyintf(float_of(ax) * 16777216.0f));
    uint32_t h = (((ax >> 23) - 127 + 15) << 10) | ((ax & 0x7fffffu) >> 13);
    const uint32_t rem = ax & 0x1fffu;
    if (rem > 0x1000u || (rem == 0x1000u && (h & 1u)))
        h++; /* a carry into the exponent is right, up to Inf */
    return (uint16_t)(sign | h);
}

float bench_f16_to_f32(uint16_t h)
{
    const uint32_t s = (uint32_t)(h & 0x8000u) << 16, e = (h >> 10) & 0x1fu, m = h & 0x3ffu;
    if (e == 0) {
        const float v = ldexpf((float)m, -24);
        return s ? -v : v;
    }
    if (e == 31)
        return float_of(s | 0x7f800000u | (m << 13));
    return float_of(s | ((e - 15 + 127) << 23) | (m << 13));
}

uint16_t bench_f32_to_bf16(float f)
{
    const uint32_t u = bits_of(f);
    if ((u & 0x7fffffffu) > 0x7f800000u) /* a NaN must not round to Inf */
        return (uint16_t)((u >> 16) | 0x40u);
    return (uint16_t)((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
}

float bench_bf16_to_f32(uint16_t b) { return float_of((uint32_t)b << 16); }

void bench_store(void *dst, size_t i, clconv_dtype t, float v)
{
    if (t == CLCONV_F16)
        ((uint16_t *)dst)[i] = bench_f32_to_f16(v);
    else if (t == CLCONV_BF16)
        ((uint16_t *)dst)[i] = bench_f32_to_bf16(v);
    else
        ((float *)dst)[i] = v;
}

float bench_load(const void *src, size_t i, clconv_dtype t)
{
    if (t == CLCONV_F16)
        return bench_f16_to_f32(((const uint16_t *)src)[i]);
    if (t == CLCONV_BF16)
        return bench_bf16_to_f32(((const uint16_t *)src)[i]);
    return ((const float *)src)[i];
}

size_t bench_layout_elems(const bench_layout *l)
{
    return (size_t)(l->dims[0] * l->dims[1] * l->dims[2] * l->dims[3]);
}

/* Storage index of channels-first coordinates (a, b, c, d). */
static size_t storage_at(const bench_layout *l, int64_t a, int64_t b, int64_t c, int64_t d)
{
    const int64_t *m = l->dims;
    if (!l->cl)
        return (size_t)(((a * m[1] + b) * m[2] + c) * m[3] + d);
    return (size_t)(((a * m[2] + c) * m[3] + d) * m[1] + b);
}

void bench_pack(float *v, const bench_layout *l, clconv_dtype t, void *dst)
{
    const int64_t *m = l->dims;
    if (t == CLCONV_F32 && !l->cl) { /* the storage is v itself, exactly */
        memcpy(dst, v, bench_layout_elems(l) * sizeof *v);
        return;
    }
    size_t i = 0;
    for (int64_t a = 0; a < m[0]; a++)
        for (int64_t b = 0; b < m[1]; b++)
            for (int64_t c = 0; c < m[2]; c++)
                for (int64_t d = 0; d < m[3]; d++, i++) {
                    const size_t j = storage_at(l, a, b, c, d);
                    bench_store(dst, j, t, v[i]);
                    v[i] = bench_load(dst, j, t);
                }
}

void bench_unpack(const void *src, const bench_layout *l, clconv_dtype t, float *v)
{
    const int64_t *m = l->dims;
    size_t i = 0;
    for (int64_t a = 0; a < m[0]; a++)
        for (int64_t b = 0; b < m[1]; b++)
            for (int64_t c = 0; c < m[2]; c++)
                for (int64_t d = 0; d < m[3]; d++, i++)
                    v[i] = bench_load(src, storage_at(l, a, b, c, d), t);
}
