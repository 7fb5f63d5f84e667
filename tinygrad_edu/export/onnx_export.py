"""``to_onnx(model, example_input, path)``: an ONNX file traced from one recorded forward pass.

:func:`~.trace.trace_twice` records the model's forward pass twice (the example, and the
same values reversed with one more example); layers that have one ONNX operator
(:data:`ONNX_LAYERS`: Linear -> Gemm, Conv2d -> Conv, MaxPool2d -> MaxPool, ...) are
recorded as one step. Then the graph is walked from the input to the output:

* a tensor that does not depend on the input (a parameter, ``W.T``, a constant) is
  **folded**: its value becomes an initializer (a parameter keeps its state-dict name);
* every other step becomes ONNX nodes, from one emitter function per primitive class
  (:data:`ONNX_PRIMITIVES`) or layer class. A primitive without an emitter raises
  :class:`ExportError` naming the op, the module and the line it was called in. A new
  primitive becomes exportable by adding a row: ``ONNX_PRIMITIVES[MyPrimitive] = emit``;
* a shape that grew with the batch between the two traces becomes a dynamic batch size
  (``dynamic_batch=True``); a parameter or constant that changed with the *data* (the mask
  of ``x.clip(0, 1)``, computed in numpy outside the graph) is an error, not a silently
  wrong export. Softmax's stable shift (max x, computed in numpy) is recomputed with ReduceMax.

Numbers are kept exact: float64 models run in float64, and where ONNX Runtime has no
float64 kernel (Conv, AveragePool, Elu) the float64 export writes the same sums with
Slice, MatMul, Add and Exp (see :mod:`.onnx_emitters`).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

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
    compact,
)
from .trace import equal_params, max_shift, strip_expand, trace_twice

__all__ = ["to_onnx"]

DEFAULT_OPSET = 17
MIN_OPSET = 13


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
    traced = trace_twice(model, example_input, dynamic_batch, ONNX_LAYERS, "to_onnx")
    first, second, pair, where, dtype = traced.first, traced.second, traced.pair, traced.where, traced.dtype
    param_names = {id(p): name for name, p in model.named_parameters()}
    builder = Builder(onnx, dtype, opset, traced.batch_sizes, where, param_names)
    out_names: dict[int, str] = {id(first.x): builder.input_name}

    def constant(t: Tensor, consumer: Tensor) -> str:
        """The initializer (or node) for a tensor ``consumer`` uses that does not depend on the input."""
        t2 = pair[id(t)]
        # Before a broadcasting op, a constant that was only broadcast (recorded Expand, or a stride-0
        # numpy view) is stored unbroadcast: ONNX broadcasts it again, for any batch size.
        live = [p for p in consumer._parents if id(p) in first.depends]
        broadcast = (id(consumer) not in first.layers and consumer._fn in BROADCASTING_PRIMITIVES and bool(live)
                     and all(p.shape == consumer.shape for p in live))
        source, other = (strip_expand(t), strip_expand(t2)) if broadcast else (t, t2)
        a, b = (compact(source.data), compact(other.data)) if broadcast else (source.data, other.data)
        if a.shape == b.shape and np.array_equal(a, b, equal_nan=True):
            return builder.tensor(source) if a is source.data else builder.const(a, dtype=a.dtype)
        shift = max_shift(consumer, t, a, b, first, pair)
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
        if t._fn is P.Where:  # a constant mask broadcast over the batch is stored unbroadcast (as by _where)
            same = equal_params(compact(t._params["cond"]), compact(t2._params["cond"]))
        else:
            same = t._fn in BATCH_SHAPED_PRIMITIVES or equal_params(t._params, t2._params)
        if not same:
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
        [onnx.helper.make_tensor_value_info(builder.input_name, elem, dims(first.x.shape, second.x.shape))],
        [onnx.helper.make_tensor_value_info(output, onnx.helper.np_dtype_to_tensor_dtype(first.out.data.dtype),
                                            dims(first.out.shape, second.out.shape))],
        initializer=builder.initializers,
    )
    proto = onnx.helper.make_model(graph, opset_imports=[onnx.helper.make_opsetid("", opset)],
                                   producer_name="tinygrad_edu")
    proto.ir_version = min(proto.ir_version, 10)  # readable by ONNX Runtime releases of the last two years
    onnx.checker.check_model(proto, full_check=True)
    return atomic_write(target, lambda f: f.write(proto.SerializeToString()), "to_onnx")
