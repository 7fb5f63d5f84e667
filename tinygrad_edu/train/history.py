"""``History``: what ``fit`` measured, per epoch and per gradient step.

Per epoch (lists indexed like ``epochs``, which counts from 1): the training loss J and
accuracy (size-weighted means over the epoch's batches, measured *before* each step), the
validation loss and accuracy (measured after the epoch, in eval mode) and the learning rate.
``history.history`` is the same data as Keras names it: ``{"loss": [...], "accuracy": [...],
"val_loss": [...], "val_accuracy": [...], "lr": [...]}`` (only the measured keys).

Per gradient step: ``iteration_loss``, the learning curve J vs iteration. Its length is
bounded (``max_iteration_points``, 4,096 by default): when it fills up, neighbouring points
are averaged in pairs and each point then stands for ``iteration_stride`` consecutive steps
(1, 2, 4, ...), so a long stochastic run keeps the curve's shape in a small, fixed size.
``iteration_steps()`` gives each point's position on the iteration axis.

In Jupyter a ``History`` shows itself as a small table with a sparkline per metric.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass, field
from typing import Any

from .progress import format_seconds

__all__ = ["History"]

_KERAS_NAMES = (
    ("loss", "train_loss"),
    ("accuracy", "train_accuracy"),
    ("val_loss", "val_loss"),
    ("val_accuracy", "val_accuracy"),
    ("lr", "lr"),
)


@dataclass(repr=False)
class History:
    """What ``fit`` measured. Lists are indexed by epoch except ``iteration_loss`` (see the module docstring)."""

    epochs: list[int] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    train_accuracy: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_accuracy: list[float] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    iteration_loss: list[float] = field(default_factory=list)
    batches_per_epoch: int = 0
    stopped_early: bool = False
    best_epoch: int | None = None
    seconds: float = 0.0
    interrupted: bool = False
    iteration_stride: int = 1
    iterations: int = 0
    max_iteration_points: int | None = 4096
    _pending_sum: float = field(default=0.0, compare=False, init=False)
    _pending_count: int = field(default=0, compare=False, init=False)

    def __post_init__(self) -> None:
        m = self.max_iteration_points
        if m is not None and (isinstance(m, bool) or not isinstance(m, int) or m < 2 or m % 2):
            raise ValueError(f"History: max_iteration_points must be an even int >= 2 or None, got {m!r}")
        if not self.iterations:
            self.iterations = len(self.iteration_loss) * self.iteration_stride

    # ------------------------------------------------------------------ recording

    def record_step(self, loss: float) -> None:
        """Add the cost J of one gradient step to the (bounded) learning curve."""
        self.iterations += 1
        self._pending_sum += loss
        self._pending_count += 1
        if self._pending_count < self.iteration_stride:
            return
        self.iteration_loss.append(self._pending_sum / self._pending_count)
        self._pending_sum, self._pending_count = 0.0, 0
        if self.max_iteration_points is not None and len(self.iteration_loss) >= self.max_iteration_points:
            pts = self.iteration_loss
            pts[:] = [(pts[i] + pts[i + 1]) / 2 for i in range(0, len(pts), 2)]
            self.iteration_stride *= 2

    def flush(self) -> None:
        """Close the last, partly filled point of ``iteration_loss`` (``fit`` calls this at the end)."""
        if self._pending_count:
            self.iteration_loss.append(self._pending_sum / self._pending_count)
            self._pending_sum, self._pending_count = 0.0, 0

    def iteration_steps(self) -> list[float]:
        """The iteration (gradient step, from 1) each ``iteration_loss`` point stands for: the centre of its steps."""
        s = self.iteration_stride
        xs = [i * s + (s + 1) / 2 for i in range(len(self.iteration_loss))]
        if xs and self.iterations and self.iterations < len(xs) * s:  # the last point covers fewer steps
            first = (len(xs) - 1) * s + 1
            xs[-1] = (first + self.iterations) / 2
        return xs

    # ------------------------------------------------------------------ Keras names

    @property
    def history(self) -> dict[str, list[float]]:
        """Keras's layout: ``{"loss": [...], "accuracy": [...], "val_loss": [...], "val_accuracy": [...],
        "lr": [...]}`` with the measured keys only. The lists are this object's own (not copies)."""
        return {keras: getattr(self, ours) for keras, ours in _KERAS_NAMES if getattr(self, ours)}

    @property
    def epoch(self) -> list[int]:
        """Keras's ``History.epoch``: the epoch indices counted from 0 (``epochs`` counts from 1)."""
        return [e - 1 for e in self.epochs]

    def as_dict(self) -> dict[str, Any]:
        """Plain Python types, ready for ``json.dump``."""
        return {
            "epochs": list(self.epochs),
            "train_loss": list(self.train_loss),
            "train_accuracy": list(self.train_accuracy),
            "val_loss": list(self.val_loss),
            "val_accuracy": list(self.val_accuracy),
            "lr": list(self.lr),
            "iteration_loss": list(self.iteration_loss),
            "iteration_stride": self.iteration_stride,
            "iterations": self.iterations,
            "batches_per_epoch": self.batches_per_epoch,
            "stopped_early": self.stopped_early,
            "interrupted": self.interrupted,
            "best_epoch": self.best_epoch,
            "seconds": self.seconds,
        }

    def last(self) -> dict[str, float]:
        """The final epoch's figures (``loss``, ``accuracy``, ``val_loss``, ``val_accuracy`` where measured)."""
        return {k: v[-1] for k, v in self.history.items() if k != "lr"}

    def plot(self, path: Any = None, title: str | None = None) -> Any:
        """The learning curve (:func:`tinygrad_edu.plots.plot_learning_curve`); needs matplotlib."""
        from ..plots import plot_learning_curve

        return plot_learning_curve(self, path, title=title)

    # ------------------------------------------------------------------ display

    def _status(self) -> str:
        if self.interrupted:
            return ", interrupted"
        if self.stopped_early:
            return ", stopped early" + (f" (best epoch {self.best_epoch})" if self.best_epoch else "")
        return ""

    def __repr__(self) -> str:
        if not self.epochs:
            return "History(no epochs)"
        figures = ", ".join(f"{k} {_num(v[0])} -> {_num(v[-1])}" for k, v in self.history.items() if k != "lr")
        took = format_seconds(self.seconds)
        return f"History({len(self.epochs)} epochs, {self.iterations} steps: {figures}, {took}{self._status()})"

    def _repr_html_(self) -> str:
        e = html.escape
        head = f"History: {len(self.epochs)} epochs, {self.iterations} gradient steps, {format_seconds(self.seconds)}" \
               f"{self._status()}"
        if not self.epochs:
            return f"<p>{e(head)}</p>"
        rows = []
        td = "<td style='padding:2px 8px;text-align:right'>"
        for key, values in self.history.items():
            best = "" if key == "lr" else _num(min(values) if "loss" in key else max(values))
            rows.append(
                f"<tr><td style='padding:2px 8px'><b>{e(key)}</b></td>{td}{_num(values[0])}</td>"
                f"{td}{_num(values[-1])}</td>{td}{best}</td><td>{sparkline_svg(values)}</td></tr>"
            )
        th = "".join(f"<th style='text-align:left;padding:2px 8px'>{h}</th>" for h in
                     ("metric", "first", "last", "best", "per epoch"))
        return (
            f"<div><p style='margin:0 0 4px 0'>{e(head)}</p>"
            f"<table style='border-collapse:collapse'><tr>{th}</tr>{''.join(rows)}</table></div>"
        )


def _num(v: float) -> str:
    return f"{v:.4g}"


def sparkline_svg(values: list[float], width: int = 120, height: int = 24) -> str:
    """A tiny inline SVG line of ``values`` (non-finite values are skipped)."""
    pts = [(i, v) for i, v in enumerate(values) if math.isfinite(v)]
    if not pts:
        return ""
    lo, hi = min(v for _, v in pts), max(v for _, v in pts)
    span, n = (hi - lo) or 1.0, max(len(values) - 1, 1)
    coords = " ".join(
        f"{2 + (width - 4) * i / n:.1f},{height - 2 - (height - 4) * (v - lo) / span:.1f}" for i, v in pts
    )
    return (
        f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' role='img'>"
        f"<polyline fill='none' stroke='#1f77b4' stroke-width='1.5' points='{coords}'/></svg>"
    )
