"""Fused layer primitives: linear, softmax cross-entropy and squared error.

Three primitives that could be composed from the others but are fused for speed, because
every training step runs them: the layer's affine map, the output layer's softmax
cross-entropy and the mean squared error. Each fuses what the lectures derive by hand as one
formula, so the graph shows one readable node instead of five to eight, and the VJP is the
lectures' closed form. The composed versions stay as references (``x @ W.T + b``,
``nll_loss(z.log_softmax(axis=1), y)`` and ``((y_hat - y) * (y_hat - y)).sum() * (1/m)``) and
the tests check both give the same values and gradients, to first and second order.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..engine import is_grad_enabled
from .backward_only import LinearWeightGrad, SquaredErrorGrad
from .base import Primitive, _errstate

__all__ = ["Linear", "SoftmaxCrossEntropy", "SoftmaxCrossEntropyGrad", "SquaredError"]


class Linear(Primitive):
    """Z = X W^T + b;  dL/dX = G W, dL/dW = G^T X, dL/db = sum of G over the rows.

    X: a batch of shape (m, n[l-1]), W: (n[l], n[l-1]), b: (n[l],) or no b. The lectures'
    Z[l] = W[l] A[l-1] + b[l], batch first (rows are examples). With G = dJ/dZ:

        dX = G W,   dW = G^T X  (the lectures' dW[l] = (1/m) dZ[l] A[l-1]^T),   db = sum_i G_i.

    dW comes out C-contiguous in W's own layout (the composed ``x @ W.T`` gives the
    transpose of a contiguous array, which every optimiser update then reads across strides).
    """

    name = "linear"

    @staticmethod
    def forward(x, w, b=None):
        z = x @ w.T
        if b is not None:
            z += b  # z is a fresh array: add the bias in place
        return z

    @staticmethod
    def backward(g, out, x, w, b=None):
        dx = g @ w if x.requires_grad else None
        if not w.requires_grad:
            dw = None
        elif is_grad_enabled():
            dw = g.mT @ x
        else:  # backward not recorded: G^T X in one primitive (no permute node)
            dw = g._apply(LinearWeightGrad, g, x)
        db = g.sum(axis=0) if b is not None and b.requires_grad else None
        return dx, dw, db


def _log_softmax_rows(z: np.ndarray) -> np.ndarray:
    """log softmax of each row, stably: z - max - log(sum(e^(z - max))) (e^ never overflows)."""
    with _errstate():  # e^ of very negative values underflows to 0 (right); a row of -inf gives nan
        shifted = z - z.max(axis=1, keepdims=True)
        shifted -= np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return shifted


class SoftmaxCrossEntropy(Primitive):
    """L_i = -sum_k Y_ik log softmax(Z_i)_k;  dL/dZ = A - Y (the lectures' dZ[L] = A[L] - Y).

    Output: J = scale * sum_i L_i, or the per-example L_i when ``scale`` is None. Logits Z
    have shape (N, C), and

        A = softmax(Z) (rows),   L^(i) = -sum_k Y_ik log A_ik.

    The target is either integer ``labels`` (a constant (N,) array, Y their one-hot rows) or a
    second input Y of shape (N, C) (one-hot or probability rows). ``scale`` is 1/N for the
    mean, 1 for the sum. The VJP is the lectures' output-layer formula

        dZ[L] = A[L] - Y   (times g * scale; for a Y row not summing to 1: A * sum_k Y_k - Y),

    and dL/dY = -g * scale * log A. Written in Tensor ops (A recomputed as ``z.softmax``) so
    ``create_graph=True`` differentiates it again.
    """

    name = "softmax_cross_entropy"

    @staticmethod
    def forward(z, y=None, labels=None, scale=None):
        log_a = _log_softmax_rows(z)
        if labels is not None:
            losses = -log_a[np.arange(len(labels)), labels]
        else:
            losses = -(y * log_a).sum(axis=1)
        if scale is None:
            return losses
        return np.asarray(losses.sum() * scale, dtype=z.dtype)

    @staticmethod
    def backward(g, out, z, y=None, labels=None, scale=None):
        from ..tensor_class import Tensor  # (tensor_class imports this module)

        dz = dy = None
        if z.requires_grad and not is_grad_enabled():  # backward not recorded: one numpy pass
            extra = (g,) if y is None else (g, y)
            dz = z._apply(SoftmaxCrossEntropyGrad, z, *extra, labels=labels, scale=scale)
        elif z.requires_grad:  # create_graph: the same formula in Tensor ops, differentiable again
            rows = g.reshape(-1, 1) if scale is None else g * scale  # dJ/dL^(i): (N, 1) or a scalar
            a = z.softmax(axis=1)
            if labels is not None:
                dz = (a - Tensor(_one_hot(labels, z.shape, z.dtype))) * rows  # dZ[L] = A[L] - Y
            else:
                dz = (a * y.sum(axis=1, keepdims=True) - y) * rows
        if y is not None and y.requires_grad:
            rows = g.reshape(-1, 1) if scale is None else g * scale
            dy = -(z.log_softmax(axis=1) * rows)
        return dz, dy


def _one_hot(labels: np.ndarray, shape: tuple[int, ...], dtype: Any) -> np.ndarray:
    """The (N, C) rows with a 1 at each example's label."""
    y = np.zeros(shape, dtype=dtype)
    y[np.arange(len(labels)), labels] = 1.0
    return y


class SoftmaxCrossEntropyGrad(Primitive):
    """dJ/dZ = (A * sum_k Y_k - Y) * g * scale with A = softmax(Z): :class:`SoftmaxCrossEntropy`'s VJP
    as one numpy pass (A - Y for one-hot or probability rows), used when backward is not
    recorded. Its own derivative is never needed: with ``create_graph=True`` the VJP uses
    Tensor ops instead.
    """

    name = "softmax_cross_entropy_grad"

    @staticmethod
    def forward(z, g, y=None, labels=None, scale=None):
        with _errstate():  # e^(very negative) underflows to 0: the right limit
            a = np.exp(_log_softmax_rows(z))
        if labels is not None:
            a[np.arange(len(labels)), labels] -= 1.0  # A - Y for one-hot Y
        else:
            a *= y.sum(axis=1, keepdims=True)
            a -= y
        a *= g.reshape(-1, 1) if scale is None else g * scale
        return a

    @staticmethod
    def backward(g, out, z, grad, y=None, labels=None, scale=None):
        raise NotImplementedError(
            "softmax_cross_entropy_grad has no derivative of its own; differentiate the loss with "
            "backward(create_graph=True), which records the VJP in Tensor ops"
        )


class SquaredError(Primitive):
    """J = scale sum_i (y_hat_i - y_i)^2;  dJ/dy_hat = 2 scale (y_hat - y), dJ/dy = -dJ/dy_hat.

    With scale = 1/m this is the lectures' MSE and its gradient (2/m)(y_hat - y); with
    ``scale`` None the output is the elementwise squares. The composed reference is
    ``((y_hat - y) * (y_hat - y)).sum() * (1/m)``.
    """

    name = "mse_loss"

    @staticmethod
    def forward(pred, target, scale=None):
        diff = pred - target
        squares = diff * diff
        if scale is None:
            return squares
        return np.asarray(squares.sum() * scale, dtype=squares.dtype)

    @staticmethod
    def backward(g, out, pred, target, scale=None):
        if not is_grad_enabled():  # backward not recorded: one numpy pass
            dpred = g._apply(SquaredErrorGrad, g, pred, target, scale=scale)
        else:
            dpred = (pred - target) * ((g if scale is None else g * scale) * 2.0)
        return (dpred if pred.requires_grad else None), (-dpred if target.requires_grad else None)
