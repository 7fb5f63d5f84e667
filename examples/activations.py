"""Why non-linear activations, what tanh is, and which activation trains fastest.

Three claims of the activation-function slides (Deshbhratar, Scully), each shown on data:

1. **A network of linear layers is a line.** W[2](W[1] x + b[1]) + b[2] = W' x + b': however
   many linear layers, the decision boundary of a linear network is a straight line, so it
   cannot separate the Playground's "circle" (one class inside the other). The same network
   with tanh hidden units does.
2. **tanh(x) = 2 sigma(2x) - 1**: tanh is a rescaled, recentred sigmoid; so are their
   derivatives, tanh'(x) = 4 sigma'(2x).
3. **ReLU trains faster than tanh and sigmoid** ("the slope of the function stays large"):
   epochs of full-batch gradient descent to reach a training cost, for the same 2-16-16-1
   network, data, initial weights (same seed) and learning rate.

Run:  python examples/activations.py      (FAST=1: fewer epochs, as the test suite runs it)
"""

from __future__ import annotations

import os

import numpy as np

import tinygrad_edu as tg
from tinygrad_edu import nn, optim
from tinygrad_edu.data import make_circle, make_moons

FAST = os.environ.get("FAST") == "1"


def train(model: nn.Module, X: np.ndarray, y: np.ndarray, lr: float, epochs: int,
          target: float | None = None) -> tuple[list[float], int | None]:
    """Full-batch gradient descent on the BCE of the logit; returns the costs and the first
    epoch whose cost is below ``target`` (None if never; training stops there)."""
    opt = optim.SGD(model.parameters(), lr=lr)
    X_t, Y = tg.Tensor(X), y.reshape(-1, 1).astype(float)
    costs, reached = [], None
    for epoch in range(1, epochs + 1):
        opt.zero_grad()
        cost = nn.binary_cross_entropy_with_logits(model(X_t), Y)
        cost.backward()
        opt.step()
        costs.append(cost.item())
        if target is not None and costs[-1] < target:
            reached = epoch
            break
    return costs, reached


def accuracy(model: nn.Module, X: np.ndarray, y: np.ndarray) -> float:
    with tg.no_grad():
        return float(np.mean((model(tg.Tensor(X)).data.reshape(-1) > 0) == (y == 1)))


def linear_vs_nonlinear() -> None:
    X, y = make_circle(n=400, noise=0.05, seed=0)
    X = X / X.std()
    epochs = 300 if FAST else 1000
    results = {}
    for activation in ("linear", "tanh"):
        model = nn.MLP([2, 8, 8, 1], activation=activation, seed=0)
        train(model, X, y, lr=0.5, epochs=epochs)
        results[activation] = accuracy(model, X, y)
    # the linear network collapses to one line: W' = W[3] W[2] W[1]
    linear = nn.MLP([2, 8, 8, 1], activation="linear", seed=0)
    Ws = [p.data for name, p in linear.named_parameters() if name.endswith("weight")]
    collapsed = Ws[2] @ Ws[1] @ Ws[0]
    bs = [p.data for name, p in linear.named_parameters() if name.endswith("bias")]
    b_collapsed = Ws[2] @ (Ws[1] @ bs[0] + bs[1]) + bs[2]
    with tg.no_grad():
        direct = linear(tg.Tensor(X[:5])).data
    assert np.allclose(direct, X[:5] @ collapsed.T + b_collapsed)
    print("1. circle data, a 2-8-8-1 network after gradient descent:")
    print(f"   linear activations: accuracy {results['linear']:.2f} (one straight line cannot fence in a disk)")
    print(f"   tanh activations:   accuracy {results['tanh']:.2f}")
    assert results["linear"] < 0.75 and results["tanh"] > 0.95


def tanh_is_a_rescaled_sigmoid() -> None:
    x = tg.Tensor(np.linspace(-6, 6, 101), requires_grad=True)
    via_sigmoid = 2 * (2 * x).sigmoid() - 1
    np.testing.assert_allclose(x.tanh().data, via_sigmoid.data, atol=1e-15)
    via_sigmoid.sum().backward()
    s = 1 / (1 + np.exp(-2 * x.data))
    np.testing.assert_allclose(x.grad.data, 4 * s * (1 - s), atol=1e-15)   # tanh'(x) = 4 sigma'(2x)
    np.testing.assert_allclose(x.grad.data, 1 - np.tanh(x.data) ** 2, atol=1e-15)
    print("2. tanh(x) = 2 sigma(2x) - 1 and tanh'(x) = 4 sigma'(2x) = 1 - tanh(x)^2 on [-6, 6] (max error < 1e-15)")


def relu_trains_faster() -> None:
    X, y = make_moons(n=200, noise=0.1, seed=0)
    target, epochs = 0.15, 1500 if FAST else 4000
    print(f"3. epochs of gradient descent (lr 0.5) until the training cost < {target}, 2-16-16-1 on moons:")
    reached = {}
    for activation in ("relu", "tanh", "sigmoid"):
        model = nn.MLP([2, 16, 16, 1], activation=activation, seed=1)
        _, reached[activation] = train(model, X, y, lr=0.5, epochs=epochs, target=target)
        shown = reached[activation] if reached[activation] is not None else f"> {epochs}"
        print(f"   {activation:8s} {shown} epochs")
    never = epochs + 1
    relu, tanh_, sig = (reached[a] or never for a in ("relu", "tanh", "sigmoid"))
    assert relu < tanh_ < sig, reached


def main() -> None:
    linear_vs_nonlinear()
    tanh_is_a_rescaled_sigmoid()
    relu_trains_faster()


if __name__ == "__main__":
    main()
