"""Gradient clipping: ``clip_grad_norm`` (PyTorch's ``torch.nn.utils.clip_grad_norm_``)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..argcheck import check_real
from ..tensor_class import Tensor
from .optimizer import _collect, _grad

__all__ = ["clip_grad_norm"]


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
    if not (check_real(max_norm, "max_norm", "clip_grad_norm", allow_inf=True) > 0):
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
