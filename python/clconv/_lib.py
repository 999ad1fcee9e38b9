"""Loading libclconv and declaring its C functions for ctypes.

The shared library is the one the repository's Makefile builds; it is
looked for, in this order:

1. ``CLCONV_LIBRARY``: a path, used as it is.  If it cannot be loaded that
   is an ImportError: an explicit choice is never silently replaced by
   another copy of the library.
2. ``libclconv.so.0`` or ``libclconv.so`` next to this package
   (``make python`` puts the Makefile's build there).
3. The system's search path (``LD_LIBRARY_PATH``, ld.so.cache), where
   ``make install`` puts it.
"""
import ctypes
import os

SONAMES = ("libclconv.so.0", "libclconv.so")


def _candidates():
    explicit = os.environ.get("CLCONV_LIBRARY")
    if explicit:
        return [explicit]
    here = os.path.dirname(os.path.abspath(__file__))
    local = [os.path.join(here, n) for n in SONAMES]
    return [p for p in local if os.path.exists(p)] + list(SONAMES)


def _load():
    errors = []
    for name in _candidates():
        try:
            return ctypes.CDLL(name), name
        except OSError as e:
            errors.append(str(e))
    raise ImportError("clconv: cannot load libclconv (CLCONV_LIBRARY, then next to the package, "
                      "then the system path): " + "; ".join(errors))


lib, path = _load()


# The descriptor's fields, in the header's order: the 0.2 layout up to
# struct_size, then 0.3's (asymmetric and output padding, dtype, layouts).
DESC_FIELDS_0_2 = ("n", "c", "h", "w", "k", "r", "s", "stride_h", "stride_w", "pad_h", "pad_w",
                   "dilation_h", "dilation_w", "groups", "struct_size")
DESC_FIELDS_0_3 = ("pad_asymmetric", "pad_h_end", "pad_w_end", "out_pad_h", "out_pad_w", "dtype",
                   "layout", "filter_layout")


class DescStruct(ctypes.Structure):
    """struct clconv_desc (0.3), field for field; struct_size is its sizeof."""
    _fields_ = [(f, ctypes.c_int64) for f in DESC_FIELDS_0_2 + DESC_FIELDS_0_3]


DESC_SIZE_0_2 = 15 * 8   # CLCONV_DESC_SIZE_0_2
DESC_SIZE_0_3 = 23 * 8   # CLCONV_DESC_SIZE_0_3
assert ctypes.sizeof(DescStruct) == DESC_SIZE_0_3


class EpilogueStruct(ctypes.Structure):
    """struct clconv_epilogue, field for field (C's natural alignment)."""
    _fields_ = [("struct_size", ctypes.c_int64), ("alpha", ctypes.c_float),
                ("beta", ctypes.c_float), ("activation", ctypes.c_int32),
                ("param", ctypes.c_float), ("bias", ctypes.c_void_p),
                ("bias_off", ctypes.c_size_t)]


LOG_FN = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_int, ctypes.c_char_p)

_P = ctypes.c_void_p            # handles, cl_mem and host pointers
_Z = ctypes.c_size_t            # offsets (in floats) and sizes
_I = ctypes.c_int               # enums and flags
_S = ctypes.c_char_p
_D = ctypes.POINTER(DescStruct)
_EP = ctypes.POINTER(EpilogueStruct)
_F = ctypes.c_float
_E = ctypes.POINTER(ctypes.c_void_p)  # cl_event *, clconv_ctx **
_I64P = ctypes.POINTER(ctypes.c_int64)

# name: (restype, argtypes), as host/clconv.h declares them.
_SIGNATURES = {
    "clconv_version_string": (_S, []),
    "clconv_status_name": (_S, [_I]),
    "clconv_status_string": (_S, [_I]),
    "clconv_algo_name": (_S, [_I]),
    "clconv_create_with": (_I, [_S, _E]),
    "clconv_create_from": (_I, [_P, _P, _P, _E]),
    "clconv_free": (None, [_P]),
    "clconv_cl_context": (_P, [_P]),
    "clconv_cl_device": (_P, [_P]),
    "clconv_cl_queue": (_P, [_P]),
    "clconv_device_name": (_S, [_P]),
    "clconv_last_error": (_S, [_P]),
    "clconv_last_cl_error": (ctypes.c_int32, [_P]),
    "clconv_build_log": (_S, [_P]),
    "clconv_finish": (_I, [_P]),
    "clconv_set_log": (_I, [_P, LOG_FN, _P]),
    "clconv_set_log_level": (_I, [_P, _I]),
    "clconv_desc_check": (_I, [_D]),
    "clconv_desc_string": (_I, [_D, _S, _Z]),
    "clconv_output_size": (_I, [_D, _I64P, _I64P]),
    "clconv_upsample_pad_size": (_I, [_D, _I64P, _I64P]),
    "clconv_flops": (ctypes.c_double, [_D]),
    "clconv_workspace_size": (_I, [_P, _D, _I, _I, ctypes.POINTER(_Z)]),
    "clconv_forward": (_I, [_P, _D, _I, _P, _Z, _P, _Z, _P, _Z, _E]),
    "clconv_backward_data": (_I, [_P, _D, _I, _P, _Z, _P, _Z, _P, _Z, _I, _E]),
    "clconv_backward_filter": (_I, [_P, _D, _I, _P, _Z, _P, _Z, _P, _Z, _I, _E]),
    "clconv_backward_bias": (_I, [_P, _D, _P, _Z, _P, _Z, _I, _E]),
    "clconv_upsample_pad": (_I, [_P, _D, _P, _Z, _P, _Z, _E]),
    "clconv_flip_filter": (_I, [_P, _D, _P, _Z, _P, _Z, _E]),
    "clconv_forward_host": (_I, [_P, _D, _I, _P, _P, _P]),
    "clconv_backward_data_host": (_I, [_P, _D, _I, _P, _P, _P, _I]),
    "clconv_backward_filter_host": (_I, [_P, _D, _I, _P, _P, _P, _I]),
    "clconv_backward_bias_host": (_I, [_P, _D, _P, _P, _I]),
    # 0.3 (issue 7)
    "clconv_dtype_size": (_Z, [_I]),
    "clconv_dtype_name": (_S, [_I]),
    "clconv_tensor_elems": (_I, [_D, ctypes.POINTER(_Z), ctypes.POINTER(_Z), ctypes.POINTER(_Z)]),
    "clconv_epilogue_init": (None, [_EP]),
    "clconv_epilogue_check": (_I, [_EP]),
    "clconv_forward_fused": (_I, [_P, _D, _I, _P, _Z, _P, _Z, _P, _Z, _EP, _E]),
    "clconv_activation_backward": (_I, [_P, _D, _I, _F, _P, _Z, _P, _Z, _P, _Z, _E]),
    "clconv_transposed_output_size": (_I, [_D, _I64P, _I64P]),
    "clconv_transposed_as_conv": (_I, [_D, _D]),
    "clconv_transposed_forward": (_I, [_P, _D, _I, _P, _Z, _P, _Z, _P, _Z, _P, _Z, _E]),
    "clconv_transposed_backward_data": (_I, [_P, _D, _I, _P, _Z, _P, _Z, _P, _Z, _I, _E]),
    "clconv_transposed_backward_filter": (_I, [_P, _D, _I, _P, _Z, _P, _Z, _P, _Z, _I, _E]),
    "clconv_transposed_backward_bias": (_I, [_P, _D, _P, _Z, _P, _Z, _I, _E]),
}

for _name, (_res, _args) in _SIGNATURES.items():
    try:
        _fn = getattr(lib, _name)
    except AttributeError:
        # an older libclconv (its descriptor layout differs too): refuse it whole
        lib.clconv_version_string.restype = ctypes.c_char_p
        raise ImportError("clconv: %s is libclconv %s, which lacks %s: this package needs the "
                          "0.3 library" % (path, lib.clconv_version_string().decode(), _name)) \
            from None
    _fn.restype, _fn.argtypes = _res, _args


def text(raw):
    """A C string as str ("" for NULL)."""
    return raw.decode("utf-8", "replace") if raw else ""


def _enumerate(name_of, end):
    """Names 0, 1, ... until the library's out-of-range name: the lists
    follow the library actually loaded, not a copy kept here."""
    names = []
    while len(names) < 4096:
        name = text(name_of(len(names)))
        if name == end:
            break
        names.append(name)
    return tuple(names)


STATUS_NAMES = _enumerate(lib.clconv_status_name, "CLCONV_UNKNOWN")
ALGORITHMS = _enumerate(lib.clconv_algo_name, "unknown")
# clconv_pass has no name function; its order is fixed by the header.
PASSES = ("forward", "backward_data", "backward_filter")
# The data types by the library's names ("f32", "f16", "bf16": clconv_dtype_name
# until its out-of-range "unknown"); layouts and activations have no name
# function in C: their orders are fixed by the header.
DTYPES = _enumerate(lib.clconv_dtype_name, "unknown")
LAYOUTS = ("nchw", "nhwc")
FILTER_LAYOUTS = ("kcrs", "krsc")
ACTIVATIONS = ("identity", "relu", "clipped_relu", "leaky_relu", "sigmoid", "tanh")
LOG_LEVELS = ("off", "error", "call", "debug")


class Error(RuntimeError):
    """A clconv call returned a status other than CLCONV_OK.

    Attributes: ``status`` (the number), ``name`` ("CLCONV_BAD_BUFFER"),
    ``message`` (clconv_last_error, or the status's sentence when there is
    no context), ``cl_error`` (the raw OpenCL code, 0 if none) and
    ``build_log`` (of a failed program build, "" if none).
    """

    def __init__(self, status, message="", cl_error=0, build_log=""):
        self.status = int(status)
        self.name = status_name(self.status)
        self.message = message or text(lib.clconv_status_string(self.status))
        self.cl_error = int(cl_error)
        self.build_log = build_log
        super().__init__(self._describe())

    def _describe(self):
        s = "%s: %s" % (self.name, self.message)
        if self.cl_error:
            s += " (OpenCL error %d)" % self.cl_error
        return s + ("\nbuild log:\n" + self.build_log if self.build_log else "")

    def __reduce__(self):
        # so that an Error crosses process boundaries (multiprocessing, DDP)
        return (Error, (self.status, self.message, self.cl_error, self.build_log))


def status_name(status):
    return text(lib.clconv_status_name(status))


def status_code(name):
    """The number of a status name such as "CLCONV_BAD_BUFFER"."""
    try:
        return STATUS_NAMES.index(name)
    except ValueError:
        raise ValueError("no status %r in this libclconv: %s" % (name, ", ".join(STATUS_NAMES)))


def check(status):
    """Raise Error for a status from a call that has no context."""
    if status != 0:
        raise Error(status)
