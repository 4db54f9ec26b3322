"""The seed's six-dimensional window view, built from ``xp.strides``."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.lib.array_utils import byte_bounds
from numpy.lib.stride_tricks import as_strided

from ._checks import (
    ADDRESSABLE,
    as_array,
    as_pair,
    check_bytes,
    nonempty_image,
    output_size,
)
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
    kh, kw = as_pair(kernel_size, "kernel_size", minimum=1)
    sh, sw = as_pair(stride, "stride", minimum=1)
    dh, dw = as_pair(dilation, "dilation", minimum=1)
    nonempty_image(xp.shape, "xp")
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
    view = as_strided(
        xp,
        shape=(C, kh, kw, N, oh, ow),
        strides=(sC, dh * sH, dw * sW, sN, sh * sH, sw * sW),
        writeable=False,
    )
    check_inside(view, xp)
    return view


def check_inside(view: np.ndarray, base: np.ndarray) -> None:
    """Raise ``ValueError`` unless every byte ``view`` can reach is in ``base``.

    ``as_strided`` checks nothing before NumPy 2.5; this is the check.
    """
    if view.size == 0:
        return
    lo, hi = byte_bounds(view)
    base_lo, base_hi = byte_bounds(base)
    if lo < base_lo or hi > base_hi:
        raise ValueError(
            f"strided view reaches bytes [{lo - base_lo}, {hi - base_lo}) of a "
            f"buffer of {base_hi - base_lo} bytes"
        )
