"""Plots for training: the learning curve, decision boundaries, per-layer histograms.

matplotlib is an optional extra (``pip install 'tinygrad-edu[plot]'``), imported only when a
plot is drawn. Figures are made with ``matplotlib.figure.Figure`` and the Agg canvas, never
``pyplot``, so nothing here changes your matplotlib backend or opens a window. Every function
returns the ``Figure`` and, given ``path``, also writes it (format from the file suffix).
The figure displays itself in Jupyter as a PNG image (it has ``_repr_png_``), with no
``%matplotlib`` magic needed.

* :func:`plot_learning_curve`: the lectures' check that gradient descent works: the cost J
  against the iteration number should go down (and, per epoch, training vs validation).
* :func:`plot_decision_boundary`: the class the model predicts at every point of the plane,
  with the data on top (2-D inputs only).
* :func:`plot_histograms` / :func:`layer_statistics`: the distribution of each layer's
  activations A[l] and of their gradients dA[l] = dJ/dA[l] on one batch; saturated tanh or
  sigmoid units (|a| near 1 or a near 0/1) have g'(z) near 0 and pass almost no gradient.
"""

from __future__ import annotations

import io
import os
from typing import Any

import numpy as np

from .argcheck import as_float_array
from .engine import no_grad
from .tensor_class import Tensor
from .train import default_threshold, predict, predict_classes

__all__ = ["layer_statistics", "plot_decision_boundary", "plot_histograms", "plot_learning_curve"]

_CLASS_COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f")


_FIGURE_CLASS: Any = None


def _figure_class() -> Any:
    """A matplotlib ``Figure`` that Jupyter shows as a PNG without the inline backend (made once, lazily)."""
    global _FIGURE_CLASS
    if _FIGURE_CLASS is None:
        from matplotlib.figure import Figure

        class PlotFigure(Figure):
            """A ``matplotlib.figure.Figure`` with ``_repr_png_``: a notebook cell ending in it shows the image."""

            def _repr_png_(self) -> bytes:
                buffer = io.BytesIO()
                self.savefig(buffer, format="png")
                return buffer.getvalue()

        _FIGURE_CLASS = PlotFigure
    return _FIGURE_CLASS


def _figure(figsize: tuple[float, float]) -> Any:
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
    except ImportError as exc:
        raise ImportError("plots need matplotlib: pip install 'tinygrad-edu[plot]'") from exc
    fig = _figure_class()(figsize=figsize, dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _save(fig: Any, path: str | os.PathLike | None) -> Any:
    if path is not None:
        fig.savefig(os.fspath(path))
    return fig


# ============================================================================ learning curve


def plot_learning_curve(
    history: Any, path: str | os.PathLike | None = None, title: str | None = None, val_label: str = "validation"
) -> Any:
    """Cost J vs iteration (one point per gradient step) and, per epoch, train/validation loss and accuracy.

    ``history``: a :class:`tinygrad_edu.train.History` (or anything with its attributes); when its
    record of J was downsampled (``iteration_stride`` > 1) each point is the mean of that many
    steps, drawn at their centre. ``val_label`` names the held-out set in the legends
    (e.g. ``"test"``).
    """
    iters = list(getattr(history, "iteration_loss", []))
    if not iters:
        raise ValueError("plot_learning_curve: the history has no iteration_loss (did training run?)")
    has_acc = bool(getattr(history, "train_accuracy", []))
    fig = _figure((11 if has_acc else 6.5, 4.2))
    axes = fig.subplots(1, 2 if has_acc else 1)
    ax = axes[0] if has_acc else axes
    stride = int(getattr(history, "iteration_stride", 1) or 1)
    steps = np.asarray(history.iteration_steps()) if hasattr(history, "iteration_steps") else \
        np.arange(1, len(iters) + 1)
    per_epoch = max(int(getattr(history, "batches_per_epoch", 1) or 1), 1)
    epochs = np.asarray(getattr(history, "epochs", []))
    train_loss = list(getattr(history, "train_loss", []))
    val_loss = list(getattr(history, "val_loss", []))
    log_scale = min(iters) > 0 and max(iters) / min(iters) > 100
    # Stochastic and small mini-batches make J per iteration spiky; a few spikes should not flatten the curve,
    # so the axis stops a little above the 95th percentile and the epoch means (the spikes run off the top).
    top = None
    if not log_scale and len(iters) > 20:
        typical = max([float(np.quantile(iters, 0.95))] + train_loss + val_loss)
        if max(iters) > 1.5 * typical:
            top = 1.1 * typical
    label = "J per iteration" if stride == 1 else f"J, mean of each {stride} iterations"
    if top is not None:
        label += f" ({int(np.sum(np.asarray(iters) > top))} spikes above the top)"
    ax.plot(steps, iters, lw=1, color="#1f77b4", alpha=1.0 if len(iters) <= 50 else 0.6 if len(iters) <= 500 else 0.35,
            label=label)
    if len(epochs) and per_epoch > 1:
        ax.plot(epochs * per_epoch, train_loss, "o-", ms=3, color="#1f77b4", label="train (epoch mean)")
    if val_loss:
        ax.plot(epochs * per_epoch, val_loss, "o-", ms=3, color="#ff7f0e", label=val_label)
    ax.set_xlabel("iteration (gradient step)")
    ax.set_ylabel("cost J")
    if log_scale:
        ax.set_yscale("log")
    elif top is not None:
        ax.set_ylim(min(0.0, min(iters)), top)
    ax.set_title(title or "Learning curve: J should go down")
    ax.grid(alpha=0.3)
    ax.legend()
    if has_acc:
        from matplotlib.ticker import MaxNLocator

        ax2 = axes[1]
        ax2.plot(epochs, history.train_accuracy, "o-", ms=3, label="train")
        if getattr(history, "val_accuracy", []):
            ax2.plot(epochs, history.val_accuracy, "o-", ms=3, label=val_label)
        ax2.set_xlabel("epoch")
        ax2.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax2.set_ylabel("accuracy")
        ax2.set_ylim(-0.02, 1.02)
        ax2.set_title("Accuracy per epoch")
        ax2.grid(alpha=0.3)
        ax2.legend()
    return _save(fig, path)


# ============================================================================ decision boundary


def plot_decision_boundary(
    model: Any,
    X: Any,
    y: Any,
    path: str | os.PathLike | None = None,
    resolution: int = 200,
    threshold: float | None = None,
    loss_fn: Any = None,
    title: str | None = None,
) -> Any:
    """The predicted class over the plane (filled regions) with the examples ``X`` (shape (m, 2)) on top.

    Predicted class: argmax of the outputs, or ``output > threshold`` for one output column
    (``threshold`` defaults to 0 for logit losses such as ``binary_cross_entropy_with_logits``
    given as ``loss_fn``, else 0.5).
    """
    X = as_float_array(X, "X", "plot_decision_boundary")
    y = np.asarray(y).reshape(-1)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"plot_decision_boundary: needs 2-D inputs X of shape (m, 2), got {X.shape}")
    if len(y) != len(X):
        raise ValueError(f"plot_decision_boundary: X has {len(X)} rows but y has {len(y)} labels")
    if not 2 <= int(resolution) <= 2000:
        raise ValueError(f"plot_decision_boundary: resolution must be in 2..2000, got {resolution}")
    if threshold is None:
        threshold = default_threshold(loss_fn)
    span = X.max(axis=0) - X.min(axis=0)
    lo, hi = X.min(axis=0) - 0.1 * span - 1e-3, X.max(axis=0) + 0.1 * span + 1e-3
    g0, g1 = np.meshgrid(np.linspace(lo[0], hi[0], resolution), np.linspace(lo[1], hi[1], resolution))
    grid = np.stack([g0.ravel(), g1.ravel()], axis=1)
    classes = predict_classes(predict(model, grid, batch_size=20000), threshold).reshape(g0.shape)
    labels = np.unique(y).astype(int)
    n_classes = int(max(classes.max(), labels.max() if labels.size else 0)) + 1
    from matplotlib.colors import ListedColormap

    colors = [_CLASS_COLORS[k % len(_CLASS_COLORS)] for k in range(n_classes)]
    cmap = ListedColormap(colors)
    fig = _figure((5.5, 5.0))
    ax = fig.subplots()
    ax.contourf(g0, g1, classes, levels=np.arange(n_classes + 1) - 0.5, cmap=cmap, alpha=0.3)
    for k in labels:
        pts = X[y == k]
        ax.scatter(pts[:, 0], pts[:, 1], s=12, color=colors[k], edgecolors="k", linewidths=0.3, label=f"class {k}")
    ax.set_xlim(lo[0], hi[0])
    ax.set_ylim(lo[1], hi[1])
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    ax.set_title(title or "Decision boundary")
    ax.legend(loc="best", fontsize=8)
    return _save(fig, path)


# ============================================================================ histograms


def _layers(model: Any) -> list[Any]:
    try:
        layers = list(iter(model))
    except TypeError:
        raise TypeError(
            f"layer_statistics: needs a Sequential-like model (iterable over its layers, e.g. nn.MLP), "
            f"got {type(model).__name__}"
        ) from None
    if not layers:
        raise ValueError("layer statistics: the model has no layers")
    return layers


def _saturated(kind: str, a: np.ndarray) -> float | None:
    if kind == "Tanh":
        return float(np.mean(np.abs(a) > 0.97))
    if kind == "Sigmoid":
        return float(np.mean((a < 0.03) | (a > 0.97)))
    if kind in ("ReLU",):
        return float(np.mean(a <= 0))  # "dead" share: relu'(z) = 0
    return None


def layer_statistics(model: Any, X: Any, y: Any = None, loss_fn: Any = None) -> list[dict[str, Any]]:
    """Run one batch through a Sequential-like model layer by layer; per layer output A[l] report
    ``name``, ``kind``, ``symbol`` (the lectures' name: ``Z[l]`` after the l-th Linear, ``A[l]`` after
    the layers that follow it, e.g. its activation g), ``values`` (A[l] flattened), ``mean``, ``std``,
    ``saturated`` (share of tanh |a| > 0.97, sigmoid a outside [0.03, 0.97], or dead relu units; None for other layers)
    and, with ``y`` and ``loss_fn``, ``grad`` (dJ/dA[l] flattened), ``grad_mean``, ``grad_std``.

    The parameters' ``.grad`` are left as they were.
    """
    layers = _layers(model)
    X = X.data.astype(np.float64) if isinstance(X, Tensor) else as_float_array(X, "X", "layer_statistics")
    want_grad = y is not None and loss_fn is not None
    saved = [(p, p.grad) for p in model.parameters()]
    outputs: list[Tensor] = []
    try:
        if want_grad:
            a: Any = Tensor(X)
            for layer in layers:
                a = layer(a)
                outputs.append(a)
            loss = loss_fn(a, np.asarray(y))
            loss.backward()
        else:
            with no_grad():
                a = Tensor(X)
                for layer in layers:
                    a = layer(a)
                    outputs.append(a)
    finally:
        for p, g in saved:
            p.grad = g
    stats = []
    l = 0
    for i, (layer, out) in enumerate(zip(layers, outputs)):
        kind = type(layer).__name__
        values = out.data.ravel()
        if kind == "Linear":
            l += 1
        row: dict[str, Any] = {
            "name": f"{i} {kind}",
            "kind": kind,
            "symbol": f"Z[{l}]" if kind == "Linear" else f"A[{l}]",
            "values": values,
            "mean": float(values.mean()),
            "std": float(values.std()),
            "saturated": _saturated(kind, values),
        }
        if want_grad and out.grad is not None:
            g = np.asarray(out.grad.data if isinstance(out.grad, Tensor) else out.grad).ravel()
            row.update(grad=g, grad_mean=float(g.mean()), grad_std=float(g.std()))
        stats.append(row)
    return stats


def plot_histograms(
    model: Any,
    X: Any,
    y: Any = None,
    loss_fn: Any = None,
    path: str | os.PathLike | None = None,
    bins: int = 50,
) -> Any:
    """Histograms of each layer's activations A[l] (top row) and, given ``y`` and ``loss_fn``, of
    their gradients dJ/dA[l] (bottom row), on one batch ``X``. See :func:`layer_statistics`."""
    stats = layer_statistics(model, X, y, loss_fn)
    with_grad = any("grad" in s for s in stats)
    n = len(stats)
    fig = _figure((max(3.0 * n, 6.0), 5.6 if with_grad else 3.0))
    axes = np.asarray(fig.subplots(2 if with_grad else 1, n, squeeze=False))
    for j, s in enumerate(stats):
        ax = axes[0, j]
        ax.hist(s["values"], bins=bins, color="#1f77b4")
        sat = "" if s["saturated"] is None else f"\nsaturated {100 * s['saturated']:.0f}%"
        if s["kind"] == "ReLU" and s["saturated"] is not None:
            sat = f"\ndead {100 * s['saturated']:.0f}%"
        ax.set_title(f"{s['symbol']} ({s['name']})\nmean {s['mean']:+.2f} std {s['std']:.2f}{sat}", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.locator_params(axis="x", nbins=5)
        if with_grad:
            axg = axes[1, j]
            if "grad" in s:
                axg.hist(s["grad"], bins=bins, color="#d62728")
                axg.set_title(f"d{s['symbol']} = dJ/d{s['symbol']}\nstd {s['grad_std']:.2e}", fontsize=8)
            axg.tick_params(labelsize=7)
            axg.locator_params(axis="x", nbins=4)
    axes[0, 0].set_ylabel("count (values in the batch)", fontsize=8)
    if with_grad:
        axes[1, 0].set_ylabel("count (gradients)", fontsize=8)
    fig.suptitle("Per-layer outputs Z[l], A[l] on one batch" + (" and their gradients" if with_grad else ""),
                 fontsize=10)
    return _save(fig, path)
