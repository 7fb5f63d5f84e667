"""explain_backward: its numbers are the chain rule, and equal what backward stored in .grad.

Oracles: the lectures' hand-derived logistic-regression derivatives (dz = a - y, dw = x dz,
db = dz, da = -y/a + (1-y)/(1-a)); the saved local derivatives of ``Value`` (with
retain_graph=True) for the recomputed ones; and ``.grad`` itself for every node.
Everything is float64 and computed by the same arithmetic, so tolerances are ~1e-12.
"""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_edu as tg
from tinygrad_edu import Tensor, Value
from tinygrad_edu.testing import floats
from tinygrad_edu.viz import explain_backward
from tinygrad_edu.viz.explain import value_local_derivatives


def logistic(x1: float, x2: float, y: float, w1: float, w2: float, b: float):
    """The lectures' one-example logistic regression: z = w1 x1 + w2 x2 + b, a = sigma(z), L = cross-entropy."""
    X1, X2 = Value(x1, label="x1", requires_grad=False), Value(x2, label="x2", requires_grad=False)
    W1, W2, B = Value(w1, label="w1"), Value(w2, label="w2"), Value(b, label="b")
    z = W1 * X1 + W2 * X2 + B
    z.label = "z"
    a = z.sigmoid()
    a.label = "a"
    L = -(y * a.log() + (1 - y) * (1 - a).log())
    L.label = "L"
    return L, a, z, W1, W2, B


small = floats(-3, 3)


@given(x1=small, x2=small, y=st.sampled_from([0.0, 1.0]), w1=small, w2=small, b=small)
def test_logistic_regression_matches_the_lectures(x1, x2, y, w1, w2, b) -> None:
    L, a, z, W1, W2, B = logistic(x1, x2, y, w1, w2, b)
    L.backward()
    e = explain_backward(L)
    A = a.data
    dz = A - y  # lectures: dz = a - y
    da = -y / A + (1 - y) / (1 - A)  # lectures: da = -y/a + (1-y)/(1-a)
    # |z| <= 21 here, so a stays away from 0 and 1 and da is moderate; rtol covers the
    # cancellation in 1 - a, atol the terms that are exactly 0 for y in {0, 1}.
    assert e.gradient(a) == pytest.approx(da, rel=1e-9, abs=1e-12)
    assert e.gradient(z) == pytest.approx(dz, rel=1e-6, abs=1e-12)
    assert e.gradient(W1) == pytest.approx(x1 * dz, rel=1e-6, abs=1e-12)  # dw1 = x1 dz
    assert e.gradient(W2) == pytest.approx(x2 * dz, rel=1e-6, abs=1e-12)  # dw2 = x2 dz
    assert e.gradient(B) == pytest.approx(dz, rel=1e-6, abs=1e-12)  # db = dz
    for node in (a, z, W1, W2, B):  # and exactly what backward stored
        assert e.gradient(node) == node.grad
    assert e.gradients["w1"] == W1.grad and e.gradients["z"] == z.grad


def test_text_markdown_and_html_tables() -> None:
    L, a, z, W1, W2, B = logistic(2.0, -1.0, 1.0, 0.5, -0.3, 0.1)
    L.backward()
    e = explain_backward(L)
    text = str(e)
    assert text == e.text and text.startswith("Backward pass from L: seed dL/dL = 1")
    assert "a = sigmoid(z)" in text and "da/dz: a*(1 - a) = 0.1587" in text
    assert "#3 = w1 * x1" in text and "d#3/dw1: x1 = 2" in text
    assert "(sum of 2 paths)" in text  # a feeds log(a) and 1 - a
    n_terms = sum(len(s.terms) for s in e.steps)
    md = e.markdown()
    table = [line for line in md.splitlines() if line.startswith("|")]
    assert len(table) == n_terms + 2 and table[1] == "|---|---|---|---|---|---|---|"
    assert "\\*" in md  # '*' of "w1 * x1" escaped for Markdown
    root = ET.fromstring(e.html())
    assert len(root.findall(".//tbody/tr")) == n_terms
    assert e._repr_html_() == e.html()
    # backward order: the last op first, the first op last
    assert e.steps[0].node is L and e.steps[-1].expression == "#3 = w1 * x1"


def test_names_with_markup_are_escaped() -> None:
    x = Value(1.5, label="<x|y>")
    out = x * x
    out.label = "a&b"
    out.backward()
    e = explain_backward(out)
    assert "&lt;x|y&gt;" in e.html() and "a&amp;b" in e.html()
    assert "<x\\|y>" in e.markdown()
    assert e.gradient(x) == x.grad == 3.0


# ----------------------------------------------------------------------------- every Value op

UNARY = ["exp", "log", "sqrt", "abs", "tanh", "sigmoid", "relu", "leaky_relu", "elu", "selu", "neg", "pow2",
         "pow_half"]
BINARY = ["+", "-", "*", "/", "**"]


def apply(op: str, x: Value, y: Value | None = None) -> Value:
    if op == "neg":
        return -x
    if op == "pow2":
        return x**2
    if op == "pow_half":
        return x.abs() ** 0.5 if x.data != 0 else x * 1.0
    if op in ("log", "sqrt"):
        return getattr(x.abs() + 0.5, op)()
    if op == "exp":
        return (x * 0.1).exp()
    if op in UNARY:
        return getattr(x, op)()
    if op == "+":
        return x + y
    if op == "-":
        return x - y
    if op == "*":
        return x * y
    if op == "/":
        return x / (y.abs() + 0.5)
    return (x.abs() + 0.5) ** (y * 0.1)


@st.composite
def expression(draw):
    """A random DAG of Value ops over 3 leaves (nodes are reused, so paths add up).

    leaky_relu and elu use their default slope/alpha: at exactly x = 0 the released graph
    no longer tells them apart, and explain_backward assumes the defaults there.
    """
    leaves = [Value(draw(small), label=f"x{i}") for i in range(3)]
    pool = list(leaves)
    for _ in range(draw(st.integers(1, 8))):
        if draw(st.booleans()):
            op = draw(st.sampled_from(UNARY))
            pool.append(apply(op, draw(st.sampled_from(pool))))
        else:
            op = draw(st.sampled_from(BINARY))
            pool.append(apply(op, draw(st.sampled_from(pool)), draw(st.sampled_from(pool))))
    return Value.sum(pool[3:]) if len(pool) > 4 else pool[-1], leaves, pool


@given(expression())
def test_recomputed_local_derivatives_equal_saved_ones_and_grads_match(case) -> None:
    out, leaves, pool = case
    out.backward(retain_graph=True)
    for node in pool:
        if node._parents:
            names = [f"p{i}" for i in range(len(node._parents))]
            recomputed = [v for _, v in value_local_derivatives(node, names, "out")]
            np.testing.assert_allclose(recomputed, node.local_grads, rtol=1e-12, atol=1e-300)
    explained_retained = explain_backward(out)
    # the friendlier path: no retain_graph, local derivatives recomputed
    for leaf in leaves:
        leaf.grad = None
    fresh_out = out  # same graph; release it with a second normal backward
    for node in pool:
        if node._parents:
            node.grad = None
    fresh_out.backward()
    explained = explain_backward(fresh_out)
    assert all(node.local_grads is None for node in pool if node._parents)
    for node in pool:
        if node.grad is not None:
            assert explained.gradient(node) == pytest.approx(node.grad, rel=1e-12, abs=1e-300)
            assert explained_retained.gradient(node) == pytest.approx(node.grad, rel=1e-12, abs=1e-300)
    assert not explained.notes


def test_kinks_and_op_parameters_are_recovered_after_release() -> None:
    x = Value(-2.0, label="x")
    outs = [x.leaky_relu(0.2), x.elu(0.7), x.relu(), x.selu()]
    expected = [0.2, 0.7 * math.exp(-2.0), 0.0, 1.0507009873554804934 * 1.6732632423543772848 * math.exp(-2.0)]
    for out, want in zip(outs, expected):
        out.backward()
        step = explain_backward(out).steps[0]
        assert step.terms[0].local_value == pytest.approx(want, rel=1e-12)


def test_accumulated_leaf_gradient_is_noted() -> None:
    w = Value(2.0, label="w")
    (w * 3.0).backward()
    out = w * 3.0
    out.backward()  # w.grad = 6 now: two passes accumulated
    e = explain_backward(out)
    assert e.gradient(w) == 3.0
    assert len(e.notes) == 1 and "w.grad = 6 but this pass gives 3" in e.notes[0] and "zero_grad" in e.notes[0]


def test_needs_a_backward_first() -> None:
    out = Value(1.0) * 2.0
    with pytest.raises(ValueError, match="call .backward"):
        explain_backward(out)


# ----------------------------------------------------------------------------- Tensor


def test_tensor_mlp_vjps_equal_grads_and_quote_the_formulas() -> None:
    rng = np.random.default_rng(0)
    X = Tensor(rng.standard_normal((5, 3)), label="X")
    W1 = Tensor(rng.standard_normal((4, 3)), requires_grad=True, label="W1")
    b1 = Tensor(np.zeros(4), requires_grad=True, label="b1")
    W2 = Tensor(rng.standard_normal((1, 4)), requires_grad=True, label="W2")
    h = (X @ W1.T + b1).tanh()
    p = (h @ W2.T).sigmoid()
    loss = ((p - 1.0) ** 2).mean()
    loss.backward()
    e = explain_backward(loss)
    for t in (W1, b1, W2, h, p):
        np.testing.assert_allclose(e.gradient(t), t.grad.data, rtol=1e-12, atol=1e-15)
    text = e.text
    assert "dL/dX = G @ Y^T, dL/dY = X^T @ G" in text  # MatMul's docstring
    assert "a = tanh(z);  da/dz = 1 - tanh(z)^2" in text
    assert "W1 (4, 3)" in text and "norm" in text
    pow_step = next(s for s in e.steps if s.node._op == "pow")
    assert pow_step.formula.startswith("z = x^c for a constant c")  # PowConst, not Pow
    assert not e.notes


def test_tensor_names_come_from_the_model() -> None:
    from tinygrad_edu import nn

    model = nn.Linear(2, 1, seed=0)
    loss = model(tg.randn(3, 2, seed=1)).sum()
    loss.backward()
    e = explain_backward(loss, model=model)
    np.testing.assert_allclose(e.gradients["weight"], model.weight.grad.data, rtol=1e-12)
    np.testing.assert_allclose(e.gradients["bias"], model.bias.grad.data, rtol=1e-12)


def test_tensor_text_is_one_block_per_op_and_stays_narrow() -> None:
    from tinygrad_edu import nn

    model = nn.MLP([2, 3, 1], activation="tanh", output_activation="sigmoid", seed=0)
    X = tg.randn(4, 2, seed=1)
    loss = nn.binary_cross_entropy(model(X), Tensor((X.data[:, :1] > 0).astype(float)))
    loss.backward()
    e = explain_backward(loss, model=model)
    lines = e.text.splitlines()
    assert max(len(line) for line in lines) <= 140  # the table layout was 342 characters wide
    assert sum(line.startswith("step ") for line in lines) == len(e.steps)
    assert "rule      Z = X W^T + b;  dL/dX = G W" in e.text  # nn.Linear is the fused linear primitive
    assert "0.weight (3, 2) as W: dL/d0.weight += " in e.text
    assert re.search(r"#\d+ \(4, 3\) as X: dL/d#\d+ \+= norm", e.text)  # h = tanh(...) is the first input
    assert re.search(r"2\.weight \(1, 3\) as W: dL/d2\.weight \+= \[\[", e.text)  # W is linear's second input
    assert "(sum of 2 paths:" in e.text  # the clipped prediction feeds log(p) and 1 - p
    assert "``" not in e.text
    assert len(e.markdown().splitlines()) == sum(len(s.terms) for s in e.steps) + 4  # tables stay tables


def test_elu_and_leaky_relu_whose_output_underflows_to_zero() -> None:
    for op, x0, expected in (("elu", -1.17549e-38, 1.0), ("elu", -3e-17, 1.0), ("leaky_relu", -1e-322, 0.01)):
        x = Value(x0, label="x")
        out = getattr(x, op)()
        assert out.data == 0  # alpha (e^x - 1) and slope * x round to 0
        out.backward()
        e = explain_backward(out)
        assert e.gradient(x) == pytest.approx(expected, rel=1e-12) == x.grad
