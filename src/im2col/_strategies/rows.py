"""``rows``: a strip of kernel-column copies, one GEMM per output row on a view of it.

For every padded input row the strip holds its ``C*kw`` windows of one
kernel row, ``ow`` wide: ``strip[y, c, j, :] = xp[c, y, j*dw :: sw][:ow]``.
The columns of output row ``h``, ordered ``(i, c, j)``, are then the
strip's rows ``h*sh`` to ``h*sh + kh - 1``, one block of it, so a view
(stride ``sh`` rows from one output row to the next): the copy moves
about ``kh/sh`` times fewer elements than im2col's (``Hp*C*kw*ow``
instead of ``oh*ow*C*kh*kw``), in runs of ``ow``. The products become
``oh`` narrow ones per image, ``(F, C*kh*kw) @ (C*kh*kw, ow)``; that pays
for few filters and a tall kernel (a first layer), where im2col's copy is
large beside its GEMM (on S1 the narrow products even ran faster,
``python -m benchmarks.rows``). It needs dilation 1 along the height
(kernel rows one strip row apart). Forward only: its backward pass, and
the size of that pass's units, are
:class:`~im2col._strategies.im2col.Im2col`'s.
"""

from __future__ import annotations

import numpy as np

from .._compat import reshape_view, strided_view
from .._layer import Layer
from .._view import check_inside
from . import _base, _views
from ._base import Buffer, Buffers
from .im2col import IM2COL, Im2col


class Rows(Im2col):
    """One GEMM per output row on a strip of the input; backward as :class:`Im2col`."""

    name = "rows"
    #: Small units: the strip of one 32x32 image of S1 (100 KiB) is read
    #: ``kh`` times by the products, from the cache.
    target_bytes = 2 * 2**20

    def unfit(self, layer: Layer, x: np.ndarray) -> str | None:
        """Need dilation 1 along the height: a window's rows are consecutive strip rows."""
        return None if layer.g.dilation[0] == 1 else "dilation 1 along the height"

    def adds_bias(self, layer: Layer) -> bool:
        """No: the caller adds it."""
        return False

    def per_image(self, layer: Layer) -> int:
        """Strip elements of one image."""
        g = layer.g
        return g.band_height(g.out[0]) * g.C * g.kernel[1] * g.out[1]

    def sizing(self, layer: Layer, *, backward: bool) -> tuple[int, int]:
        """Size units by the strip in the forward pass, as :class:`Im2col` in the backward pass."""
        if backward:
            return IM2COL.sizing(layer, backward=backward)
        return super().sizing(layer, backward=backward)

    def buffers(self, layer: Layer, n: int, rows: int, *, backward: bool,
                dout_contiguous: bool) -> Buffers:
        """Declare the padded band, the strip and the filters in ``(i, c, j)`` order.

        The backward pass declares :class:`Im2col`'s.
        """
        if backward:
            return super().buffers(layer, n, rows, backward=backward,
                                   dout_contiguous=dout_contiguous)
        g = layer.g
        return {**_base.padded_input(layer, n, rows),
                "strip": Buffer((n, layer.groups, g.band_height(rows), layer.Cg,
                                 g.kernel[1], g.out[1])),
                "wr": Buffer((layer.groups, layer.Fg, layer.Cg * g.taps), shared=True)}

    def start(self, bufs: dict[str, np.ndarray], layer: Layer, *,
              backward: bool) -> None:
        """Lay the filters out as ``(groups, F/groups, kh, C/groups, kw)``."""
        if backward:
            super().start(bufs, layer, backward=backward)
            return
        G, g = layer.groups, layer.g
        w = layer.w.reshape(G, layer.Fg, layer.Cg, *g.kernel).transpose(0, 1, 3, 2, 4)
        bufs["wr"].reshape(w.shape)[...] = w

    def forward(self, bufs: dict[str, np.ndarray], layer: Layer,
                xp: np.ndarray, o: np.ndarray) -> None:
        """Copy the band into the strip, then every output row's product in one ``product``."""
        g, G = layer.g, layer.groups
        (kh, kw), ow = g.kernel, g.out[1]
        m, hb, r = xp.shape[0], xp.shape[2], o.shape[2] // ow
        strip = bufs["strip"]

        def target() -> np.ndarray:  # (G, Cg, kw, m, hb, ow), the windows' order
            view: np.ndarray = strip[:m, :, :hb].transpose(1, 3, 4, 0, 2, 5)
            return view

        def columns() -> np.ndarray:  # (m, G, r, kh*Cg*kw, ow)
            s = strip.strides
            view = strided_view(strip, (m, G, r, kh * layer.Cg * kw, ow),
                                (s[0], s[1], g.stride[0] * s[2], s[4], s[5]))
            check_inside(view, strip)
            return view

        windows = _views.band_windows(bufs, layer, xp, width_only=True)
        np.copyto(_views.unit_view(bufs, f"strip {m} {hb}", target),
                  reshape_view(windows[:, 0], (G, layer.Cg, kw, m, hb, ow)))
        cols = _views.unit_view(bufs, f"strip columns {m} {r}", columns)
        out = reshape_view(o, (m, G, layer.Fg, r, ow)).transpose(0, 1, 3, 2, 4)
        _base.product(bufs["wr"][:, None], cols, out)


ROWS = Rows()
