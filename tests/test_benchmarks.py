"""Smoke tests of the benchmark's settings check (no timing is asserted)."""

from __future__ import annotations

from typing import Any

import pytest
from benchmarks import ALL_SETTINGS, settings


def test_each_setting_is_left_out_once() -> None:
    configs = settings.configurations()
    assert configs[0] == ("all", ALL_SETTINGS)
    left_out = [set(ALL_SETTINGS) - set(chosen) for _, chosen in configs[1:]]
    assert left_out == [{k} for k in ALL_SETTINGS]


def test_children_run_with_the_settings_they_are_given() -> None:
    """Each fresh process reports the settings it applied and a median for
    every method, alone and interleaved; the table has one row each."""
    res = settings.measure("S2", rounds=1)
    for row, (label, chosen) in zip(res["rows"], settings.configurations(),
                                    strict=True):
        assert row["label"] == label
        assert tuple(row["settings"]) == chosen
        for times in (row["alone"], row["interleaved"]):
            assert set(times) == set(settings.METHODS)
            assert all(t > 0 for t in times.values())
    table = settings.markdown(res)
    assert sum(line.startswith(("| all", "| without")) for line in table) == 4


def test_the_pixel_block_variants_compute_the_same_and_restore_the_setting() -> None:
    import numpy as np
    from benchmarks import ideas

    from im2col import conv2d
    from im2col._strategies import _base

    before = _base.PIXEL_BLOCK, _base.BLOCKED_PIXELS
    rng = np.random.default_rng(0)
    x, w = rng.normal(size=(2, 32, 12, 12)), rng.normal(size=(8, 32, 3, 3))
    results = [ideas.with_block(size, least, lambda: conv2d(x, w, padding=1))()
               for size, least in ((0, 0), (5, 0), (256, 2048))]
    for r in results[1:]:
        np.testing.assert_allclose(r, results[0], rtol=1e-12, atol=1e-12)
    assert before == (_base.PIXEL_BLOCK, _base.BLOCKED_PIXELS)


def test_backward_before_turns_both_changes_off_and_restores_them() -> None:
    """``benchmarks.backward.before``: the same gradients without ``full``
    and the transposed products, and the package as it was after it."""
    import numpy as np
    from benchmarks import backward

    from im2col import conv2d_backward
    from im2col._layer import layer_of
    from im2col._plan import plan
    from im2col._strategies import _grads

    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 8, 16, 16)).astype(np.float32)
    w = rng.normal(size=(8, 2, 3, 3)).astype(np.float32)
    dout = rng.normal(size=(2, 8, 16, 16)).astype(np.float32)
    layer = layer_of(x, w, stride=1, padding=1, dilation=1, groups=4)
    now = conv2d_backward(dout, x, w, padding=1, groups=4)
    assert plan(layer, x, None, backward=True).strategy == "full"
    with backward.before():
        assert plan(layer, x, None, backward=True).strategy != "full"
        assert _grads.TRANSPOSED_DW == 0
        then = conv2d_backward(dout, x, w, padding=1, groups=4)
    assert plan(layer, x, None, backward=True).strategy == "full"
    assert _grads.TRANSPOSED_DW == 64
    for a, b in zip(now, then, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4)


def test_backward_orientations_sum_the_same_product() -> None:
    """``benchmarks.backward.orientation`` on its first shapes, one round."""
    from benchmarks import backward

    rows = backward.orientation(rounds=1, quick=True)
    assert len(rows) == 6
    assert all(r["transposed / plain"] > 0 for r in rows)
    assert [r["rule"] for r in rows[:3]] == [True, False, True]


def test_backward_small_images_times_both_strategies() -> None:
    """``benchmarks.backward.small_images`` on two small layers, one round."""
    from benchmarks import backward

    rows = backward.small_images(rounds=1, quick=True)
    assert [r["dtype"] for r in rows] == ["float32"] * 2 + ["float64"] * 2
    assert all(r["full / im2col_t"] > 0 for r in rows)


def test_blocks_benchmark_times_both_ways_and_restores_the_rule(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``benchmarks.blocks`` on its first shapes and S1, one round (the small
    kernels taken as running, whatever threads the test process has)."""
    from benchmarks import blocks

    from im2col import _threads
    from im2col._strategies import _base

    monkeypatch.setattr(_threads, "small_kernels", lambda: True)

    before = _base.SMALL_GEMM
    rows = blocks.grid(rounds=1, quick=True)
    assert [r["dtype"] for r in rows] == ["float32"] * 4 + ["float64"] * 4
    assert all("blocks / one, two BLAS threads" in r for r in rows[:4])
    assert [r["rule"] for r in rows[:4]] == [False, False, True, False]
    assert not any(r["rule"] for r in rows[4:])  # float64 is never cut
    steps = blocks.steps(rounds=1, quick=True)
    assert set(steps[0]["GFLOP/s"]) == {"one", "32", "48", "64"}
    row = blocks.layers(None, rounds=1, names=["S1"])[0]
    assert row["forward blocks / one"] > 0
    assert row["backward blocks / one"] > 0
    # S1's column gradient, 147 rows by 32 filters, is cut (its forward pass
    # on two workers takes the strip, whose per-row products are not)
    assert row["backward cut"] is True
    assert before == _base.SMALL_GEMM


def test_the_report_keeps_the_gemm_rates_apart_from_the_memory() -> None:
    """``benchmarks.run.run``: the peak GEMM rates per dtype and threads, and
    each pass's peak memory per method, under their own keys."""
    from benchmarks import methods, run

    shape = methods.Shape("tiny", (2, 3, 8, 8), (4, 3, 3, 3), 1, 1)
    res = run.run([shape], ["float32"], [1], ["forward", "backward"], rounds=1,
                  memory="here", gemm_size=64)
    assert list(res["gemm_peak_gflops"]) == ["float32, 1 threads"]
    assert [(m["pass"], "default" in m["peak_extra_bytes"]) for m in res["memory"]] == [
        ("forward", True), ("backward", True)]
    assert "- Peak GEMM (64^3): float32, 1 threads " in run.markdown(res)


def test_turns_benchmark_runs_quick() -> None:
    """The turns benchmark's two measurements run, and put back what they patch."""
    from benchmarks import turns

    from im2col._strategies import _base, _grads, _views

    before = _views.unit_view, _base.product, _grads.product, _grads.add_product, \
        _grads.add_products
    calls = turns.calls(rounds=1, pixels=(64,))
    assert calls[0]["pixels"] == 64
    assert calls[0]["two / one"] > 0
    row = turns.layers(None, rounds=1, names=["4 groups"])[0]
    assert set(row) == {"layer"} | {f"{p} {v} / shipped" for p in ("forward", "backward")
                                    for v in ("views per unit", "one call per group",
                                              "dw per image", "all three")}
    assert before == (_views.unit_view, _base.product, _grads.product, _grads.add_product,
                      _grads.add_products)


def test_turns_old_habits_give_the_same_results() -> None:
    """With the old calls brought back (views, groups, images), the layer is unchanged."""
    import numpy as np
    from benchmarks import turns
    from benchmarks.layers import arrays, options

    from im2col import conv2d, conv2d_backward

    x, w, b = arrays("4 groups")
    x = x[:4]
    opts = options("4 groups")
    dout = np.ones_like(conv2d(x, w, b, **opts))
    shipped = conv2d(x, w, b, workers=2, **opts), *conv2d_backward(dout, x, w, workers=2, **opts)
    with turns.variant(("views", "groups", "images")):
        old = conv2d(x, w, b, workers=2, **opts), *conv2d_backward(dout, x, w, workers=2, **opts)
    for s, o in zip(shipped, old, strict=True):
        np.testing.assert_allclose(s, o, rtol=1e-4, atol=1e-3)


def test_rows_benchmark_runs_quick() -> None:
    """``benchmarks.rows``: its stages agree, its rule rows say what the planner picks."""
    from benchmarks import rows

    stages = rows.stages(rounds=1, images=2)
    assert stages["same"] is True
    assert {k.split(":")[0] for k in stages if k != "same"} == {"im2col", "rows"}
    rule = rows.rule(rounds=1, quick=True)
    assert [(r["layer"], r["dtype"]) for r in rule] == [
        ("S1", "float32"), ("S1", "float64"),
        ("3x3, 32 filters", "float32"), ("3x3, 32 filters", "float64")]
    assert [r["picked, two workers"] for r in rule] == [True, True, False, False]
    assert all(r["rows / im2col, one worker"] > 0 for r in rule)
    units = rows.units(rounds=1)
    assert set(units) == {"default images", *(f"{k} images" for k in rows.UNITS)}


def test_window_rows_backward_rule_runs_quick(monkeypatch: pytest.MonkeyPatch) -> None:
    """``benchmarks.rows``' ``window_backward``: against im2col, and ``full`` where it applies."""
    from benchmarks import rows

    layers = rows._layers(quick=False)
    monkeypatch.setattr(rows, "_layers", lambda quick: {
        k: layers[k] for k in ("5x5", "stem 7x7/2")})  # the stem has stride 2: skipped
    res = rows.part("window_backward", rounds=1, quick=False)
    assert [(r["layer"], r["dtype"]) for r in res["layers"]] == [
        ("5x5", "float32"), ("5x5", "float64")]
    for r in res["layers"]:
        assert r["window_rows / im2col, two workers"] > 0
        assert r["window_rows / full, one worker"] > 0
        assert r["picked, two workers"]
        assert not r["picked, one worker"]


def test_window_rows_benchmark_makes_im2cols_output(monkeypatch: pytest.MonkeyPatch) -> None:
    """``benchmarks.rows.window_rows``: one GEMM per kernel row gives im2col's output.

    With a dilated layer, where the kernel rows' matrices start ``dh`` strip
    rows apart, and a 4-group one, on one image each.
    """
    from benchmarks import rows

    monkeypatch.setattr(rows, "WINDOW_ROWS", {"dilation 2": 1, "4 groups": 1})
    res = rows.window_rows(rounds=1, quick=False)
    assert [r["layer"] for r in res] == ["dilation 2", "4 groups"]
    assert all(r["same"] for r in res)
    assert all(set(r["ms per image"]) == {"im2col: copy", "im2col: GEMM",
                                          "window rows: copy", "window rows: GEMMs"}
               for r in res)
    assert all(r["window rows / im2col, two threads"] > 0 for r in res)


def test_rows_benchmark_runs_some_parts_and_keeps_the_others(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    """``--only`` replaces the parts it names in the last results and keeps the rest."""
    import json

    from benchmarks import rows

    results = tmp_path / "rows.json"
    results.write_text(json.dumps({"machine": "before", "stages": 1, "window_rule": 2}))
    monkeypatch.setattr(rows, "RESULTS", results)
    monkeypatch.setattr(rows, "part", lambda name, rounds, quick: f"new {name}")
    rows.main(["--only", "window_rule"])
    assert json.loads(results.read_text()) == {
        "machine": "before", "stages": 1, "window_rule": "new window_rule"}


def test_bands_benchmark_gives_one_result_on_every_band_and_unit() -> None:
    """``benchmarks.bands``: each band's and unit's result agrees, and a wrong one would not."""
    import numpy as np
    from benchmarks import bands

    rows = bands.measure(rounds=1, quick=True)
    assert [(r["pass"], r["setting"]) for r in rows] == [
        (p, s) for p in ("forward", "backward") for s in ("two workers", "one worker")]
    assert all(r["same result"] is True for r in rows)
    assert all(set(r) >= {"14 rows / whole", "8 rows / whole"} for r in rows)
    units = bands.units(rounds=1, quick=True)
    assert [r["pass"] for r in units] == ["forward", "backward"]
    assert all(r["same result"] is True and r["2 images, MiB"] > r["one image, MiB"]
               for r in units)
    out = np.ones((2, 3))
    assert not bands._agree(out * 1.01, out)
    assert not bands._agree((out, out * 1.01), (out, out))


def test_tiles_benchmark_checks_each_way_against_the_package() -> None:
    """``benchmarks.tiles``: every way gives the package's result, on small units."""
    import numpy as np
    from benchmarks import tiles

    for part in (tiles.into_v, tiles.no_v, tiles.dw_batches):
        rows = part(rounds=1, quick=True)
        assert rows
        assert all(r["same"] is True for r in rows)
    a = tiles._unit(2, 8, 10)
    want = a["out"].copy()
    from im2col._strategies import _tiles
    _tiles.correlate(a["band"], a["u"], a["v"], a["m"], want, add=False)
    a["products"][:] = np.nan  # products left from earlier calls must not leak in
    a["m2"][:] = np.nan
    tiles.correlate_without_v(a["band"], a["u"], a["m2"], a["products"], a["out2"])
    np.testing.assert_allclose(a["out2"], want, rtol=1e-4, atol=1e-4)
