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

One thread, calls interleaved. Results go to
``benchmarks/results/passes.json``; ``--quick`` runs fewer rounds and
writes nothing.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks import harness as hs
from im2col._compat import reshape_view
from im2col._strategies import _tiles

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


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    rounds = 3 if args.quick else 15
    result = {"machine": hs.machine_label(hs.machine(), 1),
              "winograd_passes": winograd_passes(rounds), "bias": bias(rounds * 3)}
    if not args.quick:
        RESULTS.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
