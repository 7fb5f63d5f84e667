"""``to_onnx(model, example_input, path)``: an ONNX file traced from one recorded forward pass.

How it works. The forward pass already records a graph: every Tensor made by a primitive
keeps its parents (``_parents``), the primitive class (``_fn``) and its parameters
(``_params``), and the module stack it was made in (``_scope``). The exporter

1. runs the model (in eval mode) on the example input, with the input marked
   ``requires_grad`` so every op that depends on it is recorded. Layers that have one ONNX
   operator (:data:`ONNX_LAYERS`: Linear -> Gemm, Conv2d -> Conv, MaxPool2d -> MaxPool, ...)
   are recorded as one step, not as the primitives inside them;
2. walks the graph from the output back to the input. A tensor that does not depend on the
   input (a parameter, ``W.T``, a constant) is **folded**: its value becomes an initializer;
3. turns every other step into ONNX nodes with one emitter function per primitive class
   (:data:`ONNX_PRIMITIVES`) or layer class. A primitive without an emitter raises
   :class:`ExportError` naming the op and the module it was called in. New primitives
   become exportable by adding a row: ``ONNX_PRIMITIVES[MyPrimitive] = emit_my_primitive``;
4. runs the model a second time on other data with one more example in the batch, and
   compares the two graphs: a shape that grew with the batch becomes a dynamic batch
   dimension (``dynamic_batch=True``), and a parameter that changed with the *data* (e.g.
   the mask of ``x.clip(0, 1)``, computed in numpy outside the graph) is an error instead
   of a silently wrong export.

Numbers are kept exact: float64 models run in float64, and where ONNX Runtime has no
float64 kernel (Conv, AveragePool, Elu) the float64 export writes the same sums with
Slice, MatMul, Add and Exp (see :mod:`.onnx_emitters`).
"""

from __future__ import annotations

import linecache
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .. import engine, tensor_class
from .. import primitives as P
from ..checkpoint import atomic_write
from ..nn.module import Module
from ..tensor_class import Tensor
from ._optional import require
from .onnx_emitters import (
    BATCH_SHAPED_PRIMITIVES,
    BROADCASTING_PRIMITIVES,
    ONNX_LAYERS,
    ONNX_PRIMITIVES,
    Builder,
    ExportError,
)

__all__ = ["to_onnx"]

DEFAULT_OPSET = 17
MIN_OPSET = 13


# ====================================================================== tracing


@dataclass
class _Trace:
    """One recorded forward pass: its nodes in topological order (parents first)."""

    x: Tensor
    out: Tensor
    layers: dict[int, tuple[Module, Tensor, Tensor]]  # id(layer output) -> (layer, its input, output)
    order: list[Tensor] = field(default_factory=list)
    depends: set[int] = field(default_factory=set)  # ids of the tensors computed from x

    def inputs_of(self, t: Tensor) -> tuple[Tensor, ...]:
        layer = self.layers.get(id(t))
        return (layer[1],) if layer is not None else t._parents

    def walk(self) -> None:
        """Post-order from ``out``; a tensor depends on x when any of its inputs does."""
        seen: set[int] = set()
        stack: list[tuple[Tensor, bool]] = [(self.out, False)]
        while stack:
            t, done = stack.pop()
            if done:
                if t is self.x or any(id(p) in self.depends for p in self.inputs_of(t)):
                    self.depends.add(id(t))
                self.order.append(t)
                continue
            if id(t) in seen:
                continue
            seen.add(id(t))
            stack.append((t, True))
            if t is not self.x:
                stack.extend((p, False) for p in reversed(self.inputs_of(t)) if id(p) not in seen)


_PACKAGE_DIR = str(Path(__file__).resolve().parent.parent)


def _call_site() -> str:
    """``file:line in function`` of the innermost caller outside tinygrad_edu (the user's forward)."""
    frame = sys._getframe(2)
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE_DIR):
        frame = frame.f_back
    if frame is None:
        return ""
    source = linecache.getline(frame.f_code.co_filename, frame.f_lineno).strip()
    return f"{Path(frame.f_code.co_filename).name}:{frame.f_lineno} in {frame.f_code.co_name}" + (
        f" ({source})" if source else ""
    )


def _run(model: Module, x_data: np.ndarray, dtype: np.dtype, sites: dict[int, str] | None = None) -> _Trace:
    """Run ``model`` on ``x_data``, recording known layers as single steps (and, into ``sites``,
    where each op was called)."""
    layers: dict[int, tuple[Module, Tensor, Tensor]] = {}
    patched = []
    for m in model.modules():
        if type(m) not in ONNX_LAYERS:
            continue
        original = m.forward

        def forward(x: Any, _m: Module = m, _original: Callable[..., Any] = original) -> Any:
            out = _original(x)
            if isinstance(x, Tensor) and isinstance(out, Tensor) and out is not x:
                layers[id(out)] = (_m, x, out)
            return out

        object.__setattr__(m, "forward", forward)  # an instance attribute shadows the class's forward
        patched.append(m)
    x = Tensor(x_data, requires_grad=True)

    def remember(out: Tensor, fn: Any, inputs: Any) -> None:
        sites[id(out)] = _call_site()  # type: ignore[index]

    if sites is not None:  # the hook detect_anomaly uses: called after every primitive
        tensor_class._anomaly_hooks.append(remember)
    try:
        with engine.enable_grad():
            out = model(x)
    finally:
        if sites is not None:
            tensor_class._anomaly_hooks.remove(remember)
        for m in patched:
            object.__delattr__(m, "forward")
    if not isinstance(out, Tensor):
        raise ExportError(f"to_onnx: the model must return one Tensor, got {type(out).__name__}")
    trace = _Trace(x, out, layers)
    trace.walk()
    return trace


# ====================================================================== the export


def _strip_expand(t: Tensor) -> Tensor:
    while t._fn is P.Expand and t._parents:
        t = t._parents[0]
    return t


def _compact(data: np.ndarray) -> np.ndarray:
    """``data`` with every broadcast axis (stride 0, as numpy's broadcast views have) cut to size 1."""
    if data.ndim == 0 or all(st != 0 or n == 1 for st, n in zip(data.strides, data.shape)):
        return data
    return data[tuple(slice(0, 1) if st == 0 else slice(None) for st in data.strides)]


def _max_shift(
    consumer: Tensor, t: Tensor, a: np.ndarray, b: np.ndarray, first: _Trace, pair: dict[int, Tensor]
) -> list[int] | None:
    """The axes of ``x - m`` when the constant m is max(x) over them (the stable shift of softmax), else None.

    softmax and log_softmax subtract max x computed in numpy (their result does not depend
    on it); in ONNX the shift is recomputed with ReduceMax, so it follows the data.
    """
    if consumer._fn is not P.Sub or consumer._parents[1] is not t or id(consumer._parents[0]) not in first.depends:
        return None
    x, x2 = consumer._parents[0].data, pair[id(consumer._parents[0])].data
    if a.ndim != x.ndim:
        return None
    axes = tuple(i for i, (n, m) in enumerate(zip(a.shape, x.shape)) if n == 1 and m != 1)
    for data, value in ((x, a), (x2, b)):
        m = data.max(axis=axes, keepdims=True) if axes else data
        if m.shape != value.shape or not np.array_equal(np.where(np.isinf(m), 0, m), value):
            return None
    return list(axes)


def _equal(x: Any, y: Any) -> bool:
    """Whether two primitive parameters are equal (arrays by value, tuples and dicts element by element)."""
    if isinstance(x, np.ndarray) or isinstance(y, np.ndarray):
        return isinstance(x, np.ndarray) and isinstance(y, np.ndarray) and x.shape == y.shape and np.array_equal(x, y)
    if isinstance(x, (tuple, list)):
        return type(x) is type(y) and len(x) == len(y) and all(_equal(a, b) for a, b in zip(x, y))
    if isinstance(x, dict):
        return isinstance(y, dict) and x.keys() == y.keys() and all(_equal(x[k], y[k]) for k in x)
    return bool(x == y)


def _second_input(x: np.ndarray, extra_row: bool) -> np.ndarray:
    """Other data (reversed, scaled, shifted), one example longer when the batch is dynamic."""
    other = -1.25 * x[::-1] + 0.375
    return np.concatenate([other, other[:1]]) if extra_row else other


def to_onnx(
    model: Module,
    example_input: Any,
    path: str | os.PathLike,
    dynamic_batch: bool = True,
    opset: int | None = None,
) -> Path:
    """Write ``model`` as an ONNX file traced from a forward pass on ``example_input`` (batch first).

    The file is checked with ``onnx.checker`` and runs in ONNX Runtime with the model's
    dtype (float32 or float64) and, with ``dynamic_batch=True``, any batch size.
    ``opset`` defaults to 17. Unsupported ops raise :class:`ExportError` naming the op and
    where it was called. Needs the ``[export]`` extra (``pip install onnx onnxruntime``).
    """
    onnx = require("onnx", "to_onnx")
    if not isinstance(model, Module):
        raise TypeError(f"to_onnx: expected a tinygrad_edu Module, got {type(model).__name__}")
    target = Path(path)
    if target.suffix != ".onnx":
        raise ValueError(f"to_onnx: expected a path ending in .onnx, got {str(path)!r}")
    opset = DEFAULT_OPSET if opset is None else int(opset)
    if not MIN_OPSET <= opset <= onnx.defs.onnx_opset_version():
        raise ValueError(f"to_onnx: opset must be in {MIN_OPSET}..{onnx.defs.onnx_opset_version()}, got {opset}")
    x1 = np.asarray(example_input.data if isinstance(example_input, Tensor) else example_input)
    params = model.parameters()
    dtype = np.dtype(params[0].dtype) if params else Tensor(x1).data.dtype
    x1 = x1.astype(dtype)
    if x1.ndim == 0 or x1.shape[0] < 1:
        raise ValueError(f"to_onnx: example_input must have a batch axis first, got shape {x1.shape}")
    x2 = _second_input(x1, dynamic_batch)

    flags = [(m, m.training) for m in model.modules()]
    model.eval()
    try:
        sites: dict[int, str] = {}  # id(tensor) -> the user's line that made it (for error messages)
        first, second = _run(model, x1, dtype, sites), _run(model, x2, dtype)
    finally:
        for m, flag in flags:
            object.__setattr__(m, "training", flag)

    names = {id(m): name for name, m in model.named_modules()}

    def where(t: Tensor) -> str:
        scope = [f"{names.get(id(m), '?') or 'the model'} ({type(m).__name__})" for m in t._scope]
        text = "in " + " > ".join(scope) if scope else "in the model's forward"
        return text + (f", called at {sites[id(t)]}" if sites.get(id(t)) else "")

    def kind(trace: _Trace, t: Tensor) -> Any:
        layer = trace.layers.get(id(t))
        return type(layer[0]) if layer else (t._fn if id(t) in trace.depends and t is not trace.x else "const")

    if [kind(first, t) for t in first.order] != [kind(second, t) for t in second.order]:
        raise ExportError(
            "to_onnx: the model records a different graph on another input (control flow on the data or the "
            "batch size); export with dynamic_batch=False, or move the branch out of forward"
        )

    param_names = {id(p): name for name, p in model.named_parameters()}
    builder = Builder(onnx, dtype, opset, (x1.shape[0], x2.shape[0]), where, param_names)
    out_names: dict[int, str] = {id(first.x): builder.input_name}
    pair = {id(t): t2 for t, t2 in zip(first.order, second.order)}

    def constant(t: Tensor, consumer: Tensor) -> str:
        """The initializer (or node) for a tensor ``consumer`` uses that does not depend on the input."""
        t2 = pair[id(t)]
        # Before a broadcasting op, a constant that was only broadcast (recorded Expand, or a stride-0
        # numpy view) is stored unbroadcast: ONNX broadcasts it again, for any batch size.
        live = [p for p in consumer._parents if id(p) in first.depends]
        broadcast = (id(consumer) not in first.layers and consumer._fn in BROADCASTING_PRIMITIVES and bool(live)
                     and all(p.shape == consumer.shape for p in live))
        source, other = (_strip_expand(t), _strip_expand(t2)) if broadcast else (t, t2)
        a, b = (_compact(source.data), _compact(other.data)) if broadcast else (source.data, other.data)
        if a.shape == b.shape and np.array_equal(a, b, equal_nan=True):
            return builder.tensor(source) if a is source.data else builder.const(a, dtype=a.dtype)
        shift = _max_shift(consumer, t, a, b, first, pair)
        if shift is not None:
            return builder.node("ReduceMax", [out_names[id(live[0])], builder.ints(shift)], keepdims=1) \
                if opset >= 18 else builder.node("ReduceMax", [out_names[id(live[0])]], axes=shift, keepdims=1)
        raise ExportError(
            f"to_onnx: a constant used by {consumer._op or 'a layer'} {where(consumer)} is computed outside "
            f"the graph and changes with the data or the batch size (shape {a.shape} vs {b.shape} on another "
            "input); compute it with Tensor ops on the input, or export with a fixed batch (dynamic_batch=False)"
        )

    for t in first.order:
        if id(t) not in first.depends or t is first.x:
            continue
        t2 = pair[id(t)]
        ins = [out_names[id(p)] if id(p) in first.depends else constant(p, t) for p in first.inputs_of(t)]
        layer = first.layers.get(id(t))
        if layer is not None:
            module, x_in, _ = layer
            out_names[id(t)] = ONNX_LAYERS[type(module)](builder, module, x_in, ins[0])
            continue
        emit = ONNX_PRIMITIVES.get(t._fn)  # type: ignore[arg-type]
        if emit is None:
            raise ExportError(
                f"to_onnx: the op {t._op!r} ({t._fn.__name__ if t._fn else '?'}) {where(t)} has no ONNX emitter; "
                f"exportable primitives: {sorted(f.__name__ for f in ONNX_PRIMITIVES)}"
            )
        if t._fn not in BATCH_SHAPED_PRIMITIVES and not _equal(t._params, t2._params):
            raise ExportError(
                f"to_onnx: the op {t._op!r} {where(t)} has parameters that change with the input data "
                f"(e.g. a mask computed in numpy, as in clip or Tensor.leaky_relu); ONNX cannot recompute them. "
                "Use the layer (nn.LeakyReLU, nn.ELU, ...) or ops computed on the input"
            )
        out_names[id(t)] = emit(builder, t, t2, ins)

    output = out_names.get(id(first.out)) or builder.node("Identity", [constant(first.out, first.out)])
    if output == builder.input_name:
        output = builder.node("Identity", [output])
    elem = onnx.helper.np_dtype_to_tensor_dtype(dtype)

    def dims(a: tuple[int, ...], b: tuple[int, ...]) -> list[Any]:
        return [n if n == m else "batch" for n, m in zip(a, b)]

    graph = onnx.helper.make_graph(
        builder.nodes,
        type(model).__name__,
        [onnx.helper.make_tensor_value_info(builder.input_name, elem, dims(x1.shape, x2.shape))],
        [onnx.helper.make_tensor_value_info(output, onnx.helper.np_dtype_to_tensor_dtype(first.out.data.dtype),
                                            dims(first.out.shape, second.out.shape))],
        initializer=builder.initializers,
    )
    proto = onnx.helper.make_model(graph, opset_imports=[onnx.helper.make_opsetid("", opset)],
                                   producer_name="tinygrad_edu")
    proto.ir_version = min(proto.ir_version, 10)  # readable by ONNX Runtime releases of the last two years
    onnx.checker.check_model(proto, full_check=True)
    return atomic_write(target, lambda f: f.write(proto.SerializeToString()), "to_onnx")
