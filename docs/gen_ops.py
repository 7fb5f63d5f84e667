"""Generate docs/ops.md: every Tensor op and functional op -> its family -> primitive or composed.

Run from the repository root after adding or changing an op:

    .venv/bin/python docs/gen_ops.py          # writes docs/ops.md
    .venv/bin/python docs/gen_ops.py --check  # exits 1 if docs/ops.md is out of date

The families are the modules of ``tinygrad_edu.ops`` (elementwise, reductions, movement,
functional) plus the core ops that ``tensor_class`` keeps (listed in ``CORE`` below). The tier
comes from each op's docstring, which says "(primitive ...)" or "(composed ...)"; the formula
column is the docstring's first line.
"""

from __future__ import annotations

import argparse
import inspect
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "ops.md"
sys.path.insert(0, str(ROOT))

from tinygrad_edu import tensor_class  # noqa: E402
from tinygrad_edu.ops import elementwise, functional, movement, reductions  # noqa: E402

# The core ops: the primitives' front doors, defined in tensor_class itself, in its core mixins
# ops.arithmetic and ops.indexing, and in tensor_functions (re-exported by tensor_class), by family.
CORE = {
    "elementwise": ["__add__", "__sub__", "__mul__", "__truediv__", "__pow__", "__neg__", "exp", "log", "sqrt",
                    "abs", "tanh", "sigmoid", "relu", "sign", "cast", "maximum", "minimum", "where"],
    "reductions": ["sum", "max"],
    "movement": ["reshape", "view", "permute", "expand", "broadcast_to", "__getitem__", "concatenate", "stack"],
    "matmul": ["matmul", "dot"],
}
EXAMPLE = [
    "## Example",
    "",
    "```python",
    "import numpy as np",
    "import tinygrad_edu as tg",
    "",
    "x = tg.Tensor([[0.5, -1.0, 2.0], [3.0, 0.0, -2.0]], requires_grad=True)",
    "values, indices = x.sort(axis=1, descending=True)       # values are differentiable",
    "loss = values[:, 0].sum() + x.prod(axis=1).sum() + x.gelu().pad(((0, 0), (1, 1)), mode=\"reflect\").mean()",
    "loss.backward()",
    "print(x.grad)  # prod's gradient at the zero is the product of the others: 3 * -2 = -6",
    "assert x.grad.shape == (2, 3) and np.isfinite(x.grad.data).all()",
    "",
    "scores = tg.einsum(\"ij,kj->ik\", x, x)                  # x @ x.T, composed",
    "attended = tg.scaled_dot_product_attention(x[None], x[None], x[None], is_causal=True)",
    "print(scores.shape, attended.shape)",
    "```",
    "",
]
DIFFERENCES = [
    "## Differences from PyTorch",
    "",
    "- `var` and `std` default to `ddof=0` (numpy's, and the lectures' batch norm); PyTorch's default is",
    "  `correction=1`. Both names are accepted: `x.var(correction=1)` is PyTorch's default estimate.",
    "- Axes are called `axis` (numpy's name); positional use (`x.gather(1, idx)`, `x.cumsum(0)`) reads as",
    "  in PyTorch. `cumsum`/`cumprod` with `axis=None` scan the flattened tensor (numpy's behaviour).",
    "- As in PyTorch, `argmax`/`argmin`, the indices of `sort`/`argsort`/`topk`, `one_hot` and `randint` are",
    "  int64 tensors, `isnan`, `any`, `logical_and`, ... bool tensors; `//` and `%` of integers stay integers.",
    "  `arange(n)` without `dtype=` gives the default float dtype (PyTorch: int64 for integer arguments).",
    "- `Tensor.pad` takes numpy's `pad_width` (one `(before, after)` pair per axis, one pair for all",
    "  axes, or an int); `tinygrad_edu.functional.pad` takes PyTorch's flat last-axis-first form.",
    "- `scatter` with repeated indices adds the sources (PyTorch leaves which one wins unspecified).",
    "- `einsum` cannot sum away `...` axes (keep `...` in the output). `erf` (so exact `gelu`) uses `math.erf`:",
    "  exact, but ~0.1 us per element (`gelu(approximate=\"tanh\")` is vectorised).",
    "- `cross_entropy`/`nll_loss` take `weight=`, `ignore_index=` and `label_smoothing=` as keywords only;",
    "  `nn.CrossEntropyLoss`/`nn.NLLLoss` take them in PyTorch's order (their `weight` is not in `state_dict`).",
]
MIXINS = {
    "elementwise": elementwise.ElementwiseOps,
    "reductions": reductions.ReductionOps,
    "movement": movement.MovementOps,
}


def _tier(doc: str) -> str:
    text = " ".join(doc.split())
    if "(primitive" in text or "primitive ``" in text:
        return "primitive"
    if "piecewise constant" in text:
        return "composed (gradient 0)"
    if "composed" in text.lower():
        return "composed"
    return "no gradient"


def _row(name: str, obj: object, family: str) -> str:
    doc = inspect.getdoc(obj) or ""
    first = doc.split("\n\n")[0].replace("\n", " ").replace("|", "\\|")
    return f"| `{name}` | {family} | {_tier(doc)} | {first} |"


def public_ops() -> list[tuple[str, object, str]]:
    """(name, function, family) for every op in the table."""
    rows: list[tuple[str, object, str]] = []
    for family, names in CORE.items():
        for name in names:
            obj = getattr(tensor_class.Tensor, name, None) or getattr(tensor_class, name)
            rows.append((name, obj, family))
    for family, mixin in MIXINS.items():
        for name, member in mixin.__dict__.items():
            if inspect.isfunction(member) and (not name.startswith("_") or name in ("__floordiv__", "__mod__")):
                rows.append((name, member, family))
    for name in functional.__all__:
        rows.append((name, getattr(functional, name), "functional"))
    return rows


def generate() -> str:
    lines = [
        "# Ops: family and tier",
        "",
        "Generated by `docs/gen_ops.py` (run `.venv/bin/python docs/gen_ops.py` after adding an op; the test",
        "suite checks that this page is up to date). Every `Tensor` op and functional op, its family (the module",
        "of `tinygrad_edu.ops` it lives in, or the core kept in `tensor_class`), and its tier:",
        "",
        "- **primitive**: it has its own forward and VJP in `tinygrad_edu/primitives/`;",
        "- **composed**: built from other ops, so its gradient (and second derivative) comes from the chain rule;",
        "- **composed (gradient 0)**: piecewise constant (floor, round, ...): in the graph, with gradient 0;",
        "- **no gradient**: returns indices or truth values.",
        "",
        "Where an op exists in PyTorch it behaves as PyTorch's (argument names follow this package: `axis`",
        "where PyTorch says `dim`); the differences are listed in the docstrings.",
        "",
        "| op | family | tier | formula (first line of the docstring) |",
        "|---|---|---|---|",
    ]
    lines += [_row(name, obj, family) for name, obj, family in public_ops()]
    lines += ["", *EXAMPLE, *DIFFERENCES]
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if docs/ops.md is out of date")
    args = parser.parse_args()
    text = generate()
    if args.check:
        if OUT.read_text(encoding="utf-8") != text:
            print("docs/ops.md is out of date: run docs/gen_ops.py")
            return 1
        return 0
    OUT.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
