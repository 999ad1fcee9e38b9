/*
 * tiled_conv.cl - the TILED algorithm: all three passes of a convolution
 * layer as one local-memory tiled implicit GEMM, shaped for GPUs.
 *
 * CONTRACT tiled_conv
 *   Computes, for the pass PASS (build option: 0 forward, 1 backward-data,
 *   2 backward-filter; see "The three GEMMs" below), out = (beta ? old : 0)
 *   + A . B over one work-group's tile (forward with EPILOGUE: out =
 *   epi_apply(E, A . B, old, bias, k), prelude.cl), where
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
 *   g the group of the output channel, Cg = C/G, Kg = K/G; the indices
 *   are logical (n, c, h, w) etc.: every tensor is addressed through its
 *   element strides in G.l (prelude.cl's geom: NCHW or NHWC x, y, dy, dx;
 *   KCRS or KRSC w, dw), ph and pw the top and left padding (the bottom
 *   and right padding only sized P and Q, so no kernel index uses it).
 *   Storage: every tensor of type dt_t (DT, prelude.cl), read through
 *   load_el into fp32 as it is loaded from global memory, summed in fp32,
 *   rounded once as it is stored (store_el); with PARTIALS out is fp32.
 *   Parameters: rows_src/rows_off (A), win_src/win_off (B), out/out_off,
 *   all offsets in elements; beta: 1 adds to the old output, 0 overwrites
 *   it without reading it (it may hold NaN); G: the layer (tiled_geom,
 *   passed by value, mirrored by host/tiled.h; sh and sw the strides the
 *   library reduces to at most the padded extent, desc.c).  With EPILOGUE
 *   (forward only) also E (prelude.cl's epi, by value) and bias/bias_off
 *   (K elements, read only when E.has_bias; any valid buffer otherwise):
 *   the epilogue replaces beta (old is read only when E.beta != 0), and is
 *   applied once per element, to the whole sum (forward never splits its
 *   reduction).
 *   NDRange: dimension 0 = column blocks x WG work-items (WG = (BM/TM) x
 *   (BN/TN), the reqd_work_group_size), dimension 1 = G x row blocks,
 *   dimension 2 = stride phases (backward-data, FH x FW with FH =
 *   min(sh,H), FW = min(sw,W)), reduction splits (backward-filter,
 *   G.splits) or 1.  A work-group whose columns all lie past its GEMM's
 *   (a small stride phase) returns at once; a phase without taps writes
 *   0 (beta 0) or leaves old + 0.
 *   Backward-filter with G.splits > 1 (built with PARTIALS) writes split
 *   z's partial sums in fp32, always overwriting (beta is 0 then), to
 *   out + z*K*Cg*R*S in dw's layout (its strides); split_reduce.cl adds
 *   them up in split order and rounds once to dw's type.
 *   Non-finite values: a product with an absent B element is never part
 *   of a sum (as in the float64 reference), so an Inf or NaN weight that
 *   meets only padding leaves the output finite.  Bitwise deterministic:
 *   fixed summation order, no atomics.  Every output element of the tile
 *   inside the tensor is written exactly once, nothing outside it; only
 *   elements inside [off, off + elements) of each tensor are read.
 *   TF32 (build option, only when the caller allowed it: issue 8): every
 *   product takes its two factors rounded to TF32 (10-bit mantissa, round
 *   to nearest with ties away from zero, as cvt.rna.tf32.f32; Inf and NaN
 *   unchanged), summed in fp32 through m16n8k8 matrix steps; the outputs
 *   that come out NaN or Inf are summed again in exact fp32 as below.
 *   Deterministic on a device (one order of operations), but not the fp32
 *   bits: ||out - ref|| / ||ref|| stays within 5e-3 of the exact result.
 *   Assumes: WG work-items per group (reqd_work_group_size), the tile
 *   options below consistent (checked by #error), every index that is
 *   formed fits idx (the host sets IDX_LONG otherwise), the NDRange as
 *   above; with TF32 and not TF32_EMULATE, an NVIDIA device of compute
 *   capability 8.0 or later (inline PTX mma.sync).
 *
 * Build options (#ifndef defaults = the generic GPU row of host/tiled.c):
 *   PASS     the pass (0, 1, 2);
 *   BM, BN   rows (output channels) x columns (N*P*Q, or Cg*R*S) of a
 *            work-group's tile;
 *   BK       reduction elements per local-memory chunk;
 *   TM, TN   rows x columns of one work-item's register tile (4 or 8);
 *   IDX_LONG 64-bit index arithmetic;
 *   TF32     TF32 operands through mma.sync.aligned.m16n8k8.row.col.f32.
 *            tf32.tf32.f32 (inline PTX), in warps of 32 work-items;
 *   TF32_EMULATE  with TF32: the same m16n8k8 steps done portably (any
 *            OpenCL device: the test suite runs them on PoCL);
 *   DT       the storage type (prelude.cl);
 *   IMG_STRIDED  B's image (x, or dy in backward-data) has a column (w, q)
 *            stride other than 1 (NHWC): without it the unit stride of
 *            NCHW is compiled in, so the plain path's index arithmetic is
 *            the same as before layouts existed;
 *   EPILOGUE forward: the fused epilogue in the store step (extra
 *            arguments E, bias, bias_off);
 *   PARTIALS out is the fp32 workspace of split partial sums.
 *
 * How: the work-group walks its reduction range in chunks of BK.  Each
 * chunk's A (BM x BK) and B (BK x BN) tiles are loaded cooperatively from
 * global memory along each operand's contiguous dimension (A's reduction
 * index; B's column index, except in backward-filter, where the
 * reduction runs along q of x: B_RED_FAST; contiguous in NCHW / KCRS: NHWC
 * and KRSC put the channels innermost, where these loads are strided -
 * right, but not coalesced), converted to fp32 (load_el), zero-filled
 * where an element is absent, and stored into __local buffers (A
 * transposed, so that both tiles are read along their rows); two buffers
 * alternate, and the global loads of chunk i+1 are issued into registers
 * before the FMAs of chunk i.
 * Every work-item then reads, per reduction step, TM/4 + TN/4 float4s
 * from local memory and does TM x TN FMAs into its register tile, with no
 * branch: the compute loop has one path.  The register tile is split in
 * float4 groups spread over the tile (rows tm*4 + u*BM*4/TM), so that the
 * local reads of a warp hit consecutive addresses and the stores along the
 * columns coalesce.  The work-group's GEMM description (the view, 35
 * numbers) lives in local memory, read where it is needed, so that the
 * register tile keeps its registers.
 *
 * TF32: the tile is cut into warp tiles of 8*TM x 4*TN, each warp of 32
 * work-items (lane = t % 32, g = lane / 4, q = lane % 4) computing
 * TM/2 x TN/2 m16n8k8 tiles per 8 reduction steps.  The register tile
 * holds the accumulators in mma's layout: element r of tile (mi, ni) is
 * D[g + 8*(r/2)][2*q + r%2], its rows i = 2*mi + r/2 and columns j =
 * 2*ni + r%2 of the TM x TN tile (tile_row, tile_col), so that the stores
 * and the NaN/Inf pass are the fp32 path's.  The operands are rounded to
 * TF32 once, as they are stored into local memory, and each lane reads
 * its fragments from there: a[r] = A[g + 8*(r%2)][q + 4*(r/2)] and b[r] =
 * B[q + 4*r][g] (PTX ISA, "Matrix Fragments for mma.m16n8k8", .tf32).
 * With inline PTX one mma.sync does a tile (B's fragments loaded first,
 * then A's one tile row at a time, so that one A fragment is live: 128
 * registers, two work-groups of 256 per SM).  TF32_EMULATE does the same
 * step from the same fragment loads: each lane scatters its a and b into
 * the warp's exchange area in local memory by that layout (whole 16 x 8
 * and 8 x 8 matrices), and after a barrier computes its own four D
 * elements from rows and columns other lanes wrote, in fp32 FMAs over k
 * in order (TF32 products are exact in fp32; the hardware's order of the
 * sum is not specified, so the two may differ in the last bits of the
 * sum, never in the rounding of the operands).  A fragment loaded, or an
 * accumulator stored, against the layout gives wrong sums, which the
 * tests see on PoCL; that the emulation's reading of the layout is the
 * hardware's (the PTX ISA's tables) only a GPU can confirm.
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
 *   B[red][col] = win_src[b0 + cc*b_cc + ch*b_ch + row*b_h + cpos*b_w] with
 *     row = oh*c_h + c_h0 + tr*b_tr in [0, rows), cpos = ow*c_w + c_w0 +
 *     ts*b_ts in [0, cols), else absent;
 *   out[o0 + cc*o_cc + m*o_m + oh*o_h + ow*o_w];
 * every coefficient a product of the tensors' element strides (G.l.xs,
 * ys, ws), so one view serves every layout.
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
#if defined(EPILOGUE) && (PASS != 0 || defined(PARTIALS))
#error "EPILOGUE is the forward's store step (forward never writes split partials)"
#endif

#define WG ((BM / TM) * (BN / TN))
#ifdef TF32
/* padded rows: a warp's fragment loads (rows q, q+4 x 8 columns g) hit 32
 * distinct banks when a row is 8 banks past a multiple of 32 */
#define LDPAD 8
#else
#define LDPAD 4 /* padded rows: the transposed A stores avoid bank conflicts */
#endif
#define LDA (BM + LDPAD)
#define LDB (BN + LDPAD)
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

#ifdef TF32
#define MT (TM / 2)  /* a warp's m16n8k8 tiles: MT x NT */
#define NT (TN / 2)
#define WM (16 * MT) /* a warp's tile */
#define WN (8 * NT)
#define WARPS (WG / 32)
#if WG % 32 || BM % WM || BN % WN || BK % 8
#error "TF32: WG must be a multiple of 32, BM of 8*TM, BN of 4*TN and BK of 8"
#endif
#endif
#ifdef TF32_EMULATE
#ifndef TF32
#error "TF32_EMULATE emulates the mma steps of TF32"
#endif
/* a warp's exchange area: MT A tiles of 16 x 8, then NT B tiles of 8 x 8 */
#define XCHG_WARP (MT * 128 + NT * 64)
/* two areas alternate when a chunk holds several mma steps (see compute) */
#define XCHG_AREAS (BK / 8 > 1 ? 2 : 1)
#define XCHG_FLOATS (XCHG_AREAS * WARPS * XCHG_WARP)
#endif

/* idx, uidx: prelude.cl (IDX_LONG) */

/* Every helper is inlined: the register tile and the loader's state are
 * arrays that must stay in registers, never a stack frame. */
#define INLINE static inline __attribute__((always_inline))

/* The layer, as host/tiled.h sends it (all longs: one layout on every
 * compiler): prelude.cl's geom (sizes, padding, element strides), then the
 * split of backward-filter's reduction. */
typedef struct tiled_geom {
    geom l;
    long splits;    /* backward-filter: reduction splits (dimension 2) */
    long split_len; /* backward-filter: reduction elements per split, a multiple of BK */
} tiled_geom;

/* What the output holds: the tensor's storage type, or the fp32 split
 * partials (PARTIALS). */
#ifdef PARTIALS
typedef float out_t;
INLINE float out_load(__global const float *o, idx i) { return o[i]; }
INLINE void out_store(__global float *o, idx i, float v) { o[i] = v; }
#else
typedef dt_t out_t;
INLINE float out_load(__global const dt_t *o, idx i) { return load_el(o, i); }
INLINE void out_store(__global dt_t *o, idx i, float v) { store_el(o, i, v); }
#endif

/* One work-group's GEMM (see the header). */
typedef struct view {
    idx M, ncols, ohn, own;
    idx nr, ns, red_begin, red_end;
    idx a0, a_m, a_ch, a_tr, a_ts;
    idx b0, b_cc, b_ch, b_h, b_w, b_tr, b_ts, rows, cols;
    idx c_h, c_h0, c_w, c_w0;
    idx o0, o_cc, o_m, o_h, o_w;
    idx k0;               /* forward: the group's first output channel (the bias index) */
    idx d_ch, d_tr, d_ts; /* one chunk (BK reduction elements) as (ch, tr, ts) */
} view;

/* The view is the same for the whole work-group: it lives in local
 * memory, read where it is used, rather than in 35 registers that the
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

/* The element strides of x (and dx), y (and dy) and w (and dw) along
 * dimension d, as idx (prelude.cl's geom holds them as long). */
INLINE idx xst(const geom *l, int d) { return (idx)l->xs[d]; }
INLINE idx yst(const geom *l, int d) { return (idx)l->ys[d]; }
INLINE idx wst(const geom *l, int d) { return (idx)l->ws[d]; }

/* A's, B's and the output's coefficients (see the header). */
INLINE void view_a(view *v, idx a0, idx m, idx ch, idx tr, idx ts)
{
    v->a0 = a0, v->a_m = m, v->a_ch = ch, v->a_tr = tr, v->a_ts = ts;
}
INLINE void view_b(view *v, idx b0, idx cc, idx ch, idx h, idx w)
{
    v->b0 = b0, v->b_cc = cc, v->b_ch = ch, v->b_h = h, v->b_w = w;
}
INLINE void view_out(view *v, idx o0, idx cc, idx m, idx h, idx w)
{
    v->o0 = o0, v->o_cc = cc, v->o_m = m, v->o_h = h, v->o_w = w;
}

INLINE void view_forward(const tiled_geom *G, idx g, view *v)
{
    const geom *l = &G->l;
    const idx Cg = l->cg, Kg = l->kg;
    v->M = Kg, v->ncols = l->n * l->p * l->q, v->ohn = l->p, v->own = l->q;
    v->nr = l->r, v->ns = l->s, v->red_begin = 0, v->red_end = Cg * l->r * l->s;
    /* A = w[k][c][r][s], B = x[n][c][h][w], out = y[n][k][p][q] */
    view_a(v, g * Kg * wst(l, 0), wst(l, 0), wst(l, 1), wst(l, 2), wst(l, 3));
    view_b(v, g * Cg * xst(l, 1), xst(l, 0), xst(l, 1), xst(l, 2), xst(l, 3));
    v->b_tr = l->dh, v->b_ts = l->dw, v->rows = l->h, v->cols = l->w;
    v->c_h = l->sh, v->c_h0 = -l->ph, v->c_w = l->sw, v->c_w0 = -l->pw;
    view_out(v, g * Kg * yst(l, 1), yst(l, 0), yst(l, 1), yst(l, 2), yst(l, 3));
    v->k0 = g * Kg;
}

/* The taps m < M (at m*d) of a stride phase whose base is `base`: the
 * first (phase_first_tap, prelude.cl), then every *step; *count of them
 * (0 if none). */
INLINE idx phase_taps(idx base, idx d, idx st, idx M, idx *step, idx *count)
{
    const idx first = phase_first_tap(base, d, st, M, step);
    *count = first < M ? (M - 1 - first) / *step + 1 : 0;
    return first;
}

/* The phase's base is the top / left padding only: the end padding sized
 * P and Q, and the taps that would reach past them are cut by rows, cols. */
INLINE void view_backward_data(const tiled_geom *G, idx g, idx phase, view *v)
{
    const geom *l = &G->l;
    const idx Cg = l->cg, Kg = l->kg, FW = min((idx)l->sw, (idx)l->w);
    const idx fh = phase / FW, fw = phase % FW;
    idx rstep, sstep;
    const idx r0 = phase_taps(fh + l->ph, l->dh, l->sh, l->r, &rstep, &v->nr);
    const idx s0 = phase_taps(fw + l->pw, l->dw, l->sw, l->s, &sstep, &v->ns);
    v->M = Cg, v->ohn = (l->h - fh + l->sh - 1) / l->sh, v->own = (l->w - fw + l->sw - 1) / l->sw;
    v->ncols = l->n * v->ohn * v->own;
    v->red_begin = 0, v->red_end = Kg * v->nr * v->ns;
    /* A = w[kl][c][r0 + tr*rstep][s0 + ts*sstep], B = dy[n][kl][p][q] */
    view_a(v, g * Kg * wst(l, 0) + r0 * wst(l, 2) + s0 * wst(l, 3), wst(l, 1), wst(l, 0),
           rstep * wst(l, 2), sstep * wst(l, 3));
    view_b(v, g * Kg * yst(l, 1), yst(l, 0), yst(l, 1), yst(l, 2), yst(l, 3));
    /* from one tap to the next, p falls by rstep*dh/sh (exact) */
    v->b_tr = -(rstep * l->dh / l->sh), v->b_ts = -(sstep * l->dw / l->sw);
    v->rows = l->p, v->cols = l->q;
    v->c_h = 1, v->c_h0 = (fh + l->ph - r0 * l->dh) / l->sh;
    v->c_w = 1, v->c_w0 = (fw + l->pw - s0 * l->dw) / l->sw;
    /* out = dx[n][c][fh + i*sh][fw + j*sw] */
    view_out(v, g * Cg * xst(l, 1) + fh * xst(l, 2) + fw * xst(l, 3), xst(l, 0), xst(l, 1),
             l->sh * xst(l, 2), l->sw * xst(l, 3));
    v->k0 = 0;
}

INLINE void view_backward_filter(const tiled_geom *G, idx g, idx split, view *v)
{
    const geom *l = &G->l;
    const idx Cg = l->cg, Kg = l->kg, NPQ = l->n * l->p * l->q;
    v->M = Kg, v->ncols = Cg * l->r * l->s, v->ohn = l->r, v->own = l->s;
    v->nr = l->p, v->ns = l->q;
    v->red_begin = split * G->split_len, v->red_end = min(NPQ, v->red_begin + (idx)G->split_len);
    /* A = dy[n][k][p][q] (ch = n), B = x[n][c][h][w] (cc = c, ch = n) */
    view_a(v, g * Kg * yst(l, 1), yst(l, 1), yst(l, 0), yst(l, 2), yst(l, 3));
    view_b(v, g * Cg * xst(l, 1), xst(l, 1), xst(l, 0), xst(l, 2), xst(l, 3));
    v->b_tr = l->sh, v->b_ts = l->sw, v->rows = l->h, v->cols = l->w;
    v->c_h = l->dh, v->c_h0 = -l->ph, v->c_w = l->dw, v->c_w0 = -l->pw;
    /* out = dw[k][c][r][s]; split partials go to their own copy of dw (its
     * strides) in the workspace */
    view_out(v, (G->splits > 1 ? split * l->k * Cg * l->r * l->s : 0) + g * Kg * wst(l, 0),
             wst(l, 1), wst(l, 0), wst(l, 2), wst(l, 3));
    v->k0 = 0;
}

/* This work-group's group (dimension 1 = groups x row blocks). */
INLINE idx group_of(const tiled_geom *G)
{
    return get_group_id(1) / (get_num_groups(1) / G->l.g);
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

/* Column cpos of an image row: its offset, cpos * b_w, where the build
 * says the stride is not 1 (IMG_STRIDED, NHWC); else the unit stride of
 * NCHW, known at compile time so that the plain path reads no b_w. */
INLINE idx b_col(const lview *v, idx cpos)
{
#ifdef IMG_STRIDED
    return cpos * v->b_w;
#else
    return cpos;
#endif
}

/* Where B[red][col] is in win_src, or -1 where it is absent (padding,
 * a stride's inserted zero, past the reduction range or the columns). */
INLINE idx b_index(const lview *v, col_src c, red_pos p, idx red)
{
    const idx row = c.row0 + p.tr * v->b_tr, cpos = c.cpos0 + p.ts * v->b_ts;
    const int ok = c.ok && red < v->red_end && (uidx)row < (uidx)v->rows &&
                   (uidx)cpos < (uidx)v->cols;
    return ok ? c.off + p.ch * v->b_ch + row * v->b_h + b_col(v, cpos) : -1;
}

/* B[red][col] as fp32, zero-filled where absent. */
INLINE float load_b(__global const dt_t *src, const lview *v, col_src c, red_pos p, idx red)
{
    const idx i = b_index(v, c, p, red);
    return i >= 0 ? load_el(src, i) : 0.0f;
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
INLINE void fetch(__global const dt_t *asrc, __global const dt_t *bsrc, const lview *v,
                  loader *L, float ra[A_LOADS], float rb[B_LOADS])
{
    const idx ra_red = L->red + L->a_kk;
    const idx aoff = v->a0 + L->pa.ch * v->a_ch + L->pa.tr * v->a_tr + L->pa.ts * v->a_ts;
    #pragma unroll
    for (int j = 0; j < A_LOADS; j++) {
        const idx m = L->a_row + j * (WG / BK);
        ra[j] = ra_red < v->red_end && m < v->M ? load_el(asrc, aoff + m * v->a_m) : 0.0f;
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

#ifdef TF32
/* x rounded to TF32 as cvt.rna.tf32.f32 does: to nearest on the 10-bit
 * mantissa, ties away from zero (half a unit of the 13 dropped bits added
 * to the magnitude, then dropped; a carry into the exponent is the right
 * rounding up, to Inf past the largest float).  Inf and NaN pass as they
 * are: the carry would turn a NaN into an Inf, or wrap into the sign. */
INLINE float tf32_round(float x)
{
    const uint u = as_uint(x);
    return (u & 0x7f800000u) == 0x7f800000u ? x : as_float((u + 0x1000u) & 0xffffe000u);
}
#endif

/* A factor as it enters the products.  TF32 rounds it here, once per
 * chunk, rather than at every fragment load (each element is read by
 * several warps). */
INLINE float factor(float x)
{
#ifdef TF32
    return tf32_round(x);
#else
    return x;
#endif
}

/* Registers into one buffer pair: A transposed (as[kk][m]), B as is
 * (bs[kk][col]). */
INLINE void put(__local float *as, __local float *bs, const loader *L, int t,
                const float ra[A_LOADS], const float rb[B_LOADS])
{
    #pragma unroll
    for (int j = 0; j < A_LOADS; j++)
        as[L->a_kk * LDA + t / BK + j * (WG / BK)] = factor(ra[j]);
    #pragma unroll
    for (int j = 0; j < B_LOADS; j++)
#ifdef B_RED_FAST
        bs[L->a_kk * LDB + t / BK + j * (WG / BK)] = factor(rb[j]);
#else
        bs[(L->b_kk + j) * LDB + t % BN] = factor(rb[j]);
#endif
}

/* ---- the register tile ------------------------------------------------------ */

#ifndef TF32
/* Row i of work-item t's tile: float4 groups spread BM*4/TM apart, the
 * work-item's row index t / (BN/TN) inside a group.  Likewise columns. */
INLINE int tile_row(int t, int i) { return (i / 4) * (BM * 4 / TM) + t / (BN / TN) * 4 + i % 4; }
INLINE int tile_col(int t, int j) { return (j / 4) * (BN * 4 / TN) + t % (BN / TN) * 4 + j % 4; }

/* One chunk from local memory into acc[TM*TN]: TM/4 + TN/4 float4 reads
 * and TM*TN FMAs per reduction step, no branch.  (xchg: TF32_EMULATE's.) */
INLINE void compute(__local const float *as, __local const float *bs, __local float *xchg, int t,
                    float acc[TM * TN])
{
    #pragma unroll
    for (int kk = 0; kk < BK; kk++) {
        float a[TM], b[TN];
        #pragma unroll
        for (int u = 0; u < TM / 4; u++)
            vstore4(*(__local const float4 *)(as + kk * LDA + tile_row(t, 4 * u)), u, a);
        #pragma unroll
        for (int u = 0; u < TN / 4; u++)
            vstore4(*(__local const float4 *)(bs + kk * LDB + tile_col(t, 4 * u)), u, b);
        #pragma unroll
        for (int i = 0; i < TM; i++)
            #pragma unroll
            for (int j = 0; j < TN; j++)
                acc[i * TN + j] = fma(a[i], b[j], acc[i * TN + j]);
    }
}
#else
/* ---- TF32: m16n8k8 steps in mma's fragment layout (see the header) ---------- */

/* The first row and column of work-item t's warp tile. */
INLINE int warp_row0(int t) { return t / 32 / (BN / WN) * WM; }
INLINE int warp_col0(int t) { return t / 32 % (BN / WN) * WN; }

/* Row i = 2*mi + h of work-item t's tile: row g + 8*h of the warp's mma
 * tile mi.  Column j = 2*ni + e: column 2*q + e of mma tile ni. */
INLINE int tile_row(int t, int i) { return warp_row0(t) + (i / 2) * 16 + (i % 2) * 8 + t % 32 / 4; }
INLINE int tile_col(int t, int j) { return warp_col0(t) + (j / 2) * 8 + t % 4 * 2 + j % 2; }

/* Where element r of mma tile (mi, ni)'s D fragment lives in acc. */
INLINE int acc_at(int mi, int ni, int r) { return (2 * mi + r / 2) * TN + 2 * ni + r % 2; }

/* Where work-item t's fragments start in a chunk's buffers, for the 8
 * reduction steps from k0: every fragment element is a constant offset
 * from these (row q of the steps; A's row g, B's column g). */
INLINE __local const float *frag_a_base(__local const float *as, int t, int k0)
{
    return as + (k0 + t % 4) * LDA + tile_row(t, 0);
}
INLINE __local const float *frag_b_base(__local const float *bs, int t, int k0)
{
    return bs + (k0 + t % 4) * LDB + warp_col0(t) + t % 32 / 4;
}

/* The A fragment of mma tile mi: a[r] = A[row g + 8*(r%2)][step q + 4*(r/2)]. */
INLINE void frag_a(__local const float *ap, int mi, uint a[4])
{
    #pragma unroll
    for (int r = 0; r < 4; r++)
        a[r] = as_uint(ap[4 * (r / 2) * LDA + mi * 16 + 8 * (r % 2)]);
}

/* The B fragment of mma tile ni: b[r] = B[step q + 4*r][column g]. */
INLINE void frag_b(__local const float *bp, int ni, uint b[2])
{
    #pragma unroll
    for (int r = 0; r < 2; r++)
        b[r] = as_uint(bp[4 * r * LDB + ni * 8]);
}

/* Tile (mi, ni)'s D fragment out of acc, and back. */
INLINE void acc_get(const float acc[TM * TN], int mi, int ni, float d[4])
{
    #pragma unroll
    for (int r = 0; r < 4; r++)
        d[r] = acc[acc_at(mi, ni, r)];
}
INLINE void acc_put(float acc[TM * TN], int mi, int ni, const float d[4])
{
    #pragma unroll
    for (int r = 0; r < 4; r++)
        acc[acc_at(mi, ni, r)] = d[r];
}

#ifndef TF32_EMULATE
/* d = A.B + d on the tensor cores, one m16n8k8 tile across the warp. */
INLINE void mma_tile(float d[4], const uint a[4], const uint b[2])
{
    __asm__ volatile("mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 "
                     "{%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};"
                     : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
                     : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
}

/* One mma step of the warp's MT x NT tiles: B's fragments, then A's one
 * tile row at a time, so that a single A fragment is live (the register
 * budget of two work-groups per SM). */
INLINE void mma_step(__local const float *ap, __local const float *bp, __local float *xw,
                     int lane, float acc[TM * TN])
{
    uint b[NT][2];
    #pragma unroll
    for (int ni = 0; ni < NT; ni++)
        frag_b(bp, ni, b[ni]);
    #pragma unroll
    for (int mi = 0; mi < MT; mi++) {
        uint a[4];
        frag_a(ap, mi, a);
        #pragma unroll
        for (int ni = 0; ni < NT; ni++) {
            float d[4];
            acc_get(acc, mi, ni, d);
            mma_tile(d, a, b[ni]);
            acc_put(acc, mi, ni, d);
        }
    }
}
#else
/* The fragments of the warp, exchanged: lane `lane` writes its a and b
 * into whole matrices in xw by the fragment layout (A tiles 16 x 8 row by
 * row, then B tiles 8 x 8 column by column), and the barrier makes every
 * lane's part visible to the others. */
INLINE void exchange_frags(__local float *xw, int lane, const uint a[MT][4], const uint b[NT][2])
{
    const int g = lane / 4, q = lane % 4;
    #pragma unroll
    for (int mi = 0; mi < MT; mi++)
        #pragma unroll
        for (int r = 0; r < 4; r++)
            xw[mi * 128 + (g + 8 * (r % 2)) * 8 + q + 4 * (r / 2)] = as_float(a[mi][r]);
    #pragma unroll
    for (int ni = 0; ni < NT; ni++)
        #pragma unroll
        for (int r = 0; r < 2; r++)
            xw[MT * 128 + ni * 64 + g * 8 + q + 4 * r] = as_float(b[ni][r]);
    barrier(CLK_LOCAL_MEM_FENCE);
}

/* d = A.B + d as mma.sync computes it, for lane `lane` alone: its D
 * elements D[g + 8*(r/2)][2*q + r%2] from the exchanged tiles xa (A) and
 * xb (B), the products in fp32 FMAs over k in order (a TF32 product is
 * exact in fp32). */
INLINE void mma_tile_emulated(float d[4], __local const float *xa, __local const float *xb,
                              int lane)
{
    const int g = lane / 4, q = lane % 4;
    #pragma unroll
    for (int r = 0; r < 4; r++) {
        __local const float *arow = xa + (g + 8 * (r / 2)) * 8, *bcol = xb + (2 * q + r % 2) * 8;
        float s = d[r];
        #pragma unroll
        for (int k = 0; k < 8; k++)
            s = fma(arow[k], bcol[k], s);
        d[r] = s;
    }
}

/* The same step, emulated: every fragment of the warp (the same loads as
 * mma_step's) through the exchange area xw, then each lane's part of
 * every tile from there. */
INLINE void mma_step(__local const float *ap, __local const float *bp, __local float *xw,
                     int lane, float acc[TM * TN])
{
    uint a[MT][4], b[NT][2];
    #pragma unroll
    for (int mi = 0; mi < MT; mi++)
        frag_a(ap, mi, a[mi]);
    #pragma unroll
    for (int ni = 0; ni < NT; ni++)
        frag_b(bp, ni, b[ni]);
    exchange_frags(xw, lane, a, b);
    #pragma unroll
    for (int mi = 0; mi < MT; mi++)
        #pragma unroll
        for (int ni = 0; ni < NT; ni++) {
            float d[4];
            acc_get(acc, mi, ni, d);
            mma_tile_emulated(d, xw + mi * 128, xw + MT * 128 + ni * 64, lane);
            acc_put(acc, mi, ni, d);
        }
}
#endif

/* One chunk from local memory into acc: BK/8 mma steps.  TF32_EMULATE's
 * exchange areas alternate between steps, so that the barrier after a
 * step's exchange also orders the reads of the step before it against
 * the writes of the step after (an area is written again two steps
 * later, or in the next chunk, past run_chunks' barrier). */
INLINE void compute(__local const float *as, __local const float *bs, __local float *xchg, int t,
                    float acc[TM * TN])
{
    #pragma unroll
    for (int ks = 0; ks < BK / 8; ks++) {
#ifdef TF32_EMULATE
        __local float *xw = xchg + ((ks % XCHG_AREAS) * WARPS + t / 32) * XCHG_WARP;
#else
        __local float *xw = xchg; /* NULL, unused */
#endif
        mma_step(frag_a_base(as, t, 8 * ks), frag_b_base(bs, t, 8 * ks), xw, t % 32, acc);
    }
}
#endif

/* The work-group's reduction range into acc: two buffers, the next
 * chunk's global loads issued before the current chunk's FMAs, one
 * barrier a chunk. */
INLINE void run_chunks(__global const dt_t *asrc, __global const dt_t *bsrc, const lview *v,
                       __local float *as, __local float *bs, __local float *xchg, int t, idx m0,
                       idx c0, float acc[TM * TN])
{
    #pragma unroll
    for (int i = 0; i < TM * TN; i++)
        acc[i] = 0.0f;
    const idx chunks = (v->red_end - v->red_begin + BK - 1) / BK;
    if (chunks <= 0)
        return;
    loader L = loader_init(v, t, m0, c0);
    float ra[A_LOADS], rb[B_LOADS];
    fetch(asrc, bsrc, v, &L, ra, rb);
    put(as, bs, &L, t, ra, rb);
    barrier(CLK_LOCAL_MEM_FENCE);
    for (idx i = 0; i < chunks; i++) {
        const int cur = (int)(i & 1), more = i + 1 < chunks;
        if (more)
            fetch(asrc, bsrc, v, &L, ra, rb);
        compute(as + cur * BK * LDA, bs + cur * BK * LDB, xchg, t, acc);
        if (more)
            put(as + (1 - cur) * BK * LDA, bs + (1 - cur) * BK * LDB, &L, t, ra, rb);
        barrier(CLK_LOCAL_MEM_FENCE);
    }
}

/* ---- the exact form, for outputs that came out NaN or Inf ------------------- */

/* Output (m, col) of the GEMM as the reference sums it: only the products
 * whose B element is present.  Once NaN, a sum stays NaN. */
INLINE float exact_output(__global const dt_t *asrc, __global const dt_t *bsrc,
                          const lview *v, idx m, idx col)
{
    const col_src c = col_at(v, col);
    red_pos p = red_at(v, v->red_begin);
    float sum = 0.0f;
    for (idx red = v->red_begin; red < v->red_end && !isnan(sum); red++) {
        const idx i = b_index(v, c, p, red);
        if (i >= 0)
            sum = fma(load_el(asrc, v->a0 + m * v->a_m + p.ch * v->a_ch + p.tr * v->a_tr +
                                        p.ts * v->a_ts),
                      load_el(bsrc, i), sum);
        p = red_next(v, p);
    }
    return sum;
}

/* The output offset of column col of the tile, or -1 past the GEMM's
 * columns. */
INLINE idx tile_col_out(const lview *v, int t, idx c0, int j)
{
    const idx col = c0 + tile_col(t, j);
    return col < v->ncols ? col_out(v, col) : -1;
}

/* Where and how the outputs go: the output (the pass's tensor, or the
 * split partials), beta, and with EPILOGUE the forward's epilogue and
 * bias (prelude.cl's epi_apply). */
typedef struct sink {
    __global out_t *out;
    int beta;
#ifdef EPILOGUE
    epi e;
    __global const dt_t *bias;
#endif
} sink;

/* Output element o, of GEMM row m, from its sum: once, rounded once. */
INLINE void sink_put(const sink *s, const lview *v, idx o, idx m, float sum)
{
#ifdef EPILOGUE
    out_store(s->out, o, epi_apply(&s->e, sum, s->out, o, s->bias, v->k0 + m));
#else
    out_store(s->out, o, s->beta ? out_load(s->out, o) + sum : sum);
#endif
}

/* Store the tile's outputs inside the GEMM, except those that came out
 * NaN or Inf (before any epilogue): those are returned as bits i*TN + j
 * for fix_tile. */
INLINE ulong store_tile(const sink *s, const lview *v, int t, idx m0, idx c0,
                        const float acc[TM * TN])
{
    idx co[TN];
    #pragma unroll
    for (int j = 0; j < TN; j++)
        co[j] = tile_col_out(v, t, c0, j);
    ulong redo = 0;
    #pragma unroll
    for (int i = 0; i < TM; i++) {
        const idx m = m0 + tile_row(t, i);
        #pragma unroll
        for (int j = 0; j < TN; j++) {
            if (m >= v->M || co[j] < 0)
                continue;
            if (!isfinite(acc[i * TN + j])) {
                redo |= (ulong)1 << (i * TN + j);
                continue;
            }
            sink_put(s, v, co[j] + m * v->o_m, m, acc[i * TN + j]);
        }
    }
    return redo;
}

/* A stored output is exact: where no product had an Inf or NaN factor,
 * a zero-filled B element added exactly 0.  An output that came out NaN
 * or Inf may owe it to an absent element times an Inf or NaN, so it is
 * summed again without the absent terms (rare: only non-finite data). */
INLINE void fix_tile(__global const dt_t *asrc, __global const dt_t *bsrc, const sink *s,
                     const lview *v, int t, idx m0, idx c0, ulong redo)
{
    #pragma unroll 1
    for (int e = 0; e < TM * TN; e++) {
        if (!(redo >> e & 1))
            continue;
        const int i = e / TN, j = e % TN;
        const idx m = m0 + tile_row(t, i), col = c0 + tile_col(t, j);
        sink_put(s, v, col_out(v, col) + m * v->o_m, m, exact_output(asrc, bsrc, v, m, col));
    }
}

__kernel __attribute__((reqd_work_group_size(WG, 1, 1)))
void tiled_conv(__global const dt_t *rows_src, long rows_off, __global const dt_t *win_src,
                long win_off, __global out_t *out, long out_off, int beta, tiled_geom G
#ifdef EPILOGUE
                , epi E, __global const dt_t *bias, long bias_off
#endif
                )
{
    __local float4 as4[2 * BK * LDA / 4], bs4[2 * BK * LDB / 4];
    __local view lv;
    __local float *as = (__local float *)as4, *bs = (__local float *)bs4;
#ifdef TF32_EMULATE
    __local float xchg[XCHG_FLOATS];
#else
    __local float *xchg = 0; /* only the emulated mma exchanges fragments */
#endif
    const int t = get_local_id(0);
    const idx mblocks = (idx)get_num_groups(1) / (idx)G.l.g;
    const idx m0 = (get_group_id(1) % mblocks) * BM, c0 = (idx)get_group_id(0) * BN;
    view v;
    make_view(&G, group_of(&G), get_group_id(2), &v);
    if (c0 >= v.ncols)
        return; /* the whole work-group: a stride phase with fewer columns */
    if (t == 0)
        lv = v;
    barrier(CLK_LOCAL_MEM_FENCE);
    __global const dt_t *asrc = rows_src + rows_off, *bsrc = win_src + win_off;
    float acc[TM * TN];
    run_chunks(asrc, bsrc, &lv, as, bs, xchg, t, m0, c0, acc);
#ifdef EPILOGUE
    const sink s = {out + out_off, beta, E, bias + bias_off};
#else
    const sink s = {out + out_off, beta};
#endif
    const ulong redo = store_tile(&s, &lv, t, m0, c0, acc);
    if (redo)
        fix_tile(asrc, bsrc, &s, &lv, t, m0, c0, redo);
}
