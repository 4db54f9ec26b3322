"""cs231n's ``max_pool_forward_im2col`` / ``max_pool_backward_im2col``.

Any windows, through the window view; the whole gradient goes to the first
maximum (``numpy.argmax``), as in the original.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._checks import as_array
from .._pool import route
from .._view import window_view
from . import _params

Im2colCache = tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]


def max_pool_forward_im2col(
    x: np.ndarray, pool_param: dict[str, Any]
) -> tuple[np.ndarray, Im2colCache]:
    """Max pooling of any windows, through a column matrix.

    Parameters
    ----------
    x : numpy.ndarray
        Input ``(N, C, H, W)``, any bool, integer or floating dtype.
    pool_param : dict
        ``'pool_height'``, ``'pool_width'`` and ``'stride'``; the output
        size is rounded down, ``(H - pool_height) // stride + 1`` (the
        original asserts that the windows fit exactly).

    Returns
    -------
    out : numpy.ndarray
        C-ordered ``(N, C, out_h, out_w)``, ``x``'s dtype.
    cache : tuple
        ``(x, x_cols, x_cols_argmax, pool_param)``: ``x_cols`` is
        ``(pool_height*pool_width, out_h*out_w*N*C)``, one window per column
        ordered ``(out_h, out_w, N, C)``, and ``x_cols_argmax`` the row of
        each column's first maximum.

    Examples
    --------
    >>> import numpy as np
    >>> from im2col.cs231n import max_pool_forward_im2col
    >>> x = np.arange(25.0).reshape(1, 1, 5, 5)
    >>> out, cache = max_pool_forward_im2col(
    ...     x, {"pool_height": 3, "pool_width": 3, "stride": 2})
    >>> out[0, 0]
    array([[12., 14.],
           [22., 24.]])
    >>> cache[1].shape, cache[2]
    ((9, 4), array([8, 8, 8, 8]))
    >>> max_pool_forward_im2col(x, {"pool_height": 3, "pool_width": 3, "stride": 0})
    Traceback (most recent call last):
    ...
    ValueError: pool_param['stride'] must be >= 1, got 0
    """
    x = _params.data(x, "x")
    g = _params.pool_geometry(x.shape, pool_param)
    (oh, ow), (ph, pw) = g.out, g.kernel
    view = window_view(x, g.kernel, stride=g.stride)          # (C, ph, pw, N, oh, ow)
    x_cols = view.transpose(1, 2, 4, 5, 3, 0).copy(order="C").reshape(ph * pw, -1)
    x_cols_argmax = np.argmax(x_cols, axis=0)
    top = np.take_along_axis(x_cols, x_cols_argmax[None], axis=0)
    out = np.ascontiguousarray(top.reshape(oh, ow, g.N, g.C).transpose(2, 3, 0, 1))
    return out, (x, x_cols, x_cols_argmax, pool_param)


def max_pool_backward_im2col(dout: np.ndarray, cache: Im2colCache) -> np.ndarray:
    """Backward pass of :func:`max_pool_forward_im2col`.

    The whole ``dout`` of a window goes to the cached arg-max (its first
    maximum), summed where overlapping windows share it. It uses only the
    cached ``x_cols_argmax``, so ``x`` changed after the forward pass does
    not matter.

    Parameters
    ----------
    dout : numpy.ndarray
        Upstream gradient ``(N, C, out_h, out_w)``.
    cache : tuple
        The cache returned by :func:`max_pool_forward_im2col`.

    Returns
    -------
    numpy.ndarray
        ``dx`` of ``x``'s shape, dtype as in :func:`max_pool_backward_reshape`.

    Examples
    --------
    >>> import numpy as np
    >>> from im2col.cs231n import max_pool_backward_im2col, max_pool_forward_im2col
    >>> x = np.array([[[[1., 3., 3.]]]])               # a tie, overlapping windows
    >>> out, cache = max_pool_forward_im2col(
    ...     x, {"pool_height": 1, "pool_width": 2, "stride": 1})
    >>> max_pool_backward_im2col(np.ones_like(out), cache)
    array([[[[0., 2., 0.]]]])
    >>> max_pool_backward_im2col(np.ones((1, 1, 1, 3)), cache)
    Traceback (most recent call last):
    ...
    ValueError: dout must have shape (1, 1, 1, 2) = (N, C, out_h, out_w), got (1, 1, 1, 3)
    """
    x, x_cols, argmax, param = _params.cache(
        cache, 4, "(x, x_cols, x_cols_argmax, pool_param)", "max_pool_forward_im2col")
    x = _params.data(x, "cache x")
    g = _params.pool_geometry(x.shape, param)
    dout = _params.pool_dout(dout, (g.N, g.C, *g.out))
    x_cols = as_array(x_cols, "cache x_cols", 2, float_only=False)
    argmax = as_array(argmax, "cache x_cols_argmax", 1, float_only=False)
    columns = g.out[0] * g.out[1] * g.N * g.C
    if argmax.shape != (columns,) or argmax.dtype.kind not in "iu":
        raise ValueError(
            f"cache x_cols_argmax must be {columns} integers (one per window), "
            f"got {argmax.dtype} of shape {argmax.shape}"
        )
    dtype = _params.gradient_dtype(x_cols, dout)
    tap = argmax.reshape(*g.out, g.N, g.C).transpose(2, 3, 0, 1)
    return route(dout.astype(dtype, copy=False), tap, g, dtype)
