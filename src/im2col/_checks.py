"""Argument checks shared by the public functions.

Every error names the argument, what was expected and what was received,
in the style of NumPy's ``numpy/lib/_stride_tricks_impl.py``.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

Pair = tuple[int, int]
#: ``((top, bottom), (left, right))`` zero padding, in elements.
Padding = tuple[Pair, Pair]

#: The dtypes accepted by the functions that do arithmetic.
FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def as_int(value: Any, name: str, *, minimum: int) -> int:
    """Return ``value`` as a Python int, or raise naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(
            f"{name} must be an int, got {type(value).__name__} {value!r}"
        )
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def as_pair(value: Any, name: str, *, minimum: int) -> Pair:
    """Return an int or an ``(h, w)`` pair of ints as a pair."""
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(
                f"{name} must be an int or a pair (h, w), got {len(value)} "
                f"values {tuple(value)!r}"
            )
        h = as_int(value[0], f"{name}[0]", minimum=minimum)
        w = as_int(value[1], f"{name}[1]", minimum=minimum)
        return h, w
    v = as_int(value, name, minimum=minimum)
    return v, v


def as_shape(value: Any, name: str, letters: str) -> tuple[int, int, int, int]:
    """Return a 4-tuple of positive ints, e.g. ``x_shape`` ``(N, C, H, W)``.

    A tuple, a list or a 1-D integer array (as ``numpy.zeros`` takes) will
    do; another type is a ``TypeError``, another length a ``ValueError``.
    """
    if isinstance(value, np.ndarray) and value.ndim == 1:
        value = tuple(value.tolist())
    expected = (f"{name} must be 4 ints ({', '.join(letters)}) in a tuple, a "
                "list or a 1-D integer array")
    if not isinstance(value, (tuple, list)):
        raise TypeError(f"{expected}, got {type(value).__name__} {value!r}")
    if len(value) != 4:
        raise ValueError(f"{expected}, got {value!r}")
    a, b, c, d = (as_int(v, f"{name}[{k}]", minimum=1) for k, v in enumerate(value))
    return a, b, c, d


def as_padding(
    padding: Any, kernel_size: Pair, dilation: Pair, stride: Pair
) -> Padding:
    """Normalise ``padding`` (int, pair, ``"valid"`` or ``"same"``)."""
    if isinstance(padding, str):
        if padding == "valid":
            return (0, 0), (0, 0)
        if padding == "same":
            if stride != (1, 1):
                raise ValueError(
                    "padding='same' needs stride 1 (as in PyTorch), got "
                    f"stride={stride}"
                )
            sides = []
            for k, d in zip(kernel_size, dilation):  # two pairs
                total = d * (k - 1)
                sides.append((total // 2, total - total // 2))
            return sides[0], sides[1]
        raise ValueError(
            "padding must be an int, a pair (h, w), 'valid' or 'same', "
            f"got {padding!r}"
        )
    ph, pw = as_pair(padding, "padding", minimum=0)
    return (ph, ph), (pw, pw)


def as_array(x: Any, name: str, ndim: int, *, float_only: bool = True) -> np.ndarray:
    """Return ``x`` as an ndarray with ``ndim`` dimensions and a usable dtype."""
    if not isinstance(x, np.ndarray):
        raise TypeError(
            f"{name} must be a numpy.ndarray, got {type(x).__name__}; "
            f"wrap it with numpy.asarray"
        )
    if x.ndim != ndim:
        raise ValueError(
            f"{name} must have {ndim} dimension{'s' if ndim != 1 else ''}, got "
            f"{x.ndim} with shape {x.shape}"
        )
    if float_only and x.dtype not in FLOAT_DTYPES:
        raise TypeError(
            f"{name} must have dtype float32 or float64, got {x.dtype}; "
            f"convert it with {name}.astype(numpy.float64)"
        )
    if not float_only and not (
        np.issubdtype(x.dtype, np.number) or x.dtype == np.bool_
    ):
        raise TypeError(f"{name} must have a numeric dtype, got {x.dtype}")
    return x


def same_dtype(**arrays: np.ndarray | None) -> None:
    """Raise ``TypeError`` unless every given array has the same dtype."""
    given = {k: v.dtype for k, v in arrays.items() if v is not None}
    if len(set(given.values())) > 1:
        listed = ", ".join(f"{k} is {d}" for k, d in given.items())
        raise TypeError(
            f"{', '.join(given)} must have the same dtype, got: {listed}; "
            "convert them with .astype(...) first"
        )


def output_size(
    size: int, kernel: int, stride: int, pad: Pair, dilation: int, axis: str,
    name: str = "kernel_size",
) -> int:
    """Output length along one axis; a ValueError naming ``name`` if none fits.

    ``axis`` (``"height"``, ``"width"``) is named in the message unless empty.
    """
    span = dilation * (kernel - 1) + 1
    padded = size + pad[0] + pad[1]
    if span > padded:
        along = f" along {axis}" if axis else ""
        raise ValueError(
            f"{name}{along} spans {span} elements (kernel {kernel}, "
            f"dilation {dilation}), larger than the padded input {padded} "
            f"(size {size} + padding {pad[0]} + {pad[1]})"
        )
    return (padded - span) // stride + 1
