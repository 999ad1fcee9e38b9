"""clconv: 2-D convolution layers on OpenCL devices, from Python.

    import numpy as np, clconv
    ctx = clconv.Context()                       # CLCONV_DEVICE, else first GPU, else CPU
    x = np.random.rand(2, 3, 8, 8).astype(np.float32)
    w = np.random.rand(4, 3, 3, 3).astype(np.float32)
    d = clconv.Desc(x.shape, w.shape, stride=2, padding=1)
    y = ctx.forward(d, x, w)                     # shape d.output_shape

Descriptors also carry the storage type (dtype="f16" takes numpy float16
arrays, "bf16" uint16 arrays of bfloat16 bits), the layouts (layout="nhwc",
filter_layout="krsc") and asymmetric padding; ctx.forward_fused adds the
epilogue (bias, activation), clconv.TransposedDesc and ctx.transposed_*
run transposed convolutions.

Every status other than CLCONV_OK raises clconv.Error; arguments that are
wrong in Python (dtype, layout, shape) raise TypeError or ValueError before
the library is called.  ``clconv.torch`` has the PyTorch layer (import it
explicitly: numpy is the only dependency of this module).  The package
prints nothing.
"""
from . import _lib
from ._lib import (ACTIVATIONS, ALGORITHMS, DTYPES, FILTER_LAYOUTS, LAYOUTS, LOG_LEVELS, PASSES,
                   STATUS_NAMES, Error, status_code)
from .context import Context
from .desc import Desc, TransposedDesc

__version__ = "0.3.0"
__all__ = ["ACTIVATIONS", "ALGORITHMS", "DTYPES", "FILTER_LAYOUTS", "LAYOUTS", "LOG_LEVELS",
           "PASSES", "STATUS_NAMES", "Context", "Desc", "Error", "TransposedDesc",
           "library_path", "library_version", "status_code"]


def library_path():
    """The libclconv that was loaded: a path, or a soname found on the system path."""
    return _lib.path


def library_version():
    """The version the loaded library was built as ("0.3.0")."""
    return _lib.text(_lib.lib.clconv_version_string())
