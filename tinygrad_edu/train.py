"""The training loop: ``fit``, ``evaluate``, ``predict``, a ``History`` and callbacks.

One gradient step on a batch ``B`` is the lectures' loop body:

    forward:   yhat = model(X_B)
    cost:      J = (1/|B|) sum_{i in B} L(yhat(i), y(i))  [+ (lambda / 2|B|) sum_l ||W[l]||_F^2]
    backward:  dW, db = dJ/dW, dJ/db            (J.backward())
    update:    W := W - alpha dW, b := b - alpha db   (or Momentum / RMSprop / Adam: optimizer.step())

``batch_size`` picks the flavour of gradient descent (see :class:`tinygrad_edu.data.DataLoader`):
``None`` = batch (one step per epoch), 1 = stochastic, anything else = mini-batch.

``History`` keeps the cost of every step (``iteration_loss``: the learning curve J vs
iteration, which should go down) and per epoch the training loss and accuracy (the
size-weighted mean over the epoch's batches, measured *before* each step) and, with
``val_data``, the validation loss and accuracy (measured after the epoch, in eval mode).
"""

from __future__ import annotations

import math
import os
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .data import DataLoader
from .engine import no_grad
from .nn.losses import l2_penalty
from .optim import clip_grad_norm
from .tensor_class import Tensor

__all__ = [
    "Callback",
    "EarlyStopping",
    "History",
    "accuracy",
    "evaluate",
    "fit",
    "predict",
    "predict_classes",
]

LossFn = Callable[[Tensor, Any], Tensor]

# Losses whose single output column is a LOGIT z (class 1 when z > 0); any other loss with one
# output column is taken to output a probability or a 0/1 regression (class 1 when > 0.5).
_LOGIT_LOSSES = ("binary_cross_entropy_with_logits", "BCEWithLogitsLoss")


# ============================================================================ metrics


def _loss_name(loss_fn: Any) -> str:
    return getattr(loss_fn, "__name__", type(loss_fn).__name__)


def default_threshold(loss_fn: Any) -> float:
    """0.0 for losses on logits (``binary_cross_entropy_with_logits``), else 0.5 (probabilities)."""
    return 0.0 if _loss_name(loss_fn) in _LOGIT_LOSSES else 0.5


def predict_classes(outputs: Any, threshold: float = 0.5) -> np.ndarray:
    """Class labels from network outputs: argmax over columns, or ``output > threshold`` for one column."""
    out = outputs.data if isinstance(outputs, Tensor) else np.asarray(outputs)
    if out.ndim == 2 and out.shape[1] > 1:
        return out.argmax(axis=1)
    return (out.reshape(len(out)) > threshold).astype(np.int64)


def accuracy(outputs: Any, targets: Any, threshold: float = 0.5) -> float:
    """Share of examples whose predicted class equals the label (labels of shape (m,) or one-hot (m, C))."""
    y = np.asarray(targets.data if isinstance(targets, Tensor) else targets)
    if y.ndim == 2 and y.shape[1] > 1:
        y = y.argmax(axis=1)
    y = y.reshape(len(y))
    pred = predict_classes(outputs, threshold)
    if pred.shape != y.shape:
        raise ValueError(f"accuracy: {pred.shape[0]} predictions but targets of shape {np.shape(targets)}")
    return float(np.mean(pred == y))


def _is_classification(y: np.ndarray) -> bool:
    return np.issubdtype(y.dtype, np.integer) or np.issubdtype(y.dtype, np.bool_)


def _resolve_metric(metric: Any, y: np.ndarray, loss_fn: Any) -> Callable[[Any, Any], float] | None:
    if metric == "auto":
        if not _is_classification(y):
            return None
        threshold = default_threshold(loss_fn)
        return lambda out, target: accuracy(out, target, threshold)
    if metric == "accuracy":
        threshold = default_threshold(loss_fn)
        return lambda out, target: accuracy(out, target, threshold)
    if metric is None or callable(metric):
        return metric
    raise ValueError(f"fit: metric must be 'auto', 'accuracy', None or a callable(outputs, targets), got {metric!r}")


# ============================================================================ history and callbacks


@dataclass
class History:
    """What ``fit`` measured. Lists are indexed by epoch except ``iteration_loss`` (one per step)."""

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
            "batches_per_epoch": self.batches_per_epoch,
            "stopped_early": self.stopped_early,
            "best_epoch": self.best_epoch,
            "seconds": self.seconds,
        }

    def last(self) -> dict[str, float]:
        """The final epoch's figures (``loss``, ``accuracy``, ``val_loss``, ``val_accuracy`` where measured)."""
        out: dict[str, float] = {}
        for key, values in (
            ("loss", self.train_loss),
            ("accuracy", self.train_accuracy),
            ("val_loss", self.val_loss),
            ("val_accuracy", self.val_accuracy),
        ):
            if values:
                out[key] = values[-1]
        return out


class Callback:
    """Hooks called by ``fit``. ``on_epoch_end`` returns True to stop training."""

    def on_train_begin(self, model: Any, history: History) -> None:
        pass

    def on_epoch_end(self, epoch: int, logs: dict[str, float], model: Any) -> bool | None:
        return None

    def on_train_end(self, model: Any, history: History) -> None:
        pass


class EarlyStopping(Callback):
    """Stop when ``monitor`` (``"val_loss"``, ``"val_accuracy"``, ``"loss"``, ``"accuracy"``) has not
    improved by more than ``min_delta`` for ``patience`` epochs in a row (training ends on the
    ``patience``-th such epoch, the first one when ``patience=0``, as in Keras); ``restore_best`` reloads the
    parameters of the best epoch (the lectures' "early stopping": keep the weights where the
    dev-set error was lowest).

    ``mode``: ``"min"`` or ``"max"``; ``"auto"`` is ``"max"`` for accuracies, else ``"min"``.
    """

    def __init__(
        self, monitor: str = "val_loss", patience: int = 10, min_delta: float = 0.0, mode: str = "auto",
        restore_best: bool = True,
    ) -> None:
        if patience < 0:
            raise ValueError(f"EarlyStopping: patience must be >= 0, got {patience}")
        if mode == "auto":
            mode = "max" if "acc" in monitor else "min"
        if mode not in ("min", "max"):
            raise ValueError(f"EarlyStopping: mode must be 'min', 'max' or 'auto', got {mode!r}")
        self.monitor, self.patience, self.min_delta, self.mode = monitor, int(patience), float(min_delta), mode
        self.restore_best = restore_best
        self.best: float | None = None
        self.best_epoch: int | None = None
        self.best_state: dict[str, np.ndarray] | None = None
        self.wait = 0
        self.stopped_epoch: int | None = None

    def _better(self, value: float) -> bool:
        if self.best is None:
            return True
        if self.mode == "min":
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta

    def on_train_begin(self, model: Any, history: History) -> None:
        self.best, self.best_epoch, self.best_state, self.wait, self.stopped_epoch = None, None, None, 0, None

    def on_epoch_end(self, epoch: int, logs: dict[str, float], model: Any) -> bool:
        if self.monitor not in logs:
            raise ValueError(
                f"EarlyStopping: monitor {self.monitor!r} is not measured; available: {sorted(logs)} "
                "(val_* needs fit(..., val_data=...), accuracy needs class labels)"
            )
        value = logs[self.monitor]
        if self._better(value):
            self.best, self.best_epoch, self.wait = value, epoch, 0
            if self.restore_best:
                self.best_state = model.state_dict()
            return False
        self.wait += 1
        if self.wait >= max(self.patience, 1):
            self.stopped_epoch = epoch
            return True
        return False

    def on_train_end(self, model: Any, history: History) -> None:
        if self.best_epoch is not None:
            history.best_epoch = self.best_epoch
        if self.restore_best and self.best_state is not None:
            model.load_state_dict(self.best_state)


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
    metric_fn = _resolve_metric(metric, y, loss_fn)
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


def _progress(epochs: int, verbose: int) -> Any:
    """A tqdm bar over epochs when verbose >= 1, stdout is a terminal and tqdm is installed; else None."""
    if verbose < 1 or not sys.stdout.isatty():
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None
    try:
        width = os.get_terminal_size(sys.stdout.fileno()).columns
    except (OSError, ValueError, AttributeError):
        width = 0
    # tqdm draws nothing on a terminal that reports a 0 x 0 size (e.g. under `script`): assume 100 x 24 there
    sizing: dict[str, Any] = {"dynamic_ncols": True} if width > 0 else {"ncols": 100, "nrows": 24}
    # a short fixed bar, so the figures after it still fit an 80-column terminal
    fmt = "{desc}: {percentage:3.0f}%|{bar:16}| {n_fmt}/{total_fmt} epochs [{elapsed}<{remaining}{postfix}]"
    return tqdm(total=epochs, desc="training", file=sys.stdout, leave=True, bar_format=fmt, **sizing)


def _fmt(logs: dict[str, float]) -> str:
    return "  ".join(f"{k}={v:.4g}" for k, v in logs.items())


def _short(logs: dict[str, float]) -> str:
    """The progress bar's figures, kept short: ``J 0.148, acc 94.7%, val J 0.162, val acc 96.2%``."""
    parts = []
    for k, v in logs.items():
        name = k.replace("val_", "val ").replace("accuracy", "acc").replace("loss", "J")
        parts.append(f"{name} {100 * v:.1f}%" if "acc" in name else f"{name} {v:.3g}")
    return ", ".join(parts)


def fit(
    model: Any,
    loss_fn: LossFn,
    optimizer: Any,
    train_data: Any,
    epochs: int,
    val_data: Any = None,
    batch_size: int | None = None,
    verbose: int = 1,
    callbacks: Sequence[Callback] = (),
    check_finite: bool = False,
    seed: int | np.random.Generator | None = None,
    *,
    l2_lambda: float = 0.0,
    metric: Any = "auto",
    scheduler: Any = None,
    max_grad_norm: float | None = None,
    shuffle: bool = True,
) -> History:
    """Train ``model`` for ``epochs`` passes over ``train_data``; return the :class:`History`.

    ``train_data``/``val_data``: ``(X, y)`` numpy arrays (rows are examples) or a ``DataLoader``.
    ``y``: class labels of shape ``(m,)`` for ``cross_entropy``; for regression (``mse_loss``) or a
    single logit (``binary_cross_entropy_with_logits``), targets of the model's output shape, e.g. ``(m, 1)``.
    ``batch_size``: None = batch GD, 1 = stochastic, k = mini-batch; a value larger than ``m`` means
    batch GD. With a ``DataLoader`` set batch size, shuffling and seed on the loader (passing
    ``batch_size`` here too is an error).
    ``loss_fn(outputs, y_batch)`` returns the mean cost J over the batch (e.g.
    ``nn.losses.cross_entropy``); ``l2_lambda`` adds the lectures' (lambda / 2m) sum ||W[l]||^2
    with m = the batch size. ``seed`` seeds the shuffling. ``verbose``: 0 silent, 1 a tqdm
    progress bar (only when stdout is a terminal), 2 one printed line per epoch.
    ``check_finite=True`` runs each step under :func:`tinygrad_edu.anomaly.detect_anomaly`,
    which stops at the first NaN/inf with the op that made it. ``scheduler.step()`` (e.g.
    ``optim.StepLR``) is called after each epoch; ``max_grad_norm`` clips the gradient norm.
    ``metric``: ``"auto"`` (accuracy when y holds integer labels), ``"accuracy"``, None or a
    callable ``(outputs, y) -> float``.
    """
    _check_positive_int(epochs, "epochs", "fit")
    if verbose not in (0, 1, 2):
        raise ValueError(f"fit: verbose must be 0, 1 or 2, got {verbose!r}")
    if (
        isinstance(l2_lambda, bool) or not isinstance(l2_lambda, (int, float, np.integer, np.floating))
        or not math.isfinite(l2_lambda) or l2_lambda < 0
    ):
        raise ValueError(f"fit: l2_lambda (lambda) must be a finite number >= 0, got {l2_lambda!r}")
    callbacks = list(callbacks)
    for cb in callbacks:
        if not isinstance(cb, Callback):
            raise TypeError(f"fit: callbacks must be Callback instances (e.g. EarlyStopping()), got {cb!r}")
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
        _as_arrays(val_data, "fit (val_data)")
    metric_fn = _resolve_metric(metric, loader.y, loss_fn)
    anomaly_ctx: Callable[[], Any] | None = None
    if check_finite:
        from .anomaly import detect_anomaly  # lazy: only when asked for

        anomaly_ctx = detect_anomaly

    history = History(batches_per_epoch=len(loader))
    for cb in callbacks:
        cb.on_train_begin(model, history)
    bar = _progress(epochs, verbose)
    start = time.perf_counter()
    try:
        with _TrainMode(model, True):
            for epoch in range(1, epochs + 1):
                total, seen, correct_weighted = 0.0, 0, 0.0
                for Xb, yb in loader:
                    if anomaly_ctx is not None:
                        with anomaly_ctx():
                            loss, out = _step(model, loss_fn, optimizer, Xb, yb, l2_lambda, max_grad_norm)
                    else:
                        loss, out = _step(model, loss_fn, optimizer, Xb, yb, l2_lambda, max_grad_norm)
                    history.iteration_loss.append(loss)
                    total += loss * len(yb)
                    seen += len(yb)
                    if metric_fn is not None:
                        correct_weighted += float(metric_fn(out, yb)) * len(yb)
                logs: dict[str, float] = {"loss": total / seen}
                if metric_fn is not None:
                    logs["accuracy"] = correct_weighted / seen
                if val_data is not None:
                    val = evaluate(model, loss_fn, val_data, metric=metric_fn if metric_fn else None)
                    logs["val_loss"] = val["loss"]
                    if "accuracy" in val:
                        logs["val_accuracy"] = val["accuracy"]
                lr = getattr(optimizer, "lr", None)
                history.epochs.append(epoch)
                history.train_loss.append(logs["loss"])
                if "accuracy" in logs:
                    history.train_accuracy.append(logs["accuracy"])
                if "val_loss" in logs:
                    history.val_loss.append(logs["val_loss"])
                if "val_accuracy" in logs:
                    history.val_accuracy.append(logs["val_accuracy"])
                if lr is not None:
                    history.lr.append(float(lr))
                if not all(math.isfinite(v) for v in logs.values()):
                    raise FloatingPointError(
                        f"fit: the cost became {logs['loss']} at epoch {epoch}; lower the learning rate, or run "
                        "with check_finite=True to find the op that produced the first NaN/inf"
                    )
                if bar is not None:
                    bar.set_postfix_str(_short(logs), refresh=False)
                    bar.update(1)
                elif verbose == 2:
                    print(f"epoch {epoch}/{epochs}  {_fmt(logs)}", flush=True)
                if scheduler is not None:
                    scheduler.step()
                stop = False
                for cb in callbacks:
                    stop = bool(cb.on_epoch_end(epoch, logs, model)) or stop
                if stop:
                    history.stopped_early = True
                    break
    finally:
        if bar is not None:
            bar.close()
        history.seconds = time.perf_counter() - start
    for cb in callbacks:
        cb.on_train_end(model, history)
    return history


def _step(
    model: Any, loss_fn: LossFn, optimizer: Any, Xb: np.ndarray, yb: np.ndarray, l2_lambda: float,
    max_grad_norm: float | None,
) -> tuple[float, np.ndarray]:
    """One gradient step on one batch; returns (J, outputs)."""
    out = _forward(model, Xb)
    loss = loss_fn(out, yb)
    if l2_lambda:
        loss = loss + l2_penalty(model, l2_lambda, len(yb))
    optimizer.zero_grad()
    loss.backward()
    if max_grad_norm is not None:
        clip_grad_norm(_parameters(optimizer, model), max_grad_norm)
    optimizer.step()
    return float(loss.item()), out.data


def _parameters(optimizer: Any, model: Any) -> Iterable[Any]:
    params = getattr(optimizer, "params", None)
    return params if params is not None else model.parameters()
