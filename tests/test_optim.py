"""Optimisers, schedules and clip_grad_norm against hand-written numpy updates and closed forms.

Each optimiser runs 6 steps on fixed synthetic gradients (seeded), so every update
formula (first step, state carried over, bias corrections) is exercised; the numpy
oracles below are written out separately, in the simplest loop form. Both sides do the
same float64 arithmetic in a possibly different order, so rtol 1e-12 leaves room only for
rounding. Where torch is importable, trajectories are also compared with torch.optim
(float64, rtol 1e-10: torch groups some products differently, e.g. Adam's
lr / (1 - beta1^t) * V / (sqrt(S) / sqrt(1 - beta2^t) + eps)).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_edu import Tensor, Value
from tinygrad_edu.optim import (
    SGD,
    Adam,
    AdamW,
    CosineAnnealingLR,
    ExponentialLR,
    Momentum,
    Optimizer,
    RMSprop,
    StepLR,
    clip_grad_norm,
)

STEPS = 6
SHAPES = [(3, 2), (4,)]


def synthetic(seed: int = 0) -> tuple[list[np.ndarray], list[list[np.ndarray]]]:
    """Initial parameters and, for each step, one gradient per parameter."""
    rng = np.random.default_rng(seed)
    w0 = [rng.standard_normal(s) for s in SHAPES]
    grads = [[rng.standard_normal(s) for s in SHAPES] for _ in range(STEPS)]
    return w0, grads


def run(make_opt, seed: int = 0) -> list[list[np.ndarray]]:
    """Trajectory of our optimiser: parameters after each step."""
    w0, grads = synthetic(seed)
    params = [Tensor(w.copy(), requires_grad=True) for w in w0]
    opt = make_opt(params)
    out = []
    for step_grads in grads:
        for p, g in zip(params, step_grads):
            p.grad = Tensor(g.copy())
        opt.step()
        out.append([p.data.copy() for p in params])
    return out


def run_numpy(update, seed: int = 0) -> list[list[np.ndarray]]:
    """Trajectory of a numpy oracle: update(w, g, state, t) -> new w (t counts from 1)."""
    w0, grads = synthetic(seed)
    ws = [w.copy() for w in w0]
    states: list[dict] = [{} for _ in ws]
    out = []
    for t, step_grads in enumerate(grads, start=1):
        ws = [update(w, g, s, t) for w, g, s in zip(ws, step_grads, states)]
        out.append([w.copy() for w in ws])
    return out


def assert_same(a: list[list[np.ndarray]], b: list[list[np.ndarray]], rtol: float = 1e-12) -> None:
    for step, (xs, ys) in enumerate(zip(a, b), start=1):
        for x, y in zip(xs, ys):
            np.testing.assert_allclose(x, y, rtol=rtol, atol=1e-14, err_msg=f"after step {step}")


# ====================================================================== numpy oracles


def np_sgd(lr, momentum=0.0, nesterov=False, weight_decay=0.0, dampening=0.0):
    def update(w, g, s, t):
        d = g + weight_decay * w
        if momentum:
            s["b"] = d if t == 1 else momentum * s["b"] + (1 - dampening) * d
            d = d + momentum * s["b"] if nesterov else s["b"]
        return w - lr * d

    return update


def np_momentum(lr, beta):
    def update(w, g, s, t):
        s["v"] = beta * s.get("v", 0.0) + (1 - beta) * g
        return w - lr * s["v"]

    return update


def np_rmsprop(lr, beta, eps):
    def update(w, g, s, t):
        s["s"] = beta * s.get("s", 0.0) + (1 - beta) * g**2
        return w - lr * g / (np.sqrt(s["s"]) + eps)

    return update


def np_adam(lr, b1, b2, eps, weight_decay=0.0, decoupled=False):
    def update(w, g, s, t):
        if decoupled:
            w = w - lr * weight_decay * w
        else:
            g = g + weight_decay * w
        s["m"] = b1 * s.get("m", 0.0) + (1 - b1) * g
        s["v"] = b2 * s.get("v", 0.0) + (1 - b2) * g**2
        m_hat = s["m"] / (1 - b1**t)
        v_hat = s["v"] / (1 - b2**t)
        return w - lr * m_hat / (np.sqrt(v_hat) + eps)

    return update


CASES = {
    "sgd": (lambda p: SGD(p, lr=0.1), np_sgd(0.1)),
    "sgd_wd": (lambda p: SGD(p, lr=0.1, weight_decay=0.05), np_sgd(0.1, weight_decay=0.05)),
    "sgd_momentum": (lambda p: SGD(p, lr=0.1, momentum=0.9), np_sgd(0.1, momentum=0.9)),
    "sgd_dampening": (
        lambda p: SGD(p, lr=0.1, momentum=0.8, dampening=0.3, weight_decay=0.01),
        np_sgd(0.1, momentum=0.8, dampening=0.3, weight_decay=0.01),
    ),
    "sgd_nesterov": (
        lambda p: SGD(p, lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01),
        np_sgd(0.05, momentum=0.9, nesterov=True, weight_decay=0.01),
    ),
    "momentum": (lambda p: Momentum(p, lr=0.1, beta=0.9), np_momentum(0.1, 0.9)),
    "rmsprop": (lambda p: RMSprop(p, lr=0.01, beta=0.9, eps=1e-8), np_rmsprop(0.01, 0.9, 1e-8)),
    "adam": (lambda p: Adam(p, lr=0.01), np_adam(0.01, 0.9, 0.999, 1e-8)),
    "adam_l2": (
        lambda p: Adam(p, lr=0.01, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1),
        np_adam(0.01, 0.8, 0.99, 1e-6, weight_decay=0.1),
    ),
    "adamw": (
        lambda p: AdamW(p, lr=0.01, weight_decay=0.1), np_adam(0.01, 0.9, 0.999, 1e-8, 0.1, decoupled=True)
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_update_matches_numpy_over_several_steps(name: str) -> None:
    make_opt, oracle = CASES[name]
    ours, expected = run(make_opt), run_numpy(oracle)
    assert len(ours) == STEPS
    assert_same(ours, expected)
    # the parameters did move, and differently on each step
    w0, _ = synthetic()
    assert not np.allclose(ours[0][0], w0[0]) and not np.allclose(ours[-1][0], ours[-2][0])


hyper = st.floats(0.0, 0.99, allow_nan=False, allow_subnormal=False)
rate = st.floats(1e-4, 1.0, allow_nan=False, allow_subnormal=False)


@given(
    lr=rate, beta=hyper, beta2=hyper, wd=st.floats(0.0, 0.5, allow_subnormal=False),
    eps=st.sampled_from([1e-8, 1e-6, 1e-3]), nesterov=st.booleans(), seed=st.integers(0, 2**16),
)
def test_updates_match_numpy_for_any_hyperparameters(lr, beta, beta2, wd, eps, nesterov, seed) -> None:
    momentum = max(beta, 0.01) if nesterov else beta
    cases = [
        (lambda p: SGD(p, lr=lr, momentum=momentum, nesterov=nesterov, weight_decay=wd),
         np_sgd(lr, momentum=momentum, nesterov=nesterov, weight_decay=wd)),
        (lambda p: Momentum(p, lr=lr, beta=beta), np_momentum(lr, beta)),
        (lambda p: RMSprop(p, lr=lr, beta=beta, eps=eps), np_rmsprop(lr, beta, eps)),
        (lambda p: Adam(p, lr=lr, betas=(beta, beta2), eps=eps, weight_decay=wd),
         np_adam(lr, beta, beta2, eps, weight_decay=wd)),
        (lambda p: AdamW(p, lr=lr, betas=(beta, beta2), eps=eps, weight_decay=wd),
         np_adam(lr, beta, beta2, eps, weight_decay=wd, decoupled=True)),
    ]
    for make_opt, oracle in cases:
        assert_same(run(make_opt, seed), run_numpy(oracle, seed), rtol=1e-11)


def test_momentum_matches_reference_momentum_update() -> None:
    reference = pytest.importorskip("tinygrad_edu.reference")
    w0, grads = synthetic(1)
    params = {"W1": w0[0].copy(), "b1": w0[1].copy()}
    velocity = reference.initialize_velocity(params)
    ours = [Tensor(w.copy(), requires_grad=True) for w in w0]
    opt = Momentum(ours, lr=0.05, beta=0.8)
    for g in grads:
        params, velocity = reference.momentum_update(params, {"dW1": g[0], "db1": g[1]}, velocity, 0.05, 0.8)
        ours[0].grad, ours[1].grad = Tensor(g[0]), Tensor(g[1])
        opt.step()
        np.testing.assert_allclose(ours[0].data, params["W1"], rtol=1e-12)
        np.testing.assert_allclose(ours[1].data, params["b1"], rtol=1e-12)


def test_sgd_matches_reference_gradient_descent_and_weight_decay() -> None:
    reference = pytest.importorskip("tinygrad_edu.reference")
    w0, grads = synthetic(2)
    params = {"W1": w0[0].copy()}
    ours = Tensor(w0[0].copy(), requires_grad=True)
    plain = Tensor(w0[0].copy(), requires_grad=True)
    opt, opt_plain = SGD([ours], lr=0.1, weight_decay=0.02), SGD([plain], lr=0.1)
    for g in grads:
        expected_plain = reference.gradient_descent_update({"W1": plain.data.copy()}, {"dW1": g[0]}, 0.1)["W1"]
        params = reference.weight_decay_update(params, {"dW1": g[0]}, alpha=0.1, weight_decay=0.02)
        ours.grad, plain.grad = Tensor(g[0]), Tensor(g[0])
        opt.step()
        opt_plain.step()
        np.testing.assert_allclose(ours.data, params["W1"], rtol=1e-12)
        np.testing.assert_allclose(plain.data, expected_plain, rtol=1e-12)


def test_momentum_ema_equals_sgd_momentum_with_scaled_lr() -> None:
    # V = (1 - beta) B where B is SGD's buffer, so alpha V = alpha (1 - beta) B.
    assert_same(run(lambda p: Momentum(p, lr=0.2, beta=0.9)), run(lambda p: SGD(p, lr=0.2 * 0.1, momentum=0.9)),
                rtol=1e-10)


def test_adam_first_step_is_lr_times_sign() -> None:
    # bias correction makes V^ = g and S^ = g^2 on step 1, so the step is lr * g / (|g| + eps)
    p = Tensor([1.0, -2.0, 3.0], requires_grad=True)
    p.grad = Tensor([0.5, -1e-3, 40.0])
    Adam([p], lr=0.1, eps=0.0).step()
    np.testing.assert_allclose(p.data, [0.9, -1.9, 2.9], rtol=1e-14)


# ====================================================================== bookkeeping


def test_params_without_grad_are_skipped_and_their_state_does_not_advance() -> None:
    a, b = Tensor([1.0, 2.0], requires_grad=True), Tensor([3.0], requires_grad=True)
    opt = Adam([a, b], lr=0.1)
    a.grad = Tensor([1.0, 1.0])
    opt.step()
    np.testing.assert_array_equal(b.data, [3.0])
    assert opt.state[0]["step"] == 1 and 1 not in opt.state or "step" not in opt.state.get(1, {})
    b.grad = Tensor([2.0])
    a.grad = None
    opt.step()
    np.testing.assert_allclose(b.data, [2.9])  # b's first step: bias-corrected, lr * sign
    assert opt.state[0]["step"] == 1 and opt.state[1]["step"] == 1


def test_update_is_in_place_and_zero_grad_clears() -> None:
    p = Tensor([1.0, 2.0], requires_grad=True)
    data = p.data
    opt = SGD([p, p], lr=0.5)  # duplicates are dropped: one update, not two
    assert len(opt.params) == 1
    p.grad = Tensor([2.0, -2.0])
    opt.step()
    assert p.data is data
    np.testing.assert_array_equal(data, [0.0, 3.0])
    opt.zero_grad()
    assert p.grad is None


def test_float32_parameters_stay_float32() -> None:
    p = Tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    p.grad = Tensor(np.ones(3, dtype=np.float32))
    Adam([p], lr=0.1).step()
    assert p.dtype == np.float32
    np.testing.assert_allclose(p.data, 0.9, rtol=1e-6)


def test_optimises_value_parameters() -> None:
    # Scalar Values: minimise (x - 3)^2 with the same optimiser classes.
    x = Value(0.0)
    opt = Momentum([x], lr=0.1, beta=0.5)
    for _ in range(200):
        opt.zero_grad()
        loss = (x - 3.0) ** 2
        loss.backward()
        opt.step()
    assert isinstance(x.data, float)
    assert abs(x.data - 3.0) < 1e-8


def test_every_optimiser_decreases_a_quadratic_through_autograd() -> None:
    target = np.array([1.0, -2.0, 0.5])
    for make in (
        lambda p: SGD(p, lr=0.1), lambda p: SGD(p, lr=0.05, momentum=0.9, nesterov=True),
        lambda p: Momentum(p, lr=0.1), lambda p: RMSprop(p, lr=0.05), lambda p: Adam(p, lr=0.05),
        lambda p: AdamW(p, lr=0.05),
    ):
        w = Tensor(np.zeros(3), requires_grad=True)
        opt = make([w])
        losses = []
        for _ in range(30):
            opt.zero_grad()
            loss = ((w - target) ** 2).sum()
            loss.backward()
            opt.step()
            losses.append(loss.item())
        assert losses[-1] < 0.5 * losses[0], (opt, losses)


def test_state_dict_round_trip_continues_the_same_trajectory() -> None:
    w0, grads = synthetic(4)
    first = [Tensor(w.copy(), requires_grad=True) for w in w0]
    opt = Adam(first, lr=0.02, betas=(0.8, 0.9))
    for g in grads[:3]:
        for p, gi in zip(first, g):
            p.grad = Tensor(gi)
        opt.step()
    state = opt.state_dict()
    assert all(isinstance(v, np.ndarray) for v in state.values())
    groups = {f"param_groups.0.{key}" for key in ("lr", "betas", "eps", "weight_decay", "params")}
    moments = {f"state.{i}.{key}" for i in (0, 1) for key in ("step", "V", "S")}
    assert set(state) == groups | moments
    second = [Tensor(p.data.copy(), requires_grad=True) for p in first]
    opt2 = Adam(second, lr=1.0)
    opt2.load_state_dict(state)
    assert opt2.lr == 0.02 and opt2.betas == (0.8, 0.9)
    state["state.0.V"][...] = 99.0  # a copy: mutating the dict does not touch the loaded state
    for g in grads[3:]:
        for p, q, gi in zip(first, second, g):
            p.grad, q.grad = Tensor(gi), Tensor(gi)
        opt.step()
        opt2.step()
    for p, q in zip(first, second):
        np.testing.assert_array_equal(p.data, q.data)


def test_load_state_dict_errors() -> None:
    opt = SGD([Tensor(np.zeros(2), requires_grad=True)], lr=0.1, momentum=0.9)
    with pytest.raises(KeyError, match="missing"):
        opt.load_state_dict({"lr": np.array(0.1)})
    good = opt.state_dict()
    with pytest.raises(KeyError, match="unexpected"):
        opt.load_state_dict({**good, "bogus": np.array(1.0)})
    with pytest.raises(ValueError, match="shape"):
        opt.load_state_dict({**good, "state.0.momentum_buffer": np.zeros(3)})
    with pytest.raises(ValueError, match="parameter 5"):
        opt.load_state_dict({**good, "state.5.momentum_buffer": np.zeros(2)})


def test_constructor_errors() -> None:
    p = Tensor(np.zeros(2), requires_grad=True)
    with pytest.raises(ValueError, match="empty"):
        SGD([], lr=0.1)
    with pytest.raises(ValueError, match="require grad"):
        SGD([Tensor(np.zeros(2))], lr=0.1)
    with pytest.raises(TypeError, match="parameter 0"):
        SGD([np.zeros(2)], lr=0.1)
    with pytest.raises(ValueError, match="lr"):
        SGD([p], lr=-1.0)
    with pytest.raises(ValueError, match="nesterov"):
        SGD([p], lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="beta"):
        Momentum([p], lr=0.1, beta=1.0)
    with pytest.raises(ValueError, match="betas"):
        Adam([p], betas=(0.9,))
    p.grad = Tensor(np.zeros(3))
    with pytest.raises(ValueError, match=r"shape \(2,\) but its gradient has shape \(3,\)"):
        SGD([p], lr=0.1).step()
    p.grad = Tensor(np.zeros(2))
    with pytest.raises(NotImplementedError):
        Optimizer([p], lr=0.1).step()


def test_accepts_a_module() -> None:
    nn = pytest.importorskip("tinygrad_edu.nn")
    model = nn.Linear(3, 2, seed=0)
    opt = SGD(model, lr=0.1)
    assert [id(p) for p in opt.params] == [id(p) for p in model.parameters()]


# ====================================================================== schedules


def _opt(lr: float = 1.0) -> SGD:
    return SGD([Tensor(np.zeros(1), requires_grad=True)], lr=lr)


def test_step_lr() -> None:
    opt = _opt(1.0)
    sched = StepLR(opt, step_size=3, gamma=0.5)
    lrs = [opt.lr] + [sched.step() for _ in range(7)]
    assert lrs == [1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.25, 0.25]
    assert sched.get_last_lr() == [opt.lr] == [0.25]  # a list, one rate per param group, as PyTorch


def test_exponential_lr() -> None:
    opt = _opt(0.2)
    sched = ExponentialLR(opt, gamma=0.95)
    lrs = [sched.step() for _ in range(10)]
    np.testing.assert_allclose(lrs, 0.2 * 0.95 ** np.arange(1, 11), rtol=1e-14)


def test_cosine_annealing_lr() -> None:
    opt = _opt(0.1)
    sched = CosineAnnealingLR(opt, T_max=10, eta_min=0.01)
    lrs = [sched.step() for _ in range(10)]
    expected = [0.01 + 0.09 * (1 + math.cos(math.pi * e / 10)) / 2 for e in range(1, 11)]
    np.testing.assert_allclose(lrs, expected, rtol=1e-14)
    assert lrs[4] == pytest.approx(0.055)  # half way: the midpoint
    assert lrs[-1] == pytest.approx(0.01)  # the end: eta_min
    assert all(a > b for a, b in zip(lrs, lrs[1:]))


def test_scheduler_state_round_trip_and_errors() -> None:
    opt = _opt(1.0)
    sched = StepLR(opt, step_size=2, gamma=0.1)
    for _ in range(3):
        sched.step()
    opt2 = _opt(1.0)
    sched2 = StepLR(opt2, step_size=2, gamma=0.1)
    sched2.load_state_dict(sched.state_dict())
    assert sched2.step() == sched.step() == pytest.approx(0.01)
    with pytest.raises(ValueError, match="step_size"):
        StepLR(opt, step_size=0)
    with pytest.raises(ValueError, match="T_max"):
        CosineAnnealingLR(opt, T_max=0)
    with pytest.raises(TypeError, match="Optimizer"):
        ExponentialLR("not an optimizer", gamma=0.9)  # type: ignore[arg-type]


# ====================================================================== clip_grad_norm


def test_clip_grad_norm_scales_to_max_norm_and_returns_the_norm() -> None:
    a, b = Tensor(np.zeros(2), requires_grad=True), Tensor(np.zeros((1, 2)), requires_grad=True)
    c = Tensor(np.zeros(1), requires_grad=True)  # no gradient: ignored
    a.grad, b.grad = Tensor([3.0, 0.0]), Tensor([[0.0, 4.0]])
    total = clip_grad_norm([a, b, c], max_norm=1.0)
    assert isinstance(total, float) and total == 5.0
    np.testing.assert_allclose(a.grad.data, [0.6, 0.0], rtol=1e-6)
    np.testing.assert_allclose(b.grad.data, [[0.0, 0.8]], rtol=1e-6)
    assert c.grad is None
    new_norm = math.sqrt(np.sum(a.grad.data**2) + np.sum(b.grad.data**2))
    assert new_norm == pytest.approx(1.0, rel=1e-5)


def test_clip_grad_norm_leaves_small_gradients_alone() -> None:
    a = Tensor(np.zeros(2), requires_grad=True)
    a.grad = Tensor([0.3, 0.4])
    before = a.grad
    assert clip_grad_norm([a], max_norm=1.0) == pytest.approx(0.5)
    assert a.grad is before
    np.testing.assert_array_equal(a.grad.data, [0.3, 0.4])


@pytest.mark.parametrize("via_backward", [True, False])
def test_clip_grad_norm_with_a_shared_gradient_array(via_backward: bool) -> None:
    # Two parameters may hold the very same gradient tensor (set by hand, or, for z = a + b,
    # handed out by a backward pass that does not copy); clipping must scale it once, not twice.
    a, b = Tensor([1.0, 1.0], requires_grad=True), Tensor([1.0, 1.0], requires_grad=True)
    if via_backward:
        ((a + b) * Tensor([3.0, 4.0])).sum().backward()
    else:
        a.grad = b.grad = Tensor([3.0, 4.0])
    total = clip_grad_norm([a, b], max_norm=1.0)
    assert total == pytest.approx(math.sqrt(50))
    np.testing.assert_allclose(a.grad.data, np.array([3.0, 4.0]) / math.sqrt(50), rtol=1e-6)
    np.testing.assert_allclose(b.grad.data, np.array([3.0, 4.0]) / math.sqrt(50), rtol=1e-6)


def test_clip_grad_norm_errors() -> None:
    a = Tensor(np.zeros(2), requires_grad=True)
    with pytest.raises(ValueError, match="max_norm"):
        clip_grad_norm([a], max_norm=0.0)
    assert clip_grad_norm([a], max_norm=1.0) == 0.0  # no gradients at all


# ====================================================================== torch.optim (optional)

TORCH_CASES = {
    "sgd": (lambda p: SGD(p, lr=0.1), "SGD", dict(lr=0.1)),
    "sgd_momentum_wd": (
        lambda p: SGD(p, lr=0.1, momentum=0.9, weight_decay=0.01), "SGD", dict(lr=0.1, momentum=0.9, weight_decay=0.01)
    ),
    "sgd_dampening": (
        lambda p: SGD(p, lr=0.1, momentum=0.8, dampening=0.3), "SGD", dict(lr=0.1, momentum=0.8, dampening=0.3)
    ),
    "sgd_nesterov": (
        lambda p: SGD(p, lr=0.05, momentum=0.9, nesterov=True), "SGD", dict(lr=0.05, momentum=0.9, nesterov=True)
    ),
    # Momentum (EMA) = torch SGD with lr * (1 - beta): see test_momentum_ema_equals_sgd_momentum_with_scaled_lr
    "momentum": (lambda p: Momentum(p, lr=0.3, beta=0.9), "SGD", dict(lr=0.3 * (1 - 0.9), momentum=0.9)),
    # torch calls our beta "alpha" and defaults it to 0.99 (ours: 0.9); eps outside the sqrt in both
    "rmsprop": (lambda p: RMSprop(p, lr=0.01, beta=0.9), "RMSprop", dict(lr=0.01, alpha=0.9, eps=1e-8)),
    "adam": (lambda p: Adam(p, lr=0.01), "Adam", dict(lr=0.01)),
    "adam_l2": (
        lambda p: Adam(p, lr=0.01, betas=(0.8, 0.99), weight_decay=0.1), "Adam",
        dict(lr=0.01, betas=(0.8, 0.99), weight_decay=0.1),
    ),
    "adamw": (lambda p: AdamW(p, lr=0.01, weight_decay=0.1), "AdamW", dict(lr=0.01, weight_decay=0.1)),
}


@pytest.mark.parametrize("name", sorted(TORCH_CASES))
def test_trajectory_matches_torch_optim(name: str) -> None:
    torch = pytest.importorskip("torch")
    make_opt, torch_name, kwargs = TORCH_CASES[name]
    w0, grads = synthetic(5)
    tparams = [torch.tensor(w.copy(), dtype=torch.float64, requires_grad=True) for w in w0]
    topt = getattr(torch.optim, torch_name)(tparams, **kwargs)
    expected = []
    for step_grads in grads:
        for p, g in zip(tparams, step_grads):
            p.grad = torch.tensor(g, dtype=torch.float64)
        topt.step()
        expected.append([p.detach().numpy().copy() for p in tparams])
    assert_same(run(make_opt, seed=5), expected, rtol=1e-10)


def test_clip_grad_norm_matches_torch() -> None:
    torch = pytest.importorskip("torch")
    w0, grads = synthetic(6)
    ours = [Tensor(w, requires_grad=True) for w in w0]
    theirs = [torch.tensor(w, requires_grad=True) for w in w0]
    for p, q, g in zip(ours, theirs, grads[0]):
        p.grad, q.grad = Tensor(g), torch.tensor(g)
    total = clip_grad_norm(ours, max_norm=0.5)
    expected = torch.nn.utils.clip_grad_norm_(theirs, max_norm=0.5)
    assert total == pytest.approx(float(expected), rel=1e-12)
    for p, q in zip(ours, theirs):
        np.testing.assert_allclose(p.grad.data, q.grad.numpy(), rtol=1e-12)


SCHEDULES = {
    "step": (lambda o: StepLR(o, step_size=3, gamma=0.5), "StepLR", dict(step_size=3, gamma=0.5)),
    "exponential": (lambda o: ExponentialLR(o, gamma=0.9), "ExponentialLR", dict(gamma=0.9)),
    # 25 epochs with T_max = 10: past T_max too, where the cosine rises again
    "cosine": (lambda o: CosineAnnealingLR(o, T_max=10, eta_min=0.01), "CosineAnnealingLR",
               dict(T_max=10, eta_min=0.01)),
}


@pytest.mark.parametrize("name", sorted(SCHEDULES))
def test_schedules_match_torch_lr_scheduler(name: str) -> None:
    torch = pytest.importorskip("torch")
    make_sched, torch_name, kwargs = SCHEDULES[name]
    topt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.2)
    tsched = getattr(torch.optim.lr_scheduler, torch_name)(topt, **kwargs)
    sched = make_sched(_opt(0.2))
    ours, theirs = [], []
    for _ in range(25):
        topt.step()
        tsched.step()
        theirs.append(tsched.get_last_lr()[0])
        ours.append(sched.step())
    # torch updates cosine recursively, not by the closed form: equal up to rounding
    np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-15)


def test_a_trainable_tensor_owns_its_array_so_a_step_leaves_the_callers_array_alone() -> None:
    # Tensor(array, requires_grad=True) used to wrap the caller's array, so step() rewrote it,
    # and a read-only array (np.broadcast_to, a memmap) crashed in step with numpy's bare message.
    w0 = np.array([1.0, 2.0])
    frozen = np.broadcast_to(np.array([3.0]), (2,))
    w, v = Tensor(w0, requires_grad=True), Tensor(frozen, requires_grad=True)
    ((w * w).sum() + (v * v).sum()).backward()
    SGD([w, v], lr=0.25).step()
    np.testing.assert_array_equal(w0, [1.0, 2.0])
    np.testing.assert_array_equal(w.data, [0.5, 1.0])  # w - 0.25 * 2w
    np.testing.assert_array_equal(v.data, [1.5, 1.5])
