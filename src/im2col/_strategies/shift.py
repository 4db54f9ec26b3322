"""``shift``: shift-and-accumulate, no column buffer.

For each kernel tap, ``w[:, :, i, j] @ (the strided slice that tap
reads)``, summed into the output: ``(C + F)*oh*ow`` elements per image
instead of ``C*kh*kw*oh*ow``, the fallback under a tight ``max_memory``.
"""

from __future__ import annotations

import numpy as np

from .._layer import Layer
from . import _base, _grads, _views
from ._base import Buffer, Buffers, Strategy


class Shift(Strategy):
    """One GEMM per kernel tap on that tap's slice of the input."""

    name = "shift"

    def buffers(self, layer: Layer, n: int, rows: int, *, backward: bool,
                dout_contiguous: bool) -> Buffers:
        """Declare the padded band, filters per tap and one tap's slice.

        Then a product (forward), or the padded gradient, the ``dw``
        product and ``dout``'s copy (backward).
        """
        g, pix = layer.g, n * rows * layer.g.out[1]
        tap_filters = ((*g.kernel, layer.groups, layer.Cg, layer.Fg) if backward
                       else (*g.kernel, layer.groups, layer.Fg, layer.Cg))
        out: Buffers = {**_base.padded_input(layer, n, rows),
                        "wt": Buffer(tap_filters, shared=True),
                        "tap": Buffer((n, g.C, pix // n))}
        if backward:
            grad = _base.padded_input(layer, n, rows)
            if grad:
                out["grad"] = grad["padded"]
            out.update(_grads.dw_product(layer, backward, cols=layer.Cg))
            out.update(_base.dout_copy(layer, n, rows, backward=backward,
                                 dout_contiguous=dout_contiguous))
        else:
            out["prod"] = Buffer((n, layer.F, pix // n))
        return out

    def start(self, bufs: dict[str, np.ndarray], layer: Layer, *,
              backward: bool) -> None:
        """Lay the filters out per tap, transposed for the backward pass."""
        g = layer.g
        w = layer.w.reshape(layer.groups, layer.Fg, layer.Cg, *g.kernel)
        bufs["wt"][...] = w.transpose(3, 4, 0, 2, 1) if backward else w.transpose(
            3, 4, 0, 1, 2)

    def forward(self, bufs: dict[str, np.ndarray], layer: Layer,
                xp: np.ndarray, o: np.ndarray) -> None:
        """Write the first tap's product into ``o``, add every other one's."""
        g, Cg, Fg = layer.g, layer.Cg, layer.Fg
        m, ow = xp.shape[0], g.out[1]
        r = o.shape[2] // ow
        t, p, wt = bufs["tap"][:m, :, : r * ow], bufs["prod"][:m, :, : r * ow], bufs["wt"]
        for i in range(g.kernel[0]):
            for j in range(g.kernel[1]):
                ys, xs = g.tap_slices(i, j, r)
                t.reshape(m, g.C, r, ow)[...] = xp[:, :, ys, xs]
                dst = o if i == j == 0 else p
                for k in range(layer.groups):
                    np.matmul(wt[i, j, k], t[:, k * Cg : (k + 1) * Cg],
                              out=dst[:, k * Fg : (k + 1) * Fg])
                if dst is p:
                    o += p

    def backward(self, bufs: dict[str, np.ndarray], layer: Layer,
                 xp: np.ndarray, dout: np.ndarray, dxb: np.ndarray,
                 dw: np.ndarray) -> np.ndarray:
        """Per tap: ``dw[..., i, j]`` and the tap's input gradient, added back."""
        g, Cg, Fg = layer.g, layer.Cg, layer.Fg
        m, r, ow = xp.shape[0], dout.shape[2], g.out[1]
        d = _views.dout_rows(bufs, dout)
        grad = bufs.get("grad")
        dxp = _views.gradient_band(bufs, None if grad is None else grad[
            :m, :, : xp.shape[2]], dxb)
        t, tmp, wt = bufs["tap"][:m, :, : r * ow], bufs["tmp"], bufs["wt"]
        dw5 = dw.reshape(layer.groups, Fg, Cg, *g.kernel)
        for i in range(g.kernel[0]):
            for j in range(g.kernel[1]):
                ys, xs = g.tap_slices(i, j, r)
                t.reshape(m, g.C, r, ow)[...] = xp[:, :, ys, xs]
                for k in range(layer.groups):
                    dk = d[:, k * Fg : (k + 1) * Fg]
                    tk = t[:, k * Cg : (k + 1) * Cg]
                    for q in range(m):
                        _grads.add_product(dw5[k, :, :, i, j], dk[q], tk[q], tmp)
                    np.matmul(wt[i, j, k], dk, out=tk)  # the tap slice is used up
                dxp[:, :, ys, xs] += t.reshape(m, g.C, r, ow)
        return dxp


SHIFT = Shift()
