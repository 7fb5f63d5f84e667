"""The user-facing ``Tensor`` ops added on top of the core, one module per family.

Each module defines a *mixin* class whose methods ``Tensor`` inherits
(``class Tensor(InplaceOps, ArithmeticOps, IndexingOps, ElementwiseOps, ReductionOps,
MovementOps)``), plus the free functions of :mod:`~tinygrad_edu.ops.functional`. The mixins
import only :mod:`~tinygrad_edu.primitives` and numpy, never ``tensor_class`` at module level
(a few helpers import it inside a function), so the import arrows point down the floors:

* :mod:`~tinygrad_edu.ops.arithmetic` -- the operators ``+ - * / ** @``, comparisons and
  ``& | ^ ~``, and the unary primitives (exp, log, sqrt, abs, tanh, sigmoid, relu);
* :mod:`~tinygrad_edu.ops.indexing` -- the movement primitives' front doors: reshape,
  permute, mT, expand and ``t[index]``;
* :mod:`~tinygrad_edu.ops.elementwise` -- trigonometry, exp/log variants, activations
  (gelu, silu, mish, ...), rounding (zero gradient), tests (isnan, ...), ``//``, ``%``, logic;
* :mod:`~tinygrad_edu.ops.reductions` -- prod, cumsum/cumprod, argmax/argmin, any/all,
  sort/argsort/topk, norm;
* :mod:`~tinygrad_edu.ops.movement` -- gather/scatter, index_select, masked_fill, tril/triu,
  flip, roll, repeat/tile, split/chunk/unbind, narrow, clone, pad modes, diag/diagonal;
* :mod:`~tinygrad_edu.ops.functional` -- one_hot, einsum, scaled_dot_product_attention,
  linear, dropout, pad (PyTorch's argument order).

Every op's docstring gives its formula and derivative, and whether it is a primitive or
composed (see ``docs/ops.md`` for the table).
"""
