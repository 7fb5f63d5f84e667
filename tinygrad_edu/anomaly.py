"""Anomaly detection: stop at the first op that makes a NaN or an infinity.

A NaN loss is a symptom; its cause is usually many ops earlier: a log of 0, an exp
that overflowed, a division by a zero variance, or sqrt'(0) = inf in the backward
pass. Inside ``with detect_anomaly():``

* **forward**: after every ``Tensor`` primitive and every ``Value`` op the result is
  checked. If it holds a NaN or an infinity, :class:`AnomalyError` is raised right
  there, naming the op, the shapes of its inputs (for a ``Value``, their values) and
  the line of *your* code that called it (frames inside tinygrad_edu are skipped, so
  you see ``model(x)`` or ``loss_fn(...)``, and the module scope, e.g.
  ``MLP > Linear``, names the layer). ``Value`` ops raise on domain errors by
  themselves (log 0, 1/0, e^x overflow); this catches the rest, e.g. a product that
  overflows (1e308 * 10 = inf) or inf * 0 = nan;
* **backward**: every vector-Jacobian product (VJP) is checked. The chain rule gives
  dL/d(input) = d(out)/d(input) * dL/d(out) for each input of each op; if that holds a
  NaN or an infinity, the error names the op whose backward made it and the line that
  created that op in the forward pass (remembered for every recorded op while
  anomaly mode is on, for ``Tensor`` and ``Value`` graphs alike).

Example::

    with detect_anomaly():
        loss = loss_fn(model(X), Y)
        loss.backward()

Modes nest and are per thread: a ``with detect_anomaly()`` block in one thread does
not check ops run by another thread. Cost: nothing when no block is open (one
empty-list test per op); while one is open, one ``isfinite`` scan per op plus a short
stack walk per recorded op -- a debugging tool, a few times slower than normal.

Every infinity counts as an anomaly, including deliberate ones such as ``-inf``
masks; pass ``allow_inf=True`` to stop only at NaNs.
"""

from __future__ import annotations

import linecache
import math
import os
import sys
import sysconfig
import threading
import weakref
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import engine
from . import tensor_class as _tensor
from . import value as _value

__all__ = ["AnomalyError", "creation_site", "detect_anomaly", "is_anomaly_enabled"]


class AnomalyError(RuntimeError):
    """A NaN or an infinity appeared in anomaly mode.

    Attributes: ``op`` (the op whose forward or backward made it), ``phase``
    (``"forward"`` or ``"backward"``), ``input_shapes`` (shapes of the op's inputs;
    ``()`` for a ``Value``), ``input_values`` (the inputs' values for a ``Value`` op,
    else ``None``), ``location`` (where your code created the op, or ``None`` if unknown).
    """

    def __init__(
        self,
        message: str,
        op: str,
        phase: str,
        input_shapes: list[tuple[int, ...]],
        location: str | None,
        input_values: list[float] | None = None,
    ) -> None:
        super().__init__(message)
        self.op = op
        self.phase = phase
        self.input_shapes = input_shapes
        self.input_values = input_values
        self.location = location


# --------------------------------------------------------------------------- where ops were created

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep
_LIBRARY_DIRS = tuple(
    os.path.abspath(p) + os.sep
    for p in {sysconfig.get_paths()[k] for k in ("stdlib", "platstdlib", "purelib", "platlib")}
)
_MAX_FRAMES = 2  # your innermost line and its caller: short, but enough to find the call


@dataclass(frozen=True)
class _Site:
    """Up to ``_MAX_FRAMES`` user-code frames (filename, line, function), innermost first."""

    frames: tuple[tuple[str, int, str], ...]

    def __str__(self) -> str:
        if not self.frames:
            return "(no frame outside tinygrad_edu)"
        lines = []
        for i, (filename, lineno, function) in enumerate(self.frames):
            source = linecache.getline(filename, lineno).strip()
            lead = "created at" if i == 0 else "called from"
            lines.append(f"{lead} {_short_path(filename)}:{lineno} in {function}" + (f": {source}" if source else ""))
        return "\n  ".join(lines)


def _short_path(filename: str) -> str:
    try:
        relative = os.path.relpath(filename)
    except ValueError:  # another drive on Windows
        return filename
    return relative if len(relative) < len(filename) else filename


def _user_site() -> _Site:
    """The innermost frames of the current stack that are neither tinygrad_edu nor a library."""
    frames: list[tuple[str, int, str]] = []
    frame = sys._getframe(1)
    while frame is not None and len(frames) < _MAX_FRAMES:
        filename = frame.f_code.co_filename
        if not filename.startswith(_PACKAGE_DIR) and not filename.startswith(_LIBRARY_DIRS):
            frames.append((filename, frame.f_lineno, frame.f_code.co_name))
        elif frames:  # a library frame above the user's code (e.g. pytest): stop there
            break
        frame = frame.f_back
    return _Site(tuple(frames))


# id(node) -> (site, weak reference to node). The weak reference's callback drops the
# entry when the node dies, so the table never outlives the graph (and ids are not reused
# while an entry exists).
_sites: dict[int, tuple[_Site, weakref.ref]] = {}


def _remember_site(node: Any, site: _Site) -> None:
    key = id(node)

    def forget(ref: weakref.ref, key: int = key) -> None:
        entry = _sites.get(key)
        if entry is not None and entry[1] is ref:
            del _sites[key]

    _sites[key] = (site, weakref.ref(node, forget))


def creation_site(node: Any) -> str | None:
    """Where user code created ``node``, if it was recorded in anomaly mode, else ``None``."""
    entry = _sites.get(id(node))
    if entry is None or entry[1]() is not node:
        return None
    return str(entry[0])


# --------------------------------------------------------------------------- mode (per thread, nestable)


@dataclass(frozen=True)
class _Settings:
    allow_inf: bool


_thread = threading.local()  # .stack: list[_Settings]; .vjp_node: node whose VJP is running
_lock = threading.Lock()
_open_blocks = 0  # open detect_anomaly blocks over all threads; the hooks are installed while > 0


def _settings() -> _Settings | None:
    stack = getattr(_thread, "stack", None)
    return stack[-1] if stack else None


def is_anomaly_enabled() -> bool:
    """True inside a ``detect_anomaly()`` block in this thread."""
    return _settings() is not None


@contextmanager
def detect_anomaly(allow_inf: bool = False) -> Iterator[None]:
    """Raise :class:`AnomalyError` at the first op whose forward or backward makes a NaN or inf.

    ``allow_inf=True`` checks for NaN only. Blocks nest (the innermost setting wins)
    and are per thread. See the module docstring for what is checked and what it costs.
    """
    global _open_blocks
    stack = getattr(_thread, "stack", None)
    if stack is None:
        stack = _thread.stack = []
    with _lock:
        if _open_blocks == 0:
            _tensor._anomaly_hooks.append(_forward_hook)
            _value._anomaly_hooks.append(_value_forward_hook)
            engine._vjp_hooks.append(_vjp_hook)
        _open_blocks += 1
    stack.append(_Settings(allow_inf=bool(allow_inf)))
    try:
        yield
    finally:
        stack.pop()
        with _lock:
            _open_blocks -= 1
            if _open_blocks == 0:
                _tensor._anomaly_hooks.remove(_forward_hook)
                _value._anomaly_hooks.remove(_value_forward_hook)
                engine._vjp_hooks.remove(_vjp_hook)


# --------------------------------------------------------------------------- the checks


def _as_array(x: Any) -> np.ndarray:
    return np.asarray(x.data if hasattr(x, "data") else x)


def _bad(x: Any, settings: _Settings) -> bool:
    """Whether ``x`` (Tensor, Value, array or float) holds a NaN (or an inf unless allowed)."""
    a = _as_array(x)
    return bool(np.isnan(a).any()) if settings.allow_inf else not bool(np.isfinite(a).all())


def _census(x: Any) -> str:
    a = _as_array(x)
    counts = [(int(np.isnan(a).sum()), "nan"), (int(np.isposinf(a).sum()), "+inf"), (int(np.isneginf(a).sum()), "-inf")]
    found = ", ".join(f"{n} {name}" for n, name in counts if n)
    return f"{found} of {a.size} value{'s' if a.size != 1 else ''}"


def _shape(x: Any) -> tuple[int, ...]:
    return tuple(np.shape(_as_array(x)))


_MAX_VALUES = 6  # input values listed in a Value op's message (a dot node has 2n inputs)


def _is_value(x: Any) -> bool:
    return isinstance(x, _value.Value)


def _inputs_text(inputs: Sequence[Any]) -> str:
    """``input values [inf, 0.0]`` for Value inputs, ``input shapes [(2, 3)]`` for tensors."""
    if inputs and all(_is_value(x) for x in inputs):
        shown = ", ".join(repr(x.data) for x in inputs[:_MAX_VALUES])
        more = f", ... ({len(inputs)} in all)" if len(inputs) > _MAX_VALUES else ""
        return f"input values [{shown}{more}]"
    return f"input shapes {[_shape(x) for x in inputs]}"


def _output_text(out: Any) -> str:
    return f"output value {out.data!r}" if _is_value(out) else f"output shape {_shape(out)}"


def _input_values(inputs: Sequence[Any]) -> list[float] | None:
    return [x.data for x in inputs] if inputs and all(_is_value(x) for x in inputs) else None


def _scope_text(node: Any) -> str:
    scope = getattr(node, "_scope", ())
    return " > ".join(type(m).__name__ for m in scope)


# Likely causes, to point a learner at the calculus (forward, backward).
_HINTS = {
    "log": ("log of 0 is -inf and log of a negative number is nan; clip the input (e.g. p + eps)",
            "d(ln x)/dx = 1/x is inf at x = 0"),
    "sqrt": ("sqrt of a negative number is nan", "sqrt'(x) = 1/(2 sqrt x) is inf at x = 0; add an eps inside the sqrt"),
    "div": ("division by zero", "d(x/y)/dy = -x/y^2 is inf at y = 0"),
    "exp": ("e^x overflows for x > ~88.7 (float32) or ~709.8 (float64); shift the input (e.g. z - max z)",
            "e^x overflowed"),
    "pow": ("x^c of a negative x with fractional c is nan; of 0 with c < 0 is inf",
            "c x^(c-1) is inf at x = 0 when c < 1"),
}
_OVERFLOW = ("a float64 beyond ~1.8e308 (float32: ~3.4e38) overflows to inf, and inf - inf, inf * 0 are nan; "
             "rescale (e.g. normalise inputs, lower the learning rate)", None)
_HINTS.update({op: _OVERFLOW for op in ("add", "sub", "mul", "sum", "dot")})
_VALUE_OP_NAMES = {"/": "div", "+": "add", "-": "sub", "*": "mul"}


def _hint(op: str, phase: str) -> str:
    key = _VALUE_OP_NAMES.get(op, "pow" if op.startswith("**") else op)  # Value names its ops "/", "**2", ...
    pair = _HINTS.get(key)
    text = (pair[0] if phase == "forward" else pair[1]) if pair else None
    return f"\n  hint: {text}" if text else ""


def _forward_hook(out: Any, fn: Any, inputs: Sequence[Any]) -> None:
    """Called by ``Tensor._apply`` after every primitive while a block is open (any thread)."""
    settings = _settings()
    if settings is None:
        return
    if _bad(out, settings):
        vjp_node = getattr(_thread, "vjp_node", None)
        if vjp_node is not None:  # this primitive is a step of some op's VJP
            _raise_backward(vjp_node, f"step '{fn.name}' of its VJP produced {_census(out)}")
        _raise_forward(out, fn.name, inputs, settings)
    if out._parents:
        vjp_node = getattr(_thread, "vjp_node", None)  # create_graph: the VJP's ops belong to that op
        entry = _sites.get(id(vjp_node)) if vjp_node is not None else None
        _remember_site(out, entry[0] if entry is not None else _user_site())


def _value_forward_hook(out: Any, op: str, inputs: Sequence[Any]) -> None:
    """Called by ``Value._result`` after every Value op while a block is open (any thread)."""
    settings = _settings()
    if settings is None:
        return
    x = out.data
    if math.isnan(x) or (math.isinf(x) and not settings.allow_inf):
        _raise_forward(out, op, inputs, settings)
    if out._parents:
        _remember_site(out, _user_site())


def _raise_forward(out: Any, op: str, inputs: Sequence[Any], settings: _Settings) -> None:
    shapes = [_shape(t) for t in inputs]
    bad_inputs = [i for i, t in enumerate(inputs) if _bad(t, settings)]
    if bad_inputs:
        source = (
            f"input {bad_inputs[0]} already held {_census(inputs[bad_inputs[0]])}: it did not come from a checked "
            "op, so look at your data or parameters (e.g. a diverged update)"
        )
    else:
        source = "all its inputs were finite"
    site = _user_site()
    scope = _scope_text(out)
    message = (
        f"detect_anomaly: the forward of op '{op}' produced {_census(out)} ({_output_text(out)}); "
        f"{_inputs_text(inputs)}; {source}.\n  {site}"
        + (f"\n  inside module {scope}" if scope else "")
        + _hint(op, "forward")
    )
    raise AnomalyError(
        message, op=op, phase="forward", input_shapes=shapes, location=str(site), input_values=_input_values(inputs)
    )


_NO_SITE = "(created outside detect_anomaly: run the forward pass inside the block too to see where)"


def _raise_backward(node: Any, what: str) -> None:
    shapes = [_shape(p) for p in node._parents]
    site = creation_site(node)
    scope = _scope_text(node)
    message = (
        f"detect_anomaly: the backward of op '{node._op}' ({_inputs_text(node._parents)}, {_output_text(node)}): "
        f"{what}.\n  "
        + (site if site is not None else _NO_SITE)
        + (f"\n  inside module {scope}" if scope else "")
        + _hint(node._op, "backward")
    )
    raise AnomalyError(
        message,
        op=node._op,
        phase="backward",
        input_shapes=shapes,
        location=site,
        input_values=_input_values(node._parents),
    )


def _vjp_hook(node: Any, vjp: Callable[[Any], Sequence[Any]], upstream: Any) -> Sequence[Any]:
    """Wrapped around every VJP by the engine while a block is open (any thread)."""
    settings = _settings()
    if settings is None:
        return vjp(upstream)
    if _bad(upstream, settings):
        _raise_backward(
            node,
            f"the gradient dL/d(output) arriving at it already held {_census(upstream)} (from the gradient= "
            "passed to backward, or an overflow while summing gradients over several paths)",
        )
    previous = getattr(_thread, "vjp_node", None)
    _thread.vjp_node = node
    try:
        grads = tuple(vjp(upstream))
    finally:
        _thread.vjp_node = previous
    for i, g in enumerate(grads):
        if g is not None and _bad(g, settings):
            _raise_backward(node, f"dL/d(input {i}) holds {_census(g)} although dL/d(output) was finite")
    return grads
