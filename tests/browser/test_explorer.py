"""The stride explorer (docs/explorer.md) against the im2col package, in Chromium.

The case table comes from the package in this run (tests/browser/cases.py);
each case is typed into the page's form and every number the page shows is
compared with the package's and NumPy's.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from numpy.lib.stride_tricks import as_strided

from im2col import conv_output_size, memory_bill, window_view
from tests.browser.cases import (
    HAND_PICKED,
    INVALID,
    expected,
    package_rejects,
    padded_arrays,
)

pytestmark = pytest.mark.browser

ROOT_SELECTOR = "[data-stride-explorer]"
AXES = "cijnyx"
#: What a broken computation prints; never allowed in the explorer.
BAD_WORDS = ("NaN", "undefined", "Infinity", "null")

#: Set the form's fields at once, then fire one input event as typing does.
SET_INPUTS = """([root, values]) => {
    const form = document.querySelector(root).querySelector("form");
    for (const [name, value] of Object.entries(values)) {
        form.elements[name].value = String(value);
    }
    form.elements["N"].dispatchEvent(new Event("input", {bubbles: true}));
}"""

#: Everything the explorer shows that the tests compare.
READ_STATE = """(root) => {
    root = document.querySelector(root);
    const text = (key) => {
        const node = root.querySelector(`[data-key="${key}"]`);
        return node ? node.textContent : null;
    };
    const keys = ["Hp", "Wp", "out_h", "out_w", "shape", "strides", "xp-strides",
        "itemsize", "input-bytes", "padded-bytes", "columns-bytes", "ratio",
        "window-offsets", "cursor-index", "cursor-offset", "cursor-element"];
    const state = {};
    for (const key of keys) state[key] = text(key);
    for (let k = 0; k < 6; k++) state["stride-" + k] = text("stride-" + k);
    const message = root.querySelector('[data-key="message"]');
    state.message = message.hidden ? null : message.textContent;
    state.results_hidden = root.querySelector('[data-key="results"]').hidden;
    const offsets = (sel) => [...root.querySelectorAll(sel)].map(c => Number(c.dataset.offset));
    state.buffer_drawn = offsets(".sx-cell");
    state.buffer_window = offsets(".sx-cell.is-window");
    state.buffer_cursor = offsets(".sx-cell.is-cursor");
    const hw = (cells) => [...cells].map(c => [Number(c.dataset.h), Number(c.dataset.w)]);
    state.grids = [...root.querySelectorAll(".sx-grid")].map(g => ({
        channel: Number(g.dataset.channel),
        drawn: hw(g.querySelectorAll(".sx-gcell")),
        window: hw(g.querySelectorAll(".sx-gcell.is-window")),
    }));
    state.buttons = [...root.querySelectorAll(".sx-button")].map(b => b.disabled);
    const last = root.querySelector('[data-key="last-step"]');
    state.last_step = last.hasAttribute("data-after")
        ? [Number(last.dataset.axis), Number(last.dataset.before), Number(last.dataset.after)]
        : null;
    state.fields = Object.fromEntries(
        [...root.querySelector("form").elements].filter(e => e.name).map(e => [e.name, e.value]));
    state.invalid = [...root.querySelectorAll('[aria-invalid="true"]')].map(e => e.name);
    state.text = root.innerText;
    return state;
}"""


def fields_of(setting: dict[str, Any]) -> dict[str, Any]:
    """The form fields of a setting (without its name)."""
    return {k: v for k, v in setting.items() if k != "name"}


def number(text: str) -> int:
    """Parse a number shown with thousands separators."""
    return int(text.replace(",", ""))


def compare(case: dict[str, Any], state: dict[str, Any]) -> list[str]:
    """Differences between the page's state and the package's numbers."""
    exp = case["expected"]
    got: dict[str, Any] = {
        "Hp": number(state["Hp"]), "Wp": number(state["Wp"]),
        "out_h": number(state["out_h"]), "out_w": number(state["out_w"]),
        "shape": state["shape"], "strides": state["strides"],
        "xp_strides": state["xp-strides"], "itemsize": number(state["itemsize"]),
        "six strides": [number(state[f"stride-{k}"]) for k in range(6)],
        "input_bytes": number(state["input-bytes"]),
        "padded_bytes": number(state["padded-bytes"]),
        "columns_bytes": number(state["columns-bytes"]),
        "offsets": [number(t) for t in state["window-offsets"].split(", ")],
        "cursor": number(state["cursor-element"]),
        "cursor bytes": number(state["cursor-offset"]),
    }
    want: dict[str, Any] = {
        "Hp": exp["Hp"], "Wp": exp["Wp"], "out_h": exp["out_h"], "out_w": exp["out_w"],
        "shape": str(tuple(exp["shape"])), "strides": str(tuple(exp["strides"])),
        "xp_strides": str(tuple(exp["xp_strides"])), "itemsize": exp["itemsize"],
        "six strides": exp["strides"],
        "input_bytes": exp["input_bytes"], "padded_bytes": exp["padded_bytes"],
        "columns_bytes": exp["columns_bytes"], "offsets": exp["offsets"],
        "cursor": exp["offsets"][0], "cursor bytes": exp["offsets"][0] * exp["itemsize"],
    }
    diffs = [f"{key}: page {got[key]!r}, package {want[key]!r}"
             for key in want if got[key] != want[key]]
    if abs(float(state["ratio"]) - exp["ratio"]) > 0.005 + 1e-9:
        diffs.append(f"ratio: page {state['ratio']}, package {exp['ratio']:.4f}")

    # The flat buffer: every drawn cell of the window is highlighted, no other.
    drawn = state["buffer_drawn"]
    if exp["buffer_elements"] <= 1024 and drawn != list(range(exp["buffer_elements"])):
        diffs.append(f"buffer: drew {len(drawn)} of {exp['buffer_elements']} elements")
    if drawn != list(range(drawn[0], drawn[-1] + 1)):
        diffs.append("buffer: drawn cells are not one contiguous range")
    want_window = sorted(set(exp["offsets"]) & set(drawn))
    if sorted(state["buffer_window"]) != want_window:
        diffs.append(f"buffer highlight: page {sorted(state['buffer_window'])}, package {want_window}")
    if not want_window:
        diffs.append("buffer: no window element drawn")
    cursor = [exp["offsets"][0]] if exp["offsets"][0] in drawn else []
    if state["buffer_cursor"] != cursor:
        diffs.append(f"buffer cursor: page {state['buffer_cursor']}, package {cursor}")

    # The padded image grids: the window's (h, w) in each channel drawn.
    C = case["inputs"]["C"]
    channels = [g["channel"] for g in state["grids"]]
    if channels != list(range(min(C, 8))):
        diffs.append(f"grid channels: {channels}")
    for grid in state["grids"]:
        cells = {tuple(hw) for hw in grid["drawn"]}
        if max(exp["Hp"], exp["Wp"]) <= 32 and len(cells) != exp["Hp"] * exp["Wp"]:
            diffs.append(f"grid c={grid['channel']}: drew {len(cells)} cells")
        want_cells = {(h, w) for c, h, w in exp["positions"] if c == grid["channel"]} & cells
        got_cells = {tuple(hw) for hw in grid["window"]}
        if got_cells != want_cells:
            diffs.append(f"grid c={grid['channel']}: page {sorted(got_cells)}, package {sorted(want_cells)}")
    return diffs


def bad_words(state: dict[str, Any]) -> list[str]:
    return [word for word in BAD_WORDS if word in state["text"]]


def test_explorer_matches_the_package(open_page: Any, explorer_cases: list[dict[str, Any]]) -> None:
    """Every generated case: sizes, strides, bytes and window offsets agree."""
    page, log = open_page("explorer/")
    failures = []
    for case in explorer_cases:
        page.evaluate(SET_INPUTS, [ROOT_SELECTOR, case["inputs"]])
        state = page.evaluate(READ_STATE, ROOT_SELECTOR)
        if state["message"] is not None or state["results_hidden"]:
            failures.append(f"{case['name']}: message {state['message']!r}")
            continue
        problems = compare(case, state) + [f"shows {w}" for w in bad_words(state)]
        failures += [f"{case['name']} {case['inputs']}: {p}" for p in problems]
    assert not failures, "\n".join(failures)
    assert len(explorer_cases) >= 20
    log.assert_clean()


def test_explorer_one_channel_grid(open_page: Any) -> None:
    """Choosing one channel draws that channel only, with the same window."""
    page, log = open_page("explorer/")
    setting = fields_of(HAND_PICKED[4])
    page.evaluate(SET_INPUTS, [ROOT_SELECTOR, setting])
    page.locator(f"{ROOT_SELECTOR} select[name=channel]").select_option("2")
    state = page.evaluate(READ_STATE, ROOT_SELECTOR)
    assert [g["channel"] for g in state["grids"]] == [2]
    want = {(h, w) for c, h, w in expected(setting)["positions"] if c == 2}
    assert {tuple(hw) for hw in state["grids"][0]["window"]} == want
    log.assert_clean()


@pytest.mark.parametrize("setting", [
    HAND_PICKED[0],
    {"N": 2, "C": 3, "H": 7, "W": 6, "HH": 2, "WW": 3, "stride": 2, "pad": 1,
     "dilation": 2, "dtype": "int8", "layout": "NHWC", "n": 0, "oy": 0, "ox": 0},
], ids=["defaults", "NHWC dilation 2 int8"])
def test_step_buttons_move_by_the_stride(open_page: Any, setting: dict[str, Any]) -> None:
    """Each +1 button moves the cursor by its axis's stride, in bytes."""
    page, log = open_page("explorer/")
    page.evaluate(SET_INPUTS, [ROOT_SELECTOR, fields_of(setting)])
    xp, values, _ = padded_arrays(setting)
    opts = {"stride": setting["stride"], "dilation": setting["dilation"]}
    view = window_view(xp, (setting["HH"], setting["WW"]), **opts)
    offsets = window_view(values, (setting["HH"], setting["WW"]), **opts)
    item = xp.itemsize

    index = [0, 0, 0, setting["n"], setting["oy"], setting["ox"]]
    # One step along each axis in turn, then along c to its end.
    steps = list(range(6)) + [0] * (view.shape[0] - 2)
    for axis in steps:
        before = int(offsets[tuple(index)]) * item
        page.locator(f"{ROOT_SELECTOR} button[data-axis='{axis}']").click()
        index[axis] += 1
        after = int(offsets[tuple(index)]) * item
        state = page.evaluate(READ_STATE, ROOT_SELECTOR)
        assert state["last_step"] == [axis, before, after], (AXES[axis], state["last_step"])
        assert after - before == view.strides[axis]
        assert state["cursor-index"] == ", ".join(map(str, index))
        assert number(state["cursor-offset"]) == after
        assert state["buffer_cursor"] == [after // item]
        assert [state["fields"][k] for k in ("n", "oy", "ox")] == [str(i) for i in index[3:]]
        # The window moved with n, y, x: its highlight is the package's.
        moved = dict(setting, n=index[3], oy=index[4], ox=index[5])
        assert sorted(state["buffer_window"]) == sorted(expected(moved)["offsets"])
    # A button is disabled exactly when its index is the last one.
    assert state["buttons"] == [i + 1 >= n for i, n in zip(index, view.shape, strict=True)]
    assert state["buttons"][0]
    log.assert_clean()


def test_invalid_settings_show_a_message(open_page: Any) -> None:
    """Settings the package rejects give a message, no numbers, no NaN; then recover."""
    page, log = open_page("explorer/")
    defaults = fields_of(HAND_PICKED[0])
    form = page.locator(f"{ROOT_SELECTOR} form")
    for name, changes, word in INVALID:
        page.evaluate(SET_INPUTS, [ROOT_SELECTOR, defaults])
        assert package_rejects({**defaults, **changes}), name
        for field, value in changes.items():
            form.locator(f"[name={field}]").fill(value)  # typed, as a reader does
        state = page.evaluate(READ_STATE, ROOT_SELECTOR)
        assert state["message"], f"{name}: no message"
        assert word in state["message"], (name, state["message"])
        assert state["results_hidden"], name
        assert {"out_y": "oy"}.get(word, word) in state["invalid"], (name, state["invalid"])
        assert not bad_words(state), (name, state["text"])
        # Not frozen: fixing the input brings the numbers back (the chosen
        # window may have been moved back inside the view on the way).
        for field in changes:
            form.locator(f"[name={field}]").fill(str(defaults[field]))
        state = page.evaluate(READ_STATE, ROOT_SELECTOR)
        assert state["message"] is None, (name, state["message"])
        assert not state["invalid"], (name, state["invalid"])
        now = {k: v if k in ("dtype", "layout") else int(v)
               for k, v in state["fields"].items() if k in defaults}
        assert not compare({"inputs": now, "expected": expected(now)}, state), name
    log.assert_clean()


def test_screenshots_and_phone_width(open_page: Any, artifacts: Path) -> None:
    """Screenshots (desktop light and dark, 375 px phone); no overflow on a phone."""
    overflow = """() => [document.documentElement.scrollWidth, document.body.scrollWidth,
                         window.innerWidth]"""
    for scheme in ("light", "dark"):
        page, log = open_page("explorer/", color_scheme=scheme)
        assert page.evaluate("document.body.dataset.mdColorScheme") == (
            "slate" if scheme == "dark" else "default")
        page.screenshot(path=artifacts / f"explorer-desktop-{scheme}.png", full_page=True)
        log.assert_clean()
    page, log = open_page("explorer/", width=375, height=812, has_touch=True)
    settings = [HAND_PICKED[0], HAND_PICKED[9], HAND_PICKED[10]]  # defaults, big, NHWC big
    for k, setting in enumerate(settings):
        page.evaluate(SET_INPUTS, [ROOT_SELECTOR, fields_of(setting)])
        doc, body, inner = page.evaluate(overflow)
        assert doc <= inner, (setting["name"], doc, inner)
        assert body <= inner, (setting["name"], body, inner)
        if k == 0:
            page.screenshot(path=artifacts / "explorer-phone.png", full_page=True)
    log.assert_clean()


def test_case_table_covers_what_the_issue_asks(explorer_cases: list[dict[str, Any]]) -> None:
    """Padding, stride > 1, dilation, non-divisible sizes, NHWC, 1/4/8-byte items."""
    inputs = [c["inputs"] for c in explorer_cases]
    assert any(s["pad"] > 0 for s in inputs)
    assert any(s["stride"] > 1 for s in inputs)
    assert any(s["dilation"] > 1 for s in inputs)
    assert any(s["layout"] == "NHWC" for s in inputs)
    assert any(
        (s["H"] + 2 * s["pad"] - s["dilation"] * (s["HH"] - 1) - 1) % s["stride"] for s in inputs
    )
    assert {np.dtype(s["dtype"]).itemsize for s in inputs} >= {1, 2, 4, 8}
    assert {s["dtype"] for s in inputs} >= {"float32", "float64", "int8"}
    # The offsets are the package's: spot-check one case by direct indexing.
    case = explorer_cases[0]
    s = case["inputs"]
    _, values, _ = padded_arrays(s)
    direct = [int(values[s["n"], c, s["oy"] * s["stride"] + i * s["dilation"],
                         s["ox"] * s["stride"] + j * s["dilation"]])
              for c, i, j in itertools.product(range(s["C"]), range(s["HH"]), range(s["WW"]))]
    assert direct == case["expected"]["offsets"]


def c_order_strides(shape: tuple[int, ...], itemsize: int) -> tuple[int, ...]:
    """Byte strides of a C-ordered array of ``shape``, without allocating it."""
    strides, step = [], itemsize
    for size in reversed(shape):
        strides.append(step)
        step *= size
    return tuple(reversed(strides))


def test_huge_setting_stays_exact_and_responsive(open_page: Any) -> None:
    """The largest sizes the form takes: exact numbers, drawn in well under a second.

    No array that size fits in memory: the padded NHWC array's strides are
    C-order strides (checked against NumPy on a small shape), set on an empty
    stand-in with ``as_strided``; ``window_view`` of it gives the view's
    strides, ``memory_bill`` the bytes.
    """
    s = {"N": 4096, "C": 4096, "H": 4096, "W": 4096, "HH": 7, "WW": 5, "stride": 3,
         "pad": 1024, "dilation": 3, "dtype": "float64", "layout": "NHWC",
         "n": 4095, "oy": 0, "ox": 0}
    Hp, Wp = s["H"] + 2 * s["pad"], s["W"] + 2 * s["pad"]
    opts = {"stride": s["stride"], "dilation": s["dilation"]}
    assert c_order_strides((2, 5, 6, 3), 8) == np.empty((2, 5, 6, 3)).strides
    sN, sH, sW, sC = c_order_strides((s["N"], Hp, Wp, s["C"]), 8)
    stand_in = as_strided(np.empty(0), shape=(0, s["C"], Hp, Wp), strides=(sN, sC, sH, sW))
    strides = window_view(stand_in, (s["HH"], s["WW"]), **opts).strides
    oh = conv_output_size(s["H"], s["HH"], padding=s["pad"], **opts)
    ow = conv_output_size(s["W"], s["WW"], padding=s["pad"], **opts)
    s.update(oy=oh - 1, ox=ow - 1)
    bill = memory_bill((s["N"], s["C"], s["H"], s["W"]), (1, s["C"], s["HH"], s["WW"]),
                       padding=s["pad"], dtype=s["dtype"], **opts)
    last = (s["C"] - 1, s["HH"] - 1, s["WW"] - 1, s["n"], s["oy"], s["ox"])
    top_byte = sum(i * st for i, st in zip(last, strides, strict=True))
    assert top_byte < 2**53  # what the explorer's limits guarantee

    page, log = open_page("explorer/")
    elapsed = page.evaluate("""([root, values]) => {
        const form = document.querySelector(root).querySelector("form");
        for (const [name, value] of Object.entries(values)) form.elements[name].value = String(value);
        const start = performance.now();
        form.elements["N"].dispatchEvent(new Event("input", {bubbles: true}));
        return performance.now() - start;
    }""", [ROOT_SELECTOR, s])
    state = page.evaluate(READ_STATE, ROOT_SELECTOR)
    assert state["message"] is None, state["message"]
    assert state["strides"] == str(strides)
    assert (number(state["out_h"]), number(state["out_w"])) == (oh, ow)
    assert number(state["input-bytes"]) == bill.input
    assert number(state["columns-bytes"]) == bill.columns
    assert abs(float(state["ratio"]) - bill.column_ratio) <= 0.005
    cursor = sum(i * st for i, st in zip((0, 0, 0, *last[3:]), strides, strict=True))
    assert number(state["cursor-offset"]) == cursor
    assert not bad_words(state)
    assert elapsed < 1000, f"one update took {elapsed:.0f} ms"
    # One more than the limits gives a message, not a frozen page.
    page.locator(f"{ROOT_SELECTOR} [name=pad]").fill("1025")
    assert "pad" in page.evaluate(READ_STATE, ROOT_SELECTOR)["message"]
    log.assert_clean()
