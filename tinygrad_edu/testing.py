"""A property-testing kit for gradients: the hypothesis strategies and assertion our own tests use.

Needs the ``testing`` extra (``pip install tinygrad-edu[testing]``; the ``dev`` extra has it too), because it imports
`hypothesis <https://hypothesis.readthedocs.io>`_; ``import tinygrad_edu`` never imports this
module, so the core stays numpy-only.

Strategies (all bounded, no NaN/inf/subnormals, so finite differences stay meaningful):

* :func:`floats` -- one float in [low, high], optionally ``positive`` and ``away_from`` kinks;
* :func:`shapes`, :func:`broadcastable_shapes`, :func:`matmul_shapes` -- small shapes (sides up
  to 4, at most 3 axes by default) that keep finite differences cheap;
* :func:`arrays`, :func:`tensors`, :func:`values` -- numpy arrays, ``Tensor``s and ``Value``s
  whose elements come from :func:`floats`;
* :func:`mlp_architectures` -- layer sizes plus hidden and output activations (:class:`MLPSpec`).

Domains are built **constructively**: "away from 0 by 1e-3" draws from the intervals
[low, -1e-3] and [1e-3, high] instead of filtering, because hypothesis draws 0 and other
"nice" values very often and filtering them trips its health check.

:func:`assert_grad_close` runs :func:`tinygrad_edu.gradcheck.gradcheck` and fails with its
report table; :func:`check_function` property-tests a custom op (a :class:`tinygrad_edu.Function`):
forward against a numpy reference, backward against finite differences, gradient shapes and
dtypes. A typical test::

    from hypothesis import given
    from tinygrad_edu.testing import assert_grad_close, tensors

    @given(tensors(low=-3, high=3, away_from=(0,)))
    def test_my_abs(x):
        assert_grad_close(lambda x: (x * x).sqrt(), x)
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

try:
    import hypothesis
    from hypothesis import strategies as st
    from hypothesis.extra import numpy as hnp
except ImportError as err:  # the core never needs hypothesis; this kit does
    raise ImportError(
        "tinygrad_edu.testing needs hypothesis, which is not installed: pip install \"tinygrad-edu[testing]\" "
        "(or the dev extra, \"tinygrad-edu[dev]\")"
    ) from err

from .argcheck import check_real
from .function import Function
from .gradcheck import DEFAULT_ATOL, DEFAULT_EPS, DEFAULT_RTOL, GradcheckError, GradcheckResult, gradcheck
from .tensor_class import Tensor
from .tensor_class import grad as tensor_grad
from .value import Value

__all__ = [
    "HIDDEN_ACTIVATIONS",
    "MLPSpec",
    "OUTPUT_ACTIVATIONS",
    "arrays",
    "assert_grad_close",
    "broadcastable_shapes",
    "check_function",
    "floats",
    "intervals",
    "matmul_shapes",
    "mlp_architectures",
    "shapes",
    "tensors",
    "values",
]

#: Hidden activations of the lectures' table (names as in :mod:`tinygrad_edu.reference`).
HIDDEN_ACTIVATIONS = ("sigmoid", "tanh", "relu", "leaky_relu")
#: Output activations: sigmoid (binary cross-entropy) or softmax (categorical cross-entropy).
OUTPUT_ACTIVATIONS = ("sigmoid", "softmax")


# ====================================================================== floats


def _check_bounds(low: Any, high: Any, margin: Any, op: str) -> None:
    """low <= high and margin >= 0, all real numbers (infinite bounds allowed); else an error naming ``op``."""
    low = check_real(low, "low", op, allow_inf=True)
    high = check_real(high, "high", op, allow_inf=True)
    if not low <= high:
        raise ValueError(f"{op}: need low <= high, got low={low}, high={high}")
    check_real(margin, "margin", op, minimum=0.0)


def intervals(
    low: float, high: float, *, positive: bool = False, away_from: Sequence[float] = (), margin: float = 1e-3
) -> list[tuple[float, float]]:
    """The closed intervals that make up [low, high] minus (k - margin, k + margin) for each kink k.

    ``positive=True`` also removes everything below ``margin`` (so x >= margin > 0). Raises
    ``ValueError`` when nothing is left.
    """
    _check_bounds(low, high, margin, "intervals")
    if positive:
        low = max(low, margin)
    pieces = [(float(low), float(high))] if low <= high else []
    for k in sorted(float(k) for k in away_from):
        cut_lo, cut_hi = k - margin, k + margin
        next_pieces = []
        for a, b in pieces:
            if b < cut_lo or a > cut_hi:  # untouched by this kink's gap (closed ends at distance >= margin)
                next_pieces.append((a, b))
                continue
            if a <= cut_lo:
                next_pieces.append((a, cut_lo))
            if cut_hi <= b:
                next_pieces.append((cut_hi, b))
        pieces = next_pieces
    if not pieces:
        raise ValueError(
            f"floats: no numbers left in [{low}, {high}] after removing a margin of {margin} around "
            f"{list(away_from)}{' and everything below it' if positive else ''}"
        )
    return pieces


def _representable(value: float, width: int, direction: float) -> float:
    """``value`` rounded towards ``direction`` to the nearest float of ``width`` bits."""
    if width == 64:
        return value
    v = np.float32(value)
    if (direction > value and v < value) or (direction < value and v > value):
        v = np.nextafter(v, np.float32(direction))
    return float(v)


def floats(
    low: float = -5.0,
    high: float = 5.0,
    *,
    positive: bool = False,
    away_from: Sequence[float] = (),
    margin: float = 1e-3,
    width: int = 64,
) -> st.SearchStrategy[float]:
    """Floats in [low, high] (no NaN, inf or subnormals), built from intervals, never filtered.

    ``positive=True`` gives x >= ``margin`` (inputs of log, sqrt, fractional powers);
    ``away_from=(0,)`` keeps x at least ``margin`` from each listed kink (relu, abs, max). For
    denominators use e.g. ``away_from=(0,), margin=0.1``. ``width=32`` draws float32 values.
    The defaults [-5, 5] keep exp, sigmoid and tanh in a range where gradients are neither
    huge nor vanishing.
    """
    if width not in (32, 64):
        raise ValueError(f"floats: width must be 32 or 64, got {width}")
    _check_bounds(low, high, margin, "floats")
    parts = []
    for a, b in intervals(low, high, positive=positive, away_from=away_from, margin=margin):
        a32, b32 = _representable(a, width, b), _representable(b, width, a)
        if a32 > b32:  # an interval narrower than one float32 step
            continue
        parts.append(
            st.floats(a32, b32, allow_nan=False, allow_infinity=False, allow_subnormal=False, width=width)
        )
    if not parts:
        raise ValueError(f"floats: the intervals left in [{low}, {high}] are too narrow for float{width}")
    return st.one_of(*parts)


# ====================================================================== shapes


def shapes(min_dims: int = 0, max_dims: int = 3, min_side: int = 1, max_side: int = 4) -> st.SearchStrategy[tuple]:
    """Array shapes with ``min_dims``..``max_dims`` axes of ``min_side``..``max_side`` each."""
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side)


def broadcastable_shapes(
    num_shapes: int = 2, min_dims: int = 0, max_dims: int = 3, min_side: int = 1, max_side: int = 4
) -> st.SearchStrategy[Any]:
    """Shapes that broadcast together: ``.input_shapes`` (a tuple) and ``.result_shape``.

    Size-1 axes and missing leading axes appear often, which is where gradient reductions go wrong.
    """
    return hnp.mutually_broadcastable_shapes(
        num_shapes=num_shapes, min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side
    )


def matmul_shapes(max_batch_dims: int = 1, max_side: int = 4) -> st.SearchStrategy[Any]:
    """Shapes for ``a @ b``: signature (n,k),(k,m)->(n,m) plus up to ``max_batch_dims`` broadcast batch axes.

    Batch axes catch a ``.T`` (reverses all axes) used where ``.mT`` (swaps the last two) is meant.
    """
    return hnp.mutually_broadcastable_shapes(
        signature="(n,k),(k,m)->(n,m)", max_dims=max_batch_dims, min_side=1, max_side=max_side
    )


# ====================================================================== arrays, tensors, values


def arrays(
    shape: tuple[int, ...] | st.SearchStrategy[tuple[int, ...]] | None = None,
    low: float = -5.0,
    high: float = 5.0,
    *,
    positive: bool = False,
    away_from: Sequence[float] = (),
    margin: float = 1e-3,
    dtype: Any = np.float64,
    unique: bool = False,
) -> st.SearchStrategy[np.ndarray]:
    """numpy arrays of ``shape`` (a tuple, a strategy, or :func:`shapes` when None) with elements from
    :func:`floats`. ``unique=True`` makes all elements distinct (for max/min gradients, no ties).
    """
    dtype = np.dtype(dtype)
    if dtype not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise ValueError(f"arrays: dtype must be float32 or float64, got {dtype}")
    width = 32 if dtype == np.float32 else 64
    elements = floats(low, high, positive=positive, away_from=away_from, margin=margin, width=width)
    return hnp.arrays(dtype, shapes() if shape is None else shape, elements=elements, unique=unique)


def tensors(
    shape: tuple[int, ...] | st.SearchStrategy[tuple[int, ...]] | None = None,
    low: float = -5.0,
    high: float = 5.0,
    *,
    positive: bool = False,
    away_from: Sequence[float] = (),
    margin: float = 1e-3,
    dtype: Any = np.float64,
    unique: bool = False,
    requires_grad: bool = True,
    label: str = "",
) -> st.SearchStrategy[Tensor]:
    """``Tensor``s (``requires_grad=True`` by default) with data from :func:`arrays`."""
    return arrays(
        shape, low, high, positive=positive, away_from=away_from, margin=margin, dtype=dtype, unique=unique
    ).map(lambda a: Tensor(a, requires_grad=requires_grad, label=label))


def values(
    low: float = -5.0,
    high: float = 5.0,
    *,
    positive: bool = False,
    away_from: Sequence[float] = (),
    margin: float = 1e-3,
    label: str = "",
) -> st.SearchStrategy[Value]:
    """Scalar ``Value``s with data from :func:`floats`."""
    _check_bounds(low, high, margin, "values")
    return floats(low, high, positive=positive, away_from=away_from, margin=margin).map(
        lambda x: Value(x, label=label)
    )


# ====================================================================== MLP architectures


@dataclass(frozen=True)
class MLPSpec:
    """An MLP architecture: ``sizes = (n_x, n[1], ..., n[L])``, one hidden activation, one output activation."""

    sizes: tuple[int, ...]
    activation: str
    output: str

    @property
    def n_layers(self) -> int:
        """L, the number of layers with weights."""
        return len(self.sizes) - 1


def mlp_architectures(
    n_inputs: tuple[int, int] = (1, 4),
    hidden_layers: tuple[int, int] = (1, 3),
    width: tuple[int, int] = (1, 5),
    n_outputs: tuple[int, int] = (1, 3),
    activations: Sequence[str] = HIDDEN_ACTIVATIONS,
    outputs: Sequence[str] = OUTPUT_ACTIVATIONS,
) -> st.SearchStrategy[MLPSpec]:
    """Small MLPs: sizes drawn from the (min, max) ranges, a hidden activation and an output activation.

    A softmax output always gets at least 2 units (one unit would make softmax constant).
    """
    unknown = [a for a in activations if a not in HIDDEN_ACTIVATIONS]
    unknown += [o for o in outputs if o not in OUTPUT_ACTIVATIONS]
    if unknown:
        raise ValueError(
            f"mlp_architectures: unknown activations {unknown}; hidden from {HIDDEN_ACTIVATIONS}, "
            f"output from {OUTPUT_ACTIVATIONS}"
        )

    @st.composite
    def build(draw: Callable[..., Any]) -> MLPSpec:
        output = draw(st.sampled_from(list(outputs)))
        n_x = draw(st.integers(*n_inputs))
        hidden = draw(st.lists(st.integers(*width), min_size=hidden_layers[0], max_size=hidden_layers[1]))
        lo, hi = n_outputs
        if output == "softmax":
            lo, hi = max(lo, 2), max(hi, 2)
        n_out = draw(st.integers(lo, hi))
        activation = draw(st.sampled_from(list(activations)))
        return MLPSpec(sizes=(n_x, *hidden, n_out), activation=activation, output=output)

    return build()


# ====================================================================== assertion


def assert_grad_close(fn: Callable[..., Any], *inputs: Any, **gradcheck_options: Any) -> GradcheckResult:
    """Assert that autograd's gradients of ``fn(*inputs)`` match central finite differences.

    Runs :func:`tinygrad_edu.gradcheck.gradcheck` (options such as ``eps``, ``atol``, ``rtol``,
    ``seed``, ``allow_unused`` are passed on) and on failure raises
    :class:`~tinygrad_edu.GradcheckError` (an ``AssertionError``) whose message is the gradcheck
    table, so pytest and hypothesis print it first; the kit's own frames are hidden from
    pytest's traceback. An input ``fn`` does not use fails (unless ``allow_unused=True``).
    Inside a hypothesis test, an example where every gradient is exactly 0 on both sides
    (a dead relu, a stationary point) is *rejected* -- it would check nothing -- so hypothesis
    draws another; outside one it fails as vacuous. Returns the result when the gradients agree.
    """
    __tracebackhide__ = True
    gradcheck_options["raise_on_failure"] = False
    result = gradcheck(fn, *inputs, **gradcheck_options)
    if not result.ok:
        _reject_if_vacuous_here(result)
        raise GradcheckError(result)
    return result


def _reject_if_vacuous_here(result: GradcheckResult) -> None:
    """Inside a hypothesis test, discard an example whose gradients are all exactly 0 (not unused ones)."""
    vacuous_only = result.vacuous and all(c.ok and not c.unused for c in result.inputs)
    if vacuous_only and hypothesis.currently_in_test_context():
        hypothesis.reject()


# ====================================================================== custom Functions


ShapeSpec = Any  # a shape tuple, or a strategy of shape tuples
DomainSpec = Any  # keyword arguments of arrays(): low, high, positive, away_from, margin, unique


def check_function(
    function: type[Function] | Callable[..., Tensor],
    *,
    shapes: Sequence[ShapeSpec] | st.SearchStrategy[tuple[tuple[int, ...], ...]] | None = None,
    domain: DomainSpec | Sequence[DomainSpec] | None = None,
    reference: Callable[..., Any] | None = None,
    params: dict[str, Any] | None = None,
    max_examples: int | None = None,
    eps: float = DEFAULT_EPS,
    atol: float = DEFAULT_ATOL,
    rtol: float = DEFAULT_RTOL,
    forward_rtol: float = 1e-10,
    forward_atol: float = 1e-12,
    allow_unused: bool = False,
) -> None:
    """Property-test a custom op (a :class:`tinygrad_edu.Function`) with hypothesis; raise on the first bug.

    For every drawn example (float64 arrays of the given ``shapes``, with elements from
    ``domain``) it checks, in this order:

    1. forward against ``reference(*arrays, **params)`` (plain numpy), when given;
    2. backward against central finite differences (:func:`assert_grad_close`: the full
       Jacobian or random cotangents, never only ``out.sum()``), an unused input included;
    3. the gradients' shapes and dtypes equal the inputs', in float64 and float32.

    Inputs changed in place fail too: a ``Function`` sees read-only arrays (an in-place edit is an
    error naming the op), and gradcheck reports a function that modifies its inputs.

    ``shapes``: one entry per input, each a tuple or a strategy of tuples (e.g. :func:`shapes`),
    or one strategy drawing a tuple of shapes for all inputs (e.g.
    ``broadcastable_shapes(2).map(lambda s: s.input_shapes)``); by default one input of any small
    shape. ``domain``: keyword arguments of :func:`arrays` (``low``, ``high``, ``positive``,
    ``away_from``, ``margin``, ``unique``), one dict for all inputs or one per input -- keep
    inputs away from kinks and poles. ``params`` are passed to ``apply`` and ``reference``.
    ``max_examples`` overrides the hypothesis profile's count (the suite's default profile, or
    ``thorough``). A failure is shrunk by hypothesis to a small example, and the error message
    starts with the gradcheck table (or the forward's mismatch); the kit's frames are hidden
    from pytest's traceback. Call it inside a test function::

        def test_cube():
            check_function(Cube, shapes=[shapes()], reference=lambda x: x**3)
    """
    __tracebackhide__ = True
    op = _as_op(function)
    name = getattr(function, "__name__", "fn")
    options = dict(params or {})
    strategy = _input_arrays(shapes, domain)
    # no "explain" phase: its list of library lines would bury the table under noise
    overrides: dict[str, Any] = {
        "deadline": None,
        "phases": tuple(p for p in hypothesis.settings().phases if p is not hypothesis.Phase.explain),
    }
    if max_examples is not None:
        overrides["max_examples"] = int(max_examples)

    def check_example(arrays: tuple[np.ndarray, ...]) -> None:
        __tracebackhide__ = True
        tensors = [Tensor(a, requires_grad=True, label=f"x{k}") for k, a in enumerate(arrays)]
        if reference is not None:
            out = op(*tensors, **options).data
            expected = np.asarray(reference(*arrays, **options))
            _assert_forward(name, out, expected, forward_rtol, forward_atol)
        assert_grad_close(
            lambda *ts: op(*ts, **options), *tensors, eps=eps, atol=atol, rtol=rtol, allow_unused=allow_unused
        )
        for dtype in (np.float64, np.float32):
            _assert_gradient_shapes_and_dtypes(name, op, options, arrays, dtype)

    # named after the op, so hypothesis prints "check_Cube(arrays=...)" and keeps its examples apart
    check_example.__name__ = check_example.__qualname__ = "check_" + re.sub(r"\W", "_", name)
    hypothesis.settings(**overrides)(hypothesis.given(strategy)(check_example))()


def _as_op(function: Any) -> Callable[..., Tensor]:
    if isinstance(function, type) and issubclass(function, Function):
        return function.apply
    if callable(function):
        return function
    raise TypeError(f"check_function: expected a tg.Function subclass or a callable, got {type(function).__name__}")


def _input_arrays(shapes_spec: Any, domain: Any) -> st.SearchStrategy[tuple[np.ndarray, ...]]:
    """A strategy of tuples of float64 arrays, one per input, with shapes and domains as specified."""
    if shapes_spec is None:
        shapes_spec = [shapes()]
    if isinstance(shapes_spec, st.SearchStrategy):
        shape_tuples = shapes_spec
    else:
        specs = list(shapes_spec)
        if not specs:
            raise ValueError("check_function: shapes is empty; give one shape (or strategy) per input")
        shape_tuples = st.tuples(*(s if isinstance(s, st.SearchStrategy) else st.just(tuple(s)) for s in specs))

    def arrays_for(shape_list: tuple[tuple[int, ...], ...]) -> st.SearchStrategy[tuple[np.ndarray, ...]]:
        domains = _domains(domain, len(shape_list))
        return st.tuples(*(arrays(tuple(shape), **d) for shape, d in zip(shape_list, domains)))

    return shape_tuples.flatmap(arrays_for)


def _domains(domain: Any, n: int) -> list[dict[str, Any]]:
    if domain is None:
        return [{}] * n
    if isinstance(domain, dict):
        return [domain] * n
    domains = list(domain)
    if len(domains) != n or not all(isinstance(d, dict) for d in domains):
        raise ValueError(
            f"check_function: domain must be one dict of arrays() options or one per input ({n}), got {domain!r}"
        )
    return domains


def _assert_forward(name: str, out: np.ndarray, expected: np.ndarray, rtol: float, atol: float) -> None:
    __tracebackhide__ = True
    if out.shape != expected.shape:
        raise AssertionError(f"{name}.forward returned shape {out.shape}, the numpy reference shape {expected.shape}")
    with np.errstate(invalid="ignore"):
        bad = ~np.isclose(out, expected, rtol=rtol, atol=atol, equal_nan=True)
    if bad.any():
        where = tuple(int(i) for i in np.argwhere(bad)[0])
        raise AssertionError(
            f"{name}.forward differs from the numpy reference at {where}: {out[where]!r} vs {expected[where]!r} "
            f"({int(bad.sum())} of {bad.size} elements outside rtol={rtol:g}, atol={atol:g})"
        )


def _assert_gradient_shapes_and_dtypes(
    name: str, op: Callable[..., Tensor], options: dict[str, Any], arrays: tuple[np.ndarray, ...], dtype: Any
) -> None:
    __tracebackhide__ = True
    tensors = [Tensor(np.array(a, dtype=dtype), requires_grad=True) for a in arrays]
    out = op(*tensors, **options)
    u = np.random.default_rng(0).standard_normal(out.shape).astype(out.dtype)  # never all ones
    grads = tensor_grad((out * Tensor(u)).sum(), tensors, allow_unused=True)
    for k, (t, g) in enumerate(zip(tensors, grads)):
        if g is not None and (g.shape != t.shape or g.dtype != t.dtype):
            raise AssertionError(
                f"{name}: the gradient of input x{k} has shape {g.shape} and dtype {g.dtype}, "
                f"but x{k} has shape {t.shape} and dtype {t.dtype}"
            )
