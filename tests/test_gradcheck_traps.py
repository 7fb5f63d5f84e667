"""Gradient checks that cannot be fooled: unused inputs, vacuous checks, options that check nothing,
and how a result shows itself (short repr, HTML table with the failures highlighted)."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import Tensor, Value, gradcheck, nn, numerical_grad
from tinygrad_edu.primitives import Primitive


class HalfDerivativeSquare(Primitive):
    """z = x^2 with a WRONG derivative x (should be 2x)."""

    name = "half_square"

    @staticmethod
    def forward(x):
        return x * x

    @staticmethod
    def backward(g, out, x):
        return (g * x,)


def _data(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.standard_normal((6, 3)), rng.integers(0, 3, size=6)


def test_the_lambda_closure_trap_fails_with_the_not_used_message() -> None:
    X, y = _data()
    net = nn.MLP([3, 4, 3], seed=0)
    result = tg.gradcheck(lambda *ps: nn.cross_entropy(net(X), y), *net.parameters())
    assert not result.ok
    assert all(c.unused and c.verdict() == "UNUSED" for c in result.inputs)
    report = result.report()
    assert "input #0" in report and "is not used by the function" in report
    assert "closure" in report and "gradcheck_model" in report
    assert result.suspects == []  # nothing to blame: no primitive is wrong


def test_the_trap_also_fails_when_a_layer_is_wrong_which_it_used_to_hide() -> None:
    X, y = _data(1)
    net = nn.MLP([3, 4, 3], seed=0)
    broken = lambda *ps: nn.cross_entropy(Tensor._apply(HalfDerivativeSquare, net(X)), y)  # noqa: E731
    assert not gradcheck(broken, *net.parameters()).ok


def test_numerical_grad_refuses_an_input_it_does_not_see() -> None:
    X, y = _data(2)
    net = nn.MLP([3, 2, 3], seed=0)
    with pytest.raises(ValueError, match=r"numerical_grad: input #0 .*is not used by the function"):
        numerical_grad(lambda *ps: nn.cross_entropy(net(X), y), *net.parameters())
    zeros = numerical_grad(lambda *ps: nn.cross_entropy(net(X), y), *net.parameters(), allow_unused=True)
    assert all(not np.any(z) for z in zeros)
    # a used input in a flat region (dead relu) is not "unused": its zero gradient is real
    x = Tensor([-1.0, -2.0], requires_grad=True, label="x")
    (g,) = numerical_grad(lambda x: x.relu().sum(), x)
    np.testing.assert_array_equal(g, [0.0, 0.0])
    v = Value(0.5, label="v")
    with pytest.raises(ValueError, match=r"input #1 \(v\) is not used"):
        numerical_grad(lambda a, v: a * a, Value(1.0), v)


def test_value_inputs_can_be_unused_too() -> None:
    a, b = Value(0.3, label="a"), Value(-1.2, label="b")
    result = gradcheck(lambda a, b: a.tanh() * 3.0, a, b)
    assert not result.ok and not result.inputs[0].unused and result.inputs[1].unused
    assert "input #1 (b) is not used by the function" in result.report()
    assert gradcheck(lambda a, b: a.tanh() * 3.0, a, b, allow_unused=True).ok


def test_an_all_zero_jacobian_is_vacuous_not_passed() -> None:
    x = Tensor([0.0, 0.0], requires_grad=True)
    result = gradcheck(lambda x: (x * x).sum(), x)  # a stationary point: both sides exactly 0
    assert not result.ok and "Vacuous check" in result.report()
    assert gradcheck(lambda x: (x * x).sum(), Tensor([0.5, -1.0], requires_grad=True)).ok
    empty = gradcheck(lambda x: x.sum(), Tensor(np.zeros((0,)), requires_grad=True))
    assert not empty.ok and "Vacuous" in empty.report()


def test_the_graph_not_reaching_a_used_input_is_explained() -> None:
    x = Tensor([0.4, -0.3], requires_grad=True)
    result = gradcheck(lambda x: Tensor(x.data * 2.0).sum() + 0.0 * x.sum(), x)  # .data cuts the graph
    assert not result.ok
    cut = gradcheck(lambda x: Tensor(x.data * 2.0).sum(), x)
    assert not cut.ok and not cut.inputs[0].unused and "cuts it off from autograd" in cut.report()


@pytest.mark.parametrize("bad", [0, -1, 2.5, True, None])
def test_n_cotangents_that_would_check_nothing_is_an_error(bad) -> None:
    x = Tensor(np.linspace(-1, 1, 20), requires_grad=True)
    with pytest.raises(ValueError, match=r"gradcheck: n_cotangents must be an integer >= 1"):
        gradcheck(lambda x: x.tanh(), x, n_cotangents=bad)


def test_other_options_are_validated_with_clear_messages() -> None:
    x = Tensor([0.5], requires_grad=True)
    with pytest.raises(ValueError, match="gradcheck: atol must be a number >= 0"):
        gradcheck(lambda x: x.sum(), x, atol=-1.0)
    with pytest.raises(ValueError, match="gradcheck: rtol must be a number >= 0"):
        gradcheck(lambda x: x.sum(), x, rtol=float("nan"))
    with pytest.raises(ValueError, match="gradcheck: jacobian_max_outputs must be an integer >= 0"):
        gradcheck(lambda x: x.sum(), x, jacobian_max_outputs=-2)
    with pytest.raises(ValueError, match="numerical_grad: eps must be a positive"):
        numerical_grad(lambda x: x.sum(), x, eps=-1e-6)


def test_repr_is_short_and_the_html_table_highlights_failures() -> None:
    x = Tensor([0.5, -1.0, 2.0], requires_grad=True, label="x<1>")
    w = Tensor([0.3, 0.1, -0.2], requires_grad=True, label="w")
    good = gradcheck(lambda x, w: (x * w).sum(), x, w)
    assert repr(good).startswith("<GradcheckResult ok: 2 inputs") and "\n" not in repr(good)
    bad = gradcheck(lambda x, w: Tensor._apply(HalfDerivativeSquare, x).sum() + (w * w).sum(), x, w)
    text = repr(bad)
    assert "FAILED" in text and "failing: x<1> (#0)" in text and "w (#1)" not in text and len(text) < 200
    page = bad._repr_html_()
    assert page.count("<tr style='background:#ffebe9'>") == 1  # only the failing row is highlighted
    assert "x&lt;1&gt; (#0)" in page and "<b>FAIL</b>" in page and "half_square" in page
    assert "background" not in good._repr_html_()
    assert "InputCheck(" in repr(bad.inputs[0]) and "FAIL" in repr(bad.inputs[0])
