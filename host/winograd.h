/* WINOGRAD (host/winograd.c, kernels/winograd.cl): what its tests reach
 * besides the implementation list. */
#ifndef CLCONV_WINOGRAD_H
#define CLCONV_WINOGRAD_H

#include "internal.h"

/* The output tile WM of F(WM x WM, 3 x 3) calls on this thread use: 2 or
 * 4, or 0 for the algorithm's own choice per layer (winograd.c's cost
 * estimate); returns the previous setting.  For tests (tuning_override's
 * pattern): nothing else calls it. */
int winograd_force_wm(int wm);
/* The chunk budget (bytes of transformed tiles and GEMM results per
 * chunk, at least one tile row) on this thread; 0: WINO_CHUNK_BYTES.
 * Returns the previous setting.  For tests: many chunks on small layers. */
size_t winograd_force_chunk_bytes(size_t bytes);
/* Build option: 2 or 4 makes every call take that tile (measurements);
 * 0, the default, chooses per layer. */
#ifndef WINOGRAD_WM
#define WINOGRAD_WM 0
#endif

#endif
