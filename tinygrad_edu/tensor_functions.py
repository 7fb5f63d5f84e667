"""The module-level Tensor functions: ``where``, ``maximum``/``minimum``, ``concatenate``
(``cat``), ``stack`` and ``grad`` (``torch.autograd.grad``).

They are re-exported from :mod:`tinygrad_edu.tensor_class` (and the package: ``tg.where``,
``tg.cat``, ``tg.grad``, ...), which imports this module at its end, once ``Tensor`` exists.
``where`` and ``concatenate`` are front doors of primitives, ``minimum`` and ``stack`` are
composed, and ``grad`` runs the engine's backward pass without touching any ``.grad``.
``_operand`` turns a number or array argument into a Tensor under the dtype policy.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from . import engine
from . import primitives as P
from .dtypes import promote as _promote
from .ops._shared import broadcast_shape as _broadcast_shape
from .ops._shared import normalize_axis as _normalize_axis
from .tensor_class import ArrayLike, Tensor, _own_gradients, _to_float_array
from .torch_names import accepts_torch_names

__all__ = ["cat", "concatenate", "grad", "maximum", "minimum", "stack", "where"]


def _operand(x: ArrayLike, op: str) -> Tensor:
    """``x`` as a Tensor operand of ``op`` (the Tensor policy; a bad ``x`` is an error naming ``op``)."""
    return x if isinstance(x, Tensor) else Tensor(_to_float_array(x, op=op))


def _sequence(items: Any, op: str) -> Sequence[Any]:
    """``items`` if it is a list or tuple (of tensors), else a ``TypeError`` naming ``op``."""
    if not isinstance(items, (list, tuple)):
        raise TypeError(f"{op}: expected a list or tuple of tensors, got {type(items).__name__}: {items!r:.60}")
    return items


def where(cond: ArrayLike, x: ArrayLike, y: ArrayLike) -> Tensor:
    """x where cond is true (nonzero) else y, broadcasting all three (primitive ``where``)."""
    # The condition is not copied to bool (numpy's where reads any nonzero as true): keeping the
    # comparison's own array (or the caller's) lets tg.jit's trace see where it comes from.
    if isinstance(cond, Tensor):
        cond_array = cond.data
    elif isinstance(cond, np.ndarray) and cond.dtype.kind in "biuf":
        cond_array = cond
    else:
        cond_array = _to_float_array(cond, op="where")
    anchor = x if isinstance(x, Tensor) else (y if isinstance(y, Tensor) else _operand(x, "where"))
    tx, ty = anchor._constant(x, "where"), anchor._constant(y, "where")
    shape = _broadcast_shape(_broadcast_shape(cond_array.shape, tx.shape, "where"), ty.shape, "where")
    if engine.is_grad_enabled():
        tx = tx.expand(shape) if tx.requires_grad else tx
        ty = ty.expand(shape) if ty.requires_grad else ty
    if tx.dtype != ty.dtype:
        common = _promote(tx.dtype, ty.dtype)
        tx, ty = tx.cast(common), ty.cast(common)
    return Tensor._apply(P.Where, tx, ty, cond=np.broadcast_to(cond_array, shape))


def maximum(x: ArrayLike, y: ArrayLike) -> Tensor:
    """Elementwise max(x, y) (primitive); ties split the gradient evenly."""
    tx = _operand(x, "maximum")
    return tx._binary(P.Maximum, y)


def minimum(x: ArrayLike, y: ArrayLike) -> Tensor:
    """Elementwise min(x, y) = -max(-x, -y) (composed)."""
    tx = _operand(x, "minimum")
    return -maximum(-tx, -tx._constant(y, "minimum"))


@accepts_torch_names
def concatenate(tensors: Sequence[Tensor], axis: int = 0) -> Tensor:
    """Join tensors along ``axis`` (primitive ``concatenate``;  dL/dx_i = the slice of g where x_i lies)."""
    parts = [_operand(t, "concatenate") for t in _sequence(tensors, "concatenate")]
    if not parts:
        raise ValueError("concatenate: needs at least one tensor")
    first = parts[0]
    if first.ndim == 0:
        raise ValueError("concatenate: zero-dimensional tensors cannot be concatenated; use stack")
    (axis,) = _normalize_axis(axis, first.ndim, "concatenate")
    for t in parts[1:]:
        if t.ndim != first.ndim or any(a != b for i, (a, b) in enumerate(zip(t.shape, first.shape)) if i != axis):
            raise ValueError(
                f"concatenate: shapes {first.shape} and {t.shape} differ outside axis {axis}"
            )
    if any(t.dtype != first.dtype for t in parts[1:]):
        common = np.result_type(*(t.dtype for t in parts))
        parts = [t.cast(common) for t in parts]
    return Tensor._apply(P.Concatenate, *parts, axis=axis)


cat = concatenate  # PyTorch's name (tg.cat(tensors, dim=0))


@accepts_torch_names
def stack(tensors: Sequence[Tensor], axis: int = 0) -> Tensor:
    """Join tensors along a new axis (composed: unsqueeze + concatenate)."""
    parts = [_operand(t, "stack") for t in _sequence(tensors, "stack")]
    if not parts:
        raise ValueError("stack: needs at least one tensor")
    for t in parts[1:]:
        if t.shape != parts[0].shape:
            raise ValueError(f"stack: all tensors need the same shape, got {parts[0].shape} and {t.shape}")
    return concatenate([t.unsqueeze(axis) for t in parts], axis=axis)


def grad(
    output: Tensor,
    inputs: Tensor | Sequence[Tensor],
    grad_output: ArrayLike | None = None,
    retain_graph: bool = False,
    create_graph: bool = False,
    allow_unused: bool = False,
) -> list[Tensor | None]:
    """dL/d(input) for each input, without touching any ``.grad`` (like ``torch.autograd.grad``).

    Returns a list with one gradient per input (also for a single ``inputs`` tensor), each a
    Tensor of that input's shape and dtype. Inputs may be leaves or intermediate results.

    * ``grad_output`` is dL/d(output): required for a non-scalar output (same shape),
      1 by default for a scalar one.
    * The graph is released afterwards, as after ``backward``, unless ``retain_graph=True``
      (needed to call ``grad`` or ``backward`` through it again).
    * ``create_graph=True`` records the backward pass, so the results are themselves
      differentiable (Hessian-vector products, gradient penalties); it implies
      ``retain_graph``. Without it the results are constants with arrays of their own.
    * Every input must require grad. An input the output does not depend on raises
      unless ``allow_unused=True`` (then its entry is ``None``).
    """
    if not isinstance(output, Tensor):
        raise TypeError(f"grad: output must be a Tensor (the result of a computation), got {type(output).__name__}")
    seq = [inputs] if isinstance(inputs, Tensor) else list(_sequence(inputs, "grad"))
    for i, t in enumerate(seq):
        if not isinstance(t, Tensor):
            raise TypeError(f"grad: inputs must be Tensors, got {type(t).__name__} for input {i}")
        if not t.requires_grad:
            raise RuntimeError(
                f"grad: input {i} (shape {t.shape}) does not require grad, so it has no gradient; "
                "create it with requires_grad=True"
            )
    seed = output._seed(grad_output, "grad")
    result = engine.gradients(output, seed, seq, retain_graph=retain_graph or create_graph, create_graph=create_graph)
    for i, (t, g) in enumerate(zip(seq, result)):
        if g is None and not allow_unused:
            raise RuntimeError(
                f"grad: input {i} (shape {t.shape}) is not used to compute the output; "
                "pass allow_unused=True to get None for it"
            )
    return result if create_graph else _own_gradients(result)
