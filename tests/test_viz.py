"""Drawings of computation graphs: DOT structure, determinism, rendering, fallbacks, huge graphs.

Rendering tests need the Graphviz ``dot`` program (CI installs Debian's graphviz) and skip
cleanly without it; everything about the DOT text runs everywhere.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import types
import warnings
import xml.etree.ElementTree as ET

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import Tensor, Value, engine
from tinygrad_edu.viz import Graph, GraphvizNotFoundError, RenderWarning, draw_graph, render
from tinygrad_edu.viz.draw import NO_GRAD_COLOR, ZERO_GRAD_COLOR, grad_color
from tinygrad_edu.viz.graph import walk

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="the Graphviz `dot` program is not installed")
SVG_NS = "{http://www.w3.org/2000/svg}"


def neuron() -> tuple[Value, Value, Value, Value]:
    """a = tanh(x1*w1 + b): 4 leaves... 3 leaves, 3 ops, 6 data nodes."""
    x1 = Value(2.0, label="x1", requires_grad=False)
    w1 = Value(-3.0, label="w1")
    b = Value(6.88, label="b")
    z = x1 * w1 + b
    z.label = "z"
    a = z.tanh()
    a.label = "a"
    return a, x1, w1, b


def data_nodes(source: str) -> list[str]:
    return re.findall(r"^\s*(n\d+) \[", source, flags=re.M)


def op_nodes(source: str) -> list[str]:
    return re.findall(r"^\s*(op\d+) \[", source, flags=re.M)


def edges(source: str) -> list[str]:
    return re.findall(r"^\s*(\w+ -> \w+)", source, flags=re.M)


def svg_texts(svg: bytes | str) -> list[str]:
    root = ET.fromstring(svg)
    return ["".join(t.itertext()) for t in root.iter(f"{SVG_NS}text")]


def small_mlp_loss() -> tuple[Tensor, Tensor, Tensor]:
    X = tg.randn(4, 3, seed=0)
    W = tg.randn(2, 3, seed=1, requires_grad=True)
    b = tg.zeros(2, requires_grad=True)
    h = (X @ W.T + b).relu()
    return (h * h).mean(), W, b


# ----------------------------------------------------------------------------- DOT structure


def test_value_graph_structure_and_labels() -> None:
    a, *_ = neuron()
    src = draw_graph(a).source
    assert data_nodes(src) == ["n0", "n1", "n2", "n3", "n4", "n5"]
    assert op_nodes(src) == ["op2", "op4", "op5"]
    # forward order: inputs -> op -> result, in the order the ops ran
    assert edges(src) == [
        "n0 -> op2", "n1 -> op2", "op2 -> n2", "n2 -> op4", "n3 -> op4", "op4 -> n4", "n4 -> op5", "op5 -> n5",
    ]
    for text in ("<B>x1</B>", "<B>w1</B>", "<B>z</B>", "<B>tanh</B>", "data 0.7064", "data -6"):
        assert text in src
    assert "grad" not in src  # nothing computed yet: no grad rows by default


def test_dot_text_is_deterministic_within_and_across_processes() -> None:
    first = draw_graph(neuron()[0]).source
    assert draw_graph(neuron()[0]).source == first
    code = (
        "from tinygrad_edu import Value\n"
        "x1 = Value(2.0, label='x1', requires_grad=False); w1 = Value(-3.0, label='w1'); b = Value(6.88, label='b')\n"
        "z = x1 * w1 + b; z.label = 'z'; a = z.tanh(); a.label = 'a'\n"
        "print(a.draw().source, end='')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out == first


def test_grad_none_and_grad_zero_look_different() -> None:
    w = Value(3.0, label="w")
    c = Value(0.0, label="c", requires_grad=False)
    u = Value(1.0, label="u")
    out = w * c + u
    before = draw_graph(out, show_grads=True).source
    assert before.count("grad: none (not computed)") == 4  # w, u, w*c, out
    assert before.count("dashed") == 4
    out.backward()
    after = draw_graph(out).source
    assert "grad: none" not in after and "dashed" not in after
    assert after.count("grad = 0") == 1  # w: computed, and exactly zero
    assert "grad 1" in after  # u


def test_tensor_labels_shape_dtype_stats_nan_and_grad_stats() -> None:
    x = Tensor([1.0, np.nan, 3.0, -2.0], requires_grad=True, label="x")
    y = (x * 2.0).sum()
    y.backward()
    src = draw_graph(y).source
    assert "(4,) float64" in src
    assert "NaN: 1  inf: 0" in src
    assert "grad norm 4  max|g| 2" in src  # dL/dx = 2 everywhere: norm sqrt(4*4) = 4
    assert "axis=(0,)" in src  # op parameters are shown
    z = Tensor(np.zeros(3), requires_grad=True, label="z")
    (z * 0.0).sum().backward()
    assert "grad = 0 (all zeros)" in draw_graph(z * 1.0, show_grads=True).source


def test_hide_shape_ops_connects_through_and_names_the_skipped_op() -> None:
    loss, W, b = small_mlp_loss()
    full = draw_graph(loss).source
    hidden = draw_graph(loss, hide_shape_ops=True).source
    assert "<B>permute</B>" in full and "<B>expand</B>" in full
    assert "<B>permute</B>" not in hidden and "<B>expand</B>" not in hidden
    assert len(op_nodes(hidden)) == len(op_nodes(full)) - 2
    assert "label=<y: permute>" in hidden and "label=<expand>" in hidden


def test_non_commutative_inputs_are_labelled() -> None:
    a, b = Value(1.0, label="a"), Value(2.0, label="b")
    src = draw_graph(a - b).source
    assert "n0 -> op2 [label=<x>]" in src and "n1 -> op2 [label=<y>]" in src


def test_parameter_names_clusters_and_boxes_from_a_model() -> None:
    from tinygrad_edu import nn

    model = nn.MLP([2, 3, 1], activation="tanh", seed=0)
    X = tg.randn(5, 2, seed=1)
    loss = (model(X) ** 2).mean()
    loss.backward()
    src = draw_graph(loss, model=model).source
    for name in ("0.weight", "0.bias", "2.weight", "2.bias"):
        assert f"<B>{name}</B>" in src
    assert "subgraph cluster" not in src
    clustered = draw_graph(loss, model=model, collapse="cluster").source
    assert clustered.count("subgraph cluster_") == 3  # 0: Linear, 1: Tanh, 2: Linear
    assert "0: Linear" in clustered and "1: Tanh" in clustered
    boxed = draw_graph(loss, model=model, collapse="box")
    src_boxed = boxed.source
    assert re.findall(r"^\s*(m\d+) \[", src_boxed, flags=re.M) == ["m0", "m1", "m2"]
    assert "weight (3, 2)" in src_boxed and "grad rms" in src_boxed
    assert boxed.graph_model.n_drawn < draw_graph(loss, model=model).graph_model.n_drawn
    # the boxes are chained in forward order: 0 -> ... -> 1 -> ... -> 2
    flow = edges(src_boxed)
    assert flow.index("m0 -> m1") < flow.index("m1 -> m2")


def test_scope_stand_ins_cluster_without_a_model() -> None:
    class Block:
        pass

    outer, inner = Block(), Block()
    x = Tensor(np.ones(2), requires_grad=True, label="x")
    with engine.scope(outer):
        h = x * 2.0
        with engine.scope(inner):
            h = h.exp()
    y = h.sum()
    deep = draw_graph(y, collapse="cluster", depth=None).source
    shallow = draw_graph(y, collapse="cluster", depth=1).source
    assert deep.count("subgraph cluster_") == 2 and "Block (2)" in deep
    assert shallow.count("subgraph cluster_") == 1 and "Block (2)" not in shallow


def test_colour_by_gradient_magnitude_and_legend() -> None:
    lo_rgb = grad_color(1e-6, (1e-6, 1e2))[0]
    hi_rgb = grad_color(1e2, (1e-6, 1e2))[0]
    assert lo_rgb == "#313695" and hi_rgb == "#a50026"
    assert grad_color(1e-12, (1e-6, 1e2))[0] == lo_rgb and grad_color(1e9, (1e-6, 1e2))[0] == hi_rgb
    assert grad_color(0.0, (1e-6, 1e2))[0] == ZERO_GRAD_COLOR and grad_color(None, (1e-6, 1e2))[0] == NO_GRAD_COLOR
    tiny, huge = Value(1e-7, label="tiny"), Value(1e3, label="huge")
    out = tiny * huge  # d/dtiny = 1e3 (exploding end), d/dhuge = 1e-7 (vanishing end)
    out.backward()
    src = draw_graph(out, color_by="grad").source
    assert re.search(r'n0 \[label=.*fillcolor="#a50026"', src)  # tiny gets grad 1e3
    assert re.search(r'n1 \[label=.*fillcolor="#313695"', src)  # huge gets grad 1e-7
    assert "gradient RMS (log scale)" in src and "cluster_legend" in src
    assert "cluster_legend" not in draw_graph(out).source


def test_option_errors_are_clear() -> None:
    a = neuron()[0]
    with pytest.raises(ValueError, match="rankdir"):
        draw_graph(a, rankdir="up")
    with pytest.raises(ValueError, match="collapse"):
        draw_graph(a, collapse="fold")
    with pytest.raises(ValueError, match="grad_range"):
        draw_graph(a, grad_range=(1.0, 0.1))
    with pytest.raises(TypeError, match="expected a tinygrad_edu Value or Tensor"):
        draw_graph(3.0)
    assert "rankdir=TB" in draw_graph(a, rankdir="TB").source


def test_draw_methods_delegate() -> None:
    a = neuron()[0]
    assert a.draw(rankdir="TB").source == draw_graph(a, rankdir="TB").source
    loss = small_mlp_loss()[0]
    assert isinstance(loss.draw(), Graph) and loss.draw().source == draw_graph(loss).source


# ----------------------------------------------------------------------------- huge graphs


def test_node_cap_draws_a_summary() -> None:
    x = Value(0.5, label="x")
    y = x
    for _ in range(30):
        y = (y * 1.01).tanh()
    g = draw_graph(y, max_nodes=50)
    src = g.source
    assert data_nodes(src) == [] and "summary [" in src
    assert "Graph too large to draw" in src and "tanh: 30" in src and "*: 30" in src
    assert "longest path 60 ops" in src
    assert g.summary.n_parameters == 1 and g.summary.n_constants == 30
    assert len(data_nodes(draw_graph(y, max_nodes=None).source)) == 91  # x, 30 constants, 60 results


def test_hundred_thousand_node_graph_walks_without_recursion() -> None:
    limit = sys.getrecursionlimit()
    x = Value(1.0, label="x")
    y = x
    for _ in range(50_000):  # each step adds a constant and a result: 100,001 nodes
        y = y + 1.0
    assert len(walk(y)) == 100_001
    g = draw_graph(y)
    assert "100,001 values, 50,000 ops" in g.source
    assert "longest path 50,000 ops" in g.source
    assert sys.getrecursionlimit() == limit
    # drawing everything still works (DOT text only; laying it out is dot's business)
    deep = x
    for _ in range(3_000):
        deep = deep * 1.0
    assert len(op_nodes(draw_graph(deep, max_nodes=None).source)) == 3_000


# ----------------------------------------------------------------------------- rendering with dot


@needs_dot
def test_svg_parses_and_contains_labels(tmp_path) -> None:
    a, *_ = neuron()
    a.backward()
    path = draw_graph(a).render(tmp_path / "neuron.svg")
    assert path.endswith("neuron.svg")
    texts = svg_texts((tmp_path / "neuron.svg").read_bytes())
    for expected in ("x1", "w1", "b", "z", "a", "tanh", "data 0.7064", "grad 1.002"):
        assert expected in texts


@needs_dot
def test_png_and_pdf_signatures(tmp_path) -> None:
    loss = small_mlp_loss()[0]
    png = render(loss, tmp_path / "loss.png")
    pdf = render(loss, tmp_path / "loss", format="pdf")
    assert open(png, "rb").read(8) == b"\x89PNG\r\n\x1a\n"
    assert pdf.endswith("loss.pdf") and open(pdf, "rb").read(5) == b"%PDF-"
    with pytest.raises(ValueError, match="format must be one of"):
        render(loss, tmp_path / "loss", format="bmp")


@needs_dot
def test_nasty_labels_render_through_real_dot(tmp_path) -> None:
    nasty = ['<b>x</b>', '{a|b}', 'a & b', 'say "hi"', "back\\slash \\l", "]>;", "<<>>", "é ü ∂"]
    leaves = [Value(float(i), label=text) for i, text in enumerate(nasty)]
    out = Value.sum(leaves)
    out.label = "|{<out>}|"
    t = Tensor([1.0, 2.0], requires_grad=True, label="<T|{&}>")
    graphs = [draw_graph(out, title="<title & {x}>"), draw_graph(t.sum())]
    for k, g in enumerate(graphs):
        with warnings.catch_warnings():
            warnings.simplefilter("error", RenderWarning)  # any dot warning ("bad label format") fails
            svg = g.pipe("svg")
        texts = svg_texts(svg)
        expected = nasty + ["|{<out>}|", "<title & {x}>"] if k == 0 else ["<T|{&}>"]
        for text in expected:
            assert text in texts, text
    proc = subprocess.run(["dot", "-Tsvg"], input=graphs[0].source.encode(), capture_output=True)
    assert proc.returncode == 0 and proc.stderr == b""


@needs_dot
def test_notebook_repr_is_svg_when_dot_exists() -> None:
    bundle = neuron()[0].draw()._repr_mimebundle_()
    assert "image/svg+xml" in bundle
    ET.fromstring(bundle["image/svg+xml"])


# ----------------------------------------------------------------------------- without dot


@pytest.fixture
def no_graphviz(monkeypatch, tmp_path):
    """No `dot` on PATH and no pygraphviz."""
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    monkeypatch.setitem(sys.modules, "pygraphviz", None)  # import raises ImportError
    assert shutil.which("dot") is None


def test_missing_dot_keeps_dot_text_and_raises_a_clear_error(no_graphviz, tmp_path) -> None:
    g = neuron()[0].draw()
    assert g.source.startswith("digraph computation_graph {")
    with pytest.raises(GraphvizNotFoundError) as info:
        g.render(tmp_path / "x.svg")
    message = str(info.value)
    assert "apt-get install graphviz" in message and "pip install tinygrad-edu[pygraphviz]" in message
    assert not (tmp_path / "x.svg").exists()
    path = g.render(tmp_path / "x", format="dot")  # the DOT text needs nothing installed
    assert open(path).read() == g.source


def test_missing_dot_notebook_falls_back_to_text(no_graphviz) -> None:
    a, *_ = neuron()
    a.backward()
    g = a.draw()
    bundle = g._repr_mimebundle_()
    assert "image/svg+xml" not in bundle
    assert "z = +(#2, b) = 0.88   [grad 0.501]" in bundle["text/plain"]
    assert "apt-get install graphviz" in bundle["text/plain"]
    assert bundle["text/html"].startswith("<pre>")
    assert g._repr_svg_() is None


def test_pygraphviz_is_used_when_dot_is_missing(no_graphviz, monkeypatch, tmp_path) -> None:
    calls = []

    class FakeAGraph:
        def __init__(self, string: str) -> None:
            calls.append(string)

        def draw(self, format: str, prog: str) -> bytes:
            calls.append((format, prog))
            return b"<svg xmlns='http://www.w3.org/2000/svg'/>"

    monkeypatch.setitem(sys.modules, "pygraphviz", types.SimpleNamespace(AGraph=FakeAGraph))
    g = neuron()[0].draw()
    path = g.render(tmp_path / "p.svg")
    assert calls == [g.source, ("svg", "dot")]
    assert open(path, "rb").read().startswith(b"<svg")


# ----------------------------------------------------------------------------- docs and example


@needs_dot
def test_docs_code_blocks_run_self_contained(tmp_path) -> None:
    import importlib.util
    from pathlib import Path

    script = Path(__file__).resolve().parent.parent / "docs" / "images" / "make_images.py"
    spec = importlib.util.spec_from_file_location("make_images", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.run_blocks(tmp_path) == 6
    for name in ("logistic_regression", "mlp_clusters", "mlp_boxes", "vanishing_gradients", "summary"):
        ET.fromstring((tmp_path / "images" / f"{name}.svg").read_bytes())


def test_example_script_writes_dot_files(tmp_path, no_graphviz) -> None:
    from pathlib import Path

    example = Path(__file__).resolve().parent.parent / "examples" / "draw_graph.py"
    namespace: dict = {"__name__": "example"}
    exec(compile(example.read_text(), str(example), "exec"), namespace)
    namespace["main"](tmp_path / "out")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["mlp.dot", "mlp_grad_colours.dot", "neuron.dot"]


def test_real_pygraphviz_renders_without_dot(monkeypatch, tmp_path) -> None:
    """The pygraphviz fallback with the real library (its wheel bundles Graphviz; glib/X11 come from the system)."""
    pytest.importorskip("pygraphviz")
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    assert shutil.which("dot") is None
    a, *_ = neuron()
    a.backward()
    g = a.draw()
    svg = g.render(tmp_path / "p.svg")
    root = ET.fromstring(open(svg, "rb").read())
    assert root.tag.endswith("svg")
    assert ">tanh<" in open(svg).read() and ">w1<" in open(svg).read()
    png = g.render(tmp_path / "p.png", format="png")
    assert open(png, "rb").read(8) == b"\x89PNG\r\n\x1a\n"


# ----------------------------------------------------------------------------- audit: readable labels and boxes


def test_box_depth_beyond_a_flat_model_boxes_its_leaf_modules() -> None:
    from tinygrad_edu import nn

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.body = nn.MLP([2, 3, 3], activation="tanh", seed=0)
            self.head = nn.Linear(3, 1, seed=1)

        def forward(self, x: Tensor) -> Tensor:
            return self.head(self.body(x))

    net = Net()
    loss = (net(tg.randn(4, 2, seed=2)) ** 2).mean()
    loss.backward()
    src = draw_graph(loss, model=net, collapse="box", depth=2).source
    boxes = re.findall(r"^\s*(m\d+) \[", src, flags=re.M)
    assert len(boxes) == 4  # body.0, body.1, body.2 inside the body cluster, and head at its own level
    assert src.count("subgraph cluster_") == 1 and "body: MLP" in src and "head: Linear" in src
    flat = nn.MLP([2, 4, 1], activation="tanh", seed=0)
    flat_loss = flat(tg.randn(3, 2, seed=1)).sum()
    flat_loss.backward()
    assert draw_graph(flat_loss, model=flat, collapse="box", depth=3).source == \
        draw_graph(flat_loss, model=flat, collapse="box", depth=1).source


def test_box_labels_count_in_words_and_activation_boxes_show_their_output_gradient() -> None:
    from tinygrad_edu import nn

    # Linear is one fused op (singular words); ELU is composed of five (plural words)
    model = nn.Sequential(nn.Linear(2, 3, seed=0), nn.Sigmoid(), nn.Linear(3, 1, seed=0), nn.ELU())
    loss = (model(tg.randn(5, 2, seed=1)) ** 2).mean()
    loss.backward()
    g = draw_graph(loss, model=model, collapse="box", color_by="grad")
    src = g.source
    assert "1 tensor, 1 op<" in src and "1 tensors" not in src and "5 tensors, 5 ops" in src
    sigmoid_box = next(b for b in g.graph_model.boxes if b.name == "1: Sigmoid")
    out_rms = float(np.sqrt(np.mean(sigmoid_box.members[-1].node.grad.data ** 2)))
    assert f"output grad rms {out_rms:.4g}" in src
    line = next(ln for ln in src.splitlines() if ln.lstrip().startswith(f"{sigmoid_box.id} ["))
    assert f'fillcolor="{grad_color(out_rms, (1e-6, 1e2))[0]}"' in line and NO_GRAD_COLOR not in line


def test_muted_text_stays_readable_on_gradient_fills() -> None:
    big = Value(3.0, label="big")
    out = big * 40.0  # d out / d big = 40: a red fill on the scale, dark font
    out.backward()
    line = next(ln for ln in draw_graph(out, color_by="grad").source.splitlines() if ln.lstrip().startswith("n0 ["))
    assert 'COLOR="#6b7280"' not in line and 'fillcolor="#ffffff"' not in line


def test_unnamed_leaves_say_constant_or_input() -> None:
    w = Value(2.0, label="w")
    src = draw_graph(w * 3.0).source
    assert "constant #1" in src
    X = Tensor(np.ones((2, 2)))
    assert "input #0" in draw_graph(X * Tensor(np.ones(2), requires_grad=True, label="v")).source


def test_summary_counts_in_words() -> None:
    x = Value(0.5, label="x")
    y = (x * 2.0).tanh()
    src = draw_graph(y, max_nodes=2).source
    assert "2 leaves: 1 parameter (1 number), 1 input/constants" in src
    assert "collapse=" not in src and "hide_shape_ops" not in src  # neither helps this graph


def test_pygraphviz_that_cannot_load_is_named_in_the_error(no_graphviz, monkeypatch, tmp_path) -> None:
    """An installed pygraphviz whose system libraries are missing is not reported as 'not installed'."""
    import builtins

    real_import = builtins.__import__

    def failing_import(name, *args, **kwargs):
        if name == "pygraphviz":
            raise ImportError("libgobject-2.0.so.0: cannot open shared object file")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", failing_import)
    with pytest.raises(GraphvizNotFoundError) as info:
        neuron()[0].draw().render(tmp_path / "x.svg")
    assert "installed but cannot load (libgobject-2.0.so.0" in str(info.value)
