"""How much memory a call's work buffers may take, checked before anything is allocated.

The results the call returns and its smallest plan (one output row of one
image, :func:`im2col._plan.extra_bytes`) must fit the machine together
(:func:`im2col._checks.memory_limit`); the plan search then works within
``max_memory`` and what the results leave.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import _checks
from ._checks import as_int, check_bytes
from ._layer import Layer, Plan
from ._limits import padding_factor, padding_repr
from ._plan import extra_bytes


def budget(layer: Layer, x: np.ndarray, max_memory: Any, *, backward: bool,
           dout_contiguous: bool = True, workers: Any = None) -> int:
    """Check the results' bytes and return the work buffers' budget.

    The results and the smallest plan (one output row of one image) must
    fit :func:`memory_limit` together; the work buffers are then planned
    within ``max_memory`` and what the results leave of the limit.
    ``workers`` is checked here too, so that an empty call checks it.
    """
    if workers is not None:
        as_int(workers, "workers", minimum=1)
    g, item = layer.g, x.itemsize
    if backward:
        results = (g.N * g.C * g.H * g.W + layer.F * layer.Cg * g.taps
                   + layer.F) * item
    else:
        results = g.N * layer.F * g.out[0] * g.out[1] * item
    smallest = min(
        extra_bytes(layer, Plan(name, 1, 1), item, backward=backward,
                    dout_contiguous=dout_contiguous)
        for name in ("shift", "im2col"))
    limit = _checks.memory_limit()
    if results + smallest > limit:  # the messages are only made then
        _too_large(layer, x, results, smallest, backward=backward)
    room = limit - results
    if max_memory is None:
        return room
    return min(as_int(max_memory, "max_memory", minimum=0), room)


def _too_large(layer: Layer, x: np.ndarray, results: int, smallest: int, *,
               backward: bool) -> None:
    """Raise the ``ValueError`` that names what makes the call too large."""
    g, dtype = layer.g, x.dtype
    w_shape = (layer.F, layer.Cg, *g.kernel)
    arrays = f"x of shape {(g.N, g.C, g.H, g.W)}"
    if backward:
        what = f"the gradients dx {(g.N, g.C, g.H, g.W)}, dw {w_shape}, db {dtype}"
        check_bytes(results, what, arrays, (f"w of shape {w_shape}", layer.F
                    * layer.Cg * g.taps / max(1, g.N * g.C * g.H * g.W)))
    else:
        what = f"the output {(g.N, layer.F, *g.out)} {dtype}"
        check_bytes(results, what, arrays, (padding_repr(g), padding_factor(g)),
                    (f"w of shape {w_shape}", layer.F / max(1, g.C)))
    check_bytes(results + smallest,
                f"{what} and one output row's work buffers ({smallest} bytes)",
                arrays, (padding_repr(g), g.padded[1] / g.W))
