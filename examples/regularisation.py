"""L2 regularisation is weight decay, and it narrows the gap between training and test accuracy.

The lectures' regularised cost adds (lambda/2m) times the sum of the squared weights (biases
excluded):

    J_reg = J + (lambda / 2m) sum_l sum_ij (W[l]_ij)^2,     so   dJ_reg/dW[l] = dW[l] + (lambda/m) W[l]

and one gradient-descent step becomes

    W := W - alpha (dW + (lambda/m) W) = (1 - alpha lambda/m) W - alpha dW.

"On each update, we make all the weights' magnitudes a little smaller": that is weight decay
with coefficient lambda' = lambda/m (the lectures' other slide writes J + (lambda'/2) ||w||^2,
whence (1 - alpha lambda') w). Part 1 checks this identity to 1e-15 three ways: autograd on
J + ``nn.l2_penalty(model, lambda, m)``, ``reference.weight_decay_update`` and
``optim.SGD(weights, lr, weight_decay=lambda/m)``.

Part 2 -- overfitting ("training accuracy is high, but test set accuracy is substantially
lower"): a 2-64-64-1 ReLU network trained on only 100 noisy "moons" points, tested on 300 others,
with lambda = 0 and lambda = 1. Without regularisation the training accuracy is higher than the
test accuracy by a wide margin; with it the gap almost closes and the weights are smaller.

Part 3 -- "as many 0 elements as possible" (one L2 slide) is L1's property, not L2's: logistic
regression on 20 features of which 3 matter, trained with the L1 term (lambda/m) sum |w| (by
gradient descent on J followed by the L1 term's proximal step, soft-thresholding
w := sign(w) max(|w| - alpha lambda/m, 0), which is how the TensorFlow Playground's L1 also lands
weights on exactly 0) and with the L2 term (weight decay). L1 sets most of the 17 useless weights
to exactly 0; L2 shrinks every weight and sets none to 0.

Run:  python examples/regularisation.py [--steps N]     (FAST=1: 400 steps)
"""

from __future__ import annotations

import argparse
import os

import numpy as np

import tinygrad_edu.nn as nn
from tinygrad_edu import Tensor, no_grad, optim, reference
from tinygrad_edu.data import make_moons, standardize, train_test_split


def weight_decay_identity() -> None:
    rng = np.random.default_rng(0)
    X, Y = rng.normal(size=(20, 3)), rng.integers(0, 2, (20, 1)).astype(float)
    m, lam, alpha = len(X), 0.7, 0.1

    def model_copy() -> nn.MLP:
        return nn.MLP([3, 4, 1], activation="tanh", output_activation="sigmoid", seed=1)

    # (a) gradient descent on the regularised cost, gradients by autograd
    a = model_copy()
    (nn.binary_cross_entropy(a(Tensor(X)), Y) + nn.l2_penalty(a, lam, m)).backward()
    optim.SGD(a.parameters(), lr=alpha).step()

    # (b) the lectures' weight-decay form on the UNregularised gradients (numpy reference)
    b = model_copy()
    nn.binary_cross_entropy(b(Tensor(X)), Y).backward()
    names = {"W1": b[0].weight, "b1": b[0].bias, "W2": b[2].weight, "b2": b[2].bias}
    params = {k: p.data.copy() for k, p in names.items()}
    grads = {f"d{k}": p.grad.data for k, p in names.items()}
    decayed = reference.weight_decay_update(params, grads, alpha, weight_decay=lam / m)

    # (c) SGD's weight_decay on the weights only (biases are not regularised)
    c = model_copy()
    nn.binary_cross_entropy(c(Tensor(X)), Y).backward()
    weights = [p for n, p in c.named_parameters() if n.endswith("weight")]
    biases = [p for n, p in c.named_parameters() if n.endswith("bias")]
    optim.SGD(weights, lr=alpha, weight_decay=lam / m).step()
    optim.SGD(biases, lr=alpha).step()

    worst = 0.0
    for k, pa, pc in zip(names, a.parameters(), c.parameters()):
        worst = max(worst, float(np.max(np.abs(pa.data - decayed[k]))), float(np.max(np.abs(pc.data - decayed[k]))))
    print(f"One step, lambda = {lam}, m = {m}, alpha = {alpha}: W := (1 - alpha lambda/m) W - alpha dW")
    print(f"  autograd on J + (lambda/2m) sum W^2 == reference.weight_decay_update == SGD(weight_decay=lambda/m): "
          f"max |difference| {worst:.1e}")
    assert worst < 1e-15


def overfitting(steps: int) -> None:
    X, y = make_moons(400, noise=0.3, seed=0)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.75, seed=0)
    X_train, X_test = standardize(X_train, X_test)
    Y_train, Y_test = y_train.reshape(-1, 1).astype(float), y_test.reshape(-1, 1).astype(float)
    m = len(X_train)
    print(f"\nOverfitting: a 2-64-64-1 ReLU network, {m} training and {len(X_test)} test points, {steps} GD steps")
    print(f"{'lambda':>7}{'train acc':>11}{'test acc':>10}{'gap':>7}{'train J':>9}{'test J':>8}{'sum W^2':>9}")
    results = {}
    for lam in (0.0, 1.0):
        model = nn.MLP([2, 64, 64, 1], activation="relu", output_activation="sigmoid", seed=0)
        opt = optim.SGD(model.parameters(), lr=0.5)
        for _ in range(steps):
            opt.zero_grad()
            J = nn.binary_cross_entropy(model(Tensor(X_train)), Y_train) + nn.l2_penalty(model, lam, m)
            J.backward()
            opt.step()
        with no_grad():
            p_train, p_test = model(Tensor(X_train)), model(Tensor(X_test))
            acc_train = float(np.mean((p_train.data > 0.5) == Y_train))
            acc_test = float(np.mean((p_test.data > 0.5) == Y_test))
            J_train = nn.binary_cross_entropy(p_train, Y_train).item()
            J_test = nn.binary_cross_entropy(p_test, Y_test).item()
        w2 = sum(float(np.sum(p.data**2)) for n, p in model.named_parameters() if n.endswith("weight"))
        results[lam] = (acc_train, acc_test, J_train, J_test, w2)
        print(f"{lam:>7.1f}{acc_train:>11.3f}{acc_test:>10.3f}{acc_train - acc_test:>7.3f}"
              f"{J_train:>9.3f}{J_test:>8.3f}{w2:>9.1f}")
    (tr0, te0, Jtr0, Jte0, w0), (tr1, te1, Jtr1, Jte1, w1) = results[0.0], results[1.0]
    assert tr0 - te0 > 0.05, "without regularisation the network overfits"
    assert (tr1 - te1) < (tr0 - te0) - 0.03, "L2 narrows the train/test gap"
    assert te1 >= te0 - 0.01 and Jte1 < Jte0, "... without hurting the test set"
    assert w1 < 0.5 * w0, "weight decay keeps the weights small"
    assert Jtr0 < Jtr1, "the unregularised network fits its training set more closely"
    print("lambda = 1: smaller weights, train and test accuracy close; lambda = 0: fits the noise.")


def l1_zeros_versus_l2(steps: int) -> None:
    rng = np.random.default_rng(0)
    m, n_x = 200, 20
    X = rng.normal(size=(m, n_x))
    y = (X[:, 0] - 2 * X[:, 1] + 0.5 * X[:, 2] + 0.3 * rng.normal(size=m) > 0).astype(float).reshape(-1, 1)
    alpha, lam = 0.5, 10.0
    zeros = {}
    for kind in ("L1", "L2"):
        w = Tensor(rng.normal(size=(n_x, 1)) * 0.1, requires_grad=True)
        b = Tensor(np.zeros(1), requires_grad=True)
        opt = optim.SGD([w, b], lr=alpha)
        for _ in range(steps):
            opt.zero_grad()
            J = nn.binary_cross_entropy_with_logits(Tensor(X) @ w + b, y)
            if kind == "L2":
                J = J + nn.l2_penalty([w], lam, m)
            J.backward()
            opt.step()
            if kind == "L1":  # proximal step of (lambda/m) sum |w|: shrink by alpha lambda/m, stop at 0
                with no_grad():
                    w.data[...] = np.sign(w.data) * np.maximum(np.abs(w.data) - alpha * lam / m, 0.0)
        zeros[kind] = int(np.sum(w.data == 0.0))
        kept = np.flatnonzero(w.data[:, 0] != 0.0)
        print(f"  {kind}: {zeros[kind]:2d} of {n_x} weights exactly 0; largest |w| at features "
              f"{sorted(np.argsort(-np.abs(w.data[:, 0]))[:3].tolist())}; nonzero: {kept.tolist()[:8]}"
              f"{' ...' if len(kept) > 8 else ''}")
    assert zeros["L1"] >= 12 and zeros["L2"] == 0
    print("L1 makes the useless weights exactly 0; L2 only makes all weights small.")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=400 if os.environ.get("FAST") else 3000)
    args = parser.parse_args()
    weight_decay_identity()
    overfitting(args.steps)
    print(f"\nL1 versus L2 on 20 features of which 3 matter (lambda = 10, {args.steps} steps):")
    l1_zeros_versus_l2(args.steps)


if __name__ == "__main__":
    main()
