"""Every ```python block in README.md and docs/*.md runs as written, and every example runs.

Blocks run in a fresh namespace inside a temporary directory (so files they write do not
litter the checkout). A block fenced as ```python no-run is shown but not run (used only
for code that needs an optional extra or a display). Examples run as subprocesses with
FAST=1, their documented fast mode, and check their own numbers with assertions.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FENCE = re.compile(r"^```python[ \t]*\n(.*?)^```", re.S | re.M)


def _markdown_blocks() -> list[tuple[str, int, str]]:
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").glob("**/*.md"))]
    blocks = []
    for page in pages:
        text = page.read_text(encoding="utf-8")
        for match in FENCE.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            blocks.append((str(page.relative_to(ROOT)), line, match.group(1)))
    return blocks


BLOCKS = _markdown_blocks()


def test_there_are_documented_code_blocks() -> None:
    assert any(path == "README.md" for path, _, _ in BLOCKS)


@pytest.mark.parametrize(("path", "line", "code"), BLOCKS, ids=[f"{p}:{n}" for p, n, _ in BLOCKS])
def test_markdown_code_block_runs(path: str, line: int, code: str, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    namespace: dict[str, object] = {"__name__": "__docs__"}
    exec(compile(code, f"{path}:{line}", "exec"), namespace)  # noqa: S102 - running our own docs


EXAMPLES = sorted((ROOT / "examples").glob("*.py"))


@pytest.mark.parametrize("script", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example_runs_in_fast_mode(script: Path, tmp_path: Path) -> None:
    env = {**os.environ, "FAST": "1", "MPLBACKEND": "Agg", "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, str(script)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, f"{script.name} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"


def test_api_reference_is_up_to_date() -> None:
    """docs/api.md is generated from the docstrings: regenerate it with docs/gen_api.py."""
    result = subprocess.run(
        [sys.executable, str(ROOT / "docs" / "gen_api.py"), "--check"], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, f"docs/api.md is stale; run docs/gen_api.py:\n{result.stdout}{result.stderr}"
