"""The ``rows`` and ``window_rows`` strategies, measured: ``python -m benchmarks.rows``.

``rows`` copies, for every padded input row, its ``C*kw`` windows of one
kernel row into a strip; each output row's columns are then a view of
``kh`` consecutive strip rows, multiplied by one GEMM per output row
(``_strategies/rows.py``). Medians of calls interleaved in one process,
forward pass unless said:

- ``stages``: S1 (C = 3, 7x7, 32 filters), one unit of images on one
  thread, in ms: the copy into im2col's columns and its GEMM, against
  the copy into the strip and the GEMMs per output row.
- ``rule``: ``rows`` over ``im2col`` (both forced) on a grid of layers:
  7x7 kernels of 8 to 128 filters, 5x5 and 3x3 ones, and
  ``benchmarks.layers``' layers where ``rows`` applies; float32 and
  float64; two workers (BLAS on one thread), and one worker with BLAS on
  two threads. Each row says whether the planner picks ``rows`` there
  (``ROWS_KERNEL``, ``ROWS_FILTERS`` in ``im2col._rules``).
- ``units``: S1 on two workers, ``rows`` with 1 to 25 images per unit,
  over the default plan: the evidence for ``Rows.target_bytes``.
- ``window_rows``: the idea of ``_strategies/window_rows.py``, one GEMM
  per *kernel* row. With the strip of each image laid out ``(C, kw, Hp, ow)`` (``Hp`` padded
  rows), kernel row ``i``'s columns for every output row at once are one
  BLAS matrix ``(C*kw, oh*ow)`` whose rows lie ``Hp*ow`` apart, starting
  at strip row ``i*dh`` (stride 1 along the height). So the forward pass
  is ``kh`` GEMMs ``(F, C*kw) @ (C*kw, oh*ow)`` (per group), summed, on a
  copy ``kh`` times smaller than im2col's columns. Against im2col's copy and
  GEMM: the stages of one unit on one thread, and the whole batch on two.
- ``window_rule``: as ``rule``, ``window_rows`` over ``im2col`` (both
  forced) where it applies, with each product's depth ``C/groups*kw``
  (``WINDOW_ROWS_DEPTH`` in ``im2col._rules``).
- ``window_backward``: ``window_rule`` for the backward pass.

These three parts carry the label of the machine they ran on: ``--only
window_rows window_rule window_backward`` runs them alone and keeps the
other parts of the last results.

Results go to ``benchmarks/results/rows.json``; ``--quick`` runs fewer
rounds and layers and writes nothing.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from benchmarks import harness as hs
from benchmarks.layers import arrays, options
from im2col import _conv, _conv_backward, _threads, _view, conv2d
from im2col._compat import reshape_view
from im2col._layer import layer_of
from im2col._plan import plan
from im2col._strategies import STRATEGIES, _base

RESULTS = Path(__file__).parent / "results" / "rows.json"
#: name: (x shape, w shape, stride, padding), beside ``benchmarks.layers``'
GRID: dict[str, tuple[tuple[int, ...], tuple[int, ...], int, int]] = {
    **{f"7x7, {f} filters": ((50, 3, 32, 32), (f, 3, 7, 7), 1, 3) for f in (8, 16, 64, 128)},
    "7x7/2, 32 filters, 96x96": ((16, 3, 96, 96), (32, 3, 7, 7), 2, 3),
    "7x7, 64 channels": ((16, 64, 32, 32), (32, 64, 7, 7), 1, 3),
    "5x5, 32 filters": ((50, 3, 32, 32), (32, 3, 5, 5), 1, 2),
    "5x5, 64 filters, 64x64": ((16, 3, 64, 64), (64, 3, 5, 5), 1, 2),
    "3x3, 32 filters": ((50, 3, 32, 32), (32, 3, 3, 3), 1, 1),
    "3x3, 16 channels": ((32, 16, 32, 32), (32, 16, 3, 3), 1, 1),
}
UNITS = (1, 2, 5, 10, 25)


def _layers(quick: bool) -> dict[str, tuple[tuple[np.ndarray, ...], Any]]:
    """Each layer's float32 ``x, w, b`` and ``conv2d`` options."""
    rng = np.random.default_rng(0)
    out: dict[str, tuple[tuple[np.ndarray, ...], Any]] = {}
    for name, (xs, ws, s, p) in GRID.items():
        out[name] = (tuple(rng.standard_normal(shape, dtype=np.float32)
                           for shape in (xs, ws, ws[:1])), {"stride": s, "padding": p})
    for name in ("S1", "S2", "S3", "stem 7x7/2", "5x5", "4 groups", "dilation 2"):
        out[name] = (arrays(name), options(name))
    if quick:
        return {k: out[k] for k in ("S1", "3x3, 32 filters")}
    return out


def _layer(x: np.ndarray, w: np.ndarray, opts: dict[str, Any]) -> Any:
    """The package's layer of ``x`` and ``w`` under ``conv2d``'s options ``opts``."""
    return layer_of(x, w, dilation=opts.get("dilation", 1), groups=opts.get("groups", 1),
                    stride=opts["stride"], padding=opts["padding"])


def _picks(x: np.ndarray, w: np.ndarray, opts: dict[str, Any], workers: int,
           strategy: str = "rows", *, backward: bool = False) -> bool:
    layer = _layer(x, w, opts)
    return plan(layer, x, None, backward=backward, workers=workers).strategy == strategy


def _pass(x: np.ndarray, w: np.ndarray, b: np.ndarray, opts: dict[str, Any], layer: Any, *,
          backward: bool) -> Callable[..., object]:
    """The forward pass of ``x, w, b``, or the backward pass of ``x, w``, taking ``strategy``."""
    if not backward:
        return partial(_conv._forward, x, w, b, **opts)
    dout = np.random.default_rng(1).standard_normal(
        (layer.g.N, layer.F, *layer.g.out)).astype(x.dtype)
    return partial(_conv_backward._backward, dout, x, w, **opts)


def rule(rounds: int, quick: bool, strategy: str = "rows", *,
         backward: bool = False) -> list[dict[str, Any]]:
    """``strategy`` / ``im2col`` per layer, dtype and thread setting.

    In the backward pass, also ``strategy`` / ``full`` where ``full`` applies
    (the planner's choice on some of these layers).
    """
    rows = []
    for name, (arrs, opts) in _layers(quick).items():
        layer = _layer(arrs[0], arrs[1], opts)
        if STRATEGIES[strategy].unfit(layer, arrs[0]) is not None:
            continue
        against = ["im2col", *(["full"] if backward and STRATEGIES["full"].unfit(
            layer, arrs[0]) is None else [])]
        for dtype in (np.float32, np.float64):
            x, w, b = (a.astype(dtype) for a in arrs)
            call = _pass(x, w, b, opts, layer, backward=backward)
            row: dict[str, Any] = {"layer": name, "dtype": np.dtype(dtype).name,
                                   "filters per group": w.shape[0] // opts.get("groups", 1),
                                   "kernel": list(w.shape[2:]),
                                   "depth": w.shape[1] * w.shape[3]}
            for setting, workers, blas in (("two workers", 2, 1), ("one worker", 1, 2)):
                with threadpool_limits(blas):
                    med = hs.time_interleaved(
                        {s: partial(call, strategy=s, workers=workers)
                         for s in (strategy, *against)}, rounds)
                    row[f"picked, {setting}"] = _picks(x, w, opts, workers, strategy,
                                                       backward=backward)
                for a in against:
                    row[f"{strategy} / {a}, {setting}"] = (med[strategy]["median"]
                                                           / med[a]["median"])
            print(f"{name:26s} {row['dtype']}: " + ", ".join(
                f"{k} {v:.2f}" if isinstance(v, float) else f"{k} {v}"
                for k, v in row.items() if " / " in k or k.startswith("picked")))
            rows.append(row)
    return rows


def stages(rounds: int, images: int = 10) -> dict[str, Any]:
    """S1's forward stages for one unit of ``images``, one thread, in ms; whether both agree."""
    x, w, _ = arrays("S1")
    g = layer_of(x, w, stride=1, padding=3, dilation=1, groups=1).g
    (kh, kw), (oh, ow), C, F = g.kernel, g.out, g.C, w.shape[0]
    xp = np.pad(x[:images], ((0, 0), (0, 0), (3, 3), (3, 3)))
    hp = xp.shape[2]
    win = np.lib.stride_tricks.sliding_window_view(xp, (kh, kw), axis=(2, 3))
    cols = np.empty((images, C, kh, kw, oh, ow), np.float32)
    out = np.empty((images, F, oh, ow), np.float32)
    strip = np.empty((images, hp, C, kw, ow), np.float32)
    swin = np.lib.stride_tricks.sliding_window_view(xp, kw, axis=3)  # (n, C, hp, ow, kw)
    s = strip.strides
    scols = np.lib.stride_tricks.as_strided(strip, (images, oh, kh * C * kw, ow),
                                            (s[0], s[1], s[3], s[4]), writeable=False)
    wr = np.ascontiguousarray(w.transpose(0, 2, 1, 3)).reshape(F, kh * C * kw)
    fns: dict[str, Callable[[], object]] = {
        "im2col: copy into the columns": lambda: np.copyto(cols, win.transpose(0, 1, 4, 5, 2, 3)),
        "im2col: GEMM per image": lambda: _base.product(
            w.reshape(F, -1), cols.reshape(images, -1, oh * ow), out.reshape(images, F, -1)),
        "rows: copy into the strip": lambda: np.copyto(strip, swin.transpose(0, 2, 1, 4, 3)),
        "rows: GEMM per output row": lambda: _base.product(wr, scols, out.transpose(0, 2, 1, 3)),
    }
    with hs.threads(1, None):
        med = hs.time_interleaved(fns, rounds)
    res: dict[str, Any] = {k: v["median"] * 1e3 for k, v in med.items()}
    for k, v in res.items():
        print(f"S1, {images} images, one thread: {k:32s} {v:.3f} ms")
    results = _outputs(fns, out, ("im2col", "rows"))  # both give the same output
    res["same"] = bool(np.allclose(results[0], results[1], rtol=1e-5, atol=1e-4))
    return res


def _stages_of(fns: dict[str, Callable[[], object]], method: str) -> list[Callable[[], object]]:
    """The stages of ``method`` among ``fns``, keyed ``"<method>: <stage>"``, in order."""
    return [f for k, f in fns.items() if k.startswith(f"{method}:")]


def _outputs(fns: dict[str, Callable[[], object]], out: np.ndarray,
             methods: tuple[str, ...]) -> list[np.ndarray]:
    """A copy of ``out`` after each of ``methods`` has run all its stages."""
    results = []
    for method in methods:
        for f in _stages_of(fns, method):
            f()
        results.append(out.copy())
    return results


def units(rounds: int) -> dict[str, float]:
    """S1 on two workers: ``rows`` with each number of images per unit / the default."""
    x, w, b = arrays("S1")
    opts = options("S1")
    fns: dict[str, Callable[[], object]] = {
        f"{k} images": partial(_conv._forward, x, w, b, strategy="rows", images=k,
                               workers=2, **opts) for k in UNITS}
    fns["default"] = lambda: conv2d(x, w, b, workers=2, **opts)
    with threadpool_limits(1):
        med = hs.time_interleaved(fns, rounds)
    res = {k: v["median"] / med["default"]["median"] for k, v in med.items() if k != "default"}
    layer = layer_of(x, w, dilation=1, groups=1, **{k: opts[k] for k in ("stride", "padding")})
    images = plan(layer, x, None, backward=False, workers=2).images
    print(f"S1, two workers, rows / the default ({images} images per unit): "
          + ", ".join(f"{k} {v:.2f}" for k, v in res.items()))
    return {"default images": images, **res}


#: The layers of :func:`window_rows` (``benchmarks.layers``), images per unit.
WINDOW_ROWS = {"S1": 10, "S3": 2, "5x5": 4, "4 groups": 4, "dilation 2": 4}


def _by_window_rows(wk: np.ndarray, kcols: list[np.ndarray], out: np.ndarray,
                    tmp: np.ndarray) -> None:
    """``out = sum_i wk[i] @ kcols[i]``, one GEMM per kernel row."""
    np.matmul(wk[0], kcols[0], out=out)
    for i in range(1, len(kcols)):
        np.matmul(wk[i], kcols[i], out=tmp)
        np.add(out, tmp, out=out)


def _unit_stages(x: np.ndarray, w: np.ndarray, opts: Any
                 ) -> tuple[dict[str, Callable[[], object]], np.ndarray]:
    """The two stages of each method on one unit ``x`` (own buffers), and their output."""
    n, G = x.shape[0], opts["groups"]
    g = layer_of(x, w, **opts).g
    (kh, kw), (dh, dw), (oh, ow) = g.kernel, g.dilation, g.out
    C, F, hp = g.C, w.shape[0], g.padded[0]
    Cg, Fg = C // G, F // G
    (top, bottom), (left, right) = g.padding
    xp = np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)))
    win = _view.windows(xp, g.kernel, g.stride, g.dilation)  # (C, kh, kw, n, oh, ow)
    cols = np.empty((n, C, kh, kw, oh, ow), x.dtype)
    out = np.empty((n, F, oh * ow), x.dtype)
    strip = np.empty((n, C, kw, hp, ow), x.dtype)
    swin = _view.windows(xp, (1, kw), (1, g.stride[1]), (1, dw))  # (C, 1, kw, n, hp, ow)
    # kernel row i, per group: (n, G, Cg*kw, oh*ow), rows hp*ow apart, from strip row i*dh
    kcols = [reshape_view(strip[:, :, :, i * dh : i * dh + oh], (n, G, Cg * kw, oh * ow))
             for i in range(kh)]
    wk = np.ascontiguousarray(w.transpose(2, 0, 1, 3)).reshape(kh, G, Fg, Cg * kw)
    return {"im2col: copy": partial(np.copyto, cols, win.transpose(3, 0, 1, 2, 4, 5)),
            "im2col: GEMM": partial(np.matmul, w.reshape(G, Fg, -1),
                                    cols.reshape(n, G, -1, oh * ow),
                                    out=out.reshape(n, G, Fg, -1)),
            "window rows: copy": partial(np.copyto, strip, swin[:, 0].transpose(2, 0, 1, 3, 4)),
            "window rows: GEMMs": partial(_by_window_rows, wk, kcols,
                                          out.reshape(n, G, Fg, -1),
                                          np.empty((n, G, Fg, oh * ow), x.dtype))}, out


def _in_turn(stages: list[Callable[[], object]], times: int) -> None:
    """Call ``stages`` in order, ``times`` times."""
    for _ in range(times):
        for f in stages:
            f()


def window_rows(rounds: int, quick: bool) -> list[dict[str, Any]]:
    """im2col against one GEMM per kernel row, forward: stages and two threads.

    The stages of one unit on one thread, in ms per image; then the whole
    batch on two threads (BLAS on one), each making half the units on
    buffers of its own, so that the copies compete for memory as the
    package's workers' do.
    """
    rows = []
    for name, n in list(WINDOW_ROWS.items())[: 1 if quick else None]:
        x, w, _ = arrays(name)
        opts = options(name)
        fns, out = _unit_stages(x[:n], w, opts)
        with hs.threads(1, None):
            med = hs.time_interleaved(fns, rounds)
        res = {k: v["median"] * 1e3 / n for k, v in med.items()}
        outs = _outputs(fns, out, ("im2col", "window rows"))
        same = bool(np.allclose(outs[0], outs[1], rtol=1e-4, atol=1e-3))
        units = max(1, x.shape[0] // (2 * n))  # per thread
        pair = [_unit_stages(x[k * n : (k + 1) * n], w, opts)[0] for k in range(2)]
        both = {method: partial(_threads.run, [
            partial(_in_turn, _stages_of(p, method), units)
            for p in pair]) for method in ("im2col", "window rows")}
        with hs.threads(2, None):
            two = hs.time_interleaved(both, rounds)
        ratio = two["window rows"]["median"] / two["im2col"]["median"]
        rows.append({"layer": name, "images": n, "ms per image": res, "same": same,
                     "window rows / im2col, two threads": ratio})
        print(f"{name}, {n} images, one thread, ms per image: " + ", ".join(
            f"{k} {v:.3f}" for k, v in res.items()) + f"; same output: {same}; "
            f"two threads, window rows / im2col {ratio:.2f}")
    return rows


#: The parts of a run; the last three (``window_rows``' idea and its rules)
#: carry the label of the machine they ran on.
PARTS = ("stages", "rule", "units", "window_rows", "window_rule", "window_backward")


def part(name: str, rounds: int, quick: bool) -> Any:
    """Run one of :data:`PARTS`."""
    if name == "stages":
        return stages(rounds)
    if name == "rule":
        return rule(rounds, quick)
    if name == "units":
        return units(rounds)
    label = hs.machine_label(hs.machine(), 2)
    if name == "window_rows":
        return {"machine": label, "layers": window_rows(rounds, quick)}
    return {"machine": label, "layers": rule(rounds, quick, "window_rows",
                                             backward=name == "window_backward")}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only", nargs="+", choices=PARTS[3:],
                        help="run these parts (each labelled with its machine) and keep "
                             "the others of the last results")
    args = parser.parse_args(argv)
    rounds = 3 if args.quick else 11
    result = ({"machine": hs.machine_label(hs.machine(), 2)} if args.only is None
              else json.loads(RESULTS.read_text()))
    for name in args.only or PARTS:
        result[name] = part(name, rounds, args.quick)
    if not args.quick:
        RESULTS.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
