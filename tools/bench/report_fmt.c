/* report_fmt.c - CSV and JSON rows (see report_fmt.h). */
#include "report_fmt.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "problem.h"
#include "repro.h"

const char *bench_status_word(bench_status s)
{
    static const char *const w[] = {"RAN",           "PASSED",      "FAILED",       "SKIPPED",
                                    "UNIMPLEMENTED", "INITIALIZED", "NOT_SUPPORTED"};
    return s <= BENCH_ROW_NOT_SUPPORTED ? w[s] : "?";
}

const char *bench_row_algo(const bench_row *row)
{
    return row->algo < 0 ? "-" : clconv_algo_name((clconv_algo)row->algo);
}

double bench_row_gflops(const bench_row *row)
{
    return row->timed && row->t.median_ms > 0 ? row->gflop / (row->t.median_ms * 1e-3) : 0.0;
}

double bench_row_peak_pct(const bench_report *r, const bench_row *row)
{
    if (!row->timed || row->pass == BENCH_BWD_B || r->peak_gflops <= 0)
        return -1.0;
    return 100.0 * bench_row_gflops(row) / r->peak_gflops;
}

double bench_row_peer_ratio(const bench_row *row, int peer)
{
    if (!row->timed || !row->peer_timed[peer] || row->t.median_ms <= 0)
        return 0.0;
    return row->peer[peer].median_ms / row->t.median_ms;
}

double bench_row_peer_gflops(const bench_row *row, int peer)
{
    double ms = row->peer[peer].median_ms;
    return row->peer_timed[peer] && ms > 0 ? row->gflop / (ms * 1e-3) : 0.0;
}

char *bench_row_repro(const bench_report *r, const bench_row *row, const char *mode)
{
    unsigned algos = row->algo < 0 ? BENCH_ALGO_BIT(CLCONV_ALGO_AUTO) : BENCH_ALGO_BIT(row->algo);
    /* what reproduces a row that was only initialized is --mode=I */
    return bench_repro(r->o, row->p, row->init_only ? "I" : mode, 1u << row->pass, algos);
}

const char *bench_repro_text(const char *s)
{
    return s ? s : "(out of host memory)";
}

/* ---- CSV ---- */

static void csv_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

static void csv_num(FILE *f, int valid, const char *fmt, double v)
{
    fputc(',', f);
    if (valid)
        fprintf(f, fmt, v);
}

void bench_csv_header(FILE *f)
{
    fprintf(f, "id,name,desc,options,pass,algo,mb,gflop,median_ms,min_ms,gflops,peak_pct,status,"
               "rel_err,max_abs");
    for (int p = 0; p < BENCH_NPEERS; p++)
        fprintf(f, ",%s_median_ms,%s_ratio", bench_peer_name(p), bench_peer_name(p));
    fprintf(f, ",note,repro\n");
}

void bench_csv_row(FILE *f, const bench_report *r, const bench_row *row, int id)
{
    char desc[600], opts[200];
    bench_problem_desc(row->p, 0, desc, sizeof desc);
    bench_problem_options(row->p, opts, sizeof opts);
    char *repro = bench_row_repro(r, row, bench_mode_str(r->o));
    fprintf(f, "%d,", id);
    csv_str(f, row->p->name);
    fprintf(f, ",%s,", desc);
    csv_str(f, opts);
    fprintf(f, ",%s,%s,%lld,%.6g", bench_problem_pass(row->p, row->pass), bench_row_algo(row),
            (long long)row->p->d.n, row->gflop);
    csv_num(f, row->timed, "%.4f", row->t.median_ms);
    csv_num(f, row->timed, "%.4f", row->t.min_ms);
    csv_num(f, row->timed, "%.3f", bench_row_gflops(row));
    double pct = bench_row_peak_pct(r, row);
    csv_num(f, pct >= 0, "%.2f", pct);
    fprintf(f, ",%s", bench_status_word(row->status));
    csv_num(f, row->checked && isfinite(row->cmp.rel_err), "%.3g", row->cmp.rel_err);
    csv_num(f, row->checked, "%.3g", row->cmp.max_abs);
    for (int p = 0; p < BENCH_NPEERS; p++) {
        double ratio = bench_row_peer_ratio(row, p);
        csv_num(f, row->peer_timed[p], "%.4f", row->peer[p].median_ms);
        csv_num(f, ratio > 0, "%.3f", ratio);
    }
    fputc(',', f);
    csv_str(f, row->note);
    fputc(',', f);
    csv_str(f, bench_repro_text(repro));
    fputc('\n', f);
    fflush(f);
    free(repro);
}

/* ---- JSON ---- */

static void json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

static void json_num(FILE *f, const char *key, int valid, double v)
{
    fprintf(f, ", \"%s\": ", key);
    if (valid && isfinite(v))
        fprintf(f, "%.6g", v);
    else
        fprintf(f, "null");
}

void bench_json_begin(FILE *f, const bench_opts *o, const bench_env *env)
{
    fprintf(f, "{\"tool\": \"clconv-bench\", \"library\": ");
    json_str(f, clconv_version_string());
    fprintf(f, ", \"device\": ");
    json_str(f, env->device);
    json_num(f, "peak_gflops", env->peak_gflops > 0, env->peak_gflops);
    fprintf(f, ", \"clock\": ");
    json_str(f, env->clock);
    fprintf(f, ", \"peers\": {");
    for (int p = 0, first = 1; p < BENCH_NPEERS; p++) {
        if (!env->peer_about[p])
            continue;
        fprintf(f, "%s\"%s\": {\"ran\": %s, \"about\": ", first ? "" : ", ", bench_peer_name(p),
                env->peers[p] ? "true" : "false");
        json_str(f, env->peer_about[p]);
        fputc('}', f);
        first = 0;
    }
    fprintf(f, "}, \"mode\": \"%s\", \"reps\": %d, \"warmup\": %d, \"tolerance\": %g,\n"
               " \"results\": [", bench_mode_str(o), o->reps, o->warmup, BENCH_TOL);
    /* the tolerance of fp32; fp16 and bf16 rows add their roundoff (check.h) */
    fflush(f);
}

void bench_json_row(FILE *f, const bench_report *r, const bench_row *row, int id)
{
    char desc[600], opts[200];
    bench_problem_desc(row->p, 0, desc, sizeof desc);
    bench_problem_options(row->p, opts, sizeof opts);
    char *repro = bench_row_repro(r, row, bench_mode_str(r->o));
    fprintf(f, "%s\n  {\"id\": %d, \"name\": ", id ? "," : "", id);
    json_str(f, row->p->name);
    fprintf(f, ", \"desc\": \"%s\", \"options\": ", desc);
    json_str(f, opts);
    fprintf(f, ", \"pass\": \"%s\", \"algo\": \"%s\", \"mb\": %lld",
            bench_problem_pass(row->p, row->pass), bench_row_algo(row), (long long)row->p->d.n);
    json_num(f, "gflop", 1, row->gflop);
    json_num(f, "median_ms", row->timed, row->t.median_ms);
    json_num(f, "min_ms", row->timed, row->t.min_ms);
    json_num(f, "gflops", row->timed, bench_row_gflops(row));
    double pct = bench_row_peak_pct(r, row);
    json_num(f, "peak_pct", pct >= 0, pct);
    fprintf(f, ", \"status\": \"%s\"", bench_status_word(row->status));
    json_num(f, "rel_err", row->checked, row->cmp.rel_err);
    json_num(f, "max_abs", row->checked, row->cmp.max_abs);
    for (int p = 0; p < BENCH_NPEERS; p++) {
        char key[40];
        double ratio = bench_row_peer_ratio(row, p);
        snprintf(key, sizeof key, "%s_median_ms", bench_peer_name(p));
        json_num(f, key, row->peer_timed[p], row->peer[p].median_ms);
        snprintf(key, sizeof key, "%s_ratio", bench_peer_name(p));
        json_num(f, key, ratio > 0, ratio);
    }
    fprintf(f, ", \"note\": ");
    json_str(f, row->note);
    fprintf(f, ", \"repro\": ");
    json_str(f, bench_repro_text(repro));
    fputc('}', f);
    fflush(f);
    free(repro);
}

void bench_json_end(FILE *f, const bench_report *r)
{
    fprintf(f, "\n ],\n \"summary\": {\"tests\": %d, \"passed\": %d, \"failed\": %d, "
               "\"skipped\": %d, \"unimplemented\": %d, \"initialized\": %d, "
               "\"not_supported\": %d, \"unsupported\": %zu, \"invalid\": %zu}",
            r->tests, r->passed, r->failed, r->skipped, r->unimpl, r->initialized,
            r->not_supported, r->o->unsupported, r->o->invalid);
    const bench_means *m = &r->m;
    fprintf(f, ",\n \"geomean_gflops\": {");
    int first = 1;
    for (int p = 0; p < BENCH_NPASS; p++)
        for (int a = 0; a < CLCONV_ALGO_COUNT_; a++) {
            if (!m->n_gflops[p][a])
                continue;
            fprintf(f, "%s\"%s/%s\": %.6g", first ? "" : ", ", bench_pass_name(p),
                    p == BENCH_BWD_B ? "-" : clconv_algo_name((clconv_algo)a),
                    bench_geomean(m->log_gflops[p][a], m->n_gflops[p][a]));
            first = 0;
        }
    /* "peer/pass/algo": the peer's time over clconv's */
    fprintf(f, "}, \"geomean_peer_ratio\": {");
    first = 1;
    for (int q = 0; q < BENCH_NPEERS; q++)
        for (int p = 0; p < BENCH_NPASS; p++)
            for (int a = 0; a < CLCONV_ALGO_COUNT_; a++) {
                if (!m->n_ratio[q][p][a])
                    continue;
                fprintf(f, "%s\"%s/%s/%s\": %.6g", first ? "" : ", ", bench_peer_name(q),
                        bench_pass_name(p), clconv_algo_name((clconv_algo)a),
                        bench_geomean(m->log_ratio[q][p][a], m->n_ratio[q][p][a]));
                first = 0;
            }
    fprintf(f, "}}\n");
    fflush(f);
}
