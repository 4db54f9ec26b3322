"""Winograd's minimal filtering on 2x2 tiles: the matrices and the passes.

F(2x2, 3x3) computes each 2x2 tile of a 3x3 correlation from the 4x4 tile
of inputs ``d`` under it as ``A.T @ (U * (B.T @ d @ B)) @ A``, where ``U =
G @ g @ G.T`` is the transformed filter ``g``: 16 multiplies instead of
36 (Lavin and Gray, "Fast Algorithms for Convolutional Neural Networks",
CVPR 2016, arXiv:1509.09308, section 4, whose matrices these are). Summed
over channels, the 16 products become 16 matrix products, one
``np.matmul`` over a stack.

F(3x3, 2x2), on the same 4x4 input tiles and the same ``B.T``, computes
the 3x3 correlation of a tile with a 2x2 tile of ``dout``: the filters'
gradient, summed over every tile of every image inside 16 GEMMs, then
transformed back once. Its matrices come from the same Toom-Cook
construction at the same points (``docs/notebooks/winograd.py`` derives
F(2, 3) in code); the tests check both on random tiles. Each pass of
``B.T`` is one ufunc per row of the matrix over whole contiguous arrays
(:func:`input_tiles`).
"""

from __future__ import annotations

import math
from contextlib import AbstractContextManager
from typing import Any

import numpy as np

from .._compat import reshape_view

#: F(2x2, 3x3) at the points 0, 1, -1 and infinity.
BT = np.array([[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]])
G = np.array([[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]])
AT = np.array([[1, 1, 1, 0], [0, 1, -1, -1]])
#: F(3x3, 2x2) with the same ``B.T``: ``G2 = diag(S2) @ G2_INT``, the scale
#: moved into ``A3.T``, so that ``dout``'s tiles are only added and subtracted.
G2_INT = np.array([[1, 0], [1, 1], [1, -1], [0, 1]])
S2 = np.array([1, 0.5, 0.5, -1])
A3T = np.array([[1, 1, 1, 0], [0, 1, -1, 0], [0, 1, 1, 1]])
#: Both sides of a flattened tile: ``kron(G, G) @ g.ravel()`` is
#: ``(G @ g @ G.T).ravel()``.
GG, ATAT = np.kron(G, G), np.kron(AT, AT)
A3A3 = np.kron(A3T * S2, A3T * S2)


def tiles(n: int) -> int:
    """Tiles of 2 outputs that cover ``n`` outputs."""
    return -(-n // 2)


def first(buf: np.ndarray, shape: tuple[int, ...], skip: int = 0) -> np.ndarray:
    """View elements ``skip`` onwards of ``buf`` as a C-ordered array of ``shape``."""
    return buf.reshape(-1)[skip : skip + math.prod(shape)].reshape(shape)


def scratch(n: int, c: int, f: int, oh: int, width: int) -> tuple[int, int]:
    """Elements of ``V`` and ``M`` for ``n`` images, ``c`` channels in, ``f`` out.

    ``oh`` outputs high from a band ``width`` wide; ``V`` later holds ``A.T M A``
    and ``M`` first holds :func:`input_tiles`'s phases and passes.
    """
    th, tw = tiles(oh), tiles(width - 2)
    p = n * th * tw
    return (max(16 * c * p, 4 * f * p),
            max(16 * f * p, 10 * c * n * (th + 1) * (tw + 1)))


def combine(e: np.ndarray, o: np.ndarray, shift: int, k: int,
            out: np.ndarray) -> None:
    """``out`` = row ``k`` of ``B.T`` times ``(e, o, e, o)``, the last two read ``shift`` on.

    ``e`` and ``o`` hold the even and odd inputs of the tiles along their
    last axis, so a tile's four inputs ``d0..d3`` are ``e[t], o[t],
    e[t + shift], o[t + shift]``; every operand is a contiguous run as long
    as ``out``'s last axis.
    """
    s = out.shape[-1]
    d0, d1 = e[..., :s], o[..., :s]
    d2, d3 = e[..., shift : shift + s], o[..., shift : shift + s]
    if k == 0:
        np.subtract(d0, d2, out=out)
    elif k == 1:
        np.add(d1, d2, out=out)
    elif k == 2:
        np.subtract(d2, d1, out=out)
    else:
        np.subtract(d1, d3, out=out)


def across(rows: np.ndarray, out: np.ndarray) -> None:
    """Write the four rows of ``B.T`` along the width, from even and odd columns ``rows``.

    ``rows`` is ``(2, s)``; ``out[k, :s - 1]`` gets row ``k``, in three
    ufunc calls (rows 0 and 3 are both a difference of neighbours).
    """
    s = rows.shape[1] - 1
    e, o = rows
    np.subtract(rows[:, :s], rows[:, 1:], out=out[::3, :s])
    combine(e, o, 1, 1, out[1, :s])
    combine(e, o, 1, 2, out[2, :s])


def input_tiles(band: np.ndarray, th: int, tw: int, v: np.ndarray,
                m: np.ndarray) -> np.ndarray:
    """Return ``V = B.T d B`` of every tile of ``band`` as ``(16, c, n*th*tw)``.

    ``band`` is ``(n, c, >= 2*th + 2, >= 2*tw + 2)``, zero past its data; ``V``
    is made at the start of ``v``. The band's four phases (even or odd rows
    by even or odd columns) are first copied apart, at the start of ``m``,
    into planes of ``(th + 1) * (tw + 1)`` per channel and image: there the
    input at ``(a, b)`` of a tile is phase ``(a % 2, b % 2)`` at the tile's
    own index plus ``(a // 2) * (tw + 1) + b // 2``, so each pass of ``B.T``
    is one ufunc over whole contiguous arrays (a plane's last row and
    column give values that are never read) and only finished tiles are
    copied into ``V``. Strided operands took 1.8 to 2 times as long
    (``python -m benchmarks.passes``).
    """
    n, c = band.shape[:2]
    h1, w1 = th + 1, tw + 1
    size = c * n * h1 * w1
    even, odd = phase_planes(band, th, tw, m)
    rows = first(m, (2, size - w1), 4 * size)
    wide = first(m, (4, size), 6 * size)
    vv = first(v, (16, c, n * th * tw))
    v5 = vv.reshape(16, c, n, th, tw)
    for i in range(4):
        combine(even, odd, w1, i, rows)  # row i along the height
        across(rows, wide)
        np.copyto(v5[4 * i : 4 * i + 4],
                  wide.reshape(4, c, n, h1, w1)[..., :th, :tw])
    return vv


def phase_planes(band: np.ndarray, th: int, tw: int, m: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Copy ``band``'s four phases apart at the start of ``m``; return its even and odd rows.

    Each is ``(2, c*n*(th + 1)*(tw + 1))``: its even, then odd columns, in
    planes of ``(th + 1) * (tw + 1)`` per channel and image (see
    :func:`input_tiles`).
    """
    n, c = band.shape[:2]
    h1, w1 = th + 1, tw + 1
    planes = first(m, (2, 2, c, n, h1, w1))
    phases = reshape_view(band[:, :, : 2 * h1, : 2 * w1], (n, c, h1, 2, w1, 2))
    np.copyto(planes, phases.transpose(3, 5, 1, 0, 2, 4))
    even, odd = planes.reshape(2, 2, c * n * h1 * w1)
    return even, odd


def correlate(band: np.ndarray, u: np.ndarray, v: np.ndarray, m: np.ndarray,
              out: np.ndarray, *, add: bool) -> None:
    """Write (or ``add`` to) ``out`` the 3x3 correlation of ``band`` by F(2x2, 3x3).

    ``band`` is ``(n, c, 2*th + 2, width)``, zero past its data; ``u`` the
    transformed filters ``(16, groups, f/groups, c/groups)``; ``v`` and
    ``m`` flat work arrays of :func:`scratch`'s sizes; ``out`` is ``(n, f,
    oh, ow)`` with ``th = tiles(oh)`` and ``2*tiles(ow) + 2 <= width``. The
    products of every group are one ``np.matmul`` over a ``(16, groups)``
    stack.
    """
    n, (_, groups, fg, cg), (oh, ow) = band.shape[0], u.shape, out.shape[2:]
    f, th, tw = groups * fg, tiles(oh), tiles(ow)
    p = n * th * tw
    vv = input_tiles(band, th, tw, v, m)
    mm = first(m, (16, groups, fg, p))  # the height pass is used up
    np.matmul(u, vv.reshape(16, groups, cg, p), out=mm)
    y = first(v, (4, f, p))  # V is used up
    np.matmul(ATAT.astype(y.dtype), mm.reshape(16, -1), out=y.reshape(4, -1))
    y6 = y.reshape(4, f, n, th, tw)
    for k in range(4):
        i, j = divmod(k, 2)
        part = y6[k, :, :, : tiles(oh - i), : tiles(ow - j)].transpose(1, 0, 2, 3)
        if add:
            out[:, :, i::2, j::2] += part
        else:
            out[:, :, i::2, j::2] = part


def transform(w: np.ndarray, u: np.ndarray, *, flip: bool) -> None:
    """Transform the filters: ``u[(i, j), f, c] = (G @ w[f, c] @ G.T)[i, j]``.

    ``u`` is ``(16, groups, f/groups, c)`` (``c`` channels per group); with
    ``flip``, ``(16, groups, c, f/groups)``, of ``w[f, c]`` turned by 180
    degrees: the filters of the input gradient.
    """
    f, c = w.shape[:2]
    gg = GG.astype(u.dtype)
    w9 = w.reshape(f * c, 9)
    if not flip:
        for k in range(16):  # into contiguous rows: no transposed copy of w
            np.matmul(w9, gg[k], out=u[k].reshape(-1))
        return
    row = np.empty(f * c, u.dtype)
    for k in range(16):  # turning g turns its flat index t into 8 - t
        np.matmul(w9, gg[k, ::-1], out=row)
        u[k] = row.reshape(u.shape[1], -1, c).transpose(0, 2, 1)


def dout_tiles(d: np.ndarray, th: int, tw: int, out: np.ndarray) -> np.ndarray:
    """Return ``G2_INT D G2_INT.T`` of every 2x2 tile ``D`` of ``d`` as ``(16, f, n*th*tw)``.

    ``d`` is ``(n, f, >= 2*th, >= 2*tw)``, zero past its data; made at the
    start of ``out``. The corners of the 4x4 result are the four phases of
    ``d`` (``G2_INT``'s first and last rows pick one input), copied there
    first; every other entry is a sum or difference of two entries already
    made, over whole contiguous arrays, in five calls in all.
    """
    n, f = d.shape[:2]
    dd = first(out, (16, f, n * th * tw))
    d4 = dd.reshape(4, 4, f, n, th, tw)
    phases = reshape_view(d[:, :, : 2 * th, : 2 * tw], (n, f, th, 2, tw, 2))
    np.copyto(d4[::3, ::3], phases.transpose(3, 5, 1, 0, 2, 4))
    np.add(d4[0, ::3], d4[3, ::3], out=d4[1, ::3])  # along the height
    np.subtract(d4[0, ::3], d4[3, ::3], out=d4[2, ::3])
    np.add(d4[:, 0], d4[:, 3], out=d4[:, 1])  # along the width
    np.subtract(d4[:, 0], d4[:, 3], out=d4[:, 2])
    return dd


def tile_products(dd: np.ndarray, vv: np.ndarray, images: int, mw: np.ndarray,
                  acc: np.ndarray, lock: AbstractContextManager[Any]) -> None:
    """Add to ``acc`` the 16 products ``dd[k] @ vv[k].T`` of each group, summed over the tiles.

    ``dd`` ``(16, f, p)`` and ``vv`` ``(16, c, p)`` are the transformed tiles
    of ``dout`` and of the input, ``images`` images' worth: one product per
    image, as ``im2col`` makes, since longer sums in float32 lose more (the
    tests hold the filters' gradient's error within twice ``im2col``'s, on
    one and two workers). ``acc`` is ``(16, groups, f/groups, c/groups)``;
    ``mw`` ``(groups, f/groups, c/groups)`` is a work array; each addition
    into ``acc``, which other threads add into too, holds ``lock``.
    """
    groups, fg, cg = mw.shape
    p = dd.shape[2]
    d4, v4 = dd.reshape(16, groups, fg, p), vv.reshape(16, groups, cg, p)
    t = p // images
    for q in range(0, p, t):
        for k in range(16):
            np.matmul(d4[k, ..., q : q + t], v4[k, ..., q : q + t].transpose(0, 2, 1),
                      out=mw)
            with lock:
                acc[k] += mw


def filter_gradient(acc: np.ndarray, out: np.ndarray, dw: np.ndarray) -> None:
    """Add to ``dw`` the filters' gradient of the summed products ``acc``.

    ``acc`` is ``(16, groups, f/groups, c)`` (``c`` channels per group),
    ``dw`` ``(groups, f/groups, c*9)``; ``out`` ``(f, c, 9)`` is a work
    array in ``dw``'s order.
    """
    np.matmul(acc.reshape(16, -1).T, A3A3.T.astype(out.dtype), out=out.reshape(-1, 9))
    dw += out.reshape(dw.shape)
