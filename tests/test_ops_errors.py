"""Every issue-17 op given a wrong type or value raises a clear error that names the op
(never a raw numpy or Python message), and nothing is silently accepted."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import Tensor

x = Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)

CALLS = {
    "gather": lambda: x.gather("a", [[0]]),
    "roll": lambda: x.roll(1.5, 0),
    "topk": lambda: x.topk(2.5),
    "narrow": lambda: x.narrow(0, 0.5, 1),
    "split": lambda: x.split(1.5),
    "chunk": lambda: x.chunk("2"),
    "repeat": lambda: x.repeat(2.0, 1),
    "tile": lambda: x.tile("ab"),
    "repeat_interleave": lambda: x.repeat_interleave(1.5),
    "diagonal": lambda: x.diagonal(0.5),
    "diag": lambda: x.diag("a"),
    "tril": lambda: x.tril(0.5),
    "triu": lambda: x.reshape(6).triu(),
    "cumsum": lambda: x.cumsum(1.0),
    "cumprod": lambda: x.cumprod(2),
    "prod": lambda: x.prod("a"),
    "norm": lambda: x.norm(-1),
    "argsort": lambda: x.argsort(5),
    "argmax": lambda: x.argmax(-3),
    "masked_fill": lambda: x.masked_fill([True], "a"),
    "index_select": lambda: x.index_select(0, [[0]]),
    "scatter": lambda: x.scatter(1, [[0]], "a"),
    "scatter_add": lambda: x.scatter_add(1, [[0, 1, 2, 0]], x),
    "one_hot": lambda: tg.one_hot([0.5]),
    "einsum": lambda: tg.einsum(3, x),
    "dropout": lambda: tg.dropout(x, "a"),
    "linspace": lambda: tg.linspace(0, 1, 2.5),
    "randint": lambda: tg.randint(0.5, 3, (2,)),
    "flip": lambda: x.flip("a"),
    "any": lambda: x.any(5),
    "all": lambda: x.all((0, 0)),
    "logical_and": lambda: x.logical_and("a"),
    "gelu": lambda: x.gelu(3),
    "hardtanh": lambda: x.hardtanh("a", 1),
    "celu": lambda: x.celu(None),
    "pad": lambda: x.pad("ab"),
    "functional pad": lambda: tg.functional.pad(x, "ab"),
    "scaled_dot_product_attention": lambda: tg.scaled_dot_product_attention(x, "a", x),
    "unbind": lambda: Tensor(1.0).unbind(),
    "repeat_interleave counts": lambda: x.repeat_interleave([1, 2], axis=1),
}


@pytest.mark.parametrize("name", CALLS)
def test_bad_arguments_raise_errors_that_name_the_op(name: str) -> None:
    op = name.split()[-1] if name.startswith("functional") else name.split()[0]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises((TypeError, ValueError, IndexError)) as info:
            CALLS[name]()
    assert str(info.value).startswith(f"{op}: "), f"{name}: {info.value}"
