/* Programs: each embedded kernel source is built once per set of build
 * options and kept in the context with its kernel objects.  A failed build
 * leaves its log in the context for clconv_build_log().  Built programs
 * also go to the on-disk binary cache (program_cache.c), which a later
 * context loads instead of compiling the source again. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "internal.h"
#include "kernel_sources.h"

static int find_source(const char *name)
{
    for (int i = 0; i < clconv_kernel_source_count; i++)
        if (!strcmp(clconv_kernel_sources[i].name, name))
            return i;
    return -1;
}

static void keep_build_log(clconv_ctx *ctx, cl_program prog)
{
    size_t len = 0;
    free(ctx->build_log);
    ctx->build_log = NULL;
    if (clGetProgramBuildInfo(prog, ctx->device, CL_PROGRAM_BUILD_LOG, 0, NULL, &len) != CL_SUCCESS)
        return;
    ctx->build_log = calloc(len + 1, 1);
    if (ctx->build_log)
        clGetProgramBuildInfo(prog, ctx->device, CL_PROGRAM_BUILD_LOG, len, ctx->build_log, NULL);
}

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static clconv_status build_source(clconv_ctx *ctx, const char *name, const char *text, size_t len,
                                  const char *options, cl_program *out)
{
    cl_int err;
    double t0 = now_ms();
    /* two strings: the shared prelude, then the source (the compiler
     * reads them as one text, in this order) */
    const char *texts[2] = {clconv_kernel_prelude.text, text};
    const size_t lens[2] = {clconv_kernel_prelude.length, len};
    cl_program prog = clCreateProgramWithSource(ctx->context, 2, texts, lens, &err);
    if (!prog)
        return ctx_cl_fail(ctx, err, "clCreateProgramWithSource");
    err = clBuildProgram(prog, 1, &ctx->device, options, NULL, NULL);
    if (err != CL_SUCCESS) {
        keep_build_log(ctx, prog);
        clReleaseProgram(prog);
        return ctx_fail(ctx, status_from_cl(err), err, "building kernels/%s.cl with \"%s\" failed (%d)",
                        name, options, (int)err);
    }
    log_msg(ctx, CLCONV_LOG_DEBUG, "built kernels/%s.cl with \"%s\" from source in %.1f ms", name,
            options, now_ms() - t0);
    *out = prog;
    return CLCONV_OK;
}

/* PoCL's compiler writes its warning count ("1 warning generated.") to
 * the process's stderr, and the library must not print: -w drops
 * warnings, which a successful build never shows anyway, while errors
 * still reach the build log.  PoCL accepts no finer option. */
#define QUIET_OPTIONS "-w"
/* On PoCL (own_builtins): skip clang's opencl-c.h, whose parse was about 85
 * of the 95 ms a small program took to build; prelude.cl declares the
 * builtins the kernels call instead (tools/pocl_builtins.py). */
#define OWN_BUILTINS_OPTIONS " -D_OPENCL_H_ -DCLCONV_BUILTINS"

char *program_build_options(const clconv_devinfo *info, const char *options)
{
    size_t n = strlen(options);
    const char *own = info->own_builtins ? OWN_BUILTINS_OPTIONS : "";
    char *s = malloc(n + sizeof " " QUIET_OPTIONS + strlen(own));
    if (s)
        sprintf(s, "%s%s" QUIET_OPTIONS "%s", options, n ? " " : "", own);
    return s;
}

/* program_build_text with the full build options. */
static clconv_status build_text(clconv_ctx *ctx, const char *name, const char *text, size_t len,
                                const char *options, cl_program *out)
{
    cache_id id = {0};
    int cached = program_cache_ready(ctx) &&
                 cache_id_make(ctx, name, text, len, options, &id) == CLCONV_OK;
    if (cached && (*out = program_cache_load(ctx, &id, options)) != NULL) {
        cache_id_free(&id);
        return CLCONV_OK;
    }
    clconv_status st = build_source(ctx, name, text, len, options, out);
    if (st == CLCONV_OK && cached)
        program_cache_store(ctx, name, &id, *out);
    cache_id_free(&id);
    return st;
}

clconv_status program_build_text(clconv_ctx *ctx, const char *name, const char *text, size_t len,
                                 const char *options, cl_program *out)
{
    for (;;) {
        char *full = program_build_options(&ctx->info, options);
        if (!full)
            return ctx_fail(ctx, CLCONV_OUT_OF_HOST_MEMORY, CL_SUCCESS, "build options");
        clconv_status st = build_text(ctx, name, text, len, full, out);
        free(full);
        if (st != CLCONV_BUILD_FAILED || !ctx->info.own_builtins)
            return st;
        /* a PoCL whose headers work otherwise than 3.1's: its own
         * declarations from now on (the failure stays in the log) */
        log_msg(ctx, CLCONV_LOG_DEBUG, "building kernels/%s.cl without opencl-c.h failed: "
                "building with it from now on", name);
        ctx->info.own_builtins = 0;
    }
}

static clconv_status build(clconv_ctx *ctx, int src, const char *options, cl_program *out)
{
    const clconv_kernel_source *ks = &clconv_kernel_sources[src];
    return program_build_text(ctx, ks->name, ks->text, ks->length, options, out);
}

static void program_release(clconv_program *p)
{
    for (int j = 0; j < p->nkernels; j++)
        clReleaseKernel(p->kernels[j]);
    clReleaseProgram(p->program);
    free(p->options);
    memset(p, 0, sizeof *p);
}

/* A free slot: a new one while there is room, else the least recently
 * used program's, released (its kernels stay alive while enqueued
 * commands hold them; the program looked up last is never the one). */
static clconv_program *program_slot(clconv_ctx *ctx)
{
    const int cap = ctx->max_programs < CLCONV_MAX_PROGRAMS ? ctx->max_programs
                                                             : CLCONV_MAX_PROGRAMS;
    if (ctx->nprograms < cap)
        return &ctx->programs[ctx->nprograms++];
    clconv_program *lru = &ctx->programs[0];
    for (int i = 1; i < ctx->nprograms; i++)
        if (ctx->programs[i].last_use < lru->last_use)
            lru = &ctx->programs[i];
    log_msg(ctx, CLCONV_LOG_DEBUG, "program cache full (%d): evicting kernels/%s.cl \"%s\"",
            cap, clconv_kernel_sources[lru->source].name, lru->options);
    program_release(lru);
    return lru;
}

static clconv_status get_program(clconv_ctx *ctx, const char *source, const char *options,
                                 clconv_program **out)
{
    int src = find_source(source);
    if (src < 0)
        return ctx_fail(ctx, CLCONV_BUILD_FAILED, CL_SUCCESS, "no kernel source \"%s\"", source);
    const uint64_t now = ++ctx->program_clock;
    for (int i = 0; i < ctx->nprograms; i++) {
        clconv_program *p = &ctx->programs[i];
        if (p->program && p->source == src && !strcmp(p->options, options)) {
            p->last_use = now;
            *out = p;
            return CLCONV_OK;
        }
    }
    char *opts = strdup(options);
    if (!opts)
        return ctx_fail(ctx, CLCONV_OUT_OF_HOST_MEMORY, CL_SUCCESS, "strdup");
    cl_program prog;
    clconv_status st = build(ctx, src, options, &prog);
    if (st != CLCONV_OK) {
        free(opts);
        return st;
    }
    clconv_program *p = program_slot(ctx);
    *p = (clconv_program){.source = src, .options = opts, .program = prog, .last_use = now};
    *out = p;
    return CLCONV_OK;
}

clconv_status ctx_kernel(clconv_ctx *ctx, const char *source, const char *options,
                         const char *name, cl_kernel *out)
{
    clconv_program *p = NULL;
    TRY(get_program(ctx, source, options ? options : "", &p));
    for (int i = 0; i < p->nkernels; i++)
        if (!strcmp(p->kernel_names[i], name)) {
            *out = p->kernels[i];
            return CLCONV_OK;
        }
    if (p->nkernels == CLCONV_MAX_KERNELS)
        return ctx_fail(ctx, CLCONV_OPENCL_ERROR, CL_SUCCESS, "too many kernels in %s", source);
    cl_int err;
    cl_kernel k = clCreateKernel(p->program, name, &err);
    if (!k)
        return ctx_cl_fail(ctx, err, "clCreateKernel");
    /* names are string literals of the library: keep the pointer */
    p->kernel_names[p->nkernels] = name;
    p->kernels[p->nkernels++] = k;
    *out = k;
    return CLCONV_OK;
}

void programs_release(clconv_ctx *ctx)
{
    for (int i = 0; i < ctx->nprograms; i++)
        program_release(&ctx->programs[i]);
    ctx->nprograms = 0;
}
