"""Regenerate the pictures of docs/visualisation.md by running its Python code blocks.

Each block runs on its own (a fresh namespace) with docs/ as the working directory, so the
page's code is exactly what made its pictures. Usage (from anywhere)::

    python docs/images/make_images.py
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent.parent
PAGE = DOCS / "visualisation.md"


def code_blocks(page: Path = PAGE) -> list[str]:
    """The ```python blocks of the page, in order."""
    return re.findall(r"```python\n(.*?)```", page.read_text(encoding="utf-8"), flags=re.S)


def run_blocks(workdir: Path, page: Path = PAGE) -> int:
    """Run every block in ``workdir`` (which gets an ``images/`` folder); return how many ran."""
    (workdir / "images").mkdir(parents=True, exist_ok=True)
    previous = os.getcwd()
    os.chdir(workdir)
    try:
        blocks = code_blocks(page)
        for i, block in enumerate(blocks):
            exec(compile(block, f"{page.name}:block{i + 1}", "exec"), {"__name__": "__docs__"})
    finally:
        os.chdir(previous)
    return len(blocks)


if __name__ == "__main__":
    n = run_blocks(DOCS)
    print(f"ran {n} code blocks of {PAGE.name}; pictures in {DOCS / 'images'}", file=sys.stderr)
