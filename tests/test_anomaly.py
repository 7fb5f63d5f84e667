"""detect_anomaly(): stops at the first NaN/inf, names the op, its input shapes and the user's line.

Each test builds a tiny graph with one known bad spot (log 0, exp overflow, sqrt'(0), a NaN
seed) and checks the error points exactly there. The user-code line is checked by
looking for this file's name and the source text of the line that made the op.
"""

from __future__ import annotations

import gc
import threading

import numpy as np
import pytest

from tinygrad_edu import Tensor, Value, engine
from tinygrad_edu import tensor_class as tensor_module
from tinygrad_edu import value as value_module
from tinygrad_edu.anomaly import AnomalyError, _sites, creation_site, detect_anomaly, is_anomaly_enabled

HERE = "test_anomaly.py"


def _log_of(x: Tensor) -> Tensor:
    return x.log()  # the line the error must point to


def _scale(v: Value, k: float) -> Value:
    return v * k  # the line a Value error must point to


# ------------------------------------------------------------------ forward


def test_forward_log_of_zero_names_op_shapes_and_user_line() -> None:
    x = Tensor([[1.0, 0.0, 2.0]], requires_grad=True)
    with detect_anomaly(), pytest.raises(AnomalyError) as info:
        _log_of(x)
    err = info.value
    message = str(err)
    assert err.op == "log" and err.phase == "forward"
    assert err.input_shapes == [(1, 3)]
    assert "op 'log'" in message and "[(1, 3)]" in message and "1 -inf of 3 values" in message
    assert f"{HERE}:" in message and "in _log_of: return x.log()" in message
    assert "called from" in message and "_log_of(x)" in message  # the caller's line, too
    assert "all its inputs were finite" in message
    assert "tinygrad_edu/" not in message.replace("tinygrad_edu/anomaly", "")  # library frames skipped


def test_forward_exp_overflow_float32() -> None:
    # e^100 overflows float32 (max ~3.4e38) but not float64.
    z = Tensor(np.array([1.0, 100.0], dtype=np.float32), requires_grad=True)
    with detect_anomaly():
        Tensor(np.array([1.0, 100.0]), requires_grad=True).exp()  # float64: fine
        with pytest.raises(AnomalyError, match=r"op 'exp' produced 1 \+inf of 2 values") as info:
            z.exp()
    assert "overflows" in str(info.value)


def test_forward_stops_at_the_first_bad_op_not_a_later_one() -> None:
    x = Tensor([0.0, 1.0], requires_grad=True)
    with detect_anomaly(), pytest.raises(AnomalyError) as info:
        y = (x * 2.0).log()  # first non-finite value: log
        (y * 3.0).sum()  # never reached
    assert info.value.op == "log"


def test_forward_nonfinite_data_is_blamed_on_the_data() -> None:
    x = Tensor([np.nan, 1.0], requires_grad=True)
    with detect_anomaly(), pytest.raises(AnomalyError) as info:
        x * 2.0
    assert info.value.op == "mul"
    assert "input 0 already held 1 nan of 2 values" in str(info.value)


def test_forward_names_the_module_scope() -> None:
    class Layer:  # any object works as a scope entry; nn.Module enters scope(self) the same way
        pass

    x = Tensor([-1.0], requires_grad=True)
    with detect_anomaly(), engine.scope(Layer()), pytest.raises(AnomalyError, match="inside module Layer"):
        x.sqrt()


def test_value_forward_overflow_to_inf_names_op_values_and_user_line() -> None:
    # 1e308 * 10 exceeds the float64 maximum (~1.8e308): inf, which Value does not check by itself.
    v = Value(1e308)
    with detect_anomaly(), pytest.raises(AnomalyError) as info:
        _scale(v, 10.0)
    err = info.value
    message = str(err)
    assert err.op == "*" and err.phase == "forward"
    assert err.input_values == [1e308, 10.0] and err.input_shapes == [(), ()]
    assert "op '*' produced 1 +inf of 1 value" in message and "input values [1e+308, 10.0]" in message
    assert "all its inputs were finite" in message and "overflows" in message
    assert f"{HERE}:" in message and "in _scale: return v * k" in message
    assert "called from" in message and "_scale(v, 10.0)" in message
    assert err.location is not None and "return v * k" in err.location


def test_value_forward_nan_from_inf_times_zero_blames_the_data() -> None:
    v = Value(float("inf"))
    with detect_anomaly(), pytest.raises(AnomalyError) as info:
        _scale(v, 0.0)  # inf * 0 = nan
    err = info.value
    assert err.op == "*" and err.input_values == [np.inf, 0.0]
    assert "produced 1 nan of 1 value (output value nan)" in str(err)
    assert "input 0 already held 1 +inf of 1 value" in str(err)
    assert "in _scale: return v * k" in str(err)


def test_value_forward_is_checked_for_fused_and_constant_ops() -> None:
    # dot (2n parents: the message lists a few values) and ops on constants (no graph) are checked too.
    ws, xs = [Value(1e200) for _ in range(4)], [Value(1e200) for _ in range(4)]
    with detect_anomaly(), pytest.raises(AnomalyError, match=r"op 'dot' .*, \.\.\. \(8 in all\)"):
        Value.dot(ws, xs)
    with detect_anomaly(), pytest.raises(AnomalyError, match="op 'sum'"):
        Value.sum([Value(1e308, requires_grad=False), Value(1e308, requires_grad=False)])
    with detect_anomaly(allow_inf=True):
        assert (Value(1e308) * 10.0).data == np.inf  # inf allowed: no error
        with pytest.raises(AnomalyError, match="1 nan"):
            Value(np.inf) - np.inf  # NaN still stops


def test_checks_constant_ops_too() -> None:
    # Inference under no_grad is checked as well: anomaly mode looks at every primitive.
    from tinygrad_edu import no_grad

    with detect_anomaly(), no_grad(), pytest.raises(AnomalyError, match="op 'div'"):
        Tensor([1.0]) / Tensor([0.0])


# ------------------------------------------------------------------ backward


def test_backward_sqrt_at_zero_points_to_the_forward_line() -> None:
    x = Tensor([0.0, 4.0], requires_grad=True)
    with detect_anomaly():
        y = x.sqrt()  # sqrt(0) = 0 is fine forward; sqrt'(0) = inf in backward
        loss = (y * Tensor([1.0, 2.0])).sum()
        with pytest.raises(AnomalyError) as info:
            loss.backward()
    err = info.value
    assert err.op == "sqrt" and err.phase == "backward" and err.input_shapes == [(2,)]
    assert "backward of op 'sqrt'" in str(err)
    assert err.location is not None and f"{HERE}:" in err.location and "y = x.sqrt()" in err.location
    assert x.grad is None  # the failed backward stored nothing


def test_backward_value_graph_is_checked() -> None:
    v = Value(0.0)
    with detect_anomaly(), pytest.raises(AnomalyError) as info:
        (v.sqrt() * 3.0).backward()
    assert info.value.op == "sqrt" and info.value.phase == "backward"
    assert "dL/d(input 0) holds 1 +inf" in str(info.value)


def test_backward_value_error_names_the_creation_line() -> None:
    v = Value(0.0)
    with detect_anomaly():
        y = v.sqrt()  # sqrt(0) = 0 is fine forward; sqrt'(0) = inf in backward
        loss = y * 3.0
        with pytest.raises(AnomalyError) as info:
            loss.backward()
    err = info.value
    assert err.op == "sqrt" and err.phase == "backward" and err.input_values == [0.0]
    assert "input values [0.0], output value 0.0" in str(err)
    assert err.location is not None and f"{HERE}:" in err.location and "y = v.sqrt()" in err.location
    assert v.grad is None  # the failed backward stored nothing


def test_backward_value_graph_built_outside_the_block_says_so() -> None:
    v = Value(0.0)
    y = v.sqrt() * 3.0
    with detect_anomaly(), pytest.raises(AnomalyError, match="created outside detect_anomaly"):
        y.backward()


def test_backward_nonfinite_seed_is_reported_as_such() -> None:
    x = Tensor([1.0, 2.0], requires_grad=True)
    with detect_anomaly():
        y = x * 3.0
        with pytest.raises(AnomalyError, match="arriving at it already held 1 nan"):
            y.backward(gradient=np.array([1.0, np.nan]))


def test_backward_forward_outside_the_block_says_so() -> None:
    x = Tensor([0.0], requires_grad=True)
    y = x.sqrt().sum()
    with detect_anomaly(), pytest.raises(AnomalyError, match="created outside detect_anomaly"):
        y.backward()


def test_finite_program_is_unchanged_including_double_backward() -> None:
    rng = np.random.default_rng(0)
    a = rng.standard_normal((3, 4))

    def run() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        x = Tensor(a, requires_grad=True)
        out = (x.tanh() @ x.T).softmax(axis=-1).log().sum()
        (gx,) = tensor_module.grad(out, x, create_graph=True)
        (gx * gx).sum().backward()
        return out.data, gx.data, x.grad.data  # type: ignore[union-attr]

    plain = run()
    with detect_anomaly():
        checked = run()
    for p, c in zip(plain, checked):
        assert np.array_equal(p, c)


# ------------------------------------------------------------------ mode: off, nesting, threads, options


def test_off_by_default_and_no_hooks_left_behind() -> None:
    assert not is_anomaly_enabled()
    hooks = (tensor_module._anomaly_hooks, value_module._anomaly_hooks, engine._vjp_hooks)
    assert hooks == ([], [], [])
    y = Tensor([0.0]).log()  # documented: -inf, no error outside the block
    assert y.data[0] == -np.inf
    v = Value(float("inf")) * 0.0  # the zero-overhead path: nan, silently
    assert np.isnan(v.data) and v._op == "*"
    with pytest.raises(AnomalyError), detect_anomaly():
        Tensor([0.0]).log()
    with pytest.raises(AnomalyError), detect_anomaly():
        Value(1e308) * 10.0
    assert hooks == ([], [], [])  # removed even after an error
    assert not is_anomaly_enabled()


def test_nesting_innermost_setting_wins_and_outer_stays_on() -> None:
    with detect_anomaly():
        with detect_anomaly(allow_inf=True):
            assert Tensor([0.0]).log().data[0] == -np.inf  # inf allowed inside
            with pytest.raises(AnomalyError, match="1 nan"):
                Tensor([-1.0]).log()  # NaN still stops
        assert is_anomaly_enabled()
        with pytest.raises(AnomalyError):
            Tensor([0.0]).log()  # the outer block (inf not allowed) is back
    assert not is_anomaly_enabled()


def test_mode_is_per_thread() -> None:
    results: dict[str, object] = {}
    entered, done = threading.Event(), threading.Event()

    def other_thread() -> None:
        entered.wait(5)
        results["other"] = Tensor([0.0]).log().data[0]  # not in anomaly mode: plain -inf
        done.set()

    worker = threading.Thread(target=other_thread)
    worker.start()
    with detect_anomaly():
        entered.set()
        done.wait(5)
        with pytest.raises(AnomalyError):
            Tensor([0.0]).log()
    worker.join(5)
    assert results["other"] == -np.inf


def test_creation_sites_are_recorded_only_in_the_block_and_die_with_the_graph() -> None:
    x = Tensor([1.0], requires_grad=True)
    y = x * 2.0
    assert creation_site(y) is None
    with detect_anomaly():
        z = x * 3.0
    site = creation_site(z)
    assert site is not None and "z = x * 3.0" in site
    gc.collect()  # first free what earlier tests left for the collector, so only `del z` counts
    before = len(_sites)
    del z
    gc.collect()
    assert len(_sites) == before - 1


def test_value_creation_sites_are_recorded_only_in_the_block_and_die_with_the_graph() -> None:
    v = Value(2.0)
    before_block = v * 2.0
    with detect_anomaly():
        w = v * 3.0
        constant = Value(1.0, requires_grad=False) * 2.0  # not recorded in a graph: no site kept
    after_block = v * 4.0
    assert creation_site(before_block) is None and creation_site(after_block) is None
    assert creation_site(constant) is None and creation_site(v) is None  # a leaf has no creating op
    site = creation_site(w)
    assert site is not None and f"{HERE}:" in site and "w = v * 3.0" in site
    gc.collect()
    before = len(_sites)
    del w
    gc.collect()
    assert len(_sites) == before - 1


# ------------------------------------------------------------------ fit(check_finite=True)


def test_fit_check_finite_stops_at_the_bad_op_in_user_code() -> None:
    import tinygrad_edu.nn as nn
    from tinygrad_edu import optim
    from tinygrad_edu.train import fit

    def bad_loss(out: Tensor, y: np.ndarray) -> Tensor:
        return (out - Tensor(y)).log().mean()  # log of negative differences: NaN

    X = np.random.default_rng(0).standard_normal((8, 2))
    y = np.full((8, 1), 100.0)
    model = nn.Linear(2, 1, seed=0)
    with pytest.raises(AnomalyError) as info:
        fit(model, bad_loss, optim.SGD(model.parameters(), lr=0.1), (X, y), epochs=1, verbose=0, check_finite=True)
    assert info.value.op == "log" and info.value.phase == "forward"
    assert "in bad_loss: return (out - Tensor(y)).log().mean()" in str(info.value)
