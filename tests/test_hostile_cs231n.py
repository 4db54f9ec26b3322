"""Hostile input to the cs231n drop-ins, as a student's notebook sends it.

The drop-ins must behave as :func:`im2col.conv2d` does on the same input
(tests/test_hostile.py): an empty batch or channel set gives the shapes of
the definition, no filter is refused naming ``w``, every buffer's size is
checked before it is allocated, array_like input is taken and a masked
array refused.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from im2col import _checks, conv2d, conv2d_backward
from im2col.cs231n import conv_backward_strides, conv_forward_strides
from tests import reference as ref
from tests.fuzz_inputs import (
    ANYTHING,
    FUZZ,
    OPTION,
    mutate,
    plain,
    run,
    same,
    valid_array,
    weird_arrays,
)
from tests.strategies import cs231n_cases

RNG = np.random.default_rng(231)


@pytest.mark.parametrize("x_shape", [(0, 3, 6, 6), (2, 0, 6, 6), (0, 0, 6, 6)], ids=str)
@pytest.mark.parametrize("pad", [0, 1])
def test_empty_batch_or_channels(x_shape: tuple[int, ...], pad: int) -> None:
    x = RNG.standard_normal(x_shape)
    w, b = RNG.standard_normal((4, x_shape[1], 3, 3)), RNG.standard_normal(4)
    out, cache = conv_forward_strides(x, w, b, {"stride": 1, "pad": pad})
    np.testing.assert_allclose(out, ref.conv2d(x, w, b, padding=pad))
    dout = RNG.standard_normal(out.shape)
    dx, dw, db = conv_backward_strides(dout, cache)
    wants = ref.conv2d_backward(dout, x, w, padding=pad)
    for got, want in ((dx, wants[0]), (dw, wants[1]), (db, wants[2])):
        assert got.shape == want.shape
        np.testing.assert_allclose(got, want, atol=1e-12)


def test_no_filter_is_refused_naming_w() -> None:
    x, w, b = np.zeros((2, 3, 5, 5)), np.zeros((0, 3, 3, 3)), np.zeros(0)
    with pytest.raises(ValueError, match=r"^w must have at least 1 filter"):
        conv_forward_strides(x, w, b, {"stride": 1, "pad": 0})


def test_huge_pad_is_refused_naming_pad() -> None:
    one = np.ones((1, 1, 1, 1))
    with pytest.raises(ValueError, match=r"^padding=200000 makes the padded input "
                       r"\(1, 1, 400001, 400001\) float64 take 1280006400008 bytes"):
        conv_forward_strides(one, one, np.zeros(1), {"stride": 1, "pad": 200000})


def test_product_and_output_sizes_are_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    """Small columns, a product of 10**12 filters: refused naming w, as conv2d does."""
    monkeypatch.setattr(_checks, "memory_limit", lambda: 2**30)
    x = np.ones((1, 1, 1, 1))
    w = np.broadcast_to(1.0, (10**12, 1, 1, 1))      # a broadcast w: 8 bytes
    b = np.broadcast_to(0.0, (10**12,))
    with pytest.raises(ValueError, match=r"^(w of shape|padding=1000) .* bytes"):
        conv2d(x, w, b, padding=1000)
    with pytest.raises(ValueError, match=r"^(w of shape|pad) .* bytes"):
        conv_forward_strides(x, w, b, {"stride": 1, "pad": 1000})


@pytest.mark.parametrize("wrap", [lambda a: a.tolist(), lambda a: a.astype(
    a.dtype.newbyteorder("S"))], ids=["lists", "byte-swapped"])
def test_array_like_and_byte_order(wrap: Any) -> None:
    x, w, b = (RNG.standard_normal(s) for s in ((2, 3, 6, 6), (4, 3, 3, 3), (4,)))
    want = conv2d(x, w, b, padding=1)
    out, cache = conv_forward_strides(wrap(x), wrap(w), wrap(b), {"stride": 1, "pad": 1})
    np.testing.assert_allclose(out, want)
    grads = conv_backward_strides(wrap(out), cache)
    wants = conv2d_backward(out, x, w, padding=1)
    for k in range(3):
        np.testing.assert_allclose(grads[k], wants[k], atol=1e-12)


def test_masked_input_is_refused() -> None:
    x = np.ma.masked_greater(RNG.standard_normal((2, 3, 6, 6)), 1.0)
    with pytest.raises(TypeError, match=r"^x is a numpy\.ma\.MaskedArray with \d+ of "
                       r"216 elements masked"):
        conv_forward_strides(x, np.ones((4, 3, 3, 3)), np.zeros(4),
                             {"stride": 1, "pad": 1})


# ------------------------------------------------------------------ fuzz

@st.composite
def layer_calls(draw: st.DrawFn) -> dict[str, Any]:
    case = draw(cs231n_cases())
    dtype = np.dtype(draw(st.sampled_from([np.float32, np.float64])))
    args = {"x": valid_array(draw, case, case.x_shape, dtype),
            "w": valid_array(draw, case, case.w_shape, dtype),
            "b": valid_array(draw, case, (case.F,), dtype),
            "conv_param": {"stride": case.stride, "pad": case.padding}}
    param = st.one_of(ANYTHING, st.fixed_dictionaries({"stride": OPTION, "pad": OPTION}))
    return mutate(draw, args, {"x": weird_arrays(ndim=4), "w": weird_arrays(ndim=4),
                               "b": weird_arrays(ndim=1), "conv_param": param})


@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning",
                            "ignore:overflow:RuntimeWarning")
@FUZZ
@given(layer_calls(), st.data())
def test_fuzz_drop_in_layer(args: dict[str, Any], data: st.DataObject) -> None:
    """Forward and backward with arbitrary arguments: the reference or a named error."""
    result = run(conv_forward_strides, args)
    if result is None:
        return
    out, cache = result
    stride, pad = args["conv_param"]["stride"], args["conv_param"]["pad"]
    x, w, b = plain(args["x"]), plain(args["w"]), plain(args["b"])
    same(out, ref.conv2d(x, w, b, stride=stride, padding=pad))
    dout = data.draw(st.one_of(st.just(np.ones_like(out)), weird_arrays(ndim=4)))
    bad_cache = data.draw(st.one_of(st.just(cache), st.just(cache[:4]), ANYTHING))
    grads = run(conv_backward_strides, {"dout": dout, "cache": bad_cache},
                names=("dout", "cache", "x", "w", "conv_param", "x_cols"))
    if grads is not None:
        wants = ref.conv2d_backward(plain(dout), x, w, stride=stride, padding=pad)
        for k in range(3):
            same(grads[k], wants[k])
