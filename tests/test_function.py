"""tg.Function: custom ops with their own backward, in graphs, drawings, explanations and gradcheck."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import Function, Tensor, gradcheck


class Cube(Function):
    """z = x^3;  dz/dx = 3 x^2, so dL/dx = g * 3 x^2."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x**3

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * 3 * x**2


class BadCube(Function):
    """z = x^3 with a WRONG derivative 2 x^2."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x**3

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * 2 * x**2


class ScaledExp(Function):
    """z = e^(alpha x);  dz/dx = alpha z, so dL/dx = g * alpha * z (saves the output)."""

    name = "scaled_exp"

    @staticmethod
    def forward(ctx, x, alpha=1.0):
        out = np.exp(alpha * x)
        ctx.save_for_backward(out)
        ctx.alpha = alpha
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        return g * ctx.alpha * out


class BroadcastMul(Function):
    """z = x * y with numpy broadcasting;  dL/dx = sum over broadcast axes of g * y, same for y."""

    calls: list[tuple[bool, ...]] = []

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return x * y

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        BroadcastMul.calls.append(ctx.needs_input_grad)
        gx = _unbroadcast(g * y, x.shape) if ctx.needs_input_grad[0] else None
        gy = _unbroadcast(g * x, y.shape) if ctx.needs_input_grad[1] else None
        return gx, gy


def _unbroadcast(g: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    g = g.sum(axis=tuple(range(g.ndim - len(shape)))) if g.ndim > len(shape) else g
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and g.shape[i] != 1)
    return g.sum(axis=axes, keepdims=True) if axes else g


class TensorCube(Function):
    """z = x^3;  dL/dx = g * 3 x^2, written in Tensor ops so it can be differentiated again."""

    tensor_backward = True

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x**3

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * 3.0 * x * x


def _x(*values: float, label: str = "x") -> Tensor:
    return Tensor(np.array(values), requires_grad=True, label=label)


def test_forward_backward_and_the_graph() -> None:
    x = _x(0.5, -1.0, 2.0)
    y = Cube.apply(x)
    assert isinstance(y, Tensor) and y.requires_grad and y._op == "Cube" and y._parents == (x,)
    np.testing.assert_allclose(y.data, x.data**3)
    (y * Tensor([1.0, 2.0, 3.0])).sum().backward()
    np.testing.assert_allclose(x.grad.data, np.array([1.0, 2.0, 3.0]) * 3 * x.data**2)
    with tg.no_grad():
        assert not Cube.apply(x).requires_grad
    assert not Cube.apply(Tensor([1.0])).requires_grad  # a constant input: nothing recorded


def test_gradcheck_passes_a_right_backward_and_names_a_wrong_one_as_suspect() -> None:
    x = _x(0.5, -1.0, 2.0)
    assert gradcheck(lambda x: Cube.apply(x * 2.0), x).ok
    result = gradcheck(lambda x: (BadCube.apply(x * 2.0) * 1.5).sum(), x)
    assert not result.ok
    assert [s.op for s in result.suspects] == ["BadCube"] and result.suspects[0].primitive == "BadCube"
    assert "'BadCube' (tg.Function BadCube)" in result.report()
    assert x.grad is None


def test_params_saved_outputs_and_attributes_on_ctx() -> None:
    x = _x(0.1, -0.4)
    y = ScaledExp.apply(x, alpha=0.5)
    assert y._op == "scaled_exp" and y._params == {"alpha": 0.5, "_function_class": ScaledExp}
    np.testing.assert_allclose(y.data, np.exp(0.5 * x.data))
    assert gradcheck(lambda x: ScaledExp.apply(x, alpha=-1.5), x).ok
    with pytest.raises(TypeError, match="keyword 'alpha' is a Tensor; pass tensors positionally"):
        ScaledExp.apply(x, alpha=Tensor(1.0))


def test_broadcasting_needs_input_grad_and_constant_arguments() -> None:
    a = Tensor(np.random.default_rng(0).standard_normal((3, 1)), requires_grad=True)
    b = Tensor(np.random.default_rng(1).standard_normal((4,)), requires_grad=True)
    assert gradcheck(lambda a, b: BroadcastMul.apply(a, b), a, b).ok
    BroadcastMul.calls.clear()
    BroadcastMul.apply(a, np.array([1.0, 2.0, 3.0, 4.0])).sum().backward()  # an array becomes a constant
    assert BroadcastMul.calls == [(True, False)]
    np.testing.assert_allclose(a.grad.data, np.full((3, 1), 10.0))


def test_a_forgotten_broadcast_reduction_is_a_clear_error() -> None:
    class NoReduce(Function):
        @staticmethod
        def forward(ctx, x, y):
            ctx.save_for_backward(x, y)
            return x * y

        @staticmethod
        def backward(ctx, g):
            x, y = ctx.saved_tensors
            return g * y, g * x

    a, b = Tensor(np.ones((3, 1)), requires_grad=True), Tensor(np.ones(4), requires_grad=True)
    with pytest.raises(ValueError, match=r"NoReduce.backward returned a gradient of shape \(3, 4\) for input 0"):
        NoReduce.apply(a, b).sum().backward()


def test_create_graph_needs_a_tensor_backward() -> None:
    x = _x(0.5, -1.0, 2.0)
    with pytest.raises(RuntimeError, match="create_graph=True.*through Cube.*tensor_backward = True"):
        tg.grad(Cube.apply(x).sum(), x, create_graph=True)
    (g,) = tg.grad(TensorCube.apply(x).sum(), x, create_graph=True)
    np.testing.assert_allclose(g.data, 3 * x.data**2)
    (h,) = tg.grad(g.sum(), x)
    np.testing.assert_allclose(h.data, 6 * x.data)  # the second derivative is right
    assert gradcheck(lambda x: tg.grad(TensorCube.apply(x).sum(), x, create_graph=True)[0], x).ok


def test_tensor_backward_may_save_only_inputs_and_outputs() -> None:
    class SavesIntermediate(Function):
        tensor_backward = True

        @staticmethod
        def forward(ctx, x):
            square = x * x
            ctx.save_for_backward(square)
            return square * x

        @staticmethod
        def backward(ctx, g):
            (square,) = ctx.saved_tensors
            return g * 3.0 * square

    with pytest.raises(TypeError, match="neither an input nor the output"):
        SavesIntermediate.apply(_x(1.0))


def test_ops_may_not_change_their_arrays_in_place() -> None:
    class Doubler(Function):
        @staticmethod
        def forward(ctx, x):
            x *= 2.0
            return x

        @staticmethod
        def backward(ctx, g):
            return g * 2.0

    x = _x(1.0, 2.0)
    with pytest.raises(ValueError, match=r"Doubler.forward changed one of its arrays in place .*x = x \* 2"):
        Doubler.apply(x)
    np.testing.assert_array_equal(x.data, [1.0, 2.0])

    class GradEditor(Function):
        @staticmethod
        def forward(ctx, x):
            return x + 0.0

        @staticmethod
        def backward(ctx, g):
            g += 1.0
            return g

    with pytest.raises(ValueError, match="GradEditor.backward changed one of its arrays in place"):
        GradEditor.apply(x).sum().backward()


def test_identity_output_owns_its_data_and_dtypes_follow_the_inputs() -> None:
    class Identity(Function):
        @staticmethod
        def forward(ctx, x):
            return x

        @staticmethod
        def backward(ctx, g):
            return g

    x = _x(1.0, 2.0)
    y = Identity.apply(x)
    assert not np.may_share_memory(y.data, x.data) and y.data.flags.writeable
    x32 = Tensor(np.array([1.0, 2.0], dtype=np.float32), requires_grad=True)
    y32 = Cube.apply(x32)
    assert y32.dtype == np.float32
    y32.sum().backward()
    assert x32.grad.dtype == np.float32


def test_bad_definitions_and_calls_get_clear_errors() -> None:
    class TwoOutputs(Function):
        @staticmethod
        def forward(ctx, x):
            return x, x

        @staticmethod
        def backward(ctx, g):
            return g

    class TooManyGrads(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2.0

        @staticmethod
        def backward(ctx, g):
            return g, g

    class NoBackward(Function):
        @staticmethod
        def forward(ctx, x):
            return x

    x = _x(1.0)
    with pytest.raises(TypeError, match="TwoOutputs.forward returned a tuple; it must return one array"):
        TwoOutputs.apply(x)
    with pytest.raises(ValueError, match=r"TooManyGrads.backward returned 2 gradient\(s\) for 1 input\(s\)"):
        TooManyGrads.apply(x).sum().backward()
    with pytest.raises(NotImplementedError, match="NoBackward must define the static method backward"):
        NoBackward.apply(x)
    with pytest.raises(TypeError, match="subclass tg.Function"):
        Function.apply(x)
    with pytest.raises(TypeError, match="needs at least one input"):
        Cube.apply()


def test_drawn_and_explained_after_a_normal_backward() -> None:
    x = _x(0.5, -1.0, label="x")
    loss = (ScaledExp.apply(x, alpha=2.0) * Tensor([1.0, -1.0])).sum()
    loss.backward()  # releases the graph's saved state: explain re-runs the forward to rebuild ctx

    class Impostor(ScaledExp):  # the same op name, another formula: never confused with the node's own class
        """z = something else entirely."""

        name = "scaled_exp"

        @staticmethod
        def backward(ctx, g):
            return g * 0.0

    assert "scaled_exp" in tg.viz.draw_graph(loss).source
    text = str(tg.viz.explain_backward(loss))
    assert "z = e^(alpha x);  dz/dx = alpha z" in text and "something else" not in text
    assert Impostor.apply(x)._op == "scaled_exp"
    explained = tg.viz.explain_backward(loss).gradient(x)
    np.testing.assert_allclose(explained, x.grad.data)


def test_a_second_backward_through_a_released_function_raises() -> None:
    x = _x(0.5)
    y = Cube.apply(x).sum()
    y.backward()
    with pytest.raises(tg.GraphFreedError):
        y.backward()
    z = Cube.apply(x).sum()
    z.backward(retain_graph=True)
    z.backward()
    np.testing.assert_allclose(x.grad.data, 3 * 3 * 0.25)


def test_detect_anomaly_sees_function_ops() -> None:
    class LogOp(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            with np.errstate(invalid="ignore"):
                return np.log(x)

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g / x

    with pytest.raises(tg.AnomalyError, match="LogOp"):
        with tg.detect_anomaly():
            LogOp.apply(_x(-1.0))


def test_an_in_place_change_of_a_saved_input_is_caught_and_an_unsaved_one_is_harmless() -> None:
    x = _x(0.5, -1.0)
    y = Cube.apply(x)  # saves x
    with tg.no_grad():
        x.add_(1.0)  # the optimiser-step pattern, but before backward
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()

    class AddOne(Function):
        """z = x + 1 (saves nothing)."""

        @staticmethod
        def forward(ctx, x):
            return x + 1.0

        @staticmethod
        def backward(ctx, g):
            return g

    w = _x(0.5, -1.0)
    z = AddOne.apply(w).sum()
    with tg.no_grad():
        w.add_(1.0)  # AddOne saved nothing, so its gradient does not depend on w's value: no error
    z.backward()
    np.testing.assert_allclose(w.grad.data, [1.0, 1.0])
