"""The binding on numpy arrays: the passes and primitives against PyTorch in
float64 and against their definitions, descriptors, and every way a call
can be refused."""
import pickle

import numpy as np
import pytest

import clconv
from clconv import _lib
from helpers import (TOL, CallLog, flip_filter_definition, layer, poison, refuses_outside_domain,
                     rel_err, torch_reference, uniform, upsample_pad_definition)

# (N, C, H, W, K, R, S) and the convolution's keywords: a few distinct
# layers for every algorithm (tests/test_torch.py sweeps many more).
LAYERS = [
    ((2, 3, 7, 7, 4, 3, 3), {"padding": 1}),
    ((2, 4, 9, 8, 6, 3, 2), {"stride": (2, 3), "padding": (1, 0), "groups": 2}),
    ((1, 6, 10, 11, 6, 3, 3), {"padding": 2, "dilation": 2, "groups": 6}),
]


def test_status_names_are_the_librarys():
    names = clconv.STATUS_NAMES
    assert names[0] == "CLCONV_OK" and "CLCONV_BAD_PASS" in names
    assert len(set(names)) == len(names) and all(n.startswith("CLCONV_") for n in names)
    assert _lib.status_name(len(names)) == "CLCONV_UNKNOWN"  # the list ends where C's does
    assert all(clconv.status_code(n) == i for i, n in enumerate(names))
    assert clconv.ALGORITHMS[0] == "auto" and "gemm" in clconv.ALGORITHMS


def test_library_version_matches_package():
    assert clconv.library_version() == clconv.__version__


@pytest.mark.parametrize("algo", clconv.ALGORITHMS)
@pytest.mark.parametrize("shape,conv", LAYERS)
def test_passes_match_torch(ctx, rng, algo, shape, conv):
    d, x, w, dy = layer(rng, *shape, **conv)
    y = poison(d.output_shape)
    if refuses_outside_domain(algo, d, lambda: ctx.forward(d, x, w, out=y, algo=algo), y):
        return
    ref = torch_reference(d, x, w, dy)
    got = {"y": ctx.forward(d, x, w, out=poison(d.output_shape), algo=algo),
           "dx": ctx.backward_data(d, dy, w, out=poison(d.input_shape), algo=algo),
           "dw": ctx.backward_filter(d, x, dy, out=poison(d.weight_shape), algo=algo),
           "db": ctx.backward_bias(d, dy, out=poison(d.bias_shape))}
    for role, value in got.items():
        assert rel_err(value, ref[role]) <= TOL, (role, d)


@pytest.mark.parametrize("shape,conv", LAYERS)
def test_accumulate_adds_to_out(ctx, rng, shape, conv):
    d, x, w, dy = layer(rng, *shape, **conv)
    ref = torch_reference(d, x, w, dy)
    calls = {"dx": lambda out: ctx.backward_data(d, dy, w, out=out, accumulate=True),
             "dw": lambda out: ctx.backward_filter(d, x, dy, out=out, accumulate=True),
             "db": lambda out: ctx.backward_bias(d, dy, out=out, accumulate=True)}
    for role, call in calls.items():
        before = uniform(rng, d.shapes[role])
        out = before.copy()
        assert call(out) is out
        assert rel_err(out, before.astype(np.float64) + ref[role]) <= TOL, role


@pytest.mark.parametrize("shape,conv", LAYERS + [((1, 2, 5, 5, 3, 3, 3), {"padding": 3})])
def test_primitives_match_their_definitions(ctx, rng, shape, conv):
    d, _, w, dy = layer(rng, *shape, **conv)
    up = ctx.upsample_pad(d, dy, out=poison(d.upsample_shape))
    np.testing.assert_array_equal(up, upsample_pad_definition(d, dy))
    wf = ctx.flip_filter(d, w, out=poison(d.flipped_shape))
    np.testing.assert_array_equal(wf, flip_filter_definition(d, w))


def test_new_outputs_when_out_is_not_given(ctx, rng):
    d, x, w, dy = layer(rng, 2, 3, 6, 6, 4, 3, 3, stride=2)
    y = ctx.forward(d, x, w)
    assert y.shape == d.output_shape and y.dtype == np.float32
    assert rel_err(y, torch_reference(d, x, w, dy)["y"]) <= TOL


def test_desc_fields_and_string():
    d = clconv.Desc((2, 3, 5, 5), (4, 3, 3, 3), stride=2, padding=1)
    assert str(d) == "mb2g1ic3ih5iw5oc4kh3kw3sh2sw2ph1pw1dh0dw0"  # the header's example
    assert (d.output_shape, d.stride, d.padding, d.dilation, d.groups) == \
        ((2, 4, 3, 3), (2, 2), (1, 1), (1, 1), 1)
    assert d.flops == 2 * 2 * 4 * 3 * 9 * 9
    g = clconv.Desc((1, 6, 8, 8), (4, 3, 3, 3), groups=2)
    assert (g.bias_shape, g.flipped_shape) == ((4,), (6, 2, 3, 3))


@pytest.mark.parametrize("kwargs,status", [
    ({"stride": 0}, "CLCONV_BAD_STRIDE"),
    ({"padding": (0, -1)}, "CLCONV_BAD_PADDING"),
    ({"dilation": 0}, "CLCONV_BAD_DILATION"),
    ({"groups": 0}, "CLCONV_BAD_GROUPS"),
    ({"groups": 2}, "CLCONV_BAD_GROUPS"),      # C = 3
    ({"dilation": 3}, "CLCONV_EMPTY_OUTPUT"),  # (3-1)*3+1 = 7 > 5
    ({"x": (1, 3, 0, 5)}, "CLCONV_BAD_SIZE"),
    ({"x": (1, 3, 2**62, 5)}, "CLCONV_TOO_LARGE"),
])
def test_descriptors_c_refuses(kwargs, status):
    x = kwargs.pop("x", (1, 3, 5, 5))
    with pytest.raises(clconv.Error) as e:
        clconv.Desc(x, (2, 3, 3, 3), **kwargs)
    assert e.value.name == status and e.value.status == clconv.status_code(status)
    assert e.value.message  # the status's sentence: there is no context


@pytest.mark.parametrize("args,kwargs,exc", [
    (((1, 3, 5, 5), (2, 1, 3, 3)), {}, ValueError),            # C/groups = 3, not 1
    (((1, 3, 5), (2, 3, 3, 3)), {}, ValueError),
    (((1, 3, 5, 5), (2, 3, 3, 3)), {"stride": (1, 2, 3)}, ValueError),
    (((1, 3, 5, 5), (2, 3, 3, 3)), {"stride": 1.5}, TypeError),
    (((1, 3, 5, 5), (2, 3, 3, 3)), {"groups": True}, TypeError),
    (((1, 3, 5, 5), (2, 3, 3, 3)), {"padding": 2**63}, ValueError),  # ctypes would wrap it
])
def test_descriptors_python_refuses(args, kwargs, exc):
    with pytest.raises(exc):
        clconv.Desc(*args, **kwargs)


def bad_calls(ctx, d, x, w, dy):
    """Calls that are wrong in Python, each with the poisoned out it must not touch."""
    y = poison(d.output_shape)
    dx = poison(d.input_shape)
    frozen = poison(d.output_shape)
    frozen.flags.writeable = False
    wide = poison(d.output_shape[:3] + (2 * d.output_shape[3],))
    return [
        (TypeError, y, lambda: ctx.forward(d, x.astype(np.float64), w, out=y)),
        (TypeError, y, lambda: ctx.forward(d, x.astype(">f4"), w, out=y)),
        (TypeError, y, lambda: ctx.forward(d, x.tolist(), w, out=y)),
        (ValueError, y, lambda: ctx.forward(d, np.asfortranarray(x), w, out=y)),
        (ValueError, y, lambda: ctx.forward(d, x[:, :, :, :-1], w, out=y)),
        (ValueError, wide, lambda: ctx.forward(d, x, w, out=wide[..., ::2])),
        (ValueError, y, lambda: ctx.forward(d, x, w[:1], out=y)),
        (TypeError, y, lambda: ctx.forward(d, x, w, out=y.astype(np.float64))),
        (ValueError, frozen, lambda: ctx.forward(d, x, w, out=frozen)),
        (ValueError, y, lambda: ctx.forward(d, x, w, out=y, algo="fastest")),
        (TypeError, y, lambda: ctx.forward((1, 3, 8, 8), x, w, out=y)),
        (ValueError, dx, lambda: ctx.backward_data(d, dy, w, accumulate=True)),
        (ValueError, y, lambda: ctx.upsample_pad(d, y, out=y)),
    ]


def test_bad_arguments_never_reach_c(rng):
    with clconv.Context() as ctx:
        log = CallLog(ctx)
        d, x, w, dy = layer(rng, 1, 3, 8, 8, 4, 3, 3)
        for exc, out, call in bad_calls(ctx, d, x, w, dy):
            with pytest.raises(exc):
                call()
            assert np.isnan(out).all()
        alias = uniform(rng, d.input_shape)  # as many floats as the filter below
        with pytest.raises(ValueError, match="shares memory with x"):
            ctx.backward_filter(clconv.Desc((1, 3, 8, 8), (1, 3, 8, 8)), alias,
                                uniform(rng, (1, 1, 1, 1)), out=alias)
        assert log.calls() == []
        ctx.forward(d, x, w)  # and the log does see a call that is made
        assert len(log.calls("fwd")) == 1


def test_errors_from_c_carry_status_message_and_codes(ctx, rng):
    d, x, w, _ = layer(rng, 1, 3, 8, 8, 4, 3, 3)
    y = poison(d.output_shape)
    with pytest.raises(clconv.Error) as e:
        ctx.forward(d, x, w, out=y, algo=99)  # an int is left for C to judge
    err = e.value
    assert err.name == "CLCONV_BAD_ALGORITHM" and isinstance(err, RuntimeError)
    assert err.message and err.message != _lib.text(_lib.lib.clconv_status_string(err.status))
    assert err.cl_error == 0 and err.build_log == ""
    assert str(err).startswith("CLCONV_BAD_ALGORITHM: ")
    assert np.isnan(y).all()
    copy = pickle.loads(pickle.dumps(err))  # errors cross process boundaries intact
    assert (copy.name, copy.message, copy.cl_error) == (err.name, err.message, err.cl_error)
    with pytest.raises(clconv.Error, match="CLCONV_BAD_PASS"):
        ctx.workspace_size(d, 7)


def test_context_selector_that_matches_nothing():
    with pytest.raises(clconv.Error) as e:
        clconv.Context("no such device anywhere")
    assert e.value.name == "CLCONV_DEVICE_NOT_FOUND"
    with pytest.raises(TypeError):
        clconv.Context(0)


def test_workspace_size_and_finish(ctx):
    d = clconv.Desc((2, 8, 16, 16), (8, 8, 3, 3), padding=1)
    sizes = [ctx.workspace_size(d, p, a) for p in clconv.PASSES for a in clconv.ALGORITHMS]
    assert all(isinstance(s, int) and s >= 0 for s in sizes)
    assert ctx.workspace_size(d, "backward_filter", "explicit") > 0  # materialises dy upsampled
    with pytest.raises(ValueError):
        ctx.workspace_size(d, "sideways")
    ctx.finish()


def test_closed_context_refuses_calls(rng):
    ctx = clconv.Context()
    d, x, w, _ = layer(rng, 1, 3, 8, 8, 4, 3, 3)
    ctx.close()
    ctx.close()  # twice is fine, as clconv_free(NULL)
    with pytest.raises(ValueError, match="closed"):
        ctx.forward(d, x, w)


def test_log_callback_exception_is_raised_by_the_call(rng):
    with clconv.Context() as ctx:
        d, x, w, _ = layer(rng, 1, 3, 8, 8, 4, 3, 3)

        def boom(level, msg):
            raise KeyError("from the callback")

        ctx.set_log(boom, "call")
        with pytest.raises(KeyError):
            ctx.forward(d, x, w)
        ctx.set_log(None)
        assert ctx.forward(d, x, w).shape == d.output_shape  # and the context still works
