"""Shared gradient oracles for the tests, built on the package's own tools (see /work/shared/TESTING.md).

The central differences themselves live in :func:`tinygrad_edu.gradcheck.numerical_grad`
((F(x+eps) - F(x-eps)) / 2 eps in float64, eps = 1e-6, subtracting element-wise before
summing with the cotangent); this module only adapts it to the shapes our tests need:

* :func:`check_vjp`: ``fn`` of numpy arrays. Compares the engine's gradient of
  ``sum(r * F(x))`` for a random cotangent r with ``numerical_grad``, and checks what every
  op must satisfy: gradient shape and dtype equal the input's, and neither forward nor
  backward changes the input arrays.
* :func:`check_closure_vjp`: a closure ``f()`` over existing tensors (a module's parameters,
  its input), for layers whose parameters are not arguments.
* :func:`numeric_hvp`: a Hessian-vector product by central differences of engine gradients
  (``numerical_grad`` differentiates values, not gradients).

Tolerances: ``rtol=1e-4, atol=1e-6`` (the package defaults) leave a wide margin over the
~1e-10 error of eps = 1e-6 in float64 and still fail a 0.1%-wrong derivative.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from tinygrad_edu import Tensor
from tinygrad_edu.gradcheck import DEFAULT_ATOL, DEFAULT_RTOL, numerical_grad

Fn = Callable[..., Tensor]

RTOL, ATOL = DEFAULT_RTOL, DEFAULT_ATOL


def _assert_grads(inputs: Sequence[Tensor], grads: Sequence[Tensor | None], expected: Sequence[np.ndarray],
                  rtol: float, atol: float) -> None:
    for i, (t, g, e) in enumerate(zip(inputs, grads, expected)):
        assert g is not None, f"input {i} got no gradient"
        assert g.shape == t.shape, f"input {i}: gradient shape {g.shape} != input shape {t.shape}"
        assert g.dtype == t.dtype, f"input {i}: gradient dtype {g.dtype} != input dtype {t.dtype}"
        np.testing.assert_allclose(g.data, e, rtol=rtol, atol=atol, err_msg=f"gradient of input {i}")


def check_vjp(fn: Fn, *arrays: np.ndarray, seed: int = 0, rtol: float = RTOL, atol: float = ATOL) -> Tensor:
    """Assert that the engine's VJP of ``fn`` at ``arrays`` matches central differences.

    Also asserts gradient shape/dtype == input shape/dtype and that the inputs are not
    mutated. Returns the forward output (for forward-vs-numpy checks by the caller).
    """
    arrays = [np.asarray(a, dtype=np.float64) for a in arrays]
    before = [a.copy() for a in arrays]
    inputs = [Tensor(a, requires_grad=True) for a in arrays]
    out = fn(*inputs)
    r = np.random.default_rng(seed).standard_normal(out.shape)  # random, never all ones
    (out * Tensor(r, dtype=out.dtype)).sum().backward()
    for a, b in zip(arrays, before):
        np.testing.assert_array_equal(a, b, err_msg="forward/backward mutated an input")
    expected = numerical_grad(fn, *inputs, cotangent=r)
    _assert_grads(inputs, [t.grad for t in inputs], expected, rtol, atol)
    return out


def check_closure_vjp(f: Callable[[], Tensor], tensors: Sequence[Tensor], seed: int = 0,
                      rtol: float = RTOL, atol: float = ATOL) -> None:
    """Like :func:`check_vjp` for ``f()``, a closure over ``tensors`` (e.g. ``lambda: layer(x)``).

    ``numerical_grad`` perturbs float64 copies, which ``f`` does not see; so while it evaluates,
    each tensor's ``.data`` is pointed at its copy's array, and restored afterwards.
    """
    out = f()
    r = np.random.default_rng(seed).standard_normal(out.shape)
    for t in tensors:
        t.grad = None
    (out * r).sum().backward()

    saved = [t.data for t in tensors]

    def on_copies(*copies: Tensor) -> np.ndarray:
        try:
            for t, c in zip(tensors, copies):
                t.data = c.data
            return np.array(f().data)  # read it now: the output may be one of the tensors (Identity)
        finally:
            for t, d in zip(tensors, saved):
                t.data = d

    expected = numerical_grad(on_copies, *[Tensor(t.data, requires_grad=True) for t in tensors], cotangent=r)
    _assert_grads(tensors, [t.grad for t in tensors], expected, rtol, atol)


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
