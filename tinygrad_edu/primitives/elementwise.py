"""Unary elementwise primitives: z = f(x) one element at a time, dL/dx = g * f'(x).

The math functions every network needs (neg, exp, log, sqrt, abs), the classic activations
(tanh, sigmoid, relu) and the two ops that carry a parameter (cast to a dtype, power by a
constant). Each is a primitive because its derivative is a formula of its own, not a
composition. The activations' VJPs use a backward-only primitive
(:mod:`~tinygrad_edu.primitives.backward_only`) when the backward pass is not recorded.
Read :mod:`~tinygrad_edu.primitives.base` first (the package's reading guide).
"""

from __future__ import annotations

import numpy as np

from ..engine import is_grad_enabled
from .backward_only import ReluGrad, SigmoidGrad, TanhGrad
from .base import Primitive, _errstate

__all__ = ["Neg", "Exp", "Log", "Sqrt", "Abs", "Tanh", "Sigmoid", "Relu", "Cast", "PowConst"]


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
