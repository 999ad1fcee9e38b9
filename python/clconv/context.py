"""A clconv context and the passes, on numpy arrays or on OpenCL buffers."""
import collections
import ctypes
import numbers

import numpy as np

from . import _cl, _lib
from .desc import Desc, TransposedDesc

lib = _lib.lib

# How each operation maps onto the C API.  inputs/output are tensor roles
# (Desc.shapes keys) in the C call's order; host is the blocking host-array
# call where the C API has one (fp32 only: other storage types run on
# temporary buffers).  algo: the call takes a clconv_algo; accumulate: an
# accumulate flag.
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
    # 0.3: the epilogue's bias travels inside the clconv_epilogue struct
    "forward_fused": _Op("clconv_forward_fused", None, ("x", "w", "bias"), "y", True, False),
    "activation_backward": _Op("clconv_activation_backward", None, ("y", "dy"), "dz", False,
                               False),
    "transposed_forward": _Op("clconv_transposed_forward", None, ("x", "w", "bias"), "y", True,
                              False),
    "transposed_backward_data": _Op("clconv_transposed_backward_data", None, ("dy", "w"), "dx",
                                    True, True),
    "transposed_backward_filter": _Op("clconv_transposed_backward_filter", None, ("x", "dy"),
                                      "dw", True, True),
    "transposed_backward_bias": _Op("clconv_transposed_backward_bias", None, ("dy",), "db", False,
                                    True),
}

# The numpy dtype of each storage type's arrays: bf16 values are uint16
# arrays holding their bits (the upper half of the float32's).
_NP_DTYPES = {"f32": np.dtype(np.float32), "f16": np.dtype(np.float16),
              "bf16": np.dtype(np.uint16)}


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


def _is_torch(a):
    return type(a).__module__.startswith("torch") and hasattr(a, "numpy")


def _permuted(desc, role):
    """The role's storage order is NHWC (or KRSC), not its logical order."""
    filters = role in ("w", "dw", "wf")
    return len(desc.logical_shapes[role]) == 4 and \
        (desc.filter_layout == "krsc" if filters else desc.layout == "nhwc")


def _from_torch(t, desc, role):
    """A CPU tensor as a numpy view of its memory (no copy).  A tensor has
    PyTorch's logical shape, NCHW / KCRS, whatever its memory format: for
    an NHWC (KRSC) role it must be channels_last-contiguous.  bf16 as
    uint16 bits."""
    import torch
    if t.device.type != "cpu":
        raise TypeError("%s is a tensor on %s: the host calls take CPU tensors" % (role, t.device))
    t = t.detach()
    if _permuted(desc, role):
        if t.dim() != 4:
            raise ValueError("%s has shape %s, the descriptor needs %s (a channels_last tensor)"
                             % (role, tuple(t.shape), desc.logical_shapes[role]))
        t = t.permute(0, 2, 3, 1)  # NCHW -> NHWC (or KCRS -> KRSC): its memory's order
    if t.dtype == torch.bfloat16:
        return t.view(torch.int16).numpy().view(np.uint16)
    return t.numpy()


def _to_torch(a, desc, role):
    """The tensor over a new output array, in the logical shape."""
    import torch
    t = (torch.from_numpy(a.view(np.int16)).view(torch.bfloat16) if desc.dtype == "bf16"
         else torch.from_numpy(a))
    if _permuted(desc, role):
        t = t.permute(0, 3, 1, 2)  # channels_last (or its filter equivalent)
    return t


def _dense(a, shape, role, dtype=np.dtype(np.float32)):
    """a itself, if it is what C reads: a dense, aligned array of `shape`
    and the storage type's numpy dtype."""
    if not isinstance(a, np.ndarray):
        raise TypeError("%s must be a numpy.ndarray, not %s" % (role, type(a).__name__))
    if a.dtype != dtype:
        raise TypeError("%s must be %s (native byte order), not %s" % (role, dtype, a.dtype))
    if a.shape != tuple(shape):
        raise ValueError("%s has shape %s, the descriptor needs %s" % (role, a.shape, tuple(shape)))
    if not (a.flags.c_contiguous and a.flags.aligned):
        raise ValueError("%s must be C-contiguous and aligned (numpy.ascontiguousarray)" % role)
    return a


def _host_output(out, shape, inputs, dtype=np.dtype(np.float32), may_be=()):
    if out is None:
        return np.empty(shape, dtype)
    _dense(out, shape, "out", dtype)
    if not out.flags.writeable:
        raise ValueError("out is read-only")
    for role, a in inputs:
        # the library's out-of-place rule, kept for numpy arrays too
        if np.may_share_memory(out, a) and not (role in may_be and _same_memory(out, a)):
            raise ValueError("out shares memory with %s" % role)
    return out


def _same_memory(a, b):
    return (a.ctypes.data, a.nbytes) == (b.ctypes.data, b.nbytes)


def _cl_handle(obj, what):
    """An OpenCL handle from an int or a pyopencl object (its int_ptr)."""
    handle = getattr(obj, "int_ptr", obj)
    if not isinstance(handle, int) or isinstance(handle, bool) or handle <= 0:
        raise TypeError("%s must be a pyopencl object or a non-NULL handle, not %r" % (what, obj))
    return handle


def _device_operand(arg, role):
    """(cl_mem, offset in elements) from a pyopencl buffer or a (buffer, offset) pair."""
    buf, off = arg if isinstance(arg, tuple) and len(arg) == 2 else (arg, 0)
    if isinstance(buf, np.ndarray) or _is_torch(buf):
        raise TypeError("%s is a %s but other operands are OpenCL buffers"
                        % (role, "torch tensor" if _is_torch(buf) else "numpy array"))
    if not isinstance(off, int) or isinstance(off, bool) or off < 0:
        raise ValueError("%s: the offset must be a non-negative int (elements), not %r"
                         % (role, off))
    return [_cl_handle(buf, role), off]


def _event(handle):
    import pyopencl  # only device-buffer callers get here, and they hold pyopencl objects
    return pyopencl.Event.from_int_ptr(handle, retain=False)


def _real(value, what):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError("%s must be a real number, not %r" % (what, value))
    return float(value)


def epilogue(activation="identity", param=0.0, alpha=1.0, beta=0.0, bias=None, bias_off=0):
    """A clconv_epilogue struct (clconv_epilogue_init, then the fields);
    its ranges are C's to check (BAD_EPILOGUE).  bias: a cl_mem handle."""
    e = _lib.EpilogueStruct()
    lib.clconv_epilogue_init(ctypes.byref(e))
    e.activation = _enum_code(activation, _lib.ACTIVATIONS, "activation")
    e.param, e.alpha, e.beta = (_real(v, n) for v, n in ((param, "param"), (alpha, "alpha"),
                                                          (beta, "beta")))
    e.bias, e.bias_off = bias, bias_off
    return e


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
    # Host arrays (numpy arrays, or CPU torch tensors) in -> the output
    # (out, or a new array / tensor), blocking.  pyopencl buffers (or
    # (buffer, offset in elements) pairs) in and out= given -> the call is
    # enqueued and its pyopencl.Event returned.
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

    def forward_fused(self, desc, x, w, out=None, bias=None, activation="identity", param=0.0,
                      alpha=1.0, beta=0.0, algo="auto"):
        """y = act(alpha * conv(x, w) + beta * y_old + bias[k]) (clconv_forward_fused):
        activation one of clconv.ACTIVATIONS ("relu", "clipped_relu" with
        param its ceiling, "leaky_relu" with param its slope, ...), bias K
        values or None; beta != 0 reads y_old from out."""
        ep = epilogue(activation, param, alpha, beta)
        if ep.beta != 0 and out is None:
            raise ValueError("beta != 0 reads y_old from out: give out")
        return self._run("forward_fused", _as_desc(desc), (x, w, bias), out, algo,
                         reads_out=ep.beta != 0, ep=ep)

    def activation_backward(self, desc, y, dy, activation, param=0.0, out=None):
        """dz = dL/d(pre-activation) from y = act(pre) and dy = dL/dy
        (clconv_activation_backward); out may be dy itself (in place)."""
        pre = [_enum_code(activation, _lib.ACTIVATIONS, "activation"), _real(param, "param")]
        return self._run("activation_backward", desc, (y, dy), out, pre=pre, may_be=("dy",))

    def transposed_forward(self, desc, x, w, bias=None, out=None, algo="auto"):
        """y = deconv(x, w) + bias[k] (a clconv.TransposedDesc), shape desc.output_shape."""
        return self._run("transposed_forward", _as_desc(desc, TransposedDesc), (x, w, bias), out,
                         algo)

    def transposed_backward_data(self, desc, dy, w, out=None, accumulate=False, algo="auto"):
        """dx (+)= dL/dx of a transposed convolution given dy."""
        return self._run("transposed_backward_data", _as_desc(desc, TransposedDesc), (dy, w),
                         out, algo, accumulate)

    def transposed_backward_filter(self, desc, x, dy, out=None, accumulate=False, algo="auto"):
        """dw (+)= dL/dw of a transposed convolution given x and dy."""
        return self._run("transposed_backward_filter", _as_desc(desc, TransposedDesc), (x, dy),
                         out, algo, accumulate)

    def transposed_backward_bias(self, desc, dy, out=None, accumulate=False):
        """db[k] (+)= the sum of dy over n, ho, wo (K values)."""
        return self._run("transposed_backward_bias", _as_desc(desc, TransposedDesc), (dy,), out,
                         "auto", accumulate)

    def _run(self, name, desc, inputs, out, algo="auto", accumulate=False, reads_out=False,
             ep=None, pre=None, may_be=()):
        op = _OPS[name]
        desc = _as_desc(desc, TransposedDesc if name.startswith("transposed") else Desc)
        self._open()
        pre = list(pre or []) + ([_enum_code(algo, _lib.ALGORITHMS, "algo")] if op.algo else [])
        post = [1 if accumulate else 0] if op.accumulate else []
        if accumulate and out is None:
            raise ValueError("accumulate=True adds to out: give out")
        call = _Call(self, op, desc, pre, post, accumulate or reads_out, ep, may_be)
        given = [a for a in inputs if a is not None]
        if all(isinstance(a, np.ndarray) or _is_torch(a) for a in given) and not _is_device(out):
            return call.host(inputs, out)
        return call.device(inputs, out)


class _Call:
    """One call of the C API: its arguments from host arrays or device buffers."""

    def __init__(self, ctx, op, desc, pre, post, reads_out, ep, may_be):
        self.ctx, self.op, self.desc, self.pre, self.post = ctx, op, desc, pre, post
        self.reads_out, self.ep, self.may_be = reads_out, ep, may_be

    def _args(self, operands, event):
        """The C call's arguments from (cl_mem, offset) per role (None: NULL)."""
        h, d = self.ctx._handle, self.desc.ref
        roles = self.op.inputs + ("out",)
        pairs = [operands.get(r) or (None, 0) for r in roles]
        if self.ep is not None:  # the bias goes into the epilogue struct
            self.ep.bias, self.ep.bias_off = pairs.pop(roles.index("bias"))
            tail = [ctypes.byref(self.ep)]
        else:
            tail = []
        return [h, d] + self.pre + [v for p in pairs for v in p] + self.post + tail + [event]

    def host(self, inputs, out):
        desc, op = self.desc, self.op
        dtype = _NP_DTYPES.get(desc.dtype)
        torch_in = any(_is_torch(a) for a in inputs) or _is_torch(out)
        arrays = [(r, _dense(_from_torch(a, desc, r) if _is_torch(a) else a, desc.shapes[r], r,
                             dtype))
                  for r, a in zip(op.inputs, inputs) if a is not None]
        out_given = out
        out = _host_output(_from_torch(out, desc, op.output) if _is_torch(out) else out,
                           desc.shapes[op.output], arrays, dtype, self.may_be)
        ctx, h = self.ctx, self.ctx._handle
        if op.host and desc.dtype == "f32":
            ptrs = [a.ctypes.data for _, a in arrays] + [out.ctypes.data]
            ctx._check(getattr(lib, op.host)(h, desc.ref, *self.pre, *ptrs, *self.post))
        else:
            with _cl.TempBuffers(lib.clconv_cl_context(h)) as tmp:
                mems = {r: (tmp.create(a, True), 0) for r, a in arrays}
                mems["out"] = (tmp.create(out, self.reads_out), 0)
                ctx._check(getattr(lib, op.device)(*self._args(mems, None)))
                _cl.read(lib.clconv_cl_queue(h), mems["out"][0], out)
        if out_given is not None:
            return out_given
        return _to_torch(out, desc, op.output) if torch_in else out

    def device(self, inputs, out):
        if out is None:
            raise TypeError("with OpenCL buffers, give the output buffer as out=")
        roles = self.op.inputs + ("out",)
        operands = {r: tuple(_device_operand(a, r)) for r, a in zip(roles, tuple(inputs) + (out,))
                    if a is not None}
        event = ctypes.c_void_p()
        self.ctx._check(getattr(lib, self.op.device)(*self._args(operands, ctypes.byref(event))))
        return _event(event.value)


def _is_device(out):
    return out is not None and not isinstance(out, np.ndarray) and not _is_torch(out)


def _as_desc(desc, kind=Desc):
    if not isinstance(desc, kind):
        raise TypeError("desc must be a clconv.%s, not %s" % (kind.__name__, type(desc).__name__))
    return desc
