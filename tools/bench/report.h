/* report.h - results: an aligned table (default), CSV or JSON on stdout,
 * benchdnn-style N:PASSED / N:FAILED lines with repro command lines, the
 * summary "tests:N passed:N failed:N ...", geometric means. */
#ifndef BENCH_REPORT_H
#define BENCH_REPORT_H

#include <stdio.h>

#include "check.h"
#include "options.h"
#include "progress.h"
#include "timing.h"

typedef enum bench_status {
    BENCH_ROW_RAN = 0,      /* timed, not checked */
    BENCH_ROW_PASSED,
    BENCH_ROW_FAILED,       /* wrong result, or the pass returned an error */
    BENCH_ROW_SKIPPED,      /* not checked (reference too large) or could not run
                             * (the device cannot hold it: DEVICE_LIMIT, TOO_LARGE) */
    BENCH_ROW_UNIMPLEMENTED,/* the algorithm does not implement the pass */
    BENCH_ROW_INITIALIZED,  /* the library's checks passed; not run (--mode=I) */
    BENCH_ROW_NOT_SUPPORTED /* the library refused it with CLCONV_NOT_SUPPORTED (a data
                             * type, layout, epilogue or asymmetric padding the
                             * algorithm does not claim yet) */
} bench_status;

/* One pass of one problem with one algorithm. */
typedef struct bench_row {
    const bench_problem *p;
    int pass;
    int algo;               /* clconv_algo; -1 for bwd_b */
    int init_only;          /* only the library's checks ran (--mode=I and the like) */
    double gflop;           /* work of the pass */
    bench_status status;
    clconv_status lib_status; /* what the pass returned (CLCONV_OK: it ran) */
    int checked;            /* cmp is valid */
    bench_cmp cmp;
    int timed;
    bench_timing t;
    double first_ms;        /* the first call's wall time (building or loading its
                             * kernels); < 0: not measured */
    int peer_timed[BENCH_NPEERS]; /* the peers, on the same problem and pass */
    bench_timing peer[BENCH_NPEERS];
    char note[320];         /* why FAILED / SKIPPED / UNIMPLEMENTED */
} bench_row;

/* What the chart and the demo's summary keep of a timed row. */
typedef struct bench_kept {
    const bench_problem *p;
    int pass, algo;         /* algo -1 for bwd_b */
    double gflops;
    double peer_gflops[BENCH_NPEERS]; /* 0: that peer did not run */
} bench_kept;

/* Geometric means over rows, per pass and algorithm (bwd_b's under 0). */
typedef struct bench_means {
    double log_gflops[BENCH_NPASS][CLCONV_ALGO_COUNT_];
    int n_gflops[BENCH_NPASS][CLCONV_ALGO_COUNT_];
    double log_ratio[BENCH_NPEERS][BENCH_NPASS][CLCONV_ALGO_COUNT_]; /* peer ms / clconv ms */
    int n_ratio[BENCH_NPEERS][BENCH_NPASS][CLCONV_ALGO_COUNT_];
    double first_ms[BENCH_NPASS][CLCONV_ALGO_COUNT_]; /* first calls, summed over the rows */
    int n_first[BENCH_NPASS][CLCONV_ALGO_COUNT_];
} bench_means;

typedef struct bench_env {
    const char *device;     /* clconv_device_name() */
    double peak_gflops;     /* 0: unknown */
    int peak_width, peak_runs;
    const char *peak_error;
    const char *clock;      /* bench_clock_name() */
    int peers[BENCH_NPEERS];            /* which peers run */
    const char *peer_label[BENCH_NPEERS]; /* "CLBlast", "PyTorch (oneDNN)" */
    const char *peer_about[BENCH_NPEERS]; /* a line on what runs (NULL: none) */
    int no_device;          /* nothing to run, so no device was opened */
} bench_env;

typedef struct bench_report {
    const bench_opts *o;
    bench_env env;
    FILE *out, *msg;        /* results; human messages (stderr with --csv/--json) */
    int name_w;
    double peak_gflops;
    int tests, passed, failed, skipped, unimpl, initialized, not_supported;
    int above_peak;         /* rows above 100% of the peak */
    bench_means m;
    bench_kept *kept;       /* the timed rows */
    size_t nkept, kept_cap;
    int svg_failed;         /* --svg could not be written (said so) */
    bench_progress progress;
} bench_report;

/* total: the rows to come (for the progress line). */
void bench_report_begin(bench_report *r, const bench_opts *o, const bench_env *env, int total);
void bench_report_row(bench_report *r, const bench_row *row);
void bench_report_problem_done(bench_report *r, const bench_problem *p);
/* The geometric means, the summary line and --svg's chart. */
void bench_report_end(bench_report *r);
void bench_report_free(bench_report *r);

/* Exit status of the run: BENCH_EXIT_FAILED if a row failed, a batch
 * file held an invalid descriptor or --svg could not be written, else
 * BENCH_EXIT_OK. */
int bench_report_exit(const bench_report *r);

/* exp of a mean of logs; 0 when n is 0. */
double bench_geomean(double log_sum, int n);

#endif
