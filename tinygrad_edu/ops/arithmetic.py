"""Arithmetic, matmul, comparisons and logic: the operators of ``Tensor`` and the front doors
of its elementwise primitives.

Read top to bottom: ``+ - * / ** -`` (each the front door of a binary or unary primitive of
:mod:`tinygrad_edu.primitives`, broadcasting through ``Tensor._binary``), ``@`` (matmul, with
numpy's rules for 1-d and batched operands), the bool results of ``& | ^ ~`` and
``< <= > >= == !=``, then the unary primitives (exp, log, sqrt, abs, tanh, sigmoid, relu).
Notation: x, y inputs, z output, g = dL/dz.

The machinery these call stays in :mod:`tinygrad_edu.tensor_class`: ``_binary`` (explicit
broadcasting and dtype promotion), ``_constant`` (the weak Python-number operands),
``_compare`` (kept there because ``tg.jit`` records comparisons by wrapping
``Tensor._compare``) and ``cast``/``_floating`` (the dtype policy).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from .. import engine
from .. import primitives as P
from ..dtypes import _BOOL
from ..dtypes import promote as _promote
from ._shared import broadcast_shape as _broadcast_shape

if TYPE_CHECKING:
    from ..tensor_class import ArrayLike, Tensor

__all__ = ["ArithmeticOps"]


class ArithmeticOps:
    """Mixin of the operators (arithmetic, ``@``, comparisons, logic) and unary primitives for ``Tensor``."""

    __slots__ = ()

    # ------------------------------------------------------------------ arithmetic (primitives)

    def __add__(self, other: ArrayLike) -> Tensor:
        """z = x + y (primitive ``add``; broadcasts through ``expand``);  dL/dx = g, dL/dy = g."""
        return self._binary(P.Add, other)

    def __radd__(self, other: ArrayLike) -> Tensor:
        """z = c + x for a number or array c (reflected ``add``)."""
        return self._binary(P.Add, other, reverse=True)

    def __sub__(self, other: ArrayLike) -> Tensor:
        """z = x - y (primitive ``sub``);  dL/dx = g, dL/dy = -g."""
        if self.data.dtype is _BOOL or getattr(other, "dtype", None) is _BOOL:
            _no_bool_arithmetic("sub (-)", self, other)
        return self._binary(P.Sub, other)

    def __rsub__(self, other: ArrayLike) -> Tensor:
        """z = c - x for a number or array c (reflected ``sub``);  dL/dx = -g."""
        if self.data.dtype is _BOOL or getattr(other, "dtype", None) is _BOOL:
            _no_bool_arithmetic("sub (-)", self, other)
        return self._binary(P.Sub, other, reverse=True)

    def __mul__(self, other: ArrayLike) -> Tensor:
        """z = x * y elementwise (primitive ``mul``);  dL/dx = g * y, dL/dy = g * x."""
        return self._binary(P.Mul, other)

    def __rmul__(self, other: ArrayLike) -> Tensor:
        """z = c * x for a number or array c (reflected ``mul``);  dL/dx = g * c."""
        return self._binary(P.Mul, other, reverse=True)

    def __truediv__(self, other: ArrayLike) -> Tensor:
        """z = x / y (primitive ``div``);  dL/dx = g / y, dL/dy = -g x / y^2. Integers divide to floats."""
        if self.data.dtype.kind != "f" and not _is_float(other):
            return self._floating()._binary(P.Div, other)
        return self._binary(P.Div, other)

    def __rtruediv__(self, other: ArrayLike) -> Tensor:
        """z = c / x for a number or array c (reflected ``div``);  dL/dx = -g c / x^2."""
        if self.data.dtype.kind != "f" and not _is_float(other):
            return self._floating()._binary(P.Div, other, reverse=True)
        return self._binary(P.Div, other, reverse=True)

    def __pow__(self, exponent: ArrayLike) -> Tensor:
        """z = x^c for a number c (primitive ``PowConst``;  dL/dx = g c x^(c-1)) or z = x^y for a
        tensor or array y (primitive ``Pow``;  dL/dx = g y x^(y-1), dL/dy = g x^y ln x, x > 0)."""
        if isinstance(exponent, (int, float)) and not isinstance(exponent, bool):
            return self._apply(P.PowConst, self, exponent=float(exponent))
        return self._binary(P.Pow, exponent)

    def __rpow__(self, base: ArrayLike) -> Tensor:
        """z = a^x for a number or array a > 0 (reflected ``pow``);  dL/dx = g a^x ln a."""
        return self._binary(P.Pow, base, reverse=True)

    def __neg__(self) -> Tensor:
        """z = -x (primitive ``neg``);  dL/dx = -g."""
        if self.data.dtype is _BOOL:
            _no_bool_arithmetic("neg (-)", self, None)
        return self._apply(P.Neg, self)

    def __rmatmul__(self, other: ArrayLike) -> Tensor:
        """Z = C @ X for a constant array C (see ``matmul``)."""
        return self._constant(other).matmul(self)

    def matmul(self, other: ArrayLike) -> Tensor:
        """Z = X @ Y, Z_ij = sum_k X_ik Y_kj;  dL/dX = G @ Y^T, dL/dY = X^T @ G (primitive ``matmul``).

        numpy's rules: 1-d operands are promoted to a row/column
        and the added axis removed afterwards; leading (batch) axes broadcast.
        Composed of ``reshape``, ``expand`` and the 2-d/batched ``MatMul`` primitive."""
        other = self._constant(other)
        x, y = self, other
        xd, yd = x.data, y.data
        if xd.ndim == 2 == yd.ndim and xd.shape[1] == yd.shape[0] and xd.dtype == yd.dtype:
            return self._apply(P.MatMul, x, y)  # fast path: two matrices (every layer and matmul VJP)
        if x.ndim == 0 or y.ndim == 0:
            raise ValueError(f"matmul: operands must have at least 1 dimension, got shapes {x.shape} and {y.shape}")
        if x.shape[-1] != y.shape[-2 if y.ndim > 1 else 0]:
            raise ValueError(
                f"matmul: shapes {x.shape} and {y.shape} are not aligned: the last axis of the first "
                f"({x.shape[-1]}) must equal the {'second-to-last' if y.ndim > 1 else 'only'} axis of the "
                f"second ({y.shape[-2 if y.ndim > 1 else 0]})"
            )
        squeeze_first, squeeze_last = x.ndim == 1, y.ndim == 1
        if squeeze_first:
            x = x.reshape(1, x.shape[0])
        if squeeze_last:
            y = y.reshape(y.shape[0], 1)
        if x.ndim > 2 or y.ndim > 2:
            try:
                batch = _broadcast_shape(x.shape[:-2], y.shape[:-2], "matmul")
            except ValueError:
                raise ValueError(
                    f"matmul: shapes {self.shape} and {other.shape}: the batch axes {x.shape[:-2]} and "
                    f"{y.shape[:-2]} cannot be broadcast together"
                ) from None
            if engine.is_grad_enabled():
                if x.requires_grad and x.shape[:-2] != batch:
                    x = x.expand(batch + x.shape[-2:])
                if y.requires_grad and y.shape[:-2] != batch:
                    y = y.expand(batch + y.shape[-2:])
        if x.dtype != y.dtype:
            common = _promote(x.dtype, y.dtype)
            x, y = x.cast(common), y.cast(common)
        out = self._apply(P.MatMul, x, y)
        if squeeze_first:
            out = out.reshape(out.shape[:-2] + out.shape[-1:])
        if squeeze_last:
            out = out.reshape(out.shape[:-1])
        return out

    __matmul__ = matmul

    def dot(self, other: ArrayLike) -> Tensor:
        """Alias of ``matmul`` (inner product for two 1-d tensors; composed: it calls ``matmul``)."""
        return self.matmul(other)

    # ------------------------------------------------------------------ comparisons and logic (no gradient)

    def _logical(self, other: ArrayLike | None, op: Any, name: str) -> Tensor:
        """Bitwise ``& | ^ ~`` on bool (logical and, or, xor, not) and integer tensors, as PyTorch."""
        operands = [self] if other is None else [self, self._constant(other, name)]
        for t in operands:
            if t.data.dtype.kind not in "biu":
                raise TypeError(
                    f"{name}: needs bool or integer tensors, got {t.dtype} (shape {t.shape}); for masks "
                    "combine comparisons, e.g. (x > 0) & (x < 6)"
                )
        from ..tensor_class import _wrap  # (tensor_class imports this module)

        if other is None:
            return _wrap(op(self.data))
        if self.data.shape != operands[1].data.shape:
            _broadcast_shape(self.data.shape, operands[1].data.shape, name)
        return _wrap(op(self.data, operands[1].data).astype(_promote(self.dtype, operands[1].dtype)))

    def __and__(self, other: ArrayLike) -> Tensor:
        """x & y: logical and of bool tensors (bitwise for integers)."""
        return self._logical(other, np.bitwise_and, "and (&)")

    __rand__ = __and__

    def __or__(self, other: ArrayLike) -> Tensor:
        """x | y: logical or of bool tensors (bitwise for integers)."""
        return self._logical(other, np.bitwise_or, "or (|)")

    __ror__ = __or__

    def __xor__(self, other: ArrayLike) -> Tensor:
        """x ^ y: logical xor of bool tensors (bitwise for integers)."""
        return self._logical(other, np.bitwise_xor, "xor (^)")

    __rxor__ = __xor__

    def __invert__(self) -> Tensor:
        """~x: logical not of a bool tensor (bitwise not for integers)."""
        return self._logical(None, np.invert, "invert (~)")

    def __lt__(self, other: ArrayLike) -> Tensor:
        return self._compare(other, np.less, "lt")

    def __le__(self, other: ArrayLike) -> Tensor:
        return self._compare(other, np.less_equal, "le")

    def __gt__(self, other: ArrayLike) -> Tensor:
        return self._compare(other, np.greater, "gt")

    def __ge__(self, other: ArrayLike) -> Tensor:
        return self._compare(other, np.greater_equal, "ge")

    def __eq__(self, other: object) -> Tensor:  # type: ignore[override]
        return self._compare(other, np.equal, "eq")  # type: ignore[arg-type]

    def __ne__(self, other: object) -> Tensor:  # type: ignore[override]
        return self._compare(other, np.not_equal, "ne")  # type: ignore[arg-type]

    # ------------------------------------------------------------------ unary functions

    def exp(self) -> Tensor:
        """z = e^x (primitive);  dz/dx = e^x = z."""
        return self._apply(P.Exp, self._floating())

    def log(self) -> Tensor:
        """z = ln x (primitive);  dz/dx = 1/x. ln 0 = -inf, ln of a negative number = nan."""
        return self._apply(P.Log, self._floating())

    def sqrt(self) -> Tensor:
        """z = sqrt(x) (primitive);  dz/dx = 1 / (2 sqrt(x)), inf at 0."""
        return self._apply(P.Sqrt, self._floating())

    def abs(self) -> Tensor:
        """z = |x| (primitive);  dz/dx = sign(x), 0 at 0."""
        return self._apply(P.Abs, self)

    __abs__ = abs

    def tanh(self) -> Tensor:
        """a = tanh(z) (primitive);  da/dz = 1 - tanh(z)^2 = 1 - a^2."""
        return self._apply(P.Tanh, self._floating())

    def sigmoid(self) -> Tensor:
        """a = sigma(z) = 1 / (1 + e^-z) (primitive, stable);  da/dz = sigma(z)(1 - sigma(z)) = a(1 - a)."""
        return self._apply(P.Sigmoid, self._floating())

    def relu(self) -> Tensor:
        """a = max(0, z) (primitive);  da/dz = 1 if z > 0 else 0 (relu'(0) = 0)."""
        return self._apply(P.Relu, self)


def _no_bool_arithmetic(op: str, x: Tensor, other: Any) -> None:
    """PyTorch refuses - with bool tensors (a mask is not a number): say what to write instead."""
    raise TypeError(
        f"{op}: a bool tensor (shape {x.shape if x.data.dtype is _BOOL else np.shape(other)}) cannot be "
        "subtracted or negated (as PyTorch); to invert a mask use ~mask, for 0/1 numbers mask.long() or mask.float()"
    )


def _is_float(x: Any) -> bool:
    """Whether ``x`` (a Tensor, array, numpy scalar or Python number) is a float: then integer
    division by it follows the promotion rules; integer / integer gives the default float."""
    return isinstance(x, float) or getattr(x, "dtype", None) is not None and np.dtype(x.dtype).kind == "f"
