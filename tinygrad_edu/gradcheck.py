"""Gradient checking: compare autograd's gradients with central finite differences.

The lectures' recipe: for every parameter theta_j,

    dJ/dtheta_j  ~  (J(theta + eps e_j) - J(theta - eps e_j)) / (2 eps)

and check that this numeric estimate agrees with backprop. :func:`gradcheck` does this for
every element of every input that requires grad, for ``Value`` and ``Tensor`` inputs, and
returns a :class:`GradcheckResult` whose report is a small table. :func:`numerical_grad` is
the estimate alone.

``tinygrad_edu.gradcheck`` is the *function* (as ``torch.autograd.gradcheck``); import the
other names from this module with ``from tinygrad_edu.gradcheck import GradcheckResult``.

Outputs of any shape
--------------------
For an output ``y`` with several elements the gradient is a Jacobian. Autograd computes
vector-Jacobian products u^T (dy/dx) for a cotangent u, so gradcheck compares those:

* a scalar output: one cotangent, 1 (the gradient itself);
* a small output (at most ``jacobian_max_outputs`` elements): every one-hot cotangent, i.e.
  the **full Jacobian**, row by row;
* a larger output: ``n_cotangents`` random normal cotangents (seeded). A random u, never
  all ones, so that transposed or mis-broadcast gradients cannot cancel out.

The numeric side is sum(u * (y(x + eps) - y(x - eps))) / (2 eps): the difference is taken
element-wise *before* summing, otherwise round-off from large outputs swamps it.

Choice of eps and tolerances (float64)
--------------------------------------
* ``eps = 1e-6``: the central difference has truncation error ~ eps^2 |f'''| / 6 and
  round-off error ~ eps_machine |f| / eps with eps_machine ~ 1.1e-16. Both are ~1e-10 near
  eps = 1e-6 (for moderate |f|, |f'''|): the sweet spot. The step is absolute, so inputs of
  order 1 are assumed; for inputs of size ~s, use eps ~ 1e-6 * s.
* Pass if ``|analytic - numeric| <= atol + rtol * |numeric|`` for every element, with
  ``rtol = 1e-4`` (leaves 4-5 digits of headroom above the ~1e-10 error, yet a derivative
  wrong by 0.1 % fails) and ``atol = 1e-6`` (needed where the true gradient is ~0, e.g. in
  the flat tails of sigmoid and tanh, where a relative test alone would demand the
  impossible).
* Everything runs on **float64 copies** of the inputs; float32 inputs trigger a warning,
  because in float32 (eps_machine ~ 6e-8) the round-off alone is ~0.06 at eps = 1e-6, so a
  float32 check would be meaningless. The copies also mean the caller's inputs -- their data
  and their ``.grad`` -- are never touched.
* Kinks (relu, abs, max at ties): finite differences across a kink measure an average of the
  two one-sided slopes, so keep inputs at least ~1e-3 away from kinks.

``fn`` receives the copies as its arguments and must compute its output from them (a
closure over the original tensors would not see the perturbations). Such a check cannot pass:
an input whose perturbation never changes the output, and that the output's graph does not
reach, is reported as *not used by the function*; ``allow_unused=True`` accepts
inputs that are unused on purpose. A check whose every compared gradient is exactly zero is
*vacuous* and fails too. To check a model's parameters, use
:func:`tinygrad_edu.gradcheck_model`, which perturbs the parameters themselves.

Localising a failure
--------------------
When a ``Tensor`` check fails, gradcheck also checks every op recorded in the graph on its
own (:mod:`tinygrad_edu.gradcheck_locate`): the op's VJP against finite differences of the
op's own forward, at the inputs it saw. Ops that fail are listed as *suspects* in the report,
by name and class (a primitive or a user's ``tg.Function``), so a wrong ``backward`` is named
directly. The result and its table (text and HTML) live in :mod:`tinygrad_edu.gradcheck_result`.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from . import engine
from .gradcheck_locate import locate_suspects
from .gradcheck_result import GradcheckError, GradcheckResult, InputCheck, OpCheck, _compare, _fmt_index
from .tensor_class import Tensor
from .tensor_class import grad as tensor_grad
from .value import Value

__all__ = [
    "DEFAULT_ATOL",
    "DEFAULT_EPS",
    "DEFAULT_RTOL",
    "GradcheckError",
    "GradcheckResult",
    "InputCheck",
    "OpCheck",
    "gradcheck",
    "numerical_grad",
]

#: Central-difference step (see the module docstring for why 1e-6 in float64).
DEFAULT_EPS = 1e-6
#: Absolute tolerance: gradients near 0 (sigmoid/tanh tails) need one.
DEFAULT_ATOL = 1e-6
#: Relative tolerance: catches a derivative wrong by 0.1 %, with headroom over round-off.
DEFAULT_RTOL = 1e-4


# ====================================================================== inputs and outputs


def _copy_inputs(inputs: Sequence[Any], op: str, numbers_are_variables: bool) -> tuple[list[Any], list[int]]:
    """float64 copies of Value/Tensor inputs (constants stay constants) and the positions to check."""
    args: list[Any] = []
    checked: list[int] = []
    for i, x in enumerate(inputs):
        if isinstance(x, Tensor):
            if x.dtype == np.float32:
                warnings.warn(
                    f"{op}: input {i} is float32; checking a float64 copy instead (in float32, round-off "
                    "alone is ~0.06 at eps=1e-6, so finite differences would be meaningless)",
                    UserWarning,
                    stacklevel=3,
                )
            args.append(Tensor(np.array(x.data, dtype=np.float64), requires_grad=x.requires_grad, label=x.label))
            if x.requires_grad:
                checked.append(i)
        elif isinstance(x, Value):
            args.append(Value(x.data, label=x.label, requires_grad=x.requires_grad))
            if x.requires_grad:
                checked.append(i)
        elif numbers_are_variables and isinstance(x, (int, float, np.ndarray)) and not isinstance(x, bool):
            args.append(np.array(x, dtype=np.float64) if isinstance(x, np.ndarray) else float(x))
            checked.append(i)
        else:
            args.append(x)
    if not checked:
        raise ValueError(
            f"{op}: none of the {len(inputs)} inputs requires grad, so there is nothing to check. "
            "Pass Tensors created with requires_grad=True, or Values."
        )
    return args, checked


def _shape(x: Any) -> tuple[int, ...]:
    if isinstance(x, Tensor):
        return x.shape
    if isinstance(x, np.ndarray):
        return x.shape
    return ()


def _get(args: list[Any], i: int, idx: tuple[int, ...]) -> float:
    x = args[i]
    if isinstance(x, Tensor):
        return float(x.data[idx])
    if isinstance(x, np.ndarray):
        return float(x[idx])
    return float(x.data) if isinstance(x, Value) else float(x)


def _set(args: list[Any], i: int, idx: tuple[int, ...], value: float) -> None:
    x = args[i]
    if isinstance(x, Tensor):
        x.data[idx] = value
    elif isinstance(x, np.ndarray):
        x[idx] = value
    elif isinstance(x, Value):
        x.data = value
    else:
        args[i] = value


def _output_array(out: Any, op: str) -> np.ndarray:
    """fn's output as a new float64 array (a copy: outputs may be views of the inputs)."""
    if isinstance(out, Tensor):
        return np.array(out.data, dtype=np.float64)
    if isinstance(out, Value):
        return np.array(out.data, dtype=np.float64)
    if isinstance(out, (int, float, np.ndarray, np.floating)) and not isinstance(out, bool):
        return np.array(out, dtype=np.float64)
    raise TypeError(
        f"{op}: fn must return a Value or a Tensor (any shape), got {type(out).__name__}. "
        "For several outputs, check them one at a time or combine them, e.g. (a * r1).sum() + (b * r2).sum()."
    )


def _numeric_vjps(
    fn: Callable[..., Any],
    args: list[Any],
    checked: Sequence[int],
    cotangents: np.ndarray,
    eps: float,
    op: str,
    base: np.ndarray,
) -> tuple[list[np.ndarray], list[bool]]:
    """For each checked input, sum(u * (f(x + eps e_j) - f(x - eps e_j))) / 2 eps for every cotangent u.

    ``cotangents`` has shape (C, output size); the result per input has shape (C, *input shape).
    Also returns, per input, whether any perturbation changed the output at all (compared with
    ``base``, the unperturbed output): an input that never does is not used by ``fn``.
    """
    results, changed = [], []
    # Grad mode stays on, so fn may itself differentiate (checking second derivatives of
    # grad(..., create_graph=True)); each evaluation's graph is dropped right away.
    with engine.enable_grad():
        for i in checked:
            shape = _shape(args[i])
            numeric = np.zeros((cotangents.shape[0],) + shape)
            moved = False
            for idx in np.ndindex(shape):
                saved = _get(args, i, idx)
                try:
                    _set(args, i, idx, saved + eps)
                    plus = _output_array(fn(*args), op)
                    _set(args, i, idx, saved - eps)
                    minus = _output_array(fn(*args), op)
                finally:
                    _set(args, i, idx, saved)
                if not moved:
                    moved = not (
                        np.array_equal(plus, base, equal_nan=True) and np.array_equal(minus, base, equal_nan=True)
                    )
                with np.errstate(invalid="ignore", over="ignore"):
                    diff = (plus - minus).reshape(-1)  # subtract element-wise BEFORE summing
                    numeric[(slice(None),) + idx] = cotangents @ diff / (2.0 * eps)
            results.append(numeric)
            changed.append(moved)
    return results, changed


def _unused_message(op: str, unused: Sequence[tuple[int, str]], eps: float) -> str:
    """Why inputs (position, name) count as unused, and the two usual causes (closures, a too small eps)."""
    which = "; ".join(
        f"input #{position}{f' ({name})' if name and not name.startswith('input ') else ''} is not used by the function"
        for position, name in unused
    )
    return (
        f"{op}: {which}: perturbing {'it' if len(unused) == 1 else 'each'} by +-{eps:g} does not "
        "change the output, and the output's graph does not reach it, so comparing gradients would check "
        "nothing. If fn calls a model or tensors captured from outside (a closure such as "
        "`lambda *ps: loss(net(X), y)`), it ignores the float64 copies it receives as arguments: compute "
        "the output from the arguments, or check a model with tg.gradcheck_model(model, loss_fn, *batch). "
        "If the input is unused on purpose, pass allow_unused=True (if it is used but eps is below its "
        "scale's round-off, pass a larger eps)."
    )


def numerical_grad(
    fn: Callable[..., Any],
    *inputs: Any,
    eps: float = DEFAULT_EPS,
    cotangent: Any = None,
    allow_unused: bool = False,
) -> list[Any]:
    """Central-difference gradient (J(theta + eps) - J(theta - eps)) / (2 eps) of ``fn(*inputs)``.

    Differentiates with respect to every ``Value`` and every ``Tensor`` with ``requires_grad``,
    and also plain Python numbers and numpy arrays (so ``numerical_grad(lambda t: t**3, 1.0,
    eps=0.01)`` works on plain functions). Returns one entry per input: a float for a scalar
    input, a numpy array of the input's shape for an array input, ``None`` for a constant.
    A non-scalar output needs ``cotangent`` u (then the result is the gradient of sum(u * fn)).
    Runs on float64 copies and never touches the inputs.

    A ``Value`` or ``Tensor`` input that the output's graph does not reach and whose perturbation
    never changes the output is *not used* by ``fn`` -- usually a closure that ignores its
    arguments -- and raises ``ValueError`` naming it, unless ``allow_unused=True`` (then its
    gradient is zeros, as finite differences say). (Plain numbers and arrays carry no graph, so
    a zero estimate for them is returned as it is.)
    """
    _check_eps(eps, "numerical_grad")
    args, checked = _copy_inputs(inputs, "numerical_grad", numbers_are_variables=True)
    with engine.enable_grad():
        out_node = fn(*args)
        out = _output_array(out_node, "numerical_grad")
    if cotangent is None:
        if out.size != 1:
            raise ValueError(
                f"numerical_grad: fn returned shape {out.shape}, not a scalar; pass cotangent= "
                "(an array of that shape) to get the gradient of sum(cotangent * fn(...))"
            )
        u = np.ones((1, 1))
    else:
        u = np.asarray(cotangent.data if isinstance(cotangent, Tensor) else cotangent, dtype=np.float64)
        if u.shape != out.shape:
            raise ValueError(f"numerical_grad: cotangent has shape {u.shape} but fn returned shape {out.shape}")
        u = u.reshape(1, -1)
    numeric, changed = _numeric_vjps(fn, args, checked, u, eps, "numerical_grad", out)
    if not allow_unused and isinstance(out_node, (Tensor, Value)):
        in_graph = _graph_nodes(out_node)
        for i, moved in zip(checked, changed):
            node = args[i]
            if isinstance(node, (Tensor, Value)) and node not in in_graph and not moved and _get_array(node).size:
                raise ValueError(_unused_message("numerical_grad", [(i, _input_name(node, i))], eps))
    result: list[Any] = [None] * len(inputs)
    for i, n in zip(checked, numeric):
        result[i] = float(n[0]) if not _shape(args[i]) and not isinstance(args[i], Tensor) else n[0]
    return result


def _graph_nodes(out: Any) -> set[Any]:
    """Every node the output's graph reaches (empty when the output is a constant)."""
    return set(engine.topological_order(out)) if getattr(out, "requires_grad", False) else set()


def _get_array(x: Any) -> np.ndarray:
    return np.asarray(x.data if isinstance(x, (Tensor, Value)) else x)


def _check_eps(eps: float, op: str) -> None:
    if isinstance(eps, bool) or not isinstance(eps, (int, float, np.floating)) or not (eps > 0 and math.isfinite(eps)):
        raise ValueError(f"{op}: eps must be a positive finite number, got {eps!r}")


# ====================================================================== the check


def _analytic_vjps(
    out: Any, args: list[Any], checked: Sequence[int], cotangents: np.ndarray
) -> tuple[list[np.ndarray], list[bool]]:
    """Autograd's u^T (dy/dx) for every cotangent u (rows of ``cotangents``), per checked input.

    Also returns, per input, whether the graph reaches it at all.
    """
    nodes = [args[i] for i in checked]
    results = [np.zeros((cotangents.shape[0],) + _shape(x)) for x in nodes]
    reached = [False] * len(nodes)
    if not getattr(out, "requires_grad", False):
        return results, reached  # the output does not depend on any input that requires grad
    for c, u in enumerate(cotangents):
        if isinstance(out, Tensor):
            grads = tensor_grad(out, nodes, grad_output=u.reshape(out.shape), retain_graph=True, allow_unused=True)
            values = [None if g is None else g.data for g in grads]
        else:
            values = engine.gradients(out, float(u[0]), nodes, retain_graph=True)
        for k, g in enumerate(values):
            if g is not None:
                reached[k] = True
                g = np.asarray(g, dtype=np.float64)
                if g.shape != results[k].shape[1:]:
                    raise ValueError(
                        f"gradcheck: autograd returned a gradient of shape {g.shape} for input {checked[k]} of "
                        f"shape {results[k].shape[1:]}; a primitive's backward returns the wrong shape"
                    )
                results[k][c] = g
    return results, reached


def _input_name(x: Any, position: int) -> str:
    label = getattr(x, "label", "")
    return label if label else f"input {position}"


def _check_options(
    eps: float, atol: float, rtol: float, n_cotangents: int, jacobian_max_outputs: int, op: str
) -> None:
    _check_eps(eps, op)
    for name, value in (("atol", atol), ("rtol", rtol)):
        if isinstance(value, bool) or not isinstance(value, (int, float, np.floating)) or not value >= 0:
            raise ValueError(f"{op}: {name} must be a number >= 0, got {value!r}")
    for name, value, low in (("n_cotangents", n_cotangents, 1), ("jacobian_max_outputs", jacobian_max_outputs, 0)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
            why = " (0 cotangents would compare nothing and pass vacuously)" if name == "n_cotangents" else ""
            raise ValueError(f"{op}: {name} must be an integer >= {low}{why}, got {value!r}")


def gradcheck(
    fn: Callable[..., Any],
    *inputs: Any,
    eps: float = DEFAULT_EPS,
    atol: float = DEFAULT_ATOL,
    rtol: float = DEFAULT_RTOL,
    raise_on_failure: bool = False,
    seed: int = 0,
    n_cotangents: int = 3,
    jacobian_max_outputs: int = 16,
    locate: bool = True,
    allow_unused: bool = False,
) -> GradcheckResult:
    """Check autograd's gradients of ``fn(*inputs)`` against central finite differences.

    For every input that requires grad (``Value`` or ``Tensor``) and each of its elements,
    numeric = sum(u * (fn(x + eps) - fn(x - eps))) / (2 eps) is compared with autograd's
    u^T (d fn / dx): an element passes if |analytic - numeric| <= atol + rtol |numeric|.
    The cotangents u are 1 for a scalar output, every one-hot u (the full Jacobian) for at
    most ``jacobian_max_outputs`` outputs, else ``n_cotangents`` (>= 1) random normal u drawn
    with ``seed``. ``fn`` is called with float64 copies of the inputs (Python numbers and other
    objects are passed through), so the caller's data and ``.grad`` are never changed.

    A check that compares nothing fails instead of passing: an input the output does not
    depend on (the graph does not reach it and perturbing it never changes the output) is
    reported as "input #k (name) is not used by the function" -- most often a closure over a
    model that ignores the copies -- unless ``allow_unused=True`` (as in ``torch.autograd.grad``);
    an all-zero Jacobian (every compared gradient exactly 0, or no elements at all) is reported
    as vacuous.

    Returns a :class:`GradcheckResult` (truthy when ok; ``print(result)`` shows the table).
    With ``raise_on_failure=True`` a failure raises :class:`GradcheckError` with the report.
    ``locate=True`` also checks each recorded primitive of a failing ``Tensor`` graph on its
    own and lists those that fail as suspects. See the module docstring for the defaults.
    """
    __tracebackhide__ = True  # pytest shows the caller's line and the table, not this frame
    _check_options(eps, atol, rtol, n_cotangents, jacobian_max_outputs, "gradcheck")
    args, checked = _copy_inputs(inputs, "gradcheck", numbers_are_variables=False)
    names = [_input_name(args[i], i) for i in checked]
    result = _run_check(
        fn, args, checked, names, eps=eps, atol=atol, rtol=rtol, seed=seed, n_cotangents=n_cotangents,
        jacobian_max_outputs=jacobian_max_outputs, locate=locate, allow_unused=allow_unused, op="gradcheck",
    )
    if raise_on_failure and not result.ok:
        raise GradcheckError(result)
    return result


def _run_check(
    fn: Callable[..., Any],
    args: list[Any],
    checked: Sequence[int],
    names: Sequence[str],
    *,
    eps: float,
    atol: float,
    rtol: float,
    seed: int,
    n_cotangents: int,
    jacobian_max_outputs: int,
    locate: bool,
    allow_unused: bool,
    op: str,
    module_names: dict[int, str] | None = None,
) -> GradcheckResult:
    """The check itself, on ``args`` as given (float64 nodes, perturbed in place and restored).

    :func:`gradcheck` passes copies of its inputs; :func:`gradcheck_model` passes a model's own
    parameters. ``names`` name the checked inputs in the report.
    """
    saved = [np.array(args[i].data, dtype=np.float64) for i in checked]

    with engine.enable_grad():  # gradcheck works inside a no_grad() block too
        out = fn(*args)
    out_array = _output_array(out, op)
    notes: list[str] = []
    if isinstance(out, Tensor) and out.dtype == np.float32:
        warnings.warn(
            f"{op}: fn returned a float32 tensor although its inputs are float64 copies; the check "
            "is only as precise as float32 (about 1e-7 relative)",
            UserWarning,
            stacklevel=3,
        )

    size = out_array.size
    if size == 1:
        cotangents, mode = np.ones((1, 1)), "scalar output: the gradient itself"
    elif size <= jacobian_max_outputs:
        cotangents, mode = np.eye(size), f"full Jacobian ({size} one-hot cotangents)"
    else:
        rng = np.random.default_rng(seed)
        cotangents = rng.standard_normal((n_cotangents, size))
        mode = f"{n_cotangents} random cotangents u (vector-Jacobian products u^T J, seed={seed})"

    with engine.enable_grad():
        analytic, reached = _analytic_vjps(out, args, checked, cotangents)
    for k, i in enumerate(checked):
        if not np.array_equal(np.asarray(args[i].data), saved[k], equal_nan=True):
            notes.append(f"fn modified {names[k]} in place; gradients of such a fn are not checkable.")
            _set_all(args[i], saved[k])
    numeric, changed = _numeric_vjps(fn, args, checked, cotangents, eps, op, out_array)

    checks = []
    unused_inputs: list[tuple[int, str]] = []
    for k, i in enumerate(checked):
        cmp = _compare(analytic[k], numeric[k], atol, rtol)
        # Not reached by the graph AND never moved by a perturbation: fn does not use this input (a
        # flat region such as a dead relu is reached by the graph, and its zero gradient is a real one).
        unused = not changed[k] and not reached[k] and analytic[k].size > 0
        if unused:
            unused_inputs.append((i, names[k]))
            cmp["ok"] = allow_unused
        elif not reached[k] and changed[k]:
            notes.append(
                f"The graph does not reach {names[k]}, yet the output changes with it: a .detach(), a "
                "no_grad() block, an edit of .data or a step through numpy cuts it off from autograd."
            )
        worst = cmp["worst"]
        if worst is None:
            worst_out, index, a_val, n_val = "", None, 0.0, 0.0
        else:
            c, index = worst[0], worst[1:]
            a_val, n_val = float(analytic[k][worst]), float(numeric[k][worst])
            if size == 1:
                worst_out = ""
            elif size <= jacobian_max_outputs:
                worst_out = "output" + _fmt_index(tuple(int(j) for j in np.unravel_index(c, out_array.shape)))
            else:
                worst_out = f"cotangent {c}"
        checks.append(
            InputCheck(
                position=i,
                name=names[k],
                shape=_shape(args[i]),
                ok=cmp["ok"],
                max_abs_error=cmp["max_abs"],
                max_rel_error=cmp["max_rel"],
                worst_index=index,
                worst_output=worst_out,
                worst_analytic=a_val,
                worst_numeric=n_val,
                analytic=analytic[k],
                numeric=numeric[k],
                unused=unused,
            )
        )
    compared = [c for c in checks if not c.unused]
    if unused_inputs and not allow_unused:
        notes.append(_unused_message(op, unused_inputs, eps))
    vacuous = not any(np.any(c.analytic) or np.any(c.numeric) for c in compared)
    if vacuous and not (unused_inputs and not allow_unused):
        notes.append(
            "Vacuous check: "
            + (
                "every input is unused, so nothing was compared."
                if not compared
                else "every compared gradient is exactly 0 on both sides (or there are no elements), so any "
                "backward that returns zeros would pass too. Check at a point where the gradient is not 0."
            )
        )
    ok = all(c.ok for c in checks) and not notes
    result = GradcheckResult(
        ok=ok, inputs=checks, output_shape=out_array.shape, mode=mode, eps=eps, atol=atol, rtol=rtol, notes=notes,
        vacuous=vacuous,
    )
    mismatch = any(not c.ok and not c.unused for c in checks)
    if mismatch and locate:
        if isinstance(out, Tensor) and out.requires_grad:
            with engine.enable_grad():
                result.suspects = locate_suspects(out, eps, atol, rtol, seed, module_names=module_names)
            if not result.suspects:
                result.notes.append(
                    "Every recorded primitive agrees with finite differences of its own forward, so the error "
                    "is in how fn composes them: look for .detach(), no_grad(), edits of .data, a constant "
                    "that depends on the inputs, or inputs within eps of a kink (relu, abs, max)."
                )
        elif isinstance(out, Value):
            result.notes.append(
                "Value graphs save only local derivatives, not forward functions, so suspects cannot be "
                "located per op; check the local derivatives of the ops used, and how fn composes them "
                "(.detach(), edits of .data, inputs within eps of a kink)."
            )
    return result


def _set_all(x: Any, data: np.ndarray) -> None:
    if isinstance(x, Tensor):
        x.data[...] = data
    else:
        x.data = float(data)
