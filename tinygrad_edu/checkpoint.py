"""Checkpoints: save a model, an optimiser or a whole training state to a ``.npz`` file and load it back.

* ``save(obj, path)`` stores ``obj``: a Module / optimiser / schedule (its ``state_dict()``)
  or any nesting of dicts, lists and tuples whose leaves are numpy arrays, Tensors, numpy
  scalars, Python numbers, strings, booleans or None, e.g.
  ``{"model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": 3}``.
* ``load(path)`` returns the same structure (arrays as arrays, Tensors as Tensors, tuples as
  tuples, int dict keys as ints). ``load(path, into=obj)`` also calls
  ``obj.load_state_dict(...)`` with it, so ``save(model, p)`` / ``load(p, into=model)``
  round-trips a model (``strict=False`` skips missing and unexpected keys, Modules only).

The file is a plain ``.npz`` archive: one ``.npy`` member per array, named after its key
path (``model/0.weight``), plus one member ``__checkpoint__`` holding a JSON index of the
structure (a 0-d string array). So ``numpy.load(path, allow_pickle=False)`` reads every
checkpoint, nothing is ever pickled, and loading one never runs code. Files written before
the index existed (a flat ``{name: array}`` archive) load as that flat dict.

Safety:

* **atomic**: the archive goes to a hidden temporary file next to ``path``, is flushed to
  disk, then renamed over ``path`` (``os.replace``). A crash mid-write never leaves a
  half-written checkpoint at ``path``; the previous one stays intact. A new file gets the
  usual permissions (0666 minus the umask); one saved over keeps its mode.
* temporary files left behind by a process that was killed mid-save (SIGKILL, power cut)
  are removed by the next ``save`` or ``load`` of that checkpoint; a temporary file of a
  process that is still running is left alone.
* ``load`` checks the archive before it allocates anything: every member must be a
  ``.npy`` array of a plain dtype (no objects), its header's shape must match the bytes
  the archive declares for it, and the total must stay under ``max_bytes`` (1 GiB by
  default; pass ``max_bytes=None`` for a larger file you trust). A truncated, tampered or
  foreign file raises :class:`CheckpointError` saying what is wrong.
"""

from __future__ import annotations

import json
import math
import os
import secrets
import stat
import time
import zipfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from .argcheck import check_path
from .tensor_class import Tensor

__all__ = ["DEFAULT_MAX_BYTES", "CheckpointError", "load", "save"]

PathLike = str | os.PathLike

DEFAULT_MAX_BYTES = 2**30  # 1 GiB of array data: ~134M float64 numbers, far above any model trained here
INDEX_MEMBER = "__checkpoint__"
FORMAT = "tinygrad_edu.checkpoint"
VERSION = 1
_ARRAY_KINDS = "biufcUS"  # bool, ints, floats, complex, strings: the dtypes numpy stores without pickle
_LEGACY_TEMP_AGE_S = 60.0  # temp files named before the writer's pid was part of the name


class CheckpointError(ValueError):
    """A file is not a valid checkpoint, or an object cannot be saved as one."""


def _check_suffix(path: PathLike, op: str) -> Path:
    p = check_path(path, "path", op)
    if p.suffix != ".npz":
        raise CheckpointError(f"{op}: checkpoints are .npz files; got path {str(path)!r} (suffix {p.suffix!r})")
    return p


def _key_path(path: tuple[Any, ...]) -> str:
    """``("model", "0.weight")`` -> ``['model']['0.weight']`` (as one would index the object)."""
    return "".join(f"[{k!r}]" for k in path) or "(the top level)"


# ====================================================================== structure <-> JSON index


class _Encoder:
    """Turns a nested object into a JSON-able tree and a list of (member name, array)."""

    def __init__(self) -> None:
        self.arrays: list[tuple[str, np.ndarray]] = []
        self._names: set[str] = {INDEX_MEMBER}
        self._active: set[int] = set()  # ids of the containers being encoded (to detect cycles)

    def _member(self, path: tuple[Any, ...], array: np.ndarray) -> str:
        """A member name from the key path (``model/0.weight``), or ``arrays/<n>`` when that cannot be one."""
        parts = [str(k) for k in path]
        name = "/".join(parts)
        unusable = any(not p or "/" in p or "\\" in p or p in (".", "..") for p in parts)
        if not parts or unusable or len(name) > 255 or name in self._names:
            name = f"arrays/{len(self.arrays)}"
        self._names.add(name)
        self.arrays.append((name, array))
        return name

    def _array(self, path: tuple[Any, ...], array: np.ndarray) -> str:
        if array.dtype.kind not in _ARRAY_KINDS:
            raise CheckpointError(
                f"save: {_key_path(path)} holds a {array.dtype} array; checkpoints store arrays of numbers, "
                "booleans or strings (they are loaded with allow_pickle=False, so objects could not be read back)"
            )
        return self._member(path, array)

    def encode(self, obj: Any, path: tuple[Any, ...] = ()) -> Any:
        if obj is None or isinstance(obj, (bool, str)):
            return obj
        if isinstance(obj, Tensor):
            return {"$tensor": self._array(path, obj.data), "requires_grad": bool(obj.requires_grad)}
        if isinstance(obj, np.ndarray):
            return {"$array": self._array(path, obj)}
        if isinstance(obj, np.generic):  # a numpy scalar keeps its dtype (np.float32(0.1) is not 0.1)
            return {"$scalar": self._array(path, np.asarray(obj))}
        if isinstance(obj, int):
            return int(obj)
        if isinstance(obj, float):
            return float(obj) if math.isfinite(obj) else {"$float": repr(float(obj))}
        if isinstance(obj, (Mapping, list, tuple)):
            if id(obj) in self._active:
                raise CheckpointError(f"save: {_key_path(path)} contains itself (a cycle); checkpoints hold trees")
            self._active.add(id(obj))
            try:
                return self._container(obj, path)
            finally:
                self._active.discard(id(obj))
        raise CheckpointError(
            f"save: cannot store {type(obj).__name__} at {_key_path(path)}; checkpoints hold nested dicts, "
            "lists and tuples of arrays, Tensors, numbers, strings, booleans and None "
            "(convert the object, e.g. to its state_dict() or a string)"
        )

    def _container(self, obj: Any, path: tuple[Any, ...]) -> Any:
        if isinstance(obj, Mapping):
            items = []
            for key, value in obj.items():
                if isinstance(key, np.integer):
                    key = int(key)
                if isinstance(key, bool) or not isinstance(key, (str, int)):
                    raise CheckpointError(
                        f"save: the key {key!r} ({type(key).__name__}) at {_key_path(path)} is not a string "
                        "or an int; checkpoint keys must be one of those"
                    )
                items.append([key, self.encode(value, path + (key,))])
            return {"$dict": items}
        tag = "$list" if isinstance(obj, list) else "$tuple"
        return {tag: [self.encode(value, path + (i,)) for i, value in enumerate(obj)]}


def _decode(node: Any, arrays: dict[str, np.ndarray], used: set[str], where: str) -> Any:
    """The object an index ``node`` stands for (raises CheckpointError for anything unexpected)."""
    if node is None or isinstance(node, (bool, str, int, float)):
        return node
    if isinstance(node, dict) and len(node) >= 1:
        tag = next(iter(node))
        body = node[tag]
        if tag in ("$array", "$tensor", "$scalar") and isinstance(body, str):
            if body not in arrays:
                raise CheckpointError(f"load: {where}: the index refers to a missing array {body!r} (file tampered?)")
            used.add(body)
            array = arrays[body]
            if tag == "$tensor":
                return Tensor(array, requires_grad=bool(node.get("requires_grad", False)))
            return array[()] if tag == "$scalar" else array
        if tag == "$float" and body in ("nan", "inf", "-inf"):
            return float(body)
        if tag == "$dict" and isinstance(body, list):
            out = {}
            for item in body:
                if not (isinstance(item, list) and len(item) == 2 and isinstance(item[0], (str, int))):
                    raise CheckpointError(f"load: {where}: malformed dict entry {item!r} in the index (file tampered?)")
                out[item[0]] = _decode(item[1], arrays, used, where)
            return out
        if tag in ("$list", "$tuple") and isinstance(body, list):
            values = [_decode(v, arrays, used, where) for v in body]
            return values if tag == "$list" else tuple(values)
    raise CheckpointError(f"load: {where}: unexpected entry {str(node)[:80]!r} in the index (file tampered?)")


# ====================================================================== writing


def _temp_prefix(target: Path) -> str:
    return f".{target.name}."


def _remove_stale_temps(target: Path) -> None:
    """Delete hidden temp files of ``target`` whose writer died before renaming them (SIGKILL mid-save).

    Our temp names carry the writer's pid (``.<name>.<pid>-<token>.tmp``): one is stale when
    that process no longer exists. Names without a pid (older versions) are stale after a minute.
    """
    directory = target.parent if str(target.parent) else Path(".")
    prefix = _temp_prefix(target)
    try:
        candidates = [e for e in os.scandir(directory) if e.name.startswith(prefix) and e.name.endswith(".tmp")]
    except OSError:
        return
    for entry in candidates:
        middle = entry.name[len(prefix) : -len(".tmp")]
        pid_text, _, token = middle.partition("-")
        try:
            if pid_text.isdigit() and token:
                if not _process_is_gone(int(pid_text)):
                    continue
            elif time.time() - entry.stat().st_mtime < _LEGACY_TEMP_AGE_S:
                continue
            os.unlink(entry.path)
        except OSError:
            pass  # another process removed or renamed it first


def _process_is_gone(pid: int) -> bool:
    if pid == os.getpid():
        return False  # maybe another thread of ours is writing it right now
    if os.name != "posix":
        return False
    try:
        os.kill(pid, 0)  # signal 0: only checks that the process exists
    except ProcessLookupError:
        return True
    except OSError:
        return False  # exists, owned by someone else
    return False


def _write_archive(f: Any, index: str, arrays: list[tuple[str, np.ndarray]]) -> None:
    """Members written one by one (never ``np.savez(**arrays)``: user keys are not keyword arguments)."""
    with zipfile.ZipFile(f, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
        for name, array in [(INDEX_MEMBER, np.array(index)), *arrays]:
            with zf.open(name + ".npy", "w", force_zip64=True) as member:
                np.lib.format.write_array(member, array, allow_pickle=False)


def save(obj: Any, path: PathLike) -> Path:
    """Write ``obj`` (a Module/optimiser/schedule, or nested dicts/lists of arrays and numbers) to ``path`` (.npz).

    The write is atomic and never pickles; returns the path written. The parent directory
    must exist. See the module docstring for what can be stored.
    """
    target = _check_suffix(path, "save")
    if hasattr(obj, "state_dict") and callable(obj.state_dict):
        obj = obj.state_dict()
    encoder = _Encoder()
    tree = encoder.encode(obj)
    index = json.dumps({"format": FORMAT, "version": VERSION, "tree": tree}, allow_nan=False)
    return atomic_write(target, lambda f: _write_archive(f, index, encoder.arrays), "save")


def atomic_write(target: Path, write: Callable[[BinaryIO], None], op: str) -> Path:
    """Run ``write(f)`` on a hidden temporary file next to ``target``, flush it to disk, rename it over ``target``.

    A crash or an error mid-write leaves ``target`` as it was (and removes the temporary
    file). A new file gets 0666 minus the umask; a file saved over keeps its mode.
    Temporary files of earlier writers that were killed are removed first.
    """
    directory = target.parent if str(target.parent) else Path(".")
    if not directory.is_dir():
        raise FileNotFoundError(f"{op}: directory {str(directory)!r} does not exist (for {str(target)!r})")
    if target.is_dir():
        example = str(target / ("model" + target.suffix))
        raise IsADirectoryError(f"{op}: {str(target)!r} is a directory; pass a file path such as {example!r}")
    _remove_stale_temps(target)
    tmp = directory / f"{_temp_prefix(target)}{os.getpid()}-{secrets.token_hex(6)}.tmp"
    # 0o666: the kernel subtracts the umask, so a new file gets the same mode as any new file
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            try:
                old_mode = stat.S_IMODE(os.stat(target).st_mode)
            except FileNotFoundError:
                pass
            else:
                os.chmod(tmp, old_mode)  # saving over a file keeps its permissions
            write(f)
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


# ====================================================================== reading


def _read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, where: str) -> np.ndarray:
    """One ``.npy`` member, after checking that its header's shape matches the bytes the archive holds."""
    with zf.open(info) as member:
        try:
            version = np.lib.format.read_magic(member)
            if version == (1, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_1_0(member)
            elif version == (2, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_2_0(member)
            else:
                raise ValueError(f"unsupported .npy format version {version}")
        except ValueError as err:
            raise CheckpointError(f"load: {where}: member {info.filename!r} is not a valid .npy array ({err})") from err
        if dtype.kind not in _ARRAY_KINDS:
            raise CheckpointError(
                f"load: {where}: member {info.filename!r} holds {dtype} data; checkpoints are read with "
                "allow_pickle=False, so only arrays of numbers, booleans or strings can be loaded"
            )
        count = math.prod(shape)
        declared = count * dtype.itemsize
        available = info.file_size - member.tell()
        if declared != available:
            raise CheckpointError(
                f"load: {where}: member {info.filename!r} declares shape {shape} of {dtype} ({declared:,} bytes) "
                f"but the archive holds {available:,} bytes for it (truncated or crafted file)"
            )
        flat = np.empty(count, dtype=dtype)
        view = flat.view(np.uint8)
        filled = 0
        while filled < declared:
            n = member.readinto(memoryview(view)[filled:])
            if not n:
                raise CheckpointError(f"load: {where}: member {info.filename!r} ends early (truncated file)")
            filled += n
        member.read(1)  # reach the end, where zipfile checks the CRC (raises BadZipFile if tampered)
    return flat.reshape(shape, order="F" if fortran else "C")


def _read_archive(target: Path, where: str, max_bytes: int | None) -> dict[str, np.ndarray]:
    with zipfile.ZipFile(target) as zf:
        infos = zf.infolist()
        names = [info.filename for info in infos]
        if len(set(names)) != len(names):
            raise CheckpointError(f"load: {where}: the archive has repeated member names (crafted file)")
        for info in infos:
            if not info.filename.endswith(".npy"):
                raise CheckpointError(
                    f"load: {where}: member {info.filename!r} is not a .npy array; checkpoints hold only .npy members"
                )
        total = sum(info.file_size for info in infos)
        if max_bytes is not None and total > max_bytes:
            raise CheckpointError(
                f"load: {where}: the archive declares {total:,} bytes of arrays, more than max_bytes={max_bytes:,}; "
                "pass a larger max_bytes= (or None) if you trust this file"
            )
        return {info.filename[: -len(".npy")]: _read_member(zf, info, where) for info in infos}


def _structure(arrays: dict[str, np.ndarray], where: str) -> Any:
    """The saved object: decoded from the index, or the flat dict of a file written before the index existed."""
    if INDEX_MEMBER not in arrays:
        return arrays
    raw = arrays.pop(INDEX_MEMBER)
    try:
        header = json.loads(str(raw[()]))
    except (ValueError, TypeError) as err:
        raise CheckpointError(f"load: {where}: the checkpoint index is not valid JSON ({err}; file tampered?)") from err
    if not isinstance(header, dict) or header.get("format") != FORMAT or "tree" not in header:
        raise CheckpointError(f"load: {where}: the checkpoint index is not a {FORMAT} index (file tampered?)")
    if not isinstance(header.get("version"), int) or header["version"] > VERSION:
        raise CheckpointError(
            f"load: {where}: checkpoint format version {header.get('version')!r}; this version of "
            f"tinygrad_edu reads up to {VERSION} (upgrade tinygrad_edu)"
        )
    used: set[str] = set()
    obj = _decode(header["tree"], arrays, used, where)
    unused = sorted(set(arrays) - used)
    if unused:
        raise CheckpointError(f"load: {where}: arrays {unused[:5]} are not in the checkpoint index (file tampered?)")
    return obj


def load(path: PathLike, into: Any = None, strict: bool = True, max_bytes: int | None = DEFAULT_MAX_BYTES) -> Any:
    """Read a checkpoint written by :func:`save` and return the saved structure (never unpickles anything).

    With ``into=obj`` the result is also loaded into ``obj`` (a Module, an optimiser or a
    schedule: anything whose ``state_dict()`` was saved) with ``obj.load_state_dict(...)``;
    ``strict=False`` (Modules only) skips missing and unexpected keys. ``max_bytes`` bounds
    the array data a file may declare (``None``: no bound).
    """
    target = _check_suffix(path, "load")
    if target.is_dir():
        raise IsADirectoryError(f"load: {str(path)!r} is a directory, not a checkpoint file")
    if not target.is_file():
        raise FileNotFoundError(f"load: no checkpoint file at {str(path)!r}")
    _remove_stale_temps(target)
    where = repr(str(path))
    with open(target, "rb") as f:
        magic = f.read(6)
    if magic == b"\x93NUMPY":
        raise CheckpointError(f"load: {where} holds a single .npy array, not an .npz archive of named arrays")
    try:
        obj = _structure(_read_archive(target, where, max_bytes), where)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, NotImplementedError) as err:
        raise CheckpointError(f"load: {where} is not a valid .npz checkpoint (truncated or damaged: {err})") from err
    if into is not None:
        loader = getattr(into, "load_state_dict", None)
        if not callable(loader):
            raise TypeError(
                f"load: into= must have a load_state_dict method (a Module, an optimiser or a schedule), "
                f"got {type(into).__name__}"
            )
        parts = [k for k, v in obj.items() if isinstance(v, Mapping)] if isinstance(obj, Mapping) else []
        try:
            # only Module.load_state_dict takes strict=; optimisers and schedules always check their keys
            if strict:
                loader(obj)
            else:
                loader(obj, strict=False)
        except (KeyError, ValueError, TypeError) as err:
            if not parts:
                raise
            raise CheckpointError(
                f"load: {where} is a nested checkpoint with parts {parts}; load one part into "
                f"{type(into).__name__}, e.g. obj.load_state_dict(tg.load(path)[{parts[0]!r}]) ({err})"
            ) from err
    return obj
