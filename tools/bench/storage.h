/* storage.h - the bench's host side of clconv's storage types and
 * layouts: fp32 <-> fp16 / bf16 (round to nearest even, as the library
 * stores its outputs), and tensors packed from the reference's dense
 * channels-first order (NCHW, KCRS) into a buffer image of any dtype and
 * either layout, and back.  The tool does not link the tests' helpers, so
 * these mirror tests/feature_check.c (a test compares the two). */
#ifndef BENCH_STORAGE_H
#define BENCH_STORAGE_H

#include <stddef.h>
#include <stdint.h>

#include "clconv.h"

uint16_t bench_f32_to_f16(float f);
float bench_f16_to_f32(uint16_t h);
uint16_t bench_f32_to_bf16(float f);
float bench_bf16_to_f32(uint16_t b);

/* Element i of a storage array of type t: written from v (rounded to t),
 * and read back as fp32. */
void bench_store(void *dst, size_t i, clconv_dtype t, float v);
float bench_load(const void *src, size_t i, clconv_dtype t);

/* A 4-D tensor's dims in channels-first order (n, c, h, w for
 * activations; k, c/g, r, s for filters) and whether its storage is
 * channels-last (n h w c; k r s c/g). */
typedef struct bench_layout {
    int64_t dims[4];
    int cl;
} bench_layout;

size_t bench_layout_elems(const bench_layout *l);

/* Write the n values v (channels-first order) into dst, laid out by l, in
 * type t; v is overwritten with the values as stored (rounded to t). */
void bench_pack(float *v, const bench_layout *l, clconv_dtype t, void *dst);
/* The inverse: storage src to fp32 values in channels-first order. */
void bench_unpack(const void *src, const bench_layout *l, clconv_dtype t, float *v);

#endif
