"""Optimisers, learning-rate schedules and gradient clipping (``torch.optim``'s layout).

An optimiser holds parameters (``Tensor`` leaves with ``requires_grad=True``, or scalar
``Value`` objects) in ``param_groups`` and, on ``step()``, moves each one against its
gradient with its group's hyperparameters. The update is numpy arithmetic on ``p.data``
in place (under ``no_grad``): it is not part of any graph. Parameters whose ``grad`` is
``None`` (no backward pass reached them) are skipped. Notation as in the lectures: W a
parameter, dW = dJ/dW its gradient, alpha the learning rate ``lr``, t the number of steps
taken (from 1).

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

* :mod:`.optimizer`: the ``Optimizer`` base (param groups, ``zero_grad``, state dicts);
* :mod:`.algorithms`: the update rules above;
* :mod:`.lr_scheduler`: ``StepLR``, ``ExponentialLR``, ``CosineAnnealingLR`` (also importable
  from here, their original home);
* :mod:`.clip`: ``clip_grad_norm``.
"""

from . import lr_scheduler as lr_scheduler  # optim.lr_scheduler.StepLR, as torch.optim.lr_scheduler
from .algorithms import SGD, Adam, AdamW, Momentum, RMSprop
from .clip import clip_grad_norm
from .lr_scheduler import CosineAnnealingLR, ExponentialLR, LRScheduler, StepLR
from .optimizer import Optimizer

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
