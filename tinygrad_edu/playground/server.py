"""The Playground's page: a small local web server from the standard library.

Choice of library: none beyond Python's own ``http.server`` (``ThreadingHTTPServer``). The page needs
one stream from the server (training frames) and a few requests to it (button presses), which is
exactly what server-sent events (a long ``GET`` whose body is ``event:``/``data:`` lines, read by the
browser's ``EventSource``, which reconnects by itself) plus ``POST`` give. So there is no extra to
install, nothing to build for the page (plain HTML, JS and CSS shipped in the package), and the
rest of the package is untouched by it.

Routes:

* ``GET /`` the page; ``GET /static/<file>`` its script and style;
* ``POST /api/session`` ``{"state": {...}}`` -> ``{"session": id, "frame": {...}}``: a new, independent
  session (one per browser tab) from the page's URL state;
* ``GET /api/events?session=<id>`` the stream: a ``frame`` event whenever the network changes, one per
  trained epoch (batched to about 10 frames a second) while playing;
* ``POST /api/command`` ``{"session": id, "action": ..., ...}``: ``play``, ``pause``, ``step``,
  ``reset``, ``regenerate``, ``update`` (``settings``), ``explain`` (``layer``, ``neuron``, ``source``),
  ``code``. A malformed message gets a 400 answer naming what is wrong; the session carries on.

It listens on 127.0.0.1 (this computer only) unless ``host`` says otherwise.
"""

from __future__ import annotations

import errno
import json
import secrets
import select
import socket
import sys
import threading
import time
import webbrowser
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from typing import Any
from urllib.parse import parse_qs, urlparse

import numpy as np

from .data import DATASETS, make_playground_data
from .explain import explain_parameter
from .model import Playground

__all__ = ["PlaygroundServer", "Session", "find_free_port", "serve", "show_in_notebook"]

NEURON_RESOLUTION = 20  # pixels per side of a neuron's picture
OUTPUT_RESOLUTION = 50  # of the output surface
FRAME_SECONDS = 0.1  # while playing, train for about this long between frames
HISTORY_POINTS = 400  # the loss chart gets at most this many points
STATIC_FILES = {"index.html": "text/html", "app.js": "text/javascript", "style.css": "text/css"}
MAX_BODY = 1 << 20
SESSION_TTL = 3600.0  # a session with no open stream and no request for this many seconds is dropped


class BadRequest(ValueError):
    """A malformed message from the page: answered with 400 and the reason."""


def _rounded(a: np.ndarray, digits: int = 4) -> Any:
    return np.round(np.asarray(a, dtype=np.float64), digits).tolist()


class Session:
    """One browser tab (or one notebook ``show()``): a Playground, play/pause and its streams.

    Several pages may watch one session (a notebook's ``show()`` opened twice): every stream sends
    the frames, and while playing the newest open stream is the one that trains."""

    def __init__(self, playground: Playground) -> None:
        self.id = secrets.token_hex(8)
        self.pg = playground
        self.playing = False
        self.lock = playground.lock  # shared with the notebook's calls to pg.step()
        self.changed = threading.Condition(self.lock)
        self.streams: set[int] = set()  # ids of the open streams
        self.next_stream = 0
        self.last_seen = time.monotonic()

    def notify(self) -> None:
        with self.changed:
            self.changed.notify_all()

    def frame(self, with_data: bool = True) -> dict[str, Any]:
        """What the page draws: settings, epoch, losses, the network and every neuron's picture."""
        pg = self.pg
        history = pg.history
        if len(history) > HISTORY_POINTS:  # keep the chart's shape, drop points evenly
            picks = np.linspace(0, len(history) - 1, HISTORY_POINTS).round().astype(int)
            history = [history[i] for i in picks]
        out: dict[str, Any] = {
            "state": pg.state(),
            "epoch": pg.epoch,
            "train_loss": pg.train_loss,
            "test_loss": pg.test_loss,
            "history": [[e, round(a, 5), round(b, 5)] for e, a, b in history],
            "playing": self.playing,
            "weights": [_rounded(w) for w in pg.weights()],
            "biases": [_rounded(b) for b in pg.biases()],
            "dead": [d.tolist() for d in pg.dead],
            "features": _rounded(pg.feature_maps(NEURON_RESOLUTION), 3),
            "neurons": [_rounded(m, 3) for m in pg.neuron_maps(NEURON_RESOLUTION)],
            "output": _rounded(pg.decision_surface(OUTPUT_RESOLUTION), 3),
        }
        if with_data:
            out["train_points"] = _rounded(np.column_stack([pg.train_points, pg.train_labels]), 3)
            out["test_points"] = _rounded(np.column_stack([pg.test_points, pg.test_labels]), 3)
        return out


def thumbnails(n: int = 120) -> dict[str, Any]:
    """A few points of every data set, for the page's dataset buttons: name -> {problem, points}."""
    out = {}
    for name, (_, problem) in DATASETS.items():
        X, y = make_playground_data(name, seed=0)
        out[name] = {"problem": problem, "points": _rounded(np.column_stack([X[:n], y[:n]]), 2)}
    return out


class PlaygroundServer(ThreadingHTTPServer):
    """The HTTP server: holds the sessions; ``daemon_threads`` so open streams never block exit."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, host: str = "127.0.0.1", port: int = 8765, quiet: bool = True) -> None:
        self.sessions: dict[str, Session] = {}
        self.sessions_lock = threading.Lock()
        self.stopping = threading.Event()
        self.quiet = quiet
        self._thumbnails: dict[str, Any] | None = None
        super().__init__((host, port), PlaygroundHandler)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}/"

    def add_session(self, playground: Playground) -> Session:
        session = Session(playground)
        now = time.monotonic()
        with self.sessions_lock:
            for key in [k for k, s in self.sessions.items() if not s.streams and now - s.last_seen > SESSION_TTL]:
                del self.sessions[key]  # closed tabs
            self.sessions[session.id] = session
        return session

    def get_session(self, session_id: Any) -> Session:
        with self.sessions_lock:
            session = self.sessions.get(session_id) if isinstance(session_id, str) else None
        if session is None:
            raise BadRequest(f"unknown session {session_id!r}; reload the page to start a new one")
        session.last_seen = time.monotonic()
        return session

    def thumbnails(self) -> dict[str, Any]:
        if self._thumbnails is None:
            self._thumbnails = thumbnails()
        return self._thumbnails

    def stop(self) -> None:
        """End every stream, stop serving and close the socket."""
        self.stopping.set()
        with self.sessions_lock:
            sessions = list(self.sessions.values())
        for session in sessions:
            session.notify()
        self.shutdown()
        self.server_close()


class PlaygroundHandler(BaseHTTPRequestHandler):
    server: PlaygroundServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        if not self.server.quiet:
            super().log_message(format, *args)

    # ------------------------------------------------------------------ helpers

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status: int, payload: Any) -> None:
        self._send(status, json.dumps(payload).encode("utf-8"), "application/json")

    def _read_json(self) -> dict[str, Any]:
        length = self.headers.get("Content-Length", "")
        if not length.isdigit() or int(length) > MAX_BODY:
            raise BadRequest(f"expected a JSON body of at most {MAX_BODY} bytes with a Content-Length")
        raw = self.rfile.read(int(length))
        try:
            message = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            raise BadRequest(f"the message is not JSON: {e}") from None
        if not isinstance(message, dict):
            raise BadRequest(f"expected a JSON object, got {type(message).__name__}")
        return message

    # ------------------------------------------------------------------ GET

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        url = urlparse(self.path)
        if url.path in ("/", "/index.html"):
            return self._static("index.html")
        if url.path.startswith("/static/"):
            return self._static(url.path[len("/static/"):])
        if url.path == "/api/thumbnails":
            return self._json(HTTPStatus.OK, self.server.thumbnails())
        if url.path == "/api/events":
            return self._events(parse_qs(url.query).get("session", [""])[0])
        return self._json(HTTPStatus.NOT_FOUND, {"error": f"no such page {url.path!r}"})

    def _static(self, name: str) -> None:
        if name not in STATIC_FILES:
            return self._json(HTTPStatus.NOT_FOUND, {"error": f"no such file {name!r}"})
        body = resources.files(__package__).joinpath("static", name).read_bytes()
        self._send(HTTPStatus.OK, body, STATIC_FILES[name] + "; charset=utf-8")

    def _events(self, session_id: str) -> None:
        try:
            session = self.server.get_session(session_id)
        except BadRequest as e:
            return self._json(HTTPStatus.NOT_FOUND, {"error": str(e)})
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-store")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        with session.lock:
            session.next_stream += 1
            stream = session.next_stream
            session.streams.add(stream)
        sent_version, sent_data, last_write = -1, None, time.monotonic()
        try:
            while not self.server.stopping.is_set():
                frame = None
                with session.changed:
                    if session.playing and stream == max(session.streams):  # one trainer per session
                        start = time.monotonic()
                        while time.monotonic() - start < FRAME_SECONDS:
                            session.pg.step(1)
                        session.changed.notify_all()  # other pages watching this session draw it too
                    elif session.pg.version == sent_version:
                        session.changed.wait(timeout=0.25)  # the timeout also catches pg.step() from a notebook
                    if session.pg.version != sent_version:
                        data_key = (id(session.pg.train_points), id(session.pg.test_points))
                        frame = session.frame(with_data=data_key != sent_data)
                        sent_version, sent_data = session.pg.version, data_key
                if frame is not None:
                    self.wfile.write(b"event: frame\ndata: " + json.dumps(frame).encode("utf-8") + b"\n\n")
                elif self._peer_closed():
                    return  # the tab closed while nothing was sent
                elif time.monotonic() - last_write > 15:
                    self.wfile.write(b": keep-alive\n\n")  # a comment line: proxies keep the stream open
                else:
                    continue
                self.wfile.flush()
                last_write = time.monotonic()
                if session.playing:
                    time.sleep(0.005)  # let button presses in
        except (TimeoutError, BrokenPipeError, ConnectionResetError, ConnectionAbortedError):
            return  # the tab went away; the session stays for a reconnect
        finally:
            with session.lock:
                session.streams.discard(stream)
                session.last_seen = time.monotonic()

    def _peer_closed(self) -> bool:
        """Whether the browser closed this stream's connection (it sends nothing else on it)."""
        readable, _, _ = select.select([self.connection], [], [], 0)
        if not readable:
            return False
        try:
            return self.connection.recv(1, socket.MSG_PEEK) == b""
        except OSError:
            return True

    # ------------------------------------------------------------------ POST

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        url = urlparse(self.path)
        try:
            message = self._read_json()
            if url.path == "/api/session":
                return self._new_session(message)
            if url.path == "/api/command":
                return self._json(HTTPStatus.OK, self._command(message))
            return self._json(HTTPStatus.NOT_FOUND, {"error": f"no such endpoint {url.path!r}"})
        except BadRequest as e:
            return self._json(HTTPStatus.BAD_REQUEST, {"error": str(e)})

    def _new_session(self, message: dict[str, Any]) -> None:
        state = message.get("state") or {}
        if not isinstance(state, dict):
            raise BadRequest(f"state must be an object of settings, got {type(state).__name__}")
        try:
            pg = Playground(**state)
        except (TypeError, ValueError) as e:
            raise BadRequest(str(e)) from None
        session = self.server.add_session(pg)
        with session.lock:
            frame = session.frame()
        self._json(HTTPStatus.OK, {"session": session.id, "frame": frame})

    def _command(self, message: dict[str, Any]) -> dict[str, Any]:
        session = self.server.get_session(message.get("session"))
        action = message.get("action")
        with session.changed:
            pg = session.pg
            if action == "play":
                session.playing = True
            elif action == "pause":
                session.playing = False
            elif action == "step":
                session.playing = False
                pg.step(1)
            elif action == "reset":
                session.playing = False
                pg.reset()
            elif action == "regenerate":
                pg.reseed()
            elif action == "update":
                settings = message.get("settings")
                if not isinstance(settings, dict) or not settings:
                    raise BadRequest("update needs 'settings', an object such as {\"lr\": 0.1}")
                try:
                    pg.update(**settings)
                except (TypeError, ValueError) as e:
                    raise BadRequest(str(e)) from None
            elif action == "explain":
                try:
                    return {"ok": True, "explanation": explain_parameter(
                        pg, message.get("layer"), message.get("neuron"), message.get("source"))}
                except ValueError as e:
                    raise BadRequest(str(e)) from None
            elif action == "code":
                return {"ok": True, "code": pg.code()}
            else:
                raise BadRequest(f"unknown action {action!r}; expected one of play, pause, step, reset, regenerate, "
                                 "update, explain, code")
            pg.version += 1  # play/pause change the frame too
            session.changed.notify_all()
        return {"ok": True, "epoch": pg.epoch, "playing": session.playing}


# ====================================================================== starting it


def find_free_port(host: str = "127.0.0.1", start: int = 8765, tries: int = 50) -> int | None:
    """The first port from ``start`` that ``host`` can listen on (``None`` when all ``tries`` are taken)."""
    for port in range(start, start + tries):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind((host, port))
                return port
            except OSError:
                continue
    return None


def make_server(host: str = "127.0.0.1", port: int = 8765, quiet: bool = True) -> PlaygroundServer:
    """A :class:`PlaygroundServer` bound to ``host:port``; a port in use raises ``OSError`` that says so."""
    if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
        raise ValueError(f"playground: port must be an integer in 0..65535 (0: any free port), got {port!r}")
    try:
        return PlaygroundServer(host, port, quiet=quiet)
    except OSError as e:
        if e.errno == errno.EADDRINUSE:
            free = find_free_port(host, port + 1)
            hint = f"; try --port {free}" if free else "; try another --port"
            raise OSError(e.errno, f"port {port} on {host} is in use{hint} (or --port 0 for any free port)") from None
        raise


def serve(host: str = "127.0.0.1", port: int = 8765, open_browser: bool = True) -> int:
    """Run the page's server until Ctrl-C (``tinygrad-edu playground``). Returns an exit status."""
    try:
        server = make_server(host, port)
    except OSError as e:
        print(f"tinygrad-edu playground: {e.strerror or e} ({host}:{port})", file=sys.stderr)
        return 1
    local = host in ("127.0.0.1", "localhost", "::1")
    where = "this computer only" if local else f"every computer that can reach {host}"
    print(f"Playground at {server.url}  (listening on {host}: {where}; --host to change). Ctrl-C stops it.",
          flush=True)
    if open_browser:
        threading.Timer(0.3, webbrowser.open, args=(server.url,)).start()
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.stopping.set()
        server.server_close()
    print("Playground stopped.", flush=True)
    return 0


class PageLink:
    """The notebook's view of a session: displays as an IFrame of the page; ``url`` is its address."""

    def __init__(self, url: str, height: int) -> None:
        self.url, self.height = url, height

    def _repr_html_(self) -> str:
        return f'<iframe src="{self.url}" width="100%" height="{self.height}" style="border:0"></iframe>'

    def __repr__(self) -> str:
        return f"Playground page at {self.url}"


_NOTEBOOK_SERVER: PlaygroundServer | None = None


def show_in_notebook(pg: Playground, port: int = 0, height: int = 760) -> PageLink:
    """Serve ``pg`` from a server in a background thread (started once) and return its IFrame."""
    global _NOTEBOOK_SERVER
    if _NOTEBOOK_SERVER is None or _NOTEBOOK_SERVER.stopping.is_set():
        _NOTEBOOK_SERVER = make_server("127.0.0.1", port)
        threading.Thread(target=_NOTEBOOK_SERVER.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True).start()
    session = _NOTEBOOK_SERVER.add_session(pg)
    return PageLink(f"{_NOTEBOOK_SERVER.url}?session={session.id}", height)
