"""Benchmarks of im2col.conv2d against cs231n's algorithm and PyTorch.

Three settings keep one library's habits from being billed to another when
their calls are interleaved in one process; each must be made before the
library is loaded, so they are made here, on import of ``benchmarks``.

- ``openblas``: ``OPENBLAS_THREAD_TIMEOUT=4``. OpenBLAS's worker threads
  keep spinning for about 2**28 cycles after each call; on a 2-core machine
  that steals a core from the PyTorch call timed next. 2**4 cycles puts them
  to sleep at once.
- ``omp``: ``OMP_WAIT_POLICY=PASSIVE``, the same for PyTorch's OpenMP
  threads, which spin after each call and slow the NumPy call timed next.
- ``malloc``: glibc serves an allocation of 128 KiB or more with fresh
  pages from the kernel unless a larger block was freed before, so page
  faults cost a call more or less depending on what the other library
  freed just before. The mmap threshold is set to 32 MiB (glibc's ceiling)
  and trimming is put off: blocks below 32 MiB are reused, as in a long
  training loop; larger ones (cs231n's full column matrix on S3 and S5)
  still come fresh from the kernel on every call, a real cost of making
  that matrix per call.

``BENCH_SETTINGS`` (a comma-separated subset, default all three) chooses
them; ``python -m benchmarks.settings`` times S1 with each one left out, and
``make bench`` keeps that table with the results.
"""

import ctypes
import ctypes.util
import os
import sys

MMAP_THRESHOLD = 32 * 2**20
TRIM_THRESHOLD = 2**30


def _steady_allocator() -> bool:
    """Keep freed blocks below 32 MiB for reuse (glibc only)."""
    name = ctypes.util.find_library("c")
    if not name or not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(name)
        m_trim_threshold, m_mmap_threshold = -1, -3  # from glibc's malloc.h
        return bool(libc.mallopt(m_mmap_threshold, MMAP_THRESHOLD)
                    and libc.mallopt(m_trim_threshold, TRIM_THRESHOLD))
    except (OSError, AttributeError):
        return False


#: The settings exported as environment variables: (variable, value, the
#: module that reads it at import).
SETTING_ENV = {"openblas": ("OPENBLAS_THREAD_TIMEOUT", "4", "numpy"),
               "omp": ("OMP_WAIT_POLICY", "PASSIVE", "torch")}
ALL_SETTINGS = (*SETTING_ENV, "malloc")
SETTINGS = tuple(k for k in os.environ.get("BENCH_SETTINGS", ",".join(ALL_SETTINGS))
                 .split(",") if k in ALL_SETTINGS)
for _key, (_var, _value, _reader) in SETTING_ENV.items():
    if _key in SETTINGS and _reader not in sys.modules:
        os.environ.setdefault(_var, _value)
STEADY_ALLOCATOR = "malloc" in SETTINGS and _steady_allocator()
