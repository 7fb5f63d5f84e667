"""The training loop: ``fit``, ``evaluate``, ``predict``.

One gradient step on a batch ``B`` is the lectures' loop body:

    forward:   yhat = model(X_B)
    cost:      J = (1/|B|) sum_{i in B} L(yhat(i), y(i))  [+ (lambda / 2|B|) sum_l ||W[l]||_F^2]
    backward:  dW, db = dJ/dW, dJ/db            (J.backward())
    update:    W := W - alpha dW, b := b - alpha db   (or Momentum / RMSprop / Adam: optimizer.step())

``batch_size`` picks the flavour of gradient descent (see :class:`tinygrad_edu.data.DataLoader`):
``None`` = batch (one step per epoch), 1 = stochastic, anything else = mini-batch.

Each epoch's figures go to the :class:`~tinygrad_edu.train.history.History`, the progress display
(:mod:`.progress`) and the callbacks (:mod:`.callbacks`).
"""

from __future__ import annotations

import math
import signal
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

from ..data import DataLoader
from ..engine import no_grad
from ..nn.losses import l2_penalty
from ..optim import clip_grad_norm
from ..tensor_class import Tensor
from .callbacks import Callback, CallbackList
from .history import History
from .metrics import resolve_metric
from .progress import Progress

__all__ = ["evaluate", "fit", "predict"]

LossFn = Callable[[Tensor, Any], Tensor]


# ============================================================================ helpers


def _as_arrays(data: Any, op: str) -> tuple[np.ndarray, np.ndarray]:
    if isinstance(data, DataLoader):
        if data.y is None:
            raise ValueError(f"{op}: the DataLoader has no targets y")
        return data.X, data.y
    if not isinstance(data, (tuple, list)) or len(data) != 2:
        raise TypeError(f"{op}: data must be an (X, y) pair or a DataLoader, got {type(data).__name__}")
    X, y = (np.asarray(d.data if isinstance(d, Tensor) else d) for d in data)
    if X.ndim == 0 or y.ndim == 0 or len(X) != len(y):
        raise ValueError(f"{op}: X and y need the same number of rows (examples), got shapes {X.shape} and {y.shape}")
    if len(X) == 0:
        raise ValueError(f"{op}: no examples (X has shape {X.shape})")
    return X, y


def _check_positive_int(value: Any, name: str, op: str, allow_none: bool = False) -> None:
    if value is None and allow_none:
        return
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{op}: {name} must be a positive integer{' or None' if allow_none else ''}, got {value!r}")


class _TrainMode:
    """``model.train(mode)`` inside a block; the previous mode is restored after (plain callables are left alone)."""

    def __init__(self, model: Any, training: bool) -> None:
        self.model, self.training = model, training
        self.previous = getattr(model, "training", None)

    def __enter__(self) -> None:
        if self.previous is not None:
            self.model.train(self.training)

    def __exit__(self, *exc: object) -> None:
        if self.previous is not None:
            self.model.train(self.previous)


def _forward(model: Any, X: np.ndarray) -> Tensor:
    return model(Tensor(X))


# ============================================================================ evaluate / predict


def predict(model: Any, X: Any, batch_size: int | None = None) -> np.ndarray:
    """The model's outputs for ``X`` (rows are examples) as a numpy array, in eval mode, no graph."""
    _check_positive_int(batch_size, "batch_size", "predict", allow_none=True)
    X = np.asarray(X.data if isinstance(X, Tensor) else X)
    if X.ndim == 0 or len(X) == 0:
        raise ValueError(f"predict: X needs at least one example (row), got shape {X.shape}")
    loader = DataLoader(X, batch_size=batch_size, shuffle=False)
    with no_grad(), _TrainMode(model, False):
        return np.concatenate([_forward(model, Xb).data for Xb in loader], axis=0)


def evaluate(
    model: Any, loss_fn: LossFn, data: Any, batch_size: int | None = None, metric: Any = "auto"
) -> dict[str, float]:
    """Mean loss (and accuracy for class labels) over a data set, in eval mode, no graph.

    Returns ``{"loss": J, "accuracy": a}`` (``accuracy`` only when a metric applies).
    """
    X, y = _as_arrays(data, "evaluate")
    _check_positive_int(batch_size, "batch_size", "evaluate", allow_none=True)
    metric_fn = resolve_metric(metric, y, loss_fn)
    total, outputs = 0.0, []
    with no_grad(), _TrainMode(model, False):
        for Xb, yb in DataLoader(X, y, batch_size=batch_size, shuffle=False):
            out = _forward(model, Xb)
            total += float(loss_fn(out, yb).item()) * len(yb)
            outputs.append(out.data)
    result = {"loss": total / len(y)}
    if metric_fn is not None:
        result["accuracy"] = float(metric_fn(np.concatenate(outputs, axis=0), y))
    return result


# ============================================================================ fit


def _split_validation(
    train_data: Any, val_data: Any, validation_data: Any, validation_split: float
) -> tuple[Any, Any]:
    """Resolve ``val_data`` / ``validation_data`` / ``validation_split`` to (train, validation)."""
    if val_data is not None and validation_data is not None:
        raise ValueError("fit: val_data and validation_data are the same argument (validation_data is Keras's name); "
                         "give one")
    val_data = validation_data if validation_data is not None else val_data
    if isinstance(validation_split, bool) or not isinstance(validation_split, (int, float)) or not (
        0 <= validation_split < 1
    ):
        raise ValueError(f"fit: validation_split must be a fraction in [0, 1), got {validation_split!r}")
    if not validation_split:
        return train_data, val_data
    if val_data is not None:
        raise ValueError("fit: give validation_split or validation_data, not both")
    if isinstance(train_data, DataLoader):
        raise ValueError("fit: validation_split needs (X, y) arrays; with a DataLoader pass validation_data=")
    X, y = _as_arrays(train_data, "fit")
    # as Keras: the LAST fraction of the examples, taken before any shuffling
    split_at = int(len(X) * (1 - validation_split))
    if split_at < 1 or split_at >= len(X):
        raise ValueError(
            f"fit: validation_split={validation_split} of {len(X)} examples leaves {split_at} for training and "
            f"{len(X) - split_at} for validation; both need at least one"
        )
    return (X[:split_at], y[:split_at]), (X[split_at:], y[split_at:])


class _InterruptFlag:
    """While active (main thread only), the first Ctrl-C (SIGINT) sets ``requested`` instead of raising,
    so training stops between two steps; a second Ctrl-C raises KeyboardInterrupt as usual."""

    def __init__(self, enabled: bool) -> None:
        self.requested = False
        self.enabled = enabled and threading.current_thread() is threading.main_thread()
        self.previous: Any = None

    def _handler(self, signum: int, frame: Any) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True

    def __enter__(self) -> _InterruptFlag:
        if self.enabled:
            try:
                self.previous = signal.signal(signal.SIGINT, self._handler)
            except ValueError:  # not the main interpreter thread
                self.enabled = False
        return self

    def __exit__(self, *exc: object) -> None:
        if self.enabled:
            signal.signal(signal.SIGINT, self.previous)


def fit(
    model: Any,
    loss_fn: LossFn,
    optimizer: Any,
    train_data: Any,
    epochs: int,
    val_data: Any = None,
    batch_size: int | None = None,
    verbose: int = 1,
    callbacks: Sequence[Callback | Callable[[int, dict[str, float]], Any]] = (),
    check_finite: bool = False,
    seed: int | np.random.Generator | None = None,
    *,
    validation_data: Any = None,
    validation_split: float = 0.0,
    l2_lambda: float = 0.0,
    l2_m: str = "batch",
    metric: Any = "auto",
    scheduler: Any = None,
    max_grad_norm: float | None = None,
    shuffle: bool = True,
    stop_on_interrupt: bool = False,
    max_iteration_points: int | None = 4096,
) -> History:
    """Train ``model`` for ``epochs`` passes over ``train_data``; return the :class:`History`.

    ``train_data``/``val_data``: ``(X, y)`` numpy arrays (rows are examples) or a ``DataLoader``.
    ``validation_data`` is Keras's name for ``val_data``; ``validation_split=0.2`` holds out the
    last 20% of ``(X, y)`` (before shuffling, as Keras) as the validation set.
    ``y``: class labels of shape ``(m,)`` for ``cross_entropy``; for regression (``mse_loss``) or a
    single logit (``binary_cross_entropy_with_logits``), targets of the model's output shape, e.g. ``(m, 1)``.
    ``batch_size``: None = batch GD, 1 = stochastic, k = mini-batch; a value larger than ``m`` means
    batch GD. With a ``DataLoader`` set batch size, shuffling and seed on the loader (passing
    ``batch_size`` here too is an error).
    ``loss_fn(outputs, y_batch)`` returns the mean cost J over the batch (e.g.
    ``nn.losses.cross_entropy``); ``l2_lambda`` adds the lectures' (lambda / 2m) sum ||W[l]||^2
    to each batch's cost, with m = ``l2_m``: ``"batch"`` (the default) uses the batch size B, so
    every step decays W by (alpha lambda / B) W -- under mini-batches N/B steps per epoch, a
    regulariser N/B times stronger per epoch than full-batch GD with the same lambda;
    ``"dataset"`` uses the number of training examples N, so each mini-batch gradient estimates
    the gradient of the lectures' full-data J_reg = J + (lambda / 2N) sum ||W||^2 and the same
    lambda means the same thing for every batch size. (With batch GD the two agree.)
    ``seed`` seeds the shuffling.
    ``verbose``: 0 silent, 1 a progress bar (tqdm on a terminal or in Jupyter; otherwise, e.g. in
    a piped log, one line per epoch), 2 one line per epoch (see :mod:`tinygrad_edu.train.progress`).
    ``callbacks``: :class:`Callback` objects (Keras's hooks, see :mod:`tinygrad_edu.train.callbacks`)
    or functions ``f(epoch, logs)`` called after each epoch (epoch from 0; return True to stop).
    ``check_finite=True`` runs each step under :func:`tinygrad_edu.anomaly.detect_anomaly`,
    which stops at the first NaN/inf with the op that made it. ``scheduler.step()`` (e.g.
    ``optim.StepLR``) is called after each epoch; ``max_grad_norm`` clips the gradient norm.
    ``metric``: ``"auto"`` (accuracy when y holds integer labels), ``"accuracy"``, None or a
    callable ``(outputs, y) -> float``.
    ``stop_on_interrupt=True``: Ctrl-C stops training after the current step and ``fit``
    returns the history of the finished epochs with ``interrupted=True`` (a second Ctrl-C
    raises at once); by default Ctrl-C raises KeyboardInterrupt.
    ``max_iteration_points``: the bound on ``History.iteration_loss`` (None keeps every step).
    """
    _check_positive_int(epochs, "epochs", "fit")
    if verbose not in (0, 1, 2):
        raise ValueError(f"fit: verbose must be 0, 1 or 2, got {verbose!r}")
    if (
        isinstance(l2_lambda, bool) or not isinstance(l2_lambda, (int, float, np.integer, np.floating))
        or not math.isfinite(l2_lambda) or l2_lambda < 0
    ):
        raise ValueError(f"fit: l2_lambda (lambda) must be a finite number >= 0, got {l2_lambda!r}")
    if l2_m not in ("batch", "dataset"):
        raise ValueError(f"fit: l2_m must be 'batch' (m = batch size) or 'dataset' (m = training examples), "
                         f"got {l2_m!r}")
    train_data, val_data = _split_validation(train_data, val_data, validation_data, validation_split)
    if isinstance(train_data, DataLoader):
        if batch_size is not None:
            raise ValueError(
                f"fit: batch_size={batch_size!r} was given with a DataLoader, which has its own "
                f"batch_size={train_data.batch_size}; set it on the DataLoader instead"
            )
        loader = train_data
    else:
        _check_positive_int(batch_size, "batch_size", "fit", allow_none=True)
        X, y = _as_arrays(train_data, "fit")
        loader = DataLoader(X, y, batch_size=batch_size, shuffle=shuffle, seed=seed)
    if loader.y is None:
        raise ValueError("fit: the training DataLoader has no targets y")
    if val_data is not None:
        _as_arrays(val_data, "fit (validation_data)")
    metric_fn = resolve_metric(metric, loader.y, loss_fn)
    l2_over = len(loader.y) if l2_m == "dataset" else None  # the m of lambda/2m; None: each batch's size
    anomaly_ctx: Callable[[], Any] | None = None
    if check_finite:
        from ..anomaly import detect_anomaly  # lazy: only when asked for

        anomaly_ctx = detect_anomaly

    history = History(batches_per_epoch=len(loader), max_iteration_points=max_iteration_points)
    hooks = CallbackList(callbacks, model, optimizer, history,
                         {"epochs": epochs, "steps": len(loader), "verbose": verbose})
    hooks.train_begin()
    progress = Progress(epochs, verbose)
    start = time.perf_counter()
    logs: dict[str, float] = {}
    try:
        with _TrainMode(model, True), _InterruptFlag(stop_on_interrupt) as interrupt:
            for epoch in range(1, epochs + 1):
                epoch_start = time.perf_counter()
                hooks.epoch_begin(epoch - 1)
                total, seen, correct_weighted = 0.0, 0, 0.0
                for batch, (Xb, yb) in enumerate(loader):
                    hooks.batch_begin(batch)
                    if anomaly_ctx is not None:
                        with anomaly_ctx():
                            loss, out = _step(model, loss_fn, optimizer, Xb, yb, l2_lambda, l2_over, max_grad_norm)
                    else:
                        loss, out = _step(model, loss_fn, optimizer, Xb, yb, l2_lambda, l2_over, max_grad_norm)
                    history.record_step(loss)
                    total += loss * len(yb)
                    seen += len(yb)
                    if metric_fn is not None:
                        correct_weighted += float(metric_fn(out, yb)) * len(yb)
                    hooks.batch_end(batch, {"loss": loss, "size": len(yb)})
                    if interrupt.requested:
                        break
                if interrupt.requested:
                    history.interrupted = True
                    progress.note(f"interrupted (Ctrl-C) during epoch {epoch}; kept the {epoch - 1} finished "
                                  f"epoch(s), the model has the parameters of the last step")
                    break
                logs = _epoch_logs(model, loss_fn, optimizer, val_data, metric_fn, total, seen, correct_weighted)
                _record_epoch(history, epoch, logs)
                if not all(math.isfinite(v) for v in logs.values()):
                    raise FloatingPointError(
                        f"fit: the cost became {logs['loss']} at epoch {epoch}; lower the learning rate, or run "
                        "with check_finite=True to find the op that produced the first NaN/inf"
                    )
                progress.epoch_end(epoch, logs, time.perf_counter() - epoch_start)
                if scheduler is not None:
                    scheduler.step()
                if hooks.epoch_end(epoch - 1, logs):
                    history.stopped_early = True
                    break
    finally:
        progress.close()
        history.flush()
        history.seconds = time.perf_counter() - start
    hooks.train_end(logs)
    return history


def _epoch_logs(
    model: Any, loss_fn: LossFn, optimizer: Any, val_data: Any, metric_fn: Any, total: float, seen: int,
    correct_weighted: float,
) -> dict[str, float]:
    """The epoch's figures, named as Keras: loss, accuracy, val_loss, val_accuracy, lr."""
    logs: dict[str, float] = {"loss": total / seen}
    if metric_fn is not None:
        logs["accuracy"] = correct_weighted / seen
    if val_data is not None:
        val = evaluate(model, loss_fn, val_data, metric=metric_fn if metric_fn else None)
        logs["val_loss"] = val["loss"]
        if "accuracy" in val:
            logs["val_accuracy"] = val["accuracy"]
    lr = getattr(optimizer, "lr", None)
    if lr is not None:
        logs["lr"] = float(lr)
    return logs


def _record_epoch(history: History, epoch: int, logs: dict[str, float]) -> None:
    history.epochs.append(epoch)
    for key, values in (("loss", history.train_loss), ("accuracy", history.train_accuracy),
                        ("val_loss", history.val_loss), ("val_accuracy", history.val_accuracy), ("lr", history.lr)):
        if key in logs:
            values.append(logs[key])


def _step(
    model: Any, loss_fn: LossFn, optimizer: Any, Xb: np.ndarray, yb: np.ndarray, l2_lambda: float,
    l2_over: int | None, max_grad_norm: float | None,
) -> tuple[float, np.ndarray]:
    """One gradient step on one batch; returns (J, outputs). ``l2_over``: the m of lambda/2m (None: the batch size)."""
    out = _forward(model, Xb)
    loss = loss_fn(out, yb)
    if l2_lambda:
        loss = loss + l2_penalty(model, l2_lambda, len(yb) if l2_over is None else l2_over)
    optimizer.zero_grad()
    loss.backward()
    if max_grad_norm is not None:
        clip_grad_norm(_parameters(optimizer, model), max_grad_norm)
    optimizer.step()
    return float(loss.item()), out.data


def _parameters(optimizer: Any, model: Any) -> Iterable[Any]:
    params = getattr(optimizer, "params", None)
    return params if params is not None else model.parameters()
