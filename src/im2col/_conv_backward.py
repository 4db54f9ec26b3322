"""conv2d's backward pass: the public function and its argument checks.

As :func:`im2col.conv2d`, the gradients are made unit by unit on the plan
:mod:`im2col._plan` picks for the backward pass, walked by
:mod:`im2col._run`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import _run
from ._budget import budget
from ._checks import as_array, same_dtype
from ._conv import workers_of
from ._layer import layer_of
from ._limits import conv_inputs, empty_backward
from ._plan import plan
from ._strategies._base import NonFiniteError


def conv2d_backward(
    dout: np.ndarray, x: np.ndarray, w: np.ndarray, *, stride: Any = 1,
    padding: Any = 0, dilation: Any = 1, groups: int = 1,
    max_memory: int | None = None, workers: int | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of :func:`conv2d` with respect to ``x``, ``w`` and ``b``.

    ``dw`` is ``dout @ columns.T`` and ``dx`` is ``col2im(w.T @ dout)``,
    unit by unit (as in :func:`conv2d`); the columns are recomputed from
    ``x`` rather than kept from the forward pass, the column gradient is
    written over them and added back by one strided ``+=`` per tap (with
    stride 1, summed over the kernel rows first: two per kernel column).
    Where :func:`conv2d` uses Winograd's tiles, so does this, if they
    take no more memory than the columns: ``dx`` by F(2x2, 3x3) on
    ``dout``, ``dw`` by F(3x3, 2x2), with no columns. Elsewhere with stride
    1, at least 100 output pixels per image, an output as large as the
    input and no more filters than channels, ``dx`` is the convolution of
    ``dout`` with the flipped filters (im2col of ``dout``, one product, no
    col2im), where its buffers take no more memory than the columns' plus a
    copy of the filters. Elsewhere, with stride 1 along
    the height, more than one kernel row, at least 96 channels per group
    times kernel columns and BLAS on one thread, unless the columns are
    laid out on a grid as wide as the padded rows (stride 1, little
    waste), the windows are copied into a strip by channel and kernel
    column, where that takes no more memory than the columns: ``dw`` and
    the strip's gradient by one product per kernel row, then one strided
    ``+=`` per kernel column.

    Parameters
    ----------
    dout : array_like
        Upstream gradient ``(N, F, oh, ow)``, same dtype as ``x``.
    x, w : array_like
        The forward pass's input and filters, as for :func:`conv2d`.
    stride, padding, dilation, groups : optional
        The forward pass's options (see :func:`conv2d`).
    max_memory : int, optional
        Upper bound, in bytes, on the memory the call allocates beyond the
        three arrays it returns (peak traced bytes minus
        ``dx.nbytes + dw.nbytes + db.nbytes``), as for :func:`conv2d`.
    workers : int, optional
        As for :func:`conv2d`: by default worker threads (with BLAS limited
        to one thread while they run) only when the calling thread is the
        process's only Python thread; ``workers=n`` asks for them and the
        limit. Each worker but the first sums its share of ``dw`` apart, so
        ``dw`` may differ in the last bits with the number of workers; where
        Winograd's tiles are used, the workers add into one sum in the order
        they come, so with several workers ``dw`` may also differ in the
        last bits from one call to the next.

    Returns
    -------
    dx : numpy.ndarray
        Gradient for ``x``, shape ``(N, C, H, W)``.
    dw : numpy.ndarray
        Gradient for ``w``, shape ``(F, C/groups, kh, kw)``.
    db : numpy.ndarray
        Gradient for the bias, shape ``(F,)``.

    Raises
    ------
    TypeError, ValueError
        As :func:`conv2d`, and if ``dout`` has the wrong shape.

    Examples
    --------
    >>> import numpy as np
    >>> from im2col import conv2d, conv2d_backward
    >>> rng = np.random.default_rng(0)
    >>> x, w = rng.normal(size=(2, 3, 6, 6)), rng.normal(size=(4, 3, 3, 3))
    >>> dout = np.ones((2, 4, 6, 6))
    >>> dx, dw, db = conv2d_backward(dout, x, w, padding=1)
    >>> dx.shape, dw.shape, db.shape
    ((2, 3, 6, 6), (4, 3, 3, 3), (4,))
    >>> db
    array([72., 72., 72., 72.])
    >>> small = conv2d_backward(dout, x, w, padding=1, max_memory=300_000)
    >>> all(np.allclose(a, e) for a, e in zip(small, (dx, dw, db)))
    True
    >>> conv2d_backward(dout, x, w)
    Traceback (most recent call last):
    ...
    ValueError: dout must have shape (2, 4, 4, 4) = (N, F, oh, ow), got (2, 4, 6, 6)
    """
    return _backward(dout, x, w, stride=stride, padding=padding,
                     dilation=dilation, groups=groups, max_memory=max_memory,
                     workers=workers)


def _backward(
    dout: np.ndarray, x: np.ndarray, w: np.ndarray, *, stride: Any = 1,
    padding: Any = 0, dilation: Any = 1, groups: int = 1,
    max_memory: int | None = None, strategy: str | None = None,
    images: int | None = None, workers: int | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`conv2d_backward` with a forced ``strategy`` and ``images``."""
    x, w = conv_inputs(x, w)
    layer = layer_of(x, w, stride=stride, padding=padding, dilation=dilation,
                   groups=groups)
    dout = as_array(dout, "dout", 4)
    same_dtype(x=x, dout=dout)
    g = layer.g
    expected = (g.N, layer.F, *g.out)
    if dout.shape != expected:
        raise ValueError(
            f"dout must have shape {expected} = (N, F, oh, ow), got {dout.shape}"
        )
    max_memory = budget(layer, x, max_memory, backward=True,
                        dout_contiguous=dout.flags.c_contiguous, workers=workers)
    if (empty := empty_backward(dout, layer, x.dtype)) is not None:
        return empty
    p = plan(layer, x, max_memory, backward=True,
             dout_contiguous=dout.flags.c_contiguous, strategy=strategy,
             images=images, workers=workers_of(workers))
    dx = np.zeros(x.shape, x.dtype)
    dw = np.zeros((layer.groups, layer.Fg, layer.Cg * g.taps), x.dtype)
    try:
        _run.backward(dout, x, layer, p, dx, dw)
        again = False
    except NonFiniteError:  # an inf or NaN that Winograd's tiles would spread
        again = True  # out of the handler, its traceback no longer holds their buffers
    if again:
        p = plan(layer, x, max_memory, backward=True,
                 dout_contiguous=dout.flags.c_contiguous, workers=workers_of(workers),
                 winograd=False)
        dx.fill(0)
        dw.fill(0)
        _run.backward(dout, x, layer, p, dx, dw)
    db = np.empty(layer.F, x.dtype)
    for f in range(layer.F):
        db[f] = dout[:, f].sum()
    return dx, dw.reshape(w.shape), db
