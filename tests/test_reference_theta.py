"""The lectures' Theta form with a bias column (issue 20 #3) equals the W, b form and autograd."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_edu as tg
from tinygrad_edu import nn, reference
from tinygrad_edu import reference_theta as T

architectures = st.lists(st.integers(1, 4), min_size=0, max_size=2).flatmap(
    lambda hidden: st.tuples(st.integers(1, 4), st.just(hidden), st.integers(1, 3))
)


def problem(sizes: list[int], m: int, seed: int) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(sizes[0], m))
    Y = (rng.random((sizes[-1], m)) < 0.5).astype(float)
    return X, Y, reference.initialize_parameters(sizes, seed=seed)


def test_theta_is_the_bias_column_beside_w() -> None:
    params = reference.initialize_parameters([3, 4, 2], seed=0)
    thetas = T.to_theta(params)
    assert [t.shape for t in thetas] == [(4, 4), (2, 5)]  # (s_(l+1), s_l + 1)
    np.testing.assert_array_equal(thetas[0][:, 0:1], params["b1"])
    np.testing.assert_array_equal(thetas[1][:, 1:], params["W2"])
    back = T.from_theta(thetas)
    assert all(np.array_equal(back[k], params[k]) for k in params)


@given(architectures, st.integers(1, 5), st.floats(0.0, 2.0), st.integers(0, 2**16))
def test_theta_gradients_equal_the_w_b_form(arch, m: int, lam: float, seed: int) -> None:
    n_x, hidden, n_out = arch
    sizes = [n_x, *hidden, n_out]
    X, Y, params = problem(sizes, m, seed)
    D = T.theta_gradients(X, Y, T.to_theta(params), lam=lam)
    wb = reference.l_layer_grads_delta_accumulation(X, Y, params, lam=lam, hidden_activation="sigmoid")
    expected = T.to_theta({k[1:]: v for k, v in wb.items()})  # {"W1": dW1, "b1": db1, ...} -> [D(1), ...]
    for got, want in zip(D, expected):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)
    cost = T.theta_cost(X, Y, T.to_theta(params), lam=lam)
    assert cost == pytest.approx(reference.regularized_cost(X, Y, params, lam, hidden_activation="sigmoid"),
                                 rel=1e-10)


def test_bias_column_is_not_regularised_and_delta_zero_is_dropped() -> None:
    X, Y, params = problem([2, 3, 1], 4, 0)
    thetas = T.to_theta(params)
    D0, D1 = T.theta_gradients(X, Y, thetas, lam=0.0), T.theta_gradients(X, Y, thetas, lam=5.0)
    for a, b, theta in zip(D0, D1, thetas):
        np.testing.assert_array_equal(a[:, 0], b[:, 0])  # column j = 0 untouched by lambda
        np.testing.assert_allclose(b[:, 1:] - a[:, 1:], 5.0 / 4 * theta[:, 1:], rtol=1e-12)
    assert [d.shape for d in D0] == [t.shape for t in thetas]  # delta_0 dropped: shapes stay Theta's


def test_theta_gradients_equal_autograd_of_the_same_network() -> None:
    X, Y, _ = problem([3, 5, 2], 6, 1)
    model = nn.MLP([3, 5, 2], activation="sigmoid", output_activation="sigmoid", seed=3)
    J = nn.neural_network_cost(model(tg.Tensor(X.T)), Y.T, model=model, lam=0.3)
    J.backward()
    thetas = T.to_theta(nn.lecture_params(model))
    assert J.item() == pytest.approx(T.theta_cost(X, Y, thetas, lam=0.3), rel=1e-12)
    linears = [mod for _, mod in model.named_modules() if isinstance(mod, nn.Linear)]
    for D, layer in zip(T.theta_gradients(X, Y, thetas, lam=0.3), linears):
        np.testing.assert_allclose(D[:, 1:], layer.weight.grad.data, rtol=1e-10, atol=1e-14)
        np.testing.assert_allclose(D[:, 0], layer.bias.grad.data, rtol=1e-10, atol=1e-14)


def test_a_theta_of_the_wrong_width_is_named() -> None:
    with pytest.raises(ValueError, match=r"Theta\(1\) has shape \(2, 3\).*expected Theta\(1\) of shape \(s_2, 4\)"):
        T.theta_forward(np.ones((3, 1)), [np.ones((2, 3))])
