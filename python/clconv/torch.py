"""clconv as a PyTorch layer: an autograd Function, a drop-in Conv2d, convert().

* ``conv2d(x, w, bias=None, stride=1, padding=0, dilation=1, groups=1)`` is
  torch.nn.functional.conv2d computed by clconv: the forward pass, and in
  backward only the gradients autograd needs (backward-data for x,
  backward-filter for w, backward-bias for the bias).  It takes float32 CPU
  tensors (any layout: they are made contiguous) and raises TypeError for
  anything else.  Double backward is not supported.
* ``Conv2d`` is a subclass of torch.nn.Conv2d with the same constructor,
  parameters and state_dict.  It computes with clconv what clconv can run
  (padding_mode "zeros", float32 CPU tensors, numeric or "valid" padding, or
  "same" when it is symmetric) and falls back to PyTorch's own convolution
  for everything else, so converting a model never breaks it.
* ``convert(model)`` turns every plain torch.nn.Conv2d of a model into a
  clconv Conv2d in place (the module's class is swapped: the parameters, and
  so an optimizer holding them, stay the same objects).

The layer uses one clconv.Context per process, created on first use (after
a fork the child makes its own); ``set_context`` replaces it.
"""
import os
import threading

import torch
from torch.autograd.function import once_differentiable

from .context import Context
from .desc import Desc

__all__ = ["Conv2d", "conv2d", "context", "convert", "set_context"]

_lock = threading.Lock()
_default = {"pid": None, "ctx": None}


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


def _run(method, desc, role, *tensors):
    """method(desc, *arrays, out=...) on a new float32 tensor of the role's shape."""
    out = torch.empty(desc.shapes[role], dtype=torch.float32)
    method(desc, *(t.detach().numpy() for t in tensors), out=out.numpy())
    return out


class _Conv2dFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, w, bias, desc):
        cc = context()
        y = _run(cc.forward, desc, "y", x, w)
        if bias is not None:
            y += bias.detach().view(1, -1, 1, 1)
        ctx.save_for_backward(x, w)
        ctx.desc, ctx.cc = desc, cc
        return y

    @staticmethod
    @once_differentiable
    def backward(ctx, dy):
        x, w = ctx.saved_tensors
        desc, cc = ctx.desc, ctx.cc
        dy = dy.to(torch.float32).contiguous()  # autograd may hand in an expanded view
        need_x, need_w, need_b, _ = ctx.needs_input_grad
        dx = _run(cc.backward_data, desc, "dx", dy, w) if need_x else None
        dw = _run(cc.backward_filter, desc, "dw", x, dy) if need_w else None
        db = _run(cc.backward_bias, desc, "db", dy) if need_b else None
        return dx, dw, db, None


def _require_fp32_cpu(t, what):
    if not isinstance(t, torch.Tensor):
        raise TypeError("%s must be a torch.Tensor, not %s" % (what, type(t).__name__))
    if t.dtype != torch.float32 or t.device.type != "cpu":
        raise TypeError("clconv computes float32 CPU tensors; %s is %s on %s (use "
                        "torch.nn.functional.conv2d)" % (what, t.dtype, t.device))


def _pair(v):
    return tuple(v) if isinstance(v, (tuple, list)) else (v, v)


def _numeric_padding(padding, kernel, dilation):
    """Padding as an (h, w) pair, or None when clconv cannot express it:
    "same" whose total padding is odd needs one more row on one side."""
    if padding == "valid":
        return (0, 0)
    if padding != "same":
        return _pair(padding)
    total = [d * (k - 1) for k, d in zip(kernel, _pair(dilation))]
    return None if any(t % 2 for t in total) else tuple(t // 2 for t in total)


def conv2d(x, w, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """torch.nn.functional.conv2d computed by clconv (float32 CPU tensors)."""
    for t, what in ((x, "input"), (w, "weight")) + (((bias, "bias"),) if bias is not None else ()):
        _require_fp32_cpu(t, what)
    if x.dim() not in (3, 4):
        raise ValueError("input must be (N, C, H, W) or unbatched (C, H, W), not %s"
                         % (tuple(x.shape),))
    pad = _numeric_padding(padding, w.shape[2:], dilation)
    if pad is None:
        raise ValueError("padding='same' with an even dilated kernel is asymmetric; clconv pads "
                         "both sides equally")
    if x.dim() == 3:
        return conv2d(x.unsqueeze(0), w, bias, stride, pad, dilation, groups).squeeze(0)
    x, w = x.contiguous(), w.contiguous()
    desc = Desc(x.shape, w.shape, stride=stride, padding=pad, dilation=dilation, groups=groups)
    if bias is not None and tuple(bias.shape) != desc.bias_shape:
        raise ValueError("bias has shape %s, the layer needs %s" % (tuple(bias.shape),
                                                                     desc.bias_shape))
    return _Conv2dFunction.apply(x, w, bias, desc)


def _runs_on_clconv(module, x, weight, bias):
    tensors = [x, weight] + ([bias] if bias is not None else [])
    return (module.padding_mode == "zeros"
            and all(t.dtype == torch.float32 and t.device.type == "cpu" for t in tensors)
            and _numeric_padding(module.padding, module.kernel_size, module.dilation) is not None)


class Conv2d(torch.nn.Conv2d):
    """torch.nn.Conv2d computed by clconv where it can (see the module's doc)."""

    def _conv_forward(self, input, weight, bias):
        if not _runs_on_clconv(self, input, weight, bias):
            return super()._conv_forward(input, weight, bias)
        return conv2d(input, weight, bias, self.stride, self.padding, self.dilation, self.groups)


def convert(model):
    """Turn every plain torch.nn.Conv2d in model (model itself included) into
    a clconv Conv2d, in place, and return model.  Subclasses of nn.Conv2d are
    left alone: they may compute something else in forward."""
    for m in model.modules():
        if type(m) is torch.nn.Conv2d:
            m.__class__ = Conv2d
    return model
