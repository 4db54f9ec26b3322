"""Two workers taking turns at the interpreter, measured: ``python -m benchmarks.turns``.

A call's workers are Python threads. NumPy lets go of the interpreter's
lock (the GIL) inside a copy or a ``matmul``, but every call takes it back
at its start and end, and the Python between calls (making views, slicing)
holds it. Two workers running at once wait for each other there. Two
measurements, ratios of medians of calls interleaved in one process:

- ``calls``: one thread makes ``n`` single-threaded ``matmul`` calls of
  a given size; then two threads each make ``n`` at once. Ideally both
  take the same time; the difference, per call, is what taking turns
  costs.
- ``layers``: the forward and backward passes of ``benchmarks.layers``'
  layers on two workers, as shipped and with the calls the package no
  longer makes: every view of a worker's buffers made again on every unit
  (``_views.unit_view`` calling ``make`` each time), one ``matmul`` per
  group instead of one for all groups (``product`` and ``add_product``
  looping over the groups), one product of the filters' gradient per image
  instead of a few images per call (``_grads.add_products`` looping over
  the images), and all three; PyTorch's time when it is installed.

Results go to ``benchmarks/results/turns.json``; ``--quick`` runs fewer
rounds and layers and writes nothing.
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from functools import partial
from pathlib import Path
from typing import Any
from unittest import mock

import numpy as np
from threadpoolctl import threadpool_limits

from benchmarks import harness as hs
from benchmarks.layers import LAYERS
from im2col._strategies import _base, _grads, _views

RESULTS = Path(__file__).parent / "results" / "turns.json"
#: Pixels of the ``(32, 148) @ (148, pixels)`` products (S1's rows).
PIXELS = (64, 256, 1024, 4096)
#: The variants of ``layers``: which of the old habits each one brings back.
VARIANTS = {"shipped": (), "views per unit": ("views",),
            "one call per group": ("groups",), "dw per image": ("images",),
            "all three": ("views", "groups", "images")}


def _loop(f: Callable[[], Any], n: int) -> None:
    for _ in range(n):
        f()


def _threads_time(fs: list[Callable[[], Any]], n: int) -> float:
    """Seconds for every ``f`` in ``fs`` to make ``n`` calls, each on a thread of its own."""
    others = [threading.Thread(target=_loop, args=(f, n)) for f in fs[1:]]
    t0 = time.perf_counter()
    for t in others:
        t.start()
    _loop(fs[0], n)
    for t in others:
        t.join()
    return time.perf_counter() - t0


def calls(rounds: int, pixels: tuple[int, ...]) -> list[dict[str, Any]]:
    """One thread against two, each making the same single-threaded ``matmul`` calls."""
    rows = []
    rng = np.random.default_rng(0)
    def product(p: int) -> Callable[[], Any]:
        a = rng.standard_normal((32, 148), dtype=np.float32)
        b = rng.standard_normal((148, p), dtype=np.float32)
        out = np.empty((32, p), np.float32)
        return lambda: np.matmul(a, b, out=out)

    for p in pixels:
        n = max(50, 200_000 // p)
        with threadpool_limits(1):
            one, two = [], []
            for _ in range(rounds):
                one.append(_threads_time([product(p)], n))
                two.append(_threads_time([product(p), product(p)], n))
        o, t = float(np.median(one)), float(np.median(two))
        rows.append({"pixels": p, "calls": n, "us per call": o / n * 1e6,
                     "two / one": t / o, "us lost per call": (t - o) / n * 1e6})
        print(f"(32, 148) @ (148, {p}): {o / n * 1e6:.1f} us per call; two threads "
              f"at once {t / o:.2f}x the time of one ({(t - o) / n * 1e6:.1f} us per call)")
    return rows


def _views_each_unit(bufs: dict[str, np.ndarray], key: str,
                     make: Callable[[], np.ndarray]) -> np.ndarray:
    return make()


def _per_group(product: Callable[..., None], add: Callable[..., None]
               ) -> tuple[Callable[..., None], Callable[..., None]]:
    """``product`` and ``add_product`` making one call per group of a stack."""
    def product_each(a: np.ndarray, b: np.ndarray, out: np.ndarray,
                     step: int | None = None) -> None:
        if a.ndim == 2:
            return product(a, b, out, step)
        for k in range(a.shape[0]):
            product(a[k], b[..., k, :, :], out[..., k, :, :], step)
        return None

    def add_each(dw: np.ndarray, d: np.ndarray, c: np.ndarray, tmp: np.ndarray) -> None:
        if d.ndim == dw.ndim - 1:  # one group's
            return add(dw, d, c, tmp)
        groups = dw.shape[0]
        part = tmp.reshape(-1)[: tmp.size // groups]
        for k in range(groups):
            add(dw[k], d[..., k, :, :], c[..., k, :, :], part)
        return None
    return product_each, add_each


def _dw_per_image(dw: np.ndarray, d: np.ndarray, c: np.ndarray, tmp: np.ndarray) -> None:
    for q in range(d.shape[0]):
        _grads.add_product(dw, d[q], c[q], tmp)


@contextmanager
def variant(habits: tuple[str, ...]) -> Iterator[None]:
    """Bring back the old habits named in ``habits`` inside the block."""
    with ExitStack() as stack:
        if "views" in habits:
            stack.enter_context(mock.patch.object(_views, "unit_view", _views_each_unit))
        if "groups" in habits:
            product_each, add_each = _per_group(_base.product, _grads.add_product)
            for module in (_base, _grads):  # _grads calls the product it imported
                stack.enter_context(mock.patch.object(module, "product", product_each))
            stack.enter_context(mock.patch.object(_grads, "add_product", add_each))
        if "images" in habits:
            stack.enter_context(mock.patch.object(_grads, "add_products", _dw_per_image))
        yield


def layers(torch: Any, rounds: int, names: list[str]) -> list[dict[str, Any]]:
    """Each layer's passes on two workers: every variant, and PyTorch, over the shipped code."""
    rows = []
    for name in names:
        med, passes = hs.layer_variants(
            name, {v: partial(variant, habits) for v, habits in VARIANTS.items()},
            torch, rounds, workers=2)
        row: dict[str, Any] = {"layer": name}
        for p in passes:
            for v in VARIANTS:
                if v != "shipped":
                    row[f"{p} {v} / shipped"] = med[f"{p} {v}"] / med[f"{p} shipped"]
            if torch is not None:
                row[f"{p} shipped / torch"] = med[f"{p} shipped"] / med[f"{p} torch"]
                row[f"{p} all three / torch"] = med[f"{p} all three"] / med[f"{p} torch"]
        print(f"{name:11s} " + ", ".join(f"{k} {v:.2f}" for k, v in row.items()
                                         if isinstance(v, float)))
        rows.append(row)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    rounds = 3 if args.quick else 11
    torch = hs.try_torch()
    result = {
        "machine": hs.machine_label(hs.machine(), 2),
        "calls": calls(rounds, PIXELS[:2] if args.quick else PIXELS),
        "layers": layers(torch, rounds * 2, ["S1"] if args.quick else list(LAYERS)),
    }
    if not args.quick:
        RESULTS.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
