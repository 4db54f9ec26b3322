"""conv2d forward and backward: im2col + GEMM, one batch chunk at a time.

The full im2col matrix of cs231n's ``conv_forward_strides`` costs about
``kh*kw / stride**2`` times the input. Here the batch is cut into chunks
whose columns fit a memory budget, and each chunk is padded, unfolded and
multiplied into its slice of the output, so the extra memory is that of one
chunk, whatever ``N`` is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ._checks import as_array, as_int, same_dtype
from ._columns import add_taps
from ._geometry import Geometry, geometry, pad_input
from ._view import window_view

#: Default bytes for one chunk's column buffer, sized to stay near the caches.
DEFAULT_CHUNK_BYTES = 8 * 2**20


@dataclass(frozen=True)
class _Layer:
    """A checked call: geometry, groups, weights as ``(groups, Fg, Cg*kh*kw)``."""

    g: Geometry
    groups: int
    F: int
    w2: np.ndarray

    @property
    def rows_per_group(self) -> int:
        return self.g.C // self.groups * self.g.taps

    def chunk_bytes(self, itemsize: int) -> int:
        """Bytes of one image's padded copy and columns."""
        hp, wp = self.g.padded
        oh, ow = self.g.out
        padded = self.g.C * hp * wp if self.g.has_padding else 0
        return (padded + self.g.C * self.g.taps * oh * ow) * itemsize


def _layer(
    x: np.ndarray, w: np.ndarray, *, stride: Any, padding: Any, dilation: Any,
    groups: Any,
) -> _Layer:
    x = as_array(x, "x", 4)
    w = as_array(w, "w", 4)
    same_dtype(x=x, w=w)
    groups = as_int(groups, "groups", minimum=1)
    C = x.shape[1]
    F, Cg, kh, kw = w.shape
    if C % groups:
        raise ValueError(f"groups={groups} must divide the {C} channels of x")
    if F % groups:
        raise ValueError(f"groups={groups} must divide the {F} filters of w")
    if Cg * groups != C:
        raise ValueError(
            f"w must have C/groups = {C // groups} input channels (x has C={C}, "
            f"groups={groups}), got w.shape={w.shape}"
        )
    g = geometry(x.shape, (kh, kw), stride=stride, padding=padding,
                 dilation=dilation)
    w2 = w.reshape(groups, F // groups, Cg * kh * kw)
    return _Layer(g, groups, F, w2)


def _chunk_size(
    layer: _Layer, itemsize: int, max_memory: Any, *, copies: int
) -> int:
    """Images per chunk; ``copies`` is 1 forward, 2 backward (+ gradients)."""
    per_image = copies * layer.chunk_bytes(itemsize)
    if max_memory is None:
        return max(1, min(layer.g.N, DEFAULT_CHUNK_BYTES // per_image))
    budget = as_int(max_memory, "max_memory", minimum=0)
    if budget < per_image:
        raise ValueError(
            f"max_memory={budget} bytes is below the {per_image} bytes one "
            f"image needs ({copies} x its padded copy and its im2col columns)"
        )
    return min(layer.g.N, budget // per_image)


def _columns(
    x: np.ndarray, layer: _Layer, padded: np.ndarray | None, out: np.ndarray
) -> np.ndarray:
    """Unfold a chunk of ``x`` into ``out`` as ``(n, C*kh*kw, oh*ow)``."""
    g = layer.g
    xp = pad_input(x, g, padded[: len(x)]) if padded is not None else x
    view = window_view(xp, g.kernel, stride=g.stride, dilation=g.dilation)
    cols = out[: len(x)]
    # view axes (C, kh, kw, N, oh, ow) -> (N, C, kh, kw, oh, ow)
    np.copyto(cols.reshape(len(x), g.C, *g.kernel, *g.out),
              view.transpose(3, 0, 1, 2, 4, 5))
    return cols


def _buffers(
    layer: _Layer, n: int, dtype: np.dtype[Any]
) -> tuple[np.ndarray | None, np.ndarray]:
    g = layer.g
    padded = np.zeros((n, g.C, *g.padded), dtype) if g.has_padding else None
    cols = np.empty((n, g.C * g.taps, g.out[0] * g.out[1]), dtype)
    return padded, cols


def conv2d(
    x: np.ndarray, w: np.ndarray, b: np.ndarray | None = None, *,
    stride: Any = 1, padding: Any = 0, dilation: Any = 1, groups: int = 1,
    max_memory: int | None = None,
) -> np.ndarray:
    """2-D convolution (cross-correlation) of an NCHW batch, as in PyTorch.

    ``out[n, f, y, x] = b[f] + sum_{c, i, j} w[f, c, i, j] *
    xp[n, g*C/groups + c, y*sh + i*dh, x*sw + j*dw]`` where ``xp`` is ``x``
    zero padded and ``g`` is the group of filter ``f``. The kernel is not
    flipped. Computed by im2col and one matrix multiply per chunk of images,
    so the extra memory is bounded by ``max_memory`` (or about 8 MiB of
    columns by default), not by the batch size.

    Parameters
    ----------
    x : numpy.ndarray
        Input ``(N, C, H, W)``, float32 or float64, any memory order.
    w : numpy.ndarray
        Filters ``(F, C/groups, kh, kw)``, same dtype as ``x``.
    b : numpy.ndarray, optional
        Bias ``(F,)``, same dtype as ``x``.
    stride : int or (int, int), optional
        Step between windows, at least 1.
    padding : int, (int, int), "valid" or "same", optional
        Zeros added on each side; ``"same"`` keeps ``H, W`` (stride 1 only).
    dilation : int or (int, int), optional
        Step between kernel taps; 1 is a dense kernel.
    groups : int, optional
        Split channels and filters into this many independent groups.
    max_memory : int, optional
        Upper bound, in bytes, on the chunk buffers of the call (padded
        copy and columns of one chunk), not counting the output. A
        ``ValueError`` says so when one image does not fit.

    Returns
    -------
    numpy.ndarray
        C-ordered ``(N, F, oh, ow)`` output, ``x``'s dtype.

    Raises
    ------
    TypeError
        If an array is not an ndarray, has a dtype other than float32 or
        float64, or the dtypes differ; or if an option is not an int.
    ValueError
        If a shape or option is inconsistent, or ``max_memory`` is below
        what one image needs.

    Examples
    --------
    >>> import numpy as np
    >>> from im2col import conv2d
    >>> x = np.ones((2, 3, 5, 5))
    >>> w = np.ones((4, 3, 3, 3))
    >>> conv2d(x, w, padding=1).shape
    (2, 4, 5, 5)
    >>> conv2d(x, w, padding=1)[0, 0]          # 27 taps inside, fewer at edges
    array([[12., 18., 18., 18., 12.],
           [18., 27., 27., 27., 18.],
           [18., 27., 27., 27., 18.],
           [18., 27., 27., 27., 18.],
           [12., 18., 18., 18., 12.]])
    >>> conv2d(x, w[:, :2])
    Traceback (most recent call last):
    ...
    ValueError: w must have C/groups = 3 input channels (x has C=3, groups=1), got w.shape=(4, 2, 3, 3)
    """
    layer = _layer(x, w, stride=stride, padding=padding, dilation=dilation,
                   groups=groups)
    if b is not None:
        b = as_array(b, "b", 1)
        same_dtype(x=x, b=b)
        if b.shape != (layer.F,):
            raise ValueError(f"b must have shape ({layer.F},), got {b.shape}")
    g, G = layer.g, layer.groups
    n_chunk = _chunk_size(layer, x.itemsize, max_memory, copies=1)
    out = np.empty((g.N, layer.F, g.out[0] * g.out[1]), x.dtype)
    padded, buf = _buffers(layer, n_chunk, x.dtype)
    rows, Fg = layer.rows_per_group, layer.F // G
    for n0 in range(0, g.N, n_chunk):
        cols = _columns(x[n0 : n0 + n_chunk], layer, padded, buf)
        for k in range(G):
            np.matmul(layer.w2[k], cols[:, k * rows : (k + 1) * rows],
                      out=out[n0 : n0 + len(cols), k * Fg : (k + 1) * Fg])
    if b is not None:
        out += b[:, None]
    return out.reshape(g.N, layer.F, *g.out)


def conv2d_backward(
    dout: np.ndarray, x: np.ndarray, w: np.ndarray, *, stride: Any = 1,
    padding: Any = 0, dilation: Any = 1, groups: int = 1,
    max_memory: int | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of :func:`conv2d` with respect to ``x``, ``w`` and ``b``.

    ``dw`` is ``dout @ columns.T`` and ``dx`` is ``col2im(w.T @ dout)``,
    chunk by chunk; the columns are recomputed from ``x`` rather than kept
    from the forward pass, and the col2im sum is one strided ``+=`` per
    kernel tap.

    Parameters
    ----------
    dout : numpy.ndarray
        Upstream gradient ``(N, F, oh, ow)``, same dtype as ``x``.
    x, w : numpy.ndarray
        The forward pass's input and filters.
    stride, padding, dilation, groups, max_memory
        The forward pass's options (see :func:`conv2d`).

    Returns
    -------
    dx : numpy.ndarray
        Gradient for ``x``, shape ``(N, C, H, W)``.
    dw : numpy.ndarray
        Gradient for ``w``, shape ``(F, C/groups, kh, kw)``.
    db : numpy.ndarray
        Gradient for the bias, shape ``(F,)``.

    Raises
    ------
    TypeError, ValueError
        As :func:`conv2d`, and if ``dout`` has the wrong shape.

    Examples
    --------
    >>> import numpy as np
    >>> from im2col import conv2d, conv2d_backward
    >>> rng = np.random.default_rng(0)
    >>> x, w = rng.normal(size=(2, 3, 6, 6)), rng.normal(size=(4, 3, 3, 3))
    >>> dout = np.ones((2, 4, 6, 6))
    >>> dx, dw, db = conv2d_backward(dout, x, w, padding=1)
    >>> dx.shape, dw.shape, db.shape
    ((2, 3, 6, 6), (4, 3, 3, 3), (4,))
    >>> db
    array([72., 72., 72., 72.])
    >>> conv2d_backward(dout, x, w)
    Traceback (most recent call last):
    ...
    ValueError: dout must have shape (2, 4, 4, 4) = (N, F, oh, ow), got (2, 4, 6, 6)
    """
    layer = _layer(x, w, stride=stride, padding=padding, dilation=dilation,
                   groups=groups)
    dout = as_array(dout, "dout", 4)
    same_dtype(x=x, dout=dout)
    g, G = layer.g, layer.groups
    expected = (g.N, layer.F, *g.out)
    if dout.shape != expected:
        raise ValueError(
            f"dout must have shape {expected} = (N, F, oh, ow), got {dout.shape}"
        )
    n_chunk = _chunk_size(layer, x.itemsize, max_memory, copies=2)
    padded, buf = _buffers(layer, n_chunk, x.dtype)
    dxp_buf, dcols_buf = _buffers(layer, n_chunk, x.dtype)
    dw2 = np.zeros_like(layer.w2)
    dx = np.empty(x.shape, x.dtype)
    rows, Fg = layer.rows_per_group, layer.F // G
    d3 = dout.reshape(g.N, layer.F, g.out[0] * g.out[1])
    rows_in, cols_in = g.interior()
    for n0 in range(0, g.N, n_chunk):
        cols = _columns(x[n0 : n0 + n_chunk], layer, padded, buf)
        n = len(cols)
        d = d3[n0 : n0 + n]
        dcols = dcols_buf[:n]
        for k in range(G):
            dk = d[:, k * Fg : (k + 1) * Fg]
            ck = cols[:, k * rows : (k + 1) * rows]
            dw2[k] += np.matmul(dk, ck.transpose(0, 2, 1)).sum(axis=0)
            np.matmul(layer.w2[k].T, dk, out=dcols[:, k * rows : (k + 1) * rows])
        # col2im of the chunk into a zeroed (padded) buffer
        dxp = dxp_buf[:n] if dxp_buf is not None else dx[n0 : n0 + n]
        dxp.fill(0)
        taps = dcols.reshape(n, g.C, *g.kernel, *g.out).transpose(2, 3, 0, 1, 4, 5)
        add_taps(dxp, taps, g)
        if dxp_buf is not None:
            dx[n0 : n0 + n] = dxp[:, :, rows_in, cols_in]
    db = dout.sum(axis=(0, 2, 3))
    return dx, dw2.reshape(w.shape), db
