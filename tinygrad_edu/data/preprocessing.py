"""Splitting, standardising and one-hot encoding (numpy in, numpy out).

Arrays hold one example per **row** (shape ``(m, n_x)``), the transpose of the lectures'
``X`` of shape ``(n_x, m)``; the formulas below are the lectures' with that in mind.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..argcheck import as_float_array
from ..seeding import Seed, as_generator
from ..tensor_class import get_default_dtype

__all__ = ["Standardizer", "one_hot", "standardize", "train_test_split"]




def _n_test(m: int, test_size: float | int, op: str) -> int:
    if isinstance(test_size, bool):
        raise TypeError(f"{op}: test_size must be a fraction in (0, 1) or a count, got {test_size!r}")
    if isinstance(test_size, (int, np.integer)):
        n_test = int(test_size)
    elif isinstance(test_size, (float, np.floating)) and 0.0 < test_size < 1.0:
        n_test = int(round(test_size * m))
    else:
        raise ValueError(f"{op}: test_size must be a fraction in (0, 1) or an integer count, got {test_size!r}")
    if not 1 <= n_test <= m - 1:
        raise ValueError(
            f"{op}: test_size={test_size!r} leaves {n_test} test and {m - n_test} training examples out of {m}; "
            "both parts need at least one"
        )
    return n_test


def train_test_split(
    X: Any, y: Any, test_size: float | int = 0.25, seed: Seed = None, stratify: bool | Any = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Shuffle and split into ``X_train, X_test, y_train, y_test`` (the rows of X go with y).

    ``test_size``: a fraction of the examples (rounded) or a count. ``stratify=True`` keeps
    each class's share of ``y`` equal in both parts (up to rounding); pass an array to
    stratify on other labels. The same ``seed`` gives the same split.
    """
    X, y = np.asarray(X), np.asarray(y)
    if X.ndim == 0 or y.ndim == 0 or len(X) != len(y):
        raise ValueError(
            f"train_test_split: X and y need the same number of rows (examples), got shapes {X.shape} and {y.shape}"
        )
    m = len(y)
    n_test = _n_test(m, test_size, "train_test_split")
    rng = as_generator(seed)
    if stratify is False or stratify is None:
        order = rng.permutation(m)
        test_idx, train_idx = order[:n_test], order[n_test:]
    else:
        groups = y if stratify is True else np.asarray(stratify)
        if groups.shape[:1] != (m,):
            raise ValueError(f"train_test_split: stratify labels have shape {groups.shape}, expected ({m},)")
        classes, inverse = np.unique(groups, return_inverse=True)
        counts = np.bincount(inverse)
        # Largest-remainder rounding: each class gets floor(share), the biggest remainders get one more.
        exact = counts * n_test / m
        per_class = np.floor(exact).astype(int)
        extra = n_test - per_class.sum()
        per_class[np.argsort(-(exact - per_class), kind="stable")[:extra]] += 1
        test_parts, train_parts = [], []
        for c in range(len(classes)):
            idx = rng.permutation(np.flatnonzero(inverse == c))
            test_parts.append(idx[: per_class[c]])
            train_parts.append(idx[per_class[c] :])
        test_idx = rng.permutation(np.concatenate(test_parts))
        train_idx = rng.permutation(np.concatenate(train_parts))
    return X[train_idx], X[test_idx], y[train_idx], y[test_idx]


class Standardizer:
    """Normalising inputs, as in the lectures: fit ``mu`` and ``sigma`` on the TRAINING set,

        mu = (1/m) sum_i x(i),    sigma^2 = (1/m) sum_i (x(i) - mu)^2,    x := (x - mu) / sigma,

    and apply the *same* ``mu`` and ``sigma`` to the validation and test sets. A feature that
    is constant on the training set (sigma = 0, e.g. a border pixel of the digits) is only
    centred (divided by 1), so no division by zero.
    """

    def __init__(self) -> None:
        self.mean: np.ndarray | None = None
        self.std: np.ndarray | None = None

    def fit(self, X: Any) -> Standardizer:
        """Learn ``mu`` and ``sigma`` (per feature) from the training set ``X`` of shape ``(m, ...)``."""
        X = as_float_array(X, "X", "Standardizer.fit").astype(np.float64, copy=False)
        if X.ndim < 1 or len(X) == 0:
            raise ValueError(f"Standardizer.fit: need at least one example (row), got shape {X.shape}")
        self.mean = X.mean(axis=0)
        std = X.std(axis=0)
        self.std = np.where(std > 0, std, 1.0)
        return self

    def transform(self, X: Any) -> np.ndarray:
        """``(X - mu) / sigma`` with the fitted training statistics."""
        if self.mean is None or self.std is None:
            raise RuntimeError("Standardizer.transform: call fit(X_train) first")
        X = as_float_array(X, "X", "Standardizer.transform").astype(np.float64, copy=False)
        if X.shape[1:] != self.mean.shape:
            raise ValueError(
                f"Standardizer.transform: examples of shape {X.shape[1:]}, but it was fitted on shape {self.mean.shape}"
            )
        return (X - self.mean) / self.std

    def fit_transform(self, X: Any) -> np.ndarray:
        """``fit(X)`` then ``transform(X)``: for the training set only."""
        return self.fit(X).transform(X)

    def inverse_transform(self, X: Any) -> np.ndarray:
        """Undo the scaling: ``X sigma + mu``."""
        if self.mean is None or self.std is None:
            raise RuntimeError("Standardizer.inverse_transform: call fit(X_train) first")
        return np.asarray(X, dtype=np.float64) * self.std + self.mean


def standardize(X_train: Any, *others: Any) -> tuple[np.ndarray, ...]:
    """Standardise ``X_train`` and each of ``others`` with the TRAINING mean and std (see :class:`Standardizer`).

    ``Xtr, Xte = standardize(X_train, X_test)``; returns a tuple even for one array.
    """
    X_train = as_float_array(X_train, "X_train", "standardize")  # converted once, here, errors named
    scaler = Standardizer().fit(X_train)
    return (scaler.transform(X_train),) + tuple(scaler.transform(as_float_array(X, "X", "standardize")) for X in others)


def one_hot(y: Any, num_classes: int | None = None) -> np.ndarray:
    """Labels of shape ``(m,)`` -> array (the default float dtype) of shape ``(m, C)`` with ``Y[i, y(i)] = 1``.

    The lectures' ``Y`` of shape ``(C, m)`` is its transpose. ``num_classes`` defaults to
    ``max(y) + 1``.
    """
    y = np.asarray(y)
    if y.ndim != 1:
        raise ValueError(f"one_hot: labels must have shape (m,), got {y.shape}")
    if y.size and (not np.issubdtype(y.dtype, np.integer) and not np.all(np.equal(np.mod(y, 1), 0))):
        raise ValueError(f"one_hot: labels must be integers 0..C-1, got dtype {y.dtype} with non-integer values")
    labels = y.astype(np.int64)
    if labels.size and labels.min() < 0:
        raise ValueError(f"one_hot: labels must be >= 0, got min {labels.min()}")
    C = int(labels.max()) + 1 if num_classes is None and labels.size else (num_classes or 0)
    if labels.size and labels.max() >= C:
        raise ValueError(f"one_hot: label {labels.max()} does not fit num_classes={C}")
    out = np.zeros((labels.size, C), dtype=get_default_dtype())
    out[np.arange(labels.size), labels] = 1.0
    return out
