"""The six-dimensional window view of cs231n's strided layer, from ``xp.strides``.

:func:`window_view` checks its arguments; :func:`windows` is the same view
for callers that have checked them (the conv2d strategies, on bands of
rows); :func:`wide_view` is the contiguous-run view of the ``wide`` strategy.
Every view is made by :func:`im2col._compat.strided_view` (NumPy's own
``check_bounds`` where NumPy has it, the same rule otherwise: never past the
memory that owns the buffer) and then checked by :func:`check_inside` against
the array it was made from (never past that array either, even inside a
larger buffer).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._checks import (
    ADDRESSABLE,
    Pair,
    as_array,
    as_pair,
    check_bytes,
    nonempty_image,
    output_size,
)
from ._compat import strided_view
from ._geometry import unused_steps


def window_view(
    xp: np.ndarray, kernel_size: int | tuple[int, int], *, stride: Any = 1,
    dilation: Any = 1,
) -> np.ndarray:
    """Return the read-only window view ``(C, kh, kw, N, oh, ow)`` of ``xp``.

    Element ``[c, i, j, n, y, x]`` of the view is
    ``xp[n, c, y*sh + i*dh, x*sw + j*dw]``: the first three axes walk inside
    one window, the last three walk from window to window. No memory is
    copied. The strides are computed from ``xp.strides``, so the view is
    right for C-ordered, Fortran-ordered, transposed, sliced and
    negative-stride arrays alike (the cs231n code hard-codes C order).

    Parameters
    ----------
    xp : array_like
        An already padded ``(N, C, H, W)`` array, any numeric dtype (byte
        order kept); an ndarray or subclass such as ``numpy.memmap`` is
        viewed, not copied; a masked array is refused.
    kernel_size : int or (int, int)
        Kernel height and width ``(kh, kw)``.
    stride : int or (int, int), optional
        Step between windows, at least 1.
    dilation : int or (int, int), optional
        Step between kernel taps, at least 1.

    Returns
    -------
    numpy.ndarray
        A read-only view of shape ``(C, kh, kw, N, oh, ow)`` whose byte
        strides are ``(sC, dh*sH, dw*sW, sN, sh*sH, sw*sW)`` with
        ``(sN, sC, sH, sW) = xp.strides``.

    Raises
    ------
    TypeError
        If ``xp`` is not array_like of numbers, is a masked array, or an
        option is not an int.
    ValueError
        If ``xp`` is not 4-D or has no rows or columns, an option is out of
        range, the kernel does not fit in ``xp``, or the view would describe
        more bytes than NumPy can address.

    See Also
    --------
    numpy.lib.stride_tricks.sliding_window_view : the same windows, other
        axis order.

    Examples
    --------
    >>> import numpy as np
    >>> from im2col import window_view
    >>> xp = np.arange(2 * 3 * 6 * 6, dtype=np.float64).reshape(2, 3, 6, 6)
    >>> v = window_view(xp, 3, stride=2)
    >>> v.shape
    (3, 3, 3, 2, 2, 2)
    >>> v.strides == (6*6*8, 6*8, 8, 3*6*6*8, 2*6*8, 2*8)
    True
    >>> bool(v[1, 2, 0, 1, 1, 0] == xp[1, 1, 1*2 + 2, 0*2 + 0])
    True
    >>> v.flags.writeable
    False
    >>> window_view(xp, 7)
    Traceback (most recent call last):
    ...
    ValueError: kernel_size along height spans 7 elements (kernel 7, dilation 1), larger than the padded input 6 (size 6 + padding 0 + 0)
    """
    xp = as_array(xp, "xp", 4, float_only=False)
    kernel = as_pair(kernel_size, "kernel_size", minimum=1)
    s = as_pair(stride, "stride", minimum=1)
    d = as_pair(dilation, "dilation", minimum=1)
    nonempty_image(xp.shape, "xp")
    return windows(xp, kernel, s, d)


def windows(xp: np.ndarray, kernel: Pair, stride: Pair, dilation: Pair
            ) -> np.ndarray:
    """:func:`window_view` of a checked ``xp`` and options: no argument checks."""
    (kh, kw), (sh, sw), (dh, dw) = kernel, stride, dilation
    N, C, H, W = xp.shape
    oh = output_size(H, kh, sh, (0, 0), dh, "height")
    ow = output_size(W, kw, sw, (0, 0), dw, "width")
    if max(sh * abs(xp.strides[2]), sw * abs(xp.strides[3]), dh * abs(xp.strides[2]),
           dw * abs(xp.strides[3])) > ADDRESSABLE:  # a step that is never taken
        (sh, sw), (dh, dw) = unused_steps((sh, sw), (dh, dw), (kh, kw), (oh, ow), (H, W))
    # no bytes are allocated, but NumPy cannot describe a larger array
    check_bytes(C * kh * kw * N * oh * ow * xp.itemsize,
                f"the window view {(C, kh, kw, N, oh, ow)}", f"xp of shape {xp.shape}",
                (f"kernel_size={(kh, kw)}", kh * kw), limit=ADDRESSABLE)
    sN, sC, sH, sW = xp.strides
    view = strided_view(
        xp, (C, kh, kw, N, oh, ow), (sC, dh * sH, dw * sW, sN, sh * sH, sw * sW))
    check_inside(view, xp)
    return view


def wide_view(xp: np.ndarray, kernel: Pair, dilation: Pair, ow: int
              ) -> np.ndarray:
    """Return the wide-rows view ``(C, kh, kw, n, span)`` of a padded band.

    ``xp`` is ``(n, C, hb, Wp)`` with contiguous rows; stride 1. Element
    ``[c, i, j, q, t]`` is the flat ``xp[q, c].ravel()[i*dh*Wp + j*dw + t]``,
    ``t < span = (rows-1)*Wp + ow`` for the ``rows`` output rows of the band.
    """
    (kh, kw), (dh, dw) = kernel, dilation
    n, C, hb, wp = xp.shape
    sN, sC, sH, sW = xp.strides
    if sW != xp.itemsize or sH != wp * sW:
        raise ValueError("the wide view needs a band with contiguous rows")
    rows = hb - (kh - 1) * dh
    view = strided_view(
        xp, (C, kh, kw, n, (rows - 1) * wp + ow), (sC, dh * sH, dw * sW, sN, sW))
    check_inside(view, xp)
    return view


def check_inside(view: np.ndarray, base: np.ndarray) -> None:
    """Raise ``ValueError`` unless every byte ``view`` can reach is in ``base``.

    ``view`` is ``as_strided(base, ...)``, so both start at the same element;
    the bytes each reaches are found from its shape and strides (what
    ``numpy.lib.array_utils.byte_bounds`` computes, without its overhead).
    NumPy's ``check_bounds`` (2.5) only keeps a view inside the memory that
    owns the buffer; this keeps it inside ``base`` itself.
    """
    if view.size == 0:
        return
    lo, hi = _reach(view)
    base_lo, base_hi = _reach(base)
    if lo < base_lo or hi > base_hi:
        raise ValueError(
            f"strided view reaches bytes [{lo - base_lo}, {hi - base_lo}) of a "
            f"buffer of {base_hi - base_lo} bytes"
        )


def _reach(a: np.ndarray) -> tuple[int, int]:
    """Bytes ``[lo, hi)`` a non-empty array reaches, from its first element."""
    lo = hi = 0
    for k in range(a.ndim):
        step = (a.shape[k] - 1) * a.strides[k]
        if step < 0:
            lo += step
        else:
            hi += step
    return lo, hi + a.itemsize
