"""Inverse transform of a model fitted on sparse data: generated samples are sparse rows.

The method is the one of :mod:`umapx.inverse` (the training samples embedded nearest to a point,
weighted by the model's similarity curve, blended by their weighted centre under the input
metric). For sparse training data the centre of each point is computed on the union of the
non-zero columns of the samples it blends (those with a positive weight): every other column is
zero in all of them, and the centre is zero there too, for each kind of centre -- the weighted
mean and median, the mean direction (cosine) and the gradient descent (chebyshev, minkowski,
canberra, braycurtis), whose gradient vanishes on such columns. So the result is the dense
method's result, as a sparse row, without ever forming a dense row of the input width.

Correlation is refused: its centre adds the mean offset to every column, which gives dense
rows.

Each point gathers its samples into a small dense block (samples x union columns) inside the
parallel loop and runs the same per-sample centre bodies as dense data; memory is bounded by
the threads' blocks and the output. A point's row depends only on that point and the model.
"""

from __future__ import annotations

import numba
import numpy as np

from ._jit import kernel
from .inverse import (
    _DESCENT_STEPS,
    InverseModel,
    descent_of,
    direction_of,
    mean_of,
    median_of,
)
from .sparse import as_rows

_MEAN, _MEDIAN, _DIRECTION, _DESCENT = 0, 1, 2, 3
_KINDS = {"mean": _MEAN, "median": _MEDIAN, "direction": _DIRECTION, "descent": _DESCENT}


@kernel(inline="always")
def _union(rows, blended, weights):
    """Sorted union of the columns of the rows ``blended`` with a positive weight."""
    total = 0
    for j in range(blended.shape[0]):
        if weights[j] > 0:
            total += rows.indptr[blended[j] + 1] - rows.indptr[blended[j]]
    gathered = np.empty(total, np.int32)
    at = 0
    for j in range(blended.shape[0]):
        if weights[j] > 0:
            for e in range(rows.indptr[blended[j]], rows.indptr[blended[j] + 1]):
                gathered[at] = rows.indices[e]
                at += 1
    gathered.sort()
    size = 0
    for e in range(total):
        if size == 0 or gathered[e] != gathered[size - 1]:
            gathered[size] = gathered[e]
            size += 1
    return gathered[:size]


@kernel(parallel=True)
def _union_sizes(rows, idx, weights):
    sizes = np.empty(idx.shape[0], np.int64)
    for q in numba.prange(idx.shape[0]):
        sizes[q] = _union(rows, idx[q], weights[q]).shape[0]
    return sizes


@kernel(parallel=True)
def _sparse_centres(kind, metric, rows, idx, weights, low, high, n_steps, indptr, indices,
                    values):
    """Write the centre of every query's blended rows, on their union of columns, into the
    CSR arrays ``indptr`` (computed from :func:`_union_sizes`), ``indices``, ``values``."""
    k = idx.shape[1]
    local_rows = np.arange(k)
    for q in numba.prange(idx.shape[0]):
        columns = _union(rows, idx[q], weights[q])
        size = columns.shape[0]
        local = np.zeros((k, size), np.float32)
        for j in range(k):
            at = 0
            for e in range(rows.indptr[idx[q, j]], rows.indptr[idx[q, j] + 1]):
                column = rows.indices[e]
                while at < size and columns[at] < column:
                    at += 1
                if at < size and columns[at] == column:
                    local[j, at] = rows.data[e]
        local_low = np.empty(size, np.float64)
        local_high = np.empty(size, np.float64)
        for c in range(size):
            local_low[c] = low[columns[c]]
            local_high[c] = high[columns[c]]
        out = np.zeros(size, np.float64)
        if kind == _MEAN:
            mean_of(local, local_rows, weights[q], out)
        elif kind == _MEDIAN:
            median_of(local, local_rows, weights[q], out)
        elif kind == _DIRECTION:
            direction_of(local, local_rows, weights[q], False, out)
        else:
            start = np.zeros(size, np.float64)
            mean_of(local, local_rows, weights[q], start)
            out[:] = start
            descent_of(metric, local, local_rows, weights[q], start, local_low, local_high,
                       n_steps, out)
        first = indptr[q]
        for c in range(size):
            indices[first + c] = columns[c]
            values[first + c] = np.float32(min(max(out[c], local_low[c]), local_high[c]))


def sparse_centres(metric, rows, idx, weights, data_range):
    """Weighted centres of ``rows[idx[q]]`` with ``weights[q]`` as CSR arrays
    ``(indptr, indices, values)`` (explicit zeros possible)."""
    kind = _KINDS[metric.centre]
    sizes = _union_sizes(rows, idx, weights)
    indptr = np.zeros(idx.shape[0] + 1, np.int64)
    np.cumsum(sizes, out=indptr[1:])
    indices = np.empty(indptr[-1], np.int32)
    values = np.empty(indptr[-1], np.float32)
    low, high = data_range
    _sparse_centres(kind, metric.distance_args, rows, idx, weights, low, high, _DESCENT_STEPS,
                    indptr, indices, values)
    return indptr, indices, values


class SparseInverseModel(InverseModel):
    """:class:`~umapx.inverse.InverseModel` of a model fitted on sparse data (canonical CSR):
    :meth:`generate` returns sparse rows in the training data's container family."""

    def __init__(self, data, embedding, metric, a, b, n_neighbors, output_metric=None):
        super().__init__(data, embedding, metric, a, b, n_neighbors, output_metric)
        if metric.centre not in _KINDS:
            supported = ", ".join(sorted(_KINDS))
            raise ValueError(
                f"inverse_transform of a model fitted on sparse data is not available for "
                f"metric={metric.name!r}: its weighted centre gives dense rows (sparse models "
                f"support metrics whose centre is a {supported})"
            )
        self.rows = as_rows(data)

    def generate(self, points, n_neighbors):
        """Generated samples (a CSR matrix or array) and out-of-support scores for points."""
        parts = []
        out_of_support = np.empty(points.shape[0], np.float64)
        for start, idx, weights, support in self.neighbourhoods(points, n_neighbors):
            parts.append(sparse_centres(self.metric, self.rows, idx, weights, self.data_range))
            out_of_support[start : start + len(idx)] = support
        offsets = np.cumsum([0] + [part[0][-1] for part in parts[:-1]])
        indptr = np.concatenate([np.zeros(1, np.int64)]
                                + [part[0][1:] + offset for part, offset in zip(parts, offsets)])
        indices = np.concatenate([part[1] for part in parts] or [np.empty(0, np.int32)])
        values = np.concatenate([part[2] for part in parts] or [np.empty(0, np.float32)])
        samples = type(self.data)((values, indices, indptr),
                                  shape=(points.shape[0], self.data.shape[1]))
        samples.eliminate_zeros()
        return samples, out_of_support
