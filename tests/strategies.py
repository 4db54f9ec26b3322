"""Hypothesis strategies, the array builder and the helpers of the package's tests.

The Hypothesis profile is registered in ``tests/conftest.py``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, NamedTuple
from unittest import mock

import numpy as np
from hypothesis import strategies as st

from im2col import _rules
from tests import reference as ref

FLOATS = (np.float32, np.float64)

#: Memory layouts an NCHW input may come in; see :func:`lay_out`.
LAYOUTS = ("C", "F", "transposed", "channels_last", "full_transpose", "sliced",
           "channel_step", "negative")


def lay_out(a: np.ndarray, layout: str) -> np.ndarray:
    """Return an array equal to the 4-D ``a`` with the given memory layout.

    - ``C``: C-contiguous copy.
    - ``F``: ``np.asfortranarray``.
    - ``transposed``: H and W swapped in memory, swapped back as a view.
    - ``channels_last``: an NHWC buffer viewed as NCHW.
    - ``full_transpose``: ``.T`` of a C-ordered ``(W, H, C, N)`` buffer.
    - ``sliced``: ``base[:, :, ::2, 1:]`` of a bigger array.
    - ``channel_step``: ``base[:, 1::3]``, stepping over channels too.
    - ``negative``: ``base[:, :, ::-1, ::-1]`` of a flipped copy.
    """
    N, C, H, W = a.shape
    if layout == "C":
        out = np.ascontiguousarray(a)
    elif layout == "F":
        out = np.asfortranarray(a)
    elif layout == "transposed":
        out = np.ascontiguousarray(a.transpose(0, 1, 3, 2)).transpose(0, 1, 3, 2)
    elif layout == "channels_last":
        out = np.ascontiguousarray(a.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)
    elif layout == "full_transpose":
        out = np.ascontiguousarray(a.T).T
    elif layout == "sliced":
        base = np.full((N, C, 2 * H, W + 1), 7, dtype=a.dtype)
        base[:, :, ::2, 1:] = a
        out = base[:, :, ::2, 1:]
    elif layout == "channel_step":
        base = np.full((N, 3 * C + 1, H, W), 7, dtype=a.dtype)
        base[:, 1::3] = a
        out = base[:, 1::3]
    elif layout == "negative":
        base = np.ascontiguousarray(a[:, :, ::-1, ::-1])
        out = base[:, :, ::-1, ::-1]
    else:  # pragma: no cover - a typo in a test
        raise ValueError(layout)
    assert np.array_equal(out, a)
    return out


layouts = st.sampled_from(LAYOUTS)
floats = st.sampled_from(FLOATS)


def random_array(seed: int, shape: tuple[int, ...], dtype: Any) -> np.ndarray:
    """Standard normal values (or small ints / bools) of a dtype, reproducibly."""
    rng = np.random.default_rng(seed)
    dtype = np.dtype(dtype)
    if dtype == np.bool_:
        return rng.integers(0, 2, size=shape).astype(bool)
    if np.issubdtype(dtype, np.integer):
        return rng.integers(-100, 100, size=shape).astype(dtype)
    if np.issubdtype(dtype, np.complexfloating):
        return (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)).astype(dtype)
    return rng.standard_normal(shape).astype(dtype)


class Arrays(NamedTuple):
    """The arrays of one convolution: input, filters, bias, upstream gradient."""

    x: np.ndarray
    w: np.ndarray
    b: np.ndarray
    dout: np.ndarray


def conv_arrays(x_shape: tuple[int, ...], w_shape: tuple[int, ...],
                dtype: Any = np.float64, seed: int = 0, **options: Any) -> Arrays:
    """Standard normal ``x, w, b, dout`` of a convolution, reproducibly.

    ``options`` (``stride``, ``padding``, ``dilation``) give ``dout``'s
    shape; ``w_shape[1]`` may be ``C/groups``.
    """
    g = ref.Geometry(tuple(x_shape), tuple(w_shape[2:]), options.get("stride", 1),
                     options.get("padding", 0), options.get("dilation", 1))
    return Arrays(random_array(seed, x_shape, dtype),
                  random_array(seed + 1, w_shape, dtype),
                  random_array(seed + 2, (w_shape[0],), dtype),
                  random_array(seed + 3, (x_shape[0], w_shape[0], g.oh, g.ow),
                               dtype))


@contextmanager
def threads_for_tiny_calls() -> Iterator[None]:
    """Inside the block, even a tiny convolution may get worker threads (by
    default a worker needs millions of multiply-adds), so tests run the
    threaded path on small shapes."""
    with mock.patch.object(_rules, "WORK_PER_WORKER", 1):
        yield


def assert_each_close(got: Any, want: Any, **tolerances: Any) -> None:
    """``assert_allclose`` on each pair of two equally long sequences of arrays."""
    assert len(got) == len(want)
    for k in range(len(got)):
        np.testing.assert_allclose(got[k], want[k], **tolerances)


def tolerance(dtype: Any) -> dict[str, float]:
    """``assert_allclose`` tolerances for results of ``dtype`` against float64."""
    if np.dtype(dtype) == np.float32:
        return {"rtol": 2e-4, "atol": 2e-4}
    return {"rtol": 1e-10, "atol": 1e-10}


@dataclass(frozen=True)
class Case:
    """One convolution: shapes and options, all valid together."""

    N: int
    C: int
    H: int
    W: int
    F: int
    kh: int
    kw: int
    stride: Any
    padding: Any
    dilation: Any
    groups: int
    seed: int

    @property
    def x_shape(self) -> tuple[int, int, int, int]:
        return self.N, self.C, self.H, self.W

    @property
    def w_shape(self) -> tuple[int, int, int, int]:
        return self.F, self.C // self.groups, self.kh, self.kw

    @property
    def kernel(self) -> tuple[int, int]:
        return self.kh, self.kw

    def options(self) -> dict[str, Any]:
        """``stride``, ``padding``, ``dilation`` as keyword arguments."""
        return {"stride": self.stride, "padding": self.padding,
                "dilation": self.dilation}

    def arrays(self, dtype: Any) -> Arrays:
        """The case's ``x, w, b, dout`` (see :func:`conv_arrays`)."""
        return conv_arrays(self.x_shape, self.w_shape, dtype, self.seed,
                           **self.options())


def _pair_of(values: st.SearchStrategy[int]) -> st.SearchStrategy[Any]:
    """An int, or an ``(h, w)`` tuple of two ints."""
    return st.one_of(values, st.tuples(values, values))


def _sides(padding: Any, k: int, d: int, axis: int) -> int:
    """Total zeros along one axis (both sides) for a padding spec."""
    if padding == "valid":
        return 0
    if padding == "same":
        return d * (k - 1)
    p = padding[axis] if isinstance(padding, tuple) else padding
    return 2 * p


@st.composite
def cases(
    draw: st.DrawFn, *, groups: bool = True, dilation: bool = True,
    strings: bool = True, pairs: bool = True, max_n: int = 3,
) -> Case:
    """Draw a valid convolution: N 1-3, C 1-4, H/W up to 9 (or the kernel span),
    kernels 1-4, stride 1-3, padding 0-3 / pairs / 'same' / 'valid',
    dilation 1-3, groups dividing C and F."""
    N = draw(st.integers(1, max_n))
    G = draw(st.integers(1, 4)) if groups else 1
    C = G * draw(st.integers(1, 4 // G))
    F = G * draw(st.integers(1, max(1, 4 // G)))
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    small = st.integers(1, 3)
    dil = draw(_pair_of(small) if pairs else small) if dilation else 1
    dh, dw = (dil, dil) if isinstance(dil, int) else dil
    kinds = ["int", "pair", "same", "valid"] if strings else ["int"]
    if not pairs:
        kinds = [k for k in kinds if k != "pair"]
    kind = draw(st.sampled_from(kinds))
    if kind == "int":
        padding: Any = draw(st.integers(0, 3))
    elif kind == "pair":
        padding = draw(st.tuples(st.integers(0, 3), st.integers(0, 3)))
    else:
        padding = kind
    stride: Any = 1 if kind == "same" else draw(_pair_of(small) if pairs else small)
    # the smallest input the (dilated) kernel fits in, once padded
    min_h = max(1, dh * (kh - 1) + 1 - _sides(padding, kh, dh, 0))
    min_w = max(1, dw * (kw - 1) + 1 - _sides(padding, kw, dw, 1))
    H = draw(st.integers(min_h, max(min_h, 9)))
    W = draw(st.integers(min_w, max(min_w, 9)))
    seed = draw(st.integers(0, 2**32 - 1))
    return Case(N, C, H, W, F, kh, kw, stride, padding, dil, G, seed)


def cs231n_cases(**kwargs: Any) -> st.SearchStrategy[Case]:
    """Cases cs231n's layer can run: int stride and pad, no dilation/groups."""
    return cases(groups=False, dilation=False, strings=False, pairs=False,
                 **kwargs)
