"""``full`` (stride 1): the input gradient by a second im2col, of ``dout``.

With stride 1, ``dx`` is the *full* correlation of ``dout`` with the
filters flipped in both axes and their channels swapped (the transposed
convolution): ``dx[n, c, y, x] = sum_{f,i,j} w[f, c, kh-1-i, kw-1-j] *
dp[n, f, y + i*dh, x + j*dw]``, where ``dp`` is ``dout`` with
``(kh-1)*dh - top`` zero rows above, ``(kh-1)*dh - bottom`` below (and as
many columns on each side). So instead of ``w.T @ dout`` followed by
col2im's ``kh*kw`` strided sums over the input, each image's ``dout`` is
unfolded into ``(F*kh*kw, H*W)`` columns, as the forward pass unfolds
``x``, and one matmul for all groups (over the unit's images) writes
``dx`` itself: a copy in place of the sums. Its multiply-adds are those of ``w.T
@ dout`` times ``H*W / (oh*ow)``: the same with "same" padding, more with
less padding (the planner uses it only where ``oh*ow >= H*W`` and ``F <=
C``). ``dw`` and the forward pass are
:class:`~im2col._strategies.im2col.Im2col`'s.

The ``dout`` columns reuse the memory of ``x``'s, which are used up once
``dw`` is summed, and the padded ``dout`` that of the padded input when it
fits. Whole images only: a band of output rows (under a small
``max_memory``) is computed as :class:`Im2col` does. Padding must be at
most ``(kernel - 1) * dilation`` on each side, so that ``dp`` is padded,
not cropped. Non-finite values in ``w`` can turn more entries of ``dx``
into NaN than col2im does (``0 * inf`` on ``dp``'s zero border), as with
``wide``.
"""

from __future__ import annotations

import numpy as np

from .._compat import reshape_view
from .._layer import Layer
from .._view import windows
from . import _base, _views
from ._base import Buffer, Buffers
from .im2col import Im2col


class Full(Im2col):
    """:class:`Im2col`, but ``dx`` by im2col of ``dout`` and one GEMM per group."""

    name = "full"

    def unfit(self, layer: Layer, x: np.ndarray) -> str | None:
        """Stride 1, and no side padded by more than ``(kernel - 1) * dilation``."""
        g = layer.g
        reach = [(k - 1) * d for k, d in zip(g.kernel, g.dilation)]
        if g.stride != (1, 1) or any(
                max(side) > r for side, r in zip(g.padding, reach)):
            return "stride 1 and padding of at most (kernel - 1) * dilation per side"
        return None

    def buffers(self, layer: Layer, n: int, rows: int, *, backward: bool,
                dout_contiguous: bool) -> Buffers:
        """:class:`Im2col`'s; for whole images' gradients, room for ``dout``'s columns.

        The columns become one flat row per image, large enough for either
        set; the flipped filters are shared; a padded ``dout`` of its own
        only if the padded input's buffer cannot hold it.
        """
        bufs = super().buffers(layer, n, rows, backward=backward,
                               dout_contiguous=dout_contiguous)
        g = layer.g
        if not backward or rows < g.out[0]:
            return bufs
        per = max(layer.K * g.out[0] * g.out[1], layer.F * g.taps * g.H * g.W)
        bufs["cols"] = Buffer((n, per))
        bufs["wt"] = Buffer((layer.groups, layer.Cg, layer.Fg * g.taps), shared=True)
        hd, wd = _dout_padded(layer)
        room = g.C * g.padded[0] * g.padded[1] if "padded" in bufs else 0
        if layer.F * hd * wd > room:
            bufs["dpad"] = Buffer((n, layer.F, hd, wd))
        return bufs

    def start(self, bufs: dict[str, np.ndarray], layer: Layer, *,
              backward: bool) -> None:
        """Lay out the filters flipped, as ``(groups, C/groups, F/groups*kh*kw)``."""
        super().start(bufs, layer, backward=backward)
        if "wt" in bufs:
            kh, kw = layer.g.kernel
            w = layer.w.reshape(layer.groups, layer.Fg, layer.Cg, kh, kw)
            reshape_view(bufs["wt"], (layer.groups, layer.Cg, layer.Fg, kh, kw))[
                ...] = w[..., ::-1, ::-1].transpose(0, 2, 1, 3, 4)

    def column_rows(self, bufs: dict[str, np.ndarray], layer: Layer) -> np.ndarray:
        """Return :meth:`Im2col.column_rows`, viewed in the flat rows if the buffer has them."""
        cols = bufs["cols"]
        if cols.ndim == 3:
            return cols
        pixels = layer.g.out[0] * layer.g.out[1]
        return _views.unit_view(bufs, "cols flat", lambda: reshape_view(
            cols[:, : layer.K * pixels], (cols.shape[0], layer.K, pixels)))

    def backward(self, bufs: dict[str, np.ndarray], layer: Layer,
                 xp: np.ndarray, dout: np.ndarray, dxb: np.ndarray,
                 dw: np.ndarray) -> np.ndarray | None:
        """``dw`` as :class:`Im2col`; ``dx`` written into ``dxb`` by the full correlation.

        ``dxb`` holds the unit's whole images. Returns None: nothing is
        left for the caller to add. A band of rows goes to :class:`Im2col`.
        """
        if bufs["cols"].ndim == 3:  # bands of output rows: col2im
            return super().backward(bufs, layer, xp, dout, dxb, dw)
        g = layer.g
        self.gradients(bufs, layer, self.columns(bufs, layer, xp), dout, dw,
                       columns=False)
        m, F, taps, H, W = dout.shape[0], layer.F, g.taps, g.H, g.W
        dp = self.dout_padded(bufs, layer, dout)  # the same memory for every m images
        dc = _views.unit_view(bufs, f"dout cols {m}", lambda: reshape_view(
            bufs["cols"][:m, : F * taps * H * W], (m, F, *g.kernel, H, W)))
        np.copyto(dc, _views.unit_view(bufs, f"dout windows {m}", lambda: windows(
            dp, g.kernel, (1, 1), g.dilation).transpose(3, 0, 1, 2, 4, 5)))
        G = layer.groups
        _base.product(bufs["wt"], _base.by_group(dc.reshape(m, F * taps, H * W), G),
                      _base.by_group(reshape_view(dxb, (m, g.C, H * W)), G))
        return None

    def dout_padded(self, bufs: dict[str, np.ndarray], layer: Layer,
                    dout: np.ndarray) -> np.ndarray:
        """Return ``dout`` zero padded for the full correlation (in a spare buffer)."""
        g = layer.g
        m, F = dout.shape[:2]
        hd, wd = _dout_padded(layer)
        if "dpad" in bufs:
            dp = bufs["dpad"][:m]
        else:  # the padded input's buffer: its columns are made
            dp = bufs["padded"].reshape(-1)[: m * F * hd * wd].reshape(m, F, hd, wd)
        (kh, kw), (dh, dw) = g.kernel, g.dilation
        top, left = (kh - 1) * dh - g.padding[0][0], (kw - 1) * dw - g.padding[1][0]
        oh, ow = g.out
        dp[:, :, :top] = 0
        dp[:, :, top + oh :] = 0
        dp[:, :, top : top + oh, :left] = 0
        dp[:, :, top : top + oh, left + ow :] = 0
        dp[:, :, top : top + oh, left : left + ow] = dout
        return dp


def _dout_padded(layer: Layer) -> tuple[int, int]:
    """Height and width of ``dout`` padded for the full correlation."""
    g = layer.g
    return (g.H + (g.kernel[0] - 1) * g.dilation[0],
            g.W + (g.kernel[1] - 1) * g.dilation[1])


FULL = Full()
