"""An L-layer network: autograd against the lectures' backprop, vectorised and per example.

The lectures' summary of forward and backward propagation for L layers (X of shape (n_x, m)):

    Z[l] = W[l] A[l-1] + b[l],   A[l] = g[l](Z[l]),   A[0] = X,   A[L] = sigma(Z[L]) = Y_hat
    dZ[L] = A[L] - Y
    dW[l] = (1/m) dZ[l] A[l-1]^T + (lambda/m) W[l],   db[l] = (1/m) np.sum(dZ[l], axis=1, keepdims=True)
    dZ[l-1] = W[l]^T dZ[l] * g'[l-1](Z[l-1])

and the per-example form with "error" terms delta (Neural Networks: Learning deck):

    for i = 1 to m:  delta[L] = a[L] - y(i);  delta[l] = W[l+1]^T delta[l+1] .* g'(z[l]);
                     Delta[l] := Delta[l] + delta[l] a[l-1]^T
    D[l] = (1/m) Delta[l] + (lambda/m) W[l]

(One slide writes the last line as (1/m) Delta + lambda Theta; for the cost with (lambda/2m) sum W^2
defined on the same slides the derivative is (lambda/m) W, which autograd confirms below -- see the
docstring of ``tinygrad_edu.reference``.)

This script builds the network with ``nn.MLP([2, 10, 8, 5, 1])`` (ReLU hidden layers, sigmoid
output), adds the L2 term with ``nn.l2_penalty(model, lam, m)``, and checks autograd's gradients
of J + (lambda/2m) sum ||W[l]||^2 against both forms (``reference.l_layer_backward`` and
``reference.l_layer_grads_delta_accumulation``) to 1e-10, before and after training. Then it
trains on the Playground "circle" data and prints the learning curve.

Run:  python examples/l_layer_network.py [--steps N]     (FAST=1: a short run)
"""

from __future__ import annotations

import argparse
import os

import numpy as np

import tinygrad_edu.nn as nn
from tinygrad_edu import Tensor, no_grad, optim, reference
from tinygrad_edu.data import make_circle, standardize

SIZES = [2, 10, 8, 5, 1]
LAMBDA = 0.1


def linear_layers(model: nn.MLP) -> list[nn.Linear]:
    return [m for m in model.children() if isinstance(m, nn.Linear)]


def cost(model: nn.MLP, X: np.ndarray, Y: np.ndarray) -> Tensor:
    """J_reg = -(1/m) sum [y log a + (1-y) log(1-a)] + (lambda/2m) sum_l ||W[l]||^2."""
    return nn.binary_cross_entropy(model(Tensor(X)), Y) + nn.l2_penalty(model, LAMBDA, len(X))


def check_against_reference(model: nn.MLP, X: np.ndarray, Y: np.ndarray) -> float:
    """Assert autograd == both lecture forms; return the largest difference seen."""
    model.zero_grad()
    J = cost(model, X, Y)
    J.backward()
    params = nn.lecture_params(model)
    J_ref, vec = reference.l_layer_cost_and_grads(X.T, Y.T, params, lam=LAMBDA, hidden_activation="relu")
    loop = reference.l_layer_grads_delta_accumulation(X.T, Y.T, params, lam=LAMBDA, hidden_activation="relu")
    assert abs(J.item() - J_ref) < 1e-12
    worst = 0.0
    for l, layer in enumerate(linear_layers(model), start=1):
        for auto, key in ((layer.weight.grad.data, f"dW{l}"), (layer.bias.grad.data.reshape(-1, 1), f"db{l}")):
            for ref in (vec[key], loop[key]):
                assert np.allclose(auto, ref, rtol=1e-10, atol=1e-12), key
                worst = max(worst, float(np.max(np.abs(auto - ref))))
    return worst


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200 if os.environ.get("FAST") else 3000)
    args = parser.parse_args()

    Xr, yr = make_circle(300, noise=0.0, seed=0)
    (X,) = standardize(Xr)
    Y = yr.reshape(-1, 1).astype(float)
    model = nn.MLP(SIZES, activation="relu", output_activation="sigmoid", seed=0)
    print(f"L = {len(SIZES) - 1} layers, n = {SIZES}; weight shapes W[l] (n[l], n[l-1]):",
          [tuple(layer.weight.shape) for layer in linear_layers(model)])

    before = check_against_reference(model, X, Y)
    opt = optim.SGD(model.parameters(), lr=0.5)
    costs = []
    for _ in range(args.steps):
        opt.zero_grad()
        J = cost(model, X, Y)
        J.backward()
        opt.step()
        costs.append(J.item())
    after = check_against_reference(model, X, Y)
    with no_grad():
        acc = float(np.mean((model(Tensor(X)).data > 0.5) == Y))

    print(f"autograd vs vectorised and per-example backprop: max |difference| {before:.1e} (start), "
          f"{after:.1e} (end)")
    for step in sorted({0, args.steps // 10, args.steps // 2, args.steps - 1}):
        print(f"  step {step:5d}  J_reg = {costs[step]:.4f}")
    print(f"training accuracy on the circle: {acc:.3f}")
    assert costs[-1] < 0.5 * costs[0]
    assert acc > 0.9


if __name__ == "__main__":
    main()
