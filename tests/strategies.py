"""Hypothesis strategies and the test profile shared by the package's tests.

Importing this module registers and loads the ``im2col`` profile: no
deadline (the machine is shared and busy), derandomized (every run tries the
same examples, so a failure reproduces), no example database written into
the tree. Set ``HYPOTHESIS_PROFILE=random`` to explore with fresh seeds.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import numpy as np
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

settings.register_profile(
    "im2col", deadline=None, derandomize=True, database=None,
    suppress_health_check=[HealthCheck.too_slow], print_blob=True,
)
settings.register_profile(
    "random", deadline=None, derandomize=False, database=None,
    suppress_health_check=[HealthCheck.too_slow], print_blob=True,
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "im2col"))

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
