"""Shared test set-up: hypothesis profiles and seeded randomness.

Profiles (choose with HYPOTHESIS_PROFILE=name or ``pytest --hypothesis-profile=name``):

* ``default``: modest example counts so the whole suite runs in a few minutes on 2 cores;
  ``deadline=None`` because timing is not a property we test.
* ``thorough``: many more examples, for long runs before a release.
* ``ci``: like default but derandomized, so CI failures replay exactly.
"""

from __future__ import annotations

import os

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "default", max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "ci", max_examples=40, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "thorough", max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
# BLAS threads fight over the 2 cores of CI machines (a small matmul ran ~20x slower with
# several threads under load), and tests measure correctness, not speed: use one thread.
try:
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1)
except ImportError:  # threadpoolctl is in the dev extra; without it tests still pass, slower
    pass

settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "default"))


@pytest.fixture
def rng() -> np.random.Generator:
    """A seeded generator: every random test input replays."""
    return np.random.default_rng(12345)
