"""tg.manual_seed: one package-wide generator for every draw made without seed= (as torch.manual_seed).

torch side, for the reader: torch.manual_seed(0); a = torch.randn(3); torch.manual_seed(0); b = torch.randn(3)
-> a equals b, and layers / dropout / DataLoader shuffles made after the call replay too. Here the
numbers are numpy's (PCG64), so they are compared with themselves, not with torch's.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import nn
from tinygrad_edu.data import DataLoader, make_moons
from tinygrad_edu.seeding import as_generator, default_generator, manual_seed


def draws() -> list[np.ndarray]:
    """One of each kind of seed-less random draw in the package, in a fixed order."""
    layer = nn.Linear(3, 2)
    mlp = nn.MLP([2, 4, 1])
    conv = nn.Conv2d(1, 2, 3)
    weight = nn.init.xavier_uniform_(tg.zeros(2, 3))
    dropout = nn.Dropout(0.5)
    mask = dropout(tg.ones(4, 4)).data
    X, _ = make_moons(8)
    batches = [xb for xb, _ in DataLoader(np.arange(6.0)[:, None], np.arange(6), batch_size=2)]
    return [
        layer.weight.data, mlp.parameters()[0].data, conv.weight.data, weight.data, mask,
        tg.randn(3).data, tg.rand(2).data, tg.uniform(2, -1.0, 1.0).data, X, np.concatenate(batches),
    ]


def test_manual_seed_replays_every_seedless_draw() -> None:
    tg.manual_seed(123)
    first = draws()
    tg.manual_seed(123)
    second = draws()
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)
    tg.manual_seed(124)
    third = draws()
    assert all(not np.array_equal(a, c) for a, c in zip(first, third) if a.size > 3)


def test_manual_seed_equals_the_explicit_seed_and_leaves_explicit_seeds_alone() -> None:
    # manual_seed(s) then a seed-less draw == the draw with seed=s
    tg.manual_seed(7)
    np.testing.assert_array_equal(tg.randn(5).data, tg.randn(5, seed=7).data)
    # explicit seeds do not depend on (nor advance) the package-wide generator
    tg.manual_seed(1)
    a = nn.Linear(4, 3, seed=0).weight.data
    tg.manual_seed(2)
    b = nn.Linear(4, 3, seed=0).weight.data
    np.testing.assert_array_equal(a, b)
    tg.manual_seed(3)
    nn.Linear(4, 3, seed=0)
    np.testing.assert_array_equal(tg.randn(2).data, tg.randn(2, seed=3).data)


def test_explicit_seed_results_did_not_change() -> None:
    # recorded before manual_seed existed: Linear(2, 2, seed=0) (He init, float64)
    np.testing.assert_allclose(
        nn.Linear(2, 2, seed=0).weight.data,
        np.sqrt(2 / 2) * np.random.default_rng(0).standard_normal((2, 2)),
        rtol=0, atol=0,
    )


def test_a_seedless_dropout_follows_manual_seed_even_after_deepcopy() -> None:
    model = nn.Sequential(nn.Linear(4, 4, seed=0), nn.Dropout(0.5))
    twin = copy.deepcopy(model)
    x = tg.ones(3, 4)
    tg.manual_seed(5)
    a = model(x).data
    tg.manual_seed(5)
    b = twin(x).data
    np.testing.assert_array_equal(a, b)


def test_manual_seed_returns_the_one_generator_and_checks_its_argument() -> None:
    assert tg.manual_seed(0) is default_generator() is as_generator(None)
    assert "manual_seed" in tg.__all__
    with pytest.raises(TypeError, match=r"manual_seed: seed must be an int >= 0.*got 1\.5"):
        tg.manual_seed(1.5)
    with pytest.raises(TypeError, match="got True"):
        manual_seed(True)
    with pytest.raises(ValueError, match="manual_seed: seed must be >= 0.*got -1"):
        manual_seed(-1)
    # issue 13 #20: randn(seed=-1) used to raise numpy's bare message
    with pytest.raises(ValueError, match="seed must be >= 0"):
        tg.randn(2, seed=-1)
    assert as_generator(np.int64(3)).random() == np.random.default_rng(3).random()
