"""cs231n's strided convolution layer, step by step.

This follows the algorithm of Stanford CS231n assignment 2's
``cs231n/fast_layers.py`` (``conv_forward_strides``): pad, view the padded
input through a hand-written C-order stride tuple, copy the view into the
column matrix, one matrix product. The code is our own. Like the original,
it assumes that the padded input is C-contiguous (``np.pad`` keeps a
Fortran-ordered input Fortran-ordered, and then the tuple is wrong).
"""

import numpy as np
from numpy.lib.stride_tricks import as_strided


def strided_columns(x, HH, WW, stride, pad):
    """im2col cs231n's way: a hand-written C-order stride tuple."""
    N, C, H, W = x.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    H, W = H + 2 * pad, W + 2 * pad                       # padded sizes
    out_h, out_w = (H - HH) // stride + 1, (W - WW) // stride + 1
    shape = (C, HH, WW, N, out_h, out_w)
    strides = tuple(t * xp.itemsize
                    for t in (H * W, W, 1, C * H * W, stride * W, stride))
    view = as_strided(xp, shape=shape, strides=strides, writeable=False)
    return np.ascontiguousarray(view).reshape(C * HH * WW, N * out_h * out_w)


def strided_forward(x, w, b, stride, pad):
    """The forward pass on the columns, one matrix product: ``(out, columns)``."""
    N, _, H, W = x.shape
    F, _, HH, WW = w.shape
    out_h = (H + 2 * pad - HH) // stride + 1
    out_w = (W + 2 * pad - WW) // stride + 1
    columns = strided_columns(x, HH, WW, stride, pad)
    res = w.reshape(F, -1) @ columns + b.reshape(-1, 1)
    out = res.reshape(F, N, out_h, out_w).transpose(1, 0, 2, 3)
    return np.ascontiguousarray(out), columns


def strided_backward(dout, x, w, columns, stride, pad):
    """The backward pass on the cached columns: ``(dx, dw, db)``.

    Two matrix products, then col2im: each of the ``HH * WW`` kernel taps
    adds its slice of the column gradient back into the padded input.
    """
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    _, _, out_h, out_w = dout.shape
    db = dout.sum(axis=(0, 2, 3))
    dout_rows = dout.transpose(1, 0, 2, 3).reshape(F, -1)
    dw = (dout_rows @ columns.T).reshape(w.shape)
    dcolumns = (w.reshape(F, -1).T @ dout_rows).reshape(C, HH, WW, N, out_h, out_w)
    dxp = np.zeros((N, C, H + 2 * pad, W + 2 * pad), dtype=x.dtype)
    for i in range(HH):
        for j in range(WW):
            rows = slice(i, i + stride * (out_h - 1) + 1, stride)
            cols = slice(j, j + stride * (out_w - 1) + 1, stride)
            dxp[:, :, rows, cols] += dcolumns[:, i, j].transpose(1, 0, 2, 3)
    dx = dxp[:, :, pad:pad + H, pad:pad + W]         # a view, as cs231n's col2im returns
    return dx, dw, db
