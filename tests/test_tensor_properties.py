"""Property tests of every Tensor op: forward == numpy, gradient == central differences.

Recipe: /work/shared/TESTING.md. Values come from each op's domain (log, sqrt, division
away from 0; exp bounded) and keep >= 1e-3 away from kinks, built constructively
(magnitude * sign) rather than filtered. Upstream gradients are random (``check_vjp``),
shapes are small (<= 3 axes, sides <= 4) so finite differences stay cheap.
"""

from __future__ import annotations

import numpy as np
import pytest
from helpers import check_vjp
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinygrad_edu as tg
from tinygrad_edu import Tensor
from tinygrad_edu.testing import arrays, broadcastable_shapes, shapes
from tinygrad_edu.value import SELU_ALPHA, SELU_SCALE

SHAPES = shapes()  # 0..3 axes, sides 1..4


def away_from(shape: tuple[int, ...], kink: float = 0.0, gap: float = 1e-3, hi: float = 5.0):
    """Values kink +/- [gap, hi]: at least ``gap`` from the kink, built from intervals."""
    return arrays(shape, kink - hi, kink + hi, away_from=(kink,), margin=gap)


@st.composite
def distinct(draw: st.DrawFn, shape: tuple[int, ...]) -> np.ndarray:
    """Pairwise distinct values on a grid of 1/4: no ties, spacing 0.25 >> finite-difference step."""
    size = int(np.prod(shape))
    ks = draw(st.lists(st.integers(-40, 40), min_size=size, max_size=size, unique=True))
    return np.array(ks, dtype=np.float64).reshape(shape) / 4


@st.composite
def axes(draw: st.DrawFn, ndim: int):
    """None, an int (maybe negative) or a tuple of distinct axes."""
    if ndim == 0:
        return None
    kind = draw(st.sampled_from(["none", "int", "tuple"]))
    if kind == "none":
        return None
    if kind == "int":
        return draw(st.integers(-ndim, ndim - 1))
    return tuple(draw(st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True)))


# ============================================================== unary elementwise

UNARY = {
    # name: (tensor fn, numpy reference, values strategy for a shape)
    "neg": (lambda x: -x, np.negative, lambda s: arrays(s, -5, 5)),
    "exp": (Tensor.exp, np.exp, lambda s: arrays(s, -10, 10)),
    "log": (Tensor.log, np.log, lambda s: arrays(s, 1e-3, 1e3)),
    "sqrt": (Tensor.sqrt, np.sqrt, lambda s: arrays(s, 1e-3, 1e3)),
    "abs": (Tensor.abs, np.abs, lambda s: away_from(s)),
    "tanh": (Tensor.tanh, np.tanh, lambda s: arrays(s, -30, 30)),
    "sigmoid": (Tensor.sigmoid, lambda z: 1 / (1 + np.exp(-z)), lambda s: arrays(s, -30, 30)),
    "relu": (Tensor.relu, lambda z: np.maximum(z, 0), lambda s: away_from(s)),
    "leaky_relu": (lambda x: x.leaky_relu(0.1), lambda z: np.where(z > 0, z, 0.1 * z), lambda s: away_from(s)),
    "elu": (lambda x: x.elu(0.7), lambda z: np.where(z > 0, z, 0.7 * (np.exp(z) - 1)), lambda s: away_from(s)),
    "selu": (
        Tensor.selu,
        lambda z: SELU_SCALE * np.where(z > 0, z, SELU_ALPHA * (np.exp(z) - 1)),
        lambda s: away_from(s),
    ),
    "softplus": (Tensor.softplus, lambda z: np.log1p(np.exp(z)), lambda s: arrays(s, -30, 30)),
    "clip": (lambda x: x.clip(-1.0, 2.0), lambda z: np.clip(z, -1.0, 2.0), lambda s: away_from(s, 0.5, 1e-3, 1.49)),
    "square": (lambda x: x**2, np.square, lambda s: arrays(s, -5, 5)),
    "cube": (lambda x: x**3.0, lambda z: z**3, lambda s: arrays(s, -5, 5)),
    "pow_half": (lambda x: x**0.5, np.sqrt, lambda s: arrays(s, 0.1, 10)),
    "pow_neg": (lambda x: x**-1.5, lambda z: z**-1.5, lambda s: arrays(s, 0.1, 10)),
    "rsub": (lambda x: 3.0 - x, lambda z: 3.0 - z, lambda s: arrays(s, -5, 5)),
    "rdiv": (lambda x: 2.0 / x, lambda z: 2.0 / z, lambda s: away_from(s, 0.0, 0.1)),
    "rpow": (lambda x: 2.0**x, lambda z: 2.0**z, lambda s: arrays(s, -5, 5)),
}


@pytest.mark.parametrize("name", sorted(UNARY))
@given(data=st.data())
def test_unary_forward_and_gradient(name: str, data: st.DataObject) -> None:
    op, reference, values = UNARY[name]
    x = data.draw(SHAPES.flatmap(values))
    out = check_vjp(op, x)
    np.testing.assert_allclose(out.data, reference(x), rtol=1e-12, atol=1e-12)


# ============================================================== binary with broadcasting

BROADCAST_PAIRS = broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=4)


def _off_grid(shape: tuple[int, ...], offset: float) -> st.SearchStrategy[np.ndarray]:
    """Integers + offset: two such arrays with offsets 0.25 and -0.25 never tie (gap 0.5)."""
    return hnp.arrays(np.float64, shape, elements=st.integers(-5, 5)).map(lambda a: a + offset)


BINARY = {
    "add": (lambda x, y: x + y, np.add, lambda s: arrays(s, -5, 5), lambda s: arrays(s, -5, 5)),
    "sub": (lambda x, y: x - y, np.subtract, lambda s: arrays(s, -5, 5), lambda s: arrays(s, -5, 5)),
    "mul": (lambda x, y: x * y, np.multiply, lambda s: arrays(s, -5, 5), lambda s: arrays(s, -5, 5)),
    "div": (lambda x, y: x / y, np.divide, lambda s: arrays(s, -5, 5), lambda s: away_from(s, 0.0, 0.1)),
    "pow": (lambda x, y: x**y, np.power, lambda s: arrays(s, 0.1, 5), lambda s: arrays(s, -3, 3)),
    "maximum": (tg.maximum, np.maximum, lambda s: _off_grid(s, 0.25), lambda s: _off_grid(s, -0.25)),
    "minimum": (tg.minimum, np.minimum, lambda s: _off_grid(s, 0.25), lambda s: _off_grid(s, -0.25)),
}


@pytest.mark.parametrize("name", sorted(BINARY))
@given(data=st.data())
def test_binary_broadcasting_forward_and_gradient(name: str, data: st.DataObject) -> None:
    op, reference, xs, ys = BINARY[name]
    (sx, sy), _ = data.draw(BROADCAST_PAIRS)
    x, y = data.draw(xs(sx)), data.draw(ys(sy))
    out = check_vjp(op, x, y)
    np.testing.assert_allclose(out.data, reference(x, y), rtol=1e-12, atol=1e-12)


@given(data=st.data())
def test_binary_with_numpy_constant_broadcasts_and_reflects(data: st.DataObject) -> None:
    """Tensor op ndarray and ndarray op Tensor: the constant broadcasts, only the Tensor gets a gradient."""
    (sx, sy), _ = data.draw(BROADCAST_PAIRS)
    x, c = data.draw(arrays(sx, -5, 5)), data.draw(away_from(sy, 0.0, 0.5))
    out = check_vjp(lambda t: (t * c - c / (t * t + 1.0)) + (c - t), x)
    np.testing.assert_allclose(out.data, (x * c - c / (x * x + 1.0)) + (c - x), rtol=1e-12)


@given(data=st.data())
def test_where_broadcasts_all_three(data: st.DataObject) -> None:
    (sc, sx, sy), _ = data.draw(broadcastable_shapes(num_shapes=3, max_dims=3, max_side=4))
    cond = data.draw(hnp.arrays(np.bool_, sc))
    x, y = data.draw(arrays(sx, -5, 5)), data.draw(arrays(sy, -5, 5))
    out = check_vjp(lambda a, b: tg.where(cond, a, b), x, y)
    np.testing.assert_array_equal(out.data, np.where(cond, x, y))


# ============================================================== matmul


@given(data=st.data())
def test_matmul_1d_2d_batched(data: st.DataObject) -> None:
    """numpy's matmul signature with optional (1-d) dims and broadcast batch dims."""
    (sx, sy), _ = data.draw(
        hnp.mutually_broadcastable_shapes(signature=np.matmul.signature, max_dims=3, max_side=4)
    )
    x, y = data.draw(arrays(sx, -3, 3)), data.draw(arrays(sy, -3, 3))
    out = check_vjp(lambda a, b: a @ b, x, y)
    np.testing.assert_allclose(out.data, np.matmul(x, y), rtol=1e-12, atol=1e-12)


# ============================================================== reductions

REDUCTIONS = {
    "sum": (Tensor.sum, np.sum),
    "mean": (Tensor.mean, np.mean),
    "max": (Tensor.max, np.max),
    "min": (Tensor.min, np.min),
    "var": (Tensor.var, np.var),
    "std": (Tensor.std, np.std),
    "logsumexp": (
        Tensor.logsumexp,
        lambda a, axis, keepdims: np.log(np.sum(np.exp(a), axis=axis, keepdims=keepdims)),
    ),
}


@pytest.mark.parametrize("name", sorted(REDUCTIONS))
@given(data=st.data())
def test_reduction_axis_keepdims(name: str, data: st.DataObject) -> None:
    op, reference = REDUCTIONS[name]
    # std needs >= 2 elements along reduced axes (std'(var=0) is infinite): min_side=2.
    shape = data.draw(shapes(min_dims=1, min_side=2))
    x = data.draw(distinct(shape))  # distinct values: no ties for max/min
    axis, keepdims = data.draw(axes(len(shape))), data.draw(st.booleans())
    out = check_vjp(lambda t: op(t, axis=axis, keepdims=keepdims), x)
    np.testing.assert_allclose(out.data, reference(x, axis=axis, keepdims=keepdims), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@given(data=st.data())
def test_softmax_and_log_softmax(name: str, data: st.DataObject) -> None:
    shape = data.draw(shapes(min_dims=1))
    x = data.draw(arrays(shape, -10, 10))
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    out = check_vjp(lambda t: getattr(t, name)(axis=axis), x)
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    p = e / e.sum(axis=axis, keepdims=True)
    np.testing.assert_allclose(out.data, p if name == "softmax" else np.log(p), rtol=1e-10, atol=1e-12)


# ============================================================== movement


@given(data=st.data())
def test_reshape_flatten_squeeze_unsqueeze(data: st.DataObject) -> None:
    shape = data.draw(SHAPES)
    x = data.draw(arrays(shape, -5, 5))
    new = data.draw(st.permutations(list(shape) + [1])).copy()
    if new:
        new[data.draw(st.integers(0, len(new) - 1))] = -1
    out = check_vjp(lambda t: t.reshape(*new), x)
    np.testing.assert_array_equal(out.data, x.reshape(new))
    axis = data.draw(st.integers(-x.ndim - 1, x.ndim))
    out = check_vjp(lambda t: t.unsqueeze(axis).flatten().squeeze() * 2.0, x)
    np.testing.assert_array_equal(out.data, np.squeeze(np.expand_dims(x, axis).ravel()) * 2.0)


@given(data=st.data())
def test_transpose_and_T(data: st.DataObject) -> None:
    shape = data.draw(shapes(min_dims=1))
    x = data.draw(arrays(shape, -5, 5))
    perm = data.draw(st.permutations(range(len(shape))))
    out = check_vjp(lambda t: t.permute(*perm), x)
    np.testing.assert_array_equal(out.data, np.transpose(x, perm))
    out = check_vjp(lambda t: t.T, x)
    np.testing.assert_array_equal(out.data, x.T)


@given(data=st.data())
def test_expand_and_broadcast_to(data: st.DataObject) -> None:
    target = data.draw(SHAPES)
    keep = len(target) - data.draw(st.integers(0, len(target)))
    ones = data.draw(st.lists(st.booleans(), min_size=keep, max_size=keep))
    shape = tuple(1 if one else n for one, n in zip(ones, target[len(target) - keep :]))
    x = data.draw(arrays(shape, -5, 5))
    out = check_vjp(lambda t: t.expand(target), x)
    np.testing.assert_array_equal(out.data, np.broadcast_to(x, target))
    out = check_vjp(lambda t: t.broadcast_to(*target) if target else t.broadcast_to(target), x)
    np.testing.assert_array_equal(out.data, np.broadcast_to(x, target))


# ============================================================== indexing


@given(data=st.data())
def test_getitem_basic_indices(data: st.DataObject) -> None:
    """ints, slices (with steps), None and Ellipsis."""
    shape = data.draw(shapes(min_dims=1))
    x = data.draw(arrays(shape, -5, 5))
    index = data.draw(hnp.basic_indices(shape, allow_newaxis=True, allow_ellipsis=True))
    out = check_vjp(lambda t: t[index], x)
    np.testing.assert_array_equal(out.data, x[index])


@given(data=st.data())
def test_getitem_integer_arrays_accumulate_repeats(data: st.DataObject) -> None:
    shape = data.draw(shapes(min_dims=1))
    x = data.draw(arrays(shape, -5, 5))
    index = data.draw(hnp.integer_array_indices(shape, result_shape=hnp.array_shapes(min_dims=1, max_side=6)))
    out = check_vjp(lambda t: t[index], x)
    np.testing.assert_array_equal(out.data, x[index])


@given(data=st.data())
def test_getitem_boolean_mask(data: st.DataObject) -> None:
    shape = data.draw(shapes(min_dims=1))
    x = data.draw(arrays(shape, -5, 5))
    mask_dims = data.draw(st.integers(1, len(shape)))
    mask = data.draw(hnp.arrays(np.bool_, shape[:mask_dims]))
    out = check_vjp(lambda t: t[mask] * 3.0, x)
    np.testing.assert_array_equal(out.data, x[mask] * 3.0)


# ============================================================== joining and padding


@given(data=st.data())
def test_concatenate_stack_pad(data: st.DataObject) -> None:
    shape = data.draw(shapes(min_dims=1, max_side=3))
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    other = list(shape)
    other[axis] = data.draw(st.integers(1, 3))
    x, y = data.draw(arrays(shape, -5, 5)), data.draw(arrays(tuple(other), -5, 5))
    out = check_vjp(lambda a, b: tg.concatenate([a, b * 2.0, a], axis=axis), x, y)
    np.testing.assert_array_equal(out.data, np.concatenate([x, y * 2.0, x], axis=axis))

    z = data.draw(arrays(shape, -5, 5))
    new_axis = data.draw(st.integers(-len(shape) - 1, len(shape)))
    out = check_vjp(lambda a, b: tg.stack([a, b], axis=new_axis), x, z)
    np.testing.assert_array_equal(out.data, np.stack([x, z], axis=new_axis))

    widths = data.draw(st.lists(st.tuples(st.integers(0, 2), st.integers(0, 2)), min_size=x.ndim, max_size=x.ndim))
    out = check_vjp(lambda a: a.pad(widths), x)
    np.testing.assert_array_equal(out.data, np.pad(x, widths))


# ============================================================== float32 keeps its dtype


@given(data=st.data())
def test_float32_gradients_stay_float32(data: st.DataObject) -> None:
    (sx, sy), _ = data.draw(BROADCAST_PAIRS)
    x = data.draw(arrays(sx, -3, 3)).astype(np.float32)
    y = data.draw(arrays(sy, -3, 3)).astype(np.float32)
    tx, ty = Tensor(x, requires_grad=True), Tensor(y, requires_grad=True)
    out = ((tx * ty).tanh() + tx.sigmoid() * 2 - ty.softplus()).sum()
    assert out.dtype == np.float32
    out.backward()
    assert tx.grad.dtype == np.float32 and tx.grad.shape == x.shape
    assert ty.grad.dtype == np.float32 and ty.grad.shape == y.shape
    # float32 result agrees with the float64 computation to float32 precision
    tx64, ty64 = Tensor(x.astype(np.float64), requires_grad=True), Tensor(y.astype(np.float64), requires_grad=True)
    ((tx64 * ty64).tanh() + tx64.sigmoid() * 2 - ty64.softplus()).sum().backward()
    np.testing.assert_allclose(tx.grad.data, tx64.grad.data, rtol=1e-4, atol=1e-5)
