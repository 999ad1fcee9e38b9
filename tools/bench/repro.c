/* repro.c - repro command lines and their shell quoting (see repro.h). */
#include "repro.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "options.h"
#include "problem.h"
#include "problem_opts.h"

const char *bench_mode_str(const bench_opts *o)
{
    if (o->init)
        return "I";
    return o->check && o->perf ? "CP" : o->check ? "C" : "P";
}

static int reserve(bench_line *l, size_t more)
{
    if (l->oom)
        return -1;
    if (l->len + more < l->cap)
        return 0;
    size_t cap = l->cap ? l->cap : 256;
    while (cap <= l->len + more)
        cap *= 2;
    char *s = realloc(l->s, cap);
    if (!s) {
        l->oom = 1;
        return -1;
    }
    l->s = s;
    l->cap = cap;
    return 0;
}

static void put(bench_line *l, const char *s, size_t n)
{
    if (reserve(l, n))
        return;
    memcpy(l->s + l->len, s, n);
    l->len += n;
    l->s[l->len] = '\0';
}

/* Characters no POSIX shell treats specially anywhere in a word. */
static int plain(const char *s)
{
    static const char ok[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
                             "_-+=.,:/@%";
    return strspn(s, ok) == strlen(s);
}

/* s inside single quotes, where only ' itself needs care: close, \', reopen. */
static void put_quoted(bench_line *l, const char *s)
{
    for (const char *q; (q = strchr(s, '\'')); s = q + 1) {
        put(l, s, (size_t)(q - s));
        put(l, "'\\''", 4);
    }
    put(l, s, strlen(s));
}

void bench_line_word(bench_line *l, const char *prefix, const char *value)
{
    const char *a = prefix ? prefix : "", *b = value ? value : "";
    if (l->len)
        put(l, " ", 1);
    if ((*a || *b) && plain(a) && plain(b)) {
        put(l, a, strlen(a));
        put(l, b, strlen(b));
        return;
    }
    put(l, "'", 1);
    put_quoted(l, a);
    put_quoted(l, b);
    put(l, "'", 1);
}

void bench_line_free(bench_line *l)
{
    free(l->s);
    memset(l, 0, sizeof *l);
}

static void word_num(bench_line *l, const char *opt, unsigned long long v)
{
    char num[32];
    snprintf(num, sizeof num, "%llu", v);
    bench_line_word(l, opt, num);
}

/* --peer with the peers that run on these passes (CLBlast: forward only). */
static void add_peers(bench_line *l, const bench_opts *o, unsigned dirs)
{
    unsigned peers = o->peers;
    if (!(dirs & (1u << BENCH_FWD)))
        peers &= ~BENCH_PEER_BIT(BENCH_PEER_CLBLAST);
    if (!(dirs & ((1u << BENCH_FWD) | (1u << BENCH_BWD_D) | (1u << BENCH_BWD_W))))
        peers &= ~BENCH_PEER_BIT(BENCH_PEER_TORCH);
    char list[64] = "";
    for (int p = 0; p < BENCH_NPEERS; p++)
        if (peers & BENCH_PEER_BIT(p))
            snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", list[0] ? "," : "",
                     bench_peer_name(p));
    if (list[0])
        bench_line_word(l, "--peer=", list);
    if (peers & BENCH_PEER_BIT(BENCH_PEER_TORCH)) {
        if (o->python)
            bench_line_word(l, "--python=", o->python);
        if (o->torch_script)
            bench_line_word(l, "--torch-script=", o->torch_script);
    }
}

static void add_settings(bench_line *l, const bench_opts *o, unsigned dirs, int perf, int check)
{
    if (o->device)
        bench_line_word(l, "--device=", o->device);
    if (perf)
        add_peers(l, o, dirs);
    if (perf && (o->reps != 10 || o->warmup != 2)) {
        word_num(l, "--reps=", (unsigned long long)o->reps);
        word_num(l, "--warmup=", (unsigned long long)o->warmup);
    }
    if (check && o->seed != 1)
        word_num(l, "--seed=", (unsigned long long)o->seed);
    if (o->offset)
        word_num(l, "--offset=", (unsigned long long)o->offset);
}

/* The options that make p what it is, each only when not the default. */
static void add_problem_options(bench_line *l, const bench_problem *p)
{
    const clconv_desc *d = &p->d;
    if (p->deconv)
        bench_line_word(l, "--deconv", NULL);
    if (d->dtype != CLCONV_F32)
        bench_line_word(l, "--dt=", bench_dt_name((clconv_dtype)d->dtype));
    if (d->layout != CLCONV_NCHW)
        bench_line_word(l, "--stag=", bench_layout_tag((int)d->layout));
    if (d->filter_layout != CLCONV_KCRS)
        bench_line_word(l, "--wtag=", bench_filter_tag((int)d->filter_layout));
    if (bench_post_ops_any(&p->ops)) {
        char ops[128];
        bench_post_ops_format(&p->ops, ops, sizeof ops);
        bench_line_word(l, "--attr-post-ops=", ops);
    }
}

void bench_problem_options(const bench_problem *p, char *buf, size_t cap)
{
    bench_line l = {0};
    add_problem_options(&l, p);
    snprintf(buf, cap, "%s", l.s && !l.oom ? l.s : "");
    bench_line_free(&l);
}

static void add_desc(bench_line *l, const bench_problem *p)
{
    int n = bench_problem_desc(p, 1, NULL, 0);
    char *desc = n > 0 ? malloc((size_t)n + 1) : NULL;
    if (!desc) {
        l->oom = 1;
        return;
    }
    bench_problem_desc(p, 1, desc, (size_t)n + 1);
    bench_line_word(l, NULL, desc);
    free(desc);
}

/* "ARGV0 --mode=M --dir=D [--algo=A] [p's options] [settings]" (p NULL:
 * a batch file's, which holds its own options) */
static void add_head(bench_line *l, const bench_opts *o, const bench_problem *p,
                     const char *mode, unsigned dirs, unsigned algos)
{
    char list[128];
    bench_line_word(l, o->argv0, NULL);
    bench_line_word(l, "--mode=", mode);
    bench_dirs_str(dirs | (p && p->bias ? BENCH_FWD_B_BIT : 0), list, sizeof list);
    bench_line_word(l, "--dir=", list);
    if (dirs != (1u << BENCH_BWD_B)) {
        bench_algos_str(algos, list, sizeof list);
        bench_line_word(l, "--algo=", list);
    }
    if (p)
        add_problem_options(l, p);
    add_settings(l, o, dirs, strchr(mode, 'P') != NULL, strchr(mode, 'C') != NULL);
}

static char *done(bench_line *l)
{
    if (l->oom)
        bench_line_free(l);
    return l->s;
}

char *bench_repro(const bench_opts *o, const bench_problem *p, const char *mode, unsigned dirs,
                  unsigned algos)
{
    bench_line l = {0};
    add_head(&l, o, p, mode, dirs, algos);
    add_desc(&l, p);
    return done(&l);
}

char *bench_repro_batch(const bench_opts *o, const char *file, const char *mode, unsigned dirs,
                        unsigned algos)
{
    bench_line l = {0};
    add_head(&l, o, NULL, mode, dirs, algos);
    if (o->mb)
        word_num(&l, "--mb=", (unsigned long long)o->mb);
    bench_line_word(&l, "--batch=", file);
    return done(&l);
}
