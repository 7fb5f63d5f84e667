"""``gradcheck_model``: check d loss / d parameter for every parameter of a model, in place.

:func:`tinygrad_edu.gradcheck` perturbs float64 *copies* of its inputs, so a function that
calls a model captured from outside never sees them (and the check now fails, saying the
inputs are not used). A model's parameters live inside the model, so this check perturbs the
parameters themselves::

    result = tg.gradcheck_model(model, nn.cross_entropy, X, y)      # loss_fn(model(X), y)
    result = tg.gradcheck_model(model, lambda m: cross_entropy(m(X), y) + l2_penalty(m, lam, n))

For the duration of the check every parameter's array is swapped for a float64 copy (so
finite differences mean something even for a float32 model), its ``.grad`` is set aside, and
the model is put in evaluation mode (dropout masks would change between the two evaluations
of a central difference); afterwards everything is put back exactly as it was: the same
array objects with the same values and dtype, the same ``.grad`` objects, the same training
flags, and any arrays or random generators the modules keep (running statistics, dropout
masks). That also holds when the check fails or ``loss_fn`` raises.

Rows of the report are named by the parameters' state-dict names (``fc1.weight``), with the
lectures' W[l] / b[l] for the l-th ``Linear`` layer (numbered as :func:`nn.lecture_params`
numbers them). When the check fails, the report names the first failing layer in backward
order: the module of a suspect op when one is found (a primitive or ``tg.Function`` whose
backward disagrees with its forward), otherwise the failing parameter closest to the loss
(a wrong gradient flows on towards the input, so layers before it fail too).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .gradcheck import DEFAULT_ATOL, DEFAULT_EPS, DEFAULT_RTOL, _check_options, _run_check
from .gradcheck_result import GradcheckError, GradcheckResult
from .nn.layers import Linear
from .nn.module import Module, Parameter
from .tensor_class import Tensor

__all__ = ["gradcheck_model"]


def gradcheck_model(
    model: Module,
    loss_fn: Callable[..., Any],
    *batch: Any,
    params: Sequence[str | Parameter] | None = None,
    eps: float = DEFAULT_EPS,
    atol: float = DEFAULT_ATOL,
    rtol: float = DEFAULT_RTOL,
    raise_on_failure: bool = False,
    train: bool = False,
    seed: int = 0,
    locate: bool = True,
    allow_unused: bool = False,
) -> GradcheckResult:
    """Check autograd's d loss / d parameter against central finite differences, for a whole model.

    The loss is ``loss_fn(model(batch[0]), *batch[1:])`` -- e.g. ``gradcheck_model(model,
    nn.cross_entropy, X, y)`` -- or, with no batch, ``loss_fn(model)`` for anything else (a
    penalty, several inputs). ``params`` picks parameters by state-dict name (or object);
    all of them by default. Each parameter element is perturbed in place, in float64, by
    +-``eps``; an element passes if |analytic - numeric| <= atol + rtol |numeric| (the
    defaults and their reasons are those of :func:`tinygrad_edu.gradcheck`). The check runs
    in evaluation mode unless ``train=True``; the model is restored exactly afterwards (see
    the module docstring). A parameter the loss does not use fails the check unless
    ``allow_unused=True``.

    Returns a :class:`GradcheckResult` whose rows are named ``fc1.weight = W[1]`` and whose
    ``failing_layer`` names the first failing layer in backward order; with
    ``raise_on_failure=True`` a failure raises :class:`GradcheckError` with the report.
    """
    __tracebackhide__ = True  # pytest shows the caller's line and the table, not this frame
    op = "gradcheck_model"
    if not isinstance(model, Module):
        raise TypeError(f"{op}: model must be an nn.Module, got {type(model).__name__}")
    if not callable(loss_fn):
        raise TypeError(f"{op}: loss_fn must be callable, e.g. nn.cross_entropy, got {type(loss_fn).__name__}")
    _check_options(eps, atol, rtol, 1, 16, op)
    named = model.named_parameters()
    if not named:
        raise ValueError(f"{op}: {type(model).__name__} has no parameters to check")
    chosen = _choose(named, params, op)
    names = _row_names(model, chosen)
    module_names = {id(m): name for name, m in model.named_modules() if name}
    inputs = [_float64_batch(x) for x in batch]

    def loss(*_: Any) -> Any:  # the parameters are perturbed in place, so the arguments are not needed
        return loss_fn(model(inputs[0]), *inputs[1:]) if inputs else loss_fn(model)

    state = _ModelState(model)
    try:
        state.prepare(train)
        args = [p for _, p in chosen]
        result = _run_check(
            loss, args, list(range(len(args))), names, eps=eps, atol=atol, rtol=rtol, seed=seed, n_cotangents=3,
            jacobian_max_outputs=16, locate=locate, allow_unused=allow_unused, op=op, module_names=module_names,
        )
    finally:
        state.restore()
    if not result.ok:
        result.failing_layer = _failing_layer(model, chosen, result)
    if raise_on_failure and not result.ok:
        raise GradcheckError(result)
    return result


def _choose(
    named: list[tuple[str, Parameter]], params: Sequence[str | Parameter] | None, op: str
) -> list[tuple[str, Parameter]]:
    if params is None:
        return named
    if isinstance(params, (str, Parameter)):
        params = [params]
    by_name = dict(named)
    by_id = {id(p): name for name, p in named}
    chosen = []
    for entry in params:
        name = entry if isinstance(entry, str) else by_id.get(id(entry))
        if name not in by_name:
            raise ValueError(
                f"{op}: {entry if isinstance(entry, str) else 'a parameter'!r} is not a parameter of the model; "
                f"its parameters are {[n for n, _ in named]}"
            )
        chosen.append((name, by_name[name]))
    if not chosen:
        raise ValueError(f"{op}: params is empty, so there is nothing to check")
    return chosen


def _row_names(model: Module, chosen: list[tuple[str, Parameter]]) -> list[str]:
    """``fc1.weight = W[1]`` for the l-th Linear layer's weight and bias, else the state-dict name."""
    lecture: dict[int, str] = {}
    linears = [m for _, m in model.named_modules() if isinstance(m, Linear)]
    for l, layer in enumerate(linears, start=1):
        lecture[id(layer.weight)] = f"W[{l}]"
        if layer.bias is not None:
            lecture[id(layer.bias)] = f"b[{l}]"
    return [f"{name} = {lecture[id(p)]}" if id(p) in lecture else name for name, p in chosen]


def _float64_batch(x: Any) -> Any:
    """Float arrays and tensors of the batch as float64 constants; labels and the rest unchanged."""
    if isinstance(x, Tensor):
        return Tensor(np.array(x.data, dtype=np.float64)) if x.dtype.kind == "f" else x
    if isinstance(x, np.ndarray) and x.dtype.kind == "f":
        return x.astype(np.float64)
    return x


def _failing_layer(model: Module, chosen: list[tuple[str, Parameter]], result: GradcheckResult) -> str:
    modules = dict(model.named_modules())
    for suspect in reversed(result.suspects):  # suspects come in forward order: the last is reached first
        if suspect.module:
            return f"'{suspect.module}' ({type(modules[suspect.module]).__name__})"
    for (name, _), check in zip(reversed(chosen), reversed(result.inputs)):
        if not check.ok:
            layer = name.rpartition(".")[0]
            owner = modules.get(layer, model)
            return f"'{layer}' ({type(owner).__name__})" if layer else f"the model itself ({type(owner).__name__})"
    return ""


class _ModelState:
    """Everything a check may change in a model, saved and put back exactly."""

    def __init__(self, model: Module) -> None:
        self.model = model
        self.params = model.parameters()
        self.arrays = [p.data for p in self.params]
        self.grads = [p.grad for p in self.params]
        self.modules = model.modules()
        self.training = [m.training for m in self.modules]
        self.attributes = [(m, dict(vars(m))) for m in self.modules]  # which object each attribute names
        self.contents: list[tuple[Any, Any]] = []  # and the contents of those a forward may change in place
        for _, attributes in self.attributes:
            for value in attributes.values():
                if isinstance(value, np.ndarray):
                    self.contents.append((value, value.copy()))
                elif isinstance(value, Tensor) and not isinstance(value, Parameter):
                    self.contents.append((value.data, value.data.copy()))
                elif isinstance(value, np.random.Generator):
                    self.contents.append((value, value.bit_generator.state))

    def prepare(self, train: bool) -> None:
        for p in self.params:
            p.data = np.array(p.data, dtype=np.float64)  # a float64 copy; the original array is kept aside
            p.grad = None
        self.model.train(train)

    def restore(self) -> None:
        for p, array, grad in zip(self.params, self.arrays, self.grads):
            p.data, p.grad = array, grad
        for m, flag in zip(self.modules, self.training):
            object.__setattr__(m, "training", flag)
        for m, saved in self.attributes:
            current = vars(m)
            for key in [k for k in current if k not in saved]:
                del current[key]  # e.g. a dropout mask that did not exist before
            for key, value in saved.items():
                if current.get(key, saved) is not value:
                    current[key] = value
        for value, saved in self.contents:
            if isinstance(value, np.random.Generator):
                value.bit_generator.state = saved
            elif value.flags.writeable and not np.array_equal(value, saved, equal_nan=True):
                value[...] = saved
