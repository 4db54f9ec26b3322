"""Benchmarks of im2col.conv2d against the seed's algorithm and PyTorch.

OpenBLAS's worker threads keep spinning for about 2**28 cycles after each
call. On a 2-core machine that spinning steals a core from the PyTorch call
timed right after a NumPy one: measured here, PyTorch's S1 forward went from
about 5 ms alone to 12-25 ms when interleaved with NumPy GEMMs.
``OPENBLAS_THREAD_TIMEOUT=4`` (2**4 cycles) puts them to sleep at once; it
costs NumPy a few percent, so the ratios to PyTorch lean against NumPy. It
only takes effect if set before NumPy is first imported.
"""

import os
import sys

if "numpy" not in sys.modules:
    os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "4")
