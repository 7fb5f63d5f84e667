"""The primitive ops of ``Tensor``: the only ops that know calculus.

Each primitive declares ``forward(*arrays, **params)`` (numpy) and ``backward(g, out, *inputs,
**params)`` (its VJP, in Tensor ops). Start with :mod:`~tinygrad_edu.primitives.base`: its
docstring is the reading guide (the contract, the notation, what to read before and after) and
lists the family modules in reading order. This package re-exports every primitive, so
``from tinygrad_edu import primitives as P; P.Add`` works whichever module defines it.
"""

# isort: off
# Imported in reading order (the order of the old single module): ``vars(P)`` is searched in
# this order by tinygrad_edu.viz.explain, which must see PowConst before Pow.
from .base import Grads as Grads, Primitive, _errstate as _errstate
from .elementwise import Neg, Exp, Log, Sqrt, Abs, Tanh, Sigmoid, Relu, Cast, PowConst
from .binary import Add, Sub, Mul, Div, Pow, Maximum, Where
from .reductions import _keepdims_shape as _keepdims_shape, Sum, Max
from .movement import (
    Reshape,
    Permute,
    Expand,
    _broadcast_view as _broadcast_view,
    _broadcast_strides as _broadcast_strides,
    _broadcast_axes as _broadcast_axes,
    _has_integer_array as _has_integer_array,
    _without_boolean_arrays as _without_boolean_arrays,
    Getitem,
    ScatterAdd,
    Pad,
)
from .matmul import MatMul
from .special import Sin, Cos, Asin, Atan, Log1p, Expm1, _erf as _erf, Erf, Cumsum, Cumprod
from .movement import Concatenate
from .matmul import _is_transposed as _is_transposed
from .fused import (
    Linear,
    _log_softmax_rows as _log_softmax_rows,
    SoftmaxCrossEntropy,
    _one_hot as _one_hot,
    SoftmaxCrossEntropyGrad,
)
from .windows import (
    _window as _window,
    _out_hw as _out_hw,
    Im2col,
    Col2im,
    WindowSum,
    AvgPool2d,
    WindowScatter,
    MaxPool2d,
    MaxPoolWeights,
    _pad_minus_inf as _pad_minus_inf,
)
from .backward_only import _BackwardOnly as _BackwardOnly, ReluGrad
from .windows import MaxPool2dGrad
from .backward_only import TanhGrad, SigmoidGrad, LinearWeightGrad
from .fused import SquaredError
from .backward_only import SquaredErrorGrad

# isort: on

__all__ = [
    "Primitive",
    # elementwise
    "Neg", "Exp", "Log", "Sqrt", "Abs", "Tanh", "Sigmoid", "Relu", "Cast", "PowConst",
    # binary
    "Add", "Sub", "Mul", "Div", "Pow", "Maximum", "Where",
    # reductions
    "Sum", "Max",
    # movement
    "Reshape", "Permute", "Expand", "Getitem", "ScatterAdd", "Pad", "Concatenate",
    # matmul
    "MatMul",
    # special (issue 17)
    "Sin", "Cos", "Asin", "Atan", "Log1p", "Expm1", "Erf", "Cumsum", "Cumprod",
    # fused
    "Linear", "SoftmaxCrossEntropy", "SoftmaxCrossEntropyGrad", "SquaredError",
    # windows
    "Im2col", "Col2im", "WindowSum", "AvgPool2d", "WindowScatter", "MaxPool2d", "MaxPoolWeights", "MaxPool2dGrad",
    # backward-only
    "ReluGrad", "TanhGrad", "SigmoidGrad", "LinearWeightGrad", "SquaredErrorGrad",
]
