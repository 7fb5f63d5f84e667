"""Convolution and pooling: ``Conv2d``, ``MaxPool2d``, ``AvgPool2d`` (and functional forms).

Images are batches of shape (N, C, H, W). A convolution slides one small kernel over
every position of the image: the units of the output map all *share the same weights*
(the lectures' parameter sharing), so a 3x3 kernel on C channels has only 9*C weights
however large the image. For output channel o and position (i, j), with stride s and
zero padding p (x padded first):

    z[n, o, i, j] = b[o] + sum_{c, u, v} W[o, c, u, v] * x_pad[n, c, s*i + u, s*j + v]

Output size: H' = floor((H + 2p - kH) / s) + 1 (and likewise W').

How it is computed (three methods, equal values and gradients, tested on random shapes):

* ``method="im2col"`` (the default, ``"auto"``): the ``im2col`` primitive copies every
  kH x kW patch into a column -- kH*kW strided slices of x_pad, one copy, in the layout
  (C*kH*kW, N*H'*W') -- and the whole convolution is one matrix product W_flat @ cols.
  Its VJP is ``col2im``, which adds each patch's gradient back where the patch came from
  (overlapping patches accumulate); the two are each other's VJP, so every order of
  derivative exists. dW = dZ cols^T comes from the matmul's VJP.
* ``method="shifted"``: for each of the kH*kW kernel offsets (u, v), take the strided
  slice x_pad[:, :, u::s, v::s] and add W[:, :, u, v] @ slice. kH*kW small matrix
  products, all composed Tensor ops.
* ``method="gather"``: the reference; every patch gathered by one integer-array index
  (``getitem``, whose VJP scatter-adds), then one matmul. Composed Tensor ops only.

Measured with ``benchmarks/bench_conv.py`` (forward + backward, BLAS on one thread, five
layer shapes, 1 to 8 input channels): "im2col" took 1.02x-1.11x the time of hand-written
numpy im2col on a quiet machine, "shifted" 1.35x-3x (worst for one input channel), so
"auto" means "im2col" for every shape. (The choice is fixed, not timed at run time: timing
would make the method -- and so the last bits of the results -- depend on the machine's load,
and runs would no longer replay exactly.)

Pooling has no weights: max-pool takes the largest value of each window (its gradient
goes to the maximum; ties share it evenly), average-pool the mean (each input of a
window gets 1/(kH*kW) of the gradient). Both are primitives over the kH*kW strided slices
(``max_pool2d``: an elementwise maximum of the slices; its VJP scatters g back weighted by
where the maxima were; ``avg_pool2d``: their weighted sum, whose VJP is the transposed
scatter) -- no 6-d views or gathers.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import primitives as P
from ..argcheck import check_instance, check_int, check_real
from ..seeding import Seed, as_generator
from ..tensor_class import Tensor, _operand, get_default_dtype
from . import init as _init
from .module import Module, Parameter

__all__ = ["AvgPool2d", "Conv2d", "MaxPool2d", "avg_pool2d", "conv2d", "max_pool2d"]

Pair = int | tuple[int, int]
_METHODS = ("auto", "im2col", "shifted", "gather")


def _pair(v: Pair, name: str, op: str, minimum: int) -> tuple[int, int]:
    """``v`` as a pair (height, width) of ints >= ``minimum`` (an int means the same for both)."""
    pair = (v, v) if isinstance(v, (int, np.integer)) else tuple(v) if isinstance(v, (tuple, list)) else ()
    if len(pair) != 2 or any(not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < minimum for n in pair):
        raise ValueError(f"{op}: {name} must be an int >= {minimum} or a pair of them, got {v!r}")
    return int(pair[0]), int(pair[1])


def _check_image(x: Any, op: str, channels: int | None = None) -> Tensor:
    x = _operand(x, op)
    if x.ndim != 4:
        hint = " (one image? add a batch axis: x.reshape(1, *x.shape))" if x.ndim == 3 else ""
        raise ValueError(f"{op}: expected an input of shape (N, C, H, W), got {x.shape}{hint}")
    if channels is not None and x.shape[1] != channels:
        hint = " (channels last? use x.permute(0, 3, 1, 2))" if x.shape[3] == channels else ""
        raise ValueError(
            f"{op}: expected {channels} input channels (shape (N, {channels}, H, W)), got {x.shape}{hint}"
        )
    return x


def _out_size(n: int, k: int, s: int, p: int, axis: str, op: str) -> int:
    out = (n + 2 * p - k) // s + 1
    if out < 1:
        raise ValueError(
            f"{op}: the {k}-wide kernel does not fit the input's {axis} of {n} with padding {p} "
            f"(output size floor(({n} + 2*{p} - {k}) / {s}) + 1 = {out} < 1)"
        )
    return out


def _pad_hw(x: Tensor, padding: tuple[int, int]) -> Tensor:
    ph, pw = padding
    return x if ph == pw == 0 else x.pad(((0, 0), (0, 0), (ph, ph), (pw, pw)))


def _patch_index(
    hp: int, wp: int, kernel: tuple[int, int], stride: tuple[int, int], out: tuple[int, int]
) -> np.ndarray:
    """Flat indices into an (Hp*Wp) image: entry [u*kW + v, i*W' + j] = (s*i + u)*Wp + (s*j + v)."""
    (kh, kw), (sh, sw), (oh, ow) = kernel, stride, out
    rows = (np.arange(kh)[:, None] + sh * np.arange(oh)[None, :])  # (kH, H')
    cols = (np.arange(kw)[:, None] + sw * np.arange(ow)[None, :])  # (kW, W')
    flat = rows[:, None, :, None] * wp + cols[None, :, None, :]  # (kH, kW, H', W')
    return flat.reshape(kh * kw, oh * ow)


def _patches(xp: Tensor, kernel: tuple[int, int], stride: tuple[int, int], out: tuple[int, int]) -> Tensor:
    """All kernel windows of a padded (N, C, Hp, Wp) image: shape (N, C, kH*kW, H'*W') (one gather)."""
    n, c, hp, wp = xp.shape
    return xp.reshape(n, c, hp * wp)[:, :, _patch_index(hp, wp, kernel, stride, out)]


def conv2d(
    x: Any, weight: Tensor, bias: Tensor | None = None, stride: Pair = 1, padding: Pair = 0, method: str = "auto"
) -> Tensor:
    """2-d convolution (cross-correlation, as in every deep-learning library) of x (N, C, H, W).

    z[n, o, i, j] = b[o] + sum_{c,u,v} W[o, c, u, v] x_pad[n, c, s*i + u, s*j + v], with
    ``weight`` W of shape (C_out, C, kH, kW) and ``bias`` b of shape (C_out,).
    Returns shape (N, C_out, H', W'), H' = floor((H + 2p - kH)/s) + 1.
    """
    op = "conv2d"
    check_instance(weight, Tensor, "weight", op)
    if weight.ndim != 4:
        raise ValueError(f"{op}: weight must have shape (C_out, C_in, kH, kW), got {weight.shape}")
    c_out, c_in, kh, kw = weight.shape
    if bias is not None and check_instance(bias, Tensor, "bias", op).shape != (c_out,):
        raise ValueError(f"{op}: bias must have shape (C_out,) = ({c_out},) for weight {weight.shape}, "
                         f"got {bias.shape}")
    x = _check_image(x, op, c_in)
    s, p = _pair(stride, "stride", op, 1), _pair(padding, "padding", op, 0)
    n, _, h, w = x.shape
    oh, ow = _out_size(h, kh, s[0], p[0], "height", op), _out_size(w, kw, s[1], p[1], "width", op)
    xp = _pad_hw(x, p)
    if method == "auto":
        method = "im2col"  # measured fastest on every benchmarked shape (see the module docstring)
    if method == "shifted":
        # channels first, so each kernel offset is one 2-d product (C_out, C) @ (C, N*H'*W')
        xc = xp.permute(1, 0, 2, 3)
        out = None
        for u in range(kh):
            for v in range(kw):
                window = xc[:, :, u : u + s[0] * (oh - 1) + 1 : s[0], v : v + s[1] * (ow - 1) + 1 : s[1]]
                term = weight[:, :, u, v] @ window.reshape(c_in, n * oh * ow)
                out = term if out is None else out + term
        z = out.reshape(c_out, n, oh, ow).permute(1, 0, 2, 3)  # type: ignore[union-attr]
    elif method == "im2col":
        cols = Tensor._apply(P.Im2col, xp, kernel=(kh, kw), stride=s)  # (C, kH, kW, N, H', W'), one copy
        cols = cols.reshape(c_in * kh * kw, n * oh * ow)
        z = (weight.reshape(c_out, c_in * kh * kw) @ cols).reshape(c_out, n, oh, ow).permute(1, 0, 2, 3)
    elif method == "gather":
        cols = _patches(xp, (kh, kw), s, (oh, ow))  # (N, C, kH*kW, H'*W')
        cols = cols.permute(1, 2, 0, 3).reshape(c_in * kh * kw, n * oh * ow)
        z = (weight.reshape(c_out, c_in * kh * kw) @ cols).reshape(c_out, n, oh, ow).permute(1, 0, 2, 3)
    else:
        raise ValueError(f"{op}: method must be one of {_METHODS}, got {method!r}")
    if bias is not None:
        z = z + bias.reshape(1, c_out, 1, 1)
    return z


class Conv2d(Module):
    """A 2-d convolution layer with shared weights: z = W * x + b (see :func:`conv2d`).

    ``weight`` W: (out_channels, in_channels, kH, kW), initialised by ``init`` (He by
    default, with fan_in = in_channels*kH*kW); ``bias`` b: (out_channels,), set to
    ``bias_init``. Every output position uses the same W and b (parameter sharing), so
    dW sums the contributions of all positions: dW[o,c,u,v] = sum_{n,i,j} dZ[n,o,i,j] x_pad[n,c,si+u,sj+v].
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: Pair,
        stride: Pair = 1,
        padding: Pair = 0,
        bias: bool = True,
        init: str | Any = "he",
        bias_init: float = 0.0,
        seed: Seed = None,
        method: str = "auto",
        dtype: Any = None,
    ) -> None:
        super().__init__()
        op = "Conv2d"
        self.in_channels = check_int(in_channels, "in_channels", op, minimum=1)
        self.out_channels = check_int(out_channels, "out_channels", op, minimum=1)
        bias_value = check_real(bias_init, "bias_init", op)
        dtype = get_default_dtype() if dtype is None else dtype  # set_default_dtype reaches the weights
        if method not in _METHODS:
            raise ValueError(f"{op}: method must be one of {_METHODS}, got {method!r}")
        self.kernel_size = _pair(kernel_size, "kernel_size", op, 1)
        self.stride = _pair(stride, "stride", op, 1)
        self.padding = _pair(padding, "padding", op, 0)
        self.method = method
        fill = _init.get_initializer(init, op)
        self.weight = Parameter(np.zeros((self.out_channels, self.in_channels) + self.kernel_size), dtype=dtype)
        fill(self.weight, seed=as_generator(seed))
        self.bias = Parameter(np.full(self.out_channels, bias_value), dtype=dtype) if bias else None

    def forward(self, x: Any) -> Tensor:
        return conv2d(x, self.weight, self.bias, self.stride, self.padding, self.method)

    def extra_repr(self) -> str:
        return (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}, "
            f"padding={self.padding}, bias={self.bias is not None}"
        )


# ============================================================== pooling


def _pool(x: Any, kernel_size: Pair, stride: Pair | None, padding: Pair, kind: str) -> Tensor:
    op = f"{kind}_pool2d"
    x = _check_image(x, op)
    k = _pair(kernel_size, "kernel_size", op, 1)
    s = k if stride is None else _pair(stride, "stride", op, 1)
    p = _pair(padding, "padding", op, 0)
    if p[0] > k[0] // 2 or p[1] > k[1] // 2:
        raise ValueError(f"{op}: padding {p} must be at most half the kernel size {k}")
    _, _, h, w = x.shape
    _out_size(h, k[0], s[0], p[0], "height", op)  # (raises if the window does not fit)
    _out_size(w, k[1], s[1], p[1], "width", op)
    if kind == "max":
        return Tensor._apply(P.MaxPool2d, x, kernel=k, stride=s, padding=p)
    return Tensor._apply(P.AvgPool2d, _pad_hw(x, p), kernel=k, stride=s, weights=1.0 / (k[0] * k[1]))


def max_pool2d(x: Any, kernel_size: Pair, stride: Pair | None = None, padding: Pair = 0) -> Tensor:
    """z[n, c, i, j] = max over the window x_pad[n, c, s*i : s*i + kH, s*j : s*j + kW].

    dL/dx goes to the window's maximum (split evenly between tied maxima); padding is -inf.
    """
    return _pool(x, kernel_size, stride, padding, "max")


def avg_pool2d(x: Any, kernel_size: Pair, stride: Pair | None = None, padding: Pair = 0) -> Tensor:
    """z[n, c, i, j] = mean over the window (zero padding counts); each input gets g / (kH*kW) per window."""
    return _pool(x, kernel_size, stride, padding, "avg")


class _Pool2d(Module):
    """Shared constructor and repr of the pooling layers (they have no parameters)."""

    _kind = ""  # "max" or "avg"

    def __init__(self, kernel_size: Pair, stride: Pair | None = None, padding: Pair = 0) -> None:
        super().__init__()
        op = type(self).__name__
        self.kernel_size = _pair(kernel_size, "kernel_size", op, 1)
        self.stride = self.kernel_size if stride is None else _pair(stride, "stride", op, 1)
        self.padding = _pair(padding, "padding", op, 0)
        if self.padding[0] > self.kernel_size[0] // 2 or self.padding[1] > self.kernel_size[1] // 2:
            raise ValueError(f"{op}: padding {self.padding} must be at most half the kernel size {self.kernel_size}")

    def forward(self, x: Any) -> Tensor:
        return _pool(x, self.kernel_size, self.stride, self.padding, self._kind)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxPool2d(_Pool2d):
    """Max pooling: z[n, c, i, j] = max of the kH x kW window at (s*i, s*j) (see :func:`max_pool2d`).

    ``stride`` defaults to the kernel size (non-overlapping windows); padding counts as -inf.
    """

    _kind = "max"


class AvgPool2d(_Pool2d):
    """Average pooling: z[n, c, i, j] = mean of the kH x kW window at (s*i, s*j) (see :func:`avg_pool2d`).

    ``stride`` defaults to the kernel size (non-overlapping windows); zero padding counts in the mean.
    """

    _kind = "avg"
