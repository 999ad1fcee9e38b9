"""Transposed convolution (PyTorch's ConvTranspose2d): TransposedDesc, the
four ctx.transposed_* calls on numpy arrays, clconv.torch.conv_transpose2d
and the drop-in ConvTranspose2d, against torch's conv_transpose2d autograd
in float64 (forward and every gradient)."""
import copy

import numpy as np
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

import clconv
import clconv.torch as ct
from helpers import (TOL, TOLS, TORCH_DTYPES, CallLog, poison, refuses_outside_domain, rel_err,
                     uniform, unless_not_supported)

# input (N, C, H, W), filter (C, K/groups, R, S), ConvTranspose2d's keywords
SWEEP = [
    ((2, 4, 5, 5), (4, 3, 3, 3), dict(stride=2, padding=1, output_padding=1)),
    ((1, 3, 4, 6), (3, 2, 2, 3), dict(stride=(2, 3), padding=(0, 1), output_padding=(1, 2))),
    ((2, 6, 5, 4), (6, 2, 3, 3), dict(stride=2, padding=1, groups=3)),
    ((1, 4, 6, 5), (4, 2, 3, 2), dict(dilation=(2, 1), padding=(1, 0), groups=2)),
    ((2, 5, 3, 3), (5, 4, 1, 1), dict()),                                  # 1x1
    ((1, 2, 4, 4), (2, 3, 4, 4), dict(stride=3, padding=2, output_padding=2, dilation=2)),
]
IDS = [str(i) for i in range(len(SWEEP))]


def reference(xs, ws, conv, x, w, b, dy):
    """y, dx, dw, db of F.conv_transpose2d by PyTorch's autograd in float64."""
    x64, w64, b64 = (torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in (x, w, b))
    y = F.conv_transpose2d(x64, w64, b64, **conv)
    if dy is None:
        return y.detach().numpy()
    y.backward(torch.tensor(dy, dtype=torch.float64))
    return {"y": y.detach().numpy(), "dx": x64.grad.numpy(), "dw": w64.grad.numpy(),
            "db": b64.grad.numpy()}


def desc_of(xs, ws, conv, **extra):
    return clconv.TransposedDesc(xs, ws, **conv, **extra)


@pytest.mark.parametrize("xs,ws,conv", SWEEP, ids=IDS)
def test_output_shape_is_pytorchs(xs, ws, conv):
    d = desc_of(xs, ws, conv)
    y = F.conv_transpose2d(torch.zeros(xs), torch.zeros(ws), **conv)
    assert d.output_shape == tuple(y.shape) and d.bias_shape == (y.shape[1],)
    op = conv.get("output_padding", 0)
    assert d.output_padding == (op if isinstance(op, tuple) else (op, op))
    # the convolution it is the backward-data of: y's shape to x's
    c = d.as_conv()
    assert isinstance(c, clconv.Desc)
    assert c.input_shape == d.output_shape and c.output_shape == d.input_shape
    assert c.weight_shape == d.weight_shape  # the same tensor, read with the roles swapped


@pytest.mark.parametrize("xs,ws,conv", SWEEP, ids=IDS)
def test_passes_match_torch(ctx, rng, xs, ws, conv):
    d = desc_of(xs, ws, conv)
    x, w, b, dy = (uniform(rng, d.shapes[r]) for r in ("x", "w", "db", "y"))
    ref = reference(xs, ws, conv, x, w, b, dy)
    with unless_not_supported("transposed convolution"):
        got = {"y": ctx.transposed_forward(d, x, w, bias=b, out=poison(d.output_shape)),
               "dx": ctx.transposed_backward_data(d, dy, w, out=poison(d.input_shape)),
               "dw": ctx.transposed_backward_filter(d, x, dy, out=poison(d.weight_shape)),
               "db": ctx.transposed_backward_bias(d, dy, out=poison(d.bias_shape))}
        no_bias = ctx.transposed_forward(d, x, w)
    for role, value in got.items():
        assert rel_err(value, ref[role]) <= TOL, (role, str(d))
    assert rel_err(no_bias, reference(xs, ws, conv, x, w, np.zeros_like(b), None)) <= TOL


# strided with output padding; dilated and grouped; 3x3 stride 1 (every domain)
ALGO_LAYERS = [SWEEP[0], SWEEP[3], ((2, 4, 5, 5), (4, 3, 3, 3), dict(padding=1))]


@pytest.mark.parametrize("xs,ws,conv", ALGO_LAYERS, ids=["strided", "dilated", "dense"])
@pytest.mark.parametrize("algo", clconv.ALGORITHMS)
def test_every_algorithm_and_accumulate(ctx, rng, algo, xs, ws, conv):
    d = desc_of(xs, ws, conv)
    x, w, b, dy = (uniform(rng, d.shapes[r]) for r in ("x", "w", "db", "y"))
    y = poison(d.output_shape)
    if refuses_outside_domain(algo, d, lambda: ctx.transposed_forward(d, x, w, bias=b, out=y,
                                                                      algo=algo), y):
        return
    ref = reference(xs, ws, conv, x, w, b, dy)
    before = {r: uniform(rng, d.shapes[r]) for r in ("dx", "dw", "db")}
    out = {r: a.copy() for r, a in before.items()}
    with unless_not_supported("transposed convolution, %s" % algo):
        y = ctx.transposed_forward(d, x, w, bias=b, algo=algo)
        ctx.transposed_backward_data(d, dy, w, out=out["dx"], accumulate=True, algo=algo)
        ctx.transposed_backward_filter(d, x, dy, out=out["dw"], accumulate=True, algo=algo)
        ctx.transposed_backward_bias(d, dy, out=out["db"], accumulate=True)
    assert rel_err(y, ref["y"]) <= TOL
    for role in before:
        assert rel_err(out[role], before[role].astype(np.float64) + ref[role]) <= TOL, role


def test_descriptor_refusals(rng):
    # output padding must be below the stride (PyTorch also allows below the dilation)
    with pytest.raises(clconv.Error, match="CLCONV_BAD_PADDING"):
        clconv.TransposedDesc((1, 2, 4, 4), (2, 3, 3, 3), stride=2, output_padding=2)
    with pytest.raises(clconv.Error, match="CLCONV_BAD_PADDING"):
        clconv.TransposedDesc((1, 2, 4, 4), (2, 3, 3, 3), output_padding=1)
    with pytest.raises(ValueError, match="dimension 0"):
        clconv.TransposedDesc((1, 2, 4, 4), (3, 3, 3, 3))
    with pytest.raises(ValueError):
        clconv.TransposedDesc((1, 2, 4, 4), (2, 3, 3, 3), padding="same")
    with pytest.raises(clconv.Error, match="CLCONV_EMPTY_OUTPUT"):
        clconv.TransposedDesc((1, 2, 1, 1), (2, 3, 1, 1), padding=1)
    with clconv.Context() as ctx:
        log = CallLog(ctx)
        d = clconv.TransposedDesc((1, 2, 4, 4), (2, 3, 3, 3))
        x, w = uniform(rng, d.input_shape), uniform(rng, d.weight_shape)
        with pytest.raises(TypeError, match="TransposedDesc"):
            ctx.transposed_forward(clconv.Desc((1, 2, 4, 4), (2, 2, 3, 3)), x, w)
        with pytest.raises(TypeError, match="Desc"):
            ctx.forward(d, x, w)
        with pytest.raises(ValueError, match="bias"):
            ctx.transposed_forward(d, x, w, bias=uniform(rng, (2,)))
        assert log.calls() == [] and log.lines == []


# ---- clconv.torch ----------------------------------------------------------
@pytest.mark.parametrize("xs,ws,conv", SWEEP, ids=IDS)
def test_conv_transpose2d_matches_torch(rng, xs, ws, conv):
    arrays = [uniform(rng, s) for s in (xs, ws, (ws[1] * conv.get("groups", 1),))]
    leaves = [torch.from_numpy(a).requires_grad_() for a in arrays]
    refs = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in arrays]
    with unless_not_supported("transposed convolution in clconv.torch"):
        y = ct.conv_transpose2d(*leaves, **conv)
        dy = torch.from_numpy(uniform(rng, tuple(y.shape)))
        y.backward(dy)
    y64 = F.conv_transpose2d(*refs, **conv)
    y64.backward(dy.double())
    for got, want in zip([y] + [t.grad for t in leaves], [y64] + [t.grad for t in refs]):
        assert rel_err(got.detach().numpy(), want.detach().numpy()) <= TOL


def test_conv_transpose2d_gradcheck(rng):
    conv = dict(stride=2, padding=1, output_padding=1, groups=2)
    args = [torch.tensor(uniform(rng, s), dtype=torch.float64, requires_grad=True)
            for s in ((1, 4, 3, 3), (4, 1, 3, 3), (2,))]

    def fp32(x, w, b):
        return ct.conv_transpose2d(x.float(), w.float(), b.float(), **conv).double()

    with unless_not_supported("transposed convolution"):
        assert torch.autograd.gradcheck(fp32, args, eps=1e-2, atol=1e-4, rtol=1e-3)


def transposed_calls(log):
    """The directions of the transposed calls the log saw: fwd (fwd_b with
    a bias), bwd_d, bwd_w, bwd_b."""
    return log.deconv()


ARGS = dict(in_channels=4, out_channels=6, kernel_size=3, stride=2, padding=1, output_padding=1,
            groups=2, dilation=1)


def test_drop_in_conv_transpose2d(calls, rng):
    mine, ref = ct.ConvTranspose2d(**ARGS), nn.ConvTranspose2d(**ARGS)
    assert isinstance(mine, nn.ConvTranspose2d)
    mine.load_state_dict(ref.state_dict())
    ref = copy.deepcopy(ref).double()
    x = uniform(rng, (2, 4, 5, 6))
    xt, x64 = torch.from_numpy(x).requires_grad_(), torch.tensor(x, dtype=torch.float64,
                                                                 requires_grad=True)
    with unless_not_supported("transposed convolution"):
        y = mine(xt)
        dy = torch.from_numpy(uniform(rng, tuple(y.shape)))
        y.backward(dy)
    y64 = ref(x64)
    y64.backward(dy.double())
    assert y.shape == y64.shape
    pairs = [(y, y64), (xt.grad, x64.grad), (mine.weight.grad, ref.weight.grad),
             (mine.bias.grad, ref.bias.grad)]
    for got, want in pairs:
        assert rel_err(got.detach().numpy(), want.detach().numpy()) <= TOL
    assert transposed_calls(calls) == ["fwd_b", "bwd_d", "bwd_w", "bwd_b"]


def test_drop_in_output_size_and_fall_backs(calls, rng):
    args = dict(ARGS, output_padding=0)
    mine, ref = ct.ConvTranspose2d(**args), nn.ConvTranspose2d(**args)
    mine.load_state_dict(ref.state_dict())
    x = torch.from_numpy(uniform(rng, (1, 4, 5, 5)))
    with unless_not_supported("transposed convolution"):
        y = mine(x, output_size=[10, 10])                 # output padding 1, from the size
    want = ref(x, output_size=[10, 10])
    assert y.shape == want.shape == (1, 6, 10, 10)
    assert rel_err(y.detach().numpy(), want.detach().numpy()) <= TOL
    assert len(transposed_calls(calls)) == 1
    # PyTorch's own operator for what clconv does not run: float64, and an
    # output padding not below the stride (PyTorch allows it below the dilation)
    assert torch.equal(copy.deepcopy(mine).double()(x.double()), copy.deepcopy(ref).double()(
        x.double()))
    wide = dict(ARGS, stride=1, output_padding=1, dilation=2)
    m2, r2 = ct.ConvTranspose2d(**wide), nn.ConvTranspose2d(**wide)
    m2.load_state_dict(r2.state_dict())
    assert torch.equal(m2(x), r2(x))
    assert len(transposed_calls(calls)) == 1
    odd = ct.ConvTranspose2d(4, 2, 3)
    odd.padding_mode = "reflect"  # the constructor refuses it; forward does too, as PyTorch's
    with pytest.raises(ValueError, match="zeros"):
        odd(x)


def test_convert_swaps_conv_transpose2d(calls, rng):
    torch.manual_seed(int(rng.integers(1 << 31)))
    model = nn.Sequential(nn.Conv2d(2, 4, 3, stride=2, padding=1), nn.ReLU(),
                          nn.ConvTranspose2d(4, 2, 3, stride=2, padding=1, output_padding=1))
    x = torch.from_numpy(uniform(rng, (2, 2, 8, 8)))
    before = model(x).detach().numpy()
    params = [id(p) for p in model.parameters()]
    assert ct.convert(model) is model
    assert [type(m) for m in (model[0], model[2])] == [ct.Conv2d, ct.ConvTranspose2d]
    assert [id(p) for p in model.parameters()] == params
    with unless_not_supported("transposed convolution"):
        after = model(x).detach().numpy()
    assert rel_err(after, before) <= TOL and len(transposed_calls(calls)) == 1


@pytest.mark.parametrize("dtype", ["f16", "bf16"])
def test_conv_transpose2d_low_precision(rng, dtype):
    xs, ws, conv = SWEEP[2]
    low = [torch.from_numpy(uniform(rng, s)).to(TORCH_DTYPES[dtype]).requires_grad_()
           for s in (xs, ws, (ws[1] * conv["groups"],))]
    refs = [t.detach().double().requires_grad_() for t in low]
    with unless_not_supported("transposed convolution, %s storage" % dtype):
        y = ct.conv_transpose2d(*low, **conv)
        dy = torch.from_numpy(uniform(rng, tuple(y.shape))).to(y.dtype)
        y.backward(dy)
    y64 = F.conv_transpose2d(*refs, **conv)
    y64.backward(dy.double())
    assert y.dtype == TORCH_DTYPES[dtype]
    for got, want in zip([y] + [t.grad for t in low], [y64] + [t.grad for t in refs]):
        assert rel_err(got.detach().double().numpy(), want.detach().numpy()) <= TOLS[dtype]


def test_conv_transpose2d_channels_last(rng):
    xs, ws, conv = SWEEP[0]
    x = torch.from_numpy(uniform(rng, xs)).contiguous(memory_format=torch.channels_last)
    w = torch.from_numpy(uniform(rng, ws))
    xl, wl = x.clone(memory_format=torch.preserve_format).requires_grad_(), w.requires_grad_()
    x64, w64 = x.double().requires_grad_(), w.detach().double().requires_grad_()
    with unless_not_supported("transposed convolution, channels_last"):
        y = ct.conv_transpose2d(xl, wl, **conv)
        dy = torch.from_numpy(uniform(rng, tuple(y.shape)))
        y.backward(dy)
    y64 = F.conv_transpose2d(x64, w64, **conv)
    y64.backward(dy.double())
    assert y.is_contiguous(memory_format=torch.channels_last) and not y.is_contiguous()
    for got, want in ((y, y64), (xl.grad, x64.grad), (wl.grad, w64.grad)):
        assert rel_err(got.detach().numpy(), want.detach().numpy()) <= TOL
