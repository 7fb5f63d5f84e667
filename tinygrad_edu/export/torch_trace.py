"""``to_torch(model, example_input=...)`` for any model: a torch module that replays the recorded forward pass.

A model with a custom ``Module`` has no layer-by-layer twin in ``torch.nn``. Given one
example batch, :func:`traced_torch_module` records the forward pass (twice, see
:mod:`.trace`) and builds a ``torch.nn.Module`` that

* holds the same parameters under the same names (its submodules mirror ours, so
  ``state_dict()`` keys agree), layers with a twin (Linear, Conv2d, ...) as that twin;
* replays every recorded step with the torch op of the same primitive
  (:data:`TORCH_PRIMITIVES`), so outputs *and gradients* (to the input and to every
  parameter) are the ones tinygrad_edu computes;
* takes any batch size: a shape that grew with the batch between the two traces is
  recomputed from the input's batch size at run time.

What cannot be replayed is refused with an :class:`~.onnx_emitters.ExportError`, as in
``to_onnx``: values computed from the data outside the graph (a numpy mask), control
flow on the data, a primitive without a row in the table.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .. import nn
from .. import primitives as P
from ..nn.module import Module
from ..tensor_class import Tensor
from .onnx_emitters import BATCH_SHAPED_PRIMITIVES, BROADCASTING_PRIMITIVES, ExportError, compact
from .trace import Traced, equal_params, max_shift, strip_expand, trace_twice

__all__ = ["TORCH_PRIMITIVES", "traced_torch_module"]

Step = Callable[..., Any]  # step(module, batch, *input_values) -> value
Builder = Callable[[Any, Tensor, Tensor, Traced], Step]  # (torch, t, t2, traced) -> step


def _shape_at(t: Tensor, s1: tuple[int, ...], s2: tuple[int, ...], traced: Traced) -> Callable[[int], tuple]:
    """The target shape as a function of the batch size (k * batch where it grew with the batch)."""
    if s1 == s2:
        return lambda batch: s1
    (b1, b2), parts = traced.batch_sizes, []
    for d1, d2 in zip(s1, s2):
        if d1 == d2:
            parts.append((d1, 0))
        elif b1 != b2 and d1 % b1 == 0 and d2 == d1 // b1 * b2:
            parts.append((0, d1 // b1))
        else:
            raise ExportError(f"to_torch: {t._op} {traced.where(t)} has a target shape {s1} that changes with the data")
    return lambda batch: tuple(c + k * batch for c, k in parts)


def _fn(name: str) -> Builder:
    return lambda torch, t, t2, traced: (lambda mod, batch, *xs: getattr(torch, name)(*xs))


def _reduce(name: str) -> Builder:
    def build(torch: Any, t: Tensor, t2: Tensor, traced: Traced) -> Step:
        axes, keep = tuple(t._params["axis"]), bool(t._params["keepdims"])
        return lambda mod, batch, x: getattr(torch, name)(x, dim=axes, keepdim=keep) if axes else x

    return build


def _reshape(torch: Any, t: Tensor, t2: Tensor, traced: Traced) -> Step:
    shape = _shape_at(t, t._params["shape"], t2._params["shape"], traced)
    return lambda mod, batch, x: x.reshape(shape(batch))


def _expand(torch: Any, t: Tensor, t2: Tensor, traced: Traced) -> Step:
    shape = _shape_at(t, t._params["shape"], t2._params["shape"], traced)
    return lambda mod, batch, x: x.expand(shape(batch))


def _where(torch: Any, t: Tensor, t2: Tensor, traced: Traced) -> Step:
    cond = torch.from_numpy(np.array(compact(t._params["cond"]), dtype=bool))
    return lambda mod, batch, x, y: torch.where(cond, x, y)


def _getitem(torch: Any, t: Tensor, t2: Tensor, traced: Traced) -> Step:
    index = t._params["index"]
    index = index if isinstance(index, tuple) else (index,)
    converted = tuple(torch.from_numpy(np.array(i)) if isinstance(i, np.ndarray) else i for i in index)
    return lambda mod, batch, x: x[converted]


def _pad(torch: Any, t: Tensor, t2: Tensor, traced: Traced) -> Step:
    flat = [int(n) for lo_hi in reversed(t._params["pad_width"]) for n in lo_hi]  # F.pad: last axis first
    return lambda mod, batch, x: torch.nn.functional.pad(x, flat)


def _cast(torch: Any, t: Tensor, t2: Tensor, traced: Traced) -> Step:
    dtype = torch.from_numpy(np.zeros(0, t.data.dtype)).dtype
    return lambda mod, batch, x: x.to(dtype)


def _im2col(torch: Any, t: Tensor, t2: Tensor, traced: Traced) -> Step:
    kernel, stride = tuple(t._params["kernel"]), tuple(t._params["stride"])
    (c, kh, kw, _, oh, ow) = t.shape

    def step(mod: Any, batch: int, x: Any) -> Any:
        cols = torch.nn.functional.unfold(x, kernel, stride=stride)  # (N, C*kH*kW, H'*W')
        return cols.reshape(x.shape[0], c, kh, kw, oh, ow).permute(1, 2, 3, 0, 4, 5)

    return step


def _window_sum(torch: Any, t: Tensor, t2: Tensor, traced: Traced) -> Step:
    weights = t._params["weights"]
    if np.ndim(weights) != 0:
        raise ExportError(f"to_torch: {t._op} {traced.where(t)} with one weight per window cannot be replayed")
    (sh, sw), (oh, ow) = t._params["stride"], t.shape[2:]
    offsets = list(np.ndindex(*t._params["kernel"]))

    def step(mod: Any, batch: int, x: Any) -> Any:
        total = None
        for u, v in offsets:  # the same order and rounding as WindowSum.forward
            term = x[:, :, u : u + sh * (oh - 1) + 1 : sh, v : v + sw * (ow - 1) + 1 : sw] * float(weights)
            total = term if total is None else total + term
        return total

    return step


TORCH_PRIMITIVES: dict[type[P.Primitive], Builder] = {
    **{cls: _fn(name) for cls, name in [
        (P.Neg, "neg"), (P.Exp, "exp"), (P.Log, "log"), (P.Sqrt, "sqrt"), (P.Abs, "abs"), (P.Tanh, "tanh"),
        (P.Sigmoid, "sigmoid"), (P.Relu, "relu"), (P.Add, "add"), (P.Sub, "sub"), (P.Mul, "mul"), (P.Div, "div"),
        (P.Pow, "pow"), (P.Maximum, "maximum"), (P.MatMul, "matmul"), (P.Sin, "sin"), (P.Cos, "cos"),
        (P.Asin, "asin"), (P.Atan, "atan"), (P.Erf, "erf"), (P.Log1p, "log1p"), (P.Expm1, "expm1"),
    ]},
    P.Cast: _cast,
    P.PowConst: lambda torch, t, t2, traced: (lambda mod, batch, x, _e=t._params["exponent"]: x ** float(_e)),
    P.Where: _where,
    P.Sum: _reduce("sum"),
    P.Max: _reduce("amax"),
    P.Reshape: _reshape,
    P.Permute: lambda torch, t, t2, traced: (lambda mod, batch, x, _a=tuple(t._params["axes"]): x.permute(_a)),
    P.Expand: _expand,
    P.Getitem: _getitem,
    P.Pad: _pad,
    P.Cumsum: lambda torch, t, t2, traced: (lambda mod, batch, x, _a=t._params["axis"]: torch.cumsum(x, dim=_a)),
    P.Cumprod: lambda torch, t, t2, traced: (lambda mod, batch, x, _a=t._params["axis"]: torch.cumprod(x, dim=_a)),
    P.Concatenate: lambda torch, t, t2, traced: (lambda mod, batch, *xs, _a=t._params["axis"]: torch.cat(xs, dim=_a)),
    P.Linear: lambda torch, t, t2, traced: (lambda mod, batch, *xs: torch.nn.functional.linear(*xs)),
    P.Im2col: _im2col,
    P.WindowSum: _window_sum,
    P.AvgPool2d: _window_sum,
    P.MaxPool2d: lambda torch, t, t2, traced: (
        lambda mod, batch, x, _p=t._params: torch.nn.functional.max_pool2d(x, _p["kernel"], _p["stride"], _p["padding"])
    ),
}
"""Primitive class -> builder(torch, tensor, same tensor in the second trace, traced) -> step(module, batch, *xs)."""


def traced_torch_module(
    model: Module, example_input: Any, convert: Any, make_param: Callable[[Any], Any], torch: Any,
    dynamic_batch: bool = True,
) -> Any:
    """The traced module (see the module docstring).

    ``convert`` is the layer converter of :func:`~.torch_bridge.to_torch` (its table gives each
    layer's twin; shared parameters stay shared through it), ``make_param`` makes a torch
    Parameter from one of ours. The replay is the eval-mode forward pass (Dropout is the identity).
    """
    layer_types = set(convert.table) - {nn.Sequential, nn.MLP}
    traced = trace_twice(model, example_input, dynamic_batch, layer_types, "to_torch", params_are_live=True)
    first = traced.first

    root = torch.nn.Module()
    containers: dict[str, Any] = {}
    for name, m in model.named_modules():
        parent_name, _, child = name.rpartition(".")
        if name and parent_name not in containers:
            continue  # inside a layer that became its twin
        if name and type(m) in layer_types:
            (containers[parent_name]).add_module(child, convert.module(m, name))
            continue
        container = root if not name else torch.nn.Module()
        if name:
            containers[parent_name].add_module(child, container)
        containers[name] = container
        for pname, p in m._parameters.items():
            if p is not None:
                container.register_parameter(pname, convert.param(p, make_param))
    param_names = {id(p): name for name, p in model.named_parameters()}
    layer_names = {id(m): name for name, m in model.named_modules()}

    steps: list[tuple[int, Step, list[int]]] = []  # (id of output, step, ids of inputs)
    leaves: dict[int, Step] = {}
    consts: list[Any] = []

    def constant(t: Tensor, consumer: Tensor) -> int:
        t2 = traced.pair[id(t)]
        live = [p for p in consumer._parents if id(p) in first.depends]
        broadcast = (id(consumer) not in first.layers and consumer._fn in BROADCASTING_PRIMITIVES and bool(live)
                     and all(p.shape == consumer.shape for p in live))
        source, other = (strip_expand(t), strip_expand(t2)) if broadcast else (t, t2)
        a, b = (compact(source.data), compact(other.data)) if broadcast else (source.data, other.data)
        key = -1 - len(consts)  # a private key for this constant (ids are positive)
        if a.shape == b.shape and np.array_equal(a, b, equal_nan=True):
            buffer = f"_constant_{len(consts)}"  # a buffer, so .to(device) and .double() move it too
            root.register_buffer(buffer, torch.from_numpy(np.array(a)), persistent=False)  # not in state_dict
            consts.append(buffer)
            leaves[key] = lambda mod, batch, _b=buffer: getattr(mod, _b)
            return key
        shift = max_shift(consumer, t, a, b, first, traced.pair)
        if shift is None:
            raise ExportError(
                f"to_torch: a constant used by {consumer._op or 'a layer'} {traced.where(consumer)} is computed "
                f"outside the graph and changes with the data or the batch size (shape {a.shape} vs {b.shape} on "
                "another input); compute it with Tensor ops on the input"
            )
        consts.append(None)
        source_id, axes = id(live[0]), tuple(shift)

        def stable_shift(mod: Any, batch: int, x: Any) -> Any:  # max x held constant, 0 where infinite
            m = x.detach().amax(dim=axes, keepdim=True)
            return torch.where(torch.isinf(m), torch.zeros_like(m), m)

        steps.append((key, stable_shift, [source_id]))
        return key

    for t in first.order:
        if id(t) not in first.depends:
            continue
        if t is first.x:
            continue
        if id(t) in param_names:
            name = param_names[id(t)]
            leaves[id(t)] = lambda mod, batch, _n=name: mod.get_parameter(_n)
            continue
        t2 = traced.pair[id(t)]
        ins = [id(p) if id(p) in first.depends else constant(p, t) for p in first.inputs_of(t)]
        layer = first.layers.get(id(t))
        if layer is not None:
            path = layer_names[id(layer[0])]
            steps.append((id(t), lambda mod, batch, x, _p=path: mod.get_submodule(_p)(x), ins))
            continue
        build = TORCH_PRIMITIVES.get(t._fn)  # type: ignore[arg-type]
        if build is None:
            raise ExportError(
                f"to_torch: the op {t._op!r} {traced.where(t)} has no torch counterpart here; "
                f"replayable primitives: {sorted(f.__name__ for f in TORCH_PRIMITIVES)}"
            )
        if t._fn is P.Where:
            same = equal_params(compact(t._params["cond"]), compact(t2._params["cond"]))
        else:
            same = t._fn in BATCH_SHAPED_PRIMITIVES or equal_params(t._params, t2._params)
        if not same:
            raise ExportError(
                f"to_torch: the op {t._op!r} {traced.where(t)} has parameters that change with the input data "
                "(e.g. a mask computed in numpy, as in clip or Tensor.leaky_relu); use the layer (nn.LeakyReLU, "
                "nn.ELU, ...) or ops computed on the input"
            )
        steps.append((id(t), build(torch, t, t2, traced), ins))

    x_id, out_id = id(first.x), id(first.out)
    if out_id == x_id or out_id in param_names or out_id not in first.depends:
        raise ExportError("to_torch: the model's output is its input, a parameter or a constant; nothing to trace")
    return _traced_class(torch)(root, steps, leaves, x_id, out_id, type(model).__name__, model.training)


_CLASSES: dict[int, type] = {}


def _traced_class(torch: Any) -> type:
    """``TracedModule``, defined once torch is imported (it subclasses ``torch.nn.Module``)."""
    if id(torch) in _CLASSES:
        return _CLASSES[id(torch)]

    class TracedModule(torch.nn.Module):
        """A tinygrad_edu model's recorded forward pass, replayed with torch ops (see ``to_torch``)."""

        def __init__(self, root: Any, steps: list, leaves: dict, x_id: int, out_id: int, name: str,
                     training: bool) -> None:
            super().__init__()
            for child_name, child in root.named_children():
                self.add_module(child_name, child)
            for pname, p in root.named_parameters(recurse=False):
                self.register_parameter(pname, p)
            for bname, b in root.named_buffers(recurse=False):
                self.register_buffer(bname, b, persistent=False)
            self._steps, self._leaves, self._x, self._out, self._name = steps, leaves, x_id, out_id, name
            self.train(training)

        def forward(self, x: Any) -> Any:
            values: dict[int, Any] = {self._x: x}
            batch = x.shape[0]
            for key, leaf in self._leaves.items():
                values[key] = leaf(self, batch)
            for out, step, ins in self._steps:
                values[out] = step(self, batch, *[values[i] for i in ins])
            return values[self._out]

        def extra_repr(self) -> str:
            return f"traced from {self._name}: {len(self._steps)} steps"

    _CLASSES[id(torch)] = TracedModule
    return TracedModule
