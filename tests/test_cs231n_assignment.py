"""The drop-ins played the way cs231n assignment 2 plays its fast layers.

A three-layer convnet (conv - relu - 2x2 max pool - affine - relu - affine
- softmax) written here from the assignment's conventions: parameters in a
dict ``W1, b1, W2, b2, W3, b3``, cast to ``dtype=np.float32`` by default
while the data are float64, the sandwich layers calling
``conv_forward_fast`` / ``max_pool_forward_fast`` and their backward
passes, ``conv_param = {'stride': 1, 'pad': (filter_size - 1) // 2}`` and
``pool_param = {'pool_height': 2, 'pool_width': 2, 'stride': 2}``. Then the
notebook's checks: the initial loss, a numeric gradient check, and
overfitting a small training set.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from im2col.cs231n import (
    conv_backward_fast,
    conv_forward_fast,
    max_pool_backward_fast,
    max_pool_forward_fast,
)


def softmax_loss(scores: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    shifted = scores - scores.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    n = len(y)
    dscores = np.exp(log_p)
    dscores[np.arange(n), y] -= 1
    return float(-log_p[np.arange(n), y].mean()), dscores / n


class ThreeLayerConvNet:
    """conv - relu - 2x2 max pool - affine - relu - affine - softmax."""

    def __init__(self, input_dim: tuple[int, int, int] = (3, 32, 32),
                 num_filters: int = 32, filter_size: int = 7, hidden_dim: int = 100,
                 num_classes: int = 10, weight_scale: float = 1e-3,
                 reg: float = 0.0, dtype: Any = np.float32, seed: int = 0) -> None:
        rng = np.random.default_rng(seed)
        C, H, W = input_dim
        self.reg = reg
        self.params = {
            "W1": weight_scale * rng.normal(size=(num_filters, C, filter_size, filter_size)),
            "b1": np.zeros(num_filters),
            "W2": weight_scale * rng.normal(size=(num_filters * H * W // 4, hidden_dim)),
            "b2": np.zeros(hidden_dim),
            "W3": weight_scale * rng.normal(size=(hidden_dim, num_classes)),
            "b3": np.zeros(num_classes),
        }
        self.params = {k: v.astype(dtype) for k, v in self.params.items()}

    def loss(self, X: np.ndarray, y: np.ndarray | None = None) -> Any:
        p = self.params
        conv_param = {"stride": 1, "pad": (p["W1"].shape[2] - 1) // 2}
        pool_param = {"pool_height": 2, "pool_width": 2, "stride": 2}
        a, conv_cache = conv_forward_fast(X, p["W1"], p["b1"], conv_param)
        relu1 = np.maximum(a, 0)
        pooled, pool_cache = max_pool_forward_fast(relu1, pool_param)
        flat = pooled.reshape(len(X), -1)
        h = flat.dot(p["W2"]) + p["b2"]
        relu2 = np.maximum(h, 0)
        scores = relu2.dot(p["W3"]) + p["b3"]
        if y is None:
            return scores
        loss, dscores = softmax_loss(scores, y)
        loss += 0.5 * self.reg * sum(np.sum(p[k] ** 2) for k in ("W1", "W2", "W3"))
        grads = {"W3": relu2.T.dot(dscores), "b3": dscores.sum(axis=0)}
        dh = dscores.dot(p["W3"].T) * (h > 0)
        grads["W2"], grads["b2"] = flat.T.dot(dh), dh.sum(axis=0)
        dpooled = dh.dot(p["W2"].T).reshape(pooled.shape)
        da = max_pool_backward_fast(dpooled, pool_cache) * (a > 0)
        _, grads["W1"], grads["b1"] = conv_backward_fast(da, conv_cache)
        for k in ("W1", "W2", "W3"):
            grads[k] = grads[k] + self.reg * p[k]
        return loss, grads


def numeric_gradient(f: Any, a: np.ndarray, h: float = 1e-6) -> np.ndarray:
    grad = np.zeros_like(a)
    for idx in np.ndindex(a.shape):
        saved = a[idx]
        a[idx] = saved + h
        plus = f()
        a[idx] = saved - h
        minus = f()
        a[idx] = saved
        grad[idx] = (plus - minus) / (2 * h)
    return grad


def rel_error(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))))


def test_float32_parameters_on_float64_data_initial_loss() -> None:
    """The notebook's sanity check: ten classes, tiny weights, loss log(10)."""
    model = ThreeLayerConvNet()
    assert model.params["W1"].dtype == np.float32
    rng = np.random.default_rng(1)
    X, y = rng.normal(size=(4, 3, 32, 32)), rng.integers(10, size=4)
    loss, grads = model.loss(X, y)
    assert abs(loss - math.log(10)) < 0.01
    assert set(grads) == set(model.params)
    assert all(grads[k].shape == model.params[k].shape for k in grads)
    model.reg = 0.5
    assert model.loss(X, y)[0] > loss                  # regularization adds


def test_numeric_gradient_check_small_model() -> None:
    rng = np.random.default_rng(231)
    X, y = rng.normal(size=(2, 3, 8, 8)), rng.integers(10, size=2)
    model = ThreeLayerConvNet(input_dim=(3, 8, 8), num_filters=3, filter_size=3,
                              hidden_dim=7, dtype=np.float64, weight_scale=1e-2)
    _, grads = model.loss(X, y)
    for name in sorted(grads):
        num = numeric_gradient(lambda: model.loss(X, y)[0], model.params[name])
        assert rel_error(num, grads[name]) < 1e-2, name   # the notebook's bound
        np.testing.assert_allclose(grads[name], num, rtol=1e-4, atol=1e-8)


def test_overfits_fifty_images() -> None:
    """50 random images with random labels: full-batch Adam memorises them."""
    rng = np.random.default_rng(2)
    X, y = rng.normal(size=(50, 3, 16, 16)), rng.integers(10, size=50)
    model = ThreeLayerConvNet(input_dim=(3, 16, 16), num_filters=8, filter_size=3,
                              hidden_dim=100, weight_scale=1e-2)
    m = {k: np.zeros_like(v) for k, v in model.params.items()}
    v = {k: np.zeros_like(p) for k, p in model.params.items()}
    lr, beta1, beta2, eps = 1e-2, 0.9, 0.999, 1e-8
    for t in range(1, 31):
        _, grads = model.loss(X, y)
        for k, p in model.params.items():
            m[k] = beta1 * m[k] + (1 - beta1) * grads[k]
            v[k] = beta2 * v[k] + (1 - beta2) * grads[k] ** 2
            step = lr * (m[k] / (1 - beta1 ** t)) / (np.sqrt(v[k] / (1 - beta2 ** t)) + eps)
            p -= step.astype(p.dtype)                  # parameters stay float32
    assert model.params["W1"].dtype == np.float32
    accuracy = np.mean(np.argmax(model.loss(X), axis=1) == y)
    assert accuracy == 1.0
