"""Backward-only primitives: a VJP as one numpy pass.

Used by VJPs when the backward pass is not recorded (no create_graph): one numpy pass
instead of several Tensor ops. With create_graph the VJPs use Tensor ops instead, so
these never need a derivative of their own. ``forward_into`` writes into a given array
(what ``tg.jit`` replays). (``MaxPool2dGrad`` is in :mod:`~tinygrad_edu.primitives.windows`,
beside the window helpers it uses; ``SoftmaxCrossEntropyGrad`` is in
:mod:`~tinygrad_edu.primitives.fused`, beside its loss.)
"""

from __future__ import annotations

import numpy as np

from .base import Primitive

__all__ = ["ReluGrad", "TanhGrad", "SigmoidGrad", "LinearWeightGrad", "SquaredErrorGrad"]


class _BackwardOnly(Primitive):
    @staticmethod
    def backward(g, out, *inputs, **params):
        raise NotImplementedError(
            "a backward-only primitive has no derivative of its own; differentiate through "
            "backward(create_graph=True), which records the VJP in Tensor ops"
        )


class ReluGrad(_BackwardOnly):
    """dL/dz = g * [z > 0]: :class:`Relu`'s VJP (relu'(0) = 0), the mask never stored as floats."""

    name = "relu_grad"

    @staticmethod
    def forward(g, x):
        return np.multiply(g, x > 0)

    @staticmethod
    def forward_into(out, g, x):
        np.multiply(g, x > 0, out=out)


class TanhGrad(_BackwardOnly):
    """dL/dz = g (1 - a^2) with a = tanh(z): :class:`Tanh`'s VJP (the same three numpy ops, one node)."""

    name = "tanh_grad"

    @staticmethod
    def forward(g, a):
        return g * (1.0 - a * a)

    @staticmethod
    def forward_into(out, g, a):
        np.multiply(a, a, out=out)
        np.subtract(1.0, out, out=out)
        np.multiply(g, out, out=out)


class SigmoidGrad(_BackwardOnly):
    """dL/dz = g a (1 - a) with a = sigma(z): :class:`Sigmoid`'s VJP (the same numpy ops, one node)."""

    name = "sigmoid_grad"

    @staticmethod
    def forward(g, a):
        return g * a * (1.0 - a)

    @staticmethod
    def forward_into(out, g, a):
        np.multiply(g, a, out=out)
        np.multiply(out, 1.0 - a, out=out)


class LinearWeightGrad(_BackwardOnly):
    """dL/dW = G^T X: :class:`Linear`'s weight gradient, C-contiguous in W's layout."""

    name = "linear_weight_grad"

    @staticmethod
    def forward(g, x):
        return g.T @ x

    @staticmethod
    def forward_into(out, g, x):
        np.matmul(g.T, x, out=out)


class SquaredErrorGrad(_BackwardOnly):
    """dJ/dy_hat = (y_hat - y) * (2 g scale): :class:`SquaredError`'s VJP in one node."""

    name = "mse_loss_grad"

    @staticmethod
    def forward(g, pred, target, scale=None):
        return (pred - target) * ((g if scale is None else g * scale) * 2.0)

    @staticmethod
    def forward_into(out, g, pred, target, scale=None):
        np.subtract(pred, target, out=out)
        np.multiply(out, (g if scale is None else g * scale) * 2.0, out=out)
