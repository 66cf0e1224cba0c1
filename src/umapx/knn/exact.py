"""Exact nearest neighbours by brute force.

For squared euclidean and the dot distance (cosine and correlation on unit rows), candidate
distances come from blocked BLAS products; a few more candidates than needed are kept and their
distances recomputed exactly, so the result does not inherit the rounding of the
``|x|^2 - 2<x, y> + |y|^2`` expansion. Sparse rows get their products from
:mod:`umapx.knn.sparse` instead of BLAS. Other metrics run a parallel numba scan.
"""

from __future__ import annotations

import numba
import numpy as np

from .. import metrics as _metrics
from .._jit import kernel
from ..sparse import is_sparse_rows
from ._heap import heap_push, sort_heap
from ._rows import row_block, row_count, row_distance, search_args, specialize
from .sparse import CandidateDistances, block_rows

# Extra candidates taken from the BLAS distances before exact re-ranking.
_RERANK_MARGIN = 8
# Rows of queries handled per BLAS block (bounds memory to block x n_index floats).
_BLOCK_ROWS = 1024


@kernel(parallel=True)
def _select_smallest(block_distances, n_select, row_offset, exclude_self):
    """Indices of the ``n_select`` smallest entries of each row (unsorted)."""
    n_rows = block_distances.shape[0]
    selected = np.empty((n_rows, n_select), dtype=np.int32)
    for row in numba.prange(n_rows):
        heap_d = np.full(n_select, np.inf, dtype=np.float32)
        heap_i = np.full(n_select, -1, dtype=np.int32)
        self_index = row + row_offset
        values = block_distances[row]
        for j in range(values.shape[0]):
            if exclude_self and j == self_index:
                continue
            if values[j] < heap_d[0]:
                heap_push(heap_d, heap_i, values[j], j)
        selected[row] = heap_i
    return selected


@kernel(parallel=True)
def _rerank(metric, queries, data, candidates, k):
    """Exact distances to the candidate indices; keep the ``k`` best of each row, sorted."""
    n_rows = row_count(queries)
    out_d, out_i = np.full((n_rows, k), np.inf, np.float32), np.full((n_rows, k), -1, np.int32)
    for row in numba.prange(n_rows):
        for c in range(candidates.shape[1]):
            j = candidates[row, c]
            if j >= 0:
                heap_push(out_d[row], out_i[row], row_distance(metric, queries, row, data, j),
                          j)
        sort_heap(out_d[row], out_i[row])
    return out_i, out_d


@kernel(parallel=True)
def _scan(metric, queries, data, k, row_offset, exclude_self):
    """Brute-force scan of ``data`` for each query, keeping the ``k`` best, sorted."""
    n_rows = row_count(queries)
    out_d, out_i = np.full((n_rows, k), np.inf, np.float32), np.full((n_rows, k), -1, np.int32)
    for row in numba.prange(n_rows):
        heap_d = out_d[row]
        heap_i = out_i[row]
        for j in range(row_count(data)):
            if exclude_self and j == row + row_offset:
                continue
            d = row_distance(metric, queries, row, data, j)
            if d < heap_d[0]:
                heap_push(heap_d, heap_i, d, j)
        sort_heap(heap_d, heap_i)
    return out_i, out_d


def _blas_candidate_distances(metric, queries, data, data_sq_norms):
    """Approximate search distances of every query to every data row, by BLAS."""
    products = queries @ data.T
    if metric.search_code == _metrics.DOT_DISTANCE:
        return np.subtract(1.0, products, out=products)
    query_sq_norms = np.einsum("ij,ij->i", queries, queries)
    products *= -2.0
    products += query_sq_norms[:, None]
    products += data_sq_norms[None, :]
    return products


def exact_neighbors(metric, data, k, queries=None, low_memory=False):
    """The ``k`` nearest rows of ``data`` for each query, by exhaustive search.

    Parameters
    ----------
    metric : Metric
        Resolved metric; ``data`` and ``queries`` must already be prepared for search.
    data : ndarray of shape (n, d), float32, or SparseRows
    k : int
        Neighbours per query.
    queries : ndarray of shape (m, d), float32, or SparseRows, or None
        ``None`` searches ``data`` against itself, excluding each row from its own list.
    low_memory : bool
        On sparse rows, smaller blocks of queries (see :func:`umapx.knn.sparse.block_rows`);
        the result is the same.

    Returns
    -------
    indices : ndarray of shape (m, k), int32
    distances : ndarray of shape (m, k), float32
        Search distances (see ``Metric.search_code``), ascending along each row.
    """
    exclude_self = queries is None
    if queries is None:
        queries = data
    args = search_args(metric, data)
    n_data, n_queries = row_count(data), row_count(queries)
    indices = np.empty((n_queries, k), np.int32)
    distances = np.empty((n_queries, k), np.float32)
    if metric.user_function is None and args.code in (_metrics.SQEUCLIDEAN,
                                                      _metrics.DOT_DISTANCE):
        n_select = min(k + _RERANK_MARGIN, n_data - int(exclude_self))
        if is_sparse_rows(data):
            approximate = CandidateDistances(args, data)
            step = block_rows(n_data, low_memory, _BLOCK_ROWS)
        else:
            data_sq_norms = np.einsum("ij,ij->i", data, data)

            def approximate(block):
                return _blas_candidate_distances(metric, block, data, data_sq_norms)

            step = _BLOCK_ROWS
        for start in range(0, n_queries, step):
            block = row_block(queries, start, start + step)
            candidates = _select_smallest(approximate(block), n_select, start, exclude_self)
            block_i, block_d = _rerank(args, block, data, candidates, k)
            indices[start : start + len(block_i)] = block_i
            distances[start : start + len(block_i)] = block_d
        return indices, distances
    scan = specialize(metric, _scan)
    for start in range(0, n_queries, _BLOCK_ROWS):
        block = row_block(queries, start, start + _BLOCK_ROWS)
        block_i, block_d = scan(args, block, data, k, start, exclude_self)
        indices[start : start + len(block_i)] = block_i
        distances[start : start + len(block_i)] = block_d
    return indices, distances
