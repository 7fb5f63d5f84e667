"""The symmetry problem: why weights must not start at zero.

With W[1] = 0 and W[2] = 0 every hidden unit computes the same activation
(a_1 = a_2 = ...), so backpropagation hands every unit the same error
(delta_1 = delta_2 = ...) and the same update: the rows of W[1] (one per hidden unit)
stay identical for ever, and the 8 hidden units are worth one. Random initialisation
(here Xavier: W ~ N(0, 2 / (n[l] + n[l-1]))) breaks the symmetry, and the units learn
different features. (From zeros the network is in effect a 1-unit network, which cannot fit XOR.)

This script trains a 2-8-1 sigmoid network on XOR-like data by plain gradient descent,
once from zeros and once from Xavier, and prints how far apart the hidden units end up
(the largest distance between two rows of W[1]) and the final accuracy.

Run:  python examples/symmetry.py [--steps N]
FAST=1 (or a small --steps) runs a short version, as the test suite does.
"""

from __future__ import annotations

import argparse
import os

import numpy as np

import tinygrad_edu.nn as nn
from tinygrad_edu import Tensor, no_grad


def xor_data(m: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """m points in [-1, 1]^2 (rows are examples) labelled 1 where x1 * x2 > 0."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, (m, 2))
    return X, (X[:, :1] * X[:, 1:] > 0).astype(float)


def train(init: str, X: np.ndarray, y: np.ndarray, steps: int, lr: float = 2.0) -> tuple[nn.MLP, float]:
    """Full-batch gradient descent on the cross-entropy cost; returns the model and its last cost."""
    model = nn.MLP([2, 8, 1], activation="sigmoid", output_activation="sigmoid", init=init, seed=0)
    for _ in range(steps):
        a = model(Tensor(X))
        cost = -(y * a.log() + (1 - y) * (1 - a).log()).mean()  # J = -(1/m) sum [y log a + (1-y) log(1-a)]
        model.zero_grad()
        cost.backward()
        for p in model.parameters():
            p.data -= lr * p.grad.data  # W := W - alpha dW
    return model, cost.item()


def unit_spread(W1: np.ndarray) -> float:
    """The largest distance between two hidden units' weight vectors (rows of W[1])."""
    return float(np.max(np.linalg.norm(W1[:, None, :] - W1[None, :, :], axis=2)))


def main() -> None:
    parser = argparse.ArgumentParser(description="Zero vs random initialisation (the symmetry problem).")
    parser.add_argument("--steps", type=int, default=50 if os.environ.get("FAST") else 2000)
    args = parser.parse_args()
    X, y = xor_data(200)
    results = {}
    for init in ("zeros", "xavier"):
        model, cost = train(init, X, y, args.steps)
        with no_grad():
            accuracy = float(np.mean((model(Tensor(X)).data > 0.5) == y))
        W1 = model[0].weight.data
        results[init] = unit_spread(W1)
        print(f"init={init:7s} cost={cost:.4f} accuracy={accuracy:.2f} spread of hidden units={results[init]:.2e}")
        print("  first rows of W[1]:", np.array2string(W1[:3], precision=4).replace("\n", "\n" + " " * 22))
    assert results["zeros"] < 1e-12, "zero init: every hidden unit should stay identical"
    assert results["xavier"] > 1e-2, "random init: hidden units should differ"
    print("zeros: all hidden units identical (symmetry never broken); xavier: units differ.")


if __name__ == "__main__":
    main()
