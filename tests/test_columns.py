"""im2col and col2im against loops, np.add.at and the adjoint identity."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from im2col import col2im, im2col
from tests import reference as ref
from tests.strategies import Case, cases, floats, lay_out, layouts, random_array

#: im2col copies, so it is exact for every numeric dtype and bool.
ANY_DTYPES = (np.float32, np.float64, np.float16, np.int8, np.uint8, np.int64,
              np.bool_, np.complex128)

COLUMN_LAYOUTS = ("C", "F", "negative", "sliced")


def lay_out_2d(a: np.ndarray, layout: str) -> np.ndarray:
    """A 2-D array equal to ``a`` in another memory layout."""
    if layout == "C":
        return np.ascontiguousarray(a)
    if layout == "F":
        return np.asfortranarray(a)
    if layout == "negative":
        return np.ascontiguousarray(a[::-1, ::-1])[::-1, ::-1]
    base = np.full((a.shape[0], 2 * a.shape[1]), 7, a.dtype)
    base[:, 1::2] = a
    return base[:, 1::2]


def cols_shape(case: Case) -> tuple[int, int]:
    g = ref.Geometry(case.x_shape, case.kernel, case.stride, case.padding,
                     case.dilation)
    return case.C * case.kh * case.kw, case.N * g.oh * g.ow


@settings(max_examples=200)
@given(case=cases(groups=False), dtype=st.sampled_from(ANY_DTYPES), layout=layouts)
def test_im2col_matches_loops_exactly(case: Case, dtype: Any, layout: str) -> None:
    x = random_array(case.seed, case.x_shape, dtype)
    cols = im2col(lay_out(x, layout), case.kernel, **case.options())
    expected = ref.im2col(x, case.kernel, **case.options())
    assert cols.dtype == x.dtype
    assert cols.shape == cols_shape(case)
    assert cols.flags.c_contiguous
    np.testing.assert_array_equal(cols, expected, strict=True)


@settings(max_examples=150)
@given(case=cases(groups=False), dtype=floats,
       layout=st.sampled_from(COLUMN_LAYOUTS))
def test_col2im_matches_loops_and_add_at(case: Case, dtype: Any, layout: str) -> None:
    cols = random_array(case.seed, cols_shape(case), dtype)
    dx = col2im(lay_out_2d(cols, layout), case.x_shape, case.kernel,
                **case.options())
    loops = ref.col2im(cols, case.x_shape, case.kernel, **case.options())
    add_at = ref.col2im_add_at(cols, case.x_shape, case.kernel, **case.options())
    np.testing.assert_allclose(loops, add_at, rtol=1e-12, atol=1e-12)
    assert dx.dtype == dtype
    assert dx.shape == case.x_shape
    assert dx.flags.c_contiguous
    tol = {"rtol": 1e-5, "atol": 1e-5} if dtype == np.float32 else {"rtol": 1e-12}
    np.testing.assert_allclose(dx, add_at, **tol)


@settings(max_examples=150)
@given(case=cases(groups=False), layout=layouts)
def test_col2im_is_the_adjoint_of_im2col(case: Case, layout: str) -> None:
    """``<im2col(x), Y> == <x, col2im(Y)>`` for every x and Y."""
    x = random_array(case.seed, case.x_shape, np.float64)
    y = random_array(case.seed + 1, cols_shape(case), np.float64)
    left = np.vdot(im2col(lay_out(x, layout), case.kernel, **case.options()), y)
    right = np.vdot(x, col2im(y, case.x_shape, case.kernel, **case.options()))
    np.testing.assert_allclose(left, right, rtol=1e-10, atol=1e-10)


@settings(max_examples=60)
@given(case=cases(groups=False))
def test_col2im_of_im2col_counts_coverage(case: Case) -> None:
    """col2im(im2col(ones)) is how many windows read each input element."""
    ones = np.ones(case.x_shape)
    counts = col2im(im2col(ones, case.kernel, **case.options()), case.x_shape,
                    case.kernel, **case.options())
    expected = ref.col2im(np.ones(cols_shape(case)), case.x_shape, case.kernel,
                          **case.options())
    np.testing.assert_array_equal(counts, expected)


@pytest.mark.parametrize(
    ("x_shape", "kernel", "options"),
    [
        ((1, 3, 4, 5), 1, {}),                  # view already contiguous
        ((1, 1, 3, 3), 3, {}),                  # one window = the whole image
        ((1, 1, 3, 4), (3, 4), {"stride": 2}),
        ((2, 3, 4, 5), 2, {"padding": 1}),
        ((2, 3, 4, 5), 1, {}),
    ],
)
def test_im2col_returns_a_new_writeable_array(
    x_shape: tuple[int, ...], kernel: Any, options: dict[str, Any]
) -> None:
    x = np.arange(np.prod(x_shape), dtype=np.float64).reshape(x_shape)
    cols = im2col(x, kernel, **options)
    assert not np.shares_memory(cols, x)
    assert cols.flags.writeable
    assert cols.flags.c_contiguous
    np.testing.assert_array_equal(cols, ref.im2col(x, kernel, **options))


@pytest.mark.parametrize("dtype", [np.int32, np.uint8, np.bool_, np.int64])
def test_im2col_integer_and_bool_are_exact_with_padding(dtype: Any) -> None:
    x = random_array(4, (2, 3, 5, 4), dtype)
    if dtype == np.int64:
        x[0, 0, 0, 0] = 2**62 + 1           # not representable in float64
    cols = im2col(x, (3, 2), stride=(2, 1), padding=(1, 2), dilation=(1, 2))
    assert cols.dtype == dtype
    np.testing.assert_array_equal(
        cols, ref.im2col(x, (3, 2), stride=(2, 1), padding=(1, 2), dilation=(1, 2)),
        strict=True,
    )


def test_im2col_docstring_example() -> None:
    """The top-left 3x3 window of a 4x4 image is the first column."""
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    cols = im2col(x, 3)
    np.testing.assert_array_equal(cols[:, 0], x[0, 0, :3, :3].ravel())
    np.testing.assert_array_equal(cols[:, 3], x[0, 0, 1:, 1:].ravel())


def test_weights_times_columns_is_the_convolution() -> None:
    """``w.reshape(F, -1) @ im2col(x)`` reshaped (F, N, oh, ow) -> NFHW."""
    rng = np.random.default_rng(8)
    x, w = rng.normal(size=(3, 2, 6, 5)), rng.normal(size=(4, 2, 3, 2))
    cols = im2col(x, (3, 2), stride=(1, 2), padding=1)
    out = (w.reshape(4, -1) @ cols).reshape(4, 3, 6, 3).transpose(1, 0, 2, 3)
    np.testing.assert_allclose(
        out, ref.conv2d(x, w, stride=(1, 2), padding=1), rtol=1e-12, atol=1e-12
    )


@settings(max_examples=250, deadline=None)
@given(m=st.integers(1, 3), c=st.integers(1, 3), kh=st.integers(1, 7),
       kw=st.integers(1, 4), sh=st.integers(1, 2), sw=st.integers(1, 2),
       dh=st.integers(1, 3), dw=st.integers(1, 2), rows=st.integers(1, 12),
       ow=st.integers(1, 7), transposed=st.booleans(), seed=st.integers(0, 2**32 - 1))
def test_add_columns_adds_every_tap(m: int, c: int, kh: int, kw: int, sh: int,
                                    sw: int, dh: int, dw: int, rows: int, ow: int,
                                    transposed: bool, seed: int) -> None:
    """The backward pass's col2im of a unit, kernel rows summed in place first
    where it can (stride 1 along the height, enough rows), gives what one add
    per tap gives, on bands shorter and taller than the kernel, dilated, and
    on the transposed columns of ``im2col_t``."""
    from im2col._columns import add_columns, add_taps
    from im2col._geometry import geometry

    H, W = sh * (rows - 1) + (kh - 1) * dh + 1, sw * (ow - 1) + (kw - 1) * dw + 1
    g = geometry((m, c, H, W), (kh, kw), stride=(sh, sw), padding=0, dilation=(dh, dw))
    want = random_array(seed, (m, c, g.band_height(rows), W), np.float64)
    got = want.copy()
    if transposed:  # (C, kh, kw, m, rows, ow) in memory, as im2col_t's
        cols = random_array(seed + 1, (c, kh, kw, m, rows, ow), np.float64
                            ).transpose(3, 0, 1, 2, 4, 5)
    else:
        cols = random_array(seed + 1, (m, c, kh, kw, rows, ow), np.float64)
    add_taps(want, cols.transpose(2, 3, 0, 1, 4, 5), g, rows)
    add_columns(got, cols, g, rows)  # used up, after add_taps read it
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
