"""``kernel_rows``: a strip of kernel-column copies, one GEMM per kernel row.

The strip holds, for every padded input row of the band, its ``C*kw``
windows of one kernel row, ``ow`` wide, laid out ``(C, kw, rows, ow)``:
``strip[c, j, y, :] = xp[c, y, j*dw :: sw][:ow]``. Kernel row ``i``'s
columns for all the unit's output rows at once, ordered ``(c, j)`` by
pixel, are then strip rows ``i*dh`` onwards of every ``(c, j)`` plane: one
BLAS matrix per image and group, ``(C/groups*kw, rows*ow)``, whose rows
lie a plane apart (a view). So the forward pass is ``kh`` products per
group, ``(F/groups, C/groups*kw) @ (C/groups*kw, rows*ow)``, summed, on a
copy about ``kh`` times smaller than im2col's columns, in runs of ``ow``,
on units of as many images as im2col's.
It needs stride 1 along the height (output rows one strip row apart).
Where each product is deep enough it took from a little more to less
time than im2col, and shallower products lost (``python -m
benchmarks.rows``, ``window_rule``); the planner takes it there when its
buffers take no more than im2col's (:data:`im2col._plan.KERNEL_ROWS_DEPTH`).
Forward only: its backward pass, and the size of its units, are
:class:`~im2col._strategies.im2col.Im2col`'s.
"""

from __future__ import annotations

import numpy as np

from .._compat import reshape_view, strided_view
from .._layer import Layer
from .._view import check_inside
from . import _base, _views
from ._base import Buffer, Buffers
from .im2col import IM2COL
from .rows import Rows


class KernelRows(Rows):
    """One GEMM per kernel row on a strip of the input; backward as :class:`Im2col`."""

    name = "kernel_rows"
    filter_axes = (3, 0, 1, 2, 4)  # wr: (kh, groups, F/groups, C/groups*kw)

    def unfit(self, layer: Layer, x: np.ndarray) -> str | None:
        """Need stride 1 along the height: output rows are consecutive strip rows."""
        return None if layer.g.stride[0] == 1 else "stride 1 along the height"

    def sizing(self, layer: Layer, *, backward: bool) -> tuple[int, int]:
        """Size units as :class:`Im2col` does (the planner compares both on the same units)."""
        return IM2COL.sizing(layer, backward=backward)

    def forward_buffers(self, layer: Layer, n: int, rows: int) -> Buffers:
        """Declare the padded band, the strip, the filters by kernel row, a product if kh > 1."""
        g = layer.g
        kh, kw = g.kernel
        return {**_base.padded_input(layer, n, rows),
                "strip": Buffer((n, g.C, kw, g.band_height(rows), g.out[1])),
                "wr": Buffer((kh, layer.groups, layer.Fg, layer.Cg * kw), shared=True),
                **({"prod": Buffer((n, layer.F, rows * g.out[1]))} if kh > 1 else {})}

    def forward(self, bufs: dict[str, np.ndarray], layer: Layer,
                xp: np.ndarray, o: np.ndarray) -> None:
        """Copy the band into the strip, then each kernel row's product, summed into ``o``."""
        g, G, Fg = layer.g, layer.groups, layer.Fg
        (kh, kw), dh, ow = g.kernel, g.dilation[0], g.out[1]
        m, hb, r = xp.shape[0], xp.shape[2], o.shape[2] // ow
        strip = bufs["strip"]

        def target() -> np.ndarray:  # (C, 1, kw, m, hb, ow), the windows' order
            view: np.ndarray = strip[:m, :, None, :, :hb].transpose(1, 2, 3, 0, 4, 5)
            return view

        def columns() -> np.ndarray:  # (kh, m, G, Cg*kw, r*ow)
            s = strip.strides
            view = strided_view(strip, (kh, m, G, layer.Cg * kw, r * ow),
                                (dh * s[3], s[0], layer.Cg * s[1], s[2], s[4]))
            check_inside(view, strip)
            return view

        windows = _views.band_windows(bufs, layer, xp, width_only=True)
        np.copyto(_views.unit_view(bufs, f"strip {m} {hb}", target), windows)
        cols = _views.unit_view(bufs, f"kernel row columns {m} {r}", columns)
        out = reshape_view(o, (m, G, Fg, r * ow))
        wr = bufs["wr"]
        np.matmul(wr[0], cols[0], out=out)
        if kh > 1:
            part = reshape_view(bufs["prod"][:m, :, : r * ow], (m, G, Fg, r * ow))
            for i in range(1, kh):
                np.matmul(wr[i], cols[i], out=part)
                out += part


KERNEL_ROWS = KernelRows()
