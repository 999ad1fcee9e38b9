"""NHWC activations and KRSC filters (numpy arrays in storage order, torch
channels_last tensors without a copy), and asymmetric padding (explicit
pairs, and PyTorch's padding='same' with even kernels), against PyTorch in
float64."""
import copy

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

import clconv
import clconv.torch as ct
from helpers import (TOL, CallLog, from_nhwc, poison, rel_err, to_nhwc, torch_reference, uniform,
                     unless_not_supported)

CL = torch.channels_last


def is_cl(t):
    return t.is_contiguous(memory_format=CL) and not t.is_contiguous()


# ---- numpy: storage order ---------------------------------------------------
LAYOUTS = [("nhwc", "kcrs"), ("nchw", "krsc"), ("nhwc", "krsc")]


@pytest.mark.parametrize("layout,filter_layout", LAYOUTS)
def test_shapes_are_in_storage_order(layout, filter_layout):
    d = clconv.Desc((2, 3, 8, 7), (4, 3, 3, 2), stride=2, layout=layout,
                    filter_layout=filter_layout)
    nhwc, krsc = layout == "nhwc", filter_layout == "krsc"
    assert d.logical_shapes["x"] == (2, 3, 8, 7) and d.logical_shapes["y"] == (2, 4, 3, 3)
    assert d.input_shape == ((2, 8, 7, 3) if nhwc else (2, 3, 8, 7))
    assert d.output_shape == ((2, 3, 3, 4) if nhwc else (2, 4, 3, 3))
    assert d.weight_shape == ((4, 3, 2, 3) if krsc else (4, 3, 3, 2))
    assert d.bias_shape == (4,)


def layout_arrays(rng, d):
    """NCHW / KCRS x, w, dy and the same in the descriptor's storage order."""
    logical = [uniform(rng, d.logical_shapes[r]) for r in ("x", "w", "y")]
    nhwc, krsc = d.layout == "nhwc", d.filter_layout == "krsc"
    x, w, dy = logical
    return logical, (to_nhwc(x) if nhwc else x, to_nhwc(w) if krsc else w,
                     to_nhwc(dy) if nhwc else dy)


@pytest.mark.parametrize("layout,filter_layout", LAYOUTS)
@pytest.mark.parametrize("algo", ["auto", "direct", "gemm"])
def test_passes_in_every_layout(ctx, rng, layout, filter_layout, algo):
    d = clconv.Desc((2, 6, 9, 8), (4, 3, 3, 2), stride=(2, 1), padding=1, groups=2,
                    layout=layout, filter_layout=filter_layout)
    (x, w, dy), (xs, ws, dys) = layout_arrays(rng, d)
    ref = torch_reference(d, x, w, dy)
    with unless_not_supported("%s / %s, %s" % (layout, filter_layout, algo)):
        got = {"y": ctx.forward(d, xs, ws, out=poison(d.output_shape), algo=algo),
               "dx": ctx.backward_data(d, dys, ws, out=poison(d.input_shape), algo=algo),
               "dw": ctx.backward_filter(d, xs, dys, out=poison(d.weight_shape), algo=algo),
               "db": ctx.backward_bias(d, dys, out=poison(d.bias_shape))}
    nhwc, krsc = layout == "nhwc", filter_layout == "krsc"
    back = {"y": nhwc, "dx": nhwc, "dw": krsc, "db": False}
    for role, value in got.items():
        value = from_nhwc(value) if back[role] else value
        assert rel_err(value, ref[role]) <= TOL, (role, str(d), algo)


def test_nchw_arrays_for_an_nhwc_descriptor_are_refused(rng):
    with clconv.Context() as ctx:
        log = CallLog(ctx)
        d = clconv.Desc((1, 3, 6, 5), (2, 3, 3, 3), layout="nhwc")
        with pytest.raises(ValueError, match="shape"):
            ctx.forward(d, uniform(rng, (1, 3, 6, 5)), uniform(rng, (2, 3, 3, 3)))
        # a channels_last tensor is taken in its logical shape; a contiguous one is not NHWC
        w = torch.from_numpy(uniform(rng, (2, 3, 3, 3)))
        with pytest.raises(ValueError, match="C-contiguous"):
            ctx.forward(d, torch.from_numpy(uniform(rng, (1, 3, 6, 5))), w)
        assert log.calls() == []


def test_torch_tensors_at_the_numpy_level_in_nhwc(ctx, rng):
    """Tensors are taken in their logical shape (a channels_last x, a
    channels_last filter for KRSC) and a new output comes back the same way."""
    d = clconv.Desc((2, 3, 6, 5), (4, 3, 3, 3), padding=1, layout="nhwc", filter_layout="krsc")
    x, w, dy = (uniform(rng, d.logical_shapes[r]) for r in ("x", "w", "y"))
    xt = torch.from_numpy(x).contiguous(memory_format=CL)
    wt = torch.from_numpy(w).contiguous(memory_format=CL)
    with unless_not_supported("nhwc / krsc"):
        y = ctx.forward(d, xt, wt)
        dw = ctx.backward_filter(d, xt, torch.from_numpy(dy).contiguous(memory_format=CL))
    assert tuple(y.shape) == d.logical_shapes["y"] and is_cl(y)
    assert tuple(dw.shape) == (4, 3, 3, 3) and dw.is_contiguous(memory_format=CL)
    ref = torch_reference(d, x, w, dy)
    assert rel_err(y.numpy(), ref["y"]) <= TOL and rel_err(dw.numpy(), ref["dw"]) <= TOL


# ---- clconv.torch: channels_last --------------------------------------------
def grads_by_hook(tensors):
    """The gradients autograd hands to each tensor, before AccumulateGrad
    (which gives a leaf's .grad the leaf's own memory format)."""
    seen = [None] * len(tensors)
    for i, t in enumerate(tensors):
        t.register_hook(lambda g, i=i: seen.__setitem__(i, g))
    return seen


@pytest.mark.parametrize("x_cl,w_cl", [(True, False), (False, True), (True, True)])
def test_channels_last_round_trip(rng, x_cl, w_cl):
    x = torch.from_numpy(uniform(rng, (2, 4, 9, 7)))
    w = torch.from_numpy(uniform(rng, (6, 2, 3, 3)))
    b = torch.from_numpy(uniform(rng, (6,)))
    if x_cl:
        x = x.contiguous(memory_format=CL)
    if w_cl:
        w = w.contiguous(memory_format=CL)
    conv = dict(stride=2, padding=1, groups=2)
    leaves = [t.detach().clone(memory_format=torch.preserve_format).requires_grad_()
              for t in (x, w, b)]
    refs = [t.detach().double().requires_grad_() for t in (x, w, b)]  # same memory formats
    mine, theirs = grads_by_hook(leaves), grads_by_hook(refs)
    with unless_not_supported("channels_last"):
        y = ct.conv2d(*leaves, **conv)
        dy = torch.from_numpy(uniform(rng, tuple(y.shape)))
        y.backward(dy)
    y64 = F.conv2d(*refs, **conv)
    y64.backward(dy.double())
    # PyTorch's rule: y and dx channels_last when the input or the filter is
    assert is_cl(y) and is_cl(y64) and is_cl(mine[0]) and is_cl(theirs[0])
    assert is_cl(mine[1]) == w_cl  # dw in the filter's own layout (KRSC when channels_last)
    for got, want in zip([y] + mine, [y64] + theirs):
        assert rel_err(got.detach().numpy(), want.detach().numpy()) <= TOL


def test_channels_last_input_is_not_copied(torch_ctx, rng):
    """The NHWC call reads the caller's tensor itself: the layer's x is x."""
    x = torch.from_numpy(uniform(rng, (1, 3, 6, 6))).contiguous(memory_format=CL)
    seen = {}
    original = torch_ctx.forward

    def spy(desc, x_arg, w_arg, out=None, algo="auto"):
        seen.update(x=x_arg, desc=desc)
        return original(desc, x_arg, w_arg, out=out, algo=algo)

    torch_ctx.forward = spy
    try:
        with unless_not_supported("channels_last"):
            y = ct.conv2d(x, torch.from_numpy(uniform(rng, (2, 3, 3, 3))), padding=1)
    finally:
        del torch_ctx.forward
    assert seen["x"] is x and seen["desc"].layout == "nhwc" and is_cl(y)


def test_channels_last_model(rng):
    torch.manual_seed(int(rng.integers(1 << 31)))
    model = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 4, 3, stride=2))
    ref = copy.deepcopy(model).double().to(memory_format=CL)
    ct.convert(model).to(memory_format=CL)
    x = torch.from_numpy(uniform(rng, (2, 3, 10, 10))).contiguous(memory_format=CL)
    with unless_not_supported("channels_last"):
        y = model(x)
        y.sum().backward()
    y64 = ref(x.double())
    y64.sum().backward()
    assert is_cl(y) and rel_err(y.detach().numpy(), y64.detach().numpy()) <= TOL
    for p, q in zip(model.parameters(), ref.parameters()):
        assert rel_err(p.grad.numpy(), q.grad.numpy()) <= TOL


# ---- asymmetric padding ------------------------------------------------------
def test_asymmetric_descriptor_fields():
    d = clconv.Desc((1, 2, 6, 6), (3, 2, 4, 4), padding="same")
    assert d.asymmetric and d.pads == (1, 2, 1, 2) and d.padding == ((1, 2), (1, 2))
    assert d.output_shape == (1, 3, 6, 6)
    s = clconv.Desc((1, 2, 6, 6), (3, 2, 3, 5), padding="same", dilation=(2, 1))
    assert not s.asymmetric and s.padding == (2, 2)  # (3-1)*2 and 5-1: even, symmetric
    e = clconv.Desc((1, 2, 6, 6), (3, 2, 3, 3), padding=((0, 2), (1, 0)))
    assert e.pads == (0, 2, 1, 0) and e.output_shape == (1, 3, 6, 5)
    assert clconv.Desc((1, 2, 6, 6), (3, 2, 3, 3), padding=((1, 1), (1, 1))).padding == (1, 1)
    with pytest.raises(ValueError, match="strided"):
        clconv.Desc((1, 2, 6, 6), (3, 2, 4, 4), stride=2, padding="same")
    with pytest.raises(clconv.Error, match="CLCONV_BAD_PADDING"):
        clconv.Desc((1, 2, 6, 6), (3, 2, 3, 3), padding=((0, -1), (0, 0)))


@pytest.mark.parametrize("shape,conv", [
    ((2, 3, 8, 7, 4, 3, 3), dict(padding=((0, 2), (1, 0)))),
    ((1, 4, 9, 9, 6, 4, 2), dict(stride=2, padding=((2, 1), (0, 1)), groups=2)),
    ((2, 3, 7, 8, 2, 4, 4), dict(padding="same")),
    ((1, 2, 9, 6, 3, 2, 3), dict(padding="same", dilation=(3, 1))),
])
def test_asymmetric_padding_numpy(ctx, rng, shape, conv):
    n, c, h, w, k, r, s = shape
    d = clconv.Desc((n, c, h, w), (k, c // conv.get("groups", 1), r, s), **conv)
    x, wt, dy = (uniform(rng, d.shapes[role]) for role in ("x", "w", "y"))
    ref = torch_reference(d, x, wt, dy)  # F.pad, then the convolution
    with unless_not_supported("asymmetric padding"):
        got = {"y": ctx.forward(d, x, wt, out=poison(d.output_shape)),
               "dx": ctx.backward_data(d, dy, wt, out=poison(d.input_shape)),
               "dw": ctx.backward_filter(d, x, dy, out=poison(d.weight_shape))}
    for role, value in got.items():
        assert rel_err(value, ref[role]) <= TOL, (role, str(d))


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")
@pytest.mark.parametrize("kernel,dilation", [(4, 1), ((2, 5), 1), ((4, 3), (1, 2)), (2, 3)])
def test_padding_same_matches_pytorch(rng, kernel, dilation):
    kh, kw = kernel if isinstance(kernel, tuple) else (kernel, kernel)
    x = torch.from_numpy(uniform(rng, (2, 3, 9, 8))).requires_grad_()
    w = torch.from_numpy(uniform(rng, (4, 3, kh, kw))).requires_grad_()
    x64, w64 = (t.detach().double().requires_grad_() for t in (x, w))
    with unless_not_supported("padding='same'"):
        y = ct.conv2d(x, w, padding="same", dilation=dilation)
        dy = torch.from_numpy(uniform(rng, tuple(y.shape)))
        y.backward(dy)
    y64 = F.conv2d(x64, w64, padding="same", dilation=dilation)
    y64.backward(dy.double())
    assert y.shape == y64.shape == x.shape[:1] + (4,) + x.shape[2:]
    for got, want in ((y, y64), (x.grad, x64.grad), (w.grad, w64.grad)):
        assert rel_err(got.detach().numpy(), want.detach().numpy()) <= TOL


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")
def test_drop_in_conv2d_runs_same_with_even_kernels(calls, rng):
    args = dict(in_channels=4, out_channels=6, kernel_size=(4, 2), padding="same", groups=2)
    mine, ref = ct.Conv2d(**args), nn.Conv2d(**args).double()
    ref.load_state_dict(mine.state_dict())
    x = torch.from_numpy(uniform(rng, (2, 4, 7, 9)))
    with unless_not_supported("padding='same'"):
        y = mine(x)
    assert len(calls.forwards()) == 1
    assert rel_err(y.detach().numpy(), ref(x.double()).detach().numpy()) <= TOL


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")
def test_padding_same_even_kernel_gradcheck(rng):
    """Finite differences in float64 of the fp32 layer, asymmetric padding
    and channels_last input included (linear in each argument: exact up to
    fp32 rounding)."""
    args = [torch.tensor(uniform(rng, s), dtype=torch.float64, requires_grad=True)
            for s in ((1, 2, 5, 4), (3, 2, 2, 3), (3,))]

    def fp32(x, w, b):
        x = x.float().contiguous(memory_format=CL)
        return ct.conv2d(x, w.float(), b.float(), padding="same").double()

    with unless_not_supported("padding='same', channels_last"):
        assert torch.autograd.gradcheck(fp32, args, eps=1e-2, atol=1e-4, rtol=1e-3)
