"""Candidate distances for exact search on sparse rows, from sparse products.

The sparse counterpart of the BLAS products that :mod:`umapx.knn.exact` uses on dense rows:
the dot products of a block of query rows with every data row are accumulated through the
data's columns (each query entry visits the rows holding its column), in parallel over query
rows. Each query row's products are summed in a fixed order (its entries in column order, the
rows of a column in row order), so they do not depend on the block or the thread count.
Squared euclidean and dot distances follow from the products and the rows' norms; the exact
re-ranking in :mod:`umapx.knn.exact` then removes their rounding, as on dense rows.

Memory: the block of products is one block of query rows by ``n_data`` (float32), the columns
are one transposed copy of the data's index and value arrays. With ``low_memory`` there is
neither: :func:`gather_products` scatters a group of :data:`GATHER_ROWS` query rows into a
small dense table and gathers each data row's values against it, and :mod:`umapx.knn.exact`
selects and re-ranks each group's neighbours in the same parallel loop, so the search holds one
group's products per thread (``GATHER_ROWS x n_data`` floats and the ``n_features x
GATHER_ROWS`` table) and runs as one kernel launch. The gathering reads the whole data once per
group instead of only the shared columns, but vectorises over the group's rows: on 5000 TF-IDF
rows it costs about 1.4x the transposed path's products in CPU time on one thread, and the
search as a whole about the same, where the earlier small blocks (one launch of three kernels
per 48 rows) cost 3-4x on two busy cores. Both ways sum the same products per pair; the exact
re-ranking makes the neighbours and distances the same.
"""

from __future__ import annotations

import numba
import numpy as np

from .._jit import kernel
from ..metrics import DOT_DISTANCE
from ..sparse import SparseRows

#: With ``low_memory``, query rows scattered together and gathered in one pass over the data.
GATHER_ROWS = 8


@kernel
def _transpose(indptr, indices, data, n_features):
    """The columns of CSR rows as CSR lists of (row, value), rows in increasing order."""
    n_rows = indptr.shape[0] - 1
    column_ptr = np.zeros(n_features + 1, np.int64)
    for row in range(n_rows):
        for e in range(indptr[row], indptr[row + 1]):
            column_ptr[indices[e] + 1] += 1
    for c in range(n_features):
        column_ptr[c + 1] += column_ptr[c]
    fill = column_ptr[:-1].copy()
    rows = np.empty(column_ptr[n_features], np.int32)
    values = np.empty(column_ptr[n_features], np.float32)
    for row in range(n_rows):
        for e in range(indptr[row], indptr[row + 1]):
            c = indices[e]
            rows[fill[c]] = row
            values[fill[c]] = data[e]
            fill[c] += 1
    return column_ptr, rows, values


def columns_of(data):
    """The columns of :class:`~umapx.sparse.SparseRows` ``data`` as SparseRows of the
    transpose."""
    column_ptr, rows, values = _transpose(data.indptr, data.indices, data.data,
                                          data.n_features)
    return SparseRows(column_ptr, rows, values, data.indptr.shape[0] - 1)


@kernel(parallel=True)
def _block_products(queries, columns):
    n_rows = queries.indptr.shape[0] - 1
    out = np.zeros((n_rows, columns.n_features), np.float32)
    for r in numba.prange(n_rows):
        for e in range(queries.indptr[r], queries.indptr[r + 1]):
            column = queries.indices[e]
            value = queries.data[e]
            for p in range(columns.indptr[column], columns.indptr[column + 1]):
                out[r, columns.indices[p]] += value * columns.data[p]
    return out


@kernel
def gather_products(queries, first, count, data, table, out):
    """Products of query rows ``first .. first + count - 1`` (at most :data:`GATHER_ROWS`) with
    every data row into ``out[:count]``, without the data's columns: the query rows are
    scattered into ``table`` (``n_features x GATHER_ROWS``, zero on entry and on return) and
    each data row's values are gathered against it (one pass over the data)."""
    for t in range(count):
        for e in range(queries.indptr[first + t], queries.indptr[first + t + 1]):
            table[queries.indices[e], t] = queries.data[e]
    totals = np.empty(GATHER_ROWS, np.float32)
    for j in range(data.indptr.shape[0] - 1):
        totals[:] = 0.0
        for p in range(data.indptr[j], data.indptr[j + 1]):
            column = data.indices[p]
            value = data.data[p]
            for t in range(GATHER_ROWS):
                totals[t] += table[column, t] * value
        for t in range(count):
            out[t, j] = totals[t]
    for t in range(count):
        for e in range(queries.indptr[first + t], queries.indptr[first + t + 1]):
            table[queries.indices[e], t] = 0.0


@kernel(parallel=True)
def _squared_norms(indptr, data):
    out = np.empty(indptr.shape[0] - 1, np.float32)
    for i in numba.prange(out.shape[0]):
        total = np.float32(0.0)
        for e in range(indptr[i], indptr[i + 1]):
            total += data[e] * data[e]
        out[i] = total
    return out


def squared_norms(rows):
    """Squared norms (float32) of :class:`~umapx.sparse.SparseRows`, summed in entry order."""
    return _squared_norms(rows.indptr, rows.data)


class CandidateDistances:
    """Approximate search distances of blocks of sparse query rows to every data row, through a
    transposed copy of the data (the search without ``low_memory``).

    Parameters
    ----------
    args : DistanceArgs
        Squared euclidean or dot distance.
    data : SparseRows
    """

    def __init__(self, args, data):
        self.dot = args.code == DOT_DISTANCE
        self.columns = columns_of(data)
        self.data_sq_norms = None if self.dot else squared_norms(data)

    def __call__(self, block):
        products = _block_products(block, self.columns)
        query_sq_norms = None if self.dot else squared_norms(block)
        return distances_from_products(products, self.dot, query_sq_norms, self.data_sq_norms)


def distances_from_products(products, dot, query_sq_norms, data_sq_norms):
    """Search distances from the dot products of queries (rows) and data rows (columns), in
    place: ``1 - <x, y>`` for the dot distance, else ``|x|^2 - 2 <x, y> + |y|^2`` (the
    squared norms are ignored for the dot distance). The arithmetic order is that of the
    search kernels' own form (:func:`umapx.knn.exact._gathered_search`): same bits."""
    if dot:
        return np.subtract(1.0, products, out=products)
    products *= -2.0
    products += query_sq_norms[:, None]
    products += data_sq_norms[None, :]
    return products


def row_norms(rows):
    """Euclidean norms (float64) of dense rows or :class:`~umapx.sparse.SparseRows`."""
    if isinstance(rows, SparseRows):
        counts = np.diff(rows.indptr)
        owners = np.repeat(np.arange(counts.shape[0]), counts)
        values = rows.data[rows.indptr[0]:rows.indptr[-1]].astype(np.float64)
        return np.sqrt(np.bincount(owners, weights=values * values, minlength=counts.shape[0]))
    return np.sqrt(np.einsum("ij,ij->i", rows, rows, dtype=np.float64))
