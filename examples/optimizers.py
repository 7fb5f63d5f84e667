"""Plain gradient descent vs momentum on an ill-conditioned problem: learning curves as numbers.

The model is linear regression y_hat = x W^T + b with the cost J = (1/m) sum_i (y_hat_i - y_i)^2,
on two features of very different scales (standard deviations 1 and 10). The cost surface is
a long narrow valley: its curvature is ~100x larger along the second weight than along the
first. Gradient descent (W := W - alpha dW) must keep alpha below 2 / (largest curvature)
or it diverges along the steep direction, and with such a small alpha it crawls along the
flat one.

Momentum in the lectures' form averages the gradients,

    V_dW := beta V_dW + (1 - beta) dW,      W := W - alpha V_dW,

so the back-and-forth components across the valley cancel in V while the steady component
along it does not. That lets it run stably with a much larger alpha (here 5x GD's), which
is what makes it faster (with the same alpha it is no faster than GD). The table prints the
gap J - J* to the least-squares optimum after each number of steps (``diverged`` once J
exceeds 1e6). SGD with Nesterov momentum and Adam are shown for comparison.

Run:  python examples/optimizers.py [--steps N] [--fast]
FAST=1 (or --fast) runs 60 steps, as the test suite does; the script asserts its own claims.
"""

from __future__ import annotations

import argparse
import os

import numpy as np

import tinygrad_edu.nn as nn
from tinygrad_edu import Tensor, optim


def make_data(m: int = 200, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """X of shape (m, 2) with feature scales 1 and 10; y = X w + b + noise, shape (m, 1)."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((m, 2)) * np.array([1.0, 10.0])
    y = X @ np.array([[2.0], [-0.3]]) + 0.5 + 0.1 * rng.standard_normal((m, 1))
    return X, y


def curve(make_optimizer, X: np.ndarray, y: np.ndarray, steps: int) -> list[float]:
    """J before each step and after the last one (stops early once J > 1e6: diverged)."""
    model = nn.Linear(2, 1, init="zeros")  # every run starts from W = 0, b = 0
    opt = make_optimizer(model.parameters())
    x_t = Tensor(X)
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        loss = nn.mse_loss(model(x_t), y)
        losses.append(loss.item())
        if not losses[-1] < 1e6:
            return losses
        loss.backward()
        opt.step()
    losses.append(nn.mse_loss(model(x_t), y).item())
    return losses


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--fast", action="store_true", help="60 steps (also FAST=1)")
    args = parser.parse_args()
    fast = args.fast or os.environ.get("FAST") == "1"
    steps = 60 if fast else args.steps

    X, y = make_data()
    curvature = np.linalg.eigvalsh(2.0 / len(X) * np.c_[X, np.ones(len(X))].T @ np.c_[X, np.ones(len(X))])
    alpha = 1.8 / curvature.max()  # just inside GD's stability limit 2 / (largest curvature)
    print(f"curvatures of J: {np.round(curvature, 2)} (ratio {curvature.max() / curvature.min():.0f})")
    print(f"GD is stable for alpha < {2 / curvature.max():.4f}; alpha = {alpha:.4f}\n")

    runs = {
        "GD a": lambda p: optim.SGD(p, lr=alpha),
        "GD 5a": lambda p: optim.SGD(p, lr=5 * alpha),
        "Momentum a": lambda p: optim.Momentum(p, lr=alpha, beta=0.9),
        "Momentum 5a": lambda p: optim.Momentum(p, lr=5 * alpha, beta=0.9),
        "Nesterov a/2": lambda p: optim.SGD(p, lr=alpha / 2, momentum=0.9, nesterov=True),
        "Adam 0.3": lambda p: optim.Adam(p, lr=0.3),
    }
    curves = {name: curve(make, X, y, steps) for name, make in runs.items()}

    # J* = the least-squares optimum; the table shows the gap J - J* (0 = converged).
    A = np.c_[X, np.ones(len(X))]
    best = float(np.mean((A @ np.linalg.lstsq(A, y, rcond=None)[0] - y) ** 2))
    print(f"J at the optimum J* = {best:.6f}; the table shows J - J* after each number of steps\n")
    checkpoints = sorted({0, 5, 10, 20, 40, steps} | set(range(0, steps + 1, 60)))
    print(f"{'step':>6}" + "".join(f"{name:>14}" for name in curves))
    for k in checkpoints:
        row = []
        for losses in curves.values():
            row.append(f"{losses[k] - best:14.3e}" if k < len(losses) else f"{'diverged':>14}")
        print(f"{k:>6}" + "".join(row))

    gap = {name: losses[-1] - best if len(losses) == steps + 1 else float("inf") for name, losses in curves.items()}
    print(f"\nafter {steps} steps: J - J* = {gap['GD a']:.3e} for GD, {gap['Momentum 5a']:.3e} for momentum (5 alpha)")

    # The claims above, checked.
    assert gap["GD 5a"] == float("inf"), "GD with 5x the stable step should diverge"
    assert gap["Momentum 5a"] < 0.1 * gap["GD a"], "momentum with a 5x step should beat GD clearly"
    assert 0 <= gap["GD a"] and 0 <= gap["Momentum 5a"] < 1e-2


if __name__ == "__main__":
    main()
