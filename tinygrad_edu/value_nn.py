"""A tiny multilayer perceptron made of scalar :class:`~tinygrad_edu.Value` nodes.

This is the network of the lectures written one neuron at a time, so every weight,
pre-activation and activation is a node you can print, draw and differentiate:

    z = w . x + b            (one ``dot`` node and one ``+`` node per neuron)
    a = g(z)                 (g = relu, tanh, sigmoid, or the identity for the output layer)

Layer l has n[l] neurons, each with n[l-1] weights: together they form the lectures'
W[l] of shape (n[l], n[l-1]) and b[l] of shape (n[l], 1). The output layer is linear
(it returns the logit z, so a loss can apply a stable sigmoid / log-sigmoid itself).

For real work use :mod:`tinygrad_edu.nn` on :class:`~tinygrad_edu.Tensor`: it does the
same arithmetic as a few matrix products instead of thousands of Python objects.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence

from .value import Value

__all__ = ["Neuron", "Layer", "MLP"]

ACTIVATIONS = ("relu", "tanh", "sigmoid", "linear")


class Neuron:
    """One unit: a = g(z), z = w . x + b = sum_i w_i x_i + b.

    Weights start as He initialisation, w_i ~ N(0, 2 / n_in) (suited to relu); the bias
    starts at 0.
    """

    def __init__(self, n_in: int, activation: str = "relu", rng: random.Random | None = None) -> None:
        if activation not in ACTIVATIONS:
            raise ValueError(f"Neuron: activation must be one of {ACTIVATIONS}, got {activation!r}")
        if n_in < 1:
            raise ValueError(f"Neuron: n_in must be >= 1, got {n_in}")
        rng = rng if rng is not None else random.Random(0)
        std = math.sqrt(2.0 / n_in)
        self.w = [Value(rng.gauss(0.0, std), label=f"w{i + 1}") for i in range(n_in)]
        self.b = Value(0.0, label="b")
        self.activation = activation

    def __call__(self, x: Sequence[Value | float]) -> Value:
        """a = g(w . x + b) for one example x (n_in numbers or Values)."""
        if len(x) != len(self.w):
            raise ValueError(f"Neuron: expected {len(self.w)} inputs, got {len(x)}")
        z = Value.dot(self.w, x) + self.b
        if self.activation == "relu":
            return z.relu()
        if self.activation == "tanh":
            return z.tanh()
        if self.activation == "sigmoid":
            return z.sigmoid()
        return z

    def parameters(self) -> list[Value]:
        """[w_1, ..., w_n, b]: the Values gradient descent updates."""
        return [*self.w, self.b]

    def __repr__(self) -> str:
        return f"Neuron({len(self.w)}, {self.activation})"


class Layer:
    """n_out neurons reading the same n_in inputs: a[l] = g(W[l] a[l-1] + b[l])."""

    def __init__(self, n_in: int, n_out: int, activation: str = "relu", rng: random.Random | None = None) -> None:
        rng = rng if rng is not None else random.Random(0)
        self.neurons = [Neuron(n_in, activation, rng) for _ in range(n_out)]

    def __call__(self, x: Sequence[Value | float]) -> list[Value]:
        """a[l] = g(W[l] a[l-1] + b[l]), one Value per neuron."""
        return [neuron(x) for neuron in self.neurons]

    def parameters(self) -> list[Value]:
        """Every neuron's weights and bias: W[l] row by row, then b[l] per neuron."""
        return [p for neuron in self.neurons for p in neuron.parameters()]

    def __repr__(self) -> str:
        return f"Layer({len(self.neurons[0].w)} -> {len(self.neurons)}, {self.neurons[0].activation})"


class MLP:
    """Layers of sizes n[0] = n_in, n[1], ..., n[L] = n_outs[-1]; hidden layers use
    ``activation``, the output layer is linear.

    ``MLP(2, [16, 16, 1])`` is the 2-16-16-1 network of micrograd's demo. Calling it on
    one example (a sequence of n_in numbers or Values) returns a Value when the output
    layer has one unit, else a list of Values.
    """

    def __init__(self, n_in: int, n_outs: Sequence[int], activation: str = "relu", seed: int = 0) -> None:
        if not n_outs:
            raise ValueError("MLP: n_outs must list at least one layer size, e.g. [16, 16, 1]")
        rng = random.Random(seed)
        sizes = [n_in, *n_outs]
        self.layers = [
            Layer(sizes[l - 1], sizes[l], activation if l < len(n_outs) else "linear", rng)
            for l in range(1, len(sizes))
        ]

    def __call__(self, x: Sequence[Value | float]) -> Value | list[Value]:
        """Forward propagation a[0] = x, a[l] = g[l](W[l] a[l-1] + b[l]); returns a[L] (the logits)."""
        a: Sequence[Value | float] = x
        for layer in self.layers:
            a = layer(a)
        return a[0] if len(a) == 1 else list(a)  # type: ignore[return-value]

    def parameters(self) -> list[Value]:
        """All weights and biases, layer by layer."""
        return [p for layer in self.layers for p in layer.parameters()]

    def zero_grad(self) -> None:
        """Forget every parameter's gradient before the next backward pass (they accumulate)."""
        for p in self.parameters():
            p.grad = None

    def __repr__(self) -> str:
        return f"MLP({', '.join(repr(layer) for layer in self.layers)})"
