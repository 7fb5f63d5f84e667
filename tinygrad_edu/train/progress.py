"""How ``fit`` shows its progress (``verbose`` as in Keras).

* ``verbose=0``: nothing.
* ``verbose=1`` (default): a progress bar over the epochs with the latest figures --
  ``tqdm.auto`` (a widget in Jupyter when ipywidgets is installed, a bar on a terminal) --
  when tqdm is installed and the output is a terminal or a notebook; otherwise, e.g. in a
  piped log, in CI or without tqdm, one text line per epoch as with ``verbose=2``.
* ``verbose=2``: one line per epoch, ``epoch 3/10 - loss 0.41 - val_loss 0.45 - 0.2 s``.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from typing import Any

__all__ = ["Progress", "epoch_line"]


def in_notebook() -> bool:
    """True inside a Jupyter kernel (an IPython ``ZMQInteractiveShell``)."""
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return False
    try:
        shell = ipython.get_ipython()
    except Exception:  # noqa: BLE001 - any failure means "not a notebook"
        return False
    return type(shell).__name__ == "ZMQInteractiveShell"


def _installed(name: str) -> bool:
    return importlib.util.find_spec(name) is not None


def format_seconds(seconds: float) -> str:
    """``0.2 s``; below a tenth of a second ``12 ms`` or ``0.4 ms``."""
    if seconds >= 0.1:
        return f"{seconds:.1f} s"
    ms = 1000 * seconds
    return f"{ms:.1f} ms" if ms < 10 else f"{ms:.0f} ms"


def epoch_line(epoch: int, epochs: int, logs: dict[str, float], seconds: float) -> str:
    """``epoch 3/10 - loss 0.4100 - accuracy 0.95 - val_loss 0.45 - 0.2 s`` (the learning rate is left out)."""
    figures = " - ".join(f"{k} {v:.4g}" for k, v in logs.items() if k != "lr")
    return f"epoch {epoch}/{epochs} - {figures} - {format_seconds(seconds)}"


def _short(logs: dict[str, float]) -> str:
    """The progress bar's figures, kept short: ``J 0.148, acc 94.7%, val J 0.162, val acc 96.2%``."""
    parts = []
    for k, v in logs.items():
        if k == "lr":
            continue
        name = k.replace("val_", "val ").replace("accuracy", "acc").replace("loss", "J")
        parts.append(f"{name} {100 * v:.1f}%" if "acc" in name else f"{name} {v:.3g}")
    return ", ".join(parts)


def _tqdm_bar(epochs: int) -> Any:
    """A tqdm bar over epochs on a terminal or in a notebook; None when tqdm (or its display) is unavailable."""
    notebook = in_notebook()
    if not notebook and not sys.stdout.isatty():
        return None
    if not _installed("tqdm"):
        return None
    if notebook:
        if not _installed("ipywidgets"):
            return None  # tqdm.auto would fall back to a text bar and warn: the epoch lines read better
        from tqdm.auto import tqdm

        return tqdm(total=epochs, desc="training", unit="epoch")
    from tqdm import tqdm as text_tqdm

    try:
        width = os.get_terminal_size(sys.stdout.fileno()).columns
    except (OSError, ValueError, AttributeError):
        width = 0
    # tqdm draws nothing on a terminal that reports a 0 x 0 size (e.g. under `script`): assume 100 x 24 there
    sizing: dict[str, Any] = {"dynamic_ncols": True} if width > 0 else {"ncols": 100, "nrows": 24}
    # a short fixed bar, so the figures after it still fit an 80-column terminal
    fmt = "{desc}: {percentage:3.0f}%|{bar:16}| {n_fmt}/{total_fmt} epochs [{elapsed}<{remaining}{postfix}]"
    return text_tqdm(total=epochs, desc="training", file=sys.stdout, leave=True, bar_format=fmt, **sizing)


class Progress:
    """The progress display of one ``fit`` call: ``epoch_end`` after each epoch, ``close`` at the end."""

    def __init__(self, epochs: int, verbose: int) -> None:
        self.epochs, self.verbose = epochs, verbose
        self.bar = _tqdm_bar(epochs) if verbose == 1 else None

    def epoch_end(self, epoch: int, logs: dict[str, float], seconds: float) -> None:
        if self.verbose == 0:
            return
        if self.bar is not None:
            self.bar.set_postfix_str(_short(logs), refresh=False)
            self.bar.update(1)
        else:
            print(epoch_line(epoch, self.epochs, logs, seconds), flush=True)

    def note(self, text: str) -> None:
        """A message between the lines (e.g. "interrupted"), shown unless verbose=0."""
        if self.verbose == 0:
            return
        if self.bar is not None:
            self.bar.write(text)
        else:
            print(text, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None
