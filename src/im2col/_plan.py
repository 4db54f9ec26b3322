"""The planner: which strategy, how large a unit and how many workers.

Its cost model is :func:`extra_bytes`, the sum of the buffers each
strategy declares; the search is :func:`plan`. Its thresholds, with the
reason for each, are in :mod:`im2col._rules`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from . import _rules, _threads
from ._checks import as_int
from ._layer import Layer, Plan
from ._strategies import STRATEGIES


def extra_bytes(layer: Layer, plan: Plan, itemsize: int, *, backward: bool,
                dout_contiguous: bool = True) -> int:
    """Bytes of the buffers ``plan`` allocates (the output not included).

    Each worker allocates the buffers its strategy declares but the
    ``shared`` ones, made once; in the backward pass each worker but the
    first also has its own ``dw`` if the strategy's ``private_dw`` says so.
    """
    strategy = STRATEGIES[plan.strategy]
    declared = strategy.buffers(layer, plan.images, plan.rows, backward=backward,
                                dout_contiguous=dout_contiguous)
    one = sum(b.size for b in declared.values() if not b.shared) * itemsize
    common = sum(b.size for b in declared.values() if b.shared) * itemsize
    private = backward and strategy.private_dw
    dw = layer.F * layer.Cg * layer.g.taps * itemsize if private else 0
    return plan.workers * one + common + (plan.workers - 1) * dw + layer.w_copy


def plan(
    layer: Layer, x: np.ndarray, max_memory: Any, *, backward: bool,
    dout_contiguous: bool = True, strategy: str | None = None,
    images: int | None = None, workers: int = 1, winograd: bool = True,
) -> Plan:
    """Choose the strategy, unit size and workers of a call.

    The thresholds named below are those of :mod:`im2col._rules`. Without
    ``strategy``: ``matmul`` for a 1x1 kernel with stride 1, no
    padding and C-ordered ``x``; else ``winograd`` for a 3x3 stride-1 layer
    of at least :data:`WINOGRAD_CHANNELS` channels and filters per group and
    :data:`WINOGRAD_PIXELS` output pixels, if its plan of one image fits
    ``max_memory`` (backward: for at least :data:`WINOGRAD_BACKWARD_WORK`
    channels x filters (both per group) x output pixels, if it needs no more
    memory than the columns' plan, on the most images per unit that keep it
    so); else, for the backward pass of a stride-1 layer of at least
    :data:`FULL_PIXELS` output pixels, as many as its input, and no more
    filters than channels, ``full`` if its buffers take no more than those
    of the columns' plan below (not ``window_rows``'s) plus a copy of the
    filters; else the columns: ``im2col_t`` for images of fewer than
    :data:`SMALL_IMAGE` output pixels; for the forward pass of a kernel at
    least :data:`ROWS_KERNEL` high and taller than the stride, with at most
    :data:`ROWS_FILTERS` filters per group and dilation 1 along the height,
    when BLAS runs on one thread, ``rows``; for the backward pass of a
    stride-1 layer whose wide grid wastes at most :data:`WIDE_WASTE` of the
    columns, ``wide``; else ``im2col``, or in its place, for stride 1 along
    the height, more than one kernel row and products at least
    :data:`WINDOW_ROWS_DEPTH` deep (``C/groups*kw``), when BLAS runs on one
    thread, ``window_rows`` if its buffers take no more than im2col's; with
    as many images per unit as the strategy's ``target_bytes / workers`` of
    columns hold (at least one, and few enough
    to leave a unit for each of ``workers``). ``workers`` is cut to one per
    :data:`WORK_PER_WORKER` multiply-adds. Under ``max_memory``, fewer
    images per unit; when one image does not fit, ``shift`` (no column
    buffer) on one image, then bands of output rows of one image, as many
    rows as fit; when nothing fits ``workers`` sets of buffers, the same
    search with one worker. ``winograd=False`` leaves Winograd's tiles out
    (for data they would spread an inf or a NaN in).
    """
    if max_memory is not None:
        max_memory = as_int(max_memory, "max_memory", minimum=0)
    if strategy is not None and strategy not in STRATEGIES:
        raise ValueError(
            f"strategy must be one of {tuple(STRATEGIES)}, got {strategy!r}")
    if strategy is not None:
        reason = STRATEGIES[strategy].unfit(layer, x)
        if reason is not None:
            raise ValueError(f"strategy {strategy!r} needs {reason}")
    workers = max(1, min(workers, layer.g.N,
                         layer.work(backward=backward) // _rules.WORK_PER_WORKER))
    search = _Search(layer, x, max_memory, backward, dout_contiguous, winograd)
    if workers > 1:
        p = search.run(strategy, images, workers)
        if p is not None:
            return p
    p = search.run(strategy, images, 1)
    if p is None:  # pragma: no cover - run() raises instead with one worker
        raise AssertionError("no plan with one worker")
    return p


class _Search:
    """The plan search of one call, for a given number of workers."""

    def __init__(self, layer: Layer, x: np.ndarray, max_memory: int | None,
                 backward: bool, dout_contiguous: bool, winograd: bool = True) -> None:
        self.layer, self.x, self.max_memory = layer, x, max_memory
        self.backward, self.dout_contiguous = backward, dout_contiguous
        self.winograd = winograd

    def candidates(self, strategy: str | None, workers: int, budget: int | None
                   ) -> tuple[list[str], int | None]:
        """Return the preferred strategy first, then the fallback under a budget.

        With them the images per unit of the preferred one, if it is
        ``winograd`` in the backward pass (else None: its own share).
        Winograd's tiles come first only where one image of them fits
        ``budget``; after them, what would have been chosen without them.
        """
        if strategy is not None:
            return [strategy], None
        g, layer = self.layer.g, self.layer
        others = self.without_winograd(workers)

        def cost(k: int) -> int:
            return self.cost(self.make("winograd", k, g.out[0], workers))

        if (not self.winograd or STRATEGIES["winograd"].unfit(layer, self.x) is not None
                or min(layer.Cg, layer.Fg) < _rules.WINOGRAD_CHANNELS
                or g.out[0] * g.out[1] < _rules.WINOGRAD_PIXELS
                or (budget is not None and cost(1) > budget)):
            return others, None
        if not self.backward:
            return ["winograd", *others], None
        if layer.Cg * layer.Fg * g.out[0] * g.out[1] < _rules.WINOGRAD_BACKWARD_WORK:
            return others, None
        # the most images whose buffers take no more than the columns'
        bound = self.cost(self.first_plan(self.columns(workers), workers))
        if cost(1) > bound:
            return others, None
        top = self.first_plan("winograd", workers).images
        return ["winograd", *others], _largest(lambda k: cost(k) <= bound, top)

    def columns(self, workers: int) -> str:
        """Return the column strategy: ``im2col_t``, ``rows``, ``wide`` or ``im2col``.

        The memory bounds of ``winograd`` and ``full`` are this strategy's
        plan; ``window_rows`` may then take ``im2col``'s place
        (:meth:`window_rows`).
        """
        g = self.layer.g
        oh, ow = g.out
        if oh * ow < _rules.SMALL_IMAGE:
            return "im2col_t"
        if (not self.backward and g.kernel[0] >= _rules.ROWS_KERNEL
                and g.stride[0] < g.kernel[0] and self.layer.Fg <= _rules.ROWS_FILTERS
                and STRATEGIES["rows"].unfit(self.layer, self.x) is None
                and _threads.single_blas(workers)):
            return "rows"
        if (self.backward and STRATEGIES["wide"].unfit(self.layer, self.x) is None
                and g.padded[1] - ow <= _rules.WIDE_WASTE * ow):
            return "wide"
        return "im2col"

    def window_rows(self, workers: int) -> bool:
        """Whether ``window_rows`` takes the place of ``im2col`` (:data:`WINDOW_ROWS_DEPTH`)."""
        g = self.layer.g
        return (g.kernel[0] > 1
                and self.layer.Cg * g.kernel[1] >= _rules.WINDOW_ROWS_DEPTH
                and STRATEGIES["window_rows"].unfit(self.layer, self.x) is None
                and _threads.single_blas(workers)
                and self.cost(self.first_plan("window_rows", workers))
                <= self.cost(self.first_plan("im2col", workers)))

    def without_winograd(self, workers: int) -> list[str]:
        """Return the candidates where Winograd's tiles are not used.

        In the backward pass ``full`` comes first where the output is as
        large as the input and there are no more filters than channels (so
        ``dout``'s columns take no more memory, and their product no more
        multiply-adds, than ``x``'s) and its plan's buffers take no more
        than the columns' plan's plus the flipped filters.
        """
        layer, g = self.layer, self.layer.g
        columns = self.columns(workers)
        names = ["window_rows" if columns == "im2col" and self.window_rows(workers)
                 else columns, "shift"]
        if (self.backward and g.out[0] * g.out[1] >= _rules.FULL_PIXELS
                and STRATEGIES["full"].unfit(layer, self.x) is None
                and layer.F <= g.C and g.out[0] * g.out[1] >= g.H * g.W
                and self.cost(self.first_plan("full", workers)) <= self.cost(
                    self.first_plan(columns, workers)) + layer.w.nbytes):
            return ["full", *names]
        return names

    def make(self, name: str, n: int, rows: int, workers: int) -> Plan:
        """Return a plan of ``n`` images by ``rows``, with no more workers than shares of units."""
        return Plan(name, n, rows, min(workers, -(-self.layer.g.N // n)))

    def first_plan(self, name: str, workers: int, images: int | None = None) -> Plan:
        """``name``'s plan of whole images: ``images`` per unit, or its ``target_bytes``' worth."""
        layer, g = self.layer, self.layer.g
        if images is None:
            per_image, target = STRATEGIES[name].sizing(layer, backward=self.backward)
            share = target // workers  # shared by all
            images = min(share // max(per_image * self.x.itemsize, 1), -(-g.N // workers))
        return self.make(name, max(1, min(g.N, images)), g.out[0], workers)

    def cost(self, p: Plan) -> int:
        """Bytes of ``p``'s buffers."""
        return extra_bytes(self.layer, p, self.x.itemsize, backward=self.backward,
                           dout_contiguous=self.dout_contiguous)

    def run(self, strategy: str | None, images: int | None, workers: int
            ) -> Plan | None:
        """Return the plan for ``workers``; None if nothing fits, raise if one worker."""
        layer, g = self.layer, self.layer.g
        oh = g.out[0]
        # every worker makes its own ufunc buffers: one OVERHEAD each
        budget = (None if self.max_memory is None
                  else self.max_memory - workers * _rules.OVERHEAD)

        def make(name: str, n: int, rows: int) -> Plan:
            return self.make(name, n, rows, workers)

        def fits(p: Plan) -> bool:
            return budget is None or self.cost(p) <= budget

        if strategy in (None, "matmul") and STRATEGIES["matmul"].unfit(
                layer, self.x) is None:
            p = make("matmul", -(-g.N // workers), oh)
            if fits(p):
                return p
            strategy = None  # fall through to the budgeted search
        names, most = self.candidates(strategy, workers, budget)
        first = names[0]
        p = self.first_plan(first, workers, most if images is None else images)
        images = p.images
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
        need = min(self.cost(make(name, 1, 1)) for name in names) + _rules.OVERHEAD
        raise ValueError(
            f"max_memory={self.max_memory} bytes is below the {need} bytes the "
            "smallest plan needs (one output row of one image, plus "
            f"{_rules.OVERHEAD} bytes set aside for Python objects and small "
            "temporaries)"
        )


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
