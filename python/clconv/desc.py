"""Convolution descriptors, built from shapes and PyTorch's keyword names."""
import ctypes
import operator

from . import _lib

_INT64 = (-(1 << 63), (1 << 63) - 1)


def _int(value, what):
    """A Python int that fits the C struct's int64 (ctypes would wrap it)."""
    if isinstance(value, bool):
        raise TypeError("%s must be an int, not bool" % what)
    try:
        v = operator.index(value)
    except TypeError:
        raise TypeError("%s must be an int, not %s" % (what, type(value).__name__)) from None
    if not _INT64[0] <= v <= _INT64[1]:
        raise ValueError("%s = %d does not fit in int64" % (what, v))
    return v


def _pair(value, what):
    """An int or a pair of ints, as PyTorch's stride, padding and dilation."""
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError("%s must be an int or a pair, not %r" % (what, value))
        return _int(value[0], what), _int(value[1], what)
    v = _int(value, what)
    return v, v


def _shape4(shape, what):
    try:
        dims = tuple(shape)
    except TypeError:
        raise TypeError("%s must be a sequence of 4 ints" % what) from None
    if len(dims) != 4:
        raise ValueError("%s must have 4 dimensions (NCHW / KCRS), not %r" % (what, dims))
    return tuple(_int(d, what) for d in dims)


class Desc:
    """One convolution layer: input N x C x H x W, filter K x C/groups x R x S.

    ``Desc(x.shape, w.shape, stride=1, padding=0, dilation=1, groups=1)``
    takes PyTorch's names and conventions (an int or an (h, w) pair,
    dilation 1 = dense).  The fields are checked by clconv_desc_check, whose
    refusal (BAD_STRIDE, EMPTY_OUTPUT, ...) raises clconv.Error.
    """

    def __init__(self, input_shape, weight_shape, stride=1, padding=0, dilation=1, groups=1):
        n, c, h, w = _shape4(input_shape, "input_shape")
        k, cg, r, s = _shape4(weight_shape, "weight_shape")
        sh, sw = _pair(stride, "stride")
        ph, pw = _pair(padding, "padding")
        dh, dw = _pair(dilation, "dilation")
        g = _int(groups, "groups")
        self._s = _lib.DescStruct(n, c, h, w, k, r, s, sh, sw, ph, pw, dh, dw, g,
                                  ctypes.sizeof(_lib.DescStruct))
        _lib.check(_lib.lib.clconv_desc_check(self.ref))
        # the struct has no C/groups of its own: that dimension is ours to check
        if cg * g != c:
            raise ValueError("weight_shape %r: dimension 1 must be C/groups = %d"
                             % ((k, cg, r, s), c // g))
        p, q = self._sizes(_lib.lib.clconv_output_size)
        hu, wu = self._sizes(_lib.lib.clconv_upsample_pad_size)
        x, wt, y = (n, c, h, w), (k, cg, r, s), (n, k, p, q)
        # tensor roles -> shapes, as the passes name their arguments
        self.shapes = {"x": x, "dx": x, "w": wt, "dw": wt, "y": y, "dy": y, "db": (k,),
                       "up": (n, k, hu, wu), "wf": (c, k // g, r, s)}

    def _sizes(self, fn):
        a, b = ctypes.c_int64(), ctypes.c_int64()
        _lib.check(fn(self.ref, ctypes.byref(a), ctypes.byref(b)))
        return a.value, b.value

    @property
    def ref(self):
        """The C struct, by reference, for the library's calls."""
        return ctypes.byref(self._s)

    input_shape = property(lambda self: self.shapes["x"])
    weight_shape = property(lambda self: self.shapes["w"])
    output_shape = property(lambda self: self.shapes["y"])
    bias_shape = property(lambda self: self.shapes["db"])
    upsample_shape = property(lambda self: self.shapes["up"])
    flipped_shape = property(lambda self: self.shapes["wf"])
    stride = property(lambda self: (self._s.stride_h, self._s.stride_w))
    padding = property(lambda self: (self._s.pad_h, self._s.pad_w))
    dilation = property(lambda self: (self._s.dilation_h, self._s.dilation_w))
    groups = property(lambda self: self._s.groups)

    @property
    def flops(self):
        """2*N*K*(C/groups)*R*S*P*Q, the FLOP count of each of the three passes."""
        return _lib.lib.clconv_flops(self.ref)

    def __str__(self):
        """benchdnn's syntax, as clconv-bench reads it."""
        buf = ctypes.create_string_buffer(384)
        _lib.check(_lib.lib.clconv_desc_string(self.ref, buf, len(buf)))
        return buf.value.decode()

    def __repr__(self):
        return "clconv.Desc(%s)" % self
