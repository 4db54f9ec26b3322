"""_compat: NumPy's own checks where this NumPy has them, the same rules otherwise.

Each test runs on both paths: ``native`` (NumPy >= 2.5 for ``as_strided``'s
``check_bounds``, >= 2.1 for ``np.reshape``'s ``copy``; skipped, with the
reason, on an older NumPy) and ``fallback`` (forced on any NumPy).
``make test-pythons`` runs them on NumPy 1.26 and on the newest NumPy.
"""

from __future__ import annotations

import inspect

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.lib import NumpyVersion
from numpy.lib.stride_tricks import as_strided

import tests.strategies  # noqa: F401  (loads the hypothesis profile)
from im2col import _compat, window_view
from im2col._compat import byte_bounds, reshape_view, strided_view

NUMPY = NumpyVersion(np.__version__)
HAS_CHECK_BOUNDS = "check_bounds" in inspect.signature(as_strided).parameters
HAS_RESHAPE_COPY = "copy" in inspect.signature(np.reshape).parameters


def test_native_paths_are_found_by_numpy_version() -> None:
    from_2_5, from_2_1 = NUMPY >= "2.5.0", NUMPY >= "2.1.0"
    assert from_2_5 == _compat.AS_STRIDED_CHECKS_BOUNDS
    assert from_2_1 == _compat.RESHAPE_TAKES_COPY


@pytest.fixture(params=["native", "fallback"])
def bounds_path(request: pytest.FixtureRequest,
                monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "native" and not HAS_CHECK_BOUNDS:
        pytest.skip(f"NumPy {np.__version__}'s as_strided has no check_bounds")
    monkeypatch.setattr(_compat, "AS_STRIDED_CHECKS_BOUNDS", request.param == "native")
    return str(request.param)


@pytest.fixture(params=["native", "fallback"])
def reshape_path(request: pytest.FixtureRequest,
                 monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "native" and not HAS_RESHAPE_COPY:
        pytest.skip(f"NumPy {np.__version__}'s reshape has no copy")
    monkeypatch.setattr(_compat, "RESHAPE_TAKES_COPY", request.param == "native")
    return str(request.param)


def test_byte_bounds_are_the_first_and_one_past_the_last_byte() -> None:
    a = np.arange(12, dtype=np.float32).reshape(3, 4)
    lo, hi = byte_bounds(a)
    assert hi - lo == a.nbytes
    lo_r, hi_r = byte_bounds(a[::-1, 1:3])     # negative stride, sliced columns
    assert (lo_r - lo, hi_r - lo) == (4, 11 * 4)


def test_strided_view_in_bounds_is_a_read_only_view(bounds_path: str) -> None:
    x = np.arange(10.0)
    v = strided_view(x, (4, 3), (16, 8))       # windows of 3, step 2
    np.testing.assert_array_equal(v, [[0, 1, 2], [2, 3, 4], [4, 5, 6], [6, 7, 8]])
    assert not v.flags.writeable
    assert np.shares_memory(v, x)


@pytest.mark.parametrize(("shape", "strides"), [
    ((11,), (8,)),          # one element past the end
    ((6,), (16,)),          # the sixth step of 2 lands past the end
    ((2, 10), (8, 8)),      # the second row runs one past
    ((3,), (-8,)),          # backwards from the first element
])
def test_strided_view_out_of_bounds_is_refused(
    bounds_path: str, shape: tuple[int, ...], strides: tuple[int, ...]
) -> None:
    with pytest.raises(ValueError, match="out of bounds"):
        strided_view(np.arange(10.0), shape, strides)


def test_bounds_are_the_owners_memory_not_the_slice(bounds_path: str) -> None:
    """NumPy's rule: a view of a slice may read the rest of the owner's memory
    (the documented example of ``check_bounds``), not past it."""
    a = np.arange(1000)
    b = a[:2]
    assert strided_view(b, (2,), (400,)).tolist() == [0, 50]
    with pytest.raises(ValueError, match="out of bounds"):
        strided_view(b, (3,), (4000,))
    with pytest.raises(ValueError, match="out of bounds"):
        strided_view(a[5:], (7,), (-a.itemsize,))   # 5 steps back is the start


def test_window_view_takes_either_path(bounds_path: str) -> None:
    xp = np.arange(2 * 3 * 5 * 6, dtype=np.float64).reshape(2, 3, 5, 6)[:, :, ::-1]
    v = window_view(xp, 3, stride=2)
    assert v.shape == (3, 3, 3, 2, 2, 2)
    assert v[1, 2, 0, 1, 1, 0] == xp[1, 1, 2 + 2, 0]


@st.composite
def raw_views(draw: st.DrawFn) -> tuple[np.ndarray, tuple[int, ...], tuple[int, ...]]:
    """A slice of an owner array and any shape and element strides."""
    owner = np.arange(draw(st.integers(1, 40)), dtype=draw(st.sampled_from(
        [np.int8, np.float32, np.float64])))
    start = draw(st.integers(0, owner.size - 1))
    stop = draw(st.integers(start + 1, owner.size))
    x = owner[start:stop:draw(st.sampled_from([1, 2]))]
    ndim = draw(st.integers(1, 3))
    shape = tuple(draw(st.lists(st.integers(0, 6), min_size=ndim, max_size=ndim)))
    steps = draw(st.lists(st.integers(-6, 6), min_size=ndim, max_size=ndim))
    return x, shape, tuple(s * x.itemsize for s in steps)


@pytest.mark.skipif(not HAS_CHECK_BOUNDS,
                    reason=f"NumPy {np.__version__}'s as_strided has no check_bounds")
@settings(max_examples=300)
@given(case=raw_views())
def test_fallback_refuses_exactly_what_numpy_refuses(
    case: tuple[np.ndarray, tuple[int, ...], tuple[int, ...]],
) -> None:
    x, shape, strides = case
    try:
        as_strided(x, shape, strides, check_bounds=True)  # type: ignore[call-overload, unused-ignore]
    except ValueError:
        native_refuses = True
    else:
        native_refuses = False
    view = as_strided(x, shape, strides)
    try:
        _compat.check_bounds(view, x)
    except ValueError:
        fallback_refuses = True
    else:
        fallback_refuses = False
    assert fallback_refuses == native_refuses


def test_reshape_view_is_a_view(reshape_path: str) -> None:
    a = np.zeros((2, 3, 4))[:, :, ::-1]        # negative stride, still reshapable
    v = reshape_view(a, (6, 4))
    v[...] = 1.0
    assert a.all()


def test_reshape_view_refuses_to_copy(reshape_path: str) -> None:
    a = np.zeros((3, 4)).T
    with pytest.raises(ValueError, match="copy"):
        reshape_view(a, (12,))
