"""Shared helpers for the benchmarks: the environment report, fair timing, memory and tables.

Timing on a shared machine is noisy, so compared variants are *interleaved* (every round
times each variant once, in rotating order) and we report the minimum over rounds (the
least-disturbed run, what the code costs) next to the median (what you typically see).

Memory is measured with :mod:`tracemalloc` in a *separate pass* from the timing (tracing
slows every allocation down). It sees Python objects and numpy's array buffers (numpy
reports them to tracemalloc), so one number covers both the graph's nodes and its arrays.
PyTorch allocates outside Python's allocator; its tensor storages are counted from the
profiler's memory timeline instead (:func:`torch_peak_bytes`).
"""

from __future__ import annotations

import gc
import os
import platform
import statistics
import time
import tracemalloc
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

__all__ = [
    "Elapsed",
    "MemoryTrace",
    "MemoryUse",
    "Timing",
    "environment_report",
    "format_bytes",
    "format_table",
    "interleaved_timings",
    "memory_use",
    "torch_or_none",
    "torch_peak_bytes",
]


def torch_or_none():  # noqa: ANN201 - the torch module or None
    """PyTorch if it is installed (it is never a dependency of the package or the tests)."""
    try:
        import torch
    except ImportError:
        return None
    return torch


def environment_report(include_torch: bool = True) -> str:
    """Python, numpy and BLAS (via threadpoolctl), OPENBLAS_CORETYPE, torch: what the figures depend on.

    ``include_torch=False`` leaves torch out (and does not import it) for benchmarks without a torch peer.
    """
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
    if include_torch:
        torch = torch_or_none()
        if torch is None:
            lines.append("torch: not installed")
        else:
            lines.append(f"torch {torch.__version__} ({torch.get_num_threads()} threads)")
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


# ============================================================== memory


@dataclass
class MemoryUse:
    """Bytes allocated by one call, relative to what was allocated just before it.

    ``peak``: the most held at any moment during the call; ``retained``: still held when it
    returned (its result and whatever the result keeps alive); ``result``: what it returned.
    """

    peak: int
    retained: int
    result: object = None


class MemoryTrace:
    """Bytes held and peak bytes since entering the block, as seen by tracemalloc.

    ``with MemoryTrace() as trace: ...; trace.held()`` -- for following one computation
    through its phases (after forward, after backward, after ``del loss``). Garbage is
    collected on entry, so the baseline holds no leftovers of earlier work. Tracing is
    started on entry if it is not running, and stopped again on exit.
    """

    def __enter__(self) -> MemoryTrace:
        self._started_here = not tracemalloc.is_tracing()
        if self._started_here:
            tracemalloc.start()
        gc.collect()
        tracemalloc.reset_peak()
        self._baseline = tracemalloc.get_traced_memory()[0]
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._started_here:
            tracemalloc.stop()

    def held(self) -> int:
        """Bytes allocated since entry and still held now (after collecting garbage cycles)."""
        gc.collect()
        return tracemalloc.get_traced_memory()[0] - self._baseline

    def peak(self) -> int:
        """The most bytes held at any moment since entry, above the baseline."""
        return tracemalloc.get_traced_memory()[1] - self._baseline


def memory_use(fn: Callable[[], object]) -> MemoryUse:
    """Peak and retained bytes of ``fn()`` as seen by tracemalloc (Python objects and numpy buffers)."""
    with MemoryTrace() as trace:
        result = fn()
        peak = trace.peak()
        return MemoryUse(peak, trace.held(), result)


def torch_peak_bytes(torch, fn: Callable[[], object]) -> int | None:  # noqa: ANN001 - the torch module
    """Peak bytes of tensor storage that ``fn()`` allocates on the CPU, from torch.profiler's memory timeline.

    Counts tensor storages only (not autograd's C++ graph nodes, which are small next to
    the arrays of a layer); ``None`` when this torch's profiler cannot give the timeline
    (it is a private API: ``profile._memory_profile().timeline``).
    """
    from torch.profiler import ProfilerActivity, profile

    try:
        with profile(activities=[ProfilerActivity.CPU], profile_memory=True, record_shapes=True, with_stack=True) as p:
            fn()
        timeline = p._memory_profile().timeline
    except Exception:  # noqa: BLE001 - any failure of the private API means "not available"
        return None
    current = peak = 0
    for _time, action, _key, size in timeline:  # storages alive before the call are PREEXISTING
        if action.name == "CREATE":
            current += size
        elif action.name == "DESTROY":
            current -= size
        peak = max(peak, current)
    return peak


def format_bytes(n: float) -> str:
    """``n`` bytes in B, KiB or MiB (binary units), for tables."""
    for unit, scale in (("MiB", 2**20), ("KiB", 2**10)):
        if abs(n) >= scale:
            return f"{n / scale:.2f} {unit}"
    return f"{n:.0f} B"
