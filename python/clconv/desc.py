"""Convolution descriptors, built from shapes and PyTorch's keyword names."""
import ctypes
import operator

import numpy as np

from . import _lib

_INT64 = (-(1 << 63), (1 << 63) - 1)

# Other spellings of the library's data type names ("f32", "f16", "bf16"):
# numpy's and PyTorch's.
_DTYPE_ALIASES = {"float32": "f32", "float": "f32", "torch.float32": "f32", "torch.float": "f32",
                  "float16": "f16", "half": "f16", "torch.float16": "f16", "torch.half": "f16",
                  "bfloat16": "bf16", "torch.bfloat16": "bf16"}


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


def _code(value, names, what, aliases=None):
    """The enum code of a name (any case; or an alias), or an int left for C to judge."""
    if isinstance(value, str):
        key = value.lower()
        key = (aliases or {}).get(key, key)
        if key in names:
            return names.index(key)
        raise ValueError("unknown %s %r (one of %s)" % (what, value, ", ".join(names)))
    if isinstance(value, int) and not isinstance(value, bool):
        return _int(value, what)
    if aliases is not None:  # a data type: a torch.dtype, or what numpy.dtype() takes
        key = str(value) if str(value).startswith("torch.") else None
        if key is None:
            try:
                key = np.dtype(value).name
            except TypeError:
                key = None
        if aliases.get(key) in names:
            return names.index(aliases[key])
    raise TypeError("%s must be one of %s or an int, not %r" % (what, ", ".join(names), value))


def dtype_code(value):
    """CLCONV_F32/F16/BF16 from "f32", "f16", "bf16", numpy's float32 and
    float16, torch.float32 / float16 / bfloat16, or an int."""
    return _code(value, _lib.DTYPES, "dtype", _DTYPE_ALIASES)


def _padding(padding, kernel, stride, dilation):
    """(top, bottom, left, right) from PyTorch's forms ("valid", "same", an
    int, an (h, w) pair) or ((top, bottom), (left, right))."""
    if isinstance(padding, str):
        if padding == "valid":
            return 0, 0, 0, 0
        if padding != "same":
            raise ValueError("padding must be 'valid', 'same' or numbers, not %r" % padding)
        if stride != (1, 1):
            raise ValueError("padding='same' is not supported for strided convolutions")
        # PyTorch's rule: total (k-1)*d, the extra one (when odd) at the end
        (th, tw) = ((k - 1) * d for k, d in zip(kernel, dilation))
        return th // 2, th - th // 2, tw // 2, tw - tw // 2
    if (isinstance(padding, (tuple, list)) and len(padding) == 2
            and all(isinstance(p, (tuple, list)) for p in padding)):
        (t, b), (l, r) = _pair(padding[0], "padding"), _pair(padding[1], "padding")
        return t, b, l, r
    ph, pw = _pair(padding, "padding")
    return ph, ph, pw, pw


def _stored(shape, channels_last):
    """A logical NCHW / KCRS shape in storage order (NHWC / KRSC when channels_last)."""
    a, b, c, d = shape
    return (a, c, d, b) if channels_last else shape


class _DescBase:
    """What a convolution and a transposed convolution descriptor share."""

    def _fill(self, input_shape, k, r, s, stride, pads, dilation, groups, out_pad, dtype, layout,
              filter_layout):
        n, c, h, w = input_shape
        (sh, sw), (dh, dw) = stride, dilation
        t, b, l, rt = pads
        asym = int((t, l) != (b, rt))
        self._s = _lib.DescStruct(
            n, c, h, w, k, r, s, sh, sw, t, l, dh, dw, _int(groups, "groups"),
            ctypes.sizeof(_lib.DescStruct), asym, b if asym else 0, rt if asym else 0,
            out_pad[0], out_pad[1], dtype_code(dtype),
            _code(layout, _lib.LAYOUTS, "layout"),
            _code(filter_layout, _lib.FILTER_LAYOUTS, "filter_layout"))

    def _sizes(self, fn):
        a, b = ctypes.c_int64(), ctypes.c_int64()
        _lib.check(fn(self.ref, ctypes.byref(a), ctypes.byref(b)))
        return a.value, b.value

    def _set_shapes(self, logical):
        """logical: role -> NCHW / KCRS shape; shapes: the same in storage order."""
        nhwc, krsc = self._s.layout == 1, self._s.filter_layout == 1
        filters = ("w", "dw", "wf")
        self.logical_shapes = dict(logical)
        self.shapes = {role: shape if len(shape) != 4 else
                       _stored(shape, krsc if role in filters else nhwc)
                       for role, shape in logical.items()}

    @property
    def ref(self):
        """The C struct, by reference, for the library's calls."""
        return ctypes.byref(self._s)

    input_shape = property(lambda self: self.shapes["x"])
    weight_shape = property(lambda self: self.shapes["w"])
    output_shape = property(lambda self: self.shapes["y"])
    bias_shape = property(lambda self: self.shapes["db"])
    stride = property(lambda self: (self._s.stride_h, self._s.stride_w))
    dilation = property(lambda self: (self._s.dilation_h, self._s.dilation_w))
    groups = property(lambda self: self._s.groups)
    asymmetric = property(lambda self: bool(self._s.pad_asymmetric))
    dtype = property(lambda self: _lib.DTYPES[self._s.dtype])
    layout = property(lambda self: _lib.LAYOUTS[self._s.layout])
    filter_layout = property(lambda self: _lib.FILTER_LAYOUTS[self._s.filter_layout])
    itemsize = property(lambda self: int(_lib.lib.clconv_dtype_size(self._s.dtype)))

    @property
    def padding(self):
        """(pad_h, pad_w) when symmetric, else ((top, bottom), (left, right))."""
        s = self._s
        if not s.pad_asymmetric:
            return s.pad_h, s.pad_w
        return (s.pad_h, s.pad_h_end), (s.pad_w, s.pad_w_end)

    @property
    def pads(self):
        """(top, bottom, left, right), symmetric or not."""
        s = self._s
        if not s.pad_asymmetric:
            return s.pad_h, s.pad_h, s.pad_w, s.pad_w
        return s.pad_h, s.pad_h_end, s.pad_w, s.pad_w_end

    def __str__(self):
        """benchdnn's syntax, as clconv-bench reads it."""
        buf = ctypes.create_string_buffer(384)
        _lib.check(_lib.lib.clconv_desc_string(self.ref, buf, len(buf)))
        return buf.value.decode()


class Desc(_DescBase):
    """One convolution layer: input N x C x H x W, filter K x C/groups x R x S.

    ``Desc(x.shape, w.shape, stride=1, padding=0, dilation=1, groups=1,
    dtype="f32", layout="nchw", filter_layout="kcrs")`` takes PyTorch's
    names and conventions (an int or an (h, w) pair, dilation 1 = dense).
    The shapes are logical, NCHW and KCRS, whatever the layouts (PyTorch's
    ``.shape`` of a channels_last tensor).  padding: an int, (h, w),
    ((top, bottom), (left, right)) for asymmetric padding, "valid", or
    "same" (stride 1; PyTorch's rule: an odd total puts the extra row and
    column at the bottom and right).  dtype: the storage type of every
    tensor, "f32", "f16" or "bf16" (or numpy's / torch's dtypes); layout
    "nchw" or "nhwc" (x, y, dy, dx), filter_layout "kcrs" or "krsc" (w, dw).
    ``shapes`` maps each tensor role to the shape of the array a call takes
    (storage order: N x H x W x C for NHWC, K x R x S x C/g for KRSC);
    ``logical_shapes`` the NCHW / KCRS ones.  The fields are checked by
    clconv_desc_check, whose refusal (BAD_STRIDE, EMPTY_OUTPUT, ...)
    raises clconv.Error.
    """

    def __init__(self, input_shape, weight_shape, stride=1, padding=0, dilation=1, groups=1,
                 dtype="f32", layout="nchw", filter_layout="kcrs"):
        n, c, h, w = _shape4(input_shape, "input_shape")
        k, cg, r, s = _shape4(weight_shape, "weight_shape")
        stride, dilation = _pair(stride, "stride"), _pair(dilation, "dilation")
        pads = _padding(padding, (r, s), stride, dilation)
        self._fill((n, c, h, w), k, r, s, stride, pads, dilation, groups, (0, 0), dtype, layout,
                   filter_layout)
        _lib.check(_lib.lib.clconv_desc_check(self.ref))
        # the struct has no C/groups of its own: that dimension is ours to check
        g = self._s.groups
        if cg * g != c:
            raise ValueError("weight_shape %r: dimension 1 must be C/groups = %d"
                             % ((k, cg, r, s), c // g))
        self._shapes_from_struct(cg)

    def _shapes_from_struct(self, cg):
        st = self._s
        n, c, h, w, k, r, s, g = st.n, st.c, st.h, st.w, st.k, st.r, st.s, st.groups
        p, q = self._sizes(_lib.lib.clconv_output_size)
        hu, wu = self._sizes(_lib.lib.clconv_upsample_pad_size)
        x, wt, y = (n, c, h, w), (k, cg, r, s), (n, k, p, q)
        # tensor roles -> shapes, as the passes name their arguments
        self._set_shapes({"x": x, "dx": x, "w": wt, "dw": wt, "y": y, "dy": y, "dz": y,
                          "db": (k,), "bias": (k,), "up": (n, k, hu, wu), "wf": (c, k // g, r, s)})

    @classmethod
    def _from_struct(cls, struct):
        """A Desc of a checked C struct (clconv_transposed_as_conv's)."""
        self = cls.__new__(cls)
        self._s = struct
        _lib.check(_lib.lib.clconv_desc_check(self.ref))
        self._shapes_from_struct(struct.c // struct.groups)
        return self

    upsample_shape = property(lambda self: self.shapes["up"])
    flipped_shape = property(lambda self: self.shapes["wf"])

    @property
    def flops(self):
        """2*N*K*(C/groups)*R*S*P*Q, the FLOP count of each of the three passes."""
        return _lib.lib.clconv_flops(self.ref)

    def __repr__(self):
        return "clconv.Desc(%s)" % self


class TransposedDesc(_DescBase):
    """One transposed convolution (PyTorch's ConvTranspose2d): input
    N x C x H x W, filter C x K/groups x R x S, output N x K x HO x WO with
    HO = (H-1)*stride - top - bottom + (R-1)*dilation + 1 + output_padding.

    ``TransposedDesc(x.shape, w.shape, stride=1, padding=0,
    output_padding=0, dilation=1, groups=1, dtype="f32", layout="nchw",
    filter_layout="kcrs")``: ConvTranspose2d's names (its filter shape, the
    output channels K = w.shape[1] * groups); padding as Desc's except
    "same"; output_padding below the stride.  KRSC stores the filter
    C x R x S x K/groups.  The roles: x (its input), y (its output), dy,
    dx, w, dw, db; ``as_conv()`` is the convolution whose backward-data it is.
    """

    def __init__(self, input_shape, weight_shape, stride=1, padding=0, output_padding=0,
                 dilation=1, groups=1, dtype="f32", layout="nchw", filter_layout="kcrs"):
        n, c, h, w = _shape4(input_shape, "input_shape")
        cw, kg, r, s = _shape4(weight_shape, "weight_shape")
        if isinstance(padding, str) and padding != "valid":
            raise ValueError("a transposed convolution's padding must be numbers or 'valid', "
                             "not %r" % padding)
        stride, dilation = _pair(stride, "stride"), _pair(dilation, "dilation")
        pads = _padding(padding, (r, s), stride, dilation)
        g = _int(groups, "groups")
        self._fill((n, c, h, w), kg * g, r, s, stride, pads, dilation, g,
                   _pair(output_padding, "output_padding"), dtype, layout, filter_layout)
        ho, wo = self._sizes(_lib.lib.clconv_transposed_output_size)
        if cw != c:
            raise ValueError("weight_shape %r: dimension 0 must be the input's channels C = %d"
                             % ((cw, kg, r, s), c))
        x, wt, y = (n, c, h, w), (c, kg, r, s), (n, kg * g, ho, wo)
        self._set_shapes({"x": x, "dx": x, "w": wt, "dw": wt, "y": y, "dy": y,
                          "db": (kg * g,), "bias": (kg * g,)})

    output_padding = property(lambda self: (self._s.out_pad_h, self._s.out_pad_w))

    def as_conv(self):
        """The convolution (a Desc) whose backward-data this transposed convolution is."""
        conv = _lib.DescStruct()
        _lib.check(_lib.lib.clconv_transposed_as_conv(self.ref, ctypes.byref(conv)))
        return Desc._from_struct(conv)

    def __repr__(self):
        return "clconv.TransposedDesc(%s)" % self
