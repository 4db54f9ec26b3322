"""im2col and its adjoint col2im, in cs231n's column order."""

from __future__ import annotations

from typing import Any

import numpy as np

from ._checks import as_array, as_shape
from ._geometry import Geometry, geometry, pad_input
from ._limits import check_unfold
from ._view import window_view


def im2col(
    x: np.ndarray, kernel_size: int | tuple[int, int], *, stride: Any = 1,
    padding: Any = 0, dilation: Any = 1,
) -> np.ndarray:
    """Return the im2col matrix of ``x``, shape ``(C*kh*kw, N*oh*ow)``.

    Row ``(c*kh + i)*kw + j`` holds kernel tap ``(i, j)`` of channel ``c``;
    column ``(n*oh + y)*ow + x`` is the window at output pixel ``(y, x)`` of
    image ``n``: the order of cs231n's ``conv_forward_strides``, so
    ``w.reshape(F, -1) @ im2col(x, ...)`` is the convolution with shape
    ``(F, N*oh*ow)``. The result is always a new, writeable array (the copy
    cs231n's ``np.ascontiguousarray`` makes, which that function skips
    when the view is already contiguous).

    Parameters
    ----------
    x : array_like
        Input of shape ``(N, C, H, W)`` (``N`` or ``C`` may be 0), any
        numeric dtype (kept, byte order included), any memory order; not a
        masked array.
    kernel_size : int or (int, int)
        Kernel height and width.
    stride, padding, dilation : int or (int, int), optional
        As in :func:`conv2d`; ``padding`` is per side and also takes
        ``"valid"`` or ``"same"``.

    Returns
    -------
    numpy.ndarray
        C-ordered array of shape ``(C*kh*kw, N*oh*ow)`` and ``x``'s dtype.

    Raises
    ------
    TypeError, ValueError
        On a bad argument; the message names it. A ``ValueError`` also when
        the padded input and the columns would take more bytes than the
        machine has (:func:`im2col._checks.memory_limit`), before anything
        is allocated.

    See Also
    --------
    col2im : the adjoint, used by the backward pass.
    window_view : the copy-free view this matrix is copied from.

    Examples
    --------
    >>> import numpy as np
    >>> from im2col import im2col
    >>> x = np.arange(16.0).reshape(1, 1, 4, 4)
    >>> cols = im2col(x, 3)
    >>> cols.shape
    (9, 4)
    >>> cols[:, 0]                     # the top-left 3x3 window, flattened
    array([ 0.,  1.,  2.,  4.,  5.,  6.,  8.,  9., 10.])
    >>> im2col(x, 3, padding=1).shape
    (9, 16)
    >>> im2col(x[0], 3)
    Traceback (most recent call last):
    ...
    ValueError: x must have 4 dimensions, got 3 with shape (1, 4, 4)
    """
    x = as_array(x, "x", 4, float_only=False)
    g = geometry(x.shape, kernel_size, stride=stride, padding=padding,
                 dilation=dilation)
    check_unfold(g, x.dtype, "x")
    xp = pad_input(x, g) if g.has_padding else x
    view = window_view(xp, g.kernel, stride=g.stride, dilation=g.dilation)
    (oh, ow), (kh, kw) = g.out, g.kernel
    # view.copy(), not np.ascontiguousarray(view): the latter returns the
    # read-only view itself, sharing x's memory, when the view happens to be
    # C-contiguous (docs/memory.md gives the exact cases).
    cols: np.ndarray = view.copy(order="C").reshape(g.C * kh * kw, g.N * oh * ow)
    return cols


def col2im(
    cols: np.ndarray, x_shape: tuple[int, int, int, int],
    kernel_size: int | tuple[int, int], *, stride: Any = 1, padding: Any = 0,
    dilation: Any = 1,
) -> np.ndarray:
    """Sum the columns of an im2col matrix back into an array of ``x_shape``.

    ``col2im`` is the adjoint of :func:`im2col`, not its inverse: an input
    element covered by ``k`` windows receives the sum of its ``k`` copies,
    so ``col2im(im2col(x))`` is ``x`` times each element's coverage count.
    It is what the backward pass needs: ``dx = col2im(w.T @ dout_cols)``.
    The sum is done by one strided ``+=`` per kernel tap (``kh*kw`` array
    operations), never by writing through overlapping views.

    Parameters
    ----------
    cols : array_like
        Array of shape ``(C*kh*kw, N*oh*ow)`` in :func:`im2col`'s order,
        dtype float32 or float64 (a non-native byte order is converted).
    x_shape : tuple of 4 ints (or a list, or a 1-D integer array)
        The ``(N, C, H, W)`` shape of the unpadded input; ``N`` and ``C``
        may be 0.
    kernel_size, stride, padding, dilation
        The options that produced ``cols``.

    Returns
    -------
    numpy.ndarray
        New array of shape ``x_shape`` and ``cols``'s dtype.

    Raises
    ------
    TypeError, ValueError
        On a bad argument, including ``cols`` of the wrong shape, and
        (``ValueError``) when the padded gradient would not fit the machine.

    Examples
    --------
    >>> import numpy as np
    >>> from im2col import col2im, im2col
    >>> x = np.ones((1, 1, 4, 4))
    >>> col2im(im2col(x, 3), x.shape, 3)[0, 0]    # coverage counts
    array([[1., 2., 2., 1.],
           [2., 4., 4., 2.],
           [2., 4., 4., 2.],
           [1., 2., 2., 1.]])
    >>> col2im(np.ones((9, 5)), x.shape, 3)
    Traceback (most recent call last):
    ...
    ValueError: cols must have shape (9, 4) = (C*kh*kw, N*oh*ow) for x_shape (1, 1, 4, 4), got (9, 5)
    """
    cols = as_array(cols, "cols", 2)
    shape = as_shape(x_shape, "x_shape", "NCHW")
    g = geometry(shape, kernel_size, stride=stride, padding=padding,
                 dilation=dilation)
    (oh, ow), (kh, kw) = g.out, g.kernel
    expected = (g.C * kh * kw, g.N * oh * ow)
    if cols.shape != expected:
        raise ValueError(
            f"cols must have shape {expected} = (C*kh*kw, N*oh*ow) for "
            f"x_shape {shape}, got {cols.shape}"
        )
    check_unfold(g, cols.dtype, "x_shape", result=False)
    # (C, kh, kw, N, oh, ow) -> (kh, kw, N, C, oh, ow): one (N, C, oh, ow)
    # block per tap, added into the strided slice that tap read.
    taps = cols.reshape(g.C, kh, kw, g.N, oh, ow).transpose(1, 2, 3, 0, 4, 5)
    dxp = np.zeros((g.N, g.C, *g.padded), dtype=cols.dtype)
    add_taps(dxp, taps, g)
    rows, columns = g.interior()
    return np.ascontiguousarray(dxp[:, :, rows, columns])


def add_taps(dxp: np.ndarray, taps: np.ndarray, g: Geometry,
             rows: int | None = None) -> None:
    """``dxp[..., tap (i, j) slices] += taps[i, j]`` for every kernel tap.

    ``dxp`` is the padded input, or a band of it read by ``rows`` output
    rows (see :meth:`Geometry.tap_slices`).
    """
    for i in range(g.kernel[0]):
        for j in range(g.kernel[1]):
            ys, xs = g.tap_slices(i, j, rows)
            dxp[:, :, ys, xs] += taps[i, j]


def add_columns(dxp: np.ndarray, cols: np.ndarray, g: Geometry, rows: int) -> None:
    """Add a unit's column gradient ``cols`` ``(m, C, kh, kw, rows, ow)`` into ``dxp``.

    ``dxp`` is the unit's padded band (see :func:`add_taps`). With stride 1
    along the height and at least ``(kh - 1)*dh`` output rows, the kernel
    rows are first summed in place, over runs of whole tap blocks: block
    ``i`` of a tap column is the gradient of the band's rows ``i*dh`` to
    ``i*dh + rows``, so block 0 gathers every row above ``rows`` and the
    last block's last ``(kh - 1)*dh`` rows every row below. Then two strided
    adds per tap column (the second over ``(kh - 1)*dh`` rows), not one per
    tap: fewer passes over runs ``ow`` long, which cost NumPy more per
    element than long runs. ``cols`` is used up. Elsewhere, :func:`add_taps`.
    """
    (kh, kw), (sh, _), (dh, _) = g.kernel, g.stride, g.dilation
    e = (kh - 1) * dh  # band rows below the first block's
    if sh != 1 or kh == 1 or rows < e:
        add_taps(dxp, cols.transpose(2, 3, 0, 1, 4, 5), g, rows)
        return
    for i in range(1, kh):  # rows above ``rows``, into block 0
        cols[:, :, 0, :, i * dh :] += cols[:, :, i, :, : rows - i * dh]
    last = cols[:, :, kh - 1, :, rows - e :]  # its own rows, below ``rows``
    for i in range(1, kh - 1):  # the other blocks' rows below ``rows``
        last[:, :, :, : i * dh] += cols[:, :, i, :, rows - i * dh :]
    for j in range(kw):
        _, xs = g.tap_slices(0, j, rows)
        dxp[:, :, :rows, xs] += cols[:, :, 0, j]
        dxp[:, :, rows : rows + e, xs] += last[:, :, j]
