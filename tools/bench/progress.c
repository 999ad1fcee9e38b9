/* progress.c - the progress line (see progress.h). */
#include "progress.h"

#include <string.h>
#include <unistd.h>

/* Short enough for an 80-column terminal: a longer line would wrap, and
 * "\r" could then no longer overwrite it. */
#define LINE_MAX_CHARS 78

void bench_progress_begin(bench_progress *p, int on, int total)
{
    memset(p, 0, sizeof *p);
    p->f = on && isatty(fileno(stderr)) ? stderr : NULL;
    p->total = total;
}

/* text as one terminal line: control characters (a name may hold any
 * byte) become '?', and the line is cut to LINE_MAX_CHARS. */
static void show(bench_progress *p, const char *text)
{
    char line[LINE_MAX_CHARS + 1];
    size_t n = 0;
    for (; text[n] && n < LINE_MAX_CHARS; n++)
        line[n] = (unsigned char)text[n] < 0x20 || text[n] == 0x7f ? '?' : text[n];
    line[n] = '\0';
    fprintf(p->f, "\r%s\033[K", line);
    fflush(p->f);
    p->shown = 1;
}

void bench_progress_row(bench_progress *p, const char *name, const char *pass, const char *algo)
{
    p->step++;
    if (!p->f)
        return;
    char text[256];
    snprintf(text, sizeof text, "[%d/%d] %s %s%s%s", p->step, p->total, name, pass,
             algo ? " " : "", algo ? algo : "");
    show(p, text);
}

void bench_progress_say(bench_progress *p, const char *what)
{
    if (p->f)
        show(p, what);
}

void bench_progress_clear(bench_progress *p)
{
    if (!p->f || !p->shown)
        return;
    fprintf(p->f, "\r\033[K");
    fflush(p->f);
    p->shown = 0;
}
