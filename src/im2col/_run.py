"""Run a plan: its shares on the worker threads, its units through a strategy.

Every unit is padded (only the input rows it reads), handed to the plan's
strategy, and written straight into its slice of the NCHW output (or, in
the backward pass, its padded gradient band is added into ``dx``, unless
the strategy wrote ``dx`` itself). The
buffers a strategy declares ``shared`` (its filters) are made and filled
once per call; each worker allocates the others once for all its units;
in the backward pass all workers but the first sum into a ``dw`` of their
own (unless the strategy sums into a shared buffer), and the strategy's
``finish`` adds what was summed apart, once, after every worker.
"""

from __future__ import annotations

from functools import partial

import numpy as np

from . import _threads
from ._geometry import Geometry
from ._layer import Layer, Plan
from ._plan import extra_bytes
from ._strategies import STRATEGIES
from ._strategies._base import allocate


def forward(x: np.ndarray, layer: Layer, plan: Plan, out: np.ndarray) -> None:
    """Write the convolution of ``x`` (plus ``layer.b``) into ``out`` ``(N, F, oh*ow)``."""
    shared = shared_buffers(layer, plan, x, backward=False)
    _threads.run([partial(_forward_share, x, layer, plan, out, shared, lo, hi)
                  for lo, hi in plan.shares(layer.g)],
                 buffer_bytes=partial(own_bytes, layer, plan, x, shared, backward=False))


def backward(dout: np.ndarray, x: np.ndarray, layer: Layer, plan: Plan,
             dx: np.ndarray, dw: np.ndarray) -> None:
    """Add the gradients of ``x`` and ``w`` into zeroed ``dx`` and ``dw``.

    ``dw`` has shape ``(groups, F/groups, C/groups*kh*kw)``. Each share but
    the first sums into its own ``dw``, added to ``dw`` at the end, if the
    strategy's ``private_dw`` says so.
    """
    shares, strategy = plan.shares(layer.g), STRATEGIES[plan.strategy]
    private, contiguous = strategy.private_dw, dout.flags.c_contiguous
    dws = [dw, *(np.zeros_like(dw) if private else dw for _ in shares[1:])]
    shared = shared_buffers(layer, plan, x, backward=True,
                            dout_contiguous=contiguous)
    _threads.run([partial(_backward_share, dout, x, layer, plan, dx, dws[k],
                          shared, *shares[k]) for k in range(len(shares))],
                 buffer_bytes=partial(own_bytes, layer, plan, x, shared, backward=True,
                                      dout_contiguous=contiguous))
    if private:
        for d in dws[1:]:
            dw += d
    strategy.finish(shared, layer, dw)


def own_bytes(layer: Layer, plan: Plan, x: np.ndarray, shared: dict[str, np.ndarray],
              *, backward: bool, dout_contiguous: bool = True) -> int:
    """Bytes the workers will allocate for themselves (the ``shared`` ones made)."""
    return extra_bytes(layer, plan, x.itemsize, backward=backward,
                       dout_contiguous=dout_contiguous) - sum(
                           a.nbytes for a in shared.values())


def shared_buffers(layer: Layer, plan: Plan, x: np.ndarray, *, backward: bool,
                   dout_contiguous: bool = True) -> dict[str, np.ndarray]:
    """Allocate the buffers the plan's workers share, and fill them."""
    strategy = STRATEGIES[plan.strategy]
    bufs = allocate(strategy.buffers(layer, plan.images, plan.rows,
                                     backward=backward,
                                     dout_contiguous=dout_contiguous),
                    x.dtype, shared=True)
    strategy.start(bufs, layer, backward=backward)
    return bufs


def worker_buffers(layer: Layer, plan: Plan, x: np.ndarray, *, backward: bool,
                   dout_contiguous: bool = True,
                   shared: dict[str, np.ndarray] | None = None,
                   ) -> dict[str, np.ndarray]:
    """Allocate one worker's buffers; with them the ``shared`` ones (made here if None)."""
    if shared is None:
        shared = shared_buffers(layer, plan, x, backward=backward,
                                dout_contiguous=dout_contiguous)
    own = allocate(STRATEGIES[plan.strategy].buffers(
        layer, plan.images, plan.rows, backward=backward,
        dout_contiguous=dout_contiguous), x.dtype, shared=False)
    return {**own, **shared}


def _forward_share(x: np.ndarray, layer: Layer, plan: Plan, out: np.ndarray,
                   shared: dict[str, np.ndarray], lo: int, hi: int) -> None:
    """Write images ``[lo, hi)`` of the convolution into ``out``."""
    g, strategy = layer.g, STRATEGIES[plan.strategy]
    bufs = worker_buffers(layer, plan, x, backward=False, shared=shared)
    ow, sh = g.out[1], g.stride[0]
    for n0, n1, y0, y1 in plan.units(g, lo, hi):
        r0 = y0 * sh
        xp = fill(bufs.get("padded"), x, g, n0, n1, r0,
                  r0 + g.band_height(y1 - y0))
        o = out[n0:n1, :, y0 * ow : y1 * ow]
        strategy.forward(bufs, layer, xp, o)
        if layer.b is not None and not strategy.adds_bias(layer):
            o += layer.b[:, None]


def _backward_share(dout: np.ndarray, x: np.ndarray, layer: Layer, plan: Plan,
                    dx: np.ndarray, dw: np.ndarray, shared: dict[str, np.ndarray],
                    lo: int, hi: int) -> None:
    """Add the gradients of images ``[lo, hi)`` into ``dx`` and ``dw``."""
    g, strategy = layer.g, STRATEGIES[plan.strategy]
    bufs = worker_buffers(layer, plan, x, backward=True,
                          dout_contiguous=dout.flags.c_contiguous, shared=shared)
    pad = bufs.get("padded")
    (top, _), (left, _) = g.padding
    sh = g.stride[0]
    for n0, n1, y0, y1 in plan.units(g, lo, hi):
        r0, r1 = y0 * sh, y0 * sh + g.band_height(y1 - y0)
        xp = fill(pad, x, g, n0, n1, r0, r1, clear=True)
        a, e = g.input_rows(r0, r1)
        dxb = dx[n0:n1, :, a - top : max(a, e) - top]  # the input rows read
        dxp = strategy.backward(bufs, layer, xp, dout[n0:n1, :, y0:y1], dxb, dw)
        if pad is not None and dxp is not None and e > a:  # a padded band: crop it
            dx[n0:n1, :, a - top : e - top] += dxp[
                :, :, a - r0 : e - r0, left : left + g.W]


def fill(buf: np.ndarray | None, x: np.ndarray, g: Geometry, n0: int, n1: int,
         r0: int, r1: int, *, clear: bool = False) -> np.ndarray:
    """Return padded rows ``[r0, r1)`` of images ``[n0, n1)``.

    Without a buffer (no padding) a view of ``x``; else the zero-bordered
    buffer, whose left and right borders stay zero from its allocation
    unless ``clear`` (the backward pass sums gradients into it). So do its
    top and bottom borders when the unit holds whole images (a worker's
    units then all put the input at the same rows); bands of rows move, so
    the rows they do not fill are zeroed.
    """
    if buf is None:
        return x[n0:n1, :, r0:r1]
    (top, _), (left, _) = g.padding
    xp = buf[: n1 - n0, :, : r1 - r0]
    a, e = g.input_rows(r0, r1)
    if clear:
        xp.fill(0)
    elif r1 - r0 < g.band_height(g.out[0]):  # a band: its border rows move
        xp[:, :, : max(a - r0, 0)] = 0
        xp[:, :, max(e - r0, 0):] = 0
    if e > a:
        xp[:, :, a - r0 : e - r0, left : left + g.W] = x[n0:n1, :, a - top : e - top]
    return xp
