"""The work loops behind :func:`im2col.conv2d` and :func:`im2col.conv2d_backward`.

Every strategy walks the output in *units*: a few whole images, or a band
of output rows of one image. A unit is padded (only the input rows it
reads), unfolded and multiplied straight into its slice of the NCHW output,
so the extra memory is that of one unit per worker, whatever the batch
size. The images are cut into one share of whole units per worker thread
(:mod:`im2col._threads`); each worker makes its buffers once and reuses
them for every unit of its share (and, in the backward pass, all workers
but the first sum into a ``dw`` of their own); every product is written
with ``out=``.

- ``matmul``: 1x1 kernel, stride 1, no padding, C-ordered ``x``: the
  convolution is ``w @ x[n]`` with no copy of ``x`` at all.
- ``im2col``: columns ``(n, C*kh*kw, rows*ow)``, one GEMM per image whose
  ``(F, rows*ow)`` result *is* the NCHW output slice (no transpose).
- ``im2col_t``: columns ``(C*kh*kw, n*oh*ow)`` as in the seed, one GEMM for
  the whole unit into a ``(F, n, oh*ow)`` product, copied transposed into
  the output. Faster when ``oh*ow`` is small (a few hundred pixels): one
  wide GEMM instead of ``n`` narrow ones.
- ``shift``: shift-and-accumulate, no column buffer: for each kernel tap,
  ``w[:, :, i, j] @ (the strided slice that tap reads)``, summed into the
  output. Needs ``(C + F)*oh*ow`` elements per image instead of
  ``C*kh*kw*oh*ow``.
- ``wide`` (stride 1 only, any dilation): the unit is padded into a buffer
  whose rows are contiguous, so each channel is one flat run of
  ``hb*Wp`` elements (``hb`` padded rows of width ``Wp``). On a "wide"
  output grid of ``rows`` rows by ``Wp`` columns, kernel tap ``(i, j)``
  reads for all output rows at once one contiguous run of
  ``span = (rows - 1)*Wp + ow`` elements starting at ``i*dh*Wp + j*dw``:
  the columns ``(C*kh*kw, n*rows*Wp)`` are copied in runs of ``span``
  elements instead of ``ow``, and col2im adds each tap back as one such
  run for all channels and images. The GEMM computes ``Wp/ow`` times the
  columns; the last ``Wp - ow`` of each wide row are discarded (forward) or
  multiplied by zeros (backward). One GEMM per unit, as ``im2col_t``.
  Non-finite values in ``x`` or ``w`` can turn more gradient entries into
  NaN than the other strategies do (``0 * inf`` on the discarded columns).

The backward pass of each strategy recomputes the unit's columns, adds
``dout @ columns.T`` into ``dw``, writes ``w.T @ dout`` over the columns
(they are no longer needed) and sums them back by one strided ``+=`` per
kernel tap (col2im).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np

from . import _threads
from ._geometry import Geometry
from ._view import check_inside

STRATEGIES = ("matmul", "im2col", "im2col_t", "shift", "wide")


@dataclass(frozen=True)
class Layer:
    """A checked call: geometry, groups, filters as ``(groups, F/groups, K)``."""

    g: Geometry
    groups: int
    F: int
    w: np.ndarray
    #: Bytes of the C-ordered copy of the filters made by the call, if any.
    w_copy: int = 0

    @property
    def Cg(self) -> int:  # noqa: N802
        """Input channels per group."""
        return self.g.C // self.groups

    @property
    def Fg(self) -> int:  # noqa: N802
        """Filters per group."""
        return self.F // self.groups

    @property
    def K(self) -> int:  # noqa: N802
        """Rows of the column matrix, ``C*kh*kw``."""
        return self.g.C * self.g.taps

    @property
    def w2(self) -> np.ndarray:
        """Filters as ``(groups, F/groups, C/groups*kh*kw)`` (a view)."""
        return self.w.reshape(self.groups, self.Fg, self.Cg * self.g.taps)

    def band_height(self, rows: int) -> int:
        """Return how many padded input rows ``rows`` output rows read."""
        (sh, _), (dh, _), (kh, _) = self.g.stride, self.g.dilation, self.g.kernel
        return (rows - 1) * sh + (kh - 1) * dh + 1


@dataclass(frozen=True)
class Plan:
    """How a call walks its output: strategy, images and output rows per unit.

    With ``workers > 1`` the images are cut into that many shares of whole
    units, each walked by its own thread with its own buffers.
    """

    strategy: str
    images: int
    rows: int
    workers: int = 1

    def shares(self, g: Geometry) -> list[tuple[int, int]]:
        """``(lo, hi)`` images of each worker's share, in order."""
        units = -(-g.N // self.images)
        cuts = [min(k * units // self.workers * self.images, g.N)
                for k in range(self.workers + 1)]
        return [(lo, hi) for lo, hi in itertools.pairwise(cuts) if hi > lo]

    def units(self, g: Geometry, lo: int, hi: int) -> list[tuple[int, int, int, int]]:
        """``(n0, n1, y0, y1)`` of every unit of images ``[lo, hi)``, in order."""
        oh = g.out[0]
        return [
            (n0, min(n0 + self.images, hi), y0, min(y0 + self.rows, oh))
            for n0 in range(lo, hi, self.images)
            for y0 in range(0, oh, self.rows)
        ]


def matmul_ok(layer: Layer, x: np.ndarray) -> bool:
    """Whether the plain-matmul strategy applies (1x1, stride 1, no padding)."""
    g = layer.g
    return (g.kernel == (1, 1) and g.stride == (1, 1) and not g.has_padding
            and x.flags.c_contiguous)


def wide_ok(layer: Layer) -> bool:
    """Whether the wide-rows strategy applies (stride 1)."""
    return layer.g.stride == (1, 1)


def extra_bytes(layer: Layer, plan: Plan, itemsize: int, *, backward: bool,
                dout_contiguous: bool = True) -> int:
    """Bytes of the buffers ``plan`` allocates (the output not included).

    Each worker has its own buffers; in the backward pass each worker but
    the first also has its own ``dw``.
    """
    one = _worker_bytes(layer, plan, itemsize, backward=backward,
                        dout_contiguous=dout_contiguous)
    dw = layer.F * layer.Cg * layer.g.taps * itemsize if backward else 0
    return plan.workers * one + (plan.workers - 1) * dw + layer.w_copy


def _worker_bytes(layer: Layer, plan: Plan, itemsize: int, *, backward: bool,
                  dout_contiguous: bool) -> int:
    g, n, rows = layer.g, plan.images, plan.rows
    ow = g.out[1]
    pix = n * rows * ow
    wp = g.padded[1]
    padded = n * g.C * layer.band_height(rows) * wp if g.has_padding else 0
    weights = layer.F * layer.Cg  # one (F, C/groups) product for dw
    if plan.strategy == "matmul":
        work = weights * layer.g.taps if backward else 0
    elif plan.strategy == "im2col":
        work = padded + layer.K * pix
        if backward:
            work += layer.Fg * layer.Cg * g.taps
    elif plan.strategy == "im2col_t":
        work = padded + layer.K * pix + layer.F * pix
        if backward:
            work += layer.Fg * layer.Cg * g.taps
    elif plan.strategy == "shift":
        # filters laid out per tap, one tap's slice, and a product (forward)
        # or the padded gradient (backward)
        work = padded + layer.F * layer.Cg * g.taps + g.C * pix
        work += padded + weights if backward else layer.F * pix
    elif plan.strategy == "wide":
        # a padded buffer even without padding, columns and a product
        # (forward) or dout (backward) on the wide grid of rows * Wp
        wide = n * rows * wp
        work = (n * g.C * layer.band_height(rows) * wp
                + (layer.K + layer.F) * wide)
        if backward:
            work += layer.Fg * layer.Cg * g.taps
        return work * itemsize  # dout is always copied
    else:
        raise ValueError(f"unknown strategy {plan.strategy!r}; one of {STRATEGIES}")
    if backward and not dout_contiguous:
        work += layer.F * pix
    return work * itemsize


# ------------------------------------------------------------------ units

class _Pad:
    """The padded input rows of one unit, in a reused zero-bordered buffer."""

    def __init__(self, layer: Layer, plan: Plan, dtype: Any, *,
                 always: bool = False) -> None:
        g = layer.g
        self.g = g
        self.buf = (
            np.zeros((plan.images, g.C, layer.band_height(plan.rows), g.padded[1]),
                     dtype)
            if g.has_padding or always else None
        )

    def rows(self, r0: int, r1: int) -> tuple[int, int]:
        """Return the padded rows ``[a, e)`` of ``[r0, r1)`` holding input rows."""
        top = self.g.padding[0][0]
        return max(r0, top), min(r1, top + self.g.H)

    def fill(self, x: np.ndarray, n0: int, n1: int, r0: int, r1: int,
             *, clear: bool = False) -> np.ndarray:
        """Return padded rows ``[r0, r1)`` of images ``[n0, n1)``."""
        if self.buf is None:
            return x[n0:n1, :, r0:r1]
        (top, _), (left, _) = self.g.padding
        xp = self.buf[: n1 - n0, :, : r1 - r0]
        a, e = self.rows(r0, r1)
        if clear:
            xp.fill(0)
        else:
            xp[:, :, : max(a - r0, 0)] = 0
            xp[:, :, max(e - r0, 0):] = 0
        if e > a:
            xp[:, :, a - r0 : e - r0, left : left + self.g.W] = x[
                n0:n1, :, a - top : e - top]
        return xp


def _view(xp: np.ndarray, g: Geometry) -> np.ndarray:
    """Return the seed's window view ``(C, kh, kw, n, rows, ow)`` of a band."""
    (kh, kw), (sh, sw), (dh, dw) = g.kernel, g.stride, g.dilation
    n, C, hp, _ = xp.shape
    rows = (hp - (kh - 1) * dh - 1) // sh + 1
    sN, sC, sH, sW = xp.strides
    return np.lib.stride_tricks.as_strided(
        xp, (C, kh, kw, n, rows, g.out[1]),
        (sC, dh * sH, dw * sW, sN, sh * sH, sw * sW), writeable=False)


def _wide_view(xp: np.ndarray, g: Geometry) -> np.ndarray:
    """Return the wide-rows view ``(C, kh, kw, n, span)`` of a padded band.

    ``xp`` is ``(n, C, hb, Wp)`` with contiguous rows (a :class:`_Pad`
    buffer); stride 1. Element ``[c, i, j, q, t]`` is the flat
    ``xp[q, c].ravel()[i*dh*Wp + j*dw + t]``, ``t < span = (rows-1)*Wp + ow``.
    """
    (kh, kw), (dh, dw) = g.kernel, g.dilation
    n, C, hb, wp = xp.shape
    sN, sC, sH, sW = xp.strides
    if sW != xp.itemsize or sH != wp * sW:
        raise ValueError("the wide view needs a band with contiguous rows")
    rows = hb - (kh - 1) * dh
    view = np.lib.stride_tricks.as_strided(
        xp, (C, kh, kw, n, (rows - 1) * wp + g.out[1]),
        (sC, dh * sH, dw * sW, sN, sW), writeable=False)
    check_inside(view, xp)
    return view


def _tap(g: Geometry, i: int, j: int, rows: int) -> tuple[slice, slice]:
    """Slices of a padded band read by tap ``(i, j)`` for ``rows`` output rows."""
    (sh, sw), (dh, dw), ow = g.stride, g.dilation, g.out[1]
    return (slice(i * dh, i * dh + sh * (rows - 1) + 1, sh),
            slice(j * dw, j * dw + sw * (ow - 1) + 1, sw))


# ---------------------------------------------------------------- forward

def forward(x: np.ndarray, layer: Layer, b: np.ndarray | None, plan: Plan,
            out: np.ndarray) -> None:
    """Write the convolution of ``x`` into ``out`` ``(N, F, oh*ow)``."""
    _threads.run([partial(_forward_share, x, layer, b, plan, out, lo, hi)
                  for lo, hi in plan.shares(layer.g)])


def _forward_share(x: np.ndarray, layer: Layer, b: np.ndarray | None,
                   plan: Plan, out: np.ndarray, lo: int, hi: int) -> None:
    """Write images ``[lo, hi)`` of the convolution into ``out``."""
    g, G, Fg = layer.g, layer.groups, layer.Fg
    ow, dtype = g.out[1], x.dtype
    w2 = layer.w2
    if plan.strategy == "matmul":
        x3 = x[lo:hi].reshape(hi - lo, g.C, g.H * g.W)
        o3 = out[lo:hi]
        for k in range(G):
            np.matmul(w2[k], x3[:, k * layer.Cg : (k + 1) * layer.Cg],
                      out=o3[:, k * Fg : (k + 1) * Fg])
        if b is not None:
            o3 += b[:, None]
        return
    wide = plan.strategy == "wide"  # plan() has checked wide_ok(layer)
    pad = _Pad(layer, plan, dtype, always=wide)
    n, rows = plan.images, plan.rows
    rg = layer.Cg * g.taps
    wp = g.padded[1]
    if plan.strategy == "im2col":
        cols = np.empty((n, layer.K, rows * ow), dtype)
    elif wide:
        cols = np.empty((layer.K, n * rows * wp), dtype)
        prod = np.empty((layer.F, n * rows * wp), dtype)
    elif plan.strategy == "im2col_t":
        cols = np.empty((layer.K, n * rows * ow), dtype)
        prod = np.empty((layer.F, n * rows * ow), dtype)
    else:
        wt = np.empty((*g.kernel, G, Fg, layer.Cg), dtype)
        wt[...] = layer.w.reshape(G, Fg, layer.Cg, *g.kernel).transpose(3, 4, 0, 1, 2)
        tap = np.empty((n, g.C, rows * ow), dtype)
        prod = np.empty((n, layer.F, rows * ow), dtype)
    for n0, n1, y0, y1 in plan.units(g, lo, hi):
        m, r = n1 - n0, y1 - y0
        xp = pad.fill(x, n0, n1, y0 * g.stride[0],
                      y0 * g.stride[0] + layer.band_height(r))
        o = out[n0:n1, :, y0 * ow : y1 * ow]
        if plan.strategy == "im2col":
            c = cols[:m, :, : r * ow]
            np.copyto(c.reshape(m, g.C, *g.kernel, r, ow),
                      _view(xp, g).transpose(3, 0, 1, 2, 4, 5))
            for k in range(G):
                np.matmul(w2[k], c[:, k * rg : (k + 1) * rg],
                          out=o[:, k * Fg : (k + 1) * Fg])
        elif plan.strategy == "im2col_t":
            c = cols[:, : m * r * ow]
            np.copyto(c.reshape(g.C, *g.kernel, m, r, ow), _view(xp, g))
            p = prod[:, : m * r * ow]
            for k in range(G):
                np.matmul(w2[k], c[k * rg : (k + 1) * rg],
                          out=p[k * Fg : (k + 1) * Fg])
            o[...] = p.reshape(layer.F, m, r * ow).transpose(1, 0, 2)
        elif wide:
            c = _wide_columns(cols, xp, g, m, r)
            p = prod[:, : m * r * wp]
            for k in range(G):
                np.matmul(w2[k], c[k * rg : (k + 1) * rg],
                          out=p[k * Fg : (k + 1) * Fg])
            np.reshape(o, (m, layer.F, r, ow), copy=False)[...] = p.reshape(
                layer.F, m, r, wp)[..., :ow].transpose(1, 0, 2, 3)
        else:
            t = tap[:m, :, : r * ow]
            p = prod[:m, :, : r * ow]
            for i in range(g.kernel[0]):
                for j in range(g.kernel[1]):
                    rs, cs = _tap(g, i, j, r)
                    t.reshape(m, g.C, r, ow)[...] = xp[:, :, rs, cs]
                    dst = o if i == j == 0 else p
                    for k in range(G):
                        np.matmul(wt[i, j, k],
                                  t[:, k * layer.Cg : (k + 1) * layer.Cg],
                                  out=dst[:, k * Fg : (k + 1) * Fg])
                    if dst is p:
                        o += p
        if b is not None:
            o += b[:, None]


def _wide_columns(cols: np.ndarray, xp: np.ndarray, g: Geometry, m: int,
                  r: int) -> np.ndarray:
    """Unfold a padded band into ``(C*kh*kw, m*r*Wp)`` wide-grid columns."""
    wp = g.padded[1]
    c = cols[:, : m * r * wp]
    c5 = np.reshape(c, (g.C, *g.kernel, m, r * wp), copy=False)
    span = (r - 1) * wp + g.out[1]
    np.copyto(c5[..., :span], _wide_view(xp, g))
    c5[..., span:] = 0  # the last wide row's discarded columns
    return c


def _wide_col2im(c: np.ndarray, dxp: np.ndarray, g: Geometry) -> None:
    """Add wide-grid column gradients into a zeroed padded band ``dxp``."""
    (kh, kw), (dh, dw) = g.kernel, g.dilation
    m, C, hb, wp = dxp.shape
    span = (hb - (kh - 1) * dh - 1) * wp + g.out[1]
    flat = np.reshape(dxp, (m, C, hb * wp), copy=False).transpose(1, 0, 2)
    c5 = np.reshape(c, (C, kh, kw, m, c.shape[1] // m), copy=False)
    for i in range(kh):
        for j in range(kw):
            at = i * dh * wp + j * dw
            flat[:, :, at : at + span] += c5[:, i, j, :, :span]


# --------------------------------------------------------------- backward

def backward(dout: np.ndarray, x: np.ndarray, layer: Layer, plan: Plan,
             dx: np.ndarray, dw: np.ndarray) -> None:
    """Add the gradients of ``x`` and ``w`` into zeroed ``dx`` and ``dw``.

    ``dw`` has shape ``(groups, F/groups, C/groups*kh*kw)``. Each share but
    the first sums into its own ``dw``, added to ``dw`` at the end.
    """
    shares = plan.shares(layer.g)
    dws = [dw, *(np.zeros_like(dw) for _ in shares[1:])]
    _threads.run([partial(_backward_share, dout, x, layer, plan, dx, d, lo, hi)
                  for (lo, hi), d in zip(shares, dws, strict=True)])
    for d in dws[1:]:
        dw += d


def _backward_share(dout: np.ndarray, x: np.ndarray, layer: Layer, plan: Plan,
                    dx: np.ndarray, dw: np.ndarray, lo: int, hi: int) -> None:
    """Add the gradients of images ``[lo, hi)`` into ``dx`` and ``dw``."""
    g, G, Fg, Cg = layer.g, layer.groups, layer.Fg, layer.Cg
    ow, dtype = g.out[1], x.dtype
    w2 = layer.w2
    rg = Cg * g.taps
    if plan.strategy == "matmul":
        _backward_matmul(dout, x, layer, dx, dw, lo, hi)
        return
    wide = plan.strategy == "wide"  # plan() has checked wide_ok(layer)
    pad = _Pad(layer, plan, dtype, always=wide)
    n, rows = plan.images, plan.rows
    wp = g.padded[1]
    contiguous = dout.flags.c_contiguous or wide
    dbuf = None if contiguous else np.empty((n, layer.F, rows * ow), dtype)
    if wide:
        cols = np.empty((layer.K, n * rows * wp), dtype)
        dt = np.empty((layer.F, n * rows * wp), dtype)
        tmp = np.empty((Fg, rg), dtype)
    elif plan.strategy == "im2col":
        cols = np.empty((n, layer.K, rows * ow), dtype)
        tmp = np.empty((Fg, rg), dtype)
    elif plan.strategy == "im2col_t":
        cols = np.empty((layer.K, n * rows * ow), dtype)
        dt = np.empty((layer.F, n * rows * ow), dtype)
        tmp = np.empty((Fg, rg), dtype)
    else:
        wt = np.empty((*g.kernel, G, Cg, Fg), dtype)
        wt[...] = layer.w.reshape(G, Fg, Cg, *g.kernel).transpose(3, 4, 0, 2, 1)
        tap = np.empty((n, g.C, rows * ow), dtype)
        tmp = np.empty((Fg, Cg), dtype)
        dw5 = dw.reshape(G, Fg, Cg, *g.kernel)
        grad = _Pad(layer, plan, dtype)  # the padded gradient, beside the input
    (top, _), (left, _) = g.padding
    sh = g.stride[0]
    for n0, n1, y0, y1 in plan.units(g, lo, hi):
        m, r = n1 - n0, y1 - y0
        r0, r1 = y0 * sh, y0 * sh + layer.band_height(r)
        xp = pad.fill(x, n0, n1, r0, r1, clear=True)
        if wide:
            d = dout  # unused: the wide branch copies dout itself
        elif dbuf is None:
            d = dout[n0:n1, :, y0:y1].reshape(m, layer.F, r * ow)
        else:
            d = dbuf[:m, :, : r * ow]
            d.reshape(m, layer.F, r, ow)[...] = dout[n0:n1, :, y0:y1]
        if plan.strategy == "shift":
            if grad.buf is not None:
                dxp = grad.buf[:m, :, : r1 - r0]
                dxp.fill(0)
            else:
                dxp = dx[n0:n1, :, r0:r1]
            t = tap[:m, :, : r * ow]
            for i in range(g.kernel[0]):
                for j in range(g.kernel[1]):
                    rs, cs = _tap(g, i, j, r)
                    t.reshape(m, g.C, r, ow)[...] = xp[:, :, rs, cs]
                    for k in range(G):
                        dk = d[:, k * Fg : (k + 1) * Fg]
                        tk = t[:, k * Cg : (k + 1) * Cg]
                        for q in range(m):
                            np.matmul(dk[q], tk[q].T, out=tmp)
                            dw5[k, :, :, i, j] += tmp
                        np.matmul(wt[i, j, k], dk, out=tk)  # tap slice is used up
                    dxp[:, :, rs, cs] += t.reshape(m, g.C, r, ow)
        elif wide:
            c = _wide_columns(cols, xp, g, m, r)
            da = dt[:, : m * r * wp]
            d4 = np.reshape(da, (layer.F, m, r, wp), copy=False)
            d4[..., :ow] = dout[n0:n1, :, y0:y1].transpose(1, 0, 2, 3)
            d4[..., ow:] = 0  # discarded columns add nothing
            for k in range(G):
                dk = da[k * Fg : (k + 1) * Fg]
                ck = c[k * rg : (k + 1) * rg]
                np.matmul(dk, ck.T, out=tmp)
                dw[k] += tmp
                np.matmul(w2[k].T, dk, out=ck)  # columns are used up
            dxp = xp  # the padded input is used up: it takes the gradient
            dxp.fill(0)
            _wide_col2im(c, dxp, g)
        else:
            if plan.strategy == "im2col":
                c = cols[:m, :, : r * ow]
                np.copyto(c.reshape(m, g.C, *g.kernel, r, ow),
                          _view(xp, g).transpose(3, 0, 1, 2, 4, 5))
                for k in range(G):
                    dk = d[:, k * Fg : (k + 1) * Fg]
                    ck = c[:, k * rg : (k + 1) * rg]
                    for q in range(m):
                        np.matmul(dk[q], ck[q].T, out=tmp)
                        dw[k] += tmp
                    np.matmul(w2[k].T, dk, out=ck)  # columns are used up
                taps = c.reshape(m, g.C, *g.kernel, r, ow).transpose(
                    2, 3, 0, 1, 4, 5)
            else:
                c = cols[:, : m * r * ow]
                np.copyto(c.reshape(g.C, *g.kernel, m, r, ow), _view(xp, g))
                da = dt[:, : m * r * ow]
                da.reshape(layer.F, m, r * ow)[...] = d.transpose(1, 0, 2)
                for k in range(G):
                    dk = da[k * Fg : (k + 1) * Fg]
                    ck = c[k * rg : (k + 1) * rg]
                    np.matmul(dk, ck.T, out=tmp)
                    dw[k] += tmp
                    np.matmul(w2[k].T, dk, out=ck)
                taps = c.reshape(g.C, *g.kernel, m, r, ow).transpose(
                    1, 2, 3, 0, 4, 5)
            # col2im: the padded input is used up, so it takes the gradient
            if pad.buf is not None:
                dxp = xp
                dxp.fill(0)
            else:
                dxp = dx[n0:n1, :, r0:r1]
            for i in range(g.kernel[0]):
                for j in range(g.kernel[1]):
                    rs, cs = _tap(g, i, j, r)
                    dxp[:, :, rs, cs] += taps[i, j]
        if pad.buf is not None:  # dxp is a padded buffer, not dx itself
            a, e = pad.rows(r0, r1)
            if e > a:
                dx[n0:n1, :, a - top : e - top] += dxp[
                    :, :, a - r0 : e - r0, left : left + g.W]


def _backward_matmul(dout: np.ndarray, x: np.ndarray, layer: Layer,
                     dx: np.ndarray, dw: np.ndarray, lo: int, hi: int) -> None:
    g, G, Fg, Cg = layer.g, layer.groups, layer.Fg, layer.Cg
    x3 = x.reshape(g.N, g.C, g.H * g.W)
    dx3 = dx.reshape(g.N, g.C, g.H * g.W)
    tmp = np.empty((Fg, Cg), x.dtype)
    for k in range(G):
        w2k = layer.w2[k]
        for i in range(lo, hi):
            dk = dout[i, k * Fg : (k + 1) * Fg].reshape(Fg, g.H * g.W)
            np.matmul(w2k.T, dk, out=dx3[i, k * Cg : (k + 1) * Cg])
            np.matmul(dk, x3[i, k * Cg : (k + 1) * Cg].T, out=tmp)
            dw[k] += tmp
