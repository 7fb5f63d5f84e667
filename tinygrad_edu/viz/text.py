"""Numbers, tensor statistics and the plain-text view of a graph.

Shared by the drawings (node labels), the text fallback shown when Graphviz is missing,
and :func:`~tinygrad_edu.viz.explain_backward`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["ArrayStats", "array_stats", "fmt", "fmt_array", "grad_magnitude", "graph_text", "short_repr"]


def fmt(x: float, precision: int = 4) -> str:
    """A float in ``precision`` significant digits; ``-0`` prints as ``0``."""
    x = float(x)
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    text = f"{x:.{precision}g}"
    return "0" if text == "-0" else text


def fmt_array(a: np.ndarray, precision: int = 4, limit: int = 6) -> str:
    """Small arrays in full (``[1, 2.5]``); larger ones as their shape and norm."""
    a = np.asarray(a)
    if a.size == 1:
        return fmt(a.reshape(()), precision)
    if a.size <= limit:
        body = np.array2string(
            a, precision=precision, separator=", ", formatter={"float_kind": lambda v: fmt(v, precision)}
        )
        return " ".join(body.split())
    return f"norm {fmt(float(np.linalg.norm(a.astype(np.float64).ravel())), precision)} {tuple(a.shape)}"


@dataclass
class ArrayStats:
    size: int
    n_nan: int
    n_inf: int
    mean: float
    min: float
    max: float
    norm: float  # Euclidean (Frobenius) norm of the finite elements
    all_zero: bool

    @property
    def rms(self) -> float:
        """Root mean square = norm / sqrt(size): a per-element magnitude, comparable across shapes."""
        return self.norm / math.sqrt(max(self.size, 1))


def array_stats(a: np.ndarray) -> ArrayStats:
    """Summary statistics of ``a`` over its finite elements, plus NaN/inf counts."""
    a = np.asarray(a, dtype=np.float64)
    finite = np.isfinite(a)
    n_nan = int(np.isnan(a).sum())
    n_inf = int(a.size - finite.sum() - n_nan)
    good = a[finite]
    if good.size:
        mean, lo, hi = float(good.mean()), float(good.min()), float(good.max())
        norm = float(np.linalg.norm(good))
    else:
        mean = lo = hi = norm = math.nan
    return ArrayStats(int(a.size), n_nan, n_inf, mean, lo, hi, norm, bool(a.size) and not np.any(a))


def grad_magnitude(node: Any) -> float | None:
    """|grad| for a Value, RMS of the gradient for a Tensor; ``None`` when no gradient was computed."""
    g = node.grad
    if g is None:
        return None
    if isinstance(g, (int, float)):
        return abs(float(g))
    data = np.asarray(getattr(g, "data", g), dtype=np.float64)
    if not np.all(np.isfinite(data)):
        return math.inf
    return float(np.sqrt(np.mean(data * data))) if data.size else 0.0


def short_repr(value: Any, limit: int = 24) -> str:
    """A parameter of an op for its label (``axis=(1,)``), cut to ``limit`` characters."""
    if isinstance(value, np.ndarray):
        text = f"array{tuple(value.shape)}"
    elif isinstance(value, np.dtype) or isinstance(value, type):
        text = str(np.dtype(value))
    else:
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _data_text(node: Any, precision: int) -> str:
    data = node.data
    if isinstance(data, float):
        return fmt(data, precision)
    return f"{fmt_array(data, precision)} {tuple(data.shape)}" if data.size <= 6 else fmt_array(data, precision)


def _grad_text(node: Any, precision: int) -> str:
    g = node.grad
    if g is None:
        return "grad none" if node.requires_grad else ""
    if isinstance(g, (int, float)):
        return f"grad {fmt(g, precision)}"
    return f"grad {fmt_array(g.data, precision)}"


def graph_text(model: Any, precision: int = 4) -> str:
    """A plain-text listing of a :class:`~tinygrad_edu.viz.graph.GraphModel`, one node a line, forward order."""
    index = {id(n): i for i, n in enumerate(model.order)}
    names = {id(d.node): d.name or f"#{d.index}" for d in model.data}
    lines = []
    for d in model.data:
        name = names[id(d.node)]
        if d.node._parents:
            args = ", ".join(names.get(id(p), f"#{index[id(p)]}") for p in d.node._parents)
            head = f"{name} = {d.node._op}({args})"
        else:
            head = f"{name} ({d.role})"
        line = f"{head} = {_data_text(d.node, precision)}"
        grad = _grad_text(d.node, precision)
        lines.append(f"{line}   [{grad}]" if grad else line)
    return "\n".join(lines)
