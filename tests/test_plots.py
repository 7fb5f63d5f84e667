"""Tests for tinygrad_edu.plots: files written, statistics against a hand-computed forward/backward."""

from __future__ import annotations

import sys

import numpy as np
import pytest

import tinygrad_edu.nn as nn
from tinygrad_edu.data import make_moons, one_hot
from tinygrad_edu.nn.losses import binary_cross_entropy_with_logits, cross_entropy
from tinygrad_edu.optim import Adam
from tinygrad_edu.plots import layer_statistics, plot_decision_boundary, plot_histograms, plot_learning_curve
from tinygrad_edu.train import History, fit

PNG = b"\x89PNG\r\n\x1a\n"

pytest.importorskip("matplotlib")


@pytest.fixture(scope="module")
def trained() -> tuple[nn.Module, np.ndarray, np.ndarray, History]:
    X, y = make_moons(n=60, noise=0.1, seed=0)
    model = nn.MLP([2, 6, 6, 2], activation="tanh", seed=0)
    h = fit(model, cross_entropy, Adam(model.parameters(), lr=0.05), (X, y), epochs=4, batch_size=20,
            val_data=(X, y), verbose=0, seed=0)
    return model, X, y, h


def test_learning_curve_png(tmp_path, trained) -> None:  # noqa: ANN001
    _, _, _, h = trained
    fig = plot_learning_curve(h, tmp_path / "loss.png")
    assert (tmp_path / "loss.png").read_bytes()[:8] == PNG
    ax = fig.axes[0]
    # the first line is J per iteration: 4 epochs x 3 batches
    np.testing.assert_array_equal(ax.lines[0].get_ydata(), h.iteration_loss)
    assert len(fig.axes) == 2  # accuracy panel present


def test_learning_curve_needs_iterations() -> None:
    with pytest.raises(ValueError, match="no iteration_loss"):
        plot_learning_curve(History())


def test_decision_boundary_png_and_svg(tmp_path, trained) -> None:  # noqa: ANN001
    model, X, y, _ = trained
    plot_decision_boundary(model, X, y, tmp_path / "b.png", resolution=40)
    assert (tmp_path / "b.png").read_bytes()[:8] == PNG
    plot_decision_boundary(model, X, y, tmp_path / "b.svg", resolution=20)
    assert b"<svg" in (tmp_path / "b.svg").read_bytes()[:500]


def test_decision_boundary_regions_follow_the_model() -> None:
    # a fixed linear model: class 1 exactly where x1 > 0 (logit = 3 x1), class 0 elsewhere
    model = nn.Linear(2, 1)
    model.weight.data[...] = [[3.0, 0.0]]
    model.bias.data[...] = 0.0
    X = np.array([[-1.0, -1.0], [1.0, 1.0], [-1.0, 1.0], [1.0, -1.0]])
    y = np.array([0, 1, 0, 1])
    fig = plot_decision_boundary(model, X, y, resolution=21, loss_fn=binary_cross_entropy_with_logits)
    # filled regions: level 0 (class 0) lies left of x1 = 0, level 1 right of it (up to one grid cell, 0.12)
    region0, region1 = (p.vertices[:, 0] for p in fig.axes[0].collections[0].get_paths())
    assert region0.min() < -1 and region0.max() < 0.13
    assert region1.min() > -0.13 and region1.max() > 1


def test_decision_boundary_bad_input(trained) -> None:  # noqa: ANN001
    model, X, y, _ = trained
    with pytest.raises(ValueError, match=r"shape \(m, 2\)"):
        plot_decision_boundary(model, np.zeros((5, 3)), np.zeros(5))
    with pytest.raises(ValueError, match="60 rows but y has 3"):
        plot_decision_boundary(model, X, y[:3])


def test_layer_statistics_match_a_hand_computed_pass(trained) -> None:  # noqa: ANN001
    model, X, y, _ = trained
    before = [None if p.grad is None else p.grad.data.copy() for p in model.parameters()]
    stats = layer_statistics(model, X, y, cross_entropy)
    after = [None if p.grad is None else p.grad.data.copy() for p in model.parameters()]
    for a, b in zip(before, after):  # parameter gradients left as they were
        assert (a is None and b is None) or np.array_equal(a, b)
    W1, b1 = model[0].weight.data, model[0].bias.data
    W2, b2 = model[2].weight.data, model[2].bias.data
    W3, b3 = model[4].weight.data, model[4].bias.data
    A1 = np.tanh(X @ W1.T + b1)
    A2 = np.tanh(A1 @ W2.T + b2)
    Z3 = A2 @ W3.T + b3
    assert [s["kind"] for s in stats] == ["Linear", "Tanh", "Linear", "Tanh", "Linear"]
    np.testing.assert_allclose(stats[1]["values"], A1.ravel(), rtol=1e-12)
    np.testing.assert_allclose(stats[3]["values"], A2.ravel(), rtol=1e-12)
    assert stats[3]["saturated"] == pytest.approx(np.mean(np.abs(A2) > 0.97))
    assert stats[0]["saturated"] is None
    # dJ/dZ3 = (softmax(Z3) - Y) / m  and  dJ/dA2 = dZ3 W3 (rows are examples)
    P = np.exp(Z3 - Z3.max(axis=1, keepdims=True))
    P /= P.sum(axis=1, keepdims=True)
    dZ3 = (P - one_hot(y, 2)) / len(y)
    np.testing.assert_allclose(stats[4]["grad"], dZ3.ravel(), rtol=1e-9, atol=1e-14)
    np.testing.assert_allclose(stats[3]["grad"], (dZ3 @ W3).ravel(), rtol=1e-9, atol=1e-14)


def test_histograms_png(tmp_path, trained) -> None:  # noqa: ANN001
    model, X, y, _ = trained
    fig = plot_histograms(model, X, y, cross_entropy, tmp_path / "h.png")
    assert (tmp_path / "h.png").read_bytes()[:8] == PNG
    assert len(fig.axes) == 2 * 5  # activations and gradients for 5 layers
    fig = plot_histograms(model, X)
    assert len(fig.axes) == 5  # no labels: activations only


def test_histograms_need_a_sequential_model() -> None:
    with pytest.raises(TypeError, match="Sequential-like"):
        layer_statistics(nn.Linear(2, 2), np.zeros((3, 2)))


def test_missing_matplotlib_gives_install_hint(monkeypatch: pytest.MonkeyPatch, trained) -> None:  # noqa: ANN001
    for name in ("matplotlib", "matplotlib.figure", "matplotlib.backends.backend_agg"):
        monkeypatch.setitem(sys.modules, name, None)
    with pytest.raises(ImportError, match=r"tinygrad-edu\[plot\]"):
        plot_learning_curve(trained[3])


def test_learning_curve_keeps_spikes_from_flattening_the_curve() -> None:
    rng = np.random.default_rng(0)
    iters = list(rng.uniform(0.5, 1.0, 200))
    iters[50] = 40.0  # one stochastic-gradient spike
    h = History(epochs=[1, 2], train_loss=[0.9, 0.7], iteration_loss=iters, batches_per_epoch=100)
    ax = plot_learning_curve(h).axes[0]
    bottom, top = ax.get_ylim()
    assert 1.0 < top < 1.2 and bottom <= 0.5  # the axis follows the typical values, not the spike
    assert "1 spikes above the top" in ax.lines[0].get_label()
    smooth = History(epochs=[1, 2], train_loss=[0.9, 0.7], iteration_loss=iters[:50] + iters[51:],
                     batches_per_epoch=100)
    ax = plot_learning_curve(smooth).axes[0]
    assert ax.get_ylim()[1] >= max(smooth.iteration_loss) and ax.lines[0].get_label() == "J per iteration"


def test_histogram_titles_use_the_lectures_names(trained) -> None:  # noqa: ANN001
    model, X, y, _ = trained
    stats = layer_statistics(model, X)
    assert [s["symbol"] for s in stats] == ["Z[1]", "A[1]", "Z[2]", "A[2]", "Z[3]"]
    fig = plot_histograms(model, X, y, cross_entropy)
    assert fig.axes[1].get_title().startswith("A[1] (1 Tanh)")
    assert fig.axes[5 + 4].get_title().startswith("dZ[3] = dJ/dZ[3]")
