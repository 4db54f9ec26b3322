"""The planner: ``max_memory`` is honoured, too-small budgets fail clearly,
the cost of a plan is the bytes of the arrays it allocates, workers are
given only to calls large enough.

What ``max_memory=B`` bounds (see the conv2d docstring): the peak number of
bytes traced by tracemalloc during the call (``im2col.peak_memory``) minus
the bytes of the arrays the call returns (``out``; or ``dx, dw, db``).
These tests measure exactly that quantity. No timing here.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from im2col import conv2d, conv2d_backward, peak_memory
from im2col._layer import Plan, layer_of
from im2col._plan import extra_bytes, plan
from im2col._strategies import STRATEGIES
from tests import reference as ref
from tests.strategies import assert_each_close, conv_arrays, threads_for_tiny_calls

#: Bytes conv2d sets aside per worker for NumPy's ufunc buffers and Python
#: objects (the conv2d docstring's 256 KiB).
OVERHEAD = 256 * 2**10

# (x shape, w shape, options)
CASES: list[tuple[tuple[int, ...], tuple[int, ...], dict[str, Any]]] = [
    ((6, 3, 16, 16), (8, 3, 3, 3), {"padding": 1}),
    ((4, 4, 15, 13), (6, 2, 3, 2), {"stride": 2, "padding": (1, 2), "groups": 2}),
    ((3, 8, 12, 12), (5, 8, 1, 1), {}),
    ((3, 3, 20, 20), (4, 3, 5, 5), {"stride": 2, "padding": 2, "dilation": 2}),
    ((2, 16, 24, 24), (16, 16, 3, 3), {"padding": "same"}),
    ((3, 4, 14, 12), (6, 2, 3, 2), {"padding": (2, 1), "dilation": (2, 3),
                                    "groups": 2}),
]


def _layer(x: np.ndarray, w: np.ndarray, opts: dict[str, Any]) -> Any:
    return layer_of(x, w, stride=opts.get("stride", 1),
                    padding=opts.get("padding", 0),
                    dilation=opts.get("dilation", 1), groups=opts.get("groups", 1))


def elements(strategy: str, xs: tuple[int, ...], ws: tuple[int, ...],
             opts: dict[str, Any], n: int, rows: int, *, backward: bool,
             dout_contiguous: bool = True) -> int:
    """Elements of the arrays one worker must allocate, from first principles.

    ``padded`` is a band of ``n`` images, ``band`` padded rows of ``Wp``;
    ``pix`` the ``n*rows*ow`` output pixels of a unit; ``K = C*kh*kw``.
    """
    _, C, _, W = xs
    F, Cg, kh, kw = ws
    g = ref.Geometry(xs, (kh, kw), opts.get("stride", 1), opts.get("padding", 0),
                     opts.get("dilation", 1))
    (top, bottom), (left, right) = g.padding
    taps, K, Fg = kh * kw, C * kh * kw, F // (C // Cg)
    band = (rows - 1) * g.sh + (kh - 1) * g.dh + 1
    wp = W + left + right
    padded = n * C * band * wp if top + bottom + left + right else 0
    pix = n * rows * g.ow
    dw_product = F * Cg * taps if backward else 0    # every group's dout @ cols.T
    # im2col, full and matmul make the products of a few images at once
    batch = max(1, min(n, 2**14 // (F * Cg * taps)))
    dout_copy = F * pix if backward and not dout_contiguous else 0
    slots = batch + 1 if batch > 1 else 1             # and their sum
    if strategy == "matmul":                          # no copy of x at all
        return (slots * F * Cg if backward else 0) + dout_copy
    if strategy in ("im2col", "rows", "window_rows", "full"):
        dw_product *= slots
    if strategy == "rows" and not backward:     # kw windows of every band row
        return padded + n * C * band * kw * g.ow + F * Cg * taps  # filters reordered
    if strategy == "window_rows" and not backward:  # the same strip, a product
        return padded + n * C * band * kw * g.ow + F * Cg * taps + (F * pix if kh > 1 else 0)
    if strategy == "window_rows":  # the strip, its gradient's product, dw by kernel row
        return (padded + n * C * band * kw * g.ow + F * Cg * taps
                + (C * kw * pix if kh > 1 else 0) + F * Cg * taps + dw_product + dout_copy)
    if strategy in ("im2col", "rows", "window_rows") or (strategy == "full" and not (
            backward and rows == g.oh)):              # columns (n, K, rows*ow)
        return padded + K * pix + dw_product + dout_copy
    if strategy == "full":     # columns large enough for dout's, dout padded
        H = xs[2]
        dpad = F * (H + (kh - 1) * g.dh) * (W + (kw - 1) * g.dw)
        own_dpad = dpad if dpad > (padded // n if padded else 0) else 0
        return (padded + n * max(K * pix // n, F * taps * H * W) + n * own_dpad
                + dw_product + dout_copy + F * Cg * taps)   # filters flipped
    if strategy == "im2col_t":                        # columns and product
        return padded + K * pix + F * pix + dw_product
    if strategy == "shift":                           # filters per tap, one tap
        extra = padded + Fg * Cg + dout_copy if backward else F * pix
        return padded + F * Cg * taps + C * pix + extra
    if strategy == "winograd" and not backward:       # tiles of 2x2 outputs
        th, tw = -(-rows // 2), -(-g.ow // 2)
        aligned = n * C * (2 * th + 2) * (2 * tw + 2)  # padded always
        v = max(16 * C, 4 * F) * n * th * tw          # V, then A.T M A
        m = max(16 * F * n * th * tw, 10 * C * n * (th + 1) * (tw + 1))  # phases, then M
        return aligned + 16 * F * Cg + v + m
    if strategy == "winograd":    # V of x's tiles, then dx from dout padded by 2
        th, tw = -(-rows // 2), -(-g.ow // 2)
        th2, tw2 = -(-(rows + 2) // 2), -(-(g.ow + 2) // 2)
        aligned = n * C * (2 * th + 2) * (2 * tw + 2)
        dpad = n * F * (2 * th2 + 2) * (2 * tw2 + 2)
        v = max(16 * C * n * th * tw, 16 * F * n * th2 * tw2, 4 * C * n * th2 * tw2)
        m = max(10 * C * n * (th + 1) * (tw + 1), 16 * F * n * th * tw,
                16 * C * n * th2 * tw2, 10 * F * n * (th2 + 1) * (tw2 + 1))
        return aligned + dpad + 16 * F * Cg + v + m + (1 + 16) * F * Cg  # product, summed
    assert strategy == "wide"                         # padded always, wide grid
    return n * C * band * wp + (K + F) * n * rows * wp + dw_product


def shared(strategy: str, ws: tuple[int, ...], *, backward: bool,
           whole: bool = True) -> int:
    """Elements of the arrays all workers share (the filters laid out);
    ``whole`` if units are whole images."""
    F, Cg, kh, kw = ws
    if strategy in ("shift", "window_rows") or (strategy == "rows" and not backward):
        return F * Cg * kh * kw
    if strategy == "winograd":   # the filters, and in the backward pass the sums
        return 16 * F * Cg * (2 if backward else 1)
    if strategy == "full" and backward and whole:   # the filters flipped
        return F * Cg * kh * kw
    return 0


def smallest_need(xs: tuple[int, ...], ws: tuple[int, ...], opts: dict[str, Any],
                  x: np.ndarray, *, backward: bool) -> tuple[int, int]:
    """``(below, enough)``: a budget below ``below`` must fail (no strategy
    fits one output row of one image); one of ``enough`` must work (``shift``,
    the fallback of every search, fits one row)."""
    layer = _layer(x, conv_arrays(xs, ws).w, opts)
    applies = [s for s in STRATEGIES if STRATEGIES[s].unfit(layer, x) is None]
    rows = ref.Geometry(xs, ws[2:], opts.get("stride", 1), opts.get("padding", 0),
                        opts.get("dilation", 1)).oh
    least = min(elements(s, xs, ws, opts, 1, rows if s == "matmul" else 1,
                         backward=backward) for s in applies)
    shift = elements("shift", xs, ws, opts, 1, 1, backward=backward)
    return OVERHEAD + least * x.itemsize, OVERHEAD + shift * x.itemsize


def _extra(result: Any, peak: int) -> int:
    items = result if isinstance(result, tuple) else (result,)
    return peak - sum(a.nbytes for a in items)


@pytest.mark.parametrize(("xs", "ws", "opts"), CASES)
@pytest.mark.parametrize("strategy", list(STRATEGIES))
@pytest.mark.parametrize("backward", [False, True])
@pytest.mark.parametrize("layout", ["C", "F"])
def test_cost_is_the_bytes_of_the_arrays(xs: Any, ws: Any, opts: Any,
                                         strategy: str, backward: bool,
                                         layout: str) -> None:
    x, w, _, _ = conv_arrays(xs, ws)
    layer = _layer(x, w, opts)
    reason = STRATEGIES[strategy].unfit(layer, x)
    if reason is not None:
        pytest.skip(f"{strategy} needs {reason}")
    oh = layer.g.out[0]
    for n, rows in ((1, 1), (1, oh), (2, max(1, oh // 2)), (3, oh)):
        for workers in (1, 2):
            p = Plan(strategy, n, rows, workers)
            got = extra_bytes(layer, p, 8, backward=backward,
                              dout_contiguous=layout == "C")
            one = elements(strategy, xs, ws, opts, n, rows, backward=backward,
                           dout_contiguous=layout == "C")
            # each worker but the first sums dw apart, but winograd's workers
            # sum into one shared buffer
            private_dw = (workers - 1) * w.size if backward and strategy != "winograd" else 0
            common = shared(strategy, ws, backward=backward, whole=rows == oh)
            assert got == (workers * (one - common) + common + private_dw) * 8, (
                n, rows, workers)


@pytest.mark.parametrize(("xs", "ws", "opts"), CASES)
@pytest.mark.parametrize("budget", [10**9, 1_000_000, 400_000, 300_000])
@pytest.mark.parametrize("workers", [1, 2])
@pytest.mark.parametrize("backward", [False, True])
def test_calls_stay_within_budget(xs: Any, ws: Any, opts: Any, budget: int,
                                  workers: int, backward: bool) -> None:
    """Either the call fits ``max_memory`` and gives the unbudgeted result,
    or it fails naming the smallest plan, only where no strategy fits."""
    x, w, b, dout = conv_arrays(xs, ws, **opts)
    below, enough = smallest_need(xs, ws, opts, x, backward=backward)

    def call(**kw: Any) -> Any:
        if backward:
            return conv2d_backward(dout, x, w, **opts, **kw)
        return conv2d(x, w, b, **opts, **kw)

    with threads_for_tiny_calls():
        if budget < below:
            with pytest.raises(ValueError, match="smallest plan needs"):
                call(max_memory=budget, workers=workers)
            return
        try:
            got, peak = peak_memory(call, max_memory=budget, workers=workers)
        except ValueError:
            assert budget < enough
            return
    assert _extra(got, peak) <= budget
    want, tol = call(), 1e-11 if backward else 1e-12
    assert_each_close(got if backward else [got], want if backward else [want],
                      rtol=tol, atol=tol)


def test_budget_is_honoured_for_a_large_batch() -> None:
    """The budget bounds the extra memory, whatever N is (float32)."""
    x, w, b, _ = conv_arrays((128, 8, 32, 32), (16, 8, 3, 3), np.float32)
    budget = 600_000
    out, peak = peak_memory(conv2d, x, w, b, padding=1, max_memory=budget)
    assert _extra(out, peak) <= budget
    dout = np.ones_like(out)
    grads, peak = peak_memory(conv2d_backward, dout, x, w, padding=1,
                              max_memory=budget)
    assert _extra(grads, peak) <= budget
    # the default (no budget) uses far less than cs231n's full columns
    out, peak = peak_memory(conv2d, x, w, b, padding=1)
    columns = 8 * 9 * 128 * 32 * 32 * 4
    assert _extra(out, peak) < columns / 4


def test_smallest_budget_is_the_one_the_error_names() -> None:
    xs, ws, opts = (2, 4, 10, 10), (3, 4, 3, 3), {"padding": 1}
    x, w, b, _ = conv_arrays(xs, ws, **opts)
    with pytest.raises(ValueError, match="smallest plan needs") as info:
        conv2d(x, w, b, max_memory=1000, **opts)
    need = int(str(info.value).split("below the ")[1].split(" bytes")[0])
    # the candidates of this layer are im2col and shift, one row of one image
    assert need == OVERHEAD + 8 * min(
        elements(s, xs, ws, opts, 1, 1, backward=False) for s in ("im2col", "shift"))
    out, peak = peak_memory(conv2d, x, w, b, max_memory=need, **opts)
    assert _extra(out, peak) <= need
    with pytest.raises(ValueError, match=f"below the {need} bytes"):
        conv2d(x, w, b, max_memory=need - 1, **opts)


@pytest.mark.parametrize("budget", [-1, 1.5, "1MB"])
def test_bad_budgets_are_rejected(budget: Any) -> None:
    x, w, b, _ = conv_arrays((1, 1, 4, 4), (1, 1, 3, 3))
    with pytest.raises((TypeError, ValueError), match="max_memory"):
        conv2d(x, w, b, max_memory=budget)


@pytest.mark.parametrize("strategy", ["im2col", "im2col_t", "shift", "wide"])
def test_row_bands_agree_with_whole_images(strategy: str) -> None:
    """A budget below one image's buffers cuts the image into row bands."""
    xs, ws, opts = (2, 6, 30, 30), (4, 6, 3, 3), {"padding": 1}
    x, w, b, _ = conv_arrays(xs, ws, **opts)
    budget = 300_000 if strategy == "shift" else 400_000
    whole = OVERHEAD + 8 * elements(strategy, xs, ws, opts, 1, 30, backward=False)
    assert budget < whole  # one whole image does not fit
    p = plan(_layer(x, w, opts), x, budget, backward=False, strategy=strategy)
    assert p.images == 1
    assert p.rows < 30
    got = conv2d(x, w, b, max_memory=budget, **opts)
    np.testing.assert_allclose(got, conv2d(x, w, b, **opts), rtol=1e-12, atol=1e-12)
    dout = np.ones_like(got)
    assert_each_close(conv2d_backward(dout, x, w, max_memory=budget, **opts),
                      conv2d_backward(dout, x, w, **opts), rtol=1e-11, atol=1e-11)


def test_budget_counts_every_workers_buffers() -> None:
    """Under max_memory the buffers of every worker (and their private dw)
    fit; the smallest budget leaves one worker, a roomy one two."""
    xs, ws, opts = (8, 4, 16, 16), (6, 4, 3, 3), {"padding": 1}
    x, w, _, dout = conv_arrays(xs, ws, **opts)
    layer = _layer(x, w, opts)
    with threads_for_tiny_calls():
        for backward in (False, True):
            smallest = 8 * min(elements(s, xs, ws, opts, 1, 1, backward=backward)
                               for s in ("im2col", "shift", "wide"))
            p = plan(layer, x, OVERHEAD + smallest, backward=backward, workers=2)
            assert (p.workers, p.images, p.rows) == (1, 1, 1)
            for budget in range(smallest, 40 * smallest, smallest // 3):
                if backward:
                    got, peak = peak_memory(conv2d_backward, dout, x, w,
                                            max_memory=OVERHEAD + budget,
                                            workers=2, **opts)
                else:
                    got, peak = peak_memory(conv2d, x, w, max_memory=OVERHEAD + budget,
                                            workers=2, **opts)
                assert _extra(got, peak) <= OVERHEAD + budget
            assert plan(layer, x, 1 << 40, backward=backward, workers=2).workers == 2


def test_budget_holds_with_two_workers() -> None:
    """Each worker's ufunc buffers are set aside (one OVERHEAD each): a
    strided layer whose += buffers are large stays within max_memory."""
    x, w, _, _ = conv_arrays((8, 16, 64, 64), (16, 16, 3, 3), stride=2, padding=1)
    dout = np.ones((8, 16, 32, 32))
    budget = 1_000_000
    for _ in range(5):
        grads, peak = peak_memory(conv2d_backward, dout, x, w, stride=2,
                                  padding=1, max_memory=budget, workers=2)
        assert peak - sum(g.nbytes for g in grads) <= budget
        out, peak = peak_memory(conv2d, x, w, stride=2, padding=1,
                                max_memory=budget, workers=2)
        assert peak - out.nbytes <= budget


def test_small_calls_stay_on_one_thread() -> None:
    """A worker needs 8 Mi multiply-adds (the backward counts twice the
    forward's): smaller calls run on the calling thread."""
    x = np.zeros((10, 3, 32, 32), np.float32)
    w = np.zeros((32, 3, 7, 7), np.float32)  # 4.8M multiply-adds per image
    for n, fwd, bwd in ((1, 1, 1), (2, 1, 2), (4, 2, 4), (10, 2, 2)):
        layer = layer_of(x[:n], w, stride=1, padding=3, dilation=1, groups=1)
        got = [plan(layer, x[:n], None, backward=back,
                    workers=2 if n == 10 else 4).workers
               for back in (False, True)]
        assert got == [fwd, bwd], n


# ------------------------------------------------------ Winograd's memory rule

#: Deep 3x3 layers of small images: S4, and twice its channels.
DEEP = [((32, 256, 14, 14), (256, 256, 3, 3)), ((16, 512, 14, 14), (512, 512, 3, 3))]


def _without_winograd(layer: Any, x: np.ndarray, max_memory: Any, *,
                      backward: bool, workers: int) -> Plan:
    from unittest import mock

    from im2col import _rules
    with mock.patch.object(_rules, "WINOGRAD_CHANNELS", 2**62):
        return plan(layer, x, max_memory, backward=backward, workers=workers)


@pytest.mark.parametrize(("xs", "ws"), DEEP)
@pytest.mark.parametrize("workers", [1, 2])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_winograd_backward_needs_no_more_memory_than_the_plan_it_replaces(
        xs: Any, ws: Any, workers: int, dtype: Any) -> None:
    """Winograd's tiles in the backward pass only where their buffers fit in
    those of the columns' plan (``im2col_t`` on these small images), on the
    most images that do; else the plan chosen without them."""
    x, w = np.zeros(xs, dtype), np.zeros(ws, dtype)
    layer = layer_of(x, w, stride=1, padding=1, dilation=1, groups=1)
    got = plan(layer, x, None, backward=True, workers=workers)
    alt = _without_winograd(layer, x, None, backward=True, workers=workers)

    def cost(images: int) -> int:
        p = Plan("winograd", images, got.rows, min(workers, -(-xs[0] // images)))
        return extra_bytes(layer, p, x.itemsize, backward=True)

    columns = plan(layer, x, None, backward=True, workers=workers, strategy="im2col_t")
    bound = extra_bytes(layer, columns, x.itemsize, backward=True)
    if got.strategy == "winograd":
        assert cost(got.images) <= bound
        assert got.images == xs[0] or cost(got.images + 1) > bound
    else:
        assert got == alt
        assert cost(1) > bound
    if xs[1] == 256 and dtype == np.float32:  # S4: the tiles fit
        assert got.strategy == "winograd"
    if xs[1] == 512:  # the filters' arrays outweigh the columns
        assert got.strategy != "winograd"


@pytest.mark.parametrize("backward", [False, True])
def test_a_budget_below_one_image_of_winograd_plans_as_without_it(backward: bool) -> None:
    """Under a ``max_memory`` too small for one image of Winograd's tiles,
    the plan is the one made without them, not their fallback on one image."""
    x, w = np.zeros(DEEP[0][0], np.float32), np.zeros(DEEP[0][1], np.float32)
    layer = layer_of(x, w, stride=1, padding=1, dilation=1, groups=1)
    one = extra_bytes(layer, Plan("winograd", 1, 14, 1), 4, backward=backward)
    max_memory = one + OVERHEAD - 1
    got = plan(layer, x, max_memory, backward=backward, workers=1)
    assert got.strategy != "winograd"
    assert got == _without_winograd(layer, x, max_memory, backward=backward, workers=1)
    assert got.images > 1  # the columns' own search, not one image of a fallback


@pytest.mark.parametrize("workers", [1, 2])
def test_a_bias_added_by_the_gemm_is_counted(workers: int) -> None:
    """With a bias, ``im2col``'s columns have a row of ones per image and the
    filters a column for the bias, made once: both are in the cost."""
    from dataclasses import replace

    x, w, b, _ = conv_arrays((4, 3, 10, 10), (5, 3, 3, 3), padding=1)
    layer = _layer(x, w, {"padding": 1})
    p = Plan("im2col", 2, 10, workers)
    plain = extra_bytes(layer, p, x.itemsize, backward=False)
    biased = extra_bytes(replace(layer, b=b), p, x.itemsize, backward=False)
    pixels = 2 * 10 * 10
    assert biased - plain == (workers * pixels + 5 * (27 + 1)) * x.itemsize
    # the backward pass has no bias to add
    assert extra_bytes(replace(layer, b=b), p, x.itemsize, backward=True) == extra_bytes(
        layer, p, x.itemsize, backward=True)


@pytest.mark.parametrize(("size", "channels", "backward_winograd"), [
    (28, 64, False), (14, 128, False), (32, 64, True), (56, 64, True), (14, 256, True)])
def test_winograd_backward_needs_enough_work_per_image(size: int, channels: int,
                                                       backward_winograd: bool) -> None:
    """Both passes use Winograd's tiles from 64 channels and 14x14 outputs,
    the backward pass only from 64 x 64 x 32 x 32 channels x filters x pixels."""
    x = np.zeros((32, channels, size, size), np.float32)
    w = np.zeros((channels, channels, 3, 3), np.float32)
    layer = layer_of(x, w, stride=1, padding=1, dilation=1, groups=1)
    assert plan(layer, x, None, backward=False, workers=2).strategy == "winograd"
    got = plan(layer, x, None, backward=True, workers=2).strategy
    assert (got == "winograd") == backward_winograd, got


@pytest.mark.parametrize(("channels", "groups", "size", "forward", "backward"), [
    (128, 4, 28, False, False), (128, 2, 28, True, False), (128, 2, 56, True, True),
    (256, 2, 28, True, False), (512, 4, 14, True, False)])
def test_winograd_counts_the_channels_and_filters_of_one_group(
        channels: int, groups: int, size: int, forward: bool, backward: bool) -> None:
    """A grouped layer's 16 products are per group, its transforms over all
    channels: the rule reads channels and filters per group (4 groups of
    32 are too few), the same as a layer of one group that size. (256
    channels in 2 groups at 28x28 have the work, but their tiles take more
    memory than ``full``'s columns.)"""
    x = np.zeros((32, channels, size, size), np.float32)
    w = np.zeros((channels, channels // groups, 3, 3), np.float32)
    layer = layer_of(x, w, stride=1, padding=1, dilation=1, groups=groups)
    got = [plan(layer, x, None, backward=b, workers=2).strategy == "winograd"
           for b in (False, True)]
    assert got == [forward, backward]


def test_a_tighter_budget_cuts_images_then_columns_then_rows_then_workers() -> None:
    """As ``conv2d``'s docstring says: under a shrinking ``max_memory`` the
    plan takes fewer images per unit, then one whole image of a strategy
    with smaller buffers, last one with no column buffer (``shift``), then
    bands of output rows of one image, and one worker only when nothing
    fits a set of buffers per worker."""
    layers = (((16, 8, 16, 16), (8, 8, 3, 3), False, "im2col"),
              ((4, 16, 64, 64), (8, 16, 5, 5), False, "im2col"),
              ((4, 64, 28, 28), (64, 64, 3, 3), False, "winograd"),
              ((4, 64, 28, 28), (64, 64, 3, 3), True, "full"))
    for xs, ws, backward, first in layers:
        x, w = np.zeros(xs, np.float32), np.zeros(ws, np.float32)
        layer = layer_of(x, w, stride=1, padding=ws[-1] // 2, dilation=1, groups=1)
        seen = [plan(layer, x, None, backward=backward, workers=2)]
        assert seen[0].strategy == first
        for budget in np.geomspace(40 * 2**20, OVERHEAD, 300).astype(int):
            try:
                p = plan(layer, x, int(budget), backward=backward, workers=2)
            except ValueError:
                break
            if p != seen[-1]:
                seen.append(p)
        whole = [p for p in seen if p.rows == layer.g.out[0]]
        assert seen[: len(whole)] == whole  # whole images first, bands after
        assert [p.images for p in whole] == sorted((p.images for p in whole), reverse=True)
        assert whole[-1].strategy == "shift"
        assert all(p.strategy != "shift" for p in whole[:-1])
        two = [p.workers for p in seen]
        assert two == sorted(two, reverse=True)
        assert two[-1] == 1
        assert len(seen) > len(whole) + 2  # some bands
