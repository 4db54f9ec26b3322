"""The convolutions being timed, each as a zero-argument closure.

``cs231n`` is our own NumPy reimplementation of the algorithm of cs231n's
``conv_forward_strides`` (pad, ``as_strided`` view with strides taken from
the padded array, ``np.ascontiguousarray``, one GEMM, bias, transposed
copy) and of its backward pass on the cached columns (one GEMM for ``dw``,
one for the column gradient, col2im by one strided ``+=`` per kernel tap).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np
from docs.examples.cs231n_strided import strided_backward, strided_forward
from numpy.lib.stride_tricks import sliding_window_view

from im2col import _conv, _conv_backward, _layer
from im2col._plan import plan
from im2col._strategies import STRATEGIES


@dataclass(frozen=True)
class Shape:
    """One benchmark case: input, filters, stride and padding (per side)."""

    name: str
    x: tuple[int, int, int, int]
    w: tuple[int, int, int, int]
    stride: int
    pad: int
    note: str = ""

    @property
    def out(self) -> tuple[int, int]:
        h = (self.x[2] + 2 * self.pad - self.w[2]) // self.stride + 1
        w = (self.x[3] + 2 * self.pad - self.w[3]) // self.stride + 1
        return h, w

    def flops(self) -> int:
        """Multiply-adds times two of the forward pass."""
        n, c, _, _ = self.x
        f, _, kh, kw = self.w
        oh, ow = self.out
        return 2 * n * f * oh * ow * c * kh * kw

    def scaled(self, batch: int) -> Shape:
        """The same layer with a smaller batch."""
        return Shape(self.name, (min(batch, self.x[0]), *self.x[1:]), self.w,
                     self.stride, self.pad, self.note)

    def label(self) -> str:
        return (f"x{self.x} w{self.w} s{self.stride} p{self.pad}"
                .replace(" ", ""))


SHAPES = [
    Shape("S1", (50, 3, 32, 32), (32, 3, 7, 7), 1, 3, "cs231n three-layer net"),
    Shape("S2", (100, 3, 31, 31), (25, 3, 3, 3), 2, 1, "cs231n fast-layer test"),
    Shape("S3", (32, 64, 56, 56), (64, 64, 3, 3), 1, 1, "ResNet stage 1"),
    Shape("S4", (32, 256, 14, 14), (256, 256, 3, 3), 1, 1, "deep, small spatial"),
    Shape("S5", (16, 64, 112, 112), (128, 64, 3, 3), 2, 1, "strided"),
]


def parse_shape(text: str) -> Shape:
    """``"N,C,H,W;F,C,kh,kw;stride;pad"`` -> a :class:`Shape`."""
    parts = text.split(";")
    if len(parts) != 4:
        raise ValueError(f"shape must be 'N,C,H,W;F,C,kh,kw;stride;pad', got {text!r}")
    x = tuple(int(v) for v in parts[0].split(","))
    w = tuple(int(v) for v in parts[1].split(","))
    if len(x) != 4 or len(w) != 4:
        raise ValueError(f"x and w need 4 sizes each, got {text!r}")
    return Shape(f"custom {text}", x, w, int(parts[2]), int(parts[3]))


def arrays(shape: Shape, dtype: Any, key: int = 0) -> dict[str, np.ndarray]:
    # drawn in ``dtype`` directly: no float64 temporaries freed, which would
    # change glibc's mmap threshold (see benchmarks/__init__.py)
    rng = np.random.default_rng(key)
    x = rng.standard_normal(shape.x, dtype=dtype)
    w = rng.standard_normal(shape.w, dtype=dtype)
    b = rng.standard_normal(shape.w[0], dtype=dtype)
    dout = rng.standard_normal((shape.x[0], shape.w[0], *shape.out), dtype=dtype)
    return {"x": x, "w": w, "b": b, "dout": dout}


# ------------------------------------------------------- other NumPy ways

def _windows(x: np.ndarray, kh: int, kw: int, stride: int, pad: int) -> np.ndarray:
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad))) if pad else x
    return sliding_window_view(xp, (kh, kw), axis=(2, 3))[:, :, ::stride, ::stride]


def tensordot_forward(x: np.ndarray, w: np.ndarray, b: np.ndarray, stride: int,
                      pad: int) -> np.ndarray:
    v = _windows(x, w.shape[2], w.shape[3], stride, pad)  # (N, C, oh, ow, kh, kw)
    out = np.tensordot(v, w, axes=([1, 4, 5], [1, 2, 3]))  # (N, oh, ow, F)
    out += b
    return np.ascontiguousarray(out.transpose(0, 3, 1, 2))


def einsum_forward(x: np.ndarray, w: np.ndarray, b: np.ndarray, stride: int,
                   pad: int) -> np.ndarray:
    v = _windows(x, w.shape[2], w.shape[3], stride, pad)
    out: np.ndarray = np.einsum("nchwij,fcij->nfhw", v, w, optimize=True)
    out += b[:, None, None]
    return out


# -------------------------------------------------------------- registry

def strategies(shape: Shape, x: np.ndarray) -> list[str]:
    """The internal strategies that apply to ``shape``."""
    layer = _layer.layer_of(x, np.empty(shape.w, x.dtype), stride=shape.stride,
                           padding=shape.pad, dilation=1, groups=1)
    return [name for name, s in STRATEGIES.items() if s.unfit(layer, x) is None]


def default_plan(shape: Shape, x: np.ndarray, *, backward: bool) -> str:
    """Strategy, images per unit and workers that conv2d picks (call it
    under the run's thread limit: the workers follow BLAS's threads)."""
    layer = _layer.layer_of(x, np.empty(shape.w, x.dtype), stride=shape.stride,
                           padding=shape.pad, dilation=1, groups=1)
    p = plan(layer, x, None, backward=backward, workers=_conv.workers_of(None))
    band = f", {p.rows} rows" if p.rows < shape.out[0] else ""
    return f"{p.strategy}, {p.images} img{band}, {p.workers} workers"


def forward_methods(shape: Shape, a: dict[str, np.ndarray], *,
                    torch: Any = None, extra: bool = True
                    ) -> dict[str, Callable[[], object]]:
    """Closures for every forward method; ``torch`` is the module or None."""
    x, w, b, s, p = a["x"], a["w"], a["b"], shape.stride, shape.pad
    m: dict[str, Callable[[], object]] = {
        # the output only: the columns (cs231n's cache) are freed after
        # the call but counted in its peak
        "cs231n": lambda: strided_forward(x, w, b, s, p)[0],
        "default": lambda: _conv.conv2d(x, w, b, stride=s, padding=p),
    }
    for name in strategies(shape, x):
        m[name] = partial(_conv._forward, x, w, b, stride=s, padding=p, strategy=name)
    if extra:
        m["tensordot"] = lambda: tensordot_forward(x, w, b, s, p)
        m["einsum"] = lambda: einsum_forward(x, w, b, s, p)
    if torch is not None:
        m["torch"] = torch_layer(torch, x, w, b, None, stride=s, padding=p)["forward"]
    return m


def backward_methods(shape: Shape, a: dict[str, np.ndarray], *,
                     torch: Any = None) -> dict[str, Callable[[], object]]:
    x, w, b, dout = a["x"], a["w"], a["b"], a["dout"]
    s, p = shape.stride, shape.pad
    _, cols = strided_forward(x, w, b, s, p)
    m: dict[str, Callable[[], object]] = {
        "cs231n": lambda: strided_backward(dout, x, w, cols, s, p),
        "default": lambda: _conv_backward.conv2d_backward(dout, x, w, stride=s, padding=p),
    }
    for name in strategies(shape, x):
        if name == "rows":  # its backward pass is im2col's
            continue
        m[name] = partial(_conv_backward._backward, dout, x, w, stride=s, padding=p,
                          strategy=name)
    if torch is not None:
        m["torch"] = torch_layer(torch, x, w, None, dout, stride=s, padding=p)["backward"]
    return m


def torch_layer(torch: Any, x: np.ndarray, w: np.ndarray, b: np.ndarray | None,
                dout: np.ndarray | None, *, stride: int = 1, padding: int = 0,
                dilation: int = 1, groups: int = 1) -> dict[str, Callable[[], object]]:
    """PyTorch's ``forward`` and ``backward`` (all three gradients) of a layer.

    No autograd graph is recorded; the tensors share the arrays' memory.
    """
    xt, wt = torch.from_numpy(x), torch.from_numpy(w)
    bt = None if b is None else torch.from_numpy(b)
    dt = None if dout is None else torch.from_numpy(dout)

    def forward() -> object:
        with torch.no_grad():
            return torch.nn.functional.conv2d(xt, wt, bt, stride=stride, padding=padding,
                                              dilation=dilation, groups=groups)

    def backward() -> object:
        with torch.no_grad():
            return torch.ops.aten.convolution_backward(
                dt, xt, wt, [w.shape[0]], [stride] * 2, [padding] * 2, [dilation] * 2,
                False, [0, 0], groups, [True, True, True])
    return {"forward": forward, "backward": backward}


def gemm_method(shape: Shape, dtype: Any, *, backward: bool) -> Callable[[], object]:
    """The bare GEMM(s) of the im2col shape, operands made in advance."""
    n, c, _, _ = shape.x
    f, _, kh, kw = shape.w
    oh, ow = shape.out
    k, cols = c * kh * kw, n * oh * ow
    rng = np.random.default_rng(1)
    a = rng.standard_normal((f, k)).astype(dtype)
    bm = rng.standard_normal((k, cols)).astype(dtype)
    out = rng.standard_normal((f, cols)).astype(dtype)
    if not backward:
        return lambda: np.matmul(a, bm, out=out)
    dw = np.empty((f, k), dtype)
    dcols = np.empty((k, cols), dtype)

    def both() -> object:
        np.matmul(out, bm.T, out=dw)
        return np.matmul(a.T, out, out=dcols)
    return both
