"""Seeds: one package-wide generator, and ``seed=`` wherever randomness is drawn.

Every random function in tinygrad_edu (layer and ``nn.init`` initialisers, ``Dropout``
masks, ``rand``/``randn``/``uniform`` factories, ``DataLoader`` shuffles, the synthetic data
sets) takes ``seed=``:

* an int: a new generator seeded with it (the same int, bit-identical numbers on one machine);
* a ``numpy.random.Generator``: used as is, so a sequence of calls continues one stream;
* ``None`` (the default): the package-wide generator, which :func:`manual_seed` reseeds::

      tg.manual_seed(0)                 # as torch.manual_seed(0)
      model = nn.MLP([2, 16, 1])        # weights, dropout masks, shuffles: all replayable
      x = tg.randn(4, 2)

Until ``manual_seed`` is called the package-wide generator starts from fresh entropy
(numpy's habit; PyTorch's default generator starts from a fixed seed). After
``manual_seed(s)`` it draws exactly what ``seed=s`` would: ``manual_seed(0); randn(3)``
equals ``randn(3, seed=0)``. Explicit seeds never touch it.
"""

from __future__ import annotations

import numbers

import numpy as np

__all__ = ["Seed", "as_generator", "default_generator", "manual_seed"]

Seed = int | np.random.Generator | None

# The package-wide generator. manual_seed reseeds this very object (its bit generator's
# state), so whoever holds it follows.
_default = np.random.default_rng()


def _check_seed(seed: object, op: str) -> int:
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise TypeError(
            f"{op}: seed must be an int >= 0, a numpy.random.Generator or None, got {seed!r} ({type(seed).__name__})"
        )
    if seed < 0:
        raise ValueError(f"{op}: seed must be >= 0 (numpy's generators take non-negative seeds), got {seed}")
    return int(seed)


def manual_seed(seed: int) -> np.random.Generator:
    """Reseed the package-wide generator (``torch.manual_seed``); returns it.

    Every random draw made with ``seed=None`` afterwards (layers, inits, dropout, factories,
    data) comes from it, so one call at the top of a script makes the whole run replayable.
    """
    _default.bit_generator.state = np.random.PCG64(_check_seed(seed, "manual_seed")).state
    return _default


def default_generator() -> np.random.Generator:
    """The package-wide generator that ``seed=None`` draws from (see :func:`manual_seed`)."""
    return _default


def as_generator(seed: Seed, op: str = "random draw") -> np.random.Generator:
    """The generator itself, the package-wide one for ``None``, or a new one seeded with the int ``seed``."""
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None:
        return _default
    return np.random.default_rng(_check_seed(seed, op))
