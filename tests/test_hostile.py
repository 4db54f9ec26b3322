"""Input users send sooner or later: empty dimensions and NumPy's
conventions (array_like, byte order, subclasses, masks, integer options).

Sizes no machine holds: tests/test_hostile_sizes.py. PyTorch's behaviour on
the same empty shapes: tests/test_hostile_torch.py.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from im2col import (
    col2im,
    conv2d,
    conv2d_backward,
    conv_output_size,
    im2col,
    memory_bill,
    window_view,
)
from tests import reference as ref

RNG = np.random.default_rng(12)


def normal(*shape: int, dtype: Any = np.float64) -> np.ndarray:
    return RNG.standard_normal(shape).astype(dtype)


# ------------------------------------------------------- empty dimensions

EMPTY = [(0, 3, 5, 5), (2, 0, 5, 5), (0, 0, 5, 5)]


@pytest.mark.parametrize("x_shape", EMPTY, ids=str)
@pytest.mark.parametrize("options", [{}, {"padding": 1, "stride": 2},
                                     {"padding": "same", "dilation": 2}], ids=str)
def test_conv2d_empty_batch_or_channels(x_shape: tuple[int, ...],
                                        options: dict[str, Any]) -> None:
    """N = 0 or C = 0: the output of the definition (the bias where C = 0)."""
    N, C = x_shape[:2]
    x = normal(*x_shape)
    w, b = normal(4, C, 3, 3), normal(4)
    out = conv2d(x, w, b, **options)
    np.testing.assert_allclose(out, ref.conv2d(x, w, b, **options))
    assert out.shape[:2] == (N, 4)
    assert out.flags.c_contiguous
    dout = normal(*out.shape)
    grads = conv2d_backward(dout, x, w, **options)
    wants = ref.conv2d_backward(dout, x, w, **options)
    for got, want in ((grads[0], wants[0]), (grads[1], wants[1]), (grads[2], wants[2])):
        assert got.shape == want.shape
        assert got.dtype == x.dtype
        np.testing.assert_allclose(got, want, atol=1e-12)


def test_conv2d_empty_channels_with_groups() -> None:
    x, w, b = normal(3, 0, 4, 4), normal(6, 0, 2, 2), normal(6)
    out = conv2d(x, w, b, groups=3)
    assert out.shape == (3, 6, 3, 3)
    np.testing.assert_array_equal(out, np.broadcast_to(b[:, None, None], out.shape))


@pytest.mark.parametrize("x_shape", EMPTY, ids=str)
def test_unfold_functions_empty(x_shape: tuple[int, ...]) -> None:
    """im2col, col2im and window_view give the empty shapes of the formulas."""
    x = normal(*x_shape)
    cols = im2col(x, 3, padding=1)
    np.testing.assert_array_equal(cols, ref.im2col(x, 3, padding=1))
    assert cols.shape == (x_shape[1] * 9, x_shape[0] * 25)
    back = col2im(cols, x_shape, 3, padding=1)
    assert back.shape == x_shape
    view = window_view(x, 3)
    assert view.shape == (x_shape[1], 3, 3, x_shape[0], 3, 3)
    assert not view.flags.writeable


def test_memory_bill_empty_batch() -> None:
    bill = memory_bill((0, 3, 8, 8), (4, 3, 3, 3), padding=1)
    assert (bill.input, bill.padded, bill.columns, bill.output) == (0, 0, 0, 0)
    assert bill.weights == 4 * 3 * 9 * 8
    assert np.isnan(bill.column_ratio)


@pytest.mark.parametrize(("call", "message"), [
    (lambda: conv2d(normal(2, 3, 5, 5), normal(0, 3, 3, 3)),
     "w must have at least 1 filter and a kernel of at least 1x1 (as in PyTorch), "
     "got w.shape=(0, 3, 3, 3)"),
    (lambda: conv2d_backward(normal(2, 0, 3, 3), normal(2, 3, 5, 5),
                             normal(0, 3, 3, 3)),
     "w must have at least 1 filter"),
    (lambda: conv2d(normal(2, 3, 5, 5), normal(4, 3, 0, 3)),
     "w must have at least 1 filter and a kernel of at least 1x1"),
    (lambda: conv2d(normal(2, 3, 0, 5), normal(4, 3, 1, 1), padding=1),
     "x must have height and width >= 1 (an empty batch or channel axis is "
     "fine), got shape (2, 3, 0, 5)"),
    (lambda: im2col(normal(2, 3, 5, 0), 1), "x must have height and width >= 1"),
    (lambda: window_view(normal(2, 3, 0, 5), 1), "xp must have height and width >= 1"),
    (lambda: col2im(normal(3, 0), (0, 3, 0, 5), 1), "x_shape[2] must be >= 1, got 0"),
    (lambda: memory_bill((2, 3, 5, 5), (0, 3, 3, 3)), "w_shape[0] must be >= 1, got 0"),
    (lambda: conv_output_size(0, 1), "size must be >= 1, got 0"),
], ids=["F=0", "F=0 backward", "kh=0", "H=0 padded", "W=0 im2col", "H=0 view",
        "col2im H=0", "memory_bill F=0", "size 0"])
def test_empty_filters_and_images_are_refused(call: Any, message: str) -> None:
    """Where PyTorch's conv2d refuses (no filter, no rows or columns), so do we."""
    with pytest.raises(ValueError, match=re.escape(message)):
        call()


# ------------------------------------------------------- NumPy's conventions

X = normal(2, 3, 6, 6)
W = normal(4, 3, 3, 3)
B = normal(4)


class Wrapped:
    """An object that only knows ``__array__``, like many array libraries."""

    def __init__(self, a: np.ndarray) -> None:
        self.a = a

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        return self.a if dtype is None else self.a.astype(dtype)


class Tagged(np.ndarray):
    """A plain ndarray subclass."""


@pytest.mark.parametrize("wrap", [lambda a: a.tolist(), Wrapped,
                                  lambda a: a.view(Tagged)],
                         ids=["list", "__array__", "subclass"])
def test_array_like_everywhere(wrap: Any) -> None:
    """Nested lists, ``__array__`` objects and subclasses, as numpy.asarray takes."""
    out = conv2d(X, W, B, padding=1)
    np.testing.assert_array_equal(conv2d(wrap(X), wrap(W), wrap(B), padding=1), out)
    grads = conv2d_backward(out, X, W, padding=1)
    wrapped = conv2d_backward(wrap(out), wrap(X), wrap(W), padding=1)
    for k in range(3):
        np.testing.assert_array_equal(wrapped[k], grads[k])
        assert type(wrapped[k]) is np.ndarray
    cols = im2col(X, 3)
    np.testing.assert_array_equal(im2col(wrap(X), 3), cols)
    np.testing.assert_array_equal(col2im(wrap(cols), X.shape, 3),
                                  col2im(cols, X.shape, 3))
    view = window_view(wrap(X), 3)
    np.testing.assert_array_equal(view, window_view(X, 3))
    assert type(view) is np.ndarray
    assert not view.flags.writeable


def test_list_of_ints_gets_the_dtype_error() -> None:
    """A list of ints is int64, which the arithmetic refuses as for an array."""
    with pytest.raises(TypeError, match=re.escape(
            "x must have dtype float32 or float64, got int64")):
        conv2d([[[[1, 2], [3, 4]]]], np.ones((1, 1, 1, 1)))
    assert im2col([[[[1, 2], [3, 4]]]], 1).dtype == np.int64


def test_ndarray_input_is_not_copied() -> None:
    """No copy of an ndarray (or of a subclass): the view shares its memory."""
    assert np.shares_memory(window_view(X, 3), X)
    assert np.shares_memory(window_view(X.view(Tagged), 3), X)


def test_memmap(tmp_path: Path) -> None:
    mm = np.memmap(tmp_path / "x.f64", dtype=np.float64, mode="w+", shape=X.shape)
    mm[...] = X
    np.testing.assert_array_equal(conv2d(mm, W, padding=1), conv2d(X, W, padding=1))
    np.testing.assert_array_equal(im2col(mm, 3), im2col(X, 3))
    view = window_view(mm, 3)
    assert np.shares_memory(view, mm)
    assert not view.flags.writeable
    assert type(conv2d(mm, W)) is np.ndarray
    ro = np.memmap(tmp_path / "x.f64", dtype=np.float64, mode="r", shape=X.shape)
    np.testing.assert_array_equal(conv2d(ro, W), conv2d(X, W))


def test_non_native_byte_order_is_converted_by_the_arithmetic() -> None:
    """``>f8`` on a little-endian machine (``<f8`` on a big-endian one) is float64."""
    other = X.dtype.newbyteorder("S")
    xs, ws, bs = X.astype(other), W.astype(other), B.astype(other)
    assert not xs.dtype.isnative
    out = conv2d(xs, ws, bs, padding=1)
    assert out.dtype == np.float64
    assert out.dtype.isnative
    np.testing.assert_array_equal(out, conv2d(X, W, B, padding=1))
    grads = conv2d_backward(out.astype(other), xs, ws, padding=1)
    wants = conv2d_backward(out, X, W, padding=1)
    for k in range(3):
        assert grads[k].dtype.isnative
        np.testing.assert_array_equal(grads[k], wants[k])
    cols = im2col(X, 3)
    np.testing.assert_array_equal(col2im(cols.astype(other), X.shape, 3),
                                  col2im(cols, X.shape, 3))
    assert conv2d(xs, W).dtype == np.float64      # >f8 and <f8 are one dtype here


def test_copying_functions_keep_the_byte_order() -> None:
    """im2col copies bytes and window_view views them: the dtype stays as given."""
    xs = X.astype(X.dtype.newbyteorder("S"))
    cols = im2col(xs, 3, padding=1)
    assert cols.dtype == xs.dtype
    np.testing.assert_array_equal(cols, im2col(X, 3, padding=1))
    view = window_view(xs, 3)
    assert view.dtype == xs.dtype
    assert np.shares_memory(view, xs)


@pytest.mark.parametrize("mask", [np.ma.nomask, np.zeros(X.shape, bool),
                                  np.arange(X.size).reshape(X.shape) % 7 == 0],
                         ids=["nomask", "nothing masked", "some masked"])
def test_masked_arrays_are_refused_naming_the_mask(mask: Any) -> None:
    """A mask is never dropped silently: every function refuses a MaskedArray."""
    xm = np.ma.masked_array(X, mask=mask)
    count = int(np.ma.count_masked(xm))
    message = re.escape(
        f"x is a numpy.ma.MaskedArray with {count} of {X.size} elements masked, "
        "and a convolution has no rule for a masked element: pass x.filled(0) "
        "to read them as zeros, or x.data to ignore the mask")
    for call in (lambda: conv2d(xm, W), lambda: conv2d_backward(conv2d(X, W), xm, W),
                 lambda: im2col(xm, 3)):
        with pytest.raises(TypeError, match=message):
            call()
    with pytest.raises(TypeError, match=r"^xp is a numpy\.ma\.MaskedArray"):
        window_view(xm, 3)
    with pytest.raises(TypeError, match=r"^cols is a numpy\.ma\.MaskedArray"):
        col2im(np.ma.masked_array(im2col(X, 3)), X.shape, 3)
    np.testing.assert_array_equal(conv2d(xm.filled(0), W), conv2d(np.where(
        np.ma.getmaskarray(xm), 0, X), W))


@pytest.mark.parametrize("value", [np.int64(2), np.uint8(2), np.array(2)],
                         ids=["int64", "uint8", "0-d array"])
def test_integer_options_take_numpy_integers(value: Any) -> None:
    """Options take what operator.index takes, as NumPy's shape arguments do."""
    np.testing.assert_array_equal(im2col(X, 3, stride=value), im2col(X, 3, stride=2))
    assert conv_output_size(value * 3, value) == conv_output_size(6, 2)


@pytest.mark.parametrize("value", [True, np.bool_(True), 2.0, "2", None],
                         ids=["bool", "numpy bool", "float", "str", "None"])
def test_integer_options_refuse_the_rest(value: Any) -> None:
    with pytest.raises(TypeError, match=r"^stride must be an int, got "):
        im2col(X, 3, stride=value)


def test_memory_bill_dtype_is_checked() -> None:
    assert memory_bill((1, 1, 4, 4), (1, 1, 3, 3), dtype=None).input == 16 * 8
    with pytest.raises(TypeError, match=r"^dtype must be a NumPy dtype or a name of "
                       r"one, got str 'float65'"):
        memory_bill((1, 1, 4, 4), (1, 1, 3, 3), dtype="float65")


@pytest.mark.parametrize("huge", [2**63, 10**30])
def test_steps_never_taken_may_be_huge(huge: int) -> None:
    """A stride along an axis with one output, or a dilation along a kernel
    of 1, is never taken: any size gives the reference's result."""
    x, w = normal(2, 2, 3, 4), normal(3, 2, 3, 1)
    opts = {"stride": (huge, 1), "dilation": (1, huge)}
    np.testing.assert_allclose(conv2d(x, w, **opts), ref.conv2d(x, w, **opts))
    dout = normal(2, 3, 1, 4)
    grads = conv2d_backward(dout, x, w, **opts)
    wants = ref.conv2d_backward(dout, x, w, **opts)
    for k in range(3):
        np.testing.assert_allclose(grads[k], wants[k])
    np.testing.assert_array_equal(im2col(x, (3, 1), **opts), ref.im2col(x, (3, 1), **opts))
    np.testing.assert_array_equal(window_view(x, (3, 1), **opts),
                                  ref.window(x, (3, 1), **opts))
