"""ModuleList / ModuleDict, Module.apply / requires_grad_ / to / float / double, the unregistered-list
warning, set_default_dtype reaching the layers, and constructor arguments that must be integers.

Each behaviour is PyTorch's; the torch snippet and what it printed (torch 2.13) sit beside our
assertion. Where torch is importable, a few are also compared live.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import nn
from tinygrad_edu.tensor_class import get_default_dtype, set_default_dtype


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.layers = nn.ModuleList([nn.Linear(2, 3, seed=0), nn.Linear(3, 1, seed=1)])
        self.heads = nn.ModuleDict({"a": nn.Linear(1, 1, seed=2)})

    def forward(self, x):
        for layer in self.layers:
            x = layer(x).tanh()
        return self.heads["a"](x)


@pytest.fixture
def float32_default():
    before = get_default_dtype()
    set_default_dtype(np.float32)
    yield
    set_default_dtype(before)


# ====================================================================== containers


def test_container_state_dict_keys_and_module_names_are_torchs() -> None:
    # class M(torch.nn.Module): layers = ModuleList([Linear(2,3), Linear(3,1)]); heads = ModuleDict({'a': Linear(1,1)})
    # list(m.state_dict()) -> ['layers.0.weight', 'layers.0.bias', 'layers.1.weight', 'layers.1.bias',
    #                          'heads.a.weight', 'heads.a.bias']
    # [n for n, _ in m.named_modules()] -> ['', 'layers', 'layers.0', 'layers.1', 'heads', 'heads.a']
    net = Net()
    assert list(net.state_dict()) == [
        "layers.0.weight", "layers.0.bias", "layers.1.weight", "layers.1.bias", "heads.a.weight", "heads.a.bias",
    ]
    assert [n for n, _ in net.named_modules()] == ["", "layers", "layers.0", "layers.1", "heads", "heads.a"]
    assert len(net.parameters()) == 6
    net(tg.Tensor(np.ones((4, 2)))).sum().backward()
    assert all(p.grad is not None for p in net.parameters())  # the layers are part of the model


def test_module_list_editing_renumbers_as_torch() -> None:
    # l = ModuleList([ReLU(), Tanh(), Sigmoid()]); del l[0]; l.insert(1, ELU())
    # [k for k, _ in l.named_children()] -> ['0', '1', '2'];  types: Tanh, ELU, Sigmoid
    layers = nn.ModuleList([nn.ReLU(), nn.Tanh(), nn.Sigmoid()])
    del layers[0]
    layers.insert(1, nn.ELU())
    assert [k for k, _ in layers.named_children()] == ["0", "1", "2"]
    assert [type(m) for m in layers] == [nn.Tanh, nn.ELU, nn.Sigmoid]
    assert isinstance(layers[0:2], nn.ModuleList) and len(layers[0:2]) == 2
    assert layers[-1] is layers[2]
    layers[0] = nn.ReLU()
    assert isinstance(layers[0], nn.ReLU) and len(layers) == 3
    layers.append(nn.Linear(1, 1, seed=0)).extend([nn.Tanh()])
    assert len(layers) == 5 and list(layers.state_dict()) == ["3.weight", "3.bias"]
    assert len(layers + nn.ModuleList([nn.ReLU()])) == 6
    with pytest.raises(IndexError, match="index 7 is out of range for 5"):
        layers[7]
    with pytest.raises(TypeError, match="ModuleList.append: the value must be a Module, got int"):
        layers.append(3)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="element 1 must be a Module"):
        nn.ModuleList([nn.ReLU(), "relu"])  # type: ignore[list-item]
    with pytest.raises(NotImplementedError, match="iterate over it"):
        layers(tg.Tensor([1.0]))


def test_module_dict_behaves_as_a_dict_of_registered_modules() -> None:
    heads = nn.ModuleDict([("b", nn.Linear(1, 2, seed=0)), ("a", nn.Tanh())])
    assert heads.keys() == ["b", "a"] and "a" in heads and len(heads) == 2 and list(heads) == ["b", "a"]
    heads["c"] = nn.Linear(2, 1, seed=1)
    assert list(heads.state_dict()) == ["b.weight", "b.bias", "c.weight", "c.bias"]
    assert isinstance(heads.pop("b"), nn.Linear) and heads.keys() == ["a", "c"]
    del heads["a"]
    assert [k for k, _ in heads.items()] == ["c"] and len(heads.values()) == 1
    with pytest.raises(KeyError, match=r"no module named 'zz'; the keys are \['c'\]"):
        heads["zz"]
    with pytest.raises(TypeError, match="keys must be strings"):
        heads[1] = nn.Tanh()  # type: ignore[index]
    with pytest.raises(KeyError, match="hide the method"):
        heads["train"] = nn.Tanh()
    with pytest.raises(TypeError, match="the value for 'd' must be a Module, got list"):
        heads["d"] = [nn.Tanh()]  # type: ignore[assignment]
    heads.clear()
    assert len(heads) == 0


@pytest.mark.parametrize("container", [list, tuple, dict])
def test_a_plain_container_of_layers_warns_naming_the_attribute(container) -> None:
    # PyTorch silently ignores such a list (0 parameters); here the same registry rule holds,
    # but the assignment warns and names the fix.
    class Model(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            layers = [nn.Linear(2, 2, seed=0), nn.Linear(2, 1, seed=1)]
            self.blocks = dict(enumerate(layers)) if container is dict else container(layers)

    fix = r"nn\.ModuleDict" if container is dict else r"nn\.ModuleList"
    with pytest.warns(UserWarning, match=rf"Model\.blocks: a plain {container.__name__} holding Modules.*{fix}"):
        model = Model()
    assert model.parameters() == []


def test_a_plain_list_of_parameters_warns_and_plain_data_does_not() -> None:
    class Model(nn.Module):
        def __init__(self, value) -> None:
            super().__init__()
            self.weights = value

    with pytest.warns(UserWarning, match="Model.weights: a plain list holding Parameters"):
        Model([nn.Parameter(np.zeros(2))])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Model([1, 2, 3])
        Model({"lr": 0.1})
        Model(nn.ModuleList([nn.Tanh()]))


# ====================================================================== apply, requires_grad_, zero_grad


def test_apply_visits_children_first_then_the_module_as_torch() -> None:
    # torch: order = []; m.apply(lambda x: order.append(type(x).__name__))
    # -> ['Linear', 'Linear', 'ModuleList', 'Linear', 'ModuleDict', 'M']
    net, order = Net(), []
    assert net.apply(lambda m: order.append(type(m).__name__)) is net
    assert order == ["Linear", "Linear", "ModuleList", "Linear", "ModuleDict", "Net"]

    def init_weights(m: nn.Module) -> None:
        if isinstance(m, nn.Linear):
            nn.init.constant_(m.weight, 0.5)

    net.apply(init_weights)
    assert all(np.all(m.weight.data == 0.5) for m in net.modules() if isinstance(m, nn.Linear))
    with pytest.raises(TypeError, match="apply: expected a function"):
        net.apply(3)  # type: ignore[arg-type]


def test_requires_grad_freezes_and_unfreezes_every_parameter() -> None:
    net = Net()
    assert net.layers.requires_grad_(False) is net.layers
    net(tg.Tensor(np.ones((2, 2)))).sum().backward()
    assert [p.grad is None for p in net.parameters()] == [True] * 4 + [False] * 2
    net.requires_grad_()
    assert all(p.requires_grad for p in net.parameters())
    with pytest.raises(TypeError, match="expected True or False"):
        net.requires_grad_("yes")  # type: ignore[arg-type]


def test_zero_grad_sets_none_by_default_and_zeros_in_place_on_request() -> None:
    # torch 2.x: model.zero_grad() -> p.grad is None; model.zero_grad(set_to_none=False) -> zeros
    net = Net()
    net(tg.Tensor(np.ones((2, 2)))).sum().backward()
    grad = net.layers[0].weight.grad
    net.zero_grad(set_to_none=False)
    assert net.layers[0].weight.grad is grad and np.all(grad.data == 0)
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())


# ====================================================================== dtype


def test_to_float_and_double_cast_in_place_keeping_the_parameters() -> None:
    net = Net()
    params = net.parameters()
    net(tg.Tensor(np.ones((2, 2)))).sum().backward()
    assert net.float() is net
    assert [p.dtype for p in net.parameters()] == [np.float32] * 6
    assert [id(p) for p in net.parameters()] == [id(p) for p in params]
    assert all(p.grad.dtype == np.float32 for p in params)
    assert net(tg.Tensor(np.ones((2, 2), dtype=np.float32))).dtype == np.float32
    net.double()
    assert [p.dtype for p in net.parameters()] == [np.float64] * 6
    assert net.to("cpu") is net
    with pytest.raises(TypeError, match="Net.to: expected float32 or float64.*got 'int64'"):
        net.to("int64")
    with pytest.raises(TypeError, match="got 'cuda'"):
        net.to("cuda")


def test_set_default_dtype_reaches_every_layer(float32_default) -> None:
    # torch.set_default_dtype(torch.float32) -> nn.Linear(2, 3).weight.dtype == torch.float32
    layers = [nn.Linear(2, 3, seed=0), nn.MLP([2, 4, 1], seed=0), nn.Conv2d(1, 2, 3, seed=0)]
    for layer in layers:
        assert {p.dtype for p in layer.parameters()} == {np.dtype(np.float32)}, layer
    assert nn.Linear(2, 3, seed=0, dtype=np.float64).weight.dtype == np.float64  # explicit dtype wins
    # the same seed gives the float64 draw rounded to float32
    set_default_dtype(np.float64)
    w64 = nn.Linear(2, 3, seed=0).weight.data
    np.testing.assert_array_equal(layers[0].weight.data, w64.astype(np.float32))


# ====================================================================== integer arguments (issue 13 #9)


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: nn.Linear(2.5, 3), r"Linear: in_features must be an integer, got 2\.5 \(float\)"),
        (lambda: nn.Linear(2, 3.0), r"Linear: out_features must be an integer, got 3\.0"),
        (lambda: nn.Linear(True, 3), r"Linear: in_features must be an integer, got True \(bool\)"),
        (lambda: nn.MLP([2, 2.9, 3]), r"MLP: sizes\[1\] must be an integer, got 2\.9"),
        (lambda: nn.MLP("23"), r"MLP: sizes must be a list of layer widths"),
        (lambda: nn.Conv2d(1.5, 2, 3), r"Conv2d: in_channels must be an integer, got 1\.5"),
        (lambda: nn.Flatten(1.0), r"Flatten: start_axis must be an integer"),
        (lambda: nn.Softmax(axis=0.5), r"Softmax: axis must be an integer"),
    ],
)
def test_sizes_that_are_not_integers_are_refused(make, message) -> None:
    # torch.nn.Linear(2.5, 3) -> TypeError: empty(): argument 'size' ... must be tuple of ints, but got float
    with pytest.raises(TypeError, match=message):
        make()


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: nn.Linear(0, 3), r"Linear: in_features must be an integer >= 1, got 0"),
        (lambda: nn.MLP([2, -1]), r"MLP: sizes\[1\] must be an integer >= 1"),
        (lambda: nn.Linear(2, 3, bias_init=math.nan), r"Linear: bias_init must be a finite number"),
        (lambda: nn.Dropout(math.nan), r"Dropout: p .* must be a finite number in \[0, 1\], got nan"),
        (lambda: nn.LeakyReLU(math.inf), r"LeakyReLU: slope must be a finite number"),
        (lambda: nn.l2_penalty([tg.Tensor([1.0])], lam=math.nan, m=1), r"l2_penalty: lam .* got nan"),
        (lambda: nn.l1_penalty([tg.Tensor([1.0])], lam=-1.0, m=1), r"l1_penalty: lam .* got -1\.0"),
        (lambda: nn.l2_penalty([tg.Tensor([1.0])], lam=0.1, m=0), r"l2_penalty: m .* >= 1, got 0"),
        (lambda: nn.init.uniform_(tg.zeros(2, 2), eps=math.nan), r"init\.uniform_: eps must be a finite number"),
        (lambda: nn.init.normal_(tg.zeros(2, 2), std=math.nan), r"init\.normal_: std must be a finite number"),
        (lambda: nn.init.xavier_uniform_(tg.zeros(2, 2), gain=math.inf), r"init\.xavier_uniform_: gain"),
        (lambda: nn.init.small_positive_(tg.zeros(2), value=math.nan), r"init\.small_positive_: value"),
    ],
)
def test_out_of_range_or_nan_arguments_are_refused(make, message) -> None:
    with pytest.raises(ValueError, match=message):
        make()


def test_numpy_integers_are_accepted_as_sizes() -> None:
    layer = nn.Linear(np.int64(2), np.int32(3), seed=0)
    assert (layer.in_features, layer.out_features) == (2, 3) and type(layer.in_features) is int
    assert nn.MLP(np.array([2, 3, 1]), seed=0).sizes == [2, 3, 1]
    with pytest.raises(TypeError, match="l2_penalty: m .* must be an integer, got 2.0"):
        nn.l2_penalty([tg.Tensor([1.0])], lam=0.1, m=2.0)


def test_containers_match_torch_live() -> None:
    torch = pytest.importorskip("torch")

    class TorchNet(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.layers = torch.nn.ModuleList([torch.nn.Linear(2, 3), torch.nn.Linear(3, 1)])
            self.heads = torch.nn.ModuleDict({"a": torch.nn.Linear(1, 1)})

        def forward(self, x):
            for layer in self.layers:
                x = layer(x).tanh()
            return self.heads["a"](x)

    theirs, ours = TorchNet(), Net()
    assert list(theirs.state_dict()) == list(ours.state_dict())
    assert [n for n, _ in theirs.named_modules()] == [n for n, _ in ours.named_modules()]
    ours.load_state_dict({k: v.detach().double().numpy() for k, v in theirs.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((5, 2))
    expected = theirs.double()(torch.tensor(x)).detach().numpy()  # same tanh network
    np.testing.assert_allclose(ours(tg.Tensor(x)).data, expected, rtol=1e-12)


def test_sequential_of_an_ordered_dict_names_the_layers_as_torch() -> None:
    # torch.nn.Sequential(OrderedDict([('fc1', Linear(2, 4)), ('act', ReLU()), ('fc2', Linear(4, 1))]))
    # list(model.state_dict()) -> ['fc1.weight', 'fc1.bias', 'fc2.weight', 'fc2.bias']
    from collections import OrderedDict

    model = nn.Sequential(OrderedDict([("fc1", nn.Linear(2, 4, seed=0)), ("act", nn.ReLU()),
                                       ("fc2", nn.Linear(4, 1, seed=1))]))
    assert list(model.state_dict()) == ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]
    assert isinstance(model[1], nn.ReLU) and len(model) == 3
    x = tg.Tensor(np.ones((2, 2)))
    np.testing.assert_array_equal(model(x).data, model.fc2(model.fc1(x).relu()).data)
    with pytest.raises(TypeError, match="expected a Module for 'act', got str"):
        nn.Sequential({"act": "relu"})
    with pytest.raises(TypeError, match="names must be non-empty strings"):
        nn.Sequential({"a.b": nn.ReLU()})


def test_init_normal_takes_mean_then_std_as_torch() -> None:
    # torch.nn.init.normal_(w, 0.0, 0.02): mean 0, std 0.02 (positional order mean, std)
    w = nn.init.normal_(tg.zeros(200, 200), 0.0, 0.02, seed=0).data
    assert abs(w.std() - 0.02) < 0.001 and abs(w.mean()) < 0.001
    shifted = nn.init.normal_(tg.zeros(200, 200), 1.0, seed=0).data
    assert abs(shifted.mean() - 1.0) < 0.001 and abs(shifted.std() - 0.01) < 0.001  # our default std: the lectures'


def test_layers_take_pytorchs_keyword_names_too() -> None:
    # torch: nn.Softmax(dim=1), nn.LogSoftmax(dim=1), nn.Flatten(start_dim=1, end_dim=-1),
    # nn.LeakyReLU(negative_slope=0.2)
    assert nn.Softmax(dim=0).axis == 0 and nn.LogSoftmax(dim=0).axis == 0
    flat = nn.Flatten(start_dim=0, end_dim=1)
    assert (flat.start_axis, flat.end_axis) == (0, 1)
    assert flat(tg.zeros(2, 3, 4)).shape == (6, 4)
    assert nn.LeakyReLU(negative_slope=0.2).slope == 0.2
    with pytest.raises(TypeError, match="got both axis=0 and dim=1"):
        nn.Softmax(0, dim=1)
    with pytest.raises(TypeError, match="Softmax: axis must be an integer"):
        nn.Softmax(dim=1.5)
