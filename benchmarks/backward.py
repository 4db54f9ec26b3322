"""Two changes to the backward pass, measured: ``python -m benchmarks.backward``.

- ``orientation``: one thread, the filters' gradient of one image and one
  group, ``dw += dout @ cols.T`` (``F/groups`` by ``pixels`` times
  ``pixels`` by ``rows``) against ``cols @ dout.T`` added transposed, the
  same memory, over a grid of shapes, float32 and float64. Each row says
  which one the package's rule (``_strategies._grads.transposed_dw``) picks.
- ``small_images``: two threads, the backward pass of stride-1 layers of
  7x7 to 14x14 outputs by ``full`` (one GEMM per image) against
  ``im2col_t`` (one wide GEMM per unit), float32 and float64: the
  evidence for ``_rules.FULL_PIXELS``.
- ``layers``: two threads, the backward pass of ``benchmarks.ideas``'
  layers as shipped, against the same call with both changes turned off
  (no ``full`` strategy, no transposed products), and PyTorch's
  ``convolution_backward`` when it is installed: ratios of medians, calls
  interleaved.

Results go to ``benchmarks/results/backward.json``; ``--quick`` runs fewer
rounds and shapes and writes nothing.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks import harness as hs
from benchmarks import methods as mt
from benchmarks.layers import LAYERS, arrays, options
from im2col import conv2d, conv2d_backward
from im2col._conv_backward import _backward
from im2col._strategies import STRATEGIES, _grads

RESULTS = Path(__file__).parent / "results" / "backward.json"
#: (filters per group, rows of columns per group, pixels): S1's, S2's,
#: the 4-group layer's, S3's and S4's, and a grid of small ones
SHAPES = [(32, 147, 1024), (25, 27, 256), (32, 288, 784), (64, 576, 784),
          (128, 576, 784), (256, 2304, 196),
          *((f, r, 1024) for f in (16, 32, 64) for r in (27, 48, 75, 147, 288))]


def orientation(rounds: int, quick: bool = False) -> list[dict[str, Any]]:
    rows = []
    for dtype in (np.float32, np.float64):
        for f, r, p in SHAPES[: 3 if quick else None]:
            rng = np.random.default_rng(0)
            d = rng.standard_normal((f, p)).astype(dtype)
            c = rng.standard_normal((r, p)).astype(dtype)
            tmp, dw = np.empty((f, r), dtype), np.zeros((f, r), dtype)
            t = tmp.reshape(r, f)

            def plain(d: Any = d, c: Any = c, tmp: Any = tmp, dw: Any = dw) -> None:
                np.matmul(d, c.T, out=tmp)
                dw += tmp

            def transposed(d: Any = d, c: Any = c, t: Any = t, dw: Any = dw) -> None:
                np.matmul(c, d.T, out=t)
                dw += t.T

            with hs.threads(1, None):
                stats = hs.time_interleaved({"dout @ cols.T": plain,
                                             "cols @ dout.T": transposed}, rounds)
            ratio = stats["cols @ dout.T"]["median"] / stats["dout @ cols.T"]["median"]
            row = {"dtype": np.dtype(dtype).name, "filters": f, "rows": r, "pixels": p,
                   "dout @ cols.T ms": stats["dout @ cols.T"]["median"] * 1e3,
                   "transposed / plain": ratio,
                   "rule": bool(_grads.transposed_dw(f, r, np.dtype(dtype)))}
            print(f"{row['dtype']} {f:3d} x {r:4d} x {p:4d}: transposed / plain "
                  f"{ratio:.2f} (rule: {'transposed' if row['rule'] else 'plain'})")
            rows.append(row)
    return rows


#: name: (x shape, w shape, padding, groups, dilation), outputs as large as the inputs
SMALL = {
    "128 ch, 7x7": ((32, 128, 7, 7), (128, 128, 3, 3), 1, 1, 1),
    "512 ch, 7x7": ((16, 512, 7, 7), (512, 512, 3, 3), 1, 1, 1),
    "128 ch, 10x10": ((32, 128, 10, 10), (128, 128, 3, 3), 1, 1, 1),
    "256 ch, 4 groups, 10x10": ((32, 256, 10, 10), (256, 64, 3, 3), 1, 4, 1),
    "128 ch, 12x12": ((32, 128, 12, 12), (128, 128, 3, 3), 1, 1, 1),
    "64 ch, 14x14": ((32, 64, 14, 14), (64, 64, 3, 3), 1, 1, 1),
    "32 ch, 5x5 kernel, 14x14": ((32, 32, 14, 14), (32, 32, 5, 5), 2, 1, 1),
    "256 ch, 4 groups, 14x14": ((32, 256, 14, 14), (256, 64, 3, 3), 1, 4, 1),
    "256 ch, dilation 2, 14x14": ((32, 256, 14, 14), (256, 256, 3, 3), 2, 1, 2),
}


def small_images(rounds: int, quick: bool = False) -> list[dict[str, Any]]:
    rows = []
    for dtype in (np.float32, np.float64):
        for name, (xs, ws, p, g, d) in list(SMALL.items())[: 2 if quick else None]:
            if quick:
                xs = (2, *xs[1:])
            rng = np.random.default_rng(0)
            x, w = rng.standard_normal(xs).astype(dtype), rng.standard_normal(ws).astype(dtype)
            opts = {"padding": p, "groups": g, "dilation": d}
            dout = np.ones_like(conv2d(x, w, None, **opts))
            fns = {s: partial(_backward, dout, x, w, strategy=s, **opts)
                   for s in ("full", "im2col_t")}
            with hs.threads(2, None):
                stats = hs.time_interleaved(fns, rounds)
            ratio = stats["full"]["median"] / stats["im2col_t"]["median"]
            rows.append({"dtype": np.dtype(dtype).name, "layer": name,
                         "pixels": xs[2] * xs[3], "full / im2col_t": ratio})
            print(f"{rows[-1]['dtype']} {name:26s} full / im2col_t {ratio:.2f}")
    return rows


@contextmanager
def before() -> Iterator[None]:
    """Turn both changes off: no ``full`` in plans, no transposed products."""
    full, most = STRATEGIES["full"], _grads.TRANSPOSED_DW
    full.unfit = lambda layer, x: "turned off"  # type: ignore[method-assign]
    _grads.TRANSPOSED_DW = 0
    try:
        yield
    finally:
        del full.unfit
        _grads.TRANSPOSED_DW = most


def layers(torch: Any, rounds: int, names: list[str]) -> list[dict[str, Any]]:
    return [_layer(name, torch, rounds) for name in names]


def _layer(name: str, torch: Any, rounds: int) -> dict[str, Any]:
    x, w, _ = arrays(name)
    opts = options(name)
    dout = np.ones_like(conv2d(x, w, **opts))

    def now() -> Any:
        return conv2d_backward(dout, x, w, **opts)

    def then() -> Any:
        with before():
            return conv2d_backward(dout, x, w, **opts)

    fns: dict[str, Callable[[], Any]] = {"default": now, "before": then}
    if torch is not None:
        fns["torch"] = mt.torch_layer(torch, x, w, None, dout, **opts)["backward"]
    with hs.threads(2, torch):
        stats = hs.time_interleaved(fns, rounds)
    ref = "torch" if torch is not None else "before"
    row = {"layer": name, "vs": ref,
           **{f"{k} / {ref}": v["median"] / stats[ref]["median"]
              for k, v in stats.items() if k != ref}}
    print(f"backward {name:11s} " + ", ".join(
        f"{k} {v:.2f}" for k, v in row.items() if "/" in k))
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    rounds = 3 if args.quick else 9
    torch = hs.try_torch()
    result = {
        "machine": hs.machine_label(hs.machine(), 2),
        "orientation": orientation(rounds * 5, args.quick),
        "small_images": small_images(rounds, args.quick),
        "layers": layers(torch, rounds, ["4 groups"] if args.quick else list(LAYERS)),
    }
    if not args.quick:
        RESULTS.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
