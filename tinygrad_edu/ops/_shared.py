"""Small helpers the op families share (axis checks, a broadcasting ``where``, boolean results).

They take the ``Tensor`` they work on as an argument and never import ``tensor_class``: new
tensors are made with ``type(x)(...)`` or ``x._constant(...)``.
"""

from __future__ import annotations

import functools
import operator
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import engine
from .. import primitives as P

if TYPE_CHECKING:
    from ..tensor_class import Tensor


def as_ints(values: Any, op: str, what: str) -> tuple[int, ...]:
    """``values`` (a sequence of integers, numpy integers included) as a tuple of Python ints.

    Anything else (floats, nested lists, ...) raises a ``TypeError`` naming the op, rather
    than being truncated by ``int()``. The result is hashable, so it can key the caches below.
    """
    if type(values) is tuple and all(type(v) is int for v in values):
        return values  # the common case, checked cheaply
    try:
        return tuple(operator.index(v) for v in values)
    except TypeError:
        raise TypeError(f"{op}: {what} must be integers, got {values!r}") from None


def normalize_axis(axis: Any, ndim: int, op: str) -> tuple[int, ...]:
    """``axis`` as a sorted tuple of non-negative axes (all axes for None), validated."""
    if axis is not None and type(axis) is not int:
        if isinstance(axis, np.integer) or (isinstance(axis, np.ndarray) and axis.ndim == 0):
            axis = operator.index(axis)
        elif isinstance(axis, (tuple, list, np.ndarray)):
            axis = as_ints(axis, op, "axes")
        else:
            raise TypeError(f"{op}: axis must be an int, a tuple of ints or None, got {axis!r}")
    return normalize_axis_cached(axis, ndim, op)


# Every reduction (and its VJP) asks again for the same few axes. The keys are None, ints and
# tuples of ints only (checked above), and maxsize bounds the cache in a long-running process.
@functools.lru_cache(maxsize=1024)
def normalize_axis_cached(axis: int | tuple[int, ...] | None, ndim: int, op: str) -> tuple[int, ...]:
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, int) else axis
    if ndim == 0:  # PyTorch accepts axis 0 or -1 of a 0-d tensor: there is nothing to reduce
        if any(a not in (0, -1) for a in axes):
            raise ValueError(f"{op}: axis {axis} is out of range for a 0-d tensor (only 0 or -1)")
        return ()
    out = []
    for a in axes:
        if not -ndim <= a < max(ndim, 1):
            raise ValueError(f"{op}: axis {a} is out of range for a tensor with {ndim} dimensions")
        out.append(a % max(ndim, 1))
    if len(set(out)) != len(out):
        raise ValueError(f"{op}: repeated axis in {axis}")
    return tuple(sorted(out))


@functools.lru_cache(maxsize=1024)  # a model broadcasts the same few pairs of shapes on every step
def broadcast_shape(a: tuple[int, ...], b: tuple[int, ...], op: str) -> tuple[int, ...]:
    """numpy's broadcasting rule, with an error that names the op and both shapes."""
    n = max(len(a), len(b))
    pa, pb = (1,) * (n - len(a)) + a, (1,) * (n - len(b)) + b
    out = []
    for x, y in zip(pa, pb):
        if x == y or y == 1:
            out.append(x)
        elif x == 1:
            out.append(y)
        else:
            raise ValueError(
                f"{op}: shapes {a} and {b} cannot be broadcast together (axis sizes {x} and {y} "
                "differ and neither is 1). Reshape or transpose one operand."
            )
    return tuple(out)


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


def select(cond: Any, x: Any, y: Any) -> Tensor:
    """x where ``cond`` (a boolean array or tensor) else y, broadcasting the three; gradients flow to
    the chosen side. One of x, y is a Tensor; the other may be a number or an array (a constant)."""
    anchor = x if hasattr(x, "_apply") else y
    x = x if hasattr(x, "_apply") else anchor._constant(x)
    y = y if hasattr(y, "_apply") else anchor._constant(y)
    cond = np.asarray(cond.data if hasattr(cond, "_apply") else cond, dtype=bool)
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
    """A bool constant holding ``values`` (what isnan, logical_and, any, ... return, as PyTorch)."""
    return type(x)(np.asarray(values, dtype=bool), dtype=bool)


def indices(x: Tensor, values: np.ndarray) -> Tensor:
    """An int64 constant holding ``values`` (what argmax, argsort, ... return, as PyTorch)."""
    return type(x)(np.asarray(values, dtype=np.int64), dtype=np.int64)


def truth(x: Any, op: str) -> np.ndarray:
    """The truth values of a Tensor, array or number: nonzero is true (as PyTorch's logical ops)."""
    data = x.data if hasattr(x, "data") and not isinstance(x, np.ndarray) else np.asarray(x)
    if data.dtype.kind not in "biuf":
        raise TypeError(f"{op}: expected a Tensor, array or number, got {type(x).__name__} of dtype {data.dtype}")
    return data != 0
