"""Turning DOT text into pictures, with or without the Graphviz ``dot`` program.

* ``graph.source`` (the DOT text) never needs anything installed.
* :meth:`Graph.render` / :meth:`Graph.pipe` use the ``dot`` program when it is on ``PATH``,
  else `pygraphviz <https://pygraphviz.github.io>`_ when it is installed
  (``pip install tinygrad-edu[pygraphviz]``), else raise :class:`GraphvizNotFoundError`,
  whose message says how to install either.
* In Jupyter a :class:`Graph` shows itself as SVG, and when no renderer is available it
  falls back to a text view of the graph -- never a traceback.
"""

from __future__ import annotations

import html
import os
import shutil
import subprocess
import warnings
from pathlib import Path
from typing import Any

import graphviz

__all__ = ["FORMATS", "LAYOUT_TIMEOUT", "Graph", "GraphvizNotFoundError", "RenderWarning", "find_renderer", "layout"]

#: Output formats :meth:`Graph.render` accepts ("dot"/"gv" write the DOT text itself).
FORMATS = ("svg", "png", "pdf", "dot", "gv")

INSTALL_HINT = (
    "Install one of them: the Graphviz programs (`sudo apt-get install graphviz` on Debian/Ubuntu, "
    "`brew install graphviz` on macOS, `conda install graphviz`), or pygraphviz "
    "(`pip install tinygrad-edu[pygraphviz]`)."
)


class GraphvizNotFoundError(graphviz.ExecutableNotFound):
    """Neither the Graphviz ``dot`` program nor pygraphviz is available to lay out a graph."""

    def __init__(self, message: str) -> None:
        RuntimeError.__init__(self, message)


class RenderWarning(UserWarning):
    """Graphviz printed a warning while laying out a graph."""


def find_renderer(engine: str = "dot") -> str | None:
    """``"dot"`` (the program, found on PATH), ``"pygraphviz"``, or ``None`` when neither is there."""
    if shutil.which(engine):
        return "dot"
    try:
        import pygraphviz  # noqa: F401
    except ImportError:
        return None
    return "pygraphviz"


#: Seconds ``dot`` may take to lay out one graph before :func:`layout` gives up (a graph of
#: 100,000 nodes drawn with ``max_nodes=None`` can take hours). Override per call or here.
LAYOUT_TIMEOUT = 120.0


def layout(source: str, format: str, engine: str = "dot", timeout: float | None = None) -> bytes:
    """Lay out DOT ``source`` and return the picture's bytes (``format``: svg, png, pdf, ...).

    ``dot`` is stopped after ``timeout`` seconds (default :data:`LAYOUT_TIMEOUT`) with a
    ``RuntimeError`` (as when it fails) that suggests a smaller drawing.
    """
    exe = shutil.which(engine)
    if exe:
        limit = LAYOUT_TIMEOUT if timeout is None else timeout
        try:
            proc = subprocess.run([exe, f"-T{format}"], input=source.encode("utf-8"), capture_output=True,
                                  timeout=limit)
        except subprocess.TimeoutExpired:
            raise RuntimeError(
                f"render: `{engine} -T{format}` did not finish within {limit:g} s on a graph of "
                f"{source.count(' -> '):,} edges; draw fewer nodes (max_nodes=, collapse='box', "
                "hide_shape_ops=True) or raise tinygrad_edu.viz.render.LAYOUT_TIMEOUT"
            ) from None
        stderr = proc.stderr.decode("utf-8", "replace").strip()
        if proc.returncode != 0:
            raise RuntimeError(f"render: `{engine} -T{format}` failed with exit code {proc.returncode}: {stderr}")
        if stderr:
            warnings.warn(f"{engine}: {stderr}", RenderWarning, stacklevel=3)
        return proc.stdout
    try:
        import pygraphviz
    except ImportError as err:
        missing = isinstance(err, ModuleNotFoundError) and err.name == "pygraphviz"
        why = "pygraphviz is not installed" if missing else f"pygraphviz is installed but cannot load ({err})"
        raise GraphvizNotFoundError(
            f"render: cannot make a {format.upper()} picture: the Graphviz `{engine}` program is not on PATH "
            f"and {why}. {INSTALL_HINT} Without either, the DOT text is still "
            "available as `graph.source` (or render(path, format='dot'))."
        ) from None
    agraph = pygraphviz.AGraph(string=source)
    return agraph.draw(format=format, prog=engine)


def _resolve_path(path: str | os.PathLike[str] | None, format: str | None, default: str) -> tuple[Path, str]:
    """Infer the format from the suffix when not given; add the suffix when missing."""
    target = Path(path) if path is not None else Path(default)
    suffix = target.suffix.lstrip(".").lower()
    if format is None:
        format = suffix if suffix in FORMATS else "svg"
    format = format.lower()
    if format not in FORMATS:
        raise ValueError(f"render: format must be one of {', '.join(FORMATS)}, got {format!r}")
    if suffix != format:
        target = target.with_name(target.name + "." + format)
    return target, format


class Graph(graphviz.Digraph):
    """A ``graphviz.Digraph`` that renders with ``dot`` or pygraphviz and always displays in Jupyter.

    Everything of ``graphviz.Digraph`` works (``.source``, ``.node()``, ``.edge()``, ...);
    :meth:`render` takes ``(path, format)`` and writes only the picture.
    ``text`` holds a plain-text listing of the graph, shown when nothing can render.
    """

    text: str = ""

    def copy(self) -> Graph:
        other = super().copy()
        other.text = self.text
        return other

    def pipe(  # type: ignore[override]
        self,
        format: str | None = None,
        renderer: str | None = None,
        formatter: str | None = None,
        neato_no_op: Any = None,
        quiet: bool = False,
        *,
        engine: str | None = None,
        encoding: str | None = None,
    ) -> Any:
        """The rendered picture as bytes (or ``str`` with ``encoding``), via ``dot`` or pygraphviz."""
        if renderer or formatter or neato_no_op:
            return super().pipe(format, renderer, formatter, neato_no_op, quiet, engine=engine, encoding=encoding)
        format = format or self.format
        if format in ("dot", "gv"):
            data = self.source.encode("utf-8")
        else:
            data = layout(self.source, format, engine or self.engine)
        return data.decode(encoding) if encoding else data

    def render(  # type: ignore[override]
        self,
        path: str | os.PathLike[str] | None = None,
        format: str | None = None,
        *,
        filename: str | os.PathLike[str] | None = None,
        directory: str | os.PathLike[str] | None = None,
        outfile: str | os.PathLike[str] | None = None,
        view: bool = False,
        engine: str | None = None,
        **_ignored: Any,
    ) -> str:
        """Write the picture to ``path`` (``"graph.svg"``; the suffix picks the format) and return the path.

        ``format`` is "svg", "png", "pdf" or "dot"/"gv" (the DOT text, no Graphviz needed).
        Uses the ``dot`` program when on PATH, else pygraphviz, else raises
        :class:`GraphvizNotFoundError` saying how to install either. Parent folders are created.
        """
        path = path if path is not None else (outfile if outfile is not None else filename)
        if path is None:
            stem = (self.filename or "graph").removesuffix(".gv")
            path = stem
        if directory is not None:
            path = Path(directory) / path
        target, fmt_ = _resolve_path(path, format, "graph")
        data = self.pipe(fmt_, engine=engine)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        if view:
            graphviz.view(str(target))
        return str(target)

    # ------------------------------------------------------------------ notebooks

    def _fallback_bundle(self, reason: str) -> dict[str, str]:
        note = f"(Graph drawn as text: {reason} {INSTALL_HINT})"
        body = self.text or self.source
        return {
            "text/plain": f"{body}\n{note}",
            "text/html": f"<pre>{html.escape(body)}</pre><p><small>{html.escape(note)}</small></p>",
        }

    def _repr_mimebundle_(  # type: ignore[override]
        self, include: Any = None, exclude: Any = None, **_: Any
    ) -> dict[str, Any]:
        """SVG when ``dot`` or pygraphviz can render it, else a text view (never raises)."""
        if find_renderer(self.engine) is None:
            return self._fallback_bundle(f"the Graphviz `{self.engine}` program is not on PATH.")
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RenderWarning)
                svg = self.pipe("svg", encoding="utf-8")
        except Exception as err:  # noqa: BLE001 - a notebook must show something, not a traceback
            return self._fallback_bundle(f"rendering failed ({type(err).__name__}: {err}).")
        return {"image/svg+xml": svg, "text/plain": self.text or self.source}

    def _repr_svg_(self) -> str | None:
        return self._repr_mimebundle_().get("image/svg+xml")

    def __str__(self) -> str:
        return self.source
