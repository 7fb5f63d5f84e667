"""Drawing the lectures' graph exactly (fold_unnamed), and drawings that are safe to make.

Issue 20 #7: the deck's logistic-regression graph has the nodes x1, w1, x2, w2, b, z, a, L
only. Issue 13 #21 (control characters in labels), #23 (a drawing must not keep the graph
alive by reference cycles) and the ``dot`` timeout.
"""

from __future__ import annotations

import gc
import re
import shutil
import weakref

import pytest

import tinygrad_edu as tg
from tinygrad_edu import Value, nn
from tinygrad_edu.viz import draw_graph
from tinygrad_edu.viz.expression import formula
from tinygrad_edu.viz.render import layout

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="the Graphviz dot program is not installed")


def lecture_logistic_regression() -> Value:
    x1, x2 = Value(5.0, label="x1", requires_grad=False), Value(3.0, label="x2", requires_grad=False)
    w1, w2, b = Value(0.5, label="w1"), Value(0.5, label="w2"), Value(1.0, label="b")
    y = 1.0
    z = w1 * x1 + w2 * x2 + b
    z.label = "z"
    a = z.sigmoid()
    a.label = "a"
    L = -(y * a.log() + (1 - y) * (1 - a).log())
    L.label = "L"
    L.backward()
    return L


def node_names(source: str) -> list[str]:
    """The bold first row of every box-shaped (data) node, in DOT order."""
    names = []
    for line in source.splitlines():
        if "shape=box" in line:
            m = re.search(r"<TR><TD><B>([^<]*)</B>", line)
            names.append(m.group(1) if m else "?")
    return names


def test_fold_unnamed_draws_exactly_the_decks_nodes() -> None:
    g = draw_graph(lecture_logistic_regression(), fold_unnamed=True)
    assert sorted(node_names(g.source)) == sorted(["x1", "w1", "x2", "w2", "b", "z", "a", "L"])
    # three ops, each labelled with the formula over named nodes
    assert "<B>w1*x1 + w2*x2 + b</B>" in g.source
    assert "<B>sigmoid(z)</B>" in g.source
    assert "<B>-(1*log(a) + 0*log(1 - a))</B>" in g.source
    edges = re.findall(r"(\w+) -> (\w+)", g.source)
    assert len(edges) == 5 + 1 + 1 + 1 + 1 + 1  # five inputs into z's op, then op->z, z->op, op->a, a->op, op->L


def test_without_folding_every_recorded_node_is_drawn() -> None:
    g = draw_graph(lecture_logistic_regression())
    assert len(node_names(g.source)) > 8  # products, sums, the constants, the logs


def test_fold_unnamed_on_a_tensor_graph_keeps_parameters_and_named_nodes() -> None:
    model = nn.MLP([2, 3, 1], activation="tanh", seed=0)
    X = tg.randn(4, 2, seed=1)
    loss = model(X).sum()
    loss.label = "J"
    loss.backward()
    g = draw_graph(loss, model=model, fold_unnamed=True)
    assert sorted(node_names(g.source)) == sorted(["0.weight", "0.bias", "2.weight", "2.bias", "J"])
    # the folded formula of the first hidden layer names its parameters (x W^T + b, fused or not)
    assert re.search(r"<B>[^<]*0\.weight[^<]*0\.bias[^<]*</B>", g.source)


@pytest.mark.parametrize(
    ("op", "operands", "expected"),
    [
        ("-", [("a", 5), ("b + c", 1)], "a - (b + c)"),
        ("-", [("a - b", 1), ("c", 5)], "a - b - c"),
        ("*", [("a + b", 1), ("c", 5)], "(a + b)*c"),
        ("/", [("a", 5), ("b*c", 2)], "a/(b*c)"),
        ("neg", [("a + b", 1)], "-(a + b)"),
        ("**2", [("a + b", 1)], "(a + b)**2"),
        ("sigmoid", [("z", 5)], "sigmoid(z)"),
        ("reshape", [("x", 5)], "x"),
        ("dot", [("w1", 5), ("w2", 5), ("x1", 5), ("x2", 5)], "w1*x1 + w2*x2"),
    ],
)
def test_formulas_keep_precedence_with_few_parentheses(op: str, operands: list, expected: str) -> None:
    assert formula(op, operands)[0] == expected


@needs_dot
@pytest.mark.parametrize("text", ["\x1b[31mred\x1b[0m", "nul\x00byte", "bell\x07 and \x7f and \x85"])
def test_control_characters_in_labels_and_titles_render(text: str) -> None:
    x = Value(2.0, label=text)
    y = (x * 3).tanh()
    y.backward()
    g = draw_graph(y, title=text)
    assert "\x1b" not in g.source and "\x00" not in g.source
    assert "\\x1b" in g.source or "\\x00" in g.source or "\\x07" in g.source
    svg = g.pipe("svg")  # dot rejected the raw characters before the fix
    assert svg.startswith(b"<?xml") or b"<svg" in svg[:400]


@pytest.mark.parametrize("options", [{}, {"collapse": "cluster"}, {"collapse": "box", "color_by": "grad"},
                                     {"fold_unnamed": True}, {"max_nodes": 3}])
def test_a_drawing_does_not_keep_the_graph_alive(options: dict) -> None:
    """Dropping the loss frees its graph by reference counting alone, also after a drawing."""
    model = nn.MLP([2, 4, 1], seed=0)
    X = tg.randn(8, 2, seed=1)
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        loss = model(X).sum()
        loss.backward()
        hidden = loss._parents[0]
        alive = weakref.ref(hidden)
        graph = draw_graph(loss, model=model, **options)
        del graph, loss, hidden
        assert alive() is None, "the drawing left a reference cycle that keeps the graph alive"
    finally:
        if was_enabled:
            gc.enable()


def test_dot_that_runs_too_long_is_stopped_with_a_clear_error(tmp_path, monkeypatch) -> None:
    slow = tmp_path / "dot"
    slow.write_text("#!/bin/sh\nexec /bin/sleep 30\n")  # exec: no orphan holding the pipe
    slow.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}")
    with pytest.raises(RuntimeError, match=r"did not finish within 0.5 s.*max_nodes="):
        layout("digraph { a -> b }", "svg", timeout=0.5)
