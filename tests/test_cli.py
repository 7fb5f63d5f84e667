"""End-to-end tests of the command line on small settings: the files a run writes, and bad arguments."""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import pytest

from tinygrad_edu import cli

PNG = b"\x89PNG\r\n\x1a\n"

pytest.importorskip("matplotlib")


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):  # noqa: ANN001, ANN201
        for name, value in attrs:
            if name in ("src", "href") and value:
                self.links.append(value)


def _links(index: Path) -> list[str]:
    parser = _Links()
    parser.feed(index.read_text())
    return parser.links


def _check_run_folder(out: Path, expect_boundary: bool = True) -> dict:
    """Every file a run folder must hold, checked by content, and index.html's links resolve."""
    metrics = json.loads((out / "metrics.json").read_text())
    for key in ("settings", "train", "test", "history", "files"):
        assert key in metrics
    for name in ("loss.png", "histograms.png") + (("boundary.png",) if expect_boundary else ()):
        assert (out / name).read_bytes()[:8] == PNG, name
    assert (out / "boundary.png").exists() == expect_boundary
    graph = out / metrics["files"]["graph"]
    if graph.suffix == ".svg":
        root = ET.parse(graph).getroot()  # parses as XML
        assert root.tag.endswith("svg")
    else:
        assert graph.read_text().startswith("digraph")
    links = _links(out / "index.html")
    assert links, "index.html links to nothing"
    for link in links:
        assert (out / link).is_file(), f"index.html links to missing {link}"
    for f in metrics["files"].values():
        assert f in links, f"index.html does not show {f}"
    h = metrics["history"]
    assert len(h["iteration_loss"]) == len(h["epochs"]) * h["batches_per_epoch"]
    return metrics


def test_demo_end_to_end(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "run"
    assert cli.main(["demo", "--out", str(out), "--epochs", "3", "--n", "80", "--quiet"]) == 0
    m = _check_run_folder(out)
    assert m["command"] == "demo" and m["settings"]["dataset"] == "flower" and m["settings"]["epochs"] == 3
    assert m["settings"]["sizes"] == [2, 16, 16, 2]
    assert m["gradcheck"]["ok"] is True and m["gradcheck"]["max_abs_error"] < 1e-6
    assert m["reference_check"]["ok"] is True and m["reference_check"]["max_abs_diff"] < 1e-10
    assert 0.0 <= m["test"]["accuracy"] <= 1.0
    assert "gradcheck passed" in (out / "gradcheck.txt").read_text()
    text = capsys.readouterr().out
    assert f"wrote {out}" in text and "index.html" in text and "passed" in text


def test_demo_with_no_arguments_writes_a_timestamped_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setitem(cli.DEMO, "epochs", 2)  # fast settings; the real default is used by `make demo`
    monkeypatch.setitem(cli.DEMO, "n", 60)
    assert cli.main(["demo"]) == 0
    runs = list((tmp_path / "runs").glob("demo-*"))
    assert len(runs) == 1
    _check_run_folder(runs[0])
    assert str(Path("runs") / runs[0].name) in capsys.readouterr().out


def test_demo_defaults() -> None:
    args = cli.build_parser().parse_args(["demo"])
    assert args.out is None and args.epochs == cli.DEMO["epochs"] and not args.quiet


def test_train_spiral_with_checks(tmp_path: Path) -> None:
    out = tmp_path / "spiral"
    argv = ["train", "--dataset", "spiral", "--n", "90", "--hidden", "8", "--activation", "relu", "--optimizer",
            "momentum", "--lr", "0.1", "--momentum", "0.8", "--batch-size", "full", "--epochs", "4", "--l2", "0.1",
            "--seed", "3", "--out", str(out), "--check", "--quiet"]
    assert cli.main(argv) in (0, 1)  # relu: a finite-difference check may straddle a kink; see the assertion below
    m = _check_run_folder(out)
    s = m["settings"]
    assert (s["optimizer"], s["lr"], s["momentum"], s["batch_size"], s["l2"], s["seed"]) == ("momentum", 0.1, 0.8,
                                                                                           None, 0.1, 3)
    assert s["sizes"] == [2, 8, 2] and m["history"]["batches_per_epoch"] == 1
    assert m["reference_check"]["ok"] is True


def test_train_digits_and_regression(tmp_path: Path) -> None:
    out = tmp_path / "digits"
    assert cli.main(["train", "--dataset", "digits", "--hidden", "16", "--epochs", "2", "--batch-size", "256",
                     "--out", str(out), "--quiet"]) == 0
    m = _check_run_folder(out, expect_boundary=False)
    assert m["settings"]["sizes"] == [64, 16, 10] and "accuracy" in m["test"]
    out = tmp_path / "plane"
    assert cli.main(["train", "--dataset", "plane", "--n", "50", "--epochs", "2", "--out", str(out), "--quiet"]) == 0
    m = _check_run_folder(out, expect_boundary=False)
    assert m["settings"]["task"] == "regression" and set(m["test"]) == {"loss"}


def test_graph_falls_back_to_dot_text_without_graphviz(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.setitem(sys.modules, "pygraphviz", None)
    out = tmp_path / "run"
    assert cli.main(["demo", "--out", str(out), "--epochs", "1", "--n", "40", "--quiet"]) == 0
    m = _check_run_folder(out)
    assert m["files"]["graph"] == "graph.dot" and not (out / "graph.svg").exists()


def test_gradcheck_command_prints_the_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["gradcheck", "--sizes", "3,4,3", "--activation", "tanh", "--batch", "4", "--l2", "0.3"]) == 0
    text = capsys.readouterr().out
    assert "gradcheck passed" in text and "0.weight" in text and "2.bias" in text
    assert "reference backprop (lectures' formulas in numpy) agrees" in text


def test_graph_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    dot = tmp_path / "sub" / "g.dot"
    assert cli.main(["graph", "--sizes", "2,3,2", "--out", str(dot)]) == 0
    text = dot.read_text()
    assert text.startswith("digraph") and "linear" in text  # nn.Linear is the fused linear op
    svg = tmp_path / "g.svg"
    assert cli.main(["graph", "--sizes", "2,3,2", "--no-loss", "--out", str(svg)]) == 0
    written = Path(capsys.readouterr().out.strip().splitlines()[-1].split()[-1])
    if written.suffix == ".svg":
        assert ET.parse(written).getroot().tag.endswith("svg")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["train", "--hidden", "x"], "--hidden: expected comma-separated positive integers"),
        (["train", "--hidden", "4,-2"], "--hidden"),
        (["train", "--lr", "-1"], "--lr"),
        (["train", "--lr", "nan"], "--lr"),
        (["train", "--dataset", "mnist"], "invalid choice: 'mnist'"),
        (["train", "--activation", "swish"], "invalid choice: 'swish'"),
        (["train", "--epochs", "0"], "--epochs: expected a positive integer"),
        (["train", "--batch-size", "half"], "--batch-size"),
        (["train", "--momentum", "1.5"], "--momentum"),
        (["train", "--test-size", "1"], "--test-size"),
        (["train", "--dataset", "digits", "--n", "50"], "--n does not apply to digits"),
        (["gradcheck", "--sizes", "3"], "--sizes needs"),
        (["graph", "--out", "graph.txt"], "--out must end in"),
        (["fly"], "invalid choice: 'fly'"),
    ],
)
def test_bad_arguments_exit_2_with_a_message(argv: list[str], message: str, capsys) -> None:  # noqa: ANN001
    with pytest.raises(SystemExit) as info:
        cli.main(argv)
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_library_errors_exit_1_with_a_message(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # 3 examples cannot be split into train and test sets with test_size 0.1: the library's ValueError is shown
    assert cli.main(["train", "--n", "3", "--test-size", "0.1", "--out", str(tmp_path / "r"), "--quiet"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("tinygrad-edu train: error: train_test_split:") and "Traceback" not in err
    (tmp_path / "file").write_text("x")
    with pytest.raises(SystemExit) as info:
        cli.main(["demo", "--out", str(tmp_path / "file")])
    assert info.value.code == 2 and "is not a folder" in capsys.readouterr().err


def test_python_dash_m_entry_point() -> None:
    ok = subprocess.run([sys.executable, "-m", "tinygrad_edu", "--version"], capture_output=True, text=True)
    assert ok.returncode == 0 and ok.stdout.startswith("tinygrad-edu ")
    bad = subprocess.run([sys.executable, "-m", "tinygrad_edu", "train", "--epochs", "-3"], capture_output=True,
                         text=True)
    assert bad.returncode == 2 and "--epochs" in bad.stderr and "Traceback" not in bad.stderr


def test_sgd_is_plain_gradient_descent_unless_momentum_is_given(tmp_path: Path) -> None:
    base = ["train", "--dataset", "circle", "--n", "40", "--epochs", "1", "--quiet", "--optimizer"]
    assert cli.main(base + ["sgd", "--out", str(tmp_path / "a")]) == 0
    assert json.loads((tmp_path / "a" / "metrics.json").read_text())["settings"]["momentum"] == 0.0
    assert cli.main(base + ["momentum", "--out", str(tmp_path / "b")]) == 0
    assert json.loads((tmp_path / "b" / "metrics.json").read_text())["settings"]["momentum"] == 0.9
    assert cli.main(base + ["sgd", "--momentum", "0", "--out", str(tmp_path / "c")]) == 0


def test_momentum_with_adam_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        cli.main(["train", "--optimizer", "adam", "--momentum", "0.5", "--out", str(tmp_path / "r")])
    assert info.value.code == 2 and "--momentum applies to --optimizer sgd or momentum" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()  # refused before anything was written


def test_regression_check_runs_finite_differences(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "plane"
    assert cli.main(["train", "--dataset", "plane", "--n", "40", "--epochs", "1", "--check", "--quiet",
                     "--out", str(out)]) == 0
    m = _check_run_folder(out, expect_boundary=False)
    assert m["gradcheck"]["ok"] is True and m["reference_check"]["ok"] is None
    assert "classification costs only" in m["reference_check"]["skipped"]
    assert "gradcheck passed" in (out / "gradcheck.txt").read_text()
    assert "reference backprop: skipped (the reference backprop covers" in capsys.readouterr().out


def test_gradcheck_at_a_relu_kink_explains_the_failure(capsys: pytest.CaptureFixture[str]) -> None:
    # seed 0: one example's first hidden layer is all 0 and b[2] = 0, so a z of layer 2 is exactly 0 (the kink)
    assert cli.main(["gradcheck", "--sizes", "4,5,5,3", "--activation", "relu", "--l2", "0.2", "--batch", "8"]) == 1
    text = capsys.readouterr().out
    assert "gradcheck FAILED" in text and "0.weight = W[1]" in text
    assert "note: 5 hidden pre-activation(s) z lie within 1e-4 of relu's kink" in text
    assert cli.main(["gradcheck", "--sizes", "4,5,3", "--activation", "relu"]) == 0
    assert "kink" not in capsys.readouterr().out  # no note when the checks pass


def test_help_texts_describe_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    for command, words in (("demo", "flower"), ("train", "examples:"), ("gradcheck", "finite differences"),
                           ("graph", "Graphviz")):
        with pytest.raises(SystemExit) as info:
            cli.main([command, "--help"])
        assert info.value.code == 0
        assert words in capsys.readouterr().out, command


def test_a_diverging_run_warns(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "big"
    assert cli.main(["train", "--dataset", "xor", "--n", "60", "--optimizer", "sgd", "--lr", "1e6", "--epochs", "5",
                     "--quiet", "--out", str(out)]) == 0
    m = json.loads((out / "metrics.json").read_text())
    assert m["history"]["train_loss"][-1] > m["history"]["train_loss"][0]  # it did diverge
    assert "warning: the cost J went UP" in capsys.readouterr().out
    assert "the cost J went UP" in (out / "index.html").read_text()
    assert cli.main(["train", "--dataset", "xor", "--n", "60", "--epochs", "5", "--quiet",
                     "--out", str(tmp_path / "ok")]) == 0
    assert "warning" not in capsys.readouterr().out


def test_out_folder_that_cannot_be_made_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(SystemExit) as info:
        cli.main(["train", "--out", str(tmp_path / "file" / "run")])
    assert info.value.code == 2 and "cannot create the run folder" in capsys.readouterr().err
