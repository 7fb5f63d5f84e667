"""Generate docs/api.md, the API reference, from the package's docstrings.

Run from the repository root after changing a public docstring or signature:

    .venv/bin/python docs/gen_api.py          # writes docs/api.md
    .venv/bin/python docs/gen_api.py --check  # exits 1 if docs/api.md is out of date

For each module (in the order the package is meant to be read, bottom-up) it lists the module's
summary and every public name in its ``__all__``: the signature and the docstring. Docstrings go
in ```text fences so they render verbatim on GitHub and are never mistaken for runnable code.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "api.md"

# bottom-up, as the package is layered: engine -> value/tensor -> nn/optim -> tools -> cli
MODULES = [
    "tinygrad_edu",
    "tinygrad_edu.engine",
    "tinygrad_edu.value",
    "tinygrad_edu.primitives",
    "tinygrad_edu.primitives.base",
    "tinygrad_edu.primitives.elementwise",
    "tinygrad_edu.primitives.binary",
    "tinygrad_edu.primitives.reductions",
    "tinygrad_edu.primitives.movement",
    "tinygrad_edu.primitives.matmul",
    "tinygrad_edu.primitives.special",
    "tinygrad_edu.primitives.fused",
    "tinygrad_edu.primitives.windows",
    "tinygrad_edu.primitives.backward_only",
    "tinygrad_edu.tensor_class",
    "tinygrad_edu.tensor_functions",
    "tinygrad_edu.factories",
    "tinygrad_edu.seeding",
    "tinygrad_edu.ops.arithmetic",
    "tinygrad_edu.ops.indexing",
    "tinygrad_edu.ops.elementwise",
    "tinygrad_edu.ops.reductions",
    "tinygrad_edu.ops.movement",
    "tinygrad_edu.ops.functional",
    "tinygrad_edu.nn.module",
    "tinygrad_edu.nn.containers",
    "tinygrad_edu.nn.layers",
    "tinygrad_edu.nn.conv",
    "tinygrad_edu.nn.init",
    "tinygrad_edu.nn.losses",
    "tinygrad_edu.optim",
    "tinygrad_edu.optim.lr_scheduler",
    "tinygrad_edu.checkpoint",
    "tinygrad_edu.value_nn",
    "tinygrad_edu.gradcheck",
    "tinygrad_edu.reference",
    "tinygrad_edu.reference_theta",
    "tinygrad_edu.testing",
    "tinygrad_edu.viz",
    "tinygrad_edu.data",
    "tinygrad_edu.train",
    "tinygrad_edu.plots",
    "tinygrad_edu.mlp_checks",
    "tinygrad_edu.report",
    "tinygrad_edu.anomaly",
    "tinygrad_edu.export",
    "tinygrad_edu.cli",
]


def _fence(text: str) -> str:
    text = inspect.cleandoc(text).replace("```", "'''")
    return f"```text\n{text}\n```\n"


def _signature(obj: object, name: str) -> str:
    try:
        sig = str(inspect.signature(obj))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return name
    # postponed annotations come back as strings: show  x: Tensor  rather than  x: 'Tensor'
    sig = re.sub(r"(: |-> )'([^']*)'", r"\1\2", sig)
    # a class as a default value: dtype = np.float64 rather than <class 'numpy.float64'>
    sig = re.sub(r"<class '([\w.]+)'>", lambda m: re.sub(r"^numpy\.", "np.", m.group(1)), sig)
    # a function as a default value: loss_fn = cross_entropy, not its memory address (the page must be stable)
    sig = re.sub(r"<function ([\w.]+) at 0x[0-9a-f]+>", r"\1", sig)
    return f"{name}{sig}"


def _anchor(title: str) -> str:
    keep = "".join(ch for ch in title.lower() if ch.isalnum() or ch in " -_")
    return keep.replace(" ", "-")


def _public_methods(cls: type) -> list[tuple[str, object]]:
    out = []
    for name, member in cls.__dict__.items():
        if name.startswith("_") and name not in ("__init__", "__call__"):
            continue
        func = member.__func__ if isinstance(member, (staticmethod, classmethod)) else member
        if isinstance(member, property):
            if member.__doc__:
                out.append((name, member))
            continue
        if inspect.isfunction(func) and (func.__doc__ or name == "__init__"):
            out.append((name, func))
    return out


def _document(name: str, obj: object, qual: str) -> list[str]:
    lines: list[str] = []
    if inspect.isclass(obj):
        lines.append(f"### class `{qual}`\n")
        init = obj.__dict__.get("__init__")
        if init is not None and inspect.isfunction(init):
            sig = _signature(init, name).replace("(self, ", "(").replace("(self)", "()")
            lines.append(f"`{sig}`\n")
        if obj.__doc__:
            lines.append(_fence(obj.__doc__))
        for mname, member in _public_methods(obj):
            if mname == "__init__":
                continue
            if isinstance(member, property):
                lines.append(f"- **`.{mname}`** (property): {inspect.cleandoc(member.__doc__ or '').splitlines()[0]}")
                continue
            sig = _signature(member, mname).replace("(self, ", "(").replace("(self)", "()")
            doc = inspect.cleandoc(member.__doc__ or "")
            first, _, rest = doc.partition("\n")
            lines.append(f"- **`{sig}`**: {first}")
            if rest.strip():
                lines.append("\n" + "\n".join("  " + ln for ln in _fence(rest).splitlines()))
        lines.append("")
    elif callable(obj):
        lines.append(f"### `{_signature(obj, qual)}`\n")
        if obj.__doc__:
            lines.append(_fence(obj.__doc__))
    else:
        lines.append(f"### `{qual}`\n")
        text = repr(obj)
        lines.append(f"Constant: `{text}`\n" if len(text) < 100 else f"Constant of type `{type(obj).__name__}`.\n")
    return lines


def generate() -> str:
    parts = [
        "# API reference\n",
        "Generated from the docstrings by `docs/gen_api.py` (run `.venv/bin/python docs/gen_api.py` to refresh;",
        "`--check` tells whether this page is up to date). Modules are listed bottom-up, in the order the",
        "package is meant to be read. Formulas use the lectures' notation: `X` of shape (n_x, m) in",
        "`reference`, rows as examples everywhere else; `W[l]` of shape (n[l], n[l-1]).\n",
        "## Modules\n",
    ]
    bodies: list[str] = []
    for modname in MODULES:
        try:
            module = importlib.import_module(modname)
        except ImportError as exc:  # e.g. an optional extra that is not installed
            parts.append(f"- `{modname}`: not importable here ({exc})")
            continue
        summary = inspect.cleandoc(module.__doc__ or "").split("\n\n")[0].replace("\n", " ")
        parts.append(f"- [`{modname}`](#{_anchor(modname)}): {summary}")
        names = list(getattr(module, "__all__", []))
        bodies.append(f"\n## {modname}\n")
        if module.__doc__:
            bodies.append(_fence(module.__doc__))
        if modname == "tinygrad_edu":
            bodies.append("Re-exports (documented in their own modules): " + ", ".join(f"`{n}`" for n in names) + ".\n")
            continue
        for name in names:
            obj = getattr(module, name, None)
            if obj is None:
                continue
            home = getattr(obj, "__module__", modname)
            if (inspect.isclass(obj) or inspect.isfunction(obj)) and home != modname and home in MODULES:
                bodies.append(f"- `{name}`: see [`{home}`](#{_anchor(home)})\n")
                continue
            bodies.extend(_document(name, obj, f"{modname}.{name}"))
    return "\n".join(parts) + "\n" + "\n".join(bodies).rstrip() + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if docs/api.md differs from the docstrings")
    args = parser.parse_args()
    text = generate()
    if args.check:
        current = OUT.read_text(encoding="utf-8") if OUT.exists() else ""
        if current != text:
            print("docs/api.md is out of date: run .venv/bin/python docs/gen_api.py", file=sys.stderr)
            return 1
        print("docs/api.md is up to date")
        return 0
    OUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUT.relative_to(ROOT)} ({len(text.splitlines())} lines)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
