"""Arbitrary arguments for the fuzz tests, and the checks of every call.

:func:`run` calls a function and asserts the fuzz tests' contract: a result,
or a ``ValueError``/``TypeError`` naming one of the function's arguments;
no modified input; no result sharing an input's memory (but for views).
"""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
from hypothesis import settings
from hypothesis import strategies as st

import im2col
from tests.strategies import LAYOUTS, Case, lay_out, random_array, tolerance

#: Examples per function in CI; ``FUZZ_EXAMPLES`` overrides it.
CI_EXAMPLES = 200
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", CI_EXAMPLES))
FUZZ = settings(max_examples=EXAMPLES)
TRIED: Counter[str] = Counter()     # calls per function
RETURNED: Counter[str] = Counter()  # of which returned (and were compared)

ALL_DTYPES = [np.dtype(t) for t in (
    "bool", "int8", "uint8", "int16", "uint16", "int32", "uint32", "int64", "uint64",
    "float16", "float32", "float64", "longdouble", "complex64", "complex128",
    "clongdouble", "object", "U2", "S2", "datetime64[s]", "timedelta64[s]", "V8")]
ALL_DTYPES += [d.newbyteorder("S") for d in ALL_DTYPES if d.byteorder not in "|"]
NUMERIC = [d for d in ALL_DTYPES if d.kind in "biufc"]
SPECIALS = (np.nan, np.inf, -np.inf, 0.0, -0.0)


class Wrapped:
    """Only ``__array__``, as many array libraries offer."""

    def __init__(self, a: np.ndarray) -> None:
        self.a = a

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        return self.a if dtype is None else self.a.astype(dtype)


class Tagged(np.ndarray):
    """A plain ndarray subclass."""


# ------------------------------------------------------------ strategies

HUGE = st.sampled_from([10**12, 2**62, 2**63, 2**64 + 1, -(2**70), 10**100, -1, 0])
ANYTHING = st.one_of(
    st.none(), st.booleans(), st.integers(-3, 5), HUGE,
    st.floats(allow_nan=True, allow_infinity=True), st.complex_numbers(),
    st.text(max_size=4), st.binary(max_size=4),
    st.sampled_from(["same", "valid", "SAME", "", "3", b"1", object(), int, np,
                     np.int64(2), np.uint8(3), np.float32(2.0), np.bool_(True),
                     np.array(2), np.array([1, 2]), np.array([[1]]), (1, 2, 3), [],
                     (2, "a"), (2.0, 1), {"stride": 1}, {1, 2}, range(2), slice(2)]),
    st.lists(st.integers(-2, 5), max_size=5).map(tuple),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)
OPTION = st.one_of(st.integers(-2, 5), HUGE, st.tuples(st.integers(-1, 5), HUGE),
                   st.tuples(HUGE, st.integers(1, 3)), ANYTHING)


@st.composite
def weird_arrays(draw: st.DrawFn, ndim: int | None = None) -> Any:
    """Any dtype, shape, layout and wrapper (list, mask, view, broadcast...)."""
    nd = draw(st.sampled_from([ndim, ndim, 0, 1, 2, 3, 4, 5])) if ndim else draw(
        st.integers(0, 5))
    shape = tuple(draw(st.lists(st.integers(0, 4), min_size=nd, max_size=nd)))
    dtype = draw(st.sampled_from(ALL_DTYPES))
    a = _values(draw, shape, dtype)
    return _wrap(draw, a)


def _values(draw: st.DrawFn, shape: tuple[int, ...], dtype: np.dtype[Any]) -> np.ndarray:
    kind = dtype.kind
    if kind in "biufc":
        a = random_array(draw(st.integers(0, 2**16)), shape, dtype.newbyteorder("="))
        return np.array(a, dtype=dtype, ndmin=0)
    if kind == "O":
        return np.full(shape, draw(st.sampled_from([None, 1.5, "a", (1,)])), dtype=object)
    return np.zeros(shape, dtype)


def _specials(draw: st.DrawFn, a: np.ndarray) -> np.ndarray:
    """Put NaN, inf or signed zeros at a few places of a float array."""
    if a.dtype.kind in "fc" and a.size and draw(st.booleans()):
        for i in draw(st.lists(st.integers(0, a.size - 1), max_size=3)):
            a[np.unravel_index(i, a.shape)] = draw(st.sampled_from(SPECIALS))
    return a


def _wrap(draw: st.DrawFn, a: np.ndarray) -> Any:
    how = draw(st.sampled_from(["plain", "layout", "list", "masked", "tagged",
                                "wrapped", "broadcast", "readonly", "swapped"]))
    if how == "layout" and a.ndim == 4:
        return _specials(draw, lay_out(a, draw(st.sampled_from(LAYOUTS))))
    a = _specials(draw, a)
    if how == "list":
        return a.tolist()
    if how == "masked":
        return np.ma.masked_array(a, mask=draw(st.booleans()))
    if how == "tagged":
        return a.view(Tagged)
    if how == "wrapped":
        return Wrapped(a)
    if how == "broadcast" and a.ndim:
        return np.broadcast_to(a[(slice(0, 1),) * a.ndim], a.shape)
    if how == "readonly":
        a.flags.writeable = False
    if how == "swapped" and a.dtype.byteorder != "|":
        return a.astype(a.dtype.newbyteorder("S"))
    return a


def valid_array(draw: st.DrawFn, case: Case, shape: tuple[int, ...],
                dtype: np.dtype[Any]) -> np.ndarray:
    """A valid array of ``shape`` in any layout, possibly byte-swapped."""
    a = _values(draw, shape, dtype)
    if len(shape) == 4:
        a = lay_out(a, draw(st.sampled_from(LAYOUTS)))
    a = _specials(draw, a)
    if draw(st.integers(0, 4)) == 0 and a.dtype.byteorder != "|":
        a = a.astype(a.dtype.newbyteorder("S"))
    return a


def mutate(draw: st.DrawFn, args: dict[str, Any],
           garbage: dict[str, st.SearchStrategy[Any]]) -> dict[str, Any]:
    """Replace up to three arguments with garbage (often none)."""
    names = draw(st.sets(st.sampled_from(sorted(garbage)), max_size=3))
    return {**args, **{n: draw(garbage[n]) for n in sorted(names)}}


# --------------------------------------------------------------- checks

def _snapshot(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        # the raw buffer: a MaskedArray's own tobytes() writes its fill value
        # into a new buffer, whose padding bytes (long double) are arbitrary
        raw = np.ma.getdata(value).tobytes()
        return (value.dtype, value.shape, value.flags.writeable, raw,
                None if not isinstance(value, np.ma.MaskedArray)
                else np.ma.getmaskarray(value).tobytes())
    if isinstance(value, Wrapped):
        return _snapshot(value.a)
    if isinstance(value, (list, tuple, dict)):
        return repr(value)
    return value if isinstance(value, (int, str, bytes)) else None


def _arrays(value: Any) -> Iterator[np.ndarray]:
    if isinstance(value, np.ndarray):
        yield value
    elif isinstance(value, Wrapped):
        yield value.a
    elif isinstance(value, tuple):
        for v in value:
            yield from _arrays(v)


def names_argument(message: str, names: tuple[str, ...]) -> bool:
    return any(re.search(rf"(?<![\w]){re.escape(n)}(?!\w)", message) for n in names)


def run(func: Callable[..., Any], args: dict[str, Any],
        names: tuple[str, ...] | None = None) -> Any:
    """Call ``func(**args)``; None if it raised a named ValueError/TypeError."""
    TRIED[func.__name__] += 1
    names = names or tuple(args)
    before = {k: _snapshot(v) for k, v in args.items()}
    error = ""
    try:
        result = func(**args)
    except (ValueError, TypeError) as e:
        error, result = f"{type(e).__name__}: {e}", None
    else:
        RETURNED[func.__name__] += 1
    assert not error or names_argument(error, names), error
    for k, v in args.items():
        assert _snapshot(v) == before[k], f"{k} was modified"
    if result is not None:
        for out in (result if isinstance(result, tuple) else (result,)):
            if isinstance(out, np.ndarray) and func is not im2col.window_view:
                assert out.flags.writeable
                for a in (a for v in args.values() for a in _arrays(v)):
                    assert not np.may_share_memory(out, a), "result shares an input"
    return result


def same(got: np.ndarray, want: np.ndarray, *, exact: bool = False) -> None:
    """Equal to the reference; where inputs held NaN/inf, equal where finite."""
    assert got.shape == want.shape
    if exact:
        np.testing.assert_array_equal(got, want.astype(got.dtype))
        return
    g, w = got.astype(np.complex128), want.astype(np.complex128)
    finite = np.isfinite(g) & np.isfinite(w)
    np.testing.assert_allclose(g[finite], w[finite], **tolerance(got.dtype))
    assert not (np.isnan(w) & np.isfinite(g)).any(), "a NaN of the reference is finite"


def plain(value: Any) -> Any:
    return np.asarray(value.a if isinstance(value, Wrapped) else value)
