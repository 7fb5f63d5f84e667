"""Vectorisation (Deshbhratar, "VECTORIZATION"): the same numbers, measured with and without loops.

The deck's lesson is speed: "for i = 1 to m" in Python versus one numpy call over all m
examples. Every pair below computes the same result both ways -- the script asserts that they
agree -- and prints the measured speed-up:

1. ``np.dot`` versus a Python loop for z = w^T x (the deck's first example);
2. logistic regression, per-example loop versus vectorised
   (``reference.logistic_regression_cost_and_grads_loop`` / ``..._cost_and_grads``);
3. backprop of an L-layer network, the Delta-accumulation loop versus vectorised
   (``reference.l_layer_grads_delta_accumulation`` / ``reference.l_layer_cost_and_grads``);
4. a graph of scalar ``Value`` nodes versus ``Tensor`` ops on the same network (forward + backward).

Times are the best of a few repeats (``time.perf_counter``). The figures depend on the
machine; the script asserts only that each vectorised form is faster.

Run:  python examples/vectorisation.py      (FAST=1: smaller problems, as the test suite runs it)
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable

import numpy as np

import tinygrad_edu as tg
from tinygrad_edu import Value, reference
from tinygrad_edu.value_nn import MLP as ValueMLP

FAST = os.environ.get("FAST") == "1"


def best_time(fn: Callable[[], object], repeats: int = 3) -> float:
    """The fastest of ``repeats`` runs, in seconds (the least disturbed by other work)."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def report(title: str, loop: Callable[[], object], vectorised: Callable[[], object]) -> float:
    t_loop, t_vec = best_time(loop), best_time(vectorised)
    speedup = t_loop / t_vec
    print(f"{title}\n    loop {t_loop * 1e3:9.3f} ms   vectorised {t_vec * 1e3:8.3f} ms   speed-up: {speedup:.0f}x")
    assert t_vec < t_loop, f"{title}: the vectorised form was not faster"
    return speedup


def dot_product(n: int) -> None:
    rng = np.random.default_rng(0)
    w, x = rng.normal(size=n), rng.normal(size=n)

    def loop() -> float:
        z = 0.0
        for i in range(n):
            z += w[i] * x[i]
        return z

    assert abs(loop() - np.dot(w, x)) < 1e-9 * n
    report(f"1. z = w^T x, n = {n:,}: Python loop vs np.dot", loop, lambda: np.dot(w, x))


def logistic_regression(n_x: int, m: int) -> None:
    rng = np.random.default_rng(1)
    X, w = rng.normal(size=(n_x, m)), rng.normal(size=(n_x, 1)) * 0.1
    Y = (rng.random((1, m)) < 0.5).astype(float)
    J1, dw1, db1 = reference.logistic_regression_cost_and_grads_loop(w, 0.1, X, Y)
    J2, dw2, db2 = reference.logistic_regression_cost_and_grads(w, 0.1, X, Y)
    assert abs(J1 - J2) < 1e-10 and np.allclose(dw1, dw2, atol=1e-12) and abs(db1 - db2) < 1e-12
    report(f"2. logistic regression J, dw, db; n_x = {n_x}, m = {m:,}: per-example loop vs vectorised",
           lambda: reference.logistic_regression_cost_and_grads_loop(w, 0.1, X, Y),
           lambda: reference.logistic_regression_cost_and_grads(w, 0.1, X, Y))


def backprop(sizes: list[int], m: int) -> None:
    rng = np.random.default_rng(2)
    X = rng.normal(size=(sizes[0], m))
    Y = (rng.random((sizes[-1], m)) < 0.5).astype(float)
    params = reference.initialize_parameters(sizes, seed=0)
    looped = reference.l_layer_grads_delta_accumulation(X, Y, params, hidden_activation="tanh")
    _, vectorised = reference.l_layer_cost_and_grads(X, Y, params, hidden_activation="tanh")
    assert all(np.allclose(looped[k], vectorised[k], atol=1e-12) for k in looped)
    report(f"3. backprop of {'-'.join(map(str, sizes))}, m = {m:,}: Delta-accumulation loop vs vectorised",
           lambda: reference.l_layer_grads_delta_accumulation(X, Y, params, hidden_activation="tanh"),
           lambda: reference.l_layer_cost_and_grads(X, Y, params, hidden_activation="tanh"))


def values_vs_tensors(m: int) -> None:
    """The same 2-8-1 tanh network as a graph of scalar Values and as Tensor ops."""
    rng = np.random.default_rng(3)
    X, y = rng.normal(size=(m, 2)), rng.normal(size=m)
    value_net = ValueMLP(2, [8, 1], activation="tanh", seed=0)
    # the same weights in a Tensor network: W[l] rows are the neurons' weight lists
    Ws = [tg.Tensor([[w.data for w in neuron.w] for neuron in layer.neurons], requires_grad=True)
          for layer in value_net.layers]
    bs = [tg.Tensor([neuron.b.data for neuron in layer.neurons], requires_grad=True) for layer in value_net.layers]
    X_t = tg.Tensor(X)

    def with_values() -> float:
        value_net.zero_grad()
        preds = [value_net([Value(float(a)), Value(float(b))]) for a, b in X]
        loss = Value.sum([(p - float(t)) ** 2 for p, t in zip(preds, y)]) / m
        loss.backward()
        return loss.data

    def with_tensors() -> float:
        for p in Ws + bs:
            p.grad = None
        hidden = (X_t @ Ws[0].T + bs[0]).tanh()
        loss = (((hidden @ Ws[1].T + bs[1]).reshape(m) - y) ** 2).mean()
        loss.backward()
        return loss.item()

    assert abs(with_values() - with_tensors()) < 1e-10
    grad_value = value_net.layers[0].neurons[0].w[0].grad
    assert abs(grad_value - Ws[0].grad.data[0, 0]) < 1e-10, "the two graphs disagree on dJ/dw"
    report(f"4. forward + backward of a 2-8-1 network, m = {m:,}: scalar Value graph vs Tensor ops",
           with_values, with_tensors)


def main() -> None:
    dot_product(10_000 if FAST else 1_000_000)
    logistic_regression(4, 1_000 if FAST else 10_000)
    backprop([4, 8, 1] if FAST else [4, 16, 8, 1], 200 if FAST else 2_000)
    values_vs_tensors(50 if FAST else 500)


if __name__ == "__main__":
    main()
