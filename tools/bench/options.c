/* options.c - command line and --batch files into bench_opts. */
#include "options.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "batch.h"
#include "desc_parse.h"
#include "problem_opts.h"
#include "tokenize.h"

#define MAX_BATCH_DEPTH 8

static const char usage_text[] =
    "usage: %s [options] [--batch=FILE | DESCRIPTOR]...\n"
    "\n"
    "Times (and checks) clconv's convolution passes on problems written in\n"
    "benchdnn's descriptor syntax, e.g. mb2ic64ih56oc64oh56kh3ph1n\"res2\".\n"
    "Like benchdnn, --dir, --algo, --mb and the data options below apply to the\n"
    "problems after them.\n"
    "\n"
    "  --dir=LIST      passes: fwd, bwd_d, bwd_w, bwd_b (bias), all; benchdnn's\n"
    "                  FWD_B/FWD_I (forward adding a bias), FWD_D, BWD_D, BWD_W,\n"
    "                  BWD_WB too (default fwd)\n"
    "  --algo=LIST     auto, explicit, direct, gemm, tiled, winograd; all = every\n"
    "                  named one; a row each (default auto)\n"
    "  --mb=N          override the problems' minibatch (0: as written)\n"
    "  --dt=f32|f16|bf16  storage type of every tensor (fp32 arithmetic inside);\n"
    "                  benchdnn's --cfg=f32|f16|bf16 too\n"
    "  --stag=, --dtag=nchw|nhwc|any  layout of x and y (the same for both)\n"
    "  --wtag=oihw|ohwi|any  filter layout (goihw, gohwi too)\n"
    "  --attr-post-ops=LIST  the forward's fused epilogue, benchdnn's syntax:\n"
    "                  [sum[:SCALE]+]relu[:ALPHA] | bounded_relu:A | clip:0:B |\n"
    "                  logistic | tanh (forward only)\n"
    "  --deconv, --conv  the problems after it are deconvolutions (transposed\n"
    "                  convolutions: ic, ih their input, oc, oh their output), or\n"
    "                  convolutions again\n"
    "  --reset         --dir, --algo, --mb and the data options back to their\n"
    "                  defaults\n"
    "  --batch=FILE    read problems and options from FILE ('#' comments; a\n"
    "                  nested FILE is looked up next to the including file first)\n"
    "  --mode=C|P|CP|I C: check against the float64 CPU reference (benchdnn's\n"
    "                  N:PASSED / N:FAILED lines); P: time (default); CP: both;\n"
    "                  I: only the library's checks of each problem, nothing runs\n"
    "  --run-per-file=N  run only the first N problems of each batch file\n"
    "  --run-max-gflop=X run only problems of at most X GFLOP per pass; with\n"
    "                  either, the problems not run get --mode=I's checks\n"
    "  --device=SEL    OpenCL device: \"P:D\", gpu, cpu, or a name part (default:\n"
    "                  $CLCONV_DEVICE, else the first GPU, else the first CPU)\n"
    "  --reps=N        timed repetitions (default 10), after --warmup=N (2)\n"
    "  --peer=LIST     also time peers on the same problems and print clconv's\n"
    "                  speed ratio: clblast (CLBlast's Sconvgemm: forward, one\n"
    "                  group), torch (PyTorch's convolution, oneDNN on a CPU,\n"
    "                  cuDNN on NVIDIA, run first as its own process), all, none\n"
    "  --python=PATH   the PyTorch peer's interpreter (default: python3, then\n"
    "                  /usr/bin/python3, the first that can import torch)\n"
    "  --torch-script=FILE  the PyTorch peer (default: tools/torch_peer.py\n"
    "                  next to the binary's folder, else in the working directory)\n"
    "  --svg=FILE      also write the timed rows as an SVG bar chart\n"
    "  --find          AUTO times its candidates on the device (clconv_set_find)\n"
    "  --csv, --json   machine-readable results on stdout (messages on stderr)\n"
    "  --ref-max-gflop=X  skip the reference check above X GFLOP (default %g)\n"
    "  --peak-gflops=X the device's fp32 peak for the %%peak column, instead of\n"
    "                  measuring it with a built-in FMA kernel\n"
    "  --seed=N        random fill seed (default 1)\n"
    "  --offset=N      place each tensor N floats into its buffer (default 0)\n"
    "  --demo          the demo: the edge-case set checked through every pass and\n"
    "                  algorithm (C), then the six anchor layers timed with every\n"
    "                  peer (P; --dir, --algo, --mb apply here; mb2 on a CPU, mb32\n"
    "                  on a GPU), then a summary\n"
    "  --help, --version\n"
    "\n"
    "Exit status: 0 success, 1 a check failed, a pass errored or a batch file\n"
    "holds an invalid descriptor, 2 usage error (unknown option, bad value,\n"
    "bad descriptor on the command line, no device matches --device).\n";

#define DEFAULT_REF_MAX_GFLOP 4.0

static void usage(FILE *f, const char *argv0)
{
    fprintf(f, usage_text, argv0, DEFAULT_REF_MAX_GFLOP);
}

static int usage_error(const char *where, const char *fmt, const char *arg)
{
    fprintf(stderr, "clconv-bench: error: %s: ", where);
    fprintf(stderr, fmt, arg);
    fprintf(stderr, " (see --help)\n");
    return BENCH_EXIT_USAGE;
}

static const char *const pass_names[BENCH_NPASS] = {"fwd", "bwd_d", "bwd_w", "bwd_b"};

const char *bench_pass_name(int pass)
{
    return pass >= 0 && pass < BENCH_NPASS ? pass_names[pass] : "?";
}

static const char *const peer_names[BENCH_NPEERS] = {"clblast", "torch"};

const char *bench_peer_name(int peer)
{
    return peer >= 0 && peer < BENCH_NPEERS ? peer_names[peer] : "?";
}

static unsigned peer_bits(const char *s, size_t n)
{
    if (n == 3 && strncasecmp(s, "all", 3) == 0)
        return BENCH_PEERS_ALL;
    for (int p = 0; p < BENCH_NPEERS; p++)
        if (strlen(peer_names[p]) == n && strncasecmp(s, peer_names[p], n) == 0)
            return BENCH_PEER_BIT(p);
    return 0;
}

static void join_names(unsigned bits, int n, const char *(*name)(int), char *buf, size_t cap)
{
    size_t len = 0;
    buf[0] = '\0';
    for (int i = 0; i < n; i++) {
        if (!(bits & (1u << i)))
            continue;
        int w = snprintf(buf + len, len < cap ? cap - len : 0, "%s%s", len ? "," : "", name(i));
        if (w < 0 || len + (size_t)w >= cap)
            return;
        len += (size_t)w;
    }
}

static const char *algo_name_i(int a)
{
    return clconv_algo_name((clconv_algo)a);
}

static const char *pass_name_b(int pass)
{
    return pass == BENCH_FWD ? "fwd_b" : bench_pass_name(pass);
}

void bench_dirs_str(unsigned dirs, char *buf, size_t cap)
{
    join_names(dirs & BENCH_DIRS_ALL, BENCH_NPASS,
               dirs & BENCH_FWD_B_BIT ? pass_name_b : bench_pass_name, buf, cap);
}

void bench_algos_str(unsigned algos, char *buf, size_t cap)
{
    join_names(algos, CLCONV_ALGO_COUNT_, algo_name_i, buf, cap);
}

/* One comma-separated item of --dir. */
static unsigned dir_bits(const char *s, size_t n)
{
    static const struct { const char *name; unsigned bits; } dirs[] = {
        {"fwd", 1u << BENCH_FWD},
        {"fwd_b", 1u << BENCH_FWD | BENCH_FWD_B_BIT},
        {"fwd_i", 1u << BENCH_FWD | BENCH_FWD_B_BIT},
        {"fwd_d", 1u << BENCH_FWD},   {"bwd_d", 1u << BENCH_BWD_D}, {"bwd_w", 1u << BENCH_BWD_W},
        {"bwd_b", 1u << BENCH_BWD_B}, {"all", BENCH_DIRS_ALL},
        {"bwd_wb", (1u << BENCH_BWD_W) | (1u << BENCH_BWD_B)},
    };
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++)
        if (strlen(dirs[i].name) == n && strncasecmp(s, dirs[i].name, n) == 0)
            return dirs[i].bits;
    return 0;
}

static unsigned algo_bits(const char *s, size_t n)
{
    if (n == 3 && strncasecmp(s, "all", 3) == 0)
        return BENCH_ALGOS_ALL;
    for (int a = 0; a < CLCONV_ALGO_COUNT_; a++) {
        const char *name = clconv_algo_name((clconv_algo)a);
        if (name && strlen(name) == n && strncasecmp(s, name, n) == 0)
            return BENCH_ALGO_BIT(a);
    }
    return 0;
}

/* A comma list through item(); 0 if empty or an item is unknown. */
static unsigned parse_list(const char *v, unsigned (*item)(const char *, size_t))
{
    unsigned bits = 0;
    for (const char *p = v;; p++) {
        size_t n = strcspn(p, ",");
        unsigned b = item(p, n);
        if (!b)
            return 0;
        bits |= b;
        p += n;
        if (!*p)
            return bits;
    }
}

static int parse_ll(const char *v, long long lo, long long hi, long long *out)
{
    char *end;
    errno = 0;
    long long x = strtoll(v, &end, 10);
    if (end == v || *end || errno || x < lo || x > hi)
        return -1;
    *out = x;
    return 0;
}

static int parse_double(const char *v, double lo, double *out)
{
    char *end;
    errno = 0;
    double x = strtod(v, &end);
    if (end == v || *end || errno || !(x >= lo))
        return -1;
    *out = x;
    return 0;
}

static int set_mode(bench_opts *o, const char *v, const char *where)
{
    int c = 0, p = 0, i = strcasecmp(v, "I") == 0;
    for (const char *s = v; *s && !i; s++) {
        if (*s == 'c' || *s == 'C')
            c = 1;
        else if (*s == 'p' || *s == 'P')
            p = 1;
        else
            return usage_error(where, "--mode=%s: want C, P, CP or I", v);
    }
    if (!c && !p && !i)
        return usage_error(where, "--mode=%s: want C, P, CP or I", v);
    o->check = c;
    o->perf = p;
    o->init = i;
    o->mode_set = 1;
    return 0;
}

/* Where a token comes from: a batch file (its path, nesting depth and
 * index) or the command line (file NULL). */
typedef struct token_src {
    const char *file;
    int depth, index;
} token_src;

/* A descriptor that cannot become a problem.  On the command line that is
 * a usage error; in a batch file it gets its own line and count, so that
 * one line cannot abort a whole batch. */
static int bad_problem(bench_opts *o, bench_desc_status st, const char *err, const char *where,
                       const token_src *src)
{
    if (st == BENCH_DESC_UNSUPPORTED) {
        fprintf(stderr, "clconv-bench: unsupported: %s: %s\n", where, err);
        o->unsupported++;
        return 0;
    }
    if (!src->file)
        return usage_error(where, "%s", err);
    fprintf(stderr, "clconv-bench: invalid: %s: %s\n", where, err);
    o->invalid++;
    return 0;
}

static int add_problem(bench_opts *o, const char *tok, const char *where, const token_src *src)
{
    bench_problem p;
    char err[320];
    memset(&p, 0, sizeof p);
    bench_desc_status st =
        o->feat.deconv ? bench_parse_deconv_desc(tok, &p.d, p.name, sizeof p.name, err, sizeof err)
                       : bench_parse_desc(tok, &p.d, p.name, sizeof p.name, err, sizeof err);
    if (st != BENCH_DESC_OK)
        return bad_problem(o, st, err, where, src);
    if (o->mb > 0)
        p.d.n = o->mb;
    p.dirs = o->dirs;
    p.algos = o->algos;
    /* the options' combination is the command's mistake, wherever it stands */
    if (bench_features_apply(&o->feat, &p, err, sizeof err))
        return usage_error(where, "%s", err);
    p.file = src->file ? src->index : -1;
    if (o->nprobs == o->cap) {
        size_t cap = o->cap ? 2 * o->cap : 32;
        bench_problem *v = realloc(o->probs, cap * sizeof *v);
        if (!v)
            return usage_error(where, "%s", "out of host memory");
        o->probs = v;
        o->cap = cap;
    }
    o->probs[o->nprobs++] = p;
    o->pending = 0;
    return 0;
}

static int apply(bench_opts *o, const char *tok, const char *where, const token_src *src);

static int load_batch(bench_opts *o, const char *name, const char *where, const token_src *from)
{
    if (from->depth >= MAX_BATCH_DEPTH)
        return usage_error(where, "--batch=%s: batch files nested too deeply", name);
    char err[320];
    char *path = bench_batch_path(name, from->file);
    char *text = path ? bench_read_text(path, err, sizeof err) : NULL;
    if (!text) {
        free(path);
        return usage_error(where, "%s", path ? err : "out of host memory");
    }
    bench_tokens t = {0};
    int rc = bench_tokenize(text, &t) ? usage_error(where, "%s", "out of host memory") : 0;
    free(text);
    token_src src = {path, from->depth + 1, o->nfiles++};
    for (size_t i = 0; i < t.n && !rc; i++) {
        char loc[400];
        snprintf(loc, sizeof loc, "%s:%d", path, t.v[i].line);
        rc = apply(o, t.v[i].text, loc, &src);
    }
    bench_tokens_free(&t);
    free(path);
    return rc;
}

/* benchdnn knobs that make no sense here: accepted and ignored, so that
 * benchdnn's batch files run. */
static int benchdnn_knob(const char *tok)
{
    static const char *const knobs[] = {
        "--alg=", "--attr", "--match=", "--skip-impl=", "--impl=", "--allow-enum-tags-only=", "--ctx-init=",
        "--ctx-exe=", "--engine=", "--bia-dt=", "--bia_dt=", "--strides=", "--canonical=",
        "--fix-times-per-prb=", "--max-ms-per-prb=", "--perf-template=", "--mem-check=",
        "-v", "--verbose=", "--start=", "--cold-cache=", "--global-",
    };
    for (size_t i = 0; i < sizeof knobs / sizeof knobs[0]; i++)
        if (strncmp(tok, knobs[i], strlen(knobs[i])) == 0)
            return 1;
    return 0;
}

static const char *opt_value(const char *tok, const char *name)
{
    size_t n = strlen(name);
    return strncmp(tok, name, n) == 0 && tok[n] == '=' ? tok + n + 1 : NULL;
}

static int set_per_problem(bench_opts *o, const char *tok, const char *where, int *handled)
{
    const char *v;
    char err[320];
    int f;
    *handled = 1;
    if ((f = bench_features_option(&o->feat, tok, err, sizeof err)) < 0)
        return usage_error(where, "%s", err);
    if (f > 0) {
        o->pending = 1;
        return 0;
    }
    if ((v = opt_value(tok, "--dir"))) {
        unsigned b = parse_list(v, dir_bits);
        if (!b)
            return usage_error(where, "--dir=%s: want fwd, bwd_d, bwd_w, bwd_b or all", v);
        o->dirs = b & BENCH_DIRS_ALL;
        o->feat.fwd_bias = (b & BENCH_FWD_B_BIT) != 0;
        o->dirs_set = 1;
    } else if ((v = opt_value(tok, "--algo"))) {
        unsigned b = parse_list(v, algo_bits);
        if (!b)
            return usage_error(where,
                               "--algo=%s: want auto, explicit, direct, gemm, tiled, winograd or all",
                               v);
        o->algos = b;
        o->algos_set = 1;
    } else if ((v = opt_value(tok, "--mb"))) {
        long long x;
        if (parse_ll(v, 0, BENCH_DESC_MAX_VALUE, &x))
            return usage_error(where, "--mb=%s: want a non-negative integer", v);
        o->mb = x;
    } else if (strcmp(tok, "--reset") == 0) {
        o->dirs = 1u << BENCH_FWD;
        o->algos = BENCH_ALGO_BIT(CLCONV_ALGO_AUTO);
        o->mb = 0;
        bench_features_reset(&o->feat);
    } else {
        *handled = 0;
        return 0;
    }
    o->pending = 1;
    return 0;
}

static int set_numbers(bench_opts *o, const char *tok, const char *where, int *handled)
{
    static const struct { const char *name; long long lo, hi; } nums[] = {
        {"--reps", 1, 100000}, {"--warmup", 0, 1000}, {"--seed", 0, INT64_MAX},
        {"--offset", 0, 1 << 20}, {"--run-per-file", 0, 1000000000},
    };
    for (int i = 0; i < 5; i++) {
        const char *v = opt_value(tok, nums[i].name);
        long long x;
        if (!v)
            continue;
        *handled = 1;
        if (parse_ll(v, nums[i].lo, nums[i].hi, &x)) {
            fprintf(stderr, "clconv-bench: error: %s: %s=%s: want an integer in [%lld, %lld] "
                            "(see --help)\n", where, nums[i].name, v, nums[i].lo, nums[i].hi);
            return BENCH_EXIT_USAGE;
        }
        if (i == 0)
            o->reps = (int)x;
        else if (i == 1)
            o->warmup = (int)x;
        else if (i == 2)
            o->seed = (uint64_t)x;
        else if (i == 3)
            o->offset = (size_t)x;
        else
            o->run_per_file = (long)x;
        return 0;
    }
    return 0;
}

static int set_global(bench_opts *o, const char *tok, const char *where, int *handled)
{
    const char *v;
    *handled = 1;
    if ((v = opt_value(tok, "--mode")))
        return set_mode(o, v, where);
    if ((v = opt_value(tok, "--device"))) {
        o->device = v;
    } else if ((v = opt_value(tok, "--peer"))) {
        unsigned b = strcasecmp(v, "none") ? parse_list(v, peer_bits) : 0;
        if (!b && strcasecmp(v, "none"))
            return usage_error(where, "--peer=%s: want clblast, torch, all or none", v);
        o->peers = b;
        o->peers_set = 1;
    } else if ((v = opt_value(tok, "--python"))) {
        o->python = v;
    } else if ((v = opt_value(tok, "--torch-script"))) {
        o->torch_script = v;
    } else if ((v = opt_value(tok, "--svg"))) {
        o->svg = v;
    } else if ((v = opt_value(tok, "--ref-max-gflop"))) {
        if (parse_double(v, 0.0, &o->ref_max_gflop))
            return usage_error(where, "--ref-max-gflop=%s: want a number >= 0", v);
    } else if ((v = opt_value(tok, "--run-max-gflop"))) {
        if (parse_double(v, 0.0, &o->run_max_gflop) || o->run_max_gflop <= 0)
            return usage_error(where, "--run-max-gflop=%s: want a number > 0", v);
    } else if ((v = opt_value(tok, "--peak-gflops"))) {
        if (parse_double(v, 0.0, &o->peak_gflops) || o->peak_gflops <= 0)
            return usage_error(where, "--peak-gflops=%s: want a number > 0", v);
    } else if (strcmp(tok, "--find") == 0) {
        o->find = 1;
    } else if (strcmp(tok, "--csv") == 0) {
        o->csv = 1;
        o->json = 0;
    } else if (strcmp(tok, "--json") == 0) {
        o->json = 1;
        o->csv = 0;
    } else if (strcmp(tok, "--demo") == 0) {
        o->demo = 1;
    } else {
        *handled = 0;
        return set_numbers(o, tok, where, handled);
    }
    return 0;
}

static int apply(bench_opts *o, const char *tok, const char *where, const token_src *src)
{
    int handled = 0, rc;
    const char *v;
    if (tok[0] != '-')
        return add_problem(o, tok, where, src);
    if ((v = opt_value(tok, "--batch")))
        return load_batch(o, v, where, src);
    if ((rc = set_per_problem(o, tok, where, &handled)) || handled)
        return rc;
    if ((rc = set_global(o, tok, where, &handled)) || handled)
        return rc;
    if (benchdnn_knob(tok)) {
        fprintf(stderr, "clconv-bench: note: %s: ignoring benchdnn option \"%s\"\n", where, tok);
        return 0;
    }
    return usage_error(where, "unknown option \"%s\"", tok);
}

static void init(bench_opts *o, const char *argv0)
{
    memset(o, 0, sizeof *o);
    o->dirs = 1u << BENCH_FWD;
    o->algos = BENCH_ALGO_BIT(CLCONV_ALGO_AUTO);
    o->perf = 1;
    o->reps = 10;
    o->warmup = 2;
    o->ref_max_gflop = DEFAULT_REF_MAX_GFLOP;
    o->seed = 1;
    o->run_per_file = -1;
    o->argv0 = argv0 ? argv0 : "clconv-bench";
    bench_features_reset(&o->feat);
}

int bench_opts_add(bench_opts *o, const char *desc, const char *where)
{
    token_src src = {NULL, 0, -1};
    return add_problem(o, desc, where, &src);
}

static int special(const char *arg, const char *argv0)
{
    if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
        usage(stdout, argv0);
        return 1;
    }
    if (strcmp(arg, "--version") == 0) {
        printf("clconv-bench (libclconv %s)\n", clconv_version_string());
        return 1;
    }
    return 0;
}

/* "--device SEL" on the command line means "--device=SEL" (for every
 * option that takes a value); *used is 2 when the next argument was taken. */
static int apply_arg(bench_opts *o, char **argv, int argc, int i, int *used)
{
    static const char *const valued[] = {"--dir", "--algo", "--mb", "--batch", "--mode",
                                         "--device", "--reps", "--warmup", "--peer",
                                         "--python", "--torch-script", "--svg",
                                         "--ref-max-gflop", "--peak-gflops", "--seed",
                                         "--offset", "--run-per-file", "--run-max-gflop",
                                         "--dt", "--cfg", "--stag", "--dtag", "--wtag",
                                         "--attr-post-ops"};
    char where[32];
    token_src src = {NULL, 0, -1};
    snprintf(where, sizeof where, "argument %d", i);
    *used = 1;
    for (size_t k = 0; k < sizeof valued / sizeof valued[0]; k++) {
        if (strcmp(argv[i], valued[k]) != 0)
            continue;
        if (i + 1 >= argc)
            return usage_error(where, "%s needs a value", argv[i]);
        size_t n = strlen(argv[i]) + strlen(argv[i + 1]) + 2;
        char *joined = o->njoined < 16 ? malloc(n) : NULL;
        if (!joined)
            return usage_error(where, "%s", "too many \"--option value\" pairs: use --option=value");
        o->joined[o->njoined++] = joined; /* kept: --device points into it */
        snprintf(joined, n, "%s=%s", argv[i], argv[i + 1]);
        *used = 2;
        return apply(o, joined, where, &src);
    }
    return apply(o, argv[i], where, &src);
}

int bench_opts_parse(bench_opts *o, int argc, char **argv)
{
    init(o, argc > 0 ? argv[0] : NULL);
    for (int i = 1; i < argc; i++)
        if (special(argv[i], o->argv0))
            return BENCH_EXIT_DONE;
    for (int i = 1, used = 1; i < argc; i += used) {
        int rc = apply_arg(o, argv, argc, i, &used);
        if (rc)
            return rc;
    }
    if (o->pending && o->nprobs > 0)
        fprintf(stderr, "clconv-bench: warning: per-problem options (--dir, --algo, --mb, --dt, "
                        "--stag, --wtag, --attr-post-ops, --deconv, --reset) after the last "
                        "problem have no effect (they apply to the problems that follow them)\n");
    /* --demo makes its own problems (demo.c); --mode picks its parts */
    if (o->demo && (o->nprobs || o->nfiles || o->unsupported))
        return usage_error("--demo", "%s", "the demo runs its own problems: give problems and "
                                           "batch files without --demo");
    if (o->demo && !o->mode_set)
        o->check = o->perf = 1;
    /* a batch that holds no problems is an empty run, not an error */
    if (!o->demo && o->nprobs == 0 && o->unsupported == 0 && o->nfiles == 0) {
        fprintf(stderr, "clconv-bench: error: no problems: give a descriptor, --batch=FILE or "
                        "--demo (see --help)\n");
        return BENCH_EXIT_USAGE;
    }
    return BENCH_EXIT_OK;
}

void bench_opts_free(bench_opts *o)
{
    for (int i = 0; i < o->njoined; i++)
        free(o->joined[i]);
    o->njoined = 0;
    free(o->probs);
    o->probs = NULL;
    o->nprobs = o->cap = 0;
}
