"""The run report: a folder with what a training run measured, drew and learned, and a page showing it.

:func:`write_report` (also ``tinygrad_edu.train.write_report``) writes, in this order, so an
interruption or a failing drawing never loses the results:

1. ``model.npz`` (the trained parameters, :func:`tinygrad_edu.checkpoint.save`) and
   ``metrics.json`` (settings, final loss/accuracy on the training and held-out sets, the
   history, gradient checks, notes);
2. the figures, when matplotlib is installed: ``loss.png`` (learning curve), ``boundary.png``
   (decision boundary, 2-D classification data), ``histograms.png`` (per-layer activations and
   gradients);
3. the computation graph of one forward and backward pass on four examples, with the
   gradients of that backward pass: ``graph.svg`` (each layer folded into one box, top to
   bottom) and ``graph-full.svg`` (every op, layers framed); DOT text (``.dot``) when Graphviz
   is missing or fails;
4. ``metrics.json`` again with the list of files, and ``index.html``: every figure links to its
   full-size file, the held-out set has one name (``held_out``, "test" by default) in the
   tables and the plots.

From Python::

    history = fit(model, cross_entropy, opt, (Xtr, ytr), epochs=100, validation_data=(Xte, yte))
    report = tinygrad_edu.train.write_report(history, model, "runs/mine", loss_fn=cross_entropy,
                                             train_data=(Xtr, ytr), test_data=(Xte, yte))
    report.index   # runs/mine/index.html
"""

from __future__ import annotations

import html
import json
import os
import platform
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from . import __version__
from .argcheck import check_path
from .mlp_checks import reference_word
from .tensor_class import Tensor
from .train import History, evaluate

__all__ = ["GraphNotRendered", "RunReport", "draw_model_graph", "save_graph", "write_report"]

PLOT_TIP = "no figures: matplotlib is missing; install it with pip install 'tinygrad-edu[plot]'"


@dataclass
class RunReport:
    """What :func:`write_report` wrote: the ``folder``, the ``metrics`` (as in metrics.json), the ``notes``."""

    folder: Path
    metrics: dict[str, Any]
    notes: list[str] = field(default_factory=list)

    @property
    def index(self) -> Path:
        """The report page, ``folder/index.html``."""
        return self.folder / "index.html"

    @property
    def files(self) -> dict[str, str]:
        """``{role: file name}`` of everything written (model, metrics, loss, boundary, graph, ...)."""
        return self.metrics["files"]

    def _repr_html_(self) -> str:
        items = ", ".join(html.escape(name) for name in self.files.values())
        return f"<p>Run report in <code>{html.escape(str(self.folder))}</code>: {items}, index.html</p>"


# ============================================================================ small writers


def write_atomic(path: Path, data: str | bytes) -> None:
    """Write ``data`` to a temporary file beside ``path``, then rename it over ``path`` (never half a file)."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data.encode("utf-8") if isinstance(data, str) else data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _json_default(x: Any) -> Any:
    if isinstance(x, Path):
        return str(x)
    if isinstance(x, np.generic):
        return x.item()
    if isinstance(x, np.ndarray):
        return x.tolist()
    raise TypeError(f"not JSON serialisable: {type(x).__name__}")


def _write_metrics(out: Path, metrics: dict[str, Any]) -> None:
    write_atomic(out / "metrics.json", json.dumps(metrics, indent=1, default=_json_default) + "\n")


# ============================================================================ the graph


class GraphNotRendered(RuntimeError):
    """Graphviz is missing or failed; ``dot_path`` is where the DOT text went (None when nothing was written)."""

    def __init__(self, message: str, dot_path: Path | None) -> None:
        super().__init__(message)
        self.dot_path = dot_path


def draw_model_graph(model: Any, X: Any, y: Any = None, loss_fn: Any = None, *, full: bool = False) -> Any:
    """The graph of ``model(X)`` (and ``loss_fn(model(X), y)`` with its backward pass, so every node
    carries its gradient). ``full=False`` folds each layer into one box, top to bottom; ``full=True``
    draws every op with the layers framed. The parameters' ``.grad`` are left as they were."""
    from .viz import draw_graph

    if not hasattr(model, "parameters"):
        raise TypeError(f"draw_model_graph: model must be an nn.Module, got {type(model).__name__}")
    params = list(model.parameters())
    saved = [(p, p.grad) for p in params]
    try:
        root = model(Tensor(np.asarray(X)))
        if y is not None and loss_fn is not None:
            root = loss_fn(root, y)
            for p in params:
                p.grad = None
            root.backward()
        if full:
            return draw_graph(root, model=model, collapse="cluster", rankdir="TB")
        return draw_graph(root, model=model, collapse="box", depth=1, hide_shape_ops=True, rankdir="TB")
    finally:
        for p, g in saved:
            p.grad = g


def save_graph(graph: Any, path: Path, overwrite_fallback: bool = False) -> Path:
    """Render ``graph`` to ``path`` (.svg/.png/.pdf, or .dot for the text); return ``path``.

    When Graphviz is missing or fails (e.g. it cannot write that format), the DOT text goes to
    ``path`` with the suffix ``.dot`` instead -- unless that file exists and ``overwrite_fallback``
    is False -- and :class:`GraphNotRendered` says what happened and where the text is.
    """
    from .viz import GraphvizNotFoundError

    path = check_path(path, "path", "save_graph")
    if not hasattr(graph, "source"):
        raise TypeError(f"save_graph: graph must be a drawn graph (viz.draw_graph), got {type(graph).__name__}")
    suffix = path.suffix.lower().lstrip(".") or "svg"
    if suffix in ("dot", "gv"):
        write_atomic(path, graph.source)
        return path
    try:
        return Path(graph.render(path, suffix))
    except (GraphvizNotFoundError, RuntimeError) as err:
        reason = str(err).splitlines()[0] if str(err) else type(err).__name__
        dot_path = path.with_suffix(".dot")
        if dot_path.exists() and not overwrite_fallback:
            raise GraphNotRendered(
                f"could not render {path.name} ({reason}); the DOT text was not written either, because "
                f"{dot_path} exists and was not named (give --out {dot_path.name} to replace it)", None
            ) from None
        write_atomic(dot_path, graph.source)
        raise GraphNotRendered(f"could not render {path.name} ({reason}); wrote the DOT text to {dot_path}",
                               dot_path) from None


# ============================================================================ the report


def _results(model: Any, loss_fn: Any, data: Any) -> dict[str, float]:
    return evaluate(model, loss_fn, data) if loss_fn is not None and data is not None else {}


def write_report(
    history: History,
    model: Any,
    out: str | os.PathLike,
    *,
    loss_fn: Any = None,
    train_data: Any = None,
    test_data: Any = None,
    held_out: str = "test",
    settings: Mapping[str, Any] | None = None,
    checks: Mapping[str, Any] | None = None,
    title: str | None = None,
    command: str = "fit",
    notes: Sequence[str] = (),
) -> RunReport:
    """Write the run folder ``out`` (created if needed; see the module docstring) and return a :class:`RunReport`.

    ``train_data`` / ``test_data``: ``(X, y)`` pairs; with ``loss_fn`` they give the final loss and
    accuracy, and ``train_data`` the decision boundary, histograms and graph. ``held_out`` names the
    held-out set everywhere ("test", "validation", "dev"). ``checks``: gradient checks as the CLI
    makes them (``finite_differences``, ``reference``, ``text``). ``notes`` are shown on the page.
    """
    start = time.perf_counter()
    if not hasattr(history, "as_dict"):
        raise TypeError(f"write_report: history must be the History that fit returned, got {type(history).__name__}")
    folder = check_path(out, "out", "write_report")
    folder.mkdir(parents=True, exist_ok=True)
    s = dict(settings or {})
    metrics: dict[str, Any] = {
        "tinygrad_edu_version": __version__,
        "command": command,
        "title": title or f"tinygrad-edu {command}",
        "held_out": held_out,
        "settings": s,
        "train": _results(model, loss_fn, train_data),
        held_out: _results(model, loss_fn, test_data),
        "history": history.as_dict(),
        "interrupted": bool(history.interrupted),
        "files": {},
        "environment": {"python": platform.python_version(), "numpy": np.__version__},
    }
    files: dict[str, str] = metrics["files"]
    notes = list(notes)
    metrics["notes"] = notes
    if history.interrupted:
        done = len(history.epochs)
        notes.insert(0, f"interrupted (Ctrl-C) after {done} finished epoch(s) of {s.get('epochs', '?')}: the "
                        "figures and the model are those of the training so far")
    if checks is not None:
        metrics["gradcheck"] = checks["finite_differences"]
        metrics["reference_check"] = checks["reference"]
        write_atomic(folder / "gradcheck.txt", checks["text"])
        files["gradcheck"] = "gradcheck.txt"

    # 1. the results first: a failing figure must not lose them
    if hasattr(model, "state_dict"):
        from .checkpoint import save

        save(model, folder / "model.npz")
        files["model"] = "model.npz"
    files["metrics"] = "metrics.json"
    _write_metrics(folder, metrics)

    # 2. figures
    try:
        _write_figures(history, model, loss_fn, train_data, held_out, s, folder, files, notes)
    except ImportError:
        notes.append(PLOT_TIP)

    # 3. the graph, with the gradients of one backward pass
    if train_data is not None:
        X, y = train_data
        for role, name, full in (("graph", "graph.svg", False), ("graph_full", "graph-full.svg", True)):
            graph = draw_model_graph(model, np.asarray(X)[:4], np.asarray(y)[:4], loss_fn, full=full)
            try:
                files[role] = save_graph(graph, folder / name, overwrite_fallback=True).name
            except GraphNotRendered as err:
                files[role] = err.dot_path.name if err.dot_path else ""
                if role == "graph":
                    notes.append(f"Graphviz: {err}")

    # 4. the page
    losses = history.train_loss
    if len(losses) > 1 and losses[-1] > losses[0]:
        notes.insert(0, f"the cost J went UP, from {losses[0]:.4g} (epoch 1) to {losses[-1]:.4g} (epoch "
                        f"{len(losses)}): gradient descent diverged; try a smaller learning rate (--lr)")
    metrics["seconds_report"] = time.perf_counter() - start
    _write_metrics(folder, metrics)
    write_atomic(folder / "index.html", index_html(metrics, checks["text"] if checks is not None else ""))
    return RunReport(folder, metrics, notes)


def _write_figures(
    history: History, model: Any, loss_fn: Any, train_data: Any, held_out: str, s: dict[str, Any], folder: Path,
    files: dict[str, str], notes: list[str],
) -> None:
    from .plots import plot_decision_boundary, plot_histograms, plot_learning_curve

    name = s.get("dataset", "")
    suffix = f" ({name})" if name else ""
    if history.iteration_loss:
        plot_learning_curve(history, folder / "loss.png", title=f"Learning curve{suffix}", val_label=held_out)
        files["loss"] = "loss.png"
    if train_data is None:
        return
    X, y = (np.asarray(a) for a in train_data)
    classification = np.issubdtype(y.dtype, np.integer) and y.ndim == 1
    if X.ndim == 2 and X.shape[1] == 2 and classification:
        plot_decision_boundary(model, X, y, folder / "boundary.png", resolution=150, loss_fn=loss_fn,
                               title=f"Decision boundary, train set{suffix}")
        files["boundary"] = "boundary.png"
    else:
        notes.append("no decision boundary: it is drawn for 2-D classification data only")
    if loss_fn is not None and hasattr(model, "__iter__"):
        k = min(len(X), 256)
        plot_histograms(model, X[:k], y[:k], loss_fn, folder / "histograms.png")
        files["histograms"] = "histograms.png"


# ============================================================================ the page


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    if isinstance(v, list):
        return ", ".join(str(x) for x in v) if v else "(none)"
    return str(v)


def _figure(name: str | None, alt: str, heading: str) -> str:
    if not name:
        return ""
    e = html.escape
    return (f"<h2>{e(heading)}</h2>\n<p><a href='{e(name)}' title='open the full-size picture'>"
            f"<img class='figure' src='{e(name)}' alt='{e(alt)}'></a></p>")


def _graph_section(files: dict[str, str]) -> list[str]:
    e = html.escape
    graph, full = files.get("graph", ""), files.get("graph_full", "")
    if not graph:
        return []
    parts = ["<h2>Computation graph of one forward and backward pass</h2>"]
    if graph.endswith(".svg"):
        parts.append(
            "<p>Four training examples through the trained model and the cost J; each layer is one box, every "
            "value shows its gradient from the backward pass. "
            + (f"<a href='{e(full)}'>The expanded graph</a> (every op, layers framed). " if full else "")
            + "Scroll inside the frame to pan.</p>"
        )
        parts.append(f"<div class='graph'><a href='{e(graph)}'><img id='graph' src='{e(graph)}' "
                     "alt='computation graph, one box per layer'></a></div>")
    else:
        parts.append(
            f"<p>Graphviz could not render here; the graph is in DOT text: <a href='{e(graph)}'>{e(graph)}</a> "
            f"(render it with <code>dot -Tsvg {e(graph)}</code>)"
            + (f" and the expanded one: <a href='{e(full)}'>{e(full)}</a>" if full else "") + ".</p>"
        )
    return parts


def _checks_section(m: dict[str, Any], files: dict[str, str], text: str) -> list[str]:
    if "gradcheck" not in m:
        return []
    e = html.escape
    g, r = m["gradcheck"], m["reference_check"]
    word = reference_word(r)
    detail = f" (max abs difference {r['max_abs_diff']:.2e})" if r.get("ok") is not None else \
        f" ({e(str(r.get('skipped')))})"
    return [
        "<h2>Gradient checks</h2>",
        f"<p>Finite differences: <b>{'passed' if g['ok'] else 'FAILED'}</b> (max abs error {g['max_abs_error']:.2e}, "
        f"max rel error {g['max_rel_error']:.2e}). Lectures' reference backprop: <b>{word}</b>{detail}. "
        f"The tables as text: <a href='{e(files['gradcheck'])}'>{e(files['gradcheck'])}</a>.</p>",
        f"<pre>{e(text)}</pre>" if text else "",
    ]


_STYLE = (
    "body{font-family:sans-serif;max-width:1100px;margin:2em auto;padding:0 1em}"
    "table{border-collapse:collapse;margin:1em 0}th,td{border:1px solid #ccc;padding:3px 8px;text-align:left}"
    "img.figure{max-width:100%;border:1px solid #eee}pre{background:#f6f6f6;padding:1em;overflow-x:auto}"
    ".graph{overflow:auto;max-height:85vh;border:1px solid #ddd;padding:4px}.graph img{max-width:none}"
    ".note{background:#fff6d5;padding:4px 8px}"
)


def index_html(m: dict[str, Any], checks_text: str = "") -> str:
    """The report page for the metrics of :func:`write_report` (``checks_text``: the gradient-check tables)."""
    e = html.escape
    s, files, held_out = m["settings"], m["files"], m.get("held_out", "test")
    rows = "".join(f"<tr><th>{e(str(k))}</th><td>{e(_fmt(v))}</td></tr>" for k, v in s.items())
    res = [f"<tr><th>{split} {e(k)}</th><td>{v:.4f}</td></tr>"
           for split in ("train", held_out) for k, v in m.get(split, {}).items()]
    hist = m["history"]
    res.append(f"<tr><th>epochs</th><td>{len(hist['epochs'])}{' (interrupted)' if m.get('interrupted') else ''}"
               "</td></tr>")
    res.append(f"<tr><th>training time</th><td>{hist['seconds']:.1f} s</td></tr>")
    what = f"MLP {e(_fmt(s['sizes']))} on <b>{e(str(s.get('dataset', '')))}</b>, " if "sizes" in s else ""
    links = ", ".join(f"<a href='{e(files[k])}'>{e(files[k])}</a>" for k in ("metrics", "model") if k in files)
    parts = [
        "<!DOCTYPE html>",
        "<html lang='en'><head><meta charset='utf-8'>",
        f"<title>{e(m['title'])}</title>",
        f"<style>{_STYLE}</style>",
        "</head><body>",
        f"<h1>{e(m['title'])}</h1>",
        f"<p>{what}written by tinygrad-edu {e(m['tinygrad_edu_version'])}. All figures and the trained model: "
        f"{links}. The held-out set is called the <b>{e(held_out)} set</b> in the tables and plots.</p>",
    ]
    parts += [f"<p class='note'>{e(note)}</p>" for note in m.get("notes", [])]
    if rows:
        parts += ["<h2>Settings</h2>", f"<table>{rows}</table>"]
    parts += ["<h2>Results</h2>", f"<table id='results'>{''.join(res)}</table>"]
    parts += _checks_section(m, files, checks_text)
    parts.append(_figure(files.get("loss"), f"learning curve: cost J against iteration, train and {held_out}",
                         "Learning curve"))
    parts.append(_figure(files.get("boundary"), "decision boundary with the training data", "Decision boundary"))
    parts += _graph_section(files)
    parts.append(_figure(files.get("histograms"), "histograms of activations and their gradients",
                         "Activations and gradients per layer"))
    parts.append("</body></html>\n")
    return "\n".join(p for p in parts if p)
