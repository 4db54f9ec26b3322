"""Running a plan on worker threads: every strategy and worker count gives
the loop reference's results."""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from im2col import _conv, _conv_backward, _layer, conv2d
from im2col._strategies import STRATEGIES
from tests import reference as ref
from tests.strategies import (
    Case,
    assert_each_close,
    cases,
    floats,
    lay_out,
    layouts,
    random_array,
    threads_for_tiny_calls,
    tolerance,
)


@settings(max_examples=150)
@given(case=cases(max_n=7), dtype=floats, layout=layouts,
       workers=st.integers(1, 5), strategy=st.sampled_from([None, *STRATEGIES]),
       images=st.one_of(st.none(), st.integers(1, 3)))
def test_any_workers_give_the_loop_results(
    case: Case, dtype: Any, layout: str, workers: int, strategy: str | None,
    images: int | None,
) -> None:
    """Forward and backward with 1-5 workers, every strategy that applies and
    a few unit sizes match the loop reference (dw is summed per share)."""
    x, w, _, dout = case.arrays(dtype)
    x = lay_out(x, layout)
    opts = {**case.options(), "groups": case.groups}
    if strategy is not None:
        layer = _layer.layer_of(x, w, **opts)
        assume(STRATEGIES[strategy].unfit(layer, x) is None)
    with threads_for_tiny_calls():
        out = _conv._forward(x, w, workers=workers, strategy=strategy,
                             images=images, **opts)
        grads = _conv_backward._backward(dout, x, w, workers=workers, strategy=strategy,
                                images=images, **opts)
    np.testing.assert_allclose(out, ref.conv2d(x, w, **opts), **tolerance(dtype))
    assert_each_close(grads, ref.conv2d_backward(dout, x, w, **opts),
                      **tolerance(dtype))


def test_workers_give_identical_forward_results() -> None:
    """The forward pass does the same arithmetic per image whatever the
    workers: results are bitwise equal."""
    x = random_array(0, (9, 3, 12, 12), np.float32)
    w = random_array(1, (5, 3, 3, 3), np.float32)
    with threads_for_tiny_calls():
        one = conv2d(x, w, padding=1, workers=1)
        for workers in (2, 3, 9, 20):
            assert np.array_equal(conv2d(x, w, padding=1, workers=workers), one)
