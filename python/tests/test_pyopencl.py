"""The passes on pyopencl buffers: offsets in elements (floats here), the
caller's queue (clconv_create_from), events, the library's own buffer
checks, and the 0.3 calls (fused forward, activation backward, transposed
forward) on buffers."""
import numpy as np
import pyopencl as cl
import pytest
import torch

import clconv
from helpers import (TOL, CallLog, flip_filter_definition, layer, rel_err, torch_reference,
                     uniform, unless_not_supported, upsample_pad_definition)

MF = cl.mem_flags


@pytest.fixture(scope="module")
def queue():
    """A pyopencl queue of our own on the device clconv picks by default."""
    with clconv.Context() as probe:
        device = cl.Device.from_int_ptr(probe.cl_device)
    return cl.CommandQueue(cl.Context([device]), device)


@pytest.fixture(scope="module")
def wrapped(queue):
    with clconv.Context.wrap(queue.context, queue.device, queue) as c:
        yield c


def pool(queue, arrays, gap=5):
    """One buffer holding the arrays one after another, `gap` NaN floats
    before each: (buffer, offsets in floats)."""
    offsets, parts, at = [], [], 0
    for a in arrays:
        parts += [np.full(gap, np.nan, np.float32), a.ravel()]
        offsets.append(at + gap)
        at += gap + a.size
    return cl.Buffer(queue.context, MF.READ_WRITE | MF.COPY_HOST_PTR,
                     hostbuf=np.concatenate(parts)), offsets


def read(queue, buf, off, shape):
    out = np.empty(shape, np.float32)
    cl.enqueue_copy(queue, out, buf, src_offset=4 * off)
    return out


def test_wrapped_context_uses_the_callers_objects(queue, wrapped):
    assert wrapped.cl_queue == queue.int_ptr and wrapped.cl_context == queue.context.int_ptr
    assert wrapped.device_name.endswith(queue.device.name.strip())


def test_passes_and_primitives_on_buffers_at_offsets(queue, wrapped, rng):
    d, x, w, dy = layer(rng, 2, 4, 9, 7, 6, 3, 3, stride=2, padding=1, groups=2)
    ref = torch_reference(d, x, w, dy)
    ref.update(up=upsample_pad_definition(d, dy), wf=flip_filter_definition(d, w))
    inputs, (xo, wo, dyo) = pool(queue, [x, w, dy])
    roles = ["y", "dx", "dw", "db", "up", "wf"]
    outs, offs = pool(queue, [np.full(d.shapes[r], np.nan, np.float32) for r in roles], gap=3)
    at = dict(zip(roles, ((outs, o) for o in offs)))
    events = [wrapped.forward(d, (inputs, xo), (inputs, wo), out=at["y"]),
              wrapped.backward_data(d, (inputs, dyo), (inputs, wo), out=at["dx"], algo="direct"),
              wrapped.backward_filter(d, (inputs, xo), (inputs, dyo), out=at["dw"], algo="gemm"),
              wrapped.backward_bias(d, (inputs, dyo), out=at["db"]),
              wrapped.upsample_pad(d, (inputs, dyo), out=at["up"]),
              wrapped.flip_filter(d, (inputs, wo), out=at["wf"])]
    assert all(isinstance(e, cl.Event) for e in events)
    cl.wait_for_events(events)
    for role, off in zip(roles, offs):
        got = read(queue, outs, off, d.shapes[role])
        assert rel_err(got, ref[role]) <= TOL, role
    assert np.isnan(read(queue, outs, offs[1] - 3, (3,))).all()  # nothing written between


def test_the_librarys_buffer_checks(queue, wrapped, rng):
    d, x, w, _ = layer(rng, 1, 3, 8, 8, 4, 3, 3)
    buf, (xo, wo) = pool(queue, [x, w])
    small = cl.Buffer(queue.context, MF.READ_WRITE, 4 * (int(np.prod(d.output_shape)) - 1))
    frozen = cl.Buffer(queue.context, MF.READ_ONLY, 4 * int(np.prod(d.output_shape)))
    cases = [((buf, xo + 1), "CLCONV_BAD_BUFFER", "overlaps"),  # y over x in one buffer
             (small, "CLCONV_BUFFER_TOO_SMALL", ""),
             (frozen, "CLCONV_BAD_BUFFER", "")]
    for out, status, words in cases:
        with pytest.raises(clconv.Error) as e:
            wrapped.forward(d, (buf, xo), (buf, wo), out=out)
        assert e.value.name == status and words in e.value.message
        assert e.value.message != str(e.value.name)
    np.testing.assert_array_equal(read(queue, buf, xo, x.shape), x)  # the refusal wrote nothing


def test_python_refusals_before_c(queue, rng):
    with clconv.Context.wrap(queue.context, queue.device, queue) as c:
        log = CallLog(c)
        d, x, w, _ = layer(rng, 1, 3, 8, 8, 4, 3, 3)
        buf, (xo, wo) = pool(queue, [x, w])
        with pytest.raises(TypeError, match="give the output buffer"):
            c.forward(d, (buf, xo), (buf, wo))
        with pytest.raises(TypeError, match="numpy array"):
            c.forward(d, x, (buf, wo), out=buf)
        with pytest.raises(ValueError, match="offset"):
            c.forward(d, (buf, -1), (buf, wo), out=buf)
        with pytest.raises(TypeError):
            c.forward(d, "x", (buf, wo), out=buf)
        assert log.calls() == []


def test_pyopencl_on_the_contexts_own_queue(ctx, rng):
    """The other way round: pyopencl buffers in the context clconv made."""
    queue = cl.CommandQueue.from_int_ptr(ctx.cl_queue)
    d, x, w, dy = layer(rng, 1, 2, 6, 6, 3, 3, 3, padding=1)
    xb, wb = (cl.Buffer(queue.context, MF.READ_ONLY | MF.COPY_HOST_PTR, hostbuf=a) for a in (x, w))
    yb = cl.Buffer(queue.context, MF.WRITE_ONLY, 4 * int(np.prod(d.output_shape)))
    ctx.forward(d, xb, wb, out=yb).wait()
    assert rel_err(read(queue, yb, 0, d.output_shape), torch_reference(d, x, w, dy)["y"]) <= TOL


def test_fused_transposed_and_activation_backward_on_buffers(queue, wrapped, rng):
    """The 0.3 calls on buffers at offsets: the epilogue's bias and the
    transposed forward's bias are (buffer, offset) pairs too."""
    d, x, w, dy = layer(rng, 2, 4, 7, 6, 6, 3, 3, padding=1, groups=2)
    td = clconv.TransposedDesc((2, 4, 5, 5), (4, 3, 3, 3), stride=2, padding=1, output_padding=1)
    tx, tw, b = uniform(rng, td.input_shape), uniform(rng, td.weight_shape), uniform(rng, (6,))
    inputs, (xo, wo, dyo, bo, txo, two) = pool(queue, [x, w, dy, b, tx, tw])
    roles = [("y", d.output_shape), ("dz", d.output_shape), ("ty", td.output_shape)]
    outs, offs = pool(queue, [np.full(s, np.nan, np.float32) for _, s in roles], gap=3)
    with unless_not_supported("fused / transposed on buffers"):
        wrapped.forward_fused(d, (inputs, xo), (inputs, wo), out=(outs, offs[0]),
                              bias=(inputs, bo), activation="tanh").wait()
        wrapped.activation_backward(d, (outs, offs[0]), (inputs, dyo), "tanh",
                                    out=(outs, offs[1])).wait()
        wrapped.transposed_forward(td, (inputs, txo), (inputs, two), bias=(inputs, bo),
                                   out=(outs, offs[2])).wait()
    y64 = torch_reference(d, x, w, dy, b)["y"]
    y = read(queue, outs, offs[0], d.output_shape)
    assert rel_err(y, np.tanh(y64)) <= TOL
    dz = read(queue, outs, offs[1], d.output_shape)
    assert rel_err(dz, dy * (1 - y.astype(np.float64) ** 2)) <= TOL
    ty64 = torch.nn.functional.conv_transpose2d(
        *(torch.tensor(a, dtype=torch.float64) for a in (tx, tw, b[:3])), stride=2, padding=1,
        output_padding=1).numpy()
    assert rel_err(read(queue, outs, offs[2], td.output_shape), ty64) <= TOL
