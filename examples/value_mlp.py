"""Train a 2-16-16-1 network made of scalar Values on two interleaving half-moons.

Every weight is a :class:`tinygrad_edu.Value`; one step is the lectures' loop:

    forward:   z = MLP(x),  a = sigma(z)
    cost:      J = (1/m) sum_i L(a_i, y_i),  L(a, y) = -(y log a + (1 - y) log(1 - a))
    backward:  dJ/dw for every weight w (J.backward())
    update:    w := w - alpha * dw

The cost is computed from the logit z in the stable form L = max(z, 0) - z y + log(1 + e^-|z|),
which equals the formula above but never takes log(0).

Run:  python examples/value_mlp.py [--steps N] [--lr ALPHA] [--points M]
FAST=1 (or --steps 3) runs a few steps only, as the test suite does.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

from tinygrad_edu import Value
from tinygrad_edu.value_nn import MLP


def make_moons(m: int, noise: float = 0.1, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """m points on two half circles (labels 0 and 1), with Gaussian noise; X has shape (m, 2)."""
    rng = np.random.default_rng(seed)
    m0 = m // 2
    t0 = rng.uniform(0.0, np.pi, m0)
    t1 = rng.uniform(0.0, np.pi, m - m0)
    upper = np.stack([np.cos(t0), np.sin(t0)], axis=1)
    lower = np.stack([1.0 - np.cos(t1), 0.5 - np.sin(t1)], axis=1)
    X = np.concatenate([upper, lower]) + rng.normal(0.0, noise, (m, 2))
    y = np.concatenate([np.zeros(m0), np.ones(m - m0)])
    X = (X - X.mean(axis=0)) / X.std(axis=0)  # standardise the features
    return X, y


def cost(model: MLP, X: list[list[float]], y: list[float]) -> tuple[Value, float]:
    """J = mean binary cross-entropy from logits, and the accuracy of a = sigma(z) > 0.5."""
    losses = []
    correct = 0
    for x_i, y_i in zip(X, y):
        z = model(x_i)
        losses.append(z.relu() - z * y_i + (1.0 + (-z.abs()).exp()).log())
        correct += (z.data > 0) == (y_i == 1.0)
    return Value.sum(losses) * (1.0 / len(X)), correct / len(X)


def main(argv: list[str] | None = None) -> list[float]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=3 if os.environ.get("FAST") else 200)
    parser.add_argument("--lr", type=float, default=0.5, help="learning rate alpha")
    parser.add_argument("--points", type=int, default=100, help="training examples m")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    X, y = make_moons(args.points, seed=args.seed)
    X_list, y_list = X.tolist(), y.tolist()
    model = MLP(2, [16, 16, 1], seed=args.seed)
    params = model.parameters()
    print(f"{model}: {len(params)} parameters, m = {args.points} moons, alpha = {args.lr}")

    history = []
    start = time.perf_counter()
    for step in range(args.steps):
        J, accuracy = cost(model, X_list, y_list)
        model.zero_grad()
        J.backward()
        for p in params:  # gradient descent: w := w - alpha * dw
            p.data -= args.lr * p.grad
        history.append(J.data)
        if step % max(1, args.steps // 10) == 0 or step == args.steps - 1:
            print(f"step {step:3d}   cost J = {J.data:.4f}   accuracy = {accuracy:.0%}")
    print(f"{args.steps} steps in {time.perf_counter() - start:.1f} s")
    return history


if __name__ == "__main__":
    history = main()
    assert history[-1] < history[0], f"the cost did not go down: {history[0]:.4f} -> {history[-1]:.4f}"
