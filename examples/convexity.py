"""Convex log-loss, non-convex network cost: J along a line through parameter space.

The cost-function slides contrast logistic regression, whose cross-entropy cost J(w, b) is
convex (one bowl: gradient descent cannot get stuck), with a neural network, whose J(Theta)
is not. A function is convex exactly when it is convex along every line, so we look along
lines: J(theta + t d) for t on a grid, and its second differences
J(t - h) - 2 J(t) + J(t + h), which are >= 0 everywhere for a convex function.

* Logistic regression: along random directions d the second differences are never negative.
* A 2-3-1 tanh network: flipping the signs of one hidden unit (its row of W[1], its b[1] and
  its column of W[2]: tanh(-z) = -tanh(z)) gives a different Theta' that computes the same
  function, so a trained network has at least two minima with the same J. (Swapping two hidden
  units is another such symmetry.) On the segment from Theta to Theta' the cost rises in the middle
  (a hill between two valleys): some second differences are negative -- not convex.

Writes ``convexity.png`` (both curves) when matplotlib is installed.

Run:  python examples/convexity.py
"""

from __future__ import annotations

import numpy as np

import tinygrad_edu as tg
from tinygrad_edu import nn, optim, reference
from tinygrad_edu.data import make_moons

T = np.linspace(-1.0, 2.0, 61)  # t = 0 is theta, t = 1 is the other end of the segment


def second_differences(values: np.ndarray) -> np.ndarray:
    return values[:-2] - 2 * values[1:-1] + values[2:]


def logistic_regression_along_lines(X: np.ndarray, y: np.ndarray) -> np.ndarray:
    rng = np.random.default_rng(0)
    Xc, Y = X.T, y.reshape(1, -1).astype(float)  # the lectures' column layout
    w0, b0 = rng.normal(size=(2, 1)), 0.3
    worst = np.inf
    curve = None
    for _ in range(20):
        dw, db = rng.normal(size=(2, 1)), rng.normal()
        J = np.array([reference.logistic_regression_cost_and_grads(w0 + t * dw, b0 + t * db, Xc, Y)[0] for t in T])
        worst = min(worst, second_differences(J).min())
        curve = J if curve is None else curve
    print(f"logistic regression: smallest second difference of J along 20 random lines = {worst:.2e} (>= 0: convex)")
    assert worst >= -1e-12
    return curve


def network_between_two_minima(X: np.ndarray, y: np.ndarray) -> np.ndarray:
    model = nn.MLP([2, 3, 1], activation="tanh", seed=0)
    opt = optim.SGD(model.parameters(), lr=0.5)
    X_t, Y = tg.Tensor(X), y.reshape(-1, 1).astype(float)
    for _ in range(300):
        opt.zero_grad()
        nn.binary_cross_entropy_with_logits(model(X_t), Y).backward()
        opt.step()
    W1, b1, W2, b2 = (p.data.copy() for p in model.parameters())
    k = int(np.argmax(np.abs(W2[0])))  # the hidden unit the output leans on most
    flip = np.ones(3)
    flip[k] = -1.0  # negate unit k's weights in and out: the same function, other parameters

    def cost(W1_: np.ndarray, b1_: np.ndarray, W2_: np.ndarray, b2_: np.ndarray) -> float:
        hidden = np.tanh(X @ W1_.T + b1_)
        z = hidden @ W2_.T + b2_
        return float(np.mean(np.maximum(z, 0) - z * Y + np.log1p(np.exp(-np.abs(z)))))

    start = (W1, b1, W2, b2)
    end = (W1 * flip[:, None], b1 * flip, W2 * flip, b2)
    assert abs(cost(*start) - cost(*end)) < 1e-12  # two different Theta, one J
    J = np.array([cost(*(a + t * (b - a) for a, b in zip(start, end))) for t in T])
    middle = J[np.argmin(np.abs(T - 0.5))]
    print(f"2-3-1 network: J(Theta) = J(Theta') = {J[np.argmin(np.abs(T))]:.4f}, "
          f"halfway between them J = {middle:.4f}; smallest second difference = {second_differences(J).min():.2e}")
    assert middle > J[np.argmin(np.abs(T))] + 1e-3 and second_differences(J).min() < 0
    return J


def main() -> None:
    X, y = make_moons(n=200, noise=0.1, seed=0)
    convex = logistic_regression_along_lines(X, y)
    hill = network_between_two_minima(X, y)
    try:
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed (pip install tinygrad-edu[plot]): no convexity.png")
        return
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    axes[0].plot(T, convex)
    axes[0].set(title="logistic regression: J(w + t d) is convex", xlabel="t", ylabel="J")
    axes[1].plot(T, hill)
    axes[1].axvline(0, ls=":", c="grey")
    axes[1].axvline(1, ls=":", c="grey")
    axes[1].set(title="2-3-1 network: J from Theta (t=0) to Theta' (t=1)", xlabel="t", ylabel="J")
    fig.tight_layout()
    fig.savefig("convexity.png", dpi=100)
    print("wrote convexity.png")


if __name__ == "__main__":
    main()
