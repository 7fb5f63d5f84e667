"""Version counters: catch an array changed in place after an op saved it for backward.

A VJP runs long after its forward op: ``z = x * w`` saves x and w, and ``backward`` later
computes dL/dw = g * x from the x it finds *then*. If ``x`` was changed in place meanwhile
(``x += 1``, an optimiser step on ``w`` before ``backward``), that gradient would be silently
wrong. PyTorch counts the in-place changes of each tensor (its *version*) and checks, at
backward time, that every saved tensor is still at the version it was saved at. This module
does the same, mapped onto numpy:

* **Versions belong to memory.** An in-place op writes into a numpy array; views of it
  (``reshape``, ``permute``, basic slicing) and ``detach()`` share that memory, so the count is
  kept per *owner* array (the ndarray at the end of the ``.base`` chain), as PyTorch shares one
  counter between a tensor and its views. :func:`record_write` bumps it.
* **A global clock instead of per-op snapshots.** Every write also advances :data:`CLOCK`.
  Each recorded op stores the clock's value when it was made (``Tensor._born``: one integer,
  the only cost on the forward hot path). At backward a node compares ``_born`` with
  ``CLOCK.tick``: equal means "no in-place change anywhere since this op was recorded", so the
  common case costs one integer comparison per node and nothing else. Only when something was
  written since does :func:`check_saved` look at the node's saved arrays.
* **Which arrays an op saved** is declared by its primitive: ``saves`` lists the input
  positions (and ``"out"``) its VJP reads (see :mod:`tinygrad_edu.primitives`; ``None``, the
  default, means all of them, the safe choice for a new primitive). ``z = x + y`` saves
  nothing, so changing x in place after it is harmless, as in PyTorch.

What is not tracked (as in PyTorch): writes through ``t.data`` or through a numpy array the
tensor shares with its caller; use the in-place methods (``add_``, ``+=``, ``t[i] = v``, ...).
"""

from __future__ import annotations

import bisect
import threading
import weakref
from typing import Any

import numpy as np

__all__ = ["CLOCK", "check_saved", "memory_owner", "record_write", "version_of"]

_KEEP_TICKS = 32  # per array, the clock ticks of its last writes (enough to name the saved version)


class _Clock:
    """The global in-place clock: advanced by every recorded write (one per in-place op)."""

    __slots__ = ("tick",)

    def __init__(self) -> None:
        self.tick = 0


CLOCK = _Clock()
# Re-entrant: the garbage collector can run inside record_write (any allocation may trigger it) and
# call _forget for an array that just died, in the same thread, while the lock is held.
_lock = threading.RLock()


class _MemoryVersion:
    """The write history of one owner array: its version, the ticks of its last writes, the last op."""

    __slots__ = ("ref", "version", "ticks", "op")

    def __init__(self, ref: weakref.ref) -> None:
        self.ref, self.version, self.ticks, self.op = ref, 0, [], ""

    def version_at(self, tick: int) -> int:
        """The version the array had at clock ``tick`` (a lower bound if older than the kept ticks)."""
        return max(0, self.version - (len(self.ticks) - bisect.bisect_right(self.ticks, tick)))


_memory: dict[int, _MemoryVersion] = {}  # id(owner array) -> its history, dropped when the array dies


def memory_owner(array: np.ndarray) -> np.ndarray:
    """The ndarray that owns ``array``'s memory (the last ndarray on its ``.base`` chain)."""
    while isinstance(array.base, np.ndarray):
        array = array.base
    return array


def _forget(key: int, ref: weakref.ref) -> None:
    with _lock:
        entry = _memory.get(key)
        if entry is not None and entry.ref is ref:
            del _memory[key]


def record_write(array: np.ndarray, op: str) -> int:
    """Note that ``op`` wrote into ``array``'s memory: bump its version and the clock. Returns the clock tick."""
    owner = memory_owner(array)
    key = id(owner)
    with _lock:
        entry = _memory.get(key)
        if entry is None or entry.ref() is not owner:  # new, or an id reused by a new array
            entry = _memory[key] = _MemoryVersion(weakref.ref(owner, lambda ref, key=key: _forget(key, ref)))
        CLOCK.tick += 1
        entry.version += 1
        entry.op = op
        entry.ticks.append(CLOCK.tick)
        if len(entry.ticks) > _KEEP_TICKS:
            del entry.ticks[0]
        return CLOCK.tick


def version_of(array: np.ndarray) -> int:
    """How many in-place ops have written into ``array``'s memory (PyTorch's ``t._version``)."""
    owner = memory_owner(array)
    entry = _memory.get(id(owner))
    return entry.version if entry is not None and entry.ref() is owner else 0


def _written_after(array: np.ndarray, tick: int) -> _MemoryVersion | None:
    owner = memory_owner(array)
    entry = _memory.get(id(owner))
    if entry is not None and entry.ref() is owner and entry.ticks and entry.ticks[-1] > tick:
        return entry
    return None


def check_saved(node: Any) -> None:
    """Raise if an array ``node``'s VJP reads, or one of its parents, changed in place after the node was made.

    Two cases, both errors rather than a silently wrong gradient:

    * a saved array (see the module docstring) was written into after the op saved it;
    * a parent was *replaced in the graph* by a recorded in-place op (``y *= 2`` on an interior
      ``y`` with grad mode on): this engine links an op to the parent Tensor object, so after the
      in-place op that object stands for the new value. PyTorch links ops to the old ``grad_fn``
      and allows this when the op saved nothing; here it is always an error (parent born after child).
    """
    born, op = node._born, node._op
    parents = node._parents
    for i, parent in enumerate(parents):
        if parent._born > born:
            raise RuntimeError(
                f"backward: input {i} of '{op}' ({_describe(parent)}) was changed by a recorded in-place "
                f"op ('{parent._op}') after '{op}' used it, so the graph no longer holds the value '{op}' saw. "
                "Use an out-of-place op (y = y * 2 instead of y *= 2), or do the in-place change "
                "before using the tensor."
            )
    saves = getattr(node._fn, "saves", None)  # None (all) for an fn without a declaration
    positions = range(len(parents)) if saves is None else [s for s in saves if s != "out"]
    checks = [(f"its input {i}", parents[i]) for i in positions]
    if saves is None or "out" in saves:
        checks.append(("its output", node))
    for what, tensor in checks:
        entry = _written_after(tensor.data, born)
        if entry is not None:
            raise RuntimeError(
                "backward: one of the tensors needed for gradient computation has been modified by an "
                f"inplace operation ({entry.op}): '{op}' saved {what}, a {_describe(tensor)}, "
                f"at version {entry.version_at(born)}; it is now at version {entry.version}. "
                "Do the in-place change after backward() (e.g. the optimiser step), or use an "
                "out-of-place op (x = x - y) before it."
            )


def _describe(tensor: Any) -> str:
    return f"{tensor.data.dtype} tensor of shape {tuple(tensor.data.shape)}"
