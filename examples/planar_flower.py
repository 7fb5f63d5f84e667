"""A network with one hidden layer on the planar "flower" data set, checked against the lectures' backprop.

The lectures' 2-layer network (one tanh hidden layer, a sigmoid output), in their notation with
X of shape (n_x, m):

    Z[1] = W[1] X + b[1],  A[1] = tanh(Z[1]),  Z[2] = W[2] A[1] + b[2],  A[2] = sigma(Z[2])
    dZ[2] = A[2] - Y,                       dW[2] = (1/m) dZ[2] A[1]^T,  db[2] = (1/m) np.sum(dZ[2], axis=1)
    dZ[1] = W[2]^T dZ[2] * (1 - A[1]^2),    dW[1] = (1/m) dZ[1] X^T,     db[1] = (1/m) np.sum(dZ[1], axis=1)

(tanh'(z) = 1 - tanh(z)^2, the "(1 - (H[1])^2)" of the slides.) ``nn.MLP([2, 4, 1])`` builds the
same network with rows as examples; its weights have the lectures' shapes W[l]: (n[l], n[l-1]).
At the first and the last step of training this script checks that autograd's dW, db equal
``tinygrad_edu.reference.l_layer_backward`` (the formulas above in numpy) to 1e-10.

The flower is not linearly separable: logistic regression stays near chance, while 4 tanh
hidden units fit the petals. The script prints the learning curve and both accuracies.

Run:  python examples/planar_flower.py [--steps N]     (FAST=1: a short run)
"""

from __future__ import annotations

import argparse
import os

import numpy as np

import tinygrad_edu.nn as nn
from tinygrad_edu import Tensor, no_grad, optim, reference
from tinygrad_edu.data import make_flower


def reference_grads(model: nn.MLP, X: np.ndarray, Y: np.ndarray) -> dict[str, np.ndarray]:
    """The lectures' vectorised backprop in numpy, on the model's current weights."""
    AL, caches = reference.l_layer_forward(X.T, nn.lecture_params(model), hidden_activation="tanh")
    return reference.l_layer_backward(AL, Y.T, caches, hidden_activation="tanh")


def check_against_reference(model: nn.MLP, X: np.ndarray, Y: np.ndarray) -> None:
    model.zero_grad()
    nn.binary_cross_entropy(model(Tensor(X)), Y).backward()
    ref = reference_grads(model, X, Y)
    for l, layer in enumerate([model[0], model[2]], start=1):
        assert np.allclose(layer.weight.grad.data, ref[f"dW{l}"], rtol=1e-10, atol=1e-12), f"dW{l}"
        assert np.allclose(layer.bias.grad.data, ref[f"db{l}"].ravel(), rtol=1e-10, atol=1e-12), f"db{l}"


def accuracy(model: nn.Module, X: np.ndarray, Y: np.ndarray) -> float:
    with no_grad():
        return float(np.mean((model(Tensor(X)).data > 0.5) == Y))


def train(model: nn.Module, X: np.ndarray, Y: np.ndarray, steps: int, lr: float) -> list[float]:
    """Batch gradient descent on J = -(1/m) sum [y log a + (1-y) log(1-a)]; returns J per step."""
    opt = optim.SGD(model.parameters(), lr=lr)
    costs = []
    for _ in range(steps):
        opt.zero_grad()
        J = nn.binary_cross_entropy(model(Tensor(X)), Y)
        J.backward()
        opt.step()  # W[l] := W[l] - alpha dW[l],  b[l] := b[l] - alpha db[l]
        costs.append(J.item())
    return costs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300 if os.environ.get("FAST") else 5000)
    args = parser.parse_args()

    Xr, yr = make_flower(400, seed=1)
    X, Y = Xr, yr.reshape(-1, 1).astype(float)  # rows are examples here; the reference gets X.T (n_x, m)

    logistic = nn.Sequential(nn.Linear(2, 1, init="zeros"), nn.Sigmoid())
    train(logistic, X, Y, args.steps, lr=0.5)
    acc_lr = accuracy(logistic, X, Y)

    model = nn.MLP([2, 4, 1], activation="tanh", output_activation="sigmoid", init="xavier", seed=3)
    check_against_reference(model, X, Y)
    costs = train(model, X, Y, args.steps, lr=1.2)
    check_against_reference(model, X, Y)
    acc_nn = accuracy(model, X, Y)

    print(f"Flower data: m = {len(X)} points, 2 classes; {args.steps} steps of batch gradient descent")
    for step in sorted({0, args.steps // 10, args.steps // 2, args.steps - 1}):
        print(f"  step {step:5d}  J = {costs[step]:.4f}")
    print(f"logistic regression accuracy: {acc_lr:.3f}")
    print(f"2-4-1 tanh network accuracy:  {acc_nn:.3f}")
    print("autograd's dW[1], db[1], dW[2], db[2] == the lectures' formulas (first and last step)")
    assert acc_lr < 0.7, "a line cannot separate the flower"
    assert acc_nn > acc_lr + 0.1, "the hidden layer should beat logistic regression clearly"
    assert costs[-1] < costs[0]
    if args.steps >= 5000:
        assert acc_nn > 0.85


if __name__ == "__main__":
    main()
