"""fp16 and bf16 storage: the passes on numpy arrays (float16, and uint16
holding bfloat16 bits) and on pyopencl buffers at offsets counted in
elements, and clconv.torch on torch.float16 / torch.bfloat16 tensors.  The
reference is PyTorch in float64 on the same rounded inputs; the tolerance
fp32's 1e-5 plus the storage's rounding of each output (helpers.TOLS)."""
import copy
import ctypes

import numpy as np
import pytest
import torch
import torch.nn as nn

import clconv
import clconv.torch as ct
from clconv import _lib
from helpers import (TOLS, TORCH_DTYPES, CallLog, poison_as, refuses_outside_domain, rel_err,
                     stored, torch_reference, uniform, unless_not_supported, values)

LOW = ["f16", "bf16"]
LAYERS = [
    ((2, 3, 7, 7, 4, 3, 3), {"padding": 1}),
    ((2, 4, 9, 8, 6, 3, 2), {"stride": (2, 3), "padding": (1, 0), "groups": 2, "dilation": (2, 1)}),
]


def low_layer(rng, dtype, n, c, h, w, k, r, s, **conv):
    """A Desc of the storage type and x, w, dy, b: stored arrays, and their float64 values."""
    d = clconv.Desc((n, c, h, w), (k, c // conv.get("groups", 1), r, s), dtype=dtype, **conv)
    arrays = [stored(uniform(rng, d.shapes[role]), dtype) for role in ("x", "w", "y", "db")]
    return d, arrays, [values(a, dtype) for a in arrays]


def test_descriptor_struct_is_the_0_3_layout():
    assert ctypes.sizeof(_lib.DescStruct) == _lib.DESC_SIZE_0_3 == 23 * 8
    d = clconv.Desc((1, 4, 6, 6), (2, 4, 3, 3), dtype="bf16", layout="nhwc",
                    filter_layout="krsc", padding=((0, 1), (2, 0)))
    s = d._s
    assert s.struct_size == 184 and (s.dtype, s.layout, s.filter_layout) == (2, 1, 1)
    assert (s.pad_asymmetric, s.pad_h, s.pad_h_end, s.pad_w, s.pad_w_end) == (1, 0, 1, 2, 0)
    assert (d.dtype, d.layout, d.filter_layout, d.itemsize) == ("bf16", "nhwc", "krsc", 2)
    assert clconv.DTYPES == ("f32", "f16", "bf16")
    assert [_lib.lib.clconv_dtype_size(i) for i in range(4)] == [4, 2, 2, 0]
    # numpy's and torch's names of the storage types
    assert clconv.Desc((1, 4, 6, 6), (2, 4, 3, 3), dtype=np.float16).dtype == "f16"
    assert clconv.Desc((1, 4, 6, 6), (2, 4, 3, 3), dtype=torch.bfloat16).dtype == "bf16"


@pytest.mark.parametrize("kwargs,status", [
    ({"dtype": 3}, "CLCONV_BAD_DTYPE"),
    ({"dtype": -1}, "CLCONV_BAD_DTYPE"),
    ({"layout": 2}, "CLCONV_BAD_LAYOUT"),
    ({"filter_layout": 7}, "CLCONV_BAD_LAYOUT"),
])
def test_c_refuses_unknown_codes(kwargs, status):
    with pytest.raises(clconv.Error) as e:
        clconv.Desc((1, 3, 5, 5), (2, 3, 3, 3), **kwargs)
    assert e.value.name == status


@pytest.mark.parametrize("kwargs,exc", [
    ({"dtype": "f64"}, ValueError), ({"dtype": np.float64}, TypeError),
    ({"dtype": torch.float64}, TypeError), ({"layout": "nwhc"}, ValueError),
    ({"filter_layout": 1.0}, TypeError),
])
def test_python_refuses_unknown_names(kwargs, exc):
    with pytest.raises(exc):
        clconv.Desc((1, 3, 5, 5), (2, 3, 3, 3), **kwargs)


def check_passes(ctx, d, arrays, vals, algo):
    x, w, dy, _ = arrays
    dt = d.dtype
    y = poison_as(d.output_shape, dt)
    if refuses_outside_domain(algo, d, lambda: ctx.forward(d, x, w, out=y, algo=algo), y):
        return
    ref = torch_reference(d, *vals[:3])
    with unless_not_supported("%s storage, %s" % (dt, algo)):
        got = {"y": ctx.forward(d, x, w, out=poison_as(d.output_shape, dt), algo=algo),
               "dx": ctx.backward_data(d, dy, w, out=poison_as(d.input_shape, dt), algo=algo),
               "dw": ctx.backward_filter(d, x, dy, out=poison_as(d.weight_shape, dt), algo=algo),
               "db": ctx.backward_bias(d, dy, out=poison_as(d.bias_shape, dt))}
    for role, value in got.items():
        assert value.dtype == poison_as((1,), dt).dtype
        assert rel_err(values(value, dt), ref[role]) <= TOLS[dt], (role, dt, algo, str(d))


@pytest.mark.parametrize("dtype", LOW)
@pytest.mark.parametrize("algo", clconv.ALGORITHMS)
def test_passes_in_low_precision_every_algorithm(ctx, rng, dtype, algo):
    d, arrays, vals = low_layer(rng, dtype, *LAYERS[0][0], **LAYERS[0][1])
    check_passes(ctx, d, arrays, vals, algo)


@pytest.mark.parametrize("dtype", LOW)
def test_passes_in_low_precision_strided_grouped(ctx, rng, dtype):
    d, arrays, vals = low_layer(rng, dtype, *LAYERS[1][0], **LAYERS[1][1])
    check_passes(ctx, d, arrays, vals, "auto")


@pytest.mark.parametrize("dtype", LOW)
def test_accumulate_in_low_precision(ctx, rng, dtype):
    d, (x, w, dy, _), vals = low_layer(rng, dtype, *LAYERS[0][0], **LAYERS[0][1])
    ref = torch_reference(d, *vals[:3])
    calls = {"dx": lambda out: ctx.backward_data(d, dy, w, out=out, accumulate=True),
             "dw": lambda out: ctx.backward_filter(d, x, dy, out=out, accumulate=True),
             "db": lambda out: ctx.backward_bias(d, dy, out=out, accumulate=True)}
    for role, call in calls.items():
        before = stored(uniform(rng, d.shapes[role]), dtype)
        out = before.copy()
        with unless_not_supported("%s accumulate" % dtype):
            assert call(out) is out
        want = values(before, dtype) + ref[role]
        assert rel_err(values(out, dtype), want) <= TOLS[dtype], role


def test_arrays_must_be_of_the_storage_type(rng):
    with clconv.Context() as ctx:
        log = CallLog(ctx)
        d16 = clconv.Desc((1, 3, 6, 6), (2, 3, 3, 3), dtype="f16")
        dbf = clconv.Desc((1, 3, 6, 6), (2, 3, 3, 3), dtype="bf16")
        x, w = uniform(rng, d16.input_shape), uniform(rng, d16.weight_shape)
        with pytest.raises(TypeError, match="float16"):
            ctx.forward(d16, x, w.astype(np.float16))           # float32 x
        with pytest.raises(TypeError, match="uint16"):
            ctx.forward(dbf, x.astype(np.float16), stored(w, "bf16"))
        with pytest.raises(TypeError, match="float16"):
            ctx.forward(d16, x.astype(np.float16), w.astype(np.float16),
                        out=np.empty(d16.output_shape, np.float32))
        with pytest.raises(TypeError):                          # fp32 tensors for fp16
            ctx.forward(d16, torch.from_numpy(x), torch.from_numpy(w))
        assert log.calls() == []


def test_torch_tensors_at_the_numpy_level(ctx, rng):
    """bf16 tensors go in as their bits and a bf16 tensor comes back."""
    d, (x, w, dy, _), vals = low_layer(rng, "bf16", 1, 3, 6, 6, 2, 3, 3, padding=1)
    xt = torch.from_numpy(x.view(np.int16)).view(torch.bfloat16)
    wt = torch.from_numpy(w.view(np.int16)).view(torch.bfloat16)
    with unless_not_supported("bf16 storage"):
        y = ctx.forward(d, xt, wt)
    assert isinstance(y, torch.Tensor) and y.dtype == torch.bfloat16 and y.shape == d.output_shape
    ref = torch_reference(d, *vals[:3])["y"]
    assert rel_err(y.double().numpy(), ref) <= TOLS["bf16"]


@pytest.mark.parametrize("dtype", LOW)
def test_device_buffers_offsets_in_elements(rng, dtype):
    cl = pytest.importorskip("pyopencl")
    with clconv.Context() as probe:
        device = cl.Device.from_int_ptr(probe.cl_device)
    queue = cl.CommandQueue(cl.Context([device]), device)
    d, (x, w, dy, _), vals = low_layer(rng, dtype, 2, 4, 7, 6, 4, 3, 3, stride=2, padding=1)
    gap = 3  # elements of the storage type before each tensor (an odd number of bytes' worth)
    parts, offs, at = [], [], 0
    for a in (x, w):
        parts += [poison_as((gap,), dtype), a.ravel()]
        offs.append(at + gap)
        at += gap + a.size
    mf = cl.mem_flags
    inputs = cl.Buffer(queue.context, mf.READ_WRITE | mf.COPY_HOST_PTR,
                       hostbuf=np.concatenate(parts))
    out_host = poison_as(gap + int(np.prod(d.output_shape)), dtype)
    out = cl.Buffer(queue.context, mf.READ_WRITE | mf.COPY_HOST_PTR, hostbuf=out_host)
    with clconv.Context.wrap(queue.context, queue.device, queue) as wrapped:
        with unless_not_supported("%s storage on buffers" % dtype):
            wrapped.forward(d, (inputs, offs[0]), (inputs, offs[1]), out=(out, gap)).wait()
    cl.enqueue_copy(queue, out_host, out)
    assert np.array_equal(out_host[:gap].view(np.uint16),  # untouched before y (bits: NaN)
                          poison_as((gap,), dtype).view(np.uint16))
    y = out_host[gap:].reshape(d.output_shape)
    assert rel_err(values(y, dtype), torch_reference(d, *vals[:3])["y"]) <= TOLS[dtype]


# ---- clconv.torch ----------------------------------------------------------
TORCH_LAYERS = [
    ((2, 3, 7, 7), (4, 3, 3, 3), dict(padding=1)),
    ((2, 6, 9, 8), (6, 2, 3, 2), dict(stride=2, padding=(1, 0), groups=3)),
    ((1, 4, 8, 8), (4, 1, 3, 3), dict(padding=2, dilation=2, groups=4)),
]


def rounded_leaves(rng, dtype, *shapes):
    """Tensors of the storage type, requiring grad, and float64 leaves of the same values."""
    low = [torch.from_numpy(uniform(rng, s)).to(TORCH_DTYPES[dtype]).requires_grad_()
           for s in shapes]
    return low, [t.detach().double().requires_grad_() for t in low]


@pytest.mark.parametrize("dtype", LOW)
@pytest.mark.parametrize("xs,ws,conv", TORCH_LAYERS, ids=["0", "1", "2"])
def test_torch_conv2d_low_precision(rng, dtype, xs, ws, conv):
    (x, w, b), (x64, w64, b64) = rounded_leaves(rng, dtype, xs, ws, (ws[0],))
    with unless_not_supported("%s storage in clconv.torch" % dtype):
        y = ct.conv2d(x, w, b, **conv)
        dy = torch.from_numpy(uniform(rng, tuple(y.shape))).to(y.dtype)
        y.backward(dy)
    y64 = torch.nn.functional.conv2d(x64, w64, b64, **conv)
    y64.backward(dy.double())
    assert y.dtype == x.grad.dtype == w.grad.dtype == b.grad.dtype == TORCH_DTYPES[dtype]
    for got, want in ((y, y64), (x.grad, x64.grad), (w.grad, w64.grad), (b.grad, b64.grad)):
        assert rel_err(got.detach().double().numpy(), want.detach().numpy()) <= TOLS[dtype]


@pytest.mark.parametrize("dtype", LOW)
def test_drop_in_conv2d_low_precision(rng, dtype):
    args = dict(in_channels=4, out_channels=6, kernel_size=3, stride=2, padding=1, groups=2)
    mine = ct.Conv2d(**args).to(TORCH_DTYPES[dtype])
    ref = nn.Conv2d(**args).double()
    ref.load_state_dict(mine.state_dict())  # the same rounded weights, as float64
    with clconv.Context() as c:
        log = CallLog(c)
        previous = ct.context()
        ct.set_context(c)
        try:
            x = torch.from_numpy(uniform(rng, (2, 4, 9, 8))).to(TORCH_DTYPES[dtype])
            with unless_not_supported("%s storage in Conv2d" % dtype):
                y = mine(x)
                y.float().square().sum().backward()
        finally:
            ct.set_context(previous)
    assert len(log.forwards()) == 1 and y.dtype == TORCH_DTYPES[dtype]
    y64 = ref(x.double())
    assert rel_err(y.detach().double().numpy(), y64.detach().numpy()) <= TOLS[dtype]
    assert mine.weight.grad.dtype == TORCH_DTYPES[dtype]


def test_torch_refuses_mixed_and_other_dtypes():
    x, w = torch.ones(1, 2, 5, 5), torch.ones(3, 2, 3, 3)
    with pytest.raises(TypeError, match="one dtype"):
        ct.conv2d(x.half(), w)
    with pytest.raises(TypeError, match="one dtype"):
        ct.conv2d(x.bfloat16(), w.bfloat16(), torch.ones(3, dtype=torch.float16))
    with pytest.raises(TypeError, match="float32 CPU"):
        ct.conv2d(x.to(torch.int32), w.to(torch.int32))
    # the drop-in layer hands mixed dtypes to PyTorch, which refuses them its own way
    layer = ct.Conv2d(2, 3, 3)
    with pytest.raises(RuntimeError):
        layer(x.double())
    assert copy.deepcopy(layer)(x).dtype == torch.float32
