/*
 * gemm_conv.cl - the GEMM algorithm's forward and backward-data passes:
 * implicit GEMMs that read x, dy and w straight from the caller's buffers
 * (no im2col, no upsampled dy, no flipped filter).
 *
 * Shapes: x N x C x H x W, w K x Cg x R x S, y/dy N x K x P x Q, with
 * G groups, Cg = C/G, Kg = K/G; stride sh/sw, padding ph/pw at the top and
 * left (the bottom and right padding only set P and Q), dilation dh/dw.
 * The layer comes as one `geom` argument (prelude.cl): every tensor is
 * indexed through its element strides, so any layout runs (NCHW or NHWC
 * for x, y, dy, dx; KCRS or KRSC for w), and stored as dt_t (DT): each
 * element is loaded as float (load_el / load_elN), summed in fp32 and
 * rounded once when stored.
 *
 * Tiles (build options, defaults below): each work-item owns a register
 * tile of TK channels x TP rows x VW consecutive columns (VW = 1, 4, 8 or
 * 16; a vector of VW columns is one float-VW), and loops over the
 * reduction doing, per tap: TP vector loads, TK scalar weights broadcast,
 * TK*TP vector FMAs.  A tile whose input window lies inside the tensor
 * takes plain vector loads, channels outermost; an edge tile takes, per
 * block of BLK channels, the taps outermost with row checks and column
 * masks worked out once per tap, and the discarded lanes dropped with
 * select (which does not propagate a NaN from them).  The sums count only
 * real terms, as the reference does, so a padding zero must never meet an
 * Inf or NaN weight (0 * Inf is NaN): with TP <= 2 the select is on the
 * product (AVX-512's masked FMA: no extra instruction); taller tiles
 * select the loaded operand (masks held for the products would crowd the
 * registers), and a tile that comes out with a NaN or Inf is summed again
 * lane by lane, selecting each product (edge_pass; slower, so only then).
 * COL1 says that the columns of x and y (dy, dx) have element stride 1
 * (NCHW): the column vectors are then vloadN (load_elN) and the edge tiles
 * take the masked vector loads above; without it (NHWC) a vector of
 * columns is gathered lane by lane through the strides (gload_step inside,
 * gather_window at the edges, both exact).  WG is the work-group size
 * (reqd_work_group_size).  CT_FAST makes the channel tile the
 * fastest-varying part of the work-item id (neighbouring work-items then
 * share their input loads instead of their filter).  IDX_LONG makes every
 * index 64-bit (the host sets it when a tensor, the work-item count or a
 * layer size is too large for 32-bit index arithmetic).  ONE_KERNEL = 1,
 * 2 or 3 builds only gemm_fwd, gemm_bwd_data or gemm_flat (PoCL compiles
 * every kernel of a program when it builds it).  EPI (gemm_fwd, forward
 * gemm_flat): the store step applies the fused epilogue `E` (below).
 * Assumes: TK <= the channels of a group the tile runs over (Kg forward,
 * Cg backward-data, M flat): the last channel tile is shifted down to end
 * at the group's last channel rather than clipped, and stores only the
 * channels the previous tile did not.
 *
 * CONTRACT gemm_fwd
 *   y[n][k][p][q] = (beta ? old : 0) + sum_{c<Cg, r<R, s<S}
 *       x[n][g*Cg+c][p*sh-ph+r*dh][q*sw-pw+s*dw] * w[k][c][r][s],  g = k/Kg,
 *   out-of-range x rows/columns contributing no term (not 0 * w, which is
 *   NaN for an Inf or NaN weight).  With EPI the element stored is
 *   act(alpha * sum + beta * old + bias[k]) instead (epi_apply; old read
 *   only when E.beta != 0, bias[k] only when E.has_bias, once per channel
 *   of the tile).
 *   Work-item id (dimension 0, at least ceil-tiled, extra ids return):
 *   qb fastest, then pb, kb (within the group), g, n (kb first under
 *   CT_FAST); its tile is k = g*Kg + min(kb*TK, Kg-TK) + [0,TK),
 *   p = pb*TP + [0,TP), q = qb*VW + [0,VW), clipped to P, Q.
 *
 * CONTRACT gemm_bwd_data
 *   dx[n][c][h][x] = (beta ? old : 0) + sum over kl<Kg, r<R, s<S with
 *       p = (h+ph-r*dh)/sh, q = (x+pw-s*dw)/sw exact and inside [0,P)x[0,Q)
 *       of dy[n][g*Kg+kl][p][q] * w[g*Kg+kl][c-g*Cg][r][s],  g = c/Cg.
 *   Computed by stride phases: rows h = fh + sh*i and columns x = fw + sw*j
 *   of one phase (fh < min(sh,H), fw < min(sw,W)) share their taps, and
 *   there p and q step by 1 with i and j, so each phase is a small dense
 *   stride-1 convolution of dy with the taps r = r0 + m*sh/gcd(sh,dh)
 *   (likewise s): the zeros of the upsampled dy are never visited.  A
 *   phase with no taps writes 0 (beta 0) or old + 0 (beta 1).  E and bias
 *   are not used (the same argument list as gemm_fwd).
 *   Work-item id: jb fastest, then fw, ib, fh, cb, g, n (cb first under
 *   CT_FAST); its tile is
 *   c = g*Cg + min(cb*TK, Cg-TK) + [0,TK), i = ib*TP + [0,TP),
 *   j = jb*VW + [0,VW), clipped to the phase's rows and columns.
 *
 * CONTRACT gemm_flat
 *   A 1x1, stride-1, unpadded layer is a plain GEMM per image and group
 *   over the H*W positions j (at the tensors' column stride: a dense
 *   image's rows follow each other, whatever the layout):
 *   out[n][g*M+m][j] = (beta ? old : 0)
 *       + sum_{l<L} w[g*Kg*Cg + m*wm + l*wl] * in[n][g*L+l][j],  j < H*W.
 *   Forward (bwd = 0): in x, out y, M = Kg, L = Cg, wm = the filter
 *   stride of w, wl its channel stride (with EPI: the epilogue as in
 *   gemm_fwd, k = g*M+m); backward-data (bwd = 1): in dy, out dx, M = Cg,
 *   L = Kg, wm and wl swapped (1x1 filters are the same in KCRS and KRSC).
 *   Tile: TK output channels x TP*VW consecutive columns (TP vectors).
 *   Work-item id: jb fastest, then mb, g, n (mb first under CT_FAST);
 *   channels m = min(mb*TK, M-TK) + [0,TK), columns j = jb*TP*VW + [0,TP*VW)
 *   clipped to H*W.
 *
 * All: offsets in elements of dt_t; never read the output when beta == 0
 * (with EPI: when E.beta == 0) (it may hold NaN); read only inside [off,
 * off + elements) of each tensor (a vector load that would leave it is
 * done lane by lane); vector loads are unaligned-safe (vloadN); fixed
 * summation order, no atomics (bitwise deterministic); every output
 * element of the tensor is written exactly once.
 */
#ifndef TK
#define TK 8
#endif
#ifndef TP
#define TP 2
#endif
#ifndef VW
#define VW 8
#endif
#ifndef WG
#define WG 16
#endif
/* edge tiles run their reduction in blocks of BLK channels, taps inside,
 * so a block's filter taps and input rows stay in cache across the taps */
#ifndef BLK
#define BLK 32
#endif

/* idx, uidx, dt_t, load_el*, store_el*, geom, epi: prelude.cl */

/* VLOAD / VSTORE: a vector of a private array; GLOAD / GSTORE: VW
 * consecutive elements of a tensor (storage type, as float), GLOAD_EVEN
 * the even ones of 2*VW (stride 2). */
#if VW == 1
typedef float vec;
typedef int ivec;
#define LANES 0
#define VLOAD(p) (*(p))
#define VSTORE(v, p) (*(p) = (v))
#define GLOAD(p) load_el(p, 0)
#define GLOAD_EVEN(p) load_el(p, 0)
#define GSTORE(v, p) store_el(p, 0, v)
#define VKEEP(old, new, m) ((m) ? (new) : (old))
#elif VW == 4
typedef float4 vec;
typedef int4 ivec;
#define LANES ((int4)(0, 1, 2, 3))
#define VLOAD(p) vload4(0, p)
#define VSTORE(v, p) vstore4(v, 0, p)
#define GLOAD(p) load_el4(p, 0)
#define GLOAD_EVEN(p) (load_el8(p, 0).even)
#define GSTORE(v, p) store_el4(p, 0, v)
#define VKEEP(old, new, m) select(old, new, m)
#elif VW == 8
typedef float8 vec;
typedef int8 ivec;
#define LANES ((int8)(0, 1, 2, 3, 4, 5, 6, 7))
#define VLOAD(p) vload8(0, p)
#define VSTORE(v, p) vstore8(v, 0, p)
#define GLOAD(p) load_el8(p, 0)
#define GLOAD_EVEN(p) (load_el16(p, 0).even)
#define GSTORE(v, p) store_el8(p, 0, v)
#define VKEEP(old, new, m) select(old, new, m)
#elif VW == 16
typedef float16 vec;
typedef int16 ivec;
#define LANES ((int16)(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15))
#define VLOAD(p) vload16(0, p)
#define VSTORE(v, p) vstore16(v, 0, p)
#define GLOAD(p) load_el16(p, 0)
#define GLOAD_EVEN(p) ((float16)(load_el16(p, 0).even, load_el16(p, 16).even))
#define GSTORE(v, p) store_el16(p, 0, v)
#define VKEEP(old, new, m) select(old, new, m)
#else
#error "VW must be 1, 4, 8 or 16"
#endif
/* VKEEP: new in the lanes of mask m, old in the others; VSELECT: v in the
 * lanes of m, 0 in the others */
#define VSELECT(v, m) VKEEP((vec)0.0f, v, m)

/* The element stride of a column of x (dx) and of y (dy): the constant 1
 * under COL1, so that column vectors are vector loads, else the layer's. */
#ifdef COL1
#define XCOL(G) ((idx)1)
#define YCOL(G) ((idx)1)
#else
#define XCOL(G) ((idx)(G)->xs[3])
#define YCOL(G) ((idx)(G)->ys[3])
#endif

#define TILE (TK * TP)
/* helpers that take the tile by pointer: always inlined, or the tile
 * would live in memory instead of registers */
#define TILE_FN static inline __attribute__((always_inline))

/* One tap of the tile: TK weights w0[a*wst] broadcast against TP vectors
 * LOADV(i), into acc[i*TK + a]; KEEP(i, old, new) is each lane's result
 * (TAP: new in every lane; TAP_MASKED: new only in the lanes of m[i]). */
#define TAP_KEEP(acc, w0, wst, LOADV, KEEP)                                 \
    do {                                                                    \
        float wv_[TK];                                                      \
        _Pragma("unroll") for (int a_ = 0; a_ < TK; a_++)                   \
            wv_[a_] = load_el((w0), a_ * (wst));                            \
        _Pragma("unroll") for (int i_ = 0; i_ < TP; i_++) {                 \
            const vec v_ = LOADV(i_);                                       \
            _Pragma("unroll") for (int a_ = 0; a_ < TK; a_++)               \
                acc[i_ * TK + a_] = KEEP(i_, acc[i_ * TK + a_],             \
                                         fma((vec)wv_[a_], v_, acc[i_ * TK + a_])); \
        }                                                                   \
    } while (0)
#define KEEP_ALL(i, old, new) (new)
#define KEEP_M(i, old, new) VKEEP(old, new, m[i])
#define TAP(acc, w0, wst, LOADV) TAP_KEEP(acc, w0, wst, LOADV, KEEP_ALL)
#define TAP_MASKED(acc, w0, wst, LOADV) TAP_KEEP(acc, w0, wst, LOADV, KEEP_M)

/* An edge tap whose loads LD(i) are real in the lanes of m[i] only (see
 * the top of the file): each product kept only in m (TP <= 2), else the
 * operand zeroed outside m, and edge_pass to sum a non-finite tile again.
 * EDGE_EXACT: an edge tile's first pass is already exact (the masked
 * products, or, without COL1, only lane-by-lane gathers). */
#if TP <= 2
#define TAP_EDGE(acc, w0, wst, LD) TAP_MASKED(acc, w0, wst, LD)
#else
#define TAP_EDGE(acc, w0, wst, LD) TAP(acc, w0, wst, LD##_ZEROED)
#endif
#if TP <= 2 || !defined(COL1)
#define EDGE_EXACT 1
#else
#define EDGE_EXACT 0
#endif

/* A tile of TK channels starting at b*TK, shifted down to end at n when
 * it would pass it (n >= TK): every tile reads TK real channels at one
 * stride, and the overlap is stored only by the tile that owns it. */
static idx tile_start(idx b, idx n)
{
    return min(b * TK, max(n - TK, (idx)0));
}

TILE_FN void tile_zero(vec acc[TILE])
{
    #pragma unroll
    for (int a = 0; a < TILE; a++)
        acc[a] = 0.0f;
}

/* VW elements at element step st from p, lane by lane (all inside the
 * tensor): a column vector when the columns are not contiguous. */
TILE_FN vec gload_step(__global const dt_t *p, idx st)
{
    float t[VW];
    #pragma unroll
    for (int j = 0; j < VW; j++)
        t[j] = load_el(p, j * st);
    return VLOAD(t);
}

/* Lane by lane: columns ix + j*st of `row` (column c at element c*cs),
 * 0 outside [0, width); *real gets the lanes inside (a select mask). */
TILE_FN vec gather_window(__global const dt_t *row, idx ix, idx st, idx width, idx cs,
                          ivec *real)
{
    float t[VW];
    int in[VW];
    #pragma unroll
    for (int j = 0; j < VW; j++) {
        idx col = ix + j * st;
        in[j] = col >= 0 && col < width ? -1 : 0;
        t[j] = in[j] ? load_el(row, col * cs) : 0.0f;
    }
    *real = VLOAD(in);
    return VLOAD(t);
}

/* acc[a] += wv[a] * v for a < TK, in the lanes of `real` only (the
 * lanes gathered lane by lane are always summed exactly). */
TILE_FN void row_fma(vec *acc, const float wv[TK], vec v, ivec real)
{
    #pragma unroll
    for (int a = 0; a < TK; a++)
        acc[a] = VKEEP(acc[a], fma((vec)wv[a], v, acc[a]), real);
}

#if !defined(ONE_KERNEL) || ONE_KERNEL != 3
/* Whether every lane of the tile is finite (v - v is 0 unless v is NaN or
 * Inf). */
TILE_FN int tile_finite(const vec acc[TILE])
{
    vec z = 0.0f;
    #pragma unroll
    for (int a = 0; a < TILE; a++)
        z += acc[a] - acc[a];
#if VW == 1
    return z == 0.0f;
#else
    return all(z == (vec)0.0f);
#endif
}

/* Whether an edge tile runs pass `exact`: the fast pass (0) always, the
 * exact one (1), from zero, only when the fast one left a NaN or Inf. */
TILE_FN int edge_pass(int exact, vec acc[TILE])
{
    if (exact == 0)
        return 1;
    if (EDGE_EXACT || exact > 1 || tile_finite(acc))
        return 0;
    tile_zero(acc);
    return 1;
}

#ifdef COL1
/* Lanes j with 0 <= ix + j*st < width, as a select mask (st <= 2;
 * clamped so that int holds it). */
static ivec col_mask(idx ix, idx st, idx width)
{
    const int lo = (int)clamp(-ix, (idx)(-1), (idx)(2 * VW));
    const int hi = (int)clamp(width - ix, (idx)(-1), (idx)(2 * VW));
    const ivec off = LANES * (int)st;
    return (off >= lo) & (off < hi);
}
#endif
#endif

/* Store one VW-column vector of a tile row: `n` valid columns at element
 * step `st` from dst (vector store when dense and whole); adds the old
 * value when beta. */
static void store_cols(__global dt_t *dst, vec v, idx n, idx st, int beta)
{
    if (st == 1 && n >= VW) {
        GSTORE(beta ? v + GLOAD(dst) : v, dst);
        return;
    }
    float t[VW];
    VSTORE(v, t);
    SCALAR_LOOP
    for (int j = 0; j < VW && j < n; j++)
        store_el(dst, j * st, beta ? load_el(dst, j * st) + t[j] : t[j]);
}

#ifdef EPI
/* What epi_apply stores for one element whose channel's bias b the tile
 * read once: the linear part from epi_apply (lin: E's alpha and beta, no
 * bias, identity), then b, then E's activation - the same operations in
 * the same order as epi_apply(E, ...). */
static float epi_biased(const epi *E, const epi *lin, float acc, __global const dt_t *y, idx yi,
                        float b)
{
    const float v = epi_apply(lin, acc, y, yi, y, 0);
    return act_apply(E->act, E->has_bias ? v + b : v, E->param);
}

/* store_cols with the epilogue: each element act(alpha*acc + beta*old + b). */
static void store_cols_epi(__global dt_t *dst, vec v, idx n, idx st, const epi *E,
                           const epi *lin, float b)
{
    float t[VW];
    VSTORE(v, t);
    #pragma unroll
    for (int j = 0; j < VW && j < n; j++)
        store_el(dst, j * st, epi_biased(E, lin, t[j], dst, j * st, b));
}

/* The biases of channels k0 .. k0+TK-1 (those below kend), read once. */
static void tile_bias(float bk[TK], const epi *E, __global const dt_t *bias, idx k0, idx kend)
{
    #pragma unroll
    for (int a = 0; a < TK; a++)
        bk[a] = E->has_bias && k0 + a < kend ? load_el(bias, k0 + a) : 0.0f;
}
#endif

/* The forward tile when its whole input window lies inside x: unmasked
 * column vectors VLD (GLOAD for stride 1, GLOAD_EVEN for 2, GLOAD_STEP
 * without COL1), channels outermost so that the tile's filter taps are
 * read in order. */
#define FWD_INTERIOR(VLD)                                                   \
    __global const dt_t *xw = xg + iy0 * XR + ix0 * XQ;                     \
    for (idx c = 0; c < Cg; c++) {                                          \
        __global const dt_t *xcp = xw + c * XC;                             \
        __global const dt_t *wcp = wk + c * WC;                             \
        for (idx r = 0; r < R; r++) {                                       \
            __global const dt_t *xrp = xcp + r * dh * XR;                   \
            for (idx s = 0; s < S; s++) {                                   \
                __global const dt_t *xsp = xrp + s * dw * XQ;               \
                TAP(acc, wcp + r * WR + s * WS, WK, FWD_LD_##VLD);          \
            }                                                               \
        }                                                                   \
    }
#define FWD_LD_GLOAD(i) GLOAD(xsp + (i) * sh * XR)
#define FWD_LD_GLOAD_EVEN(i) GLOAD_EVEN(xsp + (i) * sh * XR)
#define FWD_LD_GLOAD_STEP(i) gload_step(xsp + (i) * sh * XR, sw * XQ)

/* An edge tile, for one tap: the channel loop with rows and column masks
 * fixed (m[i] all zero for a row outside x, which is read clamped). */
#define FWD_EDGE(VLD)                                                       \
    for (idx c = cblk; c < ce; c++)                                           \
        TAP_EDGE(acc, wt + c * WC, WK, FWD_EDGE_LD_##VLD);
#define FWD_EDGE_LD_GLOAD(i) GLOAD(xg + c * XC + ro[i])
#define FWD_EDGE_LD_GLOAD_ZEROED(i) VSELECT(FWD_EDGE_LD_GLOAD(i), m[i])
#define FWD_EDGE_LD_GLOAD_EVEN(i) GLOAD_EVEN(xg + c * XC + ro[i])
#define FWD_EDGE_LD_GLOAD_EVEN_ZEROED(i) VSELECT(FWD_EDGE_LD_GLOAD_EVEN(i), m[i])

#if !defined(ONE_KERNEL) || ONE_KERNEL == 1
/* the work of one work-item of gemm_fwd (ITEM_FN: prelude.cl) */
ITEM_FN void gemm_fwd_item(__global const dt_t *x, long x_off, __global const dt_t *w, long w_off,
                           __global dt_t *y, long y_off, int beta, const geom *gm_p, const epi *E_p,
                           __global const dt_t *bias, long bias_off, idx t)
{
    const geom gm = *gm_p;
    const epi E = *E_p;
    const idx N = gm.n, H = gm.h, W = gm.w, P = gm.p, Q = gm.q, R = gm.r, S = gm.s, G = gm.g;
    const idx sh = gm.sh, sw = gm.sw, ph = gm.ph, pw = gm.pw, dh = gm.dh, dw = gm.dw;
    const idx Cg = gm.cg, Kg = gm.kg;
    /* element strides: x's image, channel, row, column; w's filter,
     * channel, row, column; y's image, channel, row, column */
    const idx XN = gm.xs[0], XC = gm.xs[1], XR = gm.xs[2], XQ = XCOL(&gm);
    const idx WK = gm.ws[0], WC = gm.ws[1], WR = gm.ws[2], WS = gm.ws[3];
    const idx YN = gm.ys[0], YK = gm.ys[1], YR = gm.ys[2], YQ = YCOL(&gm);
    const idx QB = (Q + VW - 1) / VW, PB = (P + TP - 1) / TP, KB = (Kg + TK - 1) / TK;
    if (t >= N * G * KB * PB * QB)
        return;
#ifdef CT_FAST
    const idx kb = t % KB;
    t /= KB;
#endif
    const idx qb = t % QB;
    t /= QB;
    const idx pb = t % PB;
    t /= PB;
#ifndef CT_FAST
    const idx kb = t % KB;
    t /= KB;
#endif
    const idx g = t % G, n = t / G;
    const idx q0 = qb * VW, p0 = pb * TP, k0 = tile_start(kb, Kg);

    const idx xbase = n * XN + g * Cg * XC, total = N * XN;
    __global const dt_t *xg = x + x_off + xbase;
    __global const dt_t *wk = w + w_off + (g * Kg + k0) * WK;
    vec acc[TILE];
    tile_zero(acc);

    /* the tile's input window: rows iy0 .. iy0 + (TP-1)*sh + (R-1)*dh,
     * columns ix0 .. ix0 + VW*sw - 1 + (S-1)*dw (a stride-2 load reads
     * 2*VW columns, the last one unused) */
    const idx iy0 = p0 * sh - ph, ix0 = q0 * sw - pw;
    const int inside = iy0 >= 0 && iy0 + (TP - 1) * sh + (R - 1) * dh < H && ix0 >= 0 &&
                       ix0 + VW * sw - 1 + (S - 1) * dw < W;
#ifdef COL1
    if (inside && sw == 1) {
        FWD_INTERIOR(GLOAD)
    } else if (inside && sw == 2) {
        FWD_INTERIOR(GLOAD_EVEN)
    } else
#else
    if (inside) {
        FWD_INTERIOR(GLOAD_STEP)
    } else
#endif
    {
        /* taps outside the channel loop: row checks, column masks and
         * whether whole vectors stay inside x are worked out once per tap
         * of a block of BLK channels; the exact pass of edge_pass takes the
         * lane-by-lane path (whole = 0) */
        for (int exact = 0; edge_pass(exact, acc); exact++)
        for (idx cblk = 0; cblk < Cg; cblk += BLK)
        for (idx r = 0; r < R; r++)
            for (idx s = 0; s < S; s++) {
                const idx ce = min(cblk + BLK, Cg), ix = ix0 + s * dw;
                __global const dt_t *wt = wk + r * WR + s * WS;
#ifdef COL1
                idx ro[TP];
                ivec m[TP];
                int any = 0;
                #pragma unroll
                for (int i = 0; i < TP; i++) {
                    const idx iy = iy0 + i * sh + r * dh;
                    const int ok = iy >= 0 && iy < H;
                    ro[i] = clamp(iy, (idx)0, H - 1) * XR + ix * XQ;
                    m[i] = ok && sw <= 2 ? col_mask(ix, sw, W) : (ivec)0;
                    any |= ok;
                }
                if (!any)
                    continue;
                /* from the first row of channel 0 to the last of channel Cg-1 */
                const int whole = !exact && xbase + ro[0] >= 0 &&
                                  xbase + ro[TP - 1] + (Cg - 1) * XC + sw * VW <= total;
                if (whole && sw == 1) {
                    FWD_EDGE(GLOAD)
                } else if (whole && sw == 2) {
                    FWD_EDGE(GLOAD_EVEN)
                } else
#endif
                {
                    for (idx c = cblk; c < ce; c++) {
                        float wv[TK];
                        #pragma unroll
                        for (int a = 0; a < TK; a++)
                            wv[a] = load_el(wt, a * WK + c * WC);
                        #pragma unroll
                        for (int i = 0; i < TP; i++) {
                            const idx iy = iy0 + i * sh + r * dh;
                            if (iy < 0 || iy >= H)
                                continue;
                            ivec real;
                            const vec v =
                                gather_window(xg + c * XC + iy * XR, ix, sw, W, XQ, &real);
                            row_fma(acc + i * TK, wv, v, real);
                        }
                    }
                }
            }
    }
    /* a shifted last tile stores only the channels past the previous tile */
    const idx kfirst = kb * TK;
    __global dt_t *yt = y + y_off + n * YN + (g * Kg + k0) * YK + p0 * YR + q0 * YQ;
#ifdef EPI
    float bk[TK];
    tile_bias(bk, &E, bias + bias_off, g * Kg + k0, (g + 1) * Kg);
    const epi lin = {E.alpha, E.beta, 0.0f, 0, 0, 0};
#endif
    #pragma unroll
    for (int i = 0; i < TP; i++)
        #pragma unroll
        for (int a = 0; a < TK; a++)
            if (p0 + i < P && k0 + a < Kg && k0 + a >= kfirst)
#ifdef EPI
                store_cols_epi(yt + a * YK + i * YR, acc[i * TK + a], Q - q0, YQ, &E, &lin,
                               bk[a]);
#else
                store_cols(yt + a * YK + i * YR, acc[i * TK + a], Q - q0, YQ, beta);
#endif
}

__kernel __attribute__((reqd_work_group_size(WG, 1, 1)))
void gemm_fwd(__global const dt_t *x, long x_off, __global const dt_t *w, long w_off,
              __global dt_t *y, long y_off, int beta, geom gm, epi E,
              __global const dt_t *bias, long bias_off)
{
    gemm_fwd_item(x, x_off, w, w_off, y, y_off, beta, &gm, &E, bias, bias_off, get_global_id(0));
}

#endif

#if !defined(ONE_KERNEL) || ONE_KERNEL == 2
#ifdef COL1
#define BWD_LD_INNER(i) GLOAD(dyr + (i) * YR)
#else
#define BWD_LD_INNER(i) gload_step(dyr + (i) * YR, YQ)
#endif
#define BWD_LD_EDGE(i) GLOAD(dyg + kl * YK + ro[i])
#define BWD_LD_EDGE_ZEROED(i) VSELECT(BWD_LD_EDGE(i), m[i])

/* the work of one work-item of gemm_bwd_data (ITEM_FN: prelude.cl) */
ITEM_FN void gemm_bwd_data_item(__global const dt_t *dy, long dy_off, __global const dt_t *w,
                                long w_off, __global dt_t *dx, long dx_off, int beta,
                                const geom *gm_p, const epi *E_p, __global const dt_t *bias,
                                long bias_off, idx t)
{
    const geom gm = *gm_p;
    const epi E = *E_p;
    const idx N = gm.n, H = gm.h, W = gm.w, P = gm.p, Q = gm.q, R = gm.r, S = gm.s, G = gm.g;
    const idx sh = gm.sh, sw = gm.sw, ph = gm.ph, pw = gm.pw, dh = gm.dh, dw = gm.dw;
    const idx Cg = gm.cg, Kg = gm.kg;
    /* element strides of dx, w and dy, as in gemm_fwd */
    const idx XN = gm.xs[0], XC = gm.xs[1], XR = gm.xs[2], XQ = XCOL(&gm);
    const idx WK = gm.ws[0], WC = gm.ws[1], WR = gm.ws[2], WS = gm.ws[3];
    const idx YN = gm.ys[0], YK = gm.ys[1], YR = gm.ys[2], YQ = YCOL(&gm);
    const idx FH = min(sh, H), FW = min(sw, W);
    const idx IB = ((H + sh - 1) / sh + TP - 1) / TP, JB = ((W + sw - 1) / sw + VW - 1) / VW;
    const idx CB = (Cg + TK - 1) / TK;
    if (t >= N * G * CB * FH * IB * FW * JB)
        return;
#ifdef CT_FAST
    const idx cb = t % CB;
    t /= CB;
#endif
    const idx jb = t % JB;
    t /= JB;
    const idx fw = t % FW;
    t /= FW;
    const idx ib = t % IB;
    t /= IB;
    const idx fh = t % FH;
    t /= FH;
#ifndef CT_FAST
    const idx cb = t % CB;
    t /= CB;
#endif
    const idx g = t % G, n = t / G;
    const idx i0 = ib * TP, j0 = jb * VW, c0 = tile_start(cb, Cg);

    idx rstep, sstep;
    const idx r0 = phase_first_tap(fh + ph, dh, sh, R, &rstep);
    const idx s0 = phase_first_tap(fw + pw, dw, sw, S, &sstep);
    const idx ybase = n * YN + g * Kg * YK, total = N * YN;
    __global const dt_t *dyg = dy + dy_off + ybase;
    __global const dt_t *wg = w + w_off + g * Kg * WK + c0 * WC;
    vec acc[TILE];
    tile_zero(acc);

    /* the dy window of all taps: p = (fh+ph-r*dh)/sh + i0 + i falls as r
     * rises, so the last tap gives the lowest row (likewise q) */
    const idx rl = r0 + (R - 1 - r0) / rstep * rstep, sl = s0 + (S - 1 - s0) / sstep * sstep;
    const int inside = r0 < R && s0 < S && (fh + ph - rl * dh) / sh + i0 >= 0 &&
                       (fh + ph - r0 * dh) / sh + i0 + TP - 1 < P &&
                       (fw + pw - sl * dw) / sw + j0 >= 0 &&
                       (fw + pw - s0 * dw) / sw + j0 + VW - 1 < Q;
    /* from one tap to the next the dy row falls by dpr, the column by dqs */
    const idx dpr = rstep * dh / sh, dqs = sstep * dw / sw;
    if (inside) {
        const idx first = ((fh + ph - r0 * dh) / sh + i0) * YR +
                          ((fw + pw - s0 * dw) / sw + j0) * YQ;
        for (idx kl = 0; kl < Kg; kl++) {
            __global const dt_t *dyk = dyg + kl * YK + first;
            __global const dt_t *wkl = wg + kl * WK;
            for (idx r = r0, ro = 0; r < R; r += rstep, ro -= dpr * YR)
                for (idx s = s0, so = ro; s < S; s += sstep, so -= dqs * YQ) {
                    __global const dt_t *dyr = dyk + so;
                    TAP(acc, wkl + r * WR + s * WS, WC, BWD_LD_INNER);
                }
        }
    } else {
        /* taps outside the channel loop, as in gemm_fwd's edge tiles */
        for (int exact = 0; edge_pass(exact, acc); exact++)
        for (idx kblk = 0; kblk < Kg; kblk += BLK)
        for (idx r = r0; r < R; r += rstep) {
            const idx pr = (fh + ph - r * dh) / sh + i0, ke = min(kblk + BLK, Kg);
            for (idx s = s0; s < S; s += sstep) {
                const idx qs = (fw + pw - s * dw) / sw + j0;
                __global const dt_t *wt = wg + r * WR + s * WS;
#ifdef COL1
                idx ro[TP];
                ivec m[TP];
                int any = 0;
                #pragma unroll
                for (int i = 0; i < TP; i++) {
                    const int ok = pr + i >= 0 && pr + i < P;
                    ro[i] = clamp(pr + i, (idx)0, P - 1) * YR + qs * YQ;
                    m[i] = ok ? col_mask(qs, 1, Q) : (ivec)0;
                    any |= ok;
                }
                if (!any)
                    continue;
                if (!exact && ybase + ro[0] >= 0 &&
                    ybase + ro[TP - 1] + (Kg - 1) * YK + VW <= total) {
                    for (idx kl = kblk; kl < ke; kl++)
                        TAP_EDGE(acc, wt + kl * WK, WC, BWD_LD_EDGE);
                    continue;
                }
#endif
                for (idx kl = kblk; kl < ke; kl++) {
                    float wv[TK];
                    #pragma unroll
                    for (int a = 0; a < TK; a++)
                        wv[a] = load_el(wt, kl * WK + a * WC);
                    #pragma unroll
                    for (int i = 0; i < TP; i++) {
                        if (pr + i < 0 || pr + i >= P)
                            continue;
                        ivec real;
                        const vec v = gather_window(dyg + kl * YK + (pr + i) * YR, qs, 1, Q,
                                                    YQ, &real);
                        row_fma(acc + i * TK, wv, v, real);
                    }
                }
            }
        }
    }
    /* columns of this phase: x = fw + sw*j < W; a shifted last channel
     * tile stores only the channels past the previous tile */
    const idx ncols = (W - fw + sw - 1) / sw - j0, cfirst = cb * TK;
    __global dt_t *dxt = dx + dx_off + n * XN + (g * Cg + c0) * XC + (fw + sw * j0) * XQ;
    #pragma unroll
    for (int i = 0; i < TP; i++) {
        const idx h = fh + sh * (i0 + i);
        #pragma unroll
        for (int a = 0; a < TK; a++)
            if (h < H && c0 + a < Cg && c0 + a >= cfirst)
                store_cols(dxt + a * XC + h * XR, acc[i * TK + a], ncols, sw * XQ, beta);
    }
}

__kernel __attribute__((reqd_work_group_size(WG, 1, 1)))
void gemm_bwd_data(__global const dt_t *dy, long dy_off, __global const dt_t *w, long w_off,
                   __global dt_t *dx, long dx_off, int beta, geom gm, epi E,
                   __global const dt_t *bias, long bias_off)
{
    gemm_bwd_data_item(dy, dy_off, w, w_off, dx, dx_off, beta, &gm, &E, bias, bias_off,
                       get_global_id(0));
}

#endif

#if !defined(ONE_KERNEL) || ONE_KERNEL == 3
#define FLAT_LD(i) GLOAD(ip + l * IC + (i) * VW)
#define FLAT_LD_STEP(i) gload_step(ip + l * IC + (i) * VW * IJ, IJ)

/* the work of one work-item of gemm_flat (ITEM_FN: prelude.cl) */
ITEM_FN void gemm_flat_item(__global const dt_t *in, long in_off, __global const dt_t *w,
                            long w_off, __global dt_t *out, long out_off, int beta,
                            const geom *gm_p, const epi *E_p, __global const dt_t *bias,
                            long bias_off, int bwd, idx t)
{
    const geom gm = *gm_p;
    const epi E = *E_p;
    const idx N = gm.n, G = gm.g, HW = gm.h * gm.w, Kg = gm.kg;
    const idx M = bwd ? gm.cg : gm.kg, L = bwd ? gm.kg : gm.cg;
    const idx wm = bwd ? gm.ws[1] : gm.ws[0], wl = bwd ? gm.ws[0] : gm.ws[1];
    /* element strides of in and out over image, channel and position j */
    const idx IN = bwd ? gm.ys[0] : gm.xs[0], IC = bwd ? gm.ys[1] : gm.xs[1];
    const idx ON = bwd ? gm.xs[0] : gm.ys[0], OC = bwd ? gm.xs[1] : gm.ys[1];
    const idx IJ = bwd ? YCOL(&gm) : XCOL(&gm), OJ = bwd ? XCOL(&gm) : YCOL(&gm);
    const idx JW = TP * VW, JB = (HW + JW - 1) / JW, MB = (M + TK - 1) / TK;
    if (t >= N * G * MB * JB)
        return;
#ifdef CT_FAST
    const idx mb = t % MB;
    t /= MB;
#endif
    const idx jb = t % JB;
    t /= JB;
#ifndef CT_FAST
    const idx mb = t % MB;
    t /= MB;
#endif
    const idx g = t % G, n = t / G;
    const idx m0 = tile_start(mb, M), j0 = jb * JW, ibase = n * IN + g * L * IC + j0 * IJ;
    __global const dt_t *ip = in + in_off + ibase;
    __global const dt_t *wp = w + w_off + g * Kg * gm.ws[0] + m0 * wm;
    vec acc[TILE];
    tile_zero(acc);
#ifdef COL1
    /* columns past HW (the last tile) read the next plane and are never
     * stored: whole vectors serve while they stay inside the tensor */
    if (ibase + (L - 1) * IC + JW <= N * IN) {
        for (idx l = 0; l < L; l++)
            TAP(acc, wp + l * wl, wm, FLAT_LD);
    } else
#else
    /* strided columns: whole tiles gather without checks */
    if (j0 + JW <= HW) {
        for (idx l = 0; l < L; l++)
            TAP(acc, wp + l * wl, wm, FLAT_LD_STEP);
    } else
#endif
    {
        for (idx l = 0; l < L; l++) {
            float wv[TK];
            #pragma unroll
            for (int a = 0; a < TK; a++)
                wv[a] = load_el(wp, l * wl + a * wm);
            #pragma unroll
            for (int i = 0; i < TP; i++) {
                ivec real;
                const vec v =
                    gather_window(ip + l * IC - j0 * IJ, j0 + i * VW, 1, HW, IJ, &real);
                row_fma(acc + i * TK, wv, v, real);
            }
        }
    }
    const idx mfirst = mb * TK;
    __global dt_t *ot = out + out_off + n * ON + (g * M + m0) * OC + j0 * OJ;
#ifdef EPI
    float bk[TK];
    tile_bias(bk, &E, bias + bias_off, g * M + m0, (g + 1) * M);
    const epi lin = {E.alpha, E.beta, 0.0f, 0, 0, 0};
#endif
    #pragma unroll
    for (int a = 0; a < TK; a++)
        #pragma unroll
        for (int i = 0; i < TP; i++)
            if (m0 + a >= mfirst)
#ifdef EPI
                store_cols_epi(ot + a * OC + i * VW * OJ, acc[i * TK + a], HW - j0 - i * VW, OJ,
                               &E, &lin, bk[a]);
#else
                store_cols(ot + a * OC + i * VW * OJ, acc[i * TK + a], HW - j0 - i * VW, OJ,
                           beta);
#endif
}

__kernel __attribute__((reqd_work_group_size(WG, 1, 1)))
void gemm_flat(__global const dt_t *in, long in_off, __global const dt_t *w, long w_off,
               __global dt_t *out, long out_off, int beta, geom gm, epi E,
               __global const dt_t *bias, long bias_off, int bwd)
{
    gemm_flat_item(in, in_off, w, w_off, out, out_off, beta, &gm, &E, bias, bias_off, bwd,
                   get_global_id(0));
}
#endif
