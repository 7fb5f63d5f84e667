"""What a gradient check found: :class:`GradcheckResult` and its rows, as a text table and as HTML.

:func:`tinygrad_edu.gradcheck` and :func:`tinygrad_edu.gradcheck_model` build these; this module
only holds and formats them (``print(result)`` gives the table, a Jupyter cell shows it as HTML
with the failing rows highlighted, ``repr(result)`` is one short line).
"""

from __future__ import annotations

import html
import textwrap
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["GradcheckError", "GradcheckResult", "InputCheck", "OpCheck"]


class GradcheckError(AssertionError):
    """Raised by ``gradcheck(..., raise_on_failure=True)``; the message is the report table.

    ``.result`` holds the :class:`GradcheckResult`.
    """

    def __init__(self, result: GradcheckResult) -> None:
        super().__init__(result.report())
        self.result = result


@dataclass(repr=False)
class InputCheck:
    """How one input's gradient compared: errors, and the worst element.

    ``analytic`` and ``numeric`` hold the compared vector-Jacobian products, shape
    ``(number of cotangents, *input shape)``; for a scalar output, ``analytic[0]`` is the gradient.
    ``unused`` is true when the output does not depend on this input (see :func:`gradcheck`);
    such a row fails unless ``allow_unused=True``.
    """

    position: int
    name: str
    shape: tuple[int, ...]
    ok: bool
    max_abs_error: float
    max_rel_error: float
    worst_index: tuple[int, ...] | None
    worst_output: str
    worst_analytic: float
    worst_numeric: float
    analytic: np.ndarray
    numeric: np.ndarray
    unused: bool = False

    def __repr__(self) -> str:
        state = "unused" if self.unused else "ok" if self.ok else "FAIL"
        return f"InputCheck({self.label()}, shape {self.shape}, {state}, max abs err {self.max_abs_error:.3g})"

    def label(self) -> str:
        """The input as the report names it: ``name (#k)``, or ``input k`` when it has no name."""
        return self.name if self.name.startswith("input ") else f"{self.name} (#{self.position})"

    def verdict(self) -> str:
        """The table's last column: ok, FAIL, UNUSED (a failure) or unused (allowed)."""
        if self.unused:
            return "unused (allowed)" if self.ok else "UNUSED"
        return "ok" if self.ok else "FAIL"


@dataclass
class OpCheck:
    """A recorded op (a primitive or a ``tg.Function``) whose VJP disagrees with finite differences
    of its own forward.

    ``scope`` lists the classes of the modules the op ran in; ``module`` is the innermost one's
    qualified name when the check knows the model (:func:`gradcheck_model`).
    """

    node: int
    op: str
    primitive: str
    label: str
    scope: str
    input: int
    input_shape: tuple[int, ...]
    max_abs_error: float
    worst_index: tuple[int, ...]
    worst_analytic: float
    worst_numeric: float
    module: str = ""
    kind: str = "primitive"  # or "tg.Function" for a user-defined op

    def describe(self) -> str:
        where = f" in {self.scope}" if self.scope else ""
        if self.module:
            where += f" (layer {self.module!r})"
        label = f" label {self.label!r}" if self.label else ""
        return (
            f"op #{self.node} '{self.op}' ({self.kind} {self.primitive}){label}{where}: gradient of its input "
            f"{self.input} (shape {self.input_shape}) is off by {self.max_abs_error:.3e};\n      at "
            f"{_fmt_index(self.worst_index)} its backward gives {self.worst_analytic:.6g}, finite differences "
            f"of its forward give {self.worst_numeric:.6g}"
        )


@dataclass(repr=False)
class GradcheckResult:
    """The outcome of :func:`gradcheck`: ``ok``, one :class:`InputCheck` per checked input, and
    the suspects (failing primitives) when a ``Tensor`` check fails. ``str(result)`` is the report;
    in Jupyter the result displays as an HTML table with the failing rows highlighted.

    ``failing_layer`` is set by :func:`gradcheck_model`: the qualified name of the first layer
    (in backward order) whose gradients are wrong. ``vacuous`` is true when nothing was
    compared (every input unused, or every compared gradient exactly 0): such a result is
    never ok.
    """

    ok: bool
    inputs: list[InputCheck]
    output_shape: tuple[int, ...]
    mode: str
    eps: float
    atol: float
    rtol: float
    suspects: list[OpCheck] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    failing_layer: str = ""
    vacuous: bool = False

    def __bool__(self) -> bool:
        return self.ok

    def __repr__(self) -> str:
        failing = [c.label() for c in self.inputs if not c.ok]
        worst = max((c.max_abs_error for c in self.inputs), default=0.0)
        text = f"<GradcheckResult {'ok' if self.ok else 'FAILED'}: {len(self.inputs)} inputs"
        if failing:
            shown = ", ".join(failing[:3]) + (f", ... ({len(failing)} in all)" if len(failing) > 3 else "")
            text += f", failing: {shown}"
        return text + f", max abs err {worst:.3g}; print() it for the table>"

    def _status(self) -> str:
        return "passed" if self.ok else "FAILED: autograd and central finite differences disagree"

    def _settings(self) -> str:
        return (
            f"output shape {self.output_shape}, {self.mode}; eps={self.eps:g}, "
            f"element passes if |analytic - numeric| <= {self.atol:g} + {self.rtol:g} * |numeric|"
        )

    def rows(self) -> list[tuple[str, ...]]:
        """The table's rows as strings, the header first."""
        rows = [_HEADER]
        for c in self.inputs:
            where = ("-" if c.worst_index is None else _fmt_index(c.worst_index) if c.shape else "(scalar)") + (
                f", {c.worst_output}" if c.worst_output else ""
            )
            rows.append(
                (
                    c.label(),
                    str(c.shape),
                    f"{c.max_abs_error:.3e}",
                    f"{c.max_rel_error:.3e}",
                    where,
                    f"{c.worst_analytic:.8g}",
                    f"{c.worst_numeric:.8g}",
                    c.verdict(),
                )
            )
        return rows

    def report(self) -> str:
        """A readable table: per input the max absolute and relative error and the worst element."""
        lines = [f"gradcheck {self._status()}"]
        if self.failing_layer:
            lines.append(f"  first failing layer (in backward order): {self.failing_layer}")
        lines += [f"  {self._settings()}", ""]
        rows = self.rows()
        widths = [max(len(r[k]) for r in rows) for k in range(len(_HEADER))]
        for r in rows:
            lines.append("  " + "  ".join(cell.ljust(w) for cell, w in zip(r, widths)).rstrip())
        if not self.ok:
            lines += ["", *_LEGEND]
        if self.suspects:
            lines += ["", *_SUSPECTS_INTRO]
            lines += [f"  - {s.describe()}" for s in self.suspects]
        for note in self.notes:
            lines += ["", textwrap.fill(note, width=110, initial_indent="  ", subsequent_indent="  ")]
        return "\n".join(lines)

    __str__ = report

    def _repr_html_(self) -> str:
        """The table as HTML (Jupyter's rich display): failing rows highlighted, notes below."""
        e = html.escape
        colour = "#1a7f37" if self.ok else "#cf222e"
        parts = [
            f"<div class='tg-gradcheck'><p><b style='color:{colour}'>gradcheck {e(self._status())}</b>",
        ]
        if self.failing_layer:
            parts.append(f"<br>first failing layer (in backward order): <code>{e(self.failing_layer)}</code>")
        parts.append(f"<br><small>{e(self._settings())}</small></p>")
        rows = self.rows()
        parts.append("<table><thead><tr>" + "".join(f"<th>{e(h)}</th>" for h in rows[0]) + "</tr></thead><tbody>")
        for check, row in zip(self.inputs, rows[1:]):
            style = "" if check.ok else " style='background:#ffebe9'"
            cells = "".join(f"<td>{e(cell)}</td>" for cell in row[:-1])
            verdict = f"<td><b>{e(row[-1])}</b></td>" if not check.ok else f"<td>{e(row[-1])}</td>"
            parts.append(f"<tr{style}>{cells}{verdict}</tr>")
        parts.append("</tbody></table>")
        if not self.ok:
            parts.append("<p><small>" + "<br>".join(e(line.strip()) for line in _LEGEND) + "</small></p>")
        if self.suspects:
            items = "".join(f"<li><pre>{e(s.describe())}</pre></li>" for s in self.suspects)
            parts.append(f"<p>{e(' '.join(line.strip() for line in _SUSPECTS_INTRO))}</p><ul>{items}</ul>")
        parts += [f"<p>{e(note)}</p>" for note in self.notes]
        parts.append("</div>")
        return "".join(parts)


_HEADER = ("input", "shape", "max abs err", "max rel err", "worst element", "analytic", "numeric", "result")

# How to read the table; printed under a failing one.
_LEGEND = (
    "  analytic = autograd's gradient; numeric = (fn(x + eps) - fn(x - eps)) / (2 eps), one element at a time;",
    "  worst element = the input element (and output element or cotangent) furthest outside the tolerance;",
    "  max rel err = max |analytic - numeric| / max(|analytic|, |numeric|).",
)

_SUSPECTS_INTRO = (
    "  Suspect ops (each recorded primitive's backward vs finite differences of its own forward;",
    "  #n is the op's position in the graph, inputs first):",
)


def _compare(analytic: np.ndarray, numeric: np.ndarray, atol: float, rtol: float) -> dict[str, Any]:
    """Elementwise |analytic - numeric| <= atol + rtol |numeric|: ok, max abs/rel errors, worst element."""
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        abs_err = np.abs(analytic - numeric)
        allowed = atol + rtol * np.abs(numeric)
        ratio = np.where(abs_err == 0, 0.0, np.where(np.isfinite(abs_err), abs_err / allowed, np.inf))
        scale = np.maximum(np.abs(analytic), np.abs(numeric))
        rel = np.where(scale > 0, abs_err / scale, 0.0)
        rel = np.where(np.isfinite(rel), rel, np.inf)
    if analytic.size == 0:
        return {"ok": True, "max_abs": 0.0, "max_rel": 0.0, "worst": None}
    worst = np.unravel_index(int(np.argmax(ratio)), analytic.shape)
    return {
        "ok": bool(np.all(ratio <= 1.0)),
        "max_abs": float(np.max(np.where(np.isfinite(abs_err), abs_err, np.inf))),
        "max_rel": float(np.max(rel)),
        "worst": tuple(int(i) for i in worst),
    }


def _fmt_index(index: tuple[int, ...] | None, name: str = "") -> str:
    if index is None:
        return "-"
    if not index:
        return name or "()"
    return f"{name}[{', '.join(str(i) for i in index)}]"
