"""A softmax classifier for K classes: the handwritten digits (8x8 images, 10 classes).

The lectures' multi-class network ends in a softmax layer with K output units and the loss
L = -sum_k y_k log a_k (y one-hot), so for the cost J = (1/m) sum_i L(i)

    Z[L] = W[L] A[L-1] + b[L],   A[L] = softmax(Z[L]) (down the K classes),
    dZ[L] = A[L] - Y,            dW[L] = (1/m) dZ[L] A[L-1]^T,   db[L] = (1/m) np.sum(dZ[L], axis=1)

the same dZ[L] = A[L] - Y as for a sigmoid output with binary cross-entropy. (Softmax regression
"generalises logistic regression to C classes".)

This script
1. checks autograd's gradients of ``nn.cross_entropy`` (softmax + cross-entropy computed from the
   logits Z[L], stably) against ``reference.l_layer_backward(..., output_activation="softmax")``;
2. trains softmax regression (no hidden layer) and a 64-32-10 ReLU network with
   ``tinygrad_edu.train.fit`` (mini-batches of 64, Adam), on the digits shipped with the package
   (``tinygrad_edu.data.load_digits``), and reports train and test accuracy;
3. shows the predicted probabilities for one test image and its hard max.

Run:  python examples/softmax_classifier.py [--epochs N]     (FAST=1: a short run)
"""

from __future__ import annotations

import argparse
import os

import numpy as np

import tinygrad_edu.nn as nn
from tinygrad_edu import Tensor, optim, reference
from tinygrad_edu.data import load_digits, one_hot, standardize, train_test_split
from tinygrad_edu.train import evaluate, fit, predict


def check_gradients(model: nn.MLP, X: np.ndarray, y: np.ndarray) -> None:
    """Autograd on cross_entropy(Z[L], y) == the lectures' dW, db with dZ[L] = A[L] - Y."""
    model.zero_grad()
    nn.cross_entropy(model(Tensor(X)), y).backward()
    layers = [m for m in model.children() if isinstance(m, nn.Linear)]
    params = nn.lecture_params(model)
    Y = one_hot(y, 10).T  # the lectures' Y: (K, m)
    AL, caches = reference.l_layer_forward(X.T, params, "relu", output_activation="softmax")
    grads = reference.l_layer_backward(AL, Y, caches, "relu")
    for l, layer in enumerate(layers, start=1):
        assert np.allclose(layer.weight.grad.data, grads[f"dW{l}"], rtol=1e-9, atol=1e-12), f"dW{l}"
        assert np.allclose(layer.bias.grad.data, grads[f"db{l}"].ravel(), rtol=1e-9, atol=1e-12), f"db{l}"
    model.zero_grad()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3 if os.environ.get("FAST") else 30)
    args = parser.parse_args()

    X, y = load_digits()
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, seed=0, stratify=True)
    X_train, X_test = standardize(X_train, X_test)
    print(f"digits: {len(X_train)} training and {len(X_test)} test images of 8x8 = 64 pixels, 10 classes")

    results = {}
    for name, sizes in (("softmax regression 64-10", [64, 10]), ("network 64-32-10 (ReLU)", [64, 32, 10])):
        model = nn.MLP(sizes, activation="relu", seed=0)  # outputs Z[L]; cross_entropy applies the softmax
        check_gradients(model, X_train[:50], y_train[:50])
        history = fit(model, nn.cross_entropy, optim.Adam(model.parameters(), lr=0.01), (X_train, y_train),
                      epochs=args.epochs, batch_size=64, verbose=0, seed=0)
        test = evaluate(model, nn.cross_entropy, (X_test, y_test))
        results[name] = (history.train_accuracy[-1], test["accuracy"], model)
        print(f"  {name:26s} J: {history.train_loss[0]:.3f} -> {history.train_loss[-1]:.3f}   "
              f"train accuracy {history.train_accuracy[-1]:.3f}   test accuracy {test['accuracy']:.3f}")
    print("  autograd's dW, db == the lectures' dZ[L] = A[L] - Y backprop for both models")

    model = results["network 64-32-10 (ReLU)"][2]
    probs = Tensor(predict(model, X_test[:1])).softmax(axis=1).data[0]
    hard = (probs == probs.max()).astype(int)
    print(f"first test image (label {y_test[0]}): softmax =", np.array2string(probs, precision=3, suppress_small=True))
    print("  hard max =", hard.tolist())
    assert abs(probs.sum() - 1) < 1e-12 and hard.sum() == 1

    for _, (train_acc, test_acc, _) in results.items():
        assert test_acc > (0.85 if os.environ.get("FAST") else 0.93), test_acc
        assert train_acc > 0.85


if __name__ == "__main__":
    main()
