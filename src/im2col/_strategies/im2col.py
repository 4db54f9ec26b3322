"""``im2col``: columns ``(n, C*kh*kw, rows*ow)``, one GEMM per image.

Each image's ``(F, rows*ow)`` product *is* its NCHW output slice, so
nothing is transposed. The default for images of many output pixels.
"""

from __future__ import annotations

import numpy as np

from .._columns import add_taps
from .._layer import Layer
from .._view import windows
from . import _base
from ._base import Buffer, Buffers, Strategy


class Im2col(Strategy):
    """Per-image GEMMs on a unit's columns."""

    name = "im2col"

    def buffers(self, layer: Layer, n: int, rows: int, *, backward: bool,
                dout_contiguous: bool) -> Buffers:
        """Declare the padded band, columns, the ``dw`` product and ``dout``."""
        return {**_base.padded_input(layer, n, rows),
                "cols": Buffer((n, layer.K, rows * layer.g.out[1])),
                **_base.dw_product(layer, backward),
                **_base.dout_copy(layer, n, rows, backward=backward,
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
        _base.group_gemms(layer, self.columns(bufs, layer, xp), o)

    def backward(self, bufs: dict[str, np.ndarray], layer: Layer,
                 xp: np.ndarray, dout: np.ndarray, dxb: np.ndarray,
                 dw: np.ndarray) -> np.ndarray:
        """``dw``, the column gradient over the columns, then col2im."""
        c = self.columns(bufs, layer, xp)
        self.gradients(bufs, layer, c, dout, dw)
        m, r = dout.shape[0], dout.shape[2]
        dxp = _base.gradient_band(bufs, xp, dxb)  # the padded input is used up
        add_taps(dxp, self.taps(layer, c, m, r), layer.g, r)
        return dxp

    def gradients(self, bufs: dict[str, np.ndarray], layer: Layer,
                  c: np.ndarray, dout: np.ndarray, dw: np.ndarray) -> None:
        """Add ``dout @ c.T`` into ``dw`` image by image; write ``w.T @ dout`` over ``c``."""
        d = _base.dout_rows(bufs, dout)
        rg, Fg, tmp = layer.Cg * layer.g.taps, layer.Fg, bufs["tmp"]
        for k in range(layer.groups):
            dk = d[:, k * Fg : (k + 1) * Fg]
            ck = c[:, k * rg : (k + 1) * rg]
            for q in range(c.shape[0]):
                np.matmul(dk[q], ck[q].T, out=tmp)
                dw[k] += tmp
            np.matmul(layer.w2[k].T, dk, out=ck)  # columns are used up

    def taps(self, layer: Layer, c: np.ndarray, m: int, r: int) -> np.ndarray:
        """View the column gradient as ``(kh, kw, m, C, r, ow)`` blocks per tap."""
        g = layer.g
        view: np.ndarray = c.reshape(m, g.C, *g.kernel, r, g.out[1]).transpose(2, 3, 0, 1, 4, 5)
        return view


IM2COL = Im2col()
