"""Run a call's shares of images on several threads, BLAS single-threaded.

NumPy releases the GIL in its strided copies, its ufunc loops and
``matmul``, so Python threads that each unfold and multiply their own share
of the images run in parallel. BLAS's own threads would compete with them
for the cores, so while the shares run, the BLAS libraries that
:mod:`threadpoolctl` found at the first such call are limited to one
thread; the limit is lifted when the last overlapping call ends. That limit
is process-wide, so it is only set when no other thread can see it:

- ``workers=None`` (the default) runs worker threads only when the calling
  thread is the process's only Python thread besides this module's pool
  (:func:`alone`); then as many as BLAS may use when the call starts
  (``threadpoolctl.threadpool_limits(1)`` or ``OPENBLAS_NUM_THREADS=1``
  make it one). Where other threads exist, the call runs on the calling
  thread and leaves BLAS as it is.
- ``workers=n`` asks for ``n`` workers and the limit, whatever else runs.

NumPy keeps ``np.errstate`` and ``np.setbufsize`` per thread (NumPy 1) or
in context variables (NumPy 2), which a new thread does not inherit, so
each pool task runs under the caller's (:func:`_as_caller`).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from typing import Any, TypeVar

import numpy as np
from threadpoolctl import ThreadpoolController

T = TypeVar("T")


class _State:
    """The process's BLAS controller, thread pool and limit depth."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.depth = 0  # calls inside their single-BLAS-thread section
        self.limiter: Any = None
        self.blas: Any = None
        self.pool: ThreadPoolExecutor | None = None
        self.threads: set[threading.Thread] = set()  # the pool's
        self.primed = False  # see _prime_blas
        self.summing = threading.Lock()  # see summing
        self.small: bool | None = None  # see small_kernels


_state = _State()


def _blas() -> Any:
    if _state.blas is None:
        _state.blas = ThreadpoolController().select(user_api="blas")
    return _state.blas


def _blas_threads() -> int:
    return min((lib.num_threads for lib in _blas().lib_controllers), default=1)


def cpus() -> int:
    """CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        return os.cpu_count() or 1


def alone() -> bool:
    """Whether the calling thread is the only Python thread but the pool's.

    Then no other thread exists to see a process-wide BLAS limit while a
    call runs, nor can one start: the only thread that could start it is
    inside the call. (A pool thread not yet counted makes this False.)
    """
    return threading.active_count() == 1 + len(_state.threads)


#: OpenBLAS's cores whose float32 products of at most ``100**3``
#: multiply-adds go to small-matrix kernels that skip packing the operands
#: (``kernel/x86_64/sgemm_small_kernel_permit_skylakex.c``); the package's
#: blocks were measured on these kernels only (``python -m benchmarks.blocks``).
SMALL_KERNEL_CORES = frozenset({"SkylakeX"})


def small_kernels() -> bool:
    """Whether a small float32 product now runs on OpenBLAS's small-matrix kernels.

    That is, BLAS is OpenBLAS on a core of :data:`SMALL_KERNEL_CORES` and
    runs on one thread (a call's workers hold it there, or the program
    set it so). With more threads, one call can use them and the blocks,
    which run on the calling thread alone, cannot: there the blocks were
    at times much slower (``benchmarks.blocks``, ``grid``).
    """
    if _state.small is None:
        _state.small = any(lib.internal_api == "openblas"
                           and lib.architecture in SMALL_KERNEL_CORES
                           for lib in _blas().lib_controllers)
    return _state.small and single_blas(1)


def single_blas(workers: int) -> bool:
    """Whether each BLAS call of a call on ``workers`` runs on one thread.

    That is, ``workers > 1`` (the call holds BLAS at one thread), another
    call's workers hold it there now, or the program set it so.
    """
    return workers > 1 or _state.depth > 0 or _blas_threads() == 1


def default_workers() -> int:
    """Workers of ``workers=None``: see the module's docstring."""
    if not alone():  # also while another thread's call holds BLAS at one
        return 1
    return max(1, min(_blas_threads(), cpus()))


@contextmanager
def _one_blas_thread() -> Iterator[None]:
    """Limit BLAS to one thread; the last of overlapping calls restores it."""
    with _state.lock:
        if _state.depth == 0:
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


def _pool() -> ThreadPoolExecutor:
    """Return the process's pool: a thread per CPU but the caller's, made once."""
    with _state.lock:
        if _state.pool is None:
            _state.pool = ThreadPoolExecutor(
                max(1, cpus() - 1), thread_name_prefix="im2col",
                initializer=_register)
        return _state.pool


def _register() -> None:
    """Count the pool thread that runs this as the pool's (see :func:`alone`)."""
    with _state.lock:
        _state.threads.add(threading.current_thread())


def _forget() -> None:
    """In a forked child the pool's threads are gone: start afresh.

    A fork in the middle of a call leaves the child's BLAS limited to one
    thread with no call left to lift the limit: lift it here.
    """
    global _state
    if _state.depth and _state.limiter is not None:
        _state.limiter.restore_original_limits()
    _state = _State()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget)


#: Side of the square GEMM :func:`_prime_blas` makes: on the benchmark
#: machine a 128x128 product was not enough for every layer tried.
PRIME_SIZE = 256
#: Bytes of the priming product's two arrays.
PRIME_BYTES = 2 * PRIME_SIZE * PRIME_SIZE * 4


def _prime_blas() -> None:
    """Make one GEMM through BLAS's work buffers on the calling thread, once.

    On the benchmark machine (OpenBLAS 0.3.31), until a process's first
    GEMM of this size, OpenBLAS ran GEMMs of a few hundred rows and columns
    markedly slower, so a fresh process that only convolved ran slower than
    one that had made a large product before. This 256x256 float32 product
    takes about a millisecond, once per process, and changes no setting.
    Its arrays (:data:`PRIME_BYTES`) are freed before the call's own buffers
    are made, so :func:`run` primes only for calls whose buffers are at
    least as large: then it adds nothing to the call's peak memory.
    """
    if not _state.primed:
        a = np.ones((PRIME_SIZE, PRIME_SIZE), np.float32)
        np.matmul(a, a)
        _state.primed = True


def summing() -> threading.Lock:
    """Return the lock a call's workers hold while adding into a sum they share.

    It is the process's (a forked child gets a new one, as it does a new
    pool), so calls from several threads also take turns at their sums.
    """
    return _state.summing


def run(tasks: list[Callable[[], T]], *,
        buffer_bytes: Callable[[], int] = lambda: 0) -> list[T]:
    """Run ``tasks`` at once: the first on this thread, the rest on the pool.

    Each pool task runs under the caller's ``np.errstate`` and
    ``np.setbufsize``, as the first does. BLAS is single-threaded while
    more than one task runs. Every task
    submitted has finished when this returns or raises; the first error
    (the calling thread's first) is raised. ``buffer_bytes`` returns what the
    tasks will allocate, which says whether BLAS may be primed first
    (:func:`_prime_blas`); it is asked only until BLAS has been primed.
    """
    if not _state.primed and buffer_bytes() >= PRIME_BYTES:
        _prime_blas()
    if len(tasks) == 1:
        return [tasks[0]()]
    with _one_blas_thread():
        futures: list[Future[T]] = []
        try:
            pool = _pool()
            futures += [pool.submit(_as_caller(t)) for t in tasks[1:]]
            first = tasks[0]()
        finally:
            wait(futures)
    return [first, *(f.result() for f in futures)]


def _as_caller(task: Callable[[], T]) -> Callable[[], T]:
    """``task``, to run under this thread's NumPy error handling and buffer size.

    The pool thread's own settings are restored after it.
    """
    err, call, size = np.geterr(), np.geterrcall(), np.getbufsize()

    def run_as_caller() -> T:
        with np.errstate(**err):
            own = np.seterrcall(call), np.setbufsize(size)
            try:
                return task()
            finally:
                np.seterrcall(own[0])
                np.setbufsize(own[1])

    return run_as_caller
