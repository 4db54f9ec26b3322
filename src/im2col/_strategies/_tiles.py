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
F(2, 3) in code); the tests check both on random tiles. Every pass is one
ufunc per nonzero matrix entry over whole strided arrays.
"""

from __future__ import annotations

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
    return buf.reshape(-1)[skip : skip + int(np.prod(shape))].reshape(shape)


def scratch(n: int, c: int, f: int, oh: int, width: int) -> tuple[int, int]:
    """Elements of ``V`` and ``M`` for ``n`` images, ``c`` channels in, ``f`` out.

    ``oh`` outputs high from a band ``width`` wide; ``V`` later holds ``A.T M A``
    and ``M`` first holds the height pass of ``B.T``.
    """
    th, tw = tiles(oh), tiles(width - 2)
    p = n * th * tw
    return max(16 * c * p, 4 * f * p), max(16 * f * p, 4 * n * c * th * width)


def along(src: np.ndarray, axis: int, count: int, out: np.ndarray) -> None:
    """``out[i] = sum_j BT[i, j] * src[..., 2*t + j, ...]`` for ``t < count`` along ``axis``."""
    s = [src[(slice(None),) * axis + (slice(j, j + 2 * count, 2),)]
         for j in range(4)]
    np.subtract(s[0], s[2], out=out[0])
    np.add(s[1], s[2], out=out[1])
    np.subtract(s[2], s[1], out=out[2])
    np.subtract(s[1], s[3], out=out[3])


def input_tiles(band: np.ndarray, th: int, tw: int, v: np.ndarray,
                m: np.ndarray) -> np.ndarray:
    """Return ``V = B.T d B`` of every tile of ``band`` as ``(16, c, n*th*tw)``.

    ``band`` is ``(n, c, >= 2*th + 2, >= 2*tw + 2)``, zero past its data; ``V``
    is made at the start of ``v``, the height pass at the start of ``m``.
    """
    n, c = band.shape[:2]
    rows = first(m, (4, n, c, th, band.shape[3]))
    along(band, 2, th, rows)
    vv = first(v, (16, c, n * th * tw))
    v6 = reshape_view(vv, (4, 4, c, n, th, tw)).transpose(0, 1, 3, 2, 4, 5)
    for i in range(4):
        along(rows[i], 3, tw, v6[i])
    return vv


def correlate(band: np.ndarray, u: np.ndarray, v: np.ndarray, m: np.ndarray,
              out: np.ndarray, *, add: bool) -> None:
    """Write (or ``add`` to) ``out`` the 3x3 correlation of ``band`` by F(2x2, 3x3).

    ``band`` is ``(n, c, 2*th + 2, width)``, zero past its data; ``u`` the
    transformed filters ``(16, f, c)``; ``v`` and ``m`` flat work arrays of
    :func:`scratch`'s sizes; ``out`` is ``(n, f, oh, ow)`` with
    ``th = tiles(oh)`` and ``2*tiles(ow) + 2 <= width``.
    """
    n, f, (oh, ow) = band.shape[0], u.shape[1], out.shape[2:]
    th, tw = tiles(oh), tiles(ow)
    p = n * th * tw
    vv = input_tiles(band, th, tw, v, m)
    mm = first(m, (16, f, p))  # the height pass is used up
    np.matmul(u, vv, out=mm)
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

    With ``flip``, ``u[(i, j), c, f]`` of ``w[f, c]`` turned by 180 degrees:
    the filters of the input gradient.
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
        u[k] = row.reshape(f, c).T


def dout_tiles(d: np.ndarray, th: int, tw: int, out: np.ndarray) -> np.ndarray:
    """Return ``G2_INT D G2_INT.T`` of every 2x2 tile ``D`` of ``d`` as ``(16, f, n*th*tw)``.

    ``d`` is ``(n, f, >= 2*th, >= 2*tw)``, zero past its data; made at the
    start of ``out``.
    """
    n, f = d.shape[:2]
    dd = first(out, (16, f, n * th * tw))
    d6 = reshape_view(dd, (4, 4, f, n, th, tw)).transpose(0, 1, 3, 2, 4, 5)
    phase = [[d[:, :, a : a + 2 * th : 2, b : b + 2 * tw : 2] for b in (0, 1)]
             for a in (0, 1)]
    for i in range(4):
        for j in range(4):
            terms = [(G2_INT[i, a] * G2_INT[j, b], phase[a][b])
                     for a in (0, 1) for b in (0, 1) if G2_INT[i, a] and G2_INT[j, b]]
            np.copyto(d6[i, j], terms[0][1])  # its sign is +1
            for sign, t in terms[1:]:
                (np.add if sign > 0 else np.subtract)(d6[i, j], t, out=d6[i, j])
    return dd


def tile_products(dd: np.ndarray, vv: np.ndarray, mw: np.ndarray,
                  acc: np.ndarray) -> None:
    """Add to ``acc`` ``(16, f, c)`` the 16 products ``dd[k] @ vv[k].T`` summed over the tiles.

    ``dd`` ``(16, f, p)`` and ``vv`` ``(16, c, p)`` are the transformed tiles
    of ``dout`` and of the input; ``mw`` ``(f, c)`` is a work array.
    """
    for k in range(16):
        np.matmul(dd[k], vv[k].T, out=mw)
        acc[k] += mw


def filter_gradient(acc: np.ndarray, out: np.ndarray, dw: np.ndarray) -> None:
    """Add to ``dw`` ``(f, c*9)`` the filters' gradient of the summed products ``acc``.

    ``out`` ``(f, c, 9)`` is a work array in ``dw``'s order.
    """
    np.matmul(acc.reshape(16, -1).T, A3A3.T.astype(out.dtype), out=out.reshape(-1, 9))
    dw += out.reshape(dw.shape)
