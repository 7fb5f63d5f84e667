"""tinygrad_edu: a readable autograd framework to learn backpropagation with, and keep using.

Read it bottom-up: :mod:`engine` (the graph and the chain rule) -> :mod:`value` (scalars)
and :mod:`primitives` / :mod:`tensor` / :mod:`factories` (n-d arrays) -> nn, optim ->
gradcheck, reference, testing, viz, data, train -> cli.
"""

from . import checkpoint as checkpoint  # submodules as attributes: tinygrad_edu.nn, ...
from . import nn as nn
from . import optim as optim
from .anomaly import AnomalyError, detect_anomaly
from .checkpoint import load, save
from .engine import GraphFreedError, enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .factories import (  # issue 17
    arange,
    as_tensor,
    empty,
    empty_like,
    eye,
    full,
    full_like,
    linspace,
    ones,
    ones_like,
    rand,
    rand_like,
    randint,
    randint_like,
    randn,
    randn_like,
    tensor,
    uniform,
    uniform_like,
    zeros,
    zeros_like,
)
from .function import Function, FunctionCtx  # custom ops with their own backward (issue 14)
from .gradcheck import GradcheckError, GradcheckResult, gradcheck, numerical_grad
from .jit import JitCheckError, JitError, JitWarning, jit  # tg.jit: trace one step, replay it (issue 16)
from .model_check import gradcheck_model  # check a Module's parameters in place (issue 14)
from .ops import functional as functional  # tg.functional: torch.nn.functional's counterpart
from .ops.functional import dropout, einsum, one_hot, scaled_dot_product_attention
from .seeding import manual_seed  # one package-wide random generator, as torch.manual_seed
from .tensor_class import (
    Tensor,
    cat,
    concatenate,
    get_default_dtype,
    grad,
    maximum,
    minimum,
    set_default_dtype,
    stack,
    where,
)
from .value import Value

__version__ = "0.1.0"

# Heavier or optional layers load on first use, so `import tinygrad_edu` stays light:
# tinygrad_edu.viz, .data, .train, .plots, .report, .reference, .cli, .playground, .export work without an
# explicit import.
# (tinygrad_edu.testing needs hypothesis, the dev extra: import it explicitly.)
_LAZY_SUBMODULES = (
    "viz", "data", "train", "plots", "report", "reference", "reference_theta", "cli", "playground", "export",
)


def __getattr__(name: str) -> object:
    if name in _LAZY_SUBMODULES:
        import importlib

        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'tinygrad_edu' has no attribute {name!r}")

__all__ = [
    "AnomalyError",
    "Function",
    "FunctionCtx",
    "GradcheckError",
    "GradcheckResult",
    "GraphFreedError",
    "JitCheckError",
    "JitError",
    "JitWarning",
    "Tensor",
    "Value",
    "arange",
    "as_tensor",
    "cat",
    "concatenate",
    "detect_anomaly",
    "enable_grad",
    "eye",
    "full",
    "full_like",
    "get_default_dtype",
    "grad",
    "gradcheck",
    "gradcheck_model",
    "is_grad_enabled",
    "jit",
    "load",
    "manual_seed",
    "maximum",
    "minimum",
    "no_grad",
    "numerical_grad",
    "ones",
    "ones_like",
    "rand",
    "rand_like",
    "randn",
    "randn_like",
    "save",
    "set_default_dtype",
    "set_grad_enabled",
    "stack",
    "tensor",
    "uniform",
    "uniform_like",
    "where",
    "zeros",
    "zeros_like",
    # issue 17
    "dropout",
    "einsum",
    "empty",
    "empty_like",
    "functional",
    "linspace",
    "one_hot",
    "randint",
    "randint_like",
    "scaled_dot_product_attention",
]
