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
# # How fast is it against PyTorch?
#
# **Short answer.** Its speed against PyTorch's CPU convolution and
# against cs231n's strided layer depends on the layer, the dtype and the
# machine, so this page shows measurements, each labelled with the machine
# it ran on. `im2col.conv2d` never builds cs231n's full column matrix: it
# unfolds a few images (or a band of output rows) at a time into reused
# buffers and multiplies each unit straight into its slice of the NCHW
# output; on 3x3, stride-1 layers large enough for them it uses Winograd's
# tiles instead, with fewer multiplies (the Winograd page gives
# [the rule](../winograd/#what-im2colconv2d-does)). Two things limit it: the matrix
# multiply itself (the `gemm` figures time the general matrix multiply,
# GEMM, of NumPy's BLAS, the linear-algebra library it calls, on the same matrix
# shapes with the operands ready; where that alone is slower than PyTorch's
# whole convolution, no stride trick can close the gap), and the unfolding
# and copies around it; the table under "What limits it" splits each
# layer's time into the two. The cell below reads the last full benchmark
# run, kept in `benchmarks/results/`.
#
# **Threads.** By default `conv2d` uses worker threads, with BLAS held to
# one thread while they run, only when your program has no other Python
# thread, so no other thread ever sees its BLAS slowed. In a notebook (the
# kernel runs threads of its own) or a threaded program, the default runs
# on the calling thread with BLAS's own threads; pass `workers=2` (or more)
# to ask for the workers and the temporary BLAS limit anyway. The saved
# figures come from `make bench`, a plain script, where the default uses
# the workers; the small run on this page runs in a notebook kernel, so its
# default plan says one worker.
#
# The code on this page comes from this project's repository: it imports
# the `benchmarks` package that sits next to `src/`, and needs `matplotlib`;
# PyTorch is optional (without it, no PyTorch column).

# %%
import benchmarks  # noqa: F401, I001  (first: thread and allocator settings)

import json
from pathlib import Path

import numpy as np
from benchmarks import harness, run
from IPython.display import Markdown, display

full = json.loads(Path("benchmarks/results/results.json").read_text())
CASES = [c for c in full["cases"] if c["dtype"] == "float32" and c["threads"] == 2]
LABEL = harness.machine_label(full["machine"], threads_used=2)


def spread(values):
    """Geometric mean and range of positive ratios, as text."""
    values = [v for v in values if v]
    geo = float(np.exp(np.mean(np.log(values))))
    return f"{geo:.2f} (from {min(values):.2f} to {max(values):.2f})"


lines = [f"Measured on {LABEL}, {full['date'][:10]}; float32, the "
         f"{len(full['shapes'])} layers listed at the end, time ratios of medians "
         "(below 1: faster):", ""]
for p in ("forward", "backward"):
    cases = [c for c in CASES if c["pass"] == p]
    d = [c["methods"]["default"] for c in cases]
    lines.append(f"- **{p}**: `conv2d` takes {spread(v['vs_cs231n'] for v in d)} "
                 "times the time of cs231n's strided layer")
    if all(v["vs_torch"] for v in d):
        g = [c["methods"]["gemm"]["vs_torch"] for c in cases]
        lines[-1] += (f", and {spread(v['vs_torch'] for v in d)} times PyTorch's; "
                      f"the bare GEMMs alone take {spread(g)} times PyTorch's whole "
                      "convolution")
    lines[-1] += ";"
peaks = {r["shape"]: r["peak_extra_bytes"] for r in full["memory"] if r["pass"] == "forward"}
lines.append("- **forward peak memory** beyond the output: "
             + spread(pk["default"] / pk["cs231n"] for pk in peaks.values())
             + " times that of cs231n's strided layer.")
display(Markdown("\n".join(lines)))

# %% [markdown]
# ## Time and memory per layer
#
# Each bar is the median of seven interleaved rounds on the machine named in
# the title; memory is the peak allocated beyond the returned arrays,
# measured in a fresh process per method.

# %% tags=["hide-input"]
# Drawing code of the figure above
import base64
from html import escape
from io import BytesIO

import matplotlib.pyplot as plt
from IPython.display import HTML

plt.rcParams["font.size"] = 13      # at the text column's width, as large as the text

NAMES = ["cs231n", "default", "im2col", "im2col_t", "wide", "shift",
         "tensordot", "einsum", "torch", "gemm"]
SHOWN = {"cs231n": "cs231n's strided layer", "torch": "PyTorch", "gemm": "bare GEMM"}
COLOR = dict(zip(NAMES, plt.get_cmap("tab10").colors, strict=True))  # one per method


def show(fig, alt):
    """Show a figure as an SVG image, with alt text for screen readers."""
    buf = BytesIO()
    fig.savefig(buf, format="svg", metadata={"Date": None})
    plt.close(fig)
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    display(HTML(f'<div class="figure-scroll"><img class="figure" alt="{escape(alt)}" '
                     f'src="data:image/svg+xml;base64,{data}"></div>'))


panels = [(f"{p}, float32, two threads", "ms per call (median)",
           [(c["shape"], {k: v["median"] * 1e3 for k, v in c["methods"].items()})
            for c in CASES if c["pass"] == p]) for p in ("forward", "backward")]
panels.append(("forward peak extra memory", "MiB beyond the output",
               [(s, {k: v / 2**20 for k, v in pk.items()}) for s, pk in peaks.items()]))
fig, axes = plt.subplots(3, 1, figsize=(8, 15), layout="constrained")
for ax, (title, unit, groups) in zip(axes, panels, strict=True):
    shown = [n for n in NAMES if any(n in values for _, values in groups)]
    width = 0.8 / len(shown)
    for k, n in enumerate(shown):
        ax.bar(np.arange(len(groups)) + k * width,
               [values.get(n, np.nan) for _, values in groups], width,
               label=SHOWN.get(n, n), color=COLOR[n])
    ax.set_xticks(np.arange(len(groups)) + 0.4 - width / 2, [s for s, _ in groups])
    ax.set_yscale("log")
    ax.set_ylabel(unit)
    ax.set_title(title)
axes[0].legend(ncol=3, fontsize=11, loc="lower left", bbox_to_anchor=(0, 1.08))
fig.suptitle(LABEL, fontsize=12, wrap=True)


def described(groups, unit, names=("default", "cs231n", "torch", "gemm")):
    return "; ".join(f"{s}: " + ", ".join(
        f"{SHOWN.get(n, n)} {values[n]:.3g}" for n in names if n in values)
        for s, values in groups) + f" ({unit})"


show(fig, "Three bar charts on a log scale, one bar per method and layer. "
     + " ".join(f"{title}: {described(groups, unit)}." for title, unit, groups in panels)
     + f" Measured on {LABEL}.")

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
# cache-sized units beat the one big GEMM, or where the plan is `winograd`,
# which makes fewer multiplies than the GEMM). Winograd's algorithm for 3x3,
# stride-1 layers is derived and timed stage by stage, with the rule for
# when `im2col.conv2d` uses it, on [When does Winograd pay?](../winograd/).

# %%
rows = ["| shape | pass | default plan | default / PyTorch | gemm / PyTorch | default / gemm |",
        "| --- | --- | --- | --- | --- | --- |"]
for c in CASES:
    ms = c["methods"]
    if "torch" in ms:
        d, g = ms["default"]["vs_torch"], ms["gemm"]["vs_torch"]
        rows.append(f"| {c['shape']} | {c['pass']} | {c['plan']} | {d:.2f} | {g:.2f} "
                    f"| {d / g:.2f} |")
display(Markdown(f"Float32, two threads, {LABEL}:\n\n" + "\n".join(rows)))

# %% [markdown]
# ## Which layers are furthest behind, and what was tried?
#
# `python -m benchmarks.ideas` times S1..S5 and more layers against PyTorch
# (a ResNet stem, a 5x5, a 1x1, a 4-group and a dilated layer),
# and each idea for closing the gap on them, shipped or not; the backward
# column comes from `python -m benchmarks.backward`. Their latest runs:

# %%
ideas = json.loads(Path("benchmarks/results/ideas.json").read_text())
back = json.loads(Path("benchmarks/results/backward.json").read_text())
fwd = {r["layer"]: r["ratios"] for r in ideas["conv_blocks"]}
bwd = {r["layer"]: r["default / torch"] for r in back["layers"]}
rows = ["| layer | forward / PyTorch | with pixel blocks | every deep GEMM in blocks "
        "| backward / PyTorch |", "| --- | --- | --- | --- | --- |"]
rows += [f"| {k} | {v['no blocks']:.2f} | {v['blocks']:.2f} "
         f"| {v['every deep GEMM in blocks']:.2f} | {bwd[k]:.2f} |" for k, v in fwd.items()]
display(Markdown(f"Float32, two threads, {ideas['machine']}:\n\n" + "\n".join(rows)
                 + "\n\nThese runs predate the window rows plan (below): their "
                 "5x5, 4-group and dilated forward passes, and the 5x5 backward pass, are "
                 "im2col's."))

# %% [markdown]
# **The GEMM is most of it.** Where a layer is far behind, so are its bare
# matrix multiplies (the `gemm / PyTorch` column above): NumPy's BLAS
# multiplies these shapes more slowly than PyTorch convolves them. The
# ideas tried, each measured:
#
# - *Cut the GEMM into blocks of output pixels.* Alone, a deep product (a
#   column matrix of at least 256 rows) runs faster cut into blocks of 256
#   pixels, a shallow one often slower (the grid below). Inside whole
#   layers timed in turn with other calls (the table's second and third
#   columns) blocks on products of at least 256 rows and 2048 pixels changed
#   little; in a program that only convolves, each variant in a fresh
#   process, they cost more (printed below; S3 runs Winograd's tiles, whose
#   products are not cut), so the package does not cut deep products (it
#   cuts shallow ones, next item).
# - *First layers (C = 3, 7x7).* Copying the columns in NHWC order
#   instead (runs of `kw*C` elements after a transpose) and multiplying in
#   the other orientation were both measured, and neither is shipped. The
#   package does other things instead. First, OpenBLAS, with its SkylakeX
#   code (as on this machine), sends a float32 product of at most 100^3
#   multiply-adds to small-matrix routines that skip packing the operands (its
#   [`sgemm_small_kernel_permit_skylakex.c`](https://github.com/OpenMathLib/OpenBLAS/blob/develop/kernel/x86_64/sgemm_small_kernel_permit_skylakex.c)).
#   S1's product, 32 filters by 148 rows of columns, is larger than that
#   per image, so the package cuts it, and every product of few filters by
#   shallow columns, into blocks of pixels under that size, when BLAS runs
#   on one thread (as it does under the workers); with more BLAS threads one
#   call, which can use them, is left alone (`python -m benchmarks.blocks`,
#   printed below: S1's product in blocks of several widths, a grid of
#   shapes with one and two BLAS threads, and whole layers with and
#   without the blocks). Second, the forward pass of a layer with a kernel
#   at least 7 rows tall (taller than the stride) and at most 64 filters
#   per group copies a strip of each input row's windows of one kernel row,
#   about `kh/sh` times smaller than the columns, and multiplies one output
#   row at a time on a view of it (the `rows` plan, derived on
#   [Can the columns be a view after all?](../../strip/)), when BLAS runs on
#   one thread (`python -m benchmarks.rows`, printed below: S1's stages in
#   both layouts, and the strip against the columns on a grid of layers).
#   Third, elsewhere, a layer of stride 1 along the height, windows more
#   than one row tall and deep enough products (`C/groups*kw` at least 96)
#   copies the same windows into a strip laid out by channel and window
#   column, so that the columns of each window row, for all output rows at
#   once, are one matrix, a view: `kh` products summed (the window rows
#   plan), on a copy about `kh` times smaller than the
#   columns, where its buffers take no more than the columns' and BLAS
#   runs on one thread (with one worker and BLAS on two threads it lost
#   on the layers it is taken for).
#   Its backward pass reads the same views for `dw`, and sums the strip's
#   gradient through them before one strided add per window column; where
#   the backward pass takes the full correlation of `dout` instead (no
#   more filters than channels, same-size output: the 4-group and dilated
#   layers), that stays. About even time, less memory (printed
#   below: its stages, and it against the columns in both passes, with
#   one worker or two, measured on the machine named there).
# - *Groups.* One `matmul` broadcast over the groups instead of one call
#   per group. Alone, on one thread, it is no faster (printed below); on
#   two workers it makes fewer calls, which counts (next item), so it is
#   shipped.
# - *Two workers, one interpreter.* A call's workers are Python threads.
#   NumPy lets go of the interpreter's lock (the GIL) inside a copy or a `matmul`,
#   but each call takes it back at its start and end, and the Python
#   between calls (making views, slicing) holds it, so two workers at once
#   wait for each other there: two threads each making the same
#   single-threaded `matmul` calls at once take longer than one thread
#   alone, the more so the shorter the calls. The package therefore makes
#   the views of a worker's buffers once per call, not on every unit; one
#   call for all groups; and the filters' gradient products of a few
#   images of a unit in one call, not one per image
#   (`python -m benchmarks.turns`, printed below: the cost of taking turns
#   per call, and whole layers with the old habits brought back).
# - *The bias.* Added by a second pass over the output, it costs a
#   fraction of a small layer's GEMM; `im2col` adds it inside the GEMM
#   instead, with a row of ones under the columns and the bias beside the
#   filters (`python -m benchmarks.passes`, printed below).
# - *The backward pass of stride-1 layers.* `dx` computed as the
#   transposed convolution of `dout` (the `full` strategy: im2col of `dout`
#   instead of col2im, see [the backward page](../../backward/)) where its
#   buffers take no more memory than the columns', and the filters'
#   gradient of few filters per group made in the other orientation,
#   `cols @ dout.T`, where OpenBLAS's sgemm ran it faster
#   (`python -m benchmarks.backward`, printed below: the backward pass with
#   and without both, against PyTorch's). Where a plan still adds columns
#   back with col2im and the stride along the height is 1, a unit's column
#   gradient is summed over the kernel rows first, in place: kernel row `i` of a tap column is the gradient of
#   band rows `i` to `i + rows`, so those sums run over whole blocks of
#   rows, and then two strided adds per kernel column, not one per tap,
#   reach the input: fewer passes over runs one output row long, which
#   cost NumPy more per element than long runs
#   (`python -m benchmarks.passes`, `col2im`, printed below: a unit's col2im
#   both ways, one thread, on units of layers whose default plan may not
#   use col2im at all (S3's and the 4-group layer's use Winograd's tiles and
#   `full`), and the backward pass with each on two layers whose plan does).
# - *Fewer multiplies.* On 3x3, stride-1 layers large enough for them
#   the package uses Winograd's tiles (the `winograd` plans of the table
#   under "What limits it"): [When does Winograd pay?](../winograd/) derives
#   them, measures when they win and what their passes over the tiles cost,
#   and gives [the rule](../winograd/#what-im2colconv2d-does) for the
#   layers they are used on.

# %%
grid = ideas["gemm_blocks"]
print(f"GEMM, one thread, {len(grid)} shapes F x K @ K x P, time in blocks of "
      f"{ideas['pixel_block']} pixels / time in one call:")
for title, keep in (("deep, at least 2048 pixels", lambda r: r["rule"]),
                    ("deep, too few pixels", lambda r: r["deep"] and not r["rule"]),
                    ("shallow", lambda r: not r["deep"])):
    part = [r["blocks / one call"] for r in grid if keep(r)]
    print(f"  {title} ({len(part)} shapes): median {np.median(part):.2f}, "
          f"from {min(part):.2f} to {max(part):.2f}")
for name, t in ideas["fresh_process"].items():
    print(f"{name}, each in a fresh process: {t['blocks'] / t['no blocks']:.2f}x the time "
          f"with blocks ({t['blocks']:.0f} ms against {t['no blocks']:.0f} ms)")
stages = ideas["first_layer"]
gemm_ms = stages["GEMM w2 @ cols"]
copy_ms = stages["copy, NCHW columns"]
print(f"S1, 6 images, one thread: copy {copy_ms:.2f} ms, GEMM {gemm_ms:.2f} ms "
      f"(the copy is {copy_ms / (copy_ms + gemm_ms):.0%} of the two); "
      f"NHWC-order copy {stages['copy, channels-last columns'] / copy_ms:.2f}x "
      f"the NCHW-order copy; GEMM in the other orientation "
      f"{stages['GEMM cols.T @ w2.T'] / gemm_ms:.2f}x")
strip = json.loads(Path("benchmarks/results/rows.json").read_text())
st = strip["stages"]
assert st["same"]  # both give the same output
print(f"S1, 10 images, one thread: im2col copies its columns in "
      f"{st['im2col: copy into the columns']:.2f} ms and multiplies in "
      f"{st['im2col: GEMM per image']:.2f} ms; the strip copies in "
      f"{st['rows: copy into the strip']:.2f} ms and multiplies, one output row "
      f"at a time, in {st['rows: GEMM per output row']:.2f} ms")


def print_rule(layers, what, *, depth=False, call="conv2d"):
    """Print a rule of rows.json: float32 and float64 ratios per layer and setting."""
    for setting in ("two workers", "one worker"):
        print(f"{what} / the columns, {setting}"
              f"{' (BLAS on two threads)' if setting == 'one worker' else ''}, float32 "
              "and float64" + (", with the products' depth C/groups*kw" if depth else "")
              + f" (* where {call} takes {'them' if depth else 'the strip'}):")
        for r in layers:
            if r["dtype"] == "float32":
                pair = [q for q in layers if q["layer"] == r["layer"]]
                print(f"  {r['layer']:26s} " + (f"depth {r['depth']:3d}: " if depth else "")
                      + " ".join(
                    f"{next(v for k, v in q.items() if k.endswith(f'/ im2col, {setting}')):.2f}"
                    f"{'*' if q[f'picked, {setting}'] else ''}" for q in pair))


print_rule(strip["rule"], "The strip")
u = strip["units"]
print(f"S1, two workers, the strip with 1 to 25 images per unit / conv2d's "
      f"{u['default images']}: " + ", ".join(
          f"{k.split()[0]} {v:.2f}" for k, v in u.items() if k != "default images"))
print(f"Measured on {strip['machine']}.")
for r in strip["window_rows"]["layers"]:
    assert r["same"]  # both give the same output
    t = r["ms per image"]
    print(f"{r['layer']}, one thread, ms per image: columns {t['im2col: copy']:.2f} "
          f"to copy, {t['im2col: GEMM']:.2f} to multiply; window rows "
          f"{t['window rows: copy']:.2f} to copy, {t['window rows: GEMMs']:.2f} "
          f"to multiply; two threads: window rows / columns "
          f"{r['window rows / im2col, two threads']:.2f}")
window_rule = strip["window_rule"]
print_rule(window_rule["layers"], "Window rows", depth=True)
print(f"Window rows measured on {window_rule['machine']}.")
window_backward = strip["window_backward"]
print_rule(window_backward["layers"], "Backward pass: window rows", depth=True,
           call="conv2d_backward")
correlation = [r for r in window_backward["layers"]
               if r["layer"] in ("4 groups", "dilation 2") and r["dtype"] == "float32"]
print("Backward pass: window rows / the full correlation of dout, two workers, float32: "
      + ", ".join(f"{r['layer']} "
                  + f"{next(v for k, v in r.items() if k.endswith('/ full, two workers')):.2f}"
                  for r in correlation))
print(f"Backward pass measured on {window_backward['machine']}.")
g = ideas["groups"]
print(f"4 groups, one image, one thread: one matmul for all groups takes "
      f"{g['one matmul for all groups'] / g['one matmul per group']:.2f}x "
      "the time of one per group")
bias = json.loads(Path("benchmarks/results/passes.json").read_text())["bias"]
t = bias["ms"]
assert bias["same"]  # both give the same output
print(f"S2, {bias['images']} images, one thread: the bias added after the GEMM "
      f"took {(t['GEMM, then the bias'] - t['GEMM alone']) / t['GEMM alone']:.0%} "
      f"of the GEMM's time; inside it, "
      f"{(t['GEMM with the bias inside'] - t['GEMM alone']) / t['GEMM alone']:.0%}")
folds = json.loads(Path("benchmarks/results/passes.json").read_text())["col2im"]
for u in folds["units"]:
    assert u["same"]  # both give the same gradient
    print(f"col2im of a unit of {u['layer']} ({u['images']} x {u['channels']} x "
          f"{u['size']}x{u['size']}, {u['kernel']}x{u['kernel']}), one thread: kernel rows "
          f"first takes {u['ms']['rows first'] / u['ms']['per tap']:.2f}x the time of one add per tap")
for r in folds["layers"]:
    print(f"{r['layer']} backward pass, two threads, kernel rows first / one add per tap: "
          f"{r['rows first / per tap']:.2f}")
print(f"Measured on {ideas['machine']}.")
ref = back["layers"][0]["vs"]   # "torch", or "before" if PyTorch was missing
print(f"Backward pass, two threads, time / {SHOWN.get(ref, ref)}'s: "
      "with both changes (without them)")
for row in back["layers"]:
    print(f"  {row['layer']:11s} {row[f'default / {ref}']:.2f} "
          f"({row.get(f'before / {ref}', 1.0):.2f})")
single = [r for r in back["orientation"] if r["dtype"] == "float32"]
won = [r["transposed / plain"] for r in single if r["rule"]]
span = f"{min(won):.2f}x to {max(won):.2f}x" if won else "-"
print(f"The filters' gradient, float32, one thread: where the rule picks cols @ dout.T "
      f"({len(won)} of {len(single)} shapes), it took {span} the time of dout @ cols.T")
for dtype in ("float32", "float64"):
    small = [r for r in back["small_images"] if r["dtype"] == dtype]
    print(f"{dtype}, outputs of 7x7 to 14x14, full / im2col_t: " + ", ".join(
        f"{r['pixels']} px {r['full / im2col_t']:.2f}" for r in small))
print(f"Measured on {back['machine']}.")
blocks = json.loads(Path("benchmarks/results/blocks.json").read_text())
s1 = next(r for r in blocks["steps"] if r["layer"] == "S1")
rate = s1["GFLOP/s"]
print(f"S1's product ({s1['filters']} x {s1['rows']} @ {s1['rows']} x {s1['pixels']}, "
      f"one thread): {rate['one']:.0f} GFLOP/s in one call; in blocks of "
      + ", ".join(f"{k} pixels {v:.0f}" for k, v in rate.items() if k != "one"))
for dtype, key in (("float32", "blocks / one"), ("float64", "blocks / one"),
                   ("float32", "blocks / one, two BLAS threads")):
    cuts = [r[key] for r in blocks["grid"] if r["dtype"] == dtype and r["step"] < r["pixels"]]
    print(f"{dtype}, {'two BLAS threads' if 'two' in key else 'one thread'}, the "
          f"{len(cuts)} shapes float32's rule cuts, blocks / one call: median "
          f"{np.median(cuts):.2f}, from {min(cuts):.2f} to {max(cuts):.2f}")
passes = [(r["layer"], p, r[f"{p} blocks / one"], r[f"{p} cut"])
          for r in blocks["layers"] for p in ("forward", "backward")]
same = [ratio for _, _, ratio, cut in passes if not cut]
print("Whole layers, two threads, time with blocks / without, where the pass cuts a "
      "product: " + ", ".join(f"{name} {p} {ratio:.2f}" for name, p, ratio, cut in passes if cut)
      + f"; the {len(same)} other passes run the same code both ways (the run's noise): "
      f"{min(same):.2f} to {max(same):.2f}")
print(f"Measured on {blocks['machine']}.")
turns = json.loads(Path("benchmarks/results/turns.json").read_text())
for r in turns["calls"]:
    print(f"(32, 148) @ (148, {r['pixels']}), {r['us per call']:.0f} us per call: two "
          f"threads making them at once take {r['two / one']:.2f}x the time of one")
print("Whole layers on two workers, time with the old habit / as shipped when measured "
      "(before window rows: the 5x5, 4-group and dilated forward passes, and the 5x5 "
      "backward pass, by im2col):")
for habit in ("views per unit", "one call per group", "dw per image", "all three"):
    print(f"  {habit}: " + ", ".join(
        f"{r['layer']} {r[f'forward {habit} / shipped']:.2f}/{r[f'backward {habit} / shipped']:.2f}"
        for r in turns["layers"]) + " (forward/backward)")
print(f"Measured on {turns['machine']}.")

# %% [markdown]
# ## How fast is the cs231n drop-in?
#
# `python -m benchmarks.dropin` times `im2col.cs231n`'s layers against the
# algorithms they stand in for, on the assignment's own layers: the conv
# backward pass against the whole-batch algorithm (one transposed copy of
# `dout`, two GEMMs, col2im), and max pooling against a plain reshape and
# against a loop over output pixels. With the BLAS's default threads the
# drop-in's conv backward shares the images among two workers when the
# program has no other thread (as in this script); with one thread, as in a
# notebook, it runs on the caller's thread.

# %%
dropin = json.loads(Path("benchmarks/results/dropin.json").read_text())
rows = ["| case | drop-in ms | baseline ms | drop-in / baseline |", "| --- | --- | --- | --- |"]
rows += [f"| {k} | {v['ours_s'] * 1e3:.1f} | {v['baseline_s'] * 1e3:.1f} | {v['ratio']:.2f} |"
         for k, v in dropin["cases"].items()]
display(Markdown(f"{dropin['machine']}, {dropin['rounds']} interleaved rounds, "
                 "medians:\n\n" + "\n".join(rows)))

# %% [markdown]
# ## A small run, now
#
# The same layers with their batch cut to 4 images, float32, two threads,
# three interleaved rounds per method (medians), run while this site was
# built, on the machine that built it. That machine may be busy with other
# work, and three rounds of a few milliseconds each are easily disturbed,
# so compare any surprising ratio with the full run above.

# %%
small = run.quick(batch=4, rounds=3)
rows = ["| shape | pass | default plan | default / cs231n's | default / PyTorch |",
        "| --- | --- | --- | --- | --- |"]
for c in small["cases"]:
    d = c["methods"]["default"]
    vt = f"{d['vs_torch']:.2f}" if d["vs_torch"] else "no PyTorch"
    rows.append(f"| {c['shape']} | {c['pass']} | {c['plan']} | {d['vs_cs231n']:.2f} | {vt} |")
display(Markdown(f"{harness.machine_label(small['machine'], threads_used=2)}, "
                 f"{small['seconds']} s for the whole small run:\n\n" + "\n".join(rows)))

# %% [markdown]
# ## Against a Python loop
#
# How much faster is im2col + one matrix multiply than the loop over output
# elements, and why? The loop below makes one Python iteration, with a few
# small NumPy calls, per output element; the strided layer makes a handful
# of NumPy calls in all, and its multiply-adds run in compiled BLAS code.
# Measured now, on a small layer (the loop is slow):

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
      f"{harness.machine_label(small['machine'], threads_used=2)})")

# %% [markdown]
# ## How it was measured
#
# The harness lives in `benchmarks/` (`python -m benchmarks.run --out
# benchmarks/results`, or `make bench`). The methods:
#
# - `cs231n`: cs231n's strided layer, reimplemented here: pad, `as_strided`
#   view, `np.ascontiguousarray`, one GEMM, bias, transposed copy;
# - `default`: `im2col.conv2d` as shipped, which picks one of
# - `im2col` (columns per image, one GEMM per image, no transpose),
#   `im2col_t` (cs231n's column order for a few images, one wider GEMM,
#   transposed copy; picked for small images), `wide` (stride 1 only:
#   columns on a grid as wide as the padded row, so each column row is one
#   contiguous run and col2im adds one run per tap; picked for the backward
#   pass of stride-1 layers), `full` (stride 1 only: `im2col`, but `dx` by
#   im2col of `dout`, the transposed convolution, instead of col2im; picked for
#   the backward pass where it takes no more memory), `shift` (one GEMM per kernel tap over a
#   strided slice, no column buffer), `matmul` (1x1 kernels only),
#   `winograd` (3x3, stride-1 layers: Winograd's F(2x2, 3x3) tiles, see
#   [When does Winograd pay?](../winograd/)), `rows` (forward only: a strip
#   of each input row's windows of one kernel row, one GEMM per output row
#   on a view of it, see [Can the columns be a view after all?](../../strip/);
#   picked for tall kernels and few filters), `window_rows` (a strip by
#   channel and window column, one GEMM per window row on a view of it,
#   in both passes; picked for products at least 96 deep, with BLAS on
#   one thread, where `winograd`, `im2col_t`, `rows`, `wide` and `full`
#   are not and its buffers are no larger); all but `shift` and
#   `winograd` cut a float32 product of few filters by shallow columns into
#   blocks of pixels where OpenBLAS's small-matrix routines run;
# - `tensordot`, `einsum`: the same windows from
#   [`sliding_window_view`](https://numpy.org/doc/stable/reference/generated/numpy.lib.stride_tricks.sliding_window_view.html);
# - `torch`: [`torch.nn.functional.conv2d`](https://pytorch.org/docs/stable/generated/torch.nn.functional.conv2d.html)
#   and its backward, when PyTorch is installed;
# - `gemm`: the bare matrix multiply of the im2col shape, operands ready.
#
# Timing two libraries in one process bills each for the other's habits, so
# the `benchmarks` package, imported before NumPy and PyTorch, sets three
# things, each recorded with the results; the full tables end with one
# layer timed with each of them left out:
#
# - `OPENBLAS_THREAD_TIMEOUT=4` and `OMP_WAIT_POLICY=PASSIVE`: the idle
#   worker threads of OpenBLAS and of PyTorch's OpenMP stop spinning at once
#   instead of stealing a core from the other library's next call;
# - glibc's `mallopt`: freed blocks below 32 MiB are kept for reuse, as in a
#   long training loop, instead of coming back from the kernel page by page
#   on every call (page faults, paid by both libraries).
#
# Every measurement of the last full run (float32 and float64, one and two
# threads, min-max over the rounds in brackets):

# %%
report = run.markdown(full).split("\n", 2)[2]          # without the title line
report = "\n".join(f"**{line[3:]}**" if line.startswith("## ") else line
                   for line in report.splitlines())     # no headings in the fold
display(Markdown("<details><summary>All measurements of the full run</summary>\n\n"
                 + report + "\n\n</details>"))
