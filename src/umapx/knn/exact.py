"""Exact nearest neighbours by brute force.

For squared euclidean and the dot distance (cosine and correlation on unit rows), candidate
distances come from blocked BLAS products; every row that a bound on their rounding cannot rule
out is re-ranked by its exact distance, so the result does not inherit the rounding of the
``|x|^2 - 2<x, y> + |y|^2`` expansion, which changes with the shape of the block (a one-row
product takes another BLAS path) and the BLAS library. A query's neighbours are therefore the
same whatever rows it is searched with. Sparse rows get their products from
:mod:`umapx.knn.sparse` instead of BLAS, with the same bound. Other metrics run a parallel numba
scan.
"""

from __future__ import annotations

import numba
import numpy as np

from .. import metrics as _metrics
from .._jit import for_chunks, kernel
from ..sparse import is_sparse_rows
from ._heap import heap_push, sort_heap
from ._rows import row_block, row_count, row_distance, search_args, specialize
from .sparse import (
    GATHER_ROWS,
    CandidateDistances,
    distances_from_products,
    gather_products,
    row_norms,
    squared_norms,
)

# Extra candidates taken from the BLAS distances before exact re-ranking.
_RERANK_MARGIN = 8
# Rows of queries handled per BLAS block (bounds memory to block x n_index floats).
_BLOCK_ROWS = 1024


@kernel
def _smallest_of_row(values, n_select, self_index):
    """Indices of the ``n_select`` smallest entries of ``values`` (unsorted), skipping
    ``self_index`` (-1: none)."""
    heap_d = np.full(n_select, np.inf, dtype=np.float32)
    heap_i = np.full(n_select, -1, dtype=np.int32)
    _smallest_into(values, self_index, heap_d, heap_i)
    return heap_i


@kernel
def _smallest_into(values, self_index, heap_d, heap_i):
    """:func:`_smallest_of_row` into the heap ``heap_d`` / ``heap_i`` (overwritten; its size is
    the number selected)."""
    for slot in range(heap_d.shape[0]):
        heap_d[slot] = np.inf
        heap_i[slot] = -1
    for j in range(values.shape[0]):
        if j == self_index:
            continue
        if values[j] < heap_d[0]:
            heap_push(heap_d, heap_i, values[j], j)


# Query rows per chunk of the serial kernels below (see :func:`umapx._jit.for_chunks`).
_CHUNK_ROWS = 128


def _select_smallest(block_distances, n_select, row_offset, exclude_self):
    """Indices of the ``n_select`` smallest entries of each row (unsorted)."""
    n_rows = block_distances.shape[0]
    selected = np.empty((n_rows, n_select), dtype=np.int32)
    n_select, row_offset, exclude_self = int(n_select), int(row_offset), bool(exclude_self)
    # The heap of each chunk is allocated here: numba's np.full, compiled anew in every
    # process, was ~0.4 s of a first fit's compilation.
    for_chunks(n_rows, _CHUNK_ROWS, lambda first, last: _select_rows(
        block_distances, row_offset, exclude_self, selected, first, last,
        np.empty(n_select, np.float32), np.empty(n_select, np.int32)))
    return selected


@kernel
def _select_rows(block_distances, row_offset, exclude_self, selected, first, last, heap_d,
                 heap_i):
    """:func:`_select_smallest` of rows ``first:last`` into ``selected``, with the one heap
    ``heap_d`` / ``heap_i`` of ``selected.shape[1]`` slots (a serial kernel: as a
    ``parallel=True`` loop it cost ~0.5 s more to compile the first time)."""
    for row in range(first, last):
        self_index = row + row_offset if exclude_self else -1
        _smallest_into(block_distances[row], self_index, heap_d, heap_i)
        for slot in range(heap_i.shape[0]):  # not ``selected[row] = heap_i``: numba compiles
            selected[row, slot] = heap_i[slot]  # ~1.5 s of shape-error code for that


@kernel(inline="always")
def _insert_sorted(out_d, out_i, filled, distance, index):
    """Offer ``(distance, index)`` to the ascending list ``out_d[:filled]`` / ``out_i`` of at
    most ``len(out_d)`` entries; return the new ``filled``.

    It goes after the entries of equal distance, so offering the candidates in increasing
    index order leaves ties in index order (a stable sort, cut to the list's length).
    """
    size = out_d.shape[0]
    if filled == size and not distance < out_d[size - 1]:
        return filled
    slot = filled if filled < size else size - 1
    while slot > 0 and distance < out_d[slot - 1]:
        out_d[slot] = out_d[slot - 1]
        out_i[slot] = out_i[slot - 1]
        slot -= 1
    out_d[slot] = distance
    out_i[slot] = index
    return min(filled + 1, size)


@kernel
def _rerank_row(metric, queries, row, data, values, candidates, slack, k, self_index, out_i,
                out_d):
    """The exact ``k`` nearest rows of query ``row`` into ``out_i`` / ``out_d``, sorted by
    (distance, index); ``values`` are its approximate distances to every data row,
    ``candidates`` the rows with the smallest of them (see :func:`_rerank`).

    Sorted by insertion into the ``k`` slots of the output (a few more than ``k`` rows are
    offered as a rule): numba's ``np.sort`` / ``np.argsort`` routines took ~2.5 s to compile.
    """
    filled = 0
    for c in range(candidates.shape[0]):
        distance = np.float32(row_distance(metric, queries, row, data, candidates[c]))
        filled = _insert_sorted(out_d, out_i, filled, distance, candidates[c])
    bound = out_d[k - 1] + slack
    count = 0
    for j in range(values.shape[0]):
        if values[j] <= bound and j != self_index:
            count += 1
    if count < k:  # cannot happen when ``slack`` bounds the rounding; stay exact anyway
        bound = np.inf
    filled = 0
    for j in range(values.shape[0]):
        if values[j] <= bound and j != self_index:
            distance = np.float32(row_distance(metric, queries, row, data, j))
            filled = _insert_sorted(out_d, out_i, filled, distance, j)


def _rerank(metric, queries, data, approx, candidates, slack, k, row_offset, exclude_self):
    """The exact ``k`` nearest rows of each query, sorted by (distance, index).

    The candidates' exact distances give an upper bound of the k-th distance; then every row
    whose BLAS distance ``approx`` lies within that bound plus ``slack`` (a bound on the
    rounding of both computations) is ranked by its exact distance. The result is the exact
    k nearest whatever the BLAS rounding, which varies with the block's shape and the BLAS
    library: a query's neighbours depend only on the query and the data.
    """
    n_rows = row_count(queries)
    out_d = np.empty((n_rows, k), np.float32)
    out_i = np.empty((n_rows, k), np.int32)
    k, row_offset, exclude_self = int(k), int(row_offset), bool(exclude_self)
    for_chunks(n_rows, _CHUNK_ROWS, lambda first, last: _rerank_rows(
        metric, queries, data, approx, candidates, slack, k, row_offset, exclude_self, out_i,
        out_d, first, last))
    return out_i, out_d


@kernel
def _rerank_rows(metric, queries, data, approx, candidates, slack, k, row_offset, exclude_self,
                 out_i, out_d, first, last):
    """:func:`_rerank` of query rows ``first:last`` (a serial kernel: as a ``parallel=True``
    loop it cost ~1.5 s more to compile the first time)."""
    for row in range(first, last):
        self_index = row + row_offset if exclude_self else -1
        _rerank_row(metric, queries, row, data, approx[row], candidates[row], slack[row], k,
                    self_index, out_i[row], out_d[row])


@kernel(parallel=True)
def _gathered_search(metric, queries, data, data_sq_norms, n_select, slack, k, exclude_self):
    """Exact search of sparse rows with ``low_memory``, in one parallel loop over groups of
    :data:`~umapx.knn.sparse.GATHER_ROWS` queries: each group's products come from
    :func:`~umapx.knn.sparse.gather_products` (no transposed copy of the data), then each of
    its rows is selected and re-ranked as in the blocked search (same approximate distances,
    same exact result). Holds one group's products per thread."""
    n_rows = row_count(queries)
    n_data = row_count(data)
    dot = metric.code == _metrics.DOT_DISTANCE
    out_d = np.empty((n_rows, k), np.float32)
    out_i = np.empty((n_rows, k), np.int32)
    n_groups = (n_rows + GATHER_ROWS - 1) // GATHER_ROWS
    for group in numba.prange(n_groups):
        first = group * GATHER_ROWS
        count = min(GATHER_ROWS, n_rows - first)
        table = np.zeros((queries.n_features, GATHER_ROWS), np.float32)
        products = np.empty((GATHER_ROWS, n_data), np.float32)
        gather_products(queries, first, count, data, table, products)
        for t in range(count):
            row = first + t
            values = products[t]
            if dot:
                for j in range(n_data):
                    values[j] = np.float32(1.0) - values[j]
            else:
                norm = np.float32(0.0)
                for e in range(queries.indptr[row], queries.indptr[row + 1]):
                    norm += queries.data[e] * queries.data[e]
                for j in range(n_data):
                    values[j] = values[j] * np.float32(-2.0) + norm + data_sq_norms[j]
            self_index = row if exclude_self else -1
            candidates = _smallest_of_row(values, n_select, self_index)
            _rerank_row(metric, queries, row, data, values, candidates, slack[row], k,
                        self_index, out_i[row], out_d[row])
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
    dot = metric.search_code == _metrics.DOT_DISTANCE
    query_sq_norms = None if dot else np.einsum("ij,ij->i", queries, queries)
    return distances_from_products(queries @ data.T, dot, query_sq_norms, data_sq_norms)


def _rounding_slack(metric, query_norms, data_norm_max, n_terms):
    """Per query, a bound on |BLAS distance - exact distance| plus the exact kernel's rounding.

    Any float32 dot product of length d, in any summation order (BLAS blocks, FMA), is off by
    at most ``gamma_d * |x| |y|`` with ``gamma_d ~ d u`` (u = 2^-24, Higham's bound). The BLAS
    squared distance ``|x|^2 - 2<x, y> + |y|^2`` is then off by at most
    ``(gamma_d + 3u) (|x| + |y|)^2`` and the kernel's sum of squares by
    ``gamma_(d+2) (|x| + |y|)^2``; ``1 - <x, y>`` and the kernel's dot distance by
    ``(gamma_d + u) (|x| |y| + 1)`` each. ``(2 d + 8) u`` covers the two, doubled for margin.
    ``n_terms`` is d: the number of columns of dense rows; for sparse rows the most stored
    values of a query plus those of a data row (no sum has more terms).
    """
    unit = float(np.finfo(np.float32).eps) / 2.0
    if metric.search_code == _metrics.DOT_DISTANCE:
        scale = query_norms * data_norm_max + 1.0
    else:
        scale = (query_norms + data_norm_max) ** 2
    return 2.0 * (2 * n_terms + 8) * unit * scale


def _most_terms(rows):
    """The length of the longest sum over a row's values: its columns, or its most values."""
    if is_sparse_rows(rows):
        return int(np.diff(rows.indptr).max(initial=0))
    return rows.shape[1]


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
        On sparse rows, products gathered without a transposed copy of the data and without
        blocks of products, a group of queries at a time (see :mod:`umapx.knn.sparse`); the
        result is the same.

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
        data_norm_max = float(row_norms(data).max())
        data_terms = _most_terms(data)
        if is_sparse_rows(data) and low_memory:
            n_terms = np.diff(queries.indptr) + data_terms
            slack = _rounding_slack(metric, row_norms(queries), data_norm_max, n_terms)
            return _gathered_search(args, queries, data, squared_norms(data), n_select, slack,
                                    k, exclude_self)
        if is_sparse_rows(data):
            approximate = CandidateDistances(args, data)
            step = _BLOCK_ROWS
        else:
            data_sq_norms = np.einsum("ij,ij->i", data, data)

            def approximate(block):
                return _blas_candidate_distances(metric, block, data, data_sq_norms)

            step = _BLOCK_ROWS
        for start in range(0, n_queries, step):
            block = row_block(queries, start, start + step)
            approx = approximate(block)
            candidates = _select_smallest(approx, n_select, start, exclude_self)
            n_terms = _most_terms(block) + data_terms if is_sparse_rows(block) else \
                data_terms
            slack = _rounding_slack(metric, row_norms(block), data_norm_max, n_terms)
            block_i, block_d = _rerank(args, block, data, approx, candidates, slack, k, start,
                                       exclude_self)
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
