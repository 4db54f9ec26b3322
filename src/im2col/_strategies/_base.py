"""What a strategy is: the buffers it declares and the work it does per unit.

A strategy says once, in :meth:`Strategy.buffers`, which arrays one worker
needs for units of ``n`` images by ``rows`` output rows. The planner's cost
(:func:`im2col._plan.extra_bytes`) sums those declarations and
:func:`allocate` makes exactly those arrays, so the ``max_memory`` bound
holds by construction. Helpers shared by several strategies live here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from .. import _threads
from .._compat import reshape_view
from .._layer import Layer


class NonFiniteError(ArithmeticError):
    """A unit holds an inf or a NaN that the strategy's transforms would spread.

    The call is then made again by the plan without that strategy
    (:func:`im2col._plan.plan`'s ``winograd=False``).
    """


@dataclass(frozen=True)
class Buffer:
    """One work array: its shape, whether it starts zeroed, whether it is shared.

    A ``shared`` array (the filters laid out for the strategy) is made once
    per call, filled by :meth:`Strategy.start` and read by every worker.
    """

    shape: tuple[int, ...]
    zeroed: bool = False
    shared: bool = False

    @property
    def size(self) -> int:
        """Elements of the array (Python integers: no overflow, and quick)."""
        return math.prod(int(d) for d in self.shape)


Buffers = dict[str, Buffer]


class Strategy:
    """One way of computing a unit of the convolution and its gradients.

    Subclasses set :attr:`name`, declare :meth:`buffers` and write
    :meth:`forward` and :meth:`backward` for one unit. A unit's input is
    ``xp``, its padded input band ``(m, C, band_height(r), Wp)`` (in the
    ``padded`` buffer, or a view of ``x`` itself when there is no padding).
    """

    name: ClassVar[str]
    #: Whether :meth:`backward` adds into ``dw`` itself, so that each worker
    #: but the first needs a ``dw`` of its own; a strategy that sums into a
    #: ``shared`` buffer instead and writes ``dw`` in :meth:`finish` sets False.
    private_dw: ClassVar[bool] = True
    #: Column bytes of the units in flight at once (one per worker) when no
    #: ``max_memory`` is given, sized to the caches: on the benchmark machine
    #: (2 MiB of L2) larger units gained nothing and smaller ones made the
    #: GEMMs narrow.
    target_bytes: ClassVar[int] = 4 * 2**20

    def unfit(self, layer: Layer, x: np.ndarray) -> str | None:
        """Why the strategy cannot compute this call, or None if it can."""
        return None

    def buffers(self, layer: Layer, n: int, rows: int, *, backward: bool,
                dout_contiguous: bool) -> Buffers:
        """Declare the arrays one worker allocates for units of ``n`` images by ``rows``."""
        raise NotImplementedError

    def per_image(self, layer: Layer) -> int:
        """Column elements of one whole image, by which units are sized."""
        return layer.K * layer.g.out[0] * layer.g.out[1]

    def sizing(self, layer: Layer, *, backward: bool) -> tuple[int, int]:
        """``(per_image(layer), target_bytes)``: what a pass's units are sized by."""
        return self.per_image(layer), self.target_bytes

    def adds_bias(self, layer: Layer) -> bool:
        """Whether :meth:`forward` adds ``layer.b`` itself (else the caller adds it after)."""
        return False

    def start(self, bufs: dict[str, np.ndarray], layer: Layer, *,
              backward: bool) -> None:
        """Fill the ``shared`` buffers (the filters), once per call."""

    def forward(self, bufs: dict[str, np.ndarray], layer: Layer,
                xp: np.ndarray, o: np.ndarray) -> None:
        """Write the convolution of band ``xp`` into ``o`` ``(m, F, r*ow)``."""
        raise NotImplementedError

    def finish(self, shared: dict[str, np.ndarray], layer: Layer,
               dw: np.ndarray) -> None:
        """Add into ``dw`` what every worker summed in the ``shared`` buffers, once, after them all."""

    def backward(self, bufs: dict[str, np.ndarray], layer: Layer,
                 xp: np.ndarray, dout: np.ndarray, dxb: np.ndarray,
                 dw: np.ndarray) -> np.ndarray | None:
        """Add a unit's gradients: ``dw`` in place, and return its padded ``dx``.

        ``dout`` is the unit's ``(m, F, r, ow)`` slice of the upstream
        gradient; ``dxb`` the rows of ``dx`` its band reads. The band
        returned is ``dxb`` itself (already added, when there is no padded
        buffer) or a padded buffer the caller crops into ``dx``; None if
        the strategy wrote ``dxb`` itself.
        """
        raise NotImplementedError


def allocate(declared: Buffers, dtype: Any, *, shared: bool) -> dict[str, np.ndarray]:
    """Make the declared arrays that are ``shared`` (or not), zeroed where they must start so."""
    return {k: (np.zeros if b.zeroed else np.empty)(b.shape, dtype)
            for k, b in declared.items() if b.shared == shared}


# ----------------------------------------------------------- declarations

def padded_input(layer: Layer, n: int, rows: int, *, always: bool = False
                 ) -> Buffers:
    """Declare the ``padded`` input band, if the layer pads (or ``always``)."""
    g = layer.g
    if not (g.has_padding or always):
        return {}
    return {"padded": Buffer((n, g.C, g.band_height(rows), g.padded[1]),
                             zeroed=True)}


def dout_copy(layer: Layer, n: int, rows: int, *, backward: bool,
              dout_contiguous: bool) -> Buffers:
    """Declare a C-ordered copy of a unit of ``dout`` when ``dout`` is not."""
    if not backward or dout_contiguous:
        return {}
    return {"dout": Buffer((n, layer.F, rows * layer.g.out[1]))}


# ----------------------------------------------------------------- helpers

#: Output pixels per GEMM call when :func:`blocked`; 0, the package's
#: choice, makes no blocks. Alone, OpenBLAS's sgemm ran a deep, wide product
#: (ResNet's 64x576 @ 576x3136) at 2/3 the rate of the same product cut into
#: 256-pixel blocks, but S5 in a fresh process took 1.3x as long with them
#: (``python -m benchmarks.ideas``, ``gemm_blocks`` and ``fresh_process``);
#: the benchmarks set it to measure the idea.
PIXEL_BLOCK = 0
#: The least depth and width cut into blocks: on the benchmark's layers of
#: 784 pixels per image, cutting them too gained nothing (``conv_blocks``).
BLOCKED_DEPTH = 256
BLOCKED_PIXELS = 2048
#: Where OpenBLAS's small-matrix kernels are at hand
#: (:func:`im2col._threads.small_kernels`), a float32 product ``a @ b`` is
#: cut into blocks of pixels (columns of ``b``, a multiple of 32, at least
#: :data:`LEAST_BLOCK`) of at most this many multiply-adds each, the most
#: those kernels take. On S1's forward product (32 x 148 @ 148 x 1024) and
#: on nearly every shape of a grid of shallow products they ran faster than
#: one call; in float64 the same blocks gained less and were slower on some
#: shapes (``python -m benchmarks.blocks``; the speed page prints its
#: figures).
SMALL_GEMM = 100**3
#: The fewest pixels per block (blocks of 48 ran S1's product no faster
#: than one call).
LEAST_BLOCK = 64


def blocked(depth: int, pixels: int) -> bool:
    """Whether a GEMM of ``depth`` (``C*kh*kw`` per group) by ``pixels`` is cut into :data:`PIXEL_BLOCK` blocks."""
    return PIXEL_BLOCK > 0 and depth >= BLOCKED_DEPTH and pixels >= BLOCKED_PIXELS


def small_step(size: int, pixels: int) -> int:
    """Columns per block of a product of a ``size``-element ``a`` by ``pixels`` columns.

    The rule of :data:`SMALL_GEMM` for OpenBLAS's small-matrix kernels;
    ``pixels`` (one call) where blocks would be too narrow or hold them all.
    """
    step = SMALL_GEMM // size // 32 * 32 if size else pixels
    return step if LEAST_BLOCK <= step < pixels else pixels


def pixel_step(a: np.ndarray, pixels: int) -> int:
    """Columns per call of ``a @ b``: :func:`small_step`'s in float32 where the small kernels run."""
    if a.dtype != np.float32 or not _threads.small_kernels():
        return pixels
    return small_step(a.shape[-2] * a.shape[-1], pixels)


def product(a: np.ndarray, b: np.ndarray, out: np.ndarray, step: int | None = None) -> None:
    """``out = a @ b``, ``step`` columns per call, in one ``np.matmul`` (two with a remainder).

    ``a`` is a matrix, or a stack of one matrix per group matched with
    ``b``'s and ``out``'s third-last axis (:func:`by_group`); their other
    leading axes are broadcast. ``step`` defaults to :func:`pixel_step`'s.
    The whole blocks are a stack of views, NumPy looping over the BLAS calls.
    """
    pixels = b.shape[-1]
    step = pixel_step(a, pixels) if step is None else step
    whole = pixels // step * step if step < pixels else 0

    def stack(m: np.ndarray) -> np.ndarray:
        v = reshape_view(m[..., :whole], (*m.shape[:-1], whole // step, step))
        stacked: np.ndarray = v.swapaxes(-2, -3)
        return stacked

    if whole:
        np.matmul(a if a.ndim == 2 else a[..., None, :, :], stack(b), out=stack(out))
    if whole < pixels:
        np.matmul(a, b[..., whole:], out=out[..., whole:])


def by_group(a: np.ndarray, groups: int) -> np.ndarray:
    """View ``a`` ``(..., groups*k, n)`` as ``(..., groups, k, n)``."""
    return reshape_view(a, (*a.shape[:-2], groups, a.shape[-2] // groups, a.shape[-1]))


def group_gemms(layer: Layer, cols: np.ndarray, out: np.ndarray) -> None:
    """``out[group] = w2[group] @ cols[group]`` for every group, in one call.

    The groups are cut along the second-last axis: ``cols`` is ``(..., K,
    pixels)`` (``K = C*kh*kw``), ``out`` ``(..., F, pixels)``; a leading
    axis of images is broadcast. One call for all groups, not one per
    group: two workers make fewer calls, each of which waits its turn at
    the interpreter.
    """
    G = layer.groups
    step = PIXEL_BLOCK if blocked(layer.Cg * layer.g.taps, cols.shape[-1]) else None
    product(layer.w2, by_group(cols, G), by_group(out, G), step)
