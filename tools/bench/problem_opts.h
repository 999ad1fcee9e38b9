/* problem_opts.h - the per-problem options of clconv 0.3's features, in
 * benchdnn's spelling: --dt (and --cfg), --stag / --dtag, --wtag,
 * --attr-post-ops, --deconv / --conv, and --dir=FWD_B's bias.  Like
 * --dir, they apply to the problems after them; --reset restores their
 * defaults (the driver, --conv or --deconv, stays).  Pure: messages go to
 * the caller, which reports them as usage errors. */
#ifndef BENCH_PROBLEM_OPTS_H
#define BENCH_PROBLEM_OPTS_H

#include <stddef.h>

#include "clconv.h"
#include "post_ops.h"

#define BENCH_TAG_ANY (-1)

typedef struct bench_features {
    clconv_dtype dt;            /* --dt, --cfg */
    int stag, dtag;             /* clconv_layout of x and y, or BENCH_TAG_ANY */
    int wtag;                   /* clconv_filter_layout, or BENCH_TAG_ANY */
    int deconv;                 /* --deconv: transposed convolutions */
    int fwd_bias;               /* --dir=FWD_B (or FWD_I): the forward adds bias[k] */
    bench_post_ops ops;         /* --attr-post-ops */
} bench_features;

struct bench_problem;

/* The defaults (fp32, any layout, no bias or post-ops); the driver stays. */
void bench_features_reset(bench_features *f);
/* 1 if tok is one of these options (applied to f); 0 if it is not; -1
 * for a bad value, with the reason in err. */
int bench_features_option(bench_features *f, const char *tok, char *err, size_t cap);
/* Give problem p (its descriptor parsed, dirs set) the features: dtype
 * and layouts into p->d, the driver, bias and post-ops.  -1 with the
 * reason in err when they do not go together: x and y in different
 * layouts, post-ops on a backward pass (CLCONV_BAD_EPILOGUE) or on a
 * deconvolution (clconv_transposed_forward takes a bias only). */
int bench_features_apply(const bench_features *f, struct bench_problem *p, char *err,
                         size_t cap);

/* benchdnn's names of a problem's settings, for repro lines: "f16",
 * "nhwc", "ohwi". */
const char *bench_dt_name(clconv_dtype t);
const char *bench_layout_tag(int layout);
const char *bench_filter_tag(int filter_layout);

#endif
