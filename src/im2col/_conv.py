"""conv2d: the public function, its argument checks and its workers.

The full im2col matrix of cs231n's ``conv_forward_strides`` costs about
``kh*kw / stride**2`` times the input. Here the output is cut into units (a
few images, or a band of output rows of one image) whose buffers fit the
caches or a memory budget: :mod:`im2col._plan` picks the plan,
:mod:`im2col._run` walks it with a strategy of :mod:`im2col._strategies`
on the workers of :mod:`im2col._threads`. The backward pass is in
:mod:`im2col._conv_backward`.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from . import _run
from ._budget import budget
from ._checks import as_array, as_int, same_dtype
from ._layer import layer_of
from ._limits import conv_inputs, empty_forward
from ._plan import plan
from ._strategies._base import NonFiniteError
from ._threads import cpus, default_workers


def workers_of(workers: Any) -> int:
    """``workers`` checked, at most the CPUs; ``None``: :func:`default_workers`."""
    if workers is None:
        return default_workers()
    return min(as_int(workers, "workers", minimum=1), cpus())


def conv2d(
    x: np.ndarray, w: np.ndarray, b: np.ndarray | None = None, *,
    stride: Any = 1, padding: Any = 0, dilation: Any = 1, groups: int = 1,
    max_memory: int | None = None, workers: int | None = None,
) -> np.ndarray:
    """2-D convolution (cross-correlation) of an NCHW batch, as in PyTorch.

    ``out[n, f, y, x] = b[f] + sum_{c, i, j} w[f, c, i, j] *
    xp[n, g*C/groups + c, y*sh + i*dh, x*sw + j*dw]`` where ``xp`` is ``x``
    zero padded and ``g`` is the group of filter ``f``. The kernel is not
    flipped. Computed by im2col and matrix multiplies a few images (or a
    band of output rows) at a time, written straight into the output, so the
    extra memory is that of one unit per worker thread, not of the batch; a
    1x1 kernel with stride 1 and no padding is a plain matrix multiply with
    no copy; a 3x3 layer with stride 1, no dilation, at least 64 channels
    and filters per group and 196 output pixels per image by Winograd's
    F(2x2, 3x3) on the same units. The forward pass of a kernel at least 7
    rows tall with at most 64 filters per group (a first layer), when BLAS
    runs on one thread (under the workers), copies a strip of each input
    row's windows of one kernel row, about ``kh/sh`` times smaller than the
    columns, and multiplies one output row at a time on a view of it;
    elsewhere, with stride 1 along the height, more than one kernel row,
    at least 96 channels per group times kernel columns and BLAS on one
    thread, the same windows laid out by channel and kernel column and
    one product per kernel row, summed, where that takes no more memory
    than the columns.

    Parameters
    ----------
    x : array_like
        Input ``(N, C, H, W)``, float32 or float64 (a non-native byte order
        is converted), any memory order; ``N`` or ``C`` may be 0, as in
        PyTorch; not a masked array.
    w : array_like
        Filters ``(F, C/groups, kh, kw)``, same dtype as ``x``, ``F >= 1``.
    b : array_like, optional
        Bias ``(F,)``, same dtype as ``x``.
    stride : int or (int, int), optional
        Step between windows, at least 1.
    padding : int, (int, int), "valid" or "same", optional
        Zeros added on each side; ``"same"`` keeps ``H, W`` (stride 1 only).
    dilation : int or (int, int), optional
        Step between kernel taps; 1 is a dense kernel.
    groups : int, optional
        Split channels and filters into this many independent groups.
    max_memory : int, optional
        Upper bound, in bytes, on the memory the call allocates beyond the
        array it returns: the highest total of bytes allocated during the
        call (as traced by :mod:`tracemalloc`, which is what
        :func:`im2col.peak_memory` reports) minus ``out.nbytes``. The work
        buffers of all workers are planned to fit ``max_memory`` less 256
        KiB per worker, set aside for NumPy's ufunc buffers and Python
        objects; a tight budget gets fewer images per unit, then one
        whole image of a strategy with smaller buffers (last, one with no
        column buffer), then bands of output rows of one image, and one
        worker only when nothing fits a set of buffers per worker. ``None`` (the default) sizes units to
        the caches. A
        ``ValueError`` gives the smallest budget that would work when even
        one output row of one image does not fit.
    workers : int, optional
        Most threads that unfold and multiply shares of the images at once
        (NumPy releases the GIL in both); never more than the CPUs or the
        images, and one per 8 Mi multiply-adds, so small calls run on the
        calling thread. ``None`` (the default): as many as NumPy's BLAS may
        use when the call starts (``threadpoolctl``'s
        ``threadpool_limits(1)`` or ``OPENBLAS_NUM_THREADS=1`` make it 1),
        but only when the calling thread is the process's only Python
        thread; otherwise one. ``1`` runs the call on the calling thread
        and leaves BLAS alone. See Notes.

    Returns
    -------
    numpy.ndarray
        C-ordered ``(N, F, oh, ow)`` output, ``x``'s dtype.

    Raises
    ------
    TypeError
        If an array is not array_like of numbers, is a masked array, has a
        dtype other than float32 or float64, or the dtypes differ; or if an
        option is not an int.
    ValueError
        If a shape or option is inconsistent, ``max_memory`` is too small,
        or the output (or one output row's buffers) would not fit the
        machine (:func:`im2col._checks.memory_limit`).

    Notes
    -----
    Worker threads need BLAS single-threaded (BLAS's own threads would
    compete with them for the cores), and BLAS's thread count is
    process-wide. So while more than one worker runs, the BLAS libraries
    that :mod:`threadpoolctl` found at the first such call are limited to
    one thread, and the limit is lifted when the last overlapping call
    ends. By default this happens only when no other Python thread exists
    to see it; in a program with other threads (a notebook kernel has
    some) the default call runs on the calling thread with BLAS as the
    caller left it. Passing ``workers=n`` asks for the workers and the
    limit: a matrix multiply made meanwhile by another thread runs on one
    core. Where threadpoolctl finds no BLAS (Apple's Accelerate, for one),
    the default is one worker. The workers run under the caller's NumPy
    settings (``np.errstate``, ``np.setbufsize``), as the calling thread
    does.

    Examples
    --------
    >>> import numpy as np
    >>> from im2col import conv2d
    >>> x = np.ones((2, 3, 5, 5))
    >>> w = np.ones((4, 3, 3, 3))
    >>> conv2d(x, w, padding=1).shape
    (2, 4, 5, 5)
    >>> conv2d(x, w, padding=1)[0, 0]          # 27 taps inside, fewer at edges
    array([[12., 18., 18., 18., 12.],
           [18., 27., 27., 27., 18.],
           [18., 27., 27., 27., 18.],
           [18., 27., 27., 27., 18.],
           [12., 18., 18., 18., 12.]])
    >>> bool((conv2d(x, w, padding=1, max_memory=300_000) == 27).any())
    True
    >>> big = np.random.default_rng(0).normal(size=(8, 16, 32, 32))
    >>> wb = np.ones((16, 16, 3, 3))          # 19M multiply-adds: 2 workers may run
    >>> np.array_equal(conv2d(big, wb, padding=1, workers=1),   # this thread only
    ...                conv2d(big, wb, padding=1, workers=2))
    True
    >>> big[-1, 0, 0, 0] = np.inf             # in the last image: a worker's share
    >>> with np.errstate(invalid="raise"):   # inf * 0 raises there too
    ...     conv2d(big, wb * 0, padding=1, workers=2)
    Traceback (most recent call last):
    ...
    FloatingPointError: invalid value encountered in ...
    >>> conv2d(x, w, max_memory=1000)
    Traceback (most recent call last):
    ...
    ValueError: max_memory=1000 bytes is below the ... bytes the smallest plan needs ...
    >>> conv2d(x, w[:, :2])
    Traceback (most recent call last):
    ...
    ValueError: w must have C/groups = 3 input channels (x has C=3, groups=1), got w.shape=(4, 2, 3, 3)
    """
    return _forward(x, w, b, stride=stride, padding=padding, dilation=dilation,
                    groups=groups, max_memory=max_memory, workers=workers)


def _forward(
    x: np.ndarray, w: np.ndarray, b: np.ndarray | None = None, *,
    stride: Any = 1, padding: Any = 0, dilation: Any = 1, groups: int = 1,
    max_memory: int | None = None, strategy: str | None = None,
    images: int | None = None, workers: int | None = None,
) -> np.ndarray:
    """:func:`conv2d` with a forced ``strategy`` and ``images`` per unit."""
    x, w = conv_inputs(x, w)
    layer = layer_of(x, w, stride=stride, padding=padding, dilation=dilation,
                   groups=groups)
    if b is not None:
        b = as_array(b, "b", 1)
        same_dtype(x=x, b=b)
        if b.shape != (layer.F,):
            raise ValueError(f"b must have shape ({layer.F},), got {b.shape}")
        layer = replace(layer, b=b)
    g = layer.g
    max_memory = budget(layer, x, max_memory, backward=False, workers=workers)
    if (empty := empty_forward(layer, b, x.dtype)) is not None:
        return empty
    p = plan(layer, x, max_memory, backward=False, strategy=strategy,
             images=images, workers=workers_of(workers))
    out = np.empty((g.N, layer.F, g.out[0] * g.out[1]), x.dtype)
    try:
        _run.forward(x, layer, p, out)
        return out.reshape(g.N, layer.F, *g.out)
    except NonFiniteError:  # an inf or NaN that Winograd's tiles would spread
        pass  # out of the handler, its traceback no longer holds their buffers
    p = plan(layer, x, max_memory, backward=False, workers=workers_of(workers),
             winograd=False)
    _run.forward(x, layer, p, out)
    return out.reshape(g.N, layer.F, *g.out)
