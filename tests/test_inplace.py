"""In-place ops with PyTorch's leaf rules, and the version counter that guards saved tensors.

Each test gives the PyTorch snippet it mirrors and the values PyTorch 2.x prints for it.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_edu as tg
from tinygrad_edu import Tensor

# ====================================================================== the optimiser-update path


def test_manual_sgd_three_steps_matches_hand_computation():
    """PyTorch::

        w = torch.tensor([1., -2.], requires_grad=True)
        for _ in range(3):
            loss = ((w * x).sum() - 1) ** 2
            loss.backward()
            with torch.no_grad():
                w -= 0.1 * w.grad
            w.grad.zero_()

    By hand, with x = (1, 2): r = w.x - 1, dL/dw = 2 r x, w <- w - 0.1 * 2 r x.
      step 1: r = -4    -> w = (1.8, -0.4)
      step 2: r = 0     -> w unchanged
    Start instead from w = (1, -1): r = -2 -> w = (1.4, -0.2); r = 0 -> unchanged; so use
    x = (1, 1), w = (0, 0): r = -1 -> w = (0.2, 0.2); r = -0.6 -> (0.32, 0.32); r = -0.36 -> (0.392, 0.392).
    """
    w = Tensor([0.0, 0.0], requires_grad=True)
    x = Tensor([1.0, 1.0])
    identity = id(w)
    expected = [[0.2, 0.2], [0.32, 0.32], [0.392, 0.392]]
    for step in range(3):
        loss = ((w * x).sum() - 1.0) ** 2
        loss.backward()
        with tg.no_grad():
            w -= 0.1 * w.grad
        w.grad.zero_()
        np.testing.assert_allclose(w.data, expected[step], rtol=0, atol=1e-12)
        assert id(w) == identity and w.requires_grad and not w._parents
        np.testing.assert_array_equal(w.grad.data, [0.0, 0.0])


def test_inplace_on_leaf_that_requires_grad_is_an_error_showing_no_grad():
    """PyTorch: ``w += 1`` -> RuntimeError: a leaf Variable that requires grad is being used in an
    in-place operation."""
    w = Tensor([1.0, 2.0], requires_grad=True)
    for change in (lambda: w.__iadd__(1.0), lambda: w.mul_(2.0), lambda: w.zero_(), lambda: w.__setitem__(0, 5.0)):
        pattern = r"leaf tensor that requires grad.*\n.*with tg.no_grad\(\):\n.*w -= lr \* w.grad"
        with pytest.raises(RuntimeError, match=pattern):
            change()
    np.testing.assert_array_equal(w.data, [1.0, 2.0])  # nothing was written


def test_no_grad_update_keeps_identity_and_leaf_status():
    w = Tensor([1.0, 2.0], requires_grad=True)
    array = w.data
    with tg.no_grad():
        w *= 3.0
        w.add_(Tensor([1.0, 1.0]), alpha=-2.0)
        w.clamp_(min=0.5)
    assert w.data is array  # written in place, no new array
    np.testing.assert_array_equal(w.data, [1.0, 4.0])
    assert w.requires_grad and not w._parents and w._version == 3


# ====================================================================== the data path: values and dtypes


@pytest.mark.parametrize(
    ("method", "args", "expected"),
    [
        ("add_", (2.0,), [3.0, 0.0, 5.0]),
        ("add_", ([1.0, 1.0, 1.0], ), [2.0, -1.0, 4.0]),
        ("sub_", (1.0,), [0.0, -3.0, 2.0]),
        ("sub_", (1.0, 3.0), [-2.0, -5.0, 0.0]),  # alpha
        ("mul_", (-2.0,), [-2.0, 4.0, -6.0]),
        ("div_", (2.0,), [0.5, -1.0, 1.5]),
        ("clamp_", (-1.0, 2.0), [1.0, -1.0, 2.0]),
        ("fill_", (7.0,), [7.0, 7.0, 7.0]),
        ("zero_", (), [0.0, 0.0, 0.0]),
        ("copy_", ([4.0, 5.0, 6.0],), [4.0, 5.0, 6.0]),
        ("copy_", (9.0,), [9.0, 9.0, 9.0]),  # broadcast
    ],
)
def test_inplace_methods_write_into_the_array(method, args, expected):
    t = Tensor([1.0, -2.0, 3.0])
    array = t.data
    assert getattr(t, method)(*args) is t
    assert t.data is array
    np.testing.assert_array_equal(t.data, expected)
    assert t._version == 1


def test_inplace_keeps_float32():
    """PyTorch: ``x32 += torch.ones(2, dtype=torch.float64)`` keeps float32 (same-kind cast)."""
    x = Tensor(np.array([1.0, 2.0], dtype=np.float32))
    x += np.array([0.5, 0.5])
    x *= 2
    assert x.dtype == np.float32
    np.testing.assert_array_equal(x.data, [3.0, 5.0])


def test_setitem_data_path():
    """PyTorch: ``t = torch.zeros(2, 3); t[0] = 1; t[:, 2] = torch.tensor([5., 6.])``."""
    t = tg.zeros(2, 3)
    t[0] = 1.0
    t[:, 2] = Tensor([5.0, 6.0])
    t[t.data < 0.5] = -1.0
    np.testing.assert_array_equal(t.data, [[1, 1, 5], [-1, -1, 6]])
    assert t._version == 3


def test_inplace_shape_and_read_only_errors():
    t = Tensor([1.0, 2.0, 3.0])
    pattern = r"add_ \(\+=\): an operand of shape \(2, 3\) does not broadcast to this tensor's shape \(3,\)"
    with pytest.raises(ValueError, match=pattern):
        t += np.ones((2, 3))
    with pytest.raises(ValueError, match=r"copy_: a source of shape \(2,\) does not broadcast to shape \(3,\)"):
        t.copy_([1.0, 2.0])
    with pytest.raises(ValueError, match="fill_: expected a number"):
        t.fill_(np.ones(2))
    with pytest.raises(ValueError, match="clamp_: give at least one of min and max"):
        t.clamp_()
    frozen = np.array([1.0, 2.0])
    frozen.flags.writeable = False
    ro = Tensor(frozen)
    with pytest.raises(ValueError, match=r"mul_ \(\*=\): this tensor's array \(shape \(2,\)\) is read-only"):
        ro *= 2.0
    expanded = Tensor([1.0]).expand(3)
    with pytest.raises(ValueError, match="read-only"):
        expanded.zero_()


@st.composite
def _inplace_programs(draw):
    shape = draw(st.sampled_from([(3,), (2, 3), (1, 4)]))
    steps = draw(st.lists(st.tuples(st.sampled_from(["add", "sub", "mul", "div", "clamp", "set", "fill"]),
                                    st.floats(0.5, 2.0), st.booleans()), min_size=1, max_size=8))
    return shape, steps


@given(_inplace_programs(), st.integers(0, 2**32 - 1))
def test_inplace_sequences_equal_their_out_of_place_versions(program, seed):
    """Under no_grad, each in-place op leaves the same values as the out-of-place expression."""
    shape, steps = program
    start = np.random.default_rng(seed).uniform(-3, 3, shape)
    t = Tensor(start.copy(), requires_grad=True)
    reference = Tensor(start.copy())
    with tg.no_grad():
        for op, c, tensor_operand in steps:
            other = Tensor(np.full(shape[-1:], c)) if tensor_operand else c
            if op == "add":
                t += other
                reference = reference + other
            elif op == "sub":
                t.sub_(other, alpha=0.5)
                reference = reference - other * 0.5
            elif op == "mul":
                t *= other
                reference = reference * other
            elif op == "div":
                t /= other
                reference = reference / other
            elif op == "clamp":
                t.clamp_(-c, c)
                reference = reference.clip(-c, c)
            elif op == "set":
                t[..., 0] = c
                reference = tg.where(np.arange(shape[-1]) == 0, c, reference)
            else:
                t.fill_(c)
                reference = reference * 0.0 + c
    np.testing.assert_allclose(t.data, reference.data, rtol=1e-12, atol=1e-12)
    assert t.requires_grad and not t._parents and t._version == len(steps)


# ====================================================================== the graph path (interior tensors)


def test_inplace_on_interior_tensor_is_recorded():
    """PyTorch::

        x = torch.tensor([1., 2., 3.], requires_grad=True)
        y = x * 2; y += 1; y *= x          # y = (2x + 1) x
        y.sum().backward(); x.grad         # 4x + 1 = tensor([ 5.,  9., 13.])
    """
    x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * 2.0
    identity = id(y)
    y += 1.0
    y *= x
    assert id(y) == identity and y.requires_grad and y._parents
    y.sum().backward()
    np.testing.assert_allclose(x.grad.data, [5.0, 9.0, 13.0])


def test_inplace_on_constant_with_a_grad_operand_joins_the_graph():
    """PyTorch: ``acc = torch.zeros(2); acc += w * 3; acc.sum().backward(); w.grad`` -> tensor([3., 3.])."""
    w = Tensor([1.0, 2.0], requires_grad=True)
    acc = tg.zeros(2)
    acc += w * 3.0
    assert acc.requires_grad and acc._parents
    acc.sum().backward()
    np.testing.assert_allclose(w.grad.data, [3.0, 3.0])


def test_setitem_fill_copy_clamp_in_the_graph():
    """PyTorch::

        x = torch.tensor([1., -2., 3.], requires_grad=True); v = torch.tensor(5., requires_grad=True)
        y = x * 1; y[1] = v * 2; (y * torch.tensor([1., 10., 100.])).sum().backward()
        x.grad -> tensor([  1.,   0., 100.]);  v.grad -> tensor(20.)
    """
    x = Tensor([1.0, -2.0, 3.0], requires_grad=True)
    v = Tensor(5.0, requires_grad=True)
    y = x * 1.0
    y[1] = v * 2.0
    np.testing.assert_array_equal(y.data, [1.0, 10.0, 3.0])
    (y * Tensor([1.0, 10.0, 100.0])).sum().backward()
    np.testing.assert_allclose(x.grad.data, [1.0, 0.0, 100.0])
    np.testing.assert_allclose(v.grad.data, 20.0)

    x.zero_grad()
    v.zero_grad()
    y = x * 1.0
    y.clamp_(-1.0, 2.0)
    z = x * 1.0
    z.fill_(v)  # dz/dv = 1 per element
    w = x * 1.0
    w.copy_(v * 3.0)
    (y.sum() + z.sum() + w.sum()).backward()
    np.testing.assert_allclose(x.grad.data, [1.0, 0.0, 0.0])  # clamp passes only the inside
    np.testing.assert_allclose(v.grad.data, 3.0 + 3 * 3.0)


def test_views_see_an_inplace_change():
    """PyTorch: a view shares memory with its base, so ``base.add_(1)`` shows in the view."""
    base = Tensor([[1.0, 2.0], [3.0, 4.0]])
    view = base.reshape(4)
    base += 1.0
    np.testing.assert_array_equal(view.data, [2.0, 3.0, 4.0, 5.0])
    assert view._version == base._version == 1


# ====================================================================== the version counter


def _saved_cases():
    """(build, which tensor gets changed): each op's VJP reads the changed tensor."""
    return {
        "mul saves x": (lambda a, b: a * b, "a"),
        "matmul saves y": (lambda a, b: a.reshape(1, 3) @ b.reshape(3, 1), "b"),
        "exp saves its output": (lambda a, b: a.exp(), "out"),
        "div saves y": (lambda a, b: a / b, "b"),
        "sigmoid saves its output": (lambda a, b: a.sigmoid() * b, "out"),
        "log saves x": (lambda a, b: a.log(), "a"),
    }


@pytest.mark.parametrize("case", sorted(_saved_cases()))
def test_change_of_a_saved_tensor_is_caught_at_backward(case):
    """PyTorch::

        a = torch.tensor([1., 2., 3.], requires_grad=True); b = torch.tensor([4., 5., 6.])
        y = a.exp()
        with torch.no_grad(): y += 1
        y.sum().backward()   # RuntimeError: one of the variables needed for gradient
            # computation has been modified by an inplace operation ... is at version 1; expected version 0
    """
    build, target = _saved_cases()[case]
    a = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = Tensor([4.0, 5.0, 6.0])
    out = build(a, b)
    changed = {"a": a, "b": b, "out": out}[target]
    if target == "out" and out._op != "exp" and out._op != "log":  # sigmoid(a) * b: change the sigmoid
        changed = out._parents[0]
    with tg.no_grad():
        changed.mul_(2.0)
    pattern = r"modified by an inplace operation \(mul_\): '\w+' saved .* at version 0; it is now at version 1"
    with pytest.raises(RuntimeError, match=pattern):
        out.sum().backward()


def test_change_of_an_unsaved_tensor_is_allowed_and_gradient_is_right():
    """PyTorch: ``z = a + b; with no_grad(): a.mul_(2); z.sum().backward()`` works: add saves nothing."""
    a = Tensor([1.0, 2.0], requires_grad=True)
    b = Tensor([3.0, 4.0], requires_grad=True)
    z = a + b
    with tg.no_grad():
        a.mul_(2.0)
    z.sum().backward()
    np.testing.assert_array_equal(a.grad.data, [1.0, 1.0])


def test_optimizer_step_between_forward_and_backward_is_caught():
    w = Tensor([[1.0, 2.0]], requires_grad=True)
    x = Tensor([[3.0], [4.0]])
    loss = (w @ x).sum()
    with tg.no_grad():
        w -= 0.1
    pattern = r"\(sub_ \(-=\)\): 'matmul' saved its input 0, a float64 tensor of shape \(1, 2\)"
    with pytest.raises(RuntimeError, match=pattern):
        loss.backward()


def test_change_through_detach_or_a_view_is_caught():
    """PyTorch shares one version counter between a tensor, its views and ``detach()``."""
    a = Tensor([1.0, 2.0], requires_grad=True)
    y = a * a
    a.detach().add_(1.0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()
    base = Tensor([1.0, 2.0, 3.0, 4.0])
    w = Tensor([1.0, 1.0], requires_grad=True)
    z = w * base[:2]  # getitem's output (a view of base) is saved by mul
    base[0] = 10.0
    with pytest.raises(RuntimeError, match=r"\(setitem\): 'mul' saved its input 1"):
        z.sum().backward()


def test_recorded_inplace_on_an_input_already_used_is_caught():
    """Here an op is linked to its input Tensor object; after ``y *= 2`` (recorded) that object
    stands for the new value, so backward through an earlier use of y raises instead of
    returning a wrong gradient. (PyTorch allows it when the earlier op saved nothing; see the
    coming-from-PyTorch page.)"""
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = x * 1.0
    z = y + 1.0
    y *= 3.0
    with pytest.raises(RuntimeError, match=r"input 0 of 'add' .* was changed by a recorded in-place op \('mul'\)"):
        z.sum().backward()


@given(
    st.sampled_from(["mul", "div", "matmul", "exp", "tanh", "sigmoid", "log", "sqrt", "pow", "abs", "relu", "max"]),
    st.sampled_from(["add_", "mul_", "setitem", "fill_", "zero_", "clamp_"]),
    st.integers(0, 2),
)
def test_any_inplace_change_of_a_saved_tensor_is_caught(op, change, which):
    """For every primitive that saves values, changing any saved array in place makes backward raise."""
    a = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = Tensor([0.5, 1.5, 2.5], requires_grad=True)
    build = {
        "mul": lambda: a * b, "div": lambda: a / b, "matmul": lambda: a.reshape(1, 3) @ b.reshape(3, 1),
        "exp": lambda: a.exp(),
        "tanh": lambda: a.tanh(), "sigmoid": lambda: a.sigmoid(), "log": lambda: a.log(),
        "sqrt": lambda: a.sqrt(), "pow": lambda: a ** b, "abs": lambda: a.abs(), "relu": lambda: a.relu(),
        "max": lambda: a.max(),
    }[op]
    out = build()
    saves = out._fn.saves
    saved = [out if s == "out" else out._parents[s] for s in saves]  # (for matmul: views of a and b)
    target = saved[which % len(saved)]
    with tg.no_grad():
        if change == "setitem":
            target[(0,) * target.ndim] = 7.0
        elif change in ("add_", "mul_"):
            getattr(target, change)(2.0)
        elif change == "fill_":
            target.fill_(7.0)
        elif change == "clamp_":
            target.clamp_(min=100.0)
        else:
            target.zero_()
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        out.sum().backward()


def test_no_inplace_change_means_no_check_and_normal_backward():
    """After an optimiser step, a fresh forward pass is born after the last write: no error."""
    w = Tensor([1.0, 2.0], requires_grad=True)
    for _ in range(2):
        loss = (w * w).sum()
        loss.backward()
        with tg.no_grad():
            w -= 0.5 * w.grad
        w.grad = None
    np.testing.assert_allclose(w.data, [0.0, 0.0])


def test_optimizer_step_before_backward_is_caught():
    """PyTorch: loss = model(x).sum(); opt.step() (changes the weights in place); loss.backward()
    -> RuntimeError: ... modified by an inplace operation."""
    from tinygrad_edu import nn, optim

    layer = nn.Linear(2, 1, seed=0)
    opt = optim.SGD(layer.parameters(), lr=0.1)
    x = Tensor([[1.0, 2.0]], requires_grad=True)
    layer(x).sum().backward()  # gradients for a first step
    loss = layer(x).sum()
    opt.step()
    with pytest.raises(RuntimeError, match=r"modified by an inplace operation \(SGD\.step\)"):
        loss.backward()
