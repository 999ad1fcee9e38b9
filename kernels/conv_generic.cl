/*
 * conv_generic.cl - the plain convolution every EXPLICIT pass ends in, and
 * the DIRECT forward pass.
 *
 * CONTRACT
 * Computes, for every output element (b, o, y, x) with b < B, o < O,
 * y < OY, x < OX:
 *
 *   out[b*os_b + o*os_o + y*os_y + x*os_x]
 *       = (beta ? old value : 0)
 *       + sum_{i<I, u<U, v<V} in[b*is_b + grp*is_g + i*is_i + iy*is_y + ix*is_x]
 *                              * flt[o*fs_o + i*fs_i + u*fs_u + v*fs_v]
 *   with grp = o / o_per_group,
 *        iy  = y*st_y - pad_y + u*dl_y,  ix = x*st_x - pad_x + v*dl_x,
 *   and no term at all (never 0 * flt, which an Inf or NaN filter would
 *   make NaN) when iy is outside [0, IY) or ix outside [0, IX).
 *
 * Every layout is given by element strides, so one kernel serves:
 *   forward          (b=n, o=k, i=c within the group, filter = w);
 *   EXPLICIT bwd-data (in = upsampled+padded dy, filter = flipped w, stride 1);
 *   EXPLICIT bwd-filter (b = c within group, o = k, i = n, in = x,
 *                      filter = upsampled dy, stride = the layer's dilation).
 *
 * Arguments: buffers with offsets in floats; beta 0 or 1; all sizes and
 * strides as long (64-bit), so tensors beyond 2^31 elements index correctly.
 * Edge duties: must not read out when beta == 0 (it may hold NaN); must
 * treat out-of-range input coordinates (padding, negative pad crop) as 0;
 * global size is at least B*O*OY*OX work-items in dimension 0 (items past it
 * do nothing).  Accumulates in float, in a fixed order (deterministic).
 */
__kernel void conv_generic(__global const float *in, long in_off,
                           __global const float *flt, long flt_off,
                           __global float *out, long out_off, int beta,
                           long B, long O, long OY, long OX,
                           long I, long U, long V, long IY, long IX, long o_per_group,
                           long is_b, long is_g, long is_i, long is_y, long is_x,
                           long fs_o, long fs_i, long fs_u, long fs_v,
                           long os_b, long os_o, long os_y, long os_x,
                           long st_y, long st_x, long pad_y, long pad_x,
                           long dl_y, long dl_x)
{
    long id = get_global_id(0);
    if (id >= B * O * OY * OX)
        return;
    long x = id % OX;
    long t = id / OX;
    long y = t % OY;
    t /= OY;
    long o = t % O;
    long b = t / O;

    __global const float *ib = in + in_off + b * is_b + (o / o_per_group) * is_g;
    __global const float *fb = flt + flt_off + o * fs_o;
    float acc = 0.0f;
    for (long i = 0; i < I; i++) {
        for (long u = 0; u < U; u++) {
            long iy = y * st_y - pad_y + u * dl_y;
            if (iy < 0 || iy >= IY)
                continue;
            for (long v = 0; v < V; v++) {
                long ix = x * st_x - pad_x + v * dl_x;
                if (ix < 0 || ix >= IX)
                    continue;
                acc += ib[i * is_i + iy * is_y + ix * is_x] * fb[i * fs_i + u * fs_u + v * fs_v];
            }
        }
    }
    __global float *dst = out + out_off + b * os_b + o * os_o + y * os_y + x * os_x;
    *dst = beta ? *dst + acc : acc;
}
