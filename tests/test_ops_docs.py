"""docs/ops.md lists every op of tinygrad_edu.ops with its family and tier, and is up to date."""

from __future__ import annotations

import importlib.util
import inspect
import re
from pathlib import Path

from tinygrad_edu import Tensor
from tinygrad_edu.ops import functional

ROOT = Path(__file__).resolve().parent.parent
PAGE = (ROOT / "docs" / "ops.md").read_text(encoding="utf-8")


def _generator():  # noqa: ANN202 - the docs/gen_ops.py module
    spec = importlib.util.spec_from_file_location("gen_ops", ROOT / "docs" / "gen_ops.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_ops_page_is_up_to_date() -> None:
    assert _generator().generate() == PAGE, "docs/ops.md is stale: run docs/gen_ops.py"


def test_every_public_op_of_the_families_has_a_row() -> None:
    listed = set(re.findall(r"^\| `([^`]+)` \|", PAGE, re.M))
    family_methods = {
        name for name, member in inspect.getmembers(Tensor)
        if inspect.isfunction(member) and member.__module__.startswith("tinygrad_edu.ops.") and not name.startswith("_")
    }
    assert family_methods, "no ops found in the family mixins"
    assert family_methods <= listed, f"not in docs/ops.md: {sorted(family_methods - listed)}"
    assert set(functional.__all__) <= listed


def test_each_row_names_a_family_and_a_tier() -> None:
    rows = re.findall(r"^\| `[^`]+` \| (\w+) \| ([^|]+) \|", PAGE, re.M)
    assert len(rows) > 100
    assert {family for family, _ in rows} == {"elementwise", "reductions", "movement", "matmul", "functional"}
    assert {tier.strip() for _, tier in rows} <= {"primitive", "composed", "composed (gradient 0)", "no gradient"}
