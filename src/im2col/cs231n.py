"""Drop-in replacements for cs231n assignment 2's strided fast conv layer.

``conv_forward_strides`` and ``conv_backward_strides`` keep the signatures,
the ``conv_param`` dict (``'stride'``, ``'pad'`` per side) and the cache
layout ``(x, w, b, conv_param, x_cols)`` of ``cs231n/fast_layers.py``
(Stanford CS231n, assignment 2), reimplemented in pure NumPy on
:func:`im2col.im2col` and :func:`im2col.col2im`: no Cython build, strides
taken from the padded array itself (so Fortran-ordered input is right), and
every argument checked.

Examples
--------
>>> import numpy as np
>>> from im2col.cs231n import conv_backward_strides, conv_forward_strides
>>> rng = np.random.default_rng(0)
>>> x = rng.normal(size=(2, 3, 8, 8))
>>> w, b = rng.normal(size=(4, 3, 3, 3)), np.zeros(4)
>>> out, cache = conv_forward_strides(x, w, b, {"stride": 1, "pad": 1})
>>> out.shape
(2, 4, 8, 8)
>>> dx, dw, db = conv_backward_strides(np.ones_like(out), cache)
>>> dx.shape, dw.shape, db.shape
((2, 3, 8, 8), (4, 3, 3, 3), (4,))
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._checks import as_array, as_int, same_dtype
from ._columns import col2im, im2col
from ._geometry import geometry

__all__ = ["conv_backward_strides", "conv_forward_strides"]

Cache = tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, Any], np.ndarray]


def _conv_param(conv_param: Any) -> tuple[int, int]:
    if not isinstance(conv_param, dict):
        raise TypeError(
            "conv_param must be a dict with keys 'stride' and 'pad', got "
            f"{type(conv_param).__name__}"
        )
    missing = sorted({"stride", "pad"} - set(conv_param))
    if missing:
        raise ValueError(
            f"conv_param is missing key(s) {missing}; expected keys 'stride' "
            f"and 'pad', got {sorted(conv_param)}"
        )
    stride = as_int(conv_param["stride"], "conv_param['stride']", minimum=1)
    pad = as_int(conv_param["pad"], "conv_param['pad']", minimum=0)
    return stride, pad


def _out_size(
    x_shape: tuple[int, ...], w_shape: tuple[int, ...], stride: int, pad: int
) -> tuple[int, int]:
    g = geometry(tuple(x_shape), tuple(w_shape[2:]), stride=stride, padding=pad,
                 dilation=1, kernel_name="w.shape[2:]")
    return g.out


def conv_forward_strides(
    x: np.ndarray, w: np.ndarray, b: np.ndarray, conv_param: dict[str, Any]
) -> tuple[np.ndarray, Cache]:
    """Forward pass of a convolutional layer through one im2col matrix.

    Parameters
    ----------
    x : numpy.ndarray
        Input ``(N, C, H, W)``, float32 or float64.
    w : numpy.ndarray
        Filters ``(F, C, HH, WW)``, same dtype.
    b : numpy.ndarray
        Biases ``(F,)``, same dtype.
    conv_param : dict
        ``'stride'`` (int >= 1) and ``'pad'`` (zeros on each side, int >= 0).

    Returns
    -------
    out : numpy.ndarray
        ``(N, F, out_h, out_w)``, C-ordered.
    cache : tuple
        ``(x, w, b, conv_param, x_cols)`` for :func:`conv_backward_strides`;
        ``x_cols`` is the ``(C*HH*WW, N*out_h*out_w)`` im2col matrix, kept
        alive until the cache is dropped.

    Raises
    ------
    TypeError, ValueError
        On a bad argument; the message names it.

    Examples
    --------
    >>> import numpy as np
    >>> from im2col.cs231n import conv_forward_strides
    >>> x, w, b = np.ones((1, 1, 4, 4)), np.ones((1, 1, 3, 3)), np.zeros(1)
    >>> conv_forward_strides(x, w, b, {"stride": 1, "pad": 0})[0]
    array([[[[9., 9.],
             [9., 9.]]]])
    >>> conv_forward_strides(x, w, b, {"stride": 1})
    Traceback (most recent call last):
    ...
    ValueError: conv_param is missing key(s) ['pad']; expected keys 'stride' and 'pad', got ['stride']
    """
    stride, pad = _conv_param(conv_param)
    x = as_array(x, "x", 4)
    w = as_array(w, "w", 4)
    b = as_array(b, "b", 1)
    same_dtype(x=x, w=w, b=b)
    N, C = x.shape[:2]
    F, Cw, HH, WW = w.shape
    if Cw != C:
        raise ValueError(
            f"w must have C = {C} channels like x, got w.shape={w.shape}"
        )
    if b.shape != (F,):
        raise ValueError(f"b must have shape ({F},), got {b.shape}")
    out_h, out_w = _out_size(x.shape, w.shape, stride, pad)
    x_cols = im2col(x, (HH, WW), stride=stride, padding=pad)
    res = w.reshape(F, -1) @ x_cols  # (F, N*out_h*out_w)
    res += b[:, None]
    out = res.reshape(F, N, out_h, out_w).transpose(1, 0, 2, 3)
    return np.ascontiguousarray(out), (x, w, b, conv_param, x_cols)


def _check_columns(
    x_cols: Any, x: np.ndarray, kernel: tuple[int, int], stride: int, pad: int
) -> None:
    """Check the cached columns: shape, and the last image's block of them.

    A cache from another im2col (cs231n's ``im2col_indices`` orders its
    columns ``(out_h, out_w, N)``, not ``(N, out_h, out_w)``) has the same
    shape and would give a silently wrong ``dw``; re-unfolding one image
    catches it for the cost of ``1/N`` of the forward's im2col.
    """
    x_cols = as_array(x_cols, "cache x_cols", 2)
    last = im2col(x[-1:], kernel, stride=stride, padding=pad)
    rows, per_image = last.shape
    if x_cols.shape != (rows, per_image * len(x)):
        raise ValueError(
            f"cache x_cols must have shape {(rows, per_image * len(x))} = "
            f"(C*HH*WW, N*out_h*out_w), got {x_cols.shape}"
        )
    if not np.array_equal(x_cols[:, -per_image:], last, equal_nan=True):
        raise ValueError(
            "cache x_cols does not hold im2col(x) in conv_forward_strides' "
            "column order (C*HH*WW, N*out_h*out_w); was the cache made by "
            "another forward function (e.g. im2col_indices, ordered "
            "(out_h, out_w, N))?"
        )


def conv_backward_strides(
    dout: np.ndarray, cache: Cache
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Backward pass of :func:`conv_forward_strides`.

    Parameters
    ----------
    dout : numpy.ndarray
        Upstream gradient ``(N, F, out_h, out_w)``.
    cache : tuple
        The cache returned by :func:`conv_forward_strides`.

    Returns
    -------
    dx, dw, db : numpy.ndarray
        Gradients for ``x``, ``w`` and ``b``.

    Raises
    ------
    TypeError, ValueError
        On a bad argument; the message names it.

    Examples
    --------
    >>> import numpy as np
    >>> from im2col.cs231n import conv_backward_strides, conv_forward_strides
    >>> x, w, b = np.ones((1, 1, 4, 4)), np.ones((1, 1, 3, 3)), np.zeros(1)
    >>> out, cache = conv_forward_strides(x, w, b, {"stride": 1, "pad": 0})
    >>> dx, dw, db = conv_backward_strides(np.ones_like(out), cache)
    >>> dx[0, 0]
    array([[1., 2., 2., 1.],
           [2., 4., 4., 2.],
           [2., 4., 4., 2.],
           [1., 2., 2., 1.]])
    >>> conv_backward_strides(out, cache[:4])
    Traceback (most recent call last):
    ...
    ValueError: cache must be the 5-tuple (x, w, b, conv_param, x_cols) from conv_forward_strides, got a tuple of 4 items
    """
    expected = ("cache must be the 5-tuple (x, w, b, conv_param, x_cols) from "
                "conv_forward_strides")
    if not isinstance(cache, tuple):
        raise TypeError(f"{expected}, got {type(cache).__name__}")
    if len(cache) != 5:
        raise ValueError(f"{expected}, got a tuple of {len(cache)} items")
    x, w, _, conv_param, x_cols = cache
    stride, pad = _conv_param(conv_param)
    dout = as_array(dout, "dout", 4)
    same_dtype(x=x, dout=dout)
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    out_h, out_w = _out_size(x.shape, w.shape, stride, pad)
    if dout.shape != (N, F, out_h, out_w):
        raise ValueError(
            f"dout must have shape {(N, F, out_h, out_w)} = (N, F, out_h, "
            f"out_w), got {dout.shape}"
        )
    _check_columns(x_cols, x, (HH, WW), stride, pad)
    db = dout.sum(axis=(0, 2, 3))
    dout_rows = dout.transpose(1, 0, 2, 3).reshape(F, -1)
    dw = (dout_rows @ x_cols.T).reshape(w.shape)
    dx_cols = w.reshape(F, -1).T @ dout_rows
    del dout_rows
    dx = col2im(dx_cols, (N, C, H, W), (HH, WW), stride=stride, padding=pad)
    return dx, dw, db
