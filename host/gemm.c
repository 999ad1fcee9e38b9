/* GEMM: fused tiled implicit-GEMM kernels.  Not implemented yet: every pass
 * is NULL, so requesting it returns CLCONV_BAD_ALGORITHM and AUTO skips it. */
#include "internal.h"

const algo_impl algo_gemm = {{NULL, NULL, NULL}, NULL};
