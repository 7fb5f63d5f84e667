"""Numerical stability: extreme inputs give finite values and gradients, silently; domain edges as documented.

Every check runs with warnings turned into errors and numpy's floating-point errors
raising (``over``, ``divide``, ``invalid``), so an op that overflows internally and
happens to recover (e.g. e^(1e4) / e^(1e4)) still fails the test. Underflow is allowed:
e^(-1e4) rounding to 0 is the correctly rounded answer, not an error.

Oracles are independent of the code under test: numpy's ``logaddexp`` (stable log(e^a + e^b))
gives softplus, sigmoid = exp(-softplus(-z)) and logsumexp; the gradients are the lectures'
closed forms (sigma' = sigma(1 - sigma), tanh' = 1 - tanh^2, softplus' = sigma,
d logsumexp = softmax, dJ/dz = (a - y)/m for both cross-entropies).
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator

import numpy as np
import pytest

from tinygrad_edu import Tensor, Value
from tinygrad_edu.nn import losses

DTYPES = [np.float32, np.float64]
# The guarantee: error <= RTOL * |exact| + ATOL, i.e. a few ulps relative to the value OR to 1.
# RTOL: a few ops' rounding (float32 eps ~1.2e-7, float64 eps ~2.2e-16).
# ATOL = 8 eps: an absolute floor is needed in the saturated tails. sigma'(z) = a(1 - a) forms
# 1 - a, which cancels once a ~ 1 (z = 30: a = 1 - 9.4e-14, so 1 - a keeps ~3 digits in float64 and
# is 0 in float32), and softplus(z) = ln(1 + e^z) rounds 1 + e^z for z << 0 the same way (no log1p
# primitive). Both errors are below eps in absolute terms, as in PyTorch's sigmoid backward.
RTOL = {np.float32: 1e-5, np.float64: 1e-12}
ATOL = {np.float32: 8 * float(np.finfo(np.float32).eps), np.float64: 8 * float(np.finfo(np.float64).eps)}

# Extreme and ordinary logits, both signs, up to |z| = 1e4.
Z = np.array([-1e4, -1e3, -100.0, -30.0, -1.0, 0.0, 0.5, 1.0, 30.0, 100.0, 1e3, 1e4])


@contextlib.contextmanager
def strict() -> Iterator[None]:
    """Any numpy warning or floating-point error (except underflow) fails the test."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="raise", divide="raise", invalid="raise", under="ignore"):
            yield


def _softplus_ref(z: np.ndarray) -> np.ndarray:
    return np.logaddexp(0.0, z)


def _sigmoid_ref(z: np.ndarray) -> np.ndarray:
    return np.exp(-np.logaddexp(0.0, -z))


def _upstream(shape: tuple[int, ...], dtype: type) -> np.ndarray:
    """A non-uniform cotangent r, so transposed or mis-broadcast gradients show (TESTING.md)."""
    return np.random.default_rng(7).uniform(0.5, 1.5, shape).astype(dtype)


def _value_and_grad(name: str, z: np.ndarray, dtype: type, **kwargs: object) -> tuple[Tensor, Tensor, np.ndarray]:
    x = Tensor(z.astype(dtype), requires_grad=True)
    out = getattr(x, name)(**kwargs)
    r = _upstream(out.shape, dtype)
    (out * Tensor(r)).sum().backward()
    assert x.grad is not None
    return out, x.grad, r


def _assert_finite_and_close(actual: Tensor, expected: np.ndarray, dtype: type) -> None:
    assert actual.dtype == np.dtype(dtype)
    assert np.all(np.isfinite(actual.data)), actual.data
    np.testing.assert_allclose(actual.data.astype(np.float64), expected, rtol=RTOL[dtype], atol=ATOL[dtype])


# ------------------------------------------------------------------ elementwise activations


@pytest.mark.parametrize("dtype", DTYPES)
def test_sigmoid_extremes(dtype: type) -> None:
    z = Z.astype(dtype).astype(np.float64)
    with strict():
        out, g, r = _value_and_grad("sigmoid", Z, dtype)
    s = _sigmoid_ref(z)
    _assert_finite_and_close(out, s, dtype)
    _assert_finite_and_close(g, r * s * (1.0 - s), dtype)
    assert out.data[-1] == 1.0 and out.data[0] == 0.0  # saturates exactly, never overshoots


@pytest.mark.parametrize("dtype", DTYPES)
def test_tanh_extremes(dtype: type) -> None:
    z = Z.astype(dtype).astype(np.float64)
    with strict():
        out, g, r = _value_and_grad("tanh", Z, dtype)
    t = np.tanh(z)
    _assert_finite_and_close(out, t, dtype)
    _assert_finite_and_close(g, r * (1.0 - t * t), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_softplus_extremes(dtype: type) -> None:
    z = Z.astype(dtype).astype(np.float64)
    with strict():
        out, g, r = _value_and_grad("softplus", Z, dtype)
    _assert_finite_and_close(out, _softplus_ref(z), dtype)
    _assert_finite_and_close(g, r * _sigmoid_ref(z), dtype)  # softplus' = sigma
    assert out.data[-1] == dtype(1e4)  # ln(1 + e^1e4) = 1e4 to working precision


@pytest.mark.parametrize("dtype", DTYPES)
def test_elu_extremes(dtype: type) -> None:
    z = Z.astype(dtype).astype(np.float64)
    with strict():
        out, g, r = _value_and_grad("elu", Z, dtype)
    _assert_finite_and_close(out, np.where(z > 0, z, np.expm1(np.minimum(z, 0))), dtype)
    _assert_finite_and_close(g, r * np.where(z > 0, 1.0, np.exp(np.minimum(z, 0))), dtype)


# ------------------------------------------------------------------ softmax family (rows of extreme logits)

ROWS = np.array(
    [
        [1e4, -1e4, 0.0, 1.0],  # one huge winner
        [1e4, 1e4, -1e4, 9999.0],  # ties at the top
        [-1e4, -1e4, -1e4, -1e4],  # all tiny: naive e^z / sum e^z is 0/0
        [3.0, -2.0, 0.5, 1.0],  # ordinary
    ]
)


def _logsumexp_ref(z: np.ndarray) -> np.ndarray:
    return np.logaddexp.reduce(z, axis=-1)


def _log_softmax_ref(z: np.ndarray) -> np.ndarray:
    """(z - m) - ln sum e^(z - m): exact shifts, so no ulp(1e4) ~ 2e-12 error from z - logsumexp(z)."""
    shifted = z - z.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


@pytest.mark.parametrize("dtype", DTYPES)
def test_logsumexp_extremes(dtype: type) -> None:
    z = ROWS.astype(dtype).astype(np.float64)
    with strict():
        out, g, r = _value_and_grad("logsumexp", ROWS, dtype, axis=-1)
    lse = _logsumexp_ref(z)
    _assert_finite_and_close(out, lse, dtype)
    softmax = np.exp(_log_softmax_ref(z))
    _assert_finite_and_close(g, r[:, None] * softmax, dtype)  # d lse / dz = softmax(z)


@pytest.mark.parametrize("dtype", DTYPES)
def test_softmax_extremes(dtype: type) -> None:
    z = ROWS.astype(dtype).astype(np.float64)
    with strict():
        out, g, r = _value_and_grad("softmax", ROWS, dtype, axis=-1)
    s = np.exp(_log_softmax_ref(z))
    _assert_finite_and_close(out, s, dtype)
    np.testing.assert_allclose(out.data.sum(axis=-1), 1.0, rtol=RTOL[dtype])
    # VJP of softmax: s * (r - sum_j r_j s_j)
    _assert_finite_and_close(g, s * (r - (r * s).sum(axis=-1, keepdims=True)), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_log_softmax_extremes(dtype: type) -> None:
    z = ROWS.astype(dtype).astype(np.float64)
    with strict():
        out, g, r = _value_and_grad("log_softmax", ROWS, dtype, axis=-1)
    log_s = _log_softmax_ref(z)
    _assert_finite_and_close(out, log_s, dtype)
    assert out.data[0, 1] == dtype(-2e4)  # log of a probability e^-2e4 that underflows: still exact
    # VJP of log_softmax: r - softmax * sum_j r_j
    _assert_finite_and_close(g, r - np.exp(log_s) * r.sum(axis=-1, keepdims=True), dtype)


# ------------------------------------------------------------------ losses on extreme logits


@pytest.mark.parametrize("dtype", DTYPES)
def test_binary_cross_entropy_with_logits_extremes(dtype: type) -> None:
    z = Z.astype(dtype)
    y = (np.arange(Z.size) % 2).astype(dtype)  # confident right and confident wrong predictions
    with strict():
        logits = Tensor(z, requires_grad=True)
        loss = losses.binary_cross_entropy_with_logits(logits, Tensor(y))
        loss.backward()
    z64, y64 = z.astype(np.float64), y.astype(np.float64)
    expected = np.mean(_softplus_ref(z64) - z64 * y64)  # -(y ln sigma(z) + (1-y) ln(1 - sigma(z)))
    assert np.isfinite(loss.item())
    np.testing.assert_allclose(loss.item(), expected, rtol=RTOL[dtype])
    assert logits.grad is not None
    _assert_finite_and_close(logits.grad, (_sigmoid_ref(z64) - y64) / Z.size, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_cross_entropy_extremes(dtype: type) -> None:
    labels = np.array([1, 2, 0, 3])  # row 0: the label has logit -1e4 (a confident, wrong prediction)
    with strict():
        logits = Tensor(ROWS.astype(dtype), requires_grad=True)
        loss = losses.cross_entropy(logits, labels)
        loss.backward()
    z = ROWS.astype(dtype).astype(np.float64)
    lse = _logsumexp_ref(z)
    expected = np.mean(lse - z[np.arange(4), labels])
    assert np.isfinite(loss.item())
    np.testing.assert_allclose(loss.item(), expected, rtol=RTOL[dtype])
    onehot = np.eye(4)[labels]
    assert logits.grad is not None
    _assert_finite_and_close(logits.grad, (np.exp(_log_softmax_ref(z)) - onehot) / 4, dtype)  # (a - y) / N


# ------------------------------------------------------------------ Tensor at the edge of the domain (documented)


def _edge(fn_name: str, x: float, seed_grad: float = 1.0) -> tuple[float, float]:
    t = Tensor([x], requires_grad=True)
    out = getattr(t, fn_name)() if isinstance(fn_name, str) else fn_name(t)
    out.backward(gradient=np.array([seed_grad]))
    assert t.grad is not None
    return float(out.data[0]), float(t.grad.data[0])


def test_tensor_log_edges() -> None:
    with strict():  # silently: the primitives document these values instead of warning
        assert _edge("log", 0.0) == (-np.inf, np.inf)  # ln 0 = -inf, (ln)'(0) = 1/0 = inf
        value, grad = _edge("log", -1.0)
    assert np.isnan(value) and grad == -1.0  # ln(-1) = nan; 1/x is still defined


def test_tensor_sqrt_edges() -> None:
    with strict():
        assert _edge("sqrt", 0.0) == (0.0, np.inf)  # sqrt'(0) = 1 / (2 sqrt 0) = inf
        value, grad = _edge("sqrt", -1.0)
    assert np.isnan(value) and np.isnan(grad)


def test_tensor_fractional_power_of_a_negative_number_is_nan() -> None:
    with strict():
        value, grad = _edge(lambda t: t**0.5, -1.0)
        assert _edge(lambda t: t**0.5, 0.0) == (0.0, np.inf)  # 0.5 * 0^-0.5 = inf, like sqrt'(0)
    assert np.isnan(value) and np.isnan(grad)


def test_tensor_division_edges() -> None:
    with strict():
        assert (Tensor([1.0, -1.0]) / Tensor([0.0, 0.0])).tolist() == [np.inf, -np.inf]
        assert np.isnan((Tensor([0.0]) / 0.0).data[0])
        y = Tensor([0.0], requires_grad=True)
        (Tensor([1.0]) / y).backward(gradient=np.array([1.0]))  # d(1/y)/dy = -1/y^2
        assert y.grad is not None and y.grad.data[0] == -np.inf
        assert (Tensor([0.0]) ** -1.0).data[0] == np.inf  # pow: 0^-1 = inf


def test_tensor_exp_overflow_is_inf_silently() -> None:
    with strict():
        assert Tensor(np.array([100.0], dtype=np.float32)).exp().data[0] == np.inf
        assert Tensor([1000.0]).exp().data[0] == np.inf
        assert Tensor([709.0]).exp().data[0] < np.inf  # float64 limit ~709.78


# ------------------------------------------------------------------ Value: extremes fine, domain errors raise


@pytest.mark.parametrize("z", [-1e4, -100.0, 0.0, 100.0, 1e4])
def test_value_sigmoid_and_tanh_extremes(z: float) -> None:
    for name, derivative in (("sigmoid", lambda a: a * (1 - a)), ("tanh", lambda a: 1 - a * a)):
        v = Value(z)
        out = getattr(v, name)()
        out.backward()
        assert np.isfinite(out.data) and v.grad is not None and np.isfinite(v.grad)
        assert v.grad == pytest.approx(derivative(out.data), abs=1e-15)


def test_value_log_of_zero_raises() -> None:
    with pytest.raises(ValueError, match=r"log.*> 0.*0\.0"):
        Value(0.0).log()


def test_value_log_of_a_negative_number_raises() -> None:
    with pytest.raises(ValueError, match=r"log: input must be > 0, got -1\.0"):
        Value(-1.0).log()


def test_value_fractional_power_of_a_negative_number_raises() -> None:
    with pytest.raises(ValueError, match=r"pow: -1\.0 \*\* 0\.5 is not real"):
        Value(-1.0) ** 0.5


def test_value_sqrt_of_negative_raises() -> None:
    with pytest.raises(ValueError, match=r"sqrt.*>= 0.*-1"):
        Value(-1.0).sqrt()


def test_value_sqrt_at_zero_has_infinite_derivative() -> None:
    v = Value(0.0)
    out = v.sqrt()
    assert out.data == 0.0 and out.local_grads == (np.inf,)


def test_value_division_by_zero_raises() -> None:
    with pytest.raises(ZeroDivisionError, match=r"div.*zero"):
        Value(1.0) / Value(0.0)


def test_value_exp_overflow_raises() -> None:
    with pytest.raises(OverflowError, match=r"exp.*overflow"):
        Value(1000.0).exp()


def test_value_negative_power_of_zero_raises() -> None:
    with pytest.raises(ZeroDivisionError, match=r"pow.*0\.0"):
        Value(0.0) ** -1


def test_tensor_power_with_a_zero_base_has_the_limit_gradients() -> None:
    # x^y at x = 0: dL/dy = x^y ln x -> 0 (not 0 * -inf = nan), and at y = 0 as well
    # dL/dx = 0 (0^y is the constant 1 near y = 0). Value gives the same numbers.
    x = Tensor([0.0, 0.0, 2.0], requires_grad=True)
    y = Tensor([3.0, 0.0, 3.0], requires_grad=True)
    with strict():
        (x**y).sum().backward()
    assert x.grad is not None and y.grad is not None
    np.testing.assert_allclose(x.grad.data, [0.0, 0.0, 12.0], rtol=1e-15)  # y x^(y-1)
    np.testing.assert_allclose(y.grad.data, [0.0, 0.0, 8.0 * np.log(2.0)], rtol=1e-15)  # x^y ln x
    for base, exponent in [(0.0, 3.0), (0.0, 0.0)]:
        b, e = Value(base), Value(exponent)
        (b**e).backward()
        assert (b.grad, e.grad) == (0.0, 0.0)
