"""clconv: 2-D convolution layers on OpenCL devices, from Python.

    import numpy as np, clconv
    ctx = clconv.Context()                       # CLCONV_DEVICE, else first GPU, else CPU
    x = np.random.rand(2, 3, 8, 8).astype(np.float32)
    w = np.random.rand(4, 3, 3, 3).astype(np.float32)
    d = clconv.Desc(x.shape, w.shape, stride=2, padding=1)
    y = ctx.forward(d, x, w)                     # shape d.output_shape

Every status other than CLCONV_OK raises clconv.Error; arguments that are
wrong in Python (dtype, layout, shape) raise TypeError or ValueError before
the library is called.  ``clconv.torch`` has the PyTorch layer (import it
explicitly: numpy is the only dependency of this module).  The package
prints nothing.
"""
from . import _lib
from ._lib import ALGORITHMS, LOG_LEVELS, PASSES, STATUS_NAMES, Error, status_code
from .context import Context
from .desc import Desc

__version__ = "0.2.0"
__all__ = ["ALGORITHMS", "LOG_LEVELS", "PASSES", "STATUS_NAMES", "Context", "Desc", "Error",
           "library_path", "library_version", "status_code"]


def library_path():
    """The libclconv that was loaded: a path, or a soname found on the system path."""
    return _lib.path


def library_version():
    """The version the loaded library was built as ("0.2.0")."""
    return _lib.text(_lib.lib.clconv_version_string())
