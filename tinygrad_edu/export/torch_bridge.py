"""``to_torch(model)`` and ``from_torch(module)``: the same network in PyTorch, and back.

Each supported layer has a PyTorch twin computing the same function with the same
parameter layout, so converting is copying arrays:

=====================  ============================  ==========================================
tinygrad_edu           torch.nn                      weights
=====================  ============================  ==========================================
Sequential, MLP        Sequential                    children keep their names "0", "1", ...
Linear                 Linear                        W (n[l], n[l-1]) and b (n[l],) as they are
Conv2d                 Conv2d                        W (C_out, C_in, kH, kW) and b (C_out,)
MaxPool2d, AvgPool2d   MaxPool2d, AvgPool2d          none (average pooling counts the padding)
Flatten, Dropout       Flatten, Dropout              none
activations            ReLU, Sigmoid, Tanh, ...      none
=====================  ============================  ==========================================

Our ``Linear`` keeps the lectures' W[l] of shape (n[l], n[l-1]) and computes
z = x @ W.T + b, exactly torch's layout, so no weight is transposed. State-dict keys
match too (``"0.weight"``), so ``torch_model.load_state_dict`` also accepts our
``state_dict()`` once its arrays are wrapped with ``torch.from_numpy``.

Layers are matched by exact type: a subclass with its own ``forward`` is not silently
treated as its base class. A model with such a module (or any custom ``Module``) converts
when given an example batch: ``to_torch(model, example_input=x)`` traces it instead
(:mod:`.torch_trace`). A parameter (or module) used in two places stays shared in
the converted model. The train/eval flag of every layer is copied.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .. import nn
from ..nn.module import Module, Parameter
from ._optional import require

__all__ = ["SUPPORTED_LAYERS", "from_torch", "to_torch"]


class _Converter:
    """Walks a model, converting each layer by the table and sharing what was shared."""

    def __init__(self, op: str, table: dict[type, Callable[..., Any]], supported: str) -> None:
        self.op, self.table, self.supported = op, table, supported
        self.modules: dict[int, Any] = {}  # id(source module) -> converted module
        self.params: dict[int, Any] = {}  # id(source parameter) -> converted parameter

    def module(self, source: Any, path: str) -> Any:
        if id(source) in self.modules:
            return self.modules[id(source)]
        convert = self.table.get(type(source))
        if convert is None:
            raise TypeError(
                f"{self.op}: {path or 'the model'} is a {type(source).__name__}, which has no counterpart; "
                f"supported layers: {self.supported}. (A custom Module: rebuild it from supported layers, "
                "or export it with tinygrad_edu.export.to_onnx, which traces any forward pass.)"
            )
        converted = convert(self, source, path)
        self.modules[id(source)] = converted
        return converted

    def param(self, source: Any, make: Callable[[Any], Any]) -> Any:
        if source is None:
            return None
        if id(source) not in self.params:
            self.params[id(source)] = make(source)
        return self.params[id(source)]


# ====================================================================== ours -> torch


def _torch_param(torch: Any) -> Callable[[Parameter], Any]:
    return lambda p: torch.nn.Parameter(torch.from_numpy(np.array(p.data, copy=True)), requires_grad=p.requires_grad)


def _to_torch_table(torch: Any) -> dict[type, Callable[..., Any]]:
    tnn = torch.nn
    tp = _torch_param(torch)

    def sequential(c: _Converter, m: nn.Sequential, path: str) -> Any:
        out = tnn.Sequential()
        for name, child in m.named_children():
            out.add_module(name, c.module(child, f"{path}.{name}" if path else name))
        return out

    def with_weights(layer: Any, c: _Converter, m: Any) -> Any:
        layer.weight = c.param(m.weight, tp)
        if m.bias is not None:
            layer.bias = c.param(m.bias, tp)
        return layer

    def linear(c: _Converter, m: nn.Linear, path: str) -> Any:
        layer = tnn.Linear(m.in_features, m.out_features, bias=m.bias is not None, device="meta")
        return with_weights(layer, c, m)

    def conv(c: _Converter, m: nn.Conv2d, path: str) -> Any:
        layer = tnn.Conv2d(
            m.in_channels, m.out_channels, m.kernel_size, stride=m.stride, padding=m.padding,
            bias=m.bias is not None, device="meta",
        )
        return with_weights(layer, c, m)

    return {
        nn.Sequential: sequential,
        nn.MLP: sequential,  # an MLP is a Sequential of Linear and activation layers
        nn.Linear: linear,
        nn.Conv2d: conv,
        nn.MaxPool2d: lambda c, m, path: tnn.MaxPool2d(m.kernel_size, m.stride, m.padding),
        nn.AvgPool2d: lambda c, m, path: tnn.AvgPool2d(m.kernel_size, m.stride, m.padding, count_include_pad=True),
        nn.Flatten: lambda c, m, path: tnn.Flatten(m.start_axis, m.end_axis),
        nn.Dropout: lambda c, m, path: tnn.Dropout(m.p),
        nn.Identity: lambda c, m, path: tnn.Identity(),
        nn.ReLU: lambda c, m, path: tnn.ReLU(),
        nn.Sigmoid: lambda c, m, path: tnn.Sigmoid(),
        nn.Tanh: lambda c, m, path: tnn.Tanh(),
        nn.LeakyReLU: lambda c, m, path: tnn.LeakyReLU(m.slope),
        nn.ELU: lambda c, m, path: tnn.ELU(m.alpha),
        nn.SELU: lambda c, m, path: tnn.SELU(),
        nn.Softmax: lambda c, m, path: tnn.Softmax(dim=m.axis),
        nn.LogSoftmax: lambda c, m, path: tnn.LogSoftmax(dim=m.axis),
    }


SUPPORTED_LAYERS = (
    "Sequential, MLP, Linear, Conv2d, MaxPool2d, AvgPool2d, Flatten, Dropout, Identity, ReLU, Sigmoid, Tanh, "
    "LeakyReLU, ELU, SELU, Softmax, LogSoftmax"
)


def to_torch(model: Module, example_input: Any = None, dynamic_batch: bool = True) -> Any:
    """An equivalent ``torch.nn.Module`` with copies of ``model``'s weights (same outputs and gradients).

    Models built from the supported layers (:data:`SUPPORTED_LAYERS`) become the same
    ``torch.nn`` layers. A model with other modules (your own ``Module`` subclass) needs
    ``example_input`` (one batch): it is traced, and the result is a ``TracedModule`` that
    replays the recorded forward pass with torch ops, with the same parameter names, for any
    batch size (see :mod:`.torch_trace`). Without it such a model raises a TypeError naming
    the module. Parameters keep their dtype (float64 stays float64). Needs PyTorch.
    """
    torch = require("torch", "to_torch")
    if not isinstance(model, Module):
        raise TypeError(f"to_torch: expected a tinygrad_edu Module, got {type(model).__name__}")
    table = _to_torch_table(torch)
    converter = _Converter("to_torch", table, SUPPORTED_LAYERS)
    try:
        out = converter.module(model, "")
    except TypeError as err:
        if example_input is None:
            raise TypeError(
                f"{err} Or pass example_input= (one batch) to get a traced module that replays its forward pass."
            ) from None
        from .torch_trace import traced_torch_module

        fresh = _Converter("to_torch", table, SUPPORTED_LAYERS)
        return traced_torch_module(model, example_input, fresh, _torch_param(torch), torch, dynamic_batch)
    for m in model.modules():  # every layer's train/eval flag (Dropout depends on it)
        converter.modules[id(m)].train(m.training)
    return out


# ====================================================================== torch -> ours


def _our_param(p: Any) -> Parameter:
    data = p.detach().cpu().numpy().copy()
    if data.dtype.kind != "f":
        raise TypeError(f"from_torch: parameters must be floating point, got {data.dtype}")
    ours = Parameter(data, dtype=data.dtype)
    ours.requires_grad = bool(p.requires_grad)
    return ours


def _refuse(op: str, path: str, layer: Any, what: str) -> None:
    raise ValueError(f"{op}: {path or 'the model'} ({layer!r}) uses {what}, which tinygrad_edu does not have")


def _from_torch_table(torch: Any) -> dict[type, Callable[..., Any]]:
    tnn, op = torch.nn, "from_torch"

    def sequential(c: _Converter, m: Any, path: str) -> nn.Sequential:
        out = nn.Sequential()
        for name, child in m._modules.items():  # named_children() would skip a module's second use
            if not name.isdigit() or int(name) != len(out):
                raise ValueError(f"{op}: {path or 'the model'}: Sequential child {name!r} is not named by position")
            out.append(c.module(child, f"{path}.{name}" if path else name))
        return out

    def with_weights(layer: Any, c: _Converter, m: Any) -> Any:
        layer.weight = c.param(m.weight, _our_param)
        layer.bias = c.param(m.bias, _our_param)
        return layer

    def linear(c: _Converter, m: Any, path: str) -> nn.Linear:
        return with_weights(nn.Linear(m.in_features, m.out_features, bias=m.bias is not None, init="zeros"), c, m)

    def conv(c: _Converter, m: Any, path: str) -> nn.Conv2d:
        if isinstance(m.padding, str):
            _refuse(op, path, m, f"padding={m.padding!r} (give the padding as numbers)")
        for name, value, expected in (("dilation", m.dilation, (1, 1)), ("groups", m.groups, 1),
                                      ("padding_mode", m.padding_mode, "zeros")):
            if value != expected:
                _refuse(op, path, m, f"{name}={value!r}")
        layer = nn.Conv2d(m.in_channels, m.out_channels, m.kernel_size, m.stride, m.padding,
                          bias=m.bias is not None, init="zeros")
        return with_weights(layer, c, m)

    def pool(kind: type) -> Callable[..., Any]:
        def make(c: _Converter, m: Any, path: str) -> Any:
            if m.ceil_mode:
                _refuse(op, path, m, "ceil_mode=True")
            if kind is nn.MaxPool2d and (m.dilation not in (1, (1, 1)) or m.return_indices):
                _refuse(op, path, m, "dilation or return_indices")
            if kind is nn.AvgPool2d and (not m.count_include_pad or m.divisor_override is not None):
                _refuse(op, path, m, "count_include_pad=False or divisor_override")
            return kind(m.kernel_size, m.stride, m.padding)

        return make

    def dim(m: Any, path: str) -> int:
        if m.dim is None:
            _refuse(op, path, m, "dim=None (give the axis)")
        return int(m.dim)

    return {
        tnn.Sequential: sequential,
        tnn.Linear: linear,
        tnn.Conv2d: conv,
        tnn.MaxPool2d: pool(nn.MaxPool2d),
        tnn.AvgPool2d: pool(nn.AvgPool2d),
        tnn.Flatten: lambda c, m, path: nn.Flatten(m.start_dim, m.end_dim),
        tnn.Dropout: lambda c, m, path: nn.Dropout(m.p),
        tnn.Identity: lambda c, m, path: nn.Identity(),
        tnn.ReLU: lambda c, m, path: nn.ReLU(),
        tnn.Sigmoid: lambda c, m, path: nn.Sigmoid(),
        tnn.Tanh: lambda c, m, path: nn.Tanh(),
        tnn.LeakyReLU: lambda c, m, path: nn.LeakyReLU(m.negative_slope),
        tnn.ELU: lambda c, m, path: nn.ELU(m.alpha),
        tnn.SELU: lambda c, m, path: nn.SELU(),
        tnn.Softmax: lambda c, m, path: nn.Softmax(dim(m, path)),
        tnn.LogSoftmax: lambda c, m, path: nn.LogSoftmax(dim(m, path)),
    }


TORCH_SUPPORTED_LAYERS = (
    "torch.nn.Sequential, Linear, Conv2d (zeros padding, no dilation or groups), MaxPool2d, AvgPool2d "
    "(floor mode), Flatten, Dropout, Identity, ReLU, Sigmoid, Tanh, LeakyReLU, ELU, SELU, Softmax, LogSoftmax"
)


def from_torch(module: Any) -> Module:
    """A tinygrad_edu model equivalent to the ``torch.nn.Module`` ``module``, with its weights copied.

    Supported: see :data:`TORCH_SUPPORTED_LAYERS`; anything else raises an error naming the
    layer. Shared (tied) parameters and modules stay shared. Needs PyTorch.
    """
    torch = require("torch", "from_torch")
    if not isinstance(module, torch.nn.Module):
        raise TypeError(f"from_torch: expected a torch.nn.Module, got {type(module).__name__}")
    converter = _Converter("from_torch", _from_torch_table(torch), TORCH_SUPPORTED_LAYERS)
    out = converter.module(module, "")
    for m in module.modules():
        converter.modules[id(m)].train(m.training)
    return out
