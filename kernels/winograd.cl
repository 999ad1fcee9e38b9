/*
 * winograd.cl - the WINOGRAD algorithm (host/winograd.c): 3x3, stride-1,
 * dilation-1, one-group layers by Winograd's minimal filtering
 * F(WM x WM, 3 x 3): WM = 2 (windows of AL = 4, 16 planes) or WM = 4
 * (AL = 6, 36 planes).
 *
 * Every pass is one core (Lavin & Gray, "Fast Algorithms for
 * Convolutional Neural Networks", 2016): the output is cut into WM x WM
 * tiles, each read as an AL x AL window of its input, and per tile
 *   forward:         Y  = AT [ sum_c (G g GT) .* (BT d B) ] A
 *   backward-filter: dg = GT [ sum_tiles (A dY AT) .* (BT d B) ] G
 * (the second is the adjoint of the first in g): per transformed
 * position xi < A2 = AL*AL the sum is one GEMM.  Backward-data of a
 * stride-1 3x3 layer is a forward one: dy convolved with the filter
 * turned 180 degrees, K and C swapped, top / left padding 2 - pad (a crop
 * when negative), output H x W.
 *
 * Tiles: a tile row is (n, ti) for image n and tile row ti < TH =
 * ceil(OH/WM); it holds TW = ceil(OW/WM) tiles tj.  The host runs the
 * N*TH tile rows in chunks of consecutive rows (r0 .. r0 + rn); inside a
 * chunk tile (row, tj) is t = row*TW + tj.  A work-item of a transform
 * takes a segment of VT = 8 consecutive tiles of a row (tj = sb*VT +
 * [0, VT)) as the lanes of float8s (tvec): its SPAN = WM*VT + 2 input
 * columns of a row are 16-wide loads (2 for WM = 2, 4 for WM = 4) when the
 * columns are dense (COL1) and the loads stay inside the tensor, the
 * lanes outside the row zeroed by select; otherwise (NHWC, or the first
 * or last elements of the tensor) they are gathered element by element,
 * 0 outside the row.  Tiles past TW are computed and never stored.
 * Workspace: fp32 whatever the storage type; the layouts are the host's,
 * through the strides in the arguments.
 *
 * CONTRACT wino_data (mode 0: V = BT d B; 1: D = A dY AT)
 *   For ch < CH, row < rn, sb < ceil(TW/VT) (one work-item; sb fastest,
 *   then row, then ch; ch fastest, then sb, then row, when st != 1):
 *   for each real tile t = row*TW + tj of the segment, with (n, ti) =
 *   tile row r0 + row,
 *     mode 0: d[i][j] = in[n][ch][WM*ti - top + i][WM*tj - left + j],
 *             i, j < AL,
 *     mode 1: dY[i][j] = in[n][ch][WM*ti + i][WM*tj + j], i, j < WM,
 *   0 outside the IH x IW tensor; ws[off + xi*sx + ch*sc + t*st] = the
 *   transform's element xi.  in is read as dt_t (load_el*) through the
 *   element strides is[] (n, ch, row, column) from in_off.
 *
 * CONTRACT wino_filter
 *   For ci < CI, co / TK < COp / TK (a work-item per TK channels co, ci
 *   fastest):
 *   f[r][s] = w[co*so + ci*si + r'*sr + s'*ss] (r' = flip ? 2-r : r, s'
 *   alike; from w_off), 0 for co >= CO;
 *   ws[off + xi*sx + (co/TK)*CI*TK + ci*TK + co%TK] = (G f GT)[xi]
 *   (the GEMM's A in row panels of TK).
 *
 * CONTRACT wino_gemm
 *   For xi < NX, m < MB*TK, j < JB*TT (TT = TP*VW; a work-item per TK x TT
 *   block, m blocks fastest so that a work-group shares its B rows):
 *     O[xi][m][j] = (add ? O[xi][m][j] : 0) + sum_{l<L} A[xi][l][m] * B[xi][l][j]
 *   A at a_off + xi*sax + (m/TK)*smb + l*sal + m%TK, B at b_off + xi*sbx +
 *   l*sbl + j, O at o_off + xi*sox + m*som + j, all in ws; fp32, summed in
 *   l order (deterministic).  Rows and columns past the real ones read
 *   whatever the workspace holds there: each output element depends on
 *   its own row and column only, and the host never uses those.
 *
 * CONTRACT wino_out
 *   For co < CO, row < rn, sb < ceil(TW/VT) (sb fastest): per real tile t
 *   of the segment Y = AT Mt A with Mt[xi] = ws[off + xi*sx + co*sc + t],
 *   and each of its WM x WM outputs inside OH x OW is stored:
 *   out[n][co][WM*ti + i][WM*tj + j] (element strides os[], from out_off)
 *   = act(alpha * Y[i][j] + beta * old + bias[co]) (prelude.cl's
 *   epi_apply: old read only when E.beta != 0, bias only when
 *   E.has_bias), rounded once to dt_t.  Where Y[i][j] is Inf or NaN it
 *   is replaced, before the epilogue, by the sum of the output's real
 *   terms (real_sum, through G = the layer's geom, from src_off / w_off):
 *   bwd 0 (forward, src = x) sum_{c,r,s} x[n][c][p-ph+r][q-pw+s] *
 *   w[co][c][r][s]; bwd 1 (backward-data, src = dy, DIRECT's data_sum
 *   at stride 1) sum_{k,r,s} dy[n][k][p+ph-r][q+pw-s] * w[k][co][r][s];
 *   taps outside the tensor no term.  A finite Y is stored as it is.
 *   Reads Mt of up to VT - 1 tiles past the chunk's last (the host's
 *   pitch leaves room).
 *
 * CONTRACT wino_filter_out
 *   For c < C, k < K (c fastest): dg = GT Mk G with Mk[xi] = ws[off +
 *   xi*sx + k*sk + c]; dw[k*ws0 + c*ws1 + r*ws2 + s*ws3] (from dw_off) =
 *   (beta ? old : 0) + dg[r][s], r, s < 3, rounded once.  Where dg[r][s]
 *   is Inf or NaN it is replaced by the sum of the element's real terms
 *   (filter_real_sum, through G = the layer's geom, from x + x_off and
 *   dy + dy_off).
 *
 * How: the matrices below are constant arrays in fully unrolled loops,
 * their zero entries skipped at compile time (no 0 * x is ever formed);
 * F(4x4)'s data, filter and output transforms are written out instead
 * (bt6, g6, at6: fewer operations, the same values up to rounding).  The
 * filter transform takes its TK = 8 channels as float8 lanes (other TK:
 * element by element).  The GEMM is a register tile of TK rows x TP
 * vectors of VW columns (float-VW: AVX-512 on PoCL), TK elements of A
 * broadcast per step.
 *
 * Non-finite values: forward and backward-data follow the reference's
 * rule for Inf and NaN, as DIRECT and GEMM do.  A transform mixes every
 * element of a window, so an Inf or NaN reaches every output of the tiles
 * whose windows hold it (and Inf - Inf, Inf * 0 are NaN), padding
 * positions included; it never turns finite, so exactly those outputs
 * come out non-finite, and wino_out re-sums each over its real terms
 * (the reference's value: NaN, +-Inf or finite).  Backward-filter alike:
 * an Inf or NaN in x or dy reaches every dw element of its tiles'
 * windows, and wino_filter_out re-sums each non-finite one.
 *
 * Build options: WM (2 or 4), TK, TP, VW (4, 8 or 16), WG (the GEMM's
 * work-group size), COL1 (the columns of x, y, dx, dy have element
 * stride 1), DT and IDX_LONG (prelude.cl).
 */
#ifndef WM
#define WM 2
#endif
#ifndef TK
#define TK 8
#endif
#ifndef TP
#define TP 2
#endif
#ifndef VW
#define VW 16
#endif
#ifndef WG
#define WG 8
#endif
#define TT (TP * VW)
#define AL (WM + 2)
#define A2 (AL * AL)
#define VT 8                    /* tiles per transform work-item */
#define SPAN (WM * VT + 2)      /* input columns of a segment's windows */
#define NLD (SPAN / 16)         /* 16-wide loads of a row (at 16*i and 16*i + 2) */

#if WM == 2
/* F(2x2, 3x3): interpolation points 0, 1, -1, infinity */
#define BT_INIT {1, 0, -1, 0, \
                 0, 1, 1, 0, \
                 0, -1, 1, 0, \
                 0, 1, 0, -1}
#define GM_INIT {1, 0, 0, \
                 0.5f, 0.5f, 0.5f, \
                 0.5f, -0.5f, 0.5f, \
                 0, 0, 1}
#define AT_INIT {1, 1, 1, 0, \
                 0, 1, -1, -1}
/* column c < AL of the VT windows from v[0] = columns [0, 16) and v[1] =
 * [2, 18) of the segment */
#define COLS(v, c) ((c) == 0 ? (v)[0].even : (c) == 1 ? (v)[0].odd : (c) == 2 ? (v)[1].even \
                    : (v)[1].odd)
#elif WM == 4
/* F(4x4, 3x3): points 0, 1, -1, 2, -2, infinity */
#define BT_INIT {4, 0, -5, 0, 1, 0, \
                 0, -4, -4, 1, 1, 0, \
                 0, 4, -4, -1, 1, 0, \
                 0, -2, -1, 2, 1, 0, \
                 0, 2, -1, -2, 1, 0, \
                 0, 4, 0, -5, 0, 1}
#define GM_INIT {1.0f / 4, 0, 0, \
                 -1.0f / 6, -1.0f / 6, -1.0f / 6, \
                 -1.0f / 6, 1.0f / 6, -1.0f / 6, \
                 1.0f / 24, 1.0f / 12, 1.0f / 6, \
                 1.0f / 24, -1.0f / 12, 1.0f / 6, \
                 0, 0, 1}
#define AT_INIT {1, 1, 1, 1, 1, 0, \
                 0, 1, -1, 2, -2, 0, \
                 0, 1, 1, 4, 4, 0, \
                 0, 1, -1, 8, -8, 1}
/* column c < AL of the VT windows from v[0] = columns [0, 16), v[1] =
 * [2, 18), v[2] = [16, 32), v[3] = [18, 34) of the segment */
#define COLS(v, c) ((c) == 0 ? (float8)((v)[0].s048c, (v)[2].s048c)   \
                    : (c) == 1 ? (float8)((v)[0].s159d, (v)[2].s159d) \
                    : (c) == 2 ? (float8)((v)[0].s26ae, (v)[2].s26ae) \
                    : (c) == 3 ? (float8)((v)[0].s37bf, (v)[2].s37bf) \
                    : (c) == 4 ? (float8)((v)[1].s26ae, (v)[3].s26ae) \
                               : (float8)((v)[1].s37bf, (v)[3].s37bf))
#else
#error "WM must be 2 or 4"
#endif
typedef float8 tvec;
#define TV_LOAD(p) vload8(0, p)
#define TV_STORE(v, p) vstore8(v, 0, p)

/* the matrices as private constants, folded once the loops unroll */
#define MATS const float BT[AL * AL] = BT_INIT, GM[AL * 3] = GM_INIT, AT[WM * AL] = AT_INIT

/* acc + c * v for a compile-time constant c: nothing when c is 0 */
#define MAC(acc, c, v) ((c) == 0.0f ? (acc) : (c) == 1.0f ? (acc) + (v) \
                        : (c) == -1.0f ? (acc) - (v) : fma((c), (v), (acc)))

/* Kernel arguments, field for field host/winograd.c's (all 64-bit). */
typedef struct wdata {
    long CH, IH, IW, TH, TW, top, left;
    long is[4];                 /* input strides: n, channel, row, column */
    long r0, rn;                /* the chunk's tile rows */
    long sx, sc, st;            /* workspace strides: plane, channel, tile */
    long elems;                 /* the input tensor's elements from in_off */
} wdata;

typedef struct wfilt {
    long CO, CI, COp, so, si, sr, ss, flip;
    long sx;                    /* workspace stride of a plane */
} wfilt;

typedef struct wgemm {
    long NX, L, MB, JB;
    long sax, smb, sal, sbx, sbl, sox, som;
} wgemm;

typedef struct wout {
    long CO, OH, OW, TH, TW, r0, rn;
    long os[4];                 /* output strides: n, channel, row, column */
    long sx, sc;                /* workspace strides: plane, channel (t: 1) */
} wout;

typedef struct wfout {
    long K, C, sx, sk;          /* workspace strides: plane, k (c: 1) */
    long ws[4];                 /* dw strides: k, c, r, s */
} wfout;

/* The SPAN columns from c0 of one row (column stride cs), 0 outside [0,
 * width), as NLD pairs of 16-wide vectors: v[2*i] = columns c0 + 16*i +
 * [0, 16), v[2*i + 1] = c0 + 16*i + 2 + [0, 16).  Dense columns (COL1)
 * take vector loads, the lanes outside the row zeroed by select, whenever
 * the SPAN elements lie inside the tensor (elements [0, lim) from
 * `origin`; the row is origin + ro); otherwise element by element. */
static inline void row_cols(__global const dt_t *origin, idx ro, idx lim, idx c0, idx cs,
                            idx width, float16 v[2 * NLD])
{
    __global const dt_t *row = origin + ro;
#ifdef COL1
    if (ro + c0 >= 0 && ro + c0 + SPAN <= lim) {
        const int edge = c0 < 0 || c0 + SPAN > width;
        const int16 lane = (int16)(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
        const int lo = (int)clamp(-c0, (idx)-1, (idx)SPAN);
        const int hi = (int)clamp(width - c0, (idx)-1, (idx)SPAN);
        #pragma unroll
        for (int i = 0; i < 2 * NLD; i++) {
            const int at = 16 * (i / 2) + 2 * (i % 2);
            v[i] = load_el16(row, c0 + at);
            if (edge)
                v[i] = select((float16)0.0f, v[i], (lane + at >= lo) & (lane + at < hi));
        }
        return;
    }
#endif
    float t[SPAN];
    #pragma unroll
    for (int u = 0; u < SPAN; u++) {
        const idx c = c0 + u;
        t[u] = c >= 0 && c < width ? load_el(row, c * cs) : 0.0f;
    }
    #pragma unroll
    for (int i = 0; i < 2 * NLD; i++)
        v[i] = vload16(0, t + 16 * (i / 2) + 2 * (i % 2));
}

#if WM == 4
/* F(4x4)'s 1-D transforms written out (fewer operations than the matrix
 * products, the same values up to rounding): d = BT x, y = AT m */
static inline void bt6(const tvec x[6], tvec d[6])
{
    const tvec s12 = x[1] + x[2], t12 = x[1] - x[2], u = x[4] - x[2], v = x[3] - x[1];
    d[0] = fma(4.0f, x[0], fma(-5.0f, x[2], x[4]));
    d[1] = fma(-4.0f, s12, x[3] + x[4]);
    d[2] = fma(4.0f, t12, x[4] - x[3]);
    d[3] = fma(2.0f, v, u);
    d[4] = fma(-2.0f, v, u);
    d[5] = fma(4.0f, x[1], fma(-5.0f, x[3], x[5]));
}

/* u = G f for one column f of a filter (TK = 8 output channels as lanes) */
static inline void g6(const float8 f[3], float8 u[6])
{
    const float8 s = f[0] + f[2], t = fma(1.0f / 24, f[0], (1.0f / 6) * f[2]);
    u[0] = 0.25f * f[0];
    u[1] = (s + f[1]) * (-1.0f / 6);
    u[2] = (s - f[1]) * (-1.0f / 6);
    u[3] = fma(1.0f / 12, f[1], t);
    u[4] = fma(-1.0f / 12, f[1], t);
    u[5] = f[2];
}

static inline void at6(const tvec m[6], tvec y[4])
{
    const tvec s12 = m[1] + m[2], t12 = m[1] - m[2], s34 = m[3] + m[4], t34 = m[3] - m[4];
    y[0] = m[0] + s12 + s34;
    y[1] = fma(2.0f, t34, t12);
    y[2] = fma(4.0f, s34, s12);
    y[3] = fma(8.0f, t34, t12) + m[5];
}
#endif

/* The transformed segment o[xi] (lanes: tiles tj0 + [0, VT), nreal of
 * them real) stored at q + xi*sx + lane*st. */
static inline void store_seg(__global float *q, const tvec o[A2], idx sx, idx st, int nreal)
{
    if (st == 1 && nreal == VT) {
        #pragma unroll
        for (int x = 0; x < A2; x++)
            TV_STORE(o[x], q + x * sx);
        return;
    }
    #pragma unroll
    for (int x = 0; x < A2; x++) {
        float t[VT];
        TV_STORE(o[x], t);
        SCALAR_LOOP
        for (int j = 0; j < nreal; j++)
            q[x * sx + j * st] = t[j];
    }
}

/* the work of one work-item of wino_data (ITEM_FN: prelude.cl) */
ITEM_FN void wino_data_item(__global const dt_t *in, long in_off, __global float *ws, long ws_off,
                            const wdata *D_p, int mode, idx id)
{
    const wdata D = *D_p;
    MATS;
    const idx SB = (D.TW + VT - 1) / VT;
    if (id >= (idx)D.CH * (idx)D.rn * SB)
        return;
    /* channels fastest when the channels are the workspace's contiguous
     * dimension (st != 1): neighbouring work-items fill the same lines */
    idx sb, row, ch;
    if (D.st != 1) {
        ch = id % (idx)D.CH;
        id /= (idx)D.CH;
        sb = id % SB;
        row = id / SB;
    } else {
        sb = id % SB;
        id /= SB;
        row = id % (idx)D.rn;
        ch = id / (idx)D.rn;
    }
    const idx gr = (idx)D.r0 + row, n = gr / (idx)D.TH, ti = gr % (idx)D.TH;
    const idx tj0 = sb * VT;
    const int nreal = (int)min((idx)VT, (idx)D.TW - tj0);
    __global const dt_t *org = in + in_off;
    const idx pbase = n * (idx)D.is[0] + ch * (idx)D.is[1], lim = D.elems;
    const idx cs = D.is[3], IH = D.IH, IW = D.IW;
    tvec o[A2];
    if (!mode) {
        const idx h0 = WM * ti - (idx)D.top, c0 = WM * tj0 - (idx)D.left;
#if WM == 4
        /* t = d B row by row as the rows are loaded, then o = BT t */
        tvec t[AL][AL];
        #pragma unroll
        for (int k = 0; k < AL; k++) {
            const idx h = h0 + k;
            tvec d[AL];
            #pragma unroll
            for (int j = 0; j < AL; j++)
                d[j] = 0.0f;
            if (h >= 0 && h < IH) {
                float16 v[2 * NLD];
                row_cols(org, pbase + h * (idx)D.is[2], lim, c0, cs, IW, v);
                #pragma unroll
                for (int j = 0; j < AL; j++)
                    d[j] = COLS(v, j);
            }
            bt6(d, t[k]);
        }
        #pragma unroll
        for (int j = 0; j < AL; j++) {
            tvec c[AL], r[AL];
            #pragma unroll
            for (int k = 0; k < AL; k++)
                c[k] = t[k][j];
            bt6(c, r);
            #pragma unroll
            for (int i = 0; i < AL; i++)
                o[i * AL + j] = r[i];
        }
#else
        /* u = BT d, row by row of d as it is loaded */
        tvec u[AL][AL];
        #pragma unroll
        for (int i = 0; i < AL; i++)
            #pragma unroll
            for (int j = 0; j < AL; j++)
                u[i][j] = 0.0f;
        #pragma unroll
        for (int k = 0; k < AL; k++) {
            const idx h = h0 + k;
            if (h < 0 || h >= IH)
                continue;
            float16 v[2 * NLD];
            row_cols(org, pbase + h * (idx)D.is[2], lim, c0, cs, IW, v);
            #pragma unroll
            for (int j = 0; j < AL; j++) {
                const tvec d = COLS(v, j);
                #pragma unroll
                for (int i = 0; i < AL; i++)
                    u[i][j] = MAC(u[i][j], BT[i * AL + k], d);
            }
        }
        /* o = u B */
        #pragma unroll
        for (int i = 0; i < AL; i++)
            #pragma unroll
            for (int j = 0; j < AL; j++) {
                tvec acc = 0.0f;
                #pragma unroll
                for (int k = 0; k < AL; k++)
                    acc = MAC(acc, BT[j * AL + k], u[i][k]);
                o[i * AL + j] = acc;
            }
#endif
    } else {
        const idx h0 = WM * ti, c0 = WM * tj0;
        /* u = A dY: u[i][j] = sum_k AT[k][i] dY[k][j] */
        tvec u[AL][WM];
        #pragma unroll
        for (int i = 0; i < AL; i++)
            #pragma unroll
            for (int j = 0; j < WM; j++)
                u[i][j] = 0.0f;
        #pragma unroll
        for (int k = 0; k < WM; k++) {
            const idx h = h0 + k;
            if (h >= IH)
                continue;
            float16 v[2 * NLD];
            row_cols(org, pbase + h * (idx)D.is[2], lim, c0, cs, IW, v);
            #pragma unroll
            for (int j = 0; j < WM; j++) {
                /* dY's columns j < WM are the window's first WM columns */
                const tvec d = COLS(v, j);
                #pragma unroll
                for (int i = 0; i < AL; i++)
                    u[i][j] = MAC(u[i][j], AT[k * AL + i], d);
            }
        }
        /* o = u AT */
        #pragma unroll
        for (int i = 0; i < AL; i++)
            #pragma unroll
            for (int j = 0; j < AL; j++) {
                tvec acc = 0.0f;
                #pragma unroll
                for (int k = 0; k < WM; k++)
                    acc = MAC(acc, AT[k * AL + j], u[i][k]);
                o[i * AL + j] = acc;
            }
    }
    store_seg(ws + ws_off + ch * (idx)D.sc + (row * (idx)D.TW + tj0) * (idx)D.st, o, D.sx, D.st,
              nreal);
}

__kernel void wino_data(__global const dt_t *in, long in_off, __global float *ws, long ws_off,
                        wdata D, int mode)
{
    wino_data_item(in, in_off, ws, ws_off, &D, mode, get_global_id(0));
}

/* the work of one work-item of wino_filter (ITEM_FN: prelude.cl) */
ITEM_FN void wino_filter_item(__global const dt_t *w, long w_off, __global float *ws, long ws_off,
                              const wfilt *F_p, idx id)
{
    const wfilt F = *F_p;
    MATS;
    if (id >= (idx)(F.COp / TK * F.CI))
        return;
    /* one work-item per panel row: TK output channels of one ci, as the
     * lanes of float8s (TK = 8) or element by element */
    const idx ci = id % (idx)F.CI, cb = id / (idx)F.CI;
    float f[3][3][TK];
    __global const dt_t *p = w + w_off + cb * TK * (idx)F.so + ci * (idx)F.si;
    const idx sr = F.flip ? -(idx)F.sr : (idx)F.sr, ss = F.flip ? -(idx)F.ss : (idx)F.ss;
    if (F.flip)
        p += 2 * (idx)F.sr + 2 * (idx)F.ss;
    #pragma unroll
    for (int a = 0; a < TK; a++) {
        const int real = cb * TK + a < (idx)F.CO;
        #pragma unroll
        for (int r = 0; r < 3; r++)
            #pragma unroll
            for (int s = 0; s < 3; s++)
                f[r][s][a] = real ? load_el(p, a * (idx)F.so + r * sr + s * ss) : 0.0f;
    }
    __global float *q = ws + ws_off + cb * (idx)F.CI * TK + ci * TK;
#if TK == 8
    float8 g[3][3];
    #pragma unroll
    for (int r = 0; r < 3; r++)
        #pragma unroll
        for (int s = 0; s < 3; s++)
            g[r][s] = vload8(0, f[r][s]);
    /* G g GT */
    float8 u[AL][3];
#if WM == 4
    #pragma unroll
    for (int j = 0; j < 3; j++) {
        const float8 c[3] = {g[0][j], g[1][j], g[2][j]};
        float8 r[AL];
        g6(c, r);
        #pragma unroll
        for (int i = 0; i < AL; i++)
            u[i][j] = r[i];
    }
    #pragma unroll
    for (int i = 0; i < AL; i++) {
        float8 r[AL];
        g6(u[i], r);
        #pragma unroll
        for (int j = 0; j < AL; j++)
            vstore8(r[j], 0, q + (i * AL + j) * (idx)F.sx);
    }
#else
    #pragma unroll
    for (int i = 0; i < AL; i++)
        #pragma unroll
        for (int j = 0; j < 3; j++) {
            float8 acc = 0.0f;
            #pragma unroll
            for (int k = 0; k < 3; k++)
                acc = MAC(acc, GM[i * 3 + k], g[k][j]);
            u[i][j] = acc;
        }
    #pragma unroll
    for (int i = 0; i < AL; i++)
        #pragma unroll
        for (int j = 0; j < AL; j++) {
            float8 acc = 0.0f;
            #pragma unroll
            for (int k = 0; k < 3; k++)
                acc = MAC(acc, GM[j * 3 + k], u[i][k]);
            vstore8(acc, 0, q + (i * AL + j) * (idx)F.sx);
        }
#endif
#else
    #pragma unroll
    for (int a = 0; a < TK; a++) {
        float u[AL][3];
        #pragma unroll
        for (int i = 0; i < AL; i++)
            #pragma unroll
            for (int j = 0; j < 3; j++) {
                float acc = 0.0f;
                #pragma unroll
                for (int k = 0; k < 3; k++)
                    acc = MAC(acc, GM[i * 3 + k], f[k][j][a]);
                u[i][j] = acc;
            }
        #pragma unroll
        for (int i = 0; i < AL; i++)
            #pragma unroll
            for (int j = 0; j < AL; j++) {
                float acc = 0.0f;
                #pragma unroll
                for (int k = 0; k < 3; k++)
                    acc = MAC(acc, GM[j * 3 + k], u[i][k]);
                q[(i * AL + j) * (idx)F.sx + a] = acc;
            }
    }
#endif
}

__kernel void wino_filter(__global const dt_t *w, long w_off, __global float *ws, long ws_off,
                          wfilt F)
{
    wino_filter_item(w, w_off, ws, ws_off, &F, get_global_id(0));
}

#if VW == 4
typedef float4 vec;
#define VLD(i, p) vload4(i, p)
#define VST(v, i, p) vstore4(v, i, p)
#elif VW == 8
typedef float8 vec;
#define VLD(i, p) vload8(i, p)
#define VST(v, i, p) vstore8(v, i, p)
#elif VW == 16
typedef float16 vec;
#define VLD(i, p) vload16(i, p)
#define VST(v, i, p) vstore16(v, i, p)
#else
#error "VW must be 4, 8 or 16"
#endif

/* the work of one work-item of wino_gemm (ITEM_FN: prelude.cl) */
ITEM_FN void wino_gemm_item(__global float *ws, long a_off, long b_off, long o_off,
                            const wgemm *M_p, int add, idx id)
{
    const wgemm M = *M_p;
    const idx MB = M.MB, JB = M.JB;
    if (id >= (idx)M.NX * MB * JB)
        return;
    const idx mb = id % MB;
    id /= MB;
    const idx jb = id % JB, x = id / JB;
    __global const float *ap = ws + a_off + x * (idx)M.sax + mb * (idx)M.smb;
    __global const float *bp = ws + b_off + x * (idx)M.sbx + jb * TT;
    const idx sal = M.sal, sbl = M.sbl, L = M.L;
    vec acc[TK * TP];
    #pragma unroll
    for (int a = 0; a < TK * TP; a++)
        acc[a] = 0.0f;
    for (idx l = 0; l < L; l++) {
        float av[TK];
        #pragma unroll
        for (int a = 0; a < TK; a++)
            av[a] = ap[a];
        #pragma unroll
        for (int i = 0; i < TP; i++) {
            const vec b = VLD(i, bp);
            #pragma unroll
            for (int a = 0; a < TK; a++)
                acc[a * TP + i] = fma((vec)av[a], b, acc[a * TP + i]);
        }
        ap += sal;
        bp += sbl;
    }
    __global float *op = ws + o_off + x * (idx)M.sox + mb * TK * (idx)M.som + jb * TT;
    #pragma unroll
    for (int a = 0; a < TK; a++)
        #pragma unroll
        for (int i = 0; i < TP; i++) {
            __global float *o = op + a * (idx)M.som;
            VST(add ? acc[a * TP + i] + VLD(i, o) : acc[a * TP + i], i, o);
        }
}

__kernel __attribute__((reqd_work_group_size(WG, 1, 1)))
void wino_gemm(__global float *ws, long a_off, long b_off, long o_off, wgemm M, int add)
{
    wino_gemm_item(ws, a_off, b_off, o_off, &M, add, get_global_id(0));
}

/* epi_apply on 16 consecutive elements from yi (dense, inside) */
static inline float16 epi_apply16(const epi *E, float16 acc, __global const dt_t *y, idx yi,
                                  __global const dt_t *bias, idx k)
{
    float16 v = E->alpha * acc;
    if (E->beta != 0.0f)
        v += E->beta * load_el16(y, yi);
    if (E->has_bias)
        v += load_el(bias, k);
    if (E->act) {
        float t[16];
        vstore16(v, 0, t);
        for (int l = 0; l < 16; l++)
            t[l] = act_apply(E->act, t[l], E->param);
        v = vload16(0, t);
    }
    return v;
}

/* The sum of output (n, co, p, q) over its real terms only, as the
 * reference (and DIRECT) forms it: forward (bwd 0) sum_{c, r, s} x[n][c]
 * [p - ph + r][q - pw + s] * w[co][c][r][s], backward-data (bwd 1)
 * DIRECT's data_sum at stride 1: sum_{k, r, s} dy[n][k][p + r - top]
 * [q + s - left] * w[k][co][2 - r][2 - s] (top = 2 - ph, left = 2 - pw);
 * taps outside the tensor are no term.  For the outputs whose Winograd sum
 * comes out non-finite. */
COLD_FN float real_sum(const geom *G, __global const dt_t *src, __global const dt_t *wt, int bwd,
                       idx n, idx co, idx p, idx q)
{
    float acc = 0.0f;
    if (!bwd) {
        const idx H = G->h, W = G->w, y0 = p - (idx)G->ph, x0 = q - (idx)G->pw;
        for (idx c = 0; c < (idx)G->c; c++)
            for (idx r = 0; r < 3; r++) {
                const idx h = y0 + r;
                if (h < 0 || h >= H)
                    continue;
                for (idx s = 0; s < 3; s++) {
                    const idx v = x0 + s;
                    if (v < 0 || v >= W)
                        continue;
                    acc += load_el(src, x_at(G, n, c, h, v)) * load_el(wt, w_at(G, co, c, r, s));
                }
            }
        return acc;
    }
    const idx P = G->p, Q = G->q, top = 2 - (idx)G->ph, left = 2 - (idx)G->pw;
    for (idx k = 0; k < (idx)G->k; k++)
        for (idx r = 0; r < 3; r++) {
            const idx yy = p + r - top;
            if (yy < 0 || yy >= P)
                continue;
            for (idx s = 0; s < 3; s++) {
                const idx xx = q + s - left;
                if (xx < 0 || xx >= Q)
                    continue;
                acc += load_el(src, y_at(G, n, k, yy, xx)) *
                       load_el(wt, w_at(G, k, co, 2 - r, 2 - s));
            }
        }
    return acc;
}

/* A dw element over its real terms (prelude.cl's filter_sum), out of
 * line: for the elements whose Winograd sum comes out non-finite. */
COLD_FN float filter_real_sum(const geom *G, __global const dt_t *x, __global const dt_t *dy,
                              idx k, idx c, idx r, idx s)
{
    return filter_sum(G, x, dy, k, c, r, s);
}

/* the work of one work-item of wino_out (ITEM_FN: prelude.cl) */
ITEM_FN void wino_out_item(__global const float *ws, long ws_off, __global dt_t *out, long out_off,
                           const wout *O_p, const epi *E_p, __global const dt_t *bias,
                           long bias_off, __global const dt_t *src, long src_off,
                           __global const dt_t *wt, long w_off, const geom *G_p, int bwd, idx id)
{
    const wout O = *O_p;
    const epi E = *E_p;
    const geom G = *G_p;
    MATS;
    const idx SB = (O.TW + VT - 1) / VT;
    if (id >= (idx)O.CO * (idx)O.rn * SB)
        return;
    const idx sb = id % SB;
    id /= SB;
    const idx row = id % (idx)O.rn, co = id / (idx)O.rn;
    const idx gr = (idx)O.r0 + row, n = gr / (idx)O.TH, ti = gr % (idx)O.TH;
    const idx tj0 = sb * VT;
    __global const float *q = ws + ws_off + co * (idx)O.sc + row * (idx)O.TW + tj0;
    /* u = AT m, a column of m at a time */
    tvec u[WM][AL];
#if WM == 4
    #pragma unroll
    for (int j = 0; j < AL; j++) {
        tvec m[AL], y[WM];
        #pragma unroll
        for (int k = 0; k < AL; k++)
            m[k] = TV_LOAD(q + (k * AL + j) * (idx)O.sx);
        at6(m, y);
        #pragma unroll
        for (int i = 0; i < WM; i++)
            u[i][j] = y[i];
    }
#else
    #pragma unroll
    for (int i = 0; i < WM; i++)
        #pragma unroll
        for (int j = 0; j < AL; j++)
            u[i][j] = 0.0f;
    #pragma unroll
    for (int k = 0; k < AL; k++)
        #pragma unroll
        for (int j = 0; j < AL; j++) {
            const tvec m = TV_LOAD(q + (k * AL + j) * (idx)O.sx);
            #pragma unroll
            for (int i = 0; i < WM; i++)
                u[i][j] = MAC(u[i][j], AT[i * AL + k], m);
        }
#endif
    __global dt_t *y = out + out_off;
    __global const dt_t *b = bias + bias_off;
    const idx base = n * (idx)O.os[0] + co * (idx)O.os[1], q0 = WM * tj0;
    #pragma unroll
    for (int i = 0; i < WM; i++) {
        const idx p = WM * ti + i;
        if (p >= (idx)O.OH)
            break;
        /* row i of the VT tiles' outputs (y = u A): column WM*j + jj is
         * y[jj]'s lane j */
        float r[WM * VT];
        tvec yv[WM];
#if WM == 4
        at6(u[i], yv);
#else
        #pragma unroll
        for (int jj = 0; jj < WM; jj++) {
            tvec acc = 0.0f;
            #pragma unroll
            for (int k = 0; k < AL; k++)
                acc = MAC(acc, AT[jj * AL + k], u[i][k]);
            yv[jj] = acc;
        }
#endif
        #pragma unroll
        for (int jj = 0; jj < WM; jj++) {
            float t[VT];
            TV_STORE(yv[jj], t);
            #pragma unroll
            for (int j = 0; j < VT; j++)
                r[WM * j + jj] = t[j];
        }
        const idx yr = base + p * (idx)O.os[2];
        #pragma unroll
        for (int h = 0; h < WM * VT; h += 16) {
            const idx qh = q0 + h;
#ifdef COL1
            if (qh + 16 <= (idx)O.OW) {
                const float16 a = vload16(0, r + h);
                /* a non-finite sum goes element by element (below) */
                if (!any(isinf(a) | isnan(a))) {
                    store_el16(y, yr + qh, epi_apply16(&E, a, y, yr + qh, b, co));
                    continue;
                }
            }
#endif
            SCALAR_LOOP
            for (int c = 0; c < 16; c++) {
                if (qh + c >= (idx)O.OW)
                    break;
                const idx yi = yr + (qh + c) * (idx)O.os[3];
                float acc = r[h + c];
                /* non-finite: the sum of its real terms instead (the
                 * reference's rule for Inf and NaN) */
                if (isinf(acc) || isnan(acc))
                    acc = real_sum(&G, src + src_off, wt + w_off, bwd, n, co, p, qh + c);
                store_el(y, yi, epi_apply(&E, acc, y, yi, b, co));
            }
        }
    }
}

__kernel void wino_out(__global const float *ws, long ws_off, __global dt_t *out, long out_off,
                       wout O, epi E, __global const dt_t *bias, long bias_off,
                       __global const dt_t *src, long src_off, __global const dt_t *wt,
                       long w_off, geom G, int bwd)
{
    wino_out_item(ws, ws_off, out, out_off, &O, &E, bias, bias_off, src, src_off, wt, w_off, &G,
                  bwd, get_global_id(0));
}

/* the work of one work-item of wino_filter_out (ITEM_FN: prelude.cl) */
ITEM_FN void wino_filter_out_item(__global const float *ws, long ws_off, __global dt_t *dw,
                                  long dw_off, const wfout *F_p, int beta,
                                  __global const dt_t *x, long x_off, __global const dt_t *dy,
                                  long dy_off, const geom *G, idx id)
{
    const wfout F = *F_p;
    MATS;
    if (id >= (idx)(F.K * F.C))
        return;
    const idx c = id % (idx)F.C, k = id / (idx)F.C;
    __global const float *q = ws + ws_off + k * (idx)F.sk + c;
    /* u = GT m: u[r][j] = sum_i G[i][r] m[i][j] */
    float u[3][AL];
    #pragma unroll
    for (int r = 0; r < 3; r++)
        #pragma unroll
        for (int j = 0; j < AL; j++)
            u[r][j] = 0.0f;
    #pragma unroll
    for (int i = 0; i < AL; i++)
        #pragma unroll
        for (int j = 0; j < AL; j++) {
            const float m = q[(i * AL + j) * (idx)F.sx];
            #pragma unroll
            for (int r = 0; r < 3; r++)
                u[r][j] = MAC(u[r][j], GM[i * 3 + r], m);
        }
    __global dt_t *o = dw + dw_off + k * (idx)F.ws[0] + c * (idx)F.ws[1];
    #pragma unroll
    for (int r = 0; r < 3; r++)
        #pragma unroll
        for (int s = 0; s < 3; s++) {
            float acc = 0.0f;
            #pragma unroll
            for (int j = 0; j < AL; j++)
                acc = MAC(acc, GM[j * 3 + s], u[r][j]);
            /* non-finite: the sum of its real terms instead (the
             * reference's rule for Inf and NaN) */
            if (isinf(acc) || isnan(acc))
                acc = filter_real_sum(G, x + x_off, dy + dy_off, k, c, r, s);
            const idx i = r * (idx)F.ws[2] + s * (idx)F.ws[3];
            store_el(o, i, beta ? load_el(o, i) + acc : acc);
        }
}

__kernel void wino_filter_out(__global const float *ws, long ws_off, __global dt_t *dw,
                              long dw_off, wfout F, int beta, __global const dt_t *x, long x_off,
                              __global const dt_t *dy, long dy_off, geom G)
{
    wino_filter_out_item(ws, ws_off, dw, dw_off, &F, beta, x, x_off, dy, dy_off, &G,
                         get_global_id(0));
}
