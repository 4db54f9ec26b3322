"""Empty dimensions, against PyTorch: the same shapes and values where
PyTorch computes, an error where PyTorch raises (needs torch, the bench extra)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch
import torch.nn.functional as torch_f

from im2col import col2im, conv2d, conv2d_backward, im2col

RNG = np.random.default_rng(7)


def _torch_layer(x: np.ndarray, w: np.ndarray, b: np.ndarray, dout: Any,
                 **options: Any) -> tuple[np.ndarray, ...]:
    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    out = torch_f.conv2d(tx, tw, tb, **options)
    if dout is None:
        return (out.detach().numpy(),)
    out.backward(torch.tensor(dout))
    return (out.detach().numpy(), tx.grad.numpy(), tw.grad.numpy(), tb.grad.numpy())


@pytest.mark.parametrize("options", [{}, {"padding": 1, "stride": 2},
                                     {"padding": "same", "dilation": 2},
                                     {"groups": 3}], ids=str)
def test_empty_batch_matches_torch(options: dict[str, Any]) -> None:
    x = RNG.standard_normal((0, 3, 7, 7))
    w = RNG.standard_normal((6, 3 // options.get("groups", 1), 3, 3))
    b = RNG.standard_normal(6)
    (want,) = _torch_layer(x, w, b, None, **options)
    out = conv2d(x, w, b, **options)
    assert out.shape == want.shape
    dout = np.zeros(out.shape)
    _, dx_t, dw_t, db_t = _torch_layer(x, w, b, dout, **options)
    dx, dw, db = conv2d_backward(dout, x, w, **options)
    for got, expected in ((dx, dx_t), (dw, dw_t), (db, db_t)):
        assert got.shape == expected.shape
        np.testing.assert_array_equal(got, expected)


def test_empty_batch_unfold_matches_torch() -> None:
    x = RNG.standard_normal((0, 3, 6, 6))
    cols = im2col(x, 3, padding=1)
    want = torch_f.unfold(torch.tensor(x), 3, padding=1).numpy()  # (N, C*9, L)
    assert cols.shape == (want.shape[1], want.shape[0] * want.shape[2])
    back = torch_f.fold(torch.tensor(want), (6, 6), 3, padding=1).numpy()
    assert col2im(cols, x.shape, 3, padding=1).shape == back.shape


@pytest.mark.parametrize(("x_shape", "w_shape", "options"), [
    ((2, 3, 5, 5), (0, 3, 3, 3), {}),               # no filter
    ((2, 3, 0, 5), (4, 3, 1, 1), {}),               # no rows
    ((2, 3, 0, 5), (4, 3, 1, 1), {"padding": 1}),   # no rows, padded
    ((2, 3, 5, 0), (4, 3, 1, 1), {}),               # no columns
    ((2, 3, 5, 5), (4, 3, 0, 3), {}),               # no kernel rows
], ids=["F=0", "H=0", "H=0 padded", "W=0", "kh=0"])
def test_refused_where_torch_raises(x_shape: tuple[int, ...], w_shape: tuple[int, ...],
                                    options: dict[str, Any]) -> None:
    x, w = np.zeros(x_shape), np.zeros(w_shape)
    with pytest.raises(RuntimeError):
        torch_f.conv2d(torch.tensor(x), torch.tensor(w), **options)
    with pytest.raises(ValueError, match=r"^(x|w) must have "):
        conv2d(x, w, **options)


def test_empty_channels_follow_the_definition_not_torch() -> None:
    """C = 0: each output is a sum over no taps, so ``out = b``, ``(N, F, oh, ow)``.

    PyTorch (2.x, CPU) returns an ``(N, 0, oh, ow)`` array instead, which has
    not the F channels its own formula gives, and a zero bias gradient; this
    test shows the difference so that a change on either side is noticed.
    """
    x, w, b = np.zeros((2, 0, 5, 5)), np.zeros((4, 0, 3, 3)), RNG.standard_normal(4)
    (want,) = _torch_layer(x, w, b, None)
    assert want.shape == (2, 0, 3, 3)
    out = conv2d(x, w, b)
    assert out.shape == (2, 4, 3, 3)
    np.testing.assert_array_equal(out, np.broadcast_to(b[:, None, None], out.shape))
    dout = RNG.standard_normal(out.shape)
    dx, dw, db = conv2d_backward(dout, x, w)
    assert (dx.shape, dw.shape) == (x.shape, w.shape)
    np.testing.assert_allclose(db, dout.sum(axis=(0, 2, 3)))
