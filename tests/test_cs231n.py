"""im2col.cs231n: the conv layers against loops, conv2d and their caches."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings

import im2col.cs231n as cs
from im2col import conv2d, conv2d_backward, im2col
from tests import reference as ref
from tests.strategies import (
    Case,
    cs231n_cases,
    floats,
    lay_out,
    layouts,
    random_array,
    tolerance,
)


def layer(case: Case, dtype: Any) -> tuple[np.ndarray, ...]:
    x = random_array(case.seed, case.x_shape, dtype)
    w = random_array(case.seed + 1, case.w_shape, dtype)
    b = random_array(case.seed + 2, (case.F,), dtype)
    return x, w, b


@settings(max_examples=150)
@given(case=cs231n_cases(), dtype=floats, x_layout=layouts, w_layout=layouts)
def test_forward_matches_loops(
    case: Case, dtype: Any, x_layout: str, w_layout: str
) -> None:
    x, w, b = layer(case, dtype)
    param = {"stride": case.stride, "pad": case.padding}
    xl = lay_out(x, x_layout)
    out, cache = cs.conv_forward_strides(xl, lay_out(w, w_layout), b, param)
    expected = ref.conv2d(x, w, b, stride=case.stride, padding=case.padding)
    assert out.dtype == dtype
    assert out.flags.c_contiguous
    np.testing.assert_allclose(out, expected, **tolerance(dtype))
    # the cache is (x, w, b, conv_param, x_cols) with x_cols = im2col(x)
    assert len(cache) == 5
    assert cache[0] is xl
    assert cache[3] is param
    np.testing.assert_array_equal(
        cache[4], ref.im2col(x, case.kernel, stride=case.stride, padding=case.padding)
    )


@settings(max_examples=120)
@given(case=cs231n_cases(), dtype=floats, x_layout=layouts, d_layout=layouts)
def test_backward_matches_loops(
    case: Case, dtype: Any, x_layout: str, d_layout: str
) -> None:
    x, w, b = layer(case, dtype)
    param = {"stride": case.stride, "pad": case.padding}
    out, cache = cs.conv_forward_strides(lay_out(x, x_layout), w, b, param)
    dout = random_array(case.seed + 3, out.shape, dtype)
    dx, dw, db = cs.conv_backward_strides(lay_out(dout, d_layout), cache)
    ex, ew, eb = ref.conv2d_backward(dout, x, w, stride=case.stride,
                                     padding=case.padding)
    for got, expected in ((dx, ex), (dw, ew), (db, eb)):
        assert got.dtype == dtype
        assert got.shape == expected.shape
        np.testing.assert_allclose(got, expected, **tolerance(dtype))


@settings(max_examples=60)
@given(case=cs231n_cases())
def test_agrees_with_conv2d(case: Case) -> None:
    x, w, b = layer(case, np.float64)
    out, cache = cs.conv_forward_strides(x, w, b, {"stride": case.stride,
                                                   "pad": case.padding})
    kwargs = {"stride": case.stride, "padding": case.padding}
    np.testing.assert_allclose(out, conv2d(x, w, b, **kwargs), rtol=1e-12,
                               atol=1e-12)
    dout = random_array(case.seed + 3, out.shape, np.float64)
    for got, expected in zip(cs.conv_backward_strides(dout, cache),
                             conv2d_backward(dout, x, w, **kwargs)):
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


def test_fortran_ordered_input_is_right() -> None:
    """cs231n's hard-coded strides give garbage here; this layer does not."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 3, 7, 7))
    w, b = rng.normal(size=(4, 3, 3, 3)), rng.normal(size=4)
    param = {"stride": 2, "pad": 1}
    out_c, _ = cs.conv_forward_strides(x, w, b, param)
    out_f, _ = cs.conv_forward_strides(np.asfortranarray(x), w, b, param)
    np.testing.assert_allclose(out_f, out_c, rtol=1e-12)
    np.testing.assert_allclose(out_c, ref.conv2d(x, w, b, stride=2, padding=1),
                               rtol=1e-10, atol=1e-12)


def reorder(cols: np.ndarray, N: int, P: int) -> np.ndarray:
    """Columns (N, out_h, out_w) -> (out_h, out_w, N), as im2col_indices has them."""
    return cols.reshape(-1, N, P).transpose(0, 2, 1).reshape(cols.shape)


def test_cache_columns_in_another_order_are_rejected() -> None:
    """A cache whose columns are ordered (out_h, out_w, N), like cs231n's
    im2col_indices, has the right shape but would give a wrong dw."""
    rng = np.random.default_rng(1)
    x = rng.normal(size=(3, 2, 5, 5))
    w, b = rng.normal(size=(4, 2, 3, 3)), np.zeros(4)
    out, (cx, cw, cb, cp, cols) = cs.conv_forward_strides(
        x, w, b, {"stride": 1, "pad": 1})
    reordered = reorder(cols, 3, 25)
    with pytest.raises(ValueError, match="cache x_cols is in the column order of "
                       r"conv_forward_im2col \(C\*HH\*WW, out_h\*out_w\*N\)"):
        cs.conv_backward_strides(out, (cx, cw, cb, cp, reordered))
    # and the other way round
    out2, cache2 = cs.conv_forward_im2col(x, w, b, {"stride": 1, "pad": 1})
    with pytest.raises(ValueError, match="pass the cache to conv_backward_strides"):
        cs.conv_backward_im2col(out2, (*cache2[:4], cols.copy()))


@pytest.mark.parametrize("order", ["strides", "im2col"])
def test_x_changed_in_place_after_the_forward_does_not_matter(order: str) -> None:
    """The assignment reuses arrays; backward reads only shapes from x."""
    forward = getattr(cs, f"conv_forward_{order}")
    backward = getattr(cs, f"conv_backward_{order}")
    rng = np.random.default_rng(2)
    x = rng.normal(size=(4, 3, 6, 6))
    w, b = rng.normal(size=(5, 3, 3, 3)), rng.normal(size=5)
    p = {"stride": 2, "pad": 1}
    out, cache = forward(x, w, b, p)
    dout = rng.normal(size=out.shape)
    ex, ew, eb = ref.conv2d_backward(dout, x.copy(), w, stride=2, padding=1)
    x += 1.0
    x[-1] = 0.0
    got = backward(dout, cache)
    for k, expected in enumerate((ex, ew, eb)):
        np.testing.assert_allclose(got[k], expected, rtol=1e-10, atol=1e-12)


def test_other_order_refused_even_after_x_changed() -> None:
    """Columns made by conv_forward_im2col are known to be in its order,
    whatever happened to x since."""
    rng = np.random.default_rng(3)
    x = rng.normal(size=(3, 2, 5, 5))
    w, b = rng.normal(size=(4, 2, 3, 3)), np.zeros(4)
    out, cache = cs.conv_forward_im2col(x, w, b, {"stride": 1, "pad": 1})
    x *= 2.0
    with pytest.raises(ValueError, match="pass the cache to conv_backward_im2col"):
        cs.conv_backward_strides(out, cache)


def test_one_image_orders_agree_and_no_refusal() -> None:
    rng = np.random.default_rng(4)
    x = rng.normal(size=(1, 2, 5, 5))
    w, b = rng.normal(size=(3, 2, 3, 3)), np.zeros(3)
    p = {"stride": 1, "pad": 0}
    out, (cx, cw, cb, cp, cols) = cs.conv_forward_im2col(x, w, b, p)
    got = cs.conv_backward_strides(out, (cx, cw, cb, cp, cols.copy()))
    expected = cs.conv_backward_im2col(out, (cx, cw, cb, cp, cols))
    for k in range(3):
        np.testing.assert_allclose(got[k], expected[k], rtol=1e-12)


@settings(max_examples=80)
@given(case=cs231n_cases(), dtype=floats, x_layout=layouts)
def test_im2col_layer_matches_loops(case: Case, dtype: Any, x_layout: str) -> None:
    x, w, b = layer(case, dtype)
    param = {"stride": case.stride, "pad": case.padding}
    out, cache = cs.conv_forward_im2col(lay_out(x, x_layout), w, b, param)
    kw = {"stride": case.stride, "padding": case.padding}
    np.testing.assert_allclose(out, ref.conv2d(x, w, b, **kw), **tolerance(dtype))
    N, P = out.shape[0], out.shape[2] * out.shape[3]
    np.testing.assert_array_equal(
        cache[4], reorder(ref.im2col(x, case.kernel, **kw), N, P))
    dout = random_array(case.seed + 3, out.shape, dtype)
    got = cs.conv_backward_im2col(dout, cache)
    for k, expected in enumerate(ref.conv2d_backward(dout, x, w, **kw)):
        assert got[k].dtype == dtype
        np.testing.assert_allclose(got[k], expected, **tolerance(dtype))


def test_notebook_sized_example() -> None:
    """The shapes of cs231n's fast-layer check ((100, 3, 31, 31) input, 25 3x3
    filters, stride 2, pad 1), with 4 images instead of 100."""
    rng = np.random.default_rng(231)
    x = rng.normal(size=(4, 3, 31, 31))
    w, b = rng.normal(size=(25, 3, 3, 3)), rng.normal(size=25)
    out, cache = cs.conv_forward_strides(x, w, b, {"stride": 2, "pad": 1})
    assert out.shape == (4, 25, 16, 16)
    assert cache[4].shape == (3 * 3 * 3, 4 * 16 * 16)
    np.testing.assert_array_equal(cache[4], im2col(x, 3, stride=2, padding=1))
    np.testing.assert_allclose(out, conv2d(x, w, b, stride=2, padding=1),
                               rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("pad", [0, 1, 2])
@pytest.mark.parametrize("order", ["strides", "im2col"])
def test_dx_is_the_interior_of_a_padded_gradient_as_in_cs231n(order: str, pad: int) -> None:
    """cs231n's col2im returns ``dx`` as a view into its padded gradient;
    so do both drop-ins (the whole array at ``pad=0``), writable."""
    forward, backward = {
        "strides": (cs.conv_forward_strides, cs.conv_backward_strides),
        "im2col": (cs.conv_forward_im2col, cs.conv_backward_im2col),
    }[order]
    rng = np.random.default_rng(pad)
    x, w = rng.normal(size=(3, 2, 7, 7)), rng.normal(size=(4, 2, 3, 3))
    out, cache = forward(x, w, np.zeros(4), {"stride": 1, "pad": pad})
    dx, _, _ = backward(np.ones_like(out), cache)
    assert dx.shape == x.shape
    assert dx.flags.writeable
    assert dx.base is not None
    assert dx.base.shape[-2:] == (7 + 2 * pad, 7 + 2 * pad)
    assert dx.flags.c_contiguous == (pad == 0)
    np.testing.assert_allclose(dx, conv2d_backward(np.ones_like(out), x, w, padding=pad)[0])
