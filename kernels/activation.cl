/*
 * activation.cl - elementwise kernels over one tensor of a layer: the
 * activation backward (clconv_activation_backward) and the transposed
 * convolution's bias (clconv_transposed_forward).  Built after prelude.cl
 * with the layer's DT (and IDX_LONG for large tensors), so every storage
 * type runs; each value is read as float, computed in fp32 and rounded
 * once, to nearest even, when stored.
 *
 * CONTRACT act_bwd
 *   dz[i] = act_grad(act, y[i], dy[i], param) for i < count, where i is
 *   the element's position in storage: y, dy and dz share one layout, so
 *   an elementwise map needs no geometry.  act is clconv_activation:
 *     0 identity      dy
 *     1 ReLU          y > 0 ? dy : 0
 *     2 clipped ReLU  0 < y < param ? dy : 0
 *     3 leaky ReLU    y > 0 ? dy : param * dy
 *     4 sigmoid       dy * y * (1 - y)
 *     5 tanh          dy * (1 - y * y)
 *   The ReLU masks select dy or 0 (a masked-out Inf gradient is 0, not
 *   Inf * 0); a NaN y fails every comparison, so it masks the gradient out.
 *   One work-item per element.
 * CONTRACT act_bwd_inplace
 *   The same with dz read as dy (dz is dy's buffer at dy's offset): one
 *   buffer argument, so no two arguments alias.
 * CONTRACT bias_add
 *   y[n][c][h][w] += bias[c] over the x tensor of G (the transposed
 *   forward's output is the x of the convolution it is the
 *   backward-data of).  One work-item per element in storage order; the
 *   channel comes from the stride of c (see channel_of).
 */

/* dL/d(pre-activation) from y = act(pre) and dL/dy (see the CONTRACT). */
static inline float act_grad(int act, float y, float dy, float param)
{
    switch (act) {
    case 1: return y > 0.0f ? dy : 0.0f;
    case 2: return y > 0.0f && y < param ? dy : 0.0f;
    case 3: return y > 0.0f ? dy : param * dy;
    case 4: return dy * y * (1.0f - y);
    case 5: return dy * (1.0f - y * y);
    default: return dy;
    }
}

__kernel void act_bwd(__global const dt_t *y, long y_off, __global const dt_t *dy, long dy_off,
                      __global dt_t *dz, long dz_off, long count, int act, float param)
{
    const idx i = (idx)get_global_id(0);
    if (i >= count)
        return;
    const float g = act_grad(act, load_el(y + y_off, i), load_el(dy + dy_off, i), param);
    store_el(dz + dz_off, i, g);
}

__kernel void act_bwd_inplace(__global const dt_t *y, long y_off, __global dt_t *dz, long dz_off,
                              long count, int act, float param)
{
    const idx i = (idx)get_global_id(0);
    if (i >= count)
        return;
    __global dt_t *d = dz + dz_off;
    store_el(d, i, act_grad(act, load_el(y + y_off, i), load_el(d, i), param));
}

/* The channel of the element at storage position i of a dense x tensor:
 * dimensions stored inside c (strides below xs[1]) vanish in the division,
 * those outside it step by multiples of C * xs[1], so the remainder modulo
 * C is c in NCHW (xs[1] = H*W) and NHWC (xs[1] = 1) alike. */
static inline idx channel_of(const geom *G, idx i)
{
    return (i / (idx)G->xs[1]) % (idx)G->c;
}

__kernel void bias_add(__global dt_t *y, long y_off, __global const dt_t *bias, long bias_off,
                       geom G)
{
    const idx i = (idx)get_global_id(0);
    if (i >= (idx)(G.n * G.c * G.h * G.w))
        return;
    __global dt_t *out = y + y_off;
    store_el(out, i, load_el(out, i) + load_el(bias + bias_off, channel_of(&G, i)));
}
