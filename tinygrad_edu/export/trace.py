"""Tracing a model for export: two recorded forward passes, walked from the output back.

The forward pass already records a graph: every Tensor made by a primitive keeps its
parents (``_parents``), the primitive class (``_fn``), its parameters (``_params``) and the
module stack it was made in (``_scope``). :func:`trace_twice` runs the model (in eval mode)

* on the example input, marked ``requires_grad`` so every op that depends on it is
  recorded; layers the exporter writes as a whole (``layer_types``) are recorded as one
  step, not as the primitives inside them; and
* on other data made from the same values (every axis reversed) with one more example
  when the batch is dynamic.

Comparing the two graphs step by step tells a shape that grows with the batch (it becomes
a dynamic batch size) from a value computed from the *data* outside the graph (a numpy
mask, as in ``clip``), which no exported graph could recompute: an :class:`ExportError`.
"""

from __future__ import annotations

import linecache
import sys
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .. import engine, tensor_class
from .. import primitives as P
from ..nn.module import Module
from ..tensor_class import Tensor
from .onnx_emitters import ExportError

__all__ = ["Trace", "Traced", "equal_params", "max_shift", "strip_expand", "trace_twice"]


@dataclass
class Trace:
    """One recorded forward pass: its nodes in topological order (parents first)."""

    x: Tensor
    out: Tensor
    layers: dict[int, tuple[Module, Tensor, Tensor]]  # id(layer output) -> (layer, its input, output)
    roots: set[int] = field(default_factory=set)  # ids of the tensors that count as live: x (and parameters)
    order: list[Tensor] = field(default_factory=list)
    depends: set[int] = field(default_factory=set)  # ids of the tensors computed from a root

    def inputs_of(self, t: Tensor) -> tuple[Tensor, ...]:
        layer = self.layers.get(id(t))
        return (layer[1],) if layer is not None else t._parents

    def walk(self) -> None:
        """Post-order from ``out``; a tensor depends on the roots when any of its inputs does."""
        seen: set[int] = set()
        stack: list[tuple[Tensor, bool]] = [(self.out, False)]
        while stack:
            t, done = stack.pop()
            if done:
                if id(t) in self.roots or any(id(p) in self.depends for p in self.inputs_of(t)):
                    self.depends.add(id(t))
                self.order.append(t)
                continue
            if id(t) in seen:
                continue
            seen.add(id(t))
            stack.append((t, True))
            if id(t) not in self.roots:
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


def _run(
    model: Module, x_data: np.ndarray, layer_types: Collection[type], roots: Collection[Tensor], op: str,
    sites: dict[int, str] | None = None,
) -> Trace:
    """Run ``model`` on ``x_data``, recording layers of ``layer_types`` as single steps (and, into
    ``sites``, where each op was called)."""
    layers: dict[int, tuple[Module, Tensor, Tensor]] = {}
    patched = []
    for m in model.modules():
        if type(m) not in layer_types:
            continue
        original = m.forward

        def forward(*args: Any, _m: Module = m, _original: Callable[..., Any] = original, **kwargs: Any) -> Any:
            out = _original(*args, **kwargs)
            given = [*args, *kwargs.values()]  # the layer's one input, passed by position or by name
            x = given[0] if len(given) == 1 else None
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
        raise ExportError(f"{op}: the model must return one Tensor, got {type(out).__name__}")
    trace = Trace(x, out, layers, {id(x), *(id(r) for r in roots)})
    trace.walk()
    return trace


def _second_input(x: np.ndarray, extra_row: bool) -> np.ndarray:
    """Other data from the same values (every axis reversed, so any range the inputs must stay in
    still holds), one example longer when the batch is dynamic."""
    other = np.ascontiguousarray(np.flip(x))
    return np.concatenate([other, other[:1]]) if extra_row else other


@dataclass
class Traced:
    """The two traces of :func:`trace_twice`, paired step by step."""

    first: Trace
    second: Trace
    pair: dict[int, Tensor]  # id(tensor of the first trace) -> the same step's tensor in the second
    where: Callable[[Tensor], str]  # "in model.3 (Block), called at net.py:12 in forward (...)"
    dtype: np.dtype
    batch_sizes: tuple[int, int]


def trace_twice(
    model: Module, example_input: Any, dynamic_batch: bool, layer_types: Collection[type], op: str,
    params_are_live: bool = False,
) -> Traced:
    """Trace ``model`` on ``example_input`` and on the second input; check both record the same steps.

    ``params_are_live``: parameters count as live like the input (their steps are kept, not
    folded), for an export that must carry gradients to them.
    """
    x1 = np.asarray(example_input.data if isinstance(example_input, Tensor) else example_input)
    params = model.parameters()
    dtype = np.dtype(params[0].dtype) if params else Tensor(x1).data.dtype
    x1 = x1.astype(dtype)
    if x1.ndim == 0 or x1.shape[0] < 1:
        raise ValueError(f"{op}: example_input must have a batch axis first, got shape {x1.shape}")
    x2 = _second_input(x1, dynamic_batch)
    roots = params if params_are_live else []
    flags = [(m, m.training) for m in model.modules()]
    model.eval()
    sites: dict[int, str] = {}  # id(tensor) -> the user's line that made it (for error messages)
    try:
        first = _run(model, x1, layer_types, roots, op, sites)
        try:
            second = _run(model, x2, layer_types, roots, op)
        except Exception as err:
            raise ExportError(
                f"{op}: the model ran on example_input but failed on the second input the exporter makes from "
                f"it (the example with every axis reversed{', one example longer' if dynamic_batch else ''}; comparing "
                f"the two runs finds the batch axis and anything computed from the data outside the graph): {err}"
            ) from err
    finally:
        for m, flag in flags:
            object.__setattr__(m, "training", flag)

    names = {id(m): name for name, m in model.named_modules()}

    def where(t: Tensor) -> str:
        scope = [f"{names.get(id(m), '?') or 'the model'} ({type(m).__name__})" for m in t._scope]
        text = "in " + " > ".join(scope) if scope else "in the model's forward"
        return text + (f", called at {sites[id(t)]}" if sites.get(id(t)) else "")

    def kind(trace: Trace, t: Tensor) -> Any:
        layer = trace.layers.get(id(t))
        return type(layer[0]) if layer else (t._fn if id(t) in trace.depends and t is not trace.x else "const")

    if [kind(first, t) for t in first.order] != [kind(second, t) for t in second.order]:
        raise ExportError(
            f"{op}: the model records a different graph on another input (control flow on the data or the "
            "batch size); export with dynamic_batch=False, or move the branch out of forward"
        )
    pair = {id(t): t2 for t, t2 in zip(first.order, second.order)}
    return Traced(first, second, pair, where, dtype, (x1.shape[0], x2.shape[0]))


# ====================================================================== comparing the two traces


def strip_expand(t: Tensor) -> Tensor:
    """The tensor before any recorded broadcasts (Expand steps)."""
    while t._fn is P.Expand and t._parents:
        t = t._parents[0]
    return t


def max_shift(
    consumer: Tensor, t: Tensor, a: np.ndarray, b: np.ndarray, first: Trace, pair: dict[int, Tensor]
) -> list[int] | None:
    """The axes of ``x - m`` when the constant m is max(x) over them (the stable shift of softmax), else None.

    softmax and log_softmax subtract max x computed in numpy (their result does not depend
    on it); an export recomputes the shift from the data instead.
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


def equal_params(x: Any, y: Any) -> bool:
    """Whether two primitive parameters are equal (arrays by value, tuples and dicts element by element)."""
    if isinstance(x, np.ndarray) or isinstance(y, np.ndarray):
        return isinstance(x, np.ndarray) and isinstance(y, np.ndarray) and x.shape == y.shape and np.array_equal(x, y)
    if isinstance(x, (tuple, list)):
        return type(x) is type(y) and len(x) == len(y) and all(equal_params(a, b) for a, b in zip(x, y))
    if isinstance(x, dict):
        return isinstance(y, dict) and x.keys() == y.keys() and all(equal_params(x[k], y[k]) for k in x)
    return bool(x == y)
