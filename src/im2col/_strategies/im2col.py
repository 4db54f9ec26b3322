"""``im2col``: columns ``(n, C*kh*kw, rows*ow)``, one GEMM per image.

Each image's ``(F, rows*ow)`` product *is* its NCHW output slice, so
nothing is transposed. The default for images of many output pixels.
"""

from __future__ import annotations

import numpy as np

from .._columns import add_taps
from .._layer import Layer
from .._view import windows
from ._base import (
    Buffer,
    Buffers,
    Strategy,
    dout_copy,
    dout_rows,
    dw_product,
    gradient_band,
    padded_input,
)


class Im2col(Strategy):
    """Per-image GEMMs on a unit's columns."""

    name = "im2col"

    def buffers(self, layer: Layer, n: int, rows: int, *, backward: bool,
                dout_contiguous: bool) -> Buffers:
        """Declare the padded band, columns, the ``dw`` product and ``dout``."""
        return {**padded_input(layer, n, rows),
                "cols": Buffer((n, layer.K, rows * layer.g.out[1])),
                **dw_product(layer, backward),
                **dout_copy(layer, n, rows, backward=backward,
                            dout_contiguous=dout_contiguous)}

    def columns(self, bufs: dict[str, np.ndarray], layer: Layer,
                xp: np.ndarray) -> np.ndarray:
        """Copy the band's windows into the ``(m, K, r*ow)`` columns."""
        g = layer.g
        view = windows(xp, g.kernel, g.stride, g.dilation)
        m, r, ow = view.shape[3:]
        c = bufs["cols"][:m, :, : r * ow]
        np.copyto(c.reshape(m, g.C, *g.kernel, r, ow),
                  view.transpose(3, 0, 1, 2, 4, 5))
        return c

    def forward(self, bufs: dict[str, np.ndarray], layer: Layer,
                xp: np.ndarray, o: np.ndarray) -> None:
        """One GEMM per group straight into the output slice."""
        c = self.columns(bufs, layer, xp)
        rg, Fg = layer.Cg * layer.g.taps, layer.Fg
        for k in range(layer.groups):
            np.matmul(layer.w2[k], c[:, k * rg : (k + 1) * rg],
                      out=o[:, k * Fg : (k + 1) * Fg])

    def backward(self, bufs: dict[str, np.ndarray], layer: Layer,
                 xp: np.ndarray, dout: np.ndarray, dxb: np.ndarray,
                 dw: np.ndarray) -> np.ndarray:
        """``dw`` image by image, column gradient over the columns, col2im."""
        g = layer.g
        c = self.columns(bufs, layer, xp)
        m, r, ow = c.shape[0], dout.shape[2], g.out[1]
        d = dout_rows(bufs, dout)
        rg, Fg, tmp = layer.Cg * g.taps, layer.Fg, bufs["tmp"]
        for k in range(layer.groups):
            dk = d[:, k * Fg : (k + 1) * Fg]
            ck = c[:, k * rg : (k + 1) * rg]
            for q in range(m):
                np.matmul(dk[q], ck[q].T, out=tmp)
                dw[k] += tmp
            np.matmul(layer.w2[k].T, dk, out=ck)  # columns are used up
        dxp = gradient_band(bufs, xp, dxb)  # so is the padded input
        add_taps(dxp, c.reshape(m, g.C, *g.kernel, r, ow).transpose(
            2, 3, 0, 1, 4, 5), g, r)
        return dxp


IM2COL = Im2col()
