/* Internal declarations shared by the host files of libclconv (not
 * installed).  The framework side of the BLIS split: contexts, programs,
 * checks and dispatch live here; the arithmetic lives in kernels/. */
#ifndef CLCONV_INTERNAL_H
#define CLCONV_INTERNAL_H

#include <pthread.h>
#include <stdarg.h>
#include "clconv.h"

#define CLCONV_MAX_PROGRAMS 64
#define CLCONV_MAX_KERNELS 8

typedef struct clconv_program {
    int source;                 /* index into clconv_kernel_sources */
    char *options;              /* build options it was built with */
    cl_program program;
    int nkernels;
    const char *kernel_names[CLCONV_MAX_KERNELS];
    cl_kernel kernels[CLCONV_MAX_KERNELS];
    uint64_t last_use;          /* ctx->program_clock at its last lookup */
} clconv_program;

/* What the library knows of its device, read once at creation. */
typedef struct clconv_devinfo {
    cl_device_type type;
    cl_ulong max_alloc;         /* CL_DEVICE_MAX_MEM_ALLOC_SIZE */
    cl_ulong global_mem;        /* CL_DEVICE_GLOBAL_MEM_SIZE */
    cl_ulong local_mem;         /* CL_DEVICE_LOCAL_MEM_SIZE */
    cl_uint compute_units;
    cl_uint address_bits;
    size_t max_wg;              /* CL_DEVICE_MAX_WORK_GROUP_SIZE */
    char vendor[128];
    char name[256];
    char driver[128];
    char platform[256];
    char platform_version[256];
    char tuning[32];            /* CLCONV_TUNING: a tuning row name to use on any device */
    int driver_caches;          /* the driver keeps compiled kernels on disk itself (PoCL) */
    int own_builtins;           /* programs declare their builtins (PoCL; program.c) */
} clconv_devinfo;

/* Counters of the program binary cache, per context. */
typedef struct cache_stats {
    unsigned hits;              /* programs loaded from an entry */
    unsigned misses;            /* no entry on disk */
    unsigned rejected;          /* an entry was damaged, foreign or refused by the runtime */
    unsigned stored;            /* entries written */
    unsigned store_failed;      /* entries that could not be written (no usable dir...) */
    unsigned not_saved;         /* builds left to the driver's own cache (driver_caches) */
} cache_stats;

/* Find (find.c): what AUTO learnt by timing candidates on the device. */
typedef struct find_stats {
    unsigned timed;             /* layer-and-pass choices made by timing on the device */
    unsigned runs;              /* candidate runs those timings made (warm-ups included) */
    unsigned remembered;        /* calls answered from the context's memory */
    unsigned loaded;            /* choices read from records in the disk cache */
    unsigned rejected;          /* records ignored: damaged, foreign, refused or invalid */
    unsigned stored;            /* records written */
} find_stats;

typedef struct find_entry {
    char *key;                  /* find_key's text of the layer and pass */
    int cand;                   /* index into find_cands */
} find_entry;

typedef struct find_state {
    int mode;                   /* CLCONV_FIND_OFF, _ON or _RESET */
    find_entry *entries;        /* FIND_MAX_ENTRIES, allocated on first use */
    size_t n, next;             /* entries used; the next one to replace when full */
    find_stats stats;
} find_state;

/* The math mode (math_mode.c, issue 8): what the caller allows, and what
 * the device offers for it. */
typedef struct math_state {
    int mode;                   /* clconv_math_mode: CLCONV_MATH, then clconv_set_math_mode */
    int tf32_emulate;           /* CLCONV_TF32_EMULATE: TF32 by the portable mma, any device */
    int nv_cc;                  /* NVIDIA compute capability, major * 10 + minor; 0 elsewhere */
} math_state;

struct clconv_ctx {
    cl_context context;
    cl_device_id device;
    cl_command_queue queue;
    clconv_devinfo info;
    char display_name[520];     /* "platform / device" */

    pthread_mutex_t lock;       /* every public call on a context holds it */
    char error[1024];
    cl_int cl_error;
    char *build_log;

    int nprograms;
    int max_programs;           /* CLCONV_MAX_PROGRAMS (tests lower it) */
    uint64_t program_clock;     /* counts program lookups, for LRU eviction */
    clconv_program programs[CLCONV_MAX_PROGRAMS];

    cl_mem workspace;           /* scratch for EXPLICIT, grown on demand */
    size_t workspace_bytes;

    /* issue 4: program binary cache (program_cache.c) and diagnostics (log.c) */
    char *cache_dir;            /* NULL: the on-disk binary cache is off */
    int cache_store_all;        /* CLCONV_CACHE=1: save programs on a driver_caches device too */
    cache_stats cache_stats;    /* what it did, for tests and debugging */
    clconv_log_fn log_fn;       /* the application's callback, or NULL */
    void *log_user;
    int log_level;              /* highest clconv_log_level delivered */
    int log_stderr;             /* CLCONV_LOG set: no callback -> stderr */
    math_state math;            /* issue 8: the math mode (math_mode.c) */

    find_state find;            /* issue 8: on-device tuning of AUTO (find.c) */
};

/* ---- errors (context.c) ---- */
/* Record a failure in the context and return st.  ctx may be NULL. */
clconv_status ctx_fail(clconv_ctx *ctx, clconv_status st, cl_int cl_err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Map an OpenCL error code to a status (allocation -> OUT_OF_DEVICE_MEMORY...). */
clconv_status status_from_cl(cl_int err);
/* ctx_fail for an OpenCL call that returned err. */
clconv_status ctx_cl_fail(clconv_ctx *ctx, cl_int err, const char *what);
void ctx_clear_error(clconv_ctx *ctx);

#define CL_TRY(ctx, call, what)                        \
    do {                                               \
        cl_int cl_try_err_ = (call);                   \
        if (cl_try_err_ != CL_SUCCESS)                 \
            return ctx_cl_fail((ctx), cl_try_err_, (what)); \
    } while (0)

#define TRY(expr)                                      \
    do {                                               \
        clconv_status try_st_ = (expr);                \
        if (try_st_ != CLCONV_OK)                      \
            return try_st_;                            \
    } while (0)

/* ---- environment switches (env.c) ---- */
/* v, blanks around it ignored, is word in any case. */
int env_word_is(const char *v, const char *word);
/* v (may be NULL) is 0, off, no or false / 1, on, yes or true. */
int env_says_off(const char *v);
int env_says_on(const char *v);

/* ---- devices (device.c) ---- */
clconv_status device_select(const char *selector, cl_platform_id *platform, cl_device_id *device);
void devinfo_read(cl_platform_id platform, cl_device_id device, clconv_devinfo *info);

/* ---- programs and kernels (program.c) ---- */
/* The kernel `name` from embedded source `source` ("conv_generic" for
 * kernels/conv_generic.cl) built with `options`; built once per (source,
 * options) and kept in the context. */
clconv_status ctx_kernel(clconv_ctx *ctx, const char *source, const char *options,
                         const char *name, cl_kernel *out);
void programs_release(clconv_ctx *ctx);

/* Build `text`, after kernels/prelude.cl (called `name` in messages and cache entries) with
 * `options`: from the binary cache when it holds a usable entry, else from
 * source (then saved to the cache).  ctx_kernel's builder; tests call it
 * directly with a deliberately broken source. */
clconv_status program_build_text(clconv_ctx *ctx, const char *name, const char *text, size_t len,
                                 const char *options, cl_program *out);

/* ---- hashing (hash.c): 64-bit FNV-1a ---- */
#define HASH64_SEED UINT64_C(0xcbf29ce484222325)
uint64_t hash64_update(uint64_t h, const void *data, size_t len);
uint64_t hash64(const void *data, size_t len);

/* ---- program binary cache: files (binary_cache.c), programs (program_cache.c) ---- */
/* The directory the environment selects: none if CLCONV_CACHE is 0/off/no/
 * false, else CLCONV_CACHE_DIR, else $XDG_CACHE_HOME/clconv, else
 * $HOME/.cache/clconv (malloc'd, whatever its length; NULL when off or
 * unknown).  Nothing is created or checked until cache_dir_check. */
char *cache_dir_from_env(void);
/* Before each build: create the directory if missing (mkdir -p, mode
 * 0700) and decide whether it may be used.  -1, with the reason in why:
 * its path leaves no room for entry names, or it is owned by another user
 * than the effective one and root, or writable by group or others.  0
 * otherwise, also when it cannot be created (then nothing loads and saving
 * fails, as with any unwritable directory). */
int cache_dir_check(const char *dir, char *why, size_t cap);

typedef struct cache_id {
    char *identity;             /* what the binary depends on, as text (malloc'd) */
    uint64_t key;               /* hash64 of identity */
    char file[96];              /* entry file name: "<source>-<key>.bin" */
} cache_id;
clconv_status cache_id_make(const clconv_ctx *ctx, const char *name, const char *text, size_t len,
                            const char *options, cache_id *out);
void cache_id_free(cache_id *id);

typedef enum cache_result { CACHE_MISS = 0, CACHE_HIT, CACHE_BAD, CACHE_REFUSED } cache_result;
/* HIT: *payload (malloc'd) and *len hold the entry's binary.  BAD: the file
 * exists but is truncated, corrupt or another key's.  REFUSED: what stands
 * at the entry's name is not read at all, *why says what it is (a symbolic
 * link, a directory, a FIFO or other non-regular file, a file over 256 MiB,
 * or one another user could have written); it never blocks. */
cache_result cache_entry_load(const char *dir, const cache_id *id, unsigned char **payload,
                              size_t *len, const char **why);
/* Write the entry atomically (temporary file + rename); 0 on success. */
int cache_entry_store(const char *dir, const cache_id *id, const void *payload, size_t len);

/* Whether the context's cache directory may be used for the next build
 * (cache_dir_check).  A refused one is logged at CLCONV_LOG_ERROR and the
 * cache turned off for the context: the call itself still succeeds. */
int program_cache_ready(clconv_ctx *ctx);
/* The cached program for id, built for the context's device, or NULL (a
 * miss, a bad entry or a binary the runtime refuses: counted, logged at
 * debug level, never an error; a REFUSED entry is logged at error level). */
cl_program program_cache_load(clconv_ctx *ctx, const cache_id *id, const char *options);
/* The options every clBuildProgram gets for `options` (malloc'd, NULL when
 * out of memory): they, not `options`, are what cache keys name. */
char *program_build_options(const clconv_devinfo *info, const char *options);
/* Saves p's binary under id, except on a driver_caches device (PoCL),
 * where the driver's own cache serves later processes, unless
 * CLCONV_CACHE=1 (cache_store_all). */
void program_cache_store(clconv_ctx *ctx, const char *name, const cache_id *id, cl_program p);

/* ---- diagnostics (log.c) ---- */
void log_init(clconv_ctx *ctx);
void log_msg(clconv_ctx *ctx, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* A failure just recorded by ctx_fail (with the build log for BUILD_FAILED). */
void log_failure(clconv_ctx *ctx, clconv_status st, cl_int cl_err);
void log_no_context(clconv_status st, const char *what);
/* A public call as the clconv-bench line that reproduces it; pass
 * CLCONV_PASS_COUNT_ is backward-bias. */
void log_pass(clconv_ctx *ctx, const clconv_desc *d, clconv_algo algo, int pass, int accumulate);
void log_primitive(clconv_ctx *ctx, const char *function, const clconv_desc *d);
/* The fused forward's call line (its epilogue as --attr-post-ops, fwd_b
 * with a bias, alpha != 1 as "# alpha=") and the transposed calls'
 * (--deconv, the descriptor in deconv syntax; pass CLCONV_PASS_COUNT_ is
 * backward-bias). */
void log_fused(clconv_ctx *ctx, const clconv_desc *d, clconv_algo algo, const clconv_epilogue *ep);
void log_transposed(clconv_ctx *ctx, const clconv_desc *d, clconv_algo algo, int pass,
                    int accumulate, int bias);
/* " --dt=f16 --stag=nhwc --wtag=ohwi", the non-default parts only ("" for f32 NCHW KCRS). */
void log_desc_options(const clconv_desc *d, char *buf, size_t cap);

/* ---- math mode (math_mode.c) ---- */
/* CLCONV_MATH, CLCONV_TF32_EMULATE and the device's compute capability,
 * read at context creation (after devinfo_read). */
void math_init(clconv_ctx *ctx);
/* How a kernel family with a TF32 path runs it for this context (TILED
 * only): OFF is exact fp32 (the mode is FP32, or the device has no TF32
 * path: the mode is a permission), PTX the tensor cores (NVIDIA, compute
 * capability >= 8.0), EMULATED the portable mma (CLCONV_TF32_EMULATE). */
typedef enum math_tf32 { MATH_TF32_OFF = 0, MATH_TF32_PTX, MATH_TF32_EMULATED } math_tf32;
math_tf32 math_tf32_path(const clconv_ctx *ctx);

/* ---- per-device tunables (tuning.c) ---- */
/* The device half of a tuning row (CLBlast's database, typed): each kernel
 * family has its own row struct that starts with this and goes on with
 * its parameters as fields, never as option strings to parse back. */
typedef struct tuning_match {
    const char *name;           /* "nvidia", "cpu", "generic": CLCONV_TUNING picks by it */
    cl_device_type type;        /* 0 = any */
    const char *vendor;         /* substring of vendor or platform name; NULL = any */
    cl_ulong min_local_mem;     /* bytes */
    cl_uint min_compute_units;
} tuning_match;
/* The index of the row of a family's table (nrows rows of `stride` bytes,
 * each starting with its tuning_match) for this device: the row named by
 * CLCONV_TUNING (read at context creation into info->tuning) when the
 * table has one, else the first row that matches the device, else the
 * last (the generic default). */
int tuning_pick(const clconv_devinfo *info, const tuning_match *rows, size_t stride, int nrows);
#define TUNING_PICK(info, table) \
    tuning_pick((info), &(table)[0].match, sizeof (table)[0], (int)(sizeof(table) / sizeof (table)[0]))
/* Make every table take its row `name` (NULL: back to the rules above) on
 * this thread, for the call it is running; returns the previous override.
 * find.c's per-call row: a candidate timed or chosen runs with its row. */
const char *tuning_override(const char *name);

/* ---- launching (launch.c) ---- */
typedef struct karg {
    size_t size;
    const void *value;
} karg;
#define KARG(v) ((karg){sizeof(v), &(v)})

/* Set args, enqueue a 1-D range of `items` work-items (local size `local`,
 * 0 = a fixed default (see launch.c); items is rounded up to a multiple of local). */
clconv_status ctx_launch(clconv_ctx *ctx, cl_kernel k, int nargs, const karg *args,
                         size_t items, size_t local, cl_event *event);
/* Scratch of at least `bytes`, kept in the context. */
clconv_status ctx_workspace(clconv_ctx *ctx, size_t bytes, cl_mem *out);

/* ---- descriptors (desc.c) ---- */
/* Everything a pass needs about a checked layer, as 64-bit counts.  sh and
 * sw are the strides the kernels use: a stride with one output position
 * is reduced to an equivalent one no larger than the padded input extent
 * (desc.c), so that no index product can overflow. */
typedef struct layer {
    int64_t n, c, h, w, k, r, s, p, q;
    int64_t sh, sw, ph, pw, dh, dw, g, cg, kg;
    int64_t pb, pr;             /* bottom and right padding (ph, pw: top and left) */
    size_t x_elems, w_elems, y_elems;
    int dtype;                  /* clconv_dtype of every tensor */
    int layout, flayout;        /* clconv_layout of x/y/dy/dx, clconv_filter_layout of w/dw */
    size_t esize;               /* bytes per element */
    /* Element strides, outermost dimension first: x (and dx) over
     * (n, c, h, w), y (and dy) over (n, k, p, q), w (and dw) over
     * (k, c, r, s).  Layout is only these numbers: a kernel that indexes
     * through them runs every layout. */
    int64_t xs[4], ys[4], ws[4];
} layer;
clconv_status layer_from_desc(const clconv_desc *d, layer *L);

/* The layer as kernels/prelude.cl's `geom` struct argument (same fields,
 * same order, all 64-bit). */
typedef struct kgeom {
    cl_long n, c, h, w, k, r, s, p, q;
    cl_long sh, sw, ph, pw, pb, pr, dh, dw, g, cg, kg;
    cl_long xs[4], ys[4], ws[4];
} kgeom;
kgeom kgeom_of(const layer *L);
/* The build option selecting the layer's storage type in prelude.cl:
 * "" for fp32, "-DDT=1" fp16, "-DDT=2" bf16. */
const char *layer_dt_option(const layer *L);
/* 1 when L is fp32 NCHW / KCRS (what the kernels of 0.2 assumed). */
int layer_is_plain(const layer *L);
/* 1 when a kernel needs 64-bit indices (-DIDX_LONG) for L, with `extra`
 * work-items or workspace floats. */
int layer_needs_long(const layer *L, size_t extra);
/* a*b with overflow check into *out (TOO_LARGE on overflow or negative). */
clconv_status mul_size(size_t a, size_t b, size_t *out);

/* ---- buffer checks (checks.c) ---- */
/* A caller tensor of one call: its buffer, offset and size in elements,
 * its name in messages, what the call does to it, and the bytes of one
 * element (0 means 4, a float). */
enum { TENSOR_READ = 1, TENSOR_WRITE = 2 };
typedef struct tensor_arg {
    cl_mem m;
    size_t off, elems;
    const char *what;
    unsigned access;            /* TENSOR_READ | TENSOR_WRITE */
    size_t esize;
} tensor_arg;
/* A valid buffer of the context holding off + elems elements, whose
 * CL_MEM_FLAGS allow the access. */
clconv_status check_buffer(clconv_ctx *ctx, const tensor_arg *t);
/* check_buffer on each of n <= 4 tensors, then no written tensor overlaps any other (same
 * buffer, sub-buffers of one parent, or host-pointer buffers over the
 * same host memory): BAD_BUFFER naming the two. */
clconv_status check_tensors(clconv_ctx *ctx, const tensor_arg *t, int n);

/* ---- algorithms: one file each ---- */
/* The fused forward epilogue as kernels/prelude.cl's `epi` struct
 * argument (same fields, same order). */
typedef struct kepi {
    cl_float alpha, beta, param;
    cl_int act;
    cl_int has_bias;
    cl_int pad_;
} kepi;

typedef struct pass_args {
    const layer *L;
    cl_mem a; size_t a_off;      /* forward: x;  bwd-data: dy; bwd-filter: x  */
    cl_mem b; size_t b_off;      /* forward: w;  bwd-data: w;  bwd-filter: dy */
    cl_mem out; size_t out_off;  /* y, dx or dw */
    int beta;
    cl_event *event;
    /* forward only: NULL for a plain clconv_forward (alpha 1, beta = the
     * beta above, no bias, identity); else the epilogue, whose beta then
     * replaces it, and its bias buffer (NULL when has_bias is 0). */
    const kepi *ep;
    cl_mem bias; size_t bias_off;
} pass_args;

/* What a call asks of an implementation beyond fp32 NCHW/KCRS without an
 * epilogue (CAP_* bits); an implementation lists what it runs per pass in
 * algo_impl.caps, and impl_supports refuses the rest (NOT_SUPPORTED,
 * naming the feature) before its own supports() is asked. */
enum {
    CAP_F16 = 1u << 0,
    CAP_BF16 = 1u << 1,
    CAP_NHWC = 1u << 2,
    CAP_KRSC = 1u << 3,
    CAP_EPILOGUE = 1u << 4,     /* forward: bias, alpha/beta, activation */
    CAP_ASYM_PAD = 1u << 5,     /* unequal begin and end padding */
};
/* The CAP_* bits call a needs. */
unsigned pass_needs(const pass_args *a);

/* One implementation of the passes (oneDNN's implementation lists):
 * whether it can run a call on this device, and why not, is asked before
 * anything is enqueued; AUTO walks passes.c's list and falls through a
 * refusal to the next implementation. */
typedef struct algo_impl {
    const char *name;           /* as clconv_algo_name() */
    /* NULL where the algorithm does not implement the pass */
    clconv_status (*run[CLCONV_PASS_COUNT_])(clconv_ctx *ctx, const pass_args *a);
    /* scratch bytes a pass needs (NULL = none); may depend on the device */
    clconv_status (*workspace)(const clconv_ctx *ctx, const layer *L, clconv_pass pass,
                               size_t *bytes);
    /* CLCONV_OK if run[pass] can run a on this device; else the status a
     * request for this algorithm gets (DEVICE_LIMIT: an address range,
     * local memory or scratch the device lacks), with the reason written
     * to why.  NULL: every call of an implemented pass. */
    clconv_status (*supports)(const clconv_ctx *ctx, clconv_pass pass, const pass_args *a,
                              char *why, size_t cap);
    /* CAP_* bits each pass runs (see pass_needs) */
    unsigned caps[CLCONV_PASS_COUNT_];
} algo_impl;

extern const algo_impl algo_explicit, algo_direct, algo_gemm, algo_tiled;
extern const algo_impl algo_winograd;
/* The implementation of a named algorithm (passes.c's table). */
const algo_impl *algo_impl_of(clconv_algo algo);
/* CLCONV_OK if impl implements the pass and supports the call (passes.c). */
clconv_status impl_supports(const clconv_ctx *ctx, const algo_impl *impl, clconv_pass pass,
                            const pass_args *a, char *why, size_t cap);

/* ---- find: on-device tuning of AUTO (find.c) ---- */
/* One configuration find may time and choose: a named algorithm with the
 * tuning row its tables take (NULL: it has no tables).  Every one is run
 * against the reference by tests/test_find.c. */
typedef struct find_cand {
    clconv_algo algo;
    const char *row;
} find_cand;
extern const find_cand find_cands[];
extern const int find_ncands;
/* CLCONV_FIND, read at context creation: unset, 0, off, no or false ->
 * off; reset -> on, ignoring stored records; anything else -> on. */
void find_init(clconv_ctx *ctx);
void find_free(clconv_ctx *ctx);
/* AUTO with find on (passes.c, everything checked): run the call with
 * the context's choice for its layer and pass - remembered, read from
 * the disk cache, or timed now - or with `heuristic` (AUTO's own pick)
 * when find cannot choose. */
clconv_status find_run(clconv_ctx *ctx, const clconv_desc *d, clconv_pass pass,
                       const pass_args *a, const algo_impl *heuristic);
/* The disk record of a layer and pass (identity, key, file name in the
 * cache directory), as find reads and writes it. */
clconv_status find_record_id(const clconv_ctx *ctx, const clconv_desc *d, clconv_pass pass,
                             cache_id *out);
/* Whether AUTO should take TILED for a call it supports (a choice, not a
 * limit: a named request still runs), else 0 with the reason in why
 * (tiled.c). */
int tiled_auto_ok(const clconv_ctx *ctx, clconv_pass pass, const pass_args *a, char *why,
                  size_t cap);
/* Whether AUTO should take WINOGRAD for a call it supports: forward and
 * backward-data, not backward-filter (winograd.c). */
int winograd_auto_ok(const clconv_ctx *ctx, clconv_pass pass, const pass_args *a, char *why,
                     size_t cap);

/* DEVICE_LIMIT (why says which limit) when `bytes` of scratch exceed the
 * device's largest allocation or its global memory (launch.c). */
clconv_status workspace_fits(const clconv_devinfo *info, size_t bytes, char *why, size_t cap);
/* The GEMM passes' supports (gemm_conv.c, gemm_backward_filter.c). */
clconv_status gemm_conv_supports(const clconv_ctx *ctx, const pass_args *a, char *why, size_t cap);
clconv_status gemm_backward_filter_supports(const clconv_ctx *ctx, const pass_args *a, char *why,
                                            size_t cap);

/* The GEMM algorithm's passes (gemm_*.c); gemm.c puts them in its table. */
clconv_status gemm_forward(clconv_ctx *ctx, const pass_args *a);
clconv_status gemm_backward_data(clconv_ctx *ctx, const pass_args *a);
clconv_status gemm_backward_filter(clconv_ctx *ctx, const pass_args *a);
/* scratch of each (0 when none) */
size_t gemm_forward_workspace(const clconv_ctx *ctx, const layer *L);
size_t gemm_backward_data_workspace(const clconv_ctx *ctx, const layer *L);
size_t gemm_backward_filter_workspace(const clconv_ctx *ctx, const layer *L);

/* Shared by the algorithms (primitives.c): the plain convolution of
 * conv_generic.cl, described by a geometry record. */
typedef struct conv_geom {
    int64_t B, O, OY, OX, I, U, V, IY, IX, o_per_group;
    int64_t is_b, is_g, is_i, is_y, is_x;
    int64_t fs_o, fs_i, fs_u, fs_v;
    int64_t os_b, os_o, os_y, os_x;
    int64_t st_y, st_x, pad_y, pad_x, dl_y, dl_x;
} conv_geom;
/* (conv_generic_run and the rest of that family: primitives.h) */
/* The forward geometry of a layer (also DIRECT's forward). */
conv_geom geom_forward(const layer *L);
clconv_status run_upsample(clconv_ctx *ctx, const layer *L, int for_data, cl_mem dy,
                           size_t dy_off, cl_mem out, size_t out_off, cl_event *event);
void upsample_dims(const layer *L, int for_data, int64_t *dh, int64_t *dw);
clconv_status run_flip(clconv_ctx *ctx, const layer *L, cl_mem w, size_t w_off, cl_mem wf,
                       size_t wf_off, cl_event *event);

#endif
