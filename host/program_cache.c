/* The OpenCL side of the program binary cache (files: binary_cache.c).
 * A built program's binary is saved under a key that names everything it
 * depends on; a later context loads it with clCreateProgramWithBinary and
 * clBuildProgram instead of compiling the source.  Whatever goes wrong
 * (no entry, a damaged or foreign one, a binary the runtime refuses) only
 * means compiling from source: nothing here fails a call.  What points at
 * tampering or a misconfiguration - a directory others can write, a
 * symlink, FIFO or directory in place of an entry, a path too long - is
 * logged at CLCONV_LOG_ERROR, so the caller learns why nothing is cached. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"
#include "kernel_sources.h"

/* Everything a binary depends on, as text: a change to any of these (a
 * kernel edit, other -D options, a driver update, another device) gives
 * another key, so a stale binary is never loaded. */
static const char identity_fmt[] =
    "clconv program cache 1\nlibrary %s\nsource %s %zu %016llx\noptions %s\n"
    "platform %s\nplatform_version %s\ndevice %s\nvendor %s\ndriver %s\naddress_bits %u\n";

static void file_name(const char *name, uint64_t key, char *out, size_t cap)
{
    char safe[48];
    size_t n = 0;
    for (; name[n] && n < sizeof safe - 1; n++) {
        char c = name[n];
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        safe[n] = ok ? c : '_';
    }
    safe[n] = 0;
    snprintf(out, cap, "%s-%016llx.bin", safe, (unsigned long long)key);
}

clconv_status cache_id_make(const clconv_ctx *ctx, const char *name, const char *text, size_t len,
                            const char *options, cache_id *out)
{
    const clconv_devinfo *i = &ctx->info;
    /* every program is built from the prelude and its source (program.c) */
    unsigned long long src = (unsigned long long)hash64_update(
        hash64(clconv_kernel_prelude.text, clconv_kernel_prelude.length), text, len);
    int n = snprintf(NULL, 0, identity_fmt, CLCONV_VERSION_STRING, name, len, src, options,
                     i->platform, i->platform_version, i->name, i->vendor, i->driver,
                     i->address_bits);
    char *s = n > 0 ? malloc((size_t)n + 1) : NULL;
    if (!s)
        return CLCONV_OUT_OF_HOST_MEMORY;
    snprintf(s, (size_t)n + 1, identity_fmt, CLCONV_VERSION_STRING, name, len, src, options,
             i->platform, i->platform_version, i->name, i->vendor, i->driver, i->address_bits);
    out->identity = s;
    out->key = hash64(s, (size_t)n);
    file_name(name, out->key, out->file, sizeof out->file);
    return CLCONV_OK;
}

void cache_id_free(cache_id *id)
{
    free(id->identity);
    id->identity = NULL;
}

/* A program from a binary, built; NULL if the runtime refuses it. */
static cl_program from_binary(clconv_ctx *ctx, const unsigned char *bin, size_t len,
                              const char *options)
{
    cl_int bin_status = CL_SUCCESS, err = CL_SUCCESS;
    cl_program p = clCreateProgramWithBinary(ctx->context, 1, &ctx->device, &len, &bin,
                                             &bin_status, &err);
    if (p && (err != CL_SUCCESS || bin_status != CL_SUCCESS ||
              clBuildProgram(p, 1, &ctx->device, options, NULL, NULL) != CL_SUCCESS)) {
        clReleaseProgram(p);
        p = NULL;
    }
    return p;
}

int program_cache_ready(clconv_ctx *ctx)
{
    char why[192];
    if (!ctx->cache_dir)
        return 0;
    if (cache_dir_check(ctx->cache_dir, why, sizeof why) == 0)
        return 1;
    /* at most 256 bytes of the path, so that the reason always fits */
    log_msg(ctx, CLCONV_LOG_ERROR, "binary cache: not using %.256s%s: %s; compiling from source",
            ctx->cache_dir, strlen(ctx->cache_dir) > 256 ? "..." : "", why);
    free(ctx->cache_dir); /* off for this context: said once, not at every build */
    ctx->cache_dir = NULL;
    return 0;
}

cl_program program_cache_load(clconv_ctx *ctx, const cache_id *id, const char *options)
{
    unsigned char *bin = NULL;
    size_t len = 0;
    const char *why = NULL;
    cache_result r = cache_entry_load(ctx->cache_dir, id, &bin, &len, &why);
    if (r == CACHE_REFUSED) {
        ctx->cache_stats.rejected++;
        log_msg(ctx, CLCONV_LOG_ERROR,
                "binary cache: %s/%s is %s: not loaded; compiling from source", ctx->cache_dir,
                id->file, why);
        return NULL;
    }
    if (r == CACHE_MISS) {
        ctx->cache_stats.misses++;
        log_msg(ctx, CLCONV_LOG_DEBUG, "binary cache: no entry %s/%s", ctx->cache_dir, id->file);
        return NULL;
    }
    cl_program p = r == CACHE_HIT ? from_binary(ctx, bin, len, options) : NULL;
    free(bin);
    if (!p) {
        ctx->cache_stats.rejected++;
        log_msg(ctx, CLCONV_LOG_DEBUG, "binary cache: %s/%s is %s; compiling from source",
                ctx->cache_dir, id->file,
                r == CACHE_HIT ? "refused by the runtime" : "damaged or foreign");
        return NULL;
    }
    ctx->cache_stats.hits++;
    log_msg(ctx, CLCONV_LOG_DEBUG, "binary cache: loaded %s/%s", ctx->cache_dir, id->file);
    return p;
}

/* The program's binary for our one device (malloc'd), or NULL. */
static unsigned char *get_binary(cl_program p, size_t *len)
{
    cl_uint ndev = 0;
    size_t size = 0;
    if (clGetProgramInfo(p, CL_PROGRAM_NUM_DEVICES, sizeof ndev, &ndev, NULL) != CL_SUCCESS ||
        ndev != 1 ||
        clGetProgramInfo(p, CL_PROGRAM_BINARY_SIZES, sizeof size, &size, NULL) != CL_SUCCESS ||
        size == 0)
        return NULL;
    unsigned char *bin = malloc(size);
    unsigned char *bins[1] = {bin};
    if (bin && clGetProgramInfo(p, CL_PROGRAM_BINARIES, sizeof bins, bins, NULL) != CL_SUCCESS) {
        free(bin);
        bin = NULL;
    }
    *len = size;
    return bin;
}

/* Saved unless the driver keeps compiled kernels itself (PoCL): there the
 * export costs a compile of every kernel for any work-group size (a cold
 * ResNet-50 run: 31 s instead of 16 s on a 2-core EPYC), while a later
 * process loading the entry still compiles each kernel for its launch, so
 * the entry saves only the front end (0.3 s in that run). */
void program_cache_store(clconv_ctx *ctx, const char *name, const cache_id *id, cl_program p)
{
    if (ctx->info.driver_caches && !ctx->cache_store_all) {
        ctx->cache_stats.not_saved++;
        log_msg(ctx, CLCONV_LOG_DEBUG,
                "binary cache: not saving kernels/%s.cl: %s keeps compiled kernels itself "
                "(CLCONV_CACHE=1 saves them too)",
                name, ctx->info.platform);
        return;
    }
    size_t len = 0;
    unsigned char *bin = get_binary(p, &len);
    int ok = bin && cache_entry_store(ctx->cache_dir, id, bin, len) == 0;
    free(bin);
    if (ok)
        ctx->cache_stats.stored++;
    else
        ctx->cache_stats.store_failed++;
    log_msg(ctx, CLCONV_LOG_DEBUG, "binary cache: %s %s/%s (%zu bytes)",
            ok ? "saved" : "could not save", ctx->cache_dir, id->file, len);
}
