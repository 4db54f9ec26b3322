"""The strategies conv2d can compute a unit of work with, one module each.

A strategy is a :class:`~im2col._strategies._base.Strategy`: the buffers it
needs per unit, declared once, and its forward and backward work on one
unit. Adding one means writing its module and adding it to
:data:`STRATEGIES`; the planner, the cost model and the benchmarks read
this table.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .full import FULL
from .im2col import IM2COL
from .im2col_t import IM2COL_T
from .matmul import MATMUL
from .rows import ROWS
from .shift import SHIFT
from .wide import WIDE
from .window_rows import WINDOW_ROWS
from .winograd import WINOGRAD

if TYPE_CHECKING:
    from ._base import Strategy

#: Every strategy by name, in the order the benchmarks show them.
STRATEGIES: dict[str, Strategy] = {
    s.name: s for s in (MATMUL, IM2COL, IM2COL_T, ROWS, WINDOW_ROWS, SHIFT, WIDE, FULL,
                        WINOGRAD)
}

__all__ = ["STRATEGIES"]
