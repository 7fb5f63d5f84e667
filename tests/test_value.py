"""Explicit tests of ``Value``: the lectures' worked examples, kinks, node reuse, extremes, errors."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from tinygrad_edu import Tensor, Value
from tinygrad_edu.value import SELU_ALPHA, SELU_SCALE

# --------------------------------------------------------------------------- the lectures' examples


def test_logistic_regression_derivatives_from_the_lecture() -> None:
    """x1 = 5, x2 = 3, w1 = w2 = 0.5, b = 1, y = 1 (lecture "Derivatives in logistic regression").

    z = w1 x1 + w2 x2 + b = 5, a = sigma(z), L(a, y) = -(y log a + (1 - y) log(1 - a));
    da = -y/a + (1 - y)/(1 - a), dz = a - y, dw1 = x1 dz, dw2 = x2 dz, db = dz.
    (Not rounding: the slide drops a digit, a = 0.99307 for sigma(5) = 0.993307 -- rounded it would be
    0.99331 -- and its dz = -0.00693 follows from that slip; the correct dz is -0.006693.)
    """
    x1, x2, y = 5.0, 3.0, 1.0
    w1, w2, b = Value(0.5, label="w1"), Value(0.5, label="w2"), Value(1.0, label="b")
    z = w1 * x1 + w2 * x2 + b
    a = z.sigmoid()
    L = -(y * a.log() + (1 - y) * (1 - a).log())
    L.backward()

    sigma5 = 1 / (1 + math.exp(-5))
    assert z.data == 5.0
    assert a.data == pytest.approx(sigma5, rel=1e-15)
    assert a.data == pytest.approx(0.993307, abs=5e-7)
    assert a.grad == pytest.approx(-y / sigma5 + (1 - y) / (1 - sigma5), rel=1e-12)  # da
    assert z.grad == pytest.approx(sigma5 - y, rel=1e-9)  # dz = a - y
    assert z.grad == pytest.approx(-0.006693, abs=5e-7)
    assert w1.grad == pytest.approx(x1 * (sigma5 - y), rel=1e-9)  # dw1 = x1 dz
    assert w2.grad == pytest.approx(x2 * (sigma5 - y), rel=1e-9)  # dw2 = x2 dz
    assert b.grad == pytest.approx(sigma5 - y, rel=1e-9)  # db = dz


def test_gradient_checking_quiz() -> None:
    """J(theta) = theta^3 at theta = 1, eps = 0.01: the two-sided difference is 3.0001; exactly 3."""
    eps = 0.01

    def J(theta: float) -> float:
        return (Value(theta) ** 3).data

    two_sided = (J(1 + eps) - J(1 - eps)) / (2 * eps)
    assert two_sided == pytest.approx(3.0001, abs=1e-12)  # (1.030301 - 0.970299) / 0.02
    theta = Value(1.0)
    (theta**3).backward()
    assert theta.grad == 3.0
    one_sided = (J(1 + eps) - J(1)) / eps
    assert one_sided == pytest.approx(3.0301, abs=1e-12)  # why the lectures prefer two-sided


# --------------------------------------------------------------------------- kinks (PyTorch's choices)


@pytest.mark.parametrize(
    ("name", "op", "expected"),
    [
        ("relu", lambda v: v.relu(), 0.0),
        ("leaky_relu", lambda v: v.leaky_relu(0.1), 0.1),
        ("leaky_relu default", lambda v: v.leaky_relu(), 0.01),
        ("elu", lambda v: v.elu(2.0), 2.0),
        ("selu", lambda v: v.selu(), SELU_SCALE * SELU_ALPHA),
        ("abs", lambda v: v.abs(), 0.0),
        ("abs builtin", lambda v: abs(v), 0.0),
        ("sqrt", lambda v: v.sqrt(), math.inf),
        ("x^0.5", lambda v: v**0.5, math.inf),
        ("x^0", lambda v: v**0, 0.0),
        ("x^2", lambda v: v**2, 0.0),
        ("x^1", lambda v: v**1, 1.0),
    ],
)
def test_derivative_at_the_kink_is_pytorchs(name: str, op, expected: float) -> None:
    v = Value(0.0)
    out = op(v)
    out.backward()
    assert v.grad == expected, f"{name}'(0) = {v.grad}, expected {expected}"


def test_kink_values() -> None:
    assert Value(0.0).relu().data == 0.0
    assert Value(0.0).leaky_relu().data == 0.0
    assert Value(0.0).elu().data == 0.0
    assert Value(0.0).selu().data == 0.0
    assert Value(-2.0).relu().data == 0.0
    assert Value(-2.0).leaky_relu(0.1).data == pytest.approx(-0.2)


def test_zero_base_with_a_value_exponent_has_zero_exponent_gradient() -> None:
    """d(x^n)/dn = x^n ln x is taken as 0 at x = 0 (PyTorch's choice)."""
    x, n = Value(0.0), Value(2.0)
    out = x**n
    out.backward()
    assert out.data == 0.0 and x.grad == 0.0 and n.grad == 0.0


# --------------------------------------------------------------------------- node reuse


def test_x_plus_x() -> None:
    x = Value(3.0)
    (x + x).backward()
    assert x.grad == 2.0


def test_x_times_x() -> None:
    x = Value(3.0)
    (x * x).backward()
    assert x.grad == 6.0


def test_dot_with_a_repeated_node() -> None:
    """z = w . w = sum w_i^2 with the same Value on both sides: dz/dw = 2w."""
    w = Value(1.5)
    z = Value.dot([w, w], [w, w])
    z.backward()
    assert z.data == 4.5 and w.grad == 6.0


def test_diamond() -> None:
    """a = 2x, b = x^2, c = a b = 2x^3: dc/dx = 6x^2, along two paths that meet again."""
    x = Value(2.0)
    a = 2 * x
    b = x**2
    c = a * b
    d = c + a  # a is used twice as well
    d.backward()
    assert d.data == 16.0 + 4.0
    assert x.grad == 6 * 4.0 + 2.0
    assert a.grad == b.data + 1.0
    assert b.grad == a.data


def test_deep_reuse_doubles_at_every_level() -> None:
    """y_{k+1} = y_k + y_k: y_20 = 2^20 x, so dy/dx = 2^20 -- counts every path without enumerating them."""
    x = Value(1.0)
    y = x
    for _ in range(20):
        y = y + y
    y.backward()
    assert x.grad == 2.0**20


# --------------------------------------------------------------------------- reflected ops and constants


def test_reflected_ops_with_numbers() -> None:
    x = Value(2.0)
    assert (2 * x).data == 4.0
    assert (1 - x).data == -1.0
    assert (3 + x).data == 5.0
    assert (1 / x).data == 0.5
    assert (2**x).data == 4.0
    out = 2 * x + (1 - x) + 1 / x + 2**x
    out.backward()
    assert x.grad == pytest.approx(2 - 1 - 1 / 4 + 4 * math.log(2))


def test_numbers_become_constants() -> None:
    x = Value(2.0)
    out = x * 3
    c = out._parents[1]
    assert isinstance(c, Value) and c.data == 3.0 and not c.requires_grad
    out.backward()
    assert c.grad is None


def test_numpy_scalars_are_numbers() -> None:
    x = Value(np.float64(2.0))
    out = x * np.float32(3.0) + np.int64(1)
    assert out.data == 7.0 and isinstance(out.data, float)


def test_sum_and_dot() -> None:
    a, b, c = Value(1.0), Value(2.0), Value(3.0)
    s = Value.sum([a, b, c, 4])
    assert s.data == 10.0 and len(s._parents) == 4
    z = Value.dot([a, b], [c, 5.0])
    z.backward()
    assert z.data == 13.0 and a.grad == 3.0 and b.grad == 5.0 and c.grad == 1.0
    assert Value.sum([]).data == 0.0


def test_ops_record_their_local_derivatives() -> None:
    x, y = Value(3.0), Value(4.0)
    z = x * y
    assert z._op == "*" and z._parents == (x, y)
    assert z.local_grads == (4.0, 3.0)  # dz/dx = y, dz/dy = x


# --------------------------------------------------------------------------- comparisons


def test_comparisons_return_plain_bools() -> None:
    a, b = Value(1.0), Value(2.0)
    results = [a < b, a <= b, b > a, b >= a, a == Value(1.0), a != b, a < 1.5, 2 > a, a == 1]
    assert results == [True] * 9
    assert all(type(r) is bool for r in results)
    assert (a > b, a == b) == (False, False)


def test_comparisons_with_other_types() -> None:
    with pytest.raises(TypeError):
        _ = Value(1.0) < "2"
    assert (Value(1.0) == "1") is False
    assert len({Value(1.0), Value(1.0)}) == 2  # hashed by identity: two distinct nodes


# --------------------------------------------------------------------------- extremes


@pytest.mark.parametrize("z", [1e4, -1e4, 1e300, -1e300, 710.0, -710.0])
def test_sigmoid_is_finite_for_huge_inputs(z: float) -> None:
    v = Value(z)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        a = v.sigmoid()
        a.backward()
    assert a.data == pytest.approx(1.0 if z > 0 else 0.0, abs=1e-300)  # sigma(-710) is a tiny subnormal
    assert 0.0 <= v.grad <= 1e-300


@pytest.mark.parametrize("z", [1e4, -1e4])
def test_tanh_elu_selu_are_finite_for_huge_inputs(z: float) -> None:
    for op in (Value.tanh, Value.elu, Value.selu, Value.relu, Value.leaky_relu):
        v = Value(z)
        out = op(v)
        out.backward()
        assert math.isfinite(out.data) and math.isfinite(v.grad), op.__name__


def test_sigmoid_in_the_lower_tail_keeps_relative_precision() -> None:
    """sigma(-40) ~ 4.25e-18: the stable form e^z / (1 + e^z) does not round it to 0."""
    assert Value(-40.0).sigmoid().data == pytest.approx(math.exp(-40) / (1 + math.exp(-40)), rel=1e-14)


# --------------------------------------------------------------------------- errors


def test_log_of_zero_and_negatives() -> None:
    with pytest.raises(ValueError, match=r"log: input must be > 0, got 0\.0"):
        Value(0.0).log()
    with pytest.raises(ValueError, match=r"log.*-1\.0"):
        Value(-1.0).log()


def test_division_by_zero() -> None:
    with pytest.raises(ZeroDivisionError, match=r"div: division by zero \(1\.0 / 0\.0\)"):
        Value(1.0) / 0
    with pytest.raises(ZeroDivisionError, match="div"):
        1 / Value(0.0)


def test_powers_outside_the_reals() -> None:
    with pytest.raises(ValueError, match=r"pow: -2\.0 \*\* 0\.5 is not real"):
        Value(-2.0) ** 0.5
    with pytest.raises(ZeroDivisionError, match=r"pow: 0\.0 \*\* -1\.0"):
        Value(0.0) ** -1
    with pytest.raises(ValueError, match=r"pow: d\(x\^n\)/dn.*x >= 0"):
        Value(-2.0) ** Value(2.0)
    assert (Value(-2.0) ** 2).data == 4.0  # a negative base with an integer (number) exponent is fine


def test_exp_overflow_is_named() -> None:
    with pytest.raises(OverflowError, match=r"exp: e\^1000\.0 overflows"):
        Value(1000.0).exp()


def test_sqrt_of_negative() -> None:
    with pytest.raises(ValueError, match=r"sqrt: input must be >= 0, got -1\.0"):
        Value(-1.0).sqrt()


def test_mixing_value_and_tensor_is_an_error_both_ways() -> None:
    v, t = Value(1.0), Tensor([1.0])
    with pytest.raises(TypeError, match="cannot mix a Value with a Tensor"):
        v + t
    with pytest.raises(TypeError, match="cannot mix a Value with a Tensor"):
        v * Tensor(2.0, requires_grad=True)
    with pytest.raises(TypeError, match="(?i)cannot mix a Tensor with a Value"):
        t + v


def test_bad_constructor_arguments() -> None:
    with pytest.raises(TypeError, match="string"):
        Value("3")
    with pytest.raises(TypeError, match="already a Value"):
        Value(Value(1.0))
    with pytest.raises(TypeError, match="For arrays use tinygrad_edu.Tensor"):
        Value(np.array([1.0, 2.0]))
    with pytest.raises(TypeError, match="add: expected a Value or a real number"):
        Value(1.0) + "a"


def test_dot_length_mismatch() -> None:
    with pytest.raises(ValueError, match=r"dot: lengths differ \(2 weights, 1 inputs\)"):
        Value.dot([Value(1.0), Value(2.0)], [1.0])


def test_repr() -> None:
    x = Value(2.0, label="x")
    y = x * 3
    y.backward()
    assert repr(x) == "Value(data=2, grad=3, label='x')"
    assert repr(y) == "Value(data=6, grad=1, op='*')"


# --------------------------------------------------------------------------- the Value MLP (value_nn)


def test_value_mlp_shapes_and_determinism() -> None:
    from tinygrad_edu.value_nn import MLP

    model = MLP(2, [16, 16, 1], seed=3)
    assert len(model.parameters()) == (2 * 16 + 16) + (16 * 16 + 16) + (16 + 1)
    out = model([0.5, -1.0])
    assert isinstance(out, Value)
    assert out.data == MLP(2, [16, 16, 1], seed=3)([0.5, -1.0]).data  # same seed, same network
    assert out.data != MLP(2, [16, 16, 1], seed=4)([0.5, -1.0]).data
    assert len(MLP(3, [4, 2])([1.0, 2.0, 3.0])) == 2
    with pytest.raises(ValueError, match="expected 2 inputs, got 3"):
        model([1.0, 2.0, 3.0])


def test_value_mlp_neuron_matches_the_lecture_formula() -> None:
    """a = relu(w . x + b), and its gradient: da/dw_i = x_i, da/db = 1 where z > 0."""
    from tinygrad_edu.value_nn import Neuron

    neuron = Neuron(3, "relu")
    for w, value in zip(neuron.w, [0.5, -0.25, 1.0]):
        w.data = value
    neuron.b.data = 0.1
    x = [1.0, 2.0, 3.0]
    a = neuron(x)
    a.backward()
    assert a.data == pytest.approx(0.5 - 0.5 + 3.0 + 0.1)
    assert [w.grad for w in neuron.w] == x and neuron.b.grad == 1.0


def test_value_mlp_gradient_descent_reduces_the_cost() -> None:
    from tinygrad_edu.value_nn import MLP

    rng = np.random.default_rng(0)
    X = rng.normal(size=(20, 2)).tolist()
    y = [1.0 if a * b > 0 else -1.0 for a, b in X]
    model = MLP(2, [8, 1], seed=0)
    costs = []
    for _ in range(5):
        J = Value.sum([(model(x) - t) ** 2 for x, t in zip(X, y)]) * (1 / len(X))
        model.zero_grad()
        J.backward()
        for p in model.parameters():
            p.data -= 0.05 * p.grad
        costs.append(J.data)
    assert costs[-1] < costs[0]
