"""``window_rows``: a strip of kernel-column copies, one GEMM per window (kernel) row.

The strip holds, for every padded input row of the band, its ``C*kw``
windows of one kernel row, ``ow`` wide, laid out ``(C, kw, rows, ow)``:
``strip[c, j, y, :] = xp[c, y, j*dw :: sw][:ow]``. Kernel row ``i``'s
columns for all the unit's output rows at once, ordered ``(c, j)`` by
pixel, are then strip rows ``i*dh`` onwards of every ``(c, j)`` plane: one
BLAS matrix per image and group, ``(C/groups*kw, rows*ow)``, whose rows
lie a plane apart (a view). So the forward pass is ``kh`` products per
group, ``(F/groups, C/groups*kw) @ (C/groups*kw, rows*ow)``, summed, on a
copy about ``kh`` times smaller than im2col's columns, in runs of ``ow``.
The backward pass reads the same views: ``dw``'s kernel row ``i`` is
``dout`` times view ``i`` transposed; the input gradient is ``kh``
products ``w_i.T @ dout`` summed into the strip (now the strip's
gradient: view ``i`` of it gets product ``i``), then added into the band
by one strided ``+=`` per kernel column. It needs stride 1 along the
height (output rows one strip row apart). Units hold as many images as
im2col's. Where each product is deep enough
and BLAS runs on one thread it took from a little more to less time than
im2col in both passes, and shallower products lost (``python -m
benchmarks.rows``, ``window_rule`` and ``window_backward``); the planner
takes it there when its buffers take no more than im2col's
(:data:`im2col._rules.WINDOW_ROWS_DEPTH`).
"""

from __future__ import annotations

from functools import partial

import numpy as np

from .._compat import reshape_view
from .._layer import Layer
from . import _base, _grads, _views
from ._base import Buffer, Buffers, Strategy
from .im2col import IM2COL


class WindowRows(Strategy):
    """One GEMM per kernel row on a strip of the input, in both passes; the caller adds the bias."""

    name = "window_rows"

    def unfit(self, layer: Layer, x: np.ndarray) -> str | None:
        """Need stride 1 along the height: output rows are consecutive strip rows."""
        return None if layer.g.stride[0] == 1 else "stride 1 along the height"

    def sizing(self, layer: Layer, *, backward: bool) -> tuple[int, int]:
        """Size units as :class:`Im2col` does (the planner compares both on the same units)."""
        return IM2COL.sizing(layer, backward=backward)

    def buffers(self, layer: Layer, n: int, rows: int, *, backward: bool,
                dout_contiguous: bool) -> Buffers:
        """Declare the padded band, the strip, the filters by kernel row, a product if kh > 1.

        The backward pass's product is the strip gradient's ``(n, C*kw,
        rows*ow)``, and it adds ``dw``'s products and their sum by kernel
        row (``dwr``) and a copy of ``dout`` if it is not C-ordered.
        """
        g, G, Fg, depth = layer.g, layer.groups, layer.Fg, layer.Cg * layer.g.kernel[1]
        kh, kw = g.kernel
        bufs = {**_base.padded_input(layer, n, rows),
                "strip": Buffer((n, g.C, kw, g.band_height(rows), g.out[1])),
                "wr": Buffer((kh, G, depth, Fg) if backward else (kh, G, Fg, depth),
                             shared=True)}
        if kh > 1:
            bufs["prod"] = Buffer((n, G * depth if backward else layer.F, rows * g.out[1]))
        if backward:
            bufs |= {"dwr": Buffer((kh, G, Fg, depth)),
                     **_grads.dw_product(layer, backward, images=n),
                     **_base.dout_copy(layer, n, rows, backward=backward,
                                       dout_contiguous=dout_contiguous)}
        return bufs

    def start(self, bufs: dict[str, np.ndarray], layer: Layer, *,
              backward: bool) -> None:
        """Lay the filters out by kernel row (transposed for the backward pass)."""
        G, g = layer.groups, layer.g
        # (groups, F/groups, C/groups, kh, kw) as (kh, groups, F/groups, C/groups*kw),
        # or (kh, groups, C/groups*kw, F/groups) for the backward pass
        axes = (3, 0, 2, 4, 1) if backward else (3, 0, 1, 2, 4)
        w = layer.w.reshape(G, layer.Fg, layer.Cg, *g.kernel).transpose(axes)
        bufs["wr"].reshape(w.shape)[...] = w

    def kernel_columns(self, bufs: dict[str, np.ndarray], layer: Layer,
                       xp: np.ndarray, r: int) -> list[np.ndarray]:
        """Copy the band into the strip; return its views ``(m, G, Cg*kw, r*ow)``, one per kernel row.

        View ``i``, strip rows ``i*dh`` to ``i*dh + r`` of every ``(c, j)``
        plane, is kernel row ``i``'s columns of the unit's ``r`` output
        rows (writeable: the backward pass sums the strip's gradient
        through them).
        """
        g, G = layer.g, layer.groups
        (kh, kw), dh, ow = g.kernel, g.dilation[0], g.out[1]
        m, hb = xp.shape[0], xp.shape[2]
        strip = bufs["strip"][:m]

        def target() -> np.ndarray:  # (C, 1, kw, m, hb, ow), the windows' order
            view: np.ndarray = strip[:, :, None, :, :hb].transpose(1, 2, 3, 0, 4, 5)
            return view

        def row(i: int) -> np.ndarray:  # kernel row i's columns, made once per size of unit
            return reshape_view(strip[:, :, :, i * dh : i * dh + r], (m, G, layer.Cg * kw, r * ow))

        windows = _views.band_windows(bufs, layer, xp, width_only=True)
        np.copyto(_views.unit_view(bufs, f"strip {m} {hb}", target), windows)
        return [_views.unit_view(bufs, f"window row {i} {m} {r}", partial(row, i))
                for i in range(kh)]

    def product(self, bufs: dict[str, np.ndarray], layer: Layer, m: int, r: int,
                depth: int) -> np.ndarray:
        """Return ``prod`` for a unit of ``m`` images by ``r`` rows as ``(m, groups, depth, r*ow)``."""
        ow = layer.g.out[1]
        return _views.unit_view(bufs, f"product {m} {r}", lambda: reshape_view(
            bufs["prod"][:m, :, : r * ow], (m, layer.groups, depth, r * ow)))

    def forward(self, bufs: dict[str, np.ndarray], layer: Layer,
                xp: np.ndarray, o: np.ndarray) -> None:
        """Copy the band into the strip, then each kernel row's product, summed into ``o``."""
        G, Fg, ow = layer.groups, layer.Fg, layer.g.out[1]
        m, r = xp.shape[0], o.shape[2] // ow
        cols = self.kernel_columns(bufs, layer, xp, r)
        out = reshape_view(o, (m, G, Fg, r * ow))
        wr = bufs["wr"]
        np.matmul(wr[0], cols[0], out=out)
        if len(cols) > 1:
            part = self.product(bufs, layer, m, r, Fg)
            for i in range(1, len(cols)):
                np.matmul(wr[i], cols[i], out=part)
                out += part

    def backward(self, bufs: dict[str, np.ndarray], layer: Layer,
                 xp: np.ndarray, dout: np.ndarray, dxb: np.ndarray,
                 dw: np.ndarray) -> np.ndarray | None:
        """``dw`` by kernel row on the strip's views, then the strip's gradient, added into the band."""
        g, G, Fg, Cg = layer.g, layer.groups, layer.Fg, layer.Cg
        (kh, kw), ow = g.kernel, g.out[1]
        m, r, hb = dout.shape[0], dout.shape[2], xp.shape[2]
        cols = self.kernel_columns(bufs, layer, xp, r)
        d = reshape_view(_views.dout_rows(bufs, dout), (m, G, Fg, r * ow))
        dwr = bufs["dwr"]
        dwr.fill(0)
        for i in range(kh):
            _grads.add_products(dwr[i], d, cols[i], bufs["tmp"])
        reshape_view(dw, (G, Fg, Cg, kh, kw))[...] += dwr.reshape(kh, G, Fg, Cg, kw).transpose(
            1, 2, 3, 0, 4)
        # The strip is used up: it becomes its own gradient, view i receiving product i.
        wr, strip = bufs["wr"], bufs["strip"][:m]
        np.matmul(wr[0], d, out=cols[0])  # strip rows [0, r) of every plane
        strip[:, :, :, r:hb] = 0  # the rows only the other kernel rows reach
        if kh > 1:
            part = self.product(bufs, layer, m, r, Cg * kw)
            for i in range(1, kh):
                np.matmul(wr[i], d, out=part)
                cols[i] += part
        dxp = _views.gradient_band(bufs, xp, dxb)  # the padded input is used up
        for j in range(kw):
            _, xs = g.tap_slices(0, j, r)
            dxp[:, :, :hb, xs] += strip[:, :, j, :hb]
        return dxp


WINDOW_ROWS = WindowRows()
