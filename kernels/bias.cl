/*
 * bias.cl - backward-bias: the sum of the output gradient over N, P, Q.
 *
 * CONTRACT bwd_bias
 *   db[k] = (beta ? old : 0) + sum_{n<N, p<P, q<Q} dy[n][k][p][q]
 * with dy addressed through G's strides (prelude.cl's geom, ys over n, k,
 * p, q), so NCHW or NHWC.  In both dense layouts q runs inside p with
 * ys[2] = Q*ys[3], so (p, q) is one run j = p*Q + q of stride ys[3]: the
 * kernel walks (n, j).  One work-group of BIAS_WG items per k (global size
 * K*BIAS_WG, local BIAS_WG, a power of two).  Item l sums elements l,
 * l+BIAS_WG, ... of the flattened (n, j) range; then a fixed tree
 * reduction in local memory, so the result is the same bits on every run.
 * Tensors of the storage type dt_t (DT), offsets in elements; sums in
 * float, rounded once when db is stored.  Never reads db when beta == 0.
 */
#ifndef BIAS_WG
#define BIAS_WG 64
#endif

__kernel __attribute__((reqd_work_group_size(BIAS_WG, 1, 1)))
void bwd_bias(__global const dt_t *dy, long dy_off, __global dt_t *db, long db_off,
              int beta, geom G)
{
    __local float part[BIAS_WG];
    const idx k = get_group_id(0);
    const int l = get_local_id(0);
    const idx PQ = (idx)(G.p * G.q), js = G.ys[3];
    __global const dt_t *dyk = dy + dy_off + k * (idx)G.ys[1];
    float acc = 0.0f;
    for (idx e = l; e < (idx)G.n * PQ; e += BIAS_WG) {
        const idx n = e / PQ, j = e - n * PQ;
        acc += load_el(dyk, n * (idx)G.ys[0] + j * js);
    }
    part[l] = acc;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int h = BIAS_WG / 2; h > 0; h >>= 1) {
        if (l < h)
            part[l] += part[l + h];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (l == 0)
        store_el(db, db_off + k, beta ? load_el(db, db_off + k) + part[0] : part[0]);
}
