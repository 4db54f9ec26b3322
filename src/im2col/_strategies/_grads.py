"""The filters' gradient ``dw``: its products, in the faster orientation, a few images per call.

``dw`` sums ``dout @ columns.T`` over every image; :func:`add_products`
makes the products of several images of a unit in one ``matmul`` (two
workers make fewer calls: ``python -m benchmarks.turns``), each in the
orientation OpenBLAS runs faster (:func:`transposed_dw`).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .._layer import Layer
from ._base import Buffer, Buffers, by_group, product

#: Elements of the filters' gradient products made in one call: the
#: products of several images of a unit, up to this size (64 KiB of
#: float32, so the buffer stays small), are one ``matmul`` then summed over
#: the images, not one call per image: on layers of many small images (S2,
#: 50 images per unit) the calls per image cost more than the products
#: (``python -m benchmarks.turns``, ``dw per image``).
DW_BATCH = 2**14


def dw_images(layer: Layer, n: int) -> int:
    """Images of a unit of ``n`` whose ``dw`` products one call makes (:data:`DW_BATCH`)."""
    return max(1, min(n, DW_BATCH // max(1, layer.F * layer.Cg * layer.g.taps)))


def dw_product(layer: Layer, backward: bool, cols: int | None = None,
               images: int = 1) -> Buffers:
    """Declare the ``dout @ columns.T`` products of every group, ``(k*F, C/groups*kh*kw)``.

    ``k`` is :func:`dw_images` of a unit of ``images`` (1 for products made
    over a whole unit at once); with more than one, one more ``F`` rows for
    their sum. With ``cols``, the product of one group, ``(F/groups, cols)``.
    :func:`add_product` may use it transposed, in the same memory.
    """
    if not backward:
        return {}
    if cols is None:
        k = dw_images(layer, images)
        slots = k + 1 if k > 1 else 1
        return {"tmp": Buffer((slots * layer.F, layer.Cg * layer.g.taps))}
    return {"tmp": Buffer((layer.Fg, cols))}


#: A float32 ``dw`` product is made transposed, ``cols @ dout.T``, for at
#: most this many filters per group, when the columns' rows per group are at
#: least twice as many and at least this many: there OpenBLAS's sgemm
#: (SkylakeX kernels) ran it 10-50% faster (S1's 32 filters by 147 rows:
#: 0.66-0.73x the time), elsewhere as fast or slower (256 filters by 2304
#: rows: 1.4x). Its dgemm ran it 5-27% faster on the 1024-pixel shapes of
#: at least 75 rows but 4-9% slower on the 784-pixel ones (the 4-group and
#: deeper layers'), so float64 keeps ``dout @ cols.T``
#: (``python -m benchmarks.backward``, ``orientation``).
TRANSPOSED_DW = 64


def transposed_dw(filters: int, rows: int, dtype: np.dtype[Any]) -> bool:
    """Whether ``dw``'s product of ``filters`` by ``rows`` is made as ``cols @ dout.T``."""
    return (dtype == np.float32 and filters <= TRANSPOSED_DW
            and rows >= max(TRANSPOSED_DW, 2 * filters))


def add_product(dwk: np.ndarray, dk: np.ndarray, ck: np.ndarray,
                tmp: np.ndarray) -> None:
    """``dwk += dk @ ck.T``, the product made in ``tmp`` in the faster orientation.

    The three may be stacks of one matrix per group (:func:`by_group`);
    ``dk`` and ``ck`` may have a leading axis of images more than ``dwk``,
    whose products are summed in ``tmp`` too, after them.
    """
    filters, rows = dk.shape[-2], ck.shape[-2]
    flip = transposed_dw(filters, rows, dk.dtype)
    shape = (*ck.shape[:-1], filters) if flip else (*dk.shape[:-1], rows)
    flat, size = tmp.reshape(-1), math.prod(shape)
    t = flat[:size].reshape(shape)  # the same memory
    if flip:
        np.matmul(ck, dk.swapaxes(-1, -2), out=t)
    else:
        np.matmul(dk, ck.swapaxes(-1, -2), out=t)
    if t.ndim > dwk.ndim:  # several images: their sum, after their products
        t = np.sum(t, axis=0, out=flat[size : size + dwk.size].reshape(shape[1:]))
    dwk += t.swapaxes(-1, -2) if flip else t


def add_products(dw: np.ndarray, d: np.ndarray, c: np.ndarray, tmp: np.ndarray) -> None:
    """``dw += d[q] @ c[q].T`` summed over the images ``q``, as many per call as ``tmp`` holds.

    ``d`` and ``c`` are ``(images, groups, ..., pixels)`` (:func:`by_group`),
    ``tmp`` is :func:`dw_product`'s.
    """
    slots = tmp.size // max(1, dw.size)
    k = slots - 1 if slots > 1 else 1  # the last slot holds the sum
    for q in range(0, d.shape[0], k):
        add_product(dw, d[q] if k == 1 else d[q : q + k],
                    c[q] if k == 1 else c[q : q + k], tmp)


def group_grads(layer: Layer, d: np.ndarray, cols: np.ndarray, dw: np.ndarray,
                tmp: np.ndarray, *, columns: bool = True) -> None:
    """``dw[group] += d @ cols.T``, then (if ``columns``) ``cols = w2.T @ d``.

    The columns are used up. ``d`` is ``(F, pixels)``, ``cols`` ``(K, pixels)``.
    """
    G = layer.groups
    dg, cg = by_group(d, G), by_group(cols, G)
    add_product(dw, dg, cg, tmp)
    if columns:
        product(layer.w2.swapaxes(-1, -2), dg, cg)
