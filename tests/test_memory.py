"""memory_bill against the arrays actually made, and peak_memory."""

from __future__ import annotations

import itertools
import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import pytest
from docs.examples.cs231n_strided import strided_backward
from hypothesis import given, settings

import im2col.cs231n as cs
from im2col import MemoryBill, conv2d, im2col, memory_bill, peak_memory
from im2col._layer import shares
from im2col.cs231n import _conv_core as conv_core
from tests import reference as ref
from tests.strategies import Case, cases, cs231n_cases, floats

#: Bytes of Python objects a call allocates besides its arrays (slices,
#: tuples, frames): a few KiB (about 3 KiB seen on Python 3.9 to 3.13), with room.
PYTHON_OBJECTS = 16 * 1024


def numpy_buffers(dtype: Any) -> int:
    """Most bytes NumPy's buffers of one binary ufunc hold: three operands."""
    return 3 * np.getbufsize() * np.dtype(dtype).itemsize


#: Allowance for NumPy's small temporaries: a buffered ufunc loop (col2im's
#: ``+=`` of a transposed tap) holds up to 8192 elements per operand.
SLACK = numpy_buffers(np.float64) + PYTHON_OBJECTS


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


# ------------------------------------------------- peaks: arrays and buffers

#: Layers of the peak tests: ``(x_shape, F)``, each with every kernel of
#: :data:`KERNELS` and stride of :data:`STRIDES`, padding ``k // 2`` (and 0).
#: Sizes of 1 (``N``, ``F``, ``oh*ow``) make NumPy skip a copy.
LAYERS = [
    ((1, 3, 32, 32), 16), ((2, 3, 32, 32), 1), ((4, 3, 32, 32), 16),
    ((16, 3, 32, 32), 16), ((2, 16, 16, 16), 32), ((4, 32, 16, 16), 4),
    ((3, 2, 5, 5), 5), ((1, 8, 32, 32), 16),
]
KERNELS, STRIDES = (1, 3, 5), (1, 2, 3)


@contextmanager
def buffer_size(size: int | None) -> Iterator[None]:
    """NumPy's ufunc buffer size ``size`` (elements) inside; ``None`` leaves it."""
    old = np.setbufsize(size) if size is not None else None
    try:
        yield
    finally:
        if old is not None:
            np.setbufsize(old)


def cs231n_layer(x_shape: tuple[int, ...], F: int, k: int, stride: int, pad: int,
                 dtype: Any) -> tuple[Any, ...]:
    """``(x, w, b, conv_param, bill)`` of a layer of ``F`` filters ``k`` x ``k``."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=x_shape).astype(dtype)
    w = rng.normal(size=(F, x_shape[1], k, k)).astype(dtype)
    bill = memory_bill(x.shape, w.shape, stride=stride, padding=pad, dtype=dtype)
    return x, w, np.zeros(F, dtype), {"stride": stride, "pad": pad}, bill


def copies_output(out: np.ndarray) -> bool:
    """Whether the forward copies the transposed product: not at ``N`` or ``F`` of 1."""
    N, F, _, _ = out.shape
    return N > 1 and F > 1


def copies_dout(dout: np.ndarray) -> bool:
    """Whether cs231n's backward copies ``dout``: not at ``N``, ``F`` or ``oh*ow`` of 1."""
    N, F, oh, ow = dout.shape
    return N > 1 and F > 1 and oh * ow > 1


def layers() -> Iterator[tuple[tuple[int, ...], int, int, int, int]]:
    """``(x_shape, F, k, stride, pad)`` of every layer of the peak tests."""
    for (x_shape, F), k, s in itertools.product(LAYERS, KERNELS, STRIDES):
        for pad in sorted({k // 2, 0}):
            if k <= x_shape[2] + 2 * pad:
                yield x_shape, F, k, s, pad


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("bufsize", [None, 16])
def test_peaks_are_the_bills_arrays_plus_numpys_buffers(dtype: Any, bufsize: int | None) -> None:
    """Forward of the drop-in, backward of cs231n's algorithm (``strided_backward``).

    Each measured peak is at least the bytes of the arrays the pass holds
    at once (the bill's peak, less the ``output`` of a copy NumPy skips)
    and at most that plus NumPy's buffers and some Python objects; with
    16-element buffers, the arrays to a few KiB.
    """
    with buffer_size(bufsize):
        slack = numpy_buffers(dtype) + PYTHON_OBJECTS
        for case in layers():
            x, w, b, param, bill = cs231n_layer(*case, dtype)
            (out, cache), forward = peak_memory(cs.conv_forward_strides, x, w, b, param)
            arrays = max(bill.padded + bill.columns,
                         bill.columns + bill.product + bill.output * copies_output(out))
            assert arrays <= forward <= arrays + slack, (case, forward, bill)
            dout = np.ones_like(out)
            _, backward = peak_memory(strided_backward, dout, x, w, cache[4],
                                      param["stride"], param["pad"])
            arrays = bill.backward_peak - bill.output * (not copies_dout(dout))
            assert arrays <= backward <= arrays + slack, (case, backward, bill)


@pytest.mark.parametrize("workers", [1, 2])
@pytest.mark.parametrize("bufsize", [None, 16])
def test_the_dropin_backward_holds_cs231ns_arrays_less_douts_copy_plus_two_w_per_worker(
    bufsize: int | None, workers: int, monkeypatch: Any,
) -> None:
    """At most :attr:`MemoryBill.backward_peak` less ``output`` (the copy of
    ``dout``, which it does not make) plus two arrays the size of ``w`` per
    worker (its part of ``dw`` and one image's product), whatever the batch;
    the measured peak adds NumPy's buffers and Python objects (each
    worker's own). A batch of
    one image, in one chunk, holds all of cs231n's other arrays: the padded
    gradient, the column gradient and ``dw``.
    """
    monkeypatch.setattr(conv_core, "default_workers", lambda: workers)
    with buffer_size(bufsize):
        for case in layers():
            for N in (1, case[0][0]):
                x, w, b, param, bill = cs231n_layer((N, *case[0][1:]), *case[1:], np.float64)
                out, cache = cs.conv_forward_strides(x, w, b, param)
                _, peak = peak_memory(cs.conv_backward_strides, np.ones_like(out), cache)
                arrays = bill.backward_peak - bill.output + 2 * workers * bill.weights
                slack = workers * (numpy_buffers(np.float64) + PYTHON_OBJECTS)
                assert peak <= arrays + slack, (case, N, peak, bill)
                if N == 1:
                    assert peak >= bill.backward_peak - bill.output, (case, peak, bill)


@pytest.mark.parametrize("workers", [1, 2])
@pytest.mark.parametrize(("x_shape", "F", "k", "s"), [
    ((4, 3, 32, 32), 16, 3, 1), ((48, 3, 32, 32), 16, 3, 1), ((192, 3, 32, 32), 16, 3, 1),
    ((64, 3, 32, 32), 16, 5, 2), ((256, 3, 32, 32), 16, 5, 2),
    ((64, 3, 32, 32), 16, 1, 3), ((800, 3, 32, 32), 16, 1, 3),
    ((20, 16, 16, 16), 32, 3, 2), ((3, 64, 32, 32), 8, 5, 1),
])
def test_the_dropin_backward_holds_the_padded_gradient_and_a_chunk_per_worker(
    x_shape: tuple[int, ...], F: int, k: int, s: int, workers: int, monkeypatch: Any,
) -> None:
    """Whatever the batch: the padded gradient ``dx`` is a view into, then
    per worker a chunk of images' column gradient and two arrays the size
    of ``w``.

    A chunk is ``step`` images, ``CHUNK_BYTES`` of column gradient (at
    least one image).
    """
    monkeypatch.setattr(conv_core, "default_workers", lambda: workers)
    x, w, b, param, bill = cs231n_layer(x_shape, F, k, s, k // 2, np.float64)
    out, cache = cs.conv_forward_strides(x, w, b, param)
    (dx, _, _), peak = peak_memory(cs.conv_backward_strides, np.ones_like(out), cache)
    assert dx.base is not None
    assert dx.base.nbytes == (bill.padded or bill.input)
    N = x_shape[0]
    step = max(1, conv_core.CHUNK_BYTES // (bill.columns // N))
    bound = (bill.padded or bill.input) + PYTHON_OBJECTS
    for lo, hi in shares(N, step, workers):
        n = min(step, hi - lo)
        bound += n * bill.columns // N + 2 * bill.weights + numpy_buffers(np.float64)
    assert peak <= bound, (peak, bound, bill)


@pytest.mark.parametrize("workers", [1, 2])
@pytest.mark.parametrize("N", [1, 4, 100])
def test_a_dout_in_another_order_is_copied_a_chunk_at_a_time(
    N: int, workers: int, monkeypatch: Any,
) -> None:
    """A Fortran-ordered ``dout`` (cs231n's copies any ``dout``) costs each
    worker a chunk of it at most: within cs231n's arrays plus two w-sized
    arrays per worker, and on a batch of many chunks far below."""
    monkeypatch.setattr(conv_core, "default_workers", lambda: workers)
    x, w, b, param, bill = cs231n_layer((N, 3, 31, 31), 25, 3, 2, 1, np.float64)
    out, cache = cs.conv_forward_strides(x, w, b, param)
    dout = np.asfortranarray(np.ones_like(out))
    (dx, dw, _), peak = peak_memory(cs.conv_backward_strides, dout, cache)
    want = cs.conv_backward_strides(np.ascontiguousarray(dout), cache)
    np.testing.assert_allclose(dx, want[0])
    np.testing.assert_allclose(dw, want[1])
    slack = workers * (numpy_buffers(np.float64) + PYTHON_OBJECTS)
    assert peak <= bill.backward_peak + 2 * workers * bill.weights + slack
    if N == 100:
        assert peak < bill.backward_peak / 2


def test_the_im2col_order_backward_holds_cs231ns_arrays() -> None:
    """``conv_backward_im2col``, like cs231n's, makes the whole column
    gradient and a copy of ``dout`` at once, beside the padded gradient."""
    x, w, b, param, bill = cs231n_layer((16, 3, 32, 32), 8, 3, 1, 1, np.float64)
    out, cache = cs.conv_forward_im2col(x, w, b, param)
    _, peak = peak_memory(cs.conv_backward_im2col, np.ones_like(out), cache)
    assert bill.backward_peak <= peak <= bill.backward_peak + SLACK


@pytest.mark.parametrize("workers", [1, 2])
def test_on_the_assignments_layer_the_dropin_backward_holds_less_than_cs231ns(
    workers: int, monkeypatch: Any,
) -> None:
    """Its batch of 100 is several chunks: less than half of cs231n's, and
    the padded gradient plus less than the columns."""
    monkeypatch.setattr(conv_core, "default_workers", lambda: workers)
    rng = np.random.default_rng(1)
    x, w = rng.normal(size=(100, 3, 31, 31)), rng.normal(size=(25, 3, 3, 3))
    bill = memory_bill(x.shape, w.shape, stride=2, padding=1)
    out, cache = cs.conv_forward_strides(x, w, np.zeros(25), {"stride": 2, "pad": 1})
    dout = np.ones_like(out)
    _, cs231ns = peak_memory(strided_backward, dout, x, w, cache[4], 2, 1)
    _, peak = peak_memory(cs.conv_backward_strides, dout, cache)
    assert peak < cs231ns / 2
    assert peak < bill.backward_peak / 2
    assert peak - bill.padded < bill.columns


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
