# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # How fast is it?
#
# `im2col.conv2d` never builds the seed's full column matrix. It unfolds a
# few images (or a band of output rows) at a time and multiplies each unit
# straight into its slice of the NCHW output, reusing the same buffers. So
# its extra memory is that of one unit per worker thread, not of the batch,
# and it is usually faster than the seed's algorithm as well. The workers
# (as many as BLAS may use threads) each take a share of the images, with
# BLAS single-threaded meanwhile: NumPy releases the GIL in the copies and
# the matrix multiplies, so the unfolding of one image overlaps the GEMM of
# another instead of running on one core between multi-threaded GEMMs.
# PyTorch's CPU convolution is the yardstick for speed.
#
# This page runs a small version of the benchmark while the site is built,
# on the machine that builds it, then shows the full table from the last
# `make bench` run. The harness lives in `benchmarks/`
# (`python -m benchmarks.run --out benchmarks/results`).
#
# The methods:
#
# - `seed`: the seed's algorithm, reimplemented here: pad, `as_strided` view,
#   `np.ascontiguousarray`, one GEMM, bias, transposed copy;
# - `default`: `im2col.conv2d` as shipped, which picks one of
# - `im2col` (columns per image, one GEMM per image, no transpose),
#   `im2col_t` (the seed's column order for a few images, one wider GEMM,
#   transposed copy; picked for small images), `wide` (stride 1 only:
#   columns on a grid as wide as the padded row, so each column row is one
#   contiguous run and col2im adds one run per tap; picked for the backward
#   pass of stride-1 layers), `shift` (one GEMM per kernel tap over a
#   strided slice, no column buffer), `matmul` (1x1 kernels only);
# - `tensordot`, `einsum`: the same windows from
#   [`sliding_window_view`](https://numpy.org/doc/stable/reference/generated/numpy.lib.stride_tricks.sliding_window_view.html);
# - `torch`: [`torch.nn.functional.conv2d`](https://pytorch.org/docs/stable/generated/torch.nn.functional.conv2d.html)
#   and its backward, when PyTorch is installed;
# - `gemm`: the bare matrix multiply of the im2col shape, operands ready.

# %% [markdown]
# The benchmark package must be imported before NumPy and PyTorch. Timing two
# libraries in one process bills each for the other's habits, so it sets
# three things, each recorded with the results; the full run below ends
# with a table that times one layer with each of them left out:
#
# - `OPENBLAS_THREAD_TIMEOUT=4` and `OMP_WAIT_POLICY=PASSIVE`: the idle
#   worker threads of OpenBLAS and of PyTorch's OpenMP stop spinning at once
#   instead of stealing a core from the other library's next call;
# - glibc's `mallopt`: freed blocks below 32 MiB are kept for reuse, as in a
#   long training loop, instead of coming back from the kernel page by page
#   on every call (page faults, paid by both libraries).

# %%
import benchmarks  # noqa: F401, I001  (first: thread and allocator settings)

import json
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from benchmarks import harness, run
from IPython.display import Markdown, display

info = harness.machine()
print("Machine:", harness.machine_label(info, threads_used=2))
print("Caches:", ", ".join(f"{k} {v}" for k, v in info["caches"].items()))
print("Settings:", info["openblas_env"], "allocator:", info["allocator"])

# %% [markdown]
# ## A small run, now
#
# The five layers S1..S5 with their batch cut to 4 images, float32, two
# threads, three interleaved rounds per method (medians). The machine may be
# busy with other work while the site builds: read the ratios, not the
# milliseconds, and prefer the full run below.

# %%
small = run.quick(batch=4, rounds=3)
print(f"{small['seconds']} s for the whole small run")

# %%
def plot(res, title):
    """Time per method (float32, two threads) and forward peak memory."""
    shown_cases = [c for c in res["cases"]
                   if c["dtype"] == "float32" and c["threads"] == 2]
    names = ["seed", "default", "im2col", "im2col_t", "wide", "shift",
             "tensordot", "einsum", "torch"]
    color = dict(zip(names, plt.get_cmap("tab10").colors, strict=False))
    panels = [
        (f"{p} time", "ms per call (median)",
         [(c["shape"], {k: v["median"] * 1e3 for k, v in c["methods"].items()})
          for c in shown_cases if c["pass"] == p])
        for p in ("forward", "backward")]
    panels.append(("forward peak extra memory", "MiB beyond the output", [
        (r["shape"], {k: v / 2**20 for k, v in r["peak_extra_bytes"].items()})
        for r in res["memory"] if r["pass"] == "forward"]))
    fig, axes = plt.subplots(3, 1, figsize=(9, 11))
    for ax, (label, unit, groups) in zip(axes, panels, strict=True):
        shown = [n for n in names if any(n in values for _, values in groups)]
        width = 0.8 / len(shown)
        for k, n in enumerate(shown):
            ax.bar(np.arange(len(groups)) + k * width,
                   [values.get(n, np.nan) for _, values in groups], width,
                   label=n, color=color[n])
        ax.set_xticks(np.arange(len(groups)) + 0.4 - width / 2)
        ax.set_xticklabels([shape for shape, _ in groups])
        ax.set_yscale("log")
        ax.set_ylabel(unit)
        ax.set_title(label)
        ax.legend(fontsize=8, ncol=3)
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    plt.show()


plot(small, "small run at build time, float32\n"
     + harness.machine_label(small["machine"], threads_used=2))

# %%
def ratios(res):
    rows = ["| shape | pass | default plan | default / seed | default / PyTorch |",
            "| --- | --- | --- | --- | --- |"]
    for c in res["cases"]:
        if c["dtype"] != "float32" or c["threads"] != 2:
            continue
        d = c["methods"]["default"]
        vt = f"{d['vs_torch']:.2f}" if d["vs_torch"] else "no PyTorch"
        rows.append(f"| {c['shape']} | {c['pass']} | {c['plan']} | "
                    f"{d['vs_seed']:.2f} | {vt} |")
    return "\n".join(rows)


display(Markdown(ratios(small)))

# %% [markdown]
# ## Against a Python loop
#
# Reader question: how much faster is im2col + one matrix multiply than the
# loop over output elements, and why? The loop below makes one Python
# iteration, with a few small NumPy calls, per output element; the strided
# layer makes a handful of NumPy calls in all, and its multiply-adds run in
# compiled BLAS code. Measured now, on a small layer (the loop is slow):

# %%
import timeit

from docs.examples.naive_conv import conv_forward_loop  # shown on the cs231n page

from im2col.cs231n import conv_forward_strides

loop_rng = np.random.default_rng(0)
xl = loop_rng.normal(size=(4, 3, 16, 16))
wl, bl = loop_rng.normal(size=(8, 3, 3, 3)), loop_rng.normal(size=8)
out_fast, _ = conv_forward_strides(xl, wl, bl, {"stride": 1, "pad": 1})
assert np.allclose(conv_forward_loop(xl, wl, bl, {"stride": 1, "pad": 1}), out_fast)
t_loop = min(timeit.repeat(lambda: conv_forward_loop(xl, wl, bl, {"stride": 1, "pad": 1}),
                           number=1, repeat=3))
t_fast = min(timeit.repeat(
    lambda: conv_forward_strides(xl, wl, bl, {"stride": 1, "pad": 1}),
    number=1, repeat=20))
print(f"x {xl.shape}, w {wl.shape}: {out_fast.size} output elements, "
      f"{wl[0].size} multiply-adds each")
print(f"loop {t_loop * 1e3:.1f} ms, strided im2col {t_fast * 1e3:.3f} ms: "
      f"{t_loop / t_fast:.0f}x faster (best of repeats, "
      f"{harness.machine_label(info, threads_used=2)})")

# %% [markdown]
# ## The full run (`make bench`)
#
# Full batches, float32 and float64, 1 and 2 threads, seven interleaved
# rounds, memory measured in a fresh process per method. It is kept as data
# in `benchmarks/results/` with the date and the machine it ran on; it is
# not rerun when the site is built.

# %%
saved = Path("benchmarks/results/results.json")
if saved.exists():
    full = json.loads(saved.read_text())
    print("Date:", full["date"])
    print("Machine:", harness.machine_label(full["machine"]))
    display(Markdown(run.markdown(full).split("\n", 2)[2]))
else:
    full = None
    print("No saved run yet: run `make bench`.")

# %%
if full is not None:
    plot(full, f"make bench, {full['date']}, float32\n" + harness.machine_label(
        full["machine"], threads_used=2))

# %% [markdown]
# ## What limits it
#
# The `gemm` column times the bare matrix multiply of the im2col shape, its
# operands made in advance: no padding, no unfolding, no output copy, one
# BLAS call on all threads. Every NumPy method here does those multiply-adds
# through the same BLAS, so `gemm` is the yardstick for what is left once
# the unfolding costs nothing: where it alone is slower than PyTorch, that
# part of the gap is NumPy's BLAS against PyTorch's convolution kernels
# (oneDNN on x86), not the stride tricks. The last column is the price of
# the unfolding and the loop over units (below 1 where one-thread GEMMs on
# cache-sized units beat the one big GEMM).

# %%
if full is not None:
    rows = ["| shape | pass | default / PyTorch | gemm / PyTorch | default / gemm |",
            "| --- | --- | --- | --- | --- |"]
    for c in full["cases"]:
        ms = c["methods"]
        if c["dtype"] != "float32" or c["threads"] != 2 or "torch" not in ms:
            continue
        d, g = ms["default"]["vs_torch"], ms["gemm"]["vs_torch"]
        rows.append(f"| {c['shape']} | {c['pass']} | {d:.2f} | {g:.2f} | {d / g:.2f} |")
    display(Markdown("Float32, two threads, from the saved full run:\n\n"
                     + "\n".join(rows)))
