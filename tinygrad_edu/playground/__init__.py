"""The TensorFlow Playground on our engine: a Python API and a page in the browser.

* :class:`Playground` (:mod:`.model`): data set, input features (incl. crosses such as ``x1*x2``),
  hidden layers, activation, L1/L2, learning rate, batch size; ``step()``, losses, weights,
  every neuron's picture over the input square, ``state()`` / ``from_state()``;
* :mod:`.data`: the Playground's data sets (labels +-1, raw inputs);
* :mod:`.explain`: what a click on a neuron or a link shows (value, dJ/dw, the chain rule);
* :mod:`.server`: the page (``tinygrad-edu playground``), plain HTML/JS served by the standard
  library, training streamed with server-sent events; ``Playground.show()`` in a notebook.
"""

from .data import DATASETS, make_playground_data
from .explain import explain_parameter
from .model import ACTIVATIONS, FEATURES, REGULARIZATIONS, Playground

__all__ = ["ACTIVATIONS", "DATASETS", "FEATURES", "REGULARIZATIONS", "Playground", "explain_parameter",
           "make_playground_data"]
