"""Factories: new leaf tensors filled with constants, ranges or random numbers.

Every factory returns a leaf :class:`~tinygrad_edu.Tensor` (``requires_grad=False`` unless
asked) of ``dtype`` float32 or float64 -- the default float dtype (see
:func:`~tinygrad_edu.set_default_dtype`) when ``dtype`` is None; ``*_like(t)`` factories
take ``t``'s shape and dtype instead. A shape is given as separate sizes or as one
sequence: ``zeros(2, 3) == zeros((2, 3))``.

The random factories take ``seed=``: an int (the same int, the same numbers), a
``numpy.random.Generator`` (shared, so successive calls continue one stream) or None
(the package-wide generator that ``tg.manual_seed`` seeds); see :mod:`tinygrad_edu.seeding`.
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from typing import Any

import numpy as np

from .seeding import Seed, as_generator
from .tensor_class import Tensor, _to_float_array, get_default_dtype

__all__ = [
    "arange",
    "eye",
    "full",
    "full_like",
    "ones",
    "ones_like",
    "rand",
    "rand_like",
    "randn",
    "randn_like",
    "uniform",
    "uniform_like",
    "zeros",
    "zeros_like",
]

Shape = int | Sequence[int]


def _shape(shape: tuple[Any, ...], op: str) -> tuple[int, ...]:
    """``(2, 3)``, ``((2, 3),)`` or ``([2, 3],)`` as ``(2, 3)``: non-negative integer sizes, else a clear error."""
    sizes = shape[0] if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape
    try:
        out = tuple(operator.index(n) for n in sizes)
    except TypeError:
        raise TypeError(f"{op}: the shape must be integers, got {tuple(sizes)!r}") from None
    if any(n < 0 for n in out):
        raise ValueError(f"{op}: the shape {out} has a negative size")
    return out


def _leaf(array: np.ndarray, dtype: Any, requires_grad: bool, op: str) -> Tensor:
    """A leaf Tensor of ``array`` in ``dtype`` (default: the default float dtype)."""
    array = _to_float_array(array, dtype if dtype is not None else get_default_dtype(), op=op)
    return Tensor(array, requires_grad=requires_grad)


# ====================================================================== constants and ranges


def zeros(*shape: Shape, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """x_i = 0 for every element of a tensor of ``shape``."""
    return _leaf(np.zeros(_shape(shape, "zeros")), dtype, requires_grad, "zeros")


def ones(*shape: Shape, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """x_i = 1 for every element of a tensor of ``shape``."""
    return _leaf(np.ones(_shape(shape, "ones")), dtype, requires_grad, "ones")


def full(shape: Shape, value: float, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """x_i = ``value`` for every element of a tensor of ``shape`` (an int or a sequence of ints)."""
    return _leaf(np.full(_shape((shape,), "full"), float(value)), dtype, requires_grad, "full")


def eye(n: int, m: int | None = None, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """The identity matrix I of shape (n, m) (m = n by default): I_ij = 1 if i == j else 0."""
    rows, cols = _shape((n, n if m is None else m), "eye")
    return _leaf(np.eye(rows, cols), dtype, requires_grad, "eye")


def arange(
    start: float, stop: float | None = None, step: float = 1, dtype: Any = None, requires_grad: bool = False
) -> Tensor:
    """start, start + step, ... up to but excluding ``stop`` (numpy's ``arange``); ``arange(n)`` is 0, ..., n-1."""
    if step == 0:
        raise ValueError("arange: step must not be 0")
    values = np.arange(start, stop, step) if stop is not None else np.arange(start)
    return _leaf(values, dtype, requires_grad, "arange")


# ====================================================================== random


def rand(*shape: Shape, seed: Seed = None, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """x_i ~ U[0, 1), independent uniform samples."""
    return _leaf(as_generator(seed).random(_shape(shape, "rand")), dtype, requires_grad, "rand")


def randn(*shape: Shape, seed: Seed = None, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """x_i ~ N(0, 1), independent standard normal samples (scale them for an initialisation, e.g. * 0.01)."""
    return _leaf(as_generator(seed).standard_normal(_shape(shape, "randn")), dtype, requires_grad, "randn")


def uniform(
    shape: Shape, low: float = 0.0, high: float = 1.0, seed: Seed = None, dtype: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    """x_i ~ U[low, high), independent uniform samples."""
    if not low <= high:
        raise ValueError(f"uniform: expected low <= high, got low={low}, high={high}")
    values = as_generator(seed).uniform(low, high, _shape((shape,), "uniform"))
    return _leaf(values, dtype, requires_grad, "uniform")


# ====================================================================== *_like: t's shape and dtype


def _like(t: Tensor, dtype: Any, op: str) -> tuple[tuple[int, ...], Any]:
    if not isinstance(t, Tensor):
        raise TypeError(f"{op}: expected a Tensor, got {type(t).__name__}")
    return t.shape, (dtype if dtype is not None else t.dtype)


def zeros_like(t: Tensor, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Zeros with ``t``'s shape and dtype."""
    shape, dtype = _like(t, dtype, "zeros_like")
    return zeros(shape, dtype=dtype, requires_grad=requires_grad)


def ones_like(t: Tensor, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Ones with ``t``'s shape and dtype."""
    shape, dtype = _like(t, dtype, "ones_like")
    return ones(shape, dtype=dtype, requires_grad=requires_grad)


def full_like(t: Tensor, value: float, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """``value`` everywhere, with ``t``'s shape and dtype."""
    shape, dtype = _like(t, dtype, "full_like")
    return full(shape, value, dtype=dtype, requires_grad=requires_grad)


def rand_like(t: Tensor, seed: Seed = None, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """x_i ~ U[0, 1) with ``t``'s shape and dtype."""
    shape, dtype = _like(t, dtype, "rand_like")
    return rand(shape, seed=seed, dtype=dtype, requires_grad=requires_grad)


def randn_like(t: Tensor, seed: Seed = None, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """x_i ~ N(0, 1) with ``t``'s shape and dtype."""
    shape, dtype = _like(t, dtype, "randn_like")
    return randn(shape, seed=seed, dtype=dtype, requires_grad=requires_grad)


def uniform_like(
    t: Tensor, low: float = 0.0, high: float = 1.0, seed: Seed = None, dtype: Any = None, requires_grad: bool = False
) -> Tensor:
    """x_i ~ U[low, high) with ``t``'s shape and dtype."""
    shape, dtype = _like(t, dtype, "uniform_like")
    return uniform(shape, low, high, seed=seed, dtype=dtype, requires_grad=requires_grad)
