"""Training steps where users train: MLP (written out and the nn path), a small CNN, the Playground net.

Run (one process; one table per workload, its variants timed in interleaved rounds)::

    .venv/bin/python benchmarks/bench_training.py [--rounds 20] [--threads 1] [--only mlp,cnn,tiny]

Every table compares one SGD training step (forward, backward, update) against the same
step written by hand in numpy (the lectures' formulas, updates in place), and reports the
minimum over rounds (the least-disturbed run) and its ratio to numpy's minimum. Before
timing, every variant is run once from the same initial parameters and must reach the
same loss and parameters as numpy (else the timing would compare different work).

Workloads (the rows of issue 16's table):

* ``mlp``: MLP 784-256-128-10, ReLU, softmax cross-entropy, float64, batch 128 and 32.
  Variants: numpy; ours with Tensor ops written out (``x @ W.T + b``, ``log_softmax``);
  ours the nn path (``nn.Linear`` + ``nn.cross_entropy`` + ``optim.SGD``), eager and under
  ``tg.jit``; torch written out and its nn path (when installed).
* ``cnn``: conv 3x3 1->8 (padding 1), ReLU, max-pool 2, linear 8*14*14->10, softmax
  cross-entropy, batch 64 of 28x28 images. numpy: tuned im2col (``as_strided`` patches,
  one matmul; one input channel, so dX is not needed), max-pool as the maximum of 4
  strided slices and its gradient through their masks. Ours: ``Conv2d`` default
  method, ``method="shifted"``, and the default under ``tg.jit``; torch (when installed).
* ``tiny``: the Playground's net 2-4-2-1 (tanh everywhere, J = (1/m) sum 1/2 (a - y)^2,
  labels +-1, as ``tinygrad_edu.playground``), batch 10: numpy, ours eager, ours under ``tg.jit``.

Memory (tracemalloc, a separate pass after the timing): peak bytes of one nn-path MLP
step above what was held before it, against the numpy step's.

BLAS threads are limited to ``--threads`` (default 1) for numpy and torch alike.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
from numpy.lib.stride_tricks import as_strided

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import environment_report, format_bytes, format_table, interleaved_timings, memory_use, torch_or_none  # noqa: E402,I001

import tinygrad_edu as tg  # noqa: E402
from tinygrad_edu import Tensor, nn, optim  # noqa: E402

LR = 0.05


def _softmax_rows(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


# ============================================================== MLP 784-256-128-10


class MLPProblem:
    """Data, labels and He-initialised parameters [W1, b1, W2, b2, W3, b3] (batch first, W (n[l], n[l-1]))."""

    sizes = (784, 256, 128, 10)

    def __init__(self, batch: int, seed: int = 0) -> None:
        rng = np.random.default_rng(seed)
        self.X = rng.standard_normal((batch, self.sizes[0]))
        self.labels = rng.integers(0, self.sizes[-1], batch)
        self.Y = np.eye(self.sizes[-1])[self.labels]
        self.params = []
        for n_prev, n in zip(self.sizes[:-1], self.sizes[1:]):
            self.params += [rng.standard_normal((n, n_prev)) * np.sqrt(2.0 / n_prev), np.zeros(n)]

    def copies(self) -> list[np.ndarray]:
        return [p.copy() for p in self.params]


def numpy_mlp_step(X: np.ndarray, Y: np.ndarray, params: list[np.ndarray]) -> float:
    """The lectures' formulas, batch first: dZ[L] = (A[L] - Y)/m, dW = dZ^T A, db = sum dZ, dA = dZ W."""
    W1, b1, W2, b2, W3, b3 = params
    m = X.shape[0]
    Z1 = X @ W1.T + b1
    A1 = np.maximum(Z1, 0)
    Z2 = A1 @ W2.T + b2
    A2 = np.maximum(Z2, 0)
    Z3 = A2 @ W3.T + b3
    shifted = Z3 - Z3.max(axis=1, keepdims=True)
    log_a = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = -(Y * log_a).sum() / m
    dZ3 = (np.exp(log_a) - Y) / m
    dZ2 = (dZ3 @ W3) * (Z2 > 0)
    dZ1 = (dZ2 @ W2) * (Z1 > 0)
    grads = (dZ1.T @ X, dZ1.sum(axis=0), dZ2.T @ A1, dZ2.sum(axis=0), dZ3.T @ A2, dZ3.sum(axis=0))
    for p, g in zip(params, grads):
        p -= LR * g
    return float(loss)


def written_out_step(X: Tensor, Y: Tensor, params: list[Tensor]) -> float:
    """Tensor ops written out (composed matmul and log_softmax), backward, SGD on .data in place."""
    W1, b1, W2, b2, W3, b3 = params
    A1 = (X @ W1.T + b1).relu()
    A2 = (A1 @ W2.T + b2).relu()
    Z3 = A2 @ W3.T + b3
    loss = -(Z3.log_softmax(axis=1) * Y).sum() * (1.0 / X.shape[0])
    loss.backward()
    for p in params:
        p.data -= LR * p.grad.data
        p.grad = None
    return loss.item()


def nn_model(params: list[np.ndarray]) -> nn.Module:
    model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 10))
    for p, value in zip(model.parameters(), params):
        p.data[...] = value
    return model


def nn_step_function(model: nn.Module) -> Callable[[np.ndarray, np.ndarray], Tensor]:
    """What users write: nn.Linear layers, nn.cross_entropy on labels, optim.SGD."""
    opt = optim.SGD(model.parameters(), lr=LR)

    def step(x: np.ndarray, labels: np.ndarray) -> Tensor:
        opt.zero_grad()
        loss = nn.cross_entropy(model(x), labels)
        loss.backward()
        opt.step()
        return loss

    return step


def torch_written_out_step(torch, X, Y, params) -> float:  # noqa: ANN001
    W1, b1, W2, b2, W3, b3 = params
    A1 = torch.relu(X @ W1.T + b1)
    A2 = torch.relu(A1 @ W2.T + b2)
    loss = -(torch.log_softmax(A2 @ W3.T + b3, dim=1) * Y).sum() * (1.0 / X.shape[0])
    loss.backward()
    with torch.no_grad():
        for p in params:
            p -= LR * p.grad
            p.grad = None
    return loss.item()


def torch_nn_step_function(torch, params: list[np.ndarray]):  # noqa: ANN001, ANN201
    tnn = torch.nn
    model = tnn.Sequential(tnn.Linear(784, 256), tnn.ReLU(), tnn.Linear(256, 128), tnn.ReLU(), tnn.Linear(128, 10))
    model = model.double()
    with torch.no_grad():
        for p, value in zip(model.parameters(), params):
            p.copy_(torch.from_numpy(value))
    opt = torch.optim.SGD(model.parameters(), lr=LR)

    def step(x, labels):  # noqa: ANN001, ANN202
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(x), labels)
        loss.backward()
        opt.step()
        return loss.item()

    return step, model


def mlp_variants(batch: int) -> dict[str, Callable[[], object]]:
    """Each variant on its own copy of one problem, after checking one step of each against numpy."""
    problem = MLPProblem(batch)
    X, Y, labels = problem.X, problem.Y, problem.labels
    reference = problem.copies()
    want_loss = numpy_mlp_step(X, Y, reference)

    def agree(name: str, loss: float, params: list[np.ndarray]) -> None:
        assert abs(loss - want_loss) <= 1e-10 * abs(want_loss), (name, loss, want_loss)
        for a, b in zip(params, reference):
            np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12, err_msg=name)

    variants: dict[str, Callable[[], object]] = {}
    np_params = problem.copies()
    variants["numpy (hand-written)"] = lambda: numpy_mlp_step(X, Y, np_params)
    t_params = [Tensor(p, requires_grad=True) for p in problem.copies()]
    agree("written out", written_out_step(Tensor(X), Tensor(Y), t_params), [p.data for p in t_params])
    tX, tY = Tensor(X), Tensor(Y)
    variants["ours, Tensor ops written out"] = lambda: written_out_step(tX, tY, t_params)
    for name, wrap in (("ours, nn path", lambda f: f), ("ours, nn path + tg.jit", tg.jit)):
        model = nn_model(problem.params)
        step = wrap(nn_step_function(model))
        agree(name, step(X, labels).item(), [p.data for p in model.parameters()])
        variants[name] = lambda step=step: step(X, labels)
    torch = torch_or_none()
    if torch is not None:
        pX, pY, plabels = torch.from_numpy(X.copy()), torch.from_numpy(Y.copy()), torch.from_numpy(labels)
        p_params = [torch.tensor(p, requires_grad=True) for p in problem.copies()]
        agree("torch written out", torch_written_out_step(torch, pX, pY, p_params),
              [p.detach().numpy() for p in p_params])
        variants["torch, written out"] = lambda: torch_written_out_step(torch, pX, pY, p_params)
        step, model = torch_nn_step_function(torch, problem.params)
        agree("torch nn", step(pX, plabels), [p.detach().numpy() for p in model.parameters()])
        variants["torch, nn path"] = lambda: step(pX, plabels)
    return variants


def mlp_memory(batch: int) -> list[list[str]]:
    """Peak bytes of one step (after a warm-up step) of the numpy and nn-path variants."""
    variants = mlp_variants(batch)
    rows, base = [], None
    for name in ("numpy (hand-written)", "ours, nn path", "ours, nn path + tg.jit"):
        variants[name]()
        peak = memory_use(variants[name]).peak
        base = base or peak
        rows.append([f"b{batch}", name, format_bytes(peak), f"{peak / base:.2f}x"])
    return rows


# ============================================================== small CNN


class CNNProblem:
    """conv 3x3 1->8 (pad 1), ReLU, max-pool 2, linear 8*14*14 -> 10; batch of 28x28 images."""

    def __init__(self, batch: int = 64, seed: int = 0) -> None:
        rng = np.random.default_rng(seed)
        self.X = rng.standard_normal((batch, 1, 28, 28))
        self.labels = rng.integers(0, 10, batch)
        self.Y = np.eye(10)[self.labels]
        self.params = [
            rng.standard_normal((8, 1, 3, 3)) * np.sqrt(2.0 / 9), np.zeros(8),
            rng.standard_normal((10, 8 * 14 * 14)) * np.sqrt(2.0 / (8 * 14 * 14)), np.zeros(10),
        ]

    def copies(self) -> list[np.ndarray]:
        return [p.copy() for p in self.params]


def numpy_cnn_step(X: np.ndarray, Y: np.ndarray, params: list[np.ndarray]) -> float:
    """Tuned hand-written numpy: im2col by as_strided, pooling by strided slices (no dX: the input is data)."""
    K, c, W, b = params
    n, _, h, w = X.shape
    xp = np.pad(X, ((0, 0), (0, 0), (1, 1), (1, 1)))
    sn, sc, sh, sw = xp.strides
    cols = as_strided(xp, (1, 3, 3, n, h, w), (sc, sh, sw, sn, sh, sw)).reshape(9, n * h * w)
    Z = (K.reshape(8, 9) @ cols).reshape(8, n, h, w).transpose(1, 0, 2, 3) + c.reshape(1, 8, 1, 1)
    A = np.maximum(Z, 0)
    offsets = [(slice(None), slice(None), slice(u, None, 2), slice(v, None, 2)) for u in (0, 1) for v in (0, 1)]
    P = A[offsets[0]].copy()
    for window in offsets[1:]:
        np.maximum(P, A[window], out=P)
    F = P.reshape(n, -1)
    Z2 = F @ W.T + b
    shifted = Z2 - Z2.max(axis=1, keepdims=True)
    log_a = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = -(Y * log_a).sum() / n
    dZ2 = (np.exp(log_a) - Y) / n
    dW, db = dZ2.T @ F, dZ2.sum(axis=0)
    dP = (dZ2 @ W).reshape(P.shape)
    is_max = [A[window] == P for window in offsets]
    share = dP / sum(is_max)  # ties split the gradient evenly
    dA = np.empty_like(A)
    for window, mask in zip(offsets, is_max):
        np.multiply(mask, share, out=dA[window])
    dZ = dA * (Z > 0)
    dZ_rows = dZ.transpose(1, 0, 2, 3).reshape(8, -1)
    dK, dc = (dZ_rows @ cols.T).reshape(K.shape), dZ_rows.sum(axis=1)
    for p, g in zip(params, (dK, dc, dW, db)):
        p -= LR * g
    return float(loss)


def cnn_model(params: list[np.ndarray], method: str = "auto") -> nn.Module:
    model = nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1, method=method), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
        nn.Linear(8 * 14 * 14, 10),
    )
    for p, value in zip(model.parameters(), params):
        p.data[...] = value
    return model


def cnn_variants() -> dict[str, Callable[[], object]]:
    problem = CNNProblem()
    X, Y, labels = problem.X, problem.Y, problem.labels
    reference = problem.copies()
    want_loss = numpy_cnn_step(X, Y, reference)
    np_params = problem.copies()
    variants: dict[str, Callable[[], object]] = {"numpy (tuned im2col)": lambda: numpy_cnn_step(X, Y, np_params)}
    for name, method, wrap in (
        ("ours, Conv2d default", "auto", lambda f: f),
        ("ours, Conv2d method='shifted'", "shifted", lambda f: f),
        ("ours, Conv2d default + tg.jit", "auto", tg.jit),
    ):
        model = cnn_model(problem.params, method)
        step = wrap(nn_step_function(model))
        loss = step(X, labels).item()
        assert abs(loss - want_loss) <= 1e-10 * abs(want_loss), (name, loss, want_loss)
        for a, b in zip(model.parameters(), reference):
            np.testing.assert_allclose(a.data, b, rtol=1e-9, atol=1e-12, err_msg=name)
        variants[name] = lambda step=step: step(X, labels)
    torch = torch_or_none()
    if torch is not None:
        tnn = torch.nn
        model = tnn.Sequential(tnn.Conv2d(1, 8, 3, padding=1), tnn.ReLU(), tnn.MaxPool2d(2), tnn.Flatten(),
                               tnn.Linear(8 * 14 * 14, 10)).double()
        with torch.no_grad():
            for p, value in zip(model.parameters(), problem.params):
                p.copy_(torch.from_numpy(value))
        opt = torch.optim.SGD(model.parameters(), lr=LR)
        pX, plabels = torch.from_numpy(X.copy()), torch.from_numpy(labels)

        def torch_step() -> float:
            opt.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(pX), plabels)
            loss.backward()
            opt.step()
            return loss.item()

        loss = torch_step()
        assert abs(loss - want_loss) <= 1e-10 * abs(want_loss), ("torch", loss, want_loss)
        variants["torch"] = torch_step
    return variants


# ============================================================== Playground net 2-4-2-1


def numpy_tiny_step(X: np.ndarray, Y: np.ndarray, params: list[np.ndarray]) -> float:
    """The Playground's net: tanh everywhere, J = (1/m) sum 1/2 (a[3] - y)^2, so dZ[3] = (A[3] - Y)(1 - A[3]^2)/m."""
    W1, b1, W2, b2, W3, b3 = params
    m = X.shape[0]
    A1 = np.tanh(X @ W1.T + b1)
    A2 = np.tanh(A1 @ W2.T + b2)
    A3 = np.tanh(A2 @ W3.T + b3)
    diff = A3 - Y
    loss = 0.5 * (diff * diff).sum() / m
    dZ3 = diff * (1 - A3 * A3) / m
    dZ2 = (dZ3 @ W3) * (1 - A2 * A2)
    dZ1 = (dZ2 @ W2) * (1 - A1 * A1)
    grads = (dZ1.T @ X, dZ1.sum(axis=0), dZ2.T @ A1, dZ2.sum(axis=0), dZ3.T @ A2, dZ3.sum(axis=0))
    for p, g in zip(params, grads):
        p -= LR * g
    return float(loss)


def tiny_variants() -> dict[str, Callable[[], object]]:
    """The Playground's net (``tinygrad_edu.playground``): 2-4-2-1, tanh, half squared error, labels +-1."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((10, 2))
    Y = np.where(X[:, :1] * X[:, 1:] > 0, 1.0, -1.0)  # the XOR-like quadrants
    init = nn.MLP([2, 4, 2, 1], activation="tanh", output_activation="tanh", seed=0)
    params = [p.data.copy() for p in init.parameters()]
    reference = [p.copy() for p in params]
    want_loss = numpy_tiny_step(X, Y, reference)
    np_params = [p.copy() for p in params]
    variants: dict[str, Callable[[], object]] = {"numpy (hand-written)": lambda: numpy_tiny_step(X, Y, np_params)}
    for name, wrap in (("ours, eager", lambda f: f), ("ours, tg.jit", tg.jit)):
        model = nn.MLP([2, 4, 2, 1], activation="tanh", output_activation="tanh", seed=0)
        opt = optim.SGD(model.parameters(), lr=LR)

        def step(x: np.ndarray, y: np.ndarray, model: nn.Module = model, opt: optim.Optimizer = opt) -> Tensor:
            opt.zero_grad()
            loss = 0.5 * nn.mse_loss(model(x), y)
            loss.backward()
            opt.step()
            return loss

        step = wrap(step)
        loss = step(X, Y).item()
        assert abs(loss - want_loss) <= 1e-10 * abs(want_loss), (name, loss, want_loss)
        for a, b in zip(model.parameters(), reference):
            np.testing.assert_allclose(a.data, b, rtol=1e-9, atol=1e-12, err_msg=name)
        variants[name] = lambda step=step: step(X, Y)
    return variants


# ============================================================== tables


def timing_table(variants: dict[str, Callable[[], object]], rounds: int, number: int = 1) -> str:
    timings = interleaved_timings(variants, rounds=rounds, number=number)
    base = next(iter(timings.values()))
    rows = [
        [name, f"{t.best * 1e3:.3f}", f"{t.median * 1e3:.3f}", f"{t.best / base.best:.2f}x",
         f"{t.median / base.median:.2f}x"]
        for name, t in timings.items()
    ]
    return format_table(["variant", "min ms", "median ms", "min vs numpy", "median vs numpy"], rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20, help="interleaved rounds per table (min and median)")
    parser.add_argument("--threads", type=int, default=1, help="BLAS/torch threads (default 1)")
    parser.add_argument("--only", default="mlp,cnn,tiny", help="comma-separated workloads: mlp, cnn, tiny")
    args = parser.parse_args()
    only = set(args.only.split(","))

    from threadpoolctl import threadpool_limits

    torch = torch_or_none()
    if torch is not None:
        torch.set_num_threads(args.threads)
    with threadpool_limits(limits=args.threads):
        print(environment_report())
        print(f"BLAS threads limited to {args.threads}; {args.rounds} interleaved rounds per table; float64\n")
        if "mlp" in only:
            for batch in (128, 32):
                print(f"MLP 784-256-128-10, ReLU, softmax cross-entropy, SGD, batch {batch}")
                print(timing_table(mlp_variants(batch), args.rounds), "\n")
        if "cnn" in only:
            print("small CNN: conv 3x3 1->8 pad 1, ReLU, max-pool 2, linear 1568->10, batch 64 of 28x28")
            print(timing_table(cnn_variants(), args.rounds), "\n")
        if "tiny" in only:
            print("Playground net 2-4-2-1 (tanh, half squared error), batch 10 (100 steps per sample)")
            print(timing_table(tiny_variants(), args.rounds, number=100), "\n")
        if "mlp" in only:
            print("Memory: peak bytes of one MLP step above those held before it (tracemalloc, after the timing)")
            print(format_table(["batch", "variant", "peak", "vs numpy"], mlp_memory(128) + mlp_memory(32)))


if __name__ == "__main__":
    main()
