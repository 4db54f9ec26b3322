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
# # What does the buffer look like?
#
# **Short answer.** A C-ordered NCHW array is one flat buffer that holds
# `x[n, c, h, w]` in index order: `w` fastest, then `h`, then `c`, then
# `n`. One `K x K` window of the input padded to `Hp x Wp` is, in that
# buffer, `C*K` runs of `K` consecutive elements: the runs of one channel
# `Wp` apart, the channels `Hp*Wp` apart, which are the first three
# strides of cs231n's tuple, counted in elements. The im2col matrix holds
# a copy of each window in one of its columns.
# Below are pictures of the buffer, of one window and of the im2col matrix
# of a small example, drawn at build time; the code before each picture
# checks what it shows.
#
# Nothing is placed by hand: every highlighted cell is an element that
# `window_view` or `im2col` from this package hands out. The drawing code
# under each picture is folded away; open it to see how the picture is made.
#
# 1. The memory order of a C-ordered NCHW array: the flat buffer, and where
#    each cell sits in the 4-D picture.
# 2. One window of the padded input: its elements in the 2-D picture and in
#    the flat buffer.
# 3. The im2col matrix, with the column that holds that window.
#
# The text explains each step in [Where is x\[n, c, h, w\] in memory?](../../layout/)
# and [Where do the six strides come from?](../../six-strides/). This page
# needs `matplotlib` besides NumPy and the package.

# %%
import numpy as np

from im2col import im2col, window_view

N, C, H, W = 2, 2, 3, 4
x = np.arange(N * C * H * W, dtype=np.float64).reshape(N, C, H, W)
print("shape", x.shape, "strides", x.strides, "itemsize", x.itemsize)

# %% tags=["hide-input"]
# Drawing helpers: colours, labelled cells, SVG output with a description
import base64
from html import escape
from io import BytesIO

import matplotlib.pyplot as plt
from IPython.display import HTML, display
from matplotlib.patches import Patch, Rectangle

# One colour per meaning. Planes (n, c): blue for image 0, green for
# image 1, the lighter shade for channel 1. Padding: grey. Read by the
# window: orange (padding read by the window: grey, hatched orange).
PLANE_COLORS = {(0, 0): "#6baed6", (0, 1): "#c6dbef",
                (1, 0): "#74c476", (1, 1): "#c7e9c0"}
PADDING, WINDOW = "#d9d9d9", "#fd8d3c"


def show(fig, alt):
    """Show a figure as an SVG image, with alt text for screen readers."""
    buf = BytesIO()
    fig.savefig(buf, format="svg", metadata={"Date": None})
    plt.close(fig)
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    display(HTML(f'<div class="figure-scroll"><img class="figure" alt="{escape(alt)}" '
                 f'src="data:image/svg+xml;base64,{data}"></div>'))


def cell(ax, col, row, text, *, plane=None, padding=False, hit=False,
         fontsize=13):
    """One labelled unit square, top-left corner at (col, row)."""
    face = PADDING if padding else PLANE_COLORS[plane]
    if hit and not padding:
        face = WINDOW
    ax.add_patch(Rectangle((col, row), 1, 1, facecolor=face,
                           edgecolor="black" if hit else "white",
                           linewidth=2.0 if hit else 1.0,
                           hatch="//" if hit and padding else None,
                           hatchcolor=WINDOW))
    ax.text(col + 0.5, row + 0.5, text, ha="center", va="center",
            fontsize=fontsize)


def tidy(ax, width, height, title, fontsize=13):
    """Fit the axes to a width x height grid with row 0 at the top."""
    ax.set_xlim(-0.2, width + 0.2)
    ax.set_ylim(height + 0.2, -0.2)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title(title, fontsize=fontsize)


def legend(fig, window=False):
    """The colour key, below the figure."""
    handles = [Patch(facecolor=PLANE_COLORS[n, c], label=f"n={n}, c={c}")
               for n in range(N) for c in range(C)]
    if window:
        handles += [Patch(facecolor=PADDING, label="padding"),
                    Patch(facecolor=WINDOW, edgecolor="black", label="read by the window"),
                    Patch(facecolor=PADDING, edgecolor="black", hatch="//",
                          hatchcolor=WINDOW, label="padding read by the window")]
    fig.legend(handles=handles, loc="outside lower center", ncol=2 if window else 4,
               fontsize=12,
               frameon=False)


# %% [markdown]
# ## 1. The memory order of a small NCHW array
#
# `x` has shape `(N, C, H, W) = (2, 2, 3, 4)`. Each cell shows the element
# offset of `x[n, c, h, w]`, computed from `x.strides` (bytes) divided by
# `x.itemsize`. Reading the flat buffer from left to right walks `w` fastest,
# then `h`, then `c`, then `n`: each plane of `H*W` cells is one channel of
# one image. The flat buffer is drawn one plane per line.

# %%
def element_offset(a, index):
    """Element offset of a[index], from the array's own byte strides."""
    return sum(i * s for i, s in zip(index, a.strides, strict=True)) // a.itemsize


offsets_x = np.array([element_offset(x, i) for i in np.ndindex(x.shape)])
print("offsets in index order (n, c, h, w):", offsets_x.tolist())
print("they count 0, 1, 2, ... :", np.array_equal(offsets_x, np.arange(x.size)))
assert np.array_equal(offsets_x, np.arange(x.size))  # index order is buffer order

# %% tags=["hide-input"]
# Drawing code of picture 1
fig = plt.figure(figsize=(8, 6.2), layout="constrained")
grid = fig.add_gridspec(2, 2 * C, height_ratios=[1, 1.45])
for n in range(N):
    for c in range(C):
        ax = fig.add_subplot(grid[0, n * C + c])
        for h in range(H):
            for w in range(W):
                cell(ax, w, h, element_offset(x, (n, c, h, w)), plane=(n, c))
        tidy(ax, W, H, f"x[{n}, {c}]")
ax = fig.add_subplot(grid[1, :])
for n, c, h, w in np.ndindex(x.shape):
    k = element_offset(x, (n, c, h, w))
    cell(ax, k % (H * W), 1.3 * (k // (H * W)), k, plane=(n, c))
tidy(ax, H * W, 1.3 * N * C, f"the flat buffer, one line per plane of H*W = {H * W}")
legend(fig)
held = ", ".join(f"plane ({n}, {c}) {p * H * W} to {(p + 1) * H * W - 1}"
                 for p, (n, c) in enumerate(np.ndindex(N, C)))
show(fig, f"Picture 1. Top: the {N * C} {H}-by-{W} planes of x, for n from 0 to {N - 1} "
     f"and c from 0 to {C - 1}, each cell labelled with its element offset, row by "
     f"row: {held}. Bottom: the same {x.size} offsets as the flat buffer, in order, "
     f"one line of {H * W} per plane, coloured by plane.")

# %% [markdown]
# ## 2. One window, in the image and in the buffer
#
# Pad `x` by one zero on each side (grey cells) and take the 3x3 window of
# image `n = 1` at output position `(y, x) = (0, 1)`, stride 1: its top row
# lies in the padding. The padded array `xp` here holds its own element
# offsets as values, so the window that `window_view` returns *is* the list
# of buffer offsets it reads.

# %%
pad, K, STRIDE = 1, 3, 1
n_sel, y_sel, x_sel = 1, 0, 1
Hp, Wp = H + 2 * pad, W + 2 * pad
xp = np.arange(N * C * Hp * Wp).reshape(N, C, Hp, Wp)  # value = own offset
is_pad = np.ones((Hp, Wp), dtype=bool)
is_pad[pad:pad + H, pad:pad + W] = False

view = window_view(xp, K, stride=STRIDE)                # (C, K, K, N, oh, ow)
window = view[:, :, :, n_sel, y_sel, x_sel]             # (C, K, K) offsets
chosen = set(window.ravel().tolist())
print("view shape", view.shape, "strides", view.strides)
print("offsets read by window (n, y, x) =", (n_sel, y_sel, x_sel), ":")
print(window)
runs = window.reshape(C * K, K)                         # one row of one channel each
assert (np.diff(runs, axis=1) == 1).all()               # C*K runs of K consecutive offsets

# %% tags=["hide-input"]
# Drawing code of picture 2
plane = Hp * Wp
fig = plt.figure(figsize=(8, 11.5), layout="constrained")
grid = fig.add_gridspec(3, 2, height_ratios=[3.1, 3.1, 2.1])
for n in range(N):
    for c in range(C):
        ax = fig.add_subplot(grid[n, c])
        for h in range(Hp):
            for w in range(Wp):
                k = int(xp[n, c, h, w])
                cell(ax, w, h, k, plane=(n, c), padding=is_pad[h, w], hit=k in chosen)
        tidy(ax, Wp, Hp, f"xp[{n}, {c}], padded to {Hp}x{Wp}")
ax = fig.add_subplot(grid[2, :])
line = 4 * Wp                                           # four padded rows per line
for k in range(xp.size):
    n, c, h, w = np.unravel_index(k, xp.shape)
    cell(ax, k % line, 1.15 * (k // line), k, plane=(n, c), padding=is_pad[h, w],
         hit=k in chosen, fontsize=10)
tidy(ax, line, 1.15 * xp.size / line,
     f"the flat buffer, {line} elements (four padded rows) per line")
legend(fig, window=True)
rows_read = [sorted(int(v) for v in window[c, i]) for c in range(C) for i in range(K)]
show(fig, f"Picture 2. The {N * C} padded {Hp}-by-{Wp} planes of xp, cells labelled "
     f"with their offsets; padding cells grey. The window of image {n_sel} at output "
     f"position ({y_sel}, {x_sel}) is outlined in the {C} channels of image {n_sel}: "
     f"{K} rows of {K} cells per channel"
     + (", its top row in the padding" if y_sel * STRIDE < pad else "")
     + f". Below, the flat buffer {line} elements per line, where the window is "
     f"{len(rows_read)} runs of {K} consecutive offsets: {rows_read}.")

# %% [markdown]
# The outlined cells are `C = 2` blocks of three rows of three: inside a row
# the offsets step by 1 (the stride of axis `j`), from row to row by `Wp`
# (axis `i`), from channel to channel by `Hp*Wp` (axis `c`). Those are the
# first three strides of cs231n's tuple, counted in elements.

# %%
steps = view.strides[:3]
print("strides of the axes (c, i, j) in elements:",
      tuple(s // xp.itemsize for s in steps), "= (Hp*Wp, Wp, 1) =",
      (Hp * Wp, Wp, 1))
assert tuple(s // xp.itemsize for s in steps) == (Hp * Wp, Wp, 1)

# %% [markdown]
# ## 3. The im2col matrix
#
# `im2col` copies the view into a matrix of `C*K*K` rows (one per kernel tap
# `(c, i, j)`) and `N*oh*ow` columns (one per window `(n, y, x)`). Applied to
# the offset-valued `xp` of picture 2, each entry of the matrix is the buffer
# offset it was copied from; the check below confirms that the im2col matrix
# of real data, `im2col(x, 3, padding=1)`, is the padded buffer gathered at
# exactly these offsets. The highlighted column is the window of picture 2:
# column `(n*oh + y)*ow + x`.

# %%
offsets = im2col(xp, K, stride=STRIDE)                  # (C*K*K, N*oh*ow)
cols = im2col(x, K, stride=STRIDE, padding=pad)         # the real im2col
x_padded = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
print("im2col(x) == padded buffer gathered at the offsets:",
      np.array_equal(cols, x_padded.ravel()[offsets]))
assert np.array_equal(cols, x_padded.ravel()[offsets])
oh, ow = view.shape[4:]
col_sel = (n_sel * oh + y_sel) * ow + x_sel
print("matrix shape", offsets.shape, "; window", (n_sel, y_sel, x_sel),
      "is column", col_sel, "; same offsets as picture 2:",
      np.array_equal(offsets[:, col_sel], window.ravel()))
assert np.array_equal(offsets[:, col_sel], window.ravel())  # a column is a window

# %% tags=["hide-input"]
# Drawing code of picture 3
rows, ncols = offsets.shape
fig, ax = plt.subplots(figsize=(8, 6.6), layout="constrained")
for r in range(rows):
    for q in range(ncols):
        k = int(offsets[r, q])
        n, c, h, w = np.unravel_index(k, xp.shape)
        cell(ax, q, r, k, plane=(n, c), padding=is_pad[h, w], hit=q == col_sel,
             fontsize=9)
    c, rest = divmod(r, K * K)
    i, j = divmod(rest, K)
    ax.text(-0.3, r + 0.5, f"c={c} i={i} j={j}", ha="right", va="center", fontsize=10)
for q in range(ncols):
    n, rest = divmod(q, oh * ow)
    y, xx = divmod(rest, ow)
    ax.text(q + 0.5, -0.2, f"{n},{y},{xx}", ha="center", va="bottom", fontsize=9,
            rotation=90)
ax.text(-0.3, -0.2, "n,y,x", ha="right", va="bottom", fontsize=10)
tidy(ax, ncols, rows, f"im2col(xp, {K}): {rows} rows (c, i, j), {ncols} columns "
     "(n, y, x)")
ax.set_xlim(-5.5, ncols + 0.2)
ax.set_ylim(rows + 0.2, -2.0)
legend(fig, window=True)
show(fig, f"Picture 3. The {rows} by {ncols} im2col matrix of xp, each entry the "
     "buffer offset it was copied from, coloured by plane (grey: padding). Rows "
     "are labelled by kernel tap (c, i, j), columns by window (n, y, x). Column "
     f"{col_sel}, the window {(n_sel, y_sel, x_sel)} of picture 2, is outlined: from top to "
     f"bottom it holds {offsets[:, col_sel].tolist()}.")

# %% [markdown]
# Row `(c*K + i)*K + j` of the matrix is kernel tap `(c, i, j)`, in the same
# order as the columns of `w.reshape(F, -1)`; so one matrix product
# `w.reshape(F, -1) @ cols` computes every filter at every window. Why this
# order, and why the product then needs `transpose(1, 0, 2, 3)`, is on
# [Where do the six strides come from?](../../six-strides/).
