"""The update rules: ``SGD``, ``Momentum``, ``RMSprop``, ``Adam``, ``AdamW``.

Notation as in the lectures: W a parameter, dW = dJ/dW its gradient, alpha the learning
rate ``lr``, t the number of steps this parameter has taken (from 1). Each ``_update``
changes W (``w``, the parameter's own array) and the moment estimates in place with
numpy's in-place operators; the gradient ``g`` is never written to (it may be shared).
The hyperparameters come from the parameter's group (see :mod:`.optimizer`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ..argcheck import check_real
from .optimizer import Optimizer

__all__ = ["SGD", "Adam", "AdamW", "Momentum", "RMSprop"]


def _check_bool(value: Any, name: str, op: str) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{op}: {name} must be True or False, got {value!r}")
    return bool(value)


def _check_beta(value: Any, name: str, op: str) -> float:
    return check_real(value, name, op, minimum=0.0, maximum=1.0, below_maximum=True)


class SGD(Optimizer):
    """Stochastic gradient descent, with PyTorch's definitions of momentum and weight decay.

    Plain (``momentum=0``): W := W - alpha dW. With ``weight_decay`` lambda the gradient
    is first g = dW + lambda W (an L2 term; ``weight_decay = lambda / m`` gives the lectures'
    J + (lambda / 2m) sum ||W[l]||^2, except that here biases are decayed too unless they are
    left out of ``params`` or put in a group with ``weight_decay=0``). With momentum mu and
    dampening d::

        B := g                        on the first step
        B := mu B + (1 - d) g         afterwards
        W := W - alpha B              (classic / heavy ball)
        W := W - alpha (g + mu B)     (Nesterov: look ahead along B)

    Note B sums gradients (no (1 - mu) factor), so the effective step is about
    alpha / (1 - mu); :class:`Momentum` is the lectures' averaged form.
    """

    _state_names = ("momentum_buffer",)

    def __init__(
        self, params: Any, lr: float, momentum: float = 0.0, nesterov: bool = False, weight_decay: float = 0.0,
        dampening: float = 0.0,
    ) -> None:
        super().__init__(
            params, lr=lr, momentum=momentum, dampening=dampening, nesterov=nesterov, weight_decay=weight_decay
        )

    @classmethod
    def _checked(cls, hyper: Mapping[str, Any], op: str) -> dict[str, Any]:
        out = super()._checked(hyper, op)
        out["momentum"] = check_real(hyper["momentum"], "momentum", op, minimum=0.0)
        out["dampening"] = check_real(hyper["dampening"], "dampening", op, minimum=0.0)
        out["weight_decay"] = check_real(hyper["weight_decay"], "weight_decay", op, minimum=0.0)
        out["nesterov"] = _check_bool(hyper["nesterov"], "nesterov", op)
        if out["nesterov"] and (out["momentum"] <= 0 or out["dampening"] != 0):
            raise ValueError(
                f"{op}: nesterov=True needs momentum > 0 and dampening = 0, got momentum={out['momentum']}, "
                f"dampening={out['dampening']}"
            )
        return out

    def _update(self, w: np.ndarray, g: np.ndarray, state: dict[str, Any], group: dict[str, Any]) -> None:
        if group["weight_decay"]:
            g = g + group["weight_decay"] * w
        mu = group["momentum"]
        if mu:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = np.array(g, copy=True)
            else:
                buf *= mu
                buf += (1.0 - group["dampening"]) * g
            g = g + mu * buf if group["nesterov"] else buf
        w -= group["lr"] * g


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

    _state_names = ("V",)

    def __init__(self, params: Any, lr: float, beta: float = 0.9) -> None:
        super().__init__(params, lr=lr, beta=beta)

    @classmethod
    def _checked(cls, hyper: Mapping[str, Any], op: str) -> dict[str, Any]:
        out = super()._checked(hyper, op)
        out["beta"] = _check_beta(hyper["beta"], "beta", op)
        return out

    def _update(self, w: np.ndarray, g: np.ndarray, state: dict[str, Any], group: dict[str, Any]) -> None:
        v = state.setdefault("V", np.zeros_like(w))
        v *= group["beta"]
        v += (1.0 - group["beta"]) * g
        w -= group["lr"] * v


class RMSprop(Optimizer):
    """RMSprop: divide each gradient component by a running root-mean-square of its size:

        S_dW := beta S_dW + (1 - beta) dW^2      (elementwise square; S starts at 0)
        W    := W - alpha dW / (sqrt(S_dW) + eps)

    Steep directions (large dW) get smaller steps, flat ones larger. Same definition as
    ``torch.optim.RMSprop`` (eps outside the square root) with its ``alpha`` named
    ``beta`` here; torch's default is 0.99, ours 0.9.
    """

    _state_names = ("S",)

    def __init__(self, params: Any, lr: float = 1e-2, beta: float = 0.9, eps: float = 1e-8) -> None:
        super().__init__(params, lr=lr, beta=beta, eps=eps)

    @classmethod
    def _checked(cls, hyper: Mapping[str, Any], op: str) -> dict[str, Any]:
        out = super()._checked(hyper, op)
        out["beta"] = _check_beta(hyper["beta"], "beta", op)
        out["eps"] = check_real(hyper["eps"], "eps", op, minimum=0.0)
        return out

    def _update(self, w: np.ndarray, g: np.ndarray, state: dict[str, Any], group: dict[str, Any]) -> None:
        s = state.setdefault("S", np.zeros_like(w))
        step = np.multiply(g, g)  # the one scratch array: (1 - beta) dW^2, then the step
        step *= 1.0 - group["beta"]
        s *= group["beta"]
        s += step
        np.sqrt(s, out=step)
        step += group["eps"]
        np.divide(g, step, out=step)
        step *= group["lr"]
        w -= step


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

    _state_names = ("step", "V", "S")

    def __init__(
        self, params: Any, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)

    @classmethod
    def _checked(cls, hyper: Mapping[str, Any], op: str) -> dict[str, Any]:
        out = super()._checked(hyper, op)
        betas = hyper["betas"]
        if isinstance(betas, (str, bytes)) or not isinstance(betas, (tuple, list, np.ndarray)):
            raise TypeError(f"{op}: betas must be a pair (beta1, beta2) such as (0.9, 0.999), got {betas!r}")
        if len(betas) != 2:
            raise ValueError(f"{op}: betas must be a pair (beta1, beta2) such as (0.9, 0.999), got {betas!r}")
        out["betas"] = (_check_beta(betas[0], "betas[0]", op), _check_beta(betas[1], "betas[1]", op))
        out["eps"] = check_real(hyper["eps"], "eps", op, minimum=0.0)
        out["weight_decay"] = check_real(hyper["weight_decay"], "weight_decay", op, minimum=0.0)
        return out

    def _adam_step(self, w: np.ndarray, g: np.ndarray, state: dict[str, Any], group: dict[str, Any]) -> None:
        beta1, beta2 = group["betas"]
        t = state["step"] = state.get("step", 0) + 1
        v = state.setdefault("V", np.zeros_like(w))
        s = state.setdefault("S", np.zeros_like(w))
        v *= beta1
        v += (1.0 - beta1) * g
        denominator = np.multiply(g, g)  # (1 - beta2) dW^2, then S^, then sqrt(S^) + eps: one array
        denominator *= 1.0 - beta2
        s *= beta2
        s += denominator
        np.divide(s, 1.0 - beta2**t, out=denominator)
        np.sqrt(denominator, out=denominator)
        denominator += group["eps"]
        step = v / (1.0 - beta1**t)  # V^, then the whole step
        step /= denominator
        step *= group["lr"]
        w -= step

    def _update(self, w: np.ndarray, g: np.ndarray, state: dict[str, Any], group: dict[str, Any]) -> None:
        if group["weight_decay"]:
            g = g + group["weight_decay"] * w
        self._adam_step(w, g, state, group)


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

    def _update(self, w: np.ndarray, g: np.ndarray, state: dict[str, Any], group: dict[str, Any]) -> None:
        w *= 1.0 - group["lr"] * group["weight_decay"]
        self._adam_step(w, g, state, group)
