"""Reshaping and indexing: the front doors of the movement primitives ``reshape``,
``permute``, ``expand`` and ``getitem``.

Read top to bottom: ``reshape``/``view`` (one axis may be -1), ``permute``, ``mT`` (the
transpose every matmul VJP uses), ``expand``/``broadcast_to``, then ``t[index]`` and the
index check it shares with the in-place ``t[index] = v`` of :mod:`tinygrad_edu.tensor_inplace`
(``_normalize_index``: tensors and lists become numpy arrays, bool masks must match the
axes they cover, float tensors are refused). The composed movement ops (gather, flip,
split, pad, ...) are in :mod:`tinygrad_edu.ops.movement`.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import primitives as P
from ._shared import as_ints as _as_ints

if TYPE_CHECKING:
    from ..tensor_class import Tensor

__all__ = ["IndexingOps"]


class IndexingOps:
    """Mixin of reshape, permute, mT, expand and indexing (``t[index]``) for ``Tensor``."""

    __slots__ = ()

    # ------------------------------------------------------------------ movement

    def reshape(self, *shape: int | Sequence[int]) -> Tensor:
        """The same elements in a new shape (primitive); one axis may be -1."""
        new = tuple(shape[0]) if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape
        if new == self.data.shape:  # fast path (VJPs reshape to known shapes often)
            return self
        try:
            resolved = _resolve_shape(new, self.data.size)
        except ValueError as err:
            raise ValueError(f"reshape: cannot reshape a tensor of shape {self.shape} to {new}: {err}") from None
        if resolved == self.shape:
            return self
        return self._apply(P.Reshape, self, shape=resolved)

    view = reshape

    def permute(self, *axes: int | Sequence[int]) -> Tensor:
        """Reorder the axes (primitive)."""
        order = tuple(axes[0]) if len(axes) == 1 and isinstance(axes[0], (tuple, list)) else axes
        if not all(isinstance(a, (int, np.integer)) and not isinstance(a, bool) for a in order):
            raise TypeError(f"permute: axes must be integers, got {order!r:.60} for shape {self.shape}")
        if sorted(a % max(self.ndim, 1) for a in order) != list(range(self.ndim)):
            raise ValueError(f"permute: {order} is not a permutation of the {self.ndim} axes of shape {self.shape}")
        order = tuple(int(a) % self.ndim for a in order)
        if order == tuple(range(self.ndim)):
            return self
        return self._apply(P.Permute, self, axes=order)

    @property
    def mT(self) -> Tensor:
        """The last two axes swapped (a batch of transposed matrices)."""
        if self.ndim < 2:
            raise ValueError(f"mT: needs at least 2 dimensions, got shape {self.shape}")
        n = self.data.ndim
        axes = (1, 0) if n == 2 else (*range(n - 2), n - 1, n - 2)
        return self._apply(P.Permute, self, axes=axes)  # used by every matmul VJP

    def expand(self, *shape: int | Sequence[int]) -> Tensor:
        """Broadcast to ``shape`` (primitive; its VJP sums over the broadcast axes)."""
        target = _as_ints(shape[0] if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape,
                          "expand", "the sizes of the target shape")
        if target == self.data.shape:
            return self
        try:  # numpy's broadcast_to checks the shapes (cheaper than checking them here first)
            return self._apply(P.Expand, self, shape=target)
        except ValueError:
            raise ValueError(f"expand: cannot broadcast shape {self.shape} to {target}") from None

    broadcast_to = expand

    def __getitem__(self, index: Any) -> Tensor:
        """Indexing as numpy: ints, slices, None, Ellipsis, integer arrays (repeats accumulate
        gradients) and boolean masks (primitive ``getitem``)."""
        return self._apply(P.Getitem, self, index=self._index(index, "getitem"))

    def _index(self, index: Any, op: str) -> tuple[Any, ...]:
        """``index`` checked against this tensor's shape, with tensors and lists as numpy arrays."""
        return _normalize_index(index, self.shape, op)


def _resolve_shape(shape: tuple[Any, ...], size: int) -> tuple[int, ...]:
    """``shape`` as a tuple of ints with its -1 axis (if any) filled in, checked against ``size``."""
    return _resolve_shape_cached(_as_ints(shape, "reshape", "the new shape's sizes"), size)


@functools.lru_cache(maxsize=1024)  # VJPs reshape to the same few shapes on every step (keys: ints only)
def _resolve_shape_cached(shape: tuple[int, ...], size: int) -> tuple[int, ...]:
    unknown = [i for i, n in enumerate(shape) if n == -1]
    if len(unknown) > 1:
        raise ValueError("only one axis may be -1")
    known = math.prod(n for n in shape if n != -1)
    if unknown:
        if known == 0 or size % known:
            raise ValueError(f"{size} elements do not fill a whole number of rows of {known}")
        shape = shape[: unknown[0]] + (size // known,) + shape[unknown[0] + 1 :]
    if math.prod(shape) != size or any(n < 0 for n in shape):
        raise ValueError(f"{size} elements do not fit shape {shape}")
    return shape


def _normalize_index(index: Any, shape: tuple[int, ...], op: str = "getitem") -> Any:
    """Tensors and lists in an index become numpy arrays (they carry no gradient), checked against ``shape``.

    As PyTorch: integer tensors index as integer arrays, bool tensors (comparisons, ``&``, ``|``)
    as masks whose shape must match the axes they cover, and a float tensor is an error -- a 0/1
    float mask would otherwise silently pick elements 0 and 1.
    """
    items = index if isinstance(index, tuple) else (index,)
    out = []
    axis = 0  # the axis of ``shape`` the next item indexes (for the mask check; numpy checks after an Ellipsis)
    for item in items:
        if isinstance(item, IndexingOps):  # a Tensor (the only class with this mixin; no import cycle)
            item = item.data
        elif isinstance(item, list):
            item = np.asarray(item)
        if isinstance(item, np.ndarray):
            if item.dtype.kind == "f" or item.dtype.kind not in "iub":
                raise IndexError(
                    f"{op}: tensors used as indices must be integer or bool (as PyTorch), got {item.dtype}. "
                    "For a mask use a comparison, (x > 0) & (x < 6), or t.bool(); for indices t.long()"
                )
            if item.dtype.kind == "b" and axis >= 0:
                covered = shape[axis : axis + item.ndim]
                if item.shape != covered:
                    raise IndexError(
                        f"{op}: a boolean mask of shape {item.shape} does not match the shape {covered} of the "
                        f"axes it indexes (tensor shape {shape}); a mask needs the shape of what it selects from"
                    )
                axis += item.ndim
            else:
                axis += 1
        elif item is Ellipsis:
            axis = -len(shape) - 1  # unknown from here on
        elif item is not None:
            axis += 1
        out.append(item)
    normalized = tuple(out)
    try:
        np.empty(shape, dtype=np.bool_)[normalized]  # validate cheaply (1 byte per element view)
    except (IndexError, ValueError) as err:
        raise IndexError(f"{op}: index {index!r} is invalid for shape {shape}: {err}") from None
    return normalized
