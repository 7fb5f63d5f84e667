"""Checkpoints: save a model's parameters to a ``.npz`` file and load them back.

* ``save(model_or_state, path)`` writes ``model.state_dict()`` (or a ``{name: array}``
  mapping) with ``numpy.savez``. The write is **atomic**: the data goes to a temporary
  file in the same directory, is flushed to disk, and only then renamed over ``path``
  with ``os.replace``. A crash or an error mid-write never leaves a half-written
  checkpoint at ``path`` (the previous one, if any, is kept intact).
* ``load(path)`` returns ``{name: array}`` and reads with ``allow_pickle=False``, so a
  checkpoint can hold only plain numeric arrays and loading one never runs code.
  ``load(path, into=model)`` also copies the arrays into the model's parameters
  (``model.load_state_dict``: missing, unexpected or shape-mismatched keys are errors).
  Optimisers and learning-rate schedules have ``state_dict`` / ``load_state_dict`` too,
  so ``save(optimizer, path)`` and ``load(path, into=optimizer)`` resume training exactly.
"""

from __future__ import annotations

import os
import tempfile
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from .tensor_class import Tensor

__all__ = ["CheckpointError", "load", "save"]

PathLike = str | os.PathLike


class CheckpointError(ValueError):
    """A file is not a valid checkpoint, or a state cannot be saved as one."""


def _check_suffix(path: PathLike, op: str) -> Path:
    p = Path(path)
    if p.suffix != ".npz":
        raise CheckpointError(f"{op}: checkpoints are .npz files; got path {str(path)!r} (suffix {p.suffix!r})")
    return p


def _as_state(obj: Any, op: str) -> dict[str, np.ndarray]:
    if hasattr(obj, "state_dict") and callable(obj.state_dict):
        obj = obj.state_dict()
    if not isinstance(obj, Mapping):
        raise TypeError(f"{op}: expected a Module or a mapping of name -> array, got {type(obj).__name__}")
    state: dict[str, np.ndarray] = {}
    for key, value in obj.items():
        if not isinstance(key, str) or not key:
            raise CheckpointError(f"{op}: state keys must be non-empty strings, got {key!r}")
        array = np.asarray(value.data if isinstance(value, Tensor) else value)
        if array.dtype.kind not in "biuf":
            raise CheckpointError(
                f"{op}: key {key!r} holds {array.dtype} data; checkpoints store only numeric arrays "
                "(they are loaded with allow_pickle=False, so objects could not be read back)"
            )
        state[key] = array
    return state


def save(module_or_state: Any, path: PathLike) -> Path:
    """Write a Module's ``state_dict()`` (or a ``{name: array}`` mapping) to ``path`` (.npz), atomically.

    Returns the path written. The parent directory must exist.
    """
    target = _check_suffix(path, "save")
    state = _as_state(module_or_state, "save")
    directory = target.parent if str(target.parent) else Path(".")
    if not directory.is_dir():
        raise FileNotFoundError(f"save: directory {str(directory)!r} does not exist (for checkpoint {str(path)!r})")
    if target.is_dir():
        example = str(target / "model.npz")
        raise IsADirectoryError(f"save: {str(path)!r} is a directory; pass a file path such as {example!r}")
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **state)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return target


def load(path: PathLike, into: Any = None, strict: bool = True) -> dict[str, np.ndarray]:
    """Read a checkpoint written by :func:`save`: ``{name: array}`` (never unpickles anything).

    With ``into=obj`` the arrays are also loaded into ``obj`` (a Module, an optimiser or a
    schedule: anything whose ``state_dict()`` was saved) with ``obj.load_state_dict(state)``;
    ``strict=False`` (Modules only) skips missing and unexpected keys.
    """
    target = _check_suffix(path, "load")
    if target.is_dir():
        raise IsADirectoryError(f"load: {str(path)!r} is a directory, not a checkpoint file")
    if not target.is_file():
        raise FileNotFoundError(f"load: no checkpoint file at {str(path)!r}")
    try:
        archive = np.load(target, allow_pickle=False)
        if not hasattr(archive, "files"):
            raise CheckpointError(
                f"load: {str(path)!r} holds a single .npy array, not an .npz archive of named arrays"
            )
        with archive:
            state = {key: archive[key] for key in archive.files}
    except CheckpointError:
        raise
    except (zipfile.BadZipFile, OSError, EOFError) as err:
        raise CheckpointError(f"load: {str(path)!r} is not a valid .npz checkpoint ({err})") from err
    except ValueError as err:
        raise CheckpointError(
            f"load: {str(path)!r} holds pickled objects or is malformed ({err}); "
            "checkpoints are read with allow_pickle=False, so only numeric arrays can be loaded"
        ) from err
    if into is not None:
        loader = getattr(into, "load_state_dict", None)
        if not callable(loader):
            raise TypeError(
                f"load: into= must have a load_state_dict method (a Module, an optimiser or a schedule), "
                f"got {type(into).__name__}"
            )
        # only Module.load_state_dict takes strict=; optimisers and schedules always check their keys
        if strict:
            loader(state)
        else:
            loader(state, strict=False)
    return state
