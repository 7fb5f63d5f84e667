"""Benchmark the scalar ``Value`` engine against micrograd, in the same process.

1. One training step (forward, loss, zero_grad, backward) of MLP(2, [16, 16, 1]) on 100
   points with the mean squared error, for
   * tinygrad_edu's Value MLP (:mod:`tinygrad_edu.value_nn`: z = Value.dot(w, x) + b),
   * the same network built the micrograd way on our engine (z = sum(w_i * x_i) + b, one
     node per product), which isolates the engine from the fused ``dot`` node,
   * micrograd 0.1.0 from PyPI (``pip install micrograd==0.1.0``), when installed.
   Each is timed with Python's cyclic garbage collector on (what a user gets) and off
   (the interpreter's work alone: micrograd's closures form reference cycles, so it pays
   the collector much more than we do). Ratios are micrograd's time / ours.
2. A chain of 1,000,000 ops c <- c * k: build, then backward (micrograd's recursive
   topological sort cannot do this; it is shown failing on a 10,000-op chain).
3. Memory, with tracemalloc in a separate pass after the timing (see ``common.py``): the
   bytes the step's graph holds once forward and loss are built (before backward), per
   graph node, for each contender; and the chain's bytes per op after building it and its
   peak during build + backward.

Run:  python benchmarks/bench_value.py [--repeat N] [--chain N]
"""

from __future__ import annotations

import argparse
import gc
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import MemoryTrace, environment_report, format_bytes, memory_use  # noqa: E402

from tinygrad_edu import Value  # noqa: E402
from tinygrad_edu.value_nn import MLP  # noqa: E402

try:  # optional
    from micrograd.engine import Value as MicroValue
    from micrograd.nn import MLP as MicroMLP
except ImportError:  # pragma: no cover - depends on the environment
    MicroValue = MicroMLP = None


def machine_info() -> str:
    """The environment (see ``common.environment_report``) and whether micrograd is installed."""
    installed = MicroMLP is not None
    micrograd = "0.1.0 installed" if installed else "not installed (pip install micrograd==0.1.0)"
    return f"{environment_report(include_torch=False)}\nmicrograd: {micrograd}"


def timed(step: Callable[[], None], repeat: int, gc_on: bool) -> list[float]:
    """Seconds per call of ``step``, after one warm-up call."""
    step()
    times = []
    was_enabled = gc.isenabled()
    try:
        if not gc_on:
            gc.collect()
            gc.disable()
        for _ in range(repeat):
            start = time.perf_counter()
            step()
            times.append(time.perf_counter() - start)
    finally:
        if was_enabled:
            gc.enable()
    return times


def product_sum_forward(model: MLP, x: list[float]) -> Value:
    """``model(x)`` built with micrograd's graph: z = sum_i (w_i * x_i) + b, one node per product."""
    a: list = x
    for layer in model.layers:
        outputs = []
        for neuron in layer.neurons:
            z = Value.sum([*(w * x_i for w, x_i in zip(neuron.w, a)), neuron.b])
            outputs.append(z.relu() if neuron.activation == "relu" else z)
        a = outputs
    return a[0]


def mlp_loss_ours(
    model: MLP, X: list[list[float]], y: list[float], forward: Callable[[MLP, list[float]], Value] | None = None
) -> Callable[[], Value]:
    """Builds the step's graph on our engine: J = (1/m) sum_i (yhat_i - y_i)^2."""
    forward = forward or MLP.__call__

    def build() -> Value:
        preds = [forward(model, x) for x in X]
        return Value.sum([(p - t) ** 2 for p, t in zip(preds, y)]) * (1.0 / len(X))

    return build


def mlp_loss_micrograd(model: object, X: list[list[float]], y: list[float]) -> Callable[[], object]:
    """Builds the same graph with micrograd."""

    def build() -> object:
        preds = [model(x) for x in X]
        return sum((p - t) ** 2 for p, t in zip(preds, y)) * (1.0 / len(X))

    return build


def training_step(build_loss: Callable[[], object], zero_grad: Callable[[], None]) -> Callable[[], None]:
    """Forward and loss, zero the parameters' gradients, backward."""

    def step() -> None:
        loss = build_loss()
        zero_grad()
        loss.backward()

    return step


def graph_builders() -> dict[str, tuple[Callable[[], object], Callable[[], None]]]:
    """Each contender's (graph builder, zero_grad) on the same data and network shape."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(100, 2)).tolist()
    y = rng.choice([-1.0, 1.0], size=100).tolist()
    random.seed(0)  # micrograd initialises with the random module
    dot_model, product_model = MLP(2, [16, 16, 1], seed=0), MLP(2, [16, 16, 1], seed=0)
    builders = {
        "tinygrad_edu (dot nodes)": (mlp_loss_ours(dot_model, X, y), dot_model.zero_grad),
        "tinygrad_edu (product nodes)": (
            mlp_loss_ours(product_model, X, y, product_sum_forward), product_model.zero_grad
        ),
    }
    if MicroMLP is not None:
        micro_model = MicroMLP(2, [16, 16, 1])
        builders["micrograd 0.1.0"] = (mlp_loss_micrograd(micro_model, X, y), micro_model.zero_grad)
    return builders


def count_nodes(root: object, parents: Callable[[object], object]) -> int:
    """Distinct nodes reachable from ``root`` (iteratively; ``parents(node)`` lists a node's inputs)."""
    seen, stack = {id(root)}, [root]
    while stack:
        for parent in parents(stack.pop()):
            if id(parent) not in seen:
                seen.add(id(parent))
                stack.append(parent)
    return len(seen)


def bench_graph_memory() -> None:
    print("\n## Memory of the step's graph (forward + loss built, before backward; tracemalloc)")
    print("bytes held above the baseline while `loss` is referenced, per graph node (all Values, leaves too)\n")
    per_node, held = {}, {}
    for name, (build_loss, _) in graph_builders().items():
        build_loss()  # warm-up
        use = memory_use(build_loss)
        parents = (lambda v: v._prev) if name.startswith("micrograd") else (lambda v: v._parents)
        nodes = count_nodes(use.result, parents)
        held[name], per_node[name] = use.retained, use.retained / nodes
        print(f"  {name:30s} {format_bytes(use.retained):>10s} held, {nodes:6d} nodes, "
              f"{per_node[name]:5.0f} B/node, peak while building {format_bytes(use.peak)}")
    reference = per_node.get("micrograd 0.1.0")
    if reference:
        for name, b in per_node.items():
            if not name.startswith("micrograd"):
                print(f"  micrograd / {name}: {reference / b:.2f}x the bytes per node, "
                      f"{held['micrograd 0.1.0'] / held[name]:.2f}x the bytes per step's graph")


def bench_mlp(repeat: int) -> None:
    contenders = {name: training_step(*pair) for name, pair in graph_builders().items()}

    print("\n## One step of MLP(2, [16, 16, 1]) on 100 points (forward + MSE + backward)")
    print(f"median of {repeat} steps after a warm-up; ratio = micrograd time / this time\n")
    for gc_on in (True, False):
        medians = {name: statistics.median(timed(step, repeat, gc_on)) for name, step in contenders.items()}
        reference = medians.get("micrograd 0.1.0")
        print(f"garbage collector {'on (default)' if gc_on else 'off'}:")
        for name, t in medians.items():
            ratio = f"   {reference / t:5.2f}x micrograd" if reference and "micrograd" not in name else ""
            print(f"  {name:30s} {t * 1e3:8.1f} ms/step  {1 / t:7.1f} steps/s{ratio}")


def bench_chain(n: int) -> None:
    print(f"\n## A chain of {n:,} ops, c <- c * k")
    k = Value(1.0 + 1e-7, requires_grad=False)
    start = time.perf_counter()
    x, c = value_chain(n, k)
    built = time.perf_counter()
    c.backward()
    done = time.perf_counter()
    print(f"  tinygrad_edu: build {built - start:.2f} s, backward {done - built:.2f} s "
          f"(total {done - start:.2f} s); dc/dx = {x.grad:.6f} (k^n = {k.data**n:.6f})")
    del c
    if MicroValue is not None:
        depth = 10_000
        c = x = MicroValue(1.0)
        for _ in range(depth):
            c = c * (1.0 + 1e-7)
        try:
            c.backward()
            print(f"  micrograd: a {depth:,}-op chain backpropagated (recursion limit {sys.getrecursionlimit()})")
        except RecursionError:
            print(f"  micrograd: RecursionError on a {depth:,}-op chain (recursive topological sort)")


def value_chain(n: int, k: Value) -> tuple[Value, Value]:
    """x and c = x * k * ... * k (n multiplications), one node per op."""
    x = Value(1.0)
    c = x
    for _ in range(n):
        c = c * k
    return x, c


def chain_memory(n: int) -> None:
    print(f"\n## Memory of the chain of {n:,} ops (tracemalloc, separate from the timed run)")
    k = Value(1.0 + 1e-7, requires_grad=False)
    with MemoryTrace() as trace:
        _, c = value_chain(n, k)
        built = trace.held()
        c.backward()
        peak, after = trace.peak(), trace.held()
    print(f"  tinygrad_edu: {format_bytes(built)} after building ({built / n:.0f} B/op), "
          f"peak during build + backward {format_bytes(peak)} ({peak / n:.0f} B/op), "
          f"{format_bytes(after)} held after backward with the output still referenced")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15, help="timed steps per contender")
    parser.add_argument("--chain", type=int, default=1_000_000, help="length of the op chain")
    args = parser.parse_args(argv)
    print(machine_info())
    bench_mlp(args.repeat)
    bench_chain(args.chain)
    bench_graph_memory()
    chain_memory(args.chain)


if __name__ == "__main__":
    main()
