"""Points of the embedding space to generate samples at: the tutorial's grid between corners.

Used by :func:`umapx.plot.inverse_grid`, the command line (``umapx inverse``, ``umapx demo``)
and the explorer; needs nothing beyond numpy.
"""

from __future__ import annotations

import numbers

import numpy as np

__all__ = ["default_corners", "grid_points", "MAX_GRID_SIDE"]

#: Largest grid side the figures and the command line draw (10,000 points, each an image).
MAX_GRID_SIDE = 100


def grid_points(corners, n):
    """An ``n`` x ``n`` grid interpolating bilinearly between four corners.

    The order is the tutorial's: row by row, ``y`` from 0 to 1 (``corners[0], corners[1]`` at
    ``y = 0``, ``corners[2], corners[3]`` at ``y = 1``), and within a row ``x`` from 0 to 1
    (``corners[0], corners[2]`` at ``x = 0``)::

        point = (c0 * (1 - x) + c1 * x) * (1 - y) + (c2 * (1 - x) + c3 * x) * y

    Parameters
    ----------
    corners : array-like of shape (4, dim)
    n : int
        Points per side (at least 1; with 1 the grid is ``corners[0]``).

    Returns
    -------
    ndarray of shape (n * n, dim)
        Row ``i * n + j`` is the point at ``y = i / (n - 1)``, ``x = j / (n - 1)``.
    """
    corners = _finite(corners, "corners")
    if corners.ndim != 2 or corners.shape[0] != 4 or corners.shape[1] == 0:
        raise ValueError(f"corners must have shape (4, dim), got {corners.shape}")
    if isinstance(n, (bool, np.bool_)) or not isinstance(n, numbers.Integral) or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    y, x = np.meshgrid(np.linspace(0, 1, int(n)), np.linspace(0, 1, int(n)), indexing="ij")
    x, y = x.reshape(-1, 1), y.reshape(-1, 1)
    return ((corners[0] * (1 - x) + corners[1] * x) * (1 - y)
            + (corners[2] * (1 - x) + corners[3] * x) * y)


def default_corners(embedding, quantile=0.05):
    """Four corners for :func:`grid_points` that lie on the embedded data.

    Each corner is an embedded training point near a corner of the box spanned by the
    ``quantile`` and ``1 - quantile`` quantiles of the two coordinates: among the points
    nearest to the box corner, the one nearest to their median (so a lone outlier is never
    chosen). The grid between them spans the bulk of the data, with its corners in the
    support of the embedding.

    Parameters
    ----------
    embedding : array-like of shape (n_samples, 2)
    quantile : float in [0, 0.5)

    Returns
    -------
    ndarray of shape (4, 2)
        Top-left, top-right, bottom-left, bottom-right (in the embedding's coordinates), the
        order in which :func:`umapx.plot.inverse_grid`'s image grid shows them.
    """
    embedding = _finite(embedding, "embedding")
    if embedding.ndim != 2 or embedding.shape[1] != 2 or len(embedding) == 0:
        raise ValueError(f"embedding must have shape (n_samples, 2), got {embedding.shape}")
    if not 0.0 <= quantile < 0.5:
        raise ValueError(f"quantile must be in [0, 0.5), got {quantile}")
    (left, bottom), (right, top) = np.quantile(embedding, [quantile, 1 - quantile], axis=0)
    targets = np.array([[left, top], [right, top], [left, bottom], [right, bottom]])
    n_candidates = int(np.clip(len(embedding) // 200, 1, 50))
    corners = np.empty((4, 2))
    for corner, target in enumerate(targets):
        distances = np.sum((embedding - target) ** 2, axis=1)
        candidates = embedding[np.argpartition(distances, n_candidates - 1)[:n_candidates]]
        centre = np.median(candidates, axis=0)
        corners[corner] = candidates[np.argmin(np.sum((candidates - centre) ** 2, axis=1))]
    return corners


def _finite(values, name):
    """``values`` as a float64 array, or a ValueError if it is not numeric or not finite."""
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{name} must be numeric ({error})") from None
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} holds NaN or infinite values")
    return array
