"""``winograd`` (3x3, stride 1): Winograd's minimal filtering on 2x2 tiles.

The forward pass is F(2x2, 3x3) (:mod:`._tiles`): a unit is padded into a
band whose height and width are a whole number of tiles plus 2 (the extra
row or column is zero), whose four phases (even or odd rows by even or odd
columns) are copied apart so that ``B.T`` is applied along the height, then
along the width, by ufuncs over whole contiguous arrays; 16 GEMMs
``(F/groups, C/groups) @ (C/groups, tiles)`` per group, all in one
``np.matmul`` over a ``(16, groups)`` stack; then ``A.T`` on both sides as
one GEMM ``(4, 16) @ (16, F*tiles)``, copied into the output by tile
position.

The backward pass makes both gradients the same way, with no columns: the
input gradient is the correlation of ``dout`` padded by 2 with the filters
turned by 180 degrees and transposed, by F(2x2, 3x3), made only where ``x``
is (not on its padding) when a unit holds whole images; the filters' gradient
is F(3x3, 2x2) on the input tiles already transformed for it and on 2x2
tiles of ``dout``, summed over the unit's tiles in 16 GEMMs ``(F/groups,
tiles) @ (tiles, C/groups)`` per group and over every worker's units into
one shared sum (each addition holds a lock), then transformed back once,
after all workers.

Its float32 error is of the order of ``im2col``'s (the transforms add and
subtract, and halve); larger tiles (F(4x4, 3x3)) multiply fewer times but
their error is 14 to 30 times larger (``python -m benchmarks.winograd``),
so they are not offered.

The transforms add and subtract a tile's values, so an inf becomes NaN
(``inf - inf``) and spreads over its tile's outputs, even those it does not
touch. A unit, or filters, holding an inf or a NaN raise :class:`NonFiniteError`
(checked by :func:`finite` over the unit's whole padded buffers, just
written and contiguous: the rows a band leaves hold zeros or earlier
units' finite data), and the call is made again without Winograd's tiles.
"""

from __future__ import annotations

import math

import numpy as np

from .. import _threads
from .._compat import reshape_view
from .._layer import Layer
from . import _views
from ._base import Buffer, Buffers, NonFiniteError, Strategy
from ._tiles import (
    correlate,
    dout_tiles,
    filter_gradient,
    first,
    input_tiles,
    scratch,
    tile_products,
    tiles,
    transform,
)


class Winograd(Strategy):
    """F(2x2, 3x3) forward and for the input gradient, F(3x3, 2x2) for the filters'."""

    name = "winograd"
    private_dw = False  # the workers sum into the shared acc

    def unfit(self, layer: Layer, x: np.ndarray) -> str | None:
        """Need a 3x3 kernel, stride 1 and dilation 1."""
        g = layer.g
        if (g.kernel, g.stride, g.dilation) != ((3, 3), (1, 1), (1, 1)):
            return "a 3x3 kernel with stride 1 and dilation 1"
        return None

    def buffers(self, layer: Layer, n: int, rows: int, *, backward: bool,
                dout_contiguous: bool) -> Buffers:
        """Declare the tile-aligned padded band, the filters, ``V`` and ``M``.

        Backward also ``dout`` padded by 2, tile-aligned, a product of the
        filters' gradient and their sum over every worker (shared).
        """
        g, C, F = layer.g, layer.g.C, layer.F
        gr, Cg, Fg = layer.groups, layer.Cg, layer.Fg
        th, tw = tiles(rows), tiles(g.out[1])
        padded = Buffer((n, C, 2 * th + 2, 2 * tw + 2), zeroed=True)
        v, m = scratch(n, C, F, rows, 2 * tw + 2)  # the input's tiles, as forward
        if not backward:
            return {"padded": padded, "u": Buffer((16, gr, Fg, Cg), shared=True),
                    "v": Buffer((v,)), "m": Buffer((m,))}
        th2, tw2 = tiles(rows + 2), tiles(g.out[1] + 2)
        v2, m2 = scratch(n, F, C, rows + 2, 2 * tw2 + 2)  # dx from dout
        return {"padded": padded,
                "dpad": Buffer((n, F, 2 * th2 + 2, 2 * tw2 + 2), zeroed=True),
                "u": Buffer((16, gr, Cg, Fg), shared=True),
                # v: V (dx's A.T M A is in v2); m: the phases and passes, then
                # dout's tiles (16*F*p, scratch's M), then dx's passes (m2)
                "v": Buffer((max(16 * C * n * th * tw, v2),)),
                "m": Buffer((max(m, m2),)),
                # every worker sums its products into one acc; finish turns
                # it into dw in u's place (u is used up by then)
                "mw": Buffer((gr, Fg, Cg)),
                "acc": Buffer((16, gr, Fg, Cg), zeroed=True, shared=True)}

    def per_image(self, layer: Layer) -> int:
        """Elements of ``V`` and ``M`` for one image, by which units are sized."""
        g = layer.g
        return 16 * (g.C + layer.F) * tiles(g.out[0]) * tiles(g.out[1])

    def start(self, bufs: dict[str, np.ndarray], layer: Layer, *,
              backward: bool) -> None:
        """Transform the filters (turned and transposed for the backward pass)."""
        finite(layer.w)
        transform(layer.w, bufs["u"], flip=backward)

    def forward(self, bufs: dict[str, np.ndarray], layer: Layer,
                xp: np.ndarray, o: np.ndarray) -> None:
        """Transform the band's tiles, multiply, transform back into ``o``."""
        finite(bufs["padded"][: xp.shape[0]])  # xp's buffer: one contiguous block
        m, ow = xp.shape[0], layer.g.out[1]
        o4 = reshape_view(o, (m, layer.F, o.shape[2] // ow, ow))
        band = self.band(bufs, xp, o4.shape[2])
        correlate(band, bufs["u"], bufs["v"], bufs["m"], o4, add=False)

    def backward(self, bufs: dict[str, np.ndarray], layer: Layer,
                 xp: np.ndarray, dout: np.ndarray, dxb: np.ndarray,
                 dw: np.ndarray) -> np.ndarray | None:
        """Add the filters' gradient by F(3x3, 2x2), the input's by F(2x2, 3x3).

        A unit of whole images writes ``dxb`` (its rows of the zeroed
        ``dx``) straight from ``dout`` padded by 2 less ``x``'s padding, and
        returns None: no padded band to zero, sum into and crop, and about
        ``(H*W) / ((H + 2)*(W + 2))`` of the tiles. A band of rows sums into
        the padded band.
        """
        m, _, r, ow = dout.shape
        th, tw = tiles(r), tiles(ow)
        dpad = bufs["dpad"][:m, :, : 2 * tiles(r + 2) + 2]
        dpad[:, :, 2 : 2 + r, 2 : 2 + ow] = dout
        dpad[:, :, 2 + r :] = 0  # rows below a shorter band
        finite(bufs["padded"][:m], bufs["dpad"][:m])  # xp's and dpad's buffers, contiguous
        vv = input_tiles(self.band(bufs, xp, r), th, tw, bufs["v"], bufs["m"])
        dd = dout_tiles(dpad[:, :, 2:, 2:], th, tw, bufs["m"])  # rows used up
        tile_products(dd, vv, m, bufs["mw"], bufs["acc"], _threads.summing())
        if r == layer.g.out[0]:  # whole images: only the rows and columns of x
            (top, _), (left, _) = layer.g.padding
            correlate(dpad[:, :, top:, left:], bufs["u"], bufs["v"], bufs["m"],
                      dxb, add=False)
            return None
        dxp = _views.gradient_band(bufs, xp, dxb)  # the padded input is used up
        correlate(dpad, bufs["u"], bufs["v"], bufs["m"], dxp[..., : ow + 2],
                  add=True)
        return dxp

    def finish(self, shared: dict[str, np.ndarray], layer: Layer,
               dw: np.ndarray) -> None:
        """Transform the products summed over every tile into ``dw`` (in ``u``'s place)."""
        work = first(shared["u"], (layer.F, layer.Cg, 9))
        filter_gradient(shared["acc"], work, dw)

    def band(self, bufs: dict[str, np.ndarray], xp: np.ndarray, r: int) -> np.ndarray:
        """Return the tile-aligned band of ``xp`` for ``r`` output rows, zero below ``xp``."""
        band = bufs["padded"][: xp.shape[0], :, : 2 * tiles(r) + 2]
        band[:, :, xp.shape[2]:] = 0  # the row below an odd band
        return band


def finite(*arrays: np.ndarray) -> None:
    """Raise :class:`NonFiniteError` if one of ``arrays`` holds an inf or a NaN.

    Their ``min`` and ``max``, which NaN propagates to: no overflow, no
    warning, two passes over data just written (fast on a contiguous block).
    """
    for a in arrays:
        if a.size and not (math.isfinite(a.min()) and math.isfinite(a.max())):
            raise NonFiniteError


WINOGRAD = Winograd()
