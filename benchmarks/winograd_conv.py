"""Winograd's minimal filtering F(m x m, 3 x 3) for 3x3, stride-1 layers.

A prototype for measurement (``python -m benchmarks.winograd``), not part
of the package. For an output tile of ``m`` values and a filter of ``r``,
Winograd's algorithm computes the correlation of a tile of ``a = m + r - 1``
inputs ``d`` with the filter ``g`` as ``A.T @ ((G @ g) * (B.T @ d))``: ``a``
multiplies instead of ``m * r``; in 2-D, ``A.T @ ((G g G.T) * (B.T d B)) @ A``
with ``a**2`` multiplies instead of ``m**2 * r**2``. Across channels the
``a**2`` element-wise products become ``a**2`` matrix multiplies
(Lavin and Gray, "Fast Algorithms for Convolutional Neural Networks",
CVPR 2016, arXiv:1509.09308).

The matrices are derived here (Toom-Cook, as in Lavin and Gray section 4):
a linear convolution of ``g`` with an ``m``-vector is ``V**-1 @ ((V_r g) *
(V_m h))``, where ``V`` evaluates a polynomial at the points and at
infinity (its leading coefficient); correlation is that map transposed, so
``A.T = V_m.T``, ``G = V_r`` and ``B.T = V**-T``, computed in exact
fractions. Rows of ``B.T`` are scaled to small integers and ``G`` takes the
inverse scale.

Speed: every transform pass is one NumPy ufunc over whole arrays (one
``+``, ``-`` or scale per nonzero matrix entry, the inputs cut by slices),
the height pass on rows of the padded image, the width pass on rows of
the height pass's result; the ``a**2`` products are one ``np.matmul`` over a
stack of ``(F, C) @ (C, tiles)`` matrices. A call splits the images into
chunks (filter transform once), two worker threads take chunks in turn
with BLAS held to one thread, and each chunk runs all stages while its
buffers are in cache.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from functools import cache, partial
from math import ceil, gcd, lcm

import numpy as np
import numpy.typing as npt

from im2col import _threads

#: Interpolation points (infinity is added): Lavin and Gray's choice.
POINTS = {2: (0, 1, -1), 4: (0, 1, -1, 2, -2)}
#: How the input and output transforms are made by default, per ``m``: the
#: faster in ``python -m benchmarks.winograd`` on S3 and S4.
TRANSFORMS = {2: ("rows", "gemm"), 4: ("gemm", "gemm")}


def _inverse(m: list[list[Fraction]]) -> list[list[Fraction]]:
    """Exact inverse by Gauss-Jordan elimination (small matrices)."""
    n = len(m)
    a = [[*row, *(Fraction(int(i == j)) for j in range(n))] for i, row in enumerate(m)]
    for col in range(n):
        pivot = next(r for r in range(col, n) if a[r][col] != 0)
        a[col], a[pivot] = a[pivot], a[col]
        a[col] = [v / a[col][col] for v in a[col]]
        for r in range(n):
            if r != col and a[r][col] != 0:
                a[r] = [v - a[r][col] * p for v, p in zip(a[r], a[col])]
    return [row[n:] for row in a]


def _evaluation(points: Sequence[Fraction], cols: int) -> list[list[Fraction]]:
    """Rows ``[1, p, p**2, ...]`` for each point, then ``[0, ..., 0, 1]``."""
    rows = [[p**k for k in range(cols)] for p in points]
    return [*rows, [Fraction(int(k == cols - 1)) for k in range(cols)]]


@cache
def matrices(m: int, r: int = 3, points: tuple[Fraction, ...] | None = None
             ) -> tuple[list[list[Fraction]], list[list[Fraction]], list[list[Fraction]]]:
    """Exact ``(A.T, G, B.T)`` of F(m, r): shapes (m, a), (a, r), (a, a)."""
    pts = tuple(Fraction(p) for p in (points if points is not None else POINTS[m]))
    a = m + r - 1
    if len(pts) != a - 1 or len(set(pts)) != len(pts):
        raise ValueError(f"F({m},{r}) needs {a - 1} distinct finite points, got {pts}")
    at = [list(col) for col in zip(*_evaluation(pts, m))]       # V_m.T
    g = _evaluation(pts, r)                                      # V_r
    bt = [list(col) for col in zip(*_inverse(_evaluation(pts, a)))]  # V**-T
    for i, row in enumerate(bt):                                 # integer rows of B.T
        nz = [v for v in row if v]
        scale = Fraction(lcm(*(v.denominator for v in nz)), gcd(*(v.numerator for v in nz)))
        scale *= 1 if nz[0] > 0 else -1
        bt[i] = [v * scale for v in row]
        g[i] = [v / scale for v in g[i]]
    return at, g, bt


def _split(arr: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """``arr`` reshaped without a copy (an error where that is impossible)."""
    view: np.ndarray = arr.view()
    view.shape = shape
    return view


def as_array(mat: list[list[Fraction]], dtype: npt.DTypeLike = np.float64) -> np.ndarray:
    return np.array([[float(v) for v in row] for row in mat], dtype=dtype)


# ------------------------------------------------------------ the passes

def _combine(coefs: np.ndarray, srcs: list[np.ndarray], out: np.ndarray,
             tmp: np.ndarray) -> None:
    """``out = sum_j coefs[j] * srcs[j]``, one ufunc per nonzero term."""
    terms = sorted(((float(c), s) for c, s in zip(coefs, srcs) if c != 0),
                   key=lambda t: abs(t[0]) != 1)
    (c0, s0), rest = terms[0], terms[1:]
    if rest and c0 == 1 and abs(rest[0][0]) == 1:
        c1, s1 = rest.pop(0)
        (np.add if c1 == 1 else np.subtract)(s0, s1, out=out)
    elif rest and c0 == -1 and rest[0][0] == 1:
        np.subtract(rest.pop(0)[1], s0, out=out)
    else:
        np.multiply(s0, c0, out=out)
    for c, s in rest:
        if abs(c) == 1:
            (np.add if c == 1 else np.subtract)(out, s, out=out)
        else:
            np.multiply(s, c, out=tmp)
            np.add(out, tmp, out=out)


def _along(mat: np.ndarray, src: np.ndarray, axis: int, step: int, count: int,
           out: np.ndarray) -> None:
    """``out[i] = sum_j mat[i, j] * src[..., step*t + j, ...]`` along ``axis``."""
    srcs = [src[(slice(None),) * axis + (slice(j, j + step * count, step),)]
            for j in range(mat.shape[1])]
    tmp = np.empty_like(out[0])
    for i in range(mat.shape[0]):
        _combine(mat[i], srcs, out[i], tmp)


@dataclass(frozen=True)
class Winograd:
    """F(m x m, 3 x 3) for one layer: sizes, matrices and the stages."""

    m: int
    x_shape: tuple[int, int, int, int]
    f: int
    pad: int
    dtype: np.dtype

    @property
    def a(self) -> int:
        return self.m + 2

    @property
    def out_hw(self) -> tuple[int, int]:
        _, _, h, w = self.x_shape
        return h + 2 * self.pad - 2, w + 2 * self.pad - 2

    @property
    def tiles(self) -> tuple[int, int]:
        oh, ow = self.out_hw
        return ceil(oh / self.m), ceil(ow / self.m)

    def mats(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(A.T, G, B.T)`` in the layer's dtype."""
        return float_matrices(self.m, self.dtype.str)

    def filter_transform(self, w: np.ndarray, workers: int = 1) -> np.ndarray:
        """``U[(xi, nu), f, c] = (G w[f, c] G.T)[xi, nu]``: one GEMM per
        worker, each on its share of the filters."""
        _, g, _ = self.mats()
        f, c = w.shape[:2]
        u = np.empty((self.a**2, f, c), self.dtype)
        gg, cut = np.kron(g, g), -(-f // workers)

        def share(lo: int) -> None:
            hi = min(lo + cut, f)
            np.matmul(gg, w[lo:hi].reshape((hi - lo) * c, 9).T,
                      out=_split(u, (self.a**2, f * c))[:, lo * c:hi * c])
        run_chunks([partial(share, lo) for lo in range(0, f, cut)], workers)
        return u

    def input_transform(self, x: np.ndarray, out: np.ndarray) -> None:
        """``out[(xi, nu), c, n, t, u] = (B.T d B)[xi, nu]`` of each tile ``d``."""
        n, c, h, w = x.shape
        th, tw = self.tiles
        m, a, p = self.m, self.a, self.pad
        xp = np.zeros((c, n, th * m + 2, tw * m + 2), self.dtype)   # padded, C first
        xp[:, :, p:p + h, p:p + w] = x.transpose(1, 0, 2, 3)
        _, _, bt = self.mats()
        rows = np.empty((a, c, n, th, xp.shape[3]), self.dtype)
        _along(bt, xp, 2, m, th, rows)                                # height: whole rows
        _along(bt, rows, 4, m, tw,                                     # width: rows again
               _split(out, (a, a, c, n, th, tw)).transpose(1, 0, 2, 3, 4, 5))

    def input_transform_gemm(self, x: np.ndarray, out: np.ndarray) -> None:
        """:meth:`input_transform` by GEMMs: the tiles copied in C order,
        then ``kron(B.T, B.T) @ tiles[c].T`` for each channel (one matmul)."""
        n, c, h, w = x.shape
        th, tw = self.tiles
        m, a, p = self.m, self.a, self.pad
        xp = np.zeros((c, n, th * m + 2, tw * m + 2), self.dtype)
        xp[:, :, p:p + h, p:p + w] = x.transpose(1, 0, 2, 3)
        s = xp.strides
        view = np.lib.stride_tricks.as_strided(
            xp, (c, n, th, tw, a, a), (*s[:2], m * s[2], m * s[3], *s[2:]), writeable=False)
        tiles = np.ascontiguousarray(view).reshape(c, n * th * tw, a * a)
        _, _, bt = self.mats()
        np.matmul(np.kron(bt, bt), tiles.transpose(0, 2, 1), out=out.transpose(1, 0, 2))

    def products(self, u: np.ndarray, v: np.ndarray, out: np.ndarray) -> None:
        """``out[k] = u[k] @ v[k]`` for the ``a**2`` positions: one matmul."""
        np.matmul(u, v, out=out)

    def output_transform(self, mm: np.ndarray, b: np.ndarray | None,
                         out: np.ndarray) -> None:
        """``out[n, f]`` tiles ``= A.T M A`` (+ bias), written in place."""
        a, m = self.a, self.m
        at, _, _ = self.mats()
        f, n = out.shape[:2]
        th, tw = self.tiles
        mm = _split(mm, (a, a, f, n, th, tw))
        self._add_bias(mm, b)
        half = np.empty((a, m, f, n, th, tw), self.dtype)   # A.T along the width
        tmp = np.empty((f, n, th, tw), self.dtype)
        for xi in range(a):
            for j in range(m):
                _combine(at[j], list(mm[xi]), half[xi, j], tmp)
        oh, ow = out.shape[2:]
        for i in range(m):                                   # along the height, into out
            rows = ceil((oh - i) / m)
            for j in range(m):
                cols = ceil((ow - j) / m)
                srcs = [s[:, :, :rows, :cols] for s in half[:, j]]
                _combine(at[i], srcs, out[:, :, i::m, j::m], tmp[:, :, :rows, :cols])


    def output_transform_gemm(self, mm: np.ndarray, b: np.ndarray | None,
                              out: np.ndarray) -> None:
        """:meth:`output_transform` by GEMMs: ``kron(A.T, A.T) @ M[:, f]`` for
        each filter (one matmul), then one strided copy per tile position."""
        a, m = self.a, self.m
        at, _, _ = self.mats()
        f, n = out.shape[:2]
        th, tw = self.tiles
        self._add_bias(_split(mm, (a, a, f, n, th, tw)), b)
        res = _split(np.matmul(np.kron(at, at), mm.transpose(1, 0, 2)), (f, m, m, n, th, tw))
        oh, ow = out.shape[2:]
        for i in range(m):
            rows = ceil((oh - i) / m)
            for j in range(m):
                out[:, :, i::m, j::m] = res[:, i, j, :, :rows, :ceil((ow - j) / m)]

    def _add_bias(self, mm: np.ndarray, b: np.ndarray | None) -> None:
        """Add ``b`` to ``M`` at the point 1: ``A.T``'s column there is all
        ones, so every output of the tile gets it once."""
        if b is not None:
            at, _, _ = self.mats()
            k = POINTS[self.m].index(1)
            assert np.all(at[:, k] == 1)
            mm[k, k] += b[:, None, None, None]


@cache
def float_matrices(m: int, dtype: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(A.T, G, B.T)`` of F(m, 3) as arrays of ``dtype``."""
    return tuple(as_array(v, np.dtype(dtype)) for v in matrices(m))  # type: ignore[return-value]


def chunk_images(layer: Winograd, workers: int, tiles: int = 512) -> int:
    """Images per chunk: about ``tiles`` tiles, at most a worker's share."""
    th, tw = layer.tiles
    n = layer.x_shape[0]
    return max(1, min(ceil(tiles / (th * tw)), ceil(n / workers)))


def run_chunks(tasks: list[Callable[[], object]], workers: int) -> None:
    """Run ``tasks`` on ``workers`` threads, taking them in turn, BLAS held
    to one thread meanwhile (by the package's own worker pool, so that
    ``im2col.conv2d`` in the same process keeps its default plan)."""
    shares = [tasks[k::workers] for k in range(min(workers, len(tasks)))]
    _threads.run([partial(_in_turn, share) for share in shares])


def _in_turn(tasks: list[Callable[[], object]]) -> None:
    """Call ``tasks`` one after another."""
    for t in tasks:
        t()


def conv2d(x: np.ndarray, w: np.ndarray, b: np.ndarray | None = None, *,
           padding: int = 1, m: int = 2, workers: int = 2,
           tiles: int = 512, transforms: tuple[str, str] | None = None) -> np.ndarray:
    """Forward 3x3, stride-1 convolution by F(m x m, 3 x 3), NCHW.

    ``transforms``: how the input and the output transforms are made,
    ``"rows"`` (:meth:`Winograd.input_transform`) or ``"gemm"``
    (:meth:`Winograd.input_transform_gemm`), default :data:`TRANSFORMS`;
    ``tiles`` sets the chunk size.
    """
    x, w = np.asarray(x), np.asarray(w)
    dtype = np.result_type(x, w)
    if w.shape[2:] != (3, 3) or x.ndim != 4 or w.shape[1] != x.shape[1]:
        raise ValueError(f"need x (N, C, H, W) and w (F, C, 3, 3), got {x.shape}, {w.shape}")
    layer = Winograd(m, x.shape, w.shape[0], padding, np.dtype(dtype))
    u = layer.filter_transform(w.astype(dtype, copy=False), workers)
    f, c = w.shape[:2]
    oh, ow = layer.out_hw
    out = np.empty((x.shape[0], f, oh, ow), dtype)
    per = chunk_images(layer, workers, tiles)
    way_in, way_out = transforms or TRANSFORMS[m]
    transform = layer.input_transform if way_in == "rows" else layer.input_transform_gemm
    untransform = layer.output_transform if way_out == "rows" else layer.output_transform_gemm
    th, tw = layer.tiles

    def chunk(lo: int, hi: int) -> None:
        p = (hi - lo) * th * tw
        v = np.empty((layer.a**2, c, p), dtype)
        transform(x[lo:hi], v)
        mm = np.empty((layer.a**2, f, p), dtype)
        layer.products(u, v, mm)
        untransform(mm, b, out[lo:hi].transpose(1, 0, 2, 3))

    n = x.shape[0]
    run_chunks([partial(chunk, lo, min(lo + per, n)) for lo in range(0, n, per)],
               workers)
    return out
