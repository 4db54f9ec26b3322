"""Winograd's passes written other ways, measured, not shipped: ``python -m benchmarks.tiles``.

Each way is timed against the package's (:mod:`im2col._strategies._tiles`),
float32, calls interleaved, with a check that both give the same result:

- ``into_v``: one thread, the input transform alone. The package's width
  pass writes a contiguous ``(4, c, n, th + 1, tw + 1)`` work array, then
  copies its finished tiles into ``V``; here the width pass writes ``V``
  itself, through ``(c, n, th, tw)`` views of its operands (no copy, but
  runs only ``tw`` long).
- ``no_v``: one thread, a unit's whole forward correlation. The package
  makes all of ``V`` then the 16 products in one ``matmul``; here the four
  products of each row of ``B.T`` are made as soon as its width pass is,
  from the work array still in cache, over every ``(th + 1) * (tw + 1)``
  tile of the phase planes (the unused last row and column included), so
  ``V`` and its copy are gone but the products are that much wider.
- ``dw_batches``: the backward pass on two workers and on one (BLAS on one
  thread), whole layers. The package makes the 16 products of the filters'
  gradient one ``matmul`` each and adds each into the workers' shared sum
  under a lock; here 4 or 16 of them per ``matmul`` and per addition (a
  work array 4 or 16 times as large per worker).

Units and layers: S3 (64 channels, 56x56), 128 channels at 28x28, 64
channels at 28x28 (two images), S4 (256 channels, 14x14, two images).
Results go to ``benchmarks/results/tiles.json`` (labelled with the
machine); ``--quick`` runs small units, fewer rounds, and writes nothing.
"""

from __future__ import annotations

import argparse
import json
import threading
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any
from unittest import mock

import numpy as np
from threadpoolctl import threadpool_limits

from benchmarks import bands
from benchmarks import harness as hs
from benchmarks.layers import arrays, options
from im2col._layer import layer_of
from im2col._strategies import _tiles
from im2col._strategies import winograd as winograd_strategy

RESULTS = Path(__file__).parent / "results" / "tiles.json"
#: name: (images, channels = filters, height = width) of a unit
UNITS = {"S3": (1, 64, 56), "128 channels, 28x28": (1, 128, 28),
         "64 channels, 28x28": (2, 64, 28), "S4": (2, 256, 14)}
QUICK_UNITS = {"16 channels, 12x12": (2, 16, 12)}
#: filters' gradient products per ``matmul`` (1: the package's)
DW_BATCHES = (1, 4, 16)


def input_tiles_into_v(band: np.ndarray, th: int, tw: int, v: np.ndarray,
                       m: np.ndarray) -> np.ndarray:
    """``_tiles.input_tiles`` with the width pass written into ``V`` through views."""
    n, c = band.shape[:2]
    h1, w1 = th + 1, tw + 1
    size = c * n * h1 * w1
    even, odd = _tiles.phase_planes(band, th, tw, m)
    rows = _tiles.first(m, (2, size), 4 * size)
    v5 = _tiles.first(v, (16, c, n, th, tw))
    r5 = rows.reshape(2, c, n, h1, w1)
    e0, o0 = r5[0, ..., :th, :tw], r5[1, ..., :th, :tw]
    e1, o1 = r5[0, ..., :th, 1 : tw + 1], r5[1, ..., :th, 1 : tw + 1]
    for i in range(4):
        _tiles.combine(even, odd, w1, i, rows[:, : size - w1])
        np.subtract(e0, e1, out=v5[4 * i])
        np.add(o0, e1, out=v5[4 * i + 1])
        np.subtract(e1, o0, out=v5[4 * i + 2])
        np.subtract(o0, o1, out=v5[4 * i + 3])
    return v5.reshape(16, c, n * th * tw)


def correlate_without_v(band: np.ndarray, u: np.ndarray, m: np.ndarray,
                        products: np.ndarray, out: np.ndarray) -> None:
    """``_tiles.correlate(..., add=False)`` with each row of ``B.T``'s products made at once.

    ``m`` holds at least ``max(10 * c, 4 * f) * n * (th + 1) * (tw + 1)`` elements and
    ``products`` ``16 * f * n * (th + 1) * (tw + 1)``.
    """
    n, c = band.shape[:2]
    _, groups, fg, cg = u.shape
    oh, ow = out.shape[2:]
    f, th, tw = groups * fg, _tiles.tiles(oh), _tiles.tiles(ow)
    h1, w1 = th + 1, tw + 1
    size, p1 = c * n * h1 * w1, n * h1 * w1
    even, odd = _tiles.phase_planes(band, th, tw, m)
    rows = _tiles.first(m, (2, size - w1), 4 * size)
    wide = _tiles.first(m, (4, size), 6 * size)
    wide[:, size - w1 - 1 :] = 0  # the width pass leaves these; their tiles are unused
    mm = _tiles.first(products, (16, groups, fg, p1))
    for i in range(4):
        _tiles.combine(even, odd, w1, i, rows)
        _tiles.across(rows, wide)
        np.matmul(u[4 * i : 4 * i + 4], wide.reshape(4, groups, cg, p1),
                  out=mm[4 * i : 4 * i + 4])
    y = _tiles.first(m, (4, f, p1))  # the planes are used up
    np.matmul(_tiles.ATAT.astype(y.dtype), mm.reshape(16, -1), out=y.reshape(4, -1))
    y6 = y.reshape(4, f, n, h1, w1)
    for k in range(4):
        i, j = divmod(k, 2)
        out[:, :, i::2, j::2] = y6[k, :, :, : _tiles.tiles(oh - i),
                                   : _tiles.tiles(ow - j)].transpose(1, 0, 2, 3)


def _unit(n: int, c: int, hw: int) -> dict[str, Any]:
    """A unit's padded band, filters transformed, and work arrays for both ways."""
    rng = np.random.default_rng(0)
    th = tw = _tiles.tiles(hw)
    band = np.zeros((n, c, 2 * th + 2, 2 * tw + 2), np.float32)
    band[:, :, 1 : hw + 1, 1 : hw + 1] = rng.standard_normal((n, c, hw, hw), dtype=np.float32)
    u = np.empty((16, 1, c, c), np.float32)
    _tiles.transform(rng.standard_normal((c, c, 3, 3), dtype=np.float32), u, flip=False)
    vsize, msize = _tiles.scratch(n, c, c, hw, 2 * tw + 2)
    grid = n * (th + 1) * (tw + 1)
    return {"band": band, "u": u, "th": th, "tw": tw,
            "v": np.empty(vsize, np.float32), "m": np.empty(msize, np.float32),
            "v2": np.empty(vsize, np.float32), "m2": np.empty(max(msize, 10 * c * grid), np.float32),
            "products": np.empty(16 * c * grid, np.float32),
            "out": np.empty((n, c, hw, hw), np.float32), "out2": np.empty((n, c, hw, hw), np.float32)}


def into_v(rounds: int, quick: bool) -> list[dict[str, Any]]:
    """The input transform, the package's way and into ``V``, in ms."""
    rows = []
    for name, (n, c, hw) in (QUICK_UNITS if quick else UNITS).items():
        a = _unit(n, c, hw)
        args = (a["band"], a["th"], a["tw"])
        same = bool(np.array_equal(_tiles.input_tiles(*args, a["v"], a["m"]),
                                   input_tiles_into_v(*args, a["v2"], a["m2"])))
        fns = {"package": lambda: _tiles.input_tiles(*args, a["v"], a["m"]),  # noqa: B023
               "into V": lambda: input_tiles_into_v(*args, a["v2"], a["m2"])}  # noqa: B023
        rows.append(_timed(name, (n, c, hw), fns, rounds, same))
    return rows


def no_v(rounds: int, quick: bool) -> list[dict[str, Any]]:
    """A unit's forward correlation, the package's way and without ``V``, in ms."""
    rows = []
    for name, (n, c, hw) in (QUICK_UNITS if quick else UNITS).items():
        a = _unit(n, c, hw)

        def package(a: dict[str, Any] = a) -> None:
            _tiles.correlate(a["band"], a["u"], a["v"], a["m"], a["out"], add=False)

        def without(a: dict[str, Any] = a) -> None:
            correlate_without_v(a["band"], a["u"], a["m2"], a["products"], a["out2"])

        package()
        without()
        same = bool(np.allclose(a["out"], a["out2"], rtol=1e-4,
                                atol=1e-5 * float(np.abs(a["out"]).max())))
        rows.append(_timed(name, (n, c, hw), {"package": package, "without V": without},
                           rounds, same))
    return rows


def _timed(name: str, unit: tuple[int, int, int], fns: Mapping[str, Callable[[], object]],
           rounds: int, same: bool) -> dict[str, Any]:
    with threadpool_limits(1):
        stats = hs.time_interleaved(fns, rounds)
    ms = {k: v["median"] * 1e3 for k, v in stats.items()}
    other = next(k for k in ms if k != "package")
    print(f"{name} {unit}, one thread: " + ", ".join(f"{k} {v:.3f} ms" for k, v in ms.items())
          + f"; {other} / package {ms[other] / ms['package']:.2f}; same: {same}")
    return {"unit": name, "images": unit[0], "channels": unit[1], "size": unit[2],
            "same": same, "ms": ms}


def batched_products(per_call: int) -> Callable[..., None]:
    """``_tiles.tile_products`` making ``per_call`` of the 16 products per ``matmul``."""
    local = threading.local()

    def tile_products(dd: np.ndarray, vv: np.ndarray, images: int, mw: np.ndarray,
                      acc: np.ndarray, lock: AbstractContextManager[Any]) -> None:
        groups, fg, cg = mw.shape
        p = dd.shape[2]
        d4, v4 = dd.reshape(16, groups, fg, p), vv.reshape(16, groups, cg, p)
        shape = (per_call, groups, fg, cg)
        if getattr(local, "work", None) is None or local.work.shape != shape:
            local.work = np.empty(shape, mw.dtype)  # one per worker thread
        t = p // images
        for q in range(0, p, t):
            for k in range(0, 16, per_call):
                np.matmul(d4[k : k + per_call, ..., q : q + t],
                          v4[k : k + per_call, ..., q : q + t].transpose(0, 1, 3, 2),
                          out=local.work)
                with lock:
                    acc[k : k + per_call] += local.work

    return tile_products


def dw_batches(rounds: int, quick: bool) -> list[dict[str, Any]]:
    """The backward pass with 1 (the package), 4 or 16 products per call, in ms."""
    rows = []
    for name in ("S3", "S4") if not quick else ("S4",):
        x, w, _ = arrays(name)
        if quick:
            x, w = x[:2, :32, :8, :8].copy(), w[:32, :32].copy()
        layer = layer_of(x, w, **options(name))
        g = layer.g
        dout = np.random.default_rng(1).standard_normal((g.N, layer.F, *g.out), dtype=np.float32)

        def call(workers: int, per_call: int, layer: Any = layer, x: np.ndarray = x,
                 dout: np.ndarray = dout) -> Callable[[], Any]:
            whole = bands.call(layer, x, dout, layer.g.out[0], workers, backward=True)
            products = (_tiles.tile_products if per_call == 1  # the package's
                        else batched_products(per_call))

            def run() -> Any:
                with mock.patch.object(winograd_strategy, "tile_products", products):
                    return whole()
            return run

        for setting, workers in (("two workers", 2), ("one worker", 1)):
            fns = {k: call(workers, k) for k in DW_BATCHES}
            want = fns[1]()
            same = all(np.allclose(a, e, rtol=1e-3, atol=1e-4 * float(np.abs(e).max()))
                       for k in DW_BATCHES[1:] for a, e in zip(fns[k](), want))
            with threadpool_limits(1):
                stats = hs.time_interleaved({str(k): f for k, f in fns.items()}, rounds)
            ms = {k: v["median"] * 1e3 for k, v in stats.items()}
            rows.append({"layer": name, "setting": setting, "same": same, "ms": ms})
            print(f"{name} backward, {setting}: " + ", ".join(
                f"{k} per call {v:.1f} ms" for k, v in ms.items()) + f"; same: {same}")
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    rounds = 3 if args.quick else 21
    result = {"machine": hs.machine_label(hs.machine(), 2),
              "into_v": into_v(rounds, args.quick), "no_v": no_v(rounds, args.quick),
              "dw_batches": dw_batches(max(3, rounds // 2), args.quick)}
    if not args.quick:
        RESULTS.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
