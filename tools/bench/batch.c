/* batch.c - locating and reading --batch files. */
#include "batch.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *dup_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

static int readable(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f)
        fclose(f);
    return f != NULL;
}

/* Like C's #include "...": a relative name inside a batch file means the
 * file next to it, wherever the tool runs from; the working directory is
 * the fallback (benchdnn's inputs name nested files both ways). */
char *bench_batch_path(const char *file, const char *base_file)
{
    const char *slash = base_file ? strrchr(base_file, '/') : NULL;
    if (file[0] == '/' || !slash)
        return dup_str(file);
    size_t dl = (size_t)(slash - base_file) + 1, fl = strlen(file);
    char *p = malloc(dl + fl + 1);
    if (!p)
        return NULL;
    memcpy(p, base_file, dl);
    memcpy(p + dl, file, fl + 1);
    if (readable(p))
        return p;
    free(p);
    return dup_str(file);
}

char *bench_read_text(const char *path, char *err, size_t err_cap)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, err_cap, "cannot open batch file \"%s\": %s", path, strerror(errno));
        return NULL;
    }
    size_t cap = 4096, len = 0;
    char *s = malloc(cap);
    while (s) {
        len += fread(s + len, 1, cap - len - 1, f);
        if (len < cap - 1)
            break;
        char *t = cap > ((size_t)1 << 28) ? NULL : realloc(s, cap * 2);
        if (!t) {
            free(s);
            s = NULL;
            break;
        }
        s = t;
        cap *= 2;
    }
    int bad = ferror(f) ? errno : 0;
    fclose(f);
    if (!s || bad) {
        snprintf(err, err_cap, "cannot read batch file \"%s\": %s", path,
                 s ? strerror(bad) : "out of memory, or larger than 256 MiB");
        free(s);
        return NULL;
    }
    if (memchr(s, '\0', len)) {
        snprintf(err, err_cap, "batch file \"%s\" is not text (holds a NUL byte)", path);
        free(s);
        return NULL;
    }
    s[len] = '\0';
    return s;
}
