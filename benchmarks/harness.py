"""Timing, memory and machine description for the benchmark.

Timing: every method of one case is called once to warm up, then the
methods are called in turn, round after round (interleaved, so a burst of
load from another process hits them all alike), each round in a new
shuffled order; each method's median, min and max over the rounds are kept. BLAS and PyTorch get the same number of
threads. Memory: the peak bytes traced by :mod:`tracemalloc` during one call
minus the bytes of the arrays it returns, in a fresh Python process per
method (``python -m benchmarks.harness --peak ...``) so that no cache or
earlier allocation blurs it. PyTorch allocates outside tracemalloc's view:
its memory is not measured.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks import MMAP_THRESHOLD, STEADY_ALLOCATOR, TRIM_THRESHOLD
from benchmarks import methods as mt
from benchmarks.layers import arrays as layer_arrays
from benchmarks.layers import options as layer_options

ROOT = Path(__file__).resolve().parent.parent


def try_torch() -> Any:
    try:
        import torch
    except ImportError:
        return None
    return torch


@contextmanager
def threads(n: int, torch: Any) -> Iterator[None]:
    """Limit BLAS (and PyTorch) to ``n`` threads inside the block."""
    from threadpoolctl import threadpool_limits

    before = torch.get_num_threads() if torch is not None else None
    with threadpool_limits(limits=n):
        if torch is not None:
            torch.set_num_threads(n)
        try:
            yield
        finally:
            if torch is not None:
                torch.set_num_threads(before)


def time_interleaved(fns: Mapping[str, Callable[[], object]], rounds: int
                     ) -> dict[str, dict[str, float]]:
    """Median, min and max seconds per call of each function.

    Each round calls them in a new order (a shuffle from a fixed generator),
    so no function always runs right after the same other one: a call runs
    on the caches its predecessor left, and in a fixed order that bias stays
    with it. In S2's list of methods, ``conv2d`` timed right after cs231n's
    layer in every other round ran 1.15-1.5x the time of the same plan
    forced, timed next to it; alone together, or in other orders, the two
    were even.
    """
    for f in fns.values():
        f()
    names = list(fns)
    rng = np.random.default_rng(0)
    times: dict[str, list[float]] = {k: [] for k in fns}
    for _ in range(rounds):
        order = [names[k] for k in rng.permutation(len(names))]
        for name in order:
            t0 = time.perf_counter()
            fns[name]()
            times[name].append(time.perf_counter() - t0)
    return {k: {"median": float(np.median(v)), "min": min(v), "max": max(v)}
            for k, v in times.items()}


def gemm_peak(dtype: Any, size: int = 2048, rounds: int = 3) -> float:
    """GFLOP/s of a square ``size`` matrix multiply (best of ``rounds``)."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((size, size)).astype(dtype)
    b = rng.standard_normal((size, size)).astype(dtype)
    out = np.empty_like(a)
    np.matmul(a, b, out=out)
    best = min(_seconds(lambda: np.matmul(a, b, out=out)) for _ in range(rounds))
    return 2 * size**3 / best / 1e9


def _seconds(f: Callable[[], object]) -> float:
    t0 = time.perf_counter()
    f()
    return time.perf_counter() - t0


# ---------------------------------------------------------------- memory

def returned_bytes(result: object) -> int:
    """Bytes of the arrays a method returns (tuples searched one level)."""
    items = result if isinstance(result, tuple) else (result,)
    return sum(a.nbytes for a in items if isinstance(a, np.ndarray))


def peak_here(shape: mt.Shape, dtype: str, backward: bool, method: str) -> int:
    """Peak extra bytes of one call, measured in this process."""
    a = mt.arrays(shape, dtype)
    fns = (mt.backward_methods(shape, a) if backward
           else mt.forward_methods(shape, a, extra=True))
    f = fns[method]
    tracemalloc.start()
    try:
        before, _ = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        result = f()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak - before - returned_bytes(result)


def peak_fresh(shape: mt.Shape, dtype: str, backward: bool, method: str) -> int:
    """:func:`peak_here` in a fresh Python process."""
    spec = json.dumps({"name": shape.name, "x": shape.x, "w": shape.w,
                       "stride": shape.stride, "pad": shape.pad})
    cmd = [sys.executable, "-m", "benchmarks.harness", "--peak", spec, dtype,
           "backward" if backward else "forward", method]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True,
                          timeout=300, check=True)
    return int(proc.stdout.strip().splitlines()[-1])


# --------------------------------------------------------------- machine

def machine() -> dict[str, Any]:
    """CPU, threads, caches, NumPy/BLAS/PyTorch versions of this machine."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    caches = {}
    base = Path("/sys/devices/system/cpu/cpu0/cache")
    for idx in sorted(base.glob("index*")) if base.exists() else []:
        try:
            level = (idx / "level").read_text().strip()
            kind = (idx / "type").read_text().strip()
            caches[f"L{level} {kind}"] = (idx / "size").read_text().strip()
        except OSError:
            continue
    blas: list[dict[str, Any]] = []
    try:
        from threadpoolctl import threadpool_info

        blas = [{k: i.get(k) for k in ("internal_api", "version", "architecture",
                                         "num_threads", "threading_layer")}
                for i in threadpool_info() if i.get("user_api") == "blas"]
    except ImportError:
        pass
    torch = try_torch()
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "caches": caches,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "blas": blas,
        "torch": getattr(torch, "__version__", None),
        "openblas_env": {k: os.environ.get(k) for k in
                         ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE",
                          "OPENBLAS_NUM_THREADS", "OPENBLAS_THREAD_TIMEOUT",
                          "OMP_NUM_THREADS", "OMP_WAIT_POLICY")
                         if os.environ.get(k) is not None},
        "allocator": (f"glibc mallopt: mmap threshold {MMAP_THRESHOLD >> 20} MiB, "
                      f"trim threshold {TRIM_THRESHOLD >> 20} MiB"
                      if STEADY_ALLOCATOR else "default"),
    }


def machine_label(m: dict[str, Any], threads_used: int | None = None) -> str:
    blas = m["blas"][0] if m["blas"] else {}
    parts = [m["cpu"], f"{m['cores']} cores"]
    if threads_used is not None:
        parts.append(f"{threads_used} threads")
    parts.append(f"NumPy {m['numpy']}")
    if blas:
        parts.append(f"{blas.get('internal_api')} {blas.get('version')} "
                     f"({blas.get('architecture')})")
    if m.get("torch"):
        parts.append(f"PyTorch {m['torch']}")
    return ", ".join(parts)


# ---------------------------------------------------------- layer variants

def layer_variants(name: str, variants: dict[str, Callable[[], AbstractContextManager[Any]]],
                   torch: Any, rounds: int, **call: Any
                   ) -> tuple[dict[str, float], dict[str, Callable[[], Any]]]:
    """Median seconds of layer ``name``'s passes in each variant, and PyTorch's.

    Each of ``variants`` is a context the pass runs inside; the medians are
    keyed ``"forward <variant>"``, ``"backward <variant>"`` and, with
    ``torch``, ``"forward torch"`` and ``"backward torch"``; all interleaved
    on two threads. ``call`` is passed on to ``conv2d`` and
    ``conv2d_backward``. The passes (outside any variant) are returned too.
    """
    from im2col import conv2d, conv2d_backward

    x, w, b = layer_arrays(name)
    opts = layer_options(name)
    dout = np.ones_like(conv2d(x, w, b, **opts))
    passes: dict[str, Callable[[], Any]] = {
        "forward": lambda: conv2d(x, w, b, **opts, **call),
        "backward": lambda: conv2d_backward(dout, x, w, **opts, **call)}

    def inside(f: Callable[[], Any], variant: Callable[[], AbstractContextManager[Any]]
               ) -> Callable[[], Any]:
        def run() -> Any:
            with variant():
                return f()
        return run

    fns = {f"{p} {v}": inside(f, c) for p, f in passes.items() for v, c in variants.items()}
    if torch is not None:
        fns |= {f"{p} torch": f for p, f in
                mt.torch_layer(torch, x, w, b, dout, **opts).items()}
    with threads(2, torch):
        stats = time_interleaved(fns, rounds)
    return {k: v["median"] for k, v in stats.items()}, passes


# ----------------------------------------------------------------- a run

def run_case(shape: mt.Shape, dtype: str, n_threads: int, backward: bool,
             rounds: int, torch: Any, extra: bool = True) -> dict[str, Any]:
    """Time every method of one case; ratios to PyTorch and to cs231n's code."""
    a = mt.arrays(shape, dtype)
    fns = (mt.backward_methods(shape, a, torch=torch) if backward
           else mt.forward_methods(shape, a, torch=torch, extra=extra))
    fns["gemm"] = mt.gemm_method(shape, dtype, backward=backward)
    with threads(n_threads, torch):
        stats: dict[str, dict[str, Any]] = time_interleaved(fns, rounds)
        plan = mt.default_plan(shape, a["x"], backward=backward)
    ref_torch = stats.get("torch", {}).get("median")
    ref_cs231n = stats["cs231n"]["median"]
    for s in stats.values():
        s["vs_torch"] = s["median"] / ref_torch if ref_torch else None
        s["vs_cs231n"] = s["median"] / ref_cs231n
    return {
        "shape": shape.name, "label": shape.label(), "note": shape.note,
        "dtype": dtype, "threads": n_threads,
        "pass": "backward" if backward else "forward",
        "gflop": shape.flops() / 1e9 * (2 if backward else 1),
        "plan": plan,
        "methods": stats,
    }


def geomean(values: list[float]) -> float:
    return float(np.exp(np.mean(np.log(values)))) if values else float("nan")


def _main_peak(argv: list[str]) -> None:
    spec, dtype, which, method = argv
    d = json.loads(spec)
    shape = mt.Shape(d["name"], tuple(d["x"]), tuple(d["w"]), d["stride"], d["pad"])
    print(peak_here(shape, dtype, which == "backward", method))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--peak", nargs=4, metavar=("SHAPE", "DTYPE", "PASS", "METHOD"))
    args = parser.parse_args()
    if args.peak:
        _main_peak(args.peak)
