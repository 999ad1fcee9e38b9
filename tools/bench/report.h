/* report.h - results: an aligned table (default), CSV or JSON on stdout,
 * benchdnn-style N:PASSED / N:FAILED lines with repro command lines, the
 * summary "tests:N passed:N failed:N ...", geometric means. */
#ifndef BENCH_REPORT_H
#define BENCH_REPORT_H

#include <stdio.h>

#include "check.h"
#include "options.h"
#include "timing.h"

typedef enum bench_status {
    BENCH_ROW_RAN = 0,      /* timed, not checked */
    BENCH_ROW_PASSED,
    BENCH_ROW_FAILED,       /* wrong result, or the pass returned an error */
    BENCH_ROW_SKIPPED,      /* not checked (reference too large) or could not run
                             * (the device cannot hold it: DEVICE_LIMIT, TOO_LARGE) */
    BENCH_ROW_UNIMPLEMENTED,/* the algorithm does not implement the pass */
    BENCH_ROW_INITIALIZED   /* the library's checks passed; not run (--mode=I) */
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
    int peer_timed;         /* peer (forward, same problem) */
    bench_timing peer;
    char note[320];         /* why FAILED / SKIPPED / UNIMPLEMENTED */
} bench_row;

typedef struct bench_report {
    const bench_opts *o;
    FILE *out, *msg;        /* results; human messages (stderr with --csv/--json) */
    int name_w, peer_cols;
    double peak_gflops;
    int tests, passed, failed, skipped, unimpl, initialized;
    int above_peak;         /* rows above 100% of the peak */
    double log_gflops[BENCH_NPASS][CLCONV_ALGO_COUNT_];
    int n_gflops[BENCH_NPASS][CLCONV_ALGO_COUNT_];
    double log_ratio[CLCONV_ALGO_COUNT_];
    int n_ratio[CLCONV_ALGO_COUNT_];
} bench_report;

typedef struct bench_env {
    const char *device;     /* clconv_device_name() */
    double peak_gflops;     /* 0: unknown */
    int peak_width;
    const char *peak_error;
    const char *clock;      /* bench_clock_name() */
    int peer;               /* the peer runs */
    int no_device;          /* nothing to run, so no device was opened */
} bench_env;

void bench_report_begin(bench_report *r, const bench_opts *o, const bench_env *env);
void bench_report_row(bench_report *r, const bench_row *row);
void bench_report_problem_done(bench_report *r, const bench_problem *p);
void bench_report_end(bench_report *r);

/* Exit status of the run: BENCH_EXIT_FAILED if a row failed or a batch
 * file held an invalid descriptor, else BENCH_EXIT_OK. */
int bench_report_exit(const bench_report *r);

#endif
