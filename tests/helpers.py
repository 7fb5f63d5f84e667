"""Finite-difference oracles for the Tensor tests (see /work/shared/TESTING.md).

* :func:`numeric_vjp`: r . dF/dx by central differences, (F(x+h) - F(x-h)) / 2h,
  subtracting element-wise *before* summing with the cotangent r (otherwise round-off
  from large outputs swamps the difference).
* :func:`check_vjp`: compares it with the engine's gradient of ``(F(x) * r).sum()`` for a
  random r, and checks what every op must satisfy: gradient shape and dtype equal the
  input's, and neither forward nor backward changes the input arrays.
* :func:`numeric_hvp`: a Hessian-vector product by central differences of gradients.

Tolerances: h = 1e-6 times the input's scale balances truncation (~h^2) against
round-off (~1e-16 / h) in float64; ``rtol=1e-4, atol=1e-6`` then has a wide margin and
still fails a 1%-wrong derivative.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from tinygrad_edu import Tensor, no_grad

Fn = Callable[..., Tensor]

RTOL, ATOL = 1e-4, 1e-6


def evaluate(fn: Fn, arrays: Sequence[np.ndarray]) -> np.ndarray:
    """F(arrays) as a numpy array, without recording a graph."""
    with no_grad():
        return np.asarray(fn(*[Tensor(a) for a in arrays]).data, dtype=np.float64)


def numeric_vjp(fn: Fn, arrays: Sequence[np.ndarray], r: np.ndarray, h: float = 1e-6) -> list[np.ndarray]:
    """d/dx_i of sum(r * F(x)) for every element of every input, by central differences."""
    grads = []
    for i, a in enumerate(arrays):
        g = np.zeros(a.shape, dtype=np.float64)
        for idx in np.ndindex(a.shape):
            step = h * max(1.0, abs(float(a[idx])))
            plus = [x.copy() for x in arrays]
            minus = [x.copy() for x in arrays]
            plus[i][idx] += step
            minus[i][idx] -= step
            diff = evaluate(fn, plus) - evaluate(fn, minus)  # element-wise first, then sum
            g[idx] = np.sum(r * diff) / (2 * step)
        grads.append(g)
    return grads


def autograd_vjp(fn: Fn, arrays: Sequence[np.ndarray], r: np.ndarray) -> tuple[Tensor, list[Tensor]]:
    """The engine's gradients of sum(r * F(x)); returns (output, gradients)."""
    inputs = [Tensor(a, requires_grad=True) for a in arrays]
    out = fn(*inputs)
    (out * Tensor(r, dtype=out.dtype)).sum().backward()
    return out, [t.grad for t in inputs]


def check_vjp(
    fn: Fn, *arrays: np.ndarray, seed: int = 0, rtol: float = RTOL, atol: float = ATOL
) -> Tensor:
    """Assert that the engine's VJP of ``fn`` at ``arrays`` matches central differences.

    Also asserts gradient shape/dtype == input shape/dtype and that the inputs are not
    mutated. Returns the forward output (for forward-vs-numpy checks by the caller).
    """
    arrays = [np.asarray(a, dtype=np.float64) for a in arrays]
    before = [a.copy() for a in arrays]
    shape = evaluate(fn, arrays).shape
    r = np.random.default_rng(seed).standard_normal(shape)
    out, grads = autograd_vjp(fn, arrays, r)
    for a, b in zip(arrays, before):
        np.testing.assert_array_equal(a, b, err_msg="forward/backward mutated an input")
    expected = numeric_vjp(fn, arrays, r)
    for i, (a, g, e) in enumerate(zip(arrays, grads, expected)):
        assert g is not None, f"input {i} got no gradient"
        assert g.shape == a.shape, f"input {i}: gradient shape {g.shape} != input shape {a.shape}"
        assert g.dtype == a.dtype, f"input {i}: gradient dtype {g.dtype} != input dtype {a.dtype}"
        np.testing.assert_allclose(g.data, e, rtol=rtol, atol=atol, err_msg=f"gradient of input {i}")
    return out


def gradient_fn(fn: Fn, index: int) -> Callable[[list[np.ndarray]], np.ndarray]:
    """x -> dF/dx_index (F scalar) computed by the engine, as numpy."""

    def g(arrays: list[np.ndarray]) -> np.ndarray:
        inputs = [Tensor(a, requires_grad=True) for a in arrays]
        fn(*inputs).backward()
        return inputs[index].grad.data

    return g


def numeric_hvp(
    fn: Fn, arrays: Sequence[np.ndarray], v: Sequence[np.ndarray], index: int, h: float = 1e-5
) -> np.ndarray:
    """H v for the block d/dx (dF/dx_index) by central differences of engine gradients.

    Gradients are smooth, so h = 1e-5 keeps truncation ~1e-10 and round-off ~1e-11.
    """
    g = gradient_fn(fn, index)
    plus = [a + h * d for a, d in zip(arrays, v)]
    minus = [a - h * d for a, d in zip(arrays, v)]
    return (g(plus) - g(minus)) / (2 * h)
