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
    surface = page.evaluate("document.querySelector('[data-testid=output]').toDataURL()")
    t("neuron-1-0").hover()  # "hover to see it larger": the neuron's picture takes the output's place
    assert page.evaluate("document.querySelector('[data-testid=output]').toDataURL()") != surface
    page.mouse.move(5, 5)
    assert page.evaluate("document.querySelector('[data-testid=output]').toDataURL()") == surface
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
    from tinygrad_edu.playground import Playground

    first_session = next(s for s in server.sessions.values() if s.pg.hidden == [3] and s.pg.activation == "relu")
    assert Playground.from_url(first.url).settings() == first_session.pg.settings()  # the page wrote its URL
    first.get_by_test_id("step").click()
    first.wait_for_function("document.querySelector('[data-testid=epoch]').textContent === '000,001'")
    second.wait_for_timeout(300)
    assert second.get_by_test_id("epoch").inner_text() == "000,000"
    assert second.get_by_test_id("activation").input_value() == "tanh"
    first.evaluate("location.hash = '#dataset=gauss&activation=sigmoid&hidden=2'")  # an edited URL applies
    first.wait_for_function("document.querySelector('[data-testid=activation]').value === 'sigmoid'")
    assert first.locator("[data-testid^=neuron-1-]").count() == 2
    assert _epoch(first) == 0
    # a hidden tab lets go of its stream (browsers allow ~6 connections per server) and takes it back
    session = first_session
    assert session.pg.activation == "sigmoid"
    hide = "(h) => { Object.defineProperty(document, 'hidden', {value: h, configurable: true}); " \
           "document.dispatchEvent(new Event('visibilitychange')); }"
    first.evaluate(hide, True)
    first.wait_for_function("true")
    _wait_until(lambda: not session.streams)
    first.evaluate(hide, False)
    _wait_until(lambda: len(session.streams) == 1)
    first.get_by_test_id("step").click()
    first.wait_for_function("document.querySelector('[data-testid=epoch]').textContent === '000,001'")
    context.close()


def _wait_until(condition: Any, tries: int = 200) -> None:
    for _ in range(tries):
        if condition():
            return
        threading.Event().wait(0.05)
    raise AssertionError("condition not reached")


def test_a_refused_change_and_a_lost_connection_show_a_message(browser: Any) -> None:
    srv = make_server("127.0.0.1", 0)
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    context = browser.new_context()
    p = context.new_page()
    p.goto(srv.url + "#features=x1")
    p.get_by_test_id("neuron-1-0").wait_for()
    p.get_by_test_id("feature-x1").click()  # the last feature: the server refuses, the page says why
    p.get_by_test_id("message").wait_for(state="visible")
    assert "choose at least one feature" in p.get_by_test_id("message").inner_text()
    p.get_by_test_id("step").click()  # and the session carries on
    p.wait_for_function("document.querySelector('[data-testid=epoch]').textContent === '000,001'")
    assert p.get_by_test_id("message").is_hidden()
    srv.stop()
    thread.join(timeout=10)
    assert not thread.is_alive()
    p.get_by_test_id("connection-status").wait_for(state="visible", timeout=15_000)
    assert "lost" in p.get_by_test_id("connection-status").inner_text()
    context.close()


def test_the_notebook_page_follows_the_python_object(browser: Any) -> None:
    from tinygrad_edu.playground import Playground
    from tinygrad_edu.playground import server as server_module

    pg = Playground("spiral", ["x1", "x2", "sin(x1)"], [3], "tanh", lr=0.03)
    link = pg.show()  # what a notebook displays: an IFrame of this URL
    context = browser.new_context(viewport={"width": 900, "height": 760})  # an IFrame-sized window
    try:
        page = context.new_page()
        page.goto(link.url)
        page.get_by_test_id("neuron-1-0").wait_for()
        pg.step(3)  # a notebook cell
        page.wait_for_function("document.querySelector('[data-testid=epoch]').textContent === '000,003'")
        page.get_by_test_id("step").click()  # and the page drives the same object
        page.wait_for_function("document.querySelector('[data-testid=epoch]').textContent === '000,004'")
        assert pg.epoch == 4
        pg.update(activation="relu")
        page.wait_for_function("document.querySelector('[data-testid=activation]').value === 'relu'")
    finally:
        context.close()
        server_module._NOTEBOOK_SERVER.stop()
        server_module._NOTEBOOK_SERVER = None
