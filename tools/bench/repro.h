/* repro.h - the clconv-bench command line that reruns one problem. */
#ifndef BENCH_REPRO_H
#define BENCH_REPRO_H

#include <stddef.h>

#include "options.h"

/* "ARGV0 --mode=M --dir=D --algo=A [--device=..] [...] DESCRIPTOR" for the
 * given mode ("C", "P", "CP"), passes and algorithms. */
void bench_repro(const bench_opts *o, const bench_problem *p, const char *mode, unsigned dirs,
                 unsigned algos, char *buf, size_t cap);

/* The --mode value of o ("C", "P" or "CP"). */
const char *bench_mode_str(const bench_opts *o);

#endif
