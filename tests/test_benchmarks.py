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
