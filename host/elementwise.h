/* The host side of kernels/activation.cl's elementwise kernels, shared by
 * the activation backward (activation.c) and the transposed convolution's
 * bias (transposed.c).  Internal, not installed. */
#ifndef CLCONV_ELEMENTWISE_H
#define CLCONV_ELEMENTWISE_H

#include "internal.h"

/* Kernel `name` of kernels/activation.cl built for L's storage type, with
 * 64-bit indices when L's tensors need them (ctx locked). */
clconv_status elementwise_kernel(clconv_ctx *ctx, const layer *L, const char *name,
                                 cl_kernel *out);
/* y[n][c][h][w] += bias[c] over L's x tensor at y_off, bias at bias_off
 * (ctx locked, buffers checked). */
clconv_status bias_add_run(clconv_ctx *ctx, const layer *L, cl_mem y, size_t y_off, cl_mem bias,
                           size_t bias_off, cl_event *event);

#endif
