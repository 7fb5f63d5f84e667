"""nn.Module, Linear, Sequential, MLP, activation modules, Flatten, Dropout.

Oracles: central finite differences (TESTING.md recipe: h = 1e-6, random cotangent,
subtract before summing, atol 1e-6 / rtol 1e-4 in float64), plain numpy forwards, and
``tinygrad_edu.reference`` (the lectures' hand-derived backprop) for a whole MLP.
"""

from __future__ import annotations

import numpy as np
import pytest
from helpers import check_closure_vjp
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_edu.nn as nn
from tinygrad_edu import Tensor, engine, reference

sides = st.integers(1, 4)


def away_from_zero(shape: tuple[int, ...], seed: int) -> np.ndarray:
    """Values in [-3, -0.05] U [0.05, 3]: kinks at 0 stay >> h away (built constructively, no filtering)."""
    rng = np.random.default_rng(seed)
    return rng.uniform(0.05, 3.0, shape) * rng.choice([-1.0, 1.0], shape)


# ------------------------------------------------------------------ Linear


@given(batch=sides, n_in=sides, n_out=sides, bias=st.booleans(), seed=st.integers(0, 2**16))
def test_linear_forward_and_gradients(batch, n_in, n_out, bias, seed):
    layer = nn.Linear(n_in, n_out, bias=bias, init="xavier", seed=seed)
    if bias:
        layer.bias.data[:] = np.random.default_rng(seed + 1).standard_normal(n_out)
    x = Tensor(np.random.default_rng(seed + 2).standard_normal((batch, n_in)), requires_grad=True)
    expected = x.data @ layer.weight.data.T + (layer.bias.data if bias else 0.0)
    np.testing.assert_allclose(layer(x).data, expected, rtol=1e-12, atol=1e-12)
    assert layer.weight.shape == (n_out, n_in)  # the lectures' W[l]: (n[l], n[l-1])
    check_closure_vjp(lambda: layer(x), [x, *layer.parameters()], seed)


def test_linear_bad_input_names_the_shapes():
    with pytest.raises(ValueError, match=r"Linear\(3, 2\).*\(4, 5\)"):
        nn.Linear(3, 2)(Tensor(np.zeros((4, 5))))
    with pytest.raises(ValueError, match="unknown init"):
        nn.Linear(3, 2, init="bogus")
    with pytest.raises(ValueError, match="in_features"):
        nn.Linear(0, 2)


def test_linear_init_choices_and_seed():
    a, b = nn.Linear(50, 40, seed=3), nn.Linear(50, 40, seed=3)
    np.testing.assert_array_equal(a.weight.data, b.weight.data)
    assert not np.array_equal(a.weight.data, nn.Linear(50, 40, seed=4).weight.data)
    assert np.all(nn.Linear(5, 4, init="zeros").weight.data == 0)
    assert np.all(nn.Linear(5, 4, bias_init=0.01).bias.data == 0.01)
    seen = []
    nn.Linear(5, 4, init=lambda t, seed: seen.append((t.shape, type(seed))))
    assert seen == [((4, 5), np.random.Generator)]
    assert nn.Linear(3, 2, bias=False).bias is None
    assert [n for n, _ in nn.Linear(3, 2, bias=False).named_parameters()] == ["weight"]


# ------------------------------------------------------------------ activation modules

ACTIVATIONS = [
    (nn.Sigmoid(), lambda z: 1 / (1 + np.exp(-z))),
    (nn.Tanh(), np.tanh),
    (nn.ReLU(), lambda z: np.maximum(z, 0)),
    (nn.LeakyReLU(0.1), lambda z: np.where(z > 0, z, 0.1 * z)),
    (nn.ELU(0.7), lambda z: np.where(z > 0, z, 0.7 * (np.exp(z) - 1))),
    (nn.SELU(), lambda z: 1.0507009873554805 * np.where(z > 0, z, 1.6732632423543772 * (np.exp(z) - 1))),
    (nn.Softmax(axis=-1), lambda z: np.exp(z) / np.exp(z).sum(-1, keepdims=True)),
    (nn.LogSoftmax(axis=0), lambda z: z - np.log(np.exp(z).sum(0, keepdims=True))),
    (nn.Identity(), lambda z: z),
    (nn.Flatten(), lambda z: z.reshape(z.shape[0], -1)),
]


@pytest.mark.parametrize("module, numpy_fn", ACTIVATIONS, ids=[type(m).__name__ for m, _ in ACTIVATIONS])
@given(shape=st.lists(sides, min_size=2, max_size=3).map(tuple), seed=st.integers(0, 2**16))
def test_activation_modules_forward_and_gradients(module, numpy_fn, shape, seed):
    x = Tensor(away_from_zero(shape, seed), requires_grad=True)
    np.testing.assert_allclose(module(x).data, numpy_fn(x.data), rtol=1e-12, atol=1e-12)
    check_closure_vjp(lambda: module(x), [x], seed)


def test_get_activation_specs():
    assert isinstance(nn.get_activation("relu"), nn.ReLU)
    assert isinstance(nn.get_activation(nn.Tanh), nn.Tanh)
    leaky = nn.LeakyReLU(0.2)
    assert nn.get_activation(leaky) is leaky
    assert isinstance(nn.get_activation(None), nn.Identity)
    with pytest.raises(ValueError, match="unknown activation 'swishy'"):
        nn.get_activation("swishy")


# ------------------------------------------------------------------ Dropout


def test_dropout_eval_is_identity_with_identity_gradient():
    d = nn.Dropout(0.5, seed=0).eval()
    x = Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    out = d(x)
    np.testing.assert_array_equal(out.data, x.data)
    r = np.random.default_rng(1).standard_normal(x.shape)
    (out * r).sum().backward()
    np.testing.assert_array_equal(x.grad.data, r)


@given(shape=st.lists(sides, min_size=1, max_size=3).map(tuple), p=st.sampled_from([0.2, 0.5, 0.8]),
       seed=st.integers(0, 2**16))
def test_dropout_fixed_mask_gradient(shape, p, seed):
    # a fresh Dropout with the same seed draws the same mask, so f is a fixed function of x
    x = Tensor(np.random.default_rng(seed).standard_normal(shape), requires_grad=True)
    check_closure_vjp(lambda: nn.Dropout(p, seed=seed)(x), [x], seed)
    d = nn.Dropout(p, seed=seed)
    out = d(x)
    kept = d.mask != 0
    np.testing.assert_allclose(d.mask[kept], 1 / (1 - p))  # inverted dropout scaling 1/keep_prob
    np.testing.assert_allclose(out.data, x.data * d.mask)


def test_dropout_statistics_and_seeding():
    x = Tensor(np.ones((200, 500)))
    d = nn.Dropout(0.3, seed=7)
    out = d(x).data
    # keep rate ~ 0.7: 100,000 Bernoulli draws, std of the mean ~ 0.0015, so 0.01 is > 6 sigma
    assert abs((out != 0).mean() - 0.7) < 0.01
    assert abs(out.mean() - 1.0) < 0.02  # E[a] unchanged by the 1/keep_prob scaling
    np.testing.assert_array_equal(out, nn.Dropout(0.3, seed=7)(x).data)
    assert not np.array_equal(d(x).data, out)  # next call draws a new mask
    assert np.all(nn.Dropout(1.0, seed=0)(x).data == 0)
    np.testing.assert_array_equal(nn.Dropout(0.0)(x).data, x.data)
    with pytest.raises(ValueError, match=r"\[0, 1\], got 1.5"):
        nn.Dropout(1.5)


# ------------------------------------------------------------------ Module machinery


class Block(nn.Module):
    def __init__(self, seed):
        super().__init__()
        self.fc = nn.Linear(3, 4, seed=seed)
        self.drop = nn.Dropout(0.5, seed=seed)
        self.scale = nn.Parameter(np.array([2.0]))

    def forward(self, x):
        return self.drop(self.fc(x).tanh()) * self.scale


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.block = Block(0)
        self.head = nn.Sequential(nn.Linear(4, 2, seed=1), nn.Sigmoid())
        self.tied = self.block.fc  # the same module twice: listed once

    def forward(self, x):
        return self.head(self.block(x))


def test_named_parameters_and_modules_are_qualified_ordered_and_deduplicated():
    net = Net()
    assert [n for n, _ in net.named_parameters()] == [
        "block.scale", "block.fc.weight", "block.fc.bias", "head.0.weight", "head.0.bias"
    ]  # each module's own parameters first, then its children's (as PyTorch)
    assert [n for n, _ in net.named_modules()] == ["", "block", "block.fc", "block.drop", "head", "head.0", "head.1"]
    assert net.parameters()[1] is net.block.fc.weight
    assert all(isinstance(p, Tensor) and p.requires_grad for p in net.parameters())
    assert net.children() == [net.block, net.head, net.block.fc]  # direct children include the tied one
    assert net.num_parameters() == 3 * 4 + 4 + 1 + 4 * 2 + 2


def test_reassigning_an_attribute_updates_the_registry():
    net = Net()
    net.block.scale = None
    assert "block.scale" not in dict(net.named_parameters())
    del net.head
    assert [n for n, _ in net.named_modules()] == ["", "block", "block.fc", "block.drop"]


def test_assigning_before_init_is_a_clear_error():
    class Forgot(nn.Module):
        def __init__(self):
            self.fc = nn.Linear(1, 1)

    with pytest.raises(AttributeError, match=r"super\(\).__init__\(\)"):
        Forgot()


def test_forward_must_be_defined():
    with pytest.raises(NotImplementedError, match="Module must define forward"):
        nn.Module()(1)


def test_zero_grad_clears_every_parameter():
    net = Net().eval()
    net(Tensor(np.ones((2, 3)))).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())


def test_train_eval_flags_propagate():
    net = Net()
    assert all(m.training for m in net.modules())
    assert net.eval() is net
    assert not any(m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())
    x = Tensor(np.ones((4, 3)))
    net.eval()
    np.testing.assert_array_equal(net(x).data, net(x).data)  # dropout off: deterministic


def test_call_tags_nodes_with_the_module_scope():
    net = Net().eval()
    x = Tensor(np.ones((2, 3)), requires_grad=True)
    out = net(x)
    assert out._scope == (net, net.head, net.head[1])
    assert out._parents[0]._scope[:3] == (net, net.head, net.head[0])
    assert engine.current_scope() == ()


def test_state_dict_is_a_copy_and_round_trips():
    a, b = Net(), Net()
    for p in b.parameters():
        p.data[...] = 0.0
    state = a.state_dict()
    assert list(state) == [n for n, _ in a.named_parameters()]
    state["block.scale"][0] = 99.0
    assert a.block.scale.data[0] == 2.0  # a copy
    state = a.state_dict()
    weight = b.block.fc.weight
    b.load_state_dict(state)
    assert b.block.fc.weight is weight  # loaded in place
    for (na, pa), (nb, pb) in zip(a.named_parameters(), b.named_parameters()):
        assert na == nb
        np.testing.assert_array_equal(pa.data, pb.data)
        assert pa.data is not pb.data


def test_load_state_dict_errors_name_the_keys_and_change_nothing():
    net = Net()
    before = net.state_dict()
    good = Net().state_dict()
    for p_state in good.values():
        p_state += 1.0

    missing = dict(good)
    del missing["head.0.bias"]
    with pytest.raises(nn.StateDictError, match=r"missing keys \['head.0.bias'\].*\(strict=False skips") as err:
        net.load_state_dict(missing)
    assert err.value.missing == ["head.0.bias"]

    unexpected = dict(good, extra=np.zeros(2))
    with pytest.raises(nn.StateDictError, match=r"unexpected keys \['extra'\]"):
        net.load_state_dict(unexpected)

    mismatched = dict(good, **{"block.fc.weight": np.zeros((3, 4))})
    with pytest.raises(nn.StateDictError, match=r"'block.fc.weight' \(model expects \(4, 3\), state has \(3, 4\)\)"):
        net.load_state_dict(mismatched)
    with pytest.raises(nn.StateDictError, match="shape mismatch"):
        net.load_state_dict(mismatched, strict=False)  # a shape mismatch is always an error

    for key, value in net.state_dict().items():
        np.testing.assert_array_equal(value, before[key])  # nothing was half-loaded

    result = net.load_state_dict(unexpected | {}, strict=False)
    assert result.unexpected_keys == ["extra"] and result.missing_keys == []
    np.testing.assert_array_equal(net.head[0].bias.data, good["head.0.bias"])
    with pytest.raises(TypeError, match="mapping"):
        net.load_state_dict([1, 2])


def test_repr_is_a_tree():
    text = repr(Net())
    assert text.splitlines() == [
        "Net(",
        "  (block): Block(",
        "    (fc): Linear(in_features=3, out_features=4, bias=True)",
        "    (drop): Dropout(p=0.5)",
        "  )",
        "  (head): Sequential(",
        "    (0): Linear(in_features=4, out_features=2, bias=True)",
        "    (1): Sigmoid()",
        "  )",
        "  (tied): Linear(in_features=3, out_features=4, bias=True)",
        ")",
    ]


def test_summary_lists_layers_shapes_and_counts_and_restores_flags():
    net = Net()
    d = net.block.drop
    state_before = d._rng.bit_generator.state
    text = net.summary((5, 3))
    lines = text.splitlines()
    assert "Layer (type)" in lines[2] and "Output shape" in lines[2] and "Param #" in lines[2]
    rows = [line.split() for line in lines[4:-4]]
    assert rows == [
        ["block", "(Block)", "(5,", "4)", "1"],
        ["block.fc", "(Linear)", "(5,", "4)", "16"],
        ["block.drop", "(Dropout)", "(5,", "4)", "0"],
        ["head", "(Sequential)", "(5,", "2)", "--"],  # a pure container: its layers have their own rows
        ["head.0", "(Linear)", "(5,", "2)", "10"],
        ["head.1", "(Sigmoid)", "(5,", "2)", "0"],
    ]
    assert "Total params: 27" in text and "Trainable params: 27" in text
    net.block.fc.weight.requires_grad = False  # a frozen weight counts in the total only
    assert "Total params: 27" in net.summary((5, 3)) and "Trainable params: 15" in net.summary((5, 3))
    assert all(m.training for m in net.modules())  # flags restored
    assert d._rng.bit_generator.state == state_before  # dropout's random stream untouched
    with pytest.raises(ValueError, match=r"summary: running Net on an input of shape \(5, 7\) failed"):
        net.summary((5, 7))


# ------------------------------------------------------------------ Sequential and MLP


def test_sequential_indexing_and_errors():
    seq = nn.Sequential(nn.Linear(2, 3, seed=0), nn.ReLU(), nn.Linear(3, 1, seed=1))
    assert len(seq) == 3 and isinstance(seq[1], nn.ReLU) and isinstance(seq[-1], nn.Linear)
    assert isinstance(seq[:2], nn.Sequential) and len(seq[:2]) == 2
    x = Tensor(np.ones((4, 2)))
    np.testing.assert_allclose(seq(x).data, seq[2](seq[1](seq[0](x))).data)
    with pytest.raises(TypeError, match="expected a Module"):
        nn.Sequential(nn.ReLU(), "relu")


def test_mlp_structure_and_per_layer_activations():
    mlp = nn.MLP([2, 5, 4, 3, 1], activation=["relu", nn.Tanh, nn.LeakyReLU(0.2)], output_activation="sigmoid", seed=0)
    kinds = [type(m).__name__ for m in mlp]
    assert kinds == ["Linear", "ReLU", "Linear", "Tanh", "Linear", "LeakyReLU", "Linear", "Sigmoid"]
    assert mlp[5].slope == 0.2
    assert [p.shape for p in mlp.parameters()] == [(5, 2), (5,), (4, 5), (4,), (3, 4), (3,), (1, 3), (1,)]
    assert mlp(Tensor(np.ones((7, 2)))).shape == (7, 1)
    # one shared activation instance is copied per layer
    shared = nn.MLP([2, 3, 3, 1], activation=nn.LeakyReLU(0.3), seed=0)
    assert shared[1] is not shared[3] and shared[3].slope == 0.3
    assert type(nn.MLP([2, 1], seed=0)[-1]) is nn.Linear  # no output activation: raw scores
    with pytest.raises(ValueError, match="2 activations for 1 hidden layers"):
        nn.MLP([2, 3, 1], activation=["relu", "tanh"])
    with pytest.raises(ValueError, match="at least 2 positive"):
        nn.MLP([2])


def test_mlp_seeded_and_auto_init():
    a, b = nn.MLP([300, 200, 1], seed=5), nn.MLP([300, 200, 1], seed=5)
    for pa, pb in zip(a.parameters(), b.parameters()):
        np.testing.assert_array_equal(pa.data, pb.data)
    # auto: He (var 2/n_in) for the ReLU layer, Xavier (var 2/(n_in+n_out)) for the output layer
    # 60,000 draws: relative std of the sample variance ~ sqrt(2/60000) ~ 0.6%, so 5% is safe
    assert abs(a[0].weight.data.var() / (2 / 300) - 1) < 0.05
    t = nn.MLP([300, 200, 1], activation="tanh", seed=5)
    assert abs(t[0].weight.data.var() / (2 / 500) - 1) < 0.05


def test_mlp_cost_and_gradients_equal_the_lectures_reference():
    rng = np.random.default_rng(0)
    m, sizes = 7, [3, 5, 4, 1]
    X = rng.standard_normal((sizes[0], m))  # the lectures' layout: one column per example
    Y = (rng.random((1, m)) > 0.5).astype(float)
    mlp = nn.MLP(sizes, activation="tanh", output_activation="sigmoid", seed=1)
    for layer in mlp[::2]:
        layer.bias.data[:] = rng.standard_normal(layer.bias.shape)
    params = nn.lecture_params(mlp)
    J_ref, grads = reference.l_layer_cost_and_grads(X, Y, params, hidden_activation="tanh")

    a = mlp(Tensor(X.T))  # batch first: rows are examples
    y = Y.T
    J = -(y * a.log() + (1 - y) * (1 - a).log()).mean()
    J.backward()
    assert abs(J.item() - J_ref) < 1e-12
    for l, layer in enumerate(mlp[::2], start=1):
        np.testing.assert_allclose(layer.weight.grad.data, grads[f"dW{l}"], rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(layer.bias.grad.data, grads[f"db{l}"].ravel(), rtol=1e-10, atol=1e-12)


def test_lecture_params_are_copies_in_the_lectures_layout():
    mlp = nn.MLP([3, 4, 2], seed=0)
    params = nn.lecture_params(mlp)
    assert list(params) == ["W1", "b1", "W2", "b2"]
    assert params["W1"].shape == (4, 3) and params["b1"].shape == (4, 1) and params["b2"].shape == (2, 1)
    np.testing.assert_array_equal(params["W2"], mlp[2].weight.data)
    params["W1"][:] = 7.0  # a copy: the model is untouched
    assert not np.any(mlp[0].weight.data == 7.0)
    with pytest.raises(ValueError, match="Linear layer 1 has no bias"):
        nn.lecture_params(nn.Linear(2, 3, bias=False))
    with pytest.raises(ValueError, match="has no Linear layers"):
        nn.lecture_params(nn.Sequential(nn.ReLU()))
