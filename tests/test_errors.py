"""Bad input gets a clear error: one test per mistake, asserting the message names the op,
the shapes or values involved, and what was expected.

The messages are part of the teaching interface, so each test pins the informative part
(op name, both shapes, the offending value) with a regex, not only the exception type.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import tinygrad_edu.nn as nn
from tinygrad_edu import GraphFreedError, Tensor, Value, no_grad
from tinygrad_edu.nn import losses


def _t(*shape: int, requires_grad: bool = True) -> Tensor:
    return Tensor(np.arange(float(np.prod(shape))).reshape(shape) + 1.0, requires_grad=requires_grad)


# ------------------------------------------------------------------ shapes


def test_broadcast_mismatch_names_op_and_both_shapes() -> None:
    with pytest.raises(ValueError, match=r"add: shapes \(2, 3\) and \(4,\) cannot be broadcast.*3 and 4"):
        _t(2, 3) + _t(4)


def test_broadcast_mismatch_in_a_composed_op_still_names_shapes() -> None:
    with pytest.raises(ValueError, match=r"mul: shapes \(3, 2\) and \(3,\) cannot be broadcast"):
        _t(3, 2) * _t(3)  # the classic column-vs-row mistake


def test_matmul_inner_dimensions_differ() -> None:
    with pytest.raises(ValueError, match=r"matmul: shapes \(2, 3\) and \(4, 5\) are not aligned.*\(3\).*\(4\)"):
        _t(2, 3) @ _t(4, 5)


def test_matmul_batch_dimensions_differ() -> None:
    expected = r"matmul: shapes \(2, 3, 4\) and \(5, 4, 2\): the batch axes \(2,\) and \(5,\) cannot be broadcast"
    with pytest.raises(ValueError, match=expected):
        _t(2, 3, 4) @ _t(5, 4, 2)


def test_matmul_of_a_scalar() -> None:
    with pytest.raises(ValueError, match=r"matmul: operands must have at least 1 dimension.*\(\) and \(3,\)"):
        Tensor(2.0) @ _t(3)


def test_reshape_to_wrong_size() -> None:
    with pytest.raises(ValueError, match=r"reshape: cannot reshape a tensor of shape \(2, 3\) to \(4, 2\)"):
        _t(2, 3).reshape(4, 2)


def test_axis_out_of_range() -> None:
    with pytest.raises(ValueError, match=r"sum: axis 2 is out of range for a tensor with 2 dimensions"):
        _t(2, 3).sum(axis=2)


def test_index_out_of_range() -> None:
    with pytest.raises(IndexError, match=r"getitem: index 5 is invalid for shape \(3,\)"):
        _t(3)[5]


# ------------------------------------------------------------------ loss targets

def test_mse_target_shape_mismatch_explains_the_silent_broadcast() -> None:
    with pytest.raises(ValueError, match=r"mse_loss: input has shape \(4, 1\) but target has shape \(4,\).*reshape"):
        losses.mse_loss(_t(4, 1), np.zeros(4))


def test_bce_with_logits_target_shape_mismatch() -> None:
    with pytest.raises(
        ValueError, match=r"binary_cross_entropy_with_logits: input has shape \(1, 5\) but target has shape \(5, 1\)"
    ):
        losses.binary_cross_entropy_with_logits(_t(1, 5), np.zeros((5, 1)))


def test_cross_entropy_label_count_mismatch() -> None:
    with pytest.raises(ValueError, match=r"cross_entropy: labels have shape \(3,\) but the input has 4 rows"):
        losses.cross_entropy(_t(4, 3), np.array([0, 1, 2]))


def test_cross_entropy_label_out_of_range() -> None:
    expected = r"cross_entropy: label 3 at position 1 is out of range for 3 classes.*\[0, 2\]"
    with pytest.raises(ValueError, match=expected):
        losses.cross_entropy(_t(2, 3), np.array([0, 3]))


def test_cross_entropy_negative_label() -> None:
    with pytest.raises(ValueError, match=r"cross_entropy: label -1 at position 0 is out of range"):
        losses.cross_entropy(_t(2, 3), np.array([-1, 0]))


def test_cross_entropy_fractional_label() -> None:
    with pytest.raises(ValueError, match=r"cross_entropy: class labels must be whole numbers, got 0.5"):
        losses.cross_entropy(_t(2, 3), np.array([0.5, 1.0]))


def test_cross_entropy_logits_must_be_2d() -> None:
    with pytest.raises(ValueError, match=r"cross_entropy: logits must have shape \(N, C\).*got \(6,\)"):
        losses.cross_entropy(_t(6), np.array([0]))


# ------------------------------------------------------------------ backward misuse


def test_backward_on_a_non_scalar_without_gradient() -> None:
    y = _t(2, 3) * 2.0
    with pytest.raises(RuntimeError, match=r"backward: the output has shape \(2, 3\), not a scalar.*gradient="):
        y.backward()


def test_backward_with_a_gradient_of_the_wrong_shape() -> None:
    y = _t(2) * 2.0
    with pytest.raises(ValueError, match=r"backward: gradient has shape \(3,\) but the output has shape \(2,\)"):
        y.backward(gradient=np.ones(3))


def test_backward_on_a_tensor_that_needs_no_grad() -> None:
    expected = r"backward: this tensor does not require grad \(shape \(\)\).*requires_grad=True"
    with pytest.raises(RuntimeError, match=expected):
        _t(3, requires_grad=False).sum().backward()


def test_backward_on_a_result_computed_under_no_grad() -> None:
    x = _t(3)
    with no_grad():
        y = (x * 2.0).sum()
    with pytest.raises(RuntimeError, match=r"does not require grad.*no_grad"):
        y.backward()


def test_backward_on_a_value_that_needs_no_grad() -> None:
    with pytest.raises(RuntimeError, match=r"backward: this Value does not require grad"):
        Value(2.0, requires_grad=False).backward()


def test_second_backward_through_a_freed_graph() -> None:
    x = _t(3)
    loss = (x * x).sum()
    loss.backward()
    with pytest.raises(GraphFreedError, match=r"second time.*'sum'.*retain_graph=True"):
        loss.backward()


def test_second_backward_through_a_freed_value_graph() -> None:
    a = Value(3.0)
    out = a * a + 1.0
    out.backward()
    with pytest.raises(GraphFreedError, match=r"second time.*'\+'.*retain_graph=True"):
        out.backward()


def test_retain_graph_allows_the_second_backward() -> None:
    x = _t(3)
    loss = (x * x).sum()
    loss.backward(retain_graph=True)
    loss.backward()  # no error; leaves accumulate: 2 * (2x)
    assert x.grad is not None and np.array_equal(x.grad.data, 4.0 * x.data)


def test_grad_of_an_unused_input() -> None:
    from tinygrad_edu import grad

    x, unused = _t(2), _t(2)
    with pytest.raises(RuntimeError, match=r"grad: input 1 \(shape \(2,\)\) is not used.*allow_unused=True"):
        grad((x * 2.0).sum(), [x, unused])


# ------------------------------------------------------------------ dtypes


def test_object_data_is_rejected() -> None:
    with pytest.raises(TypeError, match=r"Tensor: cannot make a float tensor from object data \(not numbers\)"):
        Tensor(np.array([1.0, None], dtype=object))


def test_string_data_is_rejected() -> None:
    with pytest.raises(TypeError, match=r"Tensor: cannot make a float tensor from <U1 data \(not numbers\)"):
        Tensor(["a", "b"])


def test_complex_data_is_rejected() -> None:
    with pytest.raises(TypeError, match=r"Tensor: cannot make a float tensor from complex128 data \(complex numbers\)"):
        Tensor([1 + 2j])


def test_unsupported_dtype_argument_is_rejected() -> None:
    with pytest.raises(TypeError, match=r"Tensor: unknown or unsupported dtype .*int8.*float32, float64, int32, int64"):
        Tensor([1, 2], dtype=np.int8)
    with pytest.raises(RuntimeError, match=r"Tensor: only float tensors can require gradients, got .* dtype int64"):
        Tensor([1, 2], dtype=np.int64, requires_grad=True)


def test_value_of_a_string_is_rejected() -> None:
    with pytest.raises(TypeError, match=r"Value\(data\) expects a real number, got .*'a'"):
        Value("a")  # type: ignore[arg-type]


def test_value_of_a_complex_is_rejected() -> None:
    with pytest.raises(TypeError, match=r"Value\(data\) expects a real number, got complex"):
        Value(1 + 2j)  # type: ignore[arg-type]


def test_mixing_value_and_tensor_is_rejected() -> None:
    with pytest.raises(TypeError, match=r"cannot mix a Value with a Tensor"):
        Value(1.0) * Tensor([1.0])  # type: ignore[operator]


# ------------------------------------------------------------------ checkpoints

def _model() -> object:
    return nn.Linear(2, 3, seed=0)


def test_load_state_dict_with_wrong_keys_lists_missing_and_unexpected() -> None:
    model = _model()
    before = model.weight.data.copy()
    state = {"weight": np.zeros((3, 2)), "bais": np.zeros(3)}  # typo
    with pytest.raises(nn.StateDictError, match=r"missing keys \['bias'\].*unexpected keys \['bais'\]"):
        model.load_state_dict(state)
    assert np.array_equal(model.weight.data, before)  # nothing was loaded


def test_load_state_dict_with_wrong_shapes_names_both() -> None:
    model = _model()
    state = {"weight": np.zeros((2, 3)), "bias": np.zeros(3)}  # transposed W
    expected = r"shape mismatch for 'weight' \(model expects \(3, 2\), state has \(2, 3\)\)"
    with pytest.raises(nn.StateDictError, match=expected):
        model.load_state_dict(state)


def test_checkpoint_file_with_wrong_keys(tmp_path: Path) -> None:
    from tinygrad_edu import checkpoint

    path = tmp_path / "other.npz"
    checkpoint.save(nn.Sequential(nn.Linear(2, 3, seed=0)), path)  # keys "0.weight", "0.bias"
    with pytest.raises(nn.StateDictError, match=r"missing keys \['weight', 'bias'\]"):
        checkpoint.load(path, into=_model())


def test_checkpoint_file_with_wrong_shapes(tmp_path: Path) -> None:
    from tinygrad_edu import checkpoint

    path = tmp_path / "transposed.npz"
    checkpoint.save(nn.Linear(3, 2, seed=1), path)  # weight (2, 3), bias (2,)
    model = _model()  # Linear(2, 3): weight (3, 2), bias (3,)
    before = model.weight.data.copy()
    expected = (
        r"shape mismatch for 'weight' \(model expects \(3, 2\), state has \(2, 3\)\), "
        r"'bias' \(model expects \(3,\), state has \(2,\)\)"
    )
    with pytest.raises(nn.StateDictError, match=expected):
        checkpoint.load(path, into=model)
    assert np.array_equal(model.weight.data, before)  # nothing was loaded


def test_checkpoint_file_that_does_not_exist(tmp_path: Path) -> None:
    from tinygrad_edu import checkpoint

    with pytest.raises(FileNotFoundError, match=r"load: no checkpoint file at .*missing\.npz"):
        checkpoint.load(tmp_path / "missing.npz")
