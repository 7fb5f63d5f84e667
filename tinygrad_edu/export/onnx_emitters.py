"""The ONNX emitters: one function per primitive class and per layer class, and the graph builder they share.

An emitter turns one recorded step into ONNX nodes and returns the name of its output:

* a primitive emitter ``emit(builder, t, t2, input_names)`` gets the recorded tensor ``t``
  (its primitive's parameters are ``t._params``), the same tensor ``t2`` from the second
  trace (other data, one more example: to tell a batch-sized shape from a fixed one), and
  the ONNX names of its inputs;
* a layer emitter ``emit(builder, layer, x, x_name)`` gets the layer and its input.

:data:`ONNX_PRIMITIVES` and :data:`ONNX_LAYERS` are the tables :func:`~.onnx_export.to_onnx`
looks up; a new primitive becomes exportable by adding a row.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .. import nn
from .. import primitives as P
from ..tensor_class import Tensor
from ..value import SELU_ALPHA, SELU_SCALE

__all__ = ["ONNX_LAYERS", "ONNX_PRIMITIVES", "Builder", "ExportError"]


class ExportError(ValueError):
    """The model uses an op or a pattern that cannot be written as ONNX."""


# ====================================================================== building the ONNX graph


class Builder:
    """Collects ONNX nodes and initializers; emitters call :meth:`node` and :meth:`const`."""

    def __init__(
        self, onnx: Any, dtype: np.dtype, opset: int, batch: tuple[int, int], where: Callable[..., str],
        param_names: dict[int, str],
    ) -> None:
        self.onnx, self.dtype, self.opset = onnx, dtype, opset
        self.param_names = param_names  # id(Parameter) -> its state-dict name, used for its initializer
        self._tensors: dict[int, str] = {}
        self.batch_sizes = batch  # the two traces' batch sizes (equal unless dynamic_batch)
        self.where = where  # where(tensor) -> "in model.3 (Block)" for error messages
        self.nodes: list[Any] = []
        self.initializers: list[Any] = []
        self._counter = 0
        self._batch_name: str | None = None
        self.input_name = "input"

    def fresh(self, hint: str) -> str:
        self._counter += 1
        return f"{hint}_{self._counter}"

    def node(self, op_type: str, inputs: list[str], **attrs: Any) -> str:
        """Add one node and return the name of its (single) output."""
        out = self.fresh(op_type)
        self.nodes.append(self.onnx.helper.make_node(op_type, inputs, [out], **attrs))
        return out

    def const(self, value: Any, name: str | None = None, dtype: Any = None) -> str:
        """An initializer holding ``value`` (in the model's float dtype unless ``dtype`` is given)."""
        array = np.asarray(value, dtype=self.dtype if dtype is None else dtype)
        name = name or self.fresh("const")
        self.initializers.append(self.onnx.numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def tensor(self, t: Tensor) -> str:
        """The initializer holding a constant Tensor's value (once per tensor; a parameter keeps its name)."""
        if id(t) not in self._tensors:
            self._tensors[id(t)] = self.const(t.data, name=self.param_names.get(id(t)), dtype=t.data.dtype)
        return self._tensors[id(t)]

    def ints(self, values: Any) -> str:
        return self.const(np.asarray(values, dtype=np.int64), dtype=np.int64)

    def batch(self) -> str:
        """A (1,) int64 tensor holding the input's batch size at run time."""
        if self._batch_name is None:
            shape = self.node("Shape", [self.input_name])
            self._batch_name = self.node("Slice", [shape, self.ints([0]), self.ints([1])])
        return self._batch_name

    def shape(self, dims: tuple[int, ...], other: tuple[int, ...], t: Tensor, op: str, size_one: bool = False) -> str:
        """A shape tensor for a target shape ``dims`` traced as ``other`` at the second batch size.

        A dim that differs between the traces is k * batch; ``size_one`` writes 1 there
        instead (for Expand, whose ONNX version broadcasts both ways).
        """
        if len(dims) != len(other):
            raise ExportError(f"to_onnx: {op} {self.where(t)} changes rank with the batch size ({dims} vs {other})")
        if dims == other:
            return self.ints(dims)
        (b1, b2), parts = self.batch_sizes, []
        for d1, d2 in zip(dims, other):
            if d1 == d2:
                parts.append(self.ints([d1]))
            elif size_one:
                parts.append(self.ints([1]))
            elif b1 != b2 and d1 % b1 == 0 and d2 == d1 // b1 * b2:
                k = d1 // b1
                parts.append(self.batch() if k == 1 else self.node("Mul", [self.batch(), self.ints([k])]))
            else:
                raise ExportError(
                    f"to_onnx: {op} {self.where(t)} has a target shape {dims} that changes with the data "
                    f"({other} on another input), not only with the batch size"
                )
        return self.node("Concat", parts, axis=0)


# ====================================================================== shared pieces


def _windows(b: Builder, name: str, kernel: tuple[int, int], stride: tuple[int, int], out: tuple[int, int],
             axes: tuple[int, int]) -> list[tuple[int, int, str]]:
    """For each kernel offset (u, v): the strided slice x[.., u::s, v::s] of size out along ``axes``."""
    (kh, kw), (sh, sw), (oh, ow) = kernel, stride, out
    steps = b.ints([sh, sw])
    return [
        (u, v, b.node("Slice", [name, b.ints([u, v]), b.ints([u + sh * (oh - 1) + 1, v + sw * (ow - 1) + 1]),
                                b.ints(list(axes)), steps]))
        for u in range(kh) for v in range(kw)
    ]


def _pad_hw(b: Builder, name: str, padding: tuple[int, int], axes: tuple[int, int], rank: int = 4) -> str:
    (ph, pw) = padding
    if ph == pw == 0:
        return name
    pads = [0] * (2 * rank)
    pads[axes[0]], pads[axes[1]], pads[rank + axes[0]], pads[rank + axes[1]] = ph, pw, ph, pw
    return b.node("Pad", [name, b.ints(pads)], mode="constant")


def compact(data: np.ndarray) -> np.ndarray:
    """``data`` with every broadcast axis (stride 0, as numpy's broadcast views have) cut to size 1."""
    if data.ndim == 0 or all(st != 0 or n == 1 for st, n in zip(data.strides, data.shape)):
        return data
    return data[tuple(slice(0, 1) if st == 0 else slice(None) for st in data.strides)]



# ====================================================================== primitive emitters

Emitter = Callable[[Builder, Tensor, Tensor, list[str]], str]


def _same(op_type: str) -> Emitter:
    return lambda b, t, t2, ins: b.node(op_type, ins)


def _cast(b: Builder, t: Tensor, t2: Tensor, ins: list[str]) -> str:
    return b.node("Cast", ins, to=b.onnx.helper.np_dtype_to_tensor_dtype(t.data.dtype))


def _pow_const(b: Builder, t: Tensor, t2: Tensor, ins: list[str]) -> str:
    return b.node("Pow", [ins[0], b.const(t._params["exponent"], dtype=t.data.dtype)])


def _where(b: Builder, t: Tensor, t2: Tensor, ins: list[str]) -> str:
    return b.node("Where", [b.const(compact(t._params["cond"]), dtype=bool), *ins])


def _reduce(op_type: str) -> Emitter:
    def emit(b: Builder, t: Tensor, t2: Tensor, ins: list[str]) -> str:
        axes, keep = list(t._params["axis"]), int(bool(t._params["keepdims"]))
        if op_type == "ReduceSum" or b.opset >= 18:  # axes became an input (ReduceSum in 13, the rest in 18)
            return b.node(op_type, [ins[0], b.ints(axes)], keepdims=keep)
        return b.node(op_type, ins, axes=axes, keepdims=keep)

    return emit


def _reshape(b: Builder, t: Tensor, t2: Tensor, ins: list[str]) -> str:
    return b.node("Reshape", [ins[0], b.shape(t._params["shape"], t2._params["shape"], t, "reshape")])


def _expand(b: Builder, t: Tensor, t2: Tensor, ins: list[str]) -> str:
    target = b.shape(t._params["shape"], t2._params["shape"], t, "expand", size_one=True)
    return b.node("Expand", [ins[0], target])


def _permute(b: Builder, t: Tensor, t2: Tensor, ins: list[str]) -> str:
    return b.node("Transpose", ins, perm=[int(a) for a in t._params["axes"]])


def _pad(b: Builder, t: Tensor, t2: Tensor, ins: list[str]) -> str:
    widths = [(int(lo), int(hi)) for lo, hi in t._params["pad_width"]]
    pads = [lo for lo, _ in widths] + [hi for _, hi in widths]
    return b.node("Pad", [ins[0], b.ints(pads)], mode="constant")


def _getitem(b: Builder, t: Tensor, t2: Tensor, ins: list[str]) -> str:
    """Basic indexing (ints and slices with positive steps) -> Slice (+ Squeeze); one integer array -> Gather."""
    index = t._params["index"]
    index = index if isinstance(index, tuple) else (index,)
    shape = t._parents[0].shape
    arrays = [i for i, item in enumerate(index) if isinstance(item, np.ndarray)]
    if len(arrays) == 1 and all(isinstance(item, slice) and item == slice(None) for item in index[: arrays[0]]):
        array = index[arrays[0]]
        if array.dtype.kind in "iu" and all(item == slice(None) for item in index[arrays[0] + 1 :]):
            idx = np.where(array < 0, array + shape[arrays[0]], array)
            return b.node("Gather", [ins[0], b.ints(idx)], axis=arrays[0])
    if any(item is None or item is Ellipsis or isinstance(item, np.ndarray) for item in index):
        raise ExportError(
            f"to_onnx: getitem {b.where(t)} with index {index!r}: only ints, slices and one integer array "
            "(after full slices) can be exported"
        )
    starts, ends, axes, steps, squeeze = [], [], [], [], []
    for axis, item in enumerate(index):
        if isinstance(item, slice):
            start, stop, step = item.indices(shape[axis])
            if step < 0:
                raise ExportError(f"to_onnx: getitem {b.where(t)}: negative slice steps are not exported")
            if (start, stop, step) == (0, shape[axis], 1):
                continue
            starts.append(start), ends.append(stop), axes.append(axis), steps.append(step)
        else:
            i = int(item) % shape[axis]
            starts.append(i), ends.append(i + 1), axes.append(axis), steps.append(1)
            squeeze.append(axis)
    out = ins[0]
    if axes:
        out = b.node("Slice", [out, b.ints(starts), b.ints(ends), b.ints(axes), b.ints(steps)])
    if squeeze:
        out = b.node("Squeeze", [out, b.ints(squeeze)])
    return out if out != ins[0] else b.node("Identity", [out])


def _linear_fused(b: Builder, t: Tensor, t2: Tensor, ins: list[str]) -> str:
    return b.node("Gemm", ins, transB=1)  # z = x W^T + b; the fused primitive only takes 2-d x


def _concatenate(b: Builder, t: Tensor, t2: Tensor, ins: list[str]) -> str:
    return b.node("Concat", ins, axis=int(t._params["axis"]))


def _cumsum(b: Builder, t: Tensor, t2: Tensor, ins: list[str]) -> str:
    return b.node("CumSum", [ins[0], b.const(np.int64(t._params["axis"]), dtype=np.int64)])


def _log1p(b: Builder, t: Tensor, t2: Tensor, ins: list[str]) -> str:
    """ln(1 + x) without losing small x (ONNX has no Log1p): ln(u) x / (u - 1) with u = 1 + x, or x where u = 1."""
    x = ins[0]
    u = b.node("Add", [x, b.const(1.0, dtype=t.data.dtype)])
    d = b.node("Sub", [u, b.const(1.0, dtype=t.data.dtype)])
    ratio = b.node("Div", [b.node("Mul", [b.node("Log", [u]), x]), d])
    return b.node("Where", [b.node("Equal", [d, b.const(0.0, dtype=t.data.dtype)]), x, ratio])


def _expm1(b: Builder, t: Tensor, t2: Tensor, ins: list[str]) -> str:
    """e^x - 1 without losing small x (ONNX has no Expm1): (u - 1) x / ln u with u = e^x (Kahan);
    x where u = 1, u - 1 where u is 0 or inf."""
    x, one = ins[0], b.const(1.0, dtype=t.data.dtype)
    u = b.node("Exp", [x])
    u_minus_1 = b.node("Sub", [u, one])
    ratio = b.node("Div", [b.node("Mul", [u_minus_1, x]), b.node("Log", [u])])
    edge = b.node("Or", [b.node("Equal", [u, b.const(0.0, dtype=t.data.dtype)]), b.node("IsInf", [u])])
    return b.node("Where", [b.node("Equal", [u, one]), x, b.node("Where", [edge, u_minus_1, ratio])])


def _float32_only(op_type: str) -> Emitter:
    """An op ONNX Runtime implements only in float32: float64 models are refused, not silently rounded."""

    def emit(b: Builder, t: Tensor, t2: Tensor, ins: list[str]) -> str:
        if t.data.dtype != np.float32:
            raise ExportError(
                f"to_onnx: {t._op} {b.where(t)}: ONNX Runtime has no {t.data.dtype} kernel for {op_type}; "
                "export the model in float32"
            )
        return b.node(op_type, ins)

    return emit


def _im2col(b: Builder, t: Tensor, t2: Tensor, ins: list[str]) -> str:
    """cols[c, u, v, n, i, j] = x[n, c, s*i + u, s*j + v]: the kH*kW strided windows, stacked and transposed."""
    kernel, stride = t._params["kernel"], t._params["stride"]
    (c, kh, kw, _, oh, ow) = t.shape
    windows = [
        b.node("Unsqueeze", [w, b.ints([0])]) for _, _, w in _windows(b, ins[0], kernel, stride, (oh, ow), (2, 3))
    ]
    stacked = b.node("Concat", windows, axis=0)  # (kH*kW, N, C, H', W')
    grid = b.node("Reshape", [stacked, b.ints([kh, kw, -1, c, oh, ow])])
    return b.node("Transpose", [grid], perm=[3, 0, 1, 2, 4, 5])


def _window_sum(b: Builder, t: Tensor, t2: Tensor, ins: list[str]) -> str:
    """z = sum_{u,v} w x[:, :, s*i + u, s*j + v] for one weight w (1/(kH*kW): average pooling)."""
    weights = t._params["weights"]
    if np.ndim(weights) != 0:
        raise ExportError(f"to_onnx: {t._op} {b.where(t)} with one weight per window cannot be exported")
    w = b.const(weights, dtype=t.data.dtype)
    total = None
    for _, _, window in _windows(b, ins[0], t._params["kernel"], t._params["stride"], t.shape[2:], (2, 3)):
        term = b.node("Mul", [window, w])
        total = term if total is None else b.node("Add", [total, term])
    return total  # type: ignore[return-value]


def _max_pool(b: Builder, t: Tensor, t2: Tensor, ins: list[str]) -> str:
    (ph, pw) = t._params["padding"]
    return b.node("MaxPool", ins, kernel_shape=list(t._params["kernel"]), strides=list(t._params["stride"]),
                  pads=[ph, pw, ph, pw])


ONNX_PRIMITIVES: dict[type[P.Primitive], Emitter] = {
    P.Neg: _same("Neg"),
    P.Exp: _same("Exp"),
    P.Log: _same("Log"),
    P.Sqrt: _same("Sqrt"),
    P.Abs: _same("Abs"),
    P.Tanh: _same("Tanh"),
    P.Sigmoid: _same("Sigmoid"),
    P.Relu: _same("Relu"),
    P.Cast: _cast,
    P.PowConst: _pow_const,
    P.Add: _same("Add"),
    P.Sub: _same("Sub"),
    P.Mul: _same("Mul"),
    P.Div: _same("Div"),
    P.Pow: _same("Pow"),
    P.Maximum: _same("Max"),
    P.Where: _where,
    P.Sum: _reduce("ReduceSum"),
    P.Max: _reduce("ReduceMax"),
    P.Reshape: _reshape,
    P.Permute: _permute,
    P.Expand: _expand,
    P.Getitem: _getitem,
    P.Pad: _pad,
    P.MatMul: _same("MatMul"),
    # added with the ops of issues 16 and 17 (the backward-only primitives Col2im, WindowScatter,
    # ScatterAdd and SoftmaxCrossEntropyGrad, and Cumprod, have no ONNX form here)
    P.Sin: _same("Sin"),
    P.Cos: _same("Cos"),
    P.Asin: _float32_only("Asin"),
    P.Atan: _float32_only("Atan"),
    P.Erf: _float32_only("Erf"),
    P.Log1p: _log1p,
    P.Expm1: _expm1,
    P.Cumsum: _cumsum,
    P.Concatenate: _concatenate,
    P.Linear: _linear_fused,
    P.Im2col: _im2col,
    P.WindowSum: _window_sum,
    P.AvgPool2d: _window_sum,
    P.MaxPool2d: _max_pool,
}
"""Primitive class -> emitter(builder, tensor, same tensor in the second trace, input names) -> output name."""

# primitives whose parameters may hold a batch-sized shape (the emitter makes it dynamic)
BATCH_SHAPED_PRIMITIVES = {P.Reshape, P.Expand}
# binary ops that broadcast in ONNX: a folded constant feeding them may drop its Expand
BROADCASTING_PRIMITIVES = {P.Add, P.Sub, P.Mul, P.Div, P.Pow, P.Maximum, P.Where}


# ====================================================================== layer emitters

LayerEmitter = Callable[[Builder, Any, Tensor, str], str]


def _weights(b: Builder, m: Any) -> tuple[str, str | None]:
    return b.tensor(m.weight), (None if m.bias is None else b.tensor(m.bias))


def _linear(b: Builder, m: nn.Linear, x: Tensor, name: str) -> str:
    w, bias = _weights(b, m)
    if x.ndim == 2:  # Gemm: z = x W^T + b in one node, W kept in its (n[l], n[l-1]) layout
        return b.node("Gemm", [name, w] + ([bias] if bias else []), transB=1)
    z = b.node("MatMul", [name, b.node("Transpose", [w], perm=[1, 0])])
    return b.node("Add", [z, bias]) if bias else z


def _out_hw(x: Tensor, m: Any) -> tuple[int, int]:
    return tuple(  # type: ignore[return-value]
        (n + 2 * p - k) // s + 1 for n, k, s, p in zip(x.shape[2:], m.kernel_size, m.stride, m.padding)
    )


def _conv(b: Builder, m: nn.Conv2d, x: Tensor, name: str) -> str:
    """float32: one Conv node. float64 (ONNX Runtime has no float64 Conv): the shifted-window sum
    z = b + sum_{u,v} x_pad[:, :, s*i + u, s*j + v] . W[:, :, u, v]^T, as MatMuls over the channels."""
    if b.dtype == np.float32:
        w, bias = _weights(b, m)
        (ph, pw) = m.padding
        return b.node("Conv", [name, w] + ([bias] if bias else []), kernel_shape=list(m.kernel_size),
                      strides=list(m.stride), pads=[ph, pw, ph, pw])
    channels_last = b.node("Transpose", [name], perm=[0, 2, 3, 1])  # (N, H, W, C): channels contract last
    padded = _pad_hw(b, channels_last, m.padding, (1, 2))
    total = None
    for u, v, window in _windows(b, padded, m.kernel_size, m.stride, _out_hw(x, m), (1, 2)):
        term = b.node("MatMul", [window, b.const(m.weight.data[:, :, u, v].T)])  # (N, H', W', C_out)
        total = term if total is None else b.node("Add", [total, term])
    if m.bias is not None:
        total = b.node("Add", [total, b.tensor(m.bias)])
    return b.node("Transpose", [total], perm=[0, 3, 1, 2])


def _max_pool(b: Builder, m: nn.MaxPool2d, x: Tensor, name: str) -> str:
    (ph, pw) = m.padding
    return b.node("MaxPool", [name], kernel_shape=list(m.kernel_size), strides=list(m.stride), pads=[ph, pw, ph, pw])


def _avg_pool(b: Builder, m: nn.AvgPool2d, x: Tensor, name: str) -> str:
    """float32: AveragePool (zero padding counts). float64: the mean of the kH*kW shifted windows."""
    if b.dtype == np.float32:
        (ph, pw) = m.padding
        return b.node("AveragePool", [name], kernel_shape=list(m.kernel_size), strides=list(m.stride),
                      pads=[ph, pw, ph, pw], count_include_pad=1)
    windows = _windows(b, _pad_hw(b, name, m.padding, (2, 3)), m.kernel_size, m.stride, _out_hw(x, m), (2, 3))
    total = windows[0][2]
    for _, _, window in windows[1:]:
        total = b.node("Add", [total, window])
    return b.node("Div", [total, b.const(float(len(windows)))])


def _flatten(b: Builder, m: nn.Flatten, x: Tensor, name: str) -> str:
    start, end = (a % x.ndim for a in (m.start_axis, m.end_axis))
    # 0 copies the input's size (the batch stays dynamic); -1 is the merged axis
    target = [0] * start + [-1] + list(x.shape[end + 1 :])
    return b.node("Reshape", [name, b.ints(target)])


def _elu_negative(b: Builder, name: str, alpha: float) -> tuple[str, str]:
    """relu(z) and alpha (e^min(z, 0) - 1), from ops ONNX Runtime has in float64 too."""
    relu = b.node("Relu", [name])
    minimum = b.node("Sub", [name, relu])  # z - max(z, 0) = min(z, 0)
    negative = b.node("Mul", [b.node("Sub", [b.node("Exp", [minimum]), b.const(1.0)]), b.const(alpha)])
    return relu, negative


def _elu(b: Builder, m: nn.ELU, x: Tensor, name: str) -> str:
    return b.node("Add", list(_elu_negative(b, name, m.alpha)))


def _selu(b: Builder, m: nn.SELU, x: Tensor, name: str) -> str:
    return b.node("Mul", [b.node("Add", list(_elu_negative(b, name, SELU_ALPHA))), b.const(SELU_SCALE)])


def _leaky_relu(b: Builder, m: nn.LeakyReLU, x: Tensor, name: str) -> str:
    # relu(z) + slope * min(z, 0): exact in both dtypes (the LeakyRelu node's slope is a float32 attribute)
    relu = b.node("Relu", [name])
    return b.node("Add", [relu, b.node("Mul", [b.node("Sub", [name, relu]), b.const(m.slope)])])


ONNX_LAYERS: dict[type, LayerEmitter] = {
    nn.Linear: _linear,
    nn.Conv2d: _conv,
    nn.MaxPool2d: _max_pool,
    nn.AvgPool2d: _avg_pool,
    nn.Flatten: _flatten,
    nn.ReLU: lambda b, m, x, name: b.node("Relu", [name]),
    nn.Sigmoid: lambda b, m, x, name: b.node("Sigmoid", [name]),
    nn.Tanh: lambda b, m, x, name: b.node("Tanh", [name]),
    nn.LeakyReLU: _leaky_relu,
    nn.ELU: _elu,
    nn.SELU: _selu,
    nn.Softmax: lambda b, m, x, name: b.node("Softmax", [name], axis=m.axis),
    nn.LogSoftmax: lambda b, m, x, name: b.node("LogSoftmax", [name], axis=m.axis),
}
"""Layer class -> emitter(builder, layer, its input, input name).

Layers not listed (Sequential, Dropout, custom Modules) are traced through their primitives."""
