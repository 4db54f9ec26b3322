"""window_view: elements, strides, cs231n's tuple, read-only and in bounds."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.lib.stride_tricks import as_strided, sliding_window_view

import im2col.cs231n as cs
from im2col import col2im, conv2d, conv2d_backward, im2col, window_view
from im2col._compat import byte_bounds
from tests import reference as ref
from tests.strategies import lay_out, layouts, random_array

VIEW_DTYPES = (np.float64, np.float32, np.float16, np.int8, np.int64, np.bool_,
               np.complex64)


@st.composite
def view_cases(draw: st.DrawFn) -> tuple[tuple[int, ...], Any, Any, Any]:
    """An already padded input shape, kernel, stride and dilation that fit."""
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    dil = draw(st.one_of(st.integers(1, 3), st.tuples(st.integers(1, 3),
                                                       st.integers(1, 3))))
    dh, dw = (dil, dil) if isinstance(dil, int) else dil
    stride = draw(st.one_of(st.integers(1, 3), st.tuples(st.integers(1, 3),
                                                         st.integers(1, 3))))
    span_h, span_w = dh * (kh - 1) + 1, dw * (kw - 1) + 1
    shape = (draw(st.integers(1, 3)), draw(st.integers(1, 4)),
             draw(st.integers(span_h, max(span_h, 9))),
             draw(st.integers(span_w, max(span_w, 9))))
    kernel = draw(st.sampled_from([(kh, kw), kh])) if kh == kw else (kh, kw)
    return shape, kernel, stride, dil


def root(a: np.ndarray) -> np.ndarray:
    """The array that owns ``a``'s memory."""
    while isinstance(a.base, np.ndarray):
        a = a.base
    return a


def assert_inside(view: np.ndarray, base: np.ndarray) -> None:
    lo, hi = byte_bounds(view)
    base_lo, base_hi = byte_bounds(base)
    assert base_lo <= lo
    assert hi <= base_hi


@settings(max_examples=200)
@given(case=view_cases(), dtype=st.sampled_from(VIEW_DTYPES), layout=layouts,
       seed=st.integers(0, 2**32 - 1))
def test_window_view_elements_and_strides(
    case: tuple[tuple[int, ...], Any, Any, Any], dtype: Any, layout: str, seed: int
) -> None:
    """``v[c, i, j, n, y, x] == xp[n, c, y*sh + i*dh, x*sw + j*dw]`` and the
    strides are ``(sC, dh*sH, dw*sW, sN, sh*sH, sw*sW)`` of ``xp.strides``."""
    shape, kernel, stride, dilation = case
    xp = lay_out(random_array(seed, shape, dtype), layout)
    v = window_view(xp, kernel, stride=stride, dilation=dilation)
    expected = ref.window(xp, kernel, stride=stride, dilation=dilation)
    np.testing.assert_array_equal(v, expected, strict=True)
    (sh, sw), (dh, dw) = ref.pair(stride), ref.pair(dilation)
    sN, sC, sH, sW = xp.strides
    assert v.strides == (sC, dh * sH, dw * sW, sN, sh * sH, sw * sW)
    assert np.shares_memory(v, xp)
    assert not v.flags.writeable
    assert_inside(v, xp)
    assert_inside(v, root(xp))


@pytest.mark.parametrize(
    ("x_shape", "kernel", "stride", "pad"),
    [
        ((2, 3, 5, 5), (3, 3), 1, 1),
        ((4, 3, 32, 32), (7, 7), 1, 3),
        ((2, 1, 9, 6), (3, 2), 2, 0),
        ((1, 4, 7, 8), (2, 5), 3, 2),
    ],
)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cs231n_strides_are_window_view_strides_for_c_order(
    x_shape: tuple[int, ...], kernel: tuple[int, int], stride: int, pad: int,
    dtype: Any,
) -> None:
    """cs231n's ``(H*W, W, 1, C*H*W, stride*W, stride) * itemsize``, with
    ``H``, ``W`` the padded sizes, is what ``xp.strides`` gives in C order."""
    x = random_array(0, x_shape, dtype)
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    _, C, H, W = xp.shape
    hard_coded = tuple(s * xp.itemsize for s in (H * W, W, 1, C * H * W, stride * W,
                                           stride))
    assert hard_coded == ref.cs231n_strides(xp, stride)
    view = window_view(xp, kernel, stride=stride)
    assert view.strides == hard_coded
    cs231n_view = as_strided(xp, shape=view.shape, strides=hard_coded)
    np.testing.assert_array_equal(view, cs231n_view)


def test_cs231n_strides_are_wrong_for_fortran_order() -> None:
    """For a Fortran-ordered input the hard-coded tuple reads the wrong
    elements; window_view takes the strides from the array and is right."""
    x = random_array(1, (2, 3, 6, 6), np.float64)
    xp = np.pad(np.asfortranarray(x), ((0, 0), (0, 0), (1, 1), (1, 1)))
    assert xp.flags.f_contiguous                 # np.pad keeps F order
    view = window_view(xp, 3)
    assert view.strides != ref.cs231n_strides(xp, 1)
    np.testing.assert_array_equal(view, ref.window(xp, 3))
    wrong = as_strided(xp, shape=view.shape, strides=ref.cs231n_strides(xp, 1))
    assert not np.array_equal(wrong, view)


@settings(max_examples=60)
@given(case=view_cases(), layout=layouts, seed=st.integers(0, 2**32 - 1))
def test_window_view_equals_sliding_window_view(
    case: tuple[tuple[int, ...], Any, Any, Any], layout: str, seed: int
) -> None:
    """NumPy's sliding_window_view, stepped and transposed, is the same view."""
    shape, kernel, stride, _ = case
    (kh, kw), (sh, sw) = ref.pair(kernel), ref.pair(stride)
    xp = lay_out(random_array(seed, shape, np.float64), layout)
    swv = sliding_window_view(xp, (kh, kw), axis=(2, 3))[:, :, ::sh, ::sw]
    np.testing.assert_array_equal(window_view(xp, kernel, stride=stride),
                                  swv.transpose(1, 4, 5, 0, 2, 3))


def test_window_view_is_read_only() -> None:
    xp = np.zeros((1, 2, 5, 5))
    v = window_view(xp, 3)
    with pytest.raises(ValueError, match="read-only"):
        v[0, 0, 0, 0, 0, 0] = 1.0
    with pytest.raises(ValueError, match="read-only"):
        v += 1
    assert not xp.any()
    assert xp.flags.writeable            # the input itself is untouched


@pytest.mark.parametrize("layout", ["C", "F", "sliced", "negative", "channel_step"])
def test_window_view_of_a_slice_stays_inside_the_slice(layout: str) -> None:
    """The last window ends at the last row/column of the (sliced) array."""
    xp = lay_out(np.arange(2 * 3 * 7 * 8, dtype=np.float64).reshape(2, 3, 7, 8),
                 layout)
    for stride, kernel in (((2, 3), (3, 2)), (1, 7), ((6, 1), (1, 8))):
        v = window_view(xp, kernel, stride=stride)
        assert_inside(v, xp)
        assert_inside(v, root(xp))


def test_results_are_new_arrays_not_views() -> None:
    """Only window_view returns a view; every other result owns its memory."""
    rng = np.random.default_rng(2)
    x, w, b = rng.normal(size=(1, 2, 4, 4)), rng.normal(size=(3, 2, 1, 1)), np.zeros(3)
    inputs = (x, w, b)
    cols = im2col(x, 1)
    out = conv2d(x, w, b)
    results = [cols, out, col2im(cols, x.shape, 1),
               *conv2d_backward(out, x, w)]
    cs_out, cache = cs.conv_forward_strides(x, w, b, {"stride": 1, "pad": 0})
    results += [cs_out, cache[4], *cs.conv_backward_strides(cs_out, cache)]
    for r in results:
        assert r.flags.writeable
        for a in inputs:
            assert not np.shares_memory(r, a)
