"""Reductions and scans: ops that combine the elements along an axis.

Read top to bottom: the classic reductions composed from ``sum`` and ``max`` (min, mean, var,
std, logsumexp, softmax, log_softmax), scans (cumsum, cumprod) and the product built on them,
index reductions (argmax, argmin; no gradient), truth reductions (any, all), sorting (sort,
argsort, topk: the values are a differentiable gather), and norms. Notation: x input, z output,
g = dL/dz. The primitives' front doors ``sum`` and ``max`` (and ``_stable_shift``) are in
``tensor_class``.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import primitives as P
from ..torch_names import accepts_torch_names
from ._shared import boolean, indices, integer, normalize_axis, one_axis, select

if TYPE_CHECKING:
    from ..tensor_class import Tensor

__all__ = ["ReductionOps"]

Axis = int | tuple[int, ...] | list[int] | None


def _axes(axis: Axis, ndim: int, op: str) -> tuple[int, ...]:
    """``axis`` (None for all, an int or a sequence of ints) as sorted non-negative axes."""
    if axis is None:
        return tuple(range(ndim))
    listed = [axis] if not isinstance(axis, (tuple, list)) else list(axis)
    out = sorted({one_axis(a, ndim, op) for a in listed})
    if len(out) != len(listed):
        raise ValueError(f"{op}: repeated axis in {axis}")
    return tuple(out) if ndim else ()


def _along(x: Tensor, axis: int | None, op: str) -> tuple[Tensor, int]:
    """x and one axis to scan along: ``axis=None`` means the flattened tensor (as numpy and PyTorch)."""
    if axis is None:
        return x.reshape(-1), 0
    if x.ndim == 0:
        one_axis(axis, 0, op)
        return x.reshape(1), 0
    return x, one_axis(axis, x.ndim, op)


class ReductionOps:
    """Mixin of reductions and scans for ``Tensor``."""

    __slots__ = ()

    # ------------------------------------------------------------------ min, mean, var, std, softmax

    @accepts_torch_names
    def min(self: Tensor, axis: Axis = None, keepdims: bool = False) -> Tensor:
        """min x = -max(-x) (composed); ties split the gradient evenly."""
        return -((-self).max(axis=axis, keepdims=keepdims))

    def _count(self: Tensor, axis: Axis, op: str) -> int:
        """n, the number of elements a reduction over ``axis`` combines."""
        return math.prod(self.shape[a] for a in normalize_axis(axis, self.ndim, op))

    @accepts_torch_names
    def mean(self: Tensor, axis: Axis = None, keepdims: bool = False) -> Tensor:
        """mean x = (1/n) sum_i x_i over ``axis`` (composed: sum, then a constant factor)."""
        n = self._count(axis, "mean")
        if n == 0:
            raise ValueError(f"mean: cannot average 0 elements (axis={axis} of a tensor of shape {self.shape})")
        return self.sum(axis=axis, keepdims=keepdims) * (1.0 / n)

    @accepts_torch_names
    def var(self: Tensor, axis: Axis = None, keepdims: bool = False, ddof: int = 0, *,
            correction: int | None = None) -> Tensor:
        """(1/(n - ddof)) sum (x - mean)^2 (composed).

        The default is ``ddof=0`` (numpy's, and the lectures' batch norm); PyTorch's default
        is ``correction=1`` (the unbiased estimate). ``correction=`` is PyTorch's name for ddof.
        """
        if correction is not None:
            if ddof not in (0, correction):
                raise ValueError(f"var: give ddof or correction, not both (ddof={ddof}, correction={correction})")
            ddof = correction
        n = self._count(axis, "var")
        if n - ddof <= 0:
            raise ValueError(f"var: {n} elements with ddof={ddof} leaves no degrees of freedom")
        centred = self - self.mean(axis=axis, keepdims=True)
        return (centred * centred).sum(axis=axis, keepdims=keepdims) * (1.0 / (n - ddof))

    @accepts_torch_names
    def std(self: Tensor, axis: Axis = None, keepdims: bool = False, ddof: int = 0, *,
            correction: int | None = None) -> Tensor:
        """sqrt(var) with the same ``ddof`` / ``correction`` (composed; default ddof=0, see ``var``).

        Where var = 0 (a constant row) sqrt'(0) = inf meets d var/dx = 0: the gradient is taken
        as 0 there (as PyTorch), not inf * 0 = nan.
        """
        v = self.var(axis=axis, keepdims=keepdims, ddof=ddof, correction=correction)
        flat = v == 0  # a comparison op, not a numpy test, so tg.jit replays it with the data
        safe = select(flat, 1.0, v)  # sqrt sees 1 where var = 0, and that branch is then discarded
        return select(flat, 0.0, safe.sqrt())

    @accepts_torch_names
    def logsumexp(self: Tensor, axis: Axis = None, keepdims: bool = False) -> Tensor:
        """ln sum e^x = m + ln sum e^(x - m) with m = max x held constant (composed, stable)."""
        m = self._stable_shift(axis, "logsumexp")
        out = (self - m).exp().sum(axis=axis, keepdims=True).log() + m
        return out if keepdims else out.reshape(self._reduced_shape(axis))

    def _reduced_shape(self: Tensor, axis: Axis) -> tuple[int, ...]:
        """The shape after reducing over ``axis`` without keepdims."""
        axes = normalize_axis(axis, self.ndim, "logsumexp")
        return tuple(n for i, n in enumerate(self.shape) if i not in axes)

    @accepts_torch_names
    def softmax(self: Tensor, axis: int = -1) -> Tensor:
        """a_i = softmax(z)_i = e^(z_i) / sum_j e^(z_j), shifted by max z for stability (composed).

        Its Jacobian da_i/dz_j = a_i (delta_ij - a_j) comes from the chain rule through exp,
        sum and div; with cross-entropy it collapses to dJ/dz = (a - y) / m.
        """
        e = (self - self._stable_shift(axis, "softmax")).exp()
        return e / e.sum(axis=axis, keepdims=True)

    @accepts_torch_names
    def log_softmax(self: Tensor, axis: int = -1) -> Tensor:
        """ln softmax(z)_i = z_i - logsumexp(z) (composed, stable).

        Computed as (z_i - m) - ln sum_j e^(z_j - m) with m = max z held constant: the
        shift is exact, whereas z_i - logsumexp(z) would lose ulp(|z|) of accuracy
        (~1e-3 in float32 at |z| = 1e4). The gradient is the same (softmax is
        shift-invariant).
        """
        shifted = self - self._stable_shift(axis, "log_softmax")
        return shifted - shifted.exp().sum(axis=axis, keepdims=True).log()

    # ------------------------------------------------------------------ scans

    @accepts_torch_names
    def cumsum(self: Tensor, axis: int | None = None) -> Tensor:
        """z_i = sum_{j <= i} x_j along ``axis`` (primitive);  dL/dx_i = sum_{j >= i} g_j.

        ``axis=None`` scans the flattened tensor (numpy's default).
        """
        x, a = _along(self, axis, "cumsum")
        out = x._apply(P.Cumsum, x, axis=a)
        return out.reshape(self.shape) if self.ndim == 0 else out

    @accepts_torch_names
    def cumprod(self: Tensor, axis: int | None = None) -> Tensor:
        """z_i = prod_{j <= i} x_j along ``axis`` (primitive);  dL/dx_i = sum_{j >= i} g_j prod_{k <= j, k != i} x_k.

        Zeros are handled exactly, without dividing by them (see the primitive).
        """
        x, a = _along(self, axis, "cumprod")
        out = x._apply(P.Cumprod, x, axis=a)
        return out.reshape(self.shape) if self.ndim == 0 else out

    @accepts_torch_names
    def prod(self: Tensor, axis: Axis = None, keepdims: bool = False) -> Tensor:
        """z = prod_i x_i over ``axis`` (composed: the last element of a cumprod);  dz/dx_i = prod_{k != i} x_k.

        Built on cumprod so a zero factor gives the exact gradient (the product of the
        others), not 0/0.
        """
        axes = _axes(axis, self.ndim, "prod")
        kept = tuple(i for i in range(self.ndim) if i not in axes)
        moved = self.permute(*kept, *axes) if self.ndim else self
        lines = moved.reshape(*(self.shape[i] for i in kept), -1)
        if lines.shape[-1] == 0:  # the empty product is 1
            out = lines.sum(axis=-1) + 1.0
        else:
            out = lines.cumprod(-1)[..., -1]
        if keepdims:
            out = out.reshape(tuple(1 if i in axes else n for i, n in enumerate(self.shape)))
        return out

    # ------------------------------------------------------------------ index reductions (no gradient)

    @accepts_torch_names
    def argmax(self: Tensor, axis: int | None = None, keepdims: bool = False) -> Tensor:
        """The index of the (first) maximum over ``axis`` (None: of the flattened tensor), int64. No gradient."""
        return _arg_reduce(self, np.argmax, axis, keepdims, "argmax")

    @accepts_torch_names
    def argmin(self: Tensor, axis: int | None = None, keepdims: bool = False) -> Tensor:
        """The index of the (first) minimum over ``axis`` (None: of the flattened tensor), int64. No gradient."""
        return _arg_reduce(self, np.argmin, axis, keepdims, "argmin")

    # ------------------------------------------------------------------ truth reductions (no gradient)

    @accepts_torch_names
    def any(self: Tensor, axis: Axis = None, keepdims: bool = False) -> Tensor:
        """True where some element over ``axis`` is nonzero (all axes by default). No gradient."""
        axes = _axes(axis, self.ndim, "any")
        return boolean(self, np.any(self.data != 0, axis=axes, keepdims=keepdims))

    @accepts_torch_names
    def all(self: Tensor, axis: Axis = None, keepdims: bool = False) -> Tensor:
        """True where every element over ``axis`` is nonzero (all axes by default). No gradient."""
        axes = _axes(axis, self.ndim, "all")
        return boolean(self, np.all(self.data != 0, axis=axes, keepdims=keepdims))

    # ------------------------------------------------------------------ sorting

    @accepts_torch_names
    def sort(self: Tensor, axis: int = -1, descending: bool = False) -> tuple[Tensor, Tensor]:
        """(values, indices): x sorted along ``axis`` (stable), as ``torch.sort``.

        values = gather(x, axis, indices) (composed: getitem), so dL/dx_i = g at the place
        x_i moved to; the indices carry no gradient.
        """
        indices = self.argsort(axis, descending)
        return self.gather(_scan_axis(self, axis, "sort"), indices), indices

    @accepts_torch_names
    def argsort(self: Tensor, axis: int = -1, descending: bool = False) -> Tensor:
        """The indices (int64) that sort x along ``axis`` (stable: ties keep their order). No gradient."""
        a = _scan_axis(self, axis, "argsort")
        data = self.data.reshape(1) if self.ndim == 0 else self.data
        order = np.argsort(-data if descending else data, axis=a, kind="stable")
        return indices(self, order.reshape(self.shape))

    @accepts_torch_names
    def topk(self: Tensor, k: int, axis: int = -1, largest: bool = True, sorted: bool = True) -> tuple[Tensor, Tensor]:
        """(values, indices) of the k largest (``largest=False``: smallest) along ``axis`` (composed: sort, narrow)."""
        a = _scan_axis(self, axis, "topk")
        k = integer(k, "topk", "k")
        n = self.shape[a] if self.ndim else 1
        if not 0 <= k <= n:
            raise ValueError(f"topk: k={k} is out of range for {n} elements along axis {a} (shape {self.shape})")
        values, indices = self.sort(a, descending=largest)
        return values.narrow(a, 0, k), indices.narrow(a, 0, k)

    # ------------------------------------------------------------------ norms

    @accepts_torch_names
    def norm(self: Tensor, p: float | str = "fro", axis: Axis = None, keepdims: bool = False) -> Tensor:
        """||x||_p over ``axis`` (all elements by default) (composed).

        p = 2 or "fro": sqrt(sum x_i^2), d/dx_i = x_i / ||x|| (0 at x = 0, as PyTorch);
        p = 1: sum |x_i|, d/dx_i = sign(x_i); p = inf / -inf: max / min |x_i| (ties split);
        p = 0: the number of nonzeros (zero gradient); other p > 0: (sum |x_i|^p)^(1/p).
        """
        if p == "fro" or p == 2:
            squares = (self * self).sum(axis=_axes(axis, self.ndim, "norm"), keepdims=keepdims)
            zero = squares == 0  # sqrt'(0) = inf: take the subgradient 0 there, as PyTorch
            safe = select(zero, squares._constant(np.ones((), dtype=self.dtype)), squares)
            return select(zero, safe._constant(np.zeros((), dtype=self.dtype)), safe.sqrt())
        if isinstance(p, str):
            raise ValueError(f"norm: p must be a number or 'fro', got {p!r}")
        axes = _axes(axis, self.ndim, "norm")
        magnitude = self.abs()
        if p == math.inf:
            return magnitude.max(axis=axes, keepdims=keepdims)
        if p == -math.inf:
            return magnitude.min(axis=axes, keepdims=keepdims)
        if p == 1:
            return magnitude.sum(axis=axes, keepdims=keepdims)
        if p == 0:
            return (magnitude > 0).sum(axis=axes, keepdims=keepdims).cast(self.dtype)
        if p < 0:
            raise ValueError(f"norm: p must be >= 0, inf, -inf or 'fro', got {p}")
        return (magnitude ** float(p)).sum(axis=axes, keepdims=keepdims) ** (1.0 / p)


def _scan_axis(x: Tensor, axis: int, op: str) -> int:
    return one_axis(axis, x.ndim, op)


def _arg_reduce(x: Tensor, fn: Any, axis: int | None, keepdims: bool, op: str) -> Tensor:
    """np.argmax / np.argmin over one axis (None: the flattened tensor), with PyTorch's checks."""
    if x.size == 0:
        raise ValueError(f"{op}: cannot reduce an empty tensor of shape {x.shape}")
    if axis is None:
        index = np.asarray(fn(x.data))
        return indices(x, index.reshape((1,) * x.ndim) if keepdims else index)
    a = one_axis(axis, x.ndim, op)
    if x.ndim == 0:  # one element: its index is 0
        return indices(x, np.asarray(0))
    return indices(x, fn(x.data, axis=a, keepdims=keepdims))
