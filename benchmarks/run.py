"""Run the benchmark: ``python -m benchmarks.run --out benchmarks/results``.

Times, in one process and interleaved, at equal thread counts: cs231n's
algorithm (our reimplementation, the baseline), ``im2col.conv2d`` (the
default and each internal strategy), ``sliding_window_view`` + ``tensordot``
and ``einsum`` (forward only), PyTorch's ``conv2d`` and its backward (when
installed), and the bare GEMM of the same im2col shape; plus the machine's
peak GEMM rate. Forward and backward, float32 and float64, 1 and 2 threads,
S1..S5 and any ``--shape`` given. Peak extra memory per call (float32) in a
fresh process per method. Writes ``results.json`` and ``results.md`` in
``--out``; ``--quick`` runs a small version (smaller batches, float32,
2 threads, 3 rounds, memory measured in-process) and writes nothing unless
``--out`` is given.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks import harness as hs
from benchmarks import methods as mt
from benchmarks import settings


def run(shapes: list[mt.Shape], dtypes: list[str], thread_counts: list[int],
        passes: list[str], rounds: int, memory: str, log: Any = None,
        gemm_size: int = 2048, settings_check: bool = False) -> dict[str, Any]:
    """Run every case; ``memory`` is "fresh", "here" or "none";
    ``settings_check`` adds :func:`benchmarks.settings.measure`."""
    torch = hs.try_torch()
    start = time.perf_counter()
    info = hs.machine()
    peaks = {}
    for n in thread_counts:
        with hs.threads(n, None):
            for d in dtypes:
                peaks[f"{d}, {n} threads"] = hs.gemm_peak(d, gemm_size)
    cases = []
    for shape in shapes:
        for d in dtypes:
            for n in thread_counts:
                for p in passes:
                    case = hs.run_case(shape, d, n, p == "backward", rounds, torch)
                    cases.append(case)
                    if log:
                        log(_line(case))
    mem = []
    if memory != "none":
        measure = hs.peak_fresh if memory == "fresh" else hs.peak_here
        for shape in shapes:
            a = mt.arrays(shape, "float32")
            for p in passes:
                back = p == "backward"
                names = list(mt.backward_methods(shape, a) if back
                             else mt.forward_methods(shape, a))
                extra = {m: measure(shape, "float32", back, m) for m in names}
                mem.append({"shape": shape.name, "pass": p, "dtype": "float32",
                            "peak_extra_bytes": extra})
                if log:
                    log(f"memory {shape.name} {p}: " + ", ".join(
                        f"{k} {v / 2**20:.1f} MiB" for k, v in extra.items()))
    effect = settings.measure() if settings_check else None
    if log and effect:
        log("\n".join(settings.markdown(effect)))
    return {
        "settings_effect": effect,
        "date": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "machine": info,
        "gemm_peak_gflops": peaks,
        "rounds": rounds,
        "gemm_size": gemm_size,
        "shapes": [{"name": s.name, "label": s.label(), "note": s.note}
                   for s in shapes],
        "cases": cases,
        "memory": mem,
        "seconds": round(time.perf_counter() - start, 1),
    }


def _line(case: dict[str, Any]) -> str:
    m = case["methods"]
    ratios = " ".join(
        f"{k} {v['vs_torch']:.2f}x" if v["vs_torch"] else f"{k} {v['median'] * 1e3:.1f}ms"
        for k, v in m.items() if k != "torch")
    t = m.get("torch", {}).get("median")
    head = f"{case['shape']} {case['pass'][:3]} {case['dtype']} {case['threads']}t"
    tail = f"torch {t * 1e3:.1f} ms" if t else "no torch"
    return f"{head} ({tail}): {ratios}"


# -------------------------------------------------------------- summary

def summary(res: dict[str, Any], dtype: str = "float32", threads: int = 2
            ) -> dict[str, Any]:
    """Headline ratios (geometric means, slowest shape, memory) of one run."""
    out: dict[str, Any] = {}
    for p in ("forward", "backward"):
        cases = [c for c in res["cases"] if c["dtype"] == dtype
                 and c["threads"] == threads and c["pass"] == p]
        vt = [c["methods"]["default"]["vs_torch"] for c in cases
              if c["methods"]["default"]["vs_torch"]]
        vs = [c["methods"]["default"]["vs_cs231n"] for c in cases]
        vg = [c["methods"]["gemm"]["vs_torch"] for c in cases
              if c["methods"].get("gemm", {}).get("vs_torch")]
        out[p] = {
            "gemm_geomean_vs_torch": hs.geomean(vg) if vg else None,
            "geomean_vs_torch": hs.geomean(vt) if vt else None,
            "worst_vs_torch": max(vt) if vt else None,
            "geomean_vs_cs231n": hs.geomean(vs),
            "worst_vs_cs231n": max(vs) if vs else None,
        }
    mem = {}
    for row in res["memory"]:
        if row["pass"] == "forward":
            pk = row["peak_extra_bytes"]
            mem[row["shape"]] = pk["default"] / pk["cs231n"] if pk["cs231n"] else None
    out["memory_default_over_cs231n"] = mem
    return out


def markdown(res: dict[str, Any]) -> str:
    m = res["machine"]
    env = ", ".join(f"{k}={v}" for k, v in m.get("openblas_env", {}).items()) or "none"
    lines = [
        "# Benchmark results",
        "",
        f"- Date: {res['date']}",
        f"- Machine: {hs.machine_label(m)}",
        f"- Caches: {', '.join(f'{k} {v}' for k, v in m['caches'].items())}",
        f"- Peak GEMM ({res.get('gemm_size', 2048)}^3): " + ", ".join(
            f"{k} {v:.0f} GFLOP/s" for k, v in res["gemm_peak_gflops"].items()),
        f"- Rounds per method: {res['rounds']} (interleaved); median time, "
        "ratios of medians; min-max in brackets",
        f"- Settings (benchmarks/__init__.py): {env}; allocator: "
        f"{m.get('allocator', 'default')} (blocks above the threshold, such as "
        "cs231n's full column matrix on S3 and S5, come fresh from the "
        "kernel on every call)",
        f"- Whole run: {res['seconds']} s",
        "",
    ]
    s = summary(res)
    lines += ["## Summary (float32, 2 threads; time ratios, lower is faster)", "",
              "| measured | ratio |", "| --- | --- |"]
    f, b = s["forward"], s["backward"]
    for p, v in (("forward", f), ("backward", b)):
        if v["geomean_vs_torch"]:
            lines.append(f"| {p}: default / PyTorch, geometric mean over the shapes "
                         f"| {v['geomean_vs_torch']:.2f} |")
            lines.append(f"| {p}: default / PyTorch, slowest shape | {v['worst_vs_torch']:.2f} |")
        if v["gemm_geomean_vs_torch"]:
            lines.append(f"| {p}: the bare GEMMs alone (no im2col) / PyTorch, "
                         f"geometric mean | {v['gemm_geomean_vs_torch']:.2f} |")
        lines.append(f"| {p}: default / cs231n's strided layer, geometric mean "
                     f"| {v['geomean_vs_cs231n']:.2f} |")
    for k, v in s["memory_default_over_cs231n"].items():
        lines.append(f"| {k} forward peak extra memory, default / cs231n's strided layer "
                     f"| {v:.3f} |")
    lines.append("")
    for p in ("forward", "backward"):
        cases = [c for c in res["cases"] if c["pass"] == p]
        if not cases:
            continue
        names = list(dict.fromkeys(k for c in cases for k in c["methods"]))
        lines += [f"## {p.capitalize()}: time / PyTorch's (cs231n's in parentheses)", ""]
        lines.append("| shape | dtype | threads | default plan | PyTorch ms | "
                     + " | ".join(names) + " |")
        lines.append("| --- " * (5 + len(names)) + "|")
        for c in cases:
            ms = c["methods"]
            t = ms.get("torch", {}).get("median")
            cells = []
            for n in names:
                v = ms.get(n)
                if v is None:
                    cells.append("")
                elif v["vs_torch"]:
                    cells.append(f"{v['vs_torch']:.2f}x ({v['vs_cs231n']:.2f}) "
                                 f"[{v['min'] / t:.2f}-{v['max'] / t:.2f}]")
                else:
                    cells.append(f"{v['median'] * 1e3:.1f} ms ({v['vs_cs231n']:.2f})")
            lines.append(f"| {c['shape']} | {c['dtype']} | {c['threads']} | "
                         f"{c['plan']} | {t * 1e3 if t else float('nan'):.2f} | "
                         + " | ".join(cells) + " |")
        lines.append("")
    if res["memory"]:
        names = list(dict.fromkeys(k for r in res["memory"]
                                   for k in r["peak_extra_bytes"]))
        lines += ["## Peak extra memory, MiB (float32; beyond the returned arrays)",
                  "", "| shape | pass | " + " | ".join(names) + " |",
                  "| --- " * (2 + len(names)) + "|"]
        for r in res["memory"]:
            pk = r["peak_extra_bytes"]
            lines.append(f"| {r['shape']} | {r['pass']} | " + " | ".join(
                f"{pk[n] / 2**20:.2f}" if n in pk else "" for n in names) + " |")
        lines += ["", "cs231n's backward also keeps its forward columns alive "
                  "(not counted above: they exist before the call).", ""]
    if res.get("settings_effect"):
        lines += settings.markdown(res["settings_effect"])
    lines += ["## Shapes", "", "| name | shape | note |", "| --- | --- | --- |"]
    lines += [f"| {s['name']} | {s['label']} | {s['note']} |" for s in res["shapes"]]
    return "\n".join(lines) + "\n"


def quick(batch: int = 4, rounds: int = 3) -> dict[str, Any]:
    """The small run the documentation notebook makes at build time."""
    shapes = [s.scaled(batch) for s in mt.SHAPES]
    return run(shapes, ["float32"], [2], ["forward", "backward"], rounds, "here",
               gemm_size=1024)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, help="folder for results.json and results.md")
    ap.add_argument("--quick", action="store_true", help="the small run")
    ap.add_argument("--shapes", nargs="*", help="names among S1..S5 (default all)")
    ap.add_argument("--shape", action="append", default=[],
                    help="extra case 'N,C,H,W;F,C,kh,kw;stride;pad'")
    ap.add_argument("--dtypes", nargs="*", default=["float32", "float64"])
    ap.add_argument("--threads", nargs="*", type=int, default=[1, 2])
    ap.add_argument("--passes", nargs="*", default=["forward", "backward"])
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--memory", choices=["fresh", "here", "none"], default="fresh")
    ap.add_argument("--no-settings-check", dest="settings_check",
                    action="store_false",
                    help="skip timing S1 with each setting left out")
    args = ap.parse_args(argv)

    def log(msg: str) -> None:
        print(msg, flush=True)

    if args.quick:
        res = quick()
    else:
        shapes = [s for s in mt.SHAPES if not args.shapes or s.name in args.shapes]
        shapes += [mt.parse_shape(t) for t in args.shape]
        res = run(shapes, args.dtypes, args.threads, args.passes, args.rounds,
                  args.memory, log, settings_check=args.settings_check)
    text = markdown(res)
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "results.json").write_text(json.dumps(res, indent=1) + "\n")
        (args.out / "results.md").write_text(text)
        log(f"wrote {args.out / 'results.json'} and {args.out / 'results.md'}")
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
