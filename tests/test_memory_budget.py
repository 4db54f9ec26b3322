"""``max_memory`` is honoured, too-small budgets fail clearly, and every
internal strategy of conv2d / conv2d_backward agrees with the default.

What ``max_memory=B`` bounds (see the conv2d docstring): the peak number of
bytes traced by tracemalloc during the call (``im2col.peak_memory``) minus
the bytes of the arrays the call returns (``out``; or ``dx, dw, db``).
These tests measure exactly that quantity. No timing here.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from im2col import _conv, conv2d, conv2d_backward, peak_memory
from im2col._strategies import STRATEGIES, Plan, extra_bytes, matmul_ok, wide_ok
from tests import reference as ref

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


def _arrays(xs: tuple[int, ...], ws: tuple[int, ...], dtype: Any = np.float64
            ) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(sum(xs) + sum(ws))
    x = rng.standard_normal(xs).astype(dtype)
    w = rng.standard_normal(ws).astype(dtype)
    b = rng.standard_normal(ws[0]).astype(dtype)
    return x, w, b


def _layer(x: np.ndarray, w: np.ndarray, opts: dict[str, Any]) -> Any:
    return _conv._layer(x, w, stride=opts.get("stride", 1),
                        padding=opts.get("padding", 0),
                        dilation=opts.get("dilation", 1),
                        groups=opts.get("groups", 1))


def _fits(x: np.ndarray, w: np.ndarray, opts: dict[str, Any], budget: int,
          *, backward: bool) -> bool:
    try:
        _conv.plan(_layer(x, w, opts), x, budget, backward=backward)
    except ValueError:
        return False
    return True


def _extra(result: Any, peak: int) -> int:
    items = result if isinstance(result, tuple) else (result,)
    return peak - sum(a.nbytes for a in items)


@pytest.mark.parametrize(("xs", "ws", "opts"), CASES)
@pytest.mark.parametrize("budget", [10**9, 1_000_000, 400_000, 300_000])
def test_forward_stays_within_budget(xs: Any, ws: Any, opts: Any, budget: int) -> None:
    x, w, b = _arrays(xs, ws)
    if not _fits(x, w, opts, budget, backward=False):
        with pytest.raises(ValueError, match="smallest plan needs"):
            conv2d(x, w, b, max_memory=budget, **opts)
        return
    out, peak = peak_memory(conv2d, x, w, b, max_memory=budget, **opts)
    assert _extra(out, peak) <= budget
    np.testing.assert_allclose(out, conv2d(x, w, b, **opts), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(("xs", "ws", "opts"), CASES)
@pytest.mark.parametrize("budget", [10**9, 1_000_000, 400_000, 300_000])
def test_backward_stays_within_budget(xs: Any, ws: Any, opts: Any, budget: int) -> None:
    x, w, _ = _arrays(xs, ws)
    dout = np.random.default_rng(1).standard_normal(conv2d(x, w, **opts).shape)
    if not _fits(x, w, opts, budget, backward=True):
        with pytest.raises(ValueError, match="smallest plan needs"):
            conv2d_backward(dout, x, w, max_memory=budget, **opts)
        return
    grads, peak = peak_memory(conv2d_backward, dout, x, w, max_memory=budget,
                              **opts)
    assert _extra(grads, peak) <= budget
    for got, want in zip(grads, conv2d_backward(dout, x, w, **opts)):
        np.testing.assert_allclose(got, want, rtol=1e-11, atol=1e-11)


def test_budget_is_honoured_for_a_large_batch() -> None:
    """The budget bounds the extra memory, whatever N is (float32)."""
    x, w, b = _arrays((128, 8, 32, 32), (16, 8, 3, 3), np.float32)
    budget = 600_000
    out, peak = peak_memory(conv2d, x, w, b, padding=1, max_memory=budget)
    assert _extra(out, peak) <= budget
    dout = np.ones_like(out)
    grads, peak = peak_memory(conv2d_backward, dout, x, w, padding=1,
                              max_memory=budget)
    assert _extra(grads, peak) <= budget
    # the default (no budget) uses far less than the seed's full columns
    out, peak = peak_memory(conv2d, x, w, b, padding=1)
    columns = 8 * 9 * 128 * 32 * 32 * 4
    assert _extra(out, peak) < columns / 4


def test_smallest_budget_is_the_one_the_error_names() -> None:
    x, w, b = _arrays((2, 4, 10, 10), (3, 4, 3, 3))
    with pytest.raises(ValueError, match="smallest plan needs") as info:
        conv2d(x, w, b, padding=1, max_memory=1000)
    need = int(str(info.value).split("below the ")[1].split(" bytes")[0])
    out, peak = peak_memory(conv2d, x, w, b, padding=1, max_memory=need)
    assert _extra(out, peak) <= need
    with pytest.raises(ValueError, match=f"below the {need} bytes"):
        conv2d(x, w, b, padding=1, max_memory=need - 1)


@pytest.mark.parametrize("budget", [-1, 1.5, "1MB"])
def test_bad_budgets_are_rejected(budget: Any) -> None:
    x, w, b = _arrays((1, 1, 4, 4), (1, 1, 3, 3))
    with pytest.raises((TypeError, ValueError), match="max_memory"):
        conv2d(x, w, b, max_memory=budget)


@pytest.mark.parametrize(("xs", "ws", "opts"), CASES)
@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize("images", [None, 1, 2])
@pytest.mark.parametrize("layout", ["C", "F"])
def test_every_strategy_agrees_with_the_default(
    xs: Any, ws: Any, opts: Any, strategy: str, images: Any, layout: str
) -> None:
    x, w, b = _arrays(xs, ws)
    if layout == "F":
        x = np.asfortranarray(x)
    want = conv2d(x, w, b, **opts)
    dout = np.random.default_rng(2).standard_normal(want.shape)
    if layout == "F":
        dout = np.asfortranarray(dout)
    want_grads = conv2d_backward(dout, x, w, **opts)
    if strategy == "matmul" and not matmul_ok(_layer(x, w, opts), x):
        with pytest.raises(ValueError, match="needs a 1x1 kernel"):
            _conv._forward(x, w, b, strategy=strategy, **opts)
        return
    if strategy == "wide" and not wide_ok(_layer(x, w, opts)):
        with pytest.raises(ValueError, match="needs stride 1"):
            _conv._forward(x, w, b, strategy=strategy, **opts)
        with pytest.raises(ValueError, match="needs stride 1"):
            _conv._backward(dout, x, w, strategy=strategy, **opts)
        return
    got = _conv._forward(x, w, b, strategy=strategy, images=images, **opts)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    grads = _conv._backward(dout, x, w, strategy=strategy, images=images, **opts)
    for g, e in zip(grads, want_grads):
        np.testing.assert_allclose(g, e, rtol=1e-11, atol=1e-11)


@pytest.mark.parametrize("strategy", ["im2col", "im2col_t", "shift", "wide"])
def test_row_bands_agree_with_whole_images(strategy: str) -> None:
    """A budget below one image's buffers cuts the image into row bands."""
    x, w, b = _arrays((2, 6, 30, 30), (4, 6, 3, 3))
    layer = _conv._layer(x, w, stride=1, padding=1, dilation=1, groups=1)
    budget = 300_000 if strategy == "shift" else 400_000
    plan = _conv.plan(layer, x, budget, backward=False, strategy=strategy)
    assert plan.images == 1
    assert plan.rows < 30
    got = _conv._forward(x, w, b, padding=1, strategy=strategy, max_memory=budget)
    np.testing.assert_allclose(got, conv2d(x, w, b, padding=1), rtol=1e-12)
    dout = np.ones_like(got)
    grads = _conv._backward(dout, x, w, padding=1, strategy=strategy,
                            max_memory=budget)
    for g, e in zip(grads, conv2d_backward(dout, x, w, padding=1)):
        np.testing.assert_allclose(g, e, rtol=1e-11, atol=1e-11)


@pytest.mark.parametrize(("xs", "ws", "opts"),
                         [c for c in CASES if c[2].get("stride", 1) == 1])
@pytest.mark.parametrize("images", [None, 2])
def test_wide_matches_loops(xs: Any, ws: Any, opts: Any, images: Any) -> None:
    """``wide`` is the default backward of several cases above, so the
    every-strategy test compares it with itself there: check it against the
    plain-loop reference, whole images and row bands."""
    x, w, b = _arrays(xs, ws)
    dout = np.random.default_rng(3).standard_normal(conv2d(x, w, **opts).shape)
    want = ref.conv2d(x, w, b, **opts)
    want_grads = ref.conv2d_backward(dout, x, w, **opts)
    layer = _layer(x, w, opts)
    rows = max(1, layer.g.out[0] // 3)  # a budget that cuts bands of rows
    band = _conv.OVERHEAD + extra_bytes(layer, Plan("wide", 1, rows), x.itemsize,
                                        backward=True)
    for budget in (None, band):
        got = _conv._forward(x, w, b, strategy="wide", images=images,
                             max_memory=budget, **opts)
        np.testing.assert_allclose(got, want, rtol=1e-11, atol=1e-11)
        grads = _conv._backward(dout, x, w, strategy="wide", images=images,
                                max_memory=budget, **opts)
        for g, e in zip(grads, want_grads):
            np.testing.assert_allclose(g, e, rtol=1e-10, atol=1e-10)
    assert _conv.plan(layer, x, band, backward=True, strategy="wide").rows == rows
