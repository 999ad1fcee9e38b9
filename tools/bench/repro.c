/* repro.c - repro command lines. */
#include "repro.h"

#include <stdio.h>
#include <string.h>

#include "desc_parse.h"
#include "options.h"

const char *bench_mode_str(const bench_opts *o)
{
    return o->check && o->perf ? "CP" : o->check ? "C" : "P";
}

/* s as one shell word: as is if plain, else in single quotes. */
static void shell_word(const char *s, char *buf, size_t cap)
{
    if (s[0] && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
                          "_-+=.,:/@%") == strlen(s)) {
        snprintf(buf, cap, "%s", s);
        return;
    }
    size_t len = 0;
    if (cap < 3) {
        if (cap)
            buf[0] = '\0';
        return;
    }
    buf[len++] = '\'';
    for (; *s && len + 5 < cap; s++) {
        if (*s == '\'') {
            memcpy(buf + len, "'\\''", 4);
            len += 4;
        } else {
            buf[len++] = *s;
        }
    }
    buf[len++] = '\'';
    buf[len] = '\0';
}

static size_t add(char *buf, size_t cap, size_t len, const char *s)
{
    int n = snprintf(len < cap ? buf + len : NULL, len < cap ? cap - len : 0, "%s", s);
    return len + (n > 0 ? (size_t)n : 0);
}

static size_t add_settings(const bench_opts *o, unsigned dirs, int perf, int check, char *buf,
                           size_t cap, size_t len)
{
    char tmp[512], word[400];
    if (o->device) {
        shell_word(o->device, word, sizeof word);
        snprintf(tmp, sizeof tmp, " --device=%s", word);
        len = add(buf, cap, len, tmp);
    }
    if (perf && o->peer_clblast && (dirs & (1u << BENCH_FWD)))
        len = add(buf, cap, len, " --peer=clblast");
    if (perf && (o->reps != 10 || o->warmup != 2)) {
        snprintf(tmp, sizeof tmp, " --reps=%d --warmup=%d", o->reps, o->warmup);
        len = add(buf, cap, len, tmp);
    }
    if (check && o->seed != 1) {
        snprintf(tmp, sizeof tmp, " --seed=%llu", (unsigned long long)o->seed);
        len = add(buf, cap, len, tmp);
    }
    if (o->offset) {
        snprintf(tmp, sizeof tmp, " --offset=%zu", o->offset);
        len = add(buf, cap, len, tmp);
    }
    return len;
}

void bench_repro(const bench_opts *o, const bench_problem *p, const char *mode, unsigned dirs,
                 unsigned algos, char *buf, size_t cap)
{
    char word[400], tmp[600], list[128];
    shell_word(o->argv0, word, sizeof word);
    size_t len = add(buf, cap, 0, word);
    snprintf(tmp, sizeof tmp, " --mode=%s", mode);
    len = add(buf, cap, len, tmp);
    bench_dirs_str(dirs, list, sizeof list);
    snprintf(tmp, sizeof tmp, " --dir=%s", list);
    len = add(buf, cap, len, tmp);
    if (dirs != (1u << BENCH_BWD_B)) {
        bench_algos_str(algos, list, sizeof list);
        snprintf(tmp, sizeof tmp, " --algo=%s", list);
        len = add(buf, cap, len, tmp);
    }
    int perf = strchr(mode, 'P') != NULL, check = strchr(mode, 'C') != NULL;
    len = add_settings(o, dirs, perf, check, buf, cap, len);
    bench_format_desc(&p->d, p->name, tmp, sizeof tmp);
    len = add(buf, cap, len, " ");
    add(buf, cap, len, tmp);
}
