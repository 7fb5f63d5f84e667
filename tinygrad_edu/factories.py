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

from .argcheck import check_real
from .seeding import Seed, as_generator
from .tensor_class import DTYPES, Tensor, _check_can_require_grad, _infer_array, _to_float_array, get_default_dtype

__all__ = [
    "arange",
    "as_tensor",
    "empty",
    "empty_like",
    "eye",
    "full",
    "full_like",
    "linspace",
    "ones",
    "ones_like",
    "rand",
    "rand_like",
    "randn",
    "randint",
    "randint_like",
    "randn_like",
    "tensor",
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
    """A leaf Tensor of ``array`` in ``dtype`` (default: the default float dtype; int and bool dtypes too)."""
    array = _to_float_array(array, dtype if dtype is not None else get_default_dtype(), op=op)
    if requires_grad:
        _check_can_require_grad(array, op)
    return Tensor(array, requires_grad=requires_grad, dtype=array.dtype)


# ====================================================================== from data (torch.tensor)


def tensor(data: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """A new leaf tensor holding a copy of ``data``, its dtype inferred as ``torch.tensor`` does.

    Booleans become bool, integers int64, Python floats the default float dtype (float64 unless
    :func:`~tinygrad_edu.set_default_dtype` says otherwise); numpy arrays of a supported dtype
    (float32, float64, int32, int64, bool) keep it. ``dtype=`` overrides the inference (a numpy
    dtype or a name: ``"float32"``, ``"long"``). Only float tensors can require grad.

    Unlike ``Tensor(data)`` -- which always makes a float tensor, as ``torch.Tensor`` does --
    ``tensor([0, 2, 1])`` is an int64 tensor, e.g. class labels for ``cross_entropy``.
    """
    array = _infer_array(data, dtype, "tensor")
    if requires_grad:
        _check_can_require_grad(array, "tensor")
    return Tensor(array, requires_grad=requires_grad, dtype=array.dtype)


def as_tensor(data: Any, dtype: Any = None) -> Tensor:
    """``data`` as a Tensor without copying when it can (``torch.as_tensor``).

    A Tensor is returned as it is (cast if ``dtype`` differs); a numpy array of a supported
    dtype is wrapped, sharing its memory; anything else is converted as :func:`tensor` does
    (integers stay integers, so ``Linear(dtype=float32)(int_array)`` computes in float32).
    """
    return _as_tensor(data, dtype, "as_tensor")


def _as_tensor(data: Any, dtype: Any, op: str) -> Tensor:
    """:func:`as_tensor`, with errors naming ``op`` (the layer or function that converts its input)."""
    if isinstance(data, Tensor):
        return data if dtype is None else data.cast(dtype)
    if isinstance(data, np.ndarray) and dtype is None and data.dtype in DTYPES:
        return Tensor(data, dtype=data.dtype)
    array = _infer_array(data, dtype, op)
    return Tensor(array, dtype=array.dtype)


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
    for name, number in (("start", start), ("stop", stop), ("step", step)):
        if number is not None:
            check_real(number, name, "arange", allow_inf=False)
    values = np.arange(start, stop, step) if stop is not None else np.arange(start)
    return _leaf(values, dtype, requires_grad, "arange")


# ====================================================================== random


def rand(*shape: Shape, seed: Seed = None, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """x_i ~ U[0, 1), independent uniform samples."""
    return _leaf(as_generator(seed, "rand").random(_shape(shape, "rand")), dtype, requires_grad, "rand")


def randn(*shape: Shape, seed: Seed = None, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """x_i ~ N(0, 1), independent standard normal samples (scale them for an initialisation, e.g. * 0.01)."""
    return _leaf(as_generator(seed, "randn").standard_normal(_shape(shape, "randn")), dtype, requires_grad, "randn")


def uniform(
    shape: Shape, low: float = 0.0, high: float = 1.0, seed: Seed = None, dtype: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    """x_i ~ U[low, high), independent uniform samples."""
    if not low <= high:
        raise ValueError(f"uniform: expected low <= high, got low={low}, high={high}")
    values = as_generator(seed, "uniform").uniform(low, high, _shape((shape,), "uniform"))
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


# ====================================================================== added for issue 17: linspace, randint, empty


def linspace(start: float, end: float, steps: int, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """``steps`` evenly spaced values from ``start`` to ``end``, both included (as ``torch.linspace``):
    x_i = start + i (end - start) / (steps - 1)."""
    try:
        count = operator.index(steps)
    except TypeError:
        raise TypeError(f"linspace: steps must be an int, got {steps!r}") from None
    if count < 0:
        raise ValueError(f"linspace: steps must be >= 0, got {steps}")
    return _leaf(np.linspace(start, end, count), dtype, requires_grad, "linspace")


def randint(
    low: int, high: int | None = None, size: Shape = (), seed: Seed = None, dtype: Any = None
) -> Tensor:
    """x_i uniform on the integers low, ..., high - 1 (``randint(high, size=...)`` starts at 0), as PyTorch:
    int64 unless ``dtype`` says otherwise."""
    lo, hi = (0, low) if high is None else (low, high)
    try:
        lo, hi = operator.index(lo), operator.index(hi)
    except TypeError:
        raise TypeError(f"randint: low and high must be ints, got {lo!r} and {hi!r}") from None
    if lo >= hi:
        raise ValueError(f"randint: expected low < high, got low={lo}, high={hi}")
    shape = _shape((size,) if isinstance(size, (int, np.integer)) else tuple(size), "randint")
    values = as_generator(seed, "randint").integers(lo, hi, shape)
    return _leaf(values, np.int64 if dtype is None else dtype, False, "randint")


def empty(*shape: Shape, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor of ``shape`` to be overwritten; here filled with zeros, so it is never garbage."""
    return _leaf(np.zeros(_shape(shape, "empty")), dtype, requires_grad, "empty")


def empty_like(t: Tensor, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """``empty`` with ``t``'s shape and dtype (zeros)."""
    shape, dtype = _like(t, dtype, "empty_like")
    return empty(shape, dtype=dtype, requires_grad=requires_grad)


def randint_like(t: Tensor, low: int, high: int | None = None, seed: Seed = None, dtype: Any = None) -> Tensor:
    """``randint`` with ``t``'s shape (and dtype unless given)."""
    shape, dtype = _like(t, dtype, "randint_like")
    return randint(low, high, shape, seed=seed, dtype=dtype)
