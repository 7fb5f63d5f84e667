"""Losses and penalties: forward = plain numpy, gradients = central differences and closed forms,
stability at huge logits, and clear errors for bad input.

Tolerances (float64, see TESTING.md): finite differences with h = 1e-6 are compared with
rtol 1e-4, atol 1e-6 (truncation ~h^2 * f''' and round-off ~1e-16 * |f| / h ~ 1e-9 for the
moderate values drawn here). Closed-form gradients need no differencing, so they are checked
at 1e-12. Domains: logits in [-10, 10] (exp stays moderate); probabilities in [0.05, 0.95]
(clear of the clipping and of log's blow-up near 0 and 1); L1 residuals at least 1e-2 away from
the kink at 0 (built from intervals, not filtered).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from helpers import check_vjp
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from tinygrad_edu import Tensor
from tinygrad_edu.nn.losses import (
    BCELoss,
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    L1Loss,
    MSELoss,
    NLLLoss,
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    l1_loss,
    l1_penalty,
    l2_penalty,
    mse_loss,
    nll_loss,
)
from tinygrad_edu.nn.module import Module, Parameter
from tinygrad_edu.testing import arrays, floats, shapes


@st.composite
def pair(draw, lo: float = -5, hi: float = 5) -> tuple[np.ndarray, np.ndarray]:
    shape = draw(shapes(min_dims=1))
    return draw(arrays(shape, lo, hi)), draw(arrays(shape, lo, hi))


@st.composite
def l1_pair(draw) -> tuple[np.ndarray, np.ndarray]:
    """pred and target whose differences are at least 1e-2 away from the kink at 0."""
    shape = draw(shapes(min_dims=1))
    pred = draw(arrays(shape, -5, 5))
    return pred, pred + draw(arrays(shape, -3, 3, away_from=(0,), margin=1e-2))


@st.composite
def logits_and_labels(draw, max_classes: int = 5) -> tuple[np.ndarray, np.ndarray]:
    n = draw(st.integers(1, 5))
    c = draw(st.integers(1, max_classes))
    z = draw(arrays((n, c), -10, 10))
    y = draw(hnp.arrays(np.int64, (n,), elements=st.integers(0, c - 1)))
    return z, y


@st.composite
def logits_and_probs(draw) -> tuple[np.ndarray, np.ndarray]:
    z, _ = draw(logits_and_labels())
    w = draw(arrays(z.shape, 0.01, 1))
    return z, w / w.sum(axis=1, keepdims=True)


def np_log_softmax(z: np.ndarray) -> np.ndarray:
    shifted = z - z.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def np_sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1 + np.tanh(z / 2))  # a different formula from the engine's


# ====================================================================== forward = numpy


@given(pair())
def test_mse_forward_equals_numpy(ab) -> None:
    a, b = ab
    np.testing.assert_allclose(mse_loss(Tensor(a), b).item(), np.mean((a - b) ** 2), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(mse_loss(Tensor(a), b, reduction="sum").item(), np.sum((a - b) ** 2), rtol=1e-12)
    np.testing.assert_allclose(mse_loss(Tensor(a), b, reduction="none").data, (a - b) ** 2, rtol=1e-12)


@given(pair())
def test_l1_forward_equals_numpy(ab) -> None:
    a, b = ab
    np.testing.assert_allclose(l1_loss(Tensor(a), b).item(), np.mean(np.abs(a - b)), rtol=1e-12, atol=1e-15)


@given(pair(0.05, 0.95), st.booleans())
def test_bce_forward_equals_numpy(pb, hard_labels) -> None:
    p, y = pb
    if hard_labels:
        y = (y > 0.5).astype(float)
    expected = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
    np.testing.assert_allclose(binary_cross_entropy(Tensor(p), y).item(), expected, rtol=1e-12)


@given(pair(-30, 30))
def test_bce_with_logits_forward_equals_numpy(zy) -> None:
    z, y = zy
    y = (y + 30) / 60  # targets in [0, 1]
    # log sigma(z) = -logaddexp(0, -z) and log(1 - sigma(z)) = log sigma(-z): accurate in numpy too
    # (the naive log(1 - sigmoid(20)) has already lost 8 digits).
    expected = np.mean(y * np.logaddexp(0, -z) + (1 - y) * np.logaddexp(0, z))
    # atol: max(z, 0) - z y cancels when the prediction is right (z = 28, y = 1 gives 28 + 7e-13 - 28),
    # so the absolute error is ~|z| * 2.2e-16 <= 7e-15 here, although the relative error of a tiny
    # loss can be large (the same holds for PyTorch's formula). Relative accuracy 1e-12 elsewhere.
    np.testing.assert_allclose(
        binary_cross_entropy_with_logits(Tensor(z), y).item(), expected, rtol=1e-12, atol=1e-14
    )


@given(logits_and_labels())
def test_cross_entropy_forward_equals_numpy(zy) -> None:
    z, y = zy
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)  # naive is fine for |z| <= 10
    expected = -np.mean(np.log(p[np.arange(len(y)), y]))
    np.testing.assert_allclose(cross_entropy(Tensor(z), y).item(), expected, rtol=1e-10, atol=1e-12)
    onehot = np.eye(z.shape[1])[y]
    np.testing.assert_allclose(cross_entropy(Tensor(z), onehot).item(), expected, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(
        cross_entropy(Tensor(z), y, reduction="none").data, -np.log(p[np.arange(len(y)), y]), rtol=1e-10, atol=1e-12
    )


@given(logits_and_probs())
def test_cross_entropy_with_probability_targets(zq) -> None:
    z, q = zq
    expected = -np.mean(np.sum(q * np_log_softmax(z), axis=1))
    np.testing.assert_allclose(cross_entropy(Tensor(z), q).item(), expected, rtol=1e-10, atol=1e-12)


@given(logits_and_labels())
def test_nll_loss_equals_numpy_and_composes_to_cross_entropy(zy) -> None:
    z, y = zy
    lp = np_log_softmax(z)
    expected = -np.mean(lp[np.arange(len(y)), y])
    np.testing.assert_allclose(nll_loss(Tensor(lp), y).item(), expected, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(
        nll_loss(Tensor(z).log_softmax(axis=1), y).item(), cross_entropy(Tensor(z), y).item(), rtol=1e-12, atol=1e-14
    )


def test_labels_as_numpy_list_and_tensor_agree() -> None:
    z = Tensor(np.random.default_rng(0).standard_normal((4, 3)))
    labels = [2, 0, 1, 1]
    values = [
        cross_entropy(z, labels).item(),
        cross_entropy(z, np.array(labels)).item(),
        cross_entropy(z, np.array(labels, dtype=np.int32)).item(),
        cross_entropy(z, Tensor(labels)).item(),  # Tensors hold floats: whole numbers are accepted
        cross_entropy(z, np.array(labels, dtype=float)).item(),
    ]
    assert len(set(values)) == 1
    assert values[0] != cross_entropy(z, [0, 0, 1, 1]).item()


# ====================================================================== gradients: finite differences


@given(pair())
def test_mse_grad(ab) -> None:
    a, b = ab
    check_vjp(lambda t: mse_loss(t, b), a)
    check_vjp(lambda t: mse_loss(t, b, reduction="none"), a)
    check_vjp(lambda t: mse_loss(Tensor(a), t), b)  # gradient with respect to the target too


@given(l1_pair())
def test_l1_grad(ab) -> None:
    a, b = ab
    check_vjp(lambda t: l1_loss(t, b), a)
    check_vjp(lambda t: l1_loss(t, b, reduction="none"), a)


def test_l1_grad_at_the_kink_is_zero() -> None:
    x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    l1_loss(x, [1.0, 0.0, 5.0]).backward()
    np.testing.assert_allclose(x.grad.data, [0.0, 1 / 3, -1 / 3])


@given(pair(0.05, 0.95))
def test_bce_grad(py) -> None:
    p, y = py
    y = (y - 0.05) / 0.9
    check_vjp(lambda t: binary_cross_entropy(t, y), p)
    check_vjp(lambda t: binary_cross_entropy(t, y, reduction="none"), p)


@given(pair(-30, 30))
def test_bce_with_logits_grad_and_closed_form(zy) -> None:
    z, y = zy
    y = (y + 30) / 60
    check_vjp(lambda t: binary_cross_entropy_with_logits(t, y), z)
    check_vjp(lambda t: binary_cross_entropy_with_logits(t, y, reduction="none"), z)
    t = Tensor(z, requires_grad=True)
    binary_cross_entropy_with_logits(t, y).backward()
    np.testing.assert_allclose(t.grad.data, (np_sigmoid(z) - y) / z.size, rtol=1e-12, atol=1e-15)


def test_bce_with_logits_grad_at_zero_is_half_minus_y() -> None:
    # max(z, 0) and |z| both have a kink at 0; composed carelessly, the gradient there is -y.
    t = Tensor([0.0, 0.0], requires_grad=True)
    binary_cross_entropy_with_logits(t, [0.0, 1.0]).backward()
    np.testing.assert_allclose(t.grad.data, [0.25, -0.25], rtol=0, atol=1e-15)


@given(logits_and_labels())
def test_cross_entropy_grad_and_closed_form(zy) -> None:
    z, y = zy
    check_vjp(lambda t: cross_entropy(t, y), z)
    check_vjp(lambda t: cross_entropy(t, y, reduction="none"), z)
    t = Tensor(z, requires_grad=True)
    cross_entropy(t, y).backward()
    softmax = np.exp(np_log_softmax(z))
    np.testing.assert_allclose(t.grad.data, (softmax - np.eye(z.shape[1])[y]) / len(y), rtol=1e-12, atol=1e-12)


@given(logits_and_probs())
def test_cross_entropy_grad_with_probability_targets(zq) -> None:
    z, q = zq
    check_vjp(lambda t: cross_entropy(t, q), z)
    t = Tensor(z, requires_grad=True)
    cross_entropy(t, q).backward()
    np.testing.assert_allclose(t.grad.data, (np.exp(np_log_softmax(z)) - q) / len(z), rtol=1e-12, atol=1e-12)


@given(logits_and_labels())
def test_nll_grad(zy) -> None:
    z, y = zy
    check_vjp(lambda t: nll_loss(t, y), z)
    t = Tensor(z, requires_grad=True)
    nll_loss(t, y).backward()
    np.testing.assert_allclose(t.grad.data, -np.eye(z.shape[1])[y] / len(y), rtol=0, atol=1e-15)


# ====================================================================== stability


@pytest.mark.parametrize("big", [1e4, 1e300])
def test_bce_with_logits_is_stable_for_huge_logits(big: float) -> None:
    z = np.array([big, -big, big, -big])
    y = np.array([0.0, 1.0, 1.0, 0.0])
    with np.errstate(all="raise"), warnings.catch_warnings():
        warnings.simplefilter("error")
        t = Tensor(z, requires_grad=True)
        loss = binary_cross_entropy_with_logits(t, y)
        loss.backward()
    # wrong with confidence |z|: loss |z|; right with confidence |z|: loss e^-|z| ~ 0
    np.testing.assert_allclose(loss.item(), 2 * big / 4, rtol=1e-12)
    np.testing.assert_allclose(t.grad.data, [0.25, -0.25, 0.0, 0.0], atol=1e-15)


def test_cross_entropy_is_stable_for_huge_logits() -> None:
    z = np.array([[1e4, 0.0, -1e4], [1e4, 0.0, -1e4], [-1e4, -1e4, -1e4]])
    y = np.array([0, 2, 1])
    with np.errstate(all="raise"), warnings.catch_warnings():
        warnings.simplefilter("error")
        t = Tensor(z, requires_grad=True)
        loss = cross_entropy(t, y)
        loss.backward()
    np.testing.assert_allclose(loss.item(), (0.0 + 2e4 + np.log(3)) / 3, rtol=1e-12)
    expected = np.array([[0.0, 0, 0], [1, 0, -1], [1 / 3, -2 / 3, 1 / 3]]) / 3
    np.testing.assert_allclose(t.grad.data, expected, atol=1e-15)
    assert np.all(np.isfinite(t.grad.data))


def test_bce_clipping_keeps_log_finite() -> None:
    for dtype in (np.float64, np.float32):
        p = Tensor(np.array([0.0, 1.0, 1.0, 0.0], dtype=dtype), requires_grad=True)
        with np.errstate(all="raise"), warnings.catch_warnings():
            warnings.simplefilter("error")
            loss = binary_cross_entropy(p, [1.0, 0.0, 1.0, 0.0])
            loss.backward()
        eps = 1e-12 if dtype == np.float64 else np.finfo(np.float32).eps
        # two confident wrong predictions cost -log(eps) each, two right ones ~0
        np.testing.assert_allclose(loss.item(), -2 * np.log(eps) / 4, rtol=1e-5)
        assert np.all(np.isfinite(p.grad.data))


# ====================================================================== errors


def test_shape_mismatch_is_an_error_not_a_broadcast() -> None:
    pred = Tensor(np.zeros((4, 1)))
    for fn in (mse_loss, l1_loss, binary_cross_entropy, binary_cross_entropy_with_logits):
        with pytest.raises(ValueError, match=r"\(4, 1\).*\(4,\)"):
            fn(pred, np.zeros(4))
    with pytest.raises(ValueError, match=r"\(3, 2\).*\(3, 3\)"):
        cross_entropy(Tensor(np.zeros((3, 2))), np.eye(3))


def test_label_errors_name_the_label_and_classes() -> None:
    z = Tensor(np.zeros((3, 4)))
    with pytest.raises(ValueError, match=r"label 4 at position 1 .* 4 classes"):
        cross_entropy(z, [0, 4, 1])
    with pytest.raises(ValueError, match=r"label -1 at position 2 .* 4 classes"):
        cross_entropy(z, np.array([0, 1, -1]))
    with pytest.raises(ValueError, match=r"whole numbers, got 1.5"):
        cross_entropy(z, np.array([0.0, 1.5, 2.0]))
    with pytest.raises(ValueError, match="whole numbers"):
        nll_loss(z, Tensor([0.0, np.nan, 2.0]))
    with pytest.raises(ValueError, match=r"labels have shape \(2,\) .* 3 rows"):
        cross_entropy(z, [0, 1])
    with pytest.raises(TypeError, match="integers"):
        cross_entropy(z, np.array([True, False, True]))
    with pytest.raises(ValueError, match=r"shape \(N, C\)"):
        cross_entropy(Tensor(np.zeros(4)), [1])
    with pytest.raises(ValueError, match="target must be labels"):
        cross_entropy(z, np.zeros((3, 4, 1)))


def test_other_bad_arguments() -> None:
    with pytest.raises(ValueError, match="reduction"):
        mse_loss(Tensor([1.0]), [1.0], reduction="avg")
    with pytest.raises(ValueError, match="reduction"):
        MSELoss(reduction="avg")
    with pytest.raises(ValueError, match=r"probabilities in \[0, 1\], got values in \[0.5, 1.5\]"):
        binary_cross_entropy(Tensor([0.5, 1.5]), [0.0, 1.0])
    with pytest.raises(ValueError, match=r"probabilities in \[0, 1\], got NaN"):
        binary_cross_entropy(Tensor([0.5, np.nan]), [0.0, 1.0])
    with pytest.raises(ValueError, match="eps"):
        binary_cross_entropy(Tensor([0.5]), [0.0], eps=0.0)
    with pytest.raises(ValueError, match="empty batch"):
        mse_loss(Tensor(np.zeros(0)), np.zeros(0))


# ====================================================================== module forms


@pytest.mark.parametrize(
    ("module", "fn", "make"),
    [
        (MSELoss(), mse_loss, "reg"),
        (L1Loss(), l1_loss, "reg"),
        (BCELoss(), binary_cross_entropy, "prob"),
        (BCEWithLogitsLoss(), binary_cross_entropy_with_logits, "reg"),
        (CrossEntropyLoss(), cross_entropy, "cls"),
        (NLLLoss(), nll_loss, "cls"),
        (MSELoss(reduction="sum"), lambda a, b: mse_loss(a, b, reduction="sum"), "reg"),
    ],
)
def test_loss_modules_match_functions(module: Module, fn, make: str) -> None:
    rng = np.random.default_rng(3)
    if make == "cls":
        x, y = rng.standard_normal((5, 3)), rng.integers(0, 3, 5)
    elif make == "prob":
        x, y = rng.uniform(0.1, 0.9, (5, 1)), rng.integers(0, 2, (5, 1)).astype(float)
    else:
        x, y = rng.standard_normal((5, 2)), rng.uniform(0, 1, (5, 2))
    a, b = Tensor(x, requires_grad=True), Tensor(x, requires_grad=True)
    out_module, out_fn = module(a, y), fn(b, y)
    assert out_module.item() == out_fn.item()
    assert module in out_module._scope  # made inside the module's scope
    out_module.backward()
    out_fn.backward()
    np.testing.assert_array_equal(a.grad.data, b.grad.data)
    assert module.parameters() == []
    assert type(module).__name__ in repr(module)


# ====================================================================== penalties


class _Net(Module):
    def __init__(self, rng: np.random.Generator) -> None:
        super().__init__()
        self.weight = Parameter(rng.uniform(0.1, 1, (3, 2)) * rng.choice([-1, 1], (3, 2)))
        self.bias = Parameter(rng.standard_normal(3))
        self.child = _Leaf(rng)


class _Leaf(Module):
    def __init__(self, rng: np.random.Generator) -> None:
        super().__init__()
        self.weight = Parameter(rng.uniform(0.1, 1, (2, 2)) * rng.choice([-1, 1], (2, 2)))
        self.bias = Parameter(rng.standard_normal(2))
        self.scale_weighting = Parameter(rng.standard_normal(2))  # name ends in "weighting", not "weight"


def test_l2_penalty_is_lambda_over_2m_sum_of_squared_weights_only() -> None:
    net = _Net(np.random.default_rng(5))
    lam, m = 0.7, 20
    w1, w2 = net.weight.data, net.child.weight.data
    penalty = l2_penalty(net, lam, m)
    np.testing.assert_allclose(penalty.item(), lam / (2 * m) * (np.sum(w1**2) + np.sum(w2**2)), rtol=1e-13)
    penalty.backward()
    np.testing.assert_allclose(net.weight.grad.data, lam / m * w1, rtol=1e-13)
    np.testing.assert_allclose(net.child.weight.grad.data, lam / m * w2, rtol=1e-13)
    assert net.bias.grad is None and net.child.bias.grad is None and net.child.scale_weighting.grad is None


def test_l1_penalty_is_lambda_over_m_sum_of_abs_weights_only() -> None:
    net = _Net(np.random.default_rng(6))
    lam, m = 0.3, 7
    w1, w2 = net.weight.data, net.child.weight.data
    penalty = l1_penalty(net, lam, m)
    np.testing.assert_allclose(penalty.item(), lam / m * (np.abs(w1).sum() + np.abs(w2).sum()), rtol=1e-13)
    penalty.backward()
    np.testing.assert_allclose(net.weight.grad.data, lam / m * np.sign(w1), rtol=1e-13)
    assert net.bias.grad is None


@given(arrays((2, 3), -3, 3), floats(0, 2), st.integers(1, 50))
def test_penalty_grads_on_a_tensor_list(w, lam, m) -> None:
    check_vjp(lambda t: l2_penalty([t], lam, m), w)


def test_l2_penalty_matches_reference_regularized_cost() -> None:
    reference = pytest.importorskip("tinygrad_edu.reference")
    rng = np.random.default_rng(7)
    params = {"W1": rng.standard_normal((3, 2)), "b1": rng.standard_normal((3, 1)),
              "W2": rng.standard_normal((1, 3)), "b2": rng.standard_normal((1, 1))}
    X, Y = rng.standard_normal((2, 6)), rng.integers(0, 2, (1, 6)).astype(float)
    lam, m = 0.9, 6
    reg_term = reference.regularized_cost(X, Y, params, lam=lam) - reference.regularized_cost(X, Y, params, lam=0.0)
    weights = [Tensor(params["W1"]), Tensor(params["W2"])]
    np.testing.assert_allclose(l2_penalty(weights, lam, m).item(), reg_term, rtol=1e-10)


def test_penalty_errors() -> None:
    with pytest.raises(ValueError, match="lam"):
        l2_penalty([Tensor([1.0])], -1.0, 3)
    with pytest.raises(ValueError, match="m "):
        l1_penalty([Tensor([1.0])], 1.0, 0)
    with pytest.raises(TypeError, match="Module"):
        l2_penalty(3.0, 1.0, 1)
    assert l2_penalty([], 1.0, 1).item() == 0.0
