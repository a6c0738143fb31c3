"""Fixtures for the population-PK tests."""

from __future__ import annotations

import numpy as np
import pytest
from poppk_helpers import infusion_frame

from blinapk.data import read_dataset


@pytest.fixture
def small_dataset():
    """Six subjects, noisy (sigma 0.2) 1-cmt data with a few BLQ rows."""
    cl = np.array([1.0, 1.5, 2.0, 2.5, 3.0, 8.0])
    frame = infusion_frame(6, cl=cl, sigma=0.2, obs_times=(1.0, 4.0, 24.0, 48.0, 100.0, 130.0))
    return read_dataset(frame)

