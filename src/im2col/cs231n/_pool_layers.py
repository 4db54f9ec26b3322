"""The max-pooling layers of ``fast_layers.py``: reshape, im2col and fast.

``max_pool_forward_reshape`` needs square windows that tile the input and
splits the gradient of a tied maximum equally between the tied positions;
``max_pool_forward_im2col`` takes any windows and gives the whole gradient
to the first maximum (``numpy.argmax``). ``max_pool_forward_fast`` picks
the first when it can, as the original does.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._checks import as_array
from .._geometry import Geometry, geometry
from .._pool import route
from .._view import window_view
from . import _params

ReshapeCache = tuple[np.ndarray, np.ndarray, np.ndarray]
Im2colCache = tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]


def _geometry(x_shape: tuple[int, ...], param: Any) -> Geometry:
    ph, pw, stride = _params.pool_param(param)
    return geometry(x_shape, (ph, pw), stride=stride, padding=0, dilation=1,
                    kernel_name="(pool_height, pool_width)")


def _check_dout(dout: Any, shape: tuple[int, ...]) -> np.ndarray:
    checked = _params.data(dout, "dout")
    if checked.shape != shape:
        raise ValueError(f"dout must have shape {shape} = (N, C, out_h, out_w), "
                         f"got {checked.shape}")
    return checked


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
    dout = _check_dout(dout, out.shape)
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
    g = _geometry(x.shape, pool_param)
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
    g = _geometry(x.shape, param)
    dout = _check_dout(dout, (g.N, g.C, *g.out))
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


def max_pool_forward_fast(
    x: np.ndarray, pool_param: dict[str, Any]
) -> tuple[np.ndarray, tuple[str, Any]]:
    """Max pooling by reshape where the windows tile ``x``, else by im2col.

    The reshape path is taken when ``pool_height == pool_width == stride``
    and they divide ``H`` and ``W``, as in the original; the cache is
    ``('reshape', cache)`` or ``('im2col', cache)``. No Cython is needed on
    either path.

    Parameters
    ----------
    x : numpy.ndarray
        Input ``(N, C, H, W)``, any bool, integer or floating dtype.
    pool_param : dict
        ``'pool_height'``, ``'pool_width'`` and ``'stride'``.

    Returns
    -------
    out : numpy.ndarray
        ``(N, C, out_h, out_w)``, ``x``'s dtype.
    cache : tuple
        ``(method, cache)`` for :func:`max_pool_backward_fast`.

    Examples
    --------
    >>> import numpy as np
    >>> from im2col.cs231n import max_pool_forward_fast
    >>> x = np.zeros((1, 1, 5, 5))
    >>> max_pool_forward_fast(x, {"pool_height": 2, "pool_width": 2, "stride": 2})[1][0]
    'im2col'
    >>> max_pool_forward_fast(x, {"pool_height": 2, "pool_width": 2})
    Traceback (most recent call last):
    ...
    ValueError: pool_param is missing key(s) ['stride']; expected keys 'pool_height', 'pool_width' and 'stride', got ['pool_height', 'pool_width']
    """
    ph, pw, stride = _params.pool_param(pool_param)
    x = _params.data(x, "x")
    if ph == pw == stride and x.shape[2] % ph == 0 and x.shape[3] % pw == 0:
        out, cache = max_pool_forward_reshape(x, pool_param)
        return out, ("reshape", cache)
    out, im2col_cache = max_pool_forward_im2col(x, pool_param)
    return out, ("im2col", im2col_cache)


def max_pool_backward_fast(dout: np.ndarray, cache: tuple[str, Any]) -> np.ndarray:
    """Backward pass of :func:`max_pool_forward_fast`, by the cache's method.

    Parameters
    ----------
    dout : numpy.ndarray
        Upstream gradient ``(N, C, out_h, out_w)``.
    cache : tuple
        The ``(method, cache)`` returned by :func:`max_pool_forward_fast`.

    Returns
    -------
    numpy.ndarray
        ``dx``, from :func:`max_pool_backward_reshape` or
        :func:`max_pool_backward_im2col`.

    Examples
    --------
    >>> import numpy as np
    >>> from im2col.cs231n import max_pool_backward_fast
    >>> max_pool_backward_fast(np.ones((1, 1, 1, 1)), ("naive", None))
    Traceback (most recent call last):
    ...
    ValueError: cache must be ('reshape', cache) or ('im2col', cache) from max_pool_forward_fast, got method 'naive'
    """
    method, real_cache = _params.cache(cache, 2, "(method, cache)",
                                       "max_pool_forward_fast")
    if method == "reshape":
        return max_pool_backward_reshape(dout, real_cache)
    if method == "im2col":
        return max_pool_backward_im2col(dout, real_cache)
    raise ValueError(
        "cache must be ('reshape', cache) or ('im2col', cache) from "
        f"max_pool_forward_fast, got method {method!r}"
    )
