/*
 * conv_generic.cl - the plain convolution every EXPLICIT pass ends in, and
 * the DIRECT forward pass.
 *
 * CONTRACT conv_generic
 * With G a cgeom (the host's conv_geom, field for field), computes for
 * every output element (b, o, y, x), b < B, o < O, y < OY, x < OX:
 *
 *   acc = sum_{i<I, u<U, v<V} in[b*is_b + grp*is_g + i*is_i + iy*is_y + ix*is_x]
 *                            * flt[o*fs_o + i*fs_i + u*fs_u + v*fs_v]
 *   with grp = o / o_per_group,
 *        iy  = y*st_y - pad_y + u*dl_y,  ix = x*st_x - pad_x + v*dl_x,
 *   and no term at all (never 0 * flt, which an Inf or NaN filter would
 *   make NaN) when iy is outside [0, IY) or ix outside [0, IX);
 *
 *   out[oi] = epi_apply(E, acc, out, oi, bias, o),
 *             oi = b*os_b + o*os_o + y*os_y + x*os_x
 *           = act(alpha * acc + beta * old + bias[o]) (prelude.cl), so the
 *   forward's fused epilogue happens in this store step; the host's plain
 *   store (alpha 1, beta 0 or 1, identity, no bias) is acc, or old + acc.
 *
 * Every layout is given by element strides, so one kernel serves:
 *   forward          (b=n, o=k, i=c within the group, filter = w);
 *   EXPLICIT bwd-data (in = upsampled+padded dy, filter = flipped w, stride 1);
 *   EXPLICIT bwd-filter (b = c within group, o = k, i = n, in = x,
 *                      filter = upsampled dy, stride = the layer's dilation).
 * The bottom / right padding is no argument: it only sets OY / OX, and the
 * bounds test above reads what lies below the input as no term.
 *
 * Arguments: tensors of the storage type dt_t (DT), offsets in elements;
 * bias at bias_off, read only when E.has_bias (else any buffer); sizes and
 * strides 64-bit in G.  Edge duties: never reads out when E.beta == 0 (it
 * may hold NaN); global size at least B*O*OY*OX work-items in dimension 0
 * (items past it do nothing).  Accumulates in float in a fixed order
 * (deterministic); each output is rounded once, when stored.
 */
typedef struct cgeom {
    long B, O, OY, OX, I, U, V, IY, IX, o_per_group;
    long is_b, is_g, is_i, is_y, is_x;
    long fs_o, fs_i, fs_u, fs_v;
    long os_b, os_o, os_y, os_x;
    long st_y, st_x, pad_y, pad_x, dl_y, dl_x;
} cgeom;

/* The sum of output (y, x) of one (b, o): ib and fb already point at b's
 * group of input channels and at o's filter. */
static inline float conv_sum(const cgeom *G, __global const dt_t *ib, __global const dt_t *fb,
                             idx y, idx x)
{
    const idx I = G->I, U = G->U, V = G->V, IY = G->IY, IX = G->IX;
    const idx y0 = y * (idx)G->st_y - (idx)G->pad_y, x0 = x * (idx)G->st_x - (idx)G->pad_x;
    float acc = 0.0f;
    for (idx i = 0; i < I; i++) {
        for (idx u = 0; u < U; u++) {
            const idx iy = y0 + u * (idx)G->dl_y;
            if (iy < 0 || iy >= IY)
                continue;
            for (idx v = 0; v < V; v++) {
                const idx ix = x0 + v * (idx)G->dl_x;
                if (ix < 0 || ix >= IX)
                    continue;
                acc += load_el(ib, i * (idx)G->is_i + iy * (idx)G->is_y + ix * (idx)G->is_x) *
                       load_el(fb, i * (idx)G->fs_i + u * (idx)G->fs_u + v * (idx)G->fs_v);
            }
        }
    }
    return acc;
}

__kernel void conv_generic(__global const dt_t *in, long in_off,
                           __global const dt_t *flt, long flt_off,
                           __global dt_t *out, long out_off,
                           cgeom G, epi E, __global const dt_t *bias, long bias_off)
{
    const idx id = get_global_id(0);
    if (id >= (idx)(G.B * G.O * G.OY * G.OX))
        return;
    idx b, o, y, x;
    split4(id, G.O, G.OY, G.OX, &b, &o, &y, &x);

    const idx grp = o / (idx)G.o_per_group;
    __global const dt_t *ib = in + in_off + b * (idx)G.is_b + grp * (idx)G.is_g;
    __global const dt_t *fb = flt + flt_off + o * (idx)G.fs_o;
    const float acc = conv_sum(&G, ib, fb, y, x);
    const idx oi = out_off + b * (idx)G.os_b + o * (idx)G.os_o + y * (idx)G.os_y + x * (idx)G.os_x;
    store_el(out, oi, epi_apply(&E, acc, out, oi, bias + bias_off, o));
}
