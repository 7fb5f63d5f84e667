"""Free functions in PyTorch's ``torch.nn.functional`` style, composed from ``Tensor`` ops.

Read top to bottom: ``one_hot`` (labels to rows), ``einsum`` (any sum of products, as
transposes, reshapes and one batched matmul per pair of operands), attention
(``scaled_dot_product_attention``), ``dropout``, and ``pad`` with PyTorch's argument
order. None has a backward of its own: gradients come from the chain rule. (``linear`` is
:func:`tinygrad_edu.nn.linear`; the losses are in :mod:`tinygrad_edu.nn.losses`.)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..seeding import Seed, as_generator
from ..tensor_class import Tensor, where
from ._shared import real
from .movement import PAD_MODES, index_array

__all__ = ["dropout", "einsum", "one_hot", "pad", "scaled_dot_product_attention"]


# ====================================================================== one_hot


def one_hot(labels: Any, num_classes: int = -1) -> Tensor:
    """Y_ik = 1 if labels_i == k else 0: one row per label, ``num_classes`` columns (default max + 1).

    Labels of any shape give a result of shape ``labels.shape + (num_classes,)``, as
    ``torch.nn.functional.one_hot``: an int64 constant (no gradient); ``.float()`` makes a float target.
    """
    y = index_array(labels, "one_hot")
    if y.size and y.min() < 0:
        raise ValueError(f"one_hot: labels must be >= 0, got {int(y.min())}")
    n = int(y.max()) + 1 if num_classes == -1 and y.size else num_classes
    if n < 0 or (y.size and y.max() >= n):
        raise ValueError(f"one_hot: label {int(y.max())} is out of range for num_classes={num_classes}")
    return Tensor((np.arange(n) == y[..., None]).astype(np.int64), dtype=np.int64)


# ====================================================================== einsum


def einsum(equation: str, *operands: Tensor) -> Tensor:
    """Sum of products over the index letters of ``equation`` (numpy's and PyTorch's notation):

        "ij,jk->ik":  Z_ik = sum_j A_ij B_jk      "bij,bjk->bik": batched matmul
        "ii->i": the diagonal   "ij->": the sum   "i,i->": dot product   "ij->ji": transpose
        "...ij,...jk->...ik": matmul over any (broadcast) leading axes

    Composed: a letter repeated within one operand takes a diagonal; a letter only one
    operand needs is summed out early; each pair of operands is permuted to
    (shared kept, own letters, contracted) and multiplied with one batched matmul; the
    letters left are summed and permuted into the output order. Without ``->`` the output
    is the ``...`` axes, then every letter that appears once, in alphabetical order.
    ``...`` axes broadcast as numpy's (size 1 against n; the gradient sums back).
    """
    if not isinstance(equation, str):
        raise TypeError(f"einsum: the equation must be a string such as 'ij,jk->ik', got {equation!r}")
    spec = equation.replace(" ", "")
    inputs_spec, arrow, output = spec.partition("->")
    terms = inputs_spec.split(",")
    if len(terms) != len(operands):
        raise ValueError(f"einsum: {equation!r} names {len(terms)} operands but {len(operands)} were given")
    for c in spec.replace(",", "").replace("->", "").replace("...", ""):
        if not c.isalpha():
            raise ValueError(f"einsum: index names must be letters (and '...'), got {c!r} in {equation!r}")
    tensors = [t if isinstance(t, Tensor) else Tensor(t) for t in operands]
    terms, output, tensors = _expand_ellipsis(terms, output if arrow else None, tensors, equation)
    if len(set(output)) != len(output) or any(c not in "".join(terms) for c in output):
        raise ValueError(f"einsum: output {output!r} must list distinct letters that appear in the inputs")
    sizes: dict[str, int] = {}
    for term, t in zip(terms, tensors):
        if len(term) != t.ndim:
            raise ValueError(f"einsum: term {term!r} has {len(term)} letters but its operand has shape {t.shape}")
        for c, n in zip(term, t.shape):
            if sizes.setdefault(c, n) != n:
                raise ValueError(f"einsum: letter {c!r} has size {sizes[c]} in one place and {n} in another")
    work = [_take_diagonals(term, t) for term, t in zip(terms, tensors)]
    while len(work) > 1:
        (term_a, a), (term_b, b) = work[0], work[1]
        needed_later = set(output).union(*(set(term) for term, _ in work[2:]))
        work = [_contract_pair(term_a, a, term_b, b, needed_later, sizes)] + work[2:]
    term, result = work[0]
    extra = tuple(i for i, c in enumerate(term) if c not in output)
    if extra:
        result = result.sum(axis=extra)
        term = "".join(c for c in term if c in output)
    return result.permute(*(term.index(c) for c in output)) if term != output else result


def _expand_ellipsis(terms: list[str], output: str | None, tensors: list[Tensor],
                     equation: str) -> tuple[list[str], str, list[Tensor]]:
    """Name the ``...`` axes with unused letters (aligned from the right, as broadcasting),
    expand size-1 ones to the common size, and fill in the implicit output."""
    free = [c for c in "ZYXWVUTSRQPONMLKJIHGFEDCBAzyxwvutsrqponmlkjihgfedcba" if c not in equation]
    counts = []
    for term, t in zip(terms, tensors):
        if term.count("...") > 1 or (term.count(".") and term.count(".") != 3 * term.count("...")):
            raise ValueError(f"einsum: each term may hold one '...', got {term!r} in {equation!r}")
        counts.append(t.ndim - len(term.replace("...", "")) if "..." in term else 0)
        if counts[-1] < 0:
            raise ValueError(f"einsum: term {term!r} has more letters than its operand has axes (shape {t.shape})")
    n_broadcast = max(counts)
    letters = "".join(reversed(free[:n_broadcast]))  # the ... axes, outermost first
    shape = np.broadcast_shapes(*(t.shape[term.index("..."):term.index("...") + k]
                                  for term, t, k in zip(terms, tensors, counts) if "..." in term)) \
        if n_broadcast else ()
    named, expanded = [], []
    for term, t, k in zip(terms, tensors, counts):
        if "..." in term:
            i = term.index("...")
            target = t.shape[:i] + shape[n_broadcast - k:] + t.shape[i + k:]
            if k < n_broadcast or target != t.shape:  # prepend the missing axes and broadcast size 1
                t = t.reshape(t.shape[:i] + (1,) * (n_broadcast - k) + t.shape[i:]).expand(
                    t.shape[:i] + shape + t.shape[i + k:])
            term = term.replace("...", letters)
        named.append(term)
        expanded.append(t)
    if output is None:
        joined = "".join(term.replace(letters, "") for term in named) if letters else "".join(named)
        output = letters + "".join(sorted(c for c in set(joined) if joined.count(c) == 1))
    elif "..." in output:
        output = output.replace("...", letters)
    elif "..." in "".join(terms) and n_broadcast:
        raise ValueError(f"einsum: the output of {equation!r} must keep '...' (summing it away is not supported)")
    return named, output, expanded


def _take_diagonals(term: str, t: Tensor) -> tuple[str, Tensor]:
    """Resolve letters repeated within one operand ("ii") by taking that diagonal."""
    while len(set(term)) != len(term):
        c = next(c for c in term if term.count(c) > 1)
        i = term.index(c)
        j = term.index(c, i + 1)
        t = t.diagonal(0, i, j)  # the diagonal becomes the last axis
        term = "".join(x for k, x in enumerate(term) if k not in (i, j)) + c
    return term, t


def _sum_out_alone(term: str, t: Tensor, other: str, needed_later: set[str]) -> tuple[str, Tensor]:
    """Sum out the letters of ``term`` that neither the other operand nor anyone later needs."""
    alone = tuple(i for i, c in enumerate(term) if c not in other and c not in needed_later)
    if not alone:
        return term, t
    return "".join(c for i, c in enumerate(term) if i not in alone), t.sum(axis=alone)


def _contract_pair(term_a: str, a: Tensor, term_b: str, b: Tensor, needed_later: set[str],
                   sizes: dict[str, int]) -> tuple[str, Tensor]:
    """A (letters term_a) times B (term_b), summing the shared letters nobody needs later: one matmul."""
    term_a, a = _sum_out_alone(term_a, a, term_b, needed_later)
    term_b, b = _sum_out_alone(term_b, b, term_a, needed_later)
    shared = [c for c in term_a if c in term_b]
    batch = [c for c in shared if c in needed_later]
    summed = [c for c in shared if c not in needed_later]
    only_a = [c for c in term_a if c not in term_b]
    only_b = [c for c in term_b if c not in term_a]
    size = lambda letters: math.prod(sizes[c] for c in letters)  # noqa: E731 - a local shorthand
    a3 = a.permute(*(term_a.index(c) for c in batch + only_a + summed)).reshape(size(batch), size(only_a),
                                                                                 size(summed))
    b3 = b.permute(*(term_b.index(c) for c in batch + summed + only_b)).reshape(size(batch), size(summed),
                                                                                 size(only_b))
    product = (a3 @ b3).reshape(*(sizes[c] for c in batch + only_a + only_b))
    return "".join(batch + only_a + only_b), product


# ====================================================================== attention


def scaled_dot_product_attention(
    query: Tensor, key: Tensor, value: Tensor, attn_mask: Any = None, dropout_p: float = 0.0,
    is_causal: bool = False, scale: float | None = None, seed: Seed = None,
) -> Tensor:
    """softmax(Q K^T / sqrt(d) + M) V over the last two axes (composed), as PyTorch's.

    Q: (..., L, d), K: (..., S, d), V: (..., S, d_v) -> (..., L, d_v). ``attn_mask`` is
    boolean-like (True/nonzero = may attend; the others get -inf) when it is a boolean array
    or a comparison result, or a float array added to the scores. ``is_causal=True`` lets
    position i attend to positions j <= i only. ``scale`` defaults to 1/sqrt(d). A row with
    every position masked gives NaN, as in PyTorch. ``dropout_p`` drops attention weights
    (``seed`` as in :func:`dropout`).
    """
    try:
        q, k, v = (t if isinstance(t, Tensor) else Tensor(t) for t in (query, key, value))
    except (TypeError, ValueError) as err:
        raise TypeError(f"scaled_dot_product_attention: query, key and value must be Tensors or arrays ({err})") \
            from None
    if q.ndim < 2 or k.ndim < 2 or v.ndim < 2 or q.shape[-1] != k.shape[-1] or k.shape[-2] != v.shape[-2]:
        raise ValueError(
            "scaled_dot_product_attention: expected query (..., L, d), key (..., S, d), value (..., S, d_v); "
            f"got {q.shape}, {k.shape}, {v.shape}"
        )
    factor = 1.0 / math.sqrt(q.shape[-1]) if scale is None else scale
    scores = (q @ k.mT) * factor
    length, source = scores.shape[-2:]
    if is_causal:
        scores = where(np.tril(np.ones((length, source), dtype=bool)), scores, -np.inf)
    if attn_mask is not None:
        mask = attn_mask.data if isinstance(attn_mask, Tensor) else np.asarray(attn_mask)
        if mask.dtype == bool or _is_mask_tensor(attn_mask):
            scores = where(mask != 0, scores, -np.inf)
        else:
            scores = scores + mask
    weights = scores.softmax(axis=-1)
    if dropout_p:
        weights = dropout(weights, dropout_p, seed=seed)
    return weights @ v


def _is_mask_tensor(x: Any) -> bool:
    """A comparison result (a 0/1 mask Tensor) counts as a boolean mask."""
    return isinstance(x, Tensor) and type(x) is not Tensor


# ====================================================================== dropout


def dropout(x: Tensor, p: float = 0.5, training: bool = True, seed: Seed = None) -> Tensor:
    """Inverted dropout: z = x * m / (1 - p), m_i ~ Bernoulli(1 - p) (composed);  dL/dx = g * m / (1 - p).

    Identity when ``training`` is False or p = 0; zeros when p = 1. ``seed`` is an int, a
    ``numpy.random.Generator`` or None (see :mod:`tinygrad_edu.seeding`).
    """
    if not isinstance(x, Tensor):
        raise TypeError(f"dropout: x must be a Tensor, got {type(x).__name__}")
    if not 0.0 <= real(p, "dropout", "p") <= 1.0:
        raise ValueError(f"dropout: p must be in [0, 1], got {p}")
    if not training or p == 0.0:
        return x
    if p == 1.0:
        return x * 0.0
    keep = as_generator(seed).random(x.shape) >= p
    return x * (keep / (1.0 - p)).astype(x.dtype)


# ====================================================================== pad, PyTorch's argument order


def pad(input: Tensor, pad: Sequence[int], mode: str = "constant", value: float = 0.0) -> Tensor:
    """Pad as ``torch.nn.functional.pad``: ``pad = (left, right)`` for the last axis, then
    ``(top, bottom)`` for the one before, and so on (at most two numbers per axis) (composed: ``Tensor.pad``).

    Modes constant / reflect / replicate / circular, as :meth:`Tensor.pad` (which takes
    numpy's one-pair-per-axis form); gradients flow back to every copied element.
    """
    flat = list(pad)
    if len(flat) % 2 or len(flat) // 2 > input.ndim:
        raise ValueError(
            f"pad: expected an even number of widths, two per axis from the last, for shape {input.shape}; got {pad}"
        )
    if mode not in PAD_MODES:
        raise ValueError(f"pad: mode must be one of {PAD_MODES}, got {mode!r}")
    widths = [(0, 0)] * input.ndim
    for i in range(len(flat) // 2):
        widths[input.ndim - 1 - i] = (flat[2 * i], flat[2 * i + 1])
    return input.pad(widths, mode=mode, value=value)
