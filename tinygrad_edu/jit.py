"""``tg.jit``: record one training step, then replay it as a flat list of numpy calls.

How a tracing JIT works, in this package's terms (read :mod:`tinygrad_edu.engine` and
:mod:`tinygrad_edu.tensor_class` first):

1. **Trace.** An eager step spends most of its time in Python *around* the numpy calls:
   building graph nodes, the topological sort, dispatching each VJP, wrapping arrays.
   Yet for the same input shapes it makes the same numpy calls every time. So the first
   call runs the function eagerly while a hook in ``Tensor._apply`` writes down every
   primitive call -- forward ops, the backward pass's VJP ops, constants made from data
   (comparison masks, ``log_softmax``'s max shift) -- as (forward function, input arrays,
   parameters, output array).
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

This module holds the decorator and the replay; :mod:`tinygrad_edu.jit_recording` holds the
recording (the hooks installed while tracing, and the comparison of two recordings).

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
from .jit_recording import (
    JitCheckError,
    JitError,
    JitWarning,
    _Call,
    _first_difference,
    _Op,
    _Recording,
    _SetGrads,
    _Tracing,
)
from .tensor_class import Tensor

__all__ = ["JitCheckError", "JitError", "JitWarning", "Jitted", "jit"]


# ====================================================================== replay: a flat list of calls


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
    if cond.dtype != bool:  # a 0/1 comparison mask: nonzero is true
        np.copyto(out, np.where(cond, x, y))
        return
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


def _compile(recording: _Recording) -> tuple[list[Callable[[], Any]], bool]:
    """The recording as zero-argument calls, and whether they need the primitives' error state.

    Views are left out (they follow their input's memory), and so is a plain
    ``optimizer.zero_grad()`` that a later gradient assignment covers completely (it would
    only set ``.grad = None`` before that assignment sets every one of them again).
    """
    calls: list[Callable[[], Any]] = []
    needs_errstate = False
    for i, step in enumerate(recording.steps):
        if isinstance(step, _Op):
            if not step.is_view:
                calls.append(_replay_call(step))
                needs_errstate = needs_errstate or step.primitive in _WARNING_UFUNCS
        elif isinstance(step, _Call):
            if step.updates is not None:
                calls.extend(step.updates)
            elif not _overwritten_zero_grad(step, recording.steps[i + 1 :]):
                calls.append(functools.partial(step.function, step.owner, *step.args, **step.kwargs))
        else:
            calls.append(functools.partial(_set_grads, step.entries))
    return calls, needs_errstate


#: Primitives replayed as one ufunc that the eager forward runs under ``_errstate`` (log 0, 1/0, ...).
_WARNING_UFUNCS = {P.Exp, P.Log, P.Sqrt, P.Div, P.PowConst, P.Sigmoid}


def _overwritten_zero_grad(step: _Call, later: list[Any]) -> bool:
    """Whether ``step`` is ``Optimizer.zero_grad()`` with every parameter's .grad set again by a later step."""
    from .optim import Optimizer

    if step.function is not Optimizer.zero_grad or step.args or step.kwargs:
        return False
    assigned = {id(leaf) for s in later if isinstance(s, _SetGrads) for leaf, _, _ in s.entries}
    return all(id(p) in assigned for group in step.owner.param_groups for p in group["params"])


#: numpy's error state during a replay: that of :func:`tinygrad_edu.primitives._errstate`
#: (log 0 = -inf and 1/0 = inf are documented results, not warnings).
_REPLAY_ERRORS = {"divide": "ignore", "invalid": "ignore", "over": "ignore", "under": "ignore"}


# ====================================================================== the decorator


def _signature(value: Any) -> Any:
    """What a recording depends on for one argument: shape and dtype of data, value of numbers, identity of objects."""
    if type(value) is np.ndarray:  # the common case first (this runs on every call)
        return (value.shape, value.dtype.str)
    if isinstance(value, Tensor):
        if value.requires_grad:
            raise JitError(
                f"tg.jit: an argument is a Tensor that requires grad (shape {value.shape}); arguments are "
                "data, copied into the recording's buffers. Keep parameters in the model (or optimiser) the "
                "function uses, not in its arguments."
            )
        return ("tensor", value.shape, value.dtype.str)
    if isinstance(value, np.ndarray):  # a subclass
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
        self.only_data = False  # every argument is data and none is a keyword: buffers align with args
        self.needs_errstate = True  # whether the replay runs one-ufunc ops that could warn (log 0, ...)


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
        self._lock = threading.RLock()
        functools.update_wrapper(self, fn)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        with self._lock:  # a replay writes into one set of arrays: calls from several threads take turns
            return self._call(args, kwargs)

    def _call(self, args: tuple, kwargs: dict) -> Any:
        key = (_signature(args), _signature(sorted(kwargs.items())) if kwargs else (), engine.is_grad_enabled())
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
            entry.only_data = not kwargs and all(isinstance(a, (np.ndarray, Tensor)) for a in args)
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
                entry.calls, entry.needs_errstate = _compile(entry.recording)  # type: ignore[arg-type]
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
        for buffer, a in zip(entry.buffers, args if entry.only_data else _data_args(args, kwargs)):
            if type(a) is np.ndarray:
                np.copyto(buffer, a)
            elif isinstance(a, (np.ndarray, Tensor)):
                np.copyto(buffer, a.data if isinstance(a, Tensor) else a)
        if entry.needs_errstate:
            saved = np.seterr(**_REPLAY_ERRORS)  # the primitives' error state (np.errstate, without its context)
            try:
                for call in entry.calls:  # type: ignore[union-attr]
                    call()
            finally:
                np.seterr(**saved)
        else:
            for call in entry.calls:  # type: ignore[union-attr]
                call()
        self.replays += 1
        result = entry.recording.result  # type: ignore[union-attr]
        if type(result) is np.ndarray:  # the common case: one Tensor returned
            return _tc._wrap(result.copy())
        return _tensors_of(result)

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
