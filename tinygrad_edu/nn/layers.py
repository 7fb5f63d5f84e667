"""Layers: ``Linear``, ``Sequential``, ``MLP``, activation modules, ``Flatten``, ``Dropout``, ``Identity``.

Layout. The lectures stack examples as *columns*: X has shape (n_x, m) and one layer is
Z[l] = W[l] A[l-1] + b[l] with W[l] of shape (n[l], n[l-1]). Like most libraries we
stack examples as *rows* (x has shape (m, n[l-1]), a batch first), so the same layer
reads Z^T = A^T W^T + b^T, i.e. ``z = x @ W.T + b``. The weight keeps the lectures'
shape (n[l], n[l-1]), so ``layer.weight`` *is* W[l] and ``layer.weight.grad`` is dW[l].

Every layer is composed from Tensor ops (``Linear`` from the fused ``linear`` primitive, whose
VJP is the lectures' dW, db, dA); the gradients come from the chain rule.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from .. import primitives as P
from ..argcheck import check_instance, check_int, check_real
from ..factories import _as_tensor as _as_tensor_named
from ..seeding import Seed, as_generator
from ..tensor_class import Tensor, get_default_dtype
from . import init as _init
from .module import Module, Parameter

__all__ = [
    "ELU",
    "MLP",
    "SELU",
    "Dropout",
    "Flatten",
    "Identity",
    "LeakyReLU",
    "Linear",
    "LogSoftmax",
    "ReLU",
    "Sequential",
    "Sigmoid",
    "Softmax",
    "Tanh",
    "get_activation",
    "lecture_params",
    "linear",
]


def _as_tensor(x: Any, op: str = "linear") -> Tensor:
    """``x`` as a Tensor (int arrays stay int: they take the layer's dtype); bad data is an error naming ``op``."""
    return x if isinstance(x, Tensor) else _as_tensor_named(x, None, op)


def _torch_alias(value: Any, default: Any, alias_value: Any, name: str, alias: str, op: str) -> Any:
    """``value``, or PyTorch's keyword for it (``dim=`` for ``axis=``, ...) when that was given instead."""
    if alias_value is None:
        return value
    if value != default:
        raise TypeError(f"{op}: got both {name}={value!r} and {alias}={alias_value!r}; they are the same argument")
    return alias_value


# ====================================================================== Linear


def linear(x: Any, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """z = x @ W.T + b (the lectures' Z[l] = W[l] A[l-1] + b[l], batch first), as PyTorch's ``F.linear``.

    For a batch x of shape (m, n[l-1]) with W and x of one dtype this is the fused primitive
    :class:`~tinygrad_edu.primitives.Linear` (one graph node ``linear``; VJP dx = G W,
    dW = G^T x, db = sum over the batch of G, each in its operand's own layout). Any other
    input (one example of shape (n[l-1],), extra leading axes, mixed dtypes) takes the
    composed reference ``x @ W.T + b``, which gives the same values and gradients.
    """
    x = _as_tensor(x)
    check_instance(weight, Tensor, "weight", "linear")
    if bias is not None:
        check_instance(bias, Tensor, "bias", "linear")
    if x.ndim == 2 and x.shape[1] == weight.shape[-1] and weight.ndim == 2 and x.dtype == weight.dtype and (
        bias is None or (bias.shape == weight.shape[:1] and bias.dtype == x.dtype)
    ):
        inputs = (x, weight) if bias is None else (x, weight, bias)
        return Tensor._apply(P.Linear, *inputs)
    z = x @ weight.T
    return z + bias if bias is not None else z


class Linear(Module):
    """A fully connected layer: z = x @ W.T + b (the lectures' Z[l] = W[l] A[l-1] + b[l], batch first).

    * ``weight`` W: shape (out_features, in_features) = (n[l], n[l-1]), drawn by ``init``
      ("he" (default), "xavier", "xavier_fan_in", "xavier_uniform", "he_uniform", "normal"
      (randn * 0.01), "uniform", "zeros", or a callable ``f(tensor, seed=rng)`` from
      :mod:`tinygrad_edu.nn.init`; see :func:`tinygrad_edu.nn.init.get_initializer`).
    * ``bias`` b: shape (out_features,), set to ``bias_init`` (0 by default; a small
      positive value such as 0.01 for ReLU layers, as the lectures advise).

    Computed by :func:`linear` (the fused ``linear`` primitive for a batch), with G = dJ/dz of
    shape (m, n[l]): dW = G^T x, db = sum of G over the batch, dx = G W. Transposed, these are
    the lectures' dW[l] = (1/m) dZ[l] A[l-1]^T and db[l] = (1/m) sum over the examples of dZ[l];
    the 1/m is inside G because the loss takes the mean. The composed ``x @ W.T + b`` gives
    the same values and gradients (tested).
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        init: str | Any = "he",
        bias_init: float = 0.0,
        seed: Seed = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        self.in_features = check_int(in_features, "in_features", "Linear", minimum=1)
        self.out_features = check_int(out_features, "out_features", "Linear", minimum=1)
        bias_value = check_real(bias_init, "bias_init", "Linear")
        dtype = get_default_dtype() if dtype is None else dtype  # set_default_dtype reaches the weights
        fill = _init.get_initializer(init, "Linear")
        self.weight = Parameter(np.zeros((self.out_features, self.in_features)), dtype=dtype)
        fill(self.weight, seed=as_generator(seed))
        self.bias = Parameter(np.full(self.out_features, bias_value), dtype=dtype) if bias else None

    def forward(self, x: Any) -> Tensor:
        x = _as_tensor(x)
        data, w, b = x.data, self.weight, self.bias
        if (  # the common case, checked cheaply (every training step): a batch of the weight's dtype
            data.ndim == 2 and data.shape[1] == self.in_features and data.dtype == w.data.dtype
            and w.data.shape == (self.out_features, self.in_features)
            and (b is None or (b.data.dtype == data.dtype and b.data.shape == (self.out_features,)))
        ):
            return Tensor._apply(P.Linear, x, w) if b is None else Tensor._apply(P.Linear, x, w, b)
        if x.ndim == 0 or x.shape[-1] != self.in_features:
            raise ValueError(
                f"Linear({self.in_features}, {self.out_features}): expected input of shape (batch, "
                f"{self.in_features}), got {x.shape}. Rows are examples here (the transpose of the lectures' X)."
            )
        return linear(x, self.weight, self.bias)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


# ====================================================================== containers


class Sequential(Module):
    """Modules applied one after another: a[l] = module_l(a[l-1]).

    Children are named "0", "1", ...; given one dict (e.g. an ``OrderedDict``, as in PyTorch)
    they are named by its keys: ``Sequential(OrderedDict(fc1=Linear(2, 4), act=ReLU()))``
    has the state-dict keys ``fc1.weight``, ``fc1.bias``.
    """

    def __init__(self, *modules: Module) -> None:
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], Mapping):
            for name, module in modules[0].items():
                if not isinstance(name, str) or not name or "." in name:
                    raise TypeError(f"Sequential: names must be non-empty strings without '.', got {name!r}")
                if not isinstance(module, Module):
                    raise TypeError(f"Sequential: expected a Module for {name!r}, got {type(module).__name__}")
                setattr(self, name, module)
            return
        if len(modules) == 1 and isinstance(modules[0], (list, tuple)):
            modules = tuple(modules[0])
        for m in modules:
            self.append(m)

    def append(self, module: Module) -> Sequential:
        """Add ``module`` at the end (named by its position); returns self."""
        if not isinstance(module, Module):
            raise TypeError(f"Sequential: expected a Module, got {type(module).__name__}")
        setattr(self, str(len(self._modules)), module)
        return self

    def forward(self, x: Any) -> Any:
        for module in self._modules.values():
            x = module(x)
        return x

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(list(self._modules.values()))

    def __getitem__(self, index: int | slice) -> Any:
        layers = list(self._modules.values())
        if isinstance(index, slice):
            return Sequential(*layers[index])
        return layers[index]


# ====================================================================== activations


class Identity(Module):
    """a = z (the "linear" activation);  da/dz = 1."""

    def forward(self, x: Any) -> Tensor:
        return _as_tensor(x)


class Sigmoid(Module):
    """a = sigma(z) = 1 / (1 + e^-z);  sigma'(z) = sigma(z)(1 - sigma(z))."""

    def forward(self, x: Any) -> Tensor:
        return _as_tensor(x).sigmoid()


class Tanh(Module):
    """a = tanh(z) = (e^z - e^-z) / (e^z + e^-z);  tanh'(z) = 1 - tanh(z)^2."""

    def forward(self, x: Any) -> Tensor:
        return _as_tensor(x).tanh()


class ReLU(Module):
    """a = max(0, z);  relu'(z) = 1 if z > 0 else 0 (0 at z = 0)."""

    def forward(self, x: Any) -> Tensor:
        return _as_tensor(x).relu()


class LeakyReLU(Module):
    """a = z if z > 0 else slope*z (= max(slope*z, z) for slope < 1);  derivative 1 or slope (slope at 0)."""

    def __init__(self, slope: float = 0.01, *, negative_slope: float | None = None) -> None:
        super().__init__()
        slope = _torch_alias(slope, 0.01, negative_slope, "slope", "negative_slope", "LeakyReLU")
        self.slope = check_real(slope, "slope", "LeakyReLU")

    def forward(self, x: Any) -> Tensor:
        return _as_tensor(x).leaky_relu(self.slope)

    def extra_repr(self) -> str:
        return f"slope={self.slope}"


class ELU(Module):
    """a = z if z > 0 else alpha(e^z - 1);  derivative 1 or alpha e^z."""

    def __init__(self, alpha: float = 1.0) -> None:
        super().__init__()
        self.alpha = check_real(alpha, "alpha", "ELU")

    def forward(self, x: Any) -> Tensor:
        return _as_tensor(x).elu(self.alpha)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}"


class SELU(Module):
    """a = scale * elu(z, alpha) with alpha ~ 1.6733, scale ~ 1.0507 (self-normalising);  derivative scale * elu'(z)."""

    def forward(self, x: Any) -> Tensor:
        return _as_tensor(x).selu()


class Softmax(Module):
    """a_i = e^(z_i) / sum_j e^(z_j) along ``axis`` (stable: shifted by max z);  da_i/dz_j = a_i (delta_ij - a_j)."""

    def __init__(self, axis: int = -1, *, dim: int | None = None) -> None:
        super().__init__()
        self.axis = check_int(_torch_alias(axis, -1, dim, "axis", "dim", "Softmax"), "axis", "Softmax")

    def forward(self, x: Any) -> Tensor:
        return _as_tensor(x).softmax(axis=self.axis)

    def extra_repr(self) -> str:
        return f"axis={self.axis}"


class LogSoftmax(Module):
    """a_i = z_i - ln sum_j e^(z_j) along ``axis`` (stable log of softmax);  da_i/dz_j = delta_ij - softmax(z)_j."""

    def __init__(self, axis: int = -1, *, dim: int | None = None) -> None:
        super().__init__()
        self.axis = check_int(_torch_alias(axis, -1, dim, "axis", "dim", "LogSoftmax"), "axis", "LogSoftmax")

    def forward(self, x: Any) -> Tensor:
        return _as_tensor(x).log_softmax(axis=self.axis)

    def extra_repr(self) -> str:
        return f"axis={self.axis}"


_ACTIVATIONS: dict[str, type[Module]] = {
    "sigmoid": Sigmoid,
    "tanh": Tanh,
    "relu": ReLU,
    "leaky_relu": LeakyReLU,
    "elu": ELU,
    "selu": SELU,
    "softmax": Softmax,
    "log_softmax": LogSoftmax,
    "identity": Identity,
    "linear": Identity,
}


def get_activation(spec: str | type[Module] | Module | None) -> Module:
    """An activation module from a name ("relu", "tanh", ...), a Module class, an instance, or None (identity)."""
    if spec is None:
        return Identity()
    if isinstance(spec, Module):
        return spec
    if isinstance(spec, type) and issubclass(spec, Module):
        return spec()
    if isinstance(spec, str) and spec.lower() in _ACTIVATIONS:
        return _ACTIVATIONS[spec.lower()]()
    raise ValueError(
        f"activation: unknown activation {spec!r}; expected None, a Module class or instance, "
        f"or one of {sorted(_ACTIVATIONS)}"
    )


# ====================================================================== reshaping and regularisation


class Flatten(Module):
    """Merge axes ``start_axis``..``end_axis`` into one: (N, C, H, W) -> (N, C*H*W) by default."""

    def __init__(
        self, start_axis: int = 1, end_axis: int = -1, *, start_dim: int | None = None, end_dim: int | None = None
    ) -> None:
        super().__init__()
        start_axis = _torch_alias(start_axis, 1, start_dim, "start_axis", "start_dim", "Flatten")
        end_axis = _torch_alias(end_axis, -1, end_dim, "end_axis", "end_dim", "Flatten")
        self.start_axis = check_int(start_axis, "start_axis", "Flatten")
        self.end_axis = check_int(end_axis, "end_axis", "Flatten")

    def forward(self, x: Any) -> Tensor:
        return _as_tensor(x).flatten(self.start_axis, self.end_axis)

    def extra_repr(self) -> str:
        return f"start_axis={self.start_axis}, end_axis={self.end_axis}"


class Dropout(Module):
    """Inverted dropout: in training, each unit is kept with probability keep_prob = 1 - p.

    In numpy: ``d = np.random.rand(*a.shape) < keep_prob; a = a * d / keep_prob``.
    Dividing by keep_prob keeps E[a] unchanged, so at test time (``eval()``) the layer
    is the identity. The gradient is the same mask: dA = dA_out * d / keep_prob.
    ``seed`` makes the sequence of masks reproducible (without it the masks come from the
    package-wide generator that :func:`tinygrad_edu.manual_seed` seeds); the last mask
    (already scaled, a numpy array) is kept in ``self.mask``.
    """

    def __init__(self, p: float = 0.5, seed: Seed = None) -> None:
        super().__init__()
        self.p = check_real(p, "p (the probability of dropping a unit)", "Dropout", minimum=0.0, maximum=1.0)
        # None: draw from the package-wide generator at each call (so manual_seed reaches it)
        self._rng = None if seed is None else as_generator(seed, "Dropout")
        self.mask: np.ndarray | None = None

    def forward(self, x: Any) -> Tensor:
        x = _as_tensor(x)
        if not self.training or self.p == 0.0:
            return x
        keep_prob = 1.0 - self.p
        d = as_generator(self._rng).random(x.shape) < keep_prob
        # p = 1 drops every unit: the mask is all zeros (d / 0 would divide by zero)
        self.mask = (d / keep_prob if keep_prob > 0 else d * 0.0).astype(x.dtype)
        return x * self.mask

    def extra_repr(self) -> str:
        return f"p={self.p}"


# ====================================================================== MLP

_RELU_FAMILY = (ReLU, LeakyReLU, ELU, SELU)


class MLP(Sequential):
    """A multilayer perceptron: Linear -> activation -> ... -> Linear [-> output_activation].

    Layer l = 1..L computes Z[l] = W[l] A[l-1] + b[l] and A[l] = g[l](Z[l]), with A[0] = X
    (batch first here: ``a = g(a_prev @ W.T + b)``, see :class:`Linear`).
    ``sizes`` = [n[0], n[1], ..., n[L]] (inputs, hidden units, outputs), e.g. [2, 16, 16, 1]
    gives W[1] (16, 2), W[2] (16, 16), W[3] (1, 16). ``activation`` is g[l] for the hidden
    layers: a name, a Module class or instance, or a list with one per hidden layer
    (per-layer choice). ``output_activation`` is g[L] (None: the raw scores z[L], e.g.
    for ``cross_entropy`` or ``binary_cross_entropy_with_logits``).

    ``init="auto"`` uses He for ReLU-like hidden layers and Xavier otherwise (and Xavier
    for the output layer); any name or callable accepted by :class:`Linear` applies to
    every layer. ``seed`` seeds all layers (one generator drawn in order).
    """

    def __init__(
        self,
        sizes: Sequence[int],
        activation: Any = "relu",
        output_activation: Any = None,
        init: str | Any = "auto",
        bias_init: float = 0.0,
        seed: Seed = None,
        dtype: Any = None,
    ) -> None:
        if isinstance(sizes, (str, bytes)) or not isinstance(sizes, (Sequence, np.ndarray)):
            raise TypeError(f"MLP: sizes must be a list of layer widths such as [2, 16, 1], got {sizes!r}")
        sizes = [check_int(n, f"sizes[{i}]", "MLP", minimum=1) for i, n in enumerate(sizes)]
        if len(sizes) < 2:
            raise ValueError(f"MLP: sizes must list at least 2 positive layer widths, got {sizes}")
        hidden = len(sizes) - 2
        if isinstance(activation, (list, tuple)):
            if len(activation) != hidden:
                raise ValueError(
                    f"MLP: got {len(activation)} activations for {hidden} hidden layers (sizes {sizes})"
                )
            acts = list(activation)
        else:
            acts = [activation] * hidden
        super().__init__()
        self.sizes = sizes
        rng = as_generator(seed)
        for l in range(1, len(sizes)):
            is_output = l == len(sizes) - 1
            act = get_activation(output_activation if is_output else acts[l - 1])
            if is_output and output_activation is None:
                act = None
            layer_init = init
            if init == "auto":
                layer_init = "he" if (not is_output and isinstance(act, _RELU_FAMILY)) else "xavier"
            self.append(Linear(sizes[l - 1], sizes[l], init=layer_init, bias_init=bias_init, seed=rng, dtype=dtype))
            if act is not None:
                # one instance passed for every layer: give each layer its own copy
                self.append(copy.deepcopy(act) if any(act is m for m in self.children()) else act)

    def extra_repr(self) -> str:
        return f"sizes={self.sizes}"


def lecture_params(model: Module) -> dict[str, np.ndarray]:
    """The model's ``Linear`` layers in the lectures' layout, for :mod:`tinygrad_edu.reference`.

    Returns ``{"W1": W[1], "b1": b[1], ..., "WL": W[L], "bL": b[L]}`` with W[l] of shape
    (n[l], n[l-1]) (a Linear weight already is) and b[l] the bias as a column (n[l], 1).
    Layers are numbered l = 1, 2, ... in the order ``named_modules()`` visits them. The arrays
    are copies: the reference never changes the model, and a later update never changes them.
    """
    check_instance(model, Module, "model", "lecture_params")
    linears = [module for _, module in model.named_modules() if isinstance(module, Linear)]
    if not linears:
        raise ValueError(f"lecture_params: {type(model).__name__} has no Linear layers")
    params: dict[str, np.ndarray] = {}
    for l, layer in enumerate(linears, start=1):
        if layer.bias is None:
            raise ValueError(f"lecture_params: Linear layer {l} has no bias; every layer of the lectures has b[l]")
        params[f"W{l}"] = layer.weight.data.copy()
        params[f"b{l}"] = layer.bias.data.reshape(-1, 1).copy()
    return params
