"""Explicit Tensor tests: kinks and ties, repeated indices, backward semantics, numpy
interop, the dtype policy, factories and numerical stability.

Hand-derived expected values are exact (or to ~1e-12); the property tests in
test_tensor_properties.py cover random shapes and values.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import GraphFreedError, Tensor, no_grad
from tinygrad_edu.value import SELU_ALPHA, SELU_SCALE


def grad_of(fn, x, r=None) -> np.ndarray:
    t = Tensor(x, requires_grad=True)
    out = fn(t)
    (out if r is None else out * r).sum().backward()
    return t.grad.data


# ============================================================== kinks (the conventions)


@pytest.mark.parametrize(
    ("fn", "expected"),
    [
        (Tensor.relu, 0.0),  # relu'(0) = 0
        (lambda t: t.leaky_relu(0.2), 0.2),  # leaky'(0) = slope
        (lambda t: t.elu(0.7), 0.7),  # elu'(0) = alpha
        (Tensor.selu, SELU_SCALE * SELU_ALPHA),
        (Tensor.abs, 0.0),  # sign(0) = 0
        (Tensor.softplus, 0.5),  # sigma(0)
        (Tensor.sigmoid, 0.25),  # sigma(0)(1 - sigma(0))
        (Tensor.tanh, 1.0),
    ],
)
def test_derivative_at_zero(fn, expected: float) -> None:
    np.testing.assert_allclose(grad_of(fn, np.array([0.0])), [expected], rtol=1e-12)


def test_clip_gradient_is_one_inside_and_on_the_bounds_zero_outside() -> None:
    x = np.array([-2.0, -1.0, 0.0, 1.0, 2.0])
    np.testing.assert_array_equal(grad_of(lambda t: t.clip(-1.0, 1.0), x), [0, 1, 1, 1, 0])
    np.testing.assert_array_equal(grad_of(lambda t: t.clip(low=0.5), x), [0, 0, 0, 1, 1])
    np.testing.assert_array_equal(grad_of(lambda t: t.clip(high=0.5), x), [1, 1, 1, 0, 0])


def test_maximum_and_minimum_split_ties_evenly() -> None:
    x, y = Tensor([1.0, 2.0, 3.0], requires_grad=True), Tensor([1.0, 5.0, 0.0], requires_grad=True)
    (tg.maximum(x, y) * Tensor([10.0, 20.0, 30.0])).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [5.0, 0.0, 30.0])
    np.testing.assert_array_equal(y.grad.data, [5.0, 20.0, 0.0])
    x.zero_grad(), y.zero_grad()
    tg.minimum(x, y).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [0.5, 1.0, 0.0])
    np.testing.assert_array_equal(y.grad.data, [0.5, 0.0, 1.0])


def test_max_min_ties_split_evenly_along_axes() -> None:
    x = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]])
    np.testing.assert_allclose(grad_of(lambda t: t.max(axis=1), x), [[0, 0.5, 0.5], [1 / 3, 1 / 3, 1 / 3]])
    np.testing.assert_allclose(grad_of(lambda t: t.max(), x), [[0, 0.5, 0.5], [0, 0, 0]])
    np.testing.assert_allclose(grad_of(lambda t: t.min(axis=0, keepdims=True), x), [[1, 0, 0], [0, 1, 1]])
    np.testing.assert_allclose(grad_of(lambda t: t.min(axis=(0, 1)), x), [[1, 0, 0], [0, 0, 0]])


# ============================================================== indexing


def test_repeated_integer_indices_accumulate() -> None:
    x = np.arange(5.0)
    g = grad_of(lambda t: t[[0, 2, 2, 2, 4, 0]], x, r=Tensor([1.0, 10.0, 100.0, 1000.0, 5.0, 2.0]))
    np.testing.assert_array_equal(g, [3.0, 0.0, 1110.0, 0.0, 5.0])


def test_repeated_index_pairs_in_2d_accumulate() -> None:
    x = np.zeros((2, 3))
    g = grad_of(lambda t: t[np.array([1, 1, 0]), np.array([2, 2, 0])], x)
    np.testing.assert_array_equal(g, [[1, 0, 0], [0, 0, 2]])
    g = grad_of(lambda t: t[:, [1, 1]], x)  # a slice mixed with an integer array
    np.testing.assert_array_equal(g, [[0, 2, 0], [0, 2, 0]])


def test_boolean_mask_and_tensor_index() -> None:
    x = np.array([[1.0, -2.0], [-3.0, 4.0]])
    t = Tensor(x, requires_grad=True)
    picked = t[t > 0]  # a comparison tensor works as a mask
    np.testing.assert_array_equal(picked.data, [1.0, 4.0])
    (picked * Tensor([2.0, 3.0])).sum().backward()
    np.testing.assert_array_equal(t.grad.data, [[2, 0], [0, 3]])
    np.testing.assert_array_equal(Tensor(x)[tg.tensor([1, 0])].data, x[[1, 0]])  # an int64 tensor index
    with pytest.raises(IndexError, match="tensors used as indices must be integer or bool"):
        Tensor(x)[Tensor([1.0, 0.0])]  # a float tensor is not an index (PyTorch: IndexError)


def test_iteration_len_and_none_ellipsis() -> None:
    t = Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    assert len(t) == 2
    rows = list(t)
    assert [r.shape for r in rows] == [(3,), (3,)]
    (rows[0] * 2 + rows[1]).sum().backward()
    np.testing.assert_array_equal(t.grad.data, [[2, 2, 2], [1, 1, 1]])
    assert t[None, ..., 1].shape == (1, 2)


# ============================================================== backward semantics


def test_scalar_seed_leaves_accumulate_interior_overwritten() -> None:
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = x * 3.0
    loss = y.sum()
    loss.backward(retain_graph=True)
    np.testing.assert_array_equal(x.grad.data, [3, 3])
    loss.backward()
    np.testing.assert_array_equal(x.grad.data, [6, 6])  # leaf: accumulated
    np.testing.assert_array_equal(y.grad.data, [1, 1])  # interior: overwritten
    with pytest.raises(GraphFreedError, match="second time"):
        loss.backward()


def test_backward_with_explicit_gradient() -> None:
    x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    seed = np.array([1.0, -1.0, 0.5])
    (x * x).backward(gradient=seed)
    np.testing.assert_array_equal(x.grad.data, 2 * np.array([1.0, 2.0, 3.0]) * seed)
    x.grad.data *= 0  # the gradient is ours: changing it in place leaves the seed alone
    np.testing.assert_array_equal(seed, [1.0, -1.0, 0.5])


def test_zero_upstream_gives_zero_gradients() -> None:
    x = Tensor(np.array([[0.5, -1.0], [2.0, 3.0]]), requires_grad=True)
    (x.exp() @ x).softmax().backward(gradient=np.zeros((2, 2)))
    np.testing.assert_array_equal(x.grad.data, np.zeros((2, 2)))


def test_leaf_gradients_are_writable_and_not_shared() -> None:
    """add passes one array to both inputs and sum's VJP is a read-only broadcast view:
    an optimiser scaling p.grad in place must not touch another parameter's gradient."""
    a, b = Tensor(np.ones(3), requires_grad=True), Tensor(np.ones(3), requires_grad=True)
    (a + b).sum().backward()
    assert a.grad is not b.grad
    a.grad.data *= 0.5
    np.testing.assert_array_equal(b.grad.data, [1, 1, 1])
    np.testing.assert_array_equal(a.grad.data, [0.5, 0.5, 0.5])


def test_grad_function_returns_gradients_it_owns() -> None:
    """As for .grad after backward: grad() results are writable and never alias each other
    (add hands g to both inputs; the VJP of sum is a read-only broadcast view)."""
    a, b = Tensor(np.ones(3), requires_grad=True), Tensor(np.ones(3), requires_grad=True)
    da, db = tg.grad((a + b).sum(), [a, b])
    assert da.data.flags.writeable and db.data.flags.writeable
    da.data *= 0.5
    np.testing.assert_array_equal(db.data, [1, 1, 1])
    (dsum,) = tg.grad((a * 1.0).sum(), a)
    dsum.data += 1.0  # a read-only view would raise here
    np.testing.assert_array_equal(dsum.data, [2, 2, 2])


def test_create_graph_gradients_are_graph_nodes_and_accumulate() -> None:
    """f = x^3: with create_graph, x.grad = 3x^2 is a function of x; its backward adds 6x into x.grad."""
    x = Tensor([2.0], requires_grad=True)
    (x**3).sum().backward(create_graph=True)
    first = x.grad
    assert first.requires_grad and first._parents  # in the graph, not a constant
    np.testing.assert_allclose(first.data, [12.0])
    x.zero_grad()
    first.sum().backward()
    np.testing.assert_allclose(x.grad.data, [12.0])  # d(3x^2)/dx = 6x = 12
    y = Tensor([2.0], requires_grad=True)
    (y**3).sum().backward()
    assert not y.grad.requires_grad  # without create_graph: a constant


def test_grad_function_leaves_dot_grad_alone() -> None:
    x, w = Tensor([1.0, 2.0], requires_grad=True), Tensor([3.0, 4.0], requires_grad=True)
    dx, dw = tg.grad((x * w).sum(), [x, w])
    np.testing.assert_array_equal(dx.data, [3, 4])
    np.testing.assert_array_equal(dw.data, [1, 2])
    assert x.grad is None and w.grad is None
    unused = Tensor([1.0], requires_grad=True)
    (dx2, none) = tg.grad((x * 2).sum(), [x, unused], allow_unused=True)
    assert none is None
    np.testing.assert_array_equal(dx2.data, [2, 2])


def test_gradient_only_for_inputs_that_require_it() -> None:
    x, c = Tensor([1.0, 2.0], requires_grad=True), Tensor([3.0, 4.0])
    (x * c).sum().backward()
    assert c.grad is None
    with no_grad():
        y = x * 2
    assert not y.requires_grad and y._parents == ()


def test_detach_and_comparisons_carry_no_gradient() -> None:
    x = Tensor([1.0, -2.0], requires_grad=True)
    for t in (x > 0, x >= 0, x < 0, x <= 0, x == 1.0, x != 1.0, x.detach()):
        assert not t.requires_grad
    np.testing.assert_array_equal((x > 0).data, [1.0, 0.0])
    (x * (x > 0)).sum().backward()  # the mask is a constant
    np.testing.assert_array_equal(x.grad.data, [1.0, 0.0])


# ============================================================== numpy interop, repr, dtype policy


def test_numpy_interop() -> None:
    t = Tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    assert np.asarray(t) is t.data and t.numpy() is t.data
    assert t.shape == (2, 2) and t.dtype == np.float64 and t.ndim == 2 and t.size == 4
    assert t.sum().item() == 10.0 and isinstance(t.sum().item(), float)
    assert float(t[1, 1]) == 4.0
    out = np.ones(2) * t  # numpy defers to Tensor: the result is a Tensor in the graph
    assert isinstance(out, Tensor) and out.requires_grad
    r = repr(t * 2)
    assert r.startswith("Tensor([[2., 4.],") and "requires_grad=True" in r and "op='mul'" in r
    assert "shape" not in r  # small tensors show every element
    big = repr(tg.zeros(20, 30))
    assert "..." in big and big.endswith("shape=(20, 30))")  # summarised: the shape is named
    assert repr(tg.zeros(0, 3)) == "Tensor([], shape=(0, 3))"


def test_dtype_policy() -> None:
    assert Tensor([1, 2]).dtype == np.float64  # Python data: default dtype
    assert Tensor(np.array([1, 2], dtype=np.int32)).dtype == np.float64
    assert Tensor(np.array([True])).dtype == np.float64
    assert Tensor(np.ones(2, np.float32)).dtype == np.float32  # float arrays keep theirs
    assert Tensor(np.ones(2, np.float16)).dtype == np.float32
    x32 = Tensor(np.ones(2, np.float32), requires_grad=True)
    assert (x32 * 2).dtype == np.float32 and (2.5 - x32).dtype == np.float32
    assert (x32 * np.array([1, 2])).dtype == np.float32  # integer data takes the tensor's dtype
    assert (x32 * [1.0, 2.0]).dtype == np.float32 and ([0.5, 1.5] - x32).dtype == np.float32  # Python lists too
    assert (x32 * np.array([1.0, 2.0])).dtype == np.float64  # a float64 array keeps its dtype: promotes
    assert Tensor(np.float32(2.0)).dtype == np.float32  # numpy scalars keep theirs
    assert (x32 + Tensor(np.ones(2))).dtype == np.float64  # mixed floats promote
    (x32 + Tensor(np.ones(2))).sum().backward()
    assert x32.grad.dtype == np.float32  # but the gradient has the input's dtype
    try:
        tg.set_default_dtype(np.float32)
        assert Tensor([1.0]).dtype == np.float32 and tg.zeros(2).dtype == np.float32
        assert tg.get_default_dtype() == np.float32
    finally:
        tg.set_default_dtype(np.float64)
    assert Tensor([1.0]).dtype == np.float64


def test_factories_seed_and_generator() -> None:
    np.testing.assert_array_equal(tg.randn(2, 3, seed=7).data, np.random.default_rng(7).standard_normal((2, 3)))
    np.testing.assert_array_equal(tg.rand((4,), seed=np.random.default_rng(1)).data, np.random.default_rng(1).random(4))
    u = tg.uniform((1000,), low=-2.0, high=3.0, seed=0)
    assert u.data.min() >= -2.0 and u.data.max() < 3.0
    gen = np.random.default_rng(5)
    first, second = tg.randn(3, seed=gen), tg.randn(3, seed=gen)
    assert not np.array_equal(first.data, second.data)  # a Generator advances
    np.testing.assert_array_equal(tg.zeros(2, 3).data, np.zeros((2, 3)))
    np.testing.assert_array_equal(tg.ones((2,), dtype=np.float32).data, np.ones(2, np.float32))
    np.testing.assert_array_equal(tg.full((2,), 7.0).data, [7.0, 7.0])
    np.testing.assert_array_equal(tg.eye(2).data, np.eye(2))
    np.testing.assert_array_equal(tg.arange(1, 7, 2).data, [1.0, 3.0, 5.0])
    x = Tensor(np.ones((2, 2), np.float32))
    likes = (tg.zeros_like(x), tg.ones_like(x), tg.full_like(x, 3.0), tg.rand_like(x, seed=1), tg.randn_like(x, seed=1))
    for like in likes:
        assert like.shape == (2, 2) and like.dtype == np.float32
    assert tg.randn(2, seed=0, requires_grad=True).requires_grad
    np.testing.assert_array_equal(tg.full(3, 2.0).data, [2.0, 2.0, 2.0])  # an int shape
    np.testing.assert_array_equal(tg.eye(2, 3).data, np.eye(2, 3))
    u = tg.uniform_like(x, low=-1.0, high=1.0, seed=2)
    np.testing.assert_array_equal(u.data, np.random.default_rng(2).uniform(-1.0, 1.0, (2, 2)).astype(np.float32))
    assert u.dtype == np.float32


def test_factories_keep_their_old_import_path() -> None:
    """The factories moved to tinygrad_edu.factories; tinygrad_edu.tensor_class still provides them."""
    from tinygrad_edu import factories
    from tinygrad_edu.tensor_class import randn, zeros

    assert zeros is factories.zeros is tg.zeros and randn is factories.randn
    import tinygrad_edu.tensor_class as tensor_module

    with pytest.raises(AttributeError, match="has no attribute 'nope'"):
        tensor_module.nope  # noqa: B018


def test_matmul_shapes() -> None:
    a, b = np.arange(3.0), np.arange(6.0).reshape(3, 2)
    assert (Tensor(a) @ Tensor(a)).shape == ()
    assert (Tensor(a) @ Tensor(b)).shape == (2,)
    assert (Tensor(b.T) @ Tensor(a)).shape == (2,)
    assert (Tensor(np.ones((4, 2, 3))) @ Tensor(b)).shape == (4, 2, 2)
    np.testing.assert_array_equal((a @ Tensor(b)).data, a @ b)  # reflected with an ndarray


# ============================================================== numerical stability


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "softplus", "softmax", "log_softmax", "logsumexp"])
def test_stable_at_large_inputs_without_warnings(name: str) -> None:
    z = np.array([-1e4, -1.0, 0.0, 1e4])
    r = np.array([0.3, -0.7, 1.1, 0.9])
    t = Tensor(z, requires_grad=True)
    with warnings.catch_warnings(), np.errstate(all="raise"):
        warnings.simplefilter("error")
        out = getattr(t, name)()
        (out * (r if out.shape else 1.0)).sum().backward()
    assert np.all(np.isfinite(out.data)) and np.all(np.isfinite(t.grad.data))
    sig = np.array([0.0, 1 / (1 + np.e), 0.5, 1.0])
    expected = {
        "sigmoid": (sig, r * sig * (1 - sig)),
        "tanh": (np.tanh(z), r * (1 - np.tanh(z) ** 2)),
        "softplus": (np.array([0.0, np.log1p(np.exp(-1.0)), np.log(2.0), 1e4]), r * sig),
        "softmax": (np.array([0.0, 0.0, 0.0, 1.0]), np.zeros(4)),  # softmax saturated: p(1-p) = 0
        "log_softmax": (z - 1e4, r - r.sum() * np.array([0, 0, 0, 1.0])),
        "logsumexp": (np.array(1e4), np.array([0, 0, 0, 1.0])),
    }[name]
    np.testing.assert_allclose(out.data, expected[0], rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(t.grad.data, expected[1], rtol=1e-12, atol=1e-300)


def test_logsumexp_of_all_minus_infinity_rows() -> None:
    x = Tensor(np.array([[-np.inf, -np.inf], [0.0, 0.0]]))
    np.testing.assert_allclose(x.logsumexp(axis=1).data, [-np.inf, np.log(2.0)])


def test_softmax_cross_entropy_gradient_is_p_minus_y_over_n() -> None:
    """The lectures' dZ[L] = A[L] - Y for softmax + cross-entropy, averaged over N."""
    z = np.random.default_rng(0).standard_normal((5, 4))
    y = np.eye(4)[[0, 3, 1, 1, 2]]
    t = Tensor(z, requires_grad=True)
    loss = -(t.log_softmax(axis=1) * y).sum(axis=1).mean()
    loss.backward()
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(t.grad.data, (p - y) / 5, rtol=1e-12, atol=1e-15)


def test_shape_caches_are_bounded() -> None:
    """The shape helpers cache their answers for speed; a long-running process that meets
    ever new shapes must not grow them without bound."""
    from tinygrad_edu import primitives
    from tinygrad_edu import tensor_class as tensor

    caches = [tensor._normalize_axis_cached, tensor._resolve_shape_cached, tensor._broadcast_shape,
              primitives._broadcast_strides, primitives._broadcast_axes]
    for cache in caches:
        assert cache.cache_info().maxsize is not None and cache.cache_info().maxsize <= 4096, cache.__name__
    for n in range(1, 1500):  # more distinct shapes than any cache holds
        Tensor(np.ones(n)).reshape(1, n).sum(axis=1)
    assert all(cache.cache_info().currsize <= cache.cache_info().maxsize for cache in caches)
