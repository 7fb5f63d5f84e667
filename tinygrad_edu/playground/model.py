"""The TensorFlow Playground's network and training loop, on our engine.

Semantics follow the original (github.com/tensorflow/playground, ``nn.ts`` and ``playground.ts``),
in the lectures' notation, W[l] of shape (n[l], n[l-1]):

* **inputs**: the chosen features of the raw point (x1, x2) in [-6, 6]^2 -- ``x1``, ``x2``,
  ``x1^2``, ``x2^2``, ``x1*x2``, ``sin(x1)``, ``sin(x2)`` -- not standardised;
* **layers**: Z[l] = A[l-1] W[l]^T + b[l] (``nn.Linear``), A[l] = g(Z[l]) with g the chosen
  activation (relu, tanh, sigmoid, linear) in the hidden layers, and an output neuron that is
  tanh (classification, labels +1 / -1) or linear (regression);
* **initialisation**: W[l]_jk ~ U(-0.5, 0.5), b[l]_j = 0.1;
* **loss**: J = (1/m) sum_i 1/2 (a[L](i) - y(i))^2 (the Playground's "square" error, averaged),
  so an untrained tanh output near 0 on labels +-1 gives J ~ 0.5;
* **training**: one epoch walks the training set in its fixed (shuffled once) order in mini-batches
  of ``batch_size``; each batch takes one gradient step W := W - alpha dW, b := b - alpha db
  (``optim.SGD``; the last, smaller batch too);
* **L2**: weight decay on the weights (not the biases): W := W - alpha (dW + lambda W)
  (``SGD(weight_decay=lambda)``);
* **L1**: after the gradient step, W := W - alpha lambda sign(W_before); a weight whose update
  crosses zero is set to exactly 0 and is *dead* from then on (no more updates), as in ``nn.ts``.

Differences from the original, on purpose: the random numbers come from numpy seeded by ``seed``
(data and weights from separate streams, so changing the network keeps the data); ``reset()``
restarts from the same weights (``reseed()`` draws new ones); a partial last batch is applied in
its epoch (the original carries its gradient over to the next epoch).
"""

from __future__ import annotations

import inspect
import math
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import parse_qsl, quote

import numpy as np

from .. import nn
from ..engine import no_grad
from ..optim import SGD
from ..tensor_class import Tensor
from .data import DATASETS, make_playground_data

try:  # tg.jit (issue 16) replays a traced step as flat numpy calls; without it every step runs eagerly
    from ..jit import jit as _jit
except ImportError:  # pragma: no cover - depends on the package version
    _jit = None

__all__ = ["ACTIVATIONS", "FEATURES", "REGULARIZATIONS", "Playground"]

#: feature name -> f(x1, x2), the Playground's input properties.
FEATURES: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "x1": lambda x1, x2: x1,
    "x2": lambda x1, x2: x2,
    "x1^2": lambda x1, x2: x1 * x1,
    "x2^2": lambda x1, x2: x2 * x2,
    "x1*x2": lambda x1, x2: x1 * x2,
    "sin(x1)": lambda x1, x2: np.sin(x1),
    "sin(x2)": lambda x1, x2: np.sin(x2),
}

ACTIVATIONS = ("relu", "tanh", "sigmoid", "linear")
REGULARIZATIONS = (None, "L1", "L2")
PROBLEMS = ("classification", "regression")
MAX_LAYERS = 6  # hidden layers, as the original's +/- buttons allow
MAX_NEURONS = 8  # per hidden layer
DOMAIN = 6.0  # the input square is [-DOMAIN, DOMAIN]^2
WEIGHT_INIT = 0.5  # W ~ U(-0.5, 0.5)
BIAS_INIT = 0.1

# settings that keep the network (the original changes them without a reset)
_LIVE_SETTINGS = ("lr", "batch_size", "regularization", "reg_rate")


def _choice(op: str, what: str, value: Any, valid: Iterable[Any]) -> None:
    valid = list(valid)
    if value not in valid:
        names = ", ".join(repr(v) for v in valid)
        raise ValueError(f"{op}: unknown {what} {value!r}; choose one of {names}")


def _number(op: str, name: str, value: Any, lo: float, hi: float, lo_open: bool = False) -> float:
    ok = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
    ok = ok and math.isfinite(value) and (value > lo if lo_open else value >= lo) and value <= hi
    if not ok:
        bracket = "(" if lo_open else "["
        raise ValueError(f"{op}: {name} must be a number in {bracket}{lo}, {hi}], got {value!r}")
    return float(value)


def _normalise_regularization(value: Any) -> str | None:
    if value is None or (isinstance(value, str) and value.lower() == "none"):
        return None
    if isinstance(value, str) and value.upper() in ("L1", "L2"):
        return value.upper()
    raise ValueError(f"Playground: unknown regularization {value!r}; choose one of None, 'L1', 'L2'")


def feature_matrix(points: np.ndarray, features: Sequence[str]) -> np.ndarray:
    """The network's input: one column per feature of the raw points (m, 2) -> (m, len(features))."""
    x1, x2 = points[:, 0], points[:, 1]
    return np.stack([FEATURES[f](x1, x2) for f in features], axis=1)


def grid_points(resolution: int) -> np.ndarray:
    """The input square as an image: (resolution^2, 2) points, row-major, x2 = +6 at the top row."""
    xs = np.linspace(-DOMAIN, DOMAIN, resolution)
    x1, x2 = np.meshgrid(xs, xs[::-1])
    return np.stack([x1.ravel(), x2.ravel()], axis=1)


class Playground:
    """The TensorFlow Playground on ``tinygrad_edu``: a small network on a 2-D data set.

    ``Playground(dataset, features, hidden, activation, lr, batch_size, noise, train_ratio,
    regularization, reg_rate, problem, seed)``; see the module docstring for the semantics.

    * ``dataset``: ``"circle" "xor" "gauss" "spiral"`` (classification) or ``"plane"
      "multi_gauss"`` (regression, with ``problem="regression"``);
    * ``features``: names from :data:`FEATURES`; ``hidden``: neurons per hidden layer (may be empty);
    * ``noise`` in [0, 0.5] (the page's slider 0..50 divided by 100), ``train_ratio`` in (0, 0.9]
      (the slider's 10..90 %);
    * ``regularization``: ``None``, ``"L1"`` or ``"L2"`` with rate ``reg_rate`` (lambda).

    ``step(epochs)`` trains; ``epoch``, ``train_loss``, ``test_loss``, ``history`` report;
    ``weights()``, ``biases()``, ``neuron_maps(r)``, ``decision_surface(r)`` look inside;
    ``state()`` / ``from_state()`` save the settings (and optionally the weights) as JSON;
    ``update(**settings)`` changes settings as the page does; ``show()`` opens the page in a notebook.
    """

    def __init__(
        self,
        dataset: str = "circle",
        features: Sequence[str] = ("x1", "x2"),
        hidden: Sequence[int] = (4, 2),
        activation: str = "tanh",
        lr: float = 0.03,
        batch_size: int = 10,
        noise: float = 0.0,
        train_ratio: float = 0.5,
        regularization: str | None = None,
        reg_rate: float = 0.0,
        problem: str = "classification",
        seed: int = 0,
    ) -> None:
        self.lock = threading.RLock()  # one network, possibly driven by the page and a notebook at once
        self._settings: dict[str, Any] = {}
        self._set(dict(dataset=dataset, features=features, hidden=hidden, activation=activation, lr=lr,
                       batch_size=batch_size, noise=noise, train_ratio=train_ratio, regularization=regularization,
                       reg_rate=reg_rate, problem=problem, seed=seed))
        self.version = 0  # bumped on every change, so a page showing this object knows to redraw
        self._make_data()
        self._build()

    # ------------------------------------------------------------------ settings

    def _set(self, changes: Mapping[str, Any]) -> None:
        """Validate ``changes`` against the current settings and store them (nothing else)."""
        s = {**self._settings, **changes}
        op = "Playground"
        unknown = sorted(set(changes) - set(_DEFAULTS))
        if unknown:
            raise ValueError(f"{op}: unknown setting(s) {unknown}; the settings are {sorted(_DEFAULTS)}")
        _choice(op, "problem", s["problem"], PROBLEMS)
        _choice(op, "dataset", s["dataset"], DATASETS)
        if DATASETS[s["dataset"]][1] != s["problem"]:
            raise ValueError(f"{op}: dataset {s['dataset']!r} is a {DATASETS[s['dataset']][1]} data set but "
                             f"problem={s['problem']!r}; pass problem={DATASETS[s['dataset']][1]!r} or choose one of "
                             + ", ".join(repr(n) for n, (_, p) in DATASETS.items() if p == s["problem"]))
        if isinstance(s["features"], str):
            raise ValueError(f"{op}: features must be a list of names such as ['x1', 'x2'], got the string "
                             f"{s['features']!r}")
        features = list(s["features"])
        for f in features:
            _choice(op, "feature", f, FEATURES)
        if not features:
            raise ValueError(f"{op}: choose at least one feature of {', '.join(FEATURES)}")
        if len(set(features)) != len(features):
            raise ValueError(f"{op}: features repeat a name: {features}")
        s["features"] = [f for f in FEATURES if f in features]  # the page's order
        hidden = list(s["hidden"]) if not isinstance(s["hidden"], int) else [s["hidden"]]
        if len(hidden) > MAX_LAYERS or any(
                isinstance(h, bool) or not isinstance(h, (int, np.integer)) or not 1 <= h <= MAX_NEURONS
                for h in hidden):
            raise ValueError(f"{op}: hidden must list at most {MAX_LAYERS} layer sizes, each an integer in "
                             f"1..{MAX_NEURONS}, got {s['hidden']!r}")
        s["hidden"] = [int(h) for h in hidden]
        _choice(op, "activation", s["activation"], ACTIVATIONS)
        s["regularization"] = _normalise_regularization(s["regularization"])
        s["lr"] = _number(op, "lr", s["lr"], 0.0, 10.0, lo_open=True)
        s["reg_rate"] = _number(op, "reg_rate", s["reg_rate"], 0.0, 10.0)
        s["noise"] = _number(op, "noise", s["noise"], 0.0, 0.5)
        s["train_ratio"] = _number(op, "train_ratio", s["train_ratio"], 0.0, 0.9, lo_open=True)
        b = s["batch_size"]
        if isinstance(b, bool) or not isinstance(b, (int, np.integer)) or not 1 <= b <= 500:
            raise ValueError(f"{op}: batch_size must be an integer in 1..500, got {b!r}")
        s["batch_size"] = int(b)
        if isinstance(s["seed"], bool) or not isinstance(s["seed"], (int, np.integer)) or s["seed"] < 0:
            raise ValueError(f"{op}: seed must be an integer >= 0, got {s['seed']!r}")
        s["seed"] = int(s["seed"])
        self._settings = s

    def update(self, **changes: Any) -> Playground:
        """Change settings as the page does: ``lr``, ``batch_size``, ``regularization`` and ``reg_rate``
        apply from the next step; anything else rebuilds the network (and the data when ``dataset``,
        ``noise``, ``train_ratio``, ``problem`` or ``seed`` change) at epoch 0. Returns ``self``."""
        with self.lock:
            return self._update(changes)

    def _update(self, changes: Mapping[str, Any]) -> Playground:
        old = dict(self._settings)
        self._set(changes)
        changed = {k for k in changes if self._settings[k] != old[k]}
        if changed & {"dataset", "noise", "train_ratio", "problem", "seed"}:
            self._make_data()
        if changed - set(_LIVE_SETTINGS):
            self._build()
        else:
            self._make_optimisers()
            self.version += 1
        return self

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _DEFAULTS and "_settings" in self.__dict__:
            self.update(**{name: value})  # pg.lr = 0.1 is pg.update(lr=0.1)
        else:
            object.__setattr__(self, name, value)

    def __getattr__(self, name: str) -> Any:
        settings = self.__dict__.get("_settings", {})
        if name in settings:
            value = settings[name]
            return list(value) if isinstance(value, list) else value
        raise AttributeError(f"'Playground' object has no attribute {name!r}")

    # ------------------------------------------------------------------ data and network

    def _make_data(self) -> None:
        s = self._settings
        X, y = make_playground_data(s["dataset"], s["noise"], seed=np.random.default_rng([s["seed"], 0]))
        split = int(len(y) * s["train_ratio"])
        self.train_points, self.train_labels = X[:split], y[:split]
        self.test_points, self.test_labels = X[split:], y[split:]

    def _build(self, weight_seed: int | None = None) -> None:
        """A fresh network at epoch 0: W ~ U(-0.5, 0.5), b = 0.1."""
        s = self._settings
        rng = np.random.default_rng([s["seed"], 1] if weight_seed is None else [s["seed"], 1, weight_seed])
        sizes = [len(s["features"])] + s["hidden"] + [1]
        self.layers = [nn.Linear(n_in, n_out, init="zeros", bias_init=BIAS_INIT) for n_in, n_out in
                       zip(sizes[:-1], sizes[1:])]
        for layer in self.layers:
            layer.weight.data[...] = rng.uniform(-WEIGHT_INIT, WEIGHT_INIT, layer.weight.shape)
        self.hidden_activation = nn.get_activation(s["activation"])
        self.output_activation = nn.get_activation("tanh" if s["problem"] == "classification" else "linear")
        self.dead = [np.zeros(layer.weight.shape, dtype=bool) for layer in self.layers]
        self._train_x = Tensor(feature_matrix(self.train_points, s["features"]))
        self._train_y = Tensor(self.train_labels.reshape(-1, 1))
        self._test_x = Tensor(feature_matrix(self.test_points, s["features"]))
        self._test_y = Tensor(self.test_labels.reshape(-1, 1))
        self._make_optimisers()
        self.epoch = 0
        self.history: list[tuple[int, float, float]] = []
        self._record_losses()

    def _make_optimisers(self) -> None:
        s = self._settings
        decay = s["reg_rate"] if s["regularization"] == "L2" else 0.0
        self._weight_opt = SGD([layer.weight for layer in self.layers], lr=s["lr"], weight_decay=decay)
        self._bias_opt = SGD([layer.bias for layer in self.layers], lr=s["lr"])
        # the plain step (no L1, no dead links) has a fixed graph: tg.jit may trace it once per batch shape
        self._fast_step = _jit(self._plain_step) if _jit is not None else self._plain_step

    def _plain_step(self, x: Tensor, y: Tensor) -> Tensor:
        """One mini-batch: W := W - alpha (dW [+ lambda W]), b := b - alpha db."""
        self._weight_opt.zero_grad()
        self._bias_opt.zero_grad()
        loss = self.loss(x, y)
        loss.backward()
        self._weight_opt.step()
        self._bias_opt.step()
        return loss

    def reset(self) -> Playground:
        """Back to epoch 0 with the same initial weights (the same seed). Returns ``self``."""
        with self.lock:
            self._build()
        return self

    def reseed(self, seed: int | None = None) -> Playground:
        """New data and new initial weights: ``seed`` (default: the current one + 1). Returns ``self``."""
        return self.update(seed=self._settings["seed"] + 1 if seed is None else seed)

    # ------------------------------------------------------------------ forward, loss, training

    def forward(self, x: Tensor, keep: list[Tensor] | None = None) -> Tensor:
        """a[L] for the feature rows ``x``; ``keep`` (a list) collects every layer's activations A[l]
        and names the tensors as the lectures do (Z[l], A[l]) for drawings and explanations."""
        a = x
        for l, layer in enumerate(self.layers, start=1):
            z = layer(a)
            a = (self.output_activation if l == len(self.layers) else self.hidden_activation)(z)
            if keep is not None:
                z.label, a.label = f"Z[{l}]", f"A[{l}]"
                keep.append(a)
        return a

    def loss(self, x: Tensor, y: Tensor, keep: list[Tensor] | None = None) -> Tensor:
        """J = (1/m) sum_i 1/2 (a[L](i) - y(i))^2 (``keep`` as in :meth:`forward`)."""
        return 0.5 * nn.mse_loss(self.forward(x, keep), y)

    def _record_losses(self) -> None:
        with no_grad():
            self.train_loss = float(self.loss(self._train_x, self._train_y).item())
            self.test_loss = float(self.loss(self._test_x, self._test_y).item()) if len(self.test_labels) else 0.0
        self.history.append((self.epoch, self.train_loss, self.test_loss))
        self.version += 1

    def _batch_step(self, x: Tensor, y: Tensor) -> None:
        s = self._settings
        if s["regularization"] != "L1" and not any(d.any() for d in self.dead):
            self._fast_step(x, y)
            return
        # L1 and dead links: numpy on the weights between the ops, so always eager
        self._weight_opt.zero_grad()
        self._bias_opt.zero_grad()
        self.loss(x, y).backward()
        for layer, dead in zip(self.layers, self.dead):
            if dead.any():
                layer.weight.grad.data[dead] = 0.0  # dead links never update again
        before = [layer.weight.data.copy() for layer in self.layers] if s["regularization"] == "L1" else None
        self._weight_opt.step()
        self._bias_opt.step()
        if before is not None:
            step = s["lr"] * s["reg_rate"]
            for layer, w0, dead in zip(self.layers, before, self.dead):
                w = layer.weight.data
                new = w - step * np.sign(w0)
                crossed = (w * new < 0) | dead
                new[crossed] = 0.0
                dead |= crossed
                w[...] = new

    def step(self, epochs: int = 1) -> Playground:
        """Train ``epochs`` epochs (mini-batches of ``batch_size`` in the data's order). Returns ``self``."""
        if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or epochs < 0:
            raise ValueError(f"Playground.step: epochs must be an integer >= 0, got {epochs!r}")
        with self.lock:
            m, b = len(self.train_labels), self._settings["batch_size"]
            for _ in range(int(epochs)):
                for start in range(0, m, b):
                    self._batch_step(self._train_x[start:start + b], self._train_y[start:start + b])
                self.epoch += 1
                self._record_losses()
        return self

    # ------------------------------------------------------------------ looking inside

    def weights(self) -> list[np.ndarray]:
        """W[l] for l = 1..L, each (n[l], n[l-1]) (copies)."""
        return [layer.weight.data.copy() for layer in self.layers]

    def biases(self) -> list[np.ndarray]:
        """b[l] for l = 1..L, each (n[l],) (copies)."""
        return [layer.bias.data.copy() for layer in self.layers]

    def predict(self, points: Any) -> np.ndarray:
        """The output a[L] at raw points (m, 2) -> (m,)."""
        points = np.asarray(points, dtype=np.float64)
        if points.ndim != 2 or points.shape[1] != 2:
            raise ValueError(f"Playground.predict: expected points of shape (m, 2), got {points.shape}")
        with no_grad():
            return self.forward(Tensor(feature_matrix(points, self._settings["features"]))).data[:, 0].copy()

    def _check_resolution(self, resolution: Any, op: str) -> int:
        if isinstance(resolution, bool) or not isinstance(resolution, (int, np.integer)) or not 2 <= resolution <= 400:
            raise ValueError(f"Playground.{op}: resolution must be an integer in 2..400, got {resolution!r}")
        return int(resolution)

    def feature_maps(self, resolution: int = 20) -> np.ndarray:
        """Each input feature over the input square: (n[0], r, r), row 0 at x2 = +6."""
        r = self._check_resolution(resolution, "feature_maps")
        return feature_matrix(grid_points(r), self._settings["features"]).T.reshape(-1, r, r)

    def neuron_maps(self, resolution: int = 20) -> list[np.ndarray]:
        """Every neuron's activation over the input square [-6, 6]^2: one (n[l], r, r) array per
        layer l = 1..L (the hidden layers and the output); row 0 is x2 = +6, column 0 is x1 = -6."""
        r = self._check_resolution(resolution, "neuron_maps")
        keep: list[Tensor] = []
        with no_grad():
            self.forward(Tensor(feature_matrix(grid_points(r), self._settings["features"])), keep)
        return [a.data.T.reshape(-1, r, r).copy() for a in keep]

    def decision_surface(self, resolution: int = 50) -> np.ndarray:
        """The output neuron over the input square, (r, r): the picture behind the data points."""
        return self.neuron_maps(self._check_resolution(resolution, "decision_surface"))[-1][0]

    # ------------------------------------------------------------------ state

    def settings(self) -> dict[str, Any]:
        """The settings (a JSON-able dict; the keyword arguments of the constructor)."""
        return {k: list(v) if isinstance(v, list) else v for k, v in self._settings.items()}

    def state(self, include_weights: bool = False) -> dict[str, Any]:
        """The settings as a JSON-able dict (the page's URL state); ``include_weights`` adds the epoch,
        W[l], b[l] and the dead links so that :meth:`from_state` restores the trained network."""
        out = self.settings()
        if include_weights:
            out["epoch"] = self.epoch
            out["weights"] = [w.tolist() for w in self.weights()]
            out["biases"] = [b.tolist() for b in self.biases()]
            out["dead"] = [d.tolist() for d in self.dead]
        return out

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> Playground:
        """A Playground from :meth:`state` (settings; weights too when they are there)."""
        if not isinstance(state, Mapping):
            raise ValueError(f"Playground.from_state: expected a dict from Playground.state(), got {type(state)}")
        saved = {k: state[k] for k in ("epoch", "weights", "biases", "dead") if k in state}
        pg = cls(**{k: v for k, v in state.items() if k not in saved})
        if "weights" in saved:
            pg.load_weights(saved["weights"], saved.get("biases"), saved.get("dead"), int(saved.get("epoch", 0)))
        return pg

    def load_weights(self, weights: Sequence[Any], biases: Sequence[Any] | None = None,
                     dead: Sequence[Any] | None = None, epoch: int = 0) -> None:
        """Set W[l] (and b[l], the dead links, the epoch counter); shapes must match the network."""
        for name, values, attr in (("weights", weights, "weight"), ("biases", biases, "bias")):
            if values is None:
                continue
            if len(values) != len(self.layers):
                raise ValueError(f"Playground.load_weights: {len(values)} {name} for {len(self.layers)} layers")
            for l, (layer, v) in enumerate(zip(self.layers, values), start=1):
                v = np.asarray(v, dtype=np.float64)
                target = getattr(layer, attr)
                if v.shape != target.shape:
                    raise ValueError(f"Playground.load_weights: {name}[{l}] has shape {v.shape}, the network's "
                                     f"layer {l} needs {target.shape}")
                target.data[...] = v
        if dead is not None:
            self.dead = [np.asarray(d, dtype=bool).reshape(layer.weight.shape) for d, layer in zip(dead, self.layers)]
        self.epoch = int(epoch)
        self.history = []
        self._record_losses()

    def url_hash(self) -> str:
        """The settings as the page's URL fragment, e.g. ``#dataset=xor&features=x1*x2&hidden=...``."""
        parts = []
        for key, value in self.settings().items():
            text = ",".join(str(v) for v in value) if isinstance(value, list) else str(value)
            parts.append(f"{key}={quote(text, safe='*^(),')}")
        return "#" + "&".join(parts)

    @classmethod
    def from_url(cls, url: str) -> Playground:
        """A Playground with the settings of a page's URL (or just its ``#...`` fragment)."""
        if not isinstance(url, str):
            raise ValueError(f"Playground.from_url: expected a URL string, got {type(url).__name__}")
        settings: dict[str, Any] = {}
        for key, text in parse_qsl(url.split("#", 1)[-1], keep_blank_values=True):
            if key in ("features", "hidden"):
                items = [t for t in text.split(",") if t]
                settings[key] = [int(t) for t in items if t.isdigit()] if key == "hidden" else items
                if key == "hidden" and len(settings[key]) != len(items):
                    raise ValueError(f"Playground.from_url: hidden must be sizes such as 4,2, got {text!r}")
            elif key in ("dataset", "activation", "problem", "regularization"):
                settings[key] = None if key == "regularization" and text in ("None", "none", "null") else text
            elif key in _DEFAULTS:
                try:
                    number = float(text)
                except ValueError:
                    raise ValueError(f"Playground.from_url: {key} must be a number, got {text!r}") from None
                settings[key] = int(number) if key in ("batch_size", "seed") and number.is_integer() else number
            else:
                raise ValueError(f"Playground.from_url: unknown setting {key!r}; the settings are {sorted(_DEFAULTS)}")
        return cls(**settings)

    def code(self) -> str:
        """Python that reproduces the current setup (the page's "show code")."""
        args = ", ".join(f"{k}={v!r}" for k, v in self.settings().items())
        return ("from tinygrad_edu.playground import Playground\n\n"
                f"pg = Playground({args})\n"
                f"pg.step({self.epoch})\n"
                "print(pg.epoch, pg.train_loss, pg.test_loss)\n")

    def show(self, port: int = 0, height: int = 760) -> Any:
        """Show this Playground's page inline in a notebook (an IFrame to a local server in this process).

        The page and this object share one network: ``pg.step()`` in the notebook shows on the page,
        and the page's buttons change ``pg``."""
        from .server import show_in_notebook  # the server is only needed for the page

        return show_in_notebook(self, port=port, height=height)

    def __repr__(self) -> str:
        s = self._settings
        return (f"Playground({s['dataset']!r}, features={s['features']}, hidden={s['hidden']}, "
                f"activation={s['activation']!r}, epoch={self.epoch}, train_loss={self.train_loss:.3f}, "
                f"test_loss={self.test_loss:.3f})")


_DEFAULTS = {
    name: p.default for name, p in inspect.signature(Playground.__init__).parameters.items()
    if name != "self"
}
