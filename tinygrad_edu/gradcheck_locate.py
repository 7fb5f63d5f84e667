"""Localising a failed gradient check: each recorded primitive's backward on its own.

When :func:`tinygrad_edu.gradcheck` fails on a ``Tensor`` graph, every primitive recorded in
the graph is checked alone: its VJP at the inputs it saw, for a random cotangent, against
central differences of its own forward. Those that disagree are the *suspects* of the
report, named by op, primitive class, label and the modules it ran in.
"""

from __future__ import annotations

import numpy as np

from . import engine
from .gradcheck_result import OpCheck, _compare
from .tensor_class import Tensor
from .tensor_class import grad as tensor_grad

__all__ = ["locate_suspects"]


def locate_suspects(
    root: Tensor,
    eps: float,
    atol: float,
    rtol: float,
    seed: int,
    max_elements: int = 4096,
    module_names: dict[int, str] | None = None,
) -> list[OpCheck]:
    """Check each recorded primitive alone: its VJP at the inputs it saw vs differences of its forward."""
    rng = np.random.default_rng(seed)
    suspects = []
    order = engine.topological_order(root)
    for number, node in enumerate(order):
        fn_cls = node._fn
        if not node._parents or fn_cls is None or fn_cls.name == "cast":
            continue  # leaves, released nodes, and dtype casts (a float32 forward cannot be differenced)
        parents = node._parents
        if sum(p.data.size for p in parents if p.requires_grad) > max_elements:
            continue
        params = node._params
        leaves = [Tensor(np.array(p.data, dtype=np.float64), requires_grad=p.requires_grad) for p in parents]
        wanted = [k for k, p in enumerate(parents) if p.requires_grad]
        try:
            out = Tensor._apply(fn_cls, *leaves, **params)
            u = rng.standard_normal(out.shape)
            grads = tensor_grad(out, [leaves[k] for k in wanted], grad_output=u, allow_unused=True)
        except Exception:  # noqa: BLE001 - a primitive that cannot even run its backward is a suspect itself
            continue
        for k, g in zip(wanted, grads):
            analytic = np.zeros(leaves[k].shape) if g is None else np.asarray(g.data, dtype=np.float64)
            if analytic.shape != leaves[k].shape:
                analytic = np.full(leaves[k].shape, np.nan)
            numeric = np.zeros(leaves[k].shape)
            data = leaves[k].data
            for idx in np.ndindex(data.shape):
                saved = data[idx]
                try:
                    data[idx] = saved + eps
                    plus = np.array(fn_cls.forward(*[t.data for t in leaves], **params), dtype=np.float64)
                    data[idx] = saved - eps
                    minus = np.array(fn_cls.forward(*[t.data for t in leaves], **params), dtype=np.float64)
                finally:
                    data[idx] = saved
                with np.errstate(invalid="ignore", over="ignore"):
                    numeric[idx] = np.sum(u * (plus - minus)) / (2.0 * eps)
            cmp = _compare(analytic, numeric, atol, rtol)
            if not cmp["ok"]:
                worst = cmp["worst"]
                suspects.append(
                    OpCheck(
                        node=number,
                        op=node._op,
                        primitive=fn_cls.__name__,
                        kind="tg.Function" if hasattr(fn_cls, "function") else "primitive",
                        label=node.label,
                        scope="/".join(type(s).__name__ for s in getattr(node, "_scope", ())),
                        module=_innermost_module(node, module_names),
                        input=k,
                        input_shape=leaves[k].shape,
                        max_abs_error=cmp["max_abs"],
                        worst_index=worst,
                        worst_analytic=float(analytic[worst]),
                        worst_numeric=float(numeric[worst]),
                    )
                )
    return suspects


def _innermost_module(node: Tensor, module_names: dict[int, str] | None) -> str:
    """The qualified name of the innermost named module an op ran in ("" when unknown)."""
    if not module_names:
        return ""
    for entry in reversed(getattr(node, "_scope", ())):
        name = module_names.get(id(entry))
        if name:
            return name
    return ""
