"""Loss functions and regularisation penalties, composed from ``Tensor`` ops.

Every loss here is a few Tensor ops (no backward of its own: the gradients come from
the chain rule through the primitives), except ``cross_entropy``: the output layer's loss
runs on every training step, so it is one fused primitive whose VJP is the lectures'
dZ[L] = A[L] - Y (its composed form stays as the tested reference). Notation follows the lectures: ``m`` (or ``N``)
examples in a batch, prediction y_hat, label y, logits z, and the cost is the mean
of the per-example losses,

    J = (1/m) * sum_i L(y_hat^(i), y^(i)).

Layout is **batch first**, as ``nn.Linear`` produces it: predictions have shape
``(N, ...)`` and class scores ``(N, C)``.

``reduction`` (every loss takes it):

* ``"mean"`` (default): the mean over all elements. For one output per example
  (shape ``(N,)`` or ``(N, 1)``) that is exactly the lectures' J = (1/m) sum_i L(i).
  The class losses (``cross_entropy``, ``nll_loss``) first sum over the C classes,
  so they divide by N only.
* ``"sum"``: the plain sum.
* ``"none"``: the per-element (per-example for the class losses) losses, unreduced.

Shapes must match exactly: a prediction of shape ``(N, 1)`` with a target of shape
``(N,)`` is an error, not a silent broadcast to ``(N, N)``.

Regularisation (the lectures' L2 term, weights only, biases excluded)::

    J_reg = J + (lambda / 2m) * sum_l ||W[l]||_F^2      -> l2_penalty(model, lam, m)
    J_reg = J + (lambda / m)  * sum_l sum |W[l]_ij|     -> l1_penalty(model, lam, m)

The lectures' cost of K sigmoid output units sums the K losses of an example (mean over m
only) and adds the L2 term: :func:`neural_network_cost`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from .. import primitives as P
from ..argcheck import check_instance, check_int, check_real
from ..tensor_class import Tensor
from .module import Module

__all__ = [
    "BCELoss",
    "BCEWithLogitsLoss",
    "CrossEntropyLoss",
    "L1Loss",
    "MSELoss",
    "NLLLoss",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "cross_entropy",
    "l1_loss",
    "l1_penalty",
    "l2_penalty",
    "mse_loss",
    "neural_network_cost",
    "nll_loss",
]

_REDUCTIONS = ("mean", "sum", "none")


# ====================================================================== helpers


def _as_tensor(x: Any, op: str, name: str, like: Tensor | None = None) -> Tensor:
    """A Tensor from a Tensor, numpy array, list or number (targets are constants).

    With ``like`` (the prediction), numbers, lists, integer arrays and int/bool tensors take its
    float dtype (the dtype policy: ``mse_loss(x32, [0, 1, 0])`` stays float32).
    """
    if isinstance(x, Tensor):
        return x.cast(like.dtype) if isinstance(like, Tensor) and not x.is_floating_point() else x
    try:
        return like._constant(x, op) if isinstance(like, Tensor) else Tensor(x)
    except TypeError as err:
        raise TypeError(f"{op}: {name} must be a Tensor, numpy array, list or number: {err}") from None


def _prediction(pred: Any, op: str, name: str = "input") -> Tensor:
    """The model's output must be a Tensor (a list or numpy array has no graph to differentiate)."""
    return check_instance(pred, Tensor, name, op, hint=" (the model's output; a constant prediction has no "
                          "gradient: wrap data with tg.Tensor(...) only if that is what you mean)")


def _same_shape(pred: Tensor, target: Tensor, op: str, names: tuple[str, str] = ("input", "target")) -> None:
    _prediction(pred, op, names[0])
    if pred.shape != target.shape:
        hint = ""
        if pred.shape[:1] == target.shape[:1] and sorted((pred.ndim, target.ndim)) == [1, 2]:
            hint = " (reshape one of them, e.g. target.reshape(-1, 1) or input.reshape(-1); broadcasting them would " \
                   "silently compare every prediction with every target)"
        raise ValueError(
            f"{op}: {names[0]} has shape {pred.shape} but {names[1]} has shape {target.shape}; "
            f"they must be equal{hint}"
        )


def _reduce(losses: Tensor, reduction: str, op: str, count: int | None = None) -> Tensor:
    """Reduce elementwise losses: mean (over ``count`` items if given), sum or none."""
    if reduction == "mean":
        if losses.size == 0:
            raise ValueError(f"{op}: cannot take the mean of an empty batch (shape {losses.shape})")
        return losses.sum() * (1.0 / (count if count is not None else losses.size))
    if reduction == "sum":
        return losses.sum()
    if reduction == "none":
        return losses
    raise ValueError(f"{op}: reduction must be one of {_REDUCTIONS}, got {reduction!r}")


def _labels(target: Any, n: int, n_classes: int, op: str) -> np.ndarray:
    """Validate integer class labels of shape (n,) in [0, n_classes); return them as intp."""
    raw = target.data if isinstance(target, Tensor) else np.asarray(target)
    if raw.dtype.kind == "b" or raw.dtype.kind not in "iuf":
        raise TypeError(f"{op}: class labels must be integers, got dtype {raw.dtype}")
    if raw.shape != (n,):
        raise ValueError(f"{op}: labels have shape {raw.shape} but the input has {n} rows; expected shape ({n},)")
    if raw.dtype.kind == "f":
        bad = ~np.isfinite(raw) | (raw != np.round(raw))
        if bad.any():
            i = int(np.argmax(bad))
            raise ValueError(
                f"{op}: class labels must be whole numbers, got {float(raw[i])} at position {i}; "
                "pass integer labels of shape (N,) or one-hot / probability targets of shape (N, C)"
            )
    labels = raw.astype(np.intp, copy=False)  # (not copied when already intp: tg.jit relies on it)
    bad = (labels < 0) | (labels >= n_classes)
    if bad.any():
        i = int(np.argmax(bad))
        raise ValueError(
            f"{op}: label {labels[i]} at position {i} is out of range for {n_classes} classes; "
            f"labels must be in [0, {n_classes - 1}]"
        )
    return labels


def _check_2d(x: Tensor, op: str, name: str) -> None:
    _prediction(x, op, name)
    if x.ndim != 2:
        raise ValueError(f"{op}: {name} must have shape (N, C) (one row of class scores per example), got {x.shape}")


# ====================================================================== regression losses


def mse_loss(pred: Tensor, target: Any, reduction: str = "mean") -> Tensor:
    """Mean squared error:  J = (1/m) sum_i (y_hat^(i) - y^(i))^2.

    Gradient: dJ/dy_hat^(i) = (2/m) (y_hat^(i) - y^(i)). ``pred`` and ``target`` must
    have the same shape. Computed by one fused primitive (``mse_loss`` in a drawing) whose
    VJP is that formula; the composed ``((pred - target) * (pred - target)).sum() / m``
    gives the same values and gradients (tested).
    """
    target = _as_tensor(target, "mse_loss", "target", like=pred)
    _same_shape(pred, target, "mse_loss")
    if reduction not in _REDUCTIONS:
        raise ValueError(f"mse_loss: reduction must be one of {_REDUCTIONS}, got {reduction!r}")
    if reduction == "mean" and pred.size == 0:
        raise ValueError(f"mse_loss: cannot take the mean of an empty batch (shape {pred.shape})")
    if pred.dtype != target.dtype:  # the composed form promotes; so does this one
        common = np.result_type(pred.dtype, target.dtype)
        pred, target = pred.cast(common), target.cast(common)
    # one fused primitive (its composed reference: _reduce((pred - target) ** 2, ...), tested equal)
    scale = {"mean": 1.0 / max(pred.size, 1), "sum": 1.0, "none": None}[reduction]
    return Tensor._apply(P.SquaredError, pred, target, scale=scale)


def l1_loss(pred: Tensor, target: Any, reduction: str = "mean") -> Tensor:
    """Mean absolute error:  J = (1/m) sum_i |y_hat^(i) - y^(i)|.

    Gradient: dJ/dy_hat^(i) = sign(y_hat^(i) - y^(i)) / m, and 0 where they are equal
    (abs'(0) = 0, as PyTorch).
    """
    target = _as_tensor(target, "l1_loss", "target", like=pred)
    _same_shape(pred, target, "l1_loss")
    return _reduce((pred - target).abs(), reduction, "l1_loss")


# ====================================================================== binary classification


def binary_cross_entropy(prob: Tensor, target: Any, eps: float = 1e-12, reduction: str = "mean") -> Tensor:
    """Binary cross-entropy on probabilities a = y_hat in [0, 1] (e.g. after a sigmoid):

        L(a, y) = -( y log a + (1 - y) log(1 - a) ),   J = (1/m) sum_i L(a^(i), y^(i)).

    Gradient: dL/da = -y/a + (1 - y)/(1 - a) = (a - y) / (a (1 - a)).

    **Clipping.** ``a`` is first clipped to [eps, 1 - eps], so ``log`` never sees 0 and
    a confident wrong prediction costs at most -log(eps) (27.6 for eps = 1e-12) instead
    of infinity. Where ``a`` is clipped its gradient is 0 (the clip is flat there). For
    float32 inputs eps is raised to float32's machine epsilon (~1.2e-7), since
    1 - 1e-12 rounds to 1 in float32. Prefer :func:`binary_cross_entropy_with_logits`
    on the pre-sigmoid z: it needs no clipping and is exact for every z.
    """
    op = "binary_cross_entropy"
    target = _as_tensor(target, op, "target", like=prob)
    _same_shape(prob, target, op)
    if not 0.0 < eps < 0.5:
        raise ValueError(f"{op}: eps must be in (0, 0.5), got {eps}")
    data = prob.data
    if not np.all((data >= 0) & (data <= 1)):  # written so that NaN fails too
        found = "NaN" if np.isnan(data).any() else f"values in [{data.min()}, {data.max()}]"
        raise ValueError(
            f"{op}: input must hold probabilities in [0, 1], got {found}"
            " (apply sigmoid first, or use binary_cross_entropy_with_logits on the raw scores)"
        )
    eps = max(eps, float(np.finfo(prob.dtype).eps))
    a = prob.clip(eps, 1.0 - eps)
    losses = -(target * a.log() + (1.0 - target) * (1.0 - a).log())
    return _reduce(losses, reduction, op)


def binary_cross_entropy_with_logits(logits: Tensor, target: Any, reduction: str = "mean") -> Tensor:
    """Binary cross-entropy on logits z (a = sigma(z) is never formed), computed stably:

        L(z, y) = -( y log sigma(z) + (1 - y) log(1 - sigma(z)) )
                = max(z, 0) - z y + log(1 + e^(-|z|)).

    The exponential only sees -|z| <= 0, so it never overflows, for any z.
    (``max(z, 0) + log(1 + e^(-|z|))`` is ``Tensor.softplus``, which also gets the
    derivative at z = 0 right.) Gradient: dL/dz = sigma(z) - y, so
    dJ/dz^(i) = (sigma(z^(i)) - y^(i)) / m.
    """
    op = "binary_cross_entropy_with_logits"
    target = _as_tensor(target, op, "target", like=logits)
    _same_shape(logits, target, op)
    # z = +-inf: softplus(z) - z y would be inf - inf. Clipping z to a quarter of the largest
    # float (a margin so that no intermediate such as 2 max(z, 0) overflows) changes no
    # realistic z, and gives L = 0 with dL/dz = 0 where the label agrees (z = +inf, y = 1;
    # z = -inf, y = 0), and a huge finite loss (with a zero gradient: the clip is flat
    # there), not inf, where it does not.
    big = float(np.finfo(logits.dtype).max) / 4
    z = logits.clip(-big, big)
    losses = z.softplus() - z * target
    return _reduce(losses, reduction, op)


def neural_network_cost(output: Tensor, target: Any, model: Any = None, lam: float = 0.0,
                        from_logits: bool = False) -> Tensor:
    """The lectures' cost of a network with K sigmoid output units (Kabir, Racharak):

        J(Theta) = -(1/m) sum_i sum_k [ y_k(i) log h_k(i) + (1 - y_k(i)) log(1 - h_k(i)) ]
                   + (lambda / 2m) sum_l sum_ij (Theta[l]_ij)^2

    ``output`` is h = a[L] of shape (m, K) (or the logits z[L] with ``from_logits=True``),
    ``target`` y of the same shape. The K losses of an example are **summed** and the sum is
    averaged over the m examples -- unlike ``binary_cross_entropy(reduction="mean")``, which
    averages over all m K elements and so returns J / K. The penalty is
    :func:`l2_penalty` of ``model``'s weights (biases excluded, as the slide's sum starts at
    j = 1) with the same m; ``lam=0`` or ``model=None`` leaves it out.
    Gradient: dJ/dz_k(i) = (h_k(i) - y_k(i)) / m, and d/dW[l] of the penalty = (lambda/m) W[l].
    """
    op = "neural_network_cost"
    if _prediction(output, op, "output").ndim != 2:
        raise ValueError(f"{op}: output must have shape (m, K) (one row per example), got {output.shape}")
    m = output.shape[0]
    loss = binary_cross_entropy_with_logits if from_logits else binary_cross_entropy
    cost = loss(output, target, reduction="sum") / m
    if model is None or lam == 0.0:
        _check_lam_m(lam, m, op)
        return cost
    return cost + l2_penalty(model, lam, m)


# ====================================================================== multi-class classification


def nll_loss(log_probs: Tensor, target: Any, reduction: str = "mean", *, weight: Any = None,
             ignore_index: int = -100) -> Tensor:
    """Negative log-likelihood of log-probabilities (e.g. from ``log_softmax``), shape (N, C):

        L^(i) = -sum_k y_k^(i) log(a_k^(i)) = -log a_{y^(i)}^(i),   J = (1/N) sum_i L^(i).

    ``target`` is either integer class labels of shape (N,) (numpy array, list or
    Tensor of whole numbers in [0, C)) or one-hot / probability rows of shape (N, C).
    ``weight=``, ``ignore_index=`` and inputs (N, C, d1, ...): see :func:`_class_loss_with_options`.
    """
    op = "nll_loss"
    if _needs_options(log_probs, target, weight, ignore_index, 0.0):
        return _class_loss_with_options(log_probs, target, reduction, op, weight, ignore_index, 0.0)
    _check_2d(log_probs, op, "log_probs")
    return _class_loss(log_probs, target, reduction, op)


def cross_entropy(logits: Tensor, target: Any, reduction: str = "mean", *, weight: Any = None,
                  ignore_index: int = -100, label_smoothing: float = 0.0) -> Tensor:
    """Softmax cross-entropy on logits z of shape (N, C) (the softmax output layer's loss):

        a^(i) = softmax(z^(i)),   L^(i) = -sum_k y_k^(i) log a_k^(i),   J = (1/N) sum_i L^(i).

    Computed stably (log a_k = z_k - logsumexp(z), the max subtracted first, so nothing
    overflows) by one fused primitive, :class:`~tinygrad_edu.primitives.SoftmaxCrossEntropy`,
    whose VJP is the lectures' dZ[L] = A[L] - Y: dJ/dz^(i) = (a^(i) - y^(i)) / N, with y^(i)
    the one-hot row. Its composed reference, ``nll_loss(logits.log_softmax(axis=1), target)``,
    gives the same values and gradients (tested).

    ``target``: integer labels of shape (N,) (numpy array, list or Tensor of whole
    numbers in [0, C)) or one-hot / probability rows of shape (N, C).
    ``weight=``, ``ignore_index=``, ``label_smoothing=`` and logits (N, C, d1, ...), as PyTorch:
    see :func:`_class_loss_with_options`.
    """
    op = "cross_entropy"
    if _needs_options(logits, target, weight, ignore_index, label_smoothing):
        log_probs = _as_tensor(logits, op, "logits").log_softmax(axis=1) if logits.ndim >= 2 else logits
        return _class_loss_with_options(log_probs, target, reduction, op, weight, ignore_index, label_smoothing)
    _check_2d(logits, op, "logits")
    return _softmax_cross_entropy(logits, target, reduction, op)


def _softmax_cross_entropy(logits: Tensor, target: Any, reduction: str, op: str) -> Tensor:
    """The fused primitive, after the same checks of target and reduction as :func:`_class_loss`."""
    n, n_classes = logits.shape
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{op}: reduction must be one of {_REDUCTIONS}, got {reduction!r}")
    if reduction == "mean" and n == 0:
        raise ValueError(f"{op}: cannot take the mean of an empty batch (shape {(n,)})")
    scale = {"mean": 1.0 / max(n, 1), "sum": 1.0, "none": None}[reduction]
    target_shape = target.shape if isinstance(target, (Tensor, np.ndarray)) else np.shape(target)
    if len(target_shape) == 2:
        y = _as_tensor(target, op, "target")
        _same_shape(logits, y, op, ("input", "target (one-hot / probabilities)"))
        if y.dtype != logits.dtype:  # the composed path promotes; so does this one
            common = np.result_type(y.dtype, logits.dtype)
            logits, y = logits.cast(common), y.cast(common)
        return Tensor._apply(P.SoftmaxCrossEntropy, logits, y, scale=scale)
    if len(target_shape) == 1:
        labels = _labels(target, n, n_classes, op)
        return Tensor._apply(P.SoftmaxCrossEntropy, logits, labels=labels, scale=scale)
    raise ValueError(
        f"{op}: input has shape {logits.shape}; target must be labels of shape ({n},) or "
        f"one-hot / probability rows of shape ({n}, {n_classes}), got shape {tuple(target_shape)}"
    )


def _class_loss(log_probs: Tensor, target: Any, reduction: str, op: str) -> Tensor:
    n, n_classes = log_probs.shape
    target_shape = target.shape if isinstance(target, (Tensor, np.ndarray)) else np.shape(target)
    if len(target_shape) == 2:
        y = _as_tensor(target, op, "target")
        _same_shape(log_probs, y, op, ("input", "target (one-hot / probabilities)"))
        losses = -(y * log_probs).sum(axis=1)
    elif len(target_shape) == 1:
        labels = _labels(target, n, n_classes, op)
        losses = -log_probs[np.arange(n), labels]
    else:
        raise ValueError(
            f"{op}: input has shape {log_probs.shape}; target must be labels of shape ({n},) or "
            f"one-hot / probability rows of shape ({n}, {n_classes}), got shape {tuple(target_shape)}"
        )
    return _reduce(losses, reduction, op, count=n)


def _needs_options(x: Any, target: Any, weight: Any, ignore_index: int, label_smoothing: float) -> bool:
    """Whether a class loss needs :func:`_class_loss_with_options` (else the plain (N, C) path)."""
    if weight is not None or label_smoothing != 0.0 or getattr(x, "ndim", 2) > 2:
        return True
    raw = target.data if isinstance(target, Tensor) else np.asarray(target)
    return raw.ndim == 1 and raw.dtype.kind in "iuf" and bool((raw == ignore_index).any())


def _class_loss_with_options(log_probs: Tensor, target: Any, reduction: str, op: str, weight: Any,
                             ignore_index: int, label_smoothing: float) -> Tensor:
    """The class losses with PyTorch's options, on log-probabilities of shape (N, C) or (N, C, d1, ...).

    The class axis is 1; every other position (i, d1, ...) is one example j. With labels y_j
    and class weights w (ones by default), smoothing eps and q_j = (1 - eps) onehot(y_j) + eps / C:

        L_j = -sum_c w_c q_jc log p_jc,  J = sum_j L_j / sum_j w_(y_j)   (reduction "mean")

    (the mean is weighted: it divides by the weights of the examples' labels, as PyTorch).
    Labels equal to ``ignore_index`` give L_j = 0 and leave the denominator. With
    probability targets (the shape of the input) q_j = (1 - eps) y_j + eps / C and the mean
    divides by the number of examples. Composed (gather, where, sum): gradients flow to the
    log-probabilities only.
    """
    if log_probs.ndim < 2:
        raise ValueError(f"{op}: input must have shape (N, C) or (N, C, d1, ...), got {log_probs.shape}")
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{op}: reduction must be one of {_REDUCTIONS}, got {reduction!r}")
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"{op}: label_smoothing must be in [0, 1], got {label_smoothing}")
    n_classes = log_probs.shape[1]
    w = None
    if weight is not None:
        w = np.asarray(weight.data if isinstance(weight, Tensor) else weight, dtype=log_probs.dtype)
        if w.shape != (n_classes,):
            raise ValueError(f"{op}: weight must have shape ({n_classes},) (one per class), got {w.shape}")
    # one example per row: move the class axis last and flatten the rest
    example_shape = (log_probs.shape[0],) + log_probs.shape[2:]
    rows = log_probs.permute(0, *range(2, log_probs.ndim), 1).reshape(-1, n_classes)
    target_data = target.data if isinstance(target, Tensor) else np.asarray(target)
    class_weights = 1.0 if w is None else Tensor(w)
    if target_data.shape == log_probs.shape:  # probabilities (or one-hot), class axis 1
        q = np.moveaxis(target_data, 1, -1).reshape(-1, n_classes)
        q = q * (1.0 - label_smoothing) + label_smoothing / n_classes
        losses = -(rows * Tensor(q, dtype=rows.dtype) * class_weights).sum(axis=1)
        return _reduce(losses.reshape(example_shape), reduction, op)
    if target_data.shape != example_shape:
        raise ValueError(
            f"{op}: input has shape {log_probs.shape}; target must be labels of shape {example_shape} or "
            f"probabilities of shape {log_probs.shape}, got {target_data.shape}"
        )
    labels = _labels_or_ignored(target_data.reshape(-1), n_classes, ignore_index, op)
    kept = labels != ignore_index
    safe = np.where(kept, labels, 0)
    label_weight = (np.ones(len(safe)) if w is None else w[safe]) * kept
    picked = rows[np.arange(len(safe)), safe]
    losses = -(picked * Tensor(label_weight, dtype=rows.dtype)) * (1.0 - label_smoothing)
    if label_smoothing:
        spread = -(rows * class_weights).sum(axis=1) * Tensor(kept.astype(rows.dtype))
        losses = losses + spread * (label_smoothing / n_classes)
    losses = losses.reshape(example_shape)
    if reduction == "mean":
        return losses.sum() / float(label_weight.sum())
    return _reduce(losses, reduction, op)


def _labels_or_ignored(raw: np.ndarray, n_classes: int, ignore_index: int, op: str) -> np.ndarray:
    """Whole-number class labels in [0, C), or equal to ``ignore_index``, as intp."""
    if raw.dtype.kind == "b" or raw.dtype.kind not in "iuf":
        raise TypeError(f"{op}: class labels must be integers, got dtype {raw.dtype}")
    if raw.dtype.kind == "f" and not np.all(np.isfinite(raw) & (raw == np.round(raw))):
        raise ValueError(f"{op}: class labels must be whole numbers")
    labels = raw.astype(np.intp)
    bad = ((labels < 0) | (labels >= n_classes)) & (labels != ignore_index)
    if bad.any():
        i = int(np.argmax(bad))
        raise ValueError(
            f"{op}: label {labels[i]} at position {i} is out of range for {n_classes} classes "
            f"(and is not ignore_index={ignore_index})"
        )
    return labels


# ====================================================================== regularisation penalties


def _weights(model: Any, op: str) -> list[Tensor]:
    """The tensors a penalty applies to: a module's params whose name ends in "weight",
    or every tensor of an explicit iterable."""
    if hasattr(model, "named_parameters"):
        return [p for name, p in model.named_parameters() if name.rsplit(".", 1)[-1] == "weight"]
    if isinstance(model, Tensor):
        return [model]
    if isinstance(model, Iterable):
        tensors = list(model)
        for t in tensors:
            if not isinstance(t, Tensor):
                raise TypeError(f"{op}: expected a Module or an iterable of Tensors, got an item of type {type(t)}")
        return tensors
    raise TypeError(f"{op}: expected a Module (its weights are penalised) or an iterable of Tensors, got {type(model)}")


def _check_lam_m(lam: float, m: int, op: str) -> None:
    check_real(lam, "lam (the regularisation strength lambda)", op, minimum=0.0)
    check_int(m, "m (the number of training examples)", op, minimum=1)


def l2_penalty(model: Any, lam: float, m: int) -> Tensor:
    """The lectures' L2 (weight decay) term: (lambda / 2m) * sum_l sum_ij (W[l]_ij)^2.

    Only weights are penalised: for a Module, the parameters whose qualified name ends in
    ``weight`` (``layers.0.weight``); biases are excluded, as in the lectures. An iterable
    of Tensors penalises all of them. Gradient: d/dW[l] = (lambda/m) W[l], which turns the
    update into W := (1 - alpha lambda/m) W - alpha dW ("weight decay").
    """
    _check_lam_m(lam, m, "l2_penalty")
    weights = _weights(model, "l2_penalty")
    if not weights:
        return Tensor(0.0)
    total = sum(((w * w).sum() for w in weights[1:]), (weights[0] * weights[0]).sum())
    return total * (lam / (2.0 * m))


def l1_penalty(model: Any, lam: float, m: int) -> Tensor:
    """L1 term: (lambda / m) * sum_l sum_ij |W[l]_ij| (weights only, biases excluded).

    Gradient: (lambda/m) sign(W[l]) (0 at exactly 0). It pushes small weights to exactly 0
    (sparse models). Which parameters count is as in :func:`l2_penalty`.
    """
    _check_lam_m(lam, m, "l1_penalty")
    weights = _weights(model, "l1_penalty")
    if not weights:
        return Tensor(0.0)
    total = sum((w.abs().sum() for w in weights[1:]), weights[0].abs().sum())
    return total * (lam / m)


# ====================================================================== module forms


class _Loss(Module):
    """Base of the loss modules: ``loss(pred, target)`` calls the function above."""

    def __init__(self, reduction: str = "mean") -> None:
        super().__init__()
        if reduction not in _REDUCTIONS:
            raise ValueError(f"{type(self).__name__}: reduction must be one of {_REDUCTIONS}, got {reduction!r}")
        self.reduction = reduction

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}"


class MSELoss(_Loss):
    """Module form of :func:`mse_loss`: J = (1/m) sum_i (y_hat^(i) - y^(i))^2."""

    def forward(self, pred: Tensor, target: Any) -> Tensor:
        return mse_loss(pred, target, reduction=self.reduction)


class L1Loss(_Loss):
    """Module form of :func:`l1_loss`: J = (1/m) sum_i |y_hat^(i) - y^(i)|."""

    def forward(self, pred: Tensor, target: Any) -> Tensor:
        return l1_loss(pred, target, reduction=self.reduction)


class BCELoss(_Loss):
    """Module form of :func:`binary_cross_entropy` (probabilities, clipped to [eps, 1 - eps]):
    J = -(1/m) sum_i [y log a + (1 - y) log(1 - a)]."""

    def __init__(self, eps: float = 1e-12, reduction: str = "mean") -> None:
        super().__init__(reduction)
        self.eps = eps

    def forward(self, prob: Tensor, target: Any) -> Tensor:
        return binary_cross_entropy(prob, target, eps=self.eps, reduction=self.reduction)

    def extra_repr(self) -> str:
        return f"eps={self.eps}, reduction={self.reduction!r}"


class BCEWithLogitsLoss(_Loss):
    """Module form of :func:`binary_cross_entropy_with_logits` (stable):
    L = max(z, 0) - z y + log(1 + e^(-|z|))."""

    def forward(self, logits: Tensor, target: Any) -> Tensor:
        return binary_cross_entropy_with_logits(logits, target, reduction=self.reduction)


class CrossEntropyLoss(_Loss):
    """Module form of :func:`cross_entropy`: J = -(1/N) sum_i sum_k y_k^(i) log softmax(z^(i))_k.

    ``weight``, ``ignore_index`` and ``label_smoothing`` as in :func:`cross_entropy` (PyTorch's).
    """

    def __init__(self, weight: Any = None, ignore_index: int = -100, reduction: str = "mean",
                 label_smoothing: float = 0.0) -> None:
        super().__init__(reduction)
        self.weight = None if weight is None else np.array(weight.data if isinstance(weight, Tensor) else weight)
        self.ignore_index, self.label_smoothing = ignore_index, label_smoothing

    def forward(self, logits: Tensor, target: Any) -> Tensor:
        return cross_entropy(logits, target, reduction=self.reduction, weight=self.weight,
                             ignore_index=self.ignore_index, label_smoothing=self.label_smoothing)


class NLLLoss(_Loss):
    """Module form of :func:`nll_loss`: J = -(1/N) sum_i log a_{y^(i)}^(i) on log-probabilities.

    ``weight`` and ``ignore_index`` as in :func:`nll_loss` (PyTorch's).
    """

    def __init__(self, weight: Any = None, ignore_index: int = -100, reduction: str = "mean") -> None:
        super().__init__(reduction)
        self.weight = None if weight is None else np.array(weight.data if isinstance(weight, Tensor) else weight)
        self.ignore_index = ignore_index

    def forward(self, log_probs: Tensor, target: Any) -> Tensor:
        return nll_loss(log_probs, target, reduction=self.reduction, weight=self.weight,
                        ignore_index=self.ignore_index)
