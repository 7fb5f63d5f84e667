"""``tg.jit``: record one training step, then replay it as a flat list of numpy calls.

How a tracing JIT works, in this package's terms (read :mod:`tinygrad_edu.engine` and
:mod:`tinygrad_edu.tensor_class` first):

1. **Trace.** An eager step spends most of its time in Python *around* the numpy calls:
   building graph nodes, the topological sort, dispatching each VJP, wrapping arrays.
   Yet for the same input shapes it makes the same numpy calls every time. So the first
   call runs the function eagerly while a hook in ``Tensor._apply`` writes down every
   primitive call -- forward ops, the backward pass's VJP ops, constants made from data
   (comparison masks) -- as (forward function, input arrays, parameters, output array).
   Calls the trace cannot see inside are recorded whole: ``optimizer.step()`` becomes its
   per-parameter ``_update(w, g, state, group)`` calls (in-place numpy on ``p.data``; the
   group's live learning rate is read on every call), an optimiser with a ``step`` of its
   own, ``optimizer.zero_grad()`` and ``scheduler.step()`` are called again, and
   ``backward``'s "set every leaf's ``.grad``" is replayed by setting them again. An in-place
   op on a Tensor outside an optimiser (``w -= lr * w.grad``) is not recorded, so it makes
   the recording unreplayable (that signature runs eagerly, with a warning).
2. **Guards.** A recording is only valid for inputs like the ones it was made with. The
   cache key is every argument's shape and dtype (numbers and other objects by value and
   identity) plus the grad mode: a new key traces again (a new batch size re-traces
   once, then both sizes replay). The *graph structure* is checked by tracing a second
   time on the second call and comparing the two recordings op by op: same ops, same
   parameters, and every array either produced by the same step, the same input buffer,
   the same object (a parameter) or a constant with equal values. An array that differs
   (a dropout mask, labels copied from the input) means the function computes something
   from its inputs that the trace cannot see, and that key then runs eagerly (with a
   :class:`JitWarning`) -- never a silently wrong replay.
3. **Replay.** Every array of the recording stays alive and is *overwritten in place*:
   new inputs are copied into the recording's input buffers, and each step writes its
   result into the array it produced when traced (``np.matmul(x, w, out=z)``). Views
   (reshape, transpose, broadcasts) need no step at all: they still look at the same,
   updated memory. What is left is a flat loop over a few dozen numpy calls.

What stays the user's responsibility (as with every tracing JIT, JAX and PyTorch's
included): Python control flow that depends on the *data* (``if loss.item() > 1``) is
frozen at the branch the trace took. ``jit(fn, check=True)`` catches it: for the first
few replays it also runs the step eagerly from the same state and compares everything
bitwise (the results and every parameter), raising :class:`JitCheckError` on a difference.

The jitted function returns detached copies of the Tensors it returned (no graph), and
after a replay ``p.grad`` holds the recording's gradient arrays, overwritten by the next call.
Parameters must be updated in place (every optimiser here does) and gradients must not
accumulate across calls (call ``zero_grad`` inside the step).

Example::

    @tg.jit
    def train_step(x, y):
        opt.zero_grad()
        loss = nn.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss

    for x, y in batches:
        train_step(x, y)
"""

from __future__ import annotations

import functools
import threading
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from . import engine
from . import primitives as P
from . import tensor_class as _tc
from .tensor_class import Tensor

__all__ = ["JitCheckError", "JitError", "JitWarning", "Jitted", "jit"]


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

    def insert_before(self, later_out: np.ndarray, name: str, forward: Callable, inputs: list, out: np.ndarray) -> None:
        """Record a constant computed from data *before* the (already recorded) step that wrote ``later_out``."""
        if self.ignoring():
            return
        index = self.outputs.get(id(later_out), len(self.steps))
        self.steps.insert(index, _Op(name, None, forward, inputs, {}, out))
        self.outputs = {id(step.out): i for i, step in enumerate(self.steps) if isinstance(step, _Op)}

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

        where, stable_shift = _tc.where, Tensor._stable_shift

        def recorded_where(cond: Any, x: Any, y: Any) -> Tensor:
            result = where(cond, x, y)  # its ``cond`` parameter views a boolean copy of the condition:
            mask = result._params["cond"]  # record that copy, made before the where step itself
            while isinstance(mask.base, np.ndarray) and mask.base.dtype == bool:
                mask = mask.base
            source = cond.data if isinstance(cond, Tensor) else cond
            if isinstance(source, np.ndarray):
                rec.insert_before(result.data, "where_condition", lambda c: np.asarray(c).astype(bool), [source], mask)
            return result

        def recorded_stable_shift(self: Tensor, axis: Any, op: str) -> Tensor:
            result = stable_shift(self, axis, op)  # m = max x, a constant computed from the data
            shift = lambda a: stable_shift(_tc._wrap(a), axis, op).data  # noqa: E731
            rec.on_constant(f"{op}_shift", shift, [self.data], result.data)
            return result

        self._patch(Tensor, "_compare", recorded_compare)
        self._patch(Tensor, "sign", recorded_sign)
        self._patch(Tensor, "_stable_shift", recorded_stable_shift)
        self._patch(_tc, "where", recorded_where)
        own_leaf_grads, backward = _tc._own_leaf_grads, engine.backward

        def recorded_backward(root: Any, seed: Any, *args: Any, **kwargs: Any) -> list[Any]:
            stale = [n for n in engine.topological_order(root) if not n._parents and n.grad is not None]
            if stale and not rec.ignoring():
                raise JitError(
                    f"tg.jit: backward would add to the existing .grad of {len(stale)} leaf tensor(s) "
                    f"(shapes {[tuple(n.shape) for n in stale[:3]]}); a replay cannot accumulate across calls. "
                    "Call optimizer.zero_grad() (or model.zero_grad()) before backward, inside the jitted function."
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
            _tensor_apply_hooks().remove(self.recording.on_apply)
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


# ====================================================================== replay: a flat list of calls


class _WritesInto:
    """Stands in for a primitive class: a recorded constant's ``forward_into``."""

    __slots__ = ("forward_into",)

    def __init__(self, into: Callable[..., Any]) -> None:
        self.forward_into = into


def _linear_into(out: np.ndarray, x: np.ndarray, w: np.ndarray, b: np.ndarray | None = None) -> None:
    np.matmul(x, w.T, out=out)
    if b is not None:
        out += b


def _sigmoid_into(out: np.ndarray, x: np.ndarray) -> None:
    np.abs(x, out=out)  # the same steps as Sigmoid.forward: e = e^-|x|, then where(x >= 0, 1, e) / (1 + e)
    np.negative(out, out=out)
    np.exp(out, out=out)
    numerator = np.where(x >= 0, 1.0, out)
    np.add(out, 1.0, out=out)
    np.divide(numerator, out, out=out)


def _where_into(out: np.ndarray, x: np.ndarray, y: np.ndarray, cond: np.ndarray) -> None:
    np.copyto(out, y)
    np.copyto(out, x, where=cond)


#: Primitives that are one numpy ufunc: a replay calls it with ``out=`` the recorded array --
#: the same arithmetic as their ``forward`` (so bitwise equal), no temporary, no Python frame.
_UFUNCS: dict[Any, Callable[..., Any]] = {
    P.Add: np.add, P.Sub: np.subtract, P.Mul: np.multiply, P.Div: np.divide, P.Neg: np.negative,
    P.Exp: np.exp, P.Log: np.log, P.Sqrt: np.sqrt, P.Abs: np.abs, P.Tanh: np.tanh, P.MatMul: np.matmul,
}

#: Other primitives with a way to write straight into the recorded array. (The whole replay
#: runs under the primitives' error state: log 0 = -inf is not warned about.)
_INTO: dict[Any, Callable[..., Any]] = {
    P.Sigmoid: _sigmoid_into,
    P.Relu: lambda out, x: np.maximum(x, 0, out=out),
    P.PowConst: lambda out, x, exponent: np.power(x, exponent, out=out),
    P.Cast: lambda out, x, dtype: np.copyto(out, x, casting="unsafe"),
    P.Where: _where_into,
    P.Linear: _linear_into,
}


def _replay_call(step: _Op) -> Callable[[], Any]:
    """One recorded op as a zero-argument call that overwrites ``step.out`` in place."""
    out, inputs, params = step.out, step.inputs, step.params
    if out.flags.writeable:
        ufunc = _UFUNCS.get(step.primitive)
        if ufunc is not None:
            return functools.partial(ufunc, *inputs, out=out)
        if step.primitive is P.Sum:
            return functools.partial(np.add.reduce, inputs[0], axis=params["axis"], keepdims=params["keepdims"],
                                     out=out)
        into = _INTO.get(step.primitive) or getattr(step.primitive, "forward_into", None)
        if into is not None:
            return functools.partial(into, out, *inputs, **params)
    return functools.partial(_write_result, out, step.forward, inputs, params)


def _write_result(out: np.ndarray, forward: Callable[..., Any], inputs: list[Any], params: dict) -> None:
    np.copyto(out, forward(*inputs, **params))


def _set_grads(entries: list[tuple[Tensor, Tensor, np.ndarray | None]]) -> None:
    for leaf, grad, copied_from in entries:
        if copied_from is not None:  # backward gave this leaf its own copy (see _own_gradients)
            np.copyto(grad.data, copied_from)
        leaf.grad = grad


def _compile(recording: _Recording) -> list[Callable[[], Any]]:
    """The recording as zero-argument calls; views are left out (they follow their input's memory)."""
    calls: list[Callable[[], Any]] = []
    for step in recording.steps:
        if isinstance(step, _Op):
            if not step.is_view:
                calls.append(_replay_call(step))
        elif isinstance(step, _Call):
            if step.updates is not None:
                calls.extend(step.updates)
            else:
                calls.append(functools.partial(step.function, step.owner, *step.args, **step.kwargs))
        else:
            calls.append(functools.partial(_set_grads, step.entries))
    return calls


# ====================================================================== the decorator


def _signature(value: Any) -> Any:
    """What a recording depends on for one argument: shape and dtype of data, value of numbers, identity of objects."""
    if isinstance(value, Tensor):
        if value.requires_grad:
            raise JitError(
                f"tg.jit: an argument is a Tensor that requires grad (shape {value.shape}); arguments are "
                "data, copied into the recording's buffers. Keep parameters in the model (or optimiser) the "
                "function uses, not in its arguments."
            )
        return ("tensor", value.shape, value.dtype.str)
    if isinstance(value, np.ndarray):
        return ("array", value.shape, value.dtype.str)
    if isinstance(value, (bool, int, float, str, type(None))):
        return ("value", type(value).__name__, value)
    if isinstance(value, (tuple, list)):
        return (type(value).__name__, tuple(_signature(v) for v in value))
    return ("object", id(value))


class _Entry:
    """Everything cached for one signature: buffers, recording, compiled calls, state."""

    def __init__(self) -> None:
        self.buffers: list[np.ndarray] = []
        self.recording: _Recording | None = None
        self.calls: list[Callable[[], Any]] | None = None
        self.eager_only = False
        self.checks_done = 0


class Jitted:
    """A function wrapped by :func:`jit`: traces on new signatures, replays on known ones.

    ``traces`` counts eager recorded calls, ``replays`` replayed calls (for tests and curiosity).
    """

    def __init__(self, fn: Callable[..., Any], check: bool | int = False) -> None:
        self.fn = fn
        self.check_calls = 3 if check is True else int(check)
        self._entries: dict[Any, _Entry] = {}
        self.traces = 0
        self.replays = 0
        functools.update_wrapper(self, fn)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        key = (_signature(args), _signature(sorted(kwargs.items())), engine.is_grad_enabled())
        entry = self._entries.get(key)
        if entry is None:
            entry = self._entries[key] = _Entry()
        if entry.eager_only:
            return _detached(self.fn(*args, **kwargs))
        if entry.calls is None:
            return self._trace(entry, args, kwargs)
        if entry.checks_done < self.check_calls:
            entry.checks_done += 1
            return self._checked_replay(entry, args, kwargs)
        return self._replay(entry, args, kwargs)

    # --------------------------------------------------------------- the three ways to run

    def _trace(self, entry: _Entry, args: tuple, kwargs: dict) -> Any:
        """Run eagerly while recording; on the second call compare with the first recording."""
        first = entry.recording is None
        if first:
            entry.buffers = [np.array(a.data if isinstance(a, Tensor) else a) for a in _data_args(args, kwargs)]
        recording = _Recording(entry.buffers)
        result = self._run_recorded(recording, entry, args, kwargs)
        self.traces += 1
        if first:
            entry.recording = recording
        else:
            problem = recording.unreplayable or _first_difference(entry.recording, recording)  # type: ignore[arg-type]
            if problem is not None:
                entry.eager_only = True
                warnings.warn(
                    f"tg.jit({_name(self.fn)}): two calls with the same input shapes recorded different "
                    f"computations -- {problem}. This signature runs eagerly from now on.",
                    JitWarning,
                    stacklevel=3,
                )
            else:
                entry.calls = _compile(entry.recording)  # type: ignore[arg-type]
        return _detached(result)

    def _run_recorded(self, recording: _Recording, entry: _Entry, args: tuple, kwargs: dict) -> Any:
        for buffer, a in zip(entry.buffers, _data_args(args, kwargs)):
            np.copyto(buffer, a.data if isinstance(a, Tensor) else a)
        args, kwargs = _swap_in_buffers(args, kwargs, iter(entry.buffers))
        with _Tracing(recording):
            result = self.fn(*args, **kwargs)
        recording.result = _arrays_of(result, self.fn)
        return result

    def _replay(self, entry: _Entry, args: tuple, kwargs: dict) -> Any:
        for buffer, a in zip(entry.buffers, _data_args(args, kwargs)):
            np.copyto(buffer, a.data if isinstance(a, Tensor) else a)
        with P._errstate():
            for call in entry.calls:  # type: ignore[union-attr]
                call()
        self.replays += 1
        return _tensors_of(entry.recording.result)  # type: ignore[union-attr]

    def _checked_replay(self, entry: _Entry, args: tuple, kwargs: dict) -> Any:
        """Replay, then run eagerly from the same starting state, and compare everything bitwise."""
        recording: _Recording = entry.recording  # type: ignore[assignment]
        state = _State(recording)
        replayed = _arrays_of(self._replay(entry, args, kwargs), self.fn)
        after_replay = state.current_values()
        state.restore()
        eager = _Recording(entry.buffers)
        result = self._run_recorded(eager, entry, args, kwargs)
        self.traces += 1
        difference = _value_difference(replayed, eager.result, "the result")
        for i, (a, b) in enumerate(zip(after_replay, state.current_values())):
            difference = difference or _value_difference(a, b, f"parameter/state array {i} (shape {np.shape(a)})")
        if difference:
            structure = _first_difference(recording, eager)
            raise JitCheckError(
                f"tg.jit({_name(self.fn)}, check=True): the replay differs from the eager step: {difference}."
                + (f" The eager step recorded another computation: {structure}." if structure else "")
                + " Python control flow that depends on the data is frozen by tracing; keep it outside the "
                "jitted function (or do not jit it). The eager result has been kept."
            )
        return _detached(result)


class _State:
    """A copy of everything a step may change: the arrays it reads from outside and the recorded objects' state."""

    def __init__(self, recording: _Recording) -> None:
        self.arrays: dict[int, np.ndarray] = {}
        for step in recording.steps:
            if isinstance(step, _Op):
                for a in step.inputs:
                    if isinstance(a, np.ndarray):
                        role = recording.array_role(a)
                        if role[0] == "outside" and role[1].flags.writeable:
                            self.arrays[id(role[1])] = role[1]
        self.saved_arrays = {k: a.copy() for k, a in self.arrays.items()}
        self.objects = {id(s.owner): s.owner for s in recording.steps if isinstance(s, _Call)}
        self.saved_objects = {k: _copy_state(vars(o)) for k, o in self.objects.items()}

    def current_values(self) -> list[Any]:
        return [a.copy() for a in self.arrays.values()] + [_copy_state(vars(o)) for o in self.objects.values()]

    def restore(self) -> None:
        for k, a in self.arrays.items():
            np.copyto(a, self.saved_arrays[k])
        for k, o in self.objects.items():
            _restore_in_place(vars(o), self.saved_objects[k])


def _restore_in_place(target: dict, saved: dict) -> None:
    """Put ``saved`` back into ``target`` keeping the same dicts and arrays (a replay holds references to them)."""
    for key in [k for k in target if k not in saved]:
        del target[key]
    for key, value in saved.items():
        current = target.get(key)
        if isinstance(value, dict) and isinstance(current, dict):
            _restore_in_place(current, value)
        elif isinstance(value, np.ndarray) and isinstance(current, np.ndarray) and current.shape == value.shape:
            np.copyto(current, value)
        elif isinstance(value, list) and isinstance(current, list) and len(value) == len(current):
            for i, item in enumerate(value):
                if isinstance(item, dict) and isinstance(current[i], dict):
                    _restore_in_place(current[i], item)
                else:
                    current[i] = _copy_state(item)
        else:
            target[key] = _copy_state(value)


def _copy_state(value: Any) -> Any:
    """Containers and arrays copied; Tensors and other objects kept (they are restored as arrays, or shared)."""
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, dict):
        return {k: _copy_state(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_copy_state(v) for v in value)
    return value


def _value_difference(a: Any, b: Any, what: str) -> str | None:
    """Where ``a`` and ``b`` first differ bitwise (NaN equal to NaN), or None."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        a_arr, b_arr = np.asarray(a), np.asarray(b)
        if a_arr.shape != b_arr.shape or not np.array_equal(a_arr, b_arr, equal_nan=a_arr.dtype.kind == "f"):
            return f"{what} is {_short(a_arr)} replayed but {_short(b_arr)} eagerly"
        return None
    if isinstance(a, dict) and isinstance(b, dict):
        return next((d for d in (_value_difference(a[k], b.get(k), f"{what}[{k!r}]") for k in a) if d), None)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return next((d for d in (_value_difference(x, y, f"{what}[{i}]") for i, (x, y) in enumerate(zip(a, b))) if d),
                    None)
    if isinstance(a, Tensor) or isinstance(b, Tensor):
        return None  # tensors inside an object's state: their arrays are compared directly
    return None if a == b else f"{what} is {a!r} replayed but {b!r} eagerly"


def _short(a: np.ndarray) -> str:
    return np.array2string(a, precision=6, threshold=6)


def _data_args(args: tuple, kwargs: dict) -> list[Any]:
    """The arguments that are data (arrays and constant Tensors), in a fixed order."""
    flat = list(args) + [v for _, v in sorted(kwargs.items())]
    return [a for a in flat if isinstance(a, (np.ndarray, Tensor))]


def _swap_in_buffers(args: tuple, kwargs: dict, buffers: Any) -> tuple[tuple, dict]:
    """The arguments with each array (or Tensor) replaced by its buffer (wrapped again as a Tensor)."""

    def swap(a: Any) -> Any:
        if isinstance(a, Tensor):
            return Tensor(next(buffers), label=a.label)
        if isinstance(a, np.ndarray):
            return next(buffers)
        return a

    new_args = tuple(swap(a) for a in args)
    new_kwargs = {k: swap(v) for k, v in sorted(kwargs.items())}
    return new_args, new_kwargs


def _arrays_of(result: Any, fn: Callable[..., Any]) -> Any:
    """The returned structure with each Tensor's array in its place (what a replay returns copies of)."""
    if isinstance(result, Tensor):
        data = result.data
        return data if isinstance(data, np.ndarray) else np.asarray(data)
    if isinstance(result, (tuple, list)):
        return type(result)(_arrays_of(r, fn) for r in result)
    if isinstance(result, dict):
        return {k: _arrays_of(v, fn) for k, v in result.items()}
    if result is None:
        return None
    raise JitError(
        f"tg.jit({_name(fn)}): the function returned a {type(result).__name__}; a replay can only return "
        "Tensors (or tuples, lists and dicts of them) or None, because it runs no Python code to compute "
        "anything else. Return the Tensor and call .item() on the result outside."
    )


def _tensors_of(arrays: Any) -> Any:
    if isinstance(arrays, np.ndarray):
        return _tc._wrap(arrays.copy())  # (the recorded dtype already follows the dtype policy)
    if isinstance(arrays, (tuple, list)):
        return type(arrays)(_tensors_of(a) for a in arrays)
    if isinstance(arrays, dict):
        return {k: _tensors_of(v) for k, v in arrays.items()}
    return None


def _detached(result: Any) -> Any:
    """What an eager (traced) call returns: the same structure, Tensors detached and copied."""
    if isinstance(result, Tensor):
        return Tensor(np.array(result.data))
    if isinstance(result, (tuple, list)):
        return type(result)(_detached(r) for r in result)
    if isinstance(result, dict):
        return {k: _detached(v) for k, v in result.items()}
    return result


def _name(fn: Callable[..., Any]) -> str:
    return getattr(fn, "__qualname__", repr(fn))


def jit(fn: Callable[..., Any] | None = None, *, check: bool | int = False) -> Any:
    """Trace ``fn`` once per input signature and replay it as flat numpy calls (see the module docstring).

    Use as ``@tg.jit``, ``@tg.jit(check=True)`` or ``tg.jit(fn, check=True)``. ``check=True``
    compares the first 3 replays per signature with an eager run (``check=n``: the first n)
    and raises :class:`JitCheckError` on any bitwise difference.
    """
    if fn is None:
        return lambda f: Jitted(f, check=check)
    if not callable(fn):
        raise TypeError(f"tg.jit: expected a function, got {type(fn).__name__}")
    return Jitted(fn, check=check)
