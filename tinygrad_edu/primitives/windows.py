"""Window primitives: convolution and pooling.

A kH x kW window slid with stride s over an (N, C, H, W) image visits, for kernel offset
(u, v), the strided slice x[:, :, u::s, v::s] (cut to H' x W' positions). Every primitive
here is kH*kW such slices -- no 6-d views, no integer-array gathers. They come in
transposed pairs (gather / scatter), each the other's VJP, so every order of derivative
exists; ``max_pool2d``'s VJP is a scatter weighted by where the maxima were. The
backward-only :class:`MaxPool2dGrad` (see :mod:`~tinygrad_edu.primitives.backward_only`)
lives here too, beside the window helpers it shares with max pooling.
"""

from __future__ import annotations

import numpy as np

from ..engine import is_grad_enabled
from .backward_only import _BackwardOnly
from .base import Primitive, _errstate

__all__ = [
    "Im2col",
    "Col2im",
    "WindowSum",
    "AvgPool2d",
    "WindowScatter",
    "MaxPool2d",
    "MaxPoolWeights",
    "MaxPool2dGrad",
]


def _window(u: int, v: int, stride: tuple[int, int], out_hw: tuple[int, int]) -> tuple[slice, ...]:
    """The index of kernel offset (u, v): x[:, :, u + s*i, v + s*j] for i < H', j < W'."""
    (sh, sw), (oh, ow) = stride, out_hw
    return (slice(None), slice(None), slice(u, u + sh * (oh - 1) + 1, sh), slice(v, v + sw * (ow - 1) + 1, sw))


def _out_hw(shape: tuple[int, ...], kernel: tuple[int, int], stride: tuple[int, int]) -> tuple[int, int]:
    return (shape[2] - kernel[0]) // stride[0] + 1, (shape[3] - kernel[1]) // stride[1] + 1


class Im2col(Primitive):
    """cols[c, u, v, n, i, j] = x[n, c, s*i + u, s*j + v]: every kH x kW patch of x as a column.

    Reshaped to (C*kH*kW, N*H'*W'), one matrix product W_flat @ cols is the whole
    convolution. Linear in x, so the VJP is the transposed map :class:`Col2im`
    (each patch's gradient added back where the patch came from; overlaps accumulate).
    """

    name = "im2col"

    @staticmethod
    def forward(x, kernel, stride):
        (kh, kw), (sh, sw) = kernel, stride
        n, c = x.shape[:2]
        oh, ow = _out_hw(x.shape, kernel, stride)
        sn, sc, s_h, s_w = x.strides
        patches = np.lib.stride_tricks.as_strided(
            x, (c, kh, kw, n, oh, ow), (sc, s_h, s_w, sn, s_h * sh, s_w * sw), writeable=False
        )
        return np.ascontiguousarray(patches)  # one copy, in the layout the matmul wants

    @staticmethod
    def forward_into(out, x, kernel, stride):
        """``forward`` written into ``out`` (what ``tg.jit`` replays)."""
        sh, sw = stride
        sn, sc, s_h, s_w = x.strides
        np.copyto(out, np.lib.stride_tricks.as_strided(x, out.shape, (sc, s_h, s_w, sn, s_h * sh, s_w * sw)))

    @staticmethod
    def backward(g, out, x, kernel, stride):
        return (g._apply(Col2im, g, kernel=kernel, stride=stride, shape=x.shape),)


class Col2im(Primitive):
    """x[n, c, s*i + u, s*j + v] += cols[c, u, v, n, i, j]: patches added back into an image of ``shape``.

    The transpose of :class:`Im2col` (and Im2col is its VJP).
    """

    name = "col2im"

    @staticmethod
    def forward(cols, kernel, stride, shape):
        z = np.zeros(shape, dtype=cols.dtype)
        out_hw = cols.shape[4:]
        for u in range(kernel[0]):
            for v in range(kernel[1]):
                z[_window(u, v, stride, out_hw)] += cols[:, u, v].transpose(1, 0, 2, 3)
        return z

    @staticmethod
    def backward(g, out, cols, kernel, stride, shape):
        return (g._apply(Im2col, g, kernel=kernel, stride=stride),)


class WindowSum(Primitive):
    """z[n, c, i, j] = sum_{u, v} w_uv * x[n, c, s*i + u, s*j + v];  dL/dx = :class:`WindowScatter` of g.

    ``weights`` is one number (1/(kH*kW) gives the average pool) or an array of shape
    (kH*kW, N, C, H', W') (one weight per offset and output: the VJP of the VJP of max pooling).
    """

    name = "window_sum"

    @staticmethod
    def forward(x, kernel, stride, weights):
        out_hw = _out_hw(x.shape, kernel, stride)
        z = None
        for k, (u, v) in enumerate(np.ndindex(*kernel)):
            term = x[_window(u, v, stride, out_hw)] * (weights if np.ndim(weights) == 0 else weights[k])
            if z is None:
                z = term
            else:
                z += term
        return z

    @staticmethod
    def backward(g, out, x, kernel, stride, weights):
        return (g._apply(WindowScatter, g, kernel=kernel, stride=stride, weights=weights, shape=x.shape),)


class AvgPool2d(WindowSum):
    """z[n, c, i, j] = (1/(kH*kW)) sum_{u, v} x[n, c, s*i + u, s*j + v];  each input gets g/(kH*kW) per window."""

    name = "avg_pool2d"


class WindowScatter(Primitive):
    """z = zeros(shape) with z[n, c, s*i + u, s*j + v] += w_uv * g[n, c, i, j]: the transpose of :class:`WindowSum`."""

    name = "window_scatter"

    @staticmethod
    def forward(g, kernel, stride, weights, shape):
        z = np.zeros(shape, dtype=g.dtype)
        out_hw = g.shape[2:]
        for k, (u, v) in enumerate(np.ndindex(*kernel)):
            z[_window(u, v, stride, out_hw)] += g * (weights if np.ndim(weights) == 0 else weights[k])
        return z

    @staticmethod
    def backward(g, out, x, kernel, stride, weights, shape):
        return (g._apply(WindowSum, g, kernel=kernel, stride=stride, weights=weights),)


class MaxPool2d(Primitive):
    """z[n, c, i, j] = max_{u, v} x_pad[n, c, s*i + u, s*j + v] (padding is -inf);  dL/dx = g at the maximum.

    Tied maxima share the gradient evenly (as ``max``). The VJP is a :class:`WindowScatter`
    of g weighted by w_uv = [x at (u, v) is the maximum] / (number of maxima), so it has
    derivatives of every order too (w is constant almost everywhere).
    """

    name = "max_pool2d"

    @staticmethod
    def forward(x, kernel, stride, padding):
        xp = _pad_minus_inf(x, padding)
        out_hw = _out_hw(xp.shape, kernel, stride)
        z = None
        for u, v in np.ndindex(*kernel):
            window = xp[_window(u, v, stride, out_hw)]
            z = window.copy() if z is None else np.maximum(z, window, out=z)
        return z

    @staticmethod
    def backward(g, out, x, kernel, stride, padding):
        if not is_grad_enabled():  # backward not recorded: one primitive, no weight array
            grad = g._apply(MaxPool2dGrad, g, x.detach(), out.detach(), kernel=kernel, stride=stride, padding=padding)
            return (grad,)
        # the weights are a constant made by a primitive (not by numpy here), so that
        # tg.jit's trace recomputes them on every replay
        weights = x._apply(MaxPoolWeights, x.detach(), out.detach(), kernel=kernel, stride=stride, padding=padding)
        xp_shape = x.shape[:2] + tuple(n + 2 * p for n, p in zip(x.shape[2:], padding))
        dx = g._apply(WindowScatter, g, kernel=kernel, stride=stride, weights=weights.data, shape=xp_shape)
        (ph, pw), (h, w) = padding, x.shape[2:]
        if ph or pw:
            dx = dx[:, :, ph : ph + h, pw : pw + w]
        return (dx,)


class MaxPoolWeights(Primitive):
    """w[u*kW + v, n, c, i, j] = [x_pad at offset (u, v) is the window's maximum z] / (number of maxima).

    A constant (the derivative of an indicator is 0 almost everywhere): how :class:`MaxPool2d`'s
    VJP shares g within each window.
    """

    name = "max_pool_weights"

    @staticmethod
    def forward(x, out, kernel, stride, padding):
        xp = _pad_minus_inf(x, padding)
        out_hw = out.shape[2:]
        is_max = np.stack([xp[_window(u, v, stride, out_hw)] == out for u, v in np.ndindex(*kernel)])
        with _errstate():  # a window of NaN has no maximum: 0/0 = nan weights, as max
            return (is_max / is_max.sum(axis=0)).astype(x.dtype)

    @staticmethod
    def backward(g, out, x, z, kernel, stride, padding):
        return None, None


def _pad_minus_inf(x: np.ndarray, padding: tuple[int, int]) -> np.ndarray:
    """x with ``padding`` rows/columns of -inf around the last two axes (padding never wins a max)."""
    ph, pw = padding
    if ph == pw == 0:
        return x
    return np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=-np.inf)


class MaxPool2dGrad(_BackwardOnly):
    """dL/dx of :class:`MaxPool2d`: each window's g to its maximum, split evenly between tied maxima."""

    name = "max_pool2d_grad"

    @staticmethod
    def forward(g, x, out, kernel, stride, padding):
        xp = _pad_minus_inf(x, padding)
        dx = np.zeros(xp.shape, dtype=g.dtype)
        MaxPool2dGrad._scatter(dx, xp, g, out, kernel, stride)
        return MaxPool2dGrad._crop(dx, x.shape, padding)

    @staticmethod
    def forward_into(result, g, x, out, kernel, stride, padding):
        if padding != (0, 0):  # (the padded gradient is an extra array: not worth a special case)
            np.copyto(result, MaxPool2dGrad.forward(g, x, out, kernel, stride, padding))
            return
        result.fill(0.0)
        MaxPool2dGrad._scatter(result, x, g, out, kernel, stride)

    @staticmethod
    def _scatter(dx, xp, g, out, kernel, stride):
        out_hw = out.shape[2:]
        windows = [_window(u, v, stride, out_hw) for u, v in np.ndindex(*kernel)]
        is_max = [xp[w] == out for w in windows]
        count = sum(is_max)  # how many maxima share each window's gradient
        with _errstate():  # a window of NaN has no maximum: 0/0 = nan, as max
            share = g / count
        disjoint = stride[0] >= kernel[0] and stride[1] >= kernel[1]
        for w, mask in zip(windows, is_max):
            if disjoint:  # each input in at most one window: write, no read-modify-write
                np.multiply(mask, share, out=dx[w])
            else:
                dx[w] += mask * share

    @staticmethod
    def _crop(dx, shape, padding):
        (ph, pw), (h, w) = padding, shape[2:]
        return dx[:, :, ph : ph + h, pw : pw + w] if ph or pw else dx
