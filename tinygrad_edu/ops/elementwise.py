"""Elementwise ops: z_i = f(x_i) for every element, so dL/dx_i = g_i f'(x_i).

Read top to bottom: trigonometry and hyperbolics, exp/log variants, powers, erf, the
activations built from them, then the piecewise-constant ops (rounding, tests, ``//``,
``%``, logic) whose derivative is 0 wherever it exists. Notation: x input, z output,
g = dL/dz. Each docstring says whether the op is a primitive (see
:mod:`tinygrad_edu.primitives`) or composed of other ops (then its gradient comes from the
chain rule, and second derivatives come for free).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import primitives as P
from ..constants import SELU_ALPHA, SELU_SCALE
from ._shared import boolean, piecewise_constant, real, select, truth

if TYPE_CHECKING:
    from ..tensor_class import Tensor

__all__ = ["ElementwiseOps"]

_LN2 = math.log(2.0)
_LN10 = math.log(10.0)
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)


class ElementwiseOps:
    """Mixin of elementwise ops for ``Tensor`` (uses only its primitives and methods)."""

    __slots__ = ()

    # ------------------------------------------------------------------ activations of the lectures

    def leaky_relu(self: Tensor, slope: float = 0.01) -> Tensor:
        """z if z > 0 else slope*z (composed: where);  derivative 1 or slope, slope at 0."""
        return select(self > 0, self, self * slope)

    def elu(self: Tensor, alpha: float = 1.0) -> Tensor:
        """z if z > 0 else alpha(e^z - 1) (composed);  derivative 1 or alpha e^z, alpha at 0.

        The exponential only sees min(z, 0), so large z never overflows.
        """
        positive = self > 0
        negative_part = select(positive, 0.0, self)
        return select(positive, self, (negative_part.exp() - 1.0) * alpha)

    def selu(self: Tensor) -> Tensor:
        """scale * elu(z, alpha), alpha ~ 1.6733, scale ~ 1.0507 (composed);  derivative scale or scale alpha e^z."""
        return self.elu(SELU_ALPHA) * SELU_SCALE

    def softplus(self: Tensor) -> Tensor:
        """ln(1 + e^z) (composed, stable): max(z, 0) + log1p(e^(z - 2 max(z, 0))).

        z - 2 max(z, 0) = -|z|, so the exponential never overflows. The derivative is sigma(z)
        everywhere (1/2 at 0, where relu'(0) = 0 leaves d(z - 2 max(z, 0))/dz = 1), and the
        second derivative is sigma'(z) there too. At z = +-inf, z - 2 max(z, 0) would be
        inf - inf, so tensors holding an infinity take the branchwise form
        where(z > 0, z + log1p(e^-z), log1p(e^z)) instead (slower: three where ops):
        softplus(inf) = inf with gradient 1, softplus(-inf) = 0 with gradient 0.
        """
        if not np.isinf(self.data).any():
            positive = self.relu()
            return positive + (self - positive * 2.0).exp().log1p()
        is_positive = self > 0
        above, below = select(is_positive, self, 0.0), select(is_positive, 0.0, self)
        return select(is_positive, above + (-above).exp().log1p(), below.exp().log1p())

    def clip(self: Tensor, low: float | None = None, high: float | None = None) -> Tensor:
        """min(max(x, low), high) (composed: where);  derivative 1 inside [low, high], 0 outside."""
        if low is None and high is None:
            raise ValueError("clip: give at least one of low and high (both are None)")
        out = self
        if low is not None:
            out = select(out < low, low, out)
        if high is not None:
            out = select(out > high, high, out)
        return out

    clamp = clip

    # ------------------------------------------------------------------ trigonometry

    def sin(self: Tensor) -> Tensor:
        """z = sin x (primitive);  dz/dx = cos x."""
        return self._apply(P.Sin, self)

    def cos(self: Tensor) -> Tensor:
        """z = cos x (primitive);  dz/dx = -sin x."""
        return self._apply(P.Cos, self)

    def tan(self: Tensor) -> Tensor:
        """z = tan x = sin x / cos x (composed);  dz/dx = 1 / cos^2 x = 1 + tan^2 x."""
        return self.sin() / self.cos()

    def asin(self: Tensor) -> Tensor:
        """z = arcsin x, |x| <= 1 (primitive);  dz/dx = 1 / sqrt(1 - x^2)."""
        return self._apply(P.Asin, self)

    def acos(self: Tensor) -> Tensor:
        """z = arccos x = pi/2 - arcsin x (composed);  dz/dx = -1 / sqrt(1 - x^2)."""
        return math.pi / 2 - self.asin()

    def atan(self: Tensor) -> Tensor:
        """z = arctan x (primitive);  dz/dx = 1 / (1 + x^2)."""
        return self._apply(P.Atan, self)

    arcsin, arccos, arctan = asin, acos, atan  # numpy's names

    def sinh(self: Tensor) -> Tensor:
        """z = sinh x = (e^x - e^-x) / 2, as (expm1(x) - expm1(-x)) / 2 (composed; exact near 0);  dz/dx = cosh x."""
        return (self.expm1() - (-self).expm1()) * 0.5

    def cosh(self: Tensor) -> Tensor:
        """z = cosh x = (e^x + e^-x) / 2 (composed);  dz/dx = sinh x."""
        return (self.exp() + (-self).exp()) * 0.5

    # ------------------------------------------------------------------ exp and log variants

    def log1p(self: Tensor) -> Tensor:
        """z = ln(1 + x) (primitive, exact for tiny x);  dz/dx = 1 / (1 + x)."""
        return self._apply(P.Log1p, self)

    def expm1(self: Tensor) -> Tensor:
        """z = e^x - 1 (primitive, exact for tiny x);  dz/dx = e^x."""
        return self._apply(P.Expm1, self)

    def log2(self: Tensor) -> Tensor:
        """z = log2 x = ln x / ln 2 (composed);  dz/dx = 1 / (x ln 2)."""
        return self.log() * (1.0 / _LN2)

    def log10(self: Tensor) -> Tensor:
        """z = log10 x = ln x / ln 10 (composed);  dz/dx = 1 / (x ln 10)."""
        return self.log() * (1.0 / _LN10)

    def exp2(self: Tensor) -> Tensor:
        """z = 2^x = e^(x ln 2) (composed);  dz/dx = 2^x ln 2."""
        return (self * _LN2).exp()

    # ------------------------------------------------------------------ powers

    def square(self: Tensor) -> Tensor:
        """z = x^2 = x * x (composed);  dz/dx = 2x."""
        return self * self

    def reciprocal(self: Tensor) -> Tensor:
        """z = 1 / x (composed: div);  dz/dx = -1 / x^2 (inf at 0, as numpy)."""
        return 1.0 / self

    def rsqrt(self: Tensor) -> Tensor:
        """z = 1 / sqrt(x) = x^(-1/2) (composed: pow);  dz/dx = -x^(-3/2) / 2."""
        return self ** -0.5

    def erf(self: Tensor) -> Tensor:
        """z = erf x = (2 / sqrt(pi)) int_0^x e^(-t^2) dt (primitive);  dz/dx = (2 / sqrt(pi)) e^(-x^2)."""
        return self._apply(P.Erf, self)

    # ------------------------------------------------------------------ activations

    def gelu(self: Tensor, approximate: str = "none") -> Tensor:
        """a = z Phi(z), Phi the standard normal CDF = (1 + erf(z / sqrt 2)) / 2 (composed).

        da/dz = Phi(z) + z phi(z) with phi(z) = e^(-z^2/2) / sqrt(2 pi). ``approximate="tanh"``
        uses Phi(z) ~ (1 + tanh(sqrt(2/pi) (z + 0.044715 z^3))) / 2, as PyTorch.
        """
        if approximate == "none":
            return self * ((self * (1.0 / math.sqrt(2.0))).erf() + 1.0) * 0.5
        if approximate == "tanh":
            inner = (self + self * self * self * 0.044715) * _SQRT_2_OVER_PI
            return self * (inner.tanh() + 1.0) * 0.5
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")

    def silu(self: Tensor) -> Tensor:
        """a = z sigma(z) (composed; also called swish);  da/dz = sigma(z) (1 + z (1 - sigma(z)))."""
        return self * self.sigmoid()

    swish = silu

    def mish(self: Tensor) -> Tensor:
        """a = z tanh(softplus(z)) (composed);  da/dz = tanh(sp) + z sigma(z) (1 - tanh^2(sp)), sp = softplus(z)."""
        return self * self.softplus().tanh()

    def softsign(self: Tensor) -> Tensor:
        """a = z / (1 + |z|) (composed);  da/dz = 1 / (1 + |z|)^2."""
        return self / (self.abs() + 1.0)

    def hardtanh(self: Tensor, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
        """a = min(max(z, min_val), max_val) (composed: where);  da/dz = 1 strictly inside, 0 elsewhere (as PyTorch)."""
        min_val, max_val = real(min_val, "hardtanh", "min_val"), real(max_val, "hardtanh", "max_val")
        if not min_val < max_val:
            raise ValueError(f"hardtanh: expected min_val < max_val, got min_val={min_val}, max_val={max_val}")
        # two wheres on comparisons (not numpy masks), so tg.jit replays them with the data
        return select(self < max_val, select(self > min_val, self, min_val), max_val)

    def relu6(self: Tensor) -> Tensor:
        """a = min(max(z, 0), 6) = hardtanh(z, 0, 6) (composed);  da/dz = 1 for 0 < z < 6, else 0."""
        return self.hardtanh(0.0, 6.0)

    def hardsigmoid(self: Tensor) -> Tensor:
        """a = relu6(z + 3) / 6 (composed);  da/dz = 1/6 for -3 < z < 3, else 0."""
        return (self + 3.0).relu6() * (1.0 / 6.0)

    def hardswish(self: Tensor) -> Tensor:
        """a = z relu6(z + 3) / 6 (composed);  da/dz = 0 below -3, z/3 + 1/2 in (-3, 3), 1 above 3."""
        return self * self.hardsigmoid()

    def celu(self: Tensor, alpha: float = 1.0) -> Tensor:
        """a = z for z > 0, alpha (e^(z/alpha) - 1) otherwise (composed);  da/dz = 1 or e^(z/alpha).

        The exponential only sees min(z, 0), so large z never overflows.
        """
        if real(alpha, "celu", "alpha") == 0:
            raise ValueError("celu: alpha must not be 0 (it divides z)")
        positive = self > 0
        negative_part = select(positive, self._constant(np.zeros((), dtype=self.dtype)), self)
        return select(positive, self, (negative_part * (1.0 / alpha)).expm1() * alpha)

    # ------------------------------------------------------------------ piecewise constant: zero gradient

    def floor(self: Tensor) -> Tensor:
        """z = the largest integer <= x (piecewise constant);  dz/dx = 0 (as PyTorch)."""
        return piecewise_constant(self, np.floor(self.data))

    def ceil(self: Tensor) -> Tensor:
        """z = the smallest integer >= x (piecewise constant);  dz/dx = 0."""
        return piecewise_constant(self, np.ceil(self.data))

    def round(self: Tensor, decimals: int = 0) -> Tensor:
        """z = x rounded to ``decimals`` places, halves to even (numpy and PyTorch; piecewise constant);  dz/dx = 0."""
        return piecewise_constant(self, np.round(self.data, decimals))

    def trunc(self: Tensor) -> Tensor:
        """z = x rounded towards 0 (piecewise constant);  dz/dx = 0."""
        return piecewise_constant(self, np.trunc(self.data))

    fix = trunc

    def isnan(self: Tensor) -> Tensor:
        """True where x is NaN (no gradient)."""
        return boolean(self, np.isnan(self.data))

    def isinf(self: Tensor) -> Tensor:
        """True where x is +inf or -inf (no gradient)."""
        return boolean(self, np.isinf(self.data))

    def isfinite(self: Tensor) -> Tensor:
        """True where x is neither NaN nor infinite (no gradient)."""
        return boolean(self, np.isfinite(self.data))

    # ------------------------------------------------------------------ floor division and remainder

    def floor_divide(self: Tensor, other: Any) -> Tensor:
        """z = floor(x / y) (``//``; piecewise constant);  dz/dx = dz/dy = 0.

        Two integer operands give an integer result (as PyTorch); dividing one by 0 is an error.
        """
        if _both_integer(self, other):
            return _integer_op(np.floor_divide, self, other, "floor_divide")
        return (self / other).floor()

    def __floordiv__(self: Tensor, other: Any) -> Tensor:
        """x // y = floor(x / y) (piecewise constant);  gradient 0."""
        return self.floor_divide(other)

    def __rfloordiv__(self: Tensor, other: Any) -> Tensor:
        """c // x = floor(c / x) for a number or array c (piecewise constant);  gradient 0."""
        return self._constant(other).floor_divide(self)

    def remainder(self: Tensor, other: Any) -> Tensor:
        """z = x - y floor(x / y) (``%``; sign of y, as Python, numpy and PyTorch) (composed);
        dz/dx = 1, dz/dy = -floor(x / y). Two integer operands give an integer result."""
        if _both_integer(self, other):
            return _integer_op(np.mod, self, other, "remainder")
        return self - (self / other).floor() * other

    def __mod__(self: Tensor, other: Any) -> Tensor:
        """x % y = x - y floor(x / y) (composed: see ``remainder``)."""
        return self.remainder(other)

    def __rmod__(self: Tensor, other: Any) -> Tensor:
        """c % x = c - x floor(c / x) for a number or array c (composed);  dz/dx = -floor(c / x)."""
        return self._constant(other).remainder(self)

    # ------------------------------------------------------------------ logic (nonzero is true; no gradient)

    def logical_not(self: Tensor) -> Tensor:
        """True where x == 0 (no gradient)."""
        return boolean(self, ~truth(self, "logical_not"))

    def logical_and(self: Tensor, other: Any) -> Tensor:
        """True where both x and y are nonzero (broadcasting; no gradient)."""
        return boolean(self, truth(self, "logical_and") & truth(other, "logical_and"))

    def logical_or(self: Tensor, other: Any) -> Tensor:
        """True where x or y (or both) is nonzero (broadcasting; no gradient)."""
        return boolean(self, truth(self, "logical_or") | truth(other, "logical_or"))

    def logical_xor(self: Tensor, other: Any) -> Tensor:
        """True where exactly one of x and y is nonzero (broadcasting; no gradient)."""
        return boolean(self, truth(self, "logical_xor") ^ truth(other, "logical_xor"))


def _both_integer(x: Tensor, other: Any) -> bool:
    """Whether x and ``other`` (a Tensor, array or number) both hold integers (or bools)."""
    data = other.data if isinstance(other, type(x)) else np.asarray(other)
    return x.dtype.kind in "iub" and data.dtype.kind in "iub"


def _integer_op(fn: Any, x: Tensor, other: Any, op: str) -> Tensor:
    """``fn`` (floor_divide or mod) of two integer operands as an integer constant (no gradient)."""
    data = other.data if isinstance(other, type(x)) else np.asarray(other)
    if np.any(data == 0):
        raise ZeroDivisionError(f"{op}: integer division by zero (shapes {x.shape} and {np.shape(data)})")
    result = np.asarray(fn(x.data, data))
    return type(x)(result, dtype=result.dtype if result.dtype.kind in "iu" else np.int64)
