"""clconv as a PyTorch layer: autograd Functions, drop-in Conv2d and
ConvTranspose2d, convert().

* ``conv2d(x, w, bias=None, stride=1, padding=0, dilation=1, groups=1)`` is
  torch.nn.functional.conv2d computed by clconv: the forward pass, and in
  backward only the gradients autograd needs (backward-data for x,
  backward-filter for w, backward-bias for the bias).  It takes CPU tensors
  of float32, float16 or bfloat16 (clconv's fp16 / bf16 storage: fp32
  arithmetic inside, each output rounded once), all of one dtype, and raises
  TypeError for anything else.  channels_last tensors run as NHWC (and a
  channels_last filter as KRSC) without a copy; as in PyTorch, the output
  (and dx) is channels_last when the input or the filter is.  Other
  layouts are made contiguous.  padding: PyTorch's forms, "same" with an
  even kernel included (the extra row and column at the bottom and right,
  as PyTorch pads), or ((top, bottom), (left, right)).  Double backward is
  not supported.
* ``conv2d_act(..., activation="relu", param=None)`` is the same with the
  activation fused into the forward's store step (clconv_forward_fused:
  y = act(conv + bias)); its backward runs clconv_activation_backward and
  then the passes on dL/d(pre-activation).  Activations: "identity",
  "relu", "relu6", "clipped_relu" (param: the ceiling), "leaky_relu" (param:
  the slope, 0.01 by default), "sigmoid", "tanh".
* ``conv_transpose2d(x, w, bias=None, stride=1, padding=0,
  output_padding=0, groups=1, dilation=1)`` is
  torch.nn.functional.conv_transpose2d: forward clconv_transposed_forward,
  the gradients clconv_transposed_backward_data / _filter / _bias; dtypes
  and layouts as conv2d's (a channels_last input gives a channels_last
  output, as PyTorch's convolution does; PyTorch 1.13's own CPU
  conv_transpose2d returns a contiguous one, with the same values).
* ``Conv2d`` and ``ConvTranspose2d`` are subclasses of torch.nn.Conv2d and
  torch.nn.ConvTranspose2d with the same constructors (Conv2d also takes
  ``activation=`` and ``activation_param=``), parameters and state_dict.
  They compute with clconv what clconv can run (padding_mode "zeros", CPU
  tensors of one of the three dtypes; ConvTranspose2d: an output padding
  below the stride) and fall back to PyTorch's own operators for
  everything else, so converting a model never breaks it.
* ``convert(model)`` turns every plain torch.nn.Conv2d and
  torch.nn.ConvTranspose2d of a model into its clconv class in place (the
  module's class is swapped: the parameters, and so an optimizer holding
  them, stay the same objects).

The layers use one clconv.Context per process, created on first use (after
a fork the child makes its own); ``set_context`` replaces it.
"""
import os
import threading

import torch
import torch.nn.functional as F
from torch.autograd.function import once_differentiable

from .context import Context
from .desc import Desc, TransposedDesc

__all__ = ["ACTIVATIONS", "Conv2d", "ConvTranspose2d", "conv2d", "conv2d_act", "conv_transpose2d",
           "context", "convert", "set_context"]

_lock = threading.Lock()
_default = {"pid": None, "ctx": None}

# torch dtype -> clconv storage type
_DTYPES = {torch.float32: "f32", torch.float16: "f16", torch.bfloat16: "bf16"}


def context():
    """The process's clconv.Context, created on first use."""
    with _lock:
        if _default["pid"] != os.getpid():
            # an OpenCL context does not survive fork: the child makes its own
            _default.update(pid=os.getpid(), ctx=Context())
        return _default["ctx"]


def set_context(ctx):
    """Make ctx (a clconv.Context) the one this process's layers use."""
    if not isinstance(ctx, Context):
        raise TypeError("set_context takes a clconv.Context, not %s" % type(ctx).__name__)
    with _lock:
        _default.update(pid=os.getpid(), ctx=ctx)


# ---- activations ---------------------------------------------------------
# name -> (clconv's activation, the parameter's default; None: required)
_ACTS = {"identity": ("identity", 0.0), "relu": ("relu", 0.0), "relu6": ("clipped_relu", 6.0),
         "clipped_relu": ("clipped_relu", None), "leaky_relu": ("leaky_relu", 0.01),
         "sigmoid": ("sigmoid", 0.0), "tanh": ("tanh", 0.0)}
ACTIVATIONS = tuple(_ACTS)


def _activation(activation, param):
    """(clconv's name, its parameter) of an activation, or (None, 0.0) for none."""
    if activation is None:
        if param is not None:
            raise ValueError("activation_param given without an activation")
        return None, 0.0
    if not isinstance(activation, str) or activation.lower() not in _ACTS:
        raise ValueError("unknown activation %r (one of %s)" % (activation, ", ".join(_ACTS)))
    name, default = _ACTS[activation.lower()]
    if param is None:
        if default is None:
            raise ValueError("activation %r needs its parameter (param=)" % activation)
        param = default
    elif activation.lower() == "relu6" and param != 6.0:
        raise ValueError("relu6's ceiling is 6; use 'clipped_relu' for another")
    return name, float(param)


def _torch_activation(y, name, param):
    """PyTorch's own activation (the drop-in layer's fall-back)."""
    if name in (None, "identity"):
        return y
    if name == "relu":
        return F.relu(y)
    if name == "clipped_relu":
        return F.hardtanh(y, 0.0, param)
    if name == "leaky_relu":
        return F.leaky_relu(y, param)
    return torch.sigmoid(y) if name == "sigmoid" else torch.tanh(y)


# ---- layouts and checks --------------------------------------------------
def _channels_last(t):
    """t is channels_last and not plain contiguous (PyTorch's suggestion)."""
    return t.dim() == 4 and t.is_contiguous(memory_format=torch.channels_last) \
        and not t.is_contiguous()


def _format(channels_last):
    return torch.channels_last if channels_last else torch.contiguous_format


def _empty(shape, dtype, channels_last):
    return torch.empty(shape, dtype=dtype, memory_format=_format(channels_last))


def _require(tensors):
    """The clconv storage type of tensors (pairs (tensor, what)), all of one dtype on the CPU."""
    for t, what in tensors:
        if not isinstance(t, torch.Tensor):
            raise TypeError("%s must be a torch.Tensor, not %s" % (what, type(t).__name__))
        if t.dtype not in _DTYPES or t.device.type != "cpu":
            raise TypeError("clconv computes float32 CPU tensors (or float16 / bfloat16 storage); "
                            "%s is %s on %s (use torch.nn.functional)" % (what, t.dtype, t.device))
    dtypes = {t.dtype for t, _ in tensors}
    if len(dtypes) != 1:
        raise TypeError("input, weight and bias must have one dtype, not %s"
                        % ", ".join(sorted(str(d) for d in dtypes)))
    return _DTYPES[dtypes.pop()]


def _layouts(x, w):
    """(NHWC?, KRSC?) and x, w in them: PyTorch's rule (channels_last when
    the input or the filter is), each without a copy when it already is."""
    nhwc = _channels_last(x) or _channels_last(w)
    krsc = _channels_last(w)
    return nhwc, krsc, x.contiguous(memory_format=_format(nhwc)), \
        w.contiguous(memory_format=_format(krsc))


def _check_bias(bias, desc):
    if bias is not None and tuple(bias.shape) != desc.bias_shape:
        raise ValueError("bias has shape %s, the layer needs %s" % (tuple(bias.shape),
                                                                     desc.bias_shape))


def _unbatched(x, call):
    """call(x) on a (C, H, W) input as a batch of one."""
    if x.dim() not in (3, 4):
        raise ValueError("input must be (N, C, H, W) or unbatched (C, H, W), not %s"
                         % (tuple(x.shape),))
    if x.dim() == 3:
        return call(x.unsqueeze(0)).squeeze(0)
    return call(x)


# ---- convolution ---------------------------------------------------------
class _Conv2dFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, w, bias, desc, act, param):
        cc = context()
        nhwc = desc.layout == "nhwc"
        y = _empty(desc.logical_shapes["y"], x.dtype, nhwc)
        if act is None and (bias is None or desc.dtype == "f32"):
            cc.forward(desc, x, w, out=y)
            if bias is not None:
                y += bias.detach().view(1, -1, 1, 1)
        else:  # one rounding of conv + bias (and the activation) into fp16 / bf16
            cc.forward_fused(desc, x, w, out=y, bias=bias, activation=act or "identity",
                             param=param)
        keep_y = act not in (None, "identity")
        ctx.save_for_backward(x, w, y if keep_y else None)
        ctx.desc, ctx.cc, ctx.act, ctx.param = desc, cc, act if keep_y else None, param
        return y

    @staticmethod
    @once_differentiable
    def backward(ctx, dy):
        x, w, y = ctx.saved_tensors
        desc, cc = ctx.desc, ctx.cc
        nhwc, krsc = desc.layout == "nhwc", desc.filter_layout == "krsc"
        # autograd may hand in an expanded view, or another layout
        dy = dy.to(x.dtype).contiguous(memory_format=_format(nhwc))
        if ctx.act is not None:
            dy = cc.activation_backward(desc, y, dy, ctx.act, ctx.param,
                                        out=_empty(dy.shape, dy.dtype, nhwc))
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        dx = dw = db = None
        if need_x:
            dx = cc.backward_data(desc, dy, w, out=_empty(x.shape, x.dtype, nhwc))
        if need_w:
            dw = cc.backward_filter(desc, x, dy, out=_empty(w.shape, w.dtype, krsc))
        if need_b:
            db = cc.backward_bias(desc, dy, out=torch.empty(desc.bias_shape, dtype=x.dtype))
        return dx, dw, db, None, None, None


def _conv(x, w, bias, stride, padding, dilation, groups, act, param):
    tensors = ((x, "input"), (w, "weight")) + (((bias, "bias"),) if bias is not None else ())
    dtype = _require(tensors)
    if w.dim() != 4:
        raise ValueError("weight must be (K, C/groups, R, S), not %s" % (tuple(w.shape),))

    def batched(x):
        nhwc, krsc, x4, w4 = _layouts(x, w)
        desc = Desc(x4.shape, w4.shape, stride=stride, padding=padding, dilation=dilation,
                    groups=groups, dtype=dtype, layout="nhwc" if nhwc else "nchw",
                    filter_layout="krsc" if krsc else "kcrs")
        _check_bias(bias, desc)
        return _Conv2dFunction.apply(x4, w4, bias, desc, act, param)

    return _unbatched(x, batched)


def conv2d(x, w, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """torch.nn.functional.conv2d computed by clconv (float32, float16 or
    bfloat16 CPU tensors)."""
    return _conv(x, w, bias, stride, padding, dilation, groups, None, 0.0)


def conv2d_act(x, w, bias=None, stride=1, padding=0, dilation=1, groups=1, activation="relu",
               param=None):
    """act(conv2d(x, w, bias, ...)) with the activation fused into clconv's
    forward, and its gradient through clconv_activation_backward."""
    act, param = _activation(activation, param)
    return _conv(x, w, bias, stride, padding, dilation, groups, act, param)


def _runs_on_clconv(module, tensors):
    return (module.padding_mode == "zeros"
            and all(t.dtype in _DTYPES and t.device.type == "cpu" for t in tensors)
            and len({t.dtype for t in tensors}) == 1)


class Conv2d(torch.nn.Conv2d):
    """torch.nn.Conv2d computed by clconv where it can (see the module's doc);
    ``activation=`` (one of ACTIVATIONS) fuses an activation after it."""

    activation, activation_param = None, 0.0  # what a converted nn.Conv2d has

    def __init__(self, *args, activation=None, activation_param=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.activation, self.activation_param = _activation(activation, activation_param)

    def _conv_forward(self, input, weight, bias):
        tensors = [input, weight] + ([bias] if bias is not None else [])
        if not _runs_on_clconv(self, tensors):
            return super()._conv_forward(input, weight, bias)
        return _conv(input, weight, bias, self.stride, self.padding, self.dilation, self.groups,
                     None, 0.0)

    def forward(self, input):
        if self.activation is None:
            return super().forward(input)
        act, param, bias = self.activation, self.activation_param, self.bias
        tensors = [input, self.weight] + ([bias] if bias is not None else [])
        if not _runs_on_clconv(self, tensors):
            return _torch_activation(super()._conv_forward(input, self.weight, bias), act, param)
        return _conv(input, self.weight, bias, self.stride, self.padding, self.dilation,
                     self.groups, act, param)

    def extra_repr(self):
        s = super().extra_repr()
        if self.activation is not None:
            s += ", activation=%s" % self.activation
            if self.activation in ("clipped_relu", "leaky_relu"):
                s += ", activation_param=%g" % self.activation_param
        return s


# ---- transposed convolution ---------------------------------------------
class _ConvTranspose2dFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, w, bias, desc):
        cc = context()
        y = _empty(desc.logical_shapes["y"], x.dtype, desc.layout == "nhwc")
        cc.transposed_forward(desc, x, w, bias=bias, out=y)
        ctx.save_for_backward(x, w)
        ctx.desc, ctx.cc = desc, cc
        return y

    @staticmethod
    @once_differentiable
    def backward(ctx, dy):
        x, w = ctx.saved_tensors
        desc, cc = ctx.desc, ctx.cc
        nhwc, krsc = desc.layout == "nhwc", desc.filter_layout == "krsc"
        dy = dy.to(x.dtype).contiguous(memory_format=_format(nhwc))
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        dx = dw = db = None
        if need_x:
            dx = cc.transposed_backward_data(desc, dy, w, out=_empty(x.shape, x.dtype, nhwc))
        if need_w:
            dw = cc.transposed_backward_filter(desc, x, dy, out=_empty(w.shape, w.dtype, krsc))
        if need_b:
            db = cc.transposed_backward_bias(desc, dy,
                                             out=torch.empty(desc.bias_shape, dtype=x.dtype))
        return dx, dw, db, None


def conv_transpose2d(x, w, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """torch.nn.functional.conv_transpose2d computed by clconv (its argument
    order: groups before dilation; the filter is C_in x C_out/groups x R x S)."""
    tensors = ((x, "input"), (w, "weight")) + (((bias, "bias"),) if bias is not None else ())
    dtype = _require(tensors)
    if w.dim() != 4:
        raise ValueError("weight must be (C_in, C_out/groups, R, S), not %s" % (tuple(w.shape),))

    def batched(x):
        nhwc, krsc, x4, w4 = _layouts(x, w)
        desc = TransposedDesc(x4.shape, w4.shape, stride=stride, padding=padding,
                              output_padding=output_padding, dilation=dilation, groups=groups,
                              dtype=dtype, layout="nhwc" if nhwc else "nchw",
                              filter_layout="krsc" if krsc else "kcrs")
        _check_bias(bias, desc)
        return _ConvTranspose2dFunction.apply(x4, w4, bias, desc)

    return _unbatched(x, batched)


class ConvTranspose2d(torch.nn.ConvTranspose2d):
    """torch.nn.ConvTranspose2d computed by clconv where it can (see the module's doc)."""

    def forward(self, input, output_size=None):
        if self.padding_mode != "zeros":
            raise ValueError("Only `zeros` padding mode is supported for ConvTranspose2d")
        output_padding = self._output_padding(input, output_size, self.stride, self.padding,
                                              self.kernel_size, 2, self.dilation)
        bias = self.bias
        tensors = [input, self.weight] + ([bias] if bias is not None else [])
        # PyTorch allows an output padding below the stride or the dilation; clconv the stride
        if not (_runs_on_clconv(self, tensors)
                and all(o < s for o, s in zip(output_padding, self.stride))):
            return F.conv_transpose2d(input, self.weight, bias, self.stride, self.padding,
                                      output_padding, self.groups, self.dilation)
        return conv_transpose2d(input, self.weight, bias, self.stride, self.padding,
                                tuple(output_padding), self.groups, self.dilation)


_SWAPS = {torch.nn.Conv2d: Conv2d, torch.nn.ConvTranspose2d: ConvTranspose2d}


def convert(model):
    """Turn every plain torch.nn.Conv2d and torch.nn.ConvTranspose2d in model
    (model itself included) into its clconv class, in place, and return
    model.  Subclasses are left alone: they may compute something else in
    forward."""
    for m in model.modules():
        swap = _SWAPS.get(type(m))
        if swap is not None:
            m.__class__ = swap
    return model
