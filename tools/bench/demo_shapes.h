/* demo_shapes.h - the problems of tools/shapes/demo.txt, built into the
 * binary so `clconv-bench --demo` runs from any directory. */
#ifndef BENCH_DEMO_SHAPES_H
#define BENCH_DEMO_SHAPES_H

#include <stddef.h>

extern const char *const bench_demo_shapes[];
extern const size_t bench_demo_count;

#endif
