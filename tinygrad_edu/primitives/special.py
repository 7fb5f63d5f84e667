"""Special-function and scan primitives, added for issue 17 (new ops).

Each of these exists because composing it from the other primitives would be numerically
unstable (log1p, expm1), impossible with real arithmetic (sin, cos, asin, atan, erf), or
asymptotically slow (cumsum, cumprod: O(n^2) as a triangular matmul). Their VJPs are again
written in Tensor ops. (Concatenate, added by the same issue because k zero-padded sums cost
O(k n), lives with the other movements in :mod:`~tinygrad_edu.primitives.movement`.)
"""

from __future__ import annotations

import math

import numpy as np

from .base import Primitive, _errstate
from .binary import Where

__all__ = ["Sin", "Cos", "Asin", "Atan", "Log1p", "Expm1", "Erf", "Cumsum", "Cumprod"]


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
