"""The Winograd prototype of the benchmarks computes the convolution it times.

Its matrices against direct correlation (exactly, in fractions) and against
Lavin and Gray's published F(2, 3); its forward pass against
``im2col.conv2d`` in float64 and float32; the benchmark's run and table on a
one-image layer (no timing is asserted).
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import numpy as np
import pytest
from benchmarks import harness, winograd
from benchmarks import winograd_conv as wc

import im2col


@pytest.mark.parametrize("m", [2, 4])
def test_one_dimensional_f_m_3_is_correlation(m: int) -> None:
    at, g, bt = wc.matrices(m)
    rng = np.random.default_rng(m)
    for _ in range(20):
        d = [Fraction(int(v)) for v in rng.integers(-9, 10, m + 2)]
        w = [Fraction(int(v)) for v in rng.integers(-9, 10, 3)]
        gw = [sum(gi * wi for gi, wi in zip(row, w)) for row in g]
        bd = [sum(bi * di for bi, di in zip(row, d)) for row in bt]
        y = [sum(ai * p * q for ai, p, q in zip(row, gw, bd)) for row in at]
        assert y == [sum(w[k] * d[i + k] for k in range(3)) for i in range(m)]


def test_f_2_3_is_lavin_and_grays_up_to_the_sign_of_a_product() -> None:
    """Their equation (5), arXiv:1509.09308; a product's sign may move from
    one factor to another."""
    at, g, bt = (wc.as_array(v) for v in wc.matrices(2))
    lavin_bt = np.array([[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]])
    lavin_g = np.array([[1, 0, 0], [.5, .5, .5], [.5, -.5, .5], [0, 0, 1]])
    lavin_at = np.array([[1, 1, 1, 0], [0, 1, -1, -1]])
    sign_b = np.sign(bt[np.arange(4), np.abs(bt).argmax(1)]) * np.sign(
        lavin_bt[np.arange(4), np.abs(lavin_bt).argmax(1)])
    assert np.array_equal(bt * sign_b[:, None], lavin_bt)
    sign_g = np.sign(g.sum(1)) * np.sign(lavin_g.sum(1))
    assert np.array_equal(g * sign_g[:, None], lavin_g)
    sign_a = sign_b * sign_g     # what the two row flips leave to A.T's columns
    assert np.array_equal(at * sign_a, lavin_at)


def test_bad_points_are_refused() -> None:
    with pytest.raises(ValueError, match="distinct finite points"):
        wc.matrices(2, 3, (0, 1, 1))


LAYERS = [((2, 3, 7, 9), (4, 3), 1), ((3, 5, 14, 14), (6, 5), 1),
          ((1, 2, 5, 6), (3, 2), 0), ((2, 3, 8, 8), (2, 3), 2),
          ((5, 4, 3, 3), (3, 4), 1)]


@pytest.mark.parametrize("m", [2, 4])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize(("x_shape", "fc", "pad"), LAYERS)
def test_forward_matches_im2col(m: int, dtype: str, x_shape: tuple[int, ...],
                                fc: tuple[int, int], pad: int) -> None:
    rng = np.random.default_rng(sum(x_shape) + m)
    x = rng.standard_normal(x_shape).astype(dtype)
    w = rng.standard_normal((*fc, 3, 3)).astype(dtype)
    b = rng.standard_normal(fc[0]).astype(dtype)
    ref = im2col.conv2d(x, w, b, padding=pad)
    tol = 1e-12 if dtype == "float64" else 1e-4
    for ways in [("rows", "rows"), ("gemm", "gemm"), None]:
        for workers in (1, 2):
            out = wc.conv2d(x, w, b, padding=pad, m=m, workers=workers, tiles=4,
                            transforms=ways)
            assert out.dtype == np.dtype(dtype)
            assert out.shape == ref.shape
            np.testing.assert_allclose(out, ref, rtol=0, atol=tol * np.abs(ref).max())


def test_any_memory_order_and_no_bias() -> None:
    rng = np.random.default_rng(0)
    x = np.asfortranarray(rng.standard_normal((3, 4, 9, 10)))[:, ::-1]
    w = rng.standard_normal((5, 3, 3, 4)).transpose(0, 3, 1, 2)
    np.testing.assert_allclose(wc.conv2d(x, w, m=4), im2col.conv2d(x, w, padding=1),
                               rtol=0, atol=1e-12)


def test_wrong_kernel_is_refused() -> None:
    with pytest.raises(ValueError, match="3, 3"):
        wc.conv2d(np.zeros((1, 2, 5, 5)), np.zeros((1, 2, 5, 5)))


def test_the_benchmark_runs_every_method_and_tabulates_it() -> None:
    res = winograd.measure(batch=1, rounds=1, shapes=("S4",))
    (case,) = res["cases"]
    names = set(case["methods"])
    assert {"im2col", "F2", "F4", "F2 products", "F4 input gemm", "F4 output"} <= names
    assert all(s["median"] > 0 and s["vs_im2col"] > 0 for s in case["methods"].values())
    assert case["error"]["F2"] < 1e-5
    assert case["error"]["F4"] < 1e-3
    assert res["label"] == harness.machine_label(res["machine"], threads_used=2)
    table = winograd.markdown(res)
    assert sum(line.startswith("| F") for line in table.splitlines()) == len(names) - (
        2 if "torch" in names else 1)


def test_the_strided_transforms_baseline_makes_the_packages_tiles(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """``benchmarks.passes`` times the same tiles both ways (one round, tiny units)."""
    from benchmarks import passes as transforms

    monkeypatch.setattr(transforms, "UNITS", {"odd": (2, 3, 7), "even": (1, 4, 8)})
    rows = transforms.winograd_passes(rounds=1)
    assert [r["same"] for r in rows] == [True, True]
    assert set(rows[0]["ms"]) == {"input, strided", "input, contiguous",
                                  "dout, strided", "dout, contiguous"}


def test_the_bias_benchmark_adds_the_same_bias_both_ways() -> None:
    """``benchmarks.passes.bias``: after the GEMM and inside it (one round)."""
    from benchmarks import passes

    res = passes.bias(rounds=1, images=2)
    assert res["same"]
    assert set(res["ms"]) == {"GEMM alone", "GEMM, then the bias", "GEMM with the bias inside"}


def test_the_col2im_benchmark_adds_the_same_gradient_both_ways(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """``benchmarks.passes.col2im``: per tap and kernel rows first (one round, a small unit)."""
    from benchmarks import passes

    monkeypatch.setattr(passes, "COL2IM_UNITS", {"small": (2, 3, 5, 9)})
    res = passes.col2im(rounds=1, quick=True)
    assert [u["same"] for u in res["units"]] == [True]
    assert set(res["units"][0]["ms"]) == {"per tap", "rows first"}
    assert res["layers"] == []


def test_the_col2im_baseline_runs_one_add_per_tap(monkeypatch: pytest.MonkeyPatch) -> None:
    """``benchmarks.passes.col2im_layers``' baseline really goes through the
    per-tap col2im, and the package's way through ``add_columns`` (one
    round, no timing checked)."""
    from benchmarks import passes

    from im2col._strategies import im2col as strategy

    calls = {"per tap": 0, "rows first": 0}
    per_tap, rows_first = passes.per_tap, strategy.add_columns

    def counted_per_tap(*args: Any) -> None:
        calls["per tap"] += 1
        per_tap(*args)

    def counted_rows_first(*args: Any) -> None:
        calls["rows first"] += 1
        rows_first(*args)

    monkeypatch.setattr(passes, "per_tap", counted_per_tap)
    monkeypatch.setattr(strategy, "add_columns", counted_rows_first)
    rows = passes.col2im_layers(rounds=1)
    assert [r["layer"] for r in rows] == ["S1", "5x5"]
    assert calls["per tap"] > 0
    assert calls["rows first"] > 0
