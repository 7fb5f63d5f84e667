"""Bad input gets a clear error that names the op, the shapes or values, and what was expected."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import GraphFreedError, Tensor, Value


@pytest.mark.parametrize(
    ("fn", "op"),
    [
        (lambda a, b: a + b, "add"),
        (lambda a, b: a - b, "sub"),
        (lambda a, b: a * b, "mul"),
        (lambda a, b: a / b, "div"),
        (lambda a, b: a**b, "pow"),
        (tg.maximum, "maximum"),
    ],
)
def test_broadcast_mismatch_names_op_and_both_shapes(fn, op: str) -> None:
    a, b = Tensor(np.ones((2, 3)), requires_grad=True), Tensor(np.ones((4,)))
    with pytest.raises(ValueError, match=rf"{op}: shapes \(2, 3\) and \(4,\) cannot be broadcast"):
        fn(a, b)


def test_where_and_compare_broadcast_mismatch() -> None:
    with pytest.raises(ValueError, match=r"where: shapes"):
        tg.where(np.ones(3, bool), Tensor(np.ones(2)), 0.0)
    with pytest.raises(ValueError, match=r"lt: shapes \(3,\) and \(2,\)"):
        _ = Tensor(np.ones(3)) < Tensor(np.ones(2))


@pytest.mark.parametrize(
    ("sx", "sy", "pattern"),
    [
        ((2, 3), (2, 3), r"matmul: shapes \(2, 3\) and \(2, 3\) are not aligned.*\(3\).*\(2\)"),
        ((3,), (4,), r"matmul: shapes \(3,\) and \(4,\) are not aligned"),
        ((2, 2, 3), (4, 3, 1), r"matmul: shapes \(2, 2, 3\) and \(4, 3, 1\): the batch axes \(2,\) and \(4,\) cannot"),
        ((), (3,), r"matmul: operands must have at least 1 dimension"),
    ],
)
def test_matmul_mismatch_names_both_shapes(sx, sy, pattern: str) -> None:
    with pytest.raises(ValueError, match=pattern):
        Tensor(np.ones(sx)) @ Tensor(np.ones(sy))


def test_backward_without_requires_grad() -> None:
    with pytest.raises(RuntimeError, match="does not require grad"):
        (Tensor([1.0, 2.0]) * 2).sum().backward()
    with tg.no_grad():
        y = (Tensor([1.0], requires_grad=True) * 2).sum()
    with pytest.raises(RuntimeError, match="does not require grad"):
        y.backward()


def test_non_scalar_backward_needs_gradient() -> None:
    x = Tensor(np.ones((2, 2)), requires_grad=True)
    with pytest.raises(RuntimeError, match=r"shape \(2, 2\), not a scalar.*gradient="):
        (x * 2).backward()
    with pytest.raises(ValueError, match=r"gradient has shape \(3,\) but the output has shape \(2, 2\)"):
        (x * 2).backward(gradient=np.ones(3))


def test_second_backward_without_retain_graph() -> None:
    x = Tensor([1.0], requires_grad=True)
    y = (x.exp() * 2).sum()
    y.backward()
    with pytest.raises(GraphFreedError, match="retain_graph=True"):
        y.backward()


@pytest.mark.parametrize(
    "fn",
    [
        lambda t, v: t + v,
        lambda t, v: v + t,
        lambda t, v: t * v,
        lambda t, v: v * t,
        lambda t, v: Tensor(v),
        lambda t, v: tg.maximum(t, v),
    ],
)
def test_mixing_value_and_tensor_explains_the_conversion(fn) -> None:
    with pytest.raises(TypeError, match=r"Value.*Tensor|Tensor.*Value") as info:
        fn(Tensor([1.0, 2.0], requires_grad=True), Value(3.0))
    message = str(info.value)
    assert "Tensor(v.data)" in message or "Tensor(" in message
    assert "item()" in message


def test_grad_unused_input() -> None:
    x, unused = Tensor([1.0], requires_grad=True), Tensor([2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"grad: input 1 \(shape \(1,\)\) is not used.*allow_unused=True"):
        tg.grad((x * 2).sum(), [x, unused])
    constant = Tensor([2.0])  # PyTorch raises too: a constant has no gradient to ask for
    with pytest.raises(RuntimeError, match=r"grad: input 1 \(shape \(1,\)\) does not require grad"):
        tg.grad((x * constant).sum(), [x, constant], allow_unused=True)


@pytest.mark.parametrize(
    ("fn", "exc", "pattern"),
    [
        (lambda t: t.sum(axis=2), ValueError, r"sum: axis 2 is out of range for a tensor with 2 dimensions"),
        (lambda t: t.mean(axis=(0, 0)), ValueError, r"repeated axis"),
        (lambda t: t.reshape(5), ValueError, r"reshape: cannot reshape a tensor of shape \(2, 3\) to \(5,\)"),
        (lambda t: t.squeeze(1), ValueError, r"squeeze: axis 1 has size 3, not 1"),
        (lambda t: t.unsqueeze(4), ValueError, r"unsqueeze: axis 4 out of range for shape \(2, 3\)"),
        (lambda t: t.permute(0, 0), ValueError, r"permute: \(0, 0\) is not a permutation"),
        (lambda t: t.expand(4, 3), ValueError, r"expand: .*\(2, 3\).*\(4, 3\)"),
        (lambda t: t[5], IndexError, r"getitem: index 5 is invalid for shape \(2, 3\)"),
        (lambda t: t[np.array([0.5])], IndexError, r"getitem: tensors used as indices must be integer or bool"),
        (lambda t: t.pad(((1, 1),)), ValueError, r"pad: expected 2 non-negative"),
        (lambda t: t.item(), ValueError, r"item: only one-element tensors .* shape \(2, 3\)"),
        (lambda t: t.max(axis=5), ValueError, r"max: axis 5 is out of range"),
        (lambda t: t.var(axis=0, ddof=2), ValueError, r"var: 2 elements with ddof=2"),
        (lambda t: tg.concatenate([t, Tensor(np.ones((3, 3)))], axis=1), ValueError, r"concatenate: shapes"),
        (lambda t: tg.stack([t, Tensor(np.ones(3))]), ValueError, r"stack: all tensors need the same shape"),
        (lambda t: bool(t), ValueError, r"truth value of a tensor of shape \(2, 3\) is ambiguous"),
        (lambda t: t.cast(np.complex64), TypeError, r"cast: unknown or unsupported dtype .*complex64"),
        # sizes and axes must be integers: int() would silently truncate 2.5 to 2
        (lambda t: t.reshape(1.5, 4), TypeError, r"reshape: the new shape's sizes must be integers, got \(1\.5, 4\)"),
        (lambda t: t.reshape(3.0, 2), TypeError, r"reshape: .*must be integers"),
        (lambda t: t.sum(axis=(0.5,)), TypeError, r"sum: axes must be integers, got \(0\.5,\)"),
        (lambda t: t.sum(axis=([0],)), TypeError, r"sum: axes must be integers"),
        (lambda t: t.mean(axis=1.0), TypeError, r"mean: axis must be an int, a tuple of ints or None, got 1\.0"),
        (lambda t: t.expand(2.0, 3), TypeError, r"expand: the sizes of the target shape must be integers"),
        # axis out of range, named by the op the user called
        (lambda t: t.mean(axis=3), ValueError, r"mean: axis 3 is out of range"),
        (lambda t: t.softmax(axis=2), ValueError, r"softmax: axis 2 is out of range"),
        (lambda t: t.log_softmax(axis=-3), ValueError, r"log_softmax: axis -3 is out of range"),
        (lambda t: t.logsumexp(axis=2), ValueError, r"logsumexp: axis 2 is out of range"),
        (lambda t: t.swapaxes(0, 5), ValueError, r"swapaxes: axis 5 is out of range"),
        (lambda t: t.flatten(3), ValueError, r"flatten: axis 3 is out of range"),
        (lambda t: t.flatten(1, 0), ValueError, r"flatten: start_axis 1 comes after end_axis 0"),
        (lambda t: tg.concatenate([t, t], axis=2), ValueError, r"concatenate: axis 2 is out of range"),
    ],
)
def test_shape_and_argument_errors(fn, exc: type[Exception], pattern: str) -> None:
    with pytest.raises(exc, match=pattern):
        fn(Tensor(np.ones((2, 3)), requires_grad=True))


def test_bad_data_and_dtype() -> None:
    with pytest.raises(TypeError, match=r"Tensor: cannot make a float tensor from complex128 data"):
        Tensor(np.ones(2, complex))
    with pytest.raises(TypeError, match=r"Tensor: cannot make a float tensor from <U1 data"):
        Tensor(["a"])
    with pytest.raises(TypeError, match=r"Tensor: float128 data is not supported; expected float32 or float64"):
        Tensor(np.ones(2, np.longdouble))
    with pytest.raises(ValueError, match=r"Tensor: cannot make an array from this list"):
        Tensor([[1.0], [1.0, 2.0]])
    with pytest.raises(TypeError, match=r"zeros: unknown or unsupported dtype .*int8.*; expected one of float32"):
        tg.zeros(2, dtype=np.int8)
    with pytest.raises(ValueError, match=r"randn: the shape \(2, -1\) has a negative size"):
        tg.randn(2, -1, seed=0)
    with pytest.raises(TypeError, match=r"ones: the shape must be integers, got \(2\.5,\)"):
        tg.ones(2.5)
    with pytest.raises(ValueError, match=r"uniform: expected low <= high, got low=1\.0, high=0\.0"):
        tg.uniform((2,), 1.0, 0.0, seed=0)
    with pytest.raises(TypeError, match=r"set_default_dtype: expected float32 or float64, got int64"):
        tg.set_default_dtype(np.int64)
    with pytest.raises(TypeError, match=r"len\(\) of a 0-d tensor"):
        len(Tensor(1.0))


def test_mean_over_an_empty_axis_is_a_clear_error() -> None:
    # 1/n with n = 0 used to surface as a bare "ZeroDivisionError: float division by zero"
    empty = Tensor(np.zeros((0, 3)), requires_grad=True)
    with pytest.raises(ValueError, match=r"mean: cannot average 0 elements \(axis=0 of a tensor of shape \(0, 3\)\)"):
        empty.mean(axis=0)
    with pytest.raises(ValueError, match=r"mean: cannot average 0 elements"):
        empty.mean()
    assert empty.mean(axis=1).shape == (0,)  # 3 elements per (absent) row: fine
