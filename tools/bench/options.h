/* options.h - clconv-bench's settings and the list of problems to run.
 *
 * Like benchdnn, the command line (and every --batch file, read in place)
 * is one stream of tokens: per-problem settings (--dir, --algo, --mb) apply
 * to the descriptors that follow them, --reset restores their defaults;
 * so do --dt, --stag, --dtag, --wtag, --attr-post-ops and --deconv
 * (problem_opts.h); every other option is global (the last one given
 * wins). */
#ifndef BENCH_OPTIONS_H
#define BENCH_OPTIONS_H

#include <stddef.h>
#include <stdint.h>

#include "clconv.h"
#include "post_ops.h"
#include "problem_opts.h"

enum { BENCH_FWD = 0, BENCH_BWD_D, BENCH_BWD_W, BENCH_BWD_B, BENCH_NPASS };
#define BENCH_DIRS_ALL ((1u << BENCH_NPASS) - 1)
/* In a --dir list, and for bench_dirs_str: the forward with bias (FWD_B) */
#define BENCH_FWD_B_BIT (1u << BENCH_NPASS)
#define BENCH_ALGO_BIT(a) (1u << (a))
/* --algo=all: every named algorithm (not auto) */
#define BENCH_ALGOS_ALL (((1u << CLCONV_ALGO_COUNT_) - 1) & ~BENCH_ALGO_BIT(CLCONV_ALGO_AUTO))

/* Peers timed on the same problems (--peer): CLBlast's Sconvgemm in this
 * process, PyTorch's convolution in a separate one (tools/torch_peer.py). */
enum { BENCH_PEER_CLBLAST = 0, BENCH_PEER_TORCH, BENCH_NPEERS };
#define BENCH_PEER_BIT(p) (1u << (p))
#define BENCH_PEERS_ALL ((1u << BENCH_NPEERS) - 1)

/* Exit codes. */
enum { BENCH_EXIT_OK = 0, BENCH_EXIT_FAILED = 1, BENCH_EXIT_USAGE = 2, BENCH_EXIT_DONE = -1 };

#define BENCH_NAME_CAP 96

typedef struct bench_problem {
    clconv_desc d;              /* --mb applied; --dt, --stag, --wtag in its dtype and
                                 * layouts; with deconv, the transposed convolution's */
    char name[BENCH_NAME_CAP];
    unsigned dirs;              /* bits 1 << BENCH_FWD ... */
    unsigned algos;             /* bits BENCH_ALGO_BIT(clconv_algo) */
    int file;                   /* which --batch file (0, 1, ... as read); -1: none */
    int deconv;                 /* --deconv: run through clconv_transposed_* */
    int bias;                   /* --dir=FWD_B: the forward adds bias[k] */
    bench_post_ops ops;         /* --attr-post-ops: the forward's epilogue */
} bench_problem;

typedef struct bench_opts {
    /* per-problem settings (positional) */
    unsigned dirs, algos;
    int64_t mb;                 /* 0: the descriptor's */
    bench_features feat;        /* --dt, --stag, --wtag, --attr-post-ops, --deconv, FWD_B */
    int dirs_set, algos_set, mode_set, pending;
    /* global settings */
    int check, perf;            /* --mode=C / P / CP */
    int init;                   /* --mode=I: the library's checks only, nothing runs */
    long run_per_file;          /* --run-per-file: run the first N of each file; -1: all */
    double run_max_gflop;       /* --run-max-gflop: run only up to this work; 0: all */
    int reps, warmup;
    const char *device;         /* NULL: the library's default */
    unsigned peers;             /* BENCH_PEER_BIT()s of --peer */
    int peers_set;
    const char *python;         /* --python: the PyTorch peer's interpreter (NULL: search) */
    const char *torch_script;   /* --torch-script (NULL: tools/torch_peer.py, searched) */
    const char *svg;            /* --svg: the bar chart's file (NULL: none) */
    int csv, json, demo;
    int find;                   /* --find: AUTO times its candidates (clconv_set_find) */
    int demo_part;              /* 0; in --demo's runs 1 (correctness) or 2 (timing) */
    double ref_max_gflop;       /* skip the reference above this many GFLOP */
    double peak_gflops;         /* --peak-gflops: the device's peak, not measured (0: measure) */
    uint64_t seed;
    size_t offset;              /* floats before each tensor in its buffer */
    const char *argv0;
    /* the problems */
    bench_problem *probs;
    size_t nprobs, cap;
    size_t unsupported;         /* valid benchdnn problems clconv cannot run */
    size_t invalid;             /* descriptors in batch files that do not parse */
    int nfiles;                 /* batch files read (an empty batch is an empty run) */
    char *joined[16];           /* "--opt=value" made from "--opt value" */
    int njoined;
} bench_opts;

/* Parse argv (batch files included).  BENCH_EXIT_OK, BENCH_EXIT_USAGE
 * (message printed), or BENCH_EXIT_DONE (--help/--version printed).
 * Usage errors are the command line's and the options in batch files; a
 * descriptor in a batch file that clconv cannot run (unsupported) or that
 * does not parse (invalid) gets its own message and count instead, so that
 * no problem can abort a batch. */
int bench_opts_parse(bench_opts *o, int argc, char **argv);
void bench_opts_free(bench_opts *o);

/* Append the problem desc (benchdnn syntax) with o's current --dir, --algo
 * and --mb, as if it were given on the command line (where names it in a
 * message); 0 or BENCH_EXIT_USAGE.  --demo builds its runs with it. */
int bench_opts_add(bench_opts *o, const char *desc, const char *where);

const char *bench_pass_name(int pass);  /* "fwd", "bwd_d", "bwd_w", "bwd_b" */
const char *bench_peer_name(int peer);  /* "clblast", "torch" */
/* "fwd,bwd_d" / "gemm,direct" into buf (BENCH_FWD_B_BIT: "fwd_b" for
 * "fwd"). */
void bench_dirs_str(unsigned dirs, char *buf, size_t cap);
void bench_algos_str(unsigned algos, char *buf, size_t cap);

#endif
