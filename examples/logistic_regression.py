"""Logistic regression: the lectures' worked derivatives, then vectorised training.

Part 1 -- "Derivatives in logistic regression" (Training Neural Networks deck): one example
x = (5, 3), y = 1, weights w = (0.5, 0.5), b = 1.

    z = w1 x1 + w2 x2 + b = 0.5*5 + 0.5*3 + 1 = 5,   a = sigma(z),   L = -(y log a + (1-y) log(1-a))
    da = -y/a + (1-y)/(1-a),   dz = a - y,   dw1 = x1 dz,   dw2 = x2 dz,   db = dz

Recomputed, a = sigma(5) = 0.993307. The slide prints a = 0.99307 (a digit dropped) and then
carries that slip through: dz = -0.00693 (correct: -0.006693), da = -1.006978 (correct: -1.006738),
and uses yet another value, -0.00695 = ln(0.99307), in dw1 = -0.03475 (correct: -0.03346) and dw2 = -0.02085
(correct: -0.02008). Autograd on ``Value``s and the hand formulas agree with each other to 1e-15;
this script asserts the correct values and shows the slide's next to them. (The slide's
"a = 0.99307 ~ 0.0023" matches neither 1 - a = 0.0067 nor the loss -ln a = 0.0067.)

Part 2 -- vectorised logistic regression (Z = w^T X + b, A = sigma(Z), dZ = A - Y,
dw = (1/m) X dZ^T, db = (1/m) sum dZ; X of shape (n_x, m), one column per example), trained by
gradient descent with ``Tensor`` autograd; at every step the gradients are compared with
``tinygrad_edu.reference.logistic_regression_cost_and_grads`` (the lectures' formulas in numpy)
and, on the first step, with the lectures' per-example ``for i = 1 to m`` loop.
(One deck writes db = (1/2m) sum E and d(lambda) = (1/2m) X E^T; for the cost C = (1/m) sum L that
it defines, the derivative is 1/m, as autograd confirms -- 1/(2m) only halves the learning rate.)

Run:  python examples/logistic_regression.py        (FAST=1: fewer training steps)
"""

from __future__ import annotations

import math
import os

import numpy as np

from tinygrad_edu import Tensor, Value, reference
from tinygrad_edu.data import make_gaussian

FAST = bool(os.environ.get("FAST"))


def derivatives() -> None:
    x1, x2, y = 5.0, 3.0, 1.0
    w1, w2, b = Value(0.5, label="w1"), Value(0.5, label="w2"), Value(1.0, label="b")
    z = w1 * x1 + w2 * x2 + b
    z.label = "z"
    a = z.sigmoid()
    a.label = "a"
    L = -(y * a.log() + (1 - y) * (1 - a).log())
    L.backward()

    # the hand formulas of the slide, from the same a
    av = a.data
    da = -y / av + (1 - y) / (1 - av)
    dz = av - y
    hand = {"z": z.data, "a": av, "da": da, "dz": dz, "dw1": x1 * dz, "dw2": x2 * dz, "db": dz}
    auto = {"z": z.data, "a": av, "da": a.grad, "dz": z.grad, "dw1": w1.grad, "dw2": w2.grad, "db": b.grad}
    # the slide gives no number for db (it writes db = dz): that row shows "-" in its column
    slide = {"z": 5.0, "a": 0.99307, "da": -1.006978, "dz": -0.00693, "dw1": -0.03475, "dw2": -0.02085}
    correct = {"z": 5.0, "a": 0.993307, "da": -1.006738, "dz": -0.006693, "dw1": -0.03346, "dw2": -0.02008,
               "db": -0.006693}

    print("Derivatives in logistic regression: x = (5, 3), w = (0.5, 0.5), b = 1, y = 1")
    print(f"{'':5s}{'slide':>11s}{'autograd':>13s}{'hand formula':>14s}")
    for k in hand:
        if k not in slide:
            print(f"{k:5s}{'- (= dz)':>11s}{auto[k]:>13.6f}{hand[k]:>14.6f}")
        else:
            mark = "" if math.isclose(slide[k], auto[k], abs_tol=5e-6) else "   <- slide slip"
            print(f"{k:5s}{slide[k]:>11.6f}{auto[k]:>13.6f}{hand[k]:>14.6f}{mark}")
        assert math.isclose(auto[k], hand[k], rel_tol=1e-12, abs_tol=1e-15), k  # autograd == the formulas
        decimals = len(repr(correct[k]).split(".")[1])
        assert round(auto[k], decimals) == correct[k], (k, auto[k])  # the recomputed values
    for k in ("a", "da", "dz", "dw1", "dw2"):
        assert not math.isclose(slide[k], auto[k], abs_tol=5e-6)  # the slide is off on these
    # the slide's numbers follow from its typo a = 0.99307; its -0.00695 in dw1, dw2 is ln(0.99307) = -0.006954,
    # i.e. the loss L = -ln a (with the sign flipped) put where dz = a - y belongs
    assert round(math.log(0.99307), 5) == -0.00695
    assert round(-1 / 0.99307, 6) == slide["da"] and round(0.99307 - 1, 5) == slide["dz"]
    assert round(5 * -0.00695, 5) == slide["dw1"] and round(3 * -0.00695, 5) == slide["dw2"]
    print(f"L = -ln a = {L.data:.6f}. sigma(5) = 0.993307: the slide's 0.99307 drops a digit and its")
    print("da, dz, dw1, dw2 follow from that slip; autograd and the hand formulas agree (to 1e-15).")


def vectorised_training() -> None:
    Xr, yr = make_gaussian(200, noise=0.1, seed=0)
    X, Y = Xr.T, yr.reshape(1, -1).astype(float)  # the lectures' layout: X (n_x, m), Y (1, m)
    n_x, m = X.shape
    w = Tensor(np.zeros((n_x, 1)), requires_grad=True)
    b = Tensor(0.0, requires_grad=True)
    alpha, steps = 0.1, (30 if FAST else 300)
    Xt, Yt = Tensor(X), Tensor(Y)
    costs = []
    for step in range(steps):
        Z = w.T @ Xt + b  # Z = w^T X + b (b broadcast over the m columns)
        A = Z.sigmoid()
        J = -(Yt * A.log() + (1 - Yt) * (1 - A).log()).sum() / m
        w.grad = b.grad = None
        J.backward()
        J_ref, dw_ref, db_ref = reference.logistic_regression_cost_and_grads(w.data, b.item(), X, Y)
        assert abs(J.item() - J_ref) < 1e-12
        assert np.allclose(w.grad.data, dw_ref, rtol=1e-10, atol=1e-14) and abs(b.grad.item() - db_ref) < 1e-14
        if step == 0:
            J_loop, dw_loop, db_loop = reference.logistic_regression_cost_and_grads_loop(w.data, b.item(), X, Y)
            assert abs(J_loop - J_ref) < 1e-12 and np.allclose(dw_loop, dw_ref) and abs(db_loop - db_ref) < 1e-14
        costs.append(J.item())
        w.data -= alpha * w.grad.data  # w := w - alpha dw
        b.data -= alpha * b.grad.data  # b := b - alpha db
    accuracy = float(np.mean(((w.T @ Xt + b).sigmoid().data > 0.5) == Y))
    print()
    print(f"Vectorised logistic regression on {m} points (two Gaussian blobs), alpha = {alpha}, {steps} steps")
    for step in sorted({0, 1, 2, steps // 2, steps - 1}):
        print(f"  step {step:4d}  J = {costs[step]:.5f}")
    print(f"  accuracy = {accuracy:.3f}; autograd's dw, db == the lectures' vectorised formulas at every step")
    assert abs(costs[0] - math.log(2)) < 1e-12  # w = 0, b = 0: a = 1/2, J = ln 2
    assert all(c1 <= c0 + 1e-12 for c0, c1 in zip(costs, costs[1:]))  # gradient descent goes downhill
    assert costs[-1] < 0.5 * costs[0] and accuracy > 0.9


def main() -> None:
    derivatives()
    vectorised_training()


if __name__ == "__main__":
    main()
