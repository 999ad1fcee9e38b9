/* demo_shapes.h - the problems of --demo, built into the binary so that
 * `clconv-bench --demo` runs from any directory: the edge-case set of
 * tools/shapes/edge.txt, checked through every pass and algorithm, and the
 * six anchor layers of tools/shapes/anchors.txt, timed. */
#ifndef BENCH_DEMO_SHAPES_H
#define BENCH_DEMO_SHAPES_H

#include <stddef.h>

extern const char *const bench_demo_check_shapes[];
extern const size_t bench_demo_check_count;
extern const char *const bench_demo_timed_shapes[];
extern const size_t bench_demo_timed_count;

#endif
