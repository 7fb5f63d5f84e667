"""Neural-network building blocks composed from ``Tensor`` ops.

* :mod:`.module`: ``Module`` (parameter registry, train/eval, state_dict, summary) and ``Parameter``;
* :mod:`.containers`: ``ModuleList``, ``ModuleDict``;
* :mod:`.layers`: ``Linear``, ``Sequential``, ``MLP``, activation modules, ``Flatten``, ``Dropout``;
* :mod:`.conv`: ``Conv2d``, ``MaxPool2d``, ``AvgPool2d``;
* :mod:`.init`: weight initialisation (zeros, uniform, normal, Xavier, He);
* :mod:`.losses`: loss functions and penalties.

Use it as ``import tinygrad_edu.nn as nn``.
"""

from . import init
from .containers import ModuleDict, ModuleList
from .conv import AvgPool2d, Conv2d, MaxPool2d, avg_pool2d, conv2d, max_pool2d
from .layers import (
    ELU,
    MLP,
    SELU,
    Dropout,
    Flatten,
    Identity,
    LeakyReLU,
    Linear,
    LogSoftmax,
    ReLU,
    Sequential,
    Sigmoid,
    Softmax,
    Tanh,
    get_activation,
    lecture_params,
    linear,
)
from .losses import (
    BCELoss,
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    L1Loss,
    MSELoss,
    NLLLoss,
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    l1_loss,
    l1_penalty,
    l2_penalty,
    mse_loss,
    neural_network_cost,
    nll_loss,
)
from .module import LoadResult, Module, Parameter, StateDictError

__all__ = [
    "AvgPool2d",
    "Conv2d",
    "Dropout",
    "ELU",
    "Flatten",
    "Identity",
    "LeakyReLU",
    "Linear",
    "LoadResult",
    "LogSoftmax",
    "MLP",
    "MaxPool2d",
    "Module",
    "ModuleDict",
    "ModuleList",
    "Parameter",
    "ReLU",
    "SELU",
    "Sequential",
    "Sigmoid",
    "Softmax",
    "StateDictError",
    "Tanh",
    "avg_pool2d",
    "conv2d",
    "get_activation",
    "lecture_params",
    "linear",
    "init",
    "max_pool2d",
    # losses
    "BCELoss",
    "BCEWithLogitsLoss",
    "CrossEntropyLoss",
    "L1Loss",
    "MSELoss",
    "NLLLoss",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "cross_entropy",
    "l1_loss",
    "l1_penalty",
    "l2_penalty",
    "mse_loss",
    "neural_network_cost",
    "nll_loss",
]
