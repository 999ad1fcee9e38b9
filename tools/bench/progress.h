/* progress.h - a one-line progress indicator on stderr ("[12/69]
 * r50_3x3_c64_56 bwd_w auto") that overwrites itself while a row runs, so
 * that a long run shows where it is.  Only when stderr is a terminal and
 * the results are the table: never with --csv or --json, nor into a file
 * or a pipe, where it would be noise. */
#ifndef BENCH_PROGRESS_H
#define BENCH_PROGRESS_H

#include <stdio.h>

typedef struct bench_progress {
    FILE *f;            /* NULL: off */
    int step, total;
    int shown;          /* a line is on the terminal */
} bench_progress;

/* on: the results are the table (no --csv / --json). */
void bench_progress_begin(bench_progress *p, int on, int total);
/* The next row: "[step/total] name pass algo" (algo may be NULL). */
void bench_progress_row(bench_progress *p, const char *name, const char *pass, const char *algo);
/* Something that takes a while and is no row ("PyTorch peer: 6 problems"). */
void bench_progress_say(bench_progress *p, const char *what);
/* Erase the line: before anything else is printed, and at the end. */
void bench_progress_clear(bench_progress *p);

#endif
