/*
 * clconv.h - 2-D convolution layers (forward, backward-data, backward-filter,
 * backward-bias) on any OpenCL device.
 *
 * The one public header of libclconv.  Conventions, all of them borrowed
 * from sqlite / zstd / CLBlast:
 *   - every call returns a clconv_status; clconv_status_string() explains it,
 *     clconv_last_error() gives the context's detailed message, the raw
 *     OpenCL code and, for program builds, the build log;
 *   - the library never exits, aborts or prints on its own;
 *   - handles are opaque, and clconv_free(NULL) is a no-op;
 *   - the caller owns every buffer: the library reads and writes caller
 *     cl_mem objects at caller-given offsets (counted in elements of the
 *     layer's data type, as CLBlast does) and never keeps them past the
 *     call;
 *   - device calls enqueue on the context's command queue (which must be
 *     in-order) and return without waiting; pass a cl_event* to get an event
 *     for the last command enqueued, or NULL; after a failed call *event
 *     is NULL;
 *   - every call runs out of place: an output may not share a byte with any
 *     other tensor of the call (same cl_mem at overlapping offsets,
 *     overlapping sub-buffers of one parent, CL_MEM_USE_HOST_PTR buffers
 *     over the same host memory) - CLCONV_BAD_BUFFER naming the two; inputs
 *     may share memory with each other;
 *   - access flags are honoured: an output must not be CL_MEM_READ_ONLY,
 *     an input (or an output the call accumulates into) not
 *     CL_MEM_WRITE_ONLY - CLCONV_BAD_BUFFER;
 *   - every refusal happens before anything is enqueued, so a refused call
 *     writes nothing and the context stays usable.
 *
 * Tensors are dense.  Data type: fp32 by default; fp16 or bf16 storage
 * (clconv_desc.dtype) with fp32 arithmetic inside.  Layouts: x, y, dy, dx
 * NCHW (default) or NHWC, filters K x (C/groups) x R x S (KCRS, default)
 * or K x R x S x (C/groups) (KRSC) (clconv_desc.layout, .filter_layout).
 * Which algorithm runs what: README's feature table, and each
 * implementation's refusal (CLCONV_NOT_SUPPORTED with the reason).
 */
#ifndef CLCONV_H
#define CLCONV_H

#include <stddef.h>
#include <stdint.h>

#ifndef CL_TARGET_OPENCL_VERSION
#define CL_TARGET_OPENCL_VERSION 120
#endif
#include <CL/cl.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) && !defined(CLCONV_STATIC_BUILD)
#define CLCONV_API __attribute__((visibility("default")))
#else
#define CLCONV_API
#endif

/* ---- version -------------------------------------------------------- */
#define CLCONV_VERSION_MAJOR 0
#define CLCONV_VERSION_MINOR 3
#define CLCONV_VERSION_PATCH 0
#define CLCONV_VERSION_NUMBER \
    (CLCONV_VERSION_MAJOR * 10000 + CLCONV_VERSION_MINOR * 100 + CLCONV_VERSION_PATCH)
#define CLCONV_VERSION_STRING "0.3.0"

/* The version the library was built as (compare with the macros above). */
CLCONV_API unsigned clconv_version_number(void);
CLCONV_API const char *clconv_version_string(void);

/* ---- status --------------------------------------------------------- */
/* One list generates the enum, clconv_status_name() and
 * clconv_status_string(), so the three cannot drift apart. */
#define CLCONV_STATUS_LIST(X)                                                    \
    X(OK, "success")                                                           \
    X(NULL_ARGUMENT, "a required handle, descriptor, buffer or pointer is NULL") \
    X(BAD_SIZE, "a tensor size (N, C, H, W, K, R or S) is less than 1")         \
    X(BAD_STRIDE, "a stride is less than 1")                                   \
    X(BAD_PADDING, "a padding is negative")                                    \
    X(BAD_DILATION, "a dilation is less than 1")                               \
    X(BAD_GROUPS, "groups is less than 1, or does not divide C and K")         \
    X(EMPTY_OUTPUT, "the output would have fewer than 1 row or column")       \
    X(TOO_LARGE, "a size or element count overflows 64-bit arithmetic")       \
    X(BAD_ALGORITHM, "unknown algorithm, or it does not implement this pass")  \
    X(BAD_BUFFER, "a cl_mem argument is not a valid buffer")                  \
    X(BAD_QUEUE, "the queue is out-of-order, or not on the given context and device") \
    X(BUFFER_TOO_SMALL, "a buffer is smaller than offset plus the tensor")   \
    X(DEVICE_NOT_FOUND, "no OpenCL device matches the selector")              \
    X(NO_DEVICE, "no OpenCL platform or device is available")                \
    X(DEVICE_LIMIT, "the layer needs more than the device can allocate or address") \
    X(BUILD_FAILED, "an OpenCL program failed to build (see the build log)")  \
    X(OUT_OF_HOST_MEMORY, "a host allocation failed")                         \
    X(OUT_OF_DEVICE_MEMORY, "a device allocation failed")                     \
    X(OUT_OF_RESOURCES, "the device ran out of resources")                    \
    X(OPENCL_ERROR, "an OpenCL call failed (see clconv_last_cl_error)")     \
    X(BAD_PASS, "unknown pass (not forward, backward-data or backward-filter)") \
    X(BAD_VERSION, "the descriptor's struct_size is not a layout this library knows") \
    X(BAD_MATH_MODE, "unknown math mode (not CLCONV_MATH_FP32 or CLCONV_MATH_TF32)") \
    X(BAD_DTYPE, "unknown data type (not CLCONV_F32, CLCONV_F16 or CLCONV_BF16)") \
    X(BAD_LAYOUT, "unknown tensor or filter layout code")                       \
    X(BAD_EPILOGUE, "unknown activation, or an epilogue field outside its range") \
    X(NOT_SUPPORTED, "the algorithm does not support this data type, layout or epilogue")

typedef enum clconv_status {
#define CLCONV_STATUS_ENUM_(name, msg) CLCONV_##name,
    CLCONV_STATUS_LIST(CLCONV_STATUS_ENUM_)
#undef CLCONV_STATUS_ENUM_
    CLCONV_STATUS_COUNT_
} clconv_status;

/* "CLCONV_BAD_STRIDE" for CLCONV_BAD_STRIDE; "CLCONV_UNKNOWN" if out of range. */
CLCONV_API const char *clconv_status_name(clconv_status s);
/* A static sentence describing the status. Never NULL. */
CLCONV_API const char *clconv_status_string(clconv_status s);

/* ---- context -------------------------------------------------------- */
typedef struct clconv_ctx clconv_ctx;

/* Create a context on a device the library picks: the selector in the
 * environment variable CLCONV_DEVICE if set, else the first GPU, else the
 * first CPU, else the first device.  Selector syntax (see README):
 *   "P:D"    platform index P, device index D (e.g. "0:0");
 *   "gpu", "cpu", "accelerator"  the first device of that type;
 *   any other text: the first device whose platform or device name or
 *   vendor contains it, case-insensitively (e.g. "pocl", "NVIDIA", "H200").
 * Blanks (spaces, tabs) around a selector are ignored, and an all-blank one
 * is the default.  A selector of digits, colons, signs and blanks is an
 * index and must be exactly "digits:digits"; an index past the last
 * platform or device (however large), or a malformed one, is
 * CLCONV_DEVICE_NOT_FOUND.
 * On error *out is NULL. */
CLCONV_API clconv_status clconv_create(clconv_ctx **out);
/* The same with an explicit selector; NULL or "" means clconv_create(). */
CLCONV_API clconv_status clconv_create_with(const char *selector, clconv_ctx **out);
/* Wrap the caller's own context, device and (in-order) queue.  The library
 * retains them and releases them in clconv_free(). */
CLCONV_API clconv_status clconv_create_from(cl_context context, cl_device_id device,
                                            cl_command_queue queue, clconv_ctx **out);
/* Release everything the context holds.  NULL is a no-op. */
CLCONV_API void clconv_free(clconv_ctx *ctx);

CLCONV_API cl_context clconv_cl_context(const clconv_ctx *ctx);
CLCONV_API cl_device_id clconv_cl_device(const clconv_ctx *ctx);
CLCONV_API cl_command_queue clconv_cl_queue(const clconv_ctx *ctx);
/* "platform name / device name". */
CLCONV_API const char *clconv_device_name(const clconv_ctx *ctx);

/* The detailed message of the context's last failed call ("" after
 * success), the raw OpenCL error code behind it (CL_SUCCESS if none), and
 * the build log of the last failed program build ("" if none). */
CLCONV_API const char *clconv_last_error(const clconv_ctx *ctx);
CLCONV_API cl_int clconv_last_cl_error(const clconv_ctx *ctx);
CLCONV_API const char *clconv_build_log(const clconv_ctx *ctx);

/* Block until everything enqueued on the context's queue has finished. */
CLCONV_API clconv_status clconv_finish(clconv_ctx *ctx);

/* ---- convolution descriptor ----------------------------------------- */
/* Signed 64-bit fields so that a negative value is seen and refused. */
typedef struct clconv_desc {
    int64_t n, c, h, w;            /* input  N x C x H x W           */
    int64_t k, r, s;               /* filter K x (C/groups) x R x S  */
    int64_t stride_h, stride_w;    /* >= 1 */
    int64_t pad_h, pad_w;          /* >= 0, same on both sides */
    int64_t dilation_h, dilation_w;/* >= 1 (1 = dense filter) */
    int64_t groups;                /* >= 1, divides C and K; C = K = groups is depthwise */
    /* ABI extension, as zstd's parameters and Vulkan's sType/size: later
     * versions add fields after this one, and the library reads a field
     * only when struct_size covers it (else it takes that field's
     * default), so a program built against this header keeps working
     * with a later library.  clconv_desc_init sets sizeof(clconv_desc);
     * 0 (a descriptor filled field by field, or an initializer that stops
     * before it) means the layout up to here.  Anything else below that,
     * or larger than the library's own sizeof(clconv_desc) (a header newer
     * than the library), is CLCONV_BAD_VERSION. */
    int64_t struct_size;
    /* ---- 0.3 (defaults when struct_size stops before them) ---- */
    /* Asymmetric padding (TensorFlow's SAME, ONNX's four pads): with
     * pad_asymmetric 1, pad_h and pad_w are the top and left padding and
     * pad_h_end, pad_w_end the bottom and right (each >= 0).  With 0 (the
     * default, so a zeroed descriptor is symmetric) the two ends are ignored
     * and each side gets pad_h / pad_w.  Any other value is BAD_PADDING. */
    int64_t pad_asymmetric;
    int64_t pad_h_end, pad_w_end;
    /* The transposed-convolution calls' output padding (rows / columns
     * added at the bottom / right of their output, 0 <= each < the
     * stride; default 0).  The convolution calls need 0: BAD_PADDING. */
    int64_t out_pad_h, out_pad_w;
    /* Storage type of every tensor of the calls, bias included
     * (clconv_dtype; default CLCONV_F32).  Arithmetic is fp32 inside
     * whatever the storage; each output element is rounded once, to
     * nearest even, when stored. */
    int64_t dtype;
    /* clconv_layout of x, y, dy and dx (default CLCONV_NCHW) and
     * clconv_filter_layout of w and dw (default CLCONV_KCRS). */
    int64_t layout;
    int64_t filter_layout;
} clconv_desc;

/* sizeof(clconv_desc) in 0.2, the first extensible layout. */
#define CLCONV_DESC_SIZE_0_2 ((int64_t)(15 * sizeof(int64_t)))
/* sizeof(clconv_desc) in 0.3. */
#define CLCONV_DESC_SIZE_0_3 ((int64_t)(23 * sizeof(int64_t)))

typedef enum clconv_dtype {
    CLCONV_F32 = 0, /* IEEE binary32 */
    CLCONV_F16,     /* IEEE binary16 (read and written with vload_half / vstore_half) */
    CLCONV_BF16,    /* bfloat16: the upper 16 bits of a binary32 */
    CLCONV_DTYPE_COUNT_
} clconv_dtype;
/* Bytes of one element (0 for an unknown type) and "f32", "f16", "bf16". */
CLCONV_API size_t clconv_dtype_size(clconv_dtype t);
CLCONV_API const char *clconv_dtype_name(clconv_dtype t);

typedef enum clconv_layout {
    CLCONV_NCHW = 0, /* x[n][c][h][w]; y[n][k][p][q] */
    CLCONV_NHWC,     /* x[n][h][w][c]; y[n][p][q][k] (PyTorch's channels_last) */
    CLCONV_LAYOUT_COUNT_
} clconv_layout;

typedef enum clconv_filter_layout {
    CLCONV_KCRS = 0, /* w[k][c][r][s] (PyTorch, oneDNN's oihw) */
    CLCONV_KRSC,     /* w[k][r][s][c] (oneDNN's ohwi, TensorFlow's after a transpose) */
    CLCONV_FILTER_LAYOUT_COUNT_
} clconv_filter_layout;

/* Fill a descriptor: stride 1, padding 0 (symmetric), dilation 1, one
 * group, fp32 NCHW / KCRS (every 0.3 field 0), and
 * struct_size = sizeof(clconv_desc). */
CLCONV_API void clconv_desc_init(clconv_desc *d, int64_t n, int64_t c, int64_t h, int64_t w,
                                 int64_t k, int64_t r, int64_t s);
/* Check every field; the first problem found is the status, in this order:
 *   1. NULL_ARGUMENT   d is NULL;
 *      BAD_VERSION     struct_size is neither 0 nor within
 *                      [CLCONV_DESC_SIZE_0_2, sizeof(clconv_desc)];
 *   2. BAD_SIZE        n, c, h, w, k, r or s < 1;
 *   3. BAD_STRIDE      a stride < 1;
 *   4. BAD_PADDING     a padding < 0 (pad_*_end only when pad_asymmetric
 *                      is 1), pad_asymmetric not 0 or 1, or an output
 *                      padding not 0;
 *   5. BAD_DILATION    a dilation < 1;
 *   6. BAD_GROUPS      groups < 1, or groups does not divide both c and k;
 *      BAD_DTYPE       dtype outside clconv_dtype;
 *      BAD_LAYOUT      layout or filter_layout outside its enum;
 *   7. rows, then columns: TOO_LARGE if the input size or the filter size
 *      is >= 2^62, a padding >= 2^60, the dilation >= 2^62 or
 *      (filter - 1) * dilation >= 2^62; else EMPTY_OUTPUT if the dilated
 *      filter (filter - 1) * dilation + 1 is longer than input + begin
 *      padding + end padding (the output length is
 *      (input + begin + end - dilated filter) / stride + 1);
 *   8. TOO_LARGE       if any of these element counts exceeds INT64_MAX / 4
 *      (so that its size in bytes fits in int64): x = N*C*H*W,
 *      w = K*(C/g)*R*S, y = N*K*P*Q, the upsampled+padded dy
 *      N*K*(H+(R-1)*dil_h)*(W+(S-1)*dil_w), the dilated dy
 *      N*K*((P-1)*stride_h+1)*((Q-1)*stride_w+1), and (C/g)*R*S*y.
 * Any stride >= 1 is accepted: a stride longer than the room the filter has
 * (input + 2*padding - dilated filter) gives one output position, computed
 * exactly as with the smallest such stride, so no field combination that
 * passes can overflow 64-bit arithmetic in any pass or algorithm. */
CLCONV_API clconv_status clconv_desc_check(const clconv_desc *d);
/* Output rows P and columns Q (after checking the descriptor). */
CLCONV_API clconv_status clconv_output_size(const clconv_desc *d, int64_t *p, int64_t *q);
/* Element counts of input, filter and output (any pointer may be NULL). */
CLCONV_API clconv_status clconv_tensor_elems(const clconv_desc *d, size_t *x_elems,
                                             size_t *w_elems, size_t *y_elems);
/* 2*N*K*(C/groups)*R*S*P*Q, the FLOP count of each of the three passes. */
CLCONV_API double clconv_flops(const clconv_desc *d);

/* ---- algorithms ----------------------------------------------------- */
typedef enum clconv_algo {
    CLCONV_ALGO_AUTO = 0,   /* the library picks the fastest it has */
    CLCONV_ALGO_EXPLICIT,   /* upsample+pad and flip kernels, then a plain convolution */
    CLCONV_ALGO_DIRECT,     /* one simple kernel per pass over the virtual tensors */
    CLCONV_ALGO_GEMM,       /* fused tiled implicit-GEMM kernels */
    CLCONV_ALGO_TILED,      /* local-memory tiled implicit GEMM shaped for GPUs (AUTO: GPUs only) */
    CLCONV_ALGO_WINOGRAD,   /* Winograd F(2x2,3x3)/F(4x4,3x3): 3x3, stride 1, dilation 1, 1 group */
    CLCONV_ALGO_COUNT_
} clconv_algo;

CLCONV_API const char *clconv_algo_name(clconv_algo a); /* "auto", "explicit", ... */

/* Bytes of device scratch memory a pass needs with an algorithm (0 for
 * most).  The context allocates and keeps that scratch itself, growing it
 * as needed, so callers never pass a workspace; the query is for planning
 * memory.  pass: 0 forward, 1 backward-data, 2 backward-filter. */
typedef enum clconv_pass {
    CLCONV_PASS_FORWARD = 0,
    CLCONV_PASS_BACKWARD_DATA,
    CLCONV_PASS_BACKWARD_FILTER,
    CLCONV_PASS_COUNT_
} clconv_pass;
/* NULL_ARGUMENT for a NULL ctx, d or bytes; BAD_PASS for a pass outside
 * the enum; then the descriptor's status; then BAD_ALGORITHM. */
CLCONV_API clconv_status clconv_workspace_size(const clconv_ctx *ctx, const clconv_desc *d,
                                               clconv_pass pass, clconv_algo algo,
                                               size_t *bytes);

/* ---- math mode (issue 8) --------------------------------------------- */
/* What arithmetic the context allows, as cuDNN's math types and PyTorch's
 * allow_tf32: a permission, never a requirement.
 *   CLCONV_MATH_FP32  (the default) every algorithm computes in exact fp32
 *                     (||out - ref|| / ||ref|| about 1e-6 to 1e-5);
 *   CLCONV_MATH_TF32  CLCONV_ALGO_TILED (so AUTO where it takes TILED) may
 *                     multiply on TF32 tensor cores: on an NVIDIA device
 *                     of compute capability 8.0 or later (read through
 *                     cl_nv_device_attribute_query) its products take
 *                     their factors rounded to TF32 (10-bit mantissa,
 *                     round to nearest, ties away from zero), summed in
 *                     fp32 (mma.sync m16n8k8); expect ||out - ref|| /
 *                     ||ref|| up to 5e-3.  Every other algorithm, and
 *                     TILED on any other device, stays exact fp32.
 * Results stay deterministic in either mode.  The mode starts from the
 * environment variable CLCONV_MATH, read at context creation: "tf32" ->
 * TF32, unset, empty or "fp32" -> FP32 (any case, blanks around ignored;
 * any other value -> FP32, logged at CLCONV_LOG_ERROR).  For testing,
 * CLCONV_TF32_EMULATE=1 (also read at creation) runs TILED's TF32 path on
 * any device through a portable emulation of the same m16n8k8 steps
 * (slow; the test suite uses it on PoCL). */
typedef enum clconv_math_mode {
    CLCONV_MATH_FP32 = 0,
    CLCONV_MATH_TF32,
    CLCONV_MATH_COUNT_
} clconv_math_mode;
/* NULL_ARGUMENT for a NULL ctx; BAD_MATH_MODE for a mode outside the
 * enum (the context keeps its mode).  Applies to the calls made after it. */
CLCONV_API clconv_status clconv_set_math_mode(clconv_ctx *ctx, clconv_math_mode mode);
/* The context's mode into *mode; NULL_ARGUMENT for a NULL ctx or mode. */
CLCONV_API clconv_status clconv_get_math_mode(const clconv_ctx *ctx, clconv_math_mode *mode);

/* ---- the three passes (device buffers) ------------------------------- */
/* y = conv(x, w).  y is overwritten. */
CLCONV_API clconv_status clconv_forward(clconv_ctx *ctx, const clconv_desc *d, clconv_algo algo,
                                        cl_mem x, size_t x_off, cl_mem w, size_t w_off,
                                        cl_mem y, size_t y_off, cl_event *event);
/* dx (+)= dL/dx given dy.  accumulate != 0 adds to dx (beta = 1);
 * accumulate == 0 overwrites it without reading it. */
CLCONV_API clconv_status clconv_backward_data(clconv_ctx *ctx, const clconv_desc *d,
                                              clconv_algo algo, cl_mem dy, size_t dy_off,
                                              cl_mem w, size_t w_off, cl_mem dx, size_t dx_off,
                                              int accumulate, cl_event *event);
/* dw (+)= dL/dw given x and dy. */
CLCONV_API clconv_status clconv_backward_filter(clconv_ctx *ctx, const clconv_desc *d,
                                                clconv_algo algo, cl_mem x, size_t x_off,
                                                cl_mem dy, size_t dy_off, cl_mem dw, size_t dw_off,
                                                int accumulate, cl_event *event);
/* db[k] (+)= sum over n, p, q of dy[n][k][p][q]  (db has K elements).  dy
 * and db in the descriptor's dtype, dy in its layout. */
CLCONV_API clconv_status clconv_backward_bias(clconv_ctx *ctx, const clconv_desc *d,
                                              cl_mem dy, size_t dy_off, cl_mem db, size_t db_off,
                                              int accumulate, cl_event *event);

/* ---- fused forward epilogue (issue 7) -------------------------------- */
/* y = act(alpha * conv(x, w) + beta * y_old + bias[k]), applied in the
 * forward kernels' store step (cuDNN's ConvolutionBiasActivationForward,
 * oneDNN's post-ops): no extra pass over y.  y_old is read only when
 * beta != 0 (so y may hold NaN otherwise). */
typedef enum clconv_activation {
    CLCONV_ACT_IDENTITY = 0,
    CLCONV_ACT_RELU,          /* max(v, 0) */
    CLCONV_ACT_CLIPPED_RELU,  /* min(max(v, 0), param): ReLU6 is param = 6; param > 0 */
    CLCONV_ACT_LEAKY_RELU,    /* v > 0 ? v : param * v; param >= 0 */
    CLCONV_ACT_SIGMOID,       /* 1 / (1 + exp(-v)) */
    CLCONV_ACT_TANH,
    CLCONV_ACT_COUNT_
} clconv_activation;

typedef struct clconv_epilogue {
    int64_t struct_size;        /* clconv_epilogue_init sets it; 0 = this layout */
    float alpha, beta;          /* finite */
    int32_t activation;         /* clconv_activation */
    float param;                /* the activation's parameter (see above) */
    cl_mem bias;                /* K elements of the layer's dtype at bias_off, or NULL */
    size_t bias_off;
} clconv_epilogue;

/* alpha 1, beta 0, identity, no bias: clconv_forward's result. */
CLCONV_API void clconv_epilogue_init(clconv_epilogue *e);
/* Check the epilogue's fields (not the bias buffer): NULL_ARGUMENT,
 * BAD_VERSION (struct_size), BAD_EPILOGUE (activation outside the enum,
 * alpha, beta or param not finite, param outside its activation's range). */
CLCONV_API clconv_status clconv_epilogue_check(const clconv_epilogue *e);
/* clconv_forward with the epilogue (NULL ep: clconv_forward).  Every
 * algorithm's forward fuses it; the bias must not overlap y. */
CLCONV_API clconv_status clconv_forward_fused(clconv_ctx *ctx, const clconv_desc *d,
                                              clconv_algo algo, cl_mem x, size_t x_off,
                                              cl_mem w, size_t w_off, cl_mem y, size_t y_off,
                                              const clconv_epilogue *ep, cl_event *event);
/* The activation's backward: dz = dL/d(pre-activation) from dy = dL/dy and
 * y = act(pre), all three N x K x P x Q in the layer's dtype and layout:
 * identity dy; ReLU dy * (y > 0); clipped ReLU dy * (0 < y < param);
 * leaky ReLU y > 0 ? dy : param * dy; sigmoid dy * y * (1 - y); tanh
 * dy * (1 - y*y).  dz may be dy's buffer at dy's offset (in place), never
 * overlap y otherwise.  For a transposed convolution's output pass a 1x1
 * descriptor (n, 1, HO, WO, K, 1, 1) with its dtype and layout. */
CLCONV_API clconv_status clconv_activation_backward(clconv_ctx *ctx, const clconv_desc *d,
                                                    clconv_activation act, float param,
                                                    cl_mem y, size_t y_off, cl_mem dy,
                                                    size_t dy_off, cl_mem dz, size_t dz_off,
                                                    cl_event *event);

/* ---- transposed convolution (issue 7) ------------------------------- */
/* A transposed convolution (oneDNN's deconvolution, PyTorch's
 * ConvTranspose2d) is described by a clconv_desc read with its own roles:
 * n, c, h, w its input x (C channels), k its output channels, r, s, the
 * strides, paddings, dilations and groups as PyTorch's, and out_pad_h /
 * out_pad_w its output padding.  Its output y is N x K x HO x WO with
 *   HO = (H - 1) * stride_h - pad_h - pad_h_end + (R - 1) * dilation_h + 1 + out_pad_h
 * (WO alike), its filter C x (K/groups) x R x S (KCRS; KRSC is
 * C x R x S x (K/groups)).  It is the gradient of the convolution from y's
 * shape to x's: its forward runs clconv's backward-data, its backward-data
 * a forward convolution, its backward-filter clconv's backward-filter with
 * the tensors' roles exchanged, so every algorithm that runs those runs
 * it, with the same accuracy. */
/* The descriptor's status (out_pad_h / out_pad_w must be < the stride:
 * BAD_PADDING; HO or WO < 1: EMPTY_OUTPUT), and HO, WO. */
CLCONV_API clconv_status clconv_transposed_output_size(const clconv_desc *d, int64_t *ho,
                                                       int64_t *wo);
/* The convolution whose backward-data is this transposed convolution:
 * n, c = K, h = HO, w = WO, k = C and the rest alike (out_pad 0). */
CLCONV_API clconv_status clconv_transposed_as_conv(const clconv_desc *d, clconv_desc *conv);
/* y = deconv(x, w) + bias[k] (bias NULL: none).  The bias is added by a
 * second kernel after the backward-data, so with a bias y is read too (it
 * must not be CL_MEM_WRITE_ONLY), and in fp16 / bf16 storage each element
 * is rounded twice (the convolution, then the sum). */
CLCONV_API clconv_status clconv_transposed_forward(clconv_ctx *ctx, const clconv_desc *d,
                                                   clconv_algo algo, cl_mem x, size_t x_off,
                                                   cl_mem w, size_t w_off, cl_mem bias,
                                                   size_t bias_off, cl_mem y, size_t y_off,
                                                   cl_event *event);
/* dx (+)= dL/dx given dy (N x K x HO x WO). */
CLCONV_API clconv_status clconv_transposed_backward_data(clconv_ctx *ctx, const clconv_desc *d,
                                                         clconv_algo algo, cl_mem dy,
                                                         size_t dy_off, cl_mem w, size_t w_off,
                                                         cl_mem dx, size_t dx_off, int accumulate,
                                                         cl_event *event);
/* dw (+)= dL/dw given x and dy. */
CLCONV_API clconv_status clconv_transposed_backward_filter(clconv_ctx *ctx, const clconv_desc *d,
                                                           clconv_algo algo, cl_mem x,
                                                           size_t x_off, cl_mem dy, size_t dy_off,
                                                           cl_mem dw, size_t dw_off,
                                                           int accumulate, cl_event *event);
/* db[k] (+)= sum over n, ho, wo of dy (K elements). */
CLCONV_API clconv_status clconv_transposed_backward_bias(clconv_ctx *ctx, const clconv_desc *d,
                                                         cl_mem dy, size_t dy_off, cl_mem db,
                                                         size_t db_off, int accumulate,
                                                         cl_event *event);
/* The float64 reference of the transposed forward, from its definition
 * (each x element scattered through the filter into y), independent of the
 * convolution calls; arrays dense NCHW / KCRS whatever the descriptor's
 * layouts, bias NULL or K values. */
CLCONV_API clconv_status clconv_ref_transposed_forward(const clconv_desc *d, const double *x,
                                                       const double *w, const double *bias,
                                                       double *y);

/* ---- the seed's two primitives on their own -------------------------- */
/* Shape of the upsampled+padded output gradient that the EXPLICIT
 * backward-data convolves: N x K x HU x WU with HU = H + (R-1)*dil_h and
 * WU = W + (S-1)*dil_w. */
CLCONV_API clconv_status clconv_upsample_pad_size(const clconv_desc *d, int64_t *hu, int64_t *wu);
/* out[n][k][y][x] = dy[n][k][(y-T)/s][(x-L)/s] where (y-T) and (x-L) are
 * non-negative multiples of the stride that land inside dy, else 0;
 * T = (R-1)*dil_h - pad_h (top) and L = (S-1)*dil_w - pad_w (left)
 * (negative T or L crops); the bottom / right side is what HU / WU leave.
 * dy and out are in the descriptor's dtype and layout (NHWC: out is
 * N x HU x WU x K). */
CLCONV_API clconv_status clconv_upsample_pad(clconv_ctx *ctx, const clconv_desc *d,
                                             cl_mem dy, size_t dy_off, cl_mem out, size_t out_off,
                                             cl_event *event);
/* wf[c][kl][r][s] = w[g*K/groups + kl][c - g*C/groups][R-1-r][S-1-s] for c in
 * group g: the filter turned 180 degrees with K and C swapped, shape
 * C x (K/groups) x R x S; w and wf in the descriptor's dtype and filter
 * layout (KRSC: wf is C x R x S x (K/groups)). */
CLCONV_API clconv_status clconv_flip_filter(clconv_ctx *ctx, const clconv_desc *d,
                                            cl_mem w, size_t w_off, cl_mem wf, size_t wf_off,
                                            cl_event *event);

/* ---- host-array convenience (blocking) ------------------------------- */
/* Copy to the device, run, copy back, wait.  Arrays are dense and sized
 * by the descriptor, in its layouts; fp32 only (another dtype is
 * CLCONV_NOT_SUPPORTED). */
CLCONV_API clconv_status clconv_forward_host(clconv_ctx *ctx, const clconv_desc *d,
                                             clconv_algo algo, const float *x, const float *w,
                                             float *y);
CLCONV_API clconv_status clconv_backward_data_host(clconv_ctx *ctx, const clconv_desc *d,
                                                   clconv_algo algo, const float *dy,
                                                   const float *w, float *dx, int accumulate);
CLCONV_API clconv_status clconv_backward_filter_host(clconv_ctx *ctx, const clconv_desc *d,
                                                     clconv_algo algo, const float *x,
                                                     const float *dy, float *dw, int accumulate);
CLCONV_API clconv_status clconv_backward_bias_host(clconv_ctx *ctx, const clconv_desc *d,
                                                   const float *dy, float *db, int accumulate);

/* ---- CPU reference (float64, straight from the definitions) --------- */
/* Independent of every kernel: the forward sum and the chain rule written
 * as loops, never the upsample/flip decomposition.  Arrays dense NCHW /
 * KCRS whatever the descriptor's dtype and layouts (those only say how
 * the device stores the same values), sized by the descriptor (padding
 * on each of the four sides as given); outputs overwritten.  Returns the
 * descriptor's status. */
CLCONV_API clconv_status clconv_ref_forward(const clconv_desc *d, const double *x,
                                            const double *w, double *y);
CLCONV_API clconv_status clconv_ref_backward_data(const clconv_desc *d, const double *dy,
                                                  const double *w, double *dx);
CLCONV_API clconv_status clconv_ref_backward_filter(const clconv_desc *d, const double *x,
                                                    const double *dy, double *dw);
CLCONV_API clconv_status clconv_ref_backward_bias(const clconv_desc *d, const double *dy,
                                                  double *db);

/* ---- diagnostics, program cache, limits (issue 4) -------------------- */
/* Log levels, lowest first.  A context delivers messages up to its level:
 *   CLCONV_LOG_ERROR  every failed call: status name, OpenCL code, detailed
 *                     message and, for CLCONV_BUILD_FAILED, the build log;
 *   CLCONV_LOG_CALL   each public call, written as the clconv-bench command
 *                     line that reproduces it, e.g.
 *                     "clconv-bench --dir=bwd_d --algo=direct mb2g1ic3ih5iw5oc4kh3kw3sh2sw2ph1pw1dh0dw0"
 *                     (--dir= fwd, bwd_d, bwd_w or bwd_b; accumulate is noted
 *                     as a trailing "# accumulate=1"; --dt=, --stag=nhwc,
 *                     --wtag=ohwi when not the defaults; the fused forward
 *                     adds --attr-post-ops=, the transposed calls
 *                     --deconv; the primitives log
 *                     their function name and descriptor);
 *   CLCONV_LOG_DEBUG  program builds (with times) and binary-cache events.
 * The level starts from the environment variable CLCONV_LOG: unset or 0 ->
 * CLCONV_LOG_ERROR, 1 -> CLCONV_LOG_CALL, 2 -> CLCONV_LOG_DEBUG.
 * Messages go to the context's callback.  With no callback they are
 * dropped, except when CLCONV_LOG is set (non-zero): then they go to
 * stderr, one line each prefixed "clconv: " - the one case in which the
 * library prints, and only because the user asked for it. */
typedef enum clconv_log_level {
    CLCONV_LOG_OFF = 0,
    CLCONV_LOG_ERROR = 1,
    CLCONV_LOG_CALL = 2,
    CLCONV_LOG_DEBUG = 3
} clconv_log_level;

/* Called on the thread that made the call: failures with the context
 * locked, call lines just before the call takes the lock.  It must not
 * call the library on the same context, and must be thread-safe when the
 * context is shared.  msg is valid only during the call and may hold
 * several lines (a build log). */
typedef void (*clconv_log_fn)(void *user, int level, const char *msg);

/* Install (fn != NULL) or remove (NULL) the callback.  Set it, and the
 * level, before sharing the context between threads. */
CLCONV_API clconv_status clconv_set_log(clconv_ctx *ctx, clconv_log_fn fn, void *user);
CLCONV_API clconv_status clconv_set_log_level(clconv_ctx *ctx, int level);

/* The descriptor in benchdnn's syntax, as the bench tool reads it:
 * "mb2g1ic3ih5iw5oc4kh3kw3sh2sw2ph1pw1dh0dw0" (dilation 0-based: dh0 is a
 * dense filter).  Unequal padding (pad_asymmetric 1 with an end other
 * than its begin) adds the output, benchdnn's way of stating it:
 * "mb2g1ic3ih5iw5oc4oh3ow2kh3kw3sh2sw2ph1pw1dh0dw0".  Any descriptor is
 * printed, valid or not.  A buffer of
 * CLCONV_DESC_STRING_MAX bytes always suffices; a smaller one gets the
 * truncated, NUL-terminated string and CLCONV_BUFFER_TOO_SMALL. */
#define CLCONV_DESC_STRING_MAX 384
CLCONV_API clconv_status clconv_desc_string(const clconv_desc *d, char *buf, size_t cap);

/* Program binary cache.  Compiled kernel programs are saved on disk and
 * loaded by later contexts (and processes) instead of being compiled
 * again.  Read when a context is created:
 *   CLCONV_CACHE=0 (or off/no/false)  no cache: nothing read or written;
 *   CLCONV_CACHE_DIR=dir              the directory (created if missing);
 *   otherwise $XDG_CACHE_HOME/clconv, else $HOME/.cache/clconv.
 * Entries are keyed by the kernel source, build options, device, driver,
 * platform and library version.  A missing or unwritable directory, or a
 * damaged entry, only means compiling from source (a damaged entry is
 * replaced); it never fails a call.  Entries are written atomically, so
 * one user's processes may share a directory.  Nothing is ever deleted:
 * remove the directory to reclaim its space.
 *
 * Trust: an entry is native code run in the process (its checksum is no
 * signature), so whoever can write the directory can run code as you.
 * Directories the library creates are mode 0700.  A directory is used only
 * if it is owned by the effective user or root and not writable by group
 * or others (ssh's rule for its keys; its parents are not checked), and
 * only a regular file of at most 256 MiB under the same rule is read at an
 * entry's name, opened without following a symbolic link or blocking on a
 * FIFO.  A refused directory or entry, and a directory path too long for
 * entry names, mean compiling and are logged at CLCONV_LOG_ERROR (the call
 * still succeeds).  Every build adds -w (part of the key), since PoCL's
 * compiler writes its warning count to the process's stderr otherwise.
 *
 * Memory limits: scratch memory beyond CL_DEVICE_MAX_MEM_ALLOC_SIZE or
 * CL_DEVICE_GLOBAL_MEM_SIZE is refused with CLCONV_DEVICE_LIMIT before
 * anything is enqueued (clconv_workspace_size() says what a pass needs). */

/* ---- find: on-device tuning of AUTO (issue 8) ------------------------ */
/* Find (MIOpen's find-db, cudnn.benchmark, CLBlast's tuner): with find on,
 * the first CLCONV_ALGO_AUTO call of a layer and pass the context has not
 * seen times its candidates on the device - TILED and GEMM with each of
 * their tuning rows (nvidia, cpu, generic) and DIRECT, those that support
 * the call - and runs the fastest; later calls of that layer and pass run
 * the same choice without timing.  Each candidate runs a warm-up and 3
 * timed runs (1, when that one already takes 1.5 times the best so far)
 * on scratch output the library allocates, so the caller's
 * output is written once, by the chosen run; the timing call blocks until
 * its runs are done (profiling events, or the wall clock around clFinish
 * on a queue without CL_QUEUE_PROFILING_ENABLE).  Every candidate is
 * checked against the reference by the test suite, so find changes the
 * speed of AUTO, never its answer beyond the usual 1e-5.  Named algorithms
 * ignore find.  CLCONV_LOG=1 logs each timing ("find: <layer> fwd:
 * gemm/cpu 1.23 ms, tiled/cpu 9.8 ms, ... -> gemm/cpu ...").
 *
 * A choice is kept in the context and, with the program cache on (see
 * above), stored as a record find-<key>.bin in its directory under its
 * trust rules, written atomically, keyed by device, driver, platform,
 * library version, descriptor, pass and the arithmetic the math mode gives
 * TILED (fp32 or TF32); later contexts and processes read
 * it back instead of timing again.  A damaged, foreign or untrusted
 * record, or one naming no candidate that can run the call, is ignored
 * (logged) and the layer timed again.  To forget stored choices delete
 * the find-*.bin files of the cache directory, or set CLCONV_FIND=reset.
 *
 * Off by default.  Read at context creation: CLCONV_FIND unset, 0, off, no
 * or false -> off; reset -> on, ignoring (and then replacing) stored
 * records; anything else (1, on) -> on.  clconv_workspace_size() keeps
 * answering for AUTO's pick without find. */
#define CLCONV_FIND_OFF 0
#define CLCONV_FIND_ON 1
#define CLCONV_FIND_RESET 2
/* Turn find off (CLCONV_FIND_OFF), on (CLCONV_FIND_ON or any other value)
 * or on ignoring stored records (CLCONV_FIND_RESET).  What the context has
 * learnt is kept while find is off. */
CLCONV_API clconv_status clconv_set_find(clconv_ctx *ctx, int mode);
/* Forget the choices kept in the context (records on disk stay: the next
 * call of a layer reads its record, or times it again). */
CLCONV_API clconv_status clconv_find_clear(clconv_ctx *ctx);

#ifdef __cplusplus
}
#endif
#endif /* CLCONV_H */
