"""Sizes no machine holds are refused before anything is allocated, with a
ValueError naming the argument that makes them large and the byte count.

Nothing here allocates much: the requests are refused from their computed
byte counts (broadcast arrays stand for large inputs at no cost), and the
refusals pin the machine's limit to 16 GiB with ``monkeypatch`` so that
they do not depend on this machine.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from im2col import (
    _checks,
    col2im,
    conv2d,
    conv2d_backward,
    im2col,
    peak_memory,
    window_view,
)

RNG = np.random.default_rng(13)
#: The limit the refusal tests pin, whatever the machine has.
LIMIT = 16 * 2**30


def normal(*shape: int, dtype: Any = np.float64) -> np.ndarray:
    return RNG.standard_normal(shape).astype(dtype)


# ------------------------------------------------- impossible sizes

@pytest.fixture
def limit(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Set the machine's memory limit to ``limit(n)`` bytes for one test."""
    def set_limit(n: int) -> None:
        monkeypatch.setattr(_checks, "memory_limit", lambda: n)
    return set_limit


@pytest.fixture
def machine(limit: Any) -> None:
    """A machine of 16 GiB, so that the refusals do not depend on this one."""
    limit(LIMIT)


def _refused(call: Any, argument: str, nbytes: int | None) -> None:
    with pytest.raises(ValueError, match=" bytes ") as info:
        call()
    text = str(info.value)
    assert text.startswith(argument), text
    assert f" take {nbytes or ''}".rstrip() in text, text
    assert f"more than the {LIMIT} bytes (16.0 GiB) of this machine's physical memory" in text, text


def test_huge_padding_is_refused_before_allocating(machine: None) -> None:
    """The issue's cases: ``padding=10**9``, and a 1x1 input with padding 200000."""
    x, w = normal(2, 3, 5, 5), normal(4, 3, 3, 3)
    side = 5 + 2 * 10**9 - 3 + 1
    _refused(lambda: conv2d(x, w, padding=10**9), "padding=1000000000",
             2 * 4 * side * side * 8)
    # backward: small gradients, but one row of the padded band is 43 GB
    side = 5 + 3 * 10**8 - 3 + 1
    dout = np.broadcast_to(0.0, (2, 4, side, side))   # 0 bytes: strides 0
    _refused(lambda: conv2d_backward(dout, x, w, padding=15 * 10**7),
             "padding=150000000 makes the gradients dx (2, 3, 5, 5), dw (4, 3, 3, 3), "
             "db float64 and one output row's work buffers", None)
    one = np.ones((1, 1, 1, 1))
    _refused(lambda: im2col(one, 1, padding=200000), "padding=200000",
             400001 * 400001 * 8)
    _refused(lambda: conv2d(one, one, padding=200000), "padding=200000",
             400001 * 400001 * 8)
    cols = np.broadcast_to(0.0, (1, 400001 * 400001))
    _refused(lambda: col2im(cols, (1, 1, 1, 1), 1, padding=200000),
             "padding=200000", 400001 * 400001 * 8 + 8)


def test_huge_backward_dx_names_the_padding_or_the_input(machine: None) -> None:
    """The backward pass's padded gradient and dx are checked too."""
    x = np.broadcast_to(0.0, (10**6, 3, 1000, 1000))   # a broadcast input: 8 bytes
    w = normal(4, 3, 1, 1)
    dout = np.broadcast_to(0.0, (10**6, 4, 1000, 1000))
    nbytes = (10**6 * 3 * 10**6 + 4 * 3 + 4) * 8
    _refused(lambda: conv2d_backward(dout, x, w), "x of shape (1000000, 3, 1000, 1000)",
             nbytes)


def test_huge_kernel_columns_are_refused(machine: None) -> None:
    """im2col of a 4000x4000 image with a 500x500 kernel: 22 TiB of columns."""
    x = np.broadcast_to(np.float64(1), (1, 1, 4000, 4000))
    _refused(lambda: im2col(x, 500), "kernel_size=500", 500 * 500 * 3501 * 3501 * 8)


def test_huge_batch_names_the_input(machine: None) -> None:
    x = np.broadcast_to(np.float32(0), (10**7, 3, 32, 32))
    w = normal(8, 3, 3, 3, dtype=np.float32)
    _refused(lambda: conv2d(x, w, padding=1), "x of shape (10000000, 3, 32, 32)",
             10**7 * 8 * 32 * 32 * 4)


def test_huge_filters_copy_is_refused(machine: None) -> None:
    """A broadcast (not C-ordered) ``w`` is copied by the call: checked first."""
    w = np.broadcast_to(0.0, (10**9, 3, 3, 3))
    _refused(lambda: conv2d(normal(1, 3, 3, 3), w), "w of shape (1000000000, 3, 3, 3)",
             10**9 * 27 * 8)


def test_window_view_larger_than_numpy_can_describe() -> None:
    """A view allocates nothing, but NumPy cannot describe more than intp bytes."""
    xp = np.broadcast_to(0.0, (1, 1, 10**7, 10**7))
    with pytest.raises(ValueError, match=r"^kernel_size=\(5000000, 5000000\) makes the "
                       r"window view .* of the most NumPy can address$"):
        window_view(xp, 5 * 10**6)


def test_byte_order_copy_is_checked(machine: None) -> None:
    x = np.broadcast_to(np.zeros((), ">f8"), (10**6, 3, 1000, 1000))
    with pytest.raises(ValueError, match=r"^x's byte order \(>f8\) makes its native copy"):
        conv2d(x, normal(1, 3, 1, 1))


def test_no_memory_error_escapes_the_issue_cases() -> None:
    """With this machine's own limit: a ValueError, never a MemoryError."""
    for call in (lambda: conv2d(np.ones((1, 1, 1, 1)), np.ones((1, 1, 1, 1)),
                                padding=200000),
                 lambda: im2col(np.broadcast_to(1.0, (1, 1, 4000, 4000)), 500)):
        with pytest.raises(ValueError, match="physical memory"):
            call()


def test_conv2d_plans_within_the_limit(limit: Any) -> None:
    """Without max_memory, buffers larger than the machine are planned smaller,
    not refused: the call runs in bands within what the output leaves."""
    x, w, b = normal(2, 8, 40, 40), normal(8, 8, 5, 5), normal(8)
    want = conv2d(x, w, b, padding=2, workers=1)
    out_bytes = want.nbytes
    limit(out_bytes + 400_000)         # the default plan's columns are ~1.6 MB
    got, peak = peak_memory(conv2d, x, w, b, padding=2, workers=1)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    assert peak <= out_bytes + 400_000
    dout = normal(*want.shape)
    want_grads = conv2d_backward(dout, x, w, padding=2, workers=1)
    limit(x.nbytes + w.nbytes + 8 * 8 + 400_000)
    grads, _ = peak_memory(conv2d_backward, dout, x, w, padding=2, workers=1)
    for k in range(3):
        np.testing.assert_allclose(grads[k], want_grads[k], rtol=1e-10, atol=1e-10)


def test_conv2d_refuses_when_not_even_one_row_fits(limit: Any) -> None:
    x, w = normal(2, 8, 40, 40), normal(8, 8, 5, 5)
    limit(2 * 8 * 36 * 36 * 8 + 100)   # the output fits, one row's buffers do not
    with pytest.raises(ValueError, match=r"^x of shape \(2, 8, 40, 40\) makes the "
                       r"output \(2, 8, 36, 36\) float64 and one output row's work "
                       r"buffers \(\d+ bytes\) take \d+ bytes"):
        conv2d(x, w)


def test_im2col_and_col2im_under_a_lowered_limit(limit: Any) -> None:
    x = normal(2, 3, 10, 10)
    cols = im2col(x, 3, padding=1)
    limit(cols.nbytes)                 # columns fit, columns + padded input do not
    with pytest.raises(ValueError, match=r"^kernel_size=3 makes the columns \(27, 200\) "
                       r"float64 and the padded input take 50112 bytes"):
        im2col(x, 3, padding=1)
    limit(2 * 3 * (12 * 12 + 10 * 10) * 8 - 1)   # padded gradient + result, less 1
    with pytest.raises(ValueError, match=r"^x_shape \(2, 3, 10, 10\) makes col2im's "
                       r"padded gradient \(2, 3, 12, 12\) float64 and its result "
                       r"take 11712 bytes"):
        col2im(cols, x.shape, 3, padding=1)
    limit(cols.nbytes + 2 * 3 * 12 * 12 * 8)
    np.testing.assert_array_equal(im2col(x, 3, padding=1), cols)
