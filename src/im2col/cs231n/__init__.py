"""Drop-in replacements for every function of cs231n's ``fast_layers.py``.

Stanford CS231n's assignment 2 ships ``cs231n/fast_layers.py``: two fast
convolution layers (strided view and im2col), three max-pooling layers
(reshape, im2col, and ``fast``, which picks one) and the aliases
``conv_forward_fast`` / ``conv_backward_fast``. This module has the same
twelve names with the same signatures, ``conv_param`` keys (``'stride'``,
``'pad'``), ``pool_param`` keys (``'pool_height'``, ``'pool_width'``,
``'stride'``) and cache tuples, in pure NumPy (no Cython extension). So the
student's change is one line at the end of ``fast_layers.py``::

    from im2col.cs231n import *

Dtypes follow NumPy as the original does: ``out`` is
``numpy.result_type(x, w, b)``, so float32 parameters on float64 data give
float64, and uint8 images or an integer bias are accepted. The package's
own :func:`im2col.conv2d` is stricter (one float dtype, as PyTorch).

Examples
--------
>>> import numpy as np
>>> from im2col.cs231n import conv_backward_fast, conv_forward_fast
>>> rng = np.random.default_rng(0)
>>> x = rng.normal(size=(2, 3, 8, 8))
>>> w, b = rng.normal(size=(4, 3, 3, 3)).astype(np.float32), np.zeros(4, np.float32)
>>> out, cache = conv_forward_fast(x, w, b, {"stride": 1, "pad": 1})
>>> out.shape, out.dtype
((2, 4, 8, 8), dtype('float64'))
>>> dx, dw, db = conv_backward_fast(np.ones_like(out), cache)
>>> dx.shape, dw.shape, db.shape
((2, 3, 8, 8), (4, 3, 3, 3), (4,))
"""

from ._conv_layers import (
    conv_backward_im2col,
    conv_backward_strides,
    conv_forward_im2col,
    conv_forward_strides,
)
from ._pool_im2col import max_pool_backward_im2col, max_pool_forward_im2col
from ._pool_layers import max_pool_backward_fast, max_pool_forward_fast
from ._pool_reshape import max_pool_backward_reshape, max_pool_forward_reshape

conv_forward_fast = conv_forward_strides
"""The assignment's name for :func:`conv_forward_strides` (the same function).

Parameters
----------
x, w, b : numpy.ndarray
    As in :func:`conv_forward_strides`.
conv_param : dict
    As in :func:`conv_forward_strides`.

Examples
--------
>>> import numpy as np
>>> from im2col.cs231n import conv_forward_fast, conv_forward_strides
>>> conv_forward_fast is conv_forward_strides
True
>>> conv_forward_fast(np.ones((1, 1, 2, 2)), np.ones((1, 2, 1, 1)), np.zeros(1), {"stride": 1, "pad": 0})
Traceback (most recent call last):
...
ValueError: w must have C = 1 channels like x, got w.shape=(1, 2, 1, 1)
"""

conv_backward_fast = conv_backward_strides
"""The assignment's name for :func:`conv_backward_strides` (the same function).

Parameters
----------
dout : numpy.ndarray
    As in :func:`conv_backward_strides`.
cache : tuple
    As in :func:`conv_backward_strides`.

Examples
--------
>>> from im2col.cs231n import conv_backward_fast, conv_backward_strides
>>> conv_backward_fast is conv_backward_strides
True
>>> conv_backward_fast(None, None)
Traceback (most recent call last):
...
TypeError: cache must be the 5-tuple (x, w, b, conv_param, x_cols) from conv_forward_strides, got NoneType
"""

__all__ = [
    "conv_backward_fast",
    "conv_backward_im2col",
    "conv_backward_strides",
    "conv_forward_fast",
    "conv_forward_im2col",
    "conv_forward_strides",
    "max_pool_backward_fast",
    "max_pool_backward_im2col",
    "max_pool_backward_reshape",
    "max_pool_forward_fast",
    "max_pool_forward_im2col",
    "max_pool_forward_reshape",
]
