/* post_ops.h - benchdnn's --attr-post-ops as clconv's fused forward
 * epilogue, y = act(conv + sum * y_old + bias[k]).
 *
 * Syntax (benchdnn's knobs_attr.md): post-ops joined by '+' (or ';'),
 * each KIND[:ALPHA[:BETA[:SCALE]]] for an eltwise and
 * sum[:SCALE[:ZERO_POINT]] for the sum.  What clconv's epilogue can hold:
 * at most one sum, before at most one eltwise, of
 *   relu             ReLU; relu:ALPHA with ALPHA != 0 is leaky (slope ALPHA)
 *   bounded_relu:A   clipped ReLU min(max(v, 0), A)
 *   clip:0:B         the same with B (the lower bound must be 0)
 *   logistic, tanh   sigmoid, tanh
 * (an "eltwise_" prefix is accepted; an eltwise SCALE must be 1, a sum's
 * ZERO_POINT 0).  Anything else is refused with the reason. */
#ifndef BENCH_POST_OPS_H
#define BENCH_POST_OPS_H

#include <stddef.h>

#include "clconv.h"

typedef struct bench_post_ops {
    int has_sum;
    float sum;                  /* the sum's scale: the epilogue's beta */
    int act;                    /* clconv_activation (IDENTITY: no eltwise) */
    float param;                /* its parameter (slope, upper bound) */
} bench_post_ops;

/* s into *p (an empty s: none).  0, or -1 with a one-line reason in err
 * (naming CLCONV_BAD_EPILOGUE where clconv_epilogue_check refuses the
 * values). */
int bench_post_ops_parse(const char *s, bench_post_ops *p, char *err, size_t cap);
int bench_post_ops_any(const bench_post_ops *p);
/* The benchdnn text that parses back to *p ("sum:0.5+relu", "" for none);
 * snprintf semantics. */
int bench_post_ops_format(const bench_post_ops *p, char *buf, size_t cap);
/* The epilogue: alpha 1, beta the sum's scale, the activation; no bias. */
void bench_post_ops_epilogue(const bench_post_ops *p, clconv_epilogue *e);
/* In float64: act(acc + sum * old + bias). */
double bench_post_ops_apply(const bench_post_ops *p, double acc, double old, double bias);

#endif
