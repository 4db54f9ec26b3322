"""Max pooling from the same windows as the convolution.

Windows that tile the input (stride equal to the kernel, no padding) are a
plain reshape ``(N, C, oh, kh, ow, kw)``; any other windows are
:func:`im2col.window_view` transposed to that same layout. The maximum is a
reduction over the two kernel axes; the backward pass adds ``dout`` into the
input at each window's arg-max, one strided slice per kernel tap.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._checks import as_array, same_dtype
from ._geometry import Geometry, geometry
from ._view import window_view


def pool_geometry(x: np.ndarray, kernel_size: Any, stride: Any, padding: Any) -> Geometry:
    """Check PyTorch's pooling options against ``x`` and return the geometry."""
    g = geometry(x.shape, kernel_size, stride=kernel_size if stride is None else stride,
                 padding=padding, dilation=1)
    for a, axis in enumerate(("height", "width")):
        top, k = g.padding[a][0], g.kernel[a]
        if top > k // 2:
            raise ValueError(
                f"padding along {axis} must be at most half the kernel "
                f"({k} // 2 = {k // 2}), as in PyTorch, got {top}"
            )
    return g


def tiles(g: Geometry) -> bool:
    """Whether the windows are disjoint blocks of the unpadded input."""
    return g.stride == g.kernel and not g.has_padding


def lowest(dtype: np.dtype) -> Any:
    """Return the value that loses every comparison: max pooling's padding."""
    if dtype == np.bool_:
        return False
    if np.issubdtype(dtype, np.integer):
        return np.iinfo(dtype).min
    return -np.inf


def windows(x: np.ndarray, g: Geometry) -> np.ndarray:
    """Return the windows of ``x`` as an ``(N, C, oh, kh, ow, kw)`` array.

    Tiling windows are ``x`` cropped to whole windows and reshaped (a copy
    only if the crop is not contiguous); others are the window view of ``x``
    padded with :func:`lowest`.
    """
    (oh, ow), (kh, kw) = g.out, g.kernel
    if tiles(g):
        return x[:, :, :oh * kh, :ow * kw].reshape(g.N, g.C, oh, kh, ow, kw)
    if g.has_padding:
        xp = np.full((g.N, g.C, *g.padded), lowest(x.dtype), dtype=x.dtype)
        rows, cols = g.interior()
        xp[:, :, rows, cols] = x
    else:
        xp = x
    view: np.ndarray = window_view(xp, g.kernel, stride=g.stride).transpose(
        3, 0, 4, 1, 5, 2)
    return view


def maximum(win: np.ndarray, g: Geometry) -> np.ndarray:
    """Return each window's maximum, one ``np.maximum`` per tap; NaN propagates."""
    kw = g.kernel[1]
    out: np.ndarray = win[:, :, :, 0, :, 0].copy()
    for k in range(1, g.taps):
        np.maximum(out, win[:, :, :, k // kw, :, k % kw], out=out)
    return out


def max_tap(win: np.ndarray, g: Geometry) -> np.ndarray:
    """Return the tap ``i*kw + j`` each window's gradient goes to, PyTorch's way.

    That is the window's first maximum in row-major order, or its last NaN
    (PyTorch's loop lets a NaN replace the maximum found so far). The
    result has shape ``(N, C, oh, ow)`` and the smallest unsigned dtype
    that holds the taps. The taps are visited last to first, each one equal
    to its window's maximum writing its number, so the first one stays:
    two passes per tap. Padding (:func:`lowest`) ties with a real position
    only in a window whose maximum is that value; where one exists, the
    padded positions are left out, so no gradient is lost in the padding.
    """
    kw = g.kernel[1]
    top = maximum(win, g)
    real = None
    if g.has_padding and bool((top == lowest(top.dtype)).any()):
        inside = np.zeros((1, 1, *g.padded), dtype=bool)
        rows, cols = g.interior()
        inside[:, :, rows, cols] = True
        real = window_view(inside, g.kernel, stride=g.stride).transpose(3, 0, 4, 1, 5, 2)
    arg = np.zeros(top.shape, dtype=np.min_scalar_type(g.taps - 1))
    for k in reversed(range(g.taps)):
        hit = win[:, :, :, k // kw, :, k % kw] == top  # never at a NaN
        if real is not None:
            hit &= real[:, :, :, k // kw, :, k % kw]
        np.copyto(arg, k, where=hit)
    if top.dtype.kind in "fc" and bool(np.isnan(top).any()):
        for k in range(g.taps):  # first to last: the last NaN stays
            np.copyto(arg, k, where=np.isnan(win[:, :, :, k // kw, :, k % kw]))
    return arg


def route(dout: np.ndarray, tap: np.ndarray, g: Geometry, dtype: Any) -> np.ndarray:
    """Return ``dx``: ``dout[n, c, y, x]`` added at tap ``tap[n, c, y, x]``.

    One strided slice per kernel tap, summed where windows overlap.
    """
    dxp = np.zeros((g.N, g.C, *g.padded), dtype=dtype)
    zero = np.zeros((), dtype=dtype)
    for i in range(g.kernel[0]):
        for j in range(g.kernel[1]):
            rows, cols = g.tap_slices(i, j)
            dxp[:, :, rows, cols] += np.where(tap == i * g.kernel[1] + j, dout, zero)
    if not g.has_padding:
        return dxp
    rows, cols = g.interior()
    return np.ascontiguousarray(dxp[:, :, rows, cols])


def max_pool2d(
    x: np.ndarray, kernel_size: int | tuple[int, int], *, stride: Any = None,
    padding: Any = 0,
) -> np.ndarray:
    """2-D max pooling of an NCHW batch, as PyTorch's ``max_pool2d``.

    ``out[n, c, y, x]`` is the maximum of window ``(y, x)`` of ``x[n, c]``
    padded on each side with values that never win (``-inf``, or the
    integer dtype's minimum). Windows that tile the input are a reshape of
    ``x``; others are :func:`window_view`, so no column matrix is copied.
    PyTorch's rules: ``stride`` defaults to ``kernel_size``, ``padding`` is
    at most half the kernel, the output size is rounded down
    (``ceil_mode=False``; rows past the last full window are not read), and
    NaN propagates. There is no dilation.

    Parameters
    ----------
    x : numpy.ndarray
        Input ``(N, C, H, W)``, any integer, floating or bool dtype, any
        memory order.
    kernel_size : int or (int, int)
        Window height and width.
    stride : int or (int, int), optional
        Step between windows; ``None`` (the default) is ``kernel_size``.
    padding : int or (int, int), optional
        Implicit ``-inf`` on each side, at most ``kernel_size // 2``.

    Returns
    -------
    numpy.ndarray
        New C-ordered ``(N, C, oh, ow)`` array of ``x``'s dtype.

    Raises
    ------
    TypeError, ValueError
        On a bad argument; the message names it.

    See Also
    --------
    max_pool2d_backward : the gradient, to the first maximum of each window
        (or its last NaN).

    Examples
    --------
    >>> import numpy as np
    >>> from im2col import max_pool2d
    >>> x = np.arange(16.0).reshape(1, 1, 4, 4)
    >>> max_pool2d(x, 2)[0, 0]                  # tiling windows: a reshape
    array([[ 5.,  7.],
           [13., 15.]])
    >>> max_pool2d(x, 3, stride=1)[0, 0]        # overlapping windows
    array([[10., 11.],
           [14., 15.]])
    >>> max_pool2d(x, 2, padding=1).shape
    (1, 1, 3, 3)
    >>> max_pool2d(x, 2, padding=2)
    Traceback (most recent call last):
    ...
    ValueError: padding along height must be at most half the kernel (2 // 2 = 1), as in PyTorch, got 2
    """
    x = as_array(x, "x", 4, float_only=False)
    g = pool_geometry(x, kernel_size, stride, padding)
    return maximum(windows(x, g), g)


def max_pool2d_backward(
    dout: np.ndarray, x: np.ndarray, kernel_size: int | tuple[int, int], *,
    stride: Any = None, padding: Any = 0,
) -> np.ndarray:
    """Gradient of :func:`max_pool2d` with respect to ``x``.

    Each ``dout[n, c, y, x]`` goes to the first maximum of its window in
    row-major order, or to its last NaN (PyTorch's rule), and is summed
    where overlapping windows share their maximum. ``x`` must be
    the input of the forward pass, unchanged.

    Parameters
    ----------
    dout : numpy.ndarray
        Upstream gradient ``(N, C, oh, ow)``, float32 or float64.
    x : numpy.ndarray
        The forward pass's input, same dtype as ``dout`` (as in PyTorch).
    kernel_size : int or (int, int)
        The forward pass's window size.
    stride, padding : int or (int, int), optional
        The forward pass's options.

    Returns
    -------
    numpy.ndarray
        New C-ordered array of ``x``'s shape and dtype.

    Raises
    ------
    TypeError, ValueError
        On a bad argument, including dtypes that differ or ``dout`` of the
        wrong shape.

    Examples
    --------
    >>> import numpy as np
    >>> from im2col import max_pool2d_backward
    >>> x = np.array([[[[1., 3.], [3., 0.]]]])     # a tie: two 3s
    >>> max_pool2d_backward(np.ones((1, 1, 1, 1)), x, 2)[0, 0]
    array([[0., 1.],
           [0., 0.]])
    >>> max_pool2d_backward(np.ones((1, 1, 1, 1), np.float32), x, 2)
    Traceback (most recent call last):
    ...
    TypeError: dout, x must have the same dtype, got: dout is float32, x is float64; convert them with .astype(...) first
    """
    dout = as_array(dout, "dout", 4)
    x = as_array(x, "x", 4)
    same_dtype(dout=dout, x=x)
    g = pool_geometry(x, kernel_size, stride, padding)
    expected = (g.N, g.C, *g.out)
    if dout.shape != expected:
        raise ValueError(
            f"dout must have shape {expected} = (N, C, oh, ow), got {dout.shape}"
        )
    return route(dout, max_tap(windows(x, g), g), g, x.dtype)
