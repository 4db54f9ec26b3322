"""``im2col_t``: columns ``(C*kh*kw, n*rows*ow)`` as in cs231n, one GEMM per unit.

The ``(F, n*rows*ow)`` product is copied transposed into the output. One
wide GEMM instead of ``n`` narrow ones: faster when ``oh*ow`` is small (a
few hundred pixels).
"""

from __future__ import annotations

import numpy as np

from .._compat import reshape_view
from .._layer import Layer
from . import _base, _grads, _views
from ._base import Buffer, Buffers
from .im2col import Im2col


class Im2colT(Im2col):
    """One GEMM per unit on cs231n-ordered columns; backward as :class:`Im2col`."""

    name = "im2col_t"
    target_bytes = 8 * 2**20  # its one GEMM per unit wants wider units

    def adds_bias(self, layer: Layer) -> bool:
        """No: the caller adds it."""
        return False

    def buffers(self, layer: Layer, n: int, rows: int, *, backward: bool,
                dout_contiguous: bool) -> Buffers:
        """Declare the padded band, columns, product (or ``dout``), ``dw`` product."""
        pix = n * rows * layer.g.out[1]
        return {**_base.padded_input(layer, n, rows),
                "cols": Buffer((layer.K, pix)),
                "prod": Buffer((layer.F, pix)),
                **_grads.dw_product(layer, backward)}

    def columns(self, bufs: dict[str, np.ndarray], layer: Layer,
                xp: np.ndarray) -> np.ndarray:
        """Copy the band's windows into the ``(K, m*r*ow)`` columns."""
        g = layer.g
        view = _views.band_windows(bufs, layer, xp)
        m, r, ow = view.shape[3:]
        c = bufs["cols"][:, : m * r * ow]
        np.copyto(_views.unit_view(bufs, f"cols {m} {r}", lambda: reshape_view(
            c, (g.C, *g.kernel, m, r, ow))), view)
        return c

    def forward(self, bufs: dict[str, np.ndarray], layer: Layer,
                xp: np.ndarray, o: np.ndarray) -> None:
        """One GEMM per group into the product, copied transposed into ``o``."""
        c = self.columns(bufs, layer, xp)
        m, pix = o.shape[0], c.shape[1]
        p = bufs["prod"][:, :pix]
        _base.group_gemms(layer, c, p)
        o[...] = p.reshape(layer.F, m, pix // m).transpose(1, 0, 2)

    def gradients(self, bufs: dict[str, np.ndarray], layer: Layer,
                  c: np.ndarray, dout: np.ndarray, dw: np.ndarray, *,
                  columns: bool = True) -> None:
        """``dw`` and (if ``columns``) the column gradient by one GEMM each per group."""
        m, r, ow = dout.shape[0], dout.shape[2], layer.g.out[1]
        da = bufs["prod"][:, : m * r * ow]
        da.reshape(layer.F, m, r, ow)[...] = dout.transpose(1, 0, 2, 3)
        _grads.group_grads(layer, da, c, dw, bufs["tmp"], columns=columns)

    def taps(self, layer: Layer, c: np.ndarray, m: int, r: int) -> np.ndarray:
        """View the column gradient as ``(m, C, kh, kw, r, ow)`` blocks per tap."""
        g = layer.g
        view: np.ndarray = c.reshape(g.C, *g.kernel, m, r, g.out[1]).transpose(3, 0, 1, 2, 4, 5)
        return view


IM2COL_T = Im2colT()
