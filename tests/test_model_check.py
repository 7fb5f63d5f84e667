"""gradcheck_model: a Module's d loss / d parameter checked in place, named by layer, model restored exactly."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import Function, GradcheckError, Tensor, gradcheck_model, nn


class WrongSquare(Function):
    """z = x^2 with a WRONG derivative x (should be 2x)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * x


class SquareLayer(nn.Module):
    """A parameter-free layer built on the wrong custom op."""

    def forward(self, x):
        return WrongSquare.apply(x)


class Scale(nn.Module):
    """y = s * x with a learnable scale vector s."""

    def __init__(self, n: int) -> None:
        super().__init__()
        self.s = nn.Parameter(np.linspace(0.5, 1.5, n))

    def forward(self, x):
        return x * self.s


def _batch(seed: int = 0, n: int = 8, features: int = 3, classes: int = 3):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, features)), rng.integers(0, classes, size=n)


def test_an_mlp_passes_with_rows_named_by_state_dict_and_lecture_names() -> None:
    X, y = _batch()
    model = nn.MLP([3, 5, 3], activation="tanh", seed=0)
    result = gradcheck_model(model, nn.cross_entropy, X, y)
    assert result.ok, result.report()
    assert [c.name for c in result.inputs] == ["0.weight = W[1]", "0.bias = b[1]", "2.weight = W[2]", "2.bias = b[2]"]
    assert result.failing_layer == "" and "0.weight = W[1] (#0)" in result.report()


def test_a_wrong_custom_op_fails_and_the_report_names_its_layer() -> None:
    X, y = _batch(1)
    model = nn.Sequential(nn.Linear(3, 4, seed=0), SquareLayer(), Scale(4), nn.Linear(4, 3, seed=1))
    result = gradcheck_model(model, nn.cross_entropy, X, y)
    assert not result.ok
    assert result.failing_layer == "'1' (SquareLayer)"
    report = result.report()
    assert "first failing layer (in backward order): '1' (SquareLayer)" in report
    assert "'WrongSquare'" in report and "(layer '1')" in report
    failing = {c.name for c in result.inputs if not c.ok}
    assert failing == {"0.weight = W[1]", "0.bias = b[1]"}  # after the wrong op (towards the loss) all is right
    with pytest.raises(GradcheckError, match="SquareLayer"):
        gradcheck_model(model, nn.cross_entropy, X, y, raise_on_failure=True)


def test_without_a_suspect_the_failing_parameter_nearest_the_loss_names_the_layer() -> None:
    X, y = _batch(2)
    model = nn.Sequential(nn.Linear(3, 4, seed=0), SquareLayer(), Scale(4), nn.Linear(4, 3, seed=1))
    result = gradcheck_model(model, nn.cross_entropy, X, y, locate=False)
    assert not result.ok and result.suspects == [] and result.failing_layer == "'0' (Linear)"


def test_the_model_is_left_exactly_as_it_was() -> None:
    X, y = _batch(3)
    model = nn.Sequential(
        nn.Linear(3, 4, seed=0, dtype=np.float32), nn.Dropout(0.5, seed=0), SquareLayer(), nn.Linear(4, 3, seed=1)
    )
    model.train()
    model[3].eval()  # mixed training flags must come back exactly
    params = model.parameters()
    arrays = [p.data for p in params]
    values = [p.data.copy() for p in params]
    grads = [Tensor(np.full(p.shape, 7.0)) if k % 2 else None for k, p in enumerate(params)]
    for p, g in zip(params, grads):
        p.grad = g
    flags = [m.training for m in model.modules()]
    rng_state = model[1]._rng.bit_generator.state
    attributes = [dict(vars(m)) for m in model.modules()]

    failing = gradcheck_model(model, nn.cross_entropy, X, y)  # a failing check (wrong op), with localisation
    assert not failing.ok
    passing = gradcheck_model(model, nn.cross_entropy, X, y, params=["3.weight", "3.bias"], train=True)
    with pytest.raises(ZeroDivisionError):
        gradcheck_model(model, lambda out, y: 1 / 0, X, y)  # loss_fn raises mid-check

    for p, array, value, grad in zip(params, arrays, values, grads):
        assert p.data is array and p.data.dtype == value.dtype
        np.testing.assert_array_equal(p.data, value)
        assert p.grad is grad
    assert [m.training for m in model.modules()] == flags
    assert model[1]._rng.bit_generator.state == rng_state and model[1].mask is None
    assert [dict(vars(m)) for m in model.modules()] == attributes
    assert passing.ok or passing.inputs  # (train=True makes dropout random: only restoration matters here)


def test_float32_models_are_checked_in_float64() -> None:
    X, y = _batch(4)
    model = nn.MLP([3, 4, 3], activation="sigmoid", seed=0, dtype=np.float32)
    result = gradcheck_model(model, nn.cross_entropy, X.astype(np.float32), y)
    assert result.ok and max(c.max_abs_error for c in result.inputs) < 1e-8
    assert all(p.dtype == np.float32 for p in model.parameters())


def test_a_loss_of_the_model_itself_with_a_penalty_over_the_model() -> None:
    X, y = _batch(5)
    model = nn.MLP([3, 4, 3], activation="tanh", seed=2)
    lam, n = 0.8, len(y)
    result = gradcheck_model(model, lambda m: nn.cross_entropy(m(X), y) + nn.l2_penalty(m, lam, n))
    assert result.ok
    # the penalty is seen: its gradient (lambda/m) W is part of what was compared
    plain = gradcheck_model(model, nn.cross_entropy, X, y)
    diff = result.inputs[0].analytic[0] - plain.inputs[0].analytic[0]
    np.testing.assert_allclose(diff, lam / n * model[0].weight.data, rtol=1e-8)


def test_an_unused_parameter_is_named() -> None:
    class WithSpare(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.fc = nn.Linear(3, 3, seed=0)
            self.spare = nn.Linear(3, 3, seed=1)

        def forward(self, x):
            return self.fc(x)

    X, y = _batch(6)
    result = gradcheck_model(WithSpare(), nn.cross_entropy, X, y)
    assert not result.ok and "input #2 (spare.weight = W[2]) is not used by the function" in result.report()
    assert gradcheck_model(WithSpare(), nn.cross_entropy, X, y, allow_unused=True).ok


def test_params_by_name_or_object_and_clear_errors() -> None:
    X, y = _batch(7)
    model = nn.MLP([3, 4, 3], seed=0)
    by_name = gradcheck_model(model, nn.cross_entropy, X, y, params=["2.weight"])
    by_object = gradcheck_model(model, nn.cross_entropy, X, y, params=[model[2].weight])
    assert [c.name for c in by_name.inputs] == [c.name for c in by_object.inputs] == ["2.weight = W[2]"]
    with pytest.raises(ValueError, match=r"'fc9.weight' is not a parameter of the model; its parameters are \["):
        gradcheck_model(model, nn.cross_entropy, X, y, params=["fc9.weight"])
    with pytest.raises(TypeError, match="gradcheck_model: model must be an nn.Module"):
        gradcheck_model(lambda x: x, nn.cross_entropy, X, y)
    with pytest.raises(TypeError, match="loss_fn must be callable"):
        gradcheck_model(model, "cross_entropy", X, y)
    with pytest.raises(ValueError, match="has no parameters"):
        gradcheck_model(nn.Sequential(nn.Tanh()), nn.cross_entropy, X, y)
    assert tg.gradcheck_model is gradcheck_model
