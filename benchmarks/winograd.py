"""Winograd F(2x2, 3x3) and F(4x4, 3x3) against im2col + GEMM and PyTorch.

``python -m benchmarks.winograd`` times, interleaved in one process (each
method called once to warm up, then all in turn, round after round, as
:func:`benchmarks.harness.time_interleaved` does), float32, two threads,
on S3 and S4 of :mod:`benchmarks.methods`:

- ``F2``, ``F4``: the whole forward pass of :func:`winograd_conv.conv2d`
  (chunks of images, every stage of a chunk while its buffers are in cache);
- each stage alone on the whole batch, its operands made in advance:
  ``filter`` (the transform of ``w``), ``input`` (the input transform by
  row passes; ``input gemm``: the tiles copied and one GEMM), ``products``
  (the ``a**2`` matrix multiplies, one ``np.matmul``) and ``output`` (the
  output transform, bias included);
- ``im2col``: :func:`im2col_gemm`, ``im2col.conv2d`` forced to its
  columns-and-one-GEMM-per-image strategy;
- ``torch``: ``torch.nn.functional.conv2d``, two threads.

And the float32 error of each whole method: the largest absolute
difference to a float64 result (:func:`im2col_gemm` on the same numbers in
float64), divided by that result's largest absolute value. The machine may
be shared: compare ratios of medians of one run, not absolute times.
Results go to ``benchmarks/results/winograd.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Callable
from datetime import datetime, timezone
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks import harness as hs
from benchmarks import methods as mt
from benchmarks import winograd_conv as wc
from im2col import _conv

RESULTS = Path(__file__).parent / "results" / "winograd.json"
SHAPES = ("S3", "S4")
TILES = (2, 4)
THREADS = 2


def _stages(layer: wc.Winograd, a: dict[str, np.ndarray], workers: int
            ) -> dict[str, Callable[[], object]]:
    """Each stage on the whole batch, its operands and outputs made in advance."""
    x, w, b = a["x"], a["w"], a["b"]
    n, c = x.shape[:2]
    f = w.shape[0]
    th, tw = layer.tiles
    k, tiles = layer.a**2, th * tw
    u = layer.filter_transform(w)
    v = np.empty((k, c, n * tiles), x.dtype)
    mm = np.empty((k, f, n * tiles), x.dtype)
    out = np.empty((n, f, *layer.out_hw), x.dtype)   # (the bias goes into mm in place)
    per = wc.chunk_images(layer, workers)
    starts = range(0, n, per)

    def by_chunks(transform: Callable[[np.ndarray, np.ndarray], None]) -> Callable[[], None]:
        return lambda: wc.run_chunks(
            [partial(transform, x[lo:lo + per], v[:, :, lo * tiles:(lo + per) * tiles])
             for lo in starts], workers)

    def by_chunks_out(transform: Callable[..., None]) -> Callable[[], None]:
        return lambda: wc.run_chunks(
            [partial(transform, mm[:, :, lo * tiles:(lo + per) * tiles], b,
                     out[lo:lo + per].transpose(1, 0, 2, 3))
             for lo in starts], workers)

    half = n * tiles // 2
    return {
        "filter": lambda: layer.filter_transform(w, workers),
        "input": by_chunks(layer.input_transform),
        "input gemm": by_chunks(layer.input_transform_gemm),
        "products": lambda: wc.run_chunks(
            [lambda: np.matmul(u, v[:, :, :half], out=mm[:, :, :half]),
             lambda: np.matmul(u, v[:, :, half:], out=mm[:, :, half:])], workers),
        "output": by_chunks_out(layer.output_transform),
        "output gemm": by_chunks_out(layer.output_transform_gemm),
    }


def im2col_gemm(x: np.ndarray, w: np.ndarray, b: np.ndarray | None = None, *,
                padding: Any = 0) -> np.ndarray:
    """``im2col.conv2d`` forced to its ``im2col`` strategy (columns, one GEMM per image)."""
    return _conv._forward(x, w, b, padding=padding, strategy="im2col")


def methods(shape: mt.Shape, a: dict[str, np.ndarray], torch: Any,
            workers: int = THREADS) -> dict[str, Callable[[], object]]:
    """Every timed closure of one layer: whole methods and Winograd's stages."""
    x, w, b, p = a["x"], a["w"], a["b"], shape.pad
    fns: dict[str, Callable[[], object]] = {
        "im2col": lambda: im2col_gemm(x, w, b, padding=p)}
    if torch is not None:
        fns["torch"] = mt.torch_layer(torch, x, w, b, None, padding=p)["forward"]
    for m in TILES:
        fns[f"F{m}"] = partial(wc.conv2d, x, w, b, padding=p, m=m, workers=workers)
        layer = wc.Winograd(m, x.shape, w.shape[0], p, x.dtype)
        for name, fn in _stages(layer, a, workers).items():
            fns[f"F{m} {name}"] = fn
    return fns


def errors(shape: mt.Shape, a: dict[str, np.ndarray], torch: Any) -> dict[str, float]:
    """Float32 error of each whole method, relative to the float64 result's max."""
    x, w, b, p = a["x"], a["w"], a["b"], shape.pad
    ref = im2col_gemm(x.astype(np.float64), w.astype(np.float64), b.astype(np.float64),
                      padding=p)
    outs = {"im2col": im2col_gemm(x, w, b, padding=p)}
    outs.update({f"F{m}": wc.conv2d(x, w, b, padding=p, m=m) for m in TILES})
    if torch is not None:
        result: Any = mt.torch_layer(torch, x, w, b, None, padding=p)["forward"]()
        outs["torch"] = result.numpy()
    scale = float(np.abs(ref).max())
    return {k: float(np.abs(v - ref).max()) / scale for k, v in outs.items()}


def measure(batch: int | None = None, rounds: int = 9,
            shapes: tuple[str, ...] = SHAPES) -> dict[str, Any]:
    """Time and error of every method on ``shapes``; ratios to PyTorch and im2col."""
    torch = hs.try_torch()
    load = os.getloadavg()
    t0 = time.perf_counter()
    cases = []
    for name in shapes:
        shape = next(s for s in mt.SHAPES if s.name == name)
        if batch is not None:
            shape = shape.scaled(batch)
        a = mt.arrays(shape, "float32")
        with hs.threads(THREADS, torch):
            stats: dict[str, dict[str, Any]] = hs.time_interleaved(
                methods(shape, a, torch), rounds)
            err = errors(shape, a, torch)
        ref_torch = stats.get("torch", {}).get("median")
        for s in stats.values():
            s["vs_torch"] = s["median"] / ref_torch if ref_torch else None
            s["vs_im2col"] = s["median"] / stats["im2col"]["median"]
        cases.append({"shape": name, "label": shape.label(), "note": shape.note,
                      "gflop": shape.flops() / 1e9, "methods": stats, "error": err})
    m = hs.machine()
    return {"machine": m, "label": hs.machine_label(m, threads_used=THREADS),
            "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "dtype": "float32", "threads": THREADS, "rounds": rounds, "batch": batch,
            "load_average": {"start": load[0], "end": os.getloadavg()[0]},
            "seconds": round(time.perf_counter() - t0, 1), "cases": cases}


def markdown(res: dict[str, Any]) -> str:
    """Each case as a table: median ms, ratios to im2col + GEMM and PyTorch."""
    parts = [f"{res['label']}; {res['dtype']}, {res['threads']} threads, medians of "
             f"{res['rounds']} interleaved rounds, load average "
             f"{res['load_average']['start']:.2f} at the start."]
    for c in res["cases"]:
        rows = [f"**{c['shape']}** {c['label']}", "",
                "| method | ms | / im2col + GEMM | / PyTorch | float32 error |",
                "| --- | --- | --- | --- | --- |"]
        for name, s in c["methods"].items():
            vt = f"{s['vs_torch']:.2f}" if s["vs_torch"] else "-"
            e = f"{c['error'][name]:.1e}" if name in c["error"] else ""
            rows.append(f"| {name} | {s['median'] * 1e3:.1f} | {s['vs_im2col']:.2f} "
                        f"| {vt} | {e} |")
        parts.append("\n".join(rows))
    return "\n\n".join(parts)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--batch", type=int, help="fewer images, for a quick run")
    ap.add_argument("--rounds", type=int, default=9)
    ap.add_argument("--out", type=Path, default=RESULTS,
                    help="where the JSON goes (default %(default)s)")
    args = ap.parse_args(argv)
    res = measure(args.batch, args.rounds)
    args.out.write_text(json.dumps(res, indent=1) + "\n")
    print(markdown(res))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
