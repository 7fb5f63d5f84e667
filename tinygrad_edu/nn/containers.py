"""``ModuleList`` and ``ModuleDict``: registered lists and dicts of layers (as ``torch.nn``'s).

A plain Python list of layers assigned to a module attribute is invisible to the registry
(``parameters()``, ``state_dict()``, ``train()``/``eval()``, optimisers): the layers' weights
would never be trained or saved. These containers register every element as a child
module, named by its position (``"0"``, ``"1"``, ...) or its key, so the qualified names
are PyTorch's::

    class Stack(Module):
        def __init__(self):
            super().__init__()
            self.layers = ModuleList([Linear(2, 4), Linear(4, 1)])   # layers.0.weight, layers.1.bias, ...
            self.heads = ModuleDict({"mean": Linear(1, 1)})           # heads.mean.weight, ...

        def forward(self, x):
            for layer in self.layers:
                x = layer(x).tanh()
            return self.heads["mean"](x)

Neither container defines ``forward``: they hold layers, the owner decides how to call them
(:class:`~tinygrad_edu.nn.Sequential` is the container that calls its layers in order).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from .module import Module

__all__ = ["ModuleDict", "ModuleList"]


def _check_module(value: Any, op: str, where: str) -> Module:
    if not isinstance(value, Module):
        raise TypeError(f"{op}: {where} must be a Module, got {type(value).__name__}")
    return value


class ModuleList(Module):
    """A list of modules, each registered as a child named by its position ("0", "1", ...)."""

    def __init__(self, modules: Iterable[Module] | None = None) -> None:
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def _renumber(self, modules: list[Module]) -> None:
        for key in list(self._modules):
            delattr(self, key)
        for i, module in enumerate(modules):
            setattr(self, str(i), module)

    def _index(self, index: int) -> int:
        n = len(self)
        if not isinstance(index, int) or isinstance(index, bool):
            raise TypeError(f"ModuleList: indices must be integers or slices, got {type(index).__name__}")
        if not -n <= index < n:
            raise IndexError(f"ModuleList: index {index} is out of range for {n} modules")
        return index % n

    def append(self, module: Module) -> ModuleList:
        """Add ``module`` at the end; returns self."""
        setattr(self, str(len(self)), _check_module(module, "ModuleList.append", "the value"))
        return self

    def extend(self, modules: Iterable[Module]) -> ModuleList:
        """Append every module of ``modules``; returns self."""
        if isinstance(modules, Module) and not isinstance(modules, ModuleList):
            raise TypeError("ModuleList.extend: expected an iterable of Modules, got a single Module; use append")
        if not isinstance(modules, Iterable):
            raise TypeError(f"ModuleList: expected an iterable of Modules, got {type(modules).__name__}")
        for i, module in enumerate(list(modules)):
            _check_module(module, "ModuleList", f"element {i}")
        for module in list(modules):
            self.append(module)
        return self

    def insert(self, index: int, module: Module) -> None:
        """Insert ``module`` before position ``index`` (the later ones are renumbered)."""
        modules = list(self._modules.values())
        modules.insert(index, _check_module(module, "ModuleList.insert", "the value"))
        self._renumber(modules)

    def __getitem__(self, index: int | slice) -> Any:
        modules = list(self._modules.values())
        if isinstance(index, slice):
            return ModuleList(modules[index])
        return modules[self._index(index)]

    def __setitem__(self, index: int, module: Module) -> None:
        setattr(self, str(self._index(index)), _check_module(module, "ModuleList", "the value"))

    def __delitem__(self, index: int | slice) -> None:
        modules = list(self._modules.values())
        if isinstance(index, slice):
            del modules[index]
        else:
            del modules[self._index(index)]
        self._renumber(modules)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(list(self._modules.values()))

    def __add__(self, other: Iterable[Module]) -> ModuleList:
        return ModuleList([*self, *other])

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(
            "ModuleList has no forward: iterate over it in your module's forward (for layer in self.layers: "
            "x = layer(x)), or use nn.Sequential to call the layers in order"
        )


class ModuleDict(Module):
    """A dict of modules, each registered as a child named by its (string) key, in insertion order."""

    def __init__(self, modules: Mapping[str, Module] | Iterable[tuple[str, Module]] | None = None) -> None:
        super().__init__()
        if modules is not None:
            self.update(modules)

    @staticmethod
    def _key(key: Any) -> str:
        if not isinstance(key, str):
            raise TypeError(f"ModuleDict: keys must be strings, got {key!r} ({type(key).__name__})")
        if not key or "." in key:
            raise KeyError(f"ModuleDict: a key must be a non-empty name without '.', got {key!r}")
        if key in Module.__dict__ or key in ModuleDict.__dict__ or key in ("training", "_parameters", "_modules"):
            raise KeyError(f"ModuleDict: the key {key!r} would hide the method or attribute of the same name")
        return key

    def __getitem__(self, key: str) -> Module:
        if key not in self._modules:
            raise KeyError(f"ModuleDict: no module named {key!r}; the keys are {list(self._modules)}")
        return self._modules[key]

    def __setitem__(self, key: str, module: Module) -> None:
        setattr(self, self._key(key), _check_module(module, "ModuleDict", f"the value for {key!r}"))

    def __delitem__(self, key: str) -> None:
        self[key]  # noqa: B018 -- the clear KeyError
        delattr(self, key)

    def __contains__(self, key: object) -> bool:
        return key in self._modules

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._modules))

    def keys(self) -> list[str]:
        """The keys, in insertion order."""
        return list(self._modules)

    def values(self) -> list[Module]:
        """The modules, in insertion order."""
        return list(self._modules.values())

    def items(self) -> list[tuple[str, Module]]:
        """``(key, module)`` pairs, in insertion order."""
        return list(self._modules.items())

    def pop(self, key: str) -> Module:
        """Remove the module under ``key`` and return it."""
        module = self[key]
        delattr(self, key)
        return module

    def clear(self) -> None:
        """Remove every module."""
        for key in list(self._modules):
            delattr(self, key)

    def update(self, modules: Mapping[str, Module] | Iterable[tuple[str, Module]]) -> None:
        """Add or replace modules from a mapping or from ``(key, module)`` pairs."""
        if not isinstance(modules, (Mapping, Iterable)):
            raise TypeError(f"ModuleDict: expected a mapping or (key, module) pairs, got {type(modules).__name__}")
        pairs = list(modules.items()) if isinstance(modules, Mapping) else list(modules)
        for pair in pairs:
            if not (isinstance(pair, tuple) and len(pair) == 2):
                raise TypeError(f"ModuleDict.update: expected a mapping or (key, module) pairs, got {pair!r}")
        for key, module in pairs:
            self[key] = module

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(
            "ModuleDict has no forward: pick a module by key in your module's forward (self.heads['mean'](x))"
        )
