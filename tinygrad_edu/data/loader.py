"""``DataLoader``: batch, stochastic and mini-batch gradient descent are one argument apart.

One *epoch* is one pass over the ``m`` training examples, split into batches
``B_1, B_2, ...`` of ``batch_size`` examples; each batch gives one gradient step on

    J_i = (1 / |B_i|) sum_{j in B_i} L(yhat(j), y(j)).

* ``batch_size=None`` (or ``m``): **batch** gradient descent, one step per epoch;
* ``batch_size=1``: **stochastic** gradient descent, ``m`` steps per epoch;
* anything in between (e.g. 32 or 64): **mini-batch** gradient descent.

A ``batch_size`` larger than ``m`` is taken as ``m`` (batch gradient descent), so ``drop_last``
never leaves an epoch without a step.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import numpy as np

from ..seeding import Seed, as_generator

__all__ = ["DataLoader"]



class DataLoader:
    """Iterate over ``(X_batch, y_batch)`` numpy arrays (rows are examples); a new shuffle every epoch.

    ``shuffle=True`` permutes the examples at the start of each pass with a generator seeded
    once by ``seed``, so runs replay and consecutive epochs differ. ``drop_last=True`` drops a
    final batch smaller than ``batch_size``. ``y`` may be ``None`` (then batches are ``X`` only).
    """

    def __init__(
        self,
        X: Any,
        y: Any = None,
        batch_size: int | None = None,
        shuffle: bool = True,
        seed: Seed = None,
        drop_last: bool = False,
    ) -> None:
        self.X = np.asarray(X)
        self.y = None if y is None else np.asarray(y)
        if self.X.ndim == 0 or len(self.X) == 0:
            raise ValueError(f"DataLoader: X needs at least one example (row), got shape {self.X.shape}")
        if self.y is not None and (self.y.ndim == 0 or len(self.y) != len(self.X)):
            raise ValueError(
                f"DataLoader: X and y need the same number of rows (examples), got shapes {self.X.shape} "
                f"and {self.y.shape}"
            )
        m = len(self.X)
        if batch_size is None:
            batch_size = m
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
            raise ValueError(
                f"DataLoader: batch_size must be a positive integer or None (the whole set), got {batch_size!r}"
            )
        self.batch_size = int(min(batch_size, m))
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self._rng = as_generator(seed)

    @property
    def num_examples(self) -> int:
        """m, the number of examples (rows)."""
        return len(self.X)

    def __len__(self) -> int:
        """Number of batches (gradient steps) per epoch."""
        m = len(self.X)
        return m // self.batch_size if self.drop_last else math.ceil(m / self.batch_size)

    def __iter__(self) -> Iterator[Any]:
        """One epoch: ``(X_batch, y_batch)`` pairs (or ``X_batch`` alone without ``y``), a fresh order each time."""
        m = len(self.X)
        order = self._rng.permutation(m) if self.shuffle else np.arange(m)
        for k in range(len(self)):
            idx = order[k * self.batch_size : (k + 1) * self.batch_size]
            if self.y is None:
                yield self.X[idx]
            else:
                yield self.X[idx], self.y[idx]

    def __repr__(self) -> str:
        return (
            f"DataLoader(m={len(self.X)}, batch_size={self.batch_size}, shuffle={self.shuffle}, "
            f"drop_last={self.drop_last}, batches={len(self)})"
        )
