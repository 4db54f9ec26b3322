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
# # When does Winograd pay?
#
# **Short answer.** Winograd's minimal filtering computes a 3x3, stride-1
# layer with fewer multiplies than im2col + GEMM (the columns times the
# filters in one general matrix multiply): it transforms tiles of the
# input and the filters so that the sums over the kernel become element-wise
# products, then transforms the products back. In NumPy the products become
# a stack of matrix multiplies, smaller than im2col's one, and the
# transforms are extra passes over memory. Whether that wins depends on the
# machine, so this page derives the algorithm in code, measures the float32
# error it costs, and times each stage against im2col + GEMM and PyTorch;
# the summary just below is computed from the last full run. It is not a
# general replacement: it applies only to 3x3 kernels with stride 1 (no
# dilation), pays only on enough channels per group, and its float32 error
# grows with the tile size.
# `im2col.conv2d` uses the small tile, F(2x2, 3x3), where it measured
# faster (the last section).
#
# The code on this page comes from this project's repository: it imports the
# `benchmarks` package that sits next to `src/` (a NumPy prototype,
# `benchmarks/winograd_conv.py`, not part of the `im2col` package), and needs
# `matplotlib`; PyTorch is optional (without it, no PyTorch column).

# %%
import benchmarks  # noqa: F401, I001  (first: thread and allocator settings)

import json
from fractions import Fraction
from pathlib import Path

import numpy as np
from benchmarks import winograd
from benchmarks import winograd_conv as wc
from IPython.display import Markdown, display

import im2col

full = json.loads(Path("benchmarks/results/winograd.json").read_text())


def summary(res):
    """One sentence per layer: time and float32 error of F(2x2) and F(4x4)."""
    lines = []
    for c in res["cases"]:
        ms, err = c["methods"], c["error"]
        parts = []
        for m in wc.POINTS:
            s = ms[f"F{m}"]
            vs_torch = (f", {s['vs_torch']:.2f} times PyTorch's" if s["vs_torch"] else "")
            parts.append(f"F({m}x{m}, 3x3) took {s['vs_im2col']:.2f} times the time of "
                         f"im2col + GEMM{vs_torch}, with {err[f'F{m}'] / err['im2col']:.1f} "
                         "times its float32 error")
        lines.append(f"- **{c['shape']}** ({c['label']}): " + "; ".join(parts) + ".")
    return "\n".join(lines)


display(Markdown(f"Last full run, {full['label']}, {full['date'][:10]}, float32, "
                 f"{full['threads']} threads, ratios of medians of {full['rounds']} "
                 f"interleaved rounds (load average {full['load_average']['start']:.2f} "
                 "when it started):\n\n" + summary(full)))

# %% [markdown]
# ## One dimension: F(2, 3)
#
# Take two outputs of a 1-D correlation with a 3-tap filter `g`:
# `y[i] = g[0] d[i] + g[1] d[i+1] + g[2] d[i+2]` for `i = 0, 1`, from four
# inputs `d`. Done directly, that is two times three multiplies. Winograd's
# F(2, 3) does it with one multiply per input, by the Toom-Cook method
# (Winograd, *Arithmetic Complexity of Computations*, SIAM 1980; Lavin and
# Gray, [*Fast Algorithms for Convolutional Neural
# Networks*](https://arxiv.org/abs/1509.09308), CVPR 2016, section 4):
#
# - a *linear convolution* of a 3-vector `g` with a 2-vector `h` is the
#   product of two polynomials, of degree 2 and 1; its 4 coefficients are
#   fixed by the product's values at 4 points. Evaluate both polynomials at
#   the points 0, 1, -1 and "infinity" (the leading coefficient), multiply
#   the values (4 multiplies), and interpolate: `V⁻¹ ((V₃ g) * (V₂ h))`,
#   where each `V` evaluates a polynomial's coefficients at the points;
# - correlation, what a convolution layer computes, is that linear map
#   transposed with respect to `h` (the matrix of "convolve with `g`",
#   transposed, is "correlate with `g`"), so
#   `y = V₂ᵀ ((V₃ g) * (V⁻ᵀ d))`: `Aᵀ = V₂ᵀ`, `G = V₃`, `Bᵀ = V⁻ᵀ`;
#   a scale on a row of `Bᵀ` may move to the same row of `G`, which is
#   applied to the filter once, not to every tile.

# %%
points = [0, 1, -1]


def evaluation(cols):
    """Rows [1, p, p**2, ...] for each point, then the point at infinity."""
    rows = [[p**k for k in range(cols)] for p in points]
    return np.array([*rows, [0] * (cols - 1) + [1]], dtype=float)


AT, G, BT = evaluation(2).T, evaluation(3), np.linalg.inv(evaluation(4)).T
scale = 1 / np.abs(BT).max(axis=1)       # B.T's rows to entries 0 and ±1,
BT, G = BT * scale[:, None], G / scale[:, None]   # the inverse scale into G


def show(name, mat):
    print(f"{name} =", [[str(Fraction(v).limit_denominator(100)) for v in row] for row in mat])


for name, mat in [("A.T", AT), ("G", G), ("B.T", BT)]:
    show(name, mat)

rng = np.random.default_rng(0)
d, g = rng.standard_normal(4), rng.standard_normal(3)
direct = np.array([g @ d[i:i + 3] for i in range(2)])
products = (G @ g) * (BT @ d)
assert np.allclose(AT @ products, direct)
assert set(np.unique(np.abs(BT))) <= {0, 1}
assert set(np.unique(np.abs(AT))) <= {0, 1}
print(f"direct: {direct.size * g.size} multiplies; Winograd: {products.size} "
      "(G @ g is made once per filter; B.T and A.T only add and subtract)")

# %% [markdown]
# The prototype derives the same matrices in exact fractions, for any
# points, and scales each row of `Bᵀ` to small integers (the inverse scale
# goes into `G`, made once per filter). The two computations agree on any
# input; F(4, 3) takes the points 0, ±1, ±2 and infinity, as Lavin and Gray do:

# %%
at2, g2, bt2 = (wc.as_array(v) for v in wc.matrices(2))
assert np.allclose(at2 @ ((g2 @ g) * (bt2 @ d)), direct)
for m in wc.POINTS:
    print(f"F({m}, 3):")
    for name, mat in zip(("A.T", "G", "B.T"), wc.matrices(m)):
        print(f"  {name} =", [[str(v) for v in row] for row in mat])

# %% [markdown]
# ## Two dimensions, and what float32 loses
#
# Nesting the 1-D algorithm along the height and the width gives F(m x m,
# 3 x 3): an `(m + 2) x (m + 2)` input tile `D` and a 3x3 filter `g` give the
# `m x m` output tile `Aᵀ [(G g Gᵀ) * (Bᵀ D B)] A`. Checked here on one tile
# against the direct correlation, with the multiplies per output tile
# counted:

# %%
for m in wc.POINTS:
    at, gm, bt = (wc.as_array(v) for v in wc.matrices(m))
    tile, k = rng.standard_normal((m + 2, m + 2)), rng.standard_normal((3, 3))
    direct2 = np.array([[np.sum(k * tile[i:i + 3, j:j + 3]) for j in range(m)]
                        for i in range(m)])
    assert np.allclose(at @ ((gm @ k @ gm.T) * (bt @ tile @ bt.T)) @ at.T, direct2)
    print(f"F({m}x{m}, 3x3): {(m + 2) ** 2} multiplies per {m}x{m} output tile instead "
          f"of {m * m * 9} ({m * m * 9 / (m + 2) ** 2:.2f} times fewer); largest entry "
          f"of B.T {np.abs(bt).max():g}, of A.T {np.abs(at).max():g}; the transformed "
          f"input is {(m + 2) ** 2 / m**2:.2f} times the input")

# %% [markdown]
# Across channels, the products of a layer are summed over `C` for each of
# the `(m + 2)²` tile positions: one matrix multiply per position,
# `(F, C) @ (C, tiles)`, all of them in one `np.matmul`. The larger tile
# saves more multiplies, but its matrices have larger entries (the points ±2
# give powers of 2 in `Aᵀ` and larger coefficients in `Bᵀ`), and the
# transforms add and subtract terms of different sizes, so rounding errors
# grow. Measured on one small layer, float32 against the same layer in
# float64, as the largest error relative to the largest output:

# %%
def rel_error(out, ref):
    return float(np.abs(out - ref).max() / np.abs(ref).max())


rows = ["| channels C | im2col + GEMM | F(2x2, 3x3) | F(4x4, 3x3) |", "| --- | --- | --- | --- |"]
for c in (16, 64, 256):
    x = rng.standard_normal((2, c, 12, 12)).astype(np.float32)
    w = rng.standard_normal((16, c, 3, 3)).astype(np.float32)
    ref = winograd.im2col_gemm(x.astype(np.float64), w.astype(np.float64), padding=1)
    errs = [rel_error(winograd.im2col_gemm(x, w, padding=1), ref)]
    errs += [rel_error(wc.conv2d(x, w, padding=1, m=m), ref) for m in wc.POINTS]
    rows.append(f"| {c} | " + " | ".join(f"{e:.1e}" for e in errs) + " |")
display(Markdown("\n".join(rows)))

# %% [markdown]
# ## The stages, measured
#
# `benchmarks/winograd.py` times each stage of the prototype on the whole
# batch, with its operands made in advance, and the whole forward pass,
# against im2col + GEMM (`im2col.conv2d` made to use its `im2col`
# strategy) and PyTorch's `conv2d`, interleaved in one
# process, float32, two threads. The whole pass does not run the stages one
# after the other on the batch: it cuts the batch into chunks of images and
# runs every stage of a chunk while its buffers are in cache, so it can take
# less than the sum of its stages. Each transform is made two ways, and the
# whole pass uses the faster one of each:
#
# - `input`, `output`: one NumPy ufunc per nonzero matrix entry over whole
#   arrays, the height pass on rows of the padded image, the width pass on
#   rows of its result;
# - `input gemm`, `output gemm`: the tiles copied in C order, then one
#   matrix multiply by `kron(Bᵀ, Bᵀ)` (or `kron(Aᵀ, Aᵀ)`) for all of them;
# - `filter`: `kron(G, G)` times the filters, one GEMM;
# - `products`: the `(m + 2)²` matrix multiplies, one `np.matmul`.
#
# The last full run (`python -m benchmarks.winograd`), labelled with the
# machine it ran on; the machine may have been shared, so compare ratios
# within a run, not times across runs. The stacked bars add up the stages
# the whole pass uses; the table lists every stage, both ways of each
# transform included:

# %% tags=["hide-input"]
# Drawing code of the figure below
import base64
from html import escape
from io import BytesIO

import matplotlib.pyplot as plt
from IPython.display import HTML

plt.rcParams["font.size"] = 13


def stage_names(m):
    """The stages the whole pass of F(m x m) runs, in their order."""
    way_in, way_out = wc.TRANSFORMS[m]
    return ["filter", "input" + (" gemm" if way_in == "gemm" else ""), "products",
            "output" + (" gemm" if way_out == "gemm" else "")]


def show_figure(fig, alt):
    """Show a figure as an SVG image, with alt text for screen readers."""
    buf = BytesIO()
    fig.savefig(buf, format="svg", metadata={"Date": None})
    plt.close(fig)
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    display(HTML(f'<div class="figure-scroll"><img class="figure" alt="{escape(alt)}" '
                 f'src="data:image/svg+xml;base64,{data}"></div>'))


fig, axes = plt.subplots(len(full["cases"]), 1, figsize=(8, 4.5 * len(full["cases"])),
                         layout="constrained")
colors = plt.get_cmap("tab10").colors
described = []
for ax, c in zip(np.atleast_1d(axes), full["cases"], strict=True):
    ms = {k: v["median"] * 1e3 for k, v in c["methods"].items()}
    bars = [("im2col + GEMM", [("whole", ms["im2col"])])]
    if "torch" in ms:
        bars.append(("PyTorch", [("whole", ms["torch"])]))
    for m in wc.POINTS:
        bars.append((f"F({m}x{m}) whole", [("whole", ms[f"F{m}"])]))
        bars.append((f"F({m}x{m}) stages", [(n, ms[f"F{m} {n}"]) for n in stage_names(m)]))
    kinds = ["whole", *dict.fromkeys(n.split()[0] for m in wc.POINTS for n in stage_names(m))]
    for row, (_, parts) in enumerate(bars):
        left = 0.0
        for name, value in parts:
            kind = kinds.index(name.split()[0])
            ax.barh(row, value, left=left, color=colors[kind],
                    label=name.split()[0] if row == len(bars) - 1 or name == "whole" else None)
            left += value
    ax.set_yticks(range(len(bars)), [label for label, _ in bars])
    ax.invert_yaxis()
    ax.set_xlabel("ms per call (median)")
    ax.set_title(f"{c['shape']} {c['label']}", fontsize=11)
    handles, names = ax.get_legend_handles_labels()
    unique = dict(zip(names, handles, strict=True))
    ax.legend(unique.values(), unique.keys(), fontsize=10, loc="lower right")
    described.append(f"{c['shape']}: " + ", ".join(
        f"{label} {sum(v for _, v in parts):.3g} ms" for label, parts in bars))
fig.suptitle(full["label"], fontsize=11, wrap=True)
show_figure(fig, "Horizontal bars of the last full run, one panel per layer: the time of "
            "im2col + GEMM, PyTorch, and of each Winograd tile size, whole and as the sum "
            "of its stages (filter, input, products, output transforms). "
            + "; ".join(described) + f". Measured on {full['label']}.")

# %%
display(Markdown(winograd.markdown(full)))

# %% [markdown]
# The same layers with the batch cut to two images and three rounds, run
# while this site was built, on the machine that built it. In a notebook
# kernel (it runs threads of its own) `im2col.conv2d` runs on the
# calling thread with BLAS's threads (see [the speed page](../speed/)); the prototype
# always uses two workers. Three short rounds are easily disturbed: compare
# a surprising ratio with the full run above.

# %%
small = winograd.measure(batch=2, rounds=3)
display(Markdown(f"{small['seconds']} s for the whole small run.\n\n"
                 + winograd.markdown(small)))

# %% [markdown]
# ## What the prototype's numbers say
#
# Computed from the last full run:

# %%
def verdict(res):
    out = []
    for c in res["cases"]:
        ms, err = c["methods"], c["error"]
        for m in wc.POINTS:
            faster = ms[f"F{m}"]["vs_im2col"] < 1
            close = err[f"F{m}"] <= 2 * err["im2col"]
            out.append(f"- {c['shape']}, F({m}x{m}, 3x3): "
                       + ("faster" if faster else "not faster") + " than im2col + GEMM, "
                       + ("within" if close else "beyond") + " twice its float32 error; "
                       + ("faster" if ms[f"F{m}"]["vs_torch"] and ms[f"F{m}"]["vs_torch"] < 1
                          else "not faster") + " than PyTorch's `conv2d`.")
    return "\n".join(out)


display(Markdown(verdict(full)))

# %% [markdown]
# Beyond the numbers, what holds on any machine:
#
# - **Only 3x3, stride 1.** The transforms are made for one kernel size and
#   one step; a strided, dilated or grouped layer, or a 7x7 first layer,
#   needs other matrices or does not fit at all, so a library that uses
#   Winograd keeps im2col (or a direct method) for the rest. oneDNN, for
#   instance, documents its Winograd convolution for 2-D 3x3 stride-1 layers
#   only, chosen on request or by its automatic choice
#   ([MKL-DNN's Winograd page](https://oneapi-src.github.io/oneDNN/v0/winograd_convolution.html)).
# - **Error grows with the tile.** The larger tile saves the most multiplies
#   and loses the most precision (the table of errors above); whether that is
#   acceptable depends on the network, which is why a library makes the
#   large tile a choice, not a default.
# - **More memory traffic for fewer flops.** The transformed input is
#   `(m + 2)² / m²` times the input it comes from (printed with the tile
#   check above), and the transforms read and write it once more: where
#   BLAS is fast, the saved multiplies are cheap and the passes are not;
#   where BLAS is slow, the saved multiplies count for more.

# %% [markdown]
# ## What im2col.conv2d does
#
# It uses the small tile, its `winograd` strategy, on layers with a 3x3
# kernel, stride 1 and no dilation that are large enough, by the bounds
# printed below from the package's own thresholds (`im2col._rules`), and
# in the backward pass only where its buffers also take no more memory
# than those of the strategy it replaces; elsewhere im2col + GEMM.

# %%
from math import isqrt

from im2col import _rules


def as_square(count):
    """``count`` as "n x n" when it is a square, else as itself."""
    side = isqrt(count)
    return f"{side}x{side}" if side * side == count else str(count)


rule_c, rule_px = _rules.WINOGRAD_CHANNELS, _rules.WINOGRAD_PIXELS
rule_work = _rules.WINOGRAD_BACKWARD_WORK
print(f"both passes: at least {rule_c} input channels and {rule_c} filters per "
      f"group, and at least {rule_px} output pixels per image ({as_square(rule_px)})")
print(f"backward pass, besides: channels x filters (both per group) x output pixels "
      f"per image at least {rule_work}"
      + (f" ({rule_c} x {rule_c} x {as_square(rule_work // rule_c**2)})"
         if rule_work % rule_c**2 == 0 else ""))

# %% [markdown]
# A grouped layer's 16 products are made per group, all in one `np.matmul` over a
# stack of 16 x groups, while its transforms cover every channel, so
# groups of few channels make the transforms dear beside the products it
# saves: that is why the counts are per group. In the forward pass it
# is F(2x2, 3x3) as above. In the backward pass the input gradient, the
# correlation of `dout` padded by 2 with the filters turned by 180
# degrees, is F(2x2, 3x3) too (made only where the input is, not on its
# zero padding, when a unit holds whole images), and the filters' gradient
# is F(3x3, 2x2): the same input tiles correlated with 2x2 tiles of
# `dout`, summed over all tiles in 16 matrix multiplies and transformed
# back once. The rule comes from `python -m benchmarks.ideas`
# (`winograd_rule`): the time with the `winograd` strategy over the time
# of the package's choice without it (below 1: faster), on 3x3 layers of
# as many filters as channels, in one group or several:

# %%
ideas = json.loads(Path("benchmarks/results/ideas.json").read_text())
rows = ["| images x channels x size | groups | forward | backward |",
        "| --- | --- | --- | --- |"]
rows += [f"| {r['images']} x {r['channels']} x {r['size']}x{r['size']} | {r['groups']} "
         f"| {r['forward']:.2f} | {r['backward']:.2f} |" for r in ideas["winograd_rule"]]
display(Markdown(f"Float32, two threads, {ideas['machine']}:\n\n" + "\n".join(rows)))

# %% [markdown]
# Its passes over the tiles are not the prototype's. A pass of `B.T` reads
# inputs 0 to 3 of every tile, and tiles start every second element: read
# in place, every operand is a strided view, which NumPy's ufuncs walk
# element by element. The package first copies the padded band's four
# phases apart (even or odd rows by even or odd columns), one plane of
# `(th + 1) x (tw + 1)` per channel and image. In a plane, input `(a, b)` of
# the tile at `t` is phase `(a % 2, b % 2)` at `t + (a // 2)*(tw + 1) + b // 2`,
# so each row of `B.T` is one subtraction or addition of two contiguous
# runs of the whole array (the plane's last row and column give values no
# tile reads). The transformed 2x2 tiles of `dout` (for the filters'
# gradient) have its four phases in their corners, and each other entry
# is the sum or difference of two entries already made. Both ways, one
# thread, on one image of S3 and on two of S4 (`python -m
# benchmarks.passes`):

# %%
passes = json.loads(Path("benchmarks/results/passes.json").read_text())
rows = ["| unit | input tiles, strided | contiguous | dout's tiles, strided | contiguous |",
        "| --- | --- | --- | --- | --- |"]
for r in passes["winograd_passes"]:
    t = r["ms"]
    assert r["same"]  # both ways give the same tiles
    rows.append(f"| {r['layer']}: {r['images']} x {r['channels']} x {r['size']}x{r['size']} "
                f"| {t['input, strided']:.3f} ms | {t['input, contiguous']:.3f} ms "
                f"({t['input, strided'] / t['input, contiguous']:.1f}x faster) "
                f"| {t['dout, strided']:.3f} ms | {t['dout, contiguous']:.3f} ms "
                f"({t['dout, strided'] / t['dout, contiguous']:.1f}x faster) |")
display(Markdown(f"One thread, {passes['machine']}:\n\n" + "\n".join(rows)))

# %% [markdown]
# A unit is one or more whole images. On S3 one image's transformed tiles
# and their products are larger than a core's L2 cache, so cutting the
# image into bands of output rows might keep the stages in cache. Below,
# the strategy forced onto bands of 28, 14 or 8 output rows of one image,
# over the same plan on whole images (above 1: slower), float32, BLAS on
# one thread per worker (`python -m benchmarks.bands`). Some bands paid in
# the forward pass on one worker, none on two workers (the default on a
# two-core machine) and none in the backward pass, which on bands also
# loses its shortcut for whole images (the input gradient made only where
# the input is, not on its padding). So the planner cuts bands only under
# `max_memory`, and a call on one worker (the default when other Python
# threads are running) leaves the forward pass's gain on S3 where it is.

# %%
bands = json.loads(Path("benchmarks/results/bands.json").read_text())
cuts = [k for k in bands["layers"][0] if k.endswith(" rows / whole")]
rows = ["| layer | tiles and products of one image | pass | workers | whole images | "
        + " | ".join(cuts) + " |",
        "| --- | --- | --- | --- | --- | " + " | ".join("---" for _ in cuts) + " |"]
for r in bands["layers"]:
    assert r["same result"]  # every band plan gives the whole images' result
    rows.append(f"| {r['layer']} | {r['V and M of one image, MiB']:.1f} MiB | {r['pass']} "
                f"| {r['setting']} | {r['whole images, ms']:.1f} ms | "
                + " | ".join(f"{r[k]:.2f}" if k in r else "" for k in cuts) + " |")
display(Markdown(f"{bands['machine']}, L2 {bands['L2']} per core:\n\n" + "\n".join(rows)))
l2 = int(bands["L2"].rstrip("KM")) * 2 ** (10 if bands["L2"].endswith("K") else 20)
s3 = next(r for r in bands["layers"] if r["layer"] == "S3")
assert s3["V and M of one image, MiB"] * 2**20 > l2  # S3's tiles do not fit L2
# what the text above says of them
gains = [r for r in bands["layers"] if min(r[k] for k in cuts if k in r) < 1]
assert gains
assert all(r["pass"] == "forward" and r["setting"] == "one worker" for r in gains)
assert any(r["layer"] == "S3" for r in gains)

# %% [markdown]
# The other way round, a unit of more images: each of the 16 products is
# then wider (a 14x14 image has only 49 tiles) and the transformed filters
# are read once per unit, not once per image, but every worker's tiles and
# products grow with the unit. Below, units of 2 and 4 whole images over
# units of one (below 1: faster), two workers, with the buffers of each
# plan (`im2col._plan.extra_bytes`) beside those of the plan the package
# would choose without Winograd (`python -m benchmarks.bands`, `units`).
# Wherever more images gained more than a few percent, they took more
# memory than that plan, and up to twice or four times that of one image.
# The package sizes Winograd's units as it sizes the others', to a few MiB
# of buffers per call, which one image of these layers already exceeds, so
# their units hold one image; a larger unit would buy this time with that
# memory.

# %%
units = bands["units"]
sizes = [k.split()[0] for k in units[0] if k.endswith(" images / one")]
rows = ["| layer | pass | one image | without Winograd | "
        + " | ".join(f"{k} images" for k in sizes) + " |",
        "| --- | --- | --- | --- | " + " | ".join("---" for _ in sizes) + " |"]
for r in units:
    assert r["same result"]  # every unit size gives the one-image units' result
    rows.append(f"| {r['layer']} | {r['pass']} | {r['one image, ms']:.1f} ms, "
                f"{r['one image, MiB']:.1f} MiB | {r['without Winograd']}, "
                f"{r['without Winograd, MiB']:.1f} MiB | "
                + " | ".join(f"{r[f'{k} images / one']:.2f}x the time, "
                             f"{r[f'{k} images, MiB']:.1f} MiB" for k in sizes) + " |")
display(Markdown(f"{bands['machine']}, two workers:\n\n" + "\n".join(rows)))
# what the text above says of them
gains = [(r, k) for r in units for k in sizes if r[f"{k} images / one"] < 0.95]
assert gains
assert all(r[f"{k} images, MiB"] > r["without Winograd, MiB"] for r, k in gains)

# %% [markdown]
# Three other ways of these passes were measured and not shipped
# (`python -m benchmarks.tiles`, each checked against the package's
# result): the width pass written straight into `V` through views of its
# operands (no copy into `V`, but runs only as long as a row of tiles);
# each row of `B.T`'s four products made as soon as its pass is, from the
# work array still in cache, with no `V` (but over the planes' unused last
# row and column too); and the filters' gradient's 16 products made 4 or
# 16 per call, each batch added to the workers' shared sum under one lock,
# instead of one by one. Their time over the package's way (above 1:
# slower); none gained more than a few percent:

# %%
tiles = json.loads(Path("benchmarks/results/tiles.json").read_text())
ratios = []
rows = ["| way | unit or layer | time / the package's |", "| --- | --- | --- |"]
for key, way in (("into_v", "input tiles into V"), ("no_v", "products without V")):
    for r in tiles[key]:
        assert r["same"]  # the same tiles, the same output
        other = next(k for k in r["ms"] if k != "package")
        ratios.append(r["ms"][other] / r["ms"]["package"])
        images = f"{r['images']} image" + ("s" if r["images"] > 1 else "")
        rows.append(f"| {way} | {r['unit']}, {images}, one thread | {ratios[-1]:.2f} |")
for r in tiles["dw_batches"]:
    assert r["same"]
    for k in ("4", "16"):
        ratios.append(r["ms"][k] / r["ms"]["1"])
        rows.append(f"| filters' gradient, {k} products per call | {r['layer']} backward, "
                    f"{r['setting']} | {ratios[-1]:.2f} |")
display(Markdown(f"{tiles['machine']}:\n\n" + "\n".join(rows)))
assert min(ratios) > 0.94  # what the text above says: a few percent at most

# %% [markdown]
# And its float32 error on a 64-channel layer it computes that way,
# against im2col + GEMM's, both relative to the float64 result:

# %%
x = rng.standard_normal((2, 64, 28, 28)).astype(np.float32)
w = rng.standard_normal((64, 64, 3, 3)).astype(np.float32)
exact = winograd.im2col_gemm(x.astype(np.float64), w.astype(np.float64), padding=1)
ours = rel_error(im2col.conv2d(x, w, padding=1), exact)
gemm = rel_error(winograd.im2col_gemm(x, w, padding=1), exact)
print(f"im2col.conv2d {ours:.1e}, im2col + GEMM {gemm:.1e}: {ours / gemm:.2f} times")
