"""Class predictions and accuracy from network outputs.

Accuracy = (1/m) sum_i 1[yhat(i) == y(i)], where the predicted class yhat(i) is the argmax
over the output columns, or ``output > threshold`` for a single output column (0 for a
logit z, 0.5 for a probability a = sigma(z)).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..argcheck import as_float_array
from ..tensor_class import Tensor

__all__ = ["accuracy", "default_threshold", "predict_classes"]

# Losses whose single output column is a LOGIT z (class 1 when z > 0); any other loss with one
# output column is taken to output a probability or a 0/1 regression (class 1 when > 0.5).
_LOGIT_LOSSES = ("binary_cross_entropy_with_logits", "BCEWithLogitsLoss")


def _loss_name(loss_fn: Any) -> str:
    return getattr(loss_fn, "__name__", type(loss_fn).__name__)


def default_threshold(loss_fn: Any) -> float:
    """0.0 for losses on logits (``binary_cross_entropy_with_logits``), else 0.5 (probabilities)."""
    return 0.0 if _loss_name(loss_fn) in _LOGIT_LOSSES else 0.5


def predict_classes(outputs: Any, threshold: float = 0.5) -> np.ndarray:
    """Class labels from network outputs: argmax over columns, or ``output > threshold`` for one column."""
    out = outputs.data if isinstance(outputs, Tensor) else as_float_array(outputs, "outputs", "predict_classes")
    if out.ndim == 2 and out.shape[1] > 1:
        return out.argmax(axis=1)
    return (out.reshape(len(out)) > threshold).astype(np.int64)


def accuracy(outputs: Any, targets: Any, threshold: float = 0.5) -> float:
    """Share of examples whose predicted class equals the label (labels of shape (m,) or one-hot (m, C))."""
    y = targets.data if isinstance(targets, Tensor) else as_float_array(targets, "targets", "accuracy")
    if y.ndim == 2 and y.shape[1] > 1:
        y = y.argmax(axis=1)
    y = y.reshape(len(y))
    pred = predict_classes(outputs, threshold)
    if pred.shape != y.shape:
        raise ValueError(f"accuracy: {pred.shape[0]} predictions but targets of shape {np.shape(targets)}")
    return float(np.mean(pred == y))


def is_classification(y: np.ndarray) -> bool:
    """Integer or boolean targets are class labels."""
    return np.issubdtype(y.dtype, np.integer) or np.issubdtype(y.dtype, np.bool_)


def resolve_metric(metric: Any, y: np.ndarray, loss_fn: Any) -> Callable[[Any, Any], float] | None:
    """``fit``'s ``metric=`` argument as a function ``(outputs, targets) -> float``, or None."""
    if metric == "auto":
        if not is_classification(y):
            return None
        threshold = default_threshold(loss_fn)
        return lambda out, target: accuracy(out, target, threshold)
    if metric == "accuracy":
        threshold = default_threshold(loss_fn)
        return lambda out, target: accuracy(out, target, threshold)
    if metric is None or callable(metric):
        return metric
    raise ValueError(f"fit: metric must be 'auto', 'accuracy', None or a callable(outputs, targets), got {metric!r}")
