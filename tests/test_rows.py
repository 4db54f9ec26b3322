"""``rows``: one GEMM per output row on a strip of the input, in the
forward pass of a layer of a tall kernel and few filters."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from im2col import _conv, _conv_backward, conv2d
from im2col._layer import Plan, layer_of
from im2col._plan import extra_bytes, plan
from im2col._rules import OVERHEAD, ROWS_FILTERS, ROWS_KERNEL
from tests import reference as ref
from tests.strategies import conv_arrays

# (x shape, w shape, options): strides, width dilation, groups, uneven
# padding, a kernel as tall as the input, one input row
LAYERS: list[tuple[tuple[int, ...], tuple[int, ...], dict[str, Any]]] = [
    ((3, 3, 17, 15), (4, 3, 7, 7), {"padding": 3}),
    ((2, 3, 19, 23), (5, 3, 7, 5), {"stride": (2, 3), "padding": (3, 1)}),
    ((2, 4, 12, 16), (6, 2, 4, 3), {"dilation": (1, 2), "groups": 2,
                                    "padding": "same"}),
    ((2, 2, 7, 9), (3, 2, 7, 2), {}),
    ((1, 1, 1, 6), (2, 1, 1, 3), {"stride": 2}),
]


def _layer(x: np.ndarray, w: np.ndarray, opts: dict[str, Any]) -> Any:
    return layer_of(x, w, stride=opts.get("stride", 1), padding=opts.get("padding", 0),
                    dilation=opts.get("dilation", 1), groups=opts.get("groups", 1))


def _inputs(x: np.ndarray, layout: str) -> np.ndarray:
    if layout == "F":
        return np.asfortranarray(x)
    if layout == "NHWC":
        return np.ascontiguousarray(x.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)
    if layout == "reversed":  # negative strides on every axis
        return np.ascontiguousarray(x[::-1, ::-1, ::-1, ::-1])[::-1, ::-1, ::-1, ::-1]
    return x


@pytest.mark.parametrize(("xs", "ws", "opts"), LAYERS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("layout", ["C", "F", "NHWC", "reversed"])
def test_rows_matches_loops(xs: Any, ws: Any, opts: Any, dtype: Any, layout: str) -> None:
    matches_loops("rows", xs, ws, opts, dtype, layout)


def matches_loops(strategy: str, xs: Any, ws: Any, opts: Any, dtype: Any,
                  layout: str, *, backward: bool = False) -> None:
    """Whole images, units of 1 and 2, bands of rows and two workers, against the loops.

    With ``backward``, the gradients, ``dout`` in ``layout`` too.
    """
    x, w, b, dout = conv_arrays(xs, ws, dtype, **opts)
    x, dout = _inputs(x, layout), _inputs(dout, layout)
    x64, w64, b64, d64 = (a.astype(np.float64) for a in (x, w, b, dout))
    want = (ref.conv2d_backward(d64, x64, w64, **opts) if backward
            else (ref.conv2d(x64, w64, b64, **opts),))
    layer = _layer(x, w, opts)
    rows = max(1, layer.g.out[0] // 3)  # a budget that cuts bands of rows
    band = OVERHEAD + extra_bytes(layer, Plan(strategy, 1, rows), x.itemsize,
                                  backward=backward, dout_contiguous=layout == "C")
    if backward:
        tol = 1e-4 if dtype == np.float32 else 1e-11
    else:
        tol = 1e-5 if dtype == np.float32 else 1e-12
    for images, budget, workers in ((None, None, 1), (1, None, 2), (2, None, 1),
                                    (None, band, 1)):
        for _ in range(2):  # the worker's views of its buffers, made and reused
            kw = {"strategy": strategy, "images": images, "max_memory": budget,
                  "workers": workers, **opts}
            got = (_conv_backward._backward(dout, x, w, **kw) if backward
                   else (_conv._forward(x, w, b, **kw),))
            for g, e in zip(got, want):
                assert g.dtype == dtype
                np.testing.assert_allclose(g, e, rtol=tol, atol=tol)
    assert plan(layer, x, band, backward=backward, strategy=strategy).rows == rows


def test_rows_needs_consecutive_kernel_rows() -> None:
    x, w, b, _ = conv_arrays((2, 3, 12, 12), (4, 3, 3, 3))
    with pytest.raises(ValueError, match="strategy 'rows' needs dilation 1 "
                       "along the height"):
        _conv._forward(x, w, b, strategy="rows", dilation=(2, 1))


def test_rows_backward_is_im2col() -> None:
    x, w, _, dout = conv_arrays((2, 3, 12, 12), (4, 3, 7, 7), padding=3)
    got = _conv_backward._backward(dout, x, w, strategy="rows", padding=3)
    want = ref.conv2d_backward(dout, x, w, padding=3)
    for g, e in zip(got, want):
        np.testing.assert_allclose(g, e, rtol=1e-11, atol=1e-11)


def _choice(xs: Any, ws: Any, dtype: Any = np.float32, *, backward: bool = False,
            workers: int = 2, **opts: Any) -> str:
    x = np.zeros(xs, dtype)
    layer = _layer(x, np.zeros(ws, dtype), opts)
    return plan(layer, x, None, backward=backward, workers=workers).strategy


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_planner_takes_rows_for_first_layers(dtype: Any) -> None:
    """A 7x7 kernel and at most 64 filters per group, BLAS on one thread."""
    s1 = ((50, 3, 32, 32), (32, 3, 7, 7))
    assert _choice(*s1, dtype, padding=3) == "rows"
    assert _choice((16, 3, 224, 224), (ROWS_FILTERS, 3, 7, 7), dtype,
                   stride=2, padding=3) == "rows"
    assert _choice((8, 8, 32, 32), (2 * ROWS_FILTERS, 4, ROWS_KERNEL, 3), dtype,
                   groups=2) == "rows"
    assert _choice(*s1, dtype, padding=3, backward=True) != "rows"
    assert _choice((50, 3, 32, 32), (ROWS_FILTERS + 1, 3, 7, 7), dtype) != "rows"
    assert _choice((50, 3, 32, 32), (32, 3, ROWS_KERNEL - 1, 7), dtype) != "rows"
    assert _choice((50, 3, 32, 32), (32, 3, 7, 7), dtype, dilation=(2, 1)) != "rows"
    assert _choice((50, 3, 12, 12), (32, 3, 7, 7), dtype) != "rows"  # im2col_t's
    # a stride as tall as the kernel: the strip would hold rows no output reads
    assert _choice((50, 3, 128, 128), (16, 3, 7, 7), dtype, stride=(7, 1)) != "rows"
    assert _choice((50, 3, 128, 128), (16, 3, 7, 7), dtype, stride=(6, 1)) == "rows"
    # one worker: rows only if BLAS runs on one thread
    with threadpool_limits(1, user_api="blas"):
        assert _choice(*s1, dtype, padding=3, workers=1) == "rows"
    with threadpool_limits(2, user_api="blas"):
        assert _choice(*s1, dtype, padding=3, workers=1) != "rows"


def test_s1_in_float32_by_default() -> None:
    """cs231n's first layer through the public function, with the default plan."""
    x, w, b, _ = conv_arrays((10, 3, 32, 32), (32, 3, 7, 7), np.float32)
    want = ref.conv2d(x.astype(np.float64), w.astype(np.float64),
                      b.astype(np.float64), padding=3)
    for workers in (None, 1, 2):
        np.testing.assert_allclose(conv2d(x, w, b, padding=3, workers=workers),
                                   want, rtol=1e-5, atol=1e-4)


def test_units_are_sized_by_the_strip_forward_and_by_the_columns_backward() -> None:
    """S1 on two workers: 2 MiB of strips (10 images) forward; a forced
    ``rows`` backward pass sizes its units as im2col's, whose buffers it uses."""
    x, w = np.zeros((50, 3, 32, 32), np.float32), np.zeros((32, 3, 7, 7), np.float32)
    layer = _layer(x, w, {"padding": 3})
    assert plan(layer, x, None, backward=False, workers=2) == Plan("rows", 10, 32, 2)
    for backward in (False, True):
        forced = plan(layer, x, None, backward=backward, workers=2, strategy="rows")
        im2col = plan(layer, x, None, backward=backward, workers=2, strategy="im2col")
        assert (forced.images == im2col.images) == backward


def test_a_worker_keeps_each_kind_of_window_apart() -> None:
    """With a one-row kernel and a stride, the strip's windows (every row) and
    the columns' (every other row) are two views in the worker's buffers."""
    from im2col._strategies import _views

    x, w = np.zeros((2, 3, 9, 9)), np.zeros((4, 3, 1, 3))
    layer = _layer(x, w, {"stride": 2, "padding": 1})
    bufs = {"padded": np.zeros((2, 3, 11, 11))}
    xp = bufs["padded"][:2]
    rows = _views.band_windows(bufs, layer, xp, width_only=True)
    cols = _views.band_windows(bufs, layer, xp)
    assert rows.shape[4] == 11
    assert cols.shape[4] == 6
