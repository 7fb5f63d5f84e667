"""Memory: what backward releases, what the graph keeps alive, flat training loops, no_grad.

What a graph holds (see docs/reliability.md):

* each recorded node keeps its ``data``, its ``_parents`` (so the whole graph below it),
  its primitive ``_fn`` and ``_params`` (e.g. an index or a condition array), and after
  backward its ``.grad`` (interior nodes too);
* backward without ``retain_graph`` *releases* the VJP state (``_fn`` for Tensor, the
  saved local derivatives for Value) so a second backward raises, but keeps the
  *structure* for drawing: as long as the root (e.g. ``loss``) is referenced, every
  intermediate array and gradient below it stays in memory;
* nodes only reference their parents, never their children, so there are no reference
  cycles: dropping the root frees the whole graph at once by reference counting (no
  garbage-collector pass needed). In a training loop, rebinding ``loss`` each step does this.
"""

from __future__ import annotations

import gc
import tracemalloc
import weakref
from collections.abc import Callable, Iterator

import numpy as np
import pytest

import tinygrad_edu.nn as nn
from tinygrad_edu import Tensor, Value, no_grad, optim
from tinygrad_edu.engine import topological_order


@pytest.fixture
def no_gc() -> Iterator[None]:
    """Turn the cycle collector off, so anything freed was freed by reference counting."""
    was_enabled = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _graph(seed: int = 0) -> tuple[Tensor, Tensor, Tensor]:
    rng = np.random.default_rng(seed)
    x = Tensor(rng.standard_normal((4, 3)), requires_grad=True)
    w = Tensor(rng.standard_normal((3, 2)), requires_grad=True)
    hidden = (x @ w).tanh()
    loss = (hidden * hidden).sum()
    return x, hidden, loss


# ------------------------------------------------------------------ what backward releases


def test_backward_releases_every_saved_vjp() -> None:
    _, _, loss = _graph()
    interior = [n for n in topological_order(loss) if n._parents]
    assert interior and all(n._has_vjp() for n in interior)
    loss.backward()
    assert all(not n._has_vjp() for n in interior)


def test_retain_graph_keeps_the_saved_vjps() -> None:
    _, _, loss = _graph()
    loss.backward(retain_graph=True)
    assert all(n._has_vjp() for n in topological_order(loss) if n._parents)


def test_value_backward_drops_local_derivatives() -> None:
    a, b = Value(2.0), Value(-3.0)
    out = (a * b).tanh() + a
    nodes = [n for n in topological_order(out) if n._parents]
    assert all(n.local_grads is not None for n in nodes)
    out.backward()
    assert all(n.local_grads is None for n in nodes)


# ------------------------------------------------------------------ what the structure keeps alive


def test_structure_is_kept_while_the_root_is_alive(no_gc: None) -> None:
    _, hidden, loss = _graph()
    loss.backward()
    ref = weakref.ref(hidden)
    del hidden
    assert ref() is not None  # documented: kept for drawing/explaining while `loss` lives
    assert ref().grad is not None  # interior gradients are kept too


def test_dropping_the_root_frees_the_graph_by_reference_counting(no_gc: None) -> None:
    x, hidden, loss = _graph()
    loss.backward()
    refs = [weakref.ref(n) for n in topological_order(loss) if n._parents]
    grads = [weakref.ref(n.grad) for n in topological_order(loss) if n._parents and n.grad is not None]
    del hidden, loss
    assert all(r() is None for r in refs)  # no cycles: freed without gc
    assert all(r() is None for r in grads)
    assert x.grad is not None  # the leaf and its gradient remain


def test_dropping_an_unused_graph_without_backward_frees_it(no_gc: None) -> None:
    _, hidden, loss = _graph()
    ref = weakref.ref(hidden)
    del hidden, loss
    assert ref() is None


# ------------------------------------------------------------------ no_grad


def test_no_grad_inference_allocates_no_graph(no_gc: None) -> None:
    model = nn.MLP([3, 8, 8, 2], seed=0)
    layer = nn.Linear(3, 8, seed=0)
    x = Tensor(np.random.default_rng(0).standard_normal((5, 3)))
    with no_grad():
        out = model(x)
        hidden = layer(x).relu()
    assert out._parents == () and out._op == "" and not out.requires_grad
    assert hidden._parents == () and not hidden.requires_grad
    # Every intermediate was freed as soon as the next op used it: only `out` is alive.
    ref = weakref.ref(hidden)
    del hidden
    assert ref() is None


def test_grad_mode_graph_for_comparison() -> None:
    model = nn.MLP([3, 8, 2], seed=0)
    out = model(Tensor(np.ones((5, 3))))
    assert out._parents and len(topological_order(out)) > 5  # the same forward with grad records a graph


# ------------------------------------------------------------------ flat memory over a long training loop

WARMUP, FIRST, LAST = 500, 1_000, 10_000
GROWTH_LIMIT = 16 * 1024  # bytes from step 1,000 to 10,000: a leak of 2 bytes per step would exceed it
STEP_LIMIT = 64 * 1024  # peak above the step-1,000 level: one step's graph is a few KiB


def _sgd_step_factory(keep: list[Tensor] | None = None) -> Callable[[], None]:
    """One step of an ordinary training loop on 8 points: an nn layer, a loss, an optimiser with state.

    Every part that could hold on to something runs each step: the module (and its scope),
    mse_loss, backward, SGD's momentum buffers, zero_grad. (A single Linear layer keeps the
    10,000 traced steps at ~2.5 s; a hidden layer would only add more of the same ops.)
    """
    rng = np.random.default_rng(0)
    X = Tensor(rng.standard_normal((8, 2)))
    y = Tensor(rng.standard_normal((8, 1)))
    model = nn.Linear(2, 1, seed=0)
    opt = optim.SGD(model.parameters(), lr=0.05, momentum=0.9)

    def step() -> None:
        loss = nn.losses.mse_loss(model(X), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if keep is not None:
            keep.append(loss)  # the classic leak: holding every loss keeps every graph

    return step


def _traced_growth(step: Callable[[], None], first: int, last: int) -> tuple[int, int]:
    """(current at `last` - current at `first`, peak between them - current at `first`) in bytes."""
    for _ in range(WARMUP):
        step()
    tracemalloc.start()
    try:
        for _ in range(first - WARMUP):
            step()
        at_first, _ = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        for _ in range(last - first):
            step()
        at_last, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return at_last - at_first, peak - at_first


def test_ten_thousand_training_steps_hold_flat_memory() -> None:
    growth, peak = _traced_growth(_sgd_step_factory(), FIRST, LAST)
    assert growth < GROWTH_LIMIT, f"memory grew by {growth} bytes between step {FIRST} and {LAST}"
    assert peak < STEP_LIMIT, f"peak was {peak} bytes above the step-{FIRST} level"


def test_the_memory_check_catches_a_leak() -> None:
    # Positive control: keeping every loss (and so every graph) must trip the same limit
    # within far fewer steps.
    kept: list[Tensor] = []
    growth, _ = _traced_growth(_sgd_step_factory(kept), FIRST, FIRST + 500)
    assert growth > GROWTH_LIMIT
