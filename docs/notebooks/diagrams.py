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
# # Pictures of the buffer
#
# Three pictures of the same small example, drawn at build time by the code
# below. Nothing is placed by hand: every highlighted cell is an element
# that `window_view` or `im2col` from this package hands out.
#
# 1. The memory order of a C-ordered NCHW array: the flat buffer, and where
#    each cell sits in the 4-D picture.
# 2. One window of the padded input: its elements in the 2-D picture and in
#    the flat buffer.
# 3. The im2col matrix, with the column that holds that window.
#
# The text explains each step in [Where is x\[n, c, h, w\] in memory?](../../layout/)
# and [Where do the six strides come from?](../../six-strides/).

# %%
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Rectangle

from im2col import im2col, window_view

plt.rcParams["figure.dpi"] = 100

N, C, H, W = 2, 2, 3, 4
x = np.arange(N * C * H * W, dtype=np.float64).reshape(N, C, H, W)
print("shape", x.shape, "strides", x.strides, "itemsize", x.itemsize)

# One color per (n, c) plane of the buffer.
PLANE_COLORS = plt.get_cmap("tab20c")(np.array([0, 2, 8, 10]))


def plane_color(n, c, n_channels=C):
    """Color of plane (n, c): blues for image 0, greens for image 1."""
    return PLANE_COLORS[n * n_channels + c]


def cell(ax, col, row, text, face, *, edge="white", lw=1.0, fontsize=7,
         color="black"):
    """Draw one labelled unit square with its top-left corner at (col, row)."""
    ax.add_patch(Rectangle((col, row), 1, 1, facecolor=face, edgecolor=edge,
                           linewidth=lw))
    ax.text(col + 0.5, row + 0.5, text, ha="center", va="center",
            fontsize=fontsize, color=color)


def window_face(padding):
    """Highlight color of a window cell: light orange if it is padding."""
    return "#ffc98f" if padding else "tab:orange"


def tidy(ax, width, height, title):
    """Fit the axes to a width x height grid with row 0 at the top."""
    ax.set_xlim(-0.2, width + 0.2)
    ax.set_ylim(height + 0.2, -0.2)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title(title, fontsize=9)


# %% [markdown]
# ## 1. The memory order of a small NCHW array
#
# `x` has shape `(N, C, H, W) = (2, 2, 3, 4)`. Each cell shows the element
# offset of `x[n, c, h, w]`, computed from `x.strides` (bytes) divided by
# `x.itemsize`. Reading the flat buffer from left to right walks `w` fastest,
# then `h`, then `c`, then `n`: each plane of `H*W` cells is one channel of
# one image.

# %%
def element_offset(a, index):
    """Element offset of a[index], from the array's own byte strides."""
    return sum(i * s for i, s in zip(index, a.strides, strict=True)) // a.itemsize


fig = plt.figure(figsize=(11, 4.2), layout="constrained")
grid = fig.add_gridspec(2, N * C, height_ratios=[3, 1])
for n in range(N):
    for c in range(C):
        ax = fig.add_subplot(grid[0, n * C + c])
        for h in range(H):
            for w in range(W):
                cell(ax, w, h, element_offset(x, (n, c, h, w)),
                     plane_color(n, c), fontsize=9)
        tidy(ax, W, H, f"x[{n}, {c}, :, :]")
ax = fig.add_subplot(grid[1, :])
for n, c, h, w in np.ndindex(x.shape):
    k = element_offset(x, (n, c, h, w))
    cell(ax, k, 0, k, plane_color(n, c), fontsize=6)
for n in range(N):
    for c in range(C):
        start = (n * C + c) * H * W
        ax.text(start + H * W / 2, 1.45, f"n={n}, c={c}: {H * W} elements",
                ha="center", fontsize=8)
tidy(ax, x.size, 1.8, "the flat buffer, element offsets 0 .. N*C*H*W - 1")
plt.show()

# %% [markdown]
# ## 2. One window, in the image and in the buffer
#
# Pad `x` by one zero on each side (grey cells) and take the 3x3 window of
# image `n = 1` at output position `(y, x) = (0, 1)`, stride 1: its top row
# lies in the padding. The
# padded array `xp` here holds its own element offsets as values, so the
# window that `window_view` returns *is* the list of buffer offsets it reads.
# Each plane of the padded buffer is `Hp*Wp` elements long; the buffer is
# wrapped after every plane so that the window's `C*3` runs of 3 contiguous
# elements are visible.

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

fig = plt.figure(figsize=(11, 5.2), layout="constrained")
grid = fig.add_gridspec(2, N * C, height_ratios=[1.25, 1])
for n in range(N):
    for c in range(C):
        ax = fig.add_subplot(grid[0, n * C + c])
        for h in range(Hp):
            for w in range(Wp):
                k = int(xp[n, c, h, w])
                face = "0.85" if is_pad[h, w] else plane_color(n, c)
                hit = k in chosen
                cell(ax, w, h, k, window_face(is_pad[h, w]) if hit else face,
                     edge="black" if hit else "white", lw=1.5 if hit else 1.0)
        tidy(ax, Wp, Hp, f"xp[{n}, {c}]  ({Hp}x{Wp}, padded)")
ax = fig.add_subplot(grid[1, :])
plane = Hp * Wp
for k in range(xp.size):
    n, c, h, w = np.unravel_index(k, xp.shape)
    hit = k in chosen
    face = "0.85" if is_pad[h, w] else plane_color(n, c)
    cell(ax, k % plane, 1.3 * (k // plane), k,
         window_face(is_pad[h, w]) if hit else face,
         edge="black" if hit else "white", lw=1.2 if hit else 0.5, fontsize=5.5)
for row in range(N * C):
    ax.text(-0.5, 1.3 * row + 0.5, f"n={row // C}, c={row % C}", ha="right",
            va="center", fontsize=7)
tidy(ax, plane, 1.3 * N * C, f"the flat buffer, wrapped every Hp*Wp = {plane} "
     "elements; orange = the window (light: padding)")
ax.set_xlim(-4, plane + 0.2)
plt.show()

# %% [markdown]
# The orange cells are `C = 2` blocks of three rows of three: inside a row
# the offsets step by 1 (the stride of axis `j`), from row to row by `Wp`
# (axis `i`), from channel to channel by `Hp*Wp` (axis `c`). Those are the
# first three strides of the seed's tuple, counted in elements.

# %%
steps = view.strides[:3]
print("strides of the axes (c, i, j) in elements:",
      tuple(s // xp.itemsize for s in steps), "= (Hp*Wp, Wp, 1) =",
      (Hp * Wp, Wp, 1))

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
oh, ow = view.shape[4:]
col_sel = (n_sel * oh + y_sel) * ow + x_sel
print("matrix shape", offsets.shape, "; window", (n_sel, y_sel, x_sel),
      "is column", col_sel, "; same offsets as picture 2:",
      np.array_equal(offsets[:, col_sel], window.ravel()))

fig, (ax_m, ax_w) = plt.subplots(
    1, 2, figsize=(11, 5.8), layout="constrained",
    gridspec_kw={"width_ratios": [offsets.shape[1] + 5, C * (K + 1) + 1]},
)
rows, ncols = offsets.shape


def offset_face(k, hit=False):
    """Plane color of buffer offset k (grey: padding; orange if hit)."""
    n, c, h, w = np.unravel_index(k, xp.shape)
    if hit:
        return window_face(is_pad[h, w])
    return "0.85" if is_pad[h, w] else plane_color(n, c)


for r in range(rows):
    for q in range(ncols):
        k = int(offsets[r, q])
        hit = q == col_sel
        cell(ax_m, q, r, k, offset_face(k, hit),
             edge="black" if hit else "white", lw=1.2 if hit else 0.5,
             fontsize=5.5)
    c, rest = divmod(r, K * K)
    i, j = divmod(rest, K)
    ax_m.text(-0.3, r + 0.5, f"c={c} i={i} j={j}", ha="right", va="center",
              fontsize=6.5)
for q in range(ncols):
    n, rest = divmod(q, oh * ow)
    y, xx = divmod(rest, ow)
    ax_m.text(q + 0.5, -0.2, f"{n},{y},{xx}", ha="center", va="bottom",
              fontsize=6, rotation=90)
ax_m.text(-0.3, -0.2, "n,y,x", ha="right", va="bottom", fontsize=6.5)
tidy(ax_m, ncols, rows, f"im2col(xp, {K}): rows (c, i, j), columns (n, y, x); "
     "values = buffer offsets")
ax_m.set_xlim(-4.5, ncols + 0.2)
ax_m.set_ylim(rows + 0.2, -2.0)

# The highlighted column, folded back into its C windows of K x K.
for c in range(C):
    for i in range(K):
        for j in range(K):
            k = int(offsets[(c * K + i) * K + j, col_sel])
            cell(ax_w, c * (K + 1) + j, i, k, offset_face(k, True), edge="black",
                 lw=1.2, fontsize=8)
    ax_w.text(c * (K + 1) + K / 2, K + 0.6, f"c={c}", ha="center", fontsize=8)
tidy(ax_w, C * (K + 1), K + 1, f"column {col_sel} = window (n, y, x) = "
     f"({n_sel}, {y_sel}, {x_sel})")
plt.show()

# %% [markdown]
# Row `(c*K + i)*K + j` of the matrix is kernel tap `(c, i, j)`, in the same
# order as the columns of `w.reshape(F, -1)`; so one matrix product
# `w.reshape(F, -1) @ cols` computes every filter at every window. Why this
# order, and why the product then needs `transpose(1, 0, 2, 3)`, is on
# [Where do the six strides come from?](../../six-strides/).
