"""Every bad argument raises the right exception with a message that names
the argument and shows what was received."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import im2col.cs231n as cs
from im2col import (
    col2im,
    conv2d,
    conv2d_backward,
    conv_output_size,
    im2col,
    memory_bill,
    peak_memory,
    window_view,
)

X = np.ones((2, 4, 6, 6))                    # N=2, C=4, 6x6
W = np.ones((6, 4, 3, 3))                    # F=6, 3x3
B = np.zeros(6)
DOUT = np.ones((2, 6, 4, 4))                 # conv2d(X, W).shape
COLS = np.ones((36, 32))                     # im2col(X, 3).shape
X32 = X.astype(np.float32)
PARAM = {"stride": 1, "pad": 0}


def _cache(x_cols: Any = COLS, param: Any = PARAM) -> tuple[Any, ...]:
    return (X, W, B, param, x_cols)


def esc(text: str) -> str:
    return re.escape(text)


Case = tuple[str, Callable[[], Any], type[Exception], str]

CASES: list[Case] = [
    # ---------------------------------------------------- wrong ndim
    ("x ndim", lambda: conv2d(X[0], W), ValueError,
     esc("x must have 4 dimensions, got 3 with shape (4, 6, 6)")),
    ("w ndim", lambda: conv2d(X, W[0]), ValueError,
     esc("w must have 4 dimensions, got 3 with shape (4, 3, 3)")),
    ("b ndim", lambda: conv2d(X, W, B[None]), ValueError,
     esc("b must have 1 dimension, got 2 with shape (1, 6)")),
    ("dout ndim", lambda: conv2d_backward(DOUT[0], X, W), ValueError,
     esc("dout must have 4 dimensions, got 3 with shape (6, 4, 4)")),
    ("cols ndim", lambda: col2im(COLS[None], X.shape, 3), ValueError,
     esc("cols must have 2 dimensions, got 3 with shape (1, 36, 32)")),
    ("xp ndim", lambda: window_view(X[0], 3), ValueError,
     esc("xp must have 4 dimensions, got 3 with shape (4, 6, 6)")),
    ("im2col x ndim", lambda: im2col(X[0, 0], 3), ValueError,
     esc("x must have 4 dimensions, got 2 with shape (6, 6)")),
    ("cs231n x ndim", lambda: cs.conv_forward_strides(X[0], W, B, PARAM),
     ValueError, esc("x must have 4 dimensions, got 3")),
    ("cs231n dout ndim", lambda: cs.conv_backward_strides(DOUT[0], _cache()),
     ValueError, esc("dout must have 4 dimensions, got 3")),
    # ---------------------------------------------- channels and groups
    ("channels", lambda: conv2d(X, W[:, :3]), ValueError,
     esc("w must have C/groups = 4 input channels (x has C=4, groups=1), "
         "got w.shape=(6, 3, 3, 3)")),
    ("channels with groups", lambda: conv2d(X, W[:, :3], groups=2), ValueError,
     esc("w must have C/groups = 2 input channels (x has C=4, groups=2), "
         "got w.shape=(6, 3, 3, 3)")),
    ("channels backward", lambda: conv2d_backward(DOUT, X, W[:, :1], groups=2),
     ValueError, esc("w must have C/groups = 2 input channels")),
    ("cs231n channels", lambda: cs.conv_forward_strides(X, W[:, :3], B, PARAM),
     ValueError, esc("w must have C = 4 channels like x, got w.shape=(6, 3, 3, 3)")),
    ("groups not dividing C", lambda: conv2d(X, W[:, :1], groups=3), ValueError,
     esc("groups=3 must divide the 4 channels of x")),
    ("groups not dividing F", lambda: conv2d(X, W[:5, :1], groups=4), ValueError,
     esc("groups=4 must divide the 5 filters of w")),
    ("groups 0", lambda: conv2d(X, W, groups=0), ValueError,
     esc("groups must be >= 1, got 0")),
    ("groups -2", lambda: conv2d_backward(DOUT, X, W, groups=-2), ValueError,
     esc("groups must be >= 1, got -2")),
    ("groups float", lambda: conv2d(X, W, groups=2.0), TypeError,
     esc("groups must be an int, got float 2.0")),
    ("groups bool", lambda: conv2d(X, W, groups=True), TypeError,
     esc("groups must be an int, got bool True")),
    # ------------------------------------------------- stride/dilation
    ("stride 0", lambda: conv2d(X, W, stride=0), ValueError,
     esc("stride must be >= 1, got 0")),
    ("stride negative", lambda: im2col(X, 3, stride=-1), ValueError,
     esc("stride must be >= 1, got -1")),
    ("stride pair 0", lambda: window_view(X, 3, stride=(1, 0)), ValueError,
     esc("stride[1] must be >= 1, got 0")),
    ("stride float", lambda: conv2d(X, W, stride=2.0), TypeError,
     esc("stride must be an int, got float 2.0")),
    ("stride bool", lambda: conv2d(X, W, stride=True), TypeError,
     esc("stride must be an int, got bool True")),
    ("stride pair float", lambda: window_view(X, 3, stride=(1, 2.0)), TypeError,
     esc("stride[1] must be an int, got float 2.0")),
    ("stride numpy float", lambda: im2col(X, 3, stride=np.float64(2)), TypeError,
     esc("stride must be an int, got float64")),
    ("stride pair length", lambda: conv2d(X, W, stride=(1, 1, 1)), ValueError,
     esc("stride must be an int or a pair (h, w), got 3 values (1, 1, 1)")),
    ("dilation 0", lambda: conv2d(X, W, dilation=0), ValueError,
     esc("dilation must be >= 1, got 0")),
    ("dilation pair 0", lambda: im2col(X, 3, dilation=(0, 1)), ValueError,
     esc("dilation[0] must be >= 1, got 0")),
    ("window_view dilation 0", lambda: window_view(X, 3, dilation=0), ValueError,
     esc("dilation must be >= 1, got 0")),
    ("dilation bool", lambda: conv2d(X, W, dilation=False), TypeError,
     esc("dilation must be an int, got bool False")),
    # -------------------------------------------------------- padding
    ("padding negative", lambda: conv2d(X, W, padding=-1), ValueError,
     esc("padding must be >= 0, got -1")),
    ("padding pair negative", lambda: im2col(X, 3, padding=(0, -2)), ValueError,
     esc("padding[1] must be >= 0, got -2")),
    ("padding SAME", lambda: conv2d(X, W, padding="SAME"), ValueError,
     esc("padding must be an int, a pair (h, w), 'valid' or 'same', got 'SAME'")),
    ("padding full", lambda: im2col(X, 3, padding="full"), ValueError,
     esc("padding must be an int, a pair (h, w), 'valid' or 'same', got 'full'")),
    ("padding same stride 2", lambda: conv2d(X, W, padding="same", stride=2),
     ValueError,
     esc("padding='same' needs stride 1 (as in PyTorch), got stride=(2, 2)")),
    ("padding same stride (1, 2)",
     lambda: col2im(COLS, X.shape, 3, padding="same", stride=(1, 2)), ValueError,
     esc("padding='same' needs stride 1 (as in PyTorch), got stride=(1, 2)")),
    ("padding pair length", lambda: conv2d(X, W, padding=(1,)), ValueError,
     esc("padding must be an int or a pair (h, w), got 1 values (1,)")),
    ("padding float", lambda: conv2d(X, W, padding=1.5), TypeError,
     esc("padding must be an int, got float 1.5")),
    ("padding nested", lambda: im2col(X, 3, padding=((1, 1), (0, 0))), TypeError,
     esc("padding[0] must be an int, got tuple (1, 1)")),
    # -------------------------------------------------- kernel_size
    ("kernel_size 0", lambda: im2col(X, 0), ValueError,
     esc("kernel_size must be >= 1, got 0")),
    ("kernel_size pair length", lambda: window_view(X, (3,)), ValueError,
     esc("kernel_size must be an int or a pair (h, w), got 1 values (3,)")),
    ("kernel_size float", lambda: im2col(X, 3.0), TypeError,
     esc("kernel_size must be an int, got float 3.0")),
    # -------------------------------------------- kernel too large
    ("kernel too large conv2d", lambda: conv2d(X, np.ones((1, 4, 7, 3))),
     ValueError,
     esc("w.shape[2:] along height spans 7 elements (kernel 7, dilation 1), "
         "larger than the padded input 6 (size 6 + padding 0 + 0)")),
    ("kernel too large dilated conv2d",
     lambda: conv2d(X, W, dilation=(1, 3), padding=(1, 0)), ValueError,
     esc("w.shape[2:] along width spans 7 elements (kernel 3, dilation 3), "
         "larger than the padded input 6 (size 6 + padding 0 + 0)")),
    ("kernel too large im2col", lambda: im2col(X, (3, 8), padding=(0, 0)), ValueError,
     esc("kernel_size along width spans 8 elements (kernel 8, dilation 1), "
         "larger than the padded input 6")),
    ("kernel too large same-less", lambda: im2col(X, 9, padding=1), ValueError,
     esc("larger than the padded input 8 (size 6 + padding 1 + 1)")),
    ("kernel too large window_view", lambda: window_view(X, 3, dilation=3),
     ValueError,
     esc("kernel_size along height spans 7 elements (kernel 3, dilation 3), "
         "larger than the padded input 6")),
    ("kernel too large conv_output_size", lambda: conv_output_size(4, 3, dilation=3),
     ValueError,
     esc("kernel_size spans 7 elements (kernel 3, dilation 3), "
         "larger than the padded input 4 (size 4 + padding 0 + 0)")),
    ("kernel too large cs231n",
     lambda: cs.conv_forward_strides(X, np.ones((6, 4, 9, 9)), B, {"stride": 1, "pad": 1}),
     ValueError, esc("w.shape[2:] along height spans 9 elements (kernel 9, "
                     "dilation 1), larger than the "
                     "padded input 8 (size 6 + padding 1 + 1)")),
    # -------------------------------------------------- conv_output_size
    ("size 0", lambda: conv_output_size(0, 1), ValueError,
     esc("size must be >= 1, got 0")),
    ("size float", lambda: conv_output_size(4.0, 1), TypeError,
     esc("size must be an int, got float 4.0")),
    ("size stride 0", lambda: conv_output_size(4, 1, stride=0), ValueError,
     esc("stride must be >= 1, got 0")),
    ("size padding negative", lambda: conv_output_size(4, 1, padding=-1), ValueError,
     esc("padding must be >= 0, got -1")),
    # ----------------------------------------------------- col2im args
    ("cols shape", lambda: col2im(np.ones((36, 33)), X.shape, 3), ValueError,
     esc("cols must have shape (36, 32) = (C*kh*kw, N*oh*ow) for x_shape "
         "(2, 4, 6, 6), got (36, 33)")),
    ("cols transposed", lambda: col2im(COLS.T, X.shape, 3), ValueError,
     esc("cols must have shape (36, 32)")),
    ("x_shape length", lambda: col2im(COLS, (2, 4, 6), 3), ValueError,
     esc("x_shape must be 4 ints (N, C, H, W) in a tuple, a list or a 1-D integer array, got (2, 4, 6)")),
    ("x_shape string", lambda: col2im(COLS, "abcd", 3), TypeError,
     esc("x_shape must be 4 ints (N, C, H, W) in a tuple, a list or a 1-D integer array, got str 'abcd'")),
    ("x_shape 2-D array", lambda: col2im(COLS, np.ones((2, 2), int), 3), TypeError,
     esc("x_shape must be 4 ints (N, C, H, W) in a tuple, a list or a 1-D integer array, got ndarray array(")),
    ("x_shape float array", lambda: col2im(COLS, np.array([2.0, 4, 6, 6]), 3),
     TypeError, esc("x_shape[0] must be an int, got float 2.0")),
    ("x_shape zero height", lambda: col2im(COLS, (2, 4, 0, 6), 3), ValueError,
     esc("x_shape[2] must be >= 1, got 0")),
    ("x_shape float", lambda: col2im(COLS, (2, 4, 6.0, 6), 3), TypeError,
     esc("x_shape[2] must be an int, got float 6.0")),
    # ----------------------------------------------- b and dout shapes
    ("b shape", lambda: conv2d(X, W, np.zeros(5)), ValueError,
     esc("b must have shape (6,), got (5,)")),
    ("cs231n b shape", lambda: cs.conv_forward_strides(X, W, B[:5], PARAM),
     ValueError, esc("b must have shape (6,), got (5,)")),
    ("dout shape", lambda: conv2d_backward(np.ones((2, 6, 5, 4)), X, W), ValueError,
     esc("dout must have shape (2, 6, 4, 4) = (N, F, oh, ow), got (2, 6, 5, 4)")),
    ("dout filters", lambda: conv2d_backward(DOUT[:, :5], X, W), ValueError,
     esc("dout must have shape (2, 6, 4, 4) = (N, F, oh, ow), got (2, 5, 4, 4)")),
    ("cs231n dout shape",
     lambda: cs.conv_backward_strides(np.ones((2, 6, 4, 5)), _cache()), ValueError,
     esc("dout must have shape (2, 6, 4, 4) = (N, F, out_h, out_w), got (2, 6, 4, 5)")),
    # ---------------------------------------------------- mixed dtypes
    ("x float32 w float64", lambda: conv2d(X32, W), TypeError,
     esc("x, w must have the same dtype, got: x is float32, w is float64")),
    ("x vs b", lambda: conv2d(X, W, B.astype(np.float32)), TypeError,
     esc("x, b must have the same dtype, got: x is float64, b is float32")),
    ("x vs dout", lambda: conv2d_backward(DOUT.astype(np.float32), X, W), TypeError,
     esc("x, dout must have the same dtype, got: x is float64, dout is float32")),
    ("backward x vs w", lambda: conv2d_backward(DOUT, X, W.astype(np.float32)),
     TypeError, esc("x, w must have the same dtype, got: x is float64, w is float32")),
    ("cs231n object x", lambda: cs.conv_forward_strides(X.astype(object), W, B, PARAM),
     TypeError, esc("x must have a numeric dtype, got object")),
    ("cs231n object dout",
     lambda: cs.conv_backward_strides(DOUT.astype(object), _cache()), TypeError,
     esc("dout must have a numeric dtype, got object")),
    # ---------------------------------------- not array_like of numbers
    # (lists and other array_like inputs are taken: tests/test_hostile.py)
    ("x None", lambda: conv2d(None, W), TypeError,
     esc("x must be array_like (an ndarray, nested sequences of numbers or "
         "an object with __array__), got NoneType None")),
    ("w strings", lambda: conv2d(X, [[[["a"]]]]), TypeError,
     esc("w must be array_like (an ndarray, nested sequences of numbers or "
         "an object with __array__), got list")),
    ("b ragged", lambda: conv2d(X, W, [1.0, [2.0]]), TypeError,
     esc("b must be array_like (an ndarray, nested sequences of numbers or "
         "an object with __array__), got list: ")),
    ("dout dict", lambda: conv2d_backward({}, X, W), TypeError,
     esc("dout must be array_like")),
    ("cols object", lambda: col2im(object(), X.shape, 3), TypeError,
     esc("cols must be array_like")),
    ("im2col str", lambda: im2col("abcd", 3), TypeError,
     esc("x must be array_like (an ndarray, nested sequences of numbers or "
         "an object with __array__), got str 'abcd'")),
    ("window_view None", lambda: window_view(None, 3), TypeError,
     esc("xp must be array_like")),
    ("cs231n None", lambda: cs.conv_forward_strides(None, W, B, PARAM),
     TypeError, esc("x must be array_like")),
    ("x scalar", lambda: conv2d(1.0, W), ValueError,
     esc("x must have 4 dimensions, got 0 with shape ()")),
    ("x list 3-D", lambda: im2col(X[0].tolist(), 3), ValueError,
     esc("x must have 4 dimensions, got 3 with shape (4, 6, 6)")),
    # ------------------------------------------------ cs231n conv_param
    ("conv_param list", lambda: cs.conv_forward_strides(X, W, B, [1, 0]), TypeError,
     esc("conv_param must be a dict with keys 'stride' and 'pad', got list")),
    ("conv_param missing pad", lambda: cs.conv_forward_strides(X, W, B, {"stride": 1}),
     ValueError,
     esc("conv_param is missing key(s) ['pad']; expected keys 'stride' and "
         "'pad', got ['stride']")),
    ("conv_param missing both", lambda: cs.conv_forward_strides(X, W, B, {"P": 1}),
     ValueError, esc("conv_param is missing key(s) ['pad', 'stride']")),
    ("conv_param stride 0",
     lambda: cs.conv_forward_strides(X, W, B, {"stride": 0, "pad": 0}), ValueError,
     esc("conv_param['stride'] must be >= 1, got 0")),
    ("conv_param stride float",
     lambda: cs.conv_forward_strides(X, W, B, {"stride": 1.0, "pad": 0}), TypeError,
     esc("conv_param['stride'] must be an int, got float 1.0")),
    ("conv_param pad negative",
     lambda: cs.conv_forward_strides(X, W, B, {"stride": 1, "pad": -1}), ValueError,
     esc("conv_param['pad'] must be >= 0, got -1")),
    ("conv_param pad string",
     lambda: cs.conv_forward_strides(X, W, B, {"stride": 1, "pad": "same"}),
     TypeError, esc("conv_param['pad'] must be an int, got str 'same'")),
    ("backward conv_param bad",
     lambda: cs.conv_backward_strides(DOUT, _cache(param={"stride": 0, "pad": 0})),
     ValueError, esc("conv_param['stride'] must be >= 1, got 0")),
    # ------------------------------------------------------ cs231n cache
    ("cache length", lambda: cs.conv_backward_strides(DOUT, _cache()[:4]), ValueError,
     esc("cache must be the 5-tuple (x, w, b, conv_param, x_cols) from "
         "conv_forward_strides, got a tuple of 4 items")),
    ("cache list", lambda: cs.conv_backward_strides(DOUT, list(_cache())), TypeError,
     esc("cache must be the 5-tuple (x, w, b, conv_param, x_cols) from "
         "conv_forward_strides, got list")),
    ("cache x_cols missing", lambda: cs.conv_backward_strides(DOUT, _cache(None)),
     TypeError, esc("cache x_cols must be array_like (an ndarray, nested "
                    "sequences of numbers or an object with __array__), got "
                    "NoneType None")),
    ("cache x_cols shape",
     lambda: cs.conv_backward_strides(DOUT, _cache(np.ones((36, 31)))), ValueError,
     esc("cache x_cols must have shape (36, 32) = (C*HH*WW, N*out_h*out_w), "
         "got (36, 31)")),
    ("cache x_cols order",
     lambda: cs.conv_backward_strides(DOUT, cs.conv_forward_im2col(X, W, B, PARAM)[1]),
     ValueError, esc("cache x_cols is in the column order of conv_forward_im2col")),
    # ------------------------------------------------------- max_memory
    ("max_memory too small", lambda: conv2d(X, W, max_memory=100), ValueError,
     r"max_memory=100 bytes is below the \d+ bytes"),
    ("max_memory too small backward",
     lambda: conv2d_backward(DOUT, X, W, max_memory=5000), ValueError,
     r"max_memory=5000 bytes is below the \d+ bytes"),
    ("max_memory zero padded", lambda: conv2d(X, W, padding=1, max_memory=0),
     ValueError, r"max_memory=0 bytes is below the \d+ bytes"),
    ("max_memory negative", lambda: conv2d(X, W, max_memory=-1), ValueError,
     esc("max_memory must be >= 0, got -1")),
    ("max_memory float", lambda: conv2d(X, W, max_memory=1e6), TypeError,
     esc("max_memory must be an int, got float 1000000.0")),
    # ------------------------------------------------------ memory_bill
    ("memory_bill channels", lambda: memory_bill(X.shape, (6, 3, 3, 3)), ValueError,
     esc("w_shape[1] must equal x_shape[1] (channels), got 3 and 4")),
    ("memory_bill x_shape length", lambda: memory_bill((2, 4, 6), W.shape),
     ValueError, esc("x_shape must be 4 ints (N, C, H, W) in a tuple, a list or a 1-D integer array, got (2, 4, 6)")),
    ("memory_bill x_shape None", lambda: memory_bill(None, W.shape), TypeError,
     esc("x_shape must be 4 ints (N, C, H, W) in a tuple, a list or a 1-D integer array, got NoneType None")),
    ("memory_bill w_shape float", lambda: memory_bill(X.shape, (6, 4, 3.5, 3)),
     TypeError, esc("w_shape[2] must be an int, got float 3.5")),
    ("memory_bill negative size", lambda: memory_bill((2, 4, -6, 6), W.shape),
     ValueError, esc("x_shape[2] must be >= 1, got -6")),
    ("memory_bill kernel too large", lambda: memory_bill(X.shape, (6, 4, 7, 7)),
     ValueError, esc("w_shape[2:] along height spans 7 elements")),
    ("memory_bill stride 0", lambda: memory_bill(X.shape, W.shape, stride=0),
     ValueError, esc("stride must be >= 1, got 0")),
    # ------------------------------------------------------ peak_memory
    ("peak_memory not callable", lambda: peak_memory(X), TypeError,
     esc("func must be callable, got ndarray")),
]


@pytest.mark.parametrize(("func", "exc", "pattern"), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_error(func: Callable[[], Any], exc: type[Exception], pattern: str) -> None:
    with pytest.raises(exc, match=pattern):
        func()


BAD_DTYPES = [np.int64, np.int32, np.uint8, np.complex128, np.bool_, object,
              np.float16]


@pytest.mark.parametrize("dtype", BAD_DTYPES, ids=lambda d: np.dtype(d).name)
def test_arithmetic_functions_reject_non_float_dtypes(dtype: Any) -> None:
    """conv2d, conv2d_backward and col2im need float32/64 (the cs231n
    drop-ins follow NumPy's promotion: tests/test_cs231n_dtypes.py)."""
    name = np.dtype(dtype).name
    x, w, b = X.astype(dtype), W.astype(dtype), B.astype(dtype)
    dout, cols = DOUT.astype(dtype), COLS.astype(dtype)
    message = f"must have dtype float32 or float64, got {name}"
    with pytest.raises(TypeError, match=esc(f"x {message}")):
        conv2d(x, w)
    with pytest.raises(TypeError, match=esc(f"w {message}")):
        conv2d(X, w)
    with pytest.raises(TypeError, match=esc(f"b {message}")):
        conv2d(X, W, b)
    with pytest.raises(TypeError, match=esc(f"x {message}")):
        conv2d_backward(dout, x, w)
    with pytest.raises(TypeError, match=esc(f"dout {message}")):
        conv2d_backward(dout, X, W)
    with pytest.raises(TypeError, match=esc(f"cols {message}")):
        col2im(cols, X.shape, 3)


@pytest.mark.parametrize("dtype", [object, np.str_, np.datetime64],
                         ids=["object", "str", "datetime64"])
def test_copying_functions_reject_non_numeric_dtypes(dtype: Any) -> None:
    """im2col and window_view take any numeric dtype or bool, nothing else."""
    if dtype is np.datetime64:
        x = np.zeros((1, 1, 3, 3), dtype="datetime64[s]")
    else:
        x = np.zeros((1, 1, 3, 3)).astype(dtype)
    name = x.dtype.name if dtype is not np.str_ else str(x.dtype)
    with pytest.raises(TypeError, match=esc(f"x must have a numeric dtype, got {name}")):
        im2col(x, 2)
    with pytest.raises(TypeError, match=esc(f"xp must have a numeric dtype, got {name}")):
        window_view(x, 2)


def test_error_leaves_no_partial_results() -> None:
    """A rejected call does not touch its inputs."""
    x, w = X.copy(), W.copy()
    with pytest.raises(ValueError, match="dout"):
        conv2d_backward(np.ones((2, 6, 5, 4)), x, w)
    np.testing.assert_array_equal(x, X)
    np.testing.assert_array_equal(w, W)


def test_shapes_may_be_integer_arrays() -> None:
    """x_shape and w_shape may be 1-D integer arrays, as numpy.zeros takes."""
    assert memory_bill(np.array(X.shape), np.array(W.shape)) == memory_bill(
        X.shape, W.shape)
    np.testing.assert_array_equal(col2im(COLS, np.array(X.shape), 3),
                                  col2im(COLS, X.shape, 3))


@pytest.mark.parametrize(("workers", "error", "message"), [
    (0, ValueError, "workers must be >= 1, got 0"),
    (-2, ValueError, "workers must be >= 1, got -2"),
    (1.5, TypeError, "workers must be an int, got float 1.5"),
    ("2", TypeError, "workers must be an int, got str '2'"),
    (True, TypeError, "workers must be an int, got bool True"),
])
def test_bad_workers_are_named(workers: Any, error: type, message: str) -> None:
    x, w = np.ones((2, 1, 4, 4)), np.ones((1, 1, 3, 3))
    with pytest.raises(error, match=esc(message)):
        conv2d(x, w, workers=workers)
    with pytest.raises(error, match=esc(message)):
        conv2d_backward(np.ones((2, 1, 2, 2)), x, w, workers=workers)
