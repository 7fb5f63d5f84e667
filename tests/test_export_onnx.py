"""Leaving for ONNX: to_onnx checked with onnx.checker and against ONNX Runtime (float32 and float64,
two batch sizes), plus every refusal. onnx and onnxruntime are optional (the ``[export]`` extra):
the tests skip cleanly without them.
"""

from __future__ import annotations

import numpy as np
import pytest
from export_models import MODELS, Block, Functional, NewOps, inputs, mlp, ort_session, random_mlps
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_edu as tg
import tinygrad_edu.nn as nn
from tinygrad_edu import primitives as P


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", list(MODELS))
def test_onnx_runtime_matches_ours_at_two_batch_sizes(name, dtype, tmp_path):
    onnx = pytest.importorskip("onnx")
    from tinygrad_edu.export import to_onnx

    make, shape = MODELS[name]
    model = make(dtype)
    path = to_onnx(model, inputs(shape, 2, dtype), tmp_path / f"{name}.onnx")
    assert model.training  # the export ran in eval mode and restored the flags
    proto = onnx.load(str(path))
    onnx.checker.check_model(proto, full_check=True)
    assert proto.graph.input[0].type.tensor_type.shape.dim[0].dim_param == "batch"
    names = {i.name for i in proto.graph.initializer}
    # weights keep their names (a float64 Conv is written as one MatMul per kernel offset: W[:, :, u, v]^T)
    kernels = {k for k in model.state_dict() if dtype == np.float64 and name == "cnn" and k.endswith("weight")
               and model.state_dict()[k].ndim == 4}
    assert names >= set(model.state_dict()) - kernels
    session = ort_session(path)
    model.eval()
    # float64 runs in float64 (ORT lacks float64 Conv/AveragePool: those become Slice + MatMul sums)
    tol = {"rtol": 1e-10, "atol": 1e-13} if dtype == np.float64 else {"rtol": 1e-5, "atol": 1e-6}
    for batch in (1, 5):
        x = inputs(shape, batch, dtype, seed=batch)
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
        session = ort_session(to_onnx(model, inputs((n_in,), batch, dtype, seed), Path(tmp) / "m.onnx"))
    x = inputs((n_in,), batch + 2, dtype, seed + 1)
    (theirs,) = session.run(None, {"input": x})
    tol = {"rtol": 1e-10, "atol": 1e-13} if dtype == np.float64 else {"rtol": 2e-5, "atol": 1e-6}
    np.testing.assert_allclose(theirs, model(tg.Tensor(x)).data, **tol)


def test_onnx_traces_custom_forward_code_with_a_dynamic_batch(tmp_path):
    pytest.importorskip("onnx")
    from tinygrad_edu.export import to_onnx

    model = Block()

    def run(x):
        return model(tg.Tensor(x)).data

    # the last matmul multiplies by a (batch, 2) constant: not expressible for other batch sizes
    from tinygrad_edu.export import ExportError

    with pytest.raises(ExportError, match=r"a constant used by matmul in the model \(Block\), called at .* changes"):
        to_onnx(model, inputs((2, 3), 3), tmp_path / "block.onnx")
    path = to_onnx(model, inputs((2, 3), 3), tmp_path / "block.onnx", dynamic_batch=False)
    (theirs,) = ort_session(path).run(None, {"input": inputs((2, 3), 3, seed=9)})
    np.testing.assert_allclose(theirs, run(inputs((2, 3), 3, seed=9)), rtol=1e-10, atol=1e-13)
    with pytest.raises(Exception, match="(?i)dimension|shape|invalid"):
        ort_session(path).run(None, {"input": inputs((2, 3), 4)})  # the batch is fixed now


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
    path = to_onnx(model, inputs((2, 3), 3), tmp_path / "head.onnx")
    session = ort_session(path)
    for batch in (1, 6):
        x = inputs((2, 3), batch, seed=batch)
        (theirs,) = session.run(None, {"input": x})
        np.testing.assert_allclose(theirs, model(tg.Tensor(x)).data, rtol=1e-10, atol=1e-13)


def test_onnx_traces_functional_convolutions_and_pools(tmp_path):
    pytest.importorskip("onnx")
    from tinygrad_edu.export import to_onnx

    model = Functional()
    session = ort_session(to_onnx(model, inputs((2, 7, 8), 2), tmp_path / "f.onnx"))
    for batch in (1, 3):
        x = inputs((2, 7, 8), batch, seed=batch)
        (theirs,) = session.run(None, {"input": x})
        np.testing.assert_allclose(theirs, model(tg.Tensor(x)).data, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_onnx_exports_the_newer_primitives(dtype, tmp_path):
    pytest.importorskip("onnx")
    from tinygrad_edu.export import to_onnx

    model = NewOps(dtype)
    session = ort_session(to_onnx(model, inputs((2, 4, 6), 2, dtype), tmp_path / "n.onnx"))
    tol = {"rtol": 1e-10, "atol": 1e-12} if dtype == np.float64 else {"rtol": 2e-5, "atol": 1e-5}
    for batch in (1, 3):
        x = inputs((2, 4, 6), batch, dtype, seed=batch)
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
        to_onnx(Special(), inputs((3,), 2), tmp_path / "s.onnx")
    path = to_onnx(Special(), inputs((3,), 2, np.float32), tmp_path / "s.onnx")
    x = inputs((3,), 4, np.float32, seed=1)
    np.testing.assert_allclose(ort_session(path).run(None, {"input": x})[0], Special()(tg.Tensor(x)).data, rtol=1e-5,
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
                                          r"\(UsesSquare\), called at test_export_onnx.py:\d+ in forward "
                                          r"\(return x._apply\(Square, x\) \+ 1.0\) "
                                          r"has no ONNX emitter; exportable primitives: \['Abs', "):
        to_onnx(model, np.ones((2, 2)), tmp_path / "m.onnx")
    assert not (tmp_path / "m.onnx").exists()
    ONNX_PRIMITIVES[Square] = lambda b, t, t2, ins: b.node("Mul", [ins[0], ins[0]])  # the table is the extension point
    try:
        path = to_onnx(model, np.ones((2, 2)), tmp_path / "m.onnx")
    finally:
        del ONNX_PRIMITIVES[Square]
    x = inputs((2,), 3)
    np.testing.assert_allclose(ort_session(path).run(None, {"input": x})[0], model(tg.Tensor(x)).data, rtol=1e-12)


def test_a_constant_mask_broadcast_over_the_batch_exports(tmp_path):
    pytest.importorskip("onnx")
    from tinygrad_edu.export import to_onnx

    class Masked(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(3, 3, seed=0)

        def forward(self, x):
            return tg.where(np.array([True, False, True]), self.lin(x), -x)  # the mask does not depend on x

    model = Masked()
    session = ort_session(to_onnx(model, inputs((3,), 2), tmp_path / "m.onnx"))
    x = inputs((3,), 5, seed=3)
    np.testing.assert_allclose(session.run(None, {"input": x})[0], model(tg.Tensor(x)).data, rtol=1e-12)


def test_data_dependent_masks_and_graphs_are_refused_not_exported_wrong(tmp_path):
    pytest.importorskip("onnx")
    from tinygrad_edu.export import ExportError, to_onnx

    class Clipped(nn.Module):
        def forward(self, x):
            return x.clip(-0.5, 0.5)  # where() with a mask computed in numpy from the data

    with pytest.raises(ExportError, match=r"the op 'where' in the model \(Clipped\), called at "
                                          r"test_export_onnx.py:\d+ in forward \(return x.clip\(-0.5, 0.5\) .* "
                                          r"has parameters that change with"):
        to_onnx(Clipped(), inputs((3,), 2), tmp_path / "c.onnx")

    class Branchy(nn.Module):
        def forward(self, x):
            return x.exp() if x.shape[0] > 2 else x.tanh()

    with pytest.raises(ExportError, match="records a different graph on another input"):
        to_onnx(Branchy(), inputs((3,), 2), tmp_path / "b.onnx")
    class NeedsAscending(nn.Module):
        def forward(self, x):
            if (np.diff(x.data, axis=1) < 0).any():
                raise ValueError("NeedsAscending: each row must be sorted")
            return x.sqrt()

    with pytest.raises(ExportError, match=r"failed on the second input .* one example longer.*row must be sorted"):
        to_onnx(NeedsAscending(), np.arange(6.0).reshape(2, 3), tmp_path / "p.onnx")

    class NeedsPositive(nn.Module):  # a range of the inputs is kept: the second input reuses their values
        def forward(self, x):
            if (x.data < 0).any():
                raise ValueError("NeedsPositive: inputs must be >= 0")
            return x.sqrt()

    path = to_onnx(NeedsPositive(), np.arange(6.0).reshape(2, 3), tmp_path / "p.onnx")
    x = np.arange(12.0).reshape(4, 3)
    np.testing.assert_allclose(ort_session(path).run(None, {"input": x})[0], np.sqrt(x), rtol=1e-12)
    path.unlink()
    with pytest.raises(ValueError, match=r"expected a path ending in .onnx"):
        to_onnx(mlp(), inputs((4,), 2), tmp_path / "m.pt")
    with pytest.raises(ValueError, match=r"opset must be in 13\.\."):
        to_onnx(mlp(), inputs((4,), 2), tmp_path / "m.onnx", opset=9)
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_onnx_opset_18_and_fixed_batch(tmp_path):
    onnx = pytest.importorskip("onnx")
    from tinygrad_edu.export import to_onnx

    model = nn.Sequential(nn.Linear(3, 4, seed=0), nn.Softmax())

    class MaxHead(nn.Module):
        def forward(self, x):
            return x.max(axis=1) - x.sum(axis=1)

    model.append(MaxHead())
    path = to_onnx(model, inputs((3,), 2), tmp_path / "m.onnx", opset=18, dynamic_batch=False)
    proto = onnx.load(str(path))
    assert proto.opset_import[0].version == 18
    assert [d.dim_value for d in proto.graph.input[0].type.tensor_type.shape.dim] == [2, 3]
    x = inputs((3,), 2, seed=4)
    np.testing.assert_allclose(ort_session(path).run(None, {"input": x})[0], model(tg.Tensor(x)).data, rtol=1e-12)


def test_layers_called_with_a_keyword_argument_are_still_one_onnx_node(tmp_path):
    onnx = pytest.importorskip("onnx")
    from tinygrad_edu.export import to_onnx

    class ByName(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(1, 2, 3, seed=0, dtype=np.float32)

        def forward(self, x):
            return self.conv(x=x).relu()

    path = to_onnx(ByName(), inputs((1, 5, 5), 2, np.float32), tmp_path / "k.onnx")
    assert [n.op_type for n in onnx.load(str(path)).graph.node] == ["Conv", "Relu"]  # not the traced im2col
