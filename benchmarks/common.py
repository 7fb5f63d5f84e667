"""Shared helpers for the benchmarks: the environment report, fair timing and tables.

Timing on a shared machine is noisy, so compared variants are *interleaved* (every round
times each variant once, in rotating order) and we report the minimum over rounds (the
least-disturbed run, what the code costs) next to the median (what you typically see).
"""

from __future__ import annotations

import os
import platform
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["Elapsed", "Timing", "environment_report", "format_table", "interleaved_timings", "torch_or_none"]


def torch_or_none():  # noqa: ANN201 - the torch module or None
    """PyTorch if it is installed (it is never a dependency of the package or the tests)."""
    try:
        import torch
    except ImportError:
        return None
    return torch


def environment_report() -> str:
    """Python, numpy and BLAS (via threadpoolctl), OPENBLAS_CORETYPE, torch: what the figures depend on."""
    lines = [
        f"python {platform.python_version()} on {platform.machine()} ({platform.system()}), "
        f"{os.cpu_count()} logical CPUs",
        f"numpy {np.__version__}",
    ]
    try:
        from threadpoolctl import threadpool_info

        for pool in threadpool_info():
            lines.append(
                f"  {pool.get('user_api')}: {pool.get('internal_api')} {pool.get('version')} "
                f"({pool.get('architecture', '?')}), {pool.get('num_threads')} threads, {pool.get('filepath')}"
            )
    except ImportError:
        lines.append("  (install threadpoolctl to see the BLAS library)")
    coretype = os.environ.get("OPENBLAS_CORETYPE")
    if coretype:
        lines.append(f"OPENBLAS_CORETYPE={coretype}")
    torch = torch_or_none()
    lines.append(f"torch {torch.__version__} ({torch.get_num_threads()} threads)" if torch else "torch: not installed")
    return "\n".join(lines)


class Elapsed(float):
    """Seconds measured by a variant itself (e.g. only the backward half of a call)."""


@dataclass
class Timing:
    """Seconds per call of one variant over several rounds."""

    name: str
    samples: list[float]

    @property
    def best(self) -> float:
        return min(self.samples)

    @property
    def median(self) -> float:
        return statistics.median(self.samples)


def interleaved_timings(
    variants: dict[str, Callable[[], object]], rounds: int = 30, number: int = 1, warmup: int = 2
) -> dict[str, Timing]:
    """Time each variant ``rounds`` times (``number`` calls per sample), interleaving them.

    A variant may return :class:`Elapsed` seconds: then that is the sample instead of the
    wall time of the call -- for timing only part of a call, such as a backward pass that
    needs a fresh forward pass first.
    """
    names = list(variants)
    for _ in range(warmup):
        for name in names:
            variants[name]()
    samples: dict[str, list[float]] = {name: [] for name in names}
    for r in range(rounds):
        for name in names[r % len(names) :] + names[: r % len(names)]:  # rotate who goes first
            fn = variants[name]
            own, measured_inside = 0.0, False
            start = time.perf_counter()
            for _ in range(number):
                inner = fn()
                if isinstance(inner, Elapsed):
                    own, measured_inside = own + inner, True
            elapsed = time.perf_counter() - start
            samples[name].append((own if measured_inside else elapsed) / number)
    return {name: Timing(name, s) for name, s in samples.items()}


def format_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A Markdown table (readable in a terminal and pasteable into docs)."""
    cells = [[str(h) for h in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = ["| " + " | ".join(c.ljust(w) for c, w in zip(row, widths)) + " |" for row in cells]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)
