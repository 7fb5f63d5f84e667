"""The primitive ops of ``Tensor``: the only ops that know calculus.

Each primitive declares, in one place,

* ``forward(*arrays, **params)``: the result as a numpy array, and
* ``backward(g, out, *inputs, **params)``: its vector-Jacobian product (VJP). Given the
  upstream gradient ``g`` = dL/d(out), it returns dL/d(input) for each input (``None``
  for an input that does not require grad).

The VJPs are written with ``Tensor`` ops, not numpy, so with
``backward(create_graph=True)`` the backward pass is itself recorded and can be
differentiated again (Hessian-vector products, gradient penalties). Without it the
backward runs under ``no_grad`` and costs about as much as hand-written numpy.

Every other op (mean, var, softmax, losses, layers, ...) is composed from these in
:mod:`tinygrad_edu.tensor_class` and has no backward of its own. Primitive binary ops see
inputs of one shape: broadcasting is the explicit :class:`Expand` primitive, whose
VJP is a sum, so no other op reduces gradients by hand.

Notation: ``x``, ``y`` inputs, ``z`` output, ``g`` = dL/dz, ``*`` elementwise.

Read :mod:`tinygrad_edu.engine` and :mod:`tinygrad_edu.value` first: each class here is
a ``Value`` op on whole arrays. Then read :mod:`tinygrad_edu.tensor_class`, which calls these.

One speed habit recurs: a VJP computes a parent's gradient only ``if parent.requires_grad``
(else ``None``), so constants such as the input batch X cost nothing in backward.
"""

from __future__ import annotations

import functools
import math
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from .tensor_class import Tensor

Grads = tuple[Any, ...]


class Primitive:
    """Base of all primitives (a namespace for ``forward`` and ``backward``)."""

    name = "primitive"
    # What the VJP reads at backward time: input positions and/or "out" (None: all of them).
    # An in-place change of one of these between forward and backward is an error
    # (see tinygrad_edu.versions); () means the VJP needs no values, only shapes.
    saves: tuple[int | str, ...] | None = None

    @staticmethod
    def forward(*arrays: np.ndarray, **params: Any) -> np.ndarray:
        raise NotImplementedError

    @staticmethod
    def backward(g: Tensor, out: Tensor, *inputs: Tensor, **params: Any) -> Grads:
        raise NotImplementedError


def _errstate() -> Any:
    """Edge-of-domain results (log 0 = -inf, 1/0 = inf) are documented, not warned about."""
    return np.errstate(divide="ignore", invalid="ignore", over="ignore", under="ignore")


# ====================================================================== unary elementwise


class Neg(Primitive):
    """z = -x;  dL/dx = -g."""

    name = "neg"
    saves = ()

    @staticmethod
    def forward(x):
        return np.negative(x)

    @staticmethod
    def backward(g, out, x):
        return (-g,)


class Exp(Primitive):
    """z = e^x;  dz/dx = e^x = z, so dL/dx = g * z."""

    name = "exp"
    saves = ("out",)

    @staticmethod
    def forward(x):
        with _errstate():
            return np.exp(x)

    @staticmethod
    def backward(g, out, x):
        return (g * out,)


class Log(Primitive):
    """z = ln x;  dz/dx = 1/x, so dL/dx = g / x.  ln 0 = -inf, ln(x<0) = nan (as numpy)."""

    name = "log"
    saves = (0,)

    @staticmethod
    def forward(x):
        with _errstate():
            return np.log(x)

    @staticmethod
    def backward(g, out, x):
        return (g / x,)


class Sqrt(Primitive):
    """z = sqrt(x);  dz/dx = 1 / (2 sqrt(x)) = 1 / (2z), so dL/dx = g / (2z).  sqrt'(0) = inf."""

    name = "sqrt"
    saves = ("out",)

    @staticmethod
    def forward(x):
        with _errstate():
            return np.sqrt(x)

    @staticmethod
    def backward(g, out, x):
        return (g / (out * 2.0),)


class Abs(Primitive):
    """z = |x|;  dz/dx = sign(x), with sign(0) = 0 (as PyTorch)."""

    name = "abs"
    saves = (0,)

    @staticmethod
    def forward(x):
        return np.abs(x)

    @staticmethod
    def backward(g, out, x):
        return (g * x.sign(),)


class Tanh(Primitive):
    """a = tanh(z);  da/dz = 1 - tanh(z)^2 = 1 - a^2, so dL/dz = g * (1 - a^2)."""

    name = "tanh"
    saves = ("out",)

    @staticmethod
    def forward(x):
        return np.tanh(x)

    @staticmethod
    def backward(g, out, x):
        return (g * (1.0 - out * out),)


class Sigmoid(Primitive):
    """a = sigma(z) = 1 / (1 + e^-z);  da/dz = sigma(z)(1 - sigma(z)) = a(1 - a).

    Stable forward: with e = e^-|z| (never overflows), sigma(z) = 1/(1+e) for z >= 0
    and e/(1+e) for z < 0.
    """

    name = "sigmoid"
    saves = ("out",)

    @staticmethod
    def forward(x):
        with _errstate():  # e^-|z| underflows to 0 for |z| > ~745: the right limit
            e = np.exp(-np.abs(x))
        return np.where(x >= 0, 1.0, e) / (1.0 + e)

    @staticmethod
    def backward(g, out, x):
        return (g * out * (1.0 - out),)


class Relu(Primitive):
    """a = max(0, z);  da/dz = 1 if z > 0 else 0 (relu'(0) = 0, as PyTorch)."""

    name = "relu"
    saves = (0,)

    @staticmethod
    def forward(x):
        return np.maximum(x, 0)

    @staticmethod
    def backward(g, out, x):
        return (g * (x > 0),)


class Cast(Primitive):
    """z = x as another float dtype;  dL/dx = g cast back to x's dtype."""

    name = "cast"
    saves = ()

    @staticmethod
    def forward(x, dtype):
        return x.astype(dtype)

    @staticmethod
    def backward(g, out, x, dtype):
        return (g.cast(x.dtype),)


class PowConst(Primitive):
    """z = x^c for a constant c;  dz/dx = c x^(c-1)."""

    name = "pow"
    saves = (0,)

    @staticmethod
    def forward(x, exponent):
        with _errstate():
            return np.power(x, exponent)

    @staticmethod
    def backward(g, out, x, exponent):
        if exponent == 0:  # x^0 = 1 is flat; 0 * x^-1 would give nan (0 * inf) at x = 0
            return (g * 0.0,)
        return (g * exponent * x ** (exponent - 1),)


# ====================================================================== binary elementwise (same shapes)


class Add(Primitive):
    """z = x + y;  dL/dx = g, dL/dy = g."""

    name = "add"
    saves = ()

    @staticmethod
    def forward(x, y):
        return x + y

    @staticmethod
    def backward(g, out, x, y):
        return g, g


class Sub(Primitive):
    """z = x - y;  dL/dx = g, dL/dy = -g."""

    name = "sub"
    saves = ()

    @staticmethod
    def forward(x, y):
        return x - y

    @staticmethod
    def backward(g, out, x, y):
        return g, (-g if y.requires_grad else None)


class Mul(Primitive):
    """z = x * y;  dL/dx = g * y, dL/dy = g * x."""

    name = "mul"
    saves = (0, 1)

    @staticmethod
    def forward(x, y):
        return x * y

    @staticmethod
    def backward(g, out, x, y):
        return (g * y if x.requires_grad else None), (g * x if y.requires_grad else None)


class Div(Primitive):
    """z = x / y;  dL/dx = g / y, dL/dy = -g x / y^2 = -g z / y."""

    name = "div"
    saves = (1, "out")

    @staticmethod
    def forward(x, y):
        with _errstate():
            return x / y

    @staticmethod
    def backward(g, out, x, y):
        return (g / y if x.requires_grad else None), (-g * out / y if y.requires_grad else None)


class Pow(Primitive):
    """z = x^y;  dL/dx = g y x^(y-1), dL/dy = g x^y ln x (x > 0).

    At x = 0 the terms 0 * inf are taken as their limits, as ``Value`` and PyTorch do:
    dL/dy = 0 for y >= 0 (x^y ln x -> 0), and dL/dx = 0 where also y = 0 (0^y is the
    constant 1). For y < 0, x^y ln x = inf * (-inf) = -inf at x = 0, as PyTorch gives.
    """

    name = "pow"
    saves = (0, 1, "out")

    @staticmethod
    def forward(x, y):
        with _errstate():
            return np.power(x, y)

    @staticmethod
    def backward(g, out, x, y):
        zero = x == 0  # 0/1 constant: shift the exponent / log argument there to avoid 0 * inf = nan
        dx = g * y * x ** (y - 1.0 + zero * (y == 0)) if x.requires_grad else None
        dy = g * out * (x + zero * (y >= 0)).log() if y.requires_grad else None
        return dx, dy


class Maximum(Primitive):
    """z = max(x, y) elementwise;  dL/dx = g where x > y, dL/dy = g where y > x.

    Ties split the gradient evenly (g/2 each), as PyTorch.
    """

    name = "maximum"
    saves = (0, 1)

    @staticmethod
    def forward(x, y):
        return np.maximum(x, y)

    @staticmethod
    def backward(g, out, x, y):
        x_share = (x > y) + (x == y) * 0.5
        return (g * x_share if x.requires_grad else None), (g * (1.0 - x_share) if y.requires_grad else None)


class Where(Primitive):
    """z = x where cond else y (cond is a constant boolean array);  dL/dx = g where cond, dL/dy = g elsewhere."""

    name = "where"
    saves = ()

    @staticmethod
    def forward(x, y, cond):
        return np.where(cond, x, y)

    @staticmethod
    def backward(g, out, x, y, cond):
        zero = g.zeros_like()
        dx = Where.apply(g, zero, cond=cond) if x.requires_grad else None
        dy = Where.apply(zero, g, cond=cond) if y.requires_grad else None
        return dx, dy

    @staticmethod
    def apply(x: Tensor, y: Tensor, cond: np.ndarray) -> Tensor:
        return x._apply(Where, x, y, cond=cond)


# ====================================================================== reductions


def _keepdims_shape(shape: tuple[int, ...], axis: tuple[int, ...]) -> tuple[int, ...]:
    """``shape`` with the reduced ``axis`` kept as size 1 (what ``keepdims=True`` gives)."""
    return tuple(1 if i in axis else n for i, n in enumerate(shape))


class Sum(Primitive):
    """z = sum of x over ``axis``;  dz/dx_i = 1, so dL/dx = g broadcast back to x's shape."""

    name = "sum"
    saves = ()

    @staticmethod
    def forward(x, axis, keepdims):
        return x.sum(axis=axis, keepdims=keepdims)

    @staticmethod
    def backward(g, out, x, axis, keepdims):
        # Put the summed axes back as size 1 so g lines up with x -- unless they are the
        # leading axes, which expand adds by itself (as numpy broadcasting does).
        if not keepdims and axis != tuple(range(len(axis))):
            g = g.reshape(_keepdims_shape(x.shape, axis))
        return (g.expand(x.shape),)


class Max(Primitive):
    """z = max of x over ``axis``;  dL/dx_i = g / k where x_i is one of the k maxima, else 0.

    Ties split the gradient evenly among the tied maxima (as PyTorch's ``amax``).
    """

    name = "max"
    saves = (0, "out")

    @staticmethod
    def forward(x, axis, keepdims):
        return x.max(axis=axis, keepdims=keepdims)

    @staticmethod
    def backward(g, out, x, axis, keepdims):
        if not keepdims:
            kshape = _keepdims_shape(x.shape, axis)
            g, out = g.reshape(kshape), out.reshape(kshape)
        is_max = x == out
        count = is_max.sum(axis=axis, keepdims=True)
        return (g.expand(x.shape) * (is_max / count),)


# ====================================================================== movement


class Reshape(Primitive):
    """z = x with a new shape (same elements in the same order);  dL/dx = g reshaped to x's shape."""

    name = "reshape"
    saves = ()

    @staticmethod
    def forward(x, shape):
        return x.reshape(shape)

    @staticmethod
    def backward(g, out, x, shape):
        return (g.reshape(x.shape),)


class Permute(Primitive):
    """z = x with axes reordered, z.shape[i] = x.shape[axes[i]];  dL/dx = g permuted by the inverse order."""

    name = "permute"
    saves = ()

    @staticmethod
    def forward(x, axes):
        return x.transpose(axes)

    @staticmethod
    def backward(g, out, x, axes):
        return (g.permute(*np.argsort(axes).tolist()),)


class Expand(Primitive):
    """z = x broadcast to ``shape`` (size-1 axes repeated, new leading axes added);  dL/dx = g summed back.

    Each x_i is copied to several z_j, so dL/dx_i = sum of g_j over its copies: the VJP
    of broadcasting is a *sum* over the broadcast axes ("sum in reverse").
    """

    name = "expand"
    saves = ()

    @staticmethod
    def forward(x, shape):
        return _broadcast_view(x, shape)

    @staticmethod
    def backward(g, out, x, shape):
        axes = _broadcast_axes(x.shape, shape)
        summed = g.sum(axis=axes, keepdims=True) if axes else g
        return (summed.reshape(x.shape),)


def _broadcast_view(x: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """``np.broadcast_to(x, shape)``: a read-only view of x in which a repeated axis has stride 0.

    For a contiguous array the view is made directly from its memory and the (cached)
    strides, about 4x cheaper than ``np.broadcast_to`` -- which matters because every
    layer expands its bias on every step. Other arrays go through ``np.broadcast_to``.
    """
    if type(x) is not np.ndarray or not x.flags.c_contiguous or x.size == 0:
        return np.broadcast_to(x, shape)
    view = np.ndarray(shape, x.dtype, x, 0, _broadcast_strides(x.shape, x.strides, shape))
    view.flags.writeable = False  # its elements alias each other, as np.broadcast_to's
    return view


@functools.lru_cache(maxsize=1024)  # a model expands the same few shapes on every step
def _broadcast_strides(small: tuple[int, ...], strides: tuple[int, ...], shape: tuple[int, ...]) -> tuple[int, ...]:
    """The strides of ``small`` (with ``strides``) broadcast to ``shape``: 0 along the repeated axes."""
    lead = len(shape) - len(small)
    if lead < 0 or any(n not in (1, m) for n, m in zip(small, shape[lead:])):
        raise ValueError(f"cannot broadcast shape {small} to {shape}")
    return (0,) * lead + tuple(s if n == m else 0 for n, s, m in zip(small, strides, shape[lead:]))


@functools.lru_cache(maxsize=1024)  # asked on every backward pass for the same few shapes
def _broadcast_axes(small: tuple[int, ...], shape: tuple[int, ...]) -> tuple[int, ...]:
    """The axes of ``shape`` along which broadcasting ``small`` to it made copies: the new
    leading axes and the axes where ``small`` has size 1 and ``shape`` does not."""
    lead = len(shape) - len(small)
    return tuple(range(lead)) + tuple(lead + i for i, n in enumerate(small) if n == 1 and shape[lead + i] != 1)


def _has_integer_array(index: tuple[Any, ...]) -> bool:
    """Whether ``index`` holds an integer array (the only kind of index that can repeat an element)."""
    return any(isinstance(i, np.ndarray) and i.dtype != bool for i in index)


def _without_boolean_arrays(index: tuple[Any, ...]) -> tuple[Any, ...]:
    """A boolean array in an index means the same as the integer arrays of its nonzero()."""
    out: list[Any] = []
    for i in index:
        if isinstance(i, np.ndarray) and i.dtype == bool:
            out.extend(np.nonzero(i))
        else:
            out.append(i)
    return tuple(out)


class Getitem(Primitive):
    """z = x[index] (ints, slices, None, Ellipsis, integer and boolean arrays);  dL/dx = g scattered back.

    Each selected x_i receives the gradient of every z_j that copied it, so an index
    repeated k times accumulates k gradients (see :class:`ScatterAdd`).
    """

    name = "getitem"
    saves = ()

    @staticmethod
    def forward(x, index):
        return x[index]

    @staticmethod
    def backward(g, out, x, index):
        return (g._apply(ScatterAdd, g, shape=x.shape, index=index),)


class ScatterAdd(Primitive):
    """z = zeros(shape) with z[index] += x (repeated indices add up);  dL/dx = g[index].

    The VJP of :class:`Getitem`, and Getitem is its VJP: so indexing has gradients of
    every order.
    """

    name = "scatter_add"
    saves = ()

    @staticmethod
    def forward(x, shape, index):
        z = np.zeros(shape, dtype=x.dtype)
        if _has_integer_array(index):  # repeats possible: np.add.at adds them (z[index] += x would not)
            np.add.at(z, _without_boolean_arrays(index), x)
        else:
            z[index] = x
        return z

    @staticmethod
    def backward(g, out, x, shape, index):
        return (g._apply(Getitem, g, index=index),)


class Pad(Primitive):
    """z = x with ``pad_width[i] = (before, after)`` zeros around axis i;  dL/dx = g without the padding."""

    name = "pad"
    saves = ()

    @staticmethod
    def forward(x, pad_width):
        return np.pad(x, pad_width)

    @staticmethod
    def backward(g, out, x, pad_width):
        inner = tuple(slice(lo, lo + n) for (lo, _), n in zip(pad_width, x.shape))
        return (g._apply(Getitem, g, index=inner),)


# ====================================================================== matmul


class MatMul(Primitive):
    """Z = X @ Y over the last two axes (equal batch axes);  dL/dX = G @ Y^T, dL/dY = X^T @ G.

    Here ^T swaps the last two axes. For one layer Z = W A + b of the lectures this is
    dW = G A^T and dA = W^T G with G = dJ/dZ. J is the mean over the m examples, so
    G = (1/m) dZ already holds the lectures' 1/m: G A^T is their dW = (1/m) dZ A^T.
    """

    name = "matmul"
    saves = (0, 1)

    @staticmethod
    def forward(x, y):
        return np.matmul(x, y)

    @staticmethod
    def backward(g, out, x, y):
        dx = g @ y.mT if x.requires_grad else None
        dy = x.mT @ g if y.requires_grad else None
        return dx, dy


# ====================================================================== added for issue 17 (new ops)
# Each of these exists because composing it from the primitives above would be numerically
# unstable (log1p, expm1), impossible with real arithmetic (sin, cos, asin, atan, erf), or
# asymptotically slow (cumsum, cumprod: O(n^2) as a triangular matmul; concatenate: O(k n)
# as k zero-padded sums). Their VJPs are again written in Tensor ops.


class Sin(Primitive):
    """z = sin x;  dz/dx = cos x, so dL/dx = g cos x.  (No real composition of exp gives sin.)"""

    name = "sin"

    @staticmethod
    def forward(x):
        return np.sin(x)

    @staticmethod
    def backward(g, out, x):
        return (g * x.cos(),)


class Cos(Primitive):
    """z = cos x;  dz/dx = -sin x, so dL/dx = -g sin x."""

    name = "cos"

    @staticmethod
    def forward(x):
        return np.cos(x)

    @staticmethod
    def backward(g, out, x):
        return (-(g * x.sin()),)


class Asin(Primitive):
    """z = arcsin x (|x| <= 1);  dz/dx = 1 / sqrt(1 - x^2) (inf at |x| = 1; nan outside, as numpy)."""

    name = "asin"

    @staticmethod
    def forward(x):
        with _errstate():
            return np.arcsin(x)

    @staticmethod
    def backward(g, out, x):
        return (g * (1.0 - x * x) ** -0.5,)


class Atan(Primitive):
    """z = arctan x;  dz/dx = 1 / (1 + x^2)."""

    name = "atan"

    @staticmethod
    def forward(x):
        return np.arctan(x)

    @staticmethod
    def backward(g, out, x):
        return (g / (x * x + 1.0),)


class Log1p(Primitive):
    """z = ln(1 + x);  dz/dx = 1 / (1 + x).

    A primitive because ln(1 + x) composed rounds 1 + x first: for |x| < 1e-16 it returns 0
    (float64), whereas log1p(x) ~ x keeps every digit.
    """

    name = "log1p"

    @staticmethod
    def forward(x):
        with _errstate():
            return np.log1p(x)

    @staticmethod
    def backward(g, out, x):
        return (g / (x + 1.0),)


class Expm1(Primitive):
    """z = e^x - 1;  dz/dx = e^x = z + 1.

    A primitive because e^x - 1 composed cancels catastrophically for small |x| (e^1e-10 - 1
    keeps ~6 of 16 digits); expm1 is exact to the last digit.
    """

    name = "expm1"

    @staticmethod
    def forward(x):
        with _errstate():
            return np.expm1(x)

    @staticmethod
    def backward(g, out, x):
        return (g * (out + 1.0),)


_erf = np.frompyfunc(math.erf, 1, 1)  # numpy has no erf; math.erf is exact to ~1 ulp (slow: ~0.1 us / element)


class Erf(Primitive):
    """z = erf x = (2 / sqrt(pi)) int_0^x e^(-t^2) dt;  dz/dx = (2 / sqrt(pi)) e^(-x^2).

    A primitive because erf is not an elementary function: no composition of the others gives it.
    """

    name = "erf"

    @staticmethod
    def forward(x):
        return np.asarray(_erf(x), dtype=x.dtype)

    @staticmethod
    def backward(g, out, x):
        return (g * (-(x * x)).exp() * (2.0 / math.sqrt(math.pi)),)


class Cumsum(Primitive):
    """z_i = sum_{j <= i} x_j along ``axis``;  dL/dx_i = sum_{j >= i} g_j (a reversed cumsum of g).

    A primitive because composing it (a matmul with a triangular matrix of ones) costs O(n^2).
    """

    name = "cumsum"

    @staticmethod
    def forward(x, axis):
        return np.cumsum(x, axis=axis)

    @staticmethod
    def backward(g, out, x, axis):
        return (g.flip(axis).cumsum(axis).flip(axis),)


class Cumprod(Primitive):
    """z_i = prod_{j <= i} x_j along ``axis``;  dL/dx_i = sum_{j >= i} g_j prod_{k <= j, k != i} x_k.

    Without zeros that is (sum_{j >= i} g_j z_j) / x_i: a reversed cumsum divided by x.
    Zeros are handled exactly, without dividing by them: let k be the first zero of a line
    and x' = x with x_k replaced by 1, z' = cumprod(x'). Then z_j = z'_j before k and
    x_k z'_j from k on, so
    dL/dx_k = sum_{j >= k} g_j z'_j, and for i != k, dL/dx_i = (the VJP of cumprod at x'
    with cotangent g_j scaled by x_k from k on)_i -- the same rule on a line with one zero
    fewer (a recursion as deep as the most zeros in one line). Everything is Tensor ops, so
    second derivatives are right at zeros too.
    """

    name = "cumprod"

    @staticmethod
    def forward(x, axis):
        return np.cumprod(x, axis=axis)

    @staticmethod
    def backward(g, out, x, axis):
        zero = x.data == 0
        if not zero.any():
            return ((g * out).flip(axis).cumsum(axis).flip(axis) / x,)
        seen_zero = np.cumsum(zero, axis=axis)  # zeros seen so far along the line, this one included
        first = zero & (seen_zero == 1)
        ones, zeros = x._constant(np.ones_like(x.data)), x._constant(np.zeros_like(x.data))
        x_prime = Where.apply(ones, x, cond=first)
        z_prime = x_prime.cumprod(axis)
        x_k = Where.apply(x, zeros, cond=first).sum(axis=axis, keepdims=True).expand(x.shape)  # 0, in the graph
        scale = Where.apply(x_k, ones, cond=seen_zero >= 1)
        (dx_others,) = Cumprod.backward(g * scale, z_prime, x_prime, axis)
        dx_first = (g * z_prime).flip(axis).cumsum(axis).flip(axis)
        return (Where.apply(dx_first, dx_others, cond=first),)


class Concatenate(Primitive):
    """z = x_1, x_2, ..., x_k joined along ``axis``;  dL/dx_i = the slice of g where x_i lies.

    A primitive because the composition (each part zero-padded to the full length, then
    summed) costs O(k * n) time and memory: 8,000 one-element parts took seconds and ~1 GB.
    This one is O(n), and its VJP is k slices (``getitem``, whose own VJP scatters back).
    """

    name = "concatenate"

    @staticmethod
    def forward(*parts, axis):
        return np.concatenate(parts, axis=axis)

    @staticmethod
    def backward(g, out, *parts, axis):
        grads, offset = [], 0
        lead = (slice(None),) * axis
        for p in parts:
            n = p.shape[axis]
            index = lead + (slice(offset, offset + n),)  # valid by construction: skip getitem's checks
            grads.append(g._apply(Getitem, g, index=index) if p.requires_grad else None)
            offset += n
        return tuple(grads)
