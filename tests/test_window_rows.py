"""``window_rows``: one GEMM per kernel row on a strip of the input, in both
passes of a layer of stride 1 along the height and deep products."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from im2col import _conv
from im2col._plan import _Search
from im2col._rules import WINDOW_ROWS_DEPTH
from tests.strategies import conv_arrays
from tests.test_rows import _choice, _layer, matches_loops

# (x shape, w shape, options): dilations (kernel rows more than one strip
# row apart), a stride along the width, groups, uneven padding, a kernel as
# tall as the input, one input row
LAYERS: list[tuple[tuple[int, ...], tuple[int, ...], dict[str, Any]]] = [
    ((3, 3, 17, 15), (4, 3, 5, 5), {"padding": 2}),
    ((2, 3, 19, 23), (5, 3, 3, 5), {"stride": (1, 3), "padding": (3, 1),
                                    "dilation": (3, 1)}),
    ((2, 4, 12, 16), (6, 2, 4, 3), {"dilation": 2, "groups": 2, "padding": "same"}),
    ((2, 2, 7, 9), (3, 2, 7, 2), {}),
    ((1, 1, 1, 6), (2, 1, 1, 3), {"stride": (1, 2)}),
    ((2, 3, 12, 10), (4, 3, 3, 3), {"dilation": (2, 1)}),  # bands add into dx itself
]


@pytest.mark.parametrize(("xs", "ws", "opts"), LAYERS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("layout", ["C", "F", "NHWC", "reversed"])
def test_window_rows_matches_loops(xs: Any, ws: Any, opts: Any, dtype: Any,
                                   layout: str) -> None:
    matches_loops("window_rows", xs, ws, opts, dtype, layout)


def test_window_rows_needs_stride_1_along_the_height() -> None:
    x, w, b, _ = conv_arrays((2, 3, 12, 12), (4, 3, 3, 3))
    with pytest.raises(ValueError, match="strategy 'window_rows' needs stride 1 "
                       "along the height"):
        _conv._forward(x, w, b, strategy="window_rows", stride=(2, 1))


@pytest.mark.parametrize(("xs", "ws", "opts"), LAYERS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("layout", ["C", "F", "NHWC", "reversed"])
def test_window_rows_backward_matches_loops(xs: Any, ws: Any, opts: Any, dtype: Any,
                                            layout: str) -> None:
    matches_loops("window_rows", xs, ws, opts, dtype, layout, backward=True)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("backward", [False, True])
def test_the_planner_takes_window_rows_for_deep_products(dtype: Any, backward: bool) -> None:
    """Stride 1 along the height, ``C/groups*kw`` at least the bound, BLAS on one
    thread, buffers no larger; in the backward pass where ``full`` is not taken."""
    deep = -(-WINDOW_ROWS_DEPTH // 5)  # channels of a 5x5 layer just deep enough
    five = ((8, deep, 28, 28), (64, deep, 5, 5))

    def choice(xs: Any, ws: Any, **opts: Any) -> str:
        return _choice(xs, ws, dtype, backward=backward, **opts)

    assert choice(*five, padding=2) == "window_rows"
    assert choice((8, 64, 28, 28), (64, 64, 3, 3), padding=1, stride=(1, 2)) == "window_rows"
    assert choice((8, deep - 1, 28, 28), (64, deep - 1, 5, 5), padding=2) != "window_rows"
    assert choice(*five, padding=2, stride=(2, 1)) != "window_rows"
    assert choice((8, 64, 32, 32), (64, 64, 3, 3), padding=1) == "winograd"
    assert choice((8, deep, 12, 12), (64, deep, 5, 5)) != "window_rows"  # im2col_t's
    # a wide grid that wastes little: wide's in the backward pass
    wide = choice((8, 32, 56, 56), (64, 32, 3, 3), padding=1)
    assert wide == ("wide" if backward else "window_rows")
    # no more filters than channels, an output as large as the input: full's
    # in the backward pass
    grouped = choice((8, 128, 28, 28), (128, 32, 3, 3), padding=1, groups=4)
    dilated = choice((8, 64, 28, 28), (64, 64, 3, 3), padding=2, dilation=2)
    assert (grouped, dilated) == (("full",) * 2 if backward else ("window_rows",) * 2)
    for blas, want in ((1, True), (2, False)):  # one worker, BLAS on one thread or two
        with threadpool_limits(blas, user_api="blas"):
            got = _choice(*five, dtype, padding=2, workers=1, backward=backward)
            assert (got == "window_rows") == want
    # one kernel row: the strip is the columns, and the product more memory
    assert choice((8, 64, 28, 28), (64, 64, 1, 3), padding=(0, 1)) != "window_rows"
    # many filters on few kernel rows: the product outweighs the smaller strip
    assert choice((8, 48, 28, 28), (512, 48, 2, 2)) != "window_rows"


@pytest.mark.parametrize(("xs", "ws", "opts"), [
    ((32, 32, 28, 28), (64, 32, 5, 5), {"padding": 2}),
    ((32, 128, 28, 28), (128, 32, 3, 3), {"padding": 1, "groups": 4}),
    ((32, 64, 28, 28), (64, 64, 3, 3), {"padding": 2, "dilation": 2}),
])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("backward", [False, True])
def test_its_buffers_are_smaller_than_the_columns(xs: Any, ws: Any, opts: Any,
                                                  dtype: Any, backward: bool) -> None:
    """The benchmark's 5x5, 4-group and dilated layers, on two workers: units
    of as many images as im2col's, and fewer bytes."""
    x, w = np.zeros(xs, dtype), np.zeros(ws, dtype)
    search = _Search(_layer(x, w, opts), x, None, backward, True)
    window_rows, im2col = (search.first_plan(s, 2) for s in ("window_rows", "im2col"))
    assert window_rows.images == im2col.images
    assert search.cost(window_rows) < search.cost(im2col)
