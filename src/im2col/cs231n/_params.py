"""The assignment's parameter dicts, caches and dtype rules, checked once."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._checks import as_array, as_int
from .._geometry import Geometry, geometry


def _keys(param: Any, name: str, keys: tuple[str, ...]) -> None:
    names = [repr(k) for k in keys]
    listed = ", ".join(names[:-1]) + " and " + names[-1]
    if not isinstance(param, dict):
        raise TypeError(
            f"{name} must be a dict with keys {listed}, got {type(param).__name__}"
        )
    missing = sorted(k for k in keys if k not in param)
    if missing:
        raise ValueError(
            f"{name} is missing key(s) {missing}; expected keys {listed}, got "
            f"{sorted(param)}"
        )


def conv_param(param: Any) -> tuple[int, int]:
    """``(stride, pad)`` of a ``conv_param`` dict; other keys are ignored."""
    _keys(param, "conv_param", ("stride", "pad"))
    return (as_int(param["stride"], "conv_param['stride']", minimum=1),
            as_int(param["pad"], "conv_param['pad']", minimum=0))


def pool_param(param: Any) -> tuple[int, int, int]:
    """``(pool_height, pool_width, stride)`` of a ``pool_param`` dict."""
    keys = ("pool_height", "pool_width", "stride")
    _keys(param, "pool_param", keys)
    ph, pw, s = (as_int(param[k], f"pool_param[{k!r}]", minimum=1) for k in keys)
    return ph, pw, s


def cache(value: Any, size: int, layout: str, made_by: str) -> tuple[Any, ...]:
    """Return ``value`` if it is a tuple of ``size`` items, else raise.

    Another type is a ``TypeError``, a tuple of another length a ``ValueError``.
    """
    expected = f"cache must be the {size}-tuple {layout} from {made_by}"
    if not isinstance(value, tuple):
        raise TypeError(f"{expected}, got {type(value).__name__}")
    if len(value) != size:
        raise ValueError(f"{expected}, got a tuple of {len(value)} items")
    return value


def data(x: Any, name: str) -> np.ndarray:
    """Return ``x`` checked: a 4-D ndarray of a bool or numeric dtype."""
    return as_array(x, name, 4, float_only=False)


def gradient_dtype(*arrays: np.ndarray) -> np.dtype:
    """Return pooling's gradient dtype, never narrower than its inputs.

    NumPy's promotion of ``arrays``, and float64 where that is not a float
    (as NumPy's true division of integers). The original returns ``x``'s dtype: it casts a float64 ``dout`` down to a
    float32 ``x`` and fails on an integer ``x``; this never loses a digit.
    """
    dtype = np.result_type(*arrays)
    return dtype if dtype.kind in "fc" else np.dtype(np.float64)


def pool_geometry(x_shape: tuple[int, ...], param: Any) -> Geometry:
    """Return the geometry of the pooling windows of ``pool_param``."""
    ph, pw, stride = pool_param(param)
    return geometry(x_shape, (ph, pw), stride=stride, padding=0, dilation=1,
                    kernel_name="(pool_height, pool_width)")


def pool_dout(dout: Any, shape: tuple[int, ...]) -> np.ndarray:
    """Return ``dout`` checked against the pooled output's ``shape``."""
    checked = data(dout, "dout")
    if checked.shape != shape:
        raise ValueError(f"dout must have shape {shape} = (N, C, out_h, out_w), "
                         f"got {checked.shape}")
    return checked
