"""``explain_backward``: the chain rule of one backward pass, step by step, with numbers.

For every op, last op first (the order backward visits them), and every input of it::

    dL/d(input) += d(out)/d(input)  x  dL/d(out)
                   local derivative    upstream gradient      = contribution

and the input's gradient once all contributions are summed (several paths add up).
It works right after a normal ``backward()``: for ``Value`` the local derivatives are
recomputed from the op and its inputs' data (the saved ones are released after backward
unless ``retain_graph=True``); for ``Tensor`` each primitive's vector-Jacobian product is
re-run on the saved inputs and its formula is quoted from the primitive's docstring.
"""

from __future__ import annotations

import html
import inspect
import math
import textwrap
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import engine
from .. import primitives as P
from ..function import released_call
from ..tensor_class import Tensor
from ..value import SELU_ALPHA, SELU_SCALE, Value
from .graph import check_root, walk
from .text import fmt, fmt_array

__all__ = ["BackwardExplanation", "Step", "Term", "explain_backward", "value_local_derivatives"]

Number = Any  # float for Value, np.ndarray for Tensor

TEXT_WIDTH = 100  # the title and notes of the plain text are wrapped to this many characters


@dataclass
class Term:
    """One input of one op: local derivative x upstream = contribution."""

    input_name: str
    input_node: Any
    local_formula: str  # "x1" for d(w1*x1)/d(w1); empty for tensors (see Step.formula)
    local_value: float | None  # None for tensors
    contribution: Number
    total: Number = None  # dL/d(input) after every contribution of this pass
    n_paths: int = 1  # how many ops contributed to dL/d(input)
    position: int = 0  # which argument of the op (0 = x, 1 = y)


@dataclass
class Step:
    """One op visited by backward."""

    number: int
    node_name: str
    node: Any
    expression: str  # "z = w1 * x1"
    upstream: Number  # dL/d(node)
    formula: str = ""  # tensors: the VJP formula from the primitive's docstring
    terms: list[Term] = field(default_factory=list)


def value_local_derivatives(node: Value, names: list[str], out_name: str) -> list[tuple[str, float]]:
    """(formula, value) of d(node)/d(parent_i) for each parent, recomputed from the op and the data.

    The arithmetic mirrors :mod:`tinygrad_edu.value` so the numbers equal the saved
    ``local_grads`` exactly. Unknown ops fall back to the saved ones (or nan).
    """
    op, ps, out = node._op, node._parents, node.data
    x = ps[0].data
    nx = names[0]
    saved = node.local_grads
    if op == "+":
        return [("1", 1.0), ("1", 1.0)]
    if op == "-":
        return [("1", 1.0), ("-1", -1.0)]
    if op == "*":
        return [(names[1], ps[1].data), (nx, x)]
    if op == "/":
        inv = 1.0 / ps[1].data
        return [(f"1/{names[1]}", inv), (f"-{nx}/{names[1]}^2", -x * inv * inv)]
    if op == "**":
        n = ps[1].data
        dx = n * x ** (n - 1) if n != 0 else 0.0
        dn = out * math.log(x) if x > 0 else 0.0
        return [(f"{names[1]}*{nx}^({names[1]}-1)", dx), (f"{nx}^{names[1]}*ln({nx})", dn)]
    if op.startswith("**"):
        n = float(op[2:])
        return [(f"{n:g}*{nx}^{n - 1:g}", n * x ** (n - 1) if n != 0 else 0.0)]
    if op == "neg":
        return [("-1", -1.0)]
    if op == "sum":
        return [("1", 1.0)] * len(ps)
    if op == "exp":
        return [(f"e^{nx} = {out_name}", out)]
    if op == "log":
        return [(f"1/{nx}", 1.0 / x)]
    if op == "sqrt":
        return [(f"1/(2*sqrt({nx}))", 0.5 / out if out > 0 else math.inf)]
    if op == "abs":
        return [(f"sign({nx})", 1.0 if x > 0 else (-1.0 if x < 0 else 0.0))]
    if op == "tanh":
        return [(f"1 - {out_name}^2", 1.0 - out * out)]
    if op == "sigmoid":
        return [(f"{out_name}*(1 - {out_name})", out * (1.0 - out))]
    if op == "relu":
        return [(f"[{nx} > 0]", 1.0 if x > 0 else 0.0)]
    if op == "leaky_relu":
        if x > 0:
            return [(f"1 ({nx} > 0)", 1.0)]
        if saved is not None:
            return [(f"slope ({nx} <= 0)", saved[0])]
        if out == 0:  # out = 0 (x = 0, or slope * x underflowed) hides the slope once the graph is released
            return [("slope (assumed 0.01, the default; backward(retain_graph=True) to be exact)", 0.01)]
        return [(f"slope ({nx} < 0)", out / x)]
    if op == "elu":
        if x > 0:
            return [(f"1 ({nx} > 0)", 1.0)]
        if saved is not None:
            return [(f"alpha*e^{nx}", saved[0])]
        if out == 0:  # out = 0 (x = 0, or e^x - 1 rounded to 0) hides alpha once the graph is released
            return [("alpha (assumed 1, the default; backward(retain_graph=True) to be exact)", 1.0)]
        alpha = out / (math.exp(x) - 1.0)  # as value.py computes it (not expm1), so alpha comes back exactly
        return [(f"alpha*e^{nx}", alpha * math.exp(x))]
    if op == "selu":
        if x > 0:
            return [(f"scale ({nx} > 0)", SELU_SCALE)]
        return [(f"scale*alpha*e^{nx}", SELU_SCALE * SELU_ALPHA * math.exp(x))]
    if saved is not None:
        return [("(saved)", d) for d in saved]
    return [("? (unknown op; use backward(retain_graph=True))", math.nan)] * len(ps)


_INFIX = {"+": "+", "-": "-", "*": "*", "/": "/", "**": "**"}


def _expression(node: Any, out_name: str, names: list[str]) -> str:
    op = node._op
    if isinstance(node, Value):
        if op in _INFIX and len(names) == 2:
            return f"{out_name} = {names[0]} {op} {names[1]}"
        if op.startswith("**") and len(names) == 1:
            return f"{out_name} = {names[0]} ** {op[2:]}"
    return f"{out_name} = {op}({', '.join(names)})"


def _primitives_by_name() -> dict[str, list[type[P.Primitive]]]:
    table: dict[str, list[type[P.Primitive]]] = {}
    for obj in vars(P).values():
        if inspect.isclass(obj) and issubclass(obj, P.Primitive) and obj is not P.Primitive:
            table.setdefault(obj.name, []).append(obj)
    return table


def _primitive_for(node: Tensor) -> type[P.Primitive] | None:
    if node._fn is not None:
        return node._fn
    custom = released_call(node)  # a tg.Function: its forward rebuilds what backward needs
    if custom is not None:
        return custom  # type: ignore[return-value]
    candidates = _primitives_by_name().get(node._op, [])
    if len(candidates) > 1:  # "pow": PowConst has one input, Pow two
        arity = [c for c in candidates if len(inspect.signature(c.forward).parameters) - len(node._params)
                 == len(node._parents)]
        candidates = arity or candidates
    return candidates[0] if candidates else None


def _formula(fn: type[P.Primitive] | None) -> str:
    """The first line of the primitive's docstring: its forward formula and its VJP."""
    doc = inspect.getdoc(fn) if fn is not None else None
    return doc.splitlines()[0].strip().replace("``", "") if doc else "?"


def _as_number(x: Any) -> Number:
    if isinstance(x, Tensor):
        return np.array(x.data, copy=True)
    return x


def _show(x: Number, p: int) -> str:
    if x is None:
        return "-"
    if isinstance(x, np.ndarray):
        return fmt_array(x, p)
    return fmt(x, p)


class BackwardExplanation:
    """The steps of one backward pass; ``str()`` / ``.text``, ``.markdown()``, ``.html()``.

    ``steps`` lists the ops in backward order; ``gradients`` maps each named node to
    dL/d(node) of this pass; :meth:`gradient` looks a node up by identity.
    """

    COLUMNS = ("step", "node", "input", "local derivative", "upstream", "local x upstream", "dL/d(input)")

    def __init__(self, root: Any, root_name: str, seed: Number, steps: list[Step], totals: dict[int, Any],
                 names: dict[int, str], notes: list[str], precision: int) -> None:
        self.root = root
        self.root_name = root_name
        self.seed = seed
        self.steps = steps
        self.notes = notes
        self.precision = precision
        self._totals = totals
        self._names = names

    def gradient(self, node: Any) -> Number:
        """dL/d(node) computed in this explanation (``None`` when backward does not reach it)."""
        return self._totals.get(id(node))

    @property
    def gradients(self) -> dict[str, Number]:
        out: dict[str, Number] = {}
        for key, value in self._totals.items():
            out.setdefault(self._names[key], value)
        return out

    # ------------------------------------------------------------------ formatting

    def _title(self) -> str:
        return (f"Backward pass from {self.root_name}: seed dL/d{self.root_name} = {_show(self.seed, self.precision)}; "
                f"{len(self.steps)} ops, last op first. Each input gets local derivative x upstream gradient; "
                "contributions along several paths are summed.")

    def rows(self) -> list[tuple[str, ...]]:
        """The table's rows (strings), one per (op, input) pair, in backward order."""
        p = self.precision
        out = []
        for step in self.steps:
            for k, term in enumerate(step.terms):
                if term.local_value is not None:
                    local = term.local_formula
                    value = fmt(term.local_value, p)
                    local = value if local == value else f"{local} = {value}"
                else:
                    local = step.formula if k == 0 else '"'
                total = _show(term.total, p)
                if term.n_paths > 1:
                    total += f" (sum of {term.n_paths} paths)"
                shape = f" {tuple(term.input_node.shape)}" if isinstance(term.input_node, Tensor) else ""
                out.append((
                    str(step.number) if k == 0 else "",
                    step.expression if k == 0 else "",
                    f"{term.input_name}{shape}",
                    f"d{step.node_name}/d{term.input_name}: {local}" if term.local_value is not None else local,
                    f"dL/d{step.node_name} = {_show(step.upstream, p)}" if k == 0 else '"',
                    _show(term.contribution, p),
                    total,
                ))
        return out

    @property
    def text(self) -> str:
        """Plain text: a table for ``Value`` graphs; one block per op for ``Tensor`` graphs, whose
        formulas and arrays would make a table hundreds of characters wide."""
        lines = textwrap.wrap(self._title(), TEXT_WIDTH) + [""]
        if isinstance(self.root, Tensor):
            lines += self._blocks()
        else:
            rows = [self.COLUMNS] + self.rows()
            widths = [max(len(r[i]) for r in rows) for i in range(len(self.COLUMNS))]
            for n, r in enumerate(rows):
                lines.append("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())
                if n == 0:
                    lines.append("  ".join("-" * w for w in widths))
        for note in self.notes:
            lines += [""] + textwrap.wrap(note, TEXT_WIDTH)
        return "\n".join(lines)

    def _blocks(self) -> list[str]:
        """One block per op: the expression, its upstream gradient, the VJP rule, then each input's share."""
        p = self.precision
        lines: list[str] = []
        for step in self.steps:
            lines.append(f"step {step.number}: {step.expression}")
            lines.append(f"    upstream  dL/d{step.node_name} = {_show(step.upstream, p)}")
            lines.append(f"    rule      {step.formula}")
            arg_names = ("X", "W") if "dL/dW" in step.formula else ("X", "Y") if "dL/dX" in step.formula else ("x", "y")
            for term in step.terms:
                shape = tuple(term.input_node.shape)
                if len(step.node._parents) > 1 and term.position < 2:  # which letter of the rule it is
                    shape = f"{shape} as {arg_names[term.position]}"
                share = f"dL/d{term.input_name} += {_show(term.contribution, p)}"
                if term.n_paths > 1:
                    share += f"   (sum of {term.n_paths} paths: {_show(term.total, p)})"
                lines.append(f"    {term.input_name} {shape}: {share}")
            lines.append("")
        return lines[:-1]

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return f"<BackwardExplanation of {self.root_name}: {len(self.steps)} steps>"

    def markdown(self) -> str:
        """A Markdown table (pipes and backticks in names are escaped)."""

        def cell(text: str) -> str:
            return text.replace("\\", "\\\\").replace("|", "\\|").replace("`", "\\`").replace("*", "\\*")

        lines = [cell(self._title()), "", "| " + " | ".join(self.COLUMNS) + " |",
                 "|" + "|".join(["---"] * len(self.COLUMNS)) + "|"]
        lines += ["| " + " | ".join(cell(c) for c in r) + " |" for r in self.rows()]
        lines += ["", *[cell(n) for n in self.notes]] if self.notes else []
        return "\n".join(lines) + "\n"

    def html(self) -> str:
        """An HTML table (all text escaped)."""
        head = "".join(f"<th>{html.escape(c)}</th>" for c in self.COLUMNS)
        body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>" for r in self.rows())
        notes = "".join(f"<p>{html.escape(n)}</p>" for n in self.notes)
        return (f"<div><p>{html.escape(self._title())}</p><table><thead><tr>{head}</tr></thead>"
                f"<tbody>{body}</tbody></table>{notes}</div>")

    def _repr_html_(self) -> str:
        return self.html()

    def _repr_markdown_(self) -> str:
        return self.markdown()


def _names(root: Any, model: Any, precision: int) -> tuple[list[Any], dict[int, str]]:
    order = walk(root)
    params: dict[int, str] = {}
    if model is not None:
        for name, param in model.named_parameters():
            params.setdefault(id(param), name)
    names: dict[int, str] = {}
    for i, node in enumerate(order):
        if id(node) in params:
            names[id(node)] = params[id(node)]
        elif node.label:
            names[id(node)] = node.label
        elif isinstance(node, Value) and not node._parents and not node.requires_grad:
            names[id(node)] = fmt(node.data, precision)  # a number in the expression
        else:
            names[id(node)] = f"#{i}"
    return order, names


def explain_backward(root: Value | Tensor, *, model: Any = None, precision: int = 4) -> BackwardExplanation:
    """Explain the latest ``root.backward()``: every chain-rule step with its numbers.

    Call it right after ``root.backward()`` (no ``retain_graph`` needed). ``model`` names
    parameters as in :func:`~tinygrad_edu.viz.draw_graph`; unnamed nodes are called
    ``#i`` like in the drawing. The gradients it computes equal the ``.grad`` that
    backward stored; a note says so when a leaf's ``.grad`` differs (gradients accumulated
    over several backward calls without ``zero_grad``).
    """
    check_root(root, "explain_backward")
    if root.grad is None:
        raise ValueError(
            "explain_backward: the output has no gradient yet; call .backward() on it first "
            f"(explain_backward explains the backward pass that reached {type(root).__name__} {root!r:.60})."
        )
    _, names = _names(root, model, precision)
    order = engine.topological_order(root)
    is_value = isinstance(root, Value)
    seed = root.grad
    grads: dict[int, Any] = {id(root): seed}
    steps: list[Step] = []
    all_terms: dict[int, list[Term]] = {}
    with engine.no_grad():
        for node in reversed(order):
            upstream = grads.get(id(node))
            if upstream is None or not node._parents:
                continue
            parent_names = [names[id(p)] for p in node._parents]
            step = Step(len(steps) + 1, names[id(node)], node, _expression(node, names[id(node)], parent_names),
                        _as_number(upstream))
            if is_value:
                local_info = value_local_derivatives(node, parent_names, names[id(node)])
                saved = node.local_grads  # still there after backward(retain_graph=True): use it exactly
                if saved is not None:
                    local_info = [(formula, d) for (formula, _), d in zip(local_info, saved)]
                contributions: list[Any] = [d * upstream for _, d in local_info]
            else:
                fn = _primitive_for(node)
                step.formula = _formula(fn)
                if fn is None:
                    raise ValueError(f"explain_backward: unknown primitive {node._op!r}; cannot recompute its VJP")
                contributions = list(fn.backward(upstream, node, *node._parents, **node._params))
                local_info = [("", None)] * len(contributions)
            for k, (parent, contribution, (formula, value)) in enumerate(
                    zip(node._parents, contributions, local_info)):
                if contribution is None or not parent.requires_grad:
                    continue
                term = Term(names[id(parent)], parent, formula, value, _as_number(contribution), position=k)
                step.terms.append(term)
                all_terms.setdefault(id(parent), []).append(term)
                previous = grads.get(id(parent))
                grads[id(parent)] = contribution if previous is None else previous + contribution
            steps.append(step)

    totals = {key: _as_number(g) for key, g in grads.items()}
    for key, terms in all_terms.items():
        for term in terms:
            term.total = totals[key]
            term.n_paths = len(terms)
    notes = []
    for node in order:
        mine, stored = totals.get(id(node)), node.grad
        if mine is None or stored is None:
            continue
        stored_n = _as_number(stored)
        if not np.allclose(mine, stored_n, rtol=1e-9, atol=1e-12, equal_nan=True):
            notes.append(
                f"Note: {names[id(node)]}.grad = {_show(stored_n, precision)} but this pass gives "
                f"{_show(mine, precision)}: leaf gradients accumulate over several backward() calls; "
                "call zero_grad() before each pass."
            )
    return BackwardExplanation(root, names[id(root)], _as_number(seed), steps, totals, names, notes, precision)
