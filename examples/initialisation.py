"""Xavier and He initialisation: how the size of the activations evolves through depth.

(The symmetry problem -- why weights must not start at zero -- is ``examples/symmetry.py``.)

The lectures: "randomly initialize each Theta from [-eps, eps] (this should be small)" and "a
better method in practice is called 'Xavier/He' initialization",

    Xavier:  W[l] ~ N(0, sigma^2),  sigma = sqrt(2 / (n[l] + n[l-1]))   (the slide writes N(0, sigma))
    He:      W[l] ~ N(0, sigma^2),  sigma = sqrt(2 / n[l-1])            (for ReLU units)

"This encourages the variance of the outputs of a layer to be similar to the variance of the
inputs." Why: z_i = sum_j W_ij a_j has Var(z) = n[l-1] Var(W) E[a^2]. With Var(W) = 1/n[l-1]
(Xavier when n[l] = n[l-1]) and tanh (linear near 0) the variance is kept; ReLU zeroes half the
units, halving E[a^2], so He doubles Var(W) to 2/n[l-1]. A small fixed std (0.01) shrinks the
signal by a factor ~ 0.01 sqrt(n) per layer, so deep activations (and gradients) vanish.

The script pushes 500 standard-normal inputs through 10 layers of 256 units and prints the
standard deviation of the activations a[l] after each layer, and the gradient norm reaching
W[1], for each activation/initialisation pair. It asserts the textbook behaviour:
He + ReLU stays within a factor 2 of its first layer, Xavier + ReLU decays like (1/sqrt 2)^l,
N(0, 0.01^2) collapses to ~0 (with vanishing gradients), Xavier + tanh stays alive.

Run:  python examples/initialisation.py        (FAST=1: 128 units instead of 256)
"""

from __future__ import annotations

import os

import numpy as np

import tinygrad_edu.nn as nn
from tinygrad_edu import Tensor

FAST = bool(os.environ.get("FAST"))
WIDTH = 128 if FAST else 256
DEPTH = 10


def activation_stds(activation: str, init: str, X: np.ndarray) -> tuple[list[float], float]:
    """std of a[l] for l = 1..DEPTH, and ||dJ/dW[1]|| for J = mean of the last layer's outputs squared."""
    model = nn.MLP([X.shape[1]] + [WIDTH] * DEPTH, activation=activation, output_activation=activation,
                   init=init, seed=0)
    stds = []
    a = Tensor(X)
    for layer in model.children():
        a = layer(a)
        if not isinstance(layer, nn.Linear):
            stds.append(float(a.data.std()))
    (a * a).mean().backward()
    return stds, float(np.linalg.norm(model[0].weight.grad.data))


def main() -> None:
    X = np.random.default_rng(0).standard_normal((500, WIDTH))
    cases = [("relu", "he"), ("relu", "xavier"), ("relu", "normal"), ("tanh", "xavier"), ("tanh", "normal")]
    results = {}
    print(f"std of the activations a[l] through {DEPTH} layers of {WIDTH} units (input std 1)")
    print(f"{'activation + init':22s}" + "".join(f"{'l=' + str(l):>8s}" for l in range(1, DEPTH + 1))
          + f"{'|dW[1]|':>10s}")
    for activation, init in cases:
        stds, grad_norm = activation_stds(activation, init, X)
        results[(activation, init)] = (stds, grad_norm)
        name = f"{activation} + {'N(0, 0.01^2)' if init == 'normal' else init}"
        print(f"{name:22s}" + "".join(f"{s:8.3f}" if s >= 1e-3 else f"{s:8.0e}" for s in stds)
              + f"{grad_norm:10.1e}")

    he, _ = results[("relu", "he")]
    assert 0.5 * he[0] < he[-1] < 2 * he[0], "He + ReLU keeps the scale"
    xr, _ = results[("relu", "xavier")]
    ratio = (xr[-1] / xr[0]) ** (1 / (DEPTH - 1))
    assert 0.6 < ratio < 0.8, f"Xavier + ReLU shrinks by ~1/sqrt(2) = 0.71 per layer, got {ratio:.2f}"
    small, small_grad = results[("relu", "normal")]
    assert small[-1] < 1e-6 and small_grad < 1e-6 * results[("relu", "he")][1], "tiny weights: vanishing"
    xt, _ = results[("tanh", "xavier")]
    assert xt[-1] > 0.2, "Xavier + tanh keeps the units in their useful range"
    print(f"Xavier + ReLU shrinks by {ratio:.2f} per layer (1/sqrt(2) = 0.71); He + ReLU keeps the scale;")
    print("N(0, 0.01^2) weights make activations and gradients vanish; Xavier suits tanh.")


if __name__ == "__main__":
    main()
