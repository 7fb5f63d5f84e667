"""The public testing kit: its strategies respect their domains, and assert_grad_close fails with the table."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_edu import GradcheckError, Tensor, Value, where
from tinygrad_edu.primitives import Primitive
from tinygrad_edu.testing import (
    HIDDEN_ACTIVATIONS,
    MLPSpec,
    arrays,
    assert_grad_close,
    broadcastable_shapes,
    floats,
    intervals,
    matmul_shapes,
    mlp_architectures,
    shapes,
    tensors,
    values,
)

# ============================================================== domains


def test_intervals_are_built_constructively() -> None:
    assert intervals(-5, 5, away_from=(0,)) == [(-5.0, -0.001), (0.001, 5.0)]
    assert intervals(-5, 5, positive=True) == [(0.001, 5.0)]
    assert intervals(-1, 1, away_from=(0, 1), margin=0.1) == [(-1.0, -0.1), (0.1, 0.9)]
    assert intervals(0, 10, away_from=(20,)) == [(0.0, 10.0)]
    with pytest.raises(ValueError, match="no numbers left"):
        intervals(-0.01, 0.01, away_from=(0,), margin=0.1)
    with pytest.raises(ValueError, match="low <= high"):
        intervals(1, 0)


@given(floats(-3, 3, away_from=(0, 1.5), margin=0.01))
def test_floats_stay_in_bounds_and_away_from_kinks(x: float) -> None:
    assert -3 <= x <= 3
    assert abs(x) >= 0.01 and abs(x - 1.5) >= 0.01


@given(floats(-10, 10, positive=True))
def test_positive_floats(x: float) -> None:
    assert 1e-3 <= x <= 10


@given(floats(-1, 1, away_from=(0,), width=32))
def test_float32_floats_are_representable_and_respect_the_margin(x: float) -> None:
    assert float(np.float32(x)) == x
    assert abs(x) >= 1e-3


@given(arrays(shapes(max_dims=2), low=-2, high=2, away_from=(0,), unique=True))
def test_arrays_respect_the_domain_and_uniqueness(a: np.ndarray) -> None:
    assert a.dtype == np.float64 and a.ndim <= 2 and all(1 <= n <= 4 for n in a.shape)
    assert np.all(np.abs(a) >= 1e-3) and np.all(np.abs(a) <= 2)
    assert len(np.unique(a)) == a.size


@given(tensors((2, 3), dtype=np.float32, positive=True), values(-1, 1, label="v"))
def test_tensors_and_values(t: Tensor, v: Value) -> None:
    assert isinstance(t, Tensor) and t.requires_grad and t.shape == (2, 3) and t.dtype == np.float32
    assert np.all(t.data > 0)
    assert isinstance(v, Value) and v.label == "v" and -1 <= v.data <= 1


@given(broadcastable_shapes(num_shapes=3))
def test_broadcastable_shapes_broadcast(shapes3) -> None:
    assert np.broadcast_shapes(*shapes3.input_shapes) == shapes3.result_shape


@given(matmul_shapes())
def test_matmul_shapes_multiply(ms) -> None:
    a, b = (np.ones(s) for s in ms.input_shapes)
    assert (a @ b).shape == ms.result_shape


@given(mlp_architectures(n_inputs=(2, 3), hidden_layers=(1, 2), width=(1, 4), activations=("relu", "tanh")))
def test_mlp_architectures(spec: MLPSpec) -> None:
    assert 2 <= spec.sizes[0] <= 3 and 2 <= spec.n_layers <= 3
    assert all(1 <= n <= 4 for n in spec.sizes[1:-1])
    assert spec.activation in ("relu", "tanh") and spec.output in ("sigmoid", "softmax")
    if spec.output == "softmax":
        assert spec.sizes[-1] >= 2


def test_mlp_architectures_rejects_unknown_activations() -> None:
    with pytest.raises(ValueError, match="unknown activations"):
        mlp_architectures(activations=("swish",))
    assert set(HIDDEN_ACTIVATIONS) == {"sigmoid", "tanh", "relu", "leaky_relu"}


# ============================================================== assert_grad_close


@given(tensors(low=-3, high=3, away_from=(0,)), tensors(low=-3, high=3))
def test_assert_grad_close_on_composed_ops(x: Tensor, y: Tensor) -> None:
    # kinks of relu, abs, leaky relu are all at 0, which the x strategy avoids
    assert_grad_close(lambda x: (x.relu() * 2.0 + x.abs() + x.leaky_relu(0.1)).sum(), x)
    assert_grad_close(lambda x: x.tanh() * x.sigmoid(), x)  # non-scalar output
    # softmax over an axis of length 1 is the constant 1: an all-zero Jacobian, a vacuous check
    assert_grad_close(lambda y: y.softmax(axis=-1) if y.ndim and y.shape[-1] > 1 else y.exp(), y)


def _tensors_for(shapes2) -> st.SearchStrategy:
    return st.tuples(*(tensors(shape, low=-2, high=2) for shape in shapes2.input_shapes))


@given(broadcastable_shapes().flatmap(_tensors_for))
def test_assert_grad_close_across_broadcasting(pair) -> None:
    x, y = pair
    assert_grad_close(lambda x, y: x * y + y.exp(), x, y)


class HalfSigmoidGrad(Primitive):
    name = "half_sigmoid_grad"

    @staticmethod
    def forward(x):
        return 1.0 / (1.0 + np.exp(-x))

    @staticmethod
    def backward(g, out, x):
        return (g * out * (1.0 - out) * 0.5,)


def test_assert_grad_close_fails_with_the_table() -> None:
    x = Tensor([0.5, -1.0, 2.0], requires_grad=True, label="x")
    with pytest.raises(GradcheckError) as info:
        assert_grad_close(lambda x: Tensor._apply(HalfSigmoidGrad, x).sum(), x)
    message = str(info.value)
    assert "gradcheck FAILED" in message and "max abs err" in message and "x (#0)" in message
    assert "half_sigmoid_grad" in message
    with pytest.raises(AssertionError):  # GradcheckError is an AssertionError
        assert_grad_close(lambda x: Tensor._apply(HalfSigmoidGrad, x).sum(), x)


def test_assert_grad_close_returns_the_result_and_passes_options() -> None:
    x = Tensor([0.5, -1.0], requires_grad=True)
    result = assert_grad_close(lambda x: where(x > 0, x * x, x * 3.0).sum(), x, eps=1e-5, rtol=1e-3)
    assert result.ok and result.eps == 1e-5 and result.rtol == 1e-3


def test_importing_the_package_does_not_import_hypothesis() -> None:
    code = (
        "import sys, tinygrad_edu; "
        "assert 'tinygrad_edu.testing' not in sys.modules, 'testing imported'; "
        "assert 'hypothesis' not in sys.modules, 'hypothesis imported'"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
