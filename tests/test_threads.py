"""The worker threads: BLAS threads restored, no limit unless asked, forks."""

from __future__ import annotations

import os
import threading
from typing import Any

import numpy as np
import pytest
from threadpoolctl import threadpool_info, threadpool_limits

from im2col import _conv, _threads, conv2d, conv2d_backward, peak_memory
from tests import reference as ref
from tests.strategies import assert_each_close, threads_for_tiny_calls


def blas_threads() -> list[int]:
    return [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]


def test_default_workers_follow_blas_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    """With no other Python thread (as in a script), the default follows BLAS.

    ``alone`` is forced: earlier tests of a session (the browser tests' site
    server) may leave threads of their own running.
    """
    monkeypatch.setattr(_threads, "alone", lambda: True)
    with threadpool_limits(1, user_api="blas"):
        assert _threads.default_workers() == 1
        assert _conv.workers_of(None) == 1
    with threadpool_limits(2, user_api="blas"):
        assert _threads.default_workers() == min(2, len(os.sched_getaffinity(0)))


def test_default_leaves_blas_alone_beside_other_threads(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """While another Python thread exists, a default call runs on the
    calling thread and another thread's BLAS keeps its threads."""
    before = blas_threads()
    seen: list[list[int]] = []
    real = _threads.run

    def watching(tasks: list[Any], **kwargs: Any) -> list[Any]:
        seen.append(blas_threads())
        return real(tasks, **kwargs)

    monkeypatch.setattr(_threads, "run", watching)
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        assert not _threads.alone()
        assert _threads.default_workers() == 1
        with threads_for_tiny_calls(), threadpool_limits(2, user_api="blas"):
            x, w = np.ones((6, 2, 8, 8)), np.ones((3, 2, 3, 3))
            conv2d(x, w, padding=1)
            conv2d_backward(np.ones((6, 3, 8, 8)), x, w, padding=1)
            assert seen
            assert all(t == blas_threads() for t in seen)
    finally:
        stop.set()
        other.join()
    assert blas_threads() == before


def test_blas_threads_are_restored_after_calls_and_errors(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    before = blas_threads()
    x, w = np.ones((6, 2, 8, 8)), np.ones((3, 2, 3, 3))
    with threads_for_tiny_calls():
        conv2d(x, w, padding=1, workers=3)
        conv2d_backward(np.ones((6, 3, 8, 8)), x, w, padding=1, workers=3)
    assert blas_threads() == before

    seen: list[list[int]] = []

    def failing(*args: Any) -> None:
        seen.append(blas_threads())
        raise RuntimeError("boom")

    monkeypatch.setattr("im2col._run._forward_share", failing)
    with threads_for_tiny_calls(), pytest.raises(RuntimeError, match="boom"):
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

    with threads_for_tiny_calls():
        threads = [threading.Thread(target=work, args=(i,)) for i in range(len(xs))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert_each_close(results, [ref.conv2d(x, w, padding=1) for x in xs],
                      rtol=1e-12, atol=1e-12)
    assert blas_threads() == before


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

    with threads_for_tiny_calls():
        threads = [threading.Thread(target=work, args=(k,)) for k in (1, 2, 3, 8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert not errors
    assert blas_threads() == before


def _child(queue: Any) -> None:
    x, w = np.ones((4, 2, 6, 6)), np.ones((3, 2, 3, 3))
    with threads_for_tiny_calls():
        queue.put(float(conv2d(x, w, padding=1, workers=2).sum()))


def test_a_forked_child_makes_its_own_pool() -> None:
    """After os.fork the parent's pool threads do not exist in the child;
    the child starts a pool of its own instead of waiting on them."""
    import multiprocessing

    x, w = np.ones((4, 2, 6, 6)), np.ones((3, 2, 3, 3))
    with threads_for_tiny_calls():
        expected = float(conv2d(x, w, padding=1, workers=2).sum())  # parent's pool
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    child = ctx.Process(target=_child, args=(queue,))
    child.start()
    child.join(60)
    assert child.exitcode == 0
    assert queue.get(timeout=5) == expected


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


def test_blas_is_primed_once_on_the_calling_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    """The first call whose buffers are at least the priming product's makes
    that GEMM on the caller's thread before the workers start; no smaller
    call before it and no call after it does."""
    monkeypatch.setattr(_threads._state, "primed", False)
    seen: list[str] = []
    real = np.matmul

    def spy(a: Any, *args: Any, **kwargs: Any) -> Any:
        if getattr(a, "shape", None) == (_threads.PRIME_SIZE,) * 2:
            seen.append(threading.current_thread().name)
        return real(a, *args, **kwargs)

    monkeypatch.setattr(_threads.np, "matmul", spy)
    small = np.ones((6, 2, 8, 8)), np.ones((3, 2, 3, 3))
    large = np.ones((8, 16, 32, 32)), np.ones((8, 16, 3, 3))  # 2 x 8 images of columns
    before = blas_threads()
    with threads_for_tiny_calls():
        conv2d(*small, padding=1, workers=2)
        assert seen == []
        for _ in range(2):
            conv2d(*large, padding=1, workers=2)
    assert seen == [threading.current_thread().name]
    assert blas_threads() == before


def test_the_first_call_of_a_process_keeps_to_max_memory(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The one-time work of a process's first call (priming BLAS) does not
    raise its peak above ``max_memory``."""
    monkeypatch.setattr(_threads._state, "primed", False)
    x, w = np.ones((128, 8, 32, 32), np.float32), np.ones((16, 8, 3, 3), np.float32)
    for budget in (300_000, 600_000):
        out, peak = peak_memory(conv2d, x, w, padding=1, max_memory=budget)
        assert peak - out.nbytes <= budget


def test_pool_tasks_run_under_the_callers_numpy_settings() -> None:
    """``np.errstate``, ``np.seterrcall`` and ``np.setbufsize`` are kept
    per thread (NumPy 1) or in context variables (NumPy 2), which a new
    thread does not inherit: each pool task gets the caller's, and the
    pool's threads get their own back after."""
    def settings() -> tuple[int, str, Any]:
        return np.getbufsize(), np.geterr()["invalid"], np.geterrcall()

    def log(kind: str, flag: int) -> None:
        pass

    before = settings()
    default = np.setbufsize(16)
    try:
        with np.errstate(invalid="call", call=log):
            assert _threads.run([settings] * 3) == [(16, "call", log)] * 3
    finally:
        np.setbufsize(default)
    assert settings() == before
    assert _threads.run([settings] * 3) == [before] * 3


@pytest.mark.parametrize("workers", [1, 2])
def test_errstate_raise_holds_on_every_worker(workers: int) -> None:
    """An invalid value in the last image, which a pool thread computes
    with two workers, raises under ``np.errstate(invalid="raise")`` as it
    does on one."""
    x, w = np.ones((8, 16, 16, 16)), np.ones((16, 16, 3, 3))
    x[-1, 0, 5, 5], w[:, :, 1, 1] = np.inf, 0  # inf * 0 in the product
    with threads_for_tiny_calls(), np.errstate(invalid="raise"), pytest.raises(
            FloatingPointError, match="invalid"):
        conv2d(x, w, padding=1, workers=workers)
