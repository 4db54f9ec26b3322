"""Shallow products cut into small blocks, measured: ``python -m benchmarks.blocks``.

The package cuts a float32 product ``a @ b`` of few filters by a shallow
column matrix into blocks of pixels small enough for OpenBLAS's
small-matrix kernels (``_strategies._base.product``, ``pixel_step``,
``SMALL_GEMM``). Three measurements, ratios of medians of calls
interleaved in one process:

- ``grid``: ``(F, K) @ (4, K, P)`` (a unit of four images) in one call
  against float32's blocks, over a grid of shapes: one BLAS thread in
  float32 and float64, and two BLAS threads in float32 (where one call
  may use both threads and the blocks cannot); each row says whether the
  rule cuts it (float32, one BLAS thread, OpenBLAS's SkylakeX kernels).
- ``steps``: one thread, S1's, the 4-group layer's and a 16-filter
  product cut into blocks of several widths: the evidence for the
  threshold and the widths.
- ``layers``: two threads, the forward and backward passes of
  ``benchmarks.layers``' layers with and without the blocks, and
  PyTorch's when it is installed; each row says whether the pass cuts any
  product (where it does not, both calls run the same code: their ratio
  is the noise of the run).

Results go to ``benchmarks/results/blocks.json``; ``--quick`` runs fewer
rounds and shapes and writes nothing.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any
from unittest import mock

import numpy as np

from benchmarks import harness as hs
from benchmarks.layers import LAYERS
from im2col._strategies import _base

RESULTS = Path(__file__).parent / "results" / "blocks.json"
#: Filters, rows (``C*kh*kw``, plus one for a bias) and pixels per image.
GRID = [(f, k, p) for f in (16, 32, 64, 128) for k in (28, 76, 148, 288)
        for p in (784, 1024, 3136)]
#: name: (filters, rows, pixels, images)
STEPS = {"S1": (32, 148, 1024, 3), "4 groups": (32, 288, 784, 1),
         "16 filters": (16, 147, 3136, 2)}
WIDTHS = (32, 48, 64, 96, 112, 128, 160, 192, 208, 224, 256)


def blocks(small: int) -> Any:
    """Set ``SMALL_GEMM`` (0: no blocks) inside the block."""
    return mock.patch.object(_base, "SMALL_GEMM", small)


def _operands(f: int, k: int, p: int, m: int, dtype: Any) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(0)
    return (rng.standard_normal((f, k)).astype(dtype),
            rng.standard_normal((m, k, p)).astype(dtype), np.empty((m, f, p), dtype))


def _cut(a: np.ndarray, b: np.ndarray, out: np.ndarray, step: int) -> Callable[[], None]:
    return lambda: _base.product(a, b, out, step)


def grid(rounds: int, quick: bool = False) -> list[dict[str, Any]]:
    rows = []
    for dtype in (np.float32, np.float64):
        for f, k, p in GRID[: 4 if quick else None]:
            a, b, out = _operands(f, k, p, 4, dtype)
            step = _base.small_step(f * k, p)  # float32's rule
            fns: dict[str, Callable[[], object]] = {
                "one": partial(np.matmul, a, b, out=out),
                "blocks": _cut(a, b, out, step)}
            row: dict[str, Any] = {
                "dtype": np.dtype(dtype).name, "filters": f, "rows": k, "pixels": p,
                "step": step, "rule": bool(step < p and dtype == np.float32)}
            # float32 also with two BLAS threads, where the package makes no blocks
            for threads in (1, 2) if dtype == np.float32 else (1,):
                with hs.threads(threads, None):
                    stats = hs.time_interleaved(fns, rounds)
                key = "" if threads == 1 else ", two BLAS threads"
                row[f"one call GFLOP/s{key}"] = 2 * f * k * p * 4 / stats["one"]["median"] / 1e9
                row[f"blocks / one{key}"] = stats["blocks"]["median"] / stats["one"]["median"]
            print(f"{row['dtype']} {f:3d} x {k:3d} x {p:4d}: blocks / one "
                  f"{row['blocks / one']:.2f}"
                  + (f" (two BLAS threads {row['blocks / one, two BLAS threads']:.2f})"
                     if dtype == np.float32 else "")
                  + f" (rule: {'blocks' if row['rule'] else 'one'})")
            rows.append(row)
    return rows


def steps(rounds: int, quick: bool = False) -> list[dict[str, Any]]:
    rows = []
    for name, (f, k, p, m) in list(STEPS.items())[: 1 if quick else None]:
        a, b, out = _operands(f, k, p, m, np.float32)
        fns: dict[str, Callable[[], object]] = {"one": partial(np.matmul, a, b, out=out)}
        for width in WIDTHS[: 3 if quick else None]:
            fns[str(width)] = _cut(a, b, out, width)
        with hs.threads(1, None):
            stats = hs.time_interleaved(fns, rounds)
        flop = 2 * f * k * p * m
        row: dict[str, Any] = {"layer": name, "filters": f, "rows": k, "pixels": p,
                               "GFLOP/s": {key: flop / v["median"] / 1e9 for key, v in stats.items()}}
        print(f"{name}: " + ", ".join(f"{key} {v:.0f}" for key, v in row["GFLOP/s"].items())
              + " GFLOP/s")
        rows.append(row)
    return rows


def layers(torch: Any, rounds: int, names: list[str]) -> list[dict[str, Any]]:
    return [_layer(name, torch, rounds) for name in names]


def _layer(name: str, torch: Any, rounds: int) -> dict[str, Any]:
    med, passes = hs.layer_variants(
        name, {"blocks": lambda: blocks(_base.SMALL_GEMM), "one": lambda: blocks(0)},
        torch, rounds)
    row: dict[str, Any] = {"layer": name}
    for k, f in passes.items():
        row[f"{k} cut"] = _cuts(f)
        row[f"{k} blocks / one"] = med[f"{k} blocks"] / med[f"{k} one"]
        if torch is not None:
            row[f"{k} blocks / torch"] = med[f"{k} blocks"] / med[f"{k} torch"]
            row[f"{k} one / torch"] = med[f"{k} one"] / med[f"{k} torch"]
    print(f"{name:11s} " + ", ".join(f"{k} {v:.2f}" for k, v in row.items()
                                     if isinstance(v, float)))
    return row


def _cuts(f: Callable[[], Any]) -> bool:
    """Whether a call of ``f`` cuts any product into blocks."""
    rule, cut = _base.pixel_step, []

    def spy(a: np.ndarray, pixels: int) -> int:
        step = rule(a, pixels)
        cut.append(step < pixels)
        return step
    with mock.patch.object(_base, "pixel_step", spy):
        f()
    return any(cut)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    rounds = 3 if args.quick else 11
    torch = hs.try_torch()
    result = {
        "machine": hs.machine_label(hs.machine(), 2),
        "small_gemm": _base.SMALL_GEMM,
        "grid": grid(rounds, args.quick),
        "steps": steps(rounds * 2, args.quick),
        "layers": layers(torch, rounds * 2, ["S1"] if args.quick else list(LAYERS)),
    }
    if not args.quick:
        RESULTS.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
