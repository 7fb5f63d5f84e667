"""cross_entropy / nll_loss with PyTorch's options (weight=, ignore_index=, label_smoothing=)
and N-d inputs (class axis 1): a numpy formula, finite differences, and PyTorch where installed."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from ops_helpers import check_grad, torch_or_skip

from tinygrad_edu import Tensor, nn
from tinygrad_edu.testing import arrays


def _numpy_cross_entropy(z, y, weight, ignore_index, eps):
    """The formula of _class_loss_with_options written out in numpy (labels, mean reduction)."""
    c = z.shape[1]
    rows = np.moveaxis(z, 1, -1).reshape(-1, c)
    logp = rows - rows.max(1, keepdims=True)
    logp = logp - np.log(np.exp(logp).sum(1, keepdims=True))
    labels = y.reshape(-1)
    kept = labels != ignore_index
    w = np.ones(c) if weight is None else weight
    safe = np.where(kept, labels, 0)
    q = (1 - eps) * np.eye(c)[safe] + eps / c
    losses = -(q * w * logp).sum(1) * kept
    return losses.sum() / (w[safe] * kept).sum()


@st.composite
def class_problem(draw):
    n, c, extra = draw(st.integers(1, 3)), draw(st.integers(2, 4)), draw(st.sampled_from([(), (2,), (2, 1)]))
    z = draw(arrays((n, c, *extra), -3, 3))
    y = np.asarray(draw(st.lists(st.integers(0, c - 1), min_size=n * int(np.prod(extra)),
                                 max_size=n * int(np.prod(extra))))).reshape((n, *extra))
    y.flat[0] = draw(st.sampled_from([y.flat[0], -100]))  # sometimes ignore the first example
    if (y == -100).all():
        y.flat[0] = 0
    weight = draw(st.one_of(st.none(), arrays((c,), 0.5, 2.0)))
    return z, y, weight, draw(st.sampled_from([0.0, 0.1, 0.5]))


@given(problem=class_problem())
def test_cross_entropy_options_match_the_formula_and_finite_differences(problem) -> None:
    z, y, weight, eps = problem
    out = check_grad(lambda t: nn.cross_entropy(t, y, weight=weight, label_smoothing=eps), z)
    np.testing.assert_allclose(out.data, _numpy_cross_entropy(z, y, weight, -100, eps), rtol=1e-10)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("options", [{}, {"weight": [0.5, 2.0, 1.0]}, {"label_smoothing": 0.2},
                                     {"weight": [0.5, 2.0, 1.0], "label_smoothing": 0.3}, {"ignore_index": 1}])
def test_cross_entropy_and_nll_loss_match_pytorch(reduction: str, options: dict) -> None:
    torch = torch_or_skip()
    rng = np.random.default_rng(0)
    z = rng.standard_normal((4, 3, 2))
    y = rng.integers(0, 3, (4, 2))
    if "ignore_index" not in options:
        y[0, 1] = -100
    torch_options = {k: torch.tensor(v, dtype=torch.float64) if k == "weight" else v for k, v in options.items()}
    x, tx = Tensor(z, requires_grad=True), torch.tensor(z, requires_grad=True)
    out = nn.cross_entropy(x, y, reduction, **options)
    expected = torch.nn.functional.cross_entropy(tx, torch.tensor(y), reduction=reduction, **torch_options)
    np.testing.assert_allclose(out.data, expected.detach().numpy(), rtol=1e-12)
    out.sum().backward()
    expected.sum().backward()
    np.testing.assert_allclose(x.grad.data, tx.grad.numpy(), rtol=1e-12, atol=1e-15)
    nll_options = {k: v for k, v in torch_options.items() if k != "label_smoothing"}
    logp = Tensor(z).log_softmax(axis=1)
    ours = nn.nll_loss(logp, y, reduction, **{k: v for k, v in options.items() if k != "label_smoothing"})
    theirs = torch.nn.functional.nll_loss(torch.tensor(logp.data), torch.tensor(y), reduction=reduction,
                                          **nll_options)
    np.testing.assert_allclose(ours.data, theirs.numpy(), rtol=1e-12)


def test_probability_targets_with_weight_and_smoothing_match_pytorch() -> None:
    torch = torch_or_skip()
    rng = np.random.default_rng(1)
    z = rng.standard_normal((3, 4, 2))
    p = rng.random((3, 4, 2))
    p /= p.sum(1, keepdims=True)
    w = np.array([1.0, 0.5, 2.0, 1.5])
    ours = nn.cross_entropy(Tensor(z), p, weight=w, label_smoothing=0.25)
    theirs = torch.nn.functional.cross_entropy(torch.tensor(z), torch.tensor(p), weight=torch.tensor(w),
                                               label_smoothing=0.25)
    np.testing.assert_allclose(ours.data, theirs.numpy(), rtol=1e-12)


def test_class_loss_options_check_their_arguments() -> None:
    z = Tensor(np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"cross_entropy: weight must have shape \(3,\)"):
        nn.cross_entropy(z, [0, 1], weight=[1.0, 2.0])
    with pytest.raises(ValueError, match=r"cross_entropy: label 5 at position 1 is out of range for 3 classes"):
        nn.cross_entropy(z, [0, 5], ignore_index=-1)
    with pytest.raises(ValueError, match=r"cross_entropy: label_smoothing must be in \[0, 1\]"):
        nn.cross_entropy(z, [0, 1], label_smoothing=1.5)
    with pytest.raises(ValueError, match=r"nll_loss: input has shape \(2, 3, 4\); target must be labels of shape"):
        nn.nll_loss(Tensor(np.zeros((2, 3, 4))), [0, 1])
    assert nn.cross_entropy(z, [0, -100]).item() == pytest.approx(np.log(3))  # the ignored row leaves the mean


def test_loss_modules_take_the_options() -> None:
    rng = np.random.default_rng(3)
    z, y = Tensor(rng.standard_normal((4, 3))), np.array([0, 2, -100, 1])
    w = [0.5, 2.0, 1.0]
    module = nn.CrossEntropyLoss(weight=w, label_smoothing=0.1)
    np.testing.assert_array_equal(module(z, y).data, nn.cross_entropy(z, y, weight=w, label_smoothing=0.1).data)
    logp = z.log_softmax(axis=1)
    np.testing.assert_array_equal(nn.NLLLoss(weight=w, reduction="sum")(logp, y).data,
                                  nn.nll_loss(logp, y, "sum", weight=w).data)
    assert nn.CrossEntropyLoss(reduction="none")(z, [0, 1, 2, 1]).shape == (4,)
