"""tinygrad_edu.report.write_report from Python: the run folder's files, the held-out set's one name,
interrupted runs, and the tip when matplotlib is missing (on the page and on the console)."""

from __future__ import annotations

import html
import json
import sys
from pathlib import Path

import numpy as np
import pytest

import tinygrad_edu as tg
import tinygrad_edu.nn as nn
from tinygrad_edu import cli
from tinygrad_edu.checkpoint import load
from tinygrad_edu.data import make_moons, standardize
from tinygrad_edu.nn.losses import cross_entropy
from tinygrad_edu.optim import Adam
from tinygrad_edu.report import PLOT_TIP, RunReport, write_report
from tinygrad_edu.train import History, evaluate, fit


@pytest.fixture(scope="module")
def trained() -> tuple:
    X, y = make_moons(n=60, noise=0.1, seed=0)
    X = standardize(X)[0]
    model = nn.MLP([2, 6, 2], seed=0)
    h = fit(model, cross_entropy, Adam(model.parameters(), lr=0.05), (X[:45], y[:45]), epochs=3, verbose=0,
            validation_data=(X[45:], y[45:]), seed=0)
    return model, h, (X[:45], y[:45]), (X[45:], y[45:])


def test_write_report_from_python(tmp_path: Path, trained: tuple) -> None:
    pytest.importorskip("matplotlib")
    model, h, train, test = trained
    report = tg.train.write_report(h, model, tmp_path / "run", loss_fn=cross_entropy, train_data=train,
                                   test_data=test)
    assert isinstance(report, RunReport) and report.index.is_file()
    assert set(report.files) >= {"model", "metrics", "loss", "boundary", "histograms", "graph", "graph_full"}
    for name in report.files.values():
        assert (report.folder / name).is_file(), name
    m = json.loads((report.folder / "metrics.json").read_text())
    assert m["test"] == pytest.approx(evaluate(model, cross_entropy, test)) and m["held_out"] == "test"
    for key, value in load(report.folder / "model.npz").items():
        np.testing.assert_array_equal(value, model.state_dict()[key])
    page = report.index.read_text()
    assert "<th>test loss</th>" in page and "validation" not in page.lower()
    # every figure links to its full-size file
    for role in ("loss", "boundary", "histograms"):
        name = report.files[role]
        assert f"<a href='{name}' title='open the full-size picture'><img class='figure' src='{name}'" in page
    assert "graph-full" in page and "<img id='graph'" in page
    assert report.folder.name in report._repr_html_()


def test_the_held_out_set_has_one_name(tmp_path: Path, trained: tuple) -> None:
    pytest.importorskip("matplotlib")
    from tinygrad_edu.plots import plot_learning_curve

    model, h, train, test = trained
    report = write_report(h, model, tmp_path / "run", loss_fn=cross_entropy, train_data=train, test_data=test,
                          held_out="dev")
    assert set(report.metrics["dev"]) == {"loss", "accuracy"} and "test" not in report.metrics
    page = report.index.read_text()
    assert "<th>dev accuracy</th>" in page and "the <b>dev set</b>" in page and " test " not in page
    fig = plot_learning_curve(h, val_label="dev")
    legends = [t.get_text() for ax in fig.axes for t in ax.get_legend().get_texts()]
    assert legends.count("dev") == 2 and "validation" not in legends


def test_minimal_report_and_interrupted_note(tmp_path: Path, trained: tuple) -> None:
    model, h, _, _ = trained
    stopped = History(epochs=[1], train_loss=[0.7], iteration_loss=[0.7], batches_per_epoch=1, interrupted=True)
    report = write_report(stopped, model, tmp_path / "run", settings={"epochs": 50})
    assert {"model", "metrics"} <= set(report.files) and "graph" not in report.files
    assert "interrupted (Ctrl-C) after 1 finished epoch(s) of 50" in report.index.read_text()
    assert report.metrics["interrupted"] is True


def test_missing_matplotlib_tip_on_the_page_and_the_console(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    out = tmp_path / "run"
    assert cli.main(["train", "--dataset", "circle", "--n", "40", "--epochs", "2", "--out", str(out), "--quiet"]) == 0
    assert f"tip: {PLOT_TIP}" in capsys.readouterr().out
    assert html.escape(PLOT_TIP) in (out / "index.html").read_text()
    files = json.loads((out / "metrics.json").read_text())["files"]
    assert "loss" not in files and "model" in files
