"""cs231n's ``max_pool_forward_reshape`` / ``max_pool_backward_reshape``.

Square windows that tile the input, by reshape; the gradient of a tied
maximum is split equally between the tied positions, as in the original.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._checks import as_array
from . import _params

ReshapeCache = tuple[np.ndarray, np.ndarray, np.ndarray]


def max_pool_forward_reshape(
    x: np.ndarray, pool_param: dict[str, Any]
) -> tuple[np.ndarray, ReshapeCache]:
    """Max pooling of square windows that tile ``x``, by one reshape.

    Parameters
    ----------
    x : numpy.ndarray
        Input ``(N, C, H, W)``, any bool, integer or floating dtype.
    pool_param : dict
        ``'pool_height'``, ``'pool_width'`` and ``'stride'``, all equal, and
        dividing ``H`` and ``W``.

    Returns
    -------
    out : numpy.ndarray
        ``(N, C, H/stride, W/stride)``, ``x``'s dtype.
    cache : tuple
        ``(x, x_reshaped, out)``, ``x_reshaped`` being
        ``x.reshape(N, C, H/ph, ph, W/pw, pw)`` (a view of ``x`` when ``x``
        is C-contiguous, as in the original).

    Raises
    ------
    TypeError, ValueError
        On a bad argument, or windows that are not square or do not tile.

    Examples
    --------
    >>> import numpy as np
    >>> from im2col.cs231n import max_pool_forward_reshape
    >>> x = np.arange(16).reshape(1, 1, 4, 4)          # integers are fine
    >>> max_pool_forward_reshape(x, {"pool_height": 2, "pool_width": 2, "stride": 2})[0]
    array([[[[ 5,  7],
             [13, 15]]]])
    >>> max_pool_forward_reshape(x, {"pool_height": 3, "pool_width": 3, "stride": 3})
    Traceback (most recent call last):
    ...
    ValueError: max_pool_forward_reshape needs square windows that tile x: pool_height == pool_width == stride dividing H and W, got (3, 3, 3) for x.shape (1, 1, 4, 4); use max_pool_forward_fast
    """
    ph, pw, stride = _params.pool_param(pool_param)
    x = _params.data(x, "x")
    N, C, H, W = x.shape
    if not (ph == pw == stride) or H % ph or W % pw:
        raise ValueError(
            "max_pool_forward_reshape needs square windows that tile x: "
            "pool_height == pool_width == stride dividing H and W, got "
            f"{(ph, pw, stride)} for x.shape {x.shape}; use max_pool_forward_fast"
        )
    x_reshaped = x.reshape(N, C, H // ph, ph, W // pw, pw)
    out = x_reshaped.max(axis=3).max(axis=4)
    return out, (x, x_reshaped, out)


def max_pool_backward_reshape(dout: np.ndarray, cache: ReshapeCache) -> np.ndarray:
    """Backward pass of :func:`max_pool_forward_reshape`.

    Every position of a window equal to its cached maximum (a NaN counts as
    equal to a NaN maximum) gets ``dout`` divided by their number: a tie
    between two positions gives each half, as the original's active line
    ``dx_reshaped /= np.sum(mask, ...)`` does. Like the original, it reads
    ``x_reshaped`` and ``out`` from the cache.

    Parameters
    ----------
    dout : numpy.ndarray
        Upstream gradient of ``out``'s shape.
    cache : tuple
        The cache returned by :func:`max_pool_forward_reshape`.

    Returns
    -------
    numpy.ndarray
        ``dx`` of ``x``'s shape, in ``numpy.result_type(x, dout)``, or
        float64 where that is not a float (the original returns ``x``'s
        dtype, casting a float64 ``dout`` down to a float32 ``x``, and fails
        on an integer ``x``).

    Examples
    --------
    >>> import numpy as np
    >>> from im2col.cs231n import max_pool_backward_reshape, max_pool_forward_reshape
    >>> x = np.array([[[[1., 3.], [3., 0.]]]])         # a tie: two 3s
    >>> out, cache = max_pool_forward_reshape(
    ...     x, {"pool_height": 2, "pool_width": 2, "stride": 2})
    >>> max_pool_backward_reshape(np.ones_like(out), cache)[0, 0]
    array([[0. , 0.5],
           [0.5, 0. ]])
    >>> max_pool_backward_reshape(np.ones_like(out), cache[:2])
    Traceback (most recent call last):
    ...
    ValueError: cache must be the 3-tuple (x, x_reshaped, out) from max_pool_forward_reshape, got a tuple of 2 items
    """
    x, x_reshaped, out = _params.cache(cache, 3, "(x, x_reshaped, out)",
                                       "max_pool_forward_reshape")
    x = _params.data(x, "cache x")
    x_reshaped = as_array(x_reshaped, "cache x_reshaped", 6, float_only=False)
    out = _params.data(out, "cache out")
    dout = _params.pool_dout(dout, out.shape)
    dtype = _params.gradient_dtype(x_reshaped, dout)
    ph, pw = x_reshaped.shape[3], x_reshaped.shape[5]
    nan = out.dtype.kind in "fc" and bool(np.isnan(out).any())
    # One (N, C, out_h, out_w) mask per tap: long inner loops, no 6-D broadcast.
    masks = []
    for k in range(ph * pw):
        tap = x_reshaped[:, :, :, k // pw, :, k % pw]
        masks.append((tap == out) | (np.isnan(tap) & np.isnan(out)) if nan else tap == out)
    count = np.zeros(out.shape, dtype=np.intp)
    for m in masks:
        count += m
    share = dout.astype(dtype, copy=False) / np.maximum(count, 1).astype(dtype)
    dx = np.zeros(x_reshaped.shape, dtype=dtype)
    for k, m in enumerate(masks):
        np.copyto(dx[:, :, :, k // pw, :, k % pw], share, where=m)
    return dx.reshape(x.shape)
