"""The cs231n drop-in against today's algorithm and plain baselines.

``python -m benchmarks.dropin`` times, interleaved in one process and
reported as ratios of medians (the machine may be shared):

- ``conv_backward``: :func:`im2col.cs231n.conv_backward_strides` against the
  algorithm it replaced (re-unfold the last image to check the cache, one
  transposed copy of ``dout``, two GEMMs, ``col2im``), on the notebook's
  layer: ``x`` (100, 3, 31, 31), ``w`` (25, 3, 3, 3), stride 2, pad 1,
  float64;
- ``pool_reshape``: ``max_pool_forward_fast`` / ``max_pool_backward_fast``
  on tiling 2x2 windows of (100, 3, 32, 32), against the plain reshape and
  ``==``-mask algorithm;
- ``pool_overlap``: ``max_pool2d`` / ``max_pool2d_backward`` on 3x3 windows
  with stride 2, against a loop over output pixels.

Each case is timed with the BLAS's default threads and with one thread
(``threadpoolctl``); ``chunk_bytes`` times the conv backward, one thread,
with each size of chunk its column gradient may take
(``im2col.cs231n._conv_core.CHUNK_BYTES``), the whole batch last. Results
go to ``benchmarks/results/dropin.json``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any
from unittest import mock

import numpy as np
from threadpoolctl import threadpool_limits

from benchmarks import harness as hs
from im2col import col2im, im2col, max_pool2d, max_pool2d_backward
from im2col.cs231n import (
    _conv_core,
    conv_backward_strides,
    conv_forward_strides,
    max_pool_backward_fast,
    max_pool_forward_fast,
)

RESULTS = Path(__file__).parent / "results" / "dropin.json"
ROUNDS = 9


def baseline_conv_backward(dout: np.ndarray, cache: tuple[Any, ...]) -> tuple[np.ndarray, ...]:
    """The drop-in's backward before this version, as a baseline."""
    x, w, _, param, x_cols = cache
    stride, pad = param["stride"], param["pad"]
    F, _, HH, WW = w.shape
    last = im2col(x[-1:], (HH, WW), stride=stride, padding=pad)
    assert np.array_equal(x_cols[:, -last.shape[1]:], last)
    db = dout.sum(axis=(0, 2, 3))
    dout_rows = dout.transpose(1, 0, 2, 3).reshape(F, -1)
    dw = (dout_rows @ x_cols.T).reshape(w.shape)
    dx_cols = w.reshape(F, -1).T @ dout_rows
    dx = col2im(dx_cols, x.shape, (HH, WW), stride=stride, padding=pad)
    return dx, dw, db


def baseline_pool_reshape(x: np.ndarray, dout: np.ndarray, k: int) -> np.ndarray:
    """Reshape, max, then route by an ``==`` mask split between ties."""
    N, C, H, W = x.shape
    blocks = x.reshape(N, C, H // k, k, W // k, k)
    out = blocks.max(axis=3).max(axis=4)
    mask = blocks == out[:, :, :, None, :, None]
    dx: np.ndarray = mask * dout[:, :, :, None, :, None] / mask.sum(axis=(3, 5),
                                                                   keepdims=True)
    return dx.reshape(x.shape)


def baseline_pool_loop(x: np.ndarray, dout: np.ndarray, k: int, s: int) -> np.ndarray:
    """One NumPy call per output pixel, vectorised over N and C."""
    N, C, H, W = x.shape
    oh, ow = (H - k) // s + 1, (W - k) // s + 1
    dx = np.zeros_like(x)
    for y in range(oh):
        for q in range(ow):
            win = x[:, :, y * s:y * s + k, q * s:q * s + k].reshape(N, C, -1)
            arg = win.argmax(axis=-1)
            i, j = np.divmod(arg, k)
            n, c = np.indices((N, C))
            dx[n, c, y * s + i, q * s + j] += dout[:, :, y, q]
    return dx


def interleave(calls: dict[str, Callable[[], Any]], rounds: int) -> dict[str, float]:
    """Median seconds of each call, interleaved (:func:`benchmarks.harness.time_interleaved`)."""
    return {k: v["median"] for k, v in hs.time_interleaved(calls, rounds).items()}


def cases() -> dict[str, dict[str, Callable[[], Any]]]:
    rng = np.random.default_rng(231)
    x = rng.normal(size=(100, 3, 31, 31))
    w, b = rng.normal(size=(25, 3, 3, 3)), rng.normal(size=25)
    out, cache = conv_forward_strides(x, w, b, {"stride": 2, "pad": 1})
    dout = rng.normal(size=out.shape)
    xp = rng.normal(size=(100, 3, 32, 32))
    dp = rng.normal(size=(100, 3, 16, 16))
    param = {"pool_height": 2, "pool_width": 2, "stride": 2}
    do = rng.normal(size=(100, 3, 15, 15))

    def ours_reshape() -> Any:
        return max_pool_backward_fast(dp, max_pool_forward_fast(xp, param)[1])

    def ours_overlap() -> Any:
        max_pool2d(xp, 3, stride=2)
        return max_pool2d_backward(do, xp, 3, stride=2)

    return {
        "conv_backward": {"baseline": lambda: baseline_conv_backward(dout, cache),
                          "ours": lambda: conv_backward_strides(dout, cache)},
        "pool_reshape": {"baseline": lambda: baseline_pool_reshape(xp, dp, 2),
                         "ours": ours_reshape},
        "pool_overlap": {"baseline": lambda: baseline_pool_loop(xp, do, 3, 2),
                         "ours": ours_overlap},
    }


def chunk_sizes() -> dict[str, float]:
    """Median seconds of the conv backward, one thread, by ``CHUNK_BYTES``."""
    calls = cases()["conv_backward"]["ours"]
    sizes = [2**k for k in range(17, 24)]

    def with_chunk(size: int) -> Callable[[], Any]:
        def call() -> Any:
            with mock.patch.object(_conv_core, "CHUNK_BYTES", size):
                return calls()
        return call

    with threadpool_limits(1, user_api="blas"):
        med = interleave({str(size): with_chunk(size) for size in sizes}, ROUNDS)
    for size, t in med.items():
        print(f"conv backward, 1 thread, CHUNK_BYTES {int(size):>8}: {t * 1e3:.2f} ms")
    return med


def main() -> None:
    result: dict[str, Any] = {"machine": hs.machine_label(hs.machine()),
                              "numpy": np.__version__, "rounds": ROUNDS, "cases": {}}
    for threads in ("default", "1"):
        for name, calls in cases().items():
            if threads == "1":
                with threadpool_limits(1, user_api="blas"):
                    med = interleave(calls, ROUNDS)
            else:
                med = interleave(calls, ROUNDS)
            entry = {"baseline_s": med["baseline"], "ours_s": med["ours"],
                     "ratio": med["ours"] / med["baseline"]}
            result["cases"][f"{name} ({threads} BLAS threads)"] = entry
            print(f"{name:14s} BLAS threads {threads:8s} ours / baseline = "
                  f"{entry['ratio']:.2f} ({med['ours'] * 1e3:.1f} / "
                  f"{med['baseline'] * 1e3:.1f} ms)")
    result["chunk_bytes"] = {"seconds": chunk_sizes(),
                             "shipped": _conv_core.CHUNK_BYTES}
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
