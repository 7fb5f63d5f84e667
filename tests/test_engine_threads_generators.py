"""Regression tests for issue 13 #3 (thread-safe .grad accumulation), #6 (no_grad on generators)
and #8 (backward(gradient=...) validation)."""

from __future__ import annotations

import sys
import threading

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import Tensor, Value


def test_issue_13_3_backward_from_threads_into_a_shared_leaf_loses_nothing():
    """4 threads x 200 backward passes of sum(W * x) into a shared W: W.grad must be exactly 800 * x.

    Before the fix, grad = grad + g interleaved between threads and lost updates (703 instead of 800).
    """
    W = Tensor(np.ones((64, 64)), requires_grad=True)  # big enough that numpy's add releases the GIL
    x = np.arange(64 * 64.0).reshape(64, 64) % 7
    calls = 200

    def work() -> None:
        for _ in range(calls):
            (W * x).sum().backward()

    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)  # switch threads as often as possible, to provoke interleavings
    try:
        threads = [threading.Thread(target=work) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(previous)
    np.testing.assert_array_equal(W.grad.data, 4 * calls * x)


def test_issue_13_3_value_leaves_are_thread_safe_too():
    w = Value(1.5)
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    try:
        threads = [threading.Thread(target=lambda: [(w * 2.0).backward() for _ in range(300)]) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(previous)
    assert w.grad == 4 * 300 * 2.0


def test_issue_13_6_no_grad_on_a_generator_covers_its_body():
    """PyTorch: @torch.no_grad() on a generator function disables grad inside the body at every
    resume, and restores the caller's mode between resumes."""
    w = Tensor([1.0], requires_grad=True)
    seen_outside = []

    @tg.no_grad()
    def predictions(n: int):
        for i in range(n):
            yield tg.is_grad_enabled(), w * float(i)

    for enabled, out in predictions(3):
        assert enabled is False and not out.requires_grad
        seen_outside.append(tg.is_grad_enabled())
    assert seen_outside == [True, True, True]

    @tg.no_grad  # without parentheses
    def one():
        received = yield tg.is_grad_enabled()
        yield received, tg.is_grad_enabled()
        return "done"

    gen = one()
    assert next(gen) is False
    assert gen.send("hi") == ("hi", False)
    with pytest.raises(StopIteration) as stop:
        next(gen)
    assert stop.value.value == "done"


def test_generator_under_enable_grad_and_exceptions_thrown_in():
    @tg.enable_grad()
    def body():
        try:
            yield tg.is_grad_enabled()
        except KeyError:
            yield "caught", tg.is_grad_enabled()

    with tg.no_grad():
        gen = body()
        assert next(gen) is True
        assert gen.throw(KeyError("k")) == ("caught", True)
        assert tg.is_grad_enabled() is False
        gen.close()


@pytest.mark.parametrize(
    ("gradient", "message"),
    [
        ([None, None], r"backward: gradient must hold real numbers, dL/d\(output\) of shape \(2,\) and dtype float64; "
                       r"got object data \(e.g. None values\)"),
        (np.array([1.0, None], dtype=object), r"got object data"),
        (np.array([1 + 2j, 1]), r"got complex numbers \(the imaginary part would be dropped\)"),
        (["a", "b"], r"got <U1 data"),
        ([[1.0], [1.0, 2.0]], r"backward: gradient is not an array of the output's shape \(2,\)"),
    ],
)
def test_issue_13_8_bad_backward_gradient_is_a_clear_error(gradient, message):
    """Before the fix [None, None] and object arrays gave NaN gradients and complex lost its imaginary part."""
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = x * 3.0
    with pytest.raises((TypeError, ValueError), match=message):
        y.backward(gradient=gradient)
    assert x.grad is None
    with pytest.raises(TypeError, match=r"grad: gradient must hold real numbers"):
        tg.grad(y, x, grad_output=[None, None])
    y.backward(gradient=[1, 2])  # integers are fine: converted to the output's dtype
    np.testing.assert_array_equal(x.grad.data, [3.0, 6.0])


def test_the_garbage_collector_inside_an_inplace_write_does_not_deadlock():
    """Regression: record_write holds the versions lock while allocating; the collector can run
    there and call the weakref callback of an array that just died, in the same thread. With a
    non-reentrant lock that callback waited for the lock forever (a hang in the test suite)."""
    import gc
    import threading

    from tinygrad_edu import versions

    def many_writes() -> None:
        for _ in range(2000):
            doomed = np.zeros(3)
            cycle = [doomed]
            cycle.append(cycle)  # the array dies only when the collector runs
            versions.record_write(doomed, "add_")
            del doomed, cycle
            versions.record_write(np.zeros(2), "mul_")

    old = gc.get_threshold()
    gc.set_threshold(1, 1, 1)  # collect at nearly every allocation
    try:
        worker = threading.Thread(target=many_writes, daemon=True)
        worker.start()
        worker.join(60)
    finally:
        gc.set_threshold(*old)
    assert not worker.is_alive(), "record_write deadlocked with the garbage collector"
