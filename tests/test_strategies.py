"""The strategies of conv2d: each agrees with the default and the loops,
and a worker allocates exactly the buffers its strategy declares."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from im2col import _conv, _conv_backward, _run, conv2d, conv2d_backward, peak_memory
from im2col._layer import Plan, layer_of
from im2col._plan import extra_bytes, plan
from im2col._rules import OVERHEAD
from im2col._strategies import STRATEGIES, _base
from tests import reference as ref
from tests.strategies import assert_each_close, conv_arrays
from tests.test_plan import CASES


def _layer(x: np.ndarray, w: np.ndarray, opts: dict[str, Any]) -> Any:
    return layer_of(x, w, stride=opts.get("stride", 1),
                          padding=opts.get("padding", 0),
                          dilation=opts.get("dilation", 1),
                          groups=opts.get("groups", 1))


@pytest.mark.parametrize(("xs", "ws", "opts"), CASES)
@pytest.mark.parametrize("strategy", list(STRATEGIES))
@pytest.mark.parametrize("backward", [False, True])
def test_a_worker_allocates_what_its_strategy_declares(
    xs: Any, ws: Any, opts: Any, strategy: str, backward: bool
) -> None:
    x, w, _, _ = conv_arrays(xs, ws, **opts)
    layer = _layer(x, w, opts)
    if STRATEGIES[strategy].unfit(layer, x) is not None:
        pytest.skip(f"{strategy} does not apply")
    p = Plan(strategy, 2, max(1, layer.g.out[0] // 2))
    declared = extra_bytes(layer, p, x.itemsize, backward=backward)
    bufs, peak = peak_memory(_run.worker_buffers, layer, p, x, backward=backward)
    assert sum(a.nbytes for a in bufs.values()) == declared
    assert declared <= peak <= declared + 4096  # and a few Python objects


@pytest.mark.parametrize(("xs", "ws", "opts"), CASES)
@pytest.mark.parametrize("strategy", list(STRATEGIES))
@pytest.mark.parametrize("images", [None, 1, 2])
@pytest.mark.parametrize("layout", ["C", "F"])
def test_every_strategy_agrees_with_the_default(
    xs: Any, ws: Any, opts: Any, strategy: str, images: Any, layout: str
) -> None:
    x, w, b, dout = conv_arrays(xs, ws, **opts)
    if layout == "F":
        x, dout = np.asfortranarray(x), np.asfortranarray(dout)
    want = conv2d(x, w, b, **opts)
    want_grads = conv2d_backward(dout, x, w, **opts)
    reason = STRATEGIES[strategy].unfit(_layer(x, w, opts), x)
    if reason is not None:
        with pytest.raises(ValueError, match=f"strategy '{strategy}' needs"):
            _conv._forward(x, w, b, strategy=strategy, **opts)
        with pytest.raises(ValueError, match=f"strategy '{strategy}' needs"):
            _conv_backward._backward(dout, x, w, strategy=strategy, **opts)
        return
    got = _conv._forward(x, w, b, strategy=strategy, images=images, **opts)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    grads = _conv_backward._backward(dout, x, w, strategy=strategy, images=images, **opts)
    assert_each_close(grads, want_grads, rtol=1e-11, atol=1e-11)


def test_unfit_strategies_are_named() -> None:
    x, w, b, _ = conv_arrays((2, 3, 8, 8), (4, 3, 3, 3), stride=2)
    with pytest.raises(ValueError, match="strategy 'matmul' needs a 1x1 kernel, "
                       "stride 1, no padding and a C-ordered x"):
        _conv._forward(x, w, b, strategy="matmul", stride=2)
    with pytest.raises(ValueError, match="strategy 'wide' needs stride 1"):
        _conv._forward(x, w, b, strategy="wide", stride=2)
    with pytest.raises(ValueError, match="strategy 'winograd' needs a 3x3 kernel "
                       "with stride 1 and dilation 1"):
        _conv._forward(x, w, b, strategy="winograd", stride=2)
    with pytest.raises(ValueError, match="strategy must be one of"):
        _conv._forward(x, w, b, strategy="fft")


@pytest.mark.parametrize(("xs", "ws", "opts"),
                         [c for c in CASES if c[2].get("stride", 1) == 1])
@pytest.mark.parametrize("images", [None, 2])
def test_wide_matches_loops(xs: Any, ws: Any, opts: Any, images: Any) -> None:
    """``wide`` is the default backward of several cases above, so the
    every-strategy test compares it with itself there: check it against the
    plain-loop reference, whole images and row bands."""
    x, w, b, dout = conv_arrays(xs, ws, **opts)
    want = ref.conv2d(x, w, b, **opts)
    want_grads = ref.conv2d_backward(dout, x, w, **opts)
    layer = _layer(x, w, opts)
    rows = max(1, layer.g.out[0] // 3)  # a budget that cuts bands of rows
    band = OVERHEAD + extra_bytes(layer, Plan("wide", 1, rows), x.itemsize,
                                  backward=True)
    for budget in (None, band):
        got = _conv._forward(x, w, b, strategy="wide", images=images,
                             max_memory=budget, **opts)
        np.testing.assert_allclose(got, want, rtol=1e-11, atol=1e-11)
        grads = _conv_backward._backward(dout, x, w, strategy="wide", images=images,
                                max_memory=budget, **opts)
        assert_each_close(grads, want_grads, rtol=1e-10, atol=1e-10)
    assert plan(layer, x, band, backward=True, strategy="wide").rows == rows


@pytest.mark.parametrize(("xs", "ws", "opts"), CASES)
@pytest.mark.parametrize("strategy", list(STRATEGIES))
def test_gemms_cut_into_pixel_blocks_agree_with_loops(
    xs: Any, ws: Any, opts: Any, strategy: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every GEMM cut into blocks of 3 pixels (the last one shorter)."""
    monkeypatch.setattr(_base, "PIXEL_BLOCK", 3)
    monkeypatch.setattr(_base, "BLOCKED_DEPTH", 1)
    monkeypatch.setattr(_base, "BLOCKED_PIXELS", 1)
    x, w, b, _ = conv_arrays(xs, ws, **opts)
    if STRATEGIES[strategy].unfit(_layer(x, w, opts), x) is not None:
        return
    got = _conv._forward(x, w, b, strategy=strategy, images=2, **opts)
    want = ref.conv2d(x, w, b, **opts)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
