"""float32 in, float32 out: every issue-17 op keeps its input's dtype, forward and gradient
(the package's dtype policy), and the truth-valued ops return masks usable as indices."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import Tensor

IDX = np.array([[0, 2, 1], [1, 1, 0]])

OPS = {
    "cumsum": lambda x: x.cumsum(1),
    "cumprod": lambda x: x.cumprod(0),
    "cumprod with zero": lambda x: (x * Tensor(np.array([[1, 0, 1], [1, 1, 1]], dtype=np.float32))).cumprod(1),
    "prod": lambda x: x.prod(),
    "prod empty axis": lambda x: x[:, :0].prod(1),
    "sort": lambda x: x.sort(1)[0],
    "topk": lambda x: x.topk(2)[0],
    "norm": lambda x: x.norm(),
    "norm 1": lambda x: x.norm(1, 0),
    "norm 3": lambda x: x.norm(3),
    "std": lambda x: x.std(1, correction=1),
    "std constant": lambda x: (x * 0.0).std(1),
    "gather": lambda x: x.gather(1, IDX),
    "scatter_add": lambda x: x.scatter_add(1, IDX, x),
    "scatter": lambda x: x.scatter(1, IDX[:, :1], 2.0),
    "index_select": lambda x: x.index_select(1, [0, 0, 2]),
    "masked_fill": lambda x: x.masked_fill(x > 0.4, -1.0),
    "tril": lambda x: x.tril(),
    "flip": lambda x: x.flip(),
    "roll": lambda x: x.roll(1, 1),
    "repeat": lambda x: x.repeat(2, 1),
    "repeat_interleave": lambda x: x.repeat_interleave(2, 0),
    "split": lambda x: x.split(2, 1)[1],
    "clone": lambda x: x.clone(),
    "pad constant": lambda x: x.pad(1, value=3.0),
    "pad reflect": lambda x: x.pad(((0, 0), (2, 1)), mode="reflect"),
    "diagonal": lambda x: x.diagonal(),
    "diag": lambda x: x[0].diag(1),
    "hardtanh": lambda x: x.hardtanh(),
    "floor": lambda x: x.floor() + x,
    "remainder": lambda x: x % 0.3,
    "erf": lambda x: x.erf(),
    "concatenate": lambda x: tg.concatenate([x, x * 2.0], 1),
    "stack": lambda x: tg.stack([x, x], 0),
    "einsum": lambda x: tg.einsum("ij,kj->ik", x, x),
    "attention": lambda x: tg.scaled_dot_product_attention(x, x, x, is_causal=True),
    "dropout": lambda x: tg.dropout(x, 0.5, seed=0),
    "functional pad": lambda x: tg.functional.pad(x, (1, 1), mode="circular"),
    "cross_entropy options": lambda x: tg.nn.cross_entropy(x, [0, 2], label_smoothing=0.1, weight=[1.0, 2.0, 1.0]),
}


@pytest.mark.parametrize("name", OPS)
def test_float32_in_float32_out_and_gradient(name: str) -> None:
    x = Tensor(np.array([[0.25, 0.5, 0.75], [1.0, 0.3, 0.6]], dtype=np.float32), requires_grad=True)
    out = OPS[name](x)
    assert out.dtype == np.float32, f"{name}: {out.dtype}"
    out.sum().backward()
    assert x.grad.dtype == np.float32 and np.isfinite(x.grad.data).all()


def test_truth_valued_ops_index_like_boolean_masks() -> None:
    x = Tensor([1.0, np.nan, -2.0, 0.0])
    for mask, expected in ((x.isnan(), [np.nan]), (x.isfinite().logical_and(x != 0), [1.0, -2.0]),
                           ((x > 0).logical_or(x < -1), [1.0, -2.0]), (x.logical_not(), [0.0])):
        np.testing.assert_array_equal(x[mask].data, expected)


INT_OPS = {
    "cumsum": lambda t: t.cumsum(1), "cumprod": lambda t: t.cumprod(1), "prod": lambda t: t.prod(1),
    "sort": lambda t: t.sort(1)[0], "topk": lambda t: t.topk(2)[0], "gather": lambda t: t.gather(1, IDX),
    "scatter_add": lambda t: t.scatter_add(1, IDX, t), "index_select": lambda t: t.index_select(0, [1, 1]),
    "flip": lambda t: t.flip(), "roll": lambda t: t.roll(1, 1), "repeat": lambda t: t.repeat(2, 1),
    "repeat_interleave": lambda t: t.repeat_interleave(2), "tril": lambda t: t.tril(), "pad": lambda t: t.pad(1),
    "pad reflect": lambda t: t.pad(1, mode="reflect"), "diagonal": lambda t: t.diagonal(),
    "narrow": lambda t: t.narrow(1, 1, 2),
    "masked_fill": lambda t: t.masked_fill(t > 2, 0), "floor": lambda t: t.floor(), "stack": lambda t: tg.stack([t, t]),
    "floor_divide": lambda t: t // 2, "remainder": lambda t: t % 2,
}


@pytest.mark.parametrize("name", INT_OPS)
def test_integer_tensors_stay_int64_as_pytorch(name: str) -> None:
    t = tg.tensor([[3, 1, 2], [0, 5, 4]])
    out = INT_OPS[name](t)
    assert out.dtype == np.int64 and not out.requires_grad, f"{name}: {out.dtype}"
