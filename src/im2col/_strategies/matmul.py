"""``matmul``: a 1x1 kernel with stride 1 and no padding is ``w @ x[n]``.

No copy of ``x`` at all: its ``(C, H*W)`` image is the column matrix.
"""

from __future__ import annotations

import numpy as np

from .._layer import Layer
from . import _base, _grads, _views
from ._base import Buffers, Strategy


class Matmul(Strategy):
    """Plain matrix multiplies on the images of a C-ordered ``x``."""

    name = "matmul"

    def unfit(self, layer: Layer, x: np.ndarray) -> str | None:
        """Need a 1x1 kernel, stride 1, no padding and a C-ordered ``x``."""
        g = layer.g
        if (g.kernel == (1, 1) and g.stride == (1, 1) and not g.has_padding
                and x.flags.c_contiguous):
            return None
        return "a 1x1 kernel, stride 1, no padding and a C-ordered x"

    def buffers(self, layer: Layer, n: int, rows: int, *, backward: bool,
                dout_contiguous: bool) -> Buffers:
        """Declare the ``dw`` product and ``dout``'s copy; nothing for the forward."""
        return {**_grads.dw_product(layer, backward, images=n),
                **_base.dout_copy(layer, n, rows, backward=backward,
                            dout_contiguous=dout_contiguous)}

    def forward(self, bufs: dict[str, np.ndarray], layer: Layer,
                xp: np.ndarray, o: np.ndarray) -> None:
        """One batched GEMM per group straight into the output."""
        m, C, H, W = xp.shape
        _base.group_gemms(layer, xp.reshape(m, C, H * W), o)

    def backward(self, bufs: dict[str, np.ndarray], layer: Layer,
                 xp: np.ndarray, dout: np.ndarray, dxb: np.ndarray,
                 dw: np.ndarray) -> np.ndarray:
        """``dx = w.T @ dout`` and ``dw += dout @ x.T``, a few images per call."""
        m, C, H, W = xp.shape
        x3 = xp.reshape(m, C, H * W)
        dx3 = dxb.reshape(m, C, H * W)
        G = layer.groups
        d = _base.by_group(_views.dout_rows(bufs, dout), G)
        xg, dxg = _base.by_group(x3, G), _base.by_group(dx3, G)
        _base.product(layer.w2.swapaxes(-1, -2), d, dxg)
        _grads.add_products(dw, d, xg, bufs["tmp"])
        return dxb
MATMUL = Matmul()
