"""The fused forward epilogue (y = act(alpha*conv + beta*y_old + bias)) and
clconv_activation_backward, on numpy arrays and through clconv.torch's
conv2d_act and Conv2d(activation=...), against PyTorch in float64."""
import copy

import numpy as np
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

import clconv
import clconv.torch as ct
from helpers import (TOL, TOLS, TORCH_DTYPES, CallLog, layer, poison, poison_as,
                     refuses_outside_domain, rel_err, stored, torch_reference, uniform,
                     unless_not_supported, values)

# activation, its parameter, and its float64 definition
ACTS = {
    "identity": (0.0, lambda v, p: v),
    "relu": (0.0, lambda v, p: np.maximum(v, 0)),
    "clipped_relu": (1.5, lambda v, p: np.minimum(np.maximum(v, 0), p)),
    "leaky_relu": (0.1, lambda v, p: np.where(v > 0, v, p * v)),
    "sigmoid": (0.0, lambda v, p: 1 / (1 + np.exp(-v))),
    "tanh": (0.0, lambda v, p: np.tanh(v)),
}

# the header's backward of each, from y = act(pre) and dy
ACT_GRADS = {
    "identity": lambda y, dy, p: dy,
    "relu": lambda y, dy, p: dy * (y > 0),
    "clipped_relu": lambda y, dy, p: dy * ((y > 0) & (y < p)),
    "leaky_relu": lambda y, dy, p: np.where(y > 0, dy, p * dy),
    "sigmoid": lambda y, dy, p: dy * y * (1 - y),
    "tanh": lambda y, dy, p: dy * (1 - y * y),
}


def test_activation_names_are_the_headers():
    assert clconv.ACTIVATIONS == tuple(ACTS)


@pytest.mark.parametrize("act", list(ACTS))
@pytest.mark.parametrize("with_bias", [False, True])
def test_forward_fused_every_activation(ctx, rng, act, with_bias):
    d, x, w, _ = layer(rng, 2, 4, 7, 6, 6, 3, 3, padding=1, groups=2)
    b = uniform(rng, d.bias_shape) if with_bias else None
    param, f = ACTS[act]
    conv = torch_reference(d, x, w, np.zeros(d.output_shape))["y"]
    want = f(conv + (0 if b is None else b.astype(np.float64)[None, :, None, None]), param)
    with unless_not_supported("fused %s" % act):
        y = ctx.forward_fused(d, x, w, out=poison(d.output_shape), bias=b, activation=act,
                              param=param)
    assert rel_err(y, want) <= TOL


@pytest.mark.parametrize("stride", [1, 2])
@pytest.mark.parametrize("algo", clconv.ALGORITHMS)
def test_forward_fused_alpha_beta_every_algorithm(ctx, rng, algo, stride):
    d, x, w, _ = layer(rng, 2, 3, 8, 7, 4, 3, 3, stride=stride, padding=1)
    b = uniform(rng, d.bias_shape)
    y = poison(d.output_shape)
    if refuses_outside_domain(algo, d, lambda: ctx.forward_fused(
            d, x, w, out=y, bias=b, activation="relu", algo=algo), y):
        return
    y_old = uniform(rng, d.output_shape)
    out = y_old.copy()
    conv = torch_reference(d, x, w, np.zeros(d.output_shape))["y"]
    v = 0.5 * conv - 0.75 * y_old + b[None, :, None, None]
    want = np.where(v > 0, v, 0.2 * v)
    with unless_not_supported("fused epilogue, %s" % algo):
        assert ctx.forward_fused(d, x, w, out=out, bias=b, activation="leaky_relu", param=0.2,
                                 alpha=0.5, beta=-0.75, algo=algo) is out
    assert rel_err(out, want) <= TOL


@pytest.mark.parametrize("dtype", ["f32", "f16", "bf16"])
@pytest.mark.parametrize("act", list(ACT_GRADS))
def test_activation_backward_definition(ctx, rng, dtype, act):
    """dz from the stored y and dy, against the header's formula in float64
    on those same stored values (one rounding of dz)."""
    d = clconv.Desc((2, 3, 5, 6), (4, 3, 3, 3), padding=1, dtype=dtype)
    param, f = ACTS[act]
    pre = 2 * uniform(rng, d.output_shape)
    y = stored(f(pre.astype(np.float64), param).astype(np.float32), dtype)
    dy = stored(uniform(rng, d.output_shape), dtype)
    want = ACT_GRADS[act](values(y, dtype), values(dy, dtype), param)
    with unless_not_supported("activation_backward %s %s" % (act, dtype)):
        dz = ctx.activation_backward(d, y, dy, act, param, out=poison_as(d.output_shape, dtype))
    assert rel_err(values(dz, dtype), want) <= TOLS[dtype]
    # in place: dz written over dy
    with unless_not_supported("activation_backward in place"):
        assert ctx.activation_backward(d, y, dy, act, param, out=dy) is dy
    assert rel_err(values(dy, dtype), want) <= TOLS[dtype]


def test_epilogue_refusals(rng):
    with clconv.Context() as ctx:
        log = CallLog(ctx)
        d, x, w, _ = layer(rng, 1, 3, 6, 6, 2, 3, 3)
        for bad in ({"activation": "gelu"}, {"activation": 1.0}, {"alpha": "1"}):
            with pytest.raises((ValueError, TypeError)):
                ctx.forward_fused(d, x, w, **bad)
        with pytest.raises(ValueError, match="beta"):
            ctx.forward_fused(d, x, w, beta=1.0)  # reads y_old: out is needed
        with pytest.raises(ValueError, match="bias"):
            ctx.forward_fused(d, x, w, bias=uniform(rng, (3,)))
        assert log.calls() == []
        y = poison(d.output_shape)
        for bad in ({"activation": "clipped_relu", "param": 0.0},
                    {"activation": "leaky_relu", "param": -0.5},
                    {"activation": 99}, {"alpha": float("inf")}):
            with pytest.raises(clconv.Error) as e:
                ctx.forward_fused(d, x, w, out=y, **bad)
            assert e.value.name == "CLCONV_BAD_EPILOGUE", bad
        with pytest.raises(clconv.Error, match="CLCONV_BAD_EPILOGUE"):
            ctx.activation_backward(d, y, y.copy(), "clipped_relu", -1.0)
        assert np.isnan(y).all()


# ---- clconv.torch ----------------------------------------------------------
TORCH_ACTS = {"identity": (None, lambda v: v), "relu": (None, F.relu),
              "relu6": (None, F.relu6), "clipped_relu": (2.5, lambda v: F.hardtanh(v, 0, 2.5)),
              "leaky_relu": (None, lambda v: F.leaky_relu(v, 0.01)),
              "sigmoid": (None, torch.sigmoid), "tanh": (None, torch.tanh)}


@pytest.mark.parametrize("act", list(TORCH_ACTS))
def test_conv2d_act_matches_torch(calls, rng, act):
    param, f = TORCH_ACTS[act]
    conv = dict(stride=(2, 1), padding=1, groups=2)
    arrays = [uniform(rng, s) for s in ((2, 4, 9, 7), (6, 2, 3, 3), (6,))]
    leaves = [torch.from_numpy(a).requires_grad_() for a in arrays]
    refs = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in arrays]
    with unless_not_supported("fused %s in clconv.torch" % act):
        y = ct.conv2d_act(*leaves, **conv, activation=act, param=param)
        dy = torch.from_numpy(uniform(rng, tuple(y.shape)))
        y.backward(dy)
    y64 = f(F.conv2d(*refs, **conv))
    y64.backward(dy.double())
    for got, want in zip([y] + [t.grad for t in leaves], [y64] + [t.grad for t in refs]):
        assert rel_err(got.detach().numpy(), want.detach().numpy()) <= TOL
    # the activation in the forward's epilogue, its gradient by clconv
    backward = [l for l in calls.lines if "clconv_activation_backward" in l]
    assert len(backward) == (0 if act == "identity" else 1)


@pytest.mark.parametrize("act", ["sigmoid", "tanh"])
def test_conv2d_act_gradcheck(rng, act):
    """Finite differences in float64 of the fp32 layer with a smooth
    activation (the ReLU family's kinks make differences unreliable; they
    are checked against autograd above)."""
    args = [torch.tensor(uniform(rng, s), dtype=torch.float64, requires_grad=True)
            for s in ((1, 2, 5, 5), (3, 2, 3, 3), (3,))]

    def fp32(x, w, b):
        return ct.conv2d_act(x.float(), w.float(), b.float(), padding=1,
                             activation=act).double()

    with unless_not_supported("fused %s" % act):
        assert torch.autograd.gradcheck(fp32, args, eps=1e-3, atol=1e-4, rtol=1e-3)


@pytest.mark.parametrize("dtype", ["f16", "bf16"])
@pytest.mark.parametrize("act", ["relu", "leaky_relu"])
def test_conv2d_act_low_precision(rng, dtype, act):
    """Piecewise-linear activations, whose derivative depends only on the
    sign of the stored y; PyTorch float64 on the same rounded inputs."""
    param, f = TORCH_ACTS[act]
    low = [torch.from_numpy(uniform(rng, s)).to(TORCH_DTYPES[dtype]).requires_grad_()
           for s in ((2, 3, 7, 7), (4, 3, 3, 3), (4,))]
    refs = [t.detach().double().requires_grad_() for t in low]
    with unless_not_supported("fused %s, %s storage" % (act, dtype)):
        y = ct.conv2d_act(*low, padding=1, activation=act)
        dy = torch.from_numpy(uniform(rng, tuple(y.shape))).to(y.dtype)
        y.backward(dy)
    y64 = f(F.conv2d(*refs, padding=1))
    y64.backward(dy.double())
    assert y.dtype == TORCH_DTYPES[dtype]
    for got, want in zip([y] + [t.grad for t in low], [y64] + [t.grad for t in refs]):
        assert rel_err(got.detach().double().numpy(), want.detach().numpy()) <= TOLS[dtype]


def test_drop_in_conv2d_with_activation(calls, rng):
    args = dict(in_channels=3, out_channels=4, kernel_size=3, padding=1)
    mine = ct.Conv2d(**args, activation="leaky_relu", activation_param=0.05)
    assert "activation=leaky_relu" in repr(mine)
    ref = nn.Conv2d(**args).double()
    ref.load_state_dict(mine.state_dict())  # the activation is no parameter
    x = torch.from_numpy(uniform(rng, (2, 3, 8, 8)))
    with unless_not_supported("fused leaky_relu"):
        y = mine(x)
        y.sum().backward()
    y64 = F.leaky_relu(ref(x.double()), 0.05)
    y64.sum().backward()
    assert len(calls.forwards()) == 1
    assert rel_err(y.detach().numpy(), y64.detach().numpy()) <= TOL
    assert rel_err(mine.weight.grad.numpy(), ref.weight.grad.numpy()) <= TOL
    # float64 falls back to PyTorch's convolution, then its activation
    mine64 = copy.deepcopy(mine).double()
    want = F.leaky_relu(ref(x.double()), 0.05)
    assert torch.equal(mine64(x.double()), want) and len(calls.forwards()) == 1


def test_activation_arguments_are_checked():
    with pytest.raises(ValueError, match="unknown activation"):
        ct.Conv2d(2, 2, 3, activation="gelu")
    with pytest.raises(ValueError, match="parameter"):
        ct.conv2d_act(torch.ones(1, 2, 4, 4), torch.ones(2, 2, 3, 3), activation="clipped_relu")
    with pytest.raises(ValueError):
        ct.Conv2d(2, 2, 3, activation_param=0.1)
    assert ct.Conv2d(2, 2, 3, activation="relu6").activation_param == 6.0
