"""Row access shared by the neighbour-search kernels: one kernel source for dense and sparse rows.

The search kernels never index the data themselves. They ask for

* :func:`row_distance` -- the distance between row ``i`` of one set of rows and row ``j`` of
  another;
* :func:`row_count` -- how many rows there are;
* :func:`focus`, :func:`focused_distance`, :func:`unfocus` -- distances from one row to many:
  a sparse row is scattered once into a dense scratch row (:func:`new_scratch`), and its dot
  products and squared euclidean distances to other rows are then gathered through their
  entries instead of walking two index lists together (about 3x faster on TF-IDF rows);
* :func:`split_offset` and :func:`split_margin` -- the side of a row relative to the
  hyperplane that bisects two pivot rows (random-projection trees); with
  :func:`focus_plane` / :func:`unfocus_plane` the sparse difference of the pivots is
  scattered once per tree node.

Rows are either the rows of a 2-d float32 array or a :class:`~umapx.sparse.SparseRows` record;
numba picks the implementation from the argument types when it compiles a kernel, so every
kernel has a dense and a sparse compiled version (each cached) and one source. The dense
implementations are the arithmetic the kernels always did. The implementations that hold
loops or call inlined kernels are compiled as functions of their own (numba's IR inlining of
nested inlined code emits internal warnings; LLVM still inlines where it pays).

A user metric (dense rows only) reaches the kernels through :func:`specialize`, which
recompiles a kernel with :func:`row_distance` replaced by a call to the user's function.
"""

from __future__ import annotations

import numpy as np
from numba.core import types
from numba.extending import overload

from .._jit import kernel, respecialize
from ..metrics import DOT_DISTANCE, SQEUCLIDEAN, distance, search_distance_kernel
from ..sparse import SparseRows, dot_product, is_sparse_rows, row_entries, sparse_distance
from ..sparse import search_args as _sparse_search_args


def _is_sparse_type(numba_type):
    return (isinstance(numba_type, types.BaseNamedTuple)
            and numba_type.instance_class is SparseRows)


def row_count(rows):
    """Number of rows of dense or sparse rows (in kernels and in Python)."""
    if is_sparse_rows(rows):
        return rows.indptr.shape[0] - 1
    return rows.shape[0]


@overload(row_count, inline="always")
def _row_count(rows):
    if _is_sparse_type(rows):
        return lambda rows: rows.indptr.shape[0] - 1
    if isinstance(rows, types.Array):
        return lambda rows: rows.shape[0]
    return None


def row_distance(metric, a, i, b, j):
    """Distance (float32) between row ``i`` of ``a`` and row ``j`` of ``b`` under ``metric``
    (a :class:`~umapx.metrics.DistanceArgs`); ``a`` and ``b`` are both dense or both sparse.
    Called from kernels only."""
    raise NotImplementedError("row_distance is called from numba kernels")


@overload(row_distance)
def _row_distance(metric, a, i, b, j):
    if _is_sparse_type(a) and _is_sparse_type(b):
        def sparse_rows(metric, a, i, b, j):
            ind1, val1 = row_entries(a, i)
            ind2, val2 = row_entries(b, j)
            return sparse_distance(metric, ind1, val1, ind2, val2, a.n_features)
        return sparse_rows
    if isinstance(a, types.Array) and isinstance(b, types.Array):
        one_metric = search_distance_kernel(metric)
        if one_metric is not None:  # the record's type names the metric: no switch compiled
            def dense_rows_one_metric(metric, a, i, b, j):
                return one_metric(a[i], b[j])
            return dense_rows_one_metric

        def dense_rows(metric, a, i, b, j):
            return distance(metric, a[i], b[j])
        return dense_rows
    return None


@kernel(inline="always")
def _dense_row_distance(metric, a, i, b, j):
    return distance(metric, a[i], b[j])


#: Sparse rows wider than this get no scratch row (focused distances then walk index lists).
SCRATCH_MAX_FEATURES = 1 << 22


def new_scratch(rows):
    """A scratch row for :func:`focus` on ``rows`` (zeros; empty for dense rows, or sparse
    rows wider than :data:`SCRATCH_MAX_FEATURES`). Called from kernels only."""
    raise NotImplementedError("new_scratch is called from numba kernels")


@overload(new_scratch, inline="always")
def _new_scratch(rows):
    if _is_sparse_type(rows):
        def sparse_rows(rows):
            size = rows.n_features if rows.n_features <= SCRATCH_MAX_FEATURES else 0
            return np.zeros(size, np.float32)
        return sparse_rows
    if isinstance(rows, types.Array):
        return lambda rows: np.zeros(0, np.float32)
    return None


@kernel
def _scatter(rows, i, scratch, sign):
    """Add ``sign`` times sparse row ``i`` into ``scratch`` (unless it is empty); return the
    row's squared norm."""
    squares = 0.0
    if scratch.shape[0] > 0:
        for e in range(rows.indptr[i], rows.indptr[i + 1]):
            value = rows.data[e]
            scratch[rows.indices[e]] += sign * value
            squares += np.float64(value) * value
    return squares


@kernel
def _clear(rows, i, scratch):
    """Zero the columns of sparse row ``i`` in ``scratch`` (unless it is empty)."""
    if scratch.shape[0] > 0:
        for e in range(rows.indptr[i], rows.indptr[i + 1]):
            scratch[rows.indices[e]] = 0.0


def focus(rows, i, scratch):
    """Prepare distances from row ``i`` of ``rows``: scatter a sparse row into ``scratch``
    (zeros on entry) and return its squared norm (float64; 0 for dense rows, which need
    nothing). Called from kernels only."""
    raise NotImplementedError("focus is called from numba kernels")


@overload(focus, inline="always")
def _focus(rows, i, scratch):
    if _is_sparse_type(rows):
        def sparse_rows(rows, i, scratch):
            return _scatter(rows, i, scratch, np.float32(1.0))
        return sparse_rows
    if isinstance(rows, types.Array):
        return lambda rows, i, scratch: 0.0
    return None


def unfocus(rows, i, scratch):
    """Undo :func:`focus` (``scratch`` is zeros again). Called from kernels only."""
    raise NotImplementedError("unfocus is called from numba kernels")


@overload(unfocus, inline="always")
def _unfocus(rows, i, scratch):
    if _is_sparse_type(rows):
        def sparse_rows(rows, i, scratch):
            _clear(rows, i, scratch)
        return sparse_rows
    if isinstance(rows, types.Array):
        def dense_rows(rows, i, scratch):
            pass
        return dense_rows
    return None


def focused_distance(metric, rows, i, squares, scratch, other, j):
    """:func:`row_distance` of row ``i`` of ``rows`` (focused, with ``squares`` returned by
    :func:`focus`) and row ``j`` of ``other``. Called from kernels only."""
    raise NotImplementedError("focused_distance is called from numba kernels")


@kernel
def _sparse_focused_distance(metric, rows, i, squares, scratch, other, j):
    code = metric.code
    if scratch.shape[0] == 0 or (code != DOT_DISTANCE and code != SQEUCLIDEAN):
        ind1, val1 = row_entries(rows, i)
        ind2, val2 = row_entries(other, j)
        return sparse_distance(metric, ind1, val1, ind2, val2, rows.n_features)
    dot = 0.0
    other_squares = 0.0
    for e in range(other.indptr[j], other.indptr[j + 1]):
        value = other.data[e]
        dot += np.float64(scratch[other.indices[e]]) * value
        other_squares += np.float64(value) * value
    if code == DOT_DISTANCE:
        return np.float32(max(1.0 - dot, 0.0))
    return np.float32(max(squares + other_squares - 2.0 * dot, 0.0))


@overload(focused_distance)
def _focused_distance(metric, rows, i, squares, scratch, other, j):
    if _is_sparse_type(rows) and _is_sparse_type(other):
        def sparse_rows(metric, rows, i, squares, scratch, other, j):
            return _sparse_focused_distance(metric, rows, i, squares, scratch, other, j)
        return sparse_rows
    if isinstance(rows, types.Array) and isinstance(other, types.Array):
        one_metric = search_distance_kernel(metric)
        if one_metric is not None:  # as in row_distance
            def dense_rows_one_metric(metric, rows, i, squares, scratch, other, j):
                return one_metric(rows[i], other[j])
            return dense_rows_one_metric

        def dense_rows(metric, rows, i, squares, scratch, other, j):
            return distance(metric, rows[i], other[j])
        return dense_rows
    return None


@kernel(inline="always")
def _dense_focused_distance(metric, rows, i, squares, scratch, other, j):
    return distance(metric, rows[i], other[j])


def split_offset(data, p, q):
    """``(|x_p|^2 - |x_q|^2) / 2``: the offset of the hyperplane that bisects rows ``p`` and
    ``q`` of ``data`` (float32). Called from kernels only."""
    raise NotImplementedError("split_offset is called from numba kernels")


@overload(split_offset)
def _split_offset(data, p, q):
    if _is_sparse_type(data):
        def sparse_rows(data, p, q):
            total = 0.0
            for e in range(data.indptr[p], data.indptr[p + 1]):
                total += np.float64(data.data[e]) * data.data[e]
            for e in range(data.indptr[q], data.indptr[q + 1]):
                total -= np.float64(data.data[e]) * data.data[e]
            return np.float32(total * 0.5)
        return sparse_rows
    if isinstance(data, types.Array):
        def dense_rows(data, p, q):
            half_sq = np.float32(0.0)
            for f in range(data.shape[1]):
                half_sq += data[p, f] * data[p, f] - data[q, f] * data[q, f]
            return half_sq * np.float32(0.5)
        return dense_rows
    return None


def focus_plane(data, p, q, plane):
    """Scatter ``x_p - x_q`` of sparse rows into the scratch row ``plane`` (zeros on entry), for
    :func:`split_margin`; nothing for dense rows or an empty ``plane``. Kernels only."""
    raise NotImplementedError("focus_plane is called from numba kernels")


@overload(focus_plane, inline="always")
def _focus_plane(data, p, q, plane):
    if _is_sparse_type(data):
        def sparse_rows(data, p, q, plane):
            _scatter(data, p, plane, np.float32(1.0))
            _scatter(data, q, plane, np.float32(-1.0))
        return sparse_rows
    if isinstance(data, types.Array):
        def dense_rows(data, p, q, plane):
            pass
        return dense_rows
    return None


def unfocus_plane(data, p, q, plane):
    """Undo :func:`focus_plane`. Kernels only."""
    raise NotImplementedError("unfocus_plane is called from numba kernels")


@overload(unfocus_plane, inline="always")
def _unfocus_plane(data, p, q, plane):
    if _is_sparse_type(data):
        def sparse_rows(data, p, q, plane):
            _clear(data, p, plane)
            _clear(data, q, plane)
        return sparse_rows
    if isinstance(data, types.Array):
        def dense_rows(data, p, q, plane):
            pass
        return dense_rows
    return None


def split_margin(rows, i, data, p, q, offset, plane):
    """Signed side (float32) of row ``i`` of ``rows`` relative to the hyperplane that bisects
    rows ``p`` and ``q`` of ``data``: ``<x_i, x_p - x_q> - offset``. ``plane`` is a scratch
    row holding ``x_p - x_q`` (:func:`focus_plane`) or an empty array. Kernels only."""
    raise NotImplementedError("split_margin is called from numba kernels")


@kernel
def _sparse_split_margin(rows, i, data, p, q, offset, plane):
    ind, val = row_entries(rows, i)
    if plane.shape[0] > 0:
        total = 0.0
        for e in range(ind.shape[0]):
            total += np.float64(val[e]) * plane[ind[e]]
        return np.float32(total - offset)
    ind_p, val_p = row_entries(data, p)
    ind_q, val_q = row_entries(data, q)
    return np.float32(dot_product(ind, val, ind_p, val_p) - dot_product(ind, val, ind_q, val_q)
                      - offset)


@overload(split_margin)
def _split_margin(rows, i, data, p, q, offset, plane):
    if _is_sparse_type(rows) and _is_sparse_type(data):
        def sparse_rows(rows, i, data, p, q, offset, plane):
            return _sparse_split_margin(rows, i, data, p, q, offset, plane)
        return sparse_rows
    if isinstance(rows, types.Array) and isinstance(data, types.Array):
        def dense_rows(rows, i, data, p, q, offset, plane):
            total = np.float32(0.0)
            x = rows[i]
            a = data[p]
            b = data[q]
            for f in range(x.shape[0]):
                total += x[f] * (a[f] - b[f])
            return total - offset
        return dense_rows
    return None


# ----------------------------------------------------------------------------------------------
# Python-level helpers
# ----------------------------------------------------------------------------------------------


def search_args(metric, data):
    """The :class:`~umapx.metrics.DistanceArgs` that neighbour search computes on ``data``."""
    if is_sparse_rows(data):
        return _sparse_search_args(metric)
    return metric.search_args


def take_rows(rows, order):
    """Copy of the dense or sparse rows ``order`` (an int array), in that order."""
    if is_sparse_rows(rows):
        lengths = np.diff(rows.indptr)[order]
        indptr = np.zeros(order.shape[0] + 1, np.int64)
        np.cumsum(lengths, out=indptr[1:])
        # Entry positions of the taken rows, row after row.
        starts = np.repeat(rows.indptr[order] - indptr[:-1], lengths)
        entries = np.arange(indptr[-1], dtype=np.int64) + starts
        return SparseRows(indptr, rows.indices[entries], rows.data[entries], rows.n_features)
    return np.ascontiguousarray(rows[order])


def row_block(rows, start, stop):
    """Rows ``start:stop`` of dense or sparse rows, without copying."""
    if is_sparse_rows(rows):
        return rows.block(start, stop)
    return rows[start:stop]


_SPECIALIZED = {}


def specialize(metric, dispatcher, helpers=()):
    """The search kernel ``dispatcher`` as it must run for ``metric``.

    Built-in metrics use the cached kernel; a user metric gets a copy compiled with
    :func:`row_distance` and :func:`focused_distance` calling the user's function on dense
    rows (compiled once per process). ``helpers`` names the kernels that ``dispatcher``
    calls which measure distances themselves: they are specialised too, and the copy calls
    theirs.
    """
    if metric.user_function is None:
        return dispatcher
    key = (dispatcher, metric.user_function, metric.user_key)
    if key not in _SPECIALIZED:
        replacements = {name: specialize(metric, dispatcher.py_func.__globals__[name])
                        for name in helpers}
        _SPECIALIZED[key] = respecialize(
            dispatcher, row_distance=metric.specialize(_dense_row_distance),
            focused_distance=metric.specialize(_dense_focused_distance), **replacements)
    return _SPECIALIZED[key]
