"""Import an optional dependency, or say which package to install."""

from __future__ import annotations

import importlib
from types import ModuleType

_HOW_TO_INSTALL = {
    "torch": "pip install torch (see pytorch.org for the build that fits your machine)",
    "onnx": "pip install 'tinygrad-edu[export]' (or: pip install onnx)",
    "onnxruntime": "pip install 'tinygrad-edu[export]' (or: pip install onnxruntime)",
}


def require(module: str, op: str) -> ModuleType:
    """``import module`` for ``op``, or an ImportError that names the package to install."""
    try:
        return importlib.import_module(module)
    except ImportError as err:
        raise ImportError(
            f"{op} needs the optional package {module!r}, which is not installed: "
            f"{_HOW_TO_INSTALL.get(module, f'pip install {module}')}"
        ) from err
