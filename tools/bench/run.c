/* run.c - the loop over problems, passes and algorithms (see run.h). */
#include "run.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "desc_parse.h"
#include "passes.h"
#include "peak.h"
#include "peer_clblast.h"
#include "report.h"
#include "timing.h"
#include "verify.h"

typedef struct bench_state {
    const bench_opts *o;
    clconv_ctx *ctx;
    cl_command_queue q;
    bench_clock clock;
    bench_limits lim;
    int peer;
    long *ran;                  /* problems run per batch file (--run-per-file) */
    bench_report rep;
} bench_state;

/* ---- timing clconv and the peer ---- */

typedef struct pass_launch {
    clconv_ctx *ctx;
    const clconv_desc *d;
    int pass;
    clconv_algo algo;
    const bench_bufs *b;
    clconv_status st;
} pass_launch;

static int launch_pass(void *arg, cl_event *ev)
{
    pass_launch *l = arg;
    l->st = bench_pass_run(l->ctx, l->d, l->pass, l->algo, l->b, ev);
    return l->st != CLCONV_OK;
}

static void time_row(bench_state *s, const bench_bufs *b, clconv_algo algo, bench_row *row)
{
    pass_launch l = {s->ctx, &row->p->d, row->pass, algo, b, CLCONV_OK};
    cl_int e;
    int rc = bench_time(s->q, s->clock, s->o->warmup, s->o->reps, launch_pass, &l, &row->t, &e);
    if (!rc) {
        row->timed = 1;
        return;
    }
    row->lib_status = l.st;
    /* a status that contradicts a check that passed is a failure */
    if (l.st != CLCONV_OK) {
        row->status = row->status == BENCH_ROW_RAN ? bench_status_row(l.st) : BENCH_ROW_FAILED;
        bench_status_note(s->ctx, row->pass, l.st, row->note, sizeof row->note);
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
    char label[400];
    bench_format_desc(&p->d, p->name, label, sizeof label);
    if (!launch_peer(&l, NULL) && (e = clFinish(s->q)) == CL_SUCCESS && ref) {
        size_t n = b->t[BT_Y].elems;
        float *y = malloc(n * sizeof *y);
        bench_cmp c = {0};
        if (y && bench_read(s->q, b->t[BT_Y].mem, b->off, n, y) == CL_SUCCESS) {
            bench_compare(y, ref, n, &c);
            if (!c.passed)
                fprintf(s->rep.msg, "clconv-bench: warning: %s: CLBlast's forward differs from "
                                    "the reference (rel_err %.3g)\n", label, c.rel_err);
        }
        free(y);
    }
    if (!l.st && e == CL_SUCCESS && !bench_time(s->q, s->clock, s->o->warmup, s->o->reps,
                                                launch_peer, &l, t, &e))
        return 1;
    fprintf(s->rep.msg, "clconv-bench: warning: %s: CLBlastSconvgemm failed (CLBlast status %d, "
                        "OpenCL %d); no peer time\n", label, l.st, e);
    return 0;
}

/* ---- one pass of one problem ---- */

/* The reference of the pass, or NULL with the reason in note. */
static double *reference(const bench_state *s, const bench_problem *p, const bench_bufs *b,
                         int pass, char *note, size_t cap)
{
    double gflop = bench_reference_flop(&p->d, pass) * 1e-9;
    if (gflop > s->o->ref_max_gflop) {
        snprintf(note, cap, "not checked: the reference would take %.3g GFLOP, above "
                            "--ref-max-gflop=%g", gflop, s->o->ref_max_gflop);
        return NULL;
    }
    const float *img[3];
    for (int t = BT_X; t <= BT_DY; t++)
        img[t] = b->t[t].img ? b->t[t].img + b->off : NULL;
    size_t n;
    clconv_status st;
    double *ref = bench_reference(&p->d, pass, img[BT_X], img[BT_W], img[BT_DY], &n, &st);
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

static void row_init(bench_row *row, const bench_problem *p, int pass, int a)
{
    memset(row, 0, sizeof *row);
    row->p = p;
    row->pass = pass;
    row->algo = pass == BENCH_BWD_B ? -1 : a;
    row->gflop = bench_reference_flop(&p->d, pass) * 1e-9;
}

static void run_pass(bench_state *s, const bench_problem *p, const bench_bufs *b, int pass)
{
    char ref_note[200] = "";
    double *ref = s->o->check ? reference(s, p, b, pass, ref_note, sizeof ref_note) : NULL;
    bench_timing peer;
    int peer_ok = pass == BENCH_FWD && s->peer && s->o->perf && bench_peer_supports(&p->d) &&
                  time_peer(s, p, b, ref, &peer);
    for (int a = 0; a < CLCONV_ALGO_COUNT_; a++) {
        if (!has_row(p, pass, a))
            continue;
        bench_row row;
        row_init(&row, p, pass, a);
        if (s->o->check)
            bench_verify(s->ctx, b, pass, (clconv_algo)a, ref, ref_note, &row);
        /* a pass the library refused in the check is not timed either */
        if (s->o->perf && row.status != BENCH_ROW_FAILED && row.lib_status == CLCONV_OK)
            time_row(s, b, (clconv_algo)a, &row);
        if (peer_ok) {
            row.peer_timed = 1;
            row.peer = peer;
        }
        bench_report_row(&s->rep, &row);
    }
    free(ref);
}

/* Why p only gets the library's checks, or NULL if it runs: --mode=I,
 * above --run-max-gflop, or beyond --run-per-file of its batch file (the
 * first problems small enough run, so every file runs some). */
static const char *why_not_run(bench_state *s, const bench_problem *p, char *buf, size_t cap)
{
    const bench_opts *o = s->o;
    if (o->init)
        return "--mode=I";
    if (o->run_max_gflop > 0 && clconv_flops(&p->d) * 1e-9 > o->run_max_gflop) {
        snprintf(buf, cap, "above --run-max-gflop=%g", o->run_max_gflop);
        return buf;
    }
    if (o->run_per_file >= 0 && p->file >= 0 && s->ran[p->file]++ >= o->run_per_file) {
        snprintf(buf, cap, "beyond --run-per-file=%ld", o->run_per_file);
        return buf;
    }
    return NULL;
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
        st = clconv_workspace_size(s->ctx, &p->d, (clconv_pass)row->pass,
                                   (clconv_algo)row->algo, &ws);
        snprintf(err, sizeof err, "clconv_workspace_size: %s: %s", clconv_status_name(st),
                 clconv_status_string(st));
    }
    if (st == CLCONV_OK)
        st = bench_bufs_fit(&p->d, p->dirs, s->o->offset, &s->lim, ws, err, sizeof err);
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
            row_init(&row, p, pass, a);
            if (status == BENCH_ROW_INITIALIZED) {
                init_row(s, &row, why);
            } else {
                row.status = status;
                snprintf(row.note, sizeof row.note, "%s", why);
            }
            bench_report_row(&s->rep, &row);
        }
    }
}

static void run_problem(bench_state *s, size_t i)
{
    const bench_problem *p = &s->o->probs[i];
    bench_bufs b;
    char err[256], buf[64];
    clconv_status st = CLCONV_OK;
    const char *why = why_not_run(s, p, buf, sizeof buf);
    if (why) {
        rows_not_run(s, p, BENCH_ROW_INITIALIZED, why);
    } else if ((st = bench_bufs_create(s->ctx, &p->d, p->dirs, s->o->offset, &s->lim,
                                       s->o->seed * 1000003u + i, &b, err, sizeof err))) {
        rows_not_run(s, p, bench_status_row(st), err);
    } else {
        for (int pass = 0; pass < BENCH_NPASS; pass++)
            if (p->dirs & (1u << pass))
                run_pass(s, p, &b, pass);
        bench_bufs_free(&b);
    }
    bench_report_problem_done(&s->rep, p);
}

/* ---- setup ---- */

/* 0, or the exit status: a selector (--device or CLCONV_DEVICE) that
 * matches no device is a usage error, like any other bad option value; no
 * OpenCL device at all is the machine's failure. */
static int open_device(bench_state *s)
{
    clconv_status st = clconv_create_with(s->o->device, &s->ctx);
    if (st != CLCONV_OK) {
        fprintf(stderr, "clconv-bench: error: cannot open the OpenCL device%s%s%s: %s (%s)%s\n",
                s->o->device ? " \"" : "", s->o->device ? s->o->device : "",
                s->o->device ? "\"" : "", clconv_status_name(st), clconv_status_string(st),
                st == CLCONV_DEVICE_NOT_FOUND ? " (see --help; clinfo -l lists the devices)" : "");
        return st == CLCONV_DEVICE_NOT_FOUND ? BENCH_EXIT_USAGE : BENCH_EXIT_FAILED;
    }
    s->q = clconv_cl_queue(s->ctx);
    s->clock = bench_clock_probe(s->q);
    bench_limits_query(clconv_cl_device(s->ctx), &s->lim);
    return 0;
}

static void environment(bench_state *s, bench_peak *pk, bench_env *env)
{
    memset(pk, 0, sizeof *pk);
    memset(env, 0, sizeof *env);
    if (!s->ctx) { /* nothing to run, so no device was opened */
        env->device = "no device (no problems to run)";
        env->clock = "-";
        env->no_device = 1;
        return;
    }
    if (s->o->perf && s->o->peak_gflops > 0)
        pk->gflops = s->o->peak_gflops;
    else if (s->o->perf)
        bench_measure_peak(clconv_cl_context(s->ctx), clconv_cl_device(s->ctx), s->q, pk);
    s->peer = s->o->perf && s->o->peer_clblast && bench_peer_available();
    if (s->o->perf && s->o->peer_clblast && !s->peer)
        fprintf(stderr, "clconv-bench: note: --peer=clblast: the CLBlast peer is unavailable "
                        "(built without CLBlast: install libclblast-dev and rebuild)\n");
    env->device = clconv_device_name(s->ctx);
    env->peak_gflops = pk->gflops;
    env->peak_width = pk->width;
    env->peak_error = pk->error;
    env->clock = bench_clock_name(s->clock);
    env->peer = s->peer;
}

int bench_run(const bench_opts *o)
{
    bench_state s;
    memset(&s, 0, sizeof s);
    s.o = o;
    int rc = o->nprobs ? open_device(&s) : 0;
    if (rc)
        return rc;
    s.ran = calloc((size_t)o->nfiles + 1, sizeof *s.ran);
    if (!s.ran) {
        fprintf(stderr, "clconv-bench: error: out of host memory\n");
        clconv_free(s.ctx);
        return BENCH_EXIT_FAILED;
    }
    bench_peak pk;
    bench_env env;
    environment(&s, &pk, &env);
    bench_report_begin(&s.rep, o, &env);
    for (size_t i = 0; i < o->nprobs; i++)
        run_problem(&s, i);
    bench_report_end(&s.rep);
    clconv_free(s.ctx);
    free(s.ran);
    return bench_report_exit(&s.rep);
}
