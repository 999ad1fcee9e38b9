/*
 * upsample_pad.cl - the seed's first primitive: dilate an output gradient
 * with (stride-1) zeros between elements and pad (or crop) it.
 *
 * CONTRACT
 * For each of `planes` planes (N*K of them, SH x SW each in src, DH x DW
 * each in dst):
 *   dst[pl][y][x] = src[pl][(y-top)/sy][(x-left)/sx]
 *       if y-top and x-left are >= 0, multiples of sy and sx, and the
 *       quotients are < SH and < SW;
 *   dst[pl][y][x] = 0 otherwise.
 * top/left may be negative: that crops the dilated map (padding p larger
 * than (R-1)*d).  DH/DW may exceed the dilated map: the extra bottom rows and
 * right columns (stride remainders) are zeros.
 * Backward-data uses top = (R-1)*dh - ph, DH = H + (R-1)*dh; backward-filter
 * uses top = 0, DH = (P-1)*sh + 1 (dilation only).
 * Arguments: offsets in floats, sizes as long.  Global size: at least
 * planes*DH*DW work-items in dimension 0; every dst element is written.
 */
__kernel void upsample_pad(__global const float *src, long src_off,
                           __global float *dst, long dst_off,
                           long planes, long SH, long SW, long DH, long DW,
                           long top, long left, long sy, long sx)
{
    long id = get_global_id(0);
    if (id >= planes * DH * DW)
        return;
    long x = id % DW;
    long t = id / DW;
    long y = t % DH;
    long pl = t / DH;
    long yy = y - top, xx = x - left;
    float v = 0.0f;
    if (yy >= 0 && xx >= 0 && yy % sy == 0 && xx % sx == 0 && yy / sy < SH && xx / sx < SW)
        v = src[src_off + (pl * SH + yy / sy) * SW + xx / sx];
    dst[dst_off + id] = v;
}
