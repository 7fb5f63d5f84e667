"""The CLI under stress (issue 13: findings 13, 14, 17, 18) and the drawn graph's gradients (issue 15):
Ctrl-C keeps what was done, no unnamed file is overwritten, no MemoryError traceback, a failing `dot`
falls back to DOT text."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import tinygrad_edu.nn as nn
from tinygrad_edu import cli
from tinygrad_edu.checkpoint import load

ROOT = Path(__file__).resolve().parents[1]


def _no_graphviz(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.setitem(sys.modules, "pygraphviz", None)


def _failing_dot(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A `dot` on PATH that rejects every format, as Graphviz builds without a plugin do."""
    bin_dir = tmp_path / "fakebin"
    bin_dir.mkdir()
    dot = bin_dir / "dot"
    dot.write_text("#!/bin/sh\ncat >/dev/null\necho 'Format: \"svg\" not recognized. Use one of: canon' >&2\nexit 1\n")
    dot.chmod(dot.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")


# ----------------------------------------------------------------------------- the graph carries gradients


def test_graph_command_draws_the_gradients_of_the_backward_pass(tmp_path: Path) -> None:
    out = tmp_path / "g.dot"
    assert cli.main(["graph", "--sizes", "2,3,2", "--out", str(out)]) == 0
    text = out.read_text()
    assert "grad: none" not in text and text.count("grad norm") >= 4 and "0.weight" in text
    assert cli.main(["graph", "--sizes", "2,3,2", "--no-loss", "--out", str(out)]) == 0
    assert "grad norm" not in out.read_text()  # no loss, no backward pass: no gradients to show


def test_report_graphs_carry_gradients(tmp_path: Path) -> None:
    out = tmp_path / "run"
    assert cli.main(["train", "--dataset", "circle", "--n", "60", "--epochs", "2", "--out", str(out), "--quiet"]) == 0
    m = json.loads((out / "metrics.json").read_text())
    for role in ("graph", "graph_full"):
        text = (out / m["files"][role]).read_text()  # SVG, or DOT text where Graphviz is missing
        assert "grad: none" not in text and ("grad rms" in text or "grad norm" in text), role


# ----------------------------------------------------------------------------- 14: never overwrite an unnamed file


def test_graph_without_graphviz_keeps_an_existing_dot_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    _no_graphviz(monkeypatch, tmp_path)
    notes = tmp_path / "notes.dot"
    notes.write_text("my own notes")
    assert cli.main(["graph", "--out", str(tmp_path / "notes.png")]) == 1
    err = capsys.readouterr().err
    assert notes.read_text() == "my own notes" and not (tmp_path / "notes.png").exists()
    assert "could not render notes.png" in err and "was not written" in err and "Traceback" not in err
    notes.unlink()
    assert cli.main(["graph", "--out", str(tmp_path / "notes.png")]) == 1  # the asked-for format was not made
    assert notes.read_text().startswith("digraph") and f"wrote the DOT text to {notes}" in capsys.readouterr().err


# ----------------------------------------------------------------------------- 18: a failing dot


def test_failing_dot_falls_back_to_dot_text(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    _failing_dot(monkeypatch, tmp_path)
    assert cli.main(["graph", "--out", str(tmp_path / "g.svg")]) == 1
    err = capsys.readouterr().err
    assert "not recognized" in err and "Traceback" not in err and (tmp_path / "g.dot").read_text().startswith("digraph")
    out = tmp_path / "run"
    assert cli.main(["demo", "--out", str(out), "--epochs", "2", "--n", "40", "--quiet"]) == 0
    m = json.loads((out / "metrics.json").read_text())
    assert m["files"]["graph"] == "graph.dot" and m["files"]["graph_full"] == "graph-full.dot"
    assert len(m["history"]["epochs"]) == 2 and (out / "model.npz").exists() and (out / "index.html").exists()
    assert "tip: Graphviz: could not render graph.svg" in capsys.readouterr().out


# ----------------------------------------------------------------------------- 17: sizes that cannot fit


@pytest.mark.parametrize("extra", [["--hidden", "200000,200000"], ["--n", "10000000000000"]])
def test_runs_too_big_for_memory_end_in_one_line(tmp_path: Path, extra: list[str]) -> None:
    out = tmp_path / "big"
    proc = subprocess.run([sys.executable, "-m", "tinygrad_edu", "train", "--out", str(out), *extra],
                          capture_output=True, text=True, cwd=ROOT, env=dict(os.environ, PYTHONPATH=str(ROOT)),
                          timeout=120)
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "GiB of memory" in lines[0] and "Traceback" not in proc.stderr, proc.stderr
    assert not out.exists()  # nothing was written: no empty run folder


def test_a_memory_error_inside_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    def boom(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        raise MemoryError("Unable to allocate 80.0 GiB for an array with shape (100000, 100000)")

    monkeypatch.setattr(cli, "_make_model", boom)
    assert cli.main(["train", "--out", str(tmp_path / "r"), "--quiet"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("tinygrad-edu train: error: out of memory: Unable to allocate 80.0 GiB") and \
        err.count("\n") == 1


# ----------------------------------------------------------------------------- 13: the model and Ctrl-C


def test_train_saves_the_trained_model(tmp_path: Path) -> None:
    out = tmp_path / "run"
    assert cli.main(["train", "--dataset", "circle", "--n", "60", "--epochs", "3", "--hidden", "5",
                     "--out", str(out), "--quiet"]) == 0
    m = json.loads((out / "metrics.json").read_text())
    model = nn.MLP(m["settings"]["sizes"], activation=m["settings"]["activation"], seed=123)
    load(out / "model.npz", into=model)
    # the saved parameters are the trained ones: they reproduce the reported test accuracy
    from tinygrad_edu.data import make_dataset, standardize, train_test_split
    from tinygrad_edu.train import predict

    X, y = make_dataset("circle", n=60, noise=m["settings"]["noise"], seed=0)
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.2, seed=0, stratify=True)
    Xte = standardize(Xtr, Xte)[1]
    assert np.mean(predict(model, Xte).argmax(axis=1) == yte) == pytest.approx(m["test"]["accuracy"])


@pytest.mark.slow
@pytest.mark.parametrize("command", ["train", "demo"])
def test_ctrl_c_writes_what_was_done(tmp_path: Path, command: str) -> None:
    out = tmp_path / "run"
    argv = [sys.executable, "-m", "tinygrad_edu", command, "--epochs", "100000", "--n", "120", "--out", str(out)]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
                            env=dict(os.environ, PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1"))
    seen = []
    deadline = time.monotonic() + 120
    assert proc.stdout is not None
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        seen.append(line)
        if line.startswith("epoch 3/"):  # piped output: one line per epoch
            break
    proc.send_signal(signal.SIGINT)
    rest, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "interrupted" in rest
    m = json.loads((out / "metrics.json").read_text())
    assert m["interrupted"] is True and m["history"]["interrupted"] is True
    assert 3 <= len(m["history"]["epochs"]) < 100000
    state = load(out / "model.npz")
    assert set(state) == {f"{k}.{p}" for k in range(0, 2 * (len(m["settings"]["sizes"]) - 1), 2)
                          for p in ("weight", "bias")}
    page = (out / "index.html").read_text()
    assert "interrupted (Ctrl-C) after" in page


def test_a_diverging_run_is_one_line_without_numpy_warnings(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "tinygrad_edu", "train", "--lr", "1e308", "--epochs", "3", "--quiet",
                           "--out", str(tmp_path / "r")], capture_output=True, text=True, cwd=ROOT,
                          env=dict(os.environ, PYTHONPATH=str(ROOT)), timeout=120)
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines() == [
        "tinygrad-edu train: error: fit: the cost became nan at epoch 1; lower the learning rate, or run with "
        "check_finite=True to find the op that produced the first NaN/inf"
    ]


def test_a_failed_run_keeps_an_out_folder_the_user_made(tmp_path: Path) -> None:
    mine = tmp_path / "mine"
    mine.mkdir()
    assert cli.main(["train", "--hidden", "200000,200000", "--out", str(mine), "--quiet"]) == 1
    assert mine.is_dir()  # made by the user: not removed, though the run wrote nothing
    made = tmp_path / "new"
    assert cli.main(["train", "--hidden", "200000,200000", "--out", str(made), "--quiet"]) == 1
    assert not made.exists()  # made by the run and left empty: removed


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["train", "--seed", "-1"], "argument --seed: expected an integer >= 0"),
        (["demo", "--seed", "x"], "argument --seed: expected an integer >= 0"),
        (["gradcheck", "--seed", "-3"], "argument --seed: expected an integer >= 0"),
        (["graph", "--out", "{file}/g.svg"], "exists and is not a folder"),
    ],
)
def test_bad_seed_and_out_paths_are_usage_errors(argv: list[str], message: str, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(SystemExit) as info:
        cli.main([a.replace("{file}", str(tmp_path / "file")) for a in argv])
    err = capsys.readouterr().err
    assert info.value.code == 2 and message in err and "Traceback" not in err and "Errno" not in err
