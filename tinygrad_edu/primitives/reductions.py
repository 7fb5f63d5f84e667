"""Reduction primitives: sum and max over axes.

Every other reduction (mean, var, logsumexp, min, ...) is composed from these two. Their VJPs
put the reduced axes back (as size 1) and expand the gradient to the input's shape.
"""

from __future__ import annotations

from .base import Primitive

__all__ = ["Sum", "Max"]


def _keepdims_shape(shape: tuple[int, ...], axis: tuple[int, ...]) -> tuple[int, ...]:
    """``shape`` with the reduced ``axis`` kept as size 1 (what ``keepdims=True`` gives)."""
    return tuple(1 if i in axis else n for i, n in enumerate(shape))


class Sum(Primitive):
    """z = sum of x over ``axis``;  dz/dx_i = 1, so dL/dx = g broadcast back to x's shape."""

    name = "sum"
    saves = ()

    @staticmethod
    def forward(x, axis, keepdims):
        return x.sum(axis=axis, keepdims=keepdims)

    @staticmethod
    def backward(g, out, x, axis, keepdims):
        # Put the summed axes back as size 1 so g lines up with x -- unless they are the
        # leading axes, which expand adds by itself (as numpy broadcasting does).
        if not keepdims and axis != tuple(range(len(axis))):
            g = g.reshape(_keepdims_shape(x.shape, axis))
        return (g.expand(x.shape),)


class Max(Primitive):
    """z = max of x over ``axis``;  dL/dx_i = g / k where x_i is one of the k maxima, else 0.

    Ties split the gradient evenly among the tied maxima (as PyTorch's ``amax``).
    """

    name = "max"
    saves = (0, "out")

    @staticmethod
    def forward(x, axis, keepdims):
        return x.max(axis=axis, keepdims=keepdims)

    @staticmethod
    def backward(g, out, x, axis, keepdims):
        if not keepdims:
            kshape = _keepdims_shape(x.shape, axis)
            g, out = g.reshape(kshape), out.reshape(kshape)
        is_max = (x == out).cast(x.dtype)  # a 0/1 float (comparisons are bool tensors)
        count = is_max.sum(axis=axis, keepdims=True)
        return (g.expand(x.shape) * (is_max / count),)
