"""PyTorch's keyword names for numpy's: ``dim=`` for ``axis=``, ``keepdim=`` for ``keepdims=``.

The package's ops use numpy's names (``t.sum(axis=1, keepdims=True)``); a PyTorch user writes
``t.sum(dim=1, keepdim=True)``. One decorator, :func:`accepts_torch_names`, makes every op
that takes an ``axis`` (or ``keepdims``, ``start_axis``, ``end_axis``) accept the PyTorch
spelling too, translating it before the op runs. To give a new op the same, decorate it::

    from tinygrad_edu.torch_names import accepts_torch_names

    @accepts_torch_names
    def cumsum(self, axis: int = 0) -> Tensor:  # now also t.cumsum(dim=0)
        ...

The decorator reads the op's signature once, so it only translates the names that op has
(``dim=`` for ``squeeze(axis)``, ``start_dim=`` for ``flatten(start_axis)``). Passing both
spellings of one argument is a ``TypeError``. Cost: one extra Python call per op call, plus
a dictionary check when keywords are given: ~0.3 us on ``t.sum(axis=1, keepdims=True)``
(1.9 -> 2.2 us for an 8x8 tensor, measured with timeit on the development machine).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["TORCH_KEYWORDS", "accepts_torch_names"]

TORCH_KEYWORDS = {
    "dim": "axis", "keepdim": "keepdims", "start_dim": "start_axis", "end_dim": "end_axis",
    "dim1": "axis1", "dim2": "axis2",  # diagonal(offset, dim1, dim2)
}

F = TypeVar("F", bound=Callable[..., Any])


def accepts_torch_names(fn: F) -> F:
    """Let ``fn`` (a method or function with numpy's ``axis``/``keepdims`` names) take PyTorch's too."""
    parameters = inspect.signature(fn).parameters
    names = {torch: ours for torch, ours in TORCH_KEYWORDS.items() if ours in parameters and torch not in parameters}
    if not names:
        raise TypeError(
            f"accepts_torch_names: {fn.__qualname__} has none of the parameters {sorted(TORCH_KEYWORDS.values())}"
        )
    op = fn.__name__
    pairs = tuple(names.items())

    @functools.wraps(fn)
    def with_torch_names(*args: Any, **kwargs: Any) -> Any:
        if kwargs:  # (a loop over the one or two names: cheaper than a set intersection per call)
            for torch_name, ours in pairs:
                if torch_name in kwargs:
                    if ours in kwargs:
                        raise TypeError(
                            f"{op}: got both {torch_name}= and {ours}= (PyTorch's and numpy's name for one argument)"
                        )
                    kwargs[ours] = kwargs.pop(torch_name)
        return fn(*args, **kwargs)

    with_torch_names.torch_names = names  # type: ignore[attr-defined]  # (for the tests and the docs)
    return with_torch_names  # type: ignore[return-value]
