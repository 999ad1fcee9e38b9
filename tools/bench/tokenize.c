/* tokenize.c - benchdnn-style batch file tokens (see tokenize.h). */
#include "tokenize.h"

#include <stdlib.h>
#include <string.h>

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static int push(bench_tokens *t, char *text, int line)
{
    if (t->n == t->cap) {
        size_t cap = t->cap ? 2 * t->cap : 64;
        bench_token *v = realloc(t->v, cap * sizeof *v);
        if (!v)
            return -1;
        t->v = v;
        t->cap = cap;
    }
    t->v[t->n].text = text;
    t->v[t->n].line = line;
    t->n++;
    return 0;
}

/* Joins text[0..len) onto the last token. */
static int append_last(bench_tokens *t, const char *s, size_t len)
{
    char *prev = t->v[t->n - 1].text;
    size_t pl = strlen(prev);
    char *j = realloc(prev, pl + len + 1);
    if (!j)
        return -1;
    memcpy(j + pl, s, len);
    j[pl + len] = '\0';
    t->v[t->n - 1].text = j;
    return 0;
}

static int add_word(bench_tokens *t, const char *s, size_t len, int line, int *joining)
{
    int cont = s[len - 1] == '\\';
    if (cont)
        len--;
    int rc = 0;
    if (*joining && t->n > 0) {
        rc = append_last(t, s, len);
    } else if (len > 0) {
        char *w = malloc(len + 1);
        if (!w)
            return -1;
        memcpy(w, s, len);
        w[len] = '\0';
        rc = push(t, w, line);
        if (rc)
            free(w);
    }
    *joining = cont;
    return rc;
}

int bench_tokenize(const char *text, bench_tokens *out)
{
    int line = 1, joining = 0;
    const char *p = text;
    while (*p) {
        if (is_space(*p)) {
            line += *p == '\n';
            p++;
            continue;
        }
        if (*p == '#') {
            while (*p && *p != '\n')
                p++;
            continue;
        }
        const char *s = p;
        while (*p && !is_space(*p))
            p++;
        if (add_word(out, s, (size_t)(p - s), line, &joining))
            return -1;
    }
    return 0;
}

void bench_tokens_free(bench_tokens *t)
{
    for (size_t i = 0; i < t->n; i++)
        free(t->v[i].text);
    free(t->v);
    t->v = NULL;
    t->n = t->cap = 0;
}
