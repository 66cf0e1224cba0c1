"""Shared data for the umap-learn compatibility tests: rows that suit each metric's domain."""

from __future__ import annotations

import numpy as np
import pytest


def rows_for(spec, n=40, width=6, seed=0):
    """``n`` float32 rows suited to the metric ``spec`` (its domain, binary for the binary
    dissimilarities)."""
    rng = np.random.RandomState(seed)
    if spec.domain in ("latitude_longitude", "polar_azimuth"):
        return np.column_stack([rng.uniform(-1.4, 1.4, n), rng.uniform(-3.0, 3.0, n)]) \
            .astype(np.float32)
    if spec.domain == "counts":
        counts = rng.poisson(2.0, size=(n, width)).astype(np.float32)
        counts[:, 0] += 1  # every row counts something
        return counts
    if spec.domain == "nonnegative":
        return np.abs(rng.normal(size=(n, width))).astype(np.float32)
    if spec.domain == "unit_ball":
        directions = rng.normal(size=(n, width))
        directions /= np.linalg.norm(directions, axis=1, keepdims=True)
        return (directions * rng.uniform(0.0, 0.9, size=(n, 1))).astype(np.float32)
    if spec.name in BINARY:
        return (rng.rand(n, width) > 0.5).astype(np.float32)
    return rng.normal(size=(n, width)).astype(np.float32)


BINARY = ("hamming", "jaccard", "dice", "kulsinski", "matching", "rogerstanimoto", "russellrao",
          "sokalmichener", "sokalsneath", "yule")


@pytest.fixture(scope="session")
def clustered():
    """Three separated blobs of 200 points in 8 dimensions (positive coordinates), labels."""
    rng = np.random.RandomState(4)
    centres = rng.uniform(2.0, 12.0, size=(3, 8))
    labels = np.repeat(np.arange(3), 70)
    data = centres[labels] + rng.normal(scale=0.6, size=(210, 8))
    return np.abs(data).astype(np.float32), labels
