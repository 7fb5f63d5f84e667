"""The tensor core against PyTorch itself, where it is installed (torch is never a dependency).

The other tests of issue 12 quote PyTorch's results; these run the same programs in both and
compare: dtype promotion (PyTorch's default dtype set to float64, ours), in-place programs'
values and gradients, and which in-place changes make ``backward`` raise.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_edu as tg

torch = pytest.importorskip("torch")


@pytest.fixture(autouse=True)
def _torch_float64():
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(previous)


_DTYPES = ["bool", "int32", "int64", "float32", "float64"]
_SCALARS = [True, 2, 2.5]


@pytest.mark.parametrize("a", _DTYPES)
@pytest.mark.parametrize("b", [*_DTYPES, *_SCALARS], ids=str)
def test_promotion_matches_torch(a, b):
    x = tg.tensor(np.array([1, 0]).astype(a))
    tx = torch.tensor(np.array([1, 0]).astype(a))
    if isinstance(b, str):
        y, ty = tg.tensor(np.array([1, 1]).astype(b)), torch.tensor(np.array([1, 1]).astype(b))
    else:
        y, ty = b, b
    subtract = a != "bool" and b not in ("bool", True)  # (PyTorch refuses - with bool tensors)
    for ours, theirs in ((x * y, tx * ty), (x + y, tx + ty), (x - y, tx - ty) if subtract else (x, tx)):
        assert str(ours.dtype) == str(theirs.dtype).removeprefix("torch.")
    if a != "bool" and b not in ("bool", True):
        assert str((x / y).dtype) == str((tx / ty).dtype).removeprefix("torch.")


def _run(lib, program):
    """Run ``program(lib)``; return ("raised", message) or the values it returns as numpy arrays."""
    try:
        return [np.asarray(v.detach().numpy() if lib == "torch" else v.data) for v in program(lib)]
    except RuntimeError as err:
        return ("raised", str(err))


def _t(lib, values, grad=False):
    if lib == "torch":
        return torch.tensor(np.asarray(values, dtype=np.float64), requires_grad=grad)
    return tg.Tensor(np.asarray(values, dtype=np.float64), requires_grad=grad)


def _no_grad(lib):
    return torch.no_grad() if lib == "torch" else tg.no_grad()


def _exp_output_changed(lib):
    a = _t(lib, [1.0, 2.0], True)
    y = a.exp()
    with _no_grad(lib):
        y += 1
    y.sum().backward()
    return [a.grad]


def _mul_unneeded_input_changed(lib):
    a, b = _t(lib, [1.0, 2.0], True), _t(lib, [3.0, 4.0])
    z = a * b
    with _no_grad(lib):
        a.mul_(2)
    z.sum().backward()
    return [a.grad]


def _mul_needed_input_changed(lib):
    a, b = _t(lib, [1.0, 2.0], True), _t(lib, [3.0, 4.0])
    z = a * b
    with _no_grad(lib):
        b.mul_(2)
    z.sum().backward()
    return [a.grad]


def _weights_changed_before_backward(lib):
    w, X = _t(lib, [[1.0, 2.0]], True), _t(lib, [[3.0], [4.0]])
    loss = (w @ X).sum()
    with _no_grad(lib):
        w -= 0.1
    loss.backward()
    return [w.grad, w]


def _interior_idioms(lib):
    x = _t(lib, [[1.0, 2.0], [3.0, 4.0]], True)
    y = x * 3
    y[0] += 1
    y[1] *= x[0]
    y.add_(y * 2)
    y[:, 1] = y[:, 0] * 0.5
    y.clamp_(max=20.0)
    (y * _t(lib, [[1.0, 2.0], [3.0, 4.0]])).sum().backward()
    return [y, x.grad]


def _leaf_in_grad_mode(lib):
    w = _t(lib, [1.0], True)
    w += 1
    return [w]


def _sgd_three_steps(lib):
    w, x = _t(lib, [0.5, -1.0], True), _t(lib, [1.0, 2.0])
    for _ in range(3):
        loss = ((w * x).sum() - 1) ** 2
        loss.backward()
        with _no_grad(lib):
            w -= 0.1 * w.grad
        w.grad.zero_()
    return [w]


@pytest.mark.parametrize(
    "program",
    [_exp_output_changed, _mul_unneeded_input_changed, _mul_needed_input_changed, _weights_changed_before_backward,
     _interior_idioms, _leaf_in_grad_mode, _sgd_three_steps],
    ids=lambda f: f.__name__.strip("_"),
)
def test_inplace_programs_match_torch(program):
    ours, theirs = _run("tg", program), _run("torch", program)
    if isinstance(theirs, tuple):
        assert isinstance(ours, tuple), f"PyTorch raised ({theirs[1][:80]}...), we returned {ours}"
    else:
        assert not isinstance(ours, tuple), f"we raised: {ours[1]}"
        for a, b in zip(ours, theirs):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


@given(st.lists(st.tuples(st.sampled_from(["add", "mul", "sub", "div", "div_tensor", "clamp", "set", "index_add"]),
                          st.floats(0.5, 2.0)), min_size=1, max_size=6),
       st.integers(0, 2**32 - 1))
def test_random_recorded_inplace_programs_match_torch(steps, seed):
    rng = np.random.default_rng(seed)
    start, weights = rng.uniform(0.5, 3, (2, 3)), rng.normal(size=(2, 3))

    def program(lib):
        x = _t(lib, start, True)
        y = x * 1
        for op, c in steps:
            if op == "add":
                y += c
            elif op == "mul":
                y *= x
            elif op == "sub":
                y.sub_(x, alpha=c)
            elif op == "div":
                y /= c
            elif op == "div_tensor":
                y /= x + c  # its VJP needs y's old value for dL/dx: PyTorch keeps it too
            elif op == "clamp":
                y.clamp_(-c, c)
            elif op == "set":
                y[0] = x[1] * c
            else:
                y[:, 0] += c
        (y * _t(lib, weights)).sum().backward()
        return [y, x.grad]

    ours, theirs = _run("tg", program), _run("torch", program)
    assert not isinstance(theirs, tuple)
    assert not isinstance(ours, tuple), ours[1]
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_masks_indexing_and_names_match_torch():
    data = [5.0, -3.0, 7.0, 2.0]
    x, tx = tg.Tensor(data), torch.tensor(data)
    np.testing.assert_array_equal(x[(x > 0) * (x < 6)].data, tx[(tx > 0) * (tx < 6)].numpy())
    np.testing.assert_array_equal(x[(x > 0) & ~(x > 6)].data, tx[(tx > 0) & ~(tx > 6)].numpy())
    with pytest.raises(IndexError):
        tx[(tx > 0).float()]
    with pytest.raises(IndexError):
        x[(x > 0).float()]
    m = np.arange(24.0).reshape(2, 3, 4)
    t, tt = tg.Tensor(m), torch.tensor(m)
    np.testing.assert_array_equal(t.transpose(0, 2).data, tt.transpose(0, 2).numpy())
    np.testing.assert_array_equal(t.sum(dim=1, keepdim=True).data, tt.sum(dim=1, keepdim=True).numpy())
    assert t.size() == tuple(tt.size()) and t.size(1) == tt.size(1) and t.numel() == tt.numel() and t.dim() == tt.dim()
    assert f"{t.sum():.3f}" == f"{tt.sum():.3f}"
