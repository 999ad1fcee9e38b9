"""clconv.torch against PyTorch: outputs and every gradient against
torch.nn.functional.conv2d's autograd in float64 over a sweep of layers,
torch.autograd.gradcheck, the drop-in Conv2d, its fall-backs, convert()."""
import copy

import numpy as np
import pytest
import torch
import torch.nn as nn

import clconv
import clconv.torch as ct
from helpers import TOL, layer, rel_err, torch_reference, uniform

# (N, C, H, W, K, R, S), keywords: strides, padding, dilation, groups,
# depthwise, odd and rectangular sizes, strides longer than the filter's room.
SWEEP = [
    ((2, 3, 7, 7, 4, 3, 3), dict(padding=1)),
    ((2, 3, 9, 8, 5, 3, 3), dict(stride=2, padding=1)),
    ((1, 4, 11, 9, 6, 3, 2), dict(stride=(2, 3), padding=(1, 0), groups=2)),
    ((2, 6, 8, 8, 6, 3, 3), dict(padding=1, groups=6)),                # depthwise
    ((2, 6, 9, 9, 12, 3, 3), dict(stride=2, padding=1, groups=6)),     # depthwise, multiplier 2
    ((1, 3, 10, 10, 4, 3, 3), dict(padding=2, dilation=2)),
    ((2, 4, 12, 10, 4, 3, 3), dict(stride=3, dilation=(2, 1), groups=2)),
    ((3, 5, 6, 7, 7, 1, 1), dict()),                                   # 1x1
    ((1, 2, 5, 5, 3, 5, 5), dict(padding=2)),                          # filter = input
    ((2, 8, 7, 7, 8, 3, 3), dict(stride=2, padding=1, groups=4)),
    ((1, 1, 13, 13, 2, 4, 4), dict(stride=4)),
    ((1, 3, 6, 6, 2, 3, 3), dict(stride=5, padding=1)),                # stride > room
    ((2, 16, 8, 8, 32, 3, 3), dict(stride=2, padding=1)),
    ((1, 3, 1, 9, 2, 1, 3), dict(padding=(0, 1))),                     # one row
    ((2, 32, 4, 4, 32, 3, 3), dict(padding=1, groups=4)),
    ((1, 5, 17, 3, 3, 5, 1), dict(stride=(3, 1), padding=(2, 0), dilation=(2, 1))),
]


def leaf(a):
    return torch.from_numpy(a).requires_grad_()


@pytest.mark.parametrize("shape,conv", SWEEP, ids=[str(i) for i in range(len(SWEEP))])
def test_output_and_gradients_match_torch_float64(rng, shape, conv):
    d, x, w, dy = layer(rng, *shape, **conv)
    b = uniform(rng, d.bias_shape)
    xt, wt, bt = leaf(x), leaf(w), leaf(b)
    y = ct.conv2d(xt, wt, bt, **conv)
    y.backward(torch.from_numpy(dy))
    ref = torch_reference(d, x, w, dy, b)
    got = {"y": y.detach(), "dx": xt.grad, "dw": wt.grad, "db": bt.grad}
    for role, value in got.items():
        assert rel_err(value.numpy(), ref[role]) <= TOL, (role, str(d))


@pytest.mark.parametrize("shape,conv", [
    ((1, 2, 5, 5, 3, 3, 3), dict(stride=2, padding=1)),
    ((2, 4, 6, 5, 4, 2, 3), dict(dilation=(2, 1), groups=2, padding=(0, 1))),
    ((1, 3, 5, 6, 3, 3, 3), dict(stride=(1, 2), padding=1, groups=3)),
])
def test_gradcheck(rng, shape, conv):
    """Finite differences in float64 of a function that computes in fp32.
    A convolution is linear in each argument, so the central differences
    are exact up to fp32 rounding (~1e-7 of the output / 2 eps)."""
    d, x, w, _ = layer(rng, *shape, **conv)
    args = [torch.tensor(a, dtype=torch.float64, requires_grad=True)
            for a in (x, w, uniform(rng, d.bias_shape))]

    def fp32_conv(x, w, b):
        return ct.conv2d(x.float(), w.float(), b.float(), **conv).double()

    assert torch.autograd.gradcheck(fp32_conv, args, eps=1e-2, atol=1e-4, rtol=1e-3)


def test_only_the_needed_gradients_are_computed(calls, rng):
    d, x, w, dy = layer(rng, 2, 4, 6, 6, 4, 3, 3, padding=1)
    xt, wt = torch.from_numpy(x), leaf(w)
    ct.conv2d(xt, wt, padding=1).backward(torch.from_numpy(dy))
    assert [len(calls.calls(k)) for k in ("fwd", "bwd_d", "bwd_w", "bwd_b")] == [1, 0, 1, 0]
    xt, bt = leaf(x), leaf(uniform(rng, (4,)))
    ct.conv2d(xt, torch.from_numpy(w), bt, padding=1).backward(torch.from_numpy(dy))
    assert [len(calls.calls(k)) for k in ("fwd", "bwd_d", "bwd_w", "bwd_b")] == [2, 1, 1, 1]


def test_any_layout_and_unbatched_input(rng):
    d, x, w, dy = layer(rng, 2, 3, 7, 6, 4, 3, 3, padding=1)
    ref = torch_reference(d, x, w, dy)
    xt = leaf(x.copy())
    xs = xt.to(memory_format=torch.channels_last)
    ws = torch.from_numpy(np.ascontiguousarray(w.transpose(1, 0, 2, 3))).transpose(0, 1)
    y = ct.conv2d(xs, ws, padding=1)
    y.backward(torch.from_numpy(dy))
    assert rel_err(y.detach().numpy(), ref["y"]) <= TOL
    assert rel_err(xt.grad.numpy(), ref["dx"]) <= TOL
    one = ct.conv2d(torch.from_numpy(x[1]), torch.from_numpy(w), padding=1)
    assert one.shape == d.output_shape[1:] and rel_err(one.numpy(), ref["y"][1]) <= TOL


def test_functional_refuses_what_clconv_cannot_run(calls):
    x, w = torch.ones(1, 2, 6, 6), torch.ones(3, 2, 3, 3)
    with pytest.raises(TypeError, match="float32 CPU"):
        ct.conv2d(x.double(), w.double())
    with pytest.raises(TypeError):
        ct.conv2d(x, w, bias=torch.ones(3, dtype=torch.float16))
    with pytest.raises(ValueError, match="strided"):
        ct.conv2d(x, torch.ones(3, 2, 2, 2), padding="same", stride=2)  # as PyTorch refuses
    with pytest.raises(ValueError):
        ct.conv2d(x[None], w)
    with pytest.raises(ValueError, match="bias"):
        ct.conv2d(x, w, bias=torch.ones(4))
    with pytest.raises(clconv.Error, match="CLCONV_BAD_GROUPS"):
        ct.conv2d(x, torch.ones(3, 1, 3, 3), groups=3)
    assert calls.calls() == []


CONV_ARGS = dict(in_channels=4, out_channels=6, kernel_size=(3, 2), stride=2, padding=1,
                 groups=2)


def test_conv2d_is_a_drop_in_nn_conv2d(calls, rng):
    ref, mine = nn.Conv2d(**CONV_ARGS), ct.Conv2d(**CONV_ARGS)
    assert isinstance(mine, nn.Conv2d)
    shapes = lambda m: {k: v.shape for k, v in m.state_dict().items()}
    assert shapes(mine) == shapes(ref)
    mine.load_state_dict(ref.state_dict())
    nn.Conv2d(**CONV_ARGS).load_state_dict(mine.state_dict())
    x = uniform(rng, (2, 4, 9, 8))
    xt, x64 = leaf(x.copy()), leaf(x.astype(np.float64))
    y, y64 = mine(xt), copy.deepcopy(ref).double()(x64)
    dy = torch.from_numpy(uniform(rng, tuple(y.shape)))
    y.backward(dy)
    y64.backward(dy.double())
    assert rel_err(y.detach().numpy(), y64.detach().numpy()) <= TOL
    assert rel_err(xt.grad.numpy(), x64.grad.numpy()) <= TOL
    assert len(calls.calls("fwd")) == 1 and len(calls.calls("bwd_w")) == 1


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")
@pytest.mark.parametrize("kwargs,dtype,on_clconv", [
    (dict(padding_mode="reflect"), torch.float32, False),
    (dict(padding_mode="circular"), torch.float32, False),
    (dict(), torch.float64, False),
    (dict(kernel_size=4, stride=1, padding="same"), torch.float32, True),  # asymmetric
    (dict(kernel_size=(3, 5), stride=1, padding="same"), torch.float32, True),
    (dict(padding="valid"), torch.float32, True),
])
def test_conv2d_falls_back_to_pytorch(calls, rng, kwargs, dtype, on_clconv):
    args = dict(CONV_ARGS, **kwargs)
    ref = nn.Conv2d(**args).to(dtype)
    mine = ct.Conv2d(**args).to(dtype)
    mine.load_state_dict(ref.state_dict())
    x = torch.from_numpy(uniform(rng, (2, 4, 9, 8))).to(dtype)
    got, want = mine(x), ref(x)
    assert len(calls.calls("fwd")) == (1 if on_clconv else 0)
    if on_clconv:
        assert rel_err(got.detach().numpy(), want.detach().numpy()) <= TOL
    else:
        assert torch.equal(got, want)  # PyTorch's own op, bit for bit


class _Custom(nn.Conv2d):
    """A subclass may compute something else: convert() leaves it alone."""


def test_convert_swaps_plain_conv2d_in_place(calls, rng):
    torch.manual_seed(int(rng.integers(1 << 31)))
    model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(),
                          nn.Sequential(nn.Conv2d(4, 4, 3, groups=2), _Custom(4, 2, 1)),
                          nn.Flatten(), nn.Linear(2 * 6 * 6, 3))
    params = [id(p) for p in model.parameters()]
    state = copy.deepcopy(model.state_dict())
    x = torch.from_numpy(uniform(rng, (2, 1, 8, 8)))
    before = model(x).detach().numpy()
    assert ct.convert(model) is model
    assert [type(m) for m in (model[0], model[2][0], model[2][1])] == [ct.Conv2d, ct.Conv2d,
                                                                       _Custom]
    assert [id(p) for p in model.parameters()] == params  # an optimizer keeps working
    assert all(torch.equal(v, state[k]) for k, v in model.state_dict().items())
    assert rel_err(model(x).detach().numpy(), before) <= TOL
    assert len(calls.calls("fwd")) == 2
    single = nn.Conv2d(2, 2, 1)
    assert type(ct.convert(single)) is ct.Conv2d


def test_each_process_gets_its_own_context():
    import os
    import signal
    import time
    c = ct.context()
    assert ct.context() is c
    c.finish()  # nothing of ours in flight in the driver's threads when we fork
    pid = os.fork()
    if pid == 0:  # the child must not use the parent's OpenCL context
        os._exit(0 if ct.context() is not c else 1)
    # a child that never ends (an OpenCL driver lock held across the fork)
    # fails the test instead of hanging the suite
    deadline = time.monotonic() + 120
    while (done := os.waitpid(pid, os.WNOHANG))[0] == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    if done[0] == 0:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        pytest.fail("the forked child hung for 120 s creating its context")
    assert done[1] == 0
    with pytest.raises(TypeError):
        ct.set_context("pocl")
