"""Oracles shared by the ``test_ops_*`` files (one per op family of :mod:`tinygrad_edu.ops`).

* :func:`check_grad` -- the engine's VJP against central differences (``helpers.check_vjp``:
  random cotangent, gradient shape/dtype, inputs not mutated) and returns the forward output;
* :func:`check_second_order` -- a Hessian-vector product through ``create_graph=True``
  against central differences of the engine's first gradients (``helpers.numeric_hvp``);
* :func:`torch_or_skip` -- PyTorch as a third oracle where it is installed (never required).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pytest
from helpers import check_vjp, numeric_hvp

import tinygrad_edu as tg
from tinygrad_edu import Tensor

Fn = Callable[..., Tensor]


def check_grad(fn: Fn, *arrays: np.ndarray, rtol: float = 1e-4, atol: float = 1e-6) -> Tensor:
    """Gradient of ``fn`` at ``arrays`` vs finite differences (see ``helpers.check_vjp``)."""
    return check_vjp(fn, *arrays, rtol=rtol, atol=atol)


def check_second_order(fn: Fn, arrays: Sequence[np.ndarray], seed: int = 0) -> None:
    """d/dx (v . d(r . F)/dx) with create_graph, against central differences of first gradients."""
    rng = np.random.default_rng(seed)
    arrays = [np.asarray(a, dtype=np.float64) for a in arrays]
    r = rng.standard_normal(fn(*[Tensor(a) for a in arrays]).shape)
    v = [rng.standard_normal(a.shape) for a in arrays]

    def scalar(*inputs: Tensor) -> Tensor:
        return (fn(*inputs) * Tensor(r)).sum()

    inputs = [Tensor(a, requires_grad=True) for a in arrays]
    grads = tg.grad(scalar(*inputs), inputs, create_graph=True)
    directional = sum((g * Tensor(d)).sum() for g, d in zip(grads, v))
    for i, t in enumerate(inputs):
        (second,) = tg.grad(directional, [t], retain_graph=True, allow_unused=True)
        got = np.zeros_like(arrays[i]) if second is None else second.data
        expected = numeric_hvp(scalar, arrays, v, i)
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6, err_msg=f"H v of input {i}")


def torch_or_skip():  # noqa: ANN201 - the torch module
    return pytest.importorskip("torch")
