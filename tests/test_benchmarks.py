"""Smoke tests of the benchmark's settings check (no timing is asserted)."""

from __future__ import annotations

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
