/* svg.c - the bar chart of --svg (see svg.h). */
#include "svg.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "problem.h"

/* Geometry, in SVG user units (pixels). */
enum {
    BAR_W = 12, BAR_GAP = 2, PASS_GAP = 12, GROUP_GAP = 30, NAME_CHAR_W = 7,
    LEFT = 78, RIGHT = 30, TOP = 84, PLOT_H = 300, BOTTOM = 58, MIN_WIDTH = 560
};

/* A bar's series: a clconv algorithm, bwd_b (no algorithm), or a peer. */
enum { SERIES_BIAS = CLCONV_ALGO_COUNT_, SERIES_PEER0, NSERIES = SERIES_PEER0 + BENCH_NPEERS };

typedef struct bar {
    size_t group;       /* index of its layer */
    int pass, series;
    double gflops, x;
} bar;

typedef struct chart {
    const bench_report *r;
    bar *bars;
    size_t nbars;
    const bench_problem **groups;
    size_t ngroups;
    int used[NSERIES];  /* series in the legend */
    double width, ymax, ystep;
    FILE *f;
} chart;

static const char *series_color(int s)
{
    static const char *const c[NSERIES] = {"#1f5fa8", "#9ecae1", "#6baed6", "#3182bd",
                                           "#08306b", "#969696", "#f28e2b", "#d62728"};
    return s >= 0 && s < NSERIES ? c[s] : "#000000";
}

static void series_label(const chart *c, int s, char *buf, size_t cap)
{
    if (s >= SERIES_PEER0) {
        const char *l = c->r->env.peer_label[s - SERIES_PEER0];
        snprintf(buf, cap, "%s", l ? l : bench_peer_name(s - SERIES_PEER0));
    } else if (s == SERIES_BIAS) {
        snprintf(buf, cap, "clconv (bias)");
    } else {
        snprintf(buf, cap, "clconv %s", clconv_algo_name((clconv_algo)s));
    }
}

/* Text as XML character data or attribute value: the five special
 * characters escaped, control characters (invalid in XML 1.0) dropped. */
static void xml_text(FILE *f, const char *s)
{
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '&')
            fputs("&amp;", f);
        else if (ch == '<')
            fputs("&lt;", f);
        else if (ch == '>')
            fputs("&gt;", f);
        else if (ch == '"')
            fputs("&quot;", f);
        else if (ch == '\'')
            fputs("&apos;", f);
        else if (ch >= 0x20 && ch != 0x7f)
            fputc(ch, f);
    }
}

static void layer_name(const bench_problem *p, char *buf, size_t cap)
{
    if (p->name[0])
        snprintf(buf, cap, "%s", p->name);
    else
        bench_problem_desc(p, 0, buf, cap);
}

/* ---- the bars, in the table's order ---- */

static int add_bar(chart *c, size_t group, int pass, int series, double gflops)
{
    bar *b = &c->bars[c->nbars++];
    b->group = group;
    b->pass = pass;
    b->series = series;
    b->gflops = gflops;
    c->used[series] = 1;
    return 0;
}

/* A peer's figure is the same on every algorithm's row of a layer and
 * pass: one bar each, after clconv's bars of that pass. */
static void add_peer_bars(chart *c, const bench_kept *k)
{
    for (int q = 0; q < BENCH_NPEERS; q++)
        if (k->peer_gflops[q] > 0)
            add_bar(c, c->ngroups - 1, k->pass, SERIES_PEER0 + q, k->peer_gflops[q]);
}

static int collect(chart *c)
{
    const bench_report *r = c->r;
    c->bars = calloc(r->nkept * (1 + BENCH_NPEERS) + 1, sizeof *c->bars);
    c->groups = calloc(r->nkept + 1, sizeof *c->groups);
    if (!c->bars || !c->groups)
        return -1;
    for (size_t i = 0; i < r->nkept; i++) {
        const bench_kept *k = &r->kept[i];
        if (!c->ngroups || c->groups[c->ngroups - 1] != k->p)
            c->groups[c->ngroups++] = k->p;
        add_bar(c, c->ngroups - 1, k->pass, k->algo < 0 ? SERIES_BIAS : k->algo, k->gflops);
        const bench_kept *next = i + 1 < r->nkept ? &r->kept[i + 1] : NULL;
        if (!next || next->p != k->p || next->pass != k->pass)
            add_peer_bars(c, k);
    }
    return 0;
}

/* ---- layout ---- */

static double group_min_width(const bench_problem *p)
{
    char name[BENCH_NAME_CAP + 400];
    layer_name(p, name, sizeof name);
    return (double)strlen(name) * NAME_CHAR_W;
}

/* x of every bar; a group is at least as wide as its name. */
static void layout(chart *c)
{
    double x = LEFT + GROUP_GAP / 2.0, group_x = x;
    for (size_t i = 0; i < c->nbars; i++) {
        bar *b = &c->bars[i];
        if (i > 0 && b->group != b[-1].group) {
            double need = group_min_width(c->groups[b[-1].group]);
            x = fmax(x, group_x + need) + GROUP_GAP;
            group_x = x;
        } else if (i > 0 && b->pass != b[-1].pass) {
            x += PASS_GAP;
        }
        b->x = x;
        x += BAR_W + BAR_GAP;
    }
    if (c->nbars)
        x = fmax(x, group_x + group_min_width(c->groups[c->bars[c->nbars - 1].group]));
    c->width = fmax(x + GROUP_GAP / 2.0 + RIGHT, MIN_WIDTH);
}

/* A tick step of 1, 2, 2.5 or 5 times a power of ten giving about five
 * ticks up to v (the top bar or the peak); the axis ends at the first
 * tick at or above v. */
static double tick_step(double v)
{
    if (!(v > 0))
        return 1.0;
    double raw = v / 5.0, e = pow(10.0, floor(log10(raw)));
    static const double steps[] = {1.0, 2.0, 2.5, 5.0, 10.0};
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++)
        if (steps[i] * e >= raw)
            return steps[i] * e;
    return 10.0 * e;
}

static double y_of(const chart *c, double v)
{
    return TOP + PLOT_H - PLOT_H * (v / c->ymax);
}

/* ---- drawing ---- */

static void draw_axes(chart *c)
{
    FILE *f = c->f;
    double x0 = LEFT, x1 = c->width - RIGHT;
    int ticks = (int)lround(c->ymax / c->ystep);
    fprintf(f, "<g class=\"axes\" stroke=\"#444444\">\n");
    for (int i = 0; i <= ticks; i++) {
        double v = c->ystep * i, y = y_of(c, v);
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\"/>\n",
                x0, y, i ? x1 : x0 - 4, y, i ? "#dddddd" : "#444444");
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" stroke=\"none\" "
                   "fill=\"#222222\">%.4g</text>\n", x0 - 7, y + 4, v);
    }
    fprintf(f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>\n", LEFT, TOP, LEFT, TOP + PLOT_H);
    fprintf(f, "<line x1=\"%d\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\"/>\n</g>\n", LEFT, TOP + PLOT_H,
            x1, TOP + PLOT_H);
    fprintf(f, "<text class=\"axis-label\" transform=\"translate(20 %d) rotate(-90)\" "
               "text-anchor=\"middle\">GFLOP/s (higher is better)</text>\n", TOP + PLOT_H / 2);
    fprintf(f, "<text class=\"axis-label\" x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">layer, "
               "and under each cluster its pass</text>\n", (LEFT + x1) / 2, TOP + PLOT_H + BOTTOM - 6);
}

static void draw_bar(chart *c, const bar *b)
{
    char name[BENCH_NAME_CAP + 400], label[80];
    layer_name(c->groups[b->group], name, sizeof name);
    series_label(c, b->series, label, sizeof label);
    double y = y_of(c, b->gflops);
    fprintf(c->f, "<rect class=\"bar\" x=\"%.1f\" y=\"%.1f\" width=\"%d\" height=\"%.1f\" "
                  "fill=\"%s\"><title>", b->x, y, BAR_W, TOP + PLOT_H - y, series_color(b->series));
    xml_text(c->f, name);
    fprintf(c->f, " %s ", bench_pass_name(b->pass));
    xml_text(c->f, label);
    fprintf(c->f, ": %.1f GFLOP/s</title></rect>\n", b->gflops);
}

/* Under each pass cluster its pass, under each group its layer. */
static void draw_labels(chart *c)
{
    FILE *f = c->f;
    for (size_t i = 0, first = 0; i < c->nbars; i++) {
        const bar *b = &c->bars[i], *n = i + 1 < c->nbars ? b + 1 : NULL;
        if (n && n->group == b->group && n->pass == b->pass)
            continue;
        double mid = (c->bars[first].x + b->x + BAR_W) / 2;
        fprintf(f, "<text class=\"pass\" x=\"%.1f\" y=\"%d\" text-anchor=\"middle\" "
                   "font-size=\"9\" fill=\"#555555\">%s</text>\n", mid, TOP + PLOT_H + 12,
                bench_pass_name(b->pass));
        first = i + 1;
    }
    for (size_t g = 0, i = 0; g < c->ngroups; g++) {
        size_t j = i;
        while (j + 1 < c->nbars && c->bars[j + 1].group == g)
            j++;
        char name[BENCH_NAME_CAP + 400];
        layer_name(c->groups[g], name, sizeof name);
        fprintf(f, "<text class=\"layer\" x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">",
                (c->bars[i].x + c->bars[j].x + BAR_W) / 2, TOP + PLOT_H + 28);
        xml_text(f, name);
        fprintf(f, "</text>\n");
        i = j + 1;
    }
}

static void draw_peak(chart *c)
{
    double peak = c->r->peak_gflops;
    if (!(peak > 0))
        return;
    double y = y_of(c, peak);
    fprintf(c->f, "<line class=\"peak\" x1=\"%d\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                  "stroke=\"#b00000\" stroke-width=\"1.5\" stroke-dasharray=\"6 3\"/>\n",
            LEFT, y, c->width - RIGHT, y);
    fprintf(c->f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" fill=\"#b00000\">"
                  "measured FMA peak %.0f GFLOP/s</text>\n", c->width - RIGHT - 2, y - 4, peak);
}

static void draw_legend(chart *c)
{
    double x = LEFT, y = 46;
    for (int s = 0; s < NSERIES; s++) {
        if (!c->used[s])
            continue;
        char label[80];
        series_label(c, s, label, sizeof label);
        fprintf(c->f, "<rect class=\"key\" x=\"%.1f\" y=\"%.1f\" width=\"12\" height=\"12\" "
                      "fill=\"%s\"/><text x=\"%.1f\" y=\"%.1f\">", x, y, series_color(s), x + 16,
                y + 10);
        xml_text(c->f, label);
        fprintf(c->f, "</text>\n");
        x += 16 + strlen(label) * NAME_CHAR_W + 18;
    }
    if (c->r->peak_gflops > 0)
        fprintf(c->f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#b00000\" "
                      "stroke-width=\"1.5\" stroke-dasharray=\"6 3\"/><text x=\"%.1f\" "
                      "y=\"%.1f\">FMA peak</text>\n", x, y + 6, x + 24, y + 6, x + 28, y + 10);
}

static void draw_title(chart *c)
{
    const bench_report *r = c->r;
    long long mb = c->ngroups ? (long long)c->groups[0]->d.n : 0;
    for (size_t g = 1; g < c->ngroups; g++)
        if ((long long)c->groups[g]->d.n != mb)
            mb = -1;
    fprintf(c->f, "<text class=\"title\" x=\"%d\" y=\"24\" font-size=\"14\" font-weight=\"bold\">"
                  "clconv %s on ", LEFT, clconv_version_string());
    xml_text(c->f, r->env.device ? r->env.device : "?");
    if (mb > 0)
        fprintf(c->f, ", mb%lld", mb);
    fprintf(c->f, "</text>\n");
}

static void draw(chart *c)
{
    FILE *f = c->f;
    double h = TOP + PLOT_H + BOTTOM;
    fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
               "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
               "viewBox=\"0 0 %.0f %.0f\" font-family=\"sans-serif\" font-size=\"11\">\n",
            c->width, h, c->width, h);
    fprintf(f, "<title>clconv-bench: GFLOP/s per layer, pass and implementation</title>\n");
    fprintf(f, "<rect class=\"background\" width=\"100%%\" height=\"100%%\" fill=\"#ffffff\"/>\n");
    draw_title(c);
    draw_legend(c);
    draw_axes(c);
    for (size_t i = 0; i < c->nbars; i++)
        draw_bar(c, &c->bars[i]);
    draw_peak(c);
    draw_labels(c);
    fprintf(f, "</svg>\n");
}

int bench_svg_write(const bench_report *r, const char *path, char *err, size_t cap)
{
    chart c;
    memset(&c, 0, sizeof c);
    c.r = r;
    int rc = collect(&c);
    if (rc) {
        snprintf(err, cap, "out of host memory");
    } else {
        double top = r->peak_gflops;
        for (size_t i = 0; i < c.nbars; i++)
            top = fmax(top, c.bars[i].gflops);
        c.ystep = tick_step(top);
        c.ymax = c.ystep * fmax(1.0, ceil(top * 1.02 / c.ystep));
        layout(&c);
        c.f = fopen(path, "w");
        if (!c.f) {
            snprintf(err, cap, "cannot write: %s", strerror(errno));
            rc = -1;
        }
    }
    if (c.f) {
        draw(&c);
        if (ferror(c.f) | fclose(c.f)) {
            snprintf(err, cap, "writing failed: %s", strerror(errno));
            rc = -1;
        }
    }
    free(c.bars);
    free(c.groups);
    return rc;
}
