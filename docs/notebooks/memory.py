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
# # Does the memory bill match the measured peak?
#
# **Short answer.** For cs231n's forward pass, yes: on every shape of the
# sweep below, the peak that `tracemalloc` measures around the drop-in's
# `conv_forward_strides`, which makes cs231n's arrays, is the one `im2col.memory_bill` predicts, give or
# take a few kilobytes (the largest gap is printed, in bytes). The backward
# pass measured here is the drop-in's `conv_backward_strides`, which makes
# its column gradient a few images at a time: at every batch size of the
# sweep it peaks below the bill of cs231n's backward pass, which holds the
# whole column gradient and a copy of `dout`, and on the largest batch far
# below. `im2col.conv2d`, which unfolds a chunk of images at a time, peaks
# below the full im2col on that batch with stride 1, at every kernel
# size.
#
# This notebook runs at every build of the site. It measures the peak memory
# of cs231n's strided layer as the drop-in `im2col.cs231n` runs it (its
# `conv_forward_strides` makes cs231n's arrays; its `conv_backward_strides`
# works a chunk of images at a time) over a sweep
# of kernel sizes, strides and batch sizes, and compares each measurement
# with the prediction of `im2col.memory_bill`. It then measures the chunked
# `im2col.conv2d`, times ways of spending less memory on a small shape, and
# times col2im done two ways. Every figure below was produced by the build
# that made this page, on the machine named in the next cell; the page
# [Does the strided im2col cost memory?](../../memory/) explains where each
# buffer comes from.
#
# Memory is measured with `tracemalloc` (`im2col.peak_memory`): the highest
# number of bytes allocated during the call, its result included.

# %%
import platform
import time

import matplotlib.pyplot as plt
import numpy as np
from threadpoolctl import threadpool_info

from im2col import col2im, conv2d, im2col, memory_bill, peak_memory, window_view
from im2col.cs231n import conv_backward_strides, conv_forward_strides

MiB = 2**20
rng = np.random.default_rng(0)


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo, or what platform knows."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


blas = [p for p in threadpool_info() if p.get("user_api") == "blas"]
blas_label = ", ".join(
    f"{p['internal_api']} {p['version']} ({p['num_threads']} threads)" for p in blas
) or "no BLAS found by threadpoolctl"
MACHINE = f"{cpu_model()}; NumPy {np.__version__}; {blas_label}"
print("Measured on:", MACHINE)
print("Python", platform.python_version(), "on", platform.platform())

# %% tags=["hide-input"]
# Figure helper: SVG output with a description for screen readers
import base64
from html import escape
from io import BytesIO

from IPython.display import HTML, display

plt.rcParams["font.size"] = 13      # at the text column's width, as large as the text


def show(fig, alt):
    """Show a figure as an SVG image, with alt text for screen readers."""
    buf = BytesIO()
    fig.savefig(buf, format="svg", metadata={"Date": None})
    plt.close(fig)
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    display(HTML(f'<div class="figure-scroll"><img class="figure" alt="{escape(alt)}" '
                 f'src="data:image/svg+xml;base64,{data}"></div>'))


# %% [markdown]
# ## Predicted and measured peaks of the full im2col
#
# For each shape: a batch of `N` images of 3 channels, 32x32, 16 filters of
# size `k`x`k`, padding `k // 2`, float64. The forward peak is measured
# around `conv_forward_strides`, which makes cs231n's buffers. The
# backward peak is measured around the drop-in's `conv_backward_strides`
# (with the cache, and its columns, already allocated, as in training),
# which makes its column gradient a few images at a time, against the
# prediction for cs231n's backward pass, which holds the whole column
# gradient and a copy of `dout` ([the memory page](../../memory/) measures
# that one, and compares the two on one image). The cell prints their
# ratio by batch size: below 1 at every size, the lower the larger the
# batch.

# %%
rows = []
for n in (4, 16, 64):
    for k in (1, 3, 5, 7):
        for s in (1, 2):
            x = rng.standard_normal((n, 3, 32, 32))
            w = rng.standard_normal((16, 3, k, k))
            b = np.zeros(16)
            bill = memory_bill(x.shape, w.shape, stride=s, padding=k // 2)
            param = {"stride": s, "pad": k // 2}
            (out, cache), fwd = peak_memory(conv_forward_strides, x, w, b, param)
            dout = np.ones_like(out)
            _, bwd = peak_memory(conv_backward_strides, dout, cache)
            del cache
            _, chunked = peak_memory(conv2d, x, w, b, stride=s, padding=k // 2)
            rows.append({
                "N": n, "k": k, "s": s, "columns": bill.columns,
                "output": bill.output,
                "fwd_pred": bill.forward_peak, "fwd_meas": fwd,
                "bwd_pred": bill.backward_peak, "bwd_meas": bwd,
                "conv2d": chunked,
            })

print(f"{'N':>3} {'k':>2} {'s':>2} {'columns':>8} {'fwd pred':>9} {'fwd meas':>9}"
      f" {'bwd pred':>9} {'bwd meas':>9} {'conv2d':>8}   (MiB)")
for r in rows:
    print(f"{r['N']:>3} {r['k']:>2} {r['s']:>2} {r['columns'] / MiB:8.2f}"
          f" {r['fwd_pred'] / MiB:9.2f} {r['fwd_meas'] / MiB:9.2f}"
          f" {r['bwd_pred'] / MiB:9.2f} {r['bwd_meas'] / MiB:9.2f}"
          f" {r['conv2d'] / MiB:8.2f}")
worst = max(abs(r["fwd_meas"] - r["fwd_pred"]) for r in rows)
print(f"forward: largest gap between prediction and measurement: {worst} bytes")
below = [r["bwd_meas"] / r["bwd_pred"] for r in rows]
for n in sorted({r["N"] for r in rows}):
    ratios = [r["bwd_meas"] / r["bwd_pred"] for r in rows if r["N"] == n]
    print(f"backward, N = {n:2d}: the drop-in's peak is {min(ratios):.2f} to "
          f"{max(ratios):.2f} times cs231n's predicted peak")
# What the short answer says: the forward bill holds to a few kilobytes;
# the drop-in's backward pass peaks below cs231n's bill at every size, far
# below on the largest batch, and conv2d below the full im2col there
# wherever the stride is 1.
top_n = max(r["N"] for r in rows)
largest = [r for r in rows if r["N"] == top_n]
assert worst < 8 * 2**10
assert all(r["bwd_meas"] < r["bwd_pred"] for r in rows)
assert all(r["bwd_meas"] < r["bwd_pred"] / 1.5 for r in largest)
assert all(r["conv2d"] < r["fwd_meas"] for r in largest if r["s"] == 1)

# %% tags=["hide-input"]
# Drawing code of the figure above
fig, ax = plt.subplots(figsize=(8, 6.5))
pred = np.array([[r["fwd_pred"], r["bwd_pred"]] for r in rows]) / MiB
meas = np.array([[r["fwd_meas"], r["bwd_meas"]] for r in rows]) / MiB
ax.loglog(pred[:, 0], meas[:, 0], "o", color="tab:blue", label="forward (conv_forward_strides)")
ax.loglog(pred[:, 1], meas[:, 1], "s", color="tab:blue", mfc="none",
          label="backward (the drop-in's conv_backward_strides)")
lims = [pred.min() / 1.5, pred.max() * 1.5]
ax.plot(lims, lims, "k-", lw=0.8, label="measured = predicted")
ax.set_xlabel("predicted by memory_bill (MiB)")
ax.set_ylabel("measured by tracemalloc (MiB)")
ax.set_title(f"Peak memory of the full im2col, {len(rows)} shapes")
ax.legend()
fig.tight_layout()
show(fig, f"Log-log scatter plot of measured against predicted peak memory for "
     f"the forward and the backward pass of {len(rows)} shapes, from "
     f"{pred.min():.2f} to {pred.max():.0f} MiB: every forward point lies on the "
     f"line measured = predicted (largest gap {worst} bytes); the drop-in's "
     f"backward points lie at {min(below):.2f} to {max(below):.2f} times cs231n's "
     f"predicted backward peak. Measured on {MACHINE}.")

# %% [markdown]
# ## Full im2col against the chunked conv2d
#
# The full im2col's forward peak grows with the batch: its columns hold every
# image's windows. `im2col.conv2d` unfolds a chunk of images at a time, so
# beyond its output its peak is bounded by the chunk buffers. Left: 3x3
# kernel, stride 1, growing batch. Right: batch of 64, stride 1, growing
# kernel.

# %% tags=["hide-input"]
# Drawing code of the figure above
fig, (left, right) = plt.subplots(2, 1, figsize=(8, 10))
by_n = [r for r in rows if r["k"] == 3 and r["s"] == 1]
ns = [r["N"] for r in by_n]
left.plot(ns, [r["fwd_meas"] / MiB for r in by_n], "o-", label="full im2col forward")
left.plot(ns, [r["conv2d"] / MiB for r in by_n], "s-", label="conv2d (chunked)")
left.plot(ns, [r["output"] / MiB for r in by_n], "k:", label="the output alone")
left.set_xscale("log", base=2)
left.set_xticks(ns, [str(n) for n in ns])
left.set_xlabel("batch size N")
left.set_ylabel("peak memory (MiB)")
left.set_title("3x3 kernel, stride 1")
left.legend()

by_k = [r for r in rows if r["N"] == 64 and r["s"] == 1]
ks = [r["k"] for r in by_k]
right.plot(ks, [r["fwd_meas"] / MiB for r in by_k], "o-", label="full im2col forward")
right.plot(ks, [r["conv2d"] / MiB for r in by_k], "s-", label="conv2d (chunked)")
right.plot(ks, [r["output"] / MiB for r in by_k], "k:", label="the output alone")
right.set_xlabel("kernel size k (k x k)")
right.set_ylabel("peak memory (MiB)")
right.set_title("N = 64, stride 1")
right.legend()
fig.tight_layout()
show(fig, "Two line plots of forward peak memory. Top, 3x3 kernel, stride 1, "
     "batch N = " + ", ".join(str(n) for n in ns) + ": the full im2col needs "
     + ", ".join(f"{r['fwd_meas'] / MiB:.1f}" for r in by_n) + " MiB, conv2d "
     + ", ".join(f"{r['conv2d'] / MiB:.1f}" for r in by_n) + " MiB, the output alone "
     + ", ".join(f"{r['output'] / MiB:.1f}" for r in by_n) + " MiB. Bottom, N = 64, "
     "kernel k = " + ", ".join(str(k) for k in ks) + ": full im2col "
     + ", ".join(f"{r['fwd_meas'] / MiB:.1f}" for r in by_k) + " MiB, conv2d "
     + ", ".join(f"{r['conv2d'] / MiB:.1f}" for r in by_k) + f" MiB. Measured on {MACHINE}.")

# %% [markdown]
# ## What less memory costs in time
#
# Three ways to compute the same convolution on one small shape, timed on
# the build machine (best of several repeats; each run includes the padding):
#
# - **full im2col**: `conv_forward_strides`, one im2col matrix for the batch;
# - **conv2d, chunked**: `conv2d` with its default unit size, and with a
#   `max_memory` of 1 MiB, less than the full im2col's columns here;
# - **einsum, no optimize**: `np.einsum` straight on the read-only window
#   view: no im2col matrix (its peak is the padded copy, the output and
#   einsum's own buffers), and with the default `optimize=False`
#   [`numpy.einsum`](https://numpy.org/doc/stable/reference/generated/numpy.einsum.html)
#   sums in its own loops instead of handing the product to BLAS (the
#   linear-algebra library, OpenBLAS or another, that NumPy's `@` calls).
#
# These are measurements of this build only. Which option is faster, and by
# how much, depends on the CPU, the BLAS library, the thread count and the
# shape; [How fast is it against PyTorch?](../speed/) compares strategies over many shapes.

# %%
x = rng.standard_normal((8, 3, 32, 32))
w = rng.standard_normal((16, 3, 3, 3))
b = np.zeros(16)
param = {"stride": 1, "pad": 1}
TIGHT = 2**20  # bytes: below the full im2col's columns for this shape


def full_im2col():
    return conv_forward_strides(x, w, b, param)[0]


def chunked_default():
    return conv2d(x, w, b, padding=1)


def chunked_tight():
    return conv2d(x, w, b, padding=1, max_memory=TIGHT)


def einsum_plain():
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    v = window_view(xp, 3)
    return np.einsum("fcij,cijnyx->nfyx", w, v) + b[:, None, None]


candidates = {
    "full im2col": full_im2col,
    "conv2d, default": chunked_default,
    "conv2d, max_memory=1 MiB": chunked_tight,
    "einsum, no optimize": einsum_plain,
}
reference = full_im2col()


def best_time(f, repeat=5, min_total=0.05):
    """Best time per call over `repeat` rounds of at least `min_total` seconds."""
    f()
    calls = 1
    while True:
        t0 = time.perf_counter()
        for _ in range(calls):
            f()
        if time.perf_counter() - t0 >= min_total or calls >= 1000:
            break
        calls *= 2
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(calls):
            f()
        best = min(best, (time.perf_counter() - t0) / calls)
    return best


results = {}
for name, f in candidates.items():
    out, peak = peak_memory(f)
    assert np.allclose(out, reference), name
    results[name] = (best_time(f), peak)

print("shape: x (8, 3, 32, 32), w (16, 3, 3, 3), padding 1, float64;",
      f"full im2col columns {memory_bill(x.shape, w.shape, padding=1).columns / MiB:.2f} MiB")
print("measured on:", MACHINE)
print(f"{'':<30}{'time (ms)':>10}{'peak (MiB)':>12}")
for name, (t, peak) in results.items():
    print(f"{name:<30}{t * 1e3:10.3f}{peak / MiB:12.2f}")

# %% tags=["hide-input"]
# Drawing code of the figure above
fig, (tax, max_) = plt.subplots(2, 1, figsize=(8, 6.5))
names = list(results)
times = [results[n][0] * 1e3 for n in names]
peaks = [results[n][1] / MiB for n in names]
# One colour per method, as in the line plots: full im2col blue, conv2d orange.
colors = ["tab:blue", "tab:orange", "tab:orange", "tab:green"]
tax.barh(names, times, color=colors)
tax.set_xlabel("best time per call (ms), this build")
tax.invert_yaxis()
max_.barh(names, peaks, color=colors)
max_.set_xlabel("peak memory (MiB)")
max_.invert_yaxis()
fig.suptitle("x (8, 3, 32, 32), w (16, 3, 3, 3), padding 1, float64")
fig.tight_layout()
show(fig, "Two bar charts, time per call and peak memory of four ways to compute "
     "the same convolution: " + "; ".join(
         f"{n}: {results[n][0] * 1e3:.2f} ms, {results[n][1] / MiB:.2f} MiB"
         for n in names) + f". Measured on this build, {MACHINE}.")

# %% [markdown]
# ## The backward's col2im: tap loop or np.add.at
#
# [How does the gradient flow back?](../../backward/) builds col2im two ways:
# one strided `+=` per kernel tap (what `im2col.col2im` does), and one
# unbuffered `np.add.at` over index arrays for all six axes of the view.
# Both give the same result; here are their time and peak memory on this
# build machine, for the column gradient of a batch of 16 images.

# %%
def col2im_taps(cols, x_shape, k, stride=1, pad=0):
    """Sum im2col columns back into x_shape: one strided += per kernel tap."""
    N, C, H, W = x_shape
    oh, ow = (H + 2 * pad - k) // stride + 1, (W + 2 * pad - k) // stride + 1
    taps = cols.reshape(C, k, k, N, oh, ow)
    dxp = np.zeros((N, C, H + 2 * pad, W + 2 * pad), dtype=cols.dtype)
    for i in range(k):
        for j in range(k):
            rows = slice(i, i + stride * oh, stride)
            columns = slice(j, j + stride * ow, stride)
            dxp[:, :, rows, columns] += taps[:, i, j].transpose(1, 0, 2, 3)
    return dxp[:, :, pad:pad + H, pad:pad + W]


def col2im_add_at(cols, x_shape, k, stride=1, pad=0):
    """Sum im2col columns back into x_shape with one unbuffered np.add.at."""
    N, C, H, W = x_shape
    oh, ow = (H + 2 * pad - k) // stride + 1, (W + 2 * pad - k) // stride + 1
    dxp = np.zeros((N, C, H + 2 * pad, W + 2 * pad), dtype=cols.dtype)
    c, i, j, n, y, xo = np.ogrid[:C, :k, :k, :N, :oh, :ow]
    np.add.at(dxp, (n, c, y * stride + i, xo * stride + j),
              cols.reshape(C, k, k, N, oh, ow))
    return dxp[:, :, pad:pad + H, pad:pad + W]


x_shape = (16, 3, 32, 32)
dcols = rng.standard_normal(im2col(np.zeros(x_shape), 3, padding=1).shape)
expected = col2im(dcols, x_shape, 3, padding=1)
ways = {
    "tap loop (9 strided +=)": lambda: col2im_taps(dcols, x_shape, 3, 1, 1),
    "np.add.at": lambda: col2im_add_at(dcols, x_shape, 3, 1, 1),
    "im2col.col2im": lambda: col2im(dcols, x_shape, 3, padding=1),
}
print("column gradient", dcols.shape, "into", x_shape, "3x3 kernel, padding 1, float64")
print("measured on:", MACHINE)
print(f"{'':<26}{'time (ms)':>10}{'peak (MiB)':>12}")
for name, f in ways.items():
    result, peak = peak_memory(f)
    assert np.allclose(result, expected), name
    print(f"{name:<26}{best_time(f) * 1e3:10.3f}{peak / MiB:12.2f}")
