"""conv2d and conv2d_backward against the loop reference and numbers.

The comparisons with PyTorch are in test_torch.py.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from im2col import conv2d, conv2d_backward
from im2col._conv import workers_of
from tests import reference as ref
from tests.strategies import Case, cases, floats, lay_out, layouts, tolerance


@settings(max_examples=300)
@given(case=cases(), dtype=floats, x_layout=layouts, w_layout=layouts,
       bias=st.booleans())
def test_conv2d_matches_loops(
    case: Case, dtype: Any, x_layout: str, w_layout: str, bias: bool
) -> None:
    x, w, b, _ = case.arrays(dtype)
    kwargs = {**case.options(), "groups": case.groups}
    out = conv2d(lay_out(x, x_layout), lay_out(w, w_layout), b if bias else None,
                 **kwargs)
    expected = ref.conv2d(x, w, b if bias else None, **kwargs)
    assert out.dtype == dtype
    assert out.flags.c_contiguous
    np.testing.assert_allclose(out, expected, **tolerance(dtype))


@settings(max_examples=200)
@given(case=cases(), dtype=floats, x_layout=layouts, w_layout=layouts,
       d_layout=layouts)
def test_conv2d_backward_matches_loops(
    case: Case, dtype: Any, x_layout: str, w_layout: str, d_layout: str
) -> None:
    x, w, _, dout = case.arrays(dtype)
    kwargs = {**case.options(), "groups": case.groups}
    dx, dw, db = conv2d_backward(lay_out(dout, d_layout), lay_out(x, x_layout),
                                 lay_out(w, w_layout), **kwargs)
    ex, ew, eb = ref.conv2d_backward(dout, x, w, **kwargs)
    for got, expected in ((dx, ex), (dw, ew), (db, eb)):
        assert got.dtype == dtype
        assert got.shape == expected.shape
        np.testing.assert_allclose(got, expected, **tolerance(dtype))


def test_conv2d_is_cross_correlation() -> None:
    """The kernel is not flipped: a one-hot kernel shifts the image."""
    x = np.arange(25.0).reshape(1, 1, 5, 5)
    w = np.zeros((1, 1, 3, 3))
    w[0, 0, 0, 0] = 1.0                   # top-left tap
    np.testing.assert_array_equal(conv2d(x, w)[0, 0], x[0, 0, :3, :3])


def test_bias_none_equals_zero_bias() -> None:
    rng = np.random.default_rng(1)
    x, w = rng.normal(size=(2, 3, 6, 5)), rng.normal(size=(4, 3, 2, 3))
    np.testing.assert_array_equal(conv2d(x, w), conv2d(x, w, np.zeros(4)))


# ------------------------------------------------------------ max_memory

def smallest_budget(call: Callable[[int], Any]) -> int:
    """The smallest ``max_memory`` that ``call(max_memory)`` accepts.

    Found by bisection on the ``ValueError`` a too-small budget raises, so
    the test does not depend on how the budget is accounted for; the memory
    bound itself is tested elsewhere.
    """
    lo, hi = 0, 1 << 30
    call(hi)
    while lo < hi:
        mid = (lo + hi) // 2
        try:
            call(mid)
        except ValueError as err:
            if "max_memory" not in str(err):
                raise
            lo = mid + 1
        else:
            hi = mid
    return lo


def budgets(smallest: int, per_image: int) -> list[int | None]:
    """The smallest budget, a few steps above it (partial images, one, two,
    three images more), the default and a huge one."""
    steps = (0, per_image // 3, per_image // 2, per_image, 2 * per_image,
             3 * per_image)
    return [None, 1 << 40, *sorted({smallest + s for s in steps})]


@settings(max_examples=40)
@given(case=cases(max_n=6), layout=layouts)
def test_max_memory_does_not_change_results(case: Case, layout: str) -> None:
    """Any budget, from the smallest accepted up, gives the same forward and
    backward results (up to rounding: units may sum dw in another order)."""
    x, w, b, dout = case.arrays(np.float64)
    x = lay_out(x, layout)
    kwargs = {**case.options(), "groups": case.groups}
    g = ref.Geometry(case.x_shape, case.kernel, case.stride, case.padding,
                     case.dilation)
    per_image = case.C * case.kh * case.kw * g.oh * g.ow * 8

    def forward(m: int | None) -> np.ndarray:
        return conv2d(x, w, b, max_memory=m, **kwargs)

    def backward(m: int | None) -> tuple[np.ndarray, ...]:
        return conv2d_backward(dout, x, w, max_memory=m, **kwargs)

    expected = ref.conv2d(x, w, b, **kwargs)
    expected_grads = ref.conv2d_backward(dout, x, w, **kwargs)
    for m in budgets(smallest_budget(forward), per_image):
        np.testing.assert_allclose(forward(m), expected, rtol=1e-10, atol=1e-10,
                                   err_msg=f"max_memory={m}")
    for m in budgets(smallest_budget(backward), per_image):
        for got, want in zip(backward(m), expected_grads):
            np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10,
                                       err_msg=f"max_memory={m}")


def test_max_memory_budgets_agree_to_rounding() -> None:
    """On one bigger batch, every budget gives the unbudgeted result to
    within a few ulps."""
    rng = np.random.default_rng(5)
    x, w = rng.normal(size=(7, 3, 12, 11)), rng.normal(size=(4, 3, 3, 2))
    b = rng.normal(size=4)
    opts = {"stride": (2, 1), "padding": 1}
    out = conv2d(x, w, b, **opts)
    dout = rng.normal(size=out.shape)
    grads = conv2d_backward(dout, x, w, **opts)
    per_image = 3 * 3 * 2 * out.shape[2] * out.shape[3] * 8
    low_f = smallest_budget(lambda m: conv2d(x, w, b, max_memory=m, **opts))
    low_b = smallest_budget(lambda m: conv2d_backward(dout, x, w, max_memory=m,
                                                      **opts))
    for m in [*budgets(low_f, per_image), low_f + 5 * per_image]:
        np.testing.assert_allclose(conv2d(x, w, b, max_memory=m, **opts), out,
                                   rtol=1e-13, atol=1e-13)
    for m in [*budgets(low_b, per_image), low_b + 5 * per_image]:
        got = conv2d_backward(dout, x, w, max_memory=m, **opts)
        for a, e in zip(got, grads):
            np.testing.assert_allclose(a, e, rtol=1e-12, atol=1e-12)


# ------------------------------------------------------- numeric gradient

GRADIENT_CASES = [
    # x_shape, w_shape, options
    ((2, 3, 5, 5), (4, 3, 3, 3), {"padding": 1}),
    ((1, 2, 6, 7), (2, 2, 2, 3), {"stride": (2, 1), "padding": (1, 0)}),
    ((2, 4, 6, 6), (4, 2, 3, 2), {"groups": 2, "dilation": (2, 1)}),
    ((1, 2, 5, 6), (3, 2, 2, 4), {"padding": "same", "dilation": 2}),
]


@pytest.mark.parametrize(("x_shape", "w_shape", "options"), GRADIENT_CASES)
def test_backward_matches_central_differences(
    x_shape: tuple[int, ...], w_shape: tuple[int, ...], options: dict[str, Any]
) -> None:
    rng = np.random.default_rng(11)
    x, w = rng.normal(size=x_shape), rng.normal(size=w_shape)
    b = rng.normal(size=w_shape[0])
    dout = rng.normal(size=conv2d(x, w, b, **options).shape)

    def loss() -> float:
        return float(np.sum(conv2d(x, w, b, **options) * dout))

    dx, dw, db = conv2d_backward(dout, x, w, **options)
    np.testing.assert_allclose(dx, ref.numeric_gradient(loss, x), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(dw, ref.numeric_gradient(loss, w), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(db, ref.numeric_gradient(loss, b), rtol=1e-6, atol=1e-7)


# ---------------------------------------------------------------- workers

def test_explicit_workers_are_capped_at_the_cpus() -> None:
    assert workers_of(10_000) == len(os.sched_getaffinity(0))
    assert workers_of(1) == 1
