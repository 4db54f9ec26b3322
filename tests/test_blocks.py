"""Products cut into blocks of pixels (``_strategies._base.product``): the same
product as one call, the rule that picks the blocks, and every strategy's
convolution and gradients against the loops with blocks forced on."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from im2col import _conv, _conv_backward, _threads, conv2d, conv2d_backward
from im2col._layer import layer_of
from im2col._strategies import STRATEGIES, _base
from tests import reference as ref
from tests.strategies import assert_each_close, conv_arrays, random_array, tolerance
from tests.test_plan import CASES


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(("a_shape", "b_shape", "step"), [
    ((4, 6), (6, 64), 32),          # whole blocks only
    ((4, 6), (6, 70), 32),          # and a remainder
    ((4, 6), (3, 6, 70), 16),       # a leading axis of images
    ((5, 7), (2, 7, 40), 64),       # one block wider than the pixels: one call
    ((5, 7), (2, 7, 40), 40),       # exactly one block
])
@pytest.mark.parametrize("a_order", ["C", "transposed"])
def test_blocks_make_the_same_product(a_shape: Any, b_shape: Any, step: int,
                                      dtype: Any, a_order: str) -> None:
    a = random_array(0, a_shape, dtype)
    if a_order == "transposed":  # w2.T, as the column gradient's product reads it
        a = np.ascontiguousarray(a.T).T
    b = random_array(1, b_shape, dtype)
    big = np.full((*b_shape[:-2], a_shape[0] + 3, b_shape[-1] + 5), np.nan, dtype)
    out = big[..., 1 : 1 + a_shape[0], 2 : 2 + b_shape[-1]]  # a view, as a group's rows
    _base.product(a, b, out, step)
    np.testing.assert_allclose(out, np.matmul(a, b), **tolerance(dtype))
    outside = np.ones(big.shape, bool)
    outside[..., 1 : 1 + a_shape[0], 2 : 2 + b_shape[-1]] = False
    assert np.isnan(big[outside]).all()  # nothing written beside the view


@pytest.mark.parametrize(("a_shape", "pixels", "dtype", "step"), [
    ((32, 148), 1024, np.float32, 192),   # S1 with its bias row: 32*148*192 <= 100**3
    ((32, 148), 3136, np.float32, 192),
    ((32, 288), 784, np.float32, 96),     # a 4-group layer's filters
    ((32, 148), 150, np.float32, 150),    # one block would hold every pixel
    ((128, 147), 1024, np.float32, 1024),  # blocks of 32 would be too narrow
    ((64, 576), 3136, np.float32, 3136),  # a deep product: one call
    ((32, 148), 1024, np.float64, 1024),  # float64: one call
])
def test_the_rule_cuts_shallow_float32_products(
    a_shape: Any, pixels: int, dtype: Any, step: int, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(_threads, "small_kernels", lambda: True)
    assert _base.pixel_step(np.zeros(a_shape, dtype), pixels) == step


def test_no_blocks_without_the_small_kernels(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_threads, "small_kernels", lambda: False)
    assert _base.pixel_step(np.zeros((32, 148), np.float32), 1024) == 1024


def test_the_small_kernels_need_one_blas_thread() -> None:
    """With two BLAS threads one call beats the blocks, which run on one thread."""
    from threadpoolctl import threadpool_info, threadpool_limits

    skylakex = any(i.get("internal_api") == "openblas"
                   and i.get("architecture") in _threads.SMALL_KERNEL_CORES
                   for i in threadpool_info() if i.get("user_api") == "blas")
    with threadpool_limits(2, user_api="blas"):
        assert not _threads.small_kernels()
    with threadpool_limits(1, user_api="blas"):
        assert _threads.small_kernels() == skylakex


def test_s1_is_cut_into_blocks_and_matches_the_loops(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """cs231n's first layer (3 channels, 32 7x7 filters, padding 3) in float32,
    as the assignment's model calls it, on a few images."""
    monkeypatch.setattr(_threads, "small_kernels", lambda: True)
    x, w, b, dout = conv_arrays((2, 3, 32, 32), (32, 3, 7, 7), np.float32, padding=3)
    assert _base.pixel_step(np.zeros((32, 3 * 49 + 1), np.float32), 1024) < 1024
    np.testing.assert_allclose(conv2d(x, w, b, padding=3),
                               ref.conv2d(x, w, b, padding=3), **tolerance(np.float32))
    assert_each_close(conv2d_backward(dout, x, w, padding=3),
                      ref.conv2d_backward(dout, x, w, padding=3), **tolerance(np.float32))


def _blocks_of_16(a: np.ndarray, pixels: int) -> int:
    return 16 if pixels > 16 else pixels


@pytest.mark.parametrize(("xs", "ws", "opts"), CASES)
@pytest.mark.parametrize("strategy", list(STRATEGIES))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_every_strategy_in_blocks_matches_the_loops(
    xs: Any, ws: Any, opts: Any, strategy: str, dtype: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Blocks of 16 pixels in every product that goes through ``gemm``."""
    monkeypatch.setattr(_base, "pixel_step", _blocks_of_16)
    x, w, b, dout = conv_arrays(xs, ws, dtype, **opts)
    layer = layer_of(x, w, stride=opts.get("stride", 1), padding=opts.get("padding", 0),
                     dilation=opts.get("dilation", 1), groups=opts.get("groups", 1))
    if STRATEGIES[strategy].unfit(layer, x) is not None:
        pytest.skip(f"{strategy} does not apply")
    got = _conv._forward(x, w, b, strategy=strategy, images=2, **opts)
    np.testing.assert_allclose(got, ref.conv2d(x, w, b, **opts), **tolerance(dtype))
    grads = _conv_backward._backward(dout, x, w, strategy=strategy, images=2, **opts)
    assert_each_close(grads, ref.conv2d_backward(dout, x, w, **opts), **tolerance(dtype))
