/*
 * bias.cl - backward-bias: the sum of the output gradient over N, P, Q.
 *
 * CONTRACT bwd_bias
 *   db[k] = (beta ? old : 0) + sum_{n<N, j<PQ} dy[(n*K + k)*PQ + j]
 * One work-group of BIAS_WG items per k (global size K*BIAS_WG, local
 * BIAS_WG, a power of two).  Item l sums elements l, l+BIAS_WG, ... of the
 * flattened (n, j) range; then a fixed tree reduction in local memory, so
 * the result is the same bits on every run.  Never reads db when beta == 0.
 */
#ifndef BIAS_WG
#define BIAS_WG 64
#endif

__kernel __attribute__((reqd_work_group_size(BIAS_WG, 1, 1)))
void bwd_bias(__global const float *dy, long dy_off, __global float *db, long db_off,
              int beta, long N, long K, long PQ)
{
    __local float part[BIAS_WG];
    long k = get_group_id(0);
    int l = get_local_id(0);
    float acc = 0.0f;
    for (long e = l; e < N * PQ; e += BIAS_WG) {
        long n = e / PQ, j = e - n * PQ;
        acc += dy[dy_off + (n * K + k) * PQ + j];
    }
    part[l] = acc;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int h = BIAS_WG / 2; h > 0; h >>= 1) {
        if (l < h)
            part[l] += part[l + h];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (l == 0)
        db[db_off + k] = beta ? db[db_off + k] + part[0] : part[0];
}
