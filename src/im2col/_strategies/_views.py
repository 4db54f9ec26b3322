"""Views of a worker's buffers for one unit, and the unit's own arrays.

A worker's units come in few sizes (whole images: all but its last are
the same; bands of rows: a full and a shorter band per image), so the
views of its buffers they need (the band's windows, the columns in six
axes) are made once per size of unit (:func:`unit_view`, keyed by it), not
on every unit: two workers otherwise take turns at the Python that makes
them (``python -m benchmarks.turns``).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .._checks import output_size
from .._layer import Layer
from .._view import windows


def unit_view(bufs: dict[str, np.ndarray], key: str,
              make: Callable[[], np.ndarray]) -> np.ndarray:
    """Return the worker's view ``bufs[key]``, made by ``make()`` on first use.

    ``key`` names the view and the size of unit it is for.
    """
    view = bufs.get(key)
    if view is None:
        view = bufs[key] = make()
    return view


def band_windows(bufs: dict[str, np.ndarray], layer: Layer, xp: np.ndarray, *,
                 width_only: bool = False) -> np.ndarray:
    """Return :func:`im2col._view.windows` of a unit's padded band ``xp``.

    With ``width_only``, the windows of one kernel row on every row of
    ``xp`` (kernel ``(1, kw)``, stride ``(1, sw)``). When ``xp`` is the
    start of the worker's ``padded`` buffer (always, if the layer pads), the
    view is a slice of that buffer's, made once.
    """
    g, pad = layer.g, bufs.get("padded")
    kernel, stride, dilation = g.kernel, g.stride, g.dilation
    if width_only:
        kernel, stride, dilation = (1, kernel[1]), (1, stride[1]), (1, dilation[1])
    if pad is None or xp.base is not pad:
        return windows(xp, kernel, stride, dilation)
    # keyed by all three, so windows of another kind are never taken for these
    whole = unit_view(bufs, f"padded windows {kernel} {stride} {dilation}",
                      lambda: windows(pad, kernel, stride, dilation))
    rows = output_size(xp.shape[2], kernel[0], stride[0], (0, 0), dilation[0], "height")
    return whole[:, :, :, : xp.shape[0], :rows]


def dout_rows(bufs: dict[str, np.ndarray], dout: np.ndarray) -> np.ndarray:
    """Return the unit's ``dout`` as ``(m, F, r*ow)``, copied if not C-ordered."""
    m, F, r, ow = dout.shape
    if "dout" not in bufs:
        return dout.reshape(m, F, r * ow)
    d = bufs["dout"][:m, :, : r * ow]
    d.reshape(m, F, r, ow)[...] = dout
    return d


def gradient_band(bufs: dict[str, np.ndarray], spare: np.ndarray | None,
                  dxb: np.ndarray) -> np.ndarray:
    """Return where a unit's input gradient is summed.

    That is ``dxb`` itself when there is no padded buffer, else the zeroed
    ``spare`` padded band.
    """
    if "padded" not in bufs or spare is None:
        return dxb
    spare.fill(0)
    return spare
