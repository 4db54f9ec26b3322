"""conv_output_size: the formula, counted windows, the other functions.

The output shape against PyTorch is in test_torch.py.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from im2col import conv_output_size, im2col, window_view
from tests import reference as ref


@st.composite
def axes(draw: st.DrawFn) -> tuple[int, int, int, int, int]:
    """size, kernel, stride, padding, dilation with the kernel fitting."""
    k, s, p, d = (draw(st.integers(1, 6)), draw(st.integers(1, 4)),
                  draw(st.integers(0, 4)), draw(st.integers(1, 4)))
    low = max(1, d * (k - 1) + 1 - 2 * p)
    return draw(st.integers(low, low + 40)), k, s, p, d


@settings(max_examples=300)
@given(axis=axes())
def test_formula_and_counted_windows(axis: tuple[int, int, int, int, int]) -> None:
    size, k, s, p, d = axis
    n = conv_output_size(size, k, stride=s, padding=p, dilation=d)
    assert type(n) is int
    assert n == (size + 2 * p - d * (k - 1) - 1) // s + 1
    assert n == ref.out_len(size, k, s, (p, p), d)
    # the last window ends inside the padded input, one more would not
    last_end = (n - 1) * s + d * (k - 1)
    assert last_end <= size + 2 * p - 1 < last_end + s


@settings(max_examples=60)
@given(h=axes(), w=axes())
def test_im2col_and_window_view_use_the_same_sizes(
    h: tuple[int, int, int, int, int], w: tuple[int, int, int, int, int]
) -> None:
    (H, kh, sh, ph, dh), (W, kw, sw, pw, dw) = h, w
    oh = conv_output_size(H, kh, stride=sh, padding=ph, dilation=dh)
    ow = conv_output_size(W, kw, stride=sw, padding=pw, dilation=dw)
    x = np.zeros((1, 1, H, W), np.float32)
    opts = {"stride": (sh, sw), "padding": (ph, pw), "dilation": (dh, dw)}
    assert im2col(x, (kh, kw), **opts).shape == (kh * kw, oh * ow)
    xp = np.zeros((1, 1, H + 2 * ph, W + 2 * pw), np.int8)
    view = window_view(xp, (kh, kw), stride=(sh, sw), dilation=(dh, dw))
    assert view.shape[4:] == (oh, ow)


def test_docstring_values() -> None:
    assert conv_output_size(32, 3, stride=1, padding=1) == 32
    assert conv_output_size(31, 3, stride=2, padding=1) == 16
    assert conv_output_size(7, 3, dilation=2) == 3
    assert conv_output_size(5, 5) == 1


def test_numpy_integers_are_accepted() -> None:
    assert conv_output_size(np.int64(8), np.int32(3), stride=np.int16(2)) == 3
