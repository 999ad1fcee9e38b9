/* demo.c - clconv-bench --demo (see demo.h). */
#include "demo.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <unistd.h>

#include "demo_shapes.h"
#include "peer_clblast.h"
#include "report_fmt.h"
#include "repro.h"
#include "run.h"

#define CPU_MB 2   /* the anchors within about a minute on a 2-core CPU */
#define GPU_MB 32  /* the batch of the GPU figures in ANCHORS.md */
#define TIMED_DIRS ((1u << BENCH_FWD) | (1u << BENCH_BWD_D) | (1u << BENCH_BWD_W))

/* ---- other work on the machine while the demo ran ---- */

/* CPU seconds all processes used (/proc/stat: everything but idle and
 * iowait) and this process with its waited children (the PyTorch peer)
 * used; -1 where /proc is not there. */
static double machine_busy_s(void)
{
    FILE *f = fopen("/proc/stat", "r");
    unsigned long long v[8] = {0};
    int n = f ? fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2],
                       &v[3], &v[4], &v[5], &v[6], &v[7]) : 0;
    if (f)
        fclose(f);
    if (n < 4)
        return -1.0;
    unsigned long long busy = v[0] + v[1] + v[2] + v[5] + v[6] + v[7];
    return (double)busy / (double)sysconf(_SC_CLK_TCK);
}

static double own_busy_s(void)
{
    double s = 0;
    int who[2] = {RUSAGE_SELF, RUSAGE_CHILDREN};
    for (int i = 0; i < 2; i++) {
        struct rusage ru;
        if (getrusage(who[i], &ru) == 0)
            s += ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
                 1e-6 * (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
    }
    return s;
}

typedef struct demo_clock {
    double wall, machine, own;
} demo_clock;

static void clock_now(demo_clock *c)
{
    c->wall = bench_now();
    c->machine = machine_busy_s();
    c->own = own_busy_s();
}

/* The share of the machine's cores other processes kept busy since c0:
 * their load makes every figure of a shared machine noisy. */
static double others_share(const demo_clock *c0, const demo_clock *c1)
{
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    double wall = c1->wall - c0->wall;
    if (c0->machine < 0 || c1->machine < 0 || cores < 1 || wall <= 0)
        return -1.0;
    double others = (c1->machine - c0->machine) - (c1->own - c0->own);
    return others > 0 ? others / (wall * (double)cores) : 0.0;
}

/* ---- the two runs ---- */

/* o's global settings, no problems yet (o's --batch strings stay o's). */
static void part_opts(const bench_opts *o, bench_opts *part, int which)
{
    *part = *o;
    part->probs = NULL;
    part->nprobs = part->cap = 0;
    part->njoined = 0;
    part->nfiles = 0;
    part->demo_part = which;
    part->check = which == 1 && o->check;
    part->perf = which == 2 && o->perf;
    part->svg = which == 2 ? o->svg : NULL;
}

static int add_all(bench_opts *part, const char *const *descs, size_t n, const char *file)
{
    for (size_t i = 0; i < n; i++) {
        char where[300];
        snprintf(where, sizeof where, "%s, problem %zu", file, i + 1);
        if (bench_opts_add(part, descs[i], where))
            return -1;
    }
    return 0;
}

typedef struct demo_state {
    const bench_opts *o;
    const bench_demo_set *set;
    bench_session ses;
    bench_opts check, timed;
    bench_report rc, rt;
    int ran_check, ran_timed;
    int broken;                 /* a built-in problem did not parse (said) */
    FILE *out;
} demo_state;

static int run_check(demo_state *d)
{
    const bench_demo_set *set = d->set;
    part_opts(d->o, &d->check, 1);
    d->check.dirs = BENCH_DIRS_ALL;
    d->check.algos = BENCH_ALGOS_ALL;
    d->check.mb = 0;
    if (add_all(&d->check, set->check, set->ncheck, set->check_file))
        return d->broken = -1;
    fprintf(d->out, "== 1. correctness: %zu edge-case layers (%s), every pass and algorithm, "
                    "against the float64 reference\n", set->ncheck, set->check_file);
    fflush(d->out);
    bench_run_on(&d->ses, &d->check, &d->rc);
    d->ran_check = 1;
    return 0;
}

static int run_timed(demo_state *d)
{
    const bench_opts *o = d->o;
    const bench_demo_set *set = d->set;
    part_opts(o, &d->timed, 2);
    d->timed.dirs = o->dirs_set ? o->dirs : TIMED_DIRS;
    d->timed.algos = o->algos_set ? o->algos : BENCH_ALGO_BIT(CLCONV_ALGO_AUTO);
    d->timed.mb = o->mb ? o->mb : d->ses.is_cpu ? CPU_MB : GPU_MB;
    d->timed.peers = o->peers_set ? o->peers : BENCH_PEERS_ALL;
    if (add_all(&d->timed, set->timed, set->ntimed, set->timed_file))
        return d->broken = -1;
    char dirs[64], algos[64];
    bench_dirs_str(d->timed.dirs, dirs, sizeof dirs);
    bench_algos_str(d->timed.algos, algos, sizeof algos);
    fprintf(d->out, "== 2. speed: %zu layers (%s) at mb%lld (%s), %s, %s, with each peer in the "
                    "same run\n", set->ntimed, set->timed_file, (long long)d->timed.mb,
            o->mb ? "--mb" : d->ses.is_cpu ? "small on a CPU; mb32 on a GPU" : "on a GPU",
            dirs, algos);
    fflush(d->out);
    bench_run_on(&d->ses, &d->timed, &d->rt);
    d->ran_timed = 1;
    return 0;
}

/* The command line that reruns the timed table by itself. */
static void timed_repro(demo_state *d)
{
    char *cmd = bench_repro_batch(&d->timed, d->set->timed_file, "P", d->timed.dirs,
                                  d->timed.algos);
    fprintf(d->out, "repro: %s\n", bench_repro_text(cmd));
    free(cmd);
}

/* ---- the summary ---- */

static const char *peer_label(const bench_env *env, int q)
{
    return env->peer_label[q] ? env->peer_label[q] : bench_peer_name(q);
}

static void summary_header(demo_state *d)
{
    const bench_env *env = &d->rt.env;
    fprintf(d->out, "   %-6s %-6s %8s %8s", "pass", "algo", "GFLOP/s", "of peak");
    for (int q = 0; q < BENCH_NPEERS; q++)
        if (d->timed.peers & BENCH_PEER_BIT(q))
            fprintf(d->out, "  %*s", (int)strlen(peer_label(env, q)) + 2, peer_label(env, q));
    fprintf(d->out, "  %11s\n", "first calls");
}

static void summary_row(demo_state *d, int pass, int a)
{
    const bench_means *m = &d->rt.m;
    const bench_env *env = &d->rt.env;
    double g = bench_geomean(m->log_gflops[pass][a], m->n_gflops[pass][a]);
    fprintf(d->out, "   %-6s %-6s %8.1f", bench_pass_name(pass),
            pass == BENCH_BWD_B ? "-" : clconv_algo_name((clconv_algo)a), g);
    if (env->peak_gflops > 0 && pass != BENCH_BWD_B)
        fprintf(d->out, " %6.0f %%", 100.0 * g / env->peak_gflops);
    else
        fprintf(d->out, " %8s", "-");
    for (int q = 0; q < BENCH_NPEERS; q++) {
        if (!(d->timed.peers & BENCH_PEER_BIT(q)))
            continue;
        int w = (int)strlen(peer_label(env, q)) + 1;
        if (m->n_ratio[q][pass][a])
            fprintf(d->out, "  %*.2fx", w, bench_geomean(m->log_ratio[q][pass][a], m->n_ratio[q][pass][a]));
        else
            fprintf(d->out, "  %*s", w + 1, "-");
    }
    if (m->n_first[pass][a])
        fprintf(d->out, "  %9.1f s\n", 1e-3 * m->first_ms[pass][a]);
    else
        fprintf(d->out, "  %11s\n", "-");
}

static void summary_speed(demo_state *d)
{
    const bench_means *m = &d->rt.m;
    const bench_env *env = &d->rt.env;
    fprintf(d->out, "== summary: clconv on %zu layers at mb%lld, geometric means\n",
            d->set->ntimed, (long long)d->timed.mb);
    summary_header(d);
    for (int pass = 0; pass < BENCH_NPASS; pass++)
        for (int a = 0; a < CLCONV_ALGO_COUNT_; a++)
            if (m->n_gflops[pass][a])
                summary_row(d, pass, a);
    if (env->peak_gflops > 0)
        fprintf(d->out, "   peak: the FMA loop's %.0f GFLOP/s;", env->peak_gflops);
    else
        fprintf(d->out, "   peak: not measured (%s);", env->peak_error ? env->peak_error : "?");
    fprintf(d->out, " Nx: the peer's time over clconv's (above 1: clconv is faster)\n");
    for (int q = 0; q < BENCH_NPEERS; q++)
        if ((d->timed.peers & BENCH_PEER_BIT(q)) && !env->peers[q])
            fprintf(d->out, "   %s: %s\n", peer_label(env, q),
                    env->peer_about[q] ? env->peer_about[q] : "not run");
}

static int cache_off(void)
{
    const char *v = getenv("CLCONV_CACHE");
    return v && (!strcmp(v, "0") || !strcasecmp(v, "off") || !strcasecmp(v, "no") ||
                 !strcasecmp(v, "false"));
}

static double first_calls_s(const bench_means *m)
{
    double ms = 0;
    for (int p = 0; p < BENCH_NPASS; p++)
        for (int a = 0; a < CLCONV_ALGO_COUNT_; a++)
            ms += m->first_ms[p][a];
    return 1e-3 * ms;
}

/* What the first calls cost, and whether the caches were cold or warm, by
 * what the library logged building.  (The programs' build is only part of
 * a cold call's cost: PoCL compiles a kernel again at its first launch.) */
static void summary_caches(demo_state *d)
{
    const bench_session *s = &d->ses;
    FILE *f = d->out;
    double first = (d->ran_check ? first_calls_s(&d->rc.m) : 0) +
                   (d->ran_timed ? first_calls_s(&d->rt.m) : 0);
    if (s->built == 0 && s->loaded == 0) {
        fprintf(f, "   first calls: none (no kernel program was built or loaded)\n");
        return;
    }
    fprintf(f, "   first calls: %.1f s in all; ", first);
    if (s->driver_cached > 0 && s->loaded == 0)
        fprintf(f, "%d kernel programs built from source; the driver's own cache (PoCL's "
                   "POCL_CACHE_DIR) keeps their compiled kernels for the next run\n",
                s->built);
    else if (s->built == 0)
        fprintf(f, "caches warm: %d kernel programs loaded from the disk cache, none compiled\n",
                s->loaded);
    else if (s->loaded == 0)
        fprintf(f, "caches cold: %d kernel programs compiled; %s\n", s->built,
                cache_off() ? "CLCONV_CACHE is off, so every run compiles"
                            : "the next run loads them from the disk cache");
    else
        fprintf(f, "caches partly warm: %d kernel programs loaded from the disk cache, %d compiled\n",
                s->loaded, s->built);
}

static int demo_failed(const demo_state *d)
{
    return d->broken || (d->ran_check && bench_report_exit(&d->rc)) ||
           (d->ran_timed && bench_report_exit(&d->rt));
}

static void summary(demo_state *d, const demo_clock *c0)
{
    demo_clock c1;
    clock_now(&c1);
    if (d->ran_timed && d->timed.perf)
        summary_speed(d);
    else
        fprintf(d->out, "== summary\n");
    summary_caches(d);
    if (d->ran_check && d->check.init)
        fprintf(d->out, "   correctness: --mode=I: %d rows initialized, nothing run\n",
                d->rc.initialized);
    else if (d->ran_check)
        fprintf(d->out, "   correctness: %d of %d checks passed, %d failed, %d skipped, %d not "
                        "for their algorithm (%zu edge-case layers, every pass and algorithm)\n",
                d->rc.passed, d->rc.tests, d->rc.failed, d->rc.skipped, d->rc.not_supported,
                d->set->ncheck);
    if (d->ran_timed && d->o->svg)
        fprintf(d->out, "   chart: %s%s\n", d->o->svg, d->rt.svg_failed ? " (not written)" : "");
    double share = others_share(c0, &c1);
    if (share >= 0.10)
        fprintf(d->out, "   machine: other processes kept %.0f %% of its %ld cores busy meanwhile: "
                        "timings are noisy, compare the ratios\n", 100.0 * share,
                sysconf(_SC_NPROCESSORS_ONLN));
    fprintf(d->out, "%s in %.1f s\n", demo_failed(d) ? "FAILED" : "PASSED", c1.wall - c0->wall);
    fflush(d->out);
}

/* ---- the demo ---- */

int bench_demo_run(const bench_opts *o, const bench_demo_set *set)
{
    demo_state d;
    memset(&d, 0, sizeof d);
    d.o = o;
    d.set = set;
    d.out = o->csv || o->json ? stderr : stdout;
    demo_clock c0;
    clock_now(&c0);
    int peers = o->peers_set ? (int)o->peers : (int)BENCH_PEERS_ALL;
    if (o->perf && (peers & BENCH_PEER_BIT(BENCH_PEER_CLBLAST)))
        bench_peer_quiet_builds(); /* before the device builds anything */
    int rc = bench_session_open(&d.ses, o->device);
    if (rc)
        return rc;
    if ((o->check || o->init) && run_check(&d) == 0 && (o->perf || o->init))
        fprintf(d.out, "\n");
    if ((o->perf || o->init) && run_timed(&d) == 0 && o->perf) {
        timed_repro(&d);
        fprintf(d.out, "\n");
    }
    summary(&d, &c0);
    rc = demo_failed(&d) ? BENCH_EXIT_FAILED : BENCH_EXIT_OK;
    bench_report_free(&d.rc);
    bench_report_free(&d.rt);
    bench_opts_free(&d.check);
    bench_opts_free(&d.timed);
    bench_session_close(&d.ses);
    return rc;
}

int bench_demo(const bench_opts *o)
{
    const bench_demo_set set = {bench_demo_check_shapes, bench_demo_check_count,
                                "tools/shapes/edge.txt", bench_demo_timed_shapes,
                                bench_demo_timed_count, "tools/shapes/anchors.txt"};
    return bench_demo_run(o, &set);
}
