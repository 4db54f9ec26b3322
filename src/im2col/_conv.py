"""conv2d forward and backward: im2col + GEMM, a few images at a time.

The full im2col matrix of cs231n's ``conv_forward_strides`` costs about
``kh*kw / stride**2`` times the input. Here the output is cut into units (a
few images, or a band of output rows of one image) whose buffers fit the
caches or a memory budget; each unit is padded, unfolded and multiplied
straight into its slice of the NCHW output. :mod:`im2col._strategies` holds
the loops; this module checks the arguments and picks the plan.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ._checks import as_array, as_int, same_dtype
from ._geometry import geometry
from ._limits import budget, conv_inputs, empty_backward, empty_forward
from ._strategies import (
    STRATEGIES,
    Layer,
    Plan,
    backward,
    extra_bytes,
    forward,
    matmul_ok,
    wide_ok,
)
from ._threads import cpus, default_workers

#: Bytes set aside from ``max_memory`` for what a call allocates besides its
#: planned buffers: NumPy's ufunc buffers (a strided ``+=`` buffers up to
#: 8192 elements per operand, 192 KiB for three float64 operands) and
#: Python objects.
OVERHEAD = 256 * 2**10

#: Default column bytes of the units in flight at once (one per worker) for
#: the per-image GEMM (``im2col``) and for the one-GEMM-per-unit orders
#: (``im2col_t``, ``wide``). Measured on a 2 MiB L2 machine: larger units
#: gained nothing, smaller ones made the GEMMs narrow (``wide``, float32 S1
#: backward: 1.13x the time with 4 images per unit instead of 11). With two
#: workers, units of half this size were as fast or faster (float32 forward,
#: S1 0.92x, S5 0.91x the time of full-size units, others within 4%).
TARGET_BYTES = {"im2col": 4 * 2**20, "im2col_t": 8 * 2**20, "shift": 4 * 2**20,
                "wide": 8 * 2**20}

#: Fewest multiply-adds (twice the forward's for the backward pass) that
#: make a worker thread worth its cost: handing a task to a pool thread and
#: waiting for it took 76-96 us on the 2-core benchmark machine. Time with 2
#: workers / time with 1 there, float32 forward (x; w; stride; padding):
#: (8,16,16,16); (16,16,3,3); 1; 1 (4.7M) 1.57; (100,3,31,31); (25,3,3,3);
#: 2; 1 (17.3M) 0.86; (4,3,32,32); (32,3,7,7); 1; 3 (19.3M) 1.15;
#: (16,16,32,32); (16,16,3,3); 1; 1 (37.7M) 0.66; (10,3,32,32); (32,3,7,7);
#: 1; 3 (48.2M) 0.74. Multiply-adds alone do not separate the 17M and 19M
#: cases; 8 Mi picks two workers for both.
WORK_PER_WORKER = 8 * 2**20

#: Below this many output pixels per image, ``im2col_t`` (one wide GEMM per
#: unit) beats one narrow GEMM per image.
SMALL_IMAGE = 256

#: The backward pass of a stride-1 layer uses ``wide`` instead of ``im2col``
#: when the wide grid adds at most this fraction of GEMM columns,
#: ``(Wp - ow) / ow``: its strided col2im becomes one contiguous add per
#: kernel tap. Measured on the 2-core benchmark machine (2 threads, two
#: interleaved runs of 7 and 9 rounds, ratio of medians to ``im2col``):
#: backward S3 (32,64,56,56)*(64,64,3,3) pad 1 (waste 2/56) 0.88x the time
#: in float32, 0.89x in float64; S1 (50,3,32,32)*(32,3,7,7) pad 3 (waste
#: 6/32) 0.84-0.85x / 0.91-0.92x (there ``im2col_t`` does as well). Peak
#: extra memory, float32: S3 7.9 -> 8.9 MiB, S1 3.7 -> 9.4 MiB (8 MiB of
#: columns, as ``im2col_t``). The forward pass keeps ``im2col``: the longer
#: copies save about what the extra columns cost (S1, S3 within 0.94-1.05x,
#: S4 1.1x slower than ``im2col_t``).
WIDE_WASTE = 0.25


def _layer(
    x: np.ndarray, w: np.ndarray, *, stride: Any, padding: Any, dilation: Any,
    groups: Any,
) -> Layer:
    x = as_array(x, "x", 4)
    w = as_array(w, "w", 4)
    same_dtype(x=x, w=w)
    groups = as_int(groups, "groups", minimum=1)
    C = x.shape[1]
    F, Cg, kh, kw = w.shape
    if C % groups:
        raise ValueError(f"groups={groups} must divide the {C} channels of x")
    if F % groups:
        raise ValueError(f"groups={groups} must divide the {F} filters of w")
    if Cg * groups != C:
        raise ValueError(
            f"w must have C/groups = {C // groups} input channels (x has C={C}, "
            f"groups={groups}), got w.shape={w.shape}"
        )
    g = geometry(x.shape, (kh, kw), stride=stride, padding=padding,
                 dilation=dilation, kernel_name="w.shape[2:]")
    if w.flags.c_contiguous:
        return Layer(g, groups, F, w)
    return Layer(g, groups, F, np.ascontiguousarray(w), w_copy=w.nbytes)


def plan(
    layer: Layer, x: np.ndarray, max_memory: Any, *, backward: bool,
    dout_contiguous: bool = True, strategy: str | None = None,
    images: int | None = None, workers: int = 1,
) -> Plan:
    """Choose the strategy, unit size and workers of a call.

    Without ``strategy``: ``matmul`` for a 1x1 kernel with stride 1, no
    padding and C-ordered ``x``; else ``im2col_t`` for images of fewer than
    :data:`SMALL_IMAGE` output pixels; for the backward pass of a stride-1
    layer whose wide grid wastes at most :data:`WIDE_WASTE` of the columns,
    ``wide``; else ``im2col``; with as many images per unit as
    ``TARGET_BYTES / workers`` of columns hold (at least one, and few
    enough to leave a unit for each of ``workers``). ``workers`` is cut to
    one per :data:`WORK_PER_WORKER` multiply-adds.
    Under ``max_memory``, fewer images per unit; when one image does not
    fit, ``shift`` (no column buffer) on one image, then bands of output
    rows of one image, as many rows as fit; when nothing fits ``workers``
    sets of buffers, the same search with one worker.
    """
    if max_memory is not None:
        max_memory = as_int(max_memory, "max_memory", minimum=0)
    if strategy is not None and strategy not in STRATEGIES:
        raise ValueError(f"strategy must be one of {STRATEGIES}, got {strategy!r}")
    g = layer.g
    work = g.N * layer.F * layer.Cg * g.taps * g.out[0] * g.out[1]
    work *= 2 if backward else 1
    workers = max(1, min(workers, g.N, work // WORK_PER_WORKER))
    if workers > 1:
        p = _plan(layer, x, max_memory, backward=backward,
                  dout_contiguous=dout_contiguous, strategy=strategy,
                  images=images, workers=workers)
        if p is not None:
            return p
    p = _plan(layer, x, max_memory, backward=backward,
              dout_contiguous=dout_contiguous, strategy=strategy,
              images=images, workers=1)
    if p is None:  # pragma: no cover - _plan raises instead with one worker
        raise AssertionError("no plan with one worker")
    return p


def _plan(
    layer: Layer, x: np.ndarray, max_memory: int | None, *, backward: bool,
    dout_contiguous: bool, strategy: str | None, images: int | None,
    workers: int,
) -> Plan | None:
    """:func:`plan` for ``workers``; None if nothing fits, raise if one worker."""
    g, item = layer.g, x.itemsize
    oh, ow = g.out
    wp = g.padded[1]
    # every worker makes its own ufunc buffers: one OVERHEAD each
    budget = None if max_memory is None else max_memory - workers * OVERHEAD

    def make(name: str, n: int, rows: int) -> Plan:
        # no more workers than there are shares of whole units
        return Plan(name, n, rows, min(workers, -(-g.N // n)))

    def cost(p: Plan) -> int:
        return extra_bytes(layer, p, item, backward=backward,
                           dout_contiguous=dout_contiguous)

    def fits(p: Plan) -> bool:
        return budget is None or cost(p) <= budget

    if strategy == "matmul" or (strategy is None and matmul_ok(layer, x)):
        if not matmul_ok(layer, x):
            raise ValueError(
                "strategy 'matmul' needs a 1x1 kernel, stride 1, no padding "
                "and a C-ordered x"
            )
        p = make("matmul", -(-g.N // workers), oh)
        if fits(p):
            return p
        strategy = None  # fall through to the budgeted search
    if strategy == "wide" and not wide_ok(layer):
        raise ValueError("strategy 'wide' needs stride 1")
    if strategy is not None:
        names = [strategy]
    elif oh * ow < SMALL_IMAGE:
        names = ["im2col_t", "shift"]
    elif backward and wide_ok(layer) and wp - ow <= WIDE_WASTE * ow:
        names = ["wide", "shift"]
    else:
        names = ["im2col", "shift"]
    first = names[0]
    if images is None:
        per_image = layer.K * oh * (wp if first == "wide" else ow) * item
        share = TARGET_BYTES[first] // workers  # the workers share the total
        images = min(share // max(per_image, 1), -(-g.N // workers))
    images = max(1, min(g.N, images))
    p = make(first, images, oh)
    if fits(p):
        return p
    # Under a budget: the most images of the preferred strategy, then one
    # whole image of any strategy, then the most rows of one image.
    for name in names:
        most = images if name == first else 1
        if fits(make(name, 1, oh)):
            return make(name, _largest(
                lambda k: fits(make(name, k, oh)), most), oh)  # noqa: B023
    for name in names:
        if fits(make(name, 1, 1)):
            return make(name, 1, _largest(
                lambda k: fits(make(name, 1, k)), oh))  # noqa: B023
    if workers > 1:
        return None
    need = min(cost(make(name, 1, 1)) for name in names) + OVERHEAD
    raise ValueError(
        f"max_memory={max_memory} bytes is below the {need} bytes the smallest "
        f"plan needs (one output row of one image, plus {OVERHEAD} bytes set "
        "aside for Python objects and small temporaries)"
    )


def _workers(workers: Any) -> int:
    """``workers`` checked, at most the CPUs; by default as many as BLAS may use."""
    if workers is None:
        return default_workers()
    return min(as_int(workers, "workers", minimum=1), cpus())


def _largest(fits: Callable[[int], bool], top: int) -> int:
    """Largest ``k`` in ``[1, top]`` with ``fits(k)``, given ``fits(1)``."""
    lo, hi = 1, top
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if fits(mid):
            lo = mid
        else:
            hi = mid - 1
    return lo


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
    no copy.

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
        buffers of all workers are planned to fit ``max_memory - workers *
        OVERHEAD`` (``im2col._conv.OVERHEAD``, 256 KiB per worker, covers
        NumPy's ufunc buffers and Python objects); a tight budget gets
        smaller units, then bands of output rows, then another strategy,
        and one worker only when nothing fits two. ``None`` (the default)
        sizes units to the caches. A ``ValueError`` gives the smallest
        budget that would work when even one output row of one image does
        not fit.
    workers : int, optional
        Most threads that unfold and multiply shares of the images at once
        (NumPy releases the GIL in both). ``None`` (the default): as many
        as NumPy's BLAS may use when the call starts (``threadpoolctl``'s
        ``threadpool_limits(1)`` or ``OPENBLAS_NUM_THREADS=1`` make it 1).
        Never more than the CPUs or the images, and one per
        ``im2col._conv.WORK_PER_WORKER`` multiply-adds: small calls run on
        the calling thread. ``1`` runs every call there and leaves BLAS
        alone. See Notes.

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
    While more than one worker runs, the BLAS libraries that
    :mod:`threadpoolctl` found at the first such call are limited to one
    thread for the whole process, and the limit is lifted when the last
    overlapping call ends: a matrix multiply made meanwhile by another
    thread runs on one core. Programs that manage BLAS threads themselves
    (or change them from another thread during a call) should pass
    ``workers=1``. Where threadpoolctl finds no BLAS (Apple's Accelerate,
    for one), the default is one worker.

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
    layer = _layer(x, w, stride=stride, padding=padding, dilation=dilation,
                   groups=groups)
    if b is not None:
        b = as_array(b, "b", 1)
        same_dtype(x=x, b=b)
        if b.shape != (layer.F,):
            raise ValueError(f"b must have shape ({layer.F},), got {b.shape}")
    g = layer.g
    max_memory = budget(layer, x, max_memory, backward=False, workers=workers)
    if (empty := empty_forward(layer, b, x.dtype)) is not None:
        return empty
    p = plan(layer, x, max_memory, backward=False, strategy=strategy,
             images=images, workers=_workers(workers))
    out = np.empty((g.N, layer.F, g.out[0] * g.out[1]), x.dtype)
    forward(x, layer, b, p, out)
    return out.reshape(g.N, layer.F, *g.out)


def conv2d_backward(
    dout: np.ndarray, x: np.ndarray, w: np.ndarray, *, stride: Any = 1,
    padding: Any = 0, dilation: Any = 1, groups: int = 1,
    max_memory: int | None = None, workers: int | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of :func:`conv2d` with respect to ``x``, ``w`` and ``b``.

    ``dw`` is ``dout @ columns.T`` and ``dx`` is ``col2im(w.T @ dout)``,
    unit by unit (as in :func:`conv2d`); the columns are recomputed from
    ``x`` rather than kept from the forward pass, the column gradient is
    written over them, and the col2im sum is one strided ``+=`` per kernel
    tap.

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
        As for :func:`conv2d`; each worker but the first sums its share of
        ``dw`` apart, so ``dw`` may differ in the last bits with the number
        of workers.

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
    layer = _layer(x, w, stride=stride, padding=padding, dilation=dilation,
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
             images=images, workers=_workers(workers))
    dx = np.zeros(x.shape, x.dtype)
    dw = np.zeros((layer.groups, layer.Fg, layer.Cg * g.taps), x.dtype)
    backward(dout, x, layer, p, dx, dw)
    db = np.empty(layer.F, x.dtype)
    for f in range(layer.F):
        db[f] = dout[:, f].sum()
    return dx, dw.reshape(w.shape), db
