"""Candidate distances for exact search on sparse rows, from sparse products.

The sparse counterpart of the BLAS products that :mod:`umapx.knn.exact` uses on dense rows:
the dot products of a block of query rows with every data row are accumulated through the
data's columns (each query entry visits the rows holding its column), in parallel over query
rows. Each query row's products are summed in a fixed order (its entries in column order, the
rows of a column in row order), so they do not depend on the block or the thread count.
Squared euclidean and dot distances follow from the products and the rows' norms; the exact
re-ranking in :mod:`umapx.knn.exact` then removes their rounding, as on dense rows.

Memory: the block of products is ``block_rows x n_data`` float32 (see :func:`block_rows`), the
columns are one transposed copy of the data's index and value arrays. With ``low_memory`` there
is no transposed copy: groups of query rows are scattered into a small dense table and
each data row's values are gathered against it, in blocks of queries scaled to the data (a
quarter of its stored values, at least 1 MiB of products). That reads the whole data once per
group of query rows, against only the shared columns through the transpose, and the smaller
blocks mean more kernel launches: exact search of 5000 TF-IDF rows took 2-3x as long in our
measurements. Both ways sum the same products per pair; the exact re-ranking makes the
neighbours and distances the same.
"""

from __future__ import annotations

import numba
import numpy as np

from .._jit import kernel
from ..metrics import DOT_DISTANCE
from ..sparse import SparseRows

#: With ``low_memory``, a block of products may always hold this many entries (1 MiB)...
LOW_MEMORY_MIN_BLOCK_ENTRIES = 1 << 18
#: ... and otherwise at most the data's stored values divided by this.
LOW_MEMORY_BLOCK_FRACTION = 4
#: With ``low_memory``, query rows scattered together and gathered in one pass over the data.
GATHER_ROWS = 8


def block_rows(data, low_memory, default):
    """Query rows per block of products against :class:`~umapx.sparse.SparseRows` ``data``:
    ``default``, or with ``low_memory`` as many as keep the block within a quarter of the
    data's stored values (at least :data:`LOW_MEMORY_MIN_BLOCK_ENTRIES` entries), in whole
    groups of :data:`GATHER_ROWS` rows."""
    if not low_memory:
        return default
    n_data = max(data.shape[0], 1)
    nnz = int(data.indptr[-1] - data.indptr[0])
    entries = max(LOW_MEMORY_MIN_BLOCK_ENTRIES, nnz // LOW_MEMORY_BLOCK_FRACTION)
    rows = entries // n_data // GATHER_ROWS * GATHER_ROWS  # whole groups of gathered rows
    return int(max(2 * GATHER_ROWS, min(default, rows)))


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


@kernel(parallel=True)
def _gathered_products(queries, data):
    """Products of each query row with every data row without the data's columns: groups of
    :data:`GATHER_ROWS` query rows are scattered into a dense (features x rows) table, and
    each data row's values are gathered against it (one pass over the data per group)."""
    n_rows = queries.indptr.shape[0] - 1
    n_data = data.indptr.shape[0] - 1
    out = np.empty((n_rows, n_data), np.float32)
    n_groups = (n_rows + GATHER_ROWS - 1) // GATHER_ROWS
    for group in numba.prange(n_groups):
        first = group * GATHER_ROWS
        count = min(GATHER_ROWS, n_rows - first)
        dense = np.zeros((queries.n_features, GATHER_ROWS), np.float32)
        for t in range(count):
            for e in range(queries.indptr[first + t], queries.indptr[first + t + 1]):
                dense[queries.indices[e], t] = queries.data[e]
        totals = np.empty(GATHER_ROWS, np.float32)
        for j in range(n_data):
            totals[:] = 0.0
            for p in range(data.indptr[j], data.indptr[j + 1]):
                column = data.indices[p]
                value = data.data[p]
                for t in range(GATHER_ROWS):
                    totals[t] += dense[column, t] * value
            for t in range(count):
                out[first + t, j] = totals[t]
    return out


@kernel(parallel=True)
def _squared_norms(indptr, data):
    out = np.empty(indptr.shape[0] - 1, np.float32)
    for i in numba.prange(out.shape[0]):
        total = np.float32(0.0)
        for e in range(indptr[i], indptr[i + 1]):
            total += data[e] * data[e]
        out[i] = total
    return out


class CandidateDistances:
    """Approximate search distances of blocks of sparse query rows to every data row.

    Parameters
    ----------
    args : DistanceArgs
        Squared euclidean or dot distance.
    data : SparseRows
    low_memory : bool
        Transpose one chunk of data rows at a time instead of keeping a transposed copy of the
        data (see the module's notes on memory).
    """

    def __init__(self, args, data, low_memory=False):
        self.dot = args.code == DOT_DISTANCE
        self.data = data
        self.columns = None if low_memory else columns_of(data)
        self.data_sq_norms = None if self.dot else _squared_norms(data.indptr, data.data)

    def __call__(self, block):
        if self.columns is None:
            products = _gathered_products(block, self.data)
        else:
            products = _block_products(block, self.columns)
        if self.dot:
            return np.subtract(1.0, products, out=products)
        products *= -2.0
        products += _squared_norms(block.indptr, block.data)[:, None]
        products += self.data_sq_norms[None, :]
        return products


def row_norms(rows):
    """Euclidean norms (float64) of dense rows or :class:`~umapx.sparse.SparseRows`."""
    if isinstance(rows, SparseRows):
        counts = np.diff(rows.indptr)
        owners = np.repeat(np.arange(counts.shape[0]), counts)
        values = rows.data[rows.indptr[0]:rows.indptr[-1]].astype(np.float64)
        return np.sqrt(np.bincount(owners, weights=values * values, minlength=counts.shape[0]))
    return np.sqrt(np.einsum("ij,ij->i", rows, rows, dtype=np.float64))
