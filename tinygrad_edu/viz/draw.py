"""``draw_graph``: a computation graph as a Graphviz picture.

Data nodes are rounded boxes (name, value or tensor statistics, gradient), op nodes are
grey ellipses, edges run in forward order (inputs -> op -> result). Labels are
Graphviz HTML-like labels built from escaped text, so a label such as ``"<a|{b}>"``
cannot break the DOT syntax.
"""

from __future__ import annotations

import html
import math
import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..value import Value
from .graph import ModuleBox, build, check_root, summarize
from .render import Graph
from .text import array_stats, fmt, grad_magnitude, graph_text, short_repr

__all__ = ["draw_graph", "render", "ROLE_COLORS", "grad_color"]

FONT = "Helvetica"

#: (fill, border) of data nodes by role when ``color_by="role"``.
ROLE_COLORS = {
    "input": ("#dbeafe", "#2563eb"),
    "parameter": ("#dcfce7", "#16a34a"),
    "intermediate": ("#ffffff", "#6b7280"),
    "output": ("#fee2e2", "#dc2626"),
}
ROLE_TITLES = {
    "input": "input / constant",
    "parameter": "parameter (leaf, requires grad)",
    "intermediate": "intermediate",
    "output": "output / loss",
}
OP_COLORS = ("#f3f4f6", "#9ca3af")
BOX_COLORS = ("#ede9fe", "#7c3aed")
CLUSTER_COLORS = ("#faf5ff", "#a78bfa")
MUTED = "#6b7280"
ALERT = "#b91c1c"

# A blue -> pale yellow -> red scale (small -> healthy -> large gradients), anchors on [0, 1].
_SCALE = [(0.0, (49, 54, 149)), (0.25, (116, 173, 209)), (0.5, (255, 255, 191)), (0.75, (244, 109, 67)),
          (1.0, (165, 0, 38))]
ZERO_GRAD_COLOR = "#1e1b4b"
NO_GRAD_COLOR = "#e5e7eb"


def grad_color(magnitude: float | None, grad_range: tuple[float, float]) -> tuple[str, str]:
    """(fill, font colour) for a gradient magnitude on a log10 scale over ``grad_range``.

    ``None`` (no gradient computed) is light grey; exactly 0 is the darkest colour.
    """
    if magnitude is None:
        return NO_GRAD_COLOR, "#111827"
    if magnitude == 0:
        return ZERO_GRAD_COLOR, "#ffffff"
    lo, hi = math.log10(grad_range[0]), math.log10(grad_range[1])
    t = 1.0 if math.isinf(magnitude) or math.isnan(magnitude) else (math.log10(magnitude) - lo) / (hi - lo)
    t = min(max(t, 0.0), 1.0)
    for (t0, c0), (t1, c1) in zip(_SCALE, _SCALE[1:]):
        if t <= t1:
            w = (t - t0) / (t1 - t0)
            rgb = tuple(round(a + (b - a) * w) for a, b in zip(c0, c1))
            break
    luminance = 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2]
    return f"#{rgb[0]:02x}{rgb[1]:02x}{rgb[2]:02x}", ("#ffffff" if luminance < 120 else "#111827")


# ----------------------------------------------------------------------------- HTML labels


def _on_fill(label: str, fill: str, font: str) -> str:
    """Keep every text colour of a label readable on a coloured (gradient-scale) fill."""
    if font == "#ffffff":  # dark fill: light text, light red for alerts
        return (label.replace(f'COLOR="{MUTED}"', 'COLOR="#e5e7eb"').replace('COLOR="#111827"', 'COLOR="#ffffff"')
                .replace(f'COLOR="{ALERT}"', 'COLOR="#fecaca"'))
    if fill.lower() not in ("#ffffff", "white", ROLE_COLORS["intermediate"][0], BOX_COLORS[0], NO_GRAD_COLOR):
        return label.replace(f'COLOR="{MUTED}"', 'COLOR="#374151"')  # mid grey vanishes on orange/red
    return label


def _plural(n: int, word: str, plural: str | None = None) -> str:
    return f"{n:,} {word if n == 1 else (plural or word + 's')}"


# C0/C1 control characters (NUL, ESC, ...): Graphviz rejects them in a label, so they are
# shown as the escape a Python user would type ("\\x1b") instead.
_CONTROL_CHARS = {c: f"\\x{c:02x}" for c in (*range(0x20), *range(0x7F, 0xA0))}


def _esc(text: object) -> str:
    """``text`` safe inside an HTML-like label: markup escaped, control characters made visible."""
    return html.escape(str(text).translate(_CONTROL_CHARS), quote=True)


def _cut(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _table(rows: Sequence[str]) -> str:
    body = "".join(f"<TR><TD>{r}</TD></TR>" for r in rows)
    return f'<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="1">{body}</TABLE>>'


def _small(text: str, color: str = MUTED) -> str:
    return f'<FONT POINT-SIZE="9" COLOR="{color}">{text}</FONT>'


def _value_rows(node: Any, show_values: bool, show_grads: bool, p: int) -> list[str]:
    rows = []
    if show_values:
        rows.append(f"data {_esc(fmt(node.data, p))}")
    if show_grads and node.requires_grad:
        if node.grad is None:
            rows.append(_small("grad: none (not computed)"))
        elif node.grad == 0:
            rows.append(f'<FONT COLOR="{ALERT}">grad = 0</FONT>')
        else:
            rows.append(f"grad {_esc(fmt(node.grad, p))}")
    return rows


def _tensor_rows(node: Any, show_values: bool, show_shapes: bool, show_grads: bool, p: int) -> list[str]:
    rows = []
    data = node.data
    if show_shapes:
        rows.append(_small(_esc(f"{tuple(data.shape)} {data.dtype}")))
    if show_values:
        s = array_stats(data)
        if data.size == 1:
            rows.append(f"value {_esc(fmt(float(data.reshape(-1)[0]), p))}")
        elif s.n_nan + s.n_inf < s.size:
            rows.append(_esc(f"mean {fmt(s.mean, p)}  min {fmt(s.min, p)}  max {fmt(s.max, p)}"))
            rows.append(_esc(f"norm {fmt(s.norm, p)}"))
        if s.n_nan or s.n_inf:
            rows.append(f'<FONT COLOR="{ALERT}"><B>{_esc(f"NaN: {s.n_nan}  inf: {s.n_inf}")}</B></FONT>')
    if show_grads and node.requires_grad:
        g = node.grad
        if g is None:
            rows.append(_small("grad: none (not computed)"))
        else:
            gs = array_stats(g.data)
            if gs.all_zero:
                rows.append(f'<FONT COLOR="{ALERT}">grad = 0{" (all zeros)" if gs.size > 1 else ""}</FONT>')
            elif gs.size == 1:
                rows.append(f"grad {_esc(fmt(float(g.data.reshape(-1)[0]), p))}")
            else:
                absmax = max(abs(gs.min), abs(gs.max))
                rows.append(_esc(f"grad norm {fmt(gs.norm, p)}  max|g| {fmt(absmax, p)}"))
            if gs.n_nan or gs.n_inf:
                rows.append(f'<FONT COLOR="{ALERT}"><B>{_esc(f"grad NaN: {gs.n_nan}  inf: {gs.n_inf}")}</B></FONT>')
    return rows


_OP_PARAMS = ("axis", "shape", "axes", "exponent", "dtype", "pad_width")

#: The lectures' formula shown under a fused op's name (one node stands for several steps).
_OP_FORMULAS = {
    "linear": "Z = A W^T + b",
    "softmax_cross_entropy": "dZ[L] = A[L] - Y",
    "mse_loss": "dJ/dA = (2/m)(A - Y)",
}


def _op_label(node: Any, formula: str = "") -> str:
    if formula:  # fold_unnamed: the op written over the named nodes it folds
        return _table([f"<B>{_esc(formula)}</B>", _small(_esc(node._op))])
    rows = [f"<B>{_esc(_cut(node._op, 24))}</B>"]
    if node._op in _OP_FORMULAS:
        rows.append(_small(_esc(_OP_FORMULAS[node._op])))
    params = getattr(node, "_params", None) or {}
    for key in _OP_PARAMS:
        if key in params and params[key] is not None:
            rows.append(_small(_esc(f"{key}={short_repr(params[key])}")))
    if params.get("keepdims"):
        rows.append(_small("keepdims"))
    return _table(rows)


def _box_label(box: ModuleBox, show_grads: bool, p: int) -> str:
    rows = [f"<B>{_esc(_cut(box.name or type(box.module).__name__, 48))}</B>"]
    params = [m for m in box.members if m.role == "parameter"]
    rows.append(_small(_esc(f"{_plural(len(box.members) - len(params), 'tensor')}, {_plural(box.n_ops, 'op')}")))
    for m in params:
        shape = tuple(m.node.data.shape) if hasattr(m.node.data, "shape") else ()
        text = f"{_cut(m.name.rpartition('.')[2] or m.name or '#' + str(m.index), 24)} {shape}"
        if show_grads:
            mag = grad_magnitude(m.node)
            text += "  grad none" if mag is None else f"  grad rms {fmt(mag, p)}"
        rows.append(_small(_esc(text), "#111827"))
    if show_grads and not params and box.members:  # e.g. an activation: the gradient at its output
        mag = grad_magnitude(box.members[-1].node)
        rows.append(_small("output grad none" if mag is None else _esc(f"output grad rms {fmt(mag, p)}"), "#111827"))
    return _table(rows)


# ----------------------------------------------------------------------------- legend


def _legend(color_by: str | None, grad_range: tuple[float, float]) -> str:
    cells = []
    if color_by == "grad":
        lo, hi = int(math.floor(math.log10(grad_range[0]))), int(math.ceil(math.log10(grad_range[1])))
        step = max(1, (hi - lo) // 6)
        row = []
        for e in range(lo, hi + 1, step):
            fill, font = grad_color(10.0**e, grad_range)
            row.append(f'<TD BGCOLOR="{fill}"><FONT COLOR="{font}" POINT-SIZE="9">1e{e}</FONT></TD>')
        fill0, font0 = grad_color(0.0, grad_range)
        row.append(f'<TD BGCOLOR="{fill0}"><FONT COLOR="{font0}" POINT-SIZE="9">0</FONT></TD>')
        row.append(f'<TD BGCOLOR="{NO_GRAD_COLOR}"><FONT POINT-SIZE="9">none</FONT></TD>')
        cells.append(f'<TR><TD COLSPAN="{len(row)}"><B>gradient RMS (log scale)</B></TD></TR>')
        cells.append("<TR>" + "".join(row) + "</TR>")
        cells.append(f'<TR><TD COLSPAN="{len(row)}">{_small("small = vanishing, large = exploding")}</TD></TR>')
    else:
        cells.append("<TR><TD><B>node colours</B></TD></TR>")
        for role, (fill, border) in ROLE_COLORS.items():
            cells.append(f'<TR><TD BGCOLOR="{fill}" COLOR="{border}" BORDER="1">{ROLE_TITLES[role]}</TD></TR>')
        cells.append(f'<TR><TD BGCOLOR="{OP_COLORS[0]}" BORDER="1" COLOR="{OP_COLORS[1]}">op</TD></TR>')
        cells.append(f"<TR><TD>{_small('dashed border: grad not computed')}</TD></TR>")
    return f'<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="2" CELLPADDING="3">{"".join(cells)}</TABLE>>'


# ----------------------------------------------------------------------------- draw_graph


def _check_options(rankdir: str, collapse: str | None, depth: int | None, color_by: str | None,
                   grad_range: tuple[float, float], max_nodes: int | None) -> None:
    if rankdir not in ("LR", "TB", "RL", "BT"):
        raise ValueError(f"draw_graph: rankdir must be 'LR', 'TB', 'RL' or 'BT', got {rankdir!r}")
    if collapse not in (None, "cluster", "box"):
        raise ValueError(f"draw_graph: collapse must be None, 'cluster' or 'box', got {collapse!r}")
    if depth is not None and (not isinstance(depth, int) or depth < 1):
        raise ValueError(f"draw_graph: depth must be a positive int (module nesting levels) or None, got {depth!r}")
    if collapse == "box" and depth is None:
        raise ValueError("draw_graph: collapse='box' needs an int depth (which module level becomes a box)")
    if color_by not in (None, "role", "grad"):
        raise ValueError(f"draw_graph: color_by must be 'role', 'grad' or None, got {color_by!r}")
    lo, hi = grad_range
    if not (0 < lo < hi):
        raise ValueError(f"draw_graph: grad_range must be (low, high) with 0 < low < high, got {grad_range!r}")
    if max_nodes is not None and (not isinstance(max_nodes, int) or max_nodes < 1):
        raise ValueError(f"draw_graph: max_nodes must be a positive int or None, got {max_nodes!r}")


def _new_graph(rankdir: str, title: str | None) -> Graph:
    g = Graph(name="computation_graph", format="svg")
    g.attr("graph", rankdir=rankdir, bgcolor="white", fontname=FONT, nodesep="0.25", ranksep="0.35")
    if title:
        g.attr("graph", label=f"<<B>{_esc(title)}</B>>", labelloc="t", fontsize="14")
    g.attr("node", fontname=FONT, fontsize="11", margin="0.08,0.04")
    g.attr("edge", fontname=FONT, fontsize="9", color="#4b5563", arrowsize="0.7", fontcolor=MUTED)
    return g


def _summary_graph(root: Any, order: list[Any], model: Any, n_drawn: int, max_nodes: int, rankdir: str,
                   title: str | None) -> Graph:
    s = summarize(order, root, model)
    g = _new_graph(rankdir, title)
    data_word = "value" if isinstance(root, Value) else "tensor"
    facts = [
        f"Graph too large to draw: {n_drawn:,} nodes (max_nodes={max_nodes:,})",
        f"output: {s.root_description}",
        f"{_plural(s.n_data, data_word)}, {_plural(s.n_ops, 'op')}, longest path {_plural(s.depth, 'op')}",
        f"{_plural(s.n_leaves, 'leaf', 'leaves')}: "
        f"{_plural(s.n_parameters, 'parameter')} ({_plural(s.n_parameter_elements, 'number')}), "
        f"{_plural(s.n_constants, 'input')}/constants",
    ]
    rows = [f"<B>{_esc(facts[0])}</B>"] + [_esc(f) for f in facts[1:]] + ["<B>ops by count</B>"]
    for op, count in s.op_counts[:15]:
        rows.append(_esc(f"{op}: {count:,}"))
    if len(s.op_counts) > 15:
        rows.append(_small(_esc(f"... and {_plural(len(s.op_counts) - 15, 'more op')}")))
    hint = "Pass max_nodes=None to draw everything"
    hint += ", collapse='box' to fold modules" if s.n_modules else ""
    hint += ", or hide_shape_ops=True" if s.n_shape_ops else ""
    rows.append(_small(_esc(hint + ".")))
    g.node("summary", _table(rows), shape="box", style="rounded,filled", fillcolor="#fef9c3", color="#ca8a04")
    lines = facts + [f"  {op}: {count:,}" for op, count in s.op_counts]
    g.text = "\n".join(lines)
    g.summary = s  # type: ignore[attr-defined]
    return g


def draw_graph(
    root: Any,
    *,
    rankdir: str = "LR",
    show_values: bool = True,
    show_grads: bool | None = None,
    show_shapes: bool = True,
    model: Any = None,
    collapse: str | None = None,
    depth: int | None = 1,
    color_by: str | None = "role",
    grad_range: tuple[float, float] = (1e-6, 1e2),
    hide_shape_ops: bool = False,
    show_constants: bool = True,
    fold_unnamed: bool = False,
    max_nodes: int | None = 500,
    precision: int = 4,
    legend: bool | None = None,
    title: str | None = None,
) -> Graph:
    """Draw the computation graph that produced ``root`` (a ``Value`` or a ``Tensor``).

    Returns a :class:`~tinygrad_edu.viz.render.Graph` (a ``graphviz.Digraph``): ``.source``
    is the DOT text, ``.render("graph.svg")`` writes a picture, and in Jupyter it displays itself.

    Options:

    * ``rankdir``: "LR" (left to right, default) or "TB" (top to bottom).
    * ``show_values`` / ``show_shapes``: the value of a scalar; for tensors shape, dtype,
      mean/min/max/norm and a NaN/inf count.
    * ``show_grads``: the gradient (tensors: its norm and max |g|). ``None`` (default) shows
      them once any node has one. "grad: none" (dashed border) means no gradient was
      computed; "grad = 0" means it was computed and is zero.
    * ``model``: an ``nn.Module`` whose ``named_parameters()`` name the parameter nodes
      ("layers.0.weight") and whose ``named_modules()`` name the clusters.
    * ``collapse``: ``"cluster"`` frames the nodes each module made, nested up to ``depth``
      levels; ``"box"`` folds each module at level ``depth`` into one box listing its
      parameters. ``model`` itself (the outermost module) is not a level.
    * ``color_by``: ``"role"`` (input, parameter, intermediate, output), ``"grad"`` (fill by the
      gradient's RMS on a log scale over ``grad_range``: blue = vanishing, red = exploding;
      the border keeps the role colour) or ``None``. ``legend`` (default: on for "grad").
    * ``hide_shape_ops``: draw straight through reshape/expand/permute/cast (the edge says which).
    * ``show_constants``: draw leaves that do not require grad (inputs, numbers like the 2 in 2*x).
    * ``fold_unnamed``: draw only the output, the named nodes (``label``, parameter names) and
      the parameters, as the lectures' graphs do; each kept node's op is labelled with the
      formula it folds, written over named nodes (``w1*x1 + w2*x2 + b``), constants as numbers.
    * ``max_nodes``: above this many drawn nodes, draw a summary (counts by op, longest path,
      parameters) instead; ``None`` draws everything.
    * ``precision``: significant digits of numbers; ``title``: a caption.
    """
    check_root(root, "draw_graph")
    _check_options(rankdir, collapse, depth, color_by, grad_range, max_nodes)
    gm = build(root, model=model, hide_shape_ops=hide_shape_ops, show_constants=show_constants,
               collapse=collapse, depth=depth, fold_unnamed=fold_unnamed)
    if max_nodes is not None and gm.n_drawn > max_nodes:
        return _summary_graph(root, gm.order, model, gm.n_drawn, max_nodes, rankdir, title)
    if show_grads is None:
        show_grads = any(d.node.grad is not None for d in gm.data)
    if legend is None:
        legend = color_by == "grad"

    g = _new_graph(rankdir, title)
    g.text = graph_text(gm, precision)
    statements: dict[str, tuple[str, dict[str, str]]] = {}  # element id -> (label, attributes)

    for d in gm.data:
        node = d.node
        if d.name:
            header = f"<B>{_esc(_cut(d.name))}</B>"
        elif d.role == "input" and not node.requires_grad:  # a number written into the expression, or data
            header = _small(f"{'constant' if np.size(node.data) == 1 else 'input'} #{d.index}")
        else:
            header = _small(f"#{d.index}")
        if gm.kind == "value":
            rows = [header] + _value_rows(node, show_values, show_grads, precision)
        else:
            rows = [header] + _tensor_rows(node, show_values, show_shapes, show_grads, precision)
        fill, border = ROLE_COLORS[d.role]
        font = "#111827"
        if color_by == "grad":
            fill, font = grad_color(grad_magnitude(node), grad_range) if node.requires_grad else ("#ffffff", font)
        elif color_by is None:
            fill, border = "#ffffff", "#4b5563"
        style = "rounded,filled"
        if show_grads and node.requires_grad and node.grad is None:
            style += ",dashed"
        attrs = {"shape": "box", "style": style, "fillcolor": fill, "color": border, "fontcolor": font}
        if d.role in ("output", "parameter") and color_by is not None:
            attrs["penwidth"] = "1.6"
        statements[d.id] = (_on_fill(_table(rows), fill, font), attrs)
    for o in gm.ops:
        attrs = {"shape": "ellipse", "style": "filled", "fillcolor": OP_COLORS[0], "color": OP_COLORS[1],
                 "margin": "0.04,0.02", "height": "0.3"}
        statements[o.id] = (_op_label(o.output, o.formula), attrs)
    for box in gm.boxes:
        fill, font = BOX_COLORS[0], "#111827"
        if color_by == "grad":  # the largest parameter gradient; a module without parameters: its output's
            params = [m for m in box.members if m.role == "parameter"]
            mags = [grad_magnitude(m.node) for m in (params or box.members[-1:])]
            known = [m for m in mags if m is not None]
            fill, font = grad_color(max(known) if known else None, grad_range)
        attrs = {"shape": "box", "style": "rounded,filled,bold", "fillcolor": fill, "color": BOX_COLORS[1],
                 "fontcolor": font}
        statements[box.id] = (_on_fill(_box_label(box, show_grads, precision), fill, font), attrs)

    drawn = [d.id for d in gm.data if d.id not in gm.boxed]
    drawn += [o.id for o in gm.ops if o.id not in gm.boxed]
    # fixed order: data and op nodes interleaved by walk index, boxes at their first member
    position = {d.id: 2 * d.index + 1 for d in gm.data}
    position.update({o.id: 2 * int(o.id[2:]) for o in gm.ops})
    for box in gm.boxes:
        position[box.id] = min(position[m.id] for m in box.members) if box.members else 0
    elements = sorted(drawn + [b.id for b in gm.boxes], key=lambda e: (position[e], e))

    # clusters (outer first), then the nodes of each, then the edges in forward order
    clusters = {tuple(id(m) for m in p): p for p in gm.cluster_paths}
    members: dict[tuple[int, ...], list[str]] = {}
    for eid in elements:
        key = tuple(id(m) for m in gm.element_cluster.get(eid, ()))
        members.setdefault(key, []).append(eid)
    children: dict[tuple[int, ...], list[tuple[int, ...]]] = {}
    for key in clusters:
        children.setdefault(key[:-1], []).append(key)
    cluster_number = {key: i for i, key in enumerate(clusters)}

    _emit_clusters(g, (), members, children, clusters, cluster_number, statements, gm.module_names)
    for e in gm.edges:
        if e.label:
            g.edge(e.tail, e.head, label=f"<{_esc(e.label)}>")
        else:
            g.edge(e.tail, e.head)
    if legend:
        with g.subgraph(name="cluster_legend") as lg:
            lg.attr(label="", style="rounded", color="#d1d5db")
            lg.node("legend", _legend(color_by, grad_range), shape="plaintext")
    g.graph_model = gm  # type: ignore[attr-defined]
    return g


def _emit_clusters(target: Any, key: tuple[int, ...], members: dict[tuple[int, ...], list[str]],
                   children: dict[tuple[int, ...], list[tuple[int, ...]]], clusters: dict[tuple[int, ...], Any],
                   cluster_number: dict[tuple[int, ...], int], statements: dict[str, tuple[str, dict[str, str]]],
                   module_names: dict[int, str]) -> None:
    """Write the nodes of cluster ``key``, then its child clusters inside ``subgraph`` blocks.

    A module-level function, not a closure: a recursive closure is a reference cycle (the
    function holds its own cell), which would keep the drawn graph -- and so the whole
    computation graph -- alive after the caller drops it, until the garbage collector runs.
    The recursion depth is the module nesting depth (a handful), not the graph's size.
    """
    for eid in members.get(key, []):
        label, attrs = statements[eid]
        target.node(eid, label, **attrs)
    for child in children.get(key, []):
        module = clusters[child][-1]
        with target.subgraph(name=f"cluster_{cluster_number[child]}") as sub:
            sub.attr(label=f"<<B>{_esc(_cut(module_names.get(id(module), type(module).__name__), 48))}</B>>",
                     style="rounded,filled", fillcolor=CLUSTER_COLORS[0], color=CLUSTER_COLORS[1],
                     fontname=FONT, fontsize="10", labeljust="l")
            _emit_clusters(sub, child, members, children, clusters, cluster_number, statements, module_names)


def render(
    root_or_graph: Any, path: str | os.PathLike[str], format: str | None = None, **options: Any
) -> str:
    """Draw ``root_or_graph`` (a Value/Tensor, with ``draw_graph`` ``options``) or a drawn graph
    and write the picture to ``path`` (format from ``format`` or the suffix: svg, png, pdf, dot).
    Returns the path written."""
    if isinstance(root_or_graph, Graph):
        if options:
            raise TypeError(f"render: drawing options {sorted(options)} need a Value/Tensor, not a drawn graph")
        graph = root_or_graph
    elif hasattr(root_or_graph, "source") and hasattr(root_or_graph, "pipe"):  # a plain graphviz graph
        graph = Graph(name="graph", format="svg")
        graph.body = list(root_or_graph.body)
        graph.graph_attr.update(root_or_graph.graph_attr)
        graph.node_attr.update(root_or_graph.node_attr)
        graph.edge_attr.update(root_or_graph.edge_attr)
    else:
        graph = draw_graph(root_or_graph, **options)
    return graph.render(path, format)

