/*
 * upsample_pad.cl - the seed's first primitive: dilate an output gradient
 * with (stride-1) zeros between elements and pad (or crop) it.
 *
 * CONTRACT upsample_pad
 * With M a umap (the host's upsample_map, field for field): for every
 * n < N, k < K, y < DH, x < DW
 *   dst[n*ds[0] + k*ds[1] + y*ds[2] + x*ds[3]]
 *       = src[n*ss[0] + k*ss[1] + ((y-top)/sy)*ss[2] + ((x-left)/sx)*ss[3]]
 *       if y-top and x-left are >= 0, multiples of sy and sx, and the
 *       quotients are < SH and < SW;
 *       = 0 otherwise.
 * The two sides of each axis are separate: top/left rows and columns
 * come first (negative top/left crop the dilated map), and the bottom /
 * right side is whatever DH/DW leave after it, DH - top - ((SH-1)*sy + 1)
 * rows (zeros when positive, a crop when negative).
 * Backward-data uses top = (R-1)*dh - pad_top, DH = H + (R-1)*dh (so the
 * bottom is pad_bottom less the stride's remainder: P was computed with
 * it); backward-filter uses top = 0, DH = (P-1)*sh + 1 (dilation only).
 * src (dy) and dst are addressed through their element strides, so either
 * may be NCHW or NHWC; the host gives dst the layer's layout.
 * Arguments: tensors of the storage type dt_t (DT), offsets in elements;
 * values are copied exactly.  Global size: at least N*K*DH*DW work-items
 * in dimension 0; every dst element of the map is written, src only read.
 */
typedef struct umap {
    long N, K, SH, SW, DH, DW, top, left, sy, sx;
    long ss[4];                 /* src strides of n, k, row, column */
    long ds[4];                 /* dst strides of n, k, row, column */
} umap;

/* The source element under dst (n, k, y, x), or -1 where dst holds a zero. */
static inline idx upsample_src(const umap *M, idx n, idx k, idx y, idx x)
{
    const idx yy = y - (idx)M->top, xx = x - (idx)M->left, sy = M->sy, sx = M->sx;
    if (yy < 0 || xx < 0 || yy % sy != 0 || xx % sx != 0 || yy / sy >= (idx)M->SH ||
        xx / sx >= (idx)M->SW)
        return -1;
    return n * (idx)M->ss[0] + k * (idx)M->ss[1] + (yy / sy) * (idx)M->ss[2] +
           (xx / sx) * (idx)M->ss[3];
}

__kernel void upsample_pad(__global const dt_t *src, long src_off,
                           __global dt_t *dst, long dst_off, umap M)
{
    const idx id = get_global_id(0);
    if (id >= (idx)(M.N * M.K * M.DH * M.DW))
        return;
    idx n, k, y, x;
    split4(id, M.K, M.DH, M.DW, &n, &k, &y, &x);
    const idx si = upsample_src(&M, n, k, y, x);
    const idx di = dst_off + n * (idx)M.ds[0] + k * (idx)M.ds[1] + y * (idx)M.ds[2] +
                   x * (idx)M.ds[3];
    store_el(dst, di, si < 0 ? 0.0f : load_el(src + src_off, si));
}
