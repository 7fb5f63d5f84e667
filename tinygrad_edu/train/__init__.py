"""Training: ``fit`` (the lectures' gradient-descent loop), ``evaluate``, ``predict``, the ``History``,
Keras-style callbacks and the run report.

Modules, one idea each: :mod:`.loop` (fit / evaluate / predict), :mod:`.history` (what was
measured), :mod:`.callbacks` (EarlyStopping, ModelCheckpoint, CSVLogger, LearningRateScheduler),
:mod:`.progress` (progress bar or per-epoch lines), :mod:`.metrics` (accuracy).
:func:`write_report` (from :mod:`tinygrad_edu.report`) writes a run folder: metrics, figures,
the model and an ``index.html`` page.
"""

from __future__ import annotations

from typing import Any

from .callbacks import Callback, CSVLogger, EarlyStopping, LearningRateScheduler, ModelCheckpoint
from .history import History
from .loop import evaluate, fit, predict
from .metrics import accuracy, default_threshold, predict_classes

__all__ = [
    "CSVLogger",
    "Callback",
    "EarlyStopping",
    "History",
    "LearningRateScheduler",
    "ModelCheckpoint",
    "accuracy",
    "default_threshold",
    "evaluate",
    "fit",
    "predict",
    "predict_classes",
    "write_report",
]


def write_report(history: History, model: Any, out: Any, **kwargs: Any) -> Any:
    """Write a run folder (metrics.json, figures, model.npz, index.html).

    See :func:`tinygrad_edu.report.write_report`."""
    from ..report import write_report as _write_report  # the report sits a floor above (it draws plots)

    return _write_report(history, model, out, **kwargs)
