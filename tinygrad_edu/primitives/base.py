"""The primitive ops of ``Tensor``: the only ops that know calculus.

Each primitive declares, in one place,

* ``forward(*arrays, **params)``: the result as a numpy array, and
* ``backward(g, out, *inputs, **params)``: its vector-Jacobian product (VJP). Given the
  upstream gradient ``g`` = dL/d(out), it returns dL/d(input) for each input (``None``
  for an input that does not require grad).

The VJPs are written with ``Tensor`` ops, not numpy, so with
``backward(create_graph=True)`` the backward pass is itself recorded and can be
differentiated again (Hessian-vector products, gradient penalties). Without it the
backward runs under ``no_grad`` and costs about as much as hand-written numpy.

Every other op (mean, var, softmax, losses, layers, ...) is composed from these in
:mod:`tinygrad_edu.tensor_class` and has no backward of its own. Primitive binary ops see
inputs of one shape: broadcasting is the explicit :class:`Expand` primitive, whose
VJP is a sum, so no other op reduces gradients by hand.

Notation: ``x``, ``y`` inputs, ``z`` output, ``g`` = dL/dz, ``*`` elementwise.

Read :mod:`tinygrad_edu.engine` and :mod:`tinygrad_edu.value` first: each class here is
a ``Value`` op on whole arrays. Then read :mod:`tinygrad_edu.tensor_class`, which calls these.

One speed habit recurs: a VJP computes a parent's gradient only ``if parent.requires_grad``
(else ``None``), so constants such as the input batch X cost nothing in backward.

The primitives live in one module per family, read in this order:

* :mod:`~tinygrad_edu.primitives.base`: the :class:`Primitive` base class and the shared
  numpy error state (this guide);
* :mod:`~tinygrad_edu.primitives.elementwise`: unary elementwise math (neg, exp, log, sqrt,
  abs, tanh, sigmoid, relu, cast, pow by a constant);
* :mod:`~tinygrad_edu.primitives.binary`: binary elementwise ops of one shape (add, sub, mul,
  div, pow, maximum, where);
* :mod:`~tinygrad_edu.primitives.reductions`: sum and max over axes;
* :mod:`~tinygrad_edu.primitives.movement`: reshape, permute, expand (broadcasting), getitem
  and its transpose scatter_add, pad, concatenate;
* :mod:`~tinygrad_edu.primitives.matmul`: the matrix product;
* :mod:`~tinygrad_edu.primitives.special`: the functions added for issue 17 (sin, cos, asin,
  atan, log1p, expm1, erf, cumsum, cumprod);
* :mod:`~tinygrad_edu.primitives.fused`: linear, softmax cross-entropy and squared error,
  fused for speed;
* :mod:`~tinygrad_edu.primitives.windows`: convolution and pooling windows (im2col / col2im,
  window sums, max pooling);
* :mod:`~tinygrad_edu.primitives.backward_only`: one-numpy-pass VJPs used when the backward
  pass is not recorded.

:mod:`tinygrad_edu.primitives` re-exports every primitive, so ``P.Add`` works whatever the file.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from ..tensor_class import Tensor


__all__ = ["Primitive"]


Grads = tuple[Any, ...]


class Primitive:
    """Base of all primitives (a namespace for ``forward`` and ``backward``)."""

    name = "primitive"
    # What the VJP reads at backward time: input positions and/or "out" (None: all of them);
    # an entry (s, i) means s is read only for the gradient of input i (so only if input i
    # requires grad). An in-place change of one of these between forward and backward is an
    # error (see tinygrad_edu.versions); () means the VJP needs no values, only shapes.
    saves: tuple[int | str | tuple[int | str, int], ...] | None = None

    @staticmethod
    def forward(*arrays: np.ndarray, **params: Any) -> np.ndarray:
        raise NotImplementedError

    @staticmethod
    def backward(g: Tensor, out: Tensor, *inputs: Tensor, **params: Any) -> Grads:
        raise NotImplementedError


def _errstate() -> Any:
    """Edge-of-domain results (log 0 = -inf, 1/0 = inf) are documented, not warned about."""
    return np.errstate(divide="ignore", invalid="ignore", over="ignore", under="ignore")
