"""Pictures of computation graphs and the chain rule, step by step.

* :func:`draw_graph` (also ``value.draw()`` / ``tensor.draw()``): the graph as a
  ``graphviz.Digraph`` -- values, ops, gradients, module clusters, gradient-magnitude colours.
* :func:`render`: write the picture (svg, png, pdf) with the ``dot`` program or pygraphviz.
* :func:`explain_backward`: after ``backward()``, a table of every chain-rule step:
  local derivative x upstream gradient = contribution.

Modules, bottom-up: :mod:`.graph` (what to draw; no Graphviz), :mod:`.text` (numbers and
the text view), :mod:`.render` (DOT text -> picture), :mod:`.draw` (labels, colours,
clusters), :mod:`.explain` (the backward explainer).
"""

from .draw import draw_graph, render
from .explain import BackwardExplanation, explain_backward
from .render import Graph, GraphvizNotFoundError, RenderWarning

__all__ = [
    "BackwardExplanation",
    "Graph",
    "GraphvizNotFoundError",
    "RenderWarning",
    "draw_graph",
    "explain_backward",
    "render",
]
