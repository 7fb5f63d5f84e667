"""Seeds: every random function in tinygrad_edu takes ``seed=`` as an int, a
``numpy.random.Generator`` (shared, so a sequence of calls continues one stream) or
``None`` (fresh entropy). The same int seed gives bit-identical results on one machine.
"""

from __future__ import annotations

import numpy as np

__all__ = ["Seed", "as_generator"]

Seed = int | np.random.Generator | None


def as_generator(seed: Seed) -> np.random.Generator:
    """The generator itself, or a new one seeded with ``seed``."""
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
