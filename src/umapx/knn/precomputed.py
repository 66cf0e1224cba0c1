"""Nearest neighbours read from given distances (``metric="precomputed"``).

Fitting takes an (n, n) matrix of distances between the training samples; transforming takes an
(m, n) matrix of distances from new samples to the training samples. Dense matrices are
scanned row by row; for sparse ones (CSR) only the stored entries of a row are candidates, so a
row with fewer stored distances than neighbours asked for gets fewer neighbours (the missing
ones are ``-1`` with an infinite distance, which the graph treats as absent).
"""

from __future__ import annotations

import numba
import numpy as np
import scipy.sparse

from .._jit import kernel
from ._heap import heap_push, sort_heap


@kernel(parallel=True)
def _dense_rows(distances, k, exclude_self):
    n_rows, n_columns = distances.shape
    out_d = np.full((n_rows, k), np.inf, np.float32)
    out_i = np.full((n_rows, k), -1, np.int32)
    for row in numba.prange(n_rows):
        for j in range(n_columns):
            if not (exclude_self and j == row):
                heap_push(out_d[row], out_i[row], distances[row, j], j)
        sort_heap(out_d[row], out_i[row])
    return out_i, out_d


@kernel(parallel=True)
def _sparse_rows(indptr, indices, data, k, exclude_self):
    n_rows = indptr.shape[0] - 1
    out_d = np.full((n_rows, k), np.inf, np.float32)
    out_i = np.full((n_rows, k), -1, np.int32)
    for row in numba.prange(n_rows):
        for e in range(indptr[row], indptr[row + 1]):
            if not (exclude_self and indices[e] == row):
                heap_push(out_d[row], out_i[row], data[e], indices[e])
        sort_heap(out_d[row], out_i[row])
    return out_i, out_d


def neighbors_from_distances(distances, k, exclude_self):
    """The ``k`` nearest columns of each row of a distance matrix, by increasing distance.

    Parameters
    ----------
    distances : ndarray or scipy.sparse matrix of shape (m, n), float32
        Checked distances (finite, non-negative); for a sparse matrix, unstored entries are
        not neighbours.
    k : int
        Neighbours per row.
    exclude_self : bool
        Leave out column ``i`` of row ``i`` (the training matrix, whose rows are its columns).

    Returns
    -------
    indices : ndarray (m, k), int32
        ``-1`` where a sparse row has fewer than ``k`` candidates.
    distances : ndarray (m, k), float32
        ``inf`` where the index is ``-1``.
    """
    if scipy.sparse.issparse(distances):
        matrix = scipy.sparse.csr_matrix(distances)
        return _sparse_rows(matrix.indptr.astype(np.int64), matrix.indices.astype(np.int32),
                            matrix.data.astype(np.float32, copy=False), k, exclude_self)
    return _dense_rows(np.ascontiguousarray(distances, dtype=np.float32), k, exclude_self)
