"""Convolution from NumPy stride tricks: im2col, col2im, conv2d and friends.

The functions take NCHW arrays in any memory order, check every argument,
and never hand out a writeable or out-of-bounds view. ``im2col.cs231n``
holds drop-in replacements for every function of cs231n's ``fast_layers``.
"""

from importlib.metadata import PackageNotFoundError, version

from ._columns import col2im, im2col
from ._conv import conv2d
from ._conv_backward import conv2d_backward
from ._memory import MemoryBill, memory_bill, peak_memory
from ._pool import max_pool2d, max_pool2d_backward
from ._size import conv_output_size
from ._view import window_view

__all__ = [
    "MemoryBill",
    "col2im",
    "conv2d",
    "conv2d_backward",
    "conv_output_size",
    "im2col",
    "max_pool2d",
    "max_pool2d_backward",
    "memory_bill",
    "peak_memory",
    "window_view",
]
try:
    __version__ = version("im2col")  # pyproject.toml's, the one place it is written
except PackageNotFoundError:  # pragma: no cover - run from a source tree
    __version__ = "unknown"
