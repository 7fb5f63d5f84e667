"""DataLoader((X, y)), TensorDataset(X, y), and set_default_dtype reaching the data helpers.

torch side, for the reader:
    ds = torch.utils.data.TensorDataset(X, y); len(ds) -> 5; ds[1] -> (X[1], y[1])
    torch.utils.data.DataLoader(ds, batch_size=2) -> batches (X[0:2], y[0:2]), (X[2:4], y[2:4]), (X[4:], y[4:])
"""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu.data import DataLoader, TensorDataset, load_digits, make_circle, make_dataset, make_plane, one_hot
from tinygrad_edu.tensor_class import get_default_dtype, set_default_dtype

X = np.arange(10.0).reshape(5, 2)
y = np.array([0, 1, 0, 1, 1])


def batches(loader: DataLoader) -> list[tuple[np.ndarray, ...]]:
    return [tuple(np.asarray(a) for a in batch) for batch in loader]


def test_tensor_dataset_indexes_rows_as_torch() -> None:
    ds = TensorDataset(X, tg.Tensor(y.astype(float)))
    assert len(ds) == 5
    row, label = ds[1]
    np.testing.assert_array_equal(row, [2.0, 3.0])
    assert label == 1.0
    assert repr(ds) == "TensorDataset((5, 2), (5,))"
    with pytest.raises(ValueError, match=r"same number of rows .* got shapes \(5, 2\), \(4,\)"):
        TensorDataset(X, y[:4])
    with pytest.raises(ValueError, match="at least one array"):
        TensorDataset()


@pytest.mark.parametrize("make", [
    lambda: DataLoader((X, y), batch_size=2, shuffle=False),
    lambda: DataLoader(TensorDataset(X, y), batch_size=2, shuffle=False),
    lambda: DataLoader(X, y, batch_size=2, shuffle=False),
    lambda: DataLoader((tg.Tensor(X), y), batch_size=2, shuffle=False),
])
def test_every_spelling_gives_the_same_batches(make) -> None:
    got = batches(make())
    assert [len(b) for b in got] == [2, 2, 2]
    np.testing.assert_array_equal(np.concatenate([b[0] for b in got]), X)
    np.testing.assert_array_equal(np.concatenate([b[1] for b in got]), y)


def test_a_dataset_of_one_or_three_arrays() -> None:
    assert [b.shape for b in DataLoader(TensorDataset(X), batch_size=3, shuffle=False)] == [(3, 2), (2, 2)]
    assert [b.shape for b in DataLoader((X,), batch_size=5)] == [(5, 2)]
    w = np.ones(5)
    (xb, yb, wb), = DataLoader(TensorDataset(X, y, w), shuffle=False)
    np.testing.assert_array_equal(wb, w)


def test_shuffled_spellings_agree_under_one_seed() -> None:
    a = batches(DataLoader((X, y), batch_size=2, seed=3))
    b = batches(DataLoader(X, y, batch_size=2, seed=3))
    for pa, pb in zip(a, b):
        for u, v in zip(pa, pb):
            np.testing.assert_array_equal(u, v)


@pytest.mark.parametrize("make, error, message", [
    (lambda: DataLoader((X, y), y), TypeError, r"got a dataset \(tuple\) and a separate y"),
    (lambda: DataLoader((X, y, y)), ValueError, r"a tuple must be \(X, y\) or \(X,\), got a tuple of 3"),
    (lambda: DataLoader((X, y[:3])), ValueError, r"same number of rows .* \(5, 2\), \(3,\)"),
    (lambda: DataLoader(list(zip(X, y))), TypeError, r"not a rectangular array .* DataLoader\(\(X, y\)\)"),
    (lambda: DataLoader({"X": X}), TypeError, r"cannot batch a dict; pass arrays"),
])
def test_anything_else_is_a_clear_error(make, error, message) -> None:
    # before: DataLoader((X, y)) with X (5, 2) and y (5,) raised numpy's "inhomogeneous shape" ValueError
    with pytest.raises(error, match=message):
        make()


@pytest.fixture
def float32_default():
    before = get_default_dtype()
    set_default_dtype(np.float32)
    yield
    set_default_dtype(before)


def test_data_helpers_honour_the_default_dtype(float32_default) -> None:
    Xc, yc = make_circle(20, seed=0)
    assert Xc.dtype == np.float32 and yc.dtype == np.int64  # labels stay integer class indices
    Xp, yp = make_plane(20, seed=0)
    assert Xp.dtype == yp.dtype == np.float32
    assert make_dataset("moons", n=10, seed=0)[0].dtype == np.float32
    assert one_hot(np.array([0, 2]), 3).dtype == np.float32
    assert load_digits()[0].dtype == np.float32
    set_default_dtype(np.float64)
    X64, _ = make_circle(20, seed=0)
    assert X64.dtype == np.float64
    np.testing.assert_array_equal(Xc, X64.astype(np.float32))  # the same draw, rounded
