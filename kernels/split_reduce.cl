/*
 * split_reduce.cl - the second step of a backward-filter whose N*P*Q
 * reduction is split over work-groups: TILED's (kernels/tiled_conv.cl)
 * and GEMM's dot-product plan (kernels/gemm_bwd_filter_dot.cl).
 *
 * CONTRACT split_reduce
 *   dw[i] = (beta ? old : 0) + ws[0*elems + i] + ws[1*elems + i] + ...
 *           + ws[(splits-1)*elems + i]   for i < elems,
 *   added in split order (the same bits on every run, no atomics).
 *   ws: the splits' partial sums (fp32 whatever the storage type) in
 *   dw's layout, one copy per split; dw/dw_off: the output (elements of
 *   the storage type DT, prelude.cl), read as fp32 when beta and rounded
 *   once when stored; beta 0 overwrites dw without reading it.  One work-item per element (dimension 0, any
 *   work-group size, extra work-items return).  Assumes: splits >= 1 and
 *   splits * elems floats in ws.
 */
__kernel void split_reduce(__global const float *ws, __global dt_t *dw, long dw_off, int beta,
                           long elems, long splits)
{
    const long i = get_global_id(0);
    if (i >= elems)
        return;
    float sum = 0.0f;
    for (long z = 0; z < splits; z++)
        sum += ws[z * elems + i];
    __global dt_t *o = dw + dw_off + i; /* long arithmetic: idx may be 32-bit */
    store_el(o, 0, beta ? load_el(o, 0) + sum : sum);
}
