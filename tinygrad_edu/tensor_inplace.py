"""In-place ops of ``Tensor`` (``+=``, ``add_``, ``zero_``, ``t[i] = v``, ...), with PyTorch's leaf rules.

An in-place op keeps the tensor's identity (the same Python object, so an optimiser's list of
parameters stays valid), its leaf status and its ``requires_grad``. Which of three paths it
takes is PyTorch's rule:

1. **Data path** -- grad mode is off (``with no_grad():``), or neither the tensor nor the
   operand requires grad: numpy writes into ``t.data`` itself (``np.subtract(w, u, out=w)``:
   no new array), in ``t``'s dtype (a float result cannot be written into an int tensor, as in
   PyTorch). This is the optimiser-update path::

       with tg.no_grad():
           w -= lr * w.grad

2. **Error** -- a leaf that requires grad, with grad mode on: the change would belong to no
   graph, so ``backward`` could not account for it. The error shows the ``no_grad`` form.

3. **Graph path** -- an interior tensor (or a constant combined with an operand that requires
   grad), grad mode on: the op is recorded like any other. The tensor's old node is moved to a
   new object that keeps a copy of the old values; the op is computed from it out of place,
   written into ``t``'s own memory (so views see it, as in PyTorch), and ``t`` becomes the
   op's output node. An op recorded earlier with ``t`` as its input now finds ``t`` standing
   for the new value: ``backward`` detects that (``t`` is younger than its child) and raises
   instead of returning a wrong gradient (see :mod:`tinygrad_edu.versions`).

Every write bumps the memory's version counter; an op that saved the array for its VJP then
refuses to run backward ("modified by an inplace operation"). Cost of the bookkeeping: one
dictionary look-up and a lock per in-place op (``record_write`` ~0.7 us; ``w.sub_(g)`` on an
8x8 array takes ~1.3 us against numpy's 0.46 us for ``np.subtract(w, g, out=w)``, timeit on
the development machine), nothing per ordinary op except storing the clock (``_born``) on each
recorded result, and one integer comparison per node in backward.

Here the mixin only needs ``Tensor`` methods (``_constant``, ``_binary``, ``_apply``,
``_index``); :mod:`tinygrad_edu.tensor_class` builds ``Tensor`` on it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from . import engine
from . import primitives as P
from .versions import record_write

if TYPE_CHECKING:
    from .tensor_class import Tensor

__all__ = ["InplaceOps"]

_NO_GRAD_FORM = "with tg.no_grad():\n        w -= lr * w.grad"


class InplaceOps:
    """The in-place methods of ``Tensor`` (mixed into it; see the module docstring)."""

    __slots__ = ()

    # ------------------------------------------------------------------ dispatch

    def _inplace_path(self: Tensor, op: str, other: Any = None) -> str:
        """'data' or 'graph' (see the module docstring); raises for a leaf that requires grad."""
        if not engine.is_grad_enabled():
            return "data"
        other_grad = getattr(other, "requires_grad", False)
        if self.requires_grad and not self._parents:
            raise RuntimeError(
                f"{op}: a leaf tensor that requires grad (shape {self.shape}) cannot be changed in place "
                "while grad mode is on: the change would be part of no graph, so backward() could not "
                "account for it (PyTorch: 'a leaf Variable that requires grad is being used in an "
                "in-place operation'). For an optimiser update, turn grad mode off:\n"
                f"    {_NO_GRAD_FORM}"
            )
        return "graph" if self.requires_grad or other_grad else "data"

    def _writable(self: Tensor, op: str) -> np.ndarray:
        array = self.data
        if not isinstance(array, np.ndarray):  # a numpy scalar (what a full reduction gives): immutable
            array = self.data = np.array(array)  # a 0-d array of its own (the version check still sees it)
        if not array.flags.writeable:
            raise ValueError(
                f"{op}: this tensor's array (shape {self.shape}) is read-only (a broadcast view, or a "
                "read-only array it was made from), so it cannot be changed in place; use an out-of-place "
                "op, or make the tensor from a copy"
            )
        return array

    def _rebind(self: Tensor, op: str, compute: Callable[[Tensor], Tensor]) -> Tensor:
        """The graph path: record ``compute(old self)`` and make ``self`` its output node."""
        array = self._writable(op)
        old = _node_copy(self)
        new = compute(old)
        if new.shape != self.shape:
            raise ValueError(f"{op}: the result has shape {new.shape}, but this tensor has shape {self.shape}")
        if new.dtype != self.dtype:
            new = new.cast(self.dtype)
        np.copyto(array, new.data)
        tick = record_write(array, op)
        self._parents, self._fn, self._op = new._parents, new._fn, new._op
        self._params, self._scope, self.requires_grad = new._params, new._scope, True
        self._born = tick  # younger than every op that used the old self (versions.check_saved)
        return self

    def _ufunc_(self: Tensor, op: str, ufunc: np.ufunc, fn: type[P.Primitive], other: Any, alpha: float = 1) -> Tensor:
        """``self = self <op> alpha * other`` in place (``+= -= *= /=``, ``add_`` ...)."""
        if self._inplace_path(op, other) == "graph":

            def compute(old: Tensor) -> Tensor:
                operand = old if other is self else other  # x += x: the old x, not the node being replaced
                return old._binary(fn, operand if alpha == 1 else old._constant(operand, op) * alpha)

            return self._rebind(op, compute)
        array = self._writable(op)
        if isinstance(other, InplaceOps):
            operand = other.data
        elif isinstance(other, (int, float, np.ndarray, np.generic)):
            operand = other  # numpy applies the dtype rules (a float into an int tensor fails below)
        else:
            operand = self._constant(other, op).data
        if alpha != 1:
            operand = np.multiply(operand, alpha, dtype=np.result_type(array, operand, alpha))
        try:
            ufunc(array, operand, out=array, casting="same_kind")
        except ValueError:
            raise ValueError(
                f"{op}: an operand of shape {np.shape(operand)} does not broadcast to this tensor's shape "
                f"{self.shape} (an in-place op cannot change the shape)"
            ) from None
        except TypeError:  # numpy's UFuncTypeError: e.g. a float result into an int tensor
            raise TypeError(
                f"{op}: the result has dtype {np.result_type(array, operand)}, which cannot be written into "
                f"this {self.dtype} tensor in place (as PyTorch); use an out-of-place op or cast first"
            ) from None
        record_write(array, op)
        return self

    # ------------------------------------------------------------------ arithmetic

    def add_(self: Tensor, other: Any, alpha: float = 1) -> Tensor:
        """x <- x + alpha * other, in place (returns x). Same rules as ``+=`` (see the module docstring)."""
        return self._ufunc_("add_", np.add, P.Add, other, alpha)

    def sub_(self: Tensor, other: Any, alpha: float = 1) -> Tensor:
        """x <- x - alpha * other, in place (returns x)."""
        return self._ufunc_("sub_", np.subtract, P.Sub, other, alpha)

    def mul_(self: Tensor, other: Any) -> Tensor:
        """x <- x * other, in place (returns x)."""
        return self._ufunc_("mul_", np.multiply, P.Mul, other)

    def div_(self: Tensor, other: Any) -> Tensor:
        """x <- x / other, in place (returns x); an int tensor cannot hold the float quotient (an error)."""
        return self._ufunc_("div_", np.true_divide, P.Div, other)

    def __iadd__(self: Tensor, other: Any) -> Tensor:
        """``x += y``: ``add_`` (the same object, modified in place)."""
        return self._ufunc_("add_ (+=)", np.add, P.Add, other)

    def __isub__(self: Tensor, other: Any) -> Tensor:
        """``x -= y``: ``sub_``."""
        return self._ufunc_("sub_ (-=)", np.subtract, P.Sub, other)

    def __imul__(self: Tensor, other: Any) -> Tensor:
        """``x *= y``: ``mul_``."""
        return self._ufunc_("mul_ (*=)", np.multiply, P.Mul, other)

    def __itruediv__(self: Tensor, other: Any) -> Tensor:
        """``x /= y``: ``div_``."""
        return self._ufunc_("div_ (/=)", np.true_divide, P.Div, other)

    # ------------------------------------------------------------------ filling and copying

    def zero_(self: Tensor) -> Tensor:
        """x <- 0 everywhere, in place (returns x): ``w.grad.zero_()``."""
        return self.fill_(0)

    def fill_(self: Tensor, value: float) -> Tensor:
        """x <- value everywhere, in place (returns x)."""
        if np.size(value.data if isinstance(value, InplaceOps) else value) != 1:
            raise ValueError(f"fill_: expected a number (or a one-element tensor), got shape {np.shape(value)}")
        if isinstance(value, InplaceOps) and value.ndim:
            value = value.reshape(())
        if self._inplace_path("fill_", value) == "graph":
            return self._rebind("fill_", lambda old: _set_selection(old, (Ellipsis,), value, self))
        array = self._writable("fill_")
        array[...] = value.data if isinstance(value, InplaceOps) else value
        record_write(array, "fill_")
        return self

    def copy_(self: Tensor, src: Any) -> Tensor:
        """x <- src (broadcast to x's shape, cast to x's dtype), in place (returns x)."""
        if self._inplace_path("copy_", src) == "graph":
            return self._rebind("copy_", lambda old: _set_selection(old, (Ellipsis,), src, self))
        array = self._writable("copy_")
        data = src.data if isinstance(src, InplaceOps) else np.asarray(src)
        try:
            np.copyto(array, data, casting="unsafe")  # as PyTorch's copy_: any dtype, converted
        except ValueError:
            raise ValueError(
                f"copy_: a source of shape {np.shape(data)} does not broadcast to shape {self.shape}"
            ) from None
        record_write(array, "copy_")
        return self

    def clamp_(self: Tensor, min: float | None = None, max: float | None = None) -> Tensor:  # noqa: A002 - PyTorch's names
        """x <- min(max(x, min), max), in place (returns x); either bound may be None."""
        if min is None and max is None:
            raise ValueError("clamp_: give at least one of min and max")
        if self._inplace_path("clamp_") == "graph":
            return self._rebind("clamp_", lambda old: old.clip(min, max))
        array = self._writable("clamp_")
        np.clip(array, min, max, out=array)
        record_write(array, "clamp_")
        return self

    clip_ = clamp_

    def _bump_version(self: Tensor, op: str = "optimizer step") -> None:
        """Record that ``op`` changed ``self.data`` in place by itself (an optimiser's numpy update
        under ``no_grad``), so the version check sees it as it sees the in-place methods."""
        if isinstance(self.data, np.ndarray):
            record_write(self.data, op)

    def __setitem__(self: Tensor, index: Any, value: Any) -> None:
        """``x[index] = value`` in place (numpy's indexing; value broadcast to ``x[index]``'s shape).

        In the graph path, z = where(mask, scatter(value), x) with mask the selected elements:
        dL/dx = g outside the selection, dL/dvalue = g[index] (summed over broadcasts).
        """
        normalized = self._index(index, "setitem")
        if self._inplace_path("setitem", value) == "graph":
            self._rebind("setitem", lambda old: _set_selection(old, normalized, value, self))
            return
        array = self._writable("setitem")
        data = value.data if isinstance(value, InplaceOps) else value
        try:
            array[normalized] = data
        except ValueError as err:
            raise ValueError(
                f"setitem: cannot assign a value of shape {np.shape(data)} to x[{index!r}]: {err}"
            ) from None
        record_write(array, "setitem")


# ====================================================================== helpers


def _node_copy(t: Tensor) -> Tensor:
    """A new node with ``t``'s graph state and a copy of its values: ``t`` as it was before an in-place op."""
    old = object.__new__(type(t))
    old.data, old.grad, old.requires_grad, old.label = t.data.copy(), None, t.requires_grad, t.label
    old._parents, old._op, old._fn, old._params, old._scope, old._born = (
        t._parents, t._op, t._fn, t._params, t._scope, t._born
    )
    return old


def _set_selection(old: Tensor, index: tuple[Any, ...], value: Any, replaced: Tensor) -> Tensor:
    """where(mask, value scattered to index, old): ``old`` with ``old[index]`` replaced by ``value``.

    ``replaced`` is the tensor the in-place op is changing: as ``value`` it means ``old``.
    """
    value = old if value is replaced else value
    mask = np.zeros(old.shape, dtype=bool)
    mask[index] = True
    selected_shape = np.empty(old.shape, dtype=np.bool_)[index].shape
    v = old._constant(value, "setitem")
    v = v.expand(selected_shape) if v.shape != selected_shape else v
    if v.dtype != old.dtype:
        v = v.cast(old.dtype)
    scattered = old._apply(P.ScatterAdd, v, shape=old.shape, index=index)
    return old._apply(P.Where, scattered, old, cond=mask)
