"""Tests for tinygrad_edu.data: generators against their defining formulas, splits, scaling, batches."""

from __future__ import annotations

import math
import sys

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_edu.data import (
    DATASETS,
    DataLoader,
    Standardizer,
    load_digits,
    make_circle,
    make_dataset,
    make_flower,
    make_gaussian,
    make_moons,
    make_multi_gaussian,
    make_plane,
    make_spiral,
    make_xor,
    one_hot,
    standardize,
    train_test_split,
)

# ----------------------------------------------------------------------------- generators: common contract


@pytest.mark.parametrize("name", sorted(DATASETS))
def test_shapes_dtypes_and_seeding(name: str) -> None:
    X, y = make_dataset(name, n=101, noise=0.1, seed=3)
    assert X.shape == (101, 2) and X.dtype == np.float64
    assert y.shape == (101,)
    task = DATASETS[name][1]
    assert y.dtype == (np.int64 if task == "classification" else np.float64)
    assert np.all(np.isfinite(X)) and np.all(np.isfinite(y))
    X2, y2 = make_dataset(name, n=101, noise=0.1, seed=3)
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)
    X3, _ = make_dataset(name, n=101, noise=0.1, seed=4)
    assert not np.array_equal(X, X3)


@pytest.mark.parametrize("name", sorted(DATASETS))
@pytest.mark.parametrize("bad", [{"n": 0}, {"n": 2.5}, {"noise": -0.1}, {"noise": float("nan")}])
def test_bad_arguments_raise(name: str, bad: dict) -> None:
    kwargs = {"n": 10, "noise": 0.0, "seed": 0} | bad
    with pytest.raises(ValueError, match=r"n must|noise must"):
        DATASETS[name][0](**kwargs)


def test_unknown_dataset_name() -> None:
    with pytest.raises(ValueError, match="unknown data set 'spirals'.*circle"):
        make_dataset("spirals")


def test_classification_sets_are_balanced() -> None:
    for fn in (make_circle, make_gaussian, make_spiral, make_moons, make_flower):
        _, y = fn(n=201, seed=0)
        assert sorted(np.bincount(y).tolist()) == [100, 101], fn.__name__


# ----------------------------------------------------------------------------- generators: formulas


def test_circle_without_noise_labels_by_radius() -> None:
    X, y = make_circle(n=500, noise=0.0, seed=1)
    r = np.hypot(X[:, 0], X[:, 1])
    np.testing.assert_array_equal(y, (r < 2.5).astype(int))
    # inner disc radius <= 2.5, outer ring 3.5..5 (Playground: 0.7 * 5 .. 5)
    assert r[y == 1].max() <= 2.5 and r[y == 0].min() >= 3.5 and r.max() <= 5.0


def test_circle_noise_flips_labels_but_not_points() -> None:
    X0, y0 = make_circle(n=500, noise=0.0, seed=1)
    X1, y1 = make_circle(n=500, noise=0.5, seed=1)
    # same draws for the points, different labels for some of them
    np.testing.assert_array_equal(X0, X1)
    assert 0 < np.sum(y0 != y1) < 250


def test_xor_without_noise() -> None:
    X, y = make_xor(n=400, noise=0.0, seed=2)
    np.testing.assert_array_equal(y, (X[:, 0] * X[:, 1] >= 0).astype(int))
    assert np.abs(X).min() >= 0.3 and np.abs(X).max() <= 5.3


def test_gaussian_blobs() -> None:
    X, y = make_gaussian(n=4000, noise=0.0, seed=3)
    np.testing.assert_allclose(X[y == 1].mean(axis=0), [2, 2], atol=0.1)
    np.testing.assert_allclose(X[y == 0].mean(axis=0), [-2, -2], atol=0.1)
    # variance 0.5 at noise 0 and 0.5 + 7 * 0.5 = 4 at the Playground's maximum noise 0.5
    assert abs(X[y == 1].var(axis=0).mean() - 0.5) < 0.05
    X, y = make_gaussian(n=4000, noise=0.5, seed=3)
    assert abs(X[y == 1].var(axis=0).mean() - 4.0) < 0.4


@pytest.mark.parametrize("classes", [2, 3, 5])
def test_spiral_points_lie_on_their_arm(classes: int) -> None:
    n = 60 * classes
    X, y = make_spiral(n=n, noise=0.0, seed=4, classes=classes)
    assert np.bincount(y).tolist() == [60] * classes
    r = np.hypot(X[:, 0], X[:, 1])
    assert r.max() < 5.0
    # the point is (r sin t, r cos t) with t = 1.75 * 2 pi * (r / 5) + dt_k, dt_k = 2 pi (K-1-k) / K
    theta = np.arctan2(X[:, 0], X[:, 1])
    t = 1.75 * 2 * math.pi * r / 5 + 2 * math.pi * (classes - 1 - y) / classes
    diff = np.angle(np.exp(1j * (theta - t)))
    keep = r > 1e-9  # the centre point has no angle
    np.testing.assert_allclose(diff[keep], 0.0, atol=1e-9)


def test_spiral_two_classes_is_playground() -> None:
    # Playground: label +1 (our 1) is the arm with deltaT = 0, so its second point is at t = 1.75 * 2pi / N
    X, y = make_spiral(n=20, noise=0.0, seed=0)
    pos = X[y == 1]
    r = np.hypot(pos[:, 0], pos[:, 1])
    second = pos[np.argsort(r)[1]]
    t = 1.75 * 2 * math.pi / 10
    np.testing.assert_allclose(second, [0.5 * math.sin(t), 0.5 * math.cos(t)], atol=1e-12)


def test_spiral_noise_is_uniform_and_bounded() -> None:
    # the generator draws the same random numbers whatever the noise, so the difference is the noise itself
    X0, y0 = make_spiral(n=600, noise=0.0, seed=5)
    X1, y1 = make_spiral(n=600, noise=0.3, seed=5)
    np.testing.assert_array_equal(y0, y1)
    delta = X1 - X0
    assert np.abs(delta).max() <= 0.3  # U(-1, 1) * noise
    assert np.abs(delta).max() > 0.29 and abs(delta.mean()) < 0.02


def test_plane_without_noise() -> None:
    X, y = make_plane(n=300, noise=0.0, seed=6)
    np.testing.assert_allclose(y, (X[:, 0] + X[:, 1]) / 10, rtol=0, atol=1e-15)
    assert np.abs(X).max() <= 6


def test_plane_noise_changes_targets_within_bounds() -> None:
    X, y = make_plane(n=300, noise=0.2, seed=6)
    err = np.abs(y - X.sum(axis=1) / 10)
    # each coordinate moves by at most 6 * 0.2, so the target by at most 2 * 1.2 / 10
    assert 0 < err.max() <= 0.24 + 1e-12


def test_multi_gaussian_without_noise() -> None:
    X, y = make_multi_gaussian(n=3000, noise=0.0, seed=7)
    assert np.abs(y).max() <= 1.0
    # near the bump at (-4, 2.5, +) the target is 1 - d/2 > 0; near (0, 2.5, -) it is -(1 - d/2)
    for cx, cy, sign in ((-4, 2.5, 1), (0, 2.5, -1), (4, -2.5, -1)):
        d = np.hypot(X[:, 0] - cx, X[:, 1] - cy)
        near = d < 1.0
        assert near.sum() > 10
        np.testing.assert_allclose(y[near], sign * (1 - d[near] / 2), atol=1e-12)
    # far from every centre the target is 0
    far = (np.abs(X[:, 1]) > 4.6) | (np.abs(X[:, 0]) > 6.1)
    np.testing.assert_array_equal(y[far], 0.0)


def test_moons_without_noise_lie_on_half_circles() -> None:
    X, y = make_moons(n=200, noise=0.0, seed=8)
    top, bottom = X[y == 0], X[y == 1]
    np.testing.assert_allclose(np.hypot(top[:, 0], top[:, 1]), 1.0, atol=1e-12)
    assert top[:, 1].min() >= -1e-12
    np.testing.assert_allclose(np.hypot(bottom[:, 0] - 1, bottom[:, 1] - 0.5), 1.0, atol=1e-12)
    assert bottom[:, 1].max() <= 0.5 + 1e-12


def test_flower_without_noise_follows_rose_curve() -> None:
    X, y = make_flower(n=400, noise=0.0, seed=9)
    theta = np.arctan2(X[:, 0], X[:, 1])
    # r = 4 sin(4t); a point with negative r sits at angle t + pi, and |sin(4(t + pi))| = |sin 4t|
    np.testing.assert_allclose(np.hypot(X[:, 0], X[:, 1]), 4 * np.abs(np.sin(4 * theta)), atol=1e-9)
    assert np.bincount(y).tolist() == [200, 200]


def test_flower_noise_spreads_points() -> None:
    X, _ = make_flower(n=400, noise=0.2, seed=9)
    theta = np.arctan2(X[:, 0], X[:, 1])
    off = np.abs(np.hypot(X[:, 0], X[:, 1]) - 4 * np.abs(np.sin(4 * theta)))
    assert off.max() > 0.1


# ----------------------------------------------------------------------------- real data


def test_shipped_digits() -> None:
    X, y = load_digits()
    assert X.shape == (1797, 64) and X.dtype == np.float64
    assert y.shape == (1797,) and y.dtype == np.int64
    assert np.bincount(y).tolist() == [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]
    assert X.min() == 0 and X.max() == 16 and np.all(X == np.round(X))
    # the first example is a zero: a ring of ink with an empty middle
    img = X[0].reshape(8, 8)
    assert y[0] == 0 and img[3:5, 3:5].sum() == 0 and img[3:5, 1].sum() > 0
    Xi, _ = load_digits(images=True)
    assert Xi.shape == (1797, 1, 8, 8)
    np.testing.assert_array_equal(Xi[5, 0], X[5].reshape(8, 8))


def test_digits_source_sklearn_matches_shipped_copy() -> None:
    pytest.importorskip("sklearn")
    Xs, ys = load_digits(source="sklearn")
    X, y = load_digits()
    np.testing.assert_array_equal(X, Xs)
    np.testing.assert_array_equal(y, ys)


def test_digits_source_sklearn_missing_gives_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "sklearn", None)
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    with pytest.raises(ImportError, match=r"tinygrad-edu\[digits\]"):
        load_digits(source="sklearn")


def test_digits_bad_source() -> None:
    with pytest.raises(ValueError, match="source must be"):
        load_digits(source="web")


# ----------------------------------------------------------------------------- train_test_split


@given(
    m=st.integers(4, 60),
    frac=st.floats(0.1, 0.9),
    seed=st.integers(0, 2**16),
    stratify=st.booleans(),
)
def test_split_partitions_and_keeps_rows_aligned(m: int, frac: float, seed: int, stratify: bool) -> None:
    ids = np.arange(m)
    X = np.stack([ids, ids * 10], axis=1)
    y = ids % 3
    n_test = min(max(int(round(frac * m)), 1), m - 1)
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=n_test, seed=seed, stratify=stratify)
    assert len(Xte) == n_test and len(Xtr) == m - n_test
    # a partition of the examples, rows still paired with their labels
    np.testing.assert_array_equal(np.sort(np.concatenate([Xtr[:, 0], Xte[:, 0]])), ids)
    np.testing.assert_array_equal(Xtr[:, 0] % 3, ytr)
    np.testing.assert_array_equal(Xte[:, 1], Xte[:, 0] * 10)
    if stratify:
        # each class's share of the test set is its share of the data, up to rounding (< 1 example each)
        expected = np.bincount(y, minlength=3) * n_test / m
        assert np.all(np.abs(np.bincount(yte, minlength=3) - expected) < 1)


def test_split_is_seeded() -> None:
    X, y = make_moons(n=50, seed=0)
    a = train_test_split(X, y, test_size=0.2, seed=1)
    b = train_test_split(X, y, test_size=0.2, seed=1)
    c = train_test_split(X, y, test_size=0.2, seed=2)
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)
    assert not np.array_equal(a[1], c[1])
    assert len(a[1]) == 10


def test_stratified_split_of_digits_keeps_class_shares() -> None:
    X, y = load_digits()
    _, _, ytr, yte = train_test_split(X, y, test_size=0.25, seed=0, stratify=True)
    share_tr = np.bincount(ytr) / len(ytr)
    share_te = np.bincount(yte) / len(yte)
    assert np.abs(share_tr - share_te).max() < 0.005


@pytest.mark.parametrize("test_size", [0, 1.0, 1.5, 10, -1, True])
def test_split_bad_test_size(test_size: object) -> None:
    with pytest.raises((ValueError, TypeError), match="test_size"):
        train_test_split(np.zeros((10, 2)), np.zeros(10), test_size=test_size)


def test_split_length_mismatch() -> None:
    with pytest.raises(ValueError, match=r"same number of rows.*\(10, 2\).*\(9,\)"):
        train_test_split(np.zeros((10, 2)), np.zeros(9))


# ----------------------------------------------------------------------------- standardise, one-hot


def test_standardize_uses_training_statistics(rng: np.random.Generator) -> None:
    Xtr = rng.normal(3.0, 2.0, (200, 3))
    Xtr[:, 2] = 7.0  # constant feature: centred, not divided by 0
    Xte = rng.normal(3.0, 2.0, (50, 3))
    Ztr, Zte = standardize(Xtr, Xte)
    np.testing.assert_allclose(Ztr.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(Ztr[:, :2].std(axis=0), 1.0, atol=1e-12)
    np.testing.assert_array_equal(Ztr[:, 2], 0.0)
    mu, sd = Xtr.mean(axis=0), Xtr.std(axis=0)
    np.testing.assert_allclose(Zte[:, :2], (Xte[:, :2] - mu[:2]) / sd[:2], atol=1e-12)
    assert abs(Zte[:, 0].mean()) > 1e-6  # the test set's own statistics were NOT used
    scaler = Standardizer().fit(Xtr)
    np.testing.assert_allclose(scaler.inverse_transform(scaler.transform(Xte)), Xte, atol=1e-12)


def test_standardizer_errors() -> None:
    with pytest.raises(RuntimeError, match="fit"):
        Standardizer().transform(np.zeros((2, 2)))
    with pytest.raises(ValueError, match=r"shape \(3,\).*\(2,\)"):
        Standardizer().fit(np.zeros((4, 2))).transform(np.zeros((4, 3)))


def test_one_hot() -> None:
    y = np.array([2, 0, 1, 2])
    Y = one_hot(y)
    assert Y.shape == (4, 3) and Y.dtype == np.float64
    np.testing.assert_array_equal(Y.argmax(axis=1), y)
    np.testing.assert_array_equal(Y.sum(axis=1), 1.0)
    assert one_hot(y, num_classes=5).shape == (4, 5)
    with pytest.raises(ValueError, match="num_classes=2"):
        one_hot(y, num_classes=2)
    with pytest.raises(ValueError, match=">= 0"):
        one_hot(np.array([0, -1]))
    with pytest.raises(ValueError, match="integers"):
        one_hot(np.array([0.5, 1.0]))
    with pytest.raises(ValueError, match=r"shape \(m,\)"):
        one_hot(np.zeros((2, 2), dtype=int))


# ----------------------------------------------------------------------------- DataLoader


@pytest.mark.parametrize(
    ("batch_size", "drop_last", "sizes"),
    [
        (None, False, [10]),  # batch gradient descent: one step per epoch
        (1, False, [1] * 10),  # stochastic: m steps
        (4, False, [4, 4, 2]),  # mini-batch
        (4, True, [4, 4]),
        (25, False, [10]),
    ],
)
def test_loader_batch_sizes(batch_size: int | None, drop_last: bool, sizes: list[int]) -> None:
    loader = DataLoader(np.arange(20).reshape(10, 2), np.arange(10), batch_size=batch_size, drop_last=drop_last, seed=0)
    batches = list(loader)
    assert [len(b[0]) for b in batches] == sizes
    assert len(loader) == len(sizes)


@given(m=st.integers(1, 40), bs=st.integers(1, 50), seed=st.integers(0, 1000))
def test_loader_epoch_is_a_permutation_with_rows_aligned(m: int, bs: int, seed: int) -> None:
    X = np.arange(m)[:, None] * np.array([1, -1])
    loader = DataLoader(X, np.arange(m), batch_size=bs, seed=seed)
    for _ in range(2):
        xs, ys = zip(*loader)
        Xall, yall = np.concatenate(xs), np.concatenate(ys)
        np.testing.assert_array_equal(np.sort(yall), np.arange(m))
        np.testing.assert_array_equal(Xall[:, 0], yall)
        np.testing.assert_array_equal(Xall[:, 1], -yall)


def test_loader_shuffles_each_epoch_reproducibly() -> None:
    X = np.arange(50)[:, None]
    order = lambda loader: np.concatenate([b[0][:, 0] for b in loader])  # noqa: E731
    a = DataLoader(X, np.arange(50), batch_size=7, seed=1)
    b = DataLoader(X, np.arange(50), batch_size=7, seed=1)
    e1, e2 = order(a), order(a)
    assert not np.array_equal(e1, e2)  # a new permutation each epoch
    np.testing.assert_array_equal(e1, order(b))  # the same seed replays
    np.testing.assert_array_equal(e2, order(b))
    plain = DataLoader(X, np.arange(50), batch_size=7, shuffle=False)
    np.testing.assert_array_equal(order(plain), np.arange(50))


def test_loader_without_labels_and_errors() -> None:
    batches = list(DataLoader(np.ones((5, 3)), batch_size=2, shuffle=False))
    assert [b.shape for b in batches] == [(2, 3), (2, 3), (1, 3)]
    with pytest.raises(ValueError, match="batch_size"):
        DataLoader(np.ones((5, 3)), np.ones(5), batch_size=0)
    with pytest.raises(ValueError, match=r"same number of rows.*\(5, 3\).*\(4,\)"):
        DataLoader(np.ones((5, 3)), np.ones(4))


def _sorted_rows(A: np.ndarray) -> np.ndarray:
    return A[np.lexsort(A.T[::-1])]


def test_flower_is_the_course_planar_dataset_without_noise() -> None:
    # load_planar_dataset: N = m/2 per class, t = linspace(3.12 j, 3.12 (j + 1), N), r = 4 sin(4t), (r sin t, r cos t)
    X, y = make_flower(n=400, noise=0.0, seed=0)
    for j in (0, 1):
        t = np.linspace(j * 3.12, (j + 1) * 3.12, 200)
        r = 4 * np.sin(4 * t)
        expected = np.stack([r * np.sin(t), r * np.cos(t)], axis=1)
        np.testing.assert_allclose(_sorted_rows(X[y == j]), _sorted_rows(expected), atol=1e-12)


def test_loader_batch_larger_than_m_with_drop_last_still_steps() -> None:
    loader = DataLoader(np.ones((5, 2)), np.arange(5), batch_size=8, drop_last=True)
    assert len(loader) == 1 and [len(b[1]) for b in loader] == [5]
    with pytest.raises(ValueError, match=r"at least one example.*\(0, 2\)"):
        DataLoader(np.zeros((0, 2)), np.zeros(0))
