"""State dicts as ``.safetensors`` files, the format the PyTorch world exchanges weights in.

The format is simple enough to write and read with numpy alone (no extra needed):

* 8 bytes: N, the length of the header, as a little-endian unsigned 64-bit integer;
* N bytes: a JSON header ``{name: {"dtype": "F64", "shape": [2, 3], "data_offsets": [begin, end]}}``
  (plus an optional ``"__metadata__"`` dict of strings);
* the data: every tensor's bytes, little-endian and row-major, ``begin``..``end`` counted
  from the start of this block.

Like :mod:`tinygrad_edu.checkpoint`, writing is atomic and reading checks every declared
size against the file before allocating. ``torch``'s ``safetensors.torch.load_file`` reads
what :func:`save_safetensors` writes, and :func:`load_safetensors` reads what it writes.
"""

from __future__ import annotations

import json
import math
import os
import struct
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ..argcheck import check_path
from ..checkpoint import DEFAULT_MAX_BYTES, CheckpointError, atomic_write
from ..tensor_class import Tensor

__all__ = ["load_safetensors", "save_safetensors"]

_DTYPES = {
    "F64": np.float64, "F32": np.float32, "F16": np.float16,
    "I64": np.int64, "I32": np.int32, "I16": np.int16, "I8": np.int8,
    "U64": np.uint64, "U32": np.uint32, "U16": np.uint16, "U8": np.uint8, "BOOL": np.bool_,
}
_CODES = {np.dtype(t): code for code, t in _DTYPES.items()}
_MAX_HEADER = 100 * 2**20  # the reference implementation's limit


def _check_suffix(path: str | os.PathLike, op: str) -> Path:
    p = check_path(path, "path", op)
    if p.suffix != ".safetensors":
        raise CheckpointError(f"{op}: expected a .safetensors path, got {str(path)!r}")
    return p


def save_safetensors(state: Any, path: str | os.PathLike, metadata: Mapping[str, str] | None = None) -> Path:
    """Write a state dict (``{name: array or Tensor}``, or a Module's) to ``path`` (.safetensors), atomically."""
    target = _check_suffix(path, "save_safetensors")
    if hasattr(state, "state_dict") and callable(state.state_dict):
        state = state.state_dict()
    if not isinstance(state, Mapping):
        raise TypeError(f"save_safetensors: expected a Module or a mapping name -> array, got {type(state).__name__}")
    header: dict[str, Any] = {}
    if metadata:
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()):
            raise TypeError("save_safetensors: metadata must map strings to strings")
        header["__metadata__"] = dict(metadata)
    blobs: list[bytes] = []
    offset = 0
    for name, value in state.items():
        array = np.asarray(value.data if isinstance(value, Tensor) else value)
        if not isinstance(name, str) or not name or name == "__metadata__":
            raise CheckpointError(f"save_safetensors: tensor names must be non-empty strings, got {name!r}")
        code = _CODES.get(array.dtype.newbyteorder("=") if array.dtype.byteorder == ">" else array.dtype)
        if code is None:
            raise CheckpointError(
                f"save_safetensors: {name!r} holds {array.dtype} data; safetensors stores {sorted(_DTYPES)}"
            )
        blob = np.ascontiguousarray(array).astype(array.dtype.newbyteorder("<"), copy=False).tobytes()
        header[name] = {"dtype": code, "shape": list(array.shape), "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)  # the data starts 8-byte aligned, as the reference writer does

    def write(f: Any) -> None:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for blob in blobs:
            f.write(blob)

    return atomic_write(target, write, "save_safetensors")


def load_safetensors(path: str | os.PathLike, max_bytes: int | None = DEFAULT_MAX_BYTES) -> dict[str, np.ndarray]:
    """Read a ``.safetensors`` file into ``{name: array}`` (load it into a model with ``load_state_dict``)."""
    target = _check_suffix(path, "load_safetensors")
    where = f"load_safetensors: {str(path)!r}"
    if not target.is_file():
        raise FileNotFoundError(f"{where}: no such file")
    size = target.stat().st_size
    with open(target, "rb") as f:
        first = f.read(8)
        if len(first) < 8:
            raise CheckpointError(f"{where}: too short to be a safetensors file ({size} bytes)")
        (n,) = struct.unpack("<Q", first)
        if n > min(_MAX_HEADER, size - 8):
            raise CheckpointError(f"{where}: declares a {n:,}-byte header in a {size:,}-byte file (not safetensors?)")
        try:
            header = json.loads(f.read(n).decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as err:
            raise CheckpointError(f"{where}: the header is not valid JSON ({err})") from err
        if not isinstance(header, dict):
            raise CheckpointError(f"{where}: the header is not a JSON object")
        header.pop("__metadata__", None)
        data_size = size - 8 - n
        if max_bytes is not None and data_size > max_bytes:
            raise CheckpointError(
                f"{where}: {data_size:,} bytes of tensors, more than max_bytes={max_bytes:,} (pass a larger one)"
            )
        spans = []
        for name, entry in header.items():
            try:
                dtype = np.dtype(_DTYPES[entry["dtype"]]).newbyteorder("<")
                shape = tuple(int(d) for d in entry["shape"])
                begin, end = (int(o) for o in entry["data_offsets"])
            except (KeyError, TypeError, ValueError) as err:
                raise CheckpointError(f"{where}: malformed header entry for {name!r}: {entry!r}") from err
            if min(shape, default=0) < 0 or not 0 <= begin <= end <= data_size:
                raise CheckpointError(f"{where}: {name!r}: shape {shape}, offsets {begin}..{end} outside the data")
            if end - begin != math.prod(shape) * dtype.itemsize:
                raise CheckpointError(
                    f"{where}: {name!r} declares shape {shape} of {dtype} but spans {end - begin} bytes"
                )
            spans.append((begin, end, name, dtype, shape))
        out: dict[str, np.ndarray] = {}
        for begin, end, name, dtype, shape in spans:
            f.seek(8 + n + begin)
            raw = f.read(end - begin)
            if len(raw) != end - begin:
                raise CheckpointError(f"{where}: the file ends inside {name!r} (truncated)")
            out[name] = np.frombuffer(raw, dtype=dtype).astype(dtype.newbyteorder("="), copy=True).reshape(shape)
    return out
