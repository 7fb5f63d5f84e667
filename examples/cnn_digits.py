"""Parameter sharing: a small convolutional network on the real 8x8 handwritten digits.

The lectures ("Parameter Sharing"): instead of one weight per pixel, "each unit in the hidden
layer looks at a different overlapping sub-region of the image, but these units share the same
weights" -- a convolution. Either "represent each element in the 'convolution' as a separate
unit but tie their weights together during backpropagation", which means the gradient of a
shared weight is the SUM of the gradients its copies would get:

    z[o, i, j] = b[o] + sum_{c,u,v} W[o, c, u, v] x[c, i+u, j+v]
    dW[o, c, u, v] = sum_{i,j} dz[o, i, j] x[c, i+u, j+v]          (summed over every position)

This script
1. checks that rule: a 3x3 kernel applied at 36 positions as 36 separate weight copies, whose
   gradients summed equal ``nn.Conv2d``'s weight gradient (to 1e-12);
2. shows what sharing buys: a shifted digit gives a shifted feature map (the same detector
   everywhere), and 80 parameters instead of 33,280 for a fully connected layer with the same
   512 hidden units (and the slide's numbers: a 64x64x3 image has 12,288 inputs, a shared
   4x4x3 theta 48 weights);
3. trains Conv(1->8, 3x3) - ReLU - MaxPool 2 - Conv(8->16, 3x3) - ReLU - MaxPool 2 - Linear(64->10)
   on ``tinygrad_edu.data.load_digits(images=True)`` (UCI digits, shipped with the package) with
   ``train.fit`` and reports the test accuracy.

Run:  python examples/cnn_digits.py [--epochs N]     (FAST=1: 3 epochs on 600 images)
"""

from __future__ import annotations

import argparse
import os

import numpy as np

import tinygrad_edu.nn as nn
from tinygrad_edu import Tensor, no_grad, optim
from tinygrad_edu.data import load_digits, train_test_split
from tinygrad_edu.train import evaluate, fit

FAST = bool(os.environ.get("FAST"))


def tied_weights_gradient() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(1, 1, 8, 8))
    kernel = rng.normal(size=(1, 1, 3, 3))
    r = rng.normal(size=(1, 1, 6, 6))  # a random upstream gradient dL/dz

    conv = nn.Conv2d(1, 1, 3, bias=False)
    conv.weight.data[...] = kernel
    (conv(Tensor(x)) * r).sum().backward()

    copies, total = [], None
    for i in range(6):
        for j in range(6):
            w = Tensor(kernel[0, 0], requires_grad=True)  # an untied copy for position (i, j)
            term = (w * x[0, 0, i : i + 3, j : j + 3]).sum() * r[0, 0, i, j]
            total = term if total is None else total + term
            copies.append(w)
    total.backward()
    summed = sum(w.grad.data for w in copies)
    diff = float(np.max(np.abs(conv.weight.grad.data[0, 0] - summed)))
    print(f"1. tied weights: Conv2d's dW == sum of the 36 untied copies' gradients (max |difference| {diff:.1e})")
    assert diff < 1e-12


def sharing() -> None:
    X, y = load_digits(images=True)
    img = np.zeros((1, 1, 8, 8))
    img[..., :, :6] = X[0, 0, :, 2:]  # the first digit, moved 2 pixels left
    shifted = np.roll(img, 2, axis=3)  # ... and back: the same digit at two positions
    conv = nn.Conv2d(1, 8, 3, seed=0)
    with no_grad():
        a, b = conv(Tensor(img)).data, conv(Tensor(shifted)).data
    # the feature map moves with the digit: same detector at every position
    assert np.allclose(b[..., 2:], a[..., :-2], atol=1e-12)
    n_conv = sum(p.size for p in conv.parameters())
    n_dense = sum(p.size for p in nn.Linear(64, 8 * 8 * 8).parameters())
    print("2. a digit moved 2 pixels right gives the same feature map moved 2 pixels right;")
    print(f"   8 feature maps of 8x8 = 512 units: Conv2d(1, 8, 3x3) has {n_conv} parameters "
          f"(8*9 + 8), a Linear(64, 512) {n_dense:,}")
    assert n_conv == 80 and n_dense == 33_280
    # the slide's soccer ball: a 64x64x3 image is 12,288 inputs; a shared theta in R^(4x4x3) has 48
    # weights (plus one bias), the same at every one of the 61x61 positions it slides over
    ball = nn.Conv2d(3, 1, 4, seed=0)
    n_theta = ball.weight.size
    with no_grad():
        positions = ball(Tensor(np.zeros((1, 3, 64, 64)))).shape[-2:]
    print(f"   the slide's 64x64x3 image: {64 * 64 * 3:,} inputs; one shared 4x4x3 theta: {n_theta} weights "
          f"at {positions[0]}x{positions[1]} positions")
    assert 64 * 64 * 3 == 12_288 and n_theta == 48 and positions == (61, 61)


def train(epochs: int) -> None:
    X, y = load_digits(images=True)
    X = X / 16.0  # pixels 0..16 -> 0..1
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, seed=0, stratify=True)
    if FAST:
        X_train, y_train = X_train[:600], y_train[:600]
    model = nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1, seed=0), nn.ReLU(), nn.MaxPool2d(2),   # (N, 8, 4, 4)
        nn.Conv2d(8, 16, 3, padding=1, seed=1), nn.ReLU(), nn.MaxPool2d(2),  # (N, 16, 2, 2)
        nn.Flatten(), nn.Linear(64, 10, init="xavier", seed=2),
    )
    print(f"3. training on {len(X_train)} images, testing on {len(X_test)}:")
    print("\n".join("   " + line for line in model.summary((1, 1, 8, 8)).splitlines()))
    history = fit(model, nn.cross_entropy, optim.Adam(model.parameters(), lr=0.01), (X_train, y_train),
                  epochs=epochs, batch_size=32, verbose=0, seed=0)
    test = evaluate(model, nn.cross_entropy, (X_test, y_test))
    for e, (loss, acc) in enumerate(zip(history.train_loss, history.train_accuracy), start=1):
        print(f"   epoch {e:2d}  J = {loss:.3f}  train accuracy {acc:.3f}")
    print(f"   test accuracy {test['accuracy']:.3f}")
    assert history.train_loss[-1] < history.train_loss[0]
    assert test["accuracy"] > (0.75 if FAST else 0.95)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3 if FAST else 15)
    args = parser.parse_args()
    tied_weights_gradient()
    sharing()
    train(args.epochs)


if __name__ == "__main__":
    main()
