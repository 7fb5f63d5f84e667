"""Ng's notation with a bias column (Racharak, Kabir) = the W, b form = autograd.

The "Neural Networks: Learning" decks put the bias into the weights: every layer but the
output gets a bias unit a_0 = 1, and Theta(l) of shape (s_(l+1), s_l + 1) multiplies
[1; a(l)], so its column 0 is the bias b[l]. Backpropagation then drops delta_0 (nothing feeds
the bias unit) and leaves the bias column out of the regulariser:

    delta(L) = a(L) - y;   delta(l) = (Theta(l)^T delta(l+1)) .* [1; g'(z(l))], drop delta_0(l)
    Delta(l) := Delta(l) + delta(l+1) a(l)^T
    D(l) = (1/m) Delta(l) + (lambda/m) Theta(l)  (j >= 1),   D(l) = (1/m) Delta(l)  (j = 0)

This script computes D(l) that way (``reference_theta.theta_gradients``), then the same
network in the W[l], b[l] form of the other decks (``reference.l_layer_backward``) and with
autograd (``nn.MLP`` + ``nn.neural_network_cost``), and checks that all three agree.

Run:  python examples/bias_column.py
"""

from __future__ import annotations

import numpy as np

import tinygrad_edu as tg
from tinygrad_edu import nn, reference
from tinygrad_edu import reference_theta as T

SIZES, M, LAM = [2, 3, 2], 5, 0.5  # s_1 = 2 inputs, 3 hidden units, K = 2 outputs; m = 5 examples


def main() -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(SIZES[0], M))                      # one column per example
    Y = (rng.random((SIZES[-1], M)) < 0.5).astype(float)

    model = nn.MLP(SIZES, activation="sigmoid", output_activation="sigmoid", seed=0)
    thetas = T.to_theta(nn.lecture_params(model))           # Theta(l) = [b[l] | W[l]]
    for l, theta in enumerate(thetas, start=1):
        print(f"Theta({l}) shape {theta.shape} = (s_{l + 1}, s_{l} + 1); column 0 is b[{l}]")

    D = T.theta_gradients(X, Y, thetas, lam=LAM)
    J = T.theta_cost(X, Y, thetas, lam=LAM)

    # the W, b form: dW[l] = (1/m) dZ[l] A[l-1]^T + (lambda/m) W[l], db[l] = (1/m) sum dZ[l]
    _, grads = reference.l_layer_cost_and_grads(X, Y, nn.lecture_params(model), lam=LAM,
                                                 hidden_activation="sigmoid")
    # autograd: the same cost on rows-as-examples tensors
    cost = nn.neural_network_cost(model(tg.Tensor(X.T)), Y.T, model=model, lam=LAM)
    cost.backward()
    linears = [m for _, m in model.named_modules() if isinstance(m, nn.Linear)]

    print(f"J(Theta) = {J:.10f} (Theta form), {cost.item():.10f} (autograd)")
    assert abs(J - cost.item()) < 1e-12
    for l, (Dl, layer) in enumerate(zip(D, linears), start=1):
        wb = np.hstack([grads[f"db{l}"], grads[f"dW{l}"]])
        auto = np.hstack([layer.bias.grad.data.reshape(-1, 1), layer.weight.grad.data])
        err_wb, err_auto = np.abs(Dl - wb).max(), np.abs(Dl - auto).max()
        print(f"D({l}) vs [db[{l}] | dW[{l}]]: max diff {err_wb:.1e};  vs autograd: {err_auto:.1e}")
        assert err_wb < 1e-12 and err_auto < 1e-12
        # the bias column is not regularised: lambda changes only columns j >= 1
        unreg = T.theta_gradients(X, Y, thetas, lam=0.0)[l - 1]
        assert np.array_equal(unreg[:, 0], Dl[:, 0]) and not np.allclose(unreg[:, 1:], Dl[:, 1:])
    print("the three forms agree; the bias column is left out of the regulariser")


if __name__ == "__main__":
    main()
