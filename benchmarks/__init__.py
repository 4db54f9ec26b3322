"""Benchmarks of im2col.conv2d against the seed's algorithm and PyTorch.

Three settings keep one library's habits from being billed to another when
their calls are interleaved in one process; each must be made before the
library is loaded, so they are made here, on import of ``benchmarks``.

- ``OPENBLAS_THREAD_TIMEOUT=4``: OpenBLAS's worker threads keep spinning
  for about 2**28 cycles after each call, and on a 2-core machine that
  steals a core from the PyTorch call timed next (measured here: PyTorch's
  S1 forward went from about 5 ms to 12-25 ms). 2**4 cycles puts them to
  sleep at once.
- ``OMP_WAIT_POLICY=PASSIVE``: the same for PyTorch's OpenMP threads, which
  spin after each call and slow the NumPy call timed next (S1 forward,
  float32, 2 threads, one run: ``conv2d`` took 4.3x PyTorch's time with
  them spinning, 2.2x without). It costs PyTorch on the smallest shapes
  (same run: S1 2.04 instead of 1.81 ms, S2 0.57 instead of 0.38 ms; S3-S5
  within the noise).
- ``mallopt``: glibc serves each allocation of 128 KiB or more with fresh
  pages from the kernel unless a larger block was freed before; the page
  faults cost both libraries, and more to whichever allocates right after
  the other freed less. PyTorch's S1 forward took 4.3 ms alone and 1.5 ms
  with freed memory kept for reuse. The mmap threshold is set to 32 MiB
  (glibc's ceiling) and trimming is put off, so blocks below 32 MiB are
  reused, as in a long training loop; larger ones (the seed's full column
  matrix) still come fresh from the kernel.

These settings make a library that runs alone, call after call, slower or
faster by a few percent; they are recorded with every result.
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


if "numpy" not in sys.modules:
    os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "4")
if "torch" not in sys.modules:
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
STEADY_ALLOCATOR = _steady_allocator()
