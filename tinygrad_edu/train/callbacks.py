"""Callbacks: code that ``fit`` runs at the start and end of training, of each epoch and of each batch.

The hooks have Keras's names and signatures, and ``self.model`` is the model being trained
(``self.optimizer`` its optimiser, ``self.params`` ``{"epochs", "steps", "verbose"}``)::

    class PrintLoss(Callback):
        def on_epoch_end(self, epoch, logs=None):   # epoch counts from 0, as in Keras
            print(epoch, logs["loss"])

A hook stops training by returning True from ``on_epoch_end`` or, as in Keras, by setting
``self.model.stop_training = True``. A plain function ``f(epoch, logs)`` in ``callbacks=`` is
called at each epoch's end. The hooks of earlier versions of this package,
``on_train_begin(model, history)``, ``on_epoch_end(epoch, logs, model)`` (epoch from 1) and
``on_train_end(model, history)``, are recognised by their signatures and still work.

Ready-made: :class:`EarlyStopping` (the lectures' early stopping), :class:`ModelCheckpoint`,
:class:`CSVLogger`, :class:`LearningRateScheduler`.
"""

from __future__ import annotations

import csv
import inspect
import math
import os
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..argcheck import check_instance, check_path
from .history import History

__all__ = ["CSVLogger", "Callback", "EarlyStopping", "LearningRateScheduler", "ModelCheckpoint"]

Logs = dict[str, float]


class Callback:
    """Base class of ``fit``'s hooks; override the ones you need (see the module docstring)."""

    model: Any = None
    optimizer: Any = None
    params: dict[str, Any] | None = None

    def set_model(self, model: Any) -> None:
        self.model = model

    def set_params(self, params: dict[str, Any]) -> None:
        self.params = params

    def on_train_begin(self, logs: Logs | None = None) -> None:
        pass

    def on_train_end(self, logs: Logs | None = None) -> None:
        pass

    def on_epoch_begin(self, epoch: int, logs: Logs | None = None) -> None:
        pass

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> bool | None:
        return None

    def on_train_batch_begin(self, batch: int, logs: Logs | None = None) -> None:
        self.on_batch_begin(batch, logs)

    def on_train_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        self.on_batch_end(batch, logs)

    def on_batch_begin(self, batch: int, logs: Logs | None = None) -> None:
        pass

    def on_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        pass


def _monitor_value(op: str, monitor: str, logs: Logs) -> float:
    if monitor not in logs:
        raise ValueError(
            f"{op}: monitor {monitor!r} is not measured; available: {sorted(logs)} "
            "(val_* needs fit(..., validation_data=...) or validation_split=, accuracy needs class labels)"
        )
    return float(logs[monitor])


def _resolve_mode(op: str, mode: str, monitor: str) -> str:
    if mode == "auto":
        mode = "max" if "acc" in monitor else "min"
    if mode not in ("min", "max"):
        raise ValueError(f"{op}: mode must be 'min', 'max' or 'auto', got {mode!r}")
    return mode


class EarlyStopping(Callback):
    """Stop when ``monitor`` (``"val_loss"``, ``"val_accuracy"``, ``"loss"``, ``"accuracy"``) has not
    improved by more than ``min_delta`` for ``patience`` epochs in a row (training ends on the
    ``patience``-th such epoch, the first one when ``patience=0``, as in Keras);
    ``restore_best_weights`` (alias ``restore_best``) reloads the parameters of the best epoch
    at the end (the lectures' "early stopping": keep the weights where the dev-set error was
    lowest). Unlike Keras, restoring is on by default and ``patience`` defaults to 10.

    ``mode``: ``"min"`` or ``"max"``; ``"auto"`` is ``"max"`` for accuracies, else ``"min"``.
    ``baseline``: a value to beat; epochs that do not beat it count as epochs without
    improvement. ``verbose=1`` prints a line when training stops.
    After training, ``best_epoch`` and ``stopped_epoch`` count from 0 (as in Keras);
    ``History.best_epoch`` counts from 1, like ``History.epochs``.
    """

    def __init__(
        self, monitor: str = "val_loss", patience: int = 10, min_delta: float = 0.0, mode: str = "auto",
        restore_best: bool | None = None, *, restore_best_weights: bool | None = None,
        baseline: float | None = None, verbose: int = 0,
    ) -> None:
        if isinstance(patience, bool) or not isinstance(patience, (int, np.integer)) or patience < 0:
            raise ValueError(f"EarlyStopping: patience must be an int >= 0, got {patience!r}")
        if not isinstance(min_delta, (int, float)) or not math.isfinite(min_delta):
            raise ValueError(f"EarlyStopping: min_delta must be a finite number, got {min_delta!r}")
        if restore_best is not None and restore_best_weights is not None and restore_best != restore_best_weights:
            raise ValueError("EarlyStopping: restore_best and restore_best_weights are the same setting; give one")
        check_instance(monitor, str, "monitor", "EarlyStopping", hint=" (e.g. 'val_loss')")
        self.monitor, self.patience, self.min_delta = monitor, int(patience), abs(float(min_delta))
        self.mode = _resolve_mode("EarlyStopping", mode, monitor)
        chosen = restore_best if restore_best is not None else restore_best_weights
        self.restore_best_weights = True if chosen is None else bool(chosen)
        if baseline is not None and not (isinstance(baseline, (int, float)) and math.isfinite(baseline)):
            raise ValueError(f"EarlyStopping: baseline must be a finite number or None, got {baseline!r}")
        self.baseline, self.verbose = baseline, verbose
        self.best: float | None = None
        self.best_epoch: int | None = None
        self.best_state: dict[str, np.ndarray] | None = None
        self.wait = 0
        self.stopped_epoch: int | None = None

    @property
    def restore_best(self) -> bool:
        return self.restore_best_weights

    def _better(self, value: float) -> bool:
        if self.best is None:
            return True
        if self.mode == "min":
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta

    def on_train_begin(self, logs: Logs | None = None) -> None:
        self.best, self.best_epoch, self.best_state, self.wait, self.stopped_epoch = self.baseline, None, None, 0, None

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> bool:
        value = _monitor_value("EarlyStopping", self.monitor, logs or {})
        if self._better(value):
            self.best, self.best_epoch, self.wait = value, epoch, 0
            if self.restore_best_weights:
                self.best_state = self.model.state_dict()
            return False
        self.wait += 1
        if self.wait >= max(self.patience, 1):
            self.stopped_epoch = epoch
            if self.verbose:
                best = "" if self.best_epoch is None else \
                    f"; best epoch {self.best_epoch + 1}, {self.monitor} {self.best:.4g}"
                print(f"early stopping at epoch {epoch + 1}: {self.monitor} did not improve for {self.wait} "
                      f"epoch(s){best}", flush=True)
            return True
        return False

    def on_train_end(self, logs: Logs | None = None) -> None:
        if self.restore_best_weights and self.best_state is not None:
            self.model.load_state_dict(self.best_state)


class ModelCheckpoint(Callback):
    """Save the model's parameters after each epoch to ``filepath`` (a ``.npz`` file, written
    atomically by :func:`tinygrad_edu.checkpoint.save`: a crash mid-write keeps the previous file).

    ``filepath`` may name the epoch (from 1) and any logged figure, as in Keras:
    ``"ckpt-{epoch:03d}-{val_loss:.3f}.npz"``. ``save_best_only=True`` saves only when
    ``monitor`` improved (``mode`` as in :class:`EarlyStopping`). ``last_saved`` is the path of
    the latest file written.
    """

    def __init__(
        self, filepath: str | os.PathLike, monitor: str = "val_loss", save_best_only: bool = False,
        mode: str = "auto", verbose: int = 0,
    ) -> None:
        self.filepath = os.fspath(check_path(filepath, "filepath", "ModelCheckpoint"))
        if not self.filepath.endswith(".npz"):
            raise ValueError(f"ModelCheckpoint: filepath must end in .npz (a checkpoint file), got {filepath!r}")
        self.monitor, self.save_best_only, self.verbose = monitor, bool(save_best_only), verbose
        self.mode = _resolve_mode("ModelCheckpoint", mode, monitor)
        self.best: float | None = None
        self.last_saved: str | None = None

    def on_train_begin(self, logs: Logs | None = None) -> None:
        self.best = None

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        from ..checkpoint import save  # the checkpoint floor sits beside train; imported when used

        logs = logs or {}
        if self.save_best_only:
            value = _monitor_value("ModelCheckpoint", self.monitor, logs)
            better = self.best is None or (value < self.best if self.mode == "min" else value > self.best)
            if not better:
                return None
            self.best = value
        try:
            path = self.filepath.format(epoch=epoch + 1, **logs)
        except (KeyError, IndexError, ValueError) as err:
            raise ValueError(
                f"ModelCheckpoint: cannot fill in filepath {self.filepath!r} ({err!r}); it may name epoch and "
                f"{sorted(logs)}"
            ) from None
        save(self.model, path)
        self.last_saved = path
        if self.verbose:
            print(f"epoch {epoch + 1}: saved the model to {path}", flush=True)
        return None


class CSVLogger(Callback):
    """Write one CSV row per epoch to ``filename``: ``epoch`` (from 0, as in Keras) and every logged
    figure. Each row is flushed when written, so an interrupted run keeps its finished epochs.
    ``append=True`` adds to an existing file instead of replacing it."""

    def __init__(self, filename: str | os.PathLike, separator: str = ",", append: bool = False) -> None:
        self.filename = os.fspath(check_path(filename, "filename", "CSVLogger"))
        self.separator, self.append = separator, bool(append)
        self._file: Any = None
        self._writer: Any = None
        self._keys: list[str] | None = None

    def on_train_begin(self, logs: Logs | None = None) -> None:
        has_rows = self.append and os.path.exists(self.filename) and os.path.getsize(self.filename) > 0
        self._file = open(self.filename, "a" if self.append else "w", newline="")  # noqa: SIM115 - closed at the end
        self._writer, self._keys = None, None
        self._header_written = has_rows

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        logs = logs or {}
        if self._writer is None:
            self._keys = sorted(logs)
            self._writer = csv.DictWriter(self._file, fieldnames=["epoch", *self._keys], delimiter=self.separator,
                                          extrasaction="ignore")
            if not self._header_written:
                self._writer.writeheader()
        self._writer.writerow({"epoch": epoch, **{k: logs.get(k, "") for k in self._keys or []}})
        self._file.flush()
        return None

    def on_train_end(self, logs: Logs | None = None) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


class LearningRateScheduler(Callback):
    """Set the learning rate at the start of each epoch to ``schedule(epoch, lr)`` (or ``schedule(epoch)``),
    with ``epoch`` counted from 0 and ``lr`` the current rate, as Keras does."""

    def __init__(self, schedule: Callable[..., float], verbose: int = 0) -> None:
        if not callable(schedule):
            raise TypeError(f"LearningRateScheduler: schedule must be a function (epoch, lr) -> lr, got {schedule!r}")
        self.schedule, self.verbose = schedule, verbose

    def on_epoch_begin(self, epoch: int, logs: Logs | None = None) -> None:
        optimizer = self.optimizer if self.optimizer is not None else getattr(self.model, "optimizer", None)
        if optimizer is None or not hasattr(optimizer, "lr"):
            raise ValueError("LearningRateScheduler: no optimizer with an lr attribute to schedule")
        try:
            lr = self.schedule(epoch, float(optimizer.lr))
        except TypeError:
            lr = self.schedule(epoch)
        if isinstance(lr, bool) or not isinstance(lr, (int, float, np.floating, np.integer)) or not (
            math.isfinite(lr) and lr >= 0
        ):
            raise ValueError(f"LearningRateScheduler: schedule({epoch}) returned {lr!r}; expected a finite number >= 0")
        optimizer.lr = float(lr)
        if self.verbose:
            print(f"epoch {epoch + 1}: learning rate {float(lr):.4g}", flush=True)


# ============================================================================ dispatch (used by fit)


def _positional_count(method: Any) -> int | None:
    """Positional parameters of a bound method, or None when it takes *args."""
    try:
        params = inspect.signature(method).parameters.values()
    except (TypeError, ValueError):
        return None
    if any(p.kind is p.VAR_POSITIONAL for p in params):
        return None
    return sum(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) for p in params)


def _is_legacy(cb: Callback, name: str, keras_count: int) -> bool:
    """True for the earlier signatures (one more positional parameter than Keras's)."""
    if getattr(type(cb), name) is getattr(Callback, name):
        return False
    count = _positional_count(getattr(cb, name))
    return count is not None and count > keras_count


class _FunctionCallback(Callback):
    def __init__(self, fn: Callable[[int, Logs], Any]) -> None:
        self.fn = fn

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> bool:
        return bool(self.fn(epoch, logs))


class CallbackList:
    """Calls every callback's hooks in order; adapts plain functions and the earlier signatures."""

    def __init__(self, callbacks: Sequence[Any], model: Any, optimizer: Any, history: History,
                 params: dict[str, Any]) -> None:
        items: list[Callback] = []
        for cb in callbacks:
            if isinstance(cb, Callback):
                items.append(cb)
            elif callable(cb):
                items.append(_FunctionCallback(cb))
            else:
                raise TypeError(
                    "fit: callbacks must be Callback instances (e.g. EarlyStopping()) or functions f(epoch, logs), "
                    f"got {cb!r}"
                )
        self.items, self.model, self.history = items, model, history
        for cb in items:
            cb.set_model(model)
            cb.set_params(params)
            cb.optimizer = optimizer
        self.batch_hooks = [
            cb for cb in items
            if any(getattr(type(cb), n) is not getattr(Callback, n)
                   for n in ("on_train_batch_begin", "on_train_batch_end", "on_batch_begin", "on_batch_end"))
        ]
        self._set_stop(False)

    def _set_stop(self, value: bool) -> None:
        try:
            self.model.stop_training = value
        except (AttributeError, TypeError):  # e.g. a model without a __dict__
            pass

    def train_begin(self) -> None:
        for cb in self.items:
            if _is_legacy(cb, "on_train_begin", 1):
                cb.on_train_begin(self.model, self.history)  # type: ignore[call-arg]
            else:
                cb.on_train_begin({})

    def epoch_begin(self, epoch: int) -> None:
        for cb in self.items:
            cb.on_epoch_begin(epoch, {})

    def batch_begin(self, batch: int) -> None:
        for cb in self.batch_hooks:
            cb.on_train_batch_begin(batch, {})

    def batch_end(self, batch: int, logs: Logs) -> None:
        for cb in self.batch_hooks:
            cb.on_train_batch_end(batch, logs)

    def epoch_end(self, epoch: int, logs: Logs) -> bool:
        """Run every ``on_epoch_end`` (epoch from 0); True when one of them asked to stop."""
        stop = False
        for cb in self.items:
            if _is_legacy(cb, "on_epoch_end", 2):
                result = cb.on_epoch_end(epoch + 1, logs, self.model)  # type: ignore[call-arg]
            else:
                result = cb.on_epoch_end(epoch, logs)
            stop = bool(result) or stop
        return stop or bool(getattr(self.model, "stop_training", False))

    def train_end(self, logs: Logs) -> None:
        for cb in self.items:
            if isinstance(cb, EarlyStopping) and cb.best_epoch is not None:
                self.history.best_epoch = cb.best_epoch + 1
            if _is_legacy(cb, "on_train_end", 1):
                cb.on_train_end(self.model, self.history)  # type: ignore[call-arg]
            else:
                cb.on_train_end(logs)
