/*
 * kv_conv.cl - the GEMM algorithm's channel-vectorised kernels for strided
 * layers (and, on a CPU, fp32 1x1 backward-data on small images; host/gemm_kv.c
 * says which): each work-item holds VT = NV*16 output channels as float16
 * vectors for TP x TQ output positions, and broadcasts one input element
 * per position and reduction step, so a strided input costs no more than a
 * dense one (gemm_conv.cl vectorises along a row's columns instead, which a
 * stride makes a gather).  The filter is read repacked by kv_repack into
 * fp32 [g][r][s][red][vec] (the output channels `vec` contiguous), or in
 * place where it already is so (fp32 1x1 backward-data).
 *
 * Shapes as in gemm_conv.cl: x N x C x H x W, w K x Cg x R x S, y/dy N x
 * K x P x Q, G groups, Cg = C/G, Kg = K/G, stride sh/sw, padding ph/pw at
 * the top and left, dilation dh/dw; every tensor indexed through the
 * element strides of `geom` (any layout), stored as dt_t (DT), summed in
 * fp32 and rounded once when stored.
 *
 * CONTRACT kv_repack
 *   wp[((g*R + r)*S + s)*Red*Vec + red*Vec + v] = w[k][c][r][s] as float,
 *   forward (bwd 0): Vec = Kg, Red = Cg, k = g*Kg + v, c = red;
 *   backward-data (bwd 1): Vec = Cg, Red = Kg, k = g*Kg + red, c = v.
 *   One work-item per block of 16 x 16 (Red x Vec) elements, all taps
 *   (G*ceil(Red/16)*ceil(Vec/16); extra ids return).
 *
 * CONTRACT kv_conv (bwd 0: forward; bwd 1: backward-data)
 *   Forward, as gemm_fwd (with EPI the epilogue E in the store step):
 *     y[n][k][p][q] = sum_{c<Cg, r<R, s<S} x[n][g*Cg+c][p*sh-ph+r*dh]
 *         [q*sw-pw+s*dw] * w[k][c][r][s], out-of-range x adding no term.
 *   Backward-data, as gemm_bwd_data, by stride phases: dx rows h = fh +
 *     sh*i and columns x = fw + sw*j (fh < min(sh,H), fw < min(sw,W))
 *     take the taps r with (fh + ph - r*dh) divisible by sh (likewise s),
 *     and from them dy row i + (fh + ph - r*dh)/sh (column alike):
 *     dx[n][c][h][x] = (beta ? old : 0) + sum_{kl<Kg, taps} dy[n][g*Kg+kl]
 *         [row][col] * w[g*Kg+kl][c-g*Cg][r][s], rows and columns outside
 *         dy adding no term; a phase without taps stores 0 (or old).
 *   Work-item id (dimension 0, extra ids return): qb fastest, then pb,
 *   the phase fw, fh (1 each forward), n, the channel tile vb, g.  Tile:
 *   output channels (of the group) min(vb*VT, Vec-VT) + [0, VT), positions
 *   pb*TP + [0, TP) x qb*TQ + [0, TQ) of the phase's grid, clipped to it.
 *   Requires Vec >= VT (Kg forward, Cg backward-data): the last tile is
 *   shifted down and stores only the channels past the previous one.
 *
 *   The filter as read: element (g, tap, red, v) at wp[wp_off + g*w_grp +
 *   tap*w_tap + red*w_red + v] (kv_repack's layout: w_red = Vec, w_tap =
 *   Red*Vec, w_grp = R*S*Red*Vec; or, fp32 1x1 backward-data with unit
 *   channel stride, the caller's w itself: w_red its filter stride).
 *   zbase + z_off: 64 zero bytes (as dt_t): what a position outside the
 *   input reads in the fast pass.
 *
 * All: offsets in elements of dt_t (wp: floats); never read the
 * output when beta == 0 (E.beta == 0 with EPI); read only elements of each
 * tensor; fixed summation order (reduction channel innermost, taps in
 * order of r, s), no atomics; every output element written exactly once.
 *
 * How: per tap, the TP*TQ input offsets and whether each lies inside the
 * input are worked out once; then the reduction channels run with NV
 * vector loads of the filter and one broadcast load per position, feeding
 * TP*TQ*NV FMAs.  A tap with every position inside takes plain loads; one
 * with a position outside reads `zeros` there (a pointer select: the
 * broadcast stays a load, where selecting the value would cost a shuffle
 * beside the FMAs); and since 0 times an Inf or NaN weight would be NaN
 * where the reference adds no term, a tile that comes out non-finite is
 * summed again without those positions' terms (slower, so only then).
 */
#ifndef NV
#define NV 2
#endif
#ifndef TP
#define TP 2
#endif
#ifndef TQ
#define TQ 7
#endif
#ifndef WG
#define WG 8
#endif
#define VT (NV * 16)
#define NPOS (TP * TQ)

typedef struct kv_dir {
    idx red, vec;               /* reduction and vector channels of a group */
    idx ih, iw;                 /* the input's rows and columns */
    idx in_n, in_c, in_r, in_q; /* the input's strides */
    idx on, oc, orow, ocol;     /* the output's strides */
} kv_dir;

/* What kv_conv reads and writes for direction bwd, from the layer. */
static kv_dir kv_dir_of(const geom *G, int bwd)
{
    kv_dir d;
    if (bwd) {
        d = (kv_dir){G->kg, G->cg, G->p, G->q, G->ys[0], G->ys[1], G->ys[2], G->ys[3],
                     G->xs[0], G->xs[1], G->xs[2], G->xs[3]};
    } else {
        d = (kv_dir){G->cg, G->kg, G->h, G->w, G->xs[0], G->xs[1], G->xs[2], G->xs[3],
                     G->ys[0], G->ys[1], G->ys[2], G->ys[3]};
    }
    return d;
}

/* One 16 x 16 block (vec x red) of one tap, src and dst at the tap:
 * read into private memory, then one vector store per row of wp.  Stored
 * lane by lane instead, the 16 lines of wp (a power-of-two stride apart
 * on the layers that matter) share a cache set and evict each other: 3x
 * slower on a 1x1 1024 -> 2048 filter. */
static void kv_block(__global const dt_t *src, idx vs, idx rs, __global float *dst, idx vec)
{
    float t[16][16];
    for (int v = 0; v < 16; v++) {
        if (rs == 1) {
            vstore16(load_el16(src, v * vs), 0, t[v]);
        } else {
            for (int l = 0; l < 16; l++)
                t[v][l] = load_el(src, v * vs + l * rs);
        }
    }
    #pragma unroll
    for (int l = 0; l < 16; l++) {
        float u[16];
        #pragma unroll
        for (int v = 0; v < 16; v++)
            u[v] = t[v][l];
        vstore16(vload16(0, u), 0, dst + l * vec);
    }
}

/* the work of one work-item of kv_repack (ITEM_FN: prelude.cl) */
ITEM_FN void kv_repack_item(__global const dt_t *w, long w_off, __global float *wp,
                            const geom *gm_p, int bwd, idx id)
{
    const geom gm = *gm_p;
    const idx RS = gm.r * gm.s, S = gm.s, Cg = gm.cg, Kg = gm.kg;
    const idx vec = bwd ? Cg : Kg, red = bwd ? Kg : Cg;
    /* a transpose in blocks of 16 x 16 (vec x red), every tap of a block
     * in one work-item: the taps of a filter are neighbours in KCRS, so
     * the lines a block reads for one tap serve the next ones from cache
     * (one element per work-item would walk a stride of whole filters) */
    const idx VBK = (vec + 15) / 16, RBK = (red + 15) / 16;
    if (id >= (idx)gm.g * RBK * VBK)
        return;
    idx g, unused, rb, vb;
    split4(id, 1, RBK, VBK, &g, &unused, &rb, &vb);
    /* the strides of the vec and red axes of w */
    const idx vs = bwd ? (idx)gm.ws[1] : (idx)gm.ws[0], rs = bwd ? (idx)gm.ws[0] : (idx)gm.ws[1];
    const idx v0 = vb * 16, r0 = rb * 16, ve = min(v0 + 16, vec), re = min(r0 + 16, red);
    for (idx tap = 0; tap < RS; tap++) {
        __global const dt_t *src =
            w + w_off + w_at(&gm, g * Kg, 0, tap / S, tap % S) + v0 * vs + r0 * rs;
        __global float *dst = wp + ((g * RS + tap) * red + r0) * vec + v0;
        if (ve - v0 == 16 && re - r0 == 16) {
            kv_block(src, vs, rs, dst, vec);
            continue;
        }
        for (idx rd = 0; rd < re - r0; rd++)
            SCALAR_LOOP
            for (idx v = 0; v < ve - v0; v++)
                dst[rd * vec + v] = load_el(src, v * vs + rd * rs);
    }
}

__kernel void kv_repack(__global const dt_t *w, long w_off, __global float *wp, geom gm, int bwd)
{
    kv_repack_item(w, w_off, wp, &gm, bwd, get_global_id(0));
}

#define TILE_FN static inline __attribute__((always_inline))

/* What kv_offsets found: no position of the tile inside the input, some,
 * or all. */
enum { KV_NONE, KV_SOME, KV_ALL };

/* The input offsets, for tap (r, s), of the tile's positions (p0+i,
 * q0+j) of its grid (np x nq): forward, input row (p0+i)*sh - ph + r*dh;
 * backward-data, phase (fh, fw), dy row p0+i + (fh + ph - r*dh)/sh
 * (columns alike); okf[e] 1 when inside the input and the grid (offset 0
 * otherwise, a valid element). */
TILE_FN int kv_offsets(idx off[NPOS], float okf[NPOS], const kv_dir *d, const geom *G, int bwd,
                       idx p0, idx q0, idx np, idx nq, idx fh, idx fw, idx r, idx s)
{
    const idx rst = bwd ? 1 : G->sh, cst = bwd ? 1 : G->sw;
    const idx roff = bwd ? (fh + G->ph - r * G->dh) / G->sh : r * G->dh - G->ph;
    const idx coff = bwd ? (fw + G->pw - s * G->dw) / G->sw : s * G->dw - G->pw;
    int all = 1, any = 0;
    #pragma unroll
    for (int i = 0; i < TP; i++)
        #pragma unroll
        for (int j = 0; j < TQ; j++) {
            const idx row = (p0 + i) * rst + roff, col = (q0 + j) * cst + coff;
            const int in = p0 + i < np && q0 + j < nq && row >= 0 && row < d->ih && col >= 0 &&
                           col < d->iw;
            okf[i * TQ + j] = in;
            off[i * TQ + j] = in ? row * d->in_r + col * d->in_q : 0;
            all &= in;
            any |= in;
        }
    return all ? KV_ALL : any ? KV_SOME : KV_NONE;
}

/* The reduction loop of one tap over channels [cb, ce): per channel the
 * filter's NV vectors wv, then per position e the input element xv =
 * LOADX and each accumulator acc[e*NV+v] += wv[v] * xv.  A macro, not a
 * function: written out in each branch, the loops keep the 28
 * accumulators in registers (an inlined function taking the tile by
 * pointer spilled them in PoCL's build). */
#define KV_TAP_LOOP(LOADX)                                                   \
    for (idx c = cb; c < ce; c++) {                                          \
        __global const dt_t *ic = ig + c * d.in_c;                           \
        float16 wv[NV];                                                      \
        _Pragma("unroll") for (int v = 0; v < NV; v++)                       \
            wv[v] = vload16(0, wt + c * w_red + v * 16);                     \
        _Pragma("unroll") for (int e = 0; e < NPOS; e++) {                   \
            const float16 xv = (float16)(LOADX);                             \
            _Pragma("unroll") for (int v = 0; v < NV; v++)                   \
                acc[e * NV + v] = fma(wv[v], xv, acc[e * NV + v]);           \
        }                                                                    \
    }

/* The tile summed as kv_conv's loop does, in the same order, but adding no
 * term for a position outside the input: the slow path for a tile that
 * came out non-finite.  Loops, not unrolled, and out of line: it runs only
 * then, and written into the kernel it was a third of what PoCL compiles
 * (into an array of its own, so that acc stays in registers; written into
 * the store's copy of the tile instead, the kernel ran 3-12 % slower). */
COLD_FN void kv_exact(float16 ex[NPOS * NV], const kv_dir *d, const geom *G, int bwd, idx p0,
                      idx q0, idx np, idx nq, idx fh, idx fw, idx r0, idx rstep, idx s0, idx sstep,
                      __global const dt_t *ig, __global const float *wg, idx w_red, idx w_tap)
{
    for (int a = 0; a < NPOS * NV; a++)
        ex[a] = 0.0f;
    for (idx cb = 0; cb < d->red; cb += 64) {
        const idx ce = min(cb + 64, d->red);
        for (idx r = r0; r < G->r; r += rstep)
            for (idx s = s0; s < G->s; s += sstep) {
                idx off[NPOS];
                float okf[NPOS];
                if (kv_offsets(off, okf, d, G, bwd, p0, q0, np, nq, fh, fw, r, s) == KV_NONE)
                    continue;
                __global const float *wt = wg + (r * G->s + s) * w_tap;
                for (idx c = cb; c < ce; c++)
                    for (int e = 0; e < NPOS; e++) {
                        if (okf[e] == 0.0f)
                            continue;
                        const float16 xv = (float16)load_el(ig + c * d->in_c, off[e]);
                        for (int v = 0; v < NV; v++)
                            ex[e * NV + v] = fma(vload16(0, wt + c * w_red + v * 16), xv,
                                                 ex[e * NV + v]);
                    }
            }
    }
}

/* Whether every lane of the tile is finite (v - v is 0 unless v is NaN or
 * Inf). */
TILE_FN int kv_finite(const float16 acc[NPOS * NV])
{
    float16 z = 0.0f;
    #pragma unroll
    for (int a = 0; a < NPOS * NV; a++)
        z += acc[a] - acc[a];
    return all(z == (float16)0.0f);
}

/* the work of one work-item of kv_conv (ITEM_FN: prelude.cl) */
ITEM_FN void kv_conv_item(__global const dt_t *in, long in_off, __global const float *wp,
                          long wp_off, long w_red, long w_tap, long w_grp,
                          __global const dt_t *zbase, long z_off, __global dt_t *out, long out_off,
                          int beta, const geom *gm_p, const epi *E_p, __global const dt_t *bias,
                          long bias_off, int bwd, idx t)
{
    const geom gm = *gm_p;
    const epi E = *E_p;
    const kv_dir d = kv_dir_of(&gm, bwd);
    const idx R = gm.r, S = gm.s, sh = gm.sh, sw = gm.sw;
    /* phases per axis, and the largest phase grid (the whole output
     * forward) */
    const idx FH = bwd ? min((idx)gm.sh, (idx)gm.h) : 1, FW = bwd ? min((idx)gm.sw, (idx)gm.w) : 1;
    const idx GP = bwd ? ((idx)gm.h + sh - 1) / sh : gm.p, GQ = bwd ? ((idx)gm.w + sw - 1) / sw : gm.q;
    const idx QB = (GQ + TQ - 1) / TQ, PB = (GP + TP - 1) / TP, VB = (d.vec + VT - 1) / VT;
    if (t >= (idx)gm.g * VB * gm.n * FH * FW * PB * QB)
        return;
    idx rest, fh, fw, pos;
    split4(t, FH, FW, PB * QB, &rest, &fh, &fw, &pos);
    const idx pb = pos / QB, qb = pos % QB, n = rest % gm.n, vb = rest / gm.n % VB;
    const idx g = rest / gm.n / VB;
    const idx p0 = pb * TP, q0 = qb * TQ, v0 = min(vb * VT, d.vec - VT);
    /* this phase's grid: output rows fh + sh*i (forward: p = i) */
    const idx np = bwd ? ((idx)gm.h - fh + sh - 1) / sh : GP;
    const idx nq = bwd ? ((idx)gm.w - fw + sw - 1) / sw : GQ;
    if (p0 >= np || q0 >= nq)
        return;
    __global const dt_t *ig = in + in_off + n * d.in_n + g * d.red * d.in_c;
    __global const float *wg = wp + wp_off + g * w_grp + v0;
    __global const dt_t *zeros = zbase + z_off;
    float16 acc[NPOS * NV];
    #pragma unroll
    for (int a = 0; a < NPOS * NV; a++)
        acc[a] = 0.0f;

    idx r0 = 0, rstep = 1, s0 = 0, sstep = 1;
    if (bwd) {
        r0 = phase_first_tap(fh + gm.ph, gm.dh, sh, R, &rstep);
        s0 = phase_first_tap(fw + gm.pw, gm.dw, sw, S, &sstep);
    }
    /* blocks of reduction channels, taps inside, so that a block's filter
     * rows and input stay in cache across the taps; a position outside the
     * input reads 0 (kv_exact, below, when that left a NaN or Inf) */
    for (idx cb = 0; cb < d.red; cb += 64) {
        const idx ce = min(cb + 64, d.red);
        for (idx r = r0; r < R; r += rstep)
            for (idx s = s0; s < S; s += sstep) {
                idx off[NPOS];
                float okf[NPOS];
                const int in = kv_offsets(off, okf, &d, &gm, bwd, p0, q0, np, nq, fh, fw, r, s);
                if (in == KV_NONE)
                    continue;
                __global const float *wt = wg + (r * S + s) * w_tap;
                if (in == KV_ALL)
                    KV_TAP_LOOP(load_el(ic, off[e]))
                else
                    KV_TAP_LOOP(load_el(okf[e] != 0.0f ? ic + off[e] : zeros, 0))
            }
    }
    /* 0 * an Inf weight is NaN where the reference adds no term: such a
     * tile is summed again without the positions outside the input */
    if (!kv_finite(acc)) {
        float16 ex[NPOS * NV];
        kv_exact(ex, &d, &gm, bwd, p0, q0, np, nq, fh, fw, r0, rstep, s0, sstep, ig, wg, w_red,
                 w_tap);
        #pragma unroll
        for (int a = 0; a < NPOS * NV; a++)
            acc[a] = ex[a];
    }

    /* the store: channel lanes of each position; a shifted last tile
     * stores only the channels past the previous tile.  The positions run
     * as a loop over a copy of the tile (acc itself stays indexed by
     * constants, in registers): unrolled, its TP*TQ*NV*16 stores were
     * most of what PoCL compiled. */
    __global dt_t *og = out + out_off + n * d.on + (g * d.vec + v0) * d.oc;
    const idx vfirst = vb * VT - v0;
#ifdef EPI
    const idx kg0 = g * d.vec + v0;
#endif
    float16 tile[NPOS * NV];
    #pragma unroll
    for (int a = 0; a < NPOS * NV; a++)
        tile[a] = acc[a];
    for (int e = 0; e < NPOS; e++) {
        const idx i = e / TQ, j = e % TQ;
        if (p0 + i >= np || q0 + j >= nq)
            continue;
        const idx row = bwd ? fh + (p0 + i) * sh : p0 + i;
        const idx col = bwd ? fw + (q0 + j) * sw : q0 + j;
        __global dt_t *o = og + row * d.orow + col * d.ocol;
        #pragma unroll
        for (int v = 0; v < NV; v++) {
            const float16 tv = tile[e * NV + v];
#ifndef EPI
            if (vfirst == 0 && !beta) {
                /* the common store: every lane, nothing to read */
                #pragma unroll
                for (int l = 0; l < 16; l++)
                    store_el(o, (v * 16 + l) * d.oc, tv[l]);
                continue;
            }
#endif
            float lane[16];
            vstore16(tv, 0, lane);
            SCALAR_LOOP
            for (int l = 0; l < 16; l++) {
                const idx ch = v * 16 + l;
                if (ch < vfirst)
                    continue;
#ifdef EPI
                store_el(o, ch * d.oc,
                         epi_apply(&E, lane[l], o, ch * d.oc, bias + bias_off, kg0 + ch));
#else
                store_el(o, ch * d.oc, beta ? load_el(o, ch * d.oc) + lane[l] : lane[l]);
#endif
            }
        }
    }
}

__kernel __attribute__((reqd_work_group_size(WG, 1, 1)))
void kv_conv(__global const dt_t *in, long in_off, __global const float *wp, long wp_off,
             long w_red, long w_tap, long w_grp, __global const dt_t *zbase, long z_off,
             __global dt_t *out, long out_off, int beta, geom gm, epi E,
             __global const dt_t *bias, long bias_off, int bwd)
{
    kv_conv_item(in, in_off, wp, wp_off, w_red, w_tap, w_grp, zbase, z_off, out, out_off, beta, &gm,
                 &E, bias, bias_off, bwd, get_global_id(0));
}
