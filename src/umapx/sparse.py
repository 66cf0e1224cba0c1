"""Sparse input: rows in CSR form for the kernels, the sparse metrics, and umap-learn's names.

``UMAP.fit``, ``transform`` and ``inverse_transform`` take scipy.sparse matrices and arrays (CSR,
CSC, COO, ...; int32 or int64 indices; bool, integer or float values) and never densify them
whole. Validation turns them into *canonical CSR* (:func:`canonical_csr`): float32 values, int32
column indices sorted and unique within each row, the same container family the user gave
(``csr_matrix`` for the matrix classes, ``csr_array`` for the array classes). The user's matrix
is never modified: a copy is made only where it is not canonical already (another format,
another dtype, unsorted or duplicate indices, which are summed). Explicit zeros may stay: every
kernel treats a stored zero like an absent entry.

The kernels see the rows as a :class:`SparseRows` record (``indptr``, ``indices``, ``data``,
``n_features``) and compute a distance by walking two rows' sorted index lists together:
:func:`sparse_distance` is the switch over the same metric codes as the dense
:func:`umapx.metrics.distance` (the table :data:`umapx.metrics.METRICS` says which metrics
have a sparse kernel: ``MetricSpec.sparse``). Neighbour search uses the same cheap stand-ins as
on dense data: squared euclidean for euclidean, and ``1 - <x, y>`` on unit rows for cosine.
Correlation is searched under its own formula, since centring would densify the rows.

Sparse metrics: euclidean, manhattan, chebyshev, minkowski, cosine, correlation, canberra,
braycurtis, hellinger, jaccard, dice, hamming, matching, kulsinski, rogerstanimoto, russellrao,
sokalmichener, sokalsneath, ll_dirichlet. The binary metrics look at which entries are non-zero
(the values of hamming); hellinger and ll_dirichlet need non-negative data (counts or
frequencies). Conventions where rows are empty or alike follow umap-learn: two empty rows are
at distance 0; russellrao is 0 between rows with the same non-zero entries; ll_dirichlet is
``1e8`` between an empty and a non-empty row.

Compatibility: umap-learn users import ``umap.sparse``; this module has the same names for its
metric functions, ``sparse_euclidean(ind1, data1, ind2, data2)``, ...,
``sparse_correlation(ind1, data1, ind2, data2, n_features)``, and the tables
``sparse_named_distances`` and ``sparse_need_n_features``. They are numba functions of the
sorted index and value arrays of two rows and can be called from Python or from numba code.
They are an interface onto the kernels above, not copies of umap-learn's code, and
ll_dirichlet uses exact log-gamma functions where umap-learn uses series approximations.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numba
import numpy as np
import scipy.sparse

from . import metrics as _metrics
from ._jit import kernel
from .metrics import (
    BRAYCURTIS,
    CANBERRA,
    CHEBYSHEV,
    CORRELATION,
    COSINE,
    DICE,
    DOT_DISTANCE,
    EUCLIDEAN,
    HAMMING,
    HELLINGER,
    JACCARD,
    KULSINSKI,
    LL_DIRICHLET,
    MANHATTAN,
    MATCHING,
    MINKOWSKI,
    ROGERSTANIMOTO,
    RUSSELLRAO,
    SOKALMICHENER,
    SOKALSNEATH,
    SQEUCLIDEAN,
)

#: ll_dirichlet's distance between an empty and a non-empty row (umap-learn's value).
EMPTY_ROW_DIRICHLET = 1e8
#: A row whose norm is within this of 1 counts as a unit row (no normalised copy is made).
_UNIT_TOLERANCE = 1e-6


# ----------------------------------------------------------------------------------------------
# Rows as the kernels see them
# ----------------------------------------------------------------------------------------------


class SparseRows(NamedTuple):
    """Rows of a CSR matrix as one record for the kernels.

    Row ``i`` holds ``data[indptr[i]:indptr[i + 1]]`` at the columns
    ``indices[indptr[i]:indptr[i + 1]]``, sorted and unique. ``indptr`` need not start at 0: a
    block of rows is a view of ``indptr`` over the same ``indices`` and ``data``.
    """

    indptr: np.ndarray  # int64 (n + 1,)
    indices: np.ndarray  # int32 (nnz,)
    data: np.ndarray  # float32 (nnz,)
    n_features: int

    @property
    def shape(self):
        return (self.indptr.shape[0] - 1, self.n_features)

    def block(self, start, stop):
        """Rows ``start:stop`` (views, no copy)."""
        stop = min(stop, self.shape[0])
        return self._replace(indptr=self.indptr[start : stop + 1])


def is_sparse_rows(value):
    return isinstance(value, SparseRows)


def as_rows(matrix):
    """The :class:`SparseRows` of a canonical CSR matrix (only ``indptr`` is converted)."""
    return SparseRows(np.ascontiguousarray(matrix.indptr, dtype=np.int64), matrix.indices,
                      matrix.data, int(matrix.shape[1]))


# Codes of _canonical_status.
_CANONICAL, _UNSORTED, _OUT_OF_RANGE, _BAD_INDPTR = 0, 1, 2, 3


@kernel
def _canonical_status(indptr, indices, n_features):
    """Whether CSR index arrays are canonical (sorted, unique), merely unsorted, or malformed."""
    nnz = indices.shape[0]
    if indptr[0] != 0 or indptr[indptr.shape[0] - 1] != nnz:
        return _BAD_INDPTR
    status = _CANONICAL
    for row in range(indptr.shape[0] - 1):
        start = indptr[row]
        end = indptr[row + 1]
        if end < start or end > nnz:
            return _BAD_INDPTR
        previous = -1
        for e in range(start, end):
            column = indices[e]
            if column < 0 or column >= n_features:
                return _OUT_OF_RANGE
            if column <= previous:
                status = _UNSORTED
            previous = column
    return status


def canonical_csr_arrays_status(indptr, indices, n_features):
    """What keeps CSR index arrays from being canonical, in words ('' if nothing)."""
    status = _canonical_status(np.asarray(indptr, np.int64), indices, n_features)
    return {_CANONICAL: "", _UNSORTED: "unsorted or duplicate column indices in a row",
            _OUT_OF_RANGE: f"a column index outside [0, {n_features})",
            _BAD_INDPTR: "row pointers not monotone from 0 to the number of values"}[status]


def _family(X):
    """The canonical container for ``X``: ``csr_array`` for sparse arrays, else ``csr_matrix``."""
    sparse_array = getattr(scipy.sparse, "sparray", None)
    if sparse_array is not None and isinstance(X, sparse_array):
        return scipy.sparse.csr_array
    return scipy.sparse.csr_matrix


def canonical_csr(X, name="X"):
    """``X`` as canonical CSR (see the module docstring), without modifying ``X``.

    Raises
    ------
    TypeError
        For a value dtype that is not boolean, integer or real.
    ValueError
        For a matrix that is not 2-d, has NaN or infinity among its stored values, has 2**31
        columns or more, or whose index arrays are malformed.
    """
    if len(X.shape) != 2:
        raise ValueError(f"{name} must be a 2-d sparse matrix, got shape {X.shape}")
    if X.dtype.kind not in "biuf":
        raise TypeError(
            f"{name} is a sparse matrix of dtype {X.dtype}; umapx needs real numbers (bool, "
            "integer or float values)"
        )
    if X.shape[1] >= 2**31:
        raise ValueError(f"{name} has {X.shape[1]} columns; sparse input supports fewer than "
                         "2**31")
    family = _family(X)
    csr = X if X.format == "csr" else X.tocsr()
    values = csr.data
    if values.dtype.kind == "f" and not np.all(np.isfinite(values)):
        raise ValueError(f"{name} contains NaN or infinity among its stored values")
    indptr = np.asarray(csr.indptr, dtype=np.int64)
    indices = np.asarray(csr.indices, dtype=np.int32)
    if csr.indices.dtype != np.int32 and indices.size and (
            int(csr.indices.max()) != int(indices.max())):  # wrapped around in the cast
        raise ValueError(f"{name} is a malformed sparse matrix: column index out of range")
    status = _canonical_status(indptr, indices, csr.shape[1])
    if status == _BAD_INDPTR:
        raise ValueError(f"{name} is a malformed sparse matrix: its row pointers (indptr) are "
                         "not monotone from 0 to the number of stored values")
    if status == _OUT_OF_RANGE:
        raise ValueError(f"{name} is a malformed sparse matrix: a column index lies outside "
                         f"[0, {csr.shape[1]})")
    values = np.asarray(values, dtype=np.float32)
    if not np.all(np.isfinite(values)):
        raise ValueError(f"{name} has values too large for float32")
    if indices.shape[0] >= 2**31:  # scipy then needs int64 indices
        indices = indices.astype(np.int64)
    # One index dtype for both arrays: scipy's sparse arrays would otherwise upcast (copy).
    indptr = indptr.astype(indices.dtype, copy=False)
    if status == _UNSORTED:
        # sum_duplicates sorts and merges in place: work on a copy whose arrays are our own.
        result = family((values.copy(), indices.copy(), indptr.copy()), shape=csr.shape)
        result.sum_duplicates()
        return result
    return family((values, indices, indptr), shape=csr.shape, copy=False)


def row_norms(rows):
    """Euclidean norm of every row (float64)."""
    return _row_norms(rows.indptr, rows.data)


@kernel(parallel=True)
def _row_norms(indptr, data):
    n = indptr.shape[0] - 1
    out = np.empty(n, np.float64)
    for i in numba.prange(n):
        total = 0.0
        for e in range(indptr[i], indptr[i + 1]):
            total += np.float64(data[e]) * data[e]
        out[i] = np.sqrt(total)
    return out


@kernel(parallel=True)
def _scaled_values(indptr, data, factors):
    out = np.empty_like(data)
    for i in numba.prange(indptr.shape[0] - 1):
        for e in range(indptr[i], indptr[i + 1]):
            out[e] = np.float32(data[e] * factors[i])
    return out


def prepare_rows(metric, matrix):
    """Rows of a canonical CSR matrix as neighbour search uses them under ``metric``.

    Cosine searches unit rows: a normalised copy of the values is made unless every row is a
    unit (or empty) row already, as TF-IDF rows are. Other metrics search the rows as they are.
    """
    rows = as_rows(matrix)
    if metric.spec.search != "unit_rows":
        return rows
    norms = row_norms(rows)
    if np.all((np.abs(norms - 1.0) <= _UNIT_TOLERANCE) | (norms == 0)):
        return rows
    norms[norms == 0] = 1.0
    return rows._replace(data=_scaled_values(rows.indptr, rows.data, 1.0 / norms))


def search_args(metric):
    """The :class:`~umapx.metrics.DistanceArgs` of the distance sparse search computes."""
    if metric.spec.search == "squared":
        code = SQEUCLIDEAN
    elif metric.spec.search == "unit_rows":
        code = DOT_DISTANCE
    else:
        code = metric.code
    return metric.distance_args._replace(code=int(code))


# ----------------------------------------------------------------------------------------------
# Metric kernels on (indices, values) of two rows
# ----------------------------------------------------------------------------------------------


@kernel(inline="always")
def _next_pair(ind1, val1, ind2, val2, i1, i2):
    """The next column of the union of two sorted index lists: its two values (0 where a row
    has no entry) and the advanced positions."""
    if i1 < ind1.shape[0] and (i2 >= ind2.shape[0] or ind1[i1] < ind2[i2]):
        return np.float64(val1[i1]), 0.0, i1 + 1, i2
    if i1 >= ind1.shape[0] or ind2[i2] < ind1[i1]:
        return 0.0, np.float64(val2[i2]), i1, i2 + 1
    return np.float64(val1[i1]), np.float64(val2[i2]), i1 + 1, i2 + 1


@kernel(inline="always")
def _more(ind1, ind2, i1, i2):
    return i1 < ind1.shape[0] or i2 < ind2.shape[0]


@kernel
def _sq_euclidean(ind1, val1, ind2, val2):
    total = 0.0
    i1 = i2 = 0
    while _more(ind1, ind2, i1, i2):
        x, y, i1, i2 = _next_pair(ind1, val1, ind2, val2, i1, i2)
        total += (x - y) * (x - y)
    return total


@kernel
def _manhattan(ind1, val1, ind2, val2):
    total = 0.0
    i1 = i2 = 0
    while _more(ind1, ind2, i1, i2):
        x, y, i1, i2 = _next_pair(ind1, val1, ind2, val2, i1, i2)
        total += abs(x - y)
    return total


@kernel
def _chebyshev(ind1, val1, ind2, val2):
    largest = 0.0
    i1 = i2 = 0
    while _more(ind1, ind2, i1, i2):
        x, y, i1, i2 = _next_pair(ind1, val1, ind2, val2, i1, i2)
        largest = max(largest, abs(x - y))
    return largest


@kernel
def _minkowski(ind1, val1, ind2, val2, p):
    total = 0.0
    i1 = i2 = 0
    while _more(ind1, ind2, i1, i2):
        x, y, i1, i2 = _next_pair(ind1, val1, ind2, val2, i1, i2)
        total += abs(x - y) ** p
    return total ** (1.0 / p)


@kernel
def _canberra(ind1, val1, ind2, val2):
    total = 0.0
    i1 = i2 = 0
    while _more(ind1, ind2, i1, i2):
        x, y, i1, i2 = _next_pair(ind1, val1, ind2, val2, i1, i2)
        denominator = abs(x) + abs(y)
        if denominator > 0:
            total += abs(x - y) / denominator
    return total


@kernel
def _braycurtis(ind1, val1, ind2, val2):
    numerator = 0.0
    denominator = 0.0
    i1 = i2 = 0
    while _more(ind1, ind2, i1, i2):
        x, y, i1, i2 = _next_pair(ind1, val1, ind2, val2, i1, i2)
        numerator += abs(x - y)
        denominator += abs(x + y)
    if denominator > 0:
        return numerator / denominator
    return 0.0


@kernel
def dot_product(ind1, val1, ind2, val2):
    """Sum of the products over the columns both rows hold."""
    total = 0.0
    i1 = i2 = 0
    n1 = ind1.shape[0]
    n2 = ind2.shape[0]
    while i1 < n1 and i2 < n2:
        # Without a branch on the order of the indices (hard to predict): ~2x faster.
        a = ind1[i1]
        b = ind2[i2]
        if a == b:
            total += np.float64(val1[i1]) * val2[i2]
        i1 += a <= b
        i2 += b <= a
    return total


@kernel
def sum_and_squares(values):
    """Sum and sum of squares."""
    total = 0.0
    squares = 0.0
    for value in values:
        total += value
        squares += np.float64(value) * value
    return total, squares


@kernel
def _cosine(ind1, val1, ind2, val2):
    _, norm1 = sum_and_squares(val1)
    _, norm2 = sum_and_squares(val2)
    if norm1 == 0.0 and norm2 == 0.0:
        return 0.0
    if norm1 == 0.0 or norm2 == 0.0:
        return 1.0
    return max(1.0 - dot_product(ind1, val1, ind2, val2) / np.sqrt(norm1 * norm2), 0.0)


@kernel
def _correlation(ind1, val1, ind2, val2, n_features):
    """1 - Pearson correlation over all ``n_features`` columns, absent entries being 0."""
    sum1, squares1 = sum_and_squares(val1)
    sum2, squares2 = sum_and_squares(val2)
    variance1 = squares1 - sum1 * sum1 / n_features
    variance2 = squares2 - sum2 * sum2 / n_features
    # A constant row has variance 0 up to rounding of the two terms.
    constant1 = variance1 <= 1e-12 * squares1
    constant2 = variance2 <= 1e-12 * squares2
    if constant1 and constant2:
        return 0.0
    if constant1 or constant2:
        return 1.0
    covariance = dot_product(ind1, val1, ind2, val2) - sum1 * sum2 / n_features
    return max(1.0 - covariance / np.sqrt(variance1 * variance2), 0.0)


@kernel
def _hellinger(ind1, val1, ind2, val2):
    sum1, _ = sum_and_squares(val1)
    sum2, _ = sum_and_squares(val2)
    if sum1 == 0.0 and sum2 == 0.0:
        return 0.0
    if sum1 == 0.0 or sum2 == 0.0:
        return 1.0
    overlap = 0.0
    i1 = i2 = 0
    while i1 < ind1.shape[0] and i2 < ind2.shape[0]:
        a = ind1[i1]
        b = ind2[i2]
        if a == b:
            overlap += np.sqrt(np.float64(val1[i1]) * val2[i2])
        i1 += a <= b
        i2 += b <= a
    return np.sqrt(max(1.0 - overlap / np.sqrt(sum1 * sum2), 0.0))


@kernel(inline="always")
def _log_beta(a, b):
    return math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b)


@kernel
def _ll_dirichlet(ind1, val1, ind2, val2):
    """umap-learn's log-likelihood distance of two count rows under Dirichlet-multinomials.

    ``sqrt(L(x, y) / |y| + L(y, x) / |x|)`` with
    ``L(x, y) = sum_i B(x_i, y_i) - B(|x|, |y|) - (sum_i B(y_i, y_i) - B(|y|, |y|))`` over the
    non-zero entries, ``B`` the log beta function and ``|x|`` the row sums: 0 between equal
    rows.
    """
    sum1, _ = sum_and_squares(val1)
    sum2, _ = sum_and_squares(val2)
    if sum1 == 0.0 and sum2 == 0.0:
        return 0.0
    if sum1 == 0.0 or sum2 == 0.0:
        return EMPTY_ROW_DIRICHLET
    joint = 0.0
    self1 = 0.0
    self2 = 0.0
    i1 = i2 = 0
    while _more(ind1, ind2, i1, i2):
        x, y, i1, i2 = _next_pair(ind1, val1, ind2, val2, i1, i2)
        if x > 0 and y > 0:
            joint += _log_beta(x, y)
        if x > 0:
            self1 += _log_beta(x, x)
        if y > 0:
            self2 += _log_beta(y, y)
    value = ((joint - _log_beta(sum1, sum2) - self2 + _log_beta(sum2, sum2)) / sum2
             + (joint - _log_beta(sum2, sum1) - self1 + _log_beta(sum1, sum1)) / sum1)
    return np.sqrt(max(value, 0.0))


@kernel
def _binary_counts(ind1, val1, ind2, val2):
    """Columns non-zero in both rows, in the first only, in the second only."""
    both = 0
    first = 0
    second = 0
    i1 = i2 = 0
    while _more(ind1, ind2, i1, i2):
        x, y, i1, i2 = _next_pair(ind1, val1, ind2, val2, i1, i2)
        if x != 0 and y != 0:
            both += 1
        elif x != 0:
            first += 1
        elif y != 0:
            second += 1
    return both, first, second


@kernel
def _unequal(ind1, val1, ind2, val2):
    """Columns where the two rows' values differ."""
    count = 0
    i1 = i2 = 0
    while _more(ind1, ind2, i1, i2):
        x, y, i1, i2 = _next_pair(ind1, val1, ind2, val2, i1, i2)
        if x != y:
            count += 1
    return count


@kernel
def _binary(code, ind1, val1, ind2, val2, n_features):
    """The binary dissimilarities (scipy's definitions on the non-zero patterns)."""
    if code == HAMMING:
        return _unequal(ind1, val1, ind2, val2) / n_features
    both, first, second = _binary_counts(ind1, val1, ind2, val2)
    differ = first + second
    n = np.float64(n_features)
    if code == JACCARD:
        return differ / (both + differ) if both + differ > 0 else 0.0
    if code == DICE:
        return differ / (2.0 * both + differ) if differ > 0 else 0.0
    if code == MATCHING:
        return differ / n
    if code == KULSINSKI:
        return (differ - both + n) / (differ + n) if differ > 0 else 0.0
    if code == ROGERSTANIMOTO or code == SOKALMICHENER:
        return 2.0 * differ / (n + differ)
    if code == RUSSELLRAO:
        return (n - both) / n if differ > 0 else 0.0
    if code == SOKALSNEATH:
        return differ / (0.5 * both + differ) if differ > 0 else 0.0
    return np.nan


@kernel
def sparse_distance(metric, ind1, val1, ind2, val2, n_features):
    """Distance between two sparse rows under ``metric`` (a :class:`~umapx.metrics.
    DistanceArgs`), as float32.

    ``ind1, val1`` and ``ind2, val2`` are the sorted column indices and the values of the two
    rows; ``n_features`` is the number of columns (used by hamming, matching, kulsinski,
    rogerstanimoto, russellrao, sokalmichener and correlation).
    """
    code = metric.code
    if code == SQEUCLIDEAN:  # |x|^2 + |y|^2 - 2 <x, y>: cheaper than walking the union
        _, squares1 = sum_and_squares(val1)
        _, squares2 = sum_and_squares(val2)
        return np.float32(max(squares1 + squares2 - 2.0 * dot_product(ind1, val1, ind2, val2),
                              0.0))
    if code == DOT_DISTANCE:
        return np.float32(max(1.0 - dot_product(ind1, val1, ind2, val2), 0.0))
    if code == EUCLIDEAN:
        return np.float32(np.sqrt(_sq_euclidean(ind1, val1, ind2, val2)))
    if code == MANHATTAN:
        return np.float32(_manhattan(ind1, val1, ind2, val2))
    if code == CHEBYSHEV:
        return np.float32(_chebyshev(ind1, val1, ind2, val2))
    if code == MINKOWSKI:
        return np.float32(_minkowski(ind1, val1, ind2, val2, metric.p))
    if code == COSINE:
        return np.float32(_cosine(ind1, val1, ind2, val2))
    if code == CORRELATION:
        return np.float32(_correlation(ind1, val1, ind2, val2, n_features))
    if code == CANBERRA:
        return np.float32(_canberra(ind1, val1, ind2, val2))
    if code == BRAYCURTIS:
        return np.float32(_braycurtis(ind1, val1, ind2, val2))
    if code == HELLINGER:
        return np.float32(_hellinger(ind1, val1, ind2, val2))
    if code == LL_DIRICHLET:
        return np.float32(_ll_dirichlet(ind1, val1, ind2, val2))
    return np.float32(_binary(code, ind1, val1, ind2, val2, n_features))


@kernel(inline="always")
def row_entries(rows, i):
    """Column indices and values of row ``i`` of a :class:`SparseRows`."""
    start = rows.indptr[i]
    end = rows.indptr[i + 1]
    return rows.indices[start:end], rows.data[start:end]


@kernel(parallel=True)
def _pairwise(metric, a, b):
    out = np.empty((a.indptr.shape[0] - 1, b.indptr.shape[0] - 1), np.float32)
    for i in numba.prange(out.shape[0]):
        ind1, val1 = row_entries(a, i)
        for j in range(out.shape[1]):
            ind2, val2 = row_entries(b, j)
            out[i, j] = sparse_distance(metric, ind1, val1, ind2, val2, a.n_features)
    return out


def pairwise_distances(metric, X, Y):
    """Dense matrix of ``metric`` distances between the rows of two sparse matrices (small
    inputs only: tests and evaluation)."""
    a = as_rows(canonical_csr(X))
    b = as_rows(canonical_csr(Y, "Y"))
    return _pairwise(metric.distance_args, a, b)


@kernel(parallel=True)
def _rows_equal(a, a_rows, b, b_rows):
    out = np.empty(a_rows.shape[0], np.bool_)
    for r in numba.prange(a_rows.shape[0]):
        ind1, val1 = row_entries(a, a_rows[r])
        ind2, val2 = row_entries(b, b_rows[r])
        out[r] = _unequal(ind1, val1, ind2, val2) == 0
    return out


def rows_equal(A, a_rows, B, b_rows):
    """Whether row ``a_rows[r]`` of canonical CSR ``A`` equals row ``b_rows[r]`` of ``B``."""
    return _rows_equal(as_rows(A), np.asarray(a_rows, np.int64), as_rows(B),
                       np.asarray(b_rows, np.int64))


# ----------------------------------------------------------------------------------------------
# umap-learn's ``umap.sparse`` names
# ----------------------------------------------------------------------------------------------


@numba.njit(cache=True)
def sparse_euclidean(ind1, data1, ind2, data2):
    """Euclidean distance of two sparse rows (sorted indices, values)."""
    return np.sqrt(_sq_euclidean(ind1, data1, ind2, data2))


@numba.njit(cache=True)
def sparse_manhattan(ind1, data1, ind2, data2):
    """Manhattan (L1) distance of two sparse rows."""
    return _manhattan(ind1, data1, ind2, data2)


@numba.njit(cache=True)
def sparse_chebyshev(ind1, data1, ind2, data2):
    """Chebyshev (L-infinity) distance of two sparse rows."""
    return _chebyshev(ind1, data1, ind2, data2)


@numba.njit(cache=True)
def sparse_minkowski(ind1, data1, ind2, data2, p=2.0):
    """Minkowski distance of order ``p`` of two sparse rows."""
    return _minkowski(ind1, data1, ind2, data2, p)


@numba.njit(cache=True)
def sparse_canberra(ind1, data1, ind2, data2):
    """Canberra distance of two sparse rows."""
    return _canberra(ind1, data1, ind2, data2)


@numba.njit(cache=True)
def sparse_bray_curtis(ind1, data1, ind2, data2):
    """Bray-Curtis dissimilarity of two sparse rows."""
    return _braycurtis(ind1, data1, ind2, data2)


@numba.njit(cache=True)
def sparse_cosine(ind1, data1, ind2, data2):
    """Cosine distance of two sparse rows."""
    return _cosine(ind1, data1, ind2, data2)


@numba.njit(cache=True)
def sparse_correlation(ind1, data1, ind2, data2, n_features):
    """Correlation distance of two sparse rows of ``n_features`` columns."""
    return _correlation(ind1, data1, ind2, data2, n_features)


@numba.njit(cache=True)
def sparse_hellinger(ind1, data1, ind2, data2):
    """Hellinger distance of two non-negative sparse rows."""
    return _hellinger(ind1, data1, ind2, data2)


@numba.njit(cache=True)
def sparse_ll_dirichlet(ind1, data1, ind2, data2):
    """Dirichlet-multinomial log-likelihood distance of two count rows."""
    return _ll_dirichlet(ind1, data1, ind2, data2)


@numba.njit(cache=True)
def sparse_hamming(ind1, data1, ind2, data2, n_features):
    """Fraction of the ``n_features`` columns where two sparse rows differ."""
    return _binary(HAMMING, ind1, data1, ind2, data2, n_features)


@numba.njit(cache=True)
def sparse_jaccard(ind1, data1, ind2, data2):
    """Jaccard dissimilarity of the non-zero patterns of two sparse rows."""
    return _binary(JACCARD, ind1, data1, ind2, data2, 1)


@numba.njit(cache=True)
def sparse_dice(ind1, data1, ind2, data2):
    """Dice dissimilarity of the non-zero patterns of two sparse rows."""
    return _binary(DICE, ind1, data1, ind2, data2, 1)


@numba.njit(cache=True)
def sparse_matching(ind1, data1, ind2, data2, n_features):
    """Matching dissimilarity of the non-zero patterns of two sparse rows."""
    return _binary(MATCHING, ind1, data1, ind2, data2, n_features)


@numba.njit(cache=True)
def sparse_kulsinski(ind1, data1, ind2, data2, n_features):
    """Kulsinski dissimilarity of the non-zero patterns of two sparse rows."""
    return _binary(KULSINSKI, ind1, data1, ind2, data2, n_features)


@numba.njit(cache=True)
def sparse_rogers_tanimoto(ind1, data1, ind2, data2, n_features):
    """Rogers-Tanimoto dissimilarity of the non-zero patterns of two sparse rows."""
    return _binary(ROGERSTANIMOTO, ind1, data1, ind2, data2, n_features)


@numba.njit(cache=True)
def sparse_russellrao(ind1, data1, ind2, data2, n_features):
    """Russell-Rao dissimilarity of the non-zero patterns of two sparse rows."""
    return _binary(RUSSELLRAO, ind1, data1, ind2, data2, n_features)


@numba.njit(cache=True)
def sparse_sokal_michener(ind1, data1, ind2, data2, n_features):
    """Sokal-Michener dissimilarity of the non-zero patterns of two sparse rows."""
    return _binary(SOKALMICHENER, ind1, data1, ind2, data2, n_features)


@numba.njit(cache=True)
def sparse_sokal_sneath(ind1, data1, ind2, data2):
    """Sokal-Sneath dissimilarity of the non-zero patterns of two sparse rows."""
    return _binary(SOKALSNEATH, ind1, data1, ind2, data2, 1)


#: Sparse metric functions by name (with umap-learn's aliases).
sparse_named_distances = {
    "euclidean": sparse_euclidean,
    "l2": sparse_euclidean,
    "manhattan": sparse_manhattan,
    "l1": sparse_manhattan,
    "taxicab": sparse_manhattan,
    "chebyshev": sparse_chebyshev,
    "linf": sparse_chebyshev,
    "linfty": sparse_chebyshev,
    "linfinity": sparse_chebyshev,
    "minkowski": sparse_minkowski,
    "canberra": sparse_canberra,
    "braycurtis": sparse_bray_curtis,
    "cosine": sparse_cosine,
    "correlation": sparse_correlation,
    "hellinger": sparse_hellinger,
    "ll_dirichlet": sparse_ll_dirichlet,
    "hamming": sparse_hamming,
    "jaccard": sparse_jaccard,
    "dice": sparse_dice,
    "matching": sparse_matching,
    "kulsinski": sparse_kulsinski,
    "rogerstanimoto": sparse_rogers_tanimoto,
    "russellrao": sparse_russellrao,
    "sokalmichener": sparse_sokal_michener,
    "sokalsneath": sparse_sokal_sneath,
}

#: Names of the functions above that take ``n_features`` as a fifth argument.
sparse_need_n_features = ("hamming", "matching", "kulsinski", "rogerstanimoto", "russellrao",
                          "sokalmichener", "correlation")


def sparse_metric_names():
    """Canonical names of the metrics that take sparse input."""
    return _metrics.metric_names(lambda spec: spec.sparse)


__all__ = [
    "SparseRows", "canonical_csr", "prepare_rows", "search_args", "sparse_distance",
    "pairwise_distances", "sparse_metric_names", "sparse_named_distances",
    "sparse_need_n_features", "sparse_euclidean", "sparse_manhattan", "sparse_chebyshev",
    "sparse_minkowski", "sparse_canberra", "sparse_bray_curtis", "sparse_cosine",
    "sparse_correlation", "sparse_hellinger", "sparse_ll_dirichlet", "sparse_hamming",
    "sparse_jaccard", "sparse_dice", "sparse_matching", "sparse_kulsinski",
    "sparse_rogers_tanimoto", "sparse_russellrao", "sparse_sokal_michener", "sparse_sokal_sneath",
]
