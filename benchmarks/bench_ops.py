"""Benchmark of the issue-17 ops: per-op overhead of recording + backward on small arrays, vs numpy.

Run (one process, prints two tables)::

    .venv/bin/python benchmarks/bench_ops.py [--rounds 15] [--size 8]

For every op of :mod:`tinygrad_edu.ops` (and a few core ops as a yardstick) on a
``size x size`` float64 array: the time of numpy's forward alone, and of the Tensor op with
graph recording followed by ``backward`` of a random cotangent. The ratio (Tensor /
numpy) says how much the autograd bookkeeping costs on arrays small enough that it
dominates; an op far above its family's median is accidentally slow (e.g. an O(n^2)
composition, or Python loops over elements). Table 1 is per family (median and worst
ratio), table 2 per op. Timings are interleaved rounds, minimum reported (see
``benchmarks/common.py``).
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import environment_report, format_table, interleaved_timings  # noqa: E402

import tinygrad_edu as tg  # noqa: E402
from tinygrad_edu import Tensor  # noqa: E402

_erf = np.frompyfunc(math.erf, 1, 1)


def _softplus(a: np.ndarray) -> np.ndarray:
    return np.logaddexp(0, a)


def cases(size: int) -> list[tuple[str, str, Callable[[Tensor], Tensor], Callable[[np.ndarray], object]]]:
    """(name, family, Tensor op, numpy forward) for every benchmarked op."""
    idx = np.random.default_rng(1).integers(0, size, (size, size))
    v = np.arange(size * size, dtype=float).reshape(size, size)
    return [
        # core yardsticks
        ("mul (core)", "core", lambda x: x * x, lambda a: a * a),
        ("exp (core)", "core", lambda x: x.exp(), np.exp),
        # elementwise
        ("sin", "elementwise", lambda x: x.sin(), np.sin),
        ("tan", "elementwise", lambda x: x.tan(), np.tan),
        ("atan", "elementwise", lambda x: x.atan(), np.arctan),
        ("sinh", "elementwise", lambda x: x.sinh(), np.sinh),
        ("log1p", "elementwise", lambda x: x.abs().log1p(), lambda a: np.log1p(np.abs(a))),
        ("erf", "elementwise", lambda x: x.erf(), _erf),
        ("gelu", "elementwise", lambda x: x.gelu(), lambda a: a * (1 + _erf(a / math.sqrt(2))) / 2),
        ("gelu tanh", "elementwise", lambda x: x.gelu("tanh"),
         lambda a: a * (1 + np.tanh(0.7978845608 * (a + 0.044715 * a**3))) / 2),
        ("silu", "elementwise", lambda x: x.silu(), lambda a: a / (1 + np.exp(-a))),
        ("mish", "elementwise", lambda x: x.mish(), lambda a: a * np.tanh(_softplus(a))),
        ("softplus", "elementwise", lambda x: x.softplus(), _softplus),
        ("hardswish", "elementwise", lambda x: x.hardswish(), lambda a: a * np.clip(a / 6 + 0.5, 0, 1)),
        ("celu", "elementwise", lambda x: x.celu(), lambda a: np.where(a > 0, a, np.expm1(np.minimum(a, 0)))),
        ("floor", "elementwise", lambda x: x.floor() + x, lambda a: np.floor(a) + a),
        ("remainder", "elementwise", lambda x: x % 0.7, lambda a: np.mod(a, 0.7)),
        # reductions and scans
        ("cumsum", "reductions", lambda x: x.cumsum(1), lambda a: np.cumsum(a, 1)),
        ("cumprod", "reductions", lambda x: x.cumprod(1), lambda a: np.cumprod(a, 1)),
        ("prod", "reductions", lambda x: x.prod(1), lambda a: np.prod(a, 1)),
        ("sort", "reductions", lambda x: x.sort(1)[0], lambda a: np.sort(a, 1)),
        ("topk 3", "reductions", lambda x: x.topk(3, 1)[0], lambda a: -np.sort(-a, 1)[:, :3]),
        ("norm 2", "reductions", lambda x: x.norm(2, 1), lambda a: np.sqrt((a * a).sum(1))),
        ("std", "reductions", lambda x: x.std(1), lambda a: a.std(1)),
        # movement and indexing
        ("gather", "movement", lambda x: x.gather(1, idx), lambda a: np.take_along_axis(a, idx, 1)),
        ("scatter_add", "movement", lambda x: x.scatter_add(1, idx, x),
         lambda a: np.put_along_axis(a.copy(), idx, a, 1)),
        ("index_select", "movement", lambda x: x.index_select(0, idx[0]), lambda a: np.take(a, idx[0], 0)),
        ("masked_fill", "movement", lambda x: x.masked_fill(v > 10, 0.0), lambda a: np.where(v > 10, 0.0, a)),
        ("tril", "movement", lambda x: x.tril(), np.tril),
        ("flip", "movement", lambda x: x.flip(0), lambda a: np.flip(a, 0).copy()),
        ("roll", "movement", lambda x: x.roll(2, 1), lambda a: np.roll(a, 2, 1)),
        ("repeat 2x2", "movement", lambda x: x.repeat(2, 2), lambda a: np.tile(a, (2, 2))),
        ("repeat_interleave", "movement", lambda x: x.repeat_interleave(2, 0), lambda a: np.repeat(a, 2, 0)),
        ("pad reflect", "movement", lambda x: x.pad(2, mode="reflect"), lambda a: np.pad(a, 2, mode="reflect")),
        ("diagonal", "movement", lambda x: x.diagonal(), lambda a: np.diagonal(a).copy()),
        ("stack of rows", "movement", lambda x: tg.stack(list(x.unbind(0)), 1), lambda a: np.stack(list(a), 1)),
        # functional
        ("einsum ij,jk", "functional", lambda x: tg.einsum("ij,jk->ik", x, x), lambda a: np.einsum("ij,jk->ik", a, a)),
        ("attention", "functional",
         lambda x: tg.scaled_dot_product_attention(x[None], x[None], x[None], is_causal=True), _attention),
    ]


def _attention(a: np.ndarray) -> np.ndarray:
    s = np.where(np.tril(np.ones(a.shape, bool)), a @ a.T / math.sqrt(a.shape[1]), -np.inf)
    w = np.exp(s - s.max(1, keepdims=True))
    return (w / w.sum(1, keepdims=True)) @ a


def measure(size: int, rounds: int) -> list[tuple[str, str, float, float]]:
    """(name, family, numpy seconds, Tensor record + backward seconds) for every case."""
    data = np.random.default_rng(0).standard_normal((size, size))
    rows = []
    for name, family, op, reference in cases(size):
        x = Tensor(data, requires_grad=True)
        cotangent = np.random.default_rng(2).standard_normal(op(x).shape)

        def record_and_backward(op=op, x=x, cotangent=cotangent) -> None:
            op(x).backward(gradient=cotangent)
            x.grad = None

        t = interleaved_timings({"numpy": lambda ref=reference: ref(data), "tensor": record_and_backward},
                                rounds=rounds, number=5)
        rows.append((name, family, t["numpy"].best, t["tensor"].best))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15, help="samples per variant (minimum reported)")
    parser.add_argument("--size", type=int, default=8, help="arrays are size x size (default 8)")
    args = parser.parse_args()
    print(environment_report(include_torch=False))
    rows = measure(args.size, args.rounds)
    families: dict[str, list[tuple[str, float]]] = {}
    for name, family, numpy_s, tensor_s in rows:
        families.setdefault(family, []).append((name, tensor_s / numpy_s))
    print(f"\nPer family: Tensor (record + backward) / numpy forward, {args.size}x{args.size} float64\n")
    print(format_table(
        ["family", "ops", "median ratio", "worst op", "worst ratio"],
        [[f, len(r), f"{statistics.median(x for _, x in r):.0f}x", max(r, key=lambda p: p[1])[0],
          f"{max(x for _, x in r):.0f}x"] for f, r in families.items()],
    ))
    print("\nPer op\n")
    print(format_table(
        ["op", "family", "numpy us", "Tensor record+backward us", "ratio"],
        [[n, f, f"{a * 1e6:.1f}", f"{b * 1e6:.1f}", f"{b / a:.0f}x"] for n, f, a, b in rows],
    ))


if __name__ == "__main__":
    main()
