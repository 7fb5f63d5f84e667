"""Tests for tinygrad_edu.train: the loop against the lectures' formulas, history, callbacks, accuracy targets."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_edu.nn as nn
from tinygrad_edu import reference as ref
from tinygrad_edu.data import DataLoader, load_digits, make_moons, make_spiral, one_hot, standardize, train_test_split
from tinygrad_edu.nn.losses import binary_cross_entropy_with_logits, cross_entropy, l2_penalty, mse_loss
from tinygrad_edu.optim import SGD, Adam, StepLR
from tinygrad_edu.train import Callback, EarlyStopping, History, accuracy, evaluate, fit, predict, predict_classes


@pytest.fixture(autouse=True)
def _one_blas_thread():
    """Small matrices: a single BLAS thread is ~10x faster than oversubscribed threads on a busy 2-core box."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl is a dev dependency
        yield
        return
    with threadpool_limits(1):
        yield


def _moons(n: int = 80, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    X, y = make_moons(n=n, noise=0.1, seed=seed)
    return standardize(X)[0], y


# ----------------------------------------------------------------------------- accuracy targets (seeded)


def test_spiral_three_classes_train_accuracy() -> None:
    # Playground spiral generalised to 3 arms (dt = 2 pi k / 3), 300 points, noise 0.1; 2-64-64-3 tanh MLP
    X, y = make_spiral(n=300, noise=0.1, seed=0, classes=3)
    X = standardize(X)[0]
    model = nn.MLP([2, 64, 64, 3], activation="tanh", seed=0)
    history = fit(model, cross_entropy, Adam(model.parameters(), lr=0.02), (X, y), epochs=250, verbose=0, seed=0)
    acc = evaluate(model, cross_entropy, (X, y))["accuracy"]
    assert acc >= 0.95, f"train accuracy {acc}"
    assert history.train_accuracy[-1] >= 0.9
    # the learning curve goes down: J at the end is far below J at the start
    assert history.iteration_loss[-1] < 0.2 * history.iteration_loss[0]


def test_shipped_digits_held_out_accuracy() -> None:
    X, y = load_digits()
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.25, seed=0, stratify=True)
    Xtr, Xte = standardize(Xtr, Xte)
    model = nn.MLP([64, 32, 10], activation="relu", seed=0)
    fit(model, cross_entropy, Adam(model.parameters(), lr=0.01), (Xtr, ytr), epochs=20, batch_size=128, verbose=0,
        seed=0)
    acc = evaluate(model, cross_entropy, (Xte, yte))["accuracy"]
    assert acc >= 0.95, f"held-out accuracy {acc}"


# ----------------------------------------------------------------------------- the loop against the lectures


@pytest.mark.parametrize("lam", [0.0, 0.7])
def test_one_batch_gd_step_matches_reference_backprop(lam: float) -> None:
    """fit(..., epochs=1) with SGD on the whole batch is W := W - alpha dW with the lectures' dW."""
    X, y = _moons(40)
    model = nn.MLP([2, 5, 4, 2], activation="tanh", seed=1)
    linears = [m for m in model if isinstance(m, nn.Linear)]
    params = nn.lecture_params(model)  # copies, taken before training changes the weights
    J_ref, grads = ref.l_layer_cost_and_grads(X.T, one_hot(y, 2).T, params, lam=lam, hidden_activation="tanh",
                                              output_activation="softmax")
    alpha = 0.3
    history = fit(model, cross_entropy, SGD(model.parameters(), lr=alpha), (X, y), epochs=1, verbose=0,
                  l2_lambda=lam)
    assert history.iteration_loss == pytest.approx([J_ref], rel=1e-12)
    for l, layer in enumerate(linears, start=1):
        np.testing.assert_allclose(layer.weight.data, params[f"W{l}"] - alpha * grads[f"dW{l}"], rtol=1e-10,
                                   atol=1e-12)
        np.testing.assert_allclose(layer.bias.data, (params[f"b{l}"] - alpha * grads[f"db{l}"])[:, 0], rtol=1e-10,
                                   atol=1e-12)


def test_l2_penalty_uses_batch_size() -> None:
    X, y = _moons(30)
    model = nn.MLP([2, 4, 2], seed=0)
    expected = float((cross_entropy(model(X), y) + l2_penalty(model, 2.0, 30)).item())
    history = fit(model, cross_entropy, SGD(model.parameters(), lr=0.0), (X, y), epochs=1, verbose=0, l2_lambda=2.0)
    assert history.train_loss[0] == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize(("batch_size", "steps"), [(None, 1), (1, 30), (8, 4)])
def test_batch_stochastic_minibatch_step_counts(batch_size: int | None, steps: int) -> None:
    X, y = _moons(30)
    model = nn.MLP([2, 4, 2], seed=0)
    history = fit(model, cross_entropy, SGD(model.parameters(), lr=0.1), (X, y), epochs=3, batch_size=batch_size,
                  verbose=0, seed=0)
    assert history.batches_per_epoch == steps
    assert len(history.iteration_loss) == 3 * steps
    assert history.epochs == [1, 2, 3] and len(history.train_loss) == 3 and len(history.train_accuracy) == 3
    # epoch loss = size-weighted mean of that epoch's batch losses
    sizes = [len(b[1]) for b in DataLoader(X, y, batch_size=batch_size, shuffle=False)]
    first = np.dot(history.iteration_loss[:steps], sizes) / 30
    assert history.train_loss[0] == pytest.approx(first, rel=1e-12)


def test_fit_is_reproducible_with_seed_and_accepts_a_dataloader() -> None:
    X, y = _moons(50)
    runs = []
    for _ in range(2):
        model = nn.MLP([2, 6, 2], seed=3)
        runs.append(fit(model, cross_entropy, Adam(model.parameters(), lr=0.05), (X, y), epochs=4, batch_size=10,
                        verbose=0, seed=7).iteration_loss)
    assert runs[0] == runs[1]
    model = nn.MLP([2, 6, 2], seed=3)
    loader = DataLoader(X, y, batch_size=10, seed=7)
    assert fit(model, cross_entropy, Adam(model.parameters(), lr=0.05), loader, epochs=4, verbose=0).iteration_loss \
        == runs[0]


def test_validation_history_and_evaluate() -> None:
    X, y = _moons(80)
    Xtr, Xva, ytr, yva = train_test_split(X, y, test_size=0.25, seed=0)
    model = nn.MLP([2, 8, 2], seed=0)
    h = fit(model, cross_entropy, Adam(model.parameters(), lr=0.05), (Xtr, ytr), epochs=5, val_data=(Xva, yva),
            verbose=0)
    assert len(h.val_loss) == 5 and len(h.val_accuracy) == 5
    final = evaluate(model, cross_entropy, (Xva, yva))
    assert final["loss"] == pytest.approx(h.val_loss[-1], rel=1e-12)
    assert final["accuracy"] == pytest.approx(h.val_accuracy[-1])
    assert set(h.as_dict()) >= {"train_loss", "train_accuracy", "val_loss", "val_accuracy", "iteration_loss"}
    assert h.last()["val_loss"] == h.val_loss[-1]


def test_regression_has_no_accuracy() -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 2))
    y = (X @ np.array([1.0, -2.0]))[:, None]
    model = nn.Linear(2, 1, seed=0)
    h = fit(model, mse_loss, SGD(model.parameters(), lr=0.1), (X, y), epochs=30, verbose=0)
    assert h.train_accuracy == [] and h.train_loss[-1] < 0.05 * h.train_loss[0]
    assert set(evaluate(model, mse_loss, (X, y))) == {"loss"}


# ----------------------------------------------------------------------------- predict, accuracy


def test_predict_is_eval_mode_without_graph() -> None:
    X, _ = _moons(20)
    model = nn.Sequential(nn.Linear(2, 8, seed=0), nn.Dropout(0.5, seed=0), nn.Linear(8, 2, seed=1))
    model.train()
    out1 = predict(model, X)
    out2 = predict(model, X, batch_size=3)
    assert isinstance(out1, np.ndarray) and out1.shape == (20, 2)
    np.testing.assert_allclose(out1, out2, rtol=1e-12)  # dropout is off in eval mode, so batches agree
    assert model.training  # the previous mode is restored
    expected = X @ model[0].weight.data.T + model[0].bias.data
    np.testing.assert_allclose(out1, expected @ model[2].weight.data.T + model[2].bias.data, rtol=1e-12)


def test_accuracy_and_predict_classes() -> None:
    assert accuracy(np.array([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7]]), np.array([1, 0, 0])) == pytest.approx(2 / 3)
    assert accuracy(np.array([[0.1, 0.9]]), np.array([[0.0, 1.0]])) == 1.0  # one-hot targets
    np.testing.assert_array_equal(predict_classes(np.array([[-0.2], [0.3]]), threshold=0.0), [0, 1])
    np.testing.assert_array_equal(predict_classes(np.array([0.4, 0.6])), [0, 1])


def test_single_logit_output_uses_threshold_zero() -> None:
    X, y = _moons(60)
    model = nn.MLP([2, 8, 1], seed=0)
    target = y[:, None].astype(float)
    fit(model, binary_cross_entropy_with_logits, Adam(model.parameters(), lr=0.05), (X, target), epochs=3,
        verbose=0, metric="accuracy")
    out = predict(model, X)[:, 0]
    assert np.any((out > 0) != (out > 0.5))  # the two thresholds disagree somewhere, so the check below can fail
    got = evaluate(model, binary_cross_entropy_with_logits, (X, target), metric="accuracy")["accuracy"]
    assert got == pytest.approx(np.mean((out > 0) == y))


# ----------------------------------------------------------------------------- callbacks


class _Recorder(Callback):
    def __init__(self) -> None:
        self.states: list[dict] = []
        self.logs: list[dict] = []

    def on_epoch_end(self, epoch, logs, model):  # noqa: ANN001, ANN201
        self.states.append(model.state_dict())
        self.logs.append(dict(logs))
        return None


def test_early_stopping_restores_the_best_epoch() -> None:
    X, y = _moons(60)
    model = nn.MLP([2, 8, 2], seed=0)
    rec = _Recorder()
    stopper = EarlyStopping(monitor="val_loss", patience=2)
    # the "validation" labels are flipped, so validation loss rises while training loss falls
    h = fit(model, cross_entropy, Adam(model.parameters(), lr=0.05), (X, y), epochs=50, val_data=(X, 1 - y),
            verbose=0, callbacks=[rec, stopper])
    assert h.stopped_early and len(h.epochs) < 50
    best = int(np.argmin(h.val_loss))
    assert h.best_epoch == best + 1
    assert len(h.epochs) == best + 1 + 2  # patience 2: the second epoch in a row without improvement stops
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(value, rec.states[best][name])
    assert not np.array_equal(rec.states[-1]["0.weight"], rec.states[best]["0.weight"])


def test_early_stopping_without_restore_and_bad_monitor() -> None:
    X, y = _moons(40)
    model = nn.MLP([2, 4, 2], seed=0)
    rec = _Recorder()
    h = fit(model, cross_entropy, Adam(model.parameters(), lr=0.05), (X, y), epochs=20, val_data=(X, 1 - y),
            verbose=0, callbacks=[rec, EarlyStopping(patience=0, restore_best=False)])
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(value, rec.states[-1][name])
    assert h.stopped_early
    with pytest.raises(ValueError, match="monitor 'val_loss' is not measured"):
        fit(model, cross_entropy, SGD(model.parameters(), lr=0.1), (X, y), epochs=2, verbose=0,
            callbacks=[EarlyStopping()])


def test_scheduler_is_stepped_each_epoch() -> None:
    X, y = _moons(20)
    model = nn.MLP([2, 4, 2], seed=0)
    opt = SGD(model.parameters(), lr=1.0)
    h = fit(model, cross_entropy, opt, (X, y), epochs=5, verbose=0, scheduler=StepLR(opt, step_size=2, gamma=0.5))
    assert h.lr == [1.0, 1.0, 0.5, 0.5, 0.25]


# ----------------------------------------------------------------------------- non-finite values


def test_nan_cost_stops_with_a_clear_error() -> None:
    X, y = _moons(20)
    model = nn.MLP([2, 4, 2], seed=0)
    X = X.copy()
    X[0, 0] = np.nan
    with pytest.raises(FloatingPointError, match="check_finite=True"):
        fit(model, cross_entropy, SGD(model.parameters(), lr=0.1), (X, y), epochs=2, verbose=0)


def test_check_finite_names_the_op() -> None:
    anomaly = pytest.importorskip("tinygrad_edu.anomaly")
    X, y = _moons(20)
    model = nn.MLP([2, 4, 2], seed=0)
    X = X.copy()
    X[0, 0] = 10.0
    model[0].weight.data[0, 0] = 1e308  # 10 * 1e308 overflows to inf in the first matmul
    with np.errstate(all="ignore"), pytest.raises(anomaly.AnomalyError, match="'linear'"):
        fit(model, cross_entropy, SGD(model.parameters(), lr=0.1), (X, y), epochs=1, verbose=0, check_finite=True)


# ----------------------------------------------------------------------------- output and bad arguments


def test_verbose_output(capsys: pytest.CaptureFixture[str]) -> None:
    X, y = _moons(20)
    model = nn.MLP([2, 4, 2], seed=0)
    h = fit(model, cross_entropy, SGD(model.parameters(), lr=0.1), (X, y), epochs=3, verbose=1)
    # captured stdout is not a terminal (as a piped log): one plain line per epoch, no bar
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 3 and lines[2].startswith(f"epoch 3/3 - loss {h.train_loss[-1]:.4g} - accuracy ")
    assert "\r" not in "".join(lines) and lines[0].endswith(" ms")
    fit(model, cross_entropy, SGD(model.parameters(), lr=0.1), (X, y), epochs=3, verbose=2, val_data=(X, y))
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 3 and lines[0].startswith("epoch 1/3 - loss ") and " - val_loss " in lines[0]
    assert " - lr " not in lines[0]
    fit(model, cross_entropy, SGD(model.parameters(), lr=0.1), (X, y), epochs=3, verbose=0)
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"epochs": 0}, "epochs must be a positive integer"),
        ({"epochs": 2, "batch_size": 0}, "batch_size must be a positive integer"),
        ({"epochs": 2, "verbose": 5}, "verbose must be"),
        ({"epochs": 2, "l2_lambda": -1.0}, "l2_lambda"),
        ({"epochs": 2, "metric": "f1"}, "metric must be"),
    ],
)
def test_bad_arguments(kwargs: dict, match: str) -> None:
    X, y = _moons(20)
    model = nn.MLP([2, 4, 2], seed=0)
    with pytest.raises(ValueError, match=match):
        fit(model, cross_entropy, SGD(model.parameters(), lr=0.1), (X, y), **kwargs)


def test_bad_data() -> None:
    model = nn.MLP([2, 4, 2], seed=0)
    opt = SGD(model.parameters(), lr=0.1)
    with pytest.raises(ValueError, match=r"same number of rows.*\(5, 2\).*\(4,\)"):
        fit(model, cross_entropy, opt, (np.zeros((5, 2)), np.zeros(4, int)), epochs=1, verbose=0)
    with pytest.raises(TypeError, match=r"\(X, y\) pair or a DataLoader"):
        fit(model, cross_entropy, opt, np.zeros((5, 2)), epochs=1, verbose=0)
    assert History().as_dict()["iteration_loss"] == []


def test_bad_callbacks_and_dataloader_with_batch_size() -> None:
    X, y = _moons(20)
    model = nn.MLP([2, 4, 2], seed=0)
    opt = SGD(model.parameters(), lr=0.1)
    with pytest.raises(TypeError, match="callbacks must be Callback instances .* or functions"):
        fit(model, cross_entropy, opt, (X, y), epochs=1, verbose=0, callbacks=[3])
    with pytest.raises(ValueError, match=r"batch_size=5 was given with a DataLoader.*batch_size=4"):
        fit(model, cross_entropy, opt, DataLoader(X, y, batch_size=4), epochs=1, batch_size=5, verbose=0)
    with pytest.raises(ValueError, match="l2_lambda"):
        fit(model, cross_entropy, opt, (X, y), epochs=1, verbose=0, l2_lambda="0.1")
    with pytest.raises(ValueError, match=r"predict: X needs at least one example.*\(0, 2\)"):
        predict(model, np.zeros((0, 2)))


def test_batch_size_larger_than_m_is_batch_gradient_descent() -> None:
    X, y = _moons(20)
    model = nn.MLP([2, 4, 2], seed=0)
    h = fit(model, cross_entropy, SGD(model.parameters(), lr=0.1), (X, y), epochs=2, batch_size=50, verbose=0)
    assert h.batches_per_epoch == 1 and len(h.iteration_loss) == 2


class _FakeTerminal:
    """A stdout that says it is a terminal but reports no size (as under `script`)."""

    def __init__(self) -> None:
        self.text = ""

    def isatty(self) -> bool:
        return True

    def fileno(self) -> int:
        raise OSError("no file descriptor")

    def write(self, s: str) -> int:
        self.text += s
        return len(s)

    def flush(self) -> None:
        pass


def test_progress_bar_on_a_terminal_shows_the_figures(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("tqdm")
    fake = _FakeTerminal()
    monkeypatch.setattr("sys.stdout", fake)
    X, y = _moons(20)
    model = nn.MLP([2, 4, 2], seed=0)
    h = fit(model, cross_entropy, SGD(model.parameters(), lr=0.1), (X, y), epochs=3, val_data=(X, y), verbose=1)
    final = fake.text.replace("\r", "\n").strip().splitlines()[-1]
    assert final.startswith("training: 100%") and "3/3 epochs" in final
    assert f"J {h.train_loss[-1]:.3g}, acc {100 * h.train_accuracy[-1]:.1f}%" in final
    assert f"val J {h.val_loss[-1]:.3g}" in final
    fake.text = ""
    fit(model, cross_entropy, SGD(model.parameters(), lr=0.1), (X, y), epochs=2, verbose=0)
    assert fake.text == ""  # verbose=0: silent even on a terminal
