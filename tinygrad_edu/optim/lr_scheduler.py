"""Learning-rate schedules (``tinygrad_edu.optim.lr_scheduler``, as ``torch.optim.lr_scheduler``).

A schedule sets every param group's ``"lr"`` from a closed form in the group's base rate
alpha_0 (its ``lr`` when the schedule was made) and the number of ``step()`` calls so far
(``last_epoch``). Call ``scheduler.step()`` once per epoch, after ``optimizer.step()``::

    opt = SGD(model.parameters(), lr=0.1)
    sched = lr_scheduler.StepLR(opt, step_size=30, gamma=0.1)
    for epoch in range(100):
        train_one_epoch(model, opt)
        sched.step()

=====================  =========================================================
StepLR                 alpha_e = alpha_0 * gamma ^ floor(e / step_size)
ExponentialLR          alpha_e = alpha_0 * gamma ^ e        (the lectures' 0.95^epoch decay)
CosineAnnealingLR      alpha_e = eta_min + (alpha_0 - eta_min) (1 + cos(pi e / T_max)) / 2
=====================  =========================================================

The rates equal ``torch.optim.lr_scheduler``'s classes of the same names (torch updates
the cosine recursively: equal up to rounding). ``get_last_lr()`` is a list, one rate per
group, as in PyTorch; ``step()`` also returns group 0's new rate (PyTorch returns None).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from ..argcheck import check_int, check_real
from .optimizer import Optimizer

__all__ = ["CosineAnnealingLR", "ExponentialLR", "LRScheduler", "StepLR"]


class LRScheduler:
    """Base of the schedules: ``step()`` advances ``last_epoch`` and sets each group's ``lr``."""

    def __init__(self, optimizer: Optimizer) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(self).__name__}: expected an Optimizer, got {type(optimizer)}")
        self.optimizer = optimizer
        #: alpha_0 of each param group
        self.base_lrs: list[float] = [group["lr"] for group in optimizer.param_groups]
        self.last_epoch = 0

    @property
    def base_lr(self) -> float:
        """alpha_0 of group 0 (the one-group shorthand)."""
        return self.base_lrs[0]

    def lr_at(self, epoch: int, base_lr: float | None = None) -> float:
        """The rate alpha_epoch after ``epoch`` calls of ``step()``, from ``base_lr`` (default: group 0's alpha_0)."""
        return self._rate(self.base_lr if base_lr is None else base_lr, epoch)

    def _rate(self, base_lr: float, epoch: int) -> float:
        raise NotImplementedError(f"{type(self).__name__} must define _rate(base_lr, epoch)")

    def _apply(self) -> None:
        for group, base in zip(self.optimizer.param_groups, self.base_lrs):
            group["lr"] = self._rate(base, self.last_epoch) if self.last_epoch else base

    def step(self) -> float:
        """Advance one epoch and set every group's rate; returns group 0's new rate."""
        self.last_epoch += 1
        self._apply()
        return self.optimizer.param_groups[0]["lr"]

    def get_last_lr(self) -> list[float]:
        """The rate of each param group now (a list, as PyTorch's)."""
        return [group["lr"] for group in self.optimizer.param_groups]

    def state_dict(self) -> dict[str, np.ndarray]:
        """``{"base_lrs": alpha_0 per group, "last_epoch": epoch}`` as arrays (savable with ``tinygrad_edu.save``)."""
        return {"base_lrs": np.array(self.base_lrs), "last_epoch": np.array(self.last_epoch)}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore :meth:`state_dict`'s output (checked) and set each group's rate to that epoch's."""
        op = f"{type(self).__name__}.load_state_dict"
        if not isinstance(state, Mapping):
            raise TypeError(f"{op}: expected a mapping of name -> array, got {type(state).__name__}")
        unexpected = sorted(set(state) - {"base_lrs", "base_lr", "last_epoch"})
        if unexpected or "last_epoch" not in state or not ({"base_lrs", "base_lr"} & set(state)):
            raise KeyError(f"{op}: expected the keys 'base_lrs' and 'last_epoch', got {sorted(state)}")
        bases = np.atleast_1d(np.asarray(state["base_lrs"] if "base_lrs" in state else state["base_lr"]))
        if bases.dtype.kind not in "iuf" or bases.shape != (len(self.optimizer.param_groups),):
            raise ValueError(
                f"{op}: base_lrs must hold one rate per param group ({len(self.optimizer.param_groups)}), got {bases!r}"
            )
        base_lrs = [check_real(b.item(), "base_lrs", op, minimum=0.0) for b in bases]
        epoch = np.asarray(state["last_epoch"])
        if epoch.ndim != 0 or epoch.dtype.kind not in "iu":
            raise TypeError(f"{op}: last_epoch must be one integer, got {state['last_epoch']!r}")
        self.base_lrs, self.last_epoch = base_lrs, check_int(epoch.item(), "last_epoch", op, minimum=0)
        self._apply()


class StepLR(LRScheduler):
    """alpha_epoch = alpha_0 * gamma ^ floor(epoch / step_size): divide by 1/gamma every step_size epochs."""

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1) -> None:
        super().__init__(optimizer)
        self.step_size = check_int(step_size, "step_size", "StepLR", minimum=1)
        self.gamma = check_real(gamma, "gamma", "StepLR", minimum=0.0)

    def _rate(self, base_lr: float, epoch: int) -> float:
        return base_lr * self.gamma ** (epoch // self.step_size)


class ExponentialLR(LRScheduler):
    """alpha_epoch = alpha_0 * gamma ^ epoch (the lectures' exponential decay, e.g. 0.95^epoch)."""

    def __init__(self, optimizer: Optimizer, gamma: float) -> None:
        super().__init__(optimizer)
        self.gamma = check_real(gamma, "gamma", "ExponentialLR", minimum=0.0)

    def _rate(self, base_lr: float, epoch: int) -> float:
        return base_lr * self.gamma**epoch


class CosineAnnealingLR(LRScheduler):
    """alpha_epoch = eta_min + (alpha_0 - eta_min) * (1 + cos(pi * epoch / T_max)) / 2.

    Falls from alpha_0 to eta_min over T_max epochs along half a cosine (and, as
    PyTorch's closed form, rises again after T_max: the cosine is periodic).
    """

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0) -> None:  # noqa: N803
        super().__init__(optimizer)
        self.T_max = check_int(T_max, "T_max", "CosineAnnealingLR", minimum=1)
        self.eta_min = check_real(eta_min, "eta_min", "CosineAnnealingLR", minimum=0.0)

    def _rate(self, base_lr: float, epoch: int) -> float:
        return self.eta_min + (base_lr - self.eta_min) * (1.0 + math.cos(math.pi * epoch / self.T_max)) / 2.0
