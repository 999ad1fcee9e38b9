/*
 * gemm_bwd_filter_dot.cl - GEMM backward-filter for layers with few filters
 * per group (depthwise: Kg = 1), where the main kernel's vectors over k
 * (gemm_bwd_filter.cl) would be mostly empty.  Each work-item computes one
 * dw element as a dot product along output columns q, in float16 (then
 * float4, then scalar) vectors of x and dy, which are both contiguous in q
 * when the stride is 1:
 *   dw[k][cl][r][s] = sum over n, p, q of
 *       x[n][g*Cg + cl][p*sh - ph + r*dh][q*sw - pw + s*dwl] * dy[n][k][p][q]
 * with g = k / Kg; the in-range q of one s form an interval, and rows whose
 * ih falls outside x are skipped, so padding is never tested per element.
 *
 * CONTRACT bwf_dot
 *   Work-item id < splits*K*Cg*R*S owns dw element e = id % (K*Cg*R*S) and
 *   split sp = id / (K*Cg*R*S), which covers output rows (n, p) numbered
 *   [sp*rps, min(N*P, (sp+1)*rps)).  With direct != 0 (one split):
 *   dw[e] = (beta ? old : 0) + sum; else ws[sp*K*Cg*R*S + e] = the split's
 *   partial sum.  Never reads dw when beta == 0.  Items past the end do
 *   nothing.  Fixed summation order: the same bits run to run.  The
 *   splits are added by split_reduce (kernels/split_reduce.cl).
 *
 * Offsets in floats, sizes as long; indices are idx (long with
 * -DIDX_LONG, which the host sets past INT_MAX elements, else int).
 */
/* idx, uidx: prelude.cl (IDX_LONG) */

/* Accumulators of one dot product: kept across rows, summed once. */
typedef struct dot_acc {
    float16 a16;
    float4 a4;
    float a1;
} dot_acc;

/* acc += x[t*sw] * d[t] for t < len, in a fixed order. */
static void dot_row(dot_acc *acc, __global const float *x, __global const float *d, idx len,
                    idx sw)
{
    idx t = 0;
    if (sw == 1) {
        for (; t + 16 <= len; t += 16)
            acc->a16 = fma(vload16(0, x + t), vload16(0, d + t), acc->a16);
        for (; t + 4 <= len; t += 4)
            acc->a4 = fma(vload4(0, x + t), vload4(0, d + t), acc->a4);
    } else if (sw == 2) {
        /* even lanes of 32 loaded; t + 17 <= len keeps the last load
         * (element 2t+31) inside the row's in-range elements */
        for (; t + 17 <= len; t += 16) {
            float16 a = vload16(0, x + 2 * t), b = vload16(0, x + 2 * t + 16);
            acc->a16 = fma((float16)(a.even, b.even), vload16(0, d + t), acc->a16);
        }
        for (; t + 5 <= len; t += 4)
            acc->a4 = fma(vload8(0, x + 2 * t).even, vload4(0, d + t), acc->a4);
    }
    for (; t < len; t++)
        acc->a1 = fma(x[t * sw], d[t], acc->a1);
}

static float dot_total(const dot_acc *acc)
{
    float8 h8 = acc->a16.lo + acc->a16.hi;
    float4 h4 = h8.lo + h8.hi + acc->a4;
    float2 h2 = h4.lo + h4.hi;
    return h2.x + h2.y + acc->a1;
}

__kernel void bwf_dot(__global const float *x, long x_off, __global const float *dy, long dy_off,
                      __global float *ws, __global float *dw, long dw_off, int beta, int direct,
                      long N, long C, long H, long W, long K, long P, long Q, long R, long S,
                      long Cg, long Kg, long sh, long sw, long ph, long pw, long dh, long dwl,
                      long rps, long splits)
{
    const idx elems = K * Cg * R * S, id = get_global_id(0);
    if (id >= splits * elems)
        return;
    const idx e = id % elems, sp = id / elems;
    const idx s = e % S, r = (e / S) % R, cl = (e / (R * S)) % Cg, k = e / (Cg * R * S);
    const idx c = (k / Kg) * Cg + cl;
    /* the in-range q of this s: 0 <= q*sw - pw + s*dwl < W */
    const idx lo = pw - s * dwl, hi = W - 1 + pw - s * dwl;
    const idx qa = lo <= 0 ? 0 : (lo + sw - 1) / sw;
    const idx qb = hi < 0 ? 0 : min((idx)Q, hi / (idx)sw + 1);
    const idx rbeg = sp * rps, rend = min((idx)(N * P), rbeg + (idx)rps);
    dot_acc acc = {0.0f, 0.0f, 0.0f};
    idx n = rbeg / P, p = rbeg - n * P;
    for (idx row = rbeg; row < rend && qa < qb; row++, p++) {
        if (p == P) {
            p = 0;
            n++;
        }
        const idx ih = p * sh - ph + r * dh;
        if (ih < 0 || ih >= H)
            continue;
        __global const float *xr = x + x_off + ((n * C + c) * H + ih) * W + qa * sw - pw + s * dwl;
        __global const float *dr = dy + dy_off + ((n * K + k) * P + p) * Q + qa;
        dot_row(&acc, xr, dr, qb - qa, sw);
    }
    const float sum = dot_total(&acc);
    if (!direct) {
        ws[sp * elems + e] = sum;
        return;
    }
    __global float *d = dw + dw_off + e;
    *d = beta ? *d + sum : sum;
}
