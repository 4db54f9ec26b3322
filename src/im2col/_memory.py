"""Predict the arrays of the full-im2col convolution, and measure peaks."""

from __future__ import annotations

import math
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np

from ._checks import as_shape
from ._geometry import geometry

T = TypeVar("T")


@dataclass(frozen=True)
class MemoryBill:
    """Bytes of each array of cs231n's ``conv_forward_strides`` algorithm.

    The algorithm pads ``x``, copies the window view into the im2col matrix
    (``columns``), multiplies by the filters (``product``, ``(F, N*oh*ow)``)
    and copies the transposed product into the NCHW ``output``. Its backward
    pass reshapes ``dout`` (``dout_rows``, one copy), computes ``dw``, the
    column gradient (``dcolumns``, as large as ``columns``) and sums it into
    a zeroed padded gradient whose interior is ``dx``. The figures count
    these arrays as :func:`im2col.cs231n.conv_forward_strides` and cs231n's
    ``conv_backward_strides`` make them; ``padded`` is 0 when ``pad == 0``
    because the former makes no padded copy then (NumPy's ``np.pad``
    copies even then). Where a size is 1 the transposed array is in order
    already and NumPy skips a copy that the peaks count: the output's when
    ``N`` or ``F`` is 1, ``dout_rows`` when ``N``, ``F`` or ``oh*ow`` is 1.

    Their peaks measured by :func:`peak_memory` add what NumPy allocates
    inside a ufunc loop (col2im's strided ``+=``, the forward's ``+= b``):
    a buffer of up to :func:`numpy.getbufsize` elements (8192) per operand,
    at most 192 KiB of float64, and a few KiB of Python objects.

    :mod:`im2col.cs231n`'s backward returns ``dx`` the same way, copies
    no C-ordered ``dout`` (another a chunk at a time) and makes the column
    gradient a chunk of images at a time (about a MiB per worker thread):
    its arrays are at most :attr:`backward_peak` less ``output``, plus two
    arrays with ``w``'s number of elements per worker thread, and on a
    large batch far less.

    Attributes
    ----------
    input, padded, columns, output, weights : int
        Bytes of ``x``, the padded copy, the im2col matrix, the output and
        ``w``.

    Examples
    --------
    >>> from im2col import memory_bill
    >>> bill = memory_bill((8, 16, 32, 32), (32, 16, 3, 3), padding=1)
    >>> bill.input, bill.columns, bill.cache
    (1048576, 9437184, 9437184)
    >>> round(bill.column_ratio, 2)       # 3*3 / 1**2
    9.0
    >>> bill.forward_peak == bill.columns + 2 * bill.output
    True
    >>> bill.input = 0
    Traceback (most recent call last):
    ...
    dataclasses.FrozenInstanceError: cannot assign to field 'input'
    """

    input: int
    padded: int
    columns: int
    output: int
    weights: int

    @property
    def product(self) -> int:
        """Bytes of ``w2d @ columns``, the same as :attr:`output`."""
        return self.output

    @property
    def cache(self) -> int:
        """Bytes the forward's cache keeps alive beyond ``x, w, b``: the columns."""
        return self.columns

    @property
    def column_ratio(self) -> float:
        """``columns / input``: about ``kh*kw / stride**2``; NaN for an empty input."""
        return self.columns / self.input if self.input else math.nan

    @property
    def forward_peak(self) -> int:
        """Bytes of the arrays the forward call holds at its peak, its result included.

        The padded copy and the columns coexist while the view is copied;
        later the columns, the product and the output do. NumPy's buffers
        come on top of it (see :class:`MemoryBill`).
        """
        return max(self.padded + self.columns,
                   self.columns + self.product + self.output)

    @property
    def backward_peak(self) -> int:
        """Bytes of the arrays cs231n's backward pass holds at its peak, its results included.

        ``dout_rows``, ``dw`` and ``dcolumns``, then the zeroed padded
        gradient, whose interior ``dx`` is (a view, as in cs231n's col2im;
        at ``pad == 0`` the gradient is ``x``'s size). NumPy's buffers for
        col2im's ``+=`` come on top of it (see :class:`MemoryBill`).
        """
        return self.output + self.weights + self.columns + (self.padded or self.input)


def memory_bill(
    x_shape: tuple[int, int, int, int], w_shape: tuple[int, int, int, int], *,
    stride: Any = 1, padding: Any = 0, dilation: Any = 1,
    dtype: Any = np.float64,
) -> MemoryBill:
    """Predict the bytes of every array of the full-im2col convolution.

    Parameters
    ----------
    x_shape : tuple of 4 ints (or a list, or a 1-D integer array)
        ``(N, C, H, W)``.
    w_shape : tuple of 4 ints (or a list, or a 1-D integer array)
        ``(F, C, kh, kw)``.
    stride, padding, dilation : int or (int, int), optional
        As in :func:`conv2d` (``padding`` per side).
    dtype : numpy dtype, optional
        Element type (anything ``numpy.dtype`` takes); only its itemsize
        matters.

    Returns
    -------
    MemoryBill
        Byte counts of arrays; ``forward_peak`` is what
        :func:`im2col.cs231n.conv_forward_strides` holds at its peak,
        ``backward_peak`` what cs231n's ``conv_backward_strides`` holds;
        a :func:`peak_memory` measurement adds NumPy's buffers, up to 192 KiB
        of float64. :func:`im2col.cs231n.conv_backward_strides` holds less
        than ``backward_peak`` on a large batch, and at most two arrays
        with ``w``'s number of elements per thread more on any (see
        :class:`MemoryBill`).

    Raises
    ------
    TypeError
        If a shape is not a tuple, list or 1-D array, or holds a non-int;
        or if an option is not an int.
    ValueError
        If a size is out of range (``N`` and ``C`` may be 0, as in PyTorch;
        ``F``, ``H``, ``W``, ``kh``, ``kw`` must be at least 1), the channels
        differ, an option is out of range or the kernel does not fit.

    Examples
    --------
    >>> from im2col import memory_bill
    >>> bill = memory_bill((50, 3, 32, 32), (32, 3, 7, 7), padding=3,
    ...                    dtype="float32")
    >>> bill.columns                     # 3*7*7 rows, 50*32*32 columns, 4 bytes
    30105600
    >>> round(bill.column_ratio, 2)      # about kh*kw / stride**2
    49.0
    >>> memory_bill((1, 3, 8, 8), (4, 2, 3, 3))
    Traceback (most recent call last):
    ...
    ValueError: w_shape[1] must equal x_shape[1] (channels), got 2 and 3
    """
    N, C, H, W = as_shape(x_shape, "x_shape", "NCHW")
    F, Cw, kh, kw = as_shape(w_shape, "w_shape", "FCHW")
    if Cw != C:
        raise ValueError(
            f"w_shape[1] must equal x_shape[1] (channels), got {Cw} and {C}"
        )
    g = geometry((N, C, H, W), (kh, kw), stride=stride, padding=padding,
                 dilation=dilation, kernel_name="w_shape[2:]")
    item = _itemsize(dtype)
    oh, ow = g.out
    hp, wp = g.padded
    return MemoryBill(
        input=N * C * H * W * item,
        padded=N * C * hp * wp * item if g.has_padding else 0,
        columns=C * kh * kw * N * oh * ow * item,
        output=N * F * oh * ow * item,
        weights=F * C * kh * kw * item,
    )


def _itemsize(dtype: Any) -> int:
    """``numpy.dtype(dtype).itemsize``, or a ``TypeError`` naming ``dtype``."""
    try:
        return int(np.dtype(dtype).itemsize)
    except (TypeError, ValueError) as e:
        raise TypeError(f"dtype must be a NumPy dtype or a name of one, got "
                        f"{type(dtype).__name__} {dtype!r:.80}: {e}") from None


def peak_memory(func: Callable[..., T], /, *args: Any, **kwargs: Any) -> tuple[T, int]:
    """Call ``func(*args, **kwargs)`` and return ``(result, peak_bytes)``.

    ``peak_bytes`` is the highest number of bytes allocated during the call
    beyond what was allocated before it, as traced by :mod:`tracemalloc`
    (NumPy reports its array buffers there). It includes the result.

    Parameters
    ----------
    func : callable
        The function to call.
    *args, **kwargs
        Its arguments.

    Returns
    -------
    result
        What ``func`` returned.
    peak_bytes : int
        Peak bytes allocated during the call, beyond those allocated before.

    Raises
    ------
    TypeError
        If ``func`` is not callable.

    Examples
    --------
    >>> import numpy as np
    >>> from im2col import peak_memory
    >>> arr, peak = peak_memory(np.ones, 1_000_000)    # 8 MB of float64
    >>> 8_000_000 <= peak < 8_100_000
    True
    >>> peak_memory(np.ones((3, 3)))
    Traceback (most recent call last):
    ...
    TypeError: func must be callable, got ndarray
    """
    if not callable(func):
        raise TypeError(f"func must be callable, got {type(func).__name__}")
    was_tracing = tracemalloc.is_tracing()
    if not was_tracing:
        tracemalloc.start()
    try:
        before, _ = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        result = func(*args, **kwargs)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        if not was_tracing:
            tracemalloc.stop()
    return result, peak - before
