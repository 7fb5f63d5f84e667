"""The names and protocols a PyTorch user types: size(), numel(), dim(), dim=/keepdim=, transpose(d0, d1),
view, tg.cat, f"{loss:.4f}", float(), int(), bool(), requires_grad_() -- with PyTorch's results quoted."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import Tensor, Value
from tinygrad_edu.torch_names import accepts_torch_names


@pytest.fixture
def t() -> Tensor:
    return Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)


def test_size_numel_dim(t):
    """torch.zeros(2, 3).size() -> torch.Size([2, 3]); .size(1) -> 3; .size(-1) -> 3; .numel() -> 6; .dim() -> 2."""
    assert t.size() == (2, 3) and t.size(1) == 3 and t.size(-1) == 3 and t.size(dim=0) == 2
    assert t.numel() == 6 and t.dim() == 2 and t.ndim == 2
    assert t.size == 6  # numpy's attribute still works
    with pytest.raises(ValueError, match="size: axis 2 is out of range"):
        t.size(2)


@pytest.mark.parametrize(
    ("torch_call", "numpy_call"),
    [
        (lambda t: t.sum(dim=1, keepdim=True), lambda t: t.sum(axis=1, keepdims=True)),
        (lambda t: t.mean(dim=0), lambda t: t.mean(axis=0)),
        (lambda t: t.max(dim=1), lambda t: t.max(axis=1)),
        (lambda t: t.min(dim=1, keepdim=True), lambda t: t.min(axis=1, keepdims=True)),
        (lambda t: t.var(dim=1, keepdim=True), lambda t: t.var(axis=1, keepdims=True)),
        (lambda t: t.std(dim=0), lambda t: t.std(axis=0)),
        (lambda t: t.logsumexp(dim=1), lambda t: t.logsumexp(axis=1)),
        (lambda t: t.softmax(dim=0), lambda t: t.softmax(axis=0)),
        (lambda t: t.log_softmax(dim=0), lambda t: t.log_softmax(axis=0)),
        (lambda t: t.unsqueeze(dim=0), lambda t: t.unsqueeze(axis=0)),
        (lambda t: t.unsqueeze(dim=0).squeeze(dim=0), lambda t: t.unsqueeze(0).squeeze(axis=0)),
        (lambda t: t.flatten(start_dim=0, end_dim=1), lambda t: t.flatten(start_axis=0, end_axis=1)),
        (lambda t: tg.cat([t, t], dim=1), lambda t: tg.concatenate([t, t], axis=1)),
        (lambda t: tg.stack([t, t], dim=2), lambda t: tg.stack([t, t], axis=2)),
    ],
)
def test_dim_and_keepdim_are_accepted_wherever_axis_is(t, torch_call, numpy_call):
    np.testing.assert_array_equal(torch_call(t).data, numpy_call(t).data)


def test_every_op_with_an_axis_accepts_dim():
    """The one helper is applied to every public method with an ``axis``/``keepdims`` parameter."""
    missing = []
    for name, member in inspect.getmembers(Tensor, predicate=inspect.isfunction):
        if name.startswith("_"):
            continue
        params = inspect.signature(member).parameters
        if {"axis", "keepdims", "start_axis"} & params.keys() and not hasattr(member, "torch_names"):
            missing.append(name)
    assert missing == []
    assert tg.concatenate.torch_names == {"dim": "axis"}


def test_both_spellings_is_an_error(t):
    with pytest.raises(TypeError, match=r"sum: got both dim= and axis="):
        t.sum(dim=0, axis=0)


def test_decorator_for_new_ops_and_its_errors():
    @accepts_torch_names
    def cumulative(x: Tensor, axis: int = 0, keepdims: bool = False) -> tuple[int, bool]:
        return axis, keepdims

    assert cumulative(None, dim=2, keepdim=True) == (2, True)
    with pytest.raises(TypeError, match="has none of the parameters"):
        accepts_torch_names(lambda x: x)


def test_transpose_swaps_two_dims_as_pytorch():
    """torch.zeros(2, 3).transpose(0, 1).shape -> (3, 2); torch.zeros(2, 3, 4).transpose(0, 2).shape -> (4, 3, 2);
    torch.zeros(2, 3).T.shape -> (3, 2). (numpy's t.transpose(0, 1) on 2x3 would return 2x3.)"""
    x = np.arange(24.0).reshape(2, 3, 4)
    m = np.arange(6.0).reshape(2, 3)
    a = Tensor(m, requires_grad=True)
    assert a.transpose(0, 1).shape == (3, 2) and a.transpose(1, 0).shape == (3, 2)
    assert a.transpose().shape == (3, 2) and a.T.shape == (3, 2)
    np.testing.assert_array_equal(a.transpose(0, 1).data, m.T)
    b = Tensor(x)
    np.testing.assert_array_equal(b.transpose(0, 2).data, np.swapaxes(x, 0, 2))
    np.testing.assert_array_equal(b.transpose(-1, 1).data, np.swapaxes(x, -1, 1))
    np.testing.assert_array_equal(b.permute(2, 0, 1).data, np.transpose(x, (2, 0, 1)))
    with pytest.raises(TypeError, match="transpose: give the two dimensions to swap for a 3-d tensor"):
        b.transpose()
    with pytest.raises(TypeError, match="transpose: give both dimensions"):
        b.transpose(1)
    (a.transpose(0, 1) * Tensor(np.arange(6.0).reshape(3, 2))).sum().backward()
    np.testing.assert_array_equal(a.grad.data, np.arange(6.0).reshape(3, 2).T)


def test_view_reshapes(t):
    assert t.view(3, 2).shape == (3, 2) and t.view(-1).shape == (6,)


def test_scalar_protocols():
    """loss = torch.tensor(0.123456); f"{loss:.4f}" -> '0.1235'; float(loss) -> 0.123456...;
    int(torch.tensor(2.7)) -> 2;
    bool(torch.tensor([0.])) -> False; float(torch.zeros(2)) -> RuntimeError (only one element tensors ...)."""
    loss = Tensor(0.123456)
    assert f"{loss:.4f}" == "0.1235"
    assert f"{loss}" == repr(loss)
    assert float(loss) == pytest.approx(0.123456) and type(float(loss)) is float
    assert int(Tensor(2.7)) == 2 and int(Tensor([-2.7])) == -2
    assert bool(Tensor([0.0])) is False and bool(tg.tensor([True])) is True
    for convert in (float, int):
        with pytest.raises(TypeError, match=r"only one-element tensors convert to a Python number, got shape \(2,\)"):
            convert(Tensor([1.0, 2.0]))
    with pytest.raises(TypeError, match=r"format: the spec '\.2f' needs a one-element tensor, got shape \(2,\)"):
        f"{Tensor([1.0, 2.0]):.2f}"
    with pytest.raises(ValueError, match="truth value of a tensor of shape"):
        bool(Tensor([1.0, 2.0]))
    assert list(range(tg.tensor(3))) == [0, 1, 2]  # __index__ for an int tensor
    with pytest.raises(TypeError, match="only integer tensors of one element can be used as an index"):
        list(range(Tensor(3.0)))


def test_value_format_and_float():
    v = Value(2.0) * 1.2345
    assert f"{v:.2f}" == "2.47" and float(v) == pytest.approx(2.469) and type(float(v)) is float
    assert f"{v}" == repr(v)


def test_requires_grad_on_a_non_leaf_as_pytorch():
    """y = x * 2 (x requires grad); y.requires_grad_() -> y (no error); y.requires_grad_(False) -> RuntimeError."""
    x = Tensor([1.0], requires_grad=True)
    y = x * 2.0
    assert y.requires_grad_() is y and y.requires_grad
    with pytest.raises(RuntimeError, match="requires_grad_: this tensor is the result of an op"):
        y.requires_grad_(False)


def test_issue_13_11_requires_grad_leaf_owns_its_array():
    """Regression (issue 13 #11): Tensor(a).requires_grad_() shared the caller's array, so an
    optimiser step overwrote it; a read-only array gave a raw numpy error."""
    source = np.array([1.0, 2.0])
    w = Tensor(source).requires_grad_()
    (w * w).sum().backward()
    with tg.no_grad():
        w -= 0.5 * w.grad
    np.testing.assert_array_equal(source, [1.0, 2.0])
    np.testing.assert_array_equal(w.data, [0.0, 0.0])
    frozen = np.array([1.0, 2.0])
    frozen.flags.writeable = False
    v = Tensor(frozen).requires_grad_()
    with tg.no_grad():
        v *= 2.0
    np.testing.assert_array_equal(v.data, [2.0, 4.0])
