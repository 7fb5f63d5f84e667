"""Batch vs stochastic vs mini-batch gradient descent, and momentum on noisy mini-batches.

(``examples/optimizers.py`` compares GD and momentum on an ill-conditioned valley; this script
is about the noise that comes from using part of the data per step.)

The lectures ("Optimization Procedure"): batch gradient descent uses all m examples per step,
J = (1/m) sum_i L(i); stochastic gradient descent one example; mini-batch gradient descent a
partition B_1, B_2, ... with J_i = (1/|B_i|) sum_{j in B_i} L(j). "Stochastic gradient descent
will be more noisy but will usually converge faster than batch gradient descent", and
mini-batch "is a compromise between the accuracy of batch and the speed of stochastic".

Momentum: V_dW := beta V_dW + (1 - beta) dW,  W := W - alpha V_dW. "Noisy data make us jump
back and forth ... with momentum we remember the last update and use a moving average".

The script trains the same 2-16-1 tanh network on the "moons" data, from the same start, with
``tinygrad_edu.data.DataLoader`` (batch_size None / 1 / 32), prints the full-data cost J after
each epoch (the learning curves, as numbers), the number of steps taken, and how noisy the steps
are; then plain mini-batch GD vs momentum: the cosine between consecutive updates (1 = a
straight path, ~0 = zig-zag) and the final cost. It asserts the claims above.

Run:  python examples/gradient_descent_variants.py [--epochs N]     (FAST=1: 4 epochs)
"""

from __future__ import annotations

import argparse
import os

import numpy as np

import tinygrad_edu.nn as nn
from tinygrad_edu import Tensor, no_grad, optim
from tinygrad_edu.data import DataLoader, make_moons, standardize


def full_cost(model: nn.Module, X: np.ndarray, Y: np.ndarray) -> float:
    with no_grad():
        return nn.binary_cross_entropy(model(Tensor(X)), Y).item()


def flat_params(model: nn.Module) -> np.ndarray:
    return np.concatenate([p.data.ravel() for p in model.parameters()])


def run(X: np.ndarray, Y: np.ndarray, batch_size: int | None, make_opt, epochs: int) -> dict:
    """Train from the same initial weights; record J per epoch, every batch cost, and every update."""
    model = nn.MLP([2, 16, 1], activation="tanh", output_activation="sigmoid", init="xavier", seed=0)
    opt = make_opt(model.parameters())
    loader = DataLoader(X, Y, batch_size=batch_size, shuffle=True, seed=0)
    curve, batch_costs, updates = [full_cost(model, X, Y)], [], []
    for _ in range(epochs):
        for Xb, Yb in loader:
            before = flat_params(model)
            opt.zero_grad()
            J = nn.binary_cross_entropy(model(Tensor(Xb)), Yb)
            J.backward()
            opt.step()
            batch_costs.append(J.item())
            updates.append(flat_params(model) - before)
        curve.append(full_cost(model, X, Y))
    return {"curve": curve, "batch_costs": np.array(batch_costs), "updates": np.array(updates)}


def mean_cosine(updates: np.ndarray) -> float:
    """Average cosine between consecutive updates: 1 for a straight path, ~0 for a random zig-zag."""
    a, b = updates[:-1], updates[1:]
    return float(np.mean(np.sum(a * b, axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=4 if os.environ.get("FAST") else 30)
    args = parser.parse_args()
    Xr, yr = make_moons(400, noise=0.2, seed=0)
    (X,) = standardize(Xr)
    Y = yr.reshape(-1, 1).astype(float)
    m = len(X)

    runs = {
        "batch (m=400)": run(X, Y, None, lambda p: optim.SGD(p, lr=1.0), args.epochs),
        "mini-batch (32)": run(X, Y, 32, lambda p: optim.SGD(p, lr=0.3), args.epochs),
        "stochastic (1)": run(X, Y, 1, lambda p: optim.SGD(p, lr=0.03), args.epochs),
    }
    print(f"full-data cost J after each epoch (moons, m = {m}, 2-16-1 tanh network, same start)")
    print(f"{'epoch':>6}" + "".join(f"{name:>18s}" for name in runs))
    for e in range(args.epochs + 1):
        print(f"{e:>6}" + "".join(f"{r['curve'][e]:>18.4f}" for r in runs.values()))
    print(f"{'steps':>6}" + "".join(f"{len(r['batch_costs']):>18d}" for r in runs.values()))
    # batch GD's steps are deterministic (its cost changes only because it descends); the others
    # measure J on a different sample each step, so their step-to-step changes are mostly noise
    noise = {k: float(np.std(np.diff(r["batch_costs"]))) for k, r in runs.items() if not k.startswith("batch")}
    print("std of the step-to-step change in the batch cost J_i (noise):",
          ", ".join(f"{k} {v:.3f}" for k, v in noise.items()))

    final = {k: r["curve"][-1] for k, r in runs.items()}
    assert final["stochastic (1)"] < final["batch (m=400)"], "SGD gets further per epoch than batch GD"
    assert final["mini-batch (32)"] < final["batch (m=400)"], "mini-batch gets further per epoch than batch GD"
    assert noise["stochastic (1)"] > 3 * noise["mini-batch (32)"], "one example per step is noisier"
    assert all(np.all(np.diff(r["curve"]) < 0.05) for r in runs.values())

    # momentum vs plain mini-batch GD, same alpha
    plain = runs["mini-batch (32)"]
    momentum = run(X, Y, 32, lambda p: optim.Momentum(p, lr=0.3, beta=0.9), args.epochs)
    cos_plain, cos_mom = mean_cosine(plain["updates"]), mean_cosine(momentum["updates"])
    print("\nmini-batch (32), alpha = 0.3: plain GD vs momentum (beta = 0.9)")
    print(f"  mean cosine between consecutive updates: plain {cos_plain:.2f}, momentum {cos_mom:.2f}")
    print(f"  full-data cost after {args.epochs} epochs: plain {plain['curve'][-1]:.4f}, "
          f"momentum {momentum['curve'][-1]:.4f}")
    assert cos_mom > 0.8 and cos_mom > cos_plain + 0.3, "momentum averages out the back-and-forth"
    assert momentum["curve"][-1] < momentum["curve"][0]


if __name__ == "__main__":
    main()
