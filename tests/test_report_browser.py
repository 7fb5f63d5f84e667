"""The demo's report page in headless Chromium (Debian's /usr/bin/chromium driven by playwright):
no console errors, every image loads, the graph is readable (drawn at its own size in a frame
that fits the page and scrolls), and the expanded graph is one click away.

Skips when playwright or chromium is missing (CI installs both: see .ci/run)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tinygrad_edu import cli

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def browser():  # noqa: ANN201
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip("chromium is not installed")
    pytest.importorskip("matplotlib")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("dot") is None:
        pytest.skip("the page's graph needs Graphviz's dot to render")
    out = tmp_path_factory.mktemp("report") / "demo"
    assert cli.main(["demo", "--out", str(out), "--epochs", "3", "--n", "80", "--quiet"]) == 0
    return out


def test_report_page_in_chromium(browser, run_folder: Path) -> None:  # noqa: ANN001
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    problems: list[str] = []
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda err: problems.append(str(err)))
    page.on("requestfailed", lambda req: problems.append(f"failed to load {req.url}"))
    page.goto((run_folder / "index.html").as_uri())
    page.wait_for_load_state("load")
    assert problems == []

    images = page.eval_on_selector_all(
        "img", "els => els.map(e => ({src: e.getAttribute('src'), ok: e.complete && e.naturalWidth > 0}))")
    assert {i["src"] for i in images} >= {"loss.png", "boundary.png", "histograms.png", "graph.svg"}
    assert all(i["ok"] for i in images), images

    # every figure is a link to its full-size file
    linked = page.eval_on_selector_all("a > img", "els => els.map(e => e.parentElement.getAttribute('href'))")
    assert sorted(linked) == sorted(i["src"] for i in images)

    # the graph is readable: drawn at its own size (not squeezed), in a frame inside the page that scrolls
    g = page.eval_on_selector("#graph", """e => {
        const frame = e.closest('.graph'), r = e.getBoundingClientRect(), f = frame.getBoundingClientRect();
        return {w: r.width, nw: e.naturalWidth, h: r.height, nh: e.naturalHeight, fw: f.width, fh: f.height,
                page: document.documentElement.clientWidth, sh: frame.scrollHeight, ch: frame.clientHeight,
                sw: frame.scrollWidth, cw: frame.clientWidth}; }""")
    assert g["nw"] > 0 and abs(g["w"] - g["nw"]) <= 1 and abs(g["h"] - g["nh"]) <= 1, g
    assert g["fw"] <= g["page"], g
    if g["h"] > g["fh"]:
        assert g["sh"] > g["ch"], g  # taller than the frame: the frame scrolls
    assert g["w"] <= g["cw"] or g["sw"] > g["cw"], g

    # the expanded graph is one click away and loads
    page.click("text=The expanded graph")
    page.wait_for_load_state("load")
    assert page.url.endswith("graph-full.svg") and page.locator("svg").count() >= 1
    assert problems == []
    page.close()
