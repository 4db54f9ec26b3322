"""What differs between the NumPy versions the package supports (1.26 to 2.x).

- ``byte_bounds`` moved from ``numpy`` to ``numpy.lib.array_utils`` in
  NumPy 2.0.
- ``as_strided`` checks the bounds of the view it makes only from NumPy 2.5
  on, when asked with ``check_bounds=True``. :func:`strided_view` asks where
  NumPy can, and applies the same check itself where it cannot.
- ``np.reshape(..., copy=False)`` (never copy) exists from NumPy 2.1 on;
  :func:`reshape_view` is the same on older NumPy.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence

import numpy as np
from numpy.lib.stride_tricks import as_strided

try:
    from numpy.lib.array_utils import byte_bounds
except ImportError:  # NumPy 1.26
    byte_bounds = np.byte_bounds  # type: ignore[attr-defined]  # noqa: NPY201

#: Whether this NumPy's ``as_strided`` has ``check_bounds`` (NumPy >= 2.5).
#: Tests set it to False to run the fallback on any NumPy.
AS_STRIDED_CHECKS_BOUNDS = "check_bounds" in inspect.signature(as_strided).parameters

#: Whether ``np.reshape`` takes ``copy`` (NumPy >= 2.1); tests set it to False.
RESHAPE_TAKES_COPY = "copy" in inspect.signature(np.reshape).parameters


def strided_view(
    x: np.ndarray, shape: Sequence[int], strides: Sequence[int]
) -> np.ndarray:
    """Return the read-only view of ``x`` with ``shape`` and byte ``strides``.

    Raises ``ValueError`` if the view could reach a byte outside the memory
    of the array that owns ``x``'s buffer, the rule of NumPy 2.5's
    ``as_strided(..., check_bounds=True)``, which is used where it exists.
    """
    if AS_STRIDED_CHECKS_BOUNDS:
        return as_strided(  # type: ignore[call-overload, no-any-return, unused-ignore]
            x, shape, strides, writeable=False, check_bounds=True)
    view = as_strided(x, shape, strides, writeable=False)
    check_bounds(view, x)
    return view


def check_bounds(view: np.ndarray, x: np.ndarray) -> None:
    """Raise ``ValueError`` if ``view`` may reach outside the memory of ``x``.

    The memory is that of the array that owns ``x``'s buffer (``x``'s last
    ndarray ``base``), as NumPy 2.5's ``check_bounds=True`` has it.
    """
    owner = x
    while isinstance(owner.base, np.ndarray):
        owner = owner.base
    lo, hi = byte_bounds(view)
    owner_lo, owner_hi = byte_bounds(owner)
    if lo < owner_lo or hi > owner_hi:
        raise ValueError(
            f"strided view would access memory out of bounds: it spans bytes "
            f"[{lo - owner_lo}, {hi - owner_lo}) of a buffer of "
            f"{owner_hi - owner_lo} bytes"
        )


def reshape_view(a: np.ndarray, shape: Sequence[int]) -> np.ndarray:
    """Return ``a`` reshaped to ``shape`` without copying, as a view.

    Raises ``ValueError`` if that needs a copy, as ``np.reshape(a, shape,
    copy=False)`` does, which is used where it exists.
    """
    if RESHAPE_TAKES_COPY:
        return np.reshape(a, shape, copy=False)  # type: ignore[call-overload, no-any-return, unused-ignore]
    view = a.reshape(shape)
    if view.size and view.__array_interface__["data"][0] != a.__array_interface__["data"][0]:
        raise ValueError(
            f"cannot reshape an array of shape {a.shape} and strides {a.strides} "
            f"to {tuple(shape)} without copying it"
        )
    return view
