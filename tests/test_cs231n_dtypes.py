"""Dtypes of the drop-ins: NumPy's promotion, as in cs231n's own layers.

The original computes ``w.reshape(F, -1).dot(x_cols) + b.reshape(-1, 1)``
and, backward, ``dout_rows.dot(x_cols.T)``, ``w_rows.T.dot(dout_rows)`` and
``np.sum(dout, axis=(0, 2, 3))``; NumPy decides their dtypes. Each test asks
NumPy the same question on 1x1 arrays and checks the drop-in's answer, for
every combination of bool, unsigned and signed integers and three floats,
then the values against a float64 loop.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pytest

import im2col.cs231n as cs
from im2col import conv2d
from tests import reference as ref

DTYPES = [np.bool_, np.uint8, np.int32, np.int64, np.float16, np.float32, np.float64]
COMBOS = list(itertools.product(DTYPES, repeat=3))


def one(dtype: Any) -> np.ndarray:
    return np.ones((1, 1), dtype)


def small(shape: tuple[int, ...], dtype: Any, seed: int) -> np.ndarray:
    """Values 0..2 (0..1 for bool): exact in every dtype, no overflow."""
    top = 2 if dtype is np.bool_ else 3
    return np.random.default_rng(seed).integers(0, top, size=shape).astype(dtype)


def expected_values(x: np.ndarray, w: np.ndarray, b: np.ndarray, dtype: Any) -> np.ndarray:
    out = ref.conv2d(x.astype(np.float64), w.astype(np.float64),
                     b.astype(np.float64), stride=1, padding=1)
    if dtype == np.bool_:        # bool dot is "any", + is "or"
        conv = ref.conv2d(x.astype(np.float64), w.astype(np.float64), None,
                          stride=1, padding=1)
        return (conv > 0) | b.astype(bool)[None, :, None, None]
    return out


@pytest.mark.parametrize("order", ["strides", "im2col"])
@pytest.mark.parametrize(("xd", "wd", "bd"), COMBOS)
def test_conv_dtypes_follow_numpy(order: str, xd: Any, wd: Any, bd: Any) -> None:
    forward = getattr(cs, f"conv_forward_{order}")
    backward = getattr(cs, f"conv_backward_{order}")
    x, w, b = small((2, 2, 4, 4), xd, 0), small((3, 2, 3, 3), wd, 1), small((3,), bd, 2)
    out, cache = forward(x, w, b, {"stride": 1, "pad": 1})
    out_dtype = (one(wd).dot(one(xd)) + one(bd)).dtype
    assert out.dtype == out_dtype
    assert cache[4].dtype == xd                      # the columns keep x's dtype
    np.testing.assert_allclose(out.astype(np.float64),
                               expected_values(x, w, b, out_dtype).astype(np.float64))
    for dout_dtype in {out_dtype, np.dtype(np.float64)}:
        dout = small(out.shape, dout_dtype, 3)
        dx, dw, db = backward(dout, cache)
        assert dx.dtype == one(wd).T.dot(one(dout_dtype)).dtype
        assert dw.dtype == one(dout_dtype).dot(one(xd).T).dtype
        assert db.dtype == np.sum(np.ones((1, 1, 1, 1), dout_dtype), axis=(0, 2, 3)).dtype
        if dx.dtype.kind == "f" and dw.dtype.kind == "f":
            ex, ew, eb = ref.conv2d_backward(dout.astype(np.float64), x.astype(np.float64),
                                             w.astype(np.float64), stride=1, padding=1)
            rtol = 1e-2 if np.float16 in (dx.dtype, dw.dtype) else 1e-6
            np.testing.assert_allclose(dx, ex, rtol=rtol)
            np.testing.assert_allclose(dw, ew, rtol=rtol)
            np.testing.assert_allclose(db, eb, rtol=rtol)


def test_no_precision_loss_float32_weights_on_float64_data() -> None:
    """The ThreeLayerConvNet case: the product is computed in float64."""
    rng = np.random.default_rng(5)
    x = rng.normal(size=(2, 3, 6, 6))
    w = rng.normal(size=(4, 3, 3, 3)).astype(np.float32)
    b = np.zeros(4, np.float32)
    out, cache = cs.conv_forward_fast(x, w, b, {"stride": 1, "pad": 1})
    exact = ref.conv2d(x, w.astype(np.float64), b.astype(np.float64), stride=1, padding=1)
    np.testing.assert_allclose(out, exact, rtol=1e-12, atol=1e-12)
    dx, dw, db = cs.conv_backward_fast(np.ones_like(out), cache)
    assert (dx.dtype, dw.dtype, db.dtype) == (np.float64,) * 3


def test_the_notebooks_image_cell_integer_bias_and_uint8_images() -> None:
    """``b = np.array([0, 128])`` with images stored as uint8 and as float."""
    img = np.random.default_rng(6).integers(0, 256, size=(2, 3, 8, 8), dtype=np.uint8)
    w = np.zeros((2, 3, 3, 3))
    w[0, :, 1, 1] = [0.3, 0.6, 0.1]                   # grayscale
    w[1, 2] = [[1, 2, 1], [0, 0, 0], [-1, -2, -1]]    # horizontal edges, blue
    b = np.array([0, 128])
    for x in (img, img.astype(np.float64)):
        out, _ = cs.conv_forward_fast(x, w, b, {"stride": 1, "pad": 1})
        assert out.dtype == np.float64
        np.testing.assert_allclose(
            out, ref.conv2d(img.astype(float), w, b.astype(float), stride=1, padding=1))


@pytest.mark.parametrize("xd", DTYPES)
@pytest.mark.parametrize("dd", [np.float16, np.float32, np.float64, np.int64])
@pytest.mark.parametrize("p", [{"pool_height": 2, "pool_width": 2, "stride": 2},
                               {"pool_height": 3, "pool_width": 3, "stride": 1}])
def test_pool_dtypes(xd: Any, dd: Any, p: dict[str, int]) -> None:
    x = small((2, 2, 6, 6), xd, 7)
    out, cache = cs.max_pool_forward_fast(x, p)
    assert out.dtype == xd                            # as numpy's max
    dx = cs.max_pool_backward_fast(small(out.shape, dd, 8), cache)
    promoted = np.result_type(xd, dd)
    assert dx.dtype == (promoted if promoted.kind == "f" else np.float64)


def test_public_conv2d_keeps_pytorchs_strictness() -> None:
    """conv2d, the package's own function, wants one float dtype."""
    x, w = np.ones((1, 1, 3, 3)), np.ones((1, 1, 3, 3), np.float32)
    with pytest.raises(TypeError, match="x, w must have the same dtype"):
        conv2d(x, w)
    with pytest.raises(TypeError, match="x must have dtype float32 or float64"):
        conv2d(x.astype(np.uint8), w.astype(np.uint8))
    out, _ = cs.conv_forward_fast(x, w, np.zeros(1), {"stride": 1, "pad": 0})
    assert out.dtype == np.float64
