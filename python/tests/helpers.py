"""Random layers and the float64 PyTorch reference the tests compare against."""
import contextlib
import re

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import clconv

TOL = 1e-5  # norm-wise relative error of clconv's fp32 results, as the C suite's


def rel_err(out, ref):
    """||out - ref|| / ||ref|| in float64; a non-finite out is infinitely wrong."""
    out = np.asarray(out, np.float64)
    ref = np.asarray(ref, np.float64)
    if not np.all(np.isfinite(out)):
        return np.inf
    den = np.linalg.norm(ref)
    return np.linalg.norm(out - ref) / (den if den > 0 else 1.0)


def uniform(rng, shape):
    """float32 values in [-1, 1)."""
    return rng.uniform(-1, 1, size=shape).astype(np.float32)


def poison(shape):
    return np.full(shape, np.nan, np.float32)


def layer(rng, n, c, h, w, k, r, s, **conv):
    """A Desc and fresh random x, w, dy for it."""
    d = clconv.Desc((n, c, h, w), (k, c // conv.get("groups", 1), r, s), **conv)
    return d, *(uniform(rng, d.shapes[r]) for r in ("x", "w", "y"))


def conv_kwargs(d):
    """F.conv2d's keywords of a descriptor (asymmetric padding: see padded)."""
    return dict(stride=d.stride, padding=0 if d.asymmetric else d.padding, dilation=d.dilation,
                groups=d.groups)


def padded(d, x):
    """x with the descriptor's asymmetric padding applied (F.pad), else x."""
    if not d.asymmetric:
        return x
    top, bottom, left, right = d.pads
    return F.pad(x, (left, right, top, bottom))


def torch_reference(d, x, w, dy, b=None):
    """y, dx, dw, db of the layer by PyTorch in float64, from the same
    inputs (fp32, or the float64 values of rounded ones; NCHW / KCRS
    whatever the descriptor's layouts; b: the bias, zero if None)."""
    def leaf(a):
        return torch.tensor(np.asarray(a), dtype=torch.float64, requires_grad=True)
    x64, w64 = leaf(x), leaf(w)
    b64 = leaf(np.zeros(d.bias_shape) if b is None else b)
    y = F.conv2d(padded(d, x64), w64, b64, **conv_kwargs(d))
    y.backward(torch.tensor(np.asarray(dy), dtype=torch.float64))
    return {"y": y.detach().numpy(), "dx": x64.grad.numpy(), "dw": w64.grad.numpy(),
            "db": b64.grad.numpy()}


def upsample_pad_definition(d, dy):
    """The header's definition: out[y][x] = dy[(y-T)/s][(x-L)/s] where that lands in dy."""
    (r, s), (sh, sw), (ph, pw), (dh, dw) = d.weight_shape[2:], d.stride, d.padding, d.dilation
    top, left = (r - 1) * dh - ph, (s - 1) * dw - pw
    out = np.zeros(d.upsample_shape, np.float32)
    for p in range(dy.shape[2]):
        for q in range(dy.shape[3]):
            yy, xx = top + p * sh, left + q * sw
            if 0 <= yy < out.shape[2] and 0 <= xx < out.shape[3]:
                out[:, :, yy, xx] = dy[:, :, p, q]
    return out


def flip_filter_definition(d, w):
    """wf[c][kl] = w[g*K/G + kl][c - g*C/G] turned 180 degrees, for c in group g."""
    g = d.groups
    k, cg = w.shape[:2]
    blocks = w[:, :, ::-1, ::-1].reshape(g, k // g, cg, *w.shape[2:]).transpose(0, 2, 1, 3, 4)
    return blocks.reshape(d.flipped_shape)


class CallLog:
    """The library's log lines of one context, at the "call" level: what
    reached the C library."""

    def __init__(self, ctx):
        self.lines = []
        ctx.set_log(lambda level, msg: self.lines.append(msg), "call")

    def calls(self, direction=None):
        return [l for l in self.lines if direction is None or ("--dir=%s " % direction) in l]

    def forwards(self):
        """The convolution forward calls, plain or fused (--dir=fwd, fwd_b
        with a bias; --attr-post-ops an activation), not transposed."""
        return [l for l in self.lines if re.search(r" --dir=fwd(_b)? ", l) and "--deconv" not in l]

    def deconv(self):
        """The directions of the transposed-convolution calls (--deconv), in order."""
        return [re.search(r"--dir=(\w+)", l).group(1) for l in self.lines if "--deconv" in l]


# ---- 0.3: storage types, layouts, and NOT_SUPPORTED ----------------------
# Norm-wise relative error allowed per storage type: fp32's, plus the
# storage's rounding of each output (half an ulp: 2^-11 for fp16's 11-bit
# significand, 2^-8 for bf16's 8-bit one).
TOLS = {"f32": TOL, "f16": TOL + 2.0**-11, "bf16": TOL + 2.0**-8}
TORCH_DTYPES = {"f32": torch.float32, "f16": torch.float16, "bf16": torch.bfloat16}


def stored(a, dtype):
    """float32 values rounded to the storage type (PyTorch's round to
    nearest even), as the arrays the numpy calls take: float32, float16, or
    uint16 holding bfloat16 bits."""
    t = torch.from_numpy(np.ascontiguousarray(a, np.float32)).to(TORCH_DTYPES[dtype])
    return t.view(torch.int16).numpy().view(np.uint16) if dtype == "bf16" else t.numpy()


def values(a, dtype):
    """The float64 values of a stored array (bf16: its bits widened to float32)."""
    a = np.asarray(a)
    if dtype == "bf16":
        return (a.astype(np.uint32) << 16).view(np.float32).astype(np.float64)
    return a.astype(np.float64)


def poison_as(shape, dtype):
    """NaN in the storage type."""
    if dtype == "bf16":
        return np.full(shape, 0x7FC0, np.uint16)
    return np.full(shape, np.nan, np.float16 if dtype == "f16" else np.float32)


def to_nhwc(a):
    """An NCHW (or KCRS) array in NHWC (KRSC) order, dense."""
    return np.ascontiguousarray(np.asarray(a).transpose(0, 2, 3, 1))


def from_nhwc(a):
    return np.ascontiguousarray(np.asarray(a).transpose(0, 3, 1, 2))


@contextlib.contextmanager
def unless_not_supported(what):
    """Skip the test when, and only when, the library answers
    CLCONV_NOT_SUPPORTED (a feature whose kernels have not landed yet);
    every other error fails it."""
    try:
        yield
    except clconv.Error as e:
        if e.name == "CLCONV_NOT_SUPPORTED":
            pytest.skip("NOT_SUPPORTED: %s: %s" % (what, e.message))
        raise


def in_domain(algo, d):
    """Whether a named algorithm runs the layer by its documented domain
    (host/clconv.h, clconv_algo); outside it the algorithm answers
    CLCONV_NOT_SUPPORTED by design.  A transposed layer is judged by the
    convolution whose passes it runs (TransposedDesc.as_conv)."""
    if isinstance(d, clconv.TransposedDesc):
        d = d.as_conv()
    if algo == "winograd":  # F(2x2,3x3): 3x3 stride-1 dilation-1 one-group layers only
        return (tuple(d.logical_shapes["w"][2:]) == (3, 3) and d.stride == (1, 1)
                and d.dilation == (1, 1) and d.groups == 1)
    return True


def refuses_outside_domain(algo, d, call, out):
    """For a layer outside the algorithm's domain: call() must raise
    CLCONV_NOT_SUPPORTED naming the algorithm and leave out (NaN-poisoned)
    untouched; returns True then (the test has nothing else to compare)."""
    if in_domain(algo, d):
        return False
    with pytest.raises(clconv.Error) as e:
        call()
    assert e.value.name == "CLCONV_NOT_SUPPORTED" and algo in e.value.message, e.value
    assert np.isnan(values(out, d.dtype)).all()
    return True
