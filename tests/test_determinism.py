"""Determinism: the same seed gives bit-identical training on the same machine.

Every source of randomness takes a seed (initialisation, dropout masks, data shuffling,
synthetic data) and the graph is walked in a fixed order (parents are tuples), so two
runs perform the same floating-point operations in the same order. The checks use
``np.array_equal`` (bit equality), not a tolerance. A different seed must change the
result, so the tests cannot pass by ignoring the seed.
"""

from __future__ import annotations

import numpy as np

import tinygrad_edu.nn as nn
from tinygrad_edu import Tensor, optim
from tinygrad_edu.data import DataLoader, make_moons
from tinygrad_edu.engine import topological_order
from tinygrad_edu.train import fit


def _manual_training(seed: int) -> tuple[list[np.ndarray], list[float]]:
    """A mini-batch loop with every random part seeded: init, dropout, shuffling, data."""
    X, y = make_moons(64, noise=0.2, seed=seed)
    model = nn.Sequential(
        nn.Linear(2, 8, seed=seed), nn.ReLU(), nn.Dropout(0.2, seed=seed), nn.Linear(8, 2, seed=seed + 1)
    )
    opt = optim.Adam(model.parameters(), lr=0.01)
    losses = []
    for Xb, yb in DataLoader(X, y, batch_size=16, shuffle=True, seed=seed):
        loss = nn.losses.cross_entropy(model(Tensor(Xb)), yb.astype(int).ravel())
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return [p.data.copy() for p in model.parameters()], losses


def _assert_bit_identical(a: list[np.ndarray], b: list[np.ndarray]) -> None:
    assert len(a) == len(b)
    for x, y in zip(a, b):
        assert x.dtype == y.dtype and np.array_equal(x, y)


def test_manual_training_is_bit_identical_for_the_same_seed() -> None:
    params_1, losses_1 = _manual_training(seed=3)
    params_2, losses_2 = _manual_training(seed=3)
    _assert_bit_identical(params_1, params_2)
    assert losses_1 == losses_2


def test_manual_training_differs_for_another_seed() -> None:
    params_1, _ = _manual_training(seed=3)
    params_2, _ = _manual_training(seed=4)
    assert not all(np.array_equal(a, b) for a, b in zip(params_1, params_2))


def _fit_run(seed: int) -> tuple[list[np.ndarray], list[float]]:
    X, y = make_moons(80, noise=0.2, seed=0)
    model = nn.MLP([2, 8, 2], seed=0)
    history = fit(
        model, nn.losses.cross_entropy, optim.SGD(model.parameters(), lr=0.1, momentum=0.9),
        (X, y.astype(int).ravel()), epochs=3, batch_size=16, verbose=0, seed=seed,
    )
    return [p.data.copy() for p in model.parameters()], history.iteration_loss


def test_fit_is_bit_identical_for_the_same_seed() -> None:
    params_1, losses_1 = _fit_run(seed=11)
    params_2, losses_2 = _fit_run(seed=11)
    _assert_bit_identical(params_1, params_2)
    assert losses_1 == losses_2


def test_fit_shuffles_differently_for_another_seed() -> None:
    _, losses_1 = _fit_run(seed=11)
    _, losses_2 = _fit_run(seed=12)
    assert losses_1 != losses_2


def test_graph_order_is_the_same_every_time() -> None:
    def ops() -> list[str]:
        model = nn.MLP([3, 4, 2], seed=0)
        loss = (model(Tensor(np.ones((2, 3)))) ** 2.0).mean()
        return [n._op for n in topological_order(loss)]

    assert ops() == ops()
