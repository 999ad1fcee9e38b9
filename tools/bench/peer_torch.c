/* peer_torch.c - PyTorch as a peer, in its own process (see peer_torch.h). */
#include "peer_torch.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#define SCRIPT "tools/torch_peer.py"
#define NO_TORCH_EXIT 3         /* the script's "PyTorch cannot be imported" */
#define NOT_FOUND_EXIT 127      /* the shell's "no such program", for symmetry */
#define OUTPUT_MAX (4u << 20)   /* kept of the script's output (the rest is read and dropped) */

char *bench_torch_script(const char *script)
{
    if (script)
        return access(script, R_OK) == 0 ? strdup(script) : NULL;
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    char *slash = n > 0 ? (exe[n] = '\0', strrchr(exe, '/')) : NULL;
    char *path = NULL;
    if (slash) {
        *slash = '\0';
        if (asprintf(&path, "%s/../%s", exe, SCRIPT) < 0)
            path = NULL;
        if (path && access(path, R_OK) == 0)
            return path;
        free(path);
    }
    return access(SCRIPT, R_OK) == 0 ? strdup(SCRIPT) : NULL;
}

/* ---- one run of the script ---- */

typedef struct child_out {
    char *text;
    size_t len;
    int status;                 /* exit status; NOT_FOUND_EXIT if it could not start */
    int spawn_errno;
} child_out;

static void read_all(int fd, child_out *c)
{
    size_t cap = 0;
    char chunk[4096];
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof chunk);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        if (c->len + (size_t)n + 1 > cap && c->len + (size_t)n < OUTPUT_MAX) {
            size_t want = (c->len + (size_t)n + 1) * 2;
            char *t = realloc(c->text, want);
            if (t) {
                c->text = t;
                cap = want;
            }
        }
        if (c->len + (size_t)n + 1 <= cap) {
            memcpy(c->text + c->len, chunk, (size_t)n);
            c->len += (size_t)n;
            c->text[c->len] = '\0';
        }
    }
}

/* argv run with stdin from /dev/null and stdout and stderr into one pipe
 * (a traceback then reads in order with the rows), all of it read. */
static void run_child(char **argv, child_out *c)
{
    memset(c, 0, sizeof *c);
    c->status = NOT_FOUND_EXIT;
    int p[2];
    if (pipe2(p, O_CLOEXEC)) {
        c->spawn_errno = errno;
        return;
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, p[1], 1);
    posix_spawn_file_actions_adddup2(&fa, p[1], 2);
    pid_t pid;
    c->spawn_errno = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(p[1]);
    if (!c->spawn_errno) {
        read_all(p[0], c);
        int st;
        while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
            ;
        c->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    }
    close(p[0]);
}

static void pass_list(unsigned passes, char *buf, size_t cap)
{
    bench_dirs_str(passes & ((1u << BENCH_FWD) | (1u << BENCH_BWD_D) | (1u << BENCH_BWD_W)), buf,
                   cap);
}

/* The script's command line (argv[0] the interpreter); NULL if out of memory. */
static char **make_argv(const bench_torch_req *req, const char *python, const char *script,
                        char nums[3][24], char *passes, size_t passes_cap)
{
    char **argv = calloc(req->ndescs + 16, sizeof *argv);
    if (!argv)
        return NULL;
    int n = 0;
    argv[n++] = (char *)python;
    argv[n++] = (char *)script;
    argv[n++] = (char *)"--device";
    argv[n++] = (char *)req->device;
    snprintf(nums[0], 24, "%d", req->reps);
    snprintf(nums[1], 24, "%d", req->warmup);
    argv[n++] = (char *)"--reps";
    argv[n++] = nums[0];
    argv[n++] = (char *)"--warmup";
    argv[n++] = nums[1];
    if (req->threads > 0) {
        snprintf(nums[2], 24, "%d", req->threads);
        argv[n++] = (char *)"--threads";
        argv[n++] = nums[2];
    }
    pass_list(req->passes, passes, passes_cap);
    argv[n++] = (char *)"--passes";
    argv[n++] = passes;
    argv[n++] = (char *)"--";
    for (size_t i = 0; i < req->ndescs; i++)
        argv[n++] = (char *)req->descs[i];
    return argv;
}

/* ---- what it printed ---- */

typedef struct parsed {
    int rows, errors;
    char first_error[200], no_torch[200], last_other[200];
} parsed;

static int pass_index(const char *name)
{
    for (int p = 0; p < BENCH_NPASS; p++)
        if (strcmp(name, bench_pass_name(p)) == 0)
            return p;
    return -1;
}

static void parse_row(const char *line, bench_torch *out, parsed *ps)
{
    size_t i;
    char pass[16];
    double med, min;
    if (sscanf(line, "%zu,%15[^,],%lf,%lf", &i, pass, &med, &min) != 4)
        return;
    int p = pass_index(pass);
    if (i >= out->n || p < 0 || !(med > 0) || !(min > 0))
        return;
    out->t[i][p].median_ms = med;
    out->t[i][p].min_ms = min;
    out->t[i][p].reps = 1;
    ps->rows++;
}

static void parse_line(const char *line, bench_torch *out, parsed *ps)
{
    if (strncmp(line, "# peer: ", 8) == 0)
        snprintf(out->about, sizeof out->about, "%s", line + 8);
    else if (strncmp(line, "# no torch: ", 12) == 0)
        snprintf(ps->no_torch, sizeof ps->no_torch, "%s", line + 12);
    else if (strncmp(line, "# error: ", 9) == 0 && ps->errors++ == 0)
        snprintf(ps->first_error, sizeof ps->first_error, "%s", line + 9);
    else if (isdigit((unsigned char)line[0]))
        parse_row(line, out, ps);
    else if (line[0] && strncmp(line, "index,", 6) != 0)
        snprintf(ps->last_other, sizeof ps->last_other, "%s", line);
}

static void parse_output(char *text, bench_torch *out, parsed *ps)
{
    memset(ps, 0, sizeof *ps);
    for (char *line = text; line && *line;) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        parse_line(line, out, ps);
        line = nl ? nl + 1 : NULL;
    }
}

/* ---- the interpreters in turn ---- */

enum { TRY_DONE, TRY_NO_TORCH };

static int try_python(const bench_torch_req *req, const char *python, const char *script,
                      bench_torch *out, char *why, size_t cap)
{
    char nums[3][24], passes[64];
    char **argv = make_argv(req, python, script, nums, passes, sizeof passes);
    if (!argv) {
        snprintf(why, cap, "out of host memory");
        return TRY_DONE;
    }
    child_out c;
    run_child(argv, &c);
    free(argv);
    parsed ps;
    parse_output(c.text ? c.text : (char *)"", out, &ps);
    free(c.text);
    if (c.spawn_errno) {
        snprintf(why, cap, "%s: %s", python, strerror(c.spawn_errno));
        return TRY_NO_TORCH;
    }
    if (c.status == NO_TORCH_EXIT || c.status == NOT_FOUND_EXIT) {
        snprintf(why, cap, "%s", ps.no_torch[0] ? ps.no_torch : python);
        return TRY_NO_TORCH;
    }
    out->ran = ps.rows > 0;
    if (c.status != 0)
        snprintf(why, cap, "%s %s exited with status %d%s%s", python, script, c.status,
                 ps.last_other[0] ? ": " : "", ps.last_other);
    else if (ps.errors)
        snprintf(why, cap, "%d of its timings failed, the first: %s", ps.errors, ps.first_error);
    return TRY_DONE;
}

static void append(char *buf, size_t cap, const char *sep, const char *s)
{
    size_t n = strlen(buf);
    snprintf(buf + n, cap - n, "%s%s", n ? sep : "", s);
}

void bench_torch_run(const bench_torch_req *req, bench_torch *out)
{
    memset(out, 0, sizeof *out);
    out->t = calloc(req->ndescs + 1, sizeof *out->t);
    out->n = out->t ? req->ndescs : 0;
    char *script = bench_torch_script(req->script);
    if (!script) {
        snprintf(out->about, sizeof out->about, "not run: %s not found (give --torch-script=FILE)",
                 req->script ? req->script : SCRIPT);
        return;
    }
    const char *defaults[] = {"python3", "/usr/bin/python3"}, *given[] = {req->python};
    const char *const *cands = req->python ? given : defaults;
    int ncands = req->python ? 1 : 2;
    char why[300], tried[400] = "";
    for (int i = 0; i < ncands; i++) {
        why[0] = '\0';
        if (try_python(req, cands[i], script, out, why, sizeof why) == TRY_DONE) {
            if (why[0]) /* ran, but not all of it: the line says so */
                append(out->about, sizeof out->about, "; ", why);
            free(script);
            return;
        }
        append(tried, sizeof tried, "; ", why);
    }
    snprintf(out->about, sizeof out->about, "not run: no Python here imports torch (%s)", tried);
    free(script);
}

void bench_torch_free(bench_torch *t)
{
    free(t->t);
    t->t = NULL;
    t->n = 0;
}
