"""Sizes checked before allocating, and the results of empty calls.

Each public function computes the bytes of what it will create before
creating it and refuses, through :func:`im2col._checks.check_bytes`, a
request larger than :func:`im2col._checks.memory_limit`. ``conv2d`` and
``conv2d_backward`` plan their work buffers within what the output leaves
of that limit (:func:`im2col._budget.budget`), so a call that would need more
columns than the machine has runs in smaller units instead of failing.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._checks import as_array, check_bytes
from ._geometry import Geometry
from ._layer import Layer


def padding_repr(g: Geometry) -> str:
    """Return ``padding=...`` as compactly as ``g``'s padding allows."""
    (t, b), (left, r) = g.padding
    if t == b == left == r:
        return f"padding={t}"
    if t == b and left == r:
        return f"padding={(t, left)}"
    return f"padding={g.padding}"


def kernel_repr(g: Geometry, name: str = "kernel_size") -> str:
    """Return ``kernel_size=3`` or ``kernel_size=(3, 5)``."""
    kh, kw = g.kernel
    return f"{name}={kh if kh == kw else g.kernel}"


def padding_factor(g: Geometry) -> float:
    """How many times the padding multiplies the output pixels (at least 1)."""
    (kh, kw), (sh, sw), (dh, dw) = g.kernel, g.stride, g.dilation
    bare_h = max(1, (g.H - dh * (kh - 1) - 1) // sh + 1)
    bare_w = max(1, (g.W - dw * (kw - 1) - 1) // sw + 1)
    return g.out[0] * g.out[1] / (bare_h * bare_w)


def check_unfold(g: Geometry, dtype: np.dtype[Any], x_name: str, *,
                 result: bool = True) -> None:
    """Check the buffers of :func:`im2col.im2col` (``result``) or col2im.

    im2col makes the padded input (with padding) and the columns; col2im a
    zeroed padded gradient and the cropped result.
    """
    item = dtype.itemsize
    (kh, kw), (oh, ow), (hp, wp) = g.kernel, g.out, g.padded
    shape = (g.N, g.C, g.H, g.W)
    padded = g.N * g.C * hp * wp * item
    pad = (padding_repr(g), hp * wp / (g.H * g.W))
    named = f"{x_name} {shape}" if x_name == "x_shape" else f"{x_name} of shape {shape}"
    if not result:
        total = padded + g.N * g.C * g.H * g.W * item
        check_bytes(total, f"col2im's padded gradient {(g.N, g.C, hp, wp)} "
                    f"{dtype} and its result", named, pad)
        return
    padded *= g.has_padding
    check_bytes(padded, f"the padded input {(g.N, g.C, hp, wp)} {dtype}",
                named, pad)
    cols = g.C * kh * kw * g.N * oh * ow * item
    check_bytes(padded + cols,
                f"the columns {(g.C * kh * kw, g.N * oh * ow)} {dtype}"
                + (" and the padded input" if padded else ""),
                named, (padding_repr(g), padding_factor(g)),
                (kernel_repr(g), kh * kw))


def conv_inputs(x: Any, w: Any) -> tuple[np.ndarray, np.ndarray]:
    """``x`` and ``w`` as arrays; filters checked as in PyTorch's conv2d.

    At least one filter and a kernel of at least 1x1; a non-C-ordered ``w``
    is copied by the call, so its size is checked.
    """
    x = as_array(x, "x", 4)
    w = as_array(w, "w", 4)
    if w.shape[0] < 1 or w.shape[2] < 1 or w.shape[3] < 1:
        raise ValueError(
            "w must have at least 1 filter and a kernel of at least 1x1 (as "
            f"in PyTorch), got w.shape={w.shape}"
        )
    if not w.flags.c_contiguous:
        check_bytes(w.nbytes, f"the C-ordered copy of w {w.dtype}",
                    f"w of shape {w.shape}")
    return x, w


def empty_forward(layer: Layer, b: np.ndarray | None,
                  dtype: np.dtype[Any]) -> np.ndarray | None:
    """conv2d's output when the batch or the channels are empty, else None.

    No channels: every output is a sum over nothing, so the bias (or 0).
    """
    g = layer.g
    if g.N and g.C:
        return None
    out = np.zeros((g.N, layer.F, *g.out), dtype)
    if b is not None:
        out += b[:, None, None]
    return out


def empty_backward(
    dout: np.ndarray, layer: Layer, dtype: np.dtype[Any],
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """conv2d_backward's gradients for an empty batch or channel set, else None."""
    g = layer.g
    if g.N and g.C:
        return None
    return (np.zeros((g.N, g.C, g.H, g.W), dtype),
            np.zeros((layer.F, layer.Cg, *g.kernel), dtype),
            dout.sum(axis=(0, 2, 3), dtype=dtype))
