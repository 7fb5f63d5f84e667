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

from .engine import is_grad_enabled

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
        if not is_grad_enabled():  # backward not recorded: one primitive, g * (1 - a^2)
            return (g._apply(TanhGrad, g, out),)
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
        if not is_grad_enabled():  # backward not recorded: one primitive, g a (1 - a)
            return (g._apply(SigmoidGrad, g, out),)
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
        if not is_grad_enabled():  # backward not recorded: one numpy pass, g * [x > 0]
            return (g._apply(ReluGrad, g, x),)
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
        x_share = (x > y).cast(x.dtype) + (x == y).cast(x.dtype) * 0.5  # comparisons are bool tensors
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
        is_max = (x == out).cast(x.dtype)  # a 0/1 float (comparisons are bool tensors)
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
        # Layout: an operand that is a transposed view (``x @ W.T``: W.T is W's memory read
        # across) gets its gradient as the transpose of a contiguous product, so
        # that the permute's VJP hands W a C-contiguous dW in W's own layout. Same numbers.
        if x.requires_grad:
            dx = (y @ g.mT).mT if _is_transposed(x.data) else g @ y.mT
        else:
            dx = None
        if y.requires_grad:
            dy = (g.mT @ x).mT if _is_transposed(y.data) else x.mT @ g
        else:
            dy = None
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
def _is_transposed(a: np.ndarray) -> bool:
    """Whether ``a`` is the transpose (last two axes swapped) of a C-contiguous array, and not contiguous itself."""
    return a.ndim >= 2 and not a.flags.c_contiguous and a.swapaxes(-1, -2).flags.c_contiguous


# ====================================================================== fused layer ops
# Two primitives that could be composed from the ones above but are fused for speed, because
# every training step runs them: the layer's affine map and the output layer's softmax
# cross-entropy. Each fuses what the lectures derive by hand as one formula, so the graph
# shows one readable node instead of five to eight, and the VJP is the lectures' closed form.
# The composed versions stay as references (``x @ W.T + b`` and
# ``nll_loss(z.log_softmax(axis=1), y)``) and the tests check both give the same values and
# gradients, to first and second order.


class Linear(Primitive):
    """Z = X W^T + b;  dL/dX = G W, dL/dW = G^T X, dL/db = sum of G over the rows.

    X: a batch of shape (m, n[l-1]), W: (n[l], n[l-1]), b: (n[l],) or no b. The lectures'
    Z[l] = W[l] A[l-1] + b[l], batch first (rows are examples). With G = dJ/dZ:

        dX = G W,   dW = G^T X  (the lectures' dW[l] = (1/m) dZ[l] A[l-1]^T),   db = sum_i G_i.

    dW comes out C-contiguous in W's own layout (the composed ``x @ W.T`` gives the
    transpose of a contiguous array, which every optimiser update then reads across strides).
    """

    name = "linear"

    @staticmethod
    def forward(x, w, b=None):
        z = x @ w.T
        if b is not None:
            z += b  # z is a fresh array: add the bias in place
        return z

    @staticmethod
    def backward(g, out, x, w, b=None):
        dx = g @ w if x.requires_grad else None
        if not w.requires_grad:
            dw = None
        elif is_grad_enabled():
            dw = g.mT @ x
        else:  # backward not recorded: G^T X in one primitive (no permute node)
            dw = g._apply(LinearWeightGrad, g, x)
        db = g.sum(axis=0) if b is not None and b.requires_grad else None
        return dx, dw, db


def _log_softmax_rows(z: np.ndarray) -> np.ndarray:
    """log softmax of each row, stably: z - max - log(sum(e^(z - max))) (e^ never overflows)."""
    with _errstate():  # e^ of very negative values underflows to 0 (right); a row of -inf gives nan
        shifted = z - z.max(axis=1, keepdims=True)
        shifted -= np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return shifted


class SoftmaxCrossEntropy(Primitive):
    """L_i = -sum_k Y_ik log softmax(Z_i)_k;  dL/dZ = A - Y (the lectures' dZ[L] = A[L] - Y).

    Output: J = scale * sum_i L_i, or the per-example L_i when ``scale`` is None. Logits Z
    have shape (N, C), and

        A = softmax(Z) (rows),   L^(i) = -sum_k Y_ik log A_ik.

    The target is either integer ``labels`` (a constant (N,) array, Y their one-hot rows) or a
    second input Y of shape (N, C) (one-hot or probability rows). ``scale`` is 1/N for the
    mean, 1 for the sum. The VJP is the lectures' output-layer formula

        dZ[L] = A[L] - Y   (times g * scale; for a Y row not summing to 1: A * sum_k Y_k - Y),

    and dL/dY = -g * scale * log A. Written in Tensor ops (A recomputed as ``z.softmax``) so
    ``create_graph=True`` differentiates it again.
    """

    name = "softmax_cross_entropy"

    @staticmethod
    def forward(z, y=None, labels=None, scale=None):
        log_a = _log_softmax_rows(z)
        if labels is not None:
            losses = -log_a[np.arange(len(labels)), labels]
        else:
            losses = -(y * log_a).sum(axis=1)
        if scale is None:
            return losses
        return np.asarray(losses.sum() * scale, dtype=z.dtype)

    @staticmethod
    def backward(g, out, z, y=None, labels=None, scale=None):
        from .tensor_class import Tensor  # (tensor_class imports this module)

        dz = dy = None
        if z.requires_grad and not is_grad_enabled():  # backward not recorded: one numpy pass
            extra = (g,) if y is None else (g, y)
            dz = z._apply(SoftmaxCrossEntropyGrad, z, *extra, labels=labels, scale=scale)
        elif z.requires_grad:  # create_graph: the same formula in Tensor ops, differentiable again
            rows = g.reshape(-1, 1) if scale is None else g * scale  # dJ/dL^(i): (N, 1) or a scalar
            a = z.softmax(axis=1)
            if labels is not None:
                dz = (a - Tensor(_one_hot(labels, z.shape, z.dtype))) * rows  # dZ[L] = A[L] - Y
            else:
                dz = (a * y.sum(axis=1, keepdims=True) - y) * rows
        if y is not None and y.requires_grad:
            rows = g.reshape(-1, 1) if scale is None else g * scale
            dy = -(z.log_softmax(axis=1) * rows)
        return dz, dy


def _one_hot(labels: np.ndarray, shape: tuple[int, ...], dtype: Any) -> np.ndarray:
    """The (N, C) rows with a 1 at each example's label."""
    y = np.zeros(shape, dtype=dtype)
    y[np.arange(len(labels)), labels] = 1.0
    return y


class SoftmaxCrossEntropyGrad(Primitive):
    """dJ/dZ = (A * sum_k Y_k - Y) * g * scale with A = softmax(Z): :class:`SoftmaxCrossEntropy`'s VJP
    as one numpy pass (A - Y for one-hot or probability rows), used when backward is not
    recorded. Its own derivative is never needed: with ``create_graph=True`` the VJP uses
    Tensor ops instead.
    """

    name = "softmax_cross_entropy_grad"

    @staticmethod
    def forward(z, g, y=None, labels=None, scale=None):
        with _errstate():  # e^(very negative) underflows to 0: the right limit
            a = np.exp(_log_softmax_rows(z))
        if labels is not None:
            a[np.arange(len(labels)), labels] -= 1.0  # A - Y for one-hot Y
        else:
            a *= y.sum(axis=1, keepdims=True)
            a -= y
        a *= g.reshape(-1, 1) if scale is None else g * scale
        return a

    @staticmethod
    def backward(g, out, z, grad, y=None, labels=None, scale=None):
        raise NotImplementedError(
            "softmax_cross_entropy_grad has no derivative of its own; differentiate the loss with "
            "backward(create_graph=True), which records the VJP in Tensor ops"
        )


# ====================================================================== windows: convolution and pooling
# A kH x kW window slid with stride s over an (N, C, H, W) image visits, for kernel offset
# (u, v), the strided slice x[:, :, u::s, v::s] (cut to H' x W' positions). Every primitive
# below is kH*kW such slices -- no 6-d views, no integer-array gathers. They come in
# transposed pairs (gather / scatter), each the other's VJP, so every order of derivative
# exists; ``max_pool2d``'s VJP is a scatter weighted by where the maxima were.


def _window(u: int, v: int, stride: tuple[int, int], out_hw: tuple[int, int]) -> tuple[slice, ...]:
    """The index of kernel offset (u, v): x[:, :, u + s*i, v + s*j] for i < H', j < W'."""
    (sh, sw), (oh, ow) = stride, out_hw
    return (slice(None), slice(None), slice(u, u + sh * (oh - 1) + 1, sh), slice(v, v + sw * (ow - 1) + 1, sw))


def _out_hw(shape: tuple[int, ...], kernel: tuple[int, int], stride: tuple[int, int]) -> tuple[int, int]:
    return (shape[2] - kernel[0]) // stride[0] + 1, (shape[3] - kernel[1]) // stride[1] + 1


class Im2col(Primitive):
    """cols[c, u, v, n, i, j] = x[n, c, s*i + u, s*j + v]: every kH x kW patch of x as a column.

    Reshaped to (C*kH*kW, N*H'*W'), one matrix product W_flat @ cols is the whole
    convolution. Linear in x, so the VJP is the transposed map :class:`Col2im`
    (each patch's gradient added back where the patch came from; overlaps accumulate).
    """

    name = "im2col"

    @staticmethod
    def forward(x, kernel, stride):
        (kh, kw), (sh, sw) = kernel, stride
        n, c = x.shape[:2]
        oh, ow = _out_hw(x.shape, kernel, stride)
        sn, sc, s_h, s_w = x.strides
        patches = np.lib.stride_tricks.as_strided(
            x, (c, kh, kw, n, oh, ow), (sc, s_h, s_w, sn, s_h * sh, s_w * sw), writeable=False
        )
        return np.ascontiguousarray(patches)  # one copy, in the layout the matmul wants

    @staticmethod
    def forward_into(out, x, kernel, stride):
        """``forward`` written into ``out`` (what ``tg.jit`` replays)."""
        sh, sw = stride
        sn, sc, s_h, s_w = x.strides
        np.copyto(out, np.lib.stride_tricks.as_strided(x, out.shape, (sc, s_h, s_w, sn, s_h * sh, s_w * sw)))

    @staticmethod
    def backward(g, out, x, kernel, stride):
        return (g._apply(Col2im, g, kernel=kernel, stride=stride, shape=x.shape),)


class Col2im(Primitive):
    """x[n, c, s*i + u, s*j + v] += cols[c, u, v, n, i, j]: patches added back into an image of ``shape``.

    The transpose of :class:`Im2col` (and Im2col is its VJP).
    """

    name = "col2im"

    @staticmethod
    def forward(cols, kernel, stride, shape):
        z = np.zeros(shape, dtype=cols.dtype)
        out_hw = cols.shape[4:]
        for u in range(kernel[0]):
            for v in range(kernel[1]):
                z[_window(u, v, stride, out_hw)] += cols[:, u, v].transpose(1, 0, 2, 3)
        return z

    @staticmethod
    def backward(g, out, cols, kernel, stride, shape):
        return (g._apply(Im2col, g, kernel=kernel, stride=stride),)


class WindowSum(Primitive):
    """z[n, c, i, j] = sum_{u, v} w_uv * x[n, c, s*i + u, s*j + v];  dL/dx = :class:`WindowScatter` of g.

    ``weights`` is one number (1/(kH*kW) gives the average pool) or an array of shape
    (kH*kW, N, C, H', W') (one weight per offset and output: the VJP of the VJP of max pooling).
    """

    name = "window_sum"

    @staticmethod
    def forward(x, kernel, stride, weights):
        out_hw = _out_hw(x.shape, kernel, stride)
        z = None
        for k, (u, v) in enumerate(np.ndindex(*kernel)):
            term = x[_window(u, v, stride, out_hw)] * (weights if np.ndim(weights) == 0 else weights[k])
            if z is None:
                z = term
            else:
                z += term
        return z

    @staticmethod
    def backward(g, out, x, kernel, stride, weights):
        return (g._apply(WindowScatter, g, kernel=kernel, stride=stride, weights=weights, shape=x.shape),)


class AvgPool2d(WindowSum):
    """z[n, c, i, j] = (1/(kH*kW)) sum_{u, v} x[n, c, s*i + u, s*j + v];  each input gets g/(kH*kW) per window."""

    name = "avg_pool2d"


class WindowScatter(Primitive):
    """z = zeros(shape) with z[n, c, s*i + u, s*j + v] += w_uv * g[n, c, i, j]: the transpose of :class:`WindowSum`."""

    name = "window_scatter"

    @staticmethod
    def forward(g, kernel, stride, weights, shape):
        z = np.zeros(shape, dtype=g.dtype)
        out_hw = g.shape[2:]
        for k, (u, v) in enumerate(np.ndindex(*kernel)):
            z[_window(u, v, stride, out_hw)] += g * (weights if np.ndim(weights) == 0 else weights[k])
        return z

    @staticmethod
    def backward(g, out, x, kernel, stride, weights, shape):
        return (g._apply(WindowSum, g, kernel=kernel, stride=stride, weights=weights),)


class MaxPool2d(Primitive):
    """z[n, c, i, j] = max_{u, v} x_pad[n, c, s*i + u, s*j + v] (padding is -inf);  dL/dx = g at the maximum.

    Tied maxima share the gradient evenly (as ``max``). The VJP is a :class:`WindowScatter`
    of g weighted by w_uv = [x at (u, v) is the maximum] / (number of maxima), so it has
    derivatives of every order too (w is constant almost everywhere).
    """

    name = "max_pool2d"

    @staticmethod
    def forward(x, kernel, stride, padding):
        xp = _pad_minus_inf(x, padding)
        out_hw = _out_hw(xp.shape, kernel, stride)
        z = None
        for u, v in np.ndindex(*kernel):
            window = xp[_window(u, v, stride, out_hw)]
            z = window.copy() if z is None else np.maximum(z, window, out=z)
        return z

    @staticmethod
    def backward(g, out, x, kernel, stride, padding):
        if not is_grad_enabled():  # backward not recorded: one primitive, no weight array
            grad = g._apply(MaxPool2dGrad, g, x.detach(), out.detach(), kernel=kernel, stride=stride, padding=padding)
            return (grad,)
        # the weights are a constant made by a primitive (not by numpy here), so that
        # tg.jit's trace recomputes them on every replay
        weights = x._apply(MaxPoolWeights, x.detach(), out.detach(), kernel=kernel, stride=stride, padding=padding)
        xp_shape = x.shape[:2] + tuple(n + 2 * p for n, p in zip(x.shape[2:], padding))
        dx = g._apply(WindowScatter, g, kernel=kernel, stride=stride, weights=weights.data, shape=xp_shape)
        (ph, pw), (h, w) = padding, x.shape[2:]
        if ph or pw:
            dx = dx[:, :, ph : ph + h, pw : pw + w]
        return (dx,)


class MaxPoolWeights(Primitive):
    """w[u*kW + v, n, c, i, j] = [x_pad at offset (u, v) is the window's maximum z] / (number of maxima).

    A constant (the derivative of an indicator is 0 almost everywhere): how :class:`MaxPool2d`'s
    VJP shares g within each window.
    """

    name = "max_pool_weights"

    @staticmethod
    def forward(x, out, kernel, stride, padding):
        xp = _pad_minus_inf(x, padding)
        out_hw = out.shape[2:]
        is_max = np.stack([xp[_window(u, v, stride, out_hw)] == out for u, v in np.ndindex(*kernel)])
        with _errstate():  # a window of NaN has no maximum: 0/0 = nan weights, as max
            return (is_max / is_max.sum(axis=0)).astype(x.dtype)

    @staticmethod
    def backward(g, out, x, z, kernel, stride, padding):
        return None, None


def _pad_minus_inf(x: np.ndarray, padding: tuple[int, int]) -> np.ndarray:
    """x with ``padding`` rows/columns of -inf around the last two axes (padding never wins a max)."""
    ph, pw = padding
    if ph == pw == 0:
        return x
    return np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=-np.inf)


# ====================================================================== backward-only primitives
# Used by VJPs when the backward pass is not recorded (no create_graph): one numpy pass
# instead of several Tensor ops. With create_graph the VJPs use Tensor ops instead, so
# these never need a derivative of their own. ``forward_into`` writes into a given array
# (what ``tg.jit`` replays).


class _BackwardOnly(Primitive):
    @staticmethod
    def backward(g, out, *inputs, **params):
        raise NotImplementedError(
            "a backward-only primitive has no derivative of its own; differentiate through "
            "backward(create_graph=True), which records the VJP in Tensor ops"
        )


class ReluGrad(_BackwardOnly):
    """dL/dz = g * [z > 0]: :class:`Relu`'s VJP (relu'(0) = 0), the mask never stored as floats."""

    name = "relu_grad"

    @staticmethod
    def forward(g, x):
        return np.multiply(g, x > 0)

    @staticmethod
    def forward_into(out, g, x):
        np.multiply(g, x > 0, out=out)


class MaxPool2dGrad(_BackwardOnly):
    """dL/dx of :class:`MaxPool2d`: each window's g to its maximum, split evenly between tied maxima."""

    name = "max_pool2d_grad"

    @staticmethod
    def forward(g, x, out, kernel, stride, padding):
        xp = _pad_minus_inf(x, padding)
        dx = np.zeros(xp.shape, dtype=g.dtype)
        MaxPool2dGrad._scatter(dx, xp, g, out, kernel, stride)
        return MaxPool2dGrad._crop(dx, x.shape, padding)

    @staticmethod
    def forward_into(result, g, x, out, kernel, stride, padding):
        if padding != (0, 0):  # (the padded gradient is an extra array: not worth a special case)
            np.copyto(result, MaxPool2dGrad.forward(g, x, out, kernel, stride, padding))
            return
        result.fill(0.0)
        MaxPool2dGrad._scatter(result, x, g, out, kernel, stride)

    @staticmethod
    def _scatter(dx, xp, g, out, kernel, stride):
        out_hw = out.shape[2:]
        windows = [_window(u, v, stride, out_hw) for u, v in np.ndindex(*kernel)]
        is_max = [xp[w] == out for w in windows]
        count = sum(is_max)  # how many maxima share each window's gradient
        with _errstate():  # a window of NaN has no maximum: 0/0 = nan, as max
            share = g / count
        disjoint = stride[0] >= kernel[0] and stride[1] >= kernel[1]
        for w, mask in zip(windows, is_max):
            if disjoint:  # each input in at most one window: write, no read-modify-write
                np.multiply(mask, share, out=dx[w])
            else:
                dx[w] += mask * share

    @staticmethod
    def _crop(dx, shape, padding):
        (ph, pw), (h, w) = padding, shape[2:]
        return dx[:, :, ph : ph + h, pw : pw + w] if ph or pw else dx


class TanhGrad(_BackwardOnly):
    """dL/dz = g (1 - a^2) with a = tanh(z): :class:`Tanh`'s VJP (the same three numpy ops, one node)."""

    name = "tanh_grad"

    @staticmethod
    def forward(g, a):
        return g * (1.0 - a * a)

    @staticmethod
    def forward_into(out, g, a):
        np.multiply(a, a, out=out)
        np.subtract(1.0, out, out=out)
        np.multiply(g, out, out=out)


class SigmoidGrad(_BackwardOnly):
    """dL/dz = g a (1 - a) with a = sigma(z): :class:`Sigmoid`'s VJP (the same numpy ops, one node)."""

    name = "sigmoid_grad"

    @staticmethod
    def forward(g, a):
        return g * a * (1.0 - a)

    @staticmethod
    def forward_into(out, g, a):
        np.multiply(g, a, out=out)
        np.multiply(out, 1.0 - a, out=out)


class LinearWeightGrad(_BackwardOnly):
    """dL/dW = G^T X: :class:`Linear`'s weight gradient, C-contiguous in W's layout."""

    name = "linear_weight_grad"

    @staticmethod
    def forward(g, x):
        return g.T @ x

    @staticmethod
    def forward_into(out, g, x):
        np.matmul(g.T, x, out=out)


# ====================================================================== fused: mean squared error


class SquaredError(Primitive):
    """J = scale sum_i (y_hat_i - y_i)^2;  dJ/dy_hat = 2 scale (y_hat - y), dJ/dy = -dJ/dy_hat.

    With scale = 1/m this is the lectures' MSE and its gradient (2/m)(y_hat - y); with
    ``scale`` None the output is the elementwise squares. The composed reference is
    ``((y_hat - y) * (y_hat - y)).sum() * (1/m)``.
    """

    name = "mse_loss"

    @staticmethod
    def forward(pred, target, scale=None):
        diff = pred - target
        squares = diff * diff
        if scale is None:
            return squares
        return np.asarray(squares.sum() * scale, dtype=squares.dtype)

    @staticmethod
    def backward(g, out, pred, target, scale=None):
        if not is_grad_enabled():  # backward not recorded: one numpy pass
            dpred = g._apply(SquaredErrorGrad, g, pred, target, scale=scale)
        else:
            dpred = (pred - target) * ((g if scale is None else g * scale) * 2.0)
        return (dpred if pred.requires_grad else None), (-dpred if target.requires_grad else None)


class SquaredErrorGrad(_BackwardOnly):
    """dJ/dy_hat = (y_hat - y) * (2 g scale): :class:`SquaredError`'s VJP in one node."""

    name = "mse_loss_grad"

    @staticmethod
    def forward(g, pred, target, scale=None):
        return (pred - target) * ((g if scale is None else g * scale) * 2.0)

    @staticmethod
    def forward_into(out, g, pred, target, scale=None):
        np.subtract(pred, target, out=out)
        np.multiply(out, (g if scale is None else g * scale) * 2.0, out=out)
