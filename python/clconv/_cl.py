"""The three OpenCL calls that running a primitive on numpy arrays needs.

The four passes have host-array calls in the C API; the two primitives
(upsample_pad, flip_filter) take only cl_mem, so for numpy arrays they run
on temporary buffers in the context's own cl_context.  libclconv links
libOpenCL.so.1, so this names the ICD loader the library already uses.
"""
import ctypes

from . import _lib

_ocl = ctypes.CDLL("libOpenCL.so.1")
_ocl.clCreateBuffer.restype = ctypes.c_void_p
_ocl.clCreateBuffer.argtypes = [ctypes.c_void_p, ctypes.c_uint64, ctypes.c_size_t,
                                ctypes.c_void_p, ctypes.POINTER(ctypes.c_int32)]
_ocl.clEnqueueReadBuffer.restype = ctypes.c_int32
_ocl.clEnqueueReadBuffer.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_uint32,
                                     ctypes.c_size_t, ctypes.c_size_t, ctypes.c_void_p,
                                     ctypes.c_uint32, ctypes.c_void_p, ctypes.c_void_p]
_ocl.clReleaseMemObject.argtypes = [ctypes.c_void_p]

CL_MEM_READ_WRITE = 1 << 0
CL_MEM_COPY_HOST_PTR = 1 << 5


def _fail(what, err):
    return _lib.Error(_lib.status_code("CLCONV_OPENCL_ERROR"), what + " failed", err)


class TempBuffers:
    """cl_mem copies of numpy arrays, released when the `with` block ends."""

    def __init__(self, cl_context):
        self._context = cl_context
        self._mems = []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        for m in self._mems:
            _ocl.clReleaseMemObject(m)

    def create(self, array, copy):
        """A buffer of array's size, holding a copy of it when `copy`."""
        err = ctypes.c_int32(0)
        flags = CL_MEM_READ_WRITE | (CL_MEM_COPY_HOST_PTR if copy else 0)
        mem = _ocl.clCreateBuffer(self._context, flags, array.nbytes,
                                  array.ctypes.data if copy else None, ctypes.byref(err))
        if not mem:
            raise _fail("clCreateBuffer", err.value)
        self._mems.append(mem)
        return mem


def read(queue, mem, array):
    """Blocking read of a whole buffer into a dense array."""
    err = _ocl.clEnqueueReadBuffer(queue, mem, 1, 0, array.nbytes, array.ctypes.data, 0, None,
                                   None)
    if err:
        raise _fail("clEnqueueReadBuffer", err)
