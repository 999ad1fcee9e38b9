/* svg.h - --svg=FILE: the timed rows of a run as an SVG bar chart, plain
 * text written here (no plotting library): a group of bars per layer, a
 * cluster per pass in it, a bar per implementation (each clconv algorithm
 * timed, then each peer) in GFLOP/s, the measured FMA peak as a dashed
 * line, axis labels and a legend.  Every bar is a <rect class="bar"> with
 * a <title> tooltip giving its figure; one per timed row of clconv and one
 * per peer timing of a layer and pass. */
#ifndef BENCH_SVG_H
#define BENCH_SVG_H

#include <stddef.h>

#include "report.h"

/* 0, or -1 with the reason in err. */
int bench_svg_write(const bench_report *r, const char *path, char *err, size_t cap);

#endif
