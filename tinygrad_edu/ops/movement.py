"""Movement and indexing ops: they move, copy or pick elements; no arithmetic.

Every op here is composed from the movement primitives (``getitem`` and its VJP
``scatter_add``, ``reshape``, ``permute``, ``expand``, ``pad``, ``where``, ``concatenate``),
so its gradient routes g back to where each element came from, and copies of one element
add up their gradients. Read top to bottom: gather/scatter and other index ops, masks,
reordering (flip, roll), repeating, splitting, padding, diagonals.

Indices (``gather``, ``index_select``, ...) may be integer arrays, lists or Tensors holding
whole numbers; negative indices count from the end where PyTorch allows them.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import primitives as P
from ..torch_names import accepts_torch_names
from ._shared import integer, normalize_axis, one_axis, real, select

if TYPE_CHECKING:
    from ..tensor_class import Tensor

__all__ = ["MovementOps"]

Axis = int | Sequence[int] | None
PAD_MODES = ("constant", "reflect", "replicate", "circular")
_NUMPY_PAD_MODE = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}


def index_array(index: Any, op: str) -> np.ndarray:
    """An index given as an array, list or Tensor, as an integer numpy array (whole numbers only)."""
    raw = index.data if hasattr(index, "data") and not isinstance(index, np.ndarray) else np.asarray(index)
    if raw.dtype.kind == "f":
        if not np.all(np.isfinite(raw) & (raw == np.round(raw))):
            raise TypeError(f"{op}: the index must hold whole numbers, got {raw.ravel()[:5]}...")
    elif raw.dtype.kind not in "iu":
        raise TypeError(f"{op}: the index must be integers, got dtype {raw.dtype}")
    return raw.astype(np.intp)


def _along_axis_index(x_shape: tuple[int, ...], index: np.ndarray, axis: int, op: str) -> tuple[Any, ...]:
    """The numpy index that picks x[..., index[i, j, k], ...] at axis ``axis`` for every position of ``index``.

    Checks PyTorch's rules: index has x's number of axes, no larger than x on the other axes,
    and entries in [-n, n).
    """
    if index.ndim != len(x_shape):
        raise ValueError(f"{op}: index has {index.ndim} dimensions but the input has {len(x_shape)} (shape {x_shape})")
    for d, (m, n) in enumerate(zip(index.shape, x_shape)):
        if d != axis and m > n:
            raise ValueError(
                f"{op}: index shape {index.shape} is larger than the input shape {x_shape} at axis {d} ({m} > {n})"
            )
    n = x_shape[axis]
    if index.size and (index.min() < -n or index.max() >= n):
        raise IndexError(f"{op}: index values must be in [{-n}, {n - 1}] for axis {axis} of shape {x_shape}")
    grid = np.indices(index.shape, sparse=True)
    return tuple(index % n if d == axis else grid[d] for d in range(len(x_shape)))


def _pad_widths(pad_width: Any, ndim: int, shape: tuple[int, ...]) -> tuple[tuple[int, int], ...]:
    """numpy's pad_width forms: an int, one (before, after) pair for every axis, or one pair per axis."""
    def ints(values: Any) -> tuple[int, ...]:
        try:
            return tuple(operator.index(v) for v in values)
        except TypeError:
            raise TypeError(f"pad: widths must be integers, got {pad_width!r}") from None

    if isinstance(pad_width, (int, np.integer)):
        widths = ((operator.index(pad_width),) * 2,) * ndim
    elif isinstance(pad_width, (tuple, list)) and all(isinstance(w, (int, np.integer)) for w in pad_width):
        if len(pad_width) == 0 and ndim == 0:
            widths = ()
        elif len(pad_width) == 2:
            widths = (ints(pad_width),) * ndim  # one (before, after) pair for every axis, as numpy
        else:
            raise ValueError(
                f"pad: pad_width {tuple(pad_width)} for a tensor of shape {shape}: give one (before, after) pair "
                f"for every axis ({ndim} pairs), one pair for all axes, or an int"
            )
    else:
        widths = tuple(ints(w) for w in pad_width)
        if len(widths) != ndim or any(len(w) != 2 for w in widths):
            raise ValueError(
                f"pad: expected {ndim} non-negative (before, after) pairs for shape {shape}, got {pad_width!r}"
            )
    if any(lo < 0 or hi < 0 for lo, hi in widths):
        raise ValueError(f"pad: widths must be non-negative, got {pad_width!r} (use slicing or narrow to crop)")
    return tuple((int(lo), int(hi)) for lo, hi in widths)


class MovementOps:
    """Mixin of movement and indexing ops for ``Tensor``."""

    __slots__ = ()

    # ------------------------------------------------------------------ shapes and axes

    @accepts_torch_names
    def flatten(self: Tensor, start_axis: int = 0, end_axis: int = -1) -> Tensor:
        """Merge axes start_axis..end_axis into one (composed: reshape)."""
        if self.ndim == 0:
            return self.reshape(1)
        (start,), (end,) = (normalize_axis(a, self.ndim, "flatten") for a in (start_axis, end_axis))
        if start > end:
            raise ValueError(f"flatten: start_axis {start_axis} comes after end_axis {end_axis} (shape {self.shape})")
        return self.reshape(self.shape[:start] + (-1,) + self.shape[end + 1 :])

    def transpose(self: Tensor, dim0: int | None = None, dim1: int | None = None) -> Tensor:
        """Swap two dimensions, as PyTorch's ``transpose(dim0, dim1)`` (composed: permute).

        With no arguments a tensor of at most 2 dimensions is transposed (``.T``). numpy's
        ``transpose(*axes)`` with a full permutation is :meth:`permute` here.
        """
        if dim0 is None and dim1 is None:
            if self.ndim > 2:
                raise TypeError(
                    f"transpose: give the two dimensions to swap for a {self.ndim}-d tensor (shape {self.shape}), "
                    "e.g. transpose(0, 1); for numpy's full reordering use permute(*dims)"
                )
            return self.permute(*reversed(range(self.ndim)))
        if dim0 is None or dim1 is None:
            raise TypeError("transpose: give both dimensions to swap, e.g. transpose(0, 1)")
        return self.swapaxes(dim0, dim1)

    def swapaxes(self: Tensor, axis1: int, axis2: int) -> Tensor:
        """Exchange two axes (composed: permute)."""
        (a,), (b,) = normalize_axis(axis1, self.ndim, "swapaxes"), normalize_axis(axis2, self.ndim, "swapaxes")
        order = list(range(self.ndim))
        order[a], order[b] = order[b], order[a]
        return self.permute(*order)

    @property
    def T(self: Tensor) -> Tensor:
        """All axes reversed (the matrix transpose for 2-d)."""
        return self.permute(*reversed(range(self.ndim)))

    @accepts_torch_names
    def squeeze(self: Tensor, axis: Axis = None) -> Tensor:
        """Remove size-1 axes (all, or the given ones) (composed: reshape)."""
        if axis is None:
            axes = tuple(i for i, n in enumerate(self.shape) if n == 1)
        else:
            axes = normalize_axis(axis, self.ndim, "squeeze")
            for a in axes:
                if self.shape[a] != 1:
                    raise ValueError(f"squeeze: axis {a} has size {self.shape[a]}, not 1 (shape {self.shape})")
        return self.reshape(tuple(n for i, n in enumerate(self.shape) if i not in axes))

    @accepts_torch_names
    def unsqueeze(self: Tensor, axis: int) -> Tensor:
        """Insert a size-1 axis at ``axis`` (composed: reshape)."""
        if not -self.ndim - 1 <= axis <= self.ndim:
            raise ValueError(f"unsqueeze: axis {axis} out of range for shape {self.shape}")
        axis = axis % (self.ndim + 1)
        return self.reshape(self.shape[:axis] + (1,) + self.shape[axis:])

    # ------------------------------------------------------------------ gather and scatter

    @accepts_torch_names
    def gather(self: Tensor, axis: int, index: Any) -> Tensor:
        """z[i][j][k] = x[index[i][j][k]][j][k] for axis 0 (likewise for other axes), as ``torch.gather``.

        Composed: getitem with an index array, so dL/dx = g scattered back to the gathered
        places (repeats add up). ``index`` has x's number of axes.
        """
        a = one_axis(axis, self.ndim, "gather")
        picks = _along_axis_index(self.shape, index_array(index, "gather"), a, "gather")
        return self._apply(P.Getitem, self, index=picks)

    take_along_axis = gather  # numpy's name (argument order differs: numpy takes (indices, axis))

    @accepts_torch_names
    def scatter_add(self: Tensor, axis: int, index: Any, src: Any) -> Tensor:
        """z = x, then z[index[i][j][k]][j][k] += src[i][j][k] for axis 0 (likewise others), as PyTorch.

        Composed: x + scatter_add primitive;  dL/dx = g, dL/dsrc = g gathered at the index.
        """
        a = one_axis(axis, self.ndim, "scatter_add")
        idx = index_array(index, "scatter_add")
        places = _along_axis_index(self.shape, idx, a, "scatter_add")
        part = _source(self, src, idx.shape, "scatter_add")
        return self + part._apply(P.ScatterAdd, part, shape=self.shape, index=places)

    @accepts_torch_names
    def scatter(self: Tensor, axis: int, index: Any, src: Any) -> Tensor:
        """z = x with z[index[i][j][k]][j][k] = src[i][j][k] (axis 0; likewise others), as ``torch.scatter``.

        ``src`` may be a number. Composed (where + scatter_add): dL/dx = g where x was kept,
        dL/dsrc = g gathered at the index. Repeated indices add their sources (PyTorch leaves
        which one wins unspecified): avoid them.
        """
        a = one_axis(axis, self.ndim, "scatter")
        idx = index_array(index, "scatter")
        places = _along_axis_index(self.shape, idx, a, "scatter")
        part = _source(self, src, idx.shape, "scatter")
        written = np.zeros(self.shape, dtype=bool)
        written[places] = True
        return select(written, part._apply(P.ScatterAdd, part, shape=self.shape, index=places), self)

    @accepts_torch_names
    def index_select(self: Tensor, axis: int, index: Any) -> Tensor:
        """z = x with only the entries ``index`` (1-d) along ``axis`` (composed: getitem);  repeats add gradients."""
        a = one_axis(axis, self.ndim, "index_select")
        idx = index_array(index, "index_select")
        if idx.ndim > 1:
            raise ValueError(f"index_select: index must be 1-d, got shape {idx.shape}")
        n = self.shape[a] if self.ndim else 1
        if idx.size and (idx.min() < -n or idx.max() >= n):
            raise IndexError(
                f"index_select: index values must be in [{-n}, {n - 1}] for axis {a} of shape {self.shape}"
            )
        if self.ndim == 0:
            return self.reshape(1)[idx.reshape(-1)].reshape(() if idx.ndim == 0 else (-1,))
        return self._apply(P.Getitem, self, index=(slice(None),) * a + (idx.reshape(-1),))

    # ------------------------------------------------------------------ masks

    def masked_fill(self: Tensor, mask: Any, value: float) -> Tensor:
        """z = value where mask is true (nonzero), else x (composed: where);  dL/dx = g where mask is false.

        The mask broadcasts to x's shape (never the other way round).
        """
        m = np.asarray(mask.data if hasattr(mask, "data") and not isinstance(mask, np.ndarray) else mask) != 0
        try:
            shape = np.broadcast_shapes(m.shape, self.shape)
        except ValueError:
            shape = None
        if shape != self.shape:
            raise ValueError(f"masked_fill: mask of shape {m.shape} does not broadcast to the input shape {self.shape}")
        fill = np.asarray(real(value, "masked_fill", "value"), dtype=self.dtype)  # in x's dtype, as PyTorch
        return select(~np.broadcast_to(m, self.shape), self, fill)

    def tril(self: Tensor, diagonal: int = 0) -> Tensor:
        """Lower triangle of the last two axes: z_ij = x_ij if j - i <= diagonal else 0 (composed: where)."""
        return _triangle(self, diagonal, lower=True)

    def triu(self: Tensor, diagonal: int = 0) -> Tensor:
        """Upper triangle of the last two axes: z_ij = x_ij if j - i >= diagonal else 0 (composed: where)."""
        return _triangle(self, diagonal, lower=False)

    # ------------------------------------------------------------------ reordering

    @accepts_torch_names
    def flip(self: Tensor, axis: int | Sequence[int] | None = None) -> Tensor:
        """x reversed along ``axis`` (an int, several, or None for all) (composed: getitem with step -1)."""
        listed = range(self.ndim) if axis is None else ([axis] if isinstance(axis, (int, np.integer)) else axis)
        axes = {one_axis(a, self.ndim, "flip") for a in listed}
        if self.ndim == 0 or not axes:
            return self
        index = tuple(slice(None, None, -1) if d in axes else slice(None) for d in range(self.ndim))
        return self._apply(P.Getitem, self, index=index)

    @accepts_torch_names
    def roll(self: Tensor, shifts: int | Sequence[int], axis: int | Sequence[int] | None = None) -> Tensor:
        """z = x shifted cyclically by ``shifts`` along ``axis`` (None: the flattened tensor) (composed: getitem).

        z_i = x_((i - shift) mod n), as numpy and PyTorch.
        """
        if axis is None:
            if isinstance(shifts, (tuple, list)):
                raise TypeError(f"roll: with axis=None, shifts must be one int, got {shifts!r}")
            integer(shifts, "roll", "shifts")
            return self.reshape(-1).roll(shifts, 0).reshape(self.shape)
        shift_list = [shifts] if not isinstance(shifts, (tuple, list)) else list(shifts)
        axis_list = [axis] if not isinstance(axis, (tuple, list)) else list(axis)
        shift_list = [integer(s, "roll", "shifts") for s in shift_list]
        if len(shift_list) != len(axis_list):
            raise ValueError(f"roll: {len(shift_list)} shifts for {len(axis_list)} axes; give one shift per axis")
        out = self
        for s, a in zip(shift_list, axis_list):
            d = one_axis(a, self.ndim, "roll")
            n = self.shape[d] if self.ndim else 1
            if n and s % n:
                order = (np.arange(n) - operator.index(s)) % n
                out = out._apply(P.Getitem, out, index=(slice(None),) * d + (order,))
        return out

    # ------------------------------------------------------------------ repeating

    def repeat(self: Tensor, *sizes: int | Sequence[int]) -> Tensor:
        """x tiled ``sizes[d]`` times along each axis d, as ``torch.repeat`` (composed: reshape, expand).

        z = the whole of x copied, not each element; dL/dx = the sum of g over the copies.
        ``sizes`` may have more entries than x has axes (new leading axes).
        """
        reps = _ints(sizes[0] if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)) else sizes, "repeat")
        if len(reps) < self.ndim:
            raise ValueError(f"repeat: {len(reps)} repeat counts for a tensor with {self.ndim} dimensions {self.shape}")
        if any(r < 0 for r in reps):
            raise ValueError(f"repeat: repeat counts must be >= 0, got {reps}")
        shape = (1,) * (len(reps) - self.ndim) + self.shape
        interleaved = [n for s in shape for n in (1, s)]
        target = [n for r, s in zip(reps, shape) for n in (r, s)]
        return self.reshape(interleaved).expand(target).reshape([r * s for r, s in zip(reps, shape)])

    def tile(self: Tensor, reps: int | Sequence[int]) -> Tensor:
        """x tiled as ``numpy.tile``: missing leading ``reps`` count as 1 (composed: repeat)."""
        counts = _ints([reps] if isinstance(reps, (int, np.integer)) else reps, "tile")
        return self.repeat((1,) * (self.ndim - len(counts)) + counts)

    @accepts_torch_names
    def repeat_interleave(self: Tensor, repeats: Any, axis: int | None = None) -> Tensor:
        """Each element repeated ``repeats`` times along ``axis`` (None: the flattened tensor), as PyTorch.

        ``repeats`` is an int or one count per element (composed: getitem);  dL/dx_i = the sum of g over x_i's copies.
        """
        if axis is None:
            return self.reshape(-1).repeat_interleave(repeats, 0)
        a = one_axis(axis, self.ndim, "repeat_interleave")
        x = self.reshape(1) if self.ndim == 0 else self
        counts = index_array(repeats, "repeat_interleave").reshape(-1)
        n = x.shape[a]
        if counts.size not in (1, n) or (counts < 0).any():
            raise ValueError(
                f"repeat_interleave: repeats must be one count >= 0 or {n} of them (axis {a} of shape {self.shape})"
            )
        return x._apply(P.Getitem, x, index=(slice(None),) * a + (np.repeat(np.arange(n), counts),))

    # ------------------------------------------------------------------ splitting

    @accepts_torch_names
    def narrow(self: Tensor, axis: int, start: int, length: int) -> Tensor:
        """z = x[..., start : start + length, ...] along ``axis`` (composed: getitem; start may be negative)."""
        a = one_axis(axis, self.ndim, "narrow")
        start, length = integer(start, "narrow", "start"), integer(length, "narrow", "length")
        n = self.shape[a]
        begin = start + (n if start < 0 else 0)
        if not (0 <= begin <= n and 0 <= length and begin + length <= n):
            raise IndexError(
                f"narrow: start {start} and length {length} do not fit axis {a} of size {n} (shape {self.shape})"
            )
        return self._apply(P.Getitem, self, index=(slice(None),) * a + (slice(begin, begin + length),))

    @accepts_torch_names
    def split(self: Tensor, split_size_or_sections: int | Sequence[int], axis: int = 0) -> tuple[Tensor, ...]:
        """Pieces along ``axis``, as ``torch.split``: of size ``split_size`` (the last may be smaller)
        or of the listed sizes (they must add up to the axis length). Each piece is a narrow."""
        a = one_axis(axis, self.ndim, "split")
        n = self.shape[a]
        if isinstance(split_size_or_sections, (int, np.integer)):
            size = operator.index(split_size_or_sections)
            if size <= 0:
                raise ValueError(f"split: split_size must be > 0, got {size}")
            sizes = [min(size, n - s) for s in range(0, n, size)] or [0]
        else:
            sizes = list(_ints(split_size_or_sections, "split"))
            if sum(sizes) != n or any(s < 0 for s in sizes):
                raise ValueError(f"split: sizes {sizes} do not add up to {n}, the size of axis {a} ({self.shape})")
        starts = np.cumsum([0, *sizes[:-1]])
        return tuple(self.narrow(a, int(s), k) for s, k in zip(starts, sizes))

    @accepts_torch_names
    def chunk(self: Tensor, chunks: int, axis: int = 0) -> tuple[Tensor, ...]:
        """About ``chunks`` equal pieces along ``axis``, as ``torch.chunk``: size ceil(n / chunks), maybe fewer."""
        if integer(chunks, "chunk", "chunks") <= 0:
            raise ValueError(f"chunk: chunks must be > 0, got {chunks}")
        n = self.shape[one_axis(axis, self.ndim, "chunk")]
        return self.split(max(math.ceil(n / chunks), 1), axis)

    @accepts_torch_names
    def unbind(self: Tensor, axis: int = 0) -> tuple[Tensor, ...]:
        """The slices x[..., i, ...] along ``axis``, each without that axis (composed: getitem)."""
        a = one_axis(axis, self.ndim, "unbind")
        if self.ndim == 0:
            raise ValueError("unbind: a 0-d tensor has no axis to unbind")
        return tuple(self._apply(P.Getitem, self, index=(slice(None),) * a + (i,)) for i in range(self.shape[a]))

    def clone(self: Tensor) -> Tensor:
        """A copy with its own data, still in the graph: z = x * 1;  dL/dx = g (detach() cuts the graph instead)."""
        return self * 1.0

    # ------------------------------------------------------------------ padding

    def pad(self: Tensor, pad_width: Any, mode: str = "constant", value: float = 0.0) -> Tensor:
        """x padded by ``pad_width[i] = (before, after)`` along axis i (numpy's convention;
        an int or one pair applies to every axis). For PyTorch's flat last-axis-first form use
        :func:`tinygrad_edu.ops.functional.pad`.

        Modes: ``constant`` (``value`` around; primitive ``pad``, dL/dx = g without the
        border), ``reflect`` (mirror without repeating the edge: 3 2 | 1 2 3 | 2 1),
        ``replicate`` (the edge repeated: 1 1 | 1 2 3 | 3 3) and ``circular`` (wrap around:
        2 3 | 1 2 3 | 1 2). The last three are getitem with an index array, so dL/dx_i adds
        g over every copy of x_i.
        """
        if mode not in PAD_MODES:
            raise ValueError(f"pad: mode must be one of {PAD_MODES}, got {mode!r}")
        widths = _pad_widths(pad_width, self.ndim, self.shape)
        if not any(lo or hi for lo, hi in widths):
            return self
        if mode == "constant":
            out = self._apply(P.Pad, self, pad_width=widths)
            if value != 0:
                border = np.pad(np.zeros(self.shape, dtype=self.dtype), widths, constant_values=value)
                out = out + border
            return out
        out = self
        for d, (lo, hi) in enumerate(widths):
            n = self.shape[d]
            if not lo and not hi:
                continue
            if (mode == "reflect" and max(lo, hi) >= n) or (mode != "reflect" and (n == 0 or max(lo, hi) > n)):
                limit = "less than" if mode == "reflect" else "at most"
                raise ValueError(
                    f"pad: {mode} padding of ({lo}, {hi}) along axis {d} must be {limit} its size {n} "
                    f"(shape {self.shape})"
                )
            order = np.pad(np.arange(n), (lo, hi), mode=_NUMPY_PAD_MODE[mode])
            out = out._apply(P.Getitem, out, index=(slice(None),) * d + (order,))
        return out

    # ------------------------------------------------------------------ diagonals

    @accepts_torch_names
    def diagonal(self: Tensor, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Tensor:
        """The diagonal z_i = x[i, i + offset] of axes (axis1, axis2), appended as the last axis
        (numpy and PyTorch) (composed: permute, getitem);  dL/dx = g placed on that diagonal."""
        if self.ndim < 2:
            raise ValueError(f"diagonal: needs at least 2 dimensions, got shape {self.shape}")
        a, b = one_axis(axis1, self.ndim, "diagonal"), one_axis(axis2, self.ndim, "diagonal")
        offset = integer(offset, "diagonal", "offset")
        if a == b:
            raise ValueError(f"diagonal: axis1 and axis2 must differ, got {axis1} and {axis2}")
        rest = [d for d in range(self.ndim) if d not in (a, b)]
        moved = self.permute(*rest, a, b)
        rows, cols = moved.shape[-2:]
        length = max(0, min(rows - max(-offset, 0), cols - max(offset, 0)))
        i = np.arange(length)
        return moved._apply(P.Getitem, moved, index=(Ellipsis, i + max(-offset, 0), i + max(offset, 0)))

    def diag(self: Tensor, diagonal: int = 0) -> Tensor:
        """As ``torch.diag``: for a 1-d x the square matrix with x on diagonal ``diagonal`` (composed:
        scatter_add primitive); for a 2-d x its diagonal as 1-d (composed: ``diagonal``)."""
        diagonal = integer(diagonal, "diag", "diagonal")
        if self.ndim == 2:
            return self.diagonal(diagonal)
        if self.ndim != 1:
            raise ValueError(f"diag: expects a 1-d or 2-d tensor, got shape {self.shape}")
        n = self.shape[0] + abs(diagonal)
        i = np.arange(self.shape[0])
        places = (i + max(-diagonal, 0), i + max(diagonal, 0))
        return self._apply(P.ScatterAdd, self, shape=(n, n), index=places)


def _ints(values: Any, op: str) -> tuple[int, ...]:
    try:
        return tuple(operator.index(v) for v in values)
    except TypeError:
        raise TypeError(f"{op}: expected integers, got {values!r}") from None


def _source(x: Tensor, src: Any, shape: tuple[int, ...], op: str) -> Tensor:
    """The part of ``src`` (a Tensor, array or number) that scatter uses: its leading ``shape`` block."""
    if isinstance(src, (int, float, np.integer, np.floating)) and not isinstance(src, bool):
        return x._constant(np.full(shape, src, dtype=x.dtype))
    if not isinstance(src, (type(x), np.ndarray, list, tuple)):
        raise TypeError(f"{op}: src must be a Tensor, an array or a number, got {type(src).__name__}")
    src = src if isinstance(src, type(x)) else x._constant(src)
    if src.ndim != len(shape) or any(m > n for m, n in zip(shape, src.shape)):
        raise ValueError(f"{op}: src of shape {src.shape} is smaller than the index shape {shape}")
    if src.shape == shape:
        return src
    return src._apply(P.Getitem, src, index=tuple(slice(0, m) for m in shape))


def _triangle(x: Tensor, diagonal: int, lower: bool) -> Tensor:
    op = "tril" if lower else "triu"
    diagonal = integer(diagonal, op, "diagonal")
    if x.ndim < 2:
        raise ValueError(f"{op}: needs at least 2 dimensions, got shape {x.shape}")
    rows, cols = x.shape[-2:]
    offset = np.arange(cols)[None, :] - np.arange(rows)[:, None]  # j - i
    keep = offset <= diagonal if lower else offset >= diagonal
    return select(keep, x, 0)
