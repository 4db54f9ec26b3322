"""``im2col``: columns ``(n, C*kh*kw, rows*ow)``, one GEMM per image.

Each image's ``(F, rows*ow)`` product *is* its NCHW output slice, so
nothing is transposed. The default for images of many output pixels. With
a bias and one group, the columns have a last row of ones and the filters
a last column holding the bias, so the GEMM adds it: no second pass over
the output (on a unit of S2 that pass took a third as long as the GEMM:
``python -m benchmarks.passes``, ``bias``). In float32 a product of few
filters by shallow columns is cut into blocks of pixels, for OpenBLAS's
small-matrix kernels (``_base.product``).
"""

from __future__ import annotations

import numpy as np

from .._columns import add_columns
from .._compat import reshape_view
from .._layer import Layer
from . import _base, _grads, _views
from ._base import Buffer, Buffers, Strategy


class Im2col(Strategy):
    """Per-image GEMMs on a unit's columns."""

    name = "im2col"

    def adds_bias(self, layer: Layer) -> bool:
        """With one group and a bias: the GEMM adds it, by a row of ones."""
        return layer.b is not None and layer.groups == 1

    def buffers(self, layer: Layer, n: int, rows: int, *, backward: bool,
                dout_contiguous: bool) -> Buffers:
        """Declare the padded band, columns, the ``dw`` product and ``dout``.

        With a bias it adds, a row of ones under the columns and the
        filters with the bias beside them (shared).
        """
        ones = self.adds_bias(layer) and not backward
        return {**_base.padded_input(layer, n, rows),
                "cols": Buffer((n, layer.K + ones, rows * layer.g.out[1])),
                **({"wb": Buffer((layer.F, layer.K + 1), shared=True)} if ones else {}),
                **_grads.dw_product(layer, backward, images=n),
                **_base.dout_copy(layer, n, rows, backward=backward,
                            dout_contiguous=dout_contiguous)}

    def start(self, bufs: dict[str, np.ndarray], layer: Layer, *,
              backward: bool) -> None:
        """Lay out the filters with the bias as their last column, if it is added here."""
        if "wb" in bufs and layer.b is not None:
            bufs["wb"][:, :-1] = layer.w2[0]
            bufs["wb"][:, -1] = layer.b

    def column_rows(self, bufs: dict[str, np.ndarray], layer: Layer) -> np.ndarray:
        """Return the ``(n, K, rows*ow)`` buffer the columns are copied into (with the ones row)."""
        return bufs["cols"]

    def columns(self, bufs: dict[str, np.ndarray], layer: Layer,
                xp: np.ndarray) -> np.ndarray:
        """Copy the band's windows into the ``(m, K, r*ow)`` columns (and the ones below)."""
        g = layer.g
        view = _views.band_windows(bufs, layer, xp)
        m, r, ow = view.shape[3:]
        c = self.column_rows(bufs, layer)[:m, :, : r * ow]

        def target() -> np.ndarray:  # made once per size of unit
            if c.shape[1] > layer.K:
                c[:, layer.K] = 1
            return reshape_view(c[:, : layer.K], (m, g.C, *g.kernel, r, ow))

        np.copyto(_views.unit_view(bufs, f"cols {m} {r}", target),
                  view.transpose(3, 0, 1, 2, 4, 5))
        return c

    def forward(self, bufs: dict[str, np.ndarray], layer: Layer,
                xp: np.ndarray, o: np.ndarray) -> None:
        """One GEMM per group straight into the output slice (bias included, if it fits)."""
        c = self.columns(bufs, layer, xp)
        if "wb" in bufs:
            _base.product(bufs["wb"], c, o)
        else:
            _base.group_gemms(layer, c, o)

    def backward(self, bufs: dict[str, np.ndarray], layer: Layer,
                 xp: np.ndarray, dout: np.ndarray, dxb: np.ndarray,
                 dw: np.ndarray) -> np.ndarray | None:
        """``dw``, the column gradient over the columns, then col2im."""
        c = self.columns(bufs, layer, xp)
        self.gradients(bufs, layer, c, dout, dw)
        m, r = dout.shape[0], dout.shape[2]
        dxp = _views.gradient_band(bufs, xp, dxb)  # the padded input is used up
        add_columns(dxp, self.taps(layer, c, m, r), layer.g, r)
        return dxp

    def gradients(self, bufs: dict[str, np.ndarray], layer: Layer,
                  c: np.ndarray, dout: np.ndarray, dw: np.ndarray, *,
                  columns: bool = True) -> None:
        """Add ``dout @ c.T`` into ``dw``, a few images per call; write ``w.T @ dout`` over ``c``.

        The column gradient is skipped unless ``columns``.
        """
        G = layer.groups
        dg, cg = _base.by_group(_views.dout_rows(bufs, dout), G), _base.by_group(c, G)
        _grads.add_products(dw, dg, cg, bufs["tmp"])
        if columns:
            _base.product(layer.w2.swapaxes(-1, -2), dg, cg)  # columns are used up

    def taps(self, layer: Layer, c: np.ndarray, m: int, r: int) -> np.ndarray:
        """View the column gradient as ``(m, C, kh, kw, r, ow)`` blocks per tap."""
        g = layer.g
        return reshape_view(c[:, : layer.K], (m, g.C, *g.kernel, r, g.out[1]))


IM2COL = Im2col()
