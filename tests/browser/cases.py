"""The explorer's case table, computed from the im2col package and NumPy.

Each case is a setting of the explorer's inputs and what the page must show
for it: padded sizes, output sizes, the view's shape and byte strides, the
strides of the padded array, the byte counts of the input, the padded copy
and the im2col matrix, and the element offsets of one window.

The offsets come from NumPy, not from a formula: a padded array filled with
``np.arange`` in its buffer's memory order holds, at every position, that
position's element offset in the buffer, so ``window_view`` of it lists the
offsets each window reads. They are cross-checked against the view's byte
strides here.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from im2col import conv_output_size, memory_bill, window_view

#: The explorer's numeric inputs, in the order of its form.
FIELDS = ("N", "C", "H", "W", "HH", "WW", "stride", "pad", "dilation", "n", "oy", "ox")

#: Keys of a setting: a name, the form's fields, dtype and layout.
KEYS = ("name", "N", "C", "H", "W", "HH", "WW", "stride", "pad", "dilation",
        "dtype", "layout", "n", "oy", "ox")

#: Hand-picked settings: padding, stride > 1, dilation, sizes the stride does
#: not divide, NHWC, several itemsizes, one window only, a buffer too big to draw.
HAND_PICKED: list[dict[str, Any]] = [dict(zip(KEYS, row, strict=True)) for row in [
    # name, N, C, H, W, HH, WW, stride, pad, dilation, dtype, layout, n, oy, ox
    ("defaults", 2, 3, 5, 5, 3, 3, 2, 1, 1, "float64", "NCHW", 0, 1, 1),
    ("cs231n 3x3 pad 1 float32", 2, 3, 8, 8, 3, 3, 1, 1, 1, "float32", "NCHW", 1, 4, 5),
    ("stride 2 does not divide", 1, 2, 8, 7, 3, 2, 2, 0, 1, "float64", "NCHW", 0, 2, 1),
    ("dilation 2 int8", 2, 2, 9, 7, 3, 2, 1, 1, 2, "int8", "NCHW", 1, 3, 2),
    ("NHWC float32 stride 2 pad 1", 2, 4, 6, 5, 3, 3, 2, 1, 1, "float32", "NHWC", 1, 2, 1),
    ("NHWC int8 dilation 2 stride 3", 1, 3, 10, 9, 2, 3, 3, 2, 2, "int8", "NHWC", 0, 1, 2),
    ("NHWC float16 1x1", 3, 5, 4, 3, 1, 1, 1, 0, 1, "float16", "NHWC", 2, 3, 2),
    ("kernel fills the padded input", 2, 2, 3, 4, 5, 6, 1, 1, 1, "float64", "NCHW", 1, 0, 0),
    ("1x4 kernel stride 3 uint8", 1, 1, 6, 11, 1, 4, 3, 0, 1, "uint8", "NCHW", 0, 1, 2),
    ("buffer and grid too big to draw", 4, 16, 32, 32, 5, 5, 1, 2, 1, "float32", "NCHW", 2, 17, 30),
    ("NHWC big int16", 2, 8, 20, 40, 3, 3, 2, 1, 1, "int16", "NHWC", 1, 9, 19),
]]

#: The explorer's dtype menu.
DTYPES = ("float64", "float32", "float16", "int64", "int32", "int16", "int8", "uint8")


def random_settings(count: int, seed: int = 5) -> list[dict[str, Any]]:
    """Return ``count`` valid random settings (small sizes, any option)."""
    rng = np.random.default_rng(seed)
    out: list[dict[str, Any]] = []
    while len(out) < count:
        s: dict[str, Any] = {
            "N": int(rng.integers(1, 4)), "C": int(rng.integers(1, 5)),
            "H": int(rng.integers(1, 12)), "W": int(rng.integers(1, 12)),
            "HH": int(rng.integers(1, 6)), "WW": int(rng.integers(1, 6)),
            "stride": int(rng.integers(1, 5)), "pad": int(rng.integers(0, 3)),
            "dilation": int(rng.integers(1, 4)),
            "dtype": str(rng.choice(DTYPES)), "layout": str(rng.choice(["NCHW", "NHWC"])),
        }
        try:
            oh = conv_output_size(s["H"], s["HH"], stride=s["stride"],
                                  padding=s["pad"], dilation=s["dilation"])
            ow = conv_output_size(s["W"], s["WW"], stride=s["stride"],
                                  padding=s["pad"], dilation=s["dilation"])
        except ValueError:
            continue  # no window fits: the invalid cases cover that
        s.update(n=int(rng.integers(0, s["N"])), oy=int(rng.integers(0, oh)),
                 ox=int(rng.integers(0, ow)))
        s["name"] = f"random {len(out)}"
        out.append(s)
    return out


def padded_arrays(s: dict[str, Any]) -> tuple[np.ndarray, np.ndarray, tuple[int, ...]]:
    """The padded input in NCHW axis order, its offset array, its buffer shape.

    For NHWC the padded array is ``(N, Hp, Wp, C)`` in C order, transposed
    to NCHW axis order without a copy, as the explorer reads it.
    """
    N, C, H, W, p = s["N"], s["C"], s["H"], s["W"], s["pad"]
    dtype = np.dtype(s["dtype"])
    if s["layout"] == "NCHW":
        xp = np.pad(np.zeros((N, C, H, W), dtype), ((0, 0), (0, 0), (p, p), (p, p)))
        values = np.arange(xp.size).reshape(xp.shape)
        return xp, values, xp.shape
    xp_nhwc = np.pad(np.zeros((N, H, W, C), dtype), ((0, 0), (p, p), (p, p), (0, 0)))
    values = np.arange(xp_nhwc.size).reshape(xp_nhwc.shape).transpose(0, 3, 1, 2)
    return xp_nhwc.transpose(0, 3, 1, 2), values, xp_nhwc.shape


def expected(s: dict[str, Any]) -> dict[str, Any]:
    """What the explorer must show for the setting ``s``."""
    kernel, opts = (s["HH"], s["WW"]), {"stride": s["stride"], "dilation": s["dilation"]}
    xp, values, buffer_shape = padded_arrays(s)
    view = window_view(xp, kernel, **opts)
    where = (s["n"], s["oy"], s["ox"])
    offsets = window_view(values, kernel, **opts)[(..., *where)].ravel().tolist()

    # Cross-check: the byte strides give the same offsets.
    item = xp.itemsize
    by_strides = [
        sum(k * st for k, st in zip((c, i, j, *where), view.strides, strict=True)) // item
        for c, i, j in itertools.product(*map(range, view.shape[:3]))
    ]
    assert by_strides == offsets, (s, by_strides, offsets)

    # (c, h, w) of each window element, from NumPy's unravel_index of the buffer.
    unravelled = np.unravel_index(offsets, buffer_shape)
    if s["layout"] == "NCHW":
        _, cs, hs, ws = unravelled
    else:
        _, hs, ws, cs = unravelled
    positions = sorted({(int(c), int(h), int(w)) for c, h, w in zip(cs, hs, ws, strict=True)})

    bill = memory_bill((s["N"], s["C"], s["H"], s["W"]), (1, s["C"], *kernel),
                       stride=s["stride"], padding=s["pad"],
                       dilation=s["dilation"], dtype=s["dtype"])
    columns = np.ascontiguousarray(view)
    assert bill.columns == columns.nbytes, (s, bill.columns, columns.nbytes)
    return {
        "Hp": xp.shape[2], "Wp": xp.shape[3],
        "out_h": conv_output_size(s["H"], s["HH"], padding=s["pad"], **opts),
        "out_w": conv_output_size(s["W"], s["WW"], padding=s["pad"], **opts),
        "shape": list(view.shape), "strides": list(view.strides),
        "xp_strides": list(xp.strides), "itemsize": item,
        "input_bytes": bill.input, "padded_bytes": xp.nbytes,
        "columns_bytes": bill.columns, "ratio": bill.column_ratio,
        "offsets": offsets, "positions": positions,
        "buffer_elements": int(np.prod(buffer_shape)),
    }


def explorer_cases(random_count: int = 16) -> list[dict[str, Any]]:
    """The case table: inputs and expected values, JSON-ready."""
    cases = []
    for s in HAND_PICKED + random_settings(random_count):
        inputs = {k: s[k] for k in (*FIELDS, "dtype", "layout")}
        cases.append({"name": s["name"], "inputs": inputs, "expected": expected(s)})
    return cases


#: Settings where no window fits or an input is not allowed. Each changes the
#: defaults; the word is what the page's message must mention.
INVALID: list[tuple[str, dict[str, str], str]] = [
    ("kernel taller than the padded input", {"H": "4", "pad": "1", "HH": "7"}, "HH"),
    ("dilated kernel wider than the padded input", {"W": "5", "WW": "3", "dilation": "4"}, "WW"),
    ("stride 0", {"stride": "0"}, "stride"),
    ("negative pad", {"pad": "-1"}, "pad"),
    ("non-integer stride", {"stride": "1.5"}, "stride"),
    ("non-integer C", {"C": "2.5"}, "C"),
    ("empty H", {"H": ""}, "H"),
    ("dilation 0", {"dilation": "0"}, "dilation"),
    ("window row past the last window", {"oy": "3"}, "out_y"),
    ("image index past the batch", {"n": "2"}, "n"),
]


def _number(text: str) -> Any:
    """Parse a form value as Python would receive it: int, float or None."""
    try:
        return int(text)
    except ValueError:
        try:
            return float(text)
        except ValueError:
            return None


def package_rejects(inputs: dict[str, Any]) -> bool:
    """Whether the package (or NumPy indexing) rejects these settings."""
    v = {k: _number(str(inputs[k])) for k in FIELDS}
    try:
        opts = {"stride": v["stride"], "padding": v["pad"], "dilation": v["dilation"]}
        oh = conv_output_size(v["H"], v["HH"], **opts)
        ow = conv_output_size(v["W"], v["WW"], **opts)
        for name in ("N", "C", "n", "oy", "ox"):
            if not isinstance(v[name], int):
                raise TypeError(f"{name} must be an int")
        np.empty((v["N"], oh, ow))[v["n"], v["oy"], v["ox"]]  # IndexError past the end
        np.empty(v["C"])  # ValueError for a negative C
    except (TypeError, ValueError, IndexError):
        return True
    return False
