"""A clconv context and the passes, on numpy arrays or on OpenCL buffers."""
import collections
import ctypes

import numpy as np

from . import _cl, _lib
from .desc import Desc

lib = _lib.lib

# How each operation maps onto the C API.  inputs/output are tensor roles
# (Desc.shapes keys) in the C call's order; host is the blocking host-array
# call where the C API has one.
_Op = collections.namedtuple("_Op", "device host inputs output algo accumulate")
_OPS = {
    "forward": _Op("clconv_forward", "clconv_forward_host", ("x", "w"), "y", True, False),
    "backward_data": _Op("clconv_backward_data", "clconv_backward_data_host", ("dy", "w"), "dx",
                         True, True),
    "backward_filter": _Op("clconv_backward_filter", "clconv_backward_filter_host", ("x", "dy"),
                           "dw", True, True),
    "backward_bias": _Op("clconv_backward_bias", "clconv_backward_bias_host", ("dy",), "db", False,
                         True),
    "upsample_pad": _Op("clconv_upsample_pad", None, ("dy",), "up", False, False),
    "flip_filter": _Op("clconv_flip_filter", None, ("w",), "wf", False, False),
}


def _enum_code(value, names, what):
    """A name from `names` (any case), or an int left for C to judge."""
    if isinstance(value, str):
        try:
            return names.index(value.lower())
        except ValueError:
            raise ValueError("unknown %s %r (one of %s)"
                             % (what, value, ", ".join(names))) from None
    if isinstance(value, int) and not isinstance(value, bool) and -2**31 <= value < 2**31:
        return value
    raise TypeError("%s must be one of %s or an int, not %r" % (what, ", ".join(names), value))


def _dense(a, shape, role):
    """a itself, if it is what C reads: a dense, aligned float32 array of `shape`."""
    if not isinstance(a, np.ndarray):
        raise TypeError("%s must be a numpy.ndarray, not %s" % (role, type(a).__name__))
    if a.dtype != np.float32:
        raise TypeError("%s must be float32 (native byte order), not %s" % (role, a.dtype))
    if a.shape != tuple(shape):
        raise ValueError("%s has shape %s, the descriptor needs %s" % (role, a.shape, tuple(shape)))
    if not (a.flags.c_contiguous and a.flags.aligned):
        raise ValueError("%s must be C-contiguous and aligned (numpy.ascontiguousarray)" % role)
    return a


def _host_output(out, shape, inputs):
    if out is None:
        return np.empty(shape, np.float32)
    _dense(out, shape, "out")
    if not out.flags.writeable:
        raise ValueError("out is read-only")
    for role, a in inputs:
        # the library's out-of-place rule, kept for numpy arrays too
        if np.may_share_memory(out, a):
            raise ValueError("out shares memory with %s" % role)
    return out


def _cl_handle(obj, what):
    """An OpenCL handle from an int or a pyopencl object (its int_ptr)."""
    handle = getattr(obj, "int_ptr", obj)
    if not isinstance(handle, int) or isinstance(handle, bool) or handle <= 0:
        raise TypeError("%s must be a pyopencl object or a non-NULL handle, not %r" % (what, obj))
    return handle


def _device_operand(arg, role):
    """(cl_mem, offset in floats) from a pyopencl buffer or a (buffer, offset) pair."""
    buf, off = arg if isinstance(arg, tuple) and len(arg) == 2 else (arg, 0)
    if isinstance(buf, np.ndarray):
        raise TypeError("%s is a numpy array but other operands are OpenCL buffers" % role)
    if not isinstance(off, int) or isinstance(off, bool) or off < 0:
        raise ValueError("%s: the offset must be a non-negative int (floats), not %r" % (role, off))
    return [_cl_handle(buf, role), off]


def _event(handle):
    import pyopencl  # only device-buffer callers get here, and they hold pyopencl objects
    return pyopencl.Event.from_int_ptr(handle, retain=False)


class Context:
    """A clconv context: a device, its in-order queue, compiled programs.

    ``Context()`` picks the device as clconv_create does (CLCONV_DEVICE, else
    the first GPU, else the first CPU); ``Context("pocl")`` takes the
    selector syntax of clconv_create_with.  ``Context.wrap(context, device,
    queue)`` wraps your own OpenCL objects (pyopencl ones or raw handles).
    Calls on one context may come from several threads (the C library
    serialises them).
    """

    def __init__(self, selector=None):
        if selector is not None and not isinstance(selector, str):
            raise TypeError("selector must be a str or None, not %r" % (selector,))
        self._make(lib.clconv_create_with, selector.encode() if selector else None)

    @classmethod
    def wrap(cls, context, device, queue):
        """Wrap a cl_context, cl_device_id and in-order cl_command_queue
        (clconv_create_from; the library retains them)."""
        self = cls.__new__(cls)
        self._make(lib.clconv_create_from, _cl_handle(context, "context"),
                   _cl_handle(device, "device"), _cl_handle(queue, "queue"))
        return self

    def _make(self, create, *args):
        self._handle = None
        self._log_fn, self._log_errors = None, []
        out = ctypes.c_void_p()
        _lib.check(create(*args, ctypes.byref(out)))
        self._handle = out.value

    # ---- lifetime --------------------------------------------------------
    def close(self):
        """Free the context now (it is freed on garbage collection otherwise)."""
        handle, self._handle = getattr(self, "_handle", None), None
        if handle and lib is not None:  # at interpreter exit the module may be torn down
            lib.clconv_free(handle)

    __del__ = close

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _open(self):
        if not self._handle:
            raise ValueError("the clconv context is closed")
        return self._handle

    # ---- errors and diagnostics ------------------------------------------
    def _check(self, status):
        """Raise the context's Error for a failed call, or an exception the
        log callback raised during it (kept until the C call returned)."""
        raised, self._log_errors[:] = list(self._log_errors), []
        if status != 0:
            h = self._handle
            raise _lib.Error(status, _lib.text(lib.clconv_last_error(h)),
                             lib.clconv_last_cl_error(h), _lib.text(lib.clconv_build_log(h)))
        if raised:
            raise raised[0]

    def set_log(self, fn, level=None):
        """Deliver the library's log lines to fn(level, message), or to
        nobody when fn is None.  level: "off", "error", "call", "debug" (or
        0-3); "call" logs each call as the clconv-bench line reproducing it.
        An exception raised by fn is raised by the call that logged."""
        h = self._open()
        if fn is None:
            self._log_fn = None
            self._check(lib.clconv_set_log(h, _lib.LOG_FN(), None))
        else:
            errors = self._log_errors  # no reference to self: no cycle

            def bridge(_user, lvl, msg):
                try:
                    fn(lvl, _lib.text(msg))
                except BaseException as e:  # never across the C frames
                    errors.append(e)

            self._log_fn = _lib.LOG_FN(bridge)
            self._check(lib.clconv_set_log(h, self._log_fn, None))
        if level is not None:
            self._check(lib.clconv_set_log_level(h, _enum_code(level, _lib.LOG_LEVELS, "level")))

    # ---- properties ------------------------------------------------------
    device_name = property(lambda self: _lib.text(lib.clconv_device_name(self._open())))
    cl_context = property(lambda self: lib.clconv_cl_context(self._open()))
    cl_device = property(lambda self: lib.clconv_cl_device(self._open()))
    cl_queue = property(lambda self: lib.clconv_cl_queue(self._open()))

    def __repr__(self):
        return "clconv.Context(%r)" % (self.device_name if self._handle else "closed")

    def finish(self):
        """Wait for everything enqueued on the context's queue."""
        self._check(lib.clconv_finish(self._open()))

    def workspace_size(self, desc, pass_="forward", algo="auto"):
        """Bytes of scratch memory the pass needs with the algorithm."""
        size = ctypes.c_size_t()
        self._check(lib.clconv_workspace_size(
            self._open(), _as_desc(desc).ref, _enum_code(pass_, _lib.PASSES, "pass"),
            _enum_code(algo, _lib.ALGORITHMS, "algo"), ctypes.byref(size)))
        return size.value

    # ---- the passes and primitives ----------------------------------------
    def forward(self, desc, x, w, out=None, algo="auto"):
        """y = conv(x, w), shape desc.output_shape."""
        return self._run("forward", desc, (x, w), out, algo)

    def backward_data(self, desc, dy, w, out=None, accumulate=False, algo="auto"):
        """dx (+)= dL/dx given dy, shape desc.input_shape."""
        return self._run("backward_data", desc, (dy, w), out, algo, accumulate)

    def backward_filter(self, desc, x, dy, out=None, accumulate=False, algo="auto"):
        """dw (+)= dL/dw given x and dy, shape desc.weight_shape."""
        return self._run("backward_filter", desc, (x, dy), out, algo, accumulate)

    def backward_bias(self, desc, dy, out=None, accumulate=False):
        """db[k] (+)= the sum of dy over n, p, q; shape (K,)."""
        return self._run("backward_bias", desc, (dy,), out, "auto", accumulate)

    def upsample_pad(self, desc, dy, out=None):
        """dy dilated by the stride and padded for backward-data, shape desc.upsample_shape."""
        return self._run("upsample_pad", desc, (dy,), out)

    def flip_filter(self, desc, w, out=None):
        """The filter turned 180 degrees with K and C swapped, shape desc.flipped_shape."""
        return self._run("flip_filter", desc, (w,), out)

    def _run(self, name, desc, inputs, out, algo="auto", accumulate=False):
        """Numpy arrays in -> the output array (out, or a new one), blocking.
        pyopencl buffers (or (buffer, offset in floats) pairs) in and out=
        given -> the call is enqueued and its pyopencl.Event returned."""
        op, desc = _OPS[name], _as_desc(desc)
        self._open()
        pre = [_enum_code(algo, _lib.ALGORITHMS, "algo")] if op.algo else []
        post = [1 if accumulate else 0] if op.accumulate else []
        if accumulate and out is None:
            raise ValueError("accumulate=True adds to out: give out")
        if all(isinstance(a, np.ndarray) for a in inputs) and not _is_device(out):
            return self._run_host(op, desc, inputs, out, pre, post)
        return self._run_device(op, desc, inputs, out, pre, post)

    def _c_args(self, desc, pre, operands, post):
        return [self._handle, desc.ref] + pre + operands + post

    def _run_host(self, op, desc, inputs, out, pre, post):
        arrays = [(r, _dense(a, desc.shapes[r], r)) for r, a in zip(op.inputs, inputs)]
        out = _host_output(out, desc.shapes[op.output], arrays)
        if op.host:
            ptrs = [a.ctypes.data for _, a in arrays] + [out.ctypes.data]
            self._check(getattr(lib, op.host)(*self._c_args(desc, pre, ptrs, post)))
            return out
        with _cl.TempBuffers(lib.clconv_cl_context(self._handle)) as tmp:
            mems = [tmp.create(a, True) for _, a in arrays] + [tmp.create(out, False)]
            operands = [v for m in mems for v in (m, 0)]
            self._check(getattr(lib, op.device)(*self._c_args(desc, pre, operands, post), None))
            _cl.read(lib.clconv_cl_queue(self._handle), mems[-1], out)
        return out

    def _run_device(self, op, desc, inputs, out, pre, post):
        if out is None:
            raise TypeError("with OpenCL buffers, give the output buffer as out=")
        roles = op.inputs + ("out",)
        operands = [v for r, a in zip(roles, tuple(inputs) + (out,)) for v in _device_operand(a, r)]
        event = ctypes.c_void_p()
        self._check(getattr(lib, op.device)(*self._c_args(desc, pre, operands, post),
                                            ctypes.byref(event)))
        return _event(event.value)


def _is_device(out):
    return out is not None and not isinstance(out, np.ndarray)


def _as_desc(desc):
    if not isinstance(desc, Desc):
        raise TypeError("desc must be a clconv.Desc, not %s" % type(desc).__name__)
    return desc
