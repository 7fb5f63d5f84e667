"""``Module`` and ``Parameter``: the containers that hold a network's weights.

A :class:`Module` owns :class:`Parameter` tensors (its weights W and biases b) and
child modules, registered simply by assigning them as attributes::

    class TwoLayer(Module):
        def __init__(self):
            super().__init__()
            self.hidden = Linear(2, 4)    # a child module, named "hidden"
            self.out = Linear(4, 1)

        def forward(self, x):
            return self.out(self.hidden(x).tanh()).sigmoid()

Everything else is derived from that registry, recursively and in a fixed order:
``parameters()``, ``named_parameters()`` (qualified names such as ``"hidden.weight"``),
``named_modules()``, ``zero_grad()``, ``apply(fn)``, ``requires_grad_()``, ``train()`` /
``eval()``, ``to(dtype)`` / ``float()`` / ``double()``, ``state_dict()`` / ``load_state_dict()``,
a tree ``repr`` and ``summary(input_shape)``.

A plain list, tuple or dict of layers assigned as an attribute is *not* registered (as in
PyTorch); it triggers a warning that points to ``nn.ModuleList`` / ``nn.ModuleDict``
(:mod:`.containers`), which register their elements as children ``"0"``, ``"1"``, ... or by key.

Calling a module runs ``forward`` inside :func:`tinygrad_edu.engine.scope`, so every
node it creates remembers which module made it (drawings group nodes by module).
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

import numpy as np

from .. import engine
from ..tensor_class import Tensor, _to_float_array, get_default_dtype

__all__ = ["Module", "Parameter", "StateDictError", "LoadResult"]


class Parameter(Tensor):
    """A trainable tensor: a leaf with ``requires_grad=True`` that a :class:`Module` registers.

    ``Parameter(data, requires_grad=False)`` (or ``module.requires_grad_(False)``) freezes it: it
    gets no gradient, and an optimiser given it leaves it alone, as in PyTorch.

    ``isinstance(p, Tensor)`` is true; every op on a parameter returns a plain ``Tensor``.
    """

    __slots__ = ()

    def __init__(self, data: Any, requires_grad: bool = True, *, dtype: Any = None, label: str = "") -> None:
        if not isinstance(data, (Tensor, np.ndarray)):
            data = _to_float_array(data, dtype, op="Parameter")  # bad data: an error naming Parameter
        super().__init__(data, requires_grad=requires_grad, dtype=dtype, label=label)

    def __repr__(self) -> str:
        return "Parameter" + super().__repr__()[len("Tensor"):].replace(", requires_grad=True", "")


class StateDictError(ValueError):
    """``load_state_dict`` found missing, unexpected or shape-mismatched keys.

    The lists are kept as attributes: ``missing``, ``unexpected`` and ``mismatched``
    (tuples ``(key, expected_shape, got_shape)``).
    """

    def __init__(
        self, message: str, missing: list[str], unexpected: list[str], mismatched: list[tuple[str, Any, Any]]
    ) -> None:
        super().__init__(message)
        self.missing, self.unexpected, self.mismatched = missing, unexpected, mismatched


class LoadResult(NamedTuple):
    """What ``load_state_dict(strict=False)`` skipped."""

    missing_keys: list[str]
    unexpected_keys: list[str]


def _warn_unregistered(owner: Module, name: str, value: list[Any] | tuple[Any, ...] | dict[Any, Any]) -> None:
    """Warn when a plain list/tuple/dict holding Modules or Parameters is assigned: it is not registered."""
    items = value.values() if isinstance(value, dict) else value
    kinds = {type(v).__name__ for v in items if isinstance(v, (Module, Parameter))}
    if not kinds:
        return
    container = "nn.ModuleDict({...})" if isinstance(value, dict) else "nn.ModuleList([...])"
    what = "Parameters" if kinds == {"Parameter"} else "Modules"
    fix = (
        f"wrap it: self.{name} = {container}"
        if what == "Modules"
        else "assign each Parameter to its own attribute (self.w0 = Parameter(...), ...)"
    )
    warnings.warn(
        f"{type(owner).__name__}.{name}: a plain {type(value).__name__} holding {what} ({', '.join(sorted(kinds))}) "
        f"is not registered, so parameters(), state_dict(), train()/eval() and optimisers will not see them; "
        f"{fix}",
        UserWarning,
        stacklevel=3,
    )


_FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


# While summary() runs, Module.__call__ records (module, output) here (per thread).
_recording = threading.local()


class Module:
    """Base class of every layer and model (see the module docstring).

    Subclasses call ``super().__init__()`` first, assign parameters and child modules
    as attributes, and define ``forward``.
    """

    training: bool

    def __init__(self) -> None:
        object.__setattr__(self, "_parameters", {})
        object.__setattr__(self, "_modules", {})
        object.__setattr__(self, "training", True)

    # ------------------------------------------------------------------ registration

    def __setattr__(self, name: str, value: Any) -> None:
        if "_parameters" not in self.__dict__:
            raise AttributeError(
                f"{type(self).__name__}: cannot assign attribute {name!r} before Module.__init__() ran; "
                "call super().__init__() first in your __init__"
            )
        params, modules = self.__dict__["_parameters"], self.__dict__["_modules"]
        # assigning to an existing name keeps its place in the registry (dict order), as PyTorch
        if isinstance(value, Parameter):
            modules.pop(name, None)
            params[name] = value
        elif isinstance(value, Module):
            params.pop(name, None)
            modules[name] = value
        else:
            params.pop(name, None)
            modules.pop(name, None)
            if isinstance(value, (list, tuple, dict)):
                _warn_unregistered(self, name, value)
        object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        self._parameters.pop(name, None)
        self._modules.pop(name, None)
        object.__delattr__(self, name)

    def register_module(self, name: str, module: Module) -> None:
        """Register ``module`` as a child named ``name`` (same as assigning an attribute)."""
        setattr(self, name, module)

    # ------------------------------------------------------------------ calling

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """The layer's computation; subclasses define it."""
        raise NotImplementedError(f"{type(self).__name__} must define forward(self, ...)")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Run ``forward`` inside ``engine.scope(self)``, so the nodes it makes are tagged with this module."""
        records = getattr(_recording, "records", None)
        if records is None:
            with engine.scope(self):
                return self.forward(*args, **kwargs)
        entry: list[Any] = [self, None]
        records.append(entry)
        with engine.scope(self):
            out = self.forward(*args, **kwargs)
        entry[1] = out
        return out

    # ------------------------------------------------------------------ traversal

    def named_children(self) -> list[tuple[str, Module]]:
        """The direct child modules with their attribute names, in assignment order."""
        return list(self._modules.items())

    def children(self) -> list[Module]:
        """The direct child modules, in assignment order."""
        return list(self._modules.values())

    def named_modules(self, prefix: str = "") -> list[tuple[str, Module]]:
        """This module (named ``prefix``, ``""`` for the root) and all its descendants, depth first.

        Names are qualified with dots (``"layers.0"``); a module reachable twice is listed once.
        """
        out: list[tuple[str, Module]] = []
        seen: set[int] = set()
        stack: list[tuple[str, Module]] = [(prefix, self)]
        while stack:
            name, module = stack.pop()
            if id(module) in seen:
                continue
            seen.add(id(module))
            out.append((name, module))
            for child_name, child in reversed(module.named_children()):
                stack.append((f"{name}.{child_name}" if name else child_name, child))
        return out

    def modules(self) -> list[Module]:
        """This module and all its descendants, depth first."""
        return [m for _, m in self.named_modules()]

    def named_parameters(self) -> list[tuple[str, Parameter]]:
        """Every parameter with its qualified name (``"layers.0.weight"``), each listed once.

        The order is deterministic: modules depth first, each module's own parameters (in
        assignment order) before its children's.
        A parameter shared by two modules keeps the first name it was found under.
        """
        out: list[tuple[str, Parameter]] = []
        seen: set[int] = set()
        for module_name, module in self.named_modules():
            for name, p in module._parameters.items():
                if id(p) not in seen:
                    seen.add(id(p))
                    out.append((f"{module_name}.{name}" if module_name else name, p))
        return out

    def parameters(self) -> list[Parameter]:
        """Every parameter, each once, in the order of :meth:`named_parameters`."""
        return [p for _, p in self.named_parameters()]

    def num_parameters(self) -> int:
        """The number of trainable numbers (sum of the parameters' sizes)."""
        return sum(p.size for p in self.parameters())

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget every parameter's gradient before the next backward.

        ``set_to_none=True`` (the default, as in PyTorch 2) sets ``p.grad = None``; with
        ``False`` each existing gradient array is filled with zeros in place.
        """
        for p in self.parameters():
            if set_to_none or p.grad is None:
                p.grad = None
            else:
                p.grad.data[...] = 0.0

    def apply(self, fn: Callable[[Module], Any]) -> Module:
        """Call ``fn(module)`` on every descendant, then on this module (children first, as PyTorch); returns self.

        The usual use is a custom initialisation::

            def init_weights(m):
                if isinstance(m, nn.Linear):
                    nn.init.xavier_uniform_(m.weight, seed=0)
            model.apply(init_weights)
        """
        if not callable(fn):
            raise TypeError(f"{type(self).__name__}.apply: expected a function of one module, got {type(fn).__name__}")
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        """Set ``requires_grad`` on every parameter (``False`` freezes the module: no gradients); returns self."""
        if not isinstance(requires_grad, (bool, np.bool_)):
            raise TypeError(f"{type(self).__name__}.requires_grad_: expected True or False, got {requires_grad!r}")
        for p in self.parameters():
            p.requires_grad = bool(requires_grad)
        return self

    # ------------------------------------------------------------------ dtype

    def to(self, dtype: Any) -> Module:
        """Cast every parameter (and its gradient) to ``dtype`` (float32 or float64), in place; returns self.

        The Parameter objects stay the same (an optimiser made earlier still holds them);
        only their arrays are replaced. ``to("cpu")`` is accepted and does nothing: every
        array lives in main memory here.
        """
        if isinstance(dtype, str) and dtype == "cpu":
            return self
        try:
            target = None if dtype is None else np.dtype(dtype)
        except TypeError:
            target = None
        if target is None or target not in _FLOAT_DTYPES:
            raise TypeError(
                f"{type(self).__name__}.to: expected float32 or float64 (or the device 'cpu'), got {dtype!r}"
            )
        for p in self.parameters():
            if p.data.dtype != target:
                p.data = p.data.astype(target)
                if p.grad is not None:
                    p.grad = Tensor(p.grad.data.astype(target))
        return self

    def double(self) -> Module:
        """Cast every parameter to float64 (``to(np.float64)``); returns self."""
        return self.to(np.float64)

    def float(self) -> Module:
        """Cast every parameter to float32 (``to(np.float32)``); returns self."""
        return self.to(np.float32)

    # ------------------------------------------------------------------ modes

    def train(self, mode: bool = True) -> Module:
        """Set training mode on this module and all descendants (Dropout is active); returns self."""
        for m in self.modules():
            object.__setattr__(m, "training", bool(mode))
        return self

    def eval(self) -> Module:
        """Set evaluation mode on this module and all descendants (Dropout is the identity); returns self."""
        return self.train(False)

    # ------------------------------------------------------------------ state

    def state_dict(self) -> dict[str, np.ndarray]:
        """``{qualified_name: copy of the parameter's array}`` (copies: later training does not change it)."""
        return {name: p.data.copy() for name, p in self.named_parameters()}

    def load_state_dict(self, state: Mapping[str, Any], strict: bool = True) -> LoadResult:
        """Copy the arrays in ``state`` into the parameters of the same name (in place).

        With ``strict=True`` (the default) the keys must match exactly; otherwise a
        :class:`StateDictError` lists every missing and unexpected key. A shape mismatch
        is always an error. Nothing is changed unless every check passes. With
        ``strict=False`` missing and unexpected keys are skipped and returned.
        """
        if not isinstance(state, Mapping):
            raise TypeError(f"load_state_dict: expected a mapping of name -> array, got {type(state).__name__}")
        own = dict(self.named_parameters())
        missing = [k for k in own if k not in state]
        unexpected = [k for k in state if k not in own]
        mismatched: list[tuple[str, Any, Any]] = []
        arrays: dict[str, np.ndarray] = {}
        for key, p in own.items():
            if key not in state:
                continue
            value = state[key]
            array = value.data if isinstance(value, Tensor) else np.asarray(value)
            if array.dtype.kind not in "iuf":
                raise TypeError(
                    f"load_state_dict: key {key!r} holds {array.dtype} data; expected real numbers "
                    f"for a parameter of shape {p.shape}"
                )
            if array.shape != p.shape:
                mismatched.append((key, p.shape, array.shape))
            arrays[key] = array
        problems = []
        if strict and missing:
            problems.append(f"missing keys {missing}")
        if strict and unexpected:
            problems.append(f"unexpected keys {unexpected}")
        if mismatched:
            problems.append(
                "shape mismatch for "
                + ", ".join(f"{k!r} (model expects {want}, state has {got})" for k, want, got in mismatched)
            )
        if problems:
            hint = " (strict=False skips missing and unexpected keys)" if not mismatched else ""
            raise StateDictError(
                f"load_state_dict into {type(self).__name__}: " + "; ".join(problems)
                + f". The model's keys are {list(own)}{hint}.",
                missing, unexpected, mismatched,
            )
        for key, array in arrays.items():
            np.copyto(own[key].data, array, casting="unsafe")
            own[key]._bump_version("load_state_dict")  # an in-place write: bump the version counter
        return LoadResult(missing, unexpected)

    # ------------------------------------------------------------------ printing

    def extra_repr(self) -> str:
        """The text inside this module's parentheses in ``repr`` (e.g. ``in_features=2, ...``)."""
        return ""

    def __repr__(self) -> str:
        children = self.named_children()
        if not children:
            return f"{type(self).__name__}({self.extra_repr()})"
        lines = [f"{type(self).__name__}({self.extra_repr()}"]
        for name, child in children:
            body = repr(child).replace("\n", "\n  ")
            lines.append(f"  ({name}): {body}")
        lines.append(")")
        return "\n".join(lines)

    def summary(self, input_shape: tuple[int, ...] | list[int], dtype: Any = None) -> str:
        """A table of the layers, their output shapes and parameter counts.

        One row per module call, in the order the forward pass runs them, indented by
        depth; "Param #" counts a module's own parameters (``--`` for a container whose
        layers are listed below it), so the column sums to the total.
        ``input_shape`` is the full shape of one input batch, batch axis included,
        e.g. ``(1, 784)`` or ``(1, 1, 28, 28)``. The model is run once on zeros, under
        ``no_grad`` and in eval mode (so Dropout's random state is not consumed); the
        training flags are restored afterwards.
        """
        shape = tuple(int(n) for n in input_shape)
        if dtype is None:  # the model's own dtype (after .float(), float32 zeros), else the default
            params = self.parameters()
            dtype = params[0].dtype if params else get_default_dtype()
        flags = [(m, m.training) for m in self.modules()]
        _recording.records = records = []
        try:
            self.eval()
            with engine.no_grad():
                self(Tensor(np.zeros(shape, dtype=dtype)))
        except Exception as err:
            raise ValueError(
                f"summary: running {type(self).__name__} on an input of shape {shape} failed: {err}"
            ) from err
        finally:
            _recording.records = None
            for m, flag in flags:
                object.__setattr__(m, "training", flag)
        names = {id(m): name for name, m in self.named_modules()}
        depth_of = {id(m): (name.count(".") + 1 if name else 0) for name, m in self.named_modules()}
        rows = [("Layer (type)", "Output shape", "Param #")]
        for module, out in records:
            if module is self and len(records) > 1:
                continue
            name = names.get(id(module), "?") or type(module).__name__
            indent = "  " * max(depth_of.get(id(module), 1) - 1, 0)
            own = sum(p.size for p in module._parameters.values())
            # a pure container's layers have their own rows: "--" instead of a misleading 0
            count = "--" if own == 0 and module._modules else f"{own:,}"
            out_shape = str(tuple(out.shape)) if hasattr(out, "shape") else type(out).__name__
            rows.append((f"{indent}{name} ({type(module).__name__})", out_shape, count))
        total = self.num_parameters()
        trainable = sum(p.size for p in self.parameters() if p.requires_grad)
        widths = [max(len(r[i]) for r in rows) for i in range(3)]
        rule = "-" * (sum(widths) + 4)

        def fmt(r: tuple[str, str, str]) -> str:
            return f"{r[0]:<{widths[0]}}  {r[1]:<{widths[1]}}  {r[2]:>{widths[2]}}"

        lines = [f"{type(self).__name__} summary (input shape {shape})", rule, fmt(rows[0]), rule]
        lines += [fmt(r) for r in rows[1:]]
        lines += [rule, f"Total params: {total:,}", f"Trainable params: {trainable:,}", rule]
        from .summary import ModelSummary  # a str that also displays as an HTML table in Jupyter

        return ModelSummary("\n".join(lines), rows[1:], title=lines[0], total=total, trainable=trainable)
