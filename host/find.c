/* Find: AUTO's on-device tuning (MIOpen's find-db, cudnn.benchmark,
 * CLBlast's tuner).  With find on, the first AUTO call of a layer and pass
 * times every candidate that supports it - a named algorithm with one of
 * its tuning rows - on scratch output, and runs the fastest; the choice is
 * kept in the context and stored as a record in the program cache's
 * directory, so later calls and later processes run it without timing.
 *
 * Cost bound: at most FIND_MAX_CANDIDATES candidates, each a warm-up (its
 * program builds happen there) and FIND_REPS timed runs, or one timed run
 * when that one is already FIND_SLOW times the best so far.
 *
 * Never a wrong answer: every candidate is a configuration the test suite
 * checks against the reference (tests/test_find.c runs each one), and the
 * caller's output is written only by the chosen run.  A record read back
 * is trusted no further than binary_cache.c trusts an entry (directory
 * and file rules, exact length, key, identity and checksum), and then
 * only if it names this layer and pass and a candidate that can run the
 * call; anything else is ignored and the layer timed again.
 *
 * Record file find-<key>.bin: binary_cache.c's entry format, identity as
 * for a program (library, device, driver, platform) with the key text as
 * its source, payload "<key text>\n<algo> <row or -> <ms>\n". */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "tiled.h"

#define FIND_MAX_CANDIDATES 8
#define FIND_REPS 3
#define FIND_SLOW 1.5
#define FIND_MAX_ENTRIES 1024 /* choices a context keeps; then the oldest is replaced */
#define FIND_KEY_MAX (CLCONV_DESC_STRING_MAX + 96)

/* Timed in this order after AUTO's own pick; on a tie the earlier one
 * stays, so AUTO's own pick is kept unless another one is faster. */
const find_cand find_cands[] = {
    {CLCONV_ALGO_TILED, "nvidia"}, {CLCONV_ALGO_TILED, "cpu"}, {CLCONV_ALGO_TILED, "generic"},
    {CLCONV_ALGO_GEMM, "nvidia"},  {CLCONV_ALGO_GEMM, "cpu"},  {CLCONV_ALGO_GEMM, "generic"},
    {CLCONV_ALGO_WINOGRAD, NULL}, {CLCONV_ALGO_DIRECT, NULL},
};
const int find_ncands = (int)(sizeof find_cands / sizeof find_cands[0]);
_Static_assert(sizeof find_cands / sizeof find_cands[0] <= FIND_MAX_CANDIDATES,
               "find's cost bound counts at most FIND_MAX_CANDIDATES candidates");

static const char *const dirs[CLCONV_PASS_COUNT_] = {"fwd", "bwd_d", "bwd_w"};

/* ---- the context's state ------------------------------------------------- */

void find_init(clconv_ctx *ctx)
{
    const char *v = getenv("CLCONV_FIND");
    int off = !v || env_word_is(v, "") || env_says_off(v);
    ctx->find.mode = off ? CLCONV_FIND_OFF
                         : env_word_is(v, "reset") ? CLCONV_FIND_RESET : CLCONV_FIND_ON;
}

static void forget(find_state *f)
{
    for (size_t i = 0; i < f->n; i++)
        free(f->entries[i].key);
    f->n = f->next = 0;
}

void find_free(clconv_ctx *ctx)
{
    forget(&ctx->find);
    free(ctx->find.entries);
    ctx->find.entries = NULL;
}

static int remembered(const clconv_ctx *ctx, const char *key)
{
    const find_state *f = &ctx->find;
    for (size_t i = 0; i < f->n; i++)
        if (!strcmp(f->entries[i].key, key))
            return f->entries[i].cand;
    return -1;
}

/* Out of memory only means timing the layer again at its next call. */
static void remember(clconv_ctx *ctx, const char *key, int cand)
{
    find_state *f = &ctx->find;
    if (!f->entries && !(f->entries = calloc(FIND_MAX_ENTRIES, sizeof *f->entries)))
        return;
    char *k = strdup(key);
    if (!k)
        return;
    size_t i = f->n;
    if (f->n < FIND_MAX_ENTRIES) {
        f->n++;
    } else {
        i = f->next;
        f->next = (f->next + 1) % FIND_MAX_ENTRIES;
        free(f->entries[i].key);
    }
    f->entries[i] = (find_entry){k, cand};
}

/* The layer, pass and arithmetic as the text records are keyed by
 * ("mb2g1ic64...dh0dw0 fwd fp32"): the arithmetic TILED actually runs
 * (math_mode.c), since TF32 changes its speed, and fp32 where TF32 is
 * allowed but the device has no TF32 path. */
static void find_key(const clconv_ctx *ctx, const clconv_desc *d, clconv_pass pass, char *buf,
                     size_t cap)
{
    static const char *const math[] = {[MATH_TF32_OFF] = "fp32", [MATH_TF32_PTX] = "tf32",
                                       [MATH_TF32_EMULATED] = "tf32-emulated"};
    char desc[CLCONV_DESC_STRING_MAX], opts[64];
    clconv_desc_string(d, desc, sizeof desc);
    log_desc_options(d, opts, sizeof opts); /* the storage type and layouts */
    snprintf(buf, cap, "%s%s %s %s", desc, opts, dirs[pass], math[math_tf32_path(ctx)]);
}

/* ---- candidates ------------------------------------------------------------ */

static const algo_impl *cand_impl(int c) { return algo_impl_of(find_cands[c].algo); }

static void cand_name(int c, char *buf, size_t cap)
{
    const char *row = find_cands[c].row;
    snprintf(buf, cap, "%s%s%s", clconv_algo_name(find_cands[c].algo), row ? "/" : "",
             row ? row : "");
}

/* Asked with the candidate's row in force: its plan, and so what it
 * needs of the device, depends on the row. */
static int cand_ok(const clconv_ctx *ctx, int c, clconv_pass pass, const pass_args *a)
{
    char why[256];
    const char *old = tuning_override(find_cands[c].row);
    clconv_status st = impl_supports(ctx, cand_impl(c), pass, a, why, sizeof why);
    tuning_override(old);
    return st == CLCONV_OK;
}

static clconv_status cand_run(clconv_ctx *ctx, int c, clconv_pass pass, const pass_args *a)
{
    const char *old = tuning_override(find_cands[c].row);
    clconv_status st = cand_impl(c)->run[pass](ctx, a);
    tuning_override(old);
    return st;
}

/* AUTO's own pick as a candidate: its implementation with the device's
 * row (every table has the rows nvidia, cpu and generic, matched by the
 * same rules, so the device's row of one table is its row of all). */
static int heuristic_cand(const clconv_ctx *ctx, const algo_impl *h)
{
    const char *row = tiled_rows[TUNING_PICK(&ctx->info, tiled_rows)].match.name;
    for (int c = 0; c < find_ncands; c++)
        if (cand_impl(c) == h && (!find_cands[c].row || !strcmp(find_cands[c].row, row)))
            return c;
    return -1;
}

static int cand_by_name(const char *algo, const char *row)
{
    for (int c = 0; c < find_ncands; c++) {
        const char *r = find_cands[c].row ? find_cands[c].row : "-";
        if (!strcmp(clconv_algo_name(find_cands[c].algo), algo) && !strcmp(r, row))
            return c;
    }
    return -1;
}

/* The candidates that can run the call, AUTO's own pick first (the time
 * to beat from the start, so slow candidates stop after one run). */
static int cand_order(const clconv_ctx *ctx, int heur, clconv_pass pass, const pass_args *a,
                      int *order)
{
    int n = 0;
    if (heur >= 0 && cand_ok(ctx, heur, pass, a))
        order[n++] = heur;
    for (int c = 0; c < find_ncands && n < FIND_MAX_CANDIDATES; c++)
        if (c != heur && cand_ok(ctx, c, pass, a))
            order[n++] = c;
    return n;
}

/* ---- timing ------------------------------------------------------------------ */

/* Each run is timed from the end of the previous one: on the device's
 * profiling clock (the end of a run's last command, as the bench tool
 * times), else - a caller's queue without CL_QUEUE_PROFILING_ENABLE - on
 * the wall clock around clFinish. */
typedef struct find_timer {
    int events;
    cl_ulong end;   /* events: the previous run's end, ns */
    double wall;    /* wall clock: the previous run's end, ms */
} find_timer;

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

static int has_profiling(const clconv_ctx *ctx)
{
    cl_command_queue_properties p = 0;
    return clGetCommandQueueInfo(ctx->queue, CL_QUEUE_PROPERTIES, sizeof p, &p, NULL) ==
               CL_SUCCESS &&
           (p & CL_QUEUE_PROFILING_ENABLE);
}

/* Wait for the run just enqueued (ev: its last command); *ms since the
 * previous one ended. */
static clconv_status lap(clconv_ctx *ctx, find_timer *t, cl_event ev, double *ms)
{
    if (!t->events) {
        CL_TRY(ctx, clFinish(ctx->queue), "clFinish (find)");
        double now = now_ms();
        *ms = now - t->wall;
        t->wall = now;
        return CLCONV_OK;
    }
    if (!ev)
        return ctx_fail(ctx, CLCONV_OPENCL_ERROR, CL_SUCCESS, "the run enqueued nothing to time");
    cl_ulong end = 0;
    CL_TRY(ctx, clWaitForEvents(1, &ev), "clWaitForEvents (find)");
    CL_TRY(ctx, clGetEventProfilingInfo(ev, CL_PROFILING_COMMAND_END, sizeof end, &end, NULL),
           "clGetEventProfilingInfo (find)");
    *ms = end > t->end ? (double)(end - t->end) * 1e-6 : 0;
    t->end = end;
    return CLCONV_OK;
}

static clconv_status timed_run(clconv_ctx *ctx, find_timer *t, int c, clconv_pass pass,
                               const pass_args *s, double *ms)
{
    cl_event ev = NULL;
    pass_args r = *s;
    r.event = t->events ? &ev : NULL;
    ctx->find.stats.runs++;
    clconv_status st = cand_run(ctx, c, pass, &r);
    if (st == CLCONV_OK)
        st = lap(ctx, t, ev, ms);
    if (ev)
        clReleaseEvent(ev);
    return st;
}

/* *best: the fastest of FIND_REPS runs after a warm-up (which builds the
 * candidate's programs and first touches its memory); after one run when
 * that one is already `cut` ms or slower: it cannot win. */
static clconv_status time_cand(clconv_ctx *ctx, find_timer *t, int c, clconv_pass pass,
                               const pass_args *s, double cut, double *best)
{
    double ms;
    TRY(timed_run(ctx, t, c, pass, s, &ms));
    *best = INFINITY;
    for (int i = 0; i < FIND_REPS && (i == 0 || *best < cut); i++) {
        TRY(timed_run(ctx, t, c, pass, s, &ms));
        *best = fmin(*best, ms);
    }
    return CLCONV_OK;
}

/* The scratch output candidates write instead of the caller's. */
static cl_mem scratch_make(clconv_ctx *ctx, clconv_pass pass, const layer *L)
{
    const size_t elems[CLCONV_PASS_COUNT_] = {L->y_elems, L->x_elems, L->w_elems};
    cl_int err;
    return clCreateBuffer(ctx->context, CL_MEM_READ_WRITE, elems[pass] * L->esize, NULL, &err);
}

/* ---- records on disk --------------------------------------------------------- */

static clconv_status record_id(const clconv_ctx *ctx, const char *key, cache_id *id)
{
    return cache_id_make(ctx, "find", key, strlen(key), "", id);
}

clconv_status find_record_id(const clconv_ctx *ctx, const clconv_desc *d, clconv_pass pass,
                             cache_id *out)
{
    char key[FIND_KEY_MAX];
    find_key(ctx, d, pass, key, sizeof key);
    return record_id(ctx, key, out);
}

/* The candidate a record names, if it is this key's record and the
 * candidate can run the call; else -1 and why. */
static int parse_record(const clconv_ctx *ctx, const char *key, const unsigned char *p,
                        size_t len, clconv_pass pass, const pass_args *a, const char **why)
{
    char text[FIND_KEY_MAX + 64], algo[16], row[16];
    const size_t klen = strlen(key);
    *why = "not a record of this layer and pass";
    if (len >= sizeof text)
        return -1;
    memcpy(text, p, len);
    text[len] = 0;
    if (strncmp(text, key, klen) || text[klen] != '\n' ||
        sscanf(text + klen + 1, "%15s %15s", algo, row) != 2)
        return -1;
    int c = cand_by_name(algo, row);
    *why = c < 0 ? "naming no candidate" : "naming a candidate that cannot run this call";
    return c >= 0 && cand_ok(ctx, c, pass, a) ? c : -1;
}

static int load_entry(clconv_ctx *ctx, const char *key, const cache_id *id, clconv_pass pass,
                      const pass_args *a)
{
    unsigned char *payload = NULL;
    size_t len = 0;
    const char *why = NULL;
    cache_result r = cache_entry_load(ctx->cache_dir, id, &payload, &len, &why);
    int c = r == CACHE_HIT ? parse_record(ctx, key, payload, len, pass, a, &why) : -1;
    free(payload);
    char name[32];
    if (c >= 0) {
        ctx->find.stats.loaded++;
        cand_name(c, name, sizeof name);
        log_msg(ctx, CLCONV_LOG_CALL, "find: %s: read %s/%s -> %s", key, ctx->cache_dir,
                id->file, name);
        return c;
    }
    if (r == CACHE_MISS)
        return -1;
    ctx->find.stats.rejected++;
    if (r == CACHE_REFUSED) /* as the program cache: it points at tampering */
        log_msg(ctx, CLCONV_LOG_ERROR, "find: %s/%s is %s: not read; timing again",
                ctx->cache_dir, id->file, why);
    else
        log_msg(ctx, CLCONV_LOG_CALL, "find: %s: ignored %s/%s, %s; timing again", key,
                ctx->cache_dir, id->file, r == CACHE_BAD ? "damaged or foreign" : why);
    return -1;
}

/* The stored choice for key, or -1 (none, or one not to trust). */
static int load(clconv_ctx *ctx, const char *key, clconv_pass pass, const pass_args *a)
{
    cache_id id;
    if (!program_cache_ready(ctx) || record_id(ctx, key, &id) != CLCONV_OK)
        return -1;
    int c = load_entry(ctx, key, &id, pass, a);
    cache_id_free(&id);
    if (c >= 0)
        remember(ctx, key, c);
    return c;
}

static void store(clconv_ctx *ctx, const char *key, int c, double ms)
{
    cache_id id;
    if (!program_cache_ready(ctx) || record_id(ctx, key, &id) != CLCONV_OK)
        return;
    char payload[FIND_KEY_MAX + 64];
    const char *row = find_cands[c].row;
    int n = snprintf(payload, sizeof payload, "%s\n%s %s %.6g\n", key,
                     clconv_algo_name(find_cands[c].algo), row ? row : "-", ms);
    int ok = n > 0 && (size_t)n < sizeof payload &&
             cache_entry_store(ctx->cache_dir, &id, payload, (size_t)n) == 0;
    ctx->find.stats.stored += ok;
    log_msg(ctx, CLCONV_LOG_DEBUG, "find: %s %s/%s", ok ? "saved" : "could not save",
            ctx->cache_dir, id.file);
    cache_id_free(&id);
}

/* ---- timing a layer ------------------------------------------------------------- */

/* Append "name 1.23 ms" (or "name failed (STATUS)") to the log line. */
static void note(char *line, size_t cap, int c, clconv_status st, double ms)
{
    char name[32];
    size_t len = strlen(line);
    cand_name(c, name, sizeof name);
    if (st == CLCONV_OK)
        snprintf(line + len, cap - len, "%s%s %.3g ms", len ? ", " : "", name, ms);
    else
        snprintf(line + len, cap - len, "%s%s failed (%s)", len ? ", " : "", name,
                 clconv_status_name(st));
}

/* Time the candidates that can run the call on scratch output and keep
 * the fastest; AUTO's own pick (heur) when none could be timed. */
static int time_all(clconv_ctx *ctx, const char *key, clconv_pass pass, const pass_args *a,
                    int heur)
{
    const double t0 = now_ms();
    const unsigned runs0 = ctx->find.stats.runs;
    cl_mem scratch = scratch_make(ctx, pass, a->L);
    int order[FIND_MAX_CANDIDATES];
    const int n = scratch ? cand_order(ctx, heur, pass, a, order) : 0;
    /* beta 0: the candidates' output is never read */
    kepi e0 = a->ep ? *a->ep : (kepi){0};
    e0.beta = 0.0f;
    pass_args s = {a->L, a->a, a->a_off, a->b, a->b_off, scratch, 0, 0, NULL,
                   a->ep ? &e0 : NULL, a->bias, a->bias_off};
    find_timer t = {has_profiling(ctx), 0, t0};
    char line[640] = "";
    double best = INFINITY, heur_ms = NAN;
    int win = -1;
    for (int i = 0; i < n; i++) {
        double ms = INFINITY;
        clconv_status st = time_cand(ctx, &t, order[i], pass, &s, FIND_SLOW * best, &ms);
        ctx_clear_error(ctx); /* a failed candidate is logged, not the call's error */
        note(line, sizeof line, order[i], st, ms);
        heur_ms = order[i] == heur && st == CLCONV_OK ? ms : heur_ms;
        if (st == CLCONV_OK && ms < best)
            best = ms, win = order[i];
    }
    if (scratch)
        clReleaseMemObject(scratch);
    char wname[32] = "", hname[32] = "";
    if (win >= 0)
        cand_name(win, wname, sizeof wname);
    if (heur >= 0)
        cand_name(heur, hname, sizeof hname);
    if (win < 0) {
        log_msg(ctx, CLCONV_LOG_CALL, "find: %s: %s; running AUTO's own choice %s", key,
                scratch ? "no candidate could be timed" : "no memory for scratch output", hname);
        if (heur >= 0)
            remember(ctx, key, heur); /* not stored: another process may do better */
        return heur;
    }
    ctx->find.stats.timed++;
    char gain[64] = "";
    if (!isnan(heur_ms))
        snprintf(gain, sizeof gain, "%.2fx AUTO's own %s; ", heur_ms / best, hname);
    log_msg(ctx, CLCONV_LOG_CALL, "find: %s: %s -> %s (%s%u runs in %.2f s%s)", key, line, wname,
            gain, ctx->find.stats.runs - runs0, (now_ms() - t0) * 1e-3,
            t.events ? "" : "; wall clock: the queue has no profiling");
    remember(ctx, key, win);
    store(ctx, key, win, best);
    return win;
}

clconv_status find_run(clconv_ctx *ctx, const clconv_desc *d, clconv_pass pass,
                       const pass_args *a, const algo_impl *heuristic)
{
    char key[FIND_KEY_MAX];
    find_key(ctx, d, pass, key, sizeof key);
    if (a->ep) /* a fused epilogue narrows the candidates and costs its own time */
        snprintf(key + strlen(key), sizeof key - strlen(key), " epilogue");
    int c = remembered(ctx, key);
    if (c >= 0)
        ctx->find.stats.remembered++;
    if (c < 0 && ctx->find.mode != CLCONV_FIND_RESET)
        c = load(ctx, key, pass, a);
    if (c < 0)
        c = time_all(ctx, key, pass, a, heuristic_cand(ctx, heuristic));
    /* a remembered choice may not suit this call's offsets (32-bit devices) */
    if (c < 0 || !cand_ok(ctx, c, pass, a))
        return heuristic->run[pass](ctx, a);
    return cand_run(ctx, c, pass, a);
}

/* ---- public calls ---------------------------------------------------------------- */

clconv_status clconv_set_find(clconv_ctx *ctx, int mode)
{
    if (!ctx)
        return CLCONV_NULL_ARGUMENT;
    pthread_mutex_lock(&ctx->lock);
    ctx_clear_error(ctx);
    ctx->find.mode = mode == CLCONV_FIND_OFF     ? CLCONV_FIND_OFF
                     : mode == CLCONV_FIND_RESET ? CLCONV_FIND_RESET
                                                 : CLCONV_FIND_ON;
    pthread_mutex_unlock(&ctx->lock);
    return CLCONV_OK;
}

clconv_status clconv_find_clear(clconv_ctx *ctx)
{
    if (!ctx)
        return CLCONV_NULL_ARGUMENT;
    pthread_mutex_lock(&ctx->lock);
    ctx_clear_error(ctx);
    forget(&ctx->find);
    pthread_mutex_unlock(&ctx->lock);
    return CLCONV_OK;
}
