"""Random layers and the float64 PyTorch reference the tests compare against."""
import numpy as np
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
    return dict(stride=d.stride, padding=d.padding, dilation=d.dilation, groups=d.groups)


def torch_reference(d, x, w, dy, b=None):
    """y, dx, dw, db of the layer by PyTorch in float64, from the same fp32
    inputs (b: the bias, zero if None)."""
    def leaf(a):
        return torch.tensor(np.asarray(a), dtype=torch.float64, requires_grad=True)
    x64, w64 = leaf(x), leaf(w)
    b64 = leaf(np.zeros(d.bias_shape) if b is None else b)
    y = F.conv2d(x64, w64, b64, **conv_kwargs(d))
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
