"""``Optimizer``: parameter groups, the update loop, zero_grad and (validated) saving.

An optimiser keeps its parameters in ``param_groups``, a list of dicts as in PyTorch: each
group has ``"params"`` (a list of leaves) and every hyperparameter of the optimiser
(``"lr"``, ``"momentum"``, ...). A plain iterable of parameters (or a Module) makes one
group with the constructor's values; a list of dicts makes one group per dict, each
taking the constructor's values for the options it does not set::

    opt = SGD([{"params": model.body.parameters()},
               {"params": model.head.parameters(), "lr": 0.01}], lr=0.1, momentum=0.9)

``step()`` updates each parameter with its own group's hyperparameters, in place
(``p.data`` keeps its identity, dtype and any views of it) and bumps its version counter
as any in-place op does (a graph that saved the parameter before the step refuses to run
backward instead of giving a wrong gradient); schedulers set each group's
``"lr"``. ``opt.lr`` (and ``opt.momentum``, ``opt.betas``, ...) read group 0's value and
assigning them sets every group's: the one-group shorthand.

Per-parameter state (moment estimates, step counts) lives in ``state``, keyed by the
parameter's position in :attr:`Optimizer.params` (all groups' parameters in order), the
numbering of PyTorch's ``state_dict``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np

from ..argcheck import check_int, check_real
from ..engine import enable_grad, no_grad
from ..nn.module import Parameter
from ..tensor_class import Tensor
from ..value import Value

__all__ = ["Optimizer"]


# ====================================================================== parameter access
# Tensors are updated in place on p.data; a Value's float goes through a 0-d array.


def _grad(p: Any) -> np.ndarray | None:
    g = p.grad
    if g is None:
        return None
    return g.data if isinstance(g, Tensor) else np.asarray(g, dtype=np.float64)


def _collect(params: Any, op: str) -> list[Any]:
    """A deduplicated list of parameters from a Module, a Tensor/Value or an iterable of them."""
    if hasattr(params, "parameters") and callable(params.parameters):
        params = params.parameters()
    if isinstance(params, (Tensor, Value)):
        params = [params]
    if isinstance(params, (Mapping, str)) or not isinstance(params, Iterable):
        raise TypeError(f"{op}: params must be an iterable of Tensors (e.g. model.parameters()), got {type(params)}")
    out, seen = [], set()
    for i, p in enumerate(params):
        if not isinstance(p, (Tensor, Value)):
            raise TypeError(f"{op}: parameter {i} is a {type(p).__name__}, expected a Tensor or Value")
        if not p.requires_grad and not isinstance(p, Parameter):  # a frozen Parameter is kept, as in PyTorch
            raise ValueError(
                f"{op}: parameter {i} (shape {getattr(p, 'shape', ())}) does not require grad, so it never gets a "
                "gradient; create it with requires_grad=True (nn.Parameter does this)"
            )
        if id(p) not in seen:
            seen.add(id(p))
            out.append(p)
    if not out:
        raise ValueError(f"{op}: got an empty parameter list")
    return out


def _as_groups(params: Any, op: str) -> list[dict[str, Any]]:
    """``params`` as a list of group dicts: a list of dicts as is, anything else as one group."""
    if isinstance(params, Mapping):
        raise TypeError(
            f"{op}: params must be an iterable of Tensors or a list of dicts (param groups), got a single "
            f"{type(params).__name__}; wrap it in a list: [{{'params': ..., 'lr': ...}}]"
        )
    if hasattr(params, "parameters") or isinstance(params, (Tensor, Value)) or not isinstance(params, Iterable):
        return [{"params": params}]
    items = list(params)
    dicts = [isinstance(item, Mapping) for item in items]
    if items and all(dicts):
        return [dict(item) for item in items]
    if any(dicts):
        raise TypeError(
            f"{op}: params mixes dicts (param groups) and tensors; give either a list of dicts or of tensors"
        )
    return [{"params": items}]


def _from_array(value: Any, key: str, op: str) -> Any:
    """A saved hyperparameter back as Python: bool, float or tuple of floats."""
    array = np.asarray(value)
    if array.dtype.kind not in "biuf":
        raise TypeError(f"{op}.load_state_dict: {key!r} holds {array.dtype} data; expected numbers")
    if array.dtype == bool and array.ndim == 0:
        return bool(array)
    if array.ndim == 0:
        return array.item()
    if array.ndim == 1:
        return tuple(x.item() for x in array)
    raise ValueError(f"{op}.load_state_dict: {key!r} has shape {array.shape}; expected a number or a pair")


# ====================================================================== base class


class Optimizer:
    """Base class: ``param_groups``, per-parameter ``state``, ``step()``, ``zero_grad()``, saving.

    A subclass names its hyperparameters by passing them to ``__init__`` (they become
    ``defaults``), validates a group's values in :meth:`_checked` (called for the
    constructor, every added group, assignments such as ``opt.lr = ...`` and
    ``load_state_dict``), lists its per-parameter state in ``_state_names`` and implements
    ``_update(w, g, state, group)``, which changes ``w`` (the parameter's array) in place.
    """

    _state_names: tuple[str, ...] = ()

    def __init__(self, params: Any, lr: float, **defaults: Any) -> None:
        name = type(self).__name__
        object.__setattr__(self, "defaults", self._checked({"lr": lr, **defaults}, name))
        self.param_groups: list[dict[str, Any]] = []
        #: per-parameter state (moment estimates, step count), keyed by position in ``params``
        self.state: dict[int, dict[str, Any]] = {}
        self._index: dict[int, int] = {}
        for group in _as_groups(params, name):
            self.add_param_group(group)

    @classmethod
    def _checked(cls, hyper: Mapping[str, Any], op: str) -> dict[str, Any]:
        """``hyper`` validated and normalised (floats, tuples, bools); subclasses extend it."""
        out = dict(hyper)
        out["lr"] = check_real(hyper["lr"], "lr", op, minimum=0.0)
        return out

    def add_param_group(self, group: Mapping[str, Any]) -> None:
        """Add a group ``{"params": [...], <hyperparameter>: value, ...}``; unset options take ``defaults``."""
        name = type(self).__name__
        if not isinstance(group, Mapping) or "params" not in group:
            raise TypeError(f"{name}.add_param_group: expected a dict with a 'params' entry, got {group!r}")
        unknown = sorted(set(group) - set(self.defaults) - {"params", "name"})
        if unknown:
            raise ValueError(
                f"{name}: unknown option(s) {unknown} in param group {len(self.param_groups)}; "
                f"{name} has {sorted(self.defaults)}"
            )
        params = _collect(group["params"], f"{name} (param group {len(self.param_groups)})")
        shared = [i for i, p in enumerate(params) if id(p) in self._index]
        if shared:
            raise ValueError(
                f"{name}: parameter(s) {shared} of param group {len(self.param_groups)} already belong to an "
                "earlier group; each parameter may appear in one group only"
            )
        new = self._checked({**self.defaults, **{k: v for k, v in group.items() if k != "params"}}, name)
        for p in params:
            self._index[id(p)] = len(self._index)
        self.param_groups.append({"params": params, **new})

    @property
    def params(self) -> list[Any]:
        """Every parameter, all groups in order (position i is the key of ``state[i]``)."""
        return [p for group in self.param_groups for p in group["params"]]

    # one-group shorthand: opt.lr, opt.betas, ... read group 0 and set every group

    def __getattr__(self, name: str) -> Any:
        defaults = self.__dict__.get("defaults", {})
        if name in defaults and self.__dict__.get("param_groups"):
            return self.__dict__["param_groups"][0][name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __setattr__(self, name: str, value: Any) -> None:
        if name in self.__dict__.get("defaults", {}):
            checked = [self._checked({**group, name: value}, type(self).__name__) for group in self.param_groups]
            for group, new in zip(self.param_groups, checked):  # all valid: only now change them
                group.update(new)
            return
        object.__setattr__(self, name, value)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget every parameter's gradient before the next backward pass.

        ``set_to_none=True`` (the default, as in PyTorch 2) sets ``grad = None``, so a
        parameter that the next backward does not reach is skipped by ``step()``; with
        ``False`` each gradient is filled with zeros in place (then it *is* updated, e.g.
        by momentum or weight decay).
        """
        for p in self.params:
            if set_to_none or p.grad is None:
                p.grad = None
            elif isinstance(p.grad, Tensor):
                p.grad.data[...] = 0.0
            else:
                p.grad = 0.0

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Apply one update to every parameter that has a gradient, with its group's hyperparameters.

        ``closure`` (optional, as PyTorch's): a function that zeroes the gradients, computes
        the loss, calls ``backward()`` and returns the loss; it runs first (with grad mode
        on) and its loss is returned. Without it, ``step`` returns None.
        """
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        with no_grad():
            for group in self.param_groups:
                for p in group["params"]:
                    g = _grad(p)
                    if g is None:
                        continue
                    i = self._index[id(p)]
                    w = p.data if isinstance(p, Tensor) else np.array(p.data, dtype=np.float64)
                    if g.shape != w.shape:
                        raise ValueError(
                            f"{type(self).__name__}.step: parameter {i} has shape {w.shape} but its gradient has "
                            f"shape {g.shape}"
                        )
                    self._update(w, g, self.state.setdefault(i, {}), group)
                    if isinstance(p, Tensor):
                        # an in-place write, as w -= ... under no_grad: bump the version counter, so a
                        # graph that saved p before this step refuses to backward (versions.check_saved)
                        p._bump_version(f"{type(self).__name__}.step")
                    else:
                        p.data = float(w)
        return loss

    def _update(self, w: np.ndarray, g: np.ndarray, state: dict[str, Any], group: dict[str, Any]) -> None:
        raise NotImplementedError(f"{type(self).__name__} must define _update(w, g, state, group)")

    # ------------------------------------------------------------------ saving

    def state_dict(self) -> dict[str, np.ndarray]:
        """Groups and per-parameter state as a flat ``{name: array}`` dict (copies), savable with ``tinygrad_edu.save``.

        Keys: ``"param_groups.<g>.<option>"`` for each group g and hyperparameter,
        ``"param_groups.<g>.params"`` (the positions of the group's parameters) and
        ``"state.<i>.<name>"`` for parameter i (PyTorch's numbering, flattened).
        """
        out: dict[str, np.ndarray] = {}
        for g, group in enumerate(self.param_groups):
            out[f"param_groups.{g}.params"] = np.array([self._index[id(p)] for p in group["params"]])
            for key in self.defaults:
                out[f"param_groups.{g}.{key}"] = np.array(group[key])
        for i, st in sorted(self.state.items()):
            for key, value in st.items():
                out[f"state.{i}.{key}"] = np.array(value, copy=True)
        return out

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned, for the same parameters and groups.

        Everything is validated as the constructor validates it (a NaN or negative ``lr``,
        betas outside [0, 1), a scalar where a pair belongs, non-numeric or wrongly shaped
        state, unknown keys) and nothing changes unless every check passes. A dict saved
        before param groups existed (plain ``"lr"``, ``"betas"``, ... keys) loads into
        every group.
        """
        name = type(self).__name__
        if not isinstance(state, Mapping):
            raise TypeError(f"{name}.load_state_dict: expected a mapping of name -> array, got {type(state).__name__}")
        groups = self._loaded_groups(state, name)
        new_state: dict[int, dict[str, Any]] = {}
        params = self.params
        for key, value in state.items():
            parts = key.split(".")
            if key in self.defaults or parts[0] == "param_groups":
                continue
            if len(parts) != 3 or parts[0] != "state" or not parts[1].isdigit():
                raise KeyError(f"{name}.load_state_dict: unexpected key {key!r}")
            i, entry = int(parts[1]), parts[2]
            if i >= len(params):
                raise ValueError(f"{name}.load_state_dict: state for parameter {i}, but there are {len(params)}")
            if entry not in self._state_names:
                raise KeyError(
                    f"{name}.load_state_dict: unexpected key {key!r}; {name} keeps {list(self._state_names)}"
                )
            new_state.setdefault(i, {})[entry] = self._loaded_entry(value, key, params[i], name)
        for group, loaded in zip(self.param_groups, groups):
            group.update(loaded)
        self.state = new_state

    def _loaded_groups(self, state: Mapping[str, Any], name: str) -> list[dict[str, Any]]:
        """The validated hyperparameters of each group in ``state`` (legacy flat keys: the same for all)."""
        if not any(key.startswith("param_groups.") for key in state):
            missing = [h for h in self.defaults if h not in state]
            if missing:
                raise KeyError(f"{name}.load_state_dict: missing hyperparameters {missing}")
            legacy = {h: _from_array(state[h], h, name) for h in self.defaults}
            return [self._checked(legacy, f"{name}.load_state_dict") for _ in self.param_groups]
        saved = {int(k.split(".")[1]) for k in state if k.startswith("param_groups.") and k.split(".")[1].isdigit()}
        if saved != set(range(len(self.param_groups))):
            raise ValueError(
                f"{name}.load_state_dict: the state has param groups {sorted(saved)} but this optimiser has "
                f"{len(self.param_groups)} group(s)"
            )
        out = []
        for g, group in enumerate(self.param_groups):
            prefix = f"param_groups.{g}."
            keys = {k[len(prefix):] for k in state if k.startswith(prefix)}
            missing, unexpected = sorted(set(self.defaults) - keys), sorted(keys - set(self.defaults) - {"params"})
            if missing or unexpected:
                raise KeyError(
                    f"{name}.load_state_dict: param group {g}: missing hyperparameters {missing}, "
                    f"unexpected {unexpected}"
                )
            if f"{prefix}params" in state:
                positions = np.asarray(state[f"{prefix}params"])
                if positions.shape != (len(group["params"]),):
                    raise ValueError(
                        f"{name}.load_state_dict: param group {g} was saved with {positions.size} parameters, "
                        f"this optimiser's group {g} has {len(group['params'])}"
                    )
            loaded = {h: _from_array(state[prefix + h], prefix + h, name) for h in self.defaults}
            out.append(self._checked(loaded, f"{name}.load_state_dict (param group {g})"))
        return out

    def _loaded_entry(self, value: Any, key: str, p: Any, name: str) -> Any:
        """One saved state entry, checked: ``step`` a non-negative integer, moments real arrays of p's shape."""
        array = np.array(value, copy=True)
        if array.dtype.kind not in "iuf" or array.dtype == bool:
            raise TypeError(f"{name}.load_state_dict: {key} holds {array.dtype} data; expected real numbers")
        if key.endswith(".step"):
            if array.ndim != 0 or array.dtype.kind not in "iu":
                raise TypeError(f"{name}.load_state_dict: {key} must be one integer (a step count), got {value!r}")
            return check_int(array.item(), key, f"{name}.load_state_dict", minimum=0)
        shape = np.shape(p.data)
        if array.shape != shape:
            raise ValueError(
                f"{name}.load_state_dict: {key} has shape {array.shape} but the parameter has shape {shape}"
            )
        return array.astype(p.data.dtype if isinstance(p, Tensor) else np.float64, copy=False)

    def __repr__(self) -> str:
        def describe(group: dict[str, Any]) -> str:
            return f"{len(group['params'])} parameters, " + ", ".join(f"{h}={group[h]!r}" for h in self.defaults)

        if len(self.param_groups) == 1:
            return f"{type(self).__name__}({describe(self.param_groups[0])})"
        inner = "; ".join(f"group {g}: {describe(group)}" for g, group in enumerate(self.param_groups))
        return f"{type(self).__name__}({inner})"
