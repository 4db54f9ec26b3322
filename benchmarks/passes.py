"""Passes over the data besides the GEMMs, two ways each: ``python -m benchmarks.passes``.

- ``winograd_passes``: the ``winograd`` strategy spends much of its time
  outside its GEMMs, in the passes of ``B.T`` over the input tiles (both
  passes) and of ``G2`` over the tiles of ``dout`` (the filters' gradient).
  Written the obvious way, those passes read every other element of a row:
  NumPy's ufuncs then run their strided loops. The package instead copies
  the four phases of the band apart (even or odd rows by even or odd
  columns) and runs every pass as one ufunc over whole contiguous arrays
  (:mod:`im2col._strategies._tiles`). Both are timed on a unit of one image
  of S3 (64 channels, 56x56) and one of two images of S4 (256 channels,
  14x14), with a check that both give the same tiles (to float32's
  rounding: ``dout``'s sums of four terms are added in another order). The
  strided passes below are kept only as this baseline.
- ``bias``: the GEMM of a unit of S2 (50 images) then the bias added by a
  second pass over its output, against one GEMM on columns with a row of
  ones and filters with the bias beside them (``im2col``'s way), with a
  check that both give the same output to float32's rounding.
- ``col2im``: the backward pass's col2im of a unit, one strided ``+=`` per
  kernel tap (runs ``ow`` long) against the package's
  (:func:`im2col._columns.add_columns`: the kernel rows summed in place
  first, over long runs, then two adds per kernel column), on units of
  S1, S3, the 5x5 and the 4-group layers, one thread, with a check that
  both give the same gradient; then ``conv2d_backward`` on two threads
  with each, on the stride-1 layers whose default plan adds columns back.

Calls interleaved, one thread unless said. Results go to
``benchmarks/results/passes.json``; ``--quick`` runs fewer rounds and
writes nothing.
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
from benchmarks.layers import arrays, options
from im2col import _columns, conv2d, conv2d_backward
from im2col._compat import reshape_view
from im2col._geometry import geometry
from im2col._strategies import _tiles
from im2col._strategies import im2col as im2col_strategy

RESULTS = Path(__file__).parent / "results" / "passes.json"
#: name: (images per unit, channels = filters, height = width)
UNITS = {"S3": (1, 64, 56), "S4": (2, 256, 14)}


def _along(src: np.ndarray, axis: int, count: int, out: np.ndarray) -> None:
    """``out[i] = sum_j BT[i, j] * src[..., 2*t + j, ...]``, strided slices along ``axis``."""
    s = [src[(slice(None),) * axis + (slice(j, j + 2 * count, 2),)] for j in range(4)]
    np.subtract(s[0], s[2], out=out[0])
    np.add(s[1], s[2], out=out[1])
    np.subtract(s[2], s[1], out=out[2])
    np.subtract(s[1], s[3], out=out[3])


def strided_input_tiles(band: np.ndarray, th: int, tw: int, v: np.ndarray,
                        m: np.ndarray) -> np.ndarray:
    """``_tiles.input_tiles`` by passes over every other row, then column."""
    n, c = band.shape[:2]
    rows = _tiles.first(m, (4, n, c, th, band.shape[3]))
    _along(band, 2, th, rows)
    vv = _tiles.first(v, (16, c, n * th * tw))
    v6 = reshape_view(vv, (4, 4, c, n, th, tw)).transpose(0, 1, 3, 2, 4, 5)
    for i in range(4):
        _along(rows[i], 3, tw, v6[i])
    return vv


def strided_dout_tiles(d: np.ndarray, th: int, tw: int, out: np.ndarray) -> np.ndarray:
    """``_tiles.dout_tiles`` with every entry summed from strided phases of ``d``."""
    n, f = d.shape[:2]
    g2 = _tiles.G2_INT
    dd = _tiles.first(out, (16, f, n * th * tw))
    d6 = reshape_view(dd, (4, 4, f, n, th, tw)).transpose(0, 1, 3, 2, 4, 5)
    phase = [[d[:, :, a : a + 2 * th : 2, b : b + 2 * tw : 2] for b in (0, 1)]
             for a in (0, 1)]
    for i in range(4):
        for j in range(4):
            terms = [(g2[i, a] * g2[j, b], phase[a][b])
                     for a in (0, 1) for b in (0, 1) if g2[i, a] and g2[j, b]]
            np.copyto(d6[i, j], terms[0][1])
            for sign, t in terms[1:]:
                (np.add if sign > 0 else np.subtract)(d6[i, j], t, out=d6[i, j])
    return dd


def winograd_passes(rounds: int) -> list[dict[str, Any]]:
    """Milliseconds of each transform, strided and contiguous, on the two units."""
    rng = np.random.default_rng(0)
    return [_unit(name, *unit, rounds, rng) for name, unit in UNITS.items()]


def _unit(name: str, n: int, c: int, hw: int, rounds: int,
          rng: np.random.Generator) -> dict[str, Any]:
    th = tw = _tiles.tiles(hw)
    band = np.zeros((n, c, 2 * th + 2, 2 * tw + 2), np.float32)
    band[:, :, 1 : hw + 1, 1 : hw + 1] = rng.standard_normal((n, c, hw, hw))
    d = rng.standard_normal((n, c, 2 * th, 2 * tw)).astype(np.float32)
    vsize, msize = _tiles.scratch(n, c, c, hw, 2 * tw + 2)
    v, m, v2, m2 = (np.empty(max(vsize, msize), np.float32) for _ in range(4))
    # the same input tiles; dout's sums of four are added in another order
    same = bool(np.array_equal(strided_input_tiles(band, th, tw, v, m),
                               _tiles.input_tiles(band, th, tw, v2, m2))
                and np.allclose(strided_dout_tiles(d, th, tw, v),
                                _tiles.dout_tiles(d, th, tw, v2), rtol=1e-6, atol=1e-6))
    fns = {"input, strided": lambda: strided_input_tiles(band, th, tw, v, m),
           "input, contiguous": lambda: _tiles.input_tiles(band, th, tw, v, m),
           "dout, strided": lambda: strided_dout_tiles(d, th, tw, m),
           "dout, contiguous": lambda: _tiles.dout_tiles(d, th, tw, m)}
    with hs.threads(1, None):
        stats = hs.time_interleaved(fns, rounds)
    ms = {k: val["median"] * 1e3 for k, val in stats.items()}
    print(f"{name} unit ({n} x {c} x {hw} x {hw}), one thread: " + ", ".join(
        f"{k} {val:.3f} ms" for k, val in ms.items()) + f"; same tiles: {same}")
    return {"layer": name, "images": n, "channels": c, "size": hw, "same": same, "ms": ms}


def bias(rounds: int, images: int = 50) -> dict[str, Any]:
    """Milliseconds of S2's unit GEMM with the bias added after it or inside it."""
    rng = np.random.default_rng(0)
    F, K, P = 25, 27, 16 * 16  # S2: 25 filters of 3x3x3, 16x16 outputs
    w2 = rng.standard_normal((F, K), dtype=np.float32)
    b = rng.standard_normal(F, dtype=np.float32)
    cols = rng.standard_normal((images, K + 1, P), dtype=np.float32)
    cols[:, K] = 1
    wb = np.concatenate([w2, b[:, None]], axis=1)
    out, folded = (np.empty((images, F, P), np.float32) for _ in range(2))

    def after() -> None:
        np.matmul(w2, cols[:, :K], out=out)
        np.add(out, b[:, None], out=out)

    def inside() -> None:
        np.matmul(wb, cols, out=folded)

    after()
    inside()
    same = bool(np.allclose(out, folded, rtol=1e-5, atol=1e-5))
    fns = {"GEMM alone": lambda: np.matmul(w2, cols[:, :K], out=out),
           "GEMM, then the bias": after, "GEMM with the bias inside": inside}
    with hs.threads(1, None):
        stats = hs.time_interleaved(fns, rounds)
    ms = {k: v["median"] * 1e3 for k, v in stats.items()}
    print(f"S2, {images} images, one thread: " + ", ".join(
        f"{k} {v:.3f} ms" for k, v in ms.items()) + f"; same output: {same}")
    return {"images": images, "same": same, "ms": ms}


#: name: (images, channels, kernel height = width, output height = width)
COL2IM_UNITS = {"S1": (3, 3, 7, 32), "S3": (1, 64, 3, 56), "5x5": (1, 32, 5, 28),
                "4 groups": (1, 128, 3, 28)}


def per_tap(dxp: np.ndarray, cols: np.ndarray, g: Any, rows: int) -> None:
    """The baseline: one strided ``+=`` per kernel tap."""
    _columns.add_taps(dxp, cols.transpose(2, 3, 0, 1, 4, 5), g, rows)


def col2im(rounds: int, quick: bool = False) -> dict[str, Any]:
    """Milliseconds of each col2im of a unit; the backward pass with each."""
    rng = np.random.default_rng(0)
    units = []
    for name, (m, c, k, o) in list(COL2IM_UNITS.items())[: 1 if quick else None]:
        g = geometry((m, c, o + k - 1, o + k - 1), (k, k), stride=1, padding=0,
                     dilation=1)
        cols = rng.standard_normal((m, c, k, k, o, o), dtype=np.float32)
        work = cols.copy()
        dxp = np.zeros((m, c, o + k - 1, o + k - 1), np.float32)
        want, got = dxp.copy(), dxp.copy()
        per_tap(want, cols, g, o)
        _columns.add_columns(got, work, g, o)
        same = bool(np.allclose(got, want, rtol=1e-5, atol=1e-5))

        def folded(work: np.ndarray = work, cols: np.ndarray = cols,
                   dxp: np.ndarray = dxp, g: Any = g, o: int = o) -> None:
            np.copyto(work, cols)  # add_columns uses its columns up
            _columns.add_columns(dxp, work, g, o)

        fns: dict[str, Callable[[], object]] = {
            "copy of the columns": partial(np.copyto, work, cols),
            "per tap": partial(per_tap, dxp, cols, g, o),
            "rows first": folded}
        with hs.threads(1, None):
            stats = hs.time_interleaved(fns, rounds)
        ms = {key: v["median"] * 1e3 for key, v in stats.items()}
        ms["rows first"] -= ms.pop("copy of the columns")  # the copy is the benchmark's
        units.append({"layer": name, "images": m, "channels": c, "kernel": k,
                      "size": o, "same": same, "ms": ms})
        print(f"col2im, {name} unit ({m} x {c} x {o}x{o}, {k}x{k}), one thread: "
              f"per tap {ms['per tap']:.3f} ms, rows first {ms['rows first']:.3f} ms; "
              f"same: {same}")
    return {"units": units, "layers": [] if quick else col2im_layers(rounds)}


def col2im_layers(rounds: int) -> list[dict[str, Any]]:
    """``conv2d_backward`` on two threads, per tap over rows first."""
    rows = []
    for name in ("S1", "5x5"):
        x, w, _ = arrays(name)
        opts = options(name)
        dout = np.ones_like(conv2d(x, w, **opts))

        def baseline(x: Any = x, w: Any = w, d: Any = dout, o: Any = opts) -> Any:
            with mock.patch.object(im2col_strategy, "add_columns", per_tap):
                return conv2d_backward(d, x, w, **o)

        fns: dict[str, Callable[[], object]] = {
            "per tap": baseline,
            "rows first": partial(conv2d_backward, dout, x, w, **opts)}
        with hs.threads(2, None):
            stats = hs.time_interleaved(fns, rounds)
        ratio = stats["rows first"]["median"] / stats["per tap"]["median"]
        rows.append({"layer": name, "rows first / per tap": ratio})
        print(f"conv2d_backward {name}, two threads: rows first / per tap {ratio:.2f}")
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    rounds = 3 if args.quick else 15
    result = {"machine": hs.machine_label(hs.machine(), 1),
              "winograd_passes": winograd_passes(rounds), "bias": bias(rounds * 3),
              "col2im": col2im(rounds, args.quick)}
    if not args.quick:
        RESULTS.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
