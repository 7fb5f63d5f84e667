"""Small helpers the op families share (axis checks, a broadcasting ``where``, boolean results).

They take the ``Tensor`` they work on as an argument and never import ``tensor_class``: new
tensors are made with ``type(x)(...)`` or ``x._constant(...)``.
"""

from __future__ import annotations

import operator
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import engine
from .. import primitives as P

if TYPE_CHECKING:
    from ..tensor_class import Tensor


def one_axis(axis: Any, ndim: int, op: str) -> int:
    """``axis`` (one int, negative counts from the end) as a non-negative axis of an ``ndim``-d tensor.

    A 0-d tensor accepts 0 and -1, as PyTorch does (the op then sees one axis of size 1 or none).
    """
    try:
        a = operator.index(axis)
    except TypeError:
        raise TypeError(f"{op}: dim must be an int, got {axis!r}") from None
    n = max(ndim, 1)
    if not -n <= a < n:
        raise IndexError(f"{op}: dim {a} is out of range for a tensor with {ndim} dimensions (expected {-n}..{n - 1})")
    return a % n


def integer(value: Any, op: str, what: str) -> int:
    """``value`` as a Python int (numpy integers too), else a TypeError naming the op."""
    try:
        return operator.index(value)
    except TypeError:
        raise TypeError(f"{op}: {what} must be an int, got {value!r}") from None


def real(value: Any, op: str, what: str) -> float:
    """``value`` as a Python float (ints, floats, numpy scalars; not bools or strings), else a TypeError."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{op}: {what} must be a real number, got {value!r}")
    return float(value)


def select(cond: np.ndarray, x: Tensor, y: Tensor | float) -> Tensor:
    """x where ``cond`` (a boolean array) else y, broadcasting the three; gradients flow to the chosen side."""
    if not isinstance(y, type(x)):
        y = x._constant(np.asarray(y, dtype=x.dtype))
    cond = np.asarray(cond, dtype=bool)
    shape = np.broadcast_shapes(cond.shape, x.shape, y.shape)
    if engine.is_grad_enabled():
        x = x.expand(shape) if x.requires_grad and x.shape != shape else x
        y = y.expand(shape) if y.requires_grad and y.shape != shape else y
    if x.dtype != y.dtype:
        common = np.result_type(x.dtype, y.dtype)
        x, y = x.cast(common), y.cast(common)
    return x._apply(P.Where, x, y, cond=np.broadcast_to(cond, shape))


def piecewise_constant(x: Tensor, values: np.ndarray) -> Tensor:
    """``values`` as the result of a piecewise-constant op of x (floor, round, sign, ...).

    Recorded as where(False, x, values), so the result requires grad when x does and its
    gradient is exactly 0 (as PyTorch), instead of being a constant cut from the graph.
    """
    values = np.asarray(values, dtype=x.dtype)
    if not x.requires_grad or not engine.is_grad_enabled():
        return x._constant(values)
    return x._apply(P.Where, x, x._constant(values), cond=np.zeros(x.shape, dtype=bool))


def boolean(x: Tensor, values: np.ndarray) -> Tensor:
    """A constant holding the truth values ``values`` (what isnan, logical_and, any, ... return).

    Made as ``(values != 0)`` through the tensor's own comparison, so it has whatever type
    comparisons give (a mask usable in indexing and ``where``).
    """
    return x._constant(np.asarray(values).astype(x.dtype)) != 0


def truth(x: Any, op: str) -> np.ndarray:
    """The truth values of a Tensor, array or number: nonzero is true (as PyTorch's logical ops)."""
    data = x.data if hasattr(x, "data") and not isinstance(x, np.ndarray) else np.asarray(x)
    if data.dtype.kind not in "biuf":
        raise TypeError(f"{op}: expected a Tensor, array or number, got {type(x).__name__} of dtype {data.dtype}")
    return data != 0
