"""Winograd's tiles on bands of output rows: ``python -m benchmarks.bands``.

The ``winograd`` strategy's unit is one or more whole images: on S3 (64
channels, 56x56) one image's transformed tiles ``V`` and products ``M``
take 3.2 MB each (6.1 MiB together, the figure the results give per
layer), more than a core's L2 on the machines of ``benchmarks/results``,
so its stages may evict each other. The planner
cuts bands of output rows only under ``max_memory``. This times the
strategy forced onto plans of one image by bands of 28, 14 and 8 output
rows against the same plan of whole images, forward and backward, float32,
on two workers (BLAS on one thread each) and on one, on 3x3 stride-1
layers of 64 to 256 channels (S3, 128 channels at 28x28, S4; the planner
gives them Winograd but for the 128-channel layer's backward pass), with a
check that every plan gives the whole images' result.

``units`` times the other way: units of 2 and 4 whole images against one,
and gives each plan's buffers (:func:`im2col._plan.extra_bytes`) beside
those of the plan the planner would choose without Winograd.

Results go to ``benchmarks/results/bands.json`` (labelled with the
machine); ``--quick`` runs a small layer, fewer rounds, and writes nothing.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from benchmarks import harness as hs
from benchmarks.layers import F32, arrays
from im2col import _run
from im2col._layer import Layer, Plan, layer_of
from im2col._plan import _Search
from im2col._strategies import STRATEGIES

RESULTS = Path(__file__).parent / "results" / "bands.json"
#: name: (images, channels = filters, height = width)
LAYERS = {"S3": (32, 64, 56), "128 channels, 28x28": (32, 128, 28), "S4": (32, 256, 14)}
QUICK = {"16 channels, 20x20": (2, 16, 20)}
BANDS = (28, 14, 8)
UNITS = (2, 4)


def _arrays(name: str, n: int, c: int, hw: int) -> tuple[np.ndarray, ...]:
    """``x``, ``w`` and ``dout`` of a 3x3, padding-1 layer (S3 and S4 as ``benchmarks.layers``)."""
    rng = np.random.default_rng(1)
    if name in ("S3", "S4"):
        x, w, _ = arrays(name)
    else:
        x = rng.standard_normal((n, c, hw, hw), dtype=F32)
        w = rng.standard_normal((c, c, 3, 3), dtype=F32)
    return x, w, rng.standard_normal((n, w.shape[0], hw, hw), dtype=F32)


def call(layer: Layer, x: np.ndarray, dout: np.ndarray, rows: int, workers: int, *,
         backward: bool, images: int = 1) -> Callable[[], Any]:
    """One pass of ``winograd`` on units of ``images`` by ``rows`` output rows."""
    g, p = layer.g, Plan("winograd", images, rows, workers)

    def forward() -> np.ndarray:
        out = np.empty((g.N, layer.F, g.out[0] * g.out[1]), x.dtype)
        _run.forward(x, layer, p, out)
        return out

    def gradients() -> tuple[np.ndarray, np.ndarray]:
        dx = np.zeros(x.shape, x.dtype)
        dw = np.zeros((layer.groups, layer.Fg, layer.Cg * g.taps), x.dtype)
        _run.backward(dout, x, layer, p, dx, dw)
        return dx, dw

    return gradients if backward else forward


def _agree(got: Any, want: Any) -> bool:
    pairs = zip(got, want) if isinstance(got, tuple) else [(got, want)]
    return all(np.allclose(a, e, rtol=1e-3, atol=1e-3 * float(np.abs(e).max()))
               for a, e in pairs)


def _checked_times(fns: dict[int, Callable[[], Any]], base: int, rounds: int
                   ) -> tuple[bool, dict[int, float]]:
    """Whether every call gives ``fns[base]``'s result, and each one's median time.

    The calls are timed interleaved, BLAS on one thread (each worker's).
    """
    want = fns[base]()
    agree = all(_agree(f(), want) for k, f in fns.items() if k != base)
    with threadpool_limits(1):
        stats = hs.time_interleaved({str(k): f for k, f in fns.items()}, rounds)
    return agree, {k: stats[str(k)]["median"] for k in fns}


def measure(rounds: int, quick: bool) -> list[dict[str, Any]]:
    """Each band's time over whole images', per layer, pass and worker setting."""
    rows = []
    for name, (n, c, hw) in (QUICK if quick else LAYERS).items():
        x, w, dout = _arrays(name, n, c, hw)
        layer = layer_of(x, w, stride=1, padding=1, dilation=1, groups=1)
        oh = layer.g.out[0]
        bands = [r for r in BANDS if r < oh]
        for backward in (False, True):
            for setting, workers in (("two workers", 2), ("one worker", 1)):
                fns = {r: call(layer, x, dout, r, workers, backward=backward)
                       for r in (oh, *bands)}
                agree, med = _checked_times(fns, oh, rounds)
                row = {"layer": name, "pass": "backward" if backward else "forward",
                       "setting": setting, "whole images, ms": med[oh] * 1e3,
                       "V and M of one image, MiB": STRATEGIES["winograd"].per_image(layer)
                       * x.itemsize / 2**20,
                       "same result": agree,
                       **{f"{r} rows / whole": med[r] / med[oh] for r in bands}}
                rows.append(row)
                print(f"{name} {row['pass']}, {setting}: whole {row['whole images, ms']:.1f} ms, "
                      + ", ".join(f"{r} rows {row[f'{r} rows / whole']:.2f}" for r in bands))
    return rows


def units(rounds: int, quick: bool) -> list[dict[str, Any]]:
    """Units of 2 and 4 whole images over one, and each plan's buffers, two workers."""
    rows = []
    for name, (n, c, hw) in (QUICK if quick else LAYERS).items():
        x, w, dout = _arrays(name, n, c, hw)
        layer = layer_of(x, w, stride=1, padding=1, dilation=1, groups=1)
        oh, sizes = layer.g.out[0], [k for k in UNITS if k <= n]
        for backward in (False, True):
            fns = {k: call(layer, x, dout, oh, 2, backward=backward, images=k)
                   for k in (1, *sizes)}
            agree, med = _checked_times(fns, 1, rounds)
            search = _Search(layer, x, None, backward, True)
            other = search.without_winograd(2)[0]
            mib = {k: search.cost(Plan("winograd", k, oh, 2)) / 2**20 for k in fns}
            row = {"layer": name, "pass": "backward" if backward else "forward",
                   "one image, ms": med[1] * 1e3, "one image, MiB": mib[1],
                   "without Winograd": other,
                   "without Winograd, MiB": search.cost(search.first_plan(other, 2)) / 2**20,
                   "same result": agree,
                   **{f"{k} images / one": med[k] / med[1] for k in sizes},
                   **{f"{k} images, MiB": mib[k] for k in sizes}}
            rows.append(row)
            print(f"{name} {row['pass']}, units: one image {row['one image, ms']:.1f} ms, "
                  + ", ".join(f"{k} images {row[f'{k} images / one']:.2f}" for k in sizes))
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    machine = hs.machine()
    result = {"machine": hs.machine_label(machine, 2),
              "L2": machine["caches"].get("L2 Unified"),
              "layers": measure(3 if args.quick else 11, args.quick),
              "units": units(3 if args.quick else 11, args.quick)}
    if not args.quick:
        RESULTS.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
