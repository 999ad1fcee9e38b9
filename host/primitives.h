/* The kernels DIRECT and EXPLICIT are built from (primitives.c): the plain
 * strided convolution of kernels/conv_generic.cl with its store step,
 * upsample+pad and flip, in every storage type and layout.  (internal.h
 * keeps conv_geom, geom_forward, upsample_dims, run_upsample and run_flip,
 * whose signatures already carry the layer.) */
#ifndef CLCONV_PRIMITIVES_H
#define CLCONV_PRIMITIVES_H

#include "internal.h"

/* A device tensor: buffer and offset in elements of the layer's type. */
typedef struct dbuf {
    cl_mem m;
    size_t off;
} dbuf;

/* What conv_generic's store step writes (prelude.cl's epi_apply): the
 * forward's epilogue, or the plain store y = acc (old + acc when beta).
 * bias is read only when e.has_bias; otherwise any valid buffer. */
typedef struct conv_store {
    kepi e;
    dbuf bias;
} conv_store;
/* The plain store: alpha 1, beta 0 or 1, identity, no bias (bias = out,
 * never read). */
conv_store conv_store_plain(int beta, dbuf out);
/* A forward pass's store: its epilogue when it has one, else plain. */
conv_store conv_store_of(const pass_args *a);

/* conv_generic.cl over g with tensors in L's storage type; ws_elems: the
 * workspace elements among its tensors (they decide the index width with
 * L's own). */
clconv_status conv_generic_run(clconv_ctx *ctx, const layer *L, const conv_geom *g,
                               size_t ws_elems, dbuf in, dbuf flt, dbuf out,
                               const conv_store *st, cl_event *event);

/* The forward pass of DIRECT and EXPLICIT: conv_generic over the layer,
 * its epilogue (if any) in the store step. */
clconv_status conv_generic_forward(clconv_ctx *ctx, const pass_args *a);

/* Elements of the upsampled dy (run_upsample's output) for backward-data
 * (for_data) or backward-filter. */
size_t upsample_elems(const layer *L, int for_data);
/* Element strides (n, k, y, x) of that map, dense in L's layout: the
 * NCHW or NHWC order of dy itself. */
void upsample_strides(const layer *L, int for_data, int64_t st[4]);
/* Element strides (c, kl, r, s) of the flipped filter C x Kg x R x S,
 * dense in L's filter layout (KRSC: C x R x S x Kg). */
void flip_strides(const layer *L, int64_t st[4]);

/* The build options of this family's kernels for L: its storage type
 * (layer_dt_option) and 64-bit indices when L, with ws_elems workspace
 * elements, needs them (layer_needs_long).  A static string. */
const char *simple_kernel_options(const layer *L, size_t ws_elems);

#endif
