"""``tg.Function``: your own op with its own backward, in PyTorch's shape.

Subclass it and write two static methods::

    class Cube(tg.Function):
        \"\"\"z = x^3;  dz/dx = 3 x^2, so dL/dx = g * 3 x^2.\"\"\"

        @staticmethod
        def forward(ctx, x):                 # numpy arrays in, one numpy array out
            ctx.save_for_backward(x)
            return x**3

        @staticmethod
        def backward(ctx, g):                # g = dL/dz; one gradient per input out
            (x,) = ctx.saved_tensors
            return g * 3 * x**2

    y = Cube.apply(t)                        # a Tensor in the graph, like any other op

* ``forward(ctx, *arrays, **params)`` gets the inputs' numpy arrays (read-only: an op must not
  change its inputs) and keyword parameters, and returns one array.
* ``ctx.save_for_backward(*arrays)`` keeps what backward needs -- inputs, the output, or other
  arrays; ``ctx.saved_tensors`` gives them back in backward. ``ctx.needs_input_grad`` says, per
  input, whether its gradient is wanted (skip the work when it is not). Other values can be
  stored as attributes (``ctx.alpha = alpha``).
* ``backward(ctx, g)`` gets dL/d(output) and returns dL/d(input) for each input (a tuple, or a
  single array for one input; ``None`` for an input that needs no gradient). Each gradient
  must have its input's shape: when forward broadcasts, backward sums over the broadcast axes.
* ``MyOp.apply(*tensors, **params)`` runs it. Arrays and numbers among the positional
  arguments become constants.

**Second derivatives.** By default backward works on numpy arrays, so its result is a constant
to autograd, and ``backward(create_graph=True)`` through it raises an error rather than give a
silently wrong second derivative. Write the backward in Tensor ops and set
``tensor_backward = True`` on the class: ``g`` and ``ctx.saved_tensors`` are then Tensors in the
graph (the inputs and the output themselves), and ``create_graph=True`` differentiates through
the op. Such a Function may save only its inputs and output (an intermediate array would be a
constant to the second derivative): recompute the rest from them in backward.

**How it fits in.** ``apply`` records the op through ``Tensor._apply``, exactly as the
library's primitives are recorded, so a Function's node is drawn (its ``name``, the class
name by default), explained by ``explain_backward`` (its formula is the first line of the
class docstring), checked by ``gradcheck`` (and blamed as a suspect when its backward is
wrong), and run by ``detect_anomaly``. The library's own primitives (:mod:`primitives`) are
*not* built on Function: a primitive is stateless -- ``forward(arrays)`` and
``backward(g, out, *inputs)`` -- because the graph already keeps everything a primitive
needs (its inputs and output), so it needs no ``ctx`` object per call on the hot path, and
every primitive's backward is written in Tensor ops, so second derivatives work everywhere.
Function adds the per-call ``ctx`` that user ops with saved intermediates, random masks or
numpy backwards need.

**Saved arrays and in-place changes.** ``ctx.saved_tensors`` hands back the inputs' arrays (and
the output's) as they are when backward runs. The call tells the engine which inputs it saved
(and whether it saved its output), so the tensors' version counters (:mod:`tinygrad_edu.versions`)
catch an in-place change of one of them between forward and backward, as for the library's
primitives. Other saved arrays are the call's own and are not versioned; this module keeps its
saved-tensor handling that simple.

After a backward without ``retain_graph`` the graph's saved state is released; explaining
the op afterwards re-runs its forward on the saved inputs to rebuild ``ctx`` (so explain a
forward with randomness after ``backward(retain_graph=True)``).
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from . import engine
from .tensor_class import Tensor

__all__ = ["Function", "FunctionCtx", "released_call"]

# The key under which a Function node's parameters record its class: the graph keeps a node's
# parameters after backward releases its saved state, so the node can still be explained.
_CLASS_KEY = "_function_class"


def released_call(node: Any) -> _FunctionCall | None:
    """What ``explain_backward`` runs for a released ``tg.Function`` node: a call that rebuilds its ctx."""
    function = getattr(node, "_params", {}).get(_CLASS_KEY)
    return None if function is None else _FunctionCall(function)


class FunctionCtx:
    """The ``ctx`` of one call: what forward leaves for backward.

    ``save_for_backward(*arrays)``, ``saved_tensors``, ``needs_input_grad`` (one bool per
    input), and any attribute you set (``ctx.alpha = 0.1``).
    """

    def __init__(self, needs_input_grad: tuple[bool, ...], inputs: tuple[np.ndarray, ...]) -> None:
        self.needs_input_grad = needs_input_grad
        self._inputs = inputs
        self._saved: tuple[Any, ...] = ()
        self._sources: tuple[tuple[str, Any], ...] = ()
        self._resolved: tuple[Any, ...] | None = None

    def save_for_backward(self, *arrays: Any) -> None:
        """Keep ``arrays`` (inputs, the output, or other arrays) for backward; a second call replaces them."""
        self._saved = arrays

    @property
    def saved_tensors(self) -> tuple[Any, ...]:
        """What ``save_for_backward`` kept: numpy arrays, or Tensors when ``tensor_backward = True``."""
        return self._saved if self._resolved is None else self._resolved


class Function:
    """Base class of user-defined ops with their own backward (see the module docstring).

    Class attributes: ``name`` (the op's name in drawings, default the class name) and
    ``tensor_backward`` (``True`` when backward is written in Tensor ops, which makes
    ``create_graph=True`` work through the op).
    """

    name: ClassVar[str] = "function"
    tensor_backward: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "name" not in cls.__dict__:
            cls.name = cls.__name__
        if not isinstance(cls.name, str) or not cls.name:
            raise TypeError(f"Function {cls.__name__}: name must be a non-empty string, got {cls.name!r}")

    @staticmethod
    def forward(ctx: FunctionCtx, *arrays: np.ndarray, **params: Any) -> np.ndarray:
        """The op on numpy arrays; returns one array. Subclasses define it."""
        raise NotImplementedError

    @staticmethod
    def backward(ctx: FunctionCtx, grad: Any) -> Any:
        """dL/d(input) for each input, given ``grad`` = dL/d(output). Subclasses define it."""
        raise NotImplementedError

    @classmethod
    def apply(cls, *inputs: Any, **params: Any) -> Tensor:
        """Run the op on ``inputs`` (Tensors; arrays and numbers become constants) and record it."""
        if cls is Function:
            raise TypeError(
                "Function.apply: subclass tg.Function and define forward and backward, then call MyOp.apply"
            )
        for method in ("forward", "backward"):
            if getattr(cls, method) is getattr(Function, method):
                raise NotImplementedError(f"{cls.__name__} must define the static method {method}(ctx, ...)")
        if not inputs:
            raise TypeError(f"{cls.__name__}.apply: needs at least one input tensor")
        for key, value in params.items():
            if key == _CLASS_KEY:
                raise TypeError(f"{cls.__name__}.apply: the keyword {key!r} is reserved")
            if isinstance(value, Tensor):
                raise TypeError(
                    f"{cls.__name__}.apply: keyword {key!r} is a Tensor; pass tensors positionally "
                    "(keywords are constant parameters of forward)"
                )
        tensors = tuple(x if isinstance(x, Tensor) else Tensor(x) for x in inputs)
        recording = engine.is_grad_enabled()
        needs = tuple(bool(recording and t.requires_grad) for t in tensors)
        return Tensor._apply(_FunctionCall(cls, needs), *tensors, **params, **{_CLASS_KEY: cls})


class _FunctionCall:
    """One call of a Function, as ``Tensor._apply`` records it (``node._fn``): it keeps the call's ctx.

    ``Tensor._apply`` calls :meth:`forward` once to make the node; that first call's ctx is the
    one :meth:`backward` uses. Later calls (gradcheck re-running the op on perturbed inputs)
    get a fresh ctx each and change nothing. A call made without a ctx (explaining a released
    node) rebuilds one by running forward on the inputs.
    """

    def __init__(self, function: type[Function], needs_input_grad: tuple[bool, ...] | None = None) -> None:
        self.function = function
        self.name = function.name
        self.__name__ = function.__name__
        self.__doc__ = function.__doc__ or f"{function.name}: a tg.Function (its class has no docstring)"
        self.needs_input_grad = needs_input_grad
        self.ctx: FunctionCtx | None = None

    @property
    def saves(self) -> tuple[int | str, ...] | None:
        """The inputs (positions) and ``"out"`` this call saved, for the engine's in-place check
        (:mod:`tinygrad_edu.versions`); ``None`` (everything) before forward ran."""
        if self.ctx is None:
            return None
        return tuple(value if kind == "input" else "out" for kind, value in self.ctx._sources if kind != "array")

    def forward(self, *arrays: np.ndarray, **params: Any) -> np.ndarray:
        params.pop(_CLASS_KEY, None)
        needs = self.needs_input_grad if self.needs_input_grad is not None else (False,) * len(arrays)
        out, ctx = _run_forward(self.function, arrays, params, needs)
        if self.ctx is None:
            self.ctx = ctx
        return out

    def backward(self, g: Tensor, out: Tensor, *inputs: Tensor, **params: Any) -> tuple[Any, ...]:
        ctx = self.ctx
        if ctx is None:  # explaining a node whose graph was released: rebuild ctx from the inputs
            params.pop(_CLASS_KEY, None)
            needs = tuple(t.requires_grad for t in inputs)
            _, ctx = _run_forward(self.function, tuple(t.data for t in inputs), params, needs)
        return _run_backward(self.function, ctx, g, out, inputs)


def _read_only(a: Any) -> np.ndarray:
    view = np.asarray(a).view()  # (asarray: a 0-d tensor's data may be a numpy scalar)
    view.flags.writeable = False
    return view


def _mutation_error(function: type[Function], method: str, err: ValueError) -> Exception:
    if "read-only" in str(err):
        return ValueError(
            f"{function.__name__}.{method} changed one of its arrays in place ({err}); an op must not modify "
            "its inputs, the saved arrays or the incoming gradient: compute a new array instead "
            "(e.g. x = x * 2, not x *= 2)"
        )
    return err


def _run_forward(
    function: type[Function], arrays: tuple[np.ndarray, ...], params: dict[str, Any], needs: tuple[bool, ...]
) -> tuple[np.ndarray, FunctionCtx]:
    """Run ``function.forward`` on read-only views; return its output (float, owning its data) and ctx."""
    views = tuple(_read_only(a) for a in arrays)
    ctx = FunctionCtx(needs, views)
    try:
        raw = function.forward(ctx, *views, **params)
    except ValueError as err:
        raise _mutation_error(function, "forward", err) from err
    if isinstance(raw, (tuple, list)):
        raise TypeError(
            f"{function.__name__}.forward returned a {type(raw).__name__}; it must return one array "
            "(write one Function per output)"
        )
    if isinstance(raw, Tensor):
        raise TypeError(f"{function.__name__}.forward returned a Tensor; forward works on numpy arrays, return one")
    out = np.asarray(raw)
    if out.dtype.kind not in "fiub":
        raise TypeError(f"{function.__name__}.forward returned an array of dtype {out.dtype}; expected floats")
    floats = [a.dtype for a in views if a.dtype.kind == "f"]
    dtype = np.result_type(*floats) if floats else np.dtype(np.float64)
    if out.dtype != dtype:
        out = out.astype(dtype)
    if not out.flags.writeable or any(np.may_share_memory(out, a) for a in views):
        out = out.copy()  # the output owns its data (it may be a view of an input)
    sources = []
    for item in ctx._saved:
        k = next((k for k, a in enumerate(views) if item is a), None)
        if k is not None:
            sources.append(("input", k))
        elif item is raw:
            sources.append(("output", None))
        elif function.tensor_backward:
            raise TypeError(
                f"{function.__name__}.forward saved an array that is neither an input nor the output. With "
                "tensor_backward = True, save only inputs and the output and recompute the rest in backward "
                "from ctx.saved_tensors with Tensor ops (a saved intermediate would be a constant to the "
                "second derivative)"
            )
        else:
            sources.append(("array", _read_only(np.asarray(item)) if isinstance(item, np.ndarray) else item))
    ctx._sources = tuple(sources)
    ctx._inputs = ()  # only needed to recognise saved inputs; backward gets the input tensors themselves
    return out, ctx


def _resolve_saved(ctx: FunctionCtx, out: Tensor, inputs: tuple[Tensor, ...], as_tensors: bool) -> tuple[Any, ...]:
    resolved = []
    for kind, value in ctx._sources:
        node = inputs[value] if kind == "input" else out if kind == "output" else None
        if node is None:
            resolved.append(value)
        else:
            resolved.append(node if as_tensors else _read_only(node.data))
    return tuple(resolved)


def _run_backward(
    function: type[Function], ctx: FunctionCtx, g: Tensor, out: Tensor, inputs: tuple[Tensor, ...]
) -> tuple[Any, ...]:
    name = function.__name__
    create_graph = engine.is_grad_enabled()  # the engine records the backward pass only for create_graph
    tensor_mode = function.tensor_backward
    if create_graph and not tensor_mode:
        raise RuntimeError(
            f"backward(create_graph=True) through {name}: its backward works on numpy arrays, so its "
            "gradient cannot be differentiated again. Write backward in Tensor ops and set "
            f"tensor_backward = True on {name} (g and ctx.saved_tensors are then Tensors in the graph)."
        )
    ctx._resolved = _resolve_saved(ctx, out, inputs, tensor_mode)
    try:
        raw = function.backward(ctx, g if tensor_mode else _read_only(g.data))
    except ValueError as err:
        raise _mutation_error(function, "backward", err) from err
    finally:
        ctx._resolved = None
    if not isinstance(raw, (tuple, list)):
        raw = (raw,)
    if len(raw) != len(inputs):
        raise ValueError(
            f"{name}.backward returned {len(raw)} gradient(s) for {len(inputs)} input(s); return one per "
            "input, in order (None for an input that needs no gradient)"
        )
    grads: list[Any] = []
    for k, (grad, x) in enumerate(zip(raw, inputs)):
        if grad is None or not x.requires_grad:
            grads.append(None)
            continue
        if tensor_mode:
            if not isinstance(grad, Tensor):
                raise TypeError(
                    f"{name}.backward returned a {type(grad).__name__} for input {k}; with tensor_backward = True "
                    "return Tensors computed from g and ctx.saved_tensors"
                )
            array = grad.data
        else:
            array = np.asarray(grad.data if isinstance(grad, Tensor) else grad)
        if array.shape != x.shape:
            raise ValueError(
                f"{name}.backward returned a gradient of shape {array.shape} for input {k} of shape {x.shape}; "
                "each gradient must have its input's shape (sum over the axes forward broadcast)"
            )
        if array.dtype.kind not in "fiub":
            raise TypeError(
                f"{name}.backward returned a gradient of dtype {array.dtype} for input {k}; expected floats"
            )
        if tensor_mode:
            grads.append(grad if grad.dtype == x.dtype else grad.cast(x.dtype))
        else:
            grads.append(Tensor(np.array(array, dtype=x.dtype)))  # a copy: the engine's sums never alias
    return tuple(grads)
