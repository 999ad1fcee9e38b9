/* repro.h - the clconv-bench command line that reruns one problem, and
 * the one shell quoting every printed command line goes through. */
#ifndef BENCH_REPRO_H
#define BENCH_REPRO_H

#include <stddef.h>

#include "options.h"

/* A growing string; oom is set (and the text left short) when an
 * allocation failed. */
typedef struct bench_line {
    char *s;
    size_t len, cap;
    int oom;
} bench_line;

/* Appends prefix followed by value (either may be NULL) as one shell word,
 * preceded by a space unless the line is empty: as is when every character
 * is one the shell takes literally, else in single quotes with each '
 * written '\''.  POSIX sh reads the word back as exactly prefix+value,
 * whatever bytes it holds ($(...), backticks, quotes, newlines). */
void bench_line_word(bench_line *l, const char *prefix, const char *value);
void bench_line_free(bench_line *l);

/* "ARGV0 --mode=M --dir=D --algo=A [--deconv] [--dt=..] [--stag=..]
 * [--wtag=..] [--attr-post-ops=..] [--device=..] [...] DESCRIPTOR" for
 * the given mode ("C", "P", "CP", "I"), passes and algorithms (the forward
 * written fwd_b when p adds a bias), p's options where they are not the
 * defaults, every word quoted by bench_line_word.  malloc'ed; NULL if out
 * of memory. */
char *bench_repro(const bench_opts *o, const bench_problem *p, const char *mode, unsigned dirs,
                  unsigned algos);

/* The same for a whole batch file run with o's --mb. */
char *bench_repro_batch(const bench_opts *o, const char *file, const char *mode, unsigned dirs,
                        unsigned algos);

/* p's options as on its repro line ("--dt=f16 --stag=nhwc"; "" when all
 * are the defaults) into buf, truncated. */
void bench_problem_options(const bench_problem *p, char *buf, size_t cap);

/* The --mode value of o ("C", "P", "CP" or "I"). */
const char *bench_mode_str(const bench_opts *o);

#endif
