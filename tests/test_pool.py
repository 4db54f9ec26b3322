"""Max pooling, public and drop-in, against loops written from the definition.

The loops walk every window of every image; ties are made on purpose by
drawing small integers, and window sizes that do not tile the input are
included. Two tie rules are checked: the first maximum in row-major order
(``max_pool2d_backward``, ``max_pool_backward_im2col``: PyTorch's rule and
``numpy.argmax``'s) and an equal split between tied positions
(``max_pool_backward_reshape``, as cs231n's active ``dx_reshaped /= ...``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import im2col.cs231n as cs
from im2col import max_pool2d, max_pool2d_backward
from tests.strategies import LAYOUTS, lay_out

#: (x shape, kernel, stride, padding): tiling, cropped, overlapping, padded.
CASES = [
    ((2, 3, 8, 8), (2, 2), (2, 2), 0),
    ((2, 2, 7, 9), (2, 2), (2, 2), 0),       # stride == kernel, does not tile
    ((1, 2, 6, 6), (3, 3), (3, 3), 0),
    ((2, 1, 7, 7), (3, 3), (2, 2), 0),       # overlapping
    ((1, 2, 5, 8), (2, 3), (1, 2), 0),       # non-square kernel and stride
    ((2, 2, 5, 8), (2, 3), (2, 2), 0),       # non-square kernel
    ((2, 2, 6, 6), (3, 3), (1, 1), 1),       # padded
    ((1, 1, 5, 4), (2, 4), (2, 1), (1, 2)),  # padding up to half the kernel
]


def windows_loop(x_shape: tuple[int, ...], kernel: tuple[int, int],
                 stride: tuple[int, int], pad: Any) -> Any:
    """Yield (y, x, rows, cols) of each window, in unpadded coordinates."""
    ph, pw = (pad, pad) if isinstance(pad, int) else pad
    H, W = x_shape[2:]
    oh = (H + 2 * ph - kernel[0]) // stride[0] + 1
    ow = (W + 2 * pw - kernel[1]) // stride[1] + 1
    for y in range(oh):
        for xx in range(ow):
            rows = [y * stride[0] + i - ph for i in range(kernel[0])]
            cols = [xx * stride[1] + j - pw for j in range(kernel[1])]
            yield y, xx, rows, cols


def pool_loop(x: np.ndarray, kernel: Any, stride: Any, pad: Any) -> np.ndarray:
    """out[n, c, y, x] = max over the window's real (unpadded) positions."""
    N, C, H, W = x.shape
    found = list(windows_loop(x.shape, kernel, stride, pad))
    oh, ow = found[-1][0] + 1, found[-1][1] + 1
    out = np.empty((N, C, oh, ow), x.dtype)
    for n in range(N):
        for c in range(C):
            for y, xx, rows, cols in found:
                vals = [x[n, c, r, q] for r in rows for q in cols
                        if 0 <= r < H and 0 <= q < W]
                out[n, c, y, xx] = max(vals)
    return out


def pool_backward_loop(dout: np.ndarray, x: np.ndarray, kernel: Any, stride: Any,
                       pad: Any, ties: str) -> np.ndarray:
    """dx: each dout to the first maximum, or the last NaN (``ties='first'``,
    PyTorch's rule), or split over all maxima (``ties='split'``), summed
    over overlapping windows."""
    N, C, H, W = x.shape
    dx = np.zeros(x.shape)
    for n in range(N):
        for c in range(C):
            for y, xx, rows, cols in windows_loop(x.shape, kernel, stride, pad):
                real = [(r, q) for r in rows for q in cols if 0 <= r < H and 0 <= q < W]
                vals = np.array([x[n, c, r, q] for r, q in real])
                nans = np.flatnonzero(np.isnan(vals))
                routed = nans[-1] if nans.size else np.argmax(vals)
                chosen = [real[int(routed)]] if ties == "first" else [
                    rq for rq, v in zip(real, vals) if v == vals.max()]
                for r, q in chosen:
                    dx[n, c, r, q] += dout[n, c, y, xx] / len(chosen)
    return dx


def tied_input(shape: tuple[int, ...], seed: int, dtype: Any = np.float64) -> np.ndarray:
    """Small integers: most windows hold tied maxima."""
    return np.random.default_rng(seed).integers(-2, 3, size=shape).astype(dtype)


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_max_pool2d_matches_loops(case: Any, dtype: Any) -> None:
    shape, kernel, stride, pad = case
    x = tied_input(shape, 0, dtype)
    out = max_pool2d(x, kernel, stride=stride, padding=pad)
    assert out.dtype == dtype
    assert out.flags.c_contiguous
    np.testing.assert_array_equal(out, pool_loop(x, kernel, stride, pad))
    dout = np.random.default_rng(1).normal(size=out.shape).astype(dtype)
    dx = max_pool2d_backward(dout, x, kernel, stride=stride, padding=pad)
    assert dx.dtype == dtype
    assert dx.shape == x.shape
    np.testing.assert_allclose(
        dx, pool_backward_loop(dout, x, kernel, stride, pad, "first"), rtol=1e-6)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_max_pool2d_any_memory_layout(layout: str) -> None:
    x = np.random.default_rng(2).normal(size=(2, 3, 7, 6))
    xl = lay_out(x, layout)
    for kernel, stride in ((2, None), (3, 2)):
        expected = pool_loop(x, (kernel, kernel), (stride or kernel,) * 2, 0)
        np.testing.assert_array_equal(max_pool2d(xl, kernel, stride=stride), expected)
        dout = np.ones(expected.shape)
        np.testing.assert_array_equal(
            max_pool2d_backward(dout, xl, kernel, stride=stride),
            max_pool2d_backward(dout, x, kernel, stride=stride))


def test_max_pool2d_integers_and_padding_never_wins() -> None:
    x = np.full((1, 1, 3, 3), np.iinfo(np.int16).min, dtype=np.int16)
    out = max_pool2d(x, 3, stride=1, padding=1)
    assert out.dtype == np.int16
    np.testing.assert_array_equal(out, x)
    # all -inf: every tie goes to a real position, none into the padding
    xf = np.full((1, 1, 3, 3), -np.inf)
    dx = max_pool2d_backward(np.ones((1, 1, 3, 3)), xf, 3, stride=1, padding=1)
    assert dx.sum() == 9
    np.testing.assert_array_equal(
        dx, pool_backward_loop(np.ones((1, 1, 3, 3)), xf, (3, 3), (1, 1), 1, "first"))


def test_max_pool2d_nan_propagates_and_takes_the_gradient() -> None:
    x = np.array([[[[1.0, np.nan], [3.0, 0.0]]]])
    assert np.isnan(max_pool2d(x, 2)[0, 0, 0, 0])
    dx = max_pool2d_backward(np.ones((1, 1, 1, 1)), x, 2)
    np.testing.assert_array_equal(dx, [[[[0.0, 1.0], [0.0, 0.0]]]])
    x[0, 0, 1, 0] = np.nan  # two NaNs: the last one, as PyTorch
    dx = max_pool2d_backward(np.ones((1, 1, 1, 1)), x, 2)
    np.testing.assert_array_equal(dx, [[[[0.0, 0.0], [1.0, 0.0]]]])


@pytest.mark.parametrize("case", [*CASES, ((1, 2, 18, 17), (17, 17), (1, 1), (8, 8))])
def test_backward_with_infinities_and_nans_takes_the_first_maximum(case: Any) -> None:
    """Windows of ties, of -inf (beside -inf padding) and of several NaNs:
    the gradient goes to the first real maximum, or to the last NaN
    (PyTorch's rule); 289 taps need a wider index than 8 bits."""
    shape, kernel, stride, pad = case
    x = tied_input(shape, 3)
    x[x == -2] = -np.inf
    x[0, 0] = -np.inf  # a whole plane: ties with the padding everywhere
    out = max_pool2d(x, kernel, stride=stride, padding=pad)
    dout = np.random.default_rng(4).normal(size=out.shape)
    got = max_pool2d_backward(dout, x, kernel, stride=stride, padding=pad)
    np.testing.assert_allclose(got, pool_backward_loop(dout, x, kernel, stride, pad, "first"))
    xn = x.copy()
    xn[-1, -1, 1:3, 0] = np.nan  # two NaNs, in windows they share
    np.testing.assert_allclose(
        max_pool2d_backward(dout, xn, kernel, stride=stride, padding=pad),
        pool_backward_loop(dout, xn, kernel, stride, pad, "first"))


@pytest.mark.parametrize(("call", "error", "match"), [
    (lambda: max_pool2d([[1.0]], 2), ValueError, "x must have 4 dimensions, got 2"),
    (lambda: max_pool2d(None, 2), TypeError, "x must be array_like"),
    (lambda: max_pool2d(np.ones((1, 1, 4, 4)), 0), ValueError, "kernel_size must be >= 1"),
    (lambda: max_pool2d(np.ones((1, 1, 4, 4)), 5), ValueError, "larger than the padded"),
    (lambda: max_pool2d(np.ones((1, 1, 4, 4)), 3, padding=2), ValueError, "at most half"),
    (lambda: max_pool2d_backward(np.ones((1, 1, 3, 3)), np.ones((1, 1, 4, 4)), 2),
     ValueError, r"dout must have shape \(1, 1, 2, 2\)"),
    (lambda: max_pool2d_backward(np.ones((1, 1, 2, 2)), np.ones((1, 1, 4, 4), int), 2),
     TypeError, "x must have dtype float32 or float64"),
])
def test_max_pool2d_errors(call: Any, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        call()


# --- the drop-ins, with the assignment's pool_param -------------------------

def param(ph: int, pw: int, s: int) -> dict[str, int]:
    return {"pool_height": ph, "pool_width": pw, "stride": s}


@pytest.mark.parametrize("case", [c for c in CASES if c[3] == 0 and c[2][0] == c[2][1]])
def test_im2col_path_first_maximum(case: Any) -> None:
    shape, (ph, pw), (s, _), _ = case
    x = tied_input(shape, 3)
    out, cache = cs.max_pool_forward_im2col(x, param(ph, pw, s))
    np.testing.assert_array_equal(out, pool_loop(x, (ph, pw), (s, s), 0))
    cx, x_cols, argmax, cp = cache
    assert cx is x
    assert cp == param(ph, pw, s)
    assert x_cols.shape == (ph * pw, out.size)
    assert argmax.shape == (out.size,)
    dout = np.random.default_rng(4).normal(size=out.shape)
    dx = cs.max_pool_backward_im2col(dout, cache)
    np.testing.assert_allclose(
        dx, pool_backward_loop(dout, x, (ph, pw), (s, s), 0, "first"), rtol=1e-12)


def test_im2col_cache_columns_are_windows_in_out_h_out_w_n_c_order() -> None:
    x = np.random.default_rng(5).normal(size=(2, 3, 5, 5))
    _, (_, x_cols, argmax, _) = cs.max_pool_forward_im2col(x, param(3, 3, 2))
    cols = x_cols.reshape(3, 3, 2, 2, 2, 3)       # (i, j, out_h, out_w, N, C)
    for y, xx, n, c in np.ndindex(2, 2, 2, 3):
        np.testing.assert_array_equal(
            cols[:, :, y, xx, n, c], x[n, c, 2 * y:2 * y + 3, 2 * xx:2 * xx + 3])
    np.testing.assert_array_equal(argmax, np.argmax(x_cols, axis=0))


@pytest.mark.parametrize("shape", [(2, 3, 8, 8), (3, 2, 4, 6), (1, 1, 2, 2)])
def test_reshape_path_splits_ties(shape: tuple[int, ...]) -> None:
    x = tied_input(shape, 6)
    out, cache = cs.max_pool_forward_reshape(x, param(2, 2, 2))
    np.testing.assert_array_equal(out, pool_loop(x, (2, 2), (2, 2), 0))
    assert cache[0] is x
    assert cache[2] is out
    assert cache[1].shape == (shape[0], shape[1], shape[2] // 2, 2, shape[3] // 2, 2)
    assert np.shares_memory(cache[1], x)           # a view, as the original's
    dout = np.random.default_rng(7).normal(size=out.shape)
    dx = cs.max_pool_backward_reshape(dout, cache)
    np.testing.assert_allclose(
        dx, pool_backward_loop(dout, x, (2, 2), (2, 2), 0, "split"), rtol=1e-12)


@pytest.mark.parametrize(("shape", "p", "method"), [
    ((2, 3, 8, 8), param(2, 2, 2), "reshape"),
    ((2, 3, 7, 8), param(2, 2, 2), "im2col"),     # 7 rows do not tile
    ((2, 3, 8, 8), param(3, 3, 2), "im2col"),     # overlapping
    ((2, 3, 8, 8), param(2, 4, 2), "im2col"),     # not square
    ((2, 3, 8, 8), param(2, 2, 1), "im2col"),
])
def test_fast_picks_the_original_path(shape: tuple[int, ...], p: dict[str, int],
                                      method: str) -> None:
    x = tied_input(shape, 8)
    out, cache = cs.max_pool_forward_fast(x, p)
    assert cache[0] == method
    kernel, stride = (p["pool_height"], p["pool_width"]), (p["stride"],) * 2
    np.testing.assert_array_equal(out, pool_loop(x, kernel, stride, 0))
    dout = np.random.default_rng(9).normal(size=out.shape)
    ties = "split" if method == "reshape" else "first"
    np.testing.assert_allclose(
        cs.max_pool_backward_fast(dout, cache),
        pool_backward_loop(dout, x, kernel, stride, 0, ties), rtol=1e-12)


def test_the_notebooks_pooling_check_numerically() -> None:
    """The notebook's check: (3, 2, 8, 8), 2x2 stride 2, against centered
    differences of sum(out * dout) (no ties in normal data)."""
    rng = np.random.default_rng(231)
    x = rng.normal(size=(3, 2, 8, 8))
    dout = rng.normal(size=(3, 2, 4, 4))
    p = param(2, 2, 2)
    dx = cs.max_pool_backward_fast(dout, cs.max_pool_forward_fast(x, p)[1])
    num = np.zeros_like(x)
    h = 1e-6
    for idx in np.ndindex(x.shape):
        saved = x[idx]
        x[idx] = saved + h
        plus = np.sum(cs.max_pool_forward_fast(x, p)[0] * dout)
        x[idx] = saved - h
        minus = np.sum(cs.max_pool_forward_fast(x, p)[0] * dout)
        x[idx] = saved
        num[idx] = (plus - minus) / (2 * h)
    np.testing.assert_allclose(dx, num, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize(("call", "error", "match"), [
    (lambda: cs.max_pool_forward_fast(np.ones((1, 1, 4, 4)), {"pool_height": 2}),
     ValueError, r"pool_param is missing key\(s\) \['pool_width', 'stride'\]"),
    (lambda: cs.max_pool_forward_fast(np.ones((1, 1, 4, 4)), [2, 2, 2]),
     TypeError, "pool_param must be a dict"),
    (lambda: cs.max_pool_forward_reshape(np.ones((1, 1, 5, 4)), param(2, 2, 2)),
     ValueError, "needs square windows that tile x"),
    (lambda: cs.max_pool_forward_im2col(np.ones((1, 1, 2, 2)), param(3, 3, 1)),
     ValueError, r"\(pool_height, pool_width\) along height spans 3"),
    (lambda: cs.max_pool_backward_fast(np.ones((1, 1, 1, 1)), ("reshape",)),
     ValueError, r"cache must be the 2-tuple \(method, cache\)"),
    (lambda: cs.max_pool_backward_reshape(
        np.ones((1, 1, 2, 2)),
        cs.max_pool_forward_reshape(np.ones((1, 1, 2, 2)), param(2, 2, 2))[1]),
     ValueError, r"dout must have shape \(1, 1, 1, 1\)"),
])
def test_drop_in_pool_errors(call: Any, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        call()


def test_reshape_path_nan_window_gets_the_gradient() -> None:
    x = np.array([[[[np.nan, 1.0], [2.0, 0.0]]]])
    out, cache = cs.max_pool_forward_reshape(x, param(2, 2, 2))
    assert np.isnan(out[0, 0, 0, 0])
    np.testing.assert_array_equal(cs.max_pool_backward_reshape(np.ones_like(out), cache),
                                  [[[[1.0, 0.0], [0.0, 0.0]]]])
