"""The filters' gradient made a few images per call (``_strategies._grads``)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from im2col import _conv, _conv_backward
from im2col._strategies import _grads
from tests import reference as ref
from tests.strategies import assert_each_close, conv_arrays, tolerance


@pytest.mark.parametrize("strategy", ["im2col", "full", "matmul"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(("filters", "groups"), [(8, 1), (96, 1), (8, 2)])
@pytest.mark.parametrize("batch", [1, 3, 2**16])
def test_dw_of_several_images_per_call_matches_the_loops(
    strategy: str, dtype: Any, filters: int, groups: int, batch: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Units of 7 images whose products are made 1, 3 (a last call of 1) or 7 at a time.

    8 filters by 72 rows are made ``cols @ dout.T`` in float32, 96 filters
    ``dout @ cols.T``: both orientations, summed over the images of a call.
    """
    kernel = 1 if strategy == "matmul" else 3
    C = 8
    per_image = filters * (C // groups) * kernel * kernel
    monkeypatch.setattr(_grads, "DW_BATCH", batch * per_image)
    x, w, _, dout = conv_arrays((7, C, 6, 6), (filters, C // groups, kernel, kernel),
                                dtype, padding=kernel // 2, groups=groups)
    opts = {"padding": kernel // 2, "groups": groups}
    got = _conv_backward._backward(dout, x, w, strategy=strategy, images=7, workers=1, **opts)
    assert_each_close(got, ref.conv2d_backward(dout, x, w, **opts), **tolerance(dtype))


def test_images_per_call() -> None:
    """As many images as DW_BATCH elements hold, at least one, at most the unit's."""
    from im2col._layer import layer_of

    x, w = np.zeros((4, 8, 5, 5)), np.zeros((16, 8, 3, 3))   # 1152 elements per image
    layer = layer_of(x, w, stride=1, padding=1, dilation=1, groups=1)
    assert _grads.dw_images(layer, 4) == 4
    assert _grads.dw_images(layer, 100) == _grads.DW_BATCH // 1152
    big = layer_of(np.zeros((4, 512, 5, 5)), np.zeros((512, 512, 3, 3)), stride=1,
                   padding=1, dilation=1, groups=1)
    assert _grads.dw_images(big, 4) == 1


@pytest.mark.parametrize(("strategy", "ws", "padding"), [
    ("im2col", (128, 64, 3, 3), 1), ("full", (64, 64, 3, 3), 1),
    ("matmul", (256, 256, 1, 1), 0)])
def test_the_sum_of_several_images_products_is_in_the_declared_buffer(
    strategy: str, ws: tuple[int, ...], padding: int, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Beyond its declared buffers, a call allocates far less than a ``dw`` more.

    The products of 4 images are made in one call; their sum has a slot of
    its own in ``tmp`` (declared, so the planner counts it), not a
    temporary the size of ``dw``. ``dw`` is made larger than the ufunc
    buffers NumPy may allocate (64 KiB per operand; NumPy 1.26's sum does).
    """
    from im2col import _plan
    from im2col._layer import Plan, layer_of
    from im2col._memory import peak_memory

    x, w, _, dout = conv_arrays((8, ws[1], 6, 6), ws, np.float64, padding=padding)
    layer = layer_of(x, w, stride=1, padding=padding, dilation=1, groups=1)
    plan = Plan(strategy, 8, layer.g.out[0], 1)
    monkeypatch.setattr(_conv_backward, "plan", lambda *args, **kwargs: plan)

    def undeclared(batch: int) -> int:
        monkeypatch.setattr(_grads, "DW_BATCH", batch)
        _conv_backward._backward(dout, x, w, padding=padding)  # the first call's one-off costs
        (dx, dw, db), peak = peak_memory(_conv_backward._backward, dout, x, w, padding=padding)
        declared = _plan.extra_bytes(layer, plan, 8, backward=True)
        return peak - dx.nbytes - dw.nbytes - db.nbytes - declared

    one_per_call = undeclared(0)
    assert _grads.dw_images(layer, 8) == 1
    several = undeclared(4 * w.size)
    assert _grads.dw_images(layer, 8) == 4
    assert several - one_per_call < w.nbytes // 2, (several, one_per_call, w.nbytes)


@pytest.mark.parametrize("strategy", ["im2col", "im2col_t", "wide", "full", "shift", "winograd"])
@pytest.mark.parametrize("rows", [2, 7])
@pytest.mark.parametrize("padding", [1, 0])
def test_units_of_every_size_twice_on_two_workers(
    strategy: str, rows: int, padding: int, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """7 images of 7 output rows in units of 3 images by ``rows`` rows, on two workers.

    Each worker's units come in several sizes (a shorter last unit, a
    shorter last band of each image), so the views it makes once per size
    of unit are both reused and made anew; each pass runs twice.
    """
    from im2col._layer import Plan, layer_of
    from im2col._strategies import STRATEGIES

    xs = (7, 8, 7, 9) if padding else (7, 8, 9, 11)  # 7 x 9 outputs either way
    x, w, b, dout = conv_arrays(xs, (8, 8, 3, 3), np.float64, padding=padding)
    layer = layer_of(x, w, stride=1, padding=padding, dilation=1, groups=1)
    if STRATEGIES[strategy].unfit(layer, x) is not None:
        pytest.skip(f"{strategy} does not apply")
    plan = Plan(strategy, 3, rows, 2)
    for module in (_conv, _conv_backward):
        monkeypatch.setattr(module, "plan", lambda *args, **kwargs: plan)
    want = ref.conv2d(x, w, b, padding=padding), ref.conv2d_backward(dout, x, w, padding=padding)
    for _ in range(2):
        np.testing.assert_allclose(_conv._forward(x, w, b, padding=padding), want[0],
                                   **tolerance(np.float64))
        assert_each_close(_conv_backward._backward(dout, x, w, padding=padding), want[1],
                          **tolerance(np.float64))
