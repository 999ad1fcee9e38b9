/* problem_opts.c - --dt, --stag/--dtag, --wtag, --attr-post-ops,
 * --deconv (see problem_opts.h). */
#include "problem_opts.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "errmsg.h"
#include "options.h"

typedef struct name_code {
    const char *name;
    int code;
} name_code;

static int lookup(const name_code *t, size_t n, const char *s, size_t len)
{
    for (size_t i = 0; i < n; i++)
        if (strlen(t[i].name) == len && !strncasecmp(t[i].name, s, len))
            return t[i].code;
    return -2;
}

#define LOOKUP(t, s, len) lookup((t), sizeof(t) / sizeof(t)[0], (s), (len))

static const name_code dts[] = {{"f32", CLCONV_F32}, {"f16", CLCONV_F16}, {"bf16", CLCONV_BF16}};

/* --dt=T or benchdnn's per-tensor --dt=T:T:T (clconv stores every tensor
 * in one type, so the parts must agree). */
static int parse_dt(const char *v, clconv_dtype *out, char *err, size_t cap)
{
    int t = -2;
    for (const char *p = v;; p++) {
        size_t len = strcspn(p, ":");
        int u = LOOKUP(dts, p, len);
        if (u < 0)
            return bench_err(err, cap, "--dt=%s: want f32, f16 or bf16", v);
        if (t >= 0 && u != t)
            return bench_err(err, cap, "--dt=%s: clconv stores every tensor of a call in one data "
                                  "type", v);
        t = u;
        p += len;
        if (!*p)
            break;
    }
    *out = (clconv_dtype)t;
    return 0;
}

/* benchdnn's older --cfg names of the same configurations. */
static int parse_cfg(const char *v, clconv_dtype *out, char *err, size_t cap)
{
    static const name_code cfgs[] = {{"f32", CLCONV_F32},          {"f32f32f32", CLCONV_F32},
                                     {"f16", CLCONV_F16},          {"f16f16f16", CLCONV_F16},
                                     {"bf16", CLCONV_BF16},        {"bf16bf16bf16", CLCONV_BF16}};
    int t = LOOKUP(cfgs, v, strlen(v));
    if (t < 0)
        return bench_err(err, cap, "--cfg=%s: clconv runs f32, f16 and bf16 (every tensor in one "
                              "type); want one of those", v);
    *out = (clconv_dtype)t;
    return 0;
}

static int parse_act_tag(const char *opt, const char *v, int *out, char *err, size_t cap)
{
    static const name_code tags[] = {{"any", BENCH_TAG_ANY}, {"nchw", CLCONV_NCHW},
                                     {"abcd", CLCONV_NCHW},  {"ncw", CLCONV_NCHW},
                                     {"nhwc", CLCONV_NHWC},  {"acdb", CLCONV_NHWC},
                                     {"nwc", CLCONV_NHWC}};
    int t = LOOKUP(tags, v, strlen(v));
    if (t == -2)
        return bench_err(err, cap, "%s=%s: want nchw, nhwc or any", opt, v);
    *out = t;
    return 0;
}

static int parse_wei_tag(const char *v, int *out, char *err, size_t cap)
{
    static const name_code tags[] = {
        {"any", BENCH_TAG_ANY},  {"oihw", CLCONV_KCRS},  {"goihw", CLCONV_KCRS},
        {"abcd", CLCONV_KCRS},   {"abcde", CLCONV_KCRS}, {"oiw", CLCONV_KCRS},
        {"goiw", CLCONV_KCRS},   {"ohwi", CLCONV_KRSC},  {"gohwi", CLCONV_KRSC},
        {"acdb", CLCONV_KRSC},   {"abdec", CLCONV_KRSC}, {"owi", CLCONV_KRSC},
        {"gowi", CLCONV_KRSC},
    };
    int t = LOOKUP(tags, v, strlen(v));
    if (t == -2)
        return bench_err(err, cap, "--wtag=%s: want oihw, ohwi (goihw, gohwi with groups) or any", v);
    *out = t;
    return 0;
}

static const char *opt_value_of(const char *tok, const char *name)
{
    size_t n = strlen(name);
    return strncmp(tok, name, n) == 0 && tok[n] == '=' ? tok + n + 1 : NULL;
}

void bench_features_reset(bench_features *f)
{
    int deconv = f->deconv;
    memset(f, 0, sizeof *f);
    f->dt = CLCONV_F32;
    f->stag = f->dtag = f->wtag = BENCH_TAG_ANY;
    f->ops.act = CLCONV_ACT_IDENTITY;
    f->deconv = deconv;
}

int bench_features_option(bench_features *f, const char *tok, char *err, size_t cap)
{
    const char *v;
    int rc = 0;
    if (!strcmp(tok, "--deconv") || !strcmp(tok, "--conv"))
        f->deconv = tok[2] == 'd';
    else if ((v = opt_value_of(tok, "--dt")))
        rc = parse_dt(v, &f->dt, err, cap);
    else if ((v = opt_value_of(tok, "--cfg")))
        rc = parse_cfg(v, &f->dt, err, cap);
    else if ((v = opt_value_of(tok, "--stag")))
        rc = parse_act_tag("--stag", v, &f->stag, err, cap);
    else if ((v = opt_value_of(tok, "--dtag")))
        rc = parse_act_tag("--dtag", v, &f->dtag, err, cap);
    else if ((v = opt_value_of(tok, "--wtag")))
        rc = parse_wei_tag(v, &f->wtag, err, cap);
    else if ((v = opt_value_of(tok, "--attr-post-ops")))
        rc = bench_post_ops_parse(v, &f->ops, err, cap);
    else
        return 0;
    return rc ? -1 : 1;
}

static int has_backward(unsigned dirs)
{
    return (dirs & ~(1u << BENCH_FWD)) != 0;
}

int bench_features_apply(const bench_features *f, struct bench_problem *p, char *err,
                         size_t cap)
{
    if (f->stag != BENCH_TAG_ANY && f->dtag != BENCH_TAG_ANY && f->stag != f->dtag)
        return bench_err(err, cap, "--stag=%s with --dtag=%s: clconv keeps x and y (and dx, dy) in "
                              "one layout; give both the same, or one of them as any",
                    bench_layout_tag(f->stag), bench_layout_tag(f->dtag));
    if (bench_post_ops_any(&f->ops) && has_backward(p->dirs)) {
        char dirs[64];
        bench_dirs_str(p->dirs, dirs, sizeof dirs);
        return bench_err(err, cap, "--attr-post-ops with --dir=%s: %s: clconv's fused epilogue "
                              "belongs to the forward pass (give post-ops with --dir=fwd or "
                              "FWD_B only)", dirs, clconv_status_name(CLCONV_BAD_EPILOGUE));
    }
    if (bench_post_ops_any(&f->ops) && f->deconv)
        return bench_err(err, cap, "--attr-post-ops with --deconv: clconv_transposed_forward has no "
                              "fused epilogue (only a bias: --dir=FWD_B)");
    p->d.dtype = f->dt;
    p->d.layout = f->stag != BENCH_TAG_ANY ? f->stag : f->dtag != BENCH_TAG_ANY ? f->dtag
                                                                               : CLCONV_NCHW;
    p->d.filter_layout = f->wtag != BENCH_TAG_ANY ? f->wtag : CLCONV_KCRS;
    p->deconv = f->deconv;
    p->bias = f->fwd_bias && (p->dirs & (1u << BENCH_FWD));
    p->ops = f->ops;
    return 0;
}

const char *bench_dt_name(clconv_dtype t)
{
    return t == CLCONV_F16 ? "f16" : t == CLCONV_BF16 ? "bf16" : "f32";
}

const char *bench_layout_tag(int layout)
{
    return layout == CLCONV_NHWC ? "nhwc" : layout == CLCONV_NCHW ? "nchw" : "any";
}

const char *bench_filter_tag(int filter_layout)
{
    return filter_layout == CLCONV_KRSC ? "ohwi" : filter_layout == CLCONV_KCRS ? "oihw" : "any";
}
