"""The work behind the four convolution layers, in their two column orders.

``order="strides"`` orders the columns of ``x_cols`` by ``(N, out_h,
out_w)`` (``conv_forward_strides``), ``order="im2col"`` by ``(out_h, out_w,
N)`` (``conv_forward_im2col``, like cs231n's ``im2col_indices``). The
backward pass refuses the other order's cache when it is certain to be one,
and otherwise computes from the cached columns alone: ``x`` only gives the
shapes.
"""

from __future__ import annotations

import weakref
from functools import partial
from typing import Any

import numpy as np

from .._checks import as_array, check_bytes
from .._columns import add_columns, im2col
from .._geometry import Geometry, geometry, pad_input
from .._layer import shares
from .._threads import default_workers, run
from .._view import window_view
from . import _params

Cache = tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, Any], np.ndarray]

#: The column order of every ``x_cols`` made here, by ``id``, while it lives.
_MADE: dict[str, weakref.WeakValueDictionary[int, np.ndarray]] = {
    "strides": weakref.WeakValueDictionary(),
    "im2col": weakref.WeakValueDictionary(),
}
_FORWARD = {"strides": "conv_forward_strides", "im2col": "conv_forward_im2col"}
_ORDER = {"strides": "N*out_h*out_w", "im2col": "out_h*out_w*N"}
#: Bytes of column gradient per chunk of images in the backward pass, which
#: bound its memory: on cs231n's test layer, one thread, 1 MiB took the
#: least time, 0.5 and 2 MiB within 6%, smaller and larger chunks (up to
#: the whole batch) longer (``python -m benchmarks.dropin``, ``chunk_bytes``).
CHUNK_BYTES = 2**20


def _layer(x: Any, w: Any, b: Any, param: Any) -> tuple[np.ndarray, ...]:
    _params.conv_param(param)
    x, w = _params.data(x, "x"), _params.data(w, "w")
    b = as_array(b, "b", 1, float_only=False)
    if w.shape[1] != x.shape[1]:
        raise ValueError(
            f"w must have C = {x.shape[1]} channels like x, got w.shape={w.shape}"
        )
    if b.shape != (w.shape[0],):
        raise ValueError(f"b must have shape ({w.shape[0]},), got {b.shape}")
    return x, w, b


def _geometry(x_shape: tuple[int, ...], w: np.ndarray, param: Any) -> Geometry:
    stride, pad = _params.conv_param(param)
    if w.shape[0] < 1:
        raise ValueError(
            "w must have at least 1 filter and a kernel of at least 1x1 (as "
            f"in PyTorch), got w.shape={w.shape}"
        )
    return geometry(x_shape, w.shape[2:], stride=stride, padding=pad,
                    dilation=1, kernel_name="w.shape[2:]")


def _check_product(g: Geometry, F: int, dtype: np.dtype[Any], pad: int) -> None:
    """Check the sizes of the product ``w @ x_cols`` and the output (``F*N*oh*ow`` each)."""
    oh, ow = g.out
    bare = max(1, (g.H - g.kernel[0]) // g.stride[0] + 1) * max(
        1, (g.W - g.kernel[1]) // g.stride[1] + 1)
    check_bytes(2 * F * g.N * oh * ow * dtype.itemsize,
                f"the product w @ x_cols and the output {(g.N, F, oh, ow)} {dtype}",
                f"x of shape {(g.N, g.C, g.H, g.W)}",
                (f"w of shape {(F, g.C, *g.kernel)}", F / max(1, g.C)),
                (f"pad={pad}", oh * ow / bare))


def forward(x: Any, w: Any, b: Any, param: Any, order: str) -> tuple[np.ndarray, Cache]:
    x, w, b = _layer(x, w, b, param)
    g = _geometry(x.shape, w, param)
    (oh, ow), F, P = g.out, w.shape[0], g.out[0] * g.out[1]
    dtype = np.result_type(x, w, b)
    w_rows = w.reshape(F, -1).astype(dtype, copy=False)
    if order == "strides":
        x_cols = im2col(x, g.kernel, stride=g.stride, padding=g.padding[0][0])
        _check_product(g, F, dtype, g.padding[0][0])
        res = w_rows @ x_cols
        res += b.reshape(F, 1)
        result = np.ascontiguousarray(res.reshape(F, g.N, oh, ow).transpose(1, 0, 2, 3))
    else:
        xp = pad_input(x, g) if g.has_padding else x
        view = window_view(xp, g.kernel, stride=g.stride).transpose(0, 1, 2, 4, 5, 3)
        x_cols = view.copy(order="C").reshape(g.C * g.taps, P * g.N)
        _check_product(g, F, dtype, g.padding[0][0])
        res = w_rows @ x_cols
        res += b.reshape(F, 1)
        result = np.ascontiguousarray(res.reshape(F, oh, ow, g.N).transpose(3, 0, 1, 2))
    _MADE[order][id(x_cols)] = x_cols
    return result, (x, w, b, param, x_cols)


def _check_order(x_cols: np.ndarray, x: np.ndarray, g: Geometry, order: str) -> None:
    """Raise if ``x_cols`` is certainly in the other order than ``order``.

    Certain: it was made by the other forward function here (and is still
    that array), or its columns of the last image equal ``im2col`` of the
    cached ``x`` in the other order and not in this one. A changed ``x``
    matches neither order, so it is never refused.
    """
    made = next((o for o, d in _MADE.items() if d.get(id(x_cols)) is x_cols), None)
    if made is None and g.N > 1:
        P = g.out[0] * g.out[1]
        last = im2col(x[-1:], g.kernel, stride=g.stride, padding=g.padding[0][0])
        nan = last.dtype.kind in "fc"
        at = {"strides": slice(-P, None), "im2col": slice(g.N - 1, None, g.N)}
        same = {o: np.array_equal(x_cols[:, s], last, equal_nan=nan) for o, s in at.items()}
        if same["strides"] != same["im2col"]:
            made = "strides" if same["strides"] else "im2col"
    if made is not None and made != order:
        raise ValueError(
            f"cache x_cols is in the column order of {_FORWARD[made]} "
            f"(C*HH*WW, {_ORDER[made]}), not of {_FORWARD[order]} "
            f"(C*HH*WW, {_ORDER[order]}); pass the cache to "
            f"{_FORWARD[made].replace('forward', 'backward')}"
        )


def _unpack(dout: Any, cache: Any, order: str) -> tuple[Any, ...]:
    x, w, _, param, x_cols = _params.cache(
        cache, 5, "(x, w, b, conv_param, x_cols)", _FORWARD[order])
    x, w = _params.data(x, "cache x"), _params.data(w, "cache w")
    dout = _params.data(dout, "dout")
    g = _geometry(x.shape, w, param)
    F = w.shape[0]
    if dout.shape != (g.N, F, *g.out):
        raise ValueError(
            f"dout must have shape {(g.N, F, *g.out)} = (N, F, out_h, out_w), "
            f"got {dout.shape}"
        )
    x_cols = as_array(x_cols, "cache x_cols", 2, float_only=False)
    rows, columns = g.C * g.taps, g.N * g.out[0] * g.out[1]
    if x_cols.shape != (rows, columns):
        raise ValueError(
            f"cache x_cols must have shape {(rows, columns)} = (C*HH*WW, "
            f"{_ORDER[order]}), got {x_cols.shape}"
        )
    _check_order(x_cols, x, g, order)
    return dout, w, x_cols, g


def backward(dout: Any, cache: Any, order: str) -> tuple[np.ndarray, ...]:
    """``(dx, dw, db)``; ``dx`` is a view into the padded gradient, as in cs231n's layers."""
    dout, w, x_cols, g = _unpack(dout, cache, order)
    F, (kh, kw) = w.shape[0], g.kernel
    db = dout.sum(axis=(0, 2, 3))
    dw_dtype, dx_dtype = np.result_type(dout, x_cols), np.result_type(w, dout)
    w_cols = w.reshape(F, -1).T.astype(dx_dtype, copy=False)  # (C*HH*WW, F)
    if order == "strides":
        dxp = np.empty((g.N, g.C, *g.padded), dtype=dx_dtype)
        R, P = x_cols.shape[0], g.out[0] * g.out[1]
        step = max(1, CHUNK_BYTES // max(1, R * P * dxp.dtype.itemsize))
        # an empty batch still runs one (empty) share, for dw's zeros
        dw, *others = run([partial(_strides_share, dout, w_cols, x_cols, g, dxp, dw_dtype,
                                   lo, hi, step)
                           for lo, hi in shares(g.N, step, default_workers()) or [(0, 0)]])
        for part in others:
            dw += part
    else:
        dxp = np.zeros((g.N, g.C, *g.padded), dtype=dx_dtype)
        d_rows = dout.transpose(1, 2, 3, 0).reshape(F, -1)
        dw = d_rows @ x_cols.T
        dx_cols = w_cols @ d_rows
        dx_taps = dx_cols.reshape(g.C, kh, kw, *g.out, g.N)
        add_columns(dxp, dx_taps.transpose(5, 0, 1, 2, 3, 4), g, g.out[0])
    rows, cols = g.interior()
    return dxp[:, :, rows, cols], dw.reshape(w.shape), db


def _strides_share(dout: np.ndarray, w_cols: np.ndarray, x_cols: np.ndarray,
                   g: Geometry, dxp: np.ndarray, dw_dtype: np.dtype[Any], lo: int,
                   hi: int, step: int) -> np.ndarray:
    """Write images ``[lo, hi)`` of the padded gradient ``dxp``; return their part of ``dw``.

    The column gradient ``w_cols @ dout`` (``w_cols`` is ``w`` as
    ``(C*HH*WW, F)``, in ``dxp``'s dtype) goes in chunks of ``step`` images
    (``CHUNK_BYTES``) through one buffer reused by every chunk, and is
    summed into the chunk's zeroed images of ``dxp`` (``dout`` is copied
    a chunk at a time, only if it is not C-ordered). Before that,
    :func:`_dw_part`.
    """
    (R, F), P = w_cols.shape, g.out[0] * g.out[1]
    dw = _dw_part(dout, x_cols.reshape(R, g.N, P), lo, hi, dw_dtype)
    step = max(1, min(step, hi - lo))
    taps = np.empty((step, R, P), dtype=dxp.dtype)  # reused by every chunk
    for a in range(lo, hi, step):
        n = min(hi, a + step) - a
        np.matmul(w_cols, dout[a : a + n].reshape(n, F, P), out=taps[:n])
        dxp[a : a + n] = 0
        add_columns(dxp[a : a + n], taps[:n].reshape(n, g.C, *g.kernel, *g.out), g, g.out[0])
    return dw


def _dw_part(dout: np.ndarray, cols: np.ndarray, lo: int, hi: int,
             dtype: np.dtype[Any]) -> np.ndarray:
    """``dout @ x_cols.T`` over images ``[lo, hi)``, one ``(F, C*HH*WW)`` product at a time.

    ``cols`` is the columns as ``(C*HH*WW, N, out_h*out_w)``. Neither is
    copied whole: ``dout`` only an image at a time, if it is not C-ordered.
    The first image's product is the sum; the others are added through one
    buffer.
    """
    F, P = dout.shape[1], cols.shape[2]
    if hi == lo:
        return np.zeros((F, cols.shape[0]), dtype=dtype)
    dw: np.ndarray = np.matmul(dout[lo].reshape(F, P), cols[:, lo].T, dtype=dtype)
    part = np.empty_like(dw)
    for n in range(lo + 1, hi):
        dw += np.matmul(dout[n].reshape(F, P), cols[:, n].T, out=part)
    return dw
