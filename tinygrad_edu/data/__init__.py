"""Data: toy 2-D sets (TensorFlow Playground, moons, flower), real digits, splits and batches.

* :mod:`.synthetic`: ``make_circle``, ``make_xor``, ``make_gaussian``, ``make_spiral``,
  ``make_plane``, ``make_multi_gaussian``, ``make_moons``, ``make_flower`` (``n``, ``noise``, ``seed``)
  and ``make_dataset(name, ...)``.
* :mod:`.real`: ``load_digits()`` (shipped with the package; ``source="sklearn"`` optional).
* :mod:`.preprocessing`: ``train_test_split``, ``Standardizer`` / ``standardize``, ``one_hot``.
* :mod:`.loader`: ``DataLoader`` (batch / stochastic / mini-batch gradient descent), ``TensorDataset``.

Everything here is numpy in, numpy out, one example per row.
"""

from .loader import DataLoader, TensorDataset
from .preprocessing import Standardizer, one_hot, standardize, train_test_split
from .real import load_digits
from .synthetic import (
    DATASETS,
    make_circle,
    make_dataset,
    make_flower,
    make_gaussian,
    make_moons,
    make_multi_gaussian,
    make_plane,
    make_spiral,
    make_xor,
)

__all__ = [
    "DATASETS",
    "DataLoader",
    "Standardizer",
    "TensorDataset",
    "load_digits",
    "make_circle",
    "make_dataset",
    "make_flower",
    "make_gaussian",
    "make_moons",
    "make_multi_gaussian",
    "make_plane",
    "make_spiral",
    "make_xor",
    "one_hot",
    "standardize",
    "train_test_split",
]
