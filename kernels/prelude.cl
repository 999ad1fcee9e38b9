/*
 * prelude.cl - what every kernel source shares.  program.c builds each
 * source of kernels/ as the second string of a two-string program whose
 * first is this file, so no .cl redeclares these (and the program cache
 * keys on both texts).
 *
 * CONTRACT (build options read here)
 *   DT        storage type of every tensor: 0 fp32 (default), 1 fp16,
 *             2 bf16 (the host's clconv_dtype);
 *   IDX_LONG  64-bit index arithmetic (idx, uidx), else 32-bit: the host
 *             sets it when a tensor or a size is too large for int.
 * Provides
 *   idx, uidx          the index types;
 *   dt_t               the storage element type (float, half or ushort);
 *   load_el(p, i) / store_el(p, i, v)        element i of a tensor as float / stored
 *                      from float, rounded to nearest even;
 *   load_el2/4/8/16, store_el2/4/8/16   elements i .. i+N-1 as floatN;
 *   vloadN / vstoreN   the builtins (N = 4, 8, 16; float, int, ushort), on
 *                      PoCL one unaligned N-wide access each (below);
 *   ITEM_FN, COLD_FN   qualifiers of a kernel's out-of-line body and of
 *                      its rarely taken paths;
 *   geom               a layer as the host's layer struct (internal.h's
 *                      kgeom, same field order): sizes, strides, padding,
 *                      dilation, groups and each tensor's element strides;
 *   x_at/y_at/w_at     element offsets of x, y and w through those strides;
 *   split4             a work-item id as four coordinates (one decoder);
 *   phase_first_tap    the first tap of a stride phase, and the tap step;
 *   epi, epi_apply     the fused forward epilogue (clconv_epilogue):
 *                      act(alpha * acc + beta * old + bias).
 * Storage is only ever touched through load_el/store_el (or the vector forms), so a
 * kernel written with them runs every data type; indices only through the
 * strides of geom, so it runs every layout.
 */

#ifndef DT
#define DT 0
#endif

#ifdef IDX_LONG
typedef long idx;
typedef ulong uidx;
#else
typedef int idx;
typedef uint uidx;
#endif

/* ---- vector loads and stores ------------------------------------------ */
#ifdef POCL_DEVICE_ADDRESS_BITS
/* PoCL's vloadN / vstoreN are N/2 two-element accesses joined by
 * shuffles, which every pass of its kernel compiler walks before the code
 * generator merges them into one access again; written as one unaligned
 * N-wide access they give the same instructions and cut the compile time
 * of the vector-heavy kernels (PERFORMANCE.md, the cold start).  Same
 * values, same bytes touched.  (PoCL predefines POCL_DEVICE_ADDRESS_BITS;
 * other compilers keep their own builtins.) */
#define VEC_ACCESS_AS(T, N, AS)                                                  \
    static inline __attribute__((overloadable)) T##N clconv_vload##N(size_t i,     \
                                                                  AS const T *p) \
    {                                                                            \
        return *(AS const T##N##_u *)(p + i * N);                                \
    }                                                                            \
    static inline __attribute__((overloadable)) void clconv_vstore##N(T##N v, size_t i, \
                                                                   AS T *p)     \
    {                                                                            \
        *(AS T##N##_u *)(p + i * N) = v;                                         \
    }
/* T##N##_u: T##N aligned only as one T, as vloadN requires */
#define VEC_ACCESS(T, N)                                                         \
    typedef T T##N##_u __attribute__((ext_vector_type(N), aligned(sizeof(T))));  \
    VEC_ACCESS_AS(T, N, __global)                                                \
    VEC_ACCESS_AS(T, N, __local)                                                 \
    VEC_ACCESS_AS(T, N, __private)
VEC_ACCESS(float, 4)
VEC_ACCESS(float, 8)
VEC_ACCESS(float, 16)
VEC_ACCESS(int, 4)
VEC_ACCESS(int, 8)
VEC_ACCESS(int, 16)
VEC_ACCESS(ushort, 4)
VEC_ACCESS(ushort, 8)
VEC_ACCESS(ushort, 16)
/* PoCL's own headers define these names as macros for its builtins */
#undef vload4
#undef vload8
#undef vload16
#undef vstore4
#undef vstore8
#undef vstore16
#define vload4 clconv_vload4
#define vload8 clconv_vload8
#define vload16 clconv_vload16
#define vstore4 clconv_vstore4
#define vstore8 clconv_vstore8
#define vstore16 clconv_vstore16
#endif

/* ---- work-item bodies -------------------------------------------------- */
/* ITEM_FN marks the function that does a kernel's work, called by the
 * kernel with its work-item id (it calls no work-item function itself).
 * PoCL compiles a kernel's body three times (the kernel and the two
 * work-group launchers it inlines it into); kept out of line, the body is
 * compiled once, at the same speed (kv_conv: 0.71 against 0.25 s; with
 * the vector accesses above, ResNet-50's 17 kernels 11.2 against 3.1 s:
 * PERFORMANCE.md, the cold start).  COLD_FN: a rarely taken path (a
 * non-finite tile summed again) kept out of line for the same reason.
 * Elsewhere the body is inlined into the kernel, as it was written, and a
 * COLD_FN is an ordinary function. */
#ifdef POCL_DEVICE_ADDRESS_BITS
#define ITEM_FN static __attribute__((noinline))
#define COLD_FN static __attribute__((noinline))
#else
#define ITEM_FN static inline __attribute__((always_inline))
#define COLD_FN static
#endif

/* ---- storage types ---------------------------------------------------- */
#if DT == 0
typedef float dt_t;
static inline float load_el(__global const float *p, idx i) { return p[i]; }
static inline void store_el(__global float *p, idx i, float v) { p[i] = v; }
static inline float2 load_el2(__global const float *p, idx i) { return vload2(0, p + i); }
static inline float4 load_el4(__global const float *p, idx i) { return vload4(0, p + i); }
static inline float8 load_el8(__global const float *p, idx i) { return vload8(0, p + i); }
static inline float16 load_el16(__global const float *p, idx i) { return vload16(0, p + i); }
static inline void store_el2(__global float *p, idx i, float2 v) { vstore2(v, 0, p + i); }
static inline void store_el4(__global float *p, idx i, float4 v) { vstore4(v, 0, p + i); }
static inline void store_el8(__global float *p, idx i, float8 v) { vstore8(v, 0, p + i); }
static inline void store_el16(__global float *p, idx i, float16 v) { vstore16(v, 0, p + i); }
#elif DT == 1
/* vload_half / vstore_half are core OpenCL 1.2 (no cl_khr_fp16 needed). */
typedef half dt_t;
static inline float load_el(__global const half *p, idx i) { return vload_half(0, p + i); }
static inline void store_el(__global half *p, idx i, float v) { vstore_half_rte(v, 0, p + i); }
static inline float2 load_el2(__global const half *p, idx i) { return vload_half2(0, p + i); }
static inline float4 load_el4(__global const half *p, idx i) { return vload_half4(0, p + i); }
static inline float8 load_el8(__global const half *p, idx i) { return vload_half8(0, p + i); }
static inline float16 load_el16(__global const half *p, idx i) { return vload_half16(0, p + i); }
static inline void store_el2(__global half *p, idx i, float2 v) { vstore_half2_rte(v, 0, p + i); }
static inline void store_el4(__global half *p, idx i, float4 v) { vstore_half4_rte(v, 0, p + i); }
static inline void store_el8(__global half *p, idx i, float8 v) { vstore_half8_rte(v, 0, p + i); }
static inline void store_el16(__global half *p, idx i, float16 v) { vstore_half16_rte(v, 0, p + i); }
#elif DT == 2
/* bf16 is the upper half of a binary32: widening is a shift; narrowing
 * rounds to nearest even, and keeps a NaN a (quiet) NaN. */
typedef ushort dt_t;
static inline uint bf16_round(uint u)
{
    if ((u & 0x7fffffffu) > 0x7f800000u)
        return (u >> 16) | 0x40u;
    return (u + 0x7fffu + ((u >> 16) & 1u)) >> 16;
}
static inline float load_el(__global const ushort *p, idx i) { return as_float((uint)p[i] << 16); }
static inline void store_el(__global ushort *p, idx i, float v) { p[i] = (ushort)bf16_round(as_uint(v)); }
static inline float2 load_el2(__global const ushort *p, idx i)
{
    return as_float2(convert_uint2(vload2(0, p + i)) << 16);
}
static inline float4 load_el4(__global const ushort *p, idx i)
{
    return as_float4(convert_uint4(vload4(0, p + i)) << 16);
}
static inline float8 load_el8(__global const ushort *p, idx i)
{
    return as_float8(convert_uint8(vload8(0, p + i)) << 16);
}
static inline float16 load_el16(__global const ushort *p, idx i)
{
    return as_float16(convert_uint16(vload16(0, p + i)) << 16);
}
static inline void store_el2(__global ushort *p, idx i, float2 v)
{
    store_el(p, i, v.s0), store_el(p, i + 1, v.s1);
}
static inline void store_el4(__global ushort *p, idx i, float4 v)
{
    store_el2(p, i, v.lo), store_el2(p, i + 2, v.hi);
}
static inline void store_el8(__global ushort *p, idx i, float8 v)
{
    store_el4(p, i, v.lo), store_el4(p, i + 4, v.hi);
}
static inline void store_el16(__global ushort *p, idx i, float16 v)
{
    store_el8(p, i, v.lo), store_el8(p, i + 8, v.hi);
}
#else
#error "DT must be 0 (fp32), 1 (fp16) or 2 (bf16)"
#endif

/* ---- the layer -------------------------------------------------------- */
/* Mirrors internal.h's kgeom field for field (every field 64-bit, so the
 * host and device layouts agree without packing rules). */
typedef struct geom {
    long n, c, h, w, k, r, s, p, q;
    long sh, sw, ph, pw, pb, pr, dh, dw, g, cg, kg;
    long xs[4];                 /* x, dx: strides of n, c, h, w */
    long ys[4];                 /* y, dy: strides of n, k, p, q */
    long ws[4];                 /* w, dw: strides of k, c (in the group), r, s */
} geom;

static inline idx x_at(const geom *G, idx n, idx c, idx h, idx w)
{
    return n * (idx)G->xs[0] + c * (idx)G->xs[1] + h * (idx)G->xs[2] + w * (idx)G->xs[3];
}
static inline idx y_at(const geom *G, idx n, idx k, idx p, idx q)
{
    return n * (idx)G->ys[0] + k * (idx)G->ys[1] + p * (idx)G->ys[2] + q * (idx)G->ys[3];
}
static inline idx w_at(const geom *G, idx k, idx c, idx r, idx s)
{
    return k * (idx)G->ws[0] + c * (idx)G->ws[1] + r * (idx)G->ws[2] + s * (idx)G->ws[3];
}

/* ---- work-item ids -------------------------------------------------------- */
/* The coordinates (a, b, c, d) of item id in a range of dims (., nb, nc,
 * nd), d fastest: the one decoder of every kernel with one work-item per
 * element of a 4-D range. */
static inline void split4(idx id, idx nb, idx nc, idx nd, idx *a, idx *b, idx *c, idx *d)
{
    *d = id % nd;
    id /= nd;
    *c = id % nc;
    id /= nc;
    *b = id % nb;
    *a = id / nb;
}

/* ---- stride phases ------------------------------------------------------ */
/* Backward-data by stride phases (gemm_conv.cl, kv_conv.cl, tiled_conv.cl):
 * the first tap m < M (at m*d) of the phase whose base is `base` (the
 * output row plus the top padding) with (base - m*d) divisible by the
 * stride st, or M if none; the phase's taps then repeat every
 * *step = st / gcd(st, d). */
static inline idx phase_first_tap(idx base, idx d, idx st, idx M, idx *step)
{
    idx a = st, b = d;
    while (b) {
        const idx t = a % b;
        a = b;
        b = t;
    }
    *step = st / a;
    for (idx m = 0; m < M && m < *step; m++)
        if ((base - m * d) % st == 0)
            return m;
    return M;
}

/* ---- the fused forward epilogue ---------------------------------------- */
/* Mirrors internal.h's kepi.  act: clconv_activation. */
typedef struct epi {
    float alpha, beta, param;
    int act;
    int has_bias;
    int pad_;
} epi;

static inline float act_apply(int act, float v, float param)
{
    /* comparisons written so that a NaN passes through, as PyTorch's */
    switch (act) {
    case 1: return v < 0.0f ? 0.0f : v;
    case 2: return v < 0.0f ? 0.0f : v > param ? param : v;
    case 3: return v < 0.0f ? param * v : v;
    case 4: return 1.0f / (1.0f + exp(-v));
    case 5: return tanh(v);
    default: return v;
    }
}

/* What the store step writes for output channel k: acc is the
 * convolution sum, old the element's previous value (read only when
 * beta != 0, so a NaN there never leaks in otherwise), bias the layer's
 * bias vector (read only when has_bias). */
static inline float epi_apply(const epi *E, float acc, __global const dt_t *y, idx yi,
                              __global const dt_t *bias, idx k)
{
    float v = E->alpha * acc;
    if (E->beta != 0.0f)
        v += E->beta * load_el(y, yi);
    if (E->has_bias)
        v += load_el(bias, k);
    return act_apply(E->act, v, E->param);
}
