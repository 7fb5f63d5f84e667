"""The lectures' formulas in tinygrad_edu.reference, checked against finite differences and each other.

Everything here is numpy only: no engine involved, so these tests establish that the
reference is a trustworthy oracle before other tests compare autograd with it.

Random parameters and data come from a seeded numpy generator whose seed hypothesis draws:
continuous normal draws make a relu pre-activation within 1e-4 of the kink a rare event
(probability ~1e-4 per unit), and ``assume`` discards just those rare cases, so the
health check never sees heavy filtering.
"""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from tinygrad_edu import reference as R

HIDDEN = ["sigmoid", "tanh", "relu", "leaky_relu"]
H = 1e-6  # central-difference step: truncation ~h^2, round-off ~1e-16/h (see TESTING.md)
FD_TOL = {"rtol": 1e-4, "atol": 1e-6}  # float64 finite differences vs exact formulas
EXACT_TOL = {"rtol": 1e-10, "atol": 1e-12}  # same maths, different summation order: round-off only


def numeric_grads(cost, params: dict[str, np.ndarray], h: float = H) -> dict[str, np.ndarray]:
    """Central differences (J(p+h) - J(p-h)) / 2h of cost(params) for every entry of every array."""
    out = {}
    for name, value in params.items():
        g = np.zeros_like(value)
        for idx in np.ndindex(value.shape):
            saved = value[idx]
            value[idx] = saved + h
            plus = cost(params)
            value[idx] = saved - h
            minus = cost(params)
            value[idx] = saved
            g[idx] = (plus - minus) / (2 * h)
        out[f"d{name}"] = g
    return out


def make_problem(seed: int, sizes: list[int], m: int, output: str):
    rng = np.random.default_rng(seed)
    params = R.initialize_parameters(sizes, seed=rng, scale=1.5)
    X = rng.standard_normal((sizes[0], m))
    K = sizes[-1]
    if output == "sigmoid":
        Y = (rng.random((K, m)) < 0.5).astype(float)
    else:
        Y = np.eye(K)[:, rng.integers(0, K, size=m)]
    return params, X, Y


def min_abs_hidden_z(X, params, hidden) -> float:
    _, caches = R.l_layer_forward(X, params, hidden, "sigmoid")
    hidden_z = [c[3] for c in caches[:-1]]
    return min((float(np.min(np.abs(z))) for z in hidden_z), default=np.inf)


architectures = st.lists(st.integers(1, 4), min_size=1, max_size=3).flatmap(
    lambda hidden: st.tuples(st.integers(1, 4), st.just(hidden), st.integers(1, 3))
)


# ============================================================== independence


def test_reference_imports_only_numpy() -> None:
    source = Path(R.__file__).read_text(encoding="utf-8")
    imported = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            imported |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"reference.py has a relative import: from {'.' * node.level}{node.module}"
            imported.add(node.module.split(".")[0])
    assert imported <= {"__future__", "collections", "numpy"}, imported


def test_reference_loads_without_the_package() -> None:
    spec = importlib.util.spec_from_file_location("standalone_reference", R.__file__)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.sigmoid(np.array(0.0)) == 0.5


# ============================================================== activations


def test_activations_and_derivatives_match_the_lecture_table() -> None:
    z = np.array([-2.0, -0.5, 0.5, 3.0])
    s = 1 / (1 + np.exp(-z))
    np.testing.assert_allclose(R.activation_derivative("sigmoid", z), s * (1 - s), rtol=1e-14)
    np.testing.assert_allclose(R.activation_derivative("tanh", z), 1 - np.tanh(z) ** 2, rtol=1e-14)
    np.testing.assert_array_equal(R.activation_derivative("relu", z), [0, 0, 1, 1])
    np.testing.assert_array_equal(R.activation_derivative("leaky_relu", z), [0.01, 0.01, 1, 1])
    np.testing.assert_array_equal(R.leaky_relu(z), [-0.02, -0.005, 0.5, 3.0])
    # the lectures' table: f'(x) = 1 for x >= 0 (the engine uses PyTorch's relu'(0) = 0)
    assert R.activation_derivative("relu", np.array(0.0)) == 1.0


@given(st.integers(0, 2**32 - 1), st.sampled_from(HIDDEN))
def test_activation_derivatives_match_finite_differences(seed: int, name: str) -> None:
    z = np.random.default_rng(seed).uniform(-5, 5, size=20)
    assume(np.min(np.abs(z)) > 1e-3)  # kinks of relu / leaky relu at 0
    g = R.ACTIVATIONS[name][0]
    numeric = (g(z + H) - g(z - H)) / (2 * H)
    np.testing.assert_allclose(R.activation_derivative(name, z), numeric, **FD_TOL)


def test_sigmoid_is_stable_and_softmax_columns_sum_to_one() -> None:
    assert np.all(np.isfinite(R.sigmoid(np.array([-1000.0, 1000.0]))))
    p = R.softmax(np.array([[1000.0, 0.0], [1001.0, 0.0], [999.0, 0.0]]))
    np.testing.assert_allclose(p.sum(axis=0), [1.0, 1.0], rtol=1e-14)
    np.testing.assert_allclose(p[:, 1], [1 / 3] * 3, rtol=1e-14)


# ============================================================== logistic regression


@given(st.integers(1, 4), st.integers(1, 6), st.integers(0, 2**32 - 1), st.sampled_from([0.0, 0.7, 3.0]))
def test_logistic_regression_loop_equals_vectorised(n_x: int, m: int, seed: int, lam: float) -> None:
    rng = np.random.default_rng(seed)
    w, b = rng.standard_normal((n_x, 1)), float(rng.standard_normal())
    X, Y = rng.standard_normal((n_x, m)), (rng.random((1, m)) < 0.5).astype(float)
    J, dw, db = R.logistic_regression_cost_and_grads(w, b, X, Y, lam)
    J2, dw2, db2 = R.logistic_regression_cost_and_grads_loop(w, b, X, Y, lam)
    assert J == pytest.approx(J2, rel=1e-12)
    np.testing.assert_allclose(dw, dw2, **EXACT_TOL)
    assert db == pytest.approx(db2, rel=1e-10, abs=1e-12)


@given(st.integers(1, 4), st.integers(1, 6), st.integers(0, 2**32 - 1), st.sampled_from([0.0, 0.7, 3.0]))
def test_logistic_regression_gradients_match_finite_differences(n_x: int, m: int, seed: int, lam: float) -> None:
    rng = np.random.default_rng(seed)
    p = {"w": rng.standard_normal((n_x, 1)), "b": rng.standard_normal((1, 1))}
    X, Y = rng.standard_normal((n_x, m)), (rng.random((1, m)) < 0.5).astype(float)
    _, dw, db = R.logistic_regression_cost_and_grads(p["w"], float(p["b"][0, 0]), X, Y, lam)
    num = numeric_grads(lambda q: R.logistic_regression_cost_and_grads(q["w"], float(q["b"][0, 0]), X, Y, lam)[0], p)
    np.testing.assert_allclose(dw, num["dw"], **FD_TOL)
    np.testing.assert_allclose(db, num["db"][0, 0], **FD_TOL)


def test_logistic_regression_known_values() -> None:
    # w = 0, b = 0: every a = 1/2, so J = ln 2 and dZ = 1/2 - Y.
    X = np.array([[1.0, 2.0, -1.0], [3.0, 0.5, 2.0]])
    Y = np.array([[1.0, 0.0, 1.0]])
    J, dw, db = R.logistic_regression_cost_and_grads(np.zeros((2, 1)), 0.0, X, Y)
    assert J == pytest.approx(np.log(2))
    np.testing.assert_allclose(dw, X @ (0.5 - Y).T / 3)
    assert db == pytest.approx(np.mean(0.5 - Y))


def test_logistic_regression_rejects_the_wrong_layout() -> None:
    X = np.zeros((3, 5))
    with pytest.raises(ValueError, match=r"w must have shape \(n_x, 1\) = \(3, 1\)"):
        R.logistic_regression_cost_and_grads(np.zeros((5, 1)), 0.0, X, np.zeros((1, 5)))
    with pytest.raises(ValueError, match=r"Y must have shape \(1, m\)"):
        R.logistic_regression_cost_and_grads(np.zeros((3, 1)), 0.0, X, np.zeros((5, 1)))


# ============================================================== L-layer network


@given(architectures, st.sampled_from(HIDDEN), st.sampled_from(["sigmoid", "softmax"]),
       st.integers(0, 2**32 - 1), st.sampled_from([0.0, 0.5, 2.0]))
def test_l_layer_backward_matches_finite_differences_of_the_regularised_cost(arch, hidden, output, seed, lam) -> None:
    n_x, widths, m = arch
    sizes = [n_x, *widths, 2 if output == "softmax" else 1]
    params, X, Y = make_problem(seed, sizes, m, output)
    assume(min_abs_hidden_z(X, params, hidden) > 1e-4)
    _, grads = R.l_layer_cost_and_grads(X, Y, params, lam, hidden, output)
    num = numeric_grads(lambda p: R.regularized_cost(X, Y, p, lam, hidden, output), params)
    for key, value in num.items():
        np.testing.assert_allclose(grads[key], value, **FD_TOL, err_msg=key)


@given(architectures, st.sampled_from(HIDDEN), st.sampled_from(["sigmoid", "softmax"]),
       st.integers(0, 2**32 - 1), st.sampled_from([0.0, 0.5, 2.0]))
def test_delta_accumulation_equals_vectorised_backward(arch, hidden, output, seed, lam) -> None:
    n_x, widths, m = arch
    sizes = [n_x, *widths, 3 if output == "softmax" else 2]
    params, X, Y = make_problem(seed, sizes, m, output)
    _, grads = R.l_layer_cost_and_grads(X, Y, params, lam, hidden, output)
    loop = R.l_layer_grads_delta_accumulation(X, Y, params, lam, hidden, output)
    assert set(loop) == {k for k in grads if not k.startswith("dZ")}
    for key, value in loop.items():
        np.testing.assert_allclose(value, grads[key], **EXACT_TOL, err_msg=key)


def test_regulariser_term_of_D_is_lambda_over_m_not_lambda() -> None:
    # The cost carries (lambda/2m) sum W^2, so D = Delta/m + (lambda/m) W; the slide's lambda*W is m times too big.
    lam, m = 1.5, 5
    params, X, Y = make_problem(7, [3, 4, 1], m, "sigmoid")
    unregularised = R.l_layer_grads_delta_accumulation(X, Y, params, 0.0, "tanh")  # Delta / m
    consistent = R.l_layer_grads_delta_accumulation(X, Y, params, lam, "tanh")
    slide = {k: v + lam * params[k[1:]] if k.startswith("dW") else v for k, v in unregularised.items()}
    num = numeric_grads(lambda p: R.regularized_cost(X, Y, p, lam, "tanh"), params)
    for key in ("dW1", "dW2"):
        np.testing.assert_allclose(consistent[key], num[key], **FD_TOL)
        np.testing.assert_allclose(consistent[key] - unregularised[key], lam / m * params[key[1:]], rtol=1e-12)
        assert np.max(np.abs(slide[key] - num[key])) > 0.1, "lambda*W would agree with the cost's derivative"
    np.testing.assert_allclose(consistent["db1"], unregularised["db1"], rtol=1e-14)  # biases not regularised


@given(st.integers(0, 2**32 - 1), st.sampled_from(["sigmoid", "softmax"]))
def test_cost_from_logits_equals_the_lectures_cost(seed: int, output: str) -> None:
    rng = np.random.default_rng(seed)
    ZL = rng.uniform(-8, 8, size=(3, 5))
    Y = (rng.random((3, 5)) < 0.5).astype(float) if output == "sigmoid" else np.eye(3)[:, rng.integers(0, 3, 5)]
    AL = R.sigmoid(ZL) if output == "sigmoid" else R.softmax(ZL)
    assert R.compute_cost_from_logits(ZL, Y, output) == pytest.approx(R.compute_cost(AL, Y, output), rel=1e-9)


def test_cost_from_logits_stays_finite_and_differentiable_where_the_output_saturates() -> None:
    ZL, Y = np.array([[40.0]]), np.array([[0.0]])
    with np.errstate(divide="ignore"):
        assert R.compute_cost(R.sigmoid(ZL), Y) == np.inf  # log(1 - a) = log 0
    J = R.compute_cost_from_logits(ZL, Y)
    assert J == pytest.approx(40.0, rel=1e-12)  # ln(1 + e^40) ~ 40
    slope = (R.compute_cost_from_logits(ZL + H, Y) - R.compute_cost_from_logits(ZL - H, Y)) / (2 * H)
    assert slope == pytest.approx(1.0, rel=1e-6)  # dJ/dz = a - y ~ 1


def test_regularised_cost_adds_lambda_over_2m_sum_of_squared_weights_only() -> None:
    params, X, Y = make_problem(3, [2, 3, 1], 4, "sigmoid")
    base = R.regularized_cost(X, Y, params, 0.0, "relu")
    total = R.regularized_cost(X, Y, params, 2.0, "relu")
    expected = 2.0 / (2 * 4) * (np.sum(params["W1"] ** 2) + np.sum(params["W2"] ** 2))
    assert total - base == pytest.approx(expected, rel=1e-12)


def test_softmax_output_dZ_is_A_minus_Y() -> None:
    params, X, Y = make_problem(11, [2, 3, 4], 5, "softmax")
    AL, caches = R.l_layer_forward(X, params, "tanh", "softmax")
    grads = R.l_layer_backward(AL, Y, caches, "tanh")
    np.testing.assert_allclose(grads["dZ2"], AL - Y, rtol=1e-14)
    np.testing.assert_allclose(AL.sum(axis=0), 1.0, rtol=1e-14)


def test_shape_errors_name_the_layer_and_expected_shapes() -> None:
    params = R.initialize_parameters([3, 2, 1], seed=0)
    with pytest.raises(ValueError, match=r"layer 1 has W1 \(2, 3\).*A\[0\] has shape \(4, 5\)"):
        R.l_layer_forward(np.zeros((4, 5)), params)
    with pytest.raises(ValueError, match="unknown hidden activation 'swish'"):
        R.l_layer_forward(np.zeros((3, 5)), params, hidden_activation="swish")
    with pytest.raises(ValueError, match="output_activation"):
        R.l_layer_forward(np.zeros((3, 5)), params, output_activation="relu")


def test_Y_in_the_wrong_layout_is_rejected_not_broadcast() -> None:
    # Y of shape (m, 1) instead of (1, m): A[L] - Y would silently broadcast to (m, m)
    params, X, Y = make_problem(5, [3, 2, 1], 4, "sigmoid")
    AL, caches = R.l_layer_forward(X, params, "tanh")
    with pytest.raises(ValueError, match=r"l_layer_backward: A\[L\] has shape \(1, 4\) but Y has shape \(4, 1\)"):
        R.l_layer_backward(AL, Y.T, caches, "tanh")
    with pytest.raises(ValueError, match=r"Y must have shape \(n\[L\], m\) = \(1, 4\).*got \(4, 1\)"):
        R.l_layer_grads_delta_accumulation(X, Y.T, params, 0.0, "tanh")
    with pytest.raises(ValueError, match=r"Z\[L\] has shape \(1, 4\) but Y has shape \(4, 1\)"):
        R.l_layer_cost_and_grads(X, Y.T, params, 0.0, "tanh")


# ============================================================== parameter updates


def test_gradient_descent_update() -> None:
    params = {"W1": np.array([[1.0, -2.0]]), "b1": np.array([[0.5]])}
    grads = {"dW1": np.array([[0.1, 0.2]]), "db1": np.array([[-1.0]])}
    new = R.gradient_descent_update(params, grads, alpha=0.5)
    np.testing.assert_allclose(new["W1"], [[0.95, -2.1]])
    np.testing.assert_allclose(new["b1"], [[1.0]])
    np.testing.assert_array_equal(params["W1"], [[1.0, -2.0]])  # not modified in place


def test_momentum_is_an_exponentially_weighted_average() -> None:
    beta, alpha = 0.9, 0.1
    params = {"W1": np.array([[1.0, 2.0]]), "b1": np.array([[0.0]])}
    grads = {"dW1": np.array([[1.0, -3.0]]), "db1": np.array([[2.0]])}
    v = R.initialize_velocity(params)
    # first step: V = (1 - beta) dW = 0.1 dW
    p1, v1 = R.momentum_update(params, grads, v, alpha, beta)
    np.testing.assert_allclose(v1["dW1"], [[0.1, -0.3]])
    np.testing.assert_allclose(p1["W1"], [[0.99, 2.03]])
    # with a constant gradient, after k steps V = (1 - beta^k) dW
    p, v = params, R.initialize_velocity(params)
    for _ in range(5):
        p, v = R.momentum_update(p, grads, v, alpha, beta)
    for key in ("dW1", "db1"):
        np.testing.assert_allclose(v[key], (1 - beta**5) * grads[key], rtol=1e-12)
    np.testing.assert_array_equal(params["W1"], [[1.0, 2.0]])


@given(st.integers(0, 2**32 - 1), st.sampled_from([0.1, 1.0, 4.0]), st.integers(1, 8))
def test_weight_decay_with_lambda_over_m_equals_gd_on_the_l2_cost(seed: int, lam: float, m: int) -> None:
    params, X, Y = make_problem(seed, [2, 3, 1], m, "sigmoid")
    alpha = 0.3
    _, reg = R.l_layer_cost_and_grads(X, Y, params, lam, "tanh")
    _, plain = R.l_layer_cost_and_grads(X, Y, params, 0.0, "tanh")
    gd = R.gradient_descent_update(params, reg, alpha)
    decayed = R.weight_decay_update(params, plain, alpha, weight_decay=lam / m)
    for key in params:
        np.testing.assert_allclose(decayed[key], gd[key], rtol=1e-12, atol=1e-14, err_msg=key)
    wrong = R.weight_decay_update(params, plain, alpha, weight_decay=lam)  # the unscaled lambda
    if m > 1:
        assert not np.allclose(wrong["W1"], gd["W1"], rtol=1e-9, atol=0)


def test_weight_decay_shrinks_weights_but_not_biases_by_default() -> None:
    params = {"W1": np.array([[2.0]]), "b1": np.array([[2.0]])}
    zero = {"dW1": np.zeros((1, 1)), "db1": np.zeros((1, 1))}
    new = R.weight_decay_update(params, zero, alpha=0.1, weight_decay=0.5)
    assert new["W1"][0, 0] == pytest.approx(2.0 * (1 - 0.05))
    assert new["b1"][0, 0] == 2.0
    both = R.weight_decay_update(params, zero, alpha=0.1, weight_decay=0.5, decay_biases=True)
    assert both["b1"][0, 0] == pytest.approx(1.9)
