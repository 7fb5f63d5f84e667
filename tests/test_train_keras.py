"""fit's Keras habits: validation_split/validation_data, History.history, Keras-signature and plain-function
callbacks, EarlyStopping(restore_best_weights), CSVLogger, ModelCheckpoint, LearningRateScheduler; progress
lines; the bounded learning-curve record; History and summary displays."""

from __future__ import annotations

import csv
import os
import pty
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import tinygrad_edu.nn as nn
from tinygrad_edu.checkpoint import load
from tinygrad_edu.data import make_moons, standardize
from tinygrad_edu.nn.losses import cross_entropy
from tinygrad_edu.optim import SGD, Adam
from tinygrad_edu.train import (
    Callback,
    CSVLogger,
    EarlyStopping,
    History,
    LearningRateScheduler,
    ModelCheckpoint,
    evaluate,
    fit,
)

ROOT = Path(__file__).resolve().parents[1]


def _moons(n: int = 40, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    X, y = make_moons(n=n, noise=0.1, seed=seed)
    return standardize(X)[0], y


def _model() -> nn.MLP:
    return nn.MLP([2, 6, 2], seed=0)


# ----------------------------------------------------------------------------- validation arguments


def test_validation_split_holds_out_the_last_rows() -> None:
    X, y = _moons(40)
    model = _model()
    h = fit(model, cross_entropy, SGD(model.parameters(), lr=0.1), (X, y), epochs=2, verbose=0,
            validation_split=0.25, batch_size=None)
    assert h.batches_per_epoch == 1
    # the validation figures are those of the last 10 rows, measured after the last epoch
    assert h.val_loss[-1] == pytest.approx(evaluate(model, cross_entropy, (X[30:], y[30:]))["loss"], rel=1e-12)
    assert h.val_loss[-1] != pytest.approx(evaluate(model, cross_entropy, (X[:10], y[:10]))["loss"], rel=1e-6)


def test_validation_data_is_val_data() -> None:
    X, y = _moons(40)
    a, b = _model(), _model()
    ha = fit(a, cross_entropy, SGD(a.parameters(), lr=0.1), (X, y), epochs=3, verbose=0, val_data=(X[:9], y[:9]),
             seed=0)
    hb = fit(b, cross_entropy, SGD(b.parameters(), lr=0.1), (X, y), epochs=3, verbose=0,
             validation_data=(X[:9], y[:9]), seed=0)
    assert ha.val_loss == hb.val_loss and len(hb.val_loss) == 3


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"validation_split": 1.0}, "validation_split must be a fraction"),
        ({"validation_split": 0.99}, "leaves 0 for training and 40 for validation"),
        ({"validation_split": 0.2, "validation_data": "X"}, "not both"),
        ({"val_data": "X", "validation_data": "X"}, "same argument"),
    ],
)
def test_bad_validation_arguments(kwargs: dict, match: str) -> None:
    X, y = _moons(40)
    model = _model()
    with pytest.raises(ValueError, match=match):
        fit(model, cross_entropy, SGD(model.parameters(), lr=0.1), (X, y), epochs=1, verbose=0, **kwargs)


# ----------------------------------------------------------------------------- History


def test_history_dict_has_the_keras_keys() -> None:
    X, y = _moons(40)
    model = _model()
    opt = SGD(model.parameters(), lr=0.1)
    h = fit(model, cross_entropy, opt, (X, y), epochs=3, verbose=0, validation_split=0.2)
    assert list(h.history) == ["loss", "accuracy", "val_loss", "val_accuracy", "lr"]
    assert h.history["loss"] is h.train_loss and h.history["val_accuracy"] is h.val_accuracy
    assert h.history["lr"] == [0.1, 0.1, 0.1] and h.epoch == [0, 1, 2] and h.epochs == [1, 2, 3]
    assert h.last() == {k: v[-1] for k, v in h.history.items() if k != "lr"}


def test_iteration_loss_is_bounded_and_keeps_the_curve() -> None:
    h = History(max_iteration_points=8)
    steps = np.arange(1, 38, dtype=float)  # 37 steps: J = step number
    for j in steps:
        h.record_step(float(j))
    h.flush()
    assert h.iterations == 37 and h.iteration_stride == 8
    # 4 full points of 8 steps (means 4.5, 12.5, ...) and the last 5 steps in a partial point
    assert h.iteration_loss == [4.5, 12.5, 20.5, 28.5, 35.0]
    # each point sits at the centre of the steps it stands for, so J = step number lies on the diagonal
    np.testing.assert_allclose(h.iteration_steps(), h.iteration_loss)
    with pytest.raises(ValueError, match="max_iteration_points must be an even int"):
        History(max_iteration_points=7)


def test_fit_keeps_a_small_record_of_a_long_stochastic_run() -> None:
    X, y = _moons(40)
    model = _model()
    h = fit(model, cross_entropy, SGD(model.parameters(), lr=0.05), (X, y), epochs=30, batch_size=1, verbose=0,
            max_iteration_points=64)
    assert h.iterations == 1200 and len(h.iteration_loss) <= 64 and h.iteration_stride == 32
    full = fit(_model(), cross_entropy, SGD(_model().parameters(), lr=0.05), (X, y), epochs=1, batch_size=1,
               verbose=0, max_iteration_points=None)
    assert len(full.iteration_loss) == 40 and full.iteration_stride == 1


def test_history_displays() -> None:
    h = History(epochs=[1, 2, 3], train_loss=[0.9, 0.5, 0.3], val_loss=[1.0, 0.7, 0.6], seconds=1.25,
                iteration_loss=[0.9, 0.5, 0.3])
    text = repr(h)
    assert text == "History(3 epochs, 3 steps: loss 0.9 -> 0.3, val_loss 1 -> 0.6, 1.2 s)"
    page = h._repr_html_()
    assert page.count("<tr>") == 3 and "<svg" in page and ">0.3</td>" in page
    h.interrupted = True
    assert "interrupted" in repr(h) and "interrupted" in h._repr_html_()
    assert repr(History()) == "History(no epochs)"


def test_summary_prints_as_a_table_and_displays_as_html() -> None:
    s = nn.MLP([2, 4, 3], seed=0).summary((1, 2))
    assert isinstance(s, str) and repr(s) == str(s) and "\n" in repr(s)
    page = s._repr_html_()
    assert page.count("<tr>") == 4 and "Total params: 27" in page and "<code>(1, 3)</code>" in page


def test_plots_display_in_jupyter_as_png() -> None:
    pytest.importorskip("matplotlib")
    from tinygrad_edu.plots import plot_learning_curve

    h = History(epochs=[1, 2], train_loss=[0.9, 0.5], iteration_loss=[0.9, 0.5], batches_per_epoch=1)
    png = plot_learning_curve(h)._repr_png_()
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert h.plot()._repr_png_().startswith(b"\x89PNG")


# ----------------------------------------------------------------------------- callbacks


class _KerasStyle(Callback):
    def __init__(self) -> None:
        self.calls: list[tuple] = []

    def on_train_begin(self, logs=None):  # noqa: ANN001, ANN201
        self.calls.append(("train_begin", self.model is not None, self.params["epochs"]))

    def on_epoch_begin(self, epoch, logs=None):  # noqa: ANN001, ANN201
        self.calls.append(("epoch_begin", epoch))

    def on_batch_end(self, batch, logs=None):  # noqa: ANN001, ANN201
        self.calls.append(("batch_end", batch, round(logs["loss"], 12)))

    def on_epoch_end(self, epoch, logs=None):  # noqa: ANN001, ANN201
        self.calls.append(("epoch_end", epoch, round(logs["loss"], 12)))
        if epoch == 1:
            self.model.stop_training = True  # Keras's way to stop

    def on_train_end(self, logs=None):  # noqa: ANN001, ANN201
        self.calls.append(("train_end",))


def test_keras_signature_callbacks_see_the_model_and_can_stop() -> None:
    X, y = _moons(40)
    model = _model()
    cb = _KerasStyle()
    h = fit(model, cross_entropy, SGD(model.parameters(), lr=0.1), (X, y), epochs=5, batch_size=20, verbose=0,
            callbacks=[cb])
    assert h.stopped_early and h.epochs == [1, 2]
    assert cb.calls[0] == ("train_begin", True, 5) and cb.calls[-1] == ("train_end",)
    kinds = [c[0] for c in cb.calls[1:-1]]
    assert kinds == ["epoch_begin", "batch_end", "batch_end", "epoch_end"] * 2
    assert [c[1] for c in cb.calls if c[0] == "epoch_end"] == [0, 1]  # epochs from 0, as in Keras
    # the batch logs carry each step's J (the learning-curve points, stride 1)
    assert [c[2] for c in cb.calls if c[0] == "batch_end"] == [round(v, 12) for v in h.iteration_loss]


def test_plain_functions_are_epoch_end_callbacks() -> None:
    X, y = _moons(40)
    model = _model()
    seen: list[tuple[int, float]] = []
    h = fit(model, cross_entropy, SGD(model.parameters(), lr=0.1), (X, y), epochs=4, verbose=0,
            callbacks=[lambda epoch, logs: seen.append((epoch, logs["loss"])), lambda epoch, logs: epoch == 2])
    assert seen == list(zip([0, 1, 2], h.train_loss)) and h.stopped_early


def test_early_stopping_keras_arguments() -> None:
    X, y = _moons(60)
    model = _model()
    stopper = EarlyStopping(monitor="val_loss", patience=2, min_delta=0.0, mode="min", restore_best_weights=True)
    snapshots: list[dict] = []
    h = fit(model, cross_entropy, Adam(model.parameters(), lr=0.05), (X, y), epochs=60, verbose=0,
            validation_data=(X, 1 - y), callbacks=[stopper, lambda e, logs: snapshots.append(model.state_dict())])
    best = int(np.argmin(h.val_loss))
    assert h.stopped_early and stopper.best_epoch == best and h.best_epoch == best + 1
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(value, snapshots[best][name])
    assert stopper.restore_best and not EarlyStopping(restore_best_weights=False).restore_best
    with pytest.raises(ValueError, match="same setting"):
        EarlyStopping(restore_best=True, restore_best_weights=False)
    with pytest.raises(ValueError, match="mode must be"):
        EarlyStopping(mode="up")


def test_csv_logger_writes_one_row_per_epoch(tmp_path: Path) -> None:
    X, y = _moons(40)
    model = _model()
    path = tmp_path / "log.csv"
    h = fit(model, cross_entropy, SGD(model.parameters(), lr=0.1), (X, y), epochs=3, verbose=0,
            validation_split=0.25, callbacks=[CSVLogger(path)])
    rows = list(csv.DictReader(path.open()))
    assert list(rows[0]) == ["epoch", "accuracy", "loss", "lr", "val_accuracy", "val_loss"]
    assert [int(r["epoch"]) for r in rows] == [0, 1, 2]
    np.testing.assert_allclose([float(r["val_loss"]) for r in rows], h.val_loss, rtol=1e-12)
    fit(model, cross_entropy, SGD(model.parameters(), lr=0.1), (X, y), epochs=2, verbose=0,
        callbacks=[CSVLogger(path, append=True)])
    lines = path.read_text().splitlines()
    assert len(lines) == 1 + 3 + 2 and lines.count(lines[0]) == 1  # appended rows, one header


def test_model_checkpoint_saves_each_epoch_or_the_best(tmp_path: Path) -> None:
    X, y = _moons(60)
    model = _model()
    every = ModelCheckpoint(tmp_path / "ep{epoch:02d}.npz", save_best_only=False)
    best = ModelCheckpoint(tmp_path / "best.npz", monitor="val_loss", save_best_only=True)
    states: list[dict] = []
    h = fit(model, cross_entropy, Adam(model.parameters(), lr=0.05), (X, y), epochs=8, verbose=0,
            validation_data=(X, 1 - y), callbacks=[every, best, lambda e, logs: states.append(model.state_dict())])
    assert sorted(p.name for p in tmp_path.glob("ep*.npz")) == [f"ep{e:02d}.npz" for e in range(1, 9)]
    for name, value in load(tmp_path / "ep03.npz").items():
        np.testing.assert_array_equal(value, states[2][name])
    k = int(np.argmin(h.val_loss))
    assert k < 7  # validation on flipped labels gets worse, so the best file is not the last epoch
    for name, value in load(tmp_path / "best.npz").items():
        np.testing.assert_array_equal(value, states[k][name])
    assert not [p for p in os.listdir(tmp_path) if p.startswith(".")]  # no temp files left
    with pytest.raises(ValueError, match="must end in .npz"):
        ModelCheckpoint(tmp_path / "m.h5")
    with pytest.raises(ValueError, match="monitor 'val_loss' is not measured"):
        fit(model, cross_entropy, SGD(model.parameters(), lr=0.1), (X, y), epochs=1, verbose=0,
            callbacks=[ModelCheckpoint(tmp_path / "b.npz", save_best_only=True)])


def test_learning_rate_scheduler_sets_lr_each_epoch() -> None:
    X, y = _moons(40)
    model = _model()
    opt = SGD(model.parameters(), lr=1.0)
    h = fit(model, cross_entropy, opt, (X, y), epochs=4, verbose=0,
            callbacks=[LearningRateScheduler(lambda epoch, lr: lr * 0.5 if epoch else lr)])
    assert h.lr == [1.0, 0.5, 0.25, 0.125]
    h = fit(model, cross_entropy, opt, (X, y), epochs=2, verbose=0,
            callbacks=[LearningRateScheduler(lambda epoch: 0.1 * (epoch + 1))])
    assert h.lr == pytest.approx([0.1, 0.2])
    with pytest.raises(ValueError, match=r"schedule\(0\) returned nan"):
        fit(model, cross_entropy, opt, (X, y), epochs=1, verbose=0,
            callbacks=[LearningRateScheduler(lambda epoch: float("nan"))])


# ----------------------------------------------------------------------------- progress in a subprocess

_SCRIPT = textwrap.dedent(
    """
    import sys
    if sys.argv[1] == "block":
        sys.modules["tqdm"] = None  # as if tqdm were not installed
    import numpy as np
    import tinygrad_edu.nn as nn
    from tinygrad_edu.nn.losses import cross_entropy
    from tinygrad_edu.optim import SGD
    from tinygrad_edu.train import fit
    X = np.random.default_rng(0).standard_normal((20, 2)); y = (X[:, 0] > 0).astype(int)
    model = nn.MLP([2, 4, 2], seed=0)
    fit(model, cross_entropy, SGD(model.parameters(), lr=0.1), (X, y), epochs=3, validation_split=0.25)
    """
)


def _run_on_a_terminal(mode: str) -> str:
    """Run the script with stdout on a pseudo-terminal (where tqdm, when importable, would draw a bar)."""
    leader, follower = pty.openpty()
    env = dict(os.environ, PYTHONPATH=str(ROOT), COLUMNS="100")
    proc = subprocess.Popen([sys.executable, "-c", _SCRIPT, mode], stdout=follower, stderr=subprocess.PIPE,
                            env=env, cwd=ROOT)
    os.close(follower)
    chunks = []
    while True:
        try:
            data = os.read(leader, 4096)
        except OSError:  # the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(leader)
    assert proc.wait(timeout=120) == 0, proc.stderr.read().decode()
    return b"".join(chunks).decode()


@pytest.mark.slow
def test_without_tqdm_fit_prints_one_line_per_epoch_by_default() -> None:
    out = _run_on_a_terminal("block")
    lines = [line for line in out.replace("\r", "").splitlines() if line]
    assert [line.split(" - ")[0] for line in lines] == ["epoch 1/3", "epoch 2/3", "epoch 3/3"]
    assert all(" - loss " in line and " - val_loss " in line for line in lines)
    if __import__("importlib").util.find_spec("tqdm") is not None:
        assert "training: 100%" in _run_on_a_terminal("tqdm")  # with tqdm the terminal gets the bar


# ----------------------------------------------------------------------------- Ctrl-C


def _ctrl_c_after_epoch(n: int):  # noqa: ANN202
    import signal

    def callback(epoch: int, logs: dict) -> None:
        if epoch + 1 == n:
            os.kill(os.getpid(), signal.SIGINT)  # as if the user pressed Ctrl-C during the next epoch

    return callback


def test_ctrl_c_with_stop_on_interrupt_returns_the_finished_epochs(capsys: pytest.CaptureFixture[str]) -> None:
    X, y = _moons(40)
    model = _model()
    before = model.state_dict()
    h = fit(model, cross_entropy, SGD(model.parameters(), lr=0.1), (X, y), epochs=50, batch_size=10,
            callbacks=[_ctrl_c_after_epoch(2)], stop_on_interrupt=True)
    # the flag is seen after the first step of epoch 3: that epoch is not counted, its step is in the model
    assert h.interrupted and h.epochs == [1, 2] and h.iterations == 2 * 4 + 1
    assert not np.array_equal(model.state_dict()["0.weight"], before["0.weight"])
    assert "interrupted (Ctrl-C) during epoch 3" in capsys.readouterr().out
    import signal

    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # the handler is restored


def test_ctrl_c_raises_by_default() -> None:
    X, y = _moons(40)
    model = _model()
    with pytest.raises(KeyboardInterrupt):
        fit(model, cross_entropy, SGD(model.parameters(), lr=0.1), (X, y), epochs=50, verbose=0,
            callbacks=[_ctrl_c_after_epoch(2)])


def test_in_a_notebook_the_bar_is_a_widget_or_else_lines(monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("tqdm")
    from tinygrad_edu.train import progress

    monkeypatch.setattr(progress, "in_notebook", lambda: True)
    monkeypatch.setattr(progress, "_installed", lambda name: name == "tqdm")  # no ipywidgets
    p = progress.Progress(3, verbose=1)
    assert p.bar is None
    p.epoch_end(1, {"loss": 0.5, "lr": 0.1}, 0.31)
    assert capsys.readouterr().out == "epoch 1/3 - loss 0.5 - 0.3 s\n"  # no lr in the line
    made = []
    import tqdm.auto

    monkeypatch.setattr(progress, "_installed", lambda name: True)
    monkeypatch.setattr(tqdm.auto, "tqdm", lambda **kw: made.append(kw) or "widget")
    assert progress.Progress(3, verbose=1).bar == "widget" and made[0]["total"] == 3
    assert progress.Progress(3, verbose=2).bar is None  # verbose=2: always lines


class _EarlierStyle(Callback):
    """The hook signatures of earlier versions: model and history passed in, epochs from 1."""

    def __init__(self) -> None:
        self.calls: list[tuple] = []

    def on_train_begin(self, model, history):  # noqa: ANN001, ANN201
        self.calls.append(("begin", type(model).__name__, type(history).__name__))

    def on_epoch_end(self, epoch, logs, model):  # noqa: ANN001, ANN201
        self.calls.append(("epoch", epoch, type(model).__name__))
        return epoch == 2

    def on_train_end(self, model, history):  # noqa: ANN001, ANN201
        self.calls.append(("end", len(history.epochs)))


def test_earlier_hook_signatures_still_work() -> None:
    X, y = _moons(40)
    model = _model()
    cb = _EarlierStyle()
    h = fit(model, cross_entropy, SGD(model.parameters(), lr=0.1), (X, y), epochs=5, verbose=0, callbacks=[cb])
    assert cb.calls == [("begin", "MLP", "History"), ("epoch", 1, "MLP"), ("epoch", 2, "MLP"), ("end", 2)]
    assert h.stopped_early


def test_early_stopping_baseline_and_verbose(capsys: pytest.CaptureFixture[str]) -> None:
    X, y = _moons(40)
    model = _model()
    before = model.state_dict()
    # a baseline no epoch can beat: training stops after `patience` epochs, nothing to restore
    stopper = EarlyStopping(monitor="loss", patience=3, baseline=0.0, verbose=1)
    h = fit(model, cross_entropy, SGD(model.parameters(), lr=0.1), (X, y), epochs=20, verbose=0, callbacks=[stopper])
    assert h.epochs == [1, 2, 3] and stopper.best_epoch is None and h.best_epoch is None
    assert not np.array_equal(model.state_dict()["0.weight"], before["0.weight"])  # not restored
    assert capsys.readouterr().out == "early stopping at epoch 3: loss did not improve for 3 epoch(s)\n"
    with pytest.raises(ValueError, match="baseline must be a finite number"):
        EarlyStopping(baseline=float("nan"))


@pytest.mark.parametrize(("seconds", "text"), [(2.345, "2.3 s"), (0.1, "0.1 s"), (0.0456, "46 ms"),
                                                (0.00043, "0.4 ms"), (0.0, "0.0 ms")])
def test_durations_read_well(seconds: float, text: str) -> None:
    from tinygrad_edu.train.progress import format_seconds

    assert format_seconds(seconds) == text
