"""umap-learn's ``umap.validation`` names: trustworthiness at every neighbourhood size.

``trustworthiness_vector(source, embedding, max_k)`` returns, for ``k = 1 .. max_k``, the
trustworthiness of the embedding (Venna & Kaski; scikit-learn's
:func:`sklearn.manifold.trustworthiness` at each ``k``) in one pass: entry ``k`` of the result,
entry 0 being 1. :func:`umapx.evaluation.trustworthiness` computes one ``k`` on a sample; this
module is the compatibility surface for code that imports umap-learn's names.
"""

from __future__ import annotations

import numba
import numpy as np
from scipy.spatial import cKDTree

from ._jit import kernel
from ._validation import check_index_array
from .metrics import resolve_metric

__all__ = ["trustworthiness_vector", "trustworthiness_vector_bulk"]

_BLOCK_ROWS = 256


@kernel(parallel=True)
def _penalties(ranks, indices_embedded, max_k):
    """Per row, for each k: sum over its first k embedded neighbours of max(0, rank - k)."""
    n_rows = indices_embedded.shape[0]
    out = np.zeros((n_rows, max_k + 1), np.float64)
    for i in numba.prange(n_rows):
        for j in range(max_k):
            rank = ranks[i, indices_embedded[i, j]]
            for k in range(j + 1, max_k + 1):
                if rank > k:
                    out[i, k] += rank - k
    return out


def _scores(penalty, n_samples, max_k):
    scores = np.ones(max_k + 1, dtype=np.float64)
    for k in range(1, max_k + 1):
        scores[k] = 1.0 - penalty[k] * 2.0 / (n_samples * k * (2.0 * n_samples - 3.0 * k - 1.0))
    return scores


def trustworthiness_vector_bulk(indices_source, indices_embedded, max_k):
    """Trustworthiness at ``k = 1 .. max_k`` from neighbour orderings.

    Parameters
    ----------
    indices_source : ndarray (n_samples, n_samples)
        Every point's ordering of all points by distance in the source space, itself first.
    indices_embedded : ndarray (n_samples, >= max_k)
        Every point's nearest neighbours in the embedding, itself excluded.
    max_k : int

    Returns
    -------
    ndarray (max_k + 1,): entry ``k`` is the trustworthiness at ``k`` (entry 0 is 1).
    """
    indices_source = np.asarray(indices_source)
    n = len(indices_source)
    if not isinstance(max_k, (int, np.integer)) or not 1 <= max_k < n:
        raise ValueError(f"max_k must be an integer from 1 to n_samples - 1 ({n - 1}), got "
                         f"{max_k!r}")
    indices_source = check_index_array(indices_source, "indices_source", n)
    if indices_source.shape != (n, n):
        raise ValueError(f"indices_source must be ({n}, {n}): every point's ordering of all "
                         f"points, got shape {indices_source.shape}")
    indices_embedded = check_index_array(indices_embedded, "indices_embedded", n, max_k)
    if len(indices_embedded) != n:
        raise ValueError(f"indices_embedded has {len(indices_embedded)} rows, indices_source {n}")
    ranks = np.empty(indices_source.shape, dtype=np.int64)
    np.put_along_axis(ranks, indices_source, np.arange(indices_source.shape[1])[None, :],
                      axis=1)
    penalty = _penalties(ranks, np.ascontiguousarray(indices_embedded[:, :max_k],
                                                     dtype=np.int64), max_k).sum(axis=0)
    return _scores(penalty, n, max_k)


def trustworthiness_vector(source, embedding, max_k, metric="euclidean"):
    """Trustworthiness of ``embedding`` for ``source`` at ``k = 1 .. max_k``.

    Memory grows with a block of rows times ``n_samples`` (source ranks are computed block by
    block); time with ``n_samples^2``: for large data, use
    :func:`umapx.evaluation.trustworthiness` on a sample.

    Parameters
    ----------
    source : ndarray (n_samples, n_features)
    embedding : ndarray (n_samples, n_components)
    max_k : int
    metric : str
        Metric of the source space (any built-in metric name).

    Returns
    -------
    ndarray (max_k + 1,): entry ``k`` is the trustworthiness at ``k`` (entry 0 is 1).
    """
    source = np.ascontiguousarray(source, dtype=np.float32)
    embedding = np.asarray(embedding, dtype=np.float64)
    n = source.shape[0]
    max_k = int(max_k)
    if not 1 <= max_k < n:
        raise ValueError(f"max_k must be between 1 and n_samples - 1 ({n - 1}), got {max_k}")
    resolved = resolve_metric(metric).bind(source)
    _, embedded = cKDTree(embedding).query(embedding, k=max_k + 1)
    embedded = _drop_self(embedded)
    penalty = np.zeros(max_k + 1)
    for start in range(0, n, _BLOCK_ROWS):
        block = slice(start, min(start + _BLOCK_ROWS, n))
        distances = resolved.pairwise(source[block], source).astype(np.float64)
        rows = np.arange(block.start, block.stop)
        distances[rows - start, rows] = -np.inf  # each point first in its own ordering
        order = np.argsort(distances, axis=1, kind="stable")
        ranks = np.empty(order.shape, dtype=np.int64)
        np.put_along_axis(ranks, order, np.arange(n)[None, :], axis=1)
        penalty += _penalties(ranks, np.ascontiguousarray(embedded[block], dtype=np.int64),
                              max_k).sum(axis=0)
    return _scores(penalty, n, max_k)


def _drop_self(neighbours):
    """Each row's neighbours without the row itself (the first ``k`` others)."""
    n, width = neighbours.shape
    rows = np.arange(n)[:, None]
    others = np.where(neighbours == rows, -1, neighbours)
    kept = np.empty((n, width - 1), dtype=np.int64)
    for i in range(n):  # at most one entry per row is the row itself (or none, with ties)
        row = others[i][others[i] >= 0]
        kept[i] = row[: width - 1]
    return kept
