"""cs231n's max_pool_forward_fast and max_pool_backward_fast: reshape or im2col.

``max_pool_forward_reshape`` needs square windows that tile the input and
splits the gradient of a tied maximum equally between the tied positions;
``max_pool_forward_im2col`` takes any windows and gives the whole gradient
to the first maximum (``numpy.argmax``). ``max_pool_forward_fast`` picks
the first when it can, as the original does.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import _params
from ._pool_im2col import max_pool_backward_im2col, max_pool_forward_im2col
from ._pool_reshape import max_pool_backward_reshape, max_pool_forward_reshape


def max_pool_forward_fast(
    x: np.ndarray, pool_param: dict[str, Any]
) -> tuple[np.ndarray, tuple[str, Any]]:
    """Max pooling by reshape where the windows tile ``x``, else by im2col.

    The reshape path is taken when ``pool_height == pool_width == stride``
    and they divide ``H`` and ``W``, as in the original; the cache is
    ``('reshape', cache)`` or ``('im2col', cache)``. No Cython is needed on
    either path.

    Parameters
    ----------
    x : numpy.ndarray
        Input ``(N, C, H, W)``, any bool, integer or floating dtype.
    pool_param : dict
        ``'pool_height'``, ``'pool_width'`` and ``'stride'``.

    Returns
    -------
    out : numpy.ndarray
        ``(N, C, out_h, out_w)``, ``x``'s dtype.
    cache : tuple
        ``(method, cache)`` for :func:`max_pool_backward_fast`.

    Examples
    --------
    >>> import numpy as np
    >>> from im2col.cs231n import max_pool_forward_fast
    >>> x = np.zeros((1, 1, 5, 5))
    >>> max_pool_forward_fast(x, {"pool_height": 2, "pool_width": 2, "stride": 2})[1][0]
    'im2col'
    >>> max_pool_forward_fast(x, {"pool_height": 2, "pool_width": 2})
    Traceback (most recent call last):
    ...
    ValueError: pool_param is missing key(s) ['stride']; expected keys 'pool_height', 'pool_width' and 'stride', got ['pool_height', 'pool_width']
    """
    ph, pw, stride = _params.pool_param(pool_param)
    x = _params.data(x, "x")
    if ph == pw == stride and x.shape[2] % ph == 0 and x.shape[3] % pw == 0:
        out, cache = max_pool_forward_reshape(x, pool_param)
        return out, ("reshape", cache)
    out, im2col_cache = max_pool_forward_im2col(x, pool_param)
    return out, ("im2col", im2col_cache)


def max_pool_backward_fast(dout: np.ndarray, cache: tuple[str, Any]) -> np.ndarray:
    """Backward pass of :func:`max_pool_forward_fast`, by the cache's method.

    Parameters
    ----------
    dout : numpy.ndarray
        Upstream gradient ``(N, C, out_h, out_w)``.
    cache : tuple
        The ``(method, cache)`` returned by :func:`max_pool_forward_fast`.

    Returns
    -------
    numpy.ndarray
        ``dx``, from :func:`max_pool_backward_reshape` or
        :func:`max_pool_backward_im2col`.

    Examples
    --------
    >>> import numpy as np
    >>> from im2col.cs231n import max_pool_backward_fast
    >>> max_pool_backward_fast(np.ones((1, 1, 1, 1)), ("naive", None))
    Traceback (most recent call last):
    ...
    ValueError: cache must be ('reshape', cache) or ('im2col', cache) from max_pool_forward_fast, got method 'naive'
    """
    method, real_cache = _params.cache(cache, 2, "(method, cache)",
                                       "max_pool_forward_fast")
    if method == "reshape":
        return max_pool_backward_reshape(dout, real_cache)
    if method == "im2col":
        return max_pool_backward_im2col(dout, real_cache)
    raise ValueError(
        "cache must be ('reshape', cache) or ('im2col', cache) from "
        f"max_pool_forward_fast, got method {method!r}"
    )
