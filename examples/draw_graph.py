"""Draw a scalar Value expression and a small Tensor MLP loss, as SVG (with `dot`) and DOT text.

    python examples/draw_graph.py [output folder, default: graphs/]

Without the Graphviz `dot` program (and without pygraphviz) only the .dot files are written.
"""

from __future__ import annotations

import sys
from pathlib import Path

import tinygrad_edu as tg
from tinygrad_edu import Value, nn
from tinygrad_edu.viz import GraphvizNotFoundError, draw_graph, explain_backward


def value_expression() -> Value:
    """One neuron: a = tanh(w1 x1 + w2 x2 + b), then backward."""
    x1, x2 = Value(2.0, label="x1", requires_grad=False), Value(0.0, label="x2", requires_grad=False)
    w1, w2, b = Value(-3.0, label="w1"), Value(1.0, label="w2"), Value(6.8814, label="b")
    z = x1 * w1 + x2 * w2 + b
    z.label = "z"
    a = z.tanh()
    a.label = "a"
    a.backward()
    return a


def mlp_loss() -> tuple[tg.Tensor, nn.Module]:
    """Binary cross-entropy of a [2, 4, 1] MLP on 8 random points, then backward."""
    model = nn.MLP([2, 4, 1], activation="relu", output_activation="sigmoid", seed=0)
    X = tg.randn(8, 2, seed=1)
    Y = tg.Tensor((X.data[:, :1] > 0).astype(float))
    loss = nn.binary_cross_entropy(model(X), Y)
    loss.backward()
    return loss, model


def main(out: Path) -> None:
    a = value_expression()
    loss, model = mlp_loss()
    graphs = {
        "neuron": draw_graph(a, title="a = tanh(w1 x1 + w2 x2 + b)"),
        "mlp": draw_graph(loss, model=model, hide_shape_ops=True, collapse="cluster"),
        "mlp_grad_colours": draw_graph(loss, model=model, collapse="box", color_by="grad"),
    }
    for name, graph in graphs.items():
        print("wrote", graph.render(out / name, format="dot"))
        try:
            print("wrote", graph.render(out / name, format="svg"))
        except GraphvizNotFoundError as err:
            print(f"skipped {name}.svg: {err}")
    print()
    print(explain_backward(a))


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("graphs"))
