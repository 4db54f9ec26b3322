"""Ideas for the forward pass, each measured: ``python -m benchmarks.ideas``.

Every figure is a ratio of medians of calls interleaved in one process
(the settings of :mod:`benchmarks` keep idle BLAS and OpenMP threads from
spinning), float32:

- ``gemm_blocks``: one thread, the GEMM ``w2 (F, K) @ cols (K, P)`` cut
  into blocks of :data:`BLOCK` pixels, over the GEMM in one call, on a
  grid of ``F``, ``K`` (``C*kh*kw``) and ``P`` (output pixels per image);
- ``conv_blocks``: ``im2col.conv2d`` without those blocks (the package),
  with them on GEMMs of depth >= ``BLOCKED_DEPTH`` over >= ``BLOCKED_PIXELS``
  pixels (and on every GEMM of that depth), and PyTorch's ``conv2d``,
  forward, 2 threads, on S1..S5 and five more layers (a ResNet stem, a
  5x5, a 1x1, a 4-group and a dilated layer);
- ``fresh_process``: the same with and without blocks on S3 and S5, each
  in a fresh Python process of its own, 6 calls, the median of the last 5
  (interleaved calls of other methods in one process had hidden what a
  program that only convolves sees);
- ``winograd_rule``: ``im2col.conv2d`` and ``conv2d_backward`` with their
  ``winograd`` strategy over their choice without it, float32, 2 threads, on 3x3 stride-1
  layers of 16 to 512 channels, the evidence for ``WINOGRAD_CHANNELS`` and
  ``WINOGRAD_PIXELS`` in :mod:`im2col._rules`;
- ``first_layer``: where S1's time goes (C = 3, 7x7), one thread, per
  unit of images: the copy of the window view into the columns in NCHW
  order and in channels-last order (runs of ``kw*C`` elements, after a
  transpose of the padded input), and the GEMM in both orientations
  (``w2 @ cols`` into NCHW, ``cols.T @ w2.T`` into channels-last);
- ``groups``: one thread, the 4-group layer's GEMMs for one image, one
  ``matmul`` per group against one ``matmul`` broadcast over the groups;

The backward pass on the same layers against PyTorch's is timed by
``benchmarks.backward`` (``layers``).

Results go to ``benchmarks/results/ideas.json``; ``--quick`` runs fewer
rounds and a smaller grid and writes nothing.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any
from unittest import mock

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from benchmarks import harness as hs
from benchmarks import methods as mt
from benchmarks.layers import F32, LAYERS, arrays, options
from im2col import _conv, _conv_backward, _rules, conv2d, conv2d_backward
from im2col._strategies import _base

RESULTS = Path(__file__).parent / "results" / "ideas.json"
#: Output pixels per GEMM call of the blocks idea (the package makes none).
BLOCK = 256


def with_block(size: int, least_pixels: int, f: Callable[[], Any]) -> Callable[[], Any]:
    """``f`` run with ``PIXEL_BLOCK = size`` (0: no blocks) and ``BLOCKED_PIXELS``."""
    def call() -> Any:
        with mock.patch.multiple(_base, PIXEL_BLOCK=size, BLOCKED_PIXELS=least_pixels):
            return f()
    return call


def ratios(stats: dict[str, dict[str, float]], ref: str) -> dict[str, float]:
    return {k: v["median"] / stats[ref]["median"] for k, v in stats.items()}


def gemm_blocks(rounds: int, quick: bool) -> list[dict[str, Any]]:
    rng = np.random.default_rng(0)
    rows = []
    fs, ks, ps = ((32, 64), (147, 576), (784, 3136)) if quick else (
        (16, 32, 64, 128, 256), (27, 147, 288, 576, 1152, 2304), (784, 3136, 12544))
    with hs.threads(1, None):
        for F in fs:
            for K in ks:
                for P in ps:
                    w2 = rng.standard_normal((F, K), dtype=F32)
                    cols = rng.standard_normal((K, P), dtype=F32)
                    out = np.empty((F, P), F32)
                    B = BLOCK

                    def blocks(w2: Any = w2, cols: Any = cols, out: Any = out,
                               P: int = P, B: int = B) -> None:
                        for p in range(0, P, B):
                            np.matmul(w2, cols[:, p:p + B], out=out[:, p:p + B])

                    stats = hs.time_interleaved(
                        {"one call": partial(np.matmul, w2, cols, out=out),
                         "blocks": blocks}, rounds)
                    rows.append({"F": F, "K": K, "P": P, "block": B,
                                 "deep": K >= _base.BLOCKED_DEPTH,
                                 "blocks / one call": ratios(stats, "one call")["blocks"],
                                 "rule": K >= _base.BLOCKED_DEPTH
                                 and P >= _base.BLOCKED_PIXELS})
                    print(f"gemm F{F:4d} K{K:5d} P{P:6d}: blocks / one call "
                          f"{rows[-1]['blocks / one call']:.2f}")
    return rows


def conv_blocks(torch: Any, rounds: int) -> list[dict[str, Any]]:
    rows = [_forward_case(name, torch, rounds) for name in LAYERS]
    return rows


def _forward_case(name: str, torch: Any, rounds: int) -> dict[str, Any]:
    x, w, b = arrays(name)
    opts = options(name)
    fns: dict[str, Callable[[], Any]] = {
        "blocks": with_block(BLOCK, _base.BLOCKED_PIXELS,
                             lambda: conv2d(x, w, b, **opts)),
        "no blocks": with_block(0, 0, lambda: conv2d(x, w, b, **opts)),
        "every deep GEMM in blocks": with_block(BLOCK, 0,
                                                lambda: conv2d(x, w, b, **opts)),
    }
    if torch is not None:
        fns["torch"] = mt.torch_layer(torch, x, w, b, None, **opts)["forward"]
    with hs.threads(2, torch):
        stats = hs.time_interleaved(fns, rounds)
    ref = "torch" if torch is not None else "no blocks"
    row: dict[str, Any] = {"layer": name, "vs": ref, "ratios": ratios(stats, ref),
                           "ms": {k: v["median"] * 1e3 for k, v in stats.items()}}
    print(f"forward {name:11s} " + ", ".join(
        f"{k} {v:.2f}" for k, v in row["ratios"].items()) + f" (of {ref})")
    return row


def fresh_process() -> dict[str, dict[str, float]]:
    """S3 and S5, blocks or not, each in a process of its own: median ms."""
    res: dict[str, dict[str, float]] = {}
    for name in ("S3", "S5"):
        res[name] = {}
        for label, size in (("no blocks", 0), ("blocks", BLOCK)):
            code = f"from benchmarks import ideas; ideas.one_process({name!r}, {size})"
            out = subprocess.run([sys.executable, "-c", code], check=True,
                                 capture_output=True, text=True).stdout
            res[name][label] = float(out.split()[-1])
        print(f"fresh process {name}: " + ", ".join(
            f"{k} {v:.1f} ms" for k, v in res[name].items()))
    return res


def one_process(name: str, size: int) -> None:
    """Print the median ms of the last 5 of 6 forward calls (see :func:`fresh_process`)."""
    x, w, b = arrays(name)
    opts = options(name)
    call = with_block(size, _base.BLOCKED_PIXELS, lambda: conv2d(x, w, b, **opts))
    times = [hs._seconds(call) for _ in range(6)]
    print(np.median(times[1:]) * 1e3)


#: (images, channels = filters, height = width, groups) of the
#: ``winograd_rule`` layers.
RULE_LAYERS = [(32, 16, 56, 1), (32, 32, 56, 1), (32, 48, 28, 1), (32, 64, 14, 1),
               (32, 64, 20, 1), (32, 64, 28, 1), (32, 64, 40, 1), (32, 64, 56, 1),
               (32, 96, 14, 1), (32, 128, 14, 1), (32, 128, 28, 1), (32, 256, 14, 1),
               (16, 256, 7, 1), (16, 512, 7, 1),
               (32, 128, 28, 4), (32, 128, 28, 2), (32, 128, 56, 2), (32, 256, 14, 2),
               (32, 256, 28, 4), (32, 256, 28, 2), (16, 512, 14, 4)]


def winograd_rule(rounds: int) -> list[dict[str, Any]]:
    """``winograd`` over the planner's choice without it, 3x3 stride-1 layers."""
    rows = []
    rng = np.random.default_rng(0)
    for n, c, hw, groups in RULE_LAYERS:
        x = rng.standard_normal((n, c, hw, hw), dtype=F32)
        w = rng.standard_normal((c, c // groups, 3, 3), dtype=F32)

        dout = np.ones_like(x)

        def without(f: Callable[..., Any], *args: Any, gr: int = groups
                    ) -> Callable[[], Any]:
            def call() -> Any:
                with mock.patch.object(_rules, "WINOGRAD_CHANNELS", 2**62):
                    return f(*args, padding=1, groups=gr)
            return call

        fns: dict[str, Callable[[], object]] = {
            "forward without": without(conv2d, x, w),
            "forward winograd": partial(_conv._forward, x, w, padding=1, groups=groups,
                                        strategy="winograd"),
            "backward without": without(conv2d_backward, dout, x, w),
            "backward winograd": partial(_conv_backward._backward, dout, x, w, padding=1,
                                         groups=groups, strategy="winograd")}
        with hs.threads(2, None):
            stats = hs.time_interleaved(fns, rounds)
        r = {k: v["median"] for k, v in stats.items()}
        rows.append({"images": n, "channels": c, "size": hw, "groups": groups,
                     "forward": r["forward winograd"] / r["forward without"],
                     "backward": r["backward winograd"] / r["backward without"]})
        print(f"winograd rule {n}x{c}x{hw}x{hw}, {groups} groups: winograd / without, forward "
              f"{rows[-1]['forward']:.2f}, backward {rows[-1]['backward']:.2f}")
    return rows


def first_layer(rounds: int) -> dict[str, float]:
    """S1's stages per unit of 6 images, one thread, in ms."""
    x, w, _ = arrays("S1")
    n, k, pad = 6, 7, 3
    F, C = w.shape[:2]
    xp = np.pad(x[:n], ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    oh = xp.shape[2] - k + 1
    P, K = oh * oh, C * k * k
    view = sliding_window_view(xp, (k, k), axis=(2, 3))      # (n, C, oh, ow, k, k)
    cols = np.empty((n, C, k, k, oh, oh), F32)
    last = np.empty((n, oh, oh, k, k, C), F32)                # channels last
    xl = np.empty((n, *xp.shape[2:], C), F32)
    w2, w2t = w.reshape(F, K), np.ascontiguousarray(w.transpose(2, 3, 1, 0).reshape(K, F))
    out, out_t = np.empty((n, F, P), F32), np.empty((n, P, F), F32)

    def copy_last() -> None:
        np.copyto(xl, xp.transpose(0, 2, 3, 1))
        v = sliding_window_view(xl, (k, k), axis=(1, 2))     # (n, oh, ow, C, k, k)
        np.copyto(last, v.transpose(0, 1, 2, 4, 5, 3))

    fns = {
        "copy, NCHW columns": lambda: np.copyto(cols, view.transpose(0, 1, 4, 5, 2, 3)),
        "copy, channels-last columns": copy_last,
        "GEMM w2 @ cols": lambda: np.matmul(w2, cols.reshape(n, K, P), out=out),
        "GEMM cols.T @ w2.T": lambda: np.matmul(last.reshape(n, P, K), w2t, out=out_t),
    }
    with hs.threads(1, None):
        stats = hs.time_interleaved(fns, rounds)
    res = {k: v["median"] * 1e3 for k, v in stats.items()}
    for key, v in res.items():
        print(f"S1, 6 images, 1 thread: {key:28s} {v:.3f} ms")
    return res


def groups(rounds: int) -> dict[str, float]:
    """The 4-group layer's forward GEMMs of one image, in ms."""
    x, w, _ = arrays("4 groups")
    G, (F, Cg, kh, kw), P = 4, w.shape, x.shape[2] * x.shape[3]
    w2 = w.reshape(G, F // G, Cg * kh * kw)
    cols = np.random.default_rng(1).standard_normal((G, Cg * kh * kw, P), dtype=F32)
    out = np.empty((G, F // G, P), F32)

    def per_group() -> None:
        for k in range(G):
            np.matmul(w2[k], cols[k], out=out[k])

    with hs.threads(1, None):
        stats = hs.time_interleaved(
            {"one matmul per group": per_group,
             "one matmul for all groups": lambda: np.matmul(w2, cols, out=out)}, rounds)
    res = {k: v["median"] * 1e3 for k, v in stats.items()}
    for key, v in res.items():
        print(f"4 groups, 1 image, 1 thread: {key:26s} {v:.3f} ms")
    return res


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    rounds = 3 if args.quick else 9
    torch = hs.try_torch()
    result = {
        "machine": hs.machine_label(hs.machine(), 2),
        "pixel_block": BLOCK,
        "gemm_blocks": gemm_blocks(rounds, args.quick),
        "conv_blocks": conv_blocks(torch, rounds),
        "fresh_process": fresh_process(),
        "winograd_rule": winograd_rule(rounds),
        "first_layer": first_layer(rounds),
        "groups": groups(rounds),
    }
    if not args.quick:
        RESULTS.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
