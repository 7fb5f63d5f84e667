"""Real data sets that work offline.

* :func:`load_digits` reads the UCI optical digits (8x8 images of handwritten digits,
  1,797 examples, 10 classes) from the copy shipped inside this package
  (``tinygrad_edu/datasets/digits.csv.gz``; licence and source in that folder), with
  numpy only. ``source="sklearn"`` asks scikit-learn's bundled copy instead (the
  optional extra ``pip install tinygrad-edu[digits]``); both give the same arrays.
"""

from __future__ import annotations

import gzip
from importlib import resources

import numpy as np

from ..tensor_class import get_default_dtype

__all__ = ["load_digits"]

_DIGITS_FILE = "digits.csv.gz"


def _read_shipped_digits() -> np.ndarray:
    path = resources.files("tinygrad_edu").joinpath("datasets", _DIGITS_FILE)
    try:
        with path.open("rb") as raw, gzip.open(raw, "rt") as text:
            return np.loadtxt(text, delimiter=",", dtype=np.int64)
    except FileNotFoundError as exc:  # a broken install
        raise FileNotFoundError(
            f"load_digits: the shipped data file tinygrad_edu/datasets/{_DIGITS_FILE} is missing; "
            "reinstall tinygrad-edu, or use source='sklearn'"
        ) from exc


def load_digits(source: str = "package", images: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """The 8x8 handwritten digits: ``X`` of shape ``(1797, 64)`` (pixels 0..16), ``y`` int64 in 0..9.

    ``X`` has the default float dtype (float64 unless changed with ``set_default_dtype``).

    ``images=True`` gives ``X`` of shape ``(1797, 1, 8, 8)`` (one channel) for convolutions.
    ``source``: ``"package"`` (the shipped file, numpy only) or ``"sklearn"``
    (``sklearn.datasets.load_digits``; needs the ``digits`` extra).
    """
    if source == "package":
        table = _read_shipped_digits()
        X, y = table[:, :64].astype(np.float64), table[:, 64].astype(np.int64)
    elif source == "sklearn":
        try:
            from sklearn.datasets import load_digits as sk_load_digits
        except ImportError as exc:
            raise ImportError(
                "load_digits(source='sklearn') needs scikit-learn: pip install 'tinygrad-edu[digits]' "
                "(or use source='package', the copy shipped with tinygrad_edu, which needs nothing extra)"
            ) from exc
        X, y = sk_load_digits(return_X_y=True)
        X, y = np.asarray(X, dtype=np.float64), np.asarray(y, dtype=np.int64)
    else:
        raise ValueError(f"load_digits: source must be 'package' or 'sklearn', got {source!r}")
    X = X.astype(get_default_dtype(), copy=False)
    if images:
        X = X.reshape(-1, 1, 8, 8)
    return X, y
