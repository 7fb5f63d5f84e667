"""Movement primitives: ops that move elements without changing them.

reshape, permute, expand (broadcasting: its VJP is a sum), getitem (indexing) and its
transpose scatter_add (each the other's VJP, so indexing has gradients of every order), pad,
and concatenate. Their VJPs are again movements of the gradient.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from .base import Primitive

__all__ = ["Reshape", "Permute", "Expand", "Getitem", "ScatterAdd", "Pad", "Concatenate"]


class Reshape(Primitive):
    """z = x with a new shape (same elements in the same order);  dL/dx = g reshaped to x's shape."""

    name = "reshape"
    saves = ()

    @staticmethod
    def forward(x, shape):
        return x.reshape(shape)

    @staticmethod
    def backward(g, out, x, shape):
        return (g.reshape(x.shape),)


class Permute(Primitive):
    """z = x with axes reordered, z.shape[i] = x.shape[axes[i]];  dL/dx = g permuted by the inverse order."""

    name = "permute"
    saves = ()

    @staticmethod
    def forward(x, axes):
        return x.transpose(axes)

    @staticmethod
    def backward(g, out, x, axes):
        return (g.permute(*np.argsort(axes).tolist()),)


class Expand(Primitive):
    """z = x broadcast to ``shape`` (size-1 axes repeated, new leading axes added);  dL/dx = g summed back.

    Each x_i is copied to several z_j, so dL/dx_i = sum of g_j over its copies: the VJP
    of broadcasting is a *sum* over the broadcast axes ("sum in reverse").
    """

    name = "expand"
    saves = ()

    @staticmethod
    def forward(x, shape):
        return _broadcast_view(x, shape)

    @staticmethod
    def backward(g, out, x, shape):
        axes = _broadcast_axes(x.shape, shape)
        summed = g.sum(axis=axes, keepdims=True) if axes else g
        return (summed.reshape(x.shape),)


def _broadcast_view(x: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """``np.broadcast_to(x, shape)``: a read-only view of x in which a repeated axis has stride 0.

    For a contiguous array the view is made directly from its memory and the (cached)
    strides, about 4x cheaper than ``np.broadcast_to`` -- which matters because every
    layer expands its bias on every step. Other arrays go through ``np.broadcast_to``.
    """
    if type(x) is not np.ndarray or not x.flags.c_contiguous or x.size == 0:
        return np.broadcast_to(x, shape)
    view = np.ndarray(shape, x.dtype, x, 0, _broadcast_strides(x.shape, x.strides, shape))
    view.flags.writeable = False  # its elements alias each other, as np.broadcast_to's
    return view


@functools.lru_cache(maxsize=1024)  # a model expands the same few shapes on every step
def _broadcast_strides(small: tuple[int, ...], strides: tuple[int, ...], shape: tuple[int, ...]) -> tuple[int, ...]:
    """The strides of ``small`` (with ``strides``) broadcast to ``shape``: 0 along the repeated axes."""
    lead = len(shape) - len(small)
    if lead < 0 or any(n not in (1, m) for n, m in zip(small, shape[lead:])):
        raise ValueError(f"cannot broadcast shape {small} to {shape}")
    return (0,) * lead + tuple(s if n == m else 0 for n, s, m in zip(small, strides, shape[lead:]))


@functools.lru_cache(maxsize=1024)  # asked on every backward pass for the same few shapes
def _broadcast_axes(small: tuple[int, ...], shape: tuple[int, ...]) -> tuple[int, ...]:
    """The axes of ``shape`` along which broadcasting ``small`` to it made copies: the new
    leading axes and the axes where ``small`` has size 1 and ``shape`` does not."""
    lead = len(shape) - len(small)
    return tuple(range(lead)) + tuple(lead + i for i, n in enumerate(small) if n == 1 and shape[lead + i] != 1)


def _has_integer_array(index: tuple[Any, ...]) -> bool:
    """Whether ``index`` holds an integer array (the only kind of index that can repeat an element)."""
    return any(isinstance(i, np.ndarray) and i.dtype != bool for i in index)


def _without_boolean_arrays(index: tuple[Any, ...]) -> tuple[Any, ...]:
    """A boolean array in an index means the same as the integer arrays of its nonzero()."""
    out: list[Any] = []
    for i in index:
        if isinstance(i, np.ndarray) and i.dtype == bool:
            out.extend(np.nonzero(i))
        else:
            out.append(i)
    return tuple(out)


class Getitem(Primitive):
    """z = x[index] (ints, slices, None, Ellipsis, integer and boolean arrays);  dL/dx = g scattered back.

    Each selected x_i receives the gradient of every z_j that copied it, so an index
    repeated k times accumulates k gradients (see :class:`ScatterAdd`).
    """

    name = "getitem"
    saves = ()

    @staticmethod
    def forward(x, index):
        return x[index]

    @staticmethod
    def backward(g, out, x, index):
        return (g._apply(ScatterAdd, g, shape=x.shape, index=index),)


class ScatterAdd(Primitive):
    """z = zeros(shape) with z[index] += x (repeated indices add up);  dL/dx = g[index].

    The VJP of :class:`Getitem`, and Getitem is its VJP: so indexing has gradients of
    every order.
    """

    name = "scatter_add"
    saves = ()

    @staticmethod
    def forward(x, shape, index):
        z = np.zeros(shape, dtype=x.dtype)
        if _has_integer_array(index):  # repeats possible: np.add.at adds them (z[index] += x would not)
            np.add.at(z, _without_boolean_arrays(index), x)
        else:
            z[index] = x
        return z

    @staticmethod
    def backward(g, out, x, shape, index):
        return (g._apply(Getitem, g, index=index),)


class Pad(Primitive):
    """z = x with ``pad_width[i] = (before, after)`` zeros around axis i;  dL/dx = g without the padding."""

    name = "pad"
    saves = ()

    @staticmethod
    def forward(x, pad_width):
        return np.pad(x, pad_width)

    @staticmethod
    def backward(g, out, x, pad_width):
        inner = tuple(slice(lo, lo + n) for (lo, _), n in zip(pad_width, x.shape))
        return (g._apply(Getitem, g, index=inner),)


class Concatenate(Primitive):
    """z = x_1, x_2, ..., x_k joined along ``axis``;  dL/dx_i = the slice of g where x_i lies.

    A primitive because the composition (each part zero-padded to the full length, then
    summed) costs O(k * n) time and memory: 8,000 one-element parts took seconds and ~1 GB.
    This one is O(n), and its VJP is k slices (``getitem``, whose own VJP scatters back).
    """

    name = "concatenate"

    @staticmethod
    def forward(*parts, axis):
        return np.concatenate(parts, axis=axis)

    @staticmethod
    def backward(g, out, *parts, axis):
        grads, offset = [], 0
        lead = (slice(None),) * axis
        for p in parts:
            n = p.shape[axis]
            index = lead + (slice(offset, offset + n),)  # valid by construction: skip getitem's checks
            grads.append(g._apply(Getitem, g, index=index) if p.requires_grad else None)
            offset += n
        return tuple(grads)
