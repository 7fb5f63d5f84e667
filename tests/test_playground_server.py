"""The Playground's server without a browser: sessions, commands, bad messages, ports, the stream,
``show()`` in a notebook, the CLI; and the click explanation against finite differences."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tinygrad_edu import cli
from tinygrad_edu.playground import Playground
from tinygrad_edu.playground.explain import explain_parameter
from tinygrad_edu.playground.server import PlaygroundServer, make_server

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def server() -> Iterator[PlaygroundServer]:
    srv = make_server("127.0.0.1", 0)
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield srv
    srv.stop()
    thread.join(timeout=10)
    assert not thread.is_alive()


def _post(srv: PlaygroundServer, path: str, body: Any) -> tuple[int, dict[str, Any]]:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    request = urllib.request.Request(srv.url.rstrip("/") + path, data=data, method="POST",
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def _frames(srv: PlaygroundServer, session: str) -> Iterator[dict[str, Any]]:
    stream = urllib.request.urlopen(f"{srv.url}api/events?session={session}", timeout=30)
    for line in stream:
        if line.startswith(b"data: "):
            yield json.loads(line[6:])


def test_sessions_are_independent_and_commands_train(server: PlaygroundServer) -> None:
    status, a = _post(server, "/api/session", {"state": {"dataset": "xor", "hidden": [3]}})
    assert status == 200 and a["frame"]["epoch"] == 0 and a["frame"]["state"]["dataset"] == "xor"
    assert len(a["frame"]["neurons"]) == 2 and np.array(a["frame"]["neurons"][0]).shape == (3, 20, 20)
    assert np.array(a["frame"]["output"]).shape == (50, 50)
    _, b = _post(server, "/api/session", {"state": {}})
    assert a["session"] != b["session"]
    status, answer = _post(server, "/api/command", {"session": a["session"], "action": "step"})
    assert status == 200 and answer["epoch"] == 1
    assert server.sessions[a["session"]].pg.epoch == 1 and server.sessions[b["session"]].pg.epoch == 0
    _post(server, "/api/command", {"session": a["session"], "action": "update", "settings": {"lr": 0.3}})
    assert server.sessions[a["session"]].pg.lr == 0.3 and server.sessions[a["session"]].pg.epoch == 1


@pytest.mark.parametrize(
    "body, message",
    [
        (b"{not json", "the message is not JSON"),
        (b"[1, 2]", "expected a JSON object"),
        ({"session": "nope", "action": "step"}, "unknown session 'nope'"),
        ({"action": "fly"}, "unknown action 'fly'"),
        ({"action": "update", "settings": {"activation": "softmax"}}, "unknown activation 'softmax'"),
        ({"action": "update", "settings": {"hidden": "lots"}}, "hidden must list"),
        ({"action": "update", "settings": "lr=1"}, "update needs 'settings'"),
        ({"action": "update", "settings": {"speed": 1}}, "unknown setting"),
        ({"action": "explain", "layer": 7, "neuron": 0}, "layer must be an integer in 1..3"),
        ({"action": "explain", "layer": 1, "neuron": 0, "source": "x"}, "source must be an integer"),
    ],
)
def test_malformed_messages_are_rejected_and_the_session_carries_on(server: PlaygroundServer, body: Any,
                                                                    message: str) -> None:
    _, created = _post(server, "/api/session", {})
    session = created["session"]
    if isinstance(body, dict) and "session" not in body:
        body = {**body, "session": session}
    status, answer = _post(server, "/api/command", body)
    assert status == 400 and message in answer["error"]
    status, answer = _post(server, "/api/command", {"session": session, "action": "step"})
    assert status == 200 and answer["epoch"] == 1


def test_bad_url_state_is_rejected_with_the_valid_names(server: PlaygroundServer) -> None:
    status, answer = _post(server, "/api/session", {"state": {"features": ["x3"]}})
    assert status == 400 and "unknown feature 'x3'; choose one of 'x1'" in answer["error"]


def test_the_stream_sends_frames_and_follows_the_python_object(server: PlaygroundServer) -> None:
    pg = Playground("circle", hidden=[2])
    session = server.add_session(pg)
    frames = _frames(server, session.id)
    first = next(frames)
    assert first["epoch"] == 0 and "train_points" in first
    pg.step(2)  # from "the notebook": the page follows
    second = next(frames)
    assert second["epoch"] == 2 and "train_points" not in second  # the data did not change
    _post(server, "/api/command", {"session": session.id, "action": "play"})
    epochs = [next(frames)["epoch"] for _ in range(3)]
    _post(server, "/api/command", {"session": session.id, "action": "pause"})
    assert epochs == sorted(epochs) and epochs[-1] > 2
    assert pg.epoch >= epochs[-1]  # the page's play trained the very object the notebook holds


def test_unknown_pages_and_sessions_get_404(server: PlaygroundServer) -> None:
    for path in ("api/events?session=zzz", "nothing", "static/secret.py"):
        with pytest.raises(urllib.error.HTTPError) as info:
            urllib.request.urlopen(server.url + path, timeout=10)
        assert info.value.code == 404


def test_show_returns_an_iframe_of_this_object() -> None:
    pg = Playground("gauss", hidden=[])
    link = pg.show()
    try:
        assert link.url.startswith("http://127.0.0.1:") and "?session=" in link.url
        assert f'src="{link.url}"' in link._repr_html_()
        session_id = link.url.split("?session=")[1]
        from tinygrad_edu.playground import server as server_module

        srv = server_module._NOTEBOOK_SERVER
        assert srv.sessions[session_id].pg is pg
        with urllib.request.urlopen(link.url, timeout=10) as r:
            assert b'data-testid="play"' in r.read()
    finally:
        server_module._NOTEBOOK_SERVER.stop()
        server_module._NOTEBOOK_SERVER = None


def test_a_port_in_use_says_so_and_suggests_another() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(OSError, match=rf"port {port} on 127.0.0.1 is in use; try --port \d+"):
            make_server("127.0.0.1", port)
        assert cli.main(["playground", "--port", str(port), "--no-browser"]) == 1
    with pytest.raises(ValueError, match="port must be an integer in 0..65535"):
        make_server("127.0.0.1", 70000)
    assert cli.main(["playground", "--port", "70000", "--no-browser"]) == 1


@pytest.mark.slow
def test_the_cli_listens_on_localhost_and_stops_cleanly_on_ctrl_c() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "tinygrad_edu", "playground", "--port", "0", "--no-browser"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        line = proc.stdout.readline()
        assert "listening on 127.0.0.1: this computer only" in line
        url = line.split()[2]
        with urllib.request.urlopen(url, timeout=30) as r:
            assert r.status == 200
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "Playground stopped." in out


@pytest.mark.parametrize("source", [None, 0, 2])
def test_the_click_explanation_equals_autograd_the_formula_and_finite_differences(source: int | None) -> None:
    pg = Playground("spiral", ["x1", "x2", "sin(x1)"], [4, 3], "tanh", lr=0.1).step(2)
    layer, neuron = 2, 1
    e = explain_parameter(pg, layer, neuron, source, svg=False)
    param = pg.layers[layer - 1].weight if source is not None else pg.layers[layer - 1].bias
    index = (neuron, source) if source is not None else (neuron,)
    h = 1e-6

    def J(delta: float) -> float:
        param.data[index] += delta
        value = pg.loss(pg._train_x, pg._train_y).item()
        param.data[index] -= delta
        return value

    numeric = (J(h) - J(-h)) / (2 * h)
    assert e["grad"] == pytest.approx(numeric, rel=1e-4, abs=1e-8)
    assert e["by_hand"] == pytest.approx(e["grad"], rel=1e-10, abs=1e-14)  # the lectures' dW = (1/m) dZ A^T
    assert e["value"] == float(param.data[index])
    assert e["name"] == (f"W[2]_2{source + 1}" if source is not None else "b[2]_2")
    assert "W[2]" in e["dot"] and 'penwidth=3 color="#e8710a"' in e["dot"]
    assert f"dL/d{param.label}" in e["steps"] and "dL/dA[3]" in e["steps"] and "dL/dZ[2]" in e["steps"]
    assert "W[1]" not in e["steps"]  # only the path from J down to this parameter
    assert all(p.grad is None for layer_ in pg.layers for p in (layer_.weight, layer_.bias))  # leaves no trace


def test_a_tab_closing_while_playing_leaves_the_server_running(server: PlaygroundServer) -> None:
    _, created = _post(server, "/api/session", {})
    session = server.sessions[created["session"]]
    stream = urllib.request.urlopen(f"{server.url}api/events?session={session.id}", timeout=30)
    _post(server, "/api/command", {"session": session.id, "action": "play"})
    for line in stream:
        if line.startswith(b"data: ") and json.loads(line[6:])["epoch"] > 0:
            break
    stream.close()  # the tab goes away mid-stream
    for _ in range(200):  # the stream's thread notices at its next write and ends
        if not session.streams:
            break
        threading.Event().wait(0.05)
    assert not session.streams
    stopped_at = session.pg.epoch
    threading.Event().wait(0.3)
    assert session.pg.epoch == stopped_at  # no stream, no training: a closed tab costs nothing
    status, answer = _post(server, "/api/session", {"state": {"dataset": "gauss"}})
    assert status == 200
    status, answer = _post(server, "/api/command", {"session": session.id, "action": "step"})
    assert status == 200 and answer["epoch"] == stopped_at + 1


def test_two_pages_on_one_session_both_follow_and_one_trains(server: PlaygroundServer) -> None:
    pg = Playground("xor", hidden=[2])
    session = server.add_session(pg)
    first, second = _frames(server, session.id), _frames(server, session.id)
    assert next(first)["epoch"] == 0 and next(second)["epoch"] == 0
    _post(server, "/api/command", {"session": session.id, "action": "play"})
    seen_first = [next(first)["epoch"] for _ in range(3)]
    seen_second = [next(second)["epoch"] for _ in range(3)]
    _post(server, "/api/command", {"session": session.id, "action": "pause"})
    assert seen_first[-1] > 0 and seen_second[-1] > 0
    assert seen_first == sorted(seen_first) and seen_second == sorted(seen_second)
    assert len(session.streams) == 2  # neither page pushed the other out
