"""``Tensor``: an n-d array (over numpy) that records a computation graph.

Read :mod:`tinygrad_edu.engine`, :mod:`tinygrad_edu.value` and :mod:`tinygrad_edu.primitives`
first. Here ``Tensor._apply`` records a primitive exactly as ``Value._result`` records a
scalar op; the rest of the file is the core of the user-facing ops (arithmetic, the
primitives' front doors, dtypes, comparisons). The other ops come by family from the mixins
of :mod:`tinygrad_edu.ops` (elementwise, reductions, movement; ``docs/ops.md`` lists them
all). Next: :mod:`tinygrad_edu.nn`.

Two tiers, as in tinygrad:

* **Primitives** (:mod:`tinygrad_edu.primitives`) know calculus: each has a forward in
  numpy and a vector-Jacobian product written in Tensor ops.
* **Composed ops** (mean, var, softmax, log_softmax, logsumexp, softplus, clip, elu,
  stack, ..., mostly in :mod:`tinygrad_edu.ops`) are built from primitives and have
  no backward of their own; their gradients come from the chain rule.

Broadcasting is explicit: a binary op expands every operand that needs a gradient to
the common shape with the ``expand`` primitive (whose VJP is a sum), so the gradient
of an input always has the input's shape. Constants are left to numpy's broadcasting.

**Dtype policy.** A Tensor holds float32, float64, int64, int32 or bool. Only float tensors
take part in differentiation: ``requires_grad`` on an integer or bool tensor is an error (as
PyTorch); integers and bools are labels, counts, indices and masks.

* ``Tensor(data)`` makes a *float* tensor, as ``torch.Tensor`` does: float32 and float64
  arrays (and numpy scalars) keep their dtype; Python numbers and lists, and integer or
  boolean arrays, become the default float dtype: float64 unless changed with
  :func:`set_default_dtype` (float64 makes gradient checks exact to ~1e-10; use float32 for
  speed). float16 arrays become float32. Other float types (long double), complex, object
  and string data raise a ``TypeError``; ragged nested lists a ``ValueError``. ``dtype=``
  (any of the five, or a name: ``"float32"``, ``"long"``) overrides all this.
* ``tg.tensor(data)`` (:func:`tinygrad_edu.factories.tensor`) infers like ``torch.tensor``:
  bools -> bool, integers -> int64, Python floats -> the default float dtype.
* In an expression (PyTorch's promotion; see :func:`_result_dtype` and :func:`_promote`):
  categories rank bool < integer < float, and the higher category wins. Python numbers and
  lists, and numpy scalars, are *weak*: they take the tensor's dtype when their category is
  not higher (``x32 * 2.0``, ``x32 + np.int64(2)`` and ``x32 + [1, 2]`` stay float32;
  ``int_t * 0.5`` is the default float). Tensors and numpy arrays of one category combine to
  the wider type (float32 with float64 -> float64), and int64 with float32 gives float32.
  True division of integers and ``exp``/``log``/... of integers give the default float.
* A gradient always has the dtype of its input (a ``cast`` passes it back).
* The factories (:mod:`tinygrad_edu.factories`) make the default float dtype unless given ``dtype=``.

**Comparisons** (``<``, ``==``, ...) return bool tensors (constants), as in PyTorch: masks for
indexing (``x[(x > 0) & (x < 6)]``; the mask's shape must match) and for ``where``, and 0/1
factors in arithmetic (``x * (x > 0)`` promotes the mask to x's dtype). ``&``, ``|``, ``^``
and ``~`` combine them. A float tensor is not an index (an ``IndexError``, as in PyTorch): a
0/1 float mask would otherwise silently pick elements 0 and 1.

**In-place ops** (``+=``, ``add_``, ``zero_``, ``t[i] = v``, ...) are in
:mod:`tinygrad_edu.tensor_inplace`, with PyTorch's leaf rules and the version counter of
:mod:`tinygrad_edu.versions`.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterator, Sequence
from typing import Any, Union

import numpy as np

from . import engine
from . import primitives as P
from .ops._shared import as_ints as _as_ints
from .ops._shared import normalize_axis as _normalize_axis
from .ops._shared import normalize_axis_cached as _normalize_axis_cached  # noqa: F401 (tests clear its cache)
from .ops.elementwise import ElementwiseOps
from .ops.movement import MovementOps
from .ops.reductions import ReductionOps
from .tensor_inplace import InplaceOps
from .torch_names import accepts_torch_names
from .versions import CLOCK, check_saved, version_of

__all__ = [
    "Tensor",
    "cat",
    "concatenate",
    "get_default_dtype",
    "grad",
    "maximum",
    "minimum",
    "set_default_dtype",
    "stack",
    "where",
]

ArrayLike = Union["Tensor", np.ndarray, float, int, Sequence[Any]]
Axis = int | Sequence[int] | None

_FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
_INT_DTYPES = (np.dtype(np.int32), np.dtype(np.int64))
_BOOL = np.dtype(np.bool_)
DTYPES = _FLOAT_DTYPES + _INT_DTYPES + (_BOOL,)  # every dtype a Tensor may hold
# PyTorch's spellings (``.to("long")``); other strings and types go through numpy ("float32", np.int64, int, ...)
_TORCH_DTYPE_NAMES = {
    "float": np.dtype(np.float32), "double": np.dtype(np.float64), "long": np.dtype(np.int64),
    "int": np.dtype(np.int32), "bool": _BOOL,
}
_REPR_THRESHOLD = 50  # repr shows at most this many elements, then summarises with "..."
_default_dtype = np.dtype(np.float64)


def set_default_dtype(dtype: Any) -> None:
    """Set the float dtype that Python data and integer arrays become (float32 or float64)."""
    global _default_dtype
    try:
        dtype = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"set_default_dtype: expected float32 or float64, got {dtype!r:.60}") from None
    if dtype not in _FLOAT_DTYPES:
        raise TypeError(f"set_default_dtype: expected float32 or float64, got {dtype}")
    _default_dtype = dtype


def get_default_dtype() -> np.dtype:
    """The float dtype that Python data and integer arrays become (float64 by default)."""
    return _default_dtype


def as_dtype(dtype: Any, op: str = "dtype") -> np.dtype:
    """``dtype`` (a numpy dtype or type, ``int``/``float``/``bool``, a name such as ``"float32"`` or
    PyTorch's ``"long"``) as one of the numpy dtypes a Tensor holds, else a ``TypeError`` naming ``op``."""
    if isinstance(dtype, str) and dtype.removeprefix("torch.") in _TORCH_DTYPE_NAMES:
        return _TORCH_DTYPE_NAMES[dtype.removeprefix("torch.")]
    try:
        resolved = np.dtype(dtype.removeprefix("torch.") if isinstance(dtype, str) else dtype)
    except TypeError:
        resolved = None
    if resolved is None or resolved not in DTYPES:  # (None == float64 for numpy: test it first)
        raise TypeError(
            f"{op}: unknown or unsupported dtype {dtype!r}; expected one of float32, float64, int32, int64, bool"
        )
    return resolved


def _to_float_array(data: Any, dtype: Any = None, op: str = "Tensor") -> np.ndarray:
    """Apply the dtype policy of ``Tensor(...)`` (see the module docstring) to ``data``."""
    if isinstance(data, Tensor):
        array = data.data
    elif type(data).__name__ == "Value":
        raise TypeError(
            f"{op}: cannot mix a Tensor with a Value. Use Tensor(v.data) for a constant "
            "or Value(t.item()) for a scalar; they are separate graphs."
        )
    else:
        try:
            array = np.asarray(data)
        except ValueError as err:  # ragged nested lists
            raise ValueError(f"{op}: cannot make an array from this {type(data).__name__}: {err}") from None
        if not isinstance(data, (np.ndarray, np.generic)) and array.dtype.kind == "f":
            array = array.astype(_default_dtype, copy=False)  # Python floats: the default dtype
    if dtype is not None:
        target = as_dtype(dtype, op)
    elif array.dtype in _FLOAT_DTYPES:
        return array
    elif array.dtype == np.float16:
        target = np.dtype(np.float32)
    elif array.dtype.kind in "iub":
        target = _default_dtype
    elif array.dtype.kind == "f":
        raise TypeError(
            f"{op}: {array.dtype} data is not supported; expected float32 or float64 "
            "(convert it first, e.g. array.astype(np.float64))."
        )
    else:
        raise TypeError(
            f"{op}: cannot make a float tensor from {array.dtype} data "
            f"({'complex numbers' if array.dtype.kind == 'c' else 'not numbers'}); "
            "expected real numbers (float, int or bool)."
        )
    if array.dtype.kind not in "iubf":
        raise TypeError(f"{op}: cannot convert {array.dtype} data to {target}; expected real numbers.")
    return array.astype(target, copy=False)


def _infer_array(data: Any, dtype: Any = None, op: str = "tensor") -> np.ndarray:
    """The dtype inference of ``tg.tensor(data)`` (as ``torch.tensor``): a copy of ``data`` as

    * bool for booleans, int64 for integers (int32 arrays stay int32; other integer arrays become int64),
    * the default float dtype for Python floats, float32/float64 arrays keep theirs (float16 -> float32),

    or ``dtype`` when given. Complex, object and string data raise a ``TypeError``.
    """
    source = data.data if isinstance(data, Tensor) else data
    if dtype is not None or isinstance(source, np.ndarray) and source.dtype in DTYPES:
        return np.array(_to_float_array(source, dtype, op) if dtype is not None else source)  # a copy
    try:
        array = np.asarray(source)
    except ValueError as err:  # ragged nested lists
        raise ValueError(f"{op}: cannot make an array from this {type(data).__name__}: {err}") from None
    kind = array.dtype.kind
    if kind == "b":
        return np.array(array, dtype=_BOOL)
    if kind in "iu":
        return np.array(array, dtype=np.int64)
    if kind == "f" and array.dtype.itemsize <= 8:
        python_floats = not isinstance(source, (np.ndarray, np.generic))
        return np.array(array, dtype=_default_dtype if python_floats or array.dtype == np.float16 else array.dtype)
    return np.array(_to_float_array(array, None, op))  # raises the policy's TypeError for the rest


def _result_dtype(tensor_dtype: np.dtype, other: Any) -> np.dtype:
    """The dtype of ``tensor <op> other`` for a non-Tensor ``other``, by PyTorch's promotion rules.

    Categories rank bool < integer < float. A Python number or list, or a numpy scalar, is a
    *weak* operand: it takes the tensor's dtype unless its category is higher (then the default
    float dtype for a float, int64 for an integer). A numpy array is an ordinary operand: the
    higher category wins, and within a category numpy's ``result_type`` (float32 with float64 ->
    float64). So ``x32 * 2.0``, ``x32 + np.int64(2)`` and ``x32 + [1, 2]`` stay float32.
    """
    if isinstance(other, np.ndarray) and other.ndim:
        theirs = other.dtype
        mine_rank, their_rank = _RANK.get(tensor_dtype.kind, 3), _RANK.get(theirs.kind, 3)
        if mine_rank != their_rank:
            return tensor_dtype if mine_rank > their_rank else _canonical(theirs)
        return np.result_type(tensor_dtype, _canonical(theirs))
    kind = _weak_kind(other)
    if _RANK.get(kind, 3) <= _RANK[tensor_dtype.kind]:
        return tensor_dtype
    return _default_dtype if kind == "f" else np.dtype(np.int64)


_RANK = {"b": 0, "i": 1, "u": 1, "f": 2}


def _canonical(dtype: np.dtype) -> np.dtype:
    """A numpy dtype as the nearest Tensor dtype (float16 -> float32, other integers -> int64)."""
    if dtype in DTYPES:
        return dtype
    if dtype.kind in "iu":
        return np.dtype(np.int64)
    return np.dtype(np.float32) if dtype == np.float16 else dtype  # others fail in the policy with a clear error


def _weak_kind(other: Any) -> str:
    """The category ('b', 'i' or 'f') of a Python number, a numpy scalar or 0-d array, or a (nested) list."""
    if isinstance(other, bool):
        return "b"
    if isinstance(other, int):
        return "i"
    if isinstance(other, float):
        return "f"
    kind = np.asarray(other).dtype.kind
    return "i" if kind == "u" else kind


# Bound once: Tensor._apply runs for every op, so it avoids repeated attribute look-ups.
_is_grad_enabled = engine.is_grad_enabled
_current_scope = engine.current_scope
_new_tensor = object.__new__


def _promote(a: np.dtype, b: np.dtype) -> np.dtype:
    """The common dtype of two tensors (PyTorch): the higher category of bool < int < float wins;
    within a category the wider type (numpy's ``result_type``). int64 + float32 -> float32."""
    rank_a, rank_b = _RANK[a.kind], _RANK[b.kind]
    if rank_a != rank_b:
        return a if rank_a > rank_b else b
    return np.result_type(a, b)


def _check_can_require_grad(array: np.ndarray, op: str) -> None:
    if array.dtype.kind != "f":
        raise RuntimeError(
            f"{op}: only float tensors can require gradients, got a tensor of dtype {array.dtype} and shape "
            f"{array.shape} (integer and bool tensors are labels, counts and masks; as PyTorch). "
            "Cast it first: t.float() or t.double()"
        )


@functools.lru_cache(maxsize=1024)  # a model broadcasts the same few pairs of shapes on every step
def _broadcast_shape(a: tuple[int, ...], b: tuple[int, ...], op: str) -> tuple[int, ...]:
    """numpy's broadcasting rule, with an error that names the op and both shapes."""
    n = max(len(a), len(b))
    pa, pb = (1,) * (n - len(a)) + a, (1,) * (n - len(b)) + b
    out = []
    for x, y in zip(pa, pb):
        if x == y or y == 1:
            out.append(x)
        elif x == 1:
            out.append(y)
        else:
            raise ValueError(
                f"{op}: shapes {a} and {b} cannot be broadcast together (axis sizes {x} and {y} "
                "differ and neither is 1). Reshape or transpose one operand."
            )
    return tuple(out)


class Tensor(InplaceOps, ElementwiseOps, ReductionOps, MovementOps):
    """An n-d float array in the computation graph.

    The ops of the families in :mod:`tinygrad_edu.ops` (elementwise, reductions,
    movement/indexing) are inherited from their mixins; the core ones are below.

    ``data`` is the numpy array, ``grad`` the gradient dL/d(tensor) as a Tensor of the
    same shape after ``backward`` (``None`` until a backward pass reaches it).
    ``label`` is an optional name used by drawings.
    """

    __slots__ = (
        "data", "grad", "requires_grad", "label", "_parents", "_op", "_fn", "_params", "_scope", "_born",
        "__weakref__",
    )
    __array_ufunc__ = None  # numpy defers to our reflected ops: ndarray * Tensor -> Tensor

    def __init__(self, data: ArrayLike, requires_grad: bool = False, dtype: Any = None, label: str = "") -> None:
        self.data: np.ndarray = _to_float_array(data, dtype)
        if requires_grad:
            _check_can_require_grad(self.data, "Tensor")
            if isinstance(data, (np.ndarray, Tensor)) and np.may_share_memory(self.data, data):
                self.data = self.data.copy()  # a trainable leaf owns its array: optimisers update it in place
        self.grad: Tensor | None = None
        self.requires_grad = bool(requires_grad)
        self.label = label
        self._parents: tuple[Tensor, ...] = ()
        self._op = ""
        self._fn: type[P.Primitive] | None = None
        self._params: dict[str, Any] = {}
        self._scope: tuple[Any, ...] = ()
        self._born = 0  # the in-place clock when this node was recorded (see tinygrad_edu.versions)

    # ------------------------------------------------------------------ graph plumbing

    @staticmethod
    def _apply(fn: type[P.Primitive], *inputs: Tensor, **params: Any) -> Tensor:
        """Run primitive ``fn`` on ``inputs`` and record it when any input needs grad."""
        out = _new_tensor(Tensor)  # skips __init__'s dtype checks: primitives keep the policy
        if len(inputs) == 1:  # the common arities unpacked by hand (this runs for every op)
            out.data = fn.forward(inputs[0].data, **params)
        elif len(inputs) == 2:
            out.data = fn.forward(inputs[0].data, inputs[1].data, **params)
        else:
            out.data = fn.forward(*[t.data for t in inputs], **params)
        out.grad = None
        out.label = ""
        out._params = params
        record = False
        for t in inputs:  # record when an input needs grad and grad mode is on (a loop: hot path)
            if t.requires_grad:
                record = _is_grad_enabled()
                break
        if record:
            out.requires_grad = True
            out._parents = inputs
            out._op = fn.name
            out._fn = fn
            out._scope = _current_scope()
            out._born = CLOCK.tick  # for the version check at backward (tinygrad_edu.versions)
        else:
            out.requires_grad = False
            out._parents = ()
            out._op = ""
            out._fn = None
            out._scope = ()
            out._born = 0
        if _anomaly_hooks:  # detect_anomaly's checks (see _anomaly_hooks at the end); normally empty
            for hook in _anomaly_hooks:
                hook(out, fn, inputs)
        return out

    def _vjp(self, upstream: Tensor) -> P.Grads:
        if self._born < CLOCK.tick:  # something was changed in place since this op was recorded
            check_saved(self)
        backward = self._fn.backward  # type: ignore[union-attr]
        if self._params:
            return backward(upstream, self, *self._parents, **self._params)
        return backward(upstream, self, *self._parents)

    def _release(self) -> None:
        self._fn = None

    def _has_vjp(self) -> bool:
        return self._fn is not None

    def _constant(self, data: ArrayLike, op: str = "Tensor") -> Tensor:
        """A constant operand for this tensor.

        Python numbers and lists, and integer/boolean arrays, take this tensor's dtype
        (``x32 * 2`` and ``x32 * [1.0, 2.0]`` stay float32); float arrays keep theirs.
        """
        if isinstance(data, Tensor):
            return data
        mine = self.data.dtype
        if type(data) is float or type(data) is int:  # the common case: a number of the tensor's category
            if mine.kind == "f" or type(data) is int and mine.kind == "i":
                return _wrap(np.asarray(data, dtype=mine))
        elif type(data).__name__ == "Value" or isinstance(data, (str, bytes)):
            _to_float_array(data, op=op)  # raises the policy's error
        try:
            array = np.asarray(data)
        except ValueError as err:
            raise ValueError(f"{op}: cannot make an array from this {type(data).__name__}: {err}") from None
        if array.dtype.kind not in "biuf":
            _to_float_array(array, op=op)  # raises the policy's TypeError (complex, object, ...)
        return _wrap(np.asarray(array, dtype=_result_dtype(mine, data)))

    def _binary(self, fn: type[P.Primitive], other: ArrayLike, reverse: bool = False) -> Tensor:
        """Apply a binary primitive with explicit broadcasting (see the module docstring)."""
        if not isinstance(other, Tensor):
            other = self._constant(other, fn.name)
        x, y = (other, self) if reverse else (self, other)
        xd, yd = x.data, y.data
        if xd.shape != yd.shape:
            shape = _broadcast_shape(xd.shape, yd.shape, fn.name)
            if _is_grad_enabled():  # (shape is known to be valid: apply the primitive directly)
                if x.requires_grad and xd.shape != shape:
                    x = Tensor._apply(P.Expand, x, shape=shape)
                if y.requires_grad and yd.shape != shape:
                    y = Tensor._apply(P.Expand, y, shape=shape)
        if xd.dtype != yd.dtype:
            common = _promote(xd.dtype, yd.dtype)
            x, y = x.cast(common), y.cast(common)
        return Tensor._apply(fn, x, y)

    # ------------------------------------------------------------------ autograd API

    def backward(
        self, gradient: ArrayLike | None = None, retain_graph: bool = False, create_graph: bool = False
    ) -> None:
        """Fill ``.grad`` of every tensor this one depends on with dL/d(tensor).

        A scalar (one-element) output is seeded with dL/dL = 1. For any other shape
        pass ``gradient`` (dL/d(self), same shape). Leaves accumulate across calls,
        interior tensors are overwritten, and the graph is released unless
        ``retain_graph=True`` (see :mod:`tinygrad_edu.engine`).

        Without ``create_graph`` the backward pass records nothing (it runs under
        ``no_grad``) and every leaf's ``.grad`` holds an array of its own, safe to change
        in place. ``create_graph=True`` records the backward pass: each ``.grad`` is then a
        Tensor in the graph, a function of the inputs, so it can be differentiated again
        (``x.grad`` of f gives f''(x) through a second ``backward`` or :func:`grad`); it
        implies ``retain_graph``. Reset leaf gradients (``zero_grad``) between such calls,
        since they accumulate.
        """
        seed = self._seed(gradient, "backward")
        engine.backward(
            self, seed, retain_graph=retain_graph or create_graph, create_graph=create_graph,
            # with create_graph the gradients are graph nodes: keep them
            finish_leaves=None if create_graph else _own_leaf_grads,
        )

    def _seed(self, gradient: ArrayLike | None, op: str) -> Tensor:
        if not self.requires_grad:
            raise RuntimeError(
                f"{op}: this tensor does not require grad (shape {self.shape}), so there is no "
                "graph to differentiate. Create its inputs with requires_grad=True, outside no_grad()."
            )
        if gradient is None:
            if self.data.size != 1:
                raise RuntimeError(
                    f"{op}: the output has shape {self.shape}, not a scalar, so dL/d(output) is "
                    "ambiguous. Pass gradient= (an array of the same shape) or reduce the output "
                    "first, e.g. out.sum() or out.mean()."
                )
            return _wrap(np.ones_like(self.data))
        try:
            raw = np.asarray(gradient.data if isinstance(gradient, Tensor) else gradient)
        except ValueError as err:  # ragged nested lists
            raise ValueError(f"{op}: gradient is not an array of the output's shape {self.shape}: {err}") from None
        if raw.dtype.kind not in "biuf":
            what = "complex numbers (the imaginary part would be dropped)" if raw.dtype.kind == "c" else (
                f"{raw.dtype} data (e.g. None values)" if raw.dtype.kind == "O" else f"{raw.dtype} data")
            raise TypeError(
                f"{op}: gradient must hold real numbers, dL/d(output) of shape {self.shape} and dtype {self.dtype}; "
                f"got {what}"
            )
        seed = np.array(raw, dtype=self.dtype)  # a copy
        if seed.shape != self.shape:
            raise ValueError(f"{op}: gradient has shape {seed.shape} but the output has shape {self.shape}")
        return Tensor(seed)

    def detach(self) -> Tensor:
        """A constant sharing this tensor's data, cut from the graph."""
        out = Tensor.__new__(Tensor)
        out.data, out.grad, out.requires_grad, out.label = self.data, None, False, self.label
        out._parents, out._op, out._fn, out._params, out._scope, out._born = (), "", None, {}, (), 0
        return out

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Mark this leaf as needing gradients (in place); returns self.

        As PyTorch: on a tensor in the graph (not a leaf) ``True`` is a no-op and ``False`` an
        error. A leaf that starts requiring grad takes a copy of its array, so an optimiser's
        in-place updates never write into the array the caller made it from (or fail on a
        read-only one), as with ``Tensor(a, requires_grad=True)``.
        """
        requires_grad = bool(requires_grad)
        if self._parents:
            if requires_grad:
                return self
            raise RuntimeError(
                "requires_grad_: this tensor is the result of an op in the graph, not a leaf, so it cannot stop "
                "requiring grad; use t.detach() for a constant copy"
            )
        if requires_grad and not self.requires_grad:
            _check_can_require_grad(self.data, "requires_grad_")
            self.data = self.data.copy()  # a trainable leaf owns its array (issue: optimisers update it in place)
        self.requires_grad = requires_grad
        return self

    def zero_grad(self) -> None:
        """Forget this tensor's gradient (``grad = None``)."""
        self.grad = None

    def draw(self, **options: Any):  # noqa: ANN201 - returns graphviz.Digraph
        """Draw this tensor's graph (see :func:`tinygrad_edu.viz.draw_graph`)."""
        from .viz import draw_graph

        return draw_graph(self, **options)

    # ------------------------------------------------------------------ numpy interop

    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def size(self) -> _Size:
        """The number of elements (numpy's ``t.size``); called, the shape (PyTorch's ``t.size()``, ``t.size(dim)``)."""
        return _Size(self.data.size, self.data.shape)

    def numel(self) -> int:
        """The number of elements (PyTorch's ``numel()``; numpy's ``size``)."""
        return self.data.size

    def dim(self) -> int:
        """The number of dimensions (PyTorch's ``dim()``; also ``ndim``)."""
        return self.data.ndim

    def numpy(self) -> np.ndarray:
        """The data as a numpy array (shared, not copied)."""
        return self.data

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        return self.data if dtype is None else self.data.astype(dtype)

    def item(self) -> Any:
        """The value of a one-element tensor as a Python number (float, int or bool, as its dtype)."""
        if self.data.size != 1:
            raise ValueError(f"item: only one-element tensors convert to a Python number, got shape {self.shape}")
        return self.data.reshape(()).item()

    def tolist(self) -> Any:
        """The data as nested Python lists of floats."""
        return self.data.tolist()

    def _scalar(self, op: str) -> Any:
        if self.data.size != 1:
            raise TypeError(
                f"{op}: only one-element tensors convert to a Python number, got shape {self.shape}; "
                "reduce it first (e.g. .sum(), .mean()) or use .tolist()"
            )
        return self.data.reshape(()).item()

    def __float__(self) -> float:
        """``float(t)`` for a one-element tensor."""
        return float(self._scalar("float()"))

    def __int__(self) -> int:
        """``int(t)`` for a one-element tensor (truncates a float toward 0, as PyTorch)."""
        return int(self._scalar("int()"))

    def __index__(self) -> int:
        """A one-element integer tensor as an index (``range(t)``, ``list[t]``), as PyTorch."""
        if self.data.dtype.kind not in "iu":
            raise TypeError(f"only integer tensors of one element can be used as an index, got {self.dtype}")
        return int(self._scalar("__index__"))

    def __format__(self, spec: str) -> str:
        """``f"{loss:.4f}"`` formats a one-element tensor's value; with no spec, the repr."""
        if not spec:
            return repr(self)
        if self.data.size != 1:
            raise TypeError(
                f"format: the spec {spec!r} needs a one-element tensor, got shape {self.shape}; "
                "format t.item() of a reduction, or t.tolist()"
            )
        return format(self.data.reshape(()).item(), spec)

    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def __iter__(self) -> Iterator[Tensor]:
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self.shape[0]))

    def __repr__(self) -> str:
        body = np.array2string(self.data, precision=4, separator=", ", prefix="Tensor(", threshold=_REPR_THRESHOLD)
        extra = []
        if self.data.size > _REPR_THRESHOLD or self.data.size == 0:  # "..." or "[]" hides the shape
            extra.append(f"shape={self.shape}")
        if self.dtype != _default_dtype:
            extra.append(f"dtype={self.dtype}")
        if self.requires_grad:
            extra.append("requires_grad=True")
        if self._op:
            extra.append(f"op={self._op!r}")
        if self.label:
            extra.append(f"label={self.label!r}")
        return f"Tensor({body}{''.join(', ' + e for e in extra)})"

    def __bool__(self) -> bool:
        if self.data.size != 1:
            raise ValueError(f"the truth value of a tensor of shape {self.shape} is ambiguous; use .any() or .all()")
        return bool(self.data.reshape(()))

    __hash__ = object.__hash__

    # ------------------------------------------------------------------ arithmetic (primitives)

    def __add__(self, other: ArrayLike) -> Tensor:
        """z = x + y (primitive ``add``; broadcasts through ``expand``);  dL/dx = g, dL/dy = g."""
        return self._binary(P.Add, other)

    def __radd__(self, other: ArrayLike) -> Tensor:
        """z = c + x for a number or array c (reflected ``add``)."""
        return self._binary(P.Add, other, reverse=True)

    def __sub__(self, other: ArrayLike) -> Tensor:
        """z = x - y (primitive ``sub``);  dL/dx = g, dL/dy = -g."""
        return self._binary(P.Sub, other)

    def __rsub__(self, other: ArrayLike) -> Tensor:
        """z = c - x for a number or array c (reflected ``sub``);  dL/dx = -g."""
        return self._binary(P.Sub, other, reverse=True)

    def __mul__(self, other: ArrayLike) -> Tensor:
        """z = x * y elementwise (primitive ``mul``);  dL/dx = g * y, dL/dy = g * x."""
        return self._binary(P.Mul, other)

    def __rmul__(self, other: ArrayLike) -> Tensor:
        """z = c * x for a number or array c (reflected ``mul``);  dL/dx = g * c."""
        return self._binary(P.Mul, other, reverse=True)

    def __truediv__(self, other: ArrayLike) -> Tensor:
        """z = x / y (primitive ``div``);  dL/dx = g / y, dL/dy = -g x / y^2. Integers divide to floats."""
        if self.data.dtype.kind != "f":
            return self._floating()._binary(P.Div, other)
        return self._binary(P.Div, other)

    def __rtruediv__(self, other: ArrayLike) -> Tensor:
        """z = c / x for a number or array c (reflected ``div``);  dL/dx = -g c / x^2."""
        return self._floating()._binary(P.Div, other, reverse=True)

    def __pow__(self, exponent: ArrayLike) -> Tensor:
        """z = x^c for a number c (primitive ``PowConst``;  dL/dx = g c x^(c-1)) or z = x^y for a
        tensor or array y (primitive ``Pow``;  dL/dx = g y x^(y-1), dL/dy = g x^y ln x, x > 0)."""
        if isinstance(exponent, (int, float)) and not isinstance(exponent, bool):
            return Tensor._apply(P.PowConst, self, exponent=float(exponent))
        return self._binary(P.Pow, exponent)

    def __rpow__(self, base: ArrayLike) -> Tensor:
        """z = a^x for a number or array a > 0 (reflected ``pow``);  dL/dx = g a^x ln a."""
        return self._binary(P.Pow, base, reverse=True)

    def __neg__(self) -> Tensor:
        """z = -x (primitive ``neg``);  dL/dx = -g."""
        return Tensor._apply(P.Neg, self)

    def __rmatmul__(self, other: ArrayLike) -> Tensor:
        """Z = C @ X for a constant array C (see ``matmul``)."""
        return self._constant(other).matmul(self)

    def matmul(self, other: ArrayLike) -> Tensor:
        """Z = X @ Y, Z_ij = sum_k X_ik Y_kj;  dL/dX = G @ Y^T, dL/dY = X^T @ G (primitive ``matmul``).

        numpy's rules: 1-d operands are promoted to a row/column
        and the added axis removed afterwards; leading (batch) axes broadcast.
        Composed of ``reshape``, ``expand`` and the 2-d/batched ``MatMul`` primitive."""
        other = self._constant(other)
        x, y = self, other
        xd, yd = x.data, y.data
        if xd.ndim == 2 == yd.ndim and xd.shape[1] == yd.shape[0] and xd.dtype == yd.dtype:
            return Tensor._apply(P.MatMul, x, y)  # fast path: two matrices (every layer and matmul VJP)
        if x.ndim == 0 or y.ndim == 0:
            raise ValueError(f"matmul: operands must have at least 1 dimension, got shapes {x.shape} and {y.shape}")
        if x.shape[-1] != y.shape[-2 if y.ndim > 1 else 0]:
            raise ValueError(
                f"matmul: shapes {x.shape} and {y.shape} are not aligned: the last axis of the first "
                f"({x.shape[-1]}) must equal the {'second-to-last' if y.ndim > 1 else 'only'} axis of the "
                f"second ({y.shape[-2 if y.ndim > 1 else 0]})"
            )
        squeeze_first, squeeze_last = x.ndim == 1, y.ndim == 1
        if squeeze_first:
            x = x.reshape(1, x.shape[0])
        if squeeze_last:
            y = y.reshape(y.shape[0], 1)
        if x.ndim > 2 or y.ndim > 2:
            try:
                batch = _broadcast_shape(x.shape[:-2], y.shape[:-2], "matmul")
            except ValueError:
                raise ValueError(
                    f"matmul: shapes {self.shape} and {other.shape}: the batch axes {x.shape[:-2]} and "
                    f"{y.shape[:-2]} cannot be broadcast together"
                ) from None
            if engine.is_grad_enabled():
                if x.requires_grad and x.shape[:-2] != batch:
                    x = x.expand(batch + x.shape[-2:])
                if y.requires_grad and y.shape[:-2] != batch:
                    y = y.expand(batch + y.shape[-2:])
        if x.dtype != y.dtype:
            common = _promote(x.dtype, y.dtype)
            x, y = x.cast(common), y.cast(common)
        out = Tensor._apply(P.MatMul, x, y)
        if squeeze_first:
            out = out.reshape(out.shape[:-2] + out.shape[-1:])
        if squeeze_last:
            out = out.reshape(out.shape[:-1])
        return out

    __matmul__ = matmul

    def dot(self, other: ArrayLike) -> Tensor:
        """Alias of ``matmul`` (inner product for two 1-d tensors)."""
        return self.matmul(other)

    def cast(self, dtype: Any) -> Tensor:
        """This tensor in another dtype (no-op if already that dtype).

        Between float dtypes it is the primitive ``cast`` (dL/dx = g cast back). To an integer
        or bool dtype the result is a constant (no gradient; floats are truncated toward 0),
        as PyTorch's ``x.long()``. ``dtype`` may be a numpy dtype or a name ("float32", "long").
        """
        dtype = dtype if dtype.__class__ is np.dtype and dtype in DTYPES else as_dtype(dtype, "cast")
        if dtype == self.data.dtype:
            return self
        if dtype.kind != "f" or not self.requires_grad:
            return _wrap(self.data.astype(dtype))
        return Tensor._apply(P.Cast, self, dtype=dtype)

    astype = cast

    def to(self, dtype: Any) -> Tensor:
        """``cast`` (``t.to("float32")``, ``t.to(np.int64)``). ``t.to("cpu")`` returns ``t``: there is one device."""
        if isinstance(dtype, str) and dtype in ("cpu", "cpu:0"):
            return self
        return self.cast(dtype)

    def float(self) -> Tensor:
        """This tensor as float32 (``cast``)."""
        return self.cast(np.float32)

    def double(self) -> Tensor:
        """This tensor as float64 (``cast``)."""
        return self.cast(np.float64)

    def long(self) -> Tensor:
        """This tensor as int64, a constant (floats truncated toward 0)."""
        return self.cast(np.int64)

    def int(self) -> Tensor:
        """This tensor as int32, a constant (floats truncated toward 0)."""
        return self.cast(np.int32)

    def bool(self) -> Tensor:
        """This tensor as bool (nonzero -> True), a constant."""
        return self.cast(_BOOL)

    def is_floating_point(self) -> bool:
        """Whether the dtype is float32 or float64 (only those can require grad)."""
        return self.data.dtype.kind == "f"

    def _floating(self) -> Tensor:
        """This tensor, or a constant of it in the default float dtype if it is int/bool (exp, log, ... of ints)."""
        return self if self.data.dtype.kind == "f" else _wrap(self.data.astype(_default_dtype))

    # ------------------------------------------------------------------ comparisons and logic (no gradient)

    def _compare(self, other: ArrayLike, op: Any, name: str) -> Tensor:
        """A bool tensor (as PyTorch): a mask for indexing and ``where``, a 0/1 factor in arithmetic."""
        if isinstance(other, (int, float)):
            other_data: Any = other  # a number: numpy compares directly
        else:
            other_data = self._constant(other, name).data
            if self.data.shape != other_data.shape:
                _broadcast_shape(self.data.shape, other_data.shape, name)
        return _wrap(op(self.data, other_data))

    def _logical(self, other: ArrayLike | None, op: Any, name: str) -> Tensor:
        """Bitwise ``& | ^ ~`` on bool (logical and, or, xor, not) and integer tensors, as PyTorch."""
        operands = [self] if other is None else [self, self._constant(other, name)]
        for t in operands:
            if t.data.dtype.kind not in "biu":
                raise TypeError(
                    f"{name}: needs bool or integer tensors, got {t.dtype} (shape {t.shape}); for masks "
                    "combine comparisons, e.g. (x > 0) & (x < 6)"
                )
        if other is None:
            return _wrap(op(self.data))
        if self.data.shape != operands[1].data.shape:
            _broadcast_shape(self.data.shape, operands[1].data.shape, name)
        return _wrap(op(self.data, operands[1].data).astype(_promote(self.dtype, operands[1].dtype)))

    def __and__(self, other: ArrayLike) -> Tensor:
        """x & y: logical and of bool tensors (bitwise for integers)."""
        return self._logical(other, np.bitwise_and, "and (&)")

    __rand__ = __and__

    def __or__(self, other: ArrayLike) -> Tensor:
        """x | y: logical or of bool tensors (bitwise for integers)."""
        return self._logical(other, np.bitwise_or, "or (|)")

    __ror__ = __or__

    def __xor__(self, other: ArrayLike) -> Tensor:
        """x ^ y: logical xor of bool tensors (bitwise for integers)."""
        return self._logical(other, np.bitwise_xor, "xor (^)")

    __rxor__ = __xor__

    def __invert__(self) -> Tensor:
        """~x: logical not of a bool tensor (bitwise not for integers)."""
        return self._logical(None, np.invert, "invert (~)")

    def __lt__(self, other: ArrayLike) -> Tensor:
        return self._compare(other, np.less, "lt")

    def __le__(self, other: ArrayLike) -> Tensor:
        return self._compare(other, np.less_equal, "le")

    def __gt__(self, other: ArrayLike) -> Tensor:
        return self._compare(other, np.greater, "gt")

    def __ge__(self, other: ArrayLike) -> Tensor:
        return self._compare(other, np.greater_equal, "ge")

    def __eq__(self, other: object) -> Tensor:  # type: ignore[override]
        return self._compare(other, np.equal, "eq")  # type: ignore[arg-type]

    def __ne__(self, other: object) -> Tensor:  # type: ignore[override]
        return self._compare(other, np.not_equal, "ne")  # type: ignore[arg-type]

    def zeros_like(self) -> Tensor:
        """A constant of zeros with this tensor's shape and dtype."""
        return _wrap(np.zeros_like(self.data))

    def sign(self) -> Tensor:
        """sign(x) in {-1, 0, 1}: a constant (its derivative is 0 wherever it exists)."""
        return _wrap(np.sign(self.data))

    # ------------------------------------------------------------------ unary functions

    def exp(self) -> Tensor:
        """z = e^x (primitive);  dz/dx = e^x = z."""
        return Tensor._apply(P.Exp, self._floating())

    def log(self) -> Tensor:
        """z = ln x (primitive);  dz/dx = 1/x. ln 0 = -inf, ln of a negative number = nan."""
        return Tensor._apply(P.Log, self._floating())

    def sqrt(self) -> Tensor:
        """z = sqrt(x) (primitive);  dz/dx = 1 / (2 sqrt(x)), inf at 0."""
        return Tensor._apply(P.Sqrt, self._floating())

    def abs(self) -> Tensor:
        """z = |x| (primitive);  dz/dx = sign(x), 0 at 0."""
        return Tensor._apply(P.Abs, self)

    __abs__ = abs

    def tanh(self) -> Tensor:
        """a = tanh(z) (primitive);  da/dz = 1 - tanh(z)^2 = 1 - a^2."""
        return Tensor._apply(P.Tanh, self._floating())

    def sigmoid(self) -> Tensor:
        """a = sigma(z) = 1 / (1 + e^-z) (primitive, stable);  da/dz = sigma(z)(1 - sigma(z)) = a(1 - a)."""
        return Tensor._apply(P.Sigmoid, self._floating())

    def relu(self) -> Tensor:
        """a = max(0, z) (primitive);  da/dz = 1 if z > 0 else 0 (relu'(0) = 0)."""
        return Tensor._apply(P.Relu, self)

    # ------------------------------------------------------------------ reductions

    def _stable_shift(self, axis: Axis, op: str) -> Tensor:
        """m = max x over ``axis`` (kept dims) as a *constant*, 0 where the max is infinite.

        Subtracting m makes every exponent <= 0, so e^(x - m) never overflows; m is held
        constant because the results do not depend on it (their gradient through m is 0),
        so it is computed in numpy without recording any ops. (It stays here, not in
        :mod:`tinygrad_edu.ops.reductions` with softmax and logsumexp, because ``tg.jit``
        records this data-dependent constant by wrapping ``Tensor._stable_shift``.)
        """
        axes = _normalize_axis(axis, self.ndim, op)
        if self.data.size == 0:
            raise ValueError(f"{op}: cannot reduce an empty tensor of shape {self.shape}")
        m = self.data.max(axis=axes, keepdims=True)
        infinite = np.isinf(m)
        if infinite.any():
            m = np.where(infinite, 0, m).astype(self.dtype, copy=False)
        return _wrap(m)


    @accepts_torch_names
    def sum(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        """z = sum_i x_i over ``axis`` (int, tuple or None for all) (primitive);  dL/dx_i = g (broadcast back)."""
        axes = _normalize_axis(axis, self.ndim, "sum")
        return Tensor._apply(P.Sum, self, axis=axes, keepdims=keepdims)

    @accepts_torch_names
    def max(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        """max of x over ``axis`` (primitive); ties split the gradient evenly."""
        axes = _normalize_axis(axis, self.ndim, "max")
        if self.data.size == 0:
            raise ValueError(f"max: cannot reduce an empty tensor of shape {self.shape}")
        return Tensor._apply(P.Max, self, axis=axes, keepdims=keepdims)

    # ------------------------------------------------------------------ movement

    def reshape(self, *shape: int | Sequence[int]) -> Tensor:
        """The same elements in a new shape (primitive); one axis may be -1."""
        new = tuple(shape[0]) if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape
        if new == self.data.shape:  # fast path (VJPs reshape to known shapes often)
            return self
        try:
            resolved = _resolve_shape(new, self.data.size)
        except ValueError as err:
            raise ValueError(f"reshape: cannot reshape a tensor of shape {self.shape} to {new}: {err}") from None
        if resolved == self.shape:
            return self
        return Tensor._apply(P.Reshape, self, shape=resolved)

    view = reshape

    def permute(self, *axes: int | Sequence[int]) -> Tensor:
        """Reorder the axes (primitive)."""
        order = tuple(axes[0]) if len(axes) == 1 and isinstance(axes[0], (tuple, list)) else axes
        if not all(isinstance(a, (int, np.integer)) and not isinstance(a, bool) for a in order):
            raise TypeError(f"permute: axes must be integers, got {order!r:.60} for shape {self.shape}")
        if sorted(a % max(self.ndim, 1) for a in order) != list(range(self.ndim)):
            raise ValueError(f"permute: {order} is not a permutation of the {self.ndim} axes of shape {self.shape}")
        order = tuple(int(a) % self.ndim for a in order)
        if order == tuple(range(self.ndim)):
            return self
        return Tensor._apply(P.Permute, self, axes=order)

    @property
    def mT(self) -> Tensor:
        """The last two axes swapped (a batch of transposed matrices)."""
        if self.ndim < 2:
            raise ValueError(f"mT: needs at least 2 dimensions, got shape {self.shape}")
        n = self.data.ndim
        axes = (1, 0) if n == 2 else (*range(n - 2), n - 1, n - 2)
        return Tensor._apply(P.Permute, self, axes=axes)  # used by every matmul VJP

    def expand(self, *shape: int | Sequence[int]) -> Tensor:
        """Broadcast to ``shape`` (primitive; its VJP sums over the broadcast axes)."""
        target = _as_ints(shape[0] if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape,
                          "expand", "the sizes of the target shape")
        if target == self.data.shape:
            return self
        try:  # numpy's broadcast_to checks the shapes (cheaper than checking them here first)
            return Tensor._apply(P.Expand, self, shape=target)
        except ValueError:
            raise ValueError(f"expand: cannot broadcast shape {self.shape} to {target}") from None

    broadcast_to = expand

    def __getitem__(self, index: Any) -> Tensor:
        """Indexing as numpy: ints, slices, None, Ellipsis, integer arrays (repeats accumulate
        gradients) and boolean masks (primitive ``getitem``)."""
        return Tensor._apply(P.Getitem, self, index=self._index(index, "getitem"))

    def _index(self, index: Any, op: str) -> tuple[Any, ...]:
        """``index`` checked against this tensor's shape, with tensors and lists as numpy arrays."""
        return _normalize_index(index, self.shape, op)

    @property
    def _version(self) -> int:
        """How many in-place ops have changed this tensor's memory (PyTorch's ``t._version``)."""
        return version_of(self.data)


# ====================================================================== helpers used above


class _Size(int):
    """``t.size``: the element count (an int, as numpy's ``size``) that, called, gives the shape
    (``t.size()``) or one dimension (``t.size(dim)``), as PyTorch's ``size()``."""

    shape: tuple[int, ...]

    def __new__(cls, count: int, shape: tuple[int, ...]) -> _Size:
        out = super().__new__(cls, count)
        out.shape = shape
        return out

    def __call__(self, dim: int | None = None) -> Any:
        if dim is None:
            return self.shape
        (axis,) = _normalize_axis(dim, len(self.shape), "size")
        return self.shape[axis]


_NO_PARAMS: dict[str, Any] = {}  # shared by constants; never mutated


def _wrap(array: np.ndarray, cls: type[Tensor] = Tensor) -> Tensor:
    """A constant Tensor around an array that already follows the dtype policy.

    Internal fast path (no conversion or checks) for constants made by ops themselves.
    """
    out = _new_tensor(cls)
    out.data, out.grad, out.requires_grad, out.label = array, None, False, ""
    out._parents, out._op, out._fn, out._params, out._scope, out._born = (), "", None, _NO_PARAMS, (), 0
    return out


def _own_gradients(grads: Sequence[Tensor | None]) -> list[Tensor | None]:
    """The gradients, each with an array its owner can safely change in place.

    VJPs may hand the same array to several inputs (``add`` passes g to both) or a
    read-only broadcast view (the VJP of ``sum``). An optimiser that does
    ``p.grad.data *= scale`` must not scale a neighbour's gradient too, so a gradient
    that is read-only or shares its memory with an earlier one is copied. Fresh arrays
    (the common case: matmul results) are kept as they are.
    """
    seen: set[int] = set()
    owned: list[Tensor | None] = []
    for g in grads:
        if g is not None:
            array = base = g.data
            while base.base is not None:
                base = base.base
            if not array.flags.writeable or id(base) in seen:
                array = base = array.copy()
                g = _wrap(array)
            seen.add(id(base))
        owned.append(g)
    return owned


def _own_leaf_grads(leaves: Sequence[Tensor]) -> None:
    """Give every leaf reached by a backward pass a gradient it owns (see :func:`_own_gradients`)."""
    leaves = [node for node in leaves if node.grad is not None]
    for node, g in zip(leaves, _own_gradients([node.grad for node in leaves])):
        node.grad = g


def _resolve_shape(shape: tuple[Any, ...], size: int) -> tuple[int, ...]:
    """``shape`` as a tuple of ints with its -1 axis (if any) filled in, checked against ``size``."""
    return _resolve_shape_cached(_as_ints(shape, "reshape", "the new shape's sizes"), size)


@functools.lru_cache(maxsize=1024)  # VJPs reshape to the same few shapes on every step (keys: ints only)
def _resolve_shape_cached(shape: tuple[int, ...], size: int) -> tuple[int, ...]:
    unknown = [i for i, n in enumerate(shape) if n == -1]
    if len(unknown) > 1:
        raise ValueError("only one axis may be -1")
    known = math.prod(n for n in shape if n != -1)
    if unknown:
        if known == 0 or size % known:
            raise ValueError(f"{size} elements do not fill a whole number of rows of {known}")
        shape = shape[: unknown[0]] + (size // known,) + shape[unknown[0] + 1 :]
    if math.prod(shape) != size or any(n < 0 for n in shape):
        raise ValueError(f"{size} elements do not fit shape {shape}")
    return shape


def _normalize_index(index: Any, shape: tuple[int, ...], op: str = "getitem") -> Any:
    """Tensors and lists in an index become numpy arrays (they carry no gradient), checked against ``shape``.

    As PyTorch: integer tensors index as integer arrays, bool tensors (comparisons, ``&``, ``|``)
    as masks whose shape must match the axes they cover, and a float tensor is an error -- a 0/1
    float mask would otherwise silently pick elements 0 and 1.
    """
    items = index if isinstance(index, tuple) else (index,)
    out = []
    axis = 0  # the axis of ``shape`` the next item indexes (for the mask check; numpy checks after an Ellipsis)
    for item in items:
        if isinstance(item, Tensor):
            item = item.data
        elif isinstance(item, list):
            item = np.asarray(item)
        if isinstance(item, np.ndarray):
            if item.dtype.kind == "f" or item.dtype.kind not in "iub":
                raise IndexError(
                    f"{op}: tensors used as indices must be integer or bool (as PyTorch), got {item.dtype}. "
                    "For a mask use a comparison, (x > 0) & (x < 6), or t.bool(); for indices t.long()"
                )
            if item.dtype.kind == "b" and axis >= 0:
                covered = shape[axis : axis + item.ndim]
                if item.shape != covered:
                    raise IndexError(
                        f"{op}: a boolean mask of shape {item.shape} does not match the shape {covered} of the "
                        f"axes it indexes (tensor shape {shape}); a mask needs the shape of what it selects from"
                    )
                axis += item.ndim
            else:
                axis += 1
        elif item is Ellipsis:
            axis = -len(shape) - 1  # unknown from here on
        elif item is not None:
            axis += 1
        out.append(item)
    normalized = tuple(out)
    try:
        np.empty(shape, dtype=np.bool_)[normalized]  # validate cheaply (1 byte per element view)
    except (IndexError, ValueError) as err:
        raise IndexError(f"{op}: index {index!r} is invalid for shape {shape}: {err}") from None
    return normalized


# ====================================================================== module-level ops


def _operand(x: ArrayLike, op: str) -> Tensor:
    """``x`` as a Tensor operand of ``op`` (the Tensor policy; a bad ``x`` is an error naming ``op``)."""
    return x if isinstance(x, Tensor) else Tensor(_to_float_array(x, op=op))


def _sequence(items: Any, op: str) -> Sequence[Any]:
    """``items`` if it is a list or tuple (of tensors), else a ``TypeError`` naming ``op``."""
    if not isinstance(items, (list, tuple)):
        raise TypeError(f"{op}: expected a list or tuple of tensors, got {type(items).__name__}: {items!r:.60}")
    return items


def where(cond: ArrayLike, x: ArrayLike, y: ArrayLike) -> Tensor:
    """x where cond is true (nonzero) else y, broadcasting all three (primitive ``where``)."""
    # The condition is not copied to bool (numpy's where reads any nonzero as true): keeping the
    # comparison's own array (or the caller's) lets tg.jit's trace see where it comes from.
    if isinstance(cond, Tensor):
        cond_array = cond.data
    elif isinstance(cond, np.ndarray) and cond.dtype.kind in "biuf":
        cond_array = cond
    else:
        cond_array = _to_float_array(cond, op="where")
    anchor = x if isinstance(x, Tensor) else (y if isinstance(y, Tensor) else _operand(x, "where"))
    tx, ty = anchor._constant(x, "where"), anchor._constant(y, "where")
    shape = _broadcast_shape(_broadcast_shape(cond_array.shape, tx.shape, "where"), ty.shape, "where")
    if engine.is_grad_enabled():
        tx = tx.expand(shape) if tx.requires_grad else tx
        ty = ty.expand(shape) if ty.requires_grad else ty
    if tx.dtype != ty.dtype:
        common = _promote(tx.dtype, ty.dtype)
        tx, ty = tx.cast(common), ty.cast(common)
    return Tensor._apply(P.Where, tx, ty, cond=np.broadcast_to(cond_array, shape))


def maximum(x: ArrayLike, y: ArrayLike) -> Tensor:
    """Elementwise max(x, y) (primitive); ties split the gradient evenly."""
    tx = _operand(x, "maximum")
    return tx._binary(P.Maximum, y)


def minimum(x: ArrayLike, y: ArrayLike) -> Tensor:
    """Elementwise min(x, y) = -max(-x, -y) (composed)."""
    tx = _operand(x, "minimum")
    return -maximum(-tx, -tx._constant(y, "minimum"))


@accepts_torch_names
def concatenate(tensors: Sequence[Tensor], axis: int = 0) -> Tensor:
    """Join tensors along ``axis`` (primitive ``concatenate``;  dL/dx_i = the slice of g where x_i lies)."""
    parts = [_operand(t, "concatenate") for t in _sequence(tensors, "concatenate")]
    if not parts:
        raise ValueError("concatenate: needs at least one tensor")
    first = parts[0]
    if first.ndim == 0:
        raise ValueError("concatenate: zero-dimensional tensors cannot be concatenated; use stack")
    (axis,) = _normalize_axis(axis, first.ndim, "concatenate")
    for t in parts[1:]:
        if t.ndim != first.ndim or any(a != b for i, (a, b) in enumerate(zip(t.shape, first.shape)) if i != axis):
            raise ValueError(
                f"concatenate: shapes {first.shape} and {t.shape} differ outside axis {axis}"
            )
    if any(t.dtype != first.dtype for t in parts[1:]):
        common = np.result_type(*(t.dtype for t in parts))
        parts = [t.cast(common) for t in parts]
    return Tensor._apply(P.Concatenate, *parts, axis=axis)


cat = concatenate  # PyTorch's name (tg.cat(tensors, dim=0))


@accepts_torch_names
def stack(tensors: Sequence[Tensor], axis: int = 0) -> Tensor:
    """Join tensors along a new axis (composed: unsqueeze + concatenate)."""
    parts = [_operand(t, "stack") for t in _sequence(tensors, "stack")]
    if not parts:
        raise ValueError("stack: needs at least one tensor")
    for t in parts[1:]:
        if t.shape != parts[0].shape:
            raise ValueError(f"stack: all tensors need the same shape, got {parts[0].shape} and {t.shape}")
    return concatenate([t.unsqueeze(axis) for t in parts], axis=axis)


def grad(
    output: Tensor,
    inputs: Tensor | Sequence[Tensor],
    grad_output: ArrayLike | None = None,
    retain_graph: bool = False,
    create_graph: bool = False,
    allow_unused: bool = False,
) -> list[Tensor | None]:
    """dL/d(input) for each input, without touching any ``.grad`` (like ``torch.autograd.grad``).

    Returns a list with one gradient per input (also for a single ``inputs`` tensor), each a
    Tensor of that input's shape and dtype. Inputs may be leaves or intermediate results.

    * ``grad_output`` is dL/d(output): required for a non-scalar output (same shape),
      1 by default for a scalar one.
    * The graph is released afterwards, as after ``backward``, unless ``retain_graph=True``
      (needed to call ``grad`` or ``backward`` through it again).
    * ``create_graph=True`` records the backward pass, so the results are themselves
      differentiable (Hessian-vector products, gradient penalties); it implies
      ``retain_graph``. Without it the results are constants with arrays of their own.
    * Every input must require grad. An input the output does not depend on raises
      unless ``allow_unused=True`` (then its entry is ``None``).
    """
    if not isinstance(output, Tensor):
        raise TypeError(f"grad: output must be a Tensor (the result of a computation), got {type(output).__name__}")
    seq = [inputs] if isinstance(inputs, Tensor) else list(_sequence(inputs, "grad"))
    for i, t in enumerate(seq):
        if not isinstance(t, Tensor):
            raise TypeError(f"grad: inputs must be Tensors, got {type(t).__name__} for input {i}")
        if not t.requires_grad:
            raise RuntimeError(
                f"grad: input {i} (shape {t.shape}) does not require grad, so it has no gradient; "
                "create it with requires_grad=True"
            )
    seed = output._seed(grad_output, "grad")
    result = engine.gradients(output, seed, seq, retain_graph=retain_graph or create_graph, create_graph=create_graph)
    for i, (t, g) in enumerate(zip(seq, result)):
        if g is None and not allow_unused:
            raise RuntimeError(
                f"grad: input {i} (shape {t.shape}) is not used to compute the output; "
                "pass allow_unused=True to get None for it"
            )
    return result if create_graph else _own_gradients(result)


# Hooks called after every primitive (used by detect_anomaly); empty means no cost.
_anomaly_hooks: list[Any] = []


# The factories (zeros, ones, randn, ...) live in tinygrad_edu.factories; these names stay
# importable from here too (``from tinygrad_edu.tensor_class import zeros``), loaded on first use
# because that module imports this one.
_FACTORIES = (
    "arange", "eye", "full", "full_like", "ones", "ones_like", "rand", "rand_like", "randn", "randn_like",
    "uniform", "uniform_like", "zeros", "zeros_like",
)


def __getattr__(name: str) -> Any:
    if name in _FACTORIES:
        from . import factories

        return getattr(factories, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
