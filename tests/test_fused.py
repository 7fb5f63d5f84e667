"""The fused primitives ``linear`` and ``softmax_cross_entropy`` against their composed references.

Three oracles: the composed Tensor ops (``x @ W.T + b``, ``nll_loss(z.log_softmax(1), y)``),
central finite differences (``assert_grad_close``), and the lectures' hand-derived
formulas (dZ[L] = A[L] - Y, dW = G^T X). Second derivatives go through ``create_graph``.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_edu as tg
from tinygrad_edu import Tensor, nn
from tinygrad_edu import primitives as P
from tinygrad_edu.testing import assert_grad_close

sizes = st.integers(1, 5)
seeds = st.integers(0, 2**32 - 1)


def _grads(out: Tensor, inputs: list[Tensor], r: np.ndarray, create_graph: bool = False) -> list[Tensor]:
    """d(sum(out * r))/d(inputs): a random cotangent, never only ones (hides transposes)."""
    return tg.grad((out * r).sum(), inputs, retain_graph=True, create_graph=create_graph)


# ====================================================================== linear


@given(m=sizes, n_in=sizes, n_out=sizes, bias=st.booleans(), seed=seeds)
def test_linear_equals_composed_values_and_gradients(m: int, n_in: int, n_out: int, bias: bool, seed: int) -> None:
    rng = np.random.default_rng(seed)
    x = Tensor(rng.normal(size=(m, n_in)), requires_grad=True)
    w = Tensor(rng.normal(size=(n_out, n_in)), requires_grad=True)
    b = Tensor(rng.normal(size=n_out), requires_grad=True) if bias else None
    fused = nn.linear(x, w, b)
    composed = x @ w.T + b if bias else x @ w.T
    assert fused._op == "linear"
    np.testing.assert_allclose(fused.data, composed.data, rtol=1e-12, atol=1e-12)
    inputs = [x, w] + ([b] if bias else [])
    r = rng.normal(size=(m, n_out))
    for got, want in zip(_grads(fused, inputs, r), _grads(composed, inputs, r)):
        np.testing.assert_allclose(got.data, want.data, rtol=1e-12, atol=1e-12)
        assert got.data.flags.c_contiguous  # the parameter's own layout, not a transposed view
    # the lectures' formulas: dX = G W, dW = G^T X, db = sum of G over the rows
    dx, dw = _grads(fused, [x, w], r)
    np.testing.assert_allclose(dx.data, r @ w.data, rtol=1e-12)
    np.testing.assert_allclose(dw.data, r.T @ x.data, rtol=1e-12)


@given(m=sizes, n_in=sizes, n_out=sizes, seed=seeds)
def test_linear_second_derivatives_equal_composed(m: int, n_in: int, n_out: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    x = Tensor(rng.normal(size=(m, n_in)), requires_grad=True)
    w = Tensor(rng.normal(size=(n_out, n_in)), requires_grad=True)
    b = Tensor(rng.normal(size=n_out), requires_grad=True)
    r = rng.normal(size=(m, n_out))

    def penalty(out: Tensor) -> Tensor:  # a gradient penalty: ||dL/dx||^2 with L = sum(tanh(out) * r)
        (dx,) = tg.grad((out.tanh() * r).sum(), [x], create_graph=True)
        return (dx * dx).sum()

    got = tg.grad(penalty(nn.linear(x, w, b)), [x, w, b])
    want = tg.grad(penalty(x @ w.T + b), [x, w, b])
    for g1, g2 in zip(got, want):
        np.testing.assert_allclose(g1.data, g2.data, rtol=1e-10, atol=1e-12)


def test_linear_gradients_match_finite_differences(rng: np.random.Generator) -> None:
    x = Tensor(rng.normal(size=(4, 3)), requires_grad=True)
    w = Tensor(rng.normal(size=(2, 3)), requires_grad=True)
    b = Tensor(rng.normal(size=2), requires_grad=True)
    assert_grad_close(lambda x, w, b: nn.linear(x, w, b).tanh(), x, w, b)


def test_linear_layer_uses_the_fused_primitive_and_falls_back_for_other_inputs(rng: np.random.Generator) -> None:
    layer = nn.Linear(3, 2, seed=0)
    assert layer(rng.normal(size=(4, 3)))._op == "linear"
    x1 = rng.normal(size=3)
    one = layer(x1)  # one example: the composed path, same values
    np.testing.assert_allclose(one.data, layer.weight.data @ x1 + layer.bias.data, rtol=1e-12)
    x3 = rng.normal(size=(2, 4, 3))
    np.testing.assert_allclose(layer(x3).data, x3 @ layer.weight.data.T + layer.bias.data, rtol=1e-12)
    no_bias = nn.Linear(3, 2, bias=False, seed=0)
    x = rng.normal(size=(4, 3))
    np.testing.assert_allclose(no_bias(x).data, x @ no_bias.weight.data.T, rtol=1e-12)


def test_linear_weight_gradient_is_contiguous_after_backward(rng: np.random.Generator) -> None:
    layer = nn.Linear(5, 3, seed=0)
    (layer(rng.normal(size=(7, 5))) ** 2).mean().backward()
    assert layer.weight.grad.data.flags.c_contiguous and layer.weight.grad.shape == (3, 5)


# ====================================================================== softmax cross-entropy


@st.composite
def class_problems(draw: st.DrawFn) -> tuple[np.ndarray, object, str, str]:
    n, c = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    rng = np.random.default_rng(draw(seeds))
    logits = rng.normal(scale=3.0, size=(n, c))
    kind = draw(st.sampled_from(["labels", "one-hot", "probabilities", "unnormalised"]))
    labels = rng.integers(0, c, size=n)
    target = {
        "labels": labels,
        "one-hot": np.eye(c)[labels],
        "probabilities": rng.dirichlet(np.ones(c), size=n),
        "unnormalised": rng.uniform(0, 2, size=(n, c)),  # rows not summing to 1: A * sum(Y) - Y
    }[kind]
    return logits, target, kind, draw(st.sampled_from(["mean", "sum", "none"]))


@given(problem=class_problems(), seed=seeds)
def test_cross_entropy_equals_composed_values_and_gradients(problem: tuple, seed: int) -> None:
    logits, target, kind, reduction = problem
    z = Tensor(logits, requires_grad=True)
    fused = nn.cross_entropy(z, target, reduction=reduction)
    composed = nn.nll_loss(z.log_softmax(axis=1), target, reduction=reduction)
    assert fused._op == "softmax_cross_entropy" and fused.shape == composed.shape
    np.testing.assert_allclose(fused.data, composed.data, rtol=1e-12, atol=1e-12)
    r = np.random.default_rng(seed).normal(size=fused.shape)
    (got,), (want,) = _grads(fused, [z], r), _grads(composed, [z], r)
    np.testing.assert_allclose(got.data, want.data, rtol=1e-10, atol=1e-12)


@given(problem=class_problems(), seed=seeds)
def test_cross_entropy_second_derivatives_equal_composed(problem: tuple, seed: int) -> None:
    logits, target, kind, reduction = problem
    z = Tensor(logits, requires_grad=True)
    r = np.random.default_rng(seed).normal(size=logits.shape)

    def hvp(loss_fn) -> np.ndarray:  # d/dz of <dJ/dz, r>: a Hessian-vector product
        (dz,) = tg.grad(loss_fn(z).sum(), [z], create_graph=True)
        (h,) = tg.grad((dz * r).sum(), [z])
        return h.data

    np.testing.assert_allclose(
        hvp(lambda t: nn.cross_entropy(t, target, reduction=reduction)),
        hvp(lambda t: nn.nll_loss(t.log_softmax(axis=1), target, reduction=reduction)),
        rtol=1e-9, atol=1e-12,
    )


def test_cross_entropy_gradient_is_the_lectures_a_minus_y(rng: np.random.Generator) -> None:
    z = Tensor(rng.normal(size=(6, 4)), requires_grad=True)
    y = rng.integers(0, 4, size=6)
    nn.cross_entropy(z, y).backward()
    a = np.exp(z.data) / np.exp(z.data).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(z.grad.data, (a - np.eye(4)[y]) / 6, rtol=1e-12)  # dZ[L] = (A[L] - Y) / m


def test_cross_entropy_gradient_to_a_probability_target(rng: np.random.Generator) -> None:
    z = Tensor(rng.normal(size=(3, 4)), requires_grad=True)
    y = Tensor(rng.dirichlet(np.ones(4), size=3), requires_grad=True)
    assert_grad_close(lambda z, y: nn.cross_entropy(z, y), z, y)
    r = rng.normal(size=3)
    got = _grads(nn.cross_entropy(z, y, reduction="none"), [z, y], r)
    want = _grads(nn.nll_loss(z.log_softmax(axis=1), y, reduction="none"), [z, y], r)
    for g1, g2 in zip(got, want):
        np.testing.assert_allclose(g1.data, g2.data, rtol=1e-12, atol=1e-14)


def test_cross_entropy_is_one_node_with_its_formula_in_the_drawing(rng: np.random.Generator) -> None:
    model = nn.Linear(3, 4, seed=0)
    loss = nn.cross_entropy(model(rng.normal(size=(5, 3))), rng.integers(0, 4, size=5))
    assert loss._op == "softmax_cross_entropy" and loss._parents[0]._op == "linear"
    src = loss.draw().source
    assert "dZ[L] = A[L] - Y" in src and "Z = A W^T + b" in src


def test_cross_entropy_float32_stays_float32_and_huge_logits_stay_finite() -> None:
    z = Tensor(np.array([[1e4, 0.0, -1e4], [-1e4, -1e4, -1e4]], dtype=np.float32), requires_grad=True)
    loss = nn.cross_entropy(z, [0, 2])
    loss.backward()
    assert loss.dtype == np.float32 and z.grad.dtype == np.float32
    assert np.isfinite(loss.item()) and np.isfinite(z.grad.data).all()


def test_grad_primitive_refuses_to_be_differentiated() -> None:
    with pytest.raises(NotImplementedError, match="create_graph"):
        P.SoftmaxCrossEntropyGrad.backward(None, None, None, None)


# ====================================================================== layouts


@given(m=sizes, n_in=st.integers(2, 5), n_out=st.integers(2, 5), seed=seeds)
def test_matmul_vjp_gives_a_transposed_operand_a_gradient_in_its_own_layout(
    m: int, n_in: int, n_out: int, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    x = Tensor(rng.normal(size=(m, n_in)), requires_grad=True)
    w = Tensor(rng.normal(size=(n_out, n_in)), requires_grad=True)
    r = rng.normal(size=(m, n_out))
    ((x @ w.T) * r).sum().backward()  # the composed layer: W.T is a transposed view of W
    assert w.grad.data.flags.c_contiguous
    np.testing.assert_allclose(w.grad.data, r.T @ x.data, rtol=1e-12)
    xt = Tensor(rng.normal(size=(n_in, m)), requires_grad=True)  # a transposed left operand too
    ((xt.T @ w.T) * r).sum().backward()
    assert xt.grad.data.flags.c_contiguous
    np.testing.assert_allclose(xt.grad.data, (r @ w.data).T, rtol=1e-12)


def test_backward_only_primitives_equal_the_composed_vjps(rng: np.random.Generator) -> None:
    # with create_graph the VJPs are Tensor ops; without it one backward-only primitive each:
    # the gradients must agree bitwise (the same numpy operations in the same order)
    x = Tensor(rng.normal(size=(5, 3)), requires_grad=True)
    w = Tensor(rng.normal(size=(4, 3)), requires_grad=True)
    b = Tensor(rng.normal(size=4), requires_grad=True)
    r = rng.normal(size=(5, 4))
    for activation in (Tensor.tanh, Tensor.sigmoid, Tensor.relu):
        fast = tg.grad((activation(nn.linear(x, w, b)) * r).sum(), [x, w, b])
        recorded = tg.grad((activation(nn.linear(x, w, b)) * r).sum(), [x, w, b], create_graph=True)
        for f, c in zip(fast, recorded):
            np.testing.assert_array_equal(f.data, c.data)
    for primitive in (P.TanhGrad, P.SigmoidGrad, P.LinearWeightGrad, P.ReluGrad, P.MaxPool2dGrad):
        with pytest.raises(NotImplementedError, match="create_graph"):
            primitive.backward(None, None)


# ====================================================================== mean squared error


@given(shape=st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple),
       reduction=st.sampled_from(["mean", "sum", "none"]), seed=seeds)
def test_mse_equals_composed_values_and_gradients(shape: tuple, reduction: str, seed: int) -> None:
    rng = np.random.default_rng(seed)
    pred = Tensor(rng.normal(size=shape), requires_grad=True)
    target = Tensor(rng.normal(size=shape), requires_grad=True)
    fused = nn.mse_loss(pred, target, reduction=reduction)
    diff = pred - target
    composed = {"mean": (diff * diff).sum() * (1.0 / diff.size), "sum": (diff * diff).sum(), "none": diff * diff}
    want = composed[reduction]
    assert fused._op == "mse_loss" and fused.shape == want.shape
    np.testing.assert_allclose(fused.data, want.data, rtol=1e-12, atol=1e-14)
    r = rng.normal(size=fused.shape)
    for got, expected in zip(_grads(fused, [pred, target], r), _grads(want, [pred, target], r)):
        np.testing.assert_allclose(got.data, expected.data, rtol=1e-12, atol=1e-14)
    (dpred,) = _grads(fused, [pred], r)  # the lectures' (2/m)(y_hat - y), times the cotangent
    scale = {"mean": 1.0 / diff.size, "sum": 1.0, "none": 1.0}[reduction]
    np.testing.assert_allclose(dpred.data, 2 * scale * r * (pred.data - target.data), rtol=1e-12, atol=1e-14)


@given(shape=st.lists(st.integers(1, 4), min_size=1, max_size=2).map(tuple), seed=seeds)
def test_mse_second_derivatives_equal_composed(shape: tuple, seed: int) -> None:
    rng = np.random.default_rng(seed)
    pred = Tensor(rng.normal(size=shape), requires_grad=True)
    target = rng.normal(size=shape)
    r = rng.normal(size=shape)

    def hvp(loss_fn) -> np.ndarray:  # noqa: ANN001
        (d,) = tg.grad(loss_fn(pred.tanh()), [pred], create_graph=True)
        (h,) = tg.grad((d * r).sum(), [pred])
        return h.data

    def composed(p: Tensor) -> Tensor:
        return ((p - target) * (p - target)).sum() * (1.0 / p.size)

    np.testing.assert_allclose(hvp(lambda p: nn.mse_loss(p, target)), hvp(composed), rtol=1e-10, atol=1e-13)


def test_mse_keeps_float32_promotes_mixed_dtypes_and_draws_its_formula() -> None:
    pred = Tensor(np.array([[0.5], [2.0]], dtype=np.float32), requires_grad=True)
    loss = nn.mse_loss(pred, np.array([[1.0], [1.0]], dtype=np.float32))
    assert loss.dtype == np.float32 and abs(loss.item() - 0.625) < 1e-7
    loss.backward()
    assert pred.grad.dtype == np.float32
    np.testing.assert_allclose(pred.grad.data, [[-0.5], [1.0]], rtol=1e-6)
    assert nn.mse_loss(pred, np.array([[1.0], [1.0]])).dtype == np.float64  # float32 with float64
    assert "dJ/dA = (2/m)(A - Y)" in loss.draw().source
