"""Rows that suit each metric's domain, for the compatibility tests (a module of its own:
``conftest`` is the name of tests/conftest.py on the import path)."""

from __future__ import annotations

import numpy as np


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
