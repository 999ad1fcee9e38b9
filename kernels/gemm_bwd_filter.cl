/*
 * gemm_bwd_filter.cl - the GEMM backward-filter pass: an implicit GEMM
 *   dw[k][cl][r][s] = sum over n, p, q of
 *       x[n][g*Cg + cl][p*sh - ph + r*dh][q*sw - pw + s*dwl] * dy[n][k][p][q]
 * (g = k / Kg; rows M = Kg, columns Cg*R*S, reduction over N*P*Q) that reads
 * x, virtually padded (ph, pw at the top and left; the bottom and right
 * padding only set P and Q), and dy straight from the caller's buffers.
 * The layer comes as one `geom` argument (prelude.cl): x, dy and dw are
 * indexed through its element strides (NCHW or NHWC, KCRS or KRSC) and
 * stored as dt_t (DT), loaded as float, summed in fp32 (the workspace's
 * partial sums too) and rounded once when dw is stored.  COL1 says that
 * the columns of x and dy have element stride 1 (NCHW), so that the
 * transposing copy of dy uses 16-wide vector loads; without it the copy
 * goes element by element in dyT's order (for NHWC, k is contiguous in
 * dy: a plain copy).  Assumed: dy is dense by rows (its row stride is Q
 * times its column stride, true of both layouts).
 *
 * Layout of the work: the reduction is cut into `splits` ranges of output
 * rows (n, p); one work-group owns (split, group g, a block of BM filters k,
 * a block of CB channels cl, every r and s).  It walks its rows in chunks:
 * it copies the chunk's dy, transposed, into local memory (dyT[t][k], so
 * that BF_VW consecutive k are one vector), then each register tile -
 * BF_TN channels at one (r, s) times BF_TM vectors of BF_VW filters -
 * accumulates over the chunk:
 *     acc[j][i] += x[channel j][row][q] (one scalar) * dyT[row, q][k vector i]
 * Each x element is a scalar broadcast, each dy a vector load; padding is
 * never tested per element: for one s the in-range q form one interval,
 * and a row whose ih falls outside x is skipped whole.
 *
 * CONTRACT bwf_main
 *   For its (split, g, k block, channel block) the work-group adds the sum
 *   over the split's rows [split*rps, min(N*P, (split+1)*rps)) of the
 *   products above.  Between chunks the partial sums live in ws, laid out
 *   ws[split][g][cl][r][s][kl] (col = (cl*R + r)*S + s whatever dw's
 *   layout) with kl padded to Kgp (a multiple of
 *   BF_VW; the pad lanes are zero and never stored).  After the last chunk:
 *     direct != 0 (one split):  dw[k][cl][r][s] = (beta ? old : 0) + sum;
 *     direct == 0:              ws holds the split's partial sum for the
 *                               reduction kernel below.
 *   Never reads dw when beta == 0.  Global size: BF_LS work-items per
 *   work-group, splits*G*kblocks*cblocks work-groups, local size BF_LS;
 *   work-group id = ((split*G + g)*kblocks + kb)*cblocks + cb.
 *   dyT: local memory of CR*QL*BM floats (BM a multiple of BF_VW*BF_TM);
 *   a chunk is up to CR rows of one q segment of length QL (CR = 1 when
 *   QL < Q).  by_s selects the register tiles' columns (cols_of).  staged
 *   (with direct; KCRS dw only): the block's results gather in `stage`,
 *   CB*R*S*BM floats of local memory, and leave in whole dw rows.  The
 *   plan's numbers come as one bwf_blocking argument.
 *   Fixed summation order, no atomics: same bits run to run.
 *
 * CONTRACT bwf_reduce
 *   dw[g*Kg + kl][cl][r][s] = (beta ? old : 0) + sum_{sp < splits} ws[sp][g][col][kl]
 *   summed in split order; col = (cl*R + r)*S + s.  Global size: exactly
 *   G*Cg*R*S*(Kgp/BF_VW) work-items (items past it do nothing); each owns
 *   one column and BF_VW filters.
 *
 * Both: buffer offsets in elements (of dt_t; ws in floats).  Indices are idx: int,
 * or long with -DIDX_LONG, which the host sets when a tensor or the
 * workspace holds more than INT_MAX elements.
 *
 * Tunables: -D options with the defaults below (the generic row of the
 * host's tuning table, host/gemm_backward_filter.c); the host picks a row
 * per device and passes all of them.  The kernel's shape:
 *   BF_VW  lanes of the vector type over k (1, 2, 4, 8 or 16);
 *   BF_TM  k vectors per register tile;  BF_TN  channels per register tile;
 *   BF_LS  work-items per work-group.
 * The blocking and split policy, which the host reads from the same
 * options to size the launch (listed here so the row is complete):
 *   BF_BMAX   most filters per work-group (rounded up to BF_VW*BF_TM);
 *   BF_COLS   columns (channels x R x S) a work-group aims for;
 *   BF_CHUNK  reduction elements per chunk of dyT in local memory;
 *   BF_WPCU   work-groups per compute unit the splits aim for;
 *   BF_MINT   fewest reduction elements per split;
 *   BF_DOTWI  work-items per compute unit for gemm_bwd_filter_dot.cl.
 */
#ifndef BF_VW
#define BF_VW 4
#endif
#ifndef BF_TM
#define BF_TM 2
#endif
#ifndef BF_TN
#define BF_TN 4
#endif
#ifndef BF_LS
#define BF_LS 64
#endif
#ifndef BF_BMAX
#define BF_BMAX 64
#endif
#ifndef BF_COLS
#define BF_COLS 256
#endif
#ifndef BF_CHUNK
#define BF_CHUNK 32
#endif
#ifndef BF_WPCU
#define BF_WPCU 4
#endif
#ifndef BF_MINT
#define BF_MINT 256
#endif
#ifndef BF_DOTWI
#define BF_DOTWI 2048
#endif

/* idx, uidx: prelude.cl (IDX_LONG) */

#define BF_CAT_(a, b) a##b
#define BF_CAT(a, b) BF_CAT_(a, b)
#if BF_VW == 1
typedef float vec_t;
#else
typedef BF_CAT(float, BF_VW) vec_t;
#endif

/* The plan of a launch (host/gemm_backward_filter.c's kbwf_blocking, same
 * fields, same order): Kg padded, filters and channels per block, blocks,
 * rows per split, a chunk's rows and q segment. */
typedef struct bwf_blocking {
    long kgp, bm, cb, kblocks, cblocks, rps, cr, ql;
} bwf_blocking;

/* The geometry every function needs, read once from the arguments, with
 * the element strides of x (image, channel, row, column), dy (image,
 * filter, row, column) and dw (filter, channel, row, column). */
typedef struct bwf_geom {
    idx N, C, H, W, K, P, Q, R, S, Cg, Kg, Kgp;
    idx sh, sw, ph, pw, dh, dw;
    idx xn, xc, xr, xq, yn, yk, yr, yq, wk, wc, wr, ws;
} bwf_geom;

static bwf_geom bwf_geom_of(const geom *g, idx Kgp)
{
    const bwf_geom G = {g->n, g->c, g->h, g->w, g->k, g->p, g->q, g->r, g->s, g->cg, g->kg, Kgp,
                        g->sh, g->sw, g->ph, g->pw, g->dh, g->dw,
                        g->xs[0], g->xs[1], g->xs[2], g->xs[3],
                        g->ys[0], g->ys[1], g->ys[2], g->ys[3],
                        g->ws[0], g->ws[1], g->ws[2], g->ws[3]};
    return G;
}

/* The column strides of x and dy: the constant 1 under COL1 (vector
 * loads, and index arithmetic as for NCHW), else the layer's. */
#ifdef COL1
#define XQ(G) ((idx)1)
#define YQ(G) ((idx)1)
#else
#define XQ(G) ((G)->xq)
#define YQ(G) ((G)->yq)
#endif

/* In-register 16 x 16 transpose: four rounds of even/odd interleaving
 * (row i of a round takes the even lanes of rows 2i and 2i+1, row i+8 the
 * odd ones); each round rotates the row and column index bits by one. */
static void transpose16(float16 m[16])
{
#pragma unroll
    for (int round = 0; round < 4; round++) {
        float16 t[16];
#pragma unroll
        for (int i = 0; i < 8; i++) {
            t[i] = (float16)(m[2 * i].even, m[2 * i + 1].even);
            t[i + 8] = (float16)(m[2 * i].odd, m[2 * i + 1].odd);
        }
#pragma unroll
        for (int i = 0; i < 16; i++)
            m[i] = t[i];
    }
}

/* dyT[t*BM + kk] = src[kk*kstride + t*tstep] for t < len, kk < BM (zero
 * where k0 + kk >= Kg): one stretch of dy rows, transposed.  Under COL1
 * (tstep 1) full 16 x 16 blocks go through registers and the ragged end
 * is copied singly; else every element is copied in dyT's order.  Work-item
 * lid of the group's BF_LS (ITEM_FN: prelude.cl). */
ITEM_FN void pack_stretch(__local float *dyT, __global const dt_t *src, idx kstride, idx tstep,
                          idx len, idx BM, idx kvalid, idx lid)
{
#ifndef COL1
    for (idx e = lid; e < len * BM; e += BF_LS) {
        const idx t = e / BM, kk = e - t * BM;
        dyT[e] = kk < kvalid ? load_el(src, kk * kstride + t * tstep) : 0.0f;
    }
#else
    idx full = 0;
#if BF_VW == 16
    full = len / 16;
    const idx kbs = BM / 16;
    for (idx b = lid; b < full * kbs; b += BF_LS) {
        const idx tb = b / kbs, kb = b - tb * kbs;
        float16 m[16];
#pragma unroll
        for (int i = 0; i < 16; i++) {
            idx kk = kb * 16 + i;
            m[i] = kk < kvalid ? load_el16(src, kk * kstride + tb * 16) : (float16)0.0f;
        }
        transpose16(m);
        __local float16 *d = (__local float16 *)dyT + tb * 16 * kbs + kb;
#pragma unroll
        for (int i = 0; i < 16; i++)
            d[i * kbs] = m[i];
    }
    full *= 16;
#endif
    for (idx kk = lid; kk < BM; kk += BF_LS) {
        __local float *d = dyT + kk;
        if (kk < kvalid)
            for (idx t = full; t < len; t++)
                d[t * BM] = load_el(src, kk * kstride + t * tstep);
        else
            for (idx t = full; t < len; t++)
                d[t * BM] = 0.0f;
    }
#endif
}

/* Copy rows [row0, row0+nrows) x q in [qs, qs+ql) of dy for filters
 * k0 .. k0+BM-1 of group g into dyT[(ri*ql + qq)*BM + kk].  Rows of one
 * image follow each other in dy at its column stride (a chunk has ql == Q
 * or one row), so each image's rows form one stretch. */
static void pack_dy(__local float *dyT, __global const dt_t *dy, const bwf_geom *G, idx g,
                    idx k0, idx BM, idx row0, idx nrows, idx qs, idx ql)
{
    const idx kvalid = min(BM, G->Kg - k0), lid = get_local_id(0);
    for (idx row = row0; row < row0 + nrows;) {
        const idx n = row / G->P, p = row - n * G->P;
        const idx cnt = min(G->P - p, row0 + nrows - row);
        __global const dt_t *src =
            dy + n * G->yn + (g * G->Kg + k0) * G->yk + p * G->yr + qs * YQ(G);
        pack_stretch(dyT + (row - row0) * ql * BM, src, G->yk, YQ(G), cnt * ql, BM, kvalid, lid);
        row += cnt;
    }
}

/* The in-range q of column s within the segment [qs, qs+ql): those with
 * 0 <= q*sw - pw + s*dw < W, as the half-open interval [*qa, *qb). */
static void q_range(const bwf_geom *G, idx s, idx qs, idx ql, idx *qa, idx *qb)
{
    idx lo = G->pw - s * G->dw;           /* need q*sw >= lo */
    idx hi = G->W - 1 + G->pw - s * G->dw; /* need q*sw <= hi */
    idx a = lo <= 0 ? 0 : (lo + G->sw - 1) / G->sw;
    idx b = hi < 0 ? 0 : hi / G->sw + 1;
    *qa = max(a, qs);
    *qb = min(b, qs + ql);
}

/* The columns of one register tile: channel cl[j] (within the group) at
 * tap (r, s[j]); col[j] = (cl*R + r)*S + s its workspace column, dwo[j]
 * its element offset in a filter of dw.  Columns past the block repeat
 * its last column and are never saved. */
typedef struct bwf_cols {
    idx r, cl[BF_TN], s[BF_TN], col[BF_TN], dwo[BF_TN];
    int nvalid;
} bwf_cols;

/* acc[j] += x * dyT for column j's q in [qa, qb): the few q where only
 * some columns of the tile are in range. */
#define EDGE_COLUMN(j, qa, qb)                                                 \
    for (idx q = (qa); q < (qb); q++) {                                      \
        const vec_t xs = (vec_t)load_el(xg, xrow + off[j] + q * qst);         \
        __local const vec_t *d = dyT + (ri * ql + q - qs) * BMV + kv0;        \
        _Pragma("unroll") for (int i = 0; i < BF_TM; i++)                      \
            acc[j][i] = fma(xs, d[i], acc[j][i]);                              \
    }

/* acc[j][i] += x[off[j] + q*qst] * dp[(q - q0)*BMV + i] for q in [q0,
 * q0+len) (qst: x's element step from one q to the next), every column in
 * range: the inner loop, TN broadcasts and TM vector loads feeding TN*TM
 * fused multiply-adds. */
static void main_run(vec_t acc[BF_TN][BF_TM], __global const dt_t *xrow,
                     __local const vec_t *dp, const idx off[BF_TN], idx q0, idx len,
                     idx qst, idx BMV)
{
    __global const dt_t *xp[BF_TN];
#pragma unroll
    for (int j = 0; j < BF_TN; j++)
        xp[j] = xrow + (off[j] + q0 * qst);
    for (idx t = 0; t < len; t++) {
        vec_t dv[BF_TM];
#pragma unroll
        for (int i = 0; i < BF_TM; i++)
            dv[i] = dp[i];
#pragma unroll
        for (int j = 0; j < BF_TN; j++) {
            const vec_t xs = (vec_t)load_el(xp[j], t * qst);
#pragma unroll
            for (int i = 0; i < BF_TM; i++)
                acc[j][i] = fma(xs, dv[i], acc[j][i]);
        }
        dp += BMV;
    }
}

/* One register tile over one chunk (rows row0.. of the q segment [qs,
 * qs+ql)), filter vectors kv0.. of dyT.  Every q where all the tile's
 * columns read inside x runs in the main loop; the rest, per column. */
static void tile_chunk(vec_t acc[BF_TN][BF_TM], __global const dt_t *xg,
                       __local const vec_t *dyT, const bwf_geom *G, const bwf_cols *c,
                       idx kv0, idx BMV, idx row0, idx nrows, idx qs, idx ql)
{
    const idx qst = G->sw * XQ(G);
    idx qa[BF_TN], qb[BF_TN], off[BF_TN], m0 = qs, m1 = qs + ql;
#pragma unroll
    for (int j = 0; j < BF_TN; j++) {
        q_range(G, c->s[j], qs, ql, &qa[j], &qb[j]);
        m0 = max(m0, qa[j]);
        m1 = min(m1, qb[j]);
        /* x[...][q*sw - pw + s*dw] of channel cl, from the row's start */
        off[j] = c->cl[j] * G->xc + (c->s[j] * G->dw - G->pw) * XQ(G);
    }
    m1 = max(m0, m1);
    int edges = 0; /* channel tiles at one s have none */
#pragma unroll
    for (int j = 0; j < BF_TN; j++)
        edges |= qa[j] != m0 || qb[j] != m1;
    idx n = row0 / G->P, p = row0 - n * G->P - 1;
    for (idx ri = 0; ri < nrows; ri++) {
        if (++p == G->P) { /* (n, p) of row0 + ri, without a division */
            p = 0;
            n++;
        }
        const idx ih = p * G->sh - G->ph + c->r * G->dh;
        if (ih < 0 || ih >= G->H)
            continue;
        const idx xrow = n * G->xn + ih * G->xr; /* channel 0 of the group */
        if (m0 < m1)
            main_run(acc, xg + xrow, dyT + (ri * ql + m0 - qs) * BMV + kv0, off, m0, m1 - m0,
                     qst, BMV);
        if (!edges)
            continue;
#pragma unroll
        for (int j = 0; j < BF_TN; j++) {
            EDGE_COLUMN(j, qa[j], min(qb[j], m0))
            EDGE_COLUMN(j, max(qa[j], m1), qb[j])
        }
    }
}

/* Scatter one accumulator vector to dw[k] at element offset dwo within
 * each filter (k = kbase + lane < Kg).  Out of line on PoCL (COLD_FN):
 * inlined, its unrolled lanes were written out once per vector of
 * save_acc's tile, the largest part of run_tile's code (PERFORMANCE.md,
 * the cold start). */
COLD_FN void store_dw(__global dt_t *dw, vec_t v, const bwf_geom *G, idx g, idx kbase,
                     idx dwo, int beta)
{
    float lanes[BF_VW];
#if BF_VW == 1
    lanes[0] = v;
#else
    BF_CAT(vstore, BF_VW)(v, 0, lanes);
#endif
    const idx ks = G->wk;
    const int nk = (int)min((idx)BF_VW, G->Kg - kbase);
    __global dt_t *d = dw + (g * G->Kg + kbase) * ks + dwo;
    if (nk == BF_VW) { /* the usual case, with constant trip counts */
        if (beta)
            for (int l = 0; l < BF_VW; l++)
                store_el(d, l * ks, load_el(d, l * ks) + lanes[l]);
        else
            for (int l = 0; l < BF_VW; l++)
                store_el(d, l * ks, lanes[l]);
        return;
    }
    for (int l = 0; l < nk; l++)
        store_el(d, l * ks, beta ? load_el(d, l * ks) + lanes[l] : lanes[l]);
}

/* What one work-group owns: its split's rows, filter and channel blocks. */
typedef struct bwf_block {
    idx g, k0, c0, nch, rbeg, rend, BM, BMV, ktiles;
    __global const dt_t *xg;    /* x at channel 0 of group g */
    __global float *wsg;        /* the block's partial sums: column 0, filter k0 */
} bwf_block;

static bwf_block block_of(const bwf_geom *G, __global const dt_t *x, __global float *ws,
                          idx BM, idx CB, idx kblocks, idx cblocks, idx rps)
{
    bwf_block b;
    idx wg = get_group_id(0);
    const idx cb = wg % cblocks;
    wg /= cblocks;
    const idx kb = wg % kblocks;
    wg /= kblocks;
    const idx groups = G->C / G->Cg, split = wg / groups;
    b.g = wg % groups;
    b.k0 = kb * BM;
    b.c0 = cb * CB;
    b.nch = min(CB, G->Cg - b.c0);
    b.rbeg = split * rps;
    b.rend = min(G->N * G->P, b.rbeg + rps);
    b.BM = BM;
    b.BMV = BM / BF_VW;
    b.ktiles = b.BMV / BF_TM;
    b.xg = x + b.g * G->Cg * G->xc;
    b.wsg = ws + (split * groups + b.g) * G->Cg * G->R * G->S * G->Kgp + b.k0;
    return b;
}

/* A tile's partial sums from the workspace (zero on the first chunk). */
static void load_acc(vec_t acc[BF_TN][BF_TM], const bwf_block *b, const bwf_geom *G,
                     const idx col[BF_TN], idx kt, int first)
{
#pragma unroll
    for (int j = 0; j < BF_TN; j++) {
        __global const vec_t *src = (__global const vec_t *)(b->wsg + col[j] * G->Kgp);
#pragma unroll
        for (int i = 0; i < BF_TM; i++) {
            if (first)
                acc[j][i] = 0.0f;
            else
                acc[j][i] = src[kt * BF_TM + i];
        }
    }
}

/* Where a lone split's finished sums go: scattered straight into dw (one
 * store per lane), or into `stage`, local memory holding the block's
 * results as stage[column][filter] (pitch BM), which copy_out transposes
 * into whole dw rows.  Scattered stores to dw miss the cache once per
 * line: on a CPU that halved the speed of layers with short reductions. */
typedef struct bwf_sink {
    __global dt_t *dw;
    __local vec_t *stage;
    int staged, beta;
} bwf_sink;

/* Back to the workspace, or after the last chunk of a lone split to the
 * sink.  Constant indices only, so acc stays in registers.  Columns past
 * nvalid are skipped, not broken out of: a loop with an exit depending on
 * nvalid cannot be fully unrolled (clang warns, and PoCL then prints
 * "1 warning generated." on the application's stderr). */
static void save_acc(vec_t acc[BF_TN][BF_TM], const bwf_block *b, const bwf_geom *G,
                     const bwf_cols *c, idx kt, int to_dw, const bwf_sink *o)
{
    const idx col0 = b->c0 * G->R * G->S; /* the block's first dw column */
#pragma unroll
    for (int j = 0; j < BF_TN; j++) {
        if (j >= c->nvalid)
            continue;
        __global vec_t *dst = (__global vec_t *)(b->wsg + c->col[j] * G->Kgp);
#pragma unroll
        for (int i = 0; i < BF_TM; i++) {
            const idx kl = (kt * BF_TM + i) * BF_VW;
            if (to_dw && o->staged)
                o->stage[((c->col[j] - col0) * b->BM + kl) / BF_VW] = acc[j][i];
            else if (to_dw)
                store_dw(o->dw, acc[j][i], G, b->g, b->k0 + kl, c->dwo[j], o->beta);
            else
                dst[kt * BF_TM + i] = acc[j][i];
        }
    }
}

/* dst[t] (+)= src[t] for t < len (never reading dst when beta == 0). */
static void put_row(__global dt_t *dst, const float *src, idx len, int beta)
{
    for (idx t = 0; t < len; t++)
        store_el(dst, t, beta ? load_el(dst, t) + src[t] : src[t]);
}

/* The staged block into dw: rows k0 + kl, columns c0*R*S onwards.  A
 * 16 x 16 piece at a time: 16 columns' filter vectors in, transposed, 16
 * row pieces out.  Staging needs BF_VW == 16 (then BM is a multiple of 16)
 * and a KCRS dw (whose columns col are consecutive elements).  Work-item
 * lid of the group's BF_LS (ITEM_FN: prelude.cl). */
ITEM_FN void copy_out(const bwf_block *b, const bwf_geom *G, const bwf_sink *o, idx lid)
{
    const idx RS = G->R * G->S, len = b->nch * RS;
    const idx kvalid = min(b->BM, G->Kg - b->k0), kv = b->BM / 16;
    __global dt_t *dst0 = o->dw + (b->g * G->Kg + b->k0) * G->wk + b->c0 * RS;
    __local const float *st = (__local const float *)o->stage;
    for (idx piece = lid; piece < ((len + 15) / 16) * kv; piece += BF_LS) {
        const idx c16 = (piece / kv) * 16, k16 = (piece % kv) * 16;
        const idx nk = min((idx)16, kvalid - k16), nc = min((idx)16, len - c16);
        if (nk <= 0)
            continue;
        float16 m[16];
        for (int i = 0; i < 16; i++) /* column c16 + i; past the block: unused */
            m[i] = vload16(0, st + min(c16 + i, len - 1) * b->BM + k16);
        transpose16(m);
        for (int i = 0; i < nk; i++) {
            __global dt_t *d = dst0 + (k16 + i) * G->wk + c16;
            if (nc == 16) {
                store_el16(d, 0, o->beta ? m[i] + load_el16(d, 0) : m[i]);
            } else {
                float row[16];
                vstore16(m[i], 0, row);
                put_row(d, row, nc, o->beta);
            }
        }
    }
}

/* The columns of register tile u (the filter tile index taken out).
 * by_s == 0: BF_TN channels at one (r, s), the (r, s) inside the channel
 * tile.  by_s != 0 (few channels, e.g. conv1's 3): BF_TN consecutive (cl, s)
 * at one r, r inside.  Either way the tile's dw columns and x rows stay in
 * L1 across the taps that follow it. */
static bwf_cols cols_of(idx u, const bwf_block *b, const bwf_geom *G, int by_s)
{
    bwf_cols c;
    const idx RS = G->R * G->S;
    idx first, span, rs = 0;
    if (by_s) {
        c.r = u % G->R;
        first = (u / G->R) * BF_TN;
        span = b->nch * G->S;
    } else {
        rs = u % RS;
        c.r = rs / G->S;
        first = (u / RS) * BF_TN;
        span = b->nch;
    }
    c.nvalid = (int)min((idx)BF_TN, span - first);
#pragma unroll
    for (int j = 0; j < BF_TN; j++) {
        const idx v = min(first + j, span - 1);
        c.cl[j] = b->c0 + (by_s ? v / G->S : v);
        c.s[j] = by_s ? v - (v / G->S) * G->S : rs - c.r * G->S;
        c.col[j] = (c.cl[j] * G->R + c.r) * G->S + c.s[j];
        c.dwo[j] = c.cl[j] * G->wc + c.r * G->wr + c.s[j] * G->ws;
    }
    return c;
}

/* Register tile `tile` of the block over one chunk (ITEM_FN, prelude.cl:
 * the kernel around it only packs dy and loops). */
ITEM_FN void run_tile(idx tile, const bwf_block *b, const bwf_geom *G, __local const vec_t *dyT,
                      int by_s, idx row0, idx nrows, idx qs, idx ql, int first, int to_dw,
                      const bwf_sink *o)
{
    const idx kt = tile % b->ktiles;
    const bwf_cols c = cols_of(tile / b->ktiles, b, G, by_s);
    vec_t acc[BF_TN][BF_TM];
    load_acc(acc, b, G, c.col, kt, first);
    tile_chunk(acc, b->xg, dyT, G, &c, kt * BF_TM, b->BMV, row0, nrows, qs, ql);
    save_acc(acc, b, G, &c, kt, to_dw, o);
}

__kernel void bwf_main(__global const dt_t *x, long x_off, __global const dt_t *dy,
                       long dy_off, __global float *ws, __global dt_t *dw, long dw_off,
                       int beta, int direct, int by_s, __local vec_t *dyT,
                       int staged, __local vec_t *stage, geom gm, bwf_blocking pl)
{
    const bwf_geom G = bwf_geom_of(&gm, pl.kgp);
    const idx CR = pl.cr, QL = pl.ql;
    const bwf_block b = block_of(&G, x + x_off, ws, pl.bm, pl.cb, pl.kblocks, pl.cblocks, pl.rps);
    const bwf_sink o = {dw + dw_off, stage, staged && direct, beta};
    const idx ctiles = by_s ? G.R * ((b.nch * G.S + BF_TN - 1) / BF_TN)
                              : G.R * G.S * ((b.nch + BF_TN - 1) / BF_TN);
    const idx ntiles = ctiles * b.ktiles;
    for (idx row0 = b.rbeg; row0 < b.rend; row0 += CR) {
        const idx nrows = min((idx)CR, b.rend - row0);
        for (idx qs = 0; qs < G.Q; qs += QL) {
            const idx ql = min((idx)QL, G.Q - qs);
            const int first = row0 == b.rbeg && qs == 0;
            const int last = row0 + CR >= b.rend && qs + QL >= G.Q;
            barrier(CLK_LOCAL_MEM_FENCE);
            pack_dy((__local float *)dyT, dy + dy_off, &G, b.g, b.k0, b.BM, row0, nrows, qs, ql);
            barrier(CLK_LOCAL_MEM_FENCE);
            for (idx tile = get_local_id(0); tile < ntiles; tile += BF_LS)
                run_tile(tile, &b, &G, dyT, by_s, row0, nrows, qs, ql, first, last && direct,
                         &o);
        }
    }
    if (o.staged) {
        barrier(CLK_LOCAL_MEM_FENCE);
        copy_out(&b, &G, &o, get_local_id(0));
    }
}

__kernel void bwf_reduce(__global const float *ws, __global dt_t *dw, long dw_off, int beta,
                         geom gm, long Kgp, long splits)
{
    const bwf_geom G = bwf_geom_of(&gm, Kgp);
    const idx groups = gm.g, R = G.R, S = G.S;
    const idx kvs = Kgp / BF_VW, cols = G.Cg * R * S;
    const idx id = get_global_id(0);
    if (id >= groups * cols * kvs)
        return;
    const idx kv = id % kvs, t = id / kvs;
    const idx col = t % cols, g = t / cols;
    const idx slab = groups * cols * Kgp;
    __global const float *src = ws + (g * cols + col) * Kgp + kv * BF_VW;
    vec_t sum = 0.0f;
    for (idx sp = 0; sp < splits; sp++)
        sum += *(__global const vec_t *)(src + sp * slab);
    /* col = (cl*R + r)*S + s, at its place in a filter of dw */
    const idx cl = col / (R * S), r = col / S - cl * R, s = col - col / S * S;
    store_dw(dw + dw_off, sum, &G, g, kv * BF_VW, cl * G.wc + r * G.wr + s * G.ws, beta);
}
