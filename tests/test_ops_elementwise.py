"""Elementwise ops (tinygrad_edu.ops.elementwise): forward vs numpy, gradients vs finite
differences (hypothesis over shapes and values), second derivatives of the smooth ones,
dtypes, edge values, and PyTorch as an oracle at the kinks where it is installed."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ops_helpers import check_grad, check_second_order, torch_or_skip

from tinygrad_edu import Tensor
from tinygrad_edu.testing import arrays, broadcastable_shapes, shapes

_erf = np.vectorize(math.erf)


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _softplus(x):
    return np.logaddexp(0, x)


def _gelu(x):
    return x * (1 + _erf(x / math.sqrt(2))) / 2


def _gelu_tanh(x):
    return x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3))) / 2


# name: (op, numpy reference, domain for arrays(), smooth enough for a second derivative)
CASES = {
    "sin": (lambda x: x.sin(), np.sin, {}, True),
    "cos": (lambda x: x.cos(), np.cos, {}, True),
    "tan": (lambda x: x.tan(), np.tan, {"low": -1.2, "high": 1.2}, True),
    "asin": (lambda x: x.asin(), np.arcsin, {"low": -0.9, "high": 0.9}, True),
    "acos": (lambda x: x.acos(), np.arccos, {"low": -0.9, "high": 0.9}, True),
    "atan": (lambda x: x.atan(), np.arctan, {}, True),
    "sinh": (lambda x: x.sinh(), np.sinh, {}, True),
    "cosh": (lambda x: x.cosh(), np.cosh, {}, True),
    "log1p": (lambda x: x.log1p(), np.log1p, {"low": -0.9, "high": 5}, True),
    "expm1": (lambda x: x.expm1(), np.expm1, {}, True),
    "log2": (lambda x: x.log2(), np.log2, {"low": 0.1, "high": 10}, True),
    "log10": (lambda x: x.log10(), np.log10, {"low": 0.1, "high": 10}, True),
    "exp2": (lambda x: x.exp2(), np.exp2, {}, True),
    "square": (lambda x: x.square(), np.square, {}, True),
    "reciprocal": (lambda x: x.reciprocal(), np.reciprocal, {"away_from": (0,), "margin": 0.2}, True),
    "rsqrt": (lambda x: x.rsqrt(), lambda a: 1 / np.sqrt(a), {"low": 0.1, "high": 10}, True),
    "erf": (lambda x: x.erf(), _erf, {"low": -3, "high": 3}, True),
    "gelu": (lambda x: x.gelu(), _gelu, {}, True),
    "gelu_tanh": (lambda x: x.gelu(approximate="tanh"), _gelu_tanh, {}, True),
    "silu": (lambda x: x.silu(), lambda a: a * _sigmoid(a), {}, True),
    "swish": (lambda x: x.swish(), lambda a: a * _sigmoid(a), {}, True),
    "mish": (lambda x: x.mish(), lambda a: a * np.tanh(_softplus(a)), {}, True),
    "softplus": (lambda x: x.softplus(), _softplus, {}, True),
    "softsign": (lambda x: x.softsign(), lambda a: a / (1 + np.abs(a)), {"away_from": (0,)}, False),
    "hardtanh": (lambda x: x.hardtanh(), lambda a: np.clip(a, -1, 1), {"away_from": (-1, 1)}, False),
    "hardtanh_2_3": (lambda x: x.hardtanh(-2, 3), lambda a: np.clip(a, -2, 3), {"away_from": (-2, 3)}, False),
    "relu6": (lambda x: x.relu6(), lambda a: np.clip(a, 0, 6), {"low": -3, "high": 9, "away_from": (0, 6)}, False),
    "hardsigmoid": (lambda x: x.hardsigmoid(), lambda a: np.clip(a / 6 + 0.5, 0, 1), {"away_from": (-3, 3)}, False),
    "hardswish": (lambda x: x.hardswish(), lambda a: a * np.clip(a / 6 + 0.5, 0, 1), {"away_from": (-3, 3)}, False),
    "celu": (lambda x: x.celu(), lambda a: np.where(a > 0, a, np.expm1(a)), {"away_from": (0,)}, False),
    "celu_2": (lambda x: x.celu(2.0), lambda a: np.where(a > 0, a, 2 * np.expm1(a / 2)), {"away_from": (0,)}, False),
}
SMOOTH = [name for name, case in CASES.items() if case[3]]


@pytest.mark.parametrize("name", CASES)
@settings(max_examples=15)
@given(data=st.data())
def test_forward_matches_numpy_and_gradient_matches_finite_differences(name: str, data) -> None:
    op, reference, domain, _ = CASES[name]
    x = data.draw(arrays(shapes(max_dims=3), **domain))
    out = check_grad(op, x)
    np.testing.assert_allclose(out.data, reference(x), rtol=1e-12, atol=1e-12)
    assert out.shape == x.shape


@pytest.mark.parametrize("name", SMOOTH)
@settings(max_examples=5)
@given(data=st.data())
def test_second_derivative_matches_finite_differences(name: str, data) -> None:
    op, _, domain, _ = CASES[name]
    check_second_order(op, [data.draw(arrays(shapes(min_dims=1, max_dims=2), **domain))])


@pytest.mark.parametrize("name", CASES)
def test_float32_stays_float32(name: str) -> None:
    x = Tensor(np.linspace(0.15, 0.85, 6, dtype=np.float32), requires_grad=True)
    out = CASES[name][0](x)
    out.sum().backward()
    assert out.dtype == np.float32 and x.grad.dtype == np.float32


def test_gelu_rejects_an_unknown_approximation() -> None:
    with pytest.raises(ValueError, match="gelu: approximate must be 'none' or 'tanh', got 'fast'"):
        Tensor([1.0]).gelu("fast")


def test_hardtanh_and_celu_reject_bad_parameters() -> None:
    with pytest.raises(ValueError, match="hardtanh: expected min_val < max_val"):
        Tensor([1.0]).hardtanh(2, 1)
    with pytest.raises(ValueError, match="celu: alpha must not be 0"):
        Tensor([1.0]).celu(0)


def test_log1p_and_expm1_keep_every_digit_of_tiny_inputs() -> None:
    x = Tensor([1e-20, -3e-18])
    np.testing.assert_array_equal(x.log1p().data, [1e-20, -3e-18])
    np.testing.assert_array_equal(x.expm1().data, [1e-20, -3e-18])
    np.testing.assert_array_equal(x.sinh().data, [1e-20, -3e-18])


# ---------------------------------------------------------------- edge values (issue 13, finding 4)


def test_softplus_of_infinities_is_exact_with_exact_gradients_and_no_warnings() -> None:
    x = Tensor([np.inf, -np.inf, 0.0, 800.0, -800.0], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = x.softplus()
        out.sum().backward()
    np.testing.assert_array_equal(out.data, [np.inf, 0.0, math.log(2), 800.0, 0.0])
    np.testing.assert_array_equal(x.grad.data, [1.0, 0.0, 0.5, 1.0, 0.0])


def test_pow_gradient_in_the_exponent_at_zero_base_is_minus_inf_for_negative_exponents() -> None:
    # d/dy x^y = x^y ln x: at x = 0 it is 0 for y >= 0 (the limit) and inf * -inf = -inf for y < 0 (as PyTorch)
    x = Tensor([0.0, 0.0, 0.0], requires_grad=True)
    y = Tensor([-1.5, 0.0, 2.0], requires_grad=True)
    (x**y).sum().backward()
    np.testing.assert_array_equal(y.grad.data, [-np.inf, 0.0, 0.0])


# ---------------------------------------------------------------- piecewise constant ops


ROUNDING = {
    "floor": (lambda x: x.floor(), np.floor),
    "ceil": (lambda x: x.ceil(), np.ceil),
    "round": (lambda x: x.round(), np.round),
    "trunc": (lambda x: x.trunc(), np.trunc),
    "round_2": (lambda x: x.round(2), lambda a: np.round(a, 2)),
}


@pytest.mark.parametrize("name", ROUNDING)
@given(x=arrays())
def test_rounding_matches_numpy_and_has_zero_gradient(name: str, x: np.ndarray) -> None:
    op, reference = ROUNDING[name]
    t = Tensor(x, requires_grad=True)
    out = op(t)
    np.testing.assert_array_equal(out.data, reference(x))
    assert out.requires_grad  # in the graph, as PyTorch, with gradient exactly 0
    (out * 3.0).sum().backward()
    np.testing.assert_array_equal(t.grad.data, np.zeros_like(x))


def test_round_halves_to_even_as_pytorch() -> None:
    np.testing.assert_array_equal(Tensor([0.5, 1.5, 2.5, -0.5]).round().data, [0.0, 2.0, 2.0, -0.0])


def test_isnan_isinf_isfinite() -> None:
    x = Tensor([1.0, np.nan, np.inf, -np.inf])
    np.testing.assert_array_equal(np.asarray(x.isnan().data, dtype=bool), [False, True, False, False])
    np.testing.assert_array_equal(np.asarray(x.isinf().data, dtype=bool), [False, False, True, True])
    np.testing.assert_array_equal(np.asarray(x.isfinite().data, dtype=bool), [True, False, False, False])
    assert x.isnan().dtype == x.isinf().dtype == x.isfinite().dtype == np.bool_  # as PyTorch
    np.testing.assert_array_equal(x[x.isfinite()].data, [1.0])


@given(x=arrays(shapes(max_dims=2), -9, 9), y=st.sampled_from([-2.5, -1.0, 0.75, 2.0, 3.0]))
def test_floor_division_and_remainder_match_python_semantics(x: np.ndarray, y: float) -> None:
    t = Tensor(x)
    np.testing.assert_allclose((t // y).data, np.floor_divide(x, y), rtol=0, atol=1e-12)
    np.testing.assert_allclose((t % y).data, np.mod(x, y), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose((y % Tensor(x + 20.0)).data, np.mod(y, x + 20.0), atol=1e-12)
    np.testing.assert_allclose((y // Tensor(x + 20.0)).data, np.floor_divide(y, x + 20.0), atol=1e-12)


@st.composite
def _remainder_operands(draw):
    """x, y with x / y at least 0.05 away from an integer (where x % y jumps)."""
    shape = draw(shapes(max_dims=2))
    y = draw(arrays(shape, 0.5, 3.0)) * draw(st.sampled_from([-1.0, 1.0]))
    whole = draw(arrays(shape, -3, 3)).round()
    fraction = draw(arrays(shape, 0.05, 0.95))
    return (whole + fraction) * y, y


@given(operands=_remainder_operands())
def test_remainder_gradient_is_one_and_minus_floor(operands) -> None:
    x, y = operands
    check_grad(lambda a, b: a % b, x, y)
    a, b = Tensor(x, requires_grad=True), Tensor(y, requires_grad=True)
    (a % b).sum().backward()
    np.testing.assert_allclose(b.grad.data, -np.floor(x / y))


def test_logical_ops_match_numpy() -> None:
    a = np.array([0.0, 1.0, 0.0, -2.0])
    b = np.array([0.0, 0.0, 3.0, 1.0])
    x = Tensor(a)
    truth = {
        "and": (x.logical_and(b), np.logical_and(a, b)),
        "or": (x.logical_or(Tensor(b)), np.logical_or(a, b)),
        "xor": (x.logical_xor(b), np.logical_xor(a, b)),
        "not": (x.logical_not(), np.logical_not(a)),
    }
    for name, (got, expected) in truth.items():
        assert got.dtype == np.bool_, name
        np.testing.assert_array_equal(got.data, expected, err_msg=name)


# ---------------------------------------------------------------- PyTorch as an oracle (kinks included)


TORCH_NAMES = {
    "gelu": ("gelu", {}), "gelu_tanh": ("gelu", {"approximate": "tanh"}), "silu": ("silu", {}),
    "mish": ("mish", {}), "softsign": ("softsign", {}), "hardtanh": ("hardtanh", {}), "relu6": ("relu6", {}),
    "hardsigmoid": ("hardsigmoid", {}), "hardswish": ("hardswish", {}), "celu": ("celu", {}),
    "softplus": ("softplus", {}),
}


@pytest.mark.parametrize("name", TORCH_NAMES)
def test_activation_and_its_gradient_match_pytorch_including_kinks(name: str) -> None:
    torch = torch_or_skip()
    points = np.array([-7.0, -6.0, -3.0, -2.5, -1.0, -0.3, 0.0, 0.4, 1.0, 2.9, 3.0, 6.0, 6.5, 30.0])
    x = Tensor(points, requires_grad=True)
    CASES[name][0](x).sum().backward()
    tx = torch.tensor(points, requires_grad=True)
    fn, kwargs = TORCH_NAMES[name]
    getattr(torch.nn.functional, fn)(tx, **kwargs).sum().backward()
    np.testing.assert_allclose(CASES[name][0](Tensor(points)).data, getattr(torch.nn.functional, fn)(
        torch.tensor(points), **kwargs).numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(x.grad.data, tx.grad.numpy(), rtol=1e-7, atol=1e-12)  # torch: float32 constants


@pytest.mark.parametrize("name", ["sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "erf", "log1p",
                                  "expm1", "log2", "log10", "exp2", "rsqrt", "reciprocal", "square"])
def test_math_function_gradients_match_pytorch(name: str) -> None:
    torch = torch_or_skip()
    points = np.array([0.15, 0.3, 0.55, 0.8])
    x = Tensor(points, requires_grad=True)
    CASES[name][0](x).sum().backward()
    tx = torch.tensor(points, requires_grad=True)
    getattr(torch, name)(tx).sum().backward()
    np.testing.assert_allclose(x.grad.data, tx.grad.numpy(), rtol=1e-12)


@given(shapes_=broadcastable_shapes(), data=st.data())
def test_remainder_broadcasts_and_sums_gradients_back(shapes_, data) -> None:
    sx, sy = shapes_.input_shapes
    x, y = data.draw(arrays(sx, -3, 3)), data.draw(arrays(sy, 0.5, 2.0))
    fractions = np.mod(np.broadcast_to(x, shapes_.result_shape) / y, 1.0)
    if np.any(np.minimum(fractions, 1 - fractions) < 1e-3):  # x % y jumps within eps of here: no derivative
        return
    out = check_grad(lambda a, b: a % b, x, y)  # gradient shapes equal the inputs' (checked inside)
    assert out.shape == shapes_.result_shape


def test_integer_floor_division_and_remainder_stay_integers_as_pytorch() -> None:
    import tinygrad_edu as tg

    t = tg.tensor([7, -7, 3])
    for got, expected in ((t // 2, [3, -4, 1]), (t % 3, [1, 2, 0]), (10 // t, [1, -2, 3]), (10 % t, [3, -4, 1])):
        assert got.dtype == np.int64
        np.testing.assert_array_equal(got.data, expected)
    assert (t // 2.0).dtype == np.float64 and (t % 1.5).tolist() == [1.0, 0.5, 0.0]
    with pytest.raises(ZeroDivisionError, match=r"floor_divide: integer division by zero"):
        t // tg.tensor([1, 0, 1])
    with pytest.raises(ZeroDivisionError, match=r"remainder: integer division by zero"):
        t % 0
