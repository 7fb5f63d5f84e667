"""The Playground's Python API: the original's semantics on our engine.

Oracles: the deck's epoch-0 screen (loss ~ 0.5), the feature-cross lessons (circle needs x1^2, x2^2;
xor needs x1*x2; a linear model on x1, x2 alone cannot), a plain-numpy re-implementation of one
mini-batch step (nn.ts's update with L1/L2), and determinism with a seed.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_edu.playground import DATASETS, FEATURES, Playground, make_playground_data
from tinygrad_edu.playground.model import feature_matrix, grid_points


def test_epoch_zero_loss_is_near_one_half_as_on_the_slide() -> None:
    # the deck's first screen: 1 hidden neuron, sigmoid, lr 0.3, batch 10, ratio 50 %, noise 0
    pg = Playground("circle", ["x1", "x2"], [1], "sigmoid", lr=0.3, batch_size=10, noise=0.0, train_ratio=0.5)
    assert pg.epoch == 0
    # tanh output of a sigmoid in (0, 1) times |w| < 0.5 plus 0.1 stays near 0: 1/2 (0 - (+-1))^2 = 0.5
    assert pg.train_loss == pytest.approx(0.5, abs=0.06)
    assert pg.test_loss == pytest.approx(0.5, abs=0.06)
    assert pg.history == [(0, pg.train_loss, pg.test_loss)]


@pytest.mark.parametrize("dataset, crosses", [("circle", ["x1^2", "x2^2"]), ("xor", ["x1*x2"])])
def test_feature_crosses_solve_without_hidden_layers_where_x1_x2_cannot(dataset: str, crosses: list[str]) -> None:
    linear = Playground(dataset, ["x1", "x2"], [], "tanh", lr=0.03).step(40)
    crossed = Playground(dataset, crosses, [], "tanh", lr=0.03).step(40)
    assert linear.train_loss > 0.4 and linear.test_loss > 0.4  # a line cannot separate a disc or xor
    assert crossed.train_loss < 0.05 and crossed.test_loss < 0.05
    assert np.mean(np.sign(crossed.predict(crossed.test_points)) == crossed.test_labels) > 0.97


def test_the_second_slide_trains_a_two_hidden_layer_sigmoid_network() -> None:
    pg = Playground("circle", ["x1", "x2"], [4, 2], "sigmoid", lr=0.1).step(229)
    assert pg.epoch == 229 and len(pg.history) == 230
    assert pg.train_loss < 0.05 and pg.test_loss < 0.05  # the slide: 0.010 / 0.030


def test_l1_gives_exact_zeros_that_stay_dead_and_l2_gives_none() -> None:
    kw = dict(dataset="circle", features=list(FEATURES), hidden=[4], activation="tanh", lr=0.03)
    l1 = Playground(**kw, regularization="L1", reg_rate=0.01).step(20)
    l2 = Playground(**kw, regularization="L2", reg_rate=0.01).step(20)
    zeros = sum(int((w == 0).sum()) for w in l1.weights())
    assert zeros > 0
    assert sum(int(d.sum()) for d in l1.dead) == zeros
    assert all((w != 0).all() for w in l2.weights())
    dead = [d.copy() for d in l1.dead]
    l1.update(reg_rate=0.0, regularization=None).step(5)  # without the penalty, gradients would move them
    for w, d in zip(l1.weights(), dead):
        assert (w[d] == 0).all()


# g(z) and g'(z) in plain numpy: the lectures' table, independent of the engine
_NUMPY_ACTIVATIONS = {
    "tanh": (np.tanh, lambda z: 1 - np.tanh(z) ** 2),
    "sigmoid": (lambda z: 1 / (1 + np.exp(-z)), lambda z: np.exp(-z) / (1 + np.exp(-z)) ** 2),
    "relu": (lambda z: np.maximum(z, 0), lambda z: (z > 0).astype(float)),
    "linear": (lambda z: z, np.ones_like),
}


def _numpy_step(W, b, x, y, lr, reg, rate, activation, output="tanh"):
    """One mini-batch of nn.ts in plain numpy: forward, mean of 1/2 (a - y)^2, backprop, update."""
    acts, zs = [x], []
    for i, (Wl, bl) in enumerate(zip(W, b)):
        z = acts[-1] @ Wl.T + bl
        zs.append(z)
        g = _NUMPY_ACTIVATIONS[output if i == len(W) - 1 else activation][0]
        acts.append(g(z))
    m = len(x)
    delta = (acts[-1] - y) * _NUMPY_ACTIVATIONS[output][1](zs[-1]) / m  # dZ[L]
    grads = []
    for i in reversed(range(len(W))):
        grads.append((delta.T @ acts[i], delta.sum(0)))  # dW[l] = dZ[l]^T A[l-1], db[l] = sum dZ[l]
        if i:
            delta = (delta @ W[i]) * _NUMPY_ACTIVATIONS[activation][1](zs[i - 1])  # dZ[l] = dZ[l+1] W[l+1] * g'
    grads.reverse()
    newW, newb = [], []
    for Wl, bl, (gW, gb) in zip(W, b, grads):
        stepped = Wl - lr * gW
        if reg == "L2":
            stepped = stepped - lr * rate * Wl
        if reg == "L1":
            new = stepped - lr * rate * np.sign(Wl)
            new[stepped * new < 0] = 0.0
            stepped = new
        newW.append(stepped)
        newb.append(bl - lr * gb)
    return newW, newb


@pytest.mark.parametrize("reg", [None, "L1", "L2"])
def test_one_batch_equals_the_playground_update_in_numpy(reg: str | None) -> None:
    pg = Playground("spiral", ["x1", "x2", "sin(x1)"], [3, 2], "tanh", lr=0.1, batch_size=7,
                    regularization=reg, reg_rate=3.0)
    W, b = pg.weights(), pg.biases()
    x = feature_matrix(pg.train_points[:7], pg.features)
    y = pg.train_labels[:7, None]
    expected_W, expected_b = _numpy_step(W, b, x, y, 0.1, reg, 3.0, "tanh")
    pg._batch_step(pg._train_x[:7], pg._train_y[:7])
    for got, want in zip(pg.weights() + pg.biases(), expected_W + expected_b):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)
    if reg == "L1":  # a rate this large kills some weights in one step
        assert any((w == 0).any() for w in pg.weights())


@given(
    activation=st.sampled_from(sorted(_NUMPY_ACTIVATIONS)),
    problem=st.sampled_from(["classification", "regression"]),
    hidden=st.lists(st.integers(1, 4), max_size=3),
    features=st.lists(st.sampled_from(list(FEATURES)), min_size=1, max_size=4, unique=True),
    batch=st.integers(1, 12),
    reg=st.sampled_from([None, "L1", "L2"]),
    rate=st.sampled_from([0.0, 0.01, 1.0]),
    lr=st.sampled_from([0.001, 0.03, 0.3]),
    seed=st.integers(0, 5),
)
def test_every_setting_takes_the_playgrounds_step(activation, problem, hidden, features, batch, reg, rate, lr,
                                                   seed) -> None:
    dataset = "xor" if problem == "classification" else "multi_gauss"
    pg = Playground(dataset, features, hidden, activation, lr=lr, batch_size=batch, regularization=reg,
                    reg_rate=rate, problem=problem, seed=seed)
    W, b = pg.weights(), pg.biases()
    x = feature_matrix(pg.train_points[:batch], pg.features)
    y = pg.train_labels[:batch, None]
    output = "tanh" if problem == "classification" else "linear"
    expected = _numpy_step(W, b, x, y, lr, reg, rate, activation, output)
    pg._batch_step(pg._train_x[:batch], pg._train_y[:batch])
    for got, want in zip(pg.weights() + pg.biases(), expected[0] + expected[1]):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


def test_neuron_maps_have_one_picture_per_neuron_per_layer() -> None:
    pg = Playground("xor", ["x1", "x2", "x1*x2"], [5, 3], "relu")
    maps = pg.neuron_maps(12)
    assert [m.shape for m in maps] == [(5, 12, 12), (3, 12, 12), (1, 12, 12)]
    assert pg.decision_surface(12).shape == (12, 12)
    np.testing.assert_array_equal(pg.decision_surface(12), maps[-1][0])
    assert pg.feature_maps(12).shape == (3, 12, 12)
    # orientation: row 0 is x2 = +6, column 0 is x1 = -6 (an image of the input square)
    features = pg.feature_maps(12)
    assert features[0][0, 0] == -6 and features[0][0, -1] == 6  # x1 along a row
    assert features[1][0, 0] == 6 and features[1][-1, 0] == -6  # x2 down a column
    # each map is the network evaluated at the grid points
    np.testing.assert_allclose(maps[-1][0].ravel(), pg.predict(grid_points(12)), rtol=1e-12)
    assert (maps[0] >= 0).all()  # relu neurons


@pytest.mark.parametrize("dataset", ["plane", "multi_gauss"])
def test_regression_datasets_train(dataset: str) -> None:
    pg = Playground(dataset, ["x1", "x2"], [8, 8], "tanh", lr=0.03, problem="regression")
    start = pg.train_loss
    pg.step(30)
    assert pg.train_loss < 0.5 * start and pg.test_loss < 0.5 * start
    assert pg.predict(np.array([[6.0, 6.0]])).shape == (1,)
    if dataset == "plane":  # (x1 + x2) / 10 is nearly linear: a small loss
        assert pg.test_loss < 0.01


def test_determinism_with_a_seed() -> None:
    a = Playground("spiral", ["x1", "x2", "sin(x1)"], [4, 4], "tanh", lr=0.03, noise=0.2, seed=3).step(5)
    b = Playground("spiral", ["x1", "x2", "sin(x1)"], [4, 4], "tanh", lr=0.03, noise=0.2, seed=3).step(5)
    c = Playground("spiral", ["x1", "x2", "sin(x1)"], [4, 4], "tanh", lr=0.03, noise=0.2, seed=4).step(5)
    assert a.history == b.history
    for wa, wb in zip(a.weights(), b.weights()):
        np.testing.assert_array_equal(wa, wb)
    assert a.history != c.history
    a.reset()
    assert a.epoch == 0 and a.history[0] == b.history[0]


def test_changing_the_network_keeps_the_data_and_live_settings_keep_the_network() -> None:
    pg = Playground("circle", ["x1", "x2"], [3], "tanh").step(3)
    points, labels = pg.train_points.copy(), pg.train_labels.copy()
    pg.update(lr=0.1, batch_size=5, regularization="L2", reg_rate=0.001)
    assert pg.epoch == 3 and pg.lr == 0.1
    pg.hidden = [3, 2]  # attribute assignment is update()
    assert pg.epoch == 0 and len(pg.weights()) == 3 and pg.hidden == [3, 2]
    np.testing.assert_array_equal(pg.train_points, points)
    pg.update(noise=0.3)  # the same points, some labels flipped near the boundary
    np.testing.assert_array_equal(pg.train_points, points)
    assert 0 < (pg.train_labels != labels).sum() < 0.5 * len(labels)


def test_state_is_json_and_round_trips_with_weights() -> None:
    pg = Playground("xor", ["x1*x2", "x1"], [2], "sigmoid", lr=0.1, regularization="l1", reg_rate=0.001).step(4)
    state = json.loads(json.dumps(pg.state()))
    assert state["features"] == ["x1", "x1*x2"] and state["regularization"] == "L1"
    assert Playground.from_state(state).epoch == 0
    full = json.loads(json.dumps(pg.state(include_weights=True)))
    again = Playground.from_state(full)
    assert again.epoch == 4 and again.train_loss == pytest.approx(pg.train_loss, abs=1e-12)
    for wa, wb in zip(again.weights(), pg.weights()):
        np.testing.assert_array_equal(wa, wb)
    namespace: dict = {}
    exec(pg.code().replace("print(", "_ = ("), namespace)  # "show code" reproduces the run
    assert namespace["pg"].history == pg.history


def test_datasets_follow_the_playground_conventions() -> None:
    for name, (_, problem) in DATASETS.items():
        X, y = make_playground_data(name, seed=0)
        assert X.shape == ((500 if problem == "classification" else 1200), 2)
        assert np.abs(X).max() <= 6.0 + 1e-12
        if problem == "classification":
            assert set(np.unique(y)) == {-1.0, 1.0}


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(dataset="moon"), "unknown dataset 'moon'; choose one of 'circle', 'xor', 'gauss', 'spiral'"),
        (dict(features=["x3"]), "unknown feature 'x3'; choose one of 'x1', 'x2', 'x1^2'"),
        (dict(features="x1"), "features must be a list"),
        (dict(features=[]), "at least one feature"),
        (dict(activation="softmax"), "unknown activation 'softmax'; choose one of 'relu', 'tanh', 'sigmoid', 'linear'"),
        (dict(regularization="L3"), "unknown regularization 'L3'"),
        (dict(hidden=[9]), "each an integer in 1..8"),
        (dict(lr=-1), "lr must be a number in (0.0, 10.0]"),
        (dict(noise=2), "noise must be a number in [0.0, 0.5]"),
        (dict(dataset="plane"), "pass problem='regression'"),
        (dict(problem="ranking"), "unknown problem 'ranking'"),
        (dict(batch_size=0), "batch_size must be an integer"),
    ],
)
def test_bad_settings_name_the_valid_ones(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)").replace("[", r"\[")
                       .replace("]", r"\]").replace("^", r"\^").replace("*", r"\*").replace(".", r"\.")):
        Playground(**kwargs)


def test_unknown_update_and_bad_step_are_rejected() -> None:
    pg = Playground()
    with pytest.raises(ValueError, match="unknown setting"):
        pg.update(learning_rate=0.1)
    with pytest.raises(ValueError, match="epochs must be an integer"):
        pg.step(-1)
    with pytest.raises(ValueError, match="resolution"):
        pg.neuron_maps(1)


def test_the_jitted_step_when_there_is_one_equals_the_eager_step() -> None:
    # tg.jit (when the package has it) replays the traced step; it must change no number
    fast = Playground("spiral", ["x1", "x2", "sin(x2)"], [5, 3], "tanh", lr=0.03, batch_size=7,
                      regularization="L2", reg_rate=0.001).step(4)
    eager = Playground("spiral", ["x1", "x2", "sin(x2)"], [5, 3], "tanh", lr=0.03, batch_size=7,
                       regularization="L2", reg_rate=0.001)
    eager._fast_step = eager._plain_step
    eager.step(4)
    assert fast.history == eager.history
    for a, b in zip(fast.weights() + fast.biases(), eager.weights() + eager.biases()):
        np.testing.assert_array_equal(a, b)


def test_the_url_fragment_round_trips() -> None:
    pg = Playground("spiral", ["x1", "x1*x2", "sin(x2)"], [5, 3], "relu", lr=0.3, batch_size=4, noise=0.15,
                    train_ratio=0.7, regularization="L1", reg_rate=0.003, seed=7)
    fragment = pg.url_hash()
    assert "features=x1,x1*x2,sin(x2)" in fragment and "hidden=5,3" in fragment
    assert Playground.from_url("http://127.0.0.1:8765/" + fragment).settings() == pg.settings()
    assert Playground.from_url("#hidden=&regularization=null").settings()["hidden"] == []
    with pytest.raises(ValueError, match="unknown setting 'speed'"):
        Playground.from_url("#speed=3")
    with pytest.raises(ValueError, match="lr must be a number"):
        Playground.from_url("#lr=fast")
