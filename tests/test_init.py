"""nn.init: distributions, fans, seeding; and the symmetry problem of zero initialisation.

Statistics are checked on a 400 x 500 matrix (200,000 draws) with a fixed seed. The
sample variance of n draws has relative standard deviation sqrt(2/n) ~ 0.3% (normal)
and less for uniform, so a 3% tolerance is ~10 sigma yet still catches a wrong formula
(e.g. He's 2/fan_in vs Xavier's 2/(fan_in+fan_out) differ by a factor 1.8 here).
"""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_edu.nn as nn
from tinygrad_edu import Tensor
from tinygrad_edu.nn import init

FAN_OUT, FAN_IN = 400, 500


def big() -> Tensor:
    return Tensor(np.zeros((FAN_OUT, FAN_IN)))


@pytest.mark.parametrize(
    "fn, expected_var",
    [
        (init.xavier_normal_, 2 / (FAN_IN + FAN_OUT)),
        (init.xavier_uniform_, 2 / (FAN_IN + FAN_OUT)),  # a^2/3 with a = sqrt(6/(fan_in+fan_out))
        (init.he_normal_, 2 / FAN_IN),
        (init.he_uniform_, 2 / FAN_IN),
        (lambda t, seed: init.normal_(t, std=0.01, seed=seed), 1e-4),
        (lambda t, seed: init.uniform_(t, eps=0.12, seed=seed), 0.12**2 / 3),
        (lambda t, seed: init.xavier_normal_(t, seed=seed, mode="fan_in"), 1 / FAN_IN),  # randn * sqrt(1/n[l-1])
        (init.xavier_fan_in_normal_, 1 / FAN_IN),
        (lambda t, seed: init.normal_(t, std=0.1, seed=seed), 0.01),  # the slides' "close to 0: N(0, 0.1)"
    ],
    ids=["xavier_normal", "xavier_uniform", "he_normal", "he_uniform", "normal", "uniform", "xavier_mode_fan_in",
         "xavier_fan_in", "normal_0.1"],
)
def test_variance_of_each_initialiser(fn, expected_var):
    t = fn(big(), seed=0)
    assert abs(t.data.var() / expected_var - 1) < 0.03
    assert abs(t.data.mean()) < 5 * np.sqrt(expected_var / t.size)  # mean 0 within 5 standard errors


@pytest.mark.parametrize("fn, bound", [(init.xavier_uniform_, np.sqrt(6 / 900)), (init.he_uniform_, np.sqrt(6 / 500)),
                                       (lambda t, seed: init.uniform_(t, 0.12, seed=seed), 0.12)])
def test_uniform_initialisers_stay_in_their_interval(fn, bound):
    data = fn(big(), seed=1).data
    assert data.min() >= -bound and data.max() <= bound
    assert data.max() > 0.99 * bound and data.min() < -0.99 * bound  # and fill it


def test_named_initialisers_are_the_lectures_formulas_exactly():
    # Linear(init=name) draws W[l] of shape (n[l], n[l-1]) = (4, 6) with the same generator stream as
    # the numpy one-liners of the lectures, so the arrays are equal, not just alike in variance.
    n_l, n_prev = 4, 6
    expected = {
        "normal": lambda r: r.standard_normal((n_l, n_prev)) * 0.01,
        "xavier_fan_in": lambda r: r.standard_normal((n_l, n_prev)) * np.sqrt(1 / n_prev),
        "lecun": lambda r: r.standard_normal((n_l, n_prev)) * np.sqrt(1 / n_prev),
        "xavier": lambda r: r.standard_normal((n_l, n_prev)) * np.sqrt(2 / (n_l + n_prev)),
        "he": lambda r: r.standard_normal((n_l, n_prev)) * np.sqrt(2 / n_prev),
        "xavier_uniform": lambda r: r.uniform(-np.sqrt(6) / np.sqrt(n_prev + n_l), np.sqrt(6) / np.sqrt(n_prev + n_l),
                                              (n_l, n_prev)),
        "uniform": lambda r: r.uniform(-0.12, 0.12, (n_l, n_prev)),
    }
    for name, draw in expected.items():
        got = nn.Linear(n_prev, n_l, init=name, seed=5).weight.data
        np.testing.assert_allclose(got, draw(np.random.default_rng(5)), rtol=1e-15, atol=0, err_msg=name)
    with pytest.raises(ValueError, match="mode must be 'fan_avg' or 'fan_in', got 'fan_out'"):
        init.xavier_normal_(big(), mode="fan_out")


def test_seeding_with_int_or_generator_replays():
    a = init.he_normal_(big(), seed=3).data.copy()
    np.testing.assert_array_equal(a, init.he_normal_(big(), seed=3).data)
    assert not np.array_equal(a, init.he_normal_(big(), seed=4).data)
    g1, g2 = np.random.default_rng(9), np.random.default_rng(9)
    np.testing.assert_array_equal(init.xavier_normal_(big(), seed=g1).data, init.xavier_normal_(big(), seed=g2).data)


def test_constant_zeros_small_positive_and_in_place():
    t = Tensor(np.ones((3, 2), dtype=np.float32))
    data = t.data
    assert init.zeros_(t) is t and t.data is data and np.all(data == 0) and data.dtype == np.float32
    init.constant_(t, 0.5)
    assert np.all(t.data == 0.5)
    b = nn.Linear(4, 3).bias
    init.small_positive_(b)
    assert np.all(b.data == 0.01)  # the lectures' small positive bias for ReLU units
    with pytest.raises(ValueError, match="must be > 0"):
        init.small_positive_(b, 0.0)
    # every initialiser accepts seed=, so any of them can be passed to Linear(init=...)
    for fn in (init.zeros_, init.small_positive_, init.he_uniform_, init.normal_):
        nn.Linear(3, 2, init=fn, seed=0)
    assert np.all(nn.Linear(3, 2, init=init.zeros_).weight.data == 0)


def test_fans_of_dense_and_conv_weights_and_errors():
    assert init.calculate_fans((4, 3)) == (3, 4)
    assert init.calculate_fans((8, 3, 5, 5)) == (75, 200)
    with pytest.raises(ValueError, match=r"xavier_normal_: needs a weight with at least 2 dimensions.*\(5,\)"):
        init.xavier_normal_(Tensor(np.zeros(5)))
    with pytest.raises(TypeError, match="expected a Tensor"):
        init.zeros_(np.zeros(3))


# ------------------------------------------------------------------ the symmetry problem


def train_two_layer(weight_init, steps: int = 20):
    """A 2-4-1 sigmoid network trained by full-batch gradient descent on XOR-like data.

    Sigmoid hidden units (sigma(0) = 1/2, not 0 as tanh) so that zero weights still get gradients.
    """
    rng = np.random.default_rng(0)
    X = rng.standard_normal((32, 2))
    y = (X[:, :1] * X[:, 1:] > 0).astype(float)
    model = nn.MLP([2, 4, 1], activation="sigmoid", output_activation="sigmoid", init=weight_init, seed=1)
    start = model[0].weight.data.copy()
    for _ in range(steps):
        a = model(Tensor(X))
        loss = -(y * a.log() + (1 - y) * (1 - a).log()).mean()
        model.zero_grad()
        loss.backward()
        for p in model.parameters():
            p.data -= 1.0 * p.grad.data
    return model, start


def test_zero_init_keeps_hidden_units_identical():
    # W[2] = 0 too, so dW[1] = dZ[1] X^T with dZ[1] = W[2]^T dZ[2] * g'(Z[1]) is the same for every
    # hidden unit at every step: the rows of W[1] (one per hidden unit) stay equal for ever.
    model, _ = train_two_layer("zeros")
    W1 = model[0].weight.data
    assert np.all(np.abs(W1) > 1e-3)  # training did move the weights ...
    np.testing.assert_allclose(W1, np.broadcast_to(W1[0], W1.shape), rtol=0, atol=1e-12)  # ... but in lockstep
    np.testing.assert_allclose(model[0].bias.data, model[0].bias.data[0], rtol=0, atol=1e-12)


def test_random_init_breaks_the_symmetry():
    model, start = train_two_layer("xavier")
    W1 = model[0].weight.data
    assert not np.allclose(W1, start)
    spread = np.abs(W1[:, None, :] - W1[None, :, :]).sum(axis=2)  # distance between every pair of rows
    assert spread[~np.eye(4, dtype=bool)].min() > 1e-2
