"""Optimisers, learning-rate schedules and gradient clipping.

An optimiser holds a list of parameters (``Tensor`` leaves with ``requires_grad=True``,
or scalar ``Value`` objects) and, on ``step()``, moves each one against its gradient.
The update is plain numpy arithmetic on ``p.data`` (in place, under ``no_grad``): it
is not part of any graph. Parameters whose ``grad`` is ``None`` (no backward pass
reached them) are skipped. Notation as in the lectures: W a parameter, dW = dJ/dW its
gradient, alpha the learning rate ``lr``, t the number of steps taken (from 1).

=========== ================================================================
SGD         W := W - alpha dW            (optionally momentum, Nesterov, decay)
Momentum    V := beta V + (1 - beta) dW;  W := W - alpha V   (the lectures' EMA)
RMSprop     S := beta S + (1 - beta) dW^2;  W := W - alpha dW / (sqrt(S) + eps)
Adam        V, S as above, bias-corrected by 1 - beta^t;  W := W - alpha V^ / (sqrt(S^) + eps)
AdamW       W := W - alpha lambda W, then the Adam step (decoupled weight decay)
=========== ================================================================

A training step::

    opt = SGD(model.parameters(), lr=0.1)
    opt.zero_grad()
    loss = loss_fn(model(x), y)
    loss.backward()
    opt.step()

Schedules (:class:`StepLR`, :class:`ExponentialLR`, :class:`CosineAnnealingLR`) set
``opt.lr`` from a closed form in the number of times their ``step()`` was called.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from .engine import no_grad
from .tensor_class import Tensor
from .value import Value

__all__ = [
    "SGD",
    "Adam",
    "AdamW",
    "CosineAnnealingLR",
    "ExponentialLR",
    "LRScheduler",
    "Momentum",
    "Optimizer",
    "RMSprop",
    "StepLR",
    "clip_grad_norm",
]


# ====================================================================== parameter access
# Tensors are updated in place (p.data[...] = new); a Value's float is replaced.


def _data(p: Any) -> np.ndarray:
    return p.data if isinstance(p, Tensor) else np.asarray(p.data, dtype=np.float64)


def _grad(p: Any) -> np.ndarray | None:
    g = p.grad
    if g is None:
        return None
    return g.data if isinstance(g, Tensor) else np.asarray(g, dtype=np.float64)


def _set_data(p: Any, new: np.ndarray) -> None:
    if isinstance(p, Tensor):
        p.data[...] = new
    else:
        p.data = float(new)


def _collect(params: Any, op: str) -> list[Any]:
    """A deduplicated list of parameters from a Module, a Tensor/Value or an iterable of them."""
    if hasattr(params, "parameters") and callable(params.parameters):
        params = params.parameters()
    if isinstance(params, (Tensor, Value)):
        params = [params]
    if isinstance(params, Mapping) or not isinstance(params, Iterable):
        raise TypeError(f"{op}: params must be an iterable of Tensors (e.g. model.parameters()), got {type(params)}")
    out, seen = [], set()
    for i, p in enumerate(params):
        if not isinstance(p, (Tensor, Value)):
            raise TypeError(f"{op}: parameter {i} is a {type(p).__name__}, expected a Tensor or Value")
        if not p.requires_grad:
            raise ValueError(
                f"{op}: parameter {i} (shape {getattr(p, 'shape', ())}) does not require grad, so it never gets a "
                "gradient; create it with requires_grad=True (nn.Parameter does this)"
            )
        if id(p) not in seen:
            seen.add(id(p))
            out.append(p)
    if not out:
        raise ValueError(f"{op}: got an empty parameter list")
    return out


def _check_nonneg(op: str, **values: float) -> None:
    for name, v in values.items():
        if not (isinstance(v, (int, float, np.floating, np.integer)) and math.isfinite(v) and v >= 0):
            raise ValueError(f"{op}: {name} must be a finite number >= 0, got {v!r}")


def _check_beta(op: str, name: str, beta: float) -> None:
    if not 0.0 <= beta < 1.0:
        raise ValueError(f"{op}: {name} must be in [0, 1), got {beta!r}")


# ====================================================================== base class


class Optimizer:
    """Base class: keeps ``params``, the learning rate ``lr`` and per-parameter ``state``.

    Subclasses list their hyperparameters in ``_hyper`` and implement
    ``_update(w, g, state) -> new data`` (w = the parameter's array, g = dW); :meth:`step` does the bookkeeping (skip
    ``grad is None``, check shapes, write the result in place).
    """

    _hyper: tuple[str, ...] = ("lr",)

    def __init__(self, params: Any, lr: float) -> None:
        name = type(self).__name__
        self.params: list[Any] = _collect(params, name)
        _check_nonneg(name, lr=lr)
        self.lr = float(lr)
        #: per-parameter state (moment estimates, step count), keyed by position in ``params``
        self.state: dict[int, dict[str, Any]] = {}

    def zero_grad(self) -> None:
        """Forget every parameter's gradient (``grad = None``) before the next backward pass."""
        for p in self.params:
            p.grad = None

    def step(self) -> None:
        """Apply one update to every parameter that has a gradient."""
        with no_grad():
            for i, p in enumerate(self.params):
                g = _grad(p)
                if g is None:
                    continue
                w = _data(p)
                if g.shape != w.shape:
                    raise ValueError(
                        f"{type(self).__name__}.step: parameter {i} has shape {w.shape} but its gradient has "
                        f"shape {g.shape}"
                    )
                _set_data(p, self._update(w, g, self.state.setdefault(i, {})))

    def _update(self, w: np.ndarray, g: np.ndarray, state: dict[str, Any]) -> np.ndarray:
        raise NotImplementedError

    # ------------------------------------------------------------------ saving

    def state_dict(self) -> dict[str, np.ndarray]:
        """Hyperparameters and per-parameter state as a flat ``{name: array}`` dict (copies).

        Keys: each hyperparameter (``"lr"``, ``"betas"``, ...) and ``"state.<i>.<name>"``
        for parameter i; so it can be saved with ``tinygrad_edu.save`` like a model's.
        """
        out: dict[str, np.ndarray] = {name: np.array(getattr(self, name)) for name in self._hyper}
        for i, st in sorted(self.state.items()):
            for key, value in st.items():
                out[f"state.{i}.{key}"] = np.array(value, copy=True)
        return out

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned (for the same parameter list)."""
        name = type(self).__name__
        missing = [h for h in self._hyper if h not in state]
        if missing:
            raise KeyError(f"{name}.load_state_dict: missing hyperparameters {missing}")
        new_state: dict[int, dict[str, Any]] = {}
        for key, value in state.items():
            if key in self._hyper:
                continue
            parts = key.split(".")
            if len(parts) != 3 or parts[0] != "state" or not parts[1].isdigit():
                raise KeyError(f"{name}.load_state_dict: unexpected key {key!r}")
            i = int(parts[1])
            if i >= len(self.params):
                raise ValueError(f"{name}.load_state_dict: state for parameter {i}, but there are {len(self.params)}")
            value = np.array(value, copy=True)
            if parts[2] == "step":
                value = int(value)
            elif value.shape != _data(self.params[i]).shape:
                raise ValueError(
                    f"{name}.load_state_dict: {key} has shape {value.shape} but parameter {i} has shape "
                    f"{_data(self.params[i]).shape}"
                )
            new_state.setdefault(i, {})[parts[2]] = value
        for h in self._hyper:
            v = np.asarray(state[h])
            setattr(self, h, bool(v) if v.dtype == bool else (tuple(float(x) for x in v) if v.ndim else float(v)))
        self.state = new_state

    def __repr__(self) -> str:
        hyper = ", ".join(f"{h}={getattr(self, h)!r}" for h in self._hyper)
        return f"{type(self).__name__}({len(self.params)} parameters, {hyper})"


# ====================================================================== optimisers


class SGD(Optimizer):
    """Stochastic gradient descent, with PyTorch's definitions of momentum and weight decay.

    Plain (``momentum=0``): W := W - alpha dW. With ``weight_decay`` lambda the gradient
    is first g = dW + lambda W (an L2 term; ``weight_decay = lambda / m`` gives the lectures'
    J + (lambda / 2m) sum ||W[l]||^2, except that here biases are decayed too unless they are
    left out of ``params``). With momentum mu and dampening d::

        B := g                        on the first step
        B := mu B + (1 - d) g         afterwards
        W := W - alpha B              (classic / heavy ball)
        W := W - alpha (g + mu B)     (Nesterov: look ahead along B)

    Note B sums gradients (no (1 - mu) factor), so the effective step is about
    alpha / (1 - mu); :class:`Momentum` is the lectures' averaged form.
    """

    _hyper = ("lr", "momentum", "dampening", "nesterov", "weight_decay")

    def __init__(
        self, params: Any, lr: float, momentum: float = 0.0, nesterov: bool = False, weight_decay: float = 0.0,
        dampening: float = 0.0,
    ) -> None:
        super().__init__(params, lr)
        _check_nonneg("SGD", momentum=momentum, weight_decay=weight_decay, dampening=dampening)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError(f"SGD: nesterov=True needs momentum > 0 and dampening = 0, got momentum={momentum}, "
                             f"dampening={dampening}")
        self.momentum, self.dampening = float(momentum), float(dampening)
        self.nesterov, self.weight_decay = bool(nesterov), float(weight_decay)

    def _update(self, w: np.ndarray, g: np.ndarray, state: dict[str, Any]) -> np.ndarray:
        if self.weight_decay:
            g = g + self.weight_decay * w
        if self.momentum:
            if "momentum_buffer" not in state:
                buf = np.array(g, copy=True)
            else:
                buf = self.momentum * state["momentum_buffer"] + (1.0 - self.dampening) * g
            state["momentum_buffer"] = buf
            g = g + self.momentum * buf if self.nesterov else buf
        return w - self.lr * g


class Momentum(Optimizer):
    """Gradient descent with momentum in the lectures' form (an exponentially weighted average):

        V_dW := beta V_dW + (1 - beta) dW,      V_dW starts at 0
        W    := W - alpha V_dW

    V_dW averages roughly the last 1/(1 - beta) gradients, so oscillating components
    cancel while a consistent direction keeps its full size. No bias correction (the
    first steps are smaller by a factor 1 - beta^t); that is :class:`Adam`'s addition.
    Same trajectory as ``SGD(lr=alpha (1 - beta), momentum=beta)``: with B = V / (1 - beta),
    B := beta B + dW, which is SGD's buffer (B = dW on the first step, since V starts at 0).
    """

    _hyper = ("lr", "beta")

    def __init__(self, params: Any, lr: float, beta: float = 0.9) -> None:
        super().__init__(params, lr)
        _check_beta("Momentum", "beta", beta)
        self.beta = float(beta)

    def _update(self, w: np.ndarray, g: np.ndarray, state: dict[str, Any]) -> np.ndarray:
        v = self.beta * state.get("V", np.zeros_like(w)) + (1.0 - self.beta) * g
        state["V"] = v
        return w - self.lr * v


class RMSprop(Optimizer):
    """RMSprop: divide each gradient component by a running root-mean-square of its size:

        S_dW := beta S_dW + (1 - beta) dW^2      (elementwise square; S starts at 0)
        W    := W - alpha dW / (sqrt(S_dW) + eps)

    Steep directions (large dW) get smaller steps, flat ones larger. Same definition as
    ``torch.optim.RMSprop`` (eps outside the square root) with its ``alpha`` named
    ``beta`` here; torch's default is 0.99, ours 0.9.
    """

    _hyper = ("lr", "beta", "eps")

    def __init__(self, params: Any, lr: float = 1e-2, beta: float = 0.9, eps: float = 1e-8) -> None:
        super().__init__(params, lr)
        _check_beta("RMSprop", "beta", beta)
        _check_nonneg("RMSprop", eps=eps)
        self.beta, self.eps = float(beta), float(eps)

    def _update(self, w: np.ndarray, g: np.ndarray, state: dict[str, Any]) -> np.ndarray:
        s = self.beta * state.get("S", np.zeros_like(w)) + (1.0 - self.beta) * g * g
        state["S"] = s
        return w - self.lr * g / (np.sqrt(s) + self.eps)


class Adam(Optimizer):
    """Adam: momentum (first moment V) plus RMSprop (second moment S), bias-corrected:

        V_dW := beta1 V_dW + (1 - beta1) dW          S_dW := beta2 S_dW + (1 - beta2) dW^2
        V^   := V_dW / (1 - beta1^t)                  S^   := S_dW / (1 - beta2^t)
        W    := W - alpha V^ / (sqrt(S^) + eps)

    t counts this parameter's updates from 1; the corrections undo the bias towards the
    zero start. ``weight_decay`` lambda (default 0) adds lambda W to dW first (L2, as
    ``torch.optim.Adam``); for decoupled decay use :class:`AdamW`. Same trajectory as
    ``torch.optim.Adam`` with the same arguments.
    """

    _hyper = ("lr", "betas", "eps", "weight_decay")

    def __init__(
        self, params: Any, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(params, lr)
        name = type(self).__name__
        if len(betas) != 2:
            raise ValueError(f"{name}: betas must be a pair (beta1, beta2), got {betas!r}")
        _check_beta(name, "betas[0]", betas[0])
        _check_beta(name, "betas[1]", betas[1])
        _check_nonneg(name, eps=eps, weight_decay=weight_decay)
        self.betas = (float(betas[0]), float(betas[1]))
        self.eps, self.weight_decay = float(eps), float(weight_decay)

    def _adam_step(self, w: np.ndarray, g: np.ndarray, state: dict[str, Any]) -> np.ndarray:
        beta1, beta2 = self.betas
        t = state.get("step", 0) + 1
        v = beta1 * state.get("V", np.zeros_like(w)) + (1.0 - beta1) * g
        s = beta2 * state.get("S", np.zeros_like(w)) + (1.0 - beta2) * g * g
        state.update(step=t, V=v, S=s)
        v_hat = v / (1.0 - beta1**t)
        s_hat = s / (1.0 - beta2**t)
        return w - self.lr * v_hat / (np.sqrt(s_hat) + self.eps)

    def _update(self, w: np.ndarray, g: np.ndarray, state: dict[str, Any]) -> np.ndarray:
        if self.weight_decay:
            g = g + self.weight_decay * w
        return self._adam_step(w, g, state)


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter):

        W := W - alpha lambda W          (shrink the weights, independently of the gradient)
        W := Adam step on dW             (as :class:`Adam`, with no L2 term in dW)

    With plain Adam an L2 term lambda W is divided by sqrt(S^) like the rest of the
    gradient, so weights with large gradients are barely decayed; AdamW decays all
    weights at the same rate. Default ``weight_decay=0.01`` and the same trajectory as
    ``torch.optim.AdamW``.
    """

    def __init__(
        self, params: Any, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
        weight_decay: float = 1e-2,
    ) -> None:
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)

    def _update(self, w: np.ndarray, g: np.ndarray, state: dict[str, Any]) -> np.ndarray:
        return self._adam_step(w * (1.0 - self.lr * self.weight_decay), g, state)


# ====================================================================== learning-rate schedules


class LRScheduler:
    """Base of the schedules: ``step()`` advances the epoch counter and sets ``optimizer.lr``.

    The learning rate is a closed form ``lr_at(epoch)`` of the base rate alpha_0
    (``optimizer.lr`` when the schedule was made) and the number of ``step()`` calls so
    far (``last_epoch``). Call ``scheduler.step()`` once per epoch, after ``optimizer.step()``.
    The rates equal ``torch.optim.lr_scheduler``'s classes of the same names; unlike
    PyTorch, ``step()`` returns the new rate and ``get_last_lr()`` is a float, not a list.
    """

    def __init__(self, optimizer: Optimizer) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(self).__name__}: expected an Optimizer, got {type(optimizer)}")
        self.optimizer = optimizer
        self.base_lr = optimizer.lr
        self.last_epoch = 0

    def lr_at(self, epoch: int) -> float:
        """The learning rate alpha_epoch after ``epoch`` calls of ``step()`` (subclasses define it)."""
        raise NotImplementedError

    def step(self) -> float:
        """Advance one epoch; returns the new learning rate."""
        self.last_epoch += 1
        self.optimizer.lr = self.lr_at(self.last_epoch)
        return self.optimizer.lr

    def get_last_lr(self) -> float:
        """The learning rate the optimiser uses now."""
        return self.optimizer.lr

    def state_dict(self) -> dict[str, np.ndarray]:
        """``{"base_lr": alpha_0, "last_epoch": epoch}`` as arrays (savable with ``tinygrad_edu.save``)."""
        return {"base_lr": np.array(self.base_lr), "last_epoch": np.array(self.last_epoch)}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore :meth:`state_dict`'s output and set ``optimizer.lr`` to the rate of that epoch."""
        self.base_lr, self.last_epoch = float(state["base_lr"]), int(state["last_epoch"])
        self.optimizer.lr = self.lr_at(self.last_epoch) if self.last_epoch else self.base_lr


class StepLR(LRScheduler):
    """alpha_epoch = alpha_0 * gamma ^ floor(epoch / step_size): divide by 1/gamma every step_size epochs."""

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1) -> None:
        super().__init__(optimizer)
        if int(step_size) != step_size or step_size < 1:
            raise ValueError(f"StepLR: step_size must be a positive integer, got {step_size!r}")
        _check_nonneg("StepLR", gamma=gamma)
        self.step_size, self.gamma = int(step_size), float(gamma)

    def lr_at(self, epoch: int) -> float:
        return self.base_lr * self.gamma ** (epoch // self.step_size)


class ExponentialLR(LRScheduler):
    """alpha_epoch = alpha_0 * gamma ^ epoch (the lectures' exponential decay, e.g. 0.95^epoch)."""

    def __init__(self, optimizer: Optimizer, gamma: float) -> None:
        super().__init__(optimizer)
        _check_nonneg("ExponentialLR", gamma=gamma)
        self.gamma = float(gamma)

    def lr_at(self, epoch: int) -> float:
        return self.base_lr * self.gamma**epoch


class CosineAnnealingLR(LRScheduler):
    """alpha_epoch = eta_min + (alpha_0 - eta_min) * (1 + cos(pi * epoch / T_max)) / 2.

    Falls from alpha_0 to eta_min over T_max epochs along half a cosine (and, as
    PyTorch's closed form, rises again after T_max: the cosine is periodic).
    """

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0) -> None:  # noqa: N803
        super().__init__(optimizer)
        if T_max <= 0:
            raise ValueError(f"CosineAnnealingLR: T_max must be positive, got {T_max!r}")
        _check_nonneg("CosineAnnealingLR", eta_min=eta_min)
        self.T_max, self.eta_min = T_max, float(eta_min)

    def lr_at(self, epoch: int) -> float:
        return self.eta_min + (self.base_lr - self.eta_min) * (1.0 + math.cos(math.pi * epoch / self.T_max)) / 2.0


# ====================================================================== gradient clipping


def clip_grad_norm(params: Any, max_norm: float) -> float:
    """Rescale all gradients together so that their global L2 norm is at most ``max_norm``.

        norm = sqrt( sum_p sum_ij (dW_p)_ij^2 )          (over every parameter p with a gradient)
        if norm > max_norm:   dW_p := dW_p * max_norm / (norm + 1e-6)

    The direction of the full gradient is kept; only its length shrinks. Returns the
    norm *before* clipping (a float; ``inf`` or ``nan`` if a gradient is). Each ``grad``
    is replaced by a new tensor, never scaled in place: two parameters may share one
    gradient array (e.g. both inputs of an addition), which in-place scaling would
    shrink twice. Same numbers as PyTorch's ``torch.nn.utils.clip_grad_norm_`` (L2 norm,
    the same 1e-6), which scales in place and returns a tensor.
    Call it between ``loss.backward()`` and ``optimizer.step()``.
    """
    if not (max_norm > 0):
        raise ValueError(f"clip_grad_norm: max_norm must be positive, got {max_norm!r}")
    plist = _collect(params, "clip_grad_norm")
    grads = [(p, _grad(p)) for p in plist]
    grads = [(p, g) for p, g in grads if g is not None]
    if not grads:
        return 0.0
    total = math.sqrt(sum(float(np.sum(np.square(g, dtype=np.float64))) for _, g in grads))
    coef = max_norm / (total + 1e-6)
    if coef < 1.0:
        for p, g in grads:
            scaled = g * coef
            p.grad = Tensor(scaled.astype(g.dtype, copy=False)) if isinstance(p, Tensor) else float(scaled)
    return total
