"""The package against PyTorch, where it promises PyTorch's behaviour.

These run in the main environment only, with the CPU build of torch; the
package tests on the other Pythons (``make test-pythons``) leave this file out.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch
import torch.nn.functional as torch_f

from im2col import (
    conv2d,
    conv2d_backward,
    conv_output_size,
    max_pool2d,
    max_pool2d_backward,
)
from tests.strategies import tolerance

TORCH_CASES = [
    # x_shape, w_shape, options (PyTorch names and meanings)
    ((2, 3, 8, 8), (4, 3, 3, 3), {"padding": 1}),
    ((2, 4, 9, 7), (6, 2, 3, 3), {"groups": 2, "stride": 2, "padding": (1, 0)}),
    ((1, 4, 9, 9), (4, 1, 3, 3), {"groups": 4, "dilation": 2, "padding": 2}),
    ((2, 3, 7, 8), (2, 3, 2, 4), {"padding": "same"}),            # even kernels
    ((1, 2, 6, 9), (3, 2, 4, 2), {"padding": "same", "dilation": (1, 3)}),
    ((3, 2, 10, 7), (5, 2, 3, 2), {"stride": (3, 2), "dilation": (2, 1)}),
    ((2, 2, 5, 5), (2, 2, 4, 4), {"padding": "valid"}),
]


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(("x_shape", "w_shape", "options"), TORCH_CASES)
def test_matches_torch(
    x_shape: tuple[int, ...], w_shape: tuple[int, ...], options: dict[str, Any],
    dtype: Any,
) -> None:
    rng = np.random.default_rng(3)
    x = rng.normal(size=x_shape).astype(dtype)
    w = rng.normal(size=w_shape).astype(dtype)
    b = rng.normal(size=w_shape[0]).astype(dtype)
    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    tout = torch_f.conv2d(tx, tw, tb, **options)
    out = conv2d(x, w, b, **options)
    tol = tolerance(dtype)
    np.testing.assert_allclose(out, tout.detach().numpy(), **tol)

    dout = rng.normal(size=out.shape).astype(dtype)
    tout.backward(torch.tensor(dout))
    dx, dw, db = conv2d_backward(dout, x, w, **options)
    for got, tensor in ((dx, tx), (dw, tw), (db, tb)):
        assert tensor.grad is not None
        np.testing.assert_allclose(got, tensor.grad.numpy(), **tol)


@pytest.mark.parametrize(
    ("size", "kernel", "stride", "padding", "dilation"),
    [(32, 3, 1, 1, 1), (31, 3, 2, 1, 1), (7, 3, 1, 0, 2), (10, 4, 3, 2, 2),
     (5, 5, 1, 0, 1), (1, 3, 2, 1, 1), (9, 2, 2, 0, 3)],
)
def test_matches_torch_output_shape(
    size: int, kernel: int, stride: int, padding: int, dilation: int
) -> None:
    x = np.zeros((1, 1, size, size + 1))
    w = np.zeros((1, 1, kernel, kernel))
    t = torch_f.conv2d(torch.from_numpy(x), torch.from_numpy(w), stride=stride,
                       padding=padding, dilation=dilation)
    n = conv_output_size(size, kernel, stride=stride, padding=padding,
                         dilation=dilation)
    m = conv_output_size(size + 1, kernel, stride=stride, padding=padding,
                         dilation=dilation)
    assert tuple(t.shape[2:]) == (n, m)
    assert conv2d(x, w, stride=stride, padding=padding,
                  dilation=dilation).shape[2:] == (n, m)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_max_pooling_matches_torch(dtype: Any) -> None:
    """Forward and gradient against PyTorch's CPU max_pool2d on inputs
    full of ties, -inf (beside the padding) and NaNs, several per window."""
    rng = np.random.default_rng(5)
    tried = 0
    while tried < 120:
        shape = (2, 3, *rng.integers(3, 11, size=2))
        k, s = tuple(rng.integers(1, 5, size=2)), tuple(rng.integers(1, 4, size=2))
        p = tuple(int(rng.integers(0, k[a] // 2 + 1)) for a in range(2))
        if any(k[a] > shape[2 + a] + 2 * p[a] for a in range(2)):
            continue
        tried += 1
        x = rng.integers(-2, 3, size=shape).astype(dtype)
        x[x == -2] = -np.inf
        x[rng.random(shape) < 0.1] = np.nan
        xt = torch.tensor(x, requires_grad=True)
        want = torch_f.max_pool2d(xt, k, s, p)
        dout = rng.normal(size=want.shape).astype(dtype)
        want.backward(torch.from_numpy(dout))
        np.testing.assert_array_equal(max_pool2d(x, k, stride=s, padding=p),
                                      want.detach().numpy())
        np.testing.assert_allclose(max_pool2d_backward(dout, x, k, stride=s, padding=p),
                                   xt.grad.numpy(), **tolerance(dtype))


@pytest.mark.parametrize("value", [np.inf, np.nan])
def test_an_inf_or_nan_reaches_the_outputs_torchs_does(value: float) -> None:
    """On a layer the package computes with Winograd's tiles by default: an
    inf stays an inf, and an inf or a NaN reaches exactly PyTorch's outputs."""
    rng = np.random.default_rng(6)
    x, w = rng.random((2, 64, 16, 16)), rng.random((64, 64, 3, 3))
    x[1, 3, 8, 8] = value
    dout = rng.random((2, 64, 16, 16))
    xt, wt = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    want = torch_f.conv2d(xt, wt, padding=1)
    want.backward(torch.from_numpy(dout))
    got = conv2d(x, w, padding=1)
    grads = conv2d_backward(dout, x, w, padding=1)
    for ours, theirs in ((got, want.detach()), (grads[0], xt.grad), (grads[1], wt.grad)):
        np.testing.assert_array_equal(np.isnan(ours), torch.isnan(theirs).numpy())
        np.testing.assert_array_equal(np.isinf(ours), torch.isinf(theirs).numpy())
