"""conv2d's worker threads: same results, BLAS threads restored, clear errors."""

from __future__ import annotations

import os
import threading
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from threadpoolctl import threadpool_info, threadpool_limits

from im2col import _conv, _threads, conv2d, conv2d_backward, peak_memory
from im2col._strategies import STRATEGIES
from tests import reference as ref
from tests.strategies import (
    Case,
    cases,
    floats,
    lay_out,
    layouts,
    random_array,
    tolerance,
)


def blas_threads() -> list[int]:
    return [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]


def arrays(case: Case, dtype: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    g = ref.Geometry(case.x_shape, case.kernel, case.stride, case.padding,
                     case.dilation)
    x = random_array(case.seed, case.x_shape, dtype)
    w = random_array(case.seed + 1, case.w_shape, dtype)
    dout = random_array(case.seed + 2, (case.N, case.F, g.oh, g.ow), dtype)
    return x, w, dout


@settings(max_examples=150)
@given(case=cases(max_n=7), dtype=floats, layout=layouts,
       workers=st.integers(1, 5), strategy=st.sampled_from([None, *STRATEGIES]),
       images=st.one_of(st.none(), st.integers(1, 3)))
def test_any_workers_give_the_loop_results(
    case: Case, dtype: Any, layout: str, workers: int, strategy: str | None,
    images: int | None,
) -> None:
    """Forward and backward with 1-5 workers, every strategy that applies and
    a few unit sizes match the loop reference (dw is summed per share)."""
    x, w, dout = arrays(case, dtype)
    x = lay_out(x, layout)
    opts = {**case.options(), "groups": case.groups}
    layer = _conv._layer(x, w, **opts)
    if (strategy == "matmul" and not _conv.matmul_ok(layer, x)) or (
            strategy == "wide" and not _conv.wide_ok(layer)):
        return  # the strategy does not apply to this case
    out = _conv._forward(x, w, workers=workers, strategy=strategy,
                         images=images, **opts)
    grads = _conv._backward(dout, x, w, workers=workers, strategy=strategy,
                            images=images, **opts)
    np.testing.assert_allclose(out, ref.conv2d(x, w, **opts), **tolerance(dtype))
    for got, want in zip(grads, ref.conv2d_backward(dout, x, w, **opts)):
        np.testing.assert_allclose(got, want, **tolerance(dtype))


def test_shares_cover_every_image_once() -> None:
    x = np.zeros((11, 2, 6, 6))
    layer = _conv._layer(x, np.zeros((3, 2, 3, 3)), stride=1, padding=1,
                         dilation=1, groups=1)
    for workers in range(1, 14):
        for images in range(1, 12):
            p = _conv.plan(layer, x, None, backward=False, images=images,
                           workers=workers)
            shares = p.shares(layer.g)
            assert len(shares) == p.workers <= min(workers, -(-11 // images))
            assert shares[0][0] == 0
            assert shares[-1][1] == 11
            assert all(a[1] == b[0] for a, b in zip(shares, shares[1:]))
            # every share holds whole units
            assert all((hi - lo) % images == 0 or hi == 11 for lo, hi in shares)


def test_default_workers_follow_blas_threads() -> None:
    x, w = np.ones((4, 2, 8, 8)), np.ones((3, 2, 3, 3))
    layer = _conv._layer(x, w, stride=1, padding=1, dilation=1, groups=1)
    with threadpool_limits(1, user_api="blas"):
        assert _threads.default_workers() == 1
        assert _conv.plan(layer, x, None, backward=False,
                          workers=_conv._workers(None)).workers == 1
    with threadpool_limits(2, user_api="blas"):
        assert _threads.default_workers() == min(2, len(os.sched_getaffinity(0)))


def test_blas_threads_are_restored_after_calls_and_errors(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    before = blas_threads()
    x, w = np.ones((6, 2, 8, 8)), np.ones((3, 2, 3, 3))
    conv2d(x, w, padding=1, workers=3)
    conv2d_backward(np.ones((6, 3, 8, 8)), x, w, padding=1, workers=3)
    assert blas_threads() == before

    seen: list[list[int]] = []

    def failing(*args: Any) -> None:
        seen.append(blas_threads())
        raise RuntimeError("boom")

    monkeypatch.setattr("im2col._strategies._forward_share", failing)
    with pytest.raises(RuntimeError, match="boom"):
        conv2d(x, w, padding=1, workers=2)
    assert seen
    assert all(t == [1] * len(before) for t in seen)
    assert blas_threads() == before


def test_concurrent_calls_from_user_threads() -> None:
    """Calls from several threads at once overlap their single-BLAS-thread
    sections; each gets its own result and the last one restores BLAS."""
    before = blas_threads()
    rng = np.random.default_rng(3)
    xs = [rng.normal(size=(5, 3, 10, 9)) for _ in range(4)]
    w = rng.normal(size=(4, 3, 3, 3))
    results: list[np.ndarray | None] = [None] * len(xs)

    def work(i: int) -> None:
        for _ in range(5):
            results[i] = conv2d(xs[i], w, padding=1, workers=2)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(xs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for x, got in zip(xs, results):
        np.testing.assert_allclose(got, ref.conv2d(x, w, padding=1), rtol=1e-12,
                                   atol=1e-12)
    assert blas_threads() == before


@pytest.mark.parametrize(("workers", "error", "message"), [
    (0, ValueError, "workers must be >= 1, got 0"),
    (-2, ValueError, "workers must be >= 1, got -2"),
    (1.5, TypeError, "workers must be an int, got float 1.5"),
    ("2", TypeError, "workers must be an int, got str '2'"),
    (True, TypeError, "workers must be an int, got bool True"),
])
def test_bad_workers_are_named(workers: Any, error: type, message: str) -> None:
    x, w = np.ones((2, 1, 4, 4)), np.ones((1, 1, 3, 3))
    with pytest.raises(error, match=message.replace("(", r"\(").replace(")", r"\)")):
        conv2d(x, w, workers=workers)
    with pytest.raises(error, match=message.replace("(", r"\(").replace(")", r"\)")):
        conv2d_backward(np.ones((2, 1, 2, 2)), x, w, workers=workers)


def test_budget_counts_every_workers_buffers() -> None:
    """Under max_memory the plan's buffers, summed over workers (and their
    private dw), fit; the smallest budget leaves one worker, a roomy one two."""
    x = random_array(1, (8, 4, 16, 16), np.float64)
    w = random_array(2, (6, 4, 3, 3), np.float64)
    layer = _conv._layer(x, w, stride=1, padding=1, dilation=1, groups=1)
    for backward in (False, True):
        smallest = min(
            _conv.extra_bytes(layer, _conv.Plan(name, 1, 1), 8, backward=backward)
            for name in ("im2col", "shift", "wide"))
        p = _conv.plan(layer, x, _conv.OVERHEAD + smallest, backward=backward,
                       workers=2)
        assert (p.workers, p.images, p.rows) == (1, 1, 1)
        for budget in range(smallest, 40 * smallest, smallest // 3):
            p = _conv.plan(layer, x, _conv.OVERHEAD + budget,
                           backward=backward, workers=2)
            assert _conv.extra_bytes(layer, p, 8, backward=backward) <= budget
        p = _conv.plan(layer, x, 1 << 40, backward=backward, workers=2)
        assert p.workers == 2


def test_workers_give_identical_forward_results() -> None:
    """The forward pass does the same arithmetic per image whatever the
    workers: results are bitwise equal."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(9, 3, 12, 12)).astype(np.float32)
    w = rng.normal(size=(5, 3, 3, 3)).astype(np.float32)
    one = conv2d(x, w, padding=1, workers=1)
    for workers in (2, 3, 9, 20):
        assert np.array_equal(conv2d(x, w, padding=1, workers=workers), one)


def _child(queue: Any) -> None:
    x, w = np.ones((4, 2, 6, 6)), np.ones((3, 2, 3, 3))
    queue.put(float(conv2d(x, w, padding=1, workers=2).sum()))


def test_a_forked_child_makes_its_own_pool() -> None:
    """After os.fork the parent's pool threads do not exist in the child;
    the child starts a pool of its own instead of waiting on them."""
    import multiprocessing

    x, w = np.ones((4, 2, 6, 6)), np.ones((3, 2, 3, 3))
    expected = float(conv2d(x, w, padding=1, workers=2).sum())  # parent's pool
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    child = ctx.Process(target=_child, args=(queue,))
    child.start()
    child.join(60)
    assert child.exitcode == 0
    assert queue.get(timeout=5) == expected


def test_small_calls_stay_on_one_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    """A worker needs WORK_PER_WORKER multiply-adds (the backward counts
    twice the forward's): smaller calls run on the calling thread."""
    monkeypatch.setattr(_conv, "WORK_PER_WORKER", 8 * 2**20)
    x = np.zeros((10, 3, 32, 32), np.float32)
    w = np.zeros((32, 3, 7, 7), np.float32)  # 4.8M multiply-adds per image
    for n, fwd, bwd in ((1, 1, 1), (2, 1, 2), (4, 2, 4), (10, 2, 2)):
        layer = _conv._layer(x[:n], w, stride=1, padding=3, dilation=1, groups=1)
        got = [_conv.plan(layer, x[:n], None, backward=back,
                          workers=2 if n == 10 else 4).workers
               for back in (False, True)]
        assert got == [fwd, bwd], n


def _report_blas(queue: Any) -> None:
    queue.put((blas_threads(), _threads.default_workers()))


def test_a_fork_during_a_call_leaves_the_child_blas_unlimited() -> None:
    """Forked while a call holds BLAS at one thread, the child gets the
    original thread count back (no call is left in it to lift the limit)."""
    import multiprocessing

    before = blas_threads()
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    with _threads._one_blas_thread():
        assert blas_threads() == [1] * len(before)
        child = ctx.Process(target=_report_blas, args=(queue,))
        child.start()
        child.join(60)
    assert child.exitcode == 0
    threads, workers = queue.get(timeout=5)
    assert threads == before
    assert workers == min(min(before, default=1), len(os.sched_getaffinity(0)))


def test_budget_holds_with_two_workers() -> None:
    """Each worker's ufunc buffers are set aside (one OVERHEAD each): a
    strided layer whose += buffers are large stays within max_memory."""
    x = random_array(4, (8, 16, 64, 64), np.float64)
    w = random_array(5, (16, 16, 3, 3), np.float64)
    dout = np.ones((8, 16, 32, 32))
    budget = 1_000_000
    for _ in range(5):
        grads, peak = peak_memory(conv2d_backward, dout, x, w, stride=2,
                                  padding=1, max_memory=budget, workers=2)
        assert peak - sum(g.nbytes for g in grads) <= budget
        out, peak = peak_memory(conv2d, x, w, stride=2, padding=1,
                                max_memory=budget, workers=2)
        assert peak - out.nbytes <= budget


def test_calls_with_other_workers_overlap_safely() -> None:
    """User threads asking for different worker counts at once share one
    pool; every result is right and BLAS is restored at the end."""
    before = blas_threads()
    rng = np.random.default_rng(8)
    x, w = rng.normal(size=(6, 3, 9, 9)), rng.normal(size=(4, 3, 3, 3))
    expected = ref.conv2d(x, w, padding=1)
    errors: list[BaseException] = []

    def work(workers: int) -> None:
        try:
            for _ in range(20):
                np.testing.assert_allclose(conv2d(x, w, padding=1, workers=workers),
                                           expected, rtol=1e-12, atol=1e-12)
        except BaseException as err:
            errors.append(err)

    threads = [threading.Thread(target=work, args=(k,)) for k in (1, 2, 3, 8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert blas_threads() == before


def test_explicit_workers_are_capped_at_the_cpus() -> None:
    assert _conv._workers(10_000) == len(os.sched_getaffinity(0))
    assert _conv._workers(1) == 1
