"""Leaving for PyTorch and ONNX: to_torch / from_torch / to_onnx, checked against the real engines.

torch, onnx and onnxruntime are optional: each test that needs one skips cleanly without it
(CI installs them in a separate step: ``pip install torch==2.13.0 onnx onnxruntime``).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_edu as tg
import tinygrad_edu.nn as nn
from tinygrad_edu import primitives as P


def mlp(dtype=np.float64) -> nn.Module:
    return nn.MLP([4, 8, 8, 8, 3], activation=["tanh", "leaky_relu", "selu"], output_activation="log_softmax",
                  seed=0, dtype=dtype)


def cnn(dtype=np.float64) -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1, seed=1, dtype=dtype), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(4, 4, 3, stride=2, padding=1, seed=2, dtype=dtype), nn.ELU(0.7),
        nn.AvgPool2d(2, stride=1, padding=1), nn.Sigmoid(),
        nn.Flatten(), nn.Dropout(0.25, seed=0), nn.Linear(4 * 3 * 3, 5, seed=3, dtype=dtype), nn.Softmax(),
    )


MODELS = {"mlp": (mlp, (4,)), "cnn": (cnn, (1, 8, 8))}


def _inputs(shape: tuple[int, ...], batch: int, dtype=np.float64, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(batch, *shape)).astype(dtype)


# ====================================================================== PyTorch


def _ours_with_grads(model: nn.Module, x: np.ndarray, r: np.ndarray) -> tuple[np.ndarray, np.ndarray, dict]:
    model.zero_grad()
    xt = tg.Tensor(x, requires_grad=True)
    out = model(xt)
    (out * r).sum().backward()
    return out.data, xt.grad.data, {name: p.grad.data for name, p in model.named_parameters()}


def _torch_with_grads(module, x: np.ndarray, r: np.ndarray) -> tuple[np.ndarray, np.ndarray, dict]:
    import torch

    module.zero_grad()
    xt = torch.tensor(x, requires_grad=True)
    out = module(xt)
    (out * torch.tensor(r)).sum().backward()
    return (out.detach().numpy(), xt.grad.numpy(),
            {name: p.grad.numpy() for name, p in module.named_parameters()})


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
    x = _inputs(shape, 3)
    r = np.random.default_rng(1).normal(size=ours(tg.Tensor(x)).shape)
    out, dx, grads = _ours_with_grads(ours, x, r)
    for other in (_torch_with_grads(theirs, x, r), _ours_with_grads(back, x, r)):
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
    x = _inputs((2, 8, 7), 2)
    r = np.random.default_rng(2).normal(size=(2, 4))
    out, dx, grads = _ours_with_grads(ours, x, r)
    t_out, t_dx, t_grads = _torch_with_grads(theirs, x, r)
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
    x, r = _inputs((3,), 4), np.random.default_rng(3).normal(size=(4, 3))
    out, dx, grads = _ours_with_grads(ours, x, r)
    t_out, t_dx, t_grads = _torch_with_grads(theirs, x, r)
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


_ACTIVATIONS = [nn.ReLU, nn.Sigmoid, nn.Tanh, nn.SELU, nn.Identity, lambda: nn.LeakyReLU(0.3), lambda: nn.ELU(0.5),
                lambda: nn.Softmax(axis=-1), lambda: nn.LogSoftmax(axis=-1), lambda: nn.Dropout(0.5)]


@st.composite
def random_mlps(draw):
    """A Sequential of Linear layers (some without bias) with random activations between them."""
    widths = draw(st.lists(st.integers(1, 5), min_size=2, max_size=5))
    layers: list = []
    for i, (n_in, n_out) in enumerate(zip(widths, widths[1:])):
        layers.append(nn.Linear(n_in, n_out, bias=draw(st.booleans()), seed=i))
        layers.append(draw(st.sampled_from(_ACTIVATIONS))())
    return nn.Sequential(*layers).eval(), widths[0], draw(st.integers(1, 4)), draw(st.integers(0, 2**16))


@given(case=random_mlps())
def test_random_mlps_match_torch_in_outputs_and_gradients(case):
    pytest.importorskip("torch")
    from tinygrad_edu.export import from_torch, to_torch

    model, n_in, batch, seed = case
    x = _inputs((n_in,), batch, seed=seed)
    r = np.random.default_rng(seed).normal(size=model(tg.Tensor(x)).shape)
    out, dx, grads = _ours_with_grads(model, x, r)
    theirs = to_torch(model)
    for other in (_torch_with_grads(theirs, x, r), _ours_with_grads(from_torch(theirs), x, r)):
        np.testing.assert_allclose(other[0], out, rtol=1e-10, atol=1e-14)
        np.testing.assert_allclose(other[1], dx, rtol=1e-10, atol=1e-14)
        for key in grads:
            np.testing.assert_allclose(other[2][key], grads[key], rtol=1e-10, atol=1e-14, err_msg=key)


# ====================================================================== ONNX


def _session(path):
    ort = pytest.importorskip("onnxruntime")
    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", list(MODELS))
def test_onnx_runtime_matches_ours_at_two_batch_sizes(name, dtype, tmp_path):
    onnx = pytest.importorskip("onnx")
    from tinygrad_edu.export import to_onnx

    make, shape = MODELS[name]
    model = make(dtype)
    path = to_onnx(model, _inputs(shape, 2, dtype), tmp_path / f"{name}.onnx")
    assert model.training  # the export ran in eval mode and restored the flags
    proto = onnx.load(str(path))
    onnx.checker.check_model(proto, full_check=True)
    assert proto.graph.input[0].type.tensor_type.shape.dim[0].dim_param == "batch"
    names = {i.name for i in proto.graph.initializer}
    # weights keep their names (a float64 Conv is written as one MatMul per kernel offset: W[:, :, u, v]^T)
    kernels = {k for k in model.state_dict() if dtype == np.float64 and name == "cnn" and k.endswith("weight")
               and model.state_dict()[k].ndim == 4}
    assert names >= set(model.state_dict()) - kernels
    session = _session(path)
    model.eval()
    # float64 runs in float64 (ORT lacks float64 Conv/AveragePool: those become Slice + MatMul sums)
    tol = {"rtol": 1e-10, "atol": 1e-13} if dtype == np.float64 else {"rtol": 1e-5, "atol": 1e-6}
    for batch in (1, 5):
        x = _inputs(shape, batch, dtype, seed=batch)
        (theirs,) = session.run(None, {"input": x})
        assert theirs.dtype == dtype and theirs.shape[0] == batch
        np.testing.assert_allclose(theirs, model(tg.Tensor(x)).data, **tol)


@given(case=random_mlps(), dtype=st.sampled_from([np.float32, np.float64]))
def test_random_mlps_run_in_onnx_runtime_with_our_outputs(case, dtype):
    pytest.importorskip("onnx")
    import tempfile
    from pathlib import Path

    from tinygrad_edu.export import to_onnx

    model, n_in, batch, seed = case
    for p in model.parameters():  # built in float64; cast the weights for the float32 case
        p.data = p.data.astype(dtype)
    with tempfile.TemporaryDirectory() as tmp:
        session = _session(to_onnx(model, _inputs((n_in,), batch, dtype, seed), Path(tmp) / "m.onnx"))
    x = _inputs((n_in,), batch + 2, dtype, seed + 1)
    (theirs,) = session.run(None, {"input": x})
    tol = {"rtol": 1e-10, "atol": 1e-13} if dtype == np.float64 else {"rtol": 2e-5, "atol": 1e-6}
    np.testing.assert_allclose(theirs, model(tg.Tensor(x)).data, **tol)


class Block(nn.Module):
    """Custom code: reshapes with the batch size, reductions, a layer norm, softmax, indexing."""

    def __init__(self) -> None:
        super().__init__()
        self.lin = nn.Linear(6, 6, seed=0)
        self.scale = nn.Parameter(np.linspace(0.5, 1.5, 6))

    def forward(self, x):
        h = x.reshape(x.shape[0], -1)
        z = self.lin(h).tanh() * self.scale + h.exp() / 4 - h.abs().sqrt()
        z = (z - z.mean(axis=1, keepdims=True)) / (z.var(axis=1, keepdims=True) + 1e-5) ** 0.5
        z = tg.maximum(z.log_softmax(axis=-1), -3.0) + z.softmax(axis=-1).max(axis=1, keepdims=True)
        return z.reshape(x.shape[0], 2, 3)[:, 1, ::2].permute(1, 0).pad(((1, 0), (0, 0))) @ np.ones((x.shape[0], 2))


def test_onnx_traces_custom_forward_code_with_a_dynamic_batch(tmp_path):
    pytest.importorskip("onnx")
    from tinygrad_edu.export import to_onnx

    model = Block()

    def run(x):
        return model(tg.Tensor(x)).data

    # the last matmul multiplies by a (batch, 2) constant: not expressible for other batch sizes
    from tinygrad_edu.export import ExportError

    with pytest.raises(ExportError, match=r"a constant used by matmul in the model \(Block\), called at .* changes"):
        to_onnx(model, _inputs((2, 3), 3), tmp_path / "block.onnx")
    path = to_onnx(model, _inputs((2, 3), 3), tmp_path / "block.onnx", dynamic_batch=False)
    (theirs,) = _session(path).run(None, {"input": _inputs((2, 3), 3, seed=9)})
    np.testing.assert_allclose(theirs, run(_inputs((2, 3), 3, seed=9)), rtol=1e-10, atol=1e-13)
    with pytest.raises(Exception, match="(?i)dimension|shape|invalid"):
        _session(path).run(None, {"input": _inputs((2, 3), 4)})  # the batch is fixed now


def test_onnx_custom_code_with_dynamic_batch(tmp_path):
    pytest.importorskip("onnx")
    from tinygrad_edu.export import to_onnx

    class Head(Block):
        def forward(self, x):
            h = x.reshape(x.shape[0], -1)
            z = self.lin(h).tanh() * self.scale + h.exp() / 4 - h.abs().sqrt()
            z = (z - z.mean(axis=1, keepdims=True)) / (z.var(axis=1, keepdims=True) + 1e-5) ** 0.5
            z = tg.maximum(z.log_softmax(axis=-1), -3.0) + z.softmax(axis=-1).max(axis=1, keepdims=True)
            return z.reshape(x.shape[0], 2, 3)[:, 1, ::2].pad(((0, 0), (1, 0))).sum(axis=1)

    model = Head()
    path = to_onnx(model, _inputs((2, 3), 3), tmp_path / "head.onnx")
    session = _session(path)
    for batch in (1, 6):
        x = _inputs((2, 3), batch, seed=batch)
        (theirs,) = session.run(None, {"input": x})
        np.testing.assert_allclose(theirs, model(tg.Tensor(x)).data, rtol=1e-10, atol=1e-13)


class Functional(nn.Module):
    """conv2d / pooling called as functions: traced through their primitives (gathers, batch-sized reshapes)."""

    def __init__(self) -> None:
        super().__init__()
        self.w = nn.Parameter(np.random.default_rng(0).normal(size=(3, 2, 3, 3)))
        self.b = nn.Parameter(np.arange(3.0))

    def forward(self, x):
        z = nn.conv2d(x, self.w, self.b, stride=(1, 2), padding=1, method="im2col")
        z = nn.conv2d(x, self.w, None, stride=1, padding=(0, 1)).relu().sum(axis=(2, 3), keepdims=True) + z
        z = nn.avg_pool2d(z, 3, stride=2, padding=1) + nn.max_pool2d(z, 2, stride=1, padding=1)[:, :, :8:2, :2]
        return z.flatten(1)


def test_onnx_traces_functional_convolutions_and_pools(tmp_path):
    pytest.importorskip("onnx")
    from tinygrad_edu.export import to_onnx

    model = Functional()
    session = _session(to_onnx(model, _inputs((2, 7, 8), 2), tmp_path / "f.onnx"))
    for batch in (1, 3):
        x = _inputs((2, 7, 8), batch, seed=batch)
        (theirs,) = session.run(None, {"input": x})
        np.testing.assert_allclose(theirs, model(tg.Tensor(x)).data, rtol=1e-10, atol=1e-12)


class NewOps(nn.Module):
    """The primitives added by issues 16 and 17: fused linear, im2col, window sums, max pool, sin/cos,
    log1p/expm1 (at tiny and huge arguments), cumsum, concatenate."""

    def __init__(self, dtype=np.float64) -> None:
        super().__init__()
        rng = np.random.default_rng(0)
        self.w = nn.Parameter(rng.normal(size=(2, 2, 3, 3)), dtype=dtype)
        self.lin = nn.Parameter(rng.normal(size=(4, 24)), dtype=dtype)
        self.b = nn.Parameter(rng.normal(size=4), dtype=dtype)

    def forward(self, x):
        z = nn.conv2d(x, self.w, None, padding=1)  # (N, 2, 4, 6) through im2col
        z = tg.concatenate([nn.avg_pool2d(z, 2), nn.max_pool2d(z, 3, stride=1, padding=1)[:, :, ::2, ::2]], axis=1)
        h = nn.linear(z.flatten(1), self.lin, self.b)  # (N, 4), the fused primitive
        tiny = h * 1e-12
        parts = [h.sin(), h.cos(), tiny.log1p() * 1e12, tiny.expm1() * 1e12, (h * 1000).expm1(), (h * -1000).expm1()]
        return tg.concatenate([*parts, h.abs().log1p(), h.cumsum(axis=1)], axis=1)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_onnx_exports_the_newer_primitives(dtype, tmp_path):
    pytest.importorskip("onnx")
    from tinygrad_edu.export import to_onnx

    model = NewOps(dtype)
    session = _session(to_onnx(model, _inputs((2, 4, 6), 2, dtype), tmp_path / "n.onnx"))
    tol = {"rtol": 1e-10, "atol": 1e-12} if dtype == np.float64 else {"rtol": 2e-5, "atol": 1e-5}
    for batch in (1, 3):
        x = _inputs((2, 4, 6), batch, dtype, seed=batch)
        (theirs,) = session.run(None, {"input": x})
        ours = model(tg.Tensor(x)).data
        assert np.isinf(ours).any()  # expm1(+-1000 h) overflows on one side (and is -1 on the other), in both
        np.testing.assert_allclose(theirs, ours, **tol)


def test_ops_onnx_runtime_lacks_in_float64_are_refused_and_run_in_float32(tmp_path):
    pytest.importorskip("onnx")
    from tinygrad_edu.export import ExportError, to_onnx

    class Special(nn.Module):
        def forward(self, x):
            return x.erf() + x.atan() + (x * 0.5).asin()

    with pytest.raises(ExportError, match=r"erf in the model \(Special\).*no float64 kernel for Erf; export the"):
        to_onnx(Special(), _inputs((3,), 2), tmp_path / "s.onnx")
    path = to_onnx(Special(), _inputs((3,), 2, np.float32), tmp_path / "s.onnx")
    x = _inputs((3,), 4, np.float32, seed=1)
    np.testing.assert_allclose(_session(path).run(None, {"input": x})[0], Special()(tg.Tensor(x)).data, rtol=1e-5,
                               atol=1e-6)


class Square(P.Primitive):
    """z = x^2 (a primitive the exporter does not know);  dL/dx = 2 x g."""

    name = "square"

    @staticmethod
    def forward(x):
        return x * x

    @staticmethod
    def backward(g, out, x):
        return (g * x * 2.0,)


class UsesSquare(nn.Module):
    def forward(self, x):
        return x._apply(Square, x) + 1.0


def test_unknown_ops_are_named_with_where_they_were_called_and_a_row_adds_them(tmp_path):
    pytest.importorskip("onnx")
    from tinygrad_edu.export import ONNX_PRIMITIVES, ExportError, to_onnx

    model = nn.Sequential(nn.Linear(2, 2, seed=0), UsesSquare())
    with pytest.raises(ExportError, match=r"the op 'square' \(Square\) in the model \(Sequential\) > 1 "
                                          r"\(UsesSquare\), called at test_export.py:\d+ in forward "
                                          r"\(return x._apply\(Square, x\) \+ 1.0\) "
                                          r"has no ONNX emitter; exportable primitives: \['Abs', "):
        to_onnx(model, np.ones((2, 2)), tmp_path / "m.onnx")
    assert not (tmp_path / "m.onnx").exists()
    ONNX_PRIMITIVES[Square] = lambda b, t, t2, ins: b.node("Mul", [ins[0], ins[0]])  # the table is the extension point
    try:
        path = to_onnx(model, np.ones((2, 2)), tmp_path / "m.onnx")
    finally:
        del ONNX_PRIMITIVES[Square]
    x = _inputs((2,), 3)
    np.testing.assert_allclose(_session(path).run(None, {"input": x})[0], model(tg.Tensor(x)).data, rtol=1e-12)


def test_data_dependent_masks_and_graphs_are_refused_not_exported_wrong(tmp_path):
    pytest.importorskip("onnx")
    from tinygrad_edu.export import ExportError, to_onnx

    class Clipped(nn.Module):
        def forward(self, x):
            return x.clip(-0.5, 0.5)  # where() with a mask computed in numpy from the data

    with pytest.raises(ExportError, match=r"the op 'where' in the model \(Clipped\), called at test_export.py:\d+ in "
                                          r"forward \(return x.clip\(-0.5, 0.5\) .* has parameters that change with"):
        to_onnx(Clipped(), _inputs((3,), 2), tmp_path / "c.onnx")

    class Branchy(nn.Module):
        def forward(self, x):
            return x.exp() if x.shape[0] > 2 else x.tanh()

    with pytest.raises(ExportError, match="records a different graph on another input"):
        to_onnx(Branchy(), _inputs((3,), 2), tmp_path / "b.onnx")
    with pytest.raises(ValueError, match=r"expected a path ending in .onnx"):
        to_onnx(mlp(), _inputs((4,), 2), tmp_path / "m.pt")
    with pytest.raises(ValueError, match=r"opset must be in 13\.\."):
        to_onnx(mlp(), _inputs((4,), 2), tmp_path / "m.onnx", opset=9)
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_onnx_opset_18_and_fixed_batch(tmp_path):
    onnx = pytest.importorskip("onnx")
    from tinygrad_edu.export import to_onnx

    model = nn.Sequential(nn.Linear(3, 4, seed=0), nn.Softmax())

    class MaxHead(nn.Module):
        def forward(self, x):
            return x.max(axis=1) - x.sum(axis=1)

    model.append(MaxHead())
    path = to_onnx(model, _inputs((3,), 2), tmp_path / "m.onnx", opset=18, dynamic_batch=False)
    proto = onnx.load(str(path))
    assert proto.opset_import[0].version == 18
    assert [d.dim_value for d in proto.graph.input[0].type.tensor_type.shape.dim] == [2, 3]
    x = _inputs((3,), 2, seed=4)
    np.testing.assert_allclose(_session(path).run(None, {"input": x})[0], model(tg.Tensor(x)).data, rtol=1e-12)


# ====================================================================== safetensors


def test_safetensors_round_trip_and_interoperability(tmp_path):
    from tinygrad_edu.export import load_safetensors, save_safetensors

    model = cnn()
    state = {**model.state_dict(), "steps": np.arange(3, dtype=np.int32), "mask": np.array([True, False]),
             "half": np.ones((2, 2), np.float16), "big_endian": np.arange(3.0).astype(">f8")}
    path = save_safetensors(state, tmp_path / "w.safetensors", metadata={"epoch": "3"})
    back = load_safetensors(path)
    assert list(back) == list(state)
    for key, value in state.items():
        np.testing.assert_array_equal(back[key], value)
        assert back[key].dtype == value.dtype.newbyteorder("=") and back[key].flags.writeable
    save_safetensors(model, tmp_path / "m.safetensors")  # a Module saves its state_dict
    fresh = cnn()
    fresh.load_state_dict(load_safetensors(tmp_path / "m.safetensors"))
    np.testing.assert_array_equal(fresh[0].weight.data, model[0].weight.data)
    st = pytest.importorskip("safetensors.numpy")  # the reference implementation reads ours, and we read its
    theirs = st.load_file(str(path))
    for key, value in state.items():
        np.testing.assert_array_equal(theirs[key], value)
    st.save_file({"a": np.arange(6.0).reshape(2, 3), "b": np.zeros(4, np.float32)}, str(tmp_path / "t.safetensors"))
    ours = load_safetensors(tmp_path / "t.safetensors")
    np.testing.assert_array_equal(ours["a"], np.arange(6.0).reshape(2, 3))
    assert ours["b"].dtype == np.float32


def test_safetensors_bad_files_fail_clearly(tmp_path):
    import json
    import struct

    from tinygrad_edu.checkpoint import CheckpointError
    from tinygrad_edu.export import load_safetensors, save_safetensors

    def write(name: str, header: dict, data: bytes) -> str:
        text = json.dumps(header).encode()
        (tmp_path / name).write_bytes(struct.pack("<Q", len(text)) + text + data)
        return str(tmp_path / name)

    huge = write("huge.safetensors", {"x": {"dtype": "F64", "shape": [10**11], "data_offsets": [0, 8 * 10**11]}}, b"")
    with pytest.raises(CheckpointError, match="outside the data"):
        load_safetensors(huge)
    liar = write("liar.safetensors", {"x": {"dtype": "F64", "shape": [3], "data_offsets": [0, 8]}}, bytes(8))
    with pytest.raises(CheckpointError, match=r"declares shape \(3,\) of float64 but spans 8 bytes"):
        load_safetensors(liar)
    odd = write("odd.safetensors", {"x": {"dtype": "C64", "shape": [1], "data_offsets": [0, 8]}}, bytes(8))
    with pytest.raises(CheckpointError, match="malformed header entry for 'x'"):
        load_safetensors(odd)
    (tmp_path / "short.safetensors").write_bytes(b"\xff" * 12)
    with pytest.raises(CheckpointError, match="header in a 12-byte file"):
        load_safetensors(tmp_path / "short.safetensors")
    big = write("big.safetensors", {"x": {"dtype": "U8", "shape": [100], "data_offsets": [0, 100]}}, bytes(100))
    with pytest.raises(CheckpointError, match="more than max_bytes=10"):
        load_safetensors(big, max_bytes=10)
    with pytest.raises(CheckpointError, match="expected a .safetensors path"):
        save_safetensors({"x": np.ones(1)}, tmp_path / "x.npz")
    with pytest.raises(CheckpointError, match=r"'s' holds <U1 data; safetensors stores"):
        save_safetensors({"s": np.array(["a"])}, tmp_path / "s.safetensors")
    assert not (tmp_path / "s.safetensors").exists()


# ====================================================================== the docs page


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
