"""The structure of a drawing: which nodes, in which order, named how, grouped where.

Nothing here knows about Graphviz. :func:`walk` lists every node reachable from the root
(constants included) parents first, with an explicit stack -- never recursion, so a
graph of a million nodes is fine -- and in a fixed order (``_parents`` are tuples), so
node ids ``n0, n1, ...`` and therefore the DOT text are the same on every run.
:func:`build` turns that list into a :class:`GraphModel`: data nodes, op nodes, edges in
forward order, module boxes and clusters, ready for :mod:`tinygrad_edu.viz.draw`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..tensor_class import Tensor
from ..value import Value
from .expression import Expr, cut, formula

__all__ = [
    "NON_COMMUTATIVE_OPS",
    "SHAPE_OPS",
    "DataNode",
    "Edge",
    "GraphModel",
    "ModuleBox",
    "OpNode",
    "Summary",
    "build",
    "check_root",
    "longest_path",
    "summarize",
    "walk",
]

#: Ops that only move or re-type elements; ``hide_shape_ops=True`` draws straight through them.
SHAPE_OPS = frozenset({"reshape", "expand", "permute", "cast"})

#: Ops whose argument order matters: their input edges are labelled x, y, (cond).
NON_COMMUTATIVE_OPS = frozenset({"-", "/", "**", "sub", "div", "pow", "matmul", "where"})

ROLES = ("input", "parameter", "intermediate", "output")


def check_root(root: Any, op: str) -> None:
    """Raise a clear ``TypeError`` unless ``root`` is a ``Value`` or a ``Tensor``."""
    if not isinstance(root, (Value, Tensor)):
        raise TypeError(
            f"{op}: expected a tinygrad_edu Value or Tensor (the output of a computation), "
            f"got {type(root).__name__}: {root!r:.80}"
        )


def walk(root: Any) -> list[Any]:
    """Every node reachable from ``root`` through ``_parents``, parents before children.

    Unlike the engine's order this keeps constants (parents that do not require grad),
    because a drawing should show ``2 * x``'s ``2``. Iterative depth-first search: each
    node is pushed once to be expanded and once more to be emitted after its parents.
    """
    order: list[Any] = []
    visited: set[int] = set()
    stack: list[tuple[Any, bool]] = [(root, False)]
    while stack:
        node, parents_done = stack.pop()
        if parents_done:
            order.append(node)
            continue
        if id(node) in visited:
            continue
        visited.add(id(node))
        stack.append((node, True))
        for parent in reversed(node._parents):
            if id(parent) not in visited:
                stack.append((parent, False))
    return order


def longest_path(order: list[Any]) -> int:
    """The number of ops on the longest leaf-to-root path (``order`` must be parents first)."""
    depth: dict[int, int] = {}
    best = 0
    for node in order:
        d = 1 + max((depth[id(p)] for p in node._parents), default=-1) if node._parents else 0
        depth[id(node)] = d
        best = max(best, d)
    return best


# ----------------------------------------------------------------------------- model


@dataclass
class DataNode:
    """A value/tensor box in the drawing."""

    id: str
    node: Any
    index: int  # position in :func:`walk`'s order: the "#index" shown for unnamed nodes
    name: str
    role: str  # one of ROLES
    path: tuple[Any, ...] = ()  # module path (after dropping ``model``), truncated to ``depth``


@dataclass
class OpNode:
    """The op that produced ``output`` (drawn as an ellipse)."""

    id: str
    output: Any
    op: str
    path: tuple[Any, ...] = ()
    formula: str = ""  # with fold_unnamed: the op written in terms of the named nodes it folds


@dataclass
class Edge:
    tail: str
    head: str
    label: str = ""


@dataclass
class ModuleBox:
    """All nodes a module made (and the parameters it owns), collapsed into one box."""

    id: str
    path: tuple[Any, ...]
    name: str
    module: Any
    members: list[DataNode] = field(default_factory=list)
    n_ops: int = 0


@dataclass
class GraphModel:
    root: Any
    kind: str  # "value" or "tensor"
    data: list[DataNode]
    ops: list[OpNode]
    edges: list[Edge]
    boxes: list[ModuleBox]
    module_names: dict[int, str]  # id(module) -> display name
    cluster_paths: list[tuple[Any, ...]]  # every module path that needs a cluster, outer first
    element_cluster: dict[str, tuple[Any, ...]]  # drawn element id -> cluster path it sits in
    order: list[Any]
    boxed: set[str] = field(default_factory=set)  # ids of data/op nodes hidden inside a module box

    @property
    def n_drawn(self) -> int:
        """Nodes Graphviz would lay out: data and op nodes outside boxes, plus the boxes."""
        return len(self.data) + len(self.ops) - len(self.boxed) + len(self.boxes)


# ----------------------------------------------------------------------------- names, roles, modules


def _named_parameters(model: Any) -> dict[int, str]:
    if model is None:
        return {}
    if not hasattr(model, "named_parameters"):
        raise TypeError(f"draw_graph: model= must have named_parameters() (an nn.Module), got {type(model).__name__}")
    names: dict[int, str] = {}
    for name, param in model.named_parameters():
        names.setdefault(id(param), name)
    return names


def _module_names(model: Any) -> dict[int, tuple[str, Any]]:
    """id(module) -> (qualified name, module) from ``model.named_modules()``."""
    if model is None or not hasattr(model, "named_modules"):
        return {}
    out: dict[int, tuple[str, Any]] = {}
    for name, module in model.named_modules():
        out.setdefault(id(module), (name, module))
    return out


def _label(node: Any) -> str:
    """The node's ``label`` as text ("" for none): a number given as a label is drawn as that number."""
    label = node.label
    return "" if label is None or label == "" else str(label)


def _role(node: Any, root: Any, param_ids: dict[int, str]) -> str:
    if node is root:
        return "output"
    if node._parents:
        return "intermediate"
    if id(node) in param_ids or node.requires_grad:
        return "parameter"
    return "input"


def _scope_path(node: Any, model: Any) -> tuple[Any, ...]:
    path = tuple(getattr(node, "_scope", ()) or ())
    if model is not None and path and path[0] is model:
        path = path[1:]
    return path


def build(
    root: Any,
    *,
    model: Any = None,
    hide_shape_ops: bool = False,
    show_constants: bool = True,
    collapse: str | None = None,
    depth: int | None = 1,
    fold_unnamed: bool = False,
) -> GraphModel:
    """Decide what to draw (see :func:`tinygrad_edu.viz.draw_graph` for the options)."""
    order = walk(root)
    param_names = _named_parameters(model)
    registered = _module_names(model)
    folded = _fold(order, root, param_names) if fold_unnamed else None

    # --- which nodes are drawn, and which are drawn "through" (hidden shape-only ops)
    through: dict[int, tuple[Any, tuple[str, ...]]] = {}  # id(hidden node) -> (visible ancestor, ops skipped)
    for node in order:
        if (
            hide_shape_ops
            and node is not root
            and node._op in SHAPE_OPS
            and len(node._parents) == 1
        ):
            parent = node._parents[0]
            ancestor, ops = through.get(id(parent), (parent, ()))
            through[id(node)] = (ancestor, ops + (node._op,))

    def visible(node: Any) -> bool:
        if folded is not None:
            return id(node) in folded.kept
        if id(node) in through:
            return False
        return show_constants or bool(node._parents) or node.requires_grad

    # --- module paths
    full_paths: dict[int, tuple[Any, ...]] = {id(n): _scope_path(n, model) for n in order if n._parents}
    owner_of: dict[int, Any] = {}  # id(param) -> owning module object
    for pid, name in param_names.items():
        owner_name = name.rpartition(".")[0]
        for _mid, (mname, module) in registered.items():
            if mname == owner_name:
                owner_of[pid] = module
                break
    for node in order:  # a parameter sits where its owner ran, found through its first consumer
        for parent in node._parents:
            ancestor = through.get(id(parent), (parent, ()))[0]
            owner = owner_of.get(id(ancestor))
            if owner is None or id(ancestor) in full_paths:
                continue
            path = full_paths.get(id(node), ())
            for k, entry in enumerate(path):
                if entry is owner:
                    full_paths[id(ancestor)] = path[: k + 1]
                    break

    def truncated(path: tuple[Any, ...]) -> tuple[Any, ...]:
        return path if depth is None else path[:depth]

    # --- display names of modules: qualified names from the model, else class names numbered by appearance
    module_names: dict[int, str] = {}
    seen_classes: Counter[str] = Counter()
    for node in order:
        for entry in full_paths.get(id(node), ()):
            if id(entry) in module_names:
                continue
            if id(entry) in registered:
                qual = registered[id(entry)][0]
                cls = type(entry).__name__
                module_names[id(entry)] = f"{qual}: {cls}" if qual else cls
            else:
                cls = type(entry).__name__
                seen_classes[cls] += 1
                module_names[id(entry)] = cls if seen_classes[cls] == 1 else f"{cls} ({seen_classes[cls]})"

    # --- data and op nodes in forward order
    data: list[DataNode] = []
    ops: list[OpNode] = []
    edges: list[Edge] = []
    data_by_id: dict[int, DataNode] = {}
    for index, node in enumerate(order):
        if not visible(node):
            continue
        name = param_names.get(id(node)) or _label(node)
        path = truncated(full_paths.get(id(node), ()))
        item = DataNode(f"n{index}", node, index, name, _role(node, root, param_names), path)
        data.append(item)
        data_by_id[id(node)] = item
        if not node._parents:
            continue
        op_node = OpNode(f"op{index}", node, node._op, path)
        ops.append(op_node)
        if folded is not None:  # one op per named node, from the named nodes it was computed from
            op_node.formula = folded.op_formula[id(node)]
            edges.extend(Edge(data_by_id[id(s)].id, op_node.id) for s in folded.sources_of_op[id(node)])
            edges.append(Edge(op_node.id, item.id))
            continue
        arg_names = ("x", "y", "cond") if node._op in NON_COMMUTATIVE_OPS and len(node._parents) > 1 else ()
        for k, parent in enumerate(node._parents):
            ancestor, skipped = through.get(id(parent), (parent, ()))
            src = data_by_id.get(id(ancestor))
            if src is None:
                continue
            parts = [arg_names[k]] if k < len(arg_names) else []
            parts += list(skipped)
            edges.append(Edge(src.id, op_node.id, ": ".join(parts) if len(parts) > 1 else "".join(parts)))
        edges.append(Edge(op_node.id, item.id))

    # --- collapsing into module boxes / clusters
    boxes: list[ModuleBox] = []
    element_cluster: dict[str, tuple[Any, ...]] = {}
    box_of: dict[str, ModuleBox] = {}
    if collapse is not None:
        if collapse == "box":
            assert depth is not None
            by_path: dict[tuple[int, ...], ModuleBox] = {}
            elements: list[tuple[str, tuple[Any, ...], DataNode | None]] = [(d.id, d.path, d) for d in data]
            elements += [(o.id, o.path, None) for o in ops]
            # a module with submodules in the drawing above level ``depth`` stays a cluster; a module
            # without any (e.g. an activation at level 1 when depth=2) is a box at its own level
            has_children = {tuple(id(m) for m in path[:k]) for _, path, _ in elements for k in range(len(path))}
            for eid, path, d in elements:
                level = min(depth, len(path))
                if level == 0 or (level < depth and tuple(id(m) for m in path) in has_children):
                    continue
                key = tuple(id(m) for m in path[:level])
                box = by_path.get(key)
                if box is None:
                    module = path[level - 1]
                    box = ModuleBox(f"m{len(by_path)}", path[:level], module_names.get(id(module), ""), module)
                    by_path[key] = box
                    boxes.append(box)
                box_of[eid] = box
                if d is not None:
                    box.members.append(d)
                else:
                    box.n_ops += 1
            for box in boxes:
                element_cluster[box.id] = box.path[:-1]
            # redirect edges to boxes; drop edges inside a box; keep the first of duplicates
            seen: set[tuple[str, str]] = set()
            new_edges: list[Edge] = []
            for e in edges:
                tail = box_of[e.tail].id if e.tail in box_of else e.tail
                head = box_of[e.head].id if e.head in box_of else e.head
                if tail == head or (tail, head) in seen:
                    continue
                seen.add((tail, head))
                new_edges.append(Edge(tail, head, e.label if tail == e.tail and head == e.head else ""))
            edges = new_edges
        for d in data:
            if d.id not in box_of:
                element_cluster[d.id] = d.path
        for o in ops:
            if o.id not in box_of:
                element_cluster[o.id] = o.path
    cluster_paths: list[tuple[Any, ...]] = []
    seen_paths: set[tuple[int, ...]] = set()
    for path in element_cluster.values():
        for k in range(1, len(path) + 1):
            key = tuple(id(m) for m in path[:k])
            if key not in seen_paths:
                seen_paths.add(key)
                cluster_paths.append(path[:k])

    kind = "value" if isinstance(root, Value) else "tensor"
    return GraphModel(
        root, kind, data, ops, edges, boxes, module_names, cluster_paths, element_cluster, order, set(box_of)
    )


# ----------------------------------------------------------------------------- folding unnamed nodes


@dataclass
class _Folding:
    kept: set[int]  # ids of the nodes drawn: the root, named nodes and parameters
    op_formula: dict[int, str]  # id(kept non-leaf) -> its op written over named nodes
    sources_of_op: dict[int, list[Any]]  # id(kept non-leaf) -> the kept nodes it was computed from


def _fold(order: list[Any], root: Any, param_names: dict[int, str]) -> _Folding:
    """Keep the root, the named nodes and the parameters; fold everything else into formulas.

    A folded constant becomes its number in the formula (``1 - a``); a folded intermediate
    becomes the formula of its op (``w1*x1``), so each kept node's op reads as the lectures
    write it: ``z = w1*x1 + w2*x2 + b``. Walks ``order`` (parents first) once, no recursion.
    """
    kept: set[int] = set()
    text: dict[int, Expr] = {}  # id(node) -> how the node reads inside a formula
    sources: dict[int, list[Any]] = {}  # id(node) -> kept nodes it depends on (first-seen order)
    op_formula: dict[int, str] = {}
    sources_of_op: dict[int, list[Any]] = {}
    for index, node in enumerate(order):
        name = param_names.get(id(node)) or _label(node)
        if node is root or name or (not node._parents and node.requires_grad):
            kept.add(id(node))
        if node._parents:
            operands = [text[id(p)] for p in node._parents]
            merged: dict[int, Any] = {}
            for p in node._parents:
                merged.update((id(s), s) for s in sources[id(p)])
            expr = formula(node._op, operands)
        else:
            expr, merged = _constant_text(node, index), {}
        if id(node) in kept:
            if node._parents:
                op_formula[id(node)] = cut(expr[0])
                sources_of_op[id(node)] = list(merged.values())
            text[id(node)] = (name or f"#{index}", 5)
            sources[id(node)] = [node]
        else:
            text[id(node)] = expr
            sources[id(node)] = list(merged.values())
    return _Folding(kept, op_formula, sources_of_op)


def _constant_text(node: Any, index: int) -> Expr:
    """A folded leaf inside a formula: its number if it has one element, else ``#index``."""
    data = node.data
    if np.size(data) == 1:
        number = float(np.asarray(data).reshape(-1)[0])
        return (f"{number:g}", 5 if number >= 0 else 3)
    return (f"#{index}", 5)


# ----------------------------------------------------------------------------- summary of huge graphs


@dataclass
class Summary:
    """Counts that describe a graph too large to draw."""

    n_data: int
    n_ops: int
    n_leaves: int
    n_constants: int
    n_parameters: int
    n_parameter_elements: int
    depth: int
    op_counts: list[tuple[str, int]]
    root_description: str
    n_modules: int = 0  # distinct modules that ran (from the nodes' scopes)
    n_shape_ops: int = 0  # reshape/expand/permute/cast nodes


def summarize(order: list[Any], root: Any, model: Any = None) -> Summary:
    """Counts by op, the longest path and the parameter count of a walked graph."""
    param_ids = _named_parameters(model)
    op_counts = Counter(n._op for n in order if n._parents)
    leaves = [n for n in order if not n._parents]
    params = [n for n in leaves if id(n) in param_ids or n.requires_grad]
    elements = sum(int(np.size(n.data)) for n in params)
    if isinstance(root, Tensor):
        desc = f"Tensor {tuple(root.shape)} {root.dtype}, op {root._op or 'leaf'}"
    else:
        desc = f"Value {root.data:.6g}, op {root._op or 'leaf'}"
    return Summary(
        n_data=len(order),
        n_ops=sum(op_counts.values()),
        n_leaves=len(leaves),
        n_constants=len(leaves) - len(params),
        n_parameters=len(params),
        n_parameter_elements=elements,
        depth=longest_path(order),
        op_counts=sorted(op_counts.items(), key=lambda kv: (-kv[1], kv[0])),
        root_description=desc,
        n_modules=len({id(m) for n in order for m in (getattr(n, "_scope", ()) or ())}),
        n_shape_ops=sum(count for op, count in op_counts.items() if op in SHAPE_OPS),
    )
