"""Argument checks shared by the public functions.

Every error names the argument, what was expected and what was received,
in the style of NumPy's ``numpy/lib/_stride_tricks_impl.py``. The rules for
unusual input (array_like, byte order, subclasses, masked arrays, empty
dimensions, sizes no machine can hold) are decided here once:

- Arrays are *array_like*, as for NumPy's own functions: an ndarray (any
  subclass: ``numpy.memmap``, ...), nested sequences, or any object with
  ``__array__`` or the buffer protocol, converted by ``numpy.asarray``
  (no copy for an ndarray; a subclass becomes a plain ndarray view).
- A ``numpy.ma.MaskedArray`` is refused with a ``TypeError`` that counts
  its masked elements: a convolution has no rule for a masked tap, and
  ``numpy.asarray`` would drop the mask silently.
- The arithmetic functions convert a non-native byte order (``>f8`` on a
  little-endian machine) to native, one copy of that array, as NumPy's
  ufuncs return native results; the copying functions (``im2col``,
  ``window_view``) keep the dtype as given, byte order included, as
  ``ndarray.copy`` does.
- Integers are anything ``operator.index`` takes (int, NumPy integers,
  0-d integer arrays), but not ``bool``.
- A request whose bytes exceed :func:`memory_limit` is impossible: a
  ``ValueError`` naming the argument that makes it large and the byte count
  is raised before anything is allocated.
"""

from __future__ import annotations

import functools
import operator
import os
import sys
from typing import Any

import numpy as np

Pair = tuple[int, int]
#: ``((top, bottom), (left, right))`` zero padding, in elements.
Padding = tuple[Pair, Pair]

#: The dtypes accepted by the functions that do arithmetic.
FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))

#: The most bytes one NumPy array can have (``numpy.intp``'s maximum).
ADDRESSABLE = int(np.iinfo(np.intp).max)


@functools.cache
def memory_limit() -> int:
    """Bytes beyond which a request is impossible on this machine.

    The machine's physical memory as ``os.sysconf`` reports it (the most a
    call could ever get, whatever else is running), at most
    :data:`ADDRESSABLE`; where the system does not report it, ADDRESSABLE.
    A request under this limit may still fail with NumPy's ``MemoryError``
    when the memory is in use at the time: that depends on the moment, not
    on the arguments.
    """
    try:
        physical = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):  # pragma: no cover - not POSIX
        return ADDRESSABLE
    return min(physical, ADDRESSABLE) if physical > 0 else ADDRESSABLE


def _human(n: int) -> str:
    """``1280006400008`` -> ``'1.2 TiB'``."""
    size = float(n)
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if size < 1024 or unit == "PiB":
            return f"{size:.0f} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024
    raise AssertionError  # pragma: no cover


def check_bytes(nbytes: int, what: str, default: str, *candidates: tuple[str, float],
                limit: int | None = None) -> None:
    """Raise ``ValueError`` if ``nbytes`` exceed ``limit`` (:func:`memory_limit`).

    The message starts with the argument that makes the request large and
    says what would be allocated (``what``, e.g. ``"the padded input (1, 1,
    400001, 400001) float64"``). Each candidate is ``(name, factor)``, e.g.
    ``("padding=200000", 1.6e11)``: the factor by which that argument
    multiplies the size. Named is the candidate with the largest factor
    without which the request would fit, else ``default`` (typically the
    input and its shape).
    """
    limit = memory_limit() if limit is None else limit
    if nbytes <= limit:
        return
    culprits = [c for c in candidates if c[1] >= 2 and nbytes / c[1] <= limit]
    name = max(culprits, key=lambda c: c[1])[0] if culprits else default
    where = ("the most NumPy can address" if limit >= ADDRESSABLE
             else "this machine's physical memory")
    raise ValueError(
        f"{name} makes {what} take {nbytes} bytes ({_human(nbytes)}), "
        f"more than the {limit} bytes ({_human(limit)}) of {where}"
    )


def as_int(value: Any, name: str, *, minimum: int) -> int:
    """Return ``value`` as a Python int, or raise naming ``name``.

    Anything ``operator.index`` takes will do (int, NumPy integers, 0-d
    integer arrays), as for NumPy's shape arguments; ``bool`` will not.
    """
    try:
        if isinstance(value, (bool, np.bool_)):
            raise TypeError
        v = operator.index(value)
    except TypeError:
        raise TypeError(
            f"{name} must be an int, got {type(value).__name__} {_short(value)}"
        ) from None
    if v < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {v}")
    return int(v)


def _short(value: Any) -> str:
    """``repr`` cut to 80 characters (a received value can be huge)."""
    try:
        text = repr(value)
    except Exception:  # an object whose repr fails is still named
        text = f"<{type(value).__name__} object>"
    return text if len(text) <= 80 else text[:77] + "..."


def as_pair(value: Any, name: str, *, minimum: int) -> Pair:
    """Return an int or an ``(h, w)`` pair of ints as a pair."""
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(
                f"{name} must be an int or a pair (h, w), got {len(value)} "
                f"values {_short(tuple(value))}"
            )
        h = as_int(value[0], f"{name}[0]", minimum=minimum)
        w = as_int(value[1], f"{name}[1]", minimum=minimum)
        return h, w
    v = as_int(value, name, minimum=minimum)
    return v, v


#: Smallest size of each axis of a shape: empty batches (N = 0) and empty
#: channel sets (C = 0) are allowed, as in PyTorch's ``conv2d``; no filters
#: (F = 0) and empty images (H or W = 0) are refused, as there.
MINIMUM = {"NCHW": (0, 0, 1, 1), "FCHW": (1, 0, 1, 1)}


def as_shape(value: Any, name: str, letters: str) -> tuple[int, int, int, int]:
    """Return a 4-tuple of ints, e.g. ``x_shape`` ``(N, C, H, W)``.

    A tuple, a list or a 1-D integer array (as ``numpy.zeros`` takes) will
    do; another type is a ``TypeError``, another length a ``ValueError``.
    The smallest size of each axis is :data:`MINIMUM`.
    """
    if isinstance(value, np.ndarray) and value.ndim == 1:
        value = tuple(value.tolist())
    expected = (f"{name} must be 4 ints ({', '.join(letters)}) in a tuple, a "
                "list or a 1-D integer array")
    if not isinstance(value, (tuple, list)):
        raise TypeError(f"{expected}, got {type(value).__name__} {_short(value)}")
    if len(value) != 4:
        raise ValueError(f"{expected}, got {_short(value)}")
    low = MINIMUM[letters]
    a, b, c, d = (as_int(value[k], f"{name}[{k}]", minimum=low[k]) for k in range(4))
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
            for k, d in ((kernel_size[0], dilation[0]), (kernel_size[1], dilation[1])):
                total = d * (k - 1)
                sides.append((total // 2, total - total // 2))
            return sides[0], sides[1]
        raise ValueError(
            "padding must be an int, a pair (h, w), 'valid' or 'same', "
            f"got {_short(padding)}"
        )
    ph, pw = as_pair(padding, "padding", minimum=0)
    return (ph, ph), (pw, pw)


def as_array(x: Any, name: str, ndim: int, *, float_only: bool = True) -> np.ndarray:
    """Return ``x`` as a plain ndarray with ``ndim`` dimensions and a usable dtype.

    ``x`` is array_like (see the module's docstring); a MaskedArray is a
    ``TypeError``. With ``float_only`` the dtype must be float32 or float64
    (a non-native byte order is converted, one copy); else any numeric dtype
    or bool, kept as it is.
    """
    ma = sys.modules.get("numpy.ma")  # no MaskedArray exists before it is imported
    if ma is not None and isinstance(x, ma.MaskedArray):
        masked = int(np.count_nonzero(ma.getmaskarray(x)))
        raise TypeError(
            f"{name} is a numpy.ma.MaskedArray with {masked} of "
            f"{x.size} elements masked, and a convolution has no rule for a "
            f"masked element: pass {name}.filled(0) to read them as zeros, or "
            f"{name}.data to ignore the mask"
        )
    given = isinstance(x, np.ndarray)
    try:
        arr = np.asarray(x)
    except (TypeError, ValueError, OverflowError) as e:
        raise TypeError(
            f"{name} must be array_like (an ndarray, nested sequences of "
            f"numbers or an object with __array__), got {type(x).__name__}: {e}"
        ) from None
    numeric = np.issubdtype(arr.dtype, np.number) or arr.dtype == np.bool_
    if not given and not numeric:
        raise TypeError(
            f"{name} must be array_like (an ndarray, nested sequences of "
            f"numbers or an object with __array__), got {type(x).__name__} "
            f"{_short(x)}"
        )
    if arr.ndim != ndim:
        raise ValueError(
            f"{name} must have {ndim} dimension{'s' if ndim != 1 else ''}, got "
            f"{arr.ndim} with shape {arr.shape}"
        )
    if float_only and not arr.dtype.isnative and arr.dtype.newbyteorder("=") in FLOAT_DTYPES:
        check_bytes(arr.nbytes, f"its native copy {arr.shape}",
                    f"{name}'s byte order ({arr.dtype.str})")
        arr = arr.astype(arr.dtype.newbyteorder("="))
    if float_only and arr.dtype not in FLOAT_DTYPES:
        raise TypeError(
            f"{name} must have dtype float32 or float64, got {arr.dtype}; "
            f"convert it with {name}.astype(numpy.float64)"
        )
    if not float_only and not numeric:
        raise TypeError(f"{name} must have a numeric dtype, got {arr.dtype}")
    return arr


def same_dtype(**arrays: np.ndarray | None) -> None:
    """Raise ``TypeError`` unless every given array has the same dtype."""
    given = {k: v.dtype for k, v in arrays.items() if v is not None}
    if len(set(given.values())) > 1:
        listed = ", ".join(f"{k} is {d}" for k, d in given.items())
        raise TypeError(
            f"{', '.join(given)} must have the same dtype, got: {listed}; "
            "convert them with .astype(...) first"
        )


def nonempty_image(shape: tuple[int, ...], name: str) -> None:
    """Raise ``ValueError`` if an NCHW ``shape`` has no rows or no columns.

    PyTorch's ``conv2d`` and ``unfold`` refuse such input too; an empty batch
    or channel set is fine.
    """
    if shape[2] < 1 or shape[3] < 1:
        raise ValueError(
            f"{name} must have height and width >= 1 (an empty batch or "
            f"channel axis is fine), got shape {shape}"
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
