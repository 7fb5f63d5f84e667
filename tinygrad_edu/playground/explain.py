"""What a click on a neuron or a link of the page shows: its value, dJ/dw and the chain rule.

For a link (the weight W[l]_jk from neuron k of layer l-1 to neuron j of layer l) or a neuron (its
bias b[l]_j), on the whole training set at the current weights:

* the value and the gradient dJ/dw that autograd computes (``backward()`` on J);
* the lectures' formula with this parameter's numbers: dW[l]_jk = (1/m) sum_i dZ[l]_j(i) A[l-1]_k(i)
  with dZ[l] = dA[l] * g'(Z[l]) and dA[l] = dZ[l+1] W[l+1] (batch first);
* the chain-rule steps of :func:`tinygrad_edu.viz.explain_backward`, kept to the ops between J and
  this parameter (the path the gradient travels);
* the computation graph (:func:`tinygrad_edu.viz.draw_graph`) as DOT text, with the parameter
  highlighted; SVG when Graphviz can lay it out.
"""

from __future__ import annotations

import copy
from typing import Any

import graphviz
import numpy as np

from ..engine import no_grad
from ..tensor_class import Tensor
from ..viz import draw_graph, explain_backward
from ..viz.graph import walk
from ..viz.text import fmt

__all__ = ["explain_parameter"]


def _labelled_loss(pg: Any) -> tuple[Tensor, list[Tensor]]:
    """J on the training set with every tensor named as in the lectures (A[0], Z[l], A[l], W[l], b[l], Y, J)."""
    for l, layer in enumerate(pg.layers, start=1):
        layer.weight.label, layer.bias.label = f"W[{l}]", f"b[{l}]"
        layer.weight.grad = layer.bias.grad = None
    x = Tensor(pg._train_x.data, label="A[0]")
    acts = [x]
    J = pg.loss(x, Tensor(pg._train_y.data, label="Y"), keep=acts)
    J.label = "J"
    return J, acts


def _depends_on(root: Tensor, param: Tensor) -> set[int]:
    """ids of the nodes whose value depends on ``param`` (the path backward takes to reach it)."""
    dep = {id(param)}
    for node in walk(root):
        if any(id(p) in dep for p in node._parents):
            dep.add(id(node))
    return dep


def _check_index(pg: Any, layer: int, neuron: int, source: int | None) -> None:
    if not hasattr(pg, "layers") or not hasattr(pg, "step"):
        raise TypeError(f"explain_parameter: pg must be a Playground, got {type(pg).__name__}")
    n_layers = len(pg.layers)
    if isinstance(layer, bool) or not isinstance(layer, (int, np.integer)) or not 1 <= layer <= n_layers:
        raise ValueError(f"explain_parameter: layer must be an integer in 1..{n_layers} (1 = first hidden layer, "
                         f"{n_layers} = the output), got {layer!r}")
    W = pg.layers[layer - 1].weight
    if isinstance(neuron, bool) or not isinstance(neuron, (int, np.integer)) or not 0 <= neuron < W.shape[0]:
        raise ValueError(f"explain_parameter: neuron must be an integer in 0..{W.shape[0] - 1} for layer {layer}, "
                         f"got {neuron!r}")
    if source is not None and (isinstance(source, bool) or not isinstance(source, (int, np.integer))
                               or not 0 <= source < W.shape[1]):
        raise ValueError(f"explain_parameter: source must be an integer in 0..{W.shape[1] - 1} (a neuron of layer "
                         f"{layer - 1}), got {source!r}")


def explain_parameter(pg: Any, layer: int, neuron: int, source: int | None = None, svg: bool = True) -> dict[str, Any]:
    """Explain W[layer]_{neuron, source} (a link) or, with ``source=None``, b[layer]_neuron (a neuron).

    Returns a JSON-able dict: ``name``, ``value``, ``grad`` (dJ/dw), ``formula`` (the lectures' rule
    with numbers), ``steps`` (the chain-rule steps as text), ``dot`` (the graph) and ``svg`` (or ``""``
    when Graphviz is missing or ``svg=False``). Layers count from 1 (the first hidden layer); the
    inputs are layer 0.
    """
    _check_index(pg, layer, neuron, source)
    J, acts = _labelled_loss(pg)
    J.backward()
    lin = pg.layers[layer - 1]
    param = lin.weight if source is not None else lin.bias
    index = (neuron, source) if source is not None else (neuron,)
    name = f"W[{layer}]_{neuron + 1}{source + 1}" if source is not None else f"b[{layer}]_{neuron + 1}"
    value, grad = float(param.data[index]), float(param.grad.data[index])

    # the lectures' formula, recomputed in numpy from the saved activations
    m = acts[0].shape[0]
    with no_grad():
        dA = (acts[-1].data - pg._train_y.data) / m  # dJ/dA[L] of J = (1/m) sum 1/2 (A[L] - Y)^2
        for l in range(len(pg.layers), layer - 1, -1):
            a = acts[l].data
            act = pg.output_activation if l == len(pg.layers) else pg.hidden_activation
            dZ = dA * _derivative(type(act).__name__, a)
            if l > layer:
                dA = dZ @ pg.layers[l - 1].weight.data
    dz = dZ[:, neuron]
    if source is not None:
        a_prev = acts[layer - 1].data[:, source]
        by_hand = float((dz * a_prev).sum())
        formula = (f"dJ/d{name} = (1/m) sum_i dZ[{layer}]_{neuron + 1}(i) A[{layer - 1}]_{source + 1}(i) "
                   f"= {fmt(by_hand)}   (m = {m}; dZ[{layer}] = dA[{layer}] * g'(Z[{layer}]), "
                   f"dA[l] = dZ[l+1] W[l+1], dA[{len(pg.layers)}] = (A[{len(pg.layers)}] - Y) / m)")
    else:
        by_hand = float(dz.sum())
        formula = (f"dJ/d{name} = (1/m) sum_i dZ[{layer}]_{neuron + 1}(i) = {fmt(by_hand)}   (m = {m}; "
                   f"dZ[{layer}] = dA[{layer}] * g'(Z[{layer}]), dA[l] = dZ[l+1] W[l+1], "
                   f"dA[{len(pg.layers)}] = (A[{len(pg.layers)}] - Y) / m)")

    explanation = explain_backward(J)
    dep = _depends_on(J, param)
    path = copy.copy(explanation)
    path.steps = []
    for step in explanation.steps:
        if id(step.node) in dep:
            kept = copy.copy(step)
            kept.terms = [t for t in step.terms if id(t.input_node) in dep]
            path.steps.append(kept)
    steps = "\n".join(path._blocks()) if path.steps else ""

    dot = _highlight(draw_graph(J, show_grads=True).source, param.label)
    picture = ""
    if svg:
        try:
            picture = graphviz.Source(dot).pipe(format="svg").decode("utf-8")
        except (graphviz.ExecutableNotFound, graphviz.CalledProcessError, OSError):
            picture = ""  # no Graphviz program: the page shows the DOT text instead
    for layer_module in pg.layers:
        layer_module.weight.grad = layer_module.bias.grad = None
    return {"name": name, "value": value, "grad": grad, "by_hand": by_hand, "formula": formula,
            "steps": steps, "dot": dot, "svg": picture}


def _derivative(activation: str, a: np.ndarray) -> np.ndarray:
    """g'(z) written with a = g(z): the lectures' table."""
    if activation == "Tanh":
        return 1.0 - a * a
    if activation == "Sigmoid":
        return a * (1.0 - a)
    if activation == "ReLU":
        return (a > 0).astype(np.float64)
    return np.ones_like(a)  # linear (Identity)


def _highlight(dot: str, label: str) -> str:
    """The DOT text with the node whose label starts with ``label`` drawn thick and orange."""
    lines = []
    for line in dot.splitlines():
        if f"label=\"{label}" in line or f"label=<{label}" in line or f">{label}<" in line or f"\"{label}\\n" in line:
            line = line.rstrip().rstrip("]") + ' penwidth=3 color="#e8710a"]' if line.rstrip().endswith("]") else line
        lines.append(line)
    return "\n".join(lines)
