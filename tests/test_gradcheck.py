"""gradcheck and numerical_grad: they pass correct gradients, fail loudly on wrong ones, and name the culprit.

Also the central property of the project: for random MLP architectures, activations, batch
sizes and lambda, autograd's gradients of a Tensor MLP (built from raw Tensor ops here)
equal the lectures' hand-derived formulas (tinygrad_edu.reference, plain numpy) and
central finite differences.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import tinygrad_edu as tg
from tinygrad_edu import GradcheckError, Tensor, Value, gradcheck, numerical_grad
from tinygrad_edu import reference as R
from tinygrad_edu.primitives import Primitive
from tinygrad_edu.testing import assert_grad_close, mlp_architectures, tensors

# ============================================================== deliberately broken primitives


class BadSquare(Primitive):
    """z = x^2 with a WRONG derivative: x instead of 2x."""

    name = "bad_square"

    @staticmethod
    def forward(x):
        return x * x

    @staticmethod
    def backward(g, out, x):
        return (g * x,)


class SlightlyWrongSquare(Primitive):
    """z = x^2 with a derivative 0.1 % too large."""

    name = "slightly_wrong_square"

    @staticmethod
    def forward(x):
        return x * x

    @staticmethod
    def backward(g, out, x):
        return (g * x * 2.002,)


class BadFlip(Primitive):
    """z = x reversed; WRONG backward: forgets to reverse g. Invisible to an all-ones cotangent."""

    name = "bad_flip"

    @staticmethod
    def forward(x):
        return x[::-1]

    @staticmethod
    def backward(g, out, x):
        return (g,)


def bad_square(x: Tensor) -> Tensor:
    return Tensor._apply(BadSquare, x)


def rng_tensor(seed: int, *shape: int, label: str = "", low: float = -2.0, high: float = 2.0) -> Tensor:
    data = np.random.default_rng(seed).uniform(low, high, size=shape)
    return Tensor(data, requires_grad=True, label=label)


# ============================================================== the lectures' quiz


def test_quiz_theta_cubed_gives_3_0001() -> None:
    # J(theta) = theta^3, theta = 1, eps = 0.01: ((1.01)^3 - (0.99)^3) / 0.02 = 3.0001 (exact: 3)
    for theta in (Value(1.0), 1.0, Tensor(1.0, requires_grad=True)):
        (estimate,) = numerical_grad(lambda t: t**3, theta, eps=0.01)
        assert round(float(estimate), 4) == 3.0001
        assert float(estimate) == pytest.approx(3.0001, abs=1e-12)
    # the error is eps^2 * J'''/6 = 1e-4: the analytic 3 is still within gradcheck's rtol of 3.0001...
    assert gradcheck(lambda t: t**3, Value(1.0), eps=0.01).ok
    # ...but a derivative of 3.0001 would be "wrong" by 1e-4: at eps=1e-6 the estimate is 3 to ~1e-9
    (fine,) = numerical_grad(lambda t: t**3, Value(1.0))
    assert abs(fine - 3.0) < 1e-8


def test_numerical_grad_shapes_constants_and_cotangents() -> None:
    x = Tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    c = Tensor([10.0, 20.0])  # a constant: no gradient
    gx, gc = numerical_grad(lambda x, c: (x * c).sum(), x, c)
    assert gc is None
    np.testing.assert_allclose(gx, [[10.0, 20.0], [10.0, 20.0]], rtol=1e-8)
    u = np.array([[1.0, -1.0], [2.0, 0.5]])
    (gu,) = numerical_grad(lambda x: x * x, x, cotangent=u)
    np.testing.assert_allclose(gu, 2 * x.data * u, rtol=1e-8)
    with pytest.raises(ValueError, match=r"fn returned shape \(2, 2\), not a scalar; pass cotangent="):
        numerical_grad(lambda x: x * x, x)
    (ga,) = numerical_grad(lambda a: np.sum(np.sin(a)), np.array([0.0, 1.0]))  # plain numpy functions too
    np.testing.assert_allclose(ga, np.cos([0.0, 1.0]), rtol=1e-8)


# ============================================================== passing checks


def test_value_expression_passes_and_reports_every_input() -> None:
    a, b = Value(1.5, label="a"), Value(-0.7, label="b")
    result = gradcheck(lambda a, b: (a * b + b.exp()).tanh() / (a * a + 1), a, b)
    assert result.ok and bool(result)
    assert [c.name for c in result.inputs] == ["a", "b"]
    assert all(c.max_abs_error < 1e-8 for c in result.inputs)
    assert "gradcheck passed" in result.report()


# away from 0: at x = w = 0 every gradient of this expression is exactly 0 (a vacuous check)
@given(
    tensors((3, 4), low=-3, high=3, away_from=(0,)),
    tensors((4, 2), low=-3, high=3, away_from=(0,)),
    tensors((2,), low=-3, high=3),
)
def test_tensor_expressions_pass(x: Tensor, w: Tensor, b: Tensor) -> None:
    assert_grad_close(lambda x, w, b: ((x @ w + b).sigmoid() * (x @ w).tanh()).sum(), x, w, b)


def test_modes_scalar_full_jacobian_and_random_cotangents() -> None:
    x = rng_tensor(0, 3, 2)
    assert "scalar output" in gradcheck(lambda x: x.exp().sum(), x).mode
    jac = gradcheck(lambda x: x.exp(), x)
    assert jac.mode.startswith("full Jacobian (6 one-hot")
    assert jac.inputs[0].analytic.shape == (6, 3, 2)
    # row k of the Jacobian of exp is e^x at element k only
    np.testing.assert_allclose(jac.inputs[0].analytic.reshape(6, 6), np.diag(np.exp(x.data).ravel()), rtol=1e-12)
    big = rng_tensor(1, 5, 5)
    vjp = gradcheck(lambda x: x.exp(), big, n_cotangents=4)
    assert vjp.ok and "4 random cotangents" in vjp.mode and vjp.inputs[0].analytic.shape == (4, 5, 5)


def test_constant_inputs_are_passed_through_and_not_checked() -> None:
    x, c = rng_tensor(2, 3, label="x"), Tensor([1.0, 2.0, 3.0])
    result = gradcheck(lambda x, c, k: (x * c * k).sum(), x, c, 2.0)
    assert result.ok and [c.position for c in result.inputs] == [0]


def test_output_that_does_not_depend_on_the_input_fails_as_unused() -> None:
    x = rng_tensor(3, 2)
    result = gradcheck(lambda x: Tensor([1.0, 2.0]), x)  # both sides are 0: that checks nothing
    assert not result.ok and result.inputs[0].unused and result.inputs[0].verdict() == "UNUSED"
    assert "input #0 is not used by the function" in result.report()
    vacuous = gradcheck(lambda x: Tensor([1.0, 2.0]), x, allow_unused=True)  # nothing else is checked either
    assert not vacuous.ok and "Vacuous check: every input is unused" in vacuous.report()
    assert "Vacuous" not in result.report()  # the "not used" message says it all
    y = rng_tensor(4, 2, label="y")
    allowed = gradcheck(lambda x, y: (y * y).sum(), x, y, allow_unused=True)
    assert allowed.ok and allowed.inputs[0].verdict() == "unused (allowed)" and allowed.inputs[1].verdict() == "ok"
    assert not gradcheck(lambda x, y: (y * y).sum(), x, y).ok


# ============================================================== failing checks


def test_wrong_primitive_fails_and_the_report_names_the_op_and_input() -> None:
    x = rng_tensor(4, 3, label="x")
    w = rng_tensor(5, 3, 2, label="w")
    result = gradcheck(lambda x, w: bad_square(x @ w).sum(), x, w)
    assert not result.ok
    report = result.report()
    assert "FAILED" in report and "FAIL" in report.splitlines()[4]
    assert "x (#0)" in report and "w (#1)" in report
    assert "'bad_square' (primitive BadSquare)" in report
    assert [s.op for s in result.suspects] == ["bad_square"]  # matmul and sum are not blamed
    check = result.inputs[0]
    assert not check.ok and check.max_rel_error == pytest.approx(0.5, rel=1e-6)  # x vs 2x
    assert check.worst_numeric == pytest.approx(2 * check.worst_analytic, rel=1e-6)
    assert f"{check.worst_analytic:.8g}" in report and f"{check.worst_numeric:.8g}" in report


def test_a_failing_report_explains_its_columns_and_a_passing_one_stays_short() -> None:
    x = rng_tensor(15, 3, label="x")
    failing = gradcheck(lambda x: bad_square(x).sum(), x).report()
    header = failing.splitlines()[3].split()
    assert header[:2] == ["input", "shape"] and header[-3:] == ["analytic", "numeric", "result"]
    assert "numeric = (fn(x + eps) - fn(x - eps)) / (2 eps)" in failing
    assert "analytic = autograd's gradient" in failing
    assert "#n is the op's position in the graph" in failing
    assert all(len(line) <= 140 for line in failing.splitlines())  # readable in a terminal
    passing = gradcheck(lambda x: (x * x).sum(), x).report()
    assert "analytic = autograd's gradient" not in passing and len(passing.splitlines()) == 5


def test_raise_on_failure_raises_gradcheck_error_with_the_table() -> None:
    x = rng_tensor(6, 4, label="x")
    with pytest.raises(GradcheckError, match="bad_square") as info:
        gradcheck(lambda x: bad_square(x).sum(), x, raise_on_failure=True)
    assert isinstance(info.value, AssertionError)
    assert not info.value.result.ok
    assert "max abs err" in str(info.value) and "x (#0)" in str(info.value)
    with pytest.raises(GradcheckError):
        assert_grad_close(lambda x: bad_square(x).sum(), x)


def test_a_derivative_wrong_by_a_tenth_of_a_percent_fails_at_default_tolerances() -> None:
    x = rng_tensor(7, 5, low=0.5, high=2.0)
    result = gradcheck(lambda x: Tensor._apply(SlightlyWrongSquare, x).sum(), x)
    assert not result.ok and result.suspects[0].primitive == "SlightlyWrongSquare"


def test_random_cotangents_catch_what_an_all_ones_cotangent_hides() -> None:
    x = rng_tensor(8, 20)
    flip = lambda x: Tensor._apply(BadFlip, x) * 1.0  # noqa: E731
    assert gradcheck(lambda x: flip(x).sum(), x).ok  # sum(g) is blind to the missing reversal
    result = gradcheck(flip, x)  # 20 outputs > 16: random cotangents
    assert not result.ok and "random cotangents" in result.mode
    assert result.suspects and result.suspects[0].op == "bad_flip"
    small = gradcheck(flip, rng_tensor(9, 4))  # 4 outputs: the full Jacobian
    assert not small.ok and "output[" in small.report()


def test_misuse_of_detach_is_caught_without_blaming_a_primitive() -> None:
    x = rng_tensor(10, 3)
    result = gradcheck(lambda x: (x * x.detach()).sum(), x)  # analytic x, true derivative 2x
    assert not result.ok and result.suspects == []
    assert ".detach()" in result.report()
    a = Value(1.3)
    value_result = gradcheck(lambda a: a * a.detach(), a)
    assert not value_result.ok and "Value graphs" in value_result.report()


def test_relu_at_its_kink_fails_and_relu_is_the_suspect() -> None:
    # finite differences across the kink give (1 + 0)/2, autograd gives relu'(0) = 0
    x = Tensor([0.0, 1.0, -1.0], requires_grad=True)
    result = gradcheck(lambda x: x.relu().sum(), x)
    assert not result.ok and result.inputs[0].worst_index == (0,)
    assert result.inputs[0].worst_numeric == pytest.approx(0.5)
    assert [s.op for s in result.suspects] == ["relu"]


def test_fn_that_mutates_its_input_is_reported() -> None:
    def sneaky(x: Tensor) -> Tensor:
        out = (x * 2.0).sum()
        x.data += 1.0
        return out

    result = gradcheck(sneaky, rng_tensor(11, 2, label="x"))
    assert not result.ok and "fn modified x in place" in result.report()


# ============================================================== precision and hygiene


def test_float32_inputs_warn_and_are_checked_in_float64() -> None:
    x32 = Tensor(np.array([0.3, -1.2], dtype=np.float32), requires_grad=True)
    with pytest.warns(UserWarning, match="input 0 is float32; checking a float64 copy"):
        result = gradcheck(lambda x: (x.exp() * x).sum(), x32)
    assert result.ok and result.inputs[0].max_abs_error < 1e-8  # float64 precision, not float32's
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # float64: no warning
        gradcheck(lambda x: (x.exp() * x).sum(), Tensor([0.3, -1.2], requires_grad=True))


def test_float32_output_warns() -> None:
    x = Tensor([0.5, 1.5], requires_grad=True)
    with pytest.warns(UserWarning, match="fn returned a float32 tensor"):
        gradcheck(lambda x: x.cast(np.float32).sum(), x, atol=1e-3, rtol=1e-2)


def test_callers_inputs_and_grads_are_untouched() -> None:
    x = rng_tensor(12, 2, 3)
    w = rng_tensor(13, 3)
    w.grad = Tensor(np.full(3, 7.0))
    a = Value(0.8)
    before_x, before_w = x.data.copy(), w.data.copy()
    gradcheck(lambda x, w: (x @ w).tanh().sum(), x, w)
    gradcheck(lambda x: bad_square(x).sum(), x)  # a failing check (with localisation) too
    gradcheck(lambda a: a.sigmoid() * a, a)
    np.testing.assert_array_equal(x.data, before_x)
    np.testing.assert_array_equal(w.data, before_w)
    assert x.grad is None and a.grad is None and a.data == 0.8
    np.testing.assert_array_equal(w.grad.data, np.full(3, 7.0))


def test_works_inside_no_grad_and_checks_second_derivatives() -> None:
    x = rng_tensor(14, 4)
    with tg.no_grad():
        assert gradcheck(lambda x: (x * x.exp()).sum(), x).ok
    # the derivative of d/dx sum(x^3) = 3x^2 is diag(6x): gradcheck of a create_graph gradient
    first = lambda x: tg.grad((x**3).sum(), x, create_graph=True)[0]  # noqa: E731
    result = gradcheck(first, x)
    assert result.ok and "full Jacobian" in result.mode
    np.testing.assert_allclose(result.inputs[0].analytic.reshape(4, 4), np.diag(6 * x.data), rtol=1e-12)


def test_clear_errors_for_bad_use() -> None:
    with pytest.raises(ValueError, match="none of the 1 inputs requires grad"):
        gradcheck(lambda x: x.sum(), Tensor([1.0]))
    with pytest.raises(TypeError, match="fn must return a Value or a Tensor"):
        gradcheck(lambda x: [x, x], Tensor([1.0], requires_grad=True))
    with pytest.raises(ValueError, match="eps must be a positive"):
        gradcheck(lambda x: x.sum(), Tensor([1.0], requires_grad=True), eps=0.0)


def test_exports() -> None:
    assert tg.gradcheck is gradcheck and tg.numerical_grad is numerical_grad
    assert issubclass(tg.GradcheckError, AssertionError)
    assert isinstance(gradcheck(lambda v: v * v, Value(2.0)), tg.GradcheckResult)


# ============================================================== MLP: autograd == reference == finite differences


def tensor_mlp_cost(Ws, bs, x: Tensor, y: Tensor, activation: str, output: str, lam: float) -> Tensor:
    """The lectures' network from raw Tensor ops, batch-first: x is X^T (m, n_x), z = a W^T + b.

    W[l] keeps the lectures' shape (n[l], n[l-1]); b[l] has shape (n[l],) (the lectures' (n[l], 1) column).
    """
    a, L, m = x, len(Ws), x.shape[0]
    z = a
    for l in range(L):
        z = a @ Ws[l].T + bs[l]
        if l < L - 1:
            a = z.leaky_relu(R.LEAKY_SLOPE) if activation == "leaky_relu" else getattr(z, activation)()
    if output == "sigmoid":
        # -[y log a + (1 - y) log(1 - a)] with a = sigma(z), written as ln(1 + e^z) - y z: the same
        # cost, but log(1 - a) would round to log 0 (and finite differences to 0) once z > ~30
        cost = (z.softplus() - y * z).sum() / m
    else:
        cost = -(y * z.log_softmax(axis=1)).sum() / m
    penalty = (Ws[0] * Ws[0]).sum()
    for W in Ws[1:]:
        penalty = penalty + (W * W).sum()  # biases are not regularised
    return cost + penalty * (lam / (2 * m))


@given(mlp_architectures(), st.integers(1, 5), st.sampled_from([0.0, 0.3, 2.0]), st.integers(0, 2**32 - 1))
def test_mlp_autograd_equals_reference_and_finite_differences(spec, m: int, lam: float, seed: int) -> None:
    rng = np.random.default_rng(seed)
    params = R.initialize_parameters(spec.sizes, seed=rng, scale=1.5)
    X = rng.standard_normal((spec.sizes[0], m))
    K = spec.sizes[-1]
    Y = (rng.random((K, m)) < 0.5).astype(float) if spec.output == "sigmoid" else np.eye(K)[:, rng.integers(0, K, m)]
    AL, caches = R.l_layer_forward(X, params, spec.activation, spec.output)
    if spec.activation in ("relu", "leaky_relu"):
        # continuous random weights put a pre-activation within 1e-4 of the kink with probability
        # ~1e-4 per unit; those rare draws are discarded (both oracles are undefined there)
        assume(all(np.min(np.abs(c[3])) > 1e-4 for c in caches[:-1]))
    J_ref, grads = R.l_layer_cost_and_grads(X, Y, params, lam, spec.activation, spec.output)

    L = spec.n_layers
    Ws = [Tensor(params[f"W{l}"], requires_grad=True, label=f"W{l}") for l in range(1, L + 1)]
    bs = [Tensor(params[f"b{l}"][:, 0], requires_grad=True, label=f"b{l}") for l in range(1, L + 1)]
    x, y = Tensor(X.T), Tensor(Y.T)  # the lectures' (n_x, m) columns become rows

    cost = tensor_mlp_cost(Ws, bs, x, y, spec.activation, spec.output, lam)
    assert cost.item() == pytest.approx(J_ref, rel=1e-10)
    autograd = tg.grad(cost, Ws + bs)
    for l in range(1, L + 1):
        # same maths in a different order: only round-off differs
        np.testing.assert_allclose(autograd[l - 1].data, grads[f"dW{l}"], rtol=1e-9, atol=1e-12, err_msg=f"dW{l}")
        np.testing.assert_allclose(autograd[L + l - 1].data, grads[f"db{l}"][:, 0], rtol=1e-9, atol=1e-12,
                                   err_msg=f"db{l}")

    def cost_of(*ps: Tensor) -> Tensor:
        return tensor_mlp_cost(list(ps[:L]), list(ps[L:]), x, y, spec.activation, spec.output, lam)

    assert_grad_close(cost_of, *Ws, *bs)


@given(st.integers(1, 4), st.integers(1, 5), st.sampled_from([0.0, 0.5]), st.integers(0, 2**32 - 1))
def test_value_logistic_regression_equals_the_lectures_loop(n_x: int, m: int, lam: float, seed: int) -> None:
    """The scalar engine on the lectures' per-example loop: J = -(1/m) sum [y log a + (1 - y) log(1 - a)]."""
    rng = np.random.default_rng(seed)
    w_data, b_data = rng.standard_normal((n_x, 1)), float(rng.standard_normal())
    X, Y = rng.standard_normal((n_x, m)), (rng.random((1, m)) < 0.5).astype(float)
    J_ref, dw_ref, db_ref = R.logistic_regression_cost_and_grads_loop(w_data, b_data, X, Y, lam)

    def cost(*params: Value) -> Value:
        *w, b = params
        J = Value(0.0, requires_grad=False)
        for i in range(m):
            a = (Value.dot(w, [float(X[j, i]) for j in range(n_x)]) + b).sigmoid()
            J = J - (Y[0, i] * a.log() + (1.0 - Y[0, i]) * (1.0 - a).log())
        return J / m + Value.sum(wj * wj for wj in w) * (lam / (2 * m))

    params = [Value(float(v), label=f"w{j + 1}") for j, v in enumerate(w_data[:, 0])] + [Value(b_data, label="b")]
    J = cost(*params)
    J.backward()
    assert J.data == pytest.approx(J_ref, rel=1e-12)
    np.testing.assert_allclose([p.grad for p in params[:-1]], dw_ref[:, 0], rtol=1e-10, atol=1e-12)
    assert params[-1].grad == pytest.approx(db_ref, rel=1e-10, abs=1e-12)
    assert_grad_close(cost, *params)
