"""The matrix product primitive: Z = X @ Y over the last two axes.

Its VJP is two more products (dL/dX = G @ Y^T, dL/dY = X^T @ G), arranged so a transposed
operand such as ``W.T`` gets its gradient in its own memory layout.
"""

from __future__ import annotations

import numpy as np

from .base import Primitive

__all__ = ["MatMul"]


class MatMul(Primitive):
    """Z = X @ Y over the last two axes (equal batch axes);  dL/dX = G @ Y^T, dL/dY = X^T @ G.

    Here ^T swaps the last two axes. For one layer Z = W A + b of the lectures this is
    dW = G A^T and dA = W^T G with G = dJ/dZ. J is the mean over the m examples, so
    G = (1/m) dZ already holds the lectures' 1/m: G A^T is their dW = (1/m) dZ A^T.
    """

    name = "matmul"
    saves = ((1, 0), (0, 1))  # Y for dL/dX, X for dL/dY (as PyTorch: X @ W with a constant X saves X only)

    @staticmethod
    def forward(x, y):
        return np.matmul(x, y)

    @staticmethod
    def backward(g, out, x, y):
        # Layout: an operand that is a transposed view (``x @ W.T``: W.T is W's memory read
        # across) gets its gradient as the transpose of a contiguous product, so
        # that the permute's VJP hands W a C-contiguous dW in W's own layout. Same numbers.
        if x.requires_grad:
            dx = (y @ g.mT).mT if _is_transposed(x.data) else g @ y.mT
        else:
            dx = None
        if y.requires_grad:
            dy = (g.mT @ x).mT if _is_transposed(y.data) else x.mT @ g
        else:
            dy = None
        return dx, dy


def _is_transposed(a: np.ndarray) -> bool:
    """Whether ``a`` is the transpose (last two axes swapped) of a C-contiguous array, and not contiguous itself."""
    return a.ndim >= 2 and not a.flags.c_contiguous and a.swapaxes(-1, -2).flags.c_contiguous
