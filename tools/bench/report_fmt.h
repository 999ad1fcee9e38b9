/* report_fmt.h - the CSV and JSON writers behind report.c, and helpers
 * both use. */
#ifndef BENCH_REPORT_FMT_H
#define BENCH_REPORT_FMT_H

#include "report.h"

const char *bench_status_word(bench_status s);  /* "PASSED", "FAILED", ... */
const char *bench_row_algo(const bench_row *row); /* algorithm name, "-" for bwd_b */
double bench_row_gflops(const bench_row *row);  /* achieved GFLOP/s, 0 if not timed */
double bench_row_peak_pct(const bench_report *r, const bench_row *row); /* < 0: n/a */
double bench_row_peer_ratio(const bench_row *row, int peer); /* peer ms / clconv ms, 0: n/a */
double bench_row_peer_gflops(const bench_row *row, int peer); /* 0: n/a */
/* The repro command of one row (its pass and algorithm only; mode I if
 * the row was only initialized), malloc'ed; NULL if out of memory. */
char *bench_row_repro(const bench_report *r, const bench_row *row, const char *mode);
/* s, or a stand-in where a repro line could not be made (out of memory). */
const char *bench_repro_text(const char *s);

void bench_csv_header(FILE *f);
void bench_csv_row(FILE *f, const bench_report *r, const bench_row *row, int id);
void bench_json_begin(FILE *f, const bench_opts *o, const bench_env *env);
void bench_json_row(FILE *f, const bench_report *r, const bench_row *row, int id);
void bench_json_end(FILE *f, const bench_report *r);

#endif
