"""The dtypes a Tensor holds and PyTorch's promotion rules between them (the dtype policy).

The policy itself is explained in :mod:`tinygrad_edu.tensor_class` (its module docstring);
this module holds the pieces that need no ``Tensor``: the five dtypes, the default float dtype
(:func:`set_default_dtype`), dtype names (:func:`as_dtype`: ``"float32"``, PyTorch's
``"long"``), and the result dtype of an operation (:func:`promote` for two tensors,
:func:`result_dtype` for a tensor with a number, list or array).
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["DTYPES", "as_dtype", "check_can_require_grad", "get_default_dtype", "promote", "result_dtype",
           "set_default_dtype"]

_FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
_INT_DTYPES = (np.dtype(np.int32), np.dtype(np.int64))
_BOOL = np.dtype(np.bool_)
DTYPES = _FLOAT_DTYPES + _INT_DTYPES + (_BOOL,)  # every dtype a Tensor may hold
_DTYPE_SET = frozenset(DTYPES)  # (for a fast membership test)
# PyTorch's spellings (``.to("long")``); other strings and types go through numpy ("float32", np.int64, int, ...)
_TORCH_DTYPE_NAMES = {
    "float": np.dtype(np.float32), "double": np.dtype(np.float64), "long": np.dtype(np.int64),
    "int": np.dtype(np.int32), "bool": _BOOL,
}
_default_dtype = np.dtype(np.float64)


def set_default_dtype(dtype: Any) -> None:
    """Set the float dtype that Python data and integer arrays become (float32 or float64)."""
    global _default_dtype
    try:
        dtype = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"set_default_dtype: expected float32 or float64, got {dtype!r:.60}") from None
    if dtype not in _FLOAT_DTYPES:
        raise TypeError(f"set_default_dtype: expected float32 or float64, got {dtype}")
    _default_dtype = dtype


def get_default_dtype() -> np.dtype:
    """The float dtype that Python data and integer arrays become (float64 by default)."""
    return _default_dtype


def as_dtype(dtype: Any, op: str = "dtype") -> np.dtype:
    """``dtype`` (a numpy dtype or type, ``int``/``float``/``bool``, a name such as ``"float32"`` or
    PyTorch's ``"long"``, or a ``torch.dtype`` such as ``torch.float32``) as one of the numpy dtypes a
    Tensor holds, else a ``TypeError`` naming ``op``."""
    if type(dtype).__module__ == "torch":  # torch.float32 etc. (torch itself is never imported here)
        dtype = str(dtype)
    if isinstance(dtype, str) and dtype.removeprefix("torch.") in _TORCH_DTYPE_NAMES:
        return _TORCH_DTYPE_NAMES[dtype.removeprefix("torch.")]
    try:
        resolved = np.dtype(dtype.removeprefix("torch.") if isinstance(dtype, str) else dtype)
    except TypeError:
        resolved = None
    if resolved is None or resolved not in DTYPES:  # (None == float64 for numpy: test it first)
        raise TypeError(
            f"{op}: unknown or unsupported dtype {dtype!r}; expected one of float32, float64, int32, int64, bool"
        )
    return resolved


def result_dtype(tensor_dtype: np.dtype, other: Any) -> np.dtype:
    """The dtype of ``tensor <op> other`` for a non-Tensor ``other``, by PyTorch's promotion rules.

    Categories rank bool < integer < float. A Python number or list, or a numpy scalar, is a
    *weak* operand: it takes the tensor's dtype unless its category is higher (then the default
    float dtype for a float, int64 for an integer). A numpy array is an ordinary operand: the
    higher category wins, and within a category numpy's ``result_type`` (float32 with float64 ->
    float64). So ``x32 * 2.0``, ``x32 + np.int64(2)`` and ``x32 + [1, 2]`` stay float32.
    """
    if isinstance(other, np.ndarray) and other.ndim:
        theirs = other.dtype
        mine_rank, their_rank = _RANK.get(tensor_dtype.kind, 3), _RANK.get(theirs.kind, 3)
        if mine_rank != their_rank:
            return tensor_dtype if mine_rank > their_rank else _canonical(theirs)
        return np.result_type(tensor_dtype, _canonical(theirs))
    kind = _weak_kind(other)
    if _RANK.get(kind, 3) <= _RANK[tensor_dtype.kind]:
        return tensor_dtype
    return _default_dtype if kind == "f" else np.dtype(np.int64)


_RANK = {"b": 0, "i": 1, "u": 1, "f": 2}


def _canonical(dtype: np.dtype) -> np.dtype:
    """A numpy dtype as the nearest Tensor dtype (float16 -> float32, other integers -> int64)."""
    if dtype in DTYPES:
        return dtype
    if dtype.kind in "iu":
        return np.dtype(np.int64)
    return np.dtype(np.float32) if dtype == np.float16 else dtype  # others fail in the policy with a clear error


def _weak_kind(other: Any) -> str:
    """The category ('b', 'i' or 'f') of a Python number, a numpy scalar or 0-d array, or a (nested) list."""
    if isinstance(other, bool):
        return "b"
    if isinstance(other, int):
        return "i"
    if isinstance(other, float):
        return "f"
    kind = np.asarray(other).dtype.kind
    return "i" if kind == "u" else kind


def promote(a: np.dtype, b: np.dtype) -> np.dtype:
    """The common dtype of two tensors (PyTorch): the higher category of bool < int < float wins;
    within a category the wider type (numpy's ``result_type``). int64 + float32 -> float32."""
    rank_a, rank_b = _RANK[a.kind], _RANK[b.kind]
    if rank_a != rank_b:
        return a if rank_a > rank_b else b
    return np.result_type(a, b)


def check_can_require_grad(array: np.ndarray, op: str) -> None:
    if array.dtype.kind != "f":
        raise RuntimeError(
            f"{op}: only float tensors can require gradients, got a tensor of dtype {array.dtype} and shape "
            f"{array.shape} (integer and bool tensors are labels, counts and masks; as PyTorch). "
            "Cast it first: t.float() or t.double()"
        )
