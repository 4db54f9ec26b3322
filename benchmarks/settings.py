"""What each benchmark setting changes: ``python -m benchmarks.settings``.

Times one layer (S1 by default; float32, two threads) in a fresh Python
process per configuration: all the settings of :mod:`benchmarks`, then each
one left out in turn. In each process PyTorch's ``conv2d`` and
``im2col.conv2d`` are timed interleaved, as the benchmark times them, then
each alone, call after call.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from typing import Any

from benchmarks import ALL_SETTINGS, SETTING_ENV, SETTINGS
from benchmarks import harness as hs
from benchmarks import methods as mt

#: The methods timed, and their column titles.
METHODS = ("torch", "default", "cs231n")
LABELS = {"torch": "PyTorch", "default": "im2col.conv2d", "cs231n": "cs231n's strided layer"}


def configurations() -> list[tuple[str, tuple[str, ...]]]:
    """``(label, settings)``: all of them, then each one left out."""
    return [("all", ALL_SETTINGS)] + [
        (f"without {k}", tuple(s for s in ALL_SETTINGS if s != k))
        for k in ALL_SETTINGS]


def _child(name: str, rounds: int) -> dict[str, Any]:
    """Time ``name`` here, under the settings this process was started with.

    Each method alone first (PyTorch first, in a process that has run
    nothing else yet), then all of them interleaved.
    """
    torch = hs.try_torch()
    shape = next(s for s in mt.SHAPES if s.name == name)
    a = mt.arrays(shape, "float32")
    fns = mt.forward_methods(shape, a, torch=torch, extra=False)
    chosen = {k: fns[k] for k in METHODS if k in fns}
    with hs.threads(2, torch):
        alone = {k: hs.time_interleaved({k: f}, rounds)[k] for k, f in chosen.items()}
        mixed = hs.time_interleaved(chosen, rounds)
    return {"settings": list(SETTINGS),
            "alone": {k: v["median"] for k, v in alone.items()},
            "interleaved": {k: v["median"] for k, v in mixed.items()}}


def measure(name: str = "S1", rounds: int = 15) -> dict[str, Any]:
    """Run :func:`_child` in a fresh process per configuration."""
    rows = []
    for label, chosen in configurations():
        # a child that leaves a setting out must not inherit its variable
        env = {k: v for k, v in os.environ.items()
               if k not in {var for var, _, _ in SETTING_ENV.values()}}
        env["BENCH_SETTINGS"] = ",".join(chosen)
        proc = subprocess.run(
            [sys.executable, "-m", "benchmarks.settings", "--child", name,
             "--rounds", str(rounds)],
            cwd=hs.ROOT, env=env, capture_output=True, text=True, timeout=600,
            check=True)
        rows.append({"label": label, **json.loads(proc.stdout.splitlines()[-1])})
    return {"shape": name, "dtype": "float32", "threads": 2, "rounds": rounds,
            "rows": rows}


def markdown(res: dict[str, Any]) -> list[str]:
    """A table of :func:`measure`'s medians: interleaved / alone, in ms."""
    names = [k for k in METHODS if k in res["rows"][0]["alone"]]
    lines = [f"## What the settings change ({res['shape']} forward, "
             f"{res['dtype']}, {res['threads']} threads)", "",
             f"Medians of {res['rounds']} calls in a fresh process per row, "
             "in ms: interleaved with the other methods / alone, call after "
             "call (`python -m benchmarks.settings`).", "",
             "| settings | " + " | ".join(LABELS[k] for k in names) + " |",
             "| --- " * (1 + len(names)) + "|"]
    for r in res["rows"]:
        lines.append(f"| {r['label']} | " + " | ".join(
            f"{r['interleaved'][k] * 1e3:.2f} / {r['alone'][k] * 1e3:.2f}"
            for k in names) + " |")
    return [*lines, ""]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--child", metavar="SHAPE", help=argparse.SUPPRESS)
    ap.add_argument("--shape", default="S1", help="one of S1..S5")
    ap.add_argument("--rounds", type=int, default=15)
    args = ap.parse_args(argv)
    if args.child:
        print(json.dumps(_child(args.child, args.rounds)))
    else:
        print("\n".join(markdown(measure(args.shape, args.rounds))))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
