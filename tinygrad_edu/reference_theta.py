"""The lectures' Theta notation with a bias column (Ng's form, as in the Racharak and Kabir decks).

Plain numpy, like :mod:`tinygrad_edu.reference` (whose activations it uses), and never the
engine. Layers are numbered from 1 = the input, in parentheses, as on those slides:

* a(1) = x with a bias unit a_0(1) = 1 prepended: a(1) = [1; x];
* Theta(l) has shape (s_(l+1), s_l + 1): column 0 multiplies the bias unit, so it *is* the
  bias b[l] of the W, b form, and columns 1.. are W[l];
* z(l+1) = Theta(l) a(l), a(l+1) = [1; g(z(l+1))] (no bias unit on the output layer);
* backpropagation per example: delta(L) = a(L) - y, then
  delta(l) = (Theta(l)^T delta(l+1)) .* [1; g'(z(l))] with the bias entry delta_0(l)
  **dropped** (nothing feeds the bias unit, so no gradient flows into it),
  Delta(l) := Delta(l) + delta(l+1) a(l)^T;
* D(l) = (1/m) Delta(l) + (lambda/m) Theta(l) for j >= 1 and D(l) = (1/m) Delta(l) for j = 0:
  the bias column is not regularised. (The slides write lambda Theta; lambda/m is what the
  (lambda/2m) sum Theta^2 cost on the same slides differentiates to -- see
  :mod:`tinygrad_edu.reference`, "The regulariser, worked out".)

:func:`to_theta` / :func:`from_theta` convert between this form and the W[l], b[l] dicts of
:mod:`tinygrad_edu.reference` (Theta(l) = [b[l] | W[l]]), so the two are checked equal
(``tests/test_reference_theta.py``; ``examples/bias_column.py`` also checks autograd).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from .reference import ACTIVATIONS, sigmoid

__all__ = ["from_theta", "theta_cost", "theta_forward", "theta_gradients", "to_theta"]


def to_theta(params: Mapping[str, np.ndarray]) -> list[np.ndarray]:
    """[Theta(1), ..., Theta(L-1)] from ``{"W1", "b1", ...}``: Theta(l) = [b[l] | W[l]]."""
    n_layers = len([k for k in params if k.startswith("W")])
    return [np.hstack([params[f"b{l}"], params[f"W{l}"]]) for l in range(1, n_layers + 1)]


def from_theta(thetas: Sequence[np.ndarray]) -> dict[str, np.ndarray]:
    """``{"W1", "b1", ...}`` from [Theta(1), ...]: b[l] = column 0, W[l] = columns 1.."""
    params: dict[str, np.ndarray] = {}
    for l, theta in enumerate(thetas, start=1):
        params[f"W{l}"], params[f"b{l}"] = theta[:, 1:].copy(), theta[:, :1].copy()
    return params


def _with_bias_unit(a: np.ndarray) -> np.ndarray:
    """[1; a]: the bias unit a_0 = 1 on top of a column (or of every column of a matrix)."""
    return np.vstack([np.ones((1, a.shape[1])), a])


def theta_forward(x: np.ndarray, thetas: Sequence[np.ndarray], hidden_activation: str = "sigmoid",
                  ) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Forward propagation of the columns of ``x`` (shape (s_1, m)), sigmoid output.

    Returns (a, z): ``a[k]`` is a(k+1) -- with its bias row for every layer but the output --
    and ``z[k]`` is z(k+2) (``z[0]`` feeds layer 2).
    """
    g = ACTIVATIONS[hidden_activation][0]
    a = [_with_bias_unit(np.asarray(x, dtype=float))]
    z: list[np.ndarray] = []
    for l, theta in enumerate(thetas, start=1):
        if theta.shape[1] != a[-1].shape[0]:
            raise ValueError(
                f"theta_forward: Theta({l}) has shape {theta.shape} but a({l}) with its bias unit has "
                f"{a[-1].shape[0]} rows; expected Theta({l}) of shape (s_{l + 1}, {a[-1].shape[0]})"
            )
        z.append(theta @ a[-1])
        last = l == len(thetas)
        a.append(sigmoid(z[-1]) if last else _with_bias_unit(g(z[-1])))
    return a, z


def theta_cost(x: np.ndarray, y: np.ndarray, thetas: Sequence[np.ndarray], lam: float = 0.0,
               hidden_activation: str = "sigmoid") -> float:
    """J(Theta) = -(1/m) sum_i sum_k [y_k log h_k + (1 - y_k) log(1 - h_k)]
    + (lambda/2m) sum_l sum_i sum_(j >= 1) Theta(l)_ij^2 (the bias column j = 0 excluded)."""
    a, _ = theta_forward(x, thetas, hidden_activation)
    h, y = a[-1], np.asarray(y, dtype=float)
    m = y.shape[1]
    cost = -np.sum(y * np.log(h) + (1.0 - y) * np.log(1.0 - h)) / m
    return float(cost + lam / (2 * m) * sum(np.sum(theta[:, 1:] ** 2) for theta in thetas))


def theta_gradients(x: np.ndarray, y: np.ndarray, thetas: Sequence[np.ndarray], lam: float = 0.0,
                    hidden_activation: str = "sigmoid") -> list[np.ndarray]:
    """D(l) = dJ/dTheta(l) by the slides' per-example loop (one column of ``x`` at a time).

        Delta(l) = 0
        for i = 1 to m:
            a(1) = [1; x(i)], forward to a(L);   delta(L) = a(L) - y(i)
            delta(l) = (Theta(l)^T delta(l+1)) .* [1; g'(z(l))], then drop delta_0(l)   (l = L-1 .. 2)
            Delta(l) := Delta(l) + delta(l+1) a(l)^T                                       (l = L-1 .. 1)
        D(l) = (1/m) Delta(l) + (lambda/m) Theta(l)   for j >= 1;   D(l) = (1/m) Delta(l)   for j = 0
    """
    g_prime = ACTIVATIONS[hidden_activation][1]
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    m = x.shape[1]
    Delta = [np.zeros_like(theta, dtype=float) for theta in thetas]
    for i in range(m):
        a, z = theta_forward(x[:, i : i + 1], thetas, hidden_activation)
        delta = a[-1] - y[:, i : i + 1]  # delta(L)
        for l in range(len(thetas), 0, -1):  # Theta(l) maps layer l to l + 1
            Delta[l - 1] += delta @ a[l - 1].T
            if l > 1:
                with_bias = thetas[l - 1].T @ delta * np.vstack([[[1.0]], g_prime(z[l - 2])])
                delta = with_bias[1:]  # drop delta_0: the bias unit has no input to pass it to
    D = []
    for theta, acc in zip(thetas, Delta):
        grad = acc / m
        grad[:, 1:] += lam / m * theta[:, 1:]  # the bias column j = 0 is not regularised
        D.append(grad)
    return D
