"""Benchmark of ``Tensor``: an MLP training step and per-op overhead, against numpy and PyTorch.

Run (one process, prints a table)::

    .venv/bin/python benchmarks/bench_tensor.py [--rounds 40] [--threads 1]

(a) One SGD step of an MLP 784-256-128-10 (ReLU, softmax cross-entropy composed from
    ``log_softmax``), batch m = 128, in the lectures' layout X of shape (n_x, m),
    W[l] of shape (n[l], n[l-1]), Z[l] = W[l] A[l-1] + b[l]:
    * ``numpy``: forward, the lectures' backward formulas and the update, by hand;
    * ``Tensor``: the same forward with Tensor ops, ``loss.backward()``, the same update;
    * ``torch``: the same with PyTorch CPU autograd (when installed).
    Target: Tensor <= 1.10x numpy.
(b) Per-op overhead on a tiny array (3 elements): a chain of 100 ``mul`` ops, forward
    with graph recording and then its backward, divided by 100, against raw numpy and torch.
    Target: below torch.

Memory, in a separate pass after the timing (tracing slows allocation, so it never runs
while timing; see ``benchmarks/common.py``):
(a) the peak bytes allocated during one step (forward + backward + update) above what was
    held before it, for each variant; for Tensor also what the graph holds after the
    forward pass, after ``loss.backward()`` while ``loss`` is still referenced, after
    ``del loss`` (the parameters' ``.grad`` are still set) and after the update (``.grad``
    set to None: back to the baseline). torch's peak counts tensor storages only, from
    the profiler's memory timeline ("n/a" when that is unavailable).
(b) the bytes a recorded op keeps alive: the chain's graph while its output is referenced,
    divided by the number of ops.

BLAS threads are limited to ``--threads`` (default 1) for numpy and torch alike, so the
comparison is fair and less noisy on a shared machine.
"""

from __future__ import annotations

import argparse
import sys
import time
from functools import partial
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (  # noqa: E402
    Elapsed,
    MemoryTrace,
    environment_report,
    format_bytes,
    format_table,
    interleaved_timings,
    memory_use,
    torch_or_none,
    torch_peak_bytes,
)

from tinygrad_edu import Tensor, no_grad  # noqa: E402

SIZES = (784, 256, 128, 10)
BATCH = 128
LR = 0.1


# ============================================================== (a) MLP training step


def make_problem(dtype: type, seed: int = 0) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    """X (n_x, m), one-hot Y (n_y, m), and [W1, b1, W2, b2, W3, b3] with He initialisation."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((SIZES[0], BATCH)).astype(dtype)
    Y = np.eye(SIZES[-1], dtype=dtype)[:, rng.integers(0, SIZES[-1], BATCH)]
    params = []
    for n_prev, n in zip(SIZES[:-1], SIZES[1:]):
        params.append((rng.standard_normal((n, n_prev)) * np.sqrt(2.0 / n_prev)).astype(dtype))
        params.append(np.zeros((n, 1), dtype=dtype))
    return X, Y, params


def numpy_step(X: np.ndarray, Y: np.ndarray, params: list[np.ndarray]) -> float:
    """Forward, the lectures' backward formulas, and SGD, written by hand in numpy.

    dZ[L] = A[L] - Y;  dW[l] = (1/m) dZ[l] A[l-1]^T;  db[l] = (1/m) sum_i dZ[l];
    dA[l-1] = W[l]^T dZ[l];  dZ[l] = dA[l] * g'(Z[l]) with relu'(z) = 1 if z > 0 else 0.
    """
    W1, b1, W2, b2, W3, b3 = params
    m = X.shape[1]
    Z1 = W1 @ X + b1
    A1 = np.maximum(Z1, 0)
    Z2 = W2 @ A1 + b2
    A2 = np.maximum(Z2, 0)
    Z3 = W3 @ A2 + b3
    shifted = Z3 - Z3.max(axis=0, keepdims=True)
    log_A3 = shifted - np.log(np.exp(shifted).sum(axis=0, keepdims=True))  # log softmax
    loss = -(Y * log_A3).sum() / m
    dZ3 = np.exp(log_A3) - Y
    dW3, db3 = dZ3 @ A2.T / m, dZ3.sum(axis=1, keepdims=True) / m
    dZ2 = (W3.T @ dZ3) * (Z2 > 0)
    dW2, db2 = dZ2 @ A1.T / m, dZ2.sum(axis=1, keepdims=True) / m
    dZ1 = (W2.T @ dZ2) * (Z1 > 0)
    dW1, db1 = dZ1 @ X.T / m, dZ1.sum(axis=1, keepdims=True) / m
    for p, g in zip(params, (dW1, db1, dW2, db2, dW3, db3)):
        p -= LR * g
    return float(loss)


def tensor_loss(X: Tensor, Y: Tensor, params: list[Tensor]) -> Tensor:
    """The forward pass from Tensor ops: J = -(1/m) sum Y * log softmax(Z[3])."""
    W1, b1, W2, b2, W3, b3 = params
    A1 = (W1 @ X + b1).relu()
    A2 = (W2 @ A1 + b2).relu()
    Z3 = W3 @ A2 + b3
    return -(Z3.log_softmax(axis=0) * Y).sum() * (1.0 / X.shape[1])


def sgd_update(params: list[Tensor]) -> None:
    """W <- W - lr dW on ``.data``, then drop the gradients (``.grad = None``)."""
    for p in params:
        p.data -= LR * p.grad.data
        p.grad = None


def tensor_step(X: Tensor, Y: Tensor, params: list[Tensor]) -> float:
    """The same step from Tensor ops: forward, ``loss.backward()``, SGD on ``.data``."""
    loss = tensor_loss(X, Y, params)
    loss.backward()
    sgd_update(params)
    return loss.item()


def torch_step(torch, X, Y, params) -> float:  # noqa: ANN001 - torch objects
    """The same step with PyTorch autograd."""
    W1, b1, W2, b2, W3, b3 = params
    A1 = torch.relu(W1 @ X + b1)
    A2 = torch.relu(W2 @ A1 + b2)
    Z3 = W3 @ A2 + b3
    loss = -(torch.log_softmax(Z3, dim=0) * Y).sum() * (1.0 / X.shape[1])
    loss.backward()
    with torch.no_grad():
        for p in params:
            p -= LR * p.grad
            p.grad = None
    return loss.item()


def check_steps_agree(dtype: type) -> None:
    """All variants compute the same step (else the timing compares different work)."""
    X, Y, params = make_problem(dtype)
    ref = [p.copy() for p in params]
    loss_np = numpy_step(X, Y, ref)
    tparams = [Tensor(p.copy(), requires_grad=True) for p in params]
    loss_t = tensor_step(Tensor(X), Tensor(Y), tparams)
    tol = 1e-4 if dtype == np.float32 else 1e-10
    assert abs(loss_np - loss_t) <= tol * abs(loss_np), (loss_np, loss_t)
    for a, b in zip(ref, tparams):
        np.testing.assert_allclose(b.data, a, rtol=tol * 10, atol=tol)


def mlp_variants(dtype: type) -> dict[str, partial]:
    """One step of each variant, each on its own copy of the same problem."""
    torch = torch_or_none()
    X, Y, params = make_problem(dtype)
    variants = {
        "numpy (hand-written)": partial(numpy_step, X, Y, [p.copy() for p in params]),
        "Tensor": partial(tensor_step, Tensor(X), Tensor(Y), [Tensor(p.copy(), requires_grad=True) for p in params]),
    }
    if torch is not None:
        pX, pY = torch.from_numpy(X.copy()), torch.from_numpy(Y.copy())
        p_params = [torch.tensor(p.copy(), requires_grad=True) for p in params]
        variants["torch"] = partial(torch_step, torch, pX, pY, p_params)
    return variants


def bench_mlp(rounds: int) -> list[list[object]]:
    rows = []
    for dtype in (np.float32, np.float64):
        check_steps_agree(dtype)
        timings = interleaved_timings(mlp_variants(dtype), rounds=rounds)
        base = timings["numpy (hand-written)"]
        for name, t in timings.items():
            rows.append([
                np.dtype(dtype).name, name, f"{t.best * 1e3:.3f}", f"{t.median * 1e3:.3f}",
                f"{t.best / base.best:.3f}x", f"{t.median / base.median:.3f}x",
            ])
    return rows


def mlp_step_memory() -> list[list[object]]:
    """Peak bytes of one step per variant (after a warm-up step), and the ratio to numpy's."""
    torch = torch_or_none()
    rows = []
    for dtype in (np.float32, np.float64):
        peaks = {}
        for name, step in mlp_variants(dtype).items():
            step()  # warm-up: caches filled, .grad buffers of the previous step released
            peaks[name] = torch_peak_bytes(torch, step) if name == "torch" else memory_use(step).peak
        base = peaks["numpy (hand-written)"]
        for name, peak in peaks.items():
            shown = ("n/a", "n/a") if peak is None else (format_bytes(peak), f"{peak / base:.2f}x")
            rows.append([np.dtype(dtype).name, name, *shown])
    return rows


def mlp_graph_memory() -> list[list[object]]:
    """What the Tensor step holds above its baseline after each phase (graph, gradients)."""
    rows = []
    for dtype in (np.float32, np.float64):
        X, Y, params = make_problem(dtype)
        tX, tY = Tensor(X), Tensor(Y)
        t_params = [Tensor(p, requires_grad=True) for p in params]
        tensor_step(tX, tY, t_params)  # warm-up
        with MemoryTrace() as trace:
            loss = tensor_loss(tX, tY, t_params)
            after_forward = trace.held()
            loss.backward()
            after_backward = trace.held()
            del loss
            after_del = trace.held()
            sgd_update(t_params)
            after_update = trace.held()
        param_bytes = sum(p.nbytes for p in params)
        rows.append([np.dtype(dtype).name, *map(format_bytes, (
            after_forward, after_backward, after_del, after_update, param_bytes))])
    return rows


# ============================================================== (b) per-op overhead

CHAIN = 100


def bench_overhead(rounds: int) -> list[list[object]]:
    torch = torch_or_none()
    a = np.array([0.5, -1.0, 2.0])
    b = np.array([1.0001, 0.9999, 1.0])
    x, y = Tensor(a, requires_grad=True), Tensor(b)
    seed = np.ones(3)

    def numpy_chain() -> None:
        z = a
        for _ in range(CHAIN):
            z = z * b

    def tensor_chain():  # noqa: ANN202
        z = x
        for _ in range(CHAIN):
            z = z * y
        return z

    def tensor_chain_no_grad() -> None:
        with no_grad():
            tensor_chain()

    def tensor_backward() -> Elapsed:
        z = tensor_chain()
        start = time.perf_counter()
        z.backward(gradient=seed)
        elapsed = time.perf_counter() - start
        x.grad = None
        return Elapsed(elapsed)

    variants = {
        "numpy": numpy_chain,
        "Tensor forward (graph)": tensor_chain,
        "Tensor forward (no_grad)": tensor_chain_no_grad,
        "Tensor backward": tensor_backward,
    }
    if torch is not None:
        tx, ty = torch.tensor(a, requires_grad=True), torch.tensor(b)
        tseed = torch.ones(3, dtype=torch.float64)

        def torch_chain():  # noqa: ANN202
            z = tx
            for _ in range(CHAIN):
                z = z * ty
            return z

        def torch_backward() -> Elapsed:
            z = torch_chain()
            start = time.perf_counter()
            z.backward(tseed)
            elapsed = time.perf_counter() - start
            tx.grad = None
            return Elapsed(elapsed)

        variants["torch forward (graph)"] = torch_chain
        variants["torch backward"] = torch_backward
    timings = interleaved_timings(variants, rounds=rounds)
    return [
        [name, f"{t.best / CHAIN * 1e6:.2f}", f"{t.median / CHAIN * 1e6:.2f}"] for name, t in timings.items()
    ]


def op_memory() -> list[list[object]]:
    """Bytes per recorded op: the chain's graph held while its output is referenced, / CHAIN."""
    a, b = np.array([0.5, -1.0, 2.0]), np.array([1.0001, 0.9999, 1.0])
    x, y = Tensor(a, requires_grad=True), Tensor(b)
    one_array = memory_use(lambda: a * b).retained
    with MemoryTrace() as trace:
        z = x
        for _ in range(CHAIN):
            z = z * y
        recorded = trace.held()
        z.backward(gradient=np.ones(3))
        after_backward = trace.held()
    return [
        ["numpy: one 3-element result array", f"{one_array:.0f}"],
        ["Tensor op in a recorded graph", f"{recorded / CHAIN:.0f}"],
        ["Tensor op after backward (graph still referenced)", f"{after_backward / CHAIN:.0f}"],
        ["torch", "n/a (autograd nodes live outside Python's allocator)"],
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=40, help="samples per variant (min and median reported)")
    parser.add_argument("--threads", type=int, default=1, help="BLAS/torch threads (default 1)")
    args = parser.parse_args()

    from threadpoolctl import threadpool_limits

    torch = torch_or_none()
    if torch is not None:
        torch.set_num_threads(args.threads)
    with threadpool_limits(limits=args.threads):
        print(environment_report())
        print(f"BLAS threads limited to {args.threads}; {args.rounds} interleaved rounds per variant\n")
        print(f"(a) one SGD step, MLP {'-'.join(map(str, SIZES))}, ReLU, softmax cross-entropy, batch {BATCH}")
        print(format_table(
            ["dtype", "variant", "min ms", "median ms", "min vs numpy", "median vs numpy"], bench_mlp(args.rounds)
        ))
        print(f"\n(b) per-op overhead: chain of {CHAIN} `mul` on 3-element float64 arrays, per op")
        print(format_table(["variant", "min us/op", "median us/op"], bench_overhead(args.rounds)))

        print("\nMemory (tracemalloc, a separate pass after the timing)")
        print("(a) peak bytes allocated during one step (forward + backward + update), above the bytes held before it")
        print(format_table(["dtype", "variant", "peak", "vs numpy"], mlp_step_memory()))
        print("\n(a) bytes the Tensor step holds above its baseline, after each phase")
        print(format_table(
            ["dtype", "after forward", "after backward (loss alive)", "after `del loss` (.grad set)",
             "after update (.grad None)", "parameters (for scale)"],
            mlp_graph_memory(),
        ))
        print(f"\n(b) bytes held per recorded `mul` op (chain of {CHAIN} on 3-element float64 arrays)")
        print(format_table(["what", "bytes per op"], op_memory()))


if __name__ == "__main__":
    main()
