"""``wide`` (stride 1 only, any dilation): columns copied in long runs.

The unit is padded into a buffer whose rows are contiguous, so each
channel is one flat run of ``hb*Wp`` elements (``hb`` padded rows of width
``Wp``). On a "wide" output grid of ``rows`` rows by ``Wp`` columns, kernel
tap ``(i, j)`` reads for all output rows at once one contiguous run of
``span = (rows - 1)*Wp + ow`` elements starting at ``i*dh*Wp + j*dw``: the
columns ``(C*kh*kw, n*rows*Wp)`` are copied in runs of ``span`` elements
instead of ``ow``, and col2im adds each tap back as one such run for all
channels and images. The GEMM computes ``Wp/ow`` times the columns; the
last ``Wp - ow`` of each wide row are discarded (forward) or multiplied by
zeros (backward). One GEMM per unit, as ``im2col_t``. Non-finite values in
``x`` or ``w`` can turn more gradient entries into NaN than the other
strategies do (``0 * inf`` on the discarded columns).
"""

from __future__ import annotations

import numpy as np

from .._compat import reshape_view
from .._layer import Layer
from .._view import wide_view
from . import _base, _grads, _views
from ._base import Buffer, Buffers, Strategy


class Wide(Strategy):
    """One GEMM per unit on the wide grid of ``rows`` by ``Wp`` outputs."""

    name = "wide"
    target_bytes = 8 * 2**20  # its one GEMM per unit wants wider units

    def unfit(self, layer: Layer, x: np.ndarray) -> str | None:
        """Stride 1 only: a tap's windows must be one contiguous run."""
        return None if layer.g.stride == (1, 1) else "stride 1"

    def buffers(self, layer: Layer, n: int, rows: int, *, backward: bool,
                dout_contiguous: bool) -> Buffers:
        """Declare the padded band (even without padding) and the wide grid.

        Columns and a product (forward) or ``dout`` (backward) on the wide
        grid, and the ``dw`` product.
        """
        wide = n * rows * layer.g.padded[1]
        return {**_base.padded_input(layer, n, rows, always=True),
                "cols": Buffer((layer.K, wide)),
                "prod": Buffer((layer.F, wide)),
                **_grads.dw_product(layer, backward)}

    def per_image(self, layer: Layer) -> int:
        """Columns of one image on the wide grid."""
        return layer.K * layer.g.out[0] * layer.g.padded[1]

    def columns(self, bufs: dict[str, np.ndarray], layer: Layer,
                xp: np.ndarray) -> np.ndarray:
        """Unfold a padded band into ``(K, m*r*Wp)`` wide-grid columns."""
        g = layer.g
        wp = g.padded[1]
        view = wide_view(xp, g.kernel, g.dilation, g.out[1])
        m, span = view.shape[3:]
        r = -(-span // wp)
        c = bufs["cols"][:, : m * r * wp]
        c5 = reshape_view(c, (g.C, *g.kernel, m, r * wp))
        np.copyto(c5[..., :span], view)
        c5[..., span:] = 0  # the last wide row's discarded columns
        return c

    def forward(self, bufs: dict[str, np.ndarray], layer: Layer,
                xp: np.ndarray, o: np.ndarray) -> None:
        """One GEMM per group on the wide grid; the wide rows cropped into ``o``."""
        g = layer.g
        c = self.columns(bufs, layer, xp)
        wp, ow, m = g.padded[1], g.out[1], xp.shape[0]
        r = c.shape[1] // (m * wp)
        p = bufs["prod"][:, : m * r * wp]
        _base.group_gemms(layer, c, p)
        reshape_view(o, (m, layer.F, r, ow))[...] = p.reshape(
            layer.F, m, r, wp)[..., :ow].transpose(1, 0, 2, 3)

    def backward(self, bufs: dict[str, np.ndarray], layer: Layer,
                 xp: np.ndarray, dout: np.ndarray, dxb: np.ndarray,
                 dw: np.ndarray) -> np.ndarray:
        """``dw`` and the column gradient on the wide grid, col2im in long runs."""
        g = layer.g
        c = self.columns(bufs, layer, xp)
        (kh, kw), (dh, dw_) = g.kernel, g.dilation
        wp, ow = g.padded[1], g.out[1]
        m, r = dout.shape[0], dout.shape[2]
        da = bufs["prod"][:, : m * r * wp]
        d4 = reshape_view(da, (layer.F, m, r, wp))
        d4[..., :ow] = dout.transpose(1, 0, 2, 3)
        d4[..., ow:] = 0  # discarded columns add nothing
        _grads.group_grads(layer, da, c, dw, bufs["tmp"])
        dxp = _views.gradient_band(bufs, xp, dxb)  # the padded input is used up
        hb = dxp.shape[2]
        span = (hb - (kh - 1) * dh - 1) * wp + ow
        flat = reshape_view(dxp, (m, g.C, hb * wp)).transpose(1, 0, 2)
        c5 = reshape_view(c, (g.C, kh, kw, m, r * wp))
        for i in range(kh):
            for j in range(kw):
                at = i * dh * wp + j * dw_
                flat[:, :, at : at + span] += c5[:, i, j, :, :span]
        return dxp


WIDE = Wide()
