"""``full``: dx as the full correlation of dout with the flipped filters,
checked against the loop reference on whole images and on bands of rows, and
the planner's rule for it."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from im2col import _conv_backward
from im2col._layer import Plan, layer_of
from im2col._plan import extra_bytes, plan
from im2col._strategies import STRATEGIES
from tests import reference as ref
from tests.strategies import assert_each_close, conv_arrays, tolerance


def _layer(x: np.ndarray, w: np.ndarray, opts: dict[str, Any]) -> Any:
    return layer_of(x, w, stride=opts.get("stride", 1), padding=opts.get("padding", 0),
                    dilation=opts.get("dilation", 1), groups=opts.get("groups", 1))

# (x shape, w shape, options): groups, dilation, asymmetric and no padding,
# a kernel wider than tall
CASES: list[tuple[tuple[int, ...], tuple[int, ...], dict[str, Any]]] = [
    ((3, 8, 9, 9), (8, 2, 3, 3), {"padding": 1, "groups": 4}),
    ((2, 4, 10, 11), (4, 4, 3, 3), {"padding": 2, "dilation": 2}),
    ((2, 6, 8, 9), (6, 3, 3, 3), {"padding": 1, "dilation": (2, 1), "groups": 2}),
    ((2, 3, 8, 8), (5, 3, 4, 4), {"padding": "same"}),
    ((2, 3, 8, 9), (5, 3, 2, 3), {}),
    ((3, 5, 12, 12), (4, 5, 7, 7), {"padding": (3, 1)}),
]


@pytest.mark.parametrize(("xs", "ws", "opts"), CASES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("order", ["C", "dout transposed"])
def test_full_gives_the_loop_gradients(xs: Any, ws: Any, opts: Any, dtype: Any,
                                       order: str) -> None:
    x, w, _, dout = conv_arrays(xs, ws, dtype, **opts)
    if order != "C":  # a non-contiguous dout, copied for dw, read as it is for dx
        dout = np.ascontiguousarray(dout.transpose(0, 1, 3, 2)).transpose(0, 1, 3, 2)
    want = ref.conv2d_backward(dout, x, w, **opts)
    for images, workers in ((1, 1), (2, 2), (None, 3)):
        got = _conv_backward._backward(dout, x, w, strategy="full", images=images,
                              workers=workers, **opts)
        assert_each_close(got, want, **tolerance(dtype))


@pytest.mark.parametrize(("xs", "ws", "opts"), CASES)
def test_full_on_bands_of_rows_sums_as_im2col(xs: Any, ws: Any, opts: Any) -> None:
    """Under a budget below one image, bands of output rows: col2im's path."""
    x, w, _, dout = conv_arrays(xs, ws, **opts)
    layer = _layer(x, w, opts)
    whole = extra_bytes(layer, Plan("full", 1, layer.g.out[0]), 8, backward=True)
    budget = whole + 256 * 2**10 - 1
    p = plan(layer, x, budget, backward=True, strategy="full")
    assert p.rows < layer.g.out[0]
    got = _conv_backward._backward(dout, x, w, strategy="full", max_memory=budget, **opts)
    assert_each_close(got, ref.conv2d_backward(dout, x, w, **opts), **tolerance(np.float64))


@pytest.mark.parametrize(("opts", "reason"), [
    ({"stride": 2, "padding": 1}, "stride 1"),
    ({"padding": 3}, "padding of at most (kernel - 1) * dilation"),
])
def test_full_says_what_it_needs(opts: Any, reason: str) -> None:
    x, w, _, _ = conv_arrays((1, 2, 8, 8), (2, 2, 3, 3), **opts)
    layer = _layer(x, w, opts)
    assert reason in (STRATEGIES["full"].unfit(layer, x) or "")
    with pytest.raises(ValueError, match="strategy 'full' needs stride 1"):
        _conv_backward._backward(np.zeros((1, 2, *layer.g.out)), x, w, strategy="full", **opts)


# (x shape, w shape, options, full chosen): ideas' 4-group and dilated layers;
# S1, whose 32 filters' dout columns are 10 times its 3 channels'; twice the
# filters of the channels, where wide's larger units would have let full's
# plan through; padding 1 of a 5x5 kernel (an output smaller than the
# input: dx's product would be 1.2 times w.T @ dout's); stride 2; 14x14
# outputs (where im2col_t would be the columns), and 7x7 ones
RULE = [
    ((32, 128, 28, 28), (128, 32, 3, 3), {"padding": 1, "groups": 4}, True),
    ((32, 64, 28, 28), (64, 64, 3, 3), {"padding": 2, "dilation": 2}, True),
    ((50, 3, 32, 32), (32, 3, 7, 7), {"padding": 3}, False),
    ((32, 32, 28, 28), (64, 32, 3, 3), {"padding": 1}, False),
    ((8, 256, 20, 20), (128, 256, 5, 5), {"padding": 1}, False),
    ((16, 64, 32, 32), (64, 64, 3, 3), {"padding": 1, "stride": 2}, False),
    ((16, 64, 14, 14), (64, 64, 3, 3), {"padding": 2, "dilation": 2}, True),
    ((16, 128, 7, 7), (128, 128, 3, 3), {"padding": 2, "dilation": 2}, False),
]


@pytest.mark.parametrize(("xs", "ws", "opts", "chosen"), RULE)
@pytest.mark.parametrize("workers", [1, 2])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_full_is_planned_where_it_takes_no_more_memory(
        xs: Any, ws: Any, opts: Any, chosen: bool, workers: int, dtype: Any) -> None:
    """Backward only, where dout's columns are no larger than x's and its
    buffers take no more than the columns' plan plus one copy of the filters."""
    x, w = np.zeros(xs, dtype), np.zeros(ws, dtype)
    layer = _layer(x, w, opts)
    assert plan(layer, x, None, backward=False, workers=workers).strategy != "full"
    got = plan(layer, x, None, backward=True, workers=workers)
    assert (got.strategy == "full") == chosen
    if chosen:
        columns = ("im2col_t" if xs[2] < 16 else "wide" if opts.get("dilation") is None
                   else "im2col")
        other = plan(layer, x, None, backward=True, workers=workers, strategy=columns)
        assert (extra_bytes(layer, got, x.itemsize, backward=True)
                <= extra_bytes(layer, other, x.itemsize, backward=True) + w.nbytes)
