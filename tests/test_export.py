"""Leaving for PyTorch: to_torch / from_torch (layer by layer, and traced for custom modules), checked
against the real engine. torch is optional: the tests skip cleanly without it (CI installs
``torch==2.13.0``). The ONNX tests are in test_export_onnx.py, the shared models in export_models.py.
"""

from __future__ import annotations

import numpy as np
import pytest
from export_models import (
    MODELS,
    Block,
    Functional,
    NewOps,
    inputs,
    mlp,
    ours_with_grads,
    random_mlps,
    torch_with_grads,
)
from hypothesis import given

import tinygrad_edu as tg
import tinygrad_edu.nn as nn


@pytest.mark.parametrize("name", list(MODELS))
def test_round_trip_ours_torch_ours_gives_equal_outputs_and_gradients(name):
    torch = pytest.importorskip("torch")
    from tinygrad_edu.export import from_torch, to_torch

    make, shape = MODELS[name]
    ours = make()
    ours.eval()  # Dropout: identity in both (its random masks differ by construction)
    theirs = to_torch(ours)
    assert isinstance(theirs, torch.nn.Sequential) and not theirs.training
    assert list(theirs.state_dict()) == list(ours.state_dict())  # same keys, same layouts
    back = from_torch(theirs)
    assert type(back) is nn.Sequential and repr(back[0]) == repr(ours[0])
    x = inputs(shape, 3)
    r = np.random.default_rng(1).normal(size=ours(tg.Tensor(x)).shape)
    out, dx, grads = ours_with_grads(ours, x, r)
    for other in (torch_with_grads(theirs, x, r), ours_with_grads(back, x, r)):
        np.testing.assert_allclose(other[0], out, rtol=1e-10, atol=1e-14)
        np.testing.assert_allclose(other[1], dx, rtol=1e-10, atol=1e-14)
        assert list(other[2]) == list(grads)
        for key in grads:
            np.testing.assert_allclose(other[2][key], grads[key], rtol=1e-10, atol=1e-14, err_msg=key)
    # copies, not views: training the torch model leaves ours alone
    with torch.no_grad():
        next(theirs.parameters()).add_(1.0)
    assert not np.array_equal(next(theirs.parameters()).detach().numpy(), ours.parameters()[0].data)
    np.testing.assert_array_equal(back.parameters()[0].data, ours.parameters()[0].data)


def test_to_torch_keeps_dtype_and_train_flags_and_loads_our_state_dict():
    torch = pytest.importorskip("torch")
    from tinygrad_edu.export import to_torch

    ours = mlp(np.float32)
    ours[1].eval()  # one layer in eval mode, the rest training
    theirs = to_torch(ours)
    assert next(theirs.parameters()).dtype == torch.float32
    assert theirs.training and not theirs[1].training and theirs[0].training
    # our state_dict loads straight into the torch model (the "two-line conversion")
    fresh = to_torch(mlp(np.float32))
    other = nn.MLP([4, 8, 8, 8, 3], activation=["tanh", "leaky_relu", "selu"], seed=5, dtype=np.float32)
    fresh.load_state_dict({k: torch.from_numpy(v) for k, v in other.state_dict().items()})
    np.testing.assert_array_equal(fresh[0].weight.detach().numpy(), other[0].weight.data)


def test_from_torch_converts_a_torch_built_model():
    torch = pytest.importorskip("torch")
    from tinygrad_edu.export import from_torch

    torch.manual_seed(0)
    theirs = torch.nn.Sequential(
        torch.nn.Conv2d(2, 3, (3, 2), stride=(2, 1), padding=(1, 0)), torch.nn.LeakyReLU(0.2),
        torch.nn.AvgPool2d(2), torch.nn.Flatten(), torch.nn.Linear(3 * 2 * 3, 4, bias=False), torch.nn.Tanh(),
    ).double()
    ours = from_torch(theirs)
    assert ours[4].bias is None and ours[0].stride == (2, 1)
    x = inputs((2, 8, 7), 2)
    r = np.random.default_rng(2).normal(size=(2, 4))
    out, dx, grads = ours_with_grads(ours, x, r)
    t_out, t_dx, t_grads = torch_with_grads(theirs, x, r)
    np.testing.assert_allclose(out, t_out, rtol=1e-10)
    np.testing.assert_allclose(dx, t_dx, rtol=1e-10, atol=1e-14)
    for key in t_grads:
        np.testing.assert_allclose(grads[key], t_grads[key], rtol=1e-10, atol=1e-14)


def test_shared_modules_and_tied_parameters_stay_shared():
    torch = pytest.importorskip("torch")
    from tinygrad_edu.export import from_torch, to_torch

    lin = torch.nn.Linear(3, 3).double()
    other = torch.nn.Linear(3, 3).double()
    other.weight = lin.weight  # tied weights
    theirs = torch.nn.Sequential(lin, torch.nn.Tanh(), lin, torch.nn.Tanh(), other)
    ours = from_torch(theirs)
    assert ours[0] is ours[2] and ours[4].weight is ours[0].weight
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    x, r = inputs((3,), 4), np.random.default_rng(3).normal(size=(4, 3))
    out, dx, grads = ours_with_grads(ours, x, r)
    t_out, t_dx, t_grads = torch_with_grads(theirs, x, r)
    np.testing.assert_allclose(out, t_out, rtol=1e-10)
    for key in t_grads:  # the tied weight's gradient sums all three uses, in both
        np.testing.assert_allclose(grads[key], t_grads[key], rtol=1e-10, atol=1e-14)
    again = to_torch(ours)
    assert again[0] is again[2] and again[4].weight is again[0].weight


def test_unsupported_layers_are_named_with_the_supported_set():
    torch = pytest.importorskip("torch")
    from tinygrad_edu.export import from_torch, to_torch

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(2, 2)

        def forward(self, x):
            return self.lin(x) * 2

    with pytest.raises(TypeError, match=r"to_torch: 1 is a Block, which has no counterpart; supported layers: "
                                        r"Sequential, MLP, Linear, Conv2d"):
        to_torch(nn.Sequential(nn.Linear(2, 2), Block()))

    class MyLinear(nn.Linear):  # a subclass may compute something else: refused, not treated as Linear
        pass

    with pytest.raises(TypeError, match="the model is a MyLinear"):
        to_torch(MyLinear(2, 2))
    with pytest.raises(TypeError, match=r"from_torch: 1 is a GELU, which has no counterpart; supported layers: "
                                        r"torch.nn.Sequential"):
        from_torch(torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.GELU()))
    with pytest.raises(ValueError, match=r"from_torch: 0 .* uses dilation=\(2, 2\)"):
        from_torch(torch.nn.Sequential(torch.nn.Conv2d(1, 1, 3, dilation=2)))
    with pytest.raises(ValueError, match="uses padding='same'"):
        from_torch(torch.nn.Conv2d(1, 1, 3, padding="same"))
    with pytest.raises(ValueError, match="uses ceil_mode=True"):
        from_torch(torch.nn.MaxPool2d(2, ceil_mode=True))
    with pytest.raises(TypeError, match="expected a torch.nn.Module, got Linear"):
        from_torch(nn.Linear(2, 2))


def test_missing_optional_packages_say_what_to_install(monkeypatch):
    import sys

    from tinygrad_edu.export import to_onnx, to_torch

    monkeypatch.setitem(sys.modules, "torch", None)  # makes `import torch` fail
    monkeypatch.setitem(sys.modules, "onnx", None)
    with pytest.raises(ImportError, match=r"to_torch needs the optional package 'torch'.*pip install torch"):
        to_torch(nn.Linear(2, 2))
    with pytest.raises(ImportError, match=r"to_onnx needs .*'onnx'.*pip install 'tinygrad-edu\[export\]'"):
        to_onnx(nn.Linear(2, 2), np.ones((1, 2)), "m.onnx")


@given(case=random_mlps())
def test_random_mlps_match_torch_in_outputs_and_gradients(case):
    pytest.importorskip("torch")
    from tinygrad_edu.export import from_torch, to_torch

    model, n_in, batch, seed = case
    x = inputs((n_in,), batch, seed=seed)
    r = np.random.default_rng(seed).normal(size=model(tg.Tensor(x)).shape)
    out, dx, grads = ours_with_grads(model, x, r)
    theirs = to_torch(model)
    for other in (torch_with_grads(theirs, x, r), ours_with_grads(from_torch(theirs), x, r)):
        np.testing.assert_allclose(other[0], out, rtol=1e-10, atol=1e-14)
        np.testing.assert_allclose(other[1], dx, rtol=1e-10, atol=1e-14)
        for key in grads:
            np.testing.assert_allclose(other[2][key], grads[key], rtol=1e-10, atol=1e-14, err_msg=key)


@pytest.mark.parametrize(("make", "shape", "dynamic"), [
    (lambda: Functional(), (2, 7, 8), True),
    (lambda: NewOps(overflow=False), (2, 4, 6), True),
    (lambda: Block(), (2, 3), False),  # multiplies by a batch-sized constant: a fixed batch only
], ids=["functional", "newops", "block"])
def test_custom_modules_become_traced_torch_modules_with_equal_outputs_and_gradients(make, shape, dynamic):
    pytest.importorskip("torch")
    from tinygrad_edu.export import from_torch, to_torch

    model = make()
    with pytest.raises(TypeError, match=r"is a \w+, which has no counterpart.*Or pass example_input="):
        to_torch(model)
    theirs = to_torch(model, inputs(shape, 2), dynamic_batch=dynamic)
    assert type(theirs).__name__ == "TracedModule" and list(theirs.state_dict()) == list(model.state_dict())
    for batch in (1, 4) if dynamic else (2,):
        x = inputs(shape, batch, seed=batch)
        r = np.random.default_rng(batch).normal(size=model(tg.Tensor(x)).shape)
        out, dx, grads = ours_with_grads(model, x, r)
        t_out, t_dx, t_grads = torch_with_grads(theirs, x, r)
        np.testing.assert_allclose(t_out, out, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(t_dx, dx, rtol=1e-10, atol=1e-12)
        for key in grads:
            np.testing.assert_allclose(t_grads[key], grads[key], rtol=1e-10, atol=1e-12, err_msg=key)
    with pytest.raises(TypeError, match="TracedModule, which has no counterpart"):
        from_torch(theirs)  # the way back is through the weights: model.load_state_dict


def test_a_traced_torch_module_trains_and_its_weights_come_back():
    torch = pytest.importorskip("torch")
    from tinygrad_edu.export import to_torch

    class Shared(nn.Module):  # one Linear used twice, plus a parameter of its own
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(3, 3, seed=0)
            self.gain = nn.Parameter(np.ones(3))

        def forward(self, x):
            return self.lin(self.lin(x).tanh()) * self.gain

    model = Shared()
    theirs = to_torch(model, inputs((3,), 2))
    assert [n for n, _ in theirs.named_parameters()] == ["gain", "lin.weight", "lin.bias"]
    opt = torch.optim.SGD(theirs.parameters(), lr=0.1)
    x = torch.tensor(inputs((3,), 8))
    for _ in range(3):
        opt.zero_grad()
        theirs(x).pow(2).mean().backward()
        opt.step()
    model.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    with torch.no_grad():
        np.testing.assert_allclose(model(tg.Tensor(x.numpy())).data, theirs(x).numpy(), rtol=1e-12)

    class Clipped(nn.Module):
        def forward(self, x):
            return x.clip(-0.5, 0.5) * 2

    from tinygrad_edu.export import ExportError

    with pytest.raises(ExportError, match=r"to_torch: the op 'where' in the model \(Clipped\), called at"):
        to_torch(Clipped(), inputs((3,), 2))


@pytest.mark.slow
def test_moving_on_worked_example_runs(tmp_path, monkeypatch):
    """docs/moving-on.md's worked example (fenced `python no-run`: test_docs.py cannot assume torch)."""
    import re
    from pathlib import Path

    pytest.importorskip("torch")
    pytest.importorskip("onnx")
    pytest.importorskip("onnxruntime")
    page = Path(__file__).resolve().parent.parent / "docs" / "moving-on.md"
    blocks = re.findall(r"^```python no-run[ \t]*\n(.*?)^```", page.read_text(encoding="utf-8"), re.S | re.M)
    assert len(blocks) == 1
    monkeypatch.chdir(tmp_path)
    exec(compile(blocks[0], f"{page}:worked-example", "exec"), {"__name__": "__docs__"})  # noqa: S102
    assert (tmp_path / "digits.onnx").exists()
