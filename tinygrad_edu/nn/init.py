"""Weight initialisation: fill a tensor in place with a chosen distribution.

Why not all zeros? With W = 0 every hidden unit of a layer computes the same
activation, receives the same gradient (a_1 = a_2 and delta_1 = delta_2) and so gets
the same update: the units stay identical forever (the *symmetry problem*; see
``examples/symmetry.py``). Random initialisation breaks the symmetry.

For a weight of shape (n[l], n[l-1]) (the lectures' W[l]) the *fans* are
fan_in = n[l-1] and fan_out = n[l]; for a convolution kernel (C_out, C_in, kH, kW)
they are C_in*kH*kW and C_out*kH*kW.

=====================  ==========================================================
``zeros_``             W = 0 (fine for biases b, never for weights)
``constant_``          W = c; ``small_positive_`` b = 0.01 for ReLU layers
``uniform_``           W ~ U[-eps, eps] (small; the lectures' random initialisation)
``normal_``            W ~ N(0, sigma^2), e.g. ``np.random.randn(...) * 0.01`` (the default)
``xavier_normal_``     W ~ N(0, sigma^2), sigma = sqrt(2 / (n[l] + n[l-1]))  (Glorot)
                       ``mode="fan_in"``: sigma = sqrt(1 / n[l-1])  (``randn(...) * np.sqrt(1/n[l-1])``)
``xavier_uniform_``    W ~ U[-eps, eps], eps = sqrt(6) / sqrt(n[l] + n[l-1])
``he_normal_``         W ~ N(0, sigma^2), sigma = sqrt(2 / n[l-1])          (Kaiming)
``he_uniform_``        W ~ U[-a, a],     a = sqrt(6 / n[l-1])
=====================  ==========================================================

The lectures' slides: "randomly initialize each Theta_ij in [-eps, eps]" is ``uniform_``;
the usual choice eps = sqrt(6) / sqrt(n_in + n_out) is exactly ``xavier_uniform_``; "close
to 0: N(0, 0.1)" is ``normal_(t, std=0.1)`` (the deck's second argument is read as the
standard deviation, as on its Xavier line; in the N(mean, variance) convention it would be
std = sqrt(0.1) = 0.32, ``normal_(t, std=0.1**0.5)``). The default of ``normal_`` and of
``Linear(init="normal")`` is the other decks' ``np.random.randn(...) * 0.01``, std 0.01;
"'Xavier/He' initialization: N(0, sqrt(2 / (n[l] + n[l-1])))" (the second argument is the
standard deviation) is ``xavier_normal_``;
the small positive bias for ReLU units is ``small_positive_`` (or ``bias_init=0.01`` in
``Linear``), and "b can be initialised to zero" is ``zeros_``. Names accepted by
``Linear(init=...)``: see :func:`get_initializer`.

Xavier keeps the variance of a layer's outputs close to that of its inputs for
tanh/sigmoid units; He doubles it to make up for ReLU zeroing half the units.
Every function takes ``seed=`` (an int or a ``np.random.Generator``), fills the
tensor's ``data`` in place (keeping its dtype) and returns the tensor.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from ..argcheck import check_int, check_real
from ..seeding import Seed, as_generator
from ..tensor_class import Tensor

__all__ = [
    "calculate_fans",
    "constant_",
    "get_initializer",
    "he_normal_",
    "he_uniform_",
    "kaiming_normal_",
    "kaiming_uniform_",
    "normal_",
    "small_positive_",
    "uniform_",
    "xavier_fan_in_normal_",
    "xavier_normal_",
    "xavier_uniform_",
    "zeros_",
]




def _target(t: Any, op: str) -> Tensor:
    """``t`` if it is a Tensor (what an initialiser fills in place), else a ``TypeError`` naming ``op``."""
    if not isinstance(t, Tensor):
        raise TypeError(f"init.{op}: expected a Tensor (e.g. layer.weight), got {type(t).__name__}")
    return t


def _fill(t: Tensor, values: np.ndarray | float, op: str) -> Tensor:
    _target(t, op)
    t.data[...] = values
    t._bump_version(f"init.{op}")  # an in-place write: bump the version counter
    return t


def calculate_fans(shape: tuple[int, ...], op: str = "calculate_fans") -> tuple[int, int]:
    """(fan_in, fan_out) of a weight: (n[l-1], n[l]) for (n[l], n[l-1]); times kH*kW for a conv kernel."""
    if not isinstance(shape, (tuple, list)):
        raise TypeError(f"init.{op}: expected a shape (a tuple of ints, e.g. weight.shape), got {type(shape).__name__}")
    shape = tuple(check_int(n, "shape", f"init.{op}", minimum=0) for n in shape)
    if len(shape) < 2:
        raise ValueError(
            f"init.{op}: needs a weight with at least 2 dimensions (out, in, ...) to know its fans, "
            f"got shape {tuple(shape)}; use zeros_/constant_/normal_ for biases"
        )
    receptive = math.prod(shape[2:])
    return shape[1] * receptive, shape[0] * receptive


def zeros_(t: Tensor, seed: Seed = None) -> Tensor:
    """W = 0 in place. Right for biases; for weights it causes the symmetry problem.

    ``seed`` is accepted (and unused) so every initialiser can be called as ``f(t, seed=...)``.
    """
    return _fill(t, 0.0, "zeros_")


def constant_(t: Tensor, value: float, seed: Seed = None) -> Tensor:
    """W = value in place (``seed`` unused, accepted for a uniform signature)."""
    return _fill(t, check_real(value, "value", "init.constant_", allow_inf=True), "constant_")


def small_positive_(t: Tensor, value: float = 0.01, seed: Seed = None) -> Tensor:
    """b = small positive constant (default 0.01) in place.

    The lectures' advice for the biases of ReLU hidden units: each unit's output starts
    positive for most examples, so it starts learning instead of sitting at relu'(z) = 0.
    """
    value = check_real(value, "value", "init.small_positive_", minimum=0.0)
    if value == 0:
        raise ValueError(f"init.small_positive_: value must be > 0, got {value}")
    return _fill(t, value, "small_positive_")


def uniform_(t: Tensor, eps: float = 0.12, seed: Seed = None) -> Tensor:
    """W ~ U[-eps, eps] in place (the lectures' "randomly initialise each Theta_ij in [-eps, eps]").

    The default 0.12 is sqrt(6) / sqrt(n_in + n_out) for a 400 -> 25 layer; to get that
    rule for any layer use :func:`xavier_uniform_`.
    """
    _target(t, "uniform_")
    eps = check_real(eps, "eps", "init.uniform_", minimum=0.0)
    return _fill(t, as_generator(seed, "init.uniform_").uniform(-eps, eps, t.shape), "uniform_")


def normal_(t: Tensor, mean: float = 0.0, std: float = 0.01, seed: Seed = None) -> Tensor:
    """W ~ N(mean, std^2) in place; the default is the lectures' ``W[l] = np.random.randn(n[l], n[l-1]) * 0.01``.

    The arguments come in ``torch.nn.init.normal_``'s order, so ``normal_(w, 0.0, 0.02)`` means
    mean 0, std 0.02 in both; only the default std differs (PyTorch: 1).
    """
    _target(t, "normal_")
    std = check_real(std, "std", "init.normal_", minimum=0.0)
    mean = check_real(mean, "mean", "init.normal_")
    return _fill(t, mean + std * as_generator(seed, "init.normal_").standard_normal(t.shape), "normal_")


def xavier_normal_(t: Tensor, gain: float = 1.0, seed: Seed = None, mode: str = "fan_avg") -> Tensor:
    """Xavier/Glorot: W ~ N(0, sigma^2) in place, with

    * ``mode="fan_avg"`` (default, Glorot's and the slides' form): sigma = gain * sqrt(2 / (n[l] + n[l-1]));
    * ``mode="fan_in"``: sigma = gain * sqrt(1 / n[l-1]), the form taught as
      ``W[l] = np.random.randn(n[l], n[l-1]) * np.sqrt(1 / n[l-1])`` (also called LeCun normal).

    The two agree when n[l] = n[l-1].
    """
    _target(t, "xavier_normal_")
    gain = check_real(gain, "gain", "init.xavier_normal_", minimum=0.0)
    fan_in, fan_out = calculate_fans(t.shape, "xavier_normal_")
    if mode == "fan_avg":
        var = 2.0 / (fan_in + fan_out)
    elif mode == "fan_in":
        var = 1.0 / fan_in
    else:
        raise ValueError(f"init.xavier_normal_: mode must be 'fan_avg' or 'fan_in', got {mode!r}")
    std = gain * math.sqrt(var)
    return _fill(t, std * as_generator(seed, "init.xavier_normal_").standard_normal(t.shape), "xavier_normal_")


def xavier_fan_in_normal_(t: Tensor, seed: Seed = None) -> Tensor:
    """W ~ N(0, 1 / n[l-1]), i.e. ``randn(n[l], n[l-1]) * np.sqrt(1 / n[l-1])`` (``xavier_normal_``, mode "fan_in")."""
    return xavier_normal_(t, mode="fan_in", seed=seed)


def xavier_uniform_(t: Tensor, gain: float = 1.0, seed: Seed = None) -> Tensor:
    """Xavier/Glorot uniform: W ~ U[-eps, eps], eps = gain * sqrt(6) / sqrt(n[l] + n[l-1]) in place.

    The variance eps^2 / 3 = 2 / (n[l] + n[l-1]) equals :func:`xavier_normal_`'s. With gain 1
    this is the lectures' uniform [-eps, eps] rule with eps = sqrt(6) / sqrt(n_in + n_out).
    """
    _target(t, "xavier_uniform_")
    gain = check_real(gain, "gain", "init.xavier_uniform_", minimum=0.0)
    fan_in, fan_out = calculate_fans(t.shape, "xavier_uniform_")
    a = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return _fill(t, as_generator(seed, "init.xavier_uniform_").uniform(-a, a, t.shape), "xavier_uniform_")


def he_normal_(t: Tensor, seed: Seed = None) -> Tensor:
    """He/Kaiming: W ~ N(0, sigma^2) with sigma = sqrt(2 / n[l-1]) (fan_in) in place; for ReLU layers."""
    _target(t, "he_normal_")
    fan_in, _ = calculate_fans(t.shape, "he_normal_")
    draw = as_generator(seed, "init.he_normal_").standard_normal(t.shape)
    return _fill(t, math.sqrt(2.0 / fan_in) * draw, "he_normal_")


def he_uniform_(t: Tensor, seed: Seed = None) -> Tensor:
    """He/Kaiming uniform: W ~ U[-a, a], a = sqrt(6 / n[l-1]) (variance 2 / n[l-1]) in place."""
    _target(t, "he_uniform_")
    fan_in, _ = calculate_fans(t.shape, "he_uniform_")
    a = math.sqrt(6.0 / fan_in)
    return _fill(t, as_generator(seed, "init.he_uniform_").uniform(-a, a, t.shape), "he_uniform_")


kaiming_normal_ = he_normal_
kaiming_uniform_ = he_uniform_

Initializer = Callable[..., Any]

_BY_NAME: dict[str, Initializer] = {
    "he": he_normal_,
    "he_normal": he_normal_,
    "kaiming": he_normal_,
    "kaiming_normal": he_normal_,
    "he_uniform": he_uniform_,
    "kaiming_uniform": he_uniform_,
    "xavier": xavier_normal_,
    "xavier_normal": xavier_normal_,
    "glorot": xavier_normal_,
    "xavier_fan_in": xavier_fan_in_normal_,
    "lecun": xavier_fan_in_normal_,
    "xavier_uniform": xavier_uniform_,
    "glorot_uniform": xavier_uniform_,
    "normal": normal_,
    "uniform": uniform_,
    "zeros": zeros_,
}


def get_initializer(init: str | Initializer, op: str = "init") -> Initializer:
    """The function ``f(tensor, seed=...)`` for a name, or a callable as is.

    Names: "he" / "he_normal" / "kaiming" (sigma = sqrt(2 / n[l-1])), "he_uniform", "xavier" /
    "glorot" (sigma = sqrt(2 / (n[l] + n[l-1]))), "xavier_fan_in" / "lecun" (sigma = sqrt(1 / n[l-1])),
    "xavier_uniform" (U[-eps, eps], eps = sqrt(6) / sqrt(n[l] + n[l-1])), "normal" (sigma = 0.01),
    "uniform" (U[-0.12, 0.12]) and "zeros". For other parameters pass a callable, e.g.
    ``lambda t, seed: init.normal_(t, std=0.1, seed=seed)``.
    """
    if callable(init):
        return init
    if isinstance(init, str) and init.lower() in _BY_NAME:
        return _BY_NAME[init.lower()]
    raise ValueError(f"{op}: unknown init {init!r}; expected a callable or one of {sorted(_BY_NAME)}")
