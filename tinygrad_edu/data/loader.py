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
from ..tensor_class import Tensor

__all__ = ["DataLoader", "TensorDataset"]


class TensorDataset:
    """Arrays of examples that share the first axis, as ``torch.utils.data.TensorDataset``.

    ``TensorDataset(X, y)`` holds X (m, ...) and y (m, ...); ``dataset[i]`` is the tuple
    ``(X[i], y[i])`` and ``len(dataset)`` is m. Tensors are held as their numpy arrays.
    Pass it to :class:`DataLoader` to iterate over batches.
    """

    def __init__(self, *tensors: Any) -> None:
        if not tensors:
            raise ValueError("TensorDataset: expected at least one array of examples, e.g. TensorDataset(X, y)")
        arrays = [np.asarray(t.data if isinstance(t, Tensor) else t) for t in tensors]
        shapes = [a.shape for a in arrays]
        if any(a.ndim == 0 for a in arrays) or len({a.shape[0] for a in arrays}) != 1:
            raise ValueError(
                f"TensorDataset: every array needs the same number of rows (examples) along axis 0, got shapes "
                f"{', '.join(str(sh) for sh in shapes)}"
            )
        self.tensors: tuple[np.ndarray, ...] = tuple(arrays)

    def __len__(self) -> int:
        return len(self.tensors[0])

    def __getitem__(self, index: Any) -> tuple[np.ndarray, ...]:
        return tuple(a[index] for a in self.tensors)

    def __repr__(self) -> str:
        return f"TensorDataset({', '.join(str(a.shape) for a in self.tensors)})"


def _arrays_of(data: Any, y: Any) -> list[np.ndarray]:
    """The arrays to batch: from ``(X, y)``, ``TensorDataset(X, y, ...)`` or ``X`` and ``y``."""
    if isinstance(data, TensorDataset) or (isinstance(data, tuple) and not isinstance(data, np.ndarray)):
        parts = data.tensors if isinstance(data, TensorDataset) else data
        if y is not None:
            raise TypeError(
                f"DataLoader: got a dataset ({type(data).__name__}) and a separate y; pass either DataLoader((X, y)) "
                "or DataLoader(X, y)"
            )
        if not 1 <= len(parts) <= 2 and not isinstance(data, TensorDataset):
            raise ValueError(
                f"DataLoader: a tuple must be (X, y) or (X,), got a tuple of {len(parts)} items"
            )
        return list(TensorDataset(*parts).tensors)
    if hasattr(data, "__getitem__") and hasattr(data, "__len__") and not isinstance(data, (np.ndarray, list, Tensor)):
        raise TypeError(
            f"DataLoader: cannot batch a {type(data).__name__}; pass arrays: DataLoader(X, y), DataLoader((X, y)) "
            "or DataLoader(TensorDataset(X, y))"
        )
    ragged = TypeError(
        "DataLoader: X is not a rectangular array of numbers (ragged rows, or a list of (x, y) pairs?); pass "
        "DataLoader(X, y), DataLoader((X, y)) or DataLoader(TensorDataset(X, y))"
    )
    try:
        X = np.asarray(data.data if isinstance(data, Tensor) else data)
    except ValueError:
        raise ragged from None
    if X.dtype == object:
        raise ragged
    if X.ndim == 0 or len(X) == 0:
        raise ValueError(f"DataLoader: X needs at least one example (row), got shape {X.shape}")
    if y is None:
        return [X]
    y = np.asarray(y.data if isinstance(y, Tensor) else y)
    if y.ndim == 0 or len(y) != len(X):
        raise ValueError(
            f"DataLoader: X and y need the same number of rows (examples), got shapes {X.shape} and {y.shape}"
        )
    return [X, y]


class DataLoader:
    """Iterate over ``(X_batch, y_batch)`` numpy arrays (rows are examples); a new shuffle every epoch.

    The data: ``DataLoader(X, y)``, ``DataLoader((X, y))`` or ``DataLoader(TensorDataset(X, y))``
    (PyTorch's spellings; a ``TensorDataset`` of one or more arrays gives batches of that many
    arrays). ``y`` may be ``None`` (then batches are ``X`` only).
    ``shuffle=True`` permutes the examples at the start of each pass with a generator seeded
    once by ``seed`` (without one: the package-wide generator of :func:`tinygrad_edu.manual_seed`),
    so runs replay and consecutive epochs differ. ``drop_last=True`` drops a final batch
    smaller than ``batch_size``.
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
        self.arrays = _arrays_of(X, y)
        self.X = self.arrays[0]
        self.y = self.arrays[1] if len(self.arrays) > 1 else None
        m = len(self.X)
        if m == 0:
            raise ValueError(f"DataLoader: X needs at least one example (row), got shape {self.X.shape}")
        if batch_size is None:
            batch_size = m
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
            raise ValueError(
                f"DataLoader: batch_size must be a positive integer or None (the whole set), got {batch_size!r}"
            )
        self.batch_size = int(min(batch_size, m))
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        # None: shuffle with the package-wide generator at each epoch (so manual_seed reaches it)
        self._rng = None if seed is None else as_generator(seed, "DataLoader")

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
        order = as_generator(self._rng).permutation(m) if self.shuffle else np.arange(m)
        for k in range(len(self)):
            idx = order[k * self.batch_size : (k + 1) * self.batch_size]
            if len(self.arrays) == 1:
                yield self.X[idx]
            else:
                yield tuple(a[idx] for a in self.arrays)

    def __repr__(self) -> str:
        return (
            f"DataLoader(m={len(self.X)}, batch_size={self.batch_size}, shuffle={self.shuffle}, "
            f"drop_last={self.drop_last}, batches={len(self)})"
        )
