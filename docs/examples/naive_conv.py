"""A naive convolution forward pass: one output element at a time.

Written directly from the definition (cross-correlation, zero padding of
``pad`` on each side), with cs231n assignment 2's ``conv_param`` dict; the
reference the fast layers are checked and timed against.
"""

import numpy as np


def conv_forward_loop(x, w, b, conv_param):
    """out[n, f, i, j] = sum(window * w[f]) + b[f], one element at a time."""
    stride, pad = conv_param["stride"], conv_param["pad"]
    N, _, H, W = x.shape
    F, _, HH, WW = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    out_h = (H + 2 * pad - HH) // stride + 1
    out_w = (W + 2 * pad - WW) // stride + 1
    out = np.empty((N, F, out_h, out_w), dtype=x.dtype)
    for n in range(N):
        for f in range(F):
            for i in range(out_h):
                for j in range(out_w):
                    top, left = i * stride, j * stride
                    window = xp[n, :, top:top + HH, left:left + WW]
                    out[n, f, i, j] = np.sum(window * w[f]) + b[f]
    return out
