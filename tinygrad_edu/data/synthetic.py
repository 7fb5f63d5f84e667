"""Toy 2-D data sets: the TensorFlow Playground's generators, moons and the planar "flower".

Every generator takes ``n`` (number of examples), ``noise`` and ``seed`` (an int or a
``np.random.Generator``; the same seed gives the same data) and returns ``(X, y)``:

* ``X``: array of shape ``(n, 2)`` in the default float dtype (float64 unless changed with
  :func:`tinygrad_edu.set_default_dtype`; drawn in float64 and rounded), one example per **row**. This is the layout
  ``nn.Linear`` expects; it is the transpose of the lectures' ``X`` of shape ``(n_x, m)``.
* ``y``: shape ``(n,)``: int64 class labels ``0, 1, ...`` for classification, float64
  targets (the default float dtype) for regression.

The Playground generators follow its published source (``dataset.ts`` of
github.com/tensorflow/playground: ``classifyCircleData``, ``classifyXORData``,
``classifyTwoGaussData``, ``classifySpiralData``, ``regressPlane``, ``regressGaussian``) with the
same constants. What differs, on purpose:

* labels: the Playground's +1 is our 1 and its -1 is our 0 (class indices for ``cross_entropy``
  and ``one_hot``); regression targets are the Playground's values unchanged;
* noise: the Playground's slider goes from 0 to 50 and is divided by 100, so its ``noise`` is in
  ``[0, 0.5]``; any ``noise >= 0`` is accepted here (the formulas extrapolate as d3's unclamped
  linear scales do);
* sizes: ``n`` is the exact total; the classes get ``ceil(n/2)`` and ``floor(n/2)`` points (the
  Playground draws ``ceil(n/2)`` of each when ``n`` is odd);
* randomness: numpy's generator seeded by ``seed`` (the Playground uses seedrandom), and the
  classification sets are shuffled (the Playground lists one class after the other).

``U(a, b)`` below is a uniform draw:

* **circle**: half the points at radius ``r ~ U(0, 2.5)``, half at ``r ~ U(3.5, 5)``,
  angle ``~ U(0, 2 pi)``, point ``(r sin a, r cos a)``. The label is 1 when the point
  *plus a noise vector* ``U(-5, 5) * noise`` (per coordinate) lies within radius 2.5, so
  noise flips labels near the boundary while the points stay put.
* **xor**: ``x, y ~ U(-5, 5)``, each pushed 0.3 away from the axes; label 1 when
  ``(x + nx) (y + ny) >= 0`` with ``nx, ny ~ U(-5, 5) * noise``.
* **gaussian**: two Gaussian blobs of ``n/2`` points centred at ``(2, 2)`` (label 1) and
  ``(-2, -2)`` (label 0), variance ``0.5 + 7 * noise`` (Playground maps noise 0..0.5
  linearly to variance 0.5..4).
* **spiral**: for ``i = 0 .. n/2 - 1``, ``r = 5 i / (n/2)``, ``t = 1.75 * 2 pi i / (n/2) + dt``,
  point ``(r sin t + U(-1, 1) noise, r cos t + U(-1, 1) noise)``; arm ``dt = 0`` is label 1
  and arm ``dt = pi`` is label 0. ``classes=K`` (our extension, e.g. 3) makes K arms with
  ``dt = 2 pi (K - 1 - k) / K`` for label ``k`` (so ``K = 2`` is exactly the Playground).
* **plane** (regression): ``x, y ~ U(-6, 6)``; target ``(x + nx + y + ny) / 10`` with
  ``nx, ny ~ U(-6, 6) * noise``; targets lie in about ``[-1.2, 1.2]``.
* **multi_gaussian** (regression): six bumps at ``(-4, 2.5, +), (0, 2.5, -), (4, 2.5, +),
  (-4, -2.5, -), (0, -2.5, +), (4, -2.5, -)``; each gives ``sign * clip(1 - d / 2, 0, 1)``
  at distance ``d`` from its centre, and the target is the one largest in absolute value,
  evaluated at the noisy point as for *plane*.

Two more classic 2-D sets:

* **moons**: two interleaving half circles, ``(cos t, sin t)`` (label 0) and
  ``(1 - cos t, 0.5 - sin t)`` (label 1) for ``t`` evenly spaced in ``[0, pi]``, plus
  Gaussian noise of standard deviation ``noise`` on each coordinate.
* **flower** (the deep-learning course's planar data set, ``load_planar_dataset`` in
  ``planar_utils``: ``m = 400``, ``N = 200`` per class, ``D = 2``, ``a = 4``): two classes of
  ``n/2`` points; for class ``j``, ``t`` evenly spaced in ``[3.12 j, 3.12 (j + 1)]`` plus
  ``N(0, noise^2)``, radius ``r = a sin(4 t) + N(0, noise^2)`` with ``a = 4`` the petals' maximum
  length, point ``(r sin t, r cos t)``. The course uses ``noise = 0.2`` and ``n = 400`` (our
  defaults); its ``X`` has shape ``(2, m)`` and ``Y`` shape ``(1, m)``, ours are the transposes
  ``(m, 2)`` and ``(m,)``, shuffled, from numpy's seeded generator (the same formula, not the course's
  ``np.random.seed(1)`` draws).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable

import numpy as np

from ..seeding import Seed, as_generator
from ..tensor_class import get_default_dtype

__all__ = [
    "DATASETS",
    "make_circle",
    "make_dataset",
    "make_flower",
    "make_gaussian",
    "make_moons",
    "make_multi_gaussian",
    "make_plane",
    "make_spiral",
    "make_xor",
]




def _check(name: str, n: int, noise: float, min_n: int = 2) -> None:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < min_n:
        raise ValueError(f"{name}: n must be an integer >= {min_n} (number of examples), got {n!r}")
    if not isinstance(noise, (int, float, np.floating, np.integer)) or not math.isfinite(noise) or noise < 0:
        raise ValueError(f"{name}: noise must be a finite number >= 0, got {noise!r}")


def _default_float(make: Callable[..., tuple[np.ndarray, np.ndarray]]) -> Callable[..., tuple[np.ndarray, np.ndarray]]:
    """Give the generator's float arrays the default float dtype (class labels stay int64)."""

    @functools.wraps(make)
    def made(*args: object, **kwargs: object) -> tuple[np.ndarray, np.ndarray]:
        X, y = make(*args, **kwargs)
        dtype = get_default_dtype()
        return X.astype(dtype, copy=False), (y.astype(dtype, copy=False) if y.dtype.kind == "f" else y)

    return made


def _halves(n: int) -> tuple[int, int]:
    """Sizes of the two classes: the first gets the extra point when n is odd."""
    return n - n // 2, n // 2


def _shuffle(X: np.ndarray, y: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    order = rng.permutation(len(y))
    return X[order], y[order]


@_default_float
def make_circle(n: int = 400, noise: float = 0.0, seed: Seed = None) -> tuple[np.ndarray, np.ndarray]:
    """Playground "Circle": a disc of radius 2.5 (label 1) inside a ring 3.5..5 (label 0)."""
    _check("make_circle", n, noise)
    rng = as_generator(seed)
    radius = 5.0
    parts = []
    for count, (r_lo, r_hi) in zip(_halves(n), ((0.0, 0.5 * radius), (0.7 * radius, radius))):
        r = rng.uniform(r_lo, r_hi, count)
        angle = rng.uniform(0.0, 2 * math.pi, count)
        parts.append(np.stack([r * np.sin(angle), r * np.cos(angle)], axis=1))
    X = np.concatenate(parts)
    noisy = X + rng.uniform(-radius, radius, X.shape) * noise
    y = (np.hypot(noisy[:, 0], noisy[:, 1]) < 0.5 * radius).astype(np.int64)
    return _shuffle(X, y, rng)


@_default_float
def make_xor(n: int = 400, noise: float = 0.0, seed: Seed = None) -> tuple[np.ndarray, np.ndarray]:
    """Playground "Exclusive or": label 1 in the quadrants where x * y >= 0."""
    _check("make_xor", n, noise, min_n=1)
    rng = as_generator(seed)
    padding = 0.3
    X = rng.uniform(-5.0, 5.0, (n, 2))
    X = X + np.where(X > 0, padding, -padding)
    noisy = X + rng.uniform(-5.0, 5.0, X.shape) * noise
    y = (noisy[:, 0] * noisy[:, 1] >= 0).astype(np.int64)
    return X, y


@_default_float
def make_gaussian(n: int = 400, noise: float = 0.0, seed: Seed = None) -> tuple[np.ndarray, np.ndarray]:
    """Playground "Gaussian": blobs at (2, 2) (label 1) and (-2, -2) (label 0), variance 0.5 + 7 noise."""
    _check("make_gaussian", n, noise)
    rng = as_generator(seed)
    std = math.sqrt(0.5 + 7.0 * noise)
    n1, n0 = _halves(n)
    X = np.concatenate([rng.normal(2.0, std, (n1, 2)), rng.normal(-2.0, std, (n0, 2))])
    y = np.concatenate([np.ones(n1, np.int64), np.zeros(n0, np.int64)])
    return _shuffle(X, y, rng)


@_default_float
def make_spiral(
    n: int = 400, noise: float = 0.0, seed: Seed = None, classes: int = 2
) -> tuple[np.ndarray, np.ndarray]:
    """Playground "Spiral": ``classes`` arms of r = 5 i/N, t = 1.75 * 2 pi i/N + dt (see module docstring).

    ``n`` is the total number of points, split as evenly as possible between the arms.
    """
    _check("make_spiral", n, noise)
    if isinstance(classes, bool) or not isinstance(classes, (int, np.integer)) or classes < 2:
        raise ValueError(f"make_spiral: classes must be an integer >= 2, got {classes!r}")
    if n < classes:
        raise ValueError(f"make_spiral: n={n} is smaller than classes={classes}; need at least one point per arm")
    rng = as_generator(seed)
    Xs, ys = [], []
    for k in range(classes):
        count = n // classes + (1 if k < n % classes else 0)
        i = np.arange(count)
        r = i / count * 5.0
        t = 1.75 * i / count * 2 * math.pi + 2 * math.pi * (classes - 1 - k) / classes
        x1 = r * np.sin(t) + rng.uniform(-1.0, 1.0, count) * noise
        x2 = r * np.cos(t) + rng.uniform(-1.0, 1.0, count) * noise
        Xs.append(np.stack([x1, x2], axis=1))
        ys.append(np.full(count, k, np.int64))
    return _shuffle(np.concatenate(Xs), np.concatenate(ys), rng)


def _regression_points(n: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """The Playground's regression inputs: points ``U(-6, 6)^2`` and the noisy copies their targets are read at."""
    radius = 6.0
    X = rng.uniform(-radius, radius, (n, 2))
    return X, X + rng.uniform(-radius, radius, X.shape) * noise


@_default_float
def make_plane(n: int = 400, noise: float = 0.0, seed: Seed = None) -> tuple[np.ndarray, np.ndarray]:
    """Playground regression "Plane": target (x + y) / 10 at a noisy copy of the point."""
    _check("make_plane", n, noise, min_n=1)
    X, noisy = _regression_points(n, noise, as_generator(seed))
    y = noisy.sum(axis=1) / 10.0
    return X, y


_BUMPS = ((-4.0, 2.5, 1.0), (0.0, 2.5, -1.0), (4.0, 2.5, 1.0), (-4.0, -2.5, -1.0), (0.0, -2.5, 1.0), (4.0, -2.5, -1.0))


@_default_float
def make_multi_gaussian(n: int = 400, noise: float = 0.0, seed: Seed = None) -> tuple[np.ndarray, np.ndarray]:
    """Playground regression "Multi Gaussian": six signed bumps sign * clip(1 - d/2, 0, 1); largest |.| wins."""
    _check("make_multi_gaussian", n, noise, min_n=1)
    X, noisy = _regression_points(n, noise, as_generator(seed))
    values = np.stack(
        [s * np.clip(1.0 - np.hypot(noisy[:, 0] - cx, noisy[:, 1] - cy) / 2.0, 0.0, 1.0) for cx, cy, s in _BUMPS],
        axis=1,
    )
    y = values[np.arange(n), np.argmax(np.abs(values), axis=1)]
    return X, y


@_default_float
def make_moons(n: int = 400, noise: float = 0.1, seed: Seed = None) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles (label 0 on top, label 1 below), Gaussian noise of std ``noise``."""
    _check("make_moons", n, noise)
    rng = as_generator(seed)
    n0, n1 = _halves(n)
    t0 = np.linspace(0.0, math.pi, n0)
    t1 = np.linspace(0.0, math.pi, n1)
    X = np.concatenate(
        [np.stack([np.cos(t0), np.sin(t0)], axis=1), np.stack([1.0 - np.cos(t1), 0.5 - np.sin(t1)], axis=1)]
    )
    X = X + rng.normal(0.0, 1.0, X.shape) * noise
    y = np.concatenate([np.zeros(n0, np.int64), np.ones(n1, np.int64)])
    return _shuffle(X, y, rng)


@_default_float
def make_flower(
    n: int = 400, noise: float = 0.2, seed: Seed = None, petal: float = 4.0
) -> tuple[np.ndarray, np.ndarray]:
    """The course's planar "flower": r = a sin(4 t) + noise, point (r sin t, r cos t), a = ``petal`` = 4."""
    _check("make_flower", n, noise)
    rng = as_generator(seed)
    Xs, ys = [], []
    for j, count in enumerate(_halves(n)):
        t = np.linspace(j * 3.12, (j + 1) * 3.12, count) + rng.normal(0.0, 1.0, count) * noise
        r = petal * np.sin(4 * t) + rng.normal(0.0, 1.0, count) * noise
        Xs.append(np.stack([r * np.sin(t), r * np.cos(t)], axis=1))
        ys.append(np.full(count, j, np.int64))
    return _shuffle(np.concatenate(Xs), np.concatenate(ys), rng)


#: name -> (generator, task): task is "classification" or "regression".
DATASETS: dict[str, tuple[Callable[..., tuple[np.ndarray, np.ndarray]], str]] = {
    "circle": (make_circle, "classification"),
    "xor": (make_xor, "classification"),
    "gaussian": (make_gaussian, "classification"),
    "spiral": (make_spiral, "classification"),
    "moons": (make_moons, "classification"),
    "flower": (make_flower, "classification"),
    "plane": (make_plane, "regression"),
    "multi_gaussian": (make_multi_gaussian, "regression"),
}


def make_dataset(name: str, n: int = 400, noise: float | None = None, seed: Seed = None, **kwargs: object):
    """Make a 2-D data set by name (a key of :data:`DATASETS`); ``noise=None`` uses that generator's default."""
    if name not in DATASETS:
        raise ValueError(f"make_dataset: unknown data set {name!r}; choose one of {', '.join(sorted(DATASETS))}")
    fn = DATASETS[name][0]
    if noise is None:
        return fn(n=n, seed=seed, **kwargs)
    return fn(n=n, noise=noise, seed=seed, **kwargs)
