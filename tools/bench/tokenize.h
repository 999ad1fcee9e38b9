/* tokenize.h - split a batch file's text into tokens the way benchdnn's
 * batch() does: whitespace separates tokens; a token starting with '#'
 * comments out the rest of its line; a token ending in '\' is joined with
 * the next one (a lone '\' joins the tokens either side of it).  Pure
 * string processing, no I/O. */
#ifndef BENCH_TOKENIZE_H
#define BENCH_TOKENIZE_H

#include <stddef.h>

typedef struct bench_token {
    char *text;  /* NUL-terminated, owned */
    int line;    /* 1-based line the token starts on */
} bench_token;

typedef struct bench_tokens {
    bench_token *v;
    size_t n, cap;
} bench_tokens;

/* Appends the tokens of text to *out.  0 on success, -1 if out of memory
 * (tokens added so far stay in *out). */
int bench_tokenize(const char *text, bench_tokens *out);
void bench_tokens_free(bench_tokens *t);

#endif
