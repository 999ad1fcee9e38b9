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
 * ih falls outside x are skipped, so padding is never tested per element
 * (ph, pw are the top and left padding; the bottom and right only set P
 * and Q).  The layer comes as one `geom` argument (prelude.cl): x, dy and
 * dw are indexed through its element strides (any layout) and stored as
 * dt_t (DT), loaded as float, summed in fp32, rounded once on the store.
 * COL1 says that the columns of x and dy have element stride 1 (NCHW):
 * only then are the dot products vector loads; else they go element by
 * element through the strides.
 *
 * CONTRACT bwf_dot
 *   Work-item id < splits*K*Cg*R*S owns the dw element numbered
 *   e = id % (K*Cg*R*S) in KCRS order, (k, cl, r, s), and split
 *   sp = id / (K*Cg*R*S), which covers output rows (n, p) numbered
 *   [sp*rps, min(N*P, (sp+1)*rps)).  With o its offset in dw's layout:
 *   with direct != 0 (one split) dw[o] = (beta ? old : 0) + sum; else
 *   ws[sp*K*Cg*R*S + o] = the split's partial sum (so that ws holds each
 *   split in dw's layout, as split_reduce adds them).  Never reads dw when beta == 0.  Items past the end do
 *   nothing.  Fixed summation order: the same bits run to run.  The
 *   splits are added by split_reduce (kernels/split_reduce.cl).
 *
 * Offsets in elements (of dt_t; ws in floats); indices are idx (long with
 * -DIDX_LONG, which the host sets past INT_MAX elements, else int).
 */
/* idx, uidx: prelude.cl (IDX_LONG) */

/* Accumulators of one dot product: kept across rows, summed once. */
typedef struct dot_acc {
    float16 a16;
    float4 a4;
    float a1;
} dot_acc;

/* acc += x[t*xst] * d[t*dst] for t < len, in a fixed order (xst: x's
 * element step from one q to the next, sw times its column stride; dst
 * dy's column stride; both 1 and sw under COL1). */
static void dot_row(dot_acc *acc, __global const dt_t *x, __global const dt_t *d, idx len,
                    idx sw, idx xst, idx dst)
{
    idx t = 0;
#ifdef COL1
    if (sw == 1) {
        for (; t + 16 <= len; t += 16)
            acc->a16 = fma(load_el16(x, t), load_el16(d, t), acc->a16);
        for (; t + 4 <= len; t += 4)
            acc->a4 = fma(load_el4(x, t), load_el4(d, t), acc->a4);
    } else if (sw == 2) {
        /* even lanes of 32 loaded; t + 17 <= len keeps the last load
         * (element 2t+31) inside the row's in-range elements */
        for (; t + 17 <= len; t += 16) {
            float16 a = load_el16(x, 2 * t), b = load_el16(x, 2 * t + 16);
            acc->a16 = fma((float16)(a.even, b.even), load_el16(d, t), acc->a16);
        }
        for (; t + 5 <= len; t += 4)
            acc->a4 = fma(load_el8(x, 2 * t).even, load_el4(d, t), acc->a4);
    }
#endif
    for (; t < len; t++)
        acc->a1 = fma(load_el(x, t * xst), load_el(d, t * dst), acc->a1);
}

static float dot_total(const dot_acc *acc)
{
    float8 h8 = acc->a16.lo + acc->a16.hi;
    float4 h4 = h8.lo + h8.hi + acc->a4;
    float2 h2 = h4.lo + h4.hi;
    return h2.x + h2.y + acc->a1;
}

/* The column strides of x and dy: the constant 1 under COL1. */
#ifdef COL1
#define XQ(G) ((idx)1)
#define YQ(G) ((idx)1)
#else
#define XQ(G) ((idx)(G)->xs[3])
#define YQ(G) ((idx)(G)->ys[3])
#endif

__kernel void bwf_dot(__global const dt_t *x, long x_off, __global const dt_t *dy, long dy_off,
                      __global float *ws, __global dt_t *dw, long dw_off, int beta, int direct,
                      geom gm, long rps, long splits)
{
    const idx N = gm.n, H = gm.h, W = gm.w, K = gm.k, P = gm.p, Q = gm.q, R = gm.r, S = gm.s;
    const idx Cg = gm.cg, Kg = gm.kg, sh = gm.sh, sw = gm.sw, ph = gm.ph, pw = gm.pw;
    const idx dh = gm.dh, dwl = gm.dw;
    /* element strides: x's image, channel, row; dy's image, filter, row */
    const idx XN = gm.xs[0], XC = gm.xs[1], XR = gm.xs[2], YN = gm.ys[0], YK = gm.ys[1],
              YR = gm.ys[2];
    const idx elems = K * Cg * R * S, id = get_global_id(0);
    if (id >= splits * elems)
        return;
    const idx e = id % elems, sp = id / elems;
    const idx s = e % S, r = (e / S) % R, cl = (e / (R * S)) % Cg, k = e / (Cg * R * S);
    const idx c = (k / Kg) * Cg + cl;
    const idx o = k * (idx)gm.ws[0] + cl * (idx)gm.ws[1] + r * (idx)gm.ws[2] + s * (idx)gm.ws[3];
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
        __global const dt_t *xr =
            x + x_off + n * XN + c * XC + ih * XR + (qa * sw - pw + s * dwl) * XQ(&gm);
        __global const dt_t *dr = dy + dy_off + n * YN + k * YK + p * YR + qa * YQ(&gm);
        dot_row(&acc, xr, dr, qb - qa, sw, sw * XQ(&gm), YQ(&gm));
    }
    const float sum = dot_total(&acc);
    if (!direct) {
        ws[sp * elems + o] = sum;
        return;
    }
    __global dt_t *d = dw + dw_off;
    store_el(d, o, beta ? load_el(d, o) + sum : sum);
}
