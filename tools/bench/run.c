/* run.c - the loop over problems, passes and algorithms (see run.h). */
#include "run.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "desc_parse.h"
#include "passes.h"
#include "peer_clblast.h"
#include "peer_torch.h"
#include "problem.h"
#include "report.h"
#include "timing.h"
#include "verify.h"

typedef struct bench_state {
    const bench_opts *o;
    bench_session *ses;         /* NULL: no problems, so no device */
    clconv_ctx *ctx;
    cl_command_queue q;
    bench_clock clock;
    int clblast;                /* the CLBlast peer runs */
    bench_torch torch;          /* the PyTorch peer's times */
    size_t *torch_of;           /* problem -> index in torch (SIZE_MAX: none) */
    char (*why)[64];            /* problem -> why it does not run ("": it runs) */
    bench_report *rep;
} bench_state;

/* ---- timing clconv and the peers ---- */

typedef struct pass_launch {
    clconv_ctx *ctx;
    const bench_problem *p;
    int pass;
    clconv_algo algo;
    const bench_bufs *b;
    clconv_status st;
} pass_launch;

static int launch_pass(void *arg, cl_event *ev)
{
    pass_launch *l = arg;
    l->st = bench_pass_run(l->ctx, l->p, l->pass, l->algo, l->b, ev);
    return l->st != CLCONV_OK;
}

/* The wall time of one launch to completion, in ms (< 0 on an error). */
static double first_call(bench_state *s, pass_launch *l)
{
    double t0 = bench_now();
    cl_event ev = NULL;
    int rc = launch_pass(l, &ev);
    if (ev)
        clReleaseEvent(ev);
    if (rc || clFinish(s->q) != CL_SUCCESS)
        return -1.0;
    return 1e3 * (bench_now() - t0);
}

/* Timed after a warm-up whose first call, when nothing ran this pass
 * before (a check does), is timed on its own: what building or loading
 * its kernels costs. */
static void time_row(bench_state *s, const bench_bufs *b, clconv_algo algo, bench_row *row)
{
    pass_launch l = {s->ctx, row->p, row->pass, algo, b, CLCONV_OK};
    cl_int e;
    int warmup = s->o->warmup;
    if (row->first_ms < 0 && (row->first_ms = first_call(s, &l)) >= 0 && warmup > 0)
        warmup--;
    int rc = bench_time(s->q, s->clock, warmup, s->o->reps, launch_pass, &l, &row->t, &e);
    if (!rc) {
        row->timed = 1;
        return;
    }
    row->lib_status = l.st;
    /* a status that contradicts a check that passed is a failure */
    if (l.st != CLCONV_OK) {
        row->status = row->status == BENCH_ROW_RAN ? bench_status_row(l.st) : BENCH_ROW_FAILED;
        bench_status_note(s->ctx, row->p, row->pass, l.st, row->note, sizeof row->note);
        return;
    }
    row->status = BENCH_ROW_FAILED;
    snprintf(row->note, sizeof row->note, "timing: OpenCL error %d", e);
}

typedef struct peer_launch {
    cl_command_queue q;
    const clconv_desc *d;
    const bench_bufs *b;
    int st;
} peer_launch;

static int launch_peer(void *arg, cl_event *ev)
{
    peer_launch *l = arg;
    const bench_tensor *t = l->b->t;
    size_t o = l->b->off;
    l->st = bench_peer_forward(l->q, l->d, t[BT_X].mem, o, t[BT_W].mem, o, t[BT_Y].mem, o, ev);
    return l->st != 0;
}

/* The peer's forward once (compared with ref when there is one), then timed. */
static int time_peer(bench_state *s, const bench_problem *p, const bench_bufs *b,
                     const double *ref, bench_timing *t)
{
    peer_launch l = {s->q, &p->d, b, 0};
    cl_int e = CL_SUCCESS;
    char label[400], what[160];
    bench_problem_desc(p, 1, label, sizeof label);
    snprintf(what, sizeof what, "%s fwd: CLBlast", p->name[0] ? p->name : "-");
    bench_progress_say(&s->rep->progress, what);
    if (!launch_peer(&l, NULL) && (e = clFinish(s->q)) == CL_SUCCESS && ref) {
        size_t n = b->t[BT_Y].elems;
        float *y = malloc(n * sizeof *y);
        bench_cmp c = {0};
        if (y && bench_read(s->q, b->t[BT_Y].mem, b->off, n, y) == CL_SUCCESS) {
            bench_compare(y, ref, n, BENCH_TOL, &c);
            if (!c.passed)
                fprintf(s->rep->msg, "clconv-bench: warning: %s: CLBlast's forward differs from "
                                    "the reference (rel_err %.3g)\n", label, c.rel_err);
        }
        free(y);
    }
    if (!l.st && e == CL_SUCCESS && !bench_time(s->q, s->clock, s->o->warmup, s->o->reps,
                                                launch_peer, &l, t, &e))
        return 1;
    fprintf(s->rep->msg, "clconv-bench: warning: %s: CLBlastSconvgemm failed (CLBlast status %d, "
                        "OpenCL %d); no peer time\n", label, l.st, e);
    return 0;
}

/* ---- one pass of one problem ---- */

/* The reference of the pass, or NULL with the reason in note. */
static double *reference(const bench_state *s, const bench_problem *p, const bench_bufs *b,
                         int pass, char *note, size_t cap)
{
    double gflop = bench_problem_flop(p, pass) * 1e-9;
    if (gflop > s->o->ref_max_gflop) {
        snprintf(note, cap, "not checked: the reference would take %.3g GFLOP, above "
                            "--ref-max-gflop=%g", gflop, s->o->ref_max_gflop);
        return NULL;
    }
    size_t n;
    clconv_status st;
    double *ref = bench_reference(p, pass, b, &n, &st);
    if (!ref)
        snprintf(note, cap, "not checked: the reference failed: %s", clconv_status_name(st));
    return ref;
}

/* Whether (pass, a) is a row of p: bwd_b has one (a == 0, no algorithm),
 * the other passes one per algorithm given. */
static int has_row(const bench_problem *p, int pass, int a)
{
    return pass == BENCH_BWD_B ? a == 0 : (p->algos & BENCH_ALGO_BIT(a)) != 0;
}

static void row_init(bench_state *s, bench_row *row, const bench_problem *p, int pass, int a)
{
    memset(row, 0, sizeof *row);
    row->p = p;
    row->pass = pass;
    row->algo = pass == BENCH_BWD_B ? -1 : a;
    row->gflop = bench_problem_flop(p, pass) * 1e-9;
    row->first_ms = -1.0;
    bench_progress_row(&s->rep->progress, p->name[0] ? p->name : "-", bench_problem_pass(p, pass),
                       pass == BENCH_BWD_B ? NULL : clconv_algo_name((clconv_algo)a));
}

/* The PyTorch peer's time of problem i's pass, if it has one. */
static int torch_time(const bench_state *s, size_t i, int pass, bench_timing *t)
{
    size_t k = s->torch_of ? s->torch_of[i] : SIZE_MAX;
    if (k >= s->torch.n || !s->torch.t[k][pass].reps)
        return 0;
    *t = s->torch.t[k][pass];
    return 1;
}

static void run_pass(bench_state *s, size_t i, const bench_bufs *b, int pass)
{
    const bench_problem *p = &s->o->probs[i];
    char ref_note[200] = "";
    double *ref = s->o->check ? reference(s, p, b, pass, ref_note, sizeof ref_note) : NULL;
    bench_timing peer[BENCH_NPEERS];
    int peer_ok[BENCH_NPEERS] = {0};
    /* the peers compute plain fp32 convolutions only */
    peer_ok[BENCH_PEER_CLBLAST] = pass == BENCH_FWD && s->clblast && bench_problem_plain(p) &&
                                  bench_peer_supports(&p->d) &&
                                  time_peer(s, p, b, ref, &peer[BENCH_PEER_CLBLAST]);
    peer_ok[BENCH_PEER_TORCH] = torch_time(s, i, pass, &peer[BENCH_PEER_TORCH]);
    for (int a = 0; a < CLCONV_ALGO_COUNT_; a++) {
        if (!has_row(p, pass, a))
            continue;
        bench_row row;
        row_init(s, &row, p, pass, a);
        if (s->o->check)
            bench_verify(s->ctx, b, pass, (clconv_algo)a, ref, ref_note, &row);
        /* a pass the library refused in the check is not timed either */
        if (s->o->perf && row.status != BENCH_ROW_FAILED && row.lib_status == CLCONV_OK)
            time_row(s, b, (clconv_algo)a, &row);
        for (int q = 0; q < BENCH_NPEERS; q++) {
            row.peer_timed[q] = peer_ok[q];
            if (peer_ok[q])
                row.peer[q] = peer[q];
        }
        bench_report_row(s->rep, &row);
    }
    free(ref);
}

/* Why p only gets the library's checks, or NULL if it runs: --mode=I,
 * above --run-max-gflop, or beyond --run-per-file of its batch file (the
 * first problems small enough run, so every file runs some; ran counts
 * them per file). */
static const char *why_not_run(const bench_opts *o, long *ran, const bench_problem *p, char *buf,
                               size_t cap)
{
    if (o->init)
        return "--mode=I";
    if (o->run_max_gflop > 0 && bench_problem_flop(p, BENCH_FWD) * 1e-9 > o->run_max_gflop) {
        snprintf(buf, cap, "above --run-max-gflop=%g", o->run_max_gflop);
        return buf;
    }
    if (o->run_per_file >= 0 && p->file >= 0 && ran[p->file]++ >= o->run_per_file) {
        snprintf(buf, cap, "beyond --run-per-file=%ld", o->run_per_file);
        return buf;
    }
    return NULL;
}

/* The library's scratch query of a pass: a deconvolution's passes are the
 * convolution passes its calls run (header: forward -> backward-data,
 * backward-data -> forward, backward-filter -> backward-filter). */
static clconv_status workspace(bench_state *s, const bench_problem *p, int pass, int algo,
                               size_t *ws)
{
    static const clconv_pass conv_pass[3] = {CLCONV_PASS_BACKWARD_DATA, CLCONV_PASS_FORWARD,
                                             CLCONV_PASS_BACKWARD_FILTER};
    bench_shape sh;
    clconv_status st = bench_problem_shape(p, &sh);
    if (st != CLCONV_OK)
        return st;
    return clconv_workspace_size(s->ctx, &sh.conv,
                                 p->deconv ? conv_pass[pass] : (clconv_pass)pass,
                                 (clconv_algo)algo, ws);
}

/* --mode=I for one row: what the library says of the pass and algorithm
 * (its scratch, which it refuses beyond the device's limits) with the
 * problem's buffers, without running anything. */
static void init_row(bench_state *s, bench_row *row, const char *why)
{
    const bench_problem *p = row->p;
    size_t ws = 0;
    clconv_status st = CLCONV_OK;
    char err[256] = "";
    if (row->pass != BENCH_BWD_B) {
        st = workspace(s, p, row->pass, row->algo, &ws);
        snprintf(err, sizeof err, "clconv_workspace_size: %s: %s", clconv_status_name(st),
                 clconv_status_string(st));
    }
    if (st == CLCONV_OK)
        st = bench_bufs_fit(p, s->o->offset, &s->ses->lim, ws, err, sizeof err);
    row->init_only = 1;
    row->status = st == CLCONV_OK ? BENCH_ROW_INITIALIZED : bench_status_row(st);
    if (st != CLCONV_OK)
        snprintf(row->note, sizeof row->note, "%s", err);
    else
        snprintf(row->note, sizeof row->note, "initialized, not run (%s)", why);
}

/* The rows of a problem that does not run: each gets status and why, or,
 * for BENCH_ROW_INITIALIZED, its own library checks (why says why then). */
static void rows_not_run(bench_state *s, const bench_problem *p, bench_status status,
                         const char *why)
{
    for (int pass = 0; pass < BENCH_NPASS; pass++) {
        if (!(p->dirs & (1u << pass)))
            continue;
        for (int a = 0; a < CLCONV_ALGO_COUNT_; a++) {
            if (!has_row(p, pass, a))
                continue;
            bench_row row;
            row_init(s, &row, p, pass, a);
            if (status == BENCH_ROW_INITIALIZED) {
                init_row(s, &row, why);
            } else {
                row.status = status;
                snprintf(row.note, sizeof row.note, "%s", why);
            }
            bench_report_row(s->rep, &row);
        }
    }
}

static void run_problem(bench_state *s, size_t i)
{
    const bench_problem *p = &s->o->probs[i];
    bench_bufs b;
    char err[256];
    clconv_status st = CLCONV_OK;
    const char *why = s->why[i][0] ? s->why[i] : NULL;
    if (why) {
        rows_not_run(s, p, BENCH_ROW_INITIALIZED, why);
    } else if ((st = bench_bufs_create(s->ctx, p, s->o->offset, &s->ses->lim,
                                       s->o->seed * 1000003u + i, &b, err, sizeof err))) {
        rows_not_run(s, p, bench_status_row(st), err);
    } else {
        for (int pass = 0; pass < BENCH_NPASS; pass++)
            if (p->dirs & (1u << pass))
                run_pass(s, i, &b, pass);
        bench_bufs_free(&b);
    }
    bench_report_problem_done(s->rep, p);
}

/* ---- setup ---- */

/* Which problems run, decided before any does: the PyTorch peer is
 * given those first. */
static int plan(bench_state *s)
{
    const bench_opts *o = s->o;
    long *ran = calloc((size_t)o->nfiles + 1, sizeof *ran);
    s->why = calloc(o->nprobs + 1, sizeof *s->why);
    if (!s->why || !ran) {
        free(ran);
        return -1;
    }
    for (size_t i = 0; i < o->nprobs; i++) {
        const char *w = why_not_run(o, ran, &o->probs[i], s->why[i], sizeof s->why[i]);
        if (w && w != s->why[i])
            snprintf(s->why[i], sizeof s->why[i], "%s", w);
    }
    free(ran);
    return 0;
}

static int count_rows(const bench_opts *o)
{
    int n = 0;
    for (size_t i = 0; i < o->nprobs; i++)
        for (int pass = 0; pass < BENCH_NPASS; pass++)
            for (int a = 0; a < CLCONV_ALGO_COUNT_ && (o->probs[i].dirs & (1u << pass)); a++)
                n += has_row(&o->probs[i], pass, a);
    return n;
}

static const unsigned torch_passes = (1u << BENCH_FWD) | (1u << BENCH_BWD_D) | (1u << BENCH_BWD_W);

/* The request for the problems that run a pass PyTorch has; the
 * descriptors are malloc'ed into descs (freed by the caller). */
static size_t torch_problems(bench_state *s, char **descs, unsigned *passes)
{
    const bench_opts *o = s->o;
    size_t n = 0;
    *passes = 0;
    for (size_t i = 0; i < o->nprobs; i++) {
        const bench_problem *p = &o->probs[i];
        s->torch_of[i] = SIZE_MAX;
        /* the script reads plain convolutions (tools/torch_peer.py) */
        if (s->why[i][0] || !(p->dirs & torch_passes) || !bench_problem_plain(p))
            continue;
        char d[600];
        bench_format_desc(&p->d, NULL, d, sizeof d);
        if (!(descs[n] = strdup(d)))
            continue;
        *passes |= p->dirs & torch_passes;
        s->torch_of[i] = n++;
    }
    return n;
}

/* PyTorch on the device's kind, with the thread count PoCL gives its own
 * kernels on a CPU (one per compute unit): the same descriptors, passes,
 * warm-up and repetitions as clconv's rows. */
static void run_torch(bench_state *s, const char **about)
{
    const bench_opts *o = s->o;
    const bench_session *ses = s->ses;
    if (!ses->is_cpu && !ses->is_nvidia_gpu) {
        *about = "not run: PyTorch is a peer on a CPU (oneDNN) or an NVIDIA GPU (cuDNN) only";
        return;
    }
    char **descs = calloc(o->nprobs + 1, sizeof *descs);
    s->torch_of = calloc(o->nprobs + 1, sizeof *s->torch_of);
    unsigned passes = 0;
    size_t n = descs && s->torch_of ? torch_problems(s, descs, &passes) : 0;
    bench_torch_req req = {o->python, o->torch_script, ses->is_cpu ? "cpu" : "cuda",
                           ses->is_cpu ? ses->compute_units : 0, o->reps, o->warmup, passes,
                           (const char *const *)descs, n};
    bench_progress pr;
    char what[96];
    snprintf(what, sizeof what, "PyTorch peer: %zu problems, in its own process", n);
    bench_progress_begin(&pr, !o->csv && !o->json, 0);
    bench_progress_say(&pr, what);
    if (n)
        bench_torch_run(&req, &s->torch);
    else
        snprintf(s->torch.about, sizeof s->torch.about, "not run: no problem runs one of its passes");
    bench_progress_clear(&pr);
    for (size_t i = 0; i < n; i++)
        free(descs[i]);
    free(descs);
    *about = s->torch.about;
}

static void peers(bench_state *s, bench_env *env)
{
    const bench_opts *o = s->o;
    if (!o->perf)
        return;
    if (o->peers & BENCH_PEER_BIT(BENCH_PEER_CLBLAST)) {
        s->clblast = bench_peer_available();
        env->peers[BENCH_PEER_CLBLAST] = s->clblast;
        env->peer_label[BENCH_PEER_CLBLAST] = "CLBlast";
        env->peer_about[BENCH_PEER_CLBLAST] =
            s->clblast ? "CLBlast's CLBlastSconvgemm (forward, one group), in this process"
                       : "unavailable: built without CLBlast (install libclblast-dev and rebuild)";
    }
    if (o->peers & BENCH_PEER_BIT(BENCH_PEER_TORCH)) {
        run_torch(s, &env->peer_about[BENCH_PEER_TORCH]);
        env->peers[BENCH_PEER_TORCH] = s->torch.ran;
        env->peer_label[BENCH_PEER_TORCH] =
            s->ses->is_cpu ? "PyTorch (oneDNN)" : "PyTorch (cuDNN)";
    }
}

static void environment(bench_state *s, bench_env *env)
{
    memset(env, 0, sizeof *env);
    if (!s->ctx) { /* nothing to run, so no device was opened */
        env->device = "no device (no problems to run)";
        env->clock = "-";
        env->no_device = 1;
        return;
    }
    if (s->o->perf) {
        const bench_peak *pk = bench_session_peak(s->ses, s->o);
        env->peak_gflops = pk->gflops;
        env->peak_width = pk->width;
        env->peak_runs = pk->runs;
        env->peak_error = pk->error;
    }
    peers(s, env);
    env->device = clconv_device_name(s->ctx);
    env->clock = bench_clock_name(s->clock);
}

void bench_run_on(bench_session *ses, const bench_opts *o, bench_report *rep)
{
    bench_state s;
    memset(&s, 0, sizeof s);
    s.o = o;
    s.ses = ses;
    s.rep = rep;
    if (ses) {
        s.ctx = ses->ctx;
        s.q = ses->q;
        s.clock = ses->clock;
    }
    bench_env env;
    if (plan(&s)) {
        fprintf(stderr, "clconv-bench: error: out of host memory\n");
        memset(&env, 0, sizeof env);
        env.device = env.clock = "-";
        env.no_device = 1;
        bench_report_begin(rep, o, &env, 0);
        rep->failed++;
    } else {
        environment(&s, &env);
        bench_report_begin(rep, o, &env, count_rows(o));
        for (size_t i = 0; i < o->nprobs; i++)
            run_problem(&s, i);
    }
    bench_report_end(rep);
    bench_torch_free(&s.torch);
    free(s.torch_of);
    free(s.why);
}

int bench_run(const bench_opts *o)
{
    bench_session ses;
    /* before the device builds anything */
    if (o->perf && (o->peers & BENCH_PEER_BIT(BENCH_PEER_CLBLAST)))
        bench_peer_quiet_builds();
    int rc = o->nprobs ? bench_session_open(&ses, o->device) : 0;
    if (rc)
        return rc;
    if (o->nprobs && o->find)
        clconv_set_find(ses.ctx, CLCONV_FIND_ON);
    bench_report rep;
    bench_run_on(o->nprobs ? &ses : NULL, o, &rep);
    rc = bench_report_exit(&rep);
    bench_report_free(&rep);
    if (o->nprobs)
        bench_session_close(&ses);
    return rc;
}
