"""``ModelSummary``: what ``Module.summary(input_shape)`` returns.

It is a ``str`` (the text table, so ``print(model.summary(...))`` and string comparisons work
as before) whose ``repr`` is the table itself, so a bare ``model.summary(...)`` at the Python
prompt prints readably, and which shows itself in Jupyter as an HTML table.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

__all__ = ["ModelSummary"]


class ModelSummary(str):
    """The summary table as text; ``rows`` holds ``(layer, output shape, param #)`` per module call."""

    rows: tuple[tuple[str, str, str], ...]
    title: str
    total: int
    trainable: int

    def __new__(
        cls, text: str, rows: Sequence[tuple[str, str, str]] = (), *, title: str = "", total: int = 0,
        trainable: int = 0,
    ) -> ModelSummary:
        obj = super().__new__(cls, text)
        obj.rows, obj.title, obj.total, obj.trainable = tuple(rows), title, int(total), int(trainable)
        return obj

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        e = html.escape
        cell = "style='padding:2px 10px;text-align:{}'"
        body = "".join(
            f"<tr><td {cell.format('left')}><code>{e(name).replace('  ', '&nbsp;&nbsp;')}</code></td>"
            f"<td {cell.format('left')}><code>{e(shape)}</code></td><td {cell.format('right')}>{e(count)}</td></tr>"
            for name, shape, count in self.rows
        )
        head = "".join(f"<th {cell.format(a)}>{h}</th>" for h, a in
                       (("Layer (type)", "left"), ("Output shape", "left"), ("Param #", "right")))
        return (
            f"<div><p style='margin:0 0 4px 0'><b>{e(self.title)}</b></p>"
            f"<table style='border-collapse:collapse'><tr>{head}</tr>{body}</table>"
            f"<p style='margin:4px 0 0 0'>Total params: {self.total:,} &middot; Trainable params: "
            f"{self.trainable:,}</p></div>"
        )
