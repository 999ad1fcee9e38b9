/* problem.c - shapes, work and names of a problem (see problem.h). */
#include "problem.h"

#include <string.h>

#include "desc_parse.h"

static void shape_layout(bench_layout *l, int64_t a, int64_t b, int64_t c, int64_t d, int cl)
{
    *l = (bench_layout){{a, b, c, d}, cl};
}

/* clconv_transposed_output_size's formula, one dimension. */
static int64_t deconv_out(int64_t i, int64_t k, int64_t s, int64_t p, int64_t pe, int64_t op,
                          int64_t dil)
{
    return (i - 1) * s - p - pe + (k - 1) * dil + 1 + op;
}

/* The convolution whose backward-data the transposed convolution d is
 * (clconv_transposed_as_conv's rule, computed here so that the reference
 * does not depend on the calls it checks). */
static clconv_status deconv_as_conv(const clconv_desc *d, clconv_desc *conv)
{
    if (d->out_pad_h < 0 || d->out_pad_w < 0 || d->out_pad_h >= d->stride_h ||
        d->out_pad_w >= d->stride_w)
        return CLCONV_BAD_PADDING;
    const int asym = d->pad_asymmetric == 1;
    const int64_t ho = deconv_out(d->h, d->r, d->stride_h, d->pad_h,
                                  asym ? d->pad_h_end : d->pad_h, d->out_pad_h, d->dilation_h);
    const int64_t wo = deconv_out(d->w, d->s, d->stride_w, d->pad_w,
                                  asym ? d->pad_w_end : d->pad_w, d->out_pad_w, d->dilation_w);
    if (ho < 1 || wo < 1)
        return CLCONV_EMPTY_OUTPUT;
    *conv = *d;
    conv->c = d->k;
    conv->h = ho;
    conv->w = wo;
    conv->k = d->c;
    conv->out_pad_h = conv->out_pad_w = 0;
    return CLCONV_OK;
}

clconv_status bench_problem_shape(const bench_problem *p, bench_shape *s)
{
    const clconv_desc *d = &p->d;
    memset(s, 0, sizeof *s);
    s->conv = *d;
    clconv_status st = p->deconv ? deconv_as_conv(d, &s->conv) : CLCONV_OK;
    int64_t cp, cq; /* the convolution's output: x's size for a deconvolution */
    if (st == CLCONV_OK)
        st = clconv_output_size(&s->conv, &cp, &cq);
    if (st != CLCONV_OK)
        return st;
    const int cl = d->layout == CLCONV_NHWC, wcl = d->filter_layout == CLCONV_KRSC;
    const int64_t g = d->groups;
    shape_layout(&s->x, d->n, d->c, d->h, d->w, cl);
    if (p->deconv) {
        shape_layout(&s->w, d->c, d->k / g, d->r, d->s, wcl);
        shape_layout(&s->y, d->n, d->k, s->conv.h, s->conv.w, cl);
    } else {
        shape_layout(&s->w, d->k, d->c / g, d->r, d->s, wcl);
        shape_layout(&s->y, d->n, d->k, cp, cq, cl);
    }
    shape_layout(&s->b, 1, d->k, 1, 1, 0);
    return CLCONV_OK;
}

double bench_problem_flop(const bench_problem *p, int pass)
{
    bench_shape s;
    if (bench_problem_shape(p, &s) != CLCONV_OK)
        return 0.0;
    return pass == BENCH_BWD_B ? (double)bench_layout_elems(&s.y) : clconv_flops(&s.conv);
}

int bench_problem_desc(const bench_problem *p, int with_name, char *buf, size_t cap)
{
    const char *name = with_name ? p->name : NULL;
    return p->deconv ? bench_format_deconv_desc(&p->d, name, buf, cap)
                     : bench_format_desc(&p->d, name, buf, cap);
}

int bench_problem_plain(const bench_problem *p)
{
    const clconv_desc *d = &p->d;
    return !p->deconv && !p->bias && !bench_post_ops_any(&p->ops) && d->dtype == CLCONV_F32 &&
           d->layout == CLCONV_NCHW && d->filter_layout == CLCONV_KCRS && !d->pad_asymmetric;
}

const char *bench_problem_pass(const bench_problem *p, int pass)
{
    return pass == BENCH_FWD && p->bias ? "fwd_b" : bench_pass_name(pass);
}
