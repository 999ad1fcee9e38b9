/* WINOGRAD: 3x3, stride-1, dilation-1, one-group layers by Winograd's
 * minimal filtering F(2x2, 3x3) or F(4x4, 3x3), chosen per layer and pass
 * (kernels/winograd.cl has the contract and the matrices).  Forward and
 * backward-data are one core (backward-data is the forward convolution of
 * dy with the filter turned 180 degrees, K and C swapped, padding 2 -
 * pad); backward-filter is its adjoint with the same input transform.
 *
 * A call runs, in order on the queue:
 *   forward / backward-data: the filter transform U (AL*AL planes of
 *   C_in x C_out, in panels of the GEMM's TK rows), then per chunk of tile
 *   rows the input transform V, AL*AL GEMMs M = U^T V and the output
 *   transform with the epilogue (or beta) in its store;
 *   backward-filter: per chunk the transforms of x and dy and AL*AL GEMMs
 *   adding into M (K x C per plane), then the filter-gradient transform
 *   into dw (beta there).
 * Chunks keep the workspace (fp32, the context's scratch) near
 * WINO_CHUNK_BYTES besides U however large the batch, and what the GEMM
 * reads fresh from the transform before it leaves the caches.
 *
 * Non-finite values follow the reference's rule (README): the output
 * transforms (y, dx, dw) re-sum an output whose Winograd sum is Inf or
 * NaN over its real terms, as DIRECT does.  AUTO takes it where
 * winograd_auto_ok says it is faster; a named request runs every pass on
 * any device. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "winograd.h"

/* The GEMM's register tile (kernels/winograd.cl): TK rows x TP vectors
 * of VW columns, WG work-items per group: gemm_flat's CPU shape. */
#ifndef WINO_TK
#define WINO_TK 8
#endif
#ifndef WINO_TP
#define WINO_TP 2
#endif
#ifndef WINO_VW
#define WINO_VW 16
#endif
#define WINO_TT (WINO_TP * WINO_VW)
#ifndef WINO_WG
#define WINO_WG 8
#endif
/* Transformed inputs and GEMM results of one chunk of tiles, about. */
#ifndef WINO_CHUNK_BYTES
#define WINO_CHUNK_BYTES ((size_t)16 << 20)
#endif

static _Thread_local int forced_wm;
static _Thread_local size_t forced_chunk;

int winograd_force_wm(int wm)
{
    const int old = forced_wm;
    forced_wm = wm == 2 || wm == 4 ? wm : 0;
    return old;
}

size_t winograd_force_chunk_bytes(size_t bytes)
{
    const size_t old = forced_chunk;
    forced_chunk = bytes;
    return old;
}

static int64_t cdiv(int64_t a, int64_t b) { return (a + b - 1) / b; }
static int64_t rup(int64_t a, int64_t b) { return cdiv(a, b) * b; }

/* a*b+c saturating at SIZE_MAX (a refused workspace, never a wrap) */
static size_t mad_sat(size_t a, size_t b, size_t c)
{
    size_t p;
    if (mul_size(a, b, &p) != CLCONV_OK || p > SIZE_MAX - c)
        return SIZE_MAX;
    return p + c;
}

/* One call's plan, as a forward convolution of `in` (ci channels, ih x iw)
 * to `out` (co channels, oh x ow), input row of output row p: p - top. */
typedef struct wplan {
    clconv_pass pass;
    int wm, al, a2, vt;
    int64_t n, ci, co, ih, iw, oh, ow, top, left;
    int64_t th, tw, rows;       /* tile rows, columns per image; tile rows of all images */
    int64_t cop;                /* GEMM rows: output channels (bwd-filter: K) padded to TK */
    int64_t cip;                /* bwd-filter: C padded to TT (the GEMM's columns) */
    int64_t rc, nchunks;        /* tile rows per chunk, chunks */
    int64_t pitch;              /* the workspace's tile stride (fwd) or count (bwd-filter) */
    int64_t su, sv, sm;         /* plane strides of U (bwd-filter: D), V and M */
    size_t u_off, v_off, m_off, floats;
} wplan;

/* F(2x2, 3x3) or F(4x4, 3x3) for a layer: the one of smaller estimated
 * time, GEMM FLOP at 400 GFLOP/s plus the workspace traffic (each
 * transformed filter, input and product written once and read once) at
 * 20 GB/s, the rates measured on the development machine (2-core AVX-512
 * EPYC, PoCL 3.1).  F(4x4) takes 4x fewer multiplications than the
 * definition, F(2x2) 2.25x, but 36 planes instead of 16: the filter
 * transform is larger, and tiles of 4 waste more of a small image (a 7x7
 * output is two 4x4 tiles a side, 8x8). */
static double wm_cost(const layer *L, clconv_pass pass, int wm)
{
    const int bwd = pass == CLCONV_PASS_BACKWARD_DATA;
    const int bwf = pass == CLCONV_PASS_BACKWARD_FILTER;
    const double a2 = (double)((wm + 2) * (wm + 2));
    const double ci = (double)(bwd ? L->k : L->c), co = (double)(bwd ? L->c : L->k);
    const double oh = (double)(bwd ? L->h : L->p), ow = (double)(bwd ? L->w : L->q);
    const double tiles = (double)L->n * ceil(oh / wm) * ceil(ow / wm);
    const double cop = ceil(co / WINO_TK) * WINO_TK;
    const double cols = bwf ? ceil(ci / WINO_TT) * WINO_TT : ceil(tiles / WINO_TT) * WINO_TT;
    const double gemm = 2 * a2 * cop * (bwf ? tiles : ci) * cols / 400e9;
    const double traffic = a2 * (ci * cop + ci * tiles + cop * tiles) * 8 / 20e9;
    return gemm + traffic;
}

/* Whether the algorithm may choose F(4x4, 3x3) for a pass: its error
 * (about 5x F(2x2)'s, up to 4e-6 against fp32's 1e-5 on the tests' random
 * layers) is held to what the tests measured: forward and backward-data
 * with sums of up to 512 channels.  Backward-filter's sum over every tile
 * of the batch grows with the batch (6e-6 at mb32 c64 56x56), so it keeps
 * F(2x2, 3x3). */
static int f4_allowed(const layer *L, clconv_pass pass)
{
    if (pass == CLCONV_PASS_BACKWARD_FILTER)
        return 0;
    return (pass == CLCONV_PASS_FORWARD ? L->c : L->k) <= 512;
}

/* The stride of a transform plane of n floats: 64-byte aligned, and an
 * odd number of cache lines, so that the planes of one tile (16 or 36
 * stores far apart) spread over the cache's sets instead of aliasing in
 * one (a power-of-two stride, 256 x 256 channels, made the F(4x4) filter
 * transform 5x slower). */
#ifndef WINO_PLANE_PAD
#define WINO_PLANE_PAD 16
#endif
static int64_t plane_stride(int64_t n)
{
    return rup(n, 32) + WINO_PLANE_PAD;
}

static void plan_of(const layer *L, clconv_pass pass, wplan *p)
{
    memset(p, 0, sizeof *p);
    p->pass = pass;
    p->wm = forced_wm        ? forced_wm
            : WINOGRAD_WM    ? WINOGRAD_WM
            : f4_allowed(L, pass) && wm_cost(L, pass, 4) < wm_cost(L, pass, 2) ? 4 : 2;
    p->al = p->wm + 2;
    p->a2 = p->al * p->al;
    p->vt = 8; /* the transforms' segment of tiles (VT) */
    p->n = L->n;
    if (pass == CLCONV_PASS_BACKWARD_DATA) {
        p->ci = L->k, p->co = L->c, p->ih = L->p, p->iw = L->q, p->oh = L->h, p->ow = L->w;
        p->top = 2 - L->ph, p->left = 2 - L->pw;
    } else {
        p->ci = L->c, p->co = L->k, p->ih = L->h, p->iw = L->w, p->oh = L->p, p->ow = L->q;
        p->top = L->ph, p->left = L->pw;
    }
    p->th = cdiv(p->oh, p->wm), p->tw = cdiv(p->ow, p->wm);
    p->rows = p->n * p->th;
    p->cop = rup(p->co, WINO_TK);
    const size_t a2 = (size_t)p->a2;
    /* bytes per tile of the chunk's workspace */
    const int bwf = pass == CLCONV_PASS_BACKWARD_FILTER;
    if (bwf)
        p->cip = rup(p->ci, WINO_TT);
    const size_t per_tile = mad_sat(4 * a2, (size_t)((bwf ? p->cip : p->ci) + p->cop), 0);
    const size_t per_row = mad_sat(per_tile, (size_t)p->tw, 0);
    int64_t rc = (int64_t)((forced_chunk ? forced_chunk : WINO_CHUNK_BYTES) / per_row);
    rc = rc < 1 ? 1 : rc;
    p->rc = rc < p->rows ? rc : p->rows;
    p->nchunks = cdiv(p->rows, p->rc);
    if (!bwf) {
        /* room for the GEMM's last column block and the output
         * transform's last segment */
        p->pitch = rup(p->rc * p->tw + p->vt, WINO_TT);
        /* U: a2 x C x Kp (panels of TK), V: a2 x C x pitch, M: a2 x Kp x pitch */
        p->su = plane_stride(p->ci * p->cop);
        p->sv = plane_stride(p->ci * p->pitch);
        p->sm = plane_stride(p->cop * p->pitch);
        p->u_off = 0;
        p->v_off = mad_sat(a2, (size_t)p->su, 0);
    } else {
        p->pitch = p->rc * p->tw;
        /* M: a2 x Kp x Cp, V: a2 x tiles x Cp, D (at u_off): a2 x tiles x Kp */
        p->sm = plane_stride(p->cop * p->cip);
        p->sv = plane_stride(p->pitch * p->cip);
        p->su = plane_stride(p->pitch * p->cop);
        p->m_off = 0;
        p->v_off = mad_sat(a2, (size_t)p->sm, 0);
        p->u_off = mad_sat(a2, (size_t)p->sv, p->v_off);
        p->floats = mad_sat(a2, (size_t)p->su, p->u_off);
        return;
    }
    p->m_off = mad_sat(a2, (size_t)p->sv, p->v_off);
    p->floats = mad_sat(a2, (size_t)p->sm, p->m_off);
}

static size_t plan_bytes(const wplan *p)
{
    return p->floats > SIZE_MAX / sizeof(float) ? SIZE_MAX : p->floats * sizeof(float);
}

/* ---- kernel arguments: kernels/winograd.cl's structs, field for field ---- */
typedef struct wdata {
    cl_long CH, IH, IW, TH, TW, top, left;
    cl_long is[4];
    cl_long r0, rn;
    cl_long sx, sc, st;
    cl_long elems;
} wdata;

typedef struct wfilt {
    cl_long CO, CI, COp, so, si, sr, ss, flip;
    cl_long sx;
} wfilt;

typedef struct wgemm {
    cl_long NX, L, MB, JB;
    cl_long sax, smb, sal, sbx, sbl, sox, som;
} wgemm;

typedef struct wout {
    cl_long CO, OH, OW, TH, TW, r0, rn;
    cl_long os[4];
    cl_long sx, sc;
} wout;

typedef struct wfout {
    cl_long K, C, sx, sk;
    cl_long ws[4];
} wfout;

enum { K_DATA, K_FILTER, K_GEMM, K_OUT, K_FOUT, K_COUNT };
static const char *const knames[K_COUNT] = {"wino_data", "wino_filter", "wino_gemm", "wino_out",
                                            "wino_filter_out"};

/* Every kernel of the pass from one program (one build), before anything
 * is enqueued: a failed build leaves the output as it was. */
static clconv_status get_kernels(clconv_ctx *ctx, const layer *L, const wplan *p,
                                 cl_kernel k[K_COUNT])
{
    char opts[160];
    const char *dt = layer_dt_option(L);
    /* COL1: the columns of x and y (dy, dx) are contiguous (NCHW) */
    const int col1 = L->xs[3] == 1 && L->ys[3] == 1;
    snprintf(opts, sizeof opts, "-DWM=%d -DTK=%d -DTP=%d -DVW=%d -DWG=%d%s%s%s%s", p->wm,
             WINO_TK, WINO_TP, WINO_VW, WINO_WG, col1 ? " -DCOL1" : "",
             layer_needs_long(L, p->floats) ? " -DIDX_LONG" : "", *dt ? " " : "", dt);
    for (int i = 0; i < K_COUNT; i++) {
        k[i] = NULL;
        if ((i == K_FILTER || i == K_OUT) && p->pass == CLCONV_PASS_BACKWARD_FILTER)
            continue;
        if (i == K_FOUT && p->pass != CLCONV_PASS_BACKWARD_FILTER)
            continue;
        TRY(ctx_kernel(ctx, "winograd", opts, knames[i], &k[i]));
    }
    return CLCONV_OK;
}

static void copy4(cl_long dst[4], const int64_t src[4])
{
    for (int i = 0; i < 4; i++)
        dst[i] = (cl_long)src[i];
}

/* The data transform of tile rows [r0, r0 + rn) of a tensor (ch
 * channels, ih x iw, strides is) into the workspace at off (strides
 * plane, channel, tile). */
static clconv_status run_data(clconv_ctx *ctx, cl_kernel k, const wplan *p, cl_mem in,
                              size_t in_off, size_t elems, const int64_t is[4], int64_t ch,
                              int64_t ih, int64_t iw, int64_t top, int64_t left, int mode,
                              cl_mem ws, size_t off, int64_t r0, int64_t rn, int64_t sx,
                              int64_t sc, int64_t st)
{
    wdata D = {ch, ih, iw, p->th, p->tw, top, left, {0}, r0, rn, sx, sc, st, (cl_long)elems};
    copy4(D.is, is);
    cl_long io = (cl_long)in_off, wo = (cl_long)off;
    cl_int md = mode;
    const karg args[] = {KARG(in), KARG(io), KARG(ws), KARG(wo), KARG(D), KARG(md)};
    return ctx_launch(ctx, k, 6, args, (size_t)(ch * rn * cdiv(p->tw, p->vt)), 0, NULL);
}

static clconv_status run_gemm(clconv_ctx *ctx, cl_kernel k, cl_mem ws, const wgemm *G,
                              size_t a_off, size_t b_off, size_t o_off, int add)
{
    cl_long ao = (cl_long)a_off, bo = (cl_long)b_off, oo = (cl_long)o_off;
    cl_int ad = add;
    const karg args[] = {KARG(ws), KARG(ao), KARG(bo), KARG(oo), KARG(*G), KARG(ad)};
    return ctx_launch(ctx, k, 6, args, (size_t)(G->NX * G->MB * G->JB), WINO_WG, NULL);
}

/* forward and backward-data */
static clconv_status run_conv(clconv_ctx *ctx, const pass_args *a, const wplan *p)
{
    const layer *L = a->L;
    cl_kernel k[K_COUNT];
    TRY(get_kernels(ctx, L, p, k));
    cl_mem ws;
    TRY(ctx_workspace(ctx, plan_bytes(p), &ws));
    const int bwd = p->pass == CLCONV_PASS_BACKWARD_DATA;
    const int64_t a2 = p->a2, pitch = p->pitch;
    /* the filter: forward w[k][c] (k out), backward-data w[k][c][2-r][2-s] (c out) */
    {
        wfilt F = {p->co, p->ci, p->cop, bwd ? L->ws[1] : L->ws[0], bwd ? L->ws[0] : L->ws[1],
                   L->ws[2], L->ws[3], bwd, p->su};
        cl_long wo = (cl_long)a->b_off, uo = (cl_long)p->u_off;
        const karg args[] = {KARG(a->b), KARG(wo), KARG(ws), KARG(uo), KARG(F)};
        TRY(ctx_launch(ctx, k[K_FILTER], 5, args, (size_t)(p->cop / WINO_TK * p->ci), 0, NULL));
    }
    const int64_t *is = bwd ? L->ys : L->xs, *os = bwd ? L->xs : L->ys;
    /* the plain store (alpha 1, beta 0 or 1) or the forward's epilogue */
    const kepi plain = {1.0f, a->beta ? 1.0f : 0.0f, 0.0f, 0, 0, 0};
    const kepi E = a->ep ? *a->ep : plain;
    const cl_mem bias = a->ep && a->ep->has_bias ? a->bias : a->out;
    const cl_long bo = a->ep && a->ep->has_bias ? (cl_long)a->bias_off : 0;
    const kgeom g = kgeom_of(L);
    for (int64_t c = 0; c < p->nchunks; c++) {
        const int64_t r0 = c * p->rc, rn = p->rows - r0 < p->rc ? p->rows - r0 : p->rc;
        const int64_t tn = rn * p->tw;
        TRY(run_data(ctx, k[K_DATA], p, a->a, a->a_off, bwd ? L->y_elems : L->x_elems, is,
                     p->ci, p->ih, p->iw, p->top, p->left, 0, ws, p->v_off, r0, rn,
                     p->sv, pitch, 1));
        const wgemm G = {a2, p->ci, p->cop / WINO_TK, cdiv(tn, WINO_TT),
                         p->su, p->ci * WINO_TK, WINO_TK, p->sv, pitch, p->sm, pitch};
        TRY(run_gemm(ctx, k[K_GEMM], ws, &G, p->u_off, p->v_off, p->m_off, 0));
        wout O = {p->co, p->oh, p->ow, p->th, p->tw, r0, rn, {0}, p->sm, pitch};
        copy4(O.os, os);
        cl_long mo = (cl_long)p->m_off, oo = (cl_long)a->out_off;
        cl_long so = (cl_long)a->a_off, wo = (cl_long)a->b_off;
        cl_int bw = bwd;
        /* x or dy and w for the re-sum of a non-finite output */
        const karg args[] = {KARG(ws),   KARG(mo), KARG(a->out), KARG(oo), KARG(O),
                             KARG(E),    KARG(bias), KARG(bo),   KARG(a->a), KARG(so),
                             KARG(a->b), KARG(wo), KARG(g),      KARG(bw)};
        TRY(ctx_launch(ctx, k[K_OUT], (int)(sizeof args / sizeof args[0]), args,
                       (size_t)(p->co * rn * cdiv(p->tw, p->vt)), 0,
                       c == p->nchunks - 1 ? a->event : NULL));
    }
    return CLCONV_OK;
}

static clconv_status run_filter(clconv_ctx *ctx, const pass_args *a, const wplan *p)
{
    const layer *L = a->L;
    cl_kernel k[K_COUNT];
    TRY(get_kernels(ctx, L, p, k));
    cl_mem ws;
    TRY(ctx_workspace(ctx, plan_bytes(p), &ws));
    const int64_t a2 = p->a2;
    for (int64_t c = 0; c < p->nchunks; c++) {
        const int64_t r0 = c * p->rc, rn = p->rows - r0 < p->rc ? p->rows - r0 : p->rc;
        /* V[xi][t][c] (the GEMM's B: columns c) and D[xi][t][k] (A: rows k) */
        TRY(run_data(ctx, k[K_DATA], p, a->a, a->a_off, L->x_elems, L->xs, L->c, L->h, L->w,
                     L->ph, L->pw, 0, ws, p->v_off, r0, rn, p->sv, 1, p->cip));
        TRY(run_data(ctx, k[K_DATA], p, a->b, a->b_off, L->y_elems, L->ys, L->k, L->p, L->q, 0,
                     0, 1, ws, p->u_off, r0, rn, p->su, 1, p->cop));
        const wgemm G = {a2, rn * p->tw, p->cop / WINO_TK, p->cip / WINO_TT,
                         p->su, WINO_TK, p->cop, p->sv, p->cip, p->sm, p->cip};
        TRY(run_gemm(ctx, k[K_GEMM], ws, &G, p->u_off, p->v_off, p->m_off, c > 0));
    }
    wfout F = {L->k, L->c, p->sm, p->cip, {0}};
    copy4(F.ws, L->ws);
    cl_long mo = (cl_long)p->m_off, oo = (cl_long)a->out_off;
    cl_long xo = (cl_long)a->a_off, dyo = (cl_long)a->b_off;
    cl_int beta = a->beta;
    const kgeom g = kgeom_of(L);
    /* x and dy for the re-sum of a non-finite dw element */
    const karg args[] = {KARG(ws), KARG(mo), KARG(a->out), KARG(oo), KARG(F), KARG(beta),
                         KARG(a->a), KARG(xo), KARG(a->b), KARG(dyo), KARG(g)};
    return ctx_launch(ctx, k[K_FOUT], (int)(sizeof args / sizeof args[0]), args,
                      (size_t)(L->k * L->c), 0, a->event);
}

static clconv_status wino_forward(clconv_ctx *ctx, const pass_args *a)
{
    wplan p;
    plan_of(a->L, CLCONV_PASS_FORWARD, &p);
    return run_conv(ctx, a, &p);
}

static clconv_status wino_backward_data(clconv_ctx *ctx, const pass_args *a)
{
    wplan p;
    plan_of(a->L, CLCONV_PASS_BACKWARD_DATA, &p);
    return run_conv(ctx, a, &p);
}

static clconv_status wino_backward_filter(clconv_ctx *ctx, const pass_args *a)
{
    wplan p;
    plan_of(a->L, CLCONV_PASS_BACKWARD_FILTER, &p);
    return run_filter(ctx, a, &p);
}

/* the layers WINOGRAD computes at all (supports() says why not) */
static int geometry_ok(const layer *L)
{
    return L->r == 3 && L->s == 3 && L->sh == 1 && L->sw == 1 && L->dh == 1 && L->dw == 1 &&
           L->g == 1;
}

/* what the pass needs (for planning, even beyond the device); 0 for a
 * layer it does not run */
static clconv_status workspace(const clconv_ctx *ctx, const layer *L, clconv_pass pass,
                               size_t *bytes)
{
    (void)ctx;
    *bytes = 0;
    if (!geometry_ok(L))
        return CLCONV_OK;
    wplan p;
    plan_of(L, pass, &p);
    *bytes = plan_bytes(&p);
    return CLCONV_OK;
}

static clconv_status supports(const clconv_ctx *ctx, clconv_pass pass, const pass_args *a,
                              char *why, size_t cap)
{
    const layer *L = a->L;
    if (L->r != 3 || L->s != 3) {
        snprintf(why, cap, "winograd: only 3x3 filters (this one is %lldx%lld)",
                 (long long)L->r, (long long)L->s);
        return CLCONV_NOT_SUPPORTED;
    }
    if (L->sh != 1 || L->sw != 1) {
        snprintf(why, cap, "winograd: only stride 1 (this layer's is %lldx%lld)",
                 (long long)L->sh, (long long)L->sw);
        return CLCONV_NOT_SUPPORTED;
    }
    if (L->dh != 1 || L->dw != 1) {
        snprintf(why, cap, "winograd: only dense filters (this layer's dilation is %lldx%lld)",
                 (long long)L->dh, (long long)L->dw);
        return CLCONV_NOT_SUPPORTED;
    }
    if (L->g != 1) {
        snprintf(why, cap, "winograd: only one group (this layer has %lld)", (long long)L->g);
        return CLCONV_NOT_SUPPORTED;
    }
    if (ctx->info.address_bits < 64) {
        const size_t lim = ((size_t)1 << 32) / L->esize - 1;
        const size_t ends[] = {a->a_off + L->x_elems, a->a_off + L->y_elems,
                               a->b_off + L->w_elems, a->b_off + L->y_elems,
                               a->out_off + L->x_elems, a->out_off + L->y_elems,
                               a->out_off + L->w_elems};
        for (size_t i = 0; i < sizeof ends / sizeof ends[0]; i++)
            if (ends[i] > lim) {
                snprintf(why, cap, "winograd: the device has %u-bit addresses: it cannot index "
                                   "a tensor reaching past 4 GiB",
                         (unsigned)ctx->info.address_bits);
                return CLCONV_DEVICE_LIMIT;
            }
    }
    wplan p;
    plan_of(L, pass, &p);
    clconv_status st = workspace_fits(&ctx->info, plan_bytes(&p), why, cap);
    if (st != CLCONV_OK) {
        char inner[256];
        snprintf(inner, sizeof inner, "%s", why);
        snprintf(why, cap, "winograd: %s", inner);
    }
    return st;
}

/* AUTO's choice on the layers it computes.  Forward and backward-data:
 * the transforms cost more than they save below 64 channels in or out
 * (PoCL, 2-core EPYC, mb4: 0.4-0.6x GEMM at 8-32 channels, 1.0-1.1x at
 * 32/64, 1.2-1.9x at 64 and more, from 4x4 to 56x56 images).
 * Backward-filter (F(2x2)): 1.1-1.4x GEMM's speed with 128 and 256
 * channels on 28x28 and 14x14 images at mb4 and mb32, slower with 64
 * channels (56x56: 0.6-0.75x) and with few tiles to sum over (512
 * channels 7x7 at mb4, 64 tiles: 0.8x; at mb32, 512 tiles: 1.0x); and
 * its error grows with the tiles summed (6e-6 at mb32 c64 56x56, 25088
 * tiles, the most the tests measured) (PERFORMANCE.md). */
#define WINO_AUTO_MIN_CHANNELS 64
#define WINO_AUTO_BWF_MIN_CHANNELS 128
#define WINO_AUTO_BWF_MIN_TILES 128
#define WINO_AUTO_BWF_MAX_TILES 25088
static int bwf_auto_ok(const layer *L, char *why, size_t cap)
{
    const int64_t tiles = L->n * ((L->p + 1) / 2) * ((L->q + 1) / 2);
    if (L->c < WINO_AUTO_BWF_MIN_CHANNELS || L->k < WINO_AUTO_BWF_MIN_CHANNELS) {
        snprintf(why, cap, "%lld to %lld channels: GEMM is faster for backward-filter below %d",
                 (long long)L->c, (long long)L->k, WINO_AUTO_BWF_MIN_CHANNELS);
        return 0;
    }
    if (tiles < WINO_AUTO_BWF_MIN_TILES || tiles > WINO_AUTO_BWF_MAX_TILES) {
        snprintf(why, cap, "backward-filter over %lld tiles: GEMM is faster below %d, and above %d "
                 "the error was not measured", (long long)tiles, WINO_AUTO_BWF_MIN_TILES,
                 WINO_AUTO_BWF_MAX_TILES);
        return 0;
    }
    return 1;
}

int winograd_auto_ok(const clconv_ctx *ctx, clconv_pass pass, const pass_args *a, char *why,
                     size_t cap)
{
    (void)ctx;
    const layer *L = a->L;
    if (pass == CLCONV_PASS_BACKWARD_FILTER)
        return bwf_auto_ok(L, why, cap);
    if (L->c < WINO_AUTO_MIN_CHANNELS || L->k < WINO_AUTO_MIN_CHANNELS) {
        snprintf(why, cap, "%lld to %lld channels: GEMM is faster below %d", (long long)L->c,
                 (long long)L->k, WINO_AUTO_MIN_CHANNELS);
        return 0;
    }
    return 1;
}

/* What tests/test_winograd.c runs: every storage type, layout and
 * padding in every pass, the fused epilogue in the forward. */
#define WINO_CAPS (CAP_F16 | CAP_BF16 | CAP_NHWC | CAP_KRSC | CAP_ASYM_PAD)
const algo_impl algo_winograd = {"winograd",
                                 {wino_forward, wino_backward_data, wino_backward_filter},
                                 workspace,
                                 supports,
                                 {WINO_CAPS | CAP_EPILOGUE, WINO_CAPS, WINO_CAPS}};
