/* The TILED algorithm (host/tiled.c, kernels/tiled_conv.cl): its tuning
 * table, how a layer is cut into work-groups, and the geometry record the
 * kernel takes by value.  Exposed to the tests, which check the plan and
 * AUTO's choice without a GPU. */
#ifndef CLCONV_TILED_H
#define CLCONV_TILED_H

#include "internal.h"

/* The layer as tiled_conv takes it (one struct argument, by value): the
 * prelude's geometry (kgeom_of: sizes, padding, element strides, so every
 * layout), then the split.  kernels/tiled_conv.cl declares the same
 * fields, all 64-bit, so the two layouts are identical on every compiler
 * (no padding). */
typedef struct tiled_geom {
    kgeom l;
    cl_long splits;    /* backward-filter: reduction splits */
    cl_long split_len; /* backward-filter: reduction elements per split, a multiple of bk */
} tiled_geom;

/* One tile shape: a work-group computes bm output channels x bn columns
 * in chunks of bk reduction elements, each work-item tm x tn of them
 * (the kernel's BM, BN, BK, TM, TN). */
typedef struct tiled_shape {
    int bm, bn, bk, tm, tn;
} tiled_shape;

/* A row of the tuning table (typed, as the GEMM tables). */
typedef struct tiled_row {
    tuning_match match;
    tiled_shape wide;   /* layers with more output channels per group than narrow.bm */
    tiled_shape narrow; /* the others: half the rows, so fewer of them are empty */
    int wg_per_cu;      /* backward-filter: splits aim for this many work-groups per CU */
    int min_chunks;     /* backward-filter: fewest bk-chunks of reduction per split */
} tiled_row;

#define TILED_ROWS 3
extern const tiled_row tiled_rows[TILED_ROWS];

/* The work-group size of a shape. */
int tiled_shape_wg(const tiled_shape *s);

/* How one pass of a layer runs. */
typedef struct tiled_plan {
    int row;              /* index into tiled_rows */
    tiled_shape shape;
    int pass;
    int64_t m;            /* GEMM rows per group: Kg, Cg, Kg */
    size_t groups[3];     /* work-groups along each NDRange dimension */
    int64_t splits, split_len;
    size_t ws_floats;     /* backward-filter partial sums (0: none) */
    size_t local_bytes;
    int idx_long;
    math_tf32 tf32;       /* the TF32 path (tiled_plan_ctx), else MATH_TF32_OFF */
    const char *dt_option; /* layer_dt_option: the storage type */
    int img_strided;      /* B's image has a column stride other than 1 (NHWC) */
    int epilogue;         /* forward with a fused epilogue (the call's, not the layer's:
                           * set by whoever plans a call) */
} tiled_plan;

/* The exact fp32 plan of a pass on a device. */
void tiled_plan_layer(const clconv_devinfo *info, const layer *L, clconv_pass pass,
                      tiled_plan *p);
/* The plan the context runs: tiled_plan_layer with the TF32 path that the
 * context's math mode and device give (math_tf32_path), for shapes the
 * mma warp tiles fit (every row's: 32-item warps of 8*tm x 4*tn, bk a
 * multiple of 8), its local memory included. */
void tiled_plan_ctx(const clconv_ctx *ctx, const layer *L, clconv_pass pass, tiled_plan *p);
/* The build options of a plan (every tunable as used; TF32 adds -DTF32,
 * and -DTF32_EMULATE for the portable mma; then the storage type,
 * -DIMG_STRIDED, -DEPILOGUE, and -DPARTIALS for split partial sums). */
void tiled_build_options(const tiled_plan *p, char *buf, size_t cap);
/* The geometry record of a plan. */
tiled_geom tiled_geometry(const layer *L, const tiled_plan *p);

/* tiled_auto_ok (declared in internal.h for passes.c): AUTO takes TILED
 * on GPUs (on any device when CLCONV_TUNING names one of its rows), and
 * only where its tile is at least a quarter full of output channels
 * (depthwise layers go to GEMM). */

#endif
