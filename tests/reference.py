"""Plain-loop reference implementations, for the tests only.

Written from the definitions, independently of ``src/im2col``: the
convolution is cross-correlation with PyTorch's conventions (``padding`` per
side, ``dilation=1`` dense, ``padding="same"`` puts the odd zero at the
bottom/right). Everything is computed in float64 (or the input's own dtype
for the exact copies of im2col and window views) with Python loops over
output positions, so it is slow and obviously right.
"""

from __future__ import annotations

from typing import Any

import numpy as np

Pair = tuple[int, int]
Padding = tuple[Pair, Pair]


def pair(value: int | tuple[int, int]) -> Pair:
    """``2`` -> ``(2, 2)``; ``(1, 3)`` -> ``(1, 3)``."""
    if isinstance(value, (tuple, list)):
        return int(value[0]), int(value[1])
    return int(value), int(value)


def sides(padding: Any, kernel: Pair, dilation: Pair) -> Padding:
    """Padding as ``((top, bottom), (left, right))``."""
    if padding == "valid":
        return (0, 0), (0, 0)
    if padding == "same":
        out = []
        for k, d in zip(kernel, dilation):
            total = d * (k - 1)
            out.append((total // 2, total - total // 2))
        return out[0], out[1]
    ph, pw = pair(padding)
    return (ph, ph), (pw, pw)


def out_len(size: int, kernel: int, stride: int, pad: Pair, dilation: int) -> int:
    """Count the window positions by walking them."""
    span = dilation * (kernel - 1) + 1
    padded = size + pad[0] + pad[1]
    n = 0
    while n * stride + span <= padded:
        n += 1
    return n


def pad(x: np.ndarray, padding: Padding, dtype: Any = None) -> np.ndarray:
    """Zero-pad the last two axes of an NCHW array (a new C-ordered array)."""
    (t, b), (left, r) = padding
    N, C, H, W = x.shape
    xp = np.zeros((N, C, H + t + b, W + left + r), dtype=dtype or x.dtype)
    xp[:, :, t : t + H, left : left + W] = x
    return xp


class Geometry:
    """Sizes of one convolution, from the definitions."""

    def __init__(
        self, x_shape: tuple[int, ...], kernel: Any, stride: Any = 1,
        padding: Any = 0, dilation: Any = 1,
    ) -> None:
        self.N, self.C, self.H, self.W = x_shape
        self.kh, self.kw = pair(kernel)
        self.sh, self.sw = pair(stride)
        self.dh, self.dw = pair(dilation)
        self.padding = sides(padding, (self.kh, self.kw), (self.dh, self.dw))
        self.oh = out_len(self.H, self.kh, self.sh, self.padding[0], self.dh)
        self.ow = out_len(self.W, self.kw, self.sw, self.padding[1], self.dw)

    def window(self, y: int, x: int) -> tuple[slice, slice]:
        """Slices of the padded input read by output pixel ``(y, x)``."""
        top, left = y * self.sh, x * self.sw
        return (slice(top, top + self.dh * (self.kh - 1) + 1, self.dh),
                slice(left, left + self.dw * (self.kw - 1) + 1, self.dw))

    def crop(self, xp: np.ndarray) -> np.ndarray:
        """The unpadded part of a padded array."""
        (t, _), (left, _) = self.padding
        return xp[:, :, t : t + self.H, left : left + self.W]


def conv2d(
    x: np.ndarray, w: np.ndarray, b: np.ndarray | None = None, *, stride: Any = 1,
    padding: Any = 0, dilation: Any = 1, groups: int = 1,
) -> np.ndarray:
    """``out[n, f, y, x] = b[f] + sum(w[f] * window)``, one output at a time."""
    g = Geometry(x.shape, w.shape[2:], stride, padding, dilation)
    F, Cg = w.shape[:2]
    Fg = F // groups
    xp = pad(x, g.padding, np.float64)
    w = w.astype(np.float64)
    out = np.zeros((g.N, F, g.oh, g.ow))
    for n in range(g.N):
        for f in range(F):
            c0 = (f // Fg) * Cg
            for y in range(g.oh):
                for x_ in range(g.ow):
                    rows, cols = g.window(y, x_)
                    patch = xp[n, c0 : c0 + Cg, rows, cols]
                    out[n, f, y, x_] = np.sum(patch * w[f])
            if b is not None:
                out[n, f] += float(b[f])
    return out


def conv2d_backward(
    dout: np.ndarray, x: np.ndarray, w: np.ndarray, *, stride: Any = 1,
    padding: Any = 0, dilation: Any = 1, groups: int = 1,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of :func:`conv2d`: each output pixel scatters into its window."""
    g = Geometry(x.shape, w.shape[2:], stride, padding, dilation)
    F, Cg = w.shape[:2]
    Fg = F // groups
    xp = pad(x, g.padding, np.float64)
    w = w.astype(np.float64)
    dout = dout.astype(np.float64)
    dxp = np.zeros_like(xp)
    dw = np.zeros_like(w)
    db = np.zeros(F)
    for n in range(g.N):
        for f in range(F):
            c0 = (f // Fg) * Cg
            for y in range(g.oh):
                for x_ in range(g.ow):
                    rows, cols = g.window(y, x_)
                    d = dout[n, f, y, x_]
                    dxp[n, c0 : c0 + Cg, rows, cols] += d * w[f]
                    dw[f] += d * xp[n, c0 : c0 + Cg, rows, cols]
                    db[f] += d
    return g.crop(dxp), dw, db


def im2col(
    x: np.ndarray, kernel: Any, *, stride: Any = 1, padding: Any = 0,
    dilation: Any = 1,
) -> np.ndarray:
    """``cols[(c*kh + i)*kw + j, (n*oh + y)*ow + x] = xp[n, c, y*sh + i*dh, x*sw + j*dw]``."""
    g = Geometry(x.shape, kernel, stride, padding, dilation)
    xp = pad(x, g.padding)
    cols = np.zeros((g.C * g.kh * g.kw, g.N * g.oh * g.ow), dtype=x.dtype)
    for c in range(g.C):
        for i in range(g.kh):
            for j in range(g.kw):
                row = (c * g.kh + i) * g.kw + j
                for n in range(g.N):
                    for y in range(g.oh):
                        for x_ in range(g.ow):
                            col = (n * g.oh + y) * g.ow + x_
                            cols[row, col] = xp[n, c, y * g.sh + i * g.dh,
                                                x_ * g.sw + j * g.dw]
    return cols


def col2im(
    cols: np.ndarray, x_shape: tuple[int, ...], kernel: Any, *, stride: Any = 1,
    padding: Any = 0, dilation: Any = 1,
) -> np.ndarray:
    """Adjoint of :func:`im2col`: add every column entry back where it was read."""
    g = Geometry(x_shape, kernel, stride, padding, dilation)
    xp = pad(np.zeros(x_shape), g.padding)
    for c in range(g.C):
        for i in range(g.kh):
            for j in range(g.kw):
                row = (c * g.kh + i) * g.kw + j
                for n in range(g.N):
                    for y in range(g.oh):
                        for x_ in range(g.ow):
                            col = (n * g.oh + y) * g.ow + x_
                            xp[n, c, y * g.sh + i * g.dh,
                               x_ * g.sw + j * g.dw] += cols[row, col]
    return g.crop(xp)


def col2im_add_at(
    cols: np.ndarray, x_shape: tuple[int, ...], kernel: Any, *, stride: Any = 1,
    padding: Any = 0, dilation: Any = 1,
) -> np.ndarray:
    """The same sum with one ``np.add.at`` over broadcast index arrays."""
    g = Geometry(x_shape, kernel, stride, padding, dilation)
    c, i, j, n, y, x = np.ix_(range(g.C), range(g.kh), range(g.kw), range(g.N),
                              range(g.oh), range(g.ow))
    index = (n, c, y * g.sh + i * g.dh, x * g.sw + j * g.dw)
    index = np.broadcast_arrays(*index)
    values = cols.reshape(g.C, g.kh, g.kw, g.N, g.oh, g.ow).astype(np.float64)
    xp = pad(np.zeros(x_shape), g.padding)
    np.add.at(xp, tuple(index), values)
    return g.crop(xp)


def window(
    xp: np.ndarray, kernel: Any, *, stride: Any = 1, dilation: Any = 1,
) -> np.ndarray:
    """``v[c, i, j, n, y, x] = xp[n, c, y*sh + i*dh, x*sw + j*dw]``, by loops."""
    g = Geometry(xp.shape, kernel, stride, 0, dilation)
    v = np.zeros((g.C, g.kh, g.kw, g.N, g.oh, g.ow), dtype=xp.dtype)
    for c in range(g.C):
        for i in range(g.kh):
            for j in range(g.kw):
                for n in range(g.N):
                    for y in range(g.oh):
                        for x_ in range(g.ow):
                            v[c, i, j, n, y, x_] = xp[n, c, y * g.sh + i * g.dh,
                                                      x_ * g.sw + j * g.dw]
    return v


def cs231n_strides(xp: np.ndarray, stride: int) -> tuple[int, ...]:
    """cs231n's hard-coded C-order strides, ``H``, ``W`` the padded sizes."""
    _, C, H, W = xp.shape
    return tuple(int(s) * xp.itemsize
                 for s in (H * W, W, 1, C * H * W, stride * W, stride))


def numeric_gradient(f: Any, a: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """Central differences of the scalar ``f()`` with respect to ``a``, in place."""
    grad = np.zeros_like(a, dtype=np.float64)
    for idx in np.ndindex(a.shape):
        old = a[idx]
        a[idx] = old + h
        plus = f()
        a[idx] = old - h
        minus = f()
        a[idx] = old
        grad[idx] = (plus - minus) / (2 * h)
    return grad
