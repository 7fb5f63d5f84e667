"""The example notebooks run top to bottom in a Jupyter kernel from this Python (fast mode), and their
tagged cells display what a user should see: images for plots and graphs, HTML tables for History,
summaries, explanations (and gradcheck results where GradcheckResult has an HTML view)."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "examples").glob("*.ipynb"))

pytestmark = pytest.mark.slow

IMAGE = {"image/png", "image/svg+xml"}


WIDGET = "application/vnd.jupyter.widget-view+json"


def _expected(tag: str) -> set[str] | None:
    """The MIME types one of which a cell with this tag must display (None: nothing to check)."""
    if tag == "progress":  # fit's progress: a tqdm widget where ipywidgets is installed (else text lines)
        return {WIDGET} if importlib.util.find_spec("ipywidgets") is not None else None
    if tag in ("plot", "graph"):
        return IMAGE
    if tag in ("history", "summary", "explain"):
        return {"text/html"}
    if tag == "gradcheck":
        from tinygrad_edu import GradcheckResult

        return {"text/html"} if hasattr(GradcheckResult, "_repr_html_") else None
    return None


@pytest.fixture(scope="module")
def kernel_name(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A kernel spec for this interpreter with the worktree on PYTHONPATH and the fast mode on."""
    pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    pytest.importorskip("matplotlib")
    home = tmp_path_factory.mktemp("jupyter")
    spec = home / "kernels" / "tinygrad-edu-tests"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "tinygrad-edu tests",
        "language": "python",
        "env": {"PYTHONPATH": str(ROOT), "TINYGRAD_EDU_FAST": "1"},
    }))
    mp = pytest.MonkeyPatch()
    mp.setenv("JUPYTER_PATH", str(home))
    mp.setenv("JUPYTER_DATA_DIR", str(home))
    yield "tinygrad-edu-tests"
    mp.undo()


def test_there_are_at_least_two_notebooks() -> None:
    names = {p.name for p in NOTEBOOKS}
    assert {"first_taste.ipynb", "planar_flower_walkthrough.ipynb"} <= names


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs_and_displays(path: Path, kernel_name: str, tmp_path: Path) -> None:
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code"), "commit notebooks without outputs"
    NotebookClient(nb, kernel_name=kernel_name, timeout=300, resources={"metadata": {"path": str(tmp_path)}}).execute()
    checked = 0
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        assert not [o for o in cell.outputs if o.output_type == "error"], f"cell {i} failed"
        assert not [o for o in cell.outputs if o.get("name") == "stderr"], f"cell {i} wrote to stderr"
        tags = cell.metadata.get("tags", [])
        if "progress" in tags and importlib.util.find_spec("ipywidgets") is None:
            lines = "".join(o.get("text", "") for o in cell.outputs if o.get("name") == "stdout")
            assert lines.startswith("epoch 1/"), f"cell {i}: fit printed no epoch lines"
        for tag in tags:
            want = _expected(tag)
            if want is None:
                continue
            shown = {mime for o in cell.outputs if o.output_type in ("execute_result", "display_data")
                     for mime in o.get("data", {})}
            assert shown & want, f"cell {i} ({tag}) displays {sorted(shown)}, expected one of {sorted(want)}"
            checked += 1
    assert checked >= 5
