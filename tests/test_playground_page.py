"""The Playground's page in a real headless Chromium (Debian's ``chromium``, driven by playwright).

The server runs in a thread of this process on a free port; the browser is the system's
``/usr/bin/chromium`` (never a downloaded one). The tests skip cleanly when either is missing.
A screenshot of the trained page is saved under pytest's ``tmp_path`` (and, when the
``PLAYGROUND_SCREENSHOT`` environment variable names a file, there too).
"""

from __future__ import annotations

import os
import re
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tinygrad_edu.playground.server import PlaygroundServer, make_server

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--no-first-run"]

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server() -> Iterator[PlaygroundServer]:
    srv = make_server("127.0.0.1", 0)
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    yield srv
    srv.stop()
    thread.join(timeout=10)
    assert not thread.is_alive(), "the server did not stop"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")
    if not (os.path.exists(CHROMIUM) or shutil.which(CHROMIUM)):
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture
def page(browser: Any, server: PlaygroundServer) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    pg_page = context.new_page()
    errors: list[str] = []
    pg_page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    pg_page.on("pageerror", lambda e: errors.append(str(e)))
    pg_page.errors = errors
    pg_page.goto(server.url)
    pg_page.get_by_test_id("neuron-1-0").wait_for()
    yield pg_page
    context.close()


def _epoch(page: Any) -> int:
    return int(page.get_by_test_id("epoch").inner_text().replace(",", ""))


def test_load_step_play_pause_toggle_reset_without_console_errors(page: Any, tmp_path: Path) -> None:
    t = page.get_by_test_id
    assert _epoch(page) == 0
    assert re.fullmatch(r"0\.\d{3}", t("train-loss").inner_text())
    for name in ("epoch", "train-loss", "test-loss", "activation", "regularization", "reg-rate", "learning-rate",
                 "batch-size", "noise", "train-ratio", "add-layer", "remove-layer", "play", "step", "reset"):
        assert t(name).count() == 1, name
    for name in ("circle", "xor", "gauss", "spiral"):
        assert t(f"dataset-{name}").is_visible()
    for name in ("x1", "x2", "x1^2", "x2^2", "x1*x2", "sin(x1)", "sin(x2)"):
        assert t(f"feature-{name}").count() == 1

    t("dataset-xor").click()
    page.wait_for_function("document.location.hash.includes('dataset=xor')")
    t("step").click()
    page.wait_for_function("document.querySelector('[data-testid=epoch]').textContent === '000,001'")

    t("play").click()
    page.wait_for_function("parseInt(document.querySelector('[data-testid=epoch]').textContent.replace(',', '')) > 5")
    t("play").click()  # pause
    page.wait_for_function("document.querySelector('[data-testid=play]').getAttribute('aria-pressed') === 'false'")
    paused = _epoch(page)
    page.wait_for_timeout(400)
    assert _epoch(page) == paused  # paused means paused
    assert float(t("train-loss").inner_text()) < 0.5

    t("feature-x1*x2").click()  # a new input: the network restarts at epoch 0 with 3 inputs
    page.wait_for_function("document.location.hash.includes('x1*x2')")
    assert _epoch(page) == 0
    assert page.locator("[data-testid^=link-1-0-]").count() == 3

    t("add-layer").click()
    page.wait_for_function("document.querySelectorAll('[data-testid^=neuron-3-]').length === 2")
    t("remove-layer").click()
    page.wait_for_function("document.querySelectorAll('[data-testid^=neuron-3-]').length === 1")  # the output

    t("step").click()
    page.wait_for_function("document.querySelector('[data-testid=epoch]').textContent === '000,001'")
    t("reset").click()
    page.wait_for_function("document.querySelector('[data-testid=epoch]').textContent === '000,000'")

    t("step").click()
    t("step").click()
    page.wait_for_function("document.querySelector('[data-testid=epoch]').textContent === '000,002'")
    page.screenshot(path=str(tmp_path / "playground.png"), full_page=True)
    if os.environ.get("PLAYGROUND_SCREENSHOT"):
        page.screenshot(path=os.environ["PLAYGROUND_SCREENSHOT"], full_page=True)
    assert (tmp_path / "playground.png").stat().st_size > 10_000
    assert page.errors == []


def test_click_a_link_shows_its_gradient_and_the_chain_rule(page: Any, server: PlaygroundServer) -> None:
    t = page.get_by_test_id
    # links cross each other near their middle, where a mouse click lands on the topmost one;
    # the event goes to this link's own (wide, transparent) hit path
    t("link-1-0-1").dispatch_event("click")
    t("inspector").wait_for()
    text = t("inspector").inner_text()
    assert "W[1]_12" in text and "gradient dJ/dW[1]_12" in text
    assert "dL/dZ[1]" in text and "dL/dW[1]" in text  # the explain_backward steps
    assert page.locator("#inspector-graph svg").count() == 1 or "digraph" in text
    session = list(server.sessions.values())[-1]  # this page's (the newest) session
    grad_shown = float(re.search(r"gradient dJ/dW\[1\]_12 = ([-\d.e]+)", text).group(1))
    assert grad_shown == pytest.approx(_grad_of(session.pg, 1, 0, 1), rel=1e-3)
    t("show-code").click()
    t("code").wait_for()
    assert "Playground(dataset='circle'" in t("code").inner_text()
    assert page.errors == []


def _grad_of(pg: Any, layer: int, j: int, k: int) -> float:
    from tinygrad_edu.playground.explain import explain_parameter

    return explain_parameter(pg, layer, j, k, svg=False)["grad"]


def test_tabs_are_independent_and_the_url_holds_the_state(browser: Any, server: PlaygroundServer) -> None:
    context = browser.new_context()
    first, second = context.new_page(), context.new_page()
    first.goto(server.url + "#dataset=spiral&hidden=3&activation=relu&lr=0.1")
    second.goto(server.url)
    for p in (first, second):
        p.get_by_test_id("neuron-1-0").wait_for()
    assert first.get_by_test_id("activation").input_value() == "relu"
    assert first.locator("[data-testid^=neuron-1-]").count() == 3
    first.get_by_test_id("step").click()
    first.wait_for_function("document.querySelector('[data-testid=epoch]').textContent === '000,001'")
    second.wait_for_timeout(300)
    assert second.get_by_test_id("epoch").inner_text() == "000,000"
    assert second.get_by_test_id("activation").input_value() == "tanh"
    first.evaluate("location.hash = '#dataset=gauss&activation=sigmoid&hidden=2'")  # an edited URL applies
    first.wait_for_function("document.querySelector('[data-testid=activation]').value === 'sigmoid'")
    assert first.locator("[data-testid^=neuron-1-]").count() == 2
    assert _epoch(first) == 0
    context.close()


def test_a_lost_connection_shows_a_message(browser: Any) -> None:
    srv = make_server("127.0.0.1", 0)
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    context = browser.new_context()
    p = context.new_page()
    p.goto(srv.url)
    p.get_by_test_id("neuron-1-0").wait_for()
    srv.stop()
    thread.join(timeout=10)
    assert not thread.is_alive()
    p.get_by_test_id("connection-status").wait_for(state="visible", timeout=15_000)
    assert "lost" in p.get_by_test_id("connection-status").inner_text()
    context.close()
