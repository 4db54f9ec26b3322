"""Run a call's shares of images on several threads, BLAS single-threaded.

NumPy releases the GIL in its strided copies, its ufunc loops and
``matmul``, so Python threads that each unfold and multiply their own share
of the images run in parallel. BLAS's own threads would compete with them
for the cores, so while the shares run every BLAS library of the process is
limited to one thread (through :mod:`threadpoolctl`), then set back. The
default number of workers is the number of threads BLAS may use when the
call starts, so ``threadpoolctl.threadpool_limits(1)`` or
``OPENBLAS_NUM_THREADS=1`` makes every call single-threaded.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from typing import Any, TypeVar

from threadpoolctl import ThreadpoolController

T = TypeVar("T")


class _State:
    """The process's BLAS controller, thread pool and limit depth."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.depth = 0  # calls inside their single-BLAS-thread section
        self.saved = 1  # BLAS threads before the first of them
        self.limiter: Any = None
        self.blas: Any = None
        self.pool: ThreadPoolExecutor | None = None
        self.size = 0  # the pool's threads


_state = _State()


def _blas() -> Any:
    if _state.blas is None:
        _state.blas = ThreadpoolController().select(user_api="blas")
    return _state.blas


def _blas_threads() -> int:
    return min((lib.num_threads for lib in _blas().lib_controllers), default=1)


def _cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        return os.cpu_count() or 1


def default_workers() -> int:
    """Return the threads BLAS may use (as before any call of ours), at most the CPUs."""
    with _state.lock:
        threads = _state.saved if _state.depth else _blas_threads()
    return max(1, min(threads, _cpus()))


@contextmanager
def _one_blas_thread() -> Iterator[None]:
    """Limit BLAS to one thread; the last of overlapping calls restores it."""
    with _state.lock:
        if _state.depth == 0:
            _state.saved = _blas_threads()
            _state.limiter = _blas().limit(limits=1)
        _state.depth += 1
    try:
        yield
    finally:
        with _state.lock:
            _state.depth -= 1
            if _state.depth == 0:
                _state.limiter.restore_original_limits()
                _state.limiter = None


def _pool(size: int) -> ThreadPoolExecutor:
    with _state.lock:
        if _state.pool is None or _state.size < size:
            if _state.pool is not None:
                _state.pool.shutdown(wait=False)
            _state.pool = ThreadPoolExecutor(size, thread_name_prefix="im2col")
            _state.size = size
        return _state.pool


def _forget() -> None:
    """In a forked child the pool's threads are gone: start afresh."""
    global _state
    _state = _State()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget)


def run(tasks: list[Callable[[], T]]) -> list[T]:
    """Run ``tasks`` at once: the first on this thread, the rest on the pool.

    BLAS is single-threaded while more than one task runs. Every task has
    finished when this returns or raises; the first task's error wins.
    """
    if len(tasks) == 1:
        return [tasks[0]()]
    with _one_blas_thread():
        futures: list[Future[T]] = [_pool(len(tasks) - 1).submit(t)
                                    for t in tasks[1:]]
        try:
            first = tasks[0]()
        finally:
            wait(futures)
    return [first, *(f.result() for f in futures)]
