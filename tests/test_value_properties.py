"""Property tests for every ``Value`` op (recipe: /work/shared/TESTING.md).

Three independent oracles:

1. central finite differences, (f(x + h) - f(x - h)) / 2h in float64, on each op's domain
   away from its kinks (the strategies are built from intervals, not filtered);
2. the plain ``math`` expression each op stands for (forward values);
3. forward-mode dual numbers (written below, independent of the engine) on random
   expression DAGs that reuse nodes -- exact up to rounding, so the tolerance is ~1e-9.

Tolerances for finite differences (``gradcheck.numerical_grad``): h = 1e-6 balances truncation
(~h^2 f''') against round-off (~1e-16 |f| / h, at most ~3e-6 for exp(10) ~ 2e4, far inside rtol);
|analytic - numeric| <= 1e-6 + 1e-4 |numeric| then passes every correct op
with a wide margin and still fails a 1%-wrong derivative.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_edu import Value
from tinygrad_edu.gradcheck import numerical_grad
from tinygrad_edu.testing import floats
from tinygrad_edu.value import SELU_ALPHA, SELU_SCALE

RTOL, ATOL = 1e-4, 1e-6


def away_from_zero(lo: float, hi: float) -> st.SearchStrategy[float]:
    """Numbers with lo <= |x| <= hi, either sign: built from intervals (no filtering), so
    hypothesis's favourite values 0, -0.0 and tiny numbers never land on a kink."""
    return floats(-hi, hi, away_from=(0,), margin=lo)


ANY = floats(-5, 5)
EXP_IN = floats(-10, 10)  # e^10 ~ 2e4: outputs stay moderate
POSITIVE = floats(1e-3, 1e3)  # log, sqrt
NONZERO = away_from_zero(0.1, 5)  # denominators, and bases of integer powers
BASE = floats(0.1, 5)  # bases of fractional / Value powers (x^n needs x > 0)
SQUASH_IN = floats(-30, 30)  # tanh, sigmoid: tails included
KINKED = away_from_zero(1e-3, 5)  # relu, leaky_relu, elu, selu, abs: >= 1e-3 from the kink at 0


# name -> (op on Values, the same formula on floats with `math`, input strategies)
OPS: dict[str, tuple[Callable[..., Value], Callable[..., float], tuple[st.SearchStrategy[float], ...]]] = {
    "add": (lambda x, y: x + y, lambda x, y: x + y, (ANY, ANY)),
    "sub": (lambda x, y: x - y, lambda x, y: x - y, (ANY, ANY)),
    "mul": (lambda x, y: x * y, lambda x, y: x * y, (ANY, ANY)),
    "div": (lambda x, y: x / y, lambda x, y: x / y, (ANY, NONZERO)),
    "neg": (lambda x: -x, lambda x: -x, (ANY,)),
    "pow_int": (lambda x: x**3, lambda x: x**3, (ANY,)),
    "pow_negative_int": (lambda x: x**-2, lambda x: x**-2, (NONZERO,)),
    "pow_fraction": (lambda x: x**1.7, lambda x: x**1.7, (BASE,)),
    "pow_value": (lambda x, n: x**n, lambda x, n: x**n, (BASE, floats(-3, 3))),
    "radd": (lambda x: 2.5 + x, lambda x: 2.5 + x, (ANY,)),
    "rsub": (lambda x: 1.0 - x, lambda x: 1.0 - x, (ANY,)),
    "rmul": (lambda x: 2.0 * x, lambda x: 2.0 * x, (ANY,)),
    "rdiv": (lambda x: 3.0 / x, lambda x: 3.0 / x, (NONZERO,)),
    "rpow": (lambda x: 2.0**x, lambda x: 2.0**x, (ANY,)),
    "exp": (lambda x: x.exp(), math.exp, (EXP_IN,)),
    "log": (lambda x: x.log(), math.log, (POSITIVE,)),
    "sqrt": (lambda x: x.sqrt(), math.sqrt, (POSITIVE,)),
    "abs": (lambda x: x.abs(), abs, (KINKED,)),
    "tanh": (lambda x: x.tanh(), math.tanh, (SQUASH_IN,)),
    "sigmoid": (lambda x: x.sigmoid(), lambda z: 1.0 / (1.0 + math.exp(-z)), (SQUASH_IN,)),
    "relu": (lambda x: x.relu(), lambda z: max(z, 0.0), (KINKED,)),
    "leaky_relu": (lambda x: x.leaky_relu(0.2), lambda z: z if z > 0 else 0.2 * z, (KINKED,)),
    "elu": (lambda x: x.elu(1.5), lambda z: z if z > 0 else 1.5 * (math.exp(z) - 1), (KINKED,)),
    "selu": (
        lambda x: x.selu(),
        lambda z: SELU_SCALE * (z if z > 0 else SELU_ALPHA * (math.exp(z) - 1)),
        (KINKED,),
    ),
    "dot3": (
        lambda w1, w2, w3, x1, x2, x3: Value.dot([w1, w2, w3], [x1, x2, x3]),
        lambda w1, w2, w3, x1, x2, x3: w1 * x1 + w2 * x2 + w3 * x3,
        (ANY,) * 6,
    ),
    "sum4": (
        lambda a, b, c, d: Value.sum([a, b, c, d]),
        lambda a, b, c, d: a + b + c + d,
        (ANY,) * 4,
    ),
}


@pytest.mark.parametrize("name", sorted(OPS))
@given(data=st.data(), upstream=away_from_zero(0.1, 3))
def test_gradient_matches_finite_differences(name: str, data: st.DataObject, upstream: float) -> None:
    op, formula, domains = OPS[name]
    xs = [data.draw(domain, label=f"x{i}") for i, domain in enumerate(domains)]
    inputs = [Value(x) for x in xs]

    out = op(*inputs)
    assert out.data == pytest.approx(formula(*xs), rel=1e-12, abs=1e-300)  # oracle 3: the math expression
    out.backward(upstream)  # a cotangent other than 1 catches a missing "* upstream"

    numeric = numerical_grad(formula, *xs)  # oracle 1, on the plain `math` formula
    for i, (v, x, expected) in enumerate(zip(inputs, xs, numeric)):
        assert v.data == x, "the op changed its input"
        assert v.grad is not None, f"{name}: no gradient reached input {i}"
        assert abs(v.grad - upstream * expected) <= ATOL + RTOL * abs(upstream * expected), (
            f"{name}: dL/dx{i} = {v.grad}, finite differences give {upstream * expected} at {xs}"
        )


@given(x=SQUASH_IN)
def test_squashing_derivatives_follow_the_lectures(x: float) -> None:
    """sigma'(z) = sigma(z)(1 - sigma(z)) and tanh'(z) = 1 - tanh(z)^2, to rounding (no finite differences)."""
    z = Value(x)
    a = z.sigmoid()
    a.backward()
    assert z.grad == pytest.approx(a.data * (1 - a.data), rel=1e-12, abs=1e-300)
    z = Value(x)
    t = z.tanh()
    t.backward()
    assert z.grad == pytest.approx(1 - t.data**2, rel=1e-12, abs=1e-300)


@given(x=ANY, r=ANY)
def test_zero_upstream_gives_zero_gradients(x: float, r: float) -> None:
    v = Value(x)
    (v * r + v.tanh()).backward(0.0)
    assert v.grad == 0.0


# --------------------------------------------------------------------------- dual numbers


class Dual:
    """a + b eps with eps^2 = 0: f(a + b eps) = f(a) + f'(a) b eps (forward-mode AD)."""

    def __init__(self, val: float, der: float = 0.0) -> None:
        self.val, self.der = val, der

    @staticmethod
    def lift(x: Dual | float) -> Dual:
        return x if isinstance(x, Dual) else Dual(float(x))

    def __add__(self, other: Dual | float) -> Dual:
        o = Dual.lift(other)
        return Dual(self.val + o.val, self.der + o.der)

    __radd__ = __add__

    def __sub__(self, other: Dual | float) -> Dual:
        o = Dual.lift(other)
        return Dual(self.val - o.val, self.der - o.der)

    def __mul__(self, other: Dual | float) -> Dual:
        o = Dual.lift(other)
        return Dual(self.val * o.val, self.der * o.val + self.val * o.der)

    __rmul__ = __mul__

    def __truediv__(self, other: Dual | float) -> Dual:
        o = Dual.lift(other)
        return Dual(self.val / o.val, (self.der * o.val - self.val * o.der) / (o.val * o.val))

    def __neg__(self) -> Dual:
        return Dual(-self.val, -self.der)

    def tanh(self) -> Dual:
        t = math.tanh(self.val)
        return Dual(t, (1 - t * t) * self.der)

    def sigmoid(self) -> Dual:
        s = 1 / (1 + math.exp(-self.val))
        return Dual(s, s * (1 - s) * self.der)

    def exp(self) -> Dual:
        e = math.exp(self.val)
        return Dual(e, e * self.der)

    def log(self) -> Dual:
        return Dual(math.log(self.val), self.der / self.val)

    def relu(self) -> Dual:
        return Dual(max(self.val, 0.0), self.der if self.val > 0 else 0.0)


# Each op maps existing nodes (Value or Dual, the same code for both) to a new one. Every
# op is defined on all reals and keeps magnitudes bounded (products and quotients go
# through tanh / 1 + b^2), so random DAGs never leave the domain or overflow.
DAG_OPS: dict[str, Callable] = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b.tanh(),
    "div": lambda a, b: a / (1.0 + b * b),
    "neg": lambda a, b: -a,
    "tanh": lambda a, b: a.tanh(),
    "sigmoid": lambda a, b: a.sigmoid(),
    "exp_log": lambda a, b: (1.0 + a.sigmoid().exp()).log(),
    "relu": lambda a, b: a.relu(),
    "scale": lambda a, b: 0.5 * a + 1.0,
}


@st.composite
def expression_dags(draw: st.DrawFn) -> tuple[list[float], list[tuple[str, int, int]], list[int]]:
    """Leaves, then ops whose operands are any earlier nodes (reuse and a op a included),
    then a final sum over a few nodes (so several outputs share subgraphs)."""
    n_leaves = draw(st.integers(1, 4))
    leaves = [draw(away_from_zero(0.01, 2)) for _ in range(n_leaves)]  # relu kinks: never exactly 0 at a leaf
    steps = []
    for k in range(draw(st.integers(1, 12))):
        n_nodes = n_leaves + k
        steps.append((draw(st.sampled_from(sorted(DAG_OPS))), draw(st.integers(0, n_nodes - 1)),
                      draw(st.integers(0, n_nodes - 1))))
    n_nodes = n_leaves + len(steps)
    outputs = draw(st.lists(st.integers(0, n_nodes - 1), min_size=1, max_size=4))
    return leaves, steps, outputs


def evaluate_dag(leaves: list, steps: list[tuple[str, int, int]], outputs: list[int]):
    nodes = list(leaves)
    for name, i, j in steps:
        nodes.append(DAG_OPS[name](nodes[i], nodes[j]))
    total = nodes[outputs[0]]
    for k in outputs[1:]:
        total = total + nodes[k]
    return total


@given(dag=expression_dags())
def test_random_dags_match_forward_mode_dual_numbers(dag) -> None:
    leaves, steps, outputs = dag
    values = [Value(x) for x in leaves]
    out = evaluate_dag(values, steps, outputs)
    out.backward()
    for i, v in enumerate(values):
        duals = [Dual(x, 1.0 if k == i else 0.0) for k, x in enumerate(leaves)]
        expected = evaluate_dag(duals, steps, outputs)
        assert out.data == pytest.approx(expected.val, rel=1e-12, abs=1e-12)
        got = 0.0 if v.grad is None else v.grad  # an input the output does not depend on
        assert got == pytest.approx(expected.der, rel=1e-9, abs=1e-9), f"leaf {i}: {dag}"
