"""Shared fixtures for the umap-learn compatibility tests."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture(scope="session")
def clustered():
    """Three separated blobs of 200 points in 8 dimensions (positive coordinates), labels."""
    rng = np.random.RandomState(4)
    centres = rng.uniform(2.0, 12.0, size=(3, 8))
    labels = np.repeat(np.arange(3), 70)
    data = centres[labels] + rng.normal(scale=0.6, size=(210, 8))
    return np.abs(data).astype(np.float32), labels
