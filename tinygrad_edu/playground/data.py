"""The Playground's data sets, from :mod:`tinygrad_edu.data.synthetic`, with the Playground's conventions.

* names as on the page: ``circle xor gauss spiral`` (classification) and ``plane multi_gauss``
  (regression);
* sizes as in ``playground.ts``: 500 points for classification, 1200 for regression;
* labels +1 / -1 for classification (``synthetic`` gives 1 / 0), regression targets unchanged;
* raw inputs (circle, xor, gauss within about [-5, 5], spiral [-5, 5], regression sets [-6, 6]),
  not standardised; the order is shuffled once, so the first ``train_ratio`` of the points is the
  training set, as the original does.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..data import synthetic
from ..seeding import Seed, as_generator

__all__ = ["DATASETS", "NUM_SAMPLES", "make_playground_data"]

#: page name -> the name of the same generator in :mod:`tinygrad_edu.data.synthetic`
PAGE_NAMES = {"circle": "circle", "xor": "xor", "gauss": "gaussian", "spiral": "spiral", "plane": "plane",
              "multi_gauss": "multi_gaussian"}

#: page name -> (generator of ``synthetic``, problem), taken from ``synthetic.DATASETS``
DATASETS: dict[str, tuple[Callable[..., tuple[np.ndarray, np.ndarray]], str]] = {
    page: synthetic.DATASETS[name] for page, name in PAGE_NAMES.items()
}

#: problem -> number of points (``NUM_SAMPLES_CLASSIFY`` and ``NUM_SAMPLES_REGRESS`` of ``playground.ts``)
NUM_SAMPLES = {"classification": 500, "regression": 1200}


def make_playground_data(name: str, noise: float = 0.0, seed: Seed = None) -> tuple[np.ndarray, np.ndarray]:
    """Points (m, 2) and targets (m,) of the Playground data set ``name``: labels +-1, or regression values.

    ``noise`` is the page's slider divided by 100 (0 .. 0.5)."""
    if name not in DATASETS:
        raise ValueError(f"make_playground_data: unknown data set {name!r}; choose one of {', '.join(DATASETS)}")
    make, problem = DATASETS[name]
    rng = as_generator(seed)
    X, y = make(n=NUM_SAMPLES[problem], noise=noise, seed=rng)
    order = rng.permutation(len(y))  # xor, plane and multi_gauss come unshuffled from a uniform draw; harmless
    X, y = X[order], y[order]
    if problem == "classification":
        return X, np.where(y == 1, 1.0, -1.0)
    return X, y.astype(np.float64)
