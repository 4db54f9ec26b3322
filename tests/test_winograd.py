"""The ``winograd`` strategy (F(2x2, 3x3)), forward and backward, against the loop reference.

Odd and even output sizes (a last tile half outside), row bands under a
``max_memory``, units that do not divide the batch, several workers, every
layout; and its float32 error against ``im2col``'s on a ResNet-like layer.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from im2col import _conv, _conv_backward, conv2d, conv2d_backward, peak_memory
from im2col._layer import Plan, layer_of
from im2col._plan import extra_bytes
from im2col._rules import OVERHEAD
from im2col._strategies._tiles import A3T, AT, BT, G2_INT, S2, G
from tests import reference as ref
from tests.strategies import (
    assert_each_close,
    floats,
    lay_out,
    layouts,
    random_array,
    threads_for_tiny_calls,
    tolerance,
)


def test_the_matrices_compute_a_correlation() -> None:
    """F(2, 3) and F(3, 2) compute the correlations of ``d`` they stand for."""
    rng = np.random.default_rng(0)
    d, g = rng.standard_normal(4), rng.standard_normal(3)
    want = [d[0:3] @ g, d[1:4] @ g]
    np.testing.assert_allclose(AT @ ((G @ g) * (BT @ d)), want, rtol=1e-14)
    h = rng.standard_normal(2)  # F(3, 2): three outputs of a 2-tap correlation
    want3 = [d[0:2] @ h, d[1:3] @ h, d[2:4] @ h]
    got3 = (A3T * S2) @ ((G2_INT @ h) * (BT @ d))
    np.testing.assert_allclose(got3, want3, rtol=1e-14)


padding = st.one_of(st.integers(0, 2), st.tuples(st.integers(0, 2), st.integers(0, 2)),
                    st.just("same"))


@settings(max_examples=150, deadline=None)
@given(n=st.integers(1, 7), c=st.integers(1, 6), f=st.integers(1, 6),
       groups=st.sampled_from([1, 1, 2, 3]),
       h=st.integers(1, 12), w=st.integers(1, 12), padding=padding,
       dtype=floats, layout=layouts, workers=st.integers(1, 3),
       images=st.one_of(st.none(), st.integers(1, 3)),
       band=st.booleans(), seed=st.integers(0, 2**32 - 1))
def test_winograd_gives_the_loop_results(
    n: int, c: int, f: int, groups: int, h: int, w: int, padding: Any,
    dtype: Any, layout: str, workers: int, images: int | None, band: bool,
    seed: int,
) -> None:
    """Forward and backward, any size the kernel fits, ``c`` channels and
    ``f`` filters per group; row bands when ``band``."""
    ph, pw = ((1, 1) if padding == "same" else
              padding if isinstance(padding, tuple) else (padding, padding))
    h, w = max(h, 3 - 2 * ph), max(w, 3 - 2 * pw)
    x = lay_out(random_array(seed, (n, c * groups, h, w), dtype), layout)
    k = random_array(seed + 1, (f * groups, c, 3, 3), dtype)
    b = random_array(seed + 2, (f * groups,), dtype)
    want = ref.conv2d(x, k, padding=padding, groups=groups) + b[:, None, None]
    opts: dict[str, Any] = {"padding": padding, "groups": groups,
                            "strategy": "winograd", "workers": workers,
                            "images": images}
    budgets: dict[bool, Any] = {False: None, True: None}
    if band:  # two output rows per unit in each pass: a band, odd or even
        layer = layer_of(x, k, stride=1, padding=padding, dilation=1, groups=groups)
        used = min(workers, n)
        budgets = {back: used * OVERHEAD + extra_bytes(
            layer, Plan("winograd", 1, 2, used), x.itemsize, backward=back)
            for back in (False, True)}
    dout = random_array(seed + 3, want.shape, dtype)
    with threads_for_tiny_calls():
        got = _conv._forward(x, k, b, **opts, max_memory=budgets[False])
        grads = _conv_backward._backward(dout, x, k, **opts, max_memory=budgets[True])
    np.testing.assert_allclose(got, want, **tolerance(dtype))
    assert_each_close(grads, ref.conv2d_backward(dout, x, k, padding=padding,
                                                  groups=groups),
                      **tolerance(dtype))


@pytest.mark.parametrize("groups", [1, 2])
@pytest.mark.parametrize("workers", [1, 2])
def test_float32_error_is_that_of_im2col(workers: int, groups: int) -> None:
    """On a 64-channel 3x3 layer (one group, or two of 32 channels) the
    float32 error of the output and of both gradients is within 2x of
    ``im2col``'s, on one worker (two images per unit) and on two (one each)."""
    x = random_array(0, (2, 64, 28, 28), np.float32)
    w = random_array(1, (64, 64 // groups, 3, 3), np.float32)
    dout = random_array(2, (2, 64, 28, 28), np.float32)
    x64, w64 = x.astype(np.float64), w.astype(np.float64)
    exact = conv2d(x64, w64, padding=1, groups=groups)
    exact_grads = conv2d_backward(dout.astype(np.float64), x64, w64, padding=1,
                                  groups=groups)[:2]

    def errors(strategy: str) -> list[float]:
        out = _conv._forward(x, w, padding=1, groups=groups, strategy=strategy,
                             workers=workers)
        grads = _conv_backward._backward(dout, x, w, padding=1, groups=groups,
                                strategy=strategy, workers=workers)[:2]
        return [float(np.abs(a - e).max())
                for a, e in zip((out, *grads), (exact, *exact_grads))]

    for ours, theirs in zip(errors("winograd"), errors("im2col")):
        assert ours <= 2 * theirs


@pytest.mark.parametrize("workers", [1, 2])
@pytest.mark.parametrize("where", ["x", "w", "dout"])
@pytest.mark.parametrize("value", [np.inf, -np.inf, np.nan])
def test_an_inf_or_nan_is_computed_without_the_tiles(
    workers: int, where: str, value: float,
) -> None:
    """The transforms would make ``inf - inf`` NaN and spread it over the
    tile's outputs, even those it does not touch: a call whose data holds an
    inf or a NaN is made again without Winograd's tiles, and gives the
    loop's (an inf stays an inf), with no FloatingPointError under
    ``errstate(invalid="raise")`` where the loop's sums make none."""
    rng = np.random.default_rng(7)
    x, w = rng.random((3, 16, 10, 10)), rng.random((16, 16, 3, 3))
    dout = rng.random((3, 16, 10, 10))
    {"x": x, "w": w, "dout": dout}[where][-1, 2, 1, 1] = value  # the last image's
    invalid = "raise" if value == np.inf else "ignore"
    with threads_for_tiny_calls(), np.errstate(invalid=invalid):
        out = _conv._forward(x, w, padding=1, strategy="winograd", workers=workers)
        grads = _conv_backward._backward(dout, x, w, padding=1, strategy="winograd",
                                         workers=workers)
    np.testing.assert_allclose(out, ref.conv2d(x, w, None, stride=1, padding=1))
    assert_each_close(grads, ref.conv2d_backward(dout, x, w, stride=1, padding=1))


@pytest.mark.parametrize("backward", [False, True])
def test_the_call_made_again_keeps_to_max_memory(backward: bool) -> None:
    """The first plan's buffers are freed before the second plan's are made."""
    rng = np.random.default_rng(8)
    x, w = rng.random((4, 64, 16, 16)), rng.random((64, 64, 3, 3))
    x[-1, 0, 3, 3] = np.inf
    budget = OVERHEAD + 8 * 2**20
    if backward:
        dout = rng.random((4, 64, 16, 16))
        got, peak = peak_memory(conv2d_backward, dout, x, w, padding=1, max_memory=budget)
        extra = peak - sum(g.nbytes for g in got)
        assert_each_close(got, ref.conv2d_backward(dout, x, w, stride=1, padding=1))
    else:
        out, peak = peak_memory(conv2d, x, w, padding=1, max_memory=budget)
        extra = peak - out.nbytes
        np.testing.assert_allclose(out, ref.conv2d(x, w, None, stride=1, padding=1))
    assert extra <= budget


def test_large_finite_data_is_checked_without_overflow_or_warning() -> None:
    """float32 data near 1e18, whose squares would overflow: the check
    finds it finite, with no warning (warnings are errors here), and the
    results are the loop's."""
    rng = np.random.default_rng(9)
    x = (rng.random((2, 64, 16, 16)) * 1e18).astype(np.float32)
    w = rng.random((64, 64, 3, 3)).astype(np.float32)
    out = conv2d(x, w, padding=1)
    assert np.isfinite(out).all()
    np.testing.assert_allclose(out, ref.conv2d(x.astype(np.float64), w.astype(np.float64),
                                               None, stride=1, padding=1), rtol=1e-4)
