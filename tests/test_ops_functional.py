"""Functional ops (tinygrad_edu.ops.functional) and the issue-17 factories: one_hot, einsum
(vs numpy over many equations, gradients vs finite differences), attention (vs a numpy
formula and PyTorch), dropout, pad in PyTorch's order; linspace, randint, empty."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from ops_helpers import check_grad, check_second_order, torch_or_skip

import tinygrad_edu as tg
from tinygrad_edu import Tensor
from tinygrad_edu.testing import arrays

# ---------------------------------------------------------------- one_hot


def test_one_hot_of_any_shape() -> None:
    y = tg.one_hot(np.array([[0, 2], [1, 1]]), num_classes=4)
    assert y.shape == (2, 2, 4) and not y.requires_grad and y.dtype == np.int64  # as PyTorch
    np.testing.assert_array_equal(y.data, np.eye(4)[[[0, 2], [1, 1]]])
    assert tg.one_hot([0, 2, 1]).shape == (3, 3)  # num_classes = max + 1
    with pytest.raises(ValueError, match="one_hot: label 3 is out of range for num_classes=3"):
        tg.one_hot([0, 3], 3)
    with pytest.raises(ValueError, match="one_hot: labels must be >= 0"):
        tg.one_hot([-1, 0])


# ---------------------------------------------------------------- einsum

EQUATIONS = {
    "ij,jk->ik": [(2, 3), (3, 4)],
    "ij,jk": [(2, 3), (3, 4)],
    "bij,bjk->bik": [(2, 2, 3), (2, 3, 4)],
    "ij->ji": [(2, 3)],
    "ii->i": [(3, 3)],
    "ii": [(3, 3)],
    "ij->": [(2, 3)],
    "ij->j": [(2, 3)],
    "i,i->": [(3,), (3,)],
    "i,j->ij": [(2,), (3,)],
    "ij,ij->ij": [(2, 3), (2, 3)],
    "ijk,ik->j": [(2, 3, 4), (2, 4)],
    "ij,jk,kl->il": [(2, 3), (3, 4), (4, 2)],
    "bhqd,bhkd->bhqk": [(1, 2, 3, 4), (1, 2, 2, 4)],
    "iij->ji": [(3, 3, 2)],
    "...ij,...jk->...ik": [(2, 3, 4), (4, 2)],
    "...ij,...jk": [(2, 1, 3, 4), (3, 4, 2)],
    "b...i,b...i->b...": [(2, 3, 4), (2, 1, 4)],
    "...ii->...i": [(2, 3, 3)],
    "i...->...": [(3, 2, 2)],
}


@pytest.mark.parametrize("equation", EQUATIONS)
def test_einsum_matches_numpy_with_gradients(equation: str) -> None:
    rng = np.random.default_rng(0)
    arrays_ = [rng.standard_normal(s) for s in EQUATIONS[equation]]
    out = check_grad(lambda *ts: tg.einsum(equation, *ts), *arrays_)
    np.testing.assert_allclose(out.data, np.einsum(equation, *arrays_), rtol=1e-12, atol=1e-12)


def test_einsum_second_derivative() -> None:
    rng = np.random.default_rng(1)
    check_second_order(lambda a, b: tg.einsum("ij,jk->ik", a, b) ** 2, [rng.standard_normal((2, 3)),
                                                                        rng.standard_normal((3, 2))])


@pytest.mark.parametrize(
    ("equation", "shapes", "message"),
    [
        ("ij,jk->ik", [(2, 3), (4, 5)], "einsum: letter 'j' has size 3 in one place and 4 in another"),
        ("ij,jk->ik", [(2, 3)], "einsum: 'ij,jk->ik' names 2 operands but 1 were given"),
        ("ijk->i", [(2, 3)], "einsum: term 'ijk' has 3 letters but its operand has shape"),
        ("......ij->ij", [(2, 3)], "einsum: each term may hold one '...'"),
        ("i.j->ij", [(2, 3)], "einsum: index names must be letters"),
        ("ij->q", [(2, 3)], "einsum: output 'q' must list distinct letters"),
    ],
)
def test_einsum_errors_name_the_problem(equation: str, shapes, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        tg.einsum(equation, *[Tensor(np.ones(s)) for s in shapes])


# ---------------------------------------------------------------- attention


def _numpy_attention(q, k, v, mask=None):
    s = q @ np.swapaxes(k, -1, -2) / math.sqrt(q.shape[-1])
    if mask is not None:
        s = np.where(mask, s, -np.inf)
    w = np.exp(s - s.max(-1, keepdims=True))
    return (w / w.sum(-1, keepdims=True)) @ v


@given(data=st.data(), causal=st.booleans())
def test_attention_matches_the_formula_with_gradients(data, causal: bool) -> None:
    length, source, d = data.draw(st.integers(1, 4)), data.draw(st.integers(1, 4)), data.draw(st.integers(1, 3))
    if causal:
        source = length
    q = data.draw(arrays((2, length, d), -2, 2))
    k = data.draw(arrays((2, source, d), -2, 2))
    v = data.draw(arrays((2, source, 2), -2, 2))
    mask = np.tril(np.ones((length, source), dtype=bool)) if causal else None
    out = check_grad(lambda a, b, c: tg.scaled_dot_product_attention(a, b, c, is_causal=causal), q, k, v)
    np.testing.assert_allclose(out.data, _numpy_attention(q, k, v, mask), rtol=1e-10, atol=1e-12)


def test_attention_masks_match_pytorch() -> None:
    torch = torch_or_skip()
    rng = np.random.default_rng(2)
    q, k, v = rng.standard_normal((1, 3, 4)), rng.standard_normal((1, 5, 4)), rng.standard_normal((1, 5, 2))
    bool_mask = rng.random((3, 5)) > 0.3
    bool_mask[:, 0] = True
    float_mask = rng.standard_normal((3, 5))
    for mask, tmask in ((bool_mask, torch.tensor(bool_mask)), (float_mask, torch.tensor(float_mask))):
        ours = tg.scaled_dot_product_attention(Tensor(q), Tensor(k), Tensor(v), attn_mask=mask, scale=0.3)
        theirs = torch.nn.functional.scaled_dot_product_attention(
            torch.tensor(q), torch.tensor(k), torch.tensor(v), attn_mask=tmask, scale=0.3)
        np.testing.assert_allclose(ours.data, theirs.numpy(), rtol=1e-12)


def test_attention_checks_shapes() -> None:
    with pytest.raises(ValueError, match=r"scaled_dot_product_attention: expected query \(..., L, d\)"):
        tg.scaled_dot_product_attention(Tensor(np.ones((2, 3))), Tensor(np.ones((2, 4))), Tensor(np.ones((2, 3))))


# ---------------------------------------------------------------- dropout


def test_dropout_scales_kept_units_and_is_seeded() -> None:
    x = Tensor(np.ones((200, 50)), requires_grad=True)
    out = tg.dropout(x, 0.25, seed=0)
    kept = out.data != 0
    np.testing.assert_allclose(out.data[kept], 1 / 0.75)
    assert abs(kept.mean() - 0.75) < 0.02  # 10,000 Bernoulli draws: 5 standard deviations
    np.testing.assert_array_equal(out.data, tg.dropout(x, 0.25, seed=0).data)
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.data, out.data)  # g * m / (1 - p) with g = 1
    assert tg.dropout(x, 0.5, training=False) is x
    assert not tg.dropout(x, 1.0).data.any()
    with pytest.raises(ValueError, match=r"dropout: p must be in \[0, 1\], got 1.5"):
        tg.dropout(x, 1.5)


def test_functional_pad_checks_its_widths() -> None:
    with pytest.raises(ValueError, match=r"pad: expected an even number of widths"):
        tg.functional.pad(Tensor(np.ones((2, 2))), (1, 1, 1))
    out = tg.functional.pad(Tensor(np.ones((2, 2))), (1, 0))
    assert out.shape == (2, 3) and out.data[:, 0].tolist() == [0.0, 0.0]


# ---------------------------------------------------------------- factories


def test_linspace_randint_empty() -> None:
    np.testing.assert_array_equal(tg.linspace(-1, 1, 5).data, np.linspace(-1, 1, 5))
    assert tg.linspace(0, 1, 4, dtype=np.float32).dtype == np.float32
    r = tg.randint(2, 5, (300,), seed=0)
    assert set(np.unique(r.data)) == {2, 3, 4} and r.dtype == np.int64
    assert tg.randint(0, 2, (3,), seed=0, dtype=np.float32).dtype == np.float32
    np.testing.assert_array_equal(r.data, tg.randint(2, 5, (300,), seed=0).data)
    assert tg.randint(3, size=4, seed=1).data.max() < 3
    assert tg.randint_like(Tensor(np.zeros((2, 3))), 7, seed=0).shape == (2, 3)
    assert tg.empty(2, 3).tolist() == [[0.0] * 3] * 2
    assert tg.empty_like(Tensor([1.0], dtype=np.float32)).dtype == np.float32
    with pytest.raises(ValueError, match="randint: expected low < high, got low=3, high=3"):
        tg.randint(3, 3, (2,))
    with pytest.raises(ValueError, match="linspace: steps must be >= 0"):
        tg.linspace(0, 1, -1)


def test_factories_take_integer_and_bool_dtypes() -> None:
    assert tg.arange(5, dtype=np.int64).tolist() == [0, 1, 2, 3, 4] and tg.arange(5, dtype="long").dtype == np.int64
    assert tg.arange(5).dtype == np.float64  # without dtype= the default float (PyTorch would give int64)
    assert tg.zeros(2, 3, dtype=np.int32).dtype == np.int32 and tg.ones(2, dtype=bool).tolist() == [True, True]
    assert tg.full((2,), 7, dtype=np.int64).tolist() == [7, 7] and tg.empty(2, dtype=np.int64).dtype == np.int64
    assert tg.zeros_like(tg.tensor([1, 2])).dtype == np.int64 and tg.linspace(0, 4, 5, dtype=np.int64).tolist() == [
        0, 1, 2, 3, 4]
    with pytest.raises(RuntimeError, match="zeros: only float tensors can require gradients"):
        tg.zeros(2, dtype=np.int64, requires_grad=True)
