/* problem.h - what a problem is beyond its descriptor: the shapes and
 * layouts of its tensors, the convolution the float64 reference runs, its
 * work, its descriptor as printed, and its passes' names. */
#ifndef BENCH_PROBLEM_H
#define BENCH_PROBLEM_H

#include <stddef.h>

#include "options.h"
#include "storage.h"

/* x (N C H W), w (convolution: K C/g R S; deconvolution: C K/g R S),
 * y (N K P Q; deconvolution N K HO WO) and the bias (K), channels-first
 * dims with each one's storage layout. */
typedef struct bench_shape {
    bench_layout x, w, y, b;
    /* the convolution the reference runs: the descriptor itself, or, for a
     * deconvolution, the one whose backward-data it is (clconv_transposed_as_conv's) */
    clconv_desc conv;
} bench_shape;

/* The problem's shape, or the status its descriptor gets (the library's
 * own check of the convolution, after the transposed convolution's output
 * size and output padding for a deconvolution). */
clconv_status bench_problem_shape(const bench_problem *p, bench_shape *s);

/* The FLOP a pass does (2 N K C/g R S P Q of the convolution, padding
 * included; the output's elements for backward-bias); 0 if invalid. */
double bench_problem_flop(const bench_problem *p, int pass);

/* The descriptor in benchdnn's syntax (deconv syntax for a
 * deconvolution), with its name when with_name; snprintf semantics. */
int bench_problem_desc(const bench_problem *p, int with_name, char *buf, size_t cap);

/* What the peers (CLBlast, PyTorch) compute: a plain convolution, fp32,
 * NCHW / KCRS, equal padding, no bias or post-ops. */
int bench_problem_plain(const bench_problem *p);

/* "fwd_b" for the forward of a problem with a bias, else
 * bench_pass_name(pass). */
const char *bench_problem_pass(const bench_problem *p, int pass);

#endif
