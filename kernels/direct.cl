/*
 * direct.cl - the DIRECT backward passes: one work-item per gradient
 * element, reading the *virtual* upsampled/padded output gradient and the
 * *virtual* flipped filter instead of materialising them.  (The DIRECT
 * forward pass is conv_generic.cl: forward has no virtual tensor.)
 *
 * Shapes: x N x C x H x W, w K x Cg x R x S, dy N x K x P x Q, with
 * Cg = C/groups, Kg = K/groups; stride sh/sw, padding ph/pw, dilation dh/dw.
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
 * where g = k / Kg, Xp is x padded by ph/pw (zeros outside) and D is dy
 * dilated with stride-1 zeros (P' = (P-1)*sh+1): only i = p*sh, j = q*sw
 * are nonzero, so the loop runs over p < P, q < Q directly.
 * Global size: at least K*Cg*R*S items in dimension 0.
 *
 * Both: never read the output when beta == 0; offsets in floats; sizes
 * long; fixed summation order (deterministic); the zeros of U, Xp and D
 * are skipped, never multiplied, so an Inf or NaN never meets one (each
 * sum has only its real terms, as the reference).
 */
__kernel void bwd_data_direct(__global const float *dy, long dy_off,
                              __global const float *w, long w_off,
                              __global float *dx, long dx_off, int beta,
                              long N, long C, long H, long W, long K, long R, long S,
                              long P, long Q, long Cg, long Kg,
                              long sh, long sw, long ph, long pw, long dh, long dw)
{
    long id = get_global_id(0);
    if (id >= N * C * H * W)
        return;
    long xw = id % W;
    long t = id / W;
    long xh = t % H;
    t /= H;
    long c = t % C;
    long n = t / C;
    long g = c / Cg, cl = c - g * Cg;
    long top = (R - 1) * dh - ph, left = (S - 1) * dw - pw;

    float acc = 0.0f;
    for (long kl = 0; kl < Kg; kl++) {
        long k = g * Kg + kl;
        __global const float *dyk = dy + dy_off + (n * K + k) * P * Q;
        __global const float *wk = w + w_off + (k * Cg + cl) * R * S;
        for (long r = 0; r < R; r++) {
            long yy = xh + r * dh - top;
            if (yy < 0 || yy % sh != 0 || yy / sh >= P)
                continue;
            for (long s = 0; s < S; s++) {
                long xx = xw + s * dw - left;
                if (xx < 0 || xx % sw != 0 || xx / sw >= Q)
                    continue;
                /* wf[c][kl][r][s] = w[k][cl][R-1-r][S-1-s] */
                acc += dyk[(yy / sh) * Q + xx / sw] * wk[(R - 1 - r) * S + (S - 1 - s)];
            }
        }
    }
    __global float *dst = dx + dx_off + id;
    *dst = beta ? *dst + acc : acc;
}

__kernel void bwd_filter_direct(__global const float *x, long x_off,
                                __global const float *dy, long dy_off,
                                __global float *dwt, long dw_off, int beta,
                                long N, long C, long H, long W, long K, long R, long S,
                                long P, long Q, long Cg, long Kg,
                                long sh, long sw, long ph, long pw, long dh, long dw)
{
    long id = get_global_id(0);
    if (id >= K * Cg * R * S)
        return;
    long s = id % S;
    long t = id / S;
    long r = t % R;
    t /= R;
    long cl = t % Cg;
    long k = t / Cg;
    long c = (k / Kg) * Cg + cl;

    float acc = 0.0f;
    for (long n = 0; n < N; n++) {
        __global const float *xc = x + x_off + (n * C + c) * H * W;
        __global const float *dyk = dy + dy_off + (n * K + k) * P * Q;
        for (long p = 0; p < P; p++) {
            long iy = p * sh - ph + r * dh;
            if (iy < 0 || iy >= H)
                continue;
            for (long q = 0; q < Q; q++) {
                long ix = q * sw - pw + s * dw;
                if (ix < 0 || ix >= W)
                    continue;
                acc += xc[iy * W + ix] * dyk[p * Q + q];
            }
        }
    }
    __global float *dst = dwt + dw_off + id;
    *dst = beta ? *dst + acc : acc;
}
