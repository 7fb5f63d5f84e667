"""Optimiser param groups, in-place updates, zero_grad(set_to_none), optim.lr_scheduler, and
validated load_state_dict (issue 13 #10) / scheduler arguments (issue 13 #9).

The PyTorch side is written beside ours with the values it printed (torch 2.13, float64);
where torch is importable the trajectories are also compared live.
"""

from __future__ import annotations

import math
import tracemalloc

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinygrad_edu import Tensor, Value, nn, optim
from tinygrad_edu.optim import SGD, Adam, AdamW, Momentum, RMSprop, lr_scheduler


def two_groups_sgd() -> tuple[Tensor, Tensor, SGD]:
    a = Tensor([1.0, -2.0], requires_grad=True)
    b = Tensor([0.5], requires_grad=True)
    opt = SGD([{"params": [a]}, {"params": [b], "lr": 0.01, "momentum": 0.0}], lr=0.1, momentum=0.9)
    return a, b, opt


def loss_of(a: Tensor, b: Tensor) -> Tensor:
    return (a * a).sum() + (b * b * b).sum()


def test_param_groups_have_their_own_hyperparameters_as_torch() -> None:
    # a = torch.tensor([1., -2.], dtype=torch.float64, requires_grad=True); b = torch.tensor([0.5], ...)
    # opt = torch.optim.SGD([{'params': [a]}, {'params': [b], 'lr': 0.01, 'momentum': 0.0}], lr=0.1, momentum=0.9)
    # 3 x (zero_grad; ((a**2).sum() + (b**3).sum()).backward(); step())
    # -> a = [0.0619999999999999, -0.1239999999999998], b = [0.47816006261019584]
    a, b, opt = two_groups_sgd()
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.01]
    assert [g["momentum"] for g in opt.param_groups] == [0.9, 0.0]
    assert opt.param_groups[1]["params"][0] is b and opt.defaults["lr"] == 0.1
    for _ in range(3):
        opt.zero_grad()
        loss_of(a, b).backward()
        opt.step()
    # by hand, group 0: B = g, then B := 0.9 B + g; a: 1 -> 0.8 -> 0.46 -> 0.062 (and -2 times the same)
    np.testing.assert_allclose(a.data, [0.062, -0.124], rtol=1e-14)
    np.testing.assert_allclose(b.data, [0.47816006261019584], rtol=1e-15)
    assert "momentum_buffer" in opt.state[0] and "momentum_buffer" not in opt.state.get(1, {})


@pytest.mark.parametrize(
    "make",
    [
        lambda groups: SGD(groups, lr=0.1, momentum=0.9, nesterov=True),
        lambda groups: Adam(groups, lr=0.01, betas=(0.8, 0.99)),
        lambda groups: AdamW(groups, lr=0.01),
    ],
)
def test_param_groups_match_torch_optim_live(make) -> None:
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    w0 = [rng.standard_normal((3, 2)), rng.standard_normal(4)]
    grads = [[rng.standard_normal(w.shape) for w in w0] for _ in range(5)]
    ours = [Tensor(w, requires_grad=True) for w in w0]
    theirs = [torch.tensor(w, requires_grad=True) for w in w0]
    options = {"lr": 0.003, "weight_decay": 0.1}
    opt = make([{"params": [ours[0]]}, {"params": [ours[1]], **options}])
    kind = {SGD: torch.optim.SGD, Adam: torch.optim.Adam, AdamW: torch.optim.AdamW}[type(opt)]
    hyper = {k: v for k, v in opt.defaults.items()}
    topt = kind([{"params": [theirs[0]]}, {"params": [theirs[1]], **options}], **hyper)
    for step_grads in grads:
        for p, q, g in zip(ours, theirs, step_grads):
            p.grad, q.grad = Tensor(g), torch.tensor(g)
        opt.step()
        topt.step()
        for p, q in zip(ours, theirs):
            np.testing.assert_allclose(p.data, q.detach().numpy(), rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize(
    "make",
    [
        lambda p: SGD(p, lr=0.1, momentum=0.9, weight_decay=0.01),
        lambda p: Momentum(p, lr=0.1),
        lambda p: RMSprop(p, lr=0.01),
        lambda p: Adam(p, lr=0.01, weight_decay=0.1),
        lambda p: AdamW(p, lr=0.01),
    ],
)
def test_step_updates_p_data_in_place(make) -> None:
    # issue 16: every optimiser updates p.data in place: same array object, views see the update
    p = Tensor(np.array([[1.0, -2.0], [0.5, 3.0]], dtype=np.float32), requires_grad=True)
    data, row = p.data, p.data[0]
    opt = make([p])
    for _ in range(2):
        p.grad = Tensor(np.array([[0.5, -1.0], [2.0, 0.25]], dtype=np.float32))
        grad = p.grad.data.copy()
        opt.step()
        np.testing.assert_array_equal(p.grad.data, grad)  # the gradient is never written to
    assert p.data is data and p.dtype == np.float32
    assert row[0] == p.data[0, 0] != 1.0


def test_zero_grad_default_is_set_to_none_and_false_zeros_in_place() -> None:
    # torch 2.x: opt.zero_grad() -> p.grad is None; opt.zero_grad(set_to_none=False) -> zeros (same tensor)
    a, b, opt = two_groups_sgd()
    loss_of(a, b).backward()
    grad = a.grad
    opt.zero_grad(set_to_none=False)
    assert a.grad is grad and np.all(grad.data == 0) and np.all(b.grad.data == 0)
    opt.zero_grad()
    assert a.grad is None and b.grad is None
    x = Value(2.0)
    (x * x).backward()
    Momentum([x], lr=0.1).zero_grad(set_to_none=False)
    assert x.grad == 0.0


def test_lr_shorthand_reads_group_0_and_sets_every_group() -> None:
    a, b, opt = two_groups_sgd()
    assert opt.lr == 0.1 and opt.momentum == 0.9
    opt.lr = 0.5
    assert [g["lr"] for g in opt.param_groups] == [0.5, 0.5]
    with pytest.raises(ValueError, match=r"SGD: lr must be a finite number in \[0, inf\), got nan"):
        opt.lr = math.nan
    assert opt.lr == 0.5  # nothing changed
    with pytest.raises(AttributeError, match="no attribute 'betas'"):
        opt.betas  # noqa: B018


def test_add_param_group_and_group_errors() -> None:
    a, b, opt = two_groups_sgd()
    c = Tensor([0.0], requires_grad=True)
    opt.add_param_group({"params": c, "lr": 0.2})
    assert len(opt.param_groups) == 3 and opt.param_groups[2]["momentum"] == 0.9 and opt.params[2] is c
    with pytest.raises(ValueError, match="already belong to an earlier group"):
        opt.add_param_group({"params": [a]})
    with pytest.raises(ValueError, match=r"unknown option\(s\) \['lrr'\] in param group 3"):
        opt.add_param_group({"params": [Tensor([1.0], requires_grad=True)], "lrr": 0.1})
    with pytest.raises(TypeError, match="a 'params' entry"):
        opt.add_param_group({"lr": 0.1})
    with pytest.raises(TypeError, match="mixes dicts"):
        SGD([{"params": [a]}, b], lr=0.1)
    with pytest.raises(TypeError, match="wrap it in a list"):
        SGD({"params": [a]}, lr=0.1)
    with pytest.raises(ValueError, match=r"Adam: betas\[1\] must be a finite number in \[0, 1\)"):
        Adam([{"params": [a], "betas": (0.9, 1.0)}])
    with pytest.raises(ValueError, match="param group 0"):
        SGD([{"params": []}], lr=0.1)


def test_a_module_and_named_groups_work() -> None:
    model = nn.MLP([2, 3, 1], seed=0)
    decay = [p for name, p in model.named_parameters() if name.endswith("weight")]
    no_decay = [p for name, p in model.named_parameters() if name.endswith("bias")]
    opt = SGD([{"params": decay, "weight_decay": 1e-2, "name": "weights"}, {"params": no_decay}], lr=0.1)
    assert opt.param_groups[0]["name"] == "weights" and opt.param_groups[1]["weight_decay"] == 0.0
    assert len(opt.params) == 4 and len(SGD(model, lr=0.1).param_groups) == 1


# ====================================================================== saving (issue 13 #10)


def test_state_dict_round_trip_with_groups_and_a_legacy_dict() -> None:
    a, b, opt = two_groups_sgd()
    loss_of(a, b).backward()
    opt.step()
    state = opt.state_dict()
    assert state["param_groups.1.lr"] == 0.01 and list(state["param_groups.1.params"]) == [1]
    a2, b2, opt2 = two_groups_sgd()
    opt2.lr = 1.0
    opt2.load_state_dict(state)
    assert [g["lr"] for g in opt2.param_groups] == [0.1, 0.01]
    np.testing.assert_array_equal(opt2.state[0]["momentum_buffer"], opt.state[0]["momentum_buffer"])
    # a dict saved before param groups existed: flat hyperparameter keys, applied to every group
    legacy = {"lr": np.array(0.3), "momentum": np.array(0.5), "dampening": np.array(0.0),
              "nesterov": np.array(False), "weight_decay": np.array(0.0)}
    opt2.load_state_dict(legacy)
    assert [(g["lr"], g["momentum"]) for g in opt2.param_groups] == [(0.3, 0.5), (0.3, 0.5)]
    assert opt2.state == {}


def _adam_state() -> tuple[Adam, dict[str, np.ndarray]]:
    p = Tensor(np.zeros(2), requires_grad=True)
    opt = Adam([p], lr=0.01)
    p.grad = Tensor([1.0, -1.0])
    opt.step()
    return opt, opt.state_dict()


@pytest.mark.parametrize(
    "key, value, error, message",
    [
        ("param_groups.0.lr", np.array(np.nan), ValueError, r"lr must be a finite number in \[0, inf\), got nan"),
        ("param_groups.0.lr", np.array(-0.1), ValueError, r"lr must be a finite number"),
        ("param_groups.0.betas", np.array([1.5, 2.0]), ValueError, r"betas\[0\] must be a finite number in \[0, 1\)"),
        ("param_groups.0.betas", np.array(0.9), TypeError, r"betas must be a pair"),
        ("param_groups.0.betas", np.array([0.9, 0.99, 0.999]), ValueError, r"betas must be a pair"),
        ("param_groups.0.eps", np.array("tiny"), TypeError, r"'param_groups.0.eps' holds <U4 data"),
        ("state.0.V", np.array(["a", "b"]), TypeError, r"state.0.V holds <U1 data; expected real numbers"),
        ("state.0.V", np.zeros(3), ValueError, r"state.0.V has shape \(3,\) but the parameter has shape \(2,\)"),
        ("state.0.step", np.array(1.5), TypeError, r"state.0.step must be one integer"),
        ("state.0.step", np.array(-1), ValueError, r"state.0.step must be an integer >= 0"),
        ("state.0.momentum_buffer", np.zeros(2), KeyError, r"Adam keeps \['step', 'V', 'S'\]"),
        ("param_groups.1.lr", np.array(0.1), ValueError, r"the state has param groups \[0, 1\]"),
    ],
)
def test_load_state_dict_validates_as_the_constructor(key, value, error, message) -> None:
    # issue 13 #10: these used to load silently (lr nan, betas (1.5, 2), scalar betas, string moments)
    opt, state = _adam_state()
    before = {k: np.array(v, copy=True) for k, v in opt.state_dict().items()}
    with pytest.raises(error, match=message):
        opt.load_state_dict({**state, key: value})
    after = opt.state_dict()
    assert set(after) == set(before) and all(np.array_equal(after[k], before[k]) for k in before)  # unchanged


def test_load_state_dict_checks_the_group_sizes_and_the_type() -> None:
    a, b, opt = two_groups_sgd()
    state = opt.state_dict()
    state["param_groups.0.params"] = np.array([0, 1])
    with pytest.raises(ValueError, match="param group 0 was saved with 2 parameters"):
        opt.load_state_dict(state)
    with pytest.raises(TypeError, match="expected a mapping"):
        opt.load_state_dict([("lr", 0.1)])  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="nesterov must be True or False"):
        opt.load_state_dict({**opt.state_dict(), "param_groups.0.nesterov": np.array(1.0)})


# ====================================================================== schedules


def test_lr_scheduler_module_is_the_home_of_the_schedules() -> None:
    assert optim.lr_scheduler.StepLR is optim.StepLR is lr_scheduler.StepLR
    assert {"StepLR", "ExponentialLR", "CosineAnnealingLR", "LRScheduler"} <= set(lr_scheduler.__all__)


def test_schedules_set_every_group_from_its_own_base_rate_as_torch() -> None:
    # opt = torch.optim.SGD([{'params': [a]}, {'params': [b], 'lr': 0.01}], lr=0.1, momentum=0.9)
    # sched = torch.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    # 4 x (opt.step(); sched.step(); sched.get_last_lr())
    # -> [[0.1, 0.01], [0.05, 0.005], [0.05, 0.005], [0.025, 0.0025]]
    a, b, opt = two_groups_sgd()
    sched = lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    rates = []
    for _ in range(4):
        opt.step()
        sched.step()
        rates.append(sched.get_last_lr())
    assert rates == [[0.1, 0.01], [0.05, 0.005], [0.05, 0.005], [0.025, 0.0025]]
    state = sched.state_dict()
    a2, b2, opt2 = two_groups_sgd()
    sched2 = lr_scheduler.StepLR(opt2, step_size=2, gamma=0.5)
    sched2.load_state_dict(state)
    assert sched2.get_last_lr() == [0.025, 0.0025] and sched2.base_lrs == [0.1, 0.01]
    with pytest.raises(ValueError, match=r"one rate per param group \(2\)"):
        sched2.load_state_dict({"base_lrs": np.array([0.1]), "last_epoch": np.array(1)})
    with pytest.raises(TypeError, match="last_epoch must be one integer"):
        sched2.load_state_dict({"base_lrs": np.array([0.1, 0.2]), "last_epoch": np.array(1.5)})
    with pytest.raises(ValueError, match="base_lrs must be a finite number"):
        sched2.load_state_dict({"base_lrs": np.array([np.nan, 0.2]), "last_epoch": np.array(1)})
    assert sched2.get_last_lr() == [0.025, 0.0025]  # the failed loads changed nothing


def test_a_legacy_scheduler_state_loads() -> None:
    opt = SGD([Tensor([0.0], requires_grad=True)], lr=1.0)
    sched = lr_scheduler.ExponentialLR(opt, gamma=0.5)
    sched.load_state_dict({"base_lr": np.array(1.0), "last_epoch": np.array(2)})
    assert opt.lr == 0.25 and sched.base_lr == 1.0


@pytest.mark.parametrize(
    "make, error, message",
    [
        (lambda o: lr_scheduler.CosineAnnealingLR(o, T_max=math.nan), TypeError, r"T_max must be an integer, got nan"),
        (lambda o: lr_scheduler.CosineAnnealingLR(o, T_max=2.5), TypeError, r"T_max must be an integer, got 2\.5"),
        (lambda o: lr_scheduler.CosineAnnealingLR(o, T_max=0), ValueError, r"T_max must be an integer >= 1"),
        (lambda o: lr_scheduler.CosineAnnealingLR(o, T_max=5, eta_min=math.nan), ValueError, r"eta_min"),
        (lambda o: lr_scheduler.StepLR(o, step_size=2.0), TypeError, r"StepLR: step_size must be an integer"),
        (lambda o: lr_scheduler.StepLR(o, step_size=2, gamma=math.inf), ValueError, r"gamma must be a finite"),
        (lambda o: lr_scheduler.ExponentialLR(o, gamma="0.9"), TypeError, r"gamma must be a real number"),
    ],
)
def test_schedule_arguments_are_checked(make, error, message) -> None:
    # issue 13 #9: CosineAnnealingLR(T_max=nan) used to be accepted and gave nan rates
    with pytest.raises(error, match=message):
        make(SGD([Tensor([0.0], requires_grad=True)], lr=1.0))


@pytest.mark.parametrize(
    "make, error, message",
    [
        (lambda p: SGD(p, lr=math.nan), ValueError, r"SGD: lr must be a finite number"),
        (lambda p: SGD(p, lr="0.1"), TypeError, r"SGD: lr must be a real number, got '0.1'"),
        (lambda p: SGD(p, lr=0.1, momentum=math.inf), ValueError, r"momentum must be a finite"),
        (lambda p: SGD(p, lr=0.1, nesterov="yes"), TypeError, r"nesterov must be True or False"),
        (lambda p: Adam(p, betas=0.9), TypeError, r"Adam: betas must be a pair \(beta1, beta2\)"),
        (lambda p: Adam(p, betas=(1.5, 2)), ValueError, r"betas\[0\] must be a finite number in \[0, 1\)"),
        (lambda p: RMSprop(p, eps=-1e-8), ValueError, r"RMSprop: eps must be a finite number in \[0, inf\)"),
        (lambda p: Momentum(p, lr=0.1, beta=math.nan), ValueError, r"Momentum: beta must be a finite number"),
    ],
)
def test_constructor_arguments_are_checked(make, error, message) -> None:
    with pytest.raises(error, match=message):
        make([Tensor([0.0], requires_grad=True)])


def test_schedules_with_groups_match_torch_live() -> None:
    torch = pytest.importorskip("torch")
    a, b, opt = two_groups_sgd()
    ta, tb = torch.zeros(2, requires_grad=True), torch.zeros(1, requires_grad=True)
    topt = torch.optim.SGD([{"params": [ta]}, {"params": [tb], "lr": 0.01, "momentum": 0.0}], lr=0.1, momentum=0.9)
    ours = lr_scheduler.CosineAnnealingLR(opt, T_max=4, eta_min=0.001)
    theirs = torch.optim.lr_scheduler.CosineAnnealingLR(topt, T_max=4, eta_min=0.001)
    for _ in range(6):
        topt.step()
        ours.step()
        theirs.step()
        np.testing.assert_allclose(ours.get_last_lr(), theirs.get_last_lr(), rtol=1e-9, atol=1e-15)


@settings(max_examples=25)
@given(
    split=st.integers(1, 3),
    lrs=st.tuples(st.floats(1e-3, 0.5), st.floats(1e-3, 0.5)),
    kind=st.sampled_from(["sgd", "momentum", "rmsprop", "adam", "adamw"]),
    seed=st.integers(0, 2**16),
)
def test_a_two_group_optimiser_equals_two_one_group_optimisers(split, lrs, kind, seed) -> None:
    # each group is updated exactly as an optimiser of its own with the group's options would update it
    make = {
        "sgd": lambda p, lr: SGD(p, lr=lr, momentum=0.5, weight_decay=0.01),
        "momentum": lambda p, lr: Momentum(p, lr=lr),
        "rmsprop": lambda p, lr: RMSprop(p, lr=lr),
        "adam": lambda p, lr: Adam(p, lr=lr, weight_decay=0.01),
        "adamw": lambda p, lr: AdamW(p, lr=lr),
    }[kind]
    rng = np.random.default_rng(seed)
    w0 = [rng.standard_normal(s) for s in [(2, 3), (3,), (1,), (2, 2)]]
    grads = [[rng.standard_normal(w.shape) for w in w0] for _ in range(3)]
    grouped = [Tensor(w, requires_grad=True) for w in w0]
    alone = [Tensor(w, requires_grad=True) for w in w0]
    opt = make([{"params": grouped[:split]}, {"params": grouped[split:], "lr": lrs[1]}], lrs[0])
    singles = [make(alone[:split], lrs[0]), make(alone[split:], lrs[1])]
    for step_grads in grads:
        for p, q, g in zip(grouped, alone, step_grads):
            p.grad, q.grad = Tensor(g), Tensor(g)
        opt.step()
        for single in singles:
            single.step()
    for p, q in zip(grouped, alone):
        np.testing.assert_array_equal(p.data, q.data)


def test_frozen_parameters_are_accepted_and_left_alone_as_torch() -> None:
    # model.body.requires_grad_(False); torch.optim.SGD(model.parameters(), lr=0.1) -> accepted; a step
    # leaves the frozen weights unchanged (they get no gradient)
    model = nn.Sequential(nn.Linear(2, 3, seed=0), nn.Linear(3, 1, seed=1))
    model[0].requires_grad_(False)
    frozen = model[0].weight.data.copy()
    opt = SGD(model.parameters(), lr=0.1)
    model(Tensor(np.ones((4, 2)))).sum().backward()
    opt.step()
    np.testing.assert_array_equal(model[0].weight.data, frozen)
    assert model[0].weight.grad is None and model[1].weight.grad is not None
    assert not nn.Parameter(np.zeros(2), requires_grad=False).requires_grad
    with pytest.raises(ValueError, match="does not require grad"):
        SGD([Tensor(np.zeros(2))], lr=0.1)  # a plain tensor without requires_grad is still a mistake


def test_step_with_a_closure_returns_its_loss_as_torch() -> None:
    # loss = opt.step(closure) where closure() zeroes grads, computes the loss, backward()s and returns it
    a, b, opt = two_groups_sgd()

    def closure():
        opt.zero_grad()
        loss = loss_of(a, b)
        loss.backward()
        return loss

    loss = opt.step(closure)
    assert loss.item() == pytest.approx(1 + 4 + 0.125)
    np.testing.assert_allclose(a.data, [0.8, -1.6])  # a - 0.1 * 2a
    assert opt.step() is None


@pytest.mark.parametrize("make", [lambda p: SGD(p, lr=0.1), lambda p: Adam(p), lambda p: RMSprop(p)])
def test_a_step_bumps_the_version_so_a_stale_graph_refuses_backward(make) -> None:
    # torch: loss = (w * w).sum(); w.grad = ...; opt.step(); loss.backward()
    # -> RuntimeError: one of the variables needed for gradient computation has been modified by an inplace operation
    w = Tensor([1.0, 2.0], requires_grad=True)
    opt = make([w])
    loss = (w * w).sum()  # saves w for its VJP
    w.grad = Tensor([1.0, 1.0])
    before = w._version
    opt.step()
    assert w._version == before + 1
    with pytest.raises(RuntimeError, match=rf"modified by an inplace operation \({type(opt).__name__}\.step\)"):
        loss.backward()


def test_the_usual_loop_is_unaffected_and_loading_or_initialising_bumps_the_version() -> None:
    model = nn.Linear(2, 1, seed=0)
    opt = SGD(model.parameters(), lr=0.1)
    for _ in range(2):
        opt.zero_grad()
        (model(Tensor(np.ones((3, 2)))) ** 2).sum().backward()  # backward before step: fine
        opt.step()
    version = model.weight._version
    stale = (model(Tensor(np.ones((1, 2)))) ** 2).sum()
    model.load_state_dict(model.state_dict())
    nn.init.zeros_(model.bias)
    assert model.weight._version == version + 1
    with pytest.raises(RuntimeError, match=r"modified by an inplace operation \(load_state_dict\)"):
        stale.backward()


def test_a_shorthand_assignment_that_fails_for_one_group_changes_no_group() -> None:
    a, b, opt = two_groups_sgd()  # group 1 has momentum 0, so nesterov=True is invalid there
    with pytest.raises(ValueError, match="nesterov=True needs momentum > 0"):
        opt.nesterov = True
    assert [g["nesterov"] for g in opt.param_groups] == [False, False]


@pytest.mark.parametrize(
    "make, temporaries",
    [
        (lambda p: SGD(p, lr=0.1), 1),  # lr * g
        (lambda p: SGD(p, lr=0.1, momentum=0.9), 1),
        (lambda p: Momentum(p, lr=0.1), 1),
        (lambda p: RMSprop(p), 1),
        (lambda p: Adam(p), 2),  # the step and its denominator
        (lambda p: AdamW(p), 2),
    ],
)
def test_a_step_allocates_only_the_rules_temporaries(make, temporaries) -> None:
    # issue 16: updates in place. Before, a step built new arrays for W, V and S (Adam: a peak of 6
    # parameter-sized arrays, 2 kept); now the state is updated in place and only the rule's
    # scratch arrays exist during the step (tracemalloc counts numpy's allocations)
    p = Tensor(np.ones((100, 100)), requires_grad=True)
    p.grad = Tensor(np.full((100, 100), 0.5))
    opt = make([p])
    opt.step()  # the state (V, S, buffers) is allocated on the first step
    tracemalloc.start()
    try:
        opt.step()
        retained, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    size = p.data.nbytes
    assert peak <= temporaries * size + 20_000  # room for a few small Python objects
    assert retained < 20_000
