"""Binary elementwise primitives on inputs of one shape: add, sub, mul, div, pow, maximum, where.

Broadcasting is not done here: ``Tensor`` first expands both inputs to one shape with the
:class:`~tinygrad_edu.primitives.movement.Expand` primitive, whose VJP is a sum, so none of
these VJPs reduces a gradient by hand. Each VJP computes an input's gradient only if that
input requires grad.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .base import Primitive, _errstate

if TYPE_CHECKING:
    from ..tensor_class import Tensor


__all__ = ["Add", "Sub", "Mul", "Div", "Pow", "Maximum", "Where"]


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
    saves = ((1, 0), (0, 1))  # y for dL/dx, x for dL/dy (each only if that input requires grad)

    @staticmethod
    def forward(x, y):
        return x * y

    @staticmethod
    def backward(g, out, x, y):
        return (g * y if x.requires_grad else None), (g * x if y.requires_grad else None)


class Div(Primitive):
    """z = x / y;  dL/dx = g / y, dL/dy = -g x / y^2 = -g z / y."""

    name = "div"
    saves = (1, (0, 1))  # y for both; x for dL/dy only

    @staticmethod
    def forward(x, y):
        with _errstate():
            return x / y

    @staticmethod
    def backward(g, out, x, y):
        # x / y recomputed (bit-identical to z) rather than z itself, so an in-place change of z
        # after the op does not invalidate dL/dy (as PyTorch's div, which saves x and y)
        return (g / y if x.requires_grad else None), (-g * (x / y) / y if y.requires_grad else None)


class Pow(Primitive):
    """z = x^y;  dL/dx = g y x^(y-1), dL/dy = g x^y ln x (x > 0).

    At x = 0 the terms 0 * inf are taken as their limits, as ``Value`` and PyTorch do:
    dL/dy = 0 for y >= 0 (x^y ln x -> 0), and dL/dx = 0 where also y = 0 (0^y is the
    constant 1). For y < 0, x^y ln x = inf * (-inf) = -inf at x = 0, as PyTorch gives.
    """

    name = "pow"
    saves = (0, (1, 0), ("out", 1))

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
