"""What a conv2d call is (:class:`Layer`) and how it walks its output (:class:`Plan`).

A plan cuts the output into *units*: a few whole images, or a band of
output rows of one image. The images are cut into one *share* per worker
thread, as even as whole images allow, each walked in units; each worker
makes its buffers once and reuses them for every unit of its share.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ._checks import as_array, as_int, same_dtype
from ._geometry import Geometry, geometry


@dataclass(frozen=True)
class Layer:
    """A checked call: geometry, groups, filters as ``(groups, F/groups, K)``."""

    g: Geometry
    groups: int
    F: int
    w: np.ndarray
    #: Bytes of the C-ordered copy of the filters made by the call, if any.
    w_copy: int = 0
    #: The checked bias of a forward call, if it has one.
    b: np.ndarray | None = None

    @property
    def Cg(self) -> int:  # noqa: N802
        """Input channels per group."""
        return self.g.C // self.groups

    @property
    def Fg(self) -> int:  # noqa: N802
        """Filters per group."""
        return self.F // self.groups

    @property
    def K(self) -> int:  # noqa: N802
        """Rows of the column matrix, ``C*kh*kw``."""
        return self.g.C * self.g.taps

    @property
    def w2(self) -> np.ndarray:
        """Filters as ``(groups, F/groups, C/groups*kh*kw)`` (a view)."""
        return self.w.reshape(self.groups, self.Fg, self.Cg * self.g.taps)

    def work(self, *, backward: bool) -> int:
        """Multiply-adds of the call (the backward pass does twice the forward's)."""
        g = self.g
        return (g.N * self.F * self.Cg * g.taps * g.out[0] * g.out[1]
                * (2 if backward else 1))


@dataclass(frozen=True)
class Plan:
    """How a call walks its output: strategy, images and output rows per unit.

    With ``workers > 1`` the images are cut into that many shares, each
    walked in units by its own thread with its own buffers.
    """

    strategy: str
    images: int
    rows: int
    workers: int = 1

    def shares(self, g: Geometry) -> list[tuple[int, int]]:
        """``(lo, hi)`` images of each worker's share, in order."""
        return shares(g.N, self.images, self.workers)

    def units(self, g: Geometry, lo: int, hi: int) -> list[tuple[int, int, int, int]]:
        """``(n0, n1, y0, y1)`` of every unit of images ``[lo, hi)``, in order."""
        oh = g.out[0]
        return [
            (n0, min(n0 + self.images, hi), y0, min(y0 + self.rows, oh))
            for n0 in range(lo, hi, self.images)
            for y0 in range(0, oh, self.rows)
        ]


def layer_of(
    x: np.ndarray, w: np.ndarray, *, stride: Any, padding: Any, dilation: Any,
    groups: Any,
) -> Layer:
    """Check ``x``, ``w`` and the options together; return the call's layer."""
    x = as_array(x, "x", 4)
    w = as_array(w, "w", 4)
    same_dtype(x=x, w=w)
    groups = as_int(groups, "groups", minimum=1)
    C = x.shape[1]
    F, Cg, kh, kw = w.shape
    if C % groups:
        raise ValueError(f"groups={groups} must divide the {C} channels of x")
    if F % groups:
        raise ValueError(f"groups={groups} must divide the {F} filters of w")
    if Cg * groups != C:
        raise ValueError(
            f"w must have C/groups = {C // groups} input channels (x has C={C}, "
            f"groups={groups}), got w.shape={w.shape}"
        )
    g = geometry(x.shape, (kh, kw), stride=stride, padding=padding,
                 dilation=dilation, kernel_name="w.shape[2:]")
    if w.flags.c_contiguous:
        return Layer(g, groups, F, w)
    return Layer(g, groups, F, np.ascontiguousarray(w), w_copy=w.nbytes)


def shares(n: int, unit: int, workers: int) -> list[tuple[int, int]]:
    """``(lo, hi)`` of up to ``workers`` non-empty shares of ``n`` images, even to one image.

    Each share is walked in units of ``unit`` images, its last one shorter.
    Shares of whole units left one worker up to a unit more (S1's 50 images
    in units of 10 on two workers: 30 against 20).
    """
    cuts = [k * n // workers for k in range(workers + 1)]
    return [(cuts[k], cuts[k + 1]) for k in range(workers) if cuts[k + 1] > cuts[k]]
