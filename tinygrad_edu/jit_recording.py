"""The recording half of :mod:`tinygrad_edu.jit`: what a trace writes down, the hooks that write it, and
how two recordings are compared (the structure guard). Read :mod:`tinygrad_edu.jit` first.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any

import numpy as np

from . import engine
from . import primitives as P
from . import tensor_class as _tc
from .tensor_class import Tensor

__all__ = ["JitCheckError", "JitError", "JitWarning"]


class JitError(RuntimeError):
    """A function that ``tg.jit`` cannot record (e.g. it returns a Python float)."""


class JitCheckError(JitError):
    """``check=True`` found a replay that differs from running the step eagerly."""


class JitWarning(UserWarning):
    """A recording could not be trusted, so that input signature runs eagerly."""


# ====================================================================== what a recording holds


class _Op:
    """One recorded numpy call: ``out[...] = forward(*inputs, **params)``."""

    __slots__ = ("name", "primitive", "forward", "inputs", "params", "out", "is_view")

    def __init__(
        self, name: str, primitive: Any, forward: Callable[..., Any], inputs: list[Any], params: dict, out: Any
    ) -> None:
        self.name, self.primitive, self.forward = name, primitive, forward
        self.inputs, self.params, self.out = inputs, params, out
        # A view of an input (reshape, permute, expand, basic slicing) stays valid: its input
        # is overwritten in place on every replay, so the view needs no step of its own.
        self.is_view = isinstance(out, np.ndarray) and out.base is not None and any(
            isinstance(a, np.ndarray) and np.may_share_memory(out, a) for a in inputs
        )


class _WritesInto:
    """Stands in for a primitive class: a recorded constant's ``forward_into``."""

    __slots__ = ("forward_into",)

    def __init__(self, into: Callable[..., Any]) -> None:
        self.forward_into = into


class _Call:
    """A method recorded whole and called again on replay (``optimizer.step()``, ...)."""

    __slots__ = ("function", "owner", "args", "kwargs", "updates")

    def __init__(self, function: Callable[..., Any], owner: Any, args: tuple, kwargs: dict):
        self.function, self.owner, self.args, self.kwargs = function, owner, args, kwargs
        # for an optimiser's step: its per-parameter in-place updates, replayed instead of step()
        self.updates: list[Callable[[], Any]] | None = None


class _SetGrads:
    """``backward`` giving each leaf its gradient: (leaf, gradient Tensor, array copied from or None)."""

    __slots__ = ("entries",)

    def __init__(self, entries: list[tuple[Tensor, Tensor, np.ndarray | None]]):
        self.entries = entries


class _Recording:
    """The steps of one traced call, in order, and the arrays they read and wrote."""

    def __init__(self, buffers: list[np.ndarray]) -> None:
        self.buffers = buffers  # the input buffers (new inputs are copied into them)
        self.steps: list[Any] = []
        self.outputs: dict[int, int] = {}  # id(array written by a step) -> step index
        self.result: Any = None  # the returned structure, with arrays in place of Tensors
        self.unreplayable: str | None = None  # why this recording cannot be replayed, if it cannot
        self._inside_call = 0  # > 0 while a recorded method runs: its own ops are not recorded
        self.thread = threading.get_ident()  # only this thread's ops belong to the recording

    def ignoring(self) -> bool:
        """Whether an op now is not part of the recording: inside a recorded call, or another thread's."""
        return self._inside_call > 0 or threading.get_ident() != self.thread

    # --------------------------------------------------------------- hooks called while tracing

    def on_apply(self, out: Tensor, fn: type[P.Primitive], inputs: tuple[Tensor, ...]) -> None:
        if self.ignoring():
            return
        if not isinstance(out.data, np.ndarray):  # a numpy scalar (a full sum) cannot be overwritten:
            out.data = np.asarray(out.data)  # make it a 0-d array (same value, same arithmetic)
        self._add_op(_Op(fn.name, fn, fn.forward, [t.data for t in inputs], out._params, out.data))

    def on_constant(
        self, name: str, forward: Callable[..., Any], inputs: list[Any], out: np.ndarray, into: Any = None
    ) -> None:
        """A constant computed from data outside ``_apply`` (a comparison mask, a sign).

        ``into(out, *inputs)``, if given, writes the same result straight into ``out``.
        """
        if not self.ignoring():
            self._add_op(_Op(name, into and _WritesInto(into), forward, inputs, {}, out))

    def _add_op(self, op: _Op) -> None:
        self.outputs[id(op.out)] = len(self.steps)
        self.steps.append(op)

    def array_role(self, a: np.ndarray) -> tuple[Any, ...]:
        """Where array ``a`` comes from: a step's output, an input buffer, or outside (by its root array)."""
        root = a  # walk the chain of bases: a view of a step's output (or of an input buffer)...
        while True:
            offset = a.__array_interface__["data"][0] - root.__array_interface__["data"][0]
            where = (a.shape, a.strides, a.dtype.str, offset)
            if id(root) in self.outputs:
                return ("step", self.outputs[id(root)], where)
            for k, buffer in enumerate(self.buffers):
                if root is buffer:
                    return ("input", k, where)
            if not isinstance(root.base, np.ndarray):
                return ("outside", root, where)  # ... or an array from outside (a parameter, a constant)
            root = root.base


# ====================================================================== tracing: hooks installed for one call


def _tensor_apply_hooks() -> list[Any]:
    return _tc._anomaly_hooks  # Tensor._apply calls every hook in this list after each primitive


class _Tracing:
    """Installs the recording hooks for the duration of one eager call (and removes them)."""

    def __init__(self, recording: _Recording) -> None:
        self.recording = recording
        self.saved: list[tuple[Any, str, Any]] = []

    def _patch(self, owner: Any, name: str, replacement: Any) -> None:
        self.saved.append((owner, name, owner.__dict__[name]))
        setattr(owner, name, replacement)

    def __enter__(self) -> _Tracing:
        _TRACE_LOCK.acquire()  # one trace at a time: the patches below are process-wide
        try:
            return self._install()
        except BaseException:
            self.__exit__()
            raise

    def _install(self) -> _Tracing:
        rec = self.recording
        _tensor_apply_hooks().append(rec.on_apply)
        compare, sign = Tensor._compare, Tensor.sign

        def recorded_compare(self: Tensor, other: Any, op: Any, name: str) -> Tensor:
            result = compare(self, other, op, name)
            other_data = other if isinstance(other, (int, float)) else self._constant(other, name).data
            rec.on_constant(name, lambda a, b: op(a, b).astype(result.data.dtype), [self.data, other_data],
                            result.data, into=lambda out, a, b: op(a, b, out=out))  # (bool -> float: exact)
            return result

        def recorded_sign(self: Tensor) -> Tensor:
            result = sign(self)
            rec.on_constant("sign", np.sign, [self.data], result.data)
            return result

        stable_shift = Tensor._stable_shift

        def recorded_stable_shift(self: Tensor, axis: Any, op: str) -> Tensor:
            result = stable_shift(self, axis, op)  # m = max x, a constant computed from the data
            shift = lambda a: stable_shift(_tc._wrap(a), axis, op).data  # noqa: E731
            rec.on_constant(f"{op}_shift", shift, [self.data], result.data)
            return result

        self._patch(Tensor, "_compare", recorded_compare)
        self._patch(Tensor, "sign", recorded_sign)
        self._patch(Tensor, "_stable_shift", recorded_stable_shift)
        own_leaf_grads, backward = _tc._own_leaf_grads, engine.backward

        def recorded_backward(root: Any, seed: Any, *args: Any, **kwargs: Any) -> list[Any]:
            stale = [n for n in engine.topological_order(root) if not n._parents and n.grad is not None]
            if stale and not rec.ignoring():
                raise JitError(
                    f"tg.jit: backward would add to the existing .grad of {len(stale)} leaf tensor(s) "
                    f"(shapes {[tuple(n.shape) for n in stale[:3]]}); a replay cannot accumulate across calls. "
                    "Call optimizer.zero_grad() (with set_to_none=True, the default) or model.zero_grad() before "
                    "backward, inside the jitted function."
                )
            return backward(root, seed, *args, **kwargs)

        def recorded_own_leaf_grads(order: Any) -> None:
            leaves = [n for n in order if not n._parents and n.grad is not None]
            before = [n.grad.data for n in leaves]
            own_leaf_grads(order)
            if not rec.ignoring():
                rec.steps.append(_SetGrads([
                    (n, n.grad, None if n.grad.data is b else b) for n, b in zip(leaves, before)
                ]))

        from . import tensor_inplace

        record_write = tensor_inplace.record_write

        def noted_write(array: np.ndarray, op: str) -> int:  # an in-place op on a Tensor (x += 1, x[i] = v)
            if not rec.ignoring() and rec.unreplayable is None:
                rec.unreplayable = (f"the in-place op '{op}' on an array of shape {array.shape} writes outside "
                                    "the recorded ops (update parameters with an optimiser instead)")
            return record_write(array, op)

        self._patch(tensor_inplace, "record_write", noted_write)
        self._patch(engine, "backward", recorded_backward)
        self._patch(_tc, "_own_leaf_grads", recorded_own_leaf_grads)
        for cls, name in _recorded_methods():
            self._patch(cls, name, _recording_method(rec, cls.__dict__[name]))
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            hooks = _tensor_apply_hooks()
            if self.recording.on_apply in hooks:
                hooks.remove(self.recording.on_apply)
            for owner, name, original in reversed(self.saved):
                setattr(owner, name, original)
        finally:
            _TRACE_LOCK.release()


# Tracing patches Tensor methods for the whole process: other threads keep running (their ops
# are ignored by thread id), but two traces must not patch and restore over each other.
_TRACE_LOCK = threading.RLock()


def _recorded_methods() -> list[tuple[type, str]]:
    """The optimiser and schedule methods recorded whole: every class that defines them itself."""
    from . import optim

    schedule_base = getattr(optim, "LRScheduler", None) or optim.lr_scheduler.LRScheduler  # (wherever it lives)
    found = []
    for base, names in ((optim.Optimizer, ("step", "zero_grad")), (schedule_base, ("step",))):
        stack = [base]
        while stack:
            cls = stack.pop()
            stack.extend(cls.__subclasses__())
            found += [(cls, name) for name in names if name in cls.__dict__]
    return found


def _recording_method(rec: _Recording, method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def recorded(self: Any, *args: Any, **kwargs: Any) -> Any:
        if threading.get_ident() != rec.thread:  # another thread's optimiser: not ours to record
            return method(self, *args, **kwargs)
        call = None
        if not rec._inside_call:
            call = _Call(method, self, args, kwargs)
            rec.steps.append(call)
        rec._inside_call += 1
        try:
            result = method(self, *args, **kwargs)
        finally:
            rec._inside_call -= 1
        if call is not None and method.__name__ == "step" and not args and not kwargs:
            call.updates = _per_parameter_updates(self)
        return result

    return recorded


def _per_parameter_updates(opt: Any) -> list[Callable[[], Any]] | None:
    """The hook into the optimisers: ``Optimizer.step`` is a loop that calls
    ``opt._update(w, g, state, group)`` -- in-place numpy on the parameter's array -- for every
    parameter with a gradient. A replay makes those calls directly (the same arrays, state dicts
    and groups, so the live learning rate and step counts are used), without the loop's
    bookkeeping. An optimiser that defines its own ``step`` is replayed by calling ``step()``."""
    from .optim import Optimizer

    if type(opt).step is not Optimizer.step or not hasattr(opt, "_update"):
        return None
    updates = []
    for group in opt.param_groups:
        for p in group["params"]:
            if not isinstance(p, Tensor):
                return None  # a scalar Value parameter: its float is replaced, not updated in place
            if p.grad is None:
                continue  # skipped by step() too (the same on every replay: the structure is fixed)
            state = opt.state.get(opt._index[id(p)])
            if state is None or p.grad.data.shape != p.data.shape:
                return None
            updates.append(functools.partial(opt._update, p.data, p.grad.data, state, group))
    return updates


# ====================================================================== comparing two recordings


def _first_difference(a: _Recording, b: _Recording) -> str | None:
    """Why recordings ``a`` and ``b`` are not the same computation (None when they are)."""
    if len(a.steps) != len(b.steps):
        return f"{len(a.steps)} steps the first time, {len(b.steps)} the second (the Python code took another path)"
    for i, (s, t) in enumerate(zip(a.steps, b.steps)):
        if type(s) is not type(t):
            return f"step {i} is {type(s).__name__} the first time and {type(t).__name__} the second"
        if isinstance(s, _Op):
            if s.name != t.name or s.forward is not t.forward and s.forward.__code__ is not t.forward.__code__:
                return f"step {i} is op '{s.name}' the first time and '{t.name}' the second"
            for what, x, y in [("input", s.inputs, t.inputs), ("parameter", s.params, t.params)]:
                problem = _same_value(a, b, x, y)
                if problem:
                    return f"step {i} (op '{s.name}'): {what} {problem}"
        elif isinstance(s, _Call):
            if s.function is not t.function or s.owner is not t.owner:
                return f"step {i} calls {getattr(t.function, '__qualname__', t.function)} on another object"
        elif [e[0] for e in s.entries] != [e[0] for e in t.entries]:
            return f"step {i}: backward reached other leaves"
    return None


def _same_value(a: _Recording, b: _Recording, x: Any, y: Any) -> str | None:
    """Whether ``x`` (in recording a) and ``y`` (in b) are the same argument; else what differs."""
    if isinstance(x, np.ndarray) and isinstance(y, np.ndarray):
        rx, ry = a.array_role(x), b.array_role(y)
        if rx[0] == ry[0] == "outside" and rx[1] is not ry[1]:  # two separate constants: equal values?
            if x.shape == y.shape and x.dtype == y.dtype and np.array_equal(x, y, equal_nan=x.dtype.kind == "f"):
                return None
            return (f"an array of shape {x.shape} made outside the recorded ops changed between calls "
                    "(computed from the data by code the trace cannot see, e.g. a dropout mask or "
                    "labels converted to another dtype)")
        return None if rx == ry else f"an array of shape {x.shape} comes from elsewhere ({rx[0]} vs {ry[0]})"
    if isinstance(x, dict) and isinstance(y, dict):
        if x.keys() != y.keys():
            return f"names {sorted(x)} vs {sorted(y)}"
        return next((p for p in (_same_value(a, b, x[k], y[k]) for k in x) if p), None)
    if isinstance(x, (list, tuple)) and isinstance(y, (list, tuple)):
        if len(x) != len(y):
            return f"{len(x)} items vs {len(y)}"
        return next((p for p in (_same_value(a, b, u, v) for u, v in zip(x, y)) if p), None)
    if type(x) is not type(y):
        return f"{type(x).__name__} vs {type(y).__name__}"
    try:
        return None if bool(x == y) else f"{x!r} vs {y!r}"
    except Exception:  # noqa: BLE001 - objects without a usable ==: compare identity
        return None if x is y else f"{x!r} vs {y!r}"
