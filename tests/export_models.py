"""Models and helpers shared by the export tests (test_export.py: PyTorch; test_export_onnx.py: ONNX)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import strategies as st

import tinygrad_edu as tg
import tinygrad_edu.nn as nn


def mlp(dtype=np.float64) -> nn.Module:
    return nn.MLP([4, 8, 8, 8, 3], activation=["tanh", "leaky_relu", "selu"], output_activation="log_softmax",
                  seed=0, dtype=dtype)


def cnn(dtype=np.float64) -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1, seed=1, dtype=dtype), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(4, 4, 3, stride=2, padding=1, seed=2, dtype=dtype), nn.ELU(0.7),
        nn.AvgPool2d(2, stride=1, padding=1), nn.Sigmoid(),
        nn.Flatten(), nn.Dropout(0.25, seed=0), nn.Linear(4 * 3 * 3, 5, seed=3, dtype=dtype), nn.Softmax(),
    )


MODELS = {"mlp": (mlp, (4,)), "cnn": (cnn, (1, 8, 8))}


def inputs(shape: tuple[int, ...], batch: int, dtype=np.float64, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(batch, *shape)).astype(dtype)


def ours_with_grads(model: nn.Module, x: np.ndarray, r: np.ndarray) -> tuple[np.ndarray, np.ndarray, dict]:
    model.zero_grad()
    xt = tg.Tensor(x, requires_grad=True)
    out = model(xt)
    (out * r).sum().backward()
    return out.data, xt.grad.data, {name: p.grad.data for name, p in model.named_parameters()}


def torch_with_grads(module, x: np.ndarray, r: np.ndarray) -> tuple[np.ndarray, np.ndarray, dict]:
    import torch

    module.zero_grad()
    xt = torch.tensor(x, requires_grad=True)
    out = module(xt)
    (out * torch.tensor(r)).sum().backward()
    return (out.detach().numpy(), xt.grad.numpy(),
            {name: p.grad.numpy() for name, p in module.named_parameters()})


def ort_session(path):
    ort = pytest.importorskip("onnxruntime")
    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])


ACTIVATIONS = [nn.ReLU, nn.Sigmoid, nn.Tanh, nn.SELU, nn.Identity, lambda: nn.LeakyReLU(0.3), lambda: nn.ELU(0.5),
                lambda: nn.Softmax(axis=-1), lambda: nn.LogSoftmax(axis=-1), lambda: nn.Dropout(0.5)]


@st.composite
def random_mlps(draw):
    """A Sequential of Linear layers (some without bias) with random activations between them."""
    widths = draw(st.lists(st.integers(1, 5), min_size=2, max_size=5))
    layers: list = []
    for i, (n_in, n_out) in enumerate(zip(widths, widths[1:])):
        layers.append(nn.Linear(n_in, n_out, bias=draw(st.booleans()), seed=i))
        layers.append(draw(st.sampled_from(ACTIVATIONS))())
    return nn.Sequential(*layers).eval(), widths[0], draw(st.integers(1, 4)), draw(st.integers(0, 2**16))


class Block(nn.Module):
    """Custom code: reshapes with the batch size, reductions, a layer norm, softmax, indexing."""

    def __init__(self) -> None:
        super().__init__()
        self.lin = nn.Linear(6, 6, seed=0)
        self.scale = nn.Parameter(np.linspace(0.5, 1.5, 6))

    def forward(self, x):
        h = x.reshape(x.shape[0], -1)
        z = self.lin(h).tanh() * self.scale + h.exp() / 4 - h.abs().sqrt()
        z = (z - z.mean(axis=1, keepdims=True)) / (z.var(axis=1, keepdims=True) + 1e-5) ** 0.5
        z = tg.maximum(z.log_softmax(axis=-1), -3.0) + z.softmax(axis=-1).max(axis=1, keepdims=True)
        return z.reshape(x.shape[0], 2, 3)[:, 1, ::2].permute(1, 0).pad(((1, 0), (0, 0))) @ np.ones((x.shape[0], 2))


class Functional(nn.Module):
    """conv2d / pooling called as functions: traced through their primitives (gathers, batch-sized reshapes)."""

    def __init__(self) -> None:
        super().__init__()
        self.w = nn.Parameter(np.random.default_rng(0).normal(size=(3, 2, 3, 3)))
        self.b = nn.Parameter(np.arange(3.0))

    def forward(self, x):
        z = nn.conv2d(x, self.w, self.b, stride=(1, 2), padding=1, method="im2col")
        z = nn.conv2d(x, self.w, None, stride=1, padding=(0, 1)).relu().sum(axis=(2, 3), keepdims=True) + z
        z = nn.avg_pool2d(z, 3, stride=2, padding=1) + nn.max_pool2d(z, 2, stride=1, padding=1)[:, :, :8:2, :2]
        return z.flatten(1)


class NewOps(nn.Module):
    """The primitives added by issues 16 and 17: fused linear, im2col, window sums, max pool, sin/cos,
    log1p/expm1 (at tiny and huge arguments), cumsum, concatenate."""

    def __init__(self, dtype=np.float64, overflow: bool = True) -> None:
        super().__init__()
        self.overflow = overflow
        rng = np.random.default_rng(0)
        self.w = nn.Parameter(rng.normal(size=(2, 2, 3, 3)), dtype=dtype)
        self.lin = nn.Parameter(rng.normal(size=(4, 24)), dtype=dtype)
        self.b = nn.Parameter(rng.normal(size=4), dtype=dtype)

    def forward(self, x):
        z = nn.conv2d(x, self.w, None, padding=1)  # (N, 2, 4, 6) through im2col
        z = tg.concatenate([nn.avg_pool2d(z, 2), nn.max_pool2d(z, 3, stride=1, padding=1)[:, :, ::2, ::2]], axis=1)
        h = nn.linear(z.flatten(1), self.lin, self.b)  # (N, 4), the fused primitive
        tiny = h * 1e-12
        parts = [h.sin(), h.cos(), tiny.log1p() * 1e12, tiny.expm1() * 1e12]
        if self.overflow:
            parts += [(h * 1000).expm1(), (h * -1000).expm1()]
        return tg.concatenate([*parts, h.abs().log1p(), h.cumsum(axis=1)], axis=1)
