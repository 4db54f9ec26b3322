"""The filters' gradient made a few images per call (``_strategies._grads``)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from im2col import _conv
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
    got = _conv._backward(dout, x, w, strategy=strategy, images=7, workers=1, **opts)
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
