"""``tg.jit``: replays are bitwise equal to eager steps, guards re-trace, check mode catches branches."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import nn, optim


def _train_step(model: nn.Module, opt: optim.Optimizer, loss_fn, sched=None):  # noqa: ANN001, ANN202
    def step(x, y):  # noqa: ANN001, ANN202
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        if sched is not None:
            sched.step()
        return loss

    return step


def _assert_same_run(make, batches, check: bool = False) -> tg.jit:  # noqa: ANN001
    """Train two identical set-ups, one eagerly and one jitted, and require bitwise equal results."""
    model_e, step_e = make()
    model_j, step = make()
    jitted = tg.jit(step, check=check)
    for i, (x, y) in enumerate(batches):
        eager, replayed = step_e(x, y), jitted(x, y)
        assert np.array_equal(eager.data, replayed.data), f"loss differs at step {i}"
    for (name, p_e), (_, p_j) in zip(model_e.named_parameters(), model_j.named_parameters()):
        assert np.array_equal(p_e.data, p_j.data), f"parameter {name} differs"
        assert np.array_equal(p_e.grad.data, p_j.grad.data), f"gradient of {name} differs"
    return jitted


def _mlp_with_adam_and_schedule():  # noqa: ANN202
    model = nn.MLP([4, 16, 8, 3], seed=0)
    opt = optim.Adam(model.parameters(), lr=0.01)
    return model, _train_step(model, opt, nn.cross_entropy, optim.StepLR(opt, step_size=3, gamma=0.5))


def _classification_batches(n_steps: int, batch: int, seed: int = 0) -> list:
    rng = np.random.default_rng(seed)
    return [(rng.normal(size=(batch, 4)), rng.integers(0, 3, batch)) for _ in range(n_steps)]


def test_mlp_with_adam_and_a_schedule_replays_bitwise_equal_to_eager() -> None:
    jitted = _assert_same_run(_mlp_with_adam_and_schedule, _classification_batches(15, 10))
    assert jitted.traces == 2 and jitted.replays == 13  # traced twice (to compare), then replayed


def test_check_mode_passes_for_a_step_without_data_dependent_branches() -> None:
    jitted = _assert_same_run(_mlp_with_adam_and_schedule, _classification_batches(8, 10), check=True)
    assert jitted.replays == 6 and jitted.traces == 2 + 3  # the first 3 replays were checked against eager


def test_cnn_replays_bitwise_equal_to_eager() -> None:
    def make():  # noqa: ANN202
        model = nn.Sequential(
            nn.Conv2d(1, 4, 3, padding=1, seed=0), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
            nn.Linear(4 * 4 * 4, 3, seed=1),
        )
        return model, _train_step(model, optim.SGD(model.parameters(), lr=0.1, momentum=0.9), nn.cross_entropy)

    rng = np.random.default_rng(1)
    batches = [(rng.normal(size=(6, 1, 8, 8)), rng.integers(0, 3, 6)) for _ in range(8)]
    assert _assert_same_run(make, batches).replays == 6


def test_playground_net_replays_bitwise_equal_to_eager() -> None:
    def make():  # noqa: ANN202
        model = nn.MLP([2, 4, 2, 1], activation="tanh", output_activation="sigmoid", seed=0)
        return model, _train_step(model, optim.SGD(model.parameters(), lr=0.03), nn.binary_cross_entropy)

    rng = np.random.default_rng(2)
    x, y = rng.normal(size=(10, 2)), (rng.random((10, 1)) > 0.5).astype(float)
    assert _assert_same_run(make, [(x, y)] * 40).replays == 38


def test_a_new_batch_size_traces_again_and_both_sizes_replay() -> None:
    batches = _classification_batches(4, 10) + _classification_batches(4, 7, seed=1) + _classification_batches(3, 10)
    jitted = _assert_same_run(_mlp_with_adam_and_schedule, batches)
    assert jitted.traces == 4 and jitted.replays == 7


def test_grad_mode_is_part_of_the_signature() -> None:
    model = nn.MLP([3, 5, 2], seed=0)
    predict = tg.jit(lambda x: model(x))
    x = np.random.default_rng(3).normal(size=(4, 3))
    for _ in range(3):
        with tg.no_grad():
            a = predict(x)
        b = predict(x)
        assert np.array_equal(a.data, b.data) and np.array_equal(a.data, model(x).data)
    assert predict.traces == 4 and predict.replays == 2


def test_check_mode_catches_a_data_dependent_branch() -> None:
    model = nn.Linear(2, 1, seed=0)
    opt = optim.SGD(model.parameters(), lr=0.1)

    def step(x, y):  # noqa: ANN001, ANN202
        opt.zero_grad()
        out = model(x)
        loss = nn.mse_loss(out, y) if x.sum() > 0 else nn.l1_loss(out, y)  # the branch depends on the data
        loss.backward()
        opt.step()
        return loss

    jitted = tg.jit(step, check=True)
    positive, y = np.ones((3, 2)), np.zeros((3, 1))
    jitted(positive, y)
    jitted(positive, y)
    jitted(positive, y)  # a checked replay on the traced branch: fine
    with pytest.raises(tg.JitCheckError, match="replay differs from the eager step"):
        jitted(-positive, y)


def test_without_check_a_changed_structure_between_the_first_calls_runs_eagerly_with_a_warning() -> None:
    model = nn.Sequential(nn.Linear(2, 8, seed=0), nn.Dropout(0.5, seed=0), nn.Linear(8, 1, seed=1))
    opt = optim.SGD(model.parameters(), lr=0.1)
    jitted = tg.jit(_train_step(model, opt, nn.mse_loss))
    x, y = np.ones((5, 2)), np.zeros((5, 1))
    jitted(x, y)
    with pytest.warns(tg.JitWarning, match="dropout mask"):
        jitted(x, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # warned once, then eager without a word
        jitted(x, y)
    assert jitted.replays == 0


def test_errors_name_what_cannot_be_replayed() -> None:
    model = nn.Linear(2, 1, seed=0)
    opt = optim.SGD(model.parameters(), lr=0.1)
    x, y = np.ones((3, 2)), np.zeros((3, 1))

    def returns_float(x, y):  # noqa: ANN001, ANN202
        return nn.mse_loss(model(x), y).item()

    with pytest.raises(tg.JitError, match="returned a float"):
        tg.jit(returns_float)(x, y)

    def accumulates(x, y):  # noqa: ANN001, ANN202
        nn.mse_loss(model(x), y).backward()  # no zero_grad: .grad would accumulate across calls
        opt.step()

    opt.zero_grad()
    jitted = tg.jit(accumulates)
    jitted(x, y)
    with pytest.raises(tg.JitError, match="zero_grad"):
        jitted(x, y)
    with pytest.raises(tg.JitError, match="requires grad"):
        tg.jit(lambda t: t * 2)(tg.Tensor([1.0], requires_grad=True))


def test_returned_tensors_are_detached_copies() -> None:
    model = nn.Linear(2, 2, seed=0)
    forward = tg.jit(lambda x: model(x))
    x = np.ones((3, 2))
    results = [forward(x * i) for i in range(4)]
    for i, r in enumerate(results):  # later replays did not overwrite earlier results
        np.testing.assert_array_equal(r.data, model(x * i).data)
        assert not r.requires_grad


def test_gradients_that_backward_copies_are_copied_again_on_replay() -> None:
    class Scaled(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.linear = nn.Linear(2, 1, seed=0)
            self.t = nn.Parameter(np.zeros(3))

        def forward(self, x):  # noqa: ANN001, ANN201
            return self.linear(x) * (1.0 + self.t.sum())  # dL/dt: a read-only broadcast, copied by backward

    def make():  # noqa: ANN202
        model = Scaled()
        return model, _train_step(model, optim.SGD(model.parameters(), lr=0.05), nn.mse_loss)

    rng = np.random.default_rng(4)
    batches = [(rng.normal(size=(5, 2)), rng.normal(size=(5, 1))) for _ in range(6)]
    assert _assert_same_run(make, batches).replays == 4


def test_constants_computed_from_the_data_are_recomputed_on_replay() -> None:
    # clip's masks (through where) and log_softmax's shift (max z) are constants made from the
    # data; the first two calls agree on them (nothing clipped, same max), later calls do not
    def f(x):  # noqa: ANN001, ANN202
        clipped = x.clip(-1.0, 1.0) * 3.0
        return tg.where(x > 0.75, clipped, -clipped).log_softmax(axis=1)  # the package-level where too

    jitted = tg.jit(f)
    inside = np.array([[0.5, -0.25, 0.0]])
    for x in (inside, inside, inside * 4.0, inside * -8.0, inside):
        np.testing.assert_array_equal(jitted(tg.Tensor(x)).data, f(tg.Tensor(x)).data)
    assert jitted.replays == 3


def test_written_out_mlp_replays_bitwise_equal_to_eager() -> None:
    def make():  # noqa: ANN202
        model = nn.MLP([4, 8, 3], seed=0)
        opt = optim.SGD(model.parameters(), lr=0.1)

        def loss_fn(z, y):  # noqa: ANN001, ANN202 - the composed softmax cross-entropy, one-hot targets
            return -(z.log_softmax(axis=1) * y).sum() * (1.0 / len(y))

        return model, _train_step(model, opt, loss_fn)

    batches = [(x, np.eye(3)[y]) for x, y in _classification_batches(6, 5)]  # (np.eye(3)[y] inside the step
    assert _assert_same_run(make, batches).replays == 4  # would be a constant the trace cannot see: eager)


def test_in_place_updates_outside_an_optimiser_run_eagerly_with_a_warning() -> None:
    w = tg.Tensor(np.zeros((2, 1)), requires_grad=True)

    def manual_sgd(x, y):  # noqa: ANN001, ANN202 - the lectures' update, written by hand
        w.grad = None
        loss = nn.mse_loss(tg.Tensor(x) @ w, y)
        loss.backward()
        with tg.no_grad():
            w.sub_(0.1 * w.grad)  # (w -= 0.1 * w.grad, on a name bound outside)
        return loss

    jitted = tg.jit(manual_sgd)
    x, y = np.ones((3, 2)), np.ones((3, 1))
    jitted(x, y)
    with pytest.warns(tg.JitWarning, match="in-place op"):
        jitted(x, y)
    before = w.data.copy()
    jitted(x, y)  # eager: the update still happens
    assert not np.array_equal(w.data, before) and jitted.replays == 0


def test_optimisers_replay_their_per_parameter_updates_or_their_own_step() -> None:
    class CountingSGD(optim.SGD):
        calls = 0

        def step(self) -> None:  # an optimiser with its own step(): replayed by calling it
            CountingSGD.calls += 1
            super().step()

    for opt_class, fast in ((optim.SGD, True), (CountingSGD, False)):
        def make(opt_class=opt_class):  # noqa: ANN001, ANN202
            model = nn.MLP([3, 4, 2], seed=0)
            return model, _train_step(model, opt_class(model.parameters(), lr=0.1, momentum=0.9), nn.cross_entropy)

        rng = np.random.default_rng(5)
        batches = [(rng.normal(size=(4, 3)), rng.integers(0, 2, 4)) for _ in range(5)]
        jitted = _assert_same_run(make, batches)
        (entry,) = jitted._entries.values()
        (opt_step,) = [s for s in entry.recording.steps if getattr(s, "function", None) is not None
                       and s.function.__name__ == "step"]
        assert (opt_step.updates is not None) == fast
    assert CountingSGD.calls == 2 * 5  # eager and jitted runs: every call, replays included


def test_ops_of_other_threads_during_a_trace_are_not_recorded() -> None:
    import threading

    other = nn.MLP([3, 5, 1], seed=1)

    def busy_elsewhere() -> None:  # another thread trains its own model meanwhile
        other.zero_grad()
        nn.mse_loss(other(np.ones((4, 3))), np.zeros((4, 1))).backward()

    def make(with_thread: bool):  # noqa: ANN202
        model = nn.MLP([3, 4, 2], seed=0)
        opt = optim.SGD(model.parameters(), lr=0.1)

        def step(x, y):  # noqa: ANN001, ANN202
            opt.zero_grad()
            loss = nn.cross_entropy(model(x), y)
            if with_thread:
                worker = threading.Thread(target=busy_elsewhere)
                worker.start()
                worker.join()
            loss.backward()
            opt.step()
            return loss

        return tg.jit(step)

    x, y = np.ones((4, 3)), np.array([0, 1, 1, 0])
    plain, busy = make(False), make(True)
    for _ in range(3):
        np.testing.assert_array_equal(plain(x, y).data, busy(x, y).data)
    (entry_plain,), (entry_busy,) = plain._entries.values(), busy._entries.values()
    assert len(entry_busy.recording.steps) == len(entry_plain.recording.steps) and busy.replays == 1


def test_arguments_mixing_numbers_objects_and_keywords_replay_correctly() -> None:
    model = nn.Linear(2, 1, seed=0)

    def scaled(x, factor, y=None, *, shift):  # noqa: ANN001, ANN202
        out = model(x) * factor + shift
        return out if y is None else out - tg.Tensor(y)

    jitted = tg.jit(scaled)
    rng = np.random.default_rng(6)
    for i in range(5):
        x, y = rng.normal(size=(3, 2)), rng.normal(size=(3, 1))
        got = jitted(x, 2.0, y, shift=tg.Tensor(np.full((3, 1), float(i % 2))))
        np.testing.assert_array_equal(got.data, scaled(x, 2.0, y, shift=tg.Tensor(np.full((3, 1), float(i % 2)))).data)
    assert jitted.replays == 3
    jitted(x, 3.0, y, shift=tg.Tensor(np.zeros((3, 1))))  # a new number: a new signature, traced
    assert jitted.traces == 3


def test_replays_keep_the_primitives_error_state_and_unused_parameters_keep_no_gradient() -> None:
    log = tg.jit(lambda x: tg.Tensor(x).log() * 2.0)
    zeros = np.zeros(3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # log 0 = -inf is a documented result, eagerly and replayed
        for _ in range(3):
            np.testing.assert_array_equal(log(zeros).data, np.full(3, -np.inf))

    model = nn.MLP([2, 3, 1], seed=0)
    unused = tg.Tensor(np.ones(2), requires_grad=True)
    opt = optim.SGD([*model.parameters(), unused], lr=0.1)
    jitted = tg.jit(_train_step(model, opt, nn.mse_loss))
    for _ in range(4):
        jitted(np.ones((4, 2)), np.zeros((4, 1)))
        assert unused.grad is None and all(p.grad is not None for p in model.parameters())
    assert jitted.replays == 2
