"""The engine: topological order, calling backward twice, deep graphs, grad mode, detach, zero_grad."""

from __future__ import annotations

import gc
import sys
import threading

import pytest

from tinygrad_edu import GraphFreedError, Value, enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from tinygrad_edu.engine import gradients, topological_order

# --------------------------------------------------------------------------- topological order


def test_topological_order_puts_parents_first_deterministically() -> None:
    x, y = Value(1.0, label="x"), Value(2.0, label="y")
    a = x * y
    b = a + x
    c = b * a
    order = topological_order(c)
    assert [n is m for n, m in zip(order, [x, y, a, b, c])] == [True] * 5
    assert len(order) == 5  # every node once, although x and a are reached along two paths
    assert [id(n) for n in topological_order(c)] == [id(n) for n in order]  # same graph, same order


def test_topological_order_skips_constants() -> None:
    x = Value(1.0)
    k = Value(5.0, requires_grad=False)
    out = x * k + 3.0
    assert all(n.requires_grad for n in topological_order(out))
    assert not any(n is k for n in topological_order(out))


# --------------------------------------------------------------------------- backward twice


def _graph() -> tuple[Value, Value, Value, Value]:
    x, y = Value(2.0), Value(3.0)
    h = x * y  # interior
    out = h.tanh() + x
    return x, y, h, out


def test_second_backward_through_a_released_graph_raises() -> None:
    x, _, _, out = _graph()
    out.backward()
    with pytest.raises(GraphFreedError, match=r"backward through the graph a second time.*retain_graph=True"):
        out.backward()
    assert x.grad is not None


def test_released_graph_keeps_its_structure() -> None:
    x, y, h, out = _graph()
    out.backward()
    assert h._parents == (x, y) and h._op == "*" and h.data == 6.0 and h.grad is not None
    assert h.local_grads is None  # only what the VJP needed is gone


def test_retain_graph_leaves_accumulate_interiors_overwrite() -> None:
    x, y, h, out = _graph()
    out.backward(retain_graph=True)
    x1, y1, h1 = x.grad, y.grad, h.grad
    out.backward(retain_graph=True)
    assert x.grad == pytest.approx(2 * x1) and y.grad == pytest.approx(2 * y1)  # leaves: like PyTorch
    assert h.grad == h1 and out.grad == 1.0  # interior: the latest call only, never stale sums
    out.backward(0.5)  # a different seed: interiors show this call's gradient
    assert h.grad == pytest.approx(0.5 * h1)
    assert x.grad == pytest.approx(2.5 * x1)


def test_sharing_a_released_subgraph_raises() -> None:
    x = Value(2.0)
    h = x.exp()
    first, second = h * 2, h * 3
    first.backward()
    with pytest.raises(GraphFreedError, match="'exp'"):
        second.backward()


def test_zero_grad_then_backward_gives_a_fresh_gradient() -> None:
    x, y, _, out = _graph()
    out.backward(retain_graph=True)
    g = x.grad
    x.zero_grad()
    y.zero_grad()
    assert x.grad is None
    out.backward()
    assert x.grad == g


def test_backward_of_a_leaf_accumulates() -> None:
    x = Value(4.0)
    x.backward()
    x.backward()
    assert x.grad == 2.0


def test_backward_of_a_constant_is_an_error() -> None:
    with pytest.raises(RuntimeError, match="does not require grad"):
        Value(1.0, requires_grad=False).backward()
    with no_grad():
        out = Value(1.0) * 2
    with pytest.raises(RuntimeError, match="does not require grad"):
        out.backward()


def test_gradients_leaves_grad_untouched() -> None:
    x, y, _, out = _graph()
    unused = Value(7.0)
    gx, gy, gu = gradients(out, 1.0, [x, y, unused])
    assert x.grad is None and y.grad is None
    assert gu is None
    assert gx == pytest.approx(y.data * (1 - out._parents[0].data ** 2) + 1)
    assert gy == pytest.approx(x.data * (1 - out._parents[0].data ** 2))


# --------------------------------------------------------------------------- deep graphs


def test_million_op_chain_backprops_without_recursion() -> None:
    """c_{i+1} = c_i * k for 1,000,000 ops: dc/dx = k^1e6 (about e^0.1), with no RecursionError.

    The recursion limit is lowered to prove no step recurses over the graph's depth.
    Deleting the chain afterwards must not crash either (CPython frees it iteratively).
    """
    n = 1_000_000
    k = Value(1.0 + 1e-7, requires_grad=False)
    x = Value(1.0)
    c = x
    for _ in range(n):
        c = c * k
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(200)
    try:
        assert len(topological_order(c)) == n + 1
        c.backward()
    finally:
        sys.setrecursionlimit(limit)
    assert x.grad == pytest.approx(k.data**n, rel=1e-9)
    del c
    gc.collect()
    assert x.grad > 1.0


# --------------------------------------------------------------------------- grad mode


def test_no_grad_as_context_manager() -> None:
    x = Value(2.0)
    with no_grad():
        assert not is_grad_enabled()
        y = x * 3
        with enable_grad():
            z = x * 3
    assert is_grad_enabled()
    assert not y.requires_grad and y._parents == () and y.local_grads is None
    assert z.requires_grad and z._parents[0] is x
    w = y * x  # a constant mixed with a leaf records again outside the block
    w.backward()
    assert x.grad == 6.0


def test_no_grad_as_decorator_and_restores_after_an_exception() -> None:
    @no_grad()
    def infer(v: Value) -> Value:
        return v * 2

    x = Value(1.0)
    assert not infer(x).requires_grad
    assert is_grad_enabled()

    with pytest.raises(RuntimeError, match="boom"), no_grad():
        raise RuntimeError("boom")
    assert is_grad_enabled()

    with set_grad_enabled(False):
        assert not is_grad_enabled()
        with no_grad():
            pass
        assert not is_grad_enabled()
    assert is_grad_enabled()


def test_no_grad_and_enable_grad_as_bare_decorators() -> None:
    @no_grad
    def infer(v: Value) -> Value:
        return v * 2

    @enable_grad
    def train_step(v: Value) -> Value:
        return v * 2

    x = Value(1.0)
    assert not infer(x).requires_grad and infer.__name__ == "infer"
    with no_grad():
        assert train_step(x).requires_grad
        assert not is_grad_enabled()
    assert is_grad_enabled()
    with pytest.raises(TypeError, match="no_grad\\(\\) takes no arguments"):
        no_grad(3)


def test_no_grad_is_thread_local() -> None:
    entered, checked = threading.Event(), threading.Event()
    seen: dict[str, bool] = {}

    def worker() -> None:
        entered.wait(5)
        seen["enabled"] = is_grad_enabled()
        seen["records"] = (Value(1.0) * 2).requires_grad
        checked.set()

    thread = threading.Thread(target=worker)
    thread.start()
    with no_grad():
        entered.set()
        assert checked.wait(5)
        assert not is_grad_enabled()
    thread.join(5)
    assert seen == {"enabled": True, "records": True}


def test_one_decorated_function_in_two_threads_restores_each_threads_mode() -> None:
    """Thread A (grad on) and thread B (inside no_grad) are both inside the same decorated
    function; A leaves first. Each must get back its own mode, not the other's."""
    a_inside, b_inside, a_left = threading.Event(), threading.Event(), threading.Event()
    after: dict[str, bool] = {}

    @no_grad()
    def work(inside: threading.Event, wait_for: threading.Event) -> None:
        inside.set()
        wait_for.wait(5)

    def thread_a() -> None:
        work(a_inside, b_inside)
        after["a"] = is_grad_enabled()
        a_left.set()

    def thread_b() -> None:
        a_inside.wait(5)
        with no_grad():
            work(b_inside, a_left)
            after["b"] = is_grad_enabled()

    threads = [threading.Thread(target=thread_a), threading.Thread(target=thread_b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(5)
    assert after == {"a": True, "b": False}


# --------------------------------------------------------------------------- detach


def test_detach_cuts_the_graph() -> None:
    x = Value(3.0, label="x")
    d = x.detach()
    assert d.data == 3.0 and not d.requires_grad and d._parents == () and d is not x
    out = x * d  # d is a constant: dout/dx = d only, not 2x
    out.backward()
    assert x.grad == 3.0 and d.grad is None
