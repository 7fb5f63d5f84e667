"""Leaving (and coming back): PyTorch, ONNX and safetensors.

* :func:`to_torch` / :func:`from_torch` (:mod:`.torch_bridge`): the same network as a
  ``torch.nn.Module`` and back, weights copied (needs ``pip install torch``); a model with
  custom modules becomes a traced module that replays its forward pass (:mod:`.torch_trace`);
* :func:`to_onnx` (:mod:`.onnx_export`): an ONNX file traced from one recorded forward pass,
  for ONNX Runtime and other engines (needs the ``[export]`` extra: onnx, onnxruntime);
* :func:`save_safetensors` / :func:`load_safetensors` (:mod:`.safetensors_file`): state dicts
  in the format the PyTorch world exchanges weights in (plain numpy, no extra needed).

None of these is imported by the rest of the package; the optional packages are imported
only when a function that needs them is called.
"""

from .onnx_emitters import ONNX_LAYERS, ONNX_PRIMITIVES, ExportError
from .onnx_export import to_onnx
from .safetensors_file import load_safetensors, save_safetensors
from .torch_bridge import SUPPORTED_LAYERS, TORCH_SUPPORTED_LAYERS, from_torch, to_torch
from .torch_trace import TORCH_PRIMITIVES

__all__ = [
    "ONNX_LAYERS",
    "ONNX_PRIMITIVES",
    "SUPPORTED_LAYERS",
    "TORCH_PRIMITIVES",
    "TORCH_SUPPORTED_LAYERS",
    "ExportError",
    "from_torch",
    "load_safetensors",
    "save_safetensors",
    "to_onnx",
    "to_torch",
]
