"""The teaching code that pages include: the naive loop and cs231n's algorithm.

``docs/examples/naive_conv.py`` is checked against sums written out here;
``docs/examples/cs231n_strided.py`` against the loop (forward) and against
numerical gradients (backward), on shapes whose padded size is not a
multiple of the stride.
"""

from __future__ import annotations

import numpy as np
import pytest
from docs.examples.cs231n_strided import (
    strided_backward,
    strided_columns,
    strided_forward,
)
from docs.examples.naive_conv import conv_forward_loop

# (x shape, w shape, stride, pad)
SHAPES = [
    ((1, 1, 3, 3), (1, 1, 3, 3), 1, 0),
    ((2, 3, 8, 8), (4, 3, 3, 3), 2, 1),
    ((2, 2, 7, 5), (3, 2, 3, 2), 2, 0),
    ((1, 3, 6, 9), (2, 3, 1, 4), 3, 2),
]


def _arrays(x_shape, w_shape, dtype=np.float64):
    rng = np.random.default_rng(231)
    x = rng.standard_normal(x_shape).astype(dtype)
    w = rng.standard_normal(w_shape).astype(dtype)
    b = rng.standard_normal(w_shape[0]).astype(dtype)
    return x, w, b


def test_loop_by_hand() -> None:
    """A 3x3 input, a 2x2 kernel of ones: each output sums one 2x2 window."""
    x = np.arange(9.0).reshape(1, 1, 3, 3)
    w = np.ones((1, 1, 2, 2))
    out = conv_forward_loop(x, w, np.array([0.5]), {"stride": 1, "pad": 0})
    assert out.tolist() == [[[[8.5, 12.5], [20.5, 24.5]]]]
    padded = conv_forward_loop(x, w, np.zeros(1), {"stride": 2, "pad": 1})
    assert padded.tolist() == [[[[0.0, 3.0], [9.0, 24.0]]]]


@pytest.mark.parametrize(("x_shape", "w_shape", "stride", "pad"), SHAPES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_forward_matches_the_loop(x_shape, w_shape, stride, pad, dtype) -> None:
    x, w, b = _arrays(x_shape, w_shape, dtype)
    out, columns = strided_forward(x, w, b, stride, pad)
    expected = conv_forward_loop(x, w, b, {"stride": stride, "pad": pad})
    assert out.shape == expected.shape
    assert out.dtype == dtype
    np.testing.assert_allclose(out, expected, rtol=1e-4 if dtype == np.float32 else 1e-10)
    C, HH, WW = w_shape[1:]
    assert columns.shape == (C * HH * WW, x_shape[0] * out.shape[2] * out.shape[3])
    assert np.array_equal(columns, strided_columns(x, HH, WW, stride, pad))


def _numeric_gradient(f, a, dout, h=1e-6):
    grad = np.zeros_like(a)
    for index in np.ndindex(a.shape):
        saved = a[index]
        a[index] = saved + h
        plus = np.sum(f() * dout)
        a[index] = saved - h
        minus = np.sum(f() * dout)
        a[index] = saved
        grad[index] = (plus - minus) / (2 * h)
    return grad


@pytest.mark.parametrize(("x_shape", "w_shape", "stride", "pad"), SHAPES)
def test_backward_matches_numerical_gradients(x_shape, w_shape, stride, pad) -> None:
    x, w, b = _arrays(x_shape, w_shape)
    out, columns = strided_forward(x, w, b, stride, pad)
    dout = np.random.default_rng(0).standard_normal(out.shape)
    dx, dw, db = strided_backward(dout, x, w, columns, stride, pad)

    def forward():
        return strided_forward(x, w, b, stride, pad)[0]  # checked against the loop above

    np.testing.assert_allclose(dx, _numeric_gradient(forward, x, dout), atol=1e-6)
    np.testing.assert_allclose(dw, _numeric_gradient(forward, w, dout), atol=1e-6)
    np.testing.assert_allclose(db, _numeric_gradient(forward, b, dout), atol=1e-6)
