/* report.c - table, benchdnn-style lines and the summary (see report.h). */
#include "report.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "problem.h"
#include "repro.h"
#include "report_fmt.h"
#include "svg.h"

static int table(const bench_report *r)
{
    return !r->o->csv && !r->o->json;
}

static void print_peers(FILE *f, const bench_env *env)
{
    for (int p = 0; p < BENCH_NPEERS; p++)
        if (env->peer_about[p])
            fprintf(f, "clconv-bench: peer %s: %s\n", bench_peer_name(p), env->peer_about[p]);
}

static void print_env(FILE *f, const bench_opts *o, const bench_env *env)
{
    /* the demo's timing run follows its correctness run on the same device */
    if (o->demo_part != 2)
        fprintf(f, "clconv-bench: libclconv %s on %s\n", clconv_version_string(), env->device);
    if (env->no_device)
        return;
    if (o->perf) {
        if (env->peak_gflops > 0 && env->peak_width == 0)
            fprintf(f, "clconv-bench: fp32 peak %.1f GFLOP/s (--peak-gflops)", env->peak_gflops);
        else if (env->peak_gflops > 0)
            fprintf(f, "clconv-bench: fp32 FMA peak %.1f GFLOP/s (float%d loop, best of %d short "
                       "runs after a warm-up)", env->peak_gflops, env->peak_width, env->peak_runs);
        else
            fprintf(f, "clconv-bench: fp32 FMA peak unknown (%s)", env->peak_error);
        fprintf(f, "; timing: %s, median and min of %d after %d warm-up\n", env->clock, o->reps,
                o->warmup);
        print_peers(f, env);
    }
    if (o->check)
        fprintf(f, "clconv-bench: checks: float64 CPU reference, ||out-ref||/||ref|| <= %g "
                   "(fp32; f16 adds 2^-11, bf16 2^-8: their storage roundoff), skipped above "
                   "%g GFLOP\n", BENCH_TOL, o->ref_max_gflop);
}

static void table_header(bench_report *r)
{
    fprintf(r->out, "%5s  %-*s  %-5s  %-8s %4s %9s %9s %9s %9s %6s", "#", r->name_w, "name",
            "pass", "algo", "mb", "GFLOP", "med_ms", "min_ms", "GFLOP/s", "%peak");
    for (int p = 0; p < BENCH_NPEERS; p++) {
        char ms[24], x[24];
        snprintf(ms, sizeof ms, "%s_ms", bench_peer_name(p));
        snprintf(x, sizeof x, "x_%s", bench_peer_name(p));
        if (r->env.peers[p])
            fprintf(r->out, " %10s %9s", ms, x);
    }
    fprintf(r->out, "  status\n");
}

void bench_report_begin(bench_report *r, const bench_opts *o, const bench_env *env, int total)
{
    memset(r, 0, sizeof *r);
    r->o = o;
    r->env = *env;
    r->out = stdout;
    r->msg = table(r) ? stdout : stderr;
    r->peak_gflops = env->peak_gflops;
    bench_progress_begin(&r->progress, table(r), total);
    r->name_w = 8;
    for (size_t i = 0; i < o->nprobs; i++) {
        int n = (int)strlen(o->probs[i].name);
        if (n > r->name_w)
            r->name_w = n > 40 ? 40 : n;
    }
    print_env(r->msg, o, env);
    if (o->csv)
        bench_csv_header(r->out);
    else if (o->json)
        bench_json_begin(r->out, o, env);
    else if (o->perf)
        table_header(r);
    fflush(r->out);
}

static void put_ms(FILE *f, int valid, double v)
{
    if (valid)
        fprintf(f, " %9.3f", v);
    else
        fprintf(f, " %9s", "-");
}

static void table_row(bench_report *r, const bench_row *row, int id)
{
    FILE *f = r->out;
    fprintf(f, "%5d  %-*.*s  %-5s  %-8s %4lld %9.4g", id, r->name_w, r->name_w,
            row->p->name[0] ? row->p->name : "-", bench_problem_pass(row->p, row->pass),
            bench_row_algo(row),
            (long long)row->p->d.n, row->gflop);
    put_ms(f, row->timed, row->t.median_ms);
    put_ms(f, row->timed, row->t.min_ms);
    if (row->timed)
        fprintf(f, " %9.2f", bench_row_gflops(row));
    else
        fprintf(f, " %9s", "-");
    double pct = bench_row_peak_pct(r, row);
    if (pct >= 0)
        fprintf(f, " %6.1f", pct);
    else
        fprintf(f, " %6s", "-");
    for (int p = 0; p < BENCH_NPEERS; p++) {
        if (!r->env.peers[p])
            continue;
        double ratio = bench_row_peer_ratio(row, p);
        if (row->peer_timed[p])
            fprintf(f, " %10.3f", row->peer[p].median_ms);
        else
            fprintf(f, " %10s", "-");
        if (ratio > 0)
            fprintf(f, " %8.2fx", ratio);
        else
            fprintf(f, " %9s", "-");
    }
    fprintf(f, "  %s\n", row->status == BENCH_ROW_RAN ? "-" : bench_status_word(row->status));
}

/* benchdnn's "N:STATUS (details) __REPRO: command". */
static void test_line(bench_report *r, const bench_row *row, int id, const char *indent)
{
    char detail[480];
    char *repro = bench_row_repro(r, row, row->status == BENCH_ROW_RAN ? "P" : "C");
    if (row->checked && row->note[0])
        snprintf(detail, sizeof detail, "%s %s, rel_err %.3g, max_abs %.3g: %s",
                 bench_problem_pass(row->p, row->pass), bench_row_algo(row), row->cmp.rel_err,
                 row->cmp.max_abs, row->note);
    else if (row->checked)
        snprintf(detail, sizeof detail, "%s %s, rel_err %.3g, max_abs %.3g",
                 bench_problem_pass(row->p, row->pass), bench_row_algo(row), row->cmp.rel_err,
                 row->cmp.max_abs);
    else
        snprintf(detail, sizeof detail, "%s %s: %s", bench_problem_pass(row->p, row->pass),
                 bench_row_algo(row), row->note);
    /* in the table a pass the algorithm lacks or refuses needs no repro: the
     * problem's follows */
    int brief = (row->status == BENCH_ROW_UNIMPLEMENTED ||
                 row->status == BENCH_ROW_NOT_SUPPORTED) && *indent;
    fprintf(r->msg, "%s%d:%s (%s)%s%s\n", indent, id, bench_status_word(row->status), detail,
            brief ? "" : " __REPRO: ", brief ? "" : bench_repro_text(repro));
    free(repro);
}

static void add_log(double *sum, int *n, double v)
{
    if (v > 0) {
        *sum += log(v);
        (*n)++;
    }
}

static void keep(bench_report *r, const bench_row *row)
{
    if (r->nkept == r->kept_cap) {
        size_t cap = r->kept_cap ? 2 * r->kept_cap : 64;
        bench_kept *v = realloc(r->kept, cap * sizeof *v);
        if (!v)
            return; /* the chart lacks the row; the table has it */
        r->kept = v;
        r->kept_cap = cap;
    }
    bench_kept *k = &r->kept[r->nkept++];
    k->p = row->p;
    k->pass = row->pass;
    k->algo = row->algo;
    k->gflops = bench_row_gflops(row);
    for (int p = 0; p < BENCH_NPEERS; p++)
        k->peer_gflops[p] = bench_row_peer_gflops(row, p);
}

static void count(bench_report *r, const bench_row *row)
{
    r->tests++;
    switch (row->status) {
    case BENCH_ROW_RAN:
    case BENCH_ROW_PASSED: r->passed++; break;
    case BENCH_ROW_FAILED: r->failed++; break;
    case BENCH_ROW_SKIPPED: r->skipped++; break;
    case BENCH_ROW_INITIALIZED: r->initialized++; break;
    case BENCH_ROW_NOT_SUPPORTED: r->not_supported++; break;
    default: r->unimpl++; break;
    }
    int a = row->algo < 0 ? 0 : row->algo, pass = row->pass;
    bench_means *m = &r->m;
    r->above_peak += bench_row_peak_pct(r, row) > 100.0;
    add_log(&m->log_gflops[pass][a], &m->n_gflops[pass][a], bench_row_gflops(row));
    for (int p = 0; p < BENCH_NPEERS; p++)
        add_log(&m->log_ratio[p][pass][a], &m->n_ratio[p][pass][a], bench_row_peer_ratio(row, p));
    if (row->first_ms >= 0) {
        m->first_ms[pass][a] += row->first_ms;
        m->n_first[pass][a]++;
    }
    if (row->timed)
        keep(r, row);
}

void bench_report_row(bench_report *r, const bench_row *row)
{
    int id = r->tests;
    bench_progress_clear(&r->progress);
    count(r, row);
    if (r->o->csv)
        bench_csv_row(r->out, r, row, id);
    else if (r->o->json)
        bench_json_row(r->out, r, row, id);
    else if (r->o->perf)
        table_row(r, row, id);
    int plain = row->status == BENCH_ROW_RAN || row->status == BENCH_ROW_PASSED ||
                row->status == BENCH_ROW_INITIALIZED;
    /* the demo's correctness run shows only what did not pass */
    if ((!table(r) || !r->o->perf) && (r->o->demo_part != 1 || !plain))
        test_line(r, row, id, "");
    else if (table(r) && r->o->perf && !plain)
        test_line(r, row, id, "       ");
    fflush(r->out);
    fflush(r->msg);
}

void bench_report_problem_done(bench_report *r, const bench_problem *p)
{
    /* the demo prints one repro line for its whole table */
    if (!table(r) || !r->o->perf || r->o->demo_part)
        return;
    char *repro = bench_repro(r->o, p, bench_mode_str(r->o), p->dirs, p->algos);
    fprintf(r->out, "       repro: %s\n", bench_repro_text(repro));
    free(repro);
}

double bench_geomean(double log_sum, int n)
{
    return n ? exp(log_sum / n) : 0.0;
}

static void geomeans(bench_report *r)
{
    FILE *f = r->msg;
    const bench_means *m = &r->m;
    if (r->above_peak && r->o->peak_gflops > 0)
        fprintf(f, "clconv-bench: note: %d rows ran above --peak-gflops=%g\n", r->above_peak,
                r->o->peak_gflops);
    else if (r->above_peak)
        fprintf(f, "clconv-bench: note: %d rows ran above the FMA peak measured at the start: the "
                   "device was busy then (a shared machine?); rerun, or give --peak-gflops=X\n",
                r->above_peak);
    if (r->o->demo_part) /* the demo's summary has them */
        return;
    for (int p = 0; p < BENCH_NPASS; p++)
        for (int a = 0; a < CLCONV_ALGO_COUNT_; a++)
            if (m->n_gflops[p][a])
                fprintf(f, "geomean %s/%s: %.2f GFLOP/s over %d problems\n", bench_pass_name(p),
                        p == BENCH_BWD_B ? "-" : clconv_algo_name((clconv_algo)a),
                        bench_geomean(m->log_gflops[p][a], m->n_gflops[p][a]), m->n_gflops[p][a]);
    for (int q = 0; q < BENCH_NPEERS; q++)
        for (int p = 0; p < BENCH_NPASS; p++)
            for (int a = 0; a < CLCONV_ALGO_COUNT_; a++)
                if (m->n_ratio[q][p][a])
                    fprintf(f, "geomean %s_ms/clconv_ms (%s/%s): %.2fx over %d problems "
                               "(> 1: clconv faster)\n", bench_peer_name(q), bench_pass_name(p),
                            clconv_algo_name((clconv_algo)a),
                            bench_geomean(m->log_ratio[q][p][a], m->n_ratio[q][p][a]),
                            m->n_ratio[q][p][a]);
}

static void write_svg(bench_report *r)
{
    char err[300];
    if (bench_svg_write(r, r->o->svg, err, sizeof err) == 0)
        return;
    fprintf(stderr, "clconv-bench: error: --svg=%s: %s\n", r->o->svg, err);
    r->svg_failed = 1;
}

void bench_report_end(bench_report *r)
{
    bench_progress_clear(&r->progress);
    if (r->o->json)
        bench_json_end(r->out, r);
    if (r->o->perf)
        geomeans(r);
    if (r->o->svg)
        write_svg(r);
    if (r->o->demo_part == 2) { /* timed rows: the demo's summary says how they went */
        fflush(r->out);
        return;
    }
    fprintf(r->msg, "tests:%d passed:%d failed:%d skipped:%d unimplemented:%d", r->tests,
            r->passed, r->failed, r->skipped, r->unimpl);
    if (r->initialized)
        fprintf(r->msg, " initialized:%d", r->initialized);
    if (r->not_supported)
        fprintf(r->msg, " not_supported:%d", r->not_supported);
    if (r->o->unsupported)
        fprintf(r->msg, " unsupported:%zu", r->o->unsupported);
    if (r->o->invalid)
        fprintf(r->msg, " invalid:%zu", r->o->invalid);
    fprintf(r->msg, "\n");
    fflush(r->out);
    fflush(r->msg);
}

void bench_report_free(bench_report *r)
{
    free(r->kept);
    r->kept = NULL;
    r->nkept = r->kept_cap = 0;
}

int bench_report_exit(const bench_report *r)
{
    return r->failed || r->o->invalid || r->svg_failed ? BENCH_EXIT_FAILED : BENCH_EXIT_OK;
}
