"""Supervised UMAP: combining the data's fuzzy graph with what the targets ``y`` say.

umap-learn's ``target_metric`` values, and what each does to the graph ``G`` of the data:

* ``"categorical"`` (class labels, ``-1`` unlabelled): edges between different labels are
  weakened by ``exp(-far)``, edges of unlabelled points by ``exp(-1)``
  (:func:`umapx.graph.categorical_intersection`).
* ``"ordinal"``, ``"count"``, ``"string"`` (discrete targets): every edge ``(i, j)`` of ``G`` is
  weakened by ``exp(-far * t(y_i, y_j))``, with a target distance ``t`` in about [0, 2] whose
  scale comes from ``y`` itself (:func:`discrete_distances`).
* any metric of the table (``"l1"``, ``"l2"``, ``"cosine"``...) or a numba function: ``y``
  (one value or one row per sample) gets a fuzzy graph of its own, from its
  ``target_n_neighbors`` nearest targets under that metric, and the two graphs are intersected
  with ``target_weight`` (:func:`weighted_intersection`).

``far`` is ``2.5 / (1 - target_weight)`` (``1e12`` at ``target_weight=1``). After the change
every point's strongest edge is reset to 1 and the graph symmetrised again
(:func:`umapx.graph.reset_local_connectivity`). Transforming new points does not use targets:
a supervised model transforms (and inverts) like any other.
"""

from __future__ import annotations

import math
import warnings

import numba
import numpy as np
import scipy.sparse

from ._jit import kernel
from .graph import categorical_intersection, fuzzy_simplicial_set, reset_local_connectivity
from .knn import NeighborIndex

#: Targets compared by a distance of their own, not by a metric of the table.
DISCRETE_TARGETS = ("ordinal", "count", "string")
#: Largest count a ``"count"`` target may hold (the distance table has one entry per count).
LARGEST_COUNT = 10_000_000


def far_distance(target_weight):
    """How far apart different targets are taken to be, from ``target_weight`` in [0, 1]."""
    if target_weight >= 1.0:
        return 1e12
    return 2.5 / (1.0 - target_weight)


def supervised_graph(graph, target, *, target_metric, target_metric_kwds, target_weight,
                     target_n_neighbors, seed=0):
    """The fuzzy graph of the data combined with the targets (see the module docstring).

    Parameters
    ----------
    graph : scipy.sparse.csr_matrix (n, n)
        The data's symmetric fuzzy graph.
    target : ndarray
        The checked targets (:func:`umapx._validation.check_target`): int codes for
        ``"categorical"``, float64 values for ``"ordinal"`` / ``"count"``, str for
        ``"string"``, a float32 array (n, d) for a metric.
    target_metric : str or Metric
        A name of :data:`DISCRETE_TARGETS`, ``"categorical"``, or the resolved metric.
    target_metric_kwds : dict or None
    target_weight : float in [0, 1]
    target_n_neighbors : int
        Neighbours of the target graph (metrics only), the point itself included.
    seed : int
        Seed of the target's neighbour search (above the exact-search size).

    Returns
    -------
    scipy.sparse.csr_matrix (n, n), float32
    """
    far = far_distance(target_weight)
    if isinstance(target_metric, str) and target_metric == "categorical":
        return categorical_intersection(graph, target, far)
    if isinstance(target_metric, str):
        if target_metric_kwds:
            warnings.warn(f"target_metric_kwds is ignored with target_metric="
                          f"{target_metric!r}: its scale comes from y, as in umap-learn",
                          UserWarning, stacklevel=3)
        coo = graph.tocoo()
        distances = discrete_distances(target, coo.row, coo.col, target_metric)
        weights = coo.data.astype(np.float64) * np.exp(-far * distances)
        weakened = scipy.sparse.csr_matrix((weights, (coo.row, coo.col)), shape=graph.shape)
        weakened.eliminate_zeros()
        return reset_local_connectivity(weakened)
    n = target.shape[0]
    k = min(target_n_neighbors, n - 1) if n > 2 else n
    _, indices, distances = NeighborIndex.build(target, k, target_metric, seed=seed)
    target_graph, _, _ = fuzzy_simplicial_set(indices, distances, k, 1.0, 1.0)
    return reset_local_connectivity(weighted_intersection(graph, target_graph, target_weight))


# -- discrete targets ---------------------------------------------------------------------------


def discrete_distances(target, rows, cols, kind):
    """The target distance of every edge ``(rows[e], cols[e])`` for a discrete target.

    * ``"ordinal"``: ``|y_i - y_j|`` over half the range of ``y``;
    * ``"count"``: the surprisal ``-log P(m)`` of a Poisson law with the mean of ``y``, summed
      over the counts ``m`` from ``min(y_i, y_j)`` to ``max(y_i, y_j) - 1``, over half that sum
      across the range of ``y`` (so rare counts are far apart);
    * ``"string"``: the edit (Levenshtein) distance, capped at a third of the longest string's
      length and divided by that cap (values in [0, 1]).
    """
    rows = np.ascontiguousarray(rows, dtype=np.int64)
    cols = np.ascontiguousarray(cols, dtype=np.int64)
    if kind == "ordinal":
        half_range = (float(target.max()) - float(target.min())) / 2.0 if target.size else 0.0
        values = np.asarray(target, dtype=np.float64)
        return np.abs(values[rows] - values[cols]) / (half_range if half_range > 0 else 1.0)
    if kind == "count":
        surprisal = _count_surprisal_table(target)
        low = np.minimum(target[rows], target[cols]).astype(np.int64)
        high = np.maximum(target[rows], target[cols]).astype(np.int64)
        scale = (surprisal[int(target.max())] - surprisal[int(target.min())]) / 2.0
        return (surprisal[high] - surprisal[low]) / (scale if scale > 0 else 1.0)
    if kind == "string":
        codes, starts = _code_points(target)
        longest = int(np.max(np.diff(starts))) if target.size else 0
        cap = max(longest / 3.0, 1.0)
        return _edit_distances(codes, starts, rows, cols, cap) / cap
    raise ValueError(f"unknown discrete target {kind!r}; expected one of {DISCRETE_TARGETS}")


def _count_surprisal_table(counts):
    """``table[m]``: the summed surprisal of the counts ``0 .. m - 1`` under a Poisson law with
    the mean of ``counts`` (float64, ``max(counts) + 1`` entries)."""
    rate = float(np.mean(counts))
    top = int(np.max(counts))
    table = np.zeros(top + 1, np.float64)
    if rate <= 0:
        return table  # every count is 0: all targets equal
    log_rate = math.log(rate)
    m = np.arange(top, dtype=np.float64)
    lgamma = np.frompyfunc(math.lgamma, 1, 1)
    surprisal = rate - m * log_rate + lgamma(m + 1.0).astype(np.float64)
    table[1:] = np.cumsum(surprisal)
    return table


def _code_points(strings):
    """The strings as one int32 array of code points and the start of each (n + 1 entries)."""
    lengths = np.fromiter((len(s) for s in strings), dtype=np.int64, count=len(strings))
    starts = np.zeros(len(strings) + 1, np.int64)
    np.cumsum(lengths, out=starts[1:])
    joined = "".join(strings)
    codes = np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32).astype(np.int32) \
        if joined else np.zeros(0, np.int32)
    return codes, starts


@kernel(parallel=True)
def _edit_distances(codes, starts, rows, cols, cap):
    """Levenshtein distance of the strings of every edge, capped at ``cap`` (float64)."""
    result = np.empty(rows.shape[0], np.float64)
    for e in numba.prange(rows.shape[0]):
        a = codes[starts[rows[e]]:starts[rows[e] + 1]]
        b = codes[starts[cols[e]]:starts[cols[e] + 1]]
        result[e] = min(_levenshtein(a, b, cap), cap)
    return result


@kernel
def _levenshtein(a, b, cap):
    """Edit distance of two code-point arrays; stops early once it must exceed ``cap``."""
    if abs(a.shape[0] - b.shape[0]) > cap:
        return cap + 1.0
    previous = np.arange(b.shape[0] + 1).astype(np.float64)
    current = np.empty(b.shape[0] + 1, np.float64)
    for i in range(a.shape[0]):
        current[0] = i + 1
        best = current[0]
        for j in range(b.shape[0]):
            substitution = previous[j] + (0.0 if a[i] == b[j] else 1.0)
            current[j + 1] = min(previous[j + 1] + 1.0, current[j] + 1.0, substitution)
            best = min(best, current[j + 1])
        if best > cap:
            return cap + 1.0
        previous, current = current, previous
    return previous[b.shape[0]]


# -- metric targets -----------------------------------------------------------------------------


def weighted_intersection(left, right, weight):
    """Fuzzy intersection of two graphs on the same vertices, leaning to ``right`` by ``weight``.

    On every edge of either graph, with ``l`` and ``r`` its weights (an edge missing from a
    graph takes a floor: half that graph's smallest weight, at least 1e-8, and for ``right`` at
    most 1e-4): ``l * r ** (w / (1 - w))`` for ``w < 1/2``, ``l ** ((1 - w) / w) * r`` from 1/2
    on. ``w = 1/2`` is the product; 0 keeps ``left``'s weights, 1 takes ``right``'s.

    Returns
    -------
    scipy.sparse.csr_matrix, float64 (not symmetrised again)
    """
    left = _sorted_csr(left)
    right = _sorted_csr(right)
    left_floor = max(float(left.data.min()) / 2.0, 1e-8) if left.nnz else 1e-8
    right_floor = min(max(float(right.data.min()) / 2.0, 1e-8), 1e-4) if right.nnz else 1e-8
    union = _sorted_csr(left + right)
    data = _intersect_rows(left.indptr, left.indices, left.data, right.indptr, right.indices,
                           right.data, union.indptr, union.indices, left_floor, right_floor,
                           float(weight))
    result = scipy.sparse.csr_matrix((data, union.indices, union.indptr), shape=union.shape)
    result.eliminate_zeros()
    return result


def _sorted_csr(matrix):
    matrix = scipy.sparse.csr_matrix(matrix, dtype=np.float64)
    matrix.sum_duplicates()
    matrix.sort_indices()
    return matrix


@kernel(parallel=True)
def _intersect_rows(left_indptr, left_indices, left_data, right_indptr, right_indices,
                    right_data, indptr, indices, left_floor, right_floor, weight):
    """The weights of :func:`weighted_intersection` on the union's sorted CSR pattern."""
    data = np.zeros(indices.shape[0], np.float64)
    for i in numba.prange(indptr.shape[0] - 1):
        a = left_indptr[i]
        b = right_indptr[i]
        for e in range(indptr[i], indptr[i + 1]):
            j = indices[e]
            while a < left_indptr[i + 1] and left_indices[a] < j:
                a += 1
            while b < right_indptr[i + 1] and right_indices[b] < j:
                b += 1
            left_value = left_floor
            if a < left_indptr[i + 1] and left_indices[a] == j:
                left_value = left_data[a]
            right_value = right_floor
            if b < right_indptr[i + 1] and right_indices[b] == j:
                right_value = right_data[b]
            if left_value <= left_floor and right_value <= right_floor:
                continue
            if weight < 0.5:
                data[e] = left_value * right_value ** (weight / (1.0 - weight))
            else:
                data[e] = left_value ** ((1.0 - weight) / weight) * right_value
    return data


__all__ = ["supervised_graph", "weighted_intersection", "discrete_distances", "far_distance",
           "DISCRETE_TARGETS", "LARGEST_COUNT"]
