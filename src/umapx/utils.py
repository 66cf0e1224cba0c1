"""umap-learn's ``umap.utils`` names that users call (part of the compatibility surface).

* :func:`disconnected_vertices` -- the vertices of a fitted model without any edge;
* :func:`average_nn_distance` -- mean distance to the nearest neighbours, from a distance
  matrix;
* :func:`fast_knn_indices` -- the k smallest entries of each row of a distance matrix;
* :func:`submatrix` -- entries of each row at given columns;
* :func:`csr_unique` -- unique rows of a CSR matrix;
* :func:`deheap_sort` -- rows of neighbour indices and distances sorted by distance;
* :func:`ts` -- a timestamp string for logs.
"""

from __future__ import annotations

import time

import numpy as np
import scipy.sparse
from sklearn.utils.validation import check_is_fitted

from ._validation import check_index_array
from .graph import isolated_vertices

__all__ = ["average_nn_distance", "csr_unique", "deheap_sort", "disconnected_vertices",
           "fast_knn_indices", "submatrix", "ts"]


def ts():
    """The current time, as umap-learn prints it in its logs."""
    return time.ctime(time.time())


def disconnected_vertices(model):
    """Boolean mask of the training points without any edge in ``model.graph_``.

    Such points (cut off by ``disconnection_distance``, or without stored distances in a sparse
    precomputed matrix) keep their initial position in the embedding.
    """
    check_is_fitted(model, "graph_")
    return isolated_vertices(model.graph_)


def fast_knn_indices(X, n_neighbors):
    """Indices of the ``n_neighbors`` smallest entries of each row of ``X`` (a dense distance
    matrix), in increasing order (ties by column)."""
    X = np.asarray(X)
    return np.argsort(X, axis=1, kind="stable")[:, :n_neighbors].astype(np.int32)


def deheap_sort(indices, distances):
    """Each row of ``(indices, distances)`` sorted by increasing distance (ties by index)."""
    indices, distances = np.asarray(indices), np.asarray(distances)
    order = np.lexsort((indices, distances), axis=1)
    return (np.take_along_axis(indices, order, axis=1),
            np.take_along_axis(distances, order, axis=1))


def submatrix(dmat, indices_col, n_neighbors):
    """``dmat[i, indices_col[i, j]]`` for the first ``n_neighbors`` columns of each row."""
    dmat = np.asarray(dmat)
    if dmat.ndim != 2:
        raise ValueError(f"dmat must be a 2-d matrix, got shape {dmat.shape}")
    indices = check_index_array(indices_col, "indices_col", dmat.shape[1])[:, :n_neighbors]
    if len(indices) != len(dmat):
        raise ValueError(f"indices_col has {len(indices)} rows and dmat {len(dmat)}")
    return np.take_along_axis(dmat, indices, axis=1)


def average_nn_distance(dist_matrix):
    """Mean over points of the distance to their nearest other point.

    ``dist_matrix`` is a dense or sparse square distance matrix; for a sparse one, unstored
    entries are not neighbours.
    """
    n = dist_matrix.shape[0]
    if scipy.sparse.issparse(dist_matrix):
        matrix = scipy.sparse.csr_matrix(dist_matrix)
        nearest = np.full(n, np.inf)
        rows = np.repeat(np.arange(n), np.diff(matrix.indptr))
        off_diagonal = matrix.indices != rows
        np.minimum.at(nearest, rows[off_diagonal], matrix.data[off_diagonal])
    else:
        matrix = np.array(dist_matrix, dtype=np.float64)
        np.fill_diagonal(matrix, np.inf)
        nearest = matrix.min(axis=1)
    if np.isnan(nearest).any():
        raise ValueError("dist_matrix contains NaN")
    return float(np.mean(nearest[np.isfinite(nearest)]))


def csr_unique(matrix, return_index=True, return_inverse=True, return_counts=True):
    """Unique rows of a CSR matrix, in order of first occurrence.

    Returns the unique rows (CSR), then, as asked, the index of each one's first occurrence,
    the unique row of every original row, and each unique row's count.
    """
    matrix = scipy.sparse.csr_matrix(matrix, copy=True)
    if not np.all(np.isfinite(matrix.data)):
        raise ValueError("csr_unique: the matrix contains NaN or infinity")
    matrix.sum_duplicates()
    matrix.eliminate_zeros()
    matrix.sort_indices()
    first, inverse = {}, np.empty(matrix.shape[0], dtype=np.int64)
    for row, (start, end) in enumerate(zip(matrix.indptr[:-1], matrix.indptr[1:])):
        key = (matrix.indices[start:end].tobytes(), matrix.data[start:end].tobytes())
        inverse[row] = first.setdefault(key, len(first))
    index = np.zeros(len(first), dtype=np.int64)
    index[inverse[::-1]] = np.arange(matrix.shape[0])[::-1]  # first occurrence wins
    counts = np.bincount(inverse, minlength=len(first))
    result = [matrix[index]]
    if return_index:
        result.append(index)
    if return_inverse:
        result.append(inverse)
    if return_counts:
        result.append(counts)
    return tuple(result) if len(result) > 1 else result[0]
