/*
 * direct.cl - the DIRECT backward passes: one work-item per gradient
 * element, reading the *virtual* upsampled/padded output gradient and the
 * *virtual* flipped filter instead of materialising them.  (The DIRECT
 * forward pass is conv_generic.cl: forward has no virtual tensor.)
 *
 * Shapes (G, prelude.cl's geom): x N x C x H x W, w K x Cg x R x S,
 * dy N x K x P x Q, with Cg = C/groups, Kg = K/groups; stride sh/sw,
 * top/left padding ph/pw, dilation dh/dw.  Every tensor is addressed
 * through G's element strides (x_at, y_at, w_at), so each runs NCHW or
 * NHWC activations and KCRS or KRSC filters; the bottom / right padding
 * (pb, pr) only sets P and Q, so it needs no term here.
 *
 * CONTRACT bwd_data_direct
 *   dx[n][c][h][w] = (beta ? old : 0)
 *     + sum_{kl<Kg, r<R, s<S} U[n][g*Kg+kl][h + r*dh][w + s*dw] * wf[c][kl][r][s]
 * where g = c / Cg, wf is the flipped filter (flip_filter.cl) and U the
 * upsampled+padded dy (upsample_pad.cl, top = (R-1)*dh - ph): U is read as
 *   yy = h + r*dh - top; nonzero only if yy >= 0, yy % sh == 0, yy/sh < P
 * (likewise for columns), so the zeros of U are skipped, never stored.
 * Global size: at least N*C*H*W items in dimension 0.
 *
 * CONTRACT bwd_filter_direct
 *   dw[k][cl][r][s] = (beta ? old : 0)
 *     + sum_{n<N, i<P', j<Q'} Xp[n][g*Cg+cl][r*dh + i][s*dw + j] * D[n][k][i][j]
 * where g = k / Kg, Xp is x padded by ph/pw at the top/left (zeros
 * outside) and D is dy dilated with stride-1 zeros (P' = (P-1)*sh+1): only
 * i = p*sh, j = q*sw are nonzero, so the loop runs over p < P, q < Q.
 * Global size: at least K*Cg*R*S items in dimension 0.
 *
 * Both: tensors of the storage type dt_t (DT), offsets in elements; sums
 * in float, rounded once when stored (old + sum with beta); never read the
 * output when beta == 0; fixed summation order (deterministic); the zeros
 * of U, Xp and D are skipped, never multiplied, so an Inf or NaN never
 * meets one (each sum has only its real terms, as the reference).
 */

/* Store a sum, added to the element's old value when beta. */
static inline void store_sum(__global dt_t *p, idx i, float acc, int beta)
{
    store_el(p, i, beta ? load_el(p, i) + acc : acc);
}

/* dx[n][c][xh][xw]'s sum over the virtual U and wf. */
static inline float data_sum(const geom *G, __global const dt_t *dy, __global const dt_t *w,
                             idx n, idx c, idx xh, idx xw)
{
    const idx R = G->r, S = G->s, P = G->p, Q = G->q, sh = G->sh, sw = G->sw;
    const idx g = c / (idx)G->cg, cl = c - g * (idx)G->cg;
    const idx top = (R - 1) * (idx)G->dh - (idx)G->ph, left = (S - 1) * (idx)G->dw - (idx)G->pw;
    float acc = 0.0f;
    for (idx kl = 0; kl < (idx)G->kg; kl++) {
        const idx k = g * (idx)G->kg + kl;
        __global const dt_t *dyk = dy + y_at(G, n, k, 0, 0);
        __global const dt_t *wk = w + w_at(G, k, cl, 0, 0);
        for (idx r = 0; r < R; r++) {
            const idx yy = xh + r * (idx)G->dh - top;
            if (yy < 0 || yy % sh != 0 || yy / sh >= P)
                continue;
            for (idx s = 0; s < S; s++) {
                const idx xx = xw + s * (idx)G->dw - left;
                if (xx < 0 || xx % sw != 0 || xx / sw >= Q)
                    continue;
                /* wf[c][kl][r][s] = w[k][cl][R-1-r][S-1-s] */
                acc += load_el(dyk, (yy / sh) * (idx)G->ys[2] + (xx / sw) * (idx)G->ys[3]) *
                       load_el(wk, (R - 1 - r) * (idx)G->ws[2] + (S - 1 - s) * (idx)G->ws[3]);
            }
        }
    }
    return acc;
}

__kernel void bwd_data_direct(__global const dt_t *dy, long dy_off,
                              __global const dt_t *w, long w_off,
                              __global dt_t *dx, long dx_off, int beta, geom G)
{
    const idx id = get_global_id(0);
    if (id >= (idx)(G.n * G.c * G.h * G.w))
        return;
    idx n, c, xh, xw;
    split4(id, G.c, G.h, G.w, &n, &c, &xh, &xw);
    const float acc = data_sum(&G, dy + dy_off, w + w_off, n, c, xh, xw);
    store_sum(dx, dx_off + x_at(&G, n, c, xh, xw), acc, beta);
}

__kernel void bwd_filter_direct(__global const dt_t *x, long x_off,
                                __global const dt_t *dy, long dy_off,
                                __global dt_t *dwt, long dw_off, int beta, geom G)
{
    const idx id = get_global_id(0);
    if (id >= (idx)(G.k * G.cg * G.r * G.s))
        return;
    idx k, cl, r, s;
    split4(id, G.cg, G.r, G.s, &k, &cl, &r, &s);
    const float acc = filter_sum(&G, x + x_off, dy + dy_off, k, cl, r, s);
    store_sum(dwt, dw_off + w_at(&G, k, cl, r, s), acc, beta);
}
