/*
 * tiled_conv.cl - the TILED algorithm: all three passes of a convolution
 * layer as one local-memory tiled implicit GEMM, shaped for GPUs.
 *
 * CONTRACT tiled_conv
 *   Computes, for the pass PASS (build option: 0 forward, 1 backward-data,
 *   2 backward-filter; see "The three GEMMs" below), out = (beta ? old : 0)
 *   + A . B over one work-group's tile, where
 *     A (M x RED) is dense: filter rows (forward, backward-data) or dy
 *       rows (backward-filter), read from `rows_src` at `rows_off`;
 *     B (RED x NCOLS) is the virtual im2col of an image: x (forward,
 *       backward-filter) or dy (backward-data), read from `win_src` at
 *       `win_off`, with every element outside the tensor (padding, the
 *       zeros the stride inserts into the upsampled dy) absent;
 *   so that
 *     forward          y[n][k][p][q] = sum_{c<Cg,r<R,s<S}
 *                          x[n][g*Cg+c][p*sh-ph+r*dh][q*sw-pw+s*dw] * w[k][c][r][s];
 *     backward-data    dx[n][c][h][v] = sum over kl<Kg, r<R, s<S with
 *                          p = (h+ph-r*dh)/sh and q = (v+pw-s*dw)/sw exact and inside
 *                          [0,P) x [0,Q) of dy[n][g*Kg+kl][p][q] * w[g*Kg+kl][c-g*Cg][r][s];
 *     backward-filter  dw[k][c][r][s] = sum_{n,p,q} dy[n][k][p][q] *
 *                          x[n][g*Cg+c][p*sh-ph+r*dh][q*sw-pw+s*dw],
 *   g the group of the output channel, Cg = C/G, Kg = K/G.
 *   Parameters: rows_src/rows_off (A), win_src/win_off (B), out/out_off,
 *   all offsets in floats; beta: 1 adds to the old output, 0 overwrites it
 *   without reading it (it may hold NaN); G: the layer (tiled_geom, passed
 *   by value, mirrored by host/tiled.h; sh and sw the strides the library
 *   reduces to at most the padded extent, desc.c).
 *   NDRange: dimension 0 = column blocks x WG work-items (WG = (BM/TM) x
 *   (BN/TN), the reqd_work_group_size), dimension 1 = G x row blocks,
 *   dimension 2 = stride phases (backward-data, FH x FW with FH =
 *   min(sh,H), FW = min(sw,W)), reduction splits (backward-filter,
 *   G.splits) or 1.  A work-group whose columns all lie past its GEMM's
 *   (a small stride phase) returns at once; a phase without taps writes
 *   0 (beta 0) or leaves old + 0.
 *   Backward-filter with G.splits > 1 writes split z's partial sums,
 *   always overwriting (beta is 0 then), to out + z*K*Cg*R*S in dw's
 *   layout; tiled_reduce.cl adds them up in split order.
 *   Non-finite values: a product with an absent B element is never part
 *   of a sum (as in the float64 reference), so an Inf or NaN weight that
 *   meets only padding leaves the output finite.  Bitwise deterministic:
 *   fixed summation order, no atomics.  Every output element of the tile
 *   inside the tensor is written exactly once, nothing outside it; only
 *   elements inside [off, off + elements) of each tensor are read.
 *   Assumes: WG work-items per group (reqd_work_group_size), the tile
 *   options below consistent (checked by #error), every index that is
 *   formed fits idx (the host sets IDX_LONG otherwise), the NDRange as
 *   above.
 *
 * Build options (#ifndef defaults = the generic GPU row of host/tiled.c):
 *   PASS     the pass (0, 1, 2);
 *   BM, BN   rows (output channels) x columns (N*P*Q, or Cg*R*S) of a
 *            work-group's tile;
 *   BK       reduction elements per local-memory chunk;
 *   TM, TN   rows x columns of one work-item's register tile (4 or 8);
 *   IDX_LONG 64-bit index arithmetic.
 *
 * How: the work-group walks its reduction range in chunks of BK.  Each
 * chunk's A (BM x BK) and B (BK x BN) tiles are loaded cooperatively from
 * global memory along each operand's contiguous dimension (A's reduction
 * index; B's column index, except in backward-filter, where the
 * reduction runs along q of x: B_RED_FAST), zero-filled where an element
 * is absent, and stored into __local buffers (A transposed, so that both
 * tiles are read along their rows); two buffers alternate, and the global
 * loads of chunk i+1 are issued into registers before the FMAs of chunk i.
 * Every work-item then reads, per reduction step, TM/4 + TN/4 float4s
 * from local memory and does TM x TN FMAs into its register tile, with no
 * branch: the compute loop has one path.  The register tile is split in
 * float4 groups spread over the tile (rows tm*4 + u*BM*4/TM), so that the
 * local reads of a warp hit consecutive addresses and the stores along the
 * columns coalesce.  The work-group's GEMM description (the view, 30
 * numbers) lives in local memory, read where it is needed, so that the
 * register tile keeps its registers.
 *
 * Zero-filling makes absent*finite = 0, but absent*Inf = NaN: an output
 * that comes out NaN or Inf is summed again by its work-item, straight
 * from global memory and without the absent terms (exact, slow; only
 * then, so finite results cost one check).
 *
 * The three GEMMs (a "view", built per work-group by make_view): the
 * reduction index red = (ch*NR + tr)*NS + ts runs over NCH channels and an
 * NR x NS grid of taps; a column col = (cc*OHN + oh)*OWN + ow;
 *   A[m][red] = rows_src[a0 + m*a_m + ch*a_ch + tr*a_tr + ts*a_ts],
 *   B[red][col] = win_src[b0 + cc*b_cc + ch*b_ch + row*rowlen + cpos] with
 *     row = oh*c_h + c_h0 + tr*b_tr in [0, rows), cpos = ow*c_w + c_w0 +
 *     ts*b_ts in [0, cols), else absent;
 *   out[o0 + cc*o_cc + m*o_m + oh*o_h + ow*o_w].
 * Forward: m = k, ch = c, taps (r, s), cc = n, (oh, ow) = (p, q).
 * Backward-data, stride phase (fh, fw): the rows h = fh + sh*i and columns
 * v = fw + sw*j share their taps r = r0 + tr*rstep (rstep = sh/gcd(sh,dh),
 * likewise s), along which p falls by rstep*dh/sh: m = c, ch = kl, cc = n,
 * (oh, ow) = (i, j) - a dense stride-1 GEMM, the upsampled dy's zeros never
 * visited.  Backward-filter: m = k, ch = n, taps (p, q), cc = c, (oh, ow) =
 * (r, s) - the forward with the roles of (p, q) and (r, s), and of n and c,
 * exchanged.
 */
#ifndef BM
#define BM 64
#endif
#ifndef BN
#define BN 64
#endif
#ifndef BK
#define BK 8
#endif
#ifndef TM
#define TM 8
#endif
#ifndef TN
#define TN 8
#endif
#ifndef PASS
#define PASS 0
#endif
#if PASS == 2
#define B_RED_FAST /* x runs along the reduction (q), not the columns */
#endif

#define WG ((BM / TM) * (BN / TN))
#define LDA (BM + 4) /* padded rows: the transposed A stores avoid bank conflicts */
#define LDB (BN + 4)
#define A_LOADS (BM * BK / WG) /* A elements each work-item loads per chunk */
#define B_LOADS (BN * BK / WG)

#if (TM != 4 && TM != 8) || (TN != 4 && TN != 8) || BM % TM || BN % TN
#error "TM and TN must be 4 or 8 and divide BM and BN"
#endif
#if WG % BK || BM % (WG / BK) || (BM * BK) % WG
#error "A tile: WG must be a multiple of BK and WG/BK divide BM"
#endif
#if defined(B_RED_FAST) && (BN % (WG / BK) || (BN * BK) % WG)
#error "B tile (reduction fastest): WG/BK must divide BN"
#endif
#if !defined(B_RED_FAST) && (WG % BN || BK % (WG / BN))
#error "B tile (columns fastest): WG must be a multiple of BN and WG/BN divide BK"
#endif

#ifdef IDX_LONG
typedef long idx;
typedef ulong uidx;
#else
typedef int idx;
typedef uint uidx;
#endif

/* Every helper is inlined: the register tile and the loader's state are
 * arrays that must stay in registers, never a stack frame. */
#define INLINE static inline __attribute__((always_inline))

/* The layer, as host/tiled.h sends it (all longs: one layout on every
 * compiler). */
typedef struct tiled_geom {
    long n, c, h, w, k, p, q, r, s;
    long sh, sw, ph, pw, dh, dw, g;
    long splits;    /* backward-filter: reduction splits (dimension 2) */
    long split_len; /* backward-filter: reduction elements per split, a multiple of BK */
} tiled_geom;

/* One work-group's GEMM (see the header). */
typedef struct view {
    idx M, ncols, ohn, own;
    idx nr, ns, red_begin, red_end;
    idx a0, a_m, a_ch, a_tr, a_ts;
    idx b0, b_cc, b_ch, rowlen, b_tr, b_ts, rows, cols;
    idx c_h, c_h0, c_w, c_w0;
    idx o0, o_cc, o_m, o_h, o_w;
    idx d_ch, d_tr, d_ts; /* one chunk (BK reduction elements) as (ch, tr, ts) */
} view;

/* The view is the same for the whole work-group: it lives in local
 * memory, read where it is used, rather than in 30 registers that the
 * register tile needs. */
typedef __local view lview;

/* A position in the reduction. */
typedef struct red_pos {
    idx ch, tr, ts;
} red_pos;

/* Where one column of B starts. */
typedef struct col_src {
    idx off;        /* b0 + cc*b_cc */
    idx row0, cpos0;
    int ok;         /* col < ncols */
} col_src;

INLINE void view_forward(const tiled_geom *G, idx g, view *v)
{
    const idx Cg = G->c / G->g, Kg = G->k / G->g, HW = G->h * G->w, PQ = G->p * G->q;
    const idx RS = G->r * G->s;
    v->M = Kg, v->ncols = G->n * PQ, v->ohn = G->p, v->own = G->q;
    v->nr = G->r, v->ns = G->s, v->red_begin = 0, v->red_end = Cg * RS;
    v->a0 = g * Kg * Cg * RS, v->a_m = Cg * RS, v->a_ch = RS, v->a_tr = G->s, v->a_ts = 1;
    v->b0 = g * Cg * HW, v->b_cc = G->c * HW, v->b_ch = HW, v->rowlen = G->w;
    v->b_tr = G->dh, v->b_ts = G->dw, v->rows = G->h, v->cols = G->w;
    v->c_h = G->sh, v->c_h0 = -G->ph, v->c_w = G->sw, v->c_w0 = -G->pw;
    v->o0 = g * Kg * PQ, v->o_cc = G->k * PQ, v->o_m = PQ, v->o_h = G->q, v->o_w = 1;
}

INLINE idx gcd_idx(idx a, idx b)
{
    while (b) {
        const idx t = a % b;
        a = b;
        b = t;
    }
    return a;
}

/* The taps m < M (at m*d) of a stride phase whose base is `base`: the
 * first with (base - m*d) divisible by st, then every *step; *count of
 * them (0 if none). */
INLINE idx phase_taps(idx base, idx d, idx st, idx M, idx *step, idx *count)
{
    *step = st / gcd_idx(st, d);
    idx first = M;
    for (idx m = min(M, *step) - 1; m >= 0; m--)
        if ((base - m * d) % st == 0)
            first = m;
    *count = first < M ? (M - 1 - first) / *step + 1 : 0;
    return first;
}

INLINE void view_backward_data(const tiled_geom *G, idx g, idx phase, view *v)
{
    const idx Cg = G->c / G->g, Kg = G->k / G->g, HW = G->h * G->w, PQ = G->p * G->q;
    const idx RS = G->r * G->s, FW = min(G->sw, G->w);
    const idx fh = phase / FW, fw = phase % FW;
    idx rstep, sstep;
    const idx r0 = phase_taps(fh + G->ph, G->dh, G->sh, G->r, &rstep, &v->nr);
    const idx s0 = phase_taps(fw + G->pw, G->dw, G->sw, G->s, &sstep, &v->ns);
    v->M = Cg, v->ohn = (G->h - fh + G->sh - 1) / G->sh, v->own = (G->w - fw + G->sw - 1) / G->sw;
    v->ncols = G->n * v->ohn * v->own;
    v->red_begin = 0, v->red_end = Kg * v->nr * v->ns;
    v->a0 = g * Kg * Cg * RS + r0 * G->s + s0, v->a_m = RS, v->a_ch = Cg * RS;
    v->a_tr = rstep * G->s, v->a_ts = sstep;
    v->b0 = g * Kg * PQ, v->b_cc = G->k * PQ, v->b_ch = PQ, v->rowlen = G->q;
    /* from one tap to the next, p falls by rstep*dh/sh (exact) */
    v->b_tr = -(rstep * G->dh / G->sh), v->b_ts = -(sstep * G->dw / G->sw);
    v->rows = G->p, v->cols = G->q;
    v->c_h = 1, v->c_h0 = (fh + G->ph - r0 * G->dh) / G->sh;
    v->c_w = 1, v->c_w0 = (fw + G->pw - s0 * G->dw) / G->sw;
    v->o0 = g * Cg * HW + fh * G->w + fw, v->o_cc = G->c * HW, v->o_m = HW;
    v->o_h = G->sh * G->w, v->o_w = G->sw;
}

INLINE void view_backward_filter(const tiled_geom *G, idx g, idx split, view *v)
{
    const idx Cg = G->c / G->g, Kg = G->k / G->g, HW = G->h * G->w, PQ = G->p * G->q;
    const idx RS = G->r * G->s, NPQ = G->n * PQ;
    v->M = Kg, v->ncols = Cg * RS, v->ohn = G->r, v->own = G->s;
    v->nr = G->p, v->ns = G->q;
    v->red_begin = split * G->split_len, v->red_end = min(NPQ, v->red_begin + (idx)G->split_len);
    v->a0 = g * Kg * PQ, v->a_m = PQ, v->a_ch = G->k * PQ, v->a_tr = G->q, v->a_ts = 1;
    v->b0 = g * Cg * HW, v->b_cc = HW, v->b_ch = G->c * HW, v->rowlen = G->w;
    v->b_tr = G->sh, v->b_ts = G->sw, v->rows = G->h, v->cols = G->w;
    v->c_h = G->dh, v->c_h0 = -G->ph, v->c_w = G->dw, v->c_w0 = -G->pw;
    /* split partials go to their own copy of dw in the workspace */
    v->o0 = (G->splits > 1 ? split * G->k * Cg * RS : 0) + g * Kg * Cg * RS;
    v->o_cc = RS, v->o_m = Cg * RS, v->o_h = G->s, v->o_w = 1;
}

/* This work-group's group (dimension 1 = groups x row blocks). */
INLINE idx group_of(const tiled_geom *G)
{
    return get_group_id(1) / (get_num_groups(1) / G->g);
}

/* The view of this work-group's group g and dimension-2 index z. */
INLINE void make_view(const tiled_geom *G, idx g, idx z, view *v)
{
    if (PASS == 1)
        view_backward_data(G, g, z, v);
    else if (PASS == 2)
        view_backward_filter(G, g, z, v);
    else
        view_forward(G, g, v);
    const idx nt = v->nr * v->ns, dt = nt ? BK % nt : 0;
    v->d_ch = nt ? BK / nt : 0, v->d_tr = v->ns ? dt / v->ns : 0, v->d_ts = v->ns ? dt % v->ns : 0;
}

/* ---- the reduction walk ------------------------------------------------ */

INLINE red_pos red_at(const lview *v, idx red)
{
    red_pos p = {0, 0, 0};
    const idx nt = v->nr * v->ns;
    if (nt == 0)
        return p;
    p.ch = red / nt;
    const idx t = red - p.ch * nt;
    p.tr = t / v->ns;
    p.ts = t - p.tr * v->ns;
    return p;
}

/* red + 1 */
INLINE red_pos red_next(const lview *v, red_pos p)
{
    if (++p.ts == v->ns) {
        p.ts = 0;
        if (++p.tr == v->nr) {
            p.tr = 0;
            p.ch++;
        }
    }
    return p;
}

/* red + BK: each digit grows by less than its base, so one carry each */
INLINE red_pos red_chunk(const lview *v, red_pos p)
{
    p.ts += v->d_ts;
    p.tr += v->d_tr;
    p.ch += v->d_ch;
    if (p.ts >= v->ns) {
        p.ts -= v->ns;
        p.tr++;
    }
    if (p.tr >= v->nr) {
        p.tr -= v->nr;
        p.ch++;
    }
    return p;
}

INLINE col_src col_at(const lview *v, idx col)
{
    col_src c;
    c.ok = col < v->ncols;
    col = c.ok ? col : 0;
    const idx per = v->ohn * v->own, cc = col / per, t = col - cc * per;
    const idx oh = t / v->own, ow = t - oh * v->own;
    c.off = v->b0 + cc * v->b_cc;
    c.row0 = oh * v->c_h + v->c_h0;
    c.cpos0 = ow * v->c_w + v->c_w0;
    return c;
}

/* The output offset of column col (inside the GEMM). */
INLINE idx col_out(const lview *v, idx col)
{
    const idx per = v->ohn * v->own, cc = col / per, t = col - cc * per;
    const idx oh = t / v->own, ow = t - oh * v->own;
    return v->o0 + cc * v->o_cc + oh * v->o_h + ow * v->o_w;
}

/* Where B[red][col] is in win_src, or -1 where it is absent (padding,
 * a stride's inserted zero, past the reduction range or the columns). */
INLINE idx b_index(const lview *v, col_src c, red_pos p, idx red)
{
    const idx row = c.row0 + p.tr * v->b_tr, cpos = c.cpos0 + p.ts * v->b_ts;
    const int ok = c.ok && red < v->red_end && (uidx)row < (uidx)v->rows &&
                   (uidx)cpos < (uidx)v->cols;
    return ok ? c.off + p.ch * v->b_ch + row * v->rowlen + cpos : -1;
}

/* B[red][col], zero-filled where absent. */
INLINE float load_b(__global const float *src, const lview *v, col_src c, red_pos p, idx red)
{
    const idx i = b_index(v, c, p, red);
    return i >= 0 ? src[i] : 0.0f;
}

/* ---- one work-item's share of the loads ----------------------------------- */

/* What a work-item loads: A rows a_row + j*(WG/BK) at reduction row
 * a_kk; B (columns fastest) column b_col at rows b_kk + j, or (reduction
 * fastest) columns b_col + j*(WG/BK) at row a_kk. */
typedef struct loader {
    idx red;            /* reduction index of the chunk being loaded */
    red_pos pa;         /* its position at row a_kk */
    int a_kk;
    idx a_row;          /* first A row (global m) */
#ifdef B_RED_FAST
    col_src cb[B_LOADS];
#else
    red_pos pb;         /* position at row b_kk */
    int b_kk;
    col_src cb[1];
#endif
} loader;

INLINE loader loader_init(const lview *v, int t, idx m0, idx c0)
{
    loader L;
    L.red = v->red_begin;
    L.a_kk = t % BK;
    L.a_row = m0 + t / BK;
    L.pa = red_at(v, L.red + L.a_kk);
#ifdef B_RED_FAST
    #pragma unroll
    for (int j = 0; j < B_LOADS; j++)
        L.cb[j] = col_at(v, c0 + t / BK + j * (WG / BK));
#else
    L.b_kk = (t / BN) * B_LOADS;
    L.pb = red_at(v, L.red + L.b_kk);
    L.cb[0] = col_at(v, c0 + t % BN);
#endif
    return L;
}

/* The chunk at L->red into registers (ra: A, rb: B, absent elements 0),
 * then step L to the next chunk. */
INLINE void fetch(__global const float *asrc, __global const float *bsrc, const lview *v,
                  loader *L, float ra[A_LOADS], float rb[B_LOADS])
{
    const idx ra_red = L->red + L->a_kk;
    const idx aoff = v->a0 + L->pa.ch * v->a_ch + L->pa.tr * v->a_tr + L->pa.ts * v->a_ts;
    #pragma unroll
    for (int j = 0; j < A_LOADS; j++) {
        const idx m = L->a_row + j * (WG / BK);
        ra[j] = ra_red < v->red_end && m < v->M ? asrc[aoff + m * v->a_m] : 0.0f;
    }
#ifdef B_RED_FAST
    #pragma unroll
    for (int j = 0; j < B_LOADS; j++)
        rb[j] = load_b(bsrc, v, L->cb[j], L->pa, ra_red);
#else
    red_pos p = L->pb;
    #pragma unroll
    for (int j = 0; j < B_LOADS; j++) {
        rb[j] = load_b(bsrc, v, L->cb[0], p, L->red + L->b_kk + j);
        p = red_next(v, p);
    }
    L->pb = red_chunk(v, L->pb);
#endif
    L->pa = red_chunk(v, L->pa);
    L->red += BK;
}

/* Registers into one buffer pair: A transposed (as[kk][m]), B as is
 * (bs[kk][col]). */
INLINE void put(__local float *as, __local float *bs, const loader *L, int t,
                const float ra[A_LOADS], const float rb[B_LOADS])
{
    #pragma unroll
    for (int j = 0; j < A_LOADS; j++)
        as[L->a_kk * LDA + t / BK + j * (WG / BK)] = ra[j];
    #pragma unroll
    for (int j = 0; j < B_LOADS; j++)
#ifdef B_RED_FAST
        bs[L->a_kk * LDB + t / BK + j * (WG / BK)] = rb[j];
#else
        bs[(L->b_kk + j) * LDB + t % BN] = rb[j];
#endif
}

/* ---- the register tile ------------------------------------------------------ */

/* Row i of a work-item's tile (tm its row index): float4 groups spread
 * BM*4/TM apart.  Likewise columns. */
INLINE int tile_row(int tm, int i) { return (i / 4) * (BM * 4 / TM) + tm * 4 + i % 4; }
INLINE int tile_col(int tn, int j) { return (j / 4) * (BN * 4 / TN) + tn * 4 + j % 4; }

/* One chunk from local memory into acc[TM*TN]: TM/4 + TN/4 float4 reads
 * and TM*TN FMAs per reduction step, no branch. */
INLINE void compute(__local const float *as, __local const float *bs, int tm, int tn,
                    float acc[TM * TN])
{
    #pragma unroll
    for (int kk = 0; kk < BK; kk++) {
        float a[TM], b[TN];
        #pragma unroll
        for (int u = 0; u < TM / 4; u++)
            vstore4(*(__local const float4 *)(as + kk * LDA + tile_row(tm, 4 * u)), u, a);
        #pragma unroll
        for (int u = 0; u < TN / 4; u++)
            vstore4(*(__local const float4 *)(bs + kk * LDB + tile_col(tn, 4 * u)), u, b);
        #pragma unroll
        for (int i = 0; i < TM; i++)
            #pragma unroll
            for (int j = 0; j < TN; j++)
                acc[i * TN + j] = fma(a[i], b[j], acc[i * TN + j]);
    }
}

/* The work-group's reduction range into acc: two buffers, the next
 * chunk's global loads issued before the current chunk's FMAs, one
 * barrier a chunk. */
INLINE void run_chunks(__global const float *asrc, __global const float *bsrc, const lview *v,
                       __local float *as, __local float *bs, int t, idx m0, idx c0,
                       float acc[TM * TN])
{
    #pragma unroll
    for (int i = 0; i < TM * TN; i++)
        acc[i] = 0.0f;
    const idx chunks = (v->red_end - v->red_begin + BK - 1) / BK;
    if (chunks <= 0)
        return;
    const int tm = t / (BN / TN), tn = t % (BN / TN);
    loader L = loader_init(v, t, m0, c0);
    float ra[A_LOADS], rb[B_LOADS];
    fetch(asrc, bsrc, v, &L, ra, rb);
    put(as, bs, &L, t, ra, rb);
    barrier(CLK_LOCAL_MEM_FENCE);
    for (idx i = 0; i < chunks; i++) {
        const int cur = (int)(i & 1), more = i + 1 < chunks;
        if (more)
            fetch(asrc, bsrc, v, &L, ra, rb);
        compute(as + cur * BK * LDA, bs + cur * BK * LDB, tm, tn, acc);
        if (more)
            put(as + (1 - cur) * BK * LDA, bs + (1 - cur) * BK * LDB, &L, t, ra, rb);
        barrier(CLK_LOCAL_MEM_FENCE);
    }
}

/* ---- the exact form, for outputs that came out NaN or Inf ------------------- */

/* Output (m, col) of the GEMM as the reference sums it: only the products
 * whose B element is present.  Once NaN, a sum stays NaN. */
INLINE float exact_output(__global const float *asrc, __global const float *bsrc,
                          const lview *v, idx m, idx col)
{
    const col_src c = col_at(v, col);
    red_pos p = red_at(v, v->red_begin);
    float sum = 0.0f;
    for (idx red = v->red_begin; red < v->red_end && !isnan(sum); red++) {
        const idx i = b_index(v, c, p, red);
        if (i >= 0)
            sum = fma(asrc[v->a0 + m * v->a_m + p.ch * v->a_ch + p.tr * v->a_tr + p.ts * v->a_ts],
                      bsrc[i], sum);
        p = red_next(v, p);
    }
    return sum;
}

/* The output offset of column col of the tile, or -1 past the GEMM's
 * columns. */
INLINE idx tile_col_out(const lview *v, int tn, idx c0, int j)
{
    const idx col = c0 + tile_col(tn, j);
    return col < v->ncols ? col_out(v, col) : -1;
}

/* Store the tile's outputs inside the GEMM (adding to the old value when
 * beta), except those that came out NaN or Inf: those are returned as
 * bits i*TN + j for fix_tile. */
INLINE ulong store_tile(__global float *out, const lview *v, int beta, int t, idx m0, idx c0,
                        const float acc[TM * TN])
{
    const int tm = t / (BN / TN), tn = t % (BN / TN);
    idx co[TN];
    #pragma unroll
    for (int j = 0; j < TN; j++)
        co[j] = tile_col_out(v, tn, c0, j);
    ulong redo = 0;
    #pragma unroll
    for (int i = 0; i < TM; i++) {
        const idx m = m0 + tile_row(tm, i);
        #pragma unroll
        for (int j = 0; j < TN; j++) {
            if (m >= v->M || co[j] < 0)
                continue;
            if (!isfinite(acc[i * TN + j])) {
                redo |= (ulong)1 << (i * TN + j);
                continue;
            }
            __global float *o = out + co[j] + m * v->o_m;
            *o = beta ? *o + acc[i * TN + j] : acc[i * TN + j];
        }
    }
    return redo;
}

/* A stored output is exact: where no product had an Inf or NaN factor,
 * a zero-filled B element added exactly 0.  An output that came out NaN
 * or Inf may owe it to an absent element times an Inf or NaN, so it is
 * summed again without the absent terms (rare: only non-finite data). */
INLINE void fix_tile(__global const float *asrc, __global const float *bsrc, __global float *out,
                     const lview *v, int beta, int t, idx m0, idx c0, ulong redo)
{
    const int tm = t / (BN / TN), tn = t % (BN / TN);
    #pragma unroll 1
    for (int e = 0; e < TM * TN; e++) {
        if (!(redo >> e & 1))
            continue;
        const int i = e / TN, j = e % TN;
        const idx m = m0 + tile_row(tm, i), col = c0 + tile_col(tn, j);
        const float sum = exact_output(asrc, bsrc, v, m, col);
        __global float *o = out + col_out(v, col) + m * v->o_m;
        *o = beta ? *o + sum : sum;
    }
}

__kernel __attribute__((reqd_work_group_size(WG, 1, 1)))
void tiled_conv(__global const float *rows_src, long rows_off, __global const float *win_src,
                long win_off, __global float *out, long out_off, int beta, tiled_geom G)
{
    __local float4 as4[2 * BK * LDA / 4], bs4[2 * BK * LDB / 4];
    __local view lv;
    __local float *as = (__local float *)as4, *bs = (__local float *)bs4;
    const int t = get_local_id(0);
    const idx mblocks = (idx)get_num_groups(1) / (idx)G.g;
    const idx m0 = (get_group_id(1) % mblocks) * BM, c0 = (idx)get_group_id(0) * BN;
    view v;
    make_view(&G, group_of(&G), get_group_id(2), &v);
    if (c0 >= v.ncols)
        return; /* the whole work-group: a stride phase with fewer columns */
    if (t == 0)
        lv = v;
    barrier(CLK_LOCAL_MEM_FENCE);
    __global const float *asrc = rows_src + rows_off, *bsrc = win_src + win_off;
    float acc[TM * TN];
    run_chunks(asrc, bsrc, &lv, as, bs, t, m0, c0, acc);
    const ulong redo = store_tile(out + out_off, &lv, beta, t, m0, c0, acc);
    if (redo)
        fix_tile(asrc, bsrc, out + out_off, &lv, beta, t, m0, c0, redo);
}
