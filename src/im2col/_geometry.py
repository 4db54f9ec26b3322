"""Shapes and options of one convolution, checked once."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ._checks import (
    Padding,
    Pair,
    as_padding,
    as_pair,
    nonempty_image,
    output_size,
)


@dataclass(frozen=True)
class Geometry:
    """Every size of a 2-D window sweep over an ``(N, C, H, W)`` input."""

    N: int
    C: int
    H: int
    W: int
    kernel: Pair
    stride: Pair
    dilation: Pair
    padding: Padding
    out: Pair

    @property
    def padded(self) -> Pair:
        """Height and width after zero padding."""
        (t, b), (left, r) = self.padding
        return self.H + t + b, self.W + left + r

    @property
    def has_padding(self) -> bool:
        """Whether any side is padded."""
        return any(p for side in self.padding for p in side)

    @property
    def taps(self) -> int:
        """Kernel taps per channel, ``kh * kw``."""
        return self.kernel[0] * self.kernel[1]

    def tap_slices(self, i: int, j: int, rows: int | None = None
                   ) -> tuple[slice, slice]:
        """Slices of the padded input read by kernel tap ``(i, j)``.

        ``rows`` output rows (all ``oh`` by default) read a band of
        :meth:`band_height` padded rows; the slices index that band.
        """
        (sh, sw), (dh, dw), (oh, ow) = self.stride, self.dilation, self.out
        rows = oh if rows is None else rows
        return (
            slice(i * dh, i * dh + sh * (rows - 1) + 1, sh),
            slice(j * dw, j * dw + sw * (ow - 1) + 1, sw),
        )

    def band_height(self, rows: int) -> int:
        """Return how many padded input rows ``rows`` output rows read."""
        (sh, _), (dh, _), (kh, _) = self.stride, self.dilation, self.kernel
        return (rows - 1) * sh + (kh - 1) * dh + 1

    def input_rows(self, r0: int, r1: int) -> tuple[int, int]:
        """Return the padded rows ``[a, e)`` of ``[r0, r1)`` that hold input rows."""
        top = self.padding[0][0]
        return max(r0, top), min(r1, top + self.H)

    def interior(self) -> tuple[slice, slice]:
        """Slices of the padded input that hold the unpadded input."""
        (t, _), (left, _) = self.padding
        return slice(t, t + self.H), slice(left, left + self.W)


def geometry(
    x_shape: tuple[int, ...], kernel_size: Any, *, stride: Any, padding: Any,
    dilation: Any, kernel_name: str = "kernel_size",
) -> Geometry:
    """Check the options against an input shape and return the geometry.

    ``kernel_name`` names the kernel's size in error messages (``w.shape[2:]``
    where the kernel comes from the filters).
    """
    nonempty_image(tuple(x_shape), "x")
    N, C, H, W = x_shape
    kernel = as_pair(kernel_size, "kernel_size", minimum=1)
    s = as_pair(stride, "stride", minimum=1)
    d = as_pair(dilation, "dilation", minimum=1)
    pad = as_padding(padding, kernel, d, s)
    oh = output_size(H, kernel[0], s[0], pad[0], d[0], "height", kernel_name)
    ow = output_size(W, kernel[1], s[1], pad[1], d[1], "width", kernel_name)
    s, d = unused_steps(s, d, kernel, (oh, ow), (H + sum(pad[0]), W + sum(pad[1])))
    return Geometry(N, C, H, W, kernel, s, d, pad, (oh, ow))


def unused_steps(stride: Pair, dilation: Pair, kernel: Pair, out: Pair,
                 size: Pair) -> tuple[Pair, Pair]:
    """Clip the steps that are never taken.

    A stride along an axis with one output is clipped to that axis' (padded)
    ``size``, a dilation along a kernel of 1 to 1. That changes no result, and a huge step (``stride=2**63``) would not fit
    a view's byte strides.
    """
    def step(k: int) -> int:
        return min(stride[k], size[k]) if out[k] == 1 else stride[k]

    def gap(k: int) -> int:
        return 1 if kernel[k] == 1 else dilation[k]

    return (step(0), step(1)), (gap(0), gap(1))


def pad_input(x: np.ndarray, g: Geometry) -> np.ndarray:
    """Return ``x`` zero padded as ``g`` says, as a new C-ordered array."""
    out = np.zeros((x.shape[0], g.C, *g.padded), dtype=x.dtype)
    rows, cols = g.interior()
    out[:, :, rows, cols] = x
    return out
