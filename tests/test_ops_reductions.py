"""Reductions and scans (tinygrad_edu.ops.reductions, plus var/std): forward vs numpy,
gradients vs finite differences with hypothesis over shapes and axes, second derivatives,
exact zero handling in prod/cumprod, and the edge cases of issue 13 (std of a constant row)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ops_helpers import check_grad, check_second_order, torch_or_skip

import tinygrad_edu as tg
from tinygrad_edu import Tensor
from tinygrad_edu.testing import arrays, shapes


@st.composite
def array_and_axis(draw, min_dims: int = 1, allow_none: bool = True, zeros: bool = False, **domain):
    if zeros:  # tiny factors would underflow products: keep |x| >= 0.1, then put exact zeros in
        domain = {"away_from": (0,), "margin": 0.1, **domain}
    x = draw(arrays(shapes(min_dims=min_dims, max_dims=3), **domain))
    if zeros:  # some exact zeros (prod and cumprod must not divide by them)
        mask = draw(arrays(x.shape, 0, 1)) < 0.3
        x = np.where(mask, 0.0, x)
    choices = list(range(-x.ndim, x.ndim)) + ([None] if allow_none else [])
    return x, draw(st.sampled_from(choices))


# ---------------------------------------------------------------- scans and products


@given(case=array_and_axis())
def test_cumsum_matches_numpy_and_finite_differences(case) -> None:
    x, axis = case
    out = check_grad(lambda t: t.cumsum(axis), x)
    np.testing.assert_allclose(out.data, np.cumsum(x, axis=axis), atol=1e-12)


@given(case=array_and_axis(zeros=True, low=-2, high=2))
def test_cumprod_with_zeros_matches_numpy_and_finite_differences(case) -> None:
    x, axis = case
    out = check_grad(lambda t: t.cumprod(axis), x)  # a polynomial: finite differences are exact enough
    np.testing.assert_allclose(out.data, np.cumprod(x, axis=axis), atol=1e-12)


@st.composite
def array_and_axes(draw, zeros: bool = False):
    x, _ = draw(array_and_axis(zeros=zeros, low=-2, high=2))
    axes = draw(st.one_of(st.none(), st.lists(st.integers(0, x.ndim - 1), unique=True, min_size=1).map(tuple)))
    return x, axes, draw(st.booleans())


@given(case=array_and_axes(zeros=True))
def test_prod_with_zeros_over_any_axes_matches_numpy_and_finite_differences(case) -> None:
    x, axes, keepdims = case
    out = check_grad(lambda t: t.prod(axes, keepdims=keepdims), x)
    np.testing.assert_allclose(out.data, np.prod(x, axis=axes, keepdims=keepdims), atol=1e-12)


def test_prod_gradient_with_one_zero_is_the_product_of_the_others_and_zero_with_two() -> None:
    x = Tensor([[2.0, 0.0, 3.0], [0.0, 5.0, 0.0]], requires_grad=True)
    x.prod(axis=1).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [[0.0, 6.0, 0.0], [0.0, 0.0, 0.0]])


@settings(max_examples=10)
@given(case=array_and_axis(allow_none=False, zeros=True, low=-2, high=2))
def test_cumprod_and_prod_second_derivatives(case) -> None:
    x, axis = case
    check_second_order(lambda t: t.cumprod(axis), [x])
    check_second_order(lambda t: t.prod(axis), [x])


def test_prod_of_an_empty_axis_is_one_and_cumsum_of_0d() -> None:
    assert Tensor(np.zeros((2, 0))).prod(axis=1).tolist() == [1.0, 1.0]
    assert Tensor(3.0).cumsum(0).item() == 3.0 and Tensor(3.0).cumsum().shape == ()


# ---------------------------------------------------------------- argmax, argmin, any, all


@given(case=array_and_axis(), keepdims=st.booleans())
def test_argmax_argmin_match_numpy(case, keepdims: bool) -> None:
    x, axis = case
    for name in ("argmax", "argmin"):
        got = getattr(Tensor(x), name)(axis, keepdims=keepdims)
        assert got.dtype == np.int64 and not got.requires_grad  # as PyTorch
        np.testing.assert_array_equal(got.data, getattr(np, name)(x, axis=axis, keepdims=keepdims))


def test_argmax_checks_its_axis_and_empty_tensors() -> None:
    with pytest.raises(IndexError, match="argmax: dim 2 is out of range for a tensor with 2 dimensions"):
        Tensor(np.ones((2, 3))).argmax(2)
    with pytest.raises(ValueError, match=r"argmin: cannot reduce an empty tensor of shape \(0,\)"):
        Tensor(np.ones(0)).argmin()


@given(case=array_and_axes(zeros=True))
def test_any_all_match_numpy(case) -> None:
    x, axes, keepdims = case
    for name in ("any", "all"):
        got = getattr(Tensor(x), name)(axes, keepdims=keepdims)
        expected = getattr(np, name)(x, axis=axes, keepdims=keepdims)
        np.testing.assert_array_equal(got.data, expected)
        assert got.shape == np.shape(expected) and got.dtype == np.bool_


def test_any_and_all_still_work_as_conditions() -> None:
    assert Tensor([0.0, 2.0]).any() and not Tensor([0.0, 2.0]).all()


# ---------------------------------------------------------------- sort, argsort, topk


@given(case=array_and_axis(allow_none=False), descending=st.booleans())
def test_sort_values_and_indices_match_numpy(case, descending: bool) -> None:
    x, axis = case
    values, indices = Tensor(x).sort(axis, descending=descending)
    order = np.argsort(-x if descending else x, axis=axis, kind="stable")
    assert indices.dtype == np.int64
    np.testing.assert_array_equal(indices.data, order)
    np.testing.assert_array_equal(values.data, np.take_along_axis(x, order, axis=axis))
    np.testing.assert_array_equal(Tensor(x).argsort(axis, descending).data, order)


@st.composite
def spaced_values(draw):
    """Distinct values at least 0.1 apart, so finite differences never reorder them."""
    shape = draw(shapes(min_dims=1, max_dims=3))
    order = draw(st.permutations(range(math.prod(shape))))
    jitter = draw(arrays(shape, 0, 0.05))
    return np.asarray(order, dtype=float).reshape(shape) * 0.2 - 1.0 + jitter


@given(x=spaced_values(), data=st.data())
def test_sort_and_topk_gradients_follow_the_values(x: np.ndarray, data) -> None:
    axis = data.draw(st.integers(-x.ndim, x.ndim - 1))
    k = data.draw(st.integers(0, x.shape[axis]))
    largest = data.draw(st.booleans())
    check_grad(lambda t: t.sort(axis)[0], x)
    out = check_grad(lambda t: t.topk(k, axis, largest=largest)[0], x)
    ordered = np.take_along_axis(x, np.argsort(-x if largest else x, axis=axis), axis=axis)
    np.testing.assert_array_equal(out.data, np.moveaxis(np.moveaxis(ordered, axis, 0)[:k], 0, axis))


def test_topk_rejects_k_out_of_range() -> None:
    with pytest.raises(ValueError, match=r"topk: k=4 is out of range for 3 elements along axis 0"):
        Tensor([1.0, 2.0, 3.0]).topk(4)


def test_sort_is_stable_for_ties() -> None:
    _, indices = Tensor([2.0, 1.0, 2.0, 1.0]).sort()
    assert indices.tolist() == [1, 3, 0, 2] and indices.dtype == np.int64


# ---------------------------------------------------------------- norms


NORMS = [1, 2, "fro", math.inf, -math.inf, 3, 0.5]


@pytest.mark.parametrize("p", NORMS)
@given(case=array_and_axes())
def test_norm_matches_numpy_and_finite_differences(p, case) -> None:
    x, axes, keepdims = case
    x = np.where(np.abs(x) < 1e-2, 0.5, x)  # |x| has a kink at 0
    if p in (math.inf, -math.inf):  # max/min need distinct magnitudes for a smooth gradient
        x = x + np.arange(x.size).reshape(x.shape) * 1e-2 * np.sign(x)
    out = check_grad(lambda t: t.norm(p, axes, keepdims=keepdims), x)
    a = np.abs(x)
    if p in (2, "fro"):
        expected = np.sqrt((a * a).sum(axis=axes, keepdims=keepdims))
    elif p == math.inf:
        expected = a.max(axis=axes, keepdims=keepdims)
    elif p == -math.inf:
        expected = a.min(axis=axes, keepdims=keepdims)
    else:
        expected = (a**p).sum(axis=axes, keepdims=keepdims) ** (1 / p)
    np.testing.assert_allclose(out.data, expected, rtol=1e-12)


def test_norm_of_zero_has_gradient_zero_and_p0_counts_nonzeros() -> None:
    x = Tensor([0.0, 0.0], requires_grad=True)
    x.norm().backward()
    np.testing.assert_array_equal(x.grad.data, [0.0, 0.0])
    assert Tensor([0.0, 2.0, -1.0]).norm(0).item() == 2.0
    with pytest.raises(ValueError, match="norm: p must be a number or 'fro', got 'nuc'"):
        Tensor([1.0]).norm("nuc")


def test_norm_matches_pytorch() -> None:
    torch = torch_or_skip()
    a = np.array([[1.0, -2.0, 0.5], [3.0, 0.25, -1.0]])
    for p in (1, 2, math.inf, 3):
        x = Tensor(a, requires_grad=True)
        x.norm(p, axis=1).sum().backward()
        tx = torch.tensor(a, requires_grad=True)
        torch.linalg.vector_norm(tx, p, dim=1).sum().backward()
        np.testing.assert_allclose(x.grad.data, tx.grad.numpy(), rtol=1e-12, err_msg=f"p={p}")


# ---------------------------------------------------------------- var / std (issue 13, finding 2)


@given(case=array_and_axes(), correction=st.sampled_from([0, 1]))
def test_var_std_with_correction_match_numpy(case, correction: int) -> None:
    x, axes, keepdims = case
    n = x.size if axes is None else math.prod(x.shape[a] for a in axes)
    if n - correction <= 0:
        return
    np.testing.assert_allclose(Tensor(x).var(axes, keepdims, correction=correction).data,
                               np.var(x, axis=axes, ddof=correction, keepdims=keepdims), atol=1e-12)
    np.testing.assert_allclose(Tensor(x).std(axes, keepdims, ddof=correction).data,
                               np.std(x, axis=axes, ddof=correction, keepdims=keepdims), atol=1e-12)


def test_var_rejects_conflicting_ddof_and_correction() -> None:
    with pytest.raises(ValueError, match="var: give ddof or correction, not both"):
        Tensor([1.0, 2.0]).var(ddof=1, correction=0)


def test_std_of_a_constant_row_has_gradient_zero_not_nan() -> None:
    x = Tensor([[1.0, 1.0, 1.0], [1.0, 2.0, 4.0]], requires_grad=True)
    (x.std(axis=1) + 1e-5).sum().backward()
    np.testing.assert_array_equal(x.grad.data[0], [0.0, 0.0, 0.0])
    assert np.isfinite(x.grad.data).all()
    h = Tensor(np.zeros((2, 4)), requires_grad=True)  # a dead ReLU layer feeding a layer norm
    normed = (h - h.mean(axis=1, keepdims=True)) / (h.std(axis=1, keepdims=True) + 1e-5)
    (normed * Tensor(np.arange(8.0).reshape(2, 4))).sum().backward()
    assert np.isfinite(h.grad.data).all()


def test_std_gradient_matches_pytorch() -> None:
    torch = torch_or_skip()
    a = np.array([[1.0, 1.0, 1.0], [1.0, 2.0, 4.0]])
    x, tx = Tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    x.std(axis=1, correction=1).sum().backward()
    tx.std(dim=1).sum().backward()
    np.testing.assert_allclose(x.grad.data, tx.grad.numpy(), rtol=1e-12)


# ---------------------------------------------------------------- axes of 0-d tensors (issue 17)


def test_axis_0_of_a_0d_tensor_reduces_nothing_as_pytorch() -> None:
    x = Tensor(3.0, requires_grad=True)
    for out in (x.sum(axis=0), x.mean(axis=-1), x.max(axis=0), x.prod(0)):
        assert out.shape == () and out.item() == 3.0
    with pytest.raises(ValueError, match=r"sum: axis 1 is out of range for a 0-d tensor"):
        x.sum(axis=1)


def test_clip_needs_a_bound() -> None:
    with pytest.raises(ValueError, match="clip: give at least one of low and high"):
        Tensor([1.0]).clip()


def test_module_level_functions_reach_the_ops() -> None:
    assert tg.Tensor([1.0, 2.0, 3.0]).cumsum(0).tolist() == [1.0, 3.0, 6.0]
