"""The lectures' cost of K output units, exactly (issue 20 #2), and BCE-with-logits at z = +-inf.

The slide (Kabir, Racharak): J(Theta) = -(1/m) sum_i sum_k [y log h + (1 - y) log(1 - h)]
+ (lambda/2m) sum_l sum_ij Theta_ij^2. ``binary_cross_entropy(reduction="mean")`` averages over
the m K elements and so returns J / K; ``nn.neural_network_cost`` is the slide's J.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import nn


def slide_cost(h: np.ndarray, y: np.ndarray, weights: list[np.ndarray], lam: float) -> float:
    """The slide's formula in plain numpy, with explicit loops over i and k (no engine)."""
    m, K = h.shape
    total = 0.0
    for i in range(m):
        for k in range(K):
            total += y[i, k] * np.log(h[i, k]) + (1 - y[i, k]) * np.log(1 - h[i, k])
    penalty = sum(float(np.sum(W**2)) for W in weights)
    return -total / m + lam / (2 * m) * penalty


@pytest.fixture
def k4_problem() -> tuple[nn.Module, tg.Tensor, np.ndarray]:
    rng = np.random.default_rng(0)
    model = nn.MLP([3, 5, 4], activation="sigmoid", output_activation="sigmoid", seed=0)
    X = tg.Tensor(rng.normal(size=(6, 3)))
    Y = (rng.random((6, 4)) < 0.5).astype(float)
    return model, X, Y


def test_neural_network_cost_is_the_slides_formula(k4_problem) -> None:
    model, X, Y = k4_problem
    h = model(X)
    weights = [p.data for name, p in model.named_parameters() if name.endswith("weight")]
    for lam in (0.0, 0.7):
        J = nn.neural_network_cost(h, Y, model=model, lam=lam)
        assert J.item() == pytest.approx(slide_cost(h.data, Y, weights, lam), rel=1e-12)


def test_mean_binary_cross_entropy_is_the_slide_cost_over_K(k4_problem) -> None:
    """The lecture map once claimed binary_cross_entropy on (m, K) gives J(Theta): it gives J / K."""
    model, X, Y = k4_problem
    h = model(X)
    J = nn.neural_network_cost(h, Y)
    assert nn.binary_cross_entropy(h, Y).item() == pytest.approx(J.item() / 4, rel=1e-12)
    assert J.item() != pytest.approx(nn.binary_cross_entropy(h, Y).item(), rel=0.5)


def test_neural_network_cost_from_logits_and_its_gradient(k4_problem) -> None:
    _, _, Y = k4_problem
    logits = tg.Tensor(np.random.default_rng(1).normal(size=(6, 4)), requires_grad=True)
    J = nn.neural_network_cost(logits, Y, from_logits=True)
    J_prob = nn.neural_network_cost(logits.sigmoid(), Y)
    assert J.item() == pytest.approx(J_prob.item(), rel=1e-10)
    J.backward()
    sig = 1 / (1 + np.exp(-logits.data))
    np.testing.assert_allclose(logits.grad.data, (sig - Y) / 6, rtol=1e-12)  # dJ/dz = (h - y) / m


def test_neural_network_cost_rejects_a_flat_output() -> None:
    with pytest.raises(ValueError, match=r"neural_network_cost: output must have shape \(m, K\)"):
        nn.neural_network_cost(tg.Tensor([0.5, 0.5]), [1.0, 0.0])
    with pytest.raises(ValueError, match="neural_network_cost: lam"):
        nn.neural_network_cost(tg.Tensor([[0.5]]), [[1.0]], lam=-1.0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_bce_with_logits_at_infinite_logits_with_agreeing_labels_is_zero(dtype) -> None:
    """Issue 13 #4: z = +inf with y = 1 and z = -inf with y = 0 cost 0, with gradient 0, no warnings.

    PyTorch: F.binary_cross_entropy_with_logits(torch.tensor([inf, -inf]), torch.tensor([1., 0.]),
    reduction="none") -> tensor([0., 0.]).
    """
    z = tg.Tensor(np.array([np.inf, -np.inf, 2.0], dtype=dtype), requires_grad=True)
    y = np.array([1.0, 0.0, 1.0], dtype=dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # numpy RuntimeWarnings (inf - inf) fail the test
        losses = nn.binary_cross_entropy_with_logits(z, y, reduction="none")
        losses.sum().backward()
    np.testing.assert_array_equal(losses.data[:2], [0.0, 0.0])
    assert losses.data[2] == pytest.approx(np.log1p(np.exp(-2.0)), rel=1e-6)
    np.testing.assert_array_equal(z.grad.data[:2], [0.0, 0.0])
    assert np.isfinite(losses.data).all() and np.isfinite(z.grad.data).all()


@pytest.mark.parametrize("l2_m", ["batch", "dataset"])
def test_fit_l2_uses_the_batch_or_the_dataset_size_as_m(l2_m: str) -> None:
    """Issue 20 #6: fit(l2_lambda) used the batch size as m; l2_m="dataset" gives the lectures'
    full-data J_reg = J + (lambda/2N) sum W^2 for every batch size. One epoch of 4 batches of 10
    (no shuffling) against the same steps written out."""
    from tinygrad_edu import optim
    from tinygrad_edu.train import fit

    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(40, 3)), rng.integers(0, 2, size=40)
    lam, lr = 3.0, 0.1
    fitted = nn.MLP([3, 4, 2], seed=0)
    fit(fitted, nn.cross_entropy, optim.SGD(fitted.parameters(), lr=lr), (X, y), epochs=1, batch_size=10,
        shuffle=False, verbose=0, l2_lambda=lam, l2_m=l2_m)
    by_hand = nn.MLP([3, 4, 2], seed=0)
    opt = optim.SGD(by_hand.parameters(), lr=lr)
    m = 10 if l2_m == "batch" else 40
    for start in range(0, 40, 10):
        opt.zero_grad()
        J = nn.cross_entropy(by_hand(tg.Tensor(X[start:start + 10])), y[start:start + 10])
        (J + nn.l2_penalty(by_hand, lam, m)).backward()
        opt.step()
    for a, b in zip(fitted.parameters(), by_hand.parameters()):
        np.testing.assert_allclose(a.data, b.data, rtol=1e-12, atol=1e-15)


def test_fit_rejects_an_unknown_l2_m() -> None:
    from tinygrad_edu import optim
    from tinygrad_edu.train import fit

    model = nn.MLP([2, 2], seed=0)
    with pytest.raises(ValueError, match="fit: l2_m must be 'batch'"):
        fit(model, nn.cross_entropy, optim.SGD(model.parameters(), lr=0.1), (np.zeros((4, 2)), np.zeros(4, int)),
            epochs=1, verbose=0, l2_lambda=1.0, l2_m="full")
