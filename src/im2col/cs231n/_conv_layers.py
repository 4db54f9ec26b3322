"""The four convolution layers of ``fast_layers.py`` and their two orders.

``conv_forward_strides`` orders the columns of its ``x_cols`` by
``(N, out_h, out_w)``, ``conv_forward_im2col`` (like cs231n's
``im2col_indices``) by ``(out_h, out_w, N)``. Each backward pass refuses
the other order's cache when it is certain to be one, and otherwise
computes from the cached columns alone: ``x`` only gives the shapes
(:mod:`im2col.cs231n._conv_core` does the work).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._conv_core import Cache, backward, forward


def conv_forward_strides(
    x: np.ndarray, w: np.ndarray, b: np.ndarray, conv_param: dict[str, Any]
) -> tuple[np.ndarray, Cache]:
    """Forward pass of a convolutional layer through one im2col matrix.

    Parameters
    ----------
    x : numpy.ndarray
        Input ``(N, C, H, W)``, any bool, integer or floating dtype (uint8
        images included), any memory order.
    w : numpy.ndarray
        Filters ``(F, C, HH, WW)``, any such dtype.
    b : numpy.ndarray
        Biases ``(F,)``, any such dtype (``np.array([0, 128])`` will do).
    conv_param : dict
        ``'stride'`` (int >= 1) and ``'pad'`` (zeros on each side, int >= 0);
        other keys are ignored.

    Returns
    -------
    out : numpy.ndarray
        C-ordered ``(N, F, out_h, out_w)``, of dtype
        ``numpy.result_type(x, w, b)``: float64 for float32 filters on
        float64 data, as the original's ``w.dot(x_cols) + b`` gives.
        ``out_h = (H + 2*pad - HH) // stride + 1``, rounded down.
    cache : tuple
        ``(x, w, b, conv_param, x_cols)``; ``x_cols`` is the
        ``(C*HH*WW, N*out_h*out_w)`` im2col matrix of ``x``, in ``x``'s
        dtype, columns ordered ``(N, out_h, out_w)``.

    Raises
    ------
    TypeError, ValueError
        On a bad argument; the message names it.

    Examples
    --------
    >>> import numpy as np
    >>> from im2col.cs231n import conv_forward_strides
    >>> x, w = np.ones((1, 1, 4, 4)), np.ones((1, 1, 3, 3), np.float32)
    >>> out, cache = conv_forward_strides(x, w, np.array([1]), {"stride": 1, "pad": 0})
    >>> out
    array([[[[10., 10.],
             [10., 10.]]]])
    >>> cache[4].shape                       # (C*HH*WW, N*out_h*out_w)
    (9, 4)
    >>> conv_forward_strides(x, w, np.zeros(1), {"stride": 1})
    Traceback (most recent call last):
    ...
    ValueError: conv_param is missing key(s) ['pad']; expected keys 'stride' and 'pad', got ['stride']
    """
    return forward(x, w, b, conv_param, "strides")


def conv_backward_strides(
    dout: np.ndarray, cache: Cache
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Backward pass of :func:`conv_forward_strides`, from the cached columns.

    ``dw`` comes from the cached ``x_cols`` and ``dx`` from ``w``, so an
    ``x`` changed in place after the forward pass does not change the
    result. A cache whose columns are in :func:`conv_forward_im2col`'s order
    is refused when that is certain (made by that function, or matching
    ``x`` in that order only); such columns would give a wrong ``dw``.

    Like cs231n's, it sums the column gradient into a zeroed padded
    gradient and returns its interior as ``dx`` (a view). It makes the
    column gradient a few images at a time (about a MiB each, at least one
    image) and copies no C-ordered ``dout`` (another a few images at a
    time), so its peak memory is the padded
    gradient plus those buffers, where cs231n's makes the whole column
    gradient and a copy of ``dout`` (:func:`im2col.memory_bill`'s
    ``backward_peak``).
    The images are shared among worker threads as :func:`im2col.conv2d`'s
    default ``workers`` would be (several only when the program runs no
    other Python thread).

    Parameters
    ----------
    dout : numpy.ndarray
        Upstream gradient ``(N, F, out_h, out_w)``, any dtype ``x`` may have.
    cache : tuple
        The cache returned by :func:`conv_forward_strides`.

    Returns
    -------
    dx, dw, db : numpy.ndarray
        Gradients, in the original's dtypes: ``dx`` in
        ``result_type(w, dout)``, ``dw`` in ``result_type(dout, x)`` and
        ``db`` in the dtype of ``dout.sum()``.

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
    dx, dw, db = backward(dout, cache, "strides")
    return dx, dw, db


def conv_forward_im2col(
    x: np.ndarray, w: np.ndarray, b: np.ndarray, conv_param: dict[str, Any]
) -> tuple[np.ndarray, Cache]:
    """:func:`conv_forward_strides` with the columns ordered ``(out_h, out_w, N)``.

    The order of cs231n's ``im2col_cython`` and ``im2col_indices``, in pure
    NumPy; any output size is allowed (the original asserts that the
    windows fit exactly). Dtypes and errors as in
    :func:`conv_forward_strides`.

    Parameters
    ----------
    x, w, b : numpy.ndarray
        As in :func:`conv_forward_strides`.
    conv_param : dict
        As in :func:`conv_forward_strides`.

    Returns
    -------
    out : numpy.ndarray
        C-ordered ``(N, F, out_h, out_w)``, ``numpy.result_type(x, w, b)``.
    cache : tuple
        ``(x, w, b, conv_param, x_cols)``, ``x_cols`` of shape
        ``(C*HH*WW, out_h*out_w*N)`` in ``x``'s dtype.

    Raises
    ------
    TypeError, ValueError
        On a bad argument; the message names it.

    Examples
    --------
    >>> import numpy as np
    >>> from im2col.cs231n import conv_forward_im2col, conv_forward_strides
    >>> x = np.arange(2 * 9.0).reshape(2, 1, 3, 3)
    >>> w, b, p = np.ones((1, 1, 2, 2)), np.zeros(1), {"stride": 1, "pad": 0}
    >>> out, cache = conv_forward_im2col(x, w, b, p)
    >>> np.array_equal(out, conv_forward_strides(x, w, b, p)[0])
    True
    >>> cache[4][0]                          # tap (0, 0): pixel by pixel, image inside
    array([ 0.,  9.,  1., 10.,  3., 12.,  4., 13.])
    >>> conv_forward_im2col(x, w, np.zeros(2), p)
    Traceback (most recent call last):
    ...
    ValueError: b must have shape (1,), got (2,)
    """
    return forward(x, w, b, conv_param, "im2col")


def conv_backward_im2col(
    dout: np.ndarray, cache: Cache
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Backward pass of :func:`conv_forward_im2col`, from the cached columns.

    As :func:`conv_backward_strides`, with the orders swapped: a cache in
    :func:`conv_forward_strides`' order is refused when that is certain.
    Like cs231n's, it makes the whole column gradient and a copy of
    ``dout`` at once, and returns ``dx`` as a view into the padded
    gradient.

    Parameters
    ----------
    dout : numpy.ndarray
        Upstream gradient ``(N, F, out_h, out_w)``.
    cache : tuple
        The cache returned by :func:`conv_forward_im2col`.

    Returns
    -------
    dx, dw, db : numpy.ndarray
        Gradients, in the dtypes of :func:`conv_backward_strides`.

    Raises
    ------
    TypeError, ValueError
        On a bad argument; the message names it.

    Examples
    --------
    >>> import numpy as np
    >>> from im2col.cs231n import conv_backward_im2col, conv_forward_im2col
    >>> x, w, b = np.ones((2, 1, 3, 3)), np.ones((1, 1, 2, 2)), np.zeros(1)
    >>> out, cache = conv_forward_im2col(x, w, b, {"stride": 1, "pad": 0})
    >>> conv_backward_im2col(np.ones_like(out), cache)[1]
    array([[[[8., 8.],
             [8., 8.]]]])
    >>> conv_backward_im2col(np.ones((2, 1, 3, 3)), cache)
    Traceback (most recent call last):
    ...
    ValueError: dout must have shape (2, 1, 2, 2) = (N, F, out_h, out_w), got (2, 1, 3, 3)
    """
    dx, dw, db = backward(dout, cache, "im2col")
    return dx, dw, db
