"""Ops written as formulas: how ``draw_graph(fold_unnamed=True)`` labels a folded op.

The lectures draw the logistic-regression graph with the quantities that have names only
(x1, w1, x2, w2, b, z, a, L): the product w1 x1 or the constant 1 in (1 - a) are not nodes
of their own. Folding the unnamed intermediates away leaves each named node with one op
whose label is the formula that made it from its named ancestors, e.g.
``z = w1*x1 + w2*x2 + b`` and ``a = sigmoid(z)``.

:func:`formula` writes one op as text from its operands' texts, with the fewest
parentheses that keep the usual precedence (``+ -`` < ``* / @`` < unary minus < ``**``).
"""

from __future__ import annotations

__all__ = ["Expr", "formula", "MAX_FORMULA_LENGTH"]

#: Formulas longer than this are cut with "..." (a shared subexpression can repeat many times).
MAX_FORMULA_LENGTH = 80

# op name (Value's symbol or the Tensor primitive's name) -> (infix symbol, precedence)
_INFIX = {
    "+": ("+", 1), "add": ("+", 1),
    "-": ("-", 1), "sub": ("-", 1),
    "*": ("*", 2), "mul": ("*", 2),
    "/": ("/", 2), "div": ("/", 2),
    "matmul": ("@", 2),
    "**": ("**", 4), "pow": ("**", 4),
}
_NEG_PRECEDENCE = 3
_ATOM = 5
#: Ops that only move or re-type elements: the formula passes its operand through.
_TRANSPARENT = frozenset({"reshape", "expand", "permute", "cast"})

Expr = tuple[str, int]  # (text, precedence of its outermost operator)


def _wrap(expr: Expr, above: int, strict: bool = False) -> str:
    text, precedence = expr
    return f"({text})" if precedence < above or (strict and precedence == above) else text


def formula(op: str, operands: list[Expr]) -> Expr:
    """The text of ``op`` applied to ``operands`` (each a (text, precedence) pair)."""
    if op in _TRANSPARENT and len(operands) == 1:
        return operands[0]
    if op.startswith("**") and len(operands) == 1:  # Value's x**n with a constant exponent: "**2"
        return f"{_wrap(operands[0], _ATOM)}{op}", 4
    if op == "neg" and len(operands) == 1:
        return f"-{_wrap(operands[0], _NEG_PRECEDENCE)}", _NEG_PRECEDENCE
    if op in _INFIX and len(operands) == 2:
        symbol, precedence = _INFIX[op]
        left, right = operands
        # a - (b + c) and a / (b * c) keep their parentheses; ** groups to the right
        left_text = _wrap(left, precedence, strict=symbol == "**")
        right_text = _wrap(right, precedence, strict=symbol in ("-", "/", "@"))
        return f"{left_text}{symbol}{right_text}" if precedence == 2 or symbol == "**" else \
            f"{left_text} {symbol} {right_text}", precedence
    if op == "dot" and len(operands) % 2 == 0:  # Value.dot(ws, xs): parents are ws + xs
        half = len(operands) // 2
        terms = [formula("*", [w, x])[0] for w, x in zip(operands[:half], operands[half:])]
        return " + ".join(terms), 1
    if op in ("sum", "+") and len(operands) > 2:  # Value.sum of many terms
        return " + ".join(text for text, _ in operands), 1
    return f"{op}({', '.join(text for text, _ in operands)})", _ATOM


def cut(text: str) -> str:
    """``text`` shortened to :data:`MAX_FORMULA_LENGTH` characters."""
    return text if len(text) <= MAX_FORMULA_LENGTH else text[: MAX_FORMULA_LENGTH - 3] + "..."
