"""Checks for constructor arguments: integers that must be integers, numbers that must be finite.

PyTorch-style constructors take sizes (``Linear(in_features, out_features)``, ``MLP(sizes)``,
``StepLR(step_size=...)``) and hyperparameters (``lr``, ``lam``, ``T_max``). A float such as
``2.9`` for a size used to be truncated silently by ``int()``, and ``nan`` for a rate went
through every comparison (``nan < 0`` is False). These helpers make such input a clear error
that names the op, the argument and the value:

* :func:`check_int`: Python or numpy integers only (``bool`` and floats are refused, as
  ``torch.nn.Linear(2.5, 3)`` refuses them), optionally with a minimum;
* :func:`check_real`: a finite real number (``bool`` and strings refused), optionally with
  bounds; ``allow_inf=True`` admits infinities where they mean something;
* :func:`check_instance`, :func:`check_path`, :func:`as_float_array`: an argument of the wrong
  kind (a string where a Tensor or a model goes, an object where a file path goes, text where
  numbers go) is a ``TypeError``/``ValueError`` that names the function, not a numpy or
  ``AttributeError`` from deep inside it.

The bottom floor of the package: it imports nothing from it.
"""

from __future__ import annotations

import math
import numbers
import os
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["as_float_array", "check_instance", "check_int", "check_path", "check_real"]


def check_int(value: Any, name: str, op: str, minimum: int | None = None) -> int:
    """``value`` as a Python int; a ``TypeError`` unless it is an integer, a ``ValueError`` below ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{op}: {name} must be an integer, got {value!r} ({type(value).__name__})")
    if minimum is not None and value < minimum:
        raise ValueError(f"{op}: {name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def check_real(
    value: Any,
    name: str,
    op: str,
    minimum: float | None = None,
    maximum: float | None = None,
    below_maximum: bool = False,
    allow_inf: bool = False,
) -> float:
    """``value`` as a float; a ``TypeError`` unless it is a real number, a ``ValueError`` if NaN or out of range.

    ``minimum`` is inclusive; ``maximum`` is inclusive unless ``below_maximum`` (then the
    range is [minimum, maximum), e.g. a momentum coefficient beta in [0, 1)).
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{op}: {name} must be a real number, got {value!r} ({type(value).__name__})")
    number = float(value)
    bad_range = (minimum is not None and number < minimum) or (
        maximum is not None and (number >= maximum if below_maximum else number > maximum)
    )
    if math.isnan(number) or (math.isinf(number) and not allow_inf) or bad_range:
        low = "-inf" if minimum is None else f"{minimum:g}"
        high = "inf" if maximum is None else f"{maximum:g}"
        interval = f"[{low}, {high}{')' if below_maximum or maximum is None else ']'}"
        finite = "" if allow_inf else "finite "
        raise ValueError(f"{op}: {name} must be a {finite}number in {interval}, got {value!r}")
    return number


def check_instance(value: Any, kind: type | tuple[type, ...], name: str, op: str, hint: str = "") -> Any:
    """``value`` itself if it is an instance of ``kind``; else a ``TypeError`` naming ``op`` and ``name``."""
    if not isinstance(value, kind):
        kinds = kind if isinstance(kind, tuple) else (kind,)
        expected = " or ".join(k.__name__ for k in kinds)
        raise TypeError(f"{op}: {name} must be a {expected}, got {type(value).__name__}: {_short(value)}{hint}")
    return value


def check_path(value: Any, name: str, op: str) -> Path:
    """``value`` (a ``str`` or ``os.PathLike``) as a ``Path``; else a ``TypeError`` naming ``op``."""
    if not isinstance(value, (str, os.PathLike)):
        raise TypeError(f"{op}: {name} must be a file path (str or pathlib.Path), got {type(value).__name__}: "
                        f"{_short(value)}")
    return Path(value)


def as_float_array(value: Any, name: str, op: str) -> np.ndarray:
    """``value`` as a float numpy array; text, objects or ragged lists are a ``TypeError`` naming ``op``."""
    try:
        return np.asarray(value, dtype=float)
    except (TypeError, ValueError) as err:
        raise TypeError(f"{op}: {name} must be numbers (an array, list or Tensor of real numbers), got "
                        f"{type(value).__name__}: {_short(value)} ({err})") from None


def _short(value: Any, limit: int = 60) -> str:
    """``repr(value)`` on one line, cut to ``limit`` characters."""
    text = " ".join(repr(value).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."
