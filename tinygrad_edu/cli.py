"""The command line: ``tinygrad-edu`` (or ``python -m tinygrad_edu``).

Commands:

* ``demo``: no arguments needed. Trains an MLP on the course's planar "flower" data with a
  progress bar, checks the model's gradients against central finite differences
  (:mod:`tinygrad_edu.gradcheck`) and against the lectures' hand-derived backprop in plain
  numpy (:mod:`tinygrad_edu.reference`), and writes a run folder (``./runs/demo-<time>`` or
  ``--out``) with :func:`tinygrad_edu.report.write_report`: ``model.npz``, ``metrics.json``,
  ``loss.png``, ``boundary.png``, ``histograms.png``, ``graph.svg`` / ``graph-full.svg``
  (``.dot`` when Graphviz cannot render) and an ``index.html`` showing them all. Ctrl-C stops
  training and still writes what was done (exit status 130).
* ``train``: the same with your settings: data set, hidden sizes, activation, init, optimiser,
  learning rate, momentum, batch size, epochs, L2 lambda, seed, output folder.
* ``gradcheck``: check the gradients of a described model (``--sizes 2,8,3``) and print the table.
* ``graph``: draw the graph of one forward pass (and the loss) of a described model.

Bad arguments print a one-line message and exit with status 2 (usage) or 1 (a value the
library rejects, a run too big for memory, a graph that could not be rendered); never a traceback.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from . import __version__
from . import nn as _nn
from . import optim as _optim
from .data import DATASETS, load_digits, make_dataset, standardize, train_test_split
from .mlp_checks import check_gradients, checks_ok, checks_text, kink_note, reference_word
from .nn.losses import cross_entropy, mse_loss
from .train import fit

__all__ = ["main"]

ACTIVATIONS = ("tanh", "relu", "sigmoid", "leaky_relu", "elu", "selu")
INITS = ("auto", "he", "xavier", "xavier_uniform", "he_uniform", "normal", "uniform")
OPTIMIZERS = ("sgd", "momentum", "rmsprop", "adam")
DATASET_CHOICES = tuple(sorted(DATASETS)) + ("digits",)

DEMO = {
    "dataset": "flower",
    "n": 400,
    "noise": 0.2,
    "hidden": [16, 16],
    "activation": "tanh",
    "init": "auto",
    "optimizer": "adam",
    "lr": 0.02,
    "momentum": None,  # sgd: 0 (plain gradient descent), momentum: 0.9; unused by rmsprop and adam
    "batch_size": 64,
    "epochs": 150,
    "l2": 0.01,
    "seed": 0,
    "test_size": 0.2,
}


class UsageError(ValueError):
    """A bad combination of arguments, reported like an argparse error."""


# ============================================================================ argument parsing


def _sizes(text: str) -> list[int]:
    message = f"expected comma-separated positive integers like 16,16, got {text!r}"
    try:
        sizes = [int(s) for s in text.replace(" ", "").split(",") if s != ""]
    except ValueError:
        raise argparse.ArgumentTypeError(message) from None
    if not sizes or any(s < 1 for s in sizes):
        raise argparse.ArgumentTypeError(message)
    return sizes


def _hidden(text: str) -> list[int]:
    if text.strip().lower() in ("", "none", "0"):
        return []
    return _sizes(text)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0 (numpy's generators take non-negative seeds), "
                                         f"got {text!r}")
    return value


def _batch(text: str) -> int | None:
    if text.strip().lower() in ("full", "all", "batch", "none"):
        return None
    return _positive_int(text)


def _nonneg_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {text!r}") from None
    if not np.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"expected a finite number >= 0, got {text!r}")
    return value


def _beta(text: str) -> float:
    value = _nonneg_float(text)
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1), got {text!r}")
    return value


def _fraction(text: str) -> float:
    value = _nonneg_float(text)
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"expected a fraction strictly between 0 and 1, got {text!r}")
    return value


def _add_model_args(p: argparse.ArgumentParser, defaults: dict[str, Any]) -> None:
    p.add_argument("--activation", choices=ACTIVATIONS, default=defaults["activation"],
                   help="hidden-layer activation g (default %(default)s)")
    p.add_argument("--init", choices=INITS, default=defaults["init"],
                   help="weight initialisation; auto = He for relu-like, Xavier otherwise (default %(default)s)")
    p.add_argument("--seed", type=_seed, default=defaults["seed"],
                   help="seed for the data, the weights and the shuffling (default %(default)s)")


def _add_training_args(p: argparse.ArgumentParser, defaults: dict[str, Any]) -> None:
    p.add_argument("--dataset", choices=DATASET_CHOICES, default=defaults["dataset"],
                   help="built-in data set (default %(default)s)")
    p.add_argument("--n", type=_positive_int, default=defaults["n"],
                   help="number of examples for the 2-D sets (default %(default)s)")
    p.add_argument("--noise", type=_nonneg_float, default=defaults["noise"],
                   help="noise of the 2-D set (default %(default)s)")
    p.add_argument("--hidden", type=_hidden, default=defaults["hidden"],
                   help="hidden layer sizes n[1],...,n[L-1], e.g. 16,16, or none for a linear model; n[0] and "
                        f"n[L] come from the data (default {','.join(map(str, defaults['hidden']))})")
    _add_model_args(p, defaults)
    p.add_argument("--optimizer", choices=OPTIMIZERS, default=defaults["optimizer"],
                   help="sgd: W := W - alpha dW; momentum: the lectures' V := beta V + (1 - beta) dW, "
                        "W := W - alpha V; rmsprop; adam (default %(default)s)")
    p.add_argument("--lr", type=_nonneg_float, default=defaults["lr"], help="learning rate alpha (default %(default)s)")
    p.add_argument("--momentum", type=_beta, default=defaults["momentum"],
                   help="in [0, 1): sgd's heavy-ball momentum (default 0: plain gradient descent) or the momentum "
                        "optimizer's beta (default 0.9); not used by rmsprop and adam")
    p.add_argument("--batch-size", type=_batch, default=defaults["batch_size"],
                   help="1 = stochastic, k = mini-batch, 'full' = batch gradient descent (default %(default)s)")
    p.add_argument("--epochs", type=_positive_int, default=defaults["epochs"],
                   help="passes over the training set (default %(default)s)")
    p.add_argument("--l2", type=_nonneg_float, default=defaults["l2"],
                   help="L2 lambda: adds (lambda/2m) sum ||W||^2 to J (default %(default)s)")
    p.add_argument("--test-size", type=_fraction, default=defaults["test_size"],
                   help="fraction of the examples held out as the test set (default %(default)s)")
    p.add_argument("--out", type=Path, default=None, help="run folder (default ./runs/<command>-<time>)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tinygrad-edu",
        description="A readable autograd framework to learn backpropagation with. Start with: tinygrad-edu demo",
    )
    parser.add_argument("--version", action="version", version=f"tinygrad-edu {__version__}")
    parser.add_argument("--blas-threads", type=_positive_int, default=1,
                        help="BLAS threads (default 1: fastest for the small matrices here; needs threadpoolctl)")
    sub = parser.add_subparsers(dest="command", metavar="command")

    raw = argparse.RawDescriptionHelpFormatter
    demo = sub.add_parser(
        "demo", help="train on built-in data, check gradients, write a run folder (no arguments)", formatter_class=raw,
        description="Train a 2-16-16-2 tanh MLP on the course's planar 'flower' data (400 points; Adam, mini-batches "
                    "of 64,\n150 epochs, L2 lambda 0.01) with a progress bar, check its gradients against central "
                    "finite differences\nand the lectures' backprop in plain numpy, and write a run folder with "
                    "graph.svg, loss.png,\nboundary.png, histograms.png, metrics.json and index.html. Takes a few "
                    "seconds.",
        epilog="example:\n  tinygrad-edu demo                 # writes ./runs/demo-<time>/; open its index.html")
    demo.add_argument("--out", type=Path, default=None, help="run folder (default ./runs/demo-<time>)")
    demo.add_argument("--epochs", type=_positive_int, default=DEMO["epochs"],
                      help="passes over the training set (default %(default)s)")
    demo.add_argument("--n", type=_positive_int, default=DEMO["n"], help="number of examples (default %(default)s)")
    demo.add_argument("--seed", type=_seed, default=DEMO["seed"],
                      help="seed for the data, the weights and the shuffling (default %(default)s)")
    demo.add_argument("--quiet", action="store_true", help="no progress bar")

    train = sub.add_parser(
        "train", help="train an MLP with your settings and write a run folder", formatter_class=raw,
        description="Train an MLP (softmax cross-entropy for classes, mean squared error for the regression sets) "
                    "on a built-in\ndata set, standardised with the training set's mean and std, and write the "
                    "same run folder as demo.\nBatch, stochastic and mini-batch gradient descent are --batch-size "
                    "full, 1 and k.",
        epilog="examples:\n"
               "  tinygrad-edu train --dataset spiral --hidden 64,64 --epochs 300\n"
               "  tinygrad-edu train --dataset circle --optimizer sgd --lr 0.1 --batch-size full --check\n"
               "  tinygrad-edu train --dataset digits --hidden 32 --activation relu --epochs 20 --l2 0.1")
    _add_training_args(train, DEMO | {"dataset": "spiral", "noise": 0.1, "epochs": 200, "l2": 0.0})
    train.add_argument("--check", action="store_true",
                       help="also check gradients against finite differences and the reference backprop")

    model_defaults = {"activation": "tanh", "init": "auto", "seed": 0}
    gc = sub.add_parser(
        "gradcheck", help="check a described model's gradients and print the table", formatter_class=raw,
        description="Check the gradients of an MLP's softmax cross-entropy cost J (plus the L2 term) on a random "
                    "batch:\nevery dJ/dW[l], dJ/db[l] from backprop against central finite differences, then "
                    "against the lectures'\nhand-derived backprop in plain numpy. Exit status 1 when a check fails.",
        epilog="example:\n  tinygrad-edu gradcheck --sizes 4,5,3 --activation sigmoid --l2 0.5")
    gc.add_argument("--sizes", type=_sizes, default=[2, 4, 3], help="layer sizes n[0],...,n[L] (default 2,4,3)")
    _add_model_args(gc, model_defaults)
    gc.add_argument("--batch", type=_positive_int, default=5, help="examples in the checked batch (default 5)")
    gc.add_argument("--l2", type=_nonneg_float, default=0.0,
                    help="L2 lambda in the checked cost: J + (lambda/2m) sum ||W||^2 (default 0)")
    gc.add_argument("--eps", type=float, default=1e-6, help="finite-difference step (default 1e-6)")

    gr = sub.add_parser(
        "graph", help="draw the graph of one forward pass of a described model", formatter_class=raw,
        description="Draw the computation graph of one forward pass of an MLP (and its softmax cross-entropy cost, "
                    "with the\ngradients of one backward pass) on a random batch. Needs Graphviz to render; "
                    "otherwise writes DOT text.",
        epilog="example:\n  tinygrad-edu graph --sizes 2,3,2 --out graph.svg")
    gr.add_argument("--sizes", type=_sizes, default=[2, 3, 2], help="layer sizes (default 2,3,2)")
    _add_model_args(gr, model_defaults)
    gr.add_argument("--batch", type=_positive_int, default=4, help="examples in the forward pass (default 4)")
    gr.add_argument("--no-loss", action="store_true", help="draw only the model's output, without the cost")
    gr.add_argument("--out", type=Path, default=Path("graph.svg"),
                    help="file to write: .svg, .png, .pdf or .dot (default graph.svg)")

    pg = sub.add_parser(
        "playground", help="the TensorFlow Playground in the browser, trained by this engine", formatter_class=raw,
        description="Start a local web server with the Playground page (datasets, features, layers, play/pause; "
                    "click a neuron\nor a link for its gradient and the chain rule) and open it in the browser. "
                    "Ctrl-C stops it.",
        epilog="examples:\n  tinygrad-edu playground\n  tinygrad-edu playground --port 9000 --no-browser")
    pg.add_argument("--port", type=int, default=8765, help="port (default %(default)s; 0: any free port)")
    pg.add_argument("--host", default="127.0.0.1",
                    help="address to listen on (default %(default)s: this computer only)")
    pg.add_argument("--no-browser", action="store_true", help="do not open a browser")
    return parser


# ============================================================================ building blocks


def _limit_blas_threads(n: int) -> Any:
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return None
    return threadpool_limits(n)


def _make_model(sizes: Sequence[int], activation: str, init: str, seed: int) -> _nn.MLP:
    return _nn.MLP(list(sizes), activation=activation, init=init, seed=seed)


def _make_optimizer(name: str, params: Any, lr: float, momentum: float | None) -> Any:
    if name == "sgd":
        return _optim.SGD(params, lr=lr, momentum=0.0 if momentum is None else momentum)
    if name == "momentum":
        return _optim.Momentum(params, lr=lr, beta=0.9 if momentum is None else momentum)
    if momentum is not None:
        raise UsageError(f"--momentum applies to --optimizer sgd or momentum, not {name} (which uses its own betas)")
    if name == "rmsprop":
        return _optim.RMSprop(params, lr=lr)
    return _optim.Adam(params, lr=lr)


def _load_data(s: dict[str, Any]) -> tuple[np.ndarray, np.ndarray, str]:
    if s["dataset"] == "digits":
        X, y = load_digits()
        return X, y, "classification"
    X, y = make_dataset(s["dataset"], n=s["n"], noise=s["noise"], seed=s["seed"])
    return X, y, DATASETS[s["dataset"]][1]


def _prepare_parent(path: Path) -> None:
    """Create the folder ``path`` goes in, or say in one line why it cannot be (a usage error)."""
    for parent in (path.parent, *path.parent.parents):
        if parent.exists() and not parent.is_dir():
            raise UsageError(f"--out {path}: {parent} exists and is not a folder")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"--out {path}: cannot create the folder {path.parent} ({exc.strerror or exc})") from None


def _default_out(command: str) -> Path:
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    base = Path("runs") / f"{command}-{stamp}"
    out, k = base, 1
    while out.exists():
        k += 1
        out = Path(f"{base}-{k}")
    return out


def _prepare_out(out: Path | None, command: str) -> Path:
    out = _default_out(command) if out is None else out
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out} exists and is not a folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"--out {out}: cannot create the run folder ({exc.strerror or exc})") from None
    return out


# ============================================================================ a training run


def _available_memory() -> int | None:
    """Bytes of memory this process may use: the container's limit or the machine's RAM (None if unknown)."""
    limits = []
    try:
        limits.append(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        pass
    try:
        text = Path("/sys/fs/cgroup/memory.max").read_text().strip()
        if text.isdigit():
            limits.append(int(text))
    except OSError:
        pass
    return min(limits) if limits else None


def _check_memory(s: dict[str, Any], sizes: list[int], n_examples: int) -> None:
    """Refuse, in one line, a run whose arrays cannot fit in memory (instead of a MemoryError traceback)."""
    params = sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))
    batch = min(s["batch_size"] or n_examples, n_examples)
    # parameters with their gradients and two optimiser moments; the data set (a few copies: raw,
    # standardised, split); the activations and their gradients of one batch and of the evaluation pass
    need = 8 * (4 * params + 4 * n_examples * (sizes[0] + 1) + 4 * max(batch, min(n_examples, 20000)) * sum(sizes))
    have = _available_memory()
    if have is not None and need > have:
        raise MemoryError(
            f"this run needs about {need / 2**30:,.1f} GiB of memory (MLP {sizes}: {params:,} parameters with "
            f"their gradients and optimiser state, {n_examples:,} examples) but {have / 2**30:,.1f} GiB are "
            "available; use smaller --hidden sizes or fewer examples (--n)"
        )


def _n_examples(s: dict[str, Any]) -> int:
    return 1797 if s["dataset"] == "digits" else int(s["n"])


def run_training(s: dict[str, Any], out: Path, check: bool, command: str, verbose: int = 1) -> dict[str, Any]:
    """Train with settings ``s``, write the run folder ``out`` (:func:`tinygrad_edu.report.write_report`);
    return the metrics. Ctrl-C stops training and still writes what was done (``metrics["interrupted"]``)."""
    from .report import write_report

    t0 = time.perf_counter()
    n_examples = _n_examples(s)
    _check_memory(s, [2 if s["dataset"] != "digits" else 64, *s["hidden"], 10], n_examples)
    X, y, task = _load_data(s)
    stratify = task == "classification"
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=s["test_size"], seed=s["seed"], stratify=stratify)
    Xtr, Xte = standardize(Xtr, Xte)
    if task == "classification":
        classes = int(y.max()) + 1
        loss_fn, out_size = cross_entropy, classes
    else:
        ytr, yte = ytr[:, None], yte[:, None]
        loss_fn, out_size = mse_loss, 1
    sizes = [X.shape[1], *s["hidden"], out_size]
    model = _make_model(sizes, s["activation"], s["init"], s["seed"])
    optimizer = _make_optimizer(s["optimizer"], model.parameters(), s["lr"], s["momentum"])
    if s["optimizer"] == "sgd":  # record the value used
        s = s | {"momentum": getattr(optimizer, "momentum", s["momentum"])}
    elif s["optimizer"] == "momentum":
        s = s | {"momentum": getattr(optimizer, "beta", s["momentum"])}
    if verbose:
        print(f"tinygrad-edu {command}: {s['dataset']} ({len(ytr)} train / {len(yte)} test), MLP {sizes} "
              f"{s['activation']}, {s['optimizer']} lr={s['lr']}, batch {s['batch_size'] or 'full'}, "
              f"{s['epochs']} epochs (val_loss, val_accuracy: on the test set)", flush=True)
    # fit stops with a clear error at the first non-finite cost: numpy's overflow warnings would only precede it
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        history = fit(model, loss_fn, optimizer, (Xtr, ytr), s["epochs"], validation_data=(Xte, yte),
                      batch_size=s["batch_size"], verbose=verbose, seed=s["seed"], l2_lambda=s["l2"],
                      stop_on_interrupt=True)
    checks = None
    if check and not history.interrupted:
        rng = np.random.default_rng(s["seed"])
        idx = rng.choice(len(ytr), size=min(16, len(ytr)), replace=False)
        try:
            checks = check_gradients(model, Xtr[idx], ytr[idx], s["activation"], s["l2"], loss_fn=loss_fn)
            checks["text"] = checks_text(checks, s["activation"])
        except KeyboardInterrupt:
            history.interrupted = True
    report = write_report(history, model, out, loss_fn=loss_fn, train_data=(Xtr, ytr), test_data=(Xte, yte),
                          held_out="test", settings=s | {"sizes": sizes, "task": task}, checks=checks,
                          title=f"tinygrad-edu {command}", command=command)
    metrics = report.metrics
    metrics["seconds"] = time.perf_counter() - t0
    return metrics


# ============================================================================ commands


def _run_command(s: dict[str, Any], out_arg: Path | None, command: str, check: bool, quiet: bool) -> int:
    """demo and train: train, write the run folder, print the summary; 130 after Ctrl-C (results still written)."""
    existed = out_arg is not None and out_arg.exists()
    out = _prepare_out(out_arg, command)
    created = not existed
    try:
        m = run_training(s, out, check=check, command=command, verbose=0 if quiet else 1)
    except BaseException:
        if created and out.is_dir() and not any(out.iterdir()):
            out.rmdir()  # nothing was written: leave no empty run folder behind
        raise
    _print_summary(m, out)
    if m.get("interrupted"):
        return 130
    return 0 if checks_ok(m.get("gradcheck"), m.get("reference_check")) else 1


def _cmd_demo(args: argparse.Namespace) -> int:
    s = dict(DEMO)
    s.update(epochs=args.epochs, n=args.n, seed=args.seed)
    return _run_command(s, args.out, "demo", check=True, quiet=args.quiet)


def _cmd_train(args: argparse.Namespace) -> int:
    s = {k: getattr(args, k) for k in DEMO}
    if args.dataset == "digits" and args.n != DEMO["n"]:
        raise UsageError("--n does not apply to digits (1,797 fixed examples)")
    if args.momentum is not None and args.optimizer not in ("sgd", "momentum"):
        raise UsageError(
            f"--momentum applies to --optimizer sgd or momentum, not {args.optimizer} (which uses its own betas)"
        )
    return _run_command(s, args.out, "train", check=args.check, quiet=args.quiet)


def _print_summary(m: dict[str, Any], out: Path) -> None:
    tr, te = m["train"], m["test"]
    if m.get("interrupted"):
        print(f"interrupted: kept {len(m['history']['epochs'])} finished epoch(s) of {m['settings']['epochs']}")
    line = f"train loss {tr['loss']:.4f}, test loss {te['loss']:.4f}"
    if m["settings"].get("l2"):
        line += " (without the L2 term)"
    if "accuracy" in tr:
        line += f"; train accuracy {100 * tr['accuracy']:.1f}%, test accuracy {100 * te['accuracy']:.1f}%"
    print(line)
    if "gradcheck" in m:
        g = m["gradcheck"]
        print(f"gradient check vs finite differences: {'passed' if g['ok'] else 'FAILED'} "
              f"(max abs error {g['max_abs_error']:.2e})")
        r = m["reference_check"]
        if r.get("ok") is None:
            extra = f" ({r['skipped']})"
        else:
            extra = f" (max abs difference {r['max_abs_diff']:.2e})"
        print(f"gradient check vs the lectures' reference backprop: {reference_word(r)}{extra}")
        note = "" if checks_ok(g, r) else kink_note(g, m["settings"]["activation"])
        if note:
            print(note)
    print(f"wrote {out}/: " + ", ".join(name for name in m["files"].values() if name) + ", index.html")
    for note in m.get("notes", []):
        if note.startswith("the cost J went UP"):
            print(f"warning: {note}")
        elif note.startswith(("no figures", "Graphviz")):
            print(f"tip: {note}")
    print(f"open {out / 'index.html'} to see them ({m['seconds']:.1f} s)")


def _described_data(sizes: list[int], batch: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((batch, sizes[0]))
    y = rng.integers(0, sizes[-1], size=batch) if sizes[-1] > 1 else rng.integers(0, 2, size=batch)
    return X, y


def _cmd_gradcheck(args: argparse.Namespace) -> int:
    sizes = args.sizes
    if len(sizes) < 2 or sizes[-1] < 2:
        raise UsageError(f"--sizes needs at least an input and an output size, and >= 2 outputs (classes); got {sizes}")
    model = _make_model(sizes, args.activation, args.init, args.seed)
    X, y = _described_data(sizes, args.batch, args.seed)
    print(f"model: MLP {sizes}, {args.activation} hidden layers, softmax cross-entropy on {args.batch} random "
          f"examples (seed {args.seed}), L2 lambda {args.l2}")
    checks = check_gradients(model, X, y, args.activation, args.l2, eps=args.eps)
    print(checks_text(checks, args.activation), end="")
    return 0 if checks_ok(checks["finite_differences"], checks["reference"]) else 1


def _cmd_graph(args: argparse.Namespace) -> int:
    from .report import GraphNotRendered, draw_model_graph, save_graph

    sizes = args.sizes
    if len(sizes) < 2:
        raise UsageError(f"--sizes needs at least an input and an output size; got {sizes}")
    if args.out.suffix.lower() not in (".svg", ".png", ".pdf", ".dot", ".gv"):
        raise UsageError(f"--out must end in .svg, .png, .pdf or .dot, got {args.out}")
    model = _make_model(sizes, args.activation, args.init, args.seed)
    X, y = _described_data(sizes, args.batch, args.seed)
    with_loss = not args.no_loss and sizes[-1] >= 2
    _prepare_parent(args.out)
    graph = draw_model_graph(model, X, y if with_loss else None, cross_entropy, full=True)
    try:
        written = save_graph(graph, args.out)
    except GraphNotRendered as err:
        print(f"tinygrad-edu graph: error: {err}", file=sys.stderr)
        return 1
    print(f"wrote {written}")
    return 0


def _cmd_playground(args: argparse.Namespace) -> int:
    from .playground.server import serve  # the page's server loads only for this command

    return serve(args.host, args.port, open_browser=not args.no_browser)


COMMANDS = {"demo": _cmd_demo, "train": _cmd_train, "gradcheck": _cmd_gradcheck, "graph": _cmd_graph,
            "playground": _cmd_playground}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``tinygrad-edu``; returns the exit status (0 ok, 1 failed check or error, 2 usage)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    limiter = _limit_blas_threads(args.blas_threads)
    try:
        return COMMANDS[args.command](args)
    except UsageError as exc:
        parser.exit(2, f"{parser.prog} {args.command}: error: {exc}\n")
    except (ValueError, TypeError, ImportError, OSError, FloatingPointError) as exc:
        print(f"{parser.prog} {args.command}: error: {exc}", file=sys.stderr)
        return 1
    except MemoryError as exc:
        print(f"{parser.prog} {args.command}: error: out of memory: {exc or 'an array did not fit'}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{parser.prog}: interrupted", file=sys.stderr)
        return 130
    finally:
        if limiter is not None:
            limiter.restore_original_limits()
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

