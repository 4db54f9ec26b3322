"""memory_bill against the arrays actually made, and peak_memory."""

from __future__ import annotations

import tracemalloc
from typing import Any

import numpy as np
import pytest
from docs.examples.cs231n_strided import strided_backward
from hypothesis import given, settings

import im2col.cs231n as cs
from im2col import MemoryBill, conv2d, im2col, memory_bill, peak_memory
from im2col.cs231n import _conv_core as conv_core
from tests import reference as ref
from tests.strategies import Case, cases, cs231n_cases, floats

#: Allowance for NumPy's small temporaries: a buffered ufunc loop (col2im's
#: ``+=`` of a transposed tap) holds up to 8192 elements per operand.
SLACK = 3 * 8192 * 8 + 16 * 1024


@settings(max_examples=80)
@given(case=cases(groups=False), dtype=floats)
def test_bill_figures_are_the_nbytes_of_the_arrays(case: Case, dtype: Any) -> None:
    x, w, _, _ = case.arrays(dtype)
    bill = memory_bill(case.x_shape, case.w_shape, dtype=dtype, **case.options())
    assert isinstance(bill, MemoryBill)
    g = ref.Geometry(case.x_shape, case.kernel, case.stride, case.padding,
                     case.dilation)
    padded = ref.pad(x, g.padding)
    cols = im2col(x, case.kernel, **case.options())
    out = conv2d(x, w, **case.options())
    assert bill.input == x.nbytes
    assert bill.padded == (padded.nbytes if padded.shape != x.shape else 0)
    assert bill.columns == cols.nbytes
    assert bill.output == out.nbytes
    assert bill.product == out.nbytes
    assert bill.weights == w.nbytes
    assert bill.cache == cols.nbytes
    assert bill.column_ratio == cols.nbytes / x.nbytes


@settings(max_examples=40)
@given(case=cs231n_cases(), dtype=floats)
def test_bill_matches_the_cs231n_layer_arrays(case: Case, dtype: Any) -> None:
    x, w, b, _ = case.arrays(dtype)
    out, cache = cs.conv_forward_strides(x, w, b, {"stride": case.stride,
                                                   "pad": case.padding})
    bill = memory_bill(x.shape, w.shape, stride=case.stride, padding=case.padding,
                       dtype=dtype)
    assert bill.output == out.nbytes
    assert bill.cache == cache[4].nbytes
    dx, dw, _ = cs.conv_backward_strides(out, cache)
    assert bill.input == dx.nbytes
    assert bill.weights == dw.nbytes


def test_column_ratio_is_kernel_area_over_stride_squared() -> None:
    """Exactly 9 for 3x3, stride 1, pad 1; about 49/4 for 7x7, stride 2."""
    assert memory_bill((2, 3, 32, 32), (8, 3, 3, 3), padding=1).column_ratio == 9.0
    ratio = memory_bill((2, 3, 32, 32), (8, 3, 7, 7), stride=2, padding=3).column_ratio
    assert ratio == pytest.approx(49 / 4)


PEAK_CASES = [
    # x_shape, w_shape, stride, pad, dtype
    ((4, 3, 16, 16), (8, 3, 3, 3), 1, 1, np.float64),
    ((4, 3, 16, 16), (8, 3, 3, 3), 1, 0, np.float64),
    ((2, 4, 20, 20), (6, 4, 5, 5), 2, 2, np.float32),
    ((2, 4, 20, 20), (6, 4, 5, 5), 2, 0, np.float32),
    ((8, 3, 32, 32), (16, 3, 3, 3), 1, 1, np.float64),
    ((8, 3, 32, 32), (64, 3, 3, 3), 2, 1, np.float64),
]


@pytest.mark.parametrize(("x_shape", "w_shape", "stride", "pad", "dtype"), PEAK_CASES)
def test_bill_peaks_match_measured_peaks(
    x_shape: tuple[int, ...], w_shape: tuple[int, ...], stride: int, pad: int,
    dtype: Any,
) -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=x_shape).astype(dtype)
    w = rng.normal(size=w_shape).astype(dtype)
    b = np.zeros(w_shape[0], dtype)
    bill = memory_bill(x_shape, w_shape, stride=stride, padding=pad, dtype=dtype)
    (out, cache), forward = peak_memory(cs.conv_forward_strides, x, w, b,
                                        {"stride": stride, "pad": pad})
    dout = rng.normal(size=out.shape).astype(dtype)
    _, backward = peak_memory(strided_backward, dout, x, w, cache[4], stride, pad)
    assert abs(forward - bill.forward_peak) <= SLACK, (forward, bill)
    assert abs(backward - bill.backward_peak) <= SLACK, (backward, bill)


@pytest.mark.parametrize("workers", [1, 2])
def test_the_dropin_backward_stays_below_cs231ns(workers: int, monkeypatch: Any) -> None:
    """It works a chunk of images at a time: ``dx`` plus a chunk per worker."""
    monkeypatch.setattr(conv_core, "default_workers", lambda: workers)
    rng = np.random.default_rng(1)
    x, w = rng.normal(size=(100, 3, 31, 31)), rng.normal(size=(25, 3, 3, 3))
    bill = memory_bill(x.shape, w.shape, stride=2, padding=1)
    out, cache = cs.conv_forward_strides(x, w, np.zeros(25), {"stride": 2, "pad": 1})
    _, peak = peak_memory(cs.conv_backward_strides, np.ones_like(out), cache)
    assert peak < bill.backward_peak
    per_worker = 2 * conv_core.CHUNK_BYTES
    assert peak <= bill.input + bill.weights + workers * per_worker + SLACK


# ------------------------------------------------------------ peak_memory

def test_peak_memory_counts_the_result() -> None:
    arr, peak = peak_memory(np.ones, 1_000_000)
    assert arr.shape == (1_000_000,)
    assert 8_000_000 <= peak < 8_000_000 + SLACK


def test_peak_memory_counts_freed_temporaries() -> None:
    total, peak = peak_memory(lambda n: float(np.ones(n).sum()), 500_000)
    assert total == 500_000.0
    assert 4_000_000 <= peak < 4_000_000 + SLACK


def test_peak_memory_passes_keyword_arguments() -> None:
    arr, peak = peak_memory(np.zeros, (100, 100), dtype=np.float32)
    assert arr.dtype == np.float32
    assert 40_000 <= peak < 40_000 + SLACK


def test_peak_memory_does_not_count_memory_allocated_before() -> None:
    keep = np.ones(2_000_000)
    _, peak = peak_memory(np.ones, 1000)
    assert peak < SLACK
    assert keep.nbytes == 16_000_000


def test_peak_memory_leaves_tracing_as_it_found_it() -> None:
    if tracemalloc.is_tracing():  # pragma: no cover - e.g. python -X tracemalloc
        pytest.skip("tracemalloc is already tracing")
    peak_memory(np.ones, 10)
    assert not tracemalloc.is_tracing()
    tracemalloc.start()
    try:
        outer = np.ones(1_000_000)
        _, peak = peak_memory(np.ones, 1000)
        assert peak < SLACK                  # outer's 8 MB is not counted
        assert tracemalloc.is_tracing()
        del outer
    finally:
        tracemalloc.stop()


def test_peak_memory_stops_tracing_on_error() -> None:
    def boom() -> None:
        raise RuntimeError("boom")

    was_tracing = tracemalloc.is_tracing()
    with pytest.raises(RuntimeError, match="boom"):
        peak_memory(boom)
    assert tracemalloc.is_tracing() == was_tracing
