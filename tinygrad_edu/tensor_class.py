"""``Tensor``: an n-d array (over numpy) that records a computation graph.

Read :mod:`tinygrad_edu.engine`, :mod:`tinygrad_edu.value` and :mod:`tinygrad_edu.primitives`
first. Here ``Tensor._apply`` records a primitive exactly as ``Value._result`` records a
scalar op; the rest of the file is the core every op builds on: construction and the dtype
policy (``_to_float_array``, ``_constant``, ``cast``), broadcasting binary ops (``_binary``),
``backward``/``grad`` plumbing, comparisons (``_compare``), ``sum``/``max``, and numpy
interop/repr. The ops themselves come by family from the mixins of :mod:`tinygrad_edu.ops`
(``docs/ops.md`` lists them all):

* :mod:`tinygrad_edu.ops.arithmetic` -- ``+ - * / **``, ``@`` (matmul), ``& | ^ ~``, ``< == ...``
  and the unary primitives (exp, log, sqrt, abs, tanh, sigmoid, relu);
* :mod:`tinygrad_edu.ops.indexing` -- reshape, permute, mT, expand and ``t[index]``;
* :mod:`tinygrad_edu.ops.elementwise`, :mod:`~tinygrad_edu.ops.reductions`,
  :mod:`~tinygrad_edu.ops.movement` -- the composed ops;
* :mod:`tinygrad_edu.tensor_functions` -- ``where``, ``maximum``, ``minimum``, ``cat``,
  ``stack``, ``grad`` (re-exported here);
* :mod:`tinygrad_edu.tensor_inplace` -- the in-place ops (below).

Next: :mod:`tinygrad_edu.nn`.

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
* In an expression (PyTorch's promotion, :func:`tinygrad_edu.dtypes.result_dtype` and ``promote``):
  categories rank bool < integer < float, and the higher category wins. Python numbers and
  lists, and numpy scalars, are *weak*: they take the tensor's dtype when their category is
  not higher (``x32 * 2.0``, ``x32 + np.int64(2)`` and ``x32 + [1, 2]`` stay float32;
  ``int_t * 0.5`` is the default float). Tensors and numpy arrays of one category combine to
  the wider type (float32 with float64 -> float64), and int64 with float32 gives float32.
  True division of integers and ``exp``/``log``/... of integers give the default float.
* A gradient always has the dtype of its input (a ``cast`` passes it back).
* The factories (:mod:`tinygrad_edu.factories`) make the default float dtype unless given ``dtype=``.
* The rules that need no Tensor (the dtypes, the default, names, promotion) are in
  :mod:`tinygrad_edu.dtypes`.

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

from collections.abc import Iterator, Sequence
from typing import Any, Union

import numpy as np

from . import engine
from . import primitives as P
from .dtypes import _BOOL, _DTYPE_SET, _FLOAT_DTYPES, DTYPES, as_dtype, get_default_dtype, set_default_dtype
from .dtypes import check_can_require_grad as _check_can_require_grad
from .dtypes import promote as _promote
from .dtypes import result_dtype as _result_dtype
from .ops._shared import broadcast_shape as _broadcast_shape
from .ops._shared import normalize_axis as _normalize_axis
from .ops._shared import normalize_axis_cached as _normalize_axis_cached  # noqa: F401 (tests clear its cache)
from .ops.arithmetic import ArithmeticOps
from .ops.arithmetic import _is_float as _is_float  # noqa: F401 (re-exported: it lived here)
from .ops.arithmetic import _no_bool_arithmetic as _no_bool_arithmetic  # noqa: F401 (re-exported)
from .ops.elementwise import ElementwiseOps
from .ops.indexing import IndexingOps
from .ops.indexing import _normalize_index as _normalize_index  # noqa: F401 (re-exported: it lived here)
from .ops.indexing import _resolve_shape as _resolve_shape  # noqa: F401 (re-exported)
from .ops.indexing import _resolve_shape_cached as _resolve_shape_cached  # noqa: F401 (tests clear its cache)
from .ops.movement import MovementOps
from .ops.reductions import ReductionOps
from .tensor_inplace import InplaceOps
from .torch_names import add_torch_names
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

_REPR_THRESHOLD = 50  # repr shows at most this many elements, then summarises with "..."
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
            array = array.astype(get_default_dtype(), copy=False)  # Python floats: the default dtype
    if dtype is not None:
        target = as_dtype(dtype, op)
    elif array.dtype in _FLOAT_DTYPES:
        return array
    elif array.dtype == np.float16:
        target = np.dtype(np.float32)
    elif array.dtype.kind in "iub":
        target = get_default_dtype()
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
        return np.array(array, dtype=get_default_dtype() if python_floats or array.dtype == np.float16 else array.dtype)
    return np.array(_to_float_array(array, None, op))  # raises the policy's TypeError for the rest




# Bound once: Tensor._apply runs for every op, so it avoids repeated attribute look-ups.
_is_grad_enabled = engine.is_grad_enabled
_current_scope = engine.current_scope
_new_tensor = object.__new__


class Tensor(InplaceOps, ArithmeticOps, IndexingOps, ElementwiseOps, ReductionOps, MovementOps):
    """An n-d array in the computation graph: float (differentiable), or int/bool (labels, masks).

    The ops of the families in :mod:`tinygrad_edu.ops` (arithmetic, indexing, elementwise,
    reductions, movement) and the in-place ops (:mod:`tinygrad_edu.tensor_inplace`) are
    inherited from their mixins; the core ones are below. ``Tensor(data)`` makes a float
    tensor; ``tg.tensor(data)`` infers int64/bool as ``torch.tensor`` (see the module docstring).

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
        if self.dtype != get_default_dtype():
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

    # ------------------------------------------------------------------ dtypes (the policy's entry points)

    def cast(self, dtype: Any) -> Tensor:
        """This tensor in another dtype (no-op if already that dtype).

        Between float dtypes it is the primitive ``cast`` (dL/dx = g cast back). To an integer
        or bool dtype the result is a constant (no gradient; floats are truncated toward 0),
        as PyTorch's ``x.long()``. ``dtype`` may be a numpy dtype or a name ("float32", "long").
        """
        dtype = dtype if isinstance(dtype, np.dtype) and dtype in _DTYPE_SET else as_dtype(dtype, "cast")
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
        return self if self.data.dtype.kind == "f" else _wrap(self.data.astype(get_default_dtype()))

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

    def zeros_like(self) -> Tensor:
        """A constant of zeros with this tensor's shape and dtype."""
        return _wrap(np.zeros_like(self.data))

    def sign(self) -> Tensor:
        """sign(x) in {-1, 0, 1}: a constant (its derivative is 0 wherever it exists)."""
        return _wrap(np.sign(self.data))

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


    def sum(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        """z = sum_i x_i over ``axis`` (int, tuple or None for all) (primitive);  dL/dx_i = g (broadcast back)."""
        axes = _normalize_axis(axis, self.ndim, "sum")
        return Tensor._apply(P.Sum, self, axis=axes, keepdims=keepdims)

    def max(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        """max of x over ``axis`` (primitive); ties split the gradient evenly."""
        axes = _normalize_axis(axis, self.ndim, "max")
        if self.data.size == 0:
            raise ValueError(f"max: cannot reduce an empty tensor of shape {self.shape}")
        return Tensor._apply(P.Max, self, axis=axes, keepdims=keepdims)

    @property
    def _version(self) -> int:
        """How many in-place ops have changed this tensor's memory (PyTorch's ``t._version``)."""
        return version_of(self.data)


add_torch_names(Tensor)  # dim=/keepdim= on every method with axis=/keepdims= (see tinygrad_edu.torch_names)


# ====================================================================== helpers used above


class _Size(int):
    """``t.size``: the element count (an int, as numpy's ``size``) that, called, gives the shape
    (``t.size()``) or one dimension (``t.size(dim)``), as PyTorch's ``size()``."""

    shape: tuple[int, ...]

    def __new__(cls, count: int, shape: tuple[int, ...] = ()) -> _Size:
        out = super().__new__(cls, count)
        out.shape = shape
        return out

    def __reduce__(self) -> tuple[type, tuple[int]]:
        return int, (int(self),)  # pickled / deep-copied as the plain count

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


# The module-level functions (where, maximum, minimum, concatenate/cat, stack, grad) live in
# tinygrad_edu.tensor_functions, which imports Tensor from here: so they are imported last.
from .tensor_functions import _operand as _operand  # noqa: E402, F401 (nn.conv imports it from here)
from .tensor_functions import _sequence as _sequence  # noqa: E402, F401
from .tensor_functions import cat, concatenate, grad, maximum, minimum, stack, where  # noqa: E402
